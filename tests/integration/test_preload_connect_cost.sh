#!/bin/sh
# A wrapped connect looks for the socket's other numbers (a dup made before
# connect, siblings.c) among the numbers that took part in a copy only: a
# client holding 2,000 plain sockets pays no fstat per socket on each
# wrapped connect. And a dup made before connect is still found.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
start_bg 60 openssl s_server -quiet -rev -accept "127.0.0.1:$P" \
	-cert "$CERTS/server.pem" -key "$CERTS/server.key" >"$T/server.log" 2>&1
wait_port "$P"
export TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; server_hostname = \"localhost\"; });"

cat >"$T/client.py" <<'PY'
import os, socket, sys
port, mode = int(sys.argv[1]), sys.argv[2]
held = [socket.socket() for _ in range(2000)]
s = socket.socket()
other = os.dup(s.fileno()) if mode == "dup" else None
os.write(2, b"BEGIN-CONNECT\n")
s.connect(("127.0.0.1", port))
os.write(2, b"END-CONNECT\n")
if other is not None:
    os.write(other, b"olleh\n")       # through TLS: the server answers reversed
else:
    s.sendall(b"olleh\n")
print(s.recv(100).decode().strip())
PY

# Only the plain sockets held: count fstat calls made inside connect().
# (LeakSanitizer cannot work under ptrace: no leak check in make asan.)
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" LD_PRELOAD=$PRELOAD timeout 30 strace -f -qq -e trace=fstat,newfstatat,statx,write \
	-o "$T/trace" python3 "$T/client.py" "$P" plain >"$T/out" 2>"$T/err" || fail "client: $(cat "$T/err")"
assert_eq "hello" "$(cat "$T/out")" "the answer through TLS"
n=$(sed -n '/BEGIN-CONNECT/,/END-CONNECT/p' "$T/trace" | grep -cE 'fstat|statx')
echo "fstat calls inside connect with 2000 plain sockets held: $n"
[ "$n" -lt 20 ] || fail "connect made $n fstat calls (one per open descriptor?)"

# A dup made before connect: still one more name of the connection.
LD_PRELOAD=$PRELOAD timeout 30 python3 "$T/client.py" "$P" dup >"$T/out2" 2>"$T/err2" \
	|| fail "dup client: $(cat "$T/err2")"
assert_eq "hello" "$(cat "$T/out2")" "the dup's write went through TLS"
echo "ok"
