#!/bin/sh
# Bad input and faults (README): a descriptor closed by one thread while
# another reads it. evprog_closeread, a plain client under a connect rule,
# blocks a thread in read on a silent connection and closes the descriptor
# from another thread. As with a plain socket on Linux, close returns 0 at
# once and the number is closed for the program (a write to it: EBADF),
# but the read in progress goes on waiting (close does not wake it) and
# returns what the peer does next: its answer, or 0 for its close_notify.
# Only then does the connection end, and the peer sees a clean TLS close
# (close_notify), not a reset or plaintext. Two Python TLS peers, each
# behind a recording relay: one answers 2 s after the handshake, one sends
# close_notify then. The relays' record must not hold the program's
# marker. Under make asan this runs with the AddressSanitizer build (the
# teardown racing the call in flight).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_closeread

cat >"$T/peer.py" <<'PY'
import socket, ssl, sys, time
port, mode, certs, report = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(certs + "/server.pem", certs + "/server.key")
ctx.num_tickets = 0  # silent after the handshake
ls = socket.create_server(("127.0.0.1", port))
print("listening", flush=True)
c, _ = ls.accept()
c.settimeout(20)
s = ctx.wrap_socket(c, server_side=True, suppress_ragged_eofs=False)
time.sleep(2)
data, how = b"", "?"
try:
    if mode == "answer":
        s.sendall(b"answer")
        while True:
            d = s.recv(65536)
            if not d:
                how = "clean"
                break
            data += d
    else:
        s.unwrap()  # our close_notify, then the program's
        how = "clean"
except (ssl.SSLError, OSError) as e:
    how = "ragged (%s)" % type(e).__name__
with open(report, "w") as f:
    f.write("%s %r\n" % (how, data))
PY

for mode in answer eof; do
	P=$(free_port)
	PR=$(free_port)
	start_bg 30 python3 "$T/peer.py" $P $mode "$CERTS" "$T/$mode.report" >"$T/$mode.peer" 2>&1
	PEER=$BG_PID
	start_bg 30 "$EVPY" "$EV" relay --port $PR --to $P --record "$T/wire" >/dev/null 2>&1
	RELAY=$BG_PID
	wait_port $P
	wait_port $PR
	timeout 20 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_connect_cfg $PR)" \
		"$PROGS/evprog_closeread" 127.0.0.1 $PR >"$T/$mode.out" 2>"$T/$mode.log"
	rc=$?
	cat "$T/$mode.out"
	[ $rc -eq 0 ] || { cat "$T/$mode.log" >&2; fail "$mode: evprog_closeread exited $rc"; }
	case $mode in answer) r=6 ;; eof) r=0 ;; esac
	assert_eq "close=0
write_after_close=-1 errno=EBADF
blocked_after_close=1
read=$r
write_after_read=-1 errno=EBADF" "$(grep -v '^read_ms=' "$T/$mode.out")" "$mode: what the program sees"
	ms=$(sed -n 's/^read_ms=//p' "$T/$mode.out")
	[ "$ms" -ge 1500 ] || fail "$mode: the read returned after $ms ms, before the peer acted (2 s)"
	wait $PEER
	assert_eq "clean b''" "$(cat "$T/$mode.report")" "$mode: how the peer saw the connection end"
	assert_not_contains "$T/$mode.log" "failed" "$mode: a failure was logged"
	stop_bg $RELAY
done
[ -s "$T/wire" ] || fail "the relays recorded nothing"
assert_not_contains "$T/wire" "PLAINMARK" "the program's bytes crossed the wire in clear"
exit 0
