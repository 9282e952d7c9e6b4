/*
 * check_cert.c - getpeercert()'s dictionary from real certificates,
 * compared byte for byte with what Python's own ssl module and pprint
 * print for the same file (python3 is the reference peer here).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cert_int.h"
#include "sslsocket.h"
#include "testutil.h"

/* Output of a shell command, trailing newlines removed; NULL if it failed. */
static char *capture(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int c;

	ck_assert_msg(f != NULL, "popen %s", cmd);
	while ((c = fgetc(f)) != EOF) {
		if (len + 2 > cap) {
			cap = cap ? cap * 2 : 1024;
			buf = realloc(buf, cap);
			ck_assert(buf != NULL);
		}
		buf[len++] = (char)c;
	}
	if (pclose(f) != 0) {
		free(buf);
		return NULL;
	}
	if (!buf)
		buf = calloc(1, 1);
	else
		buf[len] = '\0';
	while (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return buf;
}

static X509 *load(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	ck_assert_msg(f != NULL, "open %s", path);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_msg(x != NULL, "parse %s", path);
	return x;
}

static unsigned char *der_of(const char *path, size_t *len)
{
	X509 *x = load(path);
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);

	ck_assert(n > 0);
	X509_free(x);
	*len = (size_t)n;
	return der;
}

static char *python_pformat(const char *path)
{
	char cmd[1200];

	snprintf(cmd, sizeof cmd,
	         "python3 -c \"import ssl,pprint,sys; d=ssl._ssl._test_decode_cert(sys.argv[1]); "
	         "print(pprint.pformat({k:d[k] for k in ('subject','notAfter','subjectAltName') "
	         "if k in d}))\" '%s'",
	         path);
	return capture(cmd);
}

static const char *const certs[] = {
	"server.pem", "client.pem", "multirdn.pem", "wronghost.pem", "expired.pem",
	"selfsigned.pem", "rsa.pem", "ca.pem", "other-ca.pem",
};

START_TEST(test_matches_python)
{
	const char *path = tu_cert(certs[_i]);
	size_t len;
	unsigned char *der = der_of(path, &len);
	struct sslsocket_error err;
	struct sslsocket_certinfo *ci = sslsocket_certinfo_from_der(der, len, &err);
	char *ours, *theirs;

	ck_assert_msg(ci != NULL, "%s: %s", certs[_i], err.reason);
	ours = sslsocket_certinfo_format(ci);
	theirs = python_pformat(path);
	ck_assert_msg(theirs != NULL, "python3 failed on %s", path);
	ck_assert_msg(strcmp(ours, theirs) == 0, "%s:\n--- ours\n%s\n--- python\n%s", certs[_i],
	              ours, theirs);
	free(ours);
	free(theirs);
	sslsocket_certinfo_free(ci);
	OPENSSL_free(der);
}
END_TEST

START_TEST(test_multirdn_structure)
{
	size_t len;
	unsigned char *der = der_of(tu_cert("multirdn.pem"), &len);
	struct sslsocket_certinfo *ci = sslsocket_certinfo_from_der(der, len, NULL);

	ck_assert(ci != NULL);
	ck_assert_int_eq(ci->validated, 1);
	ck_assert_uint_eq(ci->subject_count, 6);
	/* OU=Multi+CN=multi.example is one RDN with two attributes. */
	ck_assert_uint_eq(ci->subject[2].count, 2);
	ck_assert_str_eq(ci->subject[2].attrs[0].name, "organizationalUnitName");
	ck_assert_str_eq(ci->subject[2].attrs[1].name, "commonName");
	ck_assert_str_eq(ci->subject[2].attrs[1].value, "multi.example");
	ck_assert_str_eq(ci->subject[3].attrs[0].name, "jurisdictionCountryName");
	ck_assert_str_eq(ci->subject[4].attrs[0].name, "1.2.3.4.5.6.7");
	ck_assert_str_eq(ci->subject[4].attrs[0].value, "custom value");
	ck_assert_uint_eq(ci->san_count, 4);
	ck_assert_str_eq(ci->subject_alt_name[1].value, "*.multi.example");
	ck_assert_str_eq(ci->subject_alt_name[3].name, "IP Address");
	ck_assert_str_eq(ci->subject_alt_name[3].value, "0:0:0:0:0:0:0:1");
	sslsocket_certinfo_free(ci);
	OPENSSL_free(der);
}
END_TEST

START_TEST(test_not_after_text)
{
	size_t len;
	unsigned char *der = der_of(tu_cert("expired.pem"), &len);
	struct sslsocket_certinfo *ci = sslsocket_certinfo_from_der(der, len, NULL);

	ck_assert(ci != NULL);
	ck_assert_str_eq(ci->not_after, "Jan 31 00:00:00 2020 GMT");
	sslsocket_certinfo_free(ci);
	OPENSSL_free(der);
}
END_TEST

START_TEST(test_not_validated_is_empty)
{
	X509 *x = load(tu_cert("server.pem"));
	struct sslsocket_certinfo *ci = core_certinfo_from_x509(x, 0, NULL);
	char *s;

	ck_assert(ci != NULL);
	ck_assert_int_eq(ci->validated, 0);
	ck_assert_uint_eq(ci->subject_count, 0);
	ck_assert_ptr_null(ci->not_after);
	s = sslsocket_certinfo_format(ci);
	ck_assert_str_eq(s, "{}");
	free(s);
	sslsocket_certinfo_free(ci);
	X509_free(x);
}
END_TEST

START_TEST(test_from_x509_keeps_reference)
{
	X509 *x = load(tu_cert("server.pem"));
	struct sslsocket_certinfo *ci = core_certinfo_from_x509(x, 1, NULL);

	ck_assert(ci != NULL);
	ck_assert_str_eq(ci->subject[5].attrs[0].value, "localhost");
	sslsocket_certinfo_free(ci);
	/* Still ours: usable, then freed once. */
	ck_assert(X509_get_subject_name(x) != NULL);
	X509_free(x);
}
END_TEST

START_TEST(test_bad_der)
{
	static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	struct sslsocket_error err;
	size_t len;
	unsigned char *der = der_of(tu_cert("server.pem"), &len);
	unsigned char *longer = malloc(len + 1);

	ck_assert_ptr_null(sslsocket_certinfo_from_der(NULL, 0, &err));
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	ck_assert_ptr_null(sslsocket_certinfo_from_der(junk, sizeof junk, &err));
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	ck_assert_msg(strstr(err.reason, "not a DER certificate") != NULL, "%s", err.reason);
	ck_assert_ptr_null(sslsocket_certinfo_from_der(der, len - 1, &err));
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	memcpy(longer, der, len);
	longer[len] = 0;
	ck_assert_ptr_null(sslsocket_certinfo_from_der(longer, len + 1, &err));
	ck_assert_msg(strstr(err.reason, "trailing") != NULL, "%s", err.reason);
	free(longer);
	OPENSSL_free(der);
}
END_TEST

START_TEST(test_free_null)
{
	sslsocket_certinfo_free(NULL);
	ck_assert_ptr_null(sslsocket_certinfo_format(NULL));
}
END_TEST

/* A certificate made here from a config file (so that quotes and
 * non-ASCII reach OpenSSL untouched): dn is the [dn] section's lines, ext
 * the [ext] section's. */
static char *make_cert(const char *name, const char *dn, const char *ext)
{
	static char path[600];
	char cnf[600], cmd[2000];
	FILE *f;

	snprintf(cnf, sizeof cnf, "%s/check-cert-%s-%d.cnf", tu_certs_dir(), name, (int)getpid());
	snprintf(path, sizeof path, "%s/check-cert-%s-%d.pem", tu_certs_dir(), name, (int)getpid());
	f = fopen(cnf, "w");
	ck_assert(f != NULL);
	fprintf(f, "[req]\nprompt = no\nutf8 = yes\nstring_mask = utf8only\n"
	           "distinguished_name = dn\n[dn]\n%s\n[ext]\n%s\n", dn, ext);
	fclose(f);
	snprintf(cmd, sizeof cmd,
	         "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	         "-keyout /dev/null -out '%s' -days 30 -config '%s' -extensions ext "
	         ">/dev/null 2>&1",
	         path, cnf);
	ck_assert_msg(system(cmd) == 0, "%s", cmd);
	unlink(cnf);
	return path;
}

static void compare_file(const char *path)
{
	size_t len;
	unsigned char *der = der_of(path, &len);
	struct sslsocket_error err;
	struct sslsocket_certinfo *ci = sslsocket_certinfo_from_der(der, len, &err);
	char *ours, *theirs;

	ck_assert_msg(ci != NULL, "%s", err.reason);
	ours = sslsocket_certinfo_format(ci);
	theirs = python_pformat(path);
	ck_assert(theirs != NULL);
	ck_assert_msg(strcmp(ours, theirs) == 0, "--- ours\n%s\n--- python\n%s", ours, theirs);
	free(ours);
	free(theirs);
	sslsocket_certinfo_free(ci);
	OPENSSL_free(der);
	unlink(path);
}

START_TEST(test_other_san_kinds)
{
	compare_file(make_cert("kinds",
	                       "CN = kinds.example\nO = It's \"quoted\" \\\\ here",
	                       "subjectAltName = DNS:a.example, email:someone@example.com, "
	                       "URI:https://example.com/a?b=c, RID:1.2.3.4, "
	                       "otherName:1.2.3.4;UTF8:some other name, IP:fe80::1:abcd"));
}
END_TEST

START_TEST(test_non_ascii_subject)
{
	compare_file(make_cert("utf8",
	                       "CN = B\xc3\xa9la \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac\n"
	                       /* 64 characters, OpenSSL's upper bound for O */
	                       "O = An organisation whose name makes pprint cut it into pieces\n"
	                       "1.2.3.4.5 = an attribute without a name whose value is much longer "
	                       "than the 64 characters of the named ones, to force a split\n"
	                       "OU = tab\there",
	                       "subjectAltName = DNS:xn--bla-bma.example"));
}
END_TEST

START_TEST(test_dirname_value)
{
	/* Python gives a nested RDN tuple for a DirName; a (name, value)
	 * pair of strings holds its RFC 2253 text instead. */
	const char *path = make_cert("dirname", "CN = d.example",
	                             "subjectAltName = dirName:dir_sect\n"
	                             "[dir_sect]\nC = US\nO = Dir Org\nCN = dir.example");
	size_t len;
	unsigned char *der = der_of(path, &len);
	struct sslsocket_certinfo *ci = sslsocket_certinfo_from_der(der, len, NULL);

	ck_assert(ci != NULL);
	ck_assert_uint_eq(ci->san_count, 1);
	ck_assert_str_eq(ci->subject_alt_name[0].name, "DirName");
	ck_assert_str_eq(ci->subject_alt_name[0].value, "CN=dir.example,O=Dir Org,C=US");
	sslsocket_certinfo_free(ci);
	OPENSSL_free(der);
	unlink(path);
}
END_TEST

Suite *cert_suite(void)
{
	Suite *s = suite_create("cert");
	TCase *tc = tcase_create("certinfo");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_matches_python, 0, (int)(sizeof certs / sizeof certs[0]));
	tcase_add_test(tc, test_multirdn_structure);
	tcase_add_test(tc, test_not_after_text);
	tcase_add_test(tc, test_not_validated_is_empty);
	tcase_add_test(tc, test_from_x509_keeps_reference);
	tcase_add_test(tc, test_bad_der);
	tcase_add_test(tc, test_free_null);
	tcase_add_test(tc, test_other_san_kinds);
	tcase_add_test(tc, test_non_ascii_subject);
	tcase_add_test(tc, test_dirname_value);
	suite_add_tcase(s, tc);
	return s;
}
