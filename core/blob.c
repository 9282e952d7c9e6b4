/*
 * blob.c - the bytes of a certificate, key or CA file.
 *
 * Contexts load their files from memory. sslsocket_options_prefetch keeps
 * the bytes it checked, so that a context built later (a server's, after
 * it dropped the privileges that let it read its key) uses exactly what
 * was checked; without a prefetch the file is read when the context is
 * built, as before. stdio, not read(2): the core calls no socket I/O by
 * name, and these are files.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "files_int.h"

struct kept {
	char *path;
	unsigned char *data;
	size_t len;
	struct kept *next;
};

static void wipe_free(unsigned char *p, size_t n)
{
	explicit_bzero(p, n);
	free(p);
}

static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kept *kept_head;

int core_blob_read(const char *path, const char *what, struct core_blob *b,
                   struct sslsocket_error *err)
{
	struct stat st;
	int saved = errno;

	memset(b, 0, sizeof *b);
	FILE *f = fopen(path, "rbe");
	if (!f) {
		int e = errno;
		core_err_set(err, SSLSOCKET_ERROR_SSL, e, "cannot load %s from %s: %s", what, path,
		             CORE_STRERROR(e));
		return -1;
	}
	const char *why = NULL;
	char ebuf[128];
	if (fstat(fileno(f), &st) < 0)
		why = strerror_r(errno, ebuf, sizeof ebuf);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_size > CORE_BLOB_MAX)
		why = "larger than 64 MiB";
	if (why) {
		fclose(f);
		core_err_set(err, SSLSOCKET_ERROR_SSL, EINVAL, "cannot load %s from %s: %s", what, path,
		             why);
		return -1;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	unsigned char *d = malloc(cap);
	while (d) {
		n += fread(d + n, 1, cap - n, f);
		if (n < cap || ferror(f))
			break;
		/* The file grew since fstat: take the rest too, within the limit. */
		if (cap > CORE_BLOB_MAX) {
			wipe_free(d, cap);
			d = NULL;
			errno = EFBIG;
			break;
		}
		unsigned char *nd = malloc(cap * 2);
		if (nd)
			memcpy(nd, d, n);
		wipe_free(d, cap);
		d = nd;
		cap *= 2;
	}
	int e = errno;
	if (!d || ferror(f)) {
		if (d)
			wipe_free(d, cap);
		fclose(f);
		core_err_set(err, SSLSOCKET_ERROR_SSL, e ? e : EIO, "cannot load %s from %s: %s", what,
		             path, CORE_STRERROR(e ? e : EIO));
		return -1;
	}
	fclose(f);
	d[n] = 0;
	b->data = d;
	b->len = n;
	errno = saved;
	return 0;
}

int core_blob_get(const char *path, const char *what, struct core_blob *b,
                  struct sslsocket_error *err)
{
	pthread_mutex_lock(&kept_lock);
	for (struct kept *k = kept_head; k; k = k->next) {
		if (strcmp(k->path, path) == 0) {
			b->data = k->data;
			b->len = k->len;
			b->kept = 1;
			pthread_mutex_unlock(&kept_lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&kept_lock);
	return core_blob_read(path, what, b, err);
}

void core_blob_keep(const char *path, struct core_blob *b)
{
	if (b->kept || !b->data)
		return;
	struct kept *k = calloc(1, sizeof *k);
	if (!k || !(k->path = strdup(path))) {
		free(k);
		return; /* only a cache: the context reads the file itself */
	}
	pthread_mutex_lock(&kept_lock);
	for (struct kept *o = kept_head; o; o = o->next) {
		if (strcmp(o->path, path) == 0) {
			pthread_mutex_unlock(&kept_lock);
			free(k->path);
			free(k);
			core_blob_release(b);
			b->data = o->data;
			b->len = o->len;
			b->kept = 1;
			return;
		}
	}
	k->data = b->data;
	k->len = b->len;
	k->next = kept_head;
	kept_head = k;
	pthread_mutex_unlock(&kept_lock);
	b->kept = 1;
}

void core_blob_release(struct core_blob *b)
{
	if (b->data && !b->kept)
		wipe_free(b->data, b->len + 1);
	memset(b, 0, sizeof *b);
}
