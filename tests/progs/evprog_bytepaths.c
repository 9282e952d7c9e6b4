/*
 * evprog_bytepaths HOST PORT SEND RECV FILE [echo]: one connection, the
 * program a test wraps with a connect rule. It sends an 8-byte big-endian
 * length with write(), then FILE's bytes through the SEND path, then reads
 * the peer's one-line answer ("ok SIZE SHA256") through the RECV path and
 * prints it; with "echo" the peer then sends the file back and the program
 * reads it through the RECV path with many buffers per call (IOV_MAX for
 * readv and recvmsg, 8 messages of 64 for recvmmsg) and compares.
 *
 *   SEND: write, sendfile (offset pointer: the file offset must not
 *         move), sendfile-nulloff (no pointer: it must advance), splice
 *         (file -> pipe -> socket),
 *         copy_file_range, sendmmsg (many messages per call), writev and
 *         sendmsg (up to IOV_MAX small buffers per call)
 *   RECV: read, recv, recvfrom, recvmsg, readv, recvmmsg
 *
 * copy_file_range to a socket is EINVAL in the kernel; on a wrapped one the
 * file's bytes go through TLS, and the program has no fallback: an error
 * fails it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write");
		p += w;
		n -= (size_t)w;
	}
}

/* Buffers of 1..997 bytes over data, at most IOV_MAX of them from *off. */
static int make_iov(struct iovec *iov, const unsigned char *data, size_t size, size_t off)
{
	int n = 0;
	while (off < size && n < IOV_MAX) {
		size_t len = 1 + (off * 31 + (size_t)n) % 997;
		if (len > size - off)
			len = size - off;
		iov[n].iov_base = (void *)(uintptr_t)(data + off);
		iov[n].iov_len = len;
		off += len;
		n++;
	}
	return n;
}

static void send_vectored(int fd, const unsigned char *data, size_t size, int use_msg)
{
	static struct iovec iov[IOV_MAX];
	size_t off = 0;
	while (off < size) {
		int n = make_iov(iov, data, size, off);
		ssize_t w;
		if (use_msg) {
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)n };
			w = sendmsg(fd, &m, 0);
		} else {
			w = writev(fd, iov, n);
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die(use_msg ? "sendmsg" : "writev");
		off += (size_t)w;
	}
}

static void send_mmsg(int fd, const unsigned char *data, size_t size)
{
	enum { NMSG = 64, MSGSZ = 4099 };
	struct mmsghdr mm[NMSG];
	struct iovec iov[NMSG];
	size_t off = 0;
	while (off < size) {
		int n = 0;
		size_t o = off;
		while (n < NMSG && o < size) {
			size_t len = size - o < MSGSZ ? size - o : MSGSZ;
			iov[n].iov_base = (void *)(uintptr_t)(data + o);
			iov[n].iov_len = len;
			memset(&mm[n], 0, sizeof mm[n]);
			mm[n].msg_hdr.msg_iov = &iov[n];
			mm[n].msg_hdr.msg_iovlen = 1;
			o += len;
			n++;
		}
		int r = sendmmsg(fd, mm, (unsigned)n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("sendmmsg");
		/* Count what went: whole messages, and a short last one. */
		for (int i = 0; i < r; i++) {
			off += mm[i].msg_len;
			if (mm[i].msg_len < iov[i].iov_len)
				break;
		}
	}
}

static void send_file(int fd, const char *mode, int file, const unsigned char *data, size_t size)
{
	off_t off = 0;
	if (!strcmp(mode, "write")) {
		write_all(fd, data, size);
	} else if (!strcmp(mode, "sendfile")) {
		while ((size_t)off < size) {
			ssize_t w = sendfile(fd, file, &off, size - (size_t)off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				die("sendfile");
		}
		/* With an offset pointer the file's own offset stays put. */
		if (lseek(file, 0, SEEK_CUR) != 0) {
			fprintf(stderr, "sendfile moved the file offset to %lld (expected 0)\n",
			        (long long)lseek(file, 0, SEEK_CUR));
			exit(1);
		}
	} else if (!strcmp(mode, "sendfile-nulloff")) {
		/* Without one, the file offset advances by what was sent. */
		size_t done = 0;
		while (done < size) {
			ssize_t w = sendfile(fd, file, NULL, size - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				die("sendfile");
			done += (size_t)w;
			if (lseek(file, 0, SEEK_CUR) != (off_t)done) {
				fprintf(stderr, "sendfile(NULL offset): file offset %lld after %zu bytes sent\n",
				        (long long)lseek(file, 0, SEEK_CUR), done);
				exit(1);
			}
		}
	} else if (!strcmp(mode, "splice")) {
		int p[2];
		if (pipe(p) < 0)
			die("pipe");
		while ((size_t)off < size) {
			ssize_t in = splice(file, &off, p[1], NULL, 65536, 0);
			if (in <= 0)
				die("splice file->pipe");
			while (in > 0) {
				ssize_t w = splice(p[0], NULL, fd, NULL, (size_t)in, 0);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					die("splice pipe->socket");
				in -= w;
			}
		}
		close(p[0]);
		close(p[1]);
	} else if (!strcmp(mode, "copy_file_range")) {
		while ((size_t)off < size) {
			ssize_t w = copy_file_range(file, &off, fd, NULL, size - (size_t)off, 0);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				die("copy_file_range");
		}
	} else if (!strcmp(mode, "sendmmsg")) {
		send_mmsg(fd, data, size);
	} else if (!strcmp(mode, "writev")) {
		send_vectored(fd, data, size, 0);
	} else if (!strcmp(mode, "sendmsg")) {
		send_vectored(fd, data, size, 1);
	} else {
		fprintf(stderr, "unknown send path %s\n", mode);
		exit(2);
	}
}

/* Reads until '\n' or EOF into buf (small reads on purpose: every path gets
 * more than one call). */
static size_t recv_line(int fd, const char *mode, char *buf, size_t cap)
{
	size_t len = 0;
	while (len < cap - 1 && (len == 0 || buf[len - 1] != '\n')) {
		size_t want = cap - 1 - len < 7 ? cap - 1 - len : 7;
		char *p = buf + len;
		ssize_t r;
		if (!strcmp(mode, "read")) {
			r = read(fd, p, want);
		} else if (!strcmp(mode, "recv")) {
			r = recv(fd, p, want, 0);
		} else if (!strcmp(mode, "recvfrom")) {
			r = recvfrom(fd, p, want, 0, NULL, NULL);
		} else if (!strcmp(mode, "recvmsg") || !strcmp(mode, "readv")) {
			struct iovec iov[3] = { { p, 1 }, { p + 1, 2 }, { p + 3, want - 3 } };
			if (want < 7) {
				iov[0].iov_len = want;
				iov[1].iov_len = iov[2].iov_len = 0;
			}
			if (mode[0] == 'r' && mode[1] == 'e' && mode[2] == 'a') {
				r = readv(fd, iov, 3);
			} else {
				struct msghdr m = { .msg_iov = iov, .msg_iovlen = 3 };
				r = recvmsg(fd, &m, 0);
			}
		} else if (!strcmp(mode, "recvmmsg")) {
			struct iovec iov[2] = { { p, 3 }, { p + 3, want - 3 } };
			if (want < 7) {
				iov[0].iov_len = want;
				iov[1].iov_len = 0;
			}
			struct mmsghdr mm[1];
			memset(mm, 0, sizeof mm);
			mm[0].msg_hdr.msg_iov = iov;
			mm[0].msg_hdr.msg_iovlen = 2;
			int k = recvmmsg(fd, mm, 1, 0, NULL);
			r = k < 0 ? -1 : k == 0 ? 0 : (ssize_t)mm[0].msg_len;
		} else {
			fprintf(stderr, "unknown receive path %s\n", mode);
			exit(2);
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die(mode);
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	return len;
}

/* Reads exactly n bytes into dst through the RECV path, with many buffers
 * per call: readv and recvmsg up to IOV_MAX buffers of 1..997 bytes,
 * recvmmsg 8 messages of 64 buffers each (the echo has no bytes after the
 * file, so no call can return more than n). */
static void recv_many(int fd, const char *mode, unsigned char *dst, size_t n)
{
	static struct iovec iov[IOV_MAX];
	size_t got = 0;
	while (got < n) {
		ssize_t r;
		int k = make_iov(iov, dst, n, got);
		if (!strcmp(mode, "readv")) {
			r = readv(fd, iov, k);
		} else if (!strcmp(mode, "recvmsg")) {
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)k };
			r = recvmsg(fd, &m, 0);
		} else if (!strcmp(mode, "recvmmsg")) {
			/* Each message has its own 64 buffers; on a stream a short
			 * message is followed by the next bytes in the next one, so
			 * the messages are joined in order. */
			static unsigned char scratch[8][64 * 997];
			static struct iovec miov[8][64];
			struct mmsghdr mm[8];
			memset(mm, 0, sizeof mm);
			for (int m = 0; m < 8; m++) {
				size_t o = 0;
				for (int i = 0; i < 64; i++) {
					size_t l = 1 + (got + (size_t)(m * 64 + i) * 37) % 997;
					miov[m][i].iov_base = scratch[m] + o;
					miov[m][i].iov_len = l;
					o += l;
				}
				mm[m].msg_hdr.msg_iov = miov[m];
				mm[m].msg_hdr.msg_iovlen = 64;
			}
			int c = recvmmsg(fd, mm, 8, 0, NULL);
			r = c < 0 ? -1 : 0;
			for (int m = 0; m < c; m++) {
				size_t l = mm[m].msg_len;
				if (l > n - got - (size_t)r) {
					fprintf(stderr, "recvmmsg: more than the %zu bytes expected\n", n);
					exit(1);
				}
				memcpy(dst + got + (size_t)r, scratch[m], l);
				r += (ssize_t)l;
			}
		} else {
			size_t want = 1 + (got * 131) % 70000;
			if (want > n - got)
				want = n - got;
			if (!strcmp(mode, "recv"))
				r = recv(fd, dst + got, want, 0);
			else if (!strcmp(mode, "recvfrom"))
				r = recvfrom(fd, dst + got, want, 0, NULL, NULL);
			else
				r = read(fd, dst + got, want);
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die(mode);
		if (r == 0) {
			fprintf(stderr, "%s: EOF after %zu of %zu echoed bytes\n", mode, got, n);
			exit(1);
		}
		got += (size_t)r;
	}
}

int main(int argc, char **argv)
{
	if (argc != 6 && !(argc == 7 && !strcmp(argv[6], "echo"))) {
		fprintf(stderr, "usage: %s HOST PORT SEND RECV FILE [echo]\n", argv[0]);
		return 2;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return 2;
	int file = open(argv[5], O_RDONLY);
	struct stat st;
	if (file < 0 || fstat(file, &st) < 0)
		die(argv[5]);
	size_t size = (size_t)st.st_size;
	unsigned char *data = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, file, 0) : NULL;
	if (data == MAP_FAILED)
		die("mmap");

	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("connect");
	unsigned char hdr[8];
	for (int i = 0; i < 8; i++)
		hdr[i] = (unsigned char)((uint64_t)size >> (56 - 8 * i));
	write_all(fd, hdr, sizeof hdr);
	send_file(fd, argv[3], file, data, size);

	char line[256];
	size_t len = recv_line(fd, argv[4], line, sizeof line);
	char *nl = strchr(line, '\n');
	size_t head = nl ? (size_t)(nl + 1 - line) : len;
	printf("%s/%s answer: %.*s", argv[3], argv[4], (int)head, line);
	if (!nl)
		printf("\n");
	if (argc == 7 && nl) {
		/* The echo of the file follows the line; a small read may already
		 * hold its first bytes. */
		unsigned char *back = malloc(size ? size : 1);
		if (!back)
			die("malloc");
		size_t extra = len - head;
		if (extra > size)
			extra = size;
		memcpy(back, line + head, extra);
		recv_many(fd, argv[4], back + extra, size - extra);
		if (size && memcmp(back, data, size) != 0) {
			fprintf(stderr, "%s: the echoed file differs\n", argv[4]);
			return 1;
		}
		printf("%s: echo of %zu bytes intact\n", argv[4], size);
		free(back);
	}
	close(fd);
	return strncmp(line, "ok ", 3) == 0 ? 0 : 1;
}
