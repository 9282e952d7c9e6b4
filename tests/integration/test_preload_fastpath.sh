#!/bin/sh
# The pass-through test of the read and write hooks masks the descriptor
# into the table instead of bounds-checking it. A number the mask folds
# onto a wrapped connection (fd + 2^20, or a negative one) must reach
# libc and fail there (EBADF), never read or write the TLS connection.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$CERTS/server.pem" -key "$CERTS/server.key" \
	-naccept 1 >"$T/server.out" 2>&1
wait_port $P
TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
	LD_PRELOAD=$PRELOAD timeout 10 python3 -c '
import errno, os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
fd = s.fileno()
out = []
for bad in (fd + (1 << 20), fd - (1 << 20), -1):
    for op in ("read", "write"):
        try:
            os.read(bad, 10) if op == "read" else os.write(bad, b"SECRET\n")
            out.append("%s(%d)=ok" % (op, bad - fd))
        except OSError as e:
            out.append("%s=%s" % (op, errno.errorcode[e.errno]))
s.sendall(b"ping\n")
out.append("tls=" + s.recv(64).decode().strip())
print(" ".join(out))
' $P >"$T/out" 2>"$T/log" || { cat "$T/log"; fail "client"; }
assert_eq "read=EBADF write=EBADF read=EBADF write=EBADF read=EBADF write=EBADF tls=gnip" \
	"$(cat "$T/out")" "folded descriptor numbers reach libc; the connection is intact"
stop_bg $BG_PID
assert_not_contains "$T/server.out" "SECRET" "nothing written through a folded number"
echo ok
