#!/bin/sh
# Replays the seed corpus of every fuzz target (tests/fuzz/corpus/TARGET/,
# which keeps every input that once crashed a target) through the target
# built without libFuzzer (tests/fuzz/replay.c, `make progs`): a broken
# invariant aborts. The regression test for what `make fuzz` found, without
# clang.
. "$(dirname "$0")/lib.sh"

n=0
for src in "$ROOT"/tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	bin=$BUILD/fuzz-replay/$t
	[ -x "$bin" ] || fail "$bin not built (make progs)"
	[ -d "$ROOT/tests/fuzz/corpus/$t" ] || fail "no seed corpus for $t"
	out=$("$bin" "$ROOT/tests/fuzz/corpus/$t" 2>&1) || { echo "$out"; fail "$t: an input of its corpus fails"; }
	echo "$out"
	case $out in *": 0 inputs replayed"*) fail "$t: empty corpus" ;; esac
	n=$((n + 1))
done
[ "$n" -ge 7 ] || fail "only $n fuzz targets"
exit 0
