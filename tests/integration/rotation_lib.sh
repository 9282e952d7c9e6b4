# rotation_lib.sh - sourced by the test_trust_rotation_* tests: a PKI made
# at test time, a plain echo server, and TLS client loops that record
# what each connection saw.

# mkcert NAME CA_NAME DAYS: $T/NAME.pem and $T/NAME.key, CN=localhost,
# SAN localhost/127.0.0.1, signed by $T/CA_NAME.{pem,key}.
mkcert() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$1.key" 2>/dev/null
	openssl req -new -key "$T/$1.key" -subj "/O=rotation $1/CN=localhost" -out "$T/$1.csr" 2>/dev/null
	openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.pem" -CAkey "$T/$2.key" -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
		-days "$3" -extfile "$CERTS/ext.cnf" -extensions server_ext -out "$T/$1.pem" 2>/dev/null ||
		fail "cannot make certificate $1"
	rm -f "$T/$1.csr"
}
# mkca NAME: a CA in $T/NAME.{pem,key}.
mkca() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$1.key" 2>/dev/null
	openssl req -new -x509 -key "$T/$1.key" -subj "/CN=rotation $1" -days 30 \
		-config "$CERTS/ext.cnf" -extensions ca_ext -out "$T/$1.pem" 2>/dev/null || fail "cannot make CA $1"
}
# org_of PEM: the O= of the certificate (which one is served).
org_of() { openssl x509 -in "$1" -noout -subject -nameopt multiline | sed -n 's/^ *organizationName *= *//p'; }

# A threaded echo server: each connection gets its first line back.
ECHO_SERVER='
import socket, sys, threading
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(128)
def serve(c):
    try:
        f = c.makefile("rb"); line = f.readline(); c.sendall(line)
    except Exception:
        pass
    finally:
        c.close()
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'

# A TLS client loop: connects to 127.0.0.1:PORT trusting CAFILE until
# STOPFILE exists; one line per connection: "MONOTONIC_START ok O" or
# "MONOTONIC_START FAIL reason".
TLS_CLIENT_LOOP='
import os, socket, ssl, sys, time
port, cafile, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3]
out = open(sys.argv[4], "w", buffering=1)
while not os.path.exists(stop):
    t = time.monotonic()
    try:
        ctx = ssl.create_default_context(cafile=cafile)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"ping\n")
                if s.recv(16) != b"ping\n":
                    raise RuntimeError("bad echo")
                subj = dict(x[0] for x in s.getpeercert()["subject"])
                out.write("%.6f ok %s\n" % (t, subj["organizationName"].replace(" ", "_")))
    except Exception as e:
        out.write("%.6f FAIL %s\n" % (t, str(e).replace("\n", " ")))
    time.sleep(0.01)
'
# now_mono: the monotonic clock, as the loops record it.
now_mono() { python3 -c 'import time; print("%.6f" % time.monotonic())'; }

# wait_served LOG ORG SINCE: until a connection started after SINCE was
# served ORG (at most 10 s); prints the latency in ms.
wait_served() {
	python3 - "$@" <<'PY'
import sys, time
log, org, since = sys.argv[1], sys.argv[2].replace(" ", "_"), float(sys.argv[3])
end = time.monotonic() + 10
while time.monotonic() < end:
    try:
        lines = open(log).readlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        p = line.split()
        if len(p) >= 3 and p[1] == "ok" and p[2] == org and float(p[0]) >= since:
            print(int((float(p[0]) - since) * 1000))
            sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
PY
}

# A TLS server (not wrapped) asking for a client certificate from
# $3 (CA bundle); it loads $2.pem (key and certificate) for each
# connection, so renaming a file over it switches what it serves. Each
# client sends its start time; the server appends "START O-of-the-client-
# certificate" to $4 and echoes the line. The file is read once per
# connection and loaded from a private copy: load_cert_chain opens its
# path twice (certificate, then key), and a rename between the two would
# pair one certificate with the other key (the server would reset that
# client: a race of the test, not of the client under test).
TLS_MTLS_SERVER='
import os, socket, ssl, sys, tempfile, threading
port, base, cafile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rec = open(sys.argv[4], "a", buffering=1)
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port)); l.listen(128)
def serve(c):
    try:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with open(base + ".pem", "rb") as f:
            pem = f.read()
        with tempfile.NamedTemporaryFile(dir=os.path.dirname(base) or ".", suffix=".pem") as snap:
            snap.write(pem); snap.flush()
            ctx.load_cert_chain(snap.name)
        ctx.load_verify_locations(cafile); ctx.verify_mode = ssl.CERT_REQUIRED
        s = ctx.wrap_socket(c, server_side=True)
        line = s.makefile("rb").readline()
        subj = dict(x[0] for x in s.getpeercert()["subject"])
        rec.write("%s %s\n" % (line.decode().strip(), subj["organizationName"].replace(" ", "_")))
        s.sendall(line); s.close()
    except Exception:
        c.close()
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'

# A plain client loop (to be wrapped): sends its start time, expects it
# back; one line per connection as TLS_CLIENT_LOOP.
PLAIN_CLIENT_LOOP='
import os, socket, sys, time
port, stop = int(sys.argv[1]), sys.argv[2]
out = open(sys.argv[3], "w", buffering=1)
while not os.path.exists(stop):
    t = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            msg = b"%.6f\n" % t
            s.sendall(msg)
            if s.makefile("rb").readline() != msg:
                raise RuntimeError("bad echo")
            out.write("%.6f ok -\n" % t)
    except Exception as e:
        out.write("%.6f FAIL %s\n" % (t, str(e).replace("\n", " ")))
    time.sleep(0.01)
'

# check_switch LOG SINCE OLD NEW: in LOG ("START O" lines), connections
# that started 1 s or more after SINCE carry NEW, never OLD, and at least
# one does; prints the ms from SINCE to the first start that carried NEW.
check_switch() {
	python3 - "$@" <<'PY'
import sys
log, since, old, new = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = [l.split() for l in open(log) if len(l.split()) >= 2]
after = [(float(r[0]), r[-1]) for r in rows if float(r[0]) >= since]
for t, o in after:
    if t >= since + 1.0 and o.endswith(old):
        print("old %s at +%.3f s" % (old, t - since)); sys.exit(1)
first = [t for t, o in after if o.endswith(new)]
if not first:
    print("never %s" % new); sys.exit(1)
print(int((min(first) - since) * 1000))
PY
}

# wait_log FILE TEXT COUNT SINCE: until FILE holds COUNT lines with TEXT
# (at most 10 s); prints the ms since SINCE (monotonic).
wait_log() {
	_n=0
	until [ "$(grep -c -- "$2" "$1" 2>/dev/null || true)" -ge "$3" ] 2>/dev/null; do
		_n=$((_n + 1)); [ $_n -lt 400 ] || return 1; sleep 0.025
	done
	python3 -c 'import sys,time; print(int((time.monotonic()-float(sys.argv[1]))*1000))' "$4"
}
