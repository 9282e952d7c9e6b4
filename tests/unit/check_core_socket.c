/* check_core_socket: wrap_socket's parameters end to end over socketpair
 * and loopback: handshake, read/write, cipher, verification failures,
 * client certificates, SNI and host checks, ALPN, session resumption. */
#include "check_core_util.h"

#include <signal.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

START_TEST(test_echo_blocking)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_echo};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	cu_client_opts(&o);
	o.server_hostname = "localhost";
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap(fds[0], &o, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.reason);
	ck_assert(sslsocket_handshake_done(c));
	ck_assert_str_eq(sslsocket_verify_result(c), "ok");
	errno = 1234;
	ck_assert_int_eq(sslsocket_write(c, "hello", 5), 5);
	ck_assert_int_eq(errno, 1234); /* success preserves errno */
	char buf[16];
	ssize_t n = 0;
	while (n < 5) {
		ssize_t r = sslsocket_read(c, buf + n, sizeof buf - (size_t)n);
		ck_assert_int_gt(r, 0);
		n += r;
	}
	ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
	ck_assert_int_eq(errno, 1234);
	ck_assert_int_eq(sslsocket_close(c), 0);
	cu_peer_join(&srv);
	ck_assert(!srv.wrap_failed);
	ck_assert_int_eq(srv.got, 0); /* the server saw our close_notify: clean 0 */
}
END_TEST

START_TEST(test_cipher_before_after)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_echo};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.do_handshake_on_connect = 0;
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap(fds[0], &o, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.reason);
	const char *name = NULL, *ver = NULL;
	int bits = 0;
	ck_assert(!sslsocket_handshake_done(c));
	ck_assert_int_eq(sslsocket_cipher(c, &name, &ver, &bits), -1); /* the seed's None */
	ck_assert_int_eq(sslsocket_do_handshake(c), 0);
	ck_assert_int_eq(sslsocket_cipher(c, &name, &ver, &bits), 0);
	ck_assert_str_eq(ver, "TLSv1.3");
	ck_assert_ptr_nonnull(strstr(name, "TLS_"));
	ck_assert_int_ge(bits, 128);
	/* CERT_NONE: nothing was verified, and getpeercert is the seed's {} */
	ck_assert_str_eq(sslsocket_verify_result(c), "none");
	struct sslsocket_certinfo *ci = NULL;
	ck_assert_int_eq(sslsocket_getpeercert(c, &ci), 0);
	ck_assert_ptr_nonnull(ci);
	ck_assert_int_eq(ci->validated, 0);
	sslsocket_certinfo_free(ci);
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST

START_TEST(test_getpeercert)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_echo};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	cu_client_opts(&o);
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap(fds[0], &o, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.reason);
	struct sslsocket_certinfo *ci = NULL;
	ck_assert_int_eq(sslsocket_getpeercert(c, &ci), 0);
	ck_assert_ptr_nonnull(ci);
	ck_assert_int_eq(ci->validated, 1);
	ck_assert_ptr_nonnull(ci->not_after);
	ck_assert_uint_gt(ci->subject_count, 0);
	int found_cn = 0;
	for (size_t i = 0; i < ci->subject_count; i++)
		for (size_t j = 0; j < ci->subject[i].count; j++)
			if (strcmp(ci->subject[i].attrs[j].name, "commonName") == 0)
				found_cn = strcmp(ci->subject[i].attrs[j].value, "localhost") == 0;
	ck_assert(found_cn);
	ck_assert_uint_eq(ci->san_count, 3);
	sslsocket_certinfo_free(ci);
	unsigned char *der = NULL;
	size_t len = 0;
	ck_assert_int_eq(sslsocket_getpeercert_der(c, &der, &len), 0);
	ck_assert_ptr_nonnull(der);
	/* The DER is the file's certificate. */
	FILE *f = fopen(tu_cert("server.pem"), "r");
	ck_assert_ptr_nonnull(f);
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	unsigned char *fder = NULL;
	int flen = i2d_X509(x, &fder);
	ck_assert_int_eq((int)len, flen);
	ck_assert_int_eq(memcmp(der, fder, len), 0);
	OPENSSL_free(fder);
	X509_free(x);
	free(der);
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST

/* The server presents cert; the client verifies with ca and hostname. */
static const struct verify_case {
	const char *cert, *key, *ca, *host, *reason;
} verify_cases[] = {
	{"server.pem", "server.key", "other-ca.pem", NULL,
	 "certificate verify failed: unable to get local issuer certificate"},
	{"expired.pem", "expired.key", "ca.pem", NULL, "certificate verify failed: certificate has expired"},
	{"wronghost.pem", "wronghost.key", "ca.pem", "localhost",
	 "certificate verify failed: hostname mismatch"},
	{"selfsigned.pem", "selfsigned.key", "ca.pem", NULL,
	 "certificate verify failed: self-signed certificate"},
	{"server.pem", "server.key", "ca.pem", "other.example", "certificate verify failed: hostname mismatch"},
	{"server.pem", "server.key", "ca.pem", "127.0.0.2",
	 "certificate verify failed: IP address mismatch"},
};

START_TEST(test_verify_failures)
{
	const struct verify_case *vc = &verify_cases[_i];
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_echo};
	cu_server_opts(&srv.o);
	srv.o.certfile = tu_cert(vc->cert);
	srv.o.keyfile = tu_cert(vc->key);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	cu_client_opts(&o);
	o.ca_certs = tu_cert(vc->ca);
	o.server_hostname = vc->host;
	o.do_handshake_on_connect = 0;
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap(fds[0], &o, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.reason);
	errno = 0;
	ck_assert_int_eq(sslsocket_do_handshake(c), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_str_eq(sslsocket_error(c), vc->reason);
	ck_assert_int_eq(sslsocket_last_error(c)->code, SSLSOCKET_ERROR_SSL);
	ck_assert(sslsocket_failed(c));
	/* Sticky: every later read and write fails the same way. */
	char b[4];
	errno = 0;
	ck_assert_int_eq(sslsocket_write(c, "x", 1), -1);
	ck_assert_int_eq(errno, EPROTO);
	errno = 0;
	ck_assert_int_eq(sslsocket_read(c, b, sizeof b), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_str_eq(sslsocket_error(c), vc->reason);
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST

START_TEST(test_wrap_eager_failure)
{
	/* A blocking wrap with do_handshake_on_connect fails at wrap time. */
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_echo};
	cu_server_opts(&srv.o);
	srv.o.certfile = tu_cert("selfsigned.pem");
	srv.o.keyfile = tu_cert("selfsigned.key");
	cu_peer_start(&srv);
	struct sslsocket_options o;
	cu_client_opts(&o);
	struct sslsocket_error err;
	errno = 0;
	ck_assert_ptr_null(sslsocket_wrap(fds[0], &o, NULL, &err));
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_str_eq(err.reason, "certificate verify failed: self-signed certificate");
	close(fds[0]);
	cu_peer_join(&srv);
}
END_TEST

START_TEST(test_ip_host_ok)
{
	/* An IP literal is checked against the IP SANs (and gets no SNI). */
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_echo};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	cu_client_opts(&o);
	o.server_hostname = "127.0.0.1";
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap(fds[0], &o, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.reason);
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST



START_TEST(test_cert_reqs_without_ca)
{
	int fds[2];
	cu_pair(fds);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.cert_reqs = _i ? SSLSOCKET_CERT_OPTIONAL : SSLSOCKET_CERT_REQUIRED;
	struct sslsocket_error err;
	ck_assert_ptr_null(sslsocket_wrap(fds[0], &o, NULL, &err));
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	ck_assert_ptr_nonnull(strstr(err.reason, "ca_certs"));
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* mTLS: server CERT_REQUIRED refuses a client without a certificate and
 * accepts one with a certificate from its CA. */
START_TEST(test_mtls)
{
	int with_cert = _i;
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_echo};
	cu_server_opts(&srv.o);
	srv.o.cert_reqs = SSLSOCKET_CERT_REQUIRED;
	srv.o.ca_certs = tu_cert("ca.pem");
	cu_peer_start(&srv);
	struct sslsocket_options o;
	cu_client_opts(&o);
	if (with_cert) {
		o.certfile = tu_cert("client.pem");
		o.keyfile = tu_cert("client.key");
	}
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap(fds[0], &o, NULL, &err);
	char buf[8];
	if (with_cert) {
		ck_assert_msg(c != NULL, "%s", err.reason);
		ck_assert_int_eq(sslsocket_write(c, "ping", 4), 4);
		ck_assert_int_eq(sslsocket_read(c, buf, sizeof buf), 4);
		sslsocket_close(c);
		cu_peer_join(&srv);
		ck_assert(!srv.wrap_failed);
	} else {
		/* TLS 1.3: the client finishes first; the refusal arrives as an
		 * alert on its first read. */
		if (c) {
			errno = 0;
			ck_assert_int_eq(sslsocket_read(c, buf, sizeof buf), -1);
			ck_assert_int_eq(errno, EPROTO);
			ck_assert_ptr_nonnull(strstr(sslsocket_error(c), "certificate required"));
			sslsocket_close(c);
		} else {
			ck_assert_int_eq(errno, EPROTO);
			close(fds[0]);
		}
		cu_peer_join(&srv);
		ck_assert(srv.wrap_failed);
		ck_assert_int_eq(srv.err.sys_errno, EPROTO);
		ck_assert_ptr_nonnull(strstr(srv.err.reason, "peer did not return a certificate"));
	}
}
END_TEST

static void alpn_report(struct cu_peer *p)
{
	const char *a = sslsocket_alpn_selected(p->s);
	snprintf(p->buf, sizeof p->buf, "%s", a ? a : "(none)");
	char b[4];
	(void)sslsocket_read(p->s, b, sizeof b);
}

START_TEST(test_alpn)
{
	int fds[2];
	cu_pair(fds);
	const char *sp[] = {"h2", "http/1.1"};
	const char *cp[] = {"spdy/1", "http/1.1", "h2"};
	struct cu_peer srv = {.fd = fds[1], .run = alpn_report};
	cu_server_opts(&srv.o);
	srv.o.alpn = sp;
	srv.o.alpn_count = 2;
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.alpn = cp;
	o.alpn_count = 3;
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap(fds[0], &o, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.reason);
	ck_assert_str_eq(sslsocket_alpn_selected(c), "h2"); /* server's preference */
	sslsocket_close(c);
	cu_peer_join(&srv);
	ck_assert_str_eq(srv.buf, "h2");
}
END_TEST

START_TEST(test_alpn_none)
{
	int fds[2];
	cu_pair(fds);
	const char *cp[] = {"h2"};
	struct cu_peer srv = {.fd = fds[1], .run = alpn_report};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.alpn = cp;
	o.alpn_count = 1;
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap(fds[0], &o, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.reason);
	ck_assert_ptr_null(sslsocket_alpn_selected(c));
	sslsocket_close(c);
	cu_peer_join(&srv);
	ck_assert_str_eq(srv.buf, "(none)");
}
END_TEST

/* A listener thread that accepts n connections and echoes on each. */
struct acceptor {
	int lfd;
	int n;
	struct sslsocket_options o;
	int accepted;
	int reused[8];
	pthread_t th;
};

static void *acceptor_main(void *arg)
{
	struct acceptor *a = arg;
	struct sslsocket_error err;
	sslsocket *l = sslsocket_wrap(a->lfd, &a->o, NULL, &err);
	if (!l)
		return NULL;
	for (int i = 0; i < a->n; i++) {
		sslsocket *s = sslsocket_accept(l, NULL, NULL, 0);
		if (!s)
			continue;
		a->reused[i] = sslsocket_session_reused(s);
		a->accepted++;
		char buf[256];
		ssize_t r;
		while ((r = sslsocket_read(s, buf, sizeof buf)) > 0)
			if (sslsocket_write(s, buf, (size_t)r) != r)
				break;
		sslsocket_close(s);
	}
	sslsocket_free(l);
	return NULL;
}

/* Clients of one context share its session cache (the caller keeps the
 * context: the library shares nothing behind its back). */
static sslsocket *connect_to(const struct sockaddr_in *addr, sslsocket_ctx *ctx,
                             const struct sslsocket_options *o)
{
	int fd = cu_tcp_socket();
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap_ctx(fd, ctx, o, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.reason);
	ck_assert_msg(sslsocket_connect(c, (const struct sockaddr *)addr, sizeof *addr) == 0, "%s",
	              sslsocket_error(c));
	return c;
}

static void roundtrip(sslsocket *c)
{
	char buf[8];
	ck_assert_int_eq(sslsocket_write(c, "abc", 3), 3);
	ck_assert_int_eq(sslsocket_read(c, buf, sizeof buf), 3);
}

START_TEST(test_session_reuse)
{
	int tls12 = _i;
	struct sockaddr_in addr;
	struct acceptor a = {.lfd = cu_listen(&addr), .n = 3};
	cu_server_opts(&a.o);
	ck_assert_int_eq(pthread_create(&a.th, NULL, acceptor_main, &a), 0);
	struct sslsocket_options o;
	cu_client_opts(&o);
	o.server_hostname = "localhost";
	if (tls12)
		o.ssl_version = SSLSOCKET_PROTOCOL_TLSv1_2;
	struct sslsocket_error err;
	sslsocket_ctx *ctx = sslsocket_ctx_new(&o, &err);
	ck_assert_msg(ctx != NULL, "%s", err.reason);
	sslsocket *c = connect_to(&addr, ctx, &o);
	ck_assert(!sslsocket_session_reused(c));
	roundtrip(c); /* TLS 1.3 tickets arrive after the handshake */
	sslsocket_close(c);
	c = connect_to(&addr, ctx, &o);
	ck_assert(sslsocket_session_reused(c));
	roundtrip(c);
	sslsocket_close(c);
	/* Another destination name does not get that session. */
	o.server_hostname = "127.0.0.1";
	c = connect_to(&addr, ctx, &o);
	ck_assert(!sslsocket_session_reused(c));
	roundtrip(c);
	sslsocket_close(c);
	sslsocket_ctx_free(ctx);
	pthread_join(a.th, NULL);
	close(a.lfd);
	ck_assert_int_eq(a.accepted, 3);
	ck_assert(!a.reused[0] && a.reused[1] && !a.reused[2]);
}
END_TEST

START_TEST(test_session_cache_off)
{
	struct sockaddr_in addr;
	struct acceptor a = {.lfd = cu_listen(&addr), .n = 2};
	cu_server_opts(&a.o);
	ck_assert_int_eq(pthread_create(&a.th, NULL, acceptor_main, &a), 0);
	struct sslsocket_options o;
	cu_client_opts(&o);
	o.session_cache = 0;
	struct sslsocket_error err;
	sslsocket_ctx *ctx = sslsocket_ctx_new(&o, &err);
	ck_assert_msg(ctx != NULL, "%s", err.reason);
	for (int i = 0; i < 2; i++) {
		sslsocket *c = connect_to(&addr, ctx, &o);
		ck_assert(!sslsocket_session_reused(c));
		roundtrip(c);
		sslsocket_close(c);
	}
	sslsocket_ctx_free(ctx);
	pthread_join(a.th, NULL);
	close(a.lfd);
}
END_TEST

START_TEST(test_keylog)
{
	char path[] = "/tmp/core-keylog-XXXXXX";
	int kfd = mkstemp(path);
	ck_assert_int_ge(kfd, 0);
	close(kfd);
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_echo};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.keylog_file = path;
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap(fds[0], &o, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.reason);
	sslsocket_close(c);
	cu_peer_join(&srv);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char line[512];
	int traffic = 0, lines = 0;
	while (fgets(line, sizeof line, f)) {
		lines++;
		if (strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0)
			traffic++;
	}
	fclose(f);
	unlink(path);
	ck_assert_int_eq(traffic, 1);
	ck_assert_int_eq(lines, 5); /* TLS 1.3: five secrets per connection */
}
END_TEST

/* keylog_file: lines from one connection; after the program closed the
 * key log's descriptor and got its number back for a pipe, a handshake
 * writes no secret into the pipe (nor into the file). */
static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f))
		n++;
	fclose(f);
	return n;
}

static void keylog_one_connection(sslsocket_ctx *ctx, struct sslsocket_options *o)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_echo};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap_ctx(fds[0], ctx, o, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.reason);
	sslsocket_close(c);
	cu_peer_join(&srv);
}

START_TEST(test_keylog_number_taken_by_the_program)
{
	char path[] = "/tmp/core-keylog-XXXXXX", link[64], target[256];
	int kfd = mkstemp(path), k = -1, p[2];
	ck_assert_int_ge(kfd, 0);
	close(kfd);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.keylog_file = path;
	struct sslsocket_error err;
	sslsocket_ctx *ctx = sslsocket_ctx_new(&o, &err);
	ck_assert_msg(ctx != NULL, "%s", err.reason);
	keylog_one_connection(ctx, &o);
	ck_assert_int_eq(count_lines(path), 5);
	/* the key log's descriptor, found as the program would see it */
	for (int fd = 3; fd < 1024 && k < 0; fd++) {
		ssize_t n;
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof target - 1);
		if (n > 0) {
			target[n] = '\0';
			if (strcmp(target, path) == 0)
				k = fd;
		}
	}
	ck_assert_int_ge(k, 0);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(dup2(p[1], k), k); /* close_range, then a pipe */
	close(p[1]);
	ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	keylog_one_connection(ctx, &o);
	char got[64];
	errno = 0;
	ck_assert_int_eq(read(p[0], got, sizeof got), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(count_lines(path), 5);
	sslsocket_ctx_free(ctx);
	ck_assert_int_ne(fcntl(k, F_GETFD), -1); /* the program's, left open */
	close(k);
	close(p[0]);
	unlink(path);
}
END_TEST

START_TEST(test_ciphers_option)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_echo};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.ssl_version = SSLSOCKET_PROTOCOL_TLSv1_2;
	o.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap(fds[0], &o, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.reason);
	const char *name, *ver;
	int bits;
	ck_assert_int_eq(sslsocket_cipher(c, &name, &ver, &bits), 0);
	ck_assert_str_eq(name, "ECDHE-ECDSA-AES128-GCM-SHA256");
	ck_assert_str_eq(ver, "TLSv1.2");
	ck_assert_int_eq(bits, 128);
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST

START_TEST(test_keyfile_in_certfile)
{
	/* The seed's one-file form: key and certificate in certfile. */
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_echo};
	cu_server_opts(&srv.o);
	srv.o.certfile = tu_cert("server-combined.pem");
	srv.o.keyfile = NULL;
	cu_peer_start(&srv);
	struct sslsocket_options o;
	cu_client_opts(&o);
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap(fds[0], &o, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.reason);
	roundtrip(c);
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST


/* ---- SNI, seen by a raw OpenSSL server ---------------------------------------- */

struct raw_srv {
	int fd;
	char cert[600], key[600]; /* tu_cert is not thread-safe */
	char sni[256];
	pthread_t th;
};

static void *raw_srv_main(void *arg)
{
	struct raw_srv *r = arg;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_use_certificate_chain_file(ctx, r->cert);
	SSL_CTX_use_PrivateKey_file(ctx, r->key, SSL_FILETYPE_PEM);
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, r->fd);
	snprintf(r->sni, sizeof r->sni, "(handshake failed)");
	if (SSL_accept(ssl) == 1) {
		const char *n = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
		snprintf(r->sni, sizeof r->sni, "%s", n ? n : "(none)");
		char b[4];
		SSL_read(ssl, b, sizeof b);
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(r->fd);
	return NULL;
}

static const struct sni_case {
	const char *host, *expect;
	int verify;
} sni_cases[] = {
	{"localhost", "localhost", 1},
	{"127.0.0.1", "(none)", 1},     /* RFC 6066: never an IP literal */
	{"::1", "(none)", 0},
	{NULL, "(none)", 0},
	{"some.name.example", "some.name.example", 0}, /* CERT_NONE: SNI without a check */
};

START_TEST(test_sni)
{
	const struct sni_case *sc = &sni_cases[_i];
	signal(SIGPIPE, SIG_IGN); /* the raw server writes with write(2) */
	int fds[2];
	cu_pair(fds);
	struct raw_srv r = {.fd = fds[1]};
	snprintf(r.cert, sizeof r.cert, "%s", tu_cert("server.pem"));
	snprintf(r.key, sizeof r.key, "%s", tu_cert("server.key"));
	ck_assert_int_eq(pthread_create(&r.th, NULL, raw_srv_main, &r), 0);
	struct sslsocket_options o;
	if (sc->verify)
		cu_client_opts(&o);
	else
		sslsocket_options_init(&o);
	o.server_hostname = sc->host;
	sslsocket *c = NULL;
	struct sslsocket_error err;
	c = sslsocket_wrap(fds[0], &o, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.reason);
	sslsocket_close(c);
	pthread_join(r.th, NULL);
	ck_assert_str_eq(r.sni, sc->expect);
}
END_TEST

/* ---- server-side certificate requests ---------------------------------------------- */

static void report_peer(struct cu_peer *p)
{
	struct sslsocket_certinfo *ci = NULL;
	if (sslsocket_getpeercert(p->s, &ci) < 0) {
		snprintf(p->buf, sizeof p->buf, "error");
	} else if (!ci) {
		snprintf(p->buf, sizeof p->buf, "None");
	} else {
		snprintf(p->buf, sizeof p->buf, "%s", ci->validated ? "validated" : "{}");
		sslsocket_certinfo_free(ci);
	}
	snprintf(p->buf + 100, 100, "%s", sslsocket_verify_result(p->s));
	char b[4];
	(void)sslsocket_read(p->s, b, sizeof b);
}

START_TEST(test_server_cert_optional)
{
	int with_cert = _i;
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = report_peer};
	cu_server_opts(&srv.o);
	srv.o.cert_reqs = SSLSOCKET_CERT_OPTIONAL;
	srv.o.ca_certs = tu_cert("ca.pem");
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	if (with_cert) {
		o.certfile = tu_cert("client.pem");
		o.keyfile = tu_cert("client.key");
	}
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap(fds[0], &o, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.reason);
	ck_assert_int_eq(sslsocket_write(c, "x", 1), 1);
	sslsocket_close(c);
	cu_peer_join(&srv);
	ck_assert(!srv.wrap_failed);
	ck_assert_str_eq(srv.buf, with_cert ? "validated" : "None");
	ck_assert_str_eq(srv.buf + 100, with_cert ? "ok" : "none");
}
END_TEST

START_TEST(test_server_cert_optional_bad_client)
{
	/* OPTIONAL still validates what it gets: a certificate from another CA
	 * is refused. */
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = report_peer};
	cu_server_opts(&srv.o);
	srv.o.cert_reqs = SSLSOCKET_CERT_OPTIONAL;
	srv.o.ca_certs = tu_cert("other-ca.pem");
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.certfile = tu_cert("client.pem");
	o.keyfile = tu_cert("client.key");
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap(fds[0], &o, NULL, &err);
	if (c) {
		char b[4];
		ck_assert_int_eq(sslsocket_read(c, b, sizeof b), -1);
		ck_assert_int_eq(errno, EPROTO);
		sslsocket_close(c);
	} else {
		close(fds[0]);
	}
	cu_peer_join(&srv);
	ck_assert(srv.wrap_failed);
	ck_assert_str_eq(srv.err.reason, "certificate verify failed: unable to get local issuer certificate");
}
END_TEST

/* release_buffers reaches OpenSSL (checked through the internals). */
#include "sslsocket_int.h"
START_TEST(test_release_buffers)
{
	int fds[2];
	cu_pair(fds);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.do_handshake_on_connect = 0;
	struct sslsocket_error err;
	sslsocket *a = sslsocket_wrap(fds[0], &o, NULL, &err);
	o.release_buffers = 1;
	sslsocket *b = sslsocket_wrap(fds[1], &o, NULL, &err);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(sslsocket_ctx_count(), 2);
	ck_assert(!(SSL_get_mode(a->ssl) & SSL_MODE_RELEASE_BUFFERS));
	ck_assert(SSL_get_mode(b->ssl) & SSL_MODE_RELEASE_BUFFERS);
	ck_assert(SSL_get_mode(b->ssl) & SSL_MODE_ENABLE_PARTIAL_WRITE);
	ck_assert(SSL_get_mode(b->ssl) & SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	sslsocket_close(a);
	sslsocket_close(b);
}
END_TEST


/* ---- many threads, one shared context and session cache ----------------------------- */

enum { MT_THREADS = 6, MT_CONNS = 8 };

struct mt_server {
	sslsocket *l;
	int n;
};

static void *mt_conn(void *arg)
{
	sslsocket *s = arg;
	char buf[64];
	ssize_t r;
	while ((r = sslsocket_read(s, buf, sizeof buf)) > 0)
		if (sslsocket_write(s, buf, (size_t)r) != r)
			break;
	sslsocket_close(s);
	return NULL;
}

static void *mt_server_main(void *arg)
{
	struct mt_server *m = arg;
	pthread_t th[MT_THREADS * MT_CONNS];
	int k = 0;
	for (int i = 0; i < m->n; i++) {
		sslsocket *s = sslsocket_accept(m->l, NULL, NULL, 0);
		if (s && pthread_create(&th[k], NULL, mt_conn, s) == 0)
			k++;
	}
	for (int i = 0; i < k; i++)
		pthread_join(th[i], NULL);
	return NULL;
}

struct mt_client {
	struct sockaddr_in addr;
	const struct sslsocket_options *o; /* tu_cert is not thread-safe: built once */
	sslsocket_ctx *ctx;                /* one client context, its sessions shared */
	int ok, reused;
	pthread_t th;
};

static void *mt_client_main(void *arg)
{
	struct mt_client *c = arg;
	for (int i = 0; i < MT_CONNS; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sslsocket_error err;
		sslsocket *s = sslsocket_wrap_ctx(fd, c->ctx, c->o, NULL, &err);
		if (!s) {
			close(fd);
			continue;
		}
		char msg[32], back[32];
		int len = snprintf(msg, sizeof msg, "thread %p conn %d", (void *)c, i);
		if (sslsocket_connect(s, (struct sockaddr *)&c->addr, sizeof c->addr) == 0 &&
		    sslsocket_write(s, msg, (size_t)len) == len && cu_read_n(s, back, (size_t)len) == len &&
		    memcmp(msg, back, (size_t)len) == 0)
			c->ok++;
		c->reused += sslsocket_session_reused(s);
		sslsocket_close(s);
	}
	return NULL;
}

START_TEST(test_many_threads)
{
	struct sockaddr_in addr;
	int lfd = cu_listen(&addr);
	struct sslsocket_options so;
	cu_server_opts(&so);
	struct sslsocket_error err;
	struct mt_server m = {.l = sslsocket_wrap(lfd, &so, NULL, &err), .n = MT_THREADS * MT_CONNS};
	ck_assert_ptr_nonnull(m.l);
	pthread_t sth;
	ck_assert_int_eq(pthread_create(&sth, NULL, mt_server_main, &m), 0);
	struct mt_client c[MT_THREADS];
	struct sslsocket_options co;
	cu_client_opts(&co);
	co.server_hostname = "localhost";
	sslsocket_ctx *cctx = sslsocket_ctx_new(&co, &err);
	ck_assert_msg(cctx != NULL, "%s", err.reason);
	for (int i = 0; i < MT_THREADS; i++) {
		memset(&c[i], 0, sizeof c[i]);
		c[i].addr = addr;
		c[i].o = &co;
		c[i].ctx = cctx;
		ck_assert_int_eq(pthread_create(&c[i].th, NULL, mt_client_main, &c[i]), 0);
	}
	int ok = 0, reused = 0;
	for (int i = 0; i < MT_THREADS; i++) {
		pthread_join(c[i].th, NULL);
		ok += c[i].ok;
		reused += c[i].reused;
	}
	pthread_join(sth, NULL);
	ck_assert_int_eq(ok, MT_THREADS * MT_CONNS);
	/* every thread's later connections can resume a cached session */
	ck_assert_int_gt(reused, 0);
	/* one client context (the test's) and the listener's */
	ck_assert_uint_eq(sslsocket_ctx_count(), 2);
	sslsocket_free(m.l);
	ck_assert_uint_eq(sslsocket_ctx_count(), 1);
	sslsocket_ctx_free(cctx);
	ck_assert_uint_eq(sslsocket_ctx_count(), 0);
	close(lfd);
}
END_TEST

/* A refused non-blocking connect, found by sslsocket_advance: the library
 * read (and so cleared) the kernel's SO_ERROR; it keeps the error for the
 * program, once, as getsockopt(SO_ERROR) would have given it. */
START_TEST(test_connect_refused_error_kept)
{
	struct sockaddr_in addr;
	int l = cu_listen(&addr);
	close(l); /* nobody listens on that port now */
	int fd = cu_tcp_socket();
	cu_set_nonblock(fd, 1);
	struct sslsocket_options o;
	cu_client_opts(&o);
	sslsocket *s = sslsocket_wrap(fd, &o, NULL, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sslsocket_take_connect_error(s), 0);
	int r = sslsocket_connect(s, (struct sockaddr *)&addr, sizeof addr);
	ck_assert_int_eq(r, -1);
	if (errno == EINPROGRESS) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		ck_assert_int_eq(poll(&p, 1, 5000), 1);
		ck_assert_int_eq(sslsocket_advance(s), -1);
		ck_assert_int_eq(errno, ECONNREFUSED);
		int soerr = -1;
		socklen_t sl = sizeof soerr;
		ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl), 0);
		ck_assert_int_eq(soerr, 0); /* the kernel's copy is gone... */
		ck_assert_int_eq(sslsocket_take_connect_error(s), ECONNREFUSED); /* ...ours is not */
		ck_assert_int_eq(sslsocket_take_connect_error(s), 0);              /* once */
	} else {
		ck_assert_int_eq(errno, ECONNREFUSED); /* refused at once: nothing kept */
		ck_assert_int_eq(sslsocket_take_connect_error(s), 0);
	}
	ck_assert_int_eq(sslsocket_close(s), 0);
}
END_TEST

Suite *core_socket_suite(void)
{
	Suite *s = suite_create("core_socket");
	TCase *tc = tcase_create("socket");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_echo_blocking);
	tcase_add_test(tc, test_cipher_before_after);
	tcase_add_test(tc, test_getpeercert);
	tcase_add_loop_test(tc, test_verify_failures, 0, (int)(sizeof verify_cases / sizeof verify_cases[0]));
	tcase_add_test(tc, test_wrap_eager_failure);
	tcase_add_test(tc, test_ip_host_ok);
	tcase_add_loop_test(tc, test_cert_reqs_without_ca, 0, 2);
	tcase_add_loop_test(tc, test_mtls, 0, 2);
	tcase_add_test(tc, test_alpn);
	tcase_add_test(tc, test_alpn_none);
	tcase_add_loop_test(tc, test_session_reuse, 0, 2);
	tcase_add_test(tc, test_session_cache_off);
	tcase_add_test(tc, test_keylog);
	tcase_add_test(tc, test_keylog_number_taken_by_the_program);
	tcase_add_test(tc, test_ciphers_option);
	tcase_add_test(tc, test_keyfile_in_certfile);
	tcase_add_loop_test(tc, test_sni, 0, (int)(sizeof sni_cases / sizeof sni_cases[0]));
	tcase_add_loop_test(tc, test_server_cert_optional, 0, 2);
	tcase_add_test(tc, test_server_cert_optional_bad_client);
	tcase_add_test(tc, test_release_buffers);
	tcase_add_test(tc, test_many_threads);
	tcase_add_test(tc, test_connect_refused_error_kept);
	suite_add_tcase(s, tc);
	return s;
}
