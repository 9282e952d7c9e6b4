/*
 * spawntime - start-up cost: runs command A and command B alternately
 * ROUNDS times each (fork, exec, wait) and prints every wall time and the
 * medians. Alternating keeps the drift of a shared machine out of the
 * difference. Output lines:
 *   SAMPLE A|B MILLISECONDS
 *   RESULT cmd=A median_ms=... min_ms=... max_ms=...
 *
 *   spawntime ROUNDS CMD_A [ARGS...] ::: CMD_B [ARGS...]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Wall time of one run; -1 when the command did not exit 0. */
static double run_once(char **argv)
{
	double t0 = now_ms();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return now_ms() - t0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void report(const char *name, double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp);
	printf("RESULT cmd=%s median_ms=%.3f min_ms=%.3f max_ms=%.3f\n", name,
	       n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v[0], v[n - 1]);
}

int main(int argc, char **argv)
{
	char **a, **b = NULL;
	double *ta, *tb;
	int rounds;

	if (argc < 5 || (rounds = atoi(argv[1])) <= 0)
		goto usage;
	a = argv + 2;
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], ":::")) {
			argv[i] = NULL;
			b = argv + i + 1;
		}
	if (!b || !*a || !*b)
		goto usage;
	ta = calloc((size_t)rounds, sizeof *ta);
	tb = calloc((size_t)rounds, sizeof *tb);
	if (!ta || !tb)
		return 1;
	for (int i = 0; i < rounds; i++) {
		ta[i] = run_once(a);
		tb[i] = run_once(b);
		if (ta[i] < 0 || tb[i] < 0) {
			fprintf(stderr, "spawntime: %s failed\n", ta[i] < 0 ? a[0] : b[0]);
			return 1;
		}
		printf("SAMPLE A %.3f\nSAMPLE B %.3f\n", ta[i], tb[i]);
	}
	report("A", ta, rounds);
	report("B", tb, rounds);
	free(ta);
	free(tb);
	return 0;
usage:
	fprintf(stderr, "usage: spawntime ROUNDS CMD_A [ARGS...] ::: CMD_B [ARGS...]\n");
	return 2;
}
