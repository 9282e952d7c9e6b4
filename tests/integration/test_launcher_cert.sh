#!/bin/sh
# tlsshim --getcert and --peercert against openssl s_server: the PEM is the
# server's certificate byte for byte (as DER), the dictionary equals
# Python's getpeercert() for the seed's keys, and validation failures are
# exit 1 with OpenSSL's reason.
. "$(dirname "$0")/lib.sh"

port=$(free_port)
start_bg 60 openssl s_server -accept "$port" -cert "$CERTS/server.pem" -key "$CERTS/server.key" \
	-quiet -naccept 100 </dev/null >"$T/server.log" 2>&1
wait_port "$port"

# --getcert: the server's certificate, compared as DER.
openssl x509 -in "$CERTS/server.pem" -outform DER -out "$T/want.der" || fail "x509"
for hp in "127.0.0.1:$port" "localhost:$port" "[::1]:$port"; do
	timeout 20 "$TLSSHIM" --getcert "$hp" >"$T/got.pem" 2>"$T/err" \
		|| { cat "$T/err" >&2; fail "--getcert $hp"; }
	assert_contains "$T/got.pem" "^-----BEGIN CERTIFICATE-----" "--getcert $hp prints PEM"
	openssl x509 -in "$T/got.pem" -outform DER -out "$T/got.der" || fail "--getcert $hp: not a certificate"
	cmp "$T/want.der" "$T/got.der" || fail "--getcert $hp: DER differs from the server's certificate"
done
# Without --ca-certs nothing is validated: a self-signed server is printed.
port2=$(free_port)
start_bg 60 openssl s_server -accept "$port2" -cert "$CERTS/selfsigned.pem" \
	-key "$CERTS/selfsigned.key" -quiet -naccept 100 </dev/null >"$T/server2.log" 2>&1
wait_port "$port2"
timeout 20 "$TLSSHIM" --getcert "127.0.0.1:$port2" >"$T/self.pem" || fail "--getcert unvalidated"
openssl x509 -in "$T/self.pem" -outform DER -out "$T/self.der" && \
	openssl x509 -in "$CERTS/selfsigned.pem" -outform DER | cmp - "$T/self.der" \
	|| fail "--getcert of a self-signed server"
# With --ca-certs it must validate.
timeout 20 "$TLSSHIM" --ca-certs "$CERTS/ca.pem" --getcert "127.0.0.1:$port" >"$T/ok.pem" \
	|| fail "--getcert with the right CA"
cmp "$T/got.pem" "$T/ok.pem" || fail "--getcert with and without --ca-certs differ"
timeout 20 "$TLSSHIM" --ca-certs "$CERTS/ca.pem" --getcert "127.0.0.1:$port2" >"$T/out" 2>"$T/err"
assert_eq 1 $? "--getcert, self-signed server, --ca-certs"
assert_contains "$T/err" "^tlsshim: 127.0.0.1:$port2: .*certificate verify failed" "reason"
[ ! -s "$T/out" ] || fail "--getcert printed a certificate that did not validate"
timeout 20 "$TLSSHIM" --ca-certs "$CERTS/other-ca.pem" --getcert "127.0.0.1:$port" >"$T/out" 2>"$T/err"
assert_eq 1 $? "--getcert, wrong CA"
# Version: a TLS 1.2-only getcert against the default server works.
timeout 20 "$TLSSHIM" --ssl-version TLSv1_2 --getcert "127.0.0.1:$port" >"$T/v12.pem" \
	|| fail "--getcert --ssl-version TLSv1_2"
cmp "$T/got.pem" "$T/v12.pem" || fail "--getcert TLSv1_2 differs"

# --peercert: what Python's ssl module says, for the seed's keys.
py_peercert() { # host port [server_hostname]
	python3 - "$@" <<'PY'
import os, pprint, socket, ssl, sys
host, port = sys.argv[1], int(sys.argv[2])
name = sys.argv[3] if len(sys.argv) > 3 else None
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(os.environ['CA'])
with socket.create_connection((host, port), timeout=10) as s:
    with ctx.wrap_socket(s, server_hostname=name or host) as t:
        c = t.getpeercert()
print(pprint.pformat({k: c[k] for k in ('subject', 'notAfter', 'subjectAltName') if k in c}))
PY
}
CA=$CERTS/ca.pem py_peercert 127.0.0.1 "$port" >"$T/py.txt" || fail "python's getpeercert"
for hp in "127.0.0.1:$port" "localhost:$port" "[::1]:$port"; do
	timeout 20 "$TLSSHIM" --ca-certs "$CERTS/ca.pem" --peercert "$hp" >"$T/ours.txt" 2>"$T/err" \
		|| { cat "$T/err" >&2; fail "--peercert $hp"; }
	diff "$T/py.txt" "$T/ours.txt" >&2 || fail "--peercert $hp differs from Python's getpeercert()"
done
# A certificate with multi-valued RDNs, OIDs without names and IPv6 SANs.
port3=$(free_port)
start_bg 60 openssl s_server -accept "$port3" -cert "$CERTS/multirdn.pem" \
	-key "$CERTS/multirdn.key" -quiet -naccept 100 </dev/null >"$T/server3.log" 2>&1
wait_port "$port3"
CA=$CERTS/ca.pem py_peercert 127.0.0.1 "$port3" multi.example >"$T/py3.txt" || fail "python multirdn"
timeout 20 "$TLSSHIM" --ca-certs "$CERTS/ca.pem" --server-hostname multi.example \
	--peercert "127.0.0.1:$port3" >"$T/ours3.txt" || fail "--peercert multirdn"
diff "$T/py3.txt" "$T/ours3.txt" >&2 || fail "--peercert multirdn differs from Python"

# Validation failures: exit 1, OpenSSL's reason, nothing on stdout.
check_fails() { # needle args...
	_needle=$1; shift
	timeout 20 "$TLSSHIM" "$@" >"$T/out" 2>"$T/err"
	_rc=$?
	[ "$_rc" -eq 1 ] || { cat "$T/err" >&2; fail "$*: exit $_rc, expected 1"; }
	[ ! -s "$T/out" ] || fail "$*: printed something"
	assert_contains "$T/err" "$_needle" "$*"
}
check_fails "certificate verify failed" --ca-certs "$CERTS/other-ca.pem" --peercert "127.0.0.1:$port"
check_fails "certificate verify failed" --ca-certs "$CERTS/ca.pem" --peercert "127.0.0.1:$port2"
check_fails "hostname mismatch\|certificate verify failed" --ca-certs "$CERTS/ca.pem" \
	--server-hostname wrong.example --peercert "127.0.0.1:$port"
closed=$(free_port)
check_fails "Connection refused" --ca-certs "$CERTS/ca.pem" --peercert "127.0.0.1:$closed"
check_fails "Connection refused\|cannot\|refused" --getcert "127.0.0.1:$closed"
check_fails "cannot load CA\|No such file" --ca-certs "$T/none.pem" --peercert "127.0.0.1:$port"
check_fails "--ssl-version" --ssl-version TLSv9 --getcert "127.0.0.1:$port"
exit 0
