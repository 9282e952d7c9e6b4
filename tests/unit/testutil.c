#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

const char *tu_certs_dir(void)
{
	static char dir[512];
	if (dir[0])
		return dir;
	const char *env = getenv("TLSSHIM_TEST_CERTS");
	if (env && *env) {
		snprintf(dir, sizeof dir, "%s", env);
	} else {
		char cwd[400];
		if (!getcwd(cwd, sizeof cwd))
			abort();
		snprintf(dir, sizeof dir, "%s/build/test-certs", cwd);
	}
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "sh tests/certs/make-certs.sh '%s'", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot make test certificates in %s\n", dir);
		abort();
	}
	return dir;
}

const char *tu_cert(const char *name)
{
	static char buf[8][600];
	static int slot;
	char *b = buf[slot++ % 8];
	snprintf(b, sizeof buf[0], "%s/%s", tu_certs_dir(), name);
	return b;
}

static char scratch[256];

void tu_scratch_make(const char *prefix)
{
	snprintf(scratch, sizeof scratch, "/tmp/tlsshim-%s-XXXXXX", prefix);
	if (!mkdtemp(scratch)) {
		perror("mkdtemp");
		abort();
	}
}

const char *tu_scratch_path(const char *name)
{
	static char buf[8][512];
	static int slot;
	char *b = buf[slot++ % 8];
	snprintf(b, sizeof buf[0], "%s/%s", scratch, name);
	return b;
}

void tu_scratch_remove(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
	if (system(cmd) != 0)
		abort();
	scratch[0] = 0;
}
