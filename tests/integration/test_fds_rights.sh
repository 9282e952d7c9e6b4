#!/bin/sh
# Second descriptors for a wrapped connection that no dup() made: a socket
# the process sends to itself with SCM_RIGHTS (received with recvmsg and
# with recvmmsg, over a unix socketpair) or fetches with pidfd_getfd. The
# new descriptor is the same TLS connection: after the original is closed,
# what the program sends on it reaches the peer through TLS (a TLS server
# reads it), and a recording plain listener never sees it in clear.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fds_lib.sh"

modes="scmrights scmmmsg pidfd"

# against a TLS server: the bytes arrive decrypted, the stream ends cleanly
for m in $modes; do
	P=$(free_port)
	tls_collect $P "$T/report"; SRV=$BG_PID
	wait_port $P
	TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
		LD_PRELOAD=$PRELOAD timeout 20 "$PROGS/fdsprog" $m 127.0.0.1 $P >"$T/out" 2>"$T/log" ||
		fail "$m: $(cat "$T/out" "$T/log")"
	wait $SRV
	assert_contains "$T/out" "received=0\|pidfd_getfd=0" "$m: a new descriptor"
	assert_contains "$T/out" "send=7" "$m: sent on the new descriptor"
	assert_eq "clean SECRET|" "$(cat "$T/report")" "$m: through TLS on the new descriptor"
done

# against a recording plain listener (lazy handshake: connect returns at
# once, the first write on the new descriptor starts TLS)
for m in $modes; do
	P=$(free_port)
	recorder $P "$T/rec"; REC=$BG_PID
	wait_port $P
	TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; do_handshake_on_connect = false; });" \
		LD_PRELOAD=$PRELOAD timeout 20 "$PROGS/fdsprog" $m 127.0.0.1 $P >"$T/out" 2>"$T/log"
	wait $REC
	assert_contains "$T/out" "connect=0" "$m: lazy connect"
	assert_tls_or_nothing "$T/rec" "$m"
	[ -s "$T/rec" ] || fail "$m: the recorder saw nothing"
	assert_not_contains "$T/out" "send=7" "$m: the send must fail (no TLS peer)"
done

# the original closed while the message is in flight: the connection ended
# (close_notify sent); the copy that arrives is refused: its writes fail
# with EPROTO and a warn line says why, nothing follows the close_notify
P=$(free_port)
tls_collect $P "$T/report"; SRV=$BG_PID
wait_port $P
TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
	LD_PRELOAD=$PRELOAD timeout 20 "$PROGS/fdsprog" scmclosed 127.0.0.1 $P >"$T/out" 2>"$T/log"
wait $SRV
assert_contains "$T/out" "received=0" "scmclosed: a new descriptor"
assert_contains "$T/out" "send=-1 errno=EPROTO" "scmclosed: its send is refused"
assert_contains "$T/log" "a TLS connection that already ended here" "scmclosed: warn line"
assert_eq "clean " "$(cat "$T/report")" "scmclosed: a clean end and nothing after it"
