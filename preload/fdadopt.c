/*
 * fdadopt.c - second descriptors for a wrapped connection that no dup()
 * made: a socket the process sent to itself with SCM_RIGHTS (recvmsg,
 * recvmmsg, on any socket, unix included) or fetched with pidfd_getfd.
 *
 * The kernel hands the program a new number for the same open socket; the
 * table knew nothing of it, so the program's writes on it went out in
 * plaintext into the TLS stream, and its reads returned ciphertext. The
 * new number is matched to a connection by the socket's identity (st_dev
 * and st_ino of the descriptor: one per open socket) and tracked as a dup
 * of it. A socket whose connection already ended in this process (the
 * program closed its last name while the message was in flight: the
 * close_notify went out) cannot be resumed: its new number enters the
 * table as failed, so nothing reaches the wire in clear. A socket of
 * another process's connection carries no TLS state we could know and is
 * left alone (tlsshim(1) CAVEATS).
 *
 * Cost: nothing on recvmsg's pass-through path unless the program asked
 * for control data; then one fstat per received descriptor and one scan
 * of the table (each connection's identity is cached on first use).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "compiler.h"
#include "conn.h"
#include "fdadopt.h"
#include "fdcopies.h"
#include "fdtab.h"
#include "log.h"
#include "sockprops.h"

/* Identities of ended connections, newest last (a ring). */
#define RETIRED_MAX 256
static pthread_mutex_t retired_lock = PTHREAD_MUTEX_INITIALIZER;
TS_LARGE(static struct {
	dev_t dev;
	ino_t ino;
} retired[RETIRED_MAX]);
static unsigned retired_next, retired_count;

static int sock_id(int fd, dev_t *dev, ino_t *ino)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return -1;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

/* The connection's socket identity, cached in the object. */
static int conn_id(struct ts_conn *c, dev_t *dev, ino_t *ino)
{
	if (c->sock_ino == 0) {
		if (c->core_fd < 0 || (atomic_load(&c->obj.flags) & TS_F_CORE_LOST) ||
		    sock_id(c->core_fd, dev, ino) < 0)
			return -1;
		c->sock_dev = (unsigned long long)*dev;
		c->sock_ino = (unsigned long long)*ino;
	}
	*dev = (dev_t)c->sock_dev;
	*ino = (ino_t)c->sock_ino;
	return 0;
}

void ts_fd_adopt_retire(struct ts_conn *c)
{
	dev_t dev;
	ino_t ino;
	int saved = errno;

	if (conn_id(c, &dev, &ino) < 0) {
		errno = saved;
		return;
	}
	pthread_mutex_lock(&retired_lock);
	retired[retired_next].dev = dev;
	retired[retired_next].ino = ino;
	retired_next = (retired_next + 1) % RETIRED_MAX;
	if (retired_count < RETIRED_MAX)
		retired_count++;
	pthread_mutex_unlock(&retired_lock);
	errno = saved;
}

static int is_retired(dev_t dev, ino_t ino)
{
	unsigned i;
	int r = 0;

	pthread_mutex_lock(&retired_lock);
	for (i = 0; i < retired_count && !r; i++)
		r = retired[i].dev == dev && retired[i].ino == ino;
	pthread_mutex_unlock(&retired_lock);
	return r;
}

/* The live connection whose socket is (dev, ino), with a reference. */
static struct ts_conn *find_conn(int newfd, dev_t dev, ino_t ino)
{
	int fd, top = atomic_load(&ts_fd_high);

	for (fd = 0; fd < top; fd++) {
		struct ts_conn *c;
		dev_t d;
		ino_t i;

		if (fd == newfd || TS_PLAIN(fd) || ts_conn_lookup(fd, &c) != TS_FD_OURS)
			continue;
		if (conn_id(c, &d, &i) == 0 && d == dev && i == ino)
			return c;
		ts_conn_release(c);
	}
	return NULL;
}

static void refuse(int newfd)
{
	struct ts_conn *c = ts_conn_new();

	ts_log(CFG_LOG_WARN,
	       "descriptor %d: a TLS connection that already ended here (its last descriptor was "
	       "closed while a copy was in flight): every read and write on it fails",
	       newfd);
	if (c == NULL)
		return;
	atomic_fetch_or(&c->obj.flags, TS_F_ABANDONED | TS_F_FAIL_LOGGED);
	c->core_fd = newfd;
	(void)ts_set_cloexec(newfd);
	if (ts_fd_install(newfd, &c->obj) < 0) {
		c->core_fd = -1;
		ts_conn_release(c);
		return;
	}
}

void ts_fd_adopt(int newfd)
{
	struct ts_conn *c;
	dev_t dev;
	ino_t ino;
	int saved = errno;

	if (newfd < 0 || atomic_load_explicit(&ts_fd_high, memory_order_relaxed) == 0)
		return;
	/* A fresh number: whatever the table says of it is stale. */
	if (!TS_PLAIN(newfd))
		ts_fd_forget(newfd);
	if (sock_id(newfd, &dev, &ino) < 0)
		goto out;
	c = find_conn(newfd, dev, ino);
	if (c != NULL) {
		if (ts_fd_install(newfd, &c->obj) < 0)
			atomic_fetch_or(&c->obj.flags, TS_F_ABANDONED);
		else
			(void)ts_set_cloexec(newfd);
		ts_log(CFG_LOG_DEBUG, "%s %s: descriptor %d received: one more name of the connection",
		       c->side, c->peer, newfd);
		ts_conn_release(c);
	} else if (is_retired(dev, ino)) {
		refuse(newfd);
	}
out:
	errno = saved;
}

void ts_fd_adopt_cmsgs(const struct msghdr *m)
{
	struct cmsghdr *cm;

	int wrapped = atomic_load_explicit(&ts_fd_high, memory_order_relaxed) != 0;

	if (m == NULL || m->msg_control == NULL)
		return;
	for (cm = CMSG_FIRSTHDR(m); cm != NULL; cm = CMSG_NXTHDR((struct msghdr *)(uintptr_t)m, cm)) {
		size_t i, n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof fd, sizeof fd);
			ts_fdcopy_mark(fd); /* its original may be ours too */
			if (wrapped)
				ts_fd_adopt(fd);
		}
	}
}
