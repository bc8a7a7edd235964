/*
 * tls: the OpenSSL TLS adapter (the only file of ingest/ that includes
 * libssl). The daemon's listener requires client certificates that chain
 * to a CA file; the client presents its certificate and checks the
 * daemon's against the same kind of CA file. TLS 1.2 or later.
 *
 * Writes never raise SIGPIPE (the socket is written with MSG_NOSIGNAL).
 *
 * I/O follows non-blocking sockets: read/write/handshake return
 * ALOG_TLS_WANT_READ or ALOG_TLS_WANT_WRITE (positive) when the socket
 * must become readable/writable first; blocking sockets never see them.
 */
#ifndef ALOG_INGEST_TLS_H
#define ALOG_INGEST_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "store/err.h"

#define ALOG_TLS_WANT_READ 1
#define ALOG_TLS_WANT_WRITE 2
#define ALOG_TLS_SUBJECT_MAX 512

struct alog_tls_ctx;
struct alog_tls_conn;

/* Server context: cert/key of the daemon, client certificates required
 * and verified against ca. */
int alog_tls_server_new(const char *cert, const char *key, const char *ca,
			struct alog_tls_ctx **out, struct alog_err *err);
/* Client context: our cert/key (may be NULL: no client certificate),
 * the daemon's certificate verified against ca. */
int alog_tls_client_new(const char *cert, const char *key, const char *ca,
			struct alog_tls_ctx **out, struct alog_err *err);
void alog_tls_ctx_free(struct alog_tls_ctx *c);

/* Wrap a connected socket (the caller keeps owning fd). */
int alog_tls_conn_new(struct alog_tls_ctx *c, int fd, int is_server,
		      struct alog_tls_conn **out, struct alog_err *err);
/* Client only, optional, before the handshake: also require the
 * daemon's certificate to name host (a DNS name, sent as SNI too, or an
 * IP address). Without it any certificate that chains to the CA file is
 * accepted. */
int alog_tls_conn_set_host(struct alog_tls_conn *t, const char *host,
			   struct alog_err *err);
void alog_tls_conn_free(struct alog_tls_conn *t);
/* 0 when done, WANT_* to call again, negative on failure (err says why;
 * ALOG_EVERIFY when the peer certificate was refused). */
int alog_tls_handshake(struct alog_tls_conn *t, struct alog_err *err);
/* Move bytes: returns 0 with the count in *n (a read of *n = 0 means
 * the peer closed: close_notify or a plain EOF), a WANT_* value (*n = 0),
 * or a negative ALOG_E* (err says why). A write may move fewer than len
 * bytes (partial writes); call again with the rest, which may start at a
 * different address. */
int alog_tls_read(struct alog_tls_conn *t, void *buf, size_t cap, size_t *n,
		  struct alog_err *err);
int alog_tls_write(struct alog_tls_conn *t, const void *buf, size_t len,
		   size_t *n, struct alog_err *err);
/* Decrypted bytes already buffered inside the TLS layer (readable with no
 * socket I/O: a readiness loop must not wait for the socket first). */
size_t alog_tls_pending(const struct alog_tls_conn *t);
/* Send close_notify (best effort, one try; the caller then closes fd). */
int alog_tls_close(struct alog_tls_conn *t);
/* Peer certificate subject (RFC 2253, non-ASCII and control bytes
 * escaped as \XX, so plain ASCII) into out; "" when there is none or it
 * does not fit in cap bytes with its NUL. */
void alog_tls_peer_subject(struct alog_tls_conn *t, char *out, size_t cap);

#endif
