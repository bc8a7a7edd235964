/*
 * server: the daemon (SPEC.md section 15): Unix socket and TCP/TLS
 * listeners, one I/O thread (epoll, non-blocking sockets, per-connection
 * line framing and answer buffers), one writer thread that owns the
 * store through ingest/log.h and commits in groups, checkpoint cadence,
 * lifecycle events and graceful shutdown.
 *
 * Invariants: an answer is queued to a connection only after the batch
 * holding its line committed; answers go out in input order per
 * connection; every queue is bounded by the limits below.
 */
#ifndef ALOG_INGEST_SERVER_H
#define ALOG_INGEST_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "store/err.h"
#include "ingest/config.h"
#include "store/sign.h"

#define ALOG_SOCKET_PATH_MAX 107
#define ALOG_SERVER_CONNS_MAX 256
#define ALOG_SERVER_INFLIGHT_MAX 4096
#define ALOG_SERVER_INFLIGHT_BYTES_MAX (4u * 1024 * 1024)
#define ALOG_SERVER_OUT_MAX (1u * 1024 * 1024)
#define ALOG_SERVER_IDLE_S 300
#define ALOG_SERVER_CHECKPOINT_S 60
#define ALOG_SERVER_CHECKPOINT_EVENTS 100000
/* Lines in flight over all connections may hold at most this many bytes
 * (with their bookkeeping); past it no connection is read until answers
 * come back. */
#define ALOG_SERVER_QUEUE_BYTES_MAX (64u * 1024 * 1024)
/* At shutdown, what is read from each connection at most (bytes). */
#define ALOG_SERVER_DRAIN_MAX (1u * 1024 * 1024)
/* At shutdown, how long answers may take to reach their clients. */
#define ALOG_SERVER_SHUTDOWN_FLUSH_S 10

struct alog_server_options {
	const char *store_dir;
	const struct alog_signer *signer;  /* the store's signing key */
	const char *socket_path;   /* NULL: <store_dir>/auditlog.sock */
	const char *listen;        /* "HOST:PORT" or NULL */
	const char *tls_cert, *tls_key, *tls_ca; /* all or none */
	unsigned idle_timeout_s;   /* 0: ALOG_SERVER_IDLE_S */
	unsigned checkpoint_s;     /* 0: ALOG_SERVER_CHECKPOINT_S */
	uint64_t checkpoint_events;/* 0: ALOG_SERVER_CHECKPOINT_EVENTS */
	unsigned max_conns;        /* 0: ALOG_SERVER_CONNS_MAX (also the most) */
	const char *version;       /* written in daemon.started; NULL: "" */
	const char *key_path;      /* for the configuration hash only */
	/* Components and the breaker of primary_store (SPEC.md 18); NULL:
	 * the built-in configuration. Copied. */
	const struct alog_config *config;
	const char *config_path;   /* for daemon.started; NULL: built in */
	/* The spool directory (SPEC.md 17.8); NULL: <store_dir>/spool. */
	const char *spool_dir;
	/* Where diagnostics go, one structured line each (SPEC.md 15.6).
	 * The library never prints itself: NULL drops them. */
	void (*log_fn)(void *ctx, const char *line);
	void *log_ctx;
	/* Called once the listeners are ready (tests wait for it). */
	void (*ready_fn)(void *ctx);
	void *ready_ctx;
};

/* Check options that can never work, without touching anything:
 * ALOG_EINVAL (TLS files not all given, TLS without --listen, a --listen
 * that does not parse or, without TLS, is not a loopback address, a zero
 * or too large number) or ALOG_ELIMIT (socket path longer than
 * ALOG_SOCKET_PATH_MAX). alog_server_run checks them too. */
int alog_server_check_options(const struct alog_server_options *o,
			      struct alog_err *err);

/* Run until SIGTERM/SIGINT (which the caller must have blocked in every
 * thread; the server waits for them with signalfd), then shut down as
 * SPEC.md 15.5 says. (No write of the server raises SIGPIPE.)
 * Returns 0 after a clean shutdown; start-up failures (store locked,
 * wrong key, a daemon already answering on the socket, bind) return
 * before anything was accepted. */
int alog_server_run(const struct alog_server_options *o, struct alog_err *err);

#endif
