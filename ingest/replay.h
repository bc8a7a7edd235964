/*
 * replay: import one backup or spool file into the log (SPEC.md 17.9).
 * Used by the daemon for its spool and by `auditlog replay` for files
 * that `send --backup` or applications wrote.
 *
 * A file is first verified whole (SPEC.md 16.1); one that does not verify
 * is refused (ALOG_ECORRUPT naming the line) before anything of it is
 * imported in this run. Then its record lines are judged in chain order,
 * in batches. For the spool, each batch commits with the file's progress
 * (table replays), so a replay started again after a crash or a failed
 * batch goes on after the last committed line: no line is imported twice
 * or lost, and the last batch holds the file's backup.replayed event, so
 * it is written exactly once per file. An import keeps no progress: every
 * imported record has a key (the event's id, or FILE:N), so a second run
 * finds every line a duplicate and records that in its own
 * backup.replayed event.
 *
 * Invariants: nothing is committed except through alog_log_commit with
 * the file's progress staged; the counts after a run are the file's totals
 * over every run (they come from the committed progress).
 */
#ifndef ALOG_INGEST_REPLAY_H
#define ALOG_INGEST_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/event.h"
#include "ingest/log.h"

enum alog_replay_origin {
	ALOG_REPLAY_IMPORT = 0,  /* plain records only; replay's provenance */
	ALOG_REPLAY_SPOOL,       /* the daemon's spool: spool records */
};

/* One line that was not imported as new: a duplicate, a conflict or a
 * refusal (for the caller to print or log). */
struct alog_replay_note {
	uint64_t line;          /* line number in the file, from 1 */
	const char *outcome;    /* "duplicate", "conflict", "refused" */
	const char *code;       /* reject name, "conflict" or NULL */
	const char *msg;        /* why, for people ("" for a duplicate) */
	uint64_t index;         /* duplicate/conflict: the stored index */
};

struct alog_replay_opts {
	enum alog_replay_origin origin;
	/* IMPORT: provenance of the imported records (the replaying
	 * process, transport "replay"). Ignored for SPOOL. */
	const struct alog_provenance *prov;
	/* SPOOL: the value of backup.replayed's "drained" member. */
	int drained;
	/* Events per batch: 0 is ALOG_LOG_BATCH_MAX. */
	size_t batch_max;
	/* Called after each committed batch (may be NULL); a negative
	 * return stops the replay with that code (progress is kept). */
	int (*after_batch)(void *ctx);
	/* Called for each line not imported as new (may be NULL). */
	void (*note)(void *ctx, const struct alog_replay_note *n);
	void *ctx;
};

struct alog_replay_result {
	char file_id[64];       /* the header's file id */
	uint64_t records;       /* record lines in the file */
	uint64_t imported, duplicates, conflicts, refused; /* spool: the
					   file's totals over every run;
					   import: this run's */
	uint64_t run_imported;  /* imported by this call */
	int already_done;       /* every line was done before this call */
	uint64_t bad_line;      /* ALOG_ECORRUPT: the line, from 1 */
	int file_bad;           /* the file (not the store) is corrupt or
				   can't be read */
	uint64_t clamped;       /* spool lines whose received time was
				   raised to a later one the store held */
};

/*
 * Replay the file at path into log (which must have nothing pending).
 * Returns 0 when every line is done (res says how), ALOG_ECORRUPT when
 * the file does not verify (nothing committed by this call), another
 * negative code when the store failed (the log must then be reopened;
 * committed progress stands) or after_batch stopped it.
 */
int alog_replay_file(struct alog_log *log, const char *path,
		     const struct alog_replay_opts *o,
		     struct alog_replay_result *res, struct alog_err *err);

#endif
