#!/bin/sh
# A plain Python asyncio client (default loop: the epoll selector, a
# non-blocking connect) under a connect rule (LD_PRELOAD and
# TLSSHIM_CONFIG_STRING, no launcher) exchanges 1000 request/response
# round trips, then 1000 pipelined requests, with a Python ssl server (also
# through a rule that names the host, resolved in asyncio's executor); and
# a plain asyncio echo server under an accept rule serves 200 TLS clients,
# 8 at a time; and an asyncio server's loop.sendfile goes out through TLS.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload

P=$(free_port)
start_bg 120 "$EVPY" "$EV" line-server --port "$P" --timeout 60 > "$T/server.log" 2>&1
wait_port "$P"

timeout 90 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_connect_cfg "$P")" \
	"$EVPY" "$EV" asyncio-client --port "$P" --count 1000 --timeout 5 > "$T/client.log" 2>&1
rc=$?
cat "$T/client.log"
[ $rc -eq 0 ] || { cat "$T/server.log" >&2; fail "asyncio client exited $rc"; }
assert_contains "$T/client.log" "selector EpollSelector" "asyncio used epoll"
assert_contains "$T/client.log" "round trips ok 1000" "1000 round trips"
assert_contains "$T/client.log" "pipelined ok 1000" "1000 pipelined requests"
assert_not_contains "$T/server.log" "conn-error" "server-side TLS errors"

# A rule by host name: asyncio resolves "localhost" with getaddrinfo in an
# executor thread; the connect in the loop's thread must still match it.
NAMECFG=$(printf 'version = 1;\nconnect = ( { match = "localhost:%s"; ca_certs = "%s"; } );\n' \
	"$P" "$CERTS/ca.pem")
timeout 60 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$NAMECFG" \
	"$EVPY" "$EV" asyncio-client --host localhost --port "$P" --count 50 --timeout 5 > "$T/name.log" 2>&1
rc=$?
cat "$T/name.log"
[ $rc -eq 0 ] || { cat "$T/server.log" >&2; fail "asyncio client by host name exited $rc"; }
assert_contains "$T/name.log" "pipelined ok 50" "asyncio client matched by a host-name rule"
assert_not_contains "$T/server.log" "conn-error" "server-side TLS errors (host-name rule)"

P2=$(free_port)
start_bg 120 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg "$P2")" \
	"$EVPY" "$EV" asyncio-server --port "$P2" > "$T/aserver.log" 2>&1
ASERVER=$BG_PID
wait_port "$P2"
timeout 90 "$EVPY" "$EV" tls-clients --port "$P2" --count 200 --parallel 8 --size 30000 --timeout 10 \
	> "$T/clients.log" 2>&1
rc=$?
cat "$T/clients.log"
[ $rc -eq 0 ] || { tail -n 20 "$T/aserver.log" >&2; fail "TLS clients of the wrapped asyncio server failed"; }
assert_contains "$T/clients.log" "clients ok 200 of 200" "200 TLS clients of the wrapped asyncio server"
assert_contains "$T/aserver.log" "selector EpollSelector" "the asyncio server used epoll"
kill -0 "$ASERVER" 2>/dev/null || fail "the wrapped asyncio server died"

# loop.sendfile: os.sendfile on a non-blocking wrapped socket, retried on
# EAGAIN, to a fast and a slow (10 MB/s) reader, through the recording
# relay: right bytes, no plaintext marker on the wire.
P3=$(free_port)
R=$(free_port)
MARK="tlsshim-asyncio-sendfile-marker-$$-$P3"
ev_marker_file "$T/file" 8 "$MARK"
want=$(sha256sum < "$T/file" | cut -d' ' -f1)
start_bg 120 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg "$P3")" \
	"$EVPY" "$EV" asyncio-sendfile-server --port "$P3" --record "$T/file" > "$T/sfserver.log" 2>&1
start_bg 120 "$EVPY" "$EV" relay --port "$R" --to "$P3" --record "$T/wire" > "$T/relay.log" 2>&1
wait_port "$P3"
wait_port "$R"
for rate in 0 10000000; do
	timeout 60 "$EVPY" "$EV" fetch --port "$R" --size "$rate" --timeout 20 > "$T/fetch.log" 2>&1 \
		|| { cat "$T/fetch.log" "$T/sfserver.log" >&2; fail "fetch from the asyncio sendfile server (rate $rate) failed"; }
	cat "$T/fetch.log"
	assert_contains "$T/fetch.log" "^fetched 8388608 $want\$" "the file through asyncio's loop.sendfile (rate $rate)"
done
if grep -q -a -F "$MARK" "$T/wire"; then fail "asyncio sendfile bytes went out in plaintext"; fi
echo "asyncio loop.sendfile: 2 x 8 MiB intact, no plaintext on the wire"
exit 0
