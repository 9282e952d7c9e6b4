/*
 * launcher_status.c - `tlsshim --status [--prometheus]`: the counters of
 * the live wrapped processes, read from their status files (the layout
 * is stats_shm.h; the writer is preload/stats.c).
 *
 * A file is trusted only after its magic, version and sizes check out,
 * and only while its process lives: a PID that is not running, or whose
 * process started after the file was made (the PID was reused), marks a
 * file left by a process that died without its exit handlers (a signal,
 * _exit). Those files are skipped and removed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "syserr_int.h"
#include "launcher.h"
#include "stats_shm.h"

struct status_proc {
	struct ts_stats_hdr h;
	struct ts_stats_rule *rules;
};

static const char *const fail_names[TS_FAIL_COUNT] = TS_STATS_FAIL_NAMES;

/* 1 when the process that made the file is still the one under its PID. */
int launch_status_alive(pid_t pid, int64_t created_boot_ms)
{
	char p[64], buf[1024];
	unsigned long long ticks = 0;
	long hz;
	ssize_t n;
	int fd, field;
	char *s;

	if (pid <= 0)
		return 0;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : 1; /* no /proc: trust kill() */
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	/* "PID (comm) S ..." - comm may hold spaces and parentheses: the
	 * fields start after the last ')'. starttime is field 22. */
	s = strrchr(buf, ')');
	if (s == NULL)
		return 1;
	if (s[1] == ' ' && (s[2] == 'Z' || s[2] == 'X'))
		return 0; /* a zombie: it has exited, its parent did not reap it yet */
	for (field = 2; field < 22 && s != NULL; field++)
		s = strchr(s + 1, ' ');
	if (s == NULL || sscanf(s + 1, "%llu", &ticks) != 1)
		return 1;
	hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		return 1;
	/* ticks are rounded down: a process that started after the file was
	 * made is another process. */
	return (long long)(ticks * 1000ULL / (unsigned long long)hz) <= created_boot_ms;
}

/* Reads one status file. 1 and *out filled (rules owned), 0 to skip it,
 * -1 when it is a dead process's file (the caller removes it). */
static int read_one(int dfd, const char *name, struct status_proc *out)
{
	struct ts_stats_hdr h;
	struct stat st;
	size_t len;
	ssize_t n;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h || h.magic != TS_STATS_MAGIC ||
	    h.version != TS_STATS_VERSION || h.hdr_size != sizeof h ||
	    h.rule_size != sizeof(struct ts_stats_rule) || h.rule_count > 4096) {
		close(fd);
		return 0;
	}
	len = ts_stats_file_size(h.rule_count);
	if ((size_t)st.st_size < len) {
		close(fd);
		return 0;
	}
	if (!launch_status_alive((pid_t)h.pid, h.created_boot_ms)) {
		close(fd);
		return -1;
	}
	out->rules = calloc(h.rule_count ? h.rule_count : 1, sizeof *out->rules);
	if (out->rules == NULL) {
		close(fd);
		return 0;
	}
	n = pread(fd, out->rules, (size_t)h.rule_count * sizeof *out->rules, sizeof h);
	close(fd);
	if (n != (ssize_t)((size_t)h.rule_count * sizeof *out->rules)) {
		free(out->rules);
		return 0;
	}
	h.program[sizeof h.program - 1] = '\0';
	for (uint32_t i = 0; i < h.rule_count; i++) {
		struct ts_stats_rule *r = &out->rules[i];

		r->side[sizeof r->side - 1] = '\0';
		r->match[sizeof r->match - 1] = '\0';
		r->origin[sizeof r->origin - 1] = '\0';
	}
	out->h = h;
	return 1;
}

static int by_pid(const void *a, const void *b)
{
	const struct status_proc *x = a, *y = b;

	return (x->h.pid > y->h.pid) - (x->h.pid < y->h.pid);
}

/* Appends the live processes of dir to *v (removing dead ones' files). */
static int scan_dir(const char *dir, struct status_proc **v, size_t *n, size_t *cap)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name), sl = strlen(TS_STATS_SUFFIX);
		struct status_proc p;
		int r;

		if (e->d_name[0] == '.' || l <= sl || strcmp(e->d_name + l - sl, TS_STATS_SUFFIX) != 0)
			continue;
		memset(&p, 0, sizeof p);
		r = read_one(dirfd(d), e->d_name, &p);
		if (r < 0) {
			(void)unlinkat(dirfd(d), e->d_name, 0);
			continue;
		}
		if (r == 0)
			continue;
		for (size_t i = 0; i < *n; i++) {
			if ((*v)[i].h.pid == p.h.pid) { /* the same directory twice */
				free(p.rules);
				r = 0;
				break;
			}
		}
		if (r == 0)
			continue;
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 16;
			struct status_proc *nv = realloc(*v, nc * sizeof *nv);

			if (nv == NULL) {
				free(p.rules);
				break;
			}
			*v = nv;
			*cap = nc;
		}
		(*v)[(*n)++] = p;
	}
	closedir(d);
	return 0;
}

/* The rule's label: "accept *:8443", with " #N" (N: its index) when the
 * process has two rules that would read the same. */
static void rule_label(const struct status_proc *p, uint32_t i, char *buf, size_t cap)
{
	const struct ts_stats_rule *r = &p->rules[i];
	int dup = 0;

	for (uint32_t j = 0; j < p->h.rule_count; j++)
		if (j != i && strcmp(p->rules[j].side, r->side) == 0 &&
		    strcmp(p->rules[j].match, r->match) == 0)
			dup = 1;
	if (dup)
		snprintf(buf, cap, "%s %s #%u", r->side, r->match, (unsigned)i);
	else
		snprintf(buf, cap, "%s %s", r->side, r->match);
}

static void format_time(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, cap, "-");
		return;
	}
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

#define NCOLS 14
static const char *const col_names[NCOLS] = {
	"PID", "PROGRAM", "RULE", "OPEN", "HS_OK", "FAIL_VERIFY", "FAIL_TIMEOUT",
	"FAIL_PROTOCOL", "FAIL_PLAINTEXT", "FAIL_IDENTITY", "BYTES_IN", "BYTES_OUT",
	"PLAINTEXT_CLIENTS", "CERT_NOT_AFTER"
};

static void row_cells(const struct status_proc *p, uint32_t i, char cells[NCOLS][128])
{
	const struct ts_stats_rule *r = &p->rules[i];
	int c;

	snprintf(cells[0], 128, "%d", (int)p->h.pid);
	snprintf(cells[1], 128, "%s", p->h.program);
	rule_label(p, i, cells[2], 128);
	snprintf(cells[3], 128, "%lld", (long long)r->open);
	snprintf(cells[4], 128, "%llu", (unsigned long long)r->hs_ok);
	for (c = 0; c < TS_FAIL_COUNT; c++)
		snprintf(cells[5 + c], 128, "%llu", (unsigned long long)r->hs_fail[c]);
	snprintf(cells[10], 128, "%llu", (unsigned long long)r->bytes_in);
	snprintf(cells[11], 128, "%llu", (unsigned long long)r->bytes_out);
	snprintf(cells[12], 128, "%llu", (unsigned long long)r->plaintext);
	format_time(r->cert_not_after, cells[13], 128);
}

static void print_table(const struct status_proc *v, size_t n)
{
	size_t w[NCOLS];
	char cells[NCOLS][128];
	int c;

	for (c = 0; c < NCOLS; c++)
		w[c] = strlen(col_names[c]);
	for (size_t k = 0; k < n; k++)
		for (uint32_t i = 0; i < v[k].h.rule_count; i++) {
			row_cells(&v[k], i, cells);
			for (c = 0; c < NCOLS; c++)
				if (strlen(cells[c]) > w[c])
					w[c] = strlen(cells[c]);
		}
	for (c = 0; c < NCOLS; c++)
		printf("%-*s%s", c == NCOLS - 1 ? 0 : (int)w[c], col_names[c],
		       c == NCOLS - 1 ? "\n" : "  ");
	for (size_t k = 0; k < n; k++)
		for (uint32_t i = 0; i < v[k].h.rule_count; i++) {
			row_cells(&v[k], i, cells);
			for (c = 0; c < NCOLS; c++) {
				/* numbers right-aligned, words left */
				int left = c == 1 || c == 2 || c == 13;

				if (c == NCOLS - 1)
					printf("%s\n", cells[c]);
				else
					printf(left ? "%-*s  " : "%*s  ", (int)w[c], cells[c]);
			}
		}
}

/* A label value in the exposition format: backslash, double quote and
 * newline escaped. */
static void put_label(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	}
}

static void put_labels(const struct status_proc *p, uint32_t i, const char *extra_name,
                       const char *extra_value)
{
	char label[160];

	rule_label(p, i, label, sizeof label);
	printf("{pid=\"%d\",program=\"", (int)p->h.pid);
	put_label(p->h.program);
	fputs("\",rule=\"", stdout);
	put_label(label);
	putchar('"');
	if (extra_name != NULL) {
		printf(",%s=\"", extra_name);
		put_label(extra_value);
		putchar('"');
	}
	putchar('}');
}

enum metric_field { M_OPEN, M_OK, M_FAIL, M_IN, M_OUT, M_PLAIN, M_NOTAFTER };

static const struct {
	const char *name, *type, *help;
	enum metric_field f;
} metrics[] = {
	{ "tlsshim_connections_open", "gauge",
	  "Wrapped connections the process holds now.", M_OPEN },
	{ "tlsshim_handshakes_total", "counter", "TLS handshakes completed.", M_OK },
	{ "tlsshim_handshake_failures_total", "counter",
	  "TLS handshakes failed, by reason (verify, timeout, protocol, plaintext, identity).",
	  M_FAIL },
	{ "tlsshim_received_bytes_total", "counter",
	  "Application bytes read by the program through TLS.", M_IN },
	{ "tlsshim_sent_bytes_total", "counter",
	  "Application bytes written by the program through TLS.", M_OUT },
	{ "tlsshim_plaintext_clients_total", "counter",
	  "Plaintext clients served by a permissive accept rule (allow_plaintext).", M_PLAIN },
	{ "tlsshim_certificate_not_after_seconds", "gauge",
	  "The notAfter of the rule's certificate, in seconds since the epoch.", M_NOTAFTER },
};

static void print_prometheus(const struct status_proc *v, size_t n)
{
	for (size_t m = 0; m < sizeof metrics / sizeof metrics[0]; m++) {
		int any = 0;

		for (size_t k = 0; k < n && !any; k++)
			for (uint32_t i = 0; i < v[k].h.rule_count; i++)
				if (metrics[m].f != M_NOTAFTER || v[k].rules[i].cert_not_after != 0)
					any = 1;
		if (!any)
			continue;
		printf("# HELP %s %s\n# TYPE %s %s\n", metrics[m].name, metrics[m].help,
		       metrics[m].name, metrics[m].type);
		for (size_t k = 0; k < n; k++)
			for (uint32_t i = 0; i < v[k].h.rule_count; i++) {
				const struct ts_stats_rule *r = &v[k].rules[i];

				switch (metrics[m].f) {
				case M_FAIL:
					for (int c = 0; c < TS_FAIL_COUNT; c++) {
						fputs(metrics[m].name, stdout);
						put_labels(&v[k], i, "reason", fail_names[c]);
						printf(" %llu\n", (unsigned long long)r->hs_fail[c]);
					}
					continue;
				case M_NOTAFTER:
					if (r->cert_not_after == 0)
						continue;
					break;
				default:
					break;
				}
				fputs(metrics[m].name, stdout);
				put_labels(&v[k], i, NULL, NULL);
				switch (metrics[m].f) {
				case M_OPEN: printf(" %lld\n", (long long)r->open); break;
				case M_OK: printf(" %llu\n", (unsigned long long)r->hs_ok); break;
				case M_IN: printf(" %llu\n", (unsigned long long)r->bytes_in); break;
				case M_OUT: printf(" %llu\n", (unsigned long long)r->bytes_out); break;
				case M_PLAIN: printf(" %llu\n", (unsigned long long)r->plaintext); break;
				case M_NOTAFTER:
					printf(" %lld\n", (long long)r->cert_not_after);
					break;
				case M_FAIL: break;
				}
			}
	}
}

int launch_status(int prometheus)
{
	char dir[4096] = "";
	struct status_proc *v = NULL;
	size_t n = 0, cap = 0;
	int found_dir = 0;

	if (ts_stats_dir(dir, sizeof dir) == 0) {
		found_dir = 1;
		if (scan_dir(dir, &v, &n, &cap) < 0)
			fprintf(stderr, "tlsshim: cannot read %s: %s\n", dir, CORE_STRERROR(errno));
	}
	/* root also sees the system's services, whose files are in /run
	 * whatever root's own session says */
	if (geteuid() == 0 && strcmp(dir, "/run/tlsshim") != 0) {
		found_dir = 1;
		if (scan_dir("/run/tlsshim", &v, &n, &cap) < 0)
			fprintf(stderr, "tlsshim: cannot read /run/tlsshim: %s\n", CORE_STRERROR(errno));
	}
	if (!found_dir) {
		fprintf(stderr, "tlsshim: XDG_RUNTIME_DIR is not set: no status directory "
		                "to read\n");
		return LAUNCH_EXIT_CONFIG;
	}
	if (n > 1)
		qsort(v, n, sizeof *v, by_pid);
	if (prometheus)
		print_prometheus(v, n);
	else
		print_table(v, n);
	for (size_t k = 0; k < n; k++)
		free(v[k].rules);
	free(v);
	return fflush(stdout) == 0 ? 0 : LAUNCH_EXIT_CONFIG;
}
