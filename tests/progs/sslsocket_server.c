/*
 * sslsocket_server - a small TLS server on libsslsocket: listens on
 * ADDR PORT (127.0.0.1 by default) and echoes what each client sends
 * until it closes, or with --reply TEXT sends TEXT and closes. --once
 * serves one connection and exits (status 1 if its handshake failed).
 * --info prints each connection's details on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <unistd.h>

#include "sslsocket_opts.h"

int main(int argc, char **argv)
{
	struct prog_opts p;
	memset(&p, 0, sizeof p);
	sslsocket_options_init(&p.o);
	p.o.server_side = 1;
	const char *addr = "127.0.0.1", *port = NULL, *reply = NULL;
	int once = 0;
	for (int i = 1; i < argc; i++) {
		int r = prog_opt(&p, "sslsocket_server", argc, argv, &i);
		if (r < 0)
			return 2;
		if (r)
			continue;
		if (strcmp(argv[i], "--once") == 0)
			once = 1;
		else if (strcmp(argv[i], "--reply") == 0 && i + 1 < argc)
			reply = argv[++i];
		else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc)
			addr = argv[++i];
		else if (argv[i][0] == '-' || port) {
			fprintf(stderr, "usage: sslsocket_server [OPTIONS] [--bind ADDR] [--once] [--reply TEXT] PORT\n%s",
			        prog_opts_usage);
			return 2;
		} else
			port = argv[i];
	}
	if (!port) {
		fprintf(stderr, "usage: sslsocket_server [OPTIONS] PORT\n%s", prog_opts_usage);
		return 2;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICHOST}, *ai;
	int gr = getaddrinfo(addr, port, &hints, &ai);
	if (gr != 0) {
		fprintf(stderr, "sslsocket_server: %s: %s\n", addr, gai_strerror(gr));
		return 1;
	}
	int lfd = socket(ai->ai_family, SOCK_STREAM, 0), one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (lfd < 0 || bind(lfd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(lfd, 16) < 0) {
		fprintf(stderr, "sslsocket_server: %s:%s: %s\n", addr, port, strerror(errno));
		return 1;
	}
	freeaddrinfo(ai);
	struct sslsocket_error err;
	sslsocket *l = sslsocket_wrap(lfd, &p.o, NULL, &err);
	if (!l) {
		fprintf(stderr, "sslsocket_server: %s\n", err.reason);
		return 1;
	}
	int status = 0;
	do {
		sslsocket *s = sslsocket_accept(l, NULL, NULL, 0);
		if (!s) {
			fprintf(stderr, "sslsocket_server: handshake failed: %s\n", sslsocket_error(l));
			status = 1;
			continue;
		}
		status = 0;
		if (p.info)
			prog_print_info(s);
		char buf[16384];
		ssize_t n;
		if (reply) {
			if (sslsocket_write(s, reply, strlen(reply)) < 0)
				status = 1;
		} else {
			while ((n = sslsocket_read(s, buf, sizeof buf)) > 0)
				if (sslsocket_write(s, buf, (size_t)n) != n)
					break;
			if (n < 0) {
				fprintf(stderr, "sslsocket_server: %s\n", sslsocket_error(s));
				status = 1;
			}
		}
		sslsocket_close(s);
	} while (!once);
	sslsocket_free(l);
	close(lfd);
	return status;
}
