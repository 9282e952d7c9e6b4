#!/bin/sh
# Names: a rule written with a host name matches
# the address the program resolved with gethostbyname; the name becomes
# SNI and the certificate is checked against it (a name the certificate
# does not carry fails closed).
. "$(dirname "$0")/lib.sh"

serve() {
	P=$(free_port)
	start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$CERTS/server.pem" \
		-key "$CERTS/server.key" -naccept 1 >"$T/server.out" 2>&1
	SRV=$BG_PID
	wait_port $P
}

# "localhost" resolves to 127.0.0.1; the certificate names localhost
serve
TLSSHIM_LOG=debug TLSSHIM_CONFIG_STRING="connect = ({ match = \"localhost:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
	LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" ghbn localhost $P >"$T/out" 2>"$T/log" || fail "ghbn"
assert_eq "connect=0
write=5
read=5
got=gnip" "$(cat "$T/out")" "name rule through gethostbyname"
assert_contains "$T/log" "server name localhost" "SNI from the resolved name"
stop_bg $SRV

# a rule that names the address but says the server is someone the
# certificate does not name: verification fails, nothing is written
serve
TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; server_hostname = \"wrong.example\"; });" \
	LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" ghbn localhost $P >"$T/out" 2>"$T/log"
assert_eq "connect=-1 errno=EPROTO
write=-1 errno=EPROTO
read=-1 errno=EPROTO" "$(cat "$T/out")" "hostname mismatch fails closed"
assert_contains "$T/log" "certificate verify failed" "reason"
stop_bg $SRV
