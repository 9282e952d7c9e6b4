#!/bin/sh
# 64 MiB in each direction at once, both ends under tlsshim (nc -l under an
# accept rule, nc under a connect rule): sha256 equal both ways.
. "$(dirname "$0")/lib.sh"

head -c 67108864 /dev/urandom >"$T/up"
head -c 67108864 /dev/urandom >"$T/down"
P=$(free_port)
export TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; }); accept = ({ match = \"127.0.0.1:$P\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; });"
start_bg 60 sh -c 'LD_PRELOAD=$0 exec nc -N -l 127.0.0.1 $1 <"$2/down" >"$2/got_up"' "$PRELOAD" $P "$T"
SRV=$BG_PID
wait_port $P
LD_PRELOAD=$PRELOAD timeout 60 nc -N 127.0.0.1 $P <"$T/up" >"$T/got_down" || fail "client nc"
wait $SRV 2>/dev/null
a=$(sha256sum <"$T/up"); b=$(sha256sum <"$T/got_up")
assert_eq "$a" "$b" "client -> server sha256"
a=$(sha256sum <"$T/down"); b=$(sha256sum <"$T/got_down")
assert_eq "$a" "$b" "server -> client sha256"
