/*
 * sockprops.c - a socket's address family and type, and close-on-exec on
 * it: asked and set by connect (conn_open.c) and accept (listener.c), and
 * close-on-exec on every other number that becomes a name of a wrapped
 * connection (dup: conn_fd.c; a received copy: fdadopt.c; a sibling of a
 * socket connect wraps: siblings.c).
 */
#include <fcntl.h>
#include <stddef.h>
#include <string.h>

#include "real.h"
#include "sockprops.h"

int ts_sa_family_of(const struct sockaddr *sa, socklen_t len)
{
	sa_family_t fam;

	if (sa == NULL || len < (socklen_t)sizeof fam)
		return -1;
	memcpy(&fam, (const char *)sa + offsetof(struct sockaddr, sa_family), sizeof fam);
	return fam;
}

int ts_is_stream(int fd)
{
	int type = 0;
	socklen_t tl = sizeof type;

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM;
}

int ts_set_cloexec(int fd)
{
	int fl = TS_REAL(fcntl)(fd, F_GETFD);

	if (fl >= 0 && !(fl & FD_CLOEXEC))
		return TS_REAL(fcntl)(fd, F_SETFD, fl | FD_CLOEXEC) == 0;
	return 0;
}
