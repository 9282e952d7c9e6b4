#!/bin/sh
# Non-blocking servers and handshake deadlines (issue 4, item 3), with plain
# C programs (tests/progs/evprog_*) under LD_PRELOAD and
# TLSSHIM_CONFIG_STRING:
#  1. evprog_epollserver, level- and edge-triggered: one client connects and
#     never sends a ClientHello: the server stays idle (< 30 ms CPU in 1 s),
#     does not spin over a ClientHello that arrives in 4 pieces over 2 s
#     (< 50 ms CPU), and serves 100 TLS clients meanwhile; and, closing
#     without EPOLL_CTL_DEL, 200 clients (8 at a time) with no event for a
#     closed connection.
#  2. evprog_blockserver with handshake_timeout = 1: a client that never
#     speaks is given up after about 1 s, and the next client is served.
# (The slow-handshake CPU check is test_evloop_slowclient.sh.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_epollserver evprog_blockserver

# 1. One silent client must not stop an epoll server.
for mode in lt et; do
	P=$(free_port)
	start_bg 120 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg "$P")" \
		"$PROGS/evprog_epollserver" "$P" "$mode" > "$T/epoll-$mode.log" 2>&1
	SERVER=$BG_PID
	wait_port "$P"
	# nc -d: connect, never read stdin, never send a byte.
	start_bg 120 nc -d 127.0.0.1 "$P"
	SILENT=$BG_PID
	ev_wait_file "$T/epoll-$mode.log" "^accepted 1\$" 10
	# The server (timeout -> the program) must sleep while the silent
	# client waits, and must not spin while a ClientHello trickles in.
	prog=$(ev_children "$SERVER" | head -n 1)
	[ -n "$prog" ] || fail "no epoll server process"
	c0=$(ev_cpu_ms "$prog")
	sleep 1
	c1=$(ev_cpu_ms "$prog")
	[ $((c1 - c0)) -lt 30 ] || fail "epoll server ($mode) used $((c1 - c0)) ms of CPU in 1 s with one silent client: it spins"
	timeout 20 "$EVPY" "$EV" slow-hello --port "$P" --delay 2 --line ping > "$T/slowhello-$mode.log" 2>&1 \
		|| { cat "$T/slowhello-$mode.log" >&2; fail "epoll server ($mode): the slow-ClientHello client failed"; }
	c2=$(ev_cpu_ms "$prog")
	assert_contains "$T/slowhello-$mode.log" "slow hello answer ping" "echo to the slow-ClientHello client ($mode)"
	[ $((c2 - c1)) -lt 50 ] || fail "epoll server ($mode) used $((c2 - c1)) ms of CPU over a ClientHello sent in 4 pieces in 2 s: it spins"
	echo "epoll server ($mode): $((c1 - c0)) ms CPU in 1 s idle with a silent client, $((c2 - c1)) ms over a 2 s trickled ClientHello"
	timeout 90 "$EVPY" "$EV" tls-clients --port "$P" --count 100 --parallel 4 --size 20000 --timeout 10 \
		> "$T/clients-$mode.log" 2>&1
	rc=$?
	cat "$T/clients-$mode.log"
	[ $rc -eq 0 ] || { tail -n 20 "$T/epoll-$mode.log" >&2; fail "epoll server ($mode): TLS clients failed with a silent client connected"; }
	assert_contains "$T/clients-$mode.log" "clients ok 100 of 100" "TLS clients served ($mode)"
	kill -0 "$SERVER" 2>/dev/null || fail "the epoll server ($mode) died"
	stop_bg "$SILENT"
	stop_bg "$SERVER"
	echo "epoll server ($mode): 100 TLS clients served while one client stayed silent"
done

# 1b. Connections closed without EPOLL_CTL_DEL (close ends the kernel's
# registration): descriptor numbers are reused at once by new connections,
# and no event may arrive for a connection already closed.
for mode in lt-nodel et-nodel; do
	P=$(free_port)
	start_bg 120 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg "$P")" \
		"$PROGS/evprog_epollserver" "$P" "$mode" > "$T/epoll-$mode.log" 2>&1
	SERVER=$BG_PID
	wait_port "$P"
	timeout 90 "$EVPY" "$EV" tls-clients --port "$P" --count 200 --parallel 8 --size 3000 --timeout 10 \
		> "$T/clients-$mode.log" 2>&1
	rc=$?
	cat "$T/clients-$mode.log"
	[ $rc -eq 0 ] || { tail -n 20 "$T/epoll-$mode.log" >&2; fail "epoll server ($mode): TLS clients failed"; }
	assert_contains "$T/clients-$mode.log" "clients ok 200 of 200" "TLS clients served ($mode)"
	assert_not_contains "$T/epoll-$mode.log" "stale event" "events for closed connections ($mode)"
	stop_bg "$SERVER"
done

# 2. A blocking server's eager handshake has a deadline.
P=$(free_port)
start_bg 60 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg "$P" 'handshake_timeout = 1;')" \
	"$PROGS/evprog_blockserver" "$P" 2 > "$T/block.log" 2>&1
SERVER=$BG_PID
wait_port "$P"
start_bg 60 nc -d 127.0.0.1 "$P"
SILENT=$BG_PID
# The silent client is connected (queued by the kernel) before the next.
i=0
until ss -Htn state established "( dport = :$P )" | grep -q .; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "nc never connected"; sleep 0.05
done
timeout 20 "$EVPY" "$EV" line-client --port "$P" --line first --timeout 15 > "$T/first.log" 2>&1 \
	|| { cat "$T/first.log" "$T/block.log" >&2; fail "the client after the silent one was not served"; }
cat "$T/first.log"
assert_contains "$T/first.log" "answer echo: first" "answer to the client after the silent one"
secs=$(sed -n 's/.* after \([0-9.]*\) s$/\1/p' "$T/first.log")
# A server that handshakes one connection at a time serves this client
# after about 1 s (the silent one's handshake_timeout); never much later.
awk -v s="$secs" 'BEGIN { exit !(s < 5) }' \
	|| fail "served after $secs s: expected at most about 1 s (the handshake_timeout of the silent connection)"
# The silent connection was failed: the server closed it, so nc is gone
# (within 4 s of its connect: the deadline is 1 s).
i=0
while kill -0 "$SILENT" 2>/dev/null && [ $i -lt 60 ]; do sleep 0.05; i=$((i + 1)); done
kill -0 "$SILENT" 2>/dev/null && fail "the silent connection is still open long after its handshake_timeout of 1 s"
timeout 20 "$EVPY" "$EV" line-client --port "$P" --line second > "$T/second.log" 2>&1 \
	|| { cat "$T/second.log" "$T/block.log" >&2; fail "the second client was not served"; }
assert_contains "$T/second.log" "answer echo: second" "answer to the second client"
i=0
while kill -0 "$SERVER" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
cat "$T/block.log"
assert_contains "$T/block.log" "served 2" "the blocking server served both TLS clients"
echo "blocking server: the silent client was given up after its handshake_timeout"
exit 0
