#!/bin/sh
# Permissive accept rules (allow_plaintext, sniff_timeout_ms): one port
# serves TLS and plaintext clients, the first bytes decide.
#  - python3 -m http.server (a blocking server: the sniff happens in
#    accept) answers curl over https:// and over http:// on one port; the
#    plaintext clients are counted in --status and logged at warn once per
#    address (rate limit); without the key, http:// gets nothing, as today.
#  - server-first protocols: an epoll server (evprog_greetserver, non-
#    blocking: the sniff is decided by its first write/readiness call), a
#    poll(2) event loop (python selectors) and a blocking python server
#    greet a silent plaintext client after
#    sniff_timeout_ms, a TLS client at once, and a plaintext client that
#    speaks first at once; without the key, the plaintext client gets no
#    greeting.
. "$(dirname "$0")/lib.sh"

export XDG_RUNTIME_DIR="$T/xdg"
mkdir -m 700 "$XDG_RUNTIME_DIR"
PY=$(python3 -c 'import sys; print(sys.executable)')
mkdir "$T/www"
head -c 50000 /dev/urandom >"$T/www/blob"
KEYS="certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\";"

# --- HTTP on one port ---------------------------------------------------------
P=$(free_port)
start_bg 90 sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$T/http.pid" \
	env TLSSHIM_CONFIG_STRING="accept = ({ match = \"127.0.0.1:$P\"; $KEYS allow_plaintext = true; });" \
	LD_PRELOAD=$PRELOAD "$PY" -m http.server $P --bind 127.0.0.1 --directory "$T/www" \
	>/dev/null 2>"$T/http.log"
wait_port $P
HTTPPID=$(cat "$T/http.pid")
timeout 20 curl -sS --cacert "$CERTS/ca.pem" -o "$T/got1" https://localhost:$P/blob || fail "curl https://"
cmp -s "$T/www/blob" "$T/got1" || fail "https fetched different bytes"
for i in 1 2 3; do
	timeout 20 curl -sS -o "$T/got2" http://localhost:$P/blob || fail "curl http:// ($i)"
	cmp -s "$T/www/blob" "$T/got2" || fail "http fetched different bytes"
done
timeout 20 curl -sS --cacert "$CERTS/ca.pem" -o "$T/got1" https://localhost:$P/blob || fail "curl https:// after http://"
"$TLSSHIM" --status >"$T/status" || fail "--status"
row=$(awk -v p=$HTTPPID '$1 == p' "$T/status")
[ -n "$row" ] || { cat "$T/status" >&2; fail "http.server not in --status"; }
assert_eq 3 "$(echo "$row" | awk '{print $14}')" "PLAINTEXT_CLIENTS"
assert_eq 2 "$(echo "$row" | awk '{print $6}')" "HS_OK"
assert_eq 0 "$(echo "$row" | awk '{print $11}')" "FAIL_PLAINTEXT"
assert_eq 1 "$(grep -c 'PLAINTEXT client served' "$T/http.log")" "one warn line per address (rate limit)"
"$TLSSHIM" --status --prometheus >"$T/prom" || fail "--status --prometheus"
assert_contains "$T/prom" "^tlsshim_plaintext_clients_total{pid=\"$HTTPPID\",program=\"python3\",rule=\"accept 127.0.0.1:$P\"} 3\$" "plaintext metric"
assert_contains "$T/http.log" "accept 127.0.0.1:[0-9]*: PLAINTEXT client served (rule TLSSHIM_CONFIG_STRING:1 \"127.0.0.1:$P\", allow_plaintext)" "the warn line"
stop_bg $BG_PID

# without the key, a plaintext client is refused as today
P=$(free_port)
TLSSHIM_CONFIG_STRING="accept = ({ match = \"127.0.0.1:$P\"; $KEYS });" LD_PRELOAD=$PRELOAD \
	start_bg 90 "$PY" -m http.server $P --bind 127.0.0.1 --directory "$T/www" >/dev/null 2>"$T/http2.log"
wait_port $P
timeout 20 curl -sS --cacert "$CERTS/ca.pem" -o "$T/got1" https://localhost:$P/blob || fail "curl https:// (strict)"
if timeout 20 curl -sS -o "$T/got3" http://localhost:$P/blob 2>"$T/curl3"; then
	fail "a plaintext client was served without allow_plaintext"
fi
assert_not_contains "$T/http2.log" "PLAINTEXT client served" "strict rule"
stop_bg $BG_PID

# --- server-first protocols ---------------------------------------------------
cat >"$T/client.py" <<'PY'
import socket, ssl, sys, time
mode, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t0 = time.time()
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(15)
if mode == "tls":
    ctx = ssl.create_default_context(cafile=cafile)
    s = ctx.wrap_socket(s, server_hostname="localhost")
elif mode == "plainfirst":
    s.sendall(b"EHLO client\r\n")
data = b""
try:
    while not data.endswith(b"\n"):
        b = s.recv(100)
        if not b:
            break
        data += b
except OSError as e:
    data = ("error %s\n" % e).encode()
print("%s %.3f" % (data.decode().strip() or "nothing", time.time() - t0))
PY
cat >"$T/blockgreet.py" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
while True:
    c, _ = s.accept()          # blocking: tlsshim sniffs (and handshakes) here
    try:
        c.sendall(b"hello\n")
        c.settimeout(1)
        c.recv(100)
    except OSError:
        pass
    c.close()
PY
cat >"$T/pollgreet.py" <<'PY'
import selectors, socket, sys
sel = selectors.PollSelector()     # poll(2), not epoll: the other readiness path
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(8)
ls.setblocking(False)
sel.register(ls, selectors.EVENT_READ, None)
out = {}
while True:
    for key, ev in sel.select():
        if key.data is None:
            try:
                c, _ = ls.accept()
            except BlockingIOError:
                continue
            c.setblocking(False)
            out[c] = b"hello\n"
            sel.register(c, selectors.EVENT_WRITE, "w")
        elif key.data == "w":
            c = key.fileobj
            try:
                n = c.send(out[c])
            except BlockingIOError:
                continue
            except OSError:
                sel.unregister(c); c.close(); continue
            out[c] = out[c][n:]
            if not out[c]:
                sel.modify(c, selectors.EVENT_READ, "r")
        else:
            c = key.fileobj
            try:
                d = c.recv(100)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if not d:
                sel.unregister(c); c.close()
PY

SNIFF=2000
# check_greeter NAME: the three clients against the server on $P
check_greeter() {
	timeout 30 "$PY" "$T/client.py" plain $P "$CERTS/ca.pem" >"$T/$1.plain" || fail "$1: plain client"
	timeout 30 "$PY" "$T/client.py" tls $P "$CERTS/ca.pem" >"$T/$1.tls" || fail "$1: tls client"
	timeout 30 "$PY" "$T/client.py" plainfirst $P "$CERTS/ca.pem" >"$T/$1.first" || fail "$1: plainfirst client"
	cat "$T/$1.plain" "$T/$1.tls" "$T/$1.first"
	read -r what secs <"$T/$1.plain"
	assert_eq hello "$what" "$1: silent plaintext client greeted"
	awk -v s="$secs" -v t=$SNIFF 'BEGIN { exit !(s >= t / 1000 - 0.1) }' ||
		fail "$1: the silent plaintext client was greeted before sniff_timeout_ms ($secs s)"
	read -r what secs <"$T/$1.tls"
	assert_eq hello "$what" "$1: TLS client greeted"
	awk -v s="$secs" -v t=$SNIFF 'BEGIN { exit !(s < t / 1000 * 0.75) }' ||
		fail "$1: the TLS client waited for the sniff timeout ($secs s)"
	read -r what secs <"$T/$1.first"
	assert_eq hello "$what" "$1: plaintext client that speaks first greeted"
	awk -v s="$secs" -v t=$SNIFF 'BEGIN { exit !(s < t / 1000 * 0.75) }' ||
		fail "$1: the plaintext client that spoke first waited for the timeout ($secs s)"
}

P=$(free_port)
TLSSHIM_CONFIG_STRING="accept = ({ match = \"127.0.0.1:$P\"; $KEYS allow_plaintext = true; sniff_timeout_ms = $SNIFF; });" \
	LD_PRELOAD=$PRELOAD start_bg 90 "$PROGS/evprog_greetserver" $P >"$T/greet.out" 2>"$T/greet.log"
wait_port $P
check_greeter epoll
stop_bg $BG_PID

P=$(free_port)
TLSSHIM_CONFIG_STRING="accept = ({ match = \"127.0.0.1:$P\"; $KEYS allow_plaintext = true; sniff_timeout_ms = $SNIFF; });" \
	LD_PRELOAD=$PRELOAD start_bg 90 "$PY" "$T/pollgreet.py" $P 2>"$T/poll.log"
wait_port $P
check_greeter poll
stop_bg $BG_PID

P=$(free_port)
TLSSHIM_CONFIG_STRING="accept = ({ match = \"127.0.0.1:$P\"; $KEYS allow_plaintext = true; sniff_timeout_ms = $SNIFF; });" \
	LD_PRELOAD=$PRELOAD start_bg 90 "$PY" "$T/blockgreet.py" $P 2>"$T/block.log"
wait_port $P
check_greeter blocking
stop_bg $BG_PID

# without the key: the plaintext client gets no greeting
P=$(free_port)
TLSSHIM_CONFIG_STRING="accept = ({ match = \"127.0.0.1:$P\"; $KEYS });" \
	LD_PRELOAD=$PRELOAD start_bg 90 "$PROGS/evprog_greetserver" $P >"$T/greet2.out" 2>"$T/greet2.log"
wait_port $P
timeout 30 "$PY" "$T/client.py" plainfirst $P "$CERTS/ca.pem" >"$T/strict.first" || fail "strict: client"
read -r what secs <"$T/strict.first"
[ "$what" != hello ] || fail "strict rule: a plaintext client was greeted in plaintext"
timeout 30 "$PY" "$T/client.py" tls $P "$CERTS/ca.pem" >"$T/strict.tls" || fail "strict: tls client"
read -r what secs <"$T/strict.tls"
assert_eq hello "$what" "strict rule: TLS client greeted"
exit 0
