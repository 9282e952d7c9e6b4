#!/bin/sh
# A TCP socket shared with another process before connect wrapped it (issue
# 10 item 2, fork before connect): socket(), fork(); the parent connects to
# a destination a connect rule matches and is wrapped; the child, told by a
# pipe once the parent has connected, reads and writes on its copy. Its
# recv, send, read and write fail with EPROTO, and so does a send on a dup
# of its copy, one warn line says why, and
# neither a recording plain listener nor a TLS server sees its "SECRET";
# the parent's connection goes on through TLS. A copy whose socket the
# other process connects to a destination no rule matches stays plain.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fds_lib.sh"

refused() { # OUT LOG WHAT
	for call in child_recv child_send child_read child_write child_dup_send; do
		assert_contains "$1" "$call=-1 errno=EPROTO" "$3: the child's $call is refused"
	done
	assert_contains "$2" "socket connected by another process (fork before connect)" \
		"$3: warn line"
	[ "$(grep -c "fork before connect" "$2")" = 1 ] || fail "$3: one warn line: $(cat "$2")"
	assert_contains "$1" "child_exit=0" "$3: the child ran to its end"
}

# against a recording plain listener (lazy handshake: the child's calls come
# before any byte of the parent's; the parent's first send starts TLS)
P=$(free_port)
recorder $P "$T/rec"; REC=$BG_PID
wait_port $P
TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; do_handshake_on_connect = false; });" \
	LD_PRELOAD=$PRELOAD timeout 20 "$PROGS/fdsprog" forkconnect 127.0.0.1 $P >"$T/out" 2>"$T/log"
wait $REC
assert_contains "$T/out" "connect=0" "recorder: the parent's lazy connect"
refused "$T/out" "$T/log" recorder
assert_tls_or_nothing "$T/rec" recorder
[ -s "$T/rec" ] || fail "recorder: saw nothing (the parent's ClientHello expected)"

# against a TLS server: the parent's connection is intact, the child's bytes
# never entered it
P=$(free_port)
tls_collect $P "$T/report"; SRV=$BG_PID
wait_port $P
TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
	LD_PRELOAD=$PRELOAD timeout 20 "$PROGS/fdsprog" forkconnect 127.0.0.1 $P >"$T/out" 2>"$T/log"
wait $SRV
assert_contains "$T/out" "connect=0" "tls: the parent's connect"
refused "$T/out" "$T/log" tls
assert_contains "$T/out" "parent_send=7" "tls: the parent's send"
assert_eq "clean parent|" "$(cat "$T/report")" "tls: only the parent's bytes, through TLS"

# a destination no rule matches: the child's copy is a plain socket
P=$(free_port)
Q=$(free_port)
recorder $P "$T/rec"; REC=$BG_PID
wait_port $P
TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$Q\"; ca_certs = \"$CERTS/ca.pem\"; });" \
	LD_PRELOAD=$PRELOAD timeout 20 "$PROGS/fdsprog" forkconnect 127.0.0.1 $P >"$T/out" 2>"$T/log"
wait $REC
assert_contains "$T/out" "child_recv=-1 errno=EAGAIN" "unmatched: the child's recv is the kernel's"
assert_contains "$T/out" "child_send=7" "unmatched: the child's send goes out"
assert_contains "$T/out" "child_dup_send=7" "unmatched: its dup's send goes out"
assert_contains "$T/rec" "^SECRET" "unmatched: plain, as before"
assert_not_contains "$T/log" "fork before connect" "unmatched: no warn line"
assert_contains "$T/out" "child_exit=0" "unmatched: the child ran to its end"
