/*
 * workload.h - the client and server sides of the workloads (bench.h has
 * the wire format), written once over a transport so that the plain pair
 * and the libssl pair do exactly the same thing byte for byte.
 *
 * Results are single lines on stdout that bench/run.sh parses:
 *   RESULT workload=bulk value=612.3 unit=MB/s bytes=... secs=...
 *   MEM side=server conns=1000 heap_per_conn=... rss_per_conn=... anon_per_conn=...
 *   STATS handshakes=... resumed=...        (TLS server, at SIGTERM)
 */
#ifndef TLSSHIM_BENCH_WORKLOAD_H
#define TLSSHIM_BENCH_WORKLOAD_H

#include <stdint.h>

#include "bench.h"

/* How a program turns a connected descriptor into a connection and back.
 * open returns NULL when the handshake failed (the descriptor is closed). */
struct bench_ops {
	struct bench_io io;
	void *(*open)(void *ctx, int fd);
	void (*close)(void *ctx, void *conn);
	int (*reused)(void *ctx, void *conn); /* may be NULL: never resumed */
	void *ctx;
};

/* ---- client ---------------------------------------------------------------- */

static inline void *bench_client_open(const struct bench_ops *ops,
                                      const struct sockaddr_storage *ss, socklen_t len)
{
	void *c = ops->open(ops->ctx, bench_connect(ss, len));
	if (!c) {
		fprintf(stderr, "bench: handshake failed\n");
		exit(1);
	}
	return c;
}

static inline void bench_msg(unsigned char *m, char tag, uint64_t param)
{
	memset(m, 0, BENCH_MSG);
	m[0] = (unsigned char)tag;
	bench_put64(m + 8, param);
	for (int i = 16; i < BENCH_MSG; i++)
		m[i] = (unsigned char)(param + (uint64_t)i);
}

/* Sends one message and checks that it comes back unchanged. */
static inline void bench_echo(const struct bench_ops *ops, void *c, const unsigned char *m)
{
	unsigned char back[BENCH_MSG];
	if (bench_write_all(&ops->io, c, m, BENCH_MSG) < 0)
		bench_die("write");
	if (bench_read_all(&ops->io, c, back, BENCH_MSG) != 1)
		bench_die("read (echo)");
	if (memcmp(m, back, BENCH_MSG)) {
		fprintf(stderr, "bench: echo differs from what was sent\n");
		exit(1);
	}
}

static inline void bench_client_bulk(const struct bench_opts *o, const struct bench_ops *ops,
                                     const struct sockaddr_storage *ss, socklen_t len)
{
	static unsigned char buf[BENCH_CHUNK];
	unsigned char m[BENCH_MSG];
	uint64_t sent = 0;
	double t0, t1;
	void *c = bench_client_open(ops, ss, len);

	bench_msg(m, 'B', o->bytes);
	m[1] = (unsigned char)o->verify;
	bench_fill(buf, sizeof buf, 0);
	t0 = bench_now();
	if (bench_write_all(&ops->io, c, m, BENCH_MSG) < 0)
		bench_die("write");
	while (sent < o->bytes) {
		size_t n = o->bytes - sent < BENCH_CHUNK ? (size_t)(o->bytes - sent) : BENCH_CHUNK;
		/* Only a verifying run pays for a fresh pattern per chunk. */
		if (o->verify)
			bench_fill(buf, n, sent);
		if (bench_write_all(&ops->io, c, buf, n) < 0)
			bench_die("write (bulk)");
		sent += n;
	}
	if (bench_read_all(&ops->io, c, m, BENCH_MSG) != 1)
		bench_die("read (bulk acknowledgement)");
	t1 = bench_now();
	if (m[0] != 'b' || bench_get64(m + 8) != o->bytes || bench_get64(m + 16) != 0) {
		fprintf(stderr, "bench: bulk: sent %llu bytes, server counted %llu, %llu differed\n",
		        (unsigned long long)o->bytes, (unsigned long long)bench_get64(m + 8),
		        (unsigned long long)bench_get64(m + 16));
		exit(1);
	}
	ops->close(ops->ctx, c);
	printf("RESULT workload=bulk value=%.1f unit=MB/s bytes=%llu secs=%.4f verified=%d\n",
	       (double)o->bytes / (t1 - t0) / 1e6, (unsigned long long)o->bytes, t1 - t0, o->verify);
}

static inline void bench_client_pingpong(const struct bench_opts *o, const struct bench_ops *ops,
                                         const struct sockaddr_storage *ss, socklen_t len)
{
	unsigned char m[BENCH_MSG];
	uint64_t rounds = 0;
	double t0, t1 = 0, end;
	void *c = bench_client_open(ops, ss, len);

	t0 = bench_now();
	end = t0 + o->duration;
	for (;;) {
		bench_msg(m, 'P', rounds);
		bench_echo(ops, c, m);
		rounds++;
		if ((rounds & 15) == 0 && (t1 = bench_now()) >= end)
			break;
	}
	ops->close(ops->ctx, c);
	printf("RESULT workload=pingpong value=%.1f unit=rt/s rounds=%llu bytes=%llu secs=%.4f\n",
	       (double)rounds / (t1 - t0), (unsigned long long)rounds,
	       (unsigned long long)(rounds * 2 * BENCH_MSG), t1 - t0);
}

static inline void bench_client_connect(const struct bench_opts *o, const struct bench_ops *ops,
                                        const struct sockaddr_storage *ss, socklen_t len)
{
	unsigned char m[BENCH_MSG];
	uint64_t conns = 0, resumed = 0;
	double t0, t1 = 0, end;

	t0 = bench_now();
	end = t0 + o->duration;
	do {
		void *c = bench_client_open(ops, ss, len);
		bench_msg(m, 'C', conns);
		bench_echo(ops, c, m);
		if (ops->reused && ops->reused(ops->ctx, c))
			resumed++;
		ops->close(ops->ctx, c);
		conns++;
	} while ((t1 = bench_now()) < end);
	printf("RESULT workload=connect value=%.1f unit=conn/s conns=%llu resumed=%llu bytes=%llu"
	       " secs=%.4f\n", (double)conns / (t1 - t0), (unsigned long long)conns,
	       (unsigned long long)resumed, (unsigned long long)(conns * 2 * BENCH_MSG), t1 - t0);
}

static inline void bench_client_idle(const struct bench_opts *o, const struct bench_ops *ops,
                                     const struct sockaddr_storage *ss, socklen_t len)
{
	unsigned char m[BENCH_MSG];
	struct bench_mem first, last;
	void **conns = calloc((size_t)o->count, sizeof *conns);
	struct timespec hold;

	if (!conns)
		bench_die("calloc");
	for (long i = 0; i < o->count; i++) {
		conns[i] = bench_client_open(ops, ss, len);
		bench_msg(m, 'I', (uint64_t)o->count);
		bench_echo(ops, conns[i], m);
		if (i == 0)
			bench_mem_get(&first);
	}
	bench_mem_get(&last);
	bench_mem_report("client", &first, &last, o->count);
	printf("RESULT workload=idle value=%ld unit=conns bytes=%llu\n", o->count,
	       (unsigned long long)(o->count * 2 * BENCH_MSG));
	fflush(stdout);
	/* Holding the connections lets run.sh look at the peers' memory. */
	hold.tv_sec = (time_t)o->duration;
	hold.tv_nsec = (long)((o->duration - (double)hold.tv_sec) * 1e9);
	while (nanosleep(&hold, &hold) < 0 && errno == EINTR)
		;
	for (long i = 0; i < o->count; i++)
		ops->close(ops->ctx, conns[i]);
	free(conns);
}

static inline int bench_client_main(const struct bench_opts *o, const struct bench_ops *ops)
{
	struct sockaddr_storage ss;
	socklen_t len;

	signal(SIGPIPE, SIG_IGN);
	bench_resolve(o, &ss, &len);
	switch (o->workload) {
	case 'B': bench_client_bulk(o, ops, &ss, len); break;
	case 'P': bench_client_pingpong(o, ops, &ss, len); break;
	case 'C': bench_client_connect(o, ops, &ss, len); break;
	case 'I': bench_client_idle(o, ops, &ss, len); break;
	}
	fflush(stdout);
	return 0;
}

/* ---- server ---------------------------------------------------------------- */

static volatile sig_atomic_t bench_stop;

static inline void bench_on_term(int sig)
{
	(void)sig;
	bench_stop = 1;
}

/* Counts the bulk stream; with verify, also the bytes that differ from the
 * pattern. Returns 0, or -1 if the connection broke. */
static inline int bench_serve_bulk(const struct bench_ops *ops, void *c, unsigned char *m)
{
	static unsigned char buf[BENCH_RBUF];
	uint64_t want = bench_get64(m + 8), got = 0, bad = 0;
	int verify = m[1];

	while (got < want) {
		ssize_t r = ops->io.rd(c, buf, sizeof buf);
		if (r <= 0)
			return -1;
		if (verify)
			for (ssize_t i = 0; i < r; i++)
				bad += buf[i] != bench_pattern(got + (uint64_t)i);
		got += (uint64_t)r;
	}
	memset(m, 0, BENCH_MSG);
	m[0] = 'b';
	bench_put64(m + 8, got);
	bench_put64(m + 16, bad);
	return bench_write_all(&ops->io, c, m, BENCH_MSG);
}

/* Echoes 64-byte messages until EOF. */
static inline void bench_serve_echo(const struct bench_ops *ops, void *c, unsigned char *m)
{
	do {
		if (bench_write_all(&ops->io, c, m, BENCH_MSG) < 0)
			return;
	} while (bench_read_all(&ops->io, c, m, BENCH_MSG) == 1);
}

/* One connection at a time: the clients open one at a time, and a single
 * thread keeps mallinfo2 exact for the idle figures. */
static inline int bench_server_main(const struct bench_opts *o, const struct bench_ops *ops)
{
	struct sigaction sa;
	unsigned char m[BENCH_MSG];
	struct bench_mem first = {0, 0, 0}, last;
	void **idle = NULL;
	long n_idle = 0, cap_idle = 0;
	int lfd;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = bench_on_term;  /* no SA_RESTART: accept returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lfd = bench_listen(o);
	printf("LISTENING %s\n", o->port);
	fflush(stdout);
	while (!bench_stop) {
		void *c;
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			bench_die("accept");
		}
		bench_nodelay(fd);
		bench_recv_timeout(fd, 60);
		c = ops->open(ops->ctx, fd);
		if (!c)
			continue;
		if (bench_read_all(&ops->io, c, m, BENCH_MSG) != 1) {
			ops->close(ops->ctx, c);
			continue;
		}
		switch (m[0]) {
		case 'B':
			if (bench_serve_bulk(ops, c, m) == 0)
				while (bench_read_all(&ops->io, c, m, BENCH_MSG) == 1)
					;
			break;
		case 'I':
			if (bench_write_all(&ops->io, c, m, BENCH_MSG) < 0)
				break;
			if (n_idle == cap_idle) {
				cap_idle = cap_idle ? 2 * cap_idle : 1024;
				idle = realloc(idle, (size_t)cap_idle * sizeof *idle);
				if (!idle)
					bench_die("realloc");
			}
			idle[n_idle++] = c;
			if (n_idle == 1)
				bench_mem_get(&first);
			if (n_idle == (long)bench_get64(m + 8)) {
				bench_mem_get(&last);
				bench_mem_report("server", &first, &last, n_idle);
			}
			continue;  /* stays open */
		default:
			bench_serve_echo(ops, c, m);
			break;
		}
		ops->close(ops->ctx, c);
	}
	for (long i = 0; i < n_idle; i++)
		ops->close(ops->ctx, idle[i]);
	free(idle);
	close(lfd);
	return 0;
}

#endif /* TLSSHIM_BENCH_WORKLOAD_H */
