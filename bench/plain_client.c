/*
 * plain_client - the workloads' client over plain TCP, libc only. This is
 * the unmodified program that tlsshim wraps (`tlsshim --connect ...`).
 *
 *   plain_client -H 127.0.0.1 -p PORT -w bulk|pingpong|connect|idle
 *                [-n BYTES] [-d SECONDS] [-c COUNT] [--verify]
 */
#include "plain_io.h"

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_ops ops;

	bench_parse(argc, argv, &o, 0, 0);
	plain_ops(&ops);
	return bench_client_main(&o, &ops);
}
