/*
 * io.c - the I/O seam (libc's table) and the translation of OpenSSL's
 * results into the seed's codes and errno, plus waiting with io->poll.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "sslsocket_int.h"

static const struct sslsocket_io libc_io = {
	.recv = recv,
	.send = send,
	.poll = poll,
	.connect = connect,
	.accept4 = accept4,
	.close = close,
	.shutdown = shutdown,
};

const struct sslsocket_io *sslsocket_io_libc(void)
{
	return &libc_io;
}
