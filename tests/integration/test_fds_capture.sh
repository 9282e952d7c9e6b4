#!/bin/sh
# Symbol capture: a program that exports names of tlsshim's own
# dependencies must not capture the preload's calls into them. lighttpd
# exports config_init and config_read (libconfig: it died with SIGSEGV
# before main under any tlsshim config); node exports a whole OpenSSL 3; a
# program may define SSL_read or EVP_MD_fetch with a meaning of its own.
# A program built with -rdynamic defines every function libconfig,
# libssl and libcrypto export, the glibc internals the preload and
# libconfig call, and C library functions only OpenSSL calls, each one
# aborting with "captured: NAME".
# Under tlsshim it starts with an empty configuration file; with a
# connect rule it reaches a TLS server (which reports data and a
# close_notify) through a verified connection, and with an accept rule it
# serves openssl s_client, which verifies it (-verify_return_error). A
# control proves the names would capture: the same program linked with
# libssl.so.3 (bound at start-up, in the global scope, to the program's
# names, as libtlsshim.so's OpenSSL was when it linked it) aborts at
# tlsshim's first OpenSSL call.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fds_lib.sh"
# ASan and TSan refuse RTLD_DEEPBIND: a sanitized libtlsshim.so opens
# OpenSSL without it (core/ossl_dl.c), as tlsshim(1) CAVEATS says.
sanitizer_skip "asan tsan" "a sanitized libtlsshim.so opens OpenSSL without RTLD_DEEPBIND (the sanitizers refuse it): OpenSSL's calls into itself can be captured there"

CC=${CC:-cc}
# NAME... -> the functions the shared libraries NAME export, one a line
exports() {
	for _l in "$@"; do
		nm -D --defined-only "$_l" | awk '$2 == "T" {sub(/@.*/, "", $3); print $3}'
	done
}
libdir=$(pkg-config --variable=libdir libconfig)
libconfig=$(ls "$libdir"/libconfig.so.* 2>/dev/null | head -1)
[ -n "$libconfig" ] || fail "libconfig.so not found in $libdir"
ssldir=$(pkg-config --variable=libdir openssl)
libssl=$ssldir/libssl.so.3
libcrypto=$ssldir/libcrypto.so.3
[ -f "$libssl" ] && [ -f "$libcrypto" ] || fail "libssl.so.3 or libcrypto.so.3 not in $ssldir"
exports "$libconfig" | grep '^config_' | sort -u >"$T/names.config"
exports "$libssl" "$libcrypto" | sort -u >"$T/names.ssl"
# glibc internals the preload (stdstream.c's walk of every FILE) and
# libconfig's archive call
printf '%s\n' _IO_iter_begin _IO_iter_end _IO_iter_next _IO_iter_file _IO_list_lock \
	_IO_list_unlock _IO_getc __fxstat __strdup >"$T/names.libc"
# C library functions OpenSSL calls on every use (its locks, its
# per-thread error state) and tlsshim does not: RTLD_DEEPBIND binds them
# in the C library, not in the program
printf '%s\n' pthread_rwlock_rdlock pthread_rwlock_wrlock pthread_rwlock_unlock \
	pthread_getspecific pthread_setspecific >"$T/names.osslc"
for name in $(cat "$T/names.osslc"); do
	nm -D --undefined-only "$libcrypto" | grep -qw "$name" || fail "libcrypto does not call $name"
	if nm -D --undefined-only "$PRELOAD_SO" | grep -qw "$name"; then fail "the preload calls $name"; fi
done
n=$(wc -l <"$T/names.config")
[ "$n" -gt 40 ] || fail "too few libconfig names to collide with ($n)"
n=$(wc -l <"$T/names.ssl")
[ "$n" -gt 3000 ] || fail "too few OpenSSL names to collide with ($n)"
for name in config_init config_read SSL_new SSL_CTX_new SSL_read_ex SSL_write_ex SSL_ctrl \
	EVP_MD_fetch X509_verify_cert ERR_get_error OPENSSL_init_ssl OPENSSL_sk_num; do
	cat "$T/names.config" "$T/names.ssl" | grep -qx "$name" || fail "$name missing from the list"
done
# the preload imports no libconfig or OpenSSL name and needs neither library
if nm -D --undefined-only "$PRELOAD_SO" | grep -q ' config_'; then fail "the preload imports libconfig names"; fi
if nm -D --undefined-only "$PRELOAD_SO" | grep -q -e ' _IO_' -e ' __fxstat' -e ' __strdup'; then
	fail "the preload imports glibc internals by name"
fi
if nm -D --undefined-only "$PRELOAD_SO" | grep -q '@OPENSSL_'; then
	fail "the preload imports OpenSSL names: $(nm -D --undefined-only "$PRELOAD_SO" | grep '@OPENSSL_' | head -3)"
fi
for l in libconfig libssl libcrypto; do
	if readelf -d "$PRELOAD_SO" | grep -q "NEEDED.*$l"; then fail "the preload needs $l"; fi
done
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
	sed 's/.*/CAP(&)/' "$T/names.config" "$T/names.ssl" "$T/names.libc" "$T/names.osslc"
	cat <<'C'
/* capture connect PORT: sends "ping" and closes.
 * capture accept PORT: serves one client: reads a line, answers
 * "pong:LINE" and closes. */
int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	char line[256];
	size_t n = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, c;

	if (argc < 3)
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (strcmp(argv[1], "connect") == 0) {
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
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1) < 0 ||
	    (c = accept(fd, NULL, NULL)) < 0) {
		perror("accept");
		return 1;
	}
	memcpy(line, "pong:", 5);
	n = 5;
	while (n < sizeof line - 1) {
		ssize_t r = read(c, line + n, 1);
		if (r < 0) {
			perror("read");
			return 1;
		}
		if (r == 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n++] = '\n';
	if (write(c, line, n) != (ssize_t)n) {
		perror("write");
		return 1;
	}
	return close(c) < 0 || close(fd) < 0;
}
C
} >"$T/capture.c"
$CC -rdynamic -o "$T/capture" "$T/capture.c" || fail "cannot build the test program"
for name in config_init SSL_new EVP_MD_fetch; do
	nm -D --defined-only "$T/capture" | grep -qw "$name" || fail "the program does not export $name"
done
if readelf -d "$T/capture" | grep -q 'NEEDED.*lib\(ssl\|crypto\|config\)'; then
	fail "the program needs one of the libraries it collides with"
fi

# OpenSSL is opened when something needs it, and only then: not by an
# inert preload, nor by rules whose checks the files' bytes answer
# (test_preload_lazyssl: and by the first wrapped connection)
LD_PRELOAD=$PRELOAD cat /proc/self/maps >"$T/maps" || fail "cat under the preload"
assert_not_contains "$T/maps" libssl "an inert preload maps libssl"
assert_not_contains "$T/maps" libcrypto "an inert preload maps libcrypto"
TLSSHIM_CONFIG_STRING="version = 1;" LD_PRELOAD=$PRELOAD cat /proc/self/maps >"$T/maps" ||
	fail "cat under the preload with a configuration"
assert_not_contains "$T/maps" libssl "the preload with a configuration that needs no OpenSSL maps libssl"
ciphers='connect = ({ match = "127.0.0.1:1"; cert_reqs = "CERT_NONE"; ciphers = "HIGH"; });'
TLSSHIM_CONFIG_STRING=$ciphers LD_PRELOAD=$PRELOAD cat /proc/self/maps >"$T/maps" ||
	fail "cat under the preload with a cipher string"
assert_contains "$T/maps" libssl.so.3 "the preload checking a cipher string opens libssl"
# a libssl.so.3 that lacks OpenSSL's functions: a rule that needs it at
# start stops the program before main with the loader's reason, as a
# configuration error does
mkdir "$T/fakessl"
$CC -shared -Wl,-soname,libssl.so.3 -o "$T/fakessl/libssl.so.3" -x c /dev/null ||
	fail "cannot build the stand-in libssl"
TLSSHIM_CONFIG_STRING=$ciphers LD_LIBRARY_PATH=$T/fakessl LD_PRELOAD=$PRELOAD \
	timeout 10 sh -c 'echo main ran' >"$T/out" 2>"$T/log"
assert_eq 1 $? "status with a libssl that lacks OpenSSL"
assert_not_contains "$T/out" "main ran" "the program ran without OpenSSL"
assert_contains "$T/log" "^tlsshim: TLSSHIM_CONFIG_STRING:1: .*cannot load libssl.so.3: .*undefined symbol" \
	"the reason, before main"

# an empty configuration file: the constructor parses it with libconfig
: >"$T/empty.conf"
TLSSHIM_CONFIG=$T/empty.conf LD_PRELOAD=$PRELOAD timeout 10 "$T/capture" >"$T/out" 2>"$T/log" ||
	fail "empty config: status $? $(cat "$T/log")"

# a connect rule, read by libconfig from a file: a verified TLS
# connection, closed cleanly (wrapping it walks every FILE for streams on
# the socket: stdstream.c)
P=$(free_port)
tls_collect $P "$T/report"; SRV=$BG_PID
wait_port $P
echo "connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" >"$T/connect.conf"
TLSSHIM_CONFIG=$T/connect.conf LD_PRELOAD=$PRELOAD timeout 10 "$T/capture" connect $P \
	>"$T/out" 2>"$T/log" || fail "with a connect rule: status $? $(cat "$T/log")"
wait $SRV
assert_not_contains "$T/log" "captured" "a call captured (connect)"
assert_eq "clean ping" "$(cat "$T/report")" "TLS in a program exporting libconfig's and OpenSSL's names"

# an accept rule: openssl s_client verifies the program's certificate
P=$(free_port)
TLSSHIM_CONFIG_STRING="accept = ({ match = \"127.0.0.1:$P\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; });" \
	LD_PRELOAD=$PRELOAD start_bg 20 "$T/capture" accept $P 2>"$T/alog"
APP=$BG_PID
wait_port $P
echo hello | timeout 10 openssl s_client -connect 127.0.0.1:$P -CAfile "$CERTS/ca.pem" \
	-verify_return_error -quiet >"$T/sout" 2>"$T/serr" ||
	fail "s_client: status $? $(cat "$T/serr" "$T/alog")"
wait $APP || fail "the accepting program: status $? $(cat "$T/alog")"
assert_not_contains "$T/alog" "captured" "a call captured (accept)"
assert_eq "pong:hello" "$(cat "$T/sout")" "s_client through the program's accept rule"

# control: linked with libssl.so.3, the program's names capture OpenSSL's
# calls into itself; it runs on its own, and dies at tlsshim's first
# OpenSSL call (its constructor, reading the rule).
$CC -rdynamic -o "$T/capture_ssl" "$T/capture.c" -Wl,--no-as-needed -lssl -lcrypto ||
	fail "cannot build the control program"
readelf -d "$T/capture_ssl" | grep -q 'NEEDED.*libssl' || fail "control: libssl.so.3 not needed"
timeout 10 "$T/capture_ssl" >"$T/out" 2>"$T/clog" || fail "control alone: status $? $(cat "$T/clog")"
P=$(free_port)
TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
	LD_PRELOAD=$PRELOAD timeout 10 "$T/capture_ssl" connect $P >"$T/out" 2>"$T/clog" &&
	fail "control: the program linked with libssl succeeded $(cat "$T/clog")"
assert_contains "$T/clog" "captured: " "control: libssl bound to the program's names"
