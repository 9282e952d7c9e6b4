/*
 * idle_holder - opens COUNT TLS connections to a redis server and keeps
 * them open and silent: the idle load of the scale workload (bench/run.sh,
 * section "scale").
 *
 *   idle_holder -p PORT --ca CA.pem -c COUNT [-H 127.0.0.1] [-t THREADS]
 *
 * Each connection: TCP connect, a TLS handshake (certificate verified;
 * each thread's first full, the next ones resumed), "PING" and its
 * "+PONG" (so that the server has finished the handshake and registered
 * the client), then the client's TLS state is
 * freed and only the descriptor is kept: the server holds an established,
 * idle TLS connection and this process stays small. Prints
 * "RESULT held=COUNT secs=S" once every connection is up, then sleeps
 * until a signal (SIGTERM from the run's timeout) ends it and the kernel
 * closes them all. Exit 1 (with a message) when a connection cannot be
 * made.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static struct sockaddr_in addr;
static SSL_CTX *ctx;
static long per_thread;
static int *fds;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Each connection resumes the session of the thread's previous one
 * (TLS 1.3 tickets): the server's handshake costs no signature, so 10,000
 * connections open in seconds; what they then cost the server idle is
 * the same. */
static int one(SSL_SESSION **sess)
{
	static const char ping[] = "*1\r\n$4\r\nPING\r\n";
	char buf[16];
	int fd = socket(AF_INET, SOCK_STREAM, 0), n, got = 0;
	SSL *ssl = NULL;

	if (fd < 0) {
		perror("socket");
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("connect");
		goto fail;
	}
	ssl = SSL_new(ctx);
	if (ssl != NULL && *sess != NULL)
		SSL_set_session(ssl, *sess);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) {
		fprintf(stderr, "handshake failed\n");
		ERR_print_errors_fp(stderr);
		goto fail;
	}
	if (SSL_write(ssl, ping, (int)strlen(ping)) <= 0)
		goto fail;
	while (got < 7) {
		n = SSL_read(ssl, buf + got, (int)sizeof buf - got);
		if (n <= 0) {
			fprintf(stderr, "no PONG\n");
			goto fail;
		}
		got += n;
	}
	if (memcmp(buf, "+PONG\r\n", 7) != 0) {
		fprintf(stderr, "unexpected reply\n");
		goto fail;
	}
	/* the tickets came with the reply */
	SSL_SESSION_free(*sess);
	*sess = SSL_get1_session(ssl);
	/* Keep the descriptor, drop the TLS state: no close_notify. */
	SSL_set_quiet_shutdown(ssl, 1);
	SSL_free(ssl);
	return fd;
fail:
	SSL_free(ssl);
	close(fd);
	return -1;
}

static void *worker(void *arg)
{
	long base = (long)arg * per_thread, i;
	SSL_SESSION *sess = NULL;
	void *r = NULL;

	for (i = 0; i < per_thread; i++) {
		fds[base + i] = one(&sess);
		if (fds[base + i] < 0) {
			r = (void *)1;
			break;
		}
	}
	SSL_SESSION_free(sess);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"ca", required_argument, NULL, 'a'}, {0, 0, 0, 0}};
	const char *host = "127.0.0.1", *ca = NULL;
	long count = 0, threads = 4, t;
	int port = 0, c, bad = 0;
	pthread_t *tid;
	struct rlimit rl;
	double t0;

	while ((c = getopt_long(argc, argv, "H:p:c:t:", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'c': count = atol(optarg); break;
		case 't': threads = atol(optarg); break;
		case 'a': ca = optarg; break;
		default: return 2;
		}
	}
	if (port <= 0 || count <= 0 || ca == NULL || threads <= 0) {
		fprintf(stderr, "usage: %s -p PORT --ca CA.pem -c COUNT [-H HOST] [-t THREADS]\n", argv[0]);
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)count + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
		return 2;
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL || SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	if (threads > count)
		threads = count;
	per_thread = count / threads;
	count = per_thread * threads;
	fds = calloc((size_t)count, sizeof *fds);
	tid = calloc((size_t)threads, sizeof *tid);
	if (fds == NULL || tid == NULL)
		return 1;
	t0 = now();
	for (t = 0; t < threads; t++)
		pthread_create(&tid[t], NULL, worker, (void *)t);
	for (t = 0; t < threads; t++) {
		void *r;

		pthread_join(tid[t], &r);
		bad |= r != NULL;
	}
	if (bad)
		return 1;
	printf("RESULT held=%ld secs=%.2f\n", count, now() - t0);
	fflush(stdout);
	for (;;)
		pause();
}
