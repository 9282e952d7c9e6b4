/*
 * envkeep.c - tlsshim's environment across exec.
 *
 * A wrapped process that execs with a cleared or rebuilt environment
 * (`env -i`, nginx's binary upgrade, daemons that sanitise their
 * environment) would start the new image without LD_PRELOAD and without
 * the rules: its connections to destinations a rule matches, and the
 * listeners it inherits, would speak plaintext. Fail closed means the new
 * image runs under the same rules: the exec hooks hand it the LD_PRELOAD
 * entry of this library (with its sanitizer's runtime in a sanitizer
 * build) and the TLSSHIM_* variables this process started with, unless
 * the program set a configuration of its own.
 *
 * The merge allocates nothing (the exec family runs in the child of fork,
 * where malloc may be unusable): the caller supplies stack arrays sized by
 * ts_envkeep_size and ts_envkeep_ldcap.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "init.h"
#include "sanrt.h"

/* The variables that carry the rules, as "NAME=value" from startup. */
static const char *const keep_names[] = {"TLSSHIM_CONFIG", "TLSSHIM_CONFIG_STRING", "TLSSHIM_LOG",
                                         "TLSSHIM_LOG_FILE"};
#define NKEEP (sizeof keep_names / sizeof keep_names[0])
static char *keep_vars[NKEEP];
static char *self_path; /* this library's file, as the loader opened it */
/* What LD_PRELOAD gets back: self_path, with the sanitizer's runtime in a
 * sanitizer build (sanrt.h). */
static char *self_entry;

static char *name_value(const char *name, const char *value)
{
	size_t a = strlen(name), b = strlen(value);
	char *s = malloc(a + b + 2);

	if (s != NULL) {
		memcpy(s, name, a);
		s[a] = '=';
		memcpy(s + a + 1, value, b + 1);
	}
	return s;
}

__attribute__((constructor)) static void envkeep_snapshot(void)
{
	Dl_info info;
	size_t i;

	for (i = 0; i < NKEEP; i++) {
		const char *v = getenv(keep_names[i]);

		if (v != NULL)
			keep_vars[i] = name_value(keep_names[i], v);
	}
	if (dladdr((void *)envkeep_snapshot, &info) && info.dli_fname != NULL &&
	    info.dli_fname[0] == '/')
		self_path = strdup(info.dli_fname);
	if (self_path != NULL) {
		const char *e[3];
		size_t n = ts_preload_entries(self_path, e), len = 0, at = 0;

		for (i = 0; i < n; i++)
			len += strlen(e[i]) + 1;
		self_entry = malloc(len);
		for (i = 0; self_entry != NULL && i < n; i++) {
			memcpy(self_entry + at, e[i], strlen(e[i]));
			at += strlen(e[i]);
			self_entry[at++] = i + 1 < n ? ':' : '\0';
		}
		if (self_entry == NULL) {
			free(self_path);
			self_path = NULL;
		}
	}
}

/* envp's value of name, or NULL. */
static const char *env_get(char *const envp[], const char *name)
{
	size_t n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* 1 when LD_PRELOAD's value names this library. */
static int preload_has_self(const char *v)
{
	size_t n;
	const char *p;

	if (v == NULL || self_path == NULL)
		return v != NULL;
	n = strlen(self_path);
	for (p = strstr(v, self_path); p != NULL; p = strstr(p + 1, self_path))
		if ((p == v || p[-1] == ' ' || p[-1] == ':') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == ':'))
			return 1;
	return 0;
}

static int keeps_config(char *const envp[])
{
	return env_get(envp, "TLSSHIM_CONFIG") == NULL &&
	       env_get(envp, "TLSSHIM_CONFIG_STRING") == NULL &&
	       (keep_vars[0] != NULL || keep_vars[1] != NULL);
}

size_t ts_envkeep_size(char *const envp[])
{
	size_t n = 0;

	if (!ts_active() || self_path == NULL)
		return 0;
	if (preload_has_self(env_get(envp, "LD_PRELOAD")) && !keeps_config(envp))
		return 0; /* the new image gets the rules as it is */
	while (envp != NULL && envp[n] != NULL)
		n++;
	return n + NKEEP + 2;
}

size_t ts_envkeep_ldcap(char *const envp[])
{
	const char *v = env_get(envp, "LD_PRELOAD");

	return sizeof "LD_PRELOAD=" + (self_entry ? strlen(self_entry) : 0) + 1 + (v ? strlen(v) : 0);
}

char *const *ts_envkeep_merge(char *const envp[], char **out, size_t cap, char *ld, size_t ldcap)
{
	const char *pre = env_get(envp, "LD_PRELOAD");
	int add_config = keeps_config(envp), replaced = 0;
	size_t n = 0, i;

	if (cap == 0 || self_path == NULL)
		return envp;
	/* LD_PRELOAD: ours first (as the launcher puts it), then theirs. */
	if (!preload_has_self(pre)) {
		size_t a = strlen("LD_PRELOAD="), b = strlen(self_entry);

		if (ldcap < a + b + 2 + (pre ? strlen(pre) : 0))
			return envp;
		memcpy(ld, "LD_PRELOAD=", a);
		memcpy(ld + a, self_entry, b);
		ld[a + b] = '\0';
		if (pre != NULL && pre[0] != '\0') {
			ld[a + b] = ' ';
			memcpy(ld + a + b + 1, pre, strlen(pre) + 1);
		}
		out[n++] = ld;
		replaced = 1;
	}
	for (i = 0; envp != NULL && envp[i] != NULL && n + NKEEP + 1 < cap; i++) {
		if (replaced && strncmp(envp[i], "LD_PRELOAD=", 11) == 0)
			continue; /* replaced by ours */
		out[n++] = envp[i];
	}
	if (add_config)
		for (i = 0; i < NKEEP; i++)
			if (keep_vars[i] != NULL && env_get(envp, keep_names[i]) == NULL)
				out[n++] = keep_vars[i];
	out[n] = NULL;
	return out;
}
