/*
 * fdsprog - a plain program the descriptor tests run under LD_PRELOAD
 * (tests/integration/test_fds_*.sh). It knows nothing of TLS; each mode
 * does one thing to a socket a rule matches and prints what the calls
 * returned, one "name=value" per line:
 *
 *   send HOST PORT          connect, send "SECRET\n", close
 *   exit HOST PORT          connect, send "exit-data", exit() with it open
 *   fdopenexit HOST PORT    fdopen() the socket before connect, connect,
 *                           fprintf "stream-data\n" to the stream without
 *                           fflush, exit()
 *   forkexit HOST PORT      connect, fork; the parent exit()s at once, the
 *                           child (once the parent is gone) sends
 *                           "child-data" and exit()s
 *   forkconnect HOST PORT   socket, fork; the parent connects, tells the
 *                           child (a pipe) and waits for it; the child
 *                           (holding a dup made before) recv(MSG_DONTWAIT)s,
 *                           sends "SECRET\n" on its copy and on the dup,
 *                           read()s and write()s; then the parent sends
 *                           "parent\n" and closes
 *   serveexit PORT          accept one client on 127.0.0.1:PORT, send
 *                           "served", return from main with it open
 *   acceptconnect HOST PORT accept() on a fresh socket (EINVAL), then
 *                           connect it and send "SECRET\n"
 *   acceptlisten PORT       accept() on a fresh socket (EINVAL), then bind
 *                           it to 127.0.0.1:PORT, listen, accept one
 *                           client and send "SECRET\n"
 *   scmrights HOST PORT     connect, pass the socket to itself over a unix
 *                           socketpair (SCM_RIGHTS, recvmsg), close the
 *                           original, send "SECRET\n" on the new one
 *   scmmmsg HOST PORT       the same, received with recvmmsg
 *   scmclosed HOST PORT     the same, closing the original while the
 *                           message is in flight (the connection ends)
 *   pidfd HOST PORT         connect, pidfd_getfd() it from this process,
 *                           close the original, send "SECRET\n"
 *   inherit HOST PORT HOW   connect, let an exec'd child inherit it (HOW:
 *                           fionclex, setfd, dup2): the child runs
 *                           `sh -c 'echo SECRET >&N'`
 *   system HOST PORT HOW    remove LD_PRELOAD (HOW: unset) or the whole
 *                           environment (clear), then system() a child
 *                           that runs `fdsprog send HOST PORT`
 *   popen HOST PORT HOW     the same with popen()/pclose()
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progreport.h"

static const char *self;

static int connect_to(const char *host, const char *port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(port));
	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		perror("socket");
		exit(2);
	}
	REPORT("connect", connect(fd, (struct sockaddr *)&sa, sizeof sa));
	return fd;
}

static void loopback(struct sockaddr_in *sa, const char *port)
{
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)atoi(port));
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static int listen_on(const char *port)
{
	struct sockaddr_in sa;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	loopback(&sa, port);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0) {
		perror("listen");
		exit(2);
	}
	return fd;
}

static void send_secret(int fd)
{
	REPORT("send", send(fd, "SECRET\n", 7, MSG_NOSIGNAL));
}

static int mode_send(const char *host, const char *port)
{
	int fd = connect_to(host, port);

	send_secret(fd);
	close(fd);
	return 0;
}

static int mode_exit(const char *host, const char *port)
{
	int fd = connect_to(host, port);

	REPORT("send", send(fd, "exit-data", 9, 0));
	exit(0);
}

static int mode_fdopenexit(const char *host, const char *port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	FILE *fp = fd < 0 ? NULL : fdopen(fd, "w");

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(port));
	if (fp == NULL || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		perror("socket");
		exit(2);
	}
	REPORT("connect", connect(fd, (struct sockaddr *)&sa, sizeof sa));
	REPORT("fprintf", fprintf(fp, "stream-data\n"));
	exit(0); /* the line is still in the stream's buffer */
}

static int mode_forkexit(const char *host, const char *port)
{
	int fd = connect_to(host, port);
	pid_t parent = getpid();
	int i;

	if (fork() != 0)
		exit(0); /* did no I/O since the fork: must send nothing */
	for (i = 0; i < 1000 && getppid() == parent; i++)
		usleep(10000);
	REPORT("child_send", send(fd, "child-data", 10, 0));
	exit(0);
}

static int mode_forkconnect(const char *host, const char *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), go[2], done[2], st, d;
	struct sockaddr_in sa;
	char buf[64], b = 0;
	pid_t pid;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(port));
	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 || pipe(go) < 0 ||
	    pipe(done) < 0) {
		perror("setup");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN); /* a plain peer may be gone by a write */
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		close(go[1]);
		close(done[0]);
		d = dup(fd); /* before the other process connects */
		if (read(go[0], &b, 1) != 1)
			_exit(3);
		REPORT("child_recv", recv(fd, buf, sizeof buf, MSG_DONTWAIT));
		REPORT("child_send", send(fd, "SECRET\n", 7, 0));
		REPORT("child_dup_send", send(d, "SECRET\n", 7, 0));
		REPORT("child_read", read(fd, buf, sizeof buf));
		REPORT("child_write", write(fd, "SECRET\n", 7));
		if (write(done[1], &b, 1) != 1)
			_exit(3);
		_exit(0);
	}
	close(go[0]);
	close(done[1]);
	REPORT("connect", connect(fd, (struct sockaddr *)&sa, sizeof sa));
	if (write(go[1], &b, 1) != 1 || read(done[0], &b, 1) != 1)
		return 3;
	REPORT("parent_send", send(fd, "parent\n", 7, 0));
	close(fd);
	waitpid(pid, &st, 0);
	REPORT("child_exit", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

static int mode_serveexit(const char *port)
{
	int l = listen_on(port), c;

	printf("listening\n");
	fflush(stdout);
	c = accept(l, NULL, NULL);
	REPORT("send", send(c, "served", 6, 0));
	return 0;
}

static int mode_acceptconnect(const char *host, const char *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa;

	REPORT("accept", accept(fd, NULL, NULL));
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(port));
	inet_pton(AF_INET, host, &sa.sin_addr);
	REPORT("connect", connect(fd, (struct sockaddr *)&sa, sizeof sa));
	send_secret(fd);
	close(fd);
	return 0;
}

static int mode_acceptlisten(const char *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), c, one = 1;
	struct sockaddr_in sa;
	char buf[64];

	REPORT("accept", accept(fd, NULL, NULL));
	loopback(&sa, port);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	REPORT("bind", bind(fd, (struct sockaddr *)&sa, sizeof sa));
	REPORT("listen", listen(fd, 4));
	c = accept(fd, NULL, NULL);
	report("accepted", c < 0 ? -1 : 0, errno);
	if (c >= 0) {
		send_secret(c);
		REPORT("read", read(c, buf, sizeof buf));
		close(c);
	}
	return 0;
}

/* Passes fd to this process over a unix socketpair; the received number. */
static int pass_fd(int fd, int use_mmsg, int close_first)
{
	int sv[2], got = -1;
	char byte = 'x', rbyte;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u, ru;
	struct iovec iov = {&byte, 1}, riov = {&rbyte, 1};
	struct msghdr m, rm;
	struct cmsghdr *cm;
	long r;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		perror("socketpair");
		exit(2);
	}
	memset(&m, 0, sizeof m);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof u.buf;
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	REPORT("sendmsg", sendmsg(sv[0], &m, 0));
	if (close_first)
		REPORT("close_orig", close(fd));
	memset(&rm, 0, sizeof rm);
	rm.msg_iov = &riov;
	rm.msg_iovlen = 1;
	rm.msg_control = ru.buf;
	rm.msg_controllen = sizeof ru.buf;
	if (use_mmsg) {
		struct mmsghdr mm;

		memset(&mm, 0, sizeof mm);
		mm.msg_hdr = rm;
		r = recvmmsg(sv[1], &mm, 1, 0, NULL);
		report("recvmmsg", r, errno);
		rm = mm.msg_hdr;
	} else {
		r = recvmsg(sv[1], &rm, 0);
		report("recvmsg", r, errno);
	}
	for (cm = CMSG_FIRSTHDR(&rm); r > 0 && cm != NULL; cm = CMSG_NXTHDR(&rm, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&got, CMSG_DATA(cm), sizeof got);
	close(sv[0]);
	close(sv[1]);
	return got;
}

static int mode_scmrights(const char *host, const char *port, int use_mmsg, int close_first)
{
	int fd = connect_to(host, port);
	int nfd = pass_fd(fd, use_mmsg, close_first);

	report("received", nfd < 0 ? -1 : 0, EBADMSG);
	if (nfd < 0)
		return 1;
	if (!close_first)
		REPORT("close_orig", close(fd));
	send_secret(nfd);
	close(nfd);
	return 0;
}

static int mode_pidfd(const char *host, const char *port)
{
	int fd = connect_to(host, port);
	int pfd = pidfd_open(getpid(), 0);
	int nfd;

	if (pfd < 0) {
		perror("pidfd_open");
		return 2;
	}
	nfd = pidfd_getfd(pfd, fd, 0);
	report("pidfd_getfd", nfd < 0 ? -1 : 0, errno);
	if (nfd < 0)
		return 1;
	REPORT("close_orig", close(fd));
	send_secret(nfd);
	close(nfd);
	return 0;
}

static int mode_inherit(const char *host, const char *port, const char *how)
{
	int fd = connect_to(host, port), target = fd, one = 0, status = 0;
	char cmd[64];
	pid_t pid;

	if (strcmp(how, "fionclex") == 0) {
		REPORT("fionclex", ioctl(fd, FIONCLEX, &one));
	} else if (strcmp(how, "setfd") == 0) {
		REPORT("setfd", fcntl(fd, F_SETFD, 0));
	} else {
		target = 1;
	}
	REPORT("cloexec", fcntl(fd, F_GETFD) & FD_CLOEXEC);
	pid = fork();
	if (pid == 0) {
		if (target != fd)
			dup2(fd, target);
		snprintf(cmd, sizeof cmd, "echo SECRET >&%d", target);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	report("child_exit", WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
	close(fd);
	return 0;
}

static void strip_env(const char *how)
{
	if (strcmp(how, "clear") == 0)
		clearenv();
	else
		unsetenv("LD_PRELOAD");
}

static int mode_system(const char *host, const char *port, const char *how)
{
	char cmd[4096];
	int st;

	snprintf(cmd, sizeof cmd, "'%s' send %s %s", self, host, port);
	strip_env(how);
	st = system(cmd);
	report("system_exit", WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
	return 0;
}

static int mode_popen(const char *host, const char *port, const char *how)
{
	char cmd[4096], line[256];
	FILE *f;
	int st;

	snprintf(cmd, sizeof cmd, "'%s' send %s %s", self, host, port);
	strip_env(how);
	f = popen(cmd, "r");
	if (f == NULL) {
		report("popen", -1, errno);
		return 1;
	}
	while (fgets(line, sizeof line, f) != NULL)
		printf("child: %s", line);
	st = pclose(f);
	report("pclose_exit", WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";

	self = argv[0];
	if (argc == 4 && strcmp(m, "send") == 0)
		return mode_send(argv[2], argv[3]);
	if (argc == 4 && strcmp(m, "exit") == 0)
		return mode_exit(argv[2], argv[3]);
	if (argc == 4 && strcmp(m, "fdopenexit") == 0)
		return mode_fdopenexit(argv[2], argv[3]);
	if (argc == 4 && strcmp(m, "forkexit") == 0)
		return mode_forkexit(argv[2], argv[3]);
	if (argc == 4 && strcmp(m, "forkconnect") == 0)
		return mode_forkconnect(argv[2], argv[3]);
	if (argc == 3 && strcmp(m, "serveexit") == 0)
		return mode_serveexit(argv[2]);
	if (argc == 4 && strcmp(m, "acceptconnect") == 0)
		return mode_acceptconnect(argv[2], argv[3]);
	if (argc == 3 && strcmp(m, "acceptlisten") == 0)
		return mode_acceptlisten(argv[2]);
	if (argc == 4 && strcmp(m, "scmrights") == 0)
		return mode_scmrights(argv[2], argv[3], 0, 0);
	if (argc == 4 && strcmp(m, "scmclosed") == 0)
		return mode_scmrights(argv[2], argv[3], 0, 1);
	if (argc == 4 && strcmp(m, "scmmmsg") == 0)
		return mode_scmrights(argv[2], argv[3], 1, 0);
	if (argc == 4 && strcmp(m, "pidfd") == 0)
		return mode_pidfd(argv[2], argv[3]);
	if (argc == 5 && strcmp(m, "inherit") == 0)
		return mode_inherit(argv[2], argv[3], argv[4]);
	if (argc == 5 && strcmp(m, "system") == 0)
		return mode_system(argv[2], argv[3], argv[4]);
	if (argc == 5 && strcmp(m, "popen") == 0)
		return mode_popen(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: fdsprog MODE ARGS (see the source)\n");
	return 2;
}
