/*
 * logevery.c - warn lines said at most once per TS_LOG_EVERY_S per key
 * (logevery.h).
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "logevery.h"

static pthread_mutex_t every_lock = PTHREAD_MUTEX_INITIALIZER;

long long ts_log_every_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ts_log_every_addr(const char *peer, char *addr, size_t cap)
{
	const char *colon = strrchr(peer, ':');
	size_t len = colon != NULL ? (size_t)(colon - peer) : strlen(peer);

	if (cap == 0)
		return;
	if (len >= cap)
		len = cap - 1;
	memcpy(addr, peer, len);
	addr[len] = '\0';
}

int ts_log_every(struct ts_log_every *t, const char *key, long long now_ms,
                 unsigned long *unlogged)
{
	char k[TS_LOG_EVERY_KEY];
	size_t len = strlen(key), i;
	unsigned h = 2166136261u;
	int say = 0;

	if (len >= sizeof k)
		len = sizeof k - 1;
	memcpy(k, key, len);
	k[len] = '\0';
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)k[i]) * 16777619u; /* FNV-1a */
	struct ts_log_every_slot *s = &t->slot[h % TS_LOG_EVERY_SLOTS];

	*unlogged = 0;
	pthread_mutex_lock(&every_lock);
	if (strcmp(s->key, k) != 0 || s->last_ms == 0 ||
	    now_ms - s->last_ms >= TS_LOG_EVERY_S * 1000LL) {
		if (strcmp(s->key, k) == 0)
			*unlogged = s->unlogged;
		memcpy(s->key, k, len + 1);
		s->last_ms = now_ms;
		s->unlogged = 0;
		say = 1;
	} else {
		s->unlogged++;
	}
	pthread_mutex_unlock(&every_lock);
	return say;
}

void ts_log_every_lock(void)
{
	pthread_mutex_lock(&every_lock);
}

void ts_log_every_unlock(void)
{
	pthread_mutex_unlock(&every_lock);
}
