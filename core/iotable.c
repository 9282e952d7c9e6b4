/*
 * iotable.c - the I/O seam's default (libc's table) and waiting with io->poll,
 * the only place the library blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sslsocket_int.h"

static const struct sslsocket_io libc_io = {
	.recv = recv,
	.send = send,
	.poll = poll,
	.connect = connect,
	.accept4 = accept4,
	.close = close,
	.shutdown = shutdown,
	.fcntl = fcntl,
	.getsockopt = getsockopt,
	.setsockopt = setsockopt,
	.getpeername = getpeername,
	.getsockname = getsockname,
	.socket = socket,
};

const struct sslsocket_io *sslsocket_io_libc(void)
{
	return &libc_io;
}

long long core_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int core_wait(struct sslsocket *s, short events, long long call_deadline, long long hs_deadline)
{
	for (;;) {
		long long now = core_now_ms(), dl = -1;
		int hs = 0;
		if (call_deadline >= 0)
			dl = call_deadline;
		if (hs_deadline >= 0 && (dl < 0 || hs_deadline <= dl)) {
			dl = hs_deadline;
			hs = 1;
		}
		int t = -1;
		if (dl >= 0)
			t = dl > now ? (int)(dl - now) : 0;
		struct pollfd p = {.fd = s->fd, .events = events};
		int r = s->io.poll(&p, 1, t);
		if (r > 0 && !(p.revents & POLLNVAL))
			return 0; /* POLLERR/POLLHUP too: the next call reports it */
		/* Errors are recorded under the lock: another thread may be
		 * recording its own outcome on s at the same time. */
		if (r > 0) {
			pthread_mutex_lock(&s->lock);
			core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, EBADF, "descriptor %d is not open", s->fd);
			pthread_mutex_unlock(&s->lock);
			return -1;
		}
		if (r < 0) {
			int e = errno;
			pthread_mutex_lock(&s->lock);
			core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, e, "poll: %s", CORE_STRERROR(e));
			pthread_mutex_unlock(&s->lock);
			return -1;
		}
		if (dl >= 0 && core_now_ms() >= dl) {
			pthread_mutex_lock(&s->lock);
			if (hs)
				core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, ETIMEDOUT, "handshake timed out");
			else
				core_sock_err(s, (events & POLLIN) ? SSLSOCKET_ERROR_WANT_READ
				                                   : SSLSOCKET_ERROR_WANT_WRITE,
				              EAGAIN, "timed out");
			pthread_mutex_unlock(&s->lock);
			return -1;
		}
	}
}
