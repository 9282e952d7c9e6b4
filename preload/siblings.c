/*
 * siblings.c - numbers a socket had before connect wrapped it.
 *
 * dup (or dup2, fcntl F_DUPFD, an inherited or received copy) of a socket
 * that is not connected yet makes a second number the table does not know:
 * when connect then wraps one of them, writes on the other would go to the
 * same connection in clear, and reads from it would hand the program TLS
 * records. So when a connect wraps a socket, every other descriptor of this
 * process that names the same socket (same st_dev and st_ino; the list of
 * open descriptors from /proc/self/fd, read with getdents64 into a stack
 * buffer) becomes one more name of the connection, as dup makes it
 * (close-on-exec set). Only numbers that took part in a copy can be such
 * names (fdcopies.h), so a connect pays an fstat per marked number, not
 * per open descriptor; accept makes a fresh descriptor and needs none of
 * it.
 *
 * Copies held by another process (a fork before connect) cannot be made
 * names of a connection that process does not have: they are refused
 * instead. A fork leaves every TCP socket made since the last one and not
 * connected yet (fdcopies.h's second set) to both processes as a
 * TS_KIND_FORKED table entry; the hooks' lookup asks the kernel about it
 * on its first call: still unconnected, the call is the kernel's; connected
 * (by the other process, or by this one without a rule) to a destination
 * a connect rule wraps, every call on it fails with EPROTO and one warn
 * line says why (its bytes would go out in clear beside the other
 * process's TLS, its reads would hand the program TLS records); connected
 * elsewhere, the entry goes and the socket is plain, as it was.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytepath.h"
#include "conn.h"
#include "fdcopies.h"
#include "fdtab.h"
#include "init.h"
#include "log.h"
#include "names.h"
#include "real.h"
#include "sockprops.h"

/* other becomes one more name of fd's connection when it names the same
 * socket (me is fd's fstat). */
static void adopt_if_sibling(int fd, long other, const struct stat *me)
{
	struct stat st;

	if (other == fd || other < 0 || other >= TS_FD_MAX || !TS_PLAIN((int)other))
		return;
	if (fstat((int)other, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_dev != me->st_dev ||
	    st.st_ino != me->st_ino)
		return;
	ts_fd_dup(fd, (int)other);
	(void)ts_set_cloexec((int)other);
	ts_log(CFG_LOG_DEBUG, "fd %ld names the socket fd %d connects: "
	       "one more name of the connection", other, fd);
}

struct sibling_search {
	int fd;
	const struct stat *me;
};

static void adopt_one(int other, void *arg)
{
	const struct sibling_search *q = arg;

	adopt_if_sibling(q->fd, other, q->me);
}

void ts_fd_adopt_siblings(int fd)
{
	struct stat me;
	int saved = errno, other;

	if (fstat(fd, &me) < 0 || !S_ISSOCK(me.st_mode))
		goto out;
	if (ts_fdcopy_marked(fd)) {
		/* fd itself was copied: its other names can be any number (the
		 * dup's old side, a received copy's original). */
		struct sibling_search q = { fd, &me };

		ts_fd_each_open(adopt_one, &q);
		goto out;
	}
	/* fd was never copied: its other names, if any, are copies (marked). */
	for (other = ts_fdcopy_next(0); other >= 0; other = ts_fdcopy_next(other + 1))
		adopt_if_sibling(fd, other, &me);
out:
	errno = saved;
}

/* ---- copies in another process ------------------------------------------ */

/* 1 when fd is a socket that is neither connected nor listening. */
static int unconnected(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss, vl;
	int v = 0;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 || errno != ENOTCONN)
		return 0;
	vl = sizeof v;
	return TS_REAL(getsockopt)(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0 && !v;
}

void ts_fd_watch_forked(void)
{
	int saved = errno, fd;

	for (fd = ts_fdfresh_next(0); fd >= 0; fd = ts_fdfresh_next(fd + 1)) {
		struct ts_fdobj *o;

		if (!unconnected(fd)) {
			ts_fdfresh_clear(fd); /* connected, listening or closed */
			continue;
		}
		if (!TS_PLAIN(fd))
			continue; /* watched since an earlier fork */
		o = ts_fdobj_new(TS_KIND_FORKED);
		if (o != NULL && ts_fd_install(fd, o) < 0)
			ts_fd_release(o);
	}
	errno = saved;
}

int ts_fd_forked_check(int fd, struct ts_fdobj *o)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	const struct cfg_rule *rule;
	char name[TS_NAME_LEN], peer[64];
	int saved = errno;

	if (atomic_load(&o->flags) & TS_F_ABANDONED)
		return -1;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0) {
		errno = saved; /* not connected: the kernel answers the call */
		return 0;
	}
	rule = ts_names_match(ts_rules, CFG_CONNECT, (struct sockaddr *)&ss, sl, name, sizeof name);
	errno = saved;
	if (rule == NULL || rule->passthrough)
		return 1;
	if (!(atomic_fetch_or(&o->flags, TS_F_ABANDONED) & TS_F_ABANDONED)) {
		ts_addr_format((struct sockaddr *)&ss, sl, peer, sizeof peer);
		ts_log(CFG_LOG_WARN,
		       "fd %d: socket connected by another process (fork before connect) to %s, "
		       "which rule %s:%d \"%s\" wraps: the TLS connection is that process's; "
		       "reads and writes on this copy are refused",
		       fd, peer, rule->file, rule->line, rule->match_text);
	}
	errno = saved;
	return -1;
}
