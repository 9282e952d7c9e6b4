/*
 * sslconfig.c - sslsocket_config: a copy of the options and the bytes of
 * their files, reference-counted, owned by whoever keeps it (libtls's
 * tls_config: setters copy, the owner frees). The library keeps no
 * configuration, context or file bytes of its own: what a process holds,
 * its owner releases, and private keys are wiped when they are.
 *
 * OpenSSL-free: linked into the launcher too, which passes checks
 * (struct core_checks) that reach OpenSSL through libsslsocket.so. The
 * public constructors, with OpenSSL's own checks, are in options.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files_int.h"

static const char *const what_of[CORE_F_COUNT] = {
	[CORE_F_CERT] = "certificate",
	[CORE_F_KEY] = "private key",
	[CORE_F_CA] = "CA certificates",
	[CORE_F_CRL] = "CRLs",
};

static const int option_of[CORE_F_COUNT] = {
	[CORE_F_CERT] = SSLSOCKET_OPT_CERTFILE,
	[CORE_F_KEY] = SSLSOCKET_OPT_KEYFILE,
	[CORE_F_CA] = SSLSOCKET_OPT_CA_CERTS,
	[CORE_F_CRL] = SSLSOCKET_OPT_CRL_FILE,
};

const char *core_config_path(const struct sslsocket_config *c, int k)
{
	switch (k) {
	case CORE_F_CERT: return c->o.certfile;
	case CORE_F_KEY:
		return c->o.keyfile && c->o.certfile && strcmp(c->o.keyfile, c->o.certfile) != 0
		               ? c->o.keyfile
		               : NULL;
	case CORE_F_CA: return c->o.ca_certs;
	case CORE_F_CRL: return c->o.crl_file;
	default: return NULL;
	}
}

/* The kind of file that holds c's private key: the keyfile, or the
 * certificate file when there is no separate keyfile. */
static int key_holder(const struct sslsocket_config *c)
{
	return core_config_path(c, CORE_F_KEY) ? CORE_F_KEY : CORE_F_CERT;
}

static void free_list(char **l, size_t n)
{
	if (l)
		for (size_t i = 0; i < n; i++)
			free(l[i]);
	free(l);
}

/* An owned copy of a list of n strings in *out; 0, or -1 out of memory. */
static int copy_list(const char *const *in, size_t n, char ***out)
{
	*out = NULL;
	if (!n || !in)
		return 0;
	if (!(*out = calloc(n, sizeof **out)))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (in[i] && !((*out)[i] = strdup(in[i])))
			return -1;
	return 0;
}

static void config_destroy(struct sslsocket_config *c)
{
	for (int k = 0; k < CORE_F_COUNT; k++)
		core_blob_release(&c->f[k]);
	for (size_t i = 0; i < sizeof c->strs / sizeof c->strs[0]; i++)
		free(c->strs[i]);
	free_list(c->alpn, c->o.alpn_count);
	free_list(c->allow_names, c->o.allow_names_count);
	free_list(c->pin_sha256, c->o.pin_sha256_count);
	free(c);
}

/* A copy of o that owns its strings. */
static struct sslsocket_config *config_copy(const struct sslsocket_options *o)
{
	struct sslsocket_config *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->refs = 1;
	c->o = *o;
	const char **fields[7] = {&c->o.keyfile,         &c->o.certfile, &c->o.ca_certs,
	                          &c->o.crl_file,        &c->o.server_hostname,
	                          &c->o.ciphers,         &c->o.keylog_file};
	for (int i = 0; i < 7; i++) {
		if (*fields[i] && !(c->strs[i] = strdup(*fields[i])))
			goto fail;
		*fields[i] = c->strs[i];
	}
	int bad = copy_list(o->alpn, o->alpn_count, &c->alpn) < 0;
	bad |= copy_list(o->allow_names, o->allow_names_count, &c->allow_names) < 0;
	bad |= copy_list(o->pin_sha256, o->pin_sha256_count, &c->pin_sha256) < 0;
	c->o.alpn = (const char *const *)c->alpn;
	c->o.allow_names = (const char *const *)c->allow_names;
	c->o.pin_sha256 = (const char *const *)c->pin_sha256;
	if (bad)
		goto fail;
	return c;
fail:
	config_destroy(c);
	return NULL;
}

struct sslsocket_config *core_config_read(const struct sslsocket_options *o,
                                          const struct core_checks *chk,
                                          struct sslsocket_error *err)
{
	if (core_options_check_cheap(o, chk, err) < 0)
		return NULL;
	struct sslsocket_config *c = config_copy(o);
	if (!c) {
		core_err_set(err, SSLSOCKET_ERROR_SSL, ENOMEM, "out of memory");
		return NULL;
	}
	for (int k = 0; k < CORE_F_COUNT; k++) {
		const char *path = core_config_path(c, k);
		if (path && core_blob_read(path, what_of[k], k == key_holder(c), &c->f[k], err) < 0) {
			int e = errno;
			/* keyfile = certfile: refused as the key, missing as both */
			core_err_option(err, k == key_holder(c) && c->o.keyfile ? SSLSOCKET_OPT_KEYFILE
			                                                        : option_of[k], path);
			config_destroy(c);
			errno = e;
			return NULL;
		}
	}
	return c;
}

struct sslsocket_config *core_config_new(const struct sslsocket_options *o,
                                         const struct core_checks *chk,
                                         struct sslsocket_error *err)
{
	int saved = errno;
	struct sslsocket_config *c = core_config_read(o, chk, err);
	if (!c)
		return NULL;
	int r = core_config_quickcheck(c, err);
	/* Only a context can judge a cipher list or a CRL. */
	if (r == CORE_QC_OK && (o->ciphers || o->crl_file))
		r = CORE_QC_UNSURE;
	if (r == CORE_QC_UNSURE) {
		/* Everything but the system CA store: loading that bundle costs
		 * 30 to 50 ms, for a file the user did not name; the context
		 * loads it when it is built. Without a store to verify with,
		 * the check must not verify. */
		struct sslsocket_options t = c->o;
		if (t.ca_certs_default && !t.ca_certs) {
			t.ca_certs_default = 0;
			t.cert_reqs = SSLSOCKET_CERT_NONE;
		}
		t.keylog_file = NULL; /* opening it is the context's business */
		r = chk->options_check(&t, err);
	}
	if (r < 0) {
		int e = errno;
		config_destroy(c);
		errno = e;
		return NULL;
	}
	errno = saved;
	return c;
}

sslsocket_config *sslsocket_config_ref(sslsocket_config *c)
{
	if (c)
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
	return c;
}

void sslsocket_config_free(sslsocket_config *c)
{
	if (!c)
		return;
	int saved = errno;
	if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
		config_destroy(c);
	errno = saved;
}

int sslsocket_config_set_keylog_file(sslsocket_config *c, const char *path)
{
	char *d = NULL;
	if (!c || (path && !(d = strdup(path)))) {
		errno = c ? ENOMEM : EINVAL;
		return -1;
	}
	free(c->strs[6]);
	c->strs[6] = d;
	c->o.keylog_file = d;
	return 0;
}

int sslsocket_config_keyfile_state(const sslsocket_config *c, struct sslsocket_keyfile_state *out)
{
	memset(out, 0, sizeof *out);
	if (!c || !c->o.certfile || !c->f[key_holder(c)].data) {
		errno = ENOENT;
		return -1;
	}
	const struct core_file_id *id = &c->f[key_holder(c)].id;
	out->path = core_config_path(c, key_holder(c));
	out->mode = id->mode;
	out->uid = id->uid;
	if (id->mode & (S_IRGRP | S_IROTH))
		out->concerns |= SSLSOCKET_KEYFILE_READABLE;
	if (id->uid != 0 && id->uid != (unsigned long)geteuid())
		out->concerns |= SSLSOCKET_KEYFILE_FOREIGN;
	return 0;
}

int sslsocket_config_trustfile_state(const sslsocket_config *c, int option,
                                     struct sslsocket_keyfile_state *out)
{
	int k = option == SSLSOCKET_OPT_CA_CERTS ? CORE_F_CA
	        : option == SSLSOCKET_OPT_CRL_FILE ? CORE_F_CRL : -1;

	memset(out, 0, sizeof *out);
	if (!c || k < 0 || !core_config_path(c, k) || !c->f[k].data) {
		errno = ENOENT;
		return -1;
	}
	const struct core_file_id *id = &c->f[k].id;
	out->path = core_config_path(c, k);
	out->mode = id->mode;
	out->uid = id->uid;
	if (id->mode & (S_IWGRP | S_IWOTH))
		out->concerns |= SSLSOCKET_FILE_WRITABLE;
	if (id->uid != 0 && id->uid != (unsigned long)geteuid())
		out->concerns |= SSLSOCKET_KEYFILE_FOREIGN;
	return 0;
}

const struct sslsocket_options *sslsocket_config_options(const sslsocket_config *c)
{
	return c ? &c->o : NULL;
}

static unsigned long long fnv(unsigned long long h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

int sslsocket_config_changed(const sslsocket_config *c, unsigned long long *stamp)
{
	unsigned long long h = 14695981039346656037ULL;
	int changed = 0, saved = errno;
	if (!c)
		return 0;
	for (int k = 0; k < CORE_F_COUNT; k++) {
		const char *path = core_config_path(c, k);
		struct core_file_id now;
		struct stat st;
		if (!path)
			continue;
		if (stat(path, &st) == 0) {
			core_file_id_of(&st, &now);
		} else {
			memset(&now, 0, sizeof now);
			now.err = errno ? errno : ENOENT;
		}
		const struct core_file_id *was = &c->f[k].id;
		if (now.err || now.dev != was->dev || now.ino != was->ino || now.size != was->size ||
		    now.mtime_ns != was->mtime_ns || now.ctime_ns != was->ctime_ns)
			changed = 1;
		h = fnv(h, &k, sizeof k);
		h = fnv(h, &now, sizeof now);
	}
	if (stamp)
		*stamp = h;
	errno = saved;
	return changed;
}
