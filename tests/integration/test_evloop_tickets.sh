#!/bin/sh
# Readiness is about application data (issue 4, item 2: "no stall, no
# spin"). A Python TLS 1.3 server sends its session tickets right after the
# handshake (as most servers do) and its answer 1 s later. evprog_signals,
# a plain blocking client under a connect rule, waits with poll, select or
# epoll_wait, then reads: the wait must end when the answer arrives, not
# at once for the tickets (records with no application data), and the read
# after it must not block. Without tlsshim a plain socket behaves so. And
# socat, speaking first a second after it connected, is not deadlocked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_launcher
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
# The same with a real program: socat (poll, then a blocking read of the
# side poll said was readable) speaking first, 1 s after connecting, to a
# TLS 1.3 server that answers each line. A ticket reported as readable
# makes socat block in read and never send its line: a deadlock.
if command -v socat >/dev/null 2>&1; then
	PL=$(free_port)
	start_bg 60 "$EVPY" "$EV" line-server --port "$PL" > "$T/line.log" 2>&1
	wait_port "$PL"
	(sleep 1; echo "socat line"; sleep 2) | timeout 8 "$TLSSHIM" --connect "127.0.0.1:$PL" \
		--ca-certs "$CERTS/ca.pem" -- socat - "TCP:127.0.0.1:$PL" > "$T/socat.out" 2> "$T/socat.err"
	rc=$?
	cat "$T/socat.out" "$T/socat.err"
	grep -q "^echo: socat line\$" "$T/socat.out" || bad="$bad socat(exit $rc)"
else
	fail "socat is not installed"
fi
[ -z "$bad" ] || fail "readiness reported before any application data for:$bad"
exit 0
