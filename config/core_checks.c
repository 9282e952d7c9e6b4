/*
 * core_checks.c - the loader's checks done by the core's own functions,
 * for the unit tests and the fuzz targets, which link the whole core. The
 * launcher and the interposer pass their own instead, which map OpenSSL
 * only when a check needs it (preload/launcher/launcher_ssl.c,
 * preload/ossl_lazy.c); the launcher does not link this file.
 */
#include "config.h"

const struct cfg_checks cfg_core_checks = {
	.protocol_supported = sslsocket_protocol_supported,
	.config_new = sslsocket_config_new,
	.options_weakness = sslsocket_options_weakness,
};
