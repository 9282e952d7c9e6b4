/*
 * plain_io.h - the plain transport: a connection is its descriptor, and
 * every byte goes through read(2) and write(2), the calls tlsshim wraps.
 */
#ifndef TLSSHIM_BENCH_PLAIN_IO_H
#define TLSSHIM_BENCH_PLAIN_IO_H

#include <stdint.h>

#include "workload.h"

static inline int plain_fd(void *conn)
{
	return (int)(intptr_t)conn - 1;
}

static inline ssize_t plain_rd(void *conn, void *buf, size_t n)
{
	ssize_t r;
	while ((r = read(plain_fd(conn), buf, n)) < 0 && errno == EINTR)
		;
	return r;
}

static inline ssize_t plain_wr(void *conn, const void *buf, size_t n)
{
	ssize_t r;
	while ((r = write(plain_fd(conn), buf, n)) < 0 && errno == EINTR)
		;
	return r;
}

/* fd + 1, so that descriptor 0 is not a NULL connection. */
static inline void *plain_open(void *ctx, int fd)
{
	(void)ctx;
	return (void *)(intptr_t)(fd + 1);
}

static inline void plain_close(void *ctx, void *conn)
{
	(void)ctx;
	close(plain_fd(conn));
}

static inline void plain_ops(struct bench_ops *ops)
{
	memset(ops, 0, sizeof *ops);
	ops->io.rd = plain_rd;
	ops->io.wr = plain_wr;
	ops->open = plain_open;
	ops->close = plain_close;
}

#endif /* TLSSHIM_BENCH_PLAIN_IO_H */
