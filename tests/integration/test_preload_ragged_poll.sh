#!/bin/sh
# The end of a connection without close_notify, for a program that polls
# before each read, as every event loop does: a reset after the handshake
# is ECONNRESET (the network's error, as on a plain socket, not a TLS
# failure), and so is a ragged EOF with suppress_ragged_eofs = false
# (CONTRACT.md), on every read after it; with the default a ragged EOF is
# a read of 0. poll finds the end first; the errno comes from the
# connection's state in the core, as for a program that reads without
# polling. (The preload once kept its own failed flag, which poll set for
# any failure: a reset found by poll made every read EPROTO.)
. "$(dirname "$0")/lib.sh"

cat >"$T/server.py" <<'PY'
import socket, ssl, struct, sys
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.create_server(("127.0.0.1", port))
c, _ = ls.accept()
s = ctx.wrap_socket(c, server_side=True)
s.recv(100)
s.sendall(b"x" * 5000)
s.recv(100)  # the client has all of it
if sys.argv[4] == "reset":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()  # no close_notify: the client sees a ragged EOF, or a reset
PY
cat >"$T/client.py" <<'PY'
import errno, select, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"hello")
p = select.poll()
p.register(s, select.POLLIN)
total, ends = 0, []
while len(ends) < 3:
    if not p.poll(10000):
        ends.append("poll timed out")
        break
    try:
        b = s.recv(65536)
    except OSError as e:
        ends.append(errno.errorcode[e.errno])
        continue
    if not b:
        ends.append("0")
        if len(ends) == 1:
            break
    total += len(b)
    if total == 5000:
        s.sendall(b"ok")
print("total=%d ends=%s" % (total, ",".join(ends)))
PY

run() { # eof|reset extra-rule-keys
	P=$(free_port)
	start_bg 20 python3 "$T/server.py" $P "$CERTS/server.pem" "$CERTS/server.key" $1
	wait_port $P
	TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; $2 });" \
		LD_PRELOAD=$PRELOAD timeout 20 python3 "$T/client.py" $P 2>"$T/err" || fail "client: $(tail -3 "$T/err")"
}

out=$(run eof "suppress_ragged_eofs = false;")
assert_eq "total=5000 ends=ECONNRESET,ECONNRESET,ECONNRESET" "$out" "polled reads after a ragged EOF"
out=$(run eof "")
assert_eq "total=5000 ends=0" "$out" "a ragged EOF suppressed"
out=$(run reset "suppress_ragged_eofs = false;")
assert_eq "total=5000 ends=ECONNRESET,ECONNRESET,ECONNRESET" "$out" "polled reads after a reset"
out=$(run reset "")
assert_eq "total=5000 ends=ECONNRESET,ECONNRESET,ECONNRESET" "$out" "a reset is no EOF to suppress"
echo "ragged EOF and reset after poll ok"
