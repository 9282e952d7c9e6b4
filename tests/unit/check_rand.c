/*
 * check_rand.c - RAND_status, RAND_add and RAND_egd. What reaches
 * OpenSSL is observed through a recording RAND_METHOD (each check test
 * runs in its own process, so the default method of other tests is not
 * affected). The EGD peers are real unix-socket servers: a thread of this
 * process, and a python3 process started and killed by PID.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* RAND_METHOD: the only way to watch RAND_add */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "sslsocket.h"

static unsigned char seen[1024];
static size_t seen_len;
static double seen_entropy;
static int seen_calls;

static int rec_add(const void *buf, int num, double randomness)
{
	if (num > 0 && seen_len + (size_t)num <= sizeof seen) {
		memcpy(seen + seen_len, buf, (size_t)num);
		seen_len += (size_t)num;
	}
	seen_entropy += randomness;
	seen_calls++;
	return 1;
}

static int rec_status(void)
{
	return 1;
}

static RAND_METHOD recorder = { .add = rec_add, .status = rec_status };

static void record(void)
{
	seen_len = 0;
	seen_entropy = 0;
	seen_calls = 0;
	/* Bring the default generator up first: OpenSSL's exit-time cleanup
	 * leaks when it meets a method switch before any RAND use. */
	ck_assert_int_eq(RAND_status(), 1);
	ck_assert_int_eq(RAND_set_rand_method(&recorder), 1);
}

START_TEST(test_status)
{
	/* OpenSSL 3 seeds itself from the OS. */
	ck_assert_int_eq(sslsocket_RAND_status(), 1);
}
END_TEST

START_TEST(test_add_reaches_openssl)
{
	static const char msg[] = "some bytes to mix in";

	record();
	ck_assert_int_eq(sslsocket_RAND_add(msg, sizeof msg - 1, 3.5), 0);
	ck_assert_int_eq(seen_calls, 1);
	ck_assert_uint_eq(seen_len, sizeof msg - 1);
	ck_assert(memcmp(seen, msg, seen_len) == 0);
	ck_assert(fabs(seen_entropy - 3.5) < 1e-9);
	/* The estimate is a lower bound in bytes: never more than the bytes. */
	ck_assert_int_eq(sslsocket_RAND_add(msg, 4, 100.0), 0);
	ck_assert(fabs(seen_entropy - 7.5) < 1e-9);
	RAND_set_rand_method(RAND_OpenSSL());
}
END_TEST

START_TEST(test_add_bad_arguments)
{
	errno = 0;
	ck_assert_int_eq(sslsocket_RAND_add(NULL, 5, 0.0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(sslsocket_RAND_add("x", 1, -1.0), -1);
	ck_assert_int_eq(sslsocket_RAND_add("x", 1, NAN), -1);
	ck_assert_int_eq(sslsocket_RAND_add(NULL, 0, 0.0), 0);
	ck_assert_int_eq(sslsocket_RAND_add("x", 1, 0.0), 0);
	ck_assert_int_eq(sslsocket_RAND_status(), 1);
}
END_TEST

/* ---- an EGD-like server thread ------------------------------------------- */

struct egd {
	char dir[64], path[128];
	int lfd;
	size_t send;      /* bytes to send, in pieces of 7 */
	int hold_ms;      /* then keep the connection open this long */
	pthread_t thr;
};

static void *egd_main(void *arg)
{
	struct egd *e = arg;
	int c = accept(e->lfd, NULL, NULL);
	unsigned char b[512];

	if (c < 0)
		return NULL;
	for (size_t i = 0; i < sizeof b; i++)
		b[i] = (unsigned char)(i * 7 + 3);
	for (size_t off = 0; off < e->send;) {
		size_t n = e->send - off < 7 ? e->send - off : 7;
		if (send(c, b + off, n, MSG_NOSIGNAL) != (ssize_t)n)
			break;
		off += n;
		usleep(1000);
	}
	if (e->hold_ms)
		usleep((useconds_t)e->hold_ms * 1000);
	close(c);
	return NULL;
}

static void egd_start(struct egd *e, size_t send, int hold_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(e->dir, sizeof e->dir, "/tmp/check_egd.XXXXXX");
	ck_assert(mkdtemp(e->dir) != NULL);
	snprintf(e->path, sizeof e->path, "%s/egd", e->dir);
	ck_assert(strlen(e->path) < sizeof sa.sun_path);
	memcpy(sa.sun_path, e->path, strlen(e->path) + 1);
	e->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert(e->lfd >= 0);
	ck_assert(bind(e->lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
	ck_assert(listen(e->lfd, 4) == 0);
	e->send = send;
	e->hold_ms = hold_ms;
	ck_assert(pthread_create(&e->thr, NULL, egd_main, e) == 0);
}

static void egd_stop(struct egd *e)
{
	pthread_join(e->thr, NULL);
	close(e->lfd);
	unlink(e->path);
	rmdir(e->dir);
}

START_TEST(test_egd_reads_256)
{
	struct egd e;
	struct sslsocket_error err;

	egd_start(&e, 300, 0);
	record();
	ck_assert_int_eq(sslsocket_RAND_egd(e.path, &err), 256);
	RAND_set_rand_method(RAND_OpenSSL());
	egd_stop(&e);
	ck_assert_uint_eq(seen_len, 256);
	for (size_t i = 0; i < 256; i++)
		ck_assert_uint_eq(seen[i], (unsigned char)(i * 7 + 3));
	ck_assert(fabs(seen_entropy - 256) < 1e-9);
}
END_TEST

START_TEST(test_egd_short)
{
	struct egd e;
	struct sslsocket_error err;

	egd_start(&e, 100, 0);
	record();
	ck_assert_int_eq(sslsocket_RAND_egd(e.path, &err), -1);
	RAND_set_rand_method(RAND_OpenSSL());
	egd_stop(&e);
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_EOF);
	ck_assert_msg(strstr(err.reason, "only 100 of 256") != NULL, "%s", err.reason);
	/* Nothing was added from a short read. */
	ck_assert_int_eq(seen_calls, 0);
}
END_TEST

START_TEST(test_egd_silent_times_out)
{
	/* A daemon that waits for a request (real EGD protocol) must not hang
	 * the caller. */
	struct egd e;
	struct sslsocket_error err;
	struct timespec t0, t1;

	egd_start(&e, 10, 7000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(sslsocket_RAND_egd(e.path, &err), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_SYSCALL);
	ck_assert_int_eq(err.sys_errno, ETIMEDOUT);
	ck_assert_msg(strstr(err.reason, "10 of 256") != NULL, "%s", err.reason);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 7);
	egd_stop(&e);
}
END_TEST

START_TEST(test_egd_bad_paths)
{
	struct sslsocket_error err;
	char dir[] = "/tmp/check_egd_bad.XXXXXX", path[128], longp[200];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	FILE *f;
	int s;

	ck_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/missing", dir);
	ck_assert_int_eq(sslsocket_RAND_egd(path, &err), -1);
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_SYSCALL);
	ck_assert_int_eq(err.sys_errno, ENOENT);
	ck_assert_msg(strstr(err.reason, "No such file") != NULL, "%s", err.reason);

	snprintf(path, sizeof path, "%s/file", dir);
	f = fopen(path, "w");
	ck_assert(f != NULL);
	fputs("not a socket", f);
	fclose(f);
	ck_assert_int_eq(sslsocket_RAND_egd(path, &err), -1);
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	ck_assert_msg(strstr(err.reason, "not a socket") != NULL, "%s", err.reason);
	unlink(path);

	ck_assert_int_eq(sslsocket_RAND_egd(dir, &err), -1);
	ck_assert_msg(strstr(err.reason, "not a socket") != NULL, "%s", err.reason);

	/* A socket file nobody listens on any more. */
	snprintf(path, sizeof path, "%s/dead", dir);
	ck_assert(strlen(path) < sizeof sa.sun_path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert(bind(s, (struct sockaddr *)&sa, sizeof sa) == 0);
	close(s);
	ck_assert_int_eq(sslsocket_RAND_egd(path, &err), -1);
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_SYSCALL);
	ck_assert_msg(strstr(err.reason, "cannot connect") != NULL, "%s", err.reason);
	unlink(path);
	rmdir(dir);

	memset(longp, 'a', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = '\0';
	ck_assert_int_eq(sslsocket_RAND_egd(longp, &err), -1);
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	ck_assert_msg(strstr(err.reason, "too long") != NULL, "%s", err.reason);
	ck_assert_int_eq(sslsocket_RAND_egd(NULL, &err), -1);
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	ck_assert_int_eq(sslsocket_RAND_egd("", NULL), -1);
}
END_TEST

START_TEST(test_egd_python_server)
{
	/* Another process as the daemon: python3 sends os.urandom(256) and
	 * writes the same bytes to a file so that we can compare. */
	char dir[] = "/tmp/check_egd_py.XXXXXX", sock[128], dump[128];
	struct sslsocket_error err;
	unsigned char expect[256];
	FILE *f;
	pid_t pid;
	int status;

	ck_assert(mkdtemp(dir) != NULL);
	snprintf(sock, sizeof sock, "%s/egd", dir);
	snprintf(dump, sizeof dump, "%s/sent", dir);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		execlp("timeout", "timeout", "20", "python3", "-c",
		       "import os, socket, sys\n"
		       "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
		       "s.bind(sys.argv[1] + '.tmp'); s.listen(1)\n"
		       "os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n"
		       "c, _ = s.accept(); b = os.urandom(256)\n"
		       "open(sys.argv[2], 'wb').write(b); c.sendall(b); c.close()\n",
		       sock, dump, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 400 && access(sock, F_OK) != 0; i++)
		usleep(25000);
	ck_assert_msg(access(sock, F_OK) == 0, "python EGD server did not start");
	record();
	ck_assert_int_eq(sslsocket_RAND_egd(sock, &err), 256);
	RAND_set_rand_method(RAND_OpenSSL());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	f = fopen(dump, "rb");
	ck_assert(f != NULL);
	ck_assert_uint_eq(fread(expect, 1, sizeof expect, f), 256);
	fclose(f);
	ck_assert_uint_eq(seen_len, 256);
	ck_assert(memcmp(seen, expect, 256) == 0);
	unlink(sock);
	unlink(dump);
	rmdir(dir);
}
END_TEST

Suite *rand_suite(void)
{
	Suite *s = suite_create("rand");
	TCase *tc = tcase_create("rand");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_add_reaches_openssl);
	tcase_add_test(tc, test_add_bad_arguments);
	tcase_add_test(tc, test_egd_reads_256);
	tcase_add_test(tc, test_egd_short);
	tcase_add_test(tc, test_egd_silent_times_out);
	tcase_add_test(tc, test_egd_bad_paths);
	tcase_add_test(tc, test_egd_python_server);
	suite_add_tcase(s, tc);
	return s;
}
