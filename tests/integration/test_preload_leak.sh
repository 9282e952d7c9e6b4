#!/bin/sh
# Fail closed: a wrapped client whose handshake fails (the server's
# certificate does not verify) writes "SECRET" anyway, eagerly, lazily and
# over a non-blocking connect. A recording proxy in front of the TLS
# server keeps every byte the client sends: the handshake must be there
# (the recording works), "SECRET" must not, and every call after the
# failure reports EPROTO.
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
