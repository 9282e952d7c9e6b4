/*
 * bench.h - what the benchmark programs share: options, the wire format of
 * the workloads, timing, memory figures, and full reads and writes over a
 * pluggable transport (plain libc calls or libssl).
 *
 * Header-only on purpose: the Makefile builds every bench/NAME.c into its
 * own program, and the plain programs must stay plain (libc only) so that
 * what tlsshim wraps is exactly what the plain column measures.
 *
 * Wire format. Every connection starts with one 64-byte message from the
 * client: byte 0 is the workload tag, byte 1 a flag (verify the bulk
 * stream), bytes 8..15 a big-endian parameter (bulk length, idle count).
 *   'B' bulk: then `param` bytes follow; the server counts them and answers
 *       with one 64-byte message carrying the count (8..15) and the number
 *       of bytes that did not match the pattern (16..23, with the flag).
 *   'P' ping-pong and 'C' new connection: the server echoes every 64-byte
 *       message until EOF.
 *   'I' idle: the server echoes the first message and keeps the connection
 *       open; at the first and at the param-th one it reports its memory.
 */
#ifndef TLSSHIM_BENCH_H
#define TLSSHIM_BENCH_H

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BENCH_MSG 64
#define BENCH_CHUNK (16 * 1024)    /* the bulk client's write size */
#define BENCH_RBUF (64 * 1024)     /* the server's read size */

/* ---- options ------------------------------------------------------------- */

struct bench_opts {
	const char *host;
	const char *port;
	char workload;          /* 'B', 'P', 'C', 'I' */
	uint64_t bytes;         /* bulk length */
	double duration;        /* ping-pong and connection loops; idle hold */
	long count;             /* idle connections */
	int verify;             /* bulk: the server checks every byte */
	/* TLS programs only. */
	const char *cert, *key, *ca;
	int resume;             /* client: resume the last session */
	int release_buffers;    /* SSL_MODE_RELEASE_BUFFERS */
	int no_tickets;         /* server: never issue tickets (full only) */
};

static inline void bench_usage(const char *prog, int tls, int server)
{
	fprintf(stderr, "usage: %s [-H HOST] -p PORT%s%s\n", prog,
	        server ? "" : " [-w bulk|pingpong|connect|idle] [-n BYTES] [-d SECONDS]"
	                      " [-c COUNT] [--verify]",
	        tls ? (server ? " --cert PEM --key PEM [--release-buffers] [--no-tickets]"
	                      : " --ca PEM [--resume] [--release-buffers]")
	            : "");
	exit(2);
}

static inline char bench_workload_tag(const char *name)
{
	if (!strcmp(name, "bulk")) return 'B';
	if (!strcmp(name, "pingpong")) return 'P';
	if (!strcmp(name, "connect")) return 'C';
	if (!strcmp(name, "idle")) return 'I';
	return 0;
}

static inline void bench_parse(int argc, char **argv, struct bench_opts *o, int tls, int server)
{
	enum { O_CERT = 256, O_KEY, O_CA, O_RESUME, O_RELEASE, O_NOTICKETS, O_VERIFY };
	static const struct option lo[] = {
		{"host", required_argument, NULL, 'H'},
		{"port", required_argument, NULL, 'p'},
		{"workload", required_argument, NULL, 'w'},
		{"bytes", required_argument, NULL, 'n'},
		{"duration", required_argument, NULL, 'd'},
		{"count", required_argument, NULL, 'c'},
		{"verify", no_argument, NULL, O_VERIFY},
		{"cert", required_argument, NULL, O_CERT},
		{"key", required_argument, NULL, O_KEY},
		{"ca", required_argument, NULL, O_CA},
		{"resume", no_argument, NULL, O_RESUME},
		{"release-buffers", no_argument, NULL, O_RELEASE},
		{"no-tickets", no_argument, NULL, O_NOTICKETS},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int c;

	memset(o, 0, sizeof *o);
	o->host = "127.0.0.1";
	o->workload = 'B';
	o->bytes = 256ull << 20;
	o->duration = 1.0;
	o->count = 1000;
	while ((c = getopt_long(argc, argv, "H:p:w:n:d:c:h", lo, NULL)) != -1) {
		switch (c) {
		case 'H': o->host = optarg; break;
		case 'p': o->port = optarg; break;
		case 'w':
			o->workload = bench_workload_tag(optarg);
			if (!o->workload) {
				fprintf(stderr, "%s: unknown workload '%s'\n", argv[0], optarg);
				exit(2);
			}
			break;
		case 'n':
			errno = 0;
			o->bytes = strtoull(optarg, &end, 10);
			if (errno || *end || !o->bytes) {
				fprintf(stderr, "%s: bad byte count '%s'\n", argv[0], optarg);
				exit(2);
			}
			break;
		case 'd':
			o->duration = strtod(optarg, &end);
			if (*end || !(o->duration > 0)) {
				fprintf(stderr, "%s: bad duration '%s'\n", argv[0], optarg);
				exit(2);
			}
			break;
		case 'c':
			o->count = strtol(optarg, &end, 10);
			if (*end || o->count < 2) {
				fprintf(stderr, "%s: bad count '%s' (>= 2)\n", argv[0], optarg);
				exit(2);
			}
			break;
		case O_VERIFY: o->verify = 1; break;
		case O_CERT: o->cert = optarg; break;
		case O_KEY: o->key = optarg; break;
		case O_CA: o->ca = optarg; break;
		case O_RESUME: o->resume = 1; break;
		case O_RELEASE: o->release_buffers = 1; break;
		case O_NOTICKETS: o->no_tickets = 1; break;
		default: bench_usage(argv[0], tls, server);
		}
	}
	if (optind != argc || !o->port)
		bench_usage(argv[0], tls, server);
	if (tls && server && (!o->cert || !o->key))
		bench_usage(argv[0], tls, server);
	if (tls && !server && !o->ca)
		bench_usage(argv[0], tls, server);
}

/* ---- time, failure, memory ----------------------------------------------- */

static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void bench_die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(1);
}

struct bench_mem {
	long heap;      /* malloc'd bytes in use (mallinfo2: arena + mmapped) */
	long rss;       /* VmRSS, bytes */
	long anon;      /* RssAnon, bytes: heap, stacks and other private pages */
};

static inline long bench_status_kb(const char *text, const char *field)
{
	const char *p = strstr(text, field);
	return p ? strtol(p + strlen(field), NULL, 10) : -1;
}

/* The process's own figures, from inside, so that no tool has to attach:
 * mallinfo2 sums every malloc arena (tlsshim's and OpenSSL's allocations
 * included), /proc/self/status gives the pages. */
static inline void bench_mem_get(struct bench_mem *m)
{
	struct mallinfo2 mi = mallinfo2();
	char text[4096];
	FILE *f = fopen("/proc/self/status", "r");
	size_t n = 0;

	if (f) {
		n = fread(text, 1, sizeof text - 1, f);
		fclose(f);
	}
	text[n] = 0;
	m->heap = (long)(mi.uordblks + mi.hblkhd);
	m->rss = bench_status_kb(text, "VmRSS:") * 1024;
	m->anon = bench_status_kb(text, "RssAnon:") * 1024;
}

/* One line run.sh parses: the per-connection growth between the first and
 * the last of n connections (the one-time costs of the first one, such as
 * building a context, stay out). */
static inline void bench_mem_report(const char *side, const struct bench_mem *first,
                                    const struct bench_mem *last, long n)
{
	printf("MEM side=%s conns=%ld heap_per_conn=%ld rss_per_conn=%ld anon_per_conn=%ld\n",
	       side, n, (last->heap - first->heap) / (n - 1), (last->rss - first->rss) / (n - 1),
	       (last->anon - first->anon) / (n - 1));
	fflush(stdout);
}

/* ---- wire ---------------------------------------------------------------- */

static inline void bench_put64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static inline uint64_t bench_get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The bulk stream's byte at offset i: not a constant, so that a lost or
 * repeated chunk is caught, and cheap to check. */
static inline unsigned char bench_pattern(uint64_t i)
{
	return (unsigned char)((i * 131) ^ (i >> 14));
}

static inline void bench_fill(unsigned char *buf, size_t n, uint64_t offset)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = bench_pattern(offset + i);
}

/* A transport: plain descriptors or SSL objects. rd returns bytes, 0 at
 * EOF, -1 on error (after retrying EINTR). */
struct bench_io {
	ssize_t (*rd)(void *conn, void *buf, size_t n);
	ssize_t (*wr)(void *conn, const void *buf, size_t n);
};

static inline int bench_write_all(const struct bench_io *io, void *conn, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	while (n > 0) {
		ssize_t w = io->wr(conn, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 1 when n bytes were read, 0 at a clean EOF before the first byte, -1 on
 * error or EOF in the middle. */
static inline int bench_read_all(const struct bench_io *io, void *conn, void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t got = 0;
	while (got < n) {
		ssize_t r = io->rd(conn, p + got, n - got);
		if (r < 0)
			return -1;
		if (r == 0)
			return got ? -1 : 0;
		got += (size_t)r;
	}
	return 1;
}

/* ---- sockets -------------------------------------------------------------- */

static inline void bench_resolve(const struct bench_opts *o, struct sockaddr_storage *ss,
                                 socklen_t *len)
{
	struct addrinfo hints, *ai;
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(o->host, o->port, &hints, &ai);
	if (rc) {
		fprintf(stderr, "bench: %s:%s: %s\n", o->host, o->port, gai_strerror(rc));
		exit(1);
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
}

/* Latency-sensitive programs set TCP_NODELAY; every carrier does too
 * (stunnel by default, socat with `nodelay`). */
static inline void bench_nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static inline int bench_connect(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		bench_die("socket");
	bench_nodelay(fd);
	while (connect(fd, (const struct sockaddr *)ss, len) < 0) {
		if (errno != EINTR)
			bench_die("connect");
	}
	return fd;
}

static inline int bench_listen(const struct bench_opts *o)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd;

	bench_resolve(o, &ss, &len);
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		bench_die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		bench_die("bind");
	if (listen(fd, 4096) < 0)
		bench_die("listen");
	return fd;
}

/* A stuck peer must not hang a server forever. */
static inline void bench_recv_timeout(int fd, int secs)
{
	struct timeval tv = { .tv_sec = secs, .tv_usec = 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

#endif /* TLSSHIM_BENCH_H */
