#!/bin/sh
# SSLKEYLOGFILE names the process's own secret file, never what someone
# planted at that name: a symbolic link (to a file of ours), a file group
# or others may read, or (as root) a file another user owns is refused.
# No secret is written anywhere, the connection fails closed (-1 EPROTO,
# the server gets nothing) and the warn line says why. A fresh name works
# and is made 0600.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
start_bg 60 openssl s_server -rev -accept 127.0.0.1:$P -cert "$CERTS/server.pem" \
	-key "$CERTS/server.key" >"$T/server.out" 2>&1
wait_port $P

run() { # keylog-path
	SSLKEYLOGFILE=$1 \
	TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
		LD_PRELOAD=$PRELOAD timeout 20 "$PROGS/tsprog_client" gai $P 127.0.0.1 >"$T/out" 2>"$T/log"
}

refused() { # keylog-path file-to-check why
	run "$1"
	assert_contains "$T/out" "connect=-1 errno=EPROTO" "$3: the connection fails closed"
	assert_contains "$T/log" "cannot open key log file $1: $3" "$3: the warn line"
	assert_not_contains "$2" SECRET "$3: no secret written"
	assert_not_contains "$T/server.out" "ping" "$3: nothing reached the server"
}

# 1. a symbolic link to a 0600 file of ours
echo "mine" >"$T/victim"; chmod 600 "$T/victim"
ln -s "$T/victim" "$T/link.log"
refused "$T/link.log" "$T/victim" "is a symbolic link"
assert_eq "mine" "$(cat "$T/victim")" "the link's target is untouched"

# 2. a file of ours that others may read (as another user could leave it
# for us to fill)
: >"$T/open.log"; chmod 644 "$T/open.log"
refused "$T/open.log" "$T/open.log" "may be read or written by group or others"
[ ! -s "$T/open.log" ] || fail "a readable key log was written"

# 3. a file another user owns, mode 0600 (its owner reads it; root may
# write it)
if [ "$(id -u)" -eq 0 ]; then
	: >"$T/foreign.log"; chmod 600 "$T/foreign.log"; chown nobody "$T/foreign.log" || fail "chown nobody"
	refused "$T/foreign.log" "$T/foreign.log" "belongs to another user"
	[ ! -s "$T/foreign.log" ] || fail "another user's key log was written"
else
	echo "NOTE: not root: the owned-by-another-user case needs root (CI runs as root) and was not run"
fi

# 4. a fresh name: created 0600, the secrets in it
run "$T/fresh.log"
assert_contains "$T/out" "^got=" "a fresh key log: the connection works"
assert_contains "$T/fresh.log" "^CLIENT_HANDSHAKE_TRAFFIC_SECRET " "a fresh key log: the secrets"
assert_eq 600 "$(stat -c %a "$T/fresh.log")" "a fresh key log's mode"
exit 0
