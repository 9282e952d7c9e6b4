#!/bin/sh
# Each source is compiled once for the build (`make all`, the unit runner,
# the test programs, the package of `make deb`): the launcher links the
# very objects the libraries are made of, the package's launcher is those
# objects relinked (with the one-line source of its library directory), and
# no object is built with a header forced in (-include) that renames calls.
# The commands are make's own (a dry run into an empty build directory),
# so a rule added later is checked too.
. "$(dirname "$0")/lib.sh"

TLSSHIM_DEPS_CHECKED=1 make -C "$ROOT" -n V=1 BUILD="$T/b" all progs "$T/b/check_unit" deb \
	>"$T/cmds" 2>"$T/err" || fail "make -n: $(tail -3 "$T/err")"
# the sources of every compile command ("-c FILE.c")
tr ' \t' '\n\n' <"$T/cmds" | awk 'prev == "-c" && /\.c$/ { print } { prev = $0 }' >"$T/srcs"
n=$(wc -l <"$T/srcs")
[ "$n" -gt 100 ] || fail "only $n compile commands found in make -n's output"
grep -q '^core/sslconfig.c$' "$T/srcs" || fail "core/sslconfig.c is not compiled"
grep -q '^preload/launcher/launcher.c$' "$T/srcs" || fail "the launcher's main is not compiled"
dups=$(sort "$T/srcs" | uniq -d)
[ -z "$dups" ] || fail "compiled more than once: $(echo $dups)"
if grep -Eq '(^|[[:space:]])-include([[:space:]]|$)' "$T/cmds"; then
	fail "a header is forced in: $(grep -E -- '-include' "$T/cmds" | head -1)"
fi

# The package's launcher: the build's launcher objects, but for the source
# that says where the libraries are. (A sub-make, as `make deb` once ran for
# `make install`, would show every compile again here.)
grep -q "mkdeb.sh" "$T/cmds" || fail "make -n deb does not build the package"
objs_of() { # the objects of the command that writes $1 (continued lines joined)
	sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$T/cmds" | grep -F -- "-o $1 " |
		tr ' \t' '\n\n' | grep '\.o$' | sort
}
objs_of "$T/b/tlsshim" >"$T/launcher.objs"
objs_of "$T/b/deb/tlsshim" >"$T/deb.objs"
[ -s "$T/launcher.objs" ] && [ -s "$T/deb.objs" ] || fail "the launchers' link commands not found"
grep -qx "$T/b/gen/libdir.o" "$T/launcher.objs" || fail "build/tlsshim without gen/libdir.o"
grep -qx "$T/b/gen/deb/libdir.o" "$T/deb.objs" || fail "deb/tlsshim without gen/deb/libdir.o"
grep -v '/gen/libdir.o$' "$T/launcher.objs" >"$T/launcher.rest"
grep -v '/gen/deb/libdir.o$' "$T/deb.objs" >"$T/deb.rest"
cmp -s "$T/launcher.rest" "$T/deb.rest" || { diff "$T/launcher.rest" "$T/deb.rest"; fail "the package's launcher is not the build's objects"; }
grep -qx "$T/b/gen/deb/libdir.c" "$T/srcs" || fail "the package's library directory is not compiled"
echo "each source compiled once, $n of them; the package relinks $(wc -l <"$T/deb.objs") objects"
