#!/bin/sh
# OpenSSL is mapped on first need (preload/ossl_lazy.c), not at start-up:
#  1. a program with connect and accept rules (CA, certificate and key
#     files, all checked at start) that makes no connection never maps
#     libssl.so.3, under the preload and under the launcher;
#  2. its first wrapped connection maps it, and the connection works;
#  3. a rule that only OpenSSL can check (a cipher string, a pinned
#     ssl_version) is still checked at start: an error stops the program
#     before main, a weakness is warned about, and OpenSSL is mapped;
#  4. where libssl.so.3 cannot be loaded (a stand-in without its
#     functions), a rule that needs it at start is a config error, and a
#     wrapped connect fails with EPROTO and the reason logged: no byte
#     goes out in plaintext;
#  5. a program that shuts itself in before its first connection - chroot
#     into an empty directory, a seccomp filter refusing every open, set
#     with prctl(PR_SET_SECCOMP) or syscall(SYS_seccomp) - still makes it:
#     those calls map OpenSSL first (preload/hook_sandbox.c).
. "$(dirname "$0")/lib.sh"

CC=${CC:-cc}
# lazyprog maps: prints "libssl=0|1" (is libssl.so.3 mapped?).
# lazyprog connect PORT: the same before, then ping PORT, then the same after.
# lazyprog chroot|prctl|seccomp PORT JAIL: shuts itself in (chroot into
# JAIL; a seccomp filter refusing every open, set with prctl or with the
# seccomp syscall), then ping PORT. /proc is out of its reach then: it
# prints no libssl line.
# ping PORT: connects to 127.0.0.1:PORT, sends "ping\n", prints
# "reply=LINE"; on a failed connect prints "connect: ERROR" and exits 1.
cat >"$T/lazyprog.c" <<'C'
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int mapped(void)
{
	char line[4096];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		exit(2);
	while (fgets(line, sizeof line, f))
		if (strstr(line, "/libssl.so.3"))
			found = 1;
	fclose(f);
	return found;
}

/* 0 once shut in by mode, else 2 with the reason printed. */
static int shut_in(const char *mode, const char *jail)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_open, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
	int r = -1;

	if (strcmp(mode, "chroot") == 0)
		r = chroot(jail) == 0 && chdir("/") == 0 ? 0 : -1;
	else if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && strcmp(mode, "prctl") == 0)
		r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
	else if (strcmp(mode, "seccomp") == 0)
		r = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
	if (r != 0) {
		printf("%s: %s\n", mode, strerror(errno));
		return 2;
	}
	if (fopen("/etc/hostname", "r") != NULL) {
		printf("%s: the program is not shut in\n", mode);
		return 2;
	}
	return 0;
}

/* ping PORT (above); with maps, a libssl line after it, as lazyprog
 * connect prints. Its exit status. */
static int ping(const char *port, int maps)
{
	struct sockaddr_in sa;
	char buf[256];
	ssize_t n;
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(port));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		printf("connect: %s\n", errno == EPROTO ? "EPROTO" : strerror(errno));
		if (fd >= 0 && write(fd, "ping\n", 5) == 5)
			printf("wrote after a failed connect\n");
		if (maps)
			printf("libssl=%d\n", mapped());
		return 1;
	}
	if (write(fd, "ping\n", 5) != 5)
		return 3;
	n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	printf("reply=%s\n", buf);
	if (maps)
		printf("libssl=%d\n", mapped());
	return close(fd) < 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "maps") != 0 && strcmp(argv[1], "connect") != 0) {
		if (argc != 4)
			return 2;
		return shut_in(argv[1], argv[3]) != 0 ? 2 : ping(argv[2], 0);
	}
	printf("libssl=%d\n", mapped());
	if (argc < 3 || strcmp(argv[1], "connect") != 0)
		return 0;
	return ping(argv[2], 1);
}
C
$CC -o "$T/lazyprog" "$T/lazyprog.c" || fail "cannot build the test program"
"$T/lazyprog" maps >"$T/out" || fail "lazyprog alone"
assert_eq "libssl=0" "$(cat "$T/out")" "lazyprog alone maps libssl (the test cannot tell)"

P=$(free_port)
cat >"$T/rules.conf" <<EOF
version = 1;
connect = (
  { match = "127.0.0.1:$P"; ca_certs = "$CERTS/ca.pem"; server_hostname = "localhost"; },
  { match = "db.example:5432"; ca_certs = "$CERTS/ca.pem"; }
);
accept = (
  { match = "*:1"; certfile = "$CERTS/server.pem"; keyfile = "$CERTS/server.key"; },
  { match = "127.0.0.1:2"; certfile = "$CERTS/server.pem"; keyfile = "$CERTS/server.key";
    ca_certs = "$CERTS/ca.pem"; cert_reqs = "CERT_REQUIRED"; }
);
EOF

# ---- 1. no connection, no OpenSSL ------------------------------------------------------
env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG="$T/rules.conf" "$T/lazyprog" maps >"$T/out" 2>"$T/err" ||
	fail "lazyprog under the preload: $(cat "$T/err")"
assert_eq "libssl=0" "$(cat "$T/out")" "a program that makes no connection mapped libssl"
"$TLSSHIM" -c "$T/rules.conf" -- "$T/lazyprog" maps >"$T/out" 2>"$T/err" ||
	fail "lazyprog under the launcher: $(cat "$T/err")"
assert_eq "libssl=0" "$(cat "$T/out")" "a program started by the launcher mapped libssl"

# ---- 2. the first wrapped connection maps it -------------------------------------------
start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$CERTS/server.pem" \
	-key "$CERTS/server.key" -naccept 1
SRV=$BG_PID
wait_port $P
env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG="$T/rules.conf" TLSSHIM_LOG=info \
	TLSSHIM_LOG_FILE="$T/conn.log" timeout 10 "$T/lazyprog" connect $P >"$T/out" 2>"$T/err" ||
	fail "wrapped connect: $(cat "$T/out" "$T/err" "$T/conn.log")"
printf 'libssl=0\nreply=gnip\nlibssl=1\n' >"$T/want"
cmp -s "$T/want" "$T/out" || fail "wrapped connect: expected [$(cat "$T/want")], got [$(cat "$T/out")]"
assert_contains "$T/conn.log" "connect 127.0.0.1:$P TLSv1.3 .* verify=ok" "the connection's info line"
stop_bg $SRV

# ---- 3. what only OpenSSL can check is still checked at start --------------------------
# start_check RULE-KEYS [LD_LIBRARY_PATH]: lazyprog maps, under a one-rule
# config; its exit status in $rc
start_check() {
	printf 'version = 1;\nconnect = (\n  { match = "127.0.0.1:1"; ca_certs = "%s";\n    %s }\n);\n' \
		"$CERTS/ca.pem" "$1" >"$T/check.conf"
	rc=0
	env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG="$T/check.conf" ${2:+LD_LIBRARY_PATH=$2} \
		timeout 10 "$T/lazyprog" maps >"$T/out" 2>"$T/err" || rc=$?
}
start_check 'ciphers = "NOPE-CIPHER";'
assert_eq 1 "$rc" "a bad cipher string: exit status"
assert_eq "" "$(cat "$T/out")" "a bad cipher string: main ran"
assert_contains "$T/err" "^tlsshim: $T/check.conf:4: ciphers: invalid cipher string \"NOPE-CIPHER\": no cipher match" \
	"a bad cipher string's message"
start_check 'ciphers = "AES128-SHA";'
assert_eq 0 "$rc" "a weak cipher string: exit status ($(cat "$T/err"))"
assert_eq "libssl=1" "$(cat "$T/out")" "a cipher string is judged by OpenSSL"
assert_contains "$T/err" "check.conf:3: connect rule 1 (\"127.0.0.1:1\"): weaker than the defaults, as configured: ciphers admit 1 suite without forward secrecy (AES128-SHA)" \
	"a weak cipher string's warning"
start_check 'ssl_version = "PROTOCOL_TLSv1_2";'
assert_eq 0 "$rc" "a pinned TLS 1.2: exit status ($(cat "$T/err"))"
assert_eq "libssl=1" "$(cat "$T/out")" "a pinned version is probed by OpenSSL"
start_check 'ssl_version = "PROTOCOL_SSLv2";'
assert_eq 1 "$rc" "SSLv2: exit status"
assert_contains "$T/err" "^tlsshim: $T/check.conf:4: ssl_version: PROTOCOL_SSLv2 cannot be spoken: OpenSSL removed SSLv2 in 1.1.0" \
	"SSLv2's message"

# ---- 4. libssl.so.3 that cannot be loaded ----------------------------------------------
mkdir "$T/fakessl"
echo 'int tlsshim_not_openssl;' >"$T/fake.c"
$CC -shared -fPIC -o "$T/fakessl/libssl.so.3" "$T/fake.c" || fail "cannot build the stand-in"
start_check 'ciphers = "AES128-SHA";' "$T/fakessl"
assert_eq 1 "$rc" "no OpenSSL, a cipher string: exit status"
assert_eq "" "$(cat "$T/out")" "no OpenSSL, a cipher string: main ran"
assert_contains "$T/err" "^tlsshim: $T/check.conf:.*libssl.so.3" "no OpenSSL, a cipher string: the message"
P=$(free_port)
start_bg 20 sh -c 'exec nc -l 127.0.0.1 $0 >"$1/plain_got"' $P "$T"
SRV=$BG_PID
wait_port $P
sed "s/127.0.0.1:[0-9]*\"; ca_certs/127.0.0.1:$P\"; ca_certs/" "$T/rules.conf" >"$T/rules2.conf"
rc=0
env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG="$T/rules2.conf" LD_LIBRARY_PATH="$T/fakessl" \
	TLSSHIM_LOG_FILE="$T/fail.log" timeout 10 "$T/lazyprog" connect $P >"$T/out" 2>"$T/err" || rc=$?
assert_eq 1 "$rc" "no OpenSSL: lazyprog's exit status ($(cat "$T/out" "$T/err"))"
# (the stand-in is mapped now: the last line is not looked at)
printf 'libssl=0\nconnect: EPROTO\n' >"$T/want"
head -n 2 "$T/out" | cmp -s "$T/want" - || fail "no OpenSSL: expected [$(cat "$T/want")], got [$(cat "$T/out")]"
assert_contains "$T/fail.log" "connect 127.0.0.1:$P: cannot set up TLS (rule .*): cannot load libssl.so.3" \
	"no OpenSSL: the reason logged"
stop_bg $SRV
[ -s "$T/plain_got" ] && fail "no OpenSSL: bytes went out in plaintext: $(cat "$T/plain_got")"
# ---- 5. chroot and seccomp before the first connection ---------------------------------
mkdir "$T/jail"
modes=${SANDBOX_MODES:-"prctl seccomp"}
if [ -n "${SANDBOX_MODES:-}" ]; then
	:
elif [ -n "${SANITIZER:-}" ]; then
	echo "SKIP part: chroot under $SANITIZER: its runtime reads /proc at exit, which an empty root takes away; the seccomp cases run"
elif [ "$(id -u)" = 0 ]; then
	modes="chroot $modes"
else
	echo "SKIP part: chroot needs root (uid $(id -u)); the seccomp cases run"
fi
for mode in $modes; do
	P=$(free_port)
	start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$CERTS/server.pem" \
		-key "$CERTS/server.key" -naccept 1
	SRV=$BG_PID
	wait_port $P
	sed "s/127.0.0.1:[0-9]*\"; ca_certs/127.0.0.1:$P\"; ca_certs/" "$T/rules.conf" >"$T/rules3.conf"
	rc=0
	# A sanitizer's runtime cannot open its log file once the program is
	# shut in, nor run the leak check (it reads /proc): its reports go to
	# stderr, and any of them fails the run (halt_on_error).
	env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG="$T/rules3.conf" TLSSHIM_LOG_FILE="$T/sand.log" \
		ASAN_OPTIONS="detect_leaks=0:log_path=stderr" \
		UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=stderr" \
		TSAN_OPTIONS="log_path=stderr" \
		timeout 10 "$T/lazyprog" $mode $P "$T/jail" >"$T/out" 2>"$T/err" || rc=$?
	assert_eq "0 reply=gnip" "$rc $(cat "$T/out")" \
		"$mode before the first connection ($(cat "$T/err" "$T/sand.log" 2>/dev/null))"
	stop_bg $SRV
done

echo "lazy OpenSSL ok"
