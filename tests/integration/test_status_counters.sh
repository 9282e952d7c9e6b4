#!/bin/sh
# tlsshim --status and --status --prometheus against what really happened:
# a wrapped echo server and wrapped clients make K successful exchanges of
# known sizes, keep one connection open, and fail handshakes for each
# reason a test can provoke (an untrusted server: verify; the wrong name:
# identity; a plaintext client: plaintext; a silent client against
# handshake_timeout: timeout). The counters of both processes must say
# exactly that, promtool must accept the metrics, a process that exits
# normally leaves no file, and a killed process's file is removed by the
# next --status. A process makes its file when it first uses a rule: one
# that loaded rules and used none has none, and an exec'd image removes
# the file of the one before it.
. "$(dirname "$0")/lib.sh"

export XDG_RUNTIME_DIR="$T/xdg"
mkdir -m 700 "$XDG_RUNTIME_DIR"
SD="$XDG_RUNTIME_DIR/tlsshim"
K=5
SIZE=100000
HDR=7          # "100000\n"
# the interpreter itself, not a wrapper script (pyenv's shims fork)
PY=$(python3 -c 'import sys; print(sys.executable)')

cat >"$T/server.py" <<'PY'
import os, socket, sys, threading
port = int(sys.argv[1])
open(sys.argv[2], "w").write("%d\n" % os.getpid())
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
def serve(c):
    f = c.makefile("rb")
    line = f.readline()
    if line:
        n = int(line)
        got = 0
        while got < n:
            b = f.read1(n - got)
            if not b:
                return
            got += len(b)
        c.sendall(b"y" * n)
    while f.read1(65536):
        pass
    c.close()
while True:
    c, _ = s.accept()   # tlsshim handshakes here (a blocking listener)
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

cat >"$T/client.py" <<'PY'
import os, socket, sys, time
mode, port, k, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
open(sys.argv[5], "w").write("%d\n" % os.getpid())
def exchange():
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"%d\n" % size + b"x" * size)
    got = 0
    while got < size:
        b = c.recv(65536)
        assert b, "early EOF"
        got += len(b)
    c.close()
if mode == "good":
    for _ in range(k):
        exchange()
    keep = socket.create_connection(("127.0.0.1", port))   # stays open
elif mode == "exit":
    sys.exit(0)
elif mode == "idle":
    pass      # rules loaded, none used
elif mode == "execidle":
    exchange()
    print("file", flush=True)
    while not os.path.exists(sys.argv[5] + ".go"):
        time.sleep(0.01)
    sys.argv[1] = "idle"
    os.execv(sys.executable, [sys.executable] + sys.argv)
else:
    try:
        socket.create_connection(("127.0.0.1", port)).sendall(b"no")
        print("connected", flush=True)
        sys.exit(1)
    except OSError as e:
        print("refused:", e, flush=True)
print("done", flush=True)
time.sleep(60)
PY

P=$(free_port)
SRV_CONF="accept = ({ match = \"127.0.0.1:$P\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; handshake_timeout = 1.0; });"
start_bg 90 env TLSSHIM_CONFIG_STRING="$SRV_CONF" LD_PRELOAD=$PRELOAD "$PY" "$T/server.py" $P "$T/server.pid" \
	2>"$T/server.log"
wait_port $P
SRV=$(cat "$T/server.pid")

# wait_said MODE WORD: until client MODE has printed WORD (20 s at most)
wait_said() {
	n=0
	until grep -q "$2" "$T/$1.out" 2>/dev/null; do
		n=$((n + 1)); [ $n -lt 400 ] || { cat "$T/$1.log" >&2; fail "client $1 never said $2"; }
		sleep 0.05
	done
}
# run_client MODE CONFIG: a wrapped client left running; its PID in $CL
run_client() {
	start_bg 90 env TLSSHIM_CONFIG_STRING="$2" LD_PRELOAD=$PRELOAD "$PY" "$T/client.py" "$1" $P $K $SIZE \
		"$T/$1.pid" >"$T/$1.out" 2>"$T/$1.log"
	wait_said "$1" done
	CL=$(cat "$T/$1.pid")
}
GOOD_CONF="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; server_hostname = \"localhost\"; });"
run_client good "$GOOD_CONF"; GOOD=$CL
run_client verify "connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/other-ca.pem\"; server_hostname = \"localhost\"; });"; VER=$CL
assert_contains "$T/verify.out" refused "untrusted server refused"
run_client identity "connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; server_hostname = \"wrong.example\"; });"; IDN=$CL
assert_contains "$T/identity.out" refused "wrong name refused"

# plaintext and silent peers, unwrapped
"$PY" - $P <<'PY' || fail "plaintext peer"
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"EHLO plain\r\n")
c.settimeout(10)
assert c.recv(100) == b""     # the server dropped it
PY
"$PY" - $P <<'PY' || fail "silent peer"
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.settimeout(10)
t = time.time()
assert c.recv(100) == b""     # dropped after handshake_timeout
assert time.time() - t >= 0.8
PY

# wait until the server has seen the idle connection's handshake complete
# and every failure (they are counted as they happen)
n=0
while :; do
	"$TLSSHIM" --status >"$T/status" || fail "--status exit status"
	row=$(awk -v p=$SRV '$1 == p' "$T/status")
	[ -n "$row" ] && [ "$(echo "$row" | awk '{print $6}')" = $((K + 1)) ] && [ "$(echo "$row" | awk '{print $8}')" = 1 ] && break
	n=$((n + 1)); [ $n -lt 200 ] || { cat "$T/status" "$T/server.log" "$T/good.log" "$T/good.out" >&2; ls -la "$SD" >&2; fail "server counters never settled"; }
	sleep 0.05
done
cat "$T/status"

# col NAME PID: the value of column NAME in PID's row
col() {
	awk -v name="$1" -v pid="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
		$1 == pid { print $(c + 1) }' "$T/status"   # RULE is two words: shift by one
}
assert_eq "python3" "$(awk -v p=$SRV '$1 == p {print $2}' "$T/status")" "program name"
assert_eq "accept 127.0.0.1:$P" "$(awk -v p=$SRV '$1 == p {print $3, $4}' "$T/status")" "rule"
# the server: K exchanges + 1 idle connection; the clients' refusals of
# its certificate arrive as alerts (verify), one plaintext, one timeout
assert_eq 1 "$(col OPEN $SRV)" "server open"
assert_eq $((K + 1)) "$(col HS_OK $SRV)" "server handshakes"
assert_eq 1 "$(col FAIL_PLAINTEXT $SRV)" "server plaintext peer"
assert_eq 1 "$(col FAIL_TIMEOUT $SRV)" "server timeout"
assert_eq 2 "$(col FAIL_VERIFY $SRV)" "server verify (the clients' alerts)"
assert_eq 0 "$(col FAIL_IDENTITY $SRV)" "server identity"
assert_eq 0 "$(col FAIL_PROTOCOL $SRV)" "server protocol"
assert_eq $((K * (HDR + SIZE))) "$(col BYTES_IN $SRV)" "server bytes in"
assert_eq $((K * SIZE)) "$(col BYTES_OUT $SRV)" "server bytes out"
assert_eq 0 "$(col PLAINTEXT_CLIENTS $SRV)" "server plaintext clients"
na=$(col CERT_NOT_AFTER $SRV)
want=$(date -u -d "$(openssl x509 -in "$CERTS/server.pem" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
assert_eq "$want" "$na" "server certificate notAfter"
# the clients
assert_eq 1 "$(col OPEN $GOOD)" "client open"
assert_eq $((K + 1)) "$(col HS_OK $GOOD)" "client handshakes"
assert_eq $((K * (HDR + SIZE))) "$(col BYTES_OUT $GOOD)" "client bytes out"
assert_eq $((K * SIZE)) "$(col BYTES_IN $GOOD)" "client bytes in"
assert_eq "-" "$(col CERT_NOT_AFTER $GOOD)" "a client rule without certfile"
assert_eq 1 "$(col FAIL_VERIFY $VER)" "untrusted server: verify"
assert_eq 0 "$(col HS_OK $VER)" "untrusted server: no handshake"
assert_eq 1 "$(col FAIL_IDENTITY $IDN)" "wrong name: identity"
assert_eq 0 "$(col FAIL_VERIFY $IDN)" "wrong name: not counted as verify"

# Prometheus: promtool accepts it, and it says the same
"$TLSSHIM" --status --prometheus >"$T/prom" || fail "--status --prometheus exit status"
promtool check metrics <"$T/prom" >"$T/promtool" 2>&1 || { cat "$T/promtool" "$T/prom" >&2; fail "promtool check metrics"; }
L="pid=\"$SRV\",program=\"python3\",rule=\"accept 127.0.0.1:$P\""
assert_contains "$T/prom" "^# TYPE tlsshim_handshakes_total counter" "TYPE line"
assert_contains "$T/prom" "^# HELP tlsshim_connections_open " "HELP line"
assert_contains "$T/prom" "^tlsshim_handshakes_total{$L} $((K + 1))\$" "handshakes metric"
assert_contains "$T/prom" "^tlsshim_handshake_failures_total{$L,reason=\"timeout\"} 1\$" "failures metric"
assert_contains "$T/prom" "^tlsshim_received_bytes_total{$L} $((K * (HDR + SIZE)))\$" "bytes metric"
assert_contains "$T/prom" "^tlsshim_connections_open{$L} 1\$" "open metric"
assert_contains "$T/prom" "^tlsshim_certificate_not_after_seconds{$L} $(date -u -d "$want" +%s)\$" "notAfter metric"

# a normal exit removes the file
timeout 20 env TLSSHIM_CONFIG_STRING="$GOOD_CONF" LD_PRELOAD=$PRELOAD "$PY" "$T/client.py" exit 0 0 0 "$T/exit.pid" ||
	fail "exit client"
EXITPID=$(cat "$T/exit.pid")
[ -n "$EXITPID" ] || fail "exit client pid"
[ ! -e "$SD/$EXITPID.stats" ] || fail "the file of a process that exited is still there"

# rules loaded and never used: no file, not listed
run_client idle "$GOOD_CONF"; IDLE=$CL
[ ! -e "$SD/$IDLE.stats" ] || fail "a process that used no rule has a status file"
"$TLSSHIM" --status >"$T/status3" || fail "--status with an idle process"
awk -v p=$IDLE '$1 == p { exit 1 }' "$T/status3" || fail "a process that used no rule is listed"
kill $IDLE

# an exec'd image that uses no rule takes its predecessor's file away
start_bg 90 env TLSSHIM_CONFIG_STRING="$GOOD_CONF" LD_PRELOAD=$PRELOAD "$PY" "$T/client.py" execidle $P $K \
	$SIZE "$T/execidle.pid" >"$T/execidle.out" 2>"$T/execidle.log"
wait_said execidle file
EI=$(cat "$T/execidle.pid")
[ -e "$SD/$EI.stats" ] || fail "no status file after a connection ($SD/$EI.stats)"
touch "$T/execidle.pid.go"
wait_said execidle done
[ "$(cat "$T/execidle.pid")" = "$EI" ] || fail "exec changed the PID"
[ ! -e "$SD/$EI.stats" ] || fail "the exec'd image kept its predecessor's status file"
kill $EI

# a killed process leaves its file; --status ignores and removes it
[ -e "$SD/$GOOD.stats" ] || fail "no status file for the client ($SD/$GOOD.stats)"
kill -9 $GOOD
n=0
while [ -d /proc/$GOOD ] && ! grep -q ') Z' /proc/$GOOD/stat 2>/dev/null; do
	n=$((n + 1)); [ $n -lt 200 ] || fail "the killed client is still running"
	sleep 0.05
done
[ -e "$SD/$GOOD.stats" ] || fail "a killed process ran its exit handlers?"
"$TLSSHIM" --status >"$T/status2" || fail "--status after a kill"
awk -v p=$GOOD '$1 == p { exit 1 }' "$T/status2" || fail "a dead process is listed"
[ ! -e "$SD/$GOOD.stats" ] || fail "a dead process's file was not removed"
awk -v p=$SRV '$1 == p { f = 1 } END { exit !f }' "$T/status2" || fail "the live server is no longer listed"
exit 0
