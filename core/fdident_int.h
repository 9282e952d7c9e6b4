/*
 * fdident_int.h - is a descriptor number still the file tlsshim opened?
 *
 * A program may close descriptors it did not open (close_range, closefrom,
 * dup2 onto a number) and get the number back for a socket or a file.
 * What tlsshim keeps open across calls (the log, the key log, an epoll
 * instance's wake eventfd) takes the file's identity when it opens it and
 * checks it before every use, so that nothing of tlsshim's is written
 * into, read from or closed under what the program now holds there.
 */
#ifndef TLSSHIM_FDIDENT_INT_H
#define TLSSHIM_FDIDENT_INT_H

#include <errno.h>
#include <sys/stat.h>

struct core_fdident {
	dev_t dev;
	ino_t ino;
};

/* The identity of what fd is now; -1 (errno) when fstat fails. */
static inline int core_fdident_take(int fd, struct core_fdident *id)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return 0;
}

/* 1 while fd is still the file id was taken from; errno is kept. */
static inline int core_fdident_same(int fd, const struct core_fdident *id)
{
	struct stat st;
	int saved = errno, same;

	same = fstat(fd, &st) == 0 && st.st_dev == id->dev && st.st_ino == id->ino;
	errno = saved;
	return same;
}

#endif /* TLSSHIM_FDIDENT_INT_H */
