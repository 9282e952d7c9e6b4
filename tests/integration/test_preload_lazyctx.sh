#!/bin/sh
# Start-up builds no TLS context, yet servers keep their keys:
#  1. a pre-forking server (listen, then fork workers that accept) gets its
#     accept rule's context once, at listen, in the parent: the workers
#     share it; the key files are deleted before the workers exist;
#  2. a server that inherits its listener (no listen call) builds the
#     context at its first accept, from the bytes read at start-up: the
#     files are gone by then;
#  3. a program that never listens or connects builds none.
. "$(dirname "$0")/lib.sh"

mkdir "$T/keys"
cp "$CERTS/server.pem" "$CERTS/server.key" "$T/keys/"
port=$(free_port)
cat >"$T/rules.conf" <<EOF
version = 1;
accept = ( { match = "127.0.0.1:$port"; certfile = "$T/keys/server.pem";
             keyfile = "$T/keys/server.key"; } );
connect = ( { match = "127.0.0.1:1"; ca_certs = "$CERTS/ca.pem"; } );
EOF

cat >"$T/client.py" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as c:
        c.sendall(b"hello")
        print(c.recv(100).decode())
PY

# ---- 1. pre-forking server ---------------------------------------------------------
cat >"$T/prefork.py" <<'PY'
import os, socket, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
while not os.path.exists(go):
    time.sleep(0.02)
kids = []
for i in range(2):
    pid = os.fork()
    if pid == 0:
        c, _ = s.accept()
        c.sendall(b"worker:" + c.recv(100))
        c.close()
        os._exit(0)
    kids.append(pid)
for k in kids:
    os.waitpid(k, 0)
PY
start_bg 30 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG="$T/rules.conf" TLSSHIM_LOG=debug \
	TLSSHIM_LOG_FILE="$T/prefork.log" python3 "$T/prefork.py" "$port" "$T/go1"
srv=$BG_PID
wait_port "$port"
rm -f "$T/keys/server.pem" "$T/keys/server.key"
touch "$T/go1"
for i in 1 2; do
	out=$(timeout 15 python3 "$T/client.py" "$port" "$CERTS/ca.pem" 2>"$T/client.err") ||
		fail "client $i: $(cat "$T/client.err")"
	assert_eq "worker:hello" "$out" "client $i's reply"
done
wait "$srv" 2>/dev/null
n=$(grep -c "TLS context ready" "$T/prefork.log")
assert_eq 1 "$n" "contexts built by the parent and its two workers (log: $(cat "$T/prefork.log"))"

# ---- 2. inherited listener ------------------------------------------------------------
cp "$CERTS/server.pem" "$CERTS/server.key" "$T/keys/"
cat >"$T/inherit.py" <<'PY'
import os, socket, subprocess, sys
port, go, started, preload, conf = sys.argv[1:6]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(port)))
s.listen(16)
child = r'''
import os, socket, sys, time
fd, go, started = int(sys.argv[1]), sys.argv[2], sys.argv[3]
open(started, "w").close()
while not os.path.exists(go):
    time.sleep(0.02)
s = socket.socket(fileno=fd)
c, _ = s.accept()
c.sendall(b"inherited:" + c.recv(100))
c.close()
'''
env = dict(os.environ, LD_PRELOAD=preload, TLSSHIM_CONFIG=conf)
p = subprocess.Popen([sys.executable, "-c", child, str(s.fileno()), go, started],
                     pass_fds=[s.fileno()], env=env)
sys.exit(p.wait())
PY
start_bg 30 python3 "$T/inherit.py" "$port" "$T/go2" "$T/started" "$PRELOAD" "$T/rules.conf"
srv=$BG_PID
n=0
while [ ! -e "$T/started" ]; do
	n=$((n + 1))
	[ $n -lt 400 ] || fail "the inheriting server did not start"
	sleep 0.025
done
rm -f "$T/keys/server.pem" "$T/keys/server.key"
touch "$T/go2"
out=$(timeout 15 python3 "$T/client.py" "$port" "$CERTS/ca.pem" 2>"$T/client.err") ||
	fail "client of the inherited listener: $(cat "$T/client.err")"
assert_eq "inherited:hello" "$out" "inherited listener's reply"
wait "$srv" 2>/dev/null

# ---- 3. nothing built by a program that neither listens nor connects -------------------
cp "$CERTS/server.pem" "$CERTS/server.key" "$T/keys/"
env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG="$T/rules.conf" TLSSHIM_LOG=debug \
	TLSSHIM_LOG_FILE="$T/true.log" /bin/true || fail "/bin/true under the preload"
assert_not_contains "$T/true.log" "TLS context ready" "/bin/true built a context"
echo "lazy contexts ok"
