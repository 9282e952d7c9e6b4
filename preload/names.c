/*
 * names.c - what the process resolved: address -> host name.
 *
 * connect() only sees an address, but users write host names in rules
 * ("*.example.com:443"), SNI must carry a name (RFC 6066 forbids IP
 * literals) and the certificate must be checked against one. The resolver
 * hooks record each answer here, in two stores:
 *
 *   - a ring of TS_NAMES_MAX entries keeps the newest names, whatever they
 *     are (the SNI of an address or `*` rule), bounded whatever the program
 *     resolves;
 *   - names that a connect rule written with a host name matches
 *     ("good.example.com:443", "*.example.com:443") are also kept, one per
 *     (address, rule), and never evicted: a name rule must not stop matching
 *     because the program resolved hundreds of other names (issue 10).
 *     This store grows only with the addresses such names resolve to.
 *
 * The name a rule matched is the name the connection is bound to (SNI and
 * the certificate check), never merely the newest name of the address:
 * with `*.example.com`, a later evil.test resolving to the same address must
 * not become the identity checked.
 *
 * An address or `*` rule says nothing about names, and the newest name the
 * process resolved to an address may be anybody's (a shared CDN address, a
 * lookup in another thread): checking it would let whoever made the process
 * resolve evil.example to the address present evil.example's certificate
 * (issue 10 item 6b). So each thread also keeps its own newest lookups
 * (THREAD_NAMES pairs, no lock): the connection is bound to the name of the
 * calling thread's most recent lookup whose answer held the address. Only a
 * thread that resolved nothing for the address falls back to the process's
 * names, and then only to a single one: two or more distinct names are
 * ambiguous, logged at warn, and the certificate is checked against the
 * address.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "init.h"
#include "log.h"
#include "logevery.h"
#include "names.h"

struct name_entry {
	int family;              /* 0: empty */
	unsigned char addr[16];
	char name[TS_NAME_LEN];
	unsigned long seq;
};

/* A name a connect rule matches, kept for good: one per (address, rule). */
struct kept_entry {
	struct kept_entry *next; /* hash chain */
	int family;
	unsigned char addr[16];
	unsigned rule;           /* cfg_rule.index */
	unsigned long seq;
	char name[TS_NAME_LEN];
};

#define KEPT_BUCKETS 256

/* The calling thread's own newest (address, name) pairs: one lookup's
 * answer shares one name, so the newest pair of an address is the thread's
 * most recent lookup that returned it. */
#define THREAD_NAMES 16

static __thread struct name_entry mine[THREAD_NAMES];
static __thread unsigned long mine_seq;

static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
TS_LARGE(static struct name_entry names[TS_NAMES_MAX]);
static unsigned long names_seq;
static struct kept_entry *kept[KEPT_BUCKETS];

int ts_is_ip_literal(const char *s)
{
	unsigned char buf[16];
	char tmp[64];
	const char *pct;
	size_t n;

	if (s == NULL)
		return 0;
	if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
		return 1;
	/* "fe80::1%eth0": a scoped IPv6 literal */
	pct = strchr(s, '%');
	n = pct ? (size_t)(pct - s) : 0;
	if (pct != NULL && n < sizeof tmp) {
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		return inet_pton(AF_INET6, tmp, buf) == 1;
	}
	return 0;
}

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* The address as (family, 16 bytes); IPv4-mapped IPv6 becomes IPv4. Read
 * with memcpy: the caller's object is a sockaddr_in or sockaddr_in6, and
 * reading it through struct sockaddr would break strict aliasing once
 * inlined. */
static int addr_key(const struct sockaddr *sa, socklen_t len, int *family, unsigned char out[16])
{
	sa_family_t fam;

	memset(out, 0, 16);
	if (sa == NULL || len < (socklen_t)sizeof fam)
		return -1;
	memcpy(&fam, (const char *)sa + offsetof(struct sockaddr, sa_family), sizeof fam);
	if (fam == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		*family = AF_INET;
		memcpy(out, (const char *)sa + offsetof(struct sockaddr_in, sin_addr), 4);
		return 0;
	}
	if (fam == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		memcpy(out, (const char *)sa + offsetof(struct sockaddr_in6, sin6_addr), 16);
		*family = AF_INET6;
		if (memcmp(out, v4mapped, 12) == 0) {
			*family = AF_INET;
			memmove(out, out + 12, 4);
			memset(out + 4, 0, 12);
		}
		return 0;
	}
	return -1;
}

/* Adds (family, addr, name) to a ring of cap entries (the process's, under
 * the lock, or the calling thread's): the same pair again only becomes the
 * newest; otherwise an empty or the oldest entry is taken. */
static void ring_add(struct name_entry *ring, size_t cap, unsigned long *seq, int family,
                     const unsigned char addr[16], const char *name)
{
	struct name_entry *e, *slot = NULL;
	size_t i, n;

	n = strlen(name);
	if (n >= TS_NAME_LEN)
		return;
	for (i = 0; i < cap; i++) {
		e = &ring[i];
		if (e->family == family && memcmp(e->addr, addr, 16) == 0 &&
		    strcmp(e->name, name) == 0) {
			e->seq = ++*seq;
			return;
		}
		if (slot == NULL || e->seq < slot->seq) /* an empty one has seq 0 */
			slot = e;
	}
	slot->family = family;
	memcpy(slot->addr, addr, 16);
	memcpy(slot->name, name, n + 1);
	slot->seq = ++*seq;
}

/* The name of the calling thread's most recent lookup that returned
 * (family, key), or NULL. */
static const char *find_mine(int family, const unsigned char key[16])
{
	const struct name_entry *best = NULL;
	size_t i;

	for (i = 0; i < THREAD_NAMES; i++)
		if (mine[i].family == family && memcmp(mine[i].addr, key, 16) == 0 &&
		    (best == NULL || mine[i].seq > best->seq))
			best = &mine[i];
	return best != NULL ? best->name : NULL;
}

static unsigned kept_bucket(int family, const unsigned char addr[16])
{
	unsigned h = 2166136261u ^ (unsigned)family;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h % KEPT_BUCKETS;
}

/* Keeps (address, name) for every connect rule that the name matches.
 * Allocation failure only loses the guarantee for this name; the ring still
 * has it. */
static void keep_locked(int family, const unsigned char addr[16], const char *name,
                        unsigned long seq)
{
	const struct cfg_ruleset *rs = ts_rules;
	struct kept_entry *e;
	unsigned b;
	size_t i, n = strlen(name);

	if (rs == NULL)
		return;
	b = kept_bucket(family, addr);
	for (i = 0; i < rs->count; i++) {
		const struct cfg_rule *r = &rs->rules[i];

		if (r->side != CFG_CONNECT || !cfg_rule_names_host(r, name))
			continue;
		for (e = kept[b]; e != NULL; e = e->next)
			if (e->rule == r->index && e->family == family &&
			    memcmp(e->addr, addr, 16) == 0)
				break;
		if (e == NULL) {
			e = calloc(1, sizeof *e);
			if (e == NULL)
				continue;
			e->family = family;
			memcpy(e->addr, addr, 16);
			e->rule = r->index;
			e->next = kept[b];
			kept[b] = e;
		}
		memcpy(e->name, name, n + 1);
		e->seq = seq;
	}
}

void ts_names_add_raw(int family, const void *addr, const char *name)
{
	unsigned char key[16] = {0};
	char low[TS_NAME_LEN];
	size_t i, n;

	if (name == NULL || addr == NULL || (family != AF_INET && family != AF_INET6))
		return;
	if (ts_is_ip_literal(name))
		return;
	n = strlen(name);
	if (n == 0 || n >= sizeof low)
		return;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	/* "example.com." and "example.com" are one name. */
	if (n > 1 && low[n - 1] == '.')
		n--;
	low[n] = '\0';
	if (family == AF_INET6) {
		memcpy(key, addr, 16);
		if (memcmp(key, v4mapped, 12) == 0) {
			family = AF_INET;
			memmove(key, key + 12, 4);
			memset(key + 4, 0, 12);
		}
	} else {
		memcpy(key, addr, 4);
	}
	ring_add(mine, THREAD_NAMES, &mine_seq, family, key, low);
	pthread_mutex_lock(&names_lock);
	ring_add(names, TS_NAMES_MAX, &names_seq, family, key, low);
	keep_locked(family, key, low, names_seq);
	pthread_mutex_unlock(&names_lock);
}

void ts_names_add(const struct sockaddr *sa, socklen_t len, const char *name)
{
	unsigned char key[16];
	int family;

	if (addr_key(sa, len, &family, key) < 0)
		return;
	ts_names_add_raw(family, key, name);
}

struct found_name {
	const char *name;
	unsigned long seq;
};

static int newest_first(const void *a, const void *b)
{
	const struct found_name *x = a, *y = b;

	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

/* Every distinct name resolved to (family, key), newest first, from both
 * stores; *out is malloc'ed (NULL when there is none). Lock held. */
static size_t collect_locked(int family, const unsigned char key[16], struct found_name **out)
{
	struct found_name *f;
	const struct kept_entry *e;
	size_t i, j, n = 0, cap = 0, w;

	*out = NULL;
	for (i = 0; i < TS_NAMES_MAX; i++)
		if (names[i].family == family && memcmp(names[i].addr, key, 16) == 0)
			cap++;
	for (e = kept[kept_bucket(family, key)]; e != NULL; e = e->next)
		cap++;
	if (cap == 0 || (f = malloc(cap * sizeof *f)) == NULL)
		return 0;
	for (i = 0; i < TS_NAMES_MAX; i++)
		if (names[i].family == family && memcmp(names[i].addr, key, 16) == 0)
			f[n++] = (struct found_name){names[i].name, names[i].seq};
	for (e = kept[kept_bucket(family, key)]; e != NULL; e = e->next)
		if (e->family == family && memcmp(e->addr, key, 16) == 0)
			f[n++] = (struct found_name){e->name, e->seq};
	qsort(f, n, sizeof *f, newest_first);
	/* A name in both stores (or kept for two rules) counts once. */
	for (i = 0, w = 0; i < n; i++) {
		for (j = 0; j < w; j++)
			if (strcmp(f[j].name, f[i].name) == 0)
				break;
		if (j == w)
			f[w++] = f[i];
	}
	*out = f;
	return w;
}

size_t ts_names_lookup(const struct sockaddr *sa, socklen_t len,
                       char out[][TS_NAME_LEN], size_t max)
{
	unsigned char key[16];
	struct found_name *f;
	size_t i, n;
	int family;

	if (max == 0 || addr_key(sa, len, &family, key) < 0)
		return 0;
	pthread_mutex_lock(&names_lock);
	n = collect_locked(family, key, &f);
	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		memcpy(out[i], f[i].name, TS_NAME_LEN);
	pthread_mutex_unlock(&names_lock);
	free(f);
	return n;
}

/* "a, b, c and N more": the candidates of an ambiguous address. */
static void list_names(const struct found_name *f, size_t n, char *out, size_t cap)
{
	size_t i, used = 0;
	int w;

	out[0] = '\0';
	for (i = 0; i < n && i < 4; i++) {
		w = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", f[i].name);
		if (w < 0 || (size_t)w >= cap - used)
			return;
		used += (size_t)w;
	}
	if (n > i)
		snprintf(out + used, cap - used, " and %zu more", n - i);
}

/* Said for every such connect, a busy multi-threaded client would flood
 * the log: at most once a minute per address (logevery.h). */
TS_LARGE(static struct ts_log_every ambiguous_lines);

static void log_ambiguous(const struct sockaddr *sa, socklen_t len, size_t n,
                          const char *ambiguous)
{
	char peer[64], addr[TS_LOG_EVERY_KEY];
	unsigned long unlogged;

	ts_addr_format(sa, len, peer, sizeof peer);
	ts_log_every_addr(peer, addr, sizeof addr);
	if (!ts_log_every(&ambiguous_lines, addr, ts_log_every_now(), &unlogged))
		return;
	if (unlogged > 0)
		ts_log(CFG_LOG_WARN,
		       "connect %s: %zu names were resolved to this address, none by this thread "
		       "(%s); no name is sent, the certificate is checked against the address "
		       "(%lu more such connects to %s since this was last logged)",
		       peer, n, ambiguous, unlogged, addr);
	else
		ts_log(CFG_LOG_WARN,
		       "connect %s: %zu names were resolved to this address, none by this thread "
		       "(%s); no name is sent, the certificate is checked against the address",
		       peer, n, ambiguous);
}

const struct cfg_rule *ts_names_match(const struct cfg_ruleset *rs, enum cfg_side side,
                                      const struct sockaddr *sa, socklen_t len, char *name,
                                      size_t cap)
{
	const struct cfg_rule *r;
	const char **ptrs = NULL;
	const char *own;
	unsigned char key[16];
	struct found_name *f = NULL;
	size_t i, n = 0, np = 0, which = SIZE_MAX;
	char ambiguous[600] = "";
	int family;

	if (cap > 0)
		name[0] = '\0';
	if (addr_key(sa, len, &family, key) < 0)
		return cfg_match(rs, side, sa, len, NULL, 0);
	own = find_mine(family, key);
	pthread_mutex_lock(&names_lock);
	n = collect_locked(family, key, &f);
	/* This thread's own name first: of the names that match a name rule,
	 * the one this thread looked up is the one bound. */
	if ((ptrs = malloc((n + 1) * sizeof *ptrs)) == NULL) {
		n = 0; /* address rules still match; name rules cannot be decided */
		own = NULL;
	} else {
		if (own != NULL)
			ptrs[np++] = own;
		for (i = 0; i < n; i++)
			if (own == NULL || strcmp(f[i].name, own) != 0)
				ptrs[np++] = f[i].name;
	}
	r = cfg_match_named(rs, side, sa, len, ptrs, np, &which);
	if (r != NULL && which == SIZE_MAX) {
		/* An address or `*` rule says nothing about names: this
		 * thread's lookup, else the process's only name; several are
		 * ambiguous and none is bound. */
		if (own != NULL || np == 1)
			which = 0;
		else if (np > 1 && side == CFG_CONNECT && !r->passthrough &&
		         r->opts.server_hostname == NULL)
			list_names(f, n, ambiguous, sizeof ambiguous);
	}
	if (which < np && cap > 0) {
		strncpy(name, ptrs[which], cap - 1);
		name[cap - 1] = '\0';
	}
	pthread_mutex_unlock(&names_lock);
	free(ptrs);
	free(f);
	if (ambiguous[0] != '\0')
		log_ambiguous(sa, len, n, ambiguous);
	return r;
}

void ts_names_clear(void)
{
	size_t b;

	memset(mine, 0, sizeof mine); /* the calling thread's */
	mine_seq = 0;
	pthread_mutex_lock(&names_lock);
	memset(names, 0, sizeof names);
	names_seq = 0;
	for (b = 0; b < KEPT_BUCKETS; b++) {
		while (kept[b] != NULL) {
			struct kept_entry *e = kept[b];

			kept[b] = e->next;
			free(e);
		}
	}
	pthread_mutex_unlock(&names_lock);
}

void ts_names_lock(void)
{
	pthread_mutex_lock(&names_lock);
}

void ts_names_unlock(void)
{
	pthread_mutex_unlock(&names_lock);
}

