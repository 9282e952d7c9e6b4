/*
 * read_write.c - moving plaintext: read straight into the caller's buffer, write,
 * writev, pending, and the readiness that poll/select/epoll build on.
 * The lock is held around each OpenSSL call only; waits happen unlocked,
 * so one thread can block in read while another writes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ossl_int.h"

#include "sslsocket_int.h"

/* One read with one timeout throughout (tmo: -1 forever, 0 none). */
static ssize_t read_tmo(sslsocket *s, void *buf, size_t n, int tmo)
{
	core_set_op(SSLSOCKET_PHASE_READ);
	int saved = errno;
	if (!s || (!buf && n)) {
		errno = EINVAL;
		return -1;
	}
	long long deadline = core_deadline(tmo);
	int first = 1, waited = 0;
	for (;;) {
		if (core_lock_entry(s) < 0)
			return -1;
		/* Request/response traffic finds the socket empty at every read;
		 * after a read that had to wait, a blocking read waits first
		 * (poll + recv) instead of recv, EAGAIN, poll, recv. Streams keep
		 * finding data and go straight to recv. */
		if (first && s->read_waited && tmo != 0 && s->state == CORE_ST_ESTABLISHED &&
		    !s->got_close_notify && !s->ragged_eof && !s->shut_want && !s->olen &&
		    !SSL_has_pending(s->ssl)) {
			pthread_mutex_unlock(&s->lock);
			first = 0;
			waited = 1;
			if (core_wait(s, POLLIN, deadline, -1) < 0)
				return -1;
			continue;
		}
		first = 0;
		if (s->state != CORE_ST_ESTABLISHED) {
			/* Rare: a connect or handshake to drive first (the state is
			 * checked under the lock we already hold, so the hot path
			 * takes the lock once). */
			pthread_mutex_unlock(&s->lock);
			if (core_drive(s, tmo != 0, deadline) < 0)
				return -1;
			continue;
		}
		if (s->got_close_notify || (s->ragged_eof && s->suppress_ragged_eofs)) {
			pthread_mutex_unlock(&s->lock);
			errno = saved;
			return 0;
		}
		if (s->ragged_eof) {
			core_sock_err(s, SSLSOCKET_ERROR_EOF, ECONNRESET, "EOF occurred in violation of protocol");
			pthread_mutex_unlock(&s->lock);
			return -1;
		}
		/* A close_notify queued behind a full buffer goes out as soon as
		 * there is room, even if the program only reads now. */
		if (s->shut_want == POLLOUT && !s->unwrapping)
			(void)core_shutdown_progress_locked(s);
		/* So does ciphertext an earlier write left queued: the peer may
		 * be waiting for it before it answers. */
		if (s->olen)
			(void)core_flush_locked(s);
		short also = (s->shut_want == POLLOUT && !s->unwrapping) || s->olen ? POLLOUT : 0;
		size_t got = 0;
		ERR_clear_error();
		s->bio_errno = 0;
		int r = n ? SSL_read_ex(s->ssl, buf, n, &got) : 1;
		if (r == 1) {
			s->read_waited = waited;
			pthread_mutex_unlock(&s->lock);
			errno = saved;
			return (ssize_t)got;
		}
		enum core_io_result res = core_ssl_result(s, r, "read");
		pthread_mutex_unlock(&s->lock);
		waited = 1;
		switch (res) {
		case CORE_IO_CLOSED:
			errno = saved;
			return 0;
		case CORE_IO_WANT_READ:
		case CORE_IO_WANT_WRITE:
			if (tmo == 0)
				return -1;
			if (core_wait(s, (res == CORE_IO_WANT_READ ? POLLIN : POLLOUT) | also, deadline, -1) < 0)
				return -1;
			continue;
		default:
			return -1;
		}
	}
}

static ssize_t write_tmo(sslsocket *s, const void *buf, size_t n, int tmo)
{
	core_set_op(SSLSOCKET_PHASE_WRITE);
	int saved = errno;
	if (!s || (!buf && n)) {
		errno = EINVAL;
		return -1;
	}
	long long deadline = core_deadline(tmo);
	size_t done = 0;
	for (;;) {
		if (core_lock_entry(s) < 0)
			return done ? (ssize_t)done : -1;
		if (s->state != CORE_ST_ESTABLISHED) {
			pthread_mutex_unlock(&s->lock);
			if (done) /* failed after some went out: report those */
				return (ssize_t)done;
			if (core_drive(s, tmo != 0, deadline) < 0)
				return -1;
			continue;
		}
		if (s->out_err) {
			core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, s->out_err, "send: %s", CORE_STRERROR(s->out_err));
			pthread_mutex_unlock(&s->lock);
			return done ? (ssize_t)done : -1;
		}
		if (!done && (s->sent_close_notify || s->write_shut)) {
			core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, EPIPE, "write after shutdown");
			pthread_mutex_unlock(&s->lock);
			return -1;
		}
		if (n == 0) { /* as the kernel's: 0 at once, even when full */
			pthread_mutex_unlock(&s->lock);
			break;
		}
		if (s->olen) {
			/* Ciphertext of an earlier write is still queued: it goes
			 * first. Like the kernel's full buffer, EAGAIN (non-blocking)
			 * or a wait, and OpenSSL is not called meanwhile, so the
			 * program may retry with any buffer and length. */
			int f = core_flush_locked(s);
			if (f < 0) {
				pthread_mutex_unlock(&s->lock);
				return done ? (ssize_t)done : -1;
			}
			if (f > 0) {
				if (tmo == 0 && !done)
					core_sock_err(s, SSLSOCKET_ERROR_WANT_WRITE, EAGAIN,
					              "The operation did not complete (write)");
				pthread_mutex_unlock(&s->lock);
				if (tmo == 0 || core_wait(s, POLLOUT, deadline, -1) < 0)
					goto partial; /* queued bytes count as written */
				continue;
			}
		}
		if (done == n) {
			pthread_mutex_unlock(&s->lock);
			break; /* all written and, blocking, all in the kernel */
		}
		size_t w = 0, chunk = n - done < CORE_WRITE_CAP ? n - done : CORE_WRITE_CAP;
		ERR_clear_error();
		s->bio_errno = 0;
		s->bio_buffer = 1;
		int r = SSL_write_ex(s->ssl, (const char *)buf + done, chunk, &w);
		s->bio_buffer = 0;
		if (r == 1) {
			s->write_want = 0;
			s->write_pending = 0;
			done += w;
			/* Non-blocking: the bytes are the program's no more (the
			 * out-buffer sends what the kernel refused); report them. */
			int stop = s->olen && tmo == 0;
			pthread_mutex_unlock(&s->lock);
			if (stop)
				break;
			continue;
		}
		enum core_io_result res = core_ssl_result(s, r, "write");
		s->write_want = res == CORE_IO_WANT_READ ? POLLIN : 0;
		s->write_pending = res == CORE_IO_WANT_READ || res == CORE_IO_WANT_WRITE;
		pthread_mutex_unlock(&s->lock);
		switch (res) {
		case CORE_IO_WANT_READ:
		case CORE_IO_WANT_WRITE:
			/* Non-blocking: report what went out; a retry must repeat the
			 * rest (OpenSSL may hold part of it in a record). */
			if (tmo == 0)
				goto partial;
			if (core_wait(s, res == CORE_IO_WANT_READ ? POLLIN : POLLOUT, deadline, -1) < 0)
				goto partial;
			continue;
		case CORE_IO_CLOSED:
			pthread_mutex_lock(&s->lock);
			core_sock_err(s, SSLSOCKET_ERROR_ZERO_RETURN, EPIPE, "peer closed the connection");
			pthread_mutex_unlock(&s->lock);
			goto partial;
		default:
			goto partial;
		}
	}
	errno = saved;
	return (ssize_t)done;
partial:
	if (done) {
		errno = saved;
		return (ssize_t)done;
	}
	return -1;
}

ssize_t sslsocket_read(sslsocket *s, void *buf, size_t n)
{
	return read_tmo(s, buf, n, s ? core_timeout(s) : -1);
}

ssize_t sslsocket_read_timeout(sslsocket *s, void *buf, size_t n, int timeout_ms)
{
	return read_tmo(s, buf, n, timeout_ms < 0 ? -1 : timeout_ms);
}

ssize_t sslsocket_write(sslsocket *s, const void *buf, size_t n)
{
	return write_tmo(s, buf, n, s ? core_timeout(s) : -1);
}

ssize_t sslsocket_write_timeout(sslsocket *s, const void *buf, size_t n, int timeout_ms)
{
	return write_tmo(s, buf, n, timeout_ms < 0 ? -1 : timeout_ms);
}

static ssize_t writev_tmo(sslsocket *s, const struct iovec *iov, int iovcnt, int tmo)
{
	if (!s || iovcnt < 0 || (!iov && iovcnt)) {
		errno = EINVAL;
		return -1;
	}
	size_t total = 0;
	int nonempty = 0, last = -1;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len) {
			nonempty++;
			last = i;
		}
		total += iov[i].iov_len;
	}
	if (nonempty <= 1)
		return write_tmo(s, last >= 0 ? iov[last].iov_base : "", last >= 0 ? iov[last].iov_len : 0,
		                 tmo);
	/* Gather so that small pieces share records instead of each becoming
	 * its own record (and packet). Bounded staging; big pieces loop. */
	size_t cap = total < 256 * 1024 ? total : 256 * 1024;
	char *stage = malloc(cap);
	if (!stage) {
		core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, ENOMEM, "out of memory");
		return -1;
	}
	size_t done = 0;
	int i = 0;
	size_t off = 0;
	ssize_t result = 0;
	while (i < iovcnt) {
		size_t fill = 0;
		while (i < iovcnt && fill < cap) {
			size_t take = iov[i].iov_len - off;
			if (take > cap - fill)
				take = cap - fill;
			memcpy(stage + fill, (const char *)iov[i].iov_base + off, take);
			fill += take;
			off += take;
			if (off == iov[i].iov_len) {
				i++;
				off = 0;
			}
		}
		if (!fill)
			break;
		ssize_t w = write_tmo(s, stage, fill, tmo);
		if (w < 0) {
			result = done ? (ssize_t)done : -1;
			goto out;
		}
		done += (size_t)w;
		if ((size_t)w < fill) {
			result = (ssize_t)done;
			goto out;
		}
	}
	result = (ssize_t)done;
out:
	free(stage);
	return result;
}

ssize_t sslsocket_writev(sslsocket *s, const struct iovec *iov, int iovcnt)
{
	return writev_tmo(s, iov, iovcnt, s ? core_timeout(s) : -1);
}

ssize_t sslsocket_writev_timeout(sslsocket *s, const struct iovec *iov, int iovcnt, int timeout_ms)
{
	return writev_tmo(s, iov, iovcnt, timeout_ms < 0 ? -1 : timeout_ms);
}

/* Plaintext waiting inside OpenSSL (lock held). With read-ahead, whole
 * records can sit undecrypted where SSL_pending cannot see them; a 1-byte
 * non-blocking peek decrypts one without blocking. `from_kernel`: peek even
 * when OpenSSL holds nothing, reading what the kernel has (never
 * blocking: the BIO reads with MSG_DONTWAIT). */
static size_t probe_locked(struct sslsocket *s, int from_kernel)
{
	if (s->state != CORE_ST_ESTABLISHED || !s->ssl)
		return 0;
	int p = SSL_pending(s->ssl);
	if (p > 0 || (!from_kernel && !SSL_has_pending(s->ssl)))
		return p > 0 ? (size_t)p : 0;
	if (s->got_close_notify || s->ragged_eof || s->unwrapping)
		return 0;
	char c;
	size_t got = 0;
	int save = errno;
	ERR_clear_error();
	s->bio_errno = 0;
	int r = SSL_peek_ex(s->ssl, &c, 1, &got);
	if (r != 1) {
		/* Records the outcome (close_notify, ragged EOF, failure) so that
		 * poll reports the socket readable and read returns it. */
		struct sslsocket_error keep = *core_err_slot(s);
		enum core_io_result res = core_ssl_result(s, r, "read");
		if (res == CORE_IO_WANT_READ || res == CORE_IO_WANT_WRITE)
			*core_err_slot(s) = keep;
	}
	errno = save;
	p = SSL_pending(s->ssl);
	return p > 0 ? (size_t)p : 0;
}

static size_t pending_locked(struct sslsocket *s)
{
	return probe_locked(s, 0);
}

int sslsocket_read_ready(sslsocket *s)
{
	core_set_op(SSLSOCKET_PHASE_READ);
	if (!s)
		return 0;
	if (core_lock_entry(s) < 0)
		return 0;
	int ready;
	if (s->state == CORE_ST_FAILED)
		ready = 1;
	else if (s->state != CORE_ST_ESTABLISHED)
		ready = 0;
	else
		ready = probe_locked(s, 1) > 0 || s->got_close_notify || s->ragged_eof ||
		        s->state == CORE_ST_FAILED;
	pthread_mutex_unlock(&s->lock);
	return ready;
}

size_t sslsocket_pending(sslsocket *s)
{
	if (!s)
		return 0;
	if (core_lock_entry(s) < 0)
		return 0;
	size_t n = pending_locked(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

short sslsocket_poll_events(sslsocket *s, short events, short *kernel_events)
{
	core_set_op(SSLSOCKET_PHASE_READ);
	short ready = 0, kev = 0;
	short rw = events & (POLLIN | POLLOUT);
	if (!s) {
		if (kernel_events)
			*kernel_events = events;
		return 0;
	}
	if (core_lock_entry(s) < 0) {
		/* a signal handler interrupted a call on s on this thread:
		 * "ready", so that its next call reports EDEADLK at once */
		if (kernel_events)
			*kernel_events = 0;
		return rw;
	}
	switch (s->state) {
	case CORE_ST_FAILED:
		ready = rw; /* the next call reports the failure */
		break;
	case CORE_ST_UNCONNECTED:
	case CORE_ST_LISTENING:
		kev = events;
		break;
	case CORE_ST_CONNECTING:
		kev = POLLOUT;
		break;
	case CORE_ST_HANDSHAKE:
		kev = s->hs_want ? s->hs_want : POLLOUT;
		break;
	case CORE_ST_ESTABLISHED:
		if (events & POLLIN) {
			if (s->got_close_notify || s->ragged_eof || pending_locked(s) > 0 ||
			    s->state == CORE_ST_FAILED || s->got_close_notify || s->ragged_eof)
				ready |= POLLIN;
			else
				kev |= POLLIN;
		}
		if (events & POLLOUT) {
			if (s->state == CORE_ST_FAILED || s->sent_close_notify || s->write_shut ||
			    s->out_err)
				ready |= POLLOUT; /* write reports the error at once */
			else
				kev |= s->write_want ? s->write_want : POLLOUT;
		}
		/* Queued ciphertext goes out when the kernel has room, whatever
		 * the program waits for (sslsocket_advance sends it); the
		 * program's POLLOUT comes only once it is all out. */
		if (s->olen)
			kev |= POLLOUT;
		/* A queued close_notify or an unwrap in progress needs the kernel
		 * whatever the program waits for; sslsocket_advance moves it. */
		if (s->shut_want && s->state == CORE_ST_ESTABLISHED)
			kev |= s->shut_want;
		break;
	}
	pthread_mutex_unlock(&s->lock);
	if (kernel_events)
		*kernel_events = kev;
	return ready;
}

void sslsocket_settimeout(sslsocket *s, int timeout_ms)
{
	if (s)
		__atomic_store_n(&s->timeout_ms, timeout_ms < 0 ? -1 : timeout_ms, __ATOMIC_RELAXED);
}

int sslsocket_gettimeout(const sslsocket *s)
{
	return s ? core_timeout(s) : -1;
}
