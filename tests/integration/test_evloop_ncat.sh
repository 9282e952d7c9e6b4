#!/bin/sh
# ncat at both ends:
#  - `ncat --keep-open -l` under an accept rule serves successive clients:
#    ncat's own TLS client (--ssl --ssl-verify) and plain ncat clients under
#    a connect rule; every line arrives, in order; a plaintext client's line
#    never reaches the wrapped server's output (fail closed).
#  - a plain ncat client under a connect rule talks to a Python TLS server
#    and gets its answers back after half-closing (close_notify for the
#    write direction only).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_launcher
ev_need_preload

P=$(free_port)
P2=$(free_port)

start_bg 120 "$TLSSHIM" --accept "*:$P" --certfile "$CERTS/server.pem" --keyfile "$CERTS/server.key" \
	-- ncat --keep-open -l 127.0.0.1 "$P" < /dev/null > "$T/out" 2> "$T/ncat-server.err"
SERVER=$BG_PID
wait_port "$P"

n=0
for i in 1 2 3; do
	printf 'native %s\n' "$i" | timeout 10 ncat --ssl --ssl-verify --ssl-trustfile "$CERTS/ca.pem" localhost "$P" \
		|| fail "ncat --ssl client $i to the wrapped ncat --keep-open exited $?"
	n=$((n + 1))
	ev_wait_file "$T/out" "^native $i\$" 10
	printf 'wrapped %s\n' "$i" | timeout 10 "$TLSSHIM" --connect "127.0.0.1:$P" --ca-certs "$CERTS/ca.pem" \
		-- ncat 127.0.0.1 "$P" || fail "wrapped ncat client $i exited $?"
	n=$((n + 1))
	ev_wait_file "$T/out" "^wrapped $i\$" 10
done
printf 'plaintext line\n' | timeout 5 ncat 127.0.0.1 "$P" >/dev/null 2>&1
printf 'native last\n' | timeout 10 ncat --ssl --ssl-verify --ssl-trustfile "$CERTS/ca.pem" localhost "$P" \
	|| fail "ncat --ssl client after the plaintext one exited $?"
ev_wait_file "$T/out" "^native last\$" 10
printf 'native 1\nwrapped 1\nnative 2\nwrapped 2\nnative 3\nwrapped 3\nnative last\n' > "$T/want"
cmp "$T/want" "$T/out" || { cat "$T/out" >&2; fail "lines received by the wrapped ncat --keep-open"; }
kill -0 "$SERVER" 2>/dev/null || fail "the wrapped ncat --keep-open exited"
echo "wrapped ncat --keep-open: $n TLS clients served in order, the plaintext one refused"

start_bg 60 "$EVPY" "$EV" line-server --port "$P2" > "$T/py.log" 2>&1
wait_port "$P2"
for i in 1 2 3; do
	printf 'abc %s\ndef %s\n' "$i" "$i" | timeout 10 "$TLSSHIM" --connect "127.0.0.1:$P2" --ca-certs "$CERTS/ca.pem" \
		-- ncat 127.0.0.1 "$P2" > "$T/answer" 2> "$T/ncat-client.err" \
		|| { cat "$T/ncat-client.err" >&2; fail "wrapped ncat client $i to the Python TLS server exited $?"; }
	printf 'echo: abc %s\necho: def %s\n' "$i" "$i" > "$T/want"
	cmp "$T/want" "$T/answer" || { cat "$T/answer" "$T/py.log" >&2; fail "answers to wrapped ncat client $i"; }
done
assert_not_contains "$T/py.log" "conn-error" "TLS errors at the Python server"
echo "wrapped ncat client: answers received after half-close, 3 times"
exit 0
