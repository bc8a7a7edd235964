/*
 * backup: backup files (SPEC.md section 16): JSONL with a SHA-256 chain,
 * a header line, record lines and an optional seal. Written by `auditlog
 * send --backup` and applications when the daemon can't be reached, and by
 * the daemon's spool; read and verified by replay.
 *
 * Invariants: a writer holds an exclusive flock on its file from open to
 * close; alog_backup_append returns only after the line is fsynced; the
 * chain value kept in the writer is the last line's.
 */
#ifndef ALOG_INGEST_BACKUP_H
#define ALOG_INGEST_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/event.h"
#include "store/err.h"

#define ALOG_BACKUP_LINE_MAX (ALOG_EVENT_LINE_MAX + 1024)
#define ALOG_BACKUP_MAGIC "auditlog/1"

struct alog_backup;   /* a writer */

/* Open path for appending: create it with its header (mode 0600, O_EXCL
 * race-free, directory fsynced) or, when it exists, verify its chain and
 * go on from its last line. Refuses a sealed file or a broken chain
 * (ALOG_ECORRUPT naming the line). Takes the flock without waiting:
 * ALOG_EBUSY when another writer holds it. now_us is the header's time. */
int alog_backup_open(const char *path, int64_t now_us,
		     struct alog_backup **out, struct alog_err *err);
/* Append one record line for event (one JSON object without newline,
 * written byte for byte) and fsync. */
int alog_backup_append(struct alog_backup *b, const char *event, size_t len,
		       struct alog_err *err);
/* Append several, with one fsync at the end. */
int alog_backup_append_many(struct alog_backup *b, const char *const *events,
			    const size_t *lens, size_t n,
			    struct alog_err *err);
/* Append the seal line and fsync; no record may follow. */
int alog_backup_seal(struct alog_backup *b, struct alog_err *err);
uint64_t alog_backup_records(const struct alog_backup *b);
void alog_backup_close(struct alog_backup *b);

/* Reading: called for each record line in order with the event bytes
 * (borrowed for the call) and its 0-based line number. */
typedef int (*alog_backup_record_fn)(void *ctx, uint64_t line_no,
				     const char *event, size_t len);
struct alog_backup_info {
	char file_id[64];     /* the header's "file" */
	int64_t created_us;
	uint64_t records;     /* record lines that verified */
	int sealed;
	int torn_tail;        /* a last line without newline was ignored */
};
/* Verify the whole file and report its records. On a chain or format
 * failure returns ALOG_ECORRUPT naming the 1-based line; records before it
 * were already reported to fn (the caller decides what to do with them:
 * replay quarantines the file). */
int alog_backup_read(const char *path, alog_backup_record_fn fn, void *ctx,
		     struct alog_backup_info *info, struct alog_err *err);

#endif
