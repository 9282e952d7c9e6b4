/*
 * real.h - libc's real functions (real.c: dlsym RTLD_NEXT), the
 * per-thread depth counter, and the core's I/O seam.
 */
#ifndef TLSSHIM_REAL_H
#define TLSSHIM_REAL_H

#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "compiler.h"
#include "sslsocket.h"

struct ts_real {
	int (*socket)(int, int, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*listen)(int, int);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	int (*close)(int);
	int (*close_range)(unsigned, unsigned, int);
	void (*closefrom)(int);
	int (*shutdown)(int, int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	FILE *(*fdopen)(int, const char *);
	int (*getaddrinfo)(const char *, const char *, const struct addrinfo *,
	                   struct addrinfo **);
	struct hostent *(*gethostbyname)(const char *);
	struct hostent *(*gethostbyname2)(const char *, int);
	int (*gethostbyname_r)(const char *, struct hostent *, char *, size_t,
	                       struct hostent **, int *);
	int (*gethostbyname2_r)(const char *, int, struct hostent *, char *, size_t,
	                        struct hostent **, int *);
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execv)(const char *, char *const[]);
	int (*execvp)(const char *, char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
	int (*execveat)(int, const char *, char *const[], char *const[], int);
	int (*posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
	                   const posix_spawnattr_t *, char *const[], char *const[]);
	int (*posix_spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
	                    const posix_spawnattr_t *, char *const[], char *const[]);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
	               const sigset_t *);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	ssize_t (*splice)(int, loff_t *, int, loff_t *, size_t, unsigned);
	ssize_t (*copy_file_range)(int, loff_t *, int, loff_t *, size_t, unsigned);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned, int, struct timespec *);
	ssize_t (*pread)(int, void *, size_t, off_t);
	int (*epoll_create)(int);
	int (*epoll_create1)(int);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
	int (*epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *,
	                    const sigset_t *);
	pid_t (*_Fork)(void);
	/* the rarer byte paths (hook_bytepath_*.c) */
	ssize_t (*preadv2)(int, const struct iovec *, int, off_t, int);
	ssize_t (*pwritev2)(int, const struct iovec *, int, off_t, int);
	ssize_t (*preadv64v2)(int, const struct iovec *, int, off_t, int);
	ssize_t (*pwritev64v2)(int, const struct iovec *, int, off_t, int);
	int (*vdprintf)(int, const char *, va_list);
	int (*__vdprintf_chk)(int, int, const char *, va_list);
	long (*syscall)(long, ...);
	void (*backtrace_symbols_fd)(void *const *, int, int);
	void *aio_read, *aio_write, *aio_read64, *aio_write64, *lio_listio, *lio_listio64;
	/* libc internals stdstream.c walks every FILE with (libio's iterator,
	 * exported, in no public header): taken here rather than linked by
	 * name, because the executable comes first in the global scope and a
	 * program may define functions of these names (tlsshim(1) CAVEATS). */
	FILE *(*_IO_iter_begin)(void);
	FILE *(*_IO_iter_end)(void);
	FILE *(*_IO_iter_next)(FILE *);
	FILE *(*_IO_iter_file)(FILE *);
	void (*_IO_list_lock)(void);
	void (*_IO_list_unlock)(void);
};

extern struct ts_real ts_real;
extern atomic_int ts_real_ready;
/* Resolves the table once (pthread_once); safe before the constructor. A
 * symbol that resolves to tlsshim itself aborts with a message. */
const struct ts_real *ts_real_resolve(void);
/* libc's function `name`, resolving the table first if a hook runs before
 * the constructor. May be NULL for functions this libc lacks. One load on
 * the pass-through path: the resolved pointer itself says it is ready. */
#define TS_REAL(name)                                                              \
	({                                                                         \
		__typeof__(ts_real.name) f_ = __atomic_load_n(&ts_real.name,       \
		                                              __ATOMIC_ACQUIRE);   \
		TS_LIKELY(f_ != NULL) ? f_ : ts_real_resolve()->name;              \
	})

/* libc's read, write, recv, send, recvfrom, sendto, recvmsg, sendmsg,
 * readv or writev: never NULL (trampolines until the table is resolved),
 * so the hook jumps through the entry without testing it. A plain load: the
 * entry is written once, in the constructor or by the first trampoline
 * (under pthread_once), from one valid function pointer to another, and an
 * aligned pointer load cannot tear; an atomic load here costs GCC an
 * extra instruction on the pass-through path. */
#define TS_REAL_HOT(name) (ts_real.name)

/* The I/O seam handed to the core: the real recv/send/poll/..., so that
 * OpenSSL's socket I/O never re-enters the hooks. */
const struct sslsocket_io *ts_real_io(void);

/* Nesting depth of tlsshim's own work on this thread where libc calls back
 * into hooks on its own: building rules and contexts (libconfig, OpenSSL
 * reading files), the resolver and exec hooks consult it. Never set around
 * core calls (the core reaches sockets only through ts_real_io()), and no
 * descriptor hook consults it: a signal handler that interrupts tlsshim's
 * work and writes to a wrapped socket still goes through TLS.
 * initial-exec so that reading it never allocates. */
extern __thread int ts_depth __attribute__((tls_model("initial-exec")));

#endif /* TLSSHIM_REAL_H */
