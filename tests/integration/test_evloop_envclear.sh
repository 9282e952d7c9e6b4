#!/bin/sh
# Fail closed across an exec that clears the environment (issue 4, item 5;
# CONTRACT "Fail closed", "Where interposition cannot reach, refuse
# loudly"). A program under a connect rule runs `env -i nc ...`: the
# exec'd image gets no LD_PRELOAD and no TLSSHIM_*, so without tlsshim
# carrying itself over (or refusing the exec) nc connects to the matched
# destination and sends its request in plaintext. A recording relay in
# front of a TLS server sees every byte: the request must not be there.
# (nginx's binary upgrade is the server-side case: test_evloop_upgrade.sh.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_launcher
ev_need_preload

P=$(free_port)
R=$(free_port)
MARK="tlsshim-envclear-request-$$-$R"
start_bg 60 "$EVPY" "$EV" line-server --port "$P" > "$T/server.log" 2>&1
start_bg 60 "$EVPY" "$EV" relay --port "$R" --to "$P" --record "$T/wire" > "$T/relay.log" 2>&1
wait_port "$P"
wait_port "$R"
printf '%s\n' "$MARK" > "$T/req"
NC=$(command -v nc) || fail "nc is not installed"

# The control: the same without env -i goes through TLS and is answered.
timeout 10 "$TLSSHIM" --connect "127.0.0.1:$R" --ca-certs "$CERTS/ca.pem" -- \
	sh -c '"$1" -N 127.0.0.1 "$2" < "$3"' sh "$NC" "$R" "$T/req" > "$T/control.out" 2>&1
assert_contains "$T/control.out" "echo: $MARK" "the answer to nc through TLS (control)"
if grep -q -a -F "$MARK" "$T/wire"; then fail "the control went out in plaintext"; fi

timeout 10 "$TLSSHIM" --connect "127.0.0.1:$R" --ca-certs "$CERTS/ca.pem" -- \
	sh -c 'env -i "$1" -N 127.0.0.1 "$2" < "$3"' sh "$NC" "$R" "$T/req" > "$T/cleared.out" 2>&1
rc=$?
cat "$T/cleared.out"
if grep -q -a -F "$MARK" "$T/wire"; then
	fail "a child exec'd with a cleared environment sent its request in PLAINTEXT to a destination a rule matches"
fi
echo "env -i child: exit $rc, nothing in plaintext on the wire"
exit 0
