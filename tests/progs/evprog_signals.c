/*
 * evprog_signals HOST PORT CASE: POSIX semantics a wrapped socket must keep
 * (issue 4, items 1 and 5). A plain program, run under a connect rule; each
 * CASE expects exactly what the kernel does for a plain socket:
 *
 *   eintr     a blocking read, interrupted by SIGALRM (handler without
 *             SA_RESTART) after 300 ms: -1 with EINTR, soon after 300 ms
 *   restart   the same with SA_RESTART while the peer answers after 1 s:
 *             the read is restarted and returns the peer's bytes
 *   rcvtimeo  SO_RCVTIMEO of 300 ms and a silent peer: -1 with EAGAIN
 *             after about 300 ms
 *   poll-eintr, select-eintr, epoll-eintr
 *             a wait on a silent peer interrupted by a SA_RESTART handler:
 *             -1 with EINTR (these calls are never restarted)
 *   pollwait, selectwait, epollwait
 *             the peer answers after 1 s: readiness comes with the answer,
 *             not before it for a record without application data (a TLS
 *             1.3 session ticket), and the read after it does not block
 *   shutdown  a thread blocked in read is woken by shutdown(SHUT_RDWR) from
 *             another thread: its read returns 0 at once
 *   closewhileread
 *             another thread closes the descriptor while a read waits: as
 *             on Linux, the read goes on and returns the peer's answer
 *   sndtimeo  SO_SNDTIMEO of 300 ms, a peer that reads nothing: once the
 *             buffers fill, a write returns a short count or EAGAIN after
 *             about 300 ms
 *   flags     O_NONBLOCK reads as the program set it; MSG_DONTWAIT,
 *             O_NONBLOCK set and cleared after connect, then SO_RCVTIMEO,
 *             each honoured at once
 *   sigpipe   the peer closes; writes end in EPIPE and SIGPIPE is raised
 *             (a handler counts it)
 *   nosignal  the same with send(MSG_NOSIGNAL): EPIPE, no SIGPIPE
 *   ignored   the same with SIGPIPE ignored: EPIPE
 *   exec      after connecting, the program execs itself; the new image
 *             must not see the wrapped descriptor open (a TLS connection
 *             cannot cross exec; its bytes would go out in plaintext)
 *
 * Prints "CASE ok ..." and exits 0, or says what differed and exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms, pipes;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void on_pipe(int sig)
{
	(void)sig;
	pipes++;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int dial(const char *host, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", host);
		exit(2);
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

static void handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void alarm_in(long ms)
{
	struct itimerval it = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);
}

__attribute__((format(printf, 2, 3))) static int fail(const char *c, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", c);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int case_eintr(int fd, const char *c)
{
	char buf[64];
	handle(SIGALRM, on_alarm, 0);
	alarm_in(300);
	long t = now_ms();
	ssize_t n = read(fd, buf, sizeof buf);
	int e = errno;
	long dt = now_ms() - t;
	if (n != -1 || e != EINTR)
		return fail(c, "read returned %zd (%s), expected -1 with EINTR", n, strerror(e));
	if (dt < 250 || dt > 2000)
		return fail(c, "EINTR after %ld ms, expected about 300", dt);
	printf("%s ok: EINTR after %ld ms\n", c, dt);
	return 0;
}

static int case_restart(int fd, const char *c)
{
	char buf[64];
	handle(SIGALRM, on_alarm, SA_RESTART);
	alarm_in(300);
	long t = now_ms();
	ssize_t n;
	n = read(fd, buf, sizeof buf);
	int e = errno;
	long dt = now_ms() - t;
	if (n <= 0)
		return fail(c, "read returned %zd (%s), expected the peer's bytes (SA_RESTART)",
		            n, n < 0 ? strerror(e) : "EOF");
	if (alarms != 1)
		return fail(c, "%d alarms, expected 1", (int)alarms);
	printf("%s ok: %ld bytes after %ld ms, the 300 ms alarm did not interrupt\n", c, (long)n, dt);
	return 0;
}

static int case_rcvtimeo(int fd, const char *c)
{
	char buf[64];
	struct timeval tv = { 0, 300 * 1000 };
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
		perror("setsockopt");
		return 1;
	}
	long t = now_ms();
	ssize_t n = read(fd, buf, sizeof buf);
	int e = errno;
	long dt = now_ms() - t;
	if (n != -1 || (e != EAGAIN && e != EWOULDBLOCK))
		return fail(c, "read returned %zd (%s), expected -1 with EAGAIN", n, strerror(e));
	if (dt < 250 || dt > 2000)
		return fail(c, "EAGAIN after %ld ms, expected about 300", dt);
	printf("%s ok: EAGAIN after %ld ms\n", c, dt);
	return 0;
}

static int case_pipe(int fd, const char *c)
{
	static char buf[16384];
	int nosig = strcmp(c, "nosignal") == 0, ignored = strcmp(c, "ignored") == 0;
	if (ignored)
		handle(SIGPIPE, SIG_IGN, 0);
	else
		handle(SIGPIPE, on_pipe, 0);
	memset(buf, 'p', sizeof buf);
	/* The peer closed right after its handshake; the first writes may
	 * still be accepted by the kernel, then the reset makes them fail. */
	for (int i = 0; i < 500; i++) {
		ssize_t n = nosig ? send(fd, buf, sizeof buf, MSG_NOSIGNAL) : write(fd, buf, sizeof buf);
		if (n >= 0) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
			continue;
		}
		int e = errno;
		if (e == EINTR)
			continue;
		if (e != EPIPE && e != ECONNRESET)
			return fail(c, "write failed with %s, expected EPIPE", strerror(e));
		if (e == ECONNRESET) /* the reset itself; the next write is EPIPE */
			continue;
		if (nosig || ignored) {
			if (pipes != 0)
				return fail(c, "%d SIGPIPE raised, expected none", (int)pipes);
		} else if (pipes < 1) {
			return fail(c, "EPIPE without SIGPIPE after %d writes", i + 1);
		}
		printf("%s ok: EPIPE after %d writes, %d SIGPIPE\n", c, i + 1, (int)pipes);
		return 0;
	}
	return fail(c, "500 writes to a closed peer never failed");
}

/* A thread blocked in read is woken by shutdown(SHUT_RDWR) from another
 * thread (how threaded programs stop a reader): read returns 0 at once. */
static int blocked_fd;
/* Atomics, not volatile: the main thread polls what the reader writes. */
static _Atomic long woke_ms;
static _Atomic ssize_t woke_ret;

static void *blocked_reader(void *arg)
{
	(void)arg;
	char buf[64];
	woke_ret = read(blocked_fd, buf, sizeof buf);
	woke_ms = now_ms();
	return NULL;
}

static int case_shutdown_wakes(int fd, const char *c)
{
	pthread_t th;
	blocked_fd = fd;
	woke_ms = 0;
	pthread_create(&th, NULL, blocked_reader, NULL);
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	if (woke_ms)
		return fail(c, "%s", "read returned before the shutdown");
	long t = now_ms();
	if (shutdown(fd, SHUT_RDWR) < 0)
		return fail(c, "shutdown: %s", strerror(errno));
	for (int i = 0; i < 200 && !woke_ms; i++) {
		struct timespec step = { 0, 10 * 1000 * 1000 };
		nanosleep(&step, NULL);
	}
	if (!woke_ms)
		return fail(c, "%s", "the reader is still blocked 2 s after shutdown(SHUT_RDWR)");
	pthread_join(th, NULL);
	if (woke_ret != 0)
		return fail(c, "the woken read returned %zd, expected 0 (EOF)", (ssize_t)woke_ret);
	printf("%s ok: the blocked read returned 0 %ld ms after shutdown\n", c, (long)woke_ms - t);
	return 0;
}

/* close() from another thread does not interrupt a read in progress on
 * Linux: the read goes on with the open socket and returns the peer's
 * answer (1 s after the handshake). The program must not crash or hang. */
static int case_close_while_read(int fd, const char *c)
{
	pthread_t th;
	blocked_fd = fd;
	woke_ms = 0;
	long t = now_ms();
	pthread_create(&th, NULL, blocked_reader, NULL);
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	if (woke_ms)
		return fail(c, "%s", "read returned before the close");
	if (close(fd) < 0)
		return fail(c, "close: %s", strerror(errno));
	for (int i = 0; i < 300 && !woke_ms; i++) {
		struct timespec step = { 0, 10 * 1000 * 1000 };
		nanosleep(&step, NULL);
	}
	if (!woke_ms)
		return fail(c, "%s", "the reader is still blocked 3 s after the close (the answer came after 1 s)");
	pthread_join(th, NULL);
	if (woke_ret <= 0)
		return fail(c, "the read in progress returned %zd after the close, expected the answer",
		            (ssize_t)woke_ret);
	printf("%s ok: the read in progress returned %zd bytes %ld ms after it began\n", c,
	       (ssize_t)woke_ret, (long)woke_ms - t);
	return 0;
}

/* SO_SNDTIMEO of 300 ms on a blocking socket whose peer does not read:
 * once the buffers are full a write returns what it wrote (a short count)
 * or -1 with EAGAIN, after about 300 ms, never blocks for good. */
static int case_sndtimeo(int fd, const char *c)
{
	static char buf[1 << 20];
	struct timeval tv = { 0, 300 * 1000 };
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) {
		perror("setsockopt");
		return 1;
	}
	memset(buf, 's', sizeof buf);
	long total = 0;
	for (int i = 0; i < 200; i++) {
		long t = now_ms();
		ssize_t n = write(fd, buf, sizeof buf);
		int e = errno;
		long dt = now_ms() - t;
		if (n == (ssize_t)sizeof buf) {
			total += n;
			continue;
		}
		if (n < 0 && e != EAGAIN && e != EWOULDBLOCK)
			return fail(c, "write failed with %s after %ld bytes", strerror(e), total);
		if (dt < 200 || dt > 2000)
			return fail(c, "the write that filled the buffers returned after %ld ms, expected about 300", dt);
		printf("%s ok: after %ld bytes a write returned %zd (%s) after %ld ms\n", c, total, n,
		       n < 0 ? "EAGAIN" : "short count", dt);
		return 0;
	}
	return fail(c, "200 MiB written to a peer that reads nothing (%ld bytes)", total);
}

/* poll, select and epoll_wait are never restarted after a handler, even
 * with SA_RESTART (signal(7)): -1 with EINTR. */
static int case_wait_eintr(int fd, const char *c)
{
	handle(SIGALRM, on_alarm, SA_RESTART);
	alarm_in(300);
	long t = now_ms();
	int n;
	if (!strcmp(c, "poll-eintr")) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		n = poll(&p, 1, 3000);
	} else if (!strcmp(c, "select-eintr")) {
		fd_set r;
		FD_ZERO(&r);
		FD_SET(fd, &r);
		struct timeval tv = { 3, 0 };
		n = select(fd + 1, &r, NULL, NULL, &tv);
	} else {
		int ep = epoll_create1(0);
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		n = epoll_wait(ep, &ev, 1, 3000);
	}
	int e = errno;
	long dt = now_ms() - t;
	if (n != -1 || e != EINTR)
		return fail(c, "returned %d (%s) after %ld ms, expected -1 with EINTR after about 300 ms", n,
		            n < 0 ? strerror(e) : "no error", dt);
	if (dt > 2000)
		return fail(c, "EINTR after %ld ms, expected about 300", dt);
	printf("%s ok: EINTR after %ld ms despite SA_RESTART\n", c, dt);
	return 0;
}

/* The peer answers 1 s after the handshake and sends nothing else of the
 * program's: a wait for readability returns when the answer is there (not
 * earlier, for a record that carries no application data, such as a TLS 1.3
 * session ticket), and a blocking read then returns at once. */
static int case_wait_data(int fd, const char *c)
{
	long t = now_ms();
	int n;
	if (!strcmp(c, "pollwait")) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		n = poll(&p, 1, 3000);
	} else if (!strcmp(c, "selectwait")) {
		fd_set r;
		FD_ZERO(&r);
		FD_SET(fd, &r);
		struct timeval tv = { 3, 0 };
		n = select(fd + 1, &r, NULL, NULL, &tv);
	} else {
		int ep = epoll_create1(0);
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		n = epoll_wait(ep, &ev, 1, 3000);
	}
	long dt = now_ms() - t;
	if (n != 1)
		return fail(c, "returned %d after %ld ms, expected readable when the answer comes (1 s)", n, dt);
	if (dt < 800)
		return fail(c, "readable after %ld ms, before the peer sent any application data (1 s): "
		            "a record without application data (session ticket?) reported as readable", dt);
	char buf[64];
	long t2 = now_ms();
	ssize_t r = read(fd, buf, sizeof buf);
	if (r <= 0 || now_ms() - t2 > 200)
		return fail(c, "read after readiness: %zd after %ld ms", r, now_ms() - t2);
	printf("%s ok: readable after %ld ms, read returned %zd bytes at once\n", c, dt, r);
	return 0;
}

/* The program's own view of its socket: the flags it set, and each
 * blocking mode honoured as it changes (O_NONBLOCK after connect,
 * MSG_DONTWAIT on a blocking socket, back to blocking with a timeout). */
static int case_flags(int fd, const char *c)
{
	char buf[64];
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK))
		return fail(c, "a blocking socket reads as flags 0x%x after connect", fl);
	long t = now_ms();
	ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
	int e = errno;
	if (n != -1 || (e != EAGAIN && e != EWOULDBLOCK) || now_ms() - t > 100)
		return fail(c, "recv(MSG_DONTWAIT) on a silent peer: %zd (%s) after %ld ms, expected EAGAIN at once",
		            n, strerror(e), now_ms() - t);
	if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || !(fcntl(fd, F_GETFL) & O_NONBLOCK))
		return fail(c, "%s", "O_NONBLOCK did not stick");
	t = now_ms();
	n = read(fd, buf, sizeof buf);
	e = errno;
	if (n != -1 || (e != EAGAIN && e != EWOULDBLOCK) || now_ms() - t > 100)
		return fail(c, "non-blocking read on a silent peer: %zd (%s) after %ld ms, expected EAGAIN at once",
		            n, strerror(e), now_ms() - t);
	if (fcntl(fd, F_SETFL, fl) < 0 || (fcntl(fd, F_GETFL) & O_NONBLOCK))
		return fail(c, "%s", "clearing O_NONBLOCK did not stick");
	struct timeval tv = { 0, 200 * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	t = now_ms();
	n = read(fd, buf, sizeof buf);
	e = errno;
	long dt = now_ms() - t;
	if (n != -1 || (e != EAGAIN && e != EWOULDBLOCK) || dt < 150 || dt > 2000)
		return fail(c, "blocking read again, SO_RCVTIMEO 200 ms: %zd (%s) after %ld ms", n, strerror(e), dt);
	printf("%s ok: MSG_DONTWAIT, O_NONBLOCK on and off, SO_RCVTIMEO (%ld ms) all honoured\n", c, dt);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "exec-child") == 0) {
		int fd = atoi(argv[2]);
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
			printf("exec ok: descriptor %d is closed in the exec'd image\n", fd);
			return 0;
		}
		fprintf(stderr, "exec: descriptor %d (a wrapped TLS connection) is open after exec\n", fd);
		return 1;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: %s HOST PORT eintr|restart|rcvtimeo|sndtimeo|shutdown|closewhileread|flags|poll-eintr|select-eintr|epoll-eintr|pollwait|selectwait|epollwait|sigpipe|nosignal|ignored|exec\n",
		        argv[0]);
		return 2;
	}
	const char *c = argv[3];
	int fd = dial(argv[1], argv[2]);
	if (!strcmp(c, "eintr"))
		return case_eintr(fd, c);
	if (!strcmp(c, "restart"))
		return case_restart(fd, c);
	if (!strcmp(c, "rcvtimeo"))
		return case_rcvtimeo(fd, c);
	if (!strcmp(c, "flags"))
		return case_flags(fd, c);
	if (!strcmp(c, "sndtimeo"))
		return case_sndtimeo(fd, c);
	if (!strcmp(c, "shutdown"))
		return case_shutdown_wakes(fd, c);
	if (!strcmp(c, "closewhileread"))
		return case_close_while_read(fd, c);
	if (!strcmp(c, "pollwait") || !strcmp(c, "selectwait") || !strcmp(c, "epollwait"))
		return case_wait_data(fd, c);
	if (!strcmp(c, "poll-eintr") || !strcmp(c, "select-eintr") || !strcmp(c, "epoll-eintr"))
		return case_wait_eintr(fd, c);
	if (!strcmp(c, "sigpipe") || !strcmp(c, "nosignal") || !strcmp(c, "ignored"))
		return case_pipe(fd, c);
	if (!strcmp(c, "exec")) {
		char num[16];
		snprintf(num, sizeof num, "%d", fd);
		execl("/proc/self/exe", argv[0], "exec-child", num, (char *)NULL);
		perror("execl");
		return 1;
	}
	fprintf(stderr, "unknown case %s\n", c);
	return 2;
}
