/* fdcopies.c: the numbers that may share a socket with another number. */
#include <check.h>
#include <fcntl.h>
#include <unistd.h>

#include "fdcopies.h"
#include "fdtab.h"

START_TEST(test_mark_and_walk)
{
	ck_assert_int_eq(ts_fdcopy_marked(900001), 0);
	ts_fdcopy_mark(900001);
	ts_fdcopy_mark(900070);
	ts_fdcopy_mark(-1);          /* ignored */
	ts_fdcopy_mark(TS_FD_MAX);   /* ignored */
	ck_assert_int_eq(ts_fdcopy_marked(900001), 1);
	ck_assert_int_eq(ts_fdcopy_marked(900002), 0);
	ck_assert_int_eq(ts_fdcopy_marked(-1), 0);
	ck_assert_int_eq(ts_fdcopy_next(900000), 900001);
	ck_assert_int_eq(ts_fdcopy_next(900002), 900070);
	ck_assert_int_eq(ts_fdcopy_next(900071), -1);
}
END_TEST

START_TEST(test_mark_open)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ts_fdcopy_marked(fd), 0);
	ts_fdcopy_mark_open();
	ck_assert_int_eq(ts_fdcopy_marked(fd), 1);
	close(fd);
}
END_TEST

Suite *ts_fdcopies_suite(void)
{
	Suite *s = suite_create("ts_fdcopies");
	TCase *tc = tcase_create("marks");

	tcase_add_test(tc, test_mark_and_walk);
	tcase_add_test(tc, test_mark_open);
	suite_add_tcase(s, tc);
	return s;
}
