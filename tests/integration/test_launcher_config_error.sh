#!/bin/sh
# A configuration error stops the launcher with "tlsshim: ..." and exit 1
# before the program runs; errors in the command-line rules name the option.
. "$(dirname "$0")/lib.sh"

marker=$T/ran
bad() { # stderr-needle args... (the program, `touch marker`, is appended)
	_needle=$1; shift
	rm -f "$marker"
	"$TLSSHIM" "$@" -- touch "$marker" >"$T/out" 2>"$T/err"
	_rc=$?
	[ "$_rc" -eq 1 ] || { cat "$T/err" >&2; fail "tlsshim $*: exit $_rc, expected 1"; }
	[ ! -e "$marker" ] || fail "tlsshim $*: the program ran"
	assert_contains "$T/err" "^tlsshim: " "tlsshim $*: message prefix"
	assert_contains "$T/err" "$_needle" "tlsshim $*"
	[ "$(wc -l <"$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "tlsshim $*: one line expected"; }
}

# Values the launcher checks itself.
bad "--cert-reqs sometimes: expected none, optional or required" \
	--connect 127.0.0.1:1 --cert-reqs sometimes
bad "--ssl-version" --connect 127.0.0.1:1 --ssl-version PROTOCOL_

# Values config/ checks; the line of the generated text is mapped back to
# the option that made the rule.
bad "--connect '127.0.0.1:1'" --connect 127.0.0.1:1 --ssl-version TLSv9
bad "--connect '127.0.0.1:1'" --connect 127.0.0.1:1 --accept '*:2' --certfile "$T/nope.pem" \
	--keyfile "$CERTS/server.key"
bad "--accept '\*:2'" --connect 127.0.0.1:1 --accept '*:2'   # no certificate for the server
bad "nope.pem" --accept '*:2' --certfile "$T/nope.pem" --keyfile "$CERTS/server.key"
bad "--connect 'nohost'" --connect nohost
bad "--connect '127.0.0.1:99999'" --connect 127.0.0.1:99999
bad "--connect '127.0.0.1:1'" --connect 127.0.0.1:1 --ca-certs "$T/missing-ca.pem"
bad "--accept '\*:2'" --accept '*:2'   # a server rule needs a certificate
bad "--accept '\*:2'" --accept '*:2' --certfile "$CERTS/server.pem" --keyfile "$CERTS/client.key"

# Errors in the file named by -c keep its FILE:LINE.
printf 'version = 1;\nconnect = ( { match = "127.0.0.1:1"; }\n' > "$T/syntax.conf"
bad "$T/syntax.conf:" -c "$T/syntax.conf"
printf 'version = 1;\nconnect = ( { match = "127.0.0.1:1"; bogus_key = 1; } );\n' > "$T/unknown.conf"
bad "$T/unknown.conf:2" -c "$T/unknown.conf"
bad "$T/absent.conf" -c "$T/absent.conf"
# ... also when command-line rules come with it.
bad "$T/unknown.conf:2" --connect 127.0.0.1:1 -c "$T/unknown.conf"

# ... and when the file's name reads like the generated text's place: what
# the error is about decides, not how its text begins.
printf 'version = 1;\nbogus = 1;\n' > "$T/TLSSHIM_CONFIG_STRING:1:x.conf"
(cd "$T" && TLSSHIM_CONFIG='TLSSHIM_CONFIG_STRING:1:x.conf' \
	bad "^tlsshim: TLSSHIM_CONFIG_STRING:1:x.conf:2: unknown setting" --connect 127.0.0.1:1) ||
	exit 1

# The environment is checked the same way.
TLSSHIM_CONFIG_STRING='connect = ( { match = 1; } );' bad "TLSSHIM_CONFIG_STRING:1"
TLSSHIM_CONFIG="$T/unknown.conf" bad "$T/unknown.conf:2"
TLSSHIM_LOG=loud bad "TLSSHIM_LOG" --connect 127.0.0.1:1

# And a good configuration runs the program.
rm -f "$marker"
"$TLSSHIM" --connect 127.0.0.1:1 --ca-certs "$CERTS/ca.pem" --ssl-version TLSv1_2 \
	--cert-reqs required -- touch "$marker" || fail "a good configuration"
[ -e "$marker" ] || fail "the program did not run"
exit 0
