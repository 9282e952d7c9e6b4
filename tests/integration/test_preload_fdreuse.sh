#!/bin/sh
# Ending a wrapped descriptor never leaves a moment in which its number is
# free for another thread yet about to be closed or replaced again:
#  - close_range over it: tlsshim's teardown closes that number itself
#    (after close_notify), so libc's close_range must not be asked to
#    close it again; the rest of the range is still closed;
#  - dup2 onto it: the teardown sends close_notify and leaves the number
#    open, and dup2 replaces it atomically (no separate close).
# A recording close_range and close preloaded after libtlsshim.so see
# exactly what tlsshim asks libc for.
. "$(dirname "$0")/lib.sh"

cat >"$T/recorder.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
static void record(const char *fmt, unsigned a, unsigned b)
{
	const char *path = getenv("RANGES_FILE");
	int fd = path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
	if (fd >= 0) {
		dprintf(fd, fmt, a, b);
		close(fd);
	}
}
int close(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "close");
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
		record("close %u %u\n", (unsigned)fd, (unsigned)fd);
	return real(fd);
}
int close_range(unsigned lo, unsigned hi, int flags)
{
	int (*real)(unsigned, unsigned, int) = (int (*)(unsigned, unsigned, int))dlsym(RTLD_NEXT, "close_range");
	record("close_range %u %u\n", lo, hi);
	return real(lo, hi, flags);
}
C
${CC:-cc} -shared -fPIC -o "$T/recorder.so" "$T/recorder.c" -ldl || fail "cannot build the recorder"

port=$(free_port)
start_bg 20 openssl s_server -accept "$port" -naccept 2 -quiet \
	-cert "$CERTS/server.pem" -key "$CERTS/server.key"
wait_port "$port"

LD_PRELOAD="$PRELOAD $T/recorder.so" RANGES_FILE="$T/ranges" TLSSHIM_LOG=info \
	TLSSHIM_CONFIG_STRING="version = 1; connect = ( { match = \"127.0.0.1:$port\";
	  ca_certs = \"$CERTS/ca.pem\"; server_hostname = \"localhost\"; } );" \
	timeout 10 python3 -c "
import os, socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'x\n')
fd = s.detach()
extra = os.open('/dev/null', os.O_RDONLY)
assert extra > fd, (fd, extra)
os.closerange(fd, extra + 1)
try:
    os.fstat(extra)
    print('extra still open')
except OSError:
    print(fd, extra)
" "$port" >"$T/out" 2>"$T/err" || fail "client: $(cat "$T/err")"
assert_contains "$T/err" "connect 127.0.0.1:$port TLSv1" "the connection was wrapped"
read -r fd extra <"$T/out" || fail "no output"
[ "$fd" != extra ] || fail "the range's other descriptor was left open"
[ -s "$T/ranges" ] || fail "the recorder saw no close_range"
grep -q "^close_range" "$T/ranges" || fail "the recorder saw no close_range"
grep -q "^close $fd " "$T/ranges" || fail "the teardown did not close $fd itself"
while read -r what lo hi; do
	if [ "$what" = close_range ] && [ "$lo" -le "$fd" ] && [ "$fd" -le "$hi" ]; then
		fail "libc's $what was asked for $lo..$hi, which holds the wrapped descriptor $fd"
	fi
done <"$T/ranges"

# dup2 onto the wrapped descriptor: close_notify, and no close of it
rm -f "$T/ranges"
LD_PRELOAD="$PRELOAD $T/recorder.so" RANGES_FILE="$T/ranges" TLSSHIM_LOG=info \
	TLSSHIM_CONFIG_STRING="version = 1; connect = ( { match = \"127.0.0.1:$port\";
	  ca_certs = \"$CERTS/ca.pem\"; server_hostname = \"localhost\"; } );" \
	timeout 10 python3 -c "
import os, socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'x\\n')
null = os.open('/dev/null', os.O_RDONLY)
os.dup2(null, s.fileno())
print(s.fileno(), os.path.realpath('/proc/self/fd/%d' % s.fileno()))
" "$port" >"$T/out" 2>"$T/err" || fail "dup2 client: $(cat "$T/err")"
assert_contains "$T/err" "connect 127.0.0.1:$port TLSv1" "the second connection was wrapped"
read -r fd target <"$T/out" || fail "no output"
assert_eq /dev/null "$target" "what the number names after dup2"
if [ -s "$T/ranges" ] && grep -q "^close $fd " "$T/ranges"; then
	fail "the wrapped descriptor $fd was closed before dup2 replaced it"
fi
echo "fd numbers stay taken ok"
