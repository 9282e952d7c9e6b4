/*
 * sslsocket_client - a small TLS client on libsslsocket: connects to
 * HOST PORT, sends stdin (and on its EOF a close_notify with SHUT_WR, as
 * `nc -N` does), and copies the reply to stdout until the server closes.
 * --info prints cipher, verification, ALPN and the peer certificate on
 * stderr. Exit 0 on a clean end, 1 with the reason on stderr otherwise.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include "sslsocket_opts.h"

static int handshake_nonblocking(sslsocket *s)
{
	/* The seed's retry loop. */
	for (;;) {
		if (sslsocket_do_handshake(s) == 0)
			return 0;
		const struct sslsocket_error *e = sslsocket_last_error(s);
		struct pollfd p = {.fd = sslsocket_fileno(s)};
		if (e->code == SSLSOCKET_ERROR_WANT_READ)
			p.events = POLLIN;
		else if (e->code == SSLSOCKET_ERROR_WANT_WRITE || e->code == SSLSOCKET_ERROR_WANT_CONNECT)
			p.events = POLLOUT;
		else
			return -1;
		poll(&p, 1, -1);
	}
}

int main(int argc, char **argv)
{
	struct prog_opts p;
	memset(&p, 0, sizeof p);
	sslsocket_options_init(&p.o);
	const char *host = NULL, *port = NULL;
	int no_shutdown = 0;
	for (int i = 1; i < argc; i++) {
		int r = prog_opt(&p, "sslsocket_client", argc, argv, &i);
		if (r < 0)
			return 2;
		if (r)
			continue;
		if (strcmp(argv[i], "--no-shutdown") == 0)
			no_shutdown = 1;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: sslsocket_client [OPTIONS] HOST PORT\n%s"
			                "  --no-shutdown (keep writing side open at stdin EOF)\n",
			        prog_opts_usage);
			return 2;
		} else if (!host)
			host = argv[i];
		else if (!port)
			port = argv[i];
	}
	if (!host || !port) {
		fprintf(stderr, "usage: sslsocket_client [OPTIONS] HOST PORT\n%s", prog_opts_usage);
		return 2;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	int gr = getaddrinfo(host, port, &hints, &ai);
	if (gr != 0) {
		fprintf(stderr, "sslsocket_client: %s: %s\n", host, gai_strerror(gr));
		return 1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | (p.nonblocking ? SOCK_NONBLOCK : 0), 0);
	struct sslsocket_error err;
	sslsocket *s = fd < 0 ? NULL : sslsocket_wrap(fd, &p.o, NULL, &err);
	if (!s) {
		fprintf(stderr, "sslsocket_client: %s\n", fd < 0 ? strerror(errno) : err.reason);
		return 1;
	}
	int r = sslsocket_connect(s, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (r < 0 && p.nonblocking && (errno == EINPROGRESS || errno == EAGAIN))
		r = handshake_nonblocking(s);
	else if (r == 0 && p.nonblocking)
		r = handshake_nonblocking(s);
	if (r < 0) {
		fprintf(stderr, "sslsocket_client: %s\n", sslsocket_error(s));
		sslsocket_close(s);
		return 1;
	}
	if (p.info && sslsocket_handshake_done(s))
		prog_print_info(s);
	/* Copy both ways; wait with poll, asking the library what to wait for. */
	int in_open = 1, status = 0;
	char buf[16384];
	for (;;) {
		struct pollfd fds[2] = {{.fd = 0, .events = in_open ? POLLIN : 0}, {.fd = fd}};
		short kev = 0;
		short ready = sslsocket_poll_events(s, POLLIN, &kev);
		fds[1].events = kev;
		if (!ready && poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (ready || fds[1].revents) {
			/* Readable may mean only a TLS record without plaintext (a
			 * session ticket): read without blocking, then poll again. */
			int t = sslsocket_gettimeout(s);
			sslsocket_settimeout(s, 0);
			ssize_t n = sslsocket_read(s, buf, sizeof buf);
			sslsocket_settimeout(s, t);
			if (n == 0)
				break;
			if (n < 0) {
				if (errno == EAGAIN)
					continue;
				fprintf(stderr, "sslsocket_client: %s\n", sslsocket_error(s));
				status = 1;
				break;
			}
			if (write(1, buf, (size_t)n) != n) {
				status = 1;
				break;
			}
		}
		if (in_open && !ready && (fds[0].revents & (POLLIN | POLLHUP))) {
			ssize_t n = read(0, buf, sizeof buf);
			if (n > 0) {
				int t = sslsocket_gettimeout(s);
				sslsocket_settimeout(s, -1); /* write all of it */
				ssize_t w = sslsocket_write(s, buf, (size_t)n);
				sslsocket_settimeout(s, t);
				if (w != n) {
					fprintf(stderr, "sslsocket_client: %s\n", sslsocket_error(s));
					status = 1;
					break;
				}
			} else {
				in_open = 0;
				/* The peer may be gone already; its reply (or EOF)
				 * is still to be read, so this is not fatal. */
				if (!no_shutdown && sslsocket_shutdown_write(s) < 0)
					fprintf(stderr, "sslsocket_client: warning: %s\n", sslsocket_error(s));
			}
		}
	}
	sslsocket_close(s);
	return status;
}
