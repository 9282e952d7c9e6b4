/*
 * stats_shm.h - the layout of a wrapped process's status file, shared by
 * the writer (preload/stats.c, in libtlsshim.so) and the reader
 * (preload/launcher/launcher_status.c: `tlsshim --status`).
 *
 * Each process that loaded a configuration keeps one file,
 * DIR/PID.stats, where DIR is $XDG_RUNTIME_DIR/tlsshim, or /run/tlsshim
 * for root without XDG_RUNTIME_DIR (created 0700). The process maps it
 * once, MAP_SHARED, and counts with relaxed atomic adds on the mapping: no
 * system call on the I/O path. The file goes away when the process exits
 * (a destructor unlinks it); a reader ignores and removes the files of
 * processes that are gone (the PID is not running, or the process running
 * under that PID started after the file was made: a reused PID).
 *
 * The file is: one struct ts_stats_hdr, then hdr.rule_count struct
 * ts_stats_rule in the rule set's order (struct cfg_rule.index). A reader
 * checks magic, version and sizes before trusting anything, and takes
 * every string as at most its array's length.
 *
 * Bump TS_STATS_VERSION for any change of meaning or layout; a reader
 * skips files of another version (a process started by an older build).
 */
#ifndef TLSSHIM_STATS_SHM_H
#define TLSSHIM_STATS_SHM_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define TS_STATS_MAGIC 0x54535354u /* "TSST" */
#define TS_STATS_VERSION 1u
#define TS_STATS_SUFFIX ".stats"

/* Why a handshake failed (the columns of --status). */
enum ts_stats_fail {
	TS_FAIL_VERIFY = 0,    /* the peer's certificate did not verify */
	TS_FAIL_TIMEOUT = 1,   /* handshake_timeout, or the peer went silent */
	TS_FAIL_PROTOCOL = 2,  /* anything else of TLS's (version, cipher, EOF) */
	TS_FAIL_PLAINTEXT = 3, /* the peer spoke plaintext, not TLS */
	TS_FAIL_IDENTITY = 4,  /* a valid certificate for the wrong name or key */
	TS_FAIL_COUNT = 5
};

/* The reasons as metric label values and column heads, in enum order. */
#define TS_STATS_FAIL_NAMES { "verify", "timeout", "protocol", "plaintext", "identity" }

/* One rule. Counters are written with __atomic_fetch_add(RELAXED) by
 * the process and read unlocked (a reader sees each 8-byte value whole). */
struct ts_stats_rule {
	char side[8];            /* "connect" or "accept" */
	char match[96];          /* as written in the rule */
	char origin[112];        /* "FILE:LINE" where the rule was written */
	int64_t cert_not_after;  /* the rule certificate's notAfter (Unix
	                            seconds); 0: the rule has none, or no
	                            context was built yet */
	int64_t open;            /* connections the process holds now */
	uint64_t hs_ok;          /* handshakes completed */
	uint64_t hs_fail[TS_FAIL_COUNT];
	uint64_t bytes_in;       /* application bytes read by the program */
	uint64_t bytes_out;      /* application bytes written by it */
	uint64_t plaintext;      /* plaintext clients served (allow_plaintext) */
	uint64_t passthrough;    /* reserved (0) */
};

struct ts_stats_hdr {
	uint32_t magic;          /* TS_STATS_MAGIC */
	uint32_t version;        /* TS_STATS_VERSION */
	uint32_t hdr_size;       /* sizeof(struct ts_stats_hdr) */
	uint32_t rule_size;      /* sizeof(struct ts_stats_rule) */
	uint32_t rule_count;
	int32_t pid;
	int64_t created_boot_ms; /* CLOCK_BOOTTIME when the file was made */
	int64_t created_unix;    /* time(NULL) then, for display */
	char program[64];        /* program_invocation_short_name */
};

/* The directory of the status files, into buf (cap bytes): 0, or -1 when
 * there is none ($XDG_RUNTIME_DIR unset and not root). */
static inline int ts_stats_dir(char *buf, size_t cap)
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	int n;

	if (x != NULL && x[0] == '/')
		n = snprintf(buf, cap, "%s/tlsshim", x);
	else if (geteuid() == 0)
		n = snprintf(buf, cap, "/run/tlsshim");
	else
		return -1;
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

static inline size_t ts_stats_file_size(uint32_t rules)
{
	return sizeof(struct ts_stats_hdr) + (size_t)rules * sizeof(struct ts_stats_rule);
}

#endif /* TLSSHIM_STATS_SHM_H */
