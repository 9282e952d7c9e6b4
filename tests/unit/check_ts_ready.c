/* poll/select emulation over plain descriptors (preload/ready.c): with no
 * wrapped descriptor in the set the engine must behave exactly as the
 * kernel's poll and select (readiness, timeouts, EBADF), since programs
 * mix wrapped and plain descriptors in one call. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "ready.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_poll_plain_readiness)
{
	int p[2];
	struct pollfd fds[2];

	ck_assert_int_eq(pipe(p), 0);
	fds[0].fd = p[0];
	fds[0].events = POLLIN;
	fds[1].fd = p[1];
	fds[1].events = POLLOUT;
	ck_assert_int_eq(ts_poll_has_wrapped(fds, 2), 0);
	/* only the write end is ready */
	ck_assert_int_eq(ts_poll(fds, 2, 0, NULL), 1);
	ck_assert_int_eq(fds[0].revents, 0);
	ck_assert_int_eq(fds[1].revents, POLLOUT);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(ts_poll(fds, 2, 100, NULL), 2);
	ck_assert_int_eq(fds[0].revents, POLLIN);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_poll_timeout)
{
	int p[2];
	struct pollfd fd;
	long long t0;

	ck_assert_int_eq(pipe(p), 0);
	fd.fd = p[0];
	fd.events = POLLIN;
	t0 = now_ms();
	ck_assert_int_eq(ts_poll(&fd, 1, 150, NULL), 0);
	ck_assert_int_ge(now_ms() - t0, 140);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_poll_many_descriptors)
{
	/* more than the stack array: the heap path */
	struct pollfd fds[100];
	int p[2], i;

	ck_assert_int_eq(pipe(p), 0);
	for (i = 0; i < 100; i++) {
		fds[i].fd = (i % 2) ? p[1] : p[0];
		fds[i].events = (i % 2) ? POLLOUT : POLLIN;
	}
	ck_assert_int_eq(ts_poll(fds, 100, 0, NULL), 50);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_select_plain)
{
	int p[2];
	fd_set rd, wr;

	ck_assert_int_eq(pipe(p), 0);
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(p[0], &rd);
	FD_SET(p[1], &wr);
	ck_assert_int_eq(ts_select_has_wrapped(p[1] + 1, &rd, &wr, NULL), 0);
	ck_assert_int_eq(ts_select(p[1] + 1, &rd, &wr, NULL, 0, NULL), 1);
	ck_assert(!FD_ISSET(p[0], &rd));
	ck_assert(FD_ISSET(p[1], &wr));
	/* a hang-up reads as readable, as the kernel's select says */
	close(p[1]);
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	ck_assert_int_eq(ts_select(p[0] + 1, &rd, NULL, NULL, 100, NULL), 1);
	ck_assert(FD_ISSET(p[0], &rd));
	close(p[0]);
}
END_TEST

START_TEST(test_select_bad_descriptor)
{
	int p[2];
	fd_set rd;

	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);
	close(p[1]);
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	errno = 0;
	ck_assert_int_eq(ts_select(p[0] + 1, &rd, NULL, NULL, 0, NULL), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(ts_select(-1, NULL, NULL, NULL, 0, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

Suite *ts_ready_suite(void)
{
	Suite *s = suite_create("ts_ready");
	TCase *tc = tcase_create("plain");

	tcase_add_test(tc, test_poll_plain_readiness);
	tcase_add_test(tc, test_poll_timeout);
	tcase_add_test(tc, test_poll_many_descriptors);
	tcase_add_test(tc, test_select_plain);
	tcase_add_test(tc, test_select_bad_descriptor);
	suite_add_tcase(s, tc);
	return s;
}
