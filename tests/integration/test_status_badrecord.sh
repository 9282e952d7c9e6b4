#!/bin/sh
# A lazy client's first read finishes the handshake and meets a bad record
# in the same call: tlsshim --status counts one handshake done (HS_OK) and
# no handshake failure, since the core's state says the handshake had
# finished. (The preload once kept its own "handshake done" flag, set only
# between calls, and counted such a connection as a failed handshake.)
# The read itself fails with EPROTO.
. "$(dirname "$0")/lib.sh"

export XDG_RUNTIME_DIR="$T/xdg"
mkdir -m 700 "$XDG_RUNTIME_DIR"
# the interpreter itself, not a wrapper script (pyenv's shims fork)
PY=$(python3 -c 'import sys; print(sys.executable)')

cat >"$T/server.py" <<'PY'
import os, socket, ssl, sys
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.create_server(("127.0.0.1", port))
c, _ = ls.accept()
s = ctx.wrap_socket(c, server_side=True)   # the handshake, tickets sent
# application data that does not decrypt, under TLS's back
os.write(s.fileno(), b"\x17\x03\x03\x00\x20" + b"\x42" * 32)
try:
    s.recv(1)   # until the client goes (its alert)
except OSError:
    pass
PY
cat >"$T/client.py" <<'PY'
import errno, os, socket, sys, time
port, pidfile, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
open(pidfile, "w").write("%d\n" % os.getpid())
c = socket.create_connection(("127.0.0.1", port))   # lazy: no handshake yet
try:
    c.recv(100)
    print("read", flush=True)
except OSError as e:
    print("read failed:", errno.errorcode[e.errno], flush=True)
for _ in range(400):   # stay alive until the status is read
    if os.path.exists(go):
        break
    time.sleep(0.05)
PY

P=$(free_port)
start_bg 30 "$PY" "$T/server.py" $P "$CERTS/server.pem" "$CERTS/server.key"
wait_port $P
start_bg 30 env TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; server_hostname = \"localhost\"; do_handshake_on_connect = false; });" \
	LD_PRELOAD=$PRELOAD "$PY" "$T/client.py" $P "$T/client.pid" "$T/go" >"$T/client.out" 2>"$T/client.log"
n=0
until grep -q "read" "$T/client.out" 2>/dev/null; do
	n=$((n + 1)); [ $n -lt 400 ] || { cat "$T/client.log" >&2; fail "the client never read"; }
	sleep 0.05
done
CL=$(cat "$T/client.pid")
"$TLSSHIM" --status >"$T/status" || fail "--status exit status"
touch "$T/go"
cat "$T/status"
assert_eq "read failed: EPROTO" "$(cat "$T/client.out")" "the read on a bad record"
assert_contains "$T/client.log" "failed" "the warn line"
# col NAME: the value of column NAME in the client's row
col() {
	awk -v name="$1" -v pid="$CL" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
		$1 == pid { print $(c + 1) }' "$T/status"   # RULE is two words: shift by one
}
assert_eq 1 "$(col HS_OK)" "the handshake counted done"
for k in FAIL_VERIFY FAIL_IDENTITY FAIL_PLAINTEXT FAIL_TIMEOUT FAIL_PROTOCOL; do
	assert_eq 0 "$(col $k)" "$k: no handshake failed"
done
echo "bad record after a lazy handshake counted ok"
