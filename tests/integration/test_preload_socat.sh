#!/bin/sh
# socat on both sides: a forking socat server (TCP-LISTEN,fork: accept,
# then the child serves and the parent closes its copy) under an accept
# rule, and socat clients under a connect rule. Two clients in a row: the
# parent's close of each copy must not end the child's session.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
export TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; }); accept = ({ match = \"127.0.0.1:$P\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; });"
LD_PRELOAD=$PRELOAD start_bg 60 socat TCP-LISTEN:$P,bind=127.0.0.1,reuseaddr,fork \
	SYSTEM:'read l; echo "socat says: $l"'
wait_port $P
for who in one two; do
	echo "$who" | LD_PRELOAD=$PRELOAD timeout 10 socat -t 5 - TCP:127.0.0.1:$P >"$T/out" 2>"$T/err" ||
		{ cat "$T/err" >&2; fail "socat client $who"; }
	assert_eq "socat says: $who" "$(cat "$T/out")" "reply to $who"
done
# and a client that is not tlsshim: a real TLS client sees a TLS server
echo three | timeout 10 openssl s_client -connect 127.0.0.1:$P -CAfile "$CERTS/ca.pem" \
	-verify_return_error -quiet >"$T/out" 2>/dev/null
assert_eq "socat says: three" "$(cat "$T/out")" "s_client against socat under tlsshim"
