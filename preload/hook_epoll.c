/*
 * hook_epoll.c - epoll_create, epoll_create1, epoll_ctl, epoll_wait,
 * epoll_pwait, epoll_pwait2: instances created while a configuration is
 * loaded record their registrations (epoll.c); the others, and every call
 * when tlsshim is inert, go straight to libc.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <time.h>

#include "epoll.h"
#include "fdtab.h"
#include "hook.h"
#include "init.h"
#include "real.h"

static int track(int fd)
{
	struct ts_epoll *e;
	int saved = errno;

	if (fd < 0)
		return fd;
	if (!TS_PLAIN(fd))
		ts_fd_forget(fd); /* a stale entry: the number is fresh */
	if (!ts_active())
		return fd;
	e = ts_epoll_new();
	if (e != NULL && ts_fd_install(fd, &e->obj) < 0)
		ts_epoll_release(e);
	errno = saved;
	return fd;
}

TS_EXPORT int epoll_create(int size)
{
	return track(TS_REAL(epoll_create)(size));
}

TS_EXPORT int epoll_create1(int flags)
{
	return track(TS_REAL(epoll_create1)(flags));
}

static struct ts_epoll *epoll_at(int epfd)
{
	struct ts_epoll *e;

	if (TS_PLAIN(epfd) || ts_epoll_lookup(epfd, &e) != TS_FD_OURS)
		return NULL;
	return e;
}

TS_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct ts_epoll *e = epoll_at(epfd);
	int r;

	if (e == NULL)
		return TS_REAL(epoll_ctl)(epfd, op, fd, ev);
	r = ts_epoll_ctl(e, epfd, op, fd, ev);
	ts_epoll_release(e);
	return r;
}

static int wait_common(int epfd, struct epoll_event *out, int max, int timeout,
                       const sigset_t *sigmask)
{
	struct ts_epoll *e = epoll_at(epfd);
	int r, err;

	if (e == NULL)
		return sigmask ? TS_REAL(epoll_pwait)(epfd, out, max, timeout, sigmask)
		               : TS_REAL(epoll_wait)(epfd, out, max, timeout);
	r = ts_epoll_wait(e, epfd, out, max, timeout < 0 ? -1 : timeout, sigmask);
	err = errno;
	ts_epoll_release(e);
	errno = err;
	return r;
}

TS_EXPORT int epoll_wait(int epfd, struct epoll_event *out, int max, int timeout)
{
	return wait_common(epfd, out, max, timeout, NULL);
}

TS_EXPORT int epoll_pwait(int epfd, struct epoll_event *out, int max, int timeout,
                          const sigset_t *sigmask)
{
	return wait_common(epfd, out, max, timeout, sigmask);
}

TS_EXPORT int epoll_pwait2(int epfd, struct epoll_event *out, int max, const struct timespec *ts,
                           const sigset_t *sigmask)
{
	struct ts_epoll *e = epoll_at(epfd);
	long long ms;

	if (e == NULL) {
		if (TS_REAL(epoll_pwait2) == NULL) {
			errno = ENOSYS;
			return -1;
		}
		return TS_REAL(epoll_pwait2)(epfd, out, max, ts, sigmask);
	}
	ts_epoll_release(e);
	ms = ts ? (long long)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000 : -1;
	return wait_common(epfd, out, max, ms > 0x7fffffff ? 0x7fffffff : (int)ms, sigmask);
}
