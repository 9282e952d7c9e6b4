/*
 * ready.c - poll, ppoll, select and pselect over wrapped sockets.
 *
 * For each wrapped descriptor the readiness engine (readiness.c) says what
 * is ready without the kernel and what the kernel must be asked for
 * instead of what the program asked; when the kernel answers, the engine
 * does the work the answer allows (a handshake step, records without
 * application data, queued ciphertext) and the descriptor is only
 * reported once the program's own event can make progress. Nothing
 * stalls, nothing spins.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include "compiler.h"
#include "conn.h"
#include "fdtab.h"
#include "readiness.h"
#include "ready.h"
#include "real.h"
#include "sniff.h"

#define STACK_FDS 64

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ts_poll_has_wrapped(const struct pollfd *fds, nfds_t n)
{
	nfds_t i;

	for (i = 0; i < n; i++)
		if (!TS_PLAIN(fds[i].fd))
			return 1;
	return 0;
}

/* One pass: what is ready without the kernel (returns the count, revents
 * filled) and what the kernel must be asked (k[i]). conns[i] holds a
 * reference for wrapped descriptors. *cap (-1: none) is lowered to when an
 * undecided permissive connection must be looked at again (sniff.h). */
static int ready_pass(struct pollfd *fds, nfds_t n, struct pollfd *k, struct ts_conn **conns,
                      int *cap)
{
	nfds_t i;
	int ready = 0, sn;
	short kev, r;

	for (i = 0; i < n; i++) {
		k[i] = fds[i];
		k[i].revents = 0;
		fds[i].revents = 0;
		if (conns[i] == NULL || conns[i]->s == NULL)
			continue;
		if (TS_UNLIKELY(atomic_load(&conns[i]->obj.flags) & (TS_F_SNIFF | TS_F_PLAIN)) &&
		    (sn = ts_sniff_ready(conns[i], cap)) != 1) {
			if (sn == 0) { /* a plaintext client: the kernel's from now on */
				ts_conn_release(conns[i]);
				conns[i] = NULL;
			} else { /* undecided: wait for its first bytes */
				k[i].events = (short)((fds[i].events & ~(POLLIN | POLLOUT)) | POLLIN);
			}
			continue;
		}
		r = ts_readiness(conns[i], fds[i].events, 0, &kev);
		if (r) {
			fds[i].revents = r;
			ready++;
		}
		/* keep POLLPRI etc.; swap the read/write interest for TLS's */
		k[i].events = (short)((fds[i].events & ~(POLLIN | POLLOUT)) | kev);
	}
	return ready;
}

/* The kernel answered k[i] for a wrapped connection: the engine does the
 * work the answer allows and says what the program may now do (nothing
 * when only a handshake moved: the next pass asks the kernel again). */
static short wrapped_result(struct ts_conn *c, short asked, short kernel)
{
	short kev;

	return ts_readiness(c, asked, kernel, &kev);
}

/* poll() semantics over wrapped and plain descriptors. timeout_ms -1 is
 * forever. sigmask (ppoll) is applied only around the kernel wait. */
int ts_poll(struct pollfd *fds, nfds_t n, int timeout_ms, const sigset_t *sigmask)
{
	struct pollfd kstack[STACK_FDS], *k = kstack;
	struct ts_conn *cstack[STACK_FDS], **conns = cstack;
	long long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
	nfds_t i;
	int ready, r, wait, cap, e = 0, result = -1;

	if (n > STACK_FDS) {
		k = malloc(n * sizeof *k);
		conns = calloc(n, sizeof *conns);
		if (k == NULL || conns == NULL) {
			free(k);
			free(conns);
			errno = ENOMEM;
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		conns[i] = NULL;
		if (!TS_PLAIN(fds[i].fd))
			ts_conn_lookup(fds[i].fd, &conns[i]);
	}
	for (;;) {
		cap = -1;
		ready = ready_pass(fds, n, k, conns, &cap);
		if (ready > 0) {
			wait = 0;
		} else if (deadline < 0) {
			wait = -1;
		} else {
			long long left = deadline - now_ms();

			wait = left > 0 ? (int)(left > 0x7fffffff ? 0x7fffffff : left) : 0;
		}
		/* a sniff deadline comes first: wake then, decide, go on */
		if (cap >= 0 && (wait < 0 || cap < wait))
			wait = cap;
		else
			cap = -1;
		if (sigmask != NULL) {
			struct timespec ts, *tsp = NULL;

			if (wait >= 0) {
				ts.tv_sec = wait / 1000;
				ts.tv_nsec = (long)(wait % 1000) * 1000000;
				tsp = &ts;
			}
			r = TS_REAL(ppoll)(k, n, tsp, sigmask);
		} else {
			r = TS_REAL(poll)(k, n, wait);
		}
		if (r < 0) {
			e = errno;
			if (ready > 0 && e == EINTR)
				r = 0;
			else
				break;
		}
		for (i = 0; i < n; i++) {
			if (conns[i] == NULL) {
				fds[i].revents = k[i].revents;
			} else if (atomic_load(&conns[i]->obj.flags) & TS_F_SNIFF) {
				/* its first bytes came (or not): the next pass decides */
			} else if (k[i].revents) {
				fds[i].revents |= wrapped_result(conns[i], fds[i].events, k[i].revents);
			}
		}
		result = 0;
		for (i = 0; i < n; i++)
			if (fds[i].revents)
				result++;
		if (result > 0 || (wait == 0 && cap < 0) || (deadline >= 0 && now_ms() >= deadline))
			break;
		/* only a handshake moved (or a sniff deadline came): wait again
		 * for what the program wants */
	}
	for (i = 0; i < n; i++)
		if (conns[i] != NULL)
			ts_conn_release(conns[i]);
	if (k != kstack) {
		free(k);
		free(conns);
	}
	if (result < 0)
		errno = e;
	return result;
}

/* select/pselect: the same engine over a pollfd array. */
int ts_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int timeout_ms,
              const sigset_t *sigmask)
{
	struct pollfd stack[STACK_FDS], *p = stack;
	int fd, n = 0, r, count = 0;

	if (nfds < 0 || nfds > FD_SETSIZE) {
		errno = EINVAL;
		return -1;
	}
	for (fd = 0; fd < nfds; fd++)
		if ((rd && FD_ISSET(fd, rd)) || (wr && FD_ISSET(fd, wr)) || (ex && FD_ISSET(fd, ex)))
			n++;
	if (n > STACK_FDS && (p = malloc((size_t)n * sizeof *p)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	n = 0;
	for (fd = 0; fd < nfds; fd++) {
		short ev = 0;

		if (rd && FD_ISSET(fd, rd))
			ev |= POLLIN;
		if (wr && FD_ISSET(fd, wr))
			ev |= POLLOUT;
		if (ex && FD_ISSET(fd, ex))
			ev |= POLLPRI;
		if (ev) {
			p[n].fd = fd;
			p[n].events = ev;
			p[n].revents = 0;
			n++;
		}
	}
	r = ts_poll(p, (nfds_t)n, timeout_ms, sigmask);
	if (r < 0) {
		if (p != stack)
			free(p);
		return -1;
	}
	if (rd)
		FD_ZERO(rd);
	if (wr)
		FD_ZERO(wr);
	if (ex)
		FD_ZERO(ex);
	for (fd = 0; fd < n; fd++) {
		short re = p[fd].revents;

		if (re & POLLNVAL) {
			if (p != stack)
				free(p);
			errno = EBADF;
			return -1;
		}
		/* as the kernel's select: an error or hangup is readable */
		if (rd && (p[fd].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
			FD_SET(p[fd].fd, rd);
			count++;
		}
		if (wr && (p[fd].events & POLLOUT) && (re & (POLLOUT | POLLERR))) {
			FD_SET(p[fd].fd, wr);
			count++;
		}
		if (ex && (p[fd].events & POLLPRI) && (re & POLLPRI)) {
			FD_SET(p[fd].fd, ex);
			count++;
		}
	}
	if (p != stack)
		free(p);
	return count;
}

int ts_select_has_wrapped(int nfds, const fd_set *rd, const fd_set *wr, const fd_set *ex)
{
	int fd, top = atomic_load_explicit(&ts_fd_high, memory_order_relaxed);

	if (nfds > top)
		nfds = top;
	if (nfds > FD_SETSIZE)
		nfds = FD_SETSIZE;
	for (fd = 0; fd < nfds; fd++)
		if (!TS_PLAIN(fd) &&
		    ((rd && FD_ISSET(fd, rd)) || (wr && FD_ISSET(fd, wr)) || (ex && FD_ISSET(fd, ex))))
			return 1;
	return 0;
}
