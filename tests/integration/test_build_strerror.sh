#!/bin/sh
# The libraries promise thread safety, and strerror may hand every thread
# one shared buffer: neither libsslsocket nor libtlsshim imports it (they
# use strerror_r). The launchers are checked too (they link the core's
# error code); a static one imports nothing, so its own symbol table must
# hold strerror_r and no strerror at all.
. "$(dirname "$0")/lib.sh"

launchers="$BUILD/tlsshim-full"
if readelf -l "$TLSSHIM" | grep -q INTERP; then
	launchers="$launchers $TLSSHIM"
else
	nm "$TLSSHIM" >"$T/syms" || fail "nm $TLSSHIM"
	grep -Eq ' [TtWw] strerror_r$' "$T/syms" || fail "the static launcher has no strerror_r"
	if grep -Eq ' [A-Za-z] strerror$' "$T/syms"; then
		fail "the static launcher links strerror"
	fi
fi
for f in "$BUILD/libsslsocket.so" "$PRELOAD_SO" $launchers; do
	nm -D --undefined-only "$f" >"$T/undef" || fail "nm $f"
	grep -q "strerror_r" "$T/undef" || grep -q . "$T/undef" || fail "nm $f listed nothing"
	if grep -Eq ' U strerror(@|$)' "$T/undef"; then
		fail "$f imports strerror"
	fi
done
# and a build made before the change would have failed here:
nm -D --undefined-only "$BUILD/libsslsocket.so" | grep -q ' U strerror_r' ||
	fail "libsslsocket.so does not use strerror_r"
