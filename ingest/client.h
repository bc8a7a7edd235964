/*
 * client: the library applications link to send events to the daemon
 * (SPEC.md sections 15 and 16), and the engine of `auditlog send`.
 * Built as libauditlog-client (pkg-config auditlog-client) from client.c,
 * backup.c, json.c, clock.c, tls.c and store/{err,buf,bytes,sign}.c: it
 * needs libssl/libcrypto only, neither LMDB nor zstd.
 *
 * Three layers, each usable alone:
 *  1. Pure functions. alog_client_assign_id gives an event without an
 *     "id" a UUIDv7 before its first send (so a resend is a duplicate,
 *     SPEC.md 10.2); alog_answer_parse/alog_answer_format read and write
 *     the four answer forms of SPEC.md 15.2.
 *  2. A connection (struct alog_client): a Unix socket or HOST:PORT (TCP,
 *     or TLS with a client certificate). alog_client_send does not wait
 *     for the answer, so callers may pipeline up to
 *     ALOG_CLIENT_INFLIGHT_MAX lines; alog_client_recv returns the answers
 *     in send order.
 *  3. A sender (struct alog_sender): lines in, exactly one result per line
 *     out, in input order, through a callback. Sends are pipelined; when
 *     the daemon can't be reached, or the connection breaks, or it answers
 *     "retry later", every event without an acknowledgement goes to the
 *     backup file (SPEC.md 16), fsynced before its result is reported.
 *
 * Every event thus ends acknowledged (stored, duplicate, spooled),
 * rejected with a reason, backed up, or - only without a backup file -
 * failed (retryable; the result says whether it may have been stored).
 *
 * Threads: an object is used by one thread at a time. Signals: plain
 * socket writes use MSG_NOSIGNAL; TLS writes go through OpenSSL, so a
 * program using TLS should ignore SIGPIPE. The library never prints.
 */
#ifndef ALOG_INGEST_CLIENT_H
#define ALOG_INGEST_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/backup.h"
#include "store/buf.h"
#include "store/err.h"

#define ALOG_CLIENT_LINE_MAX 65536       /* = ALOG_EVENT_LINE_MAX */
#define ALOG_CLIENT_ID_MAX 128           /* = ALOG_EVENT_ID_MAX */
/* Bytes an "id" member adds: "id":"<36-byte UUIDv7>", */
#define ALOG_CLIENT_ID_MEMBER_LEN 44
/* Longest answer line accepted from a daemon (without newline). */
#define ALOG_CLIENT_ANSWER_MAX 8192
#define ALOG_CLIENT_CODE_MAX 64          /* bytes of an answer's "code" */
#define ALOG_CLIENT_ERROR_MAX 1024       /* decoded "error" kept (cut) */
/* Lines sent and not yet answered, and their bytes (per connection). */
#define ALOG_CLIENT_INFLIGHT_MAX 1024
#define ALOG_CLIENT_INFLIGHT_BYTES_MAX (4u * 1024 * 1024)
#define ALOG_CLIENT_CONNECT_TIMEOUT_MS 10000

/* ---- 1. ids and answers ------------------------------------------- */

struct alog_client_event {
	int id_added;                    /* 1: a UUIDv7 "id" was inserted */
	char id[ALOG_CLIENT_ID_MAX + 1]; /* the id sent: the inserted one,
					  * or the event's own when it is a
					  * plain string of <= 128 bytes;
					  * else "" */
	const char *code;                /* on failure: the reject name the
					  * daemon would give ("not_json",
					  * "too_long", ...); static */
};

/*
 * Make line (one event, no newline) ready to send: when its top-level
 * object has no "id" member (keys compared decoded, as the daemon does),
 * insert "id":"<UUIDv7 of now_us>" as the first member, right after the
 * '{'; every other byte stays as it was (whitespace included). An event
 * with an "id" is left as is. The result is appended to out.
 *
 * Returns 0, or without touching out:
 *  ALOG_EINVAL  line breaks the JSON rules of SPEC.md 3 (too long, empty,
 *               not JSON, not an object, bad UTF-8, duplicate key, too
 *               deep, ...): it is no event and can't get an id (ev->code
 *               is the reject name the daemon gives it, err says where);
 *  ALOG_ELIMIT  line is a valid object without "id" but has no room for
 *               one: with it the line would be over ALOG_CLIENT_LINE_MAX
 *               bytes ("too_long") or the object over 4096 members
 *               ("too_many_members");
 *  ALOG_ENOMEM, ALOG_ECRYPTO (no random bytes).
 */
int alog_client_assign_id(const char *line, size_t len, int64_t now_us,
			  struct alog_buf *out, struct alog_client_event *ev,
			  struct alog_err *err);

enum alog_answer_kind {
	ALOG_ANSWER_STORED = 1,  /* {"ok":true,"seq":N} */
	ALOG_ANSWER_DUPLICATE,   /* {"ok":true,"duplicate":true,"seq":N} */
	ALOG_ANSWER_SPOOLED,     /* {"ok":true,"spooled":true,"id":"ID"} */
	ALOG_ANSWER_REJECTED,    /* {"ok":false,"code":"C","retry":R,
				  *  "error":"M"} */
};

struct alog_answer {
	enum alog_answer_kind kind;
	uint64_t seq;                         /* STORED, DUPLICATE */
	char id[ALOG_CLIENT_ID_MAX + 1];      /* SPOOLED */
	char code[ALOG_CLIENT_CODE_MAX + 1];  /* REJECTED: [a-z0-9_]+ */
	int retry;                            /* REJECTED */
	char error[ALOG_CLIENT_ERROR_MAX + 1];/* REJECTED, decoded UTF-8, cut
					       * on a character boundary */
};

/* 1 when the answer acknowledges the event (stored, duplicate, spooled). */
int alog_answer_acked(const struct alog_answer *a);

/*
 * Parse one answer line (without newline): exactly one of the four forms
 * of SPEC.md 15.2, members in that order and no others; seq an integer
 * 0..2^53-1; id in the id alphabet; code 1..ALOG_CLIENT_CODE_MAX bytes of
 * [a-z0-9_]; error any JSON string (kept up to ALOG_CLIENT_ERROR_MAX
 * bytes). Anything else is ALOG_ECORRUPT (err says what).
 */
int alog_answer_parse(const char *line, size_t len, struct alog_answer *out,
		      struct alog_err *err);
/* Append a's line (no newline) to out in the same form. ALOG_EINVAL if a
 * breaks the rules above. */
int alog_answer_format(const struct alog_answer *a, struct alog_buf *out,
		       struct alog_err *err);

/* ---- 2. a connection ---------------------------------------------- */

struct alog_client_options {
	const char *socket_path;  /* Unix socket, or NULL */
	const char *connect;      /* "HOST:PORT" or "[IPv6]:PORT", or NULL;
				   * exactly one of socket_path, connect */
	const char *tls_ca;       /* with connect: TLS, the daemon's
				   * certificate must chain to this file
				   * and name HOST (DNS name or IP) */
	const char *tls_cert;     /* our certificate and key (both or none) */
	const char *tls_key;
	int connect_timeout_ms;   /* connect and handshake; 0: default */
};

struct alog_client;

/* Connect (and for TLS, handshake). ALOG_EINVAL for bad options (e.g. a
 * socket path over 107 bytes, a HOST:PORT without port), ALOG_EIO when the
 * daemon can't be reached (err names the address and the reason),
 * ALOG_ECRYPTO for TLS failures (e.g. certificate refused). */
int alog_client_open(const struct alog_client_options *o,
		     struct alog_client **out, struct alog_err *err);
/* Closes; accepts NULL. Answers not received are lost (the events may
 * have been stored). */
void alog_client_close(struct alog_client *c);

/* Queue line (no newline; sent as is, with a newline added) and write
 * what the socket takes without waiting for answers. Blocks only to keep
 * its buffer under ALOG_CLIENT_INFLIGHT_BYTES_MAX. ALOG_ELIMIT when
 * ALOG_CLIENT_INFLIGHT_MAX lines await answers (call alog_client_recv
 * first), ALOG_EINVAL for a line holding a newline byte or over
 * ALOG_CLIENT_LINE_MAX bytes, ALOG_EIO when the connection broke. */
int alog_client_send(struct alog_client *c, const char *line, size_t len,
		     struct alog_err *err);
/* Batch the writes of alog_client_send: from now on it writes only once
 * at least bytes wait to be written (0, the default: at once). Lines that
 * wait are written by alog_client_flush and by every call that waits for
 * or reads answers. A caller that writes many lines at once (a file, a
 * burst) saves the daemon and itself the cost of a system call and a
 * socket buffer a line; it must flush before it waits for anything but
 * answers, or its lines wait too. */
void alog_client_batch(struct alog_client *c, size_t bytes);
/* Write what is queued, as much as the socket takes now, and read the
 * answers there are (alog_client_recv then takes them); never waits.
 * ALOG_EIO when writing failed (the daemon is gone); a daemon that closed
 * its side with nothing left to write shows at the next send. */
int alog_client_flush(struct alog_client *c, struct alog_err *err);
/* alog_client_assign_id then alog_client_send; the event's id (inserted
 * or its own) goes to id (may be NULL). Its failures are those of both. */
int alog_client_send_event(struct alog_client *c, const char *event,
			   size_t len, char id[ALOG_CLIENT_ID_MAX + 1],
			   struct alog_err *err);
/* Lines sent and not yet answered. */
size_t alog_client_inflight(const struct alog_client *c);
/* Wait for the next answer (writing what is queued meanwhile) and parse
 * it. raw (may be NULL) gets the line as received appended. timeout_ms
 * < 0 waits as long as it takes. ALOG_ESTATE when nothing awaits an
 * answer, ALOG_ENOTFOUND at the timeout, ALOG_EIO when the connection
 * closed or broke, ALOG_ECORRUPT for a malformed answer (the line is
 * consumed; answers after it may not match their lines any more). */
int alog_client_recv(struct alog_client *c, int timeout_ms,
		     struct alog_answer *ans, struct alog_buf *raw,
		     struct alog_err *err);

/* ---- 3. a sender with backup fallback ----------------------------- */

enum alog_sent {
	ALOG_SENT_ACKED = 1,  /* stored, duplicate or spooled */
	ALOG_SENT_REJECTED,   /* refused for good, by the daemon (retry
			       * false) or here (not a valid event) */
	ALOG_SENT_BACKED_UP,  /* not delivered; in the backup file, fsynced */
	ALOG_SENT_FAILED,     /* not delivered and no backup file: a retry
			       * answer, or no answer before the connection
			       * broke (the event may be stored: resend it,
			       * its id makes that safe) */
};

struct alog_sender_result {
	uint64_t n;                  /* the line's number, from 0, in
				      * submit order (rejects included) */
	enum alog_sent outcome;
	int local;                   /* 1: the answer was made here */
	const struct alog_answer *answer;
	/* The answer as one JSON line without newline: the daemon's bytes,
	 * or a local answer in the REJECTED form with code "backed_up",
	 * "no_answer", "not_sent", or the reject name of a line that can't
	 * be sent or backed up (SPEC.md 3). */
	const char *answer_line;
	size_t answer_len;
	const char *id;              /* the event's id, "" when none */
	uint64_t backup_line;        /* BACKED_UP: its line, from 1 */
};
/* Results are borrowed for the call. */
typedef void (*alog_sender_fn)(void *ctx, const struct alog_sender_result *r);

struct alog_sender_options {
	struct alog_client_options conn;
	const char *backup_path;     /* NULL: no fallback */
	unsigned inflight_max;       /* 0 or > max: ALOG_CLIENT_INFLIGHT_MAX */
	int answer_timeout_ms;       /* lines await answers and nothing moves
				      * for this long: the connection counts
				      * as broken (0: wait for ever) */
	alog_sender_fn on_result;    /* required */
	void *ctx;
};

struct alog_sender_stats {
	uint64_t submitted;
	uint64_t acked, stored, duplicates, spooled;
	uint64_t rejected, rejected_locally;
	uint64_t backed_up, failed;
	int connected;               /* the daemon was reached at open */
	int fell_back;               /* events go to the backup file now */
	char fall_back_reason[ALOG_ERR_MSG_MAX]; /* why */
	int backup_opened;           /* the backup file was opened */
	struct alog_backup_opened backup;  /* what its open found */
};

struct alog_sender;

/*
 * Connect. o and its strings are borrowed until alog_sender_free (a
 * connection closed by the daemon while idle is opened again with them).
 * When the daemon can't be reached (ALOG_EIO): with a backup_path, open the
 * backup file and go on in fallback mode (every event goes there); without
 * one return the connect error (nothing can be done). Other connect
 * failures (bad options, TLS refused) are returned as they are. Also fails
 * when the backup file can't be opened (ALOG_EBUSY, ALOG_ECORRUPT,
 * ALOG_ESTATE...). With a daemon, the backup file is opened only when
 * first needed. Once events go to the backup file they all do, until
 * free: the sender does not go back to a daemon that failed.
 */
int alog_sender_open(const struct alog_sender_options *o,
		     struct alog_sender **out, struct alog_err *err);
/*
 * Submit one input line (no newline). It gets an id (alog_client_assign_id)
 * and is sent without waiting for earlier answers; results of earlier
 * lines may be reported meanwhile. A line holding a newline byte is
 * rejected here ("not_json": it would be two lines). A line that breaks
 * the JSON rules is sent as is (the daemon rejects it with its reason)
 * or, when it would have to go to the backup file, rejected here with
 * that reason; a line with no room for an id is rejected here (sent
 * without one, a retry would store it twice). Every call reports exactly one
 * result for its line, now or later. Returns 0, or a negative code when
 * the sender can't go on (the backup file failed, or the connection broke
 * and there is no backup file): every line submitted so far, this one
 * included, then already got its result, and later lines get "not_sent".
 */
int alog_sender_submit(struct alog_sender *s, const char *line, size_t len,
		       struct alog_err *err);
/* Report the next line as rejected here without sending it (e.g. a line
 * the caller could not read whole: code "too_long"). code is a reject
 * name, msg a human message. Reports its result even when the sender
 * can't go on (and then returns that failure). */
int alog_sender_reject(struct alog_sender *s, const char *code,
		       const char *msg, struct alog_err *err);
/* Wait until every submitted line has its result (sent and answered, or
 * backed up). Same failures as submit. Call it before free, and when the
 * input would block, so answers are not held back. */
int alog_sender_drain(struct alog_sender *s, struct alog_err *err);
/* Batch writes as alog_client_batch does, on this connection and every
 * later one. With batching on, call alog_sender_flush (or drain) at the
 * end of each burst of lines: lines wait until then, or until bytes of
 * them are queued. */
void alog_sender_batch(struct alog_sender *s, size_t bytes);
/* Write the lines that wait and report the results that came, without
 * waiting. Same failures as submit. */
int alog_sender_flush(struct alog_sender *s, struct alog_err *err);
void alog_sender_stats(const struct alog_sender *s,
		       struct alog_sender_stats *out);
/* Frees; lines without a result are dropped unreported (drain first).
 * Accepts NULL. */
void alog_sender_free(struct alog_sender *s);

#endif
