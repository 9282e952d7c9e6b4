/* Helpers shared by the check suites. */
#ifndef TLSSHIM_TESTUTIL_H
#define TLSSHIM_TESTUTIL_H

/* The directory of the throwaway PKI (tests/certs/make-certs.sh), made on
 * first use under $TLSSHIM_TEST_CERTS or build/test-certs. The returned
 * string lives for the process. */
const char *tu_certs_dir(void);
/* tu_certs_dir()/name, in a static rotating buffer (8 slots). */
const char *tu_cert(const char *name);

#endif
