/*
 * launcher_ssl.h - forced (-include) into every object of the launcher
 * (Makefile). The launcher's common path - options, rules, the
 * configuration's checks, exec - runs on the core's OpenSSL-free files,
 * so that it never maps libssl and libcrypto: every program a wrapped
 * shell starts pays the launcher's start-up. The core functions that do
 * need OpenSSL are renamed here to stand-ins (launcher_ssl.c) that load
 * libsslsocket.so on first use: the configuration's full checks (a
 * pinned protocol version, a cipher list, a key whose public half the
 * bytes do not show), --getcert / --peercert and --check's certificate
 * subjects and dates.
 */
#ifndef TLSSHIM_LAUNCHER_SSL_H
#define TLSSHIM_LAUNCHER_SSL_H

#define sslsocket_options_check launch_ssl_options_check
#define sslsocket_protocol_supported launch_ssl_protocol_supported
#define sslsocket_get_server_certificate launch_ssl_get_server_certificate
#define sslsocket_wrap launch_ssl_wrap
#define sslsocket_handshake_done launch_ssl_handshake_done
#define sslsocket_do_handshake launch_ssl_do_handshake
#define sslsocket_error launch_ssl_error
#define sslsocket_getpeercert launch_ssl_getpeercert
#define sslsocket_certinfo_format launch_ssl_certinfo_format
#define sslsocket_certinfo_free launch_ssl_certinfo_free
#define sslsocket_close launch_ssl_close
#define sslsocket_certinfo_from_der launch_ssl_certinfo_from_der
#define sslsocket_cert_time_to_seconds launch_ssl_cert_time_to_seconds

#endif /* TLSSHIM_LAUNCHER_SSL_H */
