#!/bin/sh
# The pass-through test of every descriptor hook (TS_PLAIN, fdtab.h) masks
# the descriptor into the table instead of bounds-checking it. A number the
# mask folds onto a wrapped connection (fd + 2^20, or a negative one) must
# reach libc and fail there (EBADF), never read, write, close, duplicate or
# reconfigure the TLS connection: the slow path's lookup is exact.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$CERTS/server.pem" -key "$CERTS/server.key" \
	-naccept 1 >"$T/server.out" 2>&1
wait_port $P
TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
	LD_PRELOAD=$PRELOAD timeout 10 python3 -c '
import ctypes, errno, fcntl, os, socket, sys, termios
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
fd = s.fileno()
out = []
libc = ctypes.CDLL(None, use_errno=True)  # the hooks of the preload come first
libc.fdopen.restype = ctypes.c_void_p
buf = ctypes.create_string_buffer(64)
one = ctypes.c_int(1)
ln = ctypes.c_uint(4)
ops = {
    "read": lambda b: os.read(b, 10),
    "write": lambda b: os.write(b, b"SECRET\n"),
    "recv": lambda b: libc.recv(b, buf, 10, 0),
    "send": lambda b: libc.send(b, b"SECRET\n", 7, 0),
    "close": lambda b: libc.close(b),
    "shutdown": lambda b: libc.shutdown(b, socket.SHUT_RDWR),
    "dup": lambda b: libc.dup(b),
    "dup2": lambda b: libc.dup2(b, 1000),
    "fcntl": lambda b: libc.fcntl(b, fcntl.F_SETFL, os.O_NONBLOCK),
    "ioctl": lambda b: libc.ioctl(b, termios.FIONREAD, ctypes.byref(one)),
    "setsockopt": lambda b: libc.setsockopt(b, socket.SOL_SOCKET, socket.SO_KEEPALIVE,
                                            ctypes.byref(one), 4),
    "getsockopt": lambda b: libc.getsockopt(b, socket.SOL_SOCKET, socket.SO_ERROR,
                                            buf, ctypes.byref(ln)),
    "dprintf": lambda b: libc.dprintf(b, b"SECRET\n"),
    "fdopen": lambda b: libc.fdopen(b, b"w"),
}
for bad in (fd + (1 << 20), fd - (1 << 20), -1):
    for name, op in ops.items():
        ctypes.set_errno(0)
        try:
            r = op(bad)
            e = ctypes.get_errno() if r in (-1, None) else 0
        except OSError as x:
            e = x.errno
        if e != errno.EBADF:
            out.append("%s(%d)=%s" % (name, bad - fd, errno.errorcode.get(e, e)))
out.append("all=EBADF")
s.sendall(b"ping\n")
out.append("tls=" + s.recv(64).decode().strip())
print(" ".join(out))
' $P >"$T/out" 2>"$T/log" || { cat "$T/log"; fail "client"; }
assert_eq "all=EBADF tls=gnip" \
	"$(cat "$T/out")" "folded descriptor numbers reach libc; the connection is intact"
stop_bg $BG_PID
assert_not_contains "$T/server.out" "SECRET" "nothing written through a folded number"
echo ok
