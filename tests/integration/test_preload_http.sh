#!/bin/sh
# Real HTTP tools: curl (plain http://) under a connect rule fetches from a
# Python HTTPS server; a Python client reaches it through a name rule
# (getaddrinfo resolved "localhost": the rule matches the name, SNI and the
# certificate check use it; curl resolves "localhost" itself, without
# getaddrinfo, so it cannot show that); and
# `python3 -m http.server` under an accept rule serves curl --cacert over
# https://.
. "$(dirname "$0")/lib.sh"
sanitizer_skip_wraps curl

mkdir "$T/www"
head -c 300000 /dev/urandom >"$T/www/blob"

# --- curl under --connect (a name rule) to an HTTPS server ----------------
cat >"$T/https.py" <<'PY'
import http.server, socket, ssl, sys, os
port, cert, key, root = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
os.chdir(root)
class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
httpd = Server(("::", port), Quiet)
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
httpd.serve_forever()
PY
P=$(free_port)
start_bg 60 python3 "$T/https.py" $P "$CERTS/server.pem" "$CERTS/server.key" "$T/www"
wait_port $P
TLSSHIM_LOG=info \
TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; server_hostname = \"localhost\"; });" \
	LD_PRELOAD=$PRELOAD timeout 20 curl -sS -o "$T/got1" http://127.0.0.1:$P/blob 2>"$T/log1"
rc=$?
[ $rc -eq 0 ] || { cat "$T/log1" >&2; fail "curl http:// through TLS: exit $rc"; }
cmp -s "$T/www/blob" "$T/got1" || fail "curl fetched different bytes"
grep -Eq "connect 127\.0\.0\.1:$P TLSv1\.3 .* verify=ok" "$T/log1" || { cat "$T/log1" >&2; fail "info line"; }

cat >"$T/client.py" <<'PY'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port))
s.sendall(b"GET /blob HTTP/1.0\r\nHost: x\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
s.close()
sys.stdout.write(data.split(b"\r\n", 1)[0].decode() + "\n")
PY
# a name rule: "localhost" as resolved by getaddrinfo, with the wrong
# server_hostname nowhere: SNI and the check use the resolved name
TLSSHIM_LOG=debug \
TLSSHIM_CONFIG_STRING="connect = ({ match = \"localhost:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
	LD_PRELOAD=$PRELOAD timeout 20 python3 "$T/client.py" localhost $P >"$T/out3" 2>"$T/log3" ||
	{ cat "$T/log3" >&2; fail "python client through a name rule"; }
assert_eq "HTTP/1.0 200 OK" "$(cat "$T/out3")" "name rule: status line"
assert_contains "$T/log3" "server name localhost" "SNI is the resolved name"
# the same rule does not match an address nobody resolved: the request
# goes out plain and the HTTPS server drops it
TLSSHIM_CONFIG_STRING="connect = ({ match = \"localhost:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
	LD_PRELOAD=$PRELOAD timeout 20 python3 "$T/client.py" 127.0.0.1 $P >"$T/out4" 2>/dev/null
[ "$(cat "$T/out4")" = "HTTP/1.0 200 OK" ] && fail "a name rule matched an IP literal nobody resolved"

# --- python3 -m http.server under --accept, curl --cacert https:// -------
P2=$(free_port)
TLSSHIM_LOG=info \
TLSSHIM_CONFIG_STRING="accept = ({ match = \"*:$P2\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; });" \
	LD_PRELOAD=$PRELOAD start_bg 60 python3 -m http.server $P2 --bind 127.0.0.1 \
	--directory "$T/www" >/dev/null 2>"$T/log2"
wait_port $P2
for i in 1 2 3; do
	timeout 20 curl -sS --cacert "$CERTS/ca.pem" -o "$T/got2" https://localhost:$P2/blob ||
		fail "curl https:// to http.server under tlsshim (request $i)"
	cmp -s "$T/www/blob" "$T/got2" || fail "https fetched different bytes"
done
sleep 0.2
[ "$(grep -c 'accept 127.0.0.1:[0-9]* TLSv1.3' "$T/log2")" -ge 3 ] || { cat "$T/log2" >&2; fail "accept lines"; }
