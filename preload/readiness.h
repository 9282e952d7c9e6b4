/*
 * readiness.h - the one readiness engine of poll, ppoll, select, pselect
 * and epoll over wrapped connections (readiness.c).
 *
 * TLS breaks the kernel's idea of readiness twice (DESIGN.md part 3):
 * decrypted bytes can wait inside OpenSSL while the socket reads as empty,
 * and a handshake (or a renegotiation, or queued ciphertext) can need the
 * other direction than the program waits for. For one connection and what
 * the program asked (POLLIN, POLLOUT), the engine says what is ready now
 * and what the kernel must be asked for instead; when the kernel has
 * answered, it first does the work the answer allows (never blocking): it
 * advances a handshake, processes records that carry no application data,
 * sends queued ciphertext. Events are poll(2) bits; epoll's share their
 * values (EPOLLIN == POLLIN, ...).
 */
#ifndef TLSSHIM_READINESS_H
#define TLSSHIM_READINESS_H

#include <poll.h>

struct ts_conn;

/* What the engine decides from: the connection's state after the work the
 * kernel's answer allowed. Filled by ts_readiness; a table in the unit
 * tests fills it directly. */
struct ts_ready_facts {
	short asked;        /* the program's POLLIN | POLLOUT */
	short kernel;       /* the kernel's answer (revents), 0: not asked yet */
	short core_ready;   /* sslsocket_poll_events: ready without the kernel */
	short core_want;    /* ... and what the kernel must be asked for */
	unsigned handshaking : 1;   /* before the work: connect or handshake */
	unsigned established : 1;   /* after the work */
	unsigned failed : 1;        /* after the work (sticky) */
	unsigned peeked : 1;        /* MSG_PEEK bytes wait in the connection */
	unsigned read_ready : 1;    /* kernel POLLIN was application data (or
	                               the end), not just a ticket */
	unsigned flushed : 1;       /* kernel POLLOUT sent every queued byte */
};

/* The decision itself, no I/O: the events to report (0 when none) and, in
 * *want, the POLLIN/POLLOUT to ask the kernel for. */
short ts_ready_decide(const struct ts_ready_facts *f, short *want);

/* For connection c (a wrapped one, c->s set) and the program's `asked`
 * events: with `kernel` the kernel's answer for it (0 before asking), does
 * the work that answer allows, then returns what is ready and stores what
 * to ask the kernel for in *want. A handshake it sees fail is logged and
 * owed to getsockopt(SO_ERROR) (ts_conn_drive). */
short ts_readiness(struct ts_conn *c, short asked, short kernel, short *want);

#endif /* TLSSHIM_READINESS_H */
