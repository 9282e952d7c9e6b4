#!/bin/sh
# Symbol capture: a program that exports names of libconfig (lighttpd
# exports config_init and config_read, and died with SIGSEGV before main
# under any tlsshim config) must not capture the preload's calls into it.
# A program built with -rdynamic defines every function libconfig exports,
# each one aborting with "captured: NAME"; under tlsshim it starts with an
# empty configuration file, and with a working rule connects through TLS
# and closes cleanly. (OpenSSL is not in the list: a program that exports
# OpenSSL's names is node, which embeds a whole OpenSSL that tlsshim then
# uses consistently; see tlsshim(1) CAVEATS.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fds_lib.sh"

CC=${CC:-cc}
libdir=$(pkg-config --variable=libdir libconfig)
libconfig=$(ls "$libdir"/libconfig.so.* 2>/dev/null | head -1)
[ -n "$libconfig" ] || fail "libconfig.so not found in $libdir"
nm -D --defined-only "$libconfig" | awk '$2 == "T" && $3 ~ /^config_/ {print $3}' |
	sort -u >"$T/names"
n=$(wc -l <"$T/names")
[ "$n" -gt 40 ] || fail "too few names to collide with ($n)"
grep -qx config_init "$T/names" || fail "config_init missing from the list"
grep -qx config_read "$T/names" || fail "config_read missing from the list"
# the preload neither imports a libconfig name nor needs libconfig.so
if nm -D --undefined-only "$PRELOAD_SO" | grep -q ' config_'; then fail "the preload imports libconfig names"; fi
if readelf -d "$PRELOAD_SO" | grep -q 'NEEDED.*libconfig'; then fail "the preload needs libconfig.so"; fi
{
	cat <<'C'
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#define CAP(n) void n(void); void n(void) { static const char m[] = "captured: " #n "\n"; \
	if (write(2, m, sizeof m - 1) < 0) abort(); abort(); }
C
	sed 's/.*/CAP(&)/' "$T/names"
	cat <<'C'
int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (argc < 2)
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("connect");
		return 1;
	}
	if (write(fd, "ping", 4) != 4) {
		perror("write");
		return 1;
	}
	return close(fd) < 0;
}
C
} >"$T/capture.c"
$CC -rdynamic -o "$T/capture" "$T/capture.c" || fail "cannot build the test program"
nm -D --defined-only "$T/capture" | grep -qw config_init || fail "the program does not export config_init"

# an empty configuration file: the constructor parses it with libconfig
: >"$T/empty.conf"
TLSSHIM_CONFIG=$T/empty.conf LD_PRELOAD=$PRELOAD timeout 10 "$T/capture" >"$T/out" 2>"$T/log" ||
	fail "empty config: status $? $(cat "$T/log")"
# a working rule, read by libconfig: a TLS connection, closed cleanly
P=$(free_port)
tls_collect $P "$T/report"; SRV=$BG_PID
wait_port $P
TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
	LD_PRELOAD=$PRELOAD timeout 10 "$T/capture" $P >"$T/out" 2>"$T/log" ||
	fail "with a rule: status $? $(cat "$T/log")"
wait $SRV
assert_not_contains "$T/log" "captured" "a call captured"
assert_eq "clean ping" "$(cat "$T/report")" "TLS in a program exporting libconfig's names"
