/*
 * files_check.c - a configuration's certificate, key, CA and CRL files
 * checked from their bytes (sslsocket_config_new).
 *
 * Building an SSL_CTX to check a file costs 4 to 12 million instructions
 * (OpenSSL 3's providers, cipher fetches, key decoders); every program
 * tlsshim wraps paid it before main, for rules it might never use. Here the
 * PEM blocks are decoded and the DER walked instead: a file that is
 * missing, unreadable, not PEM, without a certificate or key, or whose key
 * is not the certificate's is refused with the words the context loader
 * would use. What the bytes alone cannot settle (a cipher list, a key type
 * without its public half) is checked the full way.
 */
#include <errno.h>
#include <string.h>

#include "files_int.h"

/* Every block of a file must decode, as OpenSSL's PEM reader insists. */
static int bad_block(const struct core_pem *blk, const char *what, const char *path,
                     struct sslsocket_error *err)
{
	if (!blk->bad)
		return 0;
	core_err_set(err, SSLSOCKET_ERROR_SSL, EINVAL,
	             "cannot load %s from %s: the PEM block \"%s\" is not base64 between matching "
	             "BEGIN and END lines",
	             what, path, blk->label);
	return -1;
}

/* A certificate block must hold one X.509 certificate ("TRUSTED
 * CERTIFICATE" appends OpenSSL's aux data to it); its public key in pk. */
static int bad_cert(const struct core_pem *blk, const char *what, const char *path,
                    struct core_pubkey *pk, struct sslsocket_error *err)
{
	int trusted = strcmp(blk->label, "TRUSTED CERTIFICATE") == 0;
	if (core_der_cert(blk->der, blk->der_len, trusted, pk) == 0)
		return 0;
	core_err_set(err, SSLSOCKET_ERROR_SSL, EINVAL,
	             "cannot load %s from %s: the PEM block \"%s\" is not an X.509 certificate",
	             what, path, blk->label);
	return -1;
}

static int oom(struct sslsocket_error *err)
{
	core_err_set(err, SSLSOCKET_ERROR_SSL, ENOMEM, "out of memory");
	return -1;
}

/* The chain file: certificates, the first one the server's. Its block is
 * handed to the caller in leaf (to clear), because pk points into it. */
static int check_chain(const char *path, const struct core_blob *b, struct core_pem *leaf,
                       struct core_pubkey *pk, struct sslsocket_error *err)
{
	static const char what[] = "certificate";
	struct core_pem blk;
	size_t pos = 0;
	int r, certs = 0;

	while ((r = core_pem_next((const char *)b->data, b->len, &pos, &blk)) == 1) {
		if (bad_block(&blk, what, path, err) < 0) {
			core_pem_clear(&blk);
			return -1;
		}
		if (core_pem_is_cert(blk.label)) {
			struct core_pubkey tmp;
			if (bad_cert(&blk, what, path, certs ? &tmp : pk, err) < 0) {
				core_pem_clear(&blk);
				return -1;
			}
			if (certs++ == 0) {
				*leaf = blk; /* pk points into it */
				continue;
			}
		}
		core_pem_clear(&blk);
	}
	if (r < 0)
		return oom(err);
	if (certs == 0) {
		core_err_set(err, SSLSOCKET_ERROR_SSL, EINVAL,
		             "cannot load %s from %s: no PEM certificate in it", what, path);
		return -1;
	}
	return 0;
}

/* The private key's file: its first key block, compared with the leaf. */
static int check_key(const char *path, const char *certpath, const struct core_blob *b,
                     const struct core_pubkey *cert, struct sslsocket_error *err)
{
	static const char what[] = "private key";
	struct core_pem blk;
	struct core_pubkey pk;
	size_t pos = 0;
	int r;

	/* OpenSSL's key decoders pass over other blocks, even broken ones. */
	while ((r = core_pem_next((const char *)b->data, b->len, &pos, &blk)) == 1) {
		if (core_pem_is_key(blk.label)) {
			if (bad_block(&blk, what, path, err) < 0) {
				core_pem_clear(&blk);
				return -1;
			}
			break;
		}
		core_pem_clear(&blk);
	}
	if (r < 0)
		return oom(err);
	if (r == 0) {
		core_err_set(err, SSLSOCKET_ERROR_SSL, EINVAL,
		             "cannot load private key from %s: no PEM private key in it", path);
		return -1;
	}
	if (blk.encrypted || strcmp(blk.label, "ENCRYPTED PRIVATE KEY") == 0) {
		core_pem_clear(&blk);
		core_err_set(err, SSLSOCKET_ERROR_SSL, EINVAL,
		             "cannot load private key from %s: it is encrypted, and nothing can ask for "
		             "its passphrase (decrypt it with openssl pkey)",
		             path);
		return -1;
	}
	if (core_der_key(blk.label, blk.der, blk.der_len, &pk) < 0) {
		core_err_set(err, SSLSOCKET_ERROR_SSL, EINVAL,
		             "cannot load private key from %s: the PEM block \"%s\" is not such a key", path,
		             blk.label);
		core_pem_clear(&blk);
		return -1;
	}
	int same = core_pubkey_same(cert, &pk);
	core_pem_clear(&blk);
	if (same == 0) {
		core_err_set(err, SSLSOCKET_ERROR_SSL, EINVAL,
		             "private key in %s does not match the certificate in %s", path, certpath);
		return -1;
	}
	return same < 0 ? CORE_QC_UNSURE : CORE_QC_OK;
}

/* A CA file (certs: each certificate parsed; CRLs may stand beside them)
 * or a CRL file (!certs: PEM CRLs only, their DER left to OpenSSL): at
 * least one block of what it should hold. */
static int check_pem_list(const char *path, const struct core_blob *b, int certs,
                          struct sslsocket_error *err)
{
	const char *what = certs ? "CA certificates" : "CRLs";
	struct core_pem blk;
	struct core_pubkey pk;
	size_t pos = 0;
	int r, found = 0;

	while ((r = core_pem_next((const char *)b->data, b->len, &pos, &blk)) == 1) {
		int bad = bad_block(&blk, what, path, err) < 0;
		if (!bad && certs && core_pem_is_cert(blk.label)) {
			bad = bad_cert(&blk, what, path, &pk, err) < 0;
			found++;
		} else if (!bad && core_pem_is_crl(blk.label)) {
			found++;
		}
		core_pem_clear(&blk);
		if (bad)
			return -1;
	}
	if (r < 0)
		return oom(err);
	if (!found) {
		core_err_set(err, SSLSOCKET_ERROR_SSL, EINVAL, "cannot load %s from %s: %s", what, path,
		             certs ? "no PEM certificate or CRL in it" : "no PEM CRL (X509 CRL) in it");
		return -1;
	}
	return 0;
}

int core_config_quickcheck(const struct sslsocket_config *c, struct sslsocket_error *err)
{
	const struct sslsocket_options *o = &c->o;
	struct core_pem leaf = {0};
	struct core_pubkey pk;
	int rc = -1, unsure = 0;

	if (o->certfile) {
		const struct core_blob *cert = &c->f[CORE_F_CERT];
		const char *kf = core_config_path(c, CORE_F_KEY);
		const struct core_blob *kb = kf ? &c->f[CORE_F_KEY] : cert;
		if (check_chain(o->certfile, cert, &leaf, &pk, err) < 0) {
			core_err_option(err, SSLSOCKET_OPT_CERTFILE, o->certfile);
			goto out;
		}
		int r = check_key(kf ? kf : o->certfile, o->certfile, kb, &pk, err);
		if (r < 0) {
			core_err_option(err, o->keyfile ? SSLSOCKET_OPT_KEYFILE : SSLSOCKET_OPT_CERTFILE,
			                kf ? kf : o->certfile);
			goto out;
		}
		unsure |= r == CORE_QC_UNSURE;
	}
	if (o->ca_certs && check_pem_list(o->ca_certs, &c->f[CORE_F_CA], 1, err) < 0) {
		core_err_option(err, SSLSOCKET_OPT_CA_CERTS, o->ca_certs);
		goto out;
	}
	if (o->crl_file && check_pem_list(o->crl_file, &c->f[CORE_F_CRL], 0, err) < 0) {
		core_err_option(err, SSLSOCKET_OPT_CRL_FILE, o->crl_file);
		goto out;
	}
	rc = unsure ? CORE_QC_UNSURE : CORE_QC_OK;
out:
	core_pem_clear(&leaf);
	return rc;
}
