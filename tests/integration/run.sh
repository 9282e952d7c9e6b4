#!/bin/sh
# Runs every tests/integration/test_*.sh (each bounded by `timeout`) and ends
# with "N passed, N failed" (and ", N skipped" in a sanitizer build). Logs
# go to BUILD/integration/NAME.log. TESTS="name ..." runs only those.
#
# In a sanitizer build (make asan, make tsan: BUILD/sanitizer.env) every
# program a test runs with libtlsshim.so, and our launcher and test
# programs, write their sanitizer reports to BUILD/integration/NAME.san/;
# a test whose reports include one in tlsshim's code fails (sanscan.sh),
# whatever it printed. A test the sanitizer makes meaningless ends with
# sanitizer_skip (lib.sh) and is listed as SKIP with its reason.
build=$(cd "${1:-build}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
logs=$build/integration
mkdir -p "$logs"
export BUILD="$build"
export TLSSHIM_TEST_CERTS="$build/test-certs"
SANITIZER=
[ -f "$build/sanitizer.env" ] && . "$build/sanitizer.env"
supp=$root/tests/sanitizers
passed=0 failed=0 skipped=0 failures="" skips=""
for t in "$root"/tests/integration/test_*.sh; do
	name=$(basename "$t" .sh)
	if [ -n "${TESTS:-}" ]; then
		case " $TESTS " in *" $name "*|*" ${name#test_} "*) ;; *) continue ;; esac
	fi
	san=$logs/$name.san
	rm -rf "$san"
	export TLSSHIM_SKIP_FILE="$logs/$name.skip"
	rm -f "$TLSSHIM_SKIP_FILE"
	if [ -n "$SANITIZER" ]; then
		mkdir -p "$san"
		# ASan errors abort the program (the test sees it die);
		# leaks, races and UBSan's reports (only our code has it) do
		# not change its exit status (the wrapped programs' own leaks
		# and races are not ours): sanscan.sh judges them after the
		# test.
		# verify_asan_link_order=0: a test may preload another
		# library before ours (the launcher keeps it, after ours)
		# and run our ASan-built launcher or programs under it.
		export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:exitcode=0:verify_asan_link_order=0:log_path=$san/asan"
		export LSAN_OPTIONS="suppressions=$supp/lsan.supp"
		export UBSAN_OPTIONS="print_stacktrace=1:log_path=$san/ubsan"
		export TSAN_OPTIONS="halt_on_error=0:exitcode=0:report_signal_unsafe=0:log_path=$san/tsan:suppressions=$supp/tsan.supp"
	fi
	start=$(date +%s.%N)
	timeout -k 5 "${TEST_TIMEOUT:-420}" sh "$t" </dev/null >"$logs/$name.log" 2>&1
	rc=$?
	secs=$(echo "$start $(date +%s.%N)" | awk '{printf "%.1f", $2 - $1}')
	if [ $rc -eq 77 ] && [ -n "$SANITIZER" ] && [ -s "$TLSSHIM_SKIP_FILE" ]; then
		skipped=$((skipped + 1)); skips="$skips $name"
		echo "SKIP $name: $(cat "$TLSSHIM_SKIP_FILE")"
		continue
	fi
	if [ -n "$SANITIZER" ] && ! sh "$root/tests/integration/sanscan.sh" $(find "$san" -type f) \
			>>"$logs/$name.log" 2>&1 && [ $rc -eq 0 ]; then
		rc="sanitizer"
	fi
	if [ "$rc" = 0 ]; then
		passed=$((passed + 1)); echo "PASS $name (${secs}s)"
	else
		failed=$((failed + 1)); failures="$failures $name"
		echo "FAIL $name (exit $rc, ${secs}s); last lines of $logs/$name.log:"
		tail -n 15 "$logs/$name.log" | sed 's/^/    /'
	fi
done
[ -n "$failures" ] && echo "failed:$failures"
if [ -n "$SANITIZER" ]; then
	[ -n "$skips" ] && echo "skipped ($SANITIZER):$skips"
	echo "integration ($SANITIZER): $passed passed, $failed failed, $skipped skipped"
else
	echo "integration: $passed passed, $failed failed"
fi
[ $failed -eq 0 ]
