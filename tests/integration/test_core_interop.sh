#!/bin/sh
# libsslsocket against real peers: openssl s_server / s_client and Python's
# ssl module, through tests/progs/sslsocket_client and sslsocket_server.
. "$(dirname "$0")/lib.sh"

CLIENT=$PROGS/sslsocket_client
SERVER=$PROGS/sslsocket_server
[ -x "$CLIENT" ] && [ -x "$SERVER" ] && [ -x "$PROGS/version_table" ] || fail "build the progs first (make progs)"

# s_server PORT ARGS...: an openssl s_server in the background ($BG_PID).
# Our client half-closes at stdin EOF; s_server -rev may drop a line that
# arrives together with the close_notify, so stdin stays open a moment.
s_server() {
	_p=$1; shift
	start_bg 20 openssl s_server -accept "$_p" -naccept 1 -quiet "$@"
	wait_port "$_p"
}

echo "== our client, openssl s_server -rev: verified, hostname checked"
port=$(free_port)
s_server "$port" -cert "$CERTS/server.pem" -key "$CERTS/server.key" -rev >"$T/s1.log" 2>&1
(printf 'hello\n'; sleep 0.5) | timeout 10 "$CLIENT" --ca "$CERTS/ca.pem" --cert-reqs required \
	--server-hostname localhost --info 127.0.0.1 "$port" >"$T/c1.out" 2>"$T/c1.err" \
	|| { cat "$T/c1.err"; fail "client against s_server"; }
assert_contains "$T/c1.out" "olleh" "s_server reversed our line"
assert_contains "$T/c1.err" "^cipher: TLS_AES_256_GCM_SHA384 TLSv1.3 256" "cipher line"
assert_contains "$T/c1.err" "^verify: ok" "verification"
assert_contains "$T/c1.err" "'commonName', 'localhost'" "peer certificate dictionary"
stop_bg "$BG_PID"

echo "== our client negotiates down to a TLS 1.2-only s_server"
port=$(free_port)
s_server "$port" -cert "$CERTS/server.pem" -key "$CERTS/server.key" -tls1_2 -rev >"$T/s2.log" 2>&1
(printf 'abc\n'; sleep 0.5) | timeout 10 "$CLIENT" --info 127.0.0.1 "$port" >"$T/c2.out" 2>"$T/c2.err" \
	|| { cat "$T/c2.err"; fail "client against s_server -tls1_2"; }
assert_contains "$T/c2.out" "cba" "reply"
assert_contains "$T/c2.err" "^cipher: .* TLSv1.2 " "negotiated TLS 1.2"
stop_bg "$BG_PID"

echo "== our client pinned to TLSv1_3 refuses a TLS 1.2-only s_server"
port=$(free_port)
s_server "$port" -cert "$CERTS/server.pem" -key "$CERTS/server.key" -tls1_2 >"$T/s3.log" 2>&1
if printf 'x\n' | timeout 10 "$CLIENT" --version PROTOCOL_TLSv1_3 127.0.0.1 "$port" >"$T/c3.out" 2>"$T/c3.err"; then
	fail "TLSv1_3 client connected to a TLS 1.2 server"
fi
assert_contains "$T/c3.err" "protocol version" "reason names the version"
stop_bg "$BG_PID"

echo "== our client rejects a self-signed s_server with the reason"
port=$(free_port)
s_server "$port" -cert "$CERTS/selfsigned.pem" -key "$CERTS/selfsigned.key" >"$T/s4.log" 2>&1
if printf 'x\n' | timeout 10 "$CLIENT" --ca "$CERTS/ca.pem" --cert-reqs required 127.0.0.1 "$port" \
	>"$T/c4.out" 2>"$T/c4.err"; then
	fail "client accepted a self-signed server"
fi
assert_contains "$T/c4.err" "certificate verify failed: self-signed certificate" "reason"
[ -s "$T/c4.out" ] && fail "data flowed after a failed verification"
stop_bg "$BG_PID"

echo "== client certificates: s_server -Verify 1"
port=$(free_port)
s_server "$port" -cert "$CERTS/server.pem" -key "$CERTS/server.key" -Verify 1 \
	-CAfile "$CERTS/ca.pem" -rev >"$T/s5.log" 2>&1
(printf 'mtls\n'; sleep 0.5) | timeout 10 "$CLIENT" --cert "$CERTS/client.pem" --key "$CERTS/client.key" \
	127.0.0.1 "$port" >"$T/c5.out" 2>"$T/c5.err" || { cat "$T/c5.err"; fail "mTLS client"; }
assert_contains "$T/c5.out" "sltm" "reply over mTLS"
stop_bg "$BG_PID"
port=$(free_port)
s_server "$port" -cert "$CERTS/server.pem" -key "$CERTS/server.key" -Verify 1 \
	-CAfile "$CERTS/ca.pem" -rev >"$T/s6.log" 2>&1
if printf 'x\n' | timeout 10 "$CLIENT" 127.0.0.1 "$port" >"$T/c6.out" 2>"$T/c6.err"; then
	fail "client without a certificate was accepted"
fi
assert_contains "$T/c6.err" "certificate required" "refusal reason"
stop_bg "$BG_PID"

echo "== openssl s_client against our server"
port=$(free_port)
start_bg 20 "$SERVER" --cert "$CERTS/server.pem" --key "$CERTS/server.key" --once "$port" 2>"$T/srv7.err"
srv=$BG_PID
wait_port "$port"
(printf 'hello from s_client\n'; sleep 1) | timeout 10 openssl s_client -connect "127.0.0.1:$port" \
	-CAfile "$CERTS/ca.pem" -verify_return_error -servername localhost -quiet >"$T/c7.out" 2>"$T/c7.err"
assert_contains "$T/c7.out" "hello from s_client" "echo through our server"
wait "$srv" || { cat "$T/srv7.err"; fail "our server exited with an error"; }

echo "== s_client with a client certificate against our CERT_REQUIRED server"
port=$(free_port)
start_bg 20 "$SERVER" --cert "$CERTS/server.pem" --key "$CERTS/server.key" --cert-reqs required \
	--ca "$CERTS/ca.pem" --info --reply "welcome" --once "$port" 2>"$T/srv8.err"
srv=$BG_PID
wait_port "$port"
(sleep 1) | timeout 10 openssl s_client -connect "127.0.0.1:$port" -cert "$CERTS/client.pem" \
	-key "$CERTS/client.key" -CAfile "$CERTS/ca.pem" -quiet >"$T/c8.out" 2>"$T/c8.err"
assert_contains "$T/c8.out" "welcome" "reply"
wait "$srv" || { cat "$T/srv8.err"; fail "our server failed"; }
assert_contains "$T/srv8.err" "^verify: ok" "server verified the client"
assert_contains "$T/srv8.err" "tlsshim test client" "client certificate subject"

echo "== our server resumes sessions (s_client -reconnect, TLS 1.2)"
port=$(free_port)
start_bg 20 "$SERVER" --cert "$CERTS/server.pem" --key "$CERTS/server.key" --reply "r" "$port" 2>"$T/srv9.err"
srv=$BG_PID
wait_port "$port"
timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_2 -reconnect </dev/null >"$T/c9.out" 2>&1
reused=$(grep -c '^Reused, TLSv1.2' "$T/c9.out")
[ "$reused" -ge 5 ] || { cat "$T/c9.out" | head -50; fail "expected 5 resumed sessions, got $reused"; }
stop_bg "$srv"

echo "== Python's ssl as a client of our server (ALPN too)"
port=$(free_port)
start_bg 20 "$SERVER" --cert "$CERTS/server.pem" --key "$CERTS/server.key" --alpn h2 --alpn http/1.1 \
	--once "$port" 2>"$T/srv10.err"
srv=$BG_PID
wait_port "$port"
timeout 10 python3 - "$port" "$CERTS/ca.pem" >"$T/py10.out" 2>&1 <<'PY' || { cat "$T/py10.out"; fail "python client"; }
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.set_alpn_protocols(["http/1.1", "h2"])
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"from python")
        data = b""
        while len(data) < 11:
            data += s.recv(100)
        print(s.version(), s.selected_alpn_protocol(), data.decode())
        s.unwrap()
PY
assert_contains "$T/py10.out" "TLSv1.3 h2 from python" "python round trip"
wait "$srv" || { cat "$T/srv10.err"; fail "our server failed with python"; }

echo "== our client against Python's ssl server: clean close, ragged EOF"
# (A file, not a here-document: a background job's stdin is /dev/null.)
cat >"$T/pysrv.py" <<'PY'
import socket, ssl, sys
port, cert, key, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(1)
conn, _ = ls.accept()
s = ctx.wrap_socket(conn, server_side=True)
s.sendall(b"python says hi\n")
if mode == "clean":
    s.unwrap().close()     # close_notify both ways
else:
    s.close()              # Python's close() sends no close_notify
PY
for mode in clean ragged suppressed; do
	port=$(free_port)
	pymode=$mode
	[ "$mode" = suppressed ] && pymode=ragged
	start_bg 20 python3 "$T/pysrv.py" "$port" "$CERTS/server.pem" "$CERTS/server.key" "$pymode" \
		>"$T/pysrv.$mode" 2>&1
	pysrv=$BG_PID
	wait_port "$port"
	flag=--no-suppress-ragged-eofs
	[ "$mode" = suppressed ] && flag=--info
	timeout 10 "$CLIENT" --no-shutdown $flag 127.0.0.1 "$port" </dev/null >"$T/c11.$mode" 2>"$T/e11.$mode"
	rc=$?
	assert_contains "$T/c11.$mode" "python says hi" "data before the end ($mode)"
	case $mode in
	clean|suppressed)
		[ $rc -eq 0 ] || { cat "$T/e11.$mode"; fail "$mode end should give status 0"; } ;;
	ragged)
		[ $rc -eq 1 ] || fail "unsuppressed ragged EOF should fail (status $rc)"
		assert_contains "$T/e11.$mode" "EOF occurred in violation of protocol" "ragged EOF reason" ;;
	esac
	stop_bg "$pysrv"
done

echo "== the version table follows OpenSSL's security level (a real probe)"
"$PROGS/version_table" "$CERTS" >"$T/vt.default"
grep -q '^| TLSv1  *| n/a  *| n/a  *| n/a ' "$T/vt.default" || { cat "$T/vt.default"; fail "TLSv1 should be n/a at the default level"; }
grep -q '^| SSLv23  *| n/a  *| n/a  *| TLSv1.3 ' "$T/vt.default" || { cat "$T/vt.default"; fail "SSLv23 pair"; }
cat >"$T/sec0.cnf" <<'CNF'
openssl_conf = default_conf
[default_conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
CipherString = DEFAULT:@SECLEVEL=0
CNF
OPENSSL_CONF=$T/sec0.cnf "$PROGS/version_table" "$CERTS" >"$T/vt.sec0"
grep -q '^| TLSv1  *| n/a  *| n/a  *| no  *| TLSv1  *| no ' "$T/vt.sec0" || { cat "$T/vt.sec0"; fail "TLSv1 at security level 0"; }
# PROTOCOL_SSLv23 negotiates from TLS 1.2 up: never down to 1.0 or 1.1.
grep -q '^| SSLv23  *| n/a  *| n/a  *| TLSv1.3  *| no  *| no  *| TLSv1.2 ' "$T/vt.sec0" || { cat "$T/vt.sec0"; fail "SSLv23 at security level 0"; }
cat "$T/vt.default"
echo "all core interop checks passed"
