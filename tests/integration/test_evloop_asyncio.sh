#!/bin/sh
# A plain Python asyncio client (default loop: the epoll selector, a
# non-blocking connect) under a connect rule (LD_PRELOAD and
# TLSSHIM_CONFIG_STRING, no launcher) exchanges 1000 request/response
# round trips, then 1000 pipelined requests, with a Python ssl server; and
# a plain asyncio echo server under an accept rule serves 200 TLS clients,
# 8 at a time.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload

P=$(free_port)
start_bg 120 "$EVPY" "$EV" line-server --port "$P" --timeout 60 > "$T/server.log" 2>&1
wait_port "$P"

timeout 90 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_connect_cfg "$P")" \
	"$EVPY" "$EV" asyncio-client --port "$P" --count 1000 --timeout 5 > "$T/client.log" 2>&1
rc=$?
cat "$T/client.log"
[ $rc -eq 0 ] || { cat "$T/server.log" >&2; fail "asyncio client exited $rc"; }
assert_contains "$T/client.log" "selector EpollSelector" "asyncio used epoll"
assert_contains "$T/client.log" "round trips ok 1000" "1000 round trips"
assert_contains "$T/client.log" "pipelined ok 1000" "1000 pipelined requests"
assert_not_contains "$T/server.log" "conn-error" "server-side TLS errors"

P2=$(free_port)
start_bg 120 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg "$P2")" \
	"$EVPY" "$EV" asyncio-server --port "$P2" > "$T/aserver.log" 2>&1
ASERVER=$BG_PID
wait_port "$P2"
timeout 90 "$EVPY" "$EV" tls-clients --port "$P2" --count 200 --parallel 8 --size 30000 --timeout 10 \
	> "$T/clients.log" 2>&1
rc=$?
cat "$T/clients.log"
[ $rc -eq 0 ] || { tail -n 20 "$T/aserver.log" >&2; fail "TLS clients of the wrapped asyncio server failed"; }
assert_contains "$T/clients.log" "clients ok 200 of 200" "200 TLS clients of the wrapped asyncio server"
assert_contains "$T/aserver.log" "selector EpollSelector" "the asyncio server used epoll"
kill -0 "$ASERVER" 2>/dev/null || fail "the wrapped asyncio server died"
exit 0
