/*
 * hook_aio.c - POSIX AIO: aio_read, aio_write, lio_listio and their 64
 * names. glibc runs each request on a helper thread with its internal
 * pread/pwrite/read/write, which no hook sees: on a wrapped socket the
 * bytes would leave in clear, or the program would read raw TLS records.
 * A request naming a wrapped socket is refused before anything is queued:
 * -1, errno EOPNOTSUPP, a warn line. (A TLS stream has no offsets and one
 * reader; there is nothing for an asynchronous request to mean on it that
 * read and write with poll do not give.) lio_listio refuses the whole list
 * when any of its requests names one, so none of them runs.
 */
#include <aio.h>
#include <errno.h>
#include <stddef.h>

#include "bytepath.h"
#include "conn.h"
#include "fdtab.h"
#include "hook.h"
#include "real.h"

static int aio_wrapped(int fd)
{
	struct ts_conn *c;
	enum ts_fd_is is;

	if (ts_depth != 0 || TS_PLAIN(fd))
		return 0;
	is = ts_conn_lookup(fd, &c);
	if (is == TS_FD_OURS)
		ts_conn_release(c);
	return is != TS_FD_PASS; /* a connection, or a socket refused */
}

typedef int (*aio_fn)(struct aiocb *);
typedef int (*lio_fn)(int, struct aiocb *const[], int, struct sigevent *);

static int aio_call(const char *name, void *real, struct aiocb *cb)
{
	if (cb != NULL && aio_wrapped(cb->aio_fildes))
		return ts_refuse(cb->aio_fildes, name,
		                 "glibc's AIO threads would write and read it in clear");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return ((aio_fn)real)(cb);
}

static int lio_call(const char *name, void *real, int mode, struct aiocb *const list[], int n,
                    struct sigevent *sig)
{
	int i;

	for (i = 0; list != NULL && i < n; i++)
		if (list[i] != NULL && list[i]->aio_lio_opcode != LIO_NOP &&
		    aio_wrapped(list[i]->aio_fildes))
			return ts_refuse(list[i]->aio_fildes, name,
			                 "glibc's AIO threads would write and read it in clear");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return ((lio_fn)real)(mode, list, n, sig);
}

TS_EXPORT int aio_read(struct aiocb *cb)
{
	return aio_call("aio_read", TS_REAL(aio_read), cb);
}

TS_EXPORT int aio_write(struct aiocb *cb)
{
	return aio_call("aio_write", TS_REAL(aio_write), cb);
}

TS_EXPORT int aio_read64(struct aiocb64 *cb)
{
	return aio_call("aio_read64", TS_REAL(aio_read64), (struct aiocb *)cb);
}

TS_EXPORT int aio_write64(struct aiocb64 *cb)
{
	return aio_call("aio_write64", TS_REAL(aio_write64), (struct aiocb *)cb);
}

TS_EXPORT int lio_listio(int mode, struct aiocb *const list[], int n, struct sigevent *sig)
{
	return lio_call("lio_listio", TS_REAL(lio_listio), mode, list, n, sig);
}

TS_EXPORT int lio_listio64(int mode, struct aiocb64 *const list[], int n, struct sigevent *sig)
{
	return lio_call("lio_listio64", TS_REAL(lio_listio64), mode,
	                (struct aiocb *const *)list, n, sig);
}
