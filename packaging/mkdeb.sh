#!/bin/sh
# mkdeb.sh STAGE OUT VERSION: turns a `make install PREFIX=/usr
# DESTDIR=STAGE` tree into OUT/tlsshim_VERSION_ARCH.deb with dpkg-deb
# (`make deb` runs it). Binaries are stripped, manual pages and the
# changelog compressed, Depends computed by dpkg-shlibdeps from what the
# binaries link, and the ldconfig trigger set for the shared libraries in
# /usr/lib. Prints the path of the package.
set -eu
stage=$1 out=$2 version=$3
here=$(cd "$(dirname "$0")" && pwd)
arch=$(dpkg --print-architecture)
doc=$stage/usr/share/doc/tlsshim

# Debian policy: no debug symbols in the binary package (10.1), compressed
# manual pages and changelog (12.3, 12.7), permissions 0644/0755.
for f in "$stage"/usr/bin/tlsshim "$stage"/usr/lib/tlsshim/tlsshim-full "$stage"/usr/lib/*.so; do
	strip --strip-unneeded --remove-section=.comment --remove-section=.note "$f"
done
strip --strip-debug "$stage"/usr/lib/*.a
# Policy 8.1: shared libraries are not executable.
chmod 0644 "$stage"/usr/lib/*.so
find "$stage/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9nf {} +
mkdir -p "$doc"
install -m 0644 "$here/debian/copyright" "$doc/copyright"
date=$(LC_ALL=C date -R -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}")
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$date/" "$here/debian/changelog.in" |
	gzip -9n >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

# Depends: dpkg-shlibdeps reads a debian/control; give it a minimal one.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/debian"
printf 'Source: tlsshim\n\nPackage: tlsshim\nArchitecture: any\n' >"$work/debian/control"
bins=""
for f in "$stage"/usr/bin/tlsshim "$stage"/usr/lib/tlsshim/tlsshim-full "$stage"/usr/lib/*.so; do
	bins="$bins $f"
done
# libtlsshim.so and the launcher may load libsslsocket.so, which is ours.
deps=$(cd "$work" && dpkg-shlibdeps -O -l"$stage/usr/lib" $bins 2>"$work/shlibdeps.err" |
	sed -n 's/^shlibs:Depends=//p') || { cat "$work/shlibdeps.err" >&2; exit 1; }
[ -n "$deps" ] || { cat "$work/shlibdeps.err" >&2; echo "mkdeb: no Depends computed" >&2; exit 1; }

mkdir -p "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$deps/" \
	"$here/debian/control.in" >"$stage/DEBIAN/control"
# Shared libraries in /usr/lib: ldconfig runs after install and removal.
echo "activate-noawait ldconfig" >"$stage/DEBIAN/triggers"
# No DEBIAN/shlibs: libsslsocket.so has no versioned SONAME to list.
(cd "$stage" && find usr -type f ! -path 'DEBIAN/*' -exec md5sum {} + | sort -k2) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/triggers" "$stage/DEBIAN/md5sums"
find "$stage" -type d -exec chmod 0755 {} +

deb=$out/tlsshim_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
