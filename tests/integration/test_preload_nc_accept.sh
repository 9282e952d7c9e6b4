#!/bin/sh
# `nc -l` under an accept rule answers `openssl s_client -verify_return_error`
# with TLS, both directions; the accept info line is written.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
mkfifo "$T/in"
( echo "from server"; sleep 1 ) >"$T/in" &
_pids="$_pids $!"
export TLSSHIM_LOG=info
export TLSSHIM_CONFIG_STRING="accept = ({ match = \"*:$P\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; });"
# (an asynchronous command's stdin is /dev/null unless redirected on it)
start_bg 20 sh -c 'LD_PRELOAD=$0 exec nc -N -l 127.0.0.1 $1 <"$2/in" >"$2/server.out" 2>"$2/log"' \
	"$PRELOAD" $P "$T"
SRV=$BG_PID
wait_port $P

# -quiet implies -ign_eof: s_client ends when the server's nc -N sends
# close_notify after its input ends.
echo "from client" | timeout 10 openssl s_client -connect 127.0.0.1:$P \
	-CAfile "$CERTS/ca.pem" -verify_return_error -servername localhost -quiet \
	>"$T/client.out" 2>"$T/client.err"
rc=$?
assert_eq 0 "$rc" "s_client verified the server and exited cleanly"
assert_contains "$T/client.out" "from server" "server -> client"
assert_contains "$T/server.out" "from client" "client -> server"
grep -Eq "^tlsshim\[[0-9]+\]: accept 127\.0\.0\.1:[0-9]+ TLSv1\.3 TLS_[A-Z0-9_]+ verify=none$" "$T/log" ||
	{ cat "$T/log" >&2; fail "accept info line"; }
stop_bg $SRV
