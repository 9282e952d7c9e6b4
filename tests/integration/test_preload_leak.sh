#!/bin/sh
# Fail closed: a wrapped client whose handshake fails (the server's
# certificate does not verify) writes "SECRET" anyway, eagerly, lazily and
# over a non-blocking connect. A recording proxy in front of the TLS
# server keeps every byte the client sends: the handshake must be there
# (the recording works), "SECRET" must not, and every call after the
# failure reports EPROTO. Then a healthy connection handed to a child
# program (posix_spawn, fork+dup2+exec) must not become a plaintext socket.
. "$(dirname "$0")/lib.sh"

UP=$(free_port)
start_bg 60 openssl s_server -rev -accept 127.0.0.1:$UP -cert "$CERTS/selfsigned.pem" \
	-key "$CERTS/selfsigned.key"
wait_port $UP

cat >"$T/proxy.py" <<'PY'
import socket, sys, threading
listen_port, up_port, rec = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", listen_port))
ls.listen(16)
lock = threading.Lock()
def pump(src, dst, record):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            if record:
                with lock, open(rec, "ab") as f:
                    f.write(b)
            dst.sendall(b)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = ls.accept()
    u = socket.create_connection(("127.0.0.1", up_port))
    threading.Thread(target=pump, args=(c, u, True), daemon=True).start()
    threading.Thread(target=pump, args=(u, c, False), daemon=True).start()
PY
P=$(free_port)
: >"$T/rec"
start_bg 60 python3 "$T/proxy.py" $P $UP "$T/rec"
wait_port $P

run() { # lazy(true|false) mode
	TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; do_handshake_on_connect = $1; });" \
		LD_PRELOAD=$PRELOAD timeout 20 "$PROGS/tsprog_client" "$2" 127.0.0.1 $P >"$T/out" 2>"$T/log"
}

# eager: connect() drives the handshake and fails; the program writes anyway
run true leak
assert_eq "connect=-1 errno=EPROTO
write1=-1 errno=EPROTO
read=-1 errno=EPROTO
write2=-1 errno=EPROTO" "$(cat "$T/out")" "eager handshake failure"
assert_contains "$T/log" "certificate verify failed" "the warn line gives OpenSSL's reason"
assert_contains "$T/log" "TLSSHIM_CONFIG_STRING:1" "the warn line names the rule"
assert_contains "$T/log" "connect 127.0.0.1:$P" "the warn line names the peer"

# lazy: connect() succeeds (TCP only), the first write drives the handshake
run false leak
assert_eq "connect=0
write1=-1 errno=EPROTO
read=-1 errno=EPROTO
write2=-1 errno=EPROTO" "$(cat "$T/out")" "lazy handshake failure"

# non-blocking connect: EINPROGRESS, then the handshake fails on first I/O
run true nbleak
assert_eq "connect=-1 errno=EINPROGRESS
write1=-1 errno=EPROTO
read=-1 errno=EPROTO
write2=-1 errno=EPROTO" "$(cat "$T/out")" "non-blocking handshake failure"

sleep 0.3
# the recording saw the three ClientHellos (TLS handshake records)...
n=$(python3 -c "import sys; print(open(sys.argv[1],'rb').read().count(b'\x16\x03\x01'))" "$T/rec")
[ "$n" -ge 3 ] || fail "the proxy recorded $n ClientHellos, expected 3"
# ...and not one byte of the application's data
assert_not_contains "$T/rec" "SECRET" "plaintext on the wire"

# A healthy connection handed to another program: TLS state cannot cross
# exec, so the child must not get a usable plaintext socket. posix_spawn
# with a dup2 file action is refused; fork + dup2 + exec (the inetd
# pattern) leaves the child's stdout closed (the dup is close-on-exec).
UP2=$(free_port)
start_bg 60 openssl s_server -rev -accept 127.0.0.1:$UP2 -cert "$CERTS/server.pem" \
	-key "$CERTS/server.key"
wait_port $UP2
P2=$(free_port)
: >"$T/rec2"
start_bg 60 python3 "$T/proxy.py" $P2 $UP2 "$T/rec2"
wait_port $P2
export TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P2\"; ca_certs = \"$CERTS/ca.pem\"; });"
LD_PRELOAD=$PRELOAD timeout 20 "$PROGS/tsprog_client" spawndup 127.0.0.1 $P2 >"$T/out" 2>"$T/log"
assert_eq "connect=0
posix_spawn=EPERM
write=7" "$(cat "$T/out")" "posix_spawn with the connection as a child's stdout"
assert_contains "$T/log" "posix_spawn: refused: descriptor 3 is a TLS connection" "warn line"
LD_PRELOAD=$PRELOAD timeout 20 "$PROGS/tsprog_client" forkdup 127.0.0.1 $P2 >"$T/out" 2>/dev/null
assert_eq "connect=0
child_exit=1
write=7" "$(cat "$T/out")" "fork, dup2, exec: the child's stdout is closed"
sleep 0.3
assert_contains "$T/rec2" "$(printf '\026\003\001')" "the proxy recorded the handshakes"
assert_not_contains "$T/rec2" "PLAINTEXT-FROM-CHILD" "a child wrote plaintext into the TLS stream"
assert_not_contains "$T/rec2" "parent" "the parent's write went out in clear"
