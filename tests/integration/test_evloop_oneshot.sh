#!/bin/sh
# A delivered EPOLLONESHOT registration stays quiet until the program arms
# it again, as without tlsshim: a wrapped server (evprog_oneshot) gets its
# first event, the client sends more, and the program's next 1 s
# epoll_wait on the disarmed registration returns 0 after one kernel wait.
# (With EPOLLIN kept in the kernel for it, the registration stayed armed and
# level-triggered: that wait spun through the kernel, a full CPU for the
# second, in every thread of a thread pool while one handled the event.)
# strace counts the kernel's epoll_wait calls inside that one wait.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_oneshot
command -v strace >/dev/null || fail "strace is not installed (sh tests/deps.sh test)"

P=$(free_port)
mkdir -p "$T/d"
# The preload goes into the program, not into strace. (LeakSanitizer
# cannot run under ptrace.)
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
	start_bg 60 strace -qq -e trace=epoll_wait,epoll_pwait,write -o "$T/st" \
	env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_accept_cfg "$P")" \
	"$PROGS/evprog_oneshot" "$P" "$T/d" >"$T/srv.out" 2>"$T/srv.err"
SRV=$BG_PID
ev_wait_file "$T/srv.out" "^listening" 20
cat >"$T/cl.py" <<'PY'
import os, socket, ssl, sys, time
port, ca, d, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def wait_line(prefix):
    for _ in range(2000):
        with open(out) as f:
            if any(l.startswith(prefix) for l in f):
                return
        time.sleep(0.01)
    sys.exit("no %r line from the server" % prefix)
ctx = ssl.create_default_context(cafile=ca)
with socket.create_connection(("127.0.0.1", port), timeout=20) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"one")
        wait_line("first")
        s.sendall(b"two")
        open(os.path.join(d, "sent"), "w").close()
        wait_line("read")
print("client ok")
PY
timeout 40 "$EVPY" "$T/cl.py" "$P" "$CERTS/ca.pem" "$T/d" "$T/srv.out" >"$T/cl.out" 2>&1 ||
	fail "the client failed: $(tail -n 3 "$T/cl.out"); server: $(tail -n 3 "$T/srv.out")"
wait "$SRV" || fail "the server failed: $(tail -n 3 "$T/srv.err")"
cat "$T/srv.out"
grep -q "^first 1" "$T/srv.out" || fail "the first wait did not report the connection"
grep -q "^second 0" "$T/srv.out" || fail "the disarmed registration was reported: $(grep '^second' "$T/srv.out")"
# the second message was there during the second wait
grep -q "^read one two" "$T/srv.out" || fail "the program did not read both messages: $(grep '^read' "$T/srv.out")"
n=$(awk '/write\(1, "second wait/ { on = 1; next } /write\(1, "second / { on = 0 } on && /epoll_p?wait\(/ { n++ }
	END { print n + 0 }' "$T/st")
[ "$n" -ge 1 ] || fail "strace saw no kernel wait inside the program's second epoll_wait"
[ "$n" -le 3 ] || fail "the program's one 1 s epoll_wait made $n kernel waits (at most 3): it spun"
echo "a disarmed EPOLLONESHOT registration: one epoll_wait of 1 s made $n kernel waits"
