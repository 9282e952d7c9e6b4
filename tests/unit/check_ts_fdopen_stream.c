/* fdopen on sockets (preload/fdopen_stream.c): which sockets get a stream
 * that looks its descriptor up on every read and write (a TCP socket not
 * connected yet, whose connect may still be wrapped), and what that stream
 * and fdopen do with a plain, a wrapped and a closed-but-held number. Real
 * sockets on 127.0.0.1, no TLS. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bytepath.h"
#include "conn.h"
#include "fdtab.h"

/* A listening TCP socket on 127.0.0.1 and its address. */
static int listener(struct sockaddr_in *a)
{
	socklen_t len = sizeof *a;
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(l, 0);
	memset(a, 0, sizeof *a);
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(l, (struct sockaddr *)a, sizeof *a), 0);
	ck_assert_int_eq(listen(l, 4), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)a, &len), 0);
	return l;
}

START_TEST(test_only_unconnected_tcp_gets_a_stream)
{
	struct sockaddr_in a;
	int l = listener(&a), tcp = socket(AF_INET, SOCK_STREAM, 0),
	    udp = socket(AF_INET, SOCK_DGRAM, 0), sv[2], conn = socket(AF_INET, SOCK_STREAM, 0);
	FILE *fp;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(connect(conn, (struct sockaddr *)&a, sizeof a), 0);
	errno = EINTR;
	fp = ts_fdopen_unconnected(tcp, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(errno, EINTR);
	ck_assert_ptr_null(ts_fdopen_unconnected(udp, "w"));
	ck_assert_ptr_null(ts_fdopen_unconnected(l, "w"));    /* listening */
	ck_assert_ptr_null(ts_fdopen_unconnected(conn, "w")); /* connected: not wrapped */
	ck_assert_ptr_null(ts_fdopen_unconnected(sv[0], "w"));
	ck_assert_int_eq(errno, EINTR);
	fclose(fp); /* closes tcp */
	close(udp);
	close(conn);
	close(l);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_stream_follows_the_descriptor)
{
	struct sockaddr_in a;
	char buf[32];
	int l = listener(&a), tcp = socket(AF_INET, SOCK_STREAM, 0), peer;
	FILE *fp = ts_fdopen_unconnected(tcp, "r+");
	struct ts_conn *c;
	ssize_t n;

	ck_assert_ptr_nonnull(fp);
	setvbuf(fp, NULL, _IONBF, 0);
	/* connected after fdopen, by no rule: the stream writes in clear */
	ck_assert_int_eq(connect(tcp, (struct sockaddr *)&a, sizeof a), 0);
	peer = accept(l, NULL, NULL);
	ck_assert_int_ge(peer, 0);
	ck_assert_int_ge(fputs("hello\n", fp), 0);
	n = read(peer, buf, sizeof buf);
	ck_assert_int_eq(n, 6);
	ck_assert_int_eq(memcmp(buf, "hello\n", 6), 0);
	ck_assert_int_eq(write(peer, "back\n", 5), 5);
	ck_assert_ptr_nonnull(fgets(buf, sizeof buf, fp));
	ck_assert_str_eq(buf, "back\n");
	/* now the descriptor names a connection (here one tlsshim gave up): the
	 * same stream goes through it, and nothing reaches the peer in clear */
	c = ts_conn_new();
	c->core_fd = tcp;
	atomic_fetch_or(&c->obj.flags, TS_F_ABANDONED | TS_F_FAIL_LOGGED);
	ck_assert_int_eq(ts_fd_install(tcp, &c->obj), 0);
	errno = 0;
	ck_assert_int_eq(fputs("SECRET\n", fp), EOF);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_int_eq(recv(peer, buf, sizeof buf, MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ts_fd_forget(tcp);
	fclose(fp);
	close(peer);
	close(l);
}
END_TEST

START_TEST(test_held_number_is_ebadf)
{
	int sv[2], other;
	struct ts_conn *c = ts_conn_new();
	char b[4];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c->core_fd = sv[0];
	ck_assert_int_eq(ts_fd_install(sv[0], &c->obj), 0);
	other = dup(sv[0]);
	ts_fd_dup(sv[0], other);
	/* the program closes the core's number; the connection lives on */
	ck_assert_int_eq(ts_fd_detach(sv[0]), TS_DETACH_KEEP);
	errno = 0;
	ck_assert_ptr_null(ts_fdopen(sv[0], "r"));
	ck_assert_int_eq(errno, EBADF);
	errno = 0;
	ck_assert_int_eq(ts_cookie_read((void *)(intptr_t)sv[0], b, sizeof b), -1);
	ck_assert_int_eq(errno, EBADF);
	errno = 0;
	ck_assert_int_eq(ts_cookie_write((void *)(intptr_t)sv[0], "x", 1), -1);
	ck_assert_int_eq(errno, EBADF);
	/* a plain number is libc's: a real FILE on it */
	{
		FILE *fp = ts_fdopen(sv[1], "w");

		ck_assert_ptr_nonnull(fp);
		ck_assert_int_eq(fputs("plain", fp) >= 0, 1);
		ck_assert_int_eq(fflush(fp), 0);
		ck_assert_int_eq(read(other, b, 4), 4); /* other names sv[0]'s socket */
		ck_assert_int_eq(memcmp(b, "plai", 4), 0);
		fclose(fp);
	}
	ts_fd_forget(other);
	ts_fd_forget(sv[0]);
	close(other);
	close(sv[0]);
}
END_TEST

Suite *ts_fdopen_stream_suite(void)
{
	Suite *s = suite_create("ts_fdopen_stream");
	TCase *tc = tcase_create("fdopen");

	tcase_add_test(tc, test_only_unconnected_tcp_gets_a_stream);
	tcase_add_test(tc, test_stream_follows_the_descriptor);
	tcase_add_test(tc, test_held_number_is_ebadf);
	suite_add_tcase(s, tc);
	return s;
}
