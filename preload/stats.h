/*
 * stats.h - the counters behind `tlsshim --status` (stats.c; the file
 * layout is stats_shm.h). Each update is one relaxed atomic add on the
 * process's mapped status file, made where an event already happens (a
 * handshake done or failed, a read's or write's byte count): no system
 * call, no lock, nothing on the pass-through path.
 */
#ifndef TLSSHIM_STATS_H
#define TLSSHIM_STATS_H

#include <stdint.h>

#include "config.h"
#include "sslsocket.h"
#include "stats_shm.h"

/* The rules' counters, indexed by struct cfg_rule.index: the mapped file,
 * or private memory before it is made or when it cannot be; NULL while
 * inert. */
extern struct ts_stats_rule *ts_stats_rules;

static inline struct ts_stats_rule *ts_stats_of(const struct cfg_rule *r)
{
	struct ts_stats_rule *t = __atomic_load_n(&ts_stats_rules, __ATOMIC_ACQUIRE);

	return r != NULL && t != NULL ? &t[r->index] : NULL;
}

#define TS_STAT_ADD(rule, field, n)                                                    \
	do {                                                                           \
		struct ts_stats_rule *st_ = ts_stats_of(rule);                         \
		if (st_ != NULL)                                                       \
			__atomic_fetch_add(&st_->field, (n), __ATOMIC_RELAXED);        \
	} while (0)

/* Counters for the rule set, in private memory (init.c, once); removes
 * the file of the image this one was exec'd from. */
void ts_stats_init(const struct cfg_ruleset *rs);
/* The process uses a rule: its status file is made now, holding what was
 * counted so far (once; under a rule's lock, ts_rule_ctx). */
void ts_stats_publish(void);
/* The child of a fork: its own file, with the connections it inherited
 * counted as open and every other counter at 0. */
void ts_stats_fork_child(void);
/* The rule's certificate expiry, once its context is built. */
void ts_stats_rule_ctx(const struct cfg_rule *r, const sslsocket_ctx *ctx);
/* Why a handshake failed, from the core's error (enum ts_stats_fail). */
int ts_stats_fail_reason(const struct sslsocket_error *e);
/* A handshake failed: counts it under its reason. */
void ts_stats_hs_failed(const struct cfg_rule *r, const struct sslsocket_error *e);
/* The path of this process's file ("" when none), for tests and logs. */
const char *ts_stats_path(void);

#endif /* TLSSHIM_STATS_H */
