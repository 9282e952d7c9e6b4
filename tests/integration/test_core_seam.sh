#!/bin/sh
# The core's rules that the linker can check: it calls no function the
# preload hooks (every name libtlsshim.so exports, from its version script)
# outside the libc table (core/iotable.c), and libsslsocket.so exports only
# sslsocket_*. The resolver is the one exception: get_server_certificate
# resolves its host, and the preload's resolver hooks only record names.
. "$(dirname "$0")/lib.sh"

sed -n '/global:/,/local:/p' "$ROOT/preload/libtlsshim.map" | tr ';' '\n' |
	sed 's/global://; s/local:.*//; s/^[[:space:]]*//; s/[[:space:]]*$//' | grep . |
	grep -vxE 'getaddrinfo|gethostbyname|gethostbyname2|gethostbyname_r|gethostbyname2_r' \
	>"$T/hooked"
[ "$(wc -l <"$T/hooked")" -gt 40 ] || fail "could not read the hooked names from libtlsshim.map"
grep -qx fcntl "$T/hooked" || fail "fcntl is not among the hooked names"
objs=$(ls "$BUILD"/obj/core/*.o 2>/dev/null) || fail "no core objects in $BUILD/obj/core"
for o in $objs; do
	[ "$(basename "$o")" = iotable.o ] && continue
	bad=$(nm -u "$o" | awk '{print $2}' | sed 's/@.*//' | grep -xF -f "$T/hooked" | tr '\n' ' ')
	[ -z "$bad" ] || fail "$(basename "$o") calls $bad by name: use struct sslsocket_io"
done
# iotable.o is where libc's functions enter the table.
nm -u "$BUILD/obj/core/iotable.o" | grep -qw recv || fail "iotable.o should hold libc's recv"

extra=$(nm -D --defined-only "$BUILD/libsslsocket.so" | awk '{print $3}' | grep -v '^sslsocket_' | tr '\n' ' ')
[ -z "$extra" ] || fail "libsslsocket.so exports non-sslsocket_ symbols: $extra"
# Every function the header declares is exported, and nothing else.
tr '\n' ' ' <"$ROOT/core/sslsocket.h" | grep -oE 'sslsocket_[A-Za-z0-9_]+\(' | tr -d '(' | sort -u >"$T/declared"
nm -D --defined-only "$BUILD/libsslsocket.so" | awk '$2 == "T" {print $3}' | sort -u >"$T/exported"
missing=$(comm -23 "$T/declared" "$T/exported" | tr '\n' ' ')
[ -z "$missing" ] || fail "declared but not exported: $missing"
n=$(wc -l <"$T/exported")
echo "core seam ok: $n exports"
