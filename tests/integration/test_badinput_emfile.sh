#!/bin/sh
# Bad input and faults (README): descriptors running out during accept.
# evprog_fdserver, a plain blocking server under an accept rule with
# RLIMIT_NOFILE = 24 (set before exec, so the interposer's start-up runs
# under it too), holds every connection it accepts; 40 Python TLS clients
# connect at once. The program must be told exactly what the kernel tells
# a plain server (accept: -1 EMFILE, once the table is full), the clients
# still queued must stay queued (none refused or reset by the
# interposer), and when the program frees its descriptors it serves them
# all: 40 of 40 echoes, each through TLS (the clients are TLS clients: a
# plaintext byte would fail their handshake or their read). The program's
# open descriptors are the same at the end as after listen. Run under
# LD_PRELOAD (eager and lazy handshake) and under the launcher, whose
# status file is part of the start-up; and once with the limit lowered by
# the program after listen so that its very first accept (and the
# interposer's first handshake) takes the last descriptor number left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_launcher
ev_need_progs evprog_fdserver

N=40
cat >"$T/clients.py" <<'PY'
import socket, ssl, sys, threading
port, n, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
ok, errs, lock = [0], [], threading.Lock()
def one(i):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"hello %d\n" % i)
                got = s.makefile("rb").readline()
                if got != b"echo: hello %d\n" % i:
                    raise AssertionError("answer %r" % got)
        with lock:
            ok[0] += 1
    except Exception as e:
        with lock:
            errs.append("client %d: %s %s" % (i, type(e).__name__, e))
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts:
    t.start()
for t in ts:
    t.join()
for e in errs:
    print(e)
print("clients ok %d of %d" % (ok[0], n))
sys.exit(0 if ok[0] == n else 1)
PY

run() { # what launcher|preload|edge [KEYS]
	P=$(free_port)
	if [ "$2" = launcher ]; then
		ev_accept_cfg $P "${3:-}" >"$T/rules.conf"
		(ulimit -n 24 && exec timeout 60 "$TLSSHIM" -c "$T/rules.conf" -- "$PROGS/evprog_fdserver" $P $N) \
			>"$T/srv.out" 2>"$T/srv.log" &
	elif [ "$2" = edge ]; then # the program lowers its own limit after listen
		LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg $P "${3:-}")" \
			timeout 60 "$PROGS/evprog_fdserver" $P $N edge >"$T/srv.out" 2>"$T/srv.log" &
	else
		(ulimit -n 24 && LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg $P "${3:-}")" \
			exec timeout 60 "$PROGS/evprog_fdserver" $P $N) >"$T/srv.out" 2>"$T/srv.log" &
	fi
	SRV=$!
	_pids="$_pids $SRV"
	ev_wait_file "$T/srv.out" "^listening"
	timeout 40 python3 "$T/clients.py" $P $N "$CERTS/ca.pem" >"$T/cl.out" 2>&1
	rc=$?
	tail -3 "$T/cl.out"
	[ $rc -eq 0 ] || { cat "$T/srv.out" "$T/srv.log" >&2; fail "$1: not every client was served"; }
	wait $SRV || { cat "$T/srv.out" "$T/srv.log" >&2; fail "$1: evprog_fdserver failed"; }
	cat "$T/srv.out"
	grep -q "^accept failed: EMFILE holding [0-9]*$" "$T/srv.out" || fail "$1: the program was never told EMFILE"
	assert_eq "served $N" "$(grep '^served' "$T/srv.out")" "$1: served"
	set -- "$1" $(sed -n 's/^fds //p' "$T/srv.out")
	[ -n "${3:-}" ] && [ "$2" = "$3" ] || fail "$1: descriptors after listen and at the end: ${2:-?} ${3:-?}"
	assert_not_contains "$T/srv.log" "failed" "$1: a connection failed"
	echo "$1: EMFILE holding $(sed -n 's/^accept failed: EMFILE holding //p' "$T/srv.out"), $N of $N served, descriptors $2 then $3"
}
run "LD_PRELOAD, eager handshake" preload
run "LD_PRELOAD, lazy handshake" preload "do_handshake_on_connect = false;"
run "launcher" launcher
# At the edge: the first accept of all (the first handshake) takes the
# last descriptor number the limit leaves.
N=5
run "one number left at the first accept" edge
grep -q "^accept failed: EMFILE holding 1$" "$T/srv.out" || fail "at the edge: not one connection held before EMFILE"
exit 0
