/*
 * launcher_env.c - the interposer's environment from the options
 * (TLSSHIM_CONFIG, TLSSHIM_CONFIG_STRING, TLSSHIM_LOG, LD_PRELOAD), checked
 * with config/ exactly as the interposer will check it; and the launcher's
 * two kinds of error line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "launcher.h"

int launch_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("tlsshim: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'tlsshim --help' for more information.\n", stderr);
	return LAUNCH_EXIT_USAGE;
}

int launch_config_error(const char *msg)
{
	fprintf(stderr, "tlsshim: %s\n", msg);
	return LAUNCH_EXIT_CONFIG;
}

/* Sets the interposer's environment from the options; checks it the way
 * the interposer will. Returns 0 or an exit status. With keep, the loaded
 * rule set is handed over (--check) instead of freed, and with libout the
 * path of libtlsshim.so (owned). */
int launch_prepare_environment(const struct launch_opts *o, int *allow_setuid,
                               struct cfg_ruleset **keep, char **libout)
{
	char err[LAUNCH_ERRLEN], explained[LAUNCH_ERRLEN + 64];
	int generated = 0;

	if (launch_rules_usage(o, err, sizeof err) < 0)
		return launch_usage_error("%s", err);
	if (o->n_connect + o->n_accept) {
		/* Two libconfig texts cannot be merged as text (each may define
		 * `connect`), and silently dropping either set of rules could
		 * leave a connection in plaintext. */
		if (getenv("TLSSHIM_CONFIG_STRING"))
			return launch_usage_error("%s", "TLSSHIM_CONFIG_STRING is already set and "
			                          "--connect/--accept would replace it: unset it, or "
			                          "put its rules in a file (-c FILE)");
		char *text = launch_rules_text(o, err, sizeof err);
		if (!text)
			return launch_config_error(err);
		int rc = setenv("TLSSHIM_CONFIG_STRING", text, 1);
		free(text);
		if (rc < 0)
			return launch_config_error(strerror_r(errno, (char[128]){""}, 128));
		generated = 1;
	}
	if (o->config_file) {
		char *abs = launch_abspath(o->config_file);
		if (!abs || setenv("TLSSHIM_CONFIG", abs, 1) < 0) {
			free(abs);
			return launch_config_error(strerror_r(errno, (char[128]){""}, 128));
		}
		free(abs);
	}
	if (o->log_level && setenv("TLSSHIM_LOG", o->log_level, 1) < 0)
		return launch_config_error(strerror_r(errno, (char[128]){""}, 128));
	if (!getenv("TLSSHIM_CONFIG") && !getenv("TLSSHIM_CONFIG_STRING"))
		return launch_usage_error("%s", "no rules: give --connect, --accept or -c FILE "
		                          "(or set TLSSHIM_CONFIG)");

	struct cfg_error cerr = { 0 };
	struct cfg_ruleset *rs = cfg_load_env(&launch_cfg_checks, &cerr);
	if (!rs) {
		if (!cerr.msg[0])
			snprintf(cerr.msg, sizeof cerr.msg, "the configuration could not be loaded");
		if (generated)
			launch_explain_error(o, &cerr, explained, sizeof explained);
		else
			snprintf(explained, sizeof explained, "%s", cerr.msg);
		return launch_config_error(explained);
	}
	*allow_setuid = rs->allow_setuid_exec;
	if (keep)
		*keep = rs;
	else
		cfg_ruleset_free(rs);

	char *lib = launch_find_preload(err, sizeof err);
	if (!lib) {
		if (keep) {
			cfg_ruleset_free(*keep);
			*keep = NULL;
		}
		return launch_config_error(err);
	}
	const char *ours[3];
	launch_preload_ours(lib, ours);
	char *value = launch_preload_value(ours, getenv("LD_PRELOAD"), err, sizeof err);
	if (!value) {
		free(lib);
		if (keep) {
			cfg_ruleset_free(*keep);
			*keep = NULL;
		}
		return launch_config_error(err);
	}
	int rc = setenv("LD_PRELOAD", value, 1);
	free(value);
	if (rc < 0) {
		free(lib);
		return launch_config_error(strerror_r(errno, (char[128]){""}, 128));
	}
	if (libout)
		*libout = lib;
	else
		free(lib);
	return 0;
}
