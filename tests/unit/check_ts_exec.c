/* The exec rule (preload/execcheck.c): setuid, setgid and file-capability
 * programs are recognised (the loader would drop LD_PRELOAD for them), and
 * execvp's PATH search finds what exec would run. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "exec.h"

static char dir[64];
static char prog[128];

static void setup(void)
{
	int fd;

	snprintf(dir, sizeof dir, "/tmp/tlsshim-exec-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(prog, sizeof prog, "%s/prog", dir);
	fd = open(prog, O_WRONLY | O_CREAT, 0755);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	chmod(prog, 0755);
}

static void teardown(void)
{
	unlink(prog);
	rmdir(dir);
}

START_TEST(test_plain_program)
{
	ck_assert_ptr_null(ts_exec_privileged_path(prog));
}
END_TEST

START_TEST(test_setuid)
{
	ck_assert_int_eq(chmod(prog, 04755), 0);
	ck_assert_str_eq(ts_exec_privileged_path(prog), "setuid");
}
END_TEST

START_TEST(test_setgid)
{
	ck_assert_int_eq(chmod(prog, 02755), 0);
	ck_assert_str_eq(ts_exec_privileged_path(prog), "setgid");
}
END_TEST

START_TEST(test_setgid_without_group_exec_is_not_privilege)
{
	/* S_ISGID without g+x is mandatory locking, not a set-group-ID program */
	ck_assert_int_eq(chmod(prog, 02745), 0);
	ck_assert_ptr_null(ts_exec_privileged_path(prog));
}
END_TEST

START_TEST(test_fd_variant)
{
	int fd;

	ck_assert_int_eq(chmod(prog, 04755), 0);
	fd = open(prog, O_RDONLY);
	ck_assert_str_eq(ts_exec_privileged_fd(fd), "setuid");
	close(fd);
	ck_assert_int_eq(chmod(prog, 0755), 0);
	fd = open(prog, O_RDONLY);
	ck_assert_ptr_null(ts_exec_privileged_fd(fd));
	close(fd);
}
END_TEST

START_TEST(test_capabilities)
{
	/* a minimal VFS_CAP_REVISION_2 value with cap_net_bind_service; only
	 * root (CAP_SETFCAP) may set it, so elsewhere the case checks that
	 * the attribute is absent and nothing is reported */
	unsigned char cap[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x04};

	if (setxattr(prog, "security.capability", cap, sizeof cap, 0) == 0)
		ck_assert_str_eq(ts_exec_privileged_path(prog), "file capabilities");
	else
		ck_assert_ptr_null(ts_exec_privileged_path(prog));
}
END_TEST

START_TEST(test_missing_file_is_left_to_exec)
{
	errno = 0;
	ck_assert_ptr_null(ts_exec_privileged_path("/nonexistent/tlsshim/x"));
	ck_assert_int_eq(errno, 0);
}
END_TEST

START_TEST(test_search_path)
{
	char buf[256], env[160];
	char *envp[] = {env, NULL};
	const char *got;

	snprintf(env, sizeof env, "PATH=/nonexistent:%s", dir);
	got = ts_exec_search("prog", envp, buf, sizeof buf);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, prog);
	ck_assert_ptr_null(ts_exec_search("absent-prog", envp, buf, sizeof buf));
	/* with a slash: the file itself, no search */
	ck_assert_str_eq(ts_exec_search("./x/y", envp, buf, sizeof buf), "./x/y");
	ck_assert_ptr_null(ts_exec_search("", envp, buf, sizeof buf));
	/* too small a buffer is "not found", never an overflow */
	ck_assert_ptr_null(ts_exec_search("prog", envp, buf, 8));
}
END_TEST

START_TEST(test_search_skips_non_executable)
{
	char buf[256], env[160], other[128];
	char *envp[] = {env, NULL};
	int fd;

	snprintf(other, sizeof other, "%s/sub", dir);
	ck_assert_int_eq(mkdir(other, 0755), 0);
	snprintf(other, sizeof other, "%s/sub/prog", dir);
	fd = open(other, O_WRONLY | O_CREAT, 0644);
	close(fd);
	snprintf(env, sizeof env, "PATH=%s/sub:%s", dir, dir);
	ck_assert_str_eq(ts_exec_search("prog", envp, buf, sizeof buf), prog);
	unlink(other);
	snprintf(other, sizeof other, "%s/sub", dir);
	rmdir(other);
}
END_TEST

Suite *ts_exec_suite(void)
{
	Suite *s = suite_create("ts_exec");
	TCase *tc = tcase_create("setuid");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plain_program);
	tcase_add_test(tc, test_setuid);
	tcase_add_test(tc, test_setgid);
	tcase_add_test(tc, test_setgid_without_group_exec_is_not_privilege);
	tcase_add_test(tc, test_fd_variant);
	tcase_add_test(tc, test_capabilities);
	tcase_add_test(tc, test_missing_file_is_left_to_exec);
	tcase_add_test(tc, test_search_path);
	tcase_add_test(tc, test_search_skips_non_executable);
	suite_add_tcase(s, tc);
	return s;
}
