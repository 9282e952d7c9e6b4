#!/bin/sh
# A rule certificate that expires within 14 days is logged at warn, once
# a day (so once here, however many connections), with its notAfter; a
# certificate with longer to live is not.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rotation_lib.sh"

cp "$CERTS/ca.pem" "$T/ca1.pem"; cp "$CERTS/ca.key" "$T/ca1.key"
mkcert soon ca1 3
P=$(free_port)
Q=$(free_port)
TLSSHIM_CONFIG_STRING="accept = ({ match = \"127.0.0.1:$P\"; certfile = \"$T/soon.pem\"; keyfile = \"$T/soon.key\"; },
                                  { match = \"127.0.0.1:$Q\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; });" \
	LD_PRELOAD=$PRELOAD start_bg 60 python3 -c "
import socket, sys, threading
ls = []
for p in sys.argv[1:]:
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(('127.0.0.1', int(p))); l.listen(16); ls.append(l)
def loop(l):
    while True:
        c, _ = l.accept(); c.sendall(b'hi\n'); c.close()
for l in ls[1:]:
    threading.Thread(target=loop, args=(l,), daemon=True).start()
loop(ls[0])" $P $Q 2>"$T/log"
wait_port $P
wait_port $Q
for port in $P $P $P $Q $Q; do
	out=$(printf '' | timeout 10 openssl s_client -connect 127.0.0.1:$port -CAfile "$CERTS/ca.pem" -verify_return_error -quiet 2>/dev/null)
	assert_eq "hi" "$out" "served on $port"
done
n=$(grep -c "expires on" "$T/log" || true)
assert_eq 1 "$n" "expiry warnings"
assert_contains "$T/log" "rule TLSSHIM_CONFIG_STRING:1: certificate $T/soon.pem expires on .* (in \(2 days 23\|3 days 0\) hours)" "the warning names the file, the date and the time left"
assert_not_contains "$T/log" "server.pem expires" "a certificate with years to live"
