#!/bin/sh
# free_port (lib.sh) reserves the port it gives for the test that asked
# until that test exits, so that two suites on one machine (make check
# beside make asan) never both take one: a port a live test holds is not
# given to another test; one whose holder is gone (killed with -9) is
# taken over; a test's reservations go when it exits.
. "$(dirname "$0")/lib.sh"

# another test, asking for a port in LO..HI
other_test() {
	TLSSHIM_TEST_PORT_RANGE="$1 $2" sh -c '. "$1/lib.sh"; free_port' "$0" "$(dirname "$0")"
}

P=$(free_port)
[ -n "$P" ] || fail "free_port gave nothing"
[ "$(cat "$PORTS/$P/pid" 2>/dev/null)" = "$$" ] || fail "port $P is not reserved for this test"

# held by this test, alive: another test gets nothing there
got=$(other_test "$P" "$P")
[ -z "$got" ] || fail "another test was given port $P, which this test holds"
[ "$(cat "$PORTS/$P/pid")" = "$$" ] || fail "the reservation of port $P changed hands"

# its holder gone: taken over; the taker's exit frees it
sh -c 'exit 0' &
dead=$!
wait "$dead"
kill -0 "$dead" 2>/dev/null && fail "PID $dead still runs"
echo "$dead" > "$PORTS/$P/pid"
got=$(other_test "$P" "$P")
[ "$got" = "$P" ] || fail "a reservation whose holder is gone was not taken over (got '$got')"
[ -e "$PORTS/$P" ] && fail "the other test's reservation of port $P outlived it"

echo "free_port: held by a live test, not given; holder gone, taken over; freed at exit"
exit 0
