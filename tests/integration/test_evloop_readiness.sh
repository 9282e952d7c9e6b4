#!/bin/sh
# Readiness with plaintext pending inside the library (issue 4, item 2).
# A Python TLS server sends 500 bytes in one write (one TLS record);
# evprog_pending, a plain C client under a connect rule, reads them ONE byte
# at a time from a non-blocking socket, waiting for readability before each
# read with poll, ppoll, select, pselect, epoll (level-triggered, and
# EPOLLONESHOT or EPOLLET re-armed with EPOLL_CTL_MOD, which re-evaluates
# readiness; EPOLLONESHOT re-armed while another thread already sleeps in
# epoll_wait on the instance, as a thread pool does), and poll over 150 idle pipes plus the socket. After the first
# byte the kernel socket is empty and the rest waits decrypted in the
# library: every wait must report readable at once (a wait that hits its
# 3 s timeout is a stall; "readable" then EAGAIN 1000 times is a spin).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_pending

P=$(free_port)
MSG=$(i=0; while [ $i -lt 50 ]; do printf 'record%03d.' "$i"; i=$((i + 1)); done)
[ ${#MSG} -eq 500 ] || fail "test bug: message is ${#MSG} bytes"
start_bg 120 "$EVPY" "$EV" send-server --port "$P" --msg "$MSG" > "$T/server.log" 2>&1
wait_port "$P"

bad=""
for mode in poll ppoll select pselect epoll epoll-oneshot epoll-et-mod epoll-xthread poll-many; do
	timeout 60 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_connect_cfg "$P")" \
		"$PROGS/evprog_pending" 127.0.0.1 "$P" "$mode" 500 > "$T/$mode.out" 2>&1
	rc=$?
	cat "$T/$mode.out"
	if [ $rc -ne 0 ] || ! grep -q "^$mode ok 500 bytes" "$T/$mode.out"; then
		bad="$bad $mode"
	fi
done
[ -z "$bad" ] || { cat "$T/server.log" >&2; fail "readiness with pending plaintext is wrong for:$bad"; }
assert_not_contains "$T/server.log" "conn-error" "TLS errors at the server"
exit 0
