#!/bin/sh
# Threads under ThreadSanitizer (issue 4, item 4: "make tsan runs these
# clean"): the interposer and the test programs are built with
# -fsanitize=thread into a private build directory; a control program with
# a deliberate race must be reported (the sanitizer works there); then
# evprog_duplex (full duplex on one connection), evprog_threads (8 threads
# x 30 connections, and a ninth opening and closing a FILE all along, so
# that libc's list of streams changes while installs walk it),
# evprog_signals' shutdown and closewhileread cases
# (another thread ends a connection a read waits on) and evprog_mtserver
# (4 threads on one epoll instance, 100 TLS clients) run under it. A report
# in tlsshim's own code or its test programs (tests/integration/sanscan.sh:
# an access whose innermost frame outside TSan is ours) fails the test;
# reports inside OpenSSL (not instrumented, so its atomics look like
# races) are counted, not failed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
sanitizer_skip "asan tsan" "builds and runs a TSan tree of its own; under make tsan the whole suite runs sanitized"

TSB=$T/build-tsan
make -s -j2 -C "$ROOT" BUILD="$TSB" OPT="-O1 -g" SAN="-fsanitize=thread" all progs > "$T/build.log" 2>&1 \
	|| { tail -n 30 "$T/build.log" >&2; fail "cannot build the interposer with -fsanitize=thread"; }
# The runtime that tree was built for (gcc's libtsan, clang's
# libclang_rt.tsan), as the Makefile found it.
LIBTSAN=$(sed -n 's/^SAN_RUNTIME=//p' "$TSB/sanitizer.env")
[ -f "$LIBTSAN" ] || fail "no TSan runtime for ${CC:-cc} (sanitizer.env: '$LIBTSAN')"

# tsan_env NAME CFG: the environment (as env(1) arguments) that runs a
# program with the TSan interposer; reports go to $T/tsan-NAME.PID.
# libtlsshim.so comes BEFORE libtsan: TSan's interceptors of blocking calls
# (read, epoll_wait, poll...) ignore every interceptor called inside them,
# so a hook running under them would have its mutexes ignored and every
# access it guards reported as a race. In this order the program calls the
# hook, whose real calls go through TSan's interceptors (which also model
# epoll and descriptor hand-offs), and the hook's locks are seen.
tsan_env() {
	echo "LD_PRELOAD=$TSB/libtlsshim.so $LIBTSAN"
	echo "TSAN_OPTIONS=halt_on_error=0 report_signal_unsafe=0 exitcode=0 log_path=$T/tsan-$1"
	echo "TLSSHIM_CONFIG_STRING=$2"
}

P=$(free_port)
start_bg 400 "$EVPY" "$EV" echo-server --port "$P" --timeout 60 > "$T/echo.log" 2>&1
PD=$(free_port)
start_bg 400 "$EVPY" "$EV" send-server --port "$PD" --delay 1 --msg answer --no-tickets > "$T/send.log" 2>&1
wait_port "$P"
wait_port "$PD"
P2=$(free_port)
# One line each: the environment is passed one variable per line.
CFG=$(ev_connect_cfg "$P" | tr '\n' ' ')
DCFG=$(ev_connect_cfg "$PD" | tr '\n' ' ')
ACFG=$(ev_accept_cfg "$P2" | tr '\n' ' ')
IFS='
'
set -f
timeout 60 env $(tsan_env control "$CFG") "$TSB/progs/evprog_racectl" > /dev/null \
	|| fail "evprog_racectl under TSan failed"
timeout 120 env $(tsan_env duplex "$CFG") "$TSB/progs/evprog_duplex" 127.0.0.1 "$P" 4000000 \
	|| fail "evprog_duplex under TSan failed"
timeout 120 env $(tsan_env threads "$CFG") "$TSB/progs/evprog_threads" 127.0.0.1 "$P" 8 30 fopen \
	|| fail "evprog_threads under TSan failed"
# Another thread's shutdown wakes a blocked read; another thread's close
# while a read waits (the connection's teardown against a call in flight).
for c in shutdown closewhileread; do
	timeout 60 env $(tsan_env "$c" "$DCFG") "$TSB/progs/evprog_signals" 127.0.0.1 "$PD" "$c" \
		|| fail "evprog_signals $c under TSan failed"
done
start_bg 120 env $(tsan_env mtserver "$ACFG") "$TSB/progs/evprog_mtserver" "$P2" 4 \
	> "$T/mtserver.log" 2>&1
unset IFS
set +f
MT=$BG_PID
wait_port "$P2" 30
timeout 100 "$EVPY" "$EV" tls-clients --port "$P2" --count 100 --parallel 8 --size 20000 --timeout 20 \
	|| fail "TLS clients of evprog_mtserver under TSan failed"
stop_bg "$MT"

# The control: a deliberate race must be reported in this environment.
grep -q 'WARNING: ThreadSanitizer: data race' "$T"/tsan-control.* 2>/dev/null \
	|| fail "ThreadSanitizer did not report the control race: the sanitizer is not active"
rm -f "$T"/tsan-control.*

# Whose each report is: tests/integration/sanscan.sh, as in make tsan.
sh "$ROOT/tests/integration/sanscan.sh" "$T"/tsan-* > "$T/scan" 2>&1
rc=$?
cat "$T/scan"
[ "$rc" -eq 0 ] || fail "ThreadSanitizer found data race(s) in tlsshim's own code"
exit 0
