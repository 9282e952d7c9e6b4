/*
 * bpprog_call HOST PORT SYMBOL TREATMENT REPORT: one connection to
 * HOST:PORT (a test wraps it with a connect rule; the peer is `openssl
 * s_server -rev`, which answers each line reversed), then one call of the
 * glibc export SYMBOL on the wrapped socket, looked up with
 * dlsym(RTLD_DEFAULT) as the program's own reference would bind (to
 * tlsshim's hook when it exports one). The verdict, one line, is appended
 * to REPORT with a raw write (stdout and stderr may be the socket):
 *
 *   PASS SYMBOL what-happened    or    FAIL SYMBOL why
 *
 * What is checked, by TREATMENT (tests/bytepaths/glibc-bytepaths.txt):
 *   hooked       the bytes went through TLS: a write path's line comes back
 *                reversed from the peer; a read path returns the peer's
 *                reversed line as plaintext (never TLS records)
 *   refused      -1 with errno EOPNOTSUPP; the connection still works
 *   kernel:ERR   -1 with errno ERR (the kernel refuses it on any socket);
 *                the connection still works
 *   stream       the std streams and what writes through them: printf on
 *                a wrapped stdout goes through TLS; glibc's original FILE
 *                object fails (EBADF)
 * The line written carries a marker (tlsshim-bp-SYMBOL-PID) that the test
 * looks for in the relay's recording of the wire.
 *
 * A few SYMBOLs are scenarios (issue 10, item 7), not exports:
 *   case:fdopen-before-connect  fdopen on the socket before connect
 *   case:std-closed             0-2 closed, the socket takes number 1
 *   case:dup-before-connect     dup of the socket before connect wraps it
 *   case:io_uring-warn          io_uring_setup through syscall()
 *   case:syscall-more           connect, sendto, recvfrom, dup, pidfd_getfd,
 *                               pwritev2, preadv2 through syscall()
 *   case:stdout-at-exit         printf on a bound stdout, exit without fflush
 */
#include <aio.h>
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int report_fd = -1;
static const char *sym;
static char mark[128];   /* the line a write path sends */
static char expect[128]; /* the peer's answer: mark reversed, then \n */
static struct sockaddr_in peer;

static void verdict(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void verdict(int ok, const char *fmt, ...)
{
	char line[512];
	int n;
	va_list ap;

	n = snprintf(line, sizeof line, "%s %s ", ok ? "PASS" : "FAIL", sym);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	if (write(report_fd, line, (size_t)n) < 0)
		_exit(3);
	_exit(ok ? 0 : 1);
}

static void *need(const char *name)
{
	void *p = dlsym(RTLD_DEFAULT, name);

	if (p == NULL)
		verdict(0, "dlsym(%s) found nothing", name);
	return p;
}

static int connect_to(int fd)
{
	return connect(fd, (struct sockaddr *)&peer, sizeof peer);
}

static int new_conn(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect_to(fd) < 0)
		verdict(0, "connect: %s", strerror(errno));
	return fd;
}

/* Reads one line with the plain read() hook. */
static void read_line(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	while (len < cap - 1) {
		ssize_t r = read(fd, buf + len, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len++;
		if (buf[len - 1] == '\n')
			break;
	}
	buf[len] = '\0';
}

/* The peer's answer to what a write path sent, read with read(). */
static void check_answer(int fd, const char *how)
{
	char got[256];

	read_line(fd, got, sizeof got);
	if (strcmp(got, expect) != 0)
		verdict(0, "%s: the peer answered [%.60s], expected [%s]", how, got, expect);
	verdict(1, "%s: the peer decrypted the line and answered it", how);
}

/* A read path: asks the peer with write(), then reads with `rd`, which must
 * give the plaintext answer. */
static void ask(int fd)
{
	if (write(fd, mark, strlen(mark)) != (ssize_t)strlen(mark))
		verdict(0, "write of the question: %s", strerror(errno));
}

static void check_read(const char *got, ssize_t r, const char *how)
{
	size_t n = strlen(expect);

	if (r < 0)
		verdict(0, "%s: -1 %s", how, strerrorname_np(errno));
	if ((size_t)r < 1 || (unsigned char)got[0] == 0x17 || (unsigned char)got[0] == 0x16)
		verdict(0, "%s: %zd bytes starting 0x%02x: TLS records, not plaintext", how, r,
		        r > 0 ? (unsigned char)got[0] : 0);
	if ((size_t)r > n || memcmp(got, expect, (size_t)r) != 0)
		verdict(0, "%s: %zd bytes that are not the answer", how, r);
	verdict(1, "%s: %zd bytes of plaintext answer", how, r);
}

/* After a refusal: the call returned -1 with `want`, and the connection
 * still carries a line both ways. */
static void check_refused(int fd, long r, int want, const char *how)
{
	int e = errno;
	char got[256];

	if (r != -1 || e != want)
		verdict(0, "%s: returned %ld errno %s, expected -1 %s", how, r,
		        strerrorname_np(e), strerrorname_np(want));
	/* The connection is intact: a line still goes through TLS. */
	if (write(fd, mark, strlen(mark)) != (ssize_t)strlen(mark))
		verdict(0, "%s: then write: %s", how, strerror(errno));
	read_line(fd, got, sizeof got);
	if (strcmp(got, expect) != 0)
		verdict(0, "%s: refused, but then the peer answered [%.60s]", how, got);
	verdict(1, "%s: -1 %s, nothing sent, the connection intact", how, strerrorname_np(want));
}

typedef ssize_t (*rw_fn)(int, void *, size_t);
typedef ssize_t (*rwchk_fn)(int, void *, size_t, size_t);
typedef ssize_t (*sr_fn)(int, void *, size_t, int);
typedef ssize_t (*srchk_fn)(int, void *, size_t, size_t, int);
typedef ssize_t (*p_fn)(int, void *, size_t, off_t);
typedef ssize_t (*pchk_fn)(int, void *, size_t, off_t, size_t);
typedef ssize_t (*v_fn)(int, const struct iovec *, int);
typedef ssize_t (*pv_fn)(int, const struct iovec *, int, off_t);
typedef ssize_t (*pv2_fn)(int, const struct iovec *, int, off_t, int);
typedef ssize_t (*msg_fn)(int, struct msghdr *, int);
typedef int (*mmsg_fn)(int, struct mmsghdr *, unsigned, int, ...);
typedef int (*dp_fn)(int, const char *, ...);
typedef int (*dpchk_fn)(int, int, const char *, ...);
typedef int (*aio_fn)(struct aiocb *);
typedef int (*lio_fn)(int, struct aiocb *const[], int, struct sigevent *);
typedef long (*sys_fn)(long, ...);
typedef void (*bt_fn)(void *const *, int, int);
typedef FILE *(*fdopen_fn)(int, const char *);
typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*fcntl_fn)(int, int, ...);
typedef ssize_t (*sendfile_fn)(int, int, off_t *, size_t);
typedef ssize_t (*splice_fn)(int, loff_t *, int, loff_t *, size_t, unsigned);

static int is(const char *a)
{
	return strcmp(sym, a) == 0;
}

static int in(const char *list)
{
	size_t n = strlen(sym);
	const char *p = list;

	while ((p = strstr(p, sym)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/* A file holding mark, for the paths that copy from a descriptor. */
static int mark_file(void)
{
	char path[] = "/tmp/bpprog.XXXXXX";
	int f = mkstemp(path);

	if (f < 0 || write(f, mark, strlen(mark)) < 0)
		verdict(0, "mkstemp: %s", strerror(errno));
	unlink(path);
	lseek(f, 0, SEEK_SET);
	return f;
}

static void kernel_refusal(int fd, int want)
{
	char buf[256];
	struct iovec iov = { buf, sizeof buf };
	struct iovec wiov = { mark, strlen(mark) };
	long r;

	errno = 0;
	if (in("pread __pread64 pread64 __libc_pread __pread64_nocancel"))
		r = ((p_fn)need(sym))(fd, buf, sizeof buf, 0);
	else if (in("__pread_chk __pread64_chk"))
		r = ((pchk_fn)need(sym))(fd, buf, sizeof buf, 0, sizeof buf);
	else if (in("pwrite __pwrite64 pwrite64 __libc_pwrite"))
		r = ((p_fn)need(sym))(fd, mark, strlen(mark), 0);
	else if (in("preadv preadv64"))
		r = ((pv_fn)need(sym))(fd, &iov, 1, 0);
	else if (in("pwritev pwritev64"))
		r = ((pv_fn)need(sym))(fd, &wiov, 1, 0);
	else if (is("tee")) {
		int p[2];
		if (pipe(p) < 0)
			verdict(0, "pipe");
		r = ((long (*)(int, int, size_t, unsigned))need(sym))(fd, p[1], 100, 0);
	} else if (is("vmsplice")) {
		r = ((long (*)(int, const struct iovec *, unsigned long, unsigned))need(sym))(
			fd, &wiov, 1, 0);
	} else {
		verdict(0, "no kernel-refusal case for this symbol");
		return;
	}
	check_refused(fd, r, want, sym);
}

static void refused(int fd)
{
	struct aiocb cb;
	struct aiocb *list[1] = { &cb };
	char buf[256];
	long r;

	memset(&cb, 0, sizeof cb);
	cb.aio_fildes = fd;
	cb.aio_lio_opcode = LIO_WRITE;
	cb.aio_buf = mark;
	cb.aio_nbytes = strlen(mark);
	cb.aio_sigevent.sigev_notify = SIGEV_NONE;
	errno = 0;
	if (in("aio_write aio_write64"))
		r = ((aio_fn)need(sym))(&cb);
	else if (in("aio_read aio_read64")) {
		cb.aio_buf = buf;
		cb.aio_nbytes = sizeof buf;
		r = ((aio_fn)need(sym))(&cb);
	} else if (in("lio_listio lio_listio64"))
		r = ((lio_fn)need(sym))(LIO_WAIT, list, 1, NULL);
	else {
		verdict(0, "no refusal case for this symbol");
		return;
	}
	check_refused(fd, r, EOPNOTSUPP, sym);
}

/* vdprintf and __vdprintf_chk with a va_list made here. */
static int call_v(void *fn, int chk, int fd, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int call_v(void *fn, int chk, int fd, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	if (chk)
		r = ((int (*)(int, int, const char *, va_list))fn)(fd, 1, fmt, ap);
	else
		r = ((int (*)(int, const char *, va_list))fn)(fd, fmt, ap);
	va_end(ap);
	return r;
}

static void hooked(int fd)
{
	char buf[256];
	struct iovec iov[2] = { { buf, 3 }, { buf + 3, sizeof buf - 3 } };
	struct iovec wiov[2] = { { mark, 5 }, { mark + 5, strlen(mark) - 5 } };
	size_t ml = strlen(mark);
	ssize_t r;

	memset(buf, 0, sizeof buf);
	/* write paths: the line goes out, the answer comes back by read() */
	if (in("write __write __write_nocancel")) {
		r = ((rw_fn)need(sym))(fd, mark, ml);
	} else if (in("send __send")) {
		r = ((sr_fn)need(sym))(fd, mark, ml, 0);
	} else if (is("sendto")) {
		r = ((ssize_t (*)(int, const void *, size_t, int, const void *, socklen_t))need(sym))(
			fd, mark, ml, 0, NULL, 0);
	} else if (is("sendmsg")) {
		struct msghdr m = { .msg_iov = wiov, .msg_iovlen = 2 };
		r = ((msg_fn)need(sym))(fd, &m, 0);
	} else if (in("sendmmsg __sendmmsg")) {
		struct mmsghdr mm[1];
		memset(mm, 0, sizeof mm);
		mm[0].msg_hdr.msg_iov = wiov;
		mm[0].msg_hdr.msg_iovlen = 2;
		r = ((mmsg_fn)need(sym))(fd, mm, 1, 0) == 1 ? (ssize_t)mm[0].msg_len : -1;
	} else if (is("writev")) {
		r = ((v_fn)need(sym))(fd, wiov, 2);
	} else if (in("pwritev2 pwritev64v2")) {
		r = ((pv2_fn)need(sym))(fd, wiov, 2, -1, 0);
	} else if (in("dprintf vdprintf __dprintf_chk __vdprintf_chk")) {
		if (is("dprintf"))
			r = ((dp_fn)need(sym))(fd, "%s", mark);
		else if (is("__dprintf_chk"))
			r = ((dpchk_fn)need(sym))(fd, 1, "%s", mark);
		else
			r = call_v(need(sym), is("__vdprintf_chk"), fd, "%s", mark);
	} else if (in("sendfile sendfile64")) {
		int f = mark_file();
		r = ((sendfile_fn)need(sym))(fd, f, NULL, ml);
	} else if (is("splice")) {
		int p[2];
		if (pipe(p) < 0 || write(p[1], mark, ml) != (ssize_t)ml)
			verdict(0, "pipe");
		r = ((splice_fn)need(sym))(p[0], NULL, fd, NULL, ml, 0);
	} else if (is("copy_file_range")) {
		int f = mark_file();
		loff_t o = 0;
		/* a socket has no offset, and no flag is defined: nothing moves */
		if (((splice_fn)need(sym))(f, NULL, fd, &o, ml, 0) != -1 || errno != ESPIPE)
			verdict(0, "copy_file_range with an output offset: not ESPIPE (%s)", strerror(errno));
		if (((splice_fn)need(sym))(f, NULL, fd, NULL, ml, 1) != -1 || errno != EINVAL)
			verdict(0, "copy_file_range with flags: not EINVAL (%s)", strerror(errno));
		/* nor does anything come from the socket into a file */
		if (((splice_fn)need(sym))(fd, NULL, f, NULL, ml, 0) != -1 || errno != EINVAL)
			verdict(0, "copy_file_range from the socket: not EINVAL (%s)", strerror(errno));
		lseek(f, 0, SEEK_SET);
		r = ((splice_fn)need(sym))(f, NULL, fd, NULL, ml, 0);
	} else if (in("backtrace_symbols_fd __backtrace_symbols_fd")) {
		/* the text is the frames; the marker line goes after it */
		void *frames[1] = { (void *)(uintptr_t)&verdict };
		((bt_fn)need(sym))(frames, 1, fd);
		read_line(fd, buf, sizeof buf);
		/* the peer reverses the line: "[0x" reads "x0[" */
		if (strstr(buf, "x0[") == NULL)
			verdict(0, "the peer answered [%.60s], not a reversed frame line", buf);
		verdict(1, "the frame line reached the peer through TLS: [%.40s]", buf);
		return;
	} else if (in("syscall")) {
		r = ((sys_fn)need(sym))(SYS_write, (long)fd, (long)mark, (long)ml);
		if (r != (ssize_t)ml)
			verdict(0, "syscall(SYS_write) returned %zd (%s)", r, strerror(errno));
		r = ((sys_fn)need(sym))(SYS_read, (long)fd, (long)buf, (long)strlen(expect));
		check_read(buf, r, "syscall(SYS_write) then syscall(SYS_read)");
		return;
	} else if (in("fdopen _IO_fdopen")) {
		FILE *fp = ((fdopen_fn)need(sym))(fd, "r+");
		if (fp == NULL)
			verdict(0, "fdopen: %s", strerror(errno));
		if (fputs(mark, fp) < 0 || fflush(fp) != 0)
			verdict(0, "fputs/fflush: %s", strerror(errno));
		if (fgets(buf, sizeof buf, fp) == NULL)
			verdict(0, "fgets: %s", strerror(errno));
		check_read(buf, (ssize_t)strlen(buf), "fputs then fgets on the stream");
		return;
	} else if (in("connect __connect")) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		close(fd);
		if (((connect_fn)need(sym))(s, (struct sockaddr *)&peer, sizeof peer) < 0)
			verdict(0, "%s: %s", sym, strerror(errno));
		if (write(s, mark, ml) != (ssize_t)ml)
			verdict(0, "write: %s", strerror(errno));
		check_answer(s, "a connect through it, then write");
		return;
	} else if (in("dup dup2 __dup2 dup3 fcntl __fcntl fcntl64 __libc_fcntl64")) {
		int n;
		if (is("dup"))
			n = ((int (*)(int))need(sym))(fd);
		else if (in("dup2 __dup2"))
			n = ((int (*)(int, int))need(sym))(fd, 77);
		else if (is("dup3"))
			n = ((int (*)(int, int, int))need(sym))(fd, 78, O_CLOEXEC);
		else
			n = ((fcntl_fn)need(sym))(fd, F_DUPFD, 80);
		if (n < 0)
			verdict(0, "%s: %s", sym, strerror(errno));
		if (write(n, mark, ml) != (ssize_t)ml)
			verdict(0, "write on the new descriptor: %s", strerror(errno));
		check_answer(fd, "a second descriptor from it, then write on that");
		return;
	} else {
		/* read paths: ask with write(), read the answer through sym */
		size_t want = strlen(expect);
		ask(fd);
		if (in("read __read __read_nocancel"))
			r = ((rw_fn)need(sym))(fd, buf, want);
		else if (is("__read_chk"))
			r = ((rwchk_fn)need(sym))(fd, buf, want, sizeof buf);
		else if (in("recv __recv"))
			r = ((sr_fn)need(sym))(fd, buf, want, MSG_WAITALL);
		else if (is("__recv_chk"))
			r = ((srchk_fn)need(sym))(fd, buf, want, sizeof buf, MSG_WAITALL);
		else if (is("recvfrom"))
			r = ((ssize_t (*)(int, void *, size_t, int, void *, socklen_t *))need(sym))(
				fd, buf, want, MSG_WAITALL, NULL, NULL);
		else if (is("__recvfrom_chk"))
			r = ((ssize_t (*)(int, void *, size_t, size_t, int, void *, socklen_t *))need(
				sym))(fd, buf, want, sizeof buf, MSG_WAITALL, NULL, NULL);
		else if (is("recvmsg")) {
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
			r = ((msg_fn)need(sym))(fd, &m, MSG_WAITALL);
		} else if (is("recvmmsg")) {
			struct mmsghdr mm[1];
			memset(mm, 0, sizeof mm);
			mm[0].msg_hdr.msg_iov = iov;
			mm[0].msg_hdr.msg_iovlen = 2;
			r = ((mmsg_fn)need(sym))(fd, mm, 1, MSG_WAITALL, NULL) == 1
			            ? (ssize_t)mm[0].msg_len
			            : -1;
		} else if (is("readv"))
			r = ((v_fn)need(sym))(fd, iov, 2);
		else if (in("preadv2 preadv64v2"))
			r = ((pv2_fn)need(sym))(fd, iov, 2, -1, 0);
		else {
			verdict(0, "no case for this symbol");
			return;
		}
		check_read(buf, r, sym);
		return;
	}
	if (r != (ssize_t)ml)
		verdict(0, "%s returned %zd (%s), expected %zu", sym, r, strerror(errno), ml);
	check_answer(fd, "written through it");
}

/* The std streams (TREATMENT stream). */
static void stream(int fd)
{
	char buf[256];
	extern FILE _IO_2_1_stdout_, _IO_2_1_stdin_, _IO_2_1_stderr_;

	if (is("stdout")) {
		dup2(fd, 1);
		printf("%s", mark);
		if (fflush(stdout) != 0)
			verdict(0, "fflush(stdout): %s", strerror(errno));
		check_answer(fd, "dup2 onto 1, printf");
	} else if (is("stderr")) {
		dup2(fd, 2);
		fprintf(stderr, "%s", mark);
		check_answer(fd, "dup2 onto 2, fprintf(stderr)");
	} else if (is("stdin")) {
		dup2(fd, 0);
		ask(fd);
		if (fgets(buf, sizeof buf, stdin) == NULL)
			verdict(0, "fgets(stdin): %s", strerror(errno));
		check_read(buf, (ssize_t)strlen(buf), "dup2 onto 0, fgets(stdin)");
	} else if (in("_IO_2_1_stdout_ _IO_2_1_stderr_ _IO_2_1_stdin_")) {
		/* glibc's own FILE objects, as C++'s std::cout holds them: once
		 * their number is a connection they fail, never plaintext */
		FILE *orig = is("_IO_2_1_stdout_") ? &_IO_2_1_stdout_
		             : is("_IO_2_1_stderr_") ? &_IO_2_1_stderr_ : &_IO_2_1_stdin_;
		int n = is("_IO_2_1_stdout_") ? 1 : is("_IO_2_1_stderr_") ? 2 : 0;
		int r;

		dup2(fd, n);
		errno = 0;
		if (n == 0) {
			ask(fd);
			r = fgets(buf, sizeof buf, orig) == NULL ? -1 : 0;
		} else {
			r = fputs(mark, orig) < 0 || fflush(orig) != 0 ? -1 : 0;
		}
		if (r == 0 || errno != EBADF)
			verdict(0, "glibc's original stream on %d: %s", n,
			        r == 0 ? "worked (on its internal read/write)" : strerror(errno));
		if (n == 0) {
			/* the question is answered; the answer is read through TLS */
			ssize_t k = read(fd, buf, strlen(expect));
			check_read(buf, k, "the original stdin failed EBADF; read() then");
		}
		check_refused(fd, -1, EBADF, "the original FILE object failed");
	} else if (in("__assert __assert_fail __assert_perror_fail")) {
		/* these print on stderr and abort: a child does it (it has the
		 * connection's state as of the fork), the parent reads the answer */
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			dup2(fd, 2);
			if (is("__assert_fail"))
				((void (*)(const char *, const char *, unsigned, const char *))need(sym))(
					mark, "f.c", 1, "fn");
			else if (is("__assert"))
				((void (*)(const char *, const char *, int))need(sym))(mark, "f.c", 1);
			else
				((void (*)(int, const char *, unsigned, const char *))need(sym))(
					EIO, mark, 1, "fn");
			_exit(0);
		}
		if (waitpid(pid, &st, 0) < 0 || !WIFSIGNALED(st))
			verdict(0, "the child did not abort");
		read_line(fd, buf, sizeof buf);
		{
			char rev[128];
			size_t i, n = strlen(mark) - 1;

			for (i = 0; i < n; i++)
				rev[i] = mark[n - 1 - i];
			rev[n] = '\0';
			if (strstr(buf, rev) == NULL)
				verdict(0, "the peer answered [%.80s], without the message", buf);
		}
		verdict(1, "the message went through TLS on stderr before abort");
	} else {
		verdict(0, "no stream case for this symbol");
	}
}

static void scenario(void)
{
	if (is("case:fdopen-before-connect")) {
		/* a FILE on a socket that connect() then wraps */
		int s = socket(AF_INET, SOCK_STREAM, 0);
		FILE *fp = fdopen(s, "r+");
		char buf[256];

		if (fp == NULL)
			verdict(0, "fdopen: %s", strerror(errno));
		if (connect_to(s) < 0)
			verdict(0, "connect: %s", strerror(errno));
		if (fputs(mark, fp) < 0 || fflush(fp) != 0)
			verdict(0, "fputs/fflush after connect: %s", strerror(errno));
		if (fgets(buf, sizeof buf, fp) == NULL)
			verdict(0, "fgets: %s", strerror(errno));
		check_read(buf, (ssize_t)strlen(buf), "fdopen, connect, fputs, fgets");
	} else if (is("case:std-closed")) {
		/* a daemon closed 0-2 and put /dev/null on 0: its socket
		 * takes number 1, and connect wraps it there */
		int s;

		close(0);
		close(1);
		close(2);
		if (open("/dev/null", O_RDONLY) != 0)
			verdict(0, "/dev/null did not take 0");
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (s != 1)
			verdict(0, "the socket took %d, not 1", s);
		if (connect_to(s) < 0)
			verdict(0, "connect: %s", strerror(errno));
		printf("%s", mark);
		if (fflush(stdout) != 0)
			verdict(0, "fflush(stdout): %s", strerror(errno));
		check_answer(s, "the socket took 1, connect, printf");
	} else if (is("case:stdout-at-exit")) {
		/* printf on a bound stdout, then exit without fflush: exit's
		 * flush must reach the peer before the close_notify at exit (a
		 * child does it; the parent reads the answer) */
		int s = new_conn(), st;
		pid_t pid = fork();

		char first[64];

		if (pid == 0) {
			/* I/O first: the child owns the connection, and its exit
			 * sends close_notify (exitnotify.c) */
			if (write(s, "x\n", 2) != 2)
				_exit(1);
			dup2(s, 1);
			printf("%s", mark);
			exit(0);
		}
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			verdict(0, "the child did not exit 0");
		read_line(s, first, sizeof first);
		if (strcmp(first, "x\n") != 0)
			verdict(0, "the first answer was [%s]", first);
		check_answer(s, "dup2 onto 1, printf, exit without fflush");
	} else if (is("case:syscall-more")) {
		/* more numbers through glibc's syscall(): connect, sendto,
		 * recvfrom, dup, pidfd_getfd, pwritev2, preadv2 */
		sys_fn sc = (sys_fn)need("syscall");
		int s = socket(AF_INET, SOCK_STREAM, 0), d, pfd, g;
		size_t ml = strlen(mark), el = strlen(expect);
		char buf[256];
		struct iovec wv = { mark, ml }, rv = { buf, el };

		if (sc(SYS_connect, (long)s, (long)&peer, (long)sizeof peer) < 0)
			verdict(0, "syscall(SYS_connect): %s", strerror(errno));
		if (sc(SYS_sendto, (long)s, (long)mark, (long)ml, 0L, 0L, 0L) != (long)ml)
			verdict(0, "syscall(SYS_sendto): %s", strerror(errno));
		memset(buf, 0, sizeof buf);
		if (sc(SYS_recvfrom, (long)s, (long)buf, (long)el, (long)MSG_WAITALL, 0L, 0L) != (long)el ||
		    strcmp(buf, expect) != 0)
			verdict(0, "syscall(SYS_recvfrom): [%.60s] %s", buf, strerror(errno));
		d = (int)sc(SYS_dup, (long)s);
		if (d < 0 || sc(SYS_write, (long)d, (long)mark, (long)ml) != (long)ml)
			verdict(0, "syscall(SYS_dup) then SYS_write: %s", strerror(errno));
		read_line(s, buf, sizeof buf);
		if (strcmp(buf, expect) != 0)
			verdict(0, "after syscall(SYS_dup): [%.60s]", buf);
		pfd = (int)sc(SYS_pidfd_open, (long)getpid(), 0L);
		g = pfd < 0 ? -1 : (int)sc(SYS_pidfd_getfd, (long)pfd, (long)s, 0L);
		if (g < 0 || write(g, mark, ml) != (ssize_t)ml)
			verdict(0, "syscall(SYS_pidfd_getfd) then write: %s", strerror(errno));
		read_line(s, buf, sizeof buf);
		if (strcmp(buf, expect) != 0)
			verdict(0, "after syscall(SYS_pidfd_getfd): [%.60s]", buf);
		if (sc(SYS_pwritev2, (long)s, (long)&wv, 1L, -1L, 0L, 0L) != (long)ml)
			verdict(0, "syscall(SYS_pwritev2): %s", strerror(errno));
		memset(buf, 0, sizeof buf);
		if (sc(SYS_preadv2, (long)s, (long)&rv, 1L, -1L, 0L, 0L) <= 0)
			verdict(0, "syscall(SYS_preadv2): %s", strerror(errno));
		check_read(buf, (ssize_t)strlen(buf), "syscall() connect, sendto, recvfrom, dup, "
		                                      "pidfd_getfd, pwritev2, preadv2");
	} else if (is("case:dup-before-connect")) {
		/* a second number made before connect wraps the socket */
		int s = socket(AF_INET, SOCK_STREAM, 0), d = dup(s);
		char buf[256];

		if (d < 0 || connect_to(s) < 0)
			verdict(0, "dup/connect: %s", strerror(errno));
		if (write(d, mark, strlen(mark)) != (ssize_t)strlen(mark))
			verdict(0, "write on the dup: %s", strerror(errno));
		ask(d);
		read_line(d, buf, sizeof buf);
		if (strcmp(buf, expect) != 0)
			verdict(0, "read on the dup: [%.60s]", buf);
		check_answer(s, "dup, connect, write and read on the dup");
	} else if (is("case:io_uring-warn")) {
		/* the test looks for the warn line; whether the kernel here
		 * allows io_uring does not matter */
		long p[30];

		memset(p, 0, sizeof p);
		((sys_fn)need("syscall"))(SYS_io_uring_setup, 4L, (long)p);
		verdict(1, "io_uring_setup called through syscall()");
	} else {
		verdict(0, "unknown scenario");
	}
}

int main(int argc, char **argv)
{
	const char *tr;
	size_t i, n;
	int fd;

	if (argc != 6) {
		fprintf(stderr, "usage: %s HOST PORT SYMBOL TREATMENT REPORT\n", argv[0]);
		return 2;
	}
	sym = argv[3];
	tr = argv[4];
	report_fd = open(argv[5], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (report_fd < 0)
		return 2;
	/* away from 0-2, which some cases replace */
	if (report_fd < 10) {
		int r = fcntl(report_fd, F_DUPFD_CLOEXEC, 10);
		if (r >= 0)
			report_fd = r;
	}
	peer.sin_family = AF_INET;
	peer.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &peer.sin_addr) != 1)
		return 2;
	snprintf(mark, sizeof mark, "tlsshim-bp-%s-%d\n", sym, (int)getpid());
	n = strlen(mark) - 1;
	for (i = 0; i < n; i++)
		expect[i] = mark[n - 1 - i];
	expect[n] = '\n';
	expect[n + 1] = '\0';

	if (strncmp(sym, "case:", 5) == 0) {
		scenario();
		return 1;
	}
	fd = new_conn();
	if (!strcmp(tr, "hooked"))
		hooked(fd);
	else if (!strcmp(tr, "refused"))
		refused(fd);
	else if (!strcmp(tr, "stream"))
		stream(fd);
	else if (!strncmp(tr, "kernel:", 7)) {
		int want = !strcmp(tr + 7, "ESPIPE") ? ESPIPE
		           : !strcmp(tr + 7, "EINVAL") ? EINVAL
		           : !strcmp(tr + 7, "EBADF") ? EBADF : -1;
		kernel_refusal(fd, want);
	} else {
		verdict(0, "treatment %s is not exercised by a call", tr);
	}
	return 1;
}
