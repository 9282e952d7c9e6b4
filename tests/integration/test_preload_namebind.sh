#!/bin/sh
# Names are identities (issue 10 item 6): a name rule keeps matching however
# many other names the program resolved, and the name sent as SNI and
# checked is the one that matched the rule, never merely the newest name
# resolved to that address. Names are mapped to 127.0.0.1 with nss_wrapper
# (a test-local hosts file; Debian package libnss-wrapper).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/certs_lib.sh"

NSSW=$(for d in /usr/lib/*-linux-gnu /usr/lib64 /usr/lib; do
	[ -e "$d/libnss_wrapper.so" ] && echo "$d/libnss_wrapper.so" && break; done)
[ -n "$NSSW" ] || fail "libnss_wrapper.so not found (tests/deps.sh test installs libnss-wrapper)"

mkleaf good "/CN=good.example.com" "subjectAltName = DNS:good.example.com"
mkleaf evil "/CN=evil.test" "subjectAltName = DNS:evil.test"

{
	echo "127.0.0.1 good.example.com"
	echo "127.0.0.1 evil.test"
	i=0
	while [ $i -lt 700 ]; do echo "127.0.0.1 n$i.other.test"; i=$((i + 1)); done
} >"$T/hosts"
OTHERS=$(i=0; while [ $i -lt 700 ]; do printf ' n%d.other.test' $i; i=$((i + 1)); done)

serve() { # cert-name
	P=$(free_port)
	start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$T/$1.pem" -key "$T/$1.key" \
		-naccept 1 >"$T/server.out" 2>&1
	SRV=$BG_PID
	wait_port $P
}

run() { # rule-text names...
	_rules=$1; shift
	NSS_WRAPPER_MAX_HOSTENTS=5000 NSS_WRAPPER_HOSTS=$T/hosts TLSSHIM_LOG=debug TLSSHIM_CONFIG_STRING="connect = ( $_rules );" \
		LD_PRELOAD="$PRELOAD $NSSW" timeout 20 "$PROGS/tsprog_client" gai $P "$@" \
		>"$T/out" 2>"$T/log"
}

OK="connect=0
write=5
read=5
got=gnip"
REFUSED="connect=-1 errno=EPROTO
write=-1 errno=EPROTO
read=-1 errno=EPROTO"

# (b) the man in the middle: *.example.com matched through good.example.com;
# evil.test, resolved later to the same address, has a valid certificate
# from the same CA. The connection is checked against good.example.com and
# refused.
serve evil
run "{ match = \"*.example.com:$P\"; ca_certs = \"$CERTS/ca.pem\"; }" good.example.com evil.test
assert_eq "$REFUSED" "$(cat "$T/out")" "certificate for evil.test under *.example.com"
assert_contains "$T/log" "failed (rule .*, server name good.example.com): certificate verify failed" "bound to the name that matched"
assert_contains "$T/log" "certificate verify failed" "refusal logged"
assert_not_contains "$T/server.out" "ping" "nothing reached the server"
stop_bg $SRV

# ... and the same order of resolution with the right server works
serve good
run "{ match = \"*.example.com:$P\"; ca_certs = \"$CERTS/ca.pem\"; }" good.example.com evil.test
assert_eq "$OK" "$(cat "$T/out")" "good.example.com under *.example.com"
assert_contains "$T/log" "server name good.example.com" "SNI"
stop_bg $SRV

# (a) cache pressure: 700 more names resolved to the same address after the
# rule's name; the rule still matches (before: plain, the TLS server saw
# "ping" as garbage)
serve good
run "{ match = \"good.example.com:$P\"; ca_certs = \"$CERTS/ca.pem\"; }" good.example.com evil.test $OTHERS
assert_eq "$OK" "$(cat "$T/out")" "name rule after 700 other names"
assert_contains "$T/log" "server name good.example.com" "SNI after pressure"
stop_bg $SRV

# the same under the wildcard, with the MITM name resolved last
serve evil
run "{ match = \"*.example.com:$P\"; ca_certs = \"$CERTS/ca.pem\"; }" good.example.com $OTHERS evil.test
assert_eq "$REFUSED" "$(cat "$T/out")" "wildcard after 700 other names, evil last"
stop_bg $SRV

# a trailing dot is not part of the name: "good.example.com." matches the
# rule and is sent and checked as good.example.com
echo "127.0.0.1 good.example.com." >>"$T/hosts"
serve good
run "{ match = \"good.example.com:$P\"; ca_certs = \"$CERTS/ca.pem\"; }" good.example.com.
assert_eq "$OK" "$(cat "$T/out")" "trailing dot"
assert_contains "$T/log" "server name good.example.com\$" "SNI without the dot"
stop_bg $SRV

# server_hostname with a trailing dot: the same name
serve good
run "{ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; server_hostname = \"good.example.com.\"; }" evil.test
assert_eq "$OK" "$(cat "$T/out")" "server_hostname with a trailing dot"
assert_contains "$T/log" "server name good.example.com\$" "SNI from server_hostname without the dot"
stop_bg $SRV
exit 0
