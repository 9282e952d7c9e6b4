/* check_identity: allow_names and pin_sha256 (core/identity_parse.c,
 * core/identity.c). Tables for the matchers (DNS wildcard rules, URI `*`
 * and `**`, CN, IP), the parsers' refusals, pins; then the check of whole
 * certificates built in memory, with what the refusal says the peer
 * presented; and a real handshake over a socket pair refused in the verify
 * callback, in both directions. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "identity_int.h"
#include "testutil.h"

/* ---- DNS ------------------------------------------------------------------ */

static const struct {
	const char *pattern, *name;
	int match;
} dns_cases[] = {
	{ "db.internal", "db.internal", 1 },
	{ "db.internal", "DB.Internal", 1 },
	{ "db.internal", "db.internal.", 1 },
	{ "db.internal", "db.internal.evil", 0 },
	{ "db.internal", "xdb.internal", 0 },
	{ "db.internal", "*.internal", 0 },        /* a certificate wildcard is not db */
	{ "*.example.com", "a.example.com", 1 },
	{ "*.example.com", "A.EXAMPLE.COM.", 1 },
	{ "*.example.com", "example.com", 0 },     /* not the bare domain */
	{ "*.example.com", "a.b.example.com", 0 }, /* one label only */
	{ "*.example.com", ".example.com", 0 },
	{ "*.example.com", "aexample.com", 0 },
	{ "*.example.com", "*.example.com", 1 },   /* the same wildcard */
	{ "*.example.com", "a*.example.com", 0 },
	{ "*.example.com", "a.example.com.evil", 0 },
	{ "*.example.com", "", 0 },
};

START_TEST(dns_match)
{
	const char *n = dns_cases[_i].name;
	ck_assert_msg(core_dns_pattern_match(dns_cases[_i].pattern, n, strlen(n)) == dns_cases[_i].match,
	              "%s vs %s", dns_cases[_i].pattern, n);
}
END_TEST

START_TEST(dns_embedded_nul)
{
	ck_assert_int_eq(core_dns_pattern_match("db.internal", "db.internal\0.evil", 17), 0);
	ck_assert_int_eq(core_dns_pattern_match("*.example.com", "a\0.example.com", 14), 0);
}
END_TEST

/* ---- URI ------------------------------------------------------------------ */

static const struct {
	const char *pattern, *uri;
	int match;
} uri_cases[] = {
	{ "spiffe://example.org/ns/prod/sa/web", "spiffe://example.org/ns/prod/sa/web", 1 },
	{ "spiffe://example.org/ns/prod/sa/web", "SPIFFE://Example.ORG/ns/prod/sa/web", 1 },
	{ "spiffe://example.org/ns/prod/sa/web", "spiffe://example.org/ns/prod/sa/WEB", 0 },
	{ "spiffe://example.org/ns/prod/sa/web", "spiffe://example.org/ns/prod/sa/web/x", 0 },
	{ "spiffe://example.org/ns/prod/sa/web", "spiffe://example.org/ns/prod/sa", 0 },
	{ "spiffe://example.org/ns/prod/sa/web", "spiffe://example.org.evil/ns/prod/sa/web", 0 },
	{ "spiffe://example.org/ns/prod/sa/web", "spiffe://other.org/ns/prod/sa/web", 0 },
	{ "spiffe://example.org/ns/*/sa/web", "spiffe://example.org/ns/dev/sa/web", 1 },
	{ "spiffe://example.org/ns/*/sa/web", "spiffe://example.org/ns/a/b/sa/web", 0 },
	{ "spiffe://example.org/ns/*/sa/web", "spiffe://example.org/ns//sa/web", 0 },
	{ "spiffe://example.org/ns/prod/**", "spiffe://example.org/ns/prod/sa/web", 1 },
	{ "spiffe://example.org/ns/prod/**", "spiffe://example.org/ns/prod/x", 1 },
	{ "spiffe://example.org/ns/prod/**", "spiffe://example.org/ns/prod", 0 },
	{ "spiffe://example.org/ns/prod/**", "spiffe://example.org/ns/prod/", 0 },
	{ "spiffe://example.org/ns/prod/**", "spiffe://example.org/ns/production/x", 0 },
	{ "spiffe://example.org/**", "spiffe://example.org/a", 1 },
	{ "spiffe://example.org/*", "spiffe://example.org/a/b", 0 },
	{ "spiffe://example.org", "spiffe://example.org", 1 },
	{ "spiffe://example.org", "spiffe://example.org/a", 0 },
	{ "spiffe://example.org/web", "https://example.org/web", 0 },
	{ "spiffe://example.org/web", "spiffe:/example.org/web", 0 },
	{ "spiffe://example.org/web", "", 0 },
};

START_TEST(uri_match)
{
	const char *u = uri_cases[_i].uri;
	ck_assert_msg(core_uri_pattern_match(uri_cases[_i].pattern, u, strlen(u)) == uri_cases[_i].match,
	              "%s vs %s", uri_cases[_i].pattern, u);
}
END_TEST

/* ---- entries -------------------------------------------------------------- */

static const struct {
	const char *entry;
	int kind;           /* 0: refused */
	const char *text;   /* normalized, or a piece of the reason */
} entry_cases[] = {
	{ "db.internal", CORE_NAME_DNS, "db.internal" },
	{ "DB.Internal.", CORE_NAME_DNS, "db.internal" },
	{ "*.Example.com", CORE_NAME_DNS, "*.example.com" },
	{ "10.0.0.1", CORE_NAME_IP, "10.0.0.1" },
	{ "fd00::1", CORE_NAME_IP, "fd00::1" },
	{ "spiffe://example.org/ns/*/sa/**", CORE_NAME_URI, "spiffe://example.org/ns/*/sa/**" },
	{ "spiffe://example.org", CORE_NAME_URI, "spiffe://example.org" },
	{ "CN=web client", CORE_NAME_CN, "web client" },
	{ "", 0, "empty entry" },
	{ "CN=", 0, "empty common name" },
	{ "*", 0, "whole first label" },
	{ "*example.com", 0, "whole first label" },
	{ "a.*.example.com", 0, "whole first label" },
	{ "*.*.example.com", 0, "whole first label" },
	{ "a..b", 0, "empty label" },
	{ "bad name", 0, "0x20" },
	{ "a/b", 0, "0x2f" },
	{ "spiffe://example.org/ns/p*/x", 0, "whole path segment" },
	{ "spiffe://example.org/**/x", 0, "last segment" },
	{ "spiffe://*.example.org/x", 0, "only in the path" },
	{ "spiffe://example.org//x", 0, "empty path segment" },
	{ "spiffe://example.org/x/", 0, "empty path segment" },
	{ "spiffe://example.org/x?y=1", 0, "query or fragment" },
	{ "spiffe:///x", 0, "not a URI pattern" },
	{ "1spiffe://example.org/x", 0, "not a URI pattern" },
	{ "spiffe://example.org/x y", 0, "0x20" },
};

START_TEST(entry_parse)
{
	struct core_name_pattern p;
	char why[200] = "";
	int r = core_allow_name_parse(entry_cases[_i].entry, &p, why, sizeof why);
	if (entry_cases[_i].kind) {
		ck_assert_msg(r == 0, "%s: %s", entry_cases[_i].entry, why);
		ck_assert_int_eq(p.kind, entry_cases[_i].kind);
		ck_assert_str_eq(p.text, entry_cases[_i].text);
		core_name_pattern_clear(&p);
	} else {
		ck_assert_msg(r == -1, "%s accepted", entry_cases[_i].entry);
		ck_assert_msg(strstr(why, entry_cases[_i].text), "%s: [%s]", entry_cases[_i].entry, why);
		ck_assert_ptr_null(p.text);
	}
	/* the public check agrees */
	struct sslsocket_error e;
	memset(&e, 0, sizeof e);
	ck_assert_int_eq(sslsocket_allow_name_parse(entry_cases[_i].entry, &e),
	                 entry_cases[_i].kind ? 0 : -1);
}
END_TEST

START_TEST(entry_long)
{
	char big[4000];
	char why[200];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_int_eq(core_allow_name_parse(big, NULL, why, sizeof why), -1);
	/* a 64-byte label */
	memset(big, 'a', 64);
	strcpy(big + 64, ".example");
	ck_assert_int_eq(core_allow_name_parse(big, NULL, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "63"));
	ck_assert_int_eq(core_allow_name_parse(NULL, NULL, why, sizeof why), -1);
}
END_TEST

/* ---- pins ----------------------------------------------------------------- */

static const struct {
	const char *pin;
	int ok;
	const char *why;
} pin_cases[] = {
	{ "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", 1, NULL },
	{ "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", 1, NULL },
	{ "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", 1, NULL }, /* unpadded */
	{ "", 0, "empty pin" },
	{ "sha256//", 0, "empty pin" },
	{ "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF==", 0, "decodes to 31 bytes" },
	{ "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU==", 0, "bad padding" },
	{ "47DEQpj8HBSa-_TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", 0, "character 0x2d at 13" },
	{ "AAAA", 0, "decodes to 3 bytes" },
	{ "ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs+zLe+v/HGPMzRHAPs4kVW", 0, "48 bytes" },
	{ "sha1//AAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0, "not base64" },
	{ "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", 0, "not base64" },
};

START_TEST(pin_parse)
{
	unsigned char d[32];
	char why[200] = "";
	int r = core_pin_parse(pin_cases[_i].pin, d, why, sizeof why);
	if (pin_cases[_i].ok) {
		ck_assert_msg(r == 0, "%s: %s", pin_cases[_i].pin, why);
		/* SHA-256 of the empty string */
		static const unsigned char e3[4] = { 0xe3, 0xb0, 0xc4, 0x42 };
		ck_assert_int_eq(memcmp(d, e3, 4), 0);
	} else {
		ck_assert_msg(r == -1, "%s accepted", pin_cases[_i].pin);
		ck_assert_msg(strstr(why, pin_cases[_i].why), "%s: [%s]", pin_cases[_i].pin, why);
	}
	struct sslsocket_error e;
	ck_assert_int_eq(sslsocket_pin_sha256_parse(pin_cases[_i].pin, NULL, &e),
	                 pin_cases[_i].ok ? 0 : -1);
}
END_TEST

/* ---- whole certificates ---------------------------------------------------- */

static EVP_PKEY *leaf_key;

static X509 *make_cert(const char *cn, const char *san)
{
	X509 *x = X509_new();
	ck_assert_ptr_nonnull(x);
	if (!leaf_key)
		leaf_key = EVP_EC_gen("P-256");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME *n = X509_get_subject_name(x);
	if (cn)
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, leaf_key);
	if (san) {
		X509V3_CTX v3;
		X509V3_set_ctx_nodb(&v3);
		X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
		X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
		ck_assert_ptr_nonnull(ext);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	ck_assert_int_gt(X509_sign(x, leaf_key, EVP_sha256()), 0);
	return x;
}

static struct core_identity *policy(const char *const *names, size_t nn, const char *const *pins,
                                    size_t np)
{
	struct sslsocket_options o;
	struct sslsocket_error e;
	sslsocket_options_init(&o);
	o.cert_reqs = SSLSOCKET_CERT_REQUIRED;
	o.ca_certs_default = 1;
	o.allow_names = names;
	o.allow_names_count = nn;
	o.pin_sha256 = pins;
	o.pin_sha256_count = np;
	struct core_identity *id = core_identity_new(&o, &e);
	ck_assert_msg(id != NULL, "%s", e.reason);
	return id;
}

static const struct {
	const char *cn, *san, *allow;
	int ok;
	const char *presented; /* in the refusal */
} cert_cases[] = {
	{ "web", "URI:spiffe://example.org/ns/prod/sa/web", "spiffe://example.org/ns/prod/sa/web", 1, NULL },
	{ "web", "URI:spiffe://example.org/ns/prod/sa/db", "spiffe://example.org/ns/prod/sa/web", 0,
	  "URI:spiffe://example.org/ns/prod/sa/db, CN=web" },
	{ "web", "URI:spiffe://example.org/ns/dev/sa/web", "spiffe://example.org/ns/*/sa/web", 1, NULL },
	{ "x", "DNS:a.example.com, DNS:b.example.com", "*.example.com", 1, NULL },
	{ "x", "DNS:a.b.example.com", "*.example.com", 0, "DNS:a.b.example.com, CN=x" },
	{ "x", "DNS:example.com", "*.example.com", 0, "DNS:example.com" },
	{ "db.internal", "DNS:other.internal", "db.internal", 0, "DNS:other.internal, CN=db.internal" },
	{ "db.internal", NULL, "db.internal", 0, "CN=db.internal" }, /* a DNS entry never reads the CN */
	{ "db.internal", NULL, "CN=db.internal", 1, NULL },
	{ "db.internal", "DNS:x.test", "CN=db.internal", 1, NULL },
	{ "db.internal", NULL, "CN=DB.internal", 0, "CN=db.internal" },
	{ "x", "IP:10.1.2.3", "10.1.2.3", 1, NULL },
	{ "x", "IP:10.1.2.4", "10.1.2.3", 0, "IP:10.1.2.4" },
	{ "x", "IP:fd00::1", "fd00::1", 1, NULL },
	{ "x", "DNS:10.1.2.3", "10.1.2.3", 0, "DNS:10.1.2.3" },
	{ NULL, NULL, "db.internal", 0, "no name" },
};

START_TEST(cert_check)
{
	const char *names[] = { cert_cases[_i].allow };
	struct core_identity *id = policy(names, 1, NULL, 0);
	X509 *x = make_cert(cert_cases[_i].cn, cert_cases[_i].san);
	char why[200] = "";
	int r = core_identity_check(id, x, why, sizeof why);
	if (cert_cases[_i].ok) {
		ck_assert_msg(r == 0, "%s: %s", cert_cases[_i].allow, why);
	} else {
		ck_assert_msg(r == -1, "%s accepted %s", cert_cases[_i].allow,
		              cert_cases[_i].san ? cert_cases[_i].san : "(no SAN)");
		ck_assert_msg(strstr(why, "not in allow_names"), "[%s]", why);
		ck_assert_msg(strstr(why, cert_cases[_i].presented), "[%s] lacks [%s]", why,
		              cert_cases[_i].presented);
	}
	X509_free(x);
	core_identity_free(id);
}
END_TEST

static void pin_of(X509 *x, char *out, size_t cap)
{
	unsigned char *der = NULL, md[32];
	unsigned int ml = 0;
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(EVP_Digest(der, (size_t)n, md, &ml, EVP_sha256(), NULL), 1);
	OPENSSL_free(der);
	ck_assert_uint_ge(cap, 45);
	EVP_EncodeBlock((unsigned char *)out, md, 32);
}

START_TEST(cert_pins)
{
	X509 *x = make_cert("web", "DNS:web.internal");
	char pin[64], prefixed[80], why[200];
	pin_of(x, pin, sizeof pin);
	snprintf(prefixed, sizeof prefixed, "sha256//%s", pin);

	const char *good[] = { "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", prefixed };
	struct core_identity *id = policy(NULL, 0, good, 2);
	ck_assert_int_eq(core_identity_check(id, x, why, sizeof why), 0);
	core_identity_free(id);

	const char *bad[] = { "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" };
	id = policy(NULL, 0, bad, 1);
	ck_assert_int_eq(core_identity_check(id, x, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "not in pin_sha256"));
	ck_assert_ptr_nonnull(strstr(why, pin)); /* says which key it saw */
	core_identity_free(id);

	/* both keys: both must pass */
	const char *names[] = { "other.internal" };
	const char *mine[] = { pin };
	id = policy(names, 1, mine, 1);
	ck_assert_int_eq(core_identity_check(id, x, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "DNS:web.internal"));
	core_identity_free(id);
	names[0] = "web.internal";
	id = policy(names, 1, mine, 1);
	ck_assert_int_eq(core_identity_check(id, x, why, sizeof why), 0);
	ck_assert_int_eq(core_identity_check(id, NULL, why, sizeof why), -1);
	core_identity_free(id);
	X509_free(x);
}
END_TEST

/* CERT_NONE with an identity policy, bad entries, counts without lists:
 * the options check refuses them (the context is never built). */
START_TEST(options_refused)
{
	struct sslsocket_options o;
	struct sslsocket_error e;
	const char *names[] = { "db.internal" };
	const char *bad[] = { "not base64!" };

	sslsocket_options_init(&o);
	o.allow_names = names;
	o.allow_names_count = 1;
	ck_assert_int_eq(sslsocket_options_check(&o, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.reason, "CERT_NONE"));
	o.cert_reqs = SSLSOCKET_CERT_REQUIRED;
	o.ca_certs = tu_cert("ca.pem");
	ck_assert_msg(sslsocket_options_check(&o, &e) == 0, "%s", e.reason);
	o.pin_sha256 = bad;
	o.pin_sha256_count = 1;
	ck_assert_int_eq(sslsocket_options_check(&o, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.reason, "pin_sha256 entry 1: not base64"));
	o.pin_sha256 = NULL;
	ck_assert_int_eq(sslsocket_options_check(&o, &e), -1);
	o.pin_sha256_count = 0;
	ck_assert_int_eq(sslsocket_options_prefetch(&o, &e), 0);
	/* contexts with different policies are different contexts */
	sslsocket_ctx *a = sslsocket_ctx_new(&o, &e);
	ck_assert_ptr_nonnull(a);
	names[0] = "other.internal";
	sslsocket_ctx *b = sslsocket_ctx_new(&o, &e);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	sslsocket_ctx_free(a);
	sslsocket_ctx_free(b);
}
END_TEST

/* ---- a real handshake over a socket pair ----------------------------------- */

struct side {
	sslsocket *s;
	int fd;
};

/* Drives both non-blocking handshakes until each is done or failed. */
static void handshake_both(sslsocket *c, sslsocket *s, int *rc, int *rs)
{
	*rc = *rs = 1;
	for (int i = 0; i < 200 && (*rc == 1 || *rs == 1); i++) {
		if (*rc == 1) {
			int r = sslsocket_do_handshake(c);
			if (r == 0)
				*rc = 0;
			else if (errno != EAGAIN)
				*rc = -1;
		}
		if (*rs == 1) {
			int r = sslsocket_do_handshake(s);
			if (r == 0)
				*rs = 0;
			else if (errno != EAGAIN)
				*rs = -1;
		}
		usleep(1000);
	}
}

static void pair(const char *const *client_allow, const char *const *server_allow, int *rc, int *rs,
                 char *creason, char *sreason)
{
	int sv[2];
	struct sslsocket_options co, so;
	struct sslsocket_error e;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	sslsocket_options_init(&co);
	co.cert_reqs = SSLSOCKET_CERT_REQUIRED;
	co.ca_certs = tu_cert("ca.pem");
	co.certfile = tu_cert("client.pem");
	co.keyfile = tu_cert("client.key");
	co.server_hostname = "localhost";
	co.do_handshake_on_connect = 0;
	co.session_cache = 0;
	if (client_allow) {
		co.allow_names = client_allow;
		co.allow_names_count = 1;
	}
	sslsocket_options_init(&so);
	so.server_side = 1;
	so.certfile = tu_cert("server.pem");
	so.keyfile = tu_cert("server.key");
	so.do_handshake_on_connect = 0;
	if (server_allow) {
		so.cert_reqs = SSLSOCKET_CERT_REQUIRED;
		so.ca_certs = tu_cert("ca.pem");
		so.allow_names = server_allow;
		so.allow_names_count = 1;
	}
	sslsocket *c = sslsocket_wrap(sv[0], &co, NULL, &e);
	ck_assert_msg(c != NULL, "%s", e.reason);
	sslsocket *s = sslsocket_wrap(sv[1], &so, NULL, &e);
	ck_assert_msg(s != NULL, "%s", e.reason);
	handshake_both(c, s, rc, rs);
	snprintf(creason, 256, "%s", sslsocket_error(c));
	snprintf(sreason, 256, "%s", sslsocket_error(s));
	if (*rs == 0) {
		/* nothing from a refused client reaches the server program */
		char buf[8];
		(void)sslsocket_write(c, "x", 1);
		ck_assert_int_eq(*rc, 0);
		(void)buf;
	}
	sslsocket_free(c);
	sslsocket_free(s);
	close(sv[0]);
	close(sv[1]);
}

START_TEST(handshake_client_side)
{
	int rc, rs;
	char cr[256], sr[256];
	const char *ok[] = { "localhost" };
	pair(ok, NULL, &rc, &rs, cr, sr);
	ck_assert_msg(rc == 0 && rs == 0, "%s / %s", cr, sr);
	const char *no[] = { "spiffe://example.org/web" };
	pair(no, NULL, &rc, &rs, cr, sr);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_ne(rs, 0);
	ck_assert_msg(strstr(cr, "certificate verify failed: peer identity not in allow_names "
	                         "(presented: DNS:localhost, IP:127.0.0.1, IP:::1, CN=localhost)"),
	              "[%s]", cr);
}
END_TEST

START_TEST(handshake_server_side)
{
	int rc, rs;
	char cr[256], sr[256];
	const char *ok[] = { "CN=tlsshim test client" };
	pair(NULL, ok, &rc, &rs, cr, sr);
	ck_assert_msg(rc == 0 && rs == 0, "%s / %s", cr, sr);
	const char *no[] = { "CN=someone else" };
	pair(NULL, no, &rc, &rs, cr, sr);
	ck_assert_int_eq(rs, -1);
	ck_assert_msg(strstr(sr, "peer identity not in allow_names (presented: CN=tlsshim test client)"),
	              "[%s]", sr);
}
END_TEST

static void teardown(void)
{
	EVP_PKEY_free(leaf_key);
	leaf_key = NULL;
}

Suite *identity_suite(void)
{
	Suite *s = suite_create("identity");
	TCase *tc = tcase_create("parse");
	tcase_add_loop_test(tc, dns_match, 0, (int)(sizeof dns_cases / sizeof dns_cases[0]));
	tcase_add_test(tc, dns_embedded_nul);
	tcase_add_loop_test(tc, uri_match, 0, (int)(sizeof uri_cases / sizeof uri_cases[0]));
	tcase_add_loop_test(tc, entry_parse, 0, (int)(sizeof entry_cases / sizeof entry_cases[0]));
	tcase_add_test(tc, entry_long);
	tcase_add_loop_test(tc, pin_parse, 0, (int)(sizeof pin_cases / sizeof pin_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("certs");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_loop_test(tc, cert_check, 0, (int)(sizeof cert_cases / sizeof cert_cases[0]));
	tcase_add_test(tc, cert_pins);
	tcase_add_test(tc, options_refused);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("handshake");
	tcase_add_test(tc, handshake_client_side);
	tcase_add_test(tc, handshake_server_side);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}
