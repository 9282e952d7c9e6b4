/*
 * rule_tls.h - each rule's TLS context, and its rotation (rule_tls.c).
 */
#ifndef TLSSHIM_RULE_TLS_H
#define TLSSHIM_RULE_TLS_H

#include "config.h"
#include "sslsocket.h"

/* How often a rule's files are looked at (stat), at most: on the connect
 * or accept path of that rule, never by a thread of our own. */
#define TS_ROTATE_CHECK_MS 500
/* A rule certificate this close to its notAfter is logged at warn, once a
 * day. */
#define TS_EXPIRY_WARN_DAYS 14

/* Takes a reference on each rule's configuration; keylog (may be NULL) is
 * SSLKEYLOGFILE, added to every context. 0, or -1 out of memory. */
int ts_rule_tls_init(const struct cfg_ruleset *rs, const char *keylog);
/* The rule's current context with a reference the caller releases with
 * sslsocket_ctx_free once its socket is wrapped (the socket keeps its
 * own): built on first use from the configuration read at start-up (the
 * process's first opens OpenSSL: ts_ossl_ready; a failure to is this
 * call's error, so the connection is refused, never left plain), and
 * rebuilt when the rule's files are replaced (checked at most every
 * TS_ROTATE_CHECK_MS); a replacement that does not load keeps the old
 * context and is logged at warn. NULL with err filled when the rule has
 * no usable context. Safe from any thread: a rotation swaps the rule's
 * pointer under the rule's lock; connections keep the context they were
 * made with. */
sslsocket_ctx *ts_rule_ctx(const struct cfg_rule *r, struct sslsocket_error *err);
/* pthread_atfork handlers: no rule lock is held across fork. */
void ts_rule_tls_fork_prepare(void);
void ts_rule_tls_fork_parent(void);
void ts_rule_tls_fork_child(void);

#endif /* TLSSHIM_RULE_TLS_H */
