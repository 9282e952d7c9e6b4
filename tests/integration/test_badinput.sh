# Bad input and faults (issue 11, item 8; README "Bad input and faults"):
# the rows no other test shows. A wrapped plain client (tsprog_client ghbn)
# under a connect rule talks to openssl s_server presenting a certificate
# made at test time (python3 cryptography, signed by the test CA): expired,
# not yet valid, self-signed. Each is refused inside the handshake: the
# program's connect, write and read fail with EPROTO, the warn line gives
# OpenSSL's verify reason, and the program's "ping" never reaches the
# server. A connect rule whose ca_certs file is empty or garbage stops the
# program before main: exit 1 and "tlsshim: ...: ca_certs: cannot load CA
# certificates from FILE: REASON" (the program never runs, so it sends
# nothing); so does a certfile whose keyfile does not match it, on an
# accept rule and on a connect rule. On an accept rule, a plaintext client and a client closing
# mid-handshake never reach the program (see the case below).
. "$(dirname "$0")/lib.sh"

mkcert() { # NAME MODE (expired | notyet | selfsigned)
	python3 - "$CERTS/ca.pem" "$CERTS/ca.key" "$T/$1" "$2" <<'PY'
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
ca_pem, ca_key_pem, out, mode = sys.argv[1:5]
ca = x509.load_pem_x509_certificate(open(ca_pem, "rb").read())
ca_key = serialization.load_pem_private_key(open(ca_key_pem, "rb").read(), None)
key = ec.generate_private_key(ec.SECP256R1())
now = datetime.datetime.now(datetime.timezone.utc)
day = datetime.timedelta(days=1)
nb, na = {"expired": (now - 30 * day, now - day),
          "notyet": (now + day, now + 30 * day),
          "selfsigned": (now - day, now + 30 * day)}[mode]
subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
issuer, signer = (subject, key) if mode == "selfsigned" else (ca.subject, ca_key)
cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(nb).not_valid_after(na)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .sign(signer, hashes.SHA256()))
open(out + ".pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(out + ".key", "wb").write(key.private_bytes(serialization.Encoding.PEM,
     serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
PY
	[ -s "$T/$1.pem" ] || fail "certificate $1"
}

REFUSED="connect=-1 errno=EPROTO
write=-1 errno=EPROTO
read=-1 errno=EPROTO"

refuse() { # CERT CA what reason
	P=$(free_port)
	start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$T/$1.pem" -key "$T/$1.key" \
		-naccept 1 >"$T/server.out" 2>&1
	SRV=$BG_PID
	wait_port $P
	TLSSHIM_CONFIG_STRING="connect = ({ match = \"localhost:$P\"; ca_certs = \"$2\"; });" \
		LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" ghbn localhost $P >"$T/out" 2>"$T/log"
	assert_eq "$REFUSED" "$(cat "$T/out")" "$3"
	assert_contains "$T/log" "connect 127.0.0.1:$P: failed (rule .*): $4" "$3: warn line"
	stop_bg $SRV
	assert_not_contains "$T/server.out" "ping" "$3: nothing reached the server"
}

mkcert expired expired
mkcert notyet notyet
mkcert self selfsigned
refuse expired "$CERTS/ca.pem" "expired certificate" "certificate verify failed: certificate has expired"
refuse notyet "$CERTS/ca.pem" "not yet valid certificate" "certificate verify failed: certificate is not yet valid"
refuse self "$CERTS/ca.pem" "self-signed certificate" "certificate verify failed: self.signed certificate"

: >"$T/empty.pem"
printf 'not a certificate\n-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n' >"$T/garbage.pem"
badca() { # FILE what reason
	rc=0
	TLSSHIM_CONFIG_STRING="connect = ({ match = \"localhost:1\"; ca_certs = \"$1\"; });" \
		LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" ghbn localhost 1 >"$T/out" 2>"$T/log" || rc=$?
	assert_eq 1 "$rc" "$2: exit status"
	assert_eq "" "$(cat "$T/out")" "$2: the program never ran"
	assert_contains "$T/log" "tlsshim: TLSSHIM_CONFIG_STRING:1: ca_certs: cannot load CA certificates from $1: $3" "$2: message"
}
# The accept side: a wrapped evprog_blockserver (accept rule) behind a
# plaintext client and a client that closes mid-handshake: the program
# never gets those connections (its accept goes on waiting, then serves
# the next real TLS client), the plaintext client gets EOF and no byte
# back, and each failure is logged at warn with OpenSSL's reason.
P=$(free_port)
TLSSHIM_CONFIG_STRING="accept = ({ match = \"*:$P\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; });" \
	LD_PRELOAD=$PRELOAD start_bg 20 "$PROGS/evprog_blockserver" $P 1 >"$T/bs.out" 2>"$T/bs.log"
BS=$BG_PID
wait_port $P
timeout 5 python3 -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'PLAINSECRET hello\\n')
print(repr(s.recv(100)))" $P >"$T/plain.out" 2>&1
assert_eq "b''" "$(cat "$T/plain.out")" "plaintext client: EOF, nothing back"
timeout 5 python3 -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(bytes.fromhex('16030100c8010000c40303'))
s.close()" $P
echo ok | timeout 5 openssl s_client -connect 127.0.0.1:$P -quiet -CAfile "$CERTS/ca.pem" >"$T/ok.out" 2>/dev/null
assert_eq "echo: ok" "$(cat "$T/ok.out")" "the next TLS client is served"
wait $BS || fail "evprog_blockserver failed"
assert_eq "listening $P
served 1" "$(cat "$T/bs.out")" "the program saw neither bad connection"
assert_contains "$T/bs.log" "accept 127.0.0.1:[0-9]*: failed (rule .*): wrong version number" "plaintext client: warn line"
assert_contains "$T/bs.log" "accept 127.0.0.1:[0-9]*: failed (rule .*): EOF occurred in violation of protocol (during handshake)" "closed mid-handshake: warn line"

badca "$T/empty.pem" "empty CA file" "no PEM certificate or CRL in it"
badca "$T/garbage.pem" "garbage CA file" 'the PEM block "CERTIFICATE" is not base64'

# A certificate whose key does not match, at start (rotation is
# test_trust_rotation_server.sh): the accept rule's server certificate
# and the connect rule's client certificate each stop the program before
# main with exit 1 and the file at fault; the program never runs, so it
# neither listens nor connects.
badkey() { # RULE-KIND CERT what
	rc=0
	case $1 in
	accept) rule="accept = ({ match = \"*:1\"; certfile = \"$CERTS/$2\"; keyfile = \"$CERTS/rsa.key\"; });" ;;
	connect) rule="connect = ({ match = \"localhost:1\"; ca_certs = \"$CERTS/ca.pem\"; certfile = \"$CERTS/$2\"; keyfile = \"$CERTS/rsa.key\"; });" ;;
	esac
	TLSSHIM_CONFIG_STRING="$rule" LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" ghbn localhost 1 \
		>"$T/out" 2>"$T/log" || rc=$?
	assert_eq 1 "$rc" "$3: exit status"
	assert_eq "" "$(cat "$T/out")" "$3: the program never ran"
	assert_contains "$T/log" "tlsshim: TLSSHIM_CONFIG_STRING:1: keyfile: private key in $CERTS/rsa.key does not match the certificate in $CERTS/$2" "$3: message"
}
badkey accept server.pem "server key that does not match"
badkey connect client.pem "client key that does not match"
exit 0
