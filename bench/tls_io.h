/*
 * tls_io.h - the libssl transport of the ideal pair: blocking sockets, one
 * SSL_CTX per process, TLS 1.3 with TLS_AES_256_GCM_SHA384 (every carrier
 * is pinned to the same suite), the default settings of OpenSSL otherwise.
 * It is what a careful programmer writes by hand, and so the ceiling that
 * tlsshim is measured against.
 */
#ifndef TLSSHIM_BENCH_TLS_IO_H
#define TLSSHIM_BENCH_TLS_IO_H

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "workload.h"

#define BENCH_SUITE "TLS_AES_256_GCM_SHA384"

struct tls_ctx {
	SSL_CTX *ctx;
	int server;
	int resume;
	SSL_SESSION *session;   /* client: the newest resumable session */
	long handshakes, resumed;
};

static inline void tls_die(const char *what)
{
	fprintf(stderr, "bench: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static inline void tls_ctx_init(struct tls_ctx *t, const struct bench_opts *o, int server)
{
	memset(t, 0, sizeof *t);
	t->server = server;
	t->resume = o->resume;
	t->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!t->ctx)
		tls_die("SSL_CTX_new");
	if (!SSL_CTX_set_min_proto_version(t->ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(t->ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(t->ctx, BENCH_SUITE))
		tls_die("cannot pin TLS 1.3 and " BENCH_SUITE);
	if (o->release_buffers)
		SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);
	if (server) {
		if (SSL_CTX_use_certificate_chain_file(t->ctx, o->cert) != 1)
			tls_die("cannot load the certificate");
		if (SSL_CTX_use_PrivateKey_file(t->ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(t->ctx) != 1)
			tls_die("cannot load the key");
		if (o->no_tickets) {
			/* Every handshake full, whatever the client offers. */
			SSL_CTX_set_num_tickets(t->ctx, 0);
			SSL_CTX_set_options(t->ctx, SSL_OP_NO_TICKET);
			SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
		}
	} else {
		if (SSL_CTX_load_verify_locations(t->ctx, o->ca, NULL) != 1)
			tls_die("cannot load the CA file");
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	}
}

static inline ssize_t tls_rd(void *conn, void *buf, size_t n)
{
	for (;;) {
		int r = SSL_read(conn, buf, n > INT32_MAX ? INT32_MAX : (int)n);
		if (r > 0)
			return r;
		switch (SSL_get_error(conn, r)) {
		case SSL_ERROR_ZERO_RETURN:
			return 0;
		case SSL_ERROR_SYSCALL:
			if (errno == EINTR)
				continue;
			/* An EOF without close_notify counts as EOF here. */
			return errno ? -1 : 0;
		default:
			return -1;
		}
	}
}

static inline ssize_t tls_wr(void *conn, const void *buf, size_t n)
{
	for (;;) {
		int r = SSL_write(conn, buf, n > INT32_MAX ? INT32_MAX : (int)n);
		if (r > 0)
			return r;
		if (SSL_get_error(conn, r) == SSL_ERROR_SYSCALL && errno == EINTR)
			continue;
		return -1;
	}
}

static inline void *tls_open(void *ctx, int fd)
{
	struct tls_ctx *t = ctx;
	SSL *ssl = SSL_new(t->ctx);
	int r;

	if (!ssl || SSL_set_fd(ssl, fd) != 1)
		tls_die("SSL_new");
	if (t->server) {
		r = SSL_accept(ssl);
	} else {
		if (t->resume && t->session)
			SSL_set_session(ssl, t->session);
		r = SSL_connect(ssl);
	}
	if (r != 1) {
		fprintf(stderr, "bench: handshake: error %d\n", SSL_get_error(ssl, r));
		ERR_print_errors_fp(stderr);
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	t->handshakes++;
	t->resumed += SSL_session_reused(ssl);
	return ssl;
}

static inline void tls_close(void *ctx, void *conn)
{
	struct tls_ctx *t = ctx;
	int fd = SSL_get_fd(conn);

	/* TLS 1.3 tickets arrive after the handshake: by now the exchange
	 * has read them, so this is the session to offer next time. */
	if (t->resume) {
		SSL_SESSION *s = SSL_get1_session(conn);
		if (s && SSL_SESSION_is_resumable(s)) {
			SSL_SESSION_free(t->session);
			t->session = s;
		} else {
			SSL_SESSION_free(s);
		}
	}
	SSL_shutdown(conn);
	SSL_free(conn);
	close(fd);
}

static inline int tls_reused(void *ctx, void *conn)
{
	(void)ctx;
	return SSL_session_reused(conn);
}

static inline void tls_ops(struct bench_ops *ops, struct tls_ctx *t)
{
	memset(ops, 0, sizeof *ops);
	ops->io.rd = tls_rd;
	ops->io.wr = tls_wr;
	ops->open = tls_open;
	ops->close = tls_close;
	ops->reused = tls_reused;
	ops->ctx = t;
}

#endif /* TLSSHIM_BENCH_TLS_IO_H */
