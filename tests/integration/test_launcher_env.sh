#!/bin/sh
# What the launcher hands the program: LD_PRELOAD (ours first, the old
# entries kept, no duplicate), TLSSHIM_CONFIG_STRING (the options as
# libconfig text, values escaped, paths absolute), TLSSHIM_CONFIG,
# TLSSHIM_LOG.
. "$(dirname "$0")/lib.sh"
sanitizer_skip tsan "its test library, preloaded after TSan's runtime, writes from its constructor before that runtime has started: the write enters tlsshim's TSan-instrumented hook and crashes"

# The preload next to the launcher, by absolute path.
"$TLSSHIM" --connect 127.0.0.1:1 -- printenv LD_PRELOAD >"$T/out" || fail "printenv under tlsshim"
assert_eq "$PRELOAD" "$(cat "$T/out")" "LD_PRELOAD without an old value"

# An existing LD_PRELOAD is kept, after ours; both loaded (the old one
# says so from its constructor).
cat > "$T/other.c" <<'C'
#include <unistd.h>
__attribute__((constructor)) static void hello(void) { write(2, "other-preload-loaded\n", 21); }
C
cc -shared -fPIC -o "$T/libother.so" "$T/other.c" || fail "cannot build a test preload"
LD_PRELOAD="$T/libother.so" "$TLSSHIM" --connect 127.0.0.1:1 -- printenv LD_PRELOAD \
	>"$T/out" 2>"$T/err" || fail "printenv with an old LD_PRELOAD"
assert_eq "$PRELOAD:$T/libother.so" "$(cat "$T/out")" "LD_PRELOAD keeps the old entries"
assert_contains "$T/err" "other-preload-loaded" "the old preload is still loaded"
# Space-separated old lists are kept too; our library is not listed twice.
LD_PRELOAD="$T/libother.so $PRELOAD" "$TLSSHIM" --connect 127.0.0.1:1 -- printenv LD_PRELOAD \
	>"$T/out" 2>/dev/null || fail "printenv with a list"
assert_eq "$PRELOAD:$T/libother.so" "$(cat "$T/out")" "no duplicate of libtlsshim.so"

# The rules: one line per rule, in command-line order, connect first.
"$TLSSHIM" --connect 127.0.0.1:4433 --connect '[::1]:4433' --accept '*:8443' \
	--certfile "$CERTS/server.pem" --keyfile "$CERTS/server.key" --ca-certs "$CERTS/ca.pem" \
	--cert-reqs optional --ssl-version TLSv1_2 --lazy-handshake --no-suppress-ragged-eofs \
	-- printenv TLSSHIM_CONFIG_STRING >"$T/out" || fail "printenv TLSSHIM_CONFIG_STRING"
keys="certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; ca_certs = \"$CERTS/ca.pem\"; cert_reqs = \"CERT_OPTIONAL\"; ssl_version = \"PROTOCOL_TLSv1_2\"; do_handshake_on_connect = false; suppress_ragged_eofs = false; }"
cat > "$T/want" <<W
connect = ( { match = "127.0.0.1:4433"; $keys
, { match = "[::1]:4433"; $keys );
accept = ( { match = "*:8443"; $keys );
W
diff "$T/want" "$T/out" >&2 || fail "TLSSHIM_CONFIG_STRING differs"

# --server-hostname goes to client rules only; PROTOCOL_ and CERT_ forms
# are accepted as given.
"$TLSSHIM" --connect 127.0.0.1:4433 --accept '*:8443' --certfile "$CERTS/server.pem" \
	--keyfile "$CERTS/server.key" --server-hostname localhost --ssl-version PROTOCOL_SSLv23 \
	--cert-reqs CERT_NONE -- printenv TLSSHIM_CONFIG_STRING >"$T/out" || fail "printenv"
assert_eq 1 "$(grep -c 'server_hostname = "localhost"' "$T/out")" "server_hostname in the connect rule only"
grep '^accept' "$T/out" | grep -q server_hostname && fail "server_hostname in an accept rule"
assert_contains "$T/out" 'ssl_version = "PROTOCOL_SSLv23"' "PROTOCOL_ form"
assert_contains "$T/out" 'cert_reqs = "CERT_NONE"' "CERT_ form"

# Escaping: a directory whose name has a double quote, a backslash and a
# space. The launcher loads the files through config/ before exec, so a
# wrong escape would be exit 1 here.
odd="$T/odd \"dir\" \\ x"
mkdir -p "$odd"
cp "$CERTS/server.pem" "$CERTS/server.key" "$CERTS/ca.pem" "$odd/"
"$TLSSHIM" --accept '*:8443' --certfile "$odd/server.pem" --keyfile "$odd/server.key" \
	--ca-certs "$odd/ca.pem" --cert-reqs required -- printenv TLSSHIM_CONFIG_STRING \
	>"$T/out" 2>"$T/err" || { cat "$T/err" >&2; fail "a path with a quote, a backslash and a space"; }
esc=$(printf '%s' "$odd" | sed 's/\\/\\\\/g; s/"/\\"/g')
assert_contains "$T/out" "certfile = \"$(printf '%s' "$esc" | sed 's/[][\\.*^$]/\\&/g')/server.pem\"" "escaped path"
# The text the launcher built reads back the same through the environment.
TLSSHIM_CONFIG_STRING=$(cat "$T/out") "$TLSSHIM" -- true 2>"$T/err" \
	|| { cat "$T/err" >&2; fail "the generated text does not load back"; }

# Relative paths become absolute: the program may chdir.
(cd "$odd" && "$TLSSHIM" --accept '*:8443' --certfile server.pem --keyfile ./server.key \
	-- printenv TLSSHIM_CONFIG_STRING) >"$T/out" || fail "relative paths"
assert_contains "$T/out" "certfile = \"$(printf '%s' "$esc" | sed 's/[][\\.*^$]/\\&/g')/server.pem\"" "certfile made absolute"
assert_contains "$T/out" "keyfile = \"$(printf '%s' "$esc" | sed 's/[][\\.*^$]/\\&/g')/server.key\"" "keyfile made absolute"

# A newline in a value cannot break the text (control bytes are \xNN).
"$TLSSHIM" --connect 127.0.0.1:4433 --server-hostname "$(printf 'a\nb')" \
	-- printenv TLSSHIM_CONFIG_STRING >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ]; then
	assert_contains "$T/out" 'server_hostname = "a\\x0ab"' "newline escaped"
else
	assert_eq 1 "$rc" "a host name with a newline is a config error, not a parse error"
	assert_not_contains "$T/err" "syntax error" "newline escaped"
fi

# -c: TLSSHIM_CONFIG, absolute; -v/-q: TLSSHIM_LOG (the last one wins).
cat > "$T/app.conf" <<C
version = 1;
connect = ( { match = "127.0.0.1:4433"; ca_certs = "$CERTS/ca.pem"; } );
C
(cd "$T" && "$TLSSHIM" -c app.conf -- printenv TLSSHIM_CONFIG) >"$T/out" || fail "-c"
assert_eq "$T/app.conf" "$(cat "$T/out")" "-c sets TLSSHIM_CONFIG to an absolute path"
"$TLSSHIM" --config "$T/app.conf" -- sh -c 'printf "%s|" "${TLSSHIM_CONFIG_STRING-unset}"' \
	>"$T/out" || fail "--config"
assert_eq "unset|" "$(cat "$T/out")" "no TLSSHIM_CONFIG_STRING without command-line rules"
"$TLSSHIM" -v -c "$T/app.conf" -- printenv TLSSHIM_LOG >"$T/out" 2>/dev/null || fail "-v"
assert_eq debug "$(cat "$T/out")" "-v"
"$TLSSHIM" --quiet -c "$T/app.conf" -- printenv TLSSHIM_LOG >"$T/out" || fail "-q"
assert_eq error "$(cat "$T/out")" "-q"
"$TLSSHIM" -q --verbose -c "$T/app.conf" -- printenv TLSSHIM_LOG >"$T/out" 2>/dev/null || fail "-q -v"
assert_eq debug "$(cat "$T/out")" "the last of -q/-v wins"
# Without -v/-q an existing TLSSHIM_LOG is left alone; with them it is replaced.
TLSSHIM_LOG=info "$TLSSHIM" -c "$T/app.conf" -- printenv TLSSHIM_LOG >"$T/out" 2>/dev/null || fail "TLSSHIM_LOG"
assert_eq info "$(cat "$T/out")" "TLSSHIM_LOG kept"
# TLSSHIM_CONFIG from the environment is enough; -c replaces it.
TLSSHIM_CONFIG="$T/app.conf" "$TLSSHIM" -- printenv TLSSHIM_CONFIG >"$T/out" || fail "env config"
assert_eq "$T/app.conf" "$(cat "$T/out")" "TLSSHIM_CONFIG kept"
cp "$T/app.conf" "$T/other.conf"
TLSSHIM_CONFIG="$T/app.conf" "$TLSSHIM" -c "$T/other.conf" -- printenv TLSSHIM_CONFIG >"$T/out" || fail "-c over env"
assert_eq "$T/other.conf" "$(cat "$T/out")" "-c replaces TLSSHIM_CONFIG"
exit 0
