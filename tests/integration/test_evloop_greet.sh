#!/bin/sh
# A server that speaks first (issue 4, item 2: a handshake that must read
# while the program waits to write). evprog_greetserver, a plain
# non-blocking epoll server under an accept rule, writes "hello" on accept
# and waits for EPOLLOUT on EAGAIN. Under TLS the ClientHello must be read
# first, so the interposer has to wait on the kernel's EPOLLIN while the
# program waits for EPOLLOUT:
#  - with a silent client connected, the server stays idle (< 30 ms CPU
#    in 1 s), i.e. it is not told EPOLLOUT only to get EAGAIN again;
#  - a ClientHello trickled in 4 pieces over 2 s costs it < 50 ms CPU and
#    that client gets the greeting;
#  - 20 ordinary TLS clients get the greeting.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_greetserver

P=$(free_port)
start_bg 120 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg "$P")" \
	"$PROGS/evprog_greetserver" "$P" > "$T/server.log" 2>&1
SERVER=$BG_PID
wait_port "$P"
prog=$(ev_children "$SERVER" | head -n 1)
[ -n "$prog" ] || fail "no greet server process"

start_bg 60 nc -d 127.0.0.1 "$P"
ev_wait_file "$T/server.log" "^accepted 1\$" 10
c0=$(ev_cpu_ms "$prog")
sleep 1
c1=$(ev_cpu_ms "$prog")
[ $((c1 - c0)) -lt 30 ] || { tail -n 5 "$T/server.log" >&2; \
	fail "the greet server used $((c1 - c0)) ms of CPU in 1 s with one client that never sent its ClientHello: EPOLLOUT reported while the handshake needs to read (spin)"; }

timeout 20 "$EVPY" "$EV" slow-hello --port "$P" --delay 2 --line greeting > "$T/slow.log" 2>&1 \
	|| { cat "$T/slow.log" "$T/server.log" >&2; fail "the trickled-ClientHello client got no greeting"; }
c2=$(ev_cpu_ms "$prog")
assert_contains "$T/slow.log" "slow hello answer hello" "greeting to the trickled-ClientHello client"
[ $((c2 - c1)) -lt 50 ] || fail "the greet server used $((c2 - c1)) ms of CPU over a ClientHello sent in 4 pieces in 2 s: it spins"
echo "greet server: $((c1 - c0)) ms CPU in 1 s with a silent client, $((c2 - c1)) ms over a 2 s trickled ClientHello"

i=0
while [ $i -lt 20 ]; do
	i=$((i + 1))
	timeout 20 "$EVPY" "$EV" slow-hello --port "$P" --delay 0 --line greeting > "$T/c.log" 2>&1 \
		|| { cat "$T/c.log" >&2; fail "client $i got no greeting"; }
	assert_contains "$T/c.log" "slow hello answer hello" "greeting to client $i"
done
grep '^greeted' "$T/server.log" | tail -n 1
kill -0 "$SERVER" 2>/dev/null || fail "the greet server died"
echo "greet server: 20 more TLS clients greeted"
exit 0
