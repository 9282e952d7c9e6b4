/*
 * execcheck.c - would exec of this file lose LD_PRELOAD?
 *
 * The loader runs setuid, setgid and file-capability programs in secure
 * mode (AT_SECURE), where LD_PRELOAD is ignored: such a child's sockets
 * would go out in plaintext while the user believes tlsshim covers them.
 * CONTRACT.md: refuse with EPERM unless allow_setuid_exec = true.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "exec.h"
#include "real.h"

/* The mode bits and the capability attribute of one file. A setgid bit
 * without group execute is mandatory locking, not privilege. */
static const char *privileged(const struct stat *st, ssize_t caplen)
{
	if (!S_ISREG(st->st_mode))
		return NULL;
	if ((st->st_mode & S_ISUID) && (st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
		return "setuid";
	if ((st->st_mode & S_ISGID) && (st->st_mode & S_IXGRP))
		return "setgid";
	if (caplen > 0)
		return "file capabilities";
	return NULL;
}

/* The kernel runs a "#!" script's interpreter (binfmt_script), and a
 * setuid, setgid or file-capability interpreter runs in secure mode just
 * as such a program would: the script is as privileged as its
 * interpreter. The kernel reads at most BINPRM_BUF_SIZE (256) bytes of the
 * "#!" line and follows at most 4 levels of interpreters. */
#define SCRIPT_HEAD 256
#define SCRIPT_DEPTH 4

static const char *script_why(const char *inner)
{
	if (strcmp(inner, "setuid") == 0)
		return "a script whose interpreter is setuid";
	if (strcmp(inner, "setgid") == 0)
		return "a script whose interpreter is setgid";
	if (strcmp(inner, "file capabilities") == 0)
		return "a script whose interpreter has file capabilities";
	return inner; /* already "a script whose interpreter ..." */
}

static const char *path_why(const char *path, int depth);

/* The interpreter named by the "#!" line in head[0..n), checked. */
static const char *interp_why(const char *head, ssize_t n, int depth)
{
	char interp[SCRIPT_HEAD];
	ssize_t i = 2, j = 0;
	const char *why;

	if (n < 3 || head[0] != '#' || head[1] != '!' || depth >= SCRIPT_DEPTH)
		return NULL;
	while (i < n && (head[i] == ' ' || head[i] == '\t'))
		i++;
	while (i < n && head[i] != ' ' && head[i] != '\t' && head[i] != '\n' && head[i] != '\0')
		interp[j++] = head[i++];
	interp[j] = '\0';
	if (j == 0)
		return NULL;
	why = path_why(interp, depth + 1);
	return why ? script_why(why) : NULL;
}

static const char *head_why(int fd, int depth)
{
	char head[SCRIPT_HEAD];
	ssize_t n = pread(fd, head, sizeof head, 0);

	return interp_why(head, n, depth);
}

static const char *path_why(const char *path, int depth)
{
	struct stat st;
	ssize_t caplen;
	const char *why;
	int fd;

	if (path == NULL || stat(path, &st) < 0)
		return NULL;
	caplen = getxattr(path, "security.capability", NULL, 0);
	why = privileged(&st, caplen);
	if (why != NULL || !S_ISREG(st.st_mode))
		return why;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	why = head_why(fd, depth);
	TS_REAL(close)(fd);
	return why;
}

const char *ts_exec_privileged_path(const char *path)
{
	int saved = errno;
	const char *why = path_why(path, 0);

	errno = saved;
	return why;
}

const char *ts_exec_privileged_fd(int fd)
{
	struct stat st;
	ssize_t caplen;
	int saved = errno;
	const char *why;

	if (fstat(fd, &st) < 0) {
		errno = saved;
		return NULL;
	}
	caplen = fgetxattr(fd, "security.capability", NULL, 0);
	why = privileged(&st, caplen);
	if (why == NULL && S_ISREG(st.st_mode))
		why = head_why(fd, 0);
	errno = saved;
	return why;
}

static const char *env_path(char *const envp[])
{
	size_t i;

	if (envp == NULL)
		return getenv("PATH");
	for (i = 0; envp[i] != NULL; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			return envp[i] + 5;
	return NULL;
}

/* execvp's search: each PATH element (an empty one is the current
 * directory), the first executable regular file; without PATH, glibc's
 * default "/bin:/usr/bin". */
const char *ts_exec_search(const char *file, char *const envp[], char *buf, size_t cap)
{
	const char *path, *p, *end;
	size_t flen, dlen;
	struct stat st;
	int saved = errno;

	if (file == NULL || *file == '\0')
		return NULL;
	if (strchr(file, '/') != NULL) {
		if (strlen(file) >= cap)
			return NULL;
		memcpy(buf, file, strlen(file) + 1);
		return buf;
	}
	path = env_path(envp);
	if (path == NULL)
		path = "/bin:/usr/bin";
	flen = strlen(file);
	for (p = path;; p = end + 1) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		dlen = (size_t)(end - p);
		if (dlen == 0) {
			if (flen + 1 <= cap) {
				memcpy(buf, file, flen + 1);
				if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
				    access(buf, X_OK) == 0)
					goto found;
			}
		} else if (dlen + 1 + flen + 1 <= cap) {
			memcpy(buf, p, dlen);
			buf[dlen] = '/';
			memcpy(buf + dlen + 1, file, flen + 1);
			if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
				goto found;
		}
		if (*end == '\0')
			break;
	}
	errno = saved;
	return NULL;
found:
	errno = saved;
	return buf;
}
