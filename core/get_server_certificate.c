/*
 * get_server_certificate.c - get_server_certificate(): connect, handshake, return
 * the server's certificate as PEM.
 *
 * Built only on the public socket API, as a C program would write it.
 * Differences from the seed and from Python's version, on purpose:
 *   - with ca_certs the host is checked too (the name, or for an IP
 *     literal the certificate's IP addresses); Python checks only the
 *     chain, which lets any certificate from that CA pass;
 *   - SNI is sent for names, never for IP literals (RFC 6066 3);
 *   - the connect and the handshake are each bounded by
 *     GETCERT_TIMEOUT_MS, so a silent server cannot hang the caller.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ossl_int.h"

#include "cert_int.h"

#define GETCERT_TIMEOUT_MS 10000

/* host without the brackets of "[::1]" into buf; 1 if it is an IP
 * literal. */
static int ip_literal(const char *host, char *buf, size_t size)
{
	unsigned char tmp[16];
	size_t n = strlen(host);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= size)
		n = size - 1;
	memcpy(buf, host, n);
	buf[n] = '\0';
	return inet_pton(AF_INET, buf, tmp) == 1 || inet_pton(AF_INET6, buf, tmp) == 1;
}

/* connect() bounded by a timeout; the descriptor is ours, so it is
 * switched to non-blocking for the wait and back to blocking after. */
static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
	const struct sslsocket_io *io = sslsocket_io_libc();
	int fl = io->fcntl(fd, F_GETFL), soerr = 0;
	socklen_t sl = sizeof soerr;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int rc;

	if (fl < 0 || io->fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	if (io->connect(fd, sa, len) < 0) {
		if (errno != EINPROGRESS)
			return -1;
		do
			rc = io->poll(&pfd, 1, timeout_ms);
		while (rc < 0 && errno == EINTR);
		if (rc == 0)
			errno = ETIMEDOUT;
		if (rc <= 0)
			return -1;
		if (io->getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			return -1;
		if (soerr) {
			errno = soerr;
			return -1;
		}
	}
	return io->fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* The first address of host:port that accepts a TCP connection. */
static int dial(const char *host, unsigned short port, struct sslsocket_error *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char portstr[8];
	int gai, fd = -1, last = 0;

	snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
	gai = getaddrinfo(host, portstr, &hints, &res);
	if (gai != 0) {
		core_cert_error_set(err, SSLSOCKET_ERROR_SYSCALL, "get_server_certificate: %.200s: %s",
		                    host, gai_strerror(gai));
		return -1;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = sslsocket_io_libc()->socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect_timeout(fd, ai->ai_addr, ai->ai_addrlen, GETCERT_TIMEOUT_MS) == 0)
			break;
		last = errno;
		sslsocket_io_libc()->close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		errno = last;
		core_cert_error_set(err, SSLSOCKET_ERROR_SYSCALL,
		                    "get_server_certificate: cannot connect to %.200s port %u: %s", host,
		                    (unsigned)port, CORE_STRERROR(last));
	}
	return fd;
}

/* With ca_certs and an IP literal, the certificate must name that IP
 * (for a name, the socket's hostname check has done it). */
static int check_ip(const unsigned char *der, size_t len, const char *ip,
                    struct sslsocket_error *err)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	int ok = x && X509_check_ip_asc(x, ip, 0) == 1;

	X509_free(x);
	if (!ok) {
		errno = EPROTO;
		core_cert_error_set(err, SSLSOCKET_ERROR_SSL,
		                    "certificate verify failed: IP address mismatch, certificate is "
		                    "not valid for '%.64s'",
		                    ip);
	}
	return ok ? 0 : -1;
}

char *sslsocket_get_server_certificate(const char *host, unsigned short port,
                                       enum sslsocket_protocol ssl_version, const char *ca_certs,
                                       struct sslsocket_error *err)
{
	struct sslsocket_options o;
	struct sslsocket_error werr = { 0 };
	char bare[256];
	unsigned char *der = NULL;
	size_t len = 0;
	char *pem = NULL;
	sslsocket *s;
	int fd, is_ip;

	if (!host || !*host || strlen(host) >= sizeof bare) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE, "get_server_certificate: bad host name");
		return NULL;
	}
	if (port == 0) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE, "get_server_certificate: port 0");
		return NULL;
	}
	is_ip = ip_literal(host, bare, sizeof bare);
	sslsocket_options_init(&o);
	o.ssl_version = ssl_version;
	o.cert_reqs = ca_certs ? SSLSOCKET_CERT_REQUIRED : SSLSOCKET_CERT_NONE;
	o.ca_certs = ca_certs;
	o.server_hostname = is_ip ? NULL : bare;
	o.handshake_timeout_ms = GETCERT_TIMEOUT_MS;
	o.session_cache = 0;
	/* Refuse a bad version or CA file before touching the network. */
	if (sslsocket_options_check(&o, &werr) < 0) {
		if (err)
			*err = werr;
		return NULL;
	}
	fd = dial(bare, port, err);
	if (fd < 0)
		return NULL;
	s = sslsocket_wrap(fd, &o, NULL, &werr);
	if (!s) {
		int e = errno;
		sslsocket_io_libc()->close(fd);
		if (err)
			*err = werr;
		errno = e;
		return NULL;
	}
	if (sslsocket_getpeercert_der(s, &der, &len) < 0) {
		core_cert_error_set(err, SSLSOCKET_ERROR_SSL, "get_server_certificate: %s",
		                    sslsocket_error(s));
		goto done;
	}
	if (!der) {
		core_cert_error_set(err, SSLSOCKET_ERROR_SSL,
		                    "get_server_certificate: the server sent no certificate");
		goto done;
	}
	if (ca_certs && is_ip && check_ip(der, len, bare, err) < 0)
		goto done;
	pem = sslsocket_DER_cert_to_PEM_cert(der, len, err);
done:
	free(der);
	sslsocket_close(s);
	return pem;
}
