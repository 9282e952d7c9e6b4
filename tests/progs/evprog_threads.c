/*
 * evprog_threads HOST PORT THREADS CONNS: THREADS threads, each opening
 * CONNS connections one after another, all threads at once, the program a
 * test wraps with a connect rule against an echo peer. Each connection
 * sends a block of pseudo-random bytes (size varies, up to 48 KiB), reads
 * the echo and compares, then closes. Prints "threads ok N of N
 * connections" and exits 0 only when every echo was intact.
 *
 * evprog_threads HOST PORT THREADS CONNS fopen: one more thread opens and
 * closes a stdio stream in a loop while the others connect, so that a new
 * FILE is being made while a connection's install walks libc's list of
 * streams (preload/stdstream.c).
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
#include <unistd.h>

#define MAXBLOCK (48 * 1024)

static struct sockaddr_in sa;
static int conns_per_thread;
static long ok_count, bad_count;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static volatile int workers_done;

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, unsigned char *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void *worker(void *arg)
{
	uint64_t x = 0x2545f4914f6cdd1dULL * ((uintptr_t)arg + 1);
	unsigned char *out = malloc(MAXBLOCK), *in = malloc(MAXBLOCK);
	for (int c = 0; c < conns_per_thread; c++) {
		const char *what = NULL;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t len = 1 + (size_t)(x % MAXBLOCK);
		for (size_t i = 0; i < len; i++)
			out[i] = (unsigned char)(x >> (i % 56)) ^ (unsigned char)i;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
			what = "connect";
		else if (write_all(fd, out, len) < 0)
			what = "write";
		else if (read_all(fd, in, len) < 0)
			what = "read";
		else if (memcmp(in, out, len) != 0)
			what = "compare";
		int saved = errno;
		if (fd >= 0)
			close(fd);
		pthread_mutex_lock(&mu);
		if (what) {
			bad_count++;
			fprintf(stderr, "thread %lu connection %d (%zu bytes): %s failed: %s\n",
			        (unsigned long)(uintptr_t)arg, c, len, what, strerror(saved));
		} else {
			ok_count++;
		}
		pthread_mutex_unlock(&mu);
	}
	free(out);
	free(in);
	return NULL;
}

static void *opener(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&workers_done, __ATOMIC_ACQUIRE)) {
		FILE *f = fopen("/dev/null", "r");
		if (f)
			fclose(f);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int with_opener = argc == 6 && strcmp(argv[5], "fopen") == 0;
	if (argc != 5 && !with_opener) {
		fprintf(stderr, "usage: %s HOST PORT THREADS CONNS [fopen]\n", argv[0]);
		return 2;
	}
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return 2;
	int nthreads = atoi(argv[3]);
	conns_per_thread = atoi(argv[4]);
	if (nthreads < 1 || nthreads > 256 || conns_per_thread < 1)
		return 2;
	pthread_t th[256], op;
	if (with_opener)
		pthread_create(&op, NULL, opener, NULL);
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	if (with_opener) {
		__atomic_store_n(&workers_done, 1, __ATOMIC_RELEASE);
		pthread_join(op, NULL);
	}
	printf("threads ok %ld of %ld connections\n", ok_count, (long)nthreads * conns_per_thread);
	return bad_count == 0 && ok_count == (long)nthreads * conns_per_thread ? 0 : 1;
}
