/*
 * ctx_files.c - a context's certificate chain, private key, CA
 * certificates and CRLs, loaded from the bytes its configuration read:
 * what SSL_CTX_use_certificate_chain_file, SSL_CTX_use_PrivateKey_file,
 * SSL_CTX_load_verify_locations and SSL_load_client_CA_file do with a path.
 *
 * No passphrase is ever asked for: OpenSSL's default would prompt on the
 * terminal, from inside a program that knows nothing of TLS.
 */
#include <errno.h>
#include <string.h>

#include "ossl_int.h"

#include "files_int.h"

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static BIO *blob_bio(const struct core_blob *b)
{
	return BIO_new_mem_buf(b->data, (int)b->len);
}

/* After reading PEM objects until none is left: was it only the end? */
static int pem_ended_cleanly(void)
{
	unsigned long e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
		ERR_clear_error();
		return 1;
	}
	return e == 0;
}

static int load_chain(SSL_CTX *ctx, const char *path, const struct core_blob *b,
                      struct sslsocket_error *err)
{
	BIO *bio = blob_bio(b);
	X509 *x = bio ? PEM_read_bio_X509_AUX(bio, NULL, no_passphrase, NULL) : NULL;
	int ok = x && SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_clear_chain_certs(ctx) == 1;
	X509_free(x);
	while (ok) {
		X509 *ca = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
		if (!ca) {
			ok = pem_ended_cleanly();
			break;
		}
		if (SSL_CTX_add0_chain_cert(ctx, ca) != 1) {
			X509_free(ca);
			ok = 0;
		}
	}
	BIO_free(bio);
	if (!ok) {
		core_err_ossl(err, SSLSOCKET_ERROR_SSL, EINVAL, "cannot load certificate from %s", path);
		return -1;
	}
	return 0;
}

static int load_key(SSL_CTX *ctx, const char *path, const char *certpath,
                    const struct core_blob *b, struct sslsocket_error *err)
{
	BIO *bio = blob_bio(b);
	EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	if (!pk) {
		core_err_ossl(err, SSLSOCKET_ERROR_SSL, EINVAL, "cannot load private key from %s", path);
		return -1;
	}
	int ok = SSL_CTX_use_PrivateKey(ctx, pk) == 1;
	EVP_PKEY_free(pk);
	if (!ok && ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
		core_err_ossl(err, SSLSOCKET_ERROR_SSL, EINVAL, "cannot load private key from %s", path);
		return -1;
	}
	if (!ok || SSL_CTX_check_private_key(ctx) != 1) {
		core_err_ossl(err, SSLSOCKET_ERROR_SSL, EINVAL,
		              "private key in %s does not match the certificate in %s", path, certpath);
		return -1;
	}
	return 0;
}

static int has_name(STACK_OF(X509_NAME) *names, const X509_NAME *n)
{
	for (int i = 0; i < sk_X509_NAME_num(names); i++)
		if (X509_NAME_cmp(sk_X509_NAME_value(names, i), n) == 0)
			return 1;
	return 0;
}

/* The CA certificates (and CRLs) into the context's store; for a server
 * that asks for client certificates, their subjects as the CA list it
 * sends, in file order without repeats. */
static int load_ca(SSL_CTX *ctx, const struct sslsocket_options *o, const struct core_blob *b,
                   struct sslsocket_error *err)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	int want_names = o->server_side && o->cert_reqs != SSLSOCKET_CERT_NONE;
	STACK_OF(X509_NAME) *names = want_names ? sk_X509_NAME_new_null() : NULL;
	BIO *bio = blob_bio(b);
	STACK_OF(X509_INFO) *infos = bio ? PEM_X509_INFO_read_bio(bio, NULL, no_passphrase, NULL) : NULL;
	int ok = infos != NULL && (!want_names || names), count = 0;

	BIO_free(bio);
	for (int i = 0; ok && i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *in = sk_X509_INFO_value(infos, i);
		if (in->x509) {
			ok = X509_STORE_add_cert(store, in->x509) == 1;
			count++;
			const X509_NAME *sn = X509_get_subject_name(in->x509);
			if (ok && names && !has_name(names, sn)) {
				X509_NAME *dup = X509_NAME_dup(sn);
				ok = dup && sk_X509_NAME_push(names, dup) > 0;
				if (!ok)
					X509_NAME_free(dup);
			}
		}
		if (ok && in->crl) {
			ok = X509_STORE_add_crl(store, in->crl) == 1;
			count++;
		}
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	if (!ok || count == 0) {
		sk_X509_NAME_pop_free(names, X509_NAME_free);
		if (ok)
			core_err_set(err, SSLSOCKET_ERROR_SSL, EINVAL,
			             "cannot load CA certificates from %s: no PEM certificate or CRL in it",
			             o->ca_certs);
		else
			core_err_ossl(err, SSLSOCKET_ERROR_SSL, EINVAL, "cannot load CA certificates from %s",
			              o->ca_certs);
		return -1;
	}
	if (names)
		SSL_CTX_set_client_CA_list(ctx, names);
	return 0;
}

/* The CRLs into the context's store, checked for every certificate of the
 * peer's chain (X509_V_FLAG_CRL_CHECK_ALL): a revoked one fails the
 * handshake with "certificate revoked", and a chain certificate whose
 * issuer has no CRL in the file fails with "unable to get certificate
 * CRL" (fail closed, as stunnel's CRLfile). */
static int load_crl(SSL_CTX *ctx, const char *path, const struct core_blob *b,
                    struct sslsocket_error *err)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	BIO *bio = blob_bio(b);
	int ok = bio != NULL, count = 0;
	while (ok) {
		X509_CRL *crl = PEM_read_bio_X509_CRL(bio, NULL, no_passphrase, NULL);
		if (!crl) {
			ok = pem_ended_cleanly();
			break;
		}
		ok = X509_STORE_add_crl(store, crl) == 1;
		X509_CRL_free(crl);
		count++;
	}
	BIO_free(bio);
	if (!ok || count == 0) {
		if (ok)
			core_err_set(err, SSLSOCKET_ERROR_SSL, EINVAL,
			             "cannot load CRLs from %s: no PEM CRL (X509 CRL) in it", path);
		else
			core_err_ossl(err, SSLSOCKET_ERROR_SSL, EINVAL, "cannot load CRLs from %s", path);
		return -1;
	}
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	return 0;
}

int core_ctx_load_files(SSL_CTX *ctx, const struct sslsocket_options *o,
                        const struct sslsocket_config *files, struct sslsocket_error *err)
{
	if (o->certfile) {
		const char *kf = core_config_path(files, CORE_F_KEY);
		const struct core_blob *kb = kf ? &files->f[CORE_F_KEY] : &files->f[CORE_F_CERT];
		if (load_chain(ctx, o->certfile, &files->f[CORE_F_CERT], err) < 0) {
			core_err_option(err, SSLSOCKET_OPT_CERTFILE, o->certfile);
			return -1;
		}
		if (load_key(ctx, kf ? kf : o->certfile, o->certfile, kb, err) < 0) {
			core_err_option(err, o->keyfile ? SSLSOCKET_OPT_KEYFILE : SSLSOCKET_OPT_CERTFILE,
			                kf ? kf : o->certfile);
			return -1;
		}
	}
	if (o->ca_certs && load_ca(ctx, o, &files->f[CORE_F_CA], err) < 0) {
		core_err_option(err, SSLSOCKET_OPT_CA_CERTS, o->ca_certs);
		return -1;
	}
	if (o->crl_file && load_crl(ctx, o->crl_file, &files->f[CORE_F_CRL], err) < 0) {
		core_err_option(err, SSLSOCKET_OPT_CRL_FILE, o->crl_file);
		return -1;
	}
	return 0;
}
