/*
 * rand.c - RAND_status, RAND_add and RAND_egd.
 *
 * OpenSSL 3 removed EGD support (RAND_egd*), so RAND_egd reads the seed's
 * "256 bytes of randomness" from the stream socket itself and mixes them
 * in with RAND_add. It does not speak the EGD request protocol: the
 * daemon is expected to send the bytes when a client connects, and one
 * that waits for a request fails after EGD_TIMEOUT_MS rather than hanging.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "ossl_int.h"

#include "cert_int.h"

#define EGD_BYTES 256
#define EGD_TIMEOUT_MS 5000

int sslsocket_RAND_status(void)
{
	return RAND_status() == 1;
}

int sslsocket_RAND_add(const void *buf, size_t len, double entropy)
{
	const unsigned char *p = buf;

	/* entropy is in bytes (OpenSSL's unit), a lower bound, so 0.0 is
	 * always safe; NaN or a negative bound is a caller's error. */
	if ((!buf && len) || isnan(entropy) || entropy < 0) {
		errno = EINVAL;
		return -1;
	}
	if (entropy > (double)len)
		entropy = (double)len;
	/* RAND_add takes an int: feed larger buffers in pieces, sharing the
	 * estimate in proportion so that the total is not overstated (Python
	 * passes the whole estimate with every piece). */
	while (len > 0) {
		size_t n = len > INT_MAX ? INT_MAX : len;
		RAND_add(p, (int)n, entropy * (double)n / (double)len);
		entropy -= entropy * (double)n / (double)len;
		p += n;
		len -= n;
	}
	return 0;
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int sslsocket_RAND_egd(const char *path, struct sslsocket_error *err)
{
	const struct sslsocket_io *io = sslsocket_io_libc();
	unsigned char buf[EGD_BYTES];
	struct sockaddr_un sa;
	struct timespec t0;
	struct stat st;
	size_t got = 0;
	int fd = -1, rc = -1;

	if (!path || !*path) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE, "RAND_egd: no socket path");
		return -1;
	}
	if (strlen(path) >= sizeof sa.sun_path) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE, "RAND_egd: socket path too long: %.200s",
		                    path);
		return -1;
	}
	/* Name the common mistakes before connect() reduces them to
	 * ENOENT or ECONNREFUSED. */
	if (stat(path, &st) < 0) {
		core_cert_error_set(err, SSLSOCKET_ERROR_SYSCALL, "RAND_egd: %.200s: %s", path,
		                    CORE_STRERROR(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		errno = ENOTSOCK;
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE, "RAND_egd: %.200s is not a socket", path);
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = io->socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		core_cert_error_set(err, SSLSOCKET_ERROR_SYSCALL, "RAND_egd: socket: %s", CORE_STRERROR(errno));
		return -1;
	}
	if (io->connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		core_cert_error_set(err, SSLSOCKET_ERROR_SYSCALL, "RAND_egd: cannot connect to %.200s: %s",
		                    path, CORE_STRERROR(errno));
		goto done;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (got < sizeof buf) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = EGD_TIMEOUT_MS - elapsed_ms(&t0);
		ssize_t n;
		int pr;

		if (left <= 0) {
			errno = ETIMEDOUT;
			core_cert_error_set(err, SSLSOCKET_ERROR_SYSCALL,
			                    "RAND_egd: %.200s sent %zu of %d bytes within %d ms", path, got,
			                    EGD_BYTES, EGD_TIMEOUT_MS);
			goto done;
		}
		pr = io->poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			core_cert_error_set(err, SSLSOCKET_ERROR_SYSCALL, "RAND_egd: poll: %s",
			                    CORE_STRERROR(errno));
			goto done;
		}
		if (pr == 0)
			continue;
		n = io->recv(fd, buf + got, sizeof buf - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0) {
			core_cert_error_set(err, SSLSOCKET_ERROR_SYSCALL, "RAND_egd: reading %.200s: %s",
			                    path, CORE_STRERROR(errno));
			goto done;
		}
		if (n == 0) {
			errno = EIO;
			core_cert_error_set(err, SSLSOCKET_ERROR_EOF,
			                    "RAND_egd: %.200s sent only %zu of %d bytes", path, got,
			                    EGD_BYTES);
			goto done;
		}
		got += (size_t)n;
	}
	/* Counted as full entropy, as the seed's EGD was trusted to give. */
	RAND_add(buf, (int)got, (double)got);
	rc = (int)got;
done:
	OPENSSL_cleanse(buf, sizeof buf);
	io->close(fd);
	return rc;
}
