/*
 * hook_alias.c - glibc exports its I/O functions under second names too
 * (__write, __read, __send, __recv, __sendmmsg, the GLIBC_PRIVATE
 * __read_nocancel and __write_nocancel that glibc's other libraries call,
 * libio's _IO_fdopen). A program or library linked against one of them
 * would reach the kernel past the hooks: each goes through its hook here.
 * tests/bytepaths/glibc-bytepaths.txt is the list they come from.
 */
#include <execinfo.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hook.h"

ssize_t __write(int fd, const void *buf, size_t n);
ssize_t __read(int fd, void *buf, size_t n);
ssize_t __send(int fd, const void *buf, size_t n, int flags);
ssize_t __recv(int fd, void *buf, size_t n, int flags);
int __sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags);
ssize_t __write_nocancel(int fd, const void *buf, size_t n);
ssize_t __read_nocancel(int fd, void *buf, size_t n);
FILE *_IO_fdopen(int fd, const char *mode);

TS_EXPORT ssize_t __write(int fd, const void *buf, size_t n)
{
	return write(fd, buf, n);
}

TS_EXPORT ssize_t __read(int fd, void *buf, size_t n)
{
	return read(fd, buf, n);
}

TS_EXPORT ssize_t __send(int fd, const void *buf, size_t n, int flags)
{
	return send(fd, buf, n, flags);
}

TS_EXPORT ssize_t __recv(int fd, void *buf, size_t n, int flags)
{
	return recv(fd, buf, n, flags);
}

TS_EXPORT int __sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags)
{
	return sendmmsg(fd, v, n, flags);
}

TS_EXPORT ssize_t __write_nocancel(int fd, const void *buf, size_t n)
{
	return write(fd, buf, n);
}

TS_EXPORT ssize_t __read_nocancel(int fd, void *buf, size_t n)
{
	return read(fd, buf, n);
}

TS_EXPORT FILE *_IO_fdopen(int fd, const char *mode)
{
	return fdopen(fd, mode);
}

void __backtrace_symbols_fd(void *const *frames, int n, int fd);

TS_EXPORT void __backtrace_symbols_fd(void *const *frames, int n, int fd)
{
	backtrace_symbols_fd(frames, n, fd);
}

/* Second names of the calls that make a descriptor a connection or give
 * it a second number: connect through __connect would leave a matched
 * destination plain; a dup through __dup2 or __fcntl(F_DUPFD) would be a
 * number the table does not know, written in clear. */
int __connect(int fd, const struct sockaddr *addr, socklen_t len);
int __dup2(int oldfd, int newfd);
int __fcntl(int fd, int cmd, ...);
int __libc_fcntl64(int fd, int cmd, ...);

TS_EXPORT int __connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return connect(fd, addr, len);
}

TS_EXPORT int __dup2(int oldfd, int newfd)
{
	return dup2(oldfd, newfd);
}

TS_EXPORT int __fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl(fd, cmd, arg);
}

TS_EXPORT int __libc_fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl64(fd, cmd, arg);
}
