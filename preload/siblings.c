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
 * it. Copies held by other processes (a fork
 * before connect) are not reachable from here (tlsshim(1), CAVEATS).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytepath.h"
#include "fdcopies.h"
#include "fdtab.h"
#include "log.h"
#include "real.h"

/* other becomes one more name of fd's connection when it names the same
 * socket (me is fd's fstat). */
static void adopt_if_sibling(int fd, long other, const struct stat *me)
{
	struct stat st;
	int fl;

	if (other == fd || other < 0 || other >= TS_FD_MAX || !TS_PLAIN((int)other))
		return;
	if (fstat((int)other, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_dev != me->st_dev ||
	    st.st_ino != me->st_ino)
		return;
	ts_fd_dup(fd, (int)other);
	fl = TS_REAL(fcntl)((int)other, F_GETFD);
	if (fl >= 0 && !(fl & FD_CLOEXEC))
		TS_REAL(fcntl)((int)other, F_SETFD, fl | FD_CLOEXEC);
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
