#!/bin/sh
# An event loop's accept never blocks (issue 4, item 3: "a non-blocking
# server's accepted connection handshakes lazily"). A plain asyncio echo
# server under an accept rule: its listening socket is non-blocking, but
# Python's accept() returns a blocking descriptor (accept4 with
# SOCK_CLOEXEC only) that asyncio makes non-blocking right after. One
# client connects and never sends its ClientHello; 20 TLS clients (5 s
# timeout each) must all be served meanwhile. An interposer that runs the
# handshake inside accept() because the new descriptor is blocking stalls
# the whole loop on the silent client.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload

P=$(free_port)
start_bg 120 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg "$P")" \
	"$EVPY" "$EV" asyncio-server --port "$P" > "$T/server.log" 2>&1
SERVER=$BG_PID
wait_port "$P"
start_bg 60 nc -d 127.0.0.1 "$P"
SILENT=$BG_PID
i=0
until ss -Htn state established "( dport = :$P )" | grep -q .; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "nc never connected"; sleep 0.05
done
timeout 60 "$EVPY" "$EV" tls-clients --port "$P" --count 20 --parallel 2 --size 1000 --timeout 5 \
	> "$T/clients.log" 2>&1
rc=$?
cat "$T/clients.log"
[ $rc -eq 0 ] || fail "the asyncio server stalled on a client that never sent its ClientHello (handshake inside accept?)"
assert_contains "$T/clients.log" "clients ok 20 of 20" "20 TLS clients served with a silent client connected"
kill -0 "$SERVER" 2>/dev/null || fail "the asyncio server died"
stop_bg "$SILENT"
exit 0
