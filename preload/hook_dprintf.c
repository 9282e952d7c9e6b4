/*
 * hook_dprintf.c - formatted output straight to a descriptor: dprintf,
 * vdprintf, their _FORTIFY_SOURCE forms __dprintf_chk and __vdprintf_chk,
 * and backtrace_symbols_fd. glibc writes these with its internal write, so
 * unhooked they put plaintext on a wrapped socket (issue 10, item 1). On a
 * wrapped socket the text is formatted here and written through TLS; every
 * other descriptor goes to libc untouched.
 */
/* This file defines dprintf and vdprintf: _FORTIFY_SOURCE would make
 * dprintf a macro and both inline wrappers first. */
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "fdtab.h"
#include "hook.h"
#include "real.h"

int __dprintf_chk(int fd, int flag, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int __vasprintf_chk(char **out, int flag, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* All of buf through the connection at fd; -1 with errno on a failure
 * (bytes already sent stay sent, as with libc's dprintf). */
static int conn_write_all(struct ts_conn *c, const char *buf, size_t n)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = ts_conn_write(c, buf + done, n - done, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

/* flag < 0: vdprintf; else __vdprintf_chk's fortify level. */
static TS_SLOW_PATH __attribute__((format(printf, 3, 0))) int
dprintf_slow(int fd, int flag, const char *fmt, va_list ap)
{
	struct ts_conn *c;
	char *text = NULL;
	enum ts_fd_is is;
	int n, r;

	is = ts_conn_lookup(fd, &c);
	if (is != TS_FD_OURS) {
		if (is == TS_FD_CLOSED || is == TS_FD_REFUSED)
			return ts_fd_fail(is);
		if (flag >= 0 && TS_REAL(__vdprintf_chk) != NULL)
			return TS_REAL(__vdprintf_chk)(fd, flag, fmt, ap);
		return TS_REAL(vdprintf)(fd, fmt, ap);
	}
	n = flag >= 0 ? __vasprintf_chk(&text, flag, fmt, ap) : vasprintf(&text, fmt, ap);
	if (n < 0) {
		ts_conn_release(c);
		errno = ENOMEM;
		return -1;
	}
	r = conn_write_all(c, text, (size_t)n) < 0 ? -1 : n;
	free(text);
	ts_conn_release(c);
	return r;
}

TS_EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
	if (TS_PLAIN(fd))
		return TS_REAL(vdprintf)(fd, fmt, ap);
	return dprintf_slow(fd, -1, fmt, ap);
}

TS_EXPORT int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vdprintf(fd, fmt, ap);
	va_end(ap);
	return r;
}

TS_EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	if (TS_PLAIN(fd)) {
		if (TS_REAL(__vdprintf_chk) != NULL)
			return TS_REAL(__vdprintf_chk)(fd, flag, fmt, ap);
		return TS_REAL(vdprintf)(fd, fmt, ap);
	}
	return dprintf_slow(fd, flag < 0 ? 0 : flag, fmt, ap);
}

TS_EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vdprintf_chk(fd, flag, fmt, ap);
	va_end(ap);
	return r;
}

/* backtrace_symbols_fd is meant for crash handlers: it allocates nothing.
 * On a wrapped socket each frame is formatted on the stack, as glibc
 * formats it ("object(symbol+0xoff) [0xaddr]"), and written through TLS. */
static TS_SLOW_PATH void backtrace_slow(void *const *frames, int n, int fd)
{
	struct ts_conn *c;
	char line[512];
	enum ts_fd_is is;
	int i, len;

	is = ts_conn_lookup(fd, &c);
	if (is == TS_FD_CLOSED || is == TS_FD_REFUSED)
		ts_fd_fail(is);
	if (is != TS_FD_OURS) {
		if (is == TS_FD_PASS && TS_REAL(backtrace_symbols_fd) != NULL)
			TS_REAL(backtrace_symbols_fd)(frames, n, fd);
		return;
	}
	for (i = 0; i < n; i++) {
		Dl_info info;

		if (dladdr(frames[i], &info) != 0 && info.dli_fname != NULL) {
			const char *sym = info.dli_sname;
			char *base = sym ? info.dli_saddr : info.dli_fbase;

			len = snprintf(line, sizeof line, "%s(%s%s0x%lx) [%p]\n", info.dli_fname,
			               sym ? sym : "", (char *)frames[i] >= base ? "+" : "-",
			               (unsigned long)((char *)frames[i] >= base
			                                       ? (char *)frames[i] - base
			                                       : base - (char *)frames[i]),
			               frames[i]);
		} else {
			len = snprintf(line, sizeof line, "[%p]\n", frames[i]);
		}
		if (len < 0)
			break;
		if ((size_t)len >= sizeof line)
			len = (int)sizeof line - 1;
		if (conn_write_all(c, line, (size_t)len) < 0)
			break;
	}
	ts_conn_release(c);
}

TS_EXPORT void backtrace_symbols_fd(void *const *frames, int n, int fd)
{
	if (TS_PLAIN(fd)) {
		if (TS_REAL(backtrace_symbols_fd) != NULL)
			TS_REAL(backtrace_symbols_fd)(frames, n, fd);
		return;
	}
	backtrace_slow(frames, n, fd);
}
