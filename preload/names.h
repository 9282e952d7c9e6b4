/*
 * names.h - the address -> host name cache fed by the resolver hooks, and
 * the rule matching that binds a connection to a name (names.c).
 */
#ifndef TLSSHIM_NAMES_H
#define TLSSHIM_NAMES_H

#include <sys/socket.h>
#include <stddef.h>

#include "config.h"

#define TS_NAMES_MAX 512
#define TS_NAME_LEN 256

/* Remembers that the process, and the calling thread, resolved `name` to
 * the address sa (lower cased; IP literals are ignored). Thread-safe,
 * bounded (oldest out). */
void ts_names_add(const struct sockaddr *sa, socklen_t len, const char *name);
void ts_names_add_raw(int family, const void *addr, const char *name);
/* Copies up to max names resolved to sa (newest first) into out; returns
 * the count. IPv4-mapped IPv6 addresses find IPv4 entries. */
size_t ts_names_lookup(const struct sockaddr *sa, socklen_t len,
                       char out[][TS_NAME_LEN], size_t max);
/* The rule of side `side` for sa, matched against every name the process
 * resolved to sa (no name a rule can match is ever evicted). name (cap
 * bytes) receives the name the connection is bound to: the one that made
 * a name rule match (the calling thread's own if it does), else the name
 * of the calling thread's most recent lookup that returned sa, else the
 * only name the process resolved to sa, else "" (several names resolved by
 * other threads are logged at warn, and none is bound). */
const struct cfg_rule *ts_names_match(const struct cfg_ruleset *rs, enum cfg_side side,
                                      const struct sockaddr *sa, socklen_t len, char *name,
                                      size_t cap);
void ts_names_clear(void);
/* 1 if s is an IPv4 or IPv6 literal. */
int ts_is_ip_literal(const char *s);
/* Fork handlers for the cache's lock. */
void ts_names_lock(void);
void ts_names_unlock(void);

#endif /* TLSSHIM_NAMES_H */
