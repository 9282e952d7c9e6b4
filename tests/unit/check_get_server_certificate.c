/*
 * check_get_server_certificate.c - get_server_certificate against real
 * `openssl s_server` processes, each started by the test under timeout(1)
 * on loopback and killed by PID.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sslsocket.h"
#include "testutil.h"

/* A port free on both 127.0.0.1 and ::1 ("localhost" may be either). */
static unsigned short free_port(void)
{
	for (int tries = 0; tries < 200; tries++) {
		unsigned short p = (unsigned short)(20000 + (unsigned)(rand() ^ getpid()) % 12000);
		struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(p) };
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(p) };
		int s4 = socket(AF_INET, SOCK_STREAM, 0), s6 = socket(AF_INET6, SOCK_STREAM, 0);
		int ok;

		a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a6.sin6_addr = in6addr_loopback;
		ok = bind(s4, (struct sockaddr *)&a4, sizeof a4) == 0 &&
		     (s6 < 0 || bind(s6, (struct sockaddr *)&a6, sizeof a6) == 0);
		close(s4);
		if (s6 >= 0)
			close(s6);
		if (ok)
			return p;
	}
	ck_abort_msg("no free port");
	return 0;
}

/* Where server_start listens: "127.0.0.1" or "[::1]". */
static const char *listen_host = "127.0.0.1";

static int port_open(unsigned short port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int v6 = listen_host[0] == '[';
	int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0), ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a6.sin6_addr = in6addr_loopback;
	ok = v6 ? connect(s, (struct sockaddr *)&a6, sizeof a6) == 0
	        : connect(s, (struct sockaddr *)&a, sizeof a) == 0;
	close(s);
	return ok;
}

struct server {
	pid_t pid;
	unsigned short port;
};

/* openssl s_server on 127.0.0.1 with cert/key, plus extra arguments
 * (NULL-terminated, at most 6). */
static void server_start(struct server *sv, const char *cert, const char *key,
                         const char *const *extra)
{
	char accept_arg[32];
	char *argv[24];
	int n = 0;

	sv->port = free_port();
	snprintf(accept_arg, sizeof accept_arg, "%s:%u", listen_host, sv->port);
	/* copies: execvp wants char *const[] */
	argv[n++] = strdup("timeout");
	argv[n++] = strdup("60");
	argv[n++] = strdup("openssl");
	argv[n++] = strdup("s_server");
	argv[n++] = strdup("-accept");
	argv[n++] = strdup(accept_arg);
	argv[n++] = strdup("-cert");
	argv[n++] = strdup(tu_cert(cert));
	argv[n++] = strdup("-key");
	argv[n++] = strdup(tu_cert(key));
	argv[n++] = strdup("-quiet");
	for (int i = 0; extra && extra[i] && i < 6; i++)
		argv[n++] = strdup(extra[i]);
	argv[n] = NULL;
	sv->pid = fork();
	ck_assert(sv->pid >= 0);
	if (sv->pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 1);
		dup2(null, 2);
		setpgid(0, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	for (int i = 0; i < n; i++)
		free(argv[i]);
	for (int i = 0; i < 200 && !port_open(sv->port); i++)
		usleep(25000);
	ck_assert_msg(port_open(sv->port), "s_server did not start on %u", sv->port);
}

static void server_stop(struct server *sv)
{
	kill(sv->pid, SIGTERM);
	waitpid(sv->pid, NULL, 0);
}

/* The PEM text of a certificate file, as our converter prints it. */
static char *file_pem(const char *name)
{
	FILE *f = fopen(tu_cert(name), "r");
	X509 *x;
	unsigned char *der = NULL;
	int n;
	char *pem;

	ck_assert(f != NULL);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert(x != NULL);
	n = i2d_X509(x, &der);
	ck_assert(n > 0);
	pem = sslsocket_DER_cert_to_PEM_cert(der, (size_t)n, NULL);
	OPENSSL_free(der);
	X509_free(x);
	return pem;
}

static void expect_cert(const char *host, unsigned short port, const char *ca, const char *name)
{
	struct sslsocket_error err = { 0 };
	char *got = sslsocket_get_server_certificate(host, port, SSLSOCKET_PROTOCOL_SSLv23, ca, &err);
	char *want = file_pem(name);

	ck_assert_msg(got != NULL, "%s:%u ca=%s: %s", host, port, ca ? ca : "none", err.reason);
	ck_assert_msg(strcmp(got, want) == 0, "%s:%u: got\n%s\nwant (%s)\n%s", host, port, got, name,
	              want);
	free(got);
	free(want);
}

static void expect_failure(const char *host, unsigned short port, const char *ca,
                           const char *reason)
{
	struct sslsocket_error err = { 0 };
	char *got = sslsocket_get_server_certificate(host, port, SSLSOCKET_PROTOCOL_SSLv23, ca, &err);

	ck_assert_msg(got == NULL, "%s:%u ca=%s accepted", host, port, ca ? ca : "none");
	ck_assert_msg(strstr(err.reason, reason) != NULL, "%s:%u: reason [%s], want [%s]", host, port,
	              err.reason, reason);
}

START_TEST(test_fetch_unvalidated)
{
	struct server sv;

	server_start(&sv, "server.pem", "server.key", NULL);
	expect_cert("127.0.0.1", sv.port, NULL, "server.pem");
	expect_cert("localhost", sv.port, NULL, "server.pem");
	/* Without ca_certs nothing is validated: another CA's server is fine. */
	server_stop(&sv);
	server_start(&sv, "selfsigned.pem", "selfsigned.key", NULL);
	expect_cert("127.0.0.1", sv.port, NULL, "selfsigned.pem");
	server_stop(&sv);
}
END_TEST

START_TEST(test_validated)
{
	struct server sv;
	char ca[600], other[600];

	snprintf(ca, sizeof ca, "%s", tu_cert("ca.pem"));
	snprintf(other, sizeof other, "%s", tu_cert("other-ca.pem"));
	server_start(&sv, "server.pem", "server.key", NULL);
	expect_cert("localhost", sv.port, ca, "server.pem");
	expect_cert("127.0.0.1", sv.port, ca, "server.pem");
	expect_failure("localhost", sv.port, other, "certificate verify failed");
	expect_failure("127.0.0.1", sv.port, other, "certificate verify failed");
	server_stop(&sv);
}
END_TEST

START_TEST(test_host_checked)
{
	struct server sv;
	char ca[600];

	snprintf(ca, sizeof ca, "%s", tu_cert("ca.pem"));
	server_start(&sv, "wronghost.pem", "wronghost.key", NULL);
	/* Signed by the right CA, for another name. */
	expect_failure("localhost", sv.port, ca, "certificate verify failed");
	expect_failure("127.0.0.1", sv.port, ca, "IP address mismatch");
	expect_cert("localhost", sv.port, NULL, "wronghost.pem");
	server_stop(&sv);
}
END_TEST

START_TEST(test_expired)
{
	struct server sv;
	char ca[600];

	snprintf(ca, sizeof ca, "%s", tu_cert("ca.pem"));
	server_start(&sv, "expired.pem", "expired.key", NULL);
	expect_failure("localhost", sv.port, ca, "expired");
	expect_cert("localhost", sv.port, NULL, "expired.pem");
	server_stop(&sv);
}
END_TEST

START_TEST(test_sni_for_names_only)
{
	/* s_server answers SNI "localhost" with server.pem and everything
	 * else (no SNI at all) with wronghost.pem. */
	static char cert2[600], key2[600];
	const char *extra[7] = { "-servername", "localhost", "-cert2", cert2, "-key2", key2, NULL };
	struct server sv;

	snprintf(cert2, sizeof cert2, "%s", tu_cert("server.pem"));
	snprintf(key2, sizeof key2, "%s", tu_cert("server.key"));
	server_start(&sv, "wronghost.pem", "wronghost.key", extra);
	expect_cert("localhost", sv.port, NULL, "server.pem");
	expect_cert("127.0.0.1", sv.port, NULL, "wronghost.pem");
	expect_cert("[127.0.0.1]", sv.port, NULL, "wronghost.pem");
	server_stop(&sv);
}
END_TEST

START_TEST(test_sni_recorded_by_python)
{
	/* A Python TLS server that writes down the SNI of each connection
	 * ("None" when the client sent none). */
	char dir[] = "/tmp/check_getcert_sni.XXXXXX", log[128], portarg[16];
	unsigned short port = free_port();
	char line[128], *got;
	FILE *f;
	pid_t pid;

	ck_assert(mkdtemp(dir) != NULL);
	snprintf(log, sizeof log, "%s/sni", dir);
	snprintf(portarg, sizeof portarg, "%u", port);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		execlp("timeout", "timeout", "30", "python3", "-c",
		       "import socket, ssl, sys\n"
		       "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
		       "ctx.load_cert_chain(sys.argv[2], sys.argv[3])\n"
		       "log = open(sys.argv[4], 'w', buffering=1)\n"
		       "ctx.sni_callback = lambda s, name, c: log.write(repr(name) + '\\n') and None\n"
		       "l = socket.create_server(('127.0.0.1', int(sys.argv[1])))\n"
		       "while True:\n"
		       "    c, _ = l.accept()\n"
		       "    try:\n"
		       "        t = ctx.wrap_socket(c, server_side=True); t.close()\n"
		       "    except (ssl.SSLError, OSError):\n"
		       "        c.close()\n",
		       portarg, tu_cert("server.pem"), tu_cert("server.key"), log, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && !port_open(port); i++)
		usleep(25000);
	ck_assert_msg(port_open(port), "python TLS server did not start");
	got = sslsocket_get_server_certificate("localhost", port, SSLSOCKET_PROTOCOL_SSLv23, NULL,
	                                       NULL);
	ck_assert(got != NULL);
	free(got);
	got = sslsocket_get_server_certificate("127.0.0.1", port, SSLSOCKET_PROTOCOL_SSLv23, NULL,
	                                       NULL);
	ck_assert(got != NULL);
	free(got);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	f = fopen(log, "r");
	ck_assert(f != NULL);
	/* port_open's probe made a connection too, without TLS: no line. */
	ck_assert(fgets(line, sizeof line, f) != NULL);
	ck_assert_str_eq(line, "'localhost'\n");
	ck_assert(fgets(line, sizeof line, f) != NULL);
	ck_assert_str_eq(line, "None\n");
	ck_assert(fgets(line, sizeof line, f) == NULL);
	fclose(f);
	unlink(log);
	rmdir(dir);
}
END_TEST

START_TEST(test_ipv6_literal)
{
	struct server sv;
	char ca[600];

	snprintf(ca, sizeof ca, "%s", tu_cert("ca.pem"));
	listen_host = "[::1]";
	server_start(&sv, "server.pem", "server.key", NULL);
	expect_cert("::1", sv.port, NULL, "server.pem");
	expect_cert("[::1]", sv.port, ca, "server.pem"); /* IP:::1 is in its SAN */
	server_stop(&sv);
	server_start(&sv, "wronghost.pem", "wronghost.key", NULL);
	expect_failure("::1", sv.port, ca, "IP address mismatch");
	server_stop(&sv);
	listen_host = "127.0.0.1";
}
END_TEST

START_TEST(test_pinned_version)
{
	static const char *extra[] = { "-tls1_2", NULL };
	struct server sv;
	struct sslsocket_error err;
	char *pem;

	server_start(&sv, "server.pem", "server.key", extra);
	pem = sslsocket_get_server_certificate("127.0.0.1", sv.port, SSLSOCKET_PROTOCOL_TLSv1_2, NULL,
	                                       &err);
	ck_assert_msg(pem != NULL, "%s", err.reason);
	free(pem);
	/* A TLS 1.3-only client cannot talk to a TLS 1.2-only server. */
	pem = sslsocket_get_server_certificate("127.0.0.1", sv.port, SSLSOCKET_PROTOCOL_TLSv1_3, NULL,
	                                       &err);
	ck_assert_ptr_null(pem);
	ck_assert_int_ne(err.code, SSLSOCKET_ERROR_NONE);
	server_stop(&sv);
}
END_TEST

START_TEST(test_silent_server_times_out)
{
	/* A listener that never accepts: TCP connects, the handshake never
	 * gets an answer. The call must give up (10 s bound), not hang. */
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sslsocket_error err;
	time_t t0 = time(NULL);
	char *pem;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
	ck_assert(listen(l, 4) == 0);
	ck_assert(getsockname(l, (struct sockaddr *)&a, &al) == 0);
	pem = sslsocket_get_server_certificate("127.0.0.1", ntohs(a.sin_port),
	                                       SSLSOCKET_PROTOCOL_SSLv23, NULL, &err);
	ck_assert_ptr_null(pem);
	ck_assert_int_le(time(NULL) - t0, 15);
	ck_assert_int_ne(err.code, SSLSOCKET_ERROR_NONE);
	close(l);
}
END_TEST

START_TEST(test_connection_refused)
{
	struct sslsocket_error err;
	unsigned short port = free_port();

	ck_assert_ptr_null(sslsocket_get_server_certificate("127.0.0.1", port,
	                                                    SSLSOCKET_PROTOCOL_SSLv23, NULL, &err));
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_SYSCALL);
	ck_assert_int_eq(err.sys_errno, ECONNREFUSED);
	ck_assert_msg(strstr(err.reason, "cannot connect") != NULL, "%s", err.reason);
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct sslsocket_error err;

	ck_assert_ptr_null(sslsocket_get_server_certificate(NULL, 443, SSLSOCKET_PROTOCOL_SSLv23,
	                                                    NULL, &err));
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	ck_assert_ptr_null(sslsocket_get_server_certificate("", 443, SSLSOCKET_PROTOCOL_SSLv23,
	                                                    NULL, &err));
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	ck_assert_ptr_null(sslsocket_get_server_certificate("127.0.0.1", 0,
	                                                    SSLSOCKET_PROTOCOL_SSLv23, NULL, &err));
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	/* Refused before any connection: SSLv2, and a CA file that is not there. */
	ck_assert_ptr_null(sslsocket_get_server_certificate("127.0.0.1", 9,
	                                                    SSLSOCKET_PROTOCOL_SSLv2, NULL, &err));
	ck_assert_int_ne(err.code, SSLSOCKET_ERROR_SYSCALL);
	ck_assert_ptr_null(sslsocket_get_server_certificate(
		"127.0.0.1", 9, SSLSOCKET_PROTOCOL_SSLv23, "/nonexistent/ca.pem", &err));
	ck_assert_int_ne(err.code, SSLSOCKET_ERROR_SYSCALL);
}
END_TEST

Suite *get_server_certificate_suite(void)
{
	Suite *s = suite_create("get_server_certificate");
	TCase *tc = tcase_create("get_server_certificate");

	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, test_fetch_unvalidated);
	tcase_add_test(tc, test_validated);
	tcase_add_test(tc, test_host_checked);
	tcase_add_test(tc, test_expired);
	tcase_add_test(tc, test_sni_for_names_only);
	tcase_add_test(tc, test_sni_recorded_by_python);
	tcase_add_test(tc, test_ipv6_literal);
	tcase_add_test(tc, test_pinned_version);
	tcase_add_test(tc, test_silent_server_times_out);
	tcase_add_test(tc, test_connection_refused);
	tcase_add_test(tc, test_bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}
