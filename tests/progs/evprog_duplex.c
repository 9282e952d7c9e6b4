/*
 * evprog_duplex HOST PORT BYTES: full duplex on one connection, the program
 * a test wraps with a connect rule against an echo peer. A reader thread
 * sits in a blocking read() first; only then does the main thread start to
 * write BYTES of a pseudo-random stream in chunks, while the reader checks
 * the echo byte for byte. An interposer that holds a per-connection lock
 * while waiting in read blocks the writer: the program then never finishes
 * (the test bounds it with timeout). Prints "duplex ok BYTES".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int fd;
static size_t total;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int reader_started;

/* The stream: byte i of a xorshift sequence, the same for both threads. */
struct stream { uint64_t x; };
static unsigned char next_byte(struct stream *s)
{
	s->x ^= s->x << 13;
	s->x ^= s->x >> 7;
	s->x ^= s->x << 17;
	return (unsigned char)(s->x >> 24);
}

static void *reader(void *arg)
{
	(void)arg;
	struct stream st = { 0x9e3779b97f4a7c15ULL };
	static unsigned char buf[65536];
	size_t got = 0;
	pthread_mutex_lock(&mu);
	reader_started = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	while (got < total) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "read: %s after %zu of %zu bytes\n",
			        n == 0 ? "EOF" : strerror(errno), got, total);
			exit(1);
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != next_byte(&st)) {
				fprintf(stderr, "echo differs at byte %zu\n", got + (size_t)i);
				exit(1);
			}
		}
		got += (size_t)n;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s HOST PORT BYTES\n", argv[0]);
		return 2;
	}
	total = strtoul(argv[3], NULL, 10);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return 2;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("connect");
		return 1;
	}
	pthread_t th;
	pthread_create(&th, NULL, reader, NULL);
	pthread_mutex_lock(&mu);
	while (!reader_started)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	/* Give the reader time to be inside read() with nothing to read: the
	 * situation under test, not a race being slept past. */
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	nanosleep(&ts, NULL);

	struct stream st = { 0x9e3779b97f4a7c15ULL };
	static unsigned char buf[100000];
	size_t sent = 0;
	while (sent < total) {
		size_t chunk = 1 + (sent * 7919) % sizeof buf;
		if (chunk > total - sent)
			chunk = total - sent;
		for (size_t i = 0; i < chunk; i++)
			buf[i] = next_byte(&st);
		size_t off = 0;
		while (off < chunk) {
			ssize_t n = write(fd, buf + off, chunk - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				perror("write");
				return 1;
			}
			off += (size_t)n;
		}
		sent += chunk;
	}
	pthread_join(th, NULL);
	printf("duplex ok %zu\n", total);
	close(fd);
	return 0;
}
