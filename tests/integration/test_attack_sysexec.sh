#!/bin/sh
# An exec through glibc's syscall() (SYS_execve, SYS_execveat) is the exec
# hook's: with an emptied environment the new program keeps tlsshim (its
# connection to a matched destination is TLS: a recording plain listener
# sees a ClientHello, never its bytes), and a setuid program is refused
# with EPERM and the warn line, as through execve().
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fds_lib.sh"

[ "$(uname -m)" = x86_64 ] || fail "the syscall numbers below are x86_64's"
cat >"$T/sysexec.py" <<'PY'
# sysexec.py execve|execveat PROGRAM ARG...: exec PROGRAM through
# syscall() with an empty environment; prints the error if it returns.
import ctypes, errno, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
how, prog = sys.argv[1], sys.argv[2].encode()
args = [prog] + [a.encode() for a in sys.argv[3:]]
argv = (ctypes.c_char_p * (len(args) + 1))(*args, None)
envp = (ctypes.c_char_p * 1)(None)
if how == "execve":
    r = libc.syscall(ctypes.c_long(59), ctypes.c_char_p(prog), argv, envp)
else:  # AT_FDCWD
    r = libc.syscall(ctypes.c_long(322), ctypes.c_long(-100), ctypes.c_char_p(prog), argv,
                     envp, ctypes.c_long(0))
e = ctypes.get_errno()
print("%s=%d errno=%s" % (how, r, errno.errorcode.get(e, str(e))))
PY
PY=$(python3 -c 'import sys; print(sys.executable)')
CLIENT='import socket, sys
s = socket.socket()
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"SECRET-after-exec")
    print("sent")
except OSError as x:
    print("child: %s" % x)'

for how in execve execveat; do
	P=$(free_port)
	recorder $P "$T/rec"; REC=$BG_PID
	wait_port $P
	TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
		LD_PRELOAD=$PRELOAD timeout 20 python3 "$T/sysexec.py" $how "$PY" -c "$CLIENT" $P \
		>"$T/out" 2>"$T/log"
	wait $REC
	assert_contains "$T/out" "child: \[Errno 71\] Protocol error" "$how: the new program's connect went through TLS"
	assert_tls_or_nothing "$T/rec" "$how with an empty environment"
	[ -s "$T/rec" ] || fail "$how: the recorder saw nothing"
done

cp /bin/true "$T/suid-true"
chmod u+s "$T/suid-true"
for how in execve execveat; do
	TLSSHIM_CONFIG_STRING='connect = ({ match = "127.0.0.1:1"; });' \
		LD_PRELOAD=$PRELOAD timeout 10 python3 "$T/sysexec.py" $how "$T/suid-true" >"$T/out" 2>"$T/log"
	assert_eq "$how=-1 errno=EPERM" "$(cat "$T/out")" "$how of a setuid program refused"
	assert_contains "$T/log" "exec $T/suid-true: refused: the program is setuid" "$how: warn line"
done
exit 0
