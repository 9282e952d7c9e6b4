/* check_core_prefetch: sslsocket_options_prefetch decides as
 * sslsocket_options_check does, for every certificate and key of the test
 * PKI and for generated forms (traditional, encrypted, Ed25519, CRLF,
 * broken PEM); it decides RSA and EC from the bytes (its reason then has
 * no OpenSSL suffix) and falls back for keys without their public half;
 * and the bytes it kept build a context after the files are gone. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include "check_core_util.h"

static void setup(void)
{
	tu_scratch_make("prefetch");
}

static void teardown(void)
{
	tu_scratch_remove();
}

#define at(name) tu_scratch_path(name)

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	return strdup(buf);
}

static void server_opts(struct sslsocket_options *o, const char *cert, const char *key)
{
	sslsocket_options_init(o);
	o->server_side = 1;
	o->certfile = cert;
	o->keyfile = key;
}

/* Both checks of a server's certfile/keyfile/ca_certs; they must agree.
 * Returns the prefetch's result, its reason in why. */
static int both(const char *cert, const char *key, const char *ca, char *why, size_t whylen)
{
	struct sslsocket_options o;
	struct sslsocket_error e1, e2;
	sslsocket_options_init(&o);
	o.server_side = cert != NULL;
	o.certfile = cert;
	o.keyfile = key;
	o.ca_certs = ca;
	if (ca)
		o.cert_reqs = SSLSOCKET_CERT_REQUIRED;
	memset(&e1, 0, sizeof e1);
	memset(&e2, 0, sizeof e2);
	int full = sslsocket_options_check(&o, &e1);
	int quick = sslsocket_options_prefetch(&o, &e2);
	ck_assert_msg(full == quick, "cert %s key %s ca %s: check %d [%s], prefetch %d [%s]",
	              cert ? cert : "-", key ? key : "-", ca ? ca : "-", full, e1.reason, quick,
	              e2.reason);
	if (quick < 0) {
		/* the same kind of failure: mismatch or not */
		ck_assert_int_eq(strstr(e1.reason, "does not match") != NULL,
		                 strstr(e2.reason, "does not match") != NULL);
		ck_assert_int_ne(e2.code, SSLSOCKET_ERROR_NONE);
		/* and about the same option and file */
		ck_assert_int_eq(e1.option, e2.option);
		ck_assert_int_ne(e2.option, SSLSOCKET_OPT_NONE);
		ck_assert_str_eq(e1.file, e2.file);
	}
	snprintf(why, whylen, "%s", e2.reason);
	return quick;
}

START_TEST(test_pki_pairs_agree)
{
	static const char *const certs[] = {"server.pem", "client.pem", "rsa.pem", "selfsigned.pem",
	                                    "expired.pem", "multirdn.pem", "wronghost.pem",
	                                    "server-chain.pem", "server-combined.pem", "ca.pem"};
	static const char *const keys[] = {"server.key", "client.key", "rsa.key", "selfsigned.key",
	                                   "expired.key", "multirdn.key", "wronghost.key", "ca.key",
	                                   "other-ca.key", "server-combined.pem", "server.pem"};
	char why[512];
	int ok = 0, mismatched = 0;
	for (size_t c = 0; c < sizeof certs / sizeof certs[0]; c++) {
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
			int r = both(tu_cert(certs[c]), tu_cert(keys[k]), NULL, why, sizeof why);
			ok += r == 0;
			mismatched += r < 0 && strstr(why, "does not match") != NULL;
		}
	}
	ck_assert_int_ge(ok, 9);          /* each certificate with its own key */
	ck_assert_int_ge(mismatched, 60); /* and the others refused */
	ck_assert_int_eq(both(tu_cert("server-combined.pem"), NULL, NULL, why, sizeof why), 0);
	ck_assert_int_eq(both(tu_cert("server.pem"), NULL, NULL, why, sizeof why), -1);
	ck_assert_msg(strstr(why, "cannot load private key from ") != NULL, "%s", why);
	ck_assert_int_eq(both(tu_cert("server.pem"), tu_cert("server.key"), tu_cert("ca.pem"), why,
	                      sizeof why),
	                 0);
	ck_assert_int_eq(both(NULL, NULL, tu_cert("server.key"), why, sizeof why), -1);
	ck_assert_msg(strstr(why, "cannot load CA certificates from ") != NULL, "%s", why);
	ck_assert_uint_eq(sslsocket_ctx_count(), 0);
}
END_TEST

/* RSA and EC mismatches are decided from the bytes: no OpenSSL reason. */
START_TEST(test_decided_without_openssl)
{
	char why[512], want[512];
	ck_assert_int_eq(both(tu_cert("server.pem"), tu_cert("client.key"), NULL, why, sizeof why), -1);
	snprintf(want, sizeof want, "private key in %s does not match the certificate in %s",
	         tu_cert("client.key"), tu_cert("server.pem"));
	ck_assert_str_eq(why, want);
	ck_assert_int_eq(both(tu_cert("rsa.pem"), tu_cert("server.key"), NULL, why, sizeof why), -1);
	snprintf(want, sizeof want, "private key in %s does not match the certificate in %s",
	         tu_cert("server.key"), tu_cert("rsa.pem"));
	ck_assert_str_eq(why, want);
}
END_TEST

static EVP_PKEY *keygen(const char *type)
{
	EVP_PKEY *k = strcmp(type, "RSA") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
	              : strcmp(type, "EC") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
	                                        : EVP_PKEY_Q_keygen(NULL, NULL, type);
	ck_assert_ptr_nonnull(k);
	return k;
}

static void write_cert(const char *path, EVP_PKEY *k)
{
	X509 *x = X509_new();
	ck_assert_ptr_nonnull(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                           (const unsigned char *)"prefetch.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	const EVP_MD *md = EVP_PKEY_get_id(k) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
	ck_assert_int_gt(X509_sign(x, k, md), 0);
	BIO *b = BIO_new_file(path, "w");
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(PEM_write_bio_X509(b, x), 1);
	BIO_free(b);
	X509_free(x);
}

enum form { PKCS8, TRADITIONAL, ENCRYPTED };

static void write_key(const char *path, EVP_PKEY *k, enum form f)
{
	BIO *b = BIO_new_file(path, "w");
	ck_assert_ptr_nonnull(b);
	int r = f == TRADITIONAL ? PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL)
	        : f == ENCRYPTED ? PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_128_cbc(), "secret", 6,
	                                                         NULL, NULL)
	                         : PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	ck_assert_int_eq(r, 1);
	BIO_free(b);
}

/* Traditional RSA and EC forms are decided from the bytes; Ed25519's
 * PKCS#8 v1 key has no public half, so the full check decides (and its
 * reason carries OpenSSL's words). */
START_TEST(test_generated_forms)
{
	static const char *const types[] = {"RSA", "EC", "ED25519"};
	char why[512];
	EVP_PKEY *k[3];
	for (int i = 0; i < 3; i++) {
		char n[32];
		k[i] = keygen(types[i]);
		snprintf(n, sizeof n, "%d.pem", i);
		write_cert(at(n), k[i]);
		snprintf(n, sizeof n, "%d.p8", i);
		write_key(at(n), k[i], PKCS8);
		if (i < 2) {
			snprintf(n, sizeof n, "%d.trad", i);
			write_key(at(n), k[i], TRADITIONAL);
		}
	}
	static const char *const trad[] = {"BEGIN RSA PRIVATE KEY", "BEGIN EC PRIVATE KEY"};
	for (int i = 0; i < 2; i++) {
		char n[32];
		snprintf(n, sizeof n, "%d.trad", i);
		char *t = read_text(at(n));
		ck_assert_ptr_nonnull(strstr(t, trad[i]));
		free(t);
	}
	for (int c = 0; c < 3; c++) {
		for (int q = 0; q < 3; q++) {
			char cn[32], kn[32];
			snprintf(cn, sizeof cn, "%d.pem", c);
			snprintf(kn, sizeof kn, "%d.p8", q);
			int r = both(at(cn), at(kn), NULL, why, sizeof why);
			ck_assert_int_eq(r, c == q ? 0 : -1);
			if (c != q && q == 2 && c == 2)
				ck_assert_ptr_nonnull(strstr(why, "does not match"));
			if (q < 2) {
				snprintf(kn, sizeof kn, "%d.trad", q);
				ck_assert_int_eq(both(at(cn), at(kn), NULL, why, sizeof why), c == q ? 0 : -1);
			}
		}
	}
	/* another Ed25519 key for the Ed25519 certificate: the fallback says so */
	EVP_PKEY *other = keygen("ED25519");
	write_key(at("other.p8"), other, PKCS8);
	ck_assert_int_eq(both(at("2.pem"), at("other.p8"), NULL, why, sizeof why), -1);
	ck_assert_msg(strstr(why, "does not match the certificate in") != NULL, "%s", why);
	ck_assert_msg(strstr(why, "in " "/tmp/") && strchr(strstr(why, "certificate in "), ':'),
	              "the full check's reason carries OpenSSL's words: %s", why);
	/* an encrypted key is refused, never prompted for */
	write_key(at("enc.p8"), k[0], ENCRYPTED);
	struct sslsocket_options o;
	struct sslsocket_error e;
	server_opts(&o, at("0.pem"), at("enc.p8"));
	ck_assert_int_eq(sslsocket_options_prefetch(&o, &e), -1);
	ck_assert_msg(strstr(e.reason, "is encrypted") != NULL, "%s", e.reason);
	ck_assert_int_eq(sslsocket_options_check(&o, &e), -1);
	ck_assert_msg(strstr(e.reason, "cannot load private key from") != NULL, "%s", e.reason);
	for (int i = 0; i < 3; i++)
		EVP_PKEY_free(k[i]);
	EVP_PKEY_free(other);
}
END_TEST

/* What OpenSSL's reader takes, the scan takes; what it refuses, both do. */
START_TEST(test_pem_leniency)
{
	char why[512];
	char *cert = read_text(tu_cert("server.pem")), *key = read_text(tu_cert("server.key"));
	char *buf = malloc(3 * (strlen(cert) + strlen(key)) + 512);
	ck_assert_ptr_nonnull(buf);

	/* CRLF lines, trailing blanks and explanatory text around the blocks */
	char *w = buf;
	w += sprintf(w, "Certificate:\n    Data: the text openssl x509 -text prints\n");
	for (const char *p = cert; *p; p++) {
		if (*p == '\n') {
			*w++ = ' ';
			*w++ = '\r';
		}
		*w++ = *p;
	}
	w += sprintf(w, "trailing words\n");
	*w = 0;
	write_text(at("crlf.pem"), buf);
	ck_assert_int_eq(both(at("crlf.pem"), tu_cert("server.key"), NULL, why, sizeof why), 0);

	/* broken forms: no END, another END label, not base64, data after padding */
	static const char *const broken[] = {
		"-----BEGIN CERTIFICATE-----\nMIIB\n",
		"-----BEGIN CERTIFICATE-----\nMIIB\n-----END X509 CRL-----\n",
		"-----BEGIN CERTIFICATE-----\nthis is not base64!\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\nMA==MA==\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
		"no PEM at all\n",
	};
	for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
		write_text(at("broken.pem"), broken[i]);
		ck_assert_int_eq(both(at("broken.pem"), tu_cert("server.key"), NULL, why, sizeof why), -1);
		ck_assert_msg(strstr(why, "cannot load certificate from ") != NULL, "%zu: %s", i, why);
		ck_assert_int_eq(both(NULL, NULL, at("broken.pem"), why, sizeof why), -1);
		ck_assert_msg(strstr(why, "cannot load CA certificates from ") != NULL, "%zu: %s", i, why);
	}
	/* OpenSSL's key decoders pass over a broken block that is not a key,
	 * but not a broken key */
	sprintf(buf, "%s%s", broken[2], key);
	write_text(at("key.pem"), buf);
	ck_assert_int_eq(both(tu_cert("server.pem"), at("key.pem"), NULL, why, sizeof why), 0);
	/* (a new name: key.pem's bytes are kept now) */
	write_text(at("key2.pem"), "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n");
	ck_assert_int_eq(both(tu_cert("server.pem"), at("key2.pem"), NULL, why, sizeof why), -1);
	ck_assert_msg(strstr(why, "cannot load private key from ") != NULL, "%s", why);
	/* two CA certificates, a CRL-free bundle */
	char *ca = read_text(tu_cert("ca.pem")), *other = read_text(tu_cert("other-ca.pem"));
	sprintf(buf, "%s%s", ca, other);
	free(ca);
	free(other);
	write_text(at("bundle.pem"), buf);
	ck_assert_int_eq(both(NULL, NULL, at("bundle.pem"), why, sizeof why), 0);
	free(buf);
	free(cert);
	free(key);
}
END_TEST

static void copy(const char *from, const char *to)
{
	char *t = read_text(from);
	write_text(to, t);
	free(t);
}

/* A server that drops privileges keeps what its configuration read: the
 * files may go away, or change, and contexts built from the configuration
 * still load the checked bytes. The library itself keeps nothing. */
START_TEST(test_kept_bytes)
{
	struct sslsocket_options o;
	struct sslsocket_error e;
	server_opts(&o, at("c.pem"), at("k.pem"));
	copy(tu_cert("server.pem"), o.certfile);
	copy(tu_cert("server.key"), o.keyfile);
	sslsocket_config *cfg = sslsocket_config_new(&o, &e);
	ck_assert_msg(cfg != NULL, "%s", e.reason);
	ck_assert_int_eq(sslsocket_config_changed(cfg, NULL), 0);
	/* the key file now holds another certificate's key, and then
	 * vanishes: contexts from the configuration use the kept bytes */
	copy(tu_cert("client.key"), o.keyfile);
	ck_assert_int_eq(sslsocket_config_changed(cfg, NULL), 1);
	ck_assert_int_eq(sslsocket_options_check(&o, &e), -1); /* the files now: no */
	ck_assert_int_eq(unlink(o.certfile), 0);
	ck_assert_int_eq(unlink(o.keyfile), 0);
	sslsocket_ctx *ctx = sslsocket_ctx_new_config(cfg, &e);
	ck_assert_msg(ctx != NULL, "%s", e.reason);
	sslsocket_ctx_free(ctx);
	sslsocket_config_free(cfg);

	/* options alone: read when the context is built, and gone */
	ck_assert_ptr_null(sslsocket_ctx_new(&o, &e));
	ck_assert_msg(strstr(e.reason, "cannot load certificate from ") != NULL, "%s", e.reason);
	ck_assert_msg(strstr(e.reason, "No such file or directory") != NULL, "%s", e.reason);
	/* a prefetch keeps nothing: the next context reads the files */
	struct sslsocket_options o2 = o;
	copy(tu_cert("server.pem"), o2.certfile);
	copy(tu_cert("server.key"), o2.keyfile);
	ck_assert_int_eq(sslsocket_options_prefetch(&o2, &e), 0);
	ck_assert_int_eq(unlink(o2.certfile), 0);
	ck_assert_ptr_null(sslsocket_ctx_new(&o2, &e));
	unlink(o2.keyfile);
}
END_TEST

/* A context built from kept bytes serves a real handshake, with the client
 * CA list built from the bundle. */
START_TEST(test_kept_bytes_handshake)
{
	struct sslsocket_options so, co;
	struct sslsocket_error e;
	cu_server_opts(&so);
	so.certfile = at("c.pem");
	so.keyfile = at("k.pem");
	so.ca_certs = at("ca.pem");
	so.cert_reqs = SSLSOCKET_CERT_REQUIRED;
	copy(tu_cert("server.pem"), so.certfile);
	copy(tu_cert("server.key"), so.keyfile);
	copy(tu_cert("ca.pem"), so.ca_certs);
	sslsocket_config *cfg = sslsocket_config_new(&so, &e);
	ck_assert_msg(cfg != NULL, "%s", e.reason);
	unlink(so.certfile);
	unlink(so.keyfile);
	unlink(so.ca_certs);
	sslsocket_ctx *sctx = sslsocket_ctx_new_config(cfg, &e);
	ck_assert_msg(sctx != NULL, "%s", e.reason);
	sslsocket_config_free(cfg);
	sslsocket_options_init(&co);
	co.certfile = tu_cert("client.pem");
	co.keyfile = tu_cert("client.key");
	co.ca_certs = tu_cert("ca.pem");
	co.cert_reqs = SSLSOCKET_CERT_REQUIRED;
	int fds[2];
	cu_pair(fds);
	cu_set_nonblock(fds[0], 1);
	cu_set_nonblock(fds[1], 1);
	sslsocket *s = sslsocket_wrap_ctx(fds[0], sctx, &so, NULL, &e);
	ck_assert_msg(s != NULL, "%s", e.reason);
	sslsocket_ctx_free(sctx);
	sslsocket *c = sslsocket_wrap(fds[1], &co, NULL, &e);
	ck_assert_msg(c != NULL, "%s", e.reason);
	cu_handshake_both(c, s);
	ck_assert_int_eq(sslsocket_write(c, "kept", 4), 4);
	char buf[8];
	ssize_t r = -1;
	for (int i = 0; i < 10 && r < 0; i++)
		r = sslsocket_read(s, buf, sizeof buf);
	ck_assert_int_eq(r, 4);
	ck_assert_int_eq(memcmp(buf, "kept", 4), 0);
	sslsocket_free(c);
	sslsocket_free(s);
}
END_TEST

/* Every way of reading and checking options (the prefetch, the full
 * check, a configuration, a context from it) fails with err naming the
 * option and the file: no caller reads the reason's text for it. */
static void fails_on(const struct sslsocket_options *o, int option, const char *file,
                     const char *reason_part)
{
	struct sslsocket_error e;
	int (*check[2])(const struct sslsocket_options *, struct sslsocket_error *) = {
		sslsocket_options_prefetch, sslsocket_options_check};
	for (int i = 0; i < 2; i++) {
		memset(&e, 0x5a, sizeof e); /* stale contents must not show through */
		ck_assert_int_eq(check[i](o, &e), -1);
		ck_assert_msg(e.option == option, "%s (check %d): option %d, expected %d", e.reason, i,
		              e.option, option);
		ck_assert_msg(strcmp(e.file, file) == 0, "%s (check %d): file [%s], expected [%s]",
		              e.reason, i, e.file, file);
		ck_assert_msg(strstr(e.reason, reason_part) != NULL, "%s", e.reason);
	}
	memset(&e, 0x5a, sizeof e);
	ck_assert_ptr_null(sslsocket_config_new(o, &e));
	ck_assert_int_eq(e.option, option);
	ck_assert_str_eq(e.file, file);
}

START_TEST(test_error_names_option_and_file)
{
	struct sslsocket_options o;
	struct sslsocket_error e;

	write_text(at("broken.key"), "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n");
	write_text(at("nopem.txt"), "no PEM at all\n");
	/* a bad keyfile, a key that is not the certificate's */
	server_opts(&o, tu_cert("server.pem"), at("broken.key"));
	fails_on(&o, SSLSOCKET_OPT_KEYFILE, at("broken.key"), "cannot load private key from");
	server_opts(&o, tu_cert("server.pem"), tu_cert("client.key"));
	fails_on(&o, SSLSOCKET_OPT_KEYFILE, tu_cert("client.key"), "does not match");
	/* keyfile naming the certfile: still the keyfile's fault */
	server_opts(&o, tu_cert("server.pem"), tu_cert("server.pem"));
	fails_on(&o, SSLSOCKET_OPT_KEYFILE, tu_cert("server.pem"), "cannot load private key from");
	/* no keyfile: the key was to be in certfile */
	server_opts(&o, tu_cert("server.pem"), NULL);
	fails_on(&o, SSLSOCKET_OPT_CERTFILE, tu_cert("server.pem"), "cannot load private key from");
	/* a missing certfile */
	server_opts(&o, at("missing.pem"), tu_cert("server.key"));
	fails_on(&o, SSLSOCKET_OPT_CERTFILE, at("missing.pem"), "No such file");
	/* a bad cafile, a bad CRL file */
	sslsocket_options_init(&o);
	o.cert_reqs = SSLSOCKET_CERT_REQUIRED;
	o.ca_certs = at("nopem.txt");
	fails_on(&o, SSLSOCKET_OPT_CA_CERTS, at("nopem.txt"), "cannot load CA certificates from");
	o.ca_certs = tu_cert("ca.pem");
	o.crl_file = at("nopem.txt");
	fails_on(&o, SSLSOCKET_OPT_CRL_FILE, at("nopem.txt"), "cannot load CRLs from");
	/* not files: the option, no file */
	sslsocket_options_init(&o);
	o.ciphers = "NOPE";
	fails_on(&o, SSLSOCKET_OPT_CIPHERS, "", "invalid cipher string");
	o.ciphers = NULL;
	o.ssl_version = SSLSOCKET_PROTOCOL_SSLv2;
	fails_on(&o, SSLSOCKET_OPT_SSL_VERSION, "", "SSLv2");
	/* a key file others may write is refused, as the keyfile's fault */
	copy(tu_cert("server.key"), at("open.key"));
	ck_assert_int_eq(chmod(at("open.key"), 0606), 0);
	server_opts(&o, tu_cert("server.pem"), at("open.key"));
	fails_on(&o, SSLSOCKET_OPT_KEYFILE, at("open.key"), "writable by group or others");
	ck_assert_int_eq(chmod(at("open.key"), 0600), 0);
	/* the key log, opened when a context is built */
	sslsocket_config *cfg = sslsocket_config_new(&o, &e);
	ck_assert_msg(cfg != NULL, "%s", e.reason);
	ck_assert_int_eq(sslsocket_config_set_keylog_file(cfg, "/nonexistent-dir/keys.log"), 0);
	memset(&e, 0x5a, sizeof e);
	ck_assert_ptr_null(sslsocket_ctx_new_config(cfg, &e));
	ck_assert_int_eq(e.option, SSLSOCKET_OPT_KEYLOG_FILE);
	ck_assert_str_eq(e.file, "/nonexistent-dir/keys.log");
	sslsocket_config_free(cfg);
	/* an error that is about no option says so */
	memset(&e, 0x5a, sizeof e);
	ck_assert_int_eq(sslsocket_options_prefetch(NULL, &e), -1);
	ck_assert_int_eq(e.option, SSLSOCKET_OPT_NONE);
	ck_assert_str_eq(e.file, "");
}
END_TEST

Suite *core_prefetch_suite(void)
{
	Suite *s = suite_create("core_prefetch");
	TCase *tc = tcase_create("prefetch");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pki_pairs_agree);
	tcase_add_test(tc, test_decided_without_openssl);
	tcase_add_test(tc, test_generated_forms);
	tcase_add_test(tc, test_pem_leniency);
	tcase_add_test(tc, test_kept_bytes);
	tcase_add_test(tc, test_kept_bytes_handshake);
	tcase_add_test(tc, test_error_names_option_and_file);
	suite_add_tcase(s, tc);
	return s;
}
