/*
 * launcher_elf.c - can LD_PRELOAD reach the program the launcher is about
 * to exec?
 *
 * The interposer only sees calls that go through the dynamic linker's
 * symbol lookup into libc. A program that never loads it (statically
 * linked), that makes its own system calls (Go), that the loader would load
 * it into under another ELF class, or that runs in secure-execution mode
 * (setuid: the loader ignores LD_PRELOAD) would send its "TLS" connections
 * out in plaintext. Refusing before exec is the only fail-closed answer.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "launcher.h"

#define MAX_DEPTH 4          /* #! chains; the kernel allows 4 too */
#define MAX_PHNUM 4096
#define MAX_DYN 8192

static const char why_static[] = "it does not use libc's socket calls, so tlsshim "
	"cannot wrap its connections (they would go out in plaintext)";
static const char why_go[] = "Go makes its own system calls instead of libc's, so "
	"tlsshim cannot wrap its connections (they would go out in plaintext)";

/* One program header or section header, whatever the ELF class. */
struct elf_view {
	int fd;
	int is64;
	uint16_t type, machine;
	uint64_t phoff, shoff;
	uint16_t phnum, phentsize, shnum, shentsize, shstrndx;
};

struct seg {
	uint32_t type;
	uint64_t offset, vaddr, filesz;
};

static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/* count entries of entsize bytes at off, in one read: an allocated copy,
 * or NULL (short file, too large). Reading a table entry by entry cost
 * the launcher a system call each, at every start. */
static unsigned char *read_table(int fd, uint64_t off, size_t count, size_t entsize)
{
	unsigned char *buf;

	if (count == 0 || count > (1u << 16) || entsize > 64)
		return NULL;
	buf = malloc(count * entsize);
	if (buf != NULL && read_at(fd, buf, count * entsize, off) < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The launcher's own class and machine: what libtlsshim.so was built for. */
static void own_elf(unsigned char *cls, uint16_t *machine)
{
	static unsigned char c;
	static uint16_t m;
	if (!c) {
		unsigned char id[EI_NIDENT + 4] = { 0 };
		int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && read_at(fd, id, sizeof id, 0) == 0) {
			c = id[EI_CLASS];
			memcpy(&m, id + EI_NIDENT + 2, 2); /* e_machine, same in both classes */
		} else {
			c = sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32;
			m = 0;
		}
		if (fd >= 0)
			close(fd);
	}
	*cls = c;
	*machine = m;
}

static int load_header(struct elf_view *v, const unsigned char *id)
{
	v->is64 = id[EI_CLASS] == ELFCLASS64;
	if (v->is64) {
		Elf64_Ehdr h;
		if (read_at(v->fd, &h, sizeof h, 0) < 0)
			return -1;
		v->type = h.e_type, v->machine = h.e_machine;
		v->phoff = h.e_phoff, v->shoff = h.e_shoff;
		v->phnum = h.e_phnum, v->phentsize = h.e_phentsize;
		v->shnum = h.e_shnum, v->shentsize = h.e_shentsize, v->shstrndx = h.e_shstrndx;
		if (v->phnum && v->phentsize != sizeof(Elf64_Phdr))
			return -1;
		if (v->shnum && v->shentsize != sizeof(Elf64_Shdr))
			return -1;
	} else {
		Elf32_Ehdr h;
		if (read_at(v->fd, &h, sizeof h, 0) < 0)
			return -1;
		v->type = h.e_type, v->machine = h.e_machine;
		v->phoff = h.e_phoff, v->shoff = h.e_shoff;
		v->phnum = h.e_phnum, v->phentsize = h.e_phentsize;
		v->shnum = h.e_shnum, v->shentsize = h.e_shentsize, v->shstrndx = h.e_shstrndx;
		if (v->phnum && v->phentsize != sizeof(Elf32_Phdr))
			return -1;
		if (v->shnum && v->shentsize != sizeof(Elf32_Shdr))
			return -1;
	}
	return v->phnum > MAX_PHNUM ? -1 : 0;
}

/* Program header i of the table read by read_table. */
static void load_segment(const struct elf_view *v, const unsigned char *tab, unsigned i,
                         struct seg *s)
{
	if (v->is64) {
		Elf64_Phdr p;
		memcpy(&p, tab + (size_t)i * sizeof p, sizeof p);
		s->type = p.p_type, s->offset = p.p_offset, s->vaddr = p.p_vaddr, s->filesz = p.p_filesz;
	} else {
		Elf32_Phdr p;
		memcpy(&p, tab + (size_t)i * sizeof p, sizeof p);
		s->type = p.p_type, s->offset = p.p_offset, s->vaddr = p.p_vaddr, s->filesz = p.p_filesz;
	}
}

/* Section i's name offset, type, file offset and size, from the table
 * read by read_table. */
static void load_section(const struct elf_view *v, const unsigned char *tab, unsigned i,
                         uint32_t *name, uint32_t *type, uint64_t *offset, uint64_t *size)
{
	if (v->is64) {
		Elf64_Shdr s;
		memcpy(&s, tab + (size_t)i * sizeof s, sizeof s);
		*name = s.sh_name, *type = s.sh_type, *offset = s.sh_offset, *size = s.sh_size;
	} else {
		Elf32_Shdr s;
		memcpy(&s, tab + (size_t)i * sizeof s, sizeof s);
		*name = s.sh_name, *type = s.sh_type, *offset = s.sh_offset, *size = s.sh_size;
	}
}

/* Go's linker marks every binary with a build-ID note (owner "Go", type 4)
 * in .note.go.buildid, and puts .go.buildinfo and .gopclntab next to it;
 * any of them is enough (stripped binaries keep the note segment). */
static int has_go_sections(const struct elf_view *v)
{
	static const char *const names[] = { ".note.go.buildid", ".go.buildinfo", ".gopclntab" };
	uint32_t name, type;
	uint64_t stroff, strsize, off, size;
	if (!v->shnum || v->shstrndx >= v->shnum)
		return 0;
	unsigned char *tab = read_table(v->fd, v->shoff, v->shnum, v->shentsize);
	if (!tab)
		return 0;
	load_section(v, tab, v->shstrndx, &name, &type, &stroff, &strsize);
	char *strtab = strsize <= (1u << 24) ? malloc(strsize + 1) : NULL;
	if (!strtab || read_at(v->fd, strtab, strsize, stroff) < 0) {
		free(strtab);
		free(tab);
		return 0;
	}
	strtab[strsize] = '\0';
	int found = 0;
	for (unsigned i = 0; i < v->shnum && !found; i++) {
		load_section(v, tab, i, &name, &type, &off, &size);
		if (name >= strsize)
			continue;
		for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
			if (strcmp(strtab + name, names[k]) == 0)
				found = 1;
	}
	free(strtab);
	free(tab);
	return found;
}

static int note_segment_is_go(int fd, const struct seg *s)
{
	if (s->filesz > (1u << 20))
		return 0;
	unsigned char *buf = malloc(s->filesz ? s->filesz : 1);
	if (!buf || read_at(fd, buf, s->filesz, s->offset) < 0) {
		free(buf);
		return 0;
	}
	int found = 0;
	uint64_t pos = 0;
	/* Elf32_Nhdr and Elf64_Nhdr are the same three 32-bit words. */
	while (!found && pos + sizeof(Elf64_Nhdr) <= s->filesz) {
		Elf64_Nhdr n;
		memcpy(&n, buf + pos, sizeof n);
		pos += sizeof n;
		uint64_t namesz = (n.n_namesz + 3u) & ~3ull, descsz = (n.n_descsz + 3u) & ~3ull;
		if (pos + namesz > s->filesz)
			break;
		if (n.n_namesz == 3 && memcmp(buf + pos, "Go", 3) == 0 && n.n_type == 4)
			found = 1;
		pos += namesz + descsz;
	}
	free(buf);
	return found;
}

static int vaddr_to_offset(const struct seg *segs, size_t n, uint64_t vaddr, uint64_t *off)
{
	for (size_t i = 0; i < n; i++)
		if (segs[i].type == PT_LOAD && vaddr >= segs[i].vaddr &&
		    vaddr < segs[i].vaddr + segs[i].filesz) {
			*off = segs[i].offset + (vaddr - segs[i].vaddr);
			return 0;
		}
	return -1;
}

/* 1 if a DT_NEEDED entry names libc ("libc.so.6", musl's "libc.so"), 0 if
 * none does, -1 if the dynamic section cannot be read (then we do not
 * guess). */
static int needs_libc(const struct elf_view *v, const struct seg *segs, size_t nseg,
                      const struct seg *dyn)
{
	size_t entsize = v->is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
	size_t n = dyn->filesz / entsize;
	if (n == 0 || n > MAX_DYN)
		return -1;
	uint64_t *tags = calloc(n, sizeof *tags), *vals = calloc(n, sizeof *vals);
	unsigned char *tab = read_table(v->fd, dyn->offset, n, entsize);
	int result = -1;
	uint64_t strtab = 0, strsz = 0, stroff;
	size_t count = 0;
	if (!tags || !vals || !tab)
		goto out;
	for (size_t i = 0; i < n; i++, count++) {
		if (v->is64) {
			Elf64_Dyn d;
			memcpy(&d, tab + i * sizeof d, sizeof d);
			tags[i] = (uint64_t)d.d_tag, vals[i] = d.d_un.d_val;
		} else {
			Elf32_Dyn d;
			memcpy(&d, tab + i * sizeof d, sizeof d);
			tags[i] = (uint64_t)(int64_t)d.d_tag, vals[i] = d.d_un.d_val;
		}
		if (tags[i] == DT_NULL)
			break;
		if (tags[i] == DT_STRTAB)
			strtab = vals[i];
		if (tags[i] == DT_STRSZ)
			strsz = vals[i];
	}
	if (!strtab || vaddr_to_offset(segs, nseg, strtab, &stroff) < 0)
		goto out;
	result = 0;
	for (size_t i = 0; i < count && result == 0; i++) {
		char name[16] = { 0 };
		ssize_t got;
		if (tags[i] != DT_NEEDED || (strsz && vals[i] >= strsz))
			continue;
		/* A short read near the end of the file still gives a prefix. */
		do
			got = pread(v->fd, name, sizeof name - 1, (off_t)(stroff + vals[i]));
		while (got < 0 && errno == EINTR);
		if (got > 0 && strncmp(name, "libc.so", 7) == 0)
			result = 1;
	}
out:
	free(tags);
	free(vals);
	free(tab);
	return result;
}

static void put_why(char *why, size_t whylen, const char *shown, const char *via,
                    const char *what)
{
	if (via)
		snprintf(why, whylen, "%s runs under %s, which %s", shown, via, what);
	else
		snprintf(why, whylen, "%s %s", shown, what);
}

/* Inspects an ELF file; -1 with why when LD_PRELOAD cannot reach it. */
static int check_elf(int fd, const unsigned char *id, const char *shown, const char *via,
                     char *why, size_t whylen)
{
	struct elf_view v = { .fd = fd };
	unsigned char cls;
	uint16_t machine;
	char what[LAUNCH_ERRLEN];

	if (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64)
		return 0;
	own_elf(&cls, &machine);
	if (load_header(&v, id) < 0)
		return 0; /* malformed: the kernel will refuse it (126) */
	if (id[EI_CLASS] != cls || (machine && v.machine != machine)) {
		snprintf(what, sizeof what, "is a %s program for another machine type than "
		         "libtlsshim.so: the loader would skip the preload, and its connections "
		         "would go out in plaintext", id[EI_CLASS] == ELFCLASS32 ? "32-bit" : "64-bit");
		put_why(why, whylen, shown, via, what);
		return -1;
	}
	if (v.type != ET_EXEC && v.type != ET_DYN)
		return 0;

	struct seg *segs = calloc(v.phnum ? v.phnum : 1, sizeof *segs);
	if (!segs)
		return 0;
	int interp = 0, go = 0, rc = 0;
	const struct seg *dyn = NULL;
	unsigned char *phtab = read_table(fd, v.phoff, v.phnum, v.phentsize);
	if (!phtab && v.phnum) {
		free(segs);
		return 0;
	}
	for (unsigned i = 0; i < v.phnum; i++)
		load_segment(&v, phtab, i, &segs[i]);
	free(phtab);
	for (unsigned i = 0; i < v.phnum; i++) {
		if (segs[i].type == PT_INTERP)
			interp = 1;
		else if (segs[i].type == PT_DYNAMIC)
			dyn = &segs[i];
		else if (segs[i].type == PT_NOTE && note_segment_is_go(fd, &segs[i]))
			go = 1;
	}
	if (!go)
		go = has_go_sections(&v);

	if (go) {
		snprintf(what, sizeof what, "is a Go program: %s", why_go);
		put_why(why, whylen, shown, via, what);
		rc = -1;
	} else if (!interp) {
		snprintf(what, sizeof what, "is statically linked: %s", why_static);
		put_why(why, whylen, shown, via, what);
		rc = -1;
	} else if (dyn && needs_libc(&v, segs, v.phnum, dyn) == 0) {
		snprintf(what, sizeof what, "does not link libc: %s", why_static);
		put_why(why, whylen, shown, via, what);
		rc = -1;
	}
	free(segs);
	return rc;
}

char *launch_which(const char *name)
{
	if (!name || !*name) {
		errno = ENOENT;
		return NULL;
	}
	if (strchr(name, '/'))
		return strdup(name);
	const char *path = getenv("PATH");
	/* execvp's default search path when PATH is unset. */
	if (!path)
		path = "/bin:/usr/bin";
	int last = ENOENT;
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dl = (size_t)(end - p);
		size_t n = dl + 1 + strlen(name) + 1;
		char *cand = malloc(n);
		if (!cand)
			return NULL;
		/* An empty PATH element is the current directory. */
		snprintf(cand, n, "%.*s%s%s", (int)dl, p, dl ? "/" : "", name);
		struct stat st;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return cand;
		if (errno == EACCES)
			last = EACCES;
		free(cand);
		if (!*end)
			break;
		p = end;
	}
	errno = last;
	return NULL;
}

/* The interpreter of a "#!" line, resolved as the kernel and env(1) would:
 * "#!/usr/bin/env -S python3 -u" is python3 on PATH. Owned, or NULL. */
static char *script_interpreter(const char *line)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", line);
	buf[strcspn(buf, "\n")] = '\0';
	char *save = NULL;
	char *interp = strtok_r(buf, " \t", &save);
	if (!interp)
		return NULL;
	const char *base = strrchr(interp, '/');
	base = base ? base + 1 : interp;
	if (strcmp(base, "env") != 0)
		return strdup(interp);
	/* env [-S] [-i] [-u NAME] [NAME=VALUE]... PROGRAM */
	for (char *w = strtok_r(NULL, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (strcmp(w, "-u") == 0 || strcmp(w, "--unset") == 0 ||
		    strcmp(w, "-C") == 0 || strcmp(w, "--chdir") == 0) {
			strtok_r(NULL, " \t", &save);
			continue;
		}
		if (w[0] == '-' || strchr(w, '='))
			continue;
		return launch_which(w);
	}
	return strdup(interp);
}

/* What would put the loader into secure-execution mode (AT_SECURE), where
 * it ignores LD_PRELOAD: NULL when nothing does. */
static const char *secure_exec(int fd, const struct stat *st)
{
	if ((st->st_mode & S_ISUID) && st->st_uid != getuid())
		return "is setuid";
	/* A setgid bit without group execute marks mandatory locking, not
	 * privilege: the kernel does not change the group for it. */
	if ((st->st_mode & S_ISGID) && (st->st_mode & S_IXGRP) && st->st_gid != getgid())
		return "is setgid";
	if (fgetxattr(fd, "security.capability", NULL, 0) > 0)
		return "has file capabilities";
	return NULL;
}

static int check_file(const char *path, const char *shown, const char *via, int depth,
                      int allow_setuid, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* execvp says why (or, for an interpreter, the kernel) */
	struct stat st;
	unsigned char head[256] = { 0 };
	ssize_t got;
	int rc = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	do
		got = pread(fd, head, sizeof head - 1, 0);
	while (got < 0 && errno == EINTR);
	if (got < 2)
		goto out;
	if (got >= SELFMAG && memcmp(head, ELFMAG, SELFMAG) == 0) {
		/* Linux ignores the setuid and setgid bits of scripts, so only
		 * an ELF file can put the loader into secure-execution mode. */
		const char *secure = allow_setuid ? NULL : secure_exec(fd, &st);
		if (secure) {
			char what[LAUNCH_ERRLEN];
			snprintf(what, sizeof what, "%s: the loader ignores LD_PRELOAD for it, "
			         "so its connections would go out in plaintext "
			         "(allow_setuid_exec = true in the config runs it anyway)", secure);
			put_why(why, whylen, shown, via, what);
			rc = -1;
			goto out;
		}
		rc = check_elf(fd, head, shown, via, why, whylen);
		goto out;
	}
	if (depth >= MAX_DEPTH)
		goto out;
	/* A script runs under its interpreter; a file that is neither ELF nor
	 * "#!" is run by execvp with /bin/sh (its ENOEXEC fallback). */
	char *interp = head[0] == '#' && head[1] == '!' ? script_interpreter((char *)head + 2)
	                                              : strdup("/bin/sh");
	if (interp) {
		rc = check_file(interp, shown, interp, depth + 1, allow_setuid, why, whylen);
		free(interp);
	}
out:
	close(fd);
	return rc;
}

int launch_check_program(const char *name, int allow_setuid, char *why, size_t whylen)
{
	char *path = launch_which(name);
	if (!path)
		return 0;
	int rc = check_file(path, name, NULL, 0, allow_setuid, why, whylen);
	free(path);
	return rc;
}
