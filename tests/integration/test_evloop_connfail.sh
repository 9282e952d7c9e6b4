#!/bin/sh
# A failed non-blocking connect reads as one (CONTRACT.md; issue 9, item 4).
# Real programs that connect non-blocking and learn the outcome from
# poll/epoll and getsockopt(SO_ERROR) run under a connect rule against four
# peers whose TLS handshake fails: an untrusted certificate, a plaintext
# server that answers garbage, a certificate for another host name, and a
# server that refuses the rule's protocol version. Each program must report
# a connection error and exit non-zero (or, for node and asyncio, fail the
# connect itself), not see a connected socket whose writes fail later:
#   nc -N      `printf x | nc -N ... && echo sent` must not print sent
#   curl       exit 7 (could not connect), not a send or receive failure
#   node       net.connect emits 'error' (EPROTO), never 'connect'
#   asyncio    open_connection raises OSError(EPROTO)
#   psql       "... port N failed: Protocol error" (the connect's SO_ERROR,
#              not "could not receive data from server"), exit non-zero
# evprog_connfail shows the terms for poll, ppoll, select, pselect, epoll
# and EPOLLET: POLLERR with the POLLOUT asked for (select: writable),
# SO_ERROR EPROTO once then 0, read and write EPROTO after.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
sanitizer_skip_wraps "curl and psql"
ev_need_preload
ev_need_progs evprog_connfail
for p in nc curl node psql; do
	command -v "$p" >/dev/null 2>&1 || fail "$p is not installed (tests/deps.sh)"
done

s_server() { # PORT ARGS...: an openssl s_server that keeps accepting
	_p=$1; shift
	start_bg 120 openssl s_server -accept "127.0.0.1:$_p" -quiet "$@" </dev/null \
		>"$T/s_server.$_p.log" 2>&1
	wait_port "$_p"
}

UNTRUSTED=$(free_port)
s_server "$UNTRUSTED" -cert "$CERTS/selfsigned.pem" -key "$CERTS/selfsigned.key"
WRONGHOST=$(free_port)
s_server "$WRONGHOST" -cert "$CERTS/wronghost.pem" -key "$CERTS/wronghost.key"
VERSION=$(free_port)
s_server "$VERSION" -cert "$CERTS/server.pem" -key "$CERTS/server.key" -tls1_3
PLAIN=$(free_port)
cat > "$T/garbage.py" <<'PY'
import socket, sys, threading
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(64)
def run(c):
    try:
        c.settimeout(10)
        c.recv(4096)
        c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nthis is not TLS\r\n")
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=run, args=(c,), daemon=True).start()
PY
start_bg 120 "$EVPY" "$T/garbage.py" "$PLAIN"
wait_port "$PLAIN"

cat > "$T/client.js" <<'JS'
const net = require('net');
const s = net.connect(+process.argv[2], '127.0.0.1');
const t = setTimeout(() => { console.log('timeout'); process.exit(4); }, 15000);
s.on('connect', () => { console.log('connected'); s.write('x'); });
s.on('error', (e) => { console.log('error ' + e.code); clearTimeout(t); process.exit(3); });
s.on('close', () => { clearTimeout(t); process.exit(0); });
JS
cat > "$T/client.py" <<'PY'
import asyncio, errno, sys
async def main():
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", int(sys.argv[1])), 15)
    except OSError as e:
        print("raised", errno.errorcode.get(e.errno, e.errno))
        return 3
    print("opened")
    w.write(b"x")
    try:
        await w.drain()
        await asyncio.wait_for(r.read(1), 5)
    except Exception as e:
        print("later", type(e).__name__, e)
    return 0
sys.exit(asyncio.run(main()))
PY

# run KIND PORT RULE-KEYS: every client against one failing peer.
bad=""
run() {
	kind=$1 port=$2 cfg=$(ev_connect_cfg "$2" "$3")
	shim() { timeout 30 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$cfg" "$@"; }

	out=$(printf x | shim nc -N 127.0.0.1 "$port" 2>&1 && echo sent)
	rc=$?
	echo "$kind nc (exit $rc): $out"
	case "$out" in *sent*) bad="$bad $kind/nc";; esac

	out=$(shim curl -sS -o /dev/null --max-time 20 "http://127.0.0.1:$port/" 2>&1)
	rc=$?
	echo "$kind curl (exit $rc): $out"
	[ $rc -eq 7 ] || bad="$bad $kind/curl"

	out=$(shim node "$T/client.js" "$port" 2>&1)
	rc=$?
	echo "$kind node (exit $rc): $out"
	{ [ $rc -eq 3 ] && echo "$out" | grep -q "^error EPROTO" &&
		! echo "$out" | grep -q "^connected"; } || bad="$bad $kind/node"

	out=$(shim "$EVPY" "$T/client.py" "$port" 2>&1)
	rc=$?
	echo "$kind asyncio (exit $rc): $out"
	{ [ $rc -eq 3 ] && echo "$out" | grep -q "^raised EPROTO"; } || bad="$bad $kind/asyncio"

	out=$(shim psql "host=127.0.0.1 port=$port user=x dbname=x sslmode=disable connect_timeout=10" \
		-Atc 'select 1' 2>&1)
	rc=$?
	echo "$kind psql (exit $rc): $out"
	{ [ $rc -ne 0 ] && echo "$out" | grep -v '^tlsshim\[' | grep -q "port $port failed: Protocol error"; } ||
		bad="$bad $kind/psql"
}

# The terms themselves, for each readiness call.
for port in "$UNTRUSTED" "$PLAIN"; do
	for mode in poll ppoll select pselect epoll epollet; do
		case $mode in *select) ready=OUT;; *) ready="OUT|ERR";; esac
		want="$mode: ready=$ready so_error=EPROTO so_error2=0 write=EPROTO read=EPROTO"
		got=$(timeout 30 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_connect_cfg "$port")" \
			"$PROGS/evprog_connfail" 127.0.0.1 "$port" $mode 2>/dev/null)
		echo "$got"
		[ "$got" = "$want" ] || bad="$bad $port/$mode"
	done
done

run untrusted "$UNTRUSTED" ""
run plaintext "$PLAIN" ""
run wronghost "$WRONGHOST" 'server_hostname = "localhost";'
run version "$VERSION" 'ssl_version = "PROTOCOL_TLSv1_2";'
[ -z "$bad" ] || fail "a failed handshake read as a connection for:$bad"
exit 0
