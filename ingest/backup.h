/*
 * backup: backup files (SPEC.md section 16): JSONL with a SHA-256 chain,
 * a header line, record lines and an optional seal. Written by `auditlog
 * send --backup` and applications when the daemon can't be reached, and by
 * the daemon's spool; read and verified by replay.
 *
 * Line n (from 0) is  {"chain":"<hex of H(n)>",BODY  + 0x0A  with
 * H(n) = SHA-256(H(n-1) || BODY), H(-1) = 32 zero bytes.
 *
 * Invariants: a writer holds an exclusive flock on its file from open to
 * close; alog_backup_append returns only after the line is fsynced; the
 * chain value kept in the writer is the last line's; the file never holds
 * a line the reader would refuse (every event is checked before it is
 * written, and a failed write is cut off again).
 *
 * A record line is plain, {"chain":..,"event":E}, or a spool record that
 * also keeps what the daemon assigned when it accepted the event,
 * {"chain":..,"event":E,"received":"R","id":"D","provenance":P}. A spool
 * starts up with alog_backup_cut_tail, which reads only the file's tail.
 *
 * Line numbers: messages name lines from 1 (line 1 is the header), as
 * SPEC.md 10.1 numbers input lines; the record callback gets the chain
 * index n (from 0: the header is 0, the first record 1).
 *
 * Self-contained (no other auditlog header but store/err.h) because the
 * client library installs it.
 */
#ifndef ALOG_INGEST_BACKUP_H
#define ALOG_INGEST_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "store/err.h"

/* Bytes in one line without its newline: an event line
 * (ALOG_EVENT_LINE_MAX, 65536) plus 1024 (backup.c checks the sum). */
#define ALOG_BACKUP_LINE_MAX (65536 + 1024)
#define ALOG_BACKUP_MAGIC "auditlog/1"
/* A record line is the event plus this many bytes:
 * {"chain":"<64 hex>","event":  and the closing brace. */
#define ALOG_BACKUP_RECORD_OVERHEAD 85
/* Largest event a record line can hold. */
#define ALOG_BACKUP_EVENT_MAX \
	(ALOG_BACKUP_LINE_MAX - ALOG_BACKUP_RECORD_OVERHEAD)
/* A spool record line is the event, the id and the provenance plus this
 * many bytes: {"chain":"<64 hex>","event":  ,"received":"<27 bytes>",
 * "id":"  ","provenance":  and the closing brace. */
#define ALOG_BACKUP_SPOOL_OVERHEAD 148
/* Bytes of a spool record's id (SPEC.md "Canonical record": the record
 * id, ALOG_EVENT_ID_MAX). */
#define ALOG_BACKUP_ID_MAX 128

struct alog_backup;   /* a writer */

/* Open path for appending: create it with its header (mode 0600, O_EXCL
 * race-free, directory fsynced) or, when it exists, verify its chain and
 * go on from its last line. Refuses a sealed file (ALOG_ESTATE) or a file
 * that does not verify (ALOG_ECORRUPT naming the line). Takes the flock
 * without waiting: ALOG_EBUSY when another writer holds it. now_us is the
 * header's time (and the time of its file id, a UUIDv7).
 *
 * A torn last line (bytes after the last newline, left by a writer that
 * was interrupted inside a write; never reported as backed up, and
 * ignored by every reader) is cut off, fsynced, and reported through
 * alog_backup_opened(); the caller tells the user. A file with no
 * complete line (empty, or a torn header) gets a fresh header. */
int alog_backup_open(const char *path, int64_t now_us,
		     struct alog_backup **out, struct alog_err *err);
/* Append one record line for event and fsync. event is one JSON object
 * (the rules of the JSON scanner: strict RFC 8259, valid UTF-8, no
 * duplicate key, at most 63 levels deep), without a newline byte;
 * whitespace around the object is dropped, the object's bytes are written
 * exactly. ALOG_EINVAL for anything else, ALOG_ELIMIT when the object is
 * longer than ALOG_BACKUP_EVENT_MAX, ALOG_ESTATE after a seal or after an
 * earlier write failure, ALOG_EIO when writing or fsync fails (the file is
 * then cut back to its last good line, and the writer refuses further
 * appends: reopen it). */
int alog_backup_append(struct alog_backup *b, const char *event, size_t len,
		       struct alog_err *err);
/* Append several, with one fsync at the end: all or none (on failure the
 * file is cut back and the error names the event index). */
int alog_backup_append_many(struct alog_backup *b, const char *const *events,
			    const size_t *lens, size_t n,
			    struct alog_err *err);
/* Append the seal line and fsync; no record may follow. */
int alog_backup_seal(struct alog_backup *b, struct alog_err *err);
/* Record lines in the file (those found at open plus those appended). */
uint64_t alog_backup_records(const struct alog_backup *b);
/* Complete lines in the file (header, records, seal): after an append
 * the last record is line alog_backup_lines(b) counting from 1. */
uint64_t alog_backup_lines(const struct alog_backup *b);
/* Bytes of the file's complete lines (its size after the last good
 * line), for a caller that starts a new file past some size. */
uint64_t alog_backup_size(const struct alog_backup *b);

/* What open found, for the caller to report. */
struct alog_backup_opened {
	int created;          /* 1: open wrote a new header */
	uint64_t records;     /* record lines already in the file */
	uint64_t cut_bytes;   /* torn last line cut off (0: none) */
	uint64_t cut_offset;  /* byte offset where it started */
	uint64_t cut_line;    /* its line number, from 1 */
	char file_id[64];     /* the header's "file" */
};
const struct alog_backup_opened *alog_backup_opened(
	const struct alog_backup *b);
/* Closes the file (releasing the flock); accepts NULL. */
void alog_backup_close(struct alog_backup *b);

/* Reading: called for each record line in order with the event bytes (the
 * object, borrowed for the call) and its chain index n (from 0; the first
 * record is 1). A negative return stops the read with that code. */
typedef int (*alog_backup_record_fn)(void *ctx, uint64_t line_no,
				     const char *event, size_t len);
struct alog_backup_info {
	char file_id[64];     /* the header's "file" */
	int64_t created_us;
	uint64_t records;     /* record lines that verified */
	int sealed;
	int torn_tail;        /* a last line without newline was ignored */
	uint64_t lines;       /* complete lines that verified */
	uint64_t torn_offset; /* where the torn tail starts */
	uint64_t torn_bytes;  /* its length */
	uint64_t bad_line;    /* on ALOG_ECORRUPT: the line, from 1 */
};
/* Verify the whole file and report its records. On a chain or format
 * failure returns ALOG_ECORRUPT naming the 1-based line (also in
 * info->bad_line); records before it were already reported to fn (the
 * caller decides what to do with them: replay quarantines the file).
 * A torn tail is not an error: info->torn_tail says it was ignored.
 * Bytes after a seal, even a torn line, are ALOG_ECORRUPT. fn may be
 * NULL; info may be NULL. Missing file: ALOG_ENOTFOUND. */
int alog_backup_read(const char *path, alog_backup_record_fn fn, void *ctx,
		     struct alog_backup_info *info, struct alog_err *err);

/* One record line as read (every pointer borrowed for the callback). A
 * plain record is {"chain":..,"event":E}; a spool record (written by the
 * daemon's spool) also keeps what the daemon assigned when it accepted
 * the event: {"chain":..,"event":E,"received":"R","id":"D",
 * "provenance":P} (SPEC.md 16.1). */
struct alog_backup_entry {
	uint64_t line_no;             /* chain index n (the first record is 1) */
	const char *event;            /* the object's bytes, { .. } */
	size_t event_len;
	int spool;                    /* 1: a spool record; the three below are set */
	const char *received;         /* the string's 27 bytes, without quotes */
	size_t received_len;
	int64_t received_us;          /* parsed */
	const char *id;               /* without quotes */
	size_t id_len;
	const char *provenance;       /* the object's bytes, { .. } */
	size_t provenance_len;
};
/* A negative return stops the read with that code. */
typedef int (*alog_backup_entry_fn)(void *ctx, const struct alog_backup_entry *e);
/* alog_backup_read with the richer callback (alog_backup_read keeps
 * calling its fn with the event bytes for both kinds of record). */
int alog_backup_read_entries(const char *path, alog_backup_entry_fn fn,
			     void *ctx, struct alog_backup_info *info,
			     struct alog_err *err);

/* One spool record to append (borrowed for the call). */
struct alog_backup_spool_rec {
	const char *event;       /* same rules as alog_backup_append's event */
	size_t event_len;
	int64_t received_us;     /* written as R; years 0000..9999 */
	const char *id;          /* NUL-terminated, 1..ALOG_BACKUP_ID_MAX bytes
				  * of 0x21..0x7E but '"' and '\\' */
	const char *provenance;  /* one JSON object, no newline byte (outer
				  * whitespace is dropped, as for the event) */
	size_t provenance_len;
};
/* Append n spool records with one fsync: all or none, exactly like
 * alog_backup_append_many. ALOG_EINVAL naming the index ("event <i>") for
 * a bad event, id, received time or provenance; ALOG_ELIMIT when a line
 * would pass ALOG_BACKUP_LINE_MAX (the whole line counts: event, id and
 * provenance together may take ALOG_BACKUP_LINE_MAX -
 * ALOG_BACKUP_SPOOL_OVERHEAD bytes). Nothing is written on a refusal. */
int alog_backup_append_spool(struct alog_backup *b,
			     const struct alog_backup_spool_rec *recs,
			     size_t n, struct alog_err *err);

/* What alog_backup_cut_tail found. */
struct alog_backup_tail {
	uint64_t size;         /* file size after the cut */
	uint64_t cut_bytes;    /* torn tail cut off (0: none) */
	uint64_t cut_offset;   /* byte offset where it started */
	uint64_t cut_line;     /* always 0: unknown (counting lines would
				* read the whole file) */
	int sealed;            /* the last complete line is a seal line */
};
/* Start-up of a spool: look only at the tail of the file at path. Opens
 * it read-write (ALOG_ENOTFOUND when missing), takes the flock for the
 * call only (ALOG_EBUSY when a writer holds it), reads at most the last
 * ALOG_BACKUP_LINE_MAX + 1 bytes and, when bytes follow the last 0x0A (a
 * torn tail), cuts them (ftruncate, fsync) and reports where. A file
 * with no complete line at all is cut to 0 bytes. ALOG_ECORRUPT when the
 * bytes after the last 0x0A are more than ALOG_BACKUP_LINE_MAX (no 0x0A
 * in the window), or when a torn tail follows a seal line (nothing is
 * cut then). The cost does not depend on the file's size.
 *
 * Checks nothing else: not the chain, not the header, not the lines
 * before the last (replay verifies the whole file). sealed is 1 when the
 * last complete line starts with the chain prefix and is a JSON object
 * whose second member is "seal":true; a last line that does not begin
 * inside the window (longer than the window less the torn tail) is
 * reported as not sealed. */
int alog_backup_cut_tail(const char *path, struct alog_backup_tail *out,
			 struct alog_err *err);

#endif
