/*
 * plain_server - the workloads' server over plain TCP, libc only; serves
 * one connection at a time until SIGTERM. tlsshim wraps it unmodified
 * (`tlsshim --accept ...`); stunnel and socat put it behind their server
 * side.
 *
 *   plain_server [-H 127.0.0.1] -p PORT
 */
#include "plain_io.h"

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_ops ops;

	bench_parse(argc, argv, &o, 0, 1);
	plain_ops(&ops);
	return bench_server_main(&o, &ops);
}
