/*
 * sniff.c - permissive accept rules: TLS or plaintext, decided by the
 * client's first bytes (sniff.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "compiler.h"
#include "conn.h"
#include "epoll.h"
#include "fdtab.h"
#include "log.h"
#include "logevery.h"
#include "real.h"
#include "sniff.h"
#include "stats.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum ts_sniff_verdict ts_sniff_bytes(const unsigned char *b, size_t n)
{
	/* RFC 8446 5.1 / RFC 5246 6.2.1: ContentType handshake (22), then
	 * ProtocolVersion {3, 0..4} (a ClientHello's record says 3,1 at
	 * most; 3,0 from SSLv3-era clients). */
	if (n == 0)
		return TS_SNIFF_MORE;
	if (b[0] != 0x16)
		return TS_SNIFF_PLAIN;
	if (n == 1)
		return TS_SNIFF_MORE;
	if (b[1] != 0x03)
		return TS_SNIFF_PLAIN;
	if (n == 2)
		return TS_SNIFF_MORE;
	return b[2] <= 0x04 ? TS_SNIFF_TLS : TS_SNIFF_PLAIN;
}

enum ts_sniff_verdict ts_sniff_fd(int fd, int wait_ms)
{
	unsigned char b[3];
	long long deadline = wait_ms > 0 ? now_ms() + wait_ms : 0;
	ssize_t n;
	enum ts_sniff_verdict v;

	for (;;) {
		n = TS_REAL(recv)(fd, b, sizeof b, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0)
			return TS_SNIFF_TLS; /* EOF: nothing to serve; the handshake reports it */
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return TS_SNIFF_TLS; /* a reset: the same */
		v = n > 0 ? ts_sniff_bytes(b, (size_t)n) : TS_SNIFF_MORE;
		if (v != TS_SNIFF_MORE)
			return v;
		long long left = deadline - now_ms();

		if (left <= 0)
			/* One or two bytes of what may be a ClientHello and no
			 * more in time: let the handshake decide. */
			return n > 0 ? TS_SNIFF_TLS : TS_SNIFF_MORE;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (n > 0) {
			/* a partial header: poll says readable at once; wait for
			 * the rest in small steps instead of spinning */
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
			continue;
		}
		if (TS_REAL(poll)(&p, 1, (int)left) < 0 && errno != EINTR)
			return TS_SNIFF_TLS;
	}
}

/* The warn line for a plaintext client, at most once a minute per client
 * address (the port changes with every connection); the line says how many
 * went unlogged since. */
TS_LARGE(static struct ts_log_every plaintext_lines);

static void log_plaintext(const struct cfg_rule *rule, const char *peer)
{
	char addr[TS_LOG_EVERY_KEY];
	unsigned long unlogged;

	ts_log_every_addr(peer, addr, sizeof addr);
	if (!ts_log_every(&plaintext_lines, addr, ts_log_every_now(), &unlogged))
		return;
	if (unlogged > 0)
		ts_log(CFG_LOG_WARN, "accept %s: PLAINTEXT client served (rule %s:%d \"%s\", "
		       "allow_plaintext; %lu more from %s not logged in the last %d s)",
		       peer, rule->file, rule->line, rule->match_text, unlogged, addr, TS_LOG_EVERY_S);
	else
		ts_log(CFG_LOG_WARN, "accept %s: PLAINTEXT client served (rule %s:%d \"%s\", "
		       "allow_plaintext)", peer, rule->file, rule->line, rule->match_text);
}

static void served_plain(const struct cfg_rule *rule, const char *peer)
{
	TS_STAT_ADD(rule, plaintext, 1);
	log_plaintext(rule, peer);
}

int ts_sniff_accept(int fd, const struct cfg_rule *rule, const char *peer)
{
	int saved = errno;
	enum ts_sniff_verdict v = ts_sniff_fd(fd, rule->sniff_timeout_ms);

	errno = saved;
	if (v == TS_SNIFF_TLS)
		return 1;
	served_plain(rule, peer);
	errno = saved;
	return 0;
}

void ts_sniff_start(struct ts_conn *c)
{
	c->sniff_deadline = now_ms() + c->rule->sniff_timeout_ms;
	atomic_fetch_or(&c->obj.flags, TS_F_SNIFF);
}

/* c is a plaintext client: out of the table, so that every later call on
 * its descriptor is the kernel's (readiness included: epoll points its
 * registrations back at the program's events on its next pass). The core
 * never touched the socket. */
static void go_plain(struct ts_conn *c)
{
	int fl, fd = c->core_fd;

	atomic_fetch_or(&c->obj.flags, TS_F_PLAIN | TS_F_KEEP_FD);
	if (atomic_fetch_and(&c->obj.flags, ~TS_F_SNIFF) & TS_F_SNIFF) {
		/* this thread decided: undo what wrapping did, count, log */
		if (atomic_load(&c->obj.flags) & TS_F_OUR_CLOEXEC) {
			fl = TS_REAL(fcntl)(fd, F_GETFD);
			if (fl >= 0)
				TS_REAL(fcntl)(fd, F_SETFD, fl & ~FD_CLOEXEC);
		}
		served_plain(c->rule, c->peer);
		ts_conn_changed(c);
		if (ts_fd_unref(fd) == &c->obj)
			ts_fd_forget(fd);
	}
}

int ts_sniff_resolve(struct ts_conn *c, int wait_ms)
{
	int flags = atomic_load(&c->obj.flags), left, saved = errno;
	enum ts_sniff_verdict v;

	if (flags & TS_F_PLAIN)
		return 0;
	if (!(flags & TS_F_SNIFF))
		return 1;
	left = (int)(c->sniff_deadline - now_ms());
	if (left < 0)
		left = 0;
	if (wait_ms < 0 || wait_ms > left)
		wait_ms = left;
	v = ts_sniff_fd(c->core_fd, wait_ms);
	errno = saved;
	if (v == TS_SNIFF_TLS) {
		atomic_fetch_and(&c->obj.flags, ~TS_F_SNIFF);
		return atomic_load(&c->obj.flags) & TS_F_PLAIN ? 0 : 1;
	}
	if (v == TS_SNIFF_MORE && now_ms() < c->sniff_deadline)
		return -1;
	go_plain(c);
	errno = saved;
	return 0;
}

int ts_sniff_ready(struct ts_conn *c, int *cap_ms)
{
	int r = ts_sniff_resolve(c, 0);

	if (r < 0) {
		long long left = c->sniff_deadline - now_ms();

		if (left < 1)
			left = 1;
		if (*cap_ms < 0 || left < *cap_ms)
			*cap_ms = (int)left;
	}
	return r;
}
