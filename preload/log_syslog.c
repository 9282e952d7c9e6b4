/*
 * log_syslog.c - TLSSHIM_LOG_FILE=syslog (log_syslog.h).
 *
 * RFC 3164 (the BSD syslog protocol that /dev/log speaks, as glibc's
 * syslog(3) sends it): "<PRI>Mmm dd hh:mm:ss TAG[PID]: text" without a
 * trailing newline, PRI = facility * 8 + severity. The line may be sent
 * from a signal handler (a hook runs wherever the program calls it), so
 * the timestamp is computed by hand from clock_gettime and a time zone
 * offset cached at start (localtime_r takes a lock); a DST change during
 * the run is not followed (the log daemon stamps its own reception time
 * too). The socket is connected with the real connect and written with
 * the real send, so no hook sees our own log traffic.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log_syslog.h"
#include "real.h"

/* RFC 3164 4.1.1 / <syslog.h>: LOG_USER is facility 1. */
#define FACILITY_USER 1

static long tz_offset; /* seconds east of UTC, from the constructor */
static struct sockaddr_un log_addr;
static socklen_t log_addr_len;

static int severity(enum cfg_log_level level)
{
	switch (level) {
	case CFG_LOG_ERROR: return 3;  /* LOG_ERR */
	case CFG_LOG_WARN: return 4;   /* LOG_WARNING */
	case CFG_LOG_INFO: return 6;   /* LOG_INFO */
	case CFG_LOG_DEBUG: return 7;  /* LOG_DEBUG */
	}
	return 5;                      /* LOG_NOTICE */
}

/* Days since 1970-01-01 to y-m-d (H. Hinnant's civil_from_days). */
static void civil(long long days, int *m, int *d)
{
	days += 719468;
	long long era = (days >= 0 ? days : days - 146096) / 146097;
	long long doe = days - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
}

size_t ts_syslog_format(char *out, size_t cap, enum cfg_log_level level, long long t,
                        long gmtoff, const char *line, size_t len)
{
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	long long local = t + gmtoff;
	long long days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
	long long secs = local - days * 86400;
	int m, d, n;

	civil(days, &m, &d);
	if (len > 0 && line[len - 1] == '\n')
		len--;
	/* RFC 3164 4.1.2: the day is space-padded ("Dec  2"). */
	n = snprintf(out, cap, "<%d>%s %2d %02d:%02d:%02d ", FACILITY_USER * 8 + severity(level),
	             mon[m - 1], d, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
	if (n < 0 || (size_t)n >= cap)
		return 0;
	if (len > cap - (size_t)n)
		len = cap - (size_t)n;
	memcpy(out + n, line, len);
	return (size_t)n + len;
}

int ts_syslog_open(const char *path)
{
	struct tm tm;
	time_t now = time(NULL);
	int fd;

	if (localtime_r(&now, &tm) != NULL)
		tz_offset = tm.tm_gmtoff;
	if (strlen(path) >= sizeof log_addr.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(&log_addr, 0, sizeof log_addr);
	log_addr.sun_family = AF_UNIX;
	memcpy(log_addr.sun_path, path, strlen(path) + 1);
	log_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
	/* socket() is not hooked; connect() is, hence the real one. */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (TS_REAL(connect)(fd, (struct sockaddr *)&log_addr, log_addr_len) < 0) {
		int e = errno;
		TS_REAL(close)(fd);
		errno = e;
		return -1;
	}
	return fd;
}

void ts_syslog_send(int fd, enum cfg_log_level level, const char *line, size_t len)
{
	char dgram[1100];
	struct timespec ts;
	ssize_t (*snd)(int, const void *, size_t, int) = TS_REAL(send);
	size_t n;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		ts.tv_sec = 0;
	n = ts_syslog_format(dgram, sizeof dgram, level, (long long)ts.tv_sec, tz_offset, line, len);
	if (n == 0)
		return;
	if (snd(fd, dgram, n, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		return;
	/* A restarted log daemon made a new socket at the same path: a
	 * datagram socket may simply connect again (glibc's syslog does the
	 * same). Same descriptor, so no other thread's number goes stale. */
	if (errno == ECONNREFUSED || errno == ENOTCONN || errno == ENOENT) {
		if (TS_REAL(connect)(fd, (struct sockaddr *)&log_addr, log_addr_len) == 0 &&
		    snd(fd, dgram, n, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return;
	}
	/* best effort: a line the log cannot take now is dropped */
}
