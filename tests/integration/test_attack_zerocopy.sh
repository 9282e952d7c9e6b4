#!/bin/sh
# getsockopt(TCP_ZEROCOPY_RECEIVE) on a wrapped socket: the kernel's
# zero-copy receive copies (or maps) the socket's queued bytes into the
# program, which on a wrapped socket are TLS records. It is refused
# (-1 EOPNOTSUPP, a warn line), takes nothing from the socket (the reply
# then reads decrypted), and is the kernel's on a plain socket.
. "$(dirname "$0")/lib.sh"

cat >"$T/zc.py" <<'PY'
# zc.py PORT: connect, send "hello", wait (raw poll: nothing read) for the
# reply to be queued, try TCP_ZEROCOPY_RECEIVE with a copy buffer, read.
import ctypes, errno, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
class pollfd(ctypes.Structure):
    _fields_ = [("fd", ctypes.c_int), ("events", ctypes.c_short), ("revents", ctypes.c_short)]
class zc(ctypes.Structure):  # struct tcp_zerocopy_receive (linux/tcp.h)
    _fields_ = [("address", ctypes.c_uint64), ("length", ctypes.c_uint32),
                ("recv_skip_hint", ctypes.c_uint32), ("inq", ctypes.c_uint32),
                ("err", ctypes.c_int32), ("copybuf_address", ctypes.c_uint64),
                ("copybuf_len", ctypes.c_int32), ("flags", ctypes.c_uint32),
                ("msg_control", ctypes.c_uint64), ("msg_controllen", ctypes.c_uint64),
                ("msg_flags", ctypes.c_uint32), ("reserved", ctypes.c_uint32)]
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"hello\n")
p = pollfd(s.fileno(), 1, 0)  # POLLIN, through the kernel only (SYS_poll = 7)
print("poll=%d" % libc.syscall(ctypes.c_long(7), ctypes.byref(p), ctypes.c_long(1),
                                ctypes.c_long(10000)))
buf = ctypes.create_string_buffer(4096)
z = zc()
z.copybuf_address = ctypes.addressof(buf)
z.copybuf_len = 4096
zl = ctypes.c_uint32(ctypes.sizeof(z))
r = libc.getsockopt(s.fileno(), 6, 35, ctypes.byref(z), ctypes.byref(zl))
e = ctypes.get_errno()
name = "EOPNOTSUPP" if e == errno.EOPNOTSUPP else errno.errorcode.get(e, str(e))
print("zerocopy=%d errno=%s" % (r, name if r < 0 else "0"))
if r == 0:
    print("copied=%d first=%s" % (z.copybuf_len, buf.raw[:3].hex()))
s.settimeout(5)
try:
    print("reply=" + s.recv(100).decode(errors="replace").strip())
except OSError as x:
    print("reply-error=%s" % x)
PY

P=$(free_port)
start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$CERTS/server.pem" \
	-key "$CERTS/server.key" -naccept 1 >"$T/server.out" 2>&1
wait_port $P
TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
	LD_PRELOAD=$PRELOAD timeout 20 python3 "$T/zc.py" $P >"$T/out" 2>"$T/log" || { cat "$T/out" "$T/log" >&2; fail "the wrapped client failed"; }
assert_contains "$T/out" "^poll=1$" "the reply is queued in the kernel"
assert_contains "$T/out" "^zerocopy=-1 errno=EOPNOTSUPP$" "zero-copy receive refused"
assert_not_contains "$T/out" "^copied=" "no TLS record handed to the program"
assert_contains "$T/out" "^reply=olleh$" "the reply then reads through TLS, whole"
assert_contains "$T/log" "getsockopt(TCP_ZEROCOPY_RECEIVE) on fd [0-9]* (connect 127.0.0.1:$P): refused, EOPNOTSUPP" \
	"the warn line"

# a plain socket (no rule matches): the kernel's, the bytes as sent
P=$(free_port)
start_bg 20 python3 -c '
import socket, sys
ls = socket.create_server(("127.0.0.1", int(sys.argv[1])))
c, _ = ls.accept()
c.recv(100)
c.sendall(b"olleh\n")
c.close()' $P
wait_port $P
TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:1\"; });" \
	LD_PRELOAD=$PRELOAD timeout 20 python3 "$T/zc.py" $P >"$T/out" 2>"$T/log" || { cat "$T/out" "$T/log" >&2; fail "the plain client failed"; }
assert_contains "$T/out" "^zerocopy=0 errno=0$" "zero-copy receive on a plain socket"
assert_contains "$T/out" "^copied=6 first=6f6c6c$" "the kernel copied the plain bytes"
exit 0
