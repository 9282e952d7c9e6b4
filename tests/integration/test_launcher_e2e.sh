#!/bin/sh
# The launcher end to end with real tools: nc as a TLS client to
# openssl s_server (--connect), nc -l as a TLS server to openssl s_client
# (--accept), a config file (-c), IPv6, a lazy handshake, a wrong CA, and the version
# pin (--ssl-version TLSv1_2 fails closed against a TLS 1.3-only server and
# negotiates 1.2 against a default one).
. "$(dirname "$0")/lib.sh"

# s_server -rev answers each line reversed.
start_server() { # host port [s_server options...]
	_h=$1 _p=$2; shift 2
	start_bg 60 openssl s_server -accept "$_h:$_p" -cert "$CERTS/server.pem" -key "$CERTS/server.key" \
		-rev "$@" </dev/null >"$T/server-$_p.log" 2>&1
	SERVER_PID=$BG_PID
	wait_port "$_p"
}
reversed() { python3 -c 'import sys; print(sys.argv[1][::-1])' "$1"; }

# 1. nc -> s_server, verified against the test CA (hostname from the rule).
port=$(free_port)
start_server 127.0.0.1 "$port"
printf 'hello through tlsshim\n' | timeout 20 "$TLSSHIM" --connect "127.0.0.1:$port" \
	--ca-certs "$CERTS/ca.pem" --server-hostname localhost -v -- nc -N 127.0.0.1 "$port" \
	>"$T/reply" 2>"$T/log" || { cat "$T/log" >&2; fail "nc under --connect"; }
assert_eq "$(reversed 'hello through tlsshim')" "$(cat "$T/reply")" "the reply from s_server"
assert_contains "$T/log" "tlsshim\[[0-9]*\]: connect 127.0.0.1:$port TLSv1.3 .* verify=ok" "the info line"
assert_contains "$T/server-$port.log" "Protocol version: TLSv1.3" "the server saw TLS 1.3"

# ... and without --server-hostname: the certificate's IP address SAN.
printf 'by address\n' | timeout 20 "$TLSSHIM" --connect "127.0.0.1:$port" \
	--ca-certs "$CERTS/ca.pem" -- nc -N 127.0.0.1 "$port" >"$T/reply" 2>"$T/log" \
	|| { cat "$T/log" >&2; fail "nc under --connect, no server name"; }
assert_eq "$(reversed 'by address')" "$(cat "$T/reply")" "reply by address"

# ... lazily (the first write drives the handshake).
printf 'lazy\n' | timeout 20 "$TLSSHIM" --connect "127.0.0.1:$port" --lazy-handshake \
	--ca-certs "$CERTS/ca.pem" -- nc -N 127.0.0.1 "$port" >"$T/reply" 2>"$T/log" \
	|| { cat "$T/log" >&2; fail "nc under --lazy-handshake"; }
assert_eq "$(reversed lazy)" "$(cat "$T/reply")" "reply with a lazy handshake"

# ... with the rule in a config file instead.
cat > "$T/app.conf" <<C
version = 1;
connect = ( { match = "127.0.0.1:$port"; ca_certs = "$CERTS/ca.pem"; server_hostname = "localhost"; } );
C
printf 'from a config file\n' | timeout 20 "$TLSSHIM" -c "$T/app.conf" -- nc -N 127.0.0.1 "$port" \
	>"$T/reply" 2>"$T/log" || { cat "$T/log" >&2; fail "nc under -c"; }
assert_eq "$(reversed 'from a config file')" "$(cat "$T/reply")" "reply with -c"

# ... a wrong CA fails closed: nothing reaches the server. nc connects
# without blocking, so its first read drives the handshake; it takes the
# failed read as the end and exits 0. socat connects blocking, so its
# connect() fails with EPROTO and it exits non-zero.
printf 'must not arrive\n' | timeout 20 "$TLSSHIM" --connect "127.0.0.1:$port" \
	--ca-certs "$CERTS/other-ca.pem" -- nc -N 127.0.0.1 "$port" >"$T/reply" 2>"$T/log"
[ ! -s "$T/reply" ] || fail "a reply over an unverified connection"
assert_contains "$T/log" "certificate verify failed" "the reason is logged"
printf 'must not arrive either\n' | timeout 20 "$TLSSHIM" --connect "127.0.0.1:$port" \
	--ca-certs "$CERTS/other-ca.pem" -- socat - "TCP:127.0.0.1:$port" >"$T/reply" 2>"$T/log"
[ $? -ne 0 ] || fail "socat succeeded against a server its CA did not issue"
assert_contains "$T/log" "connect(.*Protocol error" "connect() fails with EPROTO"
[ ! -s "$T/reply" ] || fail "a reply over an unverified connection (socat)"
assert_not_contains "$T/server-$port.log" "must not arrive" "plaintext reached the server"
stop_bg "$SERVER_PID"

# 2. nc -l under --accept, answered by s_client, which verifies it.
port=$(free_port)
(printf 'from the server\n'; sleep 3) | timeout 30 "$TLSSHIM" --accept "*:$port" \
	--certfile "$CERTS/server.pem" --keyfile "$CERTS/server.key" -- nc -N -l 127.0.0.1 "$port" \
	>"$T/server-got" 2>"$T/server-err" &
nc_pid=$!
_pids="$_pids $nc_pid"
wait_port "$port"
printf 'from the client\n' | timeout 20 openssl s_client -connect "127.0.0.1:$port" \
	-CAfile "$CERTS/ca.pem" -verify_return_error -verify_hostname localhost -quiet \
	>"$T/client-got" 2>"$T/client-err" || { cat "$T/client-err" "$T/server-err" >&2; fail "s_client to nc -l"; }
wait "$nc_pid" || { cat "$T/server-err" >&2; fail "nc -l under --accept exited with an error"; }
assert_eq "from the server" "$(cat "$T/client-got")" "s_client received nc's line"
assert_eq "from the client" "$(cat "$T/server-got")" "nc -l received s_client's line"

# 3. IPv6.
port=$(free_port)
start_server "[::1]" "$port"
printf 'over ipv6\n' | timeout 20 "$TLSSHIM" --connect "[::1]:$port" --ca-certs "$CERTS/ca.pem" \
	-- nc -N ::1 "$port" >"$T/reply" 2>"$T/log" || { cat "$T/log" >&2; fail "nc over IPv6"; }
assert_eq "$(reversed 'over ipv6')" "$(cat "$T/reply")" "reply over IPv6"
stop_bg "$SERVER_PID"

# 4. Version pin: TLS 1.2 only, against a TLS 1.3-only server: EPROTO,
# non-zero, nothing in plaintext.
port=$(free_port)
start_server 127.0.0.1 "$port" -tls1_3
printf 'pinned secret\n' | timeout 20 "$TLSSHIM" --connect "127.0.0.1:$port" --ssl-version TLSv1_2 \
	--ca-certs "$CERTS/ca.pem" -- socat - "TCP:127.0.0.1:$port" >"$T/reply" 2>"$T/log"
[ $? -ne 0 ] || fail "TLSv1_2 against a TLS 1.3-only server succeeded"
[ ! -s "$T/reply" ] || fail "a reply from a TLS 1.3-only server to a TLS 1.2 client"
assert_contains "$T/log" "connect(.*Protocol error" "connect() fails with EPROTO"
assert_contains "$T/log" "protocol version" "the reason is logged"
printf 'pinned secret\n' | timeout 20 "$TLSSHIM" --connect "127.0.0.1:$port" --ssl-version TLSv1_2 \
	--ca-certs "$CERTS/ca.pem" -- nc -N 127.0.0.1 "$port" >"$T/reply" 2>"$T/log"
[ ! -s "$T/reply" ] || fail "a reply from a TLS 1.3-only server to a TLS 1.2 client (nc)"
assert_not_contains "$T/server-$port.log" "pinned secret" "plaintext reached the server"
stop_bg "$SERVER_PID"
# ... and against a default server it negotiates 1.2.
port=$(free_port)
start_server 127.0.0.1 "$port"
printf 'one point two\n' | timeout 20 "$TLSSHIM" --connect "127.0.0.1:$port" --ssl-version TLSv1_2 \
	--ca-certs "$CERTS/ca.pem" -v -- nc -N 127.0.0.1 "$port" >"$T/reply" 2>"$T/log" \
	|| { cat "$T/log" >&2; fail "TLSv1_2 against a default server"; }
assert_eq "$(reversed 'one point two')" "$(cat "$T/reply")" "reply over TLS 1.2"
assert_contains "$T/log" "connect 127.0.0.1:$port TLSv1.2 " "the log line says TLSv1.2"
assert_contains "$T/server-$port.log" "Protocol version: TLSv1.2" "the server saw TLS 1.2"
stop_bg "$SERVER_PID"
exit 0
