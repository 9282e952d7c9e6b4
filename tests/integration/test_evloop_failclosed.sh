#!/bin/sh
# Fail closed on a non-blocking connection (CONTRACT: "Fail closed"; issue
# 4, item 3): evprog_slowclient, a plain non-blocking client (epoll, poll,
# select) under a connect rule that trusts the wrong CA, talks through a
# recording relay to a Python TLS echo server. The handshake, driven by the
# readiness call and the first write, fails: the program must be woken (no
# hang), its write must fail with EPROTO, and its "ping" must never reach
# the wire or the server.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_slowclient

P=$(free_port)
R=$(free_port)
start_bg 60 "$EVPY" "$EV" echo-server --port "$P" > "$T/server.log" 2>&1
start_bg 60 "$EVPY" "$EV" relay --port "$R" --to "$P" --record "$T/wire" > "$T/relay.log" 2>&1
wait_port "$P"
wait_port "$R"
CFG=$(printf 'version = 1;\nconnect = ( { match = "127.0.0.1:%s"; ca_certs = "%s"; } );\n' "$R" "$CERTS/other-ca.pem")
for mode in epoll poll select; do
	timeout 20 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$CFG" \
		"$PROGS/evprog_slowclient" 127.0.0.1 "$R" "$mode" > "$T/$mode.out" 2>&1
	rc=$?
	cat "$T/$mode.out"
	[ $rc -ne 124 ] || fail "$mode: the program hung after a failed handshake (never woken)"
	[ $rc -ne 0 ] || fail "$mode: the program got an answer through a connection that failed verification"
	assert_contains "$T/$mode.out" "Protocol error" "$mode: EPROTO from the call that met the failed handshake"
done
if grep -q -a -F "ping" "$T/wire"; then fail "the program's bytes went out in plaintext after a failed handshake"; fi
assert_not_contains "$T/server.log" "^echoed [1-9]" "application bytes reaching the server"
echo "wrong CA: 3 non-blocking clients failed with EPROTO, nothing on the wire"
exit 0
