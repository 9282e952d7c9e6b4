#!/bin/sh
# A garbage or bad-MAC record after the handshake (issue 10 item 9): the
# read fails with EPROTO AND a warn line gives OpenSSL's reason (every
# failure is logged at warn), whether the program reads blocking (Python's
# recv) or polls first (OpenBSD nc).
. "$(dirname "$0")/lib.sh"

cat >"$T/server.py" <<'PY'
import os, socket, ssl, sys, time
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(8)
for bad in sys.argv[4:]:
    c, _ = ls.accept()
    s = ctx.wrap_socket(c, server_side=True)
    s.sendall(b"hello\n")
    time.sleep(0.5)
    raw = socket.socket(fileno=os.dup(s.fileno()))
    if bad == "mac":   # an application-data record whose MAC cannot match
        raw.sendall(b"\x17\x03\x03\x00\x20" + b"\xaa" * 32)
    else:              # not a TLS record at all
        raw.sendall(b"this is not TLS at all\r\n")
    time.sleep(3)
    raw.close()
    s.close()
PY
P=$(free_port)
start_bg 90 python3 "$T/server.py" $P "$CERTS/server.pem" "$CERTS/server.key" mac garbage mac
wait_port $P
cfg="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; });"

# blocking reads
cat >"$T/client.py" <<'PY'
import errno, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
got = b""
while not got.endswith(b"\n"):
    got += s.recv(100)
print("first", got.decode().strip())
try:
    print("second", s.recv(100))
except OSError as e:
    print("recv", errno.errorcode[e.errno])
PY
for bad in mac garbage; do
	TLSSHIM_CONFIG_STRING="$cfg" LD_PRELOAD=$PRELOAD timeout 30 python3 "$T/client.py" $P \
		>"$T/$bad.out" 2>"$T/$bad.log"
	assert_eq "first hello
recv EPROTO" "$(cat "$T/$bad.out")" "$bad record: the read fails with EPROTO"
	grep -q "tlsshim\[[0-9]*\]: connect 127.0.0.1:$P: failed .*: ..*" "$T/$bad.log" ||
		{ cat "$T/$bad.log" >&2; fail "$bad record: no warn line"; }
done
grep -Eqi "bad record mac|decryption failed|decrypt" "$T/mac.log" ||
	{ cat "$T/mac.log" >&2; fail "the warn line does not give OpenSSL's reason"; }
grep -Eqi "wrong version|record|packet|length" "$T/garbage.log" ||
	{ cat "$T/garbage.log" >&2; fail "the warn line does not give OpenSSL's reason (garbage)"; }

# poll, then read (the readiness path finds the failure first)
TLSSHIM_CONFIG_STRING="$cfg" LD_PRELOAD=$PRELOAD timeout 30 nc -d 127.0.0.1 $P \
	>"$T/nc.out" 2>"$T/nc.log"
assert_eq "hello" "$(cat "$T/nc.out")" "nc read the good record"
grep -q "tlsshim\[[0-9]*\]: connect 127.0.0.1:$P: failed" "$T/nc.log" ||
	{ cat "$T/nc.log" >&2; fail "poll path: no warn line for the bad record"; }
grep -Eqi "bad record mac|decryption failed|decrypt" "$T/nc.log" ||
	{ cat "$T/nc.log" >&2; fail "poll path: the warn line does not give OpenSSL's reason"; }
