/*
 * spool: the daemon's spool directory (SPEC.md 17.8): backup files of
 * spool records named SSSSSSSSSSSSSSSS.spool (a growing sequence number
 * in 16 lowercase hex digits) and a quarantine/ subdirectory. One file at
 * a time is open for appending (the current one); the others wait for
 * replay, oldest first.
 *
 * Invariants: sequence numbers only grow (a new file always gets a number
 * above every file seen); a file leaves the spool only by
 * alog_spool_remove (after its replay committed) or alog_spool_quarantine;
 * start-up reads only the newest file's tail (alog_backup_cut_tail), and
 * never appends to a file that existed before it.
 */
#ifndef ALOG_INGEST_SPOOL_H
#define ALOG_INGEST_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/backup.h"
#include "store/err.h"

/* A spool file is sealed and a new one started at this size (bytes). */
#define ALOG_SPOOL_FILE_MAX (64u * 1024 * 1024)
/* Bytes of a spool file's path (the directory's included). */
#define ALOG_SPOOL_PATH_MAX 4096

struct alog_spool;

/* What open found (for the daemon to report). */
struct alog_spool_start {
	uint64_t files;        /* spool files waiting for replay */
	uint64_t cut_bytes;    /* torn tail cut off the newest file */
	uint64_t cut_offset;
	char cut_file[ALOG_SPOOL_PATH_MAX]; /* "" when nothing was cut */
	/* The newest file's tail is not a torn line (bytes after a seal, a
	 * line past the limit): nothing was cut, replay will quarantine it.
	 * "" when not so. */
	char corrupt_file[ALOG_SPOOL_PATH_MAX];
	char corrupt_msg[ALOG_ERR_MSG_MAX];
};

/* Open (creating it mode 0700 when missing, with quarantine/, both made
 * durable in their parents) the spool directory dir, and flock it for
 * the spool's life (ALOG_EBUSY: another daemon uses it). */
int alog_spool_open(const char *dir, struct alog_spool **out,
		    struct alog_spool_start *st, struct alog_err *err);
/* Spool files in dir (0 when it does not exist), without opening or
 * changing anything. */
size_t alog_spool_peek(const char *dir);
/* Seals the current file (when there is one) and frees sp; accepts NULL.
 * A seal that fails leaves the file unsealed, which replay accepts. */
void alog_spool_close(struct alog_spool *sp);

const char *alog_spool_dir(const struct alog_spool *sp);
/* Spool files (the current one included). 0: the spool is drained. */
size_t alog_spool_count(const struct alog_spool *sp);
/* 1 when a current file is open. */
int alog_spool_has_current(const struct alog_spool *sp);
/* The file id of the current file ("" when none). */
const char *alog_spool_current_id(const struct alog_spool *sp);

/* Make sure a current file is open (starting one, or a new one when the
 * current one reached ALOG_SPOOL_FILE_MAX), so that its id is known. */
int alog_spool_begin(struct alog_spool *sp, int64_t now_us,
		     struct alog_err *err);
/* Append n spool records with one fsync, to the current file (a new one
 * is started when there is none or the current one reached
 * ALOG_SPOOL_FILE_MAX). All or none, as alog_backup_append_spool. */
int alog_spool_append(struct alog_spool *sp,
		      const struct alog_backup_spool_rec *recs, size_t n,
		      int64_t now_us, struct alog_err *err);
/* Seal and close the current file (no-op without one). */
int alog_spool_seal(struct alog_spool *sp, struct alog_err *err);

/* Path of the oldest file that is not the current one, into path (cap
 * bytes). ALOG_ENOTFOUND when there is none. */
int alog_spool_oldest(const struct alog_spool *sp, char *path, size_t cap,
		      struct alog_err *err);
/* 1 when the oldest file is the only file and there is no current one:
 * replaying it drains the spool. */
int alog_spool_last(const struct alog_spool *sp);
/* Forget the oldest file without touching it (it disappeared). */
void alog_spool_forget_oldest(struct alog_spool *sp);
/* Delete the oldest file (after its replay committed); fsyncs the
 * directory. */
int alog_spool_remove_oldest(struct alog_spool *sp, struct alog_err *err);
/* Move the oldest file to quarantine/ and write NAME.reason beside it
 * (reason: one line); fsyncs both directories. */
int alog_spool_quarantine_oldest(struct alog_spool *sp, const char *reason,
				 struct alog_err *err);

#endif
