/* Helpers shared by the check suites. */
#ifndef TLSSHIM_TESTUTIL_H
#define TLSSHIM_TESTUTIL_H

/* The directory of the throwaway PKI (tests/certs/make-certs.sh), made on
 * first use under $TLSSHIM_TEST_CERTS or build/test-certs. The returned
 * string lives for the process. */
const char *tu_certs_dir(void);
/* tu_certs_dir()/name, in a static rotating buffer (8 slots). */
const char *tu_cert(const char *name);


/* A scratch directory for one test: tu_scratch_make() makes a fresh
 * /tmp/tlsshim-PREFIX-XXXXXX (aborting the test if it cannot),
 * tu_scratch_path() names a file in it (static rotating buffer, 8 slots),
 * tu_scratch_remove() deletes it with everything in it. One at a time. */
void tu_scratch_make(const char *prefix);
const char *tu_scratch_path(const char *name);
void tu_scratch_remove(void);

#endif
