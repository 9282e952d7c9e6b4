#!/bin/sh
# A wrapped epoll server's steady request/response loop costs the kernel
# no registration change: once a connection is established, a request and
# its answer make no epoll_ctl, level-triggered or edge-triggered, as in
# the program without tlsshim. (The engine used to take EPOLLIN out of the
# kernel's registration while OpenSSL held a decrypted request and put it
# back once the program had read it: two epoll_ctl per request, each a
# search of the kernel's tree of every registration, 0.90x redis's native
# TLS with 10,000 idle connections.) Counted with strace:
#  - evprog_epollserver (one thread, echo) lt and et, 400 round trips of a
#    small message over one TLS connection from python3;
#  - redis-server (level-triggered), 2 x 1,000 PINGs from redis-benchmark
#    --tls -c 1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_launcher
ev_need_preload
ev_need_progs evprog_epollserver
command -v strace >/dev/null || fail "strace is not installed (sh tests/deps.sh test)"

N=400
cat >"$T/rt.py" <<'PY'
import socket, ssl, sys
port, n, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        for i in range(n):
            msg = b"request %06d\n" % i
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                b = s.recv(len(msg) - len(got))
                if not b:
                    sys.exit("closed after %d round trips" % i)
                got += b
            if got != msg:
                sys.exit("round trip %d: %r" % (i, got))
print("round trips ok", n)
PY

# epoll_ctl calls the traced process tree made (strace -f output).
ctl_count() { grep -c 'epoll_ctl(' "$1"; }

# The server runs under strace -f (under timeout): killing the server,
# strace's child, ends strace too. LeakSanitizer cannot run under
# ptrace (a sanitizer tree's server runs without it).
traced_server() { # OUT -- command...
	_out=$1
	shift 2
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		start_bg 120 strace -f -qq -e trace=epoll_ctl -o "$_out" "$@"
	TRACER=$BG_PID
}
server_pid() { # the traced program (timeout, strace, then the launcher exec'd into it)
	_n=200
	while [ $_n -gt 0 ]; do
		_s=$(ev_children "$TRACER")
		_c=$([ -z "$_s" ] || ev_children "$_s")
		if [ -n "$_c" ]; then echo "$_c"; return 0; fi
		_n=$((_n - 1)); sleep 0.05
	done
	fail "strace started no server"
}

for mode in lt et; do
	P=$(free_port)
	traced_server "$T/st-$mode" -- "$TLSSHIM" --accept "127.0.0.1:$P" --certfile "$CERTS/server.pem" \
		--keyfile "$CERTS/server.key" -- "$PROGS/evprog_epollserver" "$P" "$mode"
	SRV=$(server_pid)
	wait_port "$P" 20
	timeout 60 "$EVPY" "$T/rt.py" "$P" $N "$CERTS/ca.pem" >"$T/rt-$mode.out" 2>&1 ||
		fail "$mode: the TLS client failed: $(tail -n 3 "$T/rt-$mode.out")"
	grep -q "^round trips ok $N" "$T/rt-$mode.out" || fail "$mode: no result from the client"
	stop_bg "$SRV"
	wait "$TRACER" 2>/dev/null
	n=$(ctl_count "$T/st-$mode")
	# the program's own: the listener, the connection's ADD and DEL; the
	# engine's during the handshake: a few
	[ "$n" -le 20 ] || fail "$mode: $n epoll_ctl for one connection and $N round trips (at most 20): $(
		grep 'epoll_ctl(' "$T/st-$mode" | sed -n '10,14p')"
	echo "evprog_epollserver $mode: $N round trips, $n epoll_ctl in all"
done

# redis-server: the real program the scale benchmark wraps.
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null ||
	fail "redis-server or redis-benchmark is not installed (sh tests/deps.sh test)"
P=$(free_port)
mkdir -p "$T/r"
traced_server "$T/st-redis" -- "$TLSSHIM" --accept "127.0.0.1:$P" --certfile "$CERTS/server.pem" \
	--keyfile "$CERTS/server.key" -- redis-server --bind 127.0.0.1 --port "$P" --save '' \
	--appendonly no --dir "$T/r" --logfile "$T/r/log"
SRV=$(server_pid)
wait_port "$P" 20
timeout 60 redis-benchmark -h 127.0.0.1 -p "$P" -c 1 -n 1000 -t ping --csv --tls \
	--cacert "$CERTS/ca.pem" >"$T/rb.out" 2>&1 || fail "redis-benchmark failed: $(tail -n 3 "$T/rb.out")"
grep -q '^"PING_MBULK"' "$T/rb.out" || fail "redis-benchmark printed no PING_MBULK rate: $(tail -n 3 "$T/rb.out")"
stop_bg "$SRV"
wait "$TRACER" 2>/dev/null
n=$(ctl_count "$T/st-redis")
# a handful per connection (redis-benchmark opens one per test and one to
# read the server's configuration), none per request
[ "$n" -le 40 ] || fail "redis-server: $n epoll_ctl for 2,000 PINGs over a few connections (at most 40)"
echo "redis-server: 2,000 PINGs, $n epoll_ctl in all"
