/*
 * evprog_sighandler HOST PORT CASE: a signal handler (SIGALRM or SIGUSR1,
 * no SA_RESTART) that writes to a wrapped socket and connects a new socket
 * a rule matches, while the main thread is inside a wrapped call:
 *
 *   read      a blocking read on a silent connection (SIGALRM)
 *   write     a stream of large writes (SIGUSR1 from another thread)
 *   connect   a blocking connect whose handshake is slow (SIGALRM)
 *   poll      poll for input on a silent connection (SIGUSR1)
 *
 * The handler writes "HANDLER-WRITE-CASE" to the main connection and
 * connects a second socket to HOST:PORT, writes "HANDLER-CONNECT-CASE" and
 * closes it. Each must go through TLS or fail with an error (EDEADLK or
 * EAGAIN when the interrupted call holds the connection); never plaintext,
 * never a hang. Prints "CASE write R E connect R E" (result, errno name)
 * and exits 0 when the main call returned.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static struct sockaddr_in addr;
static int main_fd = -1;
static const char *casename;
static volatile sig_atomic_t ran;
static int h_write = -2, h_write_errno, h_connect = -2, h_connect_errno;
static char msg_w[64], msg_c[64];

static void handler(int sig)
{
	(void)sig;
	int saved = errno;
	if (ran)
		return;
	ran = 1;
	if (main_fd >= 0) {
		h_write = (int)write(main_fd, msg_w, strlen(msg_w));
		h_write_errno = h_write < 0 ? errno : 0;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	h_connect = connect(fd, (struct sockaddr *)&addr, sizeof addr);
	h_connect_errno = h_connect < 0 ? errno : 0;
	if (h_connect == 0) {
		ssize_t w = write(fd, msg_c, strlen(msg_c));
		if (w < 0)
			h_connect = -3, h_connect_errno = errno;
	}
	close(fd);
	errno = saved;
}

static void *kicker(void *arg)
{
	pthread_t target = *(pthread_t *)arg;
	usleep(150 * 1000);
	pthread_kill(target, SIGUSR1);
	return NULL;
}

static const char *ename(int e)
{
	switch (e) {
	case 0: return "0";
	case EINTR: return "EINTR";
	case EAGAIN: return "EAGAIN";
	case EDEADLK: return "EDEADLK";
	case EPROTO: return "EPROTO";
	case EINPROGRESS: return "EINPROGRESS";
	default: return strerror(e);
	}
}

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: evprog_sighandler HOST PORT read|write|connect|poll\n");
		return 2;
	}
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &addr.sin_addr);
	casename = argv[3];
	snprintf(msg_w, sizeof msg_w, "HANDLER-WRITE-%s\n", casename);
	snprintf(msg_c, sizeof msg_c, "HANDLER-CONNECT-%s\n", casename);
	struct sigaction sa = {.sa_handler = handler};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	struct itimerval it = {.it_value = {0, 150 * 1000}};
	pthread_t self = pthread_self(), th;
	char buf[256];
	int r = 0, e = 0;

	if (strcmp(casename, "connect") != 0)
		main_fd = dial();
	if (strcmp(casename, "read") == 0) {
		setitimer(ITIMER_REAL, &it, NULL);
		r = (int)read(main_fd, buf, sizeof buf);
		e = r < 0 ? errno : 0;
	} else if (strcmp(casename, "poll") == 0) {
		pthread_create(&th, NULL, kicker, &self);
		struct pollfd p = {.fd = main_fd, .events = POLLIN};
		r = poll(&p, 1, 5000);
		e = r < 0 ? errno : 0;
		pthread_join(th, NULL);
	} else if (strcmp(casename, "write") == 0) {
		static char big[64 * 1024];
		memset(big, 'w', sizeof big);
		pthread_create(&th, NULL, kicker, &self);
		for (int i = 0; i < 2000 && !ran; i++) {
			r = (int)write(main_fd, big, sizeof big);
			if (r < 0 && errno != EINTR) {
				e = errno;
				break;
			}
		}
		pthread_join(th, NULL);
	} else if (strcmp(casename, "connect") == 0) {
		/* the proxy holds new connections back: the handshake waits */
		main_fd = dial();
		setitimer(ITIMER_REAL, &it, NULL);
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		r = connect(fd, (struct sockaddr *)&addr, sizeof addr);
		e = r < 0 ? errno : 0;
		close(fd);
	} else {
		return 2;
	}
	if (!ran) {
		fprintf(stderr, "%s: the handler never ran (main %d %s)\n", casename, r, ename(e));
		return 1;
	}
	printf("%s main %d %s write %d %s connect %d %s\n", casename, r < 0 ? -1 : 0, ename(e),
	       h_write < 0 ? -1 : 0, ename(h_write_errno), h_connect, ename(h_connect_errno));
	close(main_fd);
	return 0;
}
