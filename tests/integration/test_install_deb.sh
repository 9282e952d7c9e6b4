#!/bin/sh
# `make deb`: a Debian package of the whole product under /usr that lintian
# accepts (no errors), whose Depends come from what the binaries link and
# are met here (apt-get -s install ./deb: a simulation), which dpkg installs
# and removes in a throwaway root (dpkg --root, its own database), and which
# works there: its launcher finds its own library and wraps nc. The
# machine's own package database and /usr are not touched.
. "$(dirname "$0")/lib.sh"

command -v dpkg-deb >/dev/null || fail "dpkg-deb is needed (tests/deps.sh)"
command -v lintian >/dev/null || fail "lintian is needed (tests/deps.sh)"
make -C "$ROOT" --no-print-directory -j2 BUILD="$BUILD" deb >"$T/make.log" 2>&1 ||
	{ tail -20 "$T/make.log"; fail "make deb"; }
deb=$(tail -n 1 "$T/make.log")
case $deb in */tlsshim_*_*.deb) ;; *) cat "$T/make.log"; fail "make deb did not name the package" ;; esac
[ -f "$deb" ] || fail "$deb missing"

dpkg-deb -f "$deb" Package Version Architecture Depends >"$T/fields"
cat "$T/fields"
assert_contains "$T/fields" "^Package: tlsshim$" "package name"
assert_contains "$T/fields" "^Architecture: $(dpkg --print-architecture)$" "architecture"
assert_contains "$T/fields" "^Depends: .*libssl3" "Depends on OpenSSL's library"
# libconfig is linked in (library and launcher): no shared libconfig to
# depend on, and none asked for
if grep -q '^Depends: .*libconfig' "$T/fields"; then fail "Depends on libconfig, which nothing loads"; fi
assert_contains "$T/fields" "^Depends: .*libc6" "Depends on libc"
dpkg-deb -c "$deb" | awk '{print $6}' >"$T/files"
for f in ./usr/bin/tlsshim ./usr/lib/libtlsshim.so ./usr/lib/libsslsocket.so ./usr/lib/libsslsocket.a \
	./usr/include/sslsocket.h ./usr/lib/pkgconfig/sslsocket.pc ./usr/share/man/man1/tlsshim.1.gz \
	./usr/share/man/man5/tlsshim.conf.5.gz ./usr/share/doc/tlsshim/copyright \
	./usr/share/doc/tlsshim/changelog.gz; do
	grep -qx "$f" "$T/files" || fail "not in the package: $f"
done

# A clang ASan tree's binaries find clang's runtime through a RUNPATH
# (Makefile): expected of that build, never of a real one.
case "${SAN_RUNTIME:-}" in
*libclang_rt*) tags="--suppress-tags custom-library-search-path" ;;
*) tags= ;;
esac
lintian --fail-on error $tags "$deb" >"$T/lintian" 2>&1
rc=$?
cat "$T/lintian"
[ "$rc" -eq 0 ] || fail "lintian reports errors (exit $rc)"
assert_not_contains "$T/lintian" "^E:" "lintian errors"

# apt would install it here: every Depends is satisfied.
timeout 120 apt-get -s install "$deb" >"$T/apt" 2>&1 || { cat "$T/apt"; fail "apt-get -s install"; }
assert_contains "$T/apt" "^Inst tlsshim " "apt-get would install the package"
assert_contains "$T/apt" "^0 upgraded, 1 newly installed, 0 to remove" "nothing else needed"

# Installed by dpkg into a throwaway root with its own database (the
# libraries it depends on are the machine's, outside that database).
root=$T/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: >"$root/var/lib/dpkg/status"
dpkg --root="$root" --force-depends --force-script-chrootless -i "$deb" >"$T/dpkg" 2>&1 ||
	{ cat "$T/dpkg"; fail "dpkg --root -i"; }
dpkg --root="$root" -s tlsshim | grep -q "^Status: install ok installed$" || fail "dpkg status"
grep -q '^prefix=/usr$' "$root/usr/lib/pkgconfig/sslsocket.pc" || fail "sslsocket.pc prefix"
man -l "$root/usr/share/man/man1/tlsshim.1.gz" >/dev/null 2>&1 || fail "man page"
"$root/usr/bin/tlsshim" --version | grep -q "^tlsshim " || fail "--version"
# Away from its tree, the packaged launcher's last place to look is /usr/lib
# (the library directory it was linked for), not the build's prefix.
mkdir -p "$T/alone/bin" && cp "$root/usr/bin/tlsshim" "$T/alone/bin/"
"$T/alone/bin/tlsshim" --check --connect 127.0.0.1:1 --cert-reqs none >"$T/alone.out" 2>&1
# (--check needs OpenSSL: a static launcher looks for the full one first)
if ! readelf -l "$root/usr/bin/tlsshim" | grep -q INTERP && [ ! -e /usr/lib/tlsshim/tlsshim-full ]; then
	assert_contains "$T/alone.out" "cannot find tlsshim-full: .* and in /usr/lib$" \
		"the packaged static launcher, alone"
elif [ -e /usr/lib/libtlsshim.so ]; then
	assert_contains "$T/alone.out" "^library: */usr/lib/libtlsshim.so$" "the packaged launcher, alone"
else
	assert_contains "$T/alone.out" "cannot find libtlsshim.so: .* and in /usr/lib$" \
		"the packaged launcher, alone"
fi
P=$(free_port)
start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$CERTS/server.pem" -key "$CERTS/server.key" \
	-naccept 1 >"$T/server.out" 2>&1
wait_port $P
out=$(echo ping | (cd / && timeout 10 "$root/usr/bin/tlsshim" --connect 127.0.0.1:$P \
	--ca-certs "$CERTS/ca.pem" -v -- env) 2>/dev/null | grep '^LD_PRELOAD=')
assert_eq "LD_PRELOAD=$(preload_of "$root/usr/lib/libtlsshim.so")" "$out" "the packaged launcher preloads the packaged library"
reply=$(echo ping | (cd / && timeout 10 "$root/usr/bin/tlsshim" --connect 127.0.0.1:$P \
	--ca-certs "$CERTS/ca.pem" -v -- nc -N 127.0.0.1 $P) 2>"$T/log")
cat "$T/log"
assert_eq "gnip" "$reply" "nc through the packaged tlsshim"
assert_contains "$T/log" "verify=ok" "verified"
stop_bg $BG_PID
dpkg --root="$root" --force-script-chrootless -r tlsshim >"$T/dpkg-r" 2>&1 || { cat "$T/dpkg-r"; fail "dpkg -r"; }
[ ! -e "$root/usr/bin/tlsshim" ] && [ ! -e "$root/usr/lib/libtlsshim.so" ] || fail "removal left files"
exit 0
