/*
 * log: the writer's front door (SPEC.md "Ingest", "Deduplication",
 * "Checkpoints"). Turns producers' lines into canonical records and
 * appends them to the store in batches: parse and validate
 * (ingest/event.h), deduplicate by (source, id) against the store and the
 * pending batch, assign index and received time, commit durably in one
 * round of syncs, sign checkpoints and log them as checkpoint.signed
 * events, log open-time recovery as store.recovered.
 *
 * Invariants: a line is acknowledged only by alog_log_commit (or, for a
 * batch in flight, alog_log_commit_wait) returning 0;
 * received times never decrease (a clock that steps back is clamped to the
 * last received time); the pending batch holds at most
 * ALOG_LOG_BATCH_MAX events and ALOG_LOG_BATCH_BYTES_MAX record bytes.
 */
#ifndef ALOG_INGEST_LOG_H
#define ALOG_INGEST_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/event.h"
#include "store/store.h"

#define ALOG_LOG_BATCH_MAX 4096
#define ALOG_LOG_BATCH_BYTES_MAX (8u * 1024 * 1024)
/* The daemon-owned component (SPEC.md 18.4; = ALOG_CONFIG_PRIMARY_STORE):
 * producers' breaker.transition and health.probe events about it are
 * refused as reserved_component. */
#define ALOG_LOG_OWNED_COMPONENT "primary_store"

struct alog_log;

/* Open the store at dir for writing. When open had to cut uncommitted
 * bytes, rec says what and a store.recovered event is committed. */
int alog_log_open(const char *dir, int64_t now_us, struct alog_log **out,
		  struct alog_store_recovery *rec, struct alog_err *err);
/* Close; pending events that were not committed are dropped (they were
 * never acknowledged). */
void alog_log_close(struct alog_log *log);
struct alog_store *alog_log_store(struct alog_log *log);

enum alog_submit_status {
	ALOG_SUBMIT_ACCEPTED = 0,  /* in the pending batch, index assigned */
	ALOG_SUBMIT_DUPLICATE,     /* same (source, id) and event stored */
	ALOG_SUBMIT_REJECTED,      /* invalid, reserved type or conflict */
};

struct alog_submit {
	enum alog_submit_status status;
	uint64_t index;        /* accepted: its index; duplicate: original's */
	const char *code;      /* rejected: reject name, or "conflict" */
	char id[ALOG_EVENT_ID_MAX + 1]; /* the event's id (assigned if absent) */
};

/*
 * Validate one line and add it to the pending batch. trusted = 1 lets the
 * daemon write reserved types. Returns 0 when the line was judged (res
 * says how; err holds the reason for a rejection), a negative code for an
 * operational failure (the line was not judged). ALOG_ELIMIT when the
 * batch is full: commit first.
 */
int alog_log_submit(struct alog_log *log, const char *line, size_t len,
		    const struct alog_provenance *prov, int64_t now_us,
		    int trusted, struct alog_submit *res, struct alog_err *err);
/*
 * The same judgement for an event the caller already parsed with
 * alog_event_parse (which succeeded): reserved type, deduplication,
 * record. Parsing is pure, so another thread may do it; this step must
 * run on the writer. May write ev->id (an id is assigned when absent).
 */
int alog_log_submit_parsed(struct alog_log *log, struct alog_event *ev,
			   const struct alog_provenance *prov, int64_t now_us,
			   int trusted, struct alog_submit *res,
			   struct alog_err *err);
/* The checks of a submit that need no store: a producer's reserved type
 * or daemon-owned component (trusted = 0). Returns 1 and fills res (and
 * err) when ev is refused, else 0. The spool uses it. */
int alog_log_precheck(const struct alog_event *ev, int trusted,
		      struct alog_submit *res, struct alog_err *err);
/* SPEC.md 15.1: 1 when type is one of the reserved types that a peer
 * running as the store's owner may write through the daemon (the records
 * of auditlog's own commands run beside it: report.generated,
 * integrity.verified), else 0. */
int alog_log_owner_type(const char *type);
/* 1 when ev is such a type and prov (its fields, or its raw bytes) names
 * a unix peer whose uid is 0 or this process's effective uid. */
int alog_log_owner_trusted(const struct alog_event *ev,
			   const struct alog_provenance *prov);
size_t alog_log_pending(const struct alog_log *log);
/* 1 when the next submit could exceed a batch limit. */
int alog_log_batch_full(const struct alog_log *log);
/* Make the pending batch durable (after the batch in flight, if any). On
 * failure nothing of it is stored and it stays pending (a retry appends
 * the same records); a batch in flight that failed is reported as below. */
int alog_log_commit(struct alog_log *log, struct alog_err *err);
/*
 * Pipelined commits (auditlog ingest): start making the pending batch
 * durable on a committer thread and return at once, so that the next
 * batch is judged while this one is compressed, written and synced. The
 * next batch's indices follow the one in flight, and its duplicates are
 * judged against it too. At most one batch is in flight: a start first
 * waits for the one before. The store is the committer's meanwhile: every
 * other call of this API that needs the store waits for the batch in
 * flight first (alog_log_store too). Once a log's commits are pipelined,
 * its submits also hash each record's leaf (the commit's threads are the
 * busier ones then).
 *
 * Nothing in flight is acknowledged before alog_log_commit_wait (or a
 * later start or commit) returns 0. When the batch in flight fails,
 * neither it nor the pending batch (judged after it) is stored: both are
 * dropped, and the next call that waits for it returns the failure
 * (once): commit_wait, commit_start, commit, stage_replay, or a submit
 * whose line repeats the id of a stored record (judging reads that
 * record, after the batch in flight).
 */
int alog_log_commit_start(struct alog_log *log, struct alog_err *err);
int alog_log_commit_wait(struct alog_log *log, struct alog_err *err);
/* Events in the batch in flight (0 when none). */
size_t alog_log_in_flight(const struct alog_log *log);
/* Drop the pending batch (its events are not acknowledged). */
void alog_log_discard(struct alog_log *log);

/* Submit and commit one event written by auditlog itself: type with the
 * given JSON members (without braces, may be ""), source "auditlog". */
int alog_log_append_internal(struct alog_log *log, const char *type,
			     const char *members, int64_t now_us,
			     uint64_t *index, struct alog_err *err);

/* The same, into the pending batch without committing. */
int alog_log_submit_internal(struct alog_log *log, const char *type,
			     const char *members, int64_t now_us,
			     struct alog_submit *res, struct alog_err *err);
/* The line of an internal event (type with members, source auditlog)
 * appended to out, and the provenance auditlog's own events carry:
 * transport internal, this process's uid and pid. */
int alog_log_internal_line(struct alog_buf *out, const char *type,
			   const char *members, struct alog_err *err);
void alog_log_internal_provenance(struct alog_provenance *out);

/* Replay progress, committed with the next alog_log_commit (which then
 * commits even with nothing pending): alog_store_replay_stage. */
int alog_log_stage_replay(struct alog_log *log,
			  const char key[ALOG_STORE_REPLAY_KEY_LEN],
			  const struct alog_store_replay *r,
			  struct alog_err *err);
/* The latest received time given (committed or pending). */
int64_t alog_log_last_received(const struct alog_log *log);

/*
 * Commit what is pending, then, unless the latest checkpoint already
 * covers the log (apart from its own checkpoint.signed event), sign a
 * checkpoint of the current tree and append its checkpoint.signed event.
 * out receives the latest checkpoint (caller releases it).
 */
int alog_log_checkpoint(struct alog_log *log, const struct alog_signer *signer,
			int64_t now_us, struct alog_store_checkpoint *out,
			struct alog_err *err);

/* Verification (read-only; SPEC.md "Verification"). */
struct alog_verify_result {
	uint64_t tree_size;
	uint64_t n_checkpoints;
	uint64_t bad_index;   /* UINT64_MAX when not tied to a record */
	int anchored;         /* an anchor checkpoint was checked */
	uint64_t anchor_size;
};
/* Check every record (canonical form, index, received order), the tree,
 * stored nodes and checkpoints against vkey (NULL: the store's own key);
 * with anchor_note, also that the log extends that checkpoint (it must
 * verify with vkey, which is then required). */
int alog_log_verify(const char *dir, const struct alog_verifier *vkey,
		    const char *anchor_note, size_t anchor_len,
		    const struct alog_store_check_progress *progress,
		    struct alog_verify_result *res, struct alog_err *err);

/* alog_store_received_fn over canonical records. */
int alog_log_record_received(const unsigned char *rec, size_t len,
			     int64_t *received_us);

#endif
