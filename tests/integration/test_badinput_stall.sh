#!/bin/sh
# Bad input and faults (README): a peer stalling mid-record.
#
# Connect rule: a raw Python TLS server (ssl.MemoryBIO, so it can cut a
# record) sends the first half of one application-data record right after
# the handshake, then the rest 1 s later. The wrapped program must never
# see a partial or garbled record: SO_RCVTIMEO (300 ms) gives -1 EAGAIN;
# poll, select and epoll_wait report readable only when the record is
# whole (>= 800 ms); a plain blocking read waits and returns the whole
# "answer". A peer that closes after half a record is a ragged EOF (the
# contract): read returns 0, or -1 ECONNRESET with suppress_ragged_eofs =
# false. The server records every byte the program sent: it must parse as
# TLS records from the first byte to the last, and the program's own
# marker arrives decrypted, never in clear.
#
# Accept rule: a client sends half of a ClientHello and stalls. An epoll
# server (non-blocking accept, lazy handshake) serves the next TLS client
# at once while the staller still waits; a blocking server
# (evprog_blockserver, handshake_timeout = 1) gives the stalled handshake
# up after 1 s, logs "handshake timed out", never returns that client from
# accept, and serves the next one. A server stalling mid-handshake on a
# connect rule fails connect() after handshake_timeout (EPROTO, warn).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_signals evprog_epollserver evprog_blockserver

cat >"$T/peer.py" <<'PY'
import socket, ssl, sys, threading, time
port, certs, mode, wire, clear = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(certs + "/server.pem", certs + "/server.key")
ctx.num_tickets = 0  # nothing but the cut record after the handshake
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(16)
lock = threading.Lock()
conns = [0]
def append(path, d):
    with lock, open(path, "ab") as f:
        f.write(d)
def serve(c):
    with lock:
        conns[0] += 1
        mywire = "%s.%d" % (wire, conns[0])
    c.settimeout(20)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_side=True)
    def pull():
        d = c.recv(65536)
        append(mywire, d)
        if not d:
            raise EOFError
        inc.write(d)
    try:
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                c.sendall(out.read())
                pull()
        c.sendall(out.read())
        obj.write(b"answer")
        record = out.read()
        half = len(record) // 2
        c.sendall(record[:half])
        print("sent half", half, "of", len(record), flush=True)
        if mode == "close":
            return
        time.sleep(1)
        c.sendall(record[half:])
        while True:
            pull()
            try:
                append(clear, obj.read(65536))
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                pass
    except (EOFError, OSError):
        pass
    finally:
        c.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

# The wrapped program: a plain blocking read, then it writes its marker.
cat >"$T/reader.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t = time.monotonic()
try:
    d = s.recv(100)
    got = repr(d)
except OSError as e:
    got = "-1 " + (e.strerror or str(e))
ms = int((time.monotonic() - t) * 1000)
if sys.argv[2] == "write":
    s.sendall(b"PLAINMARK-stall\n")
    s.shutdown(socket.SHUT_WR)
    s.recv(100)  # until the server closes
print(got, ms)
PY

: >"$T/clear"
P=$(free_port)
start_bg 120 python3 "$T/peer.py" $P "$CERTS" complete "$T/wire" "$T/clear" >"$T/peer.out" 2>&1
PC=$(free_port)
start_bg 120 python3 "$T/peer.py" $PC "$CERTS" close "$T/wirec" "$T/clear" >"$T/peerc.out" 2>&1
wait_port $P
wait_port $PC

for c in rcvtimeo pollwait selectwait epollwait; do
	timeout 20 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_connect_cfg $P)" \
		"$PROGS/evprog_signals" 127.0.0.1 $P $c >"$T/$c.out" 2>&1
	rc=$?
	cat "$T/$c.out"
	[ $rc -eq 0 ] && grep -q "^$c ok" "$T/$c.out" || fail "$c with half a record pending: $(cat "$T/$c.out")"
done

run_reader() { # PORT MODE [KEYS]
	LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_connect_cfg $1 "${3:-}")" \
		timeout 20 "$EVPY" "$T/reader.py" $1 $2 >"$T/reader.out" 2>"$T/reader.log" ||
		{ cat "$T/reader.log" >&2; fail "reader ($2) failed"; }
}
run_reader $P write
set -- $(cat "$T/reader.out")
assert_eq "b'answer'" "$1" "blocking read across a stalled record"
[ "$2" -ge 800 ] || fail "the blocking read returned after $2 ms, before the record was whole (1 s)"
echo "blocking read: the whole record after $2 ms"
n=200
until grep -q "PLAINMARK-stall" "$T/clear"; do
	n=$((n - 1)); [ $n -gt 0 ] || fail "the program's marker never arrived through TLS"; sleep 0.05
done

run_reader $PC none
assert_eq "b''" "$(cut -d' ' -f1 "$T/reader.out")" "half a record, then EOF (suppress_ragged_eofs = true)"
run_reader $PC none "suppress_ragged_eofs = false;"
assert_eq "-1 Connection reset by peer" "$(sed 's/ [0-9]*$//' "$T/reader.out")" \
	"half a record, then EOF (suppress_ragged_eofs = false)"

# The wire from the program: TLS records end to end, nothing in clear.
python3 - "$T"/wire.* "$T"/wirec.* <<'PY' || fail "the program sent something that is not a TLS record"
import sys
total = n = 0
for path in sys.argv[1:]:  # one file a connection
    data = open(path, "rb").read()
    i = 0
    while i < len(data):
        typ, ver, ln = data[i], int.from_bytes(data[i + 1:i + 3], "big"), int.from_bytes(data[i + 3:i + 5], "big")
        if typ not in (20, 21, 22, 23) or ver not in (0x0301, 0x0303) or i + 5 + ln > len(data):
            sys.exit("%s byte %d: not a TLS record header: %r" % (path, i, data[i:i + 16]))
        i += 5 + ln
        n += 1
    total += len(data)
print("wire: %d connections, %d bytes, %d TLS records" % (len(sys.argv) - 1, total, n))
PY
cat "$T"/wire.* >"$T/wire"
assert_not_contains "$T/wire" "PLAINMARK" "the program's bytes crossed the wire in clear"

# Accept rule: half a ClientHello, then silence (until killed).
cat >"$T/staller.py" <<'PY'
import socket, ssl, sys, time
ctx = ssl.create_default_context()
inc, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, outb, server_hostname="localhost")
try:
    obj.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = outb.read()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(hello[:len(hello) // 2])
print("stalled after", len(hello) // 2, "of", len(hello), flush=True)
time.sleep(60)
PY
stall() { # PORT
	start_bg 30 python3 "$T/staller.py" $1 >"$T/staller.out" 2>&1
	STALL=$BG_PID
	ev_wait_file "$T/staller.out" "stalled after"
}

PE=$(free_port)
LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg $PE)" \
	start_bg 60 "$PROGS/evprog_epollserver" $PE lt >"$T/ep.out" 2>"$T/ep.log"
EPS=$BG_PID
wait_port $PE
stall $PE
ev_wait_file "$T/ep.out" "accepted 1"
start=$(date +%s%N)
timeout 8 "$EVPY" "$EV" tls-clients --port $PE --count 1 --timeout 8 >"$T/ok.out" 2>&1 ||
	{ cat "$T/ok.out" "$T/ep.log" >&2; fail "epoll server: the next client was not served behind a stalled handshake"; }
ms=$(( ($(date +%s%N) - start) / 1000000 ))
kill -0 $STALL 2>/dev/null || fail "the staller ended early (the test proves nothing)"
echo "epoll server: next client served in $ms ms, the stalled handshake still pending"
stop_bg $STALL
stop_bg $EPS

PB=$(free_port)
LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg $PB "handshake_timeout = 1;")" \
	start_bg 60 "$PROGS/evprog_blockserver" $PB 1 >"$T/bs.out" 2>"$T/bs.log"
BS=$BG_PID
wait_port $PB
stall $PB
# the server is inside the stalled handshake: the listener's queue is empty
n=200
until [ "$(ss -Hltn "sport = :$PB" | awk '{print $2; exit}')" = 0 ]; do
	n=$((n - 1)); [ $n -gt 0 ] || fail "the stalled client was never taken off the accept queue"; sleep 0.05
done
start=$(date +%s%N)
echo ok | timeout 10 openssl s_client -connect 127.0.0.1:$PB -quiet -CAfile "$CERTS/ca.pem" >"$T/bsok.out" 2>/dev/null
ms=$(( ($(date +%s%N) - start) / 1000000 ))
assert_eq "echo: ok" "$(cat "$T/bsok.out")" "blocking server: the next client is served"
wait $BS || fail "evprog_blockserver failed"
assert_eq "listening $PB
served 1" "$(cat "$T/bs.out")" "blocking server: accept never returned the stalled client"
assert_contains "$T/bs.log" "accept 127.0.0.1:[0-9]*: failed (rule .*): .*handshake timed out" "the stalled handshake's warn line"
[ $ms -lt 6000 ] || fail "blocking server: the next client waited $ms ms (handshake_timeout is 1 s)"
echo "blocking server: next client served after $ms ms (handshake_timeout 1 s)"

# Connect rule: a server that answers the ClientHello with half a
# ServerHello record, then stalls. The handshake in connect() is bounded
# by handshake_timeout (1 s here): connect, write and read fail with EPROTO
# (a handshake failure), the warn line says why, and the program's "ping"
# never leaves: the server received one TLS record (the ClientHello).
PS=$(free_port)
start_bg 30 python3 -c "
import socket, sys, time
ls = socket.create_server(('127.0.0.1', int(sys.argv[1])))
print('listening', flush=True)
c, _ = ls.accept()
c.settimeout(10)
got = b''
try:
    got = c.recv(65536)
    c.sendall(bytes.fromhex('160303007a0200007603'))  # 10 of a 127-byte record
    while True:
        d = c.recv(65536)
        if not d:
            break
        got += d
except OSError:
    pass
open(sys.argv[2], 'wb').write(got)
" $PS "$T/hs.rec" >"$T/hs.out" 2>&1
HS=$BG_PID
wait_port $PS
start=$(date +%s%N)
TLSSHIM_CONFIG_STRING="connect = ({ match = \"localhost:$PS\"; ca_certs = \"$CERTS/ca.pem\"; handshake_timeout = 1; });" \
	LD_PRELOAD=$PRELOAD timeout 20 "$PROGS/tsprog_client" ghbn localhost $PS >"$T/hs.prog" 2>"$T/hs.log"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
assert_eq "connect=-1 errno=EPROTO
write=-1 errno=EPROTO
read=-1 errno=EPROTO" "$(cat "$T/hs.prog")" "a server stalling mid-handshake"
assert_contains "$T/hs.log" "connect 127.0.0.1:$PS: failed (rule .*): handshake timed out" "its warn line"
[ $ms -ge 900 ] && [ $ms -lt 6000 ] || fail "connect failed after $ms ms (handshake_timeout is 1 s)"
wait $HS
python3 - "$T/hs.rec" <<'PY' || fail "the stalled server received more than the ClientHello"
import sys
d = open(sys.argv[1], "rb").read()
ok = len(d) >= 5 and d[0] == 22 and len(d) == 5 + int.from_bytes(d[3:5], "big")
sys.exit(0 if ok else "received %d bytes: %r" % (len(d), d[:40]))
PY
echo "connect rule: the stalled handshake failed after $ms ms (handshake_timeout 1 s)"
exit 0
