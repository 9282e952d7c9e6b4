#!/bin/sh
# Secure defaults, measured by someone else's scanner: testssl.sh against a
# server wrapped with the default rule (no ssl_version, no ciphers) and an
# RSA certificate (so suites without forward secrecy, RSA key exchange,
# could be picked if the server allowed them). It must find TLS 1.2 and
# 1.3 only, no obsolete CBC suite, every suite with an ephemeral key
# exchange (ECDHE or DHE) and an AEAD cipher, and client-initiated
# renegotiation refused. The server prefers its own order of suites.
. "$(dirname "$0")/lib.sh"
command -v testssl >/dev/null 2>&1 || fail "testssl is missing (Debian package testssl.sh; sh tests/deps.sh test)"

P=$(free_port)
start_bg 300 "$TLSSHIM" --accept "127.0.0.1:$P" --certfile "$CERTS/rsa.pem" --keyfile "$CERTS/rsa.key" -- \
	python3 -c "
import socket, sys, threading
def serve(c):   # an echo server: the connection stays up for the renegotiation check
    try:
        while True:
            b = c.recv(4096)
            if not b:
                break
            c.sendall(b)
    except OSError:
        pass
    c.close()
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('127.0.0.1', int(sys.argv[1]))); l.listen(64)
while True:
    try:
        c, _ = l.accept()   # the handshake happens here; a scanner's probe that fails it raises
    except OSError:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()" "$P" 2>"$T/server.log"
srv=$BG_PID
wait_port "$P" 20

# The server picks the suite from its own list, not the client's order.
out=$(timeout 10 openssl s_client -connect 127.0.0.1:$P -tls1_2 \
	-cipher ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384 </dev/null 2>/dev/null)
echo "$out" | grep -q "Cipher is ECDHE-RSA-AES256-GCM-SHA384" \
	|| { echo "$out" | head -40; fail "the server's preference"; }

# -p protocols, -s cipher categories, -E every suite per protocol, -R
# renegotiation; testssl's own sockets and /usr/bin/openssl.
timeout 240 testssl --quiet --color 0 --warnings off --ip 127.0.0.1 --openssl /usr/bin/openssl \
	-p -s -E -R --jsonfile "$T/scan.json" "127.0.0.1:$P" >"$T/scan.txt" 2>&1
rc=$?
[ -s "$T/scan.json" ] || { cat "$T/scan.txt"; fail "testssl wrote no JSON (exit $rc)"; }
kill -0 "$srv" 2>/dev/null || { cat "$T/server.log"; fail "the wrapped server died during the scan"; }
cat "$T/scan.txt"

python3 - "$T/scan.json" <<'PY' || fail "testssl's findings (above)"
import json, sys
f = {}
suites = []
for e in json.load(open(sys.argv[1])):
    if e["id"].startswith("cipher-tls") or e["id"].startswith("cipher-ssl"):
        suites.append(e["finding"])
    else:
        f[e["id"]] = e["finding"]
bad = []
def want(id, pred, what):
    if id not in f:
        bad.append("%s: no finding" % id)
    elif not pred(f[id]):
        bad.append("%s: %r, expected %s" % (id, f[id], what))
for p in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
    want(p, lambda v: v.startswith("not offered"), "not offered")
for p in ("TLS1_2", "TLS1_3"):
    want(p, lambda v: v.startswith("offered"), "offered")
# Obsolete CBC suites are testssl's AVERAGE category.
for c in ("NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE"):
    want("cipherlist_" + c, lambda v: v == "not offered", "not offered")
want("cipherlist_STRONG", lambda v: v == "offered", "offered")
want("secure_client_renego", lambda v: v == "not vulnerable", "not vulnerable")
# "TLS 1.2   xc02f   ECDHE-RSA-AES128-GCM-SHA256   ECDH 253   AESGCM   128   TLS_ECDHE_..."
seen = set()
for s in suites:
    w = s.split()
    proto, name, kx, enc = w[0] + " " + w[1], w[3], w[4], w[-3]
    seen.add(proto)
    if proto not in ("TLS 1.2", "TLS 1.3"):
        bad.append("suite offered over %s: %s" % (proto, s))
    if kx not in ("ECDH", "DH"):
        bad.append("suite without forward secrecy: %s" % s)
    if enc not in ("AESGCM", "ChaCha20"):
        bad.append("suite without AEAD: %s" % s)
if seen != {"TLS 1.2", "TLS 1.3"}:
    bad.append("suites listed for %s, expected TLS 1.2 and TLS 1.3" % sorted(seen))
for b in bad:
    print("FAIL:", b)
if bad:
    sys.exit(1)
print("testssl: %d suites, all TLS 1.2/1.3 with forward secrecy and AEAD" % len(suites))
PY
stop_bg "$srv"
echo "testssl finds the default rule secure"
