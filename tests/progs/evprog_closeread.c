/*
 * evprog_closeread HOST PORT: one thread blocks in read on a connection
 * whose peer is silent (for 2 s after the handshake); 300 ms later the main
 * thread closes the descriptor, then writes to the closed number; 300 ms
 * after that the read must still be waiting (Linux: close does not wake a
 * read in progress, which holds the socket), and it returns whatever the
 * peer does next (its answer, or 0 for its close). The reader then writes
 * to the number too. The program a test wraps with a connect rule; it
 * prints, one a line (progreport.h):
 *   close=0
 *   write_after_close=-1 errno=EBADF   (the main thread, after its close)
 *   blocked_after_close=1              (the read still waits 300 ms later)
 *   read=N                             (the read in progress)
 *   write_after_read=-1 errno=EBADF    (the reader thread, after its read)
 *   read_ms=N                          (how long the read took)
 * and exits 0, or 1 when the read did not return within 10 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "progreport.h"

static int fd;
static atomic_int done;
static long read_ret, write_ret, read_ms;
static int read_errno, write_errno;

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void *reader(void *arg)
{
	char buf[64];
	static const char mark[] = "PLAINMARK-closeread\n";
	long t = now_ms();

	(void)arg;
	read_ret = read(fd, buf, sizeof buf);
	read_errno = errno;
	read_ms = now_ms() - t;
	write_ret = write(fd, mark, sizeof mark - 1);
	write_errno = errno;
	atomic_store(&done, 1);
	return NULL;
}

int main(int argc, char **argv)
{
	static const char mark[] = "PLAINMARK-closeread\n";
	pthread_t th;

	if (argc != 3) {
		fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
		return 2;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return 2;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("connect");
		return 1;
	}
	pthread_create(&th, NULL, reader, NULL);
	sleep_ms(300);
	REPORT("close", close(fd));
	REPORT("write_after_close", write(fd, mark, sizeof mark - 1));
	sleep_ms(300);
	printf("blocked_after_close=%d\n", !atomic_load(&done));
	fflush(stdout);
	for (int i = 0; i < 1000 && !atomic_load(&done); i++)
		sleep_ms(10);
	if (!atomic_load(&done)) {
		printf("the read is still waiting 10 s after the close\n");
		return 1;
	}
	pthread_join(th, NULL);
	report("read", read_ret, read_errno);
	report("write_after_read", write_ret, write_errno);
	printf("read_ms=%ld\n", read_ms);
	return 0;
}
