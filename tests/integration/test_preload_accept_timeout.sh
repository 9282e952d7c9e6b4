#!/bin/sh
# A blocking server's eager handshake has a deadline: a client that
# connects and never sends its ClientHello costs the server
# handshake_timeout (1 s here), then the server goes on with the next
# client. SSLKEYLOGFILE: the server's session secrets are appended in the
# NSS key log format and a warning says so at start.
. "$(dirname "$0")/lib.sh"

mkdir "$T/www"
echo "still serving" >"$T/www/index.txt"
P=$(free_port)
TLSSHIM_LOG=info SSLKEYLOGFILE=$T/keys.log \
TLSSHIM_CONFIG_STRING="accept = ({ match = \"127.0.0.1:$P\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; handshake_timeout = 1; });" \
	LD_PRELOAD=$PRELOAD start_bg 60 python3 -m http.server $P --bind 127.0.0.1 \
	--directory "$T/www" >/dev/null 2>"$T/log"
wait_port $P

# a silent client: connects, says nothing
start_bg 20 python3 -c "
import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
time.sleep(15)" $P
# curl must come after the silent client: wait until its connection is
# established and the server has taken it off the accept queue (the
# listener's Recv-Q is the queue's length), so the server is inside its
# handshake when curl connects.
n=400
until ss -Htn state established "( dport = :$P )" | grep -q . &&
	[ "$(ss -Hltn "sport = :$P" | awk '{print $2; exit}')" = 0 ]; do
	n=$((n - 1))
	[ $n -gt 0 ] || fail "the silent client was never accepted"
	sleep 0.05
done
start=$(date +%s.%N)
timeout 10 curl -sS --cacert "$CERTS/ca.pem" https://127.0.0.1:$P/index.txt >"$T/out" 2>"$T/err" ||
	{ cat "$T/err" "$T/log" >&2; fail "the server stopped serving behind a silent client"; }
secs=$(echo "$start $(date +%s.%N)" | awk '{printf "%d", $2 - $1}')
assert_eq "still serving" "$(cat "$T/out")" "served"
[ "$secs" -lt 5 ] || fail "served after $secs s: the deadline did not hold"
assert_contains "$T/log" "handshake timed out" "the silent client's failure is logged"
assert_contains "$T/log" "SSLKEYLOGFILE is set: session secrets are written to $T/keys.log" "key log warning"
grep -q "^CLIENT_HANDSHAKE_TRAFFIC_SECRET " "$T/keys.log" || fail "no NSS key log lines"
