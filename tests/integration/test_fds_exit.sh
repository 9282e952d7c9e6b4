#!/bin/sh
# close_notify at exit (CONTRACT.md): a wrapped client that exit()s and a
# wrapped server that returns from main with a connection open send its
# close_notify (the peer sees a clean end, not a truncation), after what
# a stream on the socket still had buffered; after fork
# the parent that did no I/O sends nothing, and the child that exit()s
# after using the connection sends it (rsync's daemon child); _exit()
# sends nothing (control).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fds_lib.sh"

client_rule() {
	export TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$1\"; ca_certs = \"$CERTS/ca.pem\"; });"
}

# client_case MODE: fdsprog MODE against a TLS server that reports how the
# stream ended; the calls in $T/out, the report in $T/report
client_case() {
	P=$(free_port)
	tls_collect $P "$T/report"; SRV=$BG_PID
	wait_port $P
	client_rule $P
	LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/fdsprog" "$1" 127.0.0.1 $P >"$T/out" 2>"$T/log" ||
		fail "fdsprog $1: $(cat "$T/log")"
	wait $SRV
}

# exit() with the connection open
client_case exit
assert_eq "connect=0
send=9" "$(cat "$T/out")" "exit: calls"
assert_eq "clean exit-data" "$(cat "$T/report")" "exit() sent close_notify"

# a stream fdopen()ed on the socket before connect, its line still
# buffered at exit(): flushed through TLS before the close_notify
client_case fdopenexit
assert_eq "connect=0
fprintf=12" "$(cat "$T/out")" "fdopenexit: calls"
assert_eq "clean stream-data|" "$(cat "$T/report")" "exit() flushed the stream, then sent close_notify"

# fork: the parent exit()s first (no I/O since the fork: not its
# connection); the child then sends and exit()s
client_case forkexit
assert_contains "$T/out" "child_send=10" "forkexit: the child sent"
assert_eq "clean child-data" "$(cat "$T/report")" "the child's exit() sent close_notify, the parent's nothing"

# a server that returns from main with the accepted connection open
P=$(free_port)
export TLSSHIM_CONFIG_STRING="accept = ({ match = \"127.0.0.1:$P\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; });"
start_bg 10 env LD_PRELOAD=$PRELOAD "$PROGS/fdsprog" serveexit $P >"$T/out" 2>"$T/log"
SRV=$BG_PID
wait_port $P
unset TLSSHIM_CONFIG_STRING
tls_drain_py
timeout 10 python3 - "$P" "$CERTS/ca.pem" "$T" >"$T/report" <<'PY' || fail "python client"
import socket, ssl, sys
sys.path.insert(0, sys.argv[3])
from tls_drain import drain
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                    server_hostname="localhost", suppress_ragged_eofs=False)
print(drain(s))
PY
wait $SRV
assert_eq "clean served" "$(cat "$T/report")" "return from main sent close_notify"

# control: _exit() runs no exit handler, the end is ragged
P=$(free_port)
tls_collect $P "$T/report"; SRV=$BG_PID
wait_port $P
client_rule $P
LD_PRELOAD=$PRELOAD timeout 10 python3 -c "
import socket, sys, os
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'data2')
os._exit(0)" $P
wait $SRV
assert_eq "ragged data2" "$(cat "$T/report")" "_exit is ragged"
