#!/bin/sh
# A wrapped client's credentials rotate without a restart while it
# connects in a loop to an mTLS server: its certificate (key and
# certificate in one file) renamed over, then rewritten in place, reaches
# the server for every connection that starts 1 s or more after the
# replacement (the latency to the first one is printed); its CA bundle
# renamed over (old + new CA) lets the server switch to a certificate
# from the new CA one second later. No connection fails.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rotation_lib.sh"

cp "$CERTS/ca.pem" "$T/ca1.pem"; cp "$CERTS/ca.key" "$T/ca1.key"
mkca ca2
mkcert srv1 ca1 30
mkcert srv2 ca2 30
mkcert cl1 ca1 30
mkcert cl2 ca1 30
mkcert cl3 ca1 30
cp "$T/ca1.pem" "$T/trust.pem"
cat "$T/cl1.key" "$T/cl1.pem" >"$T/client.pem"
cat "$T/srv1.key" "$T/srv1.pem" >"$T/srv.pem"
cat "$T/ca1.pem" "$T/ca2.pem" >"$T/server-trust.pem"

P=$(free_port)
start_bg 180 python3 -c "$TLS_MTLS_SERVER" $P "$T/srv" "$T/server-trust.pem" "$T/seen"
wait_port $P
TLSSHIM_LOG=info \
TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; certfile = \"$T/client.pem\"; ca_certs = \"$T/trust.pem\"; server_hostname = \"localhost\"; });" \
	LD_PRELOAD=$PRELOAD start_bg 180 python3 -c "$PLAIN_CLIENT_LOOP" $P "$T/stop" "$T/conns" 2>"$T/client.log"
wait_log "$T/conns" " ok " 3 0 >/dev/null || { cat "$T/conns" "$T/client.log" >&2; fail "the client never got through"; }

# waits until N more connections than now went through
more() { _n0=$(wc -l <"$T/conns"); wait_log "$T/conns" " ok " $((_n0 + $1)) 0 >/dev/null || fail "the loop stalled"; }
after_1s() { python3 -c 'import sys,time; time.sleep(max(0, float(sys.argv[1]) + 1.0 - time.monotonic()))' "$1"; }

# 1. the client certificate renamed over
cat "$T/cl2.key" "$T/cl2.pem" >"$T/client.new"
t1=$(now_mono); mv "$T/client.new" "$T/client.pem"
after_1s "$t1"; more 5

# 2. the CA bundle renamed over (old + new CA); once the client has
#    reloaded it (within a second) the server switches to a certificate
#    from the new CA
cat "$T/ca1.pem" "$T/ca2.pem" >"$T/trust.new"
reloads=$(grep -c "credentials reloaded" "$T/client.log" || true)
t2=$(now_mono); mv "$T/trust.new" "$T/trust.pem"
after_1s "$t2"
# The server switches only once the client has taken the new bundle and
# gone through with it (a busy machine can hold a handshake that began
# before the reload past the second): the state, not a guess.
wait_log "$T/client.log" "credentials reloaded" $((reloads + 1)) "$t2" >/dev/null ||
	fail "the client never reloaded its CA bundle"
more 2
cat "$T/srv2.key" "$T/srv2.pem" >"$T/srv.new"; mv "$T/srv.new" "$T/srv.pem"
more 5

# 3. the client certificate rewritten in place
t3=$(now_mono); cat "$T/cl3.key" "$T/cl3.pem" >"$T/client.pem"
after_1s "$t3"; more 5
touch "$T/stop"
sleep 0.5

total=$(wc -l <"$T/conns")
failed=$(grep -c " FAIL " "$T/conns" || true)
[ "$failed" -eq 0 ] || { grep " FAIL " "$T/conns" | head >&2; grep -v "verify=ok" "$T/client.log" >&2; fail "$failed of $total connections failed"; }
lat1=$(check_switch "$T/seen" "$t1" cl1 cl2) || fail "after the rename: $lat1"
lat3=$(check_switch "$T/seen" "$t3" cl2 cl3) || fail "after the rewrite in place: $lat3"
assert_contains "$T/client.log" "credentials reloaded" "the reload is logged"
echo "client rotation: first connection with the new certificate ${lat1} ms after the rename, ${lat3} ms after the rewrite in place; $total connections, none failed"
