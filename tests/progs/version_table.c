/*
 * version_table - the seed's client/server protocol table, redone for the
 * OpenSSL this program runs with: every client ssl_version against every
 * server ssl_version over 127.0.0.1, printed as a Markdown table (default)
 * or reStructuredText (--rst).
 *
 * Cells: the negotiated version ("TLSv1.3"), "no" when the handshake
 * fails, and "n/a" when that side's version cannot be spoken at all (a
 * wrap-time error). The notes under the table give the reasons.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sslsocket.h"

#define NV 7

static const char *certfile, *keyfile;

struct srv {
	int lfd;
	enum sslsocket_protocol v;
};

static void *srv_main(void *arg)
{
	struct srv *p = arg;
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.server_side = 1;
	o.certfile = certfile;
	o.keyfile = keyfile;
	o.ssl_version = p->v;
	o.handshake_timeout_ms = 5000;
	struct sslsocket_error err;
	sslsocket *l = sslsocket_wrap(p->lfd, &o, NULL, &err);
	if (!l)
		return NULL;
	sslsocket *s = sslsocket_accept(l, NULL, NULL, 0);
	if (s) {
		char b[4];
		while (sslsocket_read(s, b, sizeof b) > 0)
			; /* to the client's close_notify, then ours */
		sslsocket_close(s);
	}
	sslsocket_free(l);
	return NULL;
}

static void cell(int cv, int sv, char *out, size_t outlen)
{
	snprintf(out, outlen, "no");
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &al) < 0) {
		perror("version_table: listen");
		exit(1);
	}
	struct srv srv = {.lfd = lfd, .v = (enum sslsocket_protocol)sv};
	pthread_t th;
	if (pthread_create(&th, NULL, srv_main, &srv) != 0)
		exit(1);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.ssl_version = (enum sslsocket_protocol)cv;
	o.handshake_timeout_ms = 5000;
	o.session_cache = 0;
	struct sslsocket_error err;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	sslsocket *c = sslsocket_wrap(fd, &o, NULL, &err);
	if (c && sslsocket_connect(c, (struct sockaddr *)&a, sizeof a) == 0) {
		const char *ver = NULL;
		char b[4];
		/* A round trip: a TLS 1.3 server refuses after the client's
		 * Finished, so only the reply proves the connection. */
		if (sslsocket_cipher(c, NULL, &ver, NULL) == 0 && sslsocket_write(c, "x", 1) == 1 &&
		    sslsocket_shutdown_write(c) == 0 && sslsocket_read(c, b, sizeof b) == 0)
			snprintf(out, outlen, "%s", ver);
	}
	if (c)
		sslsocket_close(c);
	else
		close(fd);
	pthread_join(th, NULL);
	close(lfd);
}

int main(int argc, char **argv)
{
	int rst = 0;
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rst") == 0)
			rst = 1;
		else if (!dir && argv[i][0] != '-')
			dir = argv[i];
		else {
			fprintf(stderr, "usage: version_table [--rst] CERTDIR\n");
			return 2;
		}
	}
	if (!dir) {
		fprintf(stderr, "usage: version_table [--rst] CERTDIR (server.pem, server.key)\n");
		return 2;
	}
	static char cf[4096], kf[4096];
	snprintf(cf, sizeof cf, "%s/server.pem", dir);
	snprintf(kf, sizeof kf, "%s/server.key", dir);
	certfile = cf;
	keyfile = kf;

	int ok[NV];
	char why[NV][256];
	for (int v = 0; v < NV; v++) {
		struct sslsocket_error err;
		ok[v] = sslsocket_protocol_supported((enum sslsocket_protocol)v, &err) == 0;
		snprintf(why[v], sizeof why[v], "%s", ok[v] ? "" : err.reason);
	}
	char cells[NV][NV][16];
	for (int cv = 0; cv < NV; cv++)
		for (int sv = 0; sv < NV; sv++) {
			if (!ok[cv] || !ok[sv])
				snprintf(cells[cv][sv], sizeof cells[cv][sv], "n/a");
			else
				cell(cv, sv, cells[cv][sv], sizeof cells[cv][sv]);
		}

	const int w0 = 24, w = 9;
	if (rst) {
		char line[256] = "";
		int p = snprintf(line, sizeof line, "%.*s", w0, "========================");
		for (int sv = 0; sv < NV; sv++)
			p += snprintf(line + p, sizeof line - (size_t)p, " %.*s", w, "=========");
		printf("%s\n%-*s", line, w0, "client \\ server");
		for (int sv = 0; sv < NV; sv++)
			printf(" %-*s", w, sslsocket_protocol_name((enum sslsocket_protocol)sv) + 9);
		printf("\n%s\n", line);
		for (int cv = 0; cv < NV; cv++) {
			printf("%-*s", w0, sslsocket_protocol_name((enum sslsocket_protocol)cv) + 9);
			for (int sv = 0; sv < NV; sv++)
				printf(" %-*s", w, cells[cv][sv]);
			printf("\n");
		}
		printf("%s\n", line);
	} else {
		printf("| %-*s |", w0, "client \\ server");
		for (int sv = 0; sv < NV; sv++)
			printf(" %-*s |", w, sslsocket_protocol_name((enum sslsocket_protocol)sv) + 9);
		printf("\n|%.*s|", w0 + 2, "--------------------------");
		for (int sv = 0; sv < NV; sv++)
			printf("%.*s|", w + 2, "-----------");
		printf("\n");
		for (int cv = 0; cv < NV; cv++) {
			printf("| %-*s |", w0, sslsocket_protocol_name((enum sslsocket_protocol)cv) + 9);
			for (int sv = 0; sv < NV; sv++)
				printf(" %-*s |", w, cells[cv][sv]);
			printf("\n");
		}
	}
	printf("\n");
	for (int v = 0; v < NV; v++)
		if (!ok[v])
			printf("- n/a: %s\n", why[v]);
	return 0;
}
