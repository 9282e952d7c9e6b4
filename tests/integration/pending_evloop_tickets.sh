#!/bin/sh
# Readiness is about application data (issue 4, item 2: "no stall, no
# spin"). A Python TLS 1.3 server sends its session tickets right after the
# handshake (as most servers do) and its answer 1 s later. evprog_signals,
# a plain blocking client under a connect rule, waits with poll, select or
# epoll_wait, then reads: the wait must end when the answer arrives, not
# at once for the tickets (records with no application data), and the read
# after it must not block. Without tlsshim a plain socket behaves so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_signals

P=$(free_port)
start_bg 120 "$EVPY" "$EV" send-server --port "$P" --delay 1 --msg answer > "$T/send.log" 2>&1
wait_port "$P"
bad=""
for c in pollwait selectwait epollwait; do
	timeout 20 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_connect_cfg "$P")" \
		"$PROGS/evprog_signals" 127.0.0.1 "$P" "$c" > "$T/$c.out" 2>&1
	rc=$?
	cat "$T/$c.out"
	if [ $rc -ne 0 ] || ! grep -q "^$c ok" "$T/$c.out"; then
		bad="$bad $c"
	fi
done
[ -z "$bad" ] || fail "readiness reported before any application data for:$bad"
exit 0
