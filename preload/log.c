/*
 * log.c - "tlsshim[PID]: ..." lines.
 *
 * A hook may run inside a signal handler, so a line is formatted into a
 * stack buffer (vsnprintf into a buffer takes no lock and does not allocate
 * for the %s/%d/%u conversions used here) and goes out in one write(2)
 * through the real write, never stdio and never malloc.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fdident_int.h"
#include "fdtab.h"
#include "log.h"
#include "log_syslog.h"
#include "real.h"

#define LOG_LINE_MAX 1024

static atomic_int log_level = CFG_LOG_WARN;
static atomic_int log_fd = -1;
static atomic_int log_is_syslog; /* log_fd is our socket to /dev/log */
static struct core_fdident log_id;   /* what log_fd was opened as */

void ts_log_setup_syslog(enum cfg_log_level level, int fd)
{
	atomic_store(&log_is_syslog, 1);
	ts_log_setup(level, fd);
}

void ts_log_setup(enum cfg_log_level level, int fd)
{
	atomic_store(&log_level, (int)level);
	if (fd >= 0)
		(void)core_fdident_take(fd, &log_id);
	atomic_store(&log_fd, fd);
}

int ts_log_enabled(enum cfg_log_level level)
{
	return (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

size_t ts_log_format(char *buf, size_t cap, int pid, const char *fmt, va_list ap)
{
	int n, m;
	size_t i, len;

	if (cap < 32)
		return 0;
	n = snprintf(buf, cap, "tlsshim[%d]: ", pid);
	if (n < 0)
		n = 0;
	m = vsnprintf(buf + n, cap - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	len = (size_t)n + (size_t)m;
	if (len > cap - 2) {
		/* cut: say so rather than end mid-word silently */
		len = cap - 2;
		memcpy(buf + len - 3, "...", 3);
	}
	/* One line per event: text that came from the network or a DNS answer
	 * must not forge another line. */
	for (i = (size_t)n; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	buf[len++] = '\n';
	buf[len] = '\0';
	return len;
}

/* The descriptor to write to, or -1. A daemon may have closed our log file
 * (or stderr) and the number may now be a socket: never write a log line
 * into a descriptor that is not the file we opened, or into a wrapped
 * connection. */
static int log_target(void)
{
	int fd = atomic_load(&log_fd);

	if (fd >= 0)
		return core_fdident_same(fd, &log_id) ? fd : -1;
	if (!TS_PLAIN(2))
		return -1;
	return 2;
}

void ts_vlog(enum cfg_log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t n;
	int fd, saved = errno;
	int pid = atomic_load(&ts_pid);

	if (!ts_log_enabled(level))
		return;
	if (pid == 0)
		pid = (int)getpid();
	n = ts_log_format(line, sizeof line, pid, fmt, ap);
	fd = log_target();
	if (fd >= 0 && n > 0 && atomic_load_explicit(&log_is_syslog, memory_order_relaxed)) {
		ts_syslog_send(fd, level, line, n);
	} else if (fd >= 0 && n > 0) {
		ssize_t (*w)(int, const void *, size_t) = TS_REAL(write);

		if (w(fd, line, n) < 0) {
			/* a log line is best effort */
		}
	}
	errno = saved;
}

void ts_log(enum cfg_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ts_vlog(level, fmt, ap);
	va_end(ap);
}

void ts_addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap)
{
	/* A private copy in a union: the caller's object is a sockaddr_in or
	 * sockaddr_in6, never to be read through another struct type. */
	union {
		struct sockaddr sa;
		struct sockaddr_in s4;
		struct sockaddr_in6 s6;
	} u;
	char host[INET6_ADDRSTRLEN];

	memset(&u, 0, sizeof u);
	if (sa != NULL && len > 0)
		memcpy(&u, sa, (size_t)len < sizeof u ? (size_t)len : sizeof u);
	if (sa != NULL && u.sa.sa_family == AF_INET && len >= (socklen_t)sizeof u.s4) {
		inet_ntop(AF_INET, &u.s4.sin_addr, host, sizeof host);
		snprintf(buf, cap, "%s:%u", host, (unsigned)ntohs(u.s4.sin_port));
	} else if (sa != NULL && u.sa.sa_family == AF_INET6 && len >= (socklen_t)sizeof u.s6) {
		inet_ntop(AF_INET6, &u.s6.sin6_addr, host, sizeof host);
		snprintf(buf, cap, "[%s]:%u", host, (unsigned)ntohs(u.s6.sin6_port));
	} else {
		snprintf(buf, cap, "?");
	}
}
