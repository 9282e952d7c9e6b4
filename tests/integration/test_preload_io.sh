#!/bin/sh
# POSIX details on a wrapped socket: recv(MSG_PEEK) and ioctl(FIONREAD)
# see decrypted bytes; MSG_OOB (urgent data outside TLS) is refused; SO_RCVTIMEO gives EAGAIN on time; writes after the
# peer closed give EPIPE with SIGPIPE (none with MSG_NOSIGNAL); sendfile
# sends the file through TLS (the server decrypts the right bytes).
. "$(dirname "$0")/lib.sh"

cat >"$T/server.py" <<'PY'
import hashlib, socket, ssl, sys, time
port, mode, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.create_server(("127.0.0.1", port))
c, _ = ls.accept()
s = ctx.wrap_socket(c, server_side=True)
if mode == "echo":
    s.sendall(s.recv(100))
    time.sleep(1)
elif mode == "silent":
    s.recv(100)
    time.sleep(3)
elif mode == "closer":
    s.recv(100)
    s.unwrap()
    c.close()
elif mode == "sha":
    h, n = hashlib.sha256(), 0
    while True:
        b = s.recv(65536)
        if not b:
            break
        h.update(b)
        n += len(b)
    s.sendall(("%d %s\n" % (n, h.hexdigest())).encode())
    s.unwrap()
PY
serve() {
	P=$(free_port)
	start_bg 20 python3 "$T/server.py" $P "$1" "$CERTS/server.pem" "$CERTS/server.key"
	SRV=$BG_PID
	wait_port $P
	export TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; });"
}

serve echo
LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" peek 127.0.0.1 $P >"$T/out" || fail "peek"
assert_eq "connect=0
write=5
peek=4
peeked=ping
fionread=0
avail_positive=1
recv=5
got=ping
send_oob=-1 errno=EOPNOTSUPP" "$(cat "$T/out")" "MSG_PEEK, FIONREAD, MSG_OOB"
stop_bg $SRV

serve silent
LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" timeout 127.0.0.1 $P >"$T/out" || fail "timeout"
assert_eq "connect=0
setsockopt=0
write=5
read=-1 errno=EAGAIN
waited_about_300ms=1" "$(cat "$T/out")" "SO_RCVTIMEO"
stop_bg $SRV

serve closer
LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" sigpipe 127.0.0.1 $P >"$T/out" || fail "sigpipe"
assert_eq "connect=0
write=4
write_after_close=-1 errno=EPIPE
sigpipe_seen=1
send_nosignal=-1 errno=EPIPE
sigpipe_seen=0" "$(cat "$T/out")" "EPIPE and SIGPIPE"
stop_bg $SRV

serve sha
head -c 3000000 /dev/urandom >"$T/file"
want="3000000 $(sha256sum <"$T/file" | cut -d' ' -f1)"
LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" sendfile 127.0.0.1 $P "$T/file" >"$T/out" || fail "sendfile"
assert_eq "connect=0
sent=3000000
reply=$want" "$(cat "$T/out")" "sendfile through TLS"
