#!/bin/sh
# Non-blocking servers and handshake deadlines (issue 4, item 3), with plain
# C programs (tests/progs/evprog_*) under LD_PRELOAD and
# TLSSHIM_CONFIG_STRING:
#  1. evprog_epollserver, level- and edge-triggered: one client connects and
#     never sends a ClientHello, 100 TLS clients are all served meanwhile.
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
