/*
 * tsprog_syslog - a program with its own system log: openlog("prog",
 * LOG_PID), a line, a connection to HOST:PORT (which tlsshim wraps and
 * logs), a line, closelog. The test checks that its lines keep their
 * ident while tlsshim's arrive as "tlsshim[PID]".
 *
 *   tsprog_syslog HOST PORT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	char buf[64];
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: tsprog_syslog HOST PORT\n");
		return 2;
	}
	openlog("prog", LOG_PID, LOG_DAEMON);
	syslog(LOG_NOTICE, "before the connection");
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return 2;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("connect");
		return 1;
	}
	if (write(fd, "ping\n", 5) != 5) {
		perror("write");
		return 1;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	printf("read=%zd\n", n);
	close(fd);
	syslog(LOG_NOTICE, "after the connection");
	closelog();
	return 0;
}
