/*
 * names.c - what the process resolved: address -> host name.
 *
 * connect() only sees an address, but users write host names in rules
 * ("*.example.com:443"), SNI must carry a name (RFC 6066 forbids IP
 * literals) and the certificate must be checked against one. The resolver
 * hooks record each answer here; a ring of TS_NAMES_MAX entries keeps the
 * newest, so the cache stays bounded whatever the program resolves.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include "ts.h"

struct name_entry {
	int family;              /* 0: empty */
	unsigned char addr[16];
	char name[TS_NAME_LEN];
	unsigned long seq;
};

static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
static struct name_entry names[TS_NAMES_MAX];
static unsigned long names_seq;

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

static void add_locked(int family, const unsigned char addr[16], const char *name)
{
	struct name_entry *e, *slot = NULL;
	size_t i, n;

	n = strlen(name);
	if (n >= TS_NAME_LEN)
		return;
	/* The same pair again only becomes the newest. */
	for (i = 0; i < TS_NAMES_MAX; i++) {
		e = &names[i];
		if (e->family == family && memcmp(e->addr, addr, 16) == 0 &&
		    strcmp(e->name, name) == 0) {
			e->seq = ++names_seq;
			return;
		}
	}
	for (i = 0; i < TS_NAMES_MAX; i++) {
		e = &names[i];
		if (e->family == 0) {
			slot = e;
			break;
		}
		if (slot == NULL || e->seq < slot->seq)
			slot = e;
	}
	slot->family = family;
	memcpy(slot->addr, addr, 16);
	memcpy(slot->name, name, n + 1);
	slot->seq = ++names_seq;
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
	pthread_mutex_lock(&names_lock);
	add_locked(family, key, low);
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

size_t ts_names_lookup(const struct sockaddr *sa, socklen_t len,
                       char out[][TS_NAME_LEN], size_t max)
{
	unsigned char key[16];
	const struct name_entry *found[TS_NAMES_MAX];
	size_t i, j, n = 0;
	int family;

	if (max == 0 || addr_key(sa, len, &family, key) < 0)
		return 0;
	pthread_mutex_lock(&names_lock);
	for (i = 0; i < TS_NAMES_MAX; i++)
		if (names[i].family == family && memcmp(names[i].addr, key, 16) == 0)
			found[n++] = &names[i];
	/* newest first (insertion sort: n is small) */
	for (i = 1; i < n; i++) {
		const struct name_entry *e = found[i];

		for (j = i; j > 0 && found[j - 1]->seq < e->seq; j--)
			found[j] = found[j - 1];
		found[j] = e;
	}
	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		memcpy(out[i], found[i]->name, TS_NAME_LEN);
	pthread_mutex_unlock(&names_lock);
	return n;
}

void ts_names_clear(void)
{
	pthread_mutex_lock(&names_lock);
	memset(names, 0, sizeof names);
	names_seq = 0;
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

/* In the child of fork only the forking thread exists; the lock was taken
 * in the prepare handler, so it is re-initialised rather than unlocked by a
 * thread that does not own it. */
void ts_names_reinit(void)
{
	pthread_mutex_init(&names_lock, NULL);
}
