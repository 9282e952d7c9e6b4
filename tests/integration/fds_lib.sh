# Sourced by tests/integration/test_fds_*.sh after lib.sh: TLS peers that
# report how a stream ended, and a recording plain listener.

# tls_drain.py: reads a TLS stream to its end and prints "clean DATA" (it
# ended with close_notify) or "ragged DATA" (it did not), newlines as "|".
tls_drain_py() {
	cat >"$T/tls_drain.py" <<'PY'
import ssl

def drain(s):
    data, how = b"", "clean"
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except (ssl.SSLEOFError, ConnectionResetError):
        how = "ragged"
    return "%s %s" % (how, data.decode(errors="replace").replace("\n", "|"))
PY
}

# tls_collect PORT REPORT: a TLS server (python ssl, the test PKI) that
# accepts one client, reads to the end and writes what tls_drain.py says to REPORT.
# Started with start_bg; its PID is in $BG_PID.
tls_collect() {
	tls_drain_py
	cat >"$T/tls_collect.py" <<'PY'
import socket, ssl, sys
from tls_drain import drain
port, report, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.create_server(("127.0.0.1", port))
c, _ = ls.accept()
s = ctx.wrap_socket(c, server_side=True, suppress_ragged_eofs=False)
with open(report, "w") as f:
    f.write(drain(s) + "\n")
PY
	start_bg 20 python3 "$T/tls_collect.py" "$1" "$2" "$CERTS/server.pem" "$CERTS/server.key"
}

# recorder PORT FILE [HOST]: a plain TCP listener on HOST (127.0.0.1) that
# accepts one connection, writes the first bytes it receives (up to 4 KiB,
# within 5 s) to FILE and closes it. Started with start_bg; its PID is in
# $BG_PID.
recorder() {
	cat >"$T/recorder.py" <<'PY'
import socket, sys
port, out = int(sys.argv[1]), sys.argv[2]
host = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
ls = socket.create_server((host, port),
                          family=socket.AF_INET6 if ":" in host else socket.AF_INET)
c, _ = ls.accept()
c.settimeout(5)
try:
    data = c.recv(4096)
except OSError:
    data = b""
with open(out, "wb") as f:
    f.write(data)
c.close()
PY
	start_bg 20 python3 "$T/recorder.py" "$@"
}

# assert_tls_or_nothing FILE WHAT: the recorded bytes hold no "SECRET" and
# are either nothing or a TLS handshake record (0x16 0x03).
assert_tls_or_nothing() {
	assert_not_contains "$1" SECRET "$2: plaintext on the wire"
	if [ -s "$1" ]; then
		_h=$(od -An -tx1 -N2 "$1" | tr -d ' \n')
		assert_eq 1603 "$_h" "$2: the first bytes are a TLS handshake record"
	fi
}
