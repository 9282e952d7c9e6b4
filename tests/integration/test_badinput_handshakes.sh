#!/bin/sh
# Bad input and faults (README): 1,000 concurrent handshakes against one
# wrapped server. evprog_epollserver (one thread, level-triggered epoll,
# non-blocking accept) under an accept rule, RLIMIT_NOFILE 4096; a Python
# asyncio client opens 1,000 TLS connections at once, each sends a line
# and waits for its echo, and keeps its connection open until all 1,000
# were answered; then all close. Every handshake must succeed (a failure
# is printed with its error and counted, and fails the test), within 60 s;
# while all are open the server holds a descriptor for each, and after
# they close its descriptors go back to what it had before the first.
# The clients are TLS clients: a plaintext byte would fail them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_epollserver

N=1000
cat >"$T/many.py" <<'PY'
import asyncio, os, ssl, sys, time
port, n, ca, go = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
async def main():
    answered, release = asyncio.Event(), asyncio.Event()
    count, errs = [0], []
    async def one(i):
        w = None
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(
                "127.0.0.1", port, ssl=ctx, server_hostname="localhost"), 50)
            w.write(b"hello %d\n" % i)
            got = await asyncio.wait_for(r.readline(), 50)
            if got != b"hello %d\n" % i:
                raise AssertionError("answer %r" % got)
            return True
        except Exception as e:
            errs.append("client %d: %s %s" % (i, type(e).__name__, e))
            return False
        finally:
            count[0] += 1
            if count[0] == n:
                answered.set()
            await release.wait()
            if w is not None:
                w.close()
    t0 = time.monotonic()
    tasks = [asyncio.ensure_future(one(i)) for i in range(n)]
    await answered.wait()
    dt = time.monotonic() - t0
    print("all answered after %.2f s" % dt, flush=True)
    while not os.path.exists(go):  # the test looks at the server meanwhile
        await asyncio.sleep(0.05)
    release.set()
    ok = sum(await asyncio.gather(*tasks))
    for e in errs[:20]:
        print(e)
    print("handshakes ok %d of %d in %.2f s" % (ok, n, dt), flush=True)
    return 0 if ok == n else 1
sys.exit(asyncio.run(main()))
PY

fds() { ls "/proc/$1/fd" | wc -l; }
P=$(free_port)
(ulimit -n 4096 && LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg $P)" \
	exec timeout 120 "$PROGS/evprog_epollserver" $P lt) >"$T/srv.out" 2>"$T/srv.log" &
SRV=$!
_pids="$_pids $SRV"
ev_wait_file "$T/srv.out" "^listening"
SP=$(ev_children $SRV) # the server under timeout
[ -n "$SP" ] && [ -d "/proc/$SP" ] || fail "no server process under timeout ($SRV)"
before=$(fds $SP)
(ulimit -n 4096 && exec timeout 90 "$EVPY" "$T/many.py" $P $N "$CERTS/ca.pem" "$T/go") >"$T/cl.out" 2>&1 &
CL=$!
_pids="$_pids $CL"
ev_wait_file "$T/cl.out" "^all answered" 80
peak=$(fds $SP)
cpu=$(ev_cpu_ms $SP)
touch "$T/go"
wait $CL
rc=$?
cat "$T/cl.out"
[ $rc -eq 0 ] || { tail -5 "$T/srv.log" >&2; fail "not every handshake succeeded"; }
grep -q "^handshakes ok $N of $N" "$T/cl.out" || fail "no result from the client"
secs=$(sed -n 's/^all answered after \([0-9]*\)\..*/\1/p' "$T/cl.out")
[ -n "$secs" ] && [ "$secs" -lt 60 ] || fail "the $N handshakes took ${secs:-?} s (bound: 60 s)"
[ "$peak" -ge $((before + N)) ] || fail "the server held $peak descriptors with $N connections open (before: $before)"
n=200
until [ "$(fds $SP)" = "$before" ]; do
	n=$((n - 1)); [ $n -gt 0 ] || fail "the server's descriptors: $before before, $(fds $SP) 10 s after every client closed"
	sleep 0.05
done
assert_not_contains "$T/srv.out" "stale event" "events for closed connections"
assert_not_contains "$T/srv.log" "failed" "a handshake failed at the server"
echo "server descriptors: $before before, $peak with $N open, $(fds $SP) after; server CPU for $N handshakes: $cpu ms"
exit 0
