/*
 * fuzz_certtime.c - libFuzzer target: sslsocket_cert_time_to_seconds on
 * arbitrary text (the seed's cert_time_to_seconds; --check and the log
 * read notAfter with it). Invariants: success or -1 with a VALUE error and
 * a reason; an accepted time formats back (gmtime + the seed's layout) to
 * a string that reads as the same second.
 *
 *   make fuzz      (every target)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sslsocket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct sslsocket_error err;
	time_t t = 0, t2 = 0;
	struct tm tm;
	char back[64];

	if (size > 256)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&err, 0, sizeof err);
	if (sslsocket_cert_time_to_seconds(text, &t, &err) == 0) {
		CHECK(gmtime_r(&t, &tm) != NULL);
		if (tm.tm_year + 1900 >= 1 && tm.tm_year + 1900 <= 9999) {
			snprintf(back, sizeof back, "%s %2d %02d:%02d:%02d %04d GMT", mon[tm.tm_mon],
			         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
			CHECK(sslsocket_cert_time_to_seconds(back, &t2, NULL) == 0 && t2 == t);
		}
	} else {
		CHECK(err.code == SSLSOCKET_ERROR_VALUE && err.reason[0]);
	}
	free(text);
	return 0;
}
