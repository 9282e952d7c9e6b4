/*
 * check_cert_x509.c - getpeercert()'s dictionary of certificates built in
 * memory with what a CA tool will not write: NUL bytes and invalid UTF-8
 * in names, odd IP lengths, several or empty subjectAltName extensions,
 * BMPString and T61String values, far-future and fractional times.
 * Wherever Python gives an answer, ours is compared with it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert_int.h"
#include "sslsocket.h"

static EVP_PKEY *key(void)
{
	static EVP_PKEY *k;

	if (!k)
		k = EVP_EC_gen("P-256");
	ck_assert(k != NULL);
	return k;
}

/* A signed self-issued certificate with subject CN=cn, notAfter as the
 * GeneralizedTime text gt (NULL: 30 days) and no extensions yet. */
static X509 *base_cert(const char *cn, const char *gt)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	ck_assert(x && n);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_NAME_free(n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	if (gt)
		ck_assert(ASN1_TIME_set_string(X509_getm_notAfter(x), gt) == 1);
	else
		X509_gmtime_adj(X509_getm_notAfter(x), 30 * 86400);
	X509_set_pubkey(x, key());
	return x;
}

static void add_san(X509 *x, GENERAL_NAMES *names)
{
	X509_EXTENSION *ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, names);

	ck_assert(ext != NULL);
	/* X509_add_ext appends even when one exists: several extensions. */
	ck_assert(X509_add_ext(x, ext, -1) == 1);
	X509_EXTENSION_free(ext);
	GENERAL_NAMES_free(names);
}

static GENERAL_NAME *ia5_name(int type, const char *bytes, int len)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	ck_assert(g && s);
	ASN1_STRING_set(s, bytes, len);
	GENERAL_NAME_set0_value(g, type, s);
	return g;
}

static GENERAL_NAME *ip_name(const unsigned char *ip, int len)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();

	ck_assert(g && s);
	ASN1_OCTET_STRING_set(s, ip, len);
	GENERAL_NAME_set0_value(g, GEN_IPADD, s);
	return g;
}

static GENERAL_NAMES *names_of(GENERAL_NAME *a, GENERAL_NAME *b)
{
	GENERAL_NAMES *n = GENERAL_NAMES_new();

	ck_assert(n != NULL);
	if (a)
		sk_GENERAL_NAME_push(n, a);
	if (b)
		sk_GENERAL_NAME_push(n, b);
	return n;
}

static void sign(X509 *x)
{
	ck_assert(X509_sign(x, key(), EVP_sha256()) > 0);
}

/* Ours and Python's dictionary text of x. */
static void compare_with_python(X509 *x)
{
	char path[] = "/tmp/check_cert_x509.XXXXXX";
	char cmd[800], buf[8192];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w"), *p;
	struct sslsocket_error err;
	struct sslsocket_certinfo *ci;
	char *ours;
	size_t n;

	ck_assert(f != NULL);
	ck_assert(PEM_write_X509(f, x) == 1);
	fclose(f);
	snprintf(cmd, sizeof cmd,
	         "python3 -c \"import ssl,pprint,sys; d=ssl._ssl._test_decode_cert(sys.argv[1]); "
	         "print(pprint.pformat({k:d[k] for k in ('subject','notAfter','subjectAltName') "
	         "if k in d}), end='')\" %s",
	         path);
	p = popen(cmd, "r");
	ck_assert(p != NULL);
	n = fread(buf, 1, sizeof buf - 1, p);
	buf[n] = '\0';
	ck_assert_int_eq(pclose(p), 0);
	unlink(path);
	ci = core_certinfo_from_x509(x, 1, &err);
	ck_assert_msg(ci != NULL, "%s", err.reason);
	ours = sslsocket_certinfo_format(ci);
	ck_assert_msg(strcmp(ours, buf) == 0, "--- ours\n%s\n--- python\n%s", ours, buf);
	free(ours);
	sslsocket_certinfo_free(ci);
}

static void expect_error(X509 *x, int code, const char *reason)
{
	struct sslsocket_error err = { 0 };
	struct sslsocket_certinfo *ci = core_certinfo_from_x509(x, 1, &err);

	ck_assert_ptr_null(ci);
	ck_assert_int_eq(err.code, code);
	ck_assert_msg(strstr(err.reason, reason) != NULL, "reason [%s], want [%s]", err.reason,
	              reason);
}

START_TEST(test_nul_in_dns_name)
{
	/* CVE-2013-4238: never cut "good.example\0.evil.example" short. */
	static const char name[] = "good.example\0.evil.example";
	X509 *x = base_cert("nul.example", NULL);

	add_san(x, names_of(ia5_name(GEN_DNS, name, (int)sizeof name - 1), NULL));
	sign(x);
	expect_error(x, SSLSOCKET_ERROR_VALUE, "NUL");
	X509_free(x);
}
END_TEST

START_TEST(test_invalid_utf8_in_uri)
{
	X509 *x = base_cert("utf8.example", NULL);

	add_san(x, names_of(ia5_name(GEN_URI, "http://\xff\xfe/", 9), NULL));
	sign(x);
	expect_error(x, SSLSOCKET_ERROR_VALUE, "UTF-8");
	X509_free(x);
}
END_TEST

START_TEST(test_nul_in_subject)
{
	X509 *x = base_cert("x", NULL);
	X509_NAME *n = X509_NAME_new();

	X509_NAME_add_entry_by_txt(n, "CN", V_ASN1_UTF8STRING, (const unsigned char *)"a\0b", 3, -1,
	                           0);
	X509_set_subject_name(x, n);
	X509_NAME_free(n);
	expect_error(x, SSLSOCKET_ERROR_VALUE, "NUL");
	X509_free(x);
}
END_TEST

START_TEST(test_odd_ip_length_and_email)
{
	static const unsigned char ip5[] = { 1, 2, 3, 4, 5 };
	static const unsigned char ip6[] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
		                             0, 0, 0xab, 0xcd, 0, 0, 0, 0x01 };
	X509 *x = base_cert("ip.example", NULL);

	GENERAL_NAMES *n = names_of(ip_name(ip5, 5), ip_name(ip6, 16));

	sk_GENERAL_NAME_push(n, ia5_name(GEN_EMAIL, "a@b.example", 11));
	add_san(x, n);
	sign(x);
	compare_with_python(x);
	X509_free(x);
}
END_TEST

START_TEST(test_duplicate_san_extensions)
{
	/* Two subjectAltName extensions (forbidden by RFC 5280): Python
	 * shows none of them, and so do we. */
	X509 *x = base_cert("dup.example", NULL);
	struct sslsocket_certinfo *ci;

	add_san(x, names_of(ia5_name(GEN_DNS, "one.example", 11), NULL));
	add_san(x, names_of(ia5_name(GEN_DNS, "two.example", 11), NULL));
	sign(x);
	ci = core_certinfo_from_x509(x, 1, NULL);
	ck_assert(ci != NULL);
	ck_assert_uint_eq(ci->san_count, 0);
	ck_assert_ptr_null(ci->subject_alt_name);
	sslsocket_certinfo_free(ci);
	compare_with_python(x);
	X509_free(x);
}
END_TEST

START_TEST(test_empty_san_extension)
{
	X509 *x = base_cert("empty.example", NULL);
	struct sslsocket_certinfo *ci;

	add_san(x, names_of(NULL, NULL));
	sign(x);
	ci = core_certinfo_from_x509(x, 1, NULL);
	ck_assert(ci != NULL);
	ck_assert_uint_eq(ci->san_count, 0);
	ck_assert_ptr_nonnull(ci->subject_alt_name); /* present, empty: () */
	sslsocket_certinfo_free(ci);
	compare_with_python(x);
	X509_free(x);
}
END_TEST

START_TEST(test_string_types)
{
	/* BMPString (UTF-16BE) and T61String (read as Latin-1) both come
	 * out as UTF-8, as ASN1_STRING_to_UTF8 makes them for Python. */
	static const unsigned char bmp[] = { 0x00, 'B', 0x00, 0xe9, 0x65, 0xe5, 0xd8, 0x3d, 0xde, 0x00 };
	X509 *x = base_cert("types.example", NULL);
	X509_NAME *n = X509_NAME_new();

	X509_NAME_add_entry_by_txt(n, "O", V_ASN1_BMPSTRING, bmp, (int)sizeof bmp, -1, 0);
	X509_NAME_add_entry_by_txt(n, "OU", V_ASN1_T61STRING, (const unsigned char *)"caf\xe9", 4, -1,
	                           0);
	X509_NAME_add_entry_by_txt(n, "CN", V_ASN1_PRINTABLESTRING, (const unsigned char *)"p", 1, -1,
	                           0);
	X509_NAME_add_entry_by_txt(n, "L", V_ASN1_IA5STRING, (const unsigned char *)"ia5", 3, -1, 1);
	X509_set_subject_name(x, n);
	X509_NAME_free(n);
	sign(x);
	compare_with_python(x);
	X509_free(x);
}
END_TEST

START_TEST(test_times)
{
	static const char *const times[] = {
		"21000101000000Z",   /* GeneralizedTime past 2049 */
		"20290509000000Z",   /* two-space day padding: "May  9" */
		"20291231235959Z",
		"20300101000000.5Z", /* fractional seconds */
	};

	for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
		X509 *x = base_cert("time.example", times[i]);
		sign(x);
		compare_with_python(x);
		X509_free(x);
	}
}
END_TEST

START_TEST(test_not_after_reads_back)
{
	/* notAfter as printed is what cert_time_to_seconds takes. */
	X509 *x = base_cert("t.example", "20290509010203Z");
	struct sslsocket_certinfo *ci = core_certinfo_from_x509(x, 1, NULL);
	time_t t;

	ck_assert(ci != NULL);
	ck_assert_str_eq(ci->not_after, "May  9 01:02:03 2029 GMT");
	ck_assert_int_eq(sslsocket_cert_time_to_seconds(ci->not_after, &t, NULL), 0);
	ck_assert_int_eq((long long)t, 1872982923LL);
	sslsocket_certinfo_free(ci);
	X509_free(x);
}
END_TEST

START_TEST(test_null_x509)
{
	struct sslsocket_error err;

	ck_assert_ptr_null(core_certinfo_from_x509(NULL, 1, &err));
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
}
END_TEST

Suite *cert_x509_suite(void)
{
	Suite *s = suite_create("cert_x509");
	TCase *tc = tcase_create("built");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_nul_in_dns_name);
	tcase_add_test(tc, test_invalid_utf8_in_uri);
	tcase_add_test(tc, test_nul_in_subject);
	tcase_add_test(tc, test_odd_ip_length_and_email);
	tcase_add_test(tc, test_empty_san_extension);
	tcase_add_test(tc, test_duplicate_san_extensions);
	tcase_add_test(tc, test_string_types);
	tcase_add_test(tc, test_times);
	tcase_add_test(tc, test_not_after_reads_back);
	tcase_add_test(tc, test_null_x509);
	suite_add_tcase(s, tc);
	return s;
}
