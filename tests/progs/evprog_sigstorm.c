/*
 * evprog_sigstorm HOST PORT MIB restart|norestart [accept]: a transfer
 * under a signal every millisecond (setitimer ITIMER_REAL, 1 ms interval;
 * the SIGALRM handler with or without SA_RESTART), the program a test
 * wraps with a connect rule against the sink server of evloop_lib.sh
 * (--echo); with "accept" it listens on HOST:PORT instead (prints
 * "listening"), under an accept rule, and does the same with the one
 * client it accepts (a peer that acts as the sink). It sends an 8-byte big-endian length and MIB MiB of pseudo-random bytes
 * (with MARKER at every 64 KiB, so that plaintext on the wire shows),
 * reads the peer's "ok SIZE SHA256" line, then the echo, and compares
 * it byte for byte with what it sent. A blocking read or write may return
 * a short count; -1 with EINTR only without SA_RESTART (signal(7)), and
 * then the call is simply made again. Prints "sigstorm MODE ok: ..." with
 * the counts and exits 0, or says what differed and exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MARKER "SIGSTORM-PLAINTEXT-MARKER"
#define CHUNK (256 * 1024)

static volatile sig_atomic_t alarms;
static long eintr_r, eintr_w, short_r, short_w, restart_mode;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* The byte at offset `off` of the stream (a pure function of the offset,
 * so that the echo is checked without keeping 64 MiB). */
static unsigned char byte_at(uint64_t off)
{
	if (off % 65536 < sizeof MARKER - 1)
		return (unsigned char)MARKER[off % 65536];
	uint64_t x = (off / 8 + 1) * 0x9E3779B97F4A7C15ull;
	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 32;
	return (unsigned char)(x >> (8 * (off % 8)));
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR) {
			eintr_w++;
			continue;
		}
		if (w <= 0) {
			fprintf(stderr, "write: %s\n", w < 0 ? strerror(errno) : "0");
			return -1;
		}
		if ((size_t)w < n)
			short_w++;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One read: -1 only for a real error or EOF (printed). */
static ssize_t read_some(int fd, unsigned char *p, size_t n)
{
	for (;;) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR) {
			eintr_r++;
			continue;
		}
		if (r <= 0) {
			fprintf(stderr, "read: %s\n", r < 0 ? strerror(errno) : "EOF");
			return -1;
		}
		if ((size_t)r < n)
			short_r++;
		return r;
	}
}

int main(int argc, char **argv)
{
	if ((argc != 5 && (argc != 6 || strcmp(argv[5], "accept"))) ||
	    (strcmp(argv[4], "restart") && strcmp(argv[4], "norestart"))) {
		fprintf(stderr, "usage: %s HOST PORT MIB restart|norestart [accept]\n", argv[0]);
		return 2;
	}
	restart_mode = !strcmp(argv[4], "restart");
	uint64_t total = (uint64_t)atoi(argv[3]) << 20;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return 2;
	struct sigaction act;
	memset(&act, 0, sizeof act);
	act.sa_handler = on_alarm;
	act.sa_flags = restart_mode ? SA_RESTART : 0;
	sigemptyset(&act.sa_mask);
	sigaction(SIGALRM, &act, NULL);
	/* The storm starts after connect: the transfer is the subject. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (argc == 6) {
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1) < 0) {
			perror("listen");
			return 1;
		}
		printf("listening\n");
		fflush(stdout);
		int ls = fd;
		fd = accept(ls, NULL, NULL);
		if (fd < 0) {
			perror("accept");
			return 1;
		}
		close(ls);
	} else if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("connect");
		return 1;
	}
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	static unsigned char buf[CHUNK];
	unsigned char len[8];
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(total >> (56 - 8 * i));
	if (write_all(fd, len, 8) < 0)
		return 1;
	uint64_t off = 0;
	size_t step = 1000;
	while (off < total) {
		size_t n = step;
		if (n > total - off)
			n = (size_t)(total - off);
		for (size_t i = 0; i < n; i++)
			buf[i] = byte_at(off + i);
		if (write_all(fd, buf, n) < 0)
			return 1;
		off += n;
		step = step * 3 % CHUNK + 1; /* sizes from 1 byte to 256 KiB */
	}
	/* the server's line: "ok SIZE SHA256\n" */
	char line[200];
	size_t ll = 0;
	while (ll < sizeof line - 1) {
		if (read_some(fd, (unsigned char *)line + ll, 1) < 0)
			return 1;
		if (line[ll++] == '\n')
			break;
	}
	line[ll] = '\0';
	char expect[64];
	snprintf(expect, sizeof expect, "ok %llu ", (unsigned long long)total);
	if (strncmp(line, expect, strlen(expect)) != 0) {
		fprintf(stderr, "server said: %s", line);
		return 1;
	}
	off = 0;
	while (off < total) {
		size_t want = sizeof buf;
		if (want > total - off)
			want = (size_t)(total - off);
		ssize_t r = read_some(fd, buf, want);
		if (r < 0)
			return 1;
		for (ssize_t i = 0; i < r; i++) {
			if (buf[i] != byte_at(off + (uint64_t)i)) {
				fprintf(stderr, "the echo differs at byte %llu\n",
				        (unsigned long long)(off + (uint64_t)i));
				return 1;
			}
		}
		off += (uint64_t)r;
	}
	struct itimerval stop = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &stop, NULL);
	if (restart_mode && (eintr_r || eintr_w)) {
		fprintf(stderr, "EINTR with SA_RESTART: %ld reads, %ld writes\n", eintr_r, eintr_w);
		return 1;
	}
	close(fd);
	printf("sigstorm %s%s ok: %llu bytes each way intact, %ld alarms, EINTR read %ld write %ld, "
	       "short reads %ld writes %ld, peer %s",
	       argv[4], argc == 6 ? " accept" : "", (unsigned long long)total, (long)alarms, eintr_r,
	       eintr_w, short_r, short_w, line);
	return 0;
}
