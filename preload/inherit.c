/*
 * inherit.c - wrapped descriptors across exec.
 *
 * TLS state lives in this process's memory and cannot cross exec: a
 * wrapped socket inherited by a new program would carry that program's
 * bytes in plaintext into a stream the peer reads as TLS, and hand it
 * ciphertext. So wrapped descriptors are always close-on-exec, and the
 * calls that clear the flag on one (fcntl F_SETFD, ioctl FIONCLEX: Python's
 * os.set_inheritable) succeed but leave it set (conn_fd.c). Succeeding is
 * deliberate: the program's own work goes on (subprocess's pass_fds, a
 * daemon that execs a handler), only the child does not get the socket.
 *
 * What the program meant is remembered here, so that the exec that then
 * closes the descriptor says so at warn (issue 12 item 4: a daemon handing
 * a connection to a child, as git daemon and inetd-style servers do by
 * dup2'ing it onto 0 and 1, would otherwise fail silently). A few slots of
 * (descriptor, connection) pairs, atomics only: exec often runs in the
 * child of fork or vfork, where no lock may be taken.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "conn.h"
#include "fdtab.h"
#include "inherit.h"
#include "log.h"
#include "real.h"

#define SLOTS 64

static atomic_int slot_fd[SLOTS];
static _Atomic(struct ts_conn *) slot_conn[SLOTS];

void ts_inherit_want(int fd, struct ts_conn *c)
{
	int i, pick = fd % SLOTS;

	if (fd < 0)
		return;
	for (i = 0; i < SLOTS; i++)
		if (atomic_load(&slot_conn[i]) == NULL || atomic_load(&slot_fd[i]) == fd) {
			pick = i;
			break;
		}
	atomic_store(&slot_fd[pick], fd);
	atomic_store(&slot_conn[pick], c);
}

void ts_inherit_drop(int fd)
{
	int i;

	for (i = 0; i < SLOTS; i++)
		if (atomic_load(&slot_fd[i]) == fd)
			atomic_store(&slot_conn[i], NULL);
}

static int wanted(int fd, const struct ts_conn *c)
{
	int i;

	if (fd <= 2)
		return 1;
	for (i = 0; i < SLOTS; i++)
		if (atomic_load(&slot_fd[i]) == fd && atomic_load(&slot_conn[i]) == c)
			return 1;
	return 0;
}

void ts_inherit_warn(const char *what)
{
	int fd, top;

	if (ts_depth > 0 || (top = atomic_load(&ts_fd_high)) == 0)
		return;
	for (fd = 0; fd < top; fd++) {
		/* no reference (this may run in a vfork child): a racing close
		 * only costs a line */
		struct ts_conn *c = ts_conn_of(ts_fd_unref(fd));

		if (c == NULL || !wanted(fd, c))
			continue;
		ts_log(CFG_LOG_WARN,
		       "exec %s: descriptor %d (TLS connection, %s %s) is closed in the new program: "
		       "TLS state cannot cross exec, and without it the socket would carry the "
		       "program's bytes in plaintext, so wrapped descriptors stay close-on-exec "
		       "(wrap the new program's own connections instead)",
		       what, fd, c->side, c->peer);
	}
}
