/*
 * passthrough - N rounds of a 1-byte write and a 1-byte read over a
 * socketpair: descriptors tlsshim never wraps. Run under
 * `valgrind --tool=callgrind` with and without LD_PRELOAD=libtlsshim.so
 * (and a config, so the library is active rather than inert); the growth
 * of the instruction count per extra round, over two values of N, is the
 * user-space cost of two calls, free of start-up costs.
 *
 *   passthrough ROUNDS
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int sv[2];
	long rounds;
	char c = 'x';

	if (argc != 2 || (rounds = strtol(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: passthrough ROUNDS\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		perror("socketpair");
		return 1;
	}
	for (long i = 0; i < rounds; i++) {
		if (write(sv[0], &c, 1) != 1 || read(sv[1], &c, 1) != 1) {
			perror("passthrough");
			return 1;
		}
	}
	printf("RESULT rounds=%ld\n", rounds);
	return 0;
}
