#!/bin/sh
# Signal handlers (issue 10 item 4): a handler that writes to a wrapped
# socket, or connects a new socket a rule matches, while its thread is
# inside a wrapped read, write, connect or poll goes through TLS, or fails
# with an error (EDEADLK/EAGAIN) when the interrupted call holds that
# connection; never plaintext, never a hang. evprog_sighandler talks to a
# TLS server through a recording plain proxy: the proxy's record of the
# wire must hold none of the program's bytes, the server's record of the
# decrypted streams holds what the handler sent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_sighandler

cat >"$T/peers.py" <<'PY'
import socket, ssl, sys, threading, time
pa, px, cert, key, tlsrec, wirerec = sys.argv[1:7]
lock = threading.Lock()
def record(path, data):
    with lock, open(path, "ab") as f:
        f.write(data)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
def tls_conn(c):
    try:
        s = ctx.wrap_socket(c, server_side=True)
        while True:
            d = s.recv(65536)
            if not d:
                break
            record(tlsrec, d)
    except OSError:
        pass
    finally:
        c.close()
def listener(port, fn):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", int(port)))
    ls.listen(64)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=fn, args=(c,), daemon=True).start()
def pump(a, b, path):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            if path:
                record(path, d)
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
def proxy_conn(c):
    time.sleep(0.4)   # every handshake waits: the handler lands inside it
    u = socket.create_connection(("127.0.0.1", int(pa)))
    threading.Thread(target=pump, args=(c, u, wirerec), daemon=True).start()
    pump(u, c, None)
threading.Thread(target=listener, args=(pa, tls_conn), daemon=True).start()
listener(px, proxy_conn)
PY
PA=$(free_port)
PX=$(free_port)
: >"$T/tls.rec"
: >"$T/wire.rec"
start_bg 300 python3 "$T/peers.py" $PA $PX "$CERTS/server.pem" "$CERTS/server.key" \
	"$T/tls.rec" "$T/wire.rec"
wait_port $PA
wait_port $PX
cfg="connect = ({ match = \"127.0.0.1:$PX\"; ca_certs = \"$CERTS/ca.pem\"; });"

for c in read write connect poll; do
	TLSSHIM_CONFIG_STRING="$cfg" LD_PRELOAD=$PRELOAD timeout 60 \
		"$PROGS/evprog_sighandler" 127.0.0.1 $PX $c >"$T/$c.out" 2>"$T/$c.err"
	rc=$?
	cat "$T/$c.out"
	[ $rc -ne 124 ] || fail "$c: the program hung (deadlock?)"
	[ $rc -eq 0 ] || { cat "$T/$c.err" >&2; fail "$c: evprog_sighandler failed ($rc)"; }
	set -- $(cat "$T/$c.out")
	# CASE main R E write R E connect R E
	[ "$5" = write ] && [ "$8" = connect ] || fail "$c: bad output"
	wr=$6 we=$7 cr=$9 ce=${10}
	if [ "$wr" = 0 ]; then
		:
	elif [ "$we" != EDEADLK ] && [ "$we" != EAGAIN ]; then
		fail "$c: the handler's write failed with $we (only EDEADLK/EAGAIN may refuse it)"
	fi
	[ "$cr" = 0 ] || fail "$c: the handler's connect or its write failed: $cr $ce"
done
# Everything is recorded once the streams end; wait for the markers.
n=200
until grep -q "HANDLER-CONNECT-poll" "$T/tls.rec"; do
	n=$((n - 1)); [ $n -gt 0 ] || break; sleep 0.05
done
for c in read write connect poll; do
	grep -q "HANDLER-CONNECT-$c" "$T/tls.rec" || fail "$c: the handler's new connection did not arrive through TLS"
	if grep -q "^$c main [^ ]* [^ ]* write 0 " "$T/$c.out"; then
		grep -q "HANDLER-WRITE-$c" "$T/tls.rec" || fail "$c: the handler's write did not arrive through TLS"
	fi
done
[ -s "$T/wire.rec" ] || fail "the proxy recorded nothing"
if grep -aq "HANDLER-" "$T/wire.rec"; then
	fail "a handler's bytes crossed the wire in plaintext"
fi
if grep -aq "wwwwwwwwwwwwwwww" "$T/wire.rec"; then
	fail "the main thread's bytes crossed the wire in plaintext"
fi
