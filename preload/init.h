/*
 * init.h - the constructor (init.c): the rule set, contexts, log, fork
 * handlers.
 */
#ifndef TLSSHIM_INIT_H
#define TLSSHIM_INIT_H

#include "config.h"

/* The rule set, NULL when inert. Set once by the constructor. */
extern const struct cfg_ruleset *ts_rules;
/* Runs the constructor's work once (a hook may get here first). */
void ts_init(void);
/* 1 when a configuration is loaded. Triggers ts_init. */
int ts_active(void);
/* The SSLKEYLOGFILE path, or NULL. */
const char *ts_keylog_file(void);

#endif /* TLSSHIM_INIT_H */
