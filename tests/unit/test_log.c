/*
 * test_log: the writer's front door (ingest/log.h), SPEC.md "Ingest",
 * "Deduplication", "Checkpoints", "Verification".
 *
 * Each test makes a store with alog_store_create and drives it through
 * alog_log_*; what was stored is read back through the store and
 * alog_record_parse. alog_log_verify opens the store read-only in this
 * process, so the log is always closed before it runs (LMDB forbids two
 * environments on one store in one process).
 *
 * Segment tampering goes through the published layout (store/segment.h,
 * store/block.h): the block holding a record is re-encoded with one
 * record changed, to exactly its old length, and written over the old one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ingest/clock.h"
#include "ingest/event.h"
#include "ingest/log.h"
#include "store/block.h"
#include "store/bytes.h"
#include "store/note.h"
#include "store/segment.h"
#include "store/sign.h"
#include "store/store.h"
#include "testutil.h"

#define ORIGIN "example.com/audit"
#define T0 INT64_C(1700000000000000)

struct fx {
	char *tmp;
	char dir[4096];
	struct alog_signer *signer;
	struct alog_verifier vkey;
	struct alog_log *log;
};

static const struct alog_provenance prov = {
	.transport = "stdin", .uid = 1000, .gid = 1000, .pid = 42,
};

static void fail_with(const char *what, int rc, const struct alog_err *err)
{
	fail_msg("%s: rc %d (%s): %s", what, rc, alog_err_name(rc), err->msg);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct alog_err err;

	if (!f)
		return -1;
	f->tmp = testutil_tmpdir();
	snprintf(f->dir, sizeof(f->dir), "%s/store", f->tmp);
	if (alog_signer_generate("example.com/audit-key", &f->signer, NULL) < 0)
		return -1;
	alog_signer_verifier(f->signer, &f->vkey);
	alog_err_clear(&err);
	if (alog_store_create(f->dir, ORIGIN, &f->vkey, NULL, &err) < 0 ||
	    alog_log_open(f->dir, T0, &f->log, NULL, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err.msg);
		testutil_rmtree(f->tmp);
		free(f->tmp);
		alog_signer_free(f->signer);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	alog_log_close(f->log);
	testutil_rmtree(f->tmp);
	free(f->tmp);
	alog_signer_free(f->signer);
	free(f);
	return 0;
}

static void reopen_log(struct fx *f, int64_t now,
		       struct alog_store_recovery *rec)
{
	struct alog_err err;
	int rc;

	alog_log_close(f->log);
	f->log = NULL;
	alog_err_clear(&err);
	rc = alog_log_open(f->dir, now, &f->log, rec, &err);
	if (rc < 0)
		fail_with("log open", rc, &err);
}

static void close_log(struct fx *f)
{
	alog_log_close(f->log);
	f->log = NULL;
}

static struct alog_submit submit_at(struct fx *f, const char *line,
				    int64_t now, int trusted)
{
	struct alog_submit res;
	struct alog_err err;
	int rc;

	alog_err_clear(&err);
	rc = alog_log_submit(f->log, line, strlen(line), &prov, now, trusted,
			     &res, &err);
	if (rc < 0)
		fail_with("submit", rc, &err);
	return res;
}

static uint64_t accept(struct fx *f, const char *line, int64_t now)
{
	struct alog_submit res = submit_at(f, line, now, 0);

	if (res.status != ALOG_SUBMIT_ACCEPTED)
		fail_msg("'%s' not accepted: status %d code %s", line,
			 (int)res.status, res.code ? res.code : "-");
	return res.index;
}

/* fn (a commit call of the log API) must succeed. */
static void must(struct fx *f, int (*fn)(struct alog_log *, struct alog_err *),
		 const char *what)
{
	struct alog_err err;
	int rc;

	alog_err_clear(&err);
	rc = fn(f->log, &err);
	if (rc < 0)
		fail_with(what, rc, &err);
}

static void commit(struct fx *f)
{
	must(f, alog_log_commit, "commit");
	assert_int_equal(alog_log_pending(f->log), 0);
}

static uint64_t size_of(struct fx *f)
{
	return alog_store_size(alog_log_store(f->log));
}

/* Record index, parsed; buf holds its bytes (NUL-terminated). */
static void get_record(struct fx *f, uint64_t index, struct alog_buf *buf,
		       struct alog_record_view *v)
{
	struct alog_err err;
	int rc;

	alog_err_clear(&err);
	rc = alog_store_get(alog_log_store(f->log), index, buf, &err);
	if (rc < 0)
		fail_with("get", rc, &err);
	rc = alog_record_parse((const char *)buf->data, buf->len, v, &err);
	if (rc < 0)
		fail_with("record parse", rc, &err);
	assert_int_equal(v->index, index);
}

/* The event of record index, as a C string. */
static char *event_text(struct fx *f, uint64_t index)
{
	struct alog_buf b;
	struct alog_record_view v;
	char *s;

	alog_buf_init(&b, 0);
	get_record(f, index, &b, &v);
	s = strndup(v.event, v.event_len);
	assert_non_null(s);
	alog_buf_release(&b);
	return s;
}

static char *id_of(struct fx *f, uint64_t index)
{
	struct alog_buf b;
	struct alog_record_view v;
	char *s;

	alog_buf_init(&b, 0);
	get_record(f, index, &b, &v);
	s = strndup(v.id, v.id_len);
	assert_non_null(s);
	alog_buf_release(&b);
	return s;
}

static int64_t received_of(struct fx *f, uint64_t index)
{
	struct alog_buf b;
	struct alog_record_view v;
	int64_t r = 0;

	alog_buf_init(&b, 0);
	get_record(f, index, &b, &v);
	assert_int_equal(alog_log_record_received(b.data, b.len, &r), 0);
	assert_int_equal(r, v.received_us);
	alog_buf_release(&b);
	return r;
}

static void expect_verify_ok(struct fx *f, const struct alog_verifier *vkey,
			     struct alog_verify_result *res)
{
	struct alog_err err;
	int rc;

	alog_err_clear(&err);
	rc = alog_log_verify(f->dir, vkey, NULL, 0, NULL, res, &err);
	if (rc < 0)
		fail_with("verify", rc, &err);
	assert_true(res->bad_index == UINT64_MAX);
}

/* ---- submit and commit ---- */

static void test_log_submit_assigns_indices_and_commit_makes_them_durable(
	void **state)
{
	struct fx *f = *state;
	struct alog_store_recovery rec;
	struct alog_submit res;
	char *ev;

	assert_int_equal(accept(f, "{\"type\":\"user.login\",\"id\":\"a1\","
				   "\"source\":\"web\",\"user\":\"ann\"}",
				T0 + 1),
			 0);
	assert_int_equal(accept(f, "{ \"type\" : \"user.logout\" , "
				   "\"id\":\"a2\",\"source\":\"web\" }",
				T0 + 2),
			 1);
	assert_int_equal(alog_log_pending(f->log), 2);
	assert_int_equal(size_of(f), 0);
	/* Nothing is stored before the commit. */
	reopen_log(f, T0 + 3, &rec);
	assert_int_equal(size_of(f), 0);
	assert_int_equal(alog_log_pending(f->log), 0);
	assert_int_equal(rec.cut, 0);

	assert_int_equal(accept(f, "{\"type\":\"user.login\",\"id\":\"a1\","
				   "\"source\":\"web\",\"user\":\"ann\"}",
				T0 + 4),
			 0);
	assert_int_equal(accept(f, "{ \"type\" : \"user.logout\" , "
				   "\"id\":\"a2\",\"source\":\"web\" }",
				T0 + 5),
			 1);
	commit(f);
	assert_int_equal(size_of(f), 2);
	/* The stored event is the canonical form: whitespace outside
	 * strings removed, members kept in order. */
	ev = event_text(f, 1);
	assert_string_equal(ev, "{\"type\":\"user.logout\",\"id\":\"a2\","
				"\"source\":\"web\"}");
	free(ev);
	assert_int_equal(received_of(f, 0), T0 + 4);
	/* An invalid line is judged, rejected, and takes no index. */
	res = submit_at(f, "{\"type\":", T0 + 6, 0);
	assert_int_equal(res.status, ALOG_SUBMIT_REJECTED);
	assert_string_equal(res.code, "not_json");
	res = submit_at(f, "{\"id\":\"x\"}", T0 + 6, 0);
	assert_int_equal(res.status, ALOG_SUBMIT_REJECTED);
	assert_string_equal(res.code, "bad_field");
	assert_int_equal(alog_log_pending(f->log), 0);
	assert_int_equal(accept(f, "{\"type\":\"x\"}", T0 + 7), 2);
	/* Discarded events are not stored and free their index and id. */
	alog_log_discard(f->log);
	assert_int_equal(accept(f, "{\"type\":\"x\",\"id\":\"d\"}", T0 + 8), 2);
	alog_log_discard(f->log);
	assert_int_equal(accept(f, "{\"type\":\"y\",\"id\":\"d\"}", T0 + 9), 2);
	commit(f);
	reopen_log(f, T0 + 10, NULL);
	assert_int_equal(size_of(f), 3);
	ev = event_text(f, 2);
	assert_string_equal(ev, "{\"type\":\"y\",\"id\":\"d\"}");
	free(ev);
	/* An empty commit is a no-op. */
	commit(f);
	assert_int_equal(size_of(f), 3);
}

static void test_log_duplicates_answer_with_the_original_index(void **state)
{
	struct fx *f = *state;
	const char *a = "{\"type\":\"user.login\",\"id\":\"e-1\","
			"\"source\":\"web\",\"n\":1}";
	const char *a_spaced = "{\"type\":\"user.login\", \"id\":\"e-1\", "
			       "\"source\":\"web\", \"n\":1}";
	struct alog_submit res;

	assert_int_equal(accept(f, "{\"type\":\"other\"}", T0), 0);
	assert_int_equal(accept(f, a, T0 + 1), 1);
	/* In the same batch; whitespace does not make an event new. */
	res = submit_at(f, a, T0 + 2, 0);
	assert_int_equal(res.status, ALOG_SUBMIT_DUPLICATE);
	assert_int_equal(res.index, 1);
	assert_string_equal(res.id, "e-1");
	res = submit_at(f, a_spaced, T0 + 2, 0);
	assert_int_equal(res.status, ALOG_SUBMIT_DUPLICATE);
	assert_int_equal(res.index, 1);
	assert_int_equal(alog_log_pending(f->log), 2);
	/* Same id from another source is another event. */
	assert_int_equal(accept(f, "{\"type\":\"user.login\",\"id\":\"e-1\","
				   "\"source\":\"api\",\"n\":1}",
				T0 + 3),
			 2);
	/* Same id without a source too. */
	assert_int_equal(accept(f, "{\"type\":\"user.login\",\"id\":\"e-1\"}",
				T0 + 3),
			 3);
	commit(f);
	/* Across commits, and across a reopen. */
	res = submit_at(f, a, T0 + 4, 0);
	assert_int_equal(res.status, ALOG_SUBMIT_DUPLICATE);
	assert_int_equal(res.index, 1);
	reopen_log(f, T0 + 5, NULL);
	res = submit_at(f, a_spaced, T0 + 6, 0);
	assert_int_equal(res.status, ALOG_SUBMIT_DUPLICATE);
	assert_int_equal(res.index, 1);
	assert_int_equal(alog_log_pending(f->log), 0);
	commit(f);
	assert_int_equal(size_of(f), 4);
}

static void test_log_same_id_with_another_body_is_a_conflict(void **state)
{
	struct fx *f = *state;
	struct alog_submit res;
	struct alog_err err;
	int rc;

	assert_int_equal(accept(f, "{\"type\":\"a\",\"id\":\"k\",\"source\":"
				   "\"s\",\"v\":1}",
				T0),
			 0);
	/* In the same batch. */
	alog_err_clear(&err);
	rc = alog_log_submit(f->log, "{\"type\":\"a\",\"id\":\"k\",\"source\":"
				     "\"s\",\"v\":2}",
			     strlen("{\"type\":\"a\",\"id\":\"k\",\"source\":"
				    "\"s\",\"v\":2}"),
			     &prov, T0 + 1, 0, &res, &err);
	assert_int_equal(rc, 0);
	assert_int_equal(res.status, ALOG_SUBMIT_REJECTED);
	assert_string_equal(res.code, "conflict");
	assert_int_equal(err.code, ALOG_ECONFLICT);
	assert_int_equal(alog_log_pending(f->log), 1);
	commit(f);
	/* Against the stored event; member order is part of the event. */
	res = submit_at(f, "{\"id\":\"k\",\"type\":\"a\",\"source\":\"s\","
			   "\"v\":1}",
			T0 + 2, 0);
	assert_int_equal(res.status, ALOG_SUBMIT_REJECTED);
	assert_string_equal(res.code, "conflict");
	assert_int_equal(alog_log_pending(f->log), 0);
	assert_int_equal(size_of(f), 1);
}

/* Parse into ev (as the daemon's I/O thread does), then judge. */
static struct alog_submit submit_parsed(struct fx *f, struct alog_event *ev,
					const char *line, int trusted,
					struct alog_err *err)
{
	struct alog_submit res;
	int rc;

	alog_err_clear(err);
	rc = alog_event_parse(ev, line, strlen(line), err);
	if (rc < 0)
		fail_with("parse", rc, err);
	rc = alog_log_submit_parsed(f->log, ev, &prov, T0, trusted, &res,
				    err);
	if (rc < 0)
		fail_with("submit parsed", rc, err);
	return res;
}

static void test_log_submit_parsed_judges_like_submit(void **state)
{
	struct fx *f = *state;
	const char *a = "{\"type\":\"a.b\",\"id\":\"p-1\",\"source\":\"s\"}";
	const char *a_spaced = " {\"type\": \"a.b\", \"id\": \"p-1\", "
			       "\"source\": \"s\"} ";
	const char *a_other = "{\"type\":\"a.b\",\"id\":\"p-1\","
			      "\"source\":\"s\",\"n\":2}";
	struct alog_record_view v;
	struct alog_buf rec;
	struct alog_event ev;
	struct alog_submit res;
	struct alog_err err;

	alog_event_init(&ev);
	alog_buf_init(&rec, ALOG_RECORD_MAX);
	res = submit_parsed(f, &ev, a, 0, &err);
	assert_int_equal(res.status, ALOG_SUBMIT_ACCEPTED);
	assert_int_equal(res.index, 0);
	assert_string_equal(res.id, "p-1");
	/* Same batch: whitespace does not make it new; another body
	 * conflicts. */
	res = submit_parsed(f, &ev, a_spaced, 0, &err);
	assert_int_equal(res.status, ALOG_SUBMIT_DUPLICATE);
	assert_int_equal(res.index, 0);
	res = submit_parsed(f, &ev, a_other, 0, &err);
	assert_int_equal(res.status, ALOG_SUBMIT_REJECTED);
	assert_string_equal(res.code, "conflict");
	res = submit_parsed(f, &ev, "{\"type\":\"daemon.x\"}", 0, &err);
	assert_int_equal(res.status, ALOG_SUBMIT_REJECTED);
	assert_string_equal(res.code, "reserved_type");
	/* Without an id one is assigned (in ev too). */
	res = submit_parsed(f, &ev, "{\"type\":\"c\"}", 0, &err);
	assert_int_equal(res.status, ALOG_SUBMIT_ACCEPTED);
	assert_int_equal(res.index, 1);
	assert_int_equal(strlen(res.id), 36);
	assert_string_equal(ev.id, res.id);
	commit(f);
	/* Against the stored record. */
	res = submit_parsed(f, &ev, a_spaced, 0, &err);
	assert_int_equal(res.status, ALOG_SUBMIT_DUPLICATE);
	assert_int_equal(res.index, 0);
	res = submit_parsed(f, &ev, a_other, 0, &err);
	assert_int_equal(res.status, ALOG_SUBMIT_REJECTED);
	assert_string_equal(res.code, "conflict");
	assert_non_null(strstr(err.msg, "stored at index 0"));
	/* The record holds the canonical event. */
	assert_int_equal(alog_store_get(alog_log_store(f->log), 0, &rec, &err),
			 0);
	assert_int_equal(alog_record_parse((const char *)rec.data, rec.len, &v,
					   &err), 0);
	assert_int_equal(v.event_len, strlen(a));
	assert_memory_equal(v.event, a, v.event_len);
	assert_int_equal(size_of(f), 2);
	alog_buf_release(&rec);
	alog_event_release(&ev);
}

/* SPEC.md 7 "Id keys": the store keys (source, id) by the first 16 bytes
 * of its digest (t and 80 bits of SHA-256), which two ids of no UUIDv7
 * time share after a birthday search of about 2^40 digests. Two such
 * ids in one batch: the later is refused as a conflict with the earlier,
 * as against a stored one, and the batch commits (the store refuses a
 * batch that holds one key twice). The digests are set as a parsing
 * thread sets them, the first 16 bytes equal and the rest not. */
static void test_log_ids_of_one_store_key_in_a_batch_conflict(void **state)
{
	struct fx *f = *state;
	struct alog_event ev;
	struct alog_submit res;
	struct alog_err err;
	unsigned char key[ALOG_STORE_ID_LEN];
	int rc;

	alog_event_init(&ev);
	alog_store_id_key(NULL, "s", "x-1", key);
	for (int i = 0; i < 2; i++) {
		static const char *const lines[] = {
			"{\"type\":\"a\",\"id\":\"x-1\",\"source\":\"s\"}",
			"{\"type\":\"a\",\"id\":\"x-2\",\"source\":\"s\"}",
		};
		const char *line = lines[i];

		alog_err_clear(&err);
		rc = alog_event_parse(&ev, line, strlen(line), &err);
		if (rc < 0)
			fail_with("parse", rc, &err);
		memcpy(ev.id_key, key, sizeof(key));
		ev.id_key[ALOG_STORE_ID_LEN - 1] ^= (unsigned char)i;
		ev.has_id_key = 1;
		rc = alog_log_submit_parsed(f->log, &ev, &prov, T0, 0, &res,
					    &err);
		if (rc < 0)
			fail_with("submit parsed", rc, &err);
		if (i == 0) {
			assert_int_equal(res.status, ALOG_SUBMIT_ACCEPTED);
			continue;
		}
		assert_int_equal(res.status, ALOG_SUBMIT_REJECTED);
		assert_string_equal(res.code, "conflict");
	}
	commit(f);
	assert_int_equal(size_of(f), 1);
	alog_event_release(&ev);
}

static void test_log_reserved_types_need_trust(void **state)
{
	static const char *const reserved[] = {
		"{\"type\":\"checkpoint.signed\"}",
		"{\"type\":\"store.recovered\"}",
		"{\"type\":\"daemon\"}",
		"{\"type\":\"admin.user.added\"}",
		"{\"type\":\"integrity.verified\"}",
		"{\"type\":\"anomaly.detected\"}",
		"{\"type\":\"backup.done\"}",
		"{\"type\":\"report.made\"}",
	};
	struct fx *f = *state;
	struct alog_submit res;

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		res = submit_at(f, reserved[i], T0, 0);
		assert_int_equal(res.status, ALOG_SUBMIT_REJECTED);
		assert_string_equal(res.code, "reserved_type");
	}
	assert_int_equal(alog_log_pending(f->log), 0);
	/* A prefix that only looks alike is not reserved. */
	assert_int_equal(accept(f, "{\"type\":\"storefront.opened\"}", T0), 0);
	assert_int_equal(accept(f, "{\"type\":\"daemons.x\"}", T0), 1);
	res = submit_at(f, reserved[0], T0, 1);
	assert_int_equal(res.status, ALOG_SUBMIT_ACCEPTED);
	assert_int_equal(res.index, 2);
	commit(f);
	assert_int_equal(size_of(f), 3);
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void expect_uuid7(const char *id, int64_t now_us)
{
	char want[32];

	assert_int_equal(strlen(id), 36);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(id[i], '-');
		else
			assert_true(is_hex(id[i]));
	}
	assert_int_equal(id[14], '7');                /* version */
	assert_non_null(strchr("89ab", id[19]));      /* variant 10 */
	/* unix_ts_ms, 48 bits */
	snprintf(want, sizeof(want), "%012" PRIx64,
		 (uint64_t)(now_us / 1000) & UINT64_C(0xffffffffffff));
	assert_memory_equal(id, want, 8);
	assert_memory_equal(id + 9, want + 8, 4);
}

static void test_log_event_without_id_gets_a_uuid7_and_is_never_deduplicated(
	void **state)
{
	struct fx *f = *state;
	const char *line = "{\"type\":\"probe.ok\",\"source\":\"db\"}";
	struct alog_submit r1, r2, r3;
	char *id;

	r1 = submit_at(f, line, T0 + 123456, 0);
	r2 = submit_at(f, line, T0 + 123456, 0);
	assert_int_equal(r1.status, ALOG_SUBMIT_ACCEPTED);
	assert_int_equal(r2.status, ALOG_SUBMIT_ACCEPTED);
	assert_int_equal(r2.index, r1.index + 1);
	expect_uuid7(r1.id, T0 + 123456);
	expect_uuid7(r2.id, T0 + 123456);
	assert_string_not_equal(r1.id, r2.id);
	commit(f);
	r3 = submit_at(f, line, T0 + 200000, 0);
	assert_int_equal(r3.status, ALOG_SUBMIT_ACCEPTED);
	assert_int_equal(r3.index, 2);
	commit(f);
	/* The record carries the assigned id; the event stays as sent. */
	id = id_of(f, 0);
	assert_string_equal(id, r1.id);
	free(id);
	id = event_text(f, 2);
	assert_string_equal(id, line);
	free(id);
	/* An event with an id keeps it. */
	r1 = submit_at(f, "{\"type\":\"probe.ok\",\"id\":\"mine\"}", T0, 0);
	assert_string_equal(r1.id, "mine");
	commit(f);
	id = id_of(f, 3);
	assert_string_equal(id, "mine");
	free(id);
}

static void test_log_received_times_never_go_backwards(void **state)
{
	struct fx *f = *state;

	accept(f, "{\"type\":\"a\"}", T0 + 1000);
	accept(f, "{\"type\":\"a\"}", T0 + 500);   /* clock stepped back */
	accept(f, "{\"type\":\"a\"}", T0 + 1500);
	commit(f);
	accept(f, "{\"type\":\"a\"}", T0 + 200);   /* and again, next batch */
	commit(f);
	reopen_log(f, T0, NULL);
	accept(f, "{\"type\":\"a\"}", T0 + 100);   /* and after a reopen */
	accept(f, "{\"type\":\"a\"}", T0 + 2000);
	commit(f);
	{
		static const int64_t want[] = { 1000, 1000, 1500, 1500, 1500,
						2000 };

		assert_int_equal(size_of(f), 6);
		for (uint64_t i = 0; i < 6; i++)
			assert_int_equal(received_of(f, i), T0 + want[i]);
	}
	/* A discarded batch does not hold the clock up. */
	accept(f, "{\"type\":\"a\"}", T0 + 9000);
	alog_log_discard(f->log);
	accept(f, "{\"type\":\"a\"}", T0 + 2500);
	commit(f);
	assert_int_equal(received_of(f, 6), T0 + 2500);
}

static void test_log_batch_limit_asks_for_a_commit(void **state)
{
	struct fx *f = *state;
	struct alog_submit res;
	struct alog_err err;
	char line[64];

	for (unsigned i = 0; i < ALOG_LOG_BATCH_MAX; i++) {
		snprintf(line, sizeof(line), "{\"type\":\"a\",\"id\":\"%u\"}", i);
		assert_int_equal(accept(f, line, T0 + i), i);
	}
	assert_int_equal(alog_log_batch_full(f->log), 1);
	alog_err_clear(&err);
	assert_int_equal(alog_log_submit(f->log, "{\"type\":\"a\"}", 12, &prov,
					 T0, 0, &res, &err),
			 ALOG_ELIMIT);
	commit(f);
	assert_int_equal(size_of(f), ALOG_LOG_BATCH_MAX);
	assert_int_equal(alog_log_batch_full(f->log), 0);
	/* The dedupe table was cleared with the batch; the store answers. */
	res = submit_at(f, "{\"type\":\"a\",\"id\":\"4095\"}", T0, 0);
	assert_int_equal(res.status, ALOG_SUBMIT_DUPLICATE);
	assert_int_equal(res.index, 4095);
	assert_int_equal(accept(f, "{\"type\":\"a\",\"id\":\"x\"}", T0),
			 ALOG_LOG_BATCH_MAX);
	commit(f);
}

/* Line of id "b-k" whose record at index, received at now, is rec_len
 * bytes (its event canonical as written: the pad fills the rest); the
 * longest line when rec_len is 0. */
static void line_of_record_len(char *line, size_t cap, int k, uint64_t index,
			       int64_t now, size_t rec_len)
{
	struct alog_buf rec;
	struct alog_err err;
	char id[32];
	size_t pad;
	int n;

	snprintf(id, sizeof(id), "b-%d", k);
	n = snprintf(line, cap,
		     "{\"type\":\"user.login\",\"source\":\"app\",\"id\":\"%s\",\"pad\":\"\"}",
		     id);
	alog_buf_init(&rec, 0);
	alog_err_clear(&err);
	assert_int_equal(alog_record_format(index, now, id, &prov,
					    (const unsigned char *)line,
					    (size_t)n, &rec, &err), 0);
	pad = rec_len ? rec_len - rec.len : cap - 1 - (size_t)n;
	assert_true((!rec_len || rec_len >= rec.len) && pad + (size_t)n < cap);
	memmove(line + n - 2 + pad, line + n - 2, 3);
	memset(line + n - 2, 'p', pad);
	alog_buf_release(&rec);
}

/* SPEC.md 10.2: a batch is full at ALOG_LOG_BATCH_BYTES_MAX record
 * bytes; a batch one byte short of it takes one more record, the
 * longest there is. */
static void test_log_batch_bytes_count_record_bytes(void **state)
{
	struct fx *f = *state;
	char *line = malloc(ALOG_EVENT_LINE_MAX + 1);
	size_t bytes = 0, left;
	int k = 0;

	assert_non_null(line);
	/* pipelined: the batch is streamed too */
	must(f, alog_log_commit_start, "commit start");
	for (;; k++) {
		size_t len = 60000;

		left = ALOG_LOG_BATCH_BYTES_MAX - 1 - bytes;
		if (left == 0)
			break;
		if (left < 2 * len)  /* the last two end one byte short */
			len = left > len ? left / 2 : left;
		assert_int_equal(alog_log_batch_full(f->log), 0);
		line_of_record_len(line, ALOG_EVENT_LINE_MAX + 1, k,
				   (uint64_t)k, T0 + k, len);
		assert_int_equal(accept(f, line, T0 + k), (uint64_t)k);
		bytes += len;
	}
	assert_int_equal(alog_log_batch_full(f->log), 0);
	line_of_record_len(line, ALOG_EVENT_LINE_MAX + 1, k, (uint64_t)k,
			   T0 + k, 0);
	assert_int_equal(strlen(line), ALOG_EVENT_LINE_MAX);
	assert_int_equal(accept(f, line, T0 + k), (uint64_t)k);
	assert_int_equal(alog_log_batch_full(f->log), 1);
	commit(f);
	assert_int_equal(size_of(f), (uint64_t)k + 1);
	close_log(f);
	{
		struct alog_verify_result vr;

		expect_verify_ok(f, &f->vkey, &vr);
		assert_int_equal(vr.tree_size, (uint64_t)k + 1);
	}
	free(line);
}

static void test_log_internal_events_are_committed_with_pending_ones(
	void **state)
{
	struct fx *f = *state;
	struct alog_buf b;
	struct alog_record_view v;
	struct alog_err err;
	uint64_t index = 99;
	char *ev;

	accept(f, "{\"type\":\"a\"}", T0);
	alog_err_clear(&err);
	assert_int_equal(alog_log_append_internal(f->log, "daemon.started",
						  "\"version\":\"1\"", T0 + 1,
						  &index, &err),
			 0);
	assert_int_equal(index, 1);
	assert_int_equal(size_of(f), 2);
	assert_int_equal(alog_log_pending(f->log), 0);
	ev = event_text(f, 1);
	assert_string_equal(ev, "{\"type\":\"daemon.started\",\"source\":"
				"\"auditlog\",\"version\":\"1\"}");
	free(ev);
	alog_buf_init(&b, 0);
	get_record(f, 1, &b, &v);
	assert_non_null(strstr((const char *)b.data,
			       "\"transport\":\"internal\""));
	alog_buf_release(&b);
	assert_int_equal(alog_log_append_internal(f->log, "daemon.stopped", "",
						  T0 + 2, NULL, &err),
			 0);
	ev = event_text(f, 2);
	assert_string_equal(ev, "{\"type\":\"daemon.stopped\",\"source\":"
				"\"auditlog\"}");
	free(ev);
}

/* ---- checkpoints ---- */

static void expect_checkpoint_event(struct fx *f, uint64_t index,
				    uint64_t seq, uint64_t size)
{
	unsigned char root[ALOG_HASH_LEN];
	char hex[2 * ALOG_HASH_LEN + 1], want[256];
	struct alog_err err;
	char *ev;

	assert_int_equal(alog_store_root_at(alog_log_store(f->log), size, root,
					    &err),
			 0);
	alog_hex_encode(root, ALOG_HASH_LEN, hex);
	snprintf(want, sizeof(want),
		 "{\"type\":\"checkpoint.signed\",\"source\":\"auditlog\","
		 "\"checkpoint\":%" PRIu64 ",\"size\":%" PRIu64
		 ",\"root\":\"%s\"}",
		 seq, size, hex);
	ev = event_text(f, index);
	assert_string_equal(ev, want);
	free(ev);
}

static void test_log_checkpoint_signs_only_when_the_log_grew(void **state)
{
	struct fx *f = *state;
	struct alog_store_checkpoint ck;
	struct alog_checkpoint cp;
	struct alog_signer *other;
	struct alog_err err;
	int rc;

	/* The empty log. */
	alog_err_clear(&err);
	rc = alog_log_checkpoint(f->log, f->signer, T0, &ck, &err);
	if (rc < 0)
		fail_with("checkpoint", rc, &err);
	assert_int_equal(ck.seq, 0);
	assert_int_equal(ck.size, 0);
	alog_store_checkpoint_release(&ck);
	assert_int_equal(size_of(f), 1);
	expect_checkpoint_event(f, 0, 0, 0);
	/* Only its own checkpoint.signed event since: nothing new. */
	assert_int_equal(alog_log_checkpoint(f->log, f->signer, T0 + 1, &ck,
					     &err),
			 0);
	assert_int_equal(ck.seq, 0);
	assert_int_equal(ck.size, 0);
	alog_store_checkpoint_release(&ck);
	assert_int_equal(alog_store_checkpoint_count(alog_log_store(f->log)), 1);
	assert_int_equal(size_of(f), 1);
	/* A new event (pending: the checkpoint commits it first). */
	accept(f, "{\"type\":\"a\"}", T0 + 2);
	assert_int_equal(alog_log_checkpoint(f->log, f->signer, T0 + 3, &ck,
					     &err),
			 0);
	assert_int_equal(ck.seq, 1);
	assert_int_equal(ck.size, 2);
	assert_int_equal(ck.signed_us, T0 + 3);
	assert_int_equal(alog_checkpoint_open_note(&f->vkey,
						   (const char *)ck.note.data,
						   ck.note.len, &cp, &err),
			 0);
	assert_int_equal(cp.size, 2);
	assert_string_equal(cp.origin, ORIGIN);
	alog_store_checkpoint_release(&ck);
	assert_int_equal(size_of(f), 3);
	expect_checkpoint_event(f, 2, 1, 2);
	assert_int_equal(alog_log_checkpoint(f->log, f->signer, T0 + 4, &ck,
					     &err),
			 0);
	assert_int_equal(ck.seq, 1);
	alog_store_checkpoint_release(&ck);
	/* Also after a reopen. */
	reopen_log(f, T0 + 5, NULL);
	assert_int_equal(alog_log_checkpoint(f->log, f->signer, T0 + 5, &ck,
					     &err),
			 0);
	assert_int_equal(ck.seq, 1);
	alog_store_checkpoint_release(&ck);
	assert_int_equal(alog_store_checkpoint_count(alog_log_store(f->log)), 2);
	/* Another internal event is growth too. */
	assert_int_equal(alog_log_append_internal(f->log, "daemon.started", "",
						  T0 + 6, NULL, &err),
			 0);
	assert_int_equal(alog_log_checkpoint(f->log, f->signer, T0 + 7, &ck,
					     &err),
			 0);
	assert_int_equal(ck.seq, 2);
	assert_int_equal(ck.size, 4);
	alog_store_checkpoint_release(&ck);
	expect_checkpoint_event(f, 4, 2, 4);
	/* Not the store's key: refused, nothing logged. */
	accept(f, "{\"type\":\"a\"}", T0 + 8);
	assert_int_equal(alog_signer_generate("example.com/audit-key", &other,
					      NULL), 0);
	alog_err_clear(&err);
	assert_int_equal(alog_log_checkpoint(f->log, other, T0 + 9, &ck, &err),
			 ALOG_EINVAL);
	alog_store_checkpoint_release(&ck);
	alog_signer_free(other);
	assert_int_equal(alog_store_checkpoint_count(alog_log_store(f->log)), 3);
	assert_int_equal(size_of(f), 6);
}

/* ---- recovery ---- */

static void test_log_open_logs_store_recovered_when_bytes_were_cut(
	void **state)
{
	struct fx *f = *state;
	struct alog_store_recovery rec;
	struct alog_verify_result vr;
	char seg[4200], want[256];
	uint64_t committed;
	FILE *fp;
	char *ev;

	accept(f, "{\"type\":\"a\"}", T0);
	accept(f, "{\"type\":\"b\"}", T0 + 1);
	commit(f);
	close_log(f);
	snprintf(seg, sizeof(seg), "%s/segments/00000001.seg", f->dir);
	{
		struct stat st;

		assert_int_equal(stat(seg, &st), 0);
		committed = (uint64_t)st.st_size;
	}
	/* A torn append: 17 bytes that never committed. */
	fp = fopen(seg, "ab");
	assert_non_null(fp);
	assert_int_equal(fwrite("ALB1 torn block..", 1, 17, fp), 17);
	assert_int_equal(fclose(fp), 0);

	reopen_log(f, T0 + 50, &rec);
	assert_int_equal(rec.cut, 1);
	assert_int_equal(rec.cut_bytes, 17);
	assert_int_equal(rec.cut_from, committed);
	assert_int_equal(size_of(f), 3);
	ev = event_text(f, 2);
	snprintf(want, sizeof(want),
		 "{\"type\":\"store.recovered\",\"source\":\"auditlog\","
		 "\"segment\":1,\"committed_end\":%" PRIu64
		 ",\"cut_bytes\":17,\"removed_segments\":0}",
		 committed);
	assert_string_equal(ev, want);
	free(ev);
	assert_int_equal(received_of(f, 2), T0 + 50);
	/* A clean open logs nothing. */
	reopen_log(f, T0 + 60, &rec);
	assert_int_equal(rec.cut, 0);
	assert_int_equal(size_of(f), 3);
	/* A segment file left by a batch that never committed. */
	close_log(f);
	snprintf(seg, sizeof(seg), "%s/segments/00000005.seg", f->dir);
	fp = fopen(seg, "wb");
	assert_non_null(fp);
	assert_int_equal(fclose(fp), 0);
	reopen_log(f, T0 + 70, &rec);
	assert_int_equal(rec.cut, 0);
	assert_int_equal(rec.removed_segments, 1);
	assert_int_equal(size_of(f), 4);
	ev = event_text(f, 3);
	assert_non_null(strstr(ev, "{\"type\":\"store.recovered\","));
	assert_non_null(strstr(ev, "\"removed_segments\":1}"));
	free(ev);
	close_log(f);
	expect_verify_ok(f, &f->vkey, &vr);
	assert_int_equal(vr.tree_size, 4);
}

/* ---- verification ---- */

/* Build a log of n_commits batches of k events, with a checkpoint
 * after the first batch; returns the checkpoint's note (malloc'd). */
static char *build_log(struct fx *f, unsigned n_commits, unsigned k,
		       size_t *note_len, uint64_t *ck_size)
{
	struct alog_store_checkpoint ck;
	struct alog_err err;
	char line[128], *note = NULL;
	int64_t t = T0;

	for (unsigned c = 0; c < n_commits; c++) {
		for (unsigned i = 0; i < k; i++) {
			snprintf(line, sizeof(line),
				 "{\"type\":\"user.login\",\"id\":\"c%u-%u\","
				 "\"source\":\"web\",\"user\":\"u%u\"}",
				 c, i, i * 7);
			accept(f, line, t++);
		}
		commit(f);
		if (c == 0) {
			alog_err_clear(&err);
			assert_int_equal(alog_log_checkpoint(f->log, f->signer,
							     t++, &ck, &err),
					 0);
			note = strndup((const char *)ck.note.data,
				       ck.note.len);
			assert_non_null(note);
			*note_len = ck.note.len;
			*ck_size = ck.size;
			alog_store_checkpoint_release(&ck);
		}
	}
	close_log(f);
	return note;
}

struct prog {
	uint64_t calls, done, total;
};

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct prog *p = ctx;

	p->calls++;
	p->done = done;
	p->total = total;
}

static void test_log_verify_passes_a_clean_log_with_and_without_anchor(
	void **state)
{
	struct fx *f = *state;
	struct alog_verify_result vr;
	struct alog_err err;
	size_t note_len = 0;
	uint64_t ck_size = 0;
	char *note = build_log(f, 4, 10, &note_len, &ck_size);
	int rc;

	expect_verify_ok(f, NULL, &vr);
	assert_int_equal(vr.tree_size, 41);
	{
		struct prog pr = { 0, 0, 0 };
		struct alog_store_check_progress pg = { on_progress, &pr };

		assert_int_equal(alog_log_verify(f->dir, NULL, NULL, 0, &pg,
						 &vr, &err),
				 0);
		assert_true(pr.calls > 0);
		assert_int_equal(pr.done, 41);
		assert_int_equal(pr.total, 41);
	}
	assert_int_equal(vr.n_checkpoints, 1);
	assert_int_equal(vr.anchored, 0);
	expect_verify_ok(f, &f->vkey, &vr);
	alog_err_clear(&err);
	rc = alog_log_verify(f->dir, &f->vkey, note, note_len, NULL, &vr, &err);
	if (rc < 0)
		fail_with("anchored verify", rc, &err);
	assert_int_equal(vr.anchored, 1);
	assert_int_equal(vr.anchor_size, ck_size);
	assert_int_equal(ck_size, 10);
	assert_true(vr.bad_index == UINT64_MAX);
	/* An anchor needs the key it was signed with. */
	assert_int_equal(alog_log_verify(f->dir, NULL, note, note_len, NULL,
					 &vr, &err),
			 ALOG_EINVAL);
	free(note);
}

static void test_log_verify_fails_with_another_verifier_key(void **state)
{
	struct fx *f = *state;
	struct alog_verify_result vr;
	struct alog_signer *other;
	struct alog_verifier ov;
	struct alog_err err;
	size_t note_len = 0;
	uint64_t ck_size = 0;
	char *note = build_log(f, 2, 3, &note_len, &ck_size);

	/* Same name, another key; and another name. */
	assert_int_equal(alog_signer_generate("example.com/audit-key", &other,
					      NULL), 0);
	alog_signer_verifier(other, &ov);
	alog_err_clear(&err);
	assert_int_equal(alog_log_verify(f->dir, &ov, NULL, 0, NULL, &vr, &err),
			 ALOG_EVERIFY);
	alog_signer_free(other);
	assert_int_equal(alog_signer_generate("someone-else", &other, NULL), 0);
	alog_signer_verifier(other, &ov);
	assert_int_equal(alog_log_verify(f->dir, &ov, note, note_len, NULL, &vr,
					 &err),
			 ALOG_EVERIFY);
	alog_signer_free(other);
	free(note);
}

/* A checkpoint note for (origin, size, root) signed with signer. */
static char *forge_note(const struct alog_signer *signer, const char *origin,
			uint64_t size, const unsigned char root[ALOG_HASH_LEN],
			size_t *len)
{
	struct alog_checkpoint cp;
	struct alog_buf body, note;
	char *out;

	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", origin);
	cp.size = size;
	memcpy(cp.root, root, ALOG_HASH_LEN);
	alog_buf_init(&body, ALOG_NOTE_MAX);
	alog_buf_init(&note, ALOG_NOTE_MAX);
	assert_int_equal(alog_checkpoint_format(&cp, &body, NULL), 0);
	assert_int_equal(alog_note_sign(signer, (const char *)body.data,
					body.len, &note, NULL),
			 0);
	out = strndup((const char *)note.data, note.len);
	assert_non_null(out);
	*len = note.len;
	alog_buf_release(&body);
	alog_buf_release(&note);
	return out;
}

static void test_log_verify_fails_with_an_anchor_over_other_content(
	void **state)
{
	struct fx *f = *state;
	struct alog_verify_result vr;
	struct alog_checkpoint cp;
	struct alog_err err;
	unsigned char root[ALOG_HASH_LEN];
	size_t note_len = 0, len = 0;
	uint64_t ck_size = 0;
	char *note = build_log(f, 3, 4, &note_len, &ck_size);
	char *forged;
	int rc;

	assert_int_equal(alog_checkpoint_open_note(&f->vkey, note, note_len,
						   &cp, NULL),
			 0);
	/* Same key, same origin and size, another root: a log rebuilt. */
	memcpy(root, cp.root, ALOG_HASH_LEN);
	root[0] ^= 1;
	forged = forge_note(f->signer, ORIGIN, cp.size, root, &len);
	alog_err_clear(&err);
	rc = alog_log_verify(f->dir, &f->vkey, forged, len, NULL, &vr, &err);
	assert_int_equal(rc, ALOG_EVERIFY);
	assert_int_equal(vr.anchored, 1);
	free(forged);
	/* Larger than the log: records were removed. */
	forged = forge_note(f->signer, ORIGIN, 1000, cp.root, &len);
	assert_int_equal(alog_log_verify(f->dir, &f->vkey, forged, len, NULL,
					 &vr, &err),
			 ALOG_EVERIFY);
	free(forged);
	/* Another log's checkpoint. */
	forged = forge_note(f->signer, "example.com/other", cp.size, cp.root,
			    &len);
	assert_int_equal(alog_log_verify(f->dir, &f->vkey, forged, len, NULL,
					 &vr, &err),
			 ALOG_EVERIFY);
	free(forged);
	/* The genuine one, at every size a later checkpoint could have. */
	for (uint64_t size = 0; size <= 13; size++) {
		struct alog_store *s;

		assert_int_equal(alog_store_open(f->dir, ALOG_STORE_RDONLY, &s,
						 NULL, &err),
				 0);
		assert_int_equal(alog_store_root_at(s, size, root, &err), 0);
		alog_store_close(s);
		forged = forge_note(f->signer, ORIGIN, size, root, &len);
		alog_err_clear(&err);
		rc = alog_log_verify(f->dir, &f->vkey, forged, len, NULL, &vr,
				     &err);
		if (rc < 0)
			fail_msg("anchor at size %" PRIu64 ": %s", size,
				 err.msg);
		assert_int_equal(vr.anchor_size, size);
		free(forged);
	}
	free(note);
}

/* Rewrite the block of segment 1 that holds record `index`: the digit
 * right after `after` inside that record is changed (the record's
 * "index":N when after is NULL), and the block is re-encoded to exactly
 * its old length (trying other values of up to two digits until the
 * compressed size matches). */
static void tamper_record(struct fx *f, uint64_t index, const char *after)
{
	char seg_dir[4200], path[4300];
	struct alog_segment *seg = NULL;
	struct alog_codec *codec = NULL;
	struct alog_block_header h;
	struct alog_buf payload, enc;
	struct alog_err err;
	uint64_t off = ALOG_SEGMENT_HEADER_LEN, next = 0;
	char needle[64];
	unsigned char *p;
	int done = 0, fd;
	char orig[2];
	size_t k;

	snprintf(seg_dir, sizeof(seg_dir), "%s/segments", f->dir);
	snprintf(path, sizeof(path), "%s/00000001.seg", seg_dir);
	alog_buf_init(&payload, 0);
	alog_buf_init(&enc, 0);
	assert_int_equal(alog_codec_new(&codec, NULL), 0);
	assert_int_equal(alog_segment_open(seg_dir, 1, 0, &seg, &err), 0);
	for (;;) {
		assert_int_equal(alog_segment_read_block(seg, codec, off, &h,
							 &payload, &next, &err),
				 0);
		if (index >= h.first_index &&
		    index - h.first_index < h.n_records)
			break;
		off = next;
	}
	snprintf(needle, sizeof(needle), "{\"index\":%" PRIu64 ",", index);
	p = memmem(payload.data, payload.len, needle, strlen(needle));
	assert_non_null(p);
	if (after) {
		unsigned char *e = memchr(p, '\n',
					  payload.len - (size_t)(p - payload.data));

		assert_non_null(e);
		p = memmem(p, (size_t)(e - p), after, strlen(after));
		assert_non_null(p);
		p += strlen(after);
	} else {
		p += strlen("{\"index\":");
	}
	/* Up to two digits from p: try every other value of them. */
	assert_true(*p >= '0' && *p <= '9');
	k = (p[1] >= '0' && p[1] <= '9') ? 2 : 1;
	memcpy(orig, p, k);
	for (unsigned v = 0; v < (k == 2 ? 100u : 10u) && !done; v++) {
		char d[3];

		snprintf(d, sizeof(d), k == 2 ? "%02u" : "%u", v);
		if (memcmp(d, orig, k) == 0 || (!after && k == 2 && d[0] == '0'))
			continue;
		memcpy(p, d, k);
		alog_buf_reset(&enc);
		assert_int_equal(alog_block_encode(codec, h.first_index,
						   h.n_records,
						   h.first_received,
						   payload.data, payload.len,
						   &enc, NULL),
				 0);
		done = enc.len == next - off;
	}
	assert_true(done);
	alog_segment_close(seg);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, enc.data, enc.len, (off_t)off),
			 (ssize_t)enc.len);
	close(fd);
	alog_codec_free(codec);
	alog_buf_release(&payload);
	alog_buf_release(&enc);
}

static void test_log_verify_finds_the_record_whose_bytes_changed(
	void **state)
{
	struct fx *f = *state;
	struct alog_verify_result vr;
	struct alog_err err;
	size_t note_len = 0;
	uint64_t ck_size = 0;
	char *note = build_log(f, 4, 10, &note_len, &ck_size);
	int rc;

	/* Record 25: after the checkpoint (size 10), in the third batch. */
	tamper_record(f, 25, NULL);
	alog_err_clear(&err);
	rc = alog_log_verify(f->dir, NULL, NULL, 0, NULL, &vr, &err);
	assert_int_equal(rc, ALOG_ECORRUPT);
	assert_int_equal(vr.bad_index, 25);
	if (!strstr(err.msg, "25"))
		fail_msg("message does not name record 25: %s", err.msg);
	free(note);
}

static void test_log_verify_blames_no_single_record_for_a_checkpoint_mismatch(
	void **state)
{
	struct fx *f = *state;
	struct alog_verify_result vr;
	struct alog_err err;
	size_t note_len = 0;
	uint64_t ck_size = 0;
	char *note = build_log(f, 3, 10, &note_len, &ck_size);
	int rc;

	/* Record 3 still parses and says it is record 3, but its event
	 * changed ("u21" -> "u?1"): only the signed root of checkpoint 0
	 * (size 10) shows it, and no single record can be blamed. */
	tamper_record(f, 3, "\"user\":\"u");
	alog_err_clear(&err);
	rc = alog_log_verify(f->dir, NULL, NULL, 0, NULL, &vr, &err);
	assert_true(rc == ALOG_EVERIFY || rc == ALOG_ECORRUPT);
	if (!strstr(err.msg, "checkpoint 0"))
		fail_msg("message does not name checkpoint 0: %s", err.msg);
	assert_true(vr.bad_index == UINT64_MAX);
	free(note);
}

/* SPEC.md 15.1: report.generated and integrity.verified from a unix peer
 * running as this process's euid or root; nothing else, from nobody else. */
static void test_log_owner_records_are_trusted_only_from_the_owner_over_unix(
	void **state)
{
	struct alog_event ev;
	struct alog_provenance unix_me = { .transport = "unix",
					   .uid = (int64_t)geteuid(),
					   .gid = 0, .pid = 1 };
	struct alog_provenance unix_root = unix_me, unix_other = unix_me;
	struct alog_provenance tcp = { .transport = "tcp", .uid = -1,
				       .gid = -1, .pid = -1,
				       .addr = "127.0.0.1:9" };
	struct alog_provenance raw = { 0 };
	char text[128];
	int64_t uid;

	(void)state;
	unix_root.uid = 0;
	unix_other.uid = (int64_t)geteuid() + 4242;
	alog_event_init(&ev);
	snprintf(ev.type, sizeof(ev.type), "report.generated");
	assert_true(alog_log_owner_trusted(&ev, &unix_me));
	assert_true(alog_log_owner_trusted(&ev, &unix_root));
	assert_false(alog_log_owner_trusted(&ev, &unix_other));
	assert_false(alog_log_owner_trusted(&ev, &tcp));
	snprintf(ev.type, sizeof(ev.type), "integrity.verified");
	assert_true(alog_log_owner_trusted(&ev, &unix_me));
	snprintf(ev.type, sizeof(ev.type), "admin.action");
	assert_false(alog_log_owner_trusted(&ev, &unix_me));
	snprintf(ev.type, sizeof(ev.type), "report.generated.x");
	assert_false(alog_log_owner_trusted(&ev, &unix_me));

	/* a spool record's raw provenance says the same */
	snprintf(ev.type, sizeof(ev.type), "report.generated");
	snprintf(text, sizeof(text),
		 "{\"transport\":\"unix\",\"uid\":%u,\"gid\":0,\"pid\":7}",
		 (unsigned)geteuid());
	raw.raw = text;
	raw.raw_len = strlen(text);
	assert_true(alog_log_owner_trusted(&ev, &raw));
	snprintf(text, sizeof(text),
		 "{\"transport\":\"unix\",\"uid\":%u,\"gid\":0,\"pid\":7}",
		 (unsigned)geteuid() + 4242u);
	raw.raw_len = strlen(text);
	assert_false(alog_log_owner_trusted(&ev, &raw));
	snprintf(text, sizeof(text), "{\"transport\":\"tcp\",\"addr\":\"x\"}");
	raw.raw_len = strlen(text);
	assert_false(alog_log_owner_trusted(&ev, &raw));

	/* the uid reader takes exactly the canonical form */
	assert_int_equal(alog_provenance_unix_uid("{\"transport\":\"unix\",\"uid\":12,\"gid\":1}", 37, &uid), 0);
	assert_int_equal(uid, 12);
	assert_int_equal(alog_provenance_unix_uid("{\"transport\":\"unix\",\"uid\":12}", 29, &uid), 0);
	assert_int_equal(alog_provenance_unix_uid("{\"transport\":\"unix\",\"uid\":}", 27, &uid), -1);
	assert_int_equal(alog_provenance_unix_uid("{\"transport\":\"unix\",\"uid\":1x}", 29, &uid), -1);
	assert_int_equal(alog_provenance_unix_uid("{\"transport\":\"unix\",\"uid\":12", 28, &uid), -1);
	assert_int_equal(alog_provenance_unix_uid("{\"transport\":\"unix\",\"uid\":12345678901234567}", 44, &uid), -1);
	assert_int_equal(alog_provenance_unix_uid("{\"transport\":\"internal\",\"uid\":0}", 32, &uid), -1);
	alog_event_release(&ev);
}

/* ---- pipelined commits ---- */

#define EV_N(id, n) \
	"{\"type\":\"user.login\",\"source\":\"app\",\"id\":\"" id \
	"\",\"n\":" n "}"

static void start_commit(struct fx *f)
{
	must(f, alog_log_commit_start, "commit start");
	assert_int_equal(alog_log_pending(f->log), 0);
}

static void wait_commit(struct fx *f)
{
	must(f, alog_log_commit_wait, "commit wait");
	assert_int_equal(alog_log_in_flight(f->log), 0);
}

/* line, submitted at now, is a duplicate of index, or a conflict when
 * index is UINT64_MAX. */
static void expect_judged(struct fx *f, const char *line, int64_t now,
			  uint64_t index)
{
	struct alog_submit res = submit_at(f, line, now, 0);

	if (index == UINT64_MAX) {
		assert_int_equal(res.status, ALOG_SUBMIT_REJECTED);
		assert_string_equal(res.code, "conflict");
		return;
	}
	assert_int_equal(res.status, ALOG_SUBMIT_DUPLICATE);
	assert_int_equal(res.index, index);
}

static void test_log_the_next_batch_is_judged_against_the_one_in_flight(
	void **state)
{
	struct fx *f = *state;
	struct alog_verify_result vr;
	char line[160];
	char *ev;
	int k;

	/* batch A: 300 events (enough for the store's own batch thread) */
	for (k = 0; k < 300; k++) {
		snprintf(line, sizeof(line), EV_N("a-%d", "%d"), k, k);
		assert_int_equal(accept(f, line, T0 + k), k);
	}
	start_commit(f);
	assert_int_equal(alog_log_in_flight(f->log), 300);
	/* batch B while A commits: A's events are known, B's indices follow */
	expect_judged(f, EV_N("a-7", "7"), T0 + 400, 7);
	expect_judged(f, EV_N("a-8", "80"), T0 + 401, UINT64_MAX);
	assert_int_equal(accept(f, EV_N("b-0", "0"), T0 + 402), 300);
	assert_int_equal(alog_log_pending(f->log), 1);
	wait_commit(f);
	assert_int_equal(size_of(f), 300);
	/* A now answers from the store, B from the pending batch */
	expect_judged(f, EV_N("a-7", "7"), T0 + 403, 7);
	expect_judged(f, EV_N("a-9", "90"), T0 + 404, UINT64_MAX);
	expect_judged(f, EV_N("b-0", "0"), T0 + 405, 300);
	/* a start waits for the batch before it: two in a row */
	start_commit(f);
	assert_int_equal(accept(f, EV_N("c-0", "0"), T0 + 406), 301);
	start_commit(f);
	assert_int_equal(size_of(f), 302); /* alog_log_store waited */
	wait_commit(f);
	/* nothing pending: a start commits in place, nothing in flight */
	start_commit(f);
	assert_int_equal(alog_log_in_flight(f->log), 0);
	assert_int_equal(size_of(f), 302);
	ev = event_text(f, 300);
	assert_string_equal(ev, EV_N("b-0", "0"));
	free(ev);
	ev = event_text(f, 301);
	assert_string_equal(ev, EV_N("c-0", "0"));
	free(ev);
	ev = event_text(f, 7);
	assert_string_equal(ev, EV_N("a-7", "7"));
	free(ev);
	/* and after a reopen every id is still known once */
	reopen_log(f, T0 + 500, NULL);
	expect_judged(f, EV_N("a-299", "299"), T0 + 501, 299);
	expect_verify_ok(f, &f->vkey, &vr);
	assert_int_equal(vr.tree_size, 302);
}

/* xorshift64: a fixed sequence, so that a failure repeats */
static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

#define STRESS_ROUNDS 60
#define STRESS_BATCH 300

/* The line of stress id k with body n (n = k: its first, stored body). */
static void stress_line(char *line, size_t cap, int k, int n)
{
	snprintf(line, cap,
		 "{\"type\":\"user.login\",\"source\":\"app\",\"id\":\"s-%d\",\"n\":%d}",
		 k, n);
}

/*
 * Many batches, each started on the committer thread while the next is
 * judged: new ids (looked up in the store beside the append), repeats of
 * the batch in flight, and repeats anywhere (pending, in flight, in
 * ids_recent or ids: a look-up, then a read that waits for the batch in
 * flight), some with another body; ids_recent kept tiny, so that merges
 * into ids happen while ids are looked up. Each line is judged as the
 * model says: a repeat is a duplicate of its first index (a conflict with
 * another body), a new id takes the next index; the store then holds each
 * id once, also after a reopen. Run under ThreadSanitizer too.
 */
static void test_log_pipelined_batches_store_every_id_once_across_merges(
	void **state)
{
	struct fx *f = *state;
	uint64_t *known = calloc(STRESS_ROUNDS * STRESS_BATCH, sizeof(*known));
	uint64_t next = 0, x = 0x9e3779b97f4a7c15u;
	int fresh = 0, prev_lo = 0, prev_hi = 0;
	int64_t now = T0;
	struct alog_verify_result vr;
	char line[160];

	assert_non_null(known);
	alog_store_set_ids_recent_max(alog_log_store(f->log), 8);
	for (int r = 0; r < STRESS_ROUNDS; r++) {
		int lo = fresh, batch = 1 + (int)(next_rand(&x) % STRESS_BATCH);

		for (int j = 0; j < batch; j++) {
			/* mostly new ids; a repeat anywhere is rare, as its
			 * read waits for the batch in flight */
			uint64_t c = next_rand(&x) % 100;
			int k, other = c % 4 == 0;

			if (c < 80 || fresh == 0) {
				k = fresh++;
				stress_line(line, sizeof(line), k, k);
				assert_int_equal(accept(f, line, now++), next);
				known[k] = next++;
				continue;
			}
			if (c < 96 && prev_hi > prev_lo)
				k = prev_lo + (int)(next_rand(&x) %
						    (uint64_t)(prev_hi - prev_lo));
			else
				k = (int)(next_rand(&x) % (uint64_t)fresh);
			stress_line(line, sizeof(line), k, other ? k + 1 : k);
			expect_judged(f, line, now++,
				      other ? UINT64_MAX : known[k]);
		}
		prev_lo = lo;
		prev_hi = fresh;
		switch (next_rand(&x) % 8) {
		case 0:
			commit(f);
			break;
		case 1:
			wait_commit(f);
			break;
		default:
			start_commit(f);
			break;
		}
	}
	commit(f);
	assert_int_equal(size_of(f), next);
	for (int k = 0; k < fresh; k++) {
		char *ev = event_text(f, known[k]);

		stress_line(line, sizeof(line), k, k);
		assert_string_equal(ev, line);
		free(ev);
	}
	reopen_log(f, now, NULL);
	for (int k = 0; k < fresh; k++) {
		stress_line(line, sizeof(line), k, k);
		expect_judged(f, line, now++, known[k]);
	}
	close_log(f);
	expect_verify_ok(f, &f->vkey, &vr);
	assert_int_equal(vr.tree_size, next);
	free(known);
}

/*
 * The batch in flight fails (its segment sync): the batch judged after it
 * is dropped with it, the failure is reported once (here by the submit
 * that had to read a stored record, which waits for the batch in flight),
 * and what follows takes the indices after what is stored.
 */
static void test_log_a_failed_batch_in_flight_is_reported_once_and_drops_the_next(
	void **state)
{
	struct fx *f = *state;
	struct alog_submit res;
	struct alog_err err;
	const char *stored = EV_N("s-0", "0");
	char line[160];
	int rc;

	assert_int_equal(accept(f, stored, T0), 0);
	commit(f);
	for (int k = 0; k < 300; k++) {
		snprintf(line, sizeof(line), EV_N("a-%d", "%d"), k, k);
		assert_int_equal(accept(f, line, T0 + 1 + k), 1 + k);
	}
	alog_store_test_fail_next_sync(alog_log_store(f->log));
	start_commit(f);
	/* judged against the batch in flight, then pending behind it */
	expect_judged(f, EV_N("a-3", "3"), T0 + 400, 4);
	assert_int_equal(accept(f, EV_N("b-0", "0"), T0 + 401), 301);
	/* a duplicate of a stored record reads it: the failure comes here */
	alog_err_clear(&err);
	rc = alog_log_submit(f->log, stored, strlen(stored), &prov, T0 + 402,
			     0, &res, &err);
	assert_true(rc < 0);
	assert_int_equal(err.code, rc);
	assert_int_equal(alog_log_pending(f->log), 0);
	assert_int_equal(alog_log_in_flight(f->log), 0);
	wait_commit(f);        /* reported once */
	assert_int_equal(size_of(f), 1);
	/* neither batch is known: their events are new again, from index 1 */
	assert_int_equal(accept(f, EV_N("b-0", "0"), T0 + 403), 1);
	assert_int_equal(accept(f, EV_N("a-3", "3"), T0 + 404), 2);
	expect_judged(f, stored, T0 + 405, 0);
	commit(f);
	assert_int_equal(size_of(f), 3);
	close_log(f);
	{
		struct alog_verify_result vr;

		expect_verify_ok(f, &f->vkey, &vr);
		assert_int_equal(vr.tree_size, 3);
	}
}

/*
 * No thread can be started (each would want a stack larger than memory):
 * pipelined commits are made in place, none is in flight, every batch is
 * stored once; each commit start tries the compressing thread again and
 * holds no more memory for it (ASan's leak check at exit).
 */
static pthread_attr_t default_attr;

static int fx_setup_no_threads(void **state)
{
	pthread_attr_t huge;

	if (pthread_getattr_default_np(&default_attr) != 0 ||
	    pthread_attr_init(&huge) != 0 ||
	    pthread_attr_setstacksize(&huge, (size_t)1 << 46) != 0 ||
	    pthread_setattr_default_np(&huge) != 0)
		return -1;
	pthread_attr_destroy(&huge);
	return fx_setup(state);
}

static int fx_teardown_no_threads(void **state)
{
	pthread_setattr_default_np(&default_attr);
	pthread_attr_destroy(&default_attr);
	return fx_teardown(state);
}

static void test_log_pipelined_commits_without_threads_are_made_in_place(
	void **state)
{
	struct fx *f = *state;
	char line[160];
	uint64_t next = 0;

	for (int r = 0; r < 20; r++) {
		for (int j = 0; j < 300; j++, next++) {
			stress_line(line, sizeof(line), (int)next, (int)next);
			assert_int_equal(accept(f, line, T0 + (int64_t)next),
					 next);
		}
		start_commit(f);
		assert_int_equal(alog_log_in_flight(f->log), 0);
		assert_int_equal(size_of(f), next);
	}
	for (uint64_t k = 0; k < next; k += 97) {
		char *ev = event_text(f, k);

		stress_line(line, sizeof(line), (int)k, (int)k);
		assert_string_equal(ev, line);
		free(ev);
	}
	close_log(f);
	{
		struct alog_verify_result vr;

		expect_verify_ok(f, &f->vkey, &vr);
		assert_int_equal(vr.tree_size, next);
	}
}

/*
 * Streamed sets (SPEC.md 10.2): once commits are pipelined, a batch's
 * blocks are compressed while it is judged. The same lines at the same
 * times, committed in place on a second store (whose sets are never
 * streamed: the store frames and compresses them), make the same segment
 * files byte for byte and the same tree. Lines of 60 to 60000 bytes, so
 * that blocks close inside batches, at batch ends and on one large line;
 * repeats judged alike on both.
 */
#define STREAM_ROUNDS 40

static void stream_line(char *line, size_t cap, int k, uint64_t *x)
{
	uint64_t r = next_rand(x);
	size_t pad = r % 16 == 0 ? 30000 + (size_t)(r >> 8) % 30000
				 : (size_t)(r >> 8) % 1500;
	int n = snprintf(line, cap,
			 "{\"type\":\"user.login\",\"source\":\"app\",\"id\":\"t-%d\",\"pad\":\"",
			 k);

	assert_true(pad + (size_t)n + 3 < cap);
	for (size_t i = 0; i < pad; i++)
		line[n++] = "abcdefghijklmnopqrstuvwxyz0123456789"[(r + i * 7) % 36];
	memcpy(line + n, "\"}", 3);
}

static void test_log_streamed_batches_make_the_stores_own_blocks(
	void **state)
{
	struct fx *f = *state;
	struct alog_log *other = NULL;
	char dir2[4200], path[4300];
	char *line = malloc(65536);
	uint64_t x = 0x2545f4914f6cdd1du, n_stored = 0;
	int64_t now = T0;
	int fresh = 0, segs = 0;
	struct alog_err err;
	unsigned char ra[32], rb[32];

	assert_non_null(line);
	snprintf(dir2, sizeof(dir2), "%s/store2", f->tmp);
	alog_err_clear(&err);
	assert_int_equal(alog_store_create(dir2, ORIGIN, &f->vkey, NULL, &err),
			 0);
	assert_int_equal(alog_log_open(dir2, T0, &other, NULL, &err), 0);
	for (int r = 0; r < STREAM_ROUNDS; r++) {
		int batch = 1 + (int)(next_rand(&x) % 200);

		for (int j = 0; j < batch; j++) {
			int k = fresh && next_rand(&x) % 10 == 0 ?
				(int)(next_rand(&x) % (uint64_t)fresh) :
				fresh++;
			uint64_t x2 = (uint64_t)k * 0x9e3779b97f4a7c15u + 1;
			struct alog_submit ra_, rb_;

			stream_line(line, 65536, k, &x2);
			alog_err_clear(&err);
			assert_int_equal(alog_log_submit(f->log, line,
							 strlen(line), &prov,
							 now, 0, &ra_, &err), 0);
			assert_int_equal(alog_log_submit(other, line,
							 strlen(line), &prov,
							 now, 0, &rb_, &err), 0);
			assert_int_equal(ra_.status, rb_.status);
			assert_int_equal(ra_.index, rb_.index);
			n_stored += ra_.status == ALOG_SUBMIT_ACCEPTED;
			now++;
		}
		start_commit(f);
		alog_err_clear(&err);
		assert_int_equal(alog_log_commit(other, &err), 0);
	}
	wait_commit(f);
	assert_int_equal(size_of(f), n_stored);
	alog_store_root(alog_log_store(f->log), ra);
	alog_store_root(alog_log_store(other), rb);
	assert_memory_equal(ra, rb, 32);
	close_log(f);
	alog_log_close(other);
	for (unsigned id = 1;; id++) {
		unsigned char *a, *b;
		size_t alen = 0, blen = 0;

		int in_a, in_b;

		snprintf(path, sizeof(path), "%s/segments/%08u.seg", f->dir, id);
		in_a = access(path, F_OK) == 0;
		a = in_a ? testutil_read_file(path, &alen) : NULL;
		snprintf(path, sizeof(path), "%s/segments/%08u.seg", dir2, id);
		in_b = access(path, F_OK) == 0;
		b = in_b ? testutil_read_file(path, &blen) : NULL;
		assert_int_equal(in_a, in_b);
		if (!in_a)
			break;
		assert_int_equal(alen, blen);
		assert_memory_equal(a, b, alen);
		free(a);
		free(b);
		segs++;
	}
	assert_true(segs >= 1);
	{
		struct alog_verify_result vr;

		expect_verify_ok(f, &f->vkey, &vr);
		assert_int_equal(vr.tree_size, n_stored);
	}
	free(line);
}

/*
 * A streamed set whose commit in place fails stays pending (the commit's
 * contract) and may grow: the next commit stores all of it once, the
 * store framing it anew.
 */
static void test_log_a_streamed_batch_whose_commit_failed_commits_later(
	void **state)
{
	struct fx *f = *state;
	struct alog_err err;
	char *line = malloc(65536);
	uint64_t x;
	int k;

	assert_non_null(line);
	assert_int_equal(accept(f, EV_N("s-0", "0"), T0), 0);
	start_commit(f);  /* pipelined from here: the next set is streamed */
	wait_commit(f);
	for (k = 0; k < 40; k++) {
		x = (uint64_t)k * 0x9e3779b97f4a7c15u + 1;
		stream_line(line, 65536, k, &x);
		assert_int_equal(accept(f, line, T0 + 1 + k), 1 + k);
	}
	alog_store_test_fail_next_sync(alog_log_store(f->log));
	alog_err_clear(&err);
	assert_true(alog_log_commit(f->log, &err) < 0);
	assert_int_equal(alog_log_pending(f->log), 40);
	for (; k < 80; k++) {
		x = (uint64_t)k * 0x9e3779b97f4a7c15u + 1;
		stream_line(line, 65536, k, &x);
		assert_int_equal(accept(f, line, T0 + 1 + k), 1 + k);
	}
	commit(f);
	assert_int_equal(size_of(f), 81);
	for (k = 0; k < 80; k += 7) {
		char *ev = event_text(f, 1 + (uint64_t)k);

		x = (uint64_t)k * 0x9e3779b97f4a7c15u + 1;
		stream_line(line, 65536, k, &x);
		assert_string_equal(ev, line);
		free(ev);
	}
	close_log(f);
	{
		struct alog_verify_result vr;

		expect_verify_ok(f, &f->vkey, &vr);
		assert_int_equal(vr.tree_size, 81);
	}
	free(line);
}

/*
 * Streamed batches under every path that drops or keeps one: commits
 * pipelined, in place and waited for, discards, a batch in flight that
 * fails (dropping the one judged after it), a commit in place that fails
 * (the batch stays pending and grows), reopens, after a commit or at once
 * (blocks of the pending batch still being compressed: it is lost); lines
 * from a few bytes to ALOG_EVENT_LINE_MAX, so that blocks close on one
 * record and batches fill by bytes. Each accepted line takes the index
 * the model says; what is stored at the end is exactly the lines of the
 * batches that committed (and store.recovered where an open cut a failed
 * batch's bytes), and verifies. Run under ThreadSanitizer and
 * AddressSanitizer too.
 */
#define MIX_ROUNDS 70

struct mix {
	int *stored, *fly, *pend; /* line numbers (-1: store.recovered) */
	size_t n_stored, n_fly, n_pend;
	int fly_fails;  /* the batch in flight will fail */
	int can_fail;   /* a sync can be made to fail (a segment is open) */
};

static void mix_line(char *line, size_t cap, int k)
{
	uint64_t x = (uint64_t)k * 0x9e3779b97f4a7c15u + 7, r;
	size_t pad;
	int n;

	r = next_rand(&x);
	n = snprintf(line, cap,
		     "{\"type\":\"user.login\",\"source\":\"app\",\"id\":\"z-%d\",\"pad\":\"",
		     k);
	switch (r % 32) {
	case 0: /* the longest line */
		pad = ALOG_EVENT_LINE_MAX - (size_t)n - 2;
		break;
	case 1: case 2:
		pad = 20000 + (size_t)(r >> 8) % 45000;
		break;
	case 3: case 4: case 5: case 6:
		pad = (size_t)(r >> 8) % 4000;
		break;
	default:
		pad = (size_t)(r >> 8) % 200;
		break;
	}
	assert_true(pad + (size_t)n + 3 <= cap);
	for (size_t i = 0; i < pad; i++)
		line[n++] = "abcdefghijklmnopqrstuvwxyz0123456789"[(r + i * 7) % 36];
	memcpy(line + n, "\"}", 3);
}

/* The batch in flight settled: stored, or dropped with the pending one. */
static void mix_settled(struct mix *m)
{
	if (m->fly_fails) {
		m->n_pend = 0;
		m->can_fail = 0;
	} else {
		memcpy(m->stored + m->n_stored, m->fly, m->n_fly * sizeof(int));
		m->n_stored += m->n_fly;
		if (m->n_fly)
			m->can_fail = 1;
	}
	m->n_fly = 0;
	m->fly_fails = 0;
}

/* call (a call that waits for the batch in flight) fails as the model
 * says when the batch in flight fails, else succeeds. */
static void mix_settle_with(struct fx *f, struct mix *m,
			    int (*call)(struct alog_log *, struct alog_err *),
			    const char *what)
{
	struct alog_err err;
	int fails = m->fly_fails, rc;

	alog_err_clear(&err);
	rc = call(f->log, &err);
	mix_settled(m);
	if (fails) {
		assert_true(rc < 0);
		return;
	}
	if (rc < 0)
		fail_with(what, rc, &err);
}

/* Close and open the log (what was pending is lost); open records
 * store.recovered when it cut bytes of a batch that failed. */
static void mix_reopen(struct fx *f, struct mix *m, int64_t now)
{
	struct alog_store_recovery rec;

	reopen_log(f, now, &rec);
	mix_settled(m);
	m->n_pend = 0;
	if (rec.cut || rec.removed_segments)
		m->stored[m->n_stored++] = -1;
	assert_int_equal(size_of(f), m->n_stored);
	m->can_fail = 0;
	start_commit(f); /* pipelined again */
}

static void test_log_streamed_batches_survive_failures_and_discards(
	void **state)
{
	struct fx *f = *state;
	size_t cap = 4096 * MIX_ROUNDS;
	struct mix m = { .stored = calloc(cap, sizeof(int)),
			 .fly = calloc(4096, sizeof(int)),
			 .pend = calloc(cap, sizeof(int)) };
	char *line = malloc(ALOG_EVENT_LINE_MAX + 1);
	uint64_t x = 0x9e3779b97f4a7c15u; /* every action comes up */
	int64_t now = T0;
	int k = 0;
	struct alog_err err;

	assert_non_null(m.stored);
	assert_non_null(m.fly);
	assert_non_null(m.pend);
	assert_non_null(line);
	for (int r = 0; r < MIX_ROUNDS; r++) {
		int batch = (int)(next_rand(&x) % 400);
		uint64_t act = next_rand(&x) % 20;

		for (int j = 0; j < batch; j++, k++) {
			if (alog_log_batch_full(f->log)) {
				mix_settle_with(f, &m, alog_log_commit_start,
						"commit start");
				if (alog_log_pending(f->log) == 0) {
					memcpy(m.fly, m.pend,
					       m.n_pend * sizeof(int));
					m.n_fly = m.n_pend;
					m.n_pend = 0;
				}
			}
			mix_line(line, ALOG_EVENT_LINE_MAX + 1, k);
			assert_int_equal(strlen(line) <= ALOG_EVENT_LINE_MAX, 1);
			assert_int_equal(accept(f, line, now++),
					 m.n_stored + m.n_fly + m.n_pend);
			m.pend[m.n_pend++] = k;
		}
		if (act < 9) {                /* pipelined */
			mix_settle_with(f, &m, alog_log_commit_start,
					"commit start");
			memcpy(m.fly, m.pend, m.n_pend * sizeof(int));
			m.n_fly = m.n_pend;
			m.n_pend = 0;
		} else if (act < 11) {        /* in place */
			mix_settle_with(f, &m, alog_log_commit, "commit");
			memcpy(m.stored + m.n_stored, m.pend,
			       m.n_pend * sizeof(int));
			m.n_stored += m.n_pend;
			if (m.n_pend)
				m.can_fail = 1;
			m.n_pend = 0;
		} else if (act < 12) {        /* waited for */
			mix_settle_with(f, &m, alog_log_commit_wait, "wait");
		} else if (act < 14) {        /* dropped */
			int fails = m.fly_fails;

			alog_log_discard(f->log);
			mix_settled(&m);
			m.n_pend = 0;
			if (fails) {
				alog_err_clear(&err);
				assert_true(alog_log_commit_wait(f->log, &err) < 0);
			}
		} else if (act < 16) {        /* the batch in flight fails */
			mix_settle_with(f, &m, alog_log_commit_wait, "wait");
			if (!m.can_fail || m.n_pend == 0)
				continue;
			alog_store_test_fail_next_sync(alog_log_store(f->log));
			start_commit(f);
			memcpy(m.fly, m.pend, m.n_pend * sizeof(int));
			m.n_fly = m.n_pend;
			m.n_pend = 0;
			m.fly_fails = 1;
		} else if (act < 18) {        /* a commit in place fails */
			mix_settle_with(f, &m, alog_log_commit_wait, "wait");
			if (!m.can_fail || m.n_pend == 0)
				continue;
			alog_store_test_fail_next_sync(alog_log_store(f->log));
			alog_err_clear(&err);
			assert_true(alog_log_commit(f->log, &err) < 0);
			assert_int_equal(alog_log_pending(f->log), m.n_pend);
			m.can_fail = 0;
		} else if (act < 19) {        /* reopened */
			mix_settle_with(f, &m, alog_log_commit, "commit");
			memcpy(m.stored + m.n_stored, m.pend,
			       m.n_pend * sizeof(int));
			m.n_stored += m.n_pend;
			m.n_pend = 0;
			mix_reopen(f, &m, now);
		} else {   /* closed at once */
			mix_reopen(f, &m, now);
		}
	}
	mix_settle_with(f, &m, alog_log_commit, "commit");
	memcpy(m.stored + m.n_stored, m.pend, m.n_pend * sizeof(int));
	m.n_stored += m.n_pend;
	m.n_pend = 0;
	assert_int_equal(size_of(f), m.n_stored);
	for (size_t i = 0; i < m.n_stored; i++) {
		char *ev = event_text(f, i);

		if (m.stored[i] < 0) {
			assert_non_null(strstr(ev, "\"store.recovered\""));
		} else {
			mix_line(line, ALOG_EVENT_LINE_MAX + 1, m.stored[i]);
			assert_string_equal(ev, line);
		}
		free(ev);
	}
	close_log(f);
	{
		struct alog_verify_result vr;

		expect_verify_ok(f, &f->vkey, &vr);
		assert_int_equal(vr.tree_size, m.n_stored);
	}
	free(line);
	free(m.stored);
	free(m.fly);
	free(m.pend);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_log_submit_assigns_indices_and_commit_makes_them_durable),
		cmocka_unit_test(test_log_owner_records_are_trusted_only_from_the_owner_over_unix),
		T(test_log_duplicates_answer_with_the_original_index),
		T(test_log_same_id_with_another_body_is_a_conflict),
		T(test_log_submit_parsed_judges_like_submit),
		T(test_log_ids_of_one_store_key_in_a_batch_conflict),
		T(test_log_reserved_types_need_trust),
		T(test_log_event_without_id_gets_a_uuid7_and_is_never_deduplicated),
		T(test_log_received_times_never_go_backwards),
		T(test_log_batch_limit_asks_for_a_commit),
		T(test_log_batch_bytes_count_record_bytes),
		T(test_log_the_next_batch_is_judged_against_the_one_in_flight),
		T(test_log_pipelined_batches_store_every_id_once_across_merges),
		T(test_log_a_failed_batch_in_flight_is_reported_once_and_drops_the_next),
		cmocka_unit_test_setup_teardown(
			test_log_pipelined_commits_without_threads_are_made_in_place,
			fx_setup_no_threads, fx_teardown_no_threads),
		T(test_log_streamed_batches_make_the_stores_own_blocks),
		T(test_log_a_streamed_batch_whose_commit_failed_commits_later),
		T(test_log_streamed_batches_survive_failures_and_discards),
		T(test_log_internal_events_are_committed_with_pending_ones),
		T(test_log_checkpoint_signs_only_when_the_log_grew),
		T(test_log_open_logs_store_recovered_when_bytes_were_cut),
		T(test_log_verify_passes_a_clean_log_with_and_without_anchor),
		T(test_log_verify_fails_with_another_verifier_key),
		T(test_log_verify_fails_with_an_anchor_over_other_content),
		T(test_log_verify_finds_the_record_whose_bytes_changed),
		T(test_log_verify_blames_no_single_record_for_a_checkpoint_mismatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
