#!/bin/sh
# Node.js (libuv's epoll loop, plain `net` sockets) under tlsshim: a client
# under a connect rule exchanges 500 request/response lines and 500
# pipelined ones with a Python TLS server; a server under an accept rule
# echoes for 100 TLS clients, 4 at a time. Needs `node`
# (nodejs, in tests/deps.sh's test group).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
command -v node >/dev/null 2>&1 || fail "node is not installed"
sanitizer_skip "asan tsan" "node exports OpenSSL's symbols, and a sanitized libtlsshim.so opens OpenSSL without RTLD_DEEPBIND (the sanitizers refuse it): node's OpenSSL then captures libssl's calls into itself"

P=$(free_port)
start_bg 120 "$EVPY" "$EV" line-server --port "$P" --timeout 60 > "$T/server.log" 2>&1
wait_port "$P"
timeout 60 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_connect_cfg "$P")" \
	node "$T/node-client.js" "$P" 500 > "$T/client.log" 2>&1
rc=$?
cat "$T/client.log"
[ $rc -eq 0 ] || { cat "$T/server.log" >&2; fail "node client exited $rc"; }
assert_contains "$T/client.log" "node client ok 1000" "1000 answers to the wrapped node client"

P2=$(free_port)
start_bg 120 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg "$P2")" \
	node "$T/node-server.js" "$P2" > "$T/nserver.log" 2>&1
NSERVER=$BG_PID
wait_port "$P2"
timeout 90 "$EVPY" "$EV" tls-clients --port "$P2" --count 100 --parallel 4 --size 50000 --timeout 10 \
	> "$T/clients.log" 2>&1
rc=$?
cat "$T/clients.log"
[ $rc -eq 0 ] || { cat "$T/nserver.log" >&2; fail "TLS clients of the wrapped node server failed"; }
assert_contains "$T/clients.log" "clients ok 100 of 100" "100 TLS clients of the wrapped node server"
kill -0 "$NSERVER" 2>/dev/null || fail "the wrapped node server died"
exit 0
