/*
 * epoll.c - epoll over wrapped sockets, in O(ready).
 *
 * The kernel's epoll knows nothing of TLS: decrypted bytes waiting inside
 * OpenSSL never wake it, and a handshake may need the other direction
 * than the program registered. So every registration of an epoll instance
 * is recorded here (event loops add a socket before connect() wraps it).
 * For a wrapped socket the kernel is asked, with the program's flags
 * (EPOLLET kept: nginx registers IN|OUT edge-triggered), for what TLS
 * needs, under a tagged data word that maps its events back to the
 * program's registration; the readiness engine (readiness.c) turns the
 * kernel's answers into the program's events. Plain descriptors are the
 * kernel's business, untouched.
 *
 * What is ready without the kernel (pending plaintext, a finished
 * handshake, a failure) is found as the kernel finds its own ready items:
 * a connection whose TLS state may have changed notes itself in the inbox
 * of every instance watching it (ts_conn_changed, from the I/O paths), and
 * epoll_wait looks at the inbox, not at the registrations. A level-
 * triggered registration that was reported goes back into the inbox, so
 * that the next wait looks again (as the kernel re-queues level-triggered
 * items). A wait costs the events it returns plus the connections that
 * changed since the last one; idle connections cost nothing.
 *
 * A thread asleep in the kernel's epoll_wait is not woken by a note made
 * in another thread (a thread pool re-arming an EPOLLONESHOT socket whose
 * bytes wait decrypted): in a process with more than one thread each
 * instance gets an eventfd of its own in its kernel set, written when a
 * note is made while a thread sleeps there (as GLib's main context wakes
 * its poll).
 *
 * Locks: the instance's lock covers its registrations and is held while
 * the engine runs; the inbox has its own lock, taken for nothing else
 * (but the wake eventfd's number, wake_locked), so that a note from any
 * thread (even one inside this instance's wait, or another instance's)
 * never waits on an instance lock.
 *
 * An instance is one object of the descriptor table's (struct ts_epoll),
 * its registrations and inbox included: it starts in ts_fdobj_new
 * (ts_epoll_reset) and ends at its last release (ts_epoll_end). epoll.h
 * says why a connection may point at it without a reference.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/single_threaded.h>
#include <time.h>

#include "compiler.h"
#include "conn.h"
#include "epoll.h"
#include "fdident_int.h"
#include "fdtab.h"
#include "log.h"
#include "readiness.h"
#include "real.h"
#include "sniff.h"

/* The kernel's data word for a wrapped descriptor: magic | fd. */
#define TAG_MAGIC 0x7f5b5e1100000000ULL
#define TAG_MASK 0xffffffff00000000ULL
/* The kernel's data word for the instance's wake eventfd. */
#define WAKE_TAG (TAG_MAGIC | 0xffffffffULL)
#define KBUF 128

#define USER_IO (EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM)

atomic_ulong ts_epoll_visits;

struct ts_epoll_reg {
	int used;
	int tagged;              /* the kernel holds our tag, not the data */
	int armed;               /* EPOLLONESHOT: not yet delivered */
	int et_reported;         /* EPOLLET: pending-ready already said once */
	int watched;             /* conn notes it (else: looked at every wait) */
	/* The wrapped connection registered (NULL: a plain socket so far).
	 * Objects are recycled, never freed: compared, never trusted. */
	struct ts_conn *conn;
	uint64_t seen;           /* the batch whose inbox pass last looked */
	uint64_t out_pass;       /* the batch that holds it at out[out_idx] */
	int out_idx;
	uint32_t events;         /* as the program registered them */
	uint32_t kernel;         /* what the kernel was last asked for */
	epoll_data_t data;
};

struct ts_epoll_note {
	int fd;
	struct ts_conn *c;
};

/* The live instances, for ts_epoll_adopt (a socket registered plain and
 * wrapped later may be in any of them). */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ts_epoll *live;
/* Every epoll object, live or in the pool (which frees none), under the
 * same lock, for ts_epoll_fork_lock. */
static struct ts_epoll *every;

static int is_tag(uint64_t u)
{
	return (u & TAG_MASK) == TAG_MAGIC;
}

void ts_epoll_reset(struct ts_epoll *e, int fresh)
{
	if (fresh) {
		/* once for all the address's lives: a late note from a
		 * previous life may hold the inbox lock now (epoll.h) */
		pthread_mutex_init(&e->lock, NULL);
		pthread_mutex_init(&e->inbox_lock, NULL);
	}
	/* regs, cap, n_inbox and rescan were cleared at the last end (or by
	 * calloc); late notes since then stay, and are filtered as stale */
	atomic_store(&e->sleepers, 0);
	atomic_store(&e->wakefd, -1);
	pthread_mutex_lock(&live_lock);
	if (fresh) {
		e->every_next = every;
		every = e;
	}
	e->live_next = live;
	e->live_prev = &live;
	if (live != NULL)
		live->live_prev = &e->live_next;
	live = e;
	pthread_mutex_unlock(&live_lock);
}

/* ---- the connections' side: watch slots and notes ------------------------ */

/* Takes a slot of c for (e, fd); 0 when c's slots are all taken. Under
 * e->lock. */
static int watch_add(struct ts_conn *c, struct ts_epoll *e, int fd)
{
	int i;

	for (i = 0; i < TS_EPW_MAX; i++)
		if (atomic_load(&c->epw[i].epoll) == e && atomic_load(&c->epw[i].fd) == fd)
			return 1;
	for (i = 0; i < TS_EPW_MAX; i++) {
		struct ts_epoll *none = NULL;

		if (atomic_compare_exchange_strong(&c->epw[i].epoll, &none, e)) {
			atomic_store(&c->epw[i].fd, fd);
			atomic_store(&c->epw[i].queued, 0);
			atomic_fetch_add(&c->epw_count, 1);
			return 1;
		}
	}
	return 0;
}

static void watch_del(struct ts_conn *c, struct ts_epoll *e, int fd)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < TS_EPW_MAX; i++) {
		struct ts_epoll *mine = e;

		if (atomic_load(&c->epw[i].fd) == fd &&
		    atomic_compare_exchange_strong(&c->epw[i].epoll, &mine, NULL))
			atomic_fetch_sub(&c->epw_count, 1);
	}
}

/* c's notes in e may be made again (the pass is looking at it now). */
static void watch_unqueue(struct ts_conn *c, struct ts_epoll *e)
{
	int i;

	for (i = 0; i < TS_EPW_MAX; i++)
		if (atomic_load(&c->epw[i].epoll) == e)
			atomic_store(&c->epw[i].queued, 0);
}

/* Under e->inbox_lock. */
static void push_locked(struct ts_epoll *e, int fd, struct ts_conn *c)
{
	if (e->n_inbox == e->cap_inbox) {
		size_t cap = e->cap_inbox ? e->cap_inbox * 2 : 64;
		struct ts_epoll_note *n = realloc(e->inbox, cap * sizeof *n);

		if (n == NULL) {
			atomic_store(&e->rescan, 1); /* the next wait looks at all */
			return;
		}
		e->inbox = n;
		e->cap_inbox = cap;
	}
	e->inbox[e->n_inbox].fd = fd;
	e->inbox[e->n_inbox].c = c;
	e->n_inbox++;
}

static void inbox_push(struct ts_epoll *e, int fd, struct ts_conn *c)
{
	pthread_mutex_lock(&e->inbox_lock);
	push_locked(e, fd, c);
	pthread_mutex_unlock(&e->inbox_lock);
}

/* Whether w is still the eventfd wake_setup made (fdident_int.h). When
 * the program closed it and was given the number again for a socket or a
 * file, a wake would write 8 bytes in clear into that and a drain would
 * eat 8 of its bytes: the instance forgets the number instead (never
 * closing it: it is the program's now) and its next wait makes another.
 * Every eventfd shares one anonymous inode, so a program's own eventfd on
 * the number passes; a wake then costs it one spurious event, no byte
 * anywhere. */
static int wake_ours(struct ts_epoll *e, int w)
{
	if (core_fdident_same(w, &e->wake_id))
		return 1;
	if (atomic_compare_exchange_strong(&e->wakefd, &w, -1))
		ts_log(CFG_LOG_WARN, "epoll: the program closed tlsshim's wake descriptor %d "
		       "(close_range or closefrom?); nothing is written to it", w);
	return 0;
}

/* A note that a sleeping waiter must see now (not from the waiter's own
 * pass). The waiter counts itself in sleepers before its inbox pass, so a
 * note either is in that pass or finds the count.
 *
 * The eventfd's number is read and written to under the inbox lock, which
 * the instance's end takes to take the number away (ts_epoll_end): a note
 * may come from another thread after the end (epoll.h), and without the
 * lock it could load the number, the end close it and the program be given
 * it again (a socket, a file), and the note then write 8 bytes in clear
 * into that. Of the ways out this costs least where it matters: the lock
 * is taken only when a thread sleeps in the kernel, that is when a note
 * makes a write() anyway (ts_epoll_note writes in the hold that pushes),
 * and the waits see nothing of it, unlike a reference count every wait
 * would take; and no descriptor outlives its instance, which a number
 * kept with the pooled object across lives would (the program could see
 * it, and close_range or dup2 onto it would reopen the same hole).
 * Under e->inbox_lock. */
static void wake_locked(struct ts_epoll *e)
{
	uint64_t one = 1;
	int w;

	if (atomic_load(&e->sleepers) == 0)
		return;
	w = atomic_load(&e->wakefd);
	if (w >= 0 && wake_ours(e, w) && TS_REAL(write)(w, &one, sizeof one) < 0) {
		/* EAGAIN: the counter is full, a wake is pending anyway */
	}
}

static void wake_sleepers(struct ts_epoll *e)
{
	if (atomic_load(&e->sleepers) == 0)
		return;
	pthread_mutex_lock(&e->inbox_lock);
	wake_locked(e);
	pthread_mutex_unlock(&e->inbox_lock);
}

/* The instance's wake eventfd, once the process has a second thread.
 * Under e->lock. */
static void wake_setup(struct ts_epoll *e, int epfd)
{
	struct epoll_event kev;
	struct core_fdident id;
	int w, saved = errno;

	if (atomic_load(&e->wakefd) >= 0 || __libc_single_threaded)
		return;
	w = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w < 0) {
		errno = saved;
		return;
	}
	if (core_fdident_take(w, &id) < 0) {
		(void)TS_REAL(close)(w);
		errno = saved;
		return;
	}
	kev.events = EPOLLIN;
	kev.data.u64 = WAKE_TAG;
	if (TS_REAL(epoll_ctl)(epfd, EPOLL_CTL_ADD, w, &kev) < 0) {
		(void)TS_REAL(close)(w);
		errno = saved;
		return;
	}
	e->wake_id = id;
	atomic_store(&e->wakefd, w);
	errno = saved;
}

static void wake_drain(struct ts_epoll *e)
{
	uint64_t v;
	int w = atomic_load(&e->wakefd);

	if (w >= 0 && wake_ours(e, w) && TS_REAL(read)(w, &v, sizeof v) < 0) {
		/* EAGAIN: another waiter drained it */
	}
}

void ts_epoll_note(struct ts_conn *c)
{
	int i;

	for (i = 0; i < TS_EPW_MAX; i++) {
		struct ts_epoll *e = atomic_load(&c->epw[i].epoll);

		if (e == NULL || atomic_exchange(&c->epw[i].queued, 1))
			continue;
		pthread_mutex_lock(&e->inbox_lock);
		push_locked(e, atomic_load(&c->epw[i].fd), c);
		wake_locked(e);
		pthread_mutex_unlock(&e->inbox_lock);
	}
}

/* Again at the next wait (level-triggered and reported, or unwatched). */
static void requeue(struct ts_epoll *e, int fd, struct ts_epoll_reg *r)
{
	int i;

	if (r->watched) {
		for (i = 0; i < TS_EPW_MAX; i++)
			if (atomic_load(&r->conn->epw[i].epoll) == e &&
			    atomic_load(&r->conn->epw[i].fd) == fd &&
			    atomic_exchange(&r->conn->epw[i].queued, 1))
				return; /* a note is in the inbox already */
	}
	inbox_push(e, fd, r->conn);
}

void ts_epoll_adopt(int fd, struct ts_conn *c)
{
	struct ts_epoll *e;

	pthread_mutex_lock(&live_lock);
	for (e = live; e != NULL; e = e->live_next) {
		pthread_mutex_lock(&e->inbox_lock);
		push_locked(e, fd, c);
		wake_locked(e);
		pthread_mutex_unlock(&e->inbox_lock);
	}
	pthread_mutex_unlock(&live_lock);
}

/* The live list's lock, then every epoll object's inbox lock: a note or
 * a wait's inbox pass may hold a live instance's, a late note an ended
 * one's (epoll.h), whose object the child may take from the pool again.
 * O(epoll objects) per fork, the most instances the program had at once.
 * Always in one order, the list's, which only grows at its head: nested
 * at every fork alike (ThreadSanitizer would take two forks' nesting them
 * both ways for a lock-order inversion, under the live list's lock or
 * not). */
void ts_epoll_fork_lock(void)
{
	struct ts_epoll *e;

	pthread_mutex_lock(&live_lock);
	for (e = every; e != NULL; e = e->every_next)
		pthread_mutex_lock(&e->inbox_lock);
}

void ts_epoll_fork_unlock(void)
{
	struct ts_epoll *e;

	for (e = every; e != NULL; e = e->every_next)
		pthread_mutex_unlock(&e->inbox_lock);
	pthread_mutex_unlock(&live_lock);
}

void ts_epoll_end(struct ts_epoll *e)
{
	int fd, saved = errno;

	pthread_mutex_lock(&live_lock);
	*e->live_prev = e->live_next;
	if (e->live_next != NULL)
		e->live_next->live_prev = e->live_prev;
	e->live_next = NULL;
	e->live_prev = NULL;
	pthread_mutex_unlock(&live_lock);
	pthread_mutex_lock(&e->lock);
	for (fd = 0; fd < e->cap; fd++)
		if (e->regs[fd].used && e->regs[fd].watched)
			watch_del(e->regs[fd].conn, e, fd);
	free(e->regs);
	e->regs = NULL;
	e->cap = 0;
	atomic_store(&e->rescan, 0);
	pthread_mutex_lock(&e->inbox_lock);
	e->n_inbox = 0;
	/* no note has the number once it is taken here (wake_locked) */
	fd = atomic_exchange(&e->wakefd, -1);
	pthread_mutex_unlock(&e->inbox_lock);
	if (fd >= 0 && core_fdident_same(fd, &e->wake_id)) /* else it is the program's now */
		(void)TS_REAL(close)(fd);
	pthread_mutex_unlock(&e->lock);
	errno = saved;
}

/* ---- registrations ------------------------------------------------------- */

static struct ts_epoll_reg *reg_slot(struct ts_epoll *e, int fd, int create)
{
	if (fd < 0)
		return NULL;
	if (fd >= e->cap) {
		int cap = e->cap ? e->cap : 64;
		struct ts_epoll_reg *r;

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

static void reg_clear(struct ts_epoll *e, int fd, struct ts_epoll_reg *r)
{
	if (r->watched)
		watch_del(r->conn, e, fd);
	memset(r, 0, sizeof *r);
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
	if (pev & POLLRDHUP)
		r |= asked & EPOLLRDHUP;
	if (pev & POLLPRI)
		r |= asked & EPOLLPRI;
	return r;
}

/* The kernel registration for what TLS wants (kev: POLLIN/POLLOUT), and
 * EPOLLIN while the program is told it may read anyway (ready: decrypted
 * bytes wait in OpenSSL, the peer closed, the connection failed): a kernel
 * event can then only repeat what the program hears, and the socket holds
 * nothing of the bytes OpenSSL decrypted. Dropping EPOLLIN there cost
 * two epoll_ctl per request on a server (off when a wait decrypted the
 * request, on when the program had read it), each a search of the
 * kernel's tree of every registration. Otherwise only what TLS needs: a
 * handshake may wait to write while the peer's bytes sit unread, and a
 * level-triggered EPOLLIN would then wake every wait for nothing.
 * The program's flags stay, EPOLLONESHOT too: once the kernel reported a
 * one-shot registration it reports nothing more of it, EPOLLHUP included,
 * until an epoll_ctl arms it again (wrapped_event says which). */
static uint32_t kernel_want(uint32_t events, short kev, short ready)
{
	if ((ready & POLLIN) && (events & (EPOLLIN | EPOLLRDNORM)))
		kev |= POLLIN;
	return (events & ~USER_IO) | ((kev & POLLIN) ? EPOLLIN : 0) | ((kev & POLLOUT) ? EPOLLOUT : 0);
}

static struct ts_conn *conn_at(int fd)
{
	struct ts_conn *c;

	if (TS_PLAIN(fd) || ts_conn_lookup(fd, &c) != TS_FD_OURS)
		return NULL;
	if (c->s == NULL) {
		ts_conn_release(c);
		return NULL;
	}
	return c;
}

/* Points the kernel at what TLS needs (and at our tag). 0, or -1 when the
 * kernel no longer has the registration (a reused number). r->kernel 0:
 * the kernel's one-shot registration fired and is disabled; any want
 * arms it again. */
static int kernel_sync(int epfd, int fd, struct ts_epoll_reg *r, uint32_t want)
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
static void reg_follow(struct ts_epoll *e, int fd, struct ts_epoll_reg *r, struct ts_conn *c);
static void kernel_plain(struct ts_epoll *e, int epfd, int fd, struct ts_epoll_reg *r)
{
	struct epoll_event kev;

	kev.events = r->events;
	kev.data = r->data;
	if (TS_REAL(epoll_ctl)(epfd, EPOLL_CTL_MOD, fd, &kev) < 0) {
		reg_clear(e, fd, r); /* closed, or the number reused */
		return;
	}
	r->tagged = 0;
	r->kernel = r->events;
	reg_follow(e, fd, r, NULL);
}

/* r now follows c (first sight of a wrapped socket, or a new one). */
static void reg_follow(struct ts_epoll *e, int fd, struct ts_epoll_reg *r, struct ts_conn *c)
{
	if (r->conn == c && (r->watched || c == NULL))
		return;
	if (r->watched)
		watch_del(r->conn, e, fd);
	r->conn = c;
	r->watched = c != NULL && watch_add(c, e, fd);
}

int ts_epoll_ctl(struct ts_epoll *e, int epfd, int op, int fd, struct epoll_event *ev)
{
	struct ts_conn *c;
	struct ts_epoll_reg *r;
	struct epoll_event kev;
	short kpoll = 0;
	int res, saved;

	c = conn_at(fd);
	pthread_mutex_lock(&e->lock);
	if (c != NULL && (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && ev != NULL) {
		short ready = ts_readiness(c, to_poll(ev->events), 0, &kpoll);

		kev.events = kernel_want(ev->events, kpoll, ready);
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
				reg_clear(e, fd, r);
		} else if (ev != NULL && (r = reg_slot(e, fd, 1)) != NULL) {
			if (op == EPOLL_CTL_ADD && r->used)
				reg_clear(e, fd, r); /* a stale one: the number was closed */
			r->used = 1;
			r->events = ev->events;
			r->data = ev->data;
			r->armed = 1;
			r->et_reported = 0;
			r->tagged = c != NULL;
			r->kernel = c != NULL ? kev.events : ev->events;
			reg_follow(e, fd, r, c);
			/* ready already? the next wait looks (and sets up a
			 * socket that connect() wraps later: ts_epoll_adopt) */
			if (c != NULL)
				requeue(e, fd, r);
		}
	}
	pthread_mutex_unlock(&e->lock);
	if (c != NULL) {
		wake_sleepers(e); /* a waiter asleep in the kernel looks again */
		ts_conn_release(c);
	}
	errno = saved;
	return res;
}

/* ---- waiting ---------------------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What one wait gathers for the program: out[0..n), fd[i] the
 * descriptor whose registration made out[i] (-1: a plain one's, as the
 * kernel gave it). A registration's out_pass equal to the batch's pass
 * says it is in this batch, at out_idx: the pass counter is the
 * instance's, one number per batch of any thread (batch_open,
 * batch_reopen). */
struct batch {
	struct epoll_event *out;
	int fd[KBUF];
	int n, max;
	uint64_t pass;
};

/* Under e->lock, at the start of a wait's inbox pass. */
static void batch_open(struct ts_epoll *e, struct batch *b, struct epoll_event *out, int max)
{
	b->out = out;
	b->n = 0;
	b->max = max;
	b->pass = ++e->pass;
}

/* Under e->lock again after the kernel's wait, before its events. While
 * this thread slept, other threads' waits ran and emitted into their own
 * batches, moving out_pass of registrations this batch may hold too. So
 * the batch takes a new number, which no other batch has, and marks its
 * own entries again: O(events gathered). (Once the number of the last
 * pass stood for every thread's batch: a kernel event for a registration
 * that another thread's batch held under that number was "merged" into
 * an entry of this one that was not its own, and a delivered
 * EPOLLONESHOT event was lost: a thread pool's connection never served
 * again, test_evloop_mtserver.) */
static void batch_reopen(struct ts_epoll *e, struct batch *b)
{
	int i;

	b->pass = ++e->pass;
	for (i = 0; i < b->n; i++) {
		struct ts_epoll_reg *r = b->fd[i] >= 0 ? reg_slot(e, b->fd[i], 0) : NULL;

		if (r != NULL && r->data.u64 == b->out[i].data.u64) {
			r->out_pass = b->pass;
			r->out_idx = i;
		}
	}
}

/* Adds (or merges into) the program's event for r: O(1). */
static void emit(struct ts_epoll *e, struct batch *b, struct ts_epoll_reg *r, uint32_t events)
{
	if (r->out_pass == b->pass && r->out_idx < b->n) {
		b->out[r->out_idx].events |= events;
		return;
	}
	if (b->n >= b->max)
		return;
	b->out[b->n].events = events;
	b->out[b->n].data = r->data;
	b->fd[b->n] = (int)(r - e->regs);
	r->out_pass = b->pass;
	r->out_idx = b->n;
	b->n++;
}

/* Looks at one noted registration without the kernel: reports it when
 * ready, brings the kernel registration in line with what TLS needs. */
static void look(struct ts_epoll *e, int epfd, int fd, struct ts_epoll_reg *r, struct batch *b, int *cap)
{
	struct ts_conn *c;
	short ready, kev;
	uint32_t ev;
	int sn;

	if (!r->used || !r->armed)
		return;
	c = conn_at(fd);
	if (c == NULL) { /* a plain socket (now): the kernel reports it */
		if (r->tagged && TS_PLAIN(fd))
			kernel_plain(e, epfd, fd, r);
		return;
	}
	atomic_fetch_add_explicit(&ts_epoll_visits, 1, memory_order_relaxed);
	reg_follow(e, fd, r, c);
	if (TS_UNLIKELY(atomic_load(&c->obj.flags) & (TS_F_SNIFF | TS_F_PLAIN)) &&
	    (sn = ts_sniff_ready(c, cap)) != 1) {
		if (sn == 0) {
			kernel_plain(e, epfd, fd, r);
		} else { /* undecided: wait for its first bytes, and look
			  * again at every wait until its deadline */
			(void)kernel_sync(epfd, fd, r, (r->events & ~(USER_IO | EPOLLONESHOT)) | EPOLLIN);
			requeue(e, fd, r);
		}
		ts_conn_release(c);
		return;
	}
	ready = ts_readiness(c, to_poll(r->events), 0, &kev);
	if (kernel_sync(epfd, fd, r, kernel_want(r->events, kev, ready)) < 0) {
		reg_clear(e, fd, r); /* the kernel forgot it: stale */
		ts_conn_release(c);
		return;
	}
	if (ready && (r->events & EPOLLET) && r->et_reported)
		ready = 0;
	else if (!ready)
		r->et_reported = 0;
	ev = ready ? to_epoll(ready, r->events) : 0;
	if (ev) {
		emit(e, b, r, ev);
		if (r->events & EPOLLET)
			r->et_reported = 1;
		if (r->events & EPOLLONESHOT)
			r->armed = 0;
	}
	/* level-triggered and still ready: look again next time; a
	 * registration without a watch slot is looked at every time */
	if ((ev && !(r->events & (EPOLLET | EPOLLONESHOT))) || !r->watched)
		requeue(e, fd, r);
	ts_conn_release(c);
}

/* The inbox pass: what changed since the last wait. */
static void inbox_pass(struct ts_epoll *e, int epfd, struct batch *b, int *cap)
{
	struct ts_epoll_note *list;
	size_t i, cnt, wcap;
	int fd;

	if (atomic_exchange(&e->rescan, 0)) {
		for (fd = 0; fd < e->cap; fd++)
			if (e->regs[fd].used && !TS_PLAIN(fd))
				inbox_push(e, fd, e->regs[fd].conn);
	}
	/* swap the inbox with the work array: notes made from here on (by
	 * the engine itself, by other threads) wait for the next pass */
	pthread_mutex_lock(&e->inbox_lock);
	list = e->inbox;
	cnt = e->n_inbox;
	wcap = e->cap_inbox;
	e->inbox = e->work;
	e->cap_inbox = e->cap_work;
	e->n_inbox = 0;
	pthread_mutex_unlock(&e->inbox_lock);
	for (i = 0; i < cnt; i++) {
		struct ts_epoll_reg *r;

		fd = list[i].fd;
		/* first: a change from now on is noted again (also after a
		 * stale note, e.g. one that raced with a slot's set-up) */
		if (list[i].c != NULL)
			watch_unqueue(list[i].c, e);
		r = reg_slot(e, fd, 0);
		if (r == NULL || (r->conn != list[i].c && r->conn != NULL))
			continue; /* gone, or a stale note */
		if (r->seen == b->pass)
			continue;
		if (b->n >= b->max) {
			requeue(e, fd, r); /* no room: next time */
			continue;
		}
		r->seen = b->pass;
		look(e, epfd, fd, r, b, cap);
	}
	e->work = list;
	e->cap_work = wcap;
}

/* The kernel answered for a wrapped descriptor. */
static void wrapped_event(struct ts_epoll *e, int epfd, int fd, uint32_t kernel, struct batch *b)
{
	struct ts_epoll_reg *r = reg_slot(e, fd, 0);
	struct ts_conn *c;
	short ready, kev;
	uint32_t asked, res;

	if (r == NULL)
		return;
	/* A one-shot registration is one in the kernel too: it fired, and the
	 * kernel disabled it. */
	if (r->kernel & EPOLLONESHOT)
		r->kernel = 0;
	if (!r->armed)
		return; /* delivered already: quiet until the program arms it */
	asked = r->events;
	r->et_reported = 0;
	c = conn_at(fd);
	if (c == NULL) { /* no longer ours (closed, or a plain socket again) */
		res = kernel & (asked | EPOLLERR | EPOLLHUP);
		if (res)
			emit(e, b, r, res);
		if (TS_PLAIN(fd))
			kernel_plain(e, epfd, fd, r);
		return;
	}
	atomic_fetch_add_explicit(&ts_epoll_visits, 1, memory_order_relaxed);
	if (atomic_load(&c->obj.flags) & (TS_F_SNIFF | TS_F_PLAIN)) {
		/* its first bytes came (or not): the next pass decides */
		reg_follow(e, fd, r, c);
		requeue(e, fd, r);
		ts_conn_release(c);
		return;
	}
	reg_follow(e, fd, r, c);
	ready = ts_readiness(c, to_poll(asked), (short)(kernel & 0xffff), &kev);
	res = to_epoll(ready, asked);
	if (res && (asked & EPOLLONESHOT)) {
		/* delivered: the kernel's registration stays disabled until the
		 * program arms it again (ts_epoll_ctl) */
		emit(e, b, r, res);
		r->armed = 0;
	} else {
		/* and a one-shot one that fired for TLS's sake is armed again */
		(void)kernel_sync(epfd, fd, r, kernel_want(asked, kev, ready));
		if (res)
			emit(e, b, r, res);
	}
	ts_conn_release(c);
}

int ts_epoll_wait(struct ts_epoll *e, int epfd, struct epoll_event *out, int max, int timeout_ms,
                  const sigset_t *sigmask)
{
	struct epoll_event kbuf[KBUF];
	struct batch b;
	long long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
	int k, i, wait, cap;

	if (max <= 0) {
		errno = EINVAL;
		return -1;
	}
	if (max > KBUF)
		max = KBUF;
	for (;;) {
		cap = -1;
		pthread_mutex_lock(&e->lock);
		wake_setup(e, epfd);
		atomic_fetch_add(&e->sleepers, 1);
		batch_open(e, &b, out, max);
		inbox_pass(e, epfd, &b, &cap);
		pthread_mutex_unlock(&e->lock);
		if (b.n >= max) {
			atomic_fetch_sub(&e->sleepers, 1);
			return b.n; /* no room: the kernel's events wait for the next call */
		}
		if (b.n > 0) {
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
		k = sigmask ? TS_REAL(epoll_pwait)(epfd, kbuf, max - b.n, wait, sigmask)
		            : TS_REAL(epoll_wait)(epfd, kbuf, max - b.n, wait);
		atomic_fetch_sub(&e->sleepers, 1);
		if (k < 0) {
			if (b.n > 0 && errno == EINTR)
				k = 0;
			else
				return -1;
		}
		pthread_mutex_lock(&e->lock);
		batch_reopen(e, &b);
		for (i = 0; i < k; i++) {
			if (kbuf[i].data.u64 == WAKE_TAG) {
				wake_drain(e); /* a note: the next pass sees it */
			} else if (is_tag(kbuf[i].data.u64)) {
				wrapped_event(e, epfd, (int)(uint32_t)kbuf[i].data.u64, kbuf[i].events, &b);
			} else if (b.n < max) {
				/* a plain descriptor: the kernel's answer as it is */
				b.fd[b.n] = -1;
				out[b.n++] = kbuf[i];
			}
		}
		pthread_mutex_unlock(&e->lock);
		if (b.n > 0 || (wait == 0 && cap < 0) || (deadline >= 0 && now_ms() >= deadline))
			return b.n;
		/* only a handshake moved (or a sniff deadline came): wait again */
	}
}
