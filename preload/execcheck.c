/*
 * execcheck.c - would exec of this file lose LD_PRELOAD?
 *
 * The loader runs setuid, setgid and file-capability programs in secure
 * mode (AT_SECURE), where LD_PRELOAD is ignored: such a child's sockets
 * would go out in plaintext while the user believes tlsshim covers them.
 * CONTRACT.md: refuse with EPERM unless allow_setuid_exec = true.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ts.h"

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

const char *ts_exec_privileged_path(const char *path)
{
	struct stat st;
	ssize_t caplen;
	int saved = errno;
	const char *why;

	if (path == NULL || stat(path, &st) < 0) {
		errno = saved;
		return NULL;
	}
	caplen = getxattr(path, "security.capability", NULL, 0);
	why = privileged(&st, caplen);
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
