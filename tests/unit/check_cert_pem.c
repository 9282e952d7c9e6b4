/*
 * check_cert_pem.c - DER_cert_to_PEM_cert / PEM_cert_to_DER_cert: Python's
 * exact output, byte-exact round trips, and malformed PEM rejected.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sslsocket.h"
#include "testutil.h"

#define HDR "-----BEGIN CERTIFICATE-----"
#define FTR "-----END CERTIFICATE-----"

static char *slurp_cmd(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	char tmp[8192];

	ck_assert(p != NULL);
	while ((n = fread(tmp, 1, sizeof tmp, p)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			buf = realloc(buf, cap);
			ck_assert(buf != NULL);
		}
		memcpy(buf + len, tmp, n);
		len += n;
	}
	ck_assert_int_eq(pclose(p), 0);
	if (!buf)
		buf = calloc(1, 1);
	else
		buf[len] = '\0';
	return buf;
}

/* Python's ssl.DER_cert_to_PEM_cert of the bytes in the file. */
static char *python_pem(const unsigned char *der, size_t len)
{
	char path[] = "/tmp/check_cert_pem.XXXXXX";
	char cmd[300];
	int fd = mkstemp(path);
	char *out;

	ck_assert(fd >= 0);
	ck_assert(write(fd, der, len) == (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof cmd,
	         "python3 -c \"import ssl,sys; sys.stdout.write(ssl.DER_cert_to_PEM_cert("
	         "open(sys.argv[1],'rb').read()))\" %s",
	         path);
	out = slurp_cmd(cmd);
	unlink(path);
	return out;
}

static const char *const certs[] = {
	"server.pem", "client.pem", "multirdn.pem", "wronghost.pem", "expired.pem",
	"selfsigned.pem", "rsa.pem", "ca.pem", "other-ca.pem",
};

START_TEST(test_cert_files)
{
	const char *path = tu_cert(certs[_i]);
	FILE *f = fopen(path, "r");
	X509 *x;
	unsigned char *der = NULL, *back;
	int n;
	size_t blen;
	char *ours, *theirs;
	struct sslsocket_error err;

	ck_assert(f != NULL);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert(x != NULL);
	n = i2d_X509(x, &der);
	ck_assert(n > 0);
	ours = sslsocket_DER_cert_to_PEM_cert(der, (size_t)n, &err);
	ck_assert_msg(ours != NULL, "%s", err.reason);
	theirs = python_pem(der, (size_t)n);
	ck_assert_str_eq(ours, theirs);
	back = sslsocket_PEM_cert_to_DER_cert(ours, &blen, &err);
	ck_assert_msg(back != NULL, "%s", err.reason);
	ck_assert_uint_eq(blen, (size_t)n);
	ck_assert(memcmp(back, der, blen) == 0);
	free(back);
	free(ours);
	free(theirs);
	OPENSSL_free(der);
	X509_free(x);
}
END_TEST

/* The lengths test_every_length tries: every tail length of the 48-byte
 * line and several lines. */
#define EVERY_MAX 200
#define EVERY_NEXT(len) ((len) + ((len) < 100 ? 1 : 7))

START_TEST(test_every_length)
{
	/* Arbitrary bytes (the DER is not parsed, as in Python). Python's
	 * answers for every length come from one python3 run (one start per
	 * length took longer than check's limit on a busy machine), each
	 * followed by a line "@". */
	unsigned char buf[EVERY_MAX];
	char cmd[512];
	char *all, *theirs;

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 37 + 11);
	snprintf(cmd, sizeof cmd,
	         "python3 -c \"import ssl,sys\n"
	         "b = bytes((i * 37 + 11) & 255 for i in range(%d))\n"
	         "n = 1\n"
	         "while n <= len(b):\n"
	         "    sys.stdout.write(ssl.DER_cert_to_PEM_cert(b[:n]) + '@\\n')\n"
	         "    n += 1 if n < 100 else 7\n\"",
	         EVERY_MAX);
	all = slurp_cmd(cmd);
	theirs = all;
	for (size_t len = 1; len <= sizeof buf; len = EVERY_NEXT(len)) {
		struct sslsocket_error err;
		char *ours = sslsocket_DER_cert_to_PEM_cert(buf, len, &err);
		char *end = strstr(theirs, "@\n");
		size_t blen;
		unsigned char *back;

		ck_assert_msg(end != NULL, "len %zu: python3 gave no answer", len);
		*end = '\0';
		ck_assert_msg(ours != NULL, "%s", err.reason);
		ck_assert_msg(strcmp(ours, theirs) == 0, "len %zu:\n%s\n--- python\n%s", len, ours,
		              theirs);
		theirs = end + 2;
		back = sslsocket_PEM_cert_to_DER_cert(ours, &blen, &err);
		ck_assert_msg(back != NULL, "len %zu: %s", len, err.reason);
		ck_assert_uint_eq(blen, len);
		ck_assert(memcmp(back, buf, len) == 0);
		free(back);
		free(ours);
	}
	ck_assert_str_eq(theirs, "");
	free(all);
}
END_TEST

START_TEST(test_empty_der_rejected)
{
	struct sslsocket_error err;
	unsigned char b = 0;

	ck_assert_ptr_null(sslsocket_DER_cert_to_PEM_cert(&b, 0, &err));
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	ck_assert_ptr_null(sslsocket_DER_cert_to_PEM_cert(NULL, 5, &err));
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
}
END_TEST

/* Accepted forms Python also accepts: CRLF, trailing blanks, no newlines
 * at all, odd line lengths. */
static const struct {
	const char *pem;
	const char *der;
} good[] = {
	{ HDR "\nYWJj\n" FTR "\n", "abc" },
	{ HDR "\r\nYWJj\r\n" FTR "\r\n", "abc" },
	{ HDR "YWJj" FTR, "abc" },
	{ HDR "\nYWJj\n" FTR "\n\n  \t\n", "abc" },
	{ HDR "\nYW\nJj\n" FTR "\n", "abc" },
	{ HDR "\n  YWJj  \n" FTR "\n", "abc" },
	{ HDR "\nYQ==\n" FTR "\n", "a" },
	{ HDR "\nYWI=\n" FTR "\n", "ab" },
	{ HDR "\nYWJjZA==\n" FTR "\n", "abcd" },
	{ HDR "\nYWJj ZA = =\n" FTR "\n", "abcd" },
};

START_TEST(test_good_forms)
{
	struct sslsocket_error err;
	size_t len;
	unsigned char *der = sslsocket_PEM_cert_to_DER_cert(good[_i].pem, &len, &err);
	char cmd[600];
	char *py;

	ck_assert_msg(der != NULL, "[%s]: %s", good[_i].pem, err.reason);
	ck_assert_uint_eq(len, strlen(good[_i].der));
	ck_assert(memcmp(der, good[_i].der, len) == 0);
	free(der);
	/* Python agrees. */
	snprintf(cmd, sizeof cmd,
	         "python3 -c \"import ssl,sys; sys.stdout.write(ssl.PEM_cert_to_DER_cert("
	         "bytes.fromhex(sys.argv[1]).decode()).decode('latin-1'))\" ");
	for (const unsigned char *p = (const unsigned char *)good[_i].pem; *p; p++)
		snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), "%02x", *p);
	py = slurp_cmd(cmd);
	ck_assert_str_eq(py, good[_i].der);
	free(py);
}
END_TEST

/* Malformed: each must be NULL with code VALUE. python_too says whether
 * Python rejects it as well (its base64 decoder skips junk and stops at
 * the first padding; we do not guess). */
static const struct {
	const char *pem;
	int python_too;
} bad[] = {
	{ "", 1 },
	{ "YWJj", 1 },
	{ " " HDR "\nYWJj\n" FTR "\n", 1 },
	{ "junk\n" HDR "\nYWJj\n" FTR "\n", 1 },
	{ HDR "\nYWJj\n", 1 },
	{ HDR "\nYWJj\n" FTR "junk", 1 },
	{ HDR "\nYWJj\n-----END CERTIFICATE----\n", 1 },
	{ "-----BEGIN PRIVATE KEY-----\nYWJj\n-----END PRIVATE KEY-----\n", 1 },
	{ "-----BEGIN X509 CRL-----\nYWJj\n" FTR "\n", 1 },
	{ HDR "\nYWJ\n" FTR "\n", 1 },
	{ HDR "\nY\n" FTR "\n", 1 },
	{ HDR "\nYWJjZ\n" FTR "\n", 1 },
	{ HDR "\nYQ=\n" FTR "\n", 1 },
	{ HDR FTR, 0 },
	{ HDR "\n\n" FTR "\n", 0 },
	{ HDR "\nYW*Jj\n" FTR "\n", 0 },
	{ HDR "\nYWJj!\n" FTR "\n", 0 },
	{ HDR "\nYWJj\x01\n" FTR "\n", 0 },
	{ HDR "\nYWJj\xc3\xa9\n" FTR "\n", 1 },
	{ HDR "\nYQ==YWJj\n" FTR "\n", 0 },
	{ HDR "\nYQ===\n" FTR "\n", 0 },
	{ HDR "\n=YWJj\n" FTR "\n", 0 },
	{ HDR "\nY=Jj\n" FTR "\n", 1 },
	{ HDR "\nYR==\n" FTR "\n", 0 },
	{ HDR "\nYWJ=\n" FTR "\n", 0 },
	{ HDR "\nYWJj\n" FTR "\n" HDR "\nYWJj\n" FTR "\n", 1 },
	{ HDR "\nYWJj-_\n" FTR "\n", 0 },
	{ FTR "\nYWJj\n" HDR "\n", 1 },
	{ HDR, 1 },
	{ HDR "-----END CERTIFICATE", 1 },
	{ "-----BEGIN CERTIFICATE----\nYWJj\n" FTR "\n", 1 },
};

START_TEST(test_bad_forms)
{
	struct sslsocket_error err = { 0 };
	size_t len = 77;
	unsigned char *der = sslsocket_PEM_cert_to_DER_cert(bad[_i].pem, &len, &err);
	char cmd[1200];
	FILE *p;
	char answer[32] = "";

	ck_assert_msg(der == NULL, "[%s] accepted", bad[_i].pem);
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	ck_assert_msg(strstr(err.reason, "PEM") != NULL, "reason: %s", err.reason);
	ck_assert_uint_eq(len, 0);
	/* Check our table's claim about Python (the leading x keeps an empty
	 * argument from vanishing). */
	snprintf(cmd, sizeof cmd,
	         "python3 -c \"import ssl,sys\ntry: ssl.PEM_cert_to_DER_cert("
	         "bytes.fromhex(sys.argv[1][1:]).decode('utf-8')); print('accepted')\n"
	         "except ValueError: print('rejected')\" x");
	for (const unsigned char *c = (const unsigned char *)bad[_i].pem; *c; c++)
		snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), "%02x", *c);
	p = popen(cmd, "r");
	ck_assert(p != NULL);
	ck_assert(fgets(answer, sizeof answer, p) != NULL);
	pclose(p);
	ck_assert_str_eq(answer, bad[_i].python_too ? "rejected\n" : "accepted\n");
}
END_TEST

START_TEST(test_null_arguments)
{
	struct sslsocket_error err;
	size_t len;

	ck_assert_ptr_null(sslsocket_PEM_cert_to_DER_cert(NULL, &len, &err));
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	ck_assert_ptr_null(sslsocket_PEM_cert_to_DER_cert(HDR "\nYWJj\n" FTR, NULL, &err));
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
}
END_TEST

Suite *cert_pem_suite(void)
{
	Suite *s = suite_create("cert_pem");
	TCase *tc = tcase_create("pem_der");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_cert_files, 0, (int)(sizeof certs / sizeof certs[0]));
	tcase_add_test(tc, test_every_length);
	tcase_add_test(tc, test_empty_der_rejected);
	tcase_add_loop_test(tc, test_good_forms, 0, (int)(sizeof good / sizeof good[0]));
	tcase_add_loop_test(tc, test_bad_forms, 0, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(tc, test_null_arguments);
	suite_add_tcase(s, tc);
	return s;
}
