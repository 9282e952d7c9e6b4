/*
 * cert_time.c - cert_time_to_seconds(): "May  9 00:00:00 2007 GMT" as
 * seconds since the epoch, read as UTC.
 *
 * The seed documents local time (mktime); Python fixed that to UTC in
 * bpo-19940, and so do we. The accepted forms are those of Python 3's
 *
 *     months.index(s[:3].title())
 *     time.strptime(s[3:], ' %d %H:%M:%S %Y GMT')
 *
 * which means: the month's three letters in any case; then every blank in
 * the format is one or more whitespace characters; day 1-31 as one or two
 * digits (or " 9"); hour 0-23, minute 0-59, second 0-61, each one or two
 * digits; a four-digit year from 0001; "GMT" in any case; nothing after.
 * One deliberate difference: Python reads the day against January (the
 * month is not part of its strptime format) and lets timegm() roll
 * "Feb 31" over into March; a day that the month does not have is an
 * error here, because malformed input must never become a guess.
 */
#include <stdint.h>
#include <string.h>

#include "cert_int.h"

static const char months[12][4] = { "jan", "feb", "mar", "apr", "may", "jun",
	                            "jul", "aug", "sep", "oct", "nov", "dec" };

/* What Python's str.isspace() says of an ASCII byte; other bytes are
 * never whitespace here (certificate times are ASCII). */
static int is_space(unsigned char c)
{
	return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* One or more whitespace characters (the format's blank). */
static int blanks(const unsigned char **p)
{
	const unsigned char *s = *p;

	if (!is_space(*s))
		return -1;
	while (is_space(*s))
		s++;
	*p = s;
	return 0;
}

/* One or two digits, value in [lo, hi]. A two-digit field is taken whole
 * (the regex's first alternatives), as strptime does. */
static int number(const unsigned char **p, int lo, int hi, int *out)
{
	const unsigned char *s = *p;
	int v;

	if (!is_digit(s[0]))
		return -1;
	v = s[0] - '0';
	s++;
	if (is_digit(s[0])) {
		v = v * 10 + (s[0] - '0');
		s++;
	}
	if (v < lo || v > hi)
		return -1;
	*p = s;
	*out = v;
	return 0;
}

static int is_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil), as calendar.timegm counts. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int sslsocket_cert_time_to_seconds(const char *timestring, time_t *out,
                                   struct sslsocket_error *err)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const unsigned char *p = (const unsigned char *)timestring;
	const char *what;
	int mon = -1, day, hour, min, sec, lim;
	long year = 0;

	if (!timestring || !out) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE, "cert_time_to_seconds: no time string");
		return -1;
	}
	what = "a month name (Jan..Dec)";
	for (int i = 0; i < 12 && mon < 0; i++)
		if (p[0] && p[1] && p[2] && lower(p[0]) == months[i][0] &&
		    lower(p[1]) == months[i][1] && lower(p[2]) == months[i][2])
			mon = i;
	if (mon < 0)
		goto bad;
	p += 3;
	what = "a day of the month (1-31) after blanks";
	if (blanks(&p) < 0 || number(&p, 1, 31, &day) < 0)
		goto bad;
	what = "an hour (0-23) after blanks";
	if (blanks(&p) < 0 || number(&p, 0, 23, &hour) < 0)
		goto bad;
	what = "':' and minutes (0-59)";
	if (*p++ != ':' || number(&p, 0, 59, &min) < 0)
		goto bad;
	what = "':' and seconds (0-61)";
	if (*p++ != ':' || number(&p, 0, 61, &sec) < 0)
		goto bad;
	what = "a four-digit year (0001-9999) after blanks";
	if (blanks(&p) < 0)
		goto bad;
	for (int i = 0; i < 4; i++) {
		if (!is_digit(p[i]))
			goto bad;
		year = year * 10 + (p[i] - '0');
	}
	p += 4;
	if (year < 1)
		goto bad;
	what = "\"GMT\" after blanks";
	if (blanks(&p) < 0 || lower(p[0]) != 'g' || lower(p[1]) != 'm' || lower(p[2]) != 't')
		goto bad;
	p += 3;
	what = "nothing after \"GMT\"";
	if (*p != '\0')
		goto bad;
	lim = mdays[mon] + (mon == 1 && is_leap(year));
	if (day > lim) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE,
		                    "time data '%.64s': %s has no day %d in %ld", timestring,
		                    months[mon], day, year);
		return -1;
	}
	*out = (time_t)(days_from_civil(year, mon + 1, day) * 86400 + hour * 3600 + min * 60 + sec);
	return 0;
bad:
	core_cert_error_set(err, SSLSOCKET_ERROR_VALUE,
	                    "time data '%.64s' does not match \"%%b %%d %%H:%%M:%%S %%Y GMT\": "
	                    "expected %s at offset %d",
	                    timestring, what, (int)((const char *)p - timestring));
	return -1;
}
