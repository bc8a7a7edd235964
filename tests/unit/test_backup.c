/*
 * test_backup: backup files (SPEC.md section 16). The published vector
 * V-BACKUP-1 (tests/vectors/backup-v1.jsonl, chain values computed with
 * Python hashlib) is read back and reproduced byte for byte by the writer;
 * every kind of tampering is refused naming its line; torn tails, locks
 * and limits +-1. Tampered files with a valid chain are built here with
 * OpenSSL's SHA-256 directly (the rule of 16.1, not the code under test).
 */
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
#include <openssl/sha.h>

#include "ingest/backup.h"
#include "ingest/clock.h"
#include "testutil.h"

#define V1_FILE_ID "01890a5d-ac96-774b-bcce-b302099a8057"
#define V1_CREATED_US INT64_C(1688169600000000) /* 2023-07-01T00:00:00Z */
#define V1_EV1 "{\"type\":\"auth.login\",\"id\":\"e1\",\"source\":\"sso\"}"
#define V1_EV2 "{\"type\":\"auth.login\",\"id\":\"e2\",\"source\":\"sso\"}"
#define NOW_US INT64_C(1700000000123456)

struct fixture {
	char *dir;
	char path[512];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = testutil_tmpdir();
	snprintf(f->path, sizeof(f->path), "%s/backup.jsonl", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	testutil_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* ---- helpers ---- */

struct bytes {
	unsigned char *p;
	size_t n;
};

static struct bytes vector_v1(void)
{
	char path[1024];
	const char *dir = getenv("ALOG_VECTORS");
	struct bytes b;

	snprintf(path, sizeof(path), "%s/backup-v1.jsonl",
		 dir ? dir : "tests/vectors");
	b.p = testutil_read_file(path, &b.n);
	return b;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Offsets of the starts of the lines of b (and the end), from 0. */
static size_t line_starts(const struct bytes *b, size_t *starts, size_t max)
{
	size_t n = 0;

	starts[n++] = 0;
	for (size_t i = 0; i < b->n && n < max; i++)
		if (b->p[i] == '\n')
			starts[n++] = i + 1;
	return n - 1; /* complete lines */
}

/* A file built line by line with a correct chain (SPEC.md 16.1). */
struct chained {
	char *text;
	size_t len;
	unsigned char h[32];
};

static void chained_init(struct chained *c)
{
	memset(c, 0, sizeof(*c));
	c->text = calloc(1, 1);
}

/* Add {"chain":"<hex>",BODY\n; prefix replaces {"chain":" when not NULL,
 * upper writes the hex in upper case. */
static void chained_add_raw(struct chained *c, const char *body,
			    const char *prefix, int upper)
{
	unsigned char in[32 + 70000];
	size_t bl = strlen(body);
	char hex[65];
	static const char *lo = "0123456789abcdef", *up = "0123456789ABCDEF";
	const char *digits = upper ? up : lo;
	char *line;
	size_t ll;

	assert_true(bl <= 70000);
	memcpy(in, c->h, 32);
	memcpy(in + 32, body, bl);
	SHA256(in, 32 + bl, c->h);
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[c->h[i] >> 4];
		hex[2 * i + 1] = digits[c->h[i] & 15];
	}
	hex[64] = 0;
	ll = strlen(prefix ? prefix : "{\"chain\":\"") + 64 + 2 + bl + 1;
	line = malloc(ll + 1);
	snprintf(line, ll + 1, "%s%s\",%s\n", prefix ? prefix : "{\"chain\":\"",
		 hex, body);
	c->text = realloc(c->text, c->len + ll + 1);
	memcpy(c->text + c->len, line, ll + 1);
	c->len += ll;
	free(line);
}

static void chained_add(struct chained *c, const char *body)
{
	chained_add_raw(c, body, NULL, 0);
}

static const char v1_header_body[] =
	"\"backup\":\"auditlog/1\",\"file\":\"" V1_FILE_ID "\","
	"\"created\":\"2023-07-01T00:00:00.000000Z\"}";

static void chained_v1_start(struct chained *c)
{
	chained_init(c);
	chained_add(c, v1_header_body);
}

struct seen {
	int n;
	uint64_t line_no[8];
	char ev[8][256];
};

static int record_cb(void *ctx, uint64_t line_no, const char *event,
		     size_t len)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		s->line_no[s->n] = line_no;
		assert_true(len < sizeof(s->ev[0]));
		memcpy(s->ev[s->n], event, len);
		s->ev[s->n][len] = 0;
	}
	s->n++;
	return 0;
}

static int read_text(const char *path, const void *p, size_t n,
		     struct alog_backup_info *info, struct alog_err *err)
{
	write_bytes(path, p, n);
	return alog_backup_read(path, NULL, NULL, info, err);
}

/* ---- V-BACKUP-1 ---- */

static void test_backup_reads_vector_v_backup_1_header_records_and_seal(
	void **state)
{
	struct fixture *f = *state;
	struct bytes v = vector_v1();
	struct alog_backup_info info;
	struct alog_err err = { 0 };
	struct seen s = { 0 };
	char path[1024];

	snprintf(path, sizeof(path), "%s/backup-v1.jsonl",
		 getenv("ALOG_VECTORS") ? getenv("ALOG_VECTORS") :
		 "tests/vectors");
	assert_int_equal(alog_backup_read(path, record_cb, &s, &info, &err), 0);
	assert_string_equal(info.file_id, V1_FILE_ID);
	assert_int_equal(info.created_us, V1_CREATED_US);
	assert_int_equal(info.records, 2);
	assert_int_equal(info.lines, 4);
	assert_int_equal(info.sealed, 1);
	assert_int_equal(info.torn_tail, 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.line_no[0], 1);
	assert_int_equal(s.line_no[1], 2);
	assert_string_equal(s.ev[0], V1_EV1);
	assert_string_equal(s.ev[1], V1_EV2);
	(void)f;
	free(v.p);
}

/* The writer, resuming a file holding only V-BACKUP-1's header, writes
 * the vector's remaining lines byte for byte: its chain values are those
 * Python's hashlib computed. */
static void test_backup_writer_reproduces_vector_v_backup_1_byte_for_byte(
	void **state)
{
	struct fixture *f = *state;
	struct bytes v = vector_v1(), out;
	struct alog_backup *b = NULL;
	struct alog_err err = { 0 };
	size_t starts[8];
	const char *evs[2] = { V1_EV2, NULL };
	size_t lens[1] = { strlen(V1_EV2) };

	assert_int_equal(line_starts(&v, starts, 8), 4);
	write_bytes(f->path, v.p, starts[1]);
	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
	assert_int_equal(alog_backup_opened(b)->created, 0);
	assert_int_equal(alog_backup_opened(b)->records, 0);
	assert_string_equal(alog_backup_opened(b)->file_id, V1_FILE_ID);
	assert_int_equal(alog_backup_append(b, V1_EV1, strlen(V1_EV1), &err), 0);
	assert_int_equal(alog_backup_lines(b), 2);
	assert_int_equal(alog_backup_append_many(b, evs, lens, 1, &err), 0);
	assert_int_equal(alog_backup_records(b), 2);
	assert_int_equal(alog_backup_seal(b, &err), 0);
	alog_backup_close(b);
	out.p = testutil_read_file(f->path, &out.n);
	assert_int_equal(out.n, v.n);
	assert_memory_equal(out.p, v.p, v.n);
	free(out.p);
	free(v.p);
}

/* ---- writing ---- */

static void test_backup_round_trip_keeps_every_event_byte_for_byte(void **state)
{
	struct fixture *f = *state;
	static const char *const evs[] = {
		"{\"type\":\"a.b\",\"id\":\"x-1\",\"source\":\"s\"}",
		"{ \"type\" : \"a.b\" , \"s\" : \"caf\xc3\xa9 \\u00e9 \\n\" , \"n\" : 1.50e2 }",
		"{}",
		"{\"deep\":[[[{\"a\":[1,2,{\"b\":null}]}]]],\"t\":true,\"f\":false}",
		"{\"u\":\"\\ud83d\\ude00 \\\"q\\\" \\t\",\"e\":-0}",
	};
	const char *many[3] = { evs[2], evs[3], evs[4] };
	size_t lens[3];
	struct alog_backup *b = NULL;
	struct alog_backup_info info;
	struct alog_err err = { 0 };
	struct seen s = { 0 };
	struct stat st;
	char created[ALOG_TIME_TEXT_MAX];

	for (int i = 0; i < 3; i++)
		lens[i] = strlen(many[i]);
	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
	assert_int_equal(alog_backup_opened(b)->created, 1);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(alog_backup_append(b, evs[0], strlen(evs[0]), &err), 0);
	/* whitespace around the object is not part of it */
	{
		char padded[256];

		snprintf(padded, sizeof(padded), " \t%s\r ", evs[1]);
		assert_int_equal(alog_backup_append(b, padded, strlen(padded),
						    &err), 0);
	}
	assert_int_equal(alog_backup_append_many(b, many, lens, 3, &err), 0);
	assert_int_equal(alog_backup_append_many(b, many, lens, 0, &err), 0);
	assert_int_equal(alog_backup_records(b), 5);
	assert_int_equal(alog_backup_seal(b, &err), 0);
	alog_backup_close(b);

	assert_int_equal(alog_backup_read(f->path, record_cb, &s, &info, &err), 0);
	assert_int_equal(s.n, 5);
	for (int i = 0; i < 5; i++) {
		assert_string_equal(s.ev[i], evs[i]);
		assert_int_equal(s.line_no[i], (uint64_t)i + 1);
	}
	assert_int_equal(info.records, 5);
	assert_int_equal(info.sealed, 1);
	assert_int_equal(info.created_us, NOW_US);
	assert_int_equal(alog_time_format(NOW_US, created), 0);
	assert_int_equal(strlen(info.file_id), 36);
	assert_memory_equal(info.file_id, "018bcfe5-687b-7", 15);
}

static void test_backup_open_resumes_the_chain_of_an_existing_file(void **state)
{
	struct fixture *f = *state;
	struct alog_backup *b = NULL;
	struct alog_backup_info info;
	struct alog_err err = { 0 };
	struct seen s = { 0 };
	char file_id[64];

	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
	assert_int_equal(alog_backup_append(b, V1_EV1, strlen(V1_EV1), &err), 0);
	assert_int_equal(alog_backup_append(b, V1_EV2, strlen(V1_EV2), &err), 0);
	snprintf(file_id, sizeof(file_id), "%s", alog_backup_opened(b)->file_id);
	alog_backup_close(b);

	assert_int_equal(alog_backup_open(f->path, NOW_US + 5, &b, &err), 0);
	assert_int_equal(alog_backup_opened(b)->created, 0);
	assert_int_equal(alog_backup_opened(b)->records, 2);
	assert_int_equal(alog_backup_opened(b)->cut_bytes, 0);
	assert_string_equal(alog_backup_opened(b)->file_id, file_id);
	assert_int_equal(alog_backup_records(b), 2);
	assert_int_equal(alog_backup_lines(b), 3);
	assert_int_equal(alog_backup_append(b, "{\"n\":3}", 7, &err), 0);
	alog_backup_close(b);

	assert_int_equal(alog_backup_read(f->path, record_cb, &s, &info, &err), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.ev[0], V1_EV1);
	assert_string_equal(s.ev[1], V1_EV2);
	assert_string_equal(s.ev[2], "{\"n\":3}");
	assert_int_equal(info.sealed, 0);
	assert_string_equal(info.file_id, file_id);
	assert_int_equal(info.created_us, NOW_US);
}

static void test_backup_sealed_file_refuses_appends_and_reopening(void **state)
{
	struct fixture *f = *state;
	struct alog_backup *b = NULL;
	struct alog_err err = { 0 };
	struct stat st1, st2;

	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
	assert_int_equal(alog_backup_seal(b, &err), 0);
	assert_int_equal(alog_backup_append(b, "{}", 2, &err), ALOG_ESTATE);
	assert_int_equal(alog_backup_seal(b, &err), ALOG_ESTATE);
	alog_backup_close(b);
	assert_int_equal(stat(f->path, &st1), 0);
	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err),
			 ALOG_ESTATE);
	assert_null(b);
	assert_non_null(strstr(err.msg, "sealed"));
	assert_int_equal(stat(f->path, &st2), 0);
	assert_int_equal(st1.st_size, st2.st_size);
}

static void test_backup_second_writer_gets_ebusy_until_the_first_closes(
	void **state)
{
	struct fixture *f = *state;
	struct alog_backup *a = NULL, *b = NULL;
	struct alog_err err = { 0 };

	assert_int_equal(alog_backup_open(f->path, NOW_US, &a, &err), 0);
	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err),
			 ALOG_EBUSY);
	assert_null(b);
	assert_non_null(strstr(err.msg, "locked"));
	assert_int_equal(alog_backup_append(a, "{}", 2, &err), 0);
	alog_backup_close(a);
	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
	assert_int_equal(alog_backup_records(b), 1);
	alog_backup_close(b);
}

static void test_backup_append_refuses_what_a_reader_would_refuse(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"", "   ", "[]", "\"s\"", "1", "{", "{\"a\":1}x", "{\"a\":1,\"a\":2}",
		"{\"a\":\n1}", "{\"a\":\"\xff\"}", "{\"a\":\"\\u0000\"}",
		"{\"a\":1e400}", "{\"a\":\"\\ud800\"}", "{\"a\":01}",
		"{\"a\":1}{\"b\":2}",
	};
	struct alog_backup *b = NULL;
	struct alog_err err = { 0 };
	struct stat st1, st2;
	char deep[400];
	size_t n = 0;

	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
	assert_int_equal(stat(f->path, &st1), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = alog_backup_append(b, bad[i], strlen(bad[i]), &err);

		assert_true(rc == ALOG_EINVAL || rc == ALOG_ELIMIT);
	}
	/* depth: the record line is one level deeper than the event, and
	 * the scanner's stack holds 64 levels: 63 accepted, 64 refused */
	for (int i = 0; i < 63; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"a\":");
	n += (size_t)snprintf(deep + n, sizeof(deep) - n, "1");
	for (int i = 0; i < 63; i++)
		deep[n++] = '}';
	deep[n] = 0;
	assert_int_equal(alog_backup_append(b, deep, n, &err), 0);
	assert_int_equal(stat(f->path, &st2), 0);
	assert_true(st2.st_size > st1.st_size);
	{
		char deeper[420];

		snprintf(deeper, sizeof(deeper), "{\"b\":%s}", deep);
		assert_int_not_equal(alog_backup_append(b, deeper,
							strlen(deeper), &err), 0);
	}
	/* all or none: one bad event among good ones writes nothing */
	{
		const char *mix[3] = { "{\"ok\":1}", "[1]", "{\"ok\":2}" };
		size_t lens[3] = { 8, 3, 8 };

		assert_int_equal(stat(f->path, &st1), 0);
		assert_int_equal(alog_backup_append_many(b, mix, lens, 3, &err),
				 ALOG_EINVAL);
		assert_non_null(strstr(err.msg, "event 1"));
		assert_int_equal(stat(f->path, &st2), 0);
		assert_int_equal(st1.st_size, st2.st_size);
	}
	assert_int_equal(alog_backup_records(b), 1);
	alog_backup_close(b);
	assert_int_equal(alog_backup_read(f->path, NULL, NULL, NULL, &err), 0);
}

/* An event of ALOG_BACKUP_EVENT_MAX bytes makes a line of exactly
 * ALOG_BACKUP_LINE_MAX bytes: accepted; one more byte is refused. */
static void test_backup_line_limit_accepts_the_limit_and_refuses_one_more(
	void **state)
{
	struct fixture *f = *state;
	struct alog_backup *b = NULL;
	struct alog_backup_info info;
	struct alog_err err = { 0 };
	struct bytes file;
	size_t n = ALOG_BACKUP_EVENT_MAX + 1;
	char *ev = malloc(n + 1);
	struct chained c;
	char *body;

	/* {"p":"xxx...x"} of n bytes */
	memset(ev, 'x', n);
	memcpy(ev, "{\"p\":\"", 6);
	memcpy(ev + n - 2, "\"}", 2);
	ev[n] = 0;
	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
	assert_int_equal(alog_backup_append(b, ev, n, &err), ALOG_ELIMIT);
	memcpy(ev + n - 3, "\"}", 3);  /* one byte shorter */
	assert_int_equal(alog_backup_append(b, ev, n - 1, &err), 0);
	alog_backup_close(b);
	file.p = testutil_read_file(f->path, &file.n);
	{
		size_t starts[4];

		assert_int_equal(line_starts(&file, starts, 4), 2);
		assert_int_equal(starts[2] - starts[1] - 1, ALOG_BACKUP_LINE_MAX);
	}
	free(file.p);
	assert_int_equal(alog_backup_read(f->path, NULL, NULL, &info, &err), 0);
	assert_int_equal(info.records, 1);

	/* a reader refuses a line one byte longer (chain correct) */
	chained_v1_start(&c);
	body = malloc(ALOG_BACKUP_LINE_MAX);
	snprintf(body, ALOG_BACKUP_LINE_MAX, "\"event\":%s}", ev);
	/* ev is n-1 bytes: body + prefix = LINE_MAX; add one byte */
	{
		size_t bl = strlen(body);
		char *longer = malloc(bl + 2);

		assert_int_equal(bl + 76, ALOG_BACKUP_LINE_MAX);
		memcpy(longer, body, bl - 3);
		memcpy(longer + bl - 3, "x\"}}", 5);
		chained_add(&c, longer);
		free(longer);
	}
	assert_int_equal(read_text(f->path, c.text, c.len, &info, &err),
			 ALOG_ECORRUPT);
	assert_int_equal(info.bad_line, 2);
	assert_non_null(strstr(err.msg, "line 2"));
	assert_non_null(strstr(err.msg, "longer"));
	/* and the same line without its newline: not a torn tail either */
	assert_int_equal(read_text(f->path, c.text, c.len - 1, &info, &err),
			 ALOG_ECORRUPT);
	assert_int_equal(info.bad_line, 2);
	free(c.text);
	free(body);
	free(ev);
}

/* ---- tampering ---- */

/* Changing any one byte of V-BACKUP-1 (but its last newline) is
 * ALOG_ECORRUPT naming the line that holds the byte. */
static void test_backup_changed_byte_anywhere_is_corrupt_naming_its_line(
	void **state)
{
	struct fixture *f = *state;
	struct bytes v = vector_v1();
	struct alog_backup_info info;
	struct alog_err err = { 0 };
	size_t starts[8];
	char want[32];

	assert_int_equal(line_starts(&v, starts, 8), 4);
	for (size_t off = 0; off + 1 < v.n; off++) {
		unsigned char *p = malloc(v.n);
		size_t line = 0;
		static const unsigned char subst[] = { 'a', '0', '"', '}', 'A',
						       ' ', '\n', 0x01 };

		while (off >= starts[line + 1])
			line++;
		for (size_t k = 0; k < sizeof(subst); k++) {
			if (subst[k] == v.p[off])
				continue;
			memcpy(p, v.p, v.n);
			p[off] = subst[k];
			assert_int_equal(read_text(f->path, p, v.n, &info, &err),
					 ALOG_ECORRUPT);
			assert_int_equal(info.bad_line, line + 1);
			snprintf(want, sizeof(want), "line %zu:", line + 1);
			assert_non_null(strstr(err.msg, want));
		}
		free(p);
	}
	/* the last newline: the seal becomes a torn tail, reported */
	{
		unsigned char *p = malloc(v.n);

		memcpy(p, v.p, v.n);
		p[v.n - 1] = ' ';
		assert_int_equal(read_text(f->path, p, v.n, &info, &err), 0);
		assert_int_equal(info.torn_tail, 1);
		assert_int_equal(info.sealed, 0);
		assert_int_equal(info.records, 2);
		free(p);
	}
	free(v.p);
}

static void test_backup_removed_line_is_corrupt_unless_it_is_the_last(
	void **state)
{
	struct fixture *f = *state;
	struct bytes v = vector_v1();
	struct alog_backup_info info;
	struct alog_backup *b = NULL;
	struct alog_err err = { 0 };
	size_t starts[8];

	assert_int_equal(line_starts(&v, starts, 8), 4);
	for (size_t i = 0; i < 3; i++) {
		unsigned char *p = malloc(v.n);
		size_t n = starts[i];

		memcpy(p, v.p, starts[i]);
		memcpy(p + n, v.p + starts[i + 1], v.n - starts[i + 1]);
		n += v.n - starts[i + 1];
		assert_int_equal(read_text(f->path, p, n, &info, &err),
				 ALOG_ECORRUPT);
		/* the line that took its place breaks the chain */
		assert_int_equal(info.bad_line, i + 1);
		assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err),
				 ALOG_ECORRUPT);
		free(p);
	}
	/* Without its seal the file reads as an unsealed one: a chain can't
	 * tell a removed last line from a writer that stopped. Only the
	 * seal makes truncation evident, so readers that need completeness
	 * require sealed. */
	assert_int_equal(read_text(f->path, v.p, starts[3], &info, &err), 0);
	assert_int_equal(info.sealed, 0);
	assert_int_equal(info.records, 2);
	free(v.p);
}

static void test_backup_swapped_lines_are_corrupt_naming_the_first(
	void **state)
{
	struct fixture *f = *state;
	struct bytes v = vector_v1();
	struct alog_backup_info info;
	struct alog_err err = { 0 };
	size_t starts[8];

	assert_int_equal(line_starts(&v, starts, 8), 4);
	for (size_t i = 0; i + 1 < 4; i++) {
		for (size_t j = i + 1; j < 4; j++) {
			unsigned char *p = malloc(v.n);
			size_t n = 0;

			for (size_t k = 0; k < 4; k++) {
				size_t src = k == i ? j : k == j ? i : k;
				size_t len = starts[src + 1] - starts[src];

				memcpy(p + n, v.p + starts[src], len);
				n += len;
			}
			assert_int_equal(n, v.n);
			assert_int_equal(read_text(f->path, p, n, &info, &err),
					 ALOG_ECORRUPT);
			assert_int_equal(info.bad_line, i + 1);
			free(p);
		}
	}
	free(v.p);
}

static void test_backup_line_after_the_seal_is_corrupt(void **state)
{
	struct fixture *f = *state;
	struct alog_backup_info info;
	struct alog_backup *b = NULL;
	struct alog_err err = { 0 };
	struct chained c;

	chained_v1_start(&c);
	chained_add(&c, "\"event\":" V1_EV1 "}");
	chained_add(&c, "\"seal\":true,\"records\":1}");
	chained_add(&c, "\"event\":" V1_EV2 "}");
	assert_int_equal(read_text(f->path, c.text, c.len, &info, &err),
			 ALOG_ECORRUPT);
	assert_int_equal(info.bad_line, 4);
	assert_non_null(strstr(err.msg, "line 4"));
	assert_non_null(strstr(err.msg, "seal"));
	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err),
			 ALOG_ECORRUPT);
	/* a second seal, and a torn line after the seal, too */
	free(c.text);
	chained_v1_start(&c);
	chained_add(&c, "\"seal\":true,\"records\":0}");
	chained_add(&c, "\"seal\":true,\"records\":0}");
	assert_int_equal(read_text(f->path, c.text, c.len, &info, &err),
			 ALOG_ECORRUPT);
	assert_int_equal(info.bad_line, 3);
	assert_int_equal(read_text(f->path, c.text, c.len - 5, &info, &err),
			 ALOG_ECORRUPT);
	assert_int_equal(info.bad_line, 3);
	free(c.text);
}

static void test_backup_wrong_seal_count_is_corrupt(void **state)
{
	struct fixture *f = *state;
	static const char *const seals[] = {
		"\"seal\":true,\"records\":3}", "\"seal\":true,\"records\":1}",
		"\"seal\":true,\"records\":0}", "\"seal\":true,\"records\":-2}",
		"\"seal\":true,\"records\":2.0}", "\"seal\":true,\"records\":\"2\"}",
		"\"seal\":false,\"records\":2}", "\"seal\":true}",
		"\"seal\":true,\"records\":2,\"x\":1}",
		"\"seal\":true,\"records\":9007199254740992}",
	};
	struct alog_backup_info info;
	struct alog_err err = { 0 };

	for (size_t i = 0; i < sizeof(seals) / sizeof(seals[0]); i++) {
		struct chained c;

		chained_v1_start(&c);
		chained_add(&c, "\"event\":" V1_EV1 "}");
		chained_add(&c, "\"event\":" V1_EV2 "}");
		chained_add(&c, seals[i]);
		assert_int_equal(read_text(f->path, c.text, c.len, &info, &err),
				 ALOG_ECORRUPT);
		assert_int_equal(info.bad_line, 4);
		free(c.text);
	}
}

static void test_backup_bad_prefix_and_uppercase_hex_are_corrupt(void **state)
{
	struct fixture *f = *state;
	static const char *const prefixes[] = {
		"{ \"chain\":\"", "{\"chain\": \"", "{\"Chain\":\"",
		"{\"chain\":\"0", "{\"chai\\u006e\":\"", " {\"chain\":\"",
		"{\"hash\":\"",
	};
	struct alog_backup_info info;
	struct alog_err err = { 0 };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		struct chained c;

		chained_v1_start(&c);
		chained_add_raw(&c, "\"event\":" V1_EV1 "}", prefixes[i], 0);
		assert_int_equal(read_text(f->path, c.text, c.len, &info, &err),
				 ALOG_ECORRUPT);
		assert_int_equal(info.bad_line, 2);
		free(c.text);
	}
	{
		struct chained c;

		chained_init(&c);
		chained_add_raw(&c, v1_header_body, NULL, 1);
		assert_int_equal(read_text(f->path, c.text, c.len, &info, &err),
				 ALOG_ECORRUPT);
		assert_int_equal(info.bad_line, 1);
		assert_non_null(strstr(err.msg, "lowercase"));
		free(c.text);
	}
	/* no comma after the chain value */
	{
		struct bytes v = vector_v1();

		v.p[76 - 1] = ' ';
		assert_int_equal(read_text(f->path, v.p, v.n, &info, &err),
				 ALOG_ECORRUPT);
		assert_int_equal(info.bad_line, 1);
		free(v.p);
	}
}

/* Lines with a correct chain whose body breaks 16.1. */
static void test_backup_lines_breaking_the_format_are_corrupt_naming_the_line(
	void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *header;   /* NULL: V-BACKUP-1's */
		const char *line2;
	} cases[] = {
		{ "\"event\":{}}", NULL },
		{ "\"backup\":\"auditlog/2\",\"file\":\"" V1_FILE_ID "\",\"created\":\"2023-07-01T00:00:00Z\"}", NULL },
		{ "\"backup\":\"auditlog/1\",\"file\":\"01890A5D-ac96-774b-bcce-b302099a8057\",\"created\":\"2023-07-01T00:00:00Z\"}", NULL },
		{ "\"backup\":\"auditlog/1\",\"file\":\"01890a5d-ac96-474b-bcce-b302099a8057\",\"created\":\"2023-07-01T00:00:00Z\"}", NULL },
		{ "\"backup\":\"auditlog/1\",\"file\":\"" V1_FILE_ID "\",\"created\":\"2023-07-01\"}", NULL },
		{ "\"backup\":\"auditlog/1\",\"created\":\"2023-07-01T00:00:00Z\",\"file\":\"" V1_FILE_ID "\"}", NULL },
		{ "\"backup\":\"auditlog/1\",\"file\":\"" V1_FILE_ID "\"}", NULL },
		{ "\"backup\":\"auditlog\\/1\",\"file\":\"" V1_FILE_ID "\",\"created\":\"2023-07-01T00:00:00Z\"}", NULL },
		{ NULL, "\"backup\":\"auditlog/1\",\"file\":\"" V1_FILE_ID "\",\"created\":\"2023-07-01T00:00:00Z\"}" },
		{ NULL, "\"event\":[1]}" },
		{ NULL, "\"event\":\"x\"}" },
		{ NULL, "\"event\":{},\"more\":1}" },
		{ NULL, "\"event\":{}" },
		{ NULL, "\"event\":{\"a\":1,\"a\":2}}" },
		{ NULL, "\"record\":{}}" },
		{ NULL, "\"event\":{}}x" },
		{ NULL, "\"ev\\u0065nt\":{}}" },
		{ NULL, "}" },
	};
	struct alog_backup_info info;
	struct alog_err err = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct chained c;

		chained_init(&c);
		chained_add(&c, cases[i].header ? cases[i].header :
			    v1_header_body);
		if (cases[i].line2)
			chained_add(&c, cases[i].line2);
		assert_int_equal(read_text(f->path, c.text, c.len, &info, &err),
				 ALOG_ECORRUPT);
		assert_int_equal(info.bad_line, cases[i].line2 ? 2 : 1);
		free(c.text);
	}
	/* extra header members after "created" are allowed */
	{
		struct chained c;

		chained_init(&c);
		chained_add(&c, "\"backup\":\"auditlog/1\",\"file\":\"" V1_FILE_ID
			    "\",\"created\":\"2023-07-01T02:00:00+02:00\","
			    "\"host\":\"h\",\"n\":[1]}");
		assert_int_equal(read_text(f->path, c.text, c.len, &info, &err),
				 0);
		assert_int_equal(info.created_us, V1_CREATED_US);
		free(c.text);
	}
	/* an empty file and a file holding only a torn header have no
	 * header line */
	assert_int_equal(read_text(f->path, "", 0, &info, &err), ALOG_ECORRUPT);
	assert_int_equal(info.bad_line, 1);
	assert_int_equal(read_text(f->path, "{\"chain\":\"1b", 12, &info, &err),
			 ALOG_ECORRUPT);
	assert_int_equal(info.bad_line, 1);
	/* a missing file */
	assert_int_equal(alog_backup_read("/nonexistent/backup.jsonl", NULL,
					  NULL, &info, &err), ALOG_ENOTFOUND);
}

/* ---- torn tails ---- */

static void test_backup_torn_tail_at_every_offset_of_the_last_line(
	void **state)
{
	struct fixture *f = *state;
	struct bytes v = vector_v1();
	size_t starts[8], last;

	assert_int_equal(line_starts(&v, starts, 8), 4);
	last = starts[3];
	for (size_t k = 1; k < v.n - last; k++) {
		struct alog_backup_info info;
		struct alog_backup *b = NULL;
		struct alog_err err = { 0 };
		struct seen s = { 0 };
		struct stat st;

		write_bytes(f->path, v.p, last + k);
		assert_int_equal(alog_backup_read(f->path, record_cb, &s, &info,
						  &err), 0);
		assert_int_equal(info.torn_tail, 1);
		assert_int_equal(info.torn_offset, last);
		assert_int_equal(info.torn_bytes, k);
		assert_int_equal(info.records, 2);
		assert_int_equal(info.lines, 3);
		assert_int_equal(info.sealed, 0);
		assert_int_equal(s.n, 2);

		/* a writer cuts it (reporting where) and goes on */
		assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
		assert_int_equal(alog_backup_opened(b)->cut_bytes, k);
		assert_int_equal(alog_backup_opened(b)->cut_offset, last);
		assert_int_equal(alog_backup_opened(b)->cut_line, 4);
		assert_int_equal(alog_backup_opened(b)->records, 2);
		assert_int_equal(stat(f->path, &st), 0);
		assert_int_equal(st.st_size, last);
		assert_int_equal(alog_backup_seal(b, &err), 0);
		alog_backup_close(b);
		/* which gives back V-BACKUP-1 exactly */
		{
			struct bytes out;

			out.p = testutil_read_file(f->path, &out.n);
			assert_int_equal(out.n, v.n);
			assert_memory_equal(out.p, v.p, v.n);
			free(out.p);
		}
	}
	/* cut at a line boundary: no torn tail */
	{
		struct alog_backup_info info;
		struct alog_err err = { 0 };

		write_bytes(f->path, v.p, last);
		assert_int_equal(alog_backup_read(f->path, NULL, NULL, &info,
						  &err), 0);
		assert_int_equal(info.torn_tail, 0);
	}
	free(v.p);
}

static void test_backup_open_gives_an_empty_or_torn_header_file_a_header(
	void **state)
{
	struct fixture *f = *state;
	struct alog_backup_info info;
	struct alog_backup *b = NULL;
	struct alog_err err = { 0 };

	write_bytes(f->path, "", 0);
	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
	assert_int_equal(alog_backup_opened(b)->created, 1);
	assert_int_equal(alog_backup_opened(b)->cut_bytes, 0);
	alog_backup_close(b);
	assert_int_equal(alog_backup_read(f->path, NULL, NULL, &info, &err), 0);
	assert_int_equal(info.lines, 1);

	write_bytes(f->path, "{\"chain\":\"00", 12);
	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
	assert_int_equal(alog_backup_opened(b)->created, 1);
	assert_int_equal(alog_backup_opened(b)->cut_bytes, 12);
	assert_int_equal(alog_backup_opened(b)->cut_line, 1);
	assert_int_equal(alog_backup_append(b, "{}", 2, &err), 0);
	alog_backup_close(b);
	assert_int_equal(alog_backup_read(f->path, NULL, NULL, &info, &err), 0);
	assert_int_equal(info.records, 1);
}

static void test_backup_open_refuses_a_directory_and_a_missing_directory(
	void **state)
{
	struct fixture *f = *state;
	struct alog_backup *b = NULL;
	struct alog_err err = { 0 };
	char p[600];

	snprintf(p, sizeof(p), "%s/no/such/dir/b.jsonl", f->dir);
	assert_int_equal(alog_backup_open(p, NOW_US, &b, &err), ALOG_EIO);
	assert_non_null(strstr(err.msg, p));
	assert_int_not_equal(alog_backup_open(f->dir, NOW_US, &b, &err), 0);
	assert_null(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backup_reads_vector_v_backup_1_header_records_and_seal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_writer_reproduces_vector_v_backup_1_byte_for_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_round_trip_keeps_every_event_byte_for_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_open_resumes_the_chain_of_an_existing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_sealed_file_refuses_appends_and_reopening, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_second_writer_gets_ebusy_until_the_first_closes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_append_refuses_what_a_reader_would_refuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_line_limit_accepts_the_limit_and_refuses_one_more, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_changed_byte_anywhere_is_corrupt_naming_its_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_removed_line_is_corrupt_unless_it_is_the_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_swapped_lines_are_corrupt_naming_the_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_line_after_the_seal_is_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_wrong_seal_count_is_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_bad_prefix_and_uppercase_hex_are_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_lines_breaking_the_format_are_corrupt_naming_the_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_torn_tail_at_every_offset_of_the_last_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_open_gives_an_empty_or_torn_header_file_a_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_open_refuses_a_directory_and_a_missing_directory, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
