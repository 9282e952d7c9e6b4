/*
 * sniff.h - permissive accept rules (allow_plaintext, sniff.c): one port
 * serves TLS clients and plaintext clients, and the client's first bytes
 * decide. A TLS ClientHello starts with a handshake record: 0x16, then the
 * record version 0x03 0x00-0x04. Anything else is a plaintext client,
 * served as if no rule matched; so is a client that says nothing for the
 * rule's sniff_timeout_ms (protocols where the server speaks first: SMTP,
 * FTP, POP3, IMAP, MySQL). Bytes are only peeked, never consumed: the
 * handshake (or the program) reads them as they came.
 *
 * A blocking server whose handshake runs in accept() sniffs there. Any
 * other accepted connection (an event loop's, a lazy rule's) is installed
 * undecided (TS_F_SNIFF) and decided by its first read, write or readiness
 * call, as the lazy handshake is driven: a non-blocking call never waits
 * for the sniff (EAGAIN, and readiness waits on the socket's POLLIN no
 * longer than the sniff deadline).
 */
#ifndef TLSSHIM_SNIFF_H
#define TLSSHIM_SNIFF_H

#include <stddef.h>

#include "config.h"

struct ts_conn;

enum ts_sniff_verdict {
	TS_SNIFF_TLS = 1,    /* a ClientHello (or an EOF/error: the handshake says) */
	TS_SNIFF_PLAIN = 0,  /* bytes that are not TLS */
	TS_SNIFF_MORE = -1   /* too few bytes to tell, or none yet */
};

/* What the first n bytes a client sent say. */
enum ts_sniff_verdict ts_sniff_bytes(const unsigned char *b, size_t n);

/* Peeks at fd, waiting at most wait_ms (0: not at all) for bytes. MORE
 * when the wait ended first. */
enum ts_sniff_verdict ts_sniff_fd(int fd, int wait_ms);

/* accept(): the decision for a blocking server's eager handshake, made
 * now (waits at most the rule's sniff_timeout_ms). 1: TLS; 0: plaintext,
 * counted and logged (the caller hands the program the plain socket). */
int ts_sniff_accept(int fd, const struct cfg_rule *rule, const char *peer);

/* Marks an accepted connection undecided, its deadline from now. */
void ts_sniff_start(struct ts_conn *c);

/* Decides c if it is undecided, waiting at most wait_ms (-1: until the
 * deadline) for the client's first bytes. 1: TLS (go on), 0: plaintext
 * (c is out of the descriptor table now; do plain I/O on c->core_fd), -1:
 * undecided still (the call is non-blocking: EAGAIN). */
int ts_sniff_resolve(struct ts_conn *c, int wait_ms);

/* For a readiness pass: as ts_sniff_resolve without waiting; when
 * undecided, lowers *cap_ms (-1: none) to the time left to the deadline. */
int ts_sniff_ready(struct ts_conn *c, int *cap_ms);

#endif /* TLSSHIM_SNIFF_H */
