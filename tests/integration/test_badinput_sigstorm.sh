#!/bin/sh
# Bad input and faults (README): a signal every millisecond during a
# 64 MiB transfer. evprog_sigstorm, a plain client under a connect rule,
# arms setitimer(ITIMER_REAL) at 1 ms and sends 64 MiB (writes of 1 byte
# to 256 KiB) to the sink server of evloop_lib.sh through a recording
# relay, then reads the server's "ok SIZE SHA256" and the 64 MiB echo and
# compares it byte for byte. With SA_RESTART no read or write may fail
# with EINTR; without it a read or write may return -1 EINTR (retried) or
# a short count, and never EINTR after moving bytes (the retry would
# duplicate them and the comparison would fail). Then the same with the
# program as the server, under an accept rule, and a Python TLS client
# that acts as the sink. The relays' record of the wire must not hold the
# marker the data carries every 64 KiB.
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

cat >"$T/sinkclient.py" <<'PY'
import hashlib, socket, ssl, struct, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=60), server_hostname="localhost")
def exact(n):
    buf = bytearray()
    while len(buf) < n:
        d = s.recv(min(n - len(buf), 1 << 20))
        if not d:
            sys.exit("EOF after %d of %d bytes" % (len(buf), n))
        buf += d
    return bytes(buf)
n = struct.unpack(">Q", exact(8))[0]
data = exact(n)
s.sendall(b"ok %d %s\n" % (n, hashlib.sha256(data).hexdigest().encode()))
s.sendall(data)
while s.recv(65536):  # until the program closes
    pass
print("sink client: %d bytes" % n)
PY
for m in restart norestart; do
	PS=$(free_port)
	PSR=$(free_port)
	LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg $PS)" \
		start_bg 60 "$PROGS/evprog_sigstorm" 127.0.0.1 $PS 64 $m accept >"$T/a$m.out" 2>&1
	SRV=$BG_PID
	start_bg 60 "$EVPY" "$EV" relay --port $PSR --to $PS --record "$T/wire" >"$T/relay2.log" 2>&1
	RELAY=$BG_PID
	wait_port $PS
	wait_port $PSR
	timeout 60 python3 "$T/sinkclient.py" $PSR "$CERTS/ca.pem" >"$T/sc.out" 2>&1 ||
		{ cat "$T/sc.out" "$T/a$m.out" >&2; fail "accept $m: the sink client failed"; }
	wait $SRV
	rc=$?
	cat "$T/a$m.out"
	[ $rc -eq 0 ] && grep -q "^sigstorm $m accept ok: 67108864 bytes each way intact" "$T/a$m.out" ||
		fail "accept $m: the transfer under a 1 ms timer failed"
	alarms=$(sed -n 's/.* \([0-9]*\) alarms.*/\1/p' "$T/a$m.out")
	[ "${alarms:-0}" -ge 100 ] || fail "accept $m: only ${alarms:-0} alarms during the transfer"
	stop_bg $RELAY
done
# the peers got what was sent: all four transfers have one digest
assert_eq 1 "$(sed -n 's/.*peer ok 67108864 //p' "$T"/*restart.out | sort -u | wc -l)" \
	"the peers' SHA-256 of the four transfers"
size=$(wc -c <"$T/wire")
[ "$size" -ge $((8 * 67108864)) ] || fail "the relays recorded $size bytes, expected 8 x 64 MiB and more"
assert_not_contains "$T/wire" "SIGSTORM-PLAINTEXT-MARKER" "plaintext on the wire"
echo "wire: $size bytes recorded, no marker"
exit 0
