/*
 * sslsocket_int.h - private to libsslsocket (not installed): the shapes of
 * the opaque structures and the internal functions shared between core's
 * files. Every non-static name here carries the core_ prefix.
 */
#ifndef SSLSOCKET_INT_H
#define SSLSOCKET_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "fdident_int.h"
#include "ossl_int.h"

#include "sslsocket.h"
#include "syserr_int.h"

#define CORE_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- errors (error.c) ---------------------------------------------------- */

/* Fills e (may be NULL) with code, sys_errno and a formatted reason, and
 * leaves errno = sys_errno when sys_errno is not 0 (errno is saved before
 * formatting, so the reason may use %m-free strerror safely). */
void core_err_set(struct sslsocket_error *e, int code, int sys_errno, const char *fmt, ...)
	CORE_PRINTF(4, 5);
/* The formatter under both, with OpenSSL's packed error and a suffix
 * (error_plain.c). */
void core_err_vset(struct sslsocket_error *e, int code, int sys_errno, unsigned long ossl,
                   const char *suffix, const char *fmt, va_list ap) CORE_PRINTF(6, 0);
/* Says which option (enum sslsocket_option) and file (may be NULL) the
 * error e (may be NULL) that was just set is about. core_err_vset clears
 * both, so a reused error never blames an option it is not about. */
void core_err_option(struct sslsocket_error *e, int option, const char *file);
/* As core_err_set, appending ": " and OpenSSL's reason for the oldest queued
 * error (if any), then clearing the queue. */
void core_err_ossl(struct sslsocket_error *e, int code, int sys_errno, const char *fmt, ...)
	CORE_PRINTF(4, 5);
/* OpenSSL's reason text for the packed error l ("" when none). */
const char *core_ossl_reason(unsigned long l);

/* OpenSSL's version constant for a pinned protocol; 0 for negotiate; -1
 * for SSLv2 or an unknown value (options.c). */
int core_protocol_version(int v);
/* PROTOCOL_SSLv23 negotiates from this version up: TLS 1.0 and 1.1 only
 * when pinned (SHA-1 and MD5 in the handshake, RFC 8996). */
#define CORE_MIN_NEGOTIATED TLS1_2_VERSION
/* The TLS 1.2 suites when the options name none: ephemeral key exchange
 * (forward secrecy) and AEAD ciphers (no CBC), as Mozilla's
 * "intermediate" profile. */
#define CORE_DEFAULT_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!aDSS:!PSK"

/* ---- contexts (context.c) ------------------------------------------------ */

struct core_session {
	char *dest;
	SSL_SESSION *sess;
	struct core_session *next;
};

struct sslsocket_ctx {
	SSL_CTX *ssl_ctx;
	int refs;             /* atomic */
	int server_side;
	int cert_reqs;
	int version;          /* enum sslsocket_protocol */
	int session_cache;
	unsigned char *alpn;  /* wire format (length-prefixed) */
	size_t alpn_len;
	/* client sessions per destination, newest first */
	pthread_mutex_t sess_lock;
	struct core_session *sessions;
	size_t nsessions;
	/* NSS key log (0600, close-on-exec), NULL when none; the file it
	 * opened (context.c, keylog_cb). A stream whose descriptor the
	 * program closed is abandoned, not closed (the number is the
	 * program's). */
	FILE *keylog, *keylog_abandoned;
	struct core_fdident keylog_id;
	pthread_mutex_t keylog_lock;
	/* allow_names and pin_sha256 (identity.c); NULL when none */
	struct core_identity *identity;
};

struct sslsocket_config;
/* Builds a fresh SSL_CTX for o with the files' bytes of the configuration
 * files (owner NULL: a throwaway, for sslsocket_options_check). Returns
 * NULL with the reason in err. */
SSL_CTX *core_ssl_ctx_build(const struct sslsocket_options *o, struct sslsocket_ctx *owner,
                            const struct sslsocket_config *files, struct sslsocket_error *err);
/* What the OpenSSL-free files (options_plain.c, sslconfig.c) need OpenSSL
 * to answer, given by their caller: core_ossl_checks (options.c) inside
 * libsslsocket; the launcher's own, which load libsslsocket.so only when
 * asked (preload/launcher/launcher_ssl.c), where OpenSSL is not mapped;
 * the interposer's, which open OpenSSL when asked (preload/ossl_lazy.c). */
struct core_checks {
	/* sslsocket_protocol_supported */
	int (*protocol_supported)(enum sslsocket_protocol v, struct sslsocket_error *err);
	/* sslsocket_options_check: the files loaded into a throwaway context */
	int (*options_check)(const struct sslsocket_options *o, struct sslsocket_error *err);
};
extern const struct core_checks core_ossl_checks;
/* What the answers of core_checks and sslsocket_options_weakness are when
 * the options alone tell (options_plain.c): every caller asks these first,
 * so OpenSSL is mapped only for what it must judge. CORE_ASK_OSSL: only
 * OpenSSL can answer. */
enum { CORE_ASK_OSSL = 2 };
/* 0 (negotiate), -1 with err (an unknown version, SSLv2), or
 * CORE_ASK_OSSL (a pinned version: a probe handshake tells). */
int core_protocol_supported_plain(enum sslsocket_protocol v, struct sslsocket_error *err);
/* As sslsocket_options_weakness: 0 with buf empty for the defaults
 * (negotiate, no cipher string), -1 for bad arguments, or CORE_ASK_OSSL. */
int core_options_weakness_plain(const struct sslsocket_options *o, char *buf, size_t len);
/* Checks what needs no files: version speakable (chk), CA source for
 * cert_reqs. */
int core_options_check_cheap(const struct sslsocket_options *o, const struct core_checks *chk,
                             struct sslsocket_error *err);
/* Takes one more reference on c. */
void core_ctx_ref(struct sslsocket_ctx *c);
/* The saved session for dest (a new reference), or NULL. */
SSL_SESSION *core_session_get(struct sslsocket_ctx *c, const char *dest);
/* ex-data index of the SSL's owning sslsocket (for callbacks). */
int core_ssl_ex_index(void);

/* ---- sockets ------------------------------------------------------------- */

enum core_state {
	CORE_ST_UNCONNECTED = 0, /* client, lazy: no SSL until sslsocket_connect */
	CORE_ST_LISTENING,       /* server listener: accept() wraps */
	CORE_ST_CONNECTING,      /* non-blocking connect in progress */
	CORE_ST_HANDSHAKE,       /* SSL built, handshake not finished */
	CORE_ST_ESTABLISHED,
	CORE_ST_FAILED           /* sticky: handshake or verification failed */
};

struct sslsocket {
	int fd;
	struct sslsocket_io io;
	sslsocket_ctx *ctx;
	SSL *ssl;
	pthread_mutex_t lock;   /* held only while OpenSSL runs */
	enum core_state state;
	int server_side;
	int timeout_ms;         /* -1 forever, 0 non-blocking, > 0 per call */
	int handshake_timeout_ms;
	int do_handshake_on_connect;
	int suppress_ragged_eofs;
	char *server_hostname;
	char *dest;             /* session cache key */
	/* BIO state, written by the BIO callbacks under the lock */
	int bio_eof;            /* recv returned 0 */
	int bio_errno;          /* errno of the last failed recv/send */
	/* shutdown state */
	int got_close_notify;   /* peer's close_notify seen: reads are 0 */
	int ragged_eof;         /* EOF without close_notify seen */
	int sent_close_notify;
	int write_shut;
	short hs_want;          /* POLLIN/POLLOUT the handshake waits for */
	short shut_want;        /* what a queued close_notify or unwrap waits for */
	int shut_wr_pending;    /* SHUT_WR once the queued close_notify is out */
	int unwrapping;         /* unwrap started: wait for the peer's too */
	short write_want;       /* POLLIN when SSL_write wanted to read */
	int read_waited;        /* the last read had to wait for the peer */
	int write_pending;      /* an SSL_write returned want-*: OpenSSL holds a
	                           half-sent record until the write is retried */
	long long hs_deadline;  /* -1 until a blocking handshake starts */
	/* Ciphertext the kernel did not take yet (iotable_bio.c). A write that gets
	 * EAGAIN from the kernel must leave the program free to retry with
	 * any buffer and length, which OpenSSL forbids ("bad write retry"):
	 * so while SSL_write runs, the BIO keeps what the kernel refuses here
	 * and SSL_write completes. Bounded: a write only starts on an empty
	 * buffer and writes at most CORE_WRITE_CAP bytes of plaintext. */
	unsigned char *obuf;
	size_t olen, ooff, ocap;  /* olen 0: empty (reset when flushed) */
	int bio_buffer;         /* set around SSL_write/SSL_shutdown */
	int out_err;            /* sticky errno of a failed flush */
	int alert_held;         /* OpenSSL holds an unsent close_notify */
	int connect_errno;      /* SO_ERROR of a failed non-blocking connect,
	                           until sslsocket_take_connect_error */
	char alpn_buf[256];
	unsigned long id;       /* unique in the process: names s in the
	                           threads' error slots (error.c) */
	int hs_done;            /* the handshake completed once */
	struct sslsocket_error fail_err; /* the sticky failure (set once, under
	                                    the lock) */
	char verify_text[128];
	char identity_why[200]; /* why the peer's identity was refused */
	char errline[320];
};

/* BIO (iotable_bio.c) */
BIO *core_bio_new(struct sslsocket *s);
/* Plaintext bytes of one SSL_write call (the out-buffer's bound): one full
 * record, so at most one record's ciphertext (plus any small records that
 * follow, such as an alert) waits in the out-buffer; a close that cannot
 * wait long then loses little. A blocking write loops; costs no syscall,
 * since OpenSSL sends one record per write anyway. */
#define CORE_WRITE_CAP (16 * 1024)
/* Sends the out-buffer without waiting (lock held). 0 empty, 1 the kernel
 * is full (some may remain), -1 failed (s->out_err, s->err set). */
int core_flush_locked(struct sslsocket *s);
/* Drops the out-buffer (sslsocket_free). */
void core_obuf_free(struct sslsocket *s);

/* One OpenSSL call's outcome, translated (error.c). */
enum core_io_result {
	CORE_IO_OK = 0,
	CORE_IO_WANT_READ,
	CORE_IO_WANT_WRITE,
	CORE_IO_CLOSED,   /* clean close_notify (or suppressed ragged EOF) */
	CORE_IO_ERROR     /* s->err filled, errno set */
};

/* Translates ret of an SSL_* call on s (lock held). what names the call for
 * the error text. Sets s->err for errors. */
enum core_io_result core_ssl_result(struct sslsocket *s, int ret, const char *what);
/* Waits with io->poll for events until the earlier of the call's deadline
 * and the handshake's (CLOCK_MONOTONIC ms, -1 for none). Returns 0 when
 * ready, -1 with s->err set: EINTR from poll, EAGAIN when the call's
 * timeout passed, ETIMEDOUT when the handshake's deadline did. */
int core_wait(struct sslsocket *s, short events, long long call_deadline, long long hs_deadline);
long long core_now_ms(void);
/* Records an error of the calling thread's call on s (errno left =
 * sys_errno). The phase comes from s's state (connect, handshake) and,
 * once established, from the call under way (core_set_op). */
void core_sock_err(struct sslsocket *s, int code, int sys_errno, const char *fmt, ...)
	CORE_PRINTF(4, 5);
/* The calling thread's error slot for s: every error a call on s records
 * goes here, so that concurrent calls from several threads never write
 * one shared record (sslsocket_last_error reads it back). */
struct sslsocket_error *core_err_slot(const struct sslsocket *s);
/* The phase of the public call this thread is in (enum sslsocket_phase),
 * for the errors recorded once the connection is established. */
void core_set_op(int phase);
/* s's lock, taken at a public entry: -1 with errno EDEADLK (nothing
 * locked) when the calling thread holds it already, i.e. a signal handler
 * interrupted a call on s on this thread; waiting would never end. The
 * lock is an error-checking mutex, so the check costs nothing extra. */
int core_lock_entry(struct sslsocket *s);
/* Initialises an error-checking mutex (socket and context locks). */
void core_mutex_init(pthread_mutex_t *m);
/* Makes the failure sticky (state FAILED, EPROTO from now on). */
void core_sock_fail(struct sslsocket *s);

/* Creates s->ssl for a connected descriptor (lock held or no other user). */
int core_ssl_setup(struct sslsocket *s);
/* Drives a pending connect and handshake (lock not held). may_wait: wait
 * with poll (bounded by call_deadline and the handshake deadline) instead
 * of returning want-read/want-write. 0 established, -1 with s->err and
 * errno (EAGAIN for want-read/want-write). */
int core_drive(struct sslsocket *s, int may_wait, long long call_deadline);
/* The deadline of a call that starts now under s's timeout (-1: none). */
long long core_call_deadline(const struct sslsocket *s);
/* The same for an explicit per-call timeout (-1 forever, 0 none). */
long long core_deadline(int timeout_ms);
/* s's timeout, read once per call: another thread may set it meanwhile
 * (sslsocket_settimeout), and one call must keep one mode throughout. */
static inline int core_timeout(const struct sslsocket *s)
{
	return __atomic_load_n(&s->timeout_ms, __ATOMIC_RELAXED);
}
/* Sends close_notify once, never waiting (lock held). 0 sent or not
 * needed, 1 queued in OpenSSL because the socket buffer is full (shut_want
 * is POLLOUT; core_shutdown_progress_locked sends it), -1 failed. */
int core_close_notify_locked(struct sslsocket *s);
/* Moves a queued close_notify, a pending SHUT_WR and an unwrap's wait for
 * the peer's close_notify on, without waiting (lock held). 0 nothing left,
 * 1 still waiting (for s->shut_want), -1 failed (s->err). */
int core_shutdown_progress_locked(struct sslsocket *s);

#endif /* SSLSOCKET_INT_H */
