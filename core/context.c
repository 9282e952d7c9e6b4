/*
 * context.c - options to SSL_CTX: a context is built from a configuration
 * (sslconfig.c) and reference-counted; whoever keeps one (a caller, each
 * socket wrapped with it) holds a reference, and the library keeps none.
 * Client sessions per destination; ALPN; the NSS key log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ossl_int.h"

#include "files_int.h"
#include "identity_int.h"

#define CORE_MAX_SESSIONS 256

/* Live contexts, for sslsocket_ctx_count (a statistic, not a cache). */
static size_t live_count;

static pthread_once_t ex_once = PTHREAD_ONCE_INIT;
static int ex_index = -1;

static void ex_init(void)
{
	ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

int core_ssl_ex_index(void)
{
	pthread_once(&ex_once, ex_init);
	return ex_index;
}

/* ALPN list in wire format: each protocol prefixed by its length. */
static unsigned char *alpn_wire(const struct sslsocket_options *o, size_t *len)
{
	size_t total = 0;
	for (size_t i = 0; i < o->alpn_count; i++)
		total += 1 + strlen(o->alpn[i]);
	unsigned char *w = malloc(total ? total : 1);
	if (!w)
		return NULL;
	size_t p = 0;
	for (size_t i = 0; i < o->alpn_count; i++) {
		size_t n = strlen(o->alpn[i]);
		w[p++] = (unsigned char)n;
		memcpy(w + p, o->alpn[i], n);
		p += n;
	}
	*len = total;
	return w;
}

static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	struct sslsocket_ctx *c = arg;
	unsigned char *sel = NULL;
	/* Server preference order; no overlap means no ALPN (RFC 7301 allows
	 * a fatal alert, but the seed's servers never refused on it). */
	if (SSL_select_next_proto(&sel, outlen, c->alpn, (unsigned int)c->alpn_len, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static void keylog_cb(const SSL *ssl, const char *line)
{
	struct sslsocket_ctx *c = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	if (!c || !c->keylog)
		return;
	/* A signal handler's handshake on the thread that holds the lock
	 * (error-checking: EDEADLK) loses its line rather than hang. stdio
	 * writes through libc's internal write, not the name `write` that
	 * the interposer hooks. */
	if (pthread_mutex_lock(&c->keylog_lock) != 0)
		return;
	if (c->keylog && !core_fdident_same(fileno(c->keylog), &c->keylog_id)) {
		/* The program closed the descriptor (close_range, closefrom)
		 * and may have it again as a socket: the secrets stop here. */
		c->keylog_abandoned = c->keylog;
		c->keylog = NULL;
	}
	if (c->keylog) {
		fputs(line, c->keylog);
		fputc('\n', c->keylog);
		fflush(c->keylog);
	}
	pthread_mutex_unlock(&c->keylog_lock);
}

static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct sslsocket_ctx *c = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	struct sslsocket *s = SSL_get_ex_data(ssl, core_ssl_ex_index());
	if (!c || !s || !s->dest || !SSL_SESSION_is_resumable(sess))
		return 0;
	struct core_session *n = calloc(1, sizeof *n);
	if (!n || !(n->dest = strdup(s->dest))) {
		free(n);
		return 0;
	}
	if (pthread_mutex_lock(&c->sess_lock) != 0) { /* EDEADLK: see keylog_cb */
		free(n->dest);
		free(n);
		return 0;
	}
	n->sess = sess; /* returning 1 hands us the reference */
	struct core_session **pp = &c->sessions, *old = NULL;
	for (; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->dest, n->dest) == 0) {
			old = *pp;
			*pp = old->next;
			c->nsessions--;
			break;
		}
	}
	n->next = c->sessions;
	c->sessions = n;
	c->nsessions++;
	/* Bounded: drop the oldest beyond the limit. */
	struct core_session *drop = NULL;
	if (c->nsessions > CORE_MAX_SESSIONS) {
		struct core_session *p = c->sessions;
		while (p->next && p->next->next)
			p = p->next;
		drop = p->next;
		p->next = NULL;
		c->nsessions--;
	}
	pthread_mutex_unlock(&c->sess_lock);
	for (struct core_session *d = old; d; d = drop, drop = NULL) {
		SSL_SESSION_free(d->sess);
		free(d->dest);
		free(d);
	}
	return 1;
}

SSL_SESSION *core_session_get(struct sslsocket_ctx *c, const char *dest)
{
	SSL_SESSION *r = NULL;
	if (!c || !dest || !c->session_cache || c->server_side)
		return NULL;
	if (pthread_mutex_lock(&c->sess_lock) != 0) /* EDEADLK: see keylog_cb */
		return NULL;
	for (struct core_session *p = c->sessions; p; p = p->next) {
		if (strcmp(p->dest, dest) == 0) {
			if (SSL_SESSION_up_ref(p->sess))
				r = p->sess;
			break;
		}
	}
	pthread_mutex_unlock(&c->sess_lock);
	return r;
}

/* The key log file, for appending: created 0600 (it holds every session's
 * secrets, whatever the umask) and close-on-exec (a program the wrapped
 * one runs must not inherit it). mknod creates the file with its mode
 * before anything can open it; fopen's "e" is O_CLOEXEC. Neither name is
 * one the interposer hooks (open+fdopen, dprintf and syscall are).
 * What was opened must be the process's own secret file: a symbolic link
 * (a name in /tmp pointing at another file), a file another user made
 * (whose owner could read the secrets) or one that group or others may
 * read is refused, with *why saying which. */
static FILE *keylog_open(const char *path, const char **why, struct core_fdident *opened)
{
	struct stat st, lst;
	FILE *f;

	*why = NULL;
	if (mknod(path, S_IFREG | 0600, 0) < 0 && errno != EEXIST)
		return NULL;
	f = fopen(path, "ae");
	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) < 0 || lstat(path, &lst) < 0)
		*why = "cannot be checked";
	else if (S_ISLNK(lst.st_mode) || lst.st_dev != st.st_dev || lst.st_ino != st.st_ino)
		*why = "is a symbolic link";
	else if (!S_ISREG(st.st_mode))
		*why = "is not a regular file";
	else if (st.st_uid != geteuid())
		*why = "belongs to another user";
	else if (st.st_mode & 077)
		*why = "may be read or written by group or others (chmod 600 it)";
	if (*why) {
		fclose(f);
		errno = EPERM;
		return NULL;
	}
	opened->dev = st.st_dev;
	opened->ino = st.st_ino;
	return f;
}

SSL_CTX *core_ssl_ctx_build(const struct sslsocket_options *o, struct sslsocket_ctx *owner,
                            const struct sslsocket_config *files, struct sslsocket_error *err)
{
	if (core_options_check_cheap(o, &core_ossl_checks, err) < 0)
		return NULL;
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(o->server_side ? TLS_server_method() : TLS_client_method());
	if (!ctx) {
		core_err_ossl(err, SSLSOCKET_ERROR_SSL, ENOMEM, "cannot create SSL context");
		return NULL;
	}
	int ver = core_protocol_version(o->ssl_version);
	int minv = ver ? ver : CORE_MIN_NEGOTIATED, maxv = ver ? ver : TLS1_3_VERSION;
	if (!SSL_CTX_set_min_proto_version(ctx, minv) || !SSL_CTX_set_max_proto_version(ctx, maxv)) {
		core_err_ossl(err, SSLSOCKET_ERROR_VALUE, EPROTONOSUPPORT, "cannot pin %s",
		              sslsocket_protocol_name(o->ssl_version));
		core_err_option(err, SSLSOCKET_OPT_SSL_VERSION, NULL);
		goto fail;
	}
	/* Neither side renegotiates (a TLS 1.2 client asking for it is
	 * refused); a server picks the suite from its own list. */
	uint64_t sslopts = SSL_OP_NO_RENEGOTIATION;
	if (o->server_side)
		sslopts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
	SSL_CTX_set_options(ctx, sslopts);
	/* DHE suites use the RFC 7919 group that matches the key's size. */
	if (o->server_side)
		SSL_CTX_set_dh_auto(ctx, 1);
	long mode = SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
	if (o->release_buffers)
		mode |= SSL_MODE_RELEASE_BUFFERS;
	SSL_CTX_set_mode(ctx, mode);
	/* One recv takes whatever whole records the kernel has; SSL_has_pending
	 * then covers what SSL_pending cannot see. */
	SSL_CTX_set_read_ahead(ctx, 1);

	if (core_ctx_load_files(ctx, o, files, err) < 0)
		goto fail;
	if (!o->ca_certs && o->ca_certs_default) {
		if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			core_err_ossl(err, SSLSOCKET_ERROR_SSL, EINVAL, "cannot load the system CA store");
			core_err_option(err, SSLSOCKET_OPT_CA_CERTS, NULL);
			goto fail;
		}
	}
	int vmode = SSL_VERIFY_NONE;
	if (o->cert_reqs != SSLSOCKET_CERT_NONE)
		vmode = SSL_VERIFY_PEER;
	if (o->server_side && o->cert_reqs == SSLSOCKET_CERT_REQUIRED)
		vmode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	if (owner && (o->allow_names_count || o->pin_sha256_count)) {
		/* allow_names, pin_sha256: checked in the verify callback, inside
		 * the handshake; a server must then have the client's certificate. */
		if (!(owner->identity = core_identity_new(o, err)))
			goto fail;
		if (o->server_side)
			vmode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
		SSL_CTX_set_verify(ctx, vmode, core_identity_verify_cb);
	} else {
		SSL_CTX_set_verify(ctx, vmode, NULL);
	}

	/* No cipher string: forward secrecy and AEAD only, when TLS 1.2 can be
	 * spoken (TLS 1.3's suites all are; a pinned TLS 1.0 or 1.1, which
	 * has no such suite, keeps OpenSSL's list). */
	const char *ciphers = o->ciphers;
	if (!ciphers && (ver == 0 || ver >= TLS1_2_VERSION))
		ciphers = CORE_DEFAULT_CIPHERS;
	if (ciphers && SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
		core_err_ossl(err, SSLSOCKET_ERROR_VALUE, EINVAL, "invalid cipher string \"%s\"", ciphers);
		core_err_option(err, SSLSOCKET_OPT_CIPHERS, NULL);
		goto fail;
	}
	if (o->alpn_count) {
		size_t wl = 0;
		unsigned char *w = alpn_wire(o, &wl);
		if (!w) {
			core_err_set(err, SSLSOCKET_ERROR_SSL, ENOMEM, "out of memory");
			goto fail;
		}
		if (!o->server_side && SSL_CTX_set_alpn_protos(ctx, w, (unsigned int)wl) != 0) {
			free(w);
			core_err_ossl(err, SSLSOCKET_ERROR_VALUE, EINVAL, "invalid ALPN list");
			core_err_option(err, SSLSOCKET_OPT_ALPN, NULL);
			goto fail;
		}
		if (owner) {
			owner->alpn = w;
			owner->alpn_len = wl;
			if (o->server_side)
				SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, owner);
		} else {
			free(w);
		}
	}
	if (o->server_side) {
		/* Required for resumption once client certificates are verified. */
		SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"tlsshim", 7);
	} else if (o->session_cache && owner) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	}
	if (o->keylog_file) {
		const char *why;
		struct core_fdident id;
		FILE *f = keylog_open(o->keylog_file, &why, &id);
		if (!f) {
			int e = errno ? errno : EINVAL;
			core_err_set(err, SSLSOCKET_ERROR_SYSCALL, e, "cannot open key log file %s: %s",
			             o->keylog_file, why ? why : CORE_STRERROR(e));
			core_err_option(err, SSLSOCKET_OPT_KEYLOG_FILE, o->keylog_file);
			goto fail;
		}
		if (owner) {
			owner->keylog = f;
			owner->keylog_id = id;
			SSL_CTX_set_keylog_callback(ctx, keylog_cb);
		} else {
			fclose(f);
		}
	}
	if (owner)
		SSL_CTX_set_app_data(ctx, owner);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* ---- contexts ------------------------------------------------------------- */

static void ctx_destroy(struct sslsocket_ctx *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ssl_ctx);
	for (struct core_session *p = c->sessions, *n; p; p = n) {
		n = p->next;
		SSL_SESSION_free(p->sess);
		free(p->dest);
		free(p);
	}
	if (c->keylog)
		fclose(c->keylog);
	pthread_mutex_destroy(&c->sess_lock);
	pthread_mutex_destroy(&c->keylog_lock);
	core_identity_free(c->identity);
	free(c->alpn);
	free(c);
}

sslsocket_ctx *sslsocket_ctx_new_config(sslsocket_config *cfg, struct sslsocket_error *err)
{
	int saved = errno;
	if (!cfg) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "no configuration given");
		return NULL;
	}
	const struct sslsocket_options *o = &cfg->o;
	if (core_options_check_cheap(o, &core_ossl_checks, err) < 0)
		return NULL;
	struct sslsocket_ctx *c = calloc(1, sizeof *c);
	if (!c) {
		core_err_set(err, SSLSOCKET_ERROR_SSL, ENOMEM, "out of memory");
		return NULL;
	}
	core_mutex_init(&c->sess_lock);
	core_mutex_init(&c->keylog_lock);
	c->server_side = o->server_side;
	c->cert_reqs = (int)o->cert_reqs;
	c->version = (int)o->ssl_version;
	c->session_cache = o->session_cache;
	c->ssl_ctx = core_ssl_ctx_build(o, c, cfg, err);
	if (!c->ssl_ctx) {
		int e = errno;
		ctx_destroy(c);
		errno = e;
		return NULL;
	}
	c->refs = 1;
	__atomic_add_fetch(&live_count, 1, __ATOMIC_RELAXED);
	errno = saved;
	return c;
}

sslsocket_ctx *sslsocket_ctx_new(const struct sslsocket_options *o, struct sslsocket_error *err)
{
	int saved = errno;
	struct sslsocket_config *cfg = core_config_read(o, &core_ossl_checks, err);
	if (!cfg)
		return NULL;
	sslsocket_ctx *c = sslsocket_ctx_new_config(cfg, err);
	int e = errno;
	sslsocket_config_free(cfg); /* the context holds what it loaded */
	errno = c ? saved : e;
	return c;
}

sslsocket_ctx *sslsocket_ctx_ref(sslsocket_ctx *c)
{
	if (c)
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
	return c;
}

void core_ctx_ref(struct sslsocket_ctx *c)
{
	sslsocket_ctx_ref(c);
}

void sslsocket_ctx_free(sslsocket_ctx *c)
{
	if (!c)
		return;
	int saved = errno;
	if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		ctx_destroy(c);
		__atomic_sub_fetch(&live_count, 1, __ATOMIC_RELAXED);
	}
	errno = saved;
}

size_t sslsocket_ctx_count(void)
{
	return __atomic_load_n(&live_count, __ATOMIC_RELAXED);
}
