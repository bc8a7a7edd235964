/*
 * test_backup: backup files (SPEC.md section 16). The published vector
 * V-BACKUP-1 (tests/vectors/backup-v1.jsonl, chain values computed with
 * Python hashlib) is read back and reproduced byte for byte by the writer;
 * every kind of tampering is refused naming its line; torn tails, locks
 * and limits +-1. Tampered files with a valid chain are built here with
 * OpenSSL's SHA-256 directly (the rule of 16.1, not the code under test).
 *
 * Spool records (16.1, the second record form): V-BACKUP-2
 * (tests/vectors/backup-spool-1.jsonl, chain values computed with Python
 * hashlib) is read back with every field and reproduced by the writer;
 * every broken spool member is corrupt at its line, and the writer
 * refuses it without writing. alog_backup_cut_tail (16.2, a spool's
 * start-up) is shown to look only at the tail by files whose head no
 * reader would accept.
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
#include <inttypes.h>

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
/* V-BACKUP-2: V-BACKUP-1's header line, then one spool record */
#define V2_RECEIVED "2023-07-01T00:00:01.250000Z"
#define V2_RECEIVED_US INT64_C(1688169601250000)
#define V2_ID "e1"
#define V2_PROV "{\"transport\":\"unix\",\"uid\":1000,\"gid\":100,\"pid\":4242}"
/* the record line's chain value, from Python hashlib (SPEC.md 16.3) */
#define V2_CHAIN1 \
	"b455756982e0db69d24f61d20eb59fd34715e8070405d93a1945d7b522f6cdfb"
#define V2_LEN 434

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

static struct bytes vector_file(const char *name)
{
	char path[1024];
	const char *dir = getenv("ALOG_VECTORS");
	struct bytes b;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/vectors",
		 name);
	b.p = testutil_read_file(path, &b.n);
	return b;
}

static struct bytes vector_v1(void)
{
	return vector_file("backup-v1.jsonl");
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

/* ---- spool records ---- */

struct entry_copy {
	uint64_t line_no;
	int spool;
	char ev[256];
	char received[32];
	int64_t received_us;
	char id[160];
	char prov[256];
};

struct entries {
	int n;
	struct entry_copy e[8];
};

static void copy_span(char *dst, size_t cap, const char *p, size_t n)
{
	assert_true(n < cap);
	if (n)
		memcpy(dst, p, n);
	dst[n] = 0;
}

static int entry_cb(void *ctx, const struct alog_backup_entry *e)
{
	struct entries *s = ctx;

	if (s->n < 8) {
		struct entry_copy *d = &s->e[s->n];

		d->line_no = e->line_no;
		d->spool = e->spool;
		copy_span(d->ev, sizeof(d->ev), e->event, e->event_len);
		copy_span(d->received, sizeof(d->received), e->received,
			  e->received_len);
		d->received_us = e->received_us;
		copy_span(d->id, sizeof(d->id), e->id, e->id_len);
		copy_span(d->prov, sizeof(d->prov), e->provenance,
			  e->provenance_len);
	}
	s->n++;
	return 0;
}

static void assert_file_is(const char *path, const void *p, size_t n)
{
	struct bytes out;

	out.p = testutil_read_file(path, &out.n);
	assert_int_equal(out.n, n);
	assert_memory_equal(out.p, p, n);
	free(out.p);
}

static struct alog_backup_spool_rec spool_rec(const char *event,
					      int64_t received_us,
					      const char *id, const char *prov)
{
	struct alog_backup_spool_rec r;

	r.event = event;
	r.event_len = event ? strlen(event) : 0;
	r.received_us = received_us;
	r.id = id;
	r.provenance = prov;
	r.provenance_len = prov ? strlen(prov) : 0;
	return r;
}

static void test_backup_reads_vector_v_backup_2_spool_record_with_every_field(
	void **state)
{
	struct fixture *f = *state;
	struct bytes v = vector_file("backup-spool-1.jsonl");
	struct alog_backup_info info;
	struct alog_err err = { 0 };
	struct entries es = { 0 };
	struct seen s = { 0 };
	char path[1024];

	/* the published bytes hold the chain value Python computed */
	assert_int_equal(v.n, V2_LEN);
	assert_non_null(memmem(v.p, v.n, V2_CHAIN1, 64));
	snprintf(path, sizeof(path), "%s/backup-spool-1.jsonl",
		 getenv("ALOG_VECTORS") ? getenv("ALOG_VECTORS") :
		 "tests/vectors");
	assert_int_equal(alog_backup_read_entries(path, entry_cb, &es, &info,
						  &err), 0);
	assert_string_equal(info.file_id, V1_FILE_ID);
	assert_int_equal(info.created_us, V1_CREATED_US);
	assert_int_equal(info.records, 1);
	assert_int_equal(info.lines, 2);
	assert_int_equal(info.sealed, 0);
	assert_int_equal(info.torn_tail, 0);
	assert_int_equal(es.n, 1);
	assert_int_equal(es.e[0].line_no, 1);
	assert_int_equal(es.e[0].spool, 1);
	assert_string_equal(es.e[0].ev, V1_EV1);
	assert_string_equal(es.e[0].received, V2_RECEIVED);
	assert_int_equal(es.e[0].received_us, V2_RECEIVED_US);
	assert_string_equal(es.e[0].id, V2_ID);
	assert_string_equal(es.e[0].prov, V2_PROV);
	/* the old reader reports the event bytes */
	assert_int_equal(alog_backup_read(path, record_cb, &s, &info, &err), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.line_no[0], 1);
	assert_string_equal(s.ev[0], V1_EV1);
	(void)f;
	free(v.p);
}

/* The writer, resuming a file that holds only the vector's header line,
 * writes the spool record line byte for byte. */
static void test_backup_writer_reproduces_vector_v_backup_2_byte_for_byte(
	void **state)
{
	struct fixture *f = *state;
	struct bytes v = vector_file("backup-spool-1.jsonl");
	struct alog_backup *b = NULL;
	struct alog_err err = { 0 };
	struct alog_backup_spool_rec r = spool_rec(V1_EV1, V2_RECEIVED_US,
						   V2_ID, V2_PROV);
	size_t starts[4];

	assert_int_equal(line_starts(&v, starts, 4), 2);
	write_bytes(f->path, v.p, starts[1]);
	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
	assert_int_equal(alog_backup_opened(b)->created, 0);
	assert_int_equal(alog_backup_size(b), starts[1]);
	assert_int_equal(alog_backup_append_spool(b, &r, 1, &err), 0);
	assert_int_equal(alog_backup_records(b), 1);
	assert_int_equal(alog_backup_lines(b), 2);
	assert_int_equal(alog_backup_size(b), v.n);
	alog_backup_close(b);
	assert_file_is(f->path, v.p, v.n);
	free(v.p);
}

static void test_backup_spool_records_read_back_every_field_among_plain_ones(
	void **state)
{
	struct fixture *f = *state;
	char id128[ALOG_BACKUP_ID_MAX + 1];
	struct alog_backup_spool_rec recs[3];
	struct alog_backup *b = NULL;
	struct alog_backup_info info;
	struct alog_err err = { 0 };
	struct entries es = { 0 };
	struct seen s = { 0 };

	memset(id128, '~', ALOG_BACKUP_ID_MAX);
	id128[0] = '!';
	id128[ALOG_BACKUP_ID_MAX] = 0;
	recs[0] = spool_rec("{\"type\":\"a.b\"}", NOW_US, "ev-1",
			    "{\"transport\":\"tls\",\"subject\":\"CN=a\\\"b\"}");
	/* outer whitespace of event and provenance is dropped */
	recs[1] = spool_rec(" {} ", 0, id128, "\t{}\r");
	recs[2] = spool_rec("{\"n\":[1,{\"x\":null}]}", ALOG_TIME_MIN_US,
			    "018bcfe5-687b-74b0-8000-000000000000",
			    "{\"transport\":\"internal\"}");
	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
	assert_int_equal(alog_backup_append(b, V1_EV1, strlen(V1_EV1), &err), 0);
	assert_int_equal(alog_backup_append_spool(b, recs, 2, &err), 0);
	assert_int_equal(alog_backup_append_spool(b, recs + 2, 1, &err), 0);
	assert_int_equal(alog_backup_append_spool(b, recs, 0, &err), 0);
	alog_backup_close(b);
	/* a writer resumes a file that holds spool records */
	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
	assert_int_equal(alog_backup_opened(b)->records, 4);
	assert_int_equal(alog_backup_append(b, V1_EV2, strlen(V1_EV2), &err), 0);
	assert_int_equal(alog_backup_records(b), 5);
	assert_int_equal(alog_backup_seal(b, &err), 0);
	alog_backup_close(b);

	assert_int_equal(alog_backup_read_entries(f->path, entry_cb, &es, &info,
						  &err), 0);
	assert_int_equal(info.records, 5);
	assert_int_equal(info.sealed, 1);
	assert_int_equal(es.n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(es.e[i].line_no, (uint64_t)i + 1);
	assert_int_equal(es.e[0].spool, 0);
	assert_string_equal(es.e[0].ev, V1_EV1);
	assert_string_equal(es.e[0].id, "");
	assert_int_equal(es.e[1].spool, 1);
	assert_string_equal(es.e[1].ev, "{\"type\":\"a.b\"}");
	assert_string_equal(es.e[1].received, "2023-11-14T22:13:20.123456Z");
	assert_int_equal(es.e[1].received_us, NOW_US);
	assert_string_equal(es.e[1].id, "ev-1");
	assert_string_equal(es.e[1].prov,
			    "{\"transport\":\"tls\",\"subject\":\"CN=a\\\"b\"}");
	assert_string_equal(es.e[2].ev, "{}");
	assert_string_equal(es.e[2].received, "1970-01-01T00:00:00.000000Z");
	assert_int_equal(es.e[2].received_us, 0);
	assert_string_equal(es.e[2].id, id128);
	assert_string_equal(es.e[2].prov, "{}");
	assert_string_equal(es.e[3].received, "0000-01-01T00:00:00.000000Z");
	assert_int_equal(es.e[3].received_us, ALOG_TIME_MIN_US);
	assert_string_equal(es.e[3].prov, "{\"transport\":\"internal\"}");
	assert_int_equal(es.e[4].spool, 0);
	assert_string_equal(es.e[4].ev, V1_EV2);

	/* the old reader gets the event bytes of both kinds */
	assert_int_equal(alog_backup_read(f->path, record_cb, &s, &info, &err), 0);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.ev[0], V1_EV1);
	assert_string_equal(s.ev[1], "{\"type\":\"a.b\"}");
	assert_string_equal(s.ev[2], "{}");
	assert_string_equal(s.ev[3], "{\"n\":[1,{\"x\":null}]}");
	assert_string_equal(s.ev[4], V1_EV2);
	assert_int_equal(s.line_no[1], 2);
}

#define GOOD_SPOOL "\"event\":{\"a\":1},\"received\":\"" V2_RECEIVED \
	"\",\"id\":\"e1\",\"provenance\":{}}"

/* Spool record lines with a correct chain that break 16.1, each after a
 * good spool record: corrupt at line 3. */
static void test_backup_broken_spool_records_are_corrupt_naming_the_line(
	void **state)
{
	struct fixture *f = *state;
	char id129[ALOG_BACKUP_ID_MAX + 2], long_id_line[400];
	const char *cases[] = {
		/* received not canonical, or not a time */
		"\"event\":{},\"received\":\"2024-01-01T00:00:00Z\",\"id\":\"e1\",\"provenance\":{}}",
		"\"event\":{},\"received\":\"2023-07-01t00:00:01.250000Z\",\"id\":\"e1\",\"provenance\":{}}",
		"\"event\":{},\"received\":\"2023-07-01T02:00:01.2+02:00\",\"id\":\"e1\",\"provenance\":{}}",
		"\"event\":{},\"received\":\"2023-07-01T00:00:01.250000z\",\"id\":\"e1\",\"provenance\":{}}",
		"\"event\":{},\"received\":\"2023-02-29T00:00:01.250000Z\",\"id\":\"e1\",\"provenance\":{}}",
		"\"event\":{},\"received\":\"2023-07-01T00:00:01.250000\\u005a\",\"id\":\"e1\",\"provenance\":{}}",
		"\"event\":{},\"received\":1688169601250000,\"id\":\"e1\",\"provenance\":{}}",
		"\"event\":{},\"received\":\"2023-07-01T00:00:01.2500000Z\",\"id\":\"e1\",\"provenance\":{}}",
		/* id: escaped, a space, empty, not ASCII, not a string */
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"id\":\"e\\u0031\",\"provenance\":{}}",
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"id\":\"e\\\"1\",\"provenance\":{}}",
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"id\":\"e 1\",\"provenance\":{}}",
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"id\":\"\",\"provenance\":{}}",
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"id\":\"\xc3\xa9\",\"provenance\":{}}",
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"id\":\"\x7f\",\"provenance\":{}}",
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"id\":1,\"provenance\":{}}",
		long_id_line,
		/* provenance not an object */
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"id\":\"e1\",\"provenance\":[]}",
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"id\":\"e1\",\"provenance\":\"unix\"}",
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"id\":\"e1\",\"provenance\":null}",
		/* event not an object */
		"\"event\":[],\"received\":\"" V2_RECEIVED "\",\"id\":\"e1\",\"provenance\":{}}",
		/* members reordered */
		"\"event\":{},\"id\":\"e1\",\"received\":\"" V2_RECEIVED "\",\"provenance\":{}}",
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"provenance\":{},\"id\":\"e1\"}",
		"\"received\":\"" V2_RECEIVED "\",\"event\":{},\"id\":\"e1\",\"provenance\":{}}",
		/* a member missing (the 4th: id; the 5th: provenance) */
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"provenance\":{}}",
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"id\":\"e1\"}",
		"\"event\":{},\"received\":\"" V2_RECEIVED "\"}",
		/* an extra member, at the end or inside */
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"id\":\"e1\",\"provenance\":{},\"x\":1}",
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"x\":1,\"id\":\"e1\",\"provenance\":{}}",
		/* keys written with escapes, or another key */
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"\\u0069d\":\"e1\",\"provenance\":{}}",
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"ids\":\"e1\",\"provenance\":{}}",
		"\"event\":{},\"received\":\"" V2_RECEIVED "\",\"id\":\"e1\",\"Provenance\":{}}",
	};
	struct alog_backup_info info;
	struct alog_err err = { 0 };

	memset(id129, 'a', sizeof(id129) - 1);
	id129[sizeof(id129) - 1] = 0;
	snprintf(long_id_line, sizeof(long_id_line),
		 "\"event\":{},\"received\":\"" V2_RECEIVED "\",\"id\":\"%s\","
		 "\"provenance\":{}}", id129);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct chained c;
		struct alog_backup *b = NULL;

		chained_v1_start(&c);
		chained_add(&c, GOOD_SPOOL);
		chained_add(&c, cases[i]);
		err.msg[0] = 0;
		assert_int_equal(read_text(f->path, c.text, c.len, &info, &err),
				 ALOG_ECORRUPT);
		assert_int_equal(info.bad_line, 3);
		assert_int_equal(info.records, 1);
		assert_non_null(strstr(err.msg, "line 3:"));
		assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err),
				 ALOG_ECORRUPT);
		free(c.text);
	}
	/* accepted at the limits: JSON whitespace inside BODY, an id of
	 * 128 bytes, the edges of the alphabet, the time range's ends */
	{
		static const char *const good[] = {
			"\"event\" : { } , \"received\" :\"" V2_RECEIVED "\" ,\"id\": \"!~\" ,\"provenance\" : {\"a\" : [ ] } } ",
			"\"event\":{},\"received\":\"0000-01-01T00:00:00.000000Z\",\"id\":\"#\",\"provenance\":{}}",
			"\"event\":{},\"received\":\"9999-12-31T23:59:59.999999Z\",\"id\":\"[]\",\"provenance\":{}}",
		};
		struct entries es = { 0 };
		struct chained c;

		chained_v1_start(&c);
		for (size_t i = 0; i < 3; i++)
			chained_add(&c, good[i]);
		id129[ALOG_BACKUP_ID_MAX] = 0;
		snprintf(long_id_line, sizeof(long_id_line),
			 "\"event\":{},\"received\":\"" V2_RECEIVED "\",\"id\":"
			 "\"%s\",\"provenance\":{}}", id129);
		chained_add(&c, long_id_line);
		write_bytes(f->path, c.text, c.len);
		assert_int_equal(alog_backup_read_entries(f->path, entry_cb, &es,
							  &info, &err), 0);
		assert_int_equal(es.n, 4);
		assert_string_equal(es.e[0].ev, "{ }");
		assert_string_equal(es.e[0].id, "!~");
		assert_string_equal(es.e[0].prov, "{\"a\" : [ ] }");
		assert_int_equal(es.e[1].received_us, ALOG_TIME_MIN_US);
		assert_int_equal(es.e[2].received_us, ALOG_TIME_MAX_US);
		assert_int_equal(strlen(es.e[3].id), ALOG_BACKUP_ID_MAX);
		free(c.text);
	}
}

/* Every refusal leaves the file's bytes as they were, also when the bad
 * record comes after good ones in one call. */
static void test_backup_append_spool_refuses_bad_records_writing_nothing(
	void **state)
{
	struct fixture *f = *state;
	char id129[ALOG_BACKUP_ID_MAX + 2];
	const struct {
		const char *event, *id, *prov;
		int64_t received_us;
		int code;
	} bad[] = {
		{ "{}", "e 1", "{}", 0, ALOG_EINVAL },
		{ "{}", "", "{}", 0, ALOG_EINVAL },
		{ "{}", "e\"1", "{}", 0, ALOG_EINVAL },
		{ "{}", "e\\1", "{}", 0, ALOG_EINVAL },
		{ "{}", "e\x7f", "{}", 0, ALOG_EINVAL },
		{ "{}", "\xc3\xa9", "{}", 0, ALOG_EINVAL },
		{ "{}", "e\n", "{}", 0, ALOG_EINVAL },
		{ "{}", id129, "{}", 0, ALOG_EINVAL },
		{ "{}", NULL, "{}", 0, ALOG_EINVAL },
		{ "{}", "e1", NULL, 0, ALOG_EINVAL },
		{ "{}", "e1", "", 0, ALOG_EINVAL },
		{ "{}", "e1", "[]", 0, ALOG_EINVAL },
		{ "{}", "e1", "\"unix\"", 0, ALOG_EINVAL },
		{ "{}", "e1", "{", 0, ALOG_EINVAL },
		{ "{}", "e1", "{\"a\":\n1}", 0, ALOG_EINVAL },
		{ "{}", "e1", "{\"a\":1,\"a\":2}", 0, ALOG_EINVAL },
		{ "{}", "e1", "{}{}", 0, ALOG_EINVAL },
		{ "[]", "e1", "{}", 0, ALOG_EINVAL },
		{ "{\"a\":\n1}", "e1", "{}", 0, ALOG_EINVAL },
		{ "{\"a\":\"\xff\"}", "e1", "{}", 0, ALOG_EINVAL },
		{ "{}", "e1", "{}", ALOG_TIME_MAX_US + 1, ALOG_EINVAL },
		{ "{}", "e1", "{}", ALOG_TIME_MIN_US - 1, ALOG_EINVAL },
	};
	struct alog_backup *b = NULL;
	struct alog_backup_spool_rec good = spool_rec("{}", 0, "e1", "{}");
	struct alog_err err = { 0 };
	struct bytes before;

	memset(id129, 'a', sizeof(id129) - 1);
	id129[sizeof(id129) - 1] = 0;
	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
	assert_int_equal(alog_backup_append_spool(b, &good, 1, &err), 0);
	before.p = testutil_read_file(f->path, &before.n);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct alog_backup_spool_rec recs[3];

		recs[0] = good;
		recs[1] = good;
		recs[2] = spool_rec(bad[i].event, bad[i].received_us, bad[i].id,
				    bad[i].prov);
		assert_int_equal(alog_backup_append_spool(b, recs + 2, 1, &err),
				 bad[i].code);
		assert_non_null(strstr(err.msg, "event 0"));
		assert_int_equal(alog_backup_append_spool(b, recs, 3, &err),
				 bad[i].code);
		assert_non_null(strstr(err.msg, "event 2"));
		assert_file_is(f->path, before.p, before.n);
	}
	/* the writer goes on after refusals */
	assert_int_equal(alog_backup_append_spool(b, &good, 1, &err), 0);
	assert_int_equal(alog_backup_records(b), 2);
	alog_backup_close(b);
	assert_int_equal(alog_backup_read(f->path, NULL, NULL, NULL, &err), 0);
	free(before.p);
}

/* The whole line counts: a spool line of exactly ALOG_BACKUP_LINE_MAX
 * bytes is written, one byte more (in the event, the id or the
 * provenance) is ALOG_ELIMIT, and an event a plain record still holds
 * (ALOG_BACKUP_EVENT_MAX) is too long for a spool record. */
static void test_backup_spool_line_limit_accepts_the_limit_and_refuses_one_more(
	void **state)
{
	struct fixture *f = *state;
	const char *id = "e1", *prov = "{\"transport\":\"unix\"}";
	size_t room = ALOG_BACKUP_LINE_MAX - ALOG_BACKUP_SPOOL_OVERHEAD -
		      strlen(id) - strlen(prov);
	size_t big = ALOG_BACKUP_EVENT_MAX;
	char *ev = malloc(big + 2), *pv = malloc(64);
	struct alog_backup_spool_rec r;
	struct alog_backup *b = NULL;
	struct alog_err err = { 0 };
	struct bytes file;
	size_t starts[4];

	/* {"p":"xxx...x"} of n bytes in ev */
#define MAKE_EVENT(n) do { memset(ev, 'x', (n)); memcpy(ev, "{\"p\":\"", 6); \
		memcpy(ev + (n) - 2, "\"}", 3); } while (0)
	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
	file.p = testutil_read_file(f->path, &file.n);
	MAKE_EVENT(big);
	r = spool_rec(ev, 0, id, prov);
	assert_int_equal(alog_backup_append_spool(b, &r, 1, &err), ALOG_ELIMIT);
	assert_non_null(strstr(err.msg, "event 0"));
	/* the same event as a plain record fits */
	MAKE_EVENT(room + 1);
	r = spool_rec(ev, 0, id, prov);
	assert_int_equal(alog_backup_append_spool(b, &r, 1, &err), ALOG_ELIMIT);
	/* one byte more in the id or the provenance instead */
	MAKE_EVENT(room);
	r = spool_rec(ev, 0, "e12", prov);
	assert_int_equal(alog_backup_append_spool(b, &r, 1, &err), ALOG_ELIMIT);
	snprintf(pv, 64, "{\"transport\":\"unix\" }");
	r = spool_rec(ev, 0, id, pv);
	assert_int_equal(alog_backup_append_spool(b, &r, 1, &err), ALOG_ELIMIT);
	assert_file_is(f->path, file.p, file.n);
	free(file.p);
	/* exactly the limit */
	r = spool_rec(ev, 0, id, prov);
	assert_int_equal(alog_backup_append_spool(b, &r, 1, &err), 0);
	MAKE_EVENT(big);
	assert_int_equal(alog_backup_append(b, ev, big, &err), 0);
	alog_backup_close(b);
#undef MAKE_EVENT
	file.p = testutil_read_file(f->path, &file.n);
	assert_int_equal(line_starts(&file, starts, 4), 3);
	assert_int_equal(starts[2] - starts[1] - 1, ALOG_BACKUP_LINE_MAX);
	assert_int_equal(starts[3] - starts[2] - 1, ALOG_BACKUP_LINE_MAX);
	free(file.p);
	assert_int_equal(alog_backup_read(f->path, NULL, NULL, NULL, &err), 0);
	free(ev);
	free(pv);
}

/* ---- cut_tail: a spool's start-up looks only at the tail ---- */

static uint64_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* A file of spool records (and no seal) made by the writer. */
static struct bytes spool_file(const char *path, int n)
{
	struct alog_backup *b = NULL;
	struct alog_err err = { 0 };
	struct bytes out;

	assert_int_equal(alog_backup_open(path, NOW_US, &b, &err), 0);
	for (int i = 0; i < n; i++) {
		char id[16];
		struct alog_backup_spool_rec r;

		snprintf(id, sizeof(id), "ev-%d", i);
		r = spool_rec(V1_EV1, NOW_US + i, id, V2_PROV);
		assert_int_equal(alog_backup_append_spool(b, &r, 1, &err), 0);
	}
	alog_backup_close(b);
	out.p = testutil_read_file(path, &out.n);
	return out;
}

static void test_backup_cut_tail_cuts_a_torn_tail_at_every_offset_and_reports_it(
	void **state)
{
	struct fixture *f = *state;
	struct bytes v = spool_file(f->path, 3);
	size_t starts[8], last;

	assert_int_equal(line_starts(&v, starts, 8), 4);
	last = starts[3];
	for (size_t k = 1; k < v.n - last; k++) {
		struct alog_backup_tail t;
		struct alog_backup_info info;
		struct alog_err err = { 0 };

		write_bytes(f->path, v.p, last + k);
		assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), 0);
		assert_int_equal(t.cut_bytes, k);
		assert_int_equal(t.cut_offset, last);
		assert_int_equal(t.cut_line, 0);
		assert_int_equal(t.size, last);
		assert_int_equal(t.sealed, 0);
		assert_file_is(f->path, v.p, last);
		assert_int_equal(alog_backup_read(f->path, NULL, NULL, &info,
						  &err), 0);
		assert_int_equal(info.torn_tail, 0);
		assert_int_equal(info.records, 2);
	}
	free(v.p);
}

static void test_backup_cut_tail_leaves_a_clean_file_untouched(void **state)
{
	struct fixture *f = *state;
	struct bytes v = spool_file(f->path, 2);
	struct alog_backup_tail t;
	struct alog_err err = { 0 };

	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), 0);
	assert_int_equal(t.cut_bytes, 0);
	assert_int_equal(t.cut_offset, 0);
	assert_int_equal(t.size, v.n);
	assert_int_equal(t.sealed, 0);
	assert_file_is(f->path, v.p, v.n);
	/* an empty file, too */
	write_bytes(f->path, "", 0);
	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), 0);
	assert_int_equal(t.size, 0);
	assert_int_equal(t.cut_bytes, 0);
	/* a file with no complete line is cut to nothing */
	write_bytes(f->path, v.p, 40);
	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), 0);
	assert_int_equal(t.cut_bytes, 40);
	assert_int_equal(t.cut_offset, 0);
	assert_int_equal(t.size, 0);
	assert_int_equal(file_size(f->path), 0);
	/* a missing file */
	assert_int_equal(alog_backup_cut_tail("/nonexistent/spool.jsonl", &t,
					      &err), ALOG_ENOTFOUND);
	free(v.p);
}

static void test_backup_cut_tail_reports_a_sealed_file_and_refuses_bytes_after_its_seal(
	void **state)
{
	struct fixture *f = *state;
	struct bytes v = vector_v1();
	struct alog_backup_tail t;
	struct alog_err err = { 0 };
	struct chained c;
	unsigned char *p;

	write_bytes(f->path, v.p, v.n);
	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), 0);
	assert_int_equal(t.sealed, 1);
	assert_int_equal(t.cut_bytes, 0);
	assert_int_equal(t.size, v.n);
	/* a torn line after the seal is corrupt (16.1 rule 1): not cut */
	p = malloc(v.n + 5);
	memcpy(p, v.p, v.n);
	memcpy(p + v.n, "{\"ch", 4);
	write_bytes(f->path, p, v.n + 4);
	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), ALOG_ECORRUPT);
	assert_non_null(strstr(err.msg, "seal"));
	assert_file_is(f->path, p, v.n + 4);
	free(p);
	/* a seal with JSON whitespace is a seal; a record whose event
	 * holds "seal":true is not */
	chained_v1_start(&c);
	chained_add(&c, "\"event\":{\"seal\":true}}");
	write_bytes(f->path, c.text, c.len);
	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), 0);
	assert_int_equal(t.sealed, 0);
	chained_add(&c, " \"seal\" : true , \"records\" : 1 }");
	write_bytes(f->path, c.text, c.len);
	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), 0);
	assert_int_equal(t.sealed, 1);
	free(c.text);
	chained_v1_start(&c);
	chained_add(&c, "\"seal\":false,\"records\":0}");
	write_bytes(f->path, c.text, c.len);
	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), 0);
	assert_int_equal(t.sealed, 0);
	free(c.text);
	/* only the header */
	{
		size_t starts[8];

		assert_int_equal(line_starts(&v, starts, 8), 4);
		write_bytes(f->path, v.p, starts[1]);
	}
	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), 0);
	assert_int_equal(t.sealed, 0);
	free(v.p);
}

/* A torn tail of ALOG_BACKUP_LINE_MAX bytes is cut; one byte more (no
 * newline in the window) is corrupt and nothing is cut. */
static void test_backup_cut_tail_refuses_a_torn_tail_longer_than_the_limit(
	void **state)
{
	struct fixture *f = *state;
	struct bytes v = spool_file(f->path, 1);
	size_t n = v.n + ALOG_BACKUP_LINE_MAX + 1;
	unsigned char *p = malloc(n);
	struct alog_backup_tail t;
	struct alog_err err = { 0 };

	memcpy(p, v.p, v.n);
	memset(p + v.n, 'x', n - v.n);
	write_bytes(f->path, p, n);
	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), ALOG_ECORRUPT);
	assert_non_null(strstr(err.msg, "ALOG_BACKUP_LINE_MAX"));
	assert_int_equal(file_size(f->path), n);
	write_bytes(f->path, p, n - 1);
	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), 0);
	assert_int_equal(t.cut_bytes, ALOG_BACKUP_LINE_MAX);
	assert_int_equal(t.cut_offset, v.n);
	assert_file_is(f->path, v.p, v.n);
	/* without any complete line: the same limit */
	write_bytes(f->path, p + v.n, ALOG_BACKUP_LINE_MAX + 1);
	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), ALOG_ECORRUPT);
	write_bytes(f->path, p + v.n, ALOG_BACKUP_LINE_MAX);
	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), 0);
	assert_int_equal(t.cut_bytes, ALOG_BACKUP_LINE_MAX);
	assert_int_equal(t.size, 0);
	free(p);
	free(v.p);
}

/* 20 MB of records behind a first line no reader accepts (longer than
 * the limit, no JSON): cut_tail still cuts the tail, so it never read
 * the head; a full read refuses line 1. */
static void test_backup_cut_tail_of_a_20_mb_file_reads_only_the_tail(
	void **state)
{
	struct fixture *f = *state;
	const size_t total = 20u << 20;
	struct bytes rec = spool_file(f->path, 1);
	size_t starts[4], line_len, n = 0;
	struct alog_backup_info info;
	struct alog_backup_tail t;
	struct alog_err err = { 0 };
	unsigned char *p = malloc(total + 70000);

	assert_int_equal(line_starts(&rec, starts, 4), 2);
	line_len = starts[2] - starts[1];
	memset(p, 'x', 100000);
	p[100000] = '\n';
	n = 100001;
	while (n < total) {
		memcpy(p + n, rec.p + starts[1], line_len);
		n += line_len;
	}
	memcpy(p + n, rec.p + starts[1], 50);
	write_bytes(f->path, p, n + 50);
	assert_int_equal(alog_backup_read(f->path, NULL, NULL, &info, &err),
			 ALOG_ECORRUPT);
	assert_int_equal(info.bad_line, 1);
	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), 0);
	assert_int_equal(t.cut_bytes, 50);
	assert_int_equal(t.cut_offset, n);
	assert_int_equal(t.size, n);
	assert_int_equal(file_size(f->path), n);
	free(p);
	free(rec.p);
}

/* The same with 64 GiB whose head is a hole (zero bytes, never
 * written): a reader of the whole file would hold or scan 64 GiB. Skipped
 * where the file system has no sparse files that large. */
static void test_backup_cut_tail_of_a_64_gib_sparse_file_reads_only_the_tail(
	void **state)
{
	struct fixture *f = *state;
	const uint64_t hole = UINT64_C(64) << 30;
	struct bytes rec = spool_file(f->path, 1);
	struct alog_backup_tail t;
	struct alog_err err = { 0 };
	size_t starts[4];
	FILE *fp;

	assert_int_equal(line_starts(&rec, starts, 4), 2);
	if (truncate(f->path, (off_t)hole) != 0) {
		free(rec.p);
		skip();
	}
	fp = fopen(f->path, "ab");
	assert_non_null(fp);
	/* a newline ends the hole's "line", then a record and a torn one */
	assert_int_equal(fwrite("\n", 1, 1, fp), 1);
	assert_int_equal(fwrite(rec.p + starts[1], 1, starts[2] - starts[1], fp),
			 starts[2] - starts[1]);
	assert_int_equal(fwrite(rec.p + starts[1], 1, 30, fp), 30);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), 0);
	assert_int_equal(t.cut_bytes, 30);
	assert_int_equal(t.cut_offset, hole + 1 + (starts[2] - starts[1]));
	assert_int_equal(t.size, t.cut_offset);
	assert_int_equal(t.sealed, 0);
	assert_int_equal(file_size(f->path), t.cut_offset);
	assert_int_equal(truncate(f->path, 0), 0);
	free(rec.p);
}

static void test_backup_cut_tail_gets_ebusy_while_a_writer_holds_the_file(
	void **state)
{
	struct fixture *f = *state;
	struct alog_backup *b = NULL;
	struct alog_backup_tail t;
	struct alog_err err = { 0 };

	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), ALOG_EBUSY);
	assert_non_null(strstr(err.msg, "locked"));
	alog_backup_close(b);
	assert_int_equal(alog_backup_cut_tail(f->path, &t, &err), 0);
	/* the lock is held only during the call */
	assert_int_equal(alog_backup_open(f->path, NOW_US, &b, &err), 0);
	alog_backup_close(b);
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
		cmocka_unit_test_setup_teardown(test_backup_reads_vector_v_backup_2_spool_record_with_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_writer_reproduces_vector_v_backup_2_byte_for_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_spool_records_read_back_every_field_among_plain_ones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_broken_spool_records_are_corrupt_naming_the_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_append_spool_refuses_bad_records_writing_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_spool_line_limit_accepts_the_limit_and_refuses_one_more, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_cut_tail_cuts_a_torn_tail_at_every_offset_and_reports_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_cut_tail_leaves_a_clean_file_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_cut_tail_reports_a_sealed_file_and_refuses_bytes_after_its_seal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_cut_tail_refuses_a_torn_tail_longer_than_the_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_cut_tail_of_a_20_mb_file_reads_only_the_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_cut_tail_of_a_64_gib_sparse_file_reads_only_the_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_cut_tail_gets_ebusy_while_a_writer_holds_the_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
