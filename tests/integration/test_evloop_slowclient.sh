#!/bin/sh
# A non-blocking handshake never spins (issue 4, item 3): evprog_slowclient,
# a plain non-blocking client (waiting with epoll, then poll, then select)
# under a connect rule (LD_PRELOAD and TLSSHIM_CONFIG_STRING), against a
# Python TLS server that waits 2 s before its handshake, must wake up only
# a few times (its waits, counted by the program: <= 10) and use a small
# part of the 2 s in CPU (getrusage, from connect to the answer: < 250 ms;
# a spinning client uses nearly all of it). The CPU figure includes
# opening OpenSSL, which the first wrapped connect does (10-60 ms here,
# the most under a sanitizer).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_slowclient

P=$(free_port)
start_bg 60 "$EVPY" "$EV" echo-server --port "$P" --handshake-delay 2 > "$T/slow.log" 2>&1
wait_port "$P"
for mode in epoll poll select; do
	timeout 30 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_connect_cfg "$P")" \
		"$PROGS/evprog_slowclient" 127.0.0.1 "$P" "$mode" > "$T/slowclient.out" 2>&1
	rc=$?
	cat "$T/slowclient.out"
	[ $rc -eq 0 ] || { cat "$T/slow.log" >&2; fail "evprog_slowclient ($mode) exited $rc"; }
	wall=$(sed -n 's/.*wall_ms=\([0-9]*\).*/\1/p' "$T/slowclient.out")
	cpu=$(sed -n 's/.*cpu_ms=\([0-9]*\).*/\1/p' "$T/slowclient.out")
	[ -n "$wall" ] && [ -n "$cpu" ] || fail "no numbers from evprog_slowclient ($mode)"
	# The server really made it wait (else the CPU figure proves nothing).
	[ "$wall" -ge 1900 ] || fail "$mode: the client finished in $wall ms: the 2 s handshake delay did not happen"
	waits=$(sed -n 's/.* waits=\([0-9]*\).*/\1/p' "$T/slowclient.out")
	[ -n "$waits" ] || fail "no wait count from evprog_slowclient ($mode)"
	[ "$waits" -le 10 ] || fail "$mode: the client woke $waits times waiting $wall ms for a slow handshake (limit 10): it spins"
	[ "$cpu" -lt 250 ] || fail "$mode: the client used $cpu ms of CPU waiting $wall ms for a slow handshake (limit 250 ms): it spins"
	echo "slow handshake, $mode: $wall ms wall, $cpu ms CPU, $waits waits"
done
exit 0
