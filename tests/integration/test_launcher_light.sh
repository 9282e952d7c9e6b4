#!/bin/sh
# The launcher maps no OpenSSL on its common path (start-up cost): it does
# not link libssl, libcrypto or a shared libconfig, reads the program's
# ELF tables in a few reads, runs a program with a config of RSA and EC
# rules without loading libsslsocket.so, and runs it even when that
# library is missing. What does need OpenSSL loads libsslsocket.so and
# says the same as before: a pinned protocol this OpenSSL cannot speak, a
# cipher list; without the library those are a clear error, exit 1.
. "$(dirname "$0")/lib.sh"

needed=$(readelf -d "$TLSSHIM" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
case "$needed" in
*libssl* | *libcrypto*) fail "the launcher links OpenSSL: $needed" ;;
*libconfig*) fail "the launcher maps libconfig's shared library (its archive is linked in): $needed" ;;
esac

cat >"$T/rules.conf" <<EOF
version = 1;
connect = ( { match = "10.0.0.0/8:443"; ca_certs = "$CERTS/ca.pem"; } );
accept = ( { match = "*:9443"; certfile = "$CERTS/server.pem"; keyfile = "$CERTS/server.key"; },
           { match = "*:9444"; certfile = "$CERTS/rsa.pem"; keyfile = "$CERTS/rsa.key"; } );
EOF
LD_DEBUG=files "$TLSSHIM" -c "$T/rules.conf" -- /bin/true 2>"$T/ld.log" || fail "plain run: $(tail -3 "$T/ld.log")"
if grep -q "libsslsocket.so" "$T/ld.log"; then
	fail "the common path loaded libsslsocket.so: $(grep libsslsocket "$T/ld.log" | head -2)"
fi

# the program's ELF tables are read a table at a time (they were read an
# entry at a time: some ninety system calls at every start)
# (LeakSanitizer cannot run under ptrace: a sanitizer tree's launcher
# counts without it)
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
	strace -o "$T/st" -e trace=pread64,execve "$TLSSHIM" -c "$T/rules.conf" -- /bin/true ||
	fail "run under strace"
n=$(awk '/^execve\("\/bin\/true"/ { exit } /pread64/ { n++ } END { print n + 0 }' "$T/st")
[ "$n" -le 16 ] || fail "the launcher made $n preads before exec (at most 16)"

# a mismatched key is still refused, before the program runs
cat >"$T/bad.conf" <<EOF
version = 1;
accept = ( { match = "*:9443"; certfile = "$CERTS/server.pem";
             keyfile = "$CERTS/rsa.key"; } );
EOF
if "$TLSSHIM" -c "$T/bad.conf" -- /bin/echo ran >"$T/out" 2>"$T/err"; then
	fail "a mismatched key was accepted"
fi
assert_contains "$T/err" "bad.conf:3: keyfile: private key in $CERTS/rsa.key does not match the certificate in $CERTS/server.pem" "the mismatch error"
assert_not_contains "$T/out" "ran" "the program ran"

# what needs OpenSSL loads the library, and words its errors as before
LD_DEBUG=files "$TLSSHIM" --connect 127.0.0.1:1 --ssl-version TLSv1 -- /bin/true 2>"$T/pin.log" &&
	fail "TLSv1 was accepted"
assert_contains "$T/pin.log" "libsslsocket.so" "the pin loaded libsslsocket.so"
assert_contains "$T/pin.log" "ssl_version: PROTOCOL_TLSv1 cannot be spoken by this OpenSSL" "the pin's error"
cat >"$T/ciphers.conf" <<EOF
version = 1;
connect = ( { match = "*:1";
              ciphers = "NO-SUCH-CIPHER"; } );
EOF
"$TLSSHIM" -c "$T/ciphers.conf" -- /bin/true 2>"$T/err" && fail "a bad cipher list was accepted"
assert_contains "$T/err" "ciphers.conf:3: ciphers: invalid cipher string \"NO-SUCH-CIPHER\"" "the cipher error"

# without libsslsocket.so: the common path runs, the rest says why (a
# static launcher hands the rest to tlsshim-full, which says it)
mkdir "$T/bin"
cp "$TLSSHIM" "$BUILD/tlsshim-full" "$PRELOAD_SO" "$T/bin/"
out=$("$T/bin/tlsshim" -c "$T/rules.conf" -- /bin/echo ran 2>"$T/err") || fail "without libsslsocket.so: $(cat "$T/err")"
assert_eq "ran" "$out" "the program's output without libsslsocket.so"
if [ ! -e /usr/local/lib/libsslsocket.so ]; then
	"$T/bin/tlsshim" --connect 127.0.0.1:1 --ssl-version TLSv1_2 -- /bin/true 2>"$T/err"
	rc=$?
	assert_eq 1 "$rc" "exit status of a pin without libsslsocket.so"
	assert_contains "$T/err" "cannot load libsslsocket.so: cannot find libsslsocket.so" "the missing library's error"
fi
# a static launcher without the full one: the common path runs, the rest
# names what is missing
if ! readelf -l "$TLSSHIM" | grep -q INTERP; then
	rm "$T/bin/tlsshim-full"
	out=$("$T/bin/tlsshim" -c "$T/rules.conf" -- /bin/echo ran 2>"$T/err") ||
		fail "without tlsshim-full: $(cat "$T/err")"
	assert_eq "ran" "$out" "the program's output without tlsshim-full"
	"$T/bin/tlsshim" --connect 127.0.0.1:1 --ssl-version TLSv1_2 -- /bin/true 2>"$T/err"
	assert_eq 1 "$?" "exit status of a pin without tlsshim-full"
	assert_contains "$T/err" "cannot load libsslsocket.so through the full launcher: cannot find tlsshim-full: looked next to the launcher ($T/bin)" \
		"the missing launcher's error"
fi
echo "light launcher ok"
