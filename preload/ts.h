/*
 * ts.h - the inside of libtlsshim.so, shared by the files of preload/.
 *
 * Files and their concerns:
 *   real.c        the table of libc's real functions (dlsym RTLD_NEXT),
 *                 the per-thread depth counter, the core's I/O seam
 *   fdtab.c       descriptor -> connection table, the connection objects'
 *                 lifetime (dup, close, fork ownership)
 *   names.c       address -> host name cache fed by the resolver hooks
 *   log.c         log lines (stack buffer + the real write)
 *   execcheck.c   what is privileged (setuid, setgid, file capabilities)
 *   exec.c        the exec/posix_spawn policy around it
 *   envkeep.c     LD_PRELOAD and the rules carried across exec
 *   init.c        constructor: rules, contexts, log, fork handlers
 *   conn_open.c   connect and accept: matching and wrapping
 *   conn_io.c     reads, writes, shutdown, teardown through the core
 *   conn_fd.c     close, close_range, dup*, fcntl, ioctl, setsockopt,
 *                 getsockopt(SO_ERROR)
 *   conn_copy.c   sendfile, splice, sendmmsg, recvmmsg through TLS
 *   readiness.c   the one readiness engine: what is ready, what to ask
 *                 the kernel for (readiness.h)
 *   ready.c       poll, ppoll, select, pselect over TLS readiness
 *   epoll.c       epoll over TLS readiness (recorded registrations, an
 *                 inbox of connections that changed: O(ready) waits)
 *   cookie.c      fdopen on a wrapped socket: a fopencookie stream
 *   hook_*.c      the exported wrappers (nothing else may reference them)
 *
 * Every name here carries the ts_ prefix and hidden visibility (the
 * Makefile compiles with -fvisibility=hidden and the version script keeps
 * only the hooks).
 */
#ifndef TLSSHIM_TS_H
#define TLSSHIM_TS_H

#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "config.h"
#include "sslsocket.h"

#define TS_UNUSED __attribute__((unused))
#define TS_LIKELY(x) __builtin_expect(!!(x), 1)
#define TS_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- real.c: libc's functions ------------------------------------------ */

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

/* ---- fdtab.c: descriptors and connections ------------------------------ */

#define TS_FD_MAX (1 << 20)

enum ts_kind {
	TS_KIND_CONN = 1,     /* a wrapped (or failed) TLS connection */
	TS_KIND_LISTENER = 2, /* a listening socket, its accept rule cached */
	TS_KIND_EPOLL = 3     /* an epoll instance, its registrations recorded */
};

/* epoll instances a connection tells of its changes directly; a
 * registration beyond them is looked at on every wait. */
#define TS_EPW_MAX 4

struct ts_epset;

enum ts_flag {
	TS_F_FAILED = 1 << 0,     /* handshake/verification failed: fail closed */
	TS_F_WR_SHUT = 1 << 1,    /* close_notify sent for the write side */
	TS_F_RD_SHUT = 1 << 2,    /* the program shut the read side */
	TS_F_LOGGED = 1 << 3,     /* the info line was written */
	TS_F_FAIL_LOGGED = 1 << 4,/* the warn line was written */
	TS_F_CLOSING = 1 << 5,    /* no descriptor names it any more */
	TS_F_HELD = 1 << 6,       /* the program closed core_fd; we hold it open */
	TS_F_CORE_LOST = 1 << 7,  /* core_fd was replaced (dup2 onto it) */
	TS_F_HS_DONE = 1 << 8,    /* the handshake completed (seen once) */
	TS_F_KEEP_FD = 1 << 9,    /* teardown leaves core_fd open: dup2 replaces it */
	TS_F_COUNTED = 1 << 10,   /* counted open in the status file (stats.h) */
	TS_F_SNIFF = 1 << 11,     /* allow_plaintext: TLS or not is undecided (sniff.h) */
	TS_F_PLAIN = 1 << 12,     /* allow_plaintext: a plaintext client, passed through */
	TS_F_OUR_CLOEXEC = 1 << 13 /* close-on-exec was set by tlsshim, not the program */
};

struct ts_conn {
	/* Lifetime: `users` is 1 while any descriptor names the object, plus
	 * one per call in flight; the object is torn down when it reaches 0.
	 * Objects are recycled, never freed, so a racing lookup can always
	 * test the counter (see ts_conn_acquire). */
	atomic_int users;
	atomic_int fdrefs;     /* descriptors (of this process) naming it */
	atomic_int flags;      /* enum ts_flag */
	int kind;              /* enum ts_kind */
	int core_fd;           /* the descriptor the core borrowed */
	sslsocket *s;
	const struct cfg_rule *rule;
	/* After fork both processes hold the object; only one that did I/O
	 * since the last fork may send close_notify (ts_conn_is_owner). */
	atomic_uint owner_epoch;
	atomic_int owner_pid;
	/* The program's view of the blocking mode, never the socket's flags. */
	atomic_int nonblock;
	atomic_int rcvtimeo_ms;  /* SO_RCVTIMEO, -1: none */
	atomic_int sndtimeo_ms;  /* SO_SNDTIMEO, -1: none */
	/* recv(MSG_PEEK): bytes read from TLS but not consumed yet. */
	pthread_mutex_t peek_lock;
	unsigned char *peek_buf;
	size_t peek_len, peek_off, peek_cap;
	atomic_size_t peek_avail;  /* peek_len - peek_off, readable unlocked */
	/* The epoll instances watching it (epoll.c): when its TLS state may
	 * have changed (I/O, a handshake step, an error), ts_conn_changed
	 * notes it in each one's inbox, so that epoll_wait looks at what
	 * changed and never at idle registrations. */
	struct ts_epwatch {
		_Atomic(struct ts_epset *) set;
		atomic_int fd;       /* the descriptor registered there */
		atomic_int queued;   /* already in that instance's inbox */
	} epw[TS_EPW_MAX];
	atomic_int epw_count;
	/* What getsockopt(SO_ERROR) owes the program, once: EPROTO when a
	 * readiness call (which reports no errno) saw the handshake of a
	 * non-blocking connect fail (CONTRACT.md). */
	atomic_int so_error;
	/* Logs. */
	char peer[64];         /* "127.0.0.1:4433", "[::1]:4433" */
	char sni[256];         /* the name sent as SNI, "" if none */
	const char *side;      /* "connect" or "accept" */
	/* epoll instances: the recorded registrations (epoll.c). */
	struct ts_epset *ep;
	/* allow_plaintext: when a silent client is taken for plaintext
	 * (CLOCK_MONOTONIC ms), while TS_F_SNIFF is set. */
	long long sniff_deadline;
	/* The socket's st_dev/st_ino, 0 until fdadopt.c needs them. */
	unsigned long long sock_dev, sock_ino;
	struct ts_conn *next_free;
};

extern _Atomic(struct ts_conn *) ts_fdtab[TS_FD_MAX];
/* Highest descriptor ever installed + 1 (bounds close_range scans). */
extern atomic_int ts_fd_high;

/* The fast-path test: NULL for every descriptor tlsshim does not own. */
static inline struct ts_conn *ts_fd_peek(int fd)
{
	if (TS_UNLIKELY((unsigned)fd >= TS_FD_MAX))
		return NULL;
	return atomic_load_explicit(&ts_fdtab[fd], memory_order_acquire);
}

/* A new object (users 1, fdrefs 0, flags 0), not yet installed. */
struct ts_conn *ts_conn_new(int kind);
/* Installs c at fd (fdrefs + 1). A stale object at fd (a descriptor closed
 * behind our back, e.g. by a raw syscall) is dropped without any I/O.
 * Returns -1 (EMFILE) when fd is beyond the table. */
int ts_fd_install(int fd, struct ts_conn *c);
/* Takes a reference on the object at fd, or NULL. Pair with
 * ts_conn_release. */
struct ts_conn *ts_conn_acquire(int fd);
/* 1 if fd is a number the program closed but the core still uses (the
 * program gets EBADF on it). */
int ts_fd_held(int fd);
void ts_conn_release(struct ts_conn *c);

/* What the caller must do with the real descriptor after ts_fd_detach. */
enum ts_detach {
	TS_DETACH_NONE = 0,    /* fd was not ours: call the real function */
	TS_DETACH_BADF = 3,    /* fd is a number the program already closed
	                          (held for the core): EBADF */
	TS_DETACH_CLOSE = 1,   /* close fd with the real close now */
	TS_DETACH_KEEP = 2     /* do not close: the core still uses this
	                          descriptor (held until teardown) */
};
/* The program stops naming fd (close, dup2 onto it, close_range). The
 * connection is torn down when its last descriptor goes and no call is in
 * flight; teardown sends close_notify if this process owns it. */
enum ts_detach ts_fd_detach(int fd);
/* The same for dup2/dup3 onto fd: a teardown it causes now sends
 * close_notify but leaves fd open for the kernel to replace (KEEP). */
enum ts_detach ts_fd_detach_replacing(int fd);
/* fd was closed by something that cannot be undone (dup2/dup3 onto it,
 * the kernel already replaced it): like ts_fd_detach, but if the core's
 * descriptor is lost while the connection lives on, it is marked failed. */
void ts_fd_replaced(int fd);
/* newfd now names the same connection as oldfd (dup, dup2, F_DUPFD). */
void ts_fd_dup(int oldfd, int newfd);
/* Drops a stale object at fd without I/O (fd is known to be fresh). */
void ts_fd_forget(int fd);

/* Called (once, with no lock held) when a connection object dies: sends
 * close_notify when `send_notify`, frees the core socket, and closes the
 * core's descriptor when `close_core_fd`. Set by init.c; the unit tests set
 * their own. */
extern void (*ts_conn_teardown_hook)(struct ts_conn *c, int send_notify,
                                     int close_core_fd);

/* Fork: epoch and pid of this process (updated by the atfork handlers). */
extern atomic_uint ts_epoch;
extern atomic_int ts_pid;
void ts_fork_prepare(void);
void ts_fork_parent(void);
void ts_fork_child(void);
/* The child's side of _Fork (no prepare handler ran: no lock is held). */
void ts_fork_child_nolock(void);
/* Records that this process did I/O on c. */
void ts_conn_touch(struct ts_conn *c);
/* 1 if this process did I/O on c since its last fork (or never forked and
 * did I/O, or nobody did any). */
int ts_conn_is_owner(const struct ts_conn *c);

/* Descriptors installed, for tests. */
size_t ts_fd_count(void);

/* ---- names.c ----------------------------------------------------------- */

#define TS_NAMES_MAX 512
#define TS_NAME_LEN 256

/* Remembers that the process resolved `name` to the address sa (lower
 * cased; IP literals are ignored). Thread-safe, bounded (oldest out). */
void ts_names_add(const struct sockaddr *sa, socklen_t len, const char *name);
void ts_names_add_raw(int family, const void *addr, const char *name);
/* Copies up to max names resolved to sa (newest first) into out; returns
 * the count. IPv4-mapped IPv6 addresses find IPv4 entries. */
size_t ts_names_lookup(const struct sockaddr *sa, socklen_t len,
                       char out[][TS_NAME_LEN], size_t max);
/* The rule of side `side` for sa, matched against every name the process
 * resolved to sa (no name a rule can match is ever evicted). name (cap
 * bytes) receives the name the connection is bound to: the one that made
 * a name rule match, else the newest name resolved to sa, else "". */
const struct cfg_rule *ts_names_match(const struct cfg_ruleset *rs, enum cfg_side side,
                                      const struct sockaddr *sa, socklen_t len, char *name,
                                      size_t cap);
void ts_names_clear(void);
/* 1 if s is an IPv4 or IPv6 literal. */
int ts_is_ip_literal(const char *s);
/* Fork handlers for the cache's lock. */
void ts_names_lock(void);
void ts_names_unlock(void);
void ts_names_reinit(void);

/* ---- log.c ------------------------------------------------------------- */

/* Level from the rule set; fd -1 means stderr. */
void ts_log_setup(enum cfg_log_level level, int fd);
int ts_log_enabled(enum cfg_log_level level);
/* "tlsshim[PID]: " + text + "\n", one write(2) with the real write. No
 * allocation: the line is formatted on the stack and cut at 1 KiB. */
void ts_log(enum cfg_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ts_vlog(enum cfg_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Formats a line without writing it (the unit tests check the format). */
size_t ts_log_format(char *buf, size_t cap, int pid, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
/* "127.0.0.1:4433" / "[::1]:4433" / "?" */
void ts_addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap);

/* ---- execcheck.c ------------------------------------------------------- */

/* Why an exec of path would lose LD_PRELOAD: "setuid", "setgid",
 * "file capabilities", or NULL when it is an ordinary program (or does not
 * exist: exec itself reports that). */
const char *ts_exec_privileged_path(const char *path);
const char *ts_exec_privileged_fd(int fd);
/* As execvp and posix_spawnp find `file` in PATH (envp's PATH when envp is
 * given, else the process's): the full path into buf, or NULL when not
 * found. A file containing '/' is itself. */
const char *ts_exec_search(const char *file, char *const envp[], char *buf, size_t cap);

/* ---- exec.c ------------------------------------------------------------ */

/* 0 when exec may go on; -1 (a warn line written) when the target is
 * privileged, a configuration is loaded and allow_setuid_exec is false. */
int ts_exec_check_path(const char *path);
int ts_exec_check_file(const char *file);   /* searched in PATH */
int ts_exec_check_fd(int fd);
int ts_exec_check_at(int dirfd, const char *path, int flags);
/* -1 (a warn line written) when posix_spawn's file actions would dup2 a
 * wrapped connection into the child. */
int ts_spawn_check_actions(const posix_spawn_file_actions_t *fa);

/* ---- envkeep.c --------------------------------------------------------- */

/* The exec family hands the new image this library and the rules
 * (LD_PRELOAD, TLSSHIM_*) even when the program cleared its environment.
 * ts_envkeep_size: 0 when envp needs nothing (or the process is inert),
 * else the entries of the merged array to allocate (on the stack);
 * ts_envkeep_ldcap: the bytes of the LD_PRELOAD entry it may build;
 * ts_envkeep_merge: the environment to exec with (out, or envp when it
 * cannot be built). Nothing is allocated: exec runs in fork's child. */
size_t ts_envkeep_size(char *const envp[]);
size_t ts_envkeep_ldcap(char *const envp[]);
char *const *ts_envkeep_merge(char *const envp[], char **out, size_t cap, char *ld, size_t ldcap);

/* ---- init.c ------------------------------------------------------------ */

/* The rule set, NULL when inert. Set once by the constructor. */
extern const struct cfg_ruleset *ts_rules;
/* Runs the constructor's work once (a hook may get here first). */
void ts_init(void);
/* 1 when a configuration is loaded. Triggers ts_init. */
int ts_active(void);
/* The SSLKEYLOGFILE path, or NULL. */
const char *ts_keylog_file(void);

/* ---- conn_open.c ------------------------------------------------------- */

int ts_connect(int fd, const struct sockaddr *addr, socklen_t len);
int ts_accept(int fd, struct sockaddr *addr, socklen_t *len, int flags, int is_accept4);
/* After a successful listen: if an accept rule matches fd, builds its
 * context now. Keeps errno. */
void ts_listen_prepare(int fd);
/* sendto/sendmsg with MSG_FASTOPEN and an address on an unwrapped socket
 * (the data would ride in the SYN, in clear): when a rule matches, connects
 * through ts_connect instead. Returns 0 to pass through, 1 when the call
 * failed (*ret = -1, errno set), -1 when the socket is now wrapped and the
 * caller must write through the connection without MSG_FASTOPEN. */
int ts_fastopen(int fd, const struct sockaddr *addr, socklen_t len, ssize_t *ret);

/* ---- conn_io.c --------------------------------------------------------- */

ssize_t ts_conn_read(struct ts_conn *c, void *buf, size_t n, int flags);
ssize_t ts_conn_readv(struct ts_conn *c, const struct iovec *iov, int iovcnt, int flags);
ssize_t ts_conn_write(struct ts_conn *c, const void *buf, size_t n, int flags);
ssize_t ts_conn_writev(struct ts_conn *c, const struct iovec *iov, int iovcnt, int flags);
ssize_t ts_conn_recvmsg(struct ts_conn *c, int fd, struct msghdr *msg, int flags);
ssize_t ts_conn_recvfrom(struct ts_conn *c, int fd, void *buf, size_t n, int flags,
                         struct sockaddr *addr, socklen_t *alen);
int ts_conn_shutdown(struct ts_conn *c, int fd, int how);
/* The close family: ends fd's use of its connection. */
int ts_close(int fd);
int ts_close_range(unsigned lo, unsigned hi, int flags);
void ts_closefrom(int lo);
int ts_dup(int oldfd);
int ts_dup2(int oldfd, int newfd);
int ts_dup3(int oldfd, int newfd, int flags);
/* fcntl/ioctl/setsockopt on a wrapped descriptor: track what the program
 * asked for, then do it. */
int ts_fcntl(int fd, int cmd, void *arg, int (*real)(int, int, ...));
int ts_ioctl(int fd, unsigned long req, void *arg);
int ts_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
/* getsockopt(SOL_SOCKET, SO_ERROR) on a wrapped descriptor: the error of a
 * non-blocking connect that the core consumed while driving it, once. */
int ts_getsockopt_error(int fd, void *val, socklen_t *len);
/* The core's teardown (installed as ts_conn_teardown_hook). */
void ts_conn_teardown(struct ts_conn *c, int send_notify, int close_core_fd);
/* Logs the info line once the handshake is done, or the warn line once it
 * failed. */
void ts_conn_log_state(struct ts_conn *c);
/* The warn line of a failed connection, once (whoever finds the failure
 * first: a read, a write, or a readiness call that processed the record). */
void ts_conn_log_failure(struct ts_conn *c);
/* Drives a connect or handshake in progress as far as it goes without
 * blocking, for a caller that reports no errno (poll, epoll, getsockopt):
 * a failure is logged, marked (TS_F_FAILED) and owed to the program as
 * getsockopt(SO_ERROR) = EPROTO. Nothing once established or failed. */
void ts_conn_drive(struct ts_conn *c);
/* Reads the program's blocking mode and timeouts off the descriptor. */
void ts_conn_load_mode(struct ts_conn *c, int fd);

/* ---- conn_copy.c ------------------------------------------------------- */

/* sendfile onto a wrapped socket: the file's bytes through TLS. */
ssize_t ts_conn_sendfile(struct ts_conn *c, int in_fd, off_t *offset, size_t count);
/* splice from a pipe into a wrapped socket, and from one into a pipe. */
ssize_t ts_conn_splice_out(struct ts_conn *c, int in_fd, size_t len, unsigned flags);
ssize_t ts_conn_splice_in(struct ts_conn *c, int out_fd, size_t len, unsigned flags);
int ts_conn_sendmmsg(struct ts_conn *c, struct mmsghdr *v, unsigned n, int flags);
int ts_conn_recvmmsg(struct ts_conn *c, int fd, struct mmsghdr *v, unsigned n, int flags);

/* ---- ready.c ----------------------------------------------------------- */

/* 1 if any descriptor of the set is in the table (the hooks' fast test). */
int ts_poll_has_wrapped(const struct pollfd *fds, nfds_t n);
int ts_select_has_wrapped(int nfds, const fd_set *rd, const fd_set *wr, const fd_set *ex);
/* poll/ppoll and select/pselect over wrapped sockets (timeout_ms -1:
 * forever; sigmask applied around the kernel wait as ppoll/pselect do). */
int ts_poll(struct pollfd *fds, nfds_t n, int timeout_ms, const sigset_t *sigmask);
int ts_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int timeout_ms,
              const sigset_t *sigmask);

/* Bytes waiting in the peek buffer (recv MSG_PEEK, FIONREAD, splice). */
static inline size_t ts_conn_peeked(const struct ts_conn *c)
{
	return atomic_load_explicit(&c->peek_avail, memory_order_acquire);
}

/* ---- epoll.c ----------------------------------------------------------- */

/* Instances are pooled, never freed (a connection's note may race with the
 * instance's end, as ts_conn objects are). */
struct ts_epset *ts_epset_new(void);
void ts_epset_free(struct ts_epset *e);
/* epoll_ctl on an instance tlsshim records (e is the instance's set). */
int ts_epoll_ctl(struct ts_epset *e, int epfd, int op, int fd, struct epoll_event *ev);
/* epoll_wait/epoll_pwait: TLS readiness for wrapped descriptors, the
 * kernel's for the others. timeout_ms -1 is forever. */
int ts_epoll_wait(struct ts_epset *e, int epfd, struct epoll_event *out, int max, int timeout_ms,
                  const sigset_t *sigmask);
/* c's TLS state may have changed: it goes into the inbox of every epoll
 * instance watching it (ts_conn_changed is the cheap test in front). */
void ts_epoll_note(struct ts_conn *c);
/* fd was just wrapped (connect): an instance that registered the plain
 * socket before takes it up at its next wait. */
void ts_epoll_adopt(int fd, struct ts_conn *c);
/* Connections evaluated by epoll_wait so far (both passes), for tests. */
extern atomic_ulong ts_epoll_visits;

static inline void ts_conn_changed(struct ts_conn *c)
{
	if (atomic_load_explicit(&c->epw_count, memory_order_relaxed) != 0)
		ts_epoll_note(c);
}

/* ---- cookie.c ---------------------------------------------------------- */

FILE *ts_fdopen(int fd, const char *mode);

/* ---- hook support ------------------------------------------------------ */

/* The exported wrappers (hook_*.c only; the version script lists them). */
#define TS_EXPORT __attribute__((visibility("default")))
/* A hook's work on wrapped descriptors, kept out of the hook itself so
 * that the pass-through path has no stack frame and no canary: a bounds
 * check, a load, a compare and a jump to libc (bench/: <= 8 instructions). */
#define TS_SLOW_PATH __attribute__((noinline))

/* A hook's test: 1 when the call must go straight to libc (a descriptor
 * tlsshim does not own). One bounds check, one load, one compare; no errno
 * change. */
#define TS_PLAIN(fd) TS_LIKELY(ts_fd_peek(fd) == NULL)

/* The same test for the read and write families, one instruction shorter:
 * the descriptor is masked into the table instead of bounds-checked. A
 * number the mask folds onto a wrapped one (only possible above the
 * table's 2^20, or negative) takes the slow path, whose exact lookup finds
 * nothing and calls libc. */
#define TS_PLAIN_HOT(fd)                                                               \
	TS_LIKELY(atomic_load_explicit(&ts_fdtab[(unsigned)(fd) & (TS_FD_MAX - 1)],      \
	                               memory_order_acquire) == NULL)

/* The slow path of an I/O hook: the connection at fd, or NULL with
 * *pass = 1 (call the real function: a listener, or a race with close) or
 * *pass = 0 (fail: errno is set, EBADF for a number the program closed). */
struct ts_conn *ts_io_acquire(int fd, int *pass);

/* The body of a read or write hook's slow path: `call` runs with c_, the
 * connection at fd, and its result is returned; a descriptor that is not
 * a connection falls through to the code after it (the real call), one
 * the program closed returns -1 (EBADF). */
#define TS_SLOW_IO(fd, call)                                          \
	do {                                                    \
		int pass_;                                      \
		ssize_t r_;                                     \
		struct ts_conn *c_ = ts_io_acquire((fd), &pass_); \
		if (c_ == NULL && !pass_)                       \
			return -1;                              \
		if (c_ != NULL) {                               \
			r_ = (call);                            \
			ts_conn_release(c_);                    \
			return r_;                              \
		}                                               \
	} while (0)

#endif /* TLSSHIM_TS_H */
