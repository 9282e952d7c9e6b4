#!/bin/sh
# Bad input and faults (README): a signal every millisecond during a
# 64 MiB transfer. evprog_sigstorm, a plain client under a connect rule,
# arms setitimer(ITIMER_REAL) at 1 ms and sends 64 MiB (writes of 1 byte
# to 256 KiB) to the sink server of evloop_lib.sh through a recording
# relay, then reads the server's "ok SIZE SHA256" and the 64 MiB echo and
# compares it byte for byte. With SA_RESTART no read or write may fail
# with EINTR; without it a read or write may return -1 EINTR (retried) or
# a short count, and never EINTR after moving bytes (the retry would
# duplicate them and the comparison would fail). The relay's record of the
# wire must not hold the marker the data carries every 64 KiB.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_sigstorm

P=$(free_port)
PR=$(free_port)
mkdir "$T/sink"
start_bg 120 "$EVPY" "$EV" sink-server --port $P --echo --dir "$T/sink" --timeout 60 >"$T/sink.log" 2>&1
start_bg 120 "$EVPY" "$EV" relay --port $PR --to $P --record "$T/wire" >"$T/relay.log" 2>&1
wait_port $P
wait_port $PR
for m in restart norestart; do
	timeout 60 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_connect_cfg $PR)" \
		"$PROGS/evprog_sigstorm" 127.0.0.1 $PR 64 $m >"$T/$m.out" 2>&1
	rc=$?
	cat "$T/$m.out"
	[ $rc -eq 0 ] && grep -q "^sigstorm $m ok: 67108864 bytes each way intact" "$T/$m.out" ||
		{ cat "$T/sink.log" >&2; fail "$m: the transfer under a 1 ms timer failed"; }
	alarms=$(sed -n 's/.* \([0-9]*\) alarms.*/\1/p' "$T/$m.out")
	[ "${alarms:-0}" -ge 100 ] || fail "$m: only ${alarms:-0} alarms during the transfer (the test proves little)"
done
# the server got what was sent: both connections' data have one digest
assert_eq 1 "$(sed -n 's/.*server ok 67108864 //p' "$T/restart.out" "$T/norestart.out" | sort -u | wc -l)" \
	"the server's SHA-256 of both transfers"
size=$(wc -c <"$T/wire")
[ "$size" -ge $((4 * 67108864)) ] || fail "the relay recorded $size bytes, expected 4 x 64 MiB and more"
assert_not_contains "$T/wire" "SIGSTORM-PLAINTEXT-MARKER" "plaintext on the wire"
echo "wire: $size bytes recorded, no marker"
exit 0
