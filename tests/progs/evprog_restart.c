/*
 * evprog_restart HOST PORT N MODE: N blocking connects (each writes a line
 * and closes) while a 200 microsecond interval timer interrupts them.
 * MODE "restart": the SIGALRM handler has SA_RESTART, and as the kernel
 * restarts a plain blocking connect, no connect may fail with EINTR.
 * MODE "norestart": the handler has no SA_RESTART; EINTR is allowed (and
 * counted, so a test can see that the timer does interrupt the waits).
 * MODE "restart-faults": as "restart", with handlers of the fault signals
 * (SIGSEGV, SIGBUS, SIGFPE, SIGILL) that have no SA_RESTART, as ASan's,
 * node's and Python's faulthandler's have: still no EINTR.
 * Prints "connects N eintr K errors E" and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
	(void)sig;
	ticks++;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	signal(sig, SIG_DFL); /* never taken here: the default on a real fault */
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: evprog_restart HOST PORT N restart|norestart|restart-faults\n");
		return 2;
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
	inet_pton(AF_INET, argv[1], &a.sin_addr);
	int n = atoi(argv[3]), faults = strcmp(argv[4], "restart-faults") == 0;
	int restart = faults || strcmp(argv[4], "restart") == 0;
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = restart ? SA_RESTART : 0};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	if (faults) {
		struct sigaction fa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_NODEFER};
		sigemptyset(&fa.sa_mask);
		sigaction(SIGSEGV, &fa, NULL);
		sigaction(SIGBUS, &fa, NULL);
		sigaction(SIGFPE, &fa, NULL);
		sigaction(SIGILL, &fa, NULL);
	}
	struct itimerval it = {.it_interval = {0, 200}, .it_value = {0, 200}};
	setitimer(ITIMER_REAL, &it, NULL);
	int eintr = 0, errors = 0;
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0) {
			errors++;
			continue;
		}
		if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
			if (errno == EINTR)
				eintr++;
			else {
				fprintf(stderr, "connect %d: %s\n", i, strerror(errno));
				errors++;
			}
			close(fd);
			continue;
		}
		ssize_t w;
		do
			w = write(fd, "ping\n", 5);
		while (w < 0 && errno == EINTR && !restart);
		if (w != 5) {
			fprintf(stderr, "write %d: %s\n", i, w < 0 ? strerror(errno) : "short");
			errors++;
		}
		close(fd);
	}
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	printf("connects %d eintr %d errors %d ticks %d\n", n, eintr, errors, (int)ticks);
	return 0;
}
