#!/bin/sh
# A plain Python asyncio client (default loop: the epoll selector, a
# non-blocking connect) under a connect rule (LD_PRELOAD and
# TLSSHIM_CONFIG_STRING, no launcher) exchanges 1000 request/response
# round trips, then 1000 pipelined requests, with a Python ssl server.
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
exit 0
