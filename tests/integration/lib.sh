# Sourced by every tests/integration/test_*.sh. POSIX sh.
#
# Gives: $BUILD (absolute), $TLSSHIM (launcher), $PRELOAD (what LD_PRELOAD
# takes to load libtlsshim.so), $PRELOAD_SO (the file libtlsshim.so),
# $CERTS (throwaway PKI), $T (a private temp dir, removed at exit),
# start_bg/stop_bg (processes the test started, killed by PID at exit),
# free_port, wait_port, sanitizer_skip, and fail/assert helpers. A test
# passes by exiting 0.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${BUILD:-$ROOT/build}" && pwd)
TLSSHIM=$BUILD/tlsshim
PRELOAD_SO=$BUILD/libtlsshim.so
# A sanitizer build (make asan, make tsan) preloads the sanitizer's runtime
# with the library, in the launcher's order (BUILD/sanitizer.env, written
# by the Makefile; launch_preload_ours says why that order).
SANITIZER= SAN_RUNTIME= SAN_RUNTIME_FIRST=
[ -f "$BUILD/sanitizer.env" ] && . "$BUILD/sanitizer.env"
# preload_of FILE: what LD_PRELOAD takes to load the libtlsshim.so FILE.
preload_of() {
	if [ -z "$SANITIZER" ]; then
		echo "$1"
	elif [ "$SAN_RUNTIME_FIRST" = 1 ]; then
		echo "$SAN_RUNTIME:$1"
	else
		echo "$1:$SAN_RUNTIME"
	fi
}
PRELOAD=$(preload_of "$PRELOAD_SO")
PROGS=$BUILD/progs
CERTS=${TLSSHIM_TEST_CERTS:-$BUILD/test-certs}
sh "$ROOT/tests/certs/make-certs.sh" "$CERTS" || { echo "cannot make certificates" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/tlsshim-test.XXXXXX")
# Tests must not inherit a configuration from the caller.
unset TLSSHIM_CONFIG TLSSHIM_CONFIG_STRING TLSSHIM_LOG TLSSHIM_LOG_FILE SSLKEYLOGFILE LD_PRELOAD || true

_pids=""
_cleanup() {
	for p in $_pids; do kill "$p" 2>/dev/null; done
	sleep 0.05 2>/dev/null
	for p in $_pids; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
	_free_ports
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

# start_bg SECONDS cmd args...: runs cmd in the background bounded by
# `timeout SECONDS`; its PID is in $BG_PID and is killed at exit.
start_bg() {
	_secs=$1; shift
	timeout "$_secs" "$@" &
	BG_PID=$!
	_pids="$_pids $BG_PID"
}
# stop_bg PID: kills one process this test started and reaps it.
stop_bg() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# ten_rules FILE: the start-up bench's configuration (bench/run.sh): five
# connect rules naming one CA file, five accept rules naming one
# certificate and key.
ten_rules() {
	{
		echo 'version = 1;'
		echo 'connect = ('
		for i in 1 2 3 4; do echo "  { match = \"10.0.$i.0/24:443\"; ca_certs = \"$CERTS/ca.pem\"; },"; done
		echo "  { match = \"db5.example:5432\"; ca_certs = \"$CERTS/ca.pem\"; }"
		echo ');'
		echo 'accept = ('
		for i in 1 2 3 4; do
			echo "  { match = \"*:$((9440 + i))\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; },"
		done
		echo "  { match = \"127.0.0.1:9445\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; }"
		echo ');'
	} >"$1"
}

# A free TCP port below the ephemeral range (BENCH-NOTES: loops that
# connect a lot take ephemeral ports as source ports), reserved for this
# test until it exits: two suites on one machine (make check beside make
# asan) would otherwise both find a port free and both take it, and one
# test's client reach the other's server. A reservation is a directory
# $PORTS/PORT holding the owner's PID (mkdir is atomic); one whose owner
# is gone (a test killed with -9) is taken over by a rename, which only
# one taker wins. One directory per user (another user's would not be
# ours to write); where none can be made, ports are only checked free, as
# before. TLSSHIM_TEST_PORT_RANGE="LO HI" narrows the range
# (test_lib_free_port).
PORTS=${TMPDIR:-/tmp}/tlsshim-test-ports.$(id -u)
free_port() {
	python3 - "$PORTS" "$$" ${TLSSHIM_TEST_PORT_RANGE:-20000 32000} <<'PY'
import os, random, socket, sys
root, owner, lo, hi = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
try:
    os.makedirs(root, mode=0o700, exist_ok=True)
    usable = os.access(root, os.W_OK | os.X_OK)
except OSError:
    usable = False

def reserve(p):
    if not usable:
        return True
    d = os.path.join(root, str(p))
    try:
        os.mkdir(d)
    except FileExistsError:
        try:
            with open(os.path.join(d, "pid")) as f:
                os.kill(int(f.read()), 0)
            return False  # its owner runs
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            return False  # being made, or unreadable: not ours to judge
        gone = "%s.gone.%d" % (d, os.getpid())
        try:
            os.rename(d, gone)
        except OSError:
            return False  # another taker won
        for name in os.listdir(gone):
            os.unlink(os.path.join(gone, name))
        os.rmdir(gone)
        try:
            os.mkdir(d)
        except FileExistsError:
            return False
    with open(os.path.join(d, "pid"), "w") as f:
        f.write(owner)
    return True

def bindable(p):
    for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        s = socket.socket(fam, socket.SOCK_STREAM)
        try:
            s.bind((host, p))
        except OSError:
            return False
        finally:
            s.close()
    return True

for _ in range(200):
    p = random.randint(lo, hi)
    if not reserve(p):
        continue
    if bindable(p):
        print(p)
        break
    if usable:
        os.unlink(os.path.join(root, str(p), "pid"))
        os.rmdir(os.path.join(root, str(p)))
PY
}
# The reservations this test holds go at its exit.
_free_ports() {
	for _d in "$PORTS"/*; do
		[ -f "$_d/pid" ] && [ "$(cat "$_d/pid" 2>/dev/null)" = "$$" ] && rm -rf "$_d"
	done
	return 0
}

# wait_port PORT [SECONDS]: until something listens on PORT (TCP).
wait_port() {
	_n=$(( ${2:-10} * 20 ))
	while [ $_n -gt 0 ]; do
		if ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; then return 0; fi
		sleep 0.05
		_n=$((_n - 1))
	done
	fail "nothing listens on port $1"
}

# sanitizer_skip "asan tsan" REASON: in those sanitizer builds, ends the
# test as skipped (run.sh prints "SKIP name: REASON" and counts it). Only
# for what a sanitizer makes meaningless (RSS, instruction counts, a tree
# the test builds itself), never to hide a failure.
sanitizer_skip() {
	case " $1 " in *" ${SANITIZER:-none} "*) ;; *) return 0 ;; esac
	[ -n "${TLSSHIM_SKIP_FILE:-}" ] || fail "sanitizer_skip outside run.sh ($SANITIZER build): $2"
	echo "$2" > "$TLSSHIM_SKIP_FILE"
	echo "SKIP: $2"
	exit 77
}

# sanitizer_skip_wraps PROGRAMS: the test runs PROGRAMS (curl, psql,
# postgres) under tlsshim. With any sanitizer's runtime preloaded they
# hang at start, with or without tlsshim: `LD_PRELOAD=libasan.so.8 curl
# --version` never returns (main's setlocale waits for glibc's locale
# lock, which their libraries' start-up left released once too often).
sanitizer_skip_wraps() {
	sanitizer_skip "asan tsan" "runs $1 under tlsshim, which hang(s) at start with a sanitizer runtime preloaded, tlsshim or not (glibc's locale lock)"
}

fail() { echo "FAIL: $*" >&2; exit 1; }
assert_eq() { # expected actual message
	[ "$1" = "$2" ] || fail "$3: expected [$1], got [$2]"
}
assert_contains() { # haystack-file needle message
	grep -q -- "$2" "$1" || { echo "--- $1:" >&2; head -c 4000 "$1" >&2; fail "$3: [$2] not found"; }
}
assert_not_contains() { # file needle message
	if grep -q -- "$2" "$1"; then echo "--- $1:" >&2; head -c 4000 "$1" >&2; fail "$3: [$2] found"; fi
}
