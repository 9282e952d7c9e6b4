#!/bin/sh
# Issue 10 item 6b: under an address rule or a `*` rule, the name sent as SNI
# and checked against the certificate is the one the connecting thread
# looked up, not merely the newest name the process resolved to the address.
# Otherwise whoever makes the process resolve evil.example.com to the same
# address (a shared CDN address, a lookup in another thread) gets a valid
# evil.example.com certificate accepted for a connection meant for
# good.example.com. Names map to 127.0.0.1 with nss_wrapper.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/certs_lib.sh"

NSSW=$(for d in /usr/lib/*-linux-gnu /usr/lib64 /usr/lib; do
	[ -e "$d/libnss_wrapper.so" ] && echo "$d/libnss_wrapper.so" && break; done)
[ -n "$NSSW" ] || fail "libnss_wrapper.so not found (tests/deps.sh test installs libnss-wrapper)"

mkleaf good "/CN=good.example.com" "subjectAltName = DNS:good.example.com"
mkleaf evil "/CN=evil.example.com" "subjectAltName = DNS:evil.example.com"
printf '127.0.0.1 good.example.com\n127.0.0.1 evil.example.com\n' >"$T/hosts"

serve() { # cert-name [openssl s_server options...]
	_c=$1; shift
	P=$(free_port)
	start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$T/$_c.pem" -key "$T/$_c.key" \
		"$@" >"$T/server.out" 2>&1
	SRV=$BG_PID
	wait_port $P
}

run() { # rule-text tsprog_client-mode args...
	_rules=$1; shift
	NSS_WRAPPER_HOSTS=$T/hosts TLSSHIM_LOG=debug TLSSHIM_CONFIG_STRING="connect = ( $_rules );" \
		LD_PRELOAD="$PRELOAD $NSSW" timeout 20 "$PROGS/tsprog_client" "$@" >"$T/out" 2>"$T/log"
}

rule() { # host: an address or `*` rule for the server's port
	echo "{ match = \"$1:$P\"; ca_certs = \"$CERTS/ca.pem\"; }"
}

OK="connect=0
write=5
read=5
got=gnip"
REFUSED="connect=-1 errno=EPROTO
write=-1 errno=EPROTO
read=-1 errno=EPROTO"

for host in 127.0.0.1 '*'; do
	# the man in the middle: this thread looked up good.example.com,
	# another thread then resolved evil.example.com to the same address,
	# and the server presents evil.example.com's valid certificate
	serve evil -naccept 1
	run "$(rule "$host")" gaiother $P good.example.com evil.example.com
	assert_eq "$REFUSED" "$(cat "$T/out")" "$host rule: evil.example.com's certificate for good.example.com"
	assert_contains "$T/log" "failed (rule .*, server name good.example.com): certificate verify failed" \
		"$host rule: checked against this thread's name, refusal logged"
	assert_not_contains "$T/log" "verify=ok" "$host rule: no handshake accepted"
	assert_not_contains "$T/server.out" "ping" "$host rule: nothing reached the server"
	stop_bg $SRV

	# the same lookups with the right server work
	serve good -naccept 1
	run "$(rule "$host")" gaiother $P good.example.com evil.example.com
	assert_eq "$OK" "$(cat "$T/out")" "$host rule: good.example.com with the other name resolved last"
	assert_contains "$T/log" "server name good.example.com" "$host rule: SNI is this thread's name"
	stop_bg $SRV
done

# one thread that looks up good.example.com and then evil.example.com
# before it connects meant its most recent lookup (tlsshim(1) CAVEATS):
# checked against evil.example.com, so good's certificate is refused
serve good -naccept 1
run "$(rule '*')" gai $P good.example.com evil.example.com
assert_eq "$REFUSED" "$(cat "$T/out")" "this thread's most recent lookup is the name"
assert_contains "$T/log" "failed (rule .*, server name evil.example.com): certificate verify failed" \
	"checked against this thread's most recent lookup"
stop_bg $SRV

# a thread that looked no name up (it connects to an IP literal): one name
# resolved by another thread is used (a resolver thread, as curl's) ...
serve good -naccept 1
run "$(rule '*')" gaiother $P 127.0.0.1 good.example.com
assert_eq "$OK" "$(cat "$T/out")" "the only name another thread resolved"
assert_contains "$T/log" "server name good.example.com" "SNI from the other thread's only name"
assert_not_contains "$T/log" "names were resolved to this address" "one name is not ambiguous"
stop_bg $SRV

# ... but two are ambiguous: none is picked, a warn line names them, and
# the certificate is checked against the address (which it does not carry)
serve good -naccept 1
run "$(rule '*')" gaiother $P 127.0.0.1 good.example.com evil.example.com
assert_eq "$REFUSED" "$(cat "$T/out")" "two names from other threads: checked against the address"
assert_contains "$T/log" "connect 127.0.0.1:$P: 2 names were resolved to this address, none by this thread (evil.example.com, good.example.com); no name is sent, the certificate is checked against the address" \
	"ambiguity logged with the candidates"
assert_not_contains "$T/log" "server name" "no name sent"
assert_not_contains "$T/server.out" "ping" "nothing reached the server"
stop_bg $SRV
# Last, as TSan cannot run it: two threads resolving through nss_wrapper
# make it dlopen libc with RTLD_DEEPBIND, which the sanitizer runtimes
# refuse (TSan's is hit here; everything above has run by now).
sanitizer_skip tsan "its last part (two threads resolving through nss_wrapper) cannot run under TSan: nss_wrapper dlopens libc with RTLD_DEEPBIND, which TSan's runtime refuses; all before it passed"
# two threads look up different names of one address, then both connect:
# each sends and checks its own name. The server answers SNI
# good.example.com with good's certificate and anything else with evil's,
# so both succeed only if each thread's name is its own.
serve evil -naccept 2 -servername good.example.com -cert2 "$T/good.pem" -key2 "$T/good.key"
run "$(rule '*')" gaithreads $P good.example.com evil.example.com
assert_eq "good.example.com connect=0
good.example.com write=5
good.example.com read=5
good.example.com got=gnip
evil.example.com connect=0
evil.example.com write=5
evil.example.com read=5
evil.example.com got=gnip" "$(cat "$T/out")" "two threads, two names, one address"
assert_contains "$T/log" "server name good.example.com" "SNI of the first thread"
assert_contains "$T/log" "server name evil.example.com" "SNI of the second thread"
stop_bg $SRV
exit 0
