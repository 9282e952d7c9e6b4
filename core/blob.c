/*
 * blob.c - the bytes of a certificate, key, CA or CRL file, read now.
 *
 * A configuration (sslconfig.c) keeps the bytes it read and checked, so
 * that a context built from it later (a server's, after it dropped the
 * privileges that let it read its key) uses exactly what was checked; the
 * configuration's owner releases them. Nothing is kept here. stdio, not
 * read(2): the core calls no socket I/O by name, and these are files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "files_int.h"

/* Tests watch what is wiped (check_core_config): they see the bytes
 * after the wipe, before free. NULL in every program. */
void (*core_wipe_observer)(const unsigned char *p, size_t n);

void core_wipe_free(unsigned char *p, size_t n)
{
	if (!p)
		return;
	/* explicit_bzero, as OPENSSL_cleanse: this file is linked into the
	 * launcher too, which maps no OpenSSL (preload/launcher/launcher_ssl.c). */
	explicit_bzero(p, n);
	if (core_wipe_observer)
		core_wipe_observer(p, n);
	free(p);
}

void core_file_id_of(const struct stat *st, struct core_file_id *id)
{
	memset(id, 0, sizeof *id);
	id->dev = (unsigned long long)st->st_dev;
	id->ino = (unsigned long long)st->st_ino;
	id->size = (long long)st->st_size;
	id->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	id->ctime_ns = (long long)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
	id->mode = (unsigned)st->st_mode & 07777;
	id->uid = (unsigned long)st->st_uid;
}

int core_blob_read(const char *path, const char *what, int secret, struct core_blob *b,
                   struct sslsocket_error *err)
{
	struct stat st;
	int saved = errno;

	memset(b, 0, sizeof *b);
	FILE *f = fopen(path, "rbe");
	if (!f) {
		int e = errno;
		b->id.err = e;
		core_err_set(err, SSLSOCKET_ERROR_SSL, e, "cannot load %s from %s: %s", what, path,
		             CORE_STRERROR(e));
		return -1;
	}
	/* Unbuffered: the bytes go from the kernel straight into d, which is
	 * wiped when freed; a stdio buffer would keep a copy of a key's bytes
	 * in freed memory, and cost an fstat of its own to size itself. */
	setvbuf(f, NULL, _IONBF, 0);
	const char *why = NULL;
	char ebuf[128];
	int e = EINVAL;
	if (fstat(fileno(f), &st) < 0) {
		why = strerror_r(errno, ebuf, sizeof ebuf);
	} else if (!S_ISREG(st.st_mode)) {
		why = "not a regular file";
	} else if (st.st_size > CORE_BLOB_MAX) {
		why = "larger than 64 MiB";
	} else if (secret && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		/* Whoever may write it chooses the key this program proves
		 * itself with. */
		snprintf(ebuf, sizeof ebuf, "writable by group or others (mode %04o): refused, "
		         "as ssh refuses such a key (chmod go-w it)", (unsigned)st.st_mode & 07777);
		why = ebuf;
		e = EPERM;
	} else {
		core_file_id_of(&st, &b->id);
	}
	if (why) {
		fclose(f);
		b->id.err = e;
		core_err_set(err, SSLSOCKET_ERROR_SSL, e, "cannot load %s from %s: %s", what, path, why);
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
			core_wipe_free(d, cap);
			d = NULL;
			errno = EFBIG;
			break;
		}
		unsigned char *nd = malloc(cap * 2);
		if (nd)
			memcpy(nd, d, n);
		core_wipe_free(d, cap);
		d = nd;
		cap *= 2;
	}
	e = errno;
	if (!d || ferror(f)) {
		if (d)
			core_wipe_free(d, cap);
		fclose(f);
		b->id.err = e ? e : EIO;
		core_err_set(err, SSLSOCKET_ERROR_SSL, e ? e : EIO, "cannot load %s from %s: %s", what,
		             path, CORE_STRERROR(e ? e : EIO));
		return -1;
	}
	fclose(f);
	d[n] = 0;
	b->data = d;
	b->len = n;
	b->cap = cap;
	errno = saved;
	return 0;
}

void core_blob_release(struct core_blob *b)
{
	if (b->data)
		core_wipe_free(b->data, b->cap ? b->cap : b->len + 1);
	memset(b, 0, sizeof *b);
}
