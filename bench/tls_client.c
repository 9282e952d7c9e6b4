/*
 * tls_client - the ideal pair's client: the workloads with libssl used
 * directly. --resume offers the newest session on every new connection
 * (resumed handshakes); without it every handshake is full.
 *
 *   tls_client -H 127.0.0.1 -p PORT --ca CA.pem -w bulk|pingpong|connect|idle
 *              [-n BYTES] [-d SECONDS] [-c COUNT] [--verify] [--resume]
 *              [--release-buffers]
 */
#include "tls_io.h"

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_ops ops;
	struct tls_ctx t;
	int rc;

	bench_parse(argc, argv, &o, 1, 0);
	tls_ctx_init(&t, &o, 0);
	tls_ops(&ops, &t);
	rc = bench_client_main(&o, &ops);
	SSL_SESSION_free(t.session);
	SSL_CTX_free(t.ctx);
	return rc;
}
