/*
 * epoll.c - epoll over wrapped sockets.
 *
 * The kernel's epoll knows nothing of TLS: decrypted bytes waiting inside
 * OpenSSL never wake it, and a handshake may need the other direction
 * than the program registered. So every registration of an epoll instance
 * is recorded here (event loops add a socket before connect() wraps it).
 * For a wrapped socket the kernel is asked, with the program's flags
 * (EPOLLET kept: nginx registers IN|OUT edge-triggered), for what TLS
 * needs, under a tagged data word that maps its events back to the
 * program's registration; epoll_wait reports what the core says is ready
 * without the kernel (pending plaintext, a failure), advances handshakes
 * when the kernel answers for them, and hands the program its own
 * epoll_data. Plain descriptors are the kernel's business, untouched.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "ts.h"
#include "sniff.h"

/* The kernel's data word for a wrapped descriptor: magic | fd. */
#define TAG_MAGIC 0x7f5b5e1100000000ULL
#define TAG_MASK 0xffffffff00000000ULL
#define KBUF 128

#define USER_IO (EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM)

struct epreg {
	int used;
	int tagged;              /* the kernel holds our tag, not the data */
	int armed;               /* EPOLLONESHOT: not yet delivered */
	int et_reported;         /* EPOLLET: pending-ready already said once */
	/* The connection and its io_gen when a pass last found it idle (not
	 * ready, kernel in line): unchanged since, it is skipped. Objects are
	 * recycled, never freed, so reading a stale pointer's counter is
	 * safe; a recycled object is a different generation anyway. */
	const struct ts_conn *idle_conn;
	unsigned idle_gen;
	uint32_t events;         /* as the program registered them */
	uint32_t kernel;         /* what the kernel was last asked for */
	epoll_data_t data;
};

struct ts_epset {
	pthread_mutex_t lock;
	struct epreg *regs;      /* indexed by descriptor */
	int cap;
};

static int is_tag(uint64_t u)
{
	return (u & TAG_MASK) == TAG_MAGIC;
}

struct ts_epset *ts_epset_new(void)
{
	struct ts_epset *e = calloc(1, sizeof *e);

	if (e != NULL)
		pthread_mutex_init(&e->lock, NULL);
	return e;
}

void ts_epset_free(struct ts_epset *e)
{
	if (e == NULL)
		return;
	pthread_mutex_destroy(&e->lock);
	free(e->regs);
	free(e);
}

static struct epreg *reg_slot(struct ts_epset *e, int fd, int create)
{
	if (fd < 0)
		return NULL;
	if (fd >= e->cap) {
		int cap = e->cap ? e->cap : 64;
		struct epreg *r;

		if (!create)
			return NULL;
		while (cap <= fd)
			cap *= 2;
		r = realloc(e->regs, (size_t)cap * sizeof *r);
		if (r == NULL)
			return NULL;
		memset(r + e->cap, 0, (size_t)(cap - e->cap) * sizeof *r);
		e->regs = r;
		e->cap = cap;
	}
	if (!create && !e->regs[fd].used)
		return NULL;
	return &e->regs[fd];
}

static short to_poll(uint32_t ev)
{
	return (short)(((ev & (EPOLLIN | EPOLLRDNORM)) ? POLLIN : 0) |
	               ((ev & (EPOLLOUT | EPOLLWRNORM)) ? POLLOUT : 0));
}

static uint32_t to_epoll(short pev, uint32_t asked)
{
	uint32_t r = 0;

	if (pev & POLLIN)
		r |= asked & (EPOLLIN | EPOLLRDNORM);
	if (pev & POLLOUT)
		r |= asked & (EPOLLOUT | EPOLLWRNORM);
	if (pev & POLLERR)
		r |= EPOLLERR;
	if (pev & POLLHUP)
		r |= EPOLLHUP;
	return r;
}

/* The kernel registration a wrapped descriptor needs now, and what is
 * ready without the kernel. */
static uint32_t wrapped_state(struct ts_conn *c, uint32_t events, short *ready)
{
	short kev = 0, r;
	short asked = to_poll(events);

	r = sslsocket_poll_events(c->s, asked, &kev);
	if (atomic_load(&c->flags) & TS_F_FAILED)
		r |= asked | POLLERR;
	if ((asked & POLLIN) && ts_conn_peeked(c) > 0) {
		r |= POLLIN;
		kev &= (short)~POLLIN;
	}
	*ready = r;
	return (events & ~(USER_IO | EPOLLONESHOT)) | ((kev & POLLIN) ? EPOLLIN : 0) |
	       ((kev & POLLOUT) ? EPOLLOUT : 0);
}

static struct ts_conn *conn_at(int fd)
{
	struct ts_conn *c;

	if (ts_fd_peek(fd) == NULL)
		return NULL;
	c = ts_conn_acquire(fd);
	if (c != NULL && (c->kind != TS_KIND_CONN || c->s == NULL)) {
		ts_conn_release(c);
		return NULL;
	}
	return c;
}

/* Points the kernel at what TLS needs (and at our tag). 0, or -1 when the
 * kernel no longer has the registration (a reused number). */
static int kernel_sync(int epfd, int fd, struct epreg *r, uint32_t want)
{
	struct epoll_event kev;

	if (r->tagged && r->kernel == want)
		return 0;
	kev.events = want;
	kev.data.u64 = TAG_MAGIC | (uint32_t)fd;
	if (TS_REAL(epoll_ctl)(epfd, EPOLL_CTL_MOD, fd, &kev) < 0)
		return errno == ENOENT || errno == EBADF ? -1 : 0;
	r->tagged = 1;
	r->kernel = want;
	return 0;
}

/* A descriptor that is no longer wrapped (a permissive rule's plaintext
 * client): the kernel gets the program's own registration back. */
static void kernel_plain(int epfd, int fd, struct epreg *r)
{
	struct epoll_event kev;

	kev.events = r->events;
	kev.data = r->data;
	if (TS_REAL(epoll_ctl)(epfd, EPOLL_CTL_MOD, fd, &kev) < 0) {
		memset(r, 0, sizeof *r); /* closed, or the number reused */
		return;
	}
	r->tagged = 0;
	r->kernel = r->events;
	r->idle_conn = NULL;
}

int ts_epoll_ctl(struct ts_epset *e, int epfd, int op, int fd, struct epoll_event *ev)
{
	struct ts_conn *c;
	struct epreg *r;
	struct epoll_event kev;
	short ready;
	int res, saved;

	c = conn_at(fd);
	pthread_mutex_lock(&e->lock);
	if (c != NULL && (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && ev != NULL) {
		kev.events = wrapped_state(c, ev->events, &ready);
		kev.data.u64 = TAG_MAGIC | (uint32_t)fd;
		res = TS_REAL(epoll_ctl)(epfd, op, fd, &kev);
	} else {
		res = TS_REAL(epoll_ctl)(epfd, op, fd, ev);
	}
	saved = errno;
	if (res == 0) {
		if (op == EPOLL_CTL_DEL) {
			r = reg_slot(e, fd, 0);
			if (r != NULL)
				memset(r, 0, sizeof *r);
		} else if (ev != NULL && (r = reg_slot(e, fd, 1)) != NULL) {
			r->used = 1;
			r->events = ev->events;
			r->data = ev->data;
			r->armed = 1;
			r->et_reported = 0;
			r->idle_conn = NULL;
			r->tagged = c != NULL;
			r->kernel = c != NULL ? kev.events : ev->events;
		}
	}
	pthread_mutex_unlock(&e->lock);
	if (c != NULL)
		ts_conn_release(c);
	errno = saved;
	return res;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Adds (or merges into) an event for the program. */
static int emit(struct epoll_event *out, int n, int max, uint32_t events, epoll_data_t data, int fd,
                int *fds)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i] == fd) {
			out[i].events |= events;
			return n;
		}
	if (n >= max)
		return n;
	out[n].events = events;
	out[n].data = data;
	fds[n] = fd;
	return n + 1;
}

/* One pass over the wrapped registrations: what is ready without the
 * kernel; kernel registrations brought in line with what TLS needs. *cap
 * (-1: none) is lowered to when an undecided permissive connection must
 * be looked at again (sniff.h). */
static int ready_pass(struct ts_epset *e, int epfd, struct epoll_event *out, int max, int *fds,
                      int *cap)
{
	int fd, n = 0, sn;

	for (fd = 0; fd < e->cap && n < max; fd++) {
		struct epreg *r = &e->regs[fd];
		struct ts_conn *c;
		uint32_t want;
		short ready;

		unsigned gen;

		if (!r->used || !r->armed)
			continue;
		if (ts_fd_peek(fd) == NULL) {
			if (r->tagged)
				kernel_plain(epfd, fd, r);
			continue;
		}
		if (r->idle_conn != NULL && ts_fd_peek(fd) == r->idle_conn &&
		    atomic_load_explicit(&r->idle_conn->io_gen, memory_order_relaxed) == r->idle_gen)
			continue;
		c = conn_at(fd);
		if (c == NULL)
			continue;
		if (TS_UNLIKELY(atomic_load(&c->flags) & (TS_F_SNIFF | TS_F_PLAIN)) &&
		    (sn = ts_sniff_ready(c, cap)) != 1) {
			if (sn == 0)
				kernel_plain(epfd, fd, r);
			else /* undecided: wait for its first bytes */
				(void)kernel_sync(epfd, fd, r, (r->events & ~(USER_IO | EPOLLONESHOT)) |
				                               EPOLLIN);
			ts_conn_release(c);
			continue;
		}
		gen = atomic_load_explicit(&c->io_gen, memory_order_relaxed);
		r->idle_conn = NULL;
		want = wrapped_state(c, r->events, &ready);
		if (kernel_sync(epfd, fd, r, want) < 0) {
			memset(r, 0, sizeof *r); /* the kernel forgot it: stale */
			ts_conn_release(c);
			continue;
		}
		if (!ready) {
			r->idle_conn = c;
			r->idle_gen = gen;
		}
		if (ready && (r->events & EPOLLET) && r->et_reported)
			ready = 0;
		else if (!ready)
			r->et_reported = 0;
		if (ready) {
			uint32_t ev = to_epoll(ready, r->events);

			if (ev) {
				n = emit(out, n, max, ev, r->data, fd, fds);
				if (r->events & EPOLLET)
					r->et_reported = 1;
				if (r->events & EPOLLONESHOT)
					r->armed = 0;
			}
		}
		ts_conn_release(c);
	}
	return n;
}

/* The kernel answered for a wrapped descriptor. */
static uint32_t wrapped_event(struct ts_epset *e, int epfd, int fd, uint32_t kernel,
                              epoll_data_t *data)
{
	struct epreg *r = reg_slot(e, fd, 0);
	struct ts_conn *c;
	short ready, kev;
	uint32_t asked, res = 0;

	if (r == NULL || !r->armed)
		return 0;
	*data = r->data;
	asked = r->events;
	r->et_reported = 0;
	r->idle_conn = NULL;
	c = conn_at(fd);
	if (c == NULL) /* no longer ours (closed, or a plain socket again) */
		return kernel & (asked | EPOLLERR | EPOLLHUP);
	if (atomic_load(&c->flags) & (TS_F_SNIFF | TS_F_PLAIN)) {
		/* its first bytes came (or not): the next pass decides */
		ts_conn_release(c);
		return 0;
	}
	if (!sslsocket_handshake_done(c->s) && !sslsocket_failed(c->s)) {
		ts_conn_drive(c);
		(void)kernel_sync(epfd, fd, r, wrapped_state(c, asked, &ready));
		res = to_epoll(ready, asked);
		if (!res && !sslsocket_handshake_done(c->s) && (kernel & (EPOLLERR | EPOLLHUP)))
			res = (asked & USER_IO) | (kernel & (EPOLLERR | EPOLLHUP));
	} else {
		res = kernel & (EPOLLERR | EPOLLHUP | EPOLLRDHUP | EPOLLPRI);
		/* Readable means application data (or the end): records
		 * without any (TLS 1.3 session tickets) are processed now,
		 * without blocking, and not reported. */
		if ((kernel & EPOLLIN) && (asked & (EPOLLIN | EPOLLRDNORM))) {
			int rr;

			rr = sslsocket_read_ready(c->s);
			atomic_fetch_add_explicit(&c->io_gen, 1, memory_order_relaxed);
			if (sslsocket_failed(c->s))
				atomic_fetch_or(&c->flags, TS_F_FAILED);
			if (rr)
				res |= asked & (EPOLLIN | EPOLLRDNORM);
		}
		/* Writable means the ciphertext queued by earlier writes is
		 * out: send it now; while some remains, not writable. */
		if (kernel & EPOLLOUT) {
			int a;

			a = sslsocket_advance(c->s);
			atomic_fetch_add_explicit(&c->io_gen, 1, memory_order_relaxed);
			if (!(a < 0 && errno == EAGAIN))
				res |= asked & (EPOLLOUT | EPOLLWRNORM);
		}
		/* a write that waits for a read (renegotiation, ticket) */
		(void)sslsocket_poll_events(c->s, to_poll(asked), &kev);
		if ((asked & EPOLLOUT) && (kernel & EPOLLIN) && (kev & POLLIN) && !(kev & POLLOUT))
			res |= asked & EPOLLOUT;
	}
	if (res && (asked & EPOLLONESHOT))
		r->armed = 0;
	ts_conn_release(c);
	return res;
}

int ts_epoll_wait(struct ts_epset *e, int epfd, struct epoll_event *out, int max, int timeout_ms,
                  const sigset_t *sigmask)
{
	struct epoll_event kbuf[KBUF];
	int fds[KBUF * 2];
	long long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
	int n, k, i, wait, cap;

	if (max <= 0) {
		errno = EINVAL;
		return -1;
	}
	if (max > KBUF)
		max = KBUF;
	for (;;) {
		cap = -1;
		pthread_mutex_lock(&e->lock);
		n = ready_pass(e, epfd, out, max, fds, &cap);
		pthread_mutex_unlock(&e->lock);
		if (n >= max)
			return n; /* no room: the kernel's events wait for the next call */
		if (n > 0) {
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
		k = sigmask ? TS_REAL(epoll_pwait)(epfd, kbuf, max - n, wait, sigmask)
		            : TS_REAL(epoll_wait)(epfd, kbuf, max - n, wait);
		if (k < 0) {
			if (n > 0 && errno == EINTR)
				k = 0;
			else
				return -1;
		}
		pthread_mutex_lock(&e->lock);
		for (i = 0; i < k; i++) {
			epoll_data_t data = kbuf[i].data;
			uint32_t ev = kbuf[i].events;
			int fd = -1;

			if (is_tag(kbuf[i].data.u64)) {
				fd = (int)(uint32_t)kbuf[i].data.u64;
				ev = wrapped_event(e, epfd, fd, ev, &data);
				if (ev == 0)
					continue;
			}
			if (fd < 0) {
				/* a plain descriptor: the kernel's answer as it is */
				if (n < max) {
					out[n] = kbuf[i];
					fds[n] = -1;
					n++;
				}
			} else {
				n = emit(out, n, max, ev, data, fd, fds);
			}
		}
		pthread_mutex_unlock(&e->lock);
		if (n > 0 || (wait == 0 && cap < 0) || (deadline >= 0 && now_ms() >= deadline))
			return n;
		/* only a handshake moved: wait again */
	}
}
