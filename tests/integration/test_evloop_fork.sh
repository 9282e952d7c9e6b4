#!/bin/sh
# fork and a child that lets go (issue 4, item 5): evprog_fork, a plain C
# client under a connect rule, does a round trip with a Python TLS echo
# server, forks a child that close()s the connection, close_range()s every
# descriptor, dup2()s /dev/null over it, or just exits, and then does 20
# more round trips. The child did no I/O: its close must neither send
# close_notify nor shut the shared socket down.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_fork

P=$(free_port)
start_bg 120 "$EVPY" "$EV" echo-server --port "$P" > "$T/server.log" 2>&1
wait_port "$P"
bad=""
for c in close closerange dup2 exit; do
	timeout 20 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_connect_cfg "$P")" \
		"$PROGS/evprog_fork" 127.0.0.1 "$P" "$c" > "$T/$c.out" 2>&1
	rc=$?
	cat "$T/$c.out"
	if [ $rc -ne 0 ] || ! grep -q "^$c ok 21 round trips" "$T/$c.out"; then
		bad="$bad $c"
	fi
done
[ -z "$bad" ] || { cat "$T/server.log" >&2; fail "the parent's connection did not survive a child that:$bad"; }
assert_not_contains "$T/server.log" "conn-error" "TLS errors at the echo server"
exit 0
