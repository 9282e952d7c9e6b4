#!/bin/sh
# Close-on-exec on tlsshim's descriptors is set one way: ts_set_cloexec
# (preload/sockprops.c). Private copies of it (conn_fd.c, fdadopt.c and
# siblings.c had one each) drift apart; the behaviour itself is tested by
# test_fds_exec (dup) and check_ts_adopt (received copies, siblings).
. "$(dirname "$0")/lib.sh"

grep -nE 'F_SETFD, *([^;]*\| *)?FD_CLOEXEC' "$ROOT"/preload/*.c | grep -v '^[^:]*/sockprops\.c:' >"$T/setters"
[ ! -s "$T/setters" ] || fail "close-on-exec set outside ts_set_cloexec (sockprops.c): $(cat "$T/setters")"
grep -qE 'F_SETFD, *([^;]*\| *)?FD_CLOEXEC' "$ROOT/preload/sockprops.c" \
	|| fail "the pattern no longer finds ts_set_cloexec itself: update this test"
echo "close-on-exec: one setter"
