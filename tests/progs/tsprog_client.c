/*
 * tsprog_client - a plain socket client the preload tests run under
 * LD_PRELOAD. It knows nothing of TLS; each mode exercises one path of the
 * interposer and prints what the calls returned, one "name=value" per line:
 *
 *   leak HOST PORT      connect, then write "SECRET" anyway (twice), read
 *   nbleak HOST PORT    the same with a non-blocking connect and poll
 *   dup HOST PORT       write on fd, dup, close fd, write and read on the dup
 *   fdopen HOST PORT    fprintf/fgets on a FILE from fdopen, then fclose
 *   readall HOST PORT   write "ping\n", read until EOF or an error
 *   peek HOST PORT      recv(MSG_PEEK), ioctl(FIONREAD), recv, send(MSG_OOB)
 *   timeout HOST PORT   SO_RCVTIMEO 300 ms on a silent peer: EAGAIN
 *   sigpipe HOST PORT   writes after the peer closed: EPIPE and SIGPIPE,
 *                       none with MSG_NOSIGNAL
 *   sendfile HOST PORT FILE   sendfile the file, half-close, print reply
 *   ghbn NAME PORT      gethostbyname(NAME), connect to its first
 *                       address, write "ping\n", print the reply
 *   gai PORT NAME...    getaddrinfo each NAME in turn (IPv4), connect to
 *                       the first NAME's address, then as ghbn
 *   gaiother PORT NAME OTHER...  getaddrinfo NAME, then another thread
 *                       looks up each OTHER (joined), then as gai with NAME
 *   gaithreads PORT NAME...  one thread per NAME: each looks NAME up; once
 *                       all have, each connects to its answer, writes
 *                       "ping\n" and reads; printed per NAME, in order
 *   spawndup HOST PORT  posix_spawn /bin/echo with the connection as its
 *                       stdout (a dup2 file action)
 *   forkdup HOST PORT   fork; the child dup2s the connection onto stdout
 *                       and execs /bin/echo (the inetd pattern)
 *   forkclose HOST PORT fork; the child closes the connection and exits;
 *                       then the parent writes "after-fork" and closes
 *   _forkclose HOST PORT  the same with _Fork (no atfork handlers)
 *   exec PATH           execv(PATH), report the errno
 *   spawn PATH          posix_spawn(PATH), report the result
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progreport.h"

extern char **environ;

static int open_socket(const char *host, const char *port, struct addrinfo **out)
{
	struct addrinfo hints, *res;
	int fd, r;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0) {
		fprintf(stderr, "getaddrinfo: %s\n", gai_strerror(r));
		exit(2);
	}
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("socket");
		exit(2);
	}
	*out = res;
	return fd;
}

static int connect_to(const char *host, const char *port)
{
	struct addrinfo *res;
	int fd = open_socket(host, port, &res);
	int r = connect(fd, res->ai_addr, res->ai_addrlen);

	report("connect", r, errno);
	freeaddrinfo(res);
	return fd;
}

static void write_secret(int fd, const char *label)
{
	ssize_t w = send(fd, "SECRET\n", 7, MSG_NOSIGNAL);

	report(label, (long)w, errno);
}

static int mode_leak(const char *host, const char *port)
{
	char buf[64];
	int fd = connect_to(host, port);
	ssize_t r;

	write_secret(fd, "write1");
	r = read(fd, buf, sizeof buf);
	report("read", (long)r, errno);
	write_secret(fd, "write2");
	close(fd);
	return 0;
}

static int mode_nbleak(const char *host, const char *port)
{
	struct addrinfo *res;
	struct pollfd p;
	char buf[64];
	int fd = open_socket(host, port, &res), r, i;
	ssize_t n;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	r = connect(fd, res->ai_addr, res->ai_addrlen);
	report("connect", r, errno);
	freeaddrinfo(res);
	/* a careless event loop: write as soon as poll says writable */
	for (i = 0; i < 50; i++) {
		p.fd = fd;
		p.events = POLLOUT;
		p.revents = 0;
		r = poll(&p, 1, 2000);
		n = send(fd, "SECRET\n", 7, MSG_NOSIGNAL);
		if (n >= 0 || errno != EAGAIN)
			break;
	}
	report("write1", (long)n, errno);
	n = read(fd, buf, sizeof buf);
	report("read", (long)n, errno);
	write_secret(fd, "write2");
	close(fd);
	return 0;
}

static int mode_dup(const char *host, const char *port)
{
	char buf[256];
	int fd = connect_to(host, port), d;
	ssize_t n, got = 0;

	REPORT("write_fd", write(fd, "first\n", 6));
	d = dup(fd);
	report("dup", d, errno);
	REPORT("close_fd", close(fd));
	REPORT("write_dup", write(d, "second\n", 7));
	shutdown(d, SHUT_WR);
	while ((n = read(d, buf + got, sizeof buf - 1 - (size_t)got)) > 0)
		got += n;
	report("read_dup", (long)n, errno);
	buf[got] = '\0';
	printf("reply=%s", buf);
	REPORT("close_dup", close(d));
	return 0;
}

static int mode_fdopen(const char *host, const char *port)
{
	char line[256];
	int fd = connect_to(host, port);
	FILE *f = fdopen(fd, "r+");

	if (f == NULL) {
		report("fdopen", -1, errno);
		return 1;
	}
	fprintf(f, "hello %s\n", "stdio");
	fflush(f);
	if (fgets(line, sizeof line, f) != NULL)
		printf("line=%s", line);
	else
		printf("line=NULL\n");
	REPORT("fclose", fclose(f));
	return 0;
}

static int mode_readall(const char *host, const char *port)
{
	char buf[4096];
	int fd = connect_to(host, port);
	ssize_t n, total = 0;

	REPORT("write", write(fd, "ping\n", 5));
	while ((n = read(fd, buf, sizeof buf)) > 0)
		total += n;
	printf("total=%ld\n", (long)total);
	report("last_read", (long)n, errno);
	close(fd);
	return 0;
}

static int mode_peek(const char *host, const char *port)
{
	char buf[64];
	int fd = connect_to(host, port), avail = -1;
	ssize_t n;

	REPORT("write", write(fd, "ping\n", 5));
	n = recv(fd, buf, 4, MSG_PEEK);
	report("peek", (long)n, errno);
	if (n > 0)
		printf("peeked=%.*s\n", (int)n, buf);
	REPORT("fionread", ioctl(fd, FIONREAD, &avail));
	printf("avail_positive=%d\n", avail > 0);
	n = recv(fd, buf, sizeof buf - 1, 0);
	report("recv", (long)n, errno);
	if (n > 0)
		printf("got=%.*s", (int)n, buf);
	/* urgent data would bypass TLS: refused */
	REPORT("send_oob", send(fd, "!", 1, MSG_OOB));
	close(fd);
	return 0;
}

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int mode_timeout(const char *host, const char *port)
{
	struct timeval tv = {0, 300000};
	char buf[16];
	int fd = connect_to(host, port);
	long long t0;
	ssize_t n;

	REPORT("setsockopt", setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	REPORT("write", write(fd, "ping\n", 5));
	t0 = ms_now();
	n = read(fd, buf, sizeof buf);
	report("read", (long)n, errno);
	t0 = ms_now() - t0;
	printf("waited_about_300ms=%d\n", t0 >= 250 && t0 < 2000);
	close(fd);
	return 0;
}

static volatile sig_atomic_t pipes;

static void on_pipe(int sig)
{
	(void)sig;
	pipes++;
}

static int mode_sigpipe(const char *host, const char *port)
{
	char buf[64];
	int fd = connect_to(host, port), i;
	ssize_t n = 0;

	signal(SIGPIPE, on_pipe);
	REPORT("write", write(fd, "bye\n", 4));
	while (read(fd, buf, sizeof buf) > 0)
		;
	/* the peer has closed: keep writing until the kernel says EPIPE */
	for (i = 0; i < 100; i++) {
		n = write(fd, "more\n", 5);
		if (n < 0)
			break;
		usleep(10000);
	}
	report("write_after_close", (long)n, errno);
	printf("sigpipe_seen=%d\n", pipes > 0);
	pipes = 0;
	n = send(fd, "more\n", 5, MSG_NOSIGNAL);
	report("send_nosignal", (long)n, errno);
	printf("sigpipe_seen=%d\n", pipes > 0);
	close(fd);
	return 0;
}

static int mode_sendfile(const char *host, const char *port, const char *file)
{
	char buf[256];
	struct stat st;
	int fd = connect_to(host, port), in = open(file, O_RDONLY);
	off_t off = 0;
	ssize_t n, got = 0;

	fstat(in, &st);
	while (off < st.st_size) {
		n = sendfile(fd, in, &off, (size_t)(st.st_size - off));
		if (n <= 0) {
			report("sendfile", (long)n, errno);
			return 1;
		}
	}
	printf("sent=%ld\n", (long)off);
	shutdown(fd, SHUT_WR);
	while ((n = read(fd, buf + got, sizeof buf - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = '\0';
	printf("reply=%s", buf);
	close(fd);
	return 0;
}

static int mode_ghbn(const char *name, const char *port)
{
	struct hostent *h = gethostbyname(name);
	struct sockaddr_in sa;
	char buf[64];
	int fd, r;
	ssize_t n;

	if (h == NULL || h->h_addrtype != AF_INET) {
		printf("gethostbyname=NULL\n");
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(port));
	memcpy(&sa.sin_addr, h->h_addr_list[0], 4);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	report("connect", r, errno);
	REPORT("write", write(fd, "ping\n", 5));
	n = read(fd, buf, sizeof buf - 1);
	report("read", (long)n, errno);
	if (n > 0)
		printf("got=%.*s", (int)n, buf);
	close(fd);
	return 0;
}

static int mode_spawndup(const char *host, const char *port)
{
	char echo[] = "/bin/echo", text[] = "PLAINTEXT-FROM-CHILD";
	char *argv[] = {echo, text, NULL};
	posix_spawn_file_actions_t fa;
	int fd = connect_to(host, port), r, st;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	r = posix_spawn(&pid, echo, &fa, NULL, argv, environ);
	printf("posix_spawn=%s\n", r ? ename(r) : "0");
	if (r == 0)
		waitpid(pid, &st, 0);
	posix_spawn_file_actions_destroy(&fa);
	REPORT("write", write(fd, "parent\n", 7));
	close(fd);
	return 0;
}

static int mode_forkdup(const char *host, const char *port)
{
	int fd = connect_to(host, port), st;
	pid_t pid = fork();

	if (pid == 0) {
		dup2(fd, 1);
		execl("/bin/echo", "echo", "PLAINTEXT-FROM-CHILD", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	printf("child_exit=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	REPORT("write", write(fd, "parent\n", 7));
	close(fd);
	return 0;
}

static int mode_forkclose(const char *host, const char *port, int raw)
{
	int fd = connect_to(host, port), st;
	pid_t pid = raw ? _Fork() : fork();

	if (pid == 0) {
		close(fd); /* not the owner: must not end the parent's session */
		_exit(0);
	}
	waitpid(pid, &st, 0);
	REPORT("write", write(fd, "after-fork", 10));
	REPORT("close", close(fd));
	return 0;
}

static int mode_exec(char *path)
{
	char *argv[] = {path, NULL};

	execv(path, argv);
	report("execv", -1, errno);
	execl(path, path, (char *)NULL);
	report("execl", -1, errno);
	return 0;
}

static int mode_spawn(char *path)
{
	char *argv[] = {path, NULL};
	pid_t pid;
	int r = posix_spawn(&pid, path, NULL, NULL, argv, environ), st;

	printf("posix_spawn=%s\n", r ? ename(r) : "0");
	if (r == 0)
		waitpid(pid, &st, 0);
	return 0;
}

/* getaddrinfo(name) for IPv4 stream sockets; NULL (and a line) on failure. */
static struct addrinfo *lookup4(const char *name, const char *port)
{
	struct addrinfo hints, *res;
	int r;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(name, port, &hints, &res);
	if (r != 0) {
		printf("getaddrinfo %s: %s\n", name, gai_strerror(r));
		return NULL;
	}
	return res;
}

/* connect to ai, write "ping\n", read once; the results as report()'s
 * lines, each prefixed, into out. */
static void ping_at(const struct addrinfo *ai, const char *prefix, char *out, size_t cap)
{
	char buf[64];
	size_t used = 0;
	ssize_t got;
	int fd, r, e;

#define LINE(what, rv, ev)                                                                  \
	do {                                                                                \
		if ((rv) < 0)                                                               \
			used += (size_t)snprintf(out + used, cap - used, "%s%s=-1 errno=%s\n",  \
			                         prefix, what, ename(ev));                  \
		else                                                                        \
			used += (size_t)snprintf(out + used, cap - used, "%s%s=%ld\n", prefix,  \
			                         what, (long)(rv));                         \
	} while (0)
	out[0] = '\0';
	fd = socket(AF_INET, SOCK_STREAM, 0);
	r = connect(fd, ai->ai_addr, ai->ai_addrlen);
	e = errno;
	LINE("connect", r, e);
	got = write(fd, "ping\n", 5);
	e = errno;
	LINE("write", got, e);
	got = read(fd, buf, sizeof buf - 1);
	e = errno;
	LINE("read", got, e);
#undef LINE
	if (got > 0 && used < cap)
		snprintf(out + used, cap - used, "%sgot=%.*s", prefix, (int)got, buf);
	close(fd);
}

static int mode_gai(const char *port, int n, char **names)
{
	struct addrinfo *res, *first = NULL;
	char out[512];
	int i;

	for (i = 0; i < n; i++) {
		if ((res = lookup4(names[i], port)) == NULL)
			return 1;
		if (first == NULL)
			first = res;
		else
			freeaddrinfo(res);
	}
	ping_at(first, "", out, sizeof out);
	fputs(out, stdout);
	freeaddrinfo(first);
	return 0;
}

struct lookups {
	const char *port;
	int n;
	char **names;
};

static void *lookup_thread(void *arg)
{
	const struct lookups *l = arg;
	struct addrinfo *res;
	int i;

	for (i = 0; i < l->n; i++)
		if ((res = lookup4(l->names[i], l->port)) != NULL)
			freeaddrinfo(res);
	return NULL;
}

static int mode_gaiother(const char *port, const char *name, int n, char **others)
{
	struct lookups l = {port, n, others};
	struct addrinfo *own = lookup4(name, port);
	pthread_t t;
	char out[512];

	if (own == NULL)
		return 1;
	if (pthread_create(&t, NULL, lookup_thread, &l) != 0)
		return 1;
	pthread_join(t, NULL);
	ping_at(own, "", out, sizeof out);
	fputs(out, stdout);
	freeaddrinfo(own);
	return 0;
}

static pthread_barrier_t resolved;
/* One lookup at a time: nss_wrapper, which the tests resolve through, is
 * not safe for concurrent lookups (one in seven runs answered "Name or
 * service not known"). The threads still each resolve their own name. */
static pthread_mutex_t lookup_lock = PTHREAD_MUTEX_INITIALIZER;

struct pinger {
	const char *port, *name;
	char out[512];
	pthread_t t;
};

static void *pinger_thread(void *arg)
{
	struct pinger *p = arg;
	struct addrinfo *res;
	char prefix[300];

	pthread_mutex_lock(&lookup_lock);
	res = lookup4(p->name, p->port);
	pthread_mutex_unlock(&lookup_lock);

	pthread_barrier_wait(&resolved);
	if (res == NULL)
		return NULL;
	snprintf(prefix, sizeof prefix, "%s ", p->name);
	ping_at(res, prefix, p->out, sizeof p->out);
	freeaddrinfo(res);
	return NULL;
}

static int mode_gaithreads(const char *port, int n, char **names)
{
	struct pinger *p = calloc((size_t)n, sizeof *p);
	int i;

	if (p == NULL || pthread_barrier_init(&resolved, NULL, (unsigned)n) != 0)
		return 1;
	for (i = 0; i < n; i++) {
		p[i].port = port;
		p[i].name = names[i];
		if (pthread_create(&p[i].t, NULL, pinger_thread, &p[i]) != 0)
			return 1;
	}
	for (i = 0; i < n; i++) {
		pthread_join(p[i].t, NULL);
		fputs(p[i].out, stdout);
	}
	free(p);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 4 && strcmp(argv[1], "gai") == 0)
		return mode_gai(argv[2], argc - 3, argv + 3);
	if (argc >= 5 && strcmp(argv[1], "gaiother") == 0)
		return mode_gaiother(argv[2], argv[3], argc - 4, argv + 4);
	if (argc >= 4 && strcmp(argv[1], "gaithreads") == 0)
		return mode_gaithreads(argv[2], argc - 3, argv + 3);
	if (argc == 4 && strcmp(argv[1], "leak") == 0)
		return mode_leak(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "nbleak") == 0)
		return mode_nbleak(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "dup") == 0)
		return mode_dup(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "fdopen") == 0)
		return mode_fdopen(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "readall") == 0)
		return mode_readall(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "peek") == 0)
		return mode_peek(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "timeout") == 0)
		return mode_timeout(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "sigpipe") == 0)
		return mode_sigpipe(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "sendfile") == 0)
		return mode_sendfile(argv[2], argv[3], argv[4]);
	if (argc == 4 && strcmp(argv[1], "spawndup") == 0)
		return mode_spawndup(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "forkdup") == 0)
		return mode_forkdup(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "forkclose") == 0)
		return mode_forkclose(argv[2], argv[3], 0);
	if (argc == 4 && strcmp(argv[1], "_forkclose") == 0)
		return mode_forkclose(argv[2], argv[3], 1);
	if (argc == 4 && strcmp(argv[1], "ghbn") == 0)
		return mode_ghbn(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "exec") == 0)
		return mode_exec(argv[2]);
	if (argc == 3 && strcmp(argv[1], "spawn") == 0)
		return mode_spawn(argv[2]);
	fprintf(stderr, "usage: tsprog_client leak|nbleak|dup|fdopen|readall|peek|timeout|sigpipe|ghbn|spawndup|forkdup|forkclose|_forkclose"
	                " HOST PORT |"
	                " sendfile HOST PORT FILE | exec|spawn PATH\n");
	return 2;
}
