/*
 * real.c - libc's real functions, resolved once with dlsym(RTLD_NEXT).
 *
 * A hook can run before tlsshim's constructor (another library's
 * constructor connects, or the loader's own code closes a descriptor), so
 * the table resolves lazily under pthread_once; after that every read is
 * one acquire load of ts_real_ready (a plain load on x86).
 */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"

/* The read and write families are on every program's hot path: their
 * entries start as trampolines that resolve the table and call through, so
 * that a hook never has to ask whether the table is ready (TS_REAL_HOT). */
static ssize_t lazy_read(int fd, void *b, size_t n) { return ts_real_resolve()->read(fd, b, n); }
static ssize_t lazy_write(int fd, const void *b, size_t n)
{
	return ts_real_resolve()->write(fd, b, n);
}
static ssize_t lazy_recv(int fd, void *b, size_t n, int f)
{
	return ts_real_resolve()->recv(fd, b, n, f);
}
static ssize_t lazy_send(int fd, const void *b, size_t n, int f)
{
	return ts_real_resolve()->send(fd, b, n, f);
}
static ssize_t lazy_recvfrom(int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l)
{
	return ts_real_resolve()->recvfrom(fd, b, n, f, a, l);
}
static ssize_t lazy_sendto(int fd, const void *b, size_t n, int f, const struct sockaddr *a,
                           socklen_t l)
{
	return ts_real_resolve()->sendto(fd, b, n, f, a, l);
}
static ssize_t lazy_recvmsg(int fd, struct msghdr *m, int f)
{
	return ts_real_resolve()->recvmsg(fd, m, f);
}
static ssize_t lazy_sendmsg(int fd, const struct msghdr *m, int f)
{
	return ts_real_resolve()->sendmsg(fd, m, f);
}
static ssize_t lazy_readv(int fd, const struct iovec *v, int n)
{
	return ts_real_resolve()->readv(fd, v, n);
}
static ssize_t lazy_writev(int fd, const struct iovec *v, int n)
{
	return ts_real_resolve()->writev(fd, v, n);
}

struct ts_real ts_real = {
	.read = lazy_read, .write = lazy_write, .recv = lazy_recv, .send = lazy_send,
	.recvfrom = lazy_recvfrom, .sendto = lazy_sendto, .recvmsg = lazy_recvmsg,
	.sendmsg = lazy_sendmsg, .readv = lazy_readv, .writev = lazy_writev,
};
atomic_int ts_real_ready;
__thread int ts_depth __attribute__((tls_model("initial-exec")));

static pthread_once_t real_once = PTHREAD_ONCE_INIT;

/* 1 when the kernel would have restarted a blocking socket call that a
 * handler interrupted: every handler that can run on this thread now (a
 * signal not blocked here, caught by a function) has SA_RESTART. poll's
 * EINTR does not say which signal it was; with one handler, or handlers
 * that agree, this is exact; with a mix, EINTR (a program with a handler
 * without SA_RESTART handles EINTR anyway). The signals of a fault (a bad
 * access, an illegal instruction...) never interrupt a wait: they come
 * from the thread's own instruction, so their handlers do not count
 * (ASan's, node's WebAssembly trap handler, Python's faulthandler have no
 * SA_RESTART). Runs only after EINTR. */
static int restart_after_eintr(void)
{
	sigset_t blocked;
	struct sigaction sa;
	int sig;

	if (pthread_sigmask(SIG_BLOCK, NULL, &blocked) != 0)
		return 0;
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || sigismember(&blocked, sig) == 1)
			continue;
		if (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
		    sig == SIGTRAP || sig == SIGSYS)
			continue;
		if (sigaction(sig, NULL, &sa) < 0) /* glibc's own signals */
			continue;
		if (!(sa.sa_flags & SA_SIGINFO) &&
		    (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN))
			continue;
		if (!(sa.sa_flags & SA_RESTART))
			return 0;
	}
	return 1;
}

static long long io_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The core waits with io->poll, for the program's blocking calls (connect
 * and accept's handshake, read, write). poll() never restarts after a
 * signal, but those calls do when the handler has SA_RESTART, and
 * programs rely on that: so a wait interrupted by such a handler goes on
 * with what is left of its timeout, and returns EINTR otherwise, as the
 * kernel decides for the program's own socket calls. The indefinite wait
 * for readability is a blocking recv(MSG_PEEK) of one byte: the kernel
 * itself restarts it or returns EINTR. (With SO_RCVTIMEO or SO_SNDTIMEO
 * the kernel returns EINTR whatever SA_RESTART says; here a timed wait
 * restarts too, and still ends at its deadline.) */
static int io_poll(struct pollfd *p, nfds_t n, int timeout)
{
	long long start;
	int r, t = timeout;

	if (n == 1 && timeout < 0 && p->events == POLLIN) {
		/* No F_GETFL first (a syscall per wait on the hot path): on a
		 * descriptor another thread made O_NONBLOCK the peek returns
		 * EAGAIN at once and poll below does the waiting. */
		char b;
		ssize_t k = ts_real.recv(p->fd, &b, 1, MSG_PEEK);

		if (k >= 0) {
			p->revents = POLLIN;
			return 1;
		}
		if (errno == EINTR)
			return -1;
		/* anything else: let poll say what the socket's state is */
	}
	start = timeout > 0 ? io_now_ms() : 0;
	for (;;) {
		r = ts_real.poll(p, n, t);
		if (r >= 0 || errno != EINTR || !restart_after_eintr())
			return r;
		if (timeout > 0) {
			long long left = timeout - (io_now_ms() - start);

			if (left <= 0)
				return 0;
			t = (int)left;
		}
	}
}
static struct sslsocket_io real_io;

/* Writes msg on stderr and aborts: no stdio, the table may be half-built. */
static void real_die(const char *what, const char *name)
{
	static const char pre[] = "tlsshim: dlsym(RTLD_NEXT, \"";
	char line[256];
	size_t n = 0, l;

	l = strlen(pre);
	memcpy(line + n, pre, l);
	n += l;
	l = strnlen(name, 64);
	memcpy(line + n, name, l);
	n += l;
	line[n++] = '"';
	line[n++] = ')';
	line[n++] = ' ';
	l = strnlen(what, sizeof line - n - 2);
	memcpy(line + n, what, l);
	n += l;
	line[n++] = '\n';
	/* The raw syscall: libc's write may be the very hook that failed.
	 * (syscall() is tlsshim's hook too, hook_bytepath_syscall.c: for a
	 * descriptor it does not own it calls libc's without the table.) */
	if (syscall(SYS_write, 2, line, n) < 0) {
		/* nothing more can be said */
	}
	abort();
}

static void real_marker(void)
{
}

/* Where this object lies in memory: its loadable segments. */
static struct {
	uintptr_t lo[8], hi[8];
	int n;
} self_seg;

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t mark = (uintptr_t)arg;
	int i, n = 0, mine = 0;

	(void)size;
	for (i = 0; i < info->dlpi_phnum && n < 8; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		self_seg.lo[n] = info->dlpi_addr + ph->p_vaddr;
		self_seg.hi[n] = self_seg.lo[n] + ph->p_memsz;
		if (mark >= self_seg.lo[n] && mark < self_seg.hi[n])
			mine = 1;
		n++;
	}
	self_seg.n = mine ? n : 0;
	return mine;
}

static int in_self(const void *p)
{
	for (int i = 0; i < self_seg.n; i++)
		if ((uintptr_t)p >= self_seg.lo[i] && (uintptr_t)p < self_seg.hi[i])
			return 1;
	return 0;
}

/* dlsym(RTLD_NEXT) from inside libtlsshim.so never returns our own
 * symbols, but a second copy of tlsshim preloaded twice, or a link with
 * -Bsymbolic gone wrong, would make every hook call itself forever: check
 * that the address does not lie inside this object. (By segment ranges,
 * found once: dladdr per symbol cost 5.5 M instructions at start-up.) */
static void *real_sym(const char *name, int required)
{
	void *p;

	p = dlsym(RTLD_NEXT, name);
	if (p == NULL) {
		if (required)
			real_die("found nothing: this libc lacks a function tlsshim needs", name);
		return NULL;
	}
	if (in_self(p))
		real_die("returned tlsshim's own wrapper (is libtlsshim.so preloaded twice?)",
		         name);
	return p;
}

#define REQ(field) ts_real.field = (__typeof__(ts_real.field))real_sym(#field, 1)
#define OPT(field) ts_real.field = (__typeof__(ts_real.field))real_sym(#field, 0)

static void real_resolve_once(void)
{
	int saved = errno;

	dl_iterate_phdr(find_self, (void *)(uintptr_t)real_marker);
	REQ(socket);
	REQ(connect);
	REQ(accept);
	REQ(accept4);
	REQ(listen);
	REQ(read);
	REQ(write);
	REQ(recv);
	REQ(send);
	REQ(recvfrom);
	REQ(sendto);
	REQ(recvmsg);
	REQ(sendmsg);
	REQ(readv);
	REQ(writev);
	REQ(close);
	OPT(close_range);
	OPT(closefrom);
	REQ(shutdown);
	REQ(dup);
	REQ(dup2);
	REQ(dup3);
	REQ(fcntl);
	OPT(fcntl64);
	REQ(ioctl);
	REQ(setsockopt);
	REQ(getsockopt);
	REQ(fdopen);
	REQ(getaddrinfo);
	REQ(gethostbyname);
	OPT(gethostbyname2);
	REQ(gethostbyname_r);
	OPT(gethostbyname2_r);
	REQ(execve);
	REQ(execv);
	REQ(execvp);
	OPT(execvpe);
	OPT(fexecve);
	OPT(execveat);
	REQ(posix_spawn);
	REQ(posix_spawnp);
	REQ(poll);
	REQ(ppoll);
	REQ(select);
	REQ(pselect);
	REQ(sendfile);
	REQ(splice);
	OPT(copy_file_range);
	REQ(sendmmsg);
	REQ(recvmmsg);
	REQ(pread);
	REQ(epoll_create);
	REQ(epoll_create1);
	REQ(epoll_ctl);
	REQ(epoll_wait);
	REQ(epoll_pwait);
	OPT(epoll_pwait2);
	OPT(_Fork);
	OPT(preadv2);
	OPT(pwritev2);
	OPT(preadv64v2);
	OPT(pwritev64v2);
	REQ(vdprintf);
	OPT(__vdprintf_chk);
	REQ(syscall);
	OPT(backtrace_symbols_fd);
	OPT(aio_read);
	OPT(aio_write);
	OPT(aio_read64);
	OPT(aio_write64);
	OPT(lio_listio);
	OPT(lio_listio64);
	REQ(_IO_iter_begin);
	REQ(_IO_iter_end);
	REQ(_IO_iter_next);
	REQ(_IO_iter_file);
	REQ(_IO_list_lock);
	REQ(_IO_list_unlock);

	real_io.recv = ts_real.recv;
	real_io.send = ts_real.send;
	real_io.poll = io_poll;
	real_io.connect = ts_real.connect;
	real_io.accept4 = ts_real.accept4;
	real_io.close = ts_real.close;
	real_io.shutdown = ts_real.shutdown;
	real_io.fcntl = ts_real.fcntl;
	real_io.getsockopt = ts_real.getsockopt;
	real_io.setsockopt = ts_real.setsockopt;
	real_io.socket = ts_real.socket;
	/* not hooked: libc's own */
	real_io.getpeername = getpeername;
	real_io.getsockname = getsockname;

	atomic_store_explicit(&ts_real_ready, 1, memory_order_release);
	errno = saved;
}

const struct ts_real *ts_real_resolve(void)
{
	if (!atomic_load_explicit(&ts_real_ready, memory_order_acquire))
		pthread_once(&real_once, real_resolve_once);
	return &ts_real;
}

const struct sslsocket_io *ts_real_io(void)
{
	ts_real_resolve();
	return &real_io;
}
