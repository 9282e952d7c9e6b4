#!/bin/sh
# Runs every tests/integration/test_*.sh (each bounded by `timeout`) and ends
# with "N passed, N failed". Logs go to BUILD/integration/NAME.log.
# TESTS="name ..." runs only those.
build=$(cd "${1:-build}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
logs=$build/integration
mkdir -p "$logs"
export BUILD="$build"
export TLSSHIM_TEST_CERTS="$build/test-certs"
passed=0 failed=0 failures=""
for t in "$root"/tests/integration/test_*.sh; do
	name=$(basename "$t" .sh)
	if [ -n "${TESTS:-}" ]; then
		case " $TESTS " in *" $name "*|*" ${name#test_} "*) ;; *) continue ;; esac
	fi
	start=$(date +%s.%N)
	timeout -k 5 "${TEST_TIMEOUT:-420}" sh "$t" </dev/null >"$logs/$name.log" 2>&1
	rc=$?
	secs=$(echo "$start $(date +%s.%N)" | awk '{printf "%.1f", $2 - $1}')
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1)); echo "PASS $name (${secs}s)"
	else
		failed=$((failed + 1)); failures="$failures $name"
		echo "FAIL $name (exit $rc, ${secs}s); last lines of $logs/$name.log:"
		tail -n 15 "$logs/$name.log" | sed 's/^/    /'
	fi
done
[ -n "$failures" ] && echo "failed:$failures"
echo "integration: $passed passed, $failed failed"
[ $failed -eq 0 ]
