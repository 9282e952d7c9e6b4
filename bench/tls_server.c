/*
 * tls_server - the ideal pair's server: the workloads with libssl used
 * directly, one connection at a time. At SIGTERM it prints
 * "STATS handshakes=N resumed=M", which run.sh also uses to see whether a
 * client (stunnel, socat, tlsshim) resumes its sessions.
 *
 *   tls_server [-H 127.0.0.1] -p PORT --cert PEM --key PEM
 *              [--release-buffers] [--no-tickets]
 */
#include "tls_io.h"

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_ops ops;
	struct tls_ctx t;
	int rc;

	bench_parse(argc, argv, &o, 1, 1);
	tls_ctx_init(&t, &o, 1);
	tls_ops(&ops, &t);
	rc = bench_server_main(&o, &ops);
	printf("STATS handshakes=%ld resumed=%ld\n", t.handshakes, t.resumed);
	SSL_CTX_free(t.ctx);
	return rc;
}
