/*
 * sslsocket.h - the SSL socket wrapper of Python's 2009 `ssl` module, in C.
 *
 * The semantics are those of the seed document (wrap_socket, SSLSocket.read,
 * write, do_handshake, unwrap, getpeercert, cipher, get_server_certificate,
 * cert_time_to_seconds, PEM/DER conversion, RAND_*), on OpenSSL 3. The
 * deviations are listed in README.md.
 *
 * Conventions
 *   - Functions returning int return 0 (or a count) on success and -1 on
 *     failure; functions returning pointers return NULL on failure.
 *   - A failing socket call leaves its reason in sslsocket_last_error(s)
 *     (for the calling thread) and sets errno (EAGAIN for
 *     want-read/want-write, EPROTO for a TLS or verification failure,
 *     ECONNRESET for a ragged EOF when it is not suppressed, EINTR,
 *     ETIMEDOUT, EDEADLK for a signal handler's re-entry, or the system's
 *     errno); the error's phase says which step failed.
 *   - Module functions take an optional `struct sslsocket_error *err`
 *     (may be NULL) that receives the reason.
 *   - Strings and buffers the library returns as "owned" are released with
 *     free(); structures with their own _free function are released with it.
 *   - The library never prints, never aborts and never exits.
 *   - The library never calls read, write, send, recv or poll by name: all
 *     socket I/O goes through a struct sslsocket_io (libc's by default).
 *
 * Thread safety: different sockets may be used from different threads
 * freely. One socket may be read by one thread while another writes to it;
 * the library holds its per-socket lock only while OpenSSL runs, never while
 * it waits for the network. Errors are recorded per thread
 * (sslsocket_last_error). A signal handler that calls into a socket while
 * its thread is inside a call on the same socket that holds the lock gets
 * -1 with errno EDEADLK at once instead of waiting for ever; any other
 * call from a handler is as safe as the allocator it may need.
 */
#ifndef SSLSOCKET_H
#define SSLSOCKET_H

#include <stddef.h>
#include <time.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SSLSOCKET_API __attribute__((visibility("default")))
#define SSLSOCKET_MUST_CHECK __attribute__((warn_unused_result))
#else
#define SSLSOCKET_API
#define SSLSOCKET_MUST_CHECK
#endif

#define SSLSOCKET_VERSION "0.1.0"

/* ---- Constants (numeric values are Python's) ---------------------------- */

enum sslsocket_cert_reqs {
	SSLSOCKET_CERT_NONE = 0,     /* certificates ignored */
	SSLSOCKET_CERT_OPTIONAL = 1, /* not required, validated if given */
	SSLSOCKET_CERT_REQUIRED = 2  /* required and validated */
};

enum sslsocket_protocol {
	SSLSOCKET_PROTOCOL_SSLv2 = 0,  /* never spoken by OpenSSL 3: error */
	SSLSOCKET_PROTOCOL_SSLv3 = 1,  /* not built into Debian's OpenSSL 3 */
	SSLSOCKET_PROTOCOL_SSLv23 = 2, /* negotiate the highest both support */
	SSLSOCKET_PROTOCOL_TLSv1 = 3,
	SSLSOCKET_PROTOCOL_TLSv1_1 = 4,
	SSLSOCKET_PROTOCOL_TLSv1_2 = 5,
	SSLSOCKET_PROTOCOL_TLSv1_3 = 6
};
#define SSLSOCKET_PROTOCOL_TLS SSLSOCKET_PROTOCOL_SSLv23

/* The seed's SSLError codes (args[0]), plus VALUE for bad arguments
 * (Python raises ValueError there). */
enum sslsocket_error_code {
	SSLSOCKET_ERROR_NONE = 0,
	SSLSOCKET_ERROR_SSL = 1,
	SSLSOCKET_ERROR_WANT_READ = 2,
	SSLSOCKET_ERROR_WANT_WRITE = 3,
	SSLSOCKET_ERROR_WANT_X509_LOOKUP = 4,
	SSLSOCKET_ERROR_SYSCALL = 5,
	SSLSOCKET_ERROR_ZERO_RETURN = 6,
	SSLSOCKET_ERROR_WANT_CONNECT = 7,
	SSLSOCKET_ERROR_EOF = 8,
	SSLSOCKET_ERROR_INVALID_ERROR_CODE = 9,
	SSLSOCKET_ERROR_VALUE = 10
};

/* Where a socket call failed. A caller decides what to tell its own caller
 * from these fields, never from the reason's text. */
enum sslsocket_phase {
	SSLSOCKET_PHASE_NONE = 0,  /* not a socket call (options, modules) */
	SSLSOCKET_PHASE_CONNECT,   /* the TCP connect (refused, unreachable, ...) */
	SSLSOCKET_PHASE_ACCEPT,    /* the accept itself */
	SSLSOCKET_PHASE_HANDSHAKE, /* the TLS handshake */
	SSLSOCKET_PHASE_VERIFY,    /* the peer's certificate or name did not verify */
	SSLSOCKET_PHASE_READ,      /* after the handshake: reading */
	SSLSOCKET_PHASE_WRITE,     /* after the handshake: writing */
	SSLSOCKET_PHASE_SHUTDOWN   /* close_notify, half-close, unwrap */
};

/* What a failure means to an operator, decided where OpenSSL's errors are
 * translated (so that no caller reads the reason's text). */
enum sslsocket_cause {
	SSLSOCKET_CAUSE_NONE = 0,  /* not a TLS failure (a system call, a want) */
	SSLSOCKET_CAUSE_VERIFY,    /* the peer's chain did not verify, or the peer
	                              refused ours (unknown CA, bad, expired,
	                              revoked or missing certificate) */
	SSLSOCKET_CAUSE_IDENTITY,  /* the chain verified but the name, allow_names
	                              or pin_sha256 did not match */
	SSLSOCKET_CAUSE_PLAINTEXT, /* the peer does not speak TLS */
	SSLSOCKET_CAUSE_TIMEOUT,   /* the handshake's deadline passed */
	SSLSOCKET_CAUSE_PROTOCOL   /* any other TLS failure */
};

/* Which option a failure of the options, a configuration or a context is
 * about: the file that did not load, or the value that was refused. */
enum sslsocket_option {
	SSLSOCKET_OPT_NONE = 0,        /* none in particular (or not an option
	                                  error: out of memory, a socket call) */
	SSLSOCKET_OPT_KEYFILE,         /* the private key (read, parsed, or not
	                                  the certificate's) when keyfile names
	                                  it (even the certfile's name) */
	SSLSOCKET_OPT_CERTFILE,        /* the chain, or the key when keyfile is
	                                  not given */
	SSLSOCKET_OPT_CA_CERTS,        /* ca_certs, or the system store (file "") */
	SSLSOCKET_OPT_CRL_FILE,
	SSLSOCKET_OPT_CERT_REQS,
	SSLSOCKET_OPT_SSL_VERSION,
	SSLSOCKET_OPT_CIPHERS,
	SSLSOCKET_OPT_ALPN,
	SSLSOCKET_OPT_ALLOW_NAMES,
	SSLSOCKET_OPT_PIN_SHA256,
	SSLSOCKET_OPT_HANDSHAKE_TIMEOUT,
	SSLSOCKET_OPT_KEYLOG_FILE
};

/* The reason of a failure: the seed's code, the errno the POSIX call should
 * give (sys_errno; EPROTO for a TLS failure, EAGAIN for want-read/write),
 * OpenSSL's packed error (0 if none), the phase, and one line of text such
 * as "certificate verify failed: self-signed certificate"; for an option
 * or file error, which option and which file. */
struct sslsocket_error {
	int code;                 /* enum sslsocket_error_code */
	int sys_errno;
	unsigned long ossl_error;
	char reason[256];
	int phase;                /* enum sslsocket_phase */
	int cause;                /* enum sslsocket_cause */
	int option;               /* enum sslsocket_option */
	char file[512];           /* the file of that option ("" when it is
	                             not a file; cut at 511 bytes) */
};

/* ---- The I/O seam ------------------------------------------------------- */

/*
 * Every system call the library makes on a socket goes through this table:
 * the library calls no socket function by name. A plain program passes
 * NULL and gets libc's functions; the interposer passes the real functions
 * it resolved with dlsym(RTLD_NEXT), so nothing the library does on a
 * socket (OpenSSL's I/O, reading the blocking mode, SO_ERROR, TCP_NODELAY
 * before a close_notify) re-enters the hooks, and the interposer needs no
 * "inside the library" flag around its calls. The library calls recv and
 * send with MSG_DONTWAIT (and send with MSG_NOSIGNAL) and waits with poll
 * when the socket is blocking. Every member is required.
 */
struct sslsocket_io {
	ssize_t (*recv)(int fd, void *buf, size_t len, int flags);
	ssize_t (*send)(int fd, const void *buf, size_t len, int flags);
	int (*poll)(struct pollfd *fds, nfds_t nfds, int timeout_ms);
	int (*connect)(int fd, const struct sockaddr *addr, socklen_t len);
	int (*accept4)(int fd, struct sockaddr *addr, socklen_t *len, int flags);
	int (*close)(int fd);
	int (*shutdown)(int fd, int how);
	int (*fcntl)(int fd, int cmd, ...);
	int (*getsockopt)(int fd, int level, int name, void *val, socklen_t *len);
	int (*setsockopt)(int fd, int level, int name, const void *val, socklen_t len);
	int (*getpeername)(int fd, struct sockaddr *addr, socklen_t *len);
	int (*getsockname)(int fd, struct sockaddr *addr, socklen_t *len);
	int (*socket)(int domain, int type, int protocol);
};

/* libc's functions; valid for the life of the process. */
SSLSOCKET_API const struct sslsocket_io *sslsocket_io_libc(void);

/* ---- Options: wrap_socket's parameters ---------------------------------- */

struct sslsocket_options {
	/* The seed's wrap_socket parameters. */
	const char *keyfile;  /* NULL: the key is in certfile */
	const char *certfile; /* PEM: key (optional) then chain */
	int server_side;
	enum sslsocket_cert_reqs cert_reqs; /* default CERT_NONE */
	enum sslsocket_protocol ssl_version; /* default PROTOCOL_SSLv23 (TLS
	                                        1.2 or 1.3) */
	const char *ca_certs;                /* PEM bundle of trusted CAs */
	int do_handshake_on_connect;         /* default 1 */
	int suppress_ragged_eofs;            /* default 1 */

	/* Beyond the seed. */
	int ca_certs_default;          /* 1: trust the system store when
	                                  ca_certs is NULL */
	const char *server_hostname;   /* client: SNI, and the hostname
	                                  check unless CERT_NONE */
	const char *ciphers;           /* OpenSSL cipher string (TLS <= 1.2);
	                                  NULL: forward secrecy and AEAD
	                                  only (OpenSSL's when TLS 1.0 or
	                                  1.1 is pinned) */
	const char *const *alpn;       /* protocols to offer or accept */
	size_t alpn_count;
	int release_buffers;           /* SSL_MODE_RELEASE_BUFFERS */
	int handshake_timeout_ms;      /* deadline of a blocking handshake;
	                                  0: none */
	int session_cache;             /* client: resume sessions per
	                                  destination (default 1) */
	const char *keylog_file;       /* append NSS key-log lines (the file
	                                  is created 0600, close-on-exec; a
	                                  symlink, another user's file or one
	                                  group/others may read: EPERM) */

	/* Peer identity (both sides; needs cert_reqs other than CERT_NONE;
	 * a server with either asks the client for a certificate and fails
	 * without one). The handshake fails like a verification failure when
	 * the peer's certificate carries none of allow_names, or when its
	 * key's SHA-256 SPKI digest is not one of pin_sha256. Entries: see
	 * sslsocket_allow_name_parse and sslsocket_pin_sha256_parse. */
	const char *const *allow_names;
	size_t allow_names_count;
	const char *const *pin_sha256;
	size_t pin_sha256_count;
	const char *crl_file;          /* PEM CRLs checked for the peer's
	                                  whole chain (one from each CA) */
};

/* Fills o with the seed's defaults (CERT_NONE, PROTOCOL_SSLv23,
 * do_handshake_on_connect and suppress_ragged_eofs true, session_cache 1,
 * everything else 0 or NULL). */
SSLSOCKET_API void sslsocket_options_init(struct sslsocket_options *o);

/* Checks o as wrap time would, without a socket: the version can be spoken
 * by this OpenSSL, cert_reqs other than CERT_NONE has a CA source, the
 * certificate, key and CA files load and match, the cipher string and ALPN
 * list are valid. Returns 0, or -1 with the reason in err. */
SSLSOCKET_API SSLSOCKET_MUST_CHECK int
sslsocket_options_check(const struct sslsocket_options *o,
                        struct sslsocket_error *err);

/* As sslsocket_options_check, at a fraction of its cost (see
 * sslsocket_config_new), keeping nothing. Returns 0, or -1 with the reason
 * in err. */
SSLSOCKET_API SSLSOCKET_MUST_CHECK int
sslsocket_options_prefetch(const struct sslsocket_options *o,
                           struct sslsocket_error *err);

/* Checks one allow_names entry: a DNS name ("db.internal", "*.example.com"
 * for exactly one label under example.com), an IP address, a URI such as a
 * SPIFFE ID ("spiffe://example.org/ns/prod/sa/web"; in the path "*" stands
 * for one segment and a last "**" for one or more), or "CN=name" for the
 * subject's common name. Returns 0, or -1 with the reason in err. Pure:
 * safe on any input. */
SSLSOCKET_API SSLSOCKET_MUST_CHECK int
sslsocket_allow_name_parse(const char *entry, struct sslsocket_error *err);

/* Parses a pin_sha256 entry: the base64 SHA-256 digest of a
 * SubjectPublicKeyInfo, optionally prefixed "sha256//" (curl's
 * --pinnedpubkey). Fills digest (may be NULL). Returns 0, or -1 with the
 * reason in err (not base64, or not 32 bytes). Pure. */
SSLSOCKET_API SSLSOCKET_MUST_CHECK int
sslsocket_pin_sha256_parse(const char *pin, unsigned char digest[32],
                           struct sslsocket_error *err);

/* ---- Configurations (reference-counted, libtls's tls_config) ------------ */

typedef struct sslsocket_config sslsocket_config;

/* A configuration: a copy of o (its strings too) and the bytes of its
 * certificate, key, CA and CRL files, read now and checked from their PEM
 * and DER structure (readable, well-formed, the key belongs to the first
 * certificate) without OpenSSL's providers; what that cannot settle (a
 * cipher string, a key that does not carry its public half, a CRL) is
 * checked the full way (the system CA store, which the user did not name,
 * is not loaded for it). Contexts built from it later load exactly these
 * bytes, not the files: a server may drop the privileges that let it
 * read its key. Returns it with one reference, or NULL with the reason in
 * err. The library keeps nothing of it: the owner frees it. */
SSLSOCKET_API SSLSOCKET_MUST_CHECK sslsocket_config *
sslsocket_config_new(const struct sslsocket_options *o, struct sslsocket_error *err);
/* Takes one more reference; returns c. */
SSLSOCKET_API sslsocket_config *sslsocket_config_ref(sslsocket_config *c);
/* Drops a reference; the last one wipes the files' bytes (the private key)
 * and frees c. NULL: no-op. */
SSLSOCKET_API void sslsocket_config_free(sslsocket_config *c);
/* Sets (a copy of) the NSS key-log file of the contexts built from c
 * afterwards; NULL: none. 0, or -1 out of memory (c unchanged). */
SSLSOCKET_API int sslsocket_config_set_keylog_file(sslsocket_config *c, const char *path);
/* The file that holds c's private key (keyfile, or certfile when the key
 * is in it) as c read it, seen through the descriptor its bytes came from:
 * such a file that group or others may write is refused when it is read
 * (sslsocket_config_new fails: whoever may write it chooses the key, and
 * ssh refuses such a key too); what is left for the caller to warn about
 * is in concerns. */
#define SSLSOCKET_KEYFILE_READABLE 1u /* group or others may read it */
#define SSLSOCKET_KEYFILE_FOREIGN 2u  /* owned by neither the effective
                                         user nor root */
struct sslsocket_keyfile_state {
	const char *path;   /* valid while c is */
	unsigned mode;      /* st_mode & 07777 */
	unsigned long uid;  /* the owner */
	unsigned concerns;  /* SSLSOCKET_KEYFILE_* */
};
/* Fills out; 0, or -1 (errno ENOENT) when c has no private key. */
SSLSOCKET_API int sslsocket_config_keyfile_state(const sslsocket_config *c,
                                                 struct sslsocket_keyfile_state *out);
/* The same for a file that decides whom c trusts: option is
 * SSLSOCKET_OPT_CA_CERTS or SSLSOCKET_OPT_CRL_FILE. Whoever may write it
 * may add a CA or drop a revocation, so concerns has
 * SSLSOCKET_FILE_WRITABLE (group or others may write it) and
 * SSLSOCKET_KEYFILE_FOREIGN; readable is no concern. -1 (errno ENOENT)
 * when c read no such file (the system store). */
#define SSLSOCKET_FILE_WRITABLE 4u
SSLSOCKET_API int sslsocket_config_trustfile_state(const sslsocket_config *c, int option,
                                                   struct sslsocket_keyfile_state *out);
/* The options c was made from (its own copies); valid while c is. */
SSLSOCKET_API const struct sslsocket_options *sslsocket_config_options(const sslsocket_config *c);
/* 1 when a file of c, looked up by its path now (following symlinks), is
 * not the one that was read (device, inode, size, mtime or ctime differ,
 * or it cannot be found), 0 when none changed. *stamp (may be NULL)
 * receives a digest of what the paths resolve to now, so that a caller can
 * tell one replacement from the next. Costs one stat per file. */
SSLSOCKET_API int sslsocket_config_changed(const sslsocket_config *c, unsigned long long *stamp);

/* ---- Contexts (reference-counted) --------------------------------------- */

typedef struct sslsocket_ctx sslsocket_ctx;

/* A new context (an SSL_CTX) from the configuration c: its context options
 * (everything except server_hostname, do_handshake_on_connect,
 * suppress_ragged_eofs and handshake_timeout_ms, which are per socket) and
 * its files' bytes, checked the full way. Client contexts cache sessions
 * per destination. Returns it with one reference, or NULL with the reason
 * in err. The context does not keep c. */
SSLSOCKET_API sslsocket_ctx *sslsocket_ctx_new_config(sslsocket_config *c,
                                                      struct sslsocket_error *err);
/* The same from options, reading the files now: a new context each call
 * (contexts are not shared behind the caller's back: keep the context to
 * share it, and its session cache, between sockets). */
SSLSOCKET_API sslsocket_ctx *sslsocket_ctx_new(const struct sslsocket_options *o,
                                               struct sslsocket_error *err);
/* Takes one more reference; returns ctx. Each socket wrapped with a
 * context holds one until it is freed. */
SSLSOCKET_API sslsocket_ctx *sslsocket_ctx_ref(sslsocket_ctx *ctx);
SSLSOCKET_API void sslsocket_ctx_free(sslsocket_ctx *ctx); /* NULL: no-op */
/* Number of live contexts in the process (for tests and stats). */
SSLSOCKET_API size_t sslsocket_ctx_count(void);
/* The notAfter of the context's own certificate (certfile) as seconds
 * since the epoch: 0, or -1 when the context has no certificate. */
SSLSOCKET_API int sslsocket_ctx_cert_not_after(const sslsocket_ctx *ctx, time_t *out);

/* ---- Sockets ------------------------------------------------------------ */

typedef struct sslsocket sslsocket;

/*
 * wrap_socket: wraps the descriptor fd (borrowed: the library closes it
 * only in sslsocket_close). io may be NULL (libc).
 *   - Client, fd not connected yet: the TLS state is built lazily by
 *     sslsocket_connect.
 *   - Client, fd connected: ready; the handshake runs now when
 *     do_handshake_on_connect is set (blocking sockets), otherwise on the
 *     first read, write or do_handshake.
 *   - Server, fd listening: sslsocket_accept returns wrapped connections.
 *   - Server, fd connected: as the client.
 * cert_reqs other than CERT_NONE without ca_certs (or ca_certs_default)
 * is an error, as is a version this OpenSSL cannot speak.
 * The blocking mode (timeout) is taken from the descriptor's O_NONBLOCK.
 */
SSLSOCKET_API sslsocket *sslsocket_wrap(int fd, const struct sslsocket_options *o,
                                        const struct sslsocket_io *io,
                                        struct sslsocket_error *err);

/* As sslsocket_wrap, with a shared context (a reference is taken) and the
 * per-socket options given separately: o supplies server_hostname,
 * do_handshake_on_connect, suppress_ragged_eofs and handshake_timeout_ms;
 * the context supplies the rest. */
SSLSOCKET_API sslsocket *sslsocket_wrap_ctx(int fd, sslsocket_ctx *ctx,
                                            const struct sslsocket_options *o,
                                            const struct sslsocket_io *io,
                                            struct sslsocket_error *err);

/* Connects a lazily wrapped client socket and, when do_handshake_on_connect
 * is set and the socket is blocking, completes the handshake before
 * returning. On a non-blocking socket it returns -1 with errno EINPROGRESS
 * (or the handshake's EAGAIN); the connection and handshake complete on the
 * next read, write, do_handshake or sslsocket_advance. */
SSLSOCKET_API int sslsocket_connect(sslsocket *s, const struct sockaddr *addr,
                                    socklen_t len);

/* Accepts on a wrapped listening socket (flags as accept4) and returns the
 * wrapped server-side connection, handshaken when do_handshake_on_connect
 * is set and the new socket is blocking. NULL with errno on failure; a
 * failed handshake closes the accepted descriptor. */
SSLSOCKET_API sslsocket *sslsocket_accept(sslsocket *listener, struct sockaddr *addr,
                                          socklen_t *len, int flags);

/* Performs the handshake. Non-blocking: -1 with code WANT_READ/WANT_WRITE
 * (errno EAGAIN); call again when the socket is ready. A failure is
 * sticky: every later read and write fails with EPROTO. */
SSLSOCKET_API int sslsocket_do_handshake(sslsocket *s);
/* The same with this call's own timeout (-1 forever, 0 non-blocking,
 * > 0 ms); the socket's stored timeout is neither used nor changed. */
SSLSOCKET_API int sslsocket_do_handshake_timeout(sslsocket *s, int timeout_ms);

/* Reads up to n bytes of plaintext straight into buf (no staging copy).
 * Returns > 0, 0 at a close_notify or (suppress_ragged_eofs) a ragged EOF,
 * -1 on error: code EOF with errno ECONNRESET for an unsuppressed ragged
 * EOF, WANT_READ/WANT_WRITE with EAGAIN on a non-blocking socket. Drives a
 * pending connect or handshake first. */
SSLSOCKET_API ssize_t sslsocket_read(sslsocket *s, void *buf, size_t n);

/* Writes n bytes (all of them on a blocking socket; on a non-blocking one
 * possibly fewer, or -1 EAGAIN). Returns the number written.
 * Non-blocking, as the kernel's send: bytes reported written are the
 * library's (ciphertext the kernel refused waits in a bounded per-socket
 * out-buffer, at most 16 KiB of plaintext, one record, per call), and after -1 EAGAIN
 * the program may retry with any buffer and any length. While the
 * out-buffer is not empty, write sends it first and returns EAGAIN,
 * sslsocket_poll_events asks the kernel for POLLOUT and reports POLLOUT
 * only once it is out, and sslsocket_advance sends it. */
SSLSOCKET_API ssize_t sslsocket_write(sslsocket *s, const void *buf, size_t n);

/* Gathers iov into as few records as possible and writes them. */
SSLSOCKET_API ssize_t sslsocket_writev(sslsocket *s, const struct iovec *iov, int iovcnt);

/* sslsocket_read, sslsocket_write and sslsocket_writev with this call's
 * own timeout (-1 forever, 0 non-blocking, > 0 ms) instead of the one set
 * with sslsocket_settimeout: one thread may read blocking while another
 * writes non-blocking on the same socket (MSG_DONTWAIT, SO_RCVTIMEO vs
 * SO_SNDTIMEO). Added for the interposer. */
SSLSOCKET_API ssize_t sslsocket_read_timeout(sslsocket *s, void *buf, size_t n, int timeout_ms);
SSLSOCKET_API ssize_t sslsocket_write_timeout(sslsocket *s, const void *buf, size_t n,
                                              int timeout_ms);
SSLSOCKET_API ssize_t sslsocket_writev_timeout(sslsocket *s, const struct iovec *iov, int iovcnt,
                                               int timeout_ms);

/* Decrypted bytes waiting inside the library (readable without the kernel). */
SSLSOCKET_API size_t sslsocket_pending(sslsocket *s);

/* 1 when a read would not block now: plaintext is decrypted, the peer
 * closed (close_notify or EOF), or the socket failed (the read reports
 * it). Reads what the kernel holds without blocking, so records that
 * carry no application data (TLS 1.3 session tickets, key updates) are
 * processed here and leave it 0: poll/select/epoll call it when the kernel
 * says "readable" so that readiness means application data. Added for the
 * interposer's readiness calls. */
SSLSOCKET_API int sslsocket_read_ready(sslsocket *s);

/* Sets the blocking behaviour: -1 blocks forever, 0 is non-blocking, > 0 is
 * a timeout in milliseconds for each call (Python's settimeout). The
 * descriptor's own flags are never changed. A call already running keeps
 * the timeout it started with. */
SSLSOCKET_API void sslsocket_settimeout(sslsocket *s, int timeout_ms);
SSLSOCKET_API int sslsocket_gettimeout(const sslsocket *s);

/*
 * Readiness for poll/select/epoll on top of TLS. Given the events the
 * program waits for (POLLIN, POLLOUT), returns the events that are ready
 * now without asking the kernel (plaintext pending, a received
 * close_notify, or a failed socket, which reads as ready so that the next
 * call reports the error), and stores in *kernel_events what the kernel
 * must be asked for before progress is possible (a handshake that needs to
 * read while the program waits to write, a connect in progress, ...).
 */
SSLSOCKET_API short sslsocket_poll_events(sslsocket *s, short events, short *kernel_events);

/* The error of a non-blocking connect that the library found failed
 * (ECONNREFUSED, ETIMEDOUT, ...) while driving it: reading the socket's
 * SO_ERROR is how the library learns it, which clears the kernel's copy,
 * so the library keeps it for the program. Returns it once, as
 * getsockopt(SO_ERROR) does, then 0. Added for the interposer's
 * getsockopt hook. */
SSLSOCKET_API int sslsocket_take_connect_error(sslsocket *s);

/* Drives a pending non-blocking connect, handshake, queued ciphertext (see
 * sslsocket_write) or shutdown as far as it can go without blocking. Returns 0 when the connection is established
 * (or already was), -1 with WANT_READ/WANT_WRITE (EAGAIN) or an error. */
SSLSOCKET_API int sslsocket_advance(sslsocket *s);

/* unwrap(): performs the shutdown handshake (close_notify both ways) and
 * returns the plain descriptor, usable for plaintext afterwards; s is freed.
 * On failure (or WANT_* on a non-blocking socket) returns -1 and s stays
 * valid. */
SSLSOCKET_API int sslsocket_unwrap(sslsocket *s);

/* Sends close_notify for the write direction without waiting for the
 * peer's, then shuts the descriptor down for writing (SHUT_WR); reads go on
 * until the peer closes. */
SSLSOCKET_API int sslsocket_shutdown_write(sslsocket *s);
/* The same, waiting for buffer room at most this call's timeout (-1
 * forever, 0 not at all: the close_notify goes out later, as the kernel's
 * FIN does) instead of the socket's stored one, which is not changed. */
SSLSOCKET_API int sslsocket_shutdown_write_timeout(sslsocket *s, int timeout_ms);

/* Sends close_notify if the connection is established and not yet shut
 * down, best effort and without blocking for longer than the write needs.
 * Returns 0 if it was sent (or not needed), -1 otherwise. */
SSLSOCKET_API int sslsocket_send_close_notify(sslsocket *s);
/* The same, waiting for buffer room (queued ciphertext, the alert) at
 * most timeout_ms (> 0) instead of s's timeout. Added for the interposer,
 * whose threads must not change a timeout another call is using. */
SSLSOCKET_API int sslsocket_send_close_notify_timeout(sslsocket *s, int timeout_ms);

/* close(): close_notify (as above), closes the descriptor, frees s. */
SSLSOCKET_API int sslsocket_close(sslsocket *s);

/* Frees s without any shutdown and without touching the descriptor (for a
 * process that must not end a connection another process still uses). */
SSLSOCKET_API void sslsocket_free(sslsocket *s);

SSLSOCKET_API int sslsocket_fileno(const sslsocket *s);
SSLSOCKET_API int sslsocket_server_side(const sslsocket *s);
SSLSOCKET_API int sslsocket_handshake_done(const sslsocket *s);
/* 1 once a handshake or verification has failed (sticky). */
SSLSOCKET_API int sslsocket_failed(const sslsocket *s);

/* cipher(): name, protocol version ("TLSv1.3") and secret bits; -1 before
 * the handshake (the seed's None). The strings live as long as s. */
SSLSOCKET_API int sslsocket_cipher(sslsocket *s, const char **name,
                                   const char **version, int *secret_bits);
/* "ok", or the verification failure reason ("self-signed certificate"),
 * or "none" when nothing was verified. Lives as long as s. */
SSLSOCKET_API const char *sslsocket_verify_result(sslsocket *s);
SSLSOCKET_API int sslsocket_session_reused(sslsocket *s);
/* The negotiated ALPN protocol, or NULL. Lives as long as s. */
SSLSOCKET_API const char *sslsocket_alpn_selected(sslsocket *s);

/* The last failure of the calling thread's last call on s, else (another
 * thread's call failed it) the sticky failure of a failed socket, else
 * "no error". Per thread: a reader and a writer failing at once in two
 * threads each read their own error. Valid until this thread's next call
 * on s. */
SSLSOCKET_API const struct sslsocket_error *sslsocket_last_error(const sslsocket *s);
/* The same, as one line of text. */
SSLSOCKET_API const char *sslsocket_error(const sslsocket *s);

/* A connection's state, read under its lock in one go (sslsocket_snapshot).
 * Nothing here needs I/O: pending counts what OpenSSL has decrypted
 * already. */
struct sslsocket_state {
	int listening;
	int connecting;          /* TCP connect in progress */
	int handshaking;         /* TLS handshake under way */
	int established;         /* handshake done, not failed */
	int handshake_done;      /* the handshake completed once (stays 1
	                            after a later failure) */
	int failed;              /* sticky: every read and write fails */
	int write_shut;          /* close_notify sent or queued, or SHUT_WR */
	int peer_closed;         /* the peer's close_notify or EOF was seen */
	size_t pending;          /* decrypted plaintext waiting */
	size_t queued;           /* ciphertext waiting to be sent */
	short want;              /* POLLIN/POLLOUT the connection itself needs
	                            from the kernel to progress (handshake,
	                            queued ciphertext, a close_notify) */
	int connect_errno;       /* what sslsocket_take_connect_error would
	                            return (not taken) */
	struct sslsocket_error failure; /* the sticky failure when failed */
};

/* Fills *st. Returns 0; -1 with errno EINVAL for NULL arguments, or
 * EDEADLK when the calling thread already holds s's lock (a signal handler
 * that interrupted a call on s: nothing is read then). */
SSLSOCKET_API int sslsocket_snapshot(sslsocket *s, struct sslsocket_state *st);

/* ---- Peer certificates -------------------------------------------------- */

struct sslsocket_attr {
	char *name;  /* "commonName", or a dotted OID; "DNS", "IP Address" */
	char *value;
};

struct sslsocket_rdn {
	size_t count; /* more than one for a multi-valued RDN */
	struct sslsocket_attr *attrs;
};

/* getpeercert()'s dictionary: subject, notAfter and subjectAltName. */
struct sslsocket_certinfo {
	int validated;           /* 0: the seed's empty dictionary {} */
	size_t subject_count;
	struct sslsocket_rdn *subject;
	char *not_after;         /* "May  9 00:00:00 2007 GMT" */
	/* subject_alt_name NULL: no subjectAltName key; non-NULL with
	 * san_count 0: the extension is present but empty ('subjectAltName': ()). */
	size_t san_count;
	struct sslsocket_attr *subject_alt_name;
};

/* getpeercert(False): 0 with *out NULL when the peer sent no certificate
 * (None); *out->validated 0 when it was not validated ({}). -1 before the
 * handshake. Free *out with sslsocket_certinfo_free. */
SSLSOCKET_API int sslsocket_getpeercert(sslsocket *s, struct sslsocket_certinfo **out);
/* getpeercert(True): the DER, owned (free()); *der NULL when none. */
SSLSOCKET_API int sslsocket_getpeercert_der(sslsocket *s, unsigned char **der, size_t *len);
/* The dictionary of a DER certificate (validated = 1). */
SSLSOCKET_API struct sslsocket_certinfo *
sslsocket_certinfo_from_der(const unsigned char *der, size_t len, struct sslsocket_error *err);
/* The dictionary in the seed's notation, laid out exactly as Python's
 * pprint.pformat() (width 80, keys sorted); "{}" when not validated.
 * Owned, no trailing newline. */
SSLSOCKET_API char *sslsocket_certinfo_format(const struct sslsocket_certinfo *ci);
SSLSOCKET_API void sslsocket_certinfo_free(struct sslsocket_certinfo *ci);

/* ---- Module functions --------------------------------------------------- */

/* "May  9 00:00:00 2007 GMT" (or "May 9 ...") as seconds since the epoch,
 * read as UTC (bpo-19940). Malformed input is -1 with code VALUE. */
SSLSOCKET_API int sslsocket_cert_time_to_seconds(const char *timestring, time_t *out,
                                                 struct sslsocket_error *err);

/* Byte-exact conversions; malformed input is NULL with code VALUE. Owned. */
SSLSOCKET_API char *sslsocket_DER_cert_to_PEM_cert(const unsigned char *der, size_t len,
                                                   struct sslsocket_error *err);
SSLSOCKET_API unsigned char *sslsocket_PEM_cert_to_DER_cert(const char *pem, size_t *len,
                                                            struct sslsocket_error *err);

/* Connects to host:port, handshakes with ssl_version and returns the
 * server's certificate as PEM (owned). With ca_certs, the certificate must
 * validate (and match host when host is a name) or NULL is returned. SNI is
 * sent for names, never for IP literals. */
SSLSOCKET_API char *sslsocket_get_server_certificate(const char *host, unsigned short port,
                                                     enum sslsocket_protocol ssl_version,
                                                     const char *ca_certs,
                                                     struct sslsocket_error *err);

SSLSOCKET_API int sslsocket_RAND_status(void);
SSLSOCKET_API int sslsocket_RAND_add(const void *buf, size_t len, double entropy);
/* Reads 256 bytes from the EGD-style stream socket at path and adds them
 * (OpenSSL 3 has no EGD support of its own). Returns the byte count. */
SSLSOCKET_API int sslsocket_RAND_egd(const char *path, struct sslsocket_error *err);

/* "PROTOCOL_TLSv1_2" for SSLSOCKET_PROTOCOL_TLSv1_2; NULL if unknown. */
SSLSOCKET_API const char *sslsocket_protocol_name(enum sslsocket_protocol v);
/* Accepts "PROTOCOL_TLSv1_2", "TLSv1_2", "PROTOCOL_TLS", "SSLv23", ... */
SSLSOCKET_API int sslsocket_protocol_from_name(const char *name, enum sslsocket_protocol *out);
/* 0 if this OpenSSL (at its security level) can speak v; -1 with the
 * reason otherwise. */
SSLSOCKET_API int sslsocket_protocol_supported(enum sslsocket_protocol v,
                                               struct sslsocket_error *err);

/* What in o is weaker than the defaults (o->ssl_version pinning a version
 * older than TLS 1.2, o->ciphers admitting suites without forward secrecy
 * or without AEAD, or lowering OpenSSL's security level), described in buf
 * ("ssl_version PROTOCOL_TLSv1_1 is older than TLS 1.2; ciphers admit ...",
 * cut to len). Returns 1 when something is, 0 when nothing is (buf ""),
 * -1 when o or its cipher string cannot be judged. */
SSLSOCKET_API int sslsocket_options_weakness(const struct sslsocket_options *o, char *buf,
                                             size_t len);

#ifdef __cplusplus
}
#endif
#endif /* SSLSOCKET_H */
