#!/bin/sh
# redis (an epoll event loop) both ways:
#  1. redis-server under `tlsshim --accept` answers redis's own TLS client
#     (redis-cli --tls), also while a silent client is connected, and a
#     plain redis-cli under `tlsshim --connect`; its unix socket stays plain;
#  2. a plain redis-cli under `tlsshim --connect` talks to a redis-server
#     running its own native TLS;
#  3. redis-benchmark (50 clients, no pipelining) under `tlsshim --connect`
#     completes against both with non-zero rates; also pipelined (-P 16)
#     against the wrapped server, and against a wrapped redis-server with 4
#     I/O threads.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_launcher
ev_need_preload

P=$(free_port)
P2=$(free_port)
mkdir -p "$T/r1" "$T/r2"

start_bg 120 "$TLSSHIM" --accept "*:$P" --certfile "$CERTS/server.pem" --keyfile "$CERTS/server.key" \
	-- redis-server --bind 127.0.0.1 --port "$P" --save '' --appendonly no --dir "$T/r1" \
	--logfile "$T/r1/log" --unixsocket "$T/r1/sock"
WRAPPED=$BG_PID
start_bg 120 redis-server --bind 127.0.0.1 --port 0 --tls-port "$P2" --save '' --appendonly no \
	--dir "$T/r2" --logfile "$T/r2/log" \
	--tls-cert-file "$CERTS/server.pem" --tls-key-file "$CERTS/server.key" \
	--tls-ca-cert-file "$CERTS/ca.pem" --tls-auth-clients no
NATIVE=$BG_PID
# A third, wrapped, with I/O threads: reads and writes of wrapped sockets
# from several threads (redis hands clients to them when busy).
P3=$(free_port)
mkdir -p "$T/r3"
start_bg 120 "$TLSSHIM" --accept "*:$P3" --certfile "$CERTS/server.pem" --keyfile "$CERTS/server.key" \
	-- redis-server --bind 127.0.0.1 --port "$P3" --save '' --appendonly no --dir "$T/r3" \
	--logfile "$T/r3/log" --io-threads 4 --io-threads-do-reads yes
THREADED=$BG_PID
wait_port "$P"
wait_port "$P2"
wait_port "$P3"

cli_shim() { # PORT args...: a plain redis-cli under a connect rule
	_port=$1; shift
	timeout 20 "$TLSSHIM" --connect "127.0.0.1:$_port" --ca-certs "$CERTS/ca.pem" \
		-- redis-cli -h 127.0.0.1 -p "$_port" "$@"
}
cli_tls() { # PORT args...: redis's own TLS client
	_port=$1; shift
	timeout 20 redis-cli --tls --cacert "$CERTS/ca.pem" -h 127.0.0.1 -p "$_port" "$@"
}

# 1. Wrapped server, redis's own TLS client.
assert_eq PONG "$(cli_tls "$P" ping 2>&1)" "redis-cli --tls ping to the wrapped server"
assert_eq OK "$(cli_tls "$P" set k1 native-client-value 2>&1)" "redis-cli --tls set"
assert_eq native-client-value "$(cli_tls "$P" get k1 2>&1)" "redis-cli --tls get"
# A plain client does not get an answer from the wrapped server (it is TLS).
out=$(timeout 5 redis-cli -h 127.0.0.1 -p "$P" ping 2>&1)
[ "$out" != PONG ] || fail "the wrapped redis-server answered a plaintext PING"
# A client that never sends its ClientHello does not stall redis's loop.
start_bg 60 nc -d 127.0.0.1 "$P"
SILENT=$BG_PID
i=0
until ss -Htn state established "( dport = :$P )" | grep -q .; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "nc never connected"; sleep 0.05
done
assert_eq PONG "$(timeout 3 redis-cli --tls --cacert "$CERTS/ca.pem" -h 127.0.0.1 -p "$P" ping 2>&1)" \
	"redis-cli --tls ping within 3 s while a silent client is connected"
stop_bg "$SILENT"
# 1b. Wrapped server, wrapped client.
assert_eq PONG "$(cli_shim "$P" ping 2>&1)" "wrapped redis-cli ping to the wrapped server"
assert_eq OK "$(cli_shim "$P" set k2 shim-client-value 2>&1)" "wrapped redis-cli set"
assert_eq shim-client-value "$(cli_shim "$P" get k2 2>&1)" "wrapped redis-cli get"
assert_eq native-client-value "$(cli_shim "$P" get k1 2>&1)" "wrapped redis-cli get of the other client's key"
# Unix sockets are never wrapped: the same server answers plain redis-cli -s.
assert_eq PONG "$(timeout 10 redis-cli -s "$T/r1/sock" ping 2>&1)" "plain ping over the wrapped server's unix socket"
assert_eq native-client-value "$(timeout 10 redis-cli -s "$T/r1/sock" get k1 2>&1)" "plain get over the unix socket"
echo "wrapped redis-server: redis-cli --tls and wrapped redis-cli both served; its unix socket stays plain"

# 2. Native TLS server, wrapped client.
assert_eq PONG "$(cli_tls "$P2" ping 2>&1)" "redis-cli --tls ping to the native TLS server (control)"
assert_eq PONG "$(cli_shim "$P2" ping 2>&1)" "wrapped redis-cli ping to the native TLS server"
assert_eq OK "$(cli_shim "$P2" set k3 "$(printf 'v%.0s' $(seq 1 5000))" 2>&1)" "wrapped redis-cli set (5000 bytes)"
assert_eq 5000 "$(cli_shim "$P2" strlen k3 2>&1)" "wrapped redis-cli strlen"
assert_eq 5000 "$(cli_tls "$P2" strlen k3 2>&1)" "the native client sees the value the wrapped one set"
echo "native TLS redis-server: wrapped redis-cli served"

# 3. redis-benchmark under a connect rule. It spins forever when it cannot
# connect, hence `timeout 60`; -q prints "SET: N requests per second...".
bench() { # PORT NAME [PIPELINE]
	timeout 60 "$TLSSHIM" --connect "127.0.0.1:$1" --ca-certs "$CERTS/ca.pem" \
		-- redis-benchmark -h 127.0.0.1 -p "$1" -t set,get -n 2000 -c 50 -P "${3:-1}" -q \
		> "$T/bench-$2" 2>&1
	_rc=$?
	tr '\r' '\n' < "$T/bench-$2" > "$T/bench-$2.txt"
	[ $_rc -eq 0 ] || { tail -n 20 "$T/bench-$2.txt" >&2; fail "redis-benchmark against the $2 server exited $_rc"; }
	for _t in SET GET; do
		_rate=$(grep "^$_t: .* requests per second" "$T/bench-$2.txt" | tail -n 1 | awk '{print $2}')
		[ -n "$_rate" ] || { cat "$T/bench-$2.txt" >&2; fail "no $_t rate from redis-benchmark ($2)"; }
		awk -v r="$_rate" 'BEGIN { exit !(r > 0) }' || fail "$_t rate $_rate ($2)"
		echo "redis-benchmark $2 $_t: $_rate requests per second"
	done
}
bench "$P" wrapped
bench "$P2" native
# Pipelined (16 commands a write): many replies per TLS read, plaintext
# pending in the library on both wrapped ends.
bench "$P" wrapped-pipelined 16
bench "$P3" wrapped-io-threads
assert_eq PONG "$(cli_tls "$P3" ping 2>&1)" "redis-cli --tls ping to the wrapped server with I/O threads"

kill -0 "$WRAPPED" 2>/dev/null || fail "the wrapped redis-server died"
kill -0 "$NATIVE" 2>/dev/null || fail "the native TLS redis-server died"
kill -0 "$THREADED" 2>/dev/null || fail "the wrapped redis-server with I/O threads died"
exit 0
