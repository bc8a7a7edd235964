/*
 * test_replay: the replay engine (ingest/replay.h), SPEC.md 17.9, with
 * the store's replay progress (table replays, SPEC.md 7) and the record
 * lines of backup files (16.1, 16.4).
 *
 * Each test makes a store, writes a backup or spool file with the
 * backup writer (ingest/backup.h), replays it through alog_replay_file
 * and reads back what was stored through alog_store_get. Expected
 * canonical records are written out here as text from SPEC.md section 3
 * "Canonical record" (times computed with Python's datetime: V-TIME-9 and
 * the seconds after it), never produced by the code under test.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "ingest/backup.h"
#include "ingest/clock.h"
#include "ingest/event.h"
#include "ingest/log.h"
#include "ingest/replay.h"
#include "store/buf.h"
#include "store/sign.h"
#include "store/store.h"
#include "testutil.h"

#define ORIGIN "example.com/audit"
#define T0 INT64_C(1700000000000000)
/* V-TIME-9 and whole seconds after it (Python datetime):
 * TR + k s = 2023-11-14T22:13:2k.123456Z */
#define TR INT64_C(1700000000123456)
#define SEC INT64_C(1000000)
#define TR_TEXT(k) "2023-11-14T22:13:2" #k ".123456Z"

#define PROV_UNIX "{\"transport\":\"unix\",\"uid\":1000,\"gid\":100,\"pid\":4242}"
#define PROV_TLS "{\"transport\":\"tls\",\"addr\":\"[2001:db8::1]:6514\",\"subject\":\"CN=p1\"}"
#define PROV_INTERNAL "{\"transport\":\"internal\",\"uid\":0,\"pid\":7}"
#define PROV_REPLAY "{\"transport\":\"replay\",\"uid\":1001,\"gid\":1002,\"pid\":1003}"

static const struct alog_provenance replay_prov = {
	.transport = "replay", .uid = 1001, .gid = 1002, .pid = 1003,
};

struct fx {
	char *tmp;
	char dir[4096];
	char file[4096];   /* the backup file of the test */
	struct alog_log *log;
};

#define NOTES_MAX 32
struct seen_note {
	uint64_t line;
	char outcome[16];
	char code[32];
	char msg[256];
	uint64_t index;
};

/* ctx of the replay callbacks */
struct ctx {
	struct fx *f;
	struct seen_note notes[NOTES_MAX];
	size_t n_notes;
	int batches;        /* after_batch calls */
	int fail_sync_at;   /* arm a failing sync at this call (0: never) */
	int stop_at;        /* return stop_rc at this call (0: never) */
	int stop_rc;
};

static void fail_with(const char *what, int rc, const struct alog_err *err)
{
	fail_msg("%s: rc %d (%s): %s", what, rc, alog_err_name(rc), err->msg);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct alog_signer *signer = NULL;
	struct alog_verifier vkey;
	struct alog_err err = { 0 };

	if (!f)
		return -1;
	f->tmp = testutil_tmpdir();
	snprintf(f->dir, sizeof(f->dir), "%s/store", f->tmp);
	snprintf(f->file, sizeof(f->file), "%s/backup.jsonl", f->tmp);
	if (alog_signer_generate("example.com/audit-key", &signer, NULL) < 0)
		return -1;
	alog_signer_verifier(signer, &vkey);
	if (alog_store_create(f->dir, ORIGIN, &vkey, NULL, &err) < 0 ||
	    alog_log_open(f->dir, T0, &f->log, NULL, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err.msg);
		alog_signer_free(signer);
		testutil_rmtree(f->tmp);
		free(f->tmp);
		free(f);
		return -1;
	}
	alog_signer_free(signer);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	alog_log_close(f->log);
	testutil_rmtree(f->tmp);
	free(f->tmp);
	free(f);
	return 0;
}

static void reopen_log(struct fx *f)
{
	struct alog_err err = { 0 };
	int rc;

	alog_log_close(f->log);
	f->log = NULL;
	rc = alog_log_open(f->dir, T0, &f->log, NULL, &err);
	if (rc < 0)
		fail_with("log open", rc, &err);
}

static struct alog_store *store_of(struct fx *f)
{
	return alog_log_store(f->log);
}

/* ---- writing backup files ------------------------------------------- */

static struct alog_backup_spool_rec srec(const char *event, int64_t received,
					 const char *id, const char *prov)
{
	struct alog_backup_spool_rec r = {
		.event = event, .event_len = strlen(event),
		.received_us = received, .id = id,
		.provenance = prov, .provenance_len = strlen(prov),
	};
	return r;
}

/* A spool file at path holding recs (sealed when seal); its id into fid. */
static void write_spool(const char *path, int64_t created,
			const struct alog_backup_spool_rec *recs, size_t n,
			int seal, char fid[64])
{
	struct alog_backup *b = NULL;
	struct alog_err err = { 0 };
	int rc;

	rc = alog_backup_open(path, created, &b, &err);
	if (rc < 0)
		fail_with("backup open", rc, &err);
	if (n) {
		rc = alog_backup_append_spool(b, recs, n, &err);
		if (rc < 0)
			fail_with("append spool", rc, &err);
	}
	if (seal && (rc = alog_backup_seal(b, &err)) < 0)
		fail_with("seal", rc, &err);
	if (fid)
		snprintf(fid, 64, "%s", alog_backup_opened(b)->file_id);
	alog_backup_close(b);
}

static void append_plain(struct alog_backup *b, const char *event)
{
	struct alog_err err = { 0 };
	int rc = alog_backup_append(b, event, strlen(event), &err);

	if (rc < 0)
		fail_with("backup append", rc, &err);
}

/* A plain backup file of n events (sealed when seal). */
static void write_plain(const char *path, const char *const *events, size_t n,
			int seal, char fid[64])
{
	struct alog_backup *b = NULL;
	struct alog_err err = { 0 };
	int rc;

	rc = alog_backup_open(path, T0, &b, &err);
	if (rc < 0)
		fail_with("backup open", rc, &err);
	for (size_t i = 0; i < n; i++)
		append_plain(b, events[i]);
	if (seal && (rc = alog_backup_seal(b, &err)) < 0)
		fail_with("seal", rc, &err);
	if (fid)
		snprintf(fid, 64, "%s", alog_backup_opened(b)->file_id);
	alog_backup_close(b);
}

/* ---- replaying ------------------------------------------------------- */

static void on_note(void *p, const struct alog_replay_note *n)
{
	struct ctx *c = p;
	struct seen_note *s;

	assert_true(c->n_notes < NOTES_MAX);
	s = &c->notes[c->n_notes++];
	s->line = n->line;
	snprintf(s->outcome, sizeof(s->outcome), "%s", n->outcome);
	snprintf(s->code, sizeof(s->code), "%s", n->code ? n->code : "");
	snprintf(s->msg, sizeof(s->msg), "%s", n->msg ? n->msg : "");
	s->index = n->index;
}

static int on_batch(void *p)
{
	struct ctx *c = p;

	c->batches++;
	if (c->batches == c->fail_sync_at)
		alog_store_test_fail_next_sync(store_of(c->f));
	if (c->batches == c->stop_at)
		return c->stop_rc;
	return 0;
}

static int replay(struct fx *f, enum alog_replay_origin origin, size_t batch,
		  struct ctx *c, struct alog_replay_result *res,
		  struct alog_err *err)
{
	struct alog_replay_opts o = {
		.origin = origin,
		.prov = &replay_prov,
		.drained = 1,
		.batch_max = batch,
		.after_batch = on_batch,
		.note = on_note,
		.ctx = c,
	};

	c->f = f;
	c->n_notes = 0;
	alog_err_clear(err);
	return alog_replay_file(f->log, f->file, &o, res, err);
}

static void replay_ok(struct fx *f, enum alog_replay_origin origin,
		      size_t batch, struct ctx *c,
		      struct alog_replay_result *res)
{
	struct alog_err err;
	int rc = replay(f, origin, batch, c, res, &err);

	if (rc < 0)
		fail_with("replay", rc, &err);
}

/* ---- reading the store ----------------------------------------------- */

static uint64_t size_of(struct fx *f)
{
	return alog_store_size(store_of(f));
}

/* Record index as a NUL-terminated malloc'd string. */
static char *rec_text(struct fx *f, uint64_t index)
{
	struct alog_buf b;
	struct alog_err err = { 0 };
	char *s;
	int rc;

	alog_buf_init(&b, 0);
	rc = alog_store_get(store_of(f), index, &b, &err);
	if (rc < 0)
		fail_with("store get", rc, &err);
	s = strndup((const char *)b.data, b.len);
	assert_non_null(s);
	alog_buf_release(&b);
	return s;
}

static void assert_record(struct fx *f, uint64_t index, const char *want)
{
	char *got = rec_text(f, index);

	if (strcmp(got, want) != 0)
		fail_msg("record %" PRIu64 ":\n got  %s\n want %s", index, got,
			 want);
	free(got);
}

/* The record's parts: its event parsed (cJSON_Delete it), id, received. */
static cJSON *rec_event(struct fx *f, uint64_t index, char id[160],
			int64_t *received)
{
	struct alog_record_view v;
	struct alog_err err = { 0 };
	char *s = rec_text(f, index);
	cJSON *j;
	int rc;

	rc = alog_record_parse(s, strlen(s), &v, &err);
	if (rc < 0)
		fail_with("record parse", rc, &err);
	if (id)
		snprintf(id, 160, "%.*s", (int)v.id_len, v.id);
	if (received)
		*received = v.received_us;
	j = cJSON_ParseWithLength(v.event, v.event_len);
	assert_non_null(j);
	free(s);
	return j;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_true(cJSON_IsString(m));
	return m->valuestring;
}

static int64_t jint(const cJSON *o, const char *k)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_true(cJSON_IsNumber(m));
	return (int64_t)m->valuedouble;
}

/* Index of every record whose event type is type, in index order;
 * returns how many (at most cap in out). */
static size_t find_type(struct fx *f, const char *type, uint64_t *out,
			size_t cap)
{
	size_t n = 0;

	for (uint64_t i = 0; i < size_of(f); i++) {
		cJSON *e = rec_event(f, i, NULL, NULL);

		if (strcmp(jstr(e, "type"), type) == 0) {
			if (n < cap)
				out[n] = i;
			n++;
		}
		cJSON_Delete(e);
	}
	return n;
}

/* How many records have record id id. */
static size_t count_id(struct fx *f, const char *id)
{
	size_t n = 0;
	char got[160];

	for (uint64_t i = 0; i < size_of(f); i++) {
		cJSON_Delete(rec_event(f, i, got, NULL));
		n += strcmp(got, id) == 0;
	}
	return n;
}

/* backup.replayed at index: every member of SPEC.md 17.9 checked. */
static void assert_replayed(struct fx *f, uint64_t index, const char *origin,
			    const char *fid, uint64_t records,
			    uint64_t imported, uint64_t duplicates,
			    uint64_t conflicts, uint64_t refused, int drained)
{
	cJSON *e = rec_event(f, index, NULL, NULL);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "drained");
	int64_t at_us;
	struct alog_err err = { 0 };
	const char *at;

	assert_string_equal(jstr(e, "type"), "backup.replayed");
	assert_string_equal(jstr(e, "source"), "auditlog");
	assert_string_equal(jstr(e, "origin"), origin);
	assert_string_equal(jstr(e, "file"), fid);
	assert_string_equal(jstr(e, "path"), f->file);
	assert_int_equal(jint(e, "records"), records);
	assert_int_equal(jint(e, "imported"), imported);
	assert_int_equal(jint(e, "duplicates"), duplicates);
	assert_int_equal(jint(e, "conflicts"), conflicts);
	assert_int_equal(jint(e, "refused"), refused);
	assert_int_equal(records, imported + duplicates + conflicts + refused);
	assert_true(drained ? cJSON_IsTrue(d) : cJSON_IsFalse(d));
	at = jstr(e, "replayed_at");
	assert_int_equal(strlen(at), 27);
	assert_int_equal(alog_time_parse(at, 27, 0, &at_us, &err), 0);
	assert_int_equal(at_us, jint(e, "replayed_at_us"));
	cJSON_Delete(e);
}

static void assert_no_progress(struct fx *f, const char *fid)
{
	struct alog_store_replay p;
	struct alog_err err = { 0 };

	assert_int_equal(alog_store_replay_get(store_of(f), fid, &p, &err),
			 ALOG_ENOTFOUND);
}

static void assert_progress(struct fx *f, const char *fid, uint64_t line,
			    uint64_t imported)
{
	struct alog_store_replay p;
	struct alog_err err = { 0 };
	int rc = alog_store_replay_get(store_of(f), fid, &p, &err);

	if (rc < 0)
		fail_with("replay get", rc, &err);
	assert_int_equal(p.line, line);
	assert_int_equal(p.imported, imported);
}

static void assert_note(const struct ctx *c, size_t i, uint64_t line,
			const char *outcome, const char *code)
{
	assert_true(i < c->n_notes);
	assert_int_equal(c->notes[i].line, line);
	assert_string_equal(c->notes[i].outcome, outcome);
	assert_string_equal(c->notes[i].code, code);
}

/* ---- spool origin ----------------------------------------------------- */

#define EV_U1 "{\"type\":\"user.login\",\"id\":\"u1\",\"source\":\"web\",\"n\":1.50}"
#define EV_PING "{\"type\":\"app.ping\",\"source\":\"web\"}"
#define EV_ACT "{\"type\":\"backup.activated\",\"source\":\"auditlog\",\"component\":\"primary_store\"}"
#define EV_BT "{\"type\":\"breaker.transition\",\"source\":\"auditlog\",\"component\":\"primary_store\",\"from\":\"closed\",\"to\":\"open\"}"
#define EV_MISMATCH "{\"type\":\"a.b\",\"id\":\"x3\",\"source\":\"web\"}"
#define EV_RESERVED "{\"type\":\"daemon.started\",\"id\":\"x1\",\"source\":\"web\"}"
#define EV_OWNED "{\"type\":\"breaker.transition\",\"id\":\"x2\",\"source\":\"web\",\"component\":\"primary_store\"}"
#define UUID_1 "018bcfe5-687b-74b0-8000-000000000001"
#define UUID_2 "018bcfe5-687b-74b0-8000-000000000002"
#define UUID_3 "018bcfe5-687b-74b0-8000-000000000003"

/* V-REPLAY-1: spool records become the canonical records the daemon
 * would have stored when it accepted them; producer lines are judged as
 * producer lines (reserved type, daemon-owned component, id mismatch). */
static void test_replay_spool_records_keep_received_id_and_provenance_byte_for_byte(
	void **state)
{
	struct fx *f = *state;
	struct alog_backup_spool_rec recs[] = {
		srec(EV_U1, TR, "u1", PROV_UNIX),
		srec(EV_PING, TR + SEC, UUID_1, PROV_TLS),
		srec(EV_ACT, TR + 2 * SEC, UUID_2, PROV_INTERNAL),
		srec(EV_BT, TR + 3 * SEC, UUID_3, PROV_INTERNAL),
		/* the spool's id must be the event's own id */
		srec(EV_MISMATCH, TR + 4 * SEC, "other", PROV_UNIX),
		/* a producer's line may not use a reserved type or the
		 * daemon's own component, even from the spool */
		srec(EV_RESERVED, TR + 5 * SEC, "x1", PROV_UNIX),
		srec(EV_OWNED, TR + 6 * SEC, "x2", PROV_UNIX),
	};
	struct alog_replay_result res;
	struct ctx c = { 0 };
	char fid[64];
	int64_t received;
	uint64_t idx[4];

	write_spool(f->file, T0, recs, 7, 1, fid);
	replay_ok(f, ALOG_REPLAY_SPOOL, 0, &c, &res);
	assert_string_equal(res.file_id, fid);
	assert_int_equal(res.records, 7);
	assert_int_equal(res.imported, 4);
	assert_int_equal(res.run_imported, 4);
	assert_int_equal(res.duplicates, 0);
	assert_int_equal(res.conflicts, 0);
	assert_int_equal(res.refused, 3);
	assert_int_equal(res.already_done, 0);
	assert_int_equal(res.file_bad, 0);

	assert_int_equal(size_of(f), 5);
	assert_record(f, 0, "{\"index\":0,\"received\":\"" TR_TEXT(0)
		      "\",\"id\":\"u1\",\"provenance\":" PROV_UNIX
		      ",\"event\":" EV_U1 "}");
	assert_record(f, 1, "{\"index\":1,\"received\":\"" TR_TEXT(1)
		      "\",\"id\":\"" UUID_1 "\",\"provenance\":" PROV_TLS
		      ",\"event\":" EV_PING "}");
	assert_record(f, 2, "{\"index\":2,\"received\":\"" TR_TEXT(2)
		      "\",\"id\":\"" UUID_2 "\",\"provenance\":" PROV_INTERNAL
		      ",\"event\":" EV_ACT "}");
	assert_record(f, 3, "{\"index\":3,\"received\":\"" TR_TEXT(3)
		      "\",\"id\":\"" UUID_3 "\",\"provenance\":" PROV_INTERNAL
		      ",\"event\":" EV_BT "}");

	/* lines from 1: the header is line 1, recs[4] is line 6 */
	assert_int_equal(c.n_notes, 3);
	assert_note(&c, 0, 6, "refused", "bad_field");
	assert_note(&c, 1, 7, "refused", "reserved_type");
	assert_note(&c, 2, 8, "refused", "reserved_component");

	/* backup.replayed: last, with the received time of the file's last
	 * line, so that later files keep theirs */
	assert_int_equal(find_type(f, "backup.replayed", idx, 4), 1);
	assert_int_equal(idx[0], 4);
	assert_replayed(f, 4, "spool", fid, 7, 4, 0, 0, 3, 1);
	cJSON_Delete(rec_event(f, 4, NULL, &received));
	assert_int_equal(received, TR + 6 * SEC);
	/* progress: the chain index of the last record line (7) */
	assert_progress(f, fid, 8, 4); /* done: last line + 1 */
}

static void test_replay_spool_refuses_plain_records(void **state)
{
	struct fx *f = *state;
	const char *evs[] = {
		"{\"type\":\"a.b\",\"id\":\"p1\",\"source\":\"s\"}",
		"{\"type\":\"a.b\",\"id\":\"p2\",\"source\":\"s\"}",
	};
	struct alog_replay_result res;
	struct ctx c = { 0 };
	char fid[64];

	write_plain(f->file, evs, 2, 1, fid);
	replay_ok(f, ALOG_REPLAY_SPOOL, 0, &c, &res);
	assert_int_equal(res.records, 2);
	assert_int_equal(res.imported, 0);
	assert_int_equal(res.refused, 2);
	assert_int_equal(c.n_notes, 2);
	assert_note(&c, 0, 2, "refused", "bad_field");
	assert_note(&c, 1, 3, "refused", "bad_field");
	/* only the record of the replay */
	assert_int_equal(size_of(f), 1);
	assert_replayed(f, 0, "spool", fid, 2, 0, 0, 0, 2, 1);
}

/* A spool record whose (source, id) is stored: duplicate with the same
 * event, conflict with another. */
static void test_replay_spool_deduplicates_against_the_store(void **state)
{
	struct fx *f = *state;
	const char *same = "{\"type\":\"a.b\",\"id\":\"d1\",\"source\":\"s\"}";
	const char *other = "{\"type\":\"a.b\",\"id\":\"d2\",\"source\":\"s\",\"v\":2}";
	struct alog_backup_spool_rec recs[] = {
		srec(same, TR + SEC, "d1", PROV_UNIX),
		srec(other, TR + 2 * SEC, "d2", PROV_UNIX),
	};
	const char *stored[] = {
		same, "{\"type\":\"a.b\",\"id\":\"d2\",\"source\":\"s\",\"v\":1}",
	};
	struct alog_provenance p = { .transport = "stdin" };
	struct alog_submit sub;
	struct alog_replay_result res;
	struct alog_err err = { 0 };
	struct ctx c = { 0 };
	char fid[64];

	for (int i = 0; i < 2; i++) {
		assert_int_equal(alog_log_submit(f->log, stored[i],
						 strlen(stored[i]), &p, TR, 0,
						 &sub, &err), 0);
		assert_int_equal(sub.status, ALOG_SUBMIT_ACCEPTED);
	}
	assert_int_equal(alog_log_commit(f->log, &err), 0);
	write_spool(f->file, T0, recs, 2, 1, fid);
	replay_ok(f, ALOG_REPLAY_SPOOL, 0, &c, &res);
	assert_int_equal(res.imported, 0);
	assert_int_equal(res.duplicates, 1);
	assert_int_equal(res.conflicts, 1);
	assert_int_equal(c.n_notes, 2);
	assert_note(&c, 0, 2, "duplicate", "");
	assert_int_equal(c.notes[0].index, 0);
	assert_note(&c, 1, 3, "conflict", "conflict");
	assert_int_equal(c.notes[1].index, 1);
	assert_non_null(strstr(c.notes[1].msg, "d2"));
	assert_int_equal(size_of(f), 3);
	assert_replayed(f, 2, "spool", fid, 2, 0, 1, 1, 0, 1);
}

/* ---- progress ---------------------------------------------------------- */

#define N_PROG 7

static void write_progress_file(struct fx *f, char fid[64])
{
	static char evs[N_PROG][64], ids[N_PROG][16];
	struct alog_backup_spool_rec recs[N_PROG];

	for (int i = 0; i < N_PROG; i++) {
		snprintf(ids[i], sizeof(ids[i]), "e%d", i + 1);
		snprintf(evs[i], sizeof(evs[i]),
			 "{\"type\":\"a.b\",\"id\":\"e%d\",\"source\":\"s\"}",
			 i + 1);
		recs[i] = srec(evs[i], TR + i * SEC, ids[i], PROV_UNIX);
	}
	write_spool(f->file, T0, recs, N_PROG, 1, fid);
}

/* V-REPLAY-3: after a stopped replay, the next one imports exactly the
 * rest; totals add up; one backup.replayed; a third call finds it done. */
static void assert_resumed(struct fx *f, const char *fid, uint64_t done)
{
	struct alog_replay_result res;
	struct ctx c = { 0 };
	uint64_t idx[4];
	char id[16];

	replay_ok(f, ALOG_REPLAY_SPOOL, 2, &c, &res);
	assert_int_equal(res.already_done, 0);
	assert_int_equal(res.run_imported, N_PROG - done);
	/* the file's totals over both runs */
	assert_int_equal(res.imported, N_PROG);
	assert_int_equal(res.duplicates, 0);
	assert_int_equal(res.conflicts, 0);
	assert_int_equal(res.refused, 0);
	assert_int_equal(c.n_notes, 0);   /* nothing judged twice */
	for (int i = 0; i < N_PROG; i++) {
		snprintf(id, sizeof(id), "e%d", i + 1);
		assert_int_equal(count_id(f, id), 1);
	}
	assert_int_equal(find_type(f, "backup.replayed", idx, 4), 1);
	assert_int_equal(idx[0], size_of(f) - 1);
	assert_replayed(f, idx[0], "spool", fid, N_PROG, N_PROG, 0, 0, 0, 1);
	assert_progress(f, fid, N_PROG + 1, N_PROG); /* done */

	/* a third call: nothing left */
	replay_ok(f, ALOG_REPLAY_SPOOL, 2, &c, &res);
	assert_int_equal(res.already_done, 1);
	assert_int_equal(res.run_imported, 0);
	assert_int_equal(res.imported, N_PROG);
	assert_int_equal(res.records, N_PROG);
	assert_int_equal(find_type(f, "backup.replayed", idx, 4), 1);
	assert_int_equal(idx[0], size_of(f) - 1);
}

static void test_replay_spool_after_a_failed_batch_imports_exactly_the_rest(
	void **state)
{
	struct fx *f = *state;
	struct alog_replay_result res;
	struct alog_err err;
	struct ctx c = { .fail_sync_at = 1 };
	char fid[64];
	int rc;

	write_progress_file(f, fid);
	/* batch 1 (e1 e2) commits; the hook makes batch 2's sync fail */
	rc = replay(f, ALOG_REPLAY_SPOOL, 2, &c, &res, &err);
	assert_int_equal(rc, ALOG_EIO);
	assert_non_null(strstr(err.msg, "fdatasync"));
	assert_int_equal(res.file_bad, 0);
	assert_int_equal(c.batches, 1);
	assert_int_equal(size_of(f), 2);
	assert_progress(f, fid, 2, 2);
	/* the failed store is reopened, as the daemon does */
	reopen_log(f);
	assert_progress(f, fid, 2, 2);
	assert_resumed(f, fid, 2);
}

static void test_replay_spool_stopped_by_its_hook_keeps_progress_and_goes_on(
	void **state)
{
	struct fx *f = *state;
	struct alog_replay_result res;
	struct alog_err err;
	struct ctx c = { .stop_at = 2, .stop_rc = ALOG_ESTATE };
	char fid[64];

	write_progress_file(f, fid);
	assert_int_equal(replay(f, ALOG_REPLAY_SPOOL, 2, &c, &res, &err),
			 ALOG_ESTATE);
	assert_int_equal(c.batches, 2);
	assert_int_equal(size_of(f), 4);
	assert_progress(f, fid, 4, 4);
	assert_resumed(f, fid, 4);
}

/* A file whose last lines fill the log's batch: they commit before its
 * backup.replayed (which does not fit). Stopped right there, the file is
 * not done: the next run writes backup.replayed, once, and imports
 * nothing again. */
static void test_replay_spool_whose_last_lines_fill_a_batch_still_records_its_replay_once(
	void **state)
{
	struct fx *f = *state;
	struct alog_replay_result res;
	struct alog_backup_spool_rec *recs;
	struct alog_err err;
	struct ctx c = { .stop_at = 1, .stop_rc = ALOG_ESTATE };
	char (*evs)[64] = calloc(ALOG_LOG_BATCH_MAX, 64);
	char (*ids)[16] = calloc(ALOG_LOG_BATCH_MAX, 16);
	uint64_t idx[4];
	char fid[64];

	recs = calloc(ALOG_LOG_BATCH_MAX, sizeof(*recs));
	assert_non_null(evs);
	assert_non_null(ids);
	assert_non_null(recs);
	for (int i = 0; i < ALOG_LOG_BATCH_MAX; i++) {
		snprintf(ids[i], 16, "f%d", i);
		snprintf(evs[i], 64,
			 "{\"type\":\"a.b\",\"id\":\"f%d\",\"source\":\"s\"}", i);
		recs[i] = srec(evs[i], TR + i, ids[i], PROV_UNIX);
	}
	write_spool(f->file, T0, recs, ALOG_LOG_BATCH_MAX, 1, fid);
	assert_int_equal(replay(f, ALOG_REPLAY_SPOOL, 0, &c, &res, &err),
			 ALOG_ESTATE);
	assert_int_equal(size_of(f), ALOG_LOG_BATCH_MAX);
	assert_int_equal(find_type(f, "backup.replayed", idx, 4), 0);
	c.stop_at = 0;
	replay_ok(f, ALOG_REPLAY_SPOOL, 0, &c, &res);
	assert_int_equal(res.already_done, 0);
	assert_int_equal(res.run_imported, 0);
	assert_int_equal(res.imported, ALOG_LOG_BATCH_MAX);
	assert_int_equal(size_of(f), ALOG_LOG_BATCH_MAX + 1);
	assert_int_equal(find_type(f, "backup.replayed", idx, 4), 1);
	replay_ok(f, ALOG_REPLAY_SPOOL, 0, &c, &res);
	assert_int_equal(res.already_done, 1);
	assert_int_equal(find_type(f, "backup.replayed", idx, 4), 1);
	free(evs);
	free(ids);
	free(recs);
}

/* ---- import origin ------------------------------------------------------ */

#define IM_I1 "{\"type\":\"a.b\",\"id\":\"i1\",\"source\":\"s\"}"
#define IM_NOID_S "{\"type\":\"a.b\",\"source\":\"s\",\"n\":2}"
#define IM_NOID "{\"type\":\"a.b\",\"n\":3}"
#define IM_C1_OLD "{\"type\":\"a.b\",\"id\":\"c1\",\"source\":\"s\",\"v\":1}"
#define IM_C1_NEW "{\"type\":\"a.b\",\"id\":\"c1\",\"source\":\"s\",\"v\":2}"
#define IM_RESERVED "{\"type\":\"store.x\",\"id\":\"r1\",\"source\":\"s\"}"

/* received of record index, checked to lie in [lo, hi] */
static void assert_received_between(struct fx *f, uint64_t index, int64_t lo,
				    int64_t hi)
{
	int64_t r;

	cJSON_Delete(rec_event(f, index, NULL, &r));
	assert_true(r >= lo && r <= hi);
}

/* The record at index with a received time between lo and hi is exactly
 * {"index":I,"received":"<R>","id":"ID","provenance":PROV_REPLAY,
 *  "event":EV}. */
static void assert_imported(struct fx *f, uint64_t index, const char *id,
			    const char *ev, int64_t lo, int64_t hi)
{
	char *got = rec_text(f, index);
	char head[64], tail[1024];
	size_t hl, tl, n = strlen(got);

	hl = (size_t)snprintf(head, sizeof(head),
			      "{\"index\":%" PRIu64 ",\"received\":\"", index);
	tl = (size_t)snprintf(tail, sizeof(tail),
			      "\",\"id\":\"%s\",\"provenance\":" PROV_REPLAY
			      ",\"event\":%s}", id, ev);
	if (n != hl + 27 + tl || memcmp(got, head, hl) != 0 ||
	    memcmp(got + hl + 27, tail, tl) != 0)
		fail_msg("record %" PRIu64 ":\n got  %s\n want %s<27 bytes>%s",
			 index, got, head, tail);
	free(got);
	assert_received_between(f, index, lo, hi);
}

/* V-REPLAY-2: an import's record ids (FILE:N), provenance, notes and the
 * counts of two runs. */
static void test_replay_import_gives_file_ids_dedupes_on_the_second_run_and_records_each_run(
	void **state)
{
	struct fx *f = *state;
	struct alog_backup_spool_rec sr = srec(
		"{\"type\":\"a.b\",\"id\":\"sp\",\"source\":\"s\"}", TR, "sp",
		PROV_UNIX);
	struct alog_provenance p = { .transport = "stdin" };
	struct alog_backup *b = NULL;
	struct alog_submit sub;
	struct alog_replay_result res;
	struct alog_err err = { 0 };
	struct ctx c = { 0 };
	char fid[64], id2[80], id3[80];
	uint64_t idx[4], size;
	int64_t lo, hi;

	/* c1 is stored with another body before the import */
	assert_int_equal(alog_log_submit(f->log, IM_C1_OLD, strlen(IM_C1_OLD),
					 &p, TR, 0, &sub, &err), 0);
	assert_int_equal(alog_log_commit(f->log, &err), 0);

	/* lines: 1 header, 2 i1, 3 no id (source s), 4 no id, 5 c1 other
	 * body, 6 reserved type, 7 spool record, 8 i1 again, 9 seal */
	assert_int_equal(alog_backup_open(f->file, T0, &b, &err), 0);
	append_plain(b, IM_I1);
	append_plain(b, IM_NOID_S);
	append_plain(b, IM_NOID);
	append_plain(b, IM_C1_NEW);
	append_plain(b, IM_RESERVED);
	assert_int_equal(alog_backup_append_spool(b, &sr, 1, &err), 0);
	append_plain(b, IM_I1);
	assert_int_equal(alog_backup_seal(b, &err), 0);
	snprintf(fid, sizeof(fid), "%s", alog_backup_opened(b)->file_id);
	alog_backup_close(b);
	/* FILE:N with N the chain index (SPEC.md 17.9) */
	snprintf(id2, sizeof(id2), "%s:2", fid);
	snprintf(id3, sizeof(id3), "%s:3", fid);

	lo = alog_clock_now_us();
	replay_ok(f, ALOG_REPLAY_IMPORT, 0, &c, &res);
	hi = alog_clock_now_us();
	assert_string_equal(res.file_id, fid);
	assert_int_equal(res.records, 7);
	assert_int_equal(res.imported, 3);
	assert_int_equal(res.run_imported, 3);
	assert_int_equal(res.duplicates, 1);
	assert_int_equal(res.conflicts, 1);
	assert_int_equal(res.refused, 2);
	assert_int_equal(c.n_notes, 4);
	assert_note(&c, 0, 5, "conflict", "conflict");
	assert_int_equal(c.notes[0].index, 0);
	assert_non_null(strstr(c.notes[0].msg, "c1"));
	assert_note(&c, 1, 6, "refused", "reserved_type");
	assert_note(&c, 2, 7, "refused", "bad_field");
	assert_note(&c, 3, 8, "duplicate", "");
	assert_int_equal(c.notes[3].index, 1);

	assert_int_equal(size_of(f), 5);
	assert_imported(f, 1, "i1", IM_I1, lo, hi);
	assert_imported(f, 2, id2, IM_NOID_S, lo, hi);
	assert_imported(f, 3, id3, IM_NOID, lo, hi);
	assert_replayed(f, 4, "import", fid, 7, 3, 1, 1, 2, 0);
	assert_received_between(f, 4, lo, hi);
	/* an import keeps no progress */
	assert_no_progress(f, fid);

	/* again: nothing new, every imported line a duplicate, and a second
	 * backup.replayed with this run's counts */
	replay_ok(f, ALOG_REPLAY_IMPORT, 0, &c, &res);
	assert_int_equal(res.already_done, 0);
	assert_int_equal(res.run_imported, 0);
	assert_int_equal(res.imported, 0);
	assert_int_equal(res.duplicates, 4);
	assert_int_equal(res.conflicts, 1);
	assert_int_equal(res.refused, 2);
	assert_int_equal(c.n_notes, 7);
	assert_note(&c, 0, 2, "duplicate", "");
	assert_int_equal(c.notes[0].index, 1);
	assert_note(&c, 1, 3, "duplicate", "");
	assert_int_equal(c.notes[1].index, 2);
	assert_note(&c, 2, 4, "duplicate", "");
	assert_int_equal(c.notes[2].index, 3);
	assert_note(&c, 3, 5, "conflict", "conflict");
	size = size_of(f);
	assert_int_equal(size, 6);
	assert_int_equal(find_type(f, "backup.replayed", idx, 4), 2);
	assert_int_equal(idx[0], 4);
	assert_int_equal(idx[1], 5);
	assert_replayed(f, 5, "import", fid, 7, 0, 4, 1, 2, 0);
	assert_int_equal(count_id(f, "i1"), 1);
	assert_int_equal(count_id(f, id2), 1);
	assert_int_equal(count_id(f, id3), 1);
	assert_int_equal(count_id(f, "c1"), 1);
	assert_no_progress(f, fid);
}

/* ---- files that do not verify ------------------------------------------ */

/* The file's lines (each with its newline) */
struct lines {
	unsigned char *data;
	size_t n;
	size_t start[16];
	size_t count;
};

static void split_lines(const char *path, struct lines *l)
{
	l->data = testutil_read_file(path, &l->n);
	l->count = 0;
	for (size_t i = 0, s = 0; i < l->n; i++) {
		if (l->data[i] == '\n') {
			assert_true(l->count < 15);
			l->start[l->count++] = s;
			s = i + 1;
		}
	}
	l->start[l->count] = l->n;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

enum tamper { CHANGE_BYTE, REMOVE_LINE, SWAP_LINES };

/* Line 3 (from 1) changed, removed, or swapped with line 4. */
static void tamper(const char *path, enum tamper how)
{
	struct lines l;
	unsigned char *out;
	size_t a, b, c, n = 0;

	split_lines(path, &l);
	assert_true(l.count >= 4);
	a = l.start[2];
	b = l.start[3];
	c = l.start[4];
	out = malloc(l.n);
	assert_non_null(out);
	switch (how) {
	case CHANGE_BYTE:
		memcpy(out, l.data, l.n);
		n = l.n;
		/* a digit inside the event: still valid JSON */
		for (size_t i = b - 2; i > a + 76; i--) {
			if (out[i] >= '0' && out[i] <= '8') {
				out[i]++;
				break;
			}
			assert_true(i > a + 77);
		}
		break;
	case REMOVE_LINE:
		memcpy(out, l.data, a);
		memcpy(out + a, l.data + b, l.n - b);
		n = l.n - (b - a);
		break;
	case SWAP_LINES:
		memcpy(out, l.data, a);
		memcpy(out + a, l.data + b, c - b);
		memcpy(out + a + (c - b), l.data + a, b - a);
		memcpy(out + c, l.data + c, l.n - c);
		n = l.n;
		break;
	}
	write_file(path, out, n);
	free(out);
	free(l.data);
}

/* V-REPLAY-4: line 3 of a 3-record file changed, removed, or swapped with
 * line 4: refused at line 3, nothing imported. */
static void test_replay_refuses_a_file_that_does_not_verify_and_imports_nothing(
	void **state)
{
	struct fx *f = *state;
	const char *evs[] = {
		"{\"type\":\"a.b\",\"id\":\"t1\",\"source\":\"s\",\"n\":1}",
		"{\"type\":\"a.b\",\"id\":\"t2\",\"source\":\"s\",\"n\":2}",
		"{\"type\":\"a.b\",\"id\":\"t3\",\"source\":\"s\",\"n\":3}",
	};
	const char *names[] = { "changed byte", "removed line", "swapped lines" };
	struct alog_replay_result res;
	struct alog_err err;
	struct ctx c = { 0 };

	for (int how = CHANGE_BYTE; how <= SWAP_LINES; how++) {
		char fid[64];

		unlink(f->file);
		write_plain(f->file, evs, 3, 0, fid);
		tamper(f->file, (enum tamper)how);
		c.batches = 0;
		assert_int_equal(replay(f, ALOG_REPLAY_IMPORT, 0, &c, &res,
					&err), ALOG_ECORRUPT);
		if (res.file_bad != 1 || res.bad_line != 3 ||
		    !strstr(err.msg, "line 3"))
			fail_msg("%s: file_bad %d bad_line %" PRIu64 ": %s",
				 names[how], res.file_bad, res.bad_line,
				 err.msg);
		assert_int_equal(size_of(f), 0);
		assert_int_equal(c.batches, 0);
		assert_int_equal(c.n_notes, 0);
		assert_int_equal(alog_log_pending(f->log), 0);
	}
}

static void test_replay_spool_file_that_does_not_verify_records_no_progress(
	void **state)
{
	struct fx *f = *state;
	struct alog_backup_spool_rec recs[] = {
		srec("{\"type\":\"a.b\",\"id\":\"q1\",\"n\":1}", TR, "q1", PROV_UNIX),
		srec("{\"type\":\"a.b\",\"id\":\"q2\",\"n\":2}", TR + SEC, "q2", PROV_UNIX),
		srec("{\"type\":\"a.b\",\"id\":\"q3\",\"n\":3}", TR + 2 * SEC, "q3", PROV_UNIX),
	};
	struct alog_replay_result res;
	struct alog_err err;
	struct ctx c = { 0 };
	char fid[64];

	write_spool(f->file, T0, recs, 3, 1, fid);
	tamper(f->file, CHANGE_BYTE);
	assert_int_equal(replay(f, ALOG_REPLAY_SPOOL, 1, &c, &res, &err),
			 ALOG_ECORRUPT);
	assert_int_equal(res.file_bad, 1);
	assert_int_equal(res.bad_line, 3);
	assert_int_equal(size_of(f), 0);
	assert_no_progress(f, fid);
}

/* A torn tail (a crash inside a write) is ignored: the complete lines
 * replay (SPEC.md 17.9 step 1). */
static void test_replay_spool_file_with_a_torn_tail_replays_its_complete_lines(
	void **state)
{
	struct fx *f = *state;
	struct alog_backup_spool_rec recs[] = {
		srec("{\"type\":\"a.b\",\"id\":\"w1\"}", TR, "w1", PROV_UNIX),
		srec("{\"type\":\"a.b\",\"id\":\"w2\"}", TR + SEC, "w2", PROV_UNIX),
	};
	static const char torn[] = "{\"chain\":\"00ab";
	struct alog_replay_result res;
	struct ctx c = { 0 };
	struct lines l;
	char fid[64];
	unsigned char *buf;

	write_spool(f->file, T0, recs, 2, 0, fid);
	split_lines(f->file, &l);
	buf = malloc(l.n + sizeof(torn));
	assert_non_null(buf);
	memcpy(buf, l.data, l.n);
	memcpy(buf + l.n, torn, sizeof(torn) - 1);
	write_file(f->file, buf, l.n + sizeof(torn) - 1);
	free(buf);
	free(l.data);
	replay_ok(f, ALOG_REPLAY_SPOOL, 0, &c, &res);
	assert_int_equal(res.records, 2);
	assert_int_equal(res.imported, 2);
	assert_int_equal(count_id(f, "w1"), 1);
	assert_int_equal(count_id(f, "w2"), 1);
	assert_int_equal(size_of(f), 3);
}

/* V-REPLAY-5: a spool file without any record line (a spool write
 * failed right after the file was started) must not push the received
 * times of the lines of the files replayed after it: they are kept
 * through spool and replay (SPEC.md 17.8, 17.9 "so that the files after
 * it keep their lines' received times"). */
static void test_replay_spool_file_without_records_keeps_the_next_files_received_times(
	void **state)
{
	struct fx *f = *state;
	int64_t now = alog_clock_now_us();
	struct alog_backup_spool_rec r = srec(
		"{\"type\":\"a.b\",\"id\":\"k1\",\"source\":\"s\"}",
		now - 5 * SEC, "k1", PROV_UNIX);
	struct alog_replay_result res;
	struct ctx c = { 0 };
	char fid[64], id[160], first[4096];
	int64_t received;

	snprintf(first, sizeof(first), "%s", f->file);
	write_spool(first, now - 10 * SEC, NULL, 0, 1, fid);
	replay_ok(f, ALOG_REPLAY_SPOOL, 0, &c, &res);
	assert_int_equal(res.records, 0);
	assert_int_equal(size_of(f), 1);
	unlink(first);
	write_spool(f->file, now - 9 * SEC, &r, 1, 1, fid);
	replay_ok(f, ALOG_REPLAY_SPOOL, 0, &c, &res);
	assert_int_equal(res.imported, 1);
	cJSON_Delete(rec_event(f, 1, id, &received));
	assert_string_equal(id, "k1");
	if (received != now - 5 * SEC)
		fail_msg("k1 was spooled at %" PRId64 " but stored with received %"
			 PRId64 " (%+" PRId64 " us): the empty file's "
			 "backup.replayed took the replay's time", now - 5 * SEC,
			 received, received - (now - 5 * SEC));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_replay_spool_records_keep_received_id_and_provenance_byte_for_byte),
		T(test_replay_spool_refuses_plain_records),
		T(test_replay_spool_deduplicates_against_the_store),
		T(test_replay_spool_after_a_failed_batch_imports_exactly_the_rest),
		T(test_replay_spool_stopped_by_its_hook_keeps_progress_and_goes_on),
		T(test_replay_spool_whose_last_lines_fill_a_batch_still_records_its_replay_once),
		T(test_replay_import_gives_file_ids_dedupes_on_the_second_run_and_records_each_run),
		T(test_replay_refuses_a_file_that_does_not_verify_and_imports_nothing),
		T(test_replay_spool_file_that_does_not_verify_records_no_progress),
		T(test_replay_spool_file_with_a_torn_tail_replays_its_complete_lines),
		T(test_replay_spool_file_without_records_keeps_the_next_files_received_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
