/*
 * fuzz_config_file.c - libFuzzer target: cfg_load on an arbitrary
 * TLSSHIM_CONFIG file (the path a wrapped program and `tlsshim --check`
 * read), so that libconfig's file reader, the include directory and the
 * "FILE:LINE:" error paths are exercised, not only the string source
 * (fuzz_config). The input is written to a private temporary file.
 * Invariants: a loaded rule set is well-formed; a failure names the file.
 *
 *   make fuzz      (every target)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* The same libconfig lexer leaks as fuzz_config (see there). */
const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	if (!path[0])
		snprintf(path, sizeof path, "/tmp/fuzz_config_file.%d.conf", (int)getpid());
	/* @include reads other files: libconfig's, not ours (fuzz_config). */
	if (size >= 8 && memmem(data, size, "include", 7))
		return 0;
	FILE *f = fopen(path, "w");
	if (!f)
		return 0;
	size_t w = fwrite(data, 1, size, f);
	if (fclose(f) != 0 || w != size)
		return 0;

	struct cfg_error err;
	struct cfg_ruleset *rs = cfg_load(NULL, path, &cfg_core_checks, &err);
	if (rs) {
		for (size_t i = 0; i < rs->count; i++) {
			const struct cfg_rule *r = &rs->rules[i];
			if (r->index != i || !r->file || strcmp(r->file, path) != 0 ||
			    !r->match_text || r->line <= 0 ||
			    r->match.port_lo > r->match.port_hi || r->match.port_hi > 65535)
				abort();
		}
		cfg_ruleset_free(rs);
	} else if (strncmp(err.msg, path, strlen(path)) != 0 ||
	           !memchr(err.msg, 0, sizeof err.msg) || err.source != CFG_ERR_FILE ||
	           strcmp(err.where, path) != 0 || err.what >= sizeof err.msg || err.line < 0) {
		fprintf(stderr, "bad error message: %s\n", err.msg);
		abort();
	}
	unlink(path);
	return 0;
}
