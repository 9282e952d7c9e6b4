#!/bin/sh
# Host name checks use the certificate's subjectAltName only (issue 11
# item 4, CONTRACT "Hostname checks use the certificate's subjectAltName"):
# a certificate from the trusted CA whose subject CN is the right name but
# whose SAN does not carry it (none at all, or only a URI) is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/certs_lib.sh"

mkleaf cnonly "/CN=localhost"
mkleaf cnuri "/CN=localhost" "subjectAltName = URI:spiffe://example.org/web"
mkleaf sanok "/CN=someone.else" "subjectAltName = DNS:localhost"

serve() { # cert-name
	P=$(free_port)
	start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$T/$1.pem" -key "$T/$1.key" \
		-naccept 1 >"$T/server.out" 2>&1
	SRV=$BG_PID
	wait_port $P
}
run() {
	TLSSHIM_CONFIG_STRING="connect = ({ match = \"localhost:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
		LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" ghbn localhost $P >"$T/out" 2>"$T/log"
}

for c in cnonly cnuri; do
	serve $c
	run
	assert_eq "connect=-1 errno=EPROTO
write=-1 errno=EPROTO
read=-1 errno=EPROTO" "$(cat "$T/out")" "$c: CN=localhost without a matching SAN"
	assert_contains "$T/log" "certificate verify failed: hostname mismatch" "$c: reason"
	assert_not_contains "$T/server.out" "ping" "$c: nothing reached the server"
	stop_bg $SRV
done

# the SAN decides, whatever the CN says
serve sanok
run
assert_eq "connect=0
write=5
read=5
got=gnip" "$(cat "$T/out")" "SAN DNS:localhost with another CN"
stop_bg $SRV
exit 0
