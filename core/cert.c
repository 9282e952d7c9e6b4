/*
 * cert.c - getpeercert()'s dictionary: subject, notAfter, subjectAltName,
 * decoded the way CPython's _ssl.c (_decode_certificate) does, so that the
 * formatter can print what Python's own ssl module prints.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ossl_int.h"

#include "cert_int.h"

void core_cert_error_set(struct sslsocket_error *err, int code, const char *fmt, ...)
{
	int saved = errno;
	unsigned long e = ERR_peek_error();

	if (err) {
		va_list ap;
		size_t n;

		memset(err, 0, sizeof *err);
		err->code = code;
		err->sys_errno = saved;
		err->ossl_error = e;
		va_start(ap, fmt);
		vsnprintf(err->reason, sizeof err->reason, fmt, ap);
		va_end(ap);
		n = strlen(err->reason);
		if (e != 0 && n + 3 < sizeof err->reason) {
			const char *r = ERR_reason_error_string(e);
			if (r)
				snprintf(err->reason + n, sizeof err->reason - n, ": %s", r);
		}
	}
	ERR_clear_error();
	errno = saved;
}

static int push_attr(struct sslsocket_attr **v, size_t *n, char *name, char *value)
{
	struct sslsocket_attr *nv = realloc(*v, (*n + 1) * sizeof **v);

	if (!nv) {
		free(name);
		free(value);
		return -1;
	}
	nv[*n].name = name;
	nv[*n].value = value;
	*v = nv;
	(*n)++;
	return 0;
}

/* Strict UTF-8 (what Python's PyUnicode_FromStringAndSize accepts). */
static int utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			k = 1, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			k = 2, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (k >= n - i)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* A C string from counted bytes that must be UTF-8 without NUL: a NUL
 * would silently cut "good.example\0.evil.example" short (CVE-2013-4238),
 * so such a value is an error rather than a truncated name. */
static char *text_dup(const unsigned char *s, size_t n, const char *what,
                      struct sslsocket_error *err)
{
	char *out;

	if (memchr(s, 0, n)) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE,
		                    "certificate %s contains a NUL byte", what);
		return NULL;
	}
	if (!utf8_valid(s, n)) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE,
		                    "certificate %s is not valid UTF-8", what);
		return NULL;
	}
	out = malloc(n + 1);
	if (!out) {
		core_cert_error_set(err, SSLSOCKET_ERROR_SSL, "out of memory");
		return NULL;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

/* OBJ_obj2txt with no_name = 0: the long name ("commonName",
 * "jurisdictionCountryName"), or the dotted OID when OpenSSL has none. */
static char *obj_text(const ASN1_OBJECT *o, struct sslsocket_error *err)
{
	char small[128];
	int n = OBJ_obj2txt(small, sizeof small, o, 0);
	char *out;

	if (n < 0) {
		core_cert_error_set(err, SSLSOCKET_ERROR_SSL, "cannot name an object identifier");
		return NULL;
	}
	out = malloc((size_t)n + 1);
	if (!out) {
		core_cert_error_set(err, SSLSOCKET_ERROR_SSL, "out of memory");
		return NULL;
	}
	if ((size_t)n < sizeof small)
		memcpy(out, small, (size_t)n + 1);
	else
		OBJ_obj2txt(out, n + 1, o, 0);
	return out;
}

static void rdns_free(struct sslsocket_rdn *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < r[i].count; j++) {
			free(r[i].attrs[j].name);
			free(r[i].attrs[j].value);
		}
		free(r[i].attrs);
	}
	free(r);
}

/* The RDN sequence: entries that share X509_NAME_ENTRY_set() form one
 * (multi-valued) RDN, as in CPython's _create_tuple_for_X509_NAME. */
static int name_to_rdns(const X509_NAME *xn, struct sslsocket_rdn **out, size_t *count,
                        struct sslsocket_error *err)
{
	struct sslsocket_rdn *rdns = NULL;
	size_t n = 0;
	int last_set = -1;

	for (int i = 0; i < X509_NAME_entry_count(xn); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(xn, i);
		int set = X509_NAME_ENTRY_set(e);
		unsigned char *utf8 = NULL;
		char *name, *value;
		int len;

		if (n == 0 || set != last_set) {
			struct sslsocket_rdn *nr = realloc(rdns, (n + 1) * sizeof *rdns);
			if (!nr)
				goto oom;
			rdns = nr;
			rdns[n].count = 0;
			rdns[n].attrs = NULL;
			n++;
		}
		last_set = set;
		name = obj_text(X509_NAME_ENTRY_get_object(e), err);
		if (!name)
			goto fail;
		len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
		if (len < 0) {
			core_cert_error_set(err, SSLSOCKET_ERROR_SSL,
			                    "cannot decode the subject attribute %s", name);
			free(name);
			goto fail;
		}
		value = text_dup(utf8, (size_t)len, "subject attribute", err);
		OPENSSL_free(utf8);
		if (!value) {
			free(name);
			goto fail;
		}
		if (push_attr(&rdns[n - 1].attrs, &rdns[n - 1].count, name, value) < 0)
			goto oom;
	}
	*out = rdns;
	*count = n;
	return 0;
oom:
	core_cert_error_set(err, SSLSOCKET_ERROR_SSL, "out of memory");
fail:
	rdns_free(rdns, n);
	return -1;
}

/* ASN1_TIME_print's text, "Feb 26 00:39:28 2029 GMT" (day padded with a
 * space), exactly what Python puts in notAfter. */
static char *time_text(const ASN1_TIME *t, struct sslsocket_error *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	char buf[128];
	char *out = NULL;
	int n;

	if (!b || ASN1_TIME_print(b, t) != 1 || (n = BIO_gets(b, buf, sizeof buf)) <= 0) {
		core_cert_error_set(err, SSLSOCKET_ERROR_SSL, "cannot print the certificate's notAfter");
		goto done;
	}
	out = strdup(buf);
	if (!out)
		core_cert_error_set(err, SSLSOCKET_ERROR_SSL, "out of memory");
done:
	BIO_free(b);
	return out;
}

static char *ip_text(const ASN1_OCTET_STRING *ip)
{
	const unsigned char *p = ASN1_STRING_get0_data(ip);
	char buf[64];

	/* CPython prints IPv6 as eight uncompressed upper-case groups
	 * (sprintf "%X:%X:..."), not as inet_ntop would. */
	if (ASN1_STRING_length(ip) == 4)
		snprintf(buf, sizeof buf, "%d.%d.%d.%d", p[0], p[1], p[2], p[3]);
	else if (ASN1_STRING_length(ip) == 16)
		snprintf(buf, sizeof buf, "%X:%X:%X:%X:%X:%X:%X:%X", p[0] << 8 | p[1],
		         p[2] << 8 | p[3], p[4] << 8 | p[5], p[6] << 8 | p[7], p[8] << 8 | p[9],
		         p[10] << 8 | p[11], p[12] << 8 | p[13], p[14] << 8 | p[15]);
	else
		snprintf(buf, sizeof buf, "<invalid>");
	return strdup(buf);
}

/* The other kinds as CPython shows them: GENERAL_NAME_print's first line
 * split at the first ':' ("othername:<unsupported>" becomes
 * ('othername', '<unsupported>')). */
static int general_name_printed(GENERAL_NAME *g, char **name, char **value,
                                struct sslsocket_error *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	char buf[2048];
	char *colon;
	int n;

	*name = *value = NULL;
	if (!b || GENERAL_NAME_print(b, g) != 1 || (n = BIO_gets(b, buf, sizeof buf)) <= 0) {
		BIO_free(b);
		core_cert_error_set(err, SSLSOCKET_ERROR_SSL, "cannot print a subjectAltName entry");
		return -1;
	}
	BIO_free(b);
	colon = strchr(buf, ':');
	if (!colon) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE, "invalid subjectAltName entry %.200s", buf);
		return -1;
	}
	*name = text_dup((unsigned char *)buf, (size_t)(colon - buf), "subjectAltName", err);
	if (*name)
		*value = text_dup((unsigned char *)colon + 1, strlen(colon + 1), "subjectAltName", err);
	if (!*name || !*value) {
		free(*name);
		*name = NULL;
		return -1;
	}
	return 0;
}

/* DirName: Python gives a nested RDN tuple, which an (name, value) pair of
 * strings cannot hold; the value is the RFC 2253 text of the name. */
static char *dirname_text(const X509_NAME *xn, struct sslsocket_error *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (!b || X509_NAME_print_ex(b, xn, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
		core_cert_error_set(err, SSLSOCKET_ERROR_SSL, "cannot print a DirName");
		goto done;
	}
	n = BIO_get_mem_data(b, &data);
	out = text_dup((unsigned char *)data, (size_t)n, "subjectAltName DirName", err);
done:
	BIO_free(b);
	return out;
}

static int general_name(GENERAL_NAME *g, struct sslsocket_attr **v, size_t *n,
                        struct sslsocket_error *err)
{
	const char *kind = NULL;
	char *name = NULL, *value = NULL;

	switch (g->type) {
	case GEN_DNS:
		kind = "DNS";
		break;
	case GEN_EMAIL:
		kind = "email";
		break;
	case GEN_URI:
		kind = "URI";
		break;
	case GEN_IPADD:
		name = strdup("IP Address");
		value = ip_text(g->d.ip);
		break;
	case GEN_RID:
		name = strdup("Registered ID");
		value = obj_text(g->d.rid, err);
		if (!value) {
			free(name);
			return -1;
		}
		break;
	case GEN_DIRNAME:
		name = strdup("DirName");
		value = dirname_text(g->d.dirn, err);
		if (!value) {
			free(name);
			return -1;
		}
		break;
	default:
		if (general_name_printed(g, &name, &value, err) < 0)
			return -1;
		break;
	}
	if (kind) {
		/* ia5 bytes taken as they are (not GENERAL_NAME_print, which
		 * stops at a NUL: CVE-2013-4238). */
		const ASN1_STRING *s = g->d.ia5;
		value = text_dup(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s),
		                 "subjectAltName", err);
		if (!value)
			return -1;
		name = strdup(kind);
	}
	if (!name || !value) {
		free(name);
		free(value);
		core_cert_error_set(err, SSLSOCKET_ERROR_SSL, "out of memory");
		return -1;
	}
	if (push_attr(v, n, name, value) < 0) {
		core_cert_error_set(err, SSLSOCKET_ERROR_SSL, "out of memory");
		return -1;
	}
	return 0;
}

/* The subjectAltName extension as CPython reads it: X509_get_ext_d2i,
 * which yields nothing when the extension is missing, appears more than
 * once or does not decode (then there is no subjectAltName key; OpenSSL's
 * verification rejects such certificates anyway). An extension with no
 * names is Python's empty tuple: a non-NULL array with san_count 0. */
static int alt_names(X509 *x, struct sslsocket_certinfo *ci, struct sslsocket_error *err)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int rc = 0;

	ERR_clear_error();
	if (!names)
		return 0;
	ci->subject_alt_name = calloc(1, sizeof *ci->subject_alt_name);
	if (!ci->subject_alt_name) {
		GENERAL_NAMES_free(names);
		core_cert_error_set(err, SSLSOCKET_ERROR_SSL, "out of memory");
		return -1;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(names) && rc == 0; i++)
		rc = general_name(sk_GENERAL_NAME_value(names, i), &ci->subject_alt_name,
		                  &ci->san_count, err);
	GENERAL_NAMES_free(names);
	return rc;
}

struct sslsocket_certinfo *core_certinfo_from_x509(X509 *x, int validated,
                                                   struct sslsocket_error *err)
{
	struct sslsocket_certinfo *ci;

	if (!x) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE, "no certificate");
		return NULL;
	}
	ci = calloc(1, sizeof *ci);
	if (!ci) {
		core_cert_error_set(err, SSLSOCKET_ERROR_SSL, "out of memory");
		return NULL;
	}
	ci->validated = validated ? 1 : 0;
	if (!ci->validated)
		return ci;
	if (name_to_rdns(X509_get_subject_name(x), &ci->subject, &ci->subject_count, err) < 0)
		goto fail;
	ci->not_after = time_text(X509_get0_notAfter(x), err);
	if (!ci->not_after)
		goto fail;
	if (alt_names(x, ci, err) < 0)
		goto fail;
	return ci;
fail:
	sslsocket_certinfo_free(ci);
	return NULL;
}

struct sslsocket_certinfo *sslsocket_certinfo_from_der(const unsigned char *der, size_t len,
                                                       struct sslsocket_error *err)
{
	const unsigned char *p = der;
	struct sslsocket_certinfo *ci;
	X509 *x;

	if (!der || len == 0 || len > (size_t)0x7fffffff) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE, "empty or oversized DER certificate");
		return NULL;
	}
	x = d2i_X509(NULL, &p, (long)len);
	if (!x) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE, "not a DER certificate");
		return NULL;
	}
	if (p != der + len) {
		X509_free(x);
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE,
		                    "%zu bytes of trailing data after the DER certificate",
		                    (size_t)(der + len - p));
		return NULL;
	}
	ci = core_certinfo_from_x509(x, 1, err);
	X509_free(x);
	return ci;
}

void sslsocket_certinfo_free(struct sslsocket_certinfo *ci)
{
	if (!ci)
		return;
	rdns_free(ci->subject, ci->subject_count);
	free(ci->not_after);
	for (size_t i = 0; i < ci->san_count; i++) {
		free(ci->subject_alt_name[i].name);
		free(ci->subject_alt_name[i].value);
	}
	free(ci->subject_alt_name);
	free(ci);
}
