/* check_core_config: the reference-counted configuration (sslsocket_config)
 * owns copies of its options and its files' bytes; the last free wipes the
 * key; contexts are built from it and counted while they live; it tells
 * when a file it read was replaced (rename, symlink swap, rewrite in
 * place); the key log is created 0600 and close-on-exec. */
#include <fcntl.h>
#include <sys/stat.h>

#include "check_core_util.h"
#include "files_int.h"

static void setup(void)
{
	tu_scratch_make("config");
}

static void teardown(void)
{
	tu_scratch_remove();
}

#define at(name) tu_scratch_path(name)

static void copy(const char *from, const char *to)
{
	char cmd[700];
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
	ck_assert_int_eq(system(cmd), 0);
}

/* ---- ownership ---------------------------------------------------------- */

static size_t wiped_blocks, wiped_dirty;
static void observe_wipe(const unsigned char *p, size_t n)
{
	wiped_blocks++;
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0) {
			wiped_dirty++;
			break;
		}
}

START_TEST(test_setters_copy_owner_frees)
{
	char cert[256], key[256], host[32] = "localhost";
	struct sslsocket_options o;
	struct sslsocket_error e;
	snprintf(cert, sizeof cert, "%s", tu_cert("server.pem"));
	snprintf(key, sizeof key, "%s", tu_cert("server.key"));
	sslsocket_options_init(&o);
	o.server_side = 1;
	o.certfile = cert;
	o.keyfile = key;
	o.server_hostname = host;
	sslsocket_config *c = sslsocket_config_new(&o, &e);
	ck_assert_msg(c != NULL, "%s", e.reason);
	/* the caller's strings may change or go: the configuration has its own */
	memset(cert, 'x', sizeof cert - 1);
	memset(host, 0, sizeof host);
	const struct sslsocket_options *co = sslsocket_config_options(c);
	ck_assert_str_eq(co->certfile, tu_cert("server.pem"));
	ck_assert_str_eq(co->server_hostname, "localhost");
	ck_assert_ptr_ne(co->keyfile, key);
	/* contexts from it, then references dropped in any order */
	ck_assert_uint_eq(sslsocket_ctx_count(), 0);
	sslsocket_ctx *a = sslsocket_ctx_new_config(c, &e);
	ck_assert_msg(a != NULL, "%s", e.reason);
	ck_assert_ptr_eq(sslsocket_config_ref(c), c);
	sslsocket_config_free(c);
	ck_assert_uint_eq(sslsocket_ctx_count(), 1);
	wiped_blocks = wiped_dirty = 0;
	core_wipe_observer = observe_wipe;
	sslsocket_config_free(c); /* the last reference: the bytes are wiped */
	core_wipe_observer = NULL;
	ck_assert_uint_eq(wiped_blocks, 2); /* certificate and key */
	ck_assert_uint_eq(wiped_dirty, 0);
	/* the context does not need the configuration */
	time_t na = 0;
	ck_assert_int_eq(sslsocket_ctx_cert_not_after(a, &na), 0);
	ck_assert_int_gt(na, time(NULL));
	sslsocket_ctx_free(a);
	ck_assert_uint_eq(sslsocket_ctx_count(), 0);
	sslsocket_config_free(NULL);
	sslsocket_ctx_free(NULL);
}
END_TEST

/* A configuration that fails to load frees (and wipes) what it read. */
START_TEST(test_failed_new_wipes)
{
	struct sslsocket_options o;
	struct sslsocket_error e;
	sslsocket_options_init(&o);
	o.server_side = 1;
	o.certfile = tu_cert("server.pem");
	o.keyfile = tu_cert("client.key"); /* another certificate's key */
	wiped_blocks = wiped_dirty = 0;
	core_wipe_observer = observe_wipe;
	ck_assert_ptr_null(sslsocket_config_new(&o, &e));
	core_wipe_observer = NULL;
	ck_assert_msg(strstr(e.reason, "does not match") != NULL, "%s", e.reason);
	ck_assert_uint_eq(wiped_blocks, 2);
	ck_assert_uint_eq(wiped_dirty, 0);
}
END_TEST

/* ---- replaced files ---------------------------------------------------------- */

static sslsocket_config *server_config(const char *cert, const char *key)
{
	struct sslsocket_options o;
	struct sslsocket_error e;
	sslsocket_options_init(&o);
	o.server_side = 1;
	o.certfile = cert;
	o.keyfile = key;
	sslsocket_config *c = sslsocket_config_new(&o, &e);
	ck_assert_msg(c != NULL, "%s", e.reason);
	return c;
}

START_TEST(test_changed_rename)
{
	copy(tu_cert("server.pem"), at("c.pem"));
	copy(tu_cert("server.key"), at("k.pem"));
	sslsocket_config *c = server_config(at("c.pem"), at("k.pem"));
	unsigned long long s1 = 0, s2 = 0, s3 = 0;
	ck_assert_int_eq(sslsocket_config_changed(c, &s1), 0);
	ck_assert_int_eq(sslsocket_config_changed(c, &s2), 0);
	ck_assert(s1 == s2);
	/* certbot: a new file renamed over the old one */
	copy(tu_cert("server.pem"), at("c.new"));
	ck_assert_int_eq(rename(at("c.new"), at("c.pem")), 0);
	ck_assert_int_eq(sslsocket_config_changed(c, &s3), 1);
	ck_assert(s3 != s1);
	/* gone: changed too */
	unlink(at("k.pem"));
	ck_assert_int_eq(sslsocket_config_changed(c, &s2), 1);
	ck_assert(s2 != s3);
	sslsocket_config_free(c);
}
END_TEST

START_TEST(test_changed_symlink_swap)
{
	/* Kubernetes: name -> ..data/name, ..data -> a dated directory */
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
	         "cd '%s' && mkdir v1 v2 && cp '%s' v1/tls.crt && cp '%s' v1/tls.key && "
	         "cp v1/tls.crt v1/tls.key v2/ && ln -s v1 ..data && ln -s ..data/tls.crt tls.crt && "
	         "ln -s ..data/tls.key tls.key",
	         tu_scratch_path("."), tu_cert("server.pem"), tu_cert("server.key"));
	ck_assert_int_eq(system(cmd), 0);
	sslsocket_config *c = server_config(at("tls.crt"), at("tls.key"));
	ck_assert_int_eq(sslsocket_config_changed(c, NULL), 0);
	snprintf(cmd, sizeof cmd, "cd '%s' && ln -s v2 ..data_tmp && mv -T ..data_tmp ..data", tu_scratch_path("."));
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(sslsocket_config_changed(c, NULL), 1);
	sslsocket_config_free(c);
}
END_TEST

START_TEST(test_changed_in_place)
{
	copy(tu_cert("server.pem"), at("c.pem"));
	copy(tu_cert("server.key"), at("k.pem"));
	sslsocket_config *c = server_config(at("c.pem"), at("k.pem"));
	struct stat before, after;
	ck_assert_int_eq(stat(at("c.pem"), &before), 0);
	/* the same bytes written again over the same inode */
	FILE *f = fopen(at("c.pem"), "r+");
	ck_assert_ptr_nonnull(f);
	char buf[8];
	ck_assert_uint_eq(fread(buf, 1, 1, f), 1);
	rewind(f);
	struct timespec ts = {0, 2000000};
	nanosleep(&ts, NULL); /* a coarse timestamp must move */
	ck_assert_uint_eq(fwrite(buf, 1, 1, f), 1);
	fclose(f);
	ck_assert_int_eq(stat(at("c.pem"), &after), 0);
	ck_assert_uint_eq(before.st_ino, after.st_ino);
	ck_assert_int_eq(sslsocket_config_changed(c, NULL), 1);
	sslsocket_config_free(c);
}
END_TEST

/* ---- the key log ------------------------------------------------------------ */

START_TEST(test_keylog_private_cloexec)
{
	struct sslsocket_options o;
	struct sslsocket_error e;
	cu_client_opts(&o);
	o.keylog_file = at("keys.log");
	mode_t old = umask(0); /* 0600 must not depend on the umask */
	sslsocket_ctx *ctx = sslsocket_ctx_new(&o, &e);
	umask(old);
	ck_assert_msg(ctx != NULL, "%s", e.reason);
	struct stat st;
	ck_assert_int_eq(stat(o.keylog_file, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* its descriptor is close-on-exec */
	int found = 0;
	for (int fd = 3; fd < 1024; fd++) {
		char link[64], target[512];
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (strcmp(target, o.keylog_file) == 0) {
			found++;
			ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		}
	}
	ck_assert_int_eq(found, 1);
	sslsocket_ctx_free(ctx);
}
END_TEST

/* What someone planted at the name is refused, the reason says which. */
START_TEST(test_keylog_refuses_planted)
{
	struct sslsocket_options o;
	struct sslsocket_error e;
	cu_client_opts(&o);
	const char *target = at("target"), *link = at("link.log"), *open_ = at("open.log");
	int fd = open(target, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(symlink(target, link), 0);
	o.keylog_file = link;
	ck_assert_ptr_null(sslsocket_ctx_new(&o, &e));
	ck_assert_int_eq(e.sys_errno, EPERM);
	ck_assert_msg(strstr(e.reason, "is a symbolic link") != NULL, "%s", e.reason);
	fd = open(open_, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, 0644), 0);
	close(fd);
	o.keylog_file = open_;
	ck_assert_ptr_null(sslsocket_ctx_new(&o, &e));
	ck_assert_msg(strstr(e.reason, "group or others") != NULL, "%s", e.reason);
	struct stat st;
	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
}
END_TEST

Suite *core_config_suite(void)
{
	Suite *s = suite_create("core_config");
	TCase *tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_setters_copy_owner_frees);
	tcase_add_test(tc, test_failed_new_wipes);
	tcase_add_test(tc, test_changed_rename);
	tcase_add_test(tc, test_changed_symlink_swap);
	tcase_add_test(tc, test_changed_in_place);
	tcase_add_test(tc, test_keylog_private_cloexec);
	tcase_add_test(tc, test_keylog_refuses_planted);
	suite_add_tcase(s, tc);
	return s;
}
