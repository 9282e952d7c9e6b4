/*
 * conn_copy.c - the calls that move bytes without a user buffer:
 * sendfile, splice, copy_file_range, sendmmsg, recvmmsg.
 *
 * On a wrapped socket the kernel must never move file bytes itself (they
 * would leave in clear: DESIGN.md part 6), so the bytes pass through a
 * buffer here and through TLS. A TLS record holds 16 KiB, so that is the
 * chunk.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "epoll.h"
#include "real.h"

#define CHUNK 16384

/* Gives back bytes read from TLS that could not be delivered (a full
 * pipe): they become the next bytes a read returns. */
static void unread(struct ts_conn *c, const char *buf, size_t n)
{
	size_t rest;

	pthread_mutex_lock(&c->peek_lock);
	if (c->peek_buf == NULL) {
		c->peek_buf = malloc(64 * 1024);
		c->peek_cap = c->peek_buf ? 64 * 1024 : 0;
		c->peek_len = c->peek_off = 0;
	}
	rest = c->peek_len - c->peek_off;
	if (c->peek_buf != NULL && n + rest <= c->peek_cap) {
		memmove(c->peek_buf + n, c->peek_buf + c->peek_off, rest);
		memcpy(c->peek_buf, buf, n);
		c->peek_off = 0;
		c->peek_len = n + rest;
		atomic_store(&c->peek_avail, c->peek_len);
		ts_conn_changed(c);
	}
	pthread_mutex_unlock(&c->peek_lock);
}

ssize_t ts_conn_sendfile(struct ts_conn *c, int in_fd, off_t *offset, size_t count)
{
	char buf[CHUNK];
	size_t total = 0;
	ssize_t got, put;
	off_t pos = offset ? *offset : 0;

	while (total < count) {
		size_t want = count - total < sizeof buf ? count - total : sizeof buf;

		got = offset ? TS_REAL(pread)(in_fd, buf, want, pos) : TS_REAL(read)(in_fd, buf, want);
		if (got < 0) {
			if (total > 0)
				break;
			return -1;
		}
		if (got == 0)
			break;
		put = ts_conn_write(c, buf, (size_t)got, 0);
		if (put < got) {
			int e = errno;

			/* what did not go out was not sent: give it back to the
			 * file position, as sendfile would not have consumed it */
			if (offset == NULL)
				(void)lseek(in_fd, -(off_t)(got - (put > 0 ? put : 0)), SEEK_CUR);
			if (put > 0) {
				total += (size_t)put;
				pos += put;
			}
			if (total == 0) {
				errno = e;
				return -1;
			}
			break;
		}
		total += (size_t)got;
		pos += got;
	}
	if (offset)
		*offset = pos;
	return (ssize_t)total;
}

ssize_t ts_conn_splice_out(struct ts_conn *c, int in_fd, size_t len, unsigned flags)
{
	char buf[CHUNK];
	size_t want = len < sizeof buf ? len : sizeof buf;
	ssize_t got, put;

	(void)flags;
	got = TS_REAL(read)(in_fd, buf, want);
	if (got <= 0)
		return got;
	put = ts_conn_write(c, buf, (size_t)got, 0);
	if (put < 0)
		return -1; /* the pipe's bytes are lost, as a failed splice loses nothing
		              the program can recover either way: the connection failed */
	return put;
}

ssize_t ts_conn_splice_in(struct ts_conn *c, int out_fd, size_t len, unsigned flags)
{
	/* At most PIPE_BUF: a pipe takes that much whole or not at all, so
	 * nothing is half-delivered. */
	char buf[PIPE_BUF];
	size_t want = len < sizeof buf ? len : sizeof buf;
	ssize_t got, put;

	got = ts_conn_read(c, buf, want, (flags & SPLICE_F_NONBLOCK) ? MSG_DONTWAIT : 0);
	if (got <= 0)
		return got;
	put = TS_REAL(write)(out_fd, buf, (size_t)got);
	if (put < got) {
		int e = errno;

		unread(c, buf + (put > 0 ? put : 0), (size_t)(got - (put > 0 ? put : 0)));
		if (put <= 0) {
			errno = e;
			return -1;
		}
	}
	return put;
}

int ts_conn_sendmmsg(struct ts_conn *c, struct mmsghdr *v, unsigned n, int flags)
{
	unsigned i;
	ssize_t r;

	for (i = 0; i < n; i++) {
		if (v[i].msg_hdr.msg_controllen > 0) {
			r = -1;
			errno = EOPNOTSUPP;
		} else {
			r = ts_conn_writev(c, v[i].msg_hdr.msg_iov, (int)v[i].msg_hdr.msg_iovlen, flags);
		}
		if (r < 0)
			return i > 0 ? (int)i : -1;
		v[i].msg_len = (unsigned)r;
	}
	return (int)n;
}

int ts_conn_recvmmsg(struct ts_conn *c, int fd, struct mmsghdr *v, unsigned n, int flags)
{
	unsigned i;
	ssize_t r;

	for (i = 0; i < n; i++) {
		r = ts_conn_recvmsg(c, fd, &v[i].msg_hdr, flags);
		if (r < 0)
			return i > 0 ? (int)i : -1;
		v[i].msg_len = (unsigned)r;
		if (r == 0)
			return (int)i + 1;
		/* after the first message, only what is already there */
		flags |= MSG_DONTWAIT;
		flags &= ~MSG_WAITFORONE;
	}
	return (int)n;
}
