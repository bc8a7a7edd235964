/*
 * tls: see tls.h. The only file of ingest/ that includes libssl; every
 * OpenSSL failure is translated here, once, into an alog_err whose
 * message carries the reason from OpenSSL's error queue (or the X.509
 * verification result when a certificate was refused).
 *
 * Both sides: TLS 1.2 or later, renegotiation off, partial writes on
 * (non-blocking callers retry with the rest), an EOF without close_notify
 * reads as a plain EOF (the protocol above is line framed: a truncated
 * stream loses only a partial line, which is never judged). The server
 * keeps no session cache and sends no tickets, so every connection
 * presents and verifies a client certificate.
 *
 * The socket is driven through our own small BIO (recv, and send with
 * MSG_NOSIGNAL), not OpenSSL's socket BIO, whose plain send() raises
 * SIGPIPE when the peer has gone: a library must not kill the process
 * that links it.
 */
#include "ingest/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct alog_tls_ctx {
	SSL_CTX *ssl;
	int is_server;
};

struct alog_tls_conn {
	SSL *ssl;
	int is_server;
};

/* ---- the socket BIO -------------------------------------------------- */

static BIO_METHOD *sock_method;
static pthread_once_t sock_once = PTHREAD_ONCE_INIT;

static int sock_fd(BIO *b)
{
	return (int)(intptr_t)BIO_get_data(b);
}

static int sock_write(BIO *b, const char *in, int n)
{
	ssize_t r;

	BIO_clear_retry_flags(b);
	do
		r = send(sock_fd(b), in, (size_t)n, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_write(b);
	return (int)r;
}

static int sock_read(BIO *b, char *out, int n)
{
	ssize_t r;

	BIO_clear_retry_flags(b);
	do
		r = recv(sock_fd(b), out, (size_t)n, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_read(b);
	return (int)r;
}

static int sock_puts(BIO *b, const char *str)
{
	return sock_write(b, str, (int)strlen(str));
}

static long sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	switch (cmd) {
	case BIO_C_SET_FD:
		BIO_set_data(b, (void *)(intptr_t)*(int *)ptr);
		BIO_set_shutdown(b, (int)num);
		BIO_set_init(b, 1);
		return 1;
	case BIO_C_GET_FD:
		if (!BIO_get_init(b))
			return -1;
		if (ptr)
			*(int *)ptr = sock_fd(b);
		return sock_fd(b);
	case BIO_CTRL_GET_CLOSE:
		return BIO_get_shutdown(b);
	case BIO_CTRL_SET_CLOSE:
		BIO_set_shutdown(b, (int)num);
		return 1;
	case BIO_CTRL_DUP:
	case BIO_CTRL_FLUSH:
		return 1;
	default:
		return 0;
	}
}

static int sock_create(BIO *b)
{
	BIO_set_data(b, (void *)(intptr_t)-1);
	BIO_set_init(b, 0);
	return 1;
}

static int sock_destroy(BIO *b)
{
	return b != NULL; /* the caller owns the descriptor */
}

static void sock_method_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK |
				     BIO_TYPE_DESCRIPTOR, "alog socket");

	if (m && BIO_meth_set_write(m, sock_write) &&
	    BIO_meth_set_read(m, sock_read) && BIO_meth_set_puts(m, sock_puts) &&
	    BIO_meth_set_ctrl(m, sock_ctrl) &&
	    BIO_meth_set_create(m, sock_create) &&
	    BIO_meth_set_destroy(m, sock_destroy)) {
		sock_method = m; /* lives as long as the process */
		return;
	}
	BIO_meth_free(m);
}

/* The reason of the most recent error in this thread's OpenSSL queue
 * (then the queue is emptied), or fallback. */
static void ssl_reason(char *out, size_t cap, const char *fallback)
{
	unsigned long e, last = 0;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last)
		ERR_error_string_n(last, out, cap);
	else
		snprintf(out, cap, "%s", fallback);
}

static int ssl_fail(struct alog_err *err, const char *what, const char *path)
{
	char why[256];

	ssl_reason(why, sizeof(why), "unknown tls error");
	if (path)
		return alog_err_set(err, ALOG_ECRYPTO, "%s '%s': %s", what,
				    path, why);
	return alog_err_set(err, ALOG_ECRYPTO, "%s: %s", what, why);
}

static int ctx_new(int is_server, const char *cert, const char *key,
		   const char *ca, struct alog_tls_ctx **out,
		   struct alog_err *err)
{
	struct alog_tls_ctx *c;
	int rc = 0;

	*out = NULL;
	ERR_clear_error();
	c = calloc(1, sizeof(*c));
	if (!c)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	c->is_server = is_server;
	c->ssl = SSL_CTX_new(is_server ? TLS_server_method()
				       : TLS_client_method());
	if (!c->ssl) {
		rc = ssl_fail(err, "tls context", NULL);
		goto out;
	}
	if (!SSL_CTX_set_min_proto_version(c->ssl, TLS1_2_VERSION)) {
		rc = ssl_fail(err, "tls minimum version", NULL);
		goto out;
	}
	SSL_CTX_set_options(c->ssl, SSL_OP_NO_RENEGOTIATION |
				    SSL_OP_IGNORE_UNEXPECTED_EOF |
				    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
				 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if ((cert == NULL) != (key == NULL)) {
		rc = alog_err_set(err, ALOG_EINVAL,
				  "a tls certificate needs its key and a key its certificate");
		goto out;
	}
	if (cert) {
		if (SSL_CTX_use_certificate_chain_file(c->ssl, cert) != 1) {
			rc = ssl_fail(err, "tls certificate", cert);
			goto out;
		}
		if (SSL_CTX_use_PrivateKey_file(c->ssl, key,
						SSL_FILETYPE_PEM) != 1) {
			rc = ssl_fail(err, "tls key", key);
			goto out;
		}
		if (SSL_CTX_check_private_key(c->ssl) != 1) {
			rc = ssl_fail(err, "tls key does not match the certificate",
				      key);
			goto out;
		}
	}
	if (!ca) {
		rc = alog_err_set(err, ALOG_EINVAL,
				  "tls needs a CA file to verify the peer");
		goto out;
	}
	if (SSL_CTX_load_verify_locations(c->ssl, ca, NULL) != 1) {
		rc = ssl_fail(err, "tls CA file", ca);
		goto out;
	}
	if (is_server) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);

		if (!names) {
			rc = ssl_fail(err, "tls CA file (no certificate in it)",
				      ca);
			goto out;
		}
		SSL_CTX_set_client_CA_list(c->ssl, names); /* takes names */
		SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER |
				   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		SSL_CTX_set_session_cache_mode(c->ssl, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_num_tickets(c->ssl, 0);
		SSL_CTX_set_options(c->ssl, SSL_OP_NO_TICKET |
				    SSL_OP_CIPHER_SERVER_PREFERENCE);
	} else {
		SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
	}
	*out = c;
	c = NULL;
out:
	alog_tls_ctx_free(c);
	ERR_clear_error();
	return rc;
}

int alog_tls_server_new(const char *cert, const char *key, const char *ca,
			struct alog_tls_ctx **out, struct alog_err *err)
{
	if (!cert || !key)
		return alog_err_set(err, ALOG_EINVAL,
				    "a tls server needs a certificate and its key");
	return ctx_new(1, cert, key, ca, out, err);
}

int alog_tls_client_new(const char *cert, const char *key, const char *ca,
			struct alog_tls_ctx **out, struct alog_err *err)
{
	return ctx_new(0, cert, key, ca, out, err);
}

void alog_tls_ctx_free(struct alog_tls_ctx *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ssl);
	free(c);
}

int alog_tls_conn_new(struct alog_tls_ctx *c, int fd, int is_server,
		      struct alog_tls_conn **out, struct alog_err *err)
{
	struct alog_tls_conn *t;
	BIO *bio;

	*out = NULL;
	ERR_clear_error();
	if (is_server != c->is_server)
		return alog_err_set(err, ALOG_EINVAL,
				    "tls %s connection on a %s context",
				    is_server ? "server" : "client",
				    c->is_server ? "server" : "client");
	t = calloc(1, sizeof(*t));
	if (!t)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	t->is_server = is_server;
	pthread_once(&sock_once, sock_method_init);
	t->ssl = SSL_new(c->ssl);
	bio = sock_method ? BIO_new(sock_method) : NULL;
	if (!t->ssl || !bio) {
		int rc = ssl_fail(err, "tls connection", NULL);

		BIO_free(bio);
		alog_tls_conn_free(t);
		return rc;
	}
	BIO_set_fd(bio, fd, BIO_NOCLOSE);
	SSL_set_bio(t->ssl, bio, bio); /* the SSL object owns bio now */
	if (is_server)
		SSL_set_accept_state(t->ssl);
	else
		SSL_set_connect_state(t->ssl);
	*out = t;
	return 0;
}

int alog_tls_conn_set_host(struct alog_tls_conn *t, const char *host,
			   struct alog_err *err)
{
	unsigned char ip[16];
	int is_ip;

	ERR_clear_error();
	if (t->is_server)
		return alog_err_set(err, ALOG_EINVAL,
				    "tls: only a client checks the peer's name");
	is_ip = inet_pton(AF_INET, host, ip) == 1 ||
		inet_pton(AF_INET6, host, ip) == 1;
	if (is_ip) {
		X509_VERIFY_PARAM *p = SSL_get0_param(t->ssl);

		if (X509_VERIFY_PARAM_set1_ip_asc(p, host) != 1)
			return ssl_fail(err, "tls peer address", host);
		return 0;
	}
	/* SNI carries DNS names only (RFC 6066 section 3). */
	if (SSL_set_tlsext_host_name(t->ssl, host) != 1 ||
	    SSL_set1_host(t->ssl, host) != 1)
		return ssl_fail(err, "tls peer name", host);
	return 0;
}

void alog_tls_conn_free(struct alog_tls_conn *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	free(t);
}

/* Translate the outcome of an SSL_* I/O call that returned ret. */
static int io_result(struct alog_tls_conn *t, int ret, const char *what,
		     struct alog_err *err)
{
	int e = SSL_get_error(t->ssl, ret);
	int saved = errno;
	char why[256];

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return ALOG_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return ALOG_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		return alog_err_set(err, ALOG_EIO, "tls %s: the peer closed the connection",
				    what);
	case SSL_ERROR_SYSCALL:
		ssl_reason(why, sizeof(why), saved ? strerror(saved)
						   : "the peer closed the connection");
		return alog_err_sys(err, ALOG_EIO, saved, "tls %s: %s", what,
				    why);
	default:
		break;
	}
	if (SSL_get_verify_result(t->ssl) != X509_V_OK) {
		long v = SSL_get_verify_result(t->ssl);

		ERR_clear_error();
		return alog_err_set(err, ALOG_EVERIFY,
				    "tls %s: the %s certificate was refused: %s",
				    what, t->is_server ? "client" : "server",
				    X509_verify_cert_error_string(v));
	}
	ssl_reason(why, sizeof(why), "tls protocol error");
	return alog_err_set(err, ALOG_ECRYPTO, "tls %s: %s", what, why);
}

int alog_tls_handshake(struct alog_tls_conn *t, struct alog_err *err)
{
	int ret;

	ERR_clear_error();
	errno = 0;
	ret = SSL_do_handshake(t->ssl);
	if (ret == 1)
		return 0;
	return io_result(t, ret, "handshake", err);
}

int alog_tls_read(struct alog_tls_conn *t, void *buf, size_t cap, size_t *n,
		  struct alog_err *err)
{
	int rc;

	*n = 0;
	ERR_clear_error();
	errno = 0;
	if (SSL_read_ex(t->ssl, buf, cap, n) == 1)
		return 0;
	if (SSL_get_error(t->ssl, 0) == SSL_ERROR_ZERO_RETURN) {
		*n = 0; /* clean close (or EOF without close_notify) */
		ERR_clear_error();
		return 0;
	}
	rc = io_result(t, 0, "read", err);
	*n = 0;
	return rc;
}

int alog_tls_write(struct alog_tls_conn *t, const void *buf, size_t len,
		   size_t *n, struct alog_err *err)
{
	*n = 0;
	if (len == 0)
		return 0;
	ERR_clear_error();
	errno = 0;
	if (SSL_write_ex(t->ssl, buf, len, n) == 1)
		return 0;
	*n = 0;
	return io_result(t, 0, "write", err);
}

int alog_tls_close(struct alog_tls_conn *t)
{
	int ret;

	ERR_clear_error();
	ret = SSL_shutdown(t->ssl);
	ERR_clear_error();
	return ret < 0 ? -1 : 0;
}

size_t alog_tls_pending(const struct alog_tls_conn *t)
{
	int n = SSL_pending(t->ssl);

	return n > 0 ? (size_t)n : 0;
}

void alog_tls_peer_subject(struct alog_tls_conn *t, char *out, size_t cap)
{
	X509 *x;
	BIO *b = NULL;
	char *p;
	long len;

	if (cap == 0)
		return;
	out[0] = 0;
	x = SSL_get0_peer_certificate(t->ssl);
	if (!x)
		return;
	b = BIO_new(BIO_s_mem());
	/* RFC 2253 form; XN_FLAG_RFC2253 escapes control and non-ASCII
	 * bytes (\XX), so the text is plain ASCII. */
	if (b && X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
				    XN_FLAG_RFC2253) >= 0) {
		len = BIO_get_mem_data(b, &p);
		if (len > 0 && (size_t)len < cap) {
			memcpy(out, p, (size_t)len);
			out[len] = 0;
		}
	}
	BIO_free(b);
	ERR_clear_error();
}
