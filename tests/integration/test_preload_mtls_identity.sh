#!/bin/sh
# allow_names and pin_sha256 on an accept rule (mTLS, CERT_REQUIRED): a
# wrapped, unmodified server (python3 http.server) serves clients whose
# certificate from the trusted CA carries an accepted SPIFFE ID or a
# pinned key, and refuses, inside the handshake, a client from the same CA
# with another SPIFFE ID or key: the request never reaches the program, and
# the warn line names what the client presented.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/certs_lib.sh"

mkleaf prod "/CN=prod web" "subjectAltName = URI:spiffe://example.org/ns/prod/sa/web"
mkleaf dev "/CN=dev web" "subjectAltName = URI:spiffe://example.org/ns/dev/sa/web"
PROD_PIN=$(spki_pin "$T/prod.pem")

mkdir "$T/www"
echo "prod only" >"$T/www/index.txt"

server() { # rule keys
	P=$(free_port)
	TLSSHIM_CONFIG_STRING="accept = ({ match = \"127.0.0.1:$P\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; cert_reqs = \"CERT_REQUIRED\"; ca_certs = \"$CERTS/ca.pem\"; handshake_timeout = 5; $1 });" \
		LD_PRELOAD=$PRELOAD start_bg 60 python3 -u -m http.server $P --bind 127.0.0.1 \
		--directory "$T/www" >/dev/null 2>"$T/log"
	SRV=$BG_PID
	wait_port $P
}
get() { # client-cert-name out
	timeout 20 curl -sS --cacert "$CERTS/ca.pem" --cert "$T/$1.pem" --key "$T/$1.key" \
		https://127.0.0.1:$P/index.txt >"$T/$2" 2>"$T/$2.err"
}
# The server logged one request for every client it served, and a warn
# line for the refused one, naming its identity.
check() { # what reason
	get prod ok || { cat "$T/ok.err" >&2; fail "$1: the accepted client was refused"; }
	assert_eq "prod only" "$(cat "$T/ok")" "$1: served"
	get dev no && fail "$1: served the client with another identity"
	# a third request proves the server went on after the refusal
	get prod ok2 || fail "$1: the server stopped after a refusal"
	i=0
	while [ $i -lt 100 ] && ! grep -q "failed (rule" "$T/log"; do sleep 0.05; i=$((i + 1)); done
	assert_contains "$T/log" "accept 127.0.0.1:[0-9]*: failed (rule TLSSHIM_CONFIG_STRING:1 .*): certificate verify failed: $2" "$1: warn line"
	assert_eq 2 "$(grep -c 'GET /index.txt' "$T/log")" "$1: only the accepted client's requests reached the program"
	stop_bg $SRV
}

server 'allow_names = [ "spiffe://example.org/ns/prod/**" ];'
check "SPIFFE ID" "peer identity not in allow_names (presented: URI:spiffe://example.org/ns/dev/sa/web, CN=dev web)"

server 'allow_names = [ "CN=prod web" ];'
check "subject CN" "peer identity not in allow_names"

server "pin_sha256 = [ \"$PROD_PIN\" ];"
check "pinned key" "peer key not in pin_sha256"

# a client without a certificate is refused too (a server with allow_names
# always asks for one)
server 'allow_names = [ "spiffe://example.org/ns/prod/**" ];'
timeout 20 curl -sS --cacert "$CERTS/ca.pem" https://127.0.0.1:$P/index.txt >"$T/none" 2>"$T/none.err" &&
	fail "served a client without a certificate"
stop_bg $SRV
assert_not_contains "$T/log" "GET /index.txt" "no request without a certificate"
exit 0
