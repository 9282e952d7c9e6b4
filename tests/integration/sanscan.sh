#!/bin/sh
# sanscan.sh FILE...: reads sanitizer logs (ASan, LeakSanitizer, UBSan,
# TSan; each program's log_path files), prints every report that is
# tlsshim's and ends with "sanitizer: N report(s) in tlsshim code, M
# elsewhere"; exits 1 when N > 0.
#
# Whose a report is: tlsshim's code is libtlsshim.so, libsslsocket.so and
# the sources under preload/ core/ config/ tests/ of this tree (our
# launcher and test programs are built with the sanitizer too; the
# third-party programs the tests wrap are not).
# - UBSan: always (only our code is compiled with it).
# - ASan errors and leaks: when any frame of the report is ours (a leak
#   whose allocation went through our code is ours to free; a program's
#   own leaks, which tlsshim never touches, are not).
# - TSan: when the innermost frame outside the sanitizer's runtime, of an
#   access in the report (not where the memory, mutex or thread was made),
#   is ours. Reports inside OpenSSL (not instrumented: its atomics look
#   like races) or inside the wrapped program are counted as elsewhere.
root=$(cd "$(dirname "$0")/../.." && pwd)
# Only the files there are (an unmatched glob names none: no reports).
for f in "$@"; do
	shift
	[ -f "$f" ] && set -- "$@" "$f"
done
[ $# -gt 0 ] || { echo "sanitizer: 0 report(s) in tlsshim code, 0 elsewhere"; exit 0; }
awk -v root="$root" '
function ours_frame(l) {
	if (l ~ /[(\/ ]lib(tlsshim|sslsocket)\.so\+0x/)
		return 1
	if (index(l, " " root "/") && l ~ ("[ ]" root "/(preload|core|config|tests)/"))
		return 1
	return l ~ /[ ](preload|core|config|tests)\/[A-Za-z0-9_.\/-]+\.[ch]:[0-9]/
}
function runtime_frame(l) {
	return l ~ /libsanitizer\/|\(lib(asan|tsan|ubsan|lsan)\.so|__interceptor_|__sanitizer_|__tsan_|__asan_/
}
function finish() {
	if (kind == "")
		return
	if (mine) {
		n_ours++
		printf "--- %s (%s)\n%s", kind, FILENAME_AT, text
	} else
		n_other++
	kind = ""
}
function start(k) {
	finish()
	kind = k; mine = 0; text = ""; nlines = 0; want = 0; FILENAME_AT = FILENAME
}
FNR == 1 { finish() }
/ERROR: LeakSanitizer/ { finish(); next }
/ERROR: AddressSanitizer|WARNING: AddressSanitizer/ { start("AddressSanitizer") }
/(Direct|Indirect) leak of/ { start("leak") }
/ runtime error: / { start("UBSan"); mine = 1 }
/WARNING: ThreadSanitizer:|ERROR: ThreadSanitizer|FATAL: ThreadSanitizer/ { start("ThreadSanitizer") }
/^SUMMARY: / { finish(); next }
kind != "" {
	if (nlines < 40) { text = text $0 "\n"; nlines++ }
	if ($0 ~ /^ *#[0-9]+ /) {
		if (kind != "ThreadSanitizer") {
			if (ours_frame($0)) mine = 1
		} else if (want && !runtime_frame($0)) {
			if (ours_frame($0)) mine = 1
			want = 0
		}
	} else if (kind == "ThreadSanitizer") {
		# The next stack is an access unless it says where a thing was made.
		want = ($0 !~ /Location is|allocated by|created (by|at)|Thread T[0-9]+ .*created/)
	}
}
END {
	finish()
	printf "sanitizer: %d report(s) in tlsshim code, %d elsewhere\n", n_ours, n_other
	exit n_ours > 0
}' "$@"
