#!/bin/sh
# Every wrapped process, and every child of a wrapped shell, loads
# libtlsshim.so, and on a virtual machine each page it touches first costs
# about ten microseconds. The interposer's large tables (the descriptor
# table, the name table, the copy bitmaps, the log-every tables) start
# untouched, so they lie after the small variables (.lbss, compiler.h's
# TS_LARGE) instead of between them: the small ones share a few pages.
# And the large tables stay out of the file (NOBITS: an 8 MiB descriptor
# table stored as zeros would be read from disk). Start-up touches one page
# of a table at most: a table's header lies beside its first entries.
. "$(dirname "$0")/lib.sh"

case $(uname -m) in
x86_64) ;;
*) echo "SKIP: .lbss is the x86-64 linker's section (here $(uname -m))"; exit 0 ;;
esac
[ -z "${SANITIZER:-}" ] || { echo "SKIP: $SANITIZER build: its redzones lay out every variable"; exit 0; }

size=$(stat -c %s "$PRELOAD_SO")
[ "$size" -lt 4194304 ] || fail "libtlsshim.so is $size bytes: a large table is stored in the file"
readelf -S -W "$PRELOAD_SO" | grep -q ' \.lbss  *NOBITS' || fail "no .lbss NOBITS section: $(readelf -S -W "$PRELOAD_SO" | grep bss)"

# The pages that hold a variable of .data or .bss smaller than a page
# (thread-locals excluded: they live in each thread's block), and the
# large ones.
secs=$(readelf -S -W "$PRELOAD_SO" | sed -n 's/^ *\[ *\([0-9]*\)\] \.\(data\|bss\|lbss\) .*/\1/p' | tr '\n' ' ')
readelf -s -W "$PRELOAD_SO" | awk -v secs=" $secs" '
	$4 == "OBJECT" && index(secs, " " $7 " ") {
		addr = 0
		for (i = 1; i <= length($2); i++) addr = addr * 16 + index("0123456789abcdef", substr($2, i, 1)) - 1
		if ($3 + 0 >= 4096) { big[$8] = 1; next }
		page[int(addr / 4096)] = 1
	}
	END {
		n = 0
		for (p in page) n++
		print n
		for (b in big) print b > "/dev/stderr"
	}' >"$T/pages" 2>"$T/big"
n=$(cat "$T/pages")
[ "$n" -le 6 ] || fail "the small variables lie in $n pages (at most 6); large tables: $(tr '\n' ' ' <"$T/big")"
for t in ts_fdtab names copies fresh; do
	grep -qx "$t" "$T/big" || fail "no large table named $t (renamed? update this test)"
done
# What start-up touched of the zeroed data, seen from the program's main():
# with ten rules the first page of the copy marks (inherited descriptors)
# and the small variables; inert (no rules), the small variables only.
ten_rules "$T/rules.conf"
kb() {
	sed -n 's/^bss_rss_kb \([0-9]*\) kB$/\1/p' "$T/out"
}
LD_PRELOAD=$PRELOAD TLSSHIM_CONFIG=$T/rules.conf "$PROGS/startprog_pages" >"$T/out" || fail "startprog_pages: $(cat "$T/out")"
k=$(kb)
[ -n "$k" ] || fail "no resident size: $(cat "$T/out")"
[ "$k" -le 16 ] || fail "start-up with ten rules touched $k kB of the zeroed data (at most 16)"
(unset TLSSHIM_CONFIG TLSSHIM_CONFIG_STRING; LD_PRELOAD=$PRELOAD "$PROGS/startprog_pages") >"$T/out" ||
	fail "startprog_pages, inert: $(cat "$T/out")"
k0=$(kb)
[ -n "$k0" ] && [ "$k0" -le 8 ] || fail "start-up without rules touched ${k0:-?} kB of the zeroed data (at most 8)"
echo "small variables in $n pages, the large tables after them and not in the file; start-up touched $k kB of them ($k0 kB inert)"
