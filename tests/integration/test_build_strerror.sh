#!/bin/sh
# The libraries promise thread safety, and strerror may hand every thread
# one shared buffer: neither libsslsocket nor libtlsshim imports it (they
# use strerror_r). The launcher is checked too (it links the core's error
# code).
. "$(dirname "$0")/lib.sh"

for f in "$BUILD/libsslsocket.so" "$PRELOAD_SO" "$TLSSHIM"; do
	nm -D --undefined-only "$f" >"$T/undef" || fail "nm $f"
	grep -q "strerror_r" "$T/undef" || grep -q . "$T/undef" || fail "nm $f listed nothing"
	if grep -Eq ' U strerror(@|$)' "$T/undef"; then
		fail "$f imports strerror"
	fi
done
# and a build made before the change would have failed here:
nm -D --undefined-only "$BUILD/libsslsocket.so" | grep -q ' U strerror_r' ||
	fail "libsslsocket.so does not use strerror_r"
