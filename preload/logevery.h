/*
 * logevery.h - a warn line that a program can trigger on every connection
 * (a plaintext client served, an ambiguous name), said at most once per
 * TS_LOG_EVERY_S per key (a peer's address); the next time it is said, it
 * says how many times it went unsaid since. A busy program cannot flood
 * the log, and nothing goes uncounted.
 */
#ifndef TLSSHIM_LOGEVERY_H
#define TLSSHIM_LOGEVERY_H

#include <stddef.h>

#define TS_LOG_EVERY_S 60
#define TS_LOG_EVERY_SLOTS 64
#define TS_LOG_EVERY_KEY 64

/* One per kind of line, static, zero-initialised. Keys share
 * TS_LOG_EVERY_SLOTS slots: two keys in one slot evict each other, so a
 * line is then said sooner than once a minute (its count restarts), never
 * lost. */
struct ts_log_every_slot {
	char key[TS_LOG_EVERY_KEY];
	long long last_ms; /* 0: never said */
	unsigned long unlogged;
};
struct ts_log_every {
	struct ts_log_every_slot slot[TS_LOG_EVERY_SLOTS];
};

/* 1: say the line for KEY now (cut at TS_LOG_EVERY_KEY - 1 bytes);
 * *unlogged is how many times it went unsaid since it was last said. 0:
 * stay silent; counted. now_ms: a CLOCK_MONOTONIC time in milliseconds,
 * above 0: ts_log_every_now() (tests pass their own). One lock for every table,
 * held for a compare and a copy; fork's handlers take it. */
int ts_log_every(struct ts_log_every *t, const char *key, long long now_ms,
                 unsigned long *unlogged);
long long ts_log_every_now(void);

/* The address of ts_addr_format's "ADDR:PORT" ("[::1]:443" -> "[::1]"), as
 * the key for a line per address: a client's port changes with every
 * connection, and a name resolves to an address, not to a port. */
void ts_log_every_addr(const char *peer, char *addr, size_t cap);

/* pthread_atfork: taken before fork, released in both processes. */
void ts_log_every_lock(void);
void ts_log_every_unlock(void);

#endif /* TLSSHIM_LOGEVERY_H */
