#!/bin/sh
# The ways a TCP socket gets connected other than a plain connect() with a
# whole sockaddr: each one to a destination a rule matches goes through TLS
# (a recording plain listener sees a ClientHello, never the program's
# bytes, and the call fails with EPROTO since the listener speaks no TLS),
# and against a real TLS server the same call works.
#   - connect() with a 24-byte sockaddr_in6 (RFC 2133's, no sin6_scope_id;
#     the kernel takes it) to [::1] and to ::ffff:127.0.0.1 (an IPv4 rule);
#   - connect() to the unspecified address (0.0.0.0, ::, ::ffff:0.0.0.0),
#     which Linux sends to the loopback address: the 127.0.0.1 and [::1]
#     rules apply;
#   - sendto, sendmsg and sendmmsg with MSG_FASTOPEN and an address on an
#     unconnected socket (the kernel connects, data in or after the SYN);
#   - the same three through glibc's syscall().
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fds_lib.sh"

cat >"$T/client.py" <<'PY'
# client.py MODE HOST PORT: one way of connecting and sending
# "SECRET-<mode>"; prints "ret=R errno=NAME", then the reply if any.
import ctypes, errno, socket, struct, sys
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
MSG_FASTOPEN = 0x20000000
SYS = {"sendto": 44, "sendmsg": 46, "sendmmsg": 307}  # x86_64
data = b"SECRET-" + mode.encode() + b"\n"

class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
class msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.POINTER(iovec)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]
class mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", msghdr), ("len", ctypes.c_uint)]

if ":" in host:
    fam = socket.AF_INET6
    sa = struct.pack("=H", fam) + struct.pack("!HI", port, 0) + \
        socket.inet_pton(fam, host) + b"\0" * 4
else:
    fam = socket.AF_INET
    sa = struct.pack("=H", fam) + struct.pack("!H", port) + socket.inet_aton(host) + b"\0" * 8
s = socket.socket(fam, socket.SOCK_STREAM)
fd = s.fileno()
sab = ctypes.create_string_buffer(sa, len(sa))
db = ctypes.create_string_buffer(data, len(data))
iov = iovec(ctypes.cast(db, ctypes.c_void_p), len(data))
msg = msghdr(ctypes.cast(sab, ctypes.c_void_p), len(sa), ctypes.pointer(iov), 1, None, 0, 0)
mm = mmsghdr(msg, 0)
if mode == "connect":
    r = libc.connect(fd, sab, len(sa))
    if r == 0:
        r = libc.send(fd, db, len(data), 0)
elif mode == "connect24":
    r = libc.connect(fd, sab, 24)
    if r == 0:
        r = libc.send(fd, db, len(data), 0)
elif mode == "sendto":
    r = libc.sendto(fd, db, len(data), MSG_FASTOPEN, sab, len(sa))
elif mode == "sendmsg":
    r = libc.sendmsg(fd, ctypes.byref(msg), MSG_FASTOPEN)
elif mode == "sendmmsg":
    r = libc.sendmmsg(fd, ctypes.byref(mm), 1, MSG_FASTOPEN)
elif mode == "sys_sendto":
    r = libc.syscall(ctypes.c_long(SYS["sendto"]), ctypes.c_long(fd), db,
                     ctypes.c_long(len(data)), ctypes.c_long(MSG_FASTOPEN), sab,
                     ctypes.c_long(len(sa)))
elif mode == "sys_sendmsg":
    r = libc.syscall(ctypes.c_long(SYS["sendmsg"]), ctypes.c_long(fd), ctypes.byref(msg),
                     ctypes.c_long(MSG_FASTOPEN))
elif mode == "sys_sendmmsg":
    r = libc.syscall(ctypes.c_long(SYS["sendmmsg"]), ctypes.c_long(fd), ctypes.byref(mm),
                     ctypes.c_long(1), ctypes.c_long(MSG_FASTOPEN))
e = ctypes.get_errno()
print("ret=%d errno=%s" % (r, errno.errorcode.get(e, "0") if r < 0 else "0"))
if r > 0:
    s.settimeout(5)
    try:
        print("reply=" + s.recv(100).decode(errors="replace").strip())
    except OSError as x:
        print("reply-error=%s" % x)
sys.stdout.flush()
PY

[ "$(uname -m)" = x86_64 ] || fail "the syscall numbers in client.py are x86_64's"

run() { # mode host rule-host port
	TLSSHIM_CONFIG_STRING="connect = ({ match = \"$3:$4\"; ca_certs = \"$CERTS/ca.pem\"; });" \
		LD_PRELOAD=$PRELOAD timeout 20 python3 "$T/client.py" "$1" "$2" "$4" >"$T/out" 2>"$T/log"
}

# (1) against a plain recorder: TLS or nothing on the wire, EPROTO
for c in "connect24 ::1 [::1]" "connect24 ::ffff:127.0.0.1 127.0.0.1" \
	"connect 0.0.0.0 127.0.0.1" "connect :: [::1]" "connect ::ffff:0.0.0.0 127.0.0.1" \
	"sendto 127.0.0.1 127.0.0.1" "sendmsg 127.0.0.1 127.0.0.1" "sendmmsg 127.0.0.1 127.0.0.1" \
	"sys_sendto 127.0.0.1 127.0.0.1" "sys_sendmsg 127.0.0.1 127.0.0.1" \
	"sys_sendmmsg 127.0.0.1 127.0.0.1"; do
	set -- $c
	P=$(free_port)
	case $3 in \[*) recorder $P "$T/rec" ::1 ;; *) recorder $P "$T/rec" ;; esac
	REC=$BG_PID
	wait_port $P
	run "$1" "$2" "$3" $P
	wait $REC
	assert_contains "$T/out" "ret=-1 errno=EPROTO" "$1 to $2: the handshake met a plain listener"
	assert_tls_or_nothing "$T/rec" "$1 to $2"
	[ -s "$T/rec" ] || fail "$1 to $2: the recorder saw nothing"
	assert_contains "$T/log" "connect .*:$P: failed (rule" "$1 to $2: the failure is logged"
done

# (2) against a TLS server: the same calls work through TLS
for c in "connect24 ::1 [::1]" "connect24 ::ffff:127.0.0.1 127.0.0.1" \
	"connect 0.0.0.0 127.0.0.1" "connect :: [::1]" \
	"sendmmsg 127.0.0.1 127.0.0.1" "sys_sendto 127.0.0.1 127.0.0.1"; do
	set -- $c
	P=$(free_port)
	case $3 in
	\[*) start_bg 20 openssl s_server -rev -accept "[::1]:$P" -cert "$CERTS/server.pem" \
		-key "$CERTS/server.key" -naccept 1 >"$T/server.out" 2>&1 ;;
	*) start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$CERTS/server.pem" \
		-key "$CERTS/server.key" -naccept 1 >"$T/server.out" 2>&1 ;;
	esac
	SRV=$BG_PID
	wait_port $P
	run "$1" "$2" "$3" $P
	assert_contains "$T/out" "^reply=$(echo "SECRET-$1" | rev)\$" "$1 to $2 through TLS"
	stop_bg $SRV
done
exit 0
