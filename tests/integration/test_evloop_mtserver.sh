#!/bin/sh
# Many threads on one epoll instance (issue 4, items 2 and 4):
# evprog_mtserver, a plain non-blocking echo server whose 4 threads all wait
# in epoll_wait on one epoll descriptor with EPOLLONESHOT registrations
# re-armed by EPOLL_CTL_MOD, under an accept rule, serves 400 TLS clients,
# 16 at a time, each echo checked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_mtserver

P=$(free_port)
start_bg 120 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg "$P")" \
	"$PROGS/evprog_mtserver" "$P" 4 > "$T/server.log" 2>&1
SERVER=$BG_PID
wait_port "$P"
timeout 100 "$EVPY" "$EV" tls-clients --port "$P" --count 400 --parallel 16 --size 30000 --timeout 10 \
	> "$T/clients.log" 2>&1
rc=$?
tail -n 20 "$T/clients.log"
[ $rc -eq 0 ] || { tail -n 20 "$T/server.log" >&2; fail "TLS clients of the multi-threaded epoll server failed"; }
assert_contains "$T/clients.log" "clients ok 400 of 400" "400 TLS clients"
kill -0 "$SERVER" 2>/dev/null || { cat "$T/server.log" >&2; fail "the multi-threaded epoll server died"; }
exit 0
