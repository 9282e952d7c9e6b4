#!/bin/sh
# close_range over a wrapped descriptor: tlsshim's teardown closes that
# number itself (after close_notify), so the kernel's close_range must not
# be asked to close it again - another thread may have been given the
# number in between and would lose its descriptor. A recording
# close_range preloaded after libtlsshim.so sees exactly what tlsshim asks
# libc for; the rest of the range is still closed.
. "$(dirname "$0")/lib.sh"

cat >"$T/recorder.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int close_range(unsigned lo, unsigned hi, int flags)
{
	int (*real)(unsigned, unsigned, int) = (int (*)(unsigned, unsigned, int))dlsym(RTLD_NEXT, "close_range");
	const char *path = getenv("RANGES_FILE");
	if (path) {
		int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dprintf(fd, "%u %u\n", lo, hi);
			close(fd);
		}
	}
	return real(lo, hi, flags);
}
C
${CC:-cc} -shared -fPIC -o "$T/recorder.so" "$T/recorder.c" -ldl || fail "cannot build the recorder"

port=$(free_port)
start_bg 20 openssl s_server -accept "$port" -naccept 1 -quiet \
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
while read -r lo hi; do
	if [ "$lo" -le "$fd" ] && [ "$fd" -le "$hi" ]; then
		fail "libc's close_range was asked for $lo..$hi, which holds the wrapped descriptor $fd"
	fi
done <"$T/ranges"
echo "close_range skips the wrapped number ok: $(tr '\n' ' ' <"$T/ranges")"
