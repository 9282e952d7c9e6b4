/* check_core_versions: the seed's client/server version table redone for
 * OpenSSL 3: every client version against every server version over
 * loopback, against expectations derived from the rules (both sides must be
 * speakable; SSLv23 negotiates; pins must meet). */
#include "check_core_util.h"

#include <poll.h>

#define NV 7

struct vsrv {
	int lfd;
	struct sslsocket_options o; /* built by the caller: tu_cert is not thread-safe */
	char version[32];
	pthread_t th;
};

static void *vsrv_main(void *arg)
{
	struct vsrv *p = arg;
	struct sslsocket_error err;
	sslsocket *l = sslsocket_wrap(p->lfd, &p->o, NULL, &err);
	if (!l)
		return NULL;
	sslsocket *s = sslsocket_accept(l, NULL, NULL, 0);
	if (s) {
		const char *ver = NULL;
		if (sslsocket_cipher(s, NULL, &ver, NULL) == 0)
			snprintf(p->version, sizeof p->version, "%s", ver);
		char b[4];
		while (sslsocket_read(s, b, sizeof b) > 0)
			; /* to the client's close_notify, then ours */
		sslsocket_close(s);
	}
	sslsocket_free(l);
	return NULL;
}

/* "TLSv1.3" etc. when client version cv and server version sv connect,
 * "fail" when the handshake fails. Both must be speakable. */
static void try_pair(int cv, int sv, char *out, size_t outlen)
{
	struct sockaddr_in addr;
	struct vsrv srv = {.lfd = cu_listen(&addr)};
	cu_server_opts(&srv.o);
	srv.o.ssl_version = (enum sslsocket_protocol)sv;
	srv.o.handshake_timeout_ms = 5000;
	ck_assert_int_eq(pthread_create(&srv.th, NULL, vsrv_main, &srv), 0);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.ssl_version = (enum sslsocket_protocol)cv;
	o.handshake_timeout_ms = 5000;
	o.session_cache = 0;
	struct sslsocket_error err;
	int fd = cu_tcp_socket();
	sslsocket *c = sslsocket_wrap(fd, &o, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.reason);
	snprintf(out, outlen, "fail");
	if (sslsocket_connect(c, (struct sockaddr *)&addr, sizeof addr) == 0) {
		const char *ver = NULL;
		ck_assert_int_eq(sslsocket_cipher(c, NULL, &ver, NULL), 0);
		/* TLS 1.3: the server may still refuse after our Finished; a
		 * round trip settles it. */
		char b[4];
		if (sslsocket_write(c, "x", 1) == 1 && sslsocket_shutdown_write(c) == 0 &&
		    sslsocket_read(c, b, sizeof b) == 0)
			snprintf(out, outlen, "%s", ver);
	} else {
		ck_assert_int_eq(errno, EPROTO);
	}
	sslsocket_close(c);
	pthread_join(srv.th, NULL);
	close(srv.lfd);
	if (strcmp(out, "fail") != 0)
		ck_assert_str_eq(srv.version, out); /* both ends agree */
}

static const char *pin_text(int v)
{
	switch (v) {
	case SSLSOCKET_PROTOCOL_TLSv1: return "TLSv1";
	case SSLSOCKET_PROTOCOL_TLSv1_1: return "TLSv1.1";
	case SSLSOCKET_PROTOCOL_TLSv1_2: return "TLSv1.2";
	case SSLSOCKET_PROTOCOL_TLSv1_3: return "TLSv1.3";
	default: return NULL;
	}
}

START_TEST(test_version_table)
{
	int speakable[NV];
	for (int v = 0; v < NV; v++)
		speakable[v] = sslsocket_protocol_supported((enum sslsocket_protocol)v, NULL) == 0;
	/* What OpenSSL 3 at the default security level can speak. */
	ck_assert(!speakable[SSLSOCKET_PROTOCOL_SSLv2]);
	ck_assert(!speakable[SSLSOCKET_PROTOCOL_SSLv3]);
	ck_assert(speakable[SSLSOCKET_PROTOCOL_SSLv23]);
	ck_assert(speakable[SSLSOCKET_PROTOCOL_TLSv1_2]);
	ck_assert(speakable[SSLSOCKET_PROTOCOL_TLSv1_3]);
	int cells = 0;
	for (int cv = 0; cv < NV; cv++) {
		for (int sv = 0; sv < NV; sv++) {
			if (!speakable[cv] || !speakable[sv]) {
				/* Unspeakable: a wrap-time error on that side, never a
				 * substitute version. */
				struct sslsocket_options o;
				sslsocket_options_init(&o);
				o.ssl_version = (enum sslsocket_protocol)(speakable[cv] ? sv : cv);
				int fd = cu_tcp_socket();
				struct sslsocket_error err;
				ck_assert_ptr_null(sslsocket_wrap(fd, &o, NULL, &err));
				ck_assert_ptr_nonnull(strstr(err.reason, "cannot be spoken"));
				close(fd);
				continue;
			}
			const char *expect;
			if (cv == SSLSOCKET_PROTOCOL_SSLv23 && sv == SSLSOCKET_PROTOCOL_SSLv23)
				expect = "TLSv1.3"; /* the highest both support */
			else if (cv == SSLSOCKET_PROTOCOL_SSLv23)
				expect = pin_text(sv);
			else if (sv == SSLSOCKET_PROTOCOL_SSLv23 || cv == sv)
				expect = pin_text(cv);
			else
				expect = "fail";
			char got[32];
			try_pair(cv, sv, got, sizeof got);
			ck_assert_msg(strcmp(got, expect) == 0, "client %s server %s: expected %s, got %s",
			              sslsocket_protocol_name((enum sslsocket_protocol)cv),
			              sslsocket_protocol_name((enum sslsocket_protocol)sv), expect, got);
			cells++;
		}
	}
	ck_assert_int_eq(cells, 9); /* SSLv23, TLSv1_2, TLSv1_3 squared */
}
END_TEST

Suite *core_versions_suite(void)
{
	Suite *s = suite_create("core_versions");
	TCase *tc = tcase_create("versions");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_version_table);
	suite_add_tcase(s, tc);
	return s;
}
