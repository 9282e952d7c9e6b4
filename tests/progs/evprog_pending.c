/*
 * evprog_pending HOST PORT MODE NBYTES: readiness with bytes pending above
 * the kernel, the program a test wraps with a connect rule against a server
 * that sends NBYTES in one write (one TLS record). The socket is
 * non-blocking; the program reads ONE byte at a time and, before each read,
 * waits for readability with MODE: poll, ppoll, select, pselect, epoll
 * (level-triggered), epoll-oneshot (EPOLLONESHOT, re-armed with
 * EPOLL_CTL_MOD before each wait) or epoll-et-mod (EPOLLET, re-armed the
 * same way: a MOD re-evaluates readiness) or poll-many (poll over 150 idle
 * pipes and then the socket) or epoll-xthread (EPOLLONESHOT; another
 * thread waits, and the main thread re-arms with EPOLL_CTL_MOD only once
 * that thread sleeps in the kernel, as a thread pool sharing one instance
 * does), with a 3 s timeout. After the first byte the rest of
 * the record is already decrypted inside the interposer while the kernel
 * socket is empty, so every later wait must return at once.
 *
 * Prints "MODE ok NBYTES bytes, W waits, slowest S ms, E spurious"; exits 1
 * with "MODE: stall ..." when a wait times out with bytes still to come,
 * or when waits report readable but reads keep saying EAGAIN (a spin).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 3000

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* For poll-many: 150 idle pipe read ends before the socket. */
#define NIDLE 150
static struct pollfd many[NIDLE + 1];

/* 1 readable, 0 timed out. */
/* epoll-xthread: the waiting thread. Each round it says which wait it is in
 * (gen) and hands the result over (result, done). */
static struct {
	int ep, fd;
	pid_t tid;
	atomic_int gen;
	int result, result_gen;
	sem_t done;
} xt;

static void *xthread_waiter(void *arg)
{
	(void)arg;
	xt.tid = (pid_t)syscall(SYS_gettid);
	for (;;) {
		struct epoll_event ev;
		int g = atomic_fetch_add(&xt.gen, 1) + 1;
		int n = epoll_wait(xt.ep, &ev, 1, -1); /* main's semaphore bounds it */
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 1 && (ev.data.fd != xt.fd || !(ev.events & (EPOLLIN | EPOLLHUP | EPOLLERR)))) {
			fprintf(stderr, "epoll-xthread: event 0x%x on fd %d\n", ev.events, ev.data.fd);
			exit(1);
		}
		xt.result = n;
		xt.result_gen = g;
		sem_post(&xt.done);
	}
	return NULL;
}

/* True once the waiter is in wait number gen, asleep in the kernel. */
static int xthread_asleep(int gen)
{
	char path[64], w[64] = "";
	snprintf(path, sizeof path, "/proc/self/task/%d/wchan", (int)xt.tid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fgets(w, sizeof w, f) == NULL)
		w[0] = 0;
	fclose(f);
	return atomic_load(&xt.gen) == gen && strstr(w, "epoll_wait") != NULL;
}

static int xthread_wait(int fd, int ep)
{
	static int started;
	if (!started) {
		xt.ep = ep;
		xt.fd = fd;
		sem_init(&xt.done, 0, 0);
		pthread_t t;
		if (pthread_create(&t, NULL, xthread_waiter, NULL) != 0) {
			perror("pthread_create");
			exit(1);
		}
		started = 1;
	} else {
		/* the waiter's next wait must already sleep in the kernel */
		int want = xt.result_gen + 1;
		long until = now_ms() + TIMEOUT_MS;
		while (!xthread_asleep(want)) {
			if (now_ms() > until) {
				fprintf(stderr, "epoll-xthread: the waiter never slept in epoll_wait\n");
				exit(1);
			}
			struct timespec ms = { 0, 1000000 };
			nanosleep(&ms, NULL);
		}
		struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.fd = fd };
		if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0) {
			perror("epoll_ctl MOD");
			exit(1);
		}
	}
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += TIMEOUT_MS / 1000 + 2;
	while (sem_timedwait(&xt.done, &until) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "epoll-xthread: the waiter did not come back\n");
			exit(1);
		}
	}
	return xt.result;
}

static int wait_readable(const char *mode, int fd, int ep)
{
	if (!strcmp(mode, "epoll-xthread"))
		return xthread_wait(fd, ep);
	if (!strcmp(mode, "poll-many")) {
		for (int i = 0; i <= NIDLE; i++)
			many[i].revents = 0;
		many[NIDLE].fd = fd;
		many[NIDLE].events = POLLIN;
		int n = poll(many, NIDLE + 1, TIMEOUT_MS);
		if (n < 0) {
			perror("poll");
			exit(1);
		}
		for (int i = 0; i < NIDLE; i++)
			if (many[i].revents) {
				fprintf(stderr, "poll-many: idle pipe %d reported 0x%x\n", i, (unsigned)many[i].revents);
				exit(1);
			}
		if (n == 1 && !(many[NIDLE].revents & (POLLIN | POLLHUP | POLLERR))) {
			fprintf(stderr, "poll-many: revents 0x%x without POLLIN\n", (unsigned)many[NIDLE].revents);
			exit(1);
		}
		return n;
	}
	if (!strcmp(mode, "poll") || !strcmp(mode, "ppoll")) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n;
		if (mode[0] == 'p' && mode[1] == 'p') {
			struct timespec ts = { TIMEOUT_MS / 1000, 0 };
			sigset_t none;
			sigemptyset(&none);
			n = ppoll(&p, 1, &ts, &none);
		} else {
			n = poll(&p, 1, TIMEOUT_MS);
		}
		if (n < 0) {
			perror(mode);
			exit(1);
		}
		if (n == 1 && !(p.revents & (POLLIN | POLLHUP | POLLERR))) {
			fprintf(stderr, "%s: revents 0x%x without POLLIN\n", mode, (unsigned)p.revents);
			exit(1);
		}
		return n;
	}
	if (!strcmp(mode, "select") || !strcmp(mode, "pselect")) {
		fd_set r;
		FD_ZERO(&r);
		FD_SET(fd, &r);
		int n;
		if (mode[0] == 'p') {
			struct timespec ts = { TIMEOUT_MS / 1000, 0 };
			n = pselect(fd + 1, &r, NULL, NULL, &ts, NULL);
		} else {
			struct timeval tv = { TIMEOUT_MS / 1000, 0 };
			n = select(fd + 1, &r, NULL, NULL, &tv);
		}
		if (n < 0) {
			perror(mode);
			exit(1);
		}
		if (n == 1 && !FD_ISSET(fd, &r)) {
			fprintf(stderr, "%s: returned 1 without the descriptor set\n", mode);
			exit(1);
		}
		return n;
	}
	struct epoll_event ev;
	if (!strcmp(mode, "epoll-oneshot") || !strcmp(mode, "epoll-et-mod")) {
		/* Re-arming evaluates readiness now, as the kernel does for a
		 * socket with unread bytes. */
		ev.events = EPOLLIN | (mode[6] == 'o' ? EPOLLONESHOT : EPOLLET);
		ev.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0) {
			perror("epoll_ctl MOD");
			exit(1);
		}
	}
	int n = epoll_wait(ep, &ev, 1, TIMEOUT_MS);
	if (n < 0) {
		perror("epoll_wait");
		exit(1);
	}
	if (n == 1 && (ev.data.fd != fd || !(ev.events & (EPOLLIN | EPOLLHUP | EPOLLERR)))) {
		fprintf(stderr, "epoll: event 0x%x on fd %d\n", ev.events, ev.data.fd);
		exit(1);
	}
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s HOST PORT poll|ppoll|select|pselect|epoll|epoll-oneshot|epoll-et-mod|epoll-xthread|poll-many NBYTES\n", argv[0]);
		return 2;
	}
	const char *mode = argv[3];
	long want = atol(argv[4]);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return 2;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("connect");
		return 1;
	}
	/* Non-blocking only now: a blocking connect finished the handshake, and
	 * a wrong "readable" must show up as EAGAIN, not as a hang. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		perror("fcntl");
		return 1;
	}
	int ep = -1;
	if (!strncmp(mode, "epoll", 5)) {
		ep = epoll_create1(0);
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		if (!strcmp(mode, "epoll-oneshot") || !strcmp(mode, "epoll-xthread"))
			ev.events |= EPOLLONESHOT;
		else if (!strcmp(mode, "epoll-et-mod"))
			ev.events |= EPOLLET;
		else if (strcmp(mode, "epoll")) {
			fprintf(stderr, "unknown mode %s\n", mode);
			return 2;
		}
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			perror("epoll");
			return 1;
		}
	} else if (!strcmp(mode, "poll-many")) {
		for (int i = 0; i < NIDLE; i++) {
			int p[2];
			if (pipe(p) < 0) {
				perror("pipe");
				return 1;
			}
			many[i].fd = p[0];
			many[i].events = POLLIN;
		}
	} else if (strcmp(mode, "poll") && strcmp(mode, "ppoll") && strcmp(mode, "select") &&
	           strcmp(mode, "pselect")) {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}

	long got = 0, waits = 0, spurious = 0, slowest = 0, slowest_after_first = 0;
	while (got < want) {
		long t = now_ms();
		int r = wait_readable(mode, fd, ep);
		long dt = now_ms() - t;
		waits++;
		if (dt > slowest)
			slowest = dt;
		if (got > 0 && dt > slowest_after_first)
			slowest_after_first = dt;
		if (r == 0) {
			fprintf(stderr, "%s: stall: no readiness in %d ms with %ld of %ld bytes read "
			        "(the rest waits decrypted inside the library)\n", mode, TIMEOUT_MS, got, want);
			return 1;
		}
		char c;
		ssize_t n = read(fd, &c, 1);
		if (n == 1) {
			got++;
		} else if (n == 0) {
			fprintf(stderr, "%s: EOF after %ld of %ld bytes\n", mode, got, want);
			return 1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (++spurious > 1000) {
				fprintf(stderr, "%s: spin: readable but EAGAIN 1000 times at %ld bytes\n", mode, got);
				return 1;
			}
		} else if (errno != EINTR) {
			perror("read");
			return 1;
		}
	}
	printf("%s ok %ld bytes, %ld waits, slowest %ld ms (after the first byte %ld ms), %ld spurious\n",
	       mode, got, waits, slowest, slowest_after_first, spurious);
	close(fd);
	return 0;
}
