#!/bin/sh
# make install: every file in its place (CONTRACT.md), a C program builds
# against the installed library with pkg-config and runs, and the installed
# launcher finds the installed interposer and wraps a connection.
. "$(dirname "$0")/lib.sh"

prefix=$T/prefix
make -C "$ROOT" --no-print-directory -j2 BUILD="$T/build" PREFIX="$prefix" install \
	>"$T/make.log" 2>&1 || { tail -20 "$T/make.log"; fail "make install"; }

for f in lib/libtlsshim.so lib/libsslsocket.so lib/libsslsocket.a include/sslsocket.h \
	lib/pkgconfig/sslsocket.pc bin/tlsshim lib/tlsshim/tlsshim-full share/man/man1/tlsshim.1 \
	share/man/man5/tlsshim.conf.5; do
	[ -f "$prefix/$f" ] || fail "not installed: $f"
done

cat >"$T/app.c" <<'C'
#include <stdio.h>
#include <sslsocket.h>
int main(void)
{
	time_t t;
	struct sslsocket_error e;
	if (sslsocket_cert_time_to_seconds("May  9 00:00:00 2007 GMT", &t, &e) < 0)
		return 1;
	printf("%lld %s\n", (long long)t, sslsocket_protocol_name(SSLSOCKET_PROTOCOL_TLSv1_3));
	return 0;
}
C
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc "$T/app.c" $(pkg-config --cflags --libs sslsocket) -o "$T/app" || fail "build against the installed library"
assert_eq "1178668800 PROTOCOL_TLSv1_3" "$(LD_LIBRARY_PATH="$prefix/lib" "$T/app")" "installed library"

# The installed launcher, away from the build tree, preloads the installed library.
P=$(free_port)
start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$CERTS/server.pem" -key "$CERTS/server.key" \
	-naccept 1 >"$T/server.out" 2>&1
wait_port $P
out=$(echo ping | (cd / && timeout 10 "$prefix/bin/tlsshim" --connect 127.0.0.1:$P --ca-certs "$CERTS/ca.pem" \
	-v -- env) 2>"$T/log" | grep '^LD_PRELOAD=')
assert_eq "LD_PRELOAD=$(preload_of "$prefix/lib/libtlsshim.so")" "$out" "launcher preloads the installed library"
reply=$(echo ping | (cd / && timeout 10 "$prefix/bin/tlsshim" --connect 127.0.0.1:$P --ca-certs "$CERTS/ca.pem" \
	-v -- nc -N 127.0.0.1 $P) 2>"$T/log")
assert_eq "gnip" "$reply" "installed launcher wraps nc"
assert_contains "$T/log" "verify=ok" "verified"
man -l "$prefix/share/man/man5/tlsshim.conf.5" >/dev/null 2>&1 || fail "man page"
stop_bg $BG_PID

# `make && make install PREFIX=/opt/x`: the prefix is chosen at install, not
# at build. The build's own prefix is gone, so the launcher can only find
# its library relative to itself (../lib), and sslsocket.pc names the new one.
rm -rf "$prefix"
optx=$T/opt/x
make -C "$ROOT" --no-print-directory BUILD="$T/build" PREFIX="$optx" install \
	>"$T/make2.log" 2>&1 || { tail -20 "$T/make2.log"; fail "make install PREFIX=$optx"; }
grep -q "^prefix=$optx\$" "$optx/lib/pkgconfig/sslsocket.pc" || fail "sslsocket.pc keeps the build's prefix"
P=$(free_port)
start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$CERTS/server.pem" -key "$CERTS/server.key" \
	-naccept 1 >"$T/server2.out" 2>&1
wait_port $P
reply=$(echo ping | (cd / && timeout 10 "$optx/bin/tlsshim" --connect 127.0.0.1:$P --ca-certs "$CERTS/ca.pem" \
	-v -- nc -N 127.0.0.1 $P) 2>"$T/log2")
cat "$T/log2"
assert_eq "gnip" "$reply" "the launcher installed at another prefix wraps nc"
assert_not_contains "$T/log2" "cannot find" "library found"
"$optx/bin/tlsshim" --check --connect 127.0.0.1:1 --cert-reqs none >"$T/check" 2>&1 || fail "--check"
assert_contains "$T/check" "^library: *$optx/lib/libtlsshim.so\$" "the library under the install prefix"
# What needs OpenSSL (a pinned version), through the full launcher a static
# one hands it to: found under the install prefix too, with the rules the
# command line gave and the environment as it was (no "already set").
P=$(free_port)
start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$CERTS/server.pem" -key "$CERTS/server.key" \
	-naccept 1 >"$T/server3.out" 2>&1
wait_port $P
reply=$(echo ping | (cd / && timeout 10 "$optx/bin/tlsshim" --connect 127.0.0.1:$P --ca-certs "$CERTS/ca.pem" \
	--ssl-version TLSv1_2 -- nc -N 127.0.0.1 $P) 2>"$T/log3")
assert_eq "gnip" "$reply" "a pinned version at another prefix: $(cat "$T/log3")"
# Through a symlink elsewhere (/usr/local/bin/tlsshim -> /opt/x/bin/tlsshim).
mkdir "$T/links" && ln -s "$optx/bin/tlsshim" "$T/links/tlsshim"
"$T/links/tlsshim" --check --connect 127.0.0.1:1 --cert-reqs none >"$T/check2" 2>&1 || fail "--check via a symlink"
assert_contains "$T/check2" "^library: *$optx/lib/libtlsshim.so\$" "found through the symlink"
echo ok
