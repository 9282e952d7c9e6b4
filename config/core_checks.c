/*
 * core_checks.c - the loader's checks done by the core's own functions,
 * for the callers that link the whole core (libtlsshim.so, the unit
 * tests, the fuzz targets). The launcher passes its own instead and does
 * not link this file: it maps OpenSSL only when a check needs it
 * (preload/launcher/launcher_ssl.c).
 */
#include "config.h"

const struct cfg_checks cfg_core_checks = {
	.protocol_supported = sslsocket_protocol_supported,
	.config_new = sslsocket_config_new,
	.options_weakness = sslsocket_options_weakness,
};
