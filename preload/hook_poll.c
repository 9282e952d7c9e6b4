/*
 * hook_poll.c - poll, ppoll, select, pselect: readiness as TLS sees it
 * (ready.c). Sets without a wrapped descriptor go straight to libc.
 */
/* The hooks define read, recv, recvfrom, poll and ppoll themselves:
 * _FORTIFY_SOURCE would declare them as inline wrappers first (clang
 * refuses a definition after them). Nothing here fills a buffer of its
 * own, so fortification has nothing to check in this file. */
#undef _FORTIFY_SOURCE
#include <errno.h>
#include <poll.h>
#include <sys/select.h>
#include <time.h>

#include "hook.h"
#include "ready.h"
#include "real.h"

/* glibc declares poll's array write-only (__attr_access, for GCC >= 10
 * whatever the fortify level), which is true of the kernel's side only:
 * the hook reads the events the program set. clang has no such warning. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

static int timespec_ms(const struct timespec *ts)
{
	long long ms;

	if (ts == NULL)
		return -1;
	ms = (long long)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

TS_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!ts_poll_has_wrapped(fds, n))
		return TS_REAL(poll)(fds, n, timeout);
	return ts_poll(fds, n, timeout < 0 ? -1 : timeout, NULL);
}

TS_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
                    const sigset_t *sigmask)
{
	if (!ts_poll_has_wrapped(fds, n))
		return TS_REAL(ppoll)(fds, n, ts, sigmask);
	if (ts != NULL && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)) {
		errno = EINVAL;
		return -1;
	}
	return ts_poll(fds, n, timespec_ms(ts), sigmask);
}

TS_EXPORT int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
	long long ms;
	int r;

	if (!ts_select_has_wrapped(nfds, rd, wr, ex))
		return TS_REAL(select)(nfds, rd, wr, ex, tv);
	if (tv != NULL && (tv->tv_sec < 0 || tv->tv_usec < 0)) {
		errno = EINVAL;
		return -1;
	}
	ms = tv ? (long long)tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000 : -1;
	r = ts_select(nfds, rd, wr, ex, ms > 0x7fffffff ? 0x7fffffff : (int)ms, NULL);
	/* Linux select reports the time left; 0 when it returns ready is
	 * within what programs accept from other systems. */
	if (r >= 0 && tv != NULL && r > 0) {
		tv->tv_sec = 0;
		tv->tv_usec = 0;
	}
	return r;
}

TS_EXPORT int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *ts,
                      const sigset_t *sigmask)
{
	if (!ts_select_has_wrapped(nfds, rd, wr, ex))
		return TS_REAL(pselect)(nfds, rd, wr, ex, ts, sigmask);
	return ts_select(nfds, rd, wr, ex, timespec_ms(ts), sigmask);
}
