/*
 * replay: see replay.h.
 */
#include "ingest/replay.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ingest/backup.h"
#include "ingest/clock.h"
#include "ingest/json.h"
#include "store/buf.h"


struct run {
	struct alog_log *log;
	const struct alog_replay_opts *o;
	const char *path;
	struct alog_replay_result *res;
	struct alog_store_replay prog;   /* committed plus judged */
	size_t in_batch;                 /* lines judged since the commit */
	size_t batch_max;
	int64_t last_received;           /* spool: the latest line's */
	int64_t created_us;              /* the file header's time */
	struct alog_event ev;
	struct alog_err *err;
};

/* Commit what is pending together with the progress so far. */
static int flush(struct run *r)
{
	int rc = 0;

	if (r->o->origin == ALOG_REPLAY_SPOOL)
		rc = alog_log_stage_replay(r->log, r->res->file_id, &r->prog,
					   r->err);
	if (rc == 0)
		rc = alog_log_commit(r->log, r->err);
	if (rc < 0)
		return rc;
	r->in_batch = 0;
	if (r->o->after_batch)
		return r->o->after_batch(r->o->ctx);
	return 0;
}

static void note(struct run *r, uint64_t line, const char *outcome,
		 const char *code, const char *msg, uint64_t index)
{
	struct alog_replay_note n = {
		.line = line + 1, /* chain index n is line n + 1 */
		.outcome = outcome,
		.code = code,
		.msg = msg,
		.index = index,
	};

	if (r->o->note)
		r->o->note(r->o->ctx, &n);
}

static void refuse(struct run *r, uint64_t line, const char *code,
		   const char *msg)
{
	r->prog.refused++;
	note(r, line, "refused", code, msg, 0);
}

/* Judge one record line into the pending batch. */
static int judge(struct run *r, const struct alog_backup_entry *e)
{
	struct alog_provenance prov;
	struct alog_submit sub;
	struct alog_err jerr = { 0 };
	int64_t now_us;
	int trusted = 0, rc;

	if (alog_event_parse(&r->ev, e->event, e->event_len, &jerr) < 0) {
		refuse(r, e->line_no, alog_reject_name(r->ev.reject),
		       jerr.msg);
		return 0;
	}
	if (r->o->origin == ALOG_REPLAY_SPOOL) {
		if (!e->spool) {
			refuse(r, e->line_no, "bad_field",
			       "a plain record in a spool file (spool records carry received, id and provenance)");
			return 0;
		}
		if (e->id_len > ALOG_EVENT_ID_MAX ||
		    (r->ev.id[0] && (strlen(r->ev.id) != e->id_len ||
				     memcmp(r->ev.id, e->id, e->id_len)))) {
			refuse(r, e->line_no, "bad_field",
			       "the spool record's id is not the event's id");
			return 0;
		}
		memcpy(r->ev.id, e->id, e->id_len);
		r->ev.id[e->id_len] = 0;
		memset(&prov, 0, sizeof(prov));
		prov.raw = e->provenance;
		prov.raw_len = e->provenance_len;
		trusted = alog_provenance_is_internal(e->provenance,
						      e->provenance_len) ||
			  alog_log_owner_trusted(&r->ev, &prov);
		now_us = e->received_us;
		if (now_us < alog_log_last_received(r->log))
			r->res->clamped++; /* the store holds a later time */
	} else {
		if (e->spool) {
			refuse(r, e->line_no, "bad_field",
			       "a spool record (its received time, id and provenance are only the daemon's to replay)");
			return 0;
		}
		if (!r->ev.id[0])
			snprintf(r->ev.id, sizeof(r->ev.id), "%s:%" PRIu64,
				 r->res->file_id, e->line_no);
		prov = *r->o->prov;
		now_us = alog_clock_now_us();
	}
	rc = alog_log_submit_parsed(r->log, &r->ev, &prov, now_us, trusted,
				    &sub, &jerr);
	if (rc == ALOG_EINVAL) {   /* the record can't be written */
		refuse(r, e->line_no, "bad_field", jerr.msg);
		return 0;
	}
	if (rc < 0) {
		*r->err = jerr;
		return rc;
	}
	switch (sub.status) {
	case ALOG_SUBMIT_ACCEPTED:
		r->prog.imported++;
		r->res->run_imported++;
		r->in_batch++;
		break;
	case ALOG_SUBMIT_DUPLICATE:
		r->prog.duplicates++;
		note(r, e->line_no, "duplicate", NULL, "", sub.index);
		break;
	default:
		if (sub.code && strcmp(sub.code, "conflict") == 0) {
			r->prog.conflicts++;
			note(r, e->line_no, "conflict", "conflict", jerr.msg,
			     sub.index);
		} else {
			refuse(r, e->line_no, sub.code, jerr.msg);
		}
		break;
	}
	return 0;
}

static int on_entry(void *ctx, const struct alog_backup_entry *e)
{
	struct run *r = ctx;
	int rc;

	if (e->line_no <= r->prog.line)
		return 0; /* done by an earlier run */
	if (e->spool && e->received_us > r->last_received)
		r->last_received = e->received_us;
	if (r->in_batch >= r->batch_max || alog_log_batch_full(r->log)) {
		rc = flush(r);
		if (rc < 0)
			return rc;
	}
	rc = judge(r, e);
	if (rc < 0)
		return rc;
	r->prog.line = e->line_no;
	return 0;
}

/* backup.replayed (SPEC.md 17.9), into the last batch. */
static int add_replayed_event(struct run *r)
{
	struct alog_buf m;
	struct alog_submit sub;
	int rc;

	char at[ALOG_TIME_TEXT_MAX];
	int64_t now = alog_clock_now_us(), received = now;

	/* A spool file's record goes in at the time of its last line, so
	 * that the lines of the files after it keep their received times
	 * (which never decrease); when it was written is replayed_at. */
	if (r->o->origin == ALOG_REPLAY_SPOOL)
		received = r->last_received ? r->last_received :
			   r->created_us; /* a file without records */
	alog_time_format(now, at);
	alog_buf_init(&m, ALOG_EVENT_LINE_MAX);
	rc = alog_buf_addf(&m, r->err, "\"origin\":\"%s\",\"file\":\"%s\",\"path\":",
			   r->o->origin == ALOG_REPLAY_SPOOL ? "spool" : "import",
			   r->res->file_id);
	if (rc == 0)
		rc = alog_json_string_format(&m, r->path, strlen(r->path),
					     r->err);
	if (rc == 0)
		rc = alog_buf_addf(&m, r->err,
				   ",\"records\":%" PRIu64 ",\"imported\":%" PRIu64
				   ",\"duplicates\":%" PRIu64 ",\"conflicts\":%" PRIu64
				   ",\"refused\":%" PRIu64 ",\"drained\":%s"
				   ",\"replayed_at\":\"%s\",\"replayed_at_us\":%" PRId64,
				   r->res->records, r->prog.imported,
				   r->prog.duplicates, r->prog.conflicts,
				   r->prog.refused,
				   r->o->origin == ALOG_REPLAY_SPOOL && r->o->drained ?
				   "true" : "false", at, now);
	if (rc == 0 && alog_log_batch_full(r->log))
		rc = flush(r);
	if (rc == 0)
		rc = alog_log_submit_internal(r->log, "backup.replayed",
					      (const char *)m.data, received,
					      &sub, r->err);
	alog_buf_release(&m);
	return rc;
}

/* Pass 1 keeps the chain index of the last record line. */
static int last_record(void *ctx, const struct alog_backup_entry *e)
{
	*(uint64_t *)ctx = e->line_no;
	return 0;
}

int alog_replay_file(struct alog_log *log, const char *path,
		     const struct alog_replay_opts *o,
		     struct alog_replay_result *res, struct alog_err *err)
{
	struct alog_backup_info info;
	struct run r;
	uint64_t last = 0;
	int rc, found;

	memset(res, 0, sizeof(*res));
	if (alog_log_pending(log) != 0)
		return alog_err_set(err, ALOG_ESTATE,
				    "replay needs a log with nothing pending");
	/* 1. verify the whole file */
	rc = alog_backup_read_entries(path, last_record, &last, &info, err);
	if (rc < 0) {
		/* pass 1 only reads the file: any failure is the file's */
		res->bad_line = info.bad_line;
		res->file_bad = 1;
		return rc;
	}
	snprintf(res->file_id, sizeof(res->file_id), "%s", info.file_id);
	res->records = info.records;
	if (strlen(res->file_id) != ALOG_STORE_REPLAY_KEY_LEN)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "backup file '%s': file id of %zu bytes",
				    path, strlen(res->file_id));

	memset(&r, 0, sizeof(r));
	r.log = log;
	r.o = o;
	r.path = path;
	r.res = res;
	r.err = err;
	r.batch_max = o->batch_max ? o->batch_max : ALOG_LOG_BATCH_MAX;
	r.created_us = info.created_us;
	/* The spool's progress is persisted; an import relies on
	 * deduplication instead, so that each run records what it did. */
	rc = ALOG_ENOTFOUND;
	if (o->origin == ALOG_REPLAY_SPOOL)
		rc = alog_store_replay_get(alog_log_store(log), res->file_id,
					   &r.prog, err);
	found = rc == 0;
	if (rc == ALOG_ENOTFOUND) {
		alog_err_clear(err);
		rc = 0;
	}
	if (rc < 0)
		return rc;
	/* The commit holding backup.replayed records line last + 1: only
	 * that makes a file done (a commit of its last lines alone may come
	 * first, when they filled a batch). */
	if (found && r.prog.line > last) {
		res->already_done = 1;
		goto done;
	}
	/* 2. import from the recorded progress on */
	alog_event_init(&r.ev);
	rc = alog_backup_read_entries(path, on_entry, &r, &info, err);
	if (rc == ALOG_ECORRUPT && info.bad_line)
		res->file_bad = 1; /* changed since the first pass */
	if (rc == 0 && info.records != res->records) {
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "backup file '%s' changed while it was replayed",
				  path);
		res->file_bad = 1;
	}
	/* 3. the record of the replay goes with the last lines */
	if (rc == 0)
		rc = add_replayed_event(&r);
	if (rc == 0) {
		r.prog.line = last + 1;
		rc = flush(&r);
	}
	alog_event_release(&r.ev);
	if (rc < 0) {
		alog_log_discard(log);
		return rc;
	}
done:
	res->imported = r.prog.imported;
	res->duplicates = r.prog.duplicates;
	res->conflicts = r.prog.conflicts;
	res->refused = r.prog.refused;
	return 0;
}
