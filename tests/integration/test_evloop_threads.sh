#!/bin/sh
# Threads on wrapped connections (issue 4, item 4), plain C programs under a
# connect rule against a threaded Python TLS echo server:
#  1. evprog_duplex: one thread blocked in read() while another writes
#     16 MiB on the same connection; every echoed byte checked.
#  2. evprog_threads: 8 threads x 100 connections each, concurrently; every
#     echo intact.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_duplex evprog_threads

P=$(free_port)
start_bg 170 "$EVPY" "$EV" echo-server --port "$P" --timeout 30 > "$T/server.log" 2>&1
wait_port "$P"
CFG=$(ev_connect_cfg "$P")

timeout 60 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$CFG" \
	"$PROGS/evprog_duplex" 127.0.0.1 "$P" 16777216 > "$T/duplex.out" 2>&1
rc=$?
cat "$T/duplex.out"
[ $rc -eq 0 ] || { [ $rc -eq 124 ] && echo "(timed out: a writer stuck behind a blocked reader?)"; \
	tail -n 5 "$T/server.log" >&2; fail "evprog_duplex exited $rc"; }
assert_contains "$T/duplex.out" "duplex ok 16777216" "full duplex on one connection"

timeout 120 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$CFG" \
	"$PROGS/evprog_threads" 127.0.0.1 "$P" 8 100 > "$T/threads.out" 2>&1
rc=$?
tail -n 20 "$T/threads.out"
[ $rc -eq 0 ] || { tail -n 5 "$T/server.log" >&2; fail "evprog_threads exited $rc"; }
assert_contains "$T/threads.out" "threads ok 800 of 800 connections" "8 threads x 100 connections"
assert_not_contains "$T/server.log" "conn-error" "TLS errors at the echo server"
exit 0
