#!/bin/sh
# A plain Python socketserver.ForkingTCPServer under an accept rule answers
# 20 TLS clients in a row. The parent accepts (and handshakes) and closes its
# copy right after fork; the child answers and ends the connection. Each
# client needs the answer and then a clean TLS close (close_notify from the
# child), not a reset, a bare EOF or a close_notify before the answer (which
# is what the parent's close would send if it shut the session down).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload

P=$(free_port)
start_bg 120 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg "$P")" \
	"$EVPY" "$EV" forking-server --port "$P" > "$T/server.log" 2>&1
SERVER=$BG_PID
wait_port "$P"

timeout 90 "$EVPY" "$EV" fork-clients --port "$P" --count 20 --timeout 10 > "$T/clients.log" 2>&1
rc=$?
cat "$T/clients.log"
[ $rc -eq 0 ] || { cat "$T/server.log" >&2; fail "fork clients exited $rc"; }
assert_contains "$T/clients.log" "fork clients ok 20 of 20" "20 answers with a clean TLS close"
assert_eq 20 "$(grep -c '^accepted' "$T/server.log")" "connections the forking server accepted"
kill -0 "$SERVER" 2>/dev/null || fail "the forking server died"
exit 0
