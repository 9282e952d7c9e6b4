#!/bin/sh
# allow_names and pin_sha256 on connect rules, against a real server
# (openssl s_server) whose certificate, from the trusted CA, carries a
# SPIFFE ID made at test time: the right identity or key passes, any other
# fails inside the handshake with EPROTO, nothing reaches the server, and
# the warn line names what the server presented.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/certs_lib.sh"

mkleaf web "/CN=web" "subjectAltName = DNS:localhost, URI:spiffe://example.org/ns/prod/sa/web"
PIN=$(spki_pin "$T/web.pem")
OTHER_PIN=$(spki_pin "$CERTS/server.pem")

serve() {
	P=$(free_port)
	start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$T/web.pem" -key "$T/web.key" \
		-naccept 1 >"$T/server.out" 2>&1
	SRV=$BG_PID
	wait_port $P
}
run() { # rule keys
	TLSSHIM_CONFIG_STRING="connect = ({ match = \"localhost:$P\"; ca_certs = \"$CERTS/ca.pem\"; $1 });" \
		LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" ghbn localhost $P >"$T/out" 2>"$T/log"
}
OK="connect=0
write=5
read=5
got=gnip"
REFUSED="connect=-1 errno=EPROTO
write=-1 errno=EPROTO
read=-1 errno=EPROTO"

pass() { # keys what
	serve
	run "$1"
	assert_eq "$OK" "$(cat "$T/out")" "$2"
	stop_bg $SRV
}
refuse() { # keys what reason
	serve
	run "$1"
	assert_eq "$REFUSED" "$(cat "$T/out")" "$2"
	assert_contains "$T/log" "connect 127.0.0.1:$P: failed (rule .*): certificate verify failed: $3" "$2: warn line"
	stop_bg $SRV
	assert_not_contains "$T/server.out" "ping" "$2: nothing reached the server"
}

pass 'allow_names = [ "spiffe://example.org/ns/prod/sa/web" ];' "exact SPIFFE ID"
pass 'allow_names = [ "spiffe://example.org/ns/*/sa/web" ];' "SPIFFE ID with *"
pass 'allow_names = [ "spiffe://example.org/ns/prod/**" ];' "SPIFFE ID with **"
pass 'allow_names = [ "db.internal", "localhost" ];' "DNS name"
pass 'allow_names = [ "CN=web" ];' "subject CN"
pass "pin_sha256 = [ \"$OTHER_PIN\", \"sha256//$PIN\" ];" "pinned key"
pass "pin_sha256 = [ \"$PIN\" ]; allow_names = [ \"spiffe://example.org/**\" ];" "pin and name"

PRESENTED="(presented: DNS:localhost, URI:spiffe://example.org/ns/prod/sa/web, CN=web)"
refuse 'allow_names = [ "spiffe://example.org/ns/prod/sa/db" ];' "another SPIFFE ID" \
	"peer identity not in allow_names $PRESENTED"
refuse 'allow_names = [ "spiffe://example.org/ns/*/web" ];' "* is one segment" \
	"peer identity not in allow_names"
refuse 'allow_names = [ "spiffe://other.org/**", "*.localhost", "CN=db" ];' "nothing matches" \
	"peer identity not in allow_names $PRESENTED"
refuse "pin_sha256 = [ \"$OTHER_PIN\" ];" "another key" \
	"peer key not in pin_sha256 (it is sha256//$PIN)"
refuse "pin_sha256 = [ \"$OTHER_PIN\" ]; allow_names = [ \"localhost\" ];" "right name, wrong key" \
	"peer key not in pin_sha256"
exit 0
