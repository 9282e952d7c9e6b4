#!/bin/sh
# A refused non-blocking connect stays what the kernel says (issue 4, item
# 3; DESIGN part 9): evprog_slowclient, a plain non-blocking client under a
# connect rule, connects to a port nobody listens on, waits for
# writability (epoll, poll, select) and reads SO_ERROR, as event loops do
# (asyncio, curl, libuv). It must be woken and see ECONNREFUSED there (or
# from its first call), not a zero SO_ERROR followed by a TLS error
# (EPROTO) on its first write. The blocking connect gets ECONNREFUSED too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_slowclient evprog_signals

Q=$(free_port)
bad=""
for mode in epoll poll select; do
	timeout 20 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_connect_cfg "$Q")" \
		"$PROGS/evprog_slowclient" 127.0.0.1 "$Q" "$mode" > "$T/$mode.out" 2>&1
	rc=$?
	cat "$T/$mode.out"
	[ $rc -ne 124 ] || fail "$mode: a refused non-blocking connect hung"
	# The program's own lines, not tlsshim's log.
	grep -v '^tlsshim\[' "$T/$mode.out" > "$T/$mode.prog"
	grep -q "Connection refused" "$T/$mode.prog" || bad="$bad $mode"
done
timeout 20 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_connect_cfg "$Q")" \
	"$PROGS/evprog_signals" 127.0.0.1 "$Q" eintr > "$T/blocking.out" 2>&1
cat "$T/blocking.out"
grep -v '^tlsshim\[' "$T/blocking.out" | grep -q "connect: Connection refused" || bad="$bad blocking"
[ -z "$bad" ] || fail "ECONNREFUSED did not reach the program for:$bad"
exit 0
