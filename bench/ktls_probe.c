/*
 * ktls_probe - can this kernel do TLS in the kernel (kTLS)? Attaches the
 * "tls" upper-layer protocol to a connected loopback TCP socket, which is
 * the first step OpenSSL takes with SSL_OP_ENABLE_KTLS. Prints
 * "kTLS: available" or "kTLS: not available (reason)"; exit 0 either way,
 * 1 if the probe itself could not run.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

int main(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int l, c, s;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0 ||
	    connect(c, (struct sockaddr *)&a, sizeof a) < 0 || (s = accept(l, NULL, NULL)) < 0) {
		printf("kTLS: probe failed (%s)\n", strerror(errno));
		return 1;
	}
	if (setsockopt(c, IPPROTO_TCP, TCP_ULP, "tls", 3) == 0)
		printf("kTLS: available\n");
	else
		printf("kTLS: not available (setsockopt TCP_ULP \"tls\": %s)\n", strerror(errno));
	close(s);
	close(c);
	close(l);
	return 0;
}
