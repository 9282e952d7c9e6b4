#!/bin/sh
# `tlsshim --check`: a good configuration is printed as understood (rules,
# verification, identities, certificates with subject and notAfter) with
# exit 0; each class of error exits 1 with exactly the line a wrapped
# program prints at start for the same configuration.
. "$(dirname "$0")/lib.sh"

# ---- a good configuration ---------------------------------------------------
cat > "$T/good.conf" <<CONF
version = 1;
log_level = "info";
connect = (
  { match = "127.0.0.1:4433"; cert_reqs = "CERT_NONE"; },
  { match = "10.0.0.0/8:6379"; ca_certs = "$CERTS/ca.pem"; server_hostname = "redis.internal"; },
  { match = "127.0.0.1:*"; passthrough = true; }
);
accept = (
  { match = "*:8443"; certfile = "$CERTS/server.pem"; keyfile = "server.key";
    cert_reqs = "CERT_REQUIRED"; ca_certs = "$CERTS/ca.pem"; allow_names = ["spiffe://example.org/ns/*/sa/web"]; }
);
CONF
cp "$CERTS/server.key" "$T/server.key"   # relative to the config file
"$TLSSHIM" --check -c "$T/good.conf" >"$T/out" 2>"$T/err" || { cat "$T/err"; fail "good config: exit $?"; }
[ ! -s "$T/err" ] || { cat "$T/err"; fail "good config: something on stderr"; }
cat "$T/out"
assert_contains "$T/out" "^sources: *$T/good.conf$" "the file read"
assert_contains "$T/out" "^log: *info to stderr" "log level from the file"
assert_contains "$T/out" "^rule 1: connect 127.0.0.1:4433  ($T/good.conf:4)$" "rule 1 header"
assert_contains "$T/out" "CERT_NONE: the server's certificate is NOT checked" "rule 1 verification"
assert_contains "$T/out" "^rule 2: connect 10.0.0.0/8:6379 " "rule 2 header"
assert_contains "$T/out" "CERT_REQUIRED: the server's certificate must chain to ca_certs" "rule 2 verification"
assert_contains "$T/out" "identities *the certificate must name redis.internal" "rule 2 identity"
assert_contains "$T/out" "^rule 3: connect 127.0.0.1:\*  ($T/good.conf:6)" "rule 3 header"
assert_contains "$T/out" "passthrough *the socket is left plain" "rule 3 passthrough"
assert_contains "$T/out" "^rule 4: accept \*:8443 " "rule 4 header"
assert_contains "$T/out" "a client certificate is required, and must chain to ca_certs" "rule 4 mTLS"
assert_contains "$T/out" "certfile *$CERTS/server.pem$" "rule 4 certfile"
assert_contains "$T/out" "identities *the certificate must carry one of allow_names$" "rule 4 identities"
assert_contains "$T/out" "allow_names *spiffe://example.org/ns/\*/sa/web$" "rule 4 allow_names"
assert_contains "$T/out" "keyfile *$T/server.key (matches certfile)" "keyfile resolved against the config's directory"
# subject and notAfter as OpenSSL reads them
subj=$(openssl x509 -in "$CERTS/server.pem" -noout -enddate | sed 's/^notAfter=//')
assert_contains "$T/out" "subject C=US, .*CN=localhost$" "server certificate subject"
assert_contains "$T/out" "notAfter $subj (in [0-9]* days)" "server certificate notAfter"
assert_contains "$T/out" "subjectAltName DNS:localhost, IP Address:127.0.0.1" "server SAN"
assert_contains "$T/out" "subject C=US, O=tlsshim tests, CN=tlsshim test CA" "CA subject"
assert_contains "$T/out" "^configuration OK: 4 rules (3 connect, 1 accept)$" "summary"
assert_contains "$T/out" "^library: *$PRELOAD_SO$" "the library a run would preload"

# Command-line rules and TLSSHIM_CONFIG_STRING are loaded too, first.
TLSSHIM_CONFIG="$T/good.conf" "$TLSSHIM" --check --connect 127.0.0.1:9999 \
	--ca-certs "$CERTS/ca.pem" >"$T/out2" 2>&1 || { cat "$T/out2"; fail "with --connect"; }
assert_contains "$T/out2" "^sources: *TLSSHIM_CONFIG_STRING, $T/good.conf$" "both sources"
assert_contains "$T/out2" "^rule 1: connect 127.0.0.1:9999  (TLSSHIM_CONFIG_STRING:1)$" "the command-line rule first"
assert_contains "$T/out2" "^configuration OK: 5 rules" "5 rules"
# An expired certificate is loudly marked.
"$TLSSHIM" --check --accept '*:1' --certfile "$CERTS/expired.pem" --keyfile "$CERTS/expired.key" \
	>"$T/out3" 2>&1 || { cat "$T/out3"; fail "expired certificate"; }
assert_contains "$T/out3" "notAfter .* 2020 GMT (EXPIRED [0-9]* days ago)" "expired marked"
# --check runs nothing.
"$TLSSHIM" --check -c "$T/good.conf" -- true >"$T/out4" 2>&1 && fail "--check with a program"
assert_contains "$T/out4" "takes no program" "usage"

# ---- errors: exit 1, and the very line a wrapped program prints -------------
same_as_wrapped() { # conf-file what
	"$TLSSHIM" --check -c "$1" >"$T/cout" 2>"$T/cerr"
	_rc=$?
	[ "$_rc" -eq 1 ] || { cat "$T/cout" "$T/cerr"; fail "$2: --check exit $_rc, expected 1"; }
	[ ! -s "$T/cout" ] || { cat "$T/cout"; fail "$2: --check printed rules"; }
	TLSSHIM_CONFIG="$1" LD_PRELOAD="$PRELOAD" /bin/true >"$T/wout" 2>"$T/werr"
	_wrc=$?
	[ "$_wrc" -eq 1 ] || fail "$2: the wrapped program exited $_wrc, expected 1"
	cmp -s "$T/cerr" "$T/werr" || { echo "--check:"; cat "$T/cerr"; echo "wrapped:"; cat "$T/werr"; \
		fail "$2: --check and the wrapped program disagree"; }
	# and the launcher running a program says the same
	"$TLSSHIM" -c "$1" -- /bin/true >/dev/null 2>"$T/lerr"
	cmp -s "$T/cerr" "$T/lerr" || { cat "$T/lerr"; fail "$2: --check and tlsshim -c ... -- prog disagree"; }
	echo "ok $2: $(cat "$T/cerr")"
}
printf 'version = 1;\nconnect = (\n  { match = "127.0.0.1:1"; bogus_key = 1; }\n);\n' > "$T/unknown.conf"
same_as_wrapped "$T/unknown.conf" "unknown key"
assert_contains "$T/cerr" "^tlsshim: $T/unknown.conf:3: " "unknown key: FILE:LINE"
printf 'version = 1;\nconnect = (\n  { match = "127.0.0.1:1";\n    cert_reqs = "CERT_SOMETIMES"; }\n);\n' > "$T/badvalue.conf"
same_as_wrapped "$T/badvalue.conf" "bad value"
assert_contains "$T/cerr" "^tlsshim: $T/badvalue.conf:4: .*CERT_SOMETIMES" "bad value: FILE:LINE"
printf 'version = 1;\naccept = (\n  { match = "*:1"; certfile = "%s"; keyfile = "%s"; }\n);\n' \
	"$T/missing.pem" "$CERTS/server.key" > "$T/missing.conf"
same_as_wrapped "$T/missing.conf" "missing file"
assert_contains "$T/cerr" "^tlsshim: $T/missing.conf:3: .*$T/missing.pem" "missing file: FILE:LINE"
printf 'version = 1;\naccept = (\n  { match = "*:1"; certfile = "%s";\n    keyfile = "%s"; }\n);\n' \
	"$CERTS/server.pem" "$CERTS/client.key" > "$T/mismatch.conf"
same_as_wrapped "$T/mismatch.conf" "mismatched key"
assert_contains "$T/cerr" "^tlsshim: $T/mismatch.conf:[34]: " "mismatched key: FILE:LINE"
printf 'version = 1;\nconnect = ( { match = "127.0.0.1:1"; }\n' > "$T/syntax.conf"
same_as_wrapped "$T/syntax.conf" "syntax error"
same_as_wrapped "$T/absent.conf" "no such file"
# The log destination opens as the interposer opens it.
TLSSHIM_LOG_FILE="$T/no/such/dir/log" same_as_wrapped "$T/good.conf" "log file that cannot be opened"
assert_contains "$T/cerr" "^tlsshim: TLSSHIM_LOG_FILE: cannot open $T/no/such/dir/log: No such file or directory$" \
	"log file message"
TLSSHIM_LOG_FILE="$T/check.log" "$TLSSHIM" --check -c "$T/good.conf" >"$T/out5" 2>&1 || { cat "$T/out5"; fail "log file"; }
assert_contains "$T/out5" "^log: *info to $T/check.log$" "the log file shown"
exit 0
