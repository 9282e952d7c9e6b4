/*
 * hook_syscall.c - glibc's exported syscall(). A program (or a library:
 * many call syscall(SYS_...) for what libc did not wrap yet) that writes,
 * reads, connects, dups or closes through it would pass every hook: the
 * bytes would leave in clear, ciphertext would come back, a connect to a
 * matched destination would stay plain, a dup would be a second descriptor
 * the table does not know.
 *
 * So the numbers tlsshim has hooks for go through those hooks: the byte
 * paths when a descriptor they name is tlsshim's, connect, listen, the
 * descriptor calls (close, dup*, fcntl, ...) and what can bring in a
 * descriptor (recvmsg, recvmmsg, pidfd_getfd) always when a configuration
 * is loaded (the hooks pass plain descriptors straight to libc); execve
 * and execveat always (hook_exec.c); chroot, seccomp and
 * prctl(PR_SET_SECCOMP) map OpenSSL first (hook_sandbox.c).
 * io_submit (the kernel's AIO) naming a wrapped socket for a read or write
 * is refused (EOPNOTSUPP, a warn line). Everything else is libc's
 * syscall() unchanged: pread64, pwrite64, preadv, pwritev, tee and vmsplice
 * because the kernel refuses them on any socket (ESPIPE, EINVAL), the
 * readiness calls because they move no bytes; io_uring_setup with a warn
 * line.
 *
 * What this cannot see: a syscall instruction outside glibc (tlsshim(1),
 * CAVEATS).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bytepath.h"
#include "fdtab.h"
#include "hook.h"
#include "init.h"
#include "log.h"
#include "real.h"
#include "sandbox.h"

long syscall(long nr, ...);
int pidfd_getfd(int pidfd, int targetfd, unsigned int flags); /* hook_pidfd.c */
int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
             int flags); /* hook_exec.c */

typedef long (*syscall_fn)(long, ...);

/* libc's syscall(); also before the table is built (real.c's own fatal
 * message goes through here while it resolves the table). */
static syscall_fn next_syscall(void)
{
	syscall_fn f = __atomic_load_n(&ts_real.syscall, __ATOMIC_ACQUIRE);

	if (f == NULL)
		f = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
	return f;
}

static int ours(long fd)
{
	return fd >= 0 && fd < TS_FD_MAX && !TS_PLAIN((int)fd);
}

#define FD(i) ((int)a[i])
#define P(i) ((void *)a[i])

/* 1 when the call was routed (*ret is its result), 0 to go to libc. */
static int route(long nr, const long *a, long *ret)
{
	switch (nr) {
	/* the byte paths: through the hooks when the descriptor is ours */
	case SYS_read:
		if (!ours(a[0]))
			return 0;
		*ret = read(FD(0), P(1), (size_t)a[2]);
		return 1;
	case SYS_write:
		if (!ours(a[0]))
			return 0;
		*ret = write(FD(0), P(1), (size_t)a[2]);
		return 1;
	case SYS_readv:
		if (!ours(a[0]))
			return 0;
		*ret = readv(FD(0), P(1), (int)a[2]);
		return 1;
	case SYS_writev:
		if (!ours(a[0]))
			return 0;
		*ret = writev(FD(0), P(1), (int)a[2]);
		return 1;
	case SYS_recvfrom:
		if (!ours(a[0]))
			return 0;
		*ret = recvfrom(FD(0), P(1), (size_t)a[2], (int)a[3], P(4), P(5));
		return 1;
	case SYS_sendto: /* MSG_FASTOPEN connects: always (hook_write.c) */
		if (!ours(a[0]) && !((int)a[3] & MSG_FASTOPEN))
			return 0;
		*ret = sendto(FD(0), P(1), (size_t)a[2], (int)a[3], P(4), (socklen_t)a[5]);
		return 1;
	case SYS_recvmsg: /* always: descriptors received with SCM_RIGHTS */
		*ret = recvmsg(FD(0), P(1), (int)a[2]);
		return 1;
	case SYS_sendmsg: /* MSG_FASTOPEN connects: always (hook_write.c) */
		if (!ours(a[0]) && !((int)a[2] & MSG_FASTOPEN))
			return 0;
		*ret = sendmsg(FD(0), P(1), (int)a[2]);
		return 1;
	case SYS_recvmmsg: /* always, as recvmsg */
		*ret = recvmmsg(FD(0), P(1), (unsigned)a[2], (int)a[3], P(4));
		return 1;
	case SYS_sendmmsg: /* MSG_FASTOPEN connects: always (hook_write.c) */
		if (!ours(a[0]) && !((int)a[3] & MSG_FASTOPEN))
			return 0;
		*ret = sendmmsg(FD(0), P(1), (unsigned)a[2], (int)a[3]);
		return 1;
#if __SIZEOF_LONG__ == 8
	/* (fd, iov, cnt, pos_l, pos_h, flags): pos_l is the whole offset */
	case SYS_preadv2:
		if (!ours(a[0]))
			return 0;
		*ret = preadv2(FD(0), P(1), (int)a[2], (off_t)a[3], (int)a[5]);
		return 1;
	case SYS_pwritev2:
		if (!ours(a[0]))
			return 0;
		*ret = pwritev2(FD(0), P(1), (int)a[2], (off_t)a[3], (int)a[5]);
		return 1;
#endif
	case SYS_sendfile:
		if (!ours(a[0]) && !ours(a[1]))
			return 0;
		*ret = sendfile(FD(0), FD(1), P(2), (size_t)a[3]);
		return 1;
	case SYS_splice:
		if (!ours(a[0]) && !ours(a[2]))
			return 0;
		*ret = splice(FD(0), P(1), FD(2), P(3), (size_t)a[4], (unsigned)a[5]);
		return 1;
	case SYS_copy_file_range:
		if (!ours(a[0]) && !ours(a[2]))
			return 0;
		*ret = copy_file_range(FD(0), P(1), FD(2), P(3), (size_t)a[4], (unsigned)a[5]);
		return 1;
	/* what makes or changes a wrapped descriptor: always through the
	 * hooks (they pass plain descriptors on at once) */
	case SYS_connect:
		*ret = connect(FD(0), P(1), (socklen_t)a[2]);
		return 1;
	case SYS_listen:
		*ret = listen(FD(0), (int)a[1]);
		return 1;
	case SYS_accept:
		*ret = accept(FD(0), P(1), P(2));
		return 1;
	case SYS_accept4:
		*ret = accept4(FD(0), P(1), P(2), (int)a[3]);
		return 1;
	case SYS_shutdown:
		*ret = shutdown(FD(0), (int)a[1]);
		return 1;
	case SYS_close:
		*ret = close(FD(0));
		return 1;
	case SYS_dup:
		*ret = dup(FD(0));
		return 1;
#ifdef SYS_dup2
	case SYS_dup2:
		*ret = dup2(FD(0), FD(1));
		return 1;
#endif
	case SYS_dup3:
		*ret = dup3(FD(0), FD(1), (int)a[2]);
		return 1;
	case SYS_fcntl:
		*ret = fcntl(FD(0), (int)a[1], a[2]);
		return 1;
	case SYS_ioctl:
		*ret = ioctl(FD(0), (unsigned long)a[1], a[2]);
		return 1;
	case SYS_setsockopt:
		*ret = setsockopt(FD(0), (int)a[1], (int)a[2], P(3), (socklen_t)a[4]);
		return 1;
	case SYS_getsockopt:
		*ret = getsockopt(FD(0), (int)a[1], (int)a[2], P(3), P(4));
		return 1;
	/* exec: the set-id refusal, and the kept environment (an exec with
	 * an empty one would start the new program without tlsshim, its
	 * connections in clear) */
	case SYS_execve:
		*ret = execve(P(0), P(1), P(2));
		return 1;
#ifdef SYS_execveat
	case SYS_execveat:
		*ret = execveat(FD(0), P(1), P(2), P(3), (int)a[4]);
		return 1;
#endif
#ifdef SYS_pidfd_getfd
	case SYS_pidfd_getfd:
		*ret = pidfd_getfd(FD(0), FD(1), (unsigned)a[2]);
		return 1;
#endif
#ifdef SYS_close_range
	case SYS_close_range:
		*ret = close_range((unsigned)a[0], (unsigned)a[1], (int)a[2]);
		return 1;
#endif
	/* shutting itself in: OpenSSL is mapped first (hook_sandbox.c) */
	case SYS_chroot:
#ifdef SYS_seccomp
	case SYS_seccomp:
#endif
		ts_sandbox_prepare();
		return 0;
	case SYS_prctl:
		if (a[0] == PR_SET_SECCOMP)
			ts_sandbox_prepare();
		return 0;
	/* no hook, and the kernel refuses these on any socket by itself
	 * (ESPIPE: no offsets; EINVAL/EBADF: pipes only) */
	case SYS_pread64:
	case SYS_pwrite64:
	case SYS_preadv:
	case SYS_pwritev:
	case SYS_tee:
	case SYS_vmsplice:
		return 0;
	/* the kernel's own AIO: a request naming a wrapped socket would be
	 * carried out by the kernel, in clear (libaio's io_submit) */
	case SYS_io_submit: {
		struct iocb *const *v = P(2);
		long i;

		for (i = 0; v != NULL && i < a[1]; i++)
			if (v[i] != NULL && ours((long)v[i]->aio_fildes) &&
			    (v[i]->aio_lio_opcode == IOCB_CMD_PREAD ||
			     v[i]->aio_lio_opcode == IOCB_CMD_PWRITE ||
			     v[i]->aio_lio_opcode == IOCB_CMD_PREADV ||
			     v[i]->aio_lio_opcode == IOCB_CMD_PWRITEV)) {
				*ret = ts_refuse((int)v[i]->aio_fildes, "syscall(SYS_io_submit)",
				                 "the kernel would carry out the request in clear");
				return 1;
			}
		return 0;
	}
#ifdef SYS_io_uring_setup
	/* io_uring's submissions are read from shared memory: nothing to
	 * route, and nothing seen; say so once (tlsshim(1), CAVEATS) */
	case SYS_io_uring_setup: {
		static atomic_int warned;

		if (atomic_exchange(&warned, 1) == 0)
			ts_log(CFG_LOG_WARN, "io_uring_setup through syscall(): tlsshim does not see "
			                     "socket I/O submitted through io_uring; it leaves in clear "
			                     "on a socket a rule matched");
		return 0;
	}
#endif
	default:
		/* Everything else, whatever its arguments: the first is not
		 * always a descriptor (syscall(SYS_gettid) passes none, and
		 * what va_arg reads then is whatever a register held). */
		return 0;
	}
}

/* syscall() cannot know how many arguments it was given: like glibc's
 * (which loads the sixth from the caller's stack in assembly, whatever
 * was passed), it takes six. On x86-64 the sixth comes from the caller's
 * stack, a slot that is always mapped but that ASan sees as the caller's
 * red zone when fewer were passed (test_bytepaths_glibc's
 * syscall(SYS_write, fd, buf, len) under make asan): not checked here. */
TS_EXPORT __attribute__((no_sanitize_address)) long syscall(long nr, ...)
{
	va_list ap;
	long a[6], r;
	int i;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (ts_depth == 0 && ts_rules != NULL && route(nr, a, &r))
		return r;
	return next_syscall()(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
