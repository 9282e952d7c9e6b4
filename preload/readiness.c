/*
 * readiness.c - the readiness engine shared by poll, ppoll, select,
 * pselect (ready.c) and epoll (epoll.c): for a connection and what the
 * program asked, what is ready now and what to ask the kernel for.
 *
 * Without an answer from the kernel it only looks: pending plaintext (in
 * OpenSSL or in the MSG_PEEK buffer), a received close_notify and a
 * failure are ready. With one, it first does the work that answer allows,
 * never blocking: a connect or handshake in progress is advanced (a
 * failure is logged and owed to SO_ERROR: ts_conn_drive), "readable" is
 * checked to mean application data (records without any, TLS 1.3 session
 * tickets, are processed and not reported), and "writable" sends queued
 * ciphertext first (writable means flushed). Then ts_ready_decide turns
 * what it saw into events.
 */
#include <errno.h>
#include <poll.h>

#include "conn.h"
#include "epoll.h"
#include "readiness.h"

short ts_ready_decide(const struct ts_ready_facts *f, short *want)
{
	short r = 0, w = f->core_want & (POLLIN | POLLOUT);
	short rw = f->asked & (POLLIN | POLLOUT);

	if (f->kernel & POLLNVAL) {
		*want = 0;
		return POLLNVAL;
	}
	if (f->kernel && !f->handshaking) {
		/* Established (or failed earlier): the kernel's event stands
		 * for the program's, once the work is done. */
		r |= f->kernel & (POLLERR | POLLHUP | POLLPRI | POLLRDHUP);
		if ((f->kernel & POLLIN) && (rw & POLLIN) && f->read_ready)
			r |= POLLIN;
		if ((f->kernel & POLLOUT) && f->flushed)
			r |= rw & POLLOUT;
		/* a write that waits for a read (renegotiation, ticket) */
		if ((rw & POLLOUT) && (f->kernel & POLLIN) && !(f->kernel & POLLOUT) &&
		    (f->core_want & POLLIN) && !(f->core_want & POLLOUT))
			r |= POLLOUT;
	}
	r |= f->core_ready & rw;
	/* A failure reads as a refused connect: the error, and the program's
	 * own events so that it looks (its next call says EPROTO). */
	if (f->failed)
		r |= rw | POLLERR;
	if ((rw & POLLIN) && f->peeked) {
		r |= POLLIN;
		w &= (short)~POLLIN;
	}
	/* The kernel saw the peer go during the handshake: let the program
	 * look (its next call drives the handshake into the error). */
	if (f->kernel && f->handshaking && !f->established && !f->failed && r == 0 &&
	    (f->kernel & (POLLERR | POLLHUP)))
		r = rw | (f->kernel & (POLLERR | POLLHUP));
	*want = w;
	return r;
}

/* Kernel POLLIN on an established connection: is it application data (or
 * the end)? Processes what the kernel holds without blocking. */
static int read_ready(struct ts_conn *c)
{
	int ready;

	ready = sslsocket_read_ready(c->s);
	/* the program may take POLLERR as the end and never read */
	if (sslsocket_failed(c->s))
		ts_conn_log_failure(c);
	ts_conn_changed(c);
	return ready;
}

/* Kernel POLLOUT: sends queued ciphertext; 1 when none is left. */
static int flush(struct ts_conn *c)
{
	int a, e = errno;

	a = sslsocket_advance(c->s);
	ts_conn_changed(c);
	a = !(a < 0 && errno == EAGAIN);
	errno = e;
	return a;
}

short ts_readiness(struct ts_conn *c, short asked, short kernel, short *want)
{
	struct ts_ready_facts f = {0};
	struct sslsocket_state st;
	short kev = 0;

	if (kernel & POLLNVAL) {
		*want = 0;
		return POLLNVAL;
	}
	f.asked = asked & (POLLIN | POLLOUT);
	f.kernel = kernel;
	/* EDEADLK: a signal handler's call on a connection its thread is
	 * inside of: nothing can be said now */
	if (sslsocket_snapshot(c->s, &st) < 0) {
		*want = 0;
		return 0;
	}
	f.handshaking = !st.established && !st.failed;
	if (kernel & (POLLIN | POLLOUT | POLLERR | POLLHUP)) {
		if (f.handshaking) {
			ts_conn_drive(c);
		} else {
			if ((kernel & POLLIN) && (f.asked & POLLIN))
				f.read_ready = read_ready(c);
			if (kernel & POLLOUT)
				f.flushed = flush(c);
		}
	}
	f.core_ready = sslsocket_poll_events(c->s, f.asked, &kev);
	f.core_want = kev;
	/* the state after the work above, in one go */
	if (sslsocket_snapshot(c->s, &st) < 0) {
		*want = 0;
		return 0;
	}
	f.established = st.established;
	f.failed = (atomic_load(&c->obj.flags) & TS_F_ABANDONED) != 0 || st.failed;
	f.peeked = ts_conn_peeked(c) > 0;
	return ts_ready_decide(&f, want);
}
