#!/bin/sh
# nc (unmodified) talks TLS to `openssl s_server` through LD_PRELOAD and a
# connect rule from TLSSHIM_CONFIG_STRING; the reply comes back decrypted
# and the info line of CONTRACT.md is written. With the wrong CA the
# connection fails closed: connect() is EPROTO, the server gets nothing.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$CERTS/server.pem" \
	-key "$CERTS/server.key" -naccept 1
SRV=$BG_PID
wait_port $P

echo "hello tls" | TLSSHIM_LOG=info \
	TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
	LD_PRELOAD=$PRELOAD timeout 10 nc -N 127.0.0.1 $P >"$T/out" 2>"$T/log"
rc=$?
assert_eq 0 "$rc" "nc exit status"
assert_eq "slt olleh" "$(cat "$T/out")" "reply through TLS"
grep -Eq "^tlsshim\[[0-9]+\]: connect 127\.0\.0\.1:$P TLSv1\.3 TLS_[A-Z0-9_]+ verify=ok$" "$T/log" ||
	{ cat "$T/log" >&2; fail "info line"; }
assert_eq 1 "$(grep -c 'tlsshim\[' "$T/log")" "one log line per connection"
stop_bg $SRV

# the wrong CA: a Python client sees EPROTO from connect and from sendall
start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$CERTS/server.pem" \
	-key "$CERTS/server.key" -naccept 1
SRV=$BG_PID
wait_port $P
TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/other-ca.pem\"; });" \
	LD_PRELOAD=$PRELOAD timeout 10 python3 -c "
import errno, socket, sys
s = socket.socket()
try:
    s.connect(('127.0.0.1', int(sys.argv[1])))
    print('connected')
except OSError as e:
    print('connect', errno.errorcode[e.errno])
try:
    s.sendall(b'SECRET')
    print('sent')
except OSError as e:
    print('send', errno.errorcode[e.errno])" $P >"$T/out" 2>"$T/log"
assert_eq "connect EPROTO
send EPROTO" "$(cat "$T/out")" "wrong CA fails closed"
assert_contains "$T/log" "certificate verify failed: unable to get local issuer certificate" "OpenSSL's reason"
stop_bg $SRV
