#!/bin/sh
# mTLS: an accept rule with CERT_REQUIRED and ca_certs refuses a client
# without a certificate (the server goes on) and serves one with a
# certificate from the CA.
. "$(dirname "$0")/lib.sh"

mkdir "$T/www"
echo "members only" >"$T/www/index.txt"
P=$(free_port)
TLSSHIM_CONFIG_STRING="accept = ({ match = \"127.0.0.1:$P\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; cert_reqs = \"CERT_REQUIRED\"; ca_certs = \"$CERTS/ca.pem\"; handshake_timeout = 5; });" \
	LD_PRELOAD=$PRELOAD start_bg 60 python3 -m http.server $P --bind 127.0.0.1 \
	--directory "$T/www" >/dev/null 2>"$T/log"
wait_port $P

timeout 20 curl -sS --cacert "$CERTS/ca.pem" https://127.0.0.1:$P/index.txt >"$T/out1" 2>"$T/err1" &&
	fail "served a client without a certificate"
timeout 20 curl -sS --cacert "$CERTS/ca.pem" --cert "$CERTS/client.pem" --key "$CERTS/client.key" \
	https://127.0.0.1:$P/index.txt >"$T/out2" 2>"$T/err2" || { cat "$T/err2" >&2; fail "client with a certificate refused"; }
assert_eq "members only" "$(cat "$T/out2")" "served with a certificate"
sleep 0.2
assert_contains "$T/log" "accept 127.0.0.1:[0-9]*: failed (rule TLSSHIM_CONFIG_STRING:1" "warn line for the refused client"
assert_contains "$T/log" "certificate" "the reason names the certificate"
