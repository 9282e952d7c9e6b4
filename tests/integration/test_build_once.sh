#!/bin/sh
# Each source is compiled once for the build (`make all`, the unit runner,
# the test programs): the launcher links the very objects the libraries
# are made of, and no object is built with a header forced in (-include)
# that renames calls. The commands are make's own (a dry run into an
# empty build directory), so a rule added later is checked too.
. "$(dirname "$0")/lib.sh"

TLSSHIM_DEPS_CHECKED=1 make -C "$ROOT" -n V=1 BUILD="$T/b" all progs "$T/b/check_unit" \
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
echo "each source compiled once, $n of them"
