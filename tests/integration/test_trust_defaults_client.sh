#!/bin/sh
# Client rules offer what server rules accept by default: TLS 1.2 and 1.3,
# and in TLS 1.2 only suites with an ephemeral key exchange (forward
# secrecy) and an AEAD cipher. A server that offers nothing better (an
# older version, a CBC suite, a suite without forward secrecy) is refused
# inside the handshake with EPROTO and nothing reaches it; a default
# s_server is talked to. The client refuses a server's renegotiation.
. "$(dirname "$0")/lib.sh"

# TLS 1.1 needs security level 0 in OpenSSL 3 (SHA-1 in the handshake):
# the client gets it too, so that only the version floor refuses.
cat >"$T/sec0.cnf" <<'CNF'
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
CipherString = DEFAULT:@SECLEVEL=0
CNF

serve() { # s_server arguments
	P=$(free_port)
	start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -naccept 1 "$@" >"$T/server.out" 2>&1
	SRV=$BG_PID
	wait_port $P
}
run() { # environment assignments for the client
	env "$@" TLSSHIM_CONFIG_STRING="connect = ({ match = \"localhost:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
		LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" ghbn localhost $P >"$T/out" 2>"$T/log"
}
REFUSED="connect=-1 errno=EPROTO
write=-1 errno=EPROTO
read=-1 errno=EPROTO"

serve -cert "$CERTS/server.pem" -key "$CERTS/server.key"
run
assert_eq "connect=0
write=5
read=5
got=gnip" "$(cat "$T/out")" "a default s_server"
stop_bg $SRV

refuse() { # what reason s_server-arguments...
	what=$1 reason=$2; shift 2
	serve "$@"
	run OPENSSL_CONF="$T/sec0.cnf"
	assert_eq "$REFUSED" "$(cat "$T/out")" "$what"
	assert_contains "$T/log" "connect 127.0.0.1:$P: failed (rule .*): .*$reason" "$what: warn line"
	stop_bg $SRV
	assert_not_contains "$T/server.out" "ping" "$what: nothing reached the server"
}
refuse "a TLS 1.1 server" "protocol version" \
	-cert "$CERTS/rsa.pem" -key "$CERTS/rsa.key" -tls1_1 -cipher "DEFAULT:@SECLEVEL=0"
refuse "a CBC suite without forward secrecy" "handshake failure" \
	-cert "$CERTS/rsa.pem" -key "$CERTS/rsa.key" -tls1_2 -cipher AES128-SHA
refuse "an AEAD suite without forward secrecy" "handshake failure" \
	-cert "$CERTS/rsa.pem" -key "$CERTS/rsa.key" -tls1_2 -cipher AES128-GCM-SHA256
refuse "a CBC suite with forward secrecy" "handshake failure" \
	-cert "$CERTS/server.pem" -key "$CERTS/server.key" -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256

# Renegotiation: the server asks for it (s_server's "R" command) once our
# client's line has arrived; the client answers no_renegotiation.
P=$(free_port)
mkfifo "$T/cmd"
start_bg 20 sh -c 'exec openssl s_server -accept 127.0.0.1:$1 -naccept 1 -tls1_2 -cert "$2" -key "$3" <"$4"' \
	sh $P "$CERTS/server.pem" "$CERTS/server.key" "$T/cmd" >"$T/server.out" 2>&1
SRV=$BG_PID
exec 3>"$T/cmd"
wait_port $P
TLSSHIM_CONFIG_STRING="connect = ({ match = \"localhost:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
	LD_PRELOAD=$PRELOAD start_bg 20 "$PROGS/tsprog_client" ghbn localhost $P >"$T/out" 2>"$T/log"
CLI=$BG_PID
n=0
until grep -q "^ping" "$T/server.out"; do
	n=$((n + 1)); [ $n -le 200 ] || { cat "$T/server.out"; fail "the client's line never reached s_server"; }
	sleep 0.05
done
echo R >&3
n=0
# Refused: s_server says so and closes. Renegotiated (the old way): it
# says neither, and the line below reaches the client.
until grep -q "no renegotiation\|CONNECTION CLOSED" "$T/server.out"; do
	n=$((n + 1)); [ $n -le 200 ] || break
	sleep 0.05
done
(trap '' PIPE; echo pong >&3) 2>/dev/null # s_server may be gone
exec 3>&-
wait $CLI
cat "$T/server.out"
assert_contains "$T/server.out" "no renegotiation" "s_server's renegotiation is refused by the client"
assert_not_contains "$T/out" "got=pong" "no data after a refused renegotiation"
exit 0
