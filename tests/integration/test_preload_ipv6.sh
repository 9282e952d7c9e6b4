#!/bin/sh
# IPv6: a [::1] rule wraps nc's connection to s_server on ::1; the log
# writes the peer as [::1]:PORT.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
start_bg 20 openssl s_server -rev -accept "[::1]:$P" -cert "$CERTS/server.pem" \
	-key "$CERTS/server.key" -naccept 1
wait_port $P
echo "over six" | TLSSHIM_LOG=info \
	TLSSHIM_CONFIG_STRING="connect = ({ match = \"[::1]:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
	LD_PRELOAD=$PRELOAD timeout 10 nc -N ::1 $P >"$T/out" 2>"$T/log" || fail "nc over IPv6"
assert_eq "xis revo" "$(cat "$T/out")" "reply over IPv6"
grep -Eq "^tlsshim\[[0-9]+\]: connect \[::1\]:$P TLSv1\.3 .* verify=ok$" "$T/log" || { cat "$T/log" >&2; fail "info line"; }
