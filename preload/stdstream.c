/*
 * stdstream.c - streams whose descriptor becomes a wrapped connection.
 *
 * glibc's stdio writes and reads a FILE's descriptor with its internal
 * write and read, which no hook sees. A FILE made before its descriptor
 * was wrapped would put printf's bytes on the wire in clear and hand
 * ciphertext to fgets: stdout after dup2(sock, 1), or after a daemon closed
 * 0-2 and its socket took the number; a FILE fdopen'ed on a descriptor
 * that later became a socket. So whenever a wrapped connection is
 * installed at a descriptor:
 *
 *  - every FILE on glibc's list of streams whose descriptor is that number
 *    has it replaced by -1: its reads and writes fail (EBADF), nothing of
 *    it reaches the socket;
 *  - for 0, 1 and 2, stdin, stdout or stderr is pointed at a stream whose
 *    reads and writes go through TLS (cookie streams that look the
 *    descriptor up on every call), and output still buffered in the old
 *    stream moves to it. When the number stops naming a connection (close,
 *    dup2 of something else onto it), the old stream gets its descriptor
 *    back and the variable its old value.
 *
 * exit() flushes stdio after every atexit handler, so after exitnotify.c's
 * close_notify: a stream's last buffered bytes (printf on a bound stdout,
 * fprintf on a stream fdopen'ed on the socket) would be refused by a
 * connection already shut for writing. exitnotify.c's handler calls
 * ts_streams_flush_at_exit first.
 *
 * A program that kept the old stdout pointer (C++'s std::cout does) gets
 * EBADF on it, never plaintext. libc's own writes to descriptor 2 that use
 * no stream (syslog's LOG_PERROR, fatal error messages) cannot be seen: a
 * warn line says so when 2 becomes a connection (tlsshim(1), CAVEATS).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytepath.h"
#include "conn_fd.h"
#include "conn.h"
#include "fdtab.h"
#include "log.h"
#include "real.h"

/* libio's iterator over every open FILE (exported since glibc 2.2.5,
 * declared in no public header), from ts_real: an iterator is an opaque
 * pointer that _IO_iter_file turns into its FILE. */
typedef FILE *io_iter;

static pthread_mutex_t std_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *std_cookie[3]; /* ours, made once, kept (others may hold it) */
static FILE *std_orig[3];   /* what the variable held when it was bound */
static int std_bound[3];

static FILE **std_var(int fd)
{
	return fd == 0 ? &stdin : fd == 1 ? &stdout : &stderr;
}

/* fclose(stdout) on the bound stream closes the descriptor, as it would. */
static int std_close(void *cookie)
{
	return ts_close((int)(intptr_t)cookie);
}

/* Calls fn(fp, arg) on every open FILE, under libio's list lock. */
static void each_stream(void (*fn)(FILE *fp, void *arg), void *arg)
{
	const struct ts_real *r = ts_real_resolve();
	io_iter it;

	r->_IO_list_lock();
	for (it = r->_IO_iter_begin(); it != r->_IO_iter_end(); it = r->_IO_iter_next(it)) {
		FILE *fp = r->_IO_iter_file(it);

		if (fp != NULL)
			fn(fp, arg);
	}
	r->_IO_list_unlock();
}

struct poison {
	int fd;
	FILE *keep_pending_for;
};

/* A stream's descriptor, read by libc (fileno_unlocked), never from the
 * FILE here: another thread's fopen links its new FILE into the list and
 * then sets _fileno outside the list lock. That store and this read are
 * libc's own business, ordered by libc's internal lock, which the thread
 * sanitizer cannot see; read from our code it was reported as a race with
 * fopen (test_evloop_tsan, evprog_threads ... fopen). A stream being made
 * never holds the number of a connection being installed: that number is
 * an open socket already. Cookie streams answer -1. */
static int stream_fd(FILE *fp)
{
	return fileno_unlocked(fp);
}

static void poison_one(FILE *fp, void *arg)
{
	const struct poison *p = arg;
	int locked;

	if (stream_fd(fp) != p->fd)
		return;
	locked = ftrylockfile(fp) == 0;
	if (p->keep_pending_for != NULL && fp == std_orig[p->fd] && locked &&
	    fp->_IO_write_ptr > fp->_IO_write_base) {
		/* output still buffered for this number: it goes
		 * through TLS, as it would have gone to the socket */
		fwrite(fp->_IO_write_base, 1, (size_t)(fp->_IO_write_ptr - fp->_IO_write_base),
		       p->keep_pending_for);
		fp->_IO_write_ptr = fp->_IO_write_base;
	}
	fp->_fileno = -1;
	if (locked)
		funlockfile(fp);
}

/* Takes the descriptor away from every stream on fd (not ours: a cookie
 * stream's fileno is -1). ftrylockfile: a thread blocked in fgets holds
 * its stream's lock; waiting for it would hang this connect or accept. */
static void poison_streams(int fd, FILE *keep_pending_for)
{
	struct poison p = { .fd = fd, .keep_pending_for = keep_pending_for };

	each_stream(poison_one, &p);
}

/* trylock: a thread blocked in a read on the stream holds its lock; glibc
 * flushes that one after the close_notify, as before. */
static void flush_one(FILE *fp, void *arg)
{
	(void)arg;
	if (ftrylockfile(fp) != 0)
		return;
	if (fp->_IO_write_ptr > fp->_IO_write_base)
		fflush_unlocked(fp);
	funlockfile(fp);
}

void ts_streams_flush_at_exit(void)
{
	each_stream(flush_one, NULL);
}

static int is_conn(int fd)
{
	struct ts_conn *c;

	if (ts_conn_lookup(fd, &c) != TS_FD_OURS)
		return 0;
	ts_conn_release(c);
	return 1;
}

static void std_bind(int fd)
{
	cookie_io_functions_t io = { .read = ts_cookie_read, .write = ts_cookie_write, .close = std_close };
	FILE **var = std_var(fd);
	FILE *cur = *var;

	if (std_cookie[fd] == NULL) {
		std_cookie[fd] = fopencookie((void *)(intptr_t)fd, fd == 0 ? "r" : "w", io);
		if (std_cookie[fd] != NULL && fd == 2)
			setvbuf(std_cookie[fd], NULL, _IONBF, 0);
	}
	std_orig[fd] = cur != NULL && cur != std_cookie[fd] && stream_fd(cur) == fd ? cur : NULL;
	poison_streams(fd, fd > 0 ? std_cookie[fd] : NULL);
	if (std_cookie[fd] != NULL) {
		*var = std_cookie[fd];
		std_bound[fd] = 1;
	}
	if (fd == 2)
		ts_log(CFG_LOG_WARN, "fd 2 is now a TLS connection: stderr goes through TLS, but "
		                     "libc's own messages on fd 2 (syslog LOG_PERROR, fatal errors) "
		                     "cannot be seen by tlsshim");
}

static void std_unbind(int fd)
{
	FILE **var = std_var(fd);

	if (*var == std_cookie[fd] && std_orig[fd] != NULL)
		*var = std_orig[fd];
	if (std_orig[fd] != NULL) {
		int locked = ftrylockfile(std_orig[fd]) == 0;

		std_orig[fd]->_fileno = fd;
		if (locked)
			funlockfile(std_orig[fd]);
	}
	std_orig[fd] = NULL;
	std_bound[fd] = 0;
}

void ts_stdio_changed(int fd)
{
	int saved = errno, conn;

	if (fd < 0 || ts_depth > 0)
		return;
	conn = is_conn(fd);
	if (fd > 2) {
		if (conn)
			poison_streams(fd, NULL);
		errno = saved;
		return;
	}
	pthread_mutex_lock(&std_lock);
	if (conn && !std_bound[fd])
		std_bind(fd);
	else if (!conn && std_bound[fd])
		std_unbind(fd);
	pthread_mutex_unlock(&std_lock);
	errno = saved;
}
