/* check_core_options: defaults, wrap-time validation with clear reasons,
 * protocol names and support, and the shared context cache. */
#include "check_core_util.h"

START_TEST(test_defaults)
{
	struct sslsocket_options o;
	memset(&o, 0xff, sizeof o);
	sslsocket_options_init(&o);
	ck_assert_int_eq(o.cert_reqs, SSLSOCKET_CERT_NONE);
	ck_assert_int_eq(o.ssl_version, SSLSOCKET_PROTOCOL_SSLv23);
	ck_assert_int_eq(o.do_handshake_on_connect, 1);
	ck_assert_int_eq(o.suppress_ragged_eofs, 1);
	ck_assert_int_eq(o.session_cache, 1);
	ck_assert_int_eq(o.server_side, 0);
	ck_assert_ptr_null(o.certfile);
	ck_assert_ptr_null(o.keyfile);
	ck_assert_ptr_null(o.ca_certs);
	ck_assert_ptr_null(o.alpn);
	ck_assert_int_eq(o.handshake_timeout_ms, 0);
	struct sslsocket_error err;
	ck_assert_int_eq(sslsocket_options_check(&o, &err), 0);
}
END_TEST

START_TEST(test_check_ok)
{
	struct sslsocket_options o;
	cu_server_opts(&o);
	o.cert_reqs = SSLSOCKET_CERT_REQUIRED;
	o.ca_certs = tu_cert("ca.pem");
	struct sslsocket_error err;
	ck_assert_msg(sslsocket_options_check(&o, &err) == 0, "%s", err.reason);
	sslsocket_options_init(&o);
	o.cert_reqs = SSLSOCKET_CERT_REQUIRED;
	o.ca_certs_default = 1; /* the system store stands in for ca_certs */
	ck_assert_msg(sslsocket_options_check(&o, &err) == 0, "%s", err.reason);
	ck_assert_uint_eq(sslsocket_ctx_count(), 0); /* checking builds nothing shared */
}
END_TEST

/* Each bad option set, and a piece of the reason it must give. */
static const struct bad_case {
	int server_side;
	const char *certfile, *keyfile, *ca_certs, *ciphers;
	int cert_reqs, version, alpn;
	const char *expect;
} bad_cases[] = {
	{1, "missing.pem", NULL, NULL, NULL, 0, 2, 0, "cannot load certificate from "},
	{1, "server.pem", "client.key", NULL, NULL, 0, 2, 0, "does not match the certificate"},
	{1, "server.pem", "missing.key", NULL, NULL, 0, 2, 0, "cannot load private key from "},
	{1, NULL, NULL, NULL, NULL, 0, 2, 0, "certfile must be specified for server-side"},
	{0, NULL, "client.key", NULL, NULL, 0, 2, 0, "keyfile given without certfile"},
	{0, NULL, NULL, "missing-ca.pem", NULL, 2, 2, 0, "cannot load CA certificates from "},
	{0, NULL, NULL, "server.key", NULL, 2, 2, 0, "cannot load CA certificates from "},
	{0, NULL, NULL, NULL, NULL, 2, 2, 0, "requires ca_certs"},
	{1, "server.pem", "server.key", NULL, NULL, 1, 2, 0, "requires ca_certs"},
	{0, NULL, NULL, NULL, "NO-SUCH-CIPHER", 0, 2, 0, "invalid cipher string \"NO-SUCH-CIPHER\""},
	{0, NULL, NULL, NULL, NULL, 0, 2, 1, "ALPN protocol 1 must be 1 to 255 bytes long"},
	{0, NULL, NULL, NULL, NULL, 0, 2, 2, "ALPN protocol 0 must be 1 to 255 bytes long"},
	{0, NULL, NULL, NULL, NULL, 7, 2, 0, "invalid cert_reqs 7"},
	{0, NULL, NULL, NULL, NULL, 0, 0, 0, "PROTOCOL_SSLv2 cannot be spoken"},
	{0, NULL, NULL, NULL, NULL, 0, 1, 0, "PROTOCOL_SSLv3 cannot be spoken by this OpenSSL"},
	{0, NULL, NULL, NULL, NULL, 0, 3, 0, "PROTOCOL_TLSv1 cannot be spoken by this OpenSSL"},
	{0, NULL, NULL, NULL, NULL, 0, 4, 0, "PROTOCOL_TLSv1_1 cannot be spoken by this OpenSSL"},
	{0, NULL, NULL, NULL, NULL, 0, 9, 0, "unknown protocol 9"},
};

START_TEST(test_check_bad)
{
	const struct bad_case *bc = &bad_cases[_i];
	static char longname[300];
	memset(longname, 'x', sizeof longname - 1);
	const char *alpn1[] = {"h2", ""};
	const char *alpn2[] = {longname};
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.server_side = bc->server_side;
	o.certfile = bc->certfile ? tu_cert(bc->certfile) : NULL;
	o.keyfile = bc->keyfile ? tu_cert(bc->keyfile) : NULL;
	o.ca_certs = bc->ca_certs ? tu_cert(bc->ca_certs) : NULL;
	o.ciphers = bc->ciphers;
	o.cert_reqs = (enum sslsocket_cert_reqs)bc->cert_reqs;
	o.ssl_version = (enum sslsocket_protocol)bc->version;
	if (bc->alpn == 1) {
		o.alpn = alpn1;
		o.alpn_count = 2;
	} else if (bc->alpn == 2) {
		o.alpn = alpn2;
		o.alpn_count = 1;
	}
	struct sslsocket_error err;
	memset(&err, 0, sizeof err);
	ck_assert_int_eq(sslsocket_options_check(&o, &err), -1);
	ck_assert_msg(strstr(err.reason, bc->expect) != NULL, "reason [%s] lacks [%s]", err.reason, bc->expect);
	ck_assert_int_ne(err.code, SSLSOCKET_ERROR_NONE);
	/* wrap refuses the same options with the same reason, and builds no
	 * context */
	int fd = cu_tcp_socket();
	struct sslsocket_error err2;
	ck_assert_ptr_null(sslsocket_wrap(fd, &o, NULL, &err2));
	ck_assert_str_eq(err2.reason, err.reason);
	ck_assert_uint_eq(sslsocket_ctx_count(), 0);
	close(fd);
}
END_TEST

START_TEST(test_versions_reasons)
{
	struct sslsocket_error err;
	ck_assert_int_eq(sslsocket_protocol_supported(SSLSOCKET_PROTOCOL_SSLv23, &err), 0);
	ck_assert_int_eq(sslsocket_protocol_supported(SSLSOCKET_PROTOCOL_TLSv1_2, &err), 0);
	ck_assert_int_eq(sslsocket_protocol_supported(SSLSOCKET_PROTOCOL_TLSv1_3, &err), 0);
	ck_assert_int_eq(sslsocket_protocol_supported(SSLSOCKET_PROTOCOL_TLSv1, &err), -1);
	ck_assert_int_eq(errno, EPROTONOSUPPORT);
	/* The reason names the security level and OpenSSL's own refusal. */
	ck_assert_ptr_nonnull(strstr(err.reason, "at security level"));
	ck_assert_ptr_nonnull(strstr(err.reason, "no suitable signature algorithm"));
	ck_assert_int_eq(sslsocket_protocol_supported(SSLSOCKET_PROTOCOL_SSLv2, &err), -1);
	ck_assert_str_eq(err.reason, "PROTOCOL_SSLv2 cannot be spoken: OpenSSL removed SSLv2 in 1.1.0");
	ck_assert_int_eq(sslsocket_protocol_supported(SSLSOCKET_PROTOCOL_SSLv3, NULL), -1);
}
END_TEST

START_TEST(test_protocol_names)
{
	for (int v = SSLSOCKET_PROTOCOL_SSLv2; v <= SSLSOCKET_PROTOCOL_TLSv1_3; v++) {
		const char *n = sslsocket_protocol_name((enum sslsocket_protocol)v);
		ck_assert_ptr_nonnull(n);
		enum sslsocket_protocol back;
		ck_assert_int_eq(sslsocket_protocol_from_name(n, &back), 0);
		ck_assert_int_eq(back, v);
		ck_assert_int_eq(sslsocket_protocol_from_name(n + 9, &back), 0); /* without PROTOCOL_ */
		ck_assert_int_eq(back, v);
	}
	ck_assert_str_eq(sslsocket_protocol_name(SSLSOCKET_PROTOCOL_TLSv1_2), "PROTOCOL_TLSv1_2");
	ck_assert_ptr_null(sslsocket_protocol_name((enum sslsocket_protocol)42));
	enum sslsocket_protocol p;
	ck_assert_int_eq(sslsocket_protocol_from_name("PROTOCOL_TLS", &p), 0);
	ck_assert_int_eq(p, SSLSOCKET_PROTOCOL_SSLv23);
	ck_assert_int_eq(sslsocket_protocol_from_name("TLS", &p), 0);
	ck_assert_int_eq(p, SSLSOCKET_PROTOCOL_SSLv23);
	ck_assert_int_eq(sslsocket_protocol_from_name("SSLv23", &p), 0);
	ck_assert_int_eq(p, SSLSOCKET_PROTOCOL_SSLv23);
	errno = 0;
	ck_assert_int_eq(sslsocket_protocol_from_name("TLSv1_4", &p), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(sslsocket_protocol_from_name("PROTOCOL_", &p), -1);
	ck_assert_int_eq(sslsocket_protocol_from_name(NULL, &p), -1);
}
END_TEST

/* One context for 1000 sockets wrapped with it, whatever their per-socket
 * options; sslsocket_wrap builds a context of its own for its socket, and
 * freeing the socket frees it: the library keeps none. */
START_TEST(test_ctx_shared)
{
	enum { N = 1000 };
	static sslsocket *socks[N];
	int fd = cu_tcp_socket(); /* borrowed by every wrap (lazy client) */
	struct sslsocket_options o;
	cu_client_opts(&o);
	struct sslsocket_error err;
	ck_assert_uint_eq(sslsocket_ctx_count(), 0);
	sslsocket_ctx *ctx = sslsocket_ctx_new(&o, &err);
	ck_assert_msg(ctx != NULL, "%s", err.reason);
	for (int i = 0; i < N; i++) {
		o.server_hostname = (i & 1) ? "a.example" : "b.example";
		o.do_handshake_on_connect = i & 2;
		o.suppress_ragged_eofs = i & 4;
		o.handshake_timeout_ms = i;
		socks[i] = sslsocket_wrap_ctx(fd, ctx, &o, NULL, &err);
		ck_assert_msg(socks[i] != NULL, "%s", err.reason);
	}
	sslsocket_ctx_free(ctx); /* the sockets hold theirs */
	ck_assert_uint_eq(sslsocket_ctx_count(), 1);
	sslsocket *own = sslsocket_wrap(fd, &o, NULL, &err);
	ck_assert_ptr_nonnull(own);
	ck_assert_uint_eq(sslsocket_ctx_count(), 2);
	sslsocket_free(own);
	ck_assert_uint_eq(sslsocket_ctx_count(), 1);
	for (int i = 0; i < N; i++)
		sslsocket_free(socks[i]);
	ck_assert_uint_eq(sslsocket_ctx_count(), 0);
	close(fd);
}
END_TEST

START_TEST(test_ctx_new_and_wrap_ctx)
{
	struct sslsocket_options o;
	cu_server_opts(&o);
	struct sslsocket_error err;
	sslsocket_ctx *a = sslsocket_ctx_new(&o, &err);
	sslsocket_ctx *b = sslsocket_ctx_new(&o, &err);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b); /* each call builds its own: nothing is cached */
	ck_assert_uint_eq(sslsocket_ctx_count(), 2);
	sslsocket_ctx_free(b);
	ck_assert_uint_eq(sslsocket_ctx_count(), 1);
	ck_assert_ptr_eq(sslsocket_ctx_ref(a), a);
	sslsocket_ctx_free(a);
	ck_assert_uint_eq(sslsocket_ctx_count(), 1);
	/* wrap_ctx: the context gives the TLS options, o the per-socket ones */
	int fds[2];
	cu_pair(fds);
	struct sslsocket_options per;
	sslsocket_options_init(&per);
	per.do_handshake_on_connect = 0;
	sslsocket *s = sslsocket_wrap_ctx(fds[1], a, &per, NULL, &err);
	ck_assert_ptr_nonnull(s);
	ck_assert(sslsocket_server_side(s));
	ck_assert(!sslsocket_handshake_done(s));
	sslsocket_ctx_free(a); /* the socket keeps its own reference */
	ck_assert_uint_eq(sslsocket_ctx_count(), 1);
	struct cu_peer cli = {.fd = fds[0], .run = cu_handshake_only};
	sslsocket_options_init(&cli.o);
	cu_peer_start(&cli);
	ck_assert_int_eq(sslsocket_do_handshake(s), 0);
	cu_peer_join(&cli);
	sslsocket_close(s);
	ck_assert_uint_eq(sslsocket_ctx_count(), 0);
	sslsocket_ctx_free(NULL);
	sslsocket_free(NULL);
}
END_TEST

START_TEST(test_wrap_bad_fds)
{
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	struct sslsocket_error err;
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	errno = 0;
	ck_assert_ptr_null(sslsocket_wrap(p[0], &o, NULL, &err));
	ck_assert_int_eq(errno, ENOTSOCK);
	ck_assert_ptr_nonnull(strstr(err.reason, "not a stream socket"));
	close(p[0]);
	errno = 0;
	ck_assert_ptr_null(sslsocket_wrap(p[0], &o, NULL, &err));
	ck_assert_int_eq(errno, EBADF);
	close(p[1]);
	struct sockaddr_in addr;
	int lfd = cu_listen(&addr);
	ck_assert_ptr_null(sslsocket_wrap(lfd, &o, NULL, &err)); /* client on a listener */
	ck_assert_ptr_nonnull(strstr(err.reason, "server_side"));
	close(lfd);
	int fd = cu_tcp_socket();
	struct sslsocket_io io = *sslsocket_io_libc();
	io.poll = NULL;
	ck_assert_ptr_null(sslsocket_wrap(fd, &o, &io, &err));
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	o.handshake_timeout_ms = -5;
	ck_assert_ptr_null(sslsocket_wrap(fd, &o, NULL, &err));
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	/* I/O on a socket that was never connected */
	sslsocket_options_init(&o);
	sslsocket *s = sslsocket_wrap(fd, &o, NULL, &err);
	ck_assert_ptr_nonnull(s);
	char b[4];
	errno = 0;
	ck_assert_int_eq(sslsocket_read(s, b, sizeof b), -1);
	ck_assert_int_eq(errno, ENOTCONN);
	ck_assert_ptr_null(sslsocket_accept(s, NULL, NULL, 0)); /* not a server */
	ck_assert_int_eq(errno, EINVAL);
	sslsocket_free(s);
	close(fd);
}
END_TEST

START_TEST(test_keylog_unopenable)
{
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.keylog_file = "/nonexistent-dir/keys.log";
	struct sslsocket_error err;
	ck_assert_int_eq(sslsocket_options_check(&o, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.reason, "cannot open key log file /nonexistent-dir/keys.log"));
}
END_TEST

/* What is weaker than the defaults: a version below TLS 1.2, suites
 * without forward secrecy or AEAD, a lowered security level; nothing for
 * the defaults, a string of their kind, or TLS 1.3 (the string is unused). */
START_TEST(test_weakness)
{
	struct sslsocket_options o;
	char w[320];
	sslsocket_options_init(&o);
	ck_assert_int_eq(sslsocket_options_weakness(&o, w, sizeof w), 0);
	ck_assert_str_eq(w, "");
	o.ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20";
	ck_assert_int_eq(sslsocket_options_weakness(&o, w, sizeof w), 0);
	o.ciphers = "AES128-SHA";
	ck_assert_int_eq(sslsocket_options_weakness(&o, w, sizeof w), 1);
	ck_assert_str_eq(w, "ciphers admit 1 suite without forward secrecy (AES128-SHA) and 1 suite "
	                    "without AEAD (CBC) (AES128-SHA)");
	o.ciphers = "AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA";
	ck_assert_int_eq(sslsocket_options_weakness(&o, w, sizeof w), 1);
	ck_assert_str_eq(w, "ciphers admit 1 suite without forward secrecy (AES128-GCM-SHA256) and 1 "
	                    "suite without AEAD (CBC) (ECDHE-ECDSA-AES128-SHA)");
	o.ciphers = "ECDHE+AESGCM:@SECLEVEL=0";
	ck_assert_int_eq(sslsocket_options_weakness(&o, w, sizeof w), 1);
	ck_assert_ptr_nonnull(strstr(w, "ciphers lower OpenSSL's security level from "));
	ck_assert_ptr_nonnull(strstr(w, " to 0"));
	o.ciphers = "HIGH";
	ck_assert_int_eq(sslsocket_options_weakness(&o, w, sizeof w), 1);
	ck_assert_ptr_nonnull(strstr(w, ", ...)"));
	o.ssl_version = SSLSOCKET_PROTOCOL_TLSv1_3;
	ck_assert_int_eq(sslsocket_options_weakness(&o, w, sizeof w), 0);
	o.ciphers = NULL;
	o.ssl_version = SSLSOCKET_PROTOCOL_TLSv1_1;
	ck_assert_int_eq(sslsocket_options_weakness(&o, w, sizeof w), 1);
	ck_assert_str_eq(w, "ssl_version PROTOCOL_TLSv1_1 is older than TLS 1.2");
	o.ciphers = "AES128-SHA:@SECLEVEL=0";
	ck_assert_int_eq(sslsocket_options_weakness(&o, w, sizeof w), 1);
	ck_assert_ptr_nonnull(strstr(w, "ssl_version PROTOCOL_TLSv1_1 is older than TLS 1.2; ciphers admit "));
	/* Cut, never overrun. */
	char small[12];
	ck_assert_int_eq(sslsocket_options_weakness(&o, small, sizeof small), 1);
	ck_assert_str_eq(small, "ssl_version");
	o.ssl_version = SSLSOCKET_PROTOCOL_SSLv23;
	o.ciphers = "NOT-A-CIPHER";
	ck_assert_int_eq(sslsocket_options_weakness(&o, w, sizeof w), -1);
	ck_assert_int_eq(sslsocket_options_weakness(NULL, w, sizeof w), -1);
}
END_TEST

Suite *core_options_suite(void)
{
	Suite *s = suite_create("core_options");
	TCase *tc = tcase_create("options");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_check_ok);
	tcase_add_loop_test(tc, test_check_bad, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
	tcase_add_test(tc, test_versions_reasons);
	tcase_add_test(tc, test_protocol_names);
	tcase_add_test(tc, test_ctx_shared);
	tcase_add_test(tc, test_ctx_new_and_wrap_ctx);
	tcase_add_test(tc, test_wrap_bad_fds);
	tcase_add_test(tc, test_keylog_unopenable);
	tcase_add_test(tc, test_weakness);
	suite_add_tcase(s, tc);
	return s;
}
