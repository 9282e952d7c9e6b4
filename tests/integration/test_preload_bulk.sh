#!/bin/sh
# 64 MiB in each direction at once, both ends under tlsshim: a Python
# server (plain sockets, under an accept rule) that receives in one thread
# and sends in another on the same connection, and nc -N under a connect
# rule. sha256 equal both ways. (Not `nc -l` as the server: in listen mode
# nc quits as soon as the client's side ends, whatever it still has to
# send.)
. "$(dirname "$0")/lib.sh"

head -c 67108864 /dev/urandom >"$T/up"
head -c 67108864 /dev/urandom >"$T/down"
cat >"$T/server.py" <<'PY'
import socket, sys, threading
port, send_path, recv_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ls = socket.create_server(("127.0.0.1", port))
c, _ = ls.accept()
def receive():
    with open(recv_path, "wb") as f:
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            f.write(b)
t = threading.Thread(target=receive)
t.start()
with open(send_path, "rb") as f:
    while True:
        b = f.read(1 << 20)
        if not b:
            break
        c.sendall(b)
c.shutdown(socket.SHUT_WR)
t.join()
c.close()
PY
P=$(free_port)
export TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; }); accept = ({ match = \"127.0.0.1:$P\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; });"
LD_PRELOAD=$PRELOAD start_bg 90 python3 "$T/server.py" $P "$T/down" "$T/got_up"
SRV=$BG_PID
wait_port $P
LD_PRELOAD=$PRELOAD timeout 60 nc -N 127.0.0.1 $P <"$T/up" >"$T/got_down" 2>"$T/client.err" ||
	{ cat "$T/client.err" >&2; fail "client nc"; }
wait $SRV 2>/dev/null
a=$(sha256sum <"$T/up"); b=$(sha256sum <"$T/got_up")
assert_eq "$a" "$b" "client -> server sha256"
a=$(sha256sum <"$T/down"); b=$(sha256sum <"$T/got_down")
assert_eq "$a" "$b" "server -> client sha256"
