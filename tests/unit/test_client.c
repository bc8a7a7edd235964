/*
 * test_client: the client library (ingest/client.h): ids given before the
 * first send (SPEC.md 10.2), the four answer forms of SPEC.md 15.2 and
 * malformed answers, and the sender against a scripted fake daemon (a
 * thread on a Unix socket): pipelining, every answer kind, a connection
 * that breaks mid-stream, and no daemon at all, each falling back to the
 * backup file (SPEC.md 16). Linked against the shared library
 * libauditlog-client when built by meson, which proves it is complete.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>

#include "ingest/backup.h"
#include "ingest/client.h"
#include "testutil.h"

#define NOW_US INT64_C(1700000000123456)   /* V-UUID7-2 */
#define UUID7_PREFIX "018bcfe5-687b-774b-"

/* ---- helpers ---- */

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* A UUIDv7 text (SPEC.md "UUIDv7") made at NOW_US. */
static void assert_uuid7_at_now(const char *s)
{
	assert_int_equal(strlen(s), 36);
	assert_memory_equal(s, UUID7_PREFIX, strlen(UUID7_PREFIX));
	assert_non_null(strchr("89ab", s[19]));
	for (int i = 20; i < 36; i++)
		if (i != 23)
			assert_true(is_hex(s[i]));
	assert_int_equal(s[23], '-');
}

/* Assign an id to line; returns the output (malloc'd). */
static char *assigned(const char *line, struct alog_client_event *ev)
{
	struct alog_buf out;
	struct alog_err err = { 0 };
	char *r;

	alog_buf_init(&out, 0);
	assert_int_equal(alog_client_assign_id(line, strlen(line), NOW_US, &out,
					       ev, &err), 0);
	r = strndup((const char *)out.data, out.len);
	alog_buf_release(&out);
	return r;
}

/* ---- ids ---- */

static void test_client_assign_id_inserts_uuid7_as_first_member(void **state)
{
	struct alog_client_event ev;
	char *out;

	(void)state;
	out = assigned("{\"type\":\"a.b\",\"n\":1}", &ev);
	assert_int_equal(ev.id_added, 1);
	assert_uuid7_at_now(ev.id);
	assert_int_equal(strlen(out), 44 + strlen("{\"type\":\"a.b\",\"n\":1}"));
	assert_memory_equal(out, "{\"id\":\"", 7);
	assert_memory_equal(out + 7, ev.id, 36);
	assert_string_equal(out + 43, "\",\"type\":\"a.b\",\"n\":1}");
	free(out);
	/* two events get two ids */
	{
		struct alog_client_event ev2;
		char *out2 = assigned("{\"type\":\"a.b\"}", &ev2);

		assert_string_not_equal(ev.id, ev2.id);
		free(out2);
	}
}

static void test_client_assign_id_keeps_whitespace_and_every_other_byte(
	void **state)
{
	static const struct {
		const char *in, *before, *after;
	} cases[] = {
		{ " \t{ \"type\" : \"a\" } \r", " \t{", ", \"type\" : \"a\" } \r" },
		{ "{}", "{", "}" },
		{ "{ }", "{", " }" },
		{ "\r\n{\n\"x\":{\"id\":\"nested\"}}", "\r\n{", ",\n\"x\":{\"id\":\"nested\"}}" },
		{ "{\"s\":\"caf\xc3\xa9 \\u00e9\",\"n\":1.50,\"e\":1E2}", "{",
		  ",\"s\":\"caf\xc3\xa9 \\u00e9\",\"n\":1.50,\"e\":1E2}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct alog_client_event ev;
		char *out = assigned(cases[i].in, &ev);
		size_t b = strlen(cases[i].before);

		assert_int_equal(ev.id_added, 1);
		assert_memory_equal(out, cases[i].before, b);
		assert_memory_equal(out + b, "\"id\":\"", 6);
		assert_memory_equal(out + b + 6, ev.id, 36);
		assert_int_equal(out[b + 42], '"');
		assert_string_equal(out + b + 43, cases[i].after);
		free(out);
	}
}

static void test_client_assign_id_leaves_an_event_with_id_untouched(
	void **state)
{
	static const struct {
		const char *in, *id;
	} cases[] = {
		{ "{\"type\":\"a\",\"id\":\"ev-1\"}", "ev-1" },
		{ " { \"id\" : \"x\" , \"type\":\"a\" } ", "x" },
		{ "{\"\\u0069d\":\"y\",\"type\":\"a\"}", "y" },   /* decoded key */
		{ "{\"id\":5}", "" },                            /* not a string */
		{ "{\"id\":\"a\\u0062\"}", "" },                  /* escaped */
		{ "{\"id\":\"\"}", "" },                          /* empty */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct alog_client_event ev;
		char *out = assigned(cases[i].in, &ev);

		assert_int_equal(ev.id_added, 0);
		assert_string_equal(out, cases[i].in);
		assert_string_equal(ev.id, cases[i].id);
		free(out);
	}
}

static void test_client_assign_id_refuses_lines_that_are_no_json_object(
	void **state)
{
	static const struct {
		const char *in, *code;
	} cases[] = {
		{ "", "empty" }, { " \t\r", "empty" }, { "[1]", "not_object" },
		{ "\"s\"", "not_object" }, { "{", "not_json" },
		{ "not json", "not_json" }, { "{\"a\":1,\"a\":2}", "duplicate_key" },
		{ "{\"a\":\"\xff\"}", "bad_utf8" }, { "{\"a\":\"\\u0000\"}", "nul" },
		{ "{\"a\":1e400}", "number_range" },
	};
	struct alog_buf out;
	struct alog_err err = { 0 };

	(void)state;
	alog_buf_init(&out, 0);
	alog_buf_adds(&out, "kept", &err);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct alog_client_event ev;

		assert_int_equal(alog_client_assign_id(cases[i].in,
						       strlen(cases[i].in),
						       NOW_US, &out, &ev, &err),
				 ALOG_EINVAL);
		assert_string_equal(ev.code, cases[i].code);
		assert_int_equal(out.len, 4);
	}
	/* {"a":[[...]]}: the object and k arrays are k + 1 levels; 32 is
	 * the most an event may have */
	for (int k = 31; k <= 32; k++) {
		struct alog_client_event ev;
		char line[200];
		size_t n = (size_t)snprintf(line, sizeof(line), "{\"a\":");

		for (int i = 0; i < k; i++)
			line[n++] = '[';
		for (int i = 0; i < k; i++)
			line[n++] = ']';
		line[n++] = '}';
		alog_buf_reset(&out);
		assert_int_equal(alog_client_assign_id(line, n, NOW_US, &out,
						       &ev, &err),
				 k == 31 ? 0 : ALOG_EINVAL);
		if (k == 32)
			assert_string_equal(ev.code, "too_deep");
	}
	alog_buf_release(&out);
}

/* The line with its id must fit ALOG_CLIENT_LINE_MAX and the object
 * ALOG_EVENT_MEMBERS_MAX (4096) members: limits +-1. */
static void test_client_assign_id_needs_room_for_the_id_limits_plus_minus_1(
	void **state)
{
	struct alog_client_event ev;
	struct alog_buf out;
	struct alog_err err = { 0 };
	size_t n;
	char *line;

	(void)state;
	alog_buf_init(&out, 0);
	/* {"p":"xxx"} of exactly LINE_MAX - 44 bytes: gets an id */
	n = ALOG_CLIENT_LINE_MAX - ALOG_CLIENT_ID_MEMBER_LEN;
	line = malloc(ALOG_CLIENT_LINE_MAX + 2);
	memset(line, 'x', n + 1);
	memcpy(line, "{\"p\":\"", 6);
	memcpy(line + n - 2, "\"}", 2);
	assert_int_equal(alog_client_assign_id(line, n, NOW_US, &out, &ev,
					       &err), 0);
	assert_int_equal(out.len, ALOG_CLIENT_LINE_MAX);
	alog_buf_reset(&out);
	memcpy(line + n - 2, "x\"}", 3);   /* one byte more */
	assert_int_equal(alog_client_assign_id(line, n + 1, NOW_US, &out, &ev,
					       &err), ALOG_ELIMIT);
	assert_string_equal(ev.code, "too_long");
	assert_int_equal(out.len, 0);
	/* but with its own id it is sent as it is, up to the line limit */
	memset(line, 'x', ALOG_CLIENT_LINE_MAX + 1);
	memcpy(line, "{\"id\":\"i\",\"p\":\"", 15);
	memcpy(line + ALOG_CLIENT_LINE_MAX - 2, "\"}", 2);
	assert_int_equal(alog_client_assign_id(line, ALOG_CLIENT_LINE_MAX,
					       NOW_US, &out, &ev, &err), 0);
	alog_buf_reset(&out);
	memcpy(line + ALOG_CLIENT_LINE_MAX - 2, "x\"}", 3);
	assert_int_equal(alog_client_assign_id(line, ALOG_CLIENT_LINE_MAX + 1,
					       NOW_US, &out, &ev, &err),
			 ALOG_EINVAL);
	assert_string_equal(ev.code, "too_long");
	free(line);

	/* members: 4095 get an id, 4096 have no room */
	line = malloc(4096 * 16 + 16);
	for (int members = 4095; members <= 4096; members++) {
		size_t k = 0;

		line[k++] = '{';
		for (int i = 0; i < members; i++)
			k += (size_t)snprintf(line + k, 32, "%s\"k%d\":1",
					      i ? "," : "", i);
		line[k++] = '}';
		alog_buf_reset(&out);
		assert_int_equal(alog_client_assign_id(line, k, NOW_US, &out,
						       &ev, &err),
				 members == 4095 ? 0 : ALOG_ELIMIT);
		if (members == 4096)
			assert_string_equal(ev.code, "too_many_members");
	}
	free(line);
	alog_buf_release(&out);
}

/* ---- answers ---- */

static void test_client_answer_parse_reads_the_four_forms(void **state)
{
	struct alog_answer a;
	struct alog_err err = { 0 };
	struct alog_buf out;
	static const char *const lines[] = {
		"{\"ok\":true,\"seq\":0}",
		"{\"ok\":true,\"seq\":9007199254740991}",
		"{\"ok\":true,\"duplicate\":true,\"seq\":17}",
		"{\"ok\":true,\"spooled\":true,\"id\":\"018bcfe5-687b-774b-8000-000000000000\"}",
		"{\"ok\":false,\"code\":\"bad_field\",\"retry\":false,\"error\":\"field \\\"type\\\" is missing\"}",
		"{\"ok\":false,\"code\":\"unavailable\",\"retry\":true,\"error\":\"\"}",
	};

	(void)state;
	assert_int_equal(alog_answer_parse(lines[0], strlen(lines[0]), &a, &err), 0);
	assert_int_equal(a.kind, ALOG_ANSWER_STORED);
	assert_int_equal(a.seq, 0);
	assert_true(alog_answer_acked(&a));
	assert_int_equal(alog_answer_parse(lines[1], strlen(lines[1]), &a, &err), 0);
	assert_int_equal(a.seq, UINT64_C(9007199254740991));
	assert_int_equal(alog_answer_parse(lines[2], strlen(lines[2]), &a, &err), 0);
	assert_int_equal(a.kind, ALOG_ANSWER_DUPLICATE);
	assert_int_equal(a.seq, 17);
	assert_true(alog_answer_acked(&a));
	assert_int_equal(alog_answer_parse(lines[3], strlen(lines[3]), &a, &err), 0);
	assert_int_equal(a.kind, ALOG_ANSWER_SPOOLED);
	assert_string_equal(a.id, "018bcfe5-687b-774b-8000-000000000000");
	assert_true(alog_answer_acked(&a));
	assert_int_equal(alog_answer_parse(lines[4], strlen(lines[4]), &a, &err), 0);
	assert_int_equal(a.kind, ALOG_ANSWER_REJECTED);
	assert_string_equal(a.code, "bad_field");
	assert_int_equal(a.retry, 0);
	assert_string_equal(a.error, "field \"type\" is missing");
	assert_false(alog_answer_acked(&a));
	assert_int_equal(alog_answer_parse(lines[5], strlen(lines[5]), &a, &err), 0);
	assert_int_equal(a.retry, 1);
	assert_string_equal(a.error, "");

	/* format writes the same bytes back */
	alog_buf_init(&out, 0);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_int_equal(alog_answer_parse(lines[i], strlen(lines[i]),
						   &a, &err), 0);
		alog_buf_reset(&out);
		assert_int_equal(alog_answer_format(&a, &out, &err), 0);
		assert_string_equal((const char *)out.data, lines[i]);
	}
	alog_buf_release(&out);
}

static void test_client_answer_parse_decodes_the_error_string(void **state)
{
	static const char line[] = "{\"ok\":false,\"code\":\"not_json\","
		"\"retry\":false,\"error\":\"a\\\"b\\\\c\\/\\u00e9\\ud83d\\ude00"
		"\\n\\t\xc3\xa9\"}";
	struct alog_answer a;
	struct alog_err err = { 0 };

	(void)state;
	assert_int_equal(alog_answer_parse(line, strlen(line), &a, &err), 0);
	assert_string_equal(a.error, "a\"b\\c/\xc3\xa9\xf0\x9f\x98\x80\n\t\xc3\xa9");
}

static void test_client_answer_parse_refuses_malformed_answers(void **state)
{
	static const char *const bad[] = {
		"", "{}", "[]", "ok", "{\"ok\":true}", "{\"ok\":1,\"seq\":1}",
		"{\"seq\":1,\"ok\":true}", "{\"ok\":true,\"seq\":-1}",
		"{\"ok\":true,\"seq\":1.0}", "{\"ok\":true,\"seq\":1e2}",
		"{\"ok\":true,\"seq\":\"1\"}", "{\"ok\":true,\"seq\":9007199254740992}",
		"{\"ok\":true,\"seq\":1,\"x\":1}", "{\"ok\":true,\"duplicate\":false,\"seq\":1}",
		"{\"ok\":true,\"seq\":1,\"duplicate\":true}",
		"{\"ok\":true,\"spooled\":true,\"id\":\"\"}",
		"{\"ok\":true,\"spooled\":true,\"id\":\"a b\"}",
		"{\"ok\":true,\"spooled\":true,\"id\":\"\\u0061\"}",
		"{\"ok\":true,\"spooled\":true}",
		"{\"ok\":false,\"code\":\"x\",\"retry\":false}",
		"{\"ok\":false,\"code\":\"x\",\"retry\":0,\"error\":\"\"}",
		"{\"ok\":false,\"code\":\"Bad\",\"retry\":false,\"error\":\"\"}",
		"{\"ok\":false,\"code\":\"\",\"retry\":false,\"error\":\"\"}",
		"{\"ok\":false,\"retry\":false,\"code\":\"x\",\"error\":\"\"}",
		"{\"ok\":false,\"code\":\"x\",\"retry\":false,\"error\":null}",
		"{\"ok\":false,\"code\":\"x\",\"retry\":false,\"error\":\"\",\"y\":1}",
		"{\"ok\":true,\"seq\":1}x", "{\"ok\":true,\"seq\":{\"a\":1}}",
		"{\"ok\":true,\"ok\":true,\"seq\":1}", "{\"o\\u006b\":true,\"seq\":1}",
		"{\"ok\":false,\"code\":\"x\",\"retry\":false,\"error\":\"\xff\"}",
	};
	struct alog_answer a;
	struct alog_err err = { 0 };
	char *longer;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (alog_answer_parse(bad[i], strlen(bad[i]), &a, &err) !=
		    ALOG_ECORRUPT)
			fail_msg("accepted malformed answer %zu: %s", i, bad[i]);
		assert_non_null(strstr(err.msg, "malformed answer"));
	}
	/* the length limit, +-1 */
	longer = malloc(ALOG_CLIENT_ANSWER_MAX + 2);
	memset(longer, ' ', ALOG_CLIENT_ANSWER_MAX + 1);
	memcpy(longer, "{\"ok\":true,\"seq\":1}", 19);
	assert_int_equal(alog_answer_parse(longer, ALOG_CLIENT_ANSWER_MAX, &a,
					   &err), 0);
	assert_int_equal(alog_answer_parse(longer, ALOG_CLIENT_ANSWER_MAX + 1,
					   &a, &err), ALOG_ECORRUPT);
	free(longer);
}

/* ---- a scripted fake daemon ---- */

struct fake {
	char path[256];
	int lfd;                 /* closed by the thread after the last
				  * accept: a gone daemon refuses */
	pthread_t th;
	/* script */
	int accepts;             /* connections served one after the other
				  * (0: 1) */
	int read_first;          /* lines read before any answer */
	int answer_n;            /* per connection: answer this many lines,
				  * then close (-1: all until the client
				  * closes) */
	const char *(*answer)(int i, const char *line, char *buf, size_t cap);
	sem_t closed;            /* posted after each connection closed */
	/* what it saw */
	int lines;
	char *got;               /* every line received, '\n' after each */
	size_t got_len;
	int connections;
};

static const char *answer_stored(int i, const char *line, char *buf,
				 size_t cap)
{
	(void)line;
	snprintf(buf, cap, "{\"ok\":true,\"seq\":%d}", 100 + i);
	return buf;
}

static int read_line(int fd, char *acc, size_t *acc_len, size_t cap,
		     char *line, size_t line_cap)
{
	for (;;) {
		char *nl = memchr(acc, '\n', *acc_len);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (nl) {
			size_t n = (size_t)(nl - acc);

			assert_true(n < line_cap);
			memcpy(line, acc, n);
			line[n] = 0;
			memmove(acc, nl + 1, *acc_len - n - 1);
			*acc_len -= n + 1;
			return 1;
		}
		/* a test that hangs fails instead: 10 s */
		if (poll(&p, 1, 10000) <= 0)
			return 0;
		r = read(fd, acc + *acc_len, cap - *acc_len);
		if (r <= 0)
			return 0;
		*acc_len += (size_t)r;
	}
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* One connection: read, answer by the script, close. */
static void fake_serve(struct fake *f, int fd, int *answered)
{
	size_t cap = 1 << 20, acc_len = 0;
	char *acc = malloc(cap), *line = malloc(70000), buf[256];
	char **queue = calloc(4096, sizeof(char *));
	int pending = 0, here = 0, read_here = 0;

	for (;;) {
		int have = read_line(fd, acc, &acc_len, cap, line, 70000);

		if (have) {
			size_t n = strlen(line);

			f->got = realloc(f->got, f->got_len + n + 2);
			memcpy(f->got + f->got_len, line, n);
			f->got_len += n;
			f->got[f->got_len++] = '\n';
			f->got[f->got_len] = 0;
			queue[pending++] = strdup(line);
			f->lines++;
			read_here++;
		}
		if (!have || read_here >= f->read_first) {
			for (int i = 0; i < pending; i++) {
				const char *a;

				if (f->answer_n >= 0 && here >= f->answer_n)
					break;
				a = f->answer(*answered, queue[i], buf,
					      sizeof(buf));
				write_all(fd, a, strlen(a));
				write_all(fd, "\n", 1);
				(*answered)++;
				here++;
			}
			for (int i = 0; i < pending; i++)
				free(queue[i]);
			pending = 0;
		}
		if (!have || (f->answer_n >= 0 && here >= f->answer_n))
			break;
	}
	for (int i = 0; i < pending; i++)
		free(queue[i]);
	free(queue);
	free(acc);
	free(line);
}

static void *fake_run(void *arg)
{
	struct fake *f = arg;
	int answered = 0;

	for (int k = 0; k < (f->accepts ? f->accepts : 1); k++) {
		struct pollfd p = { .fd = f->lfd, .events = POLLIN };
		int fd;

		if (poll(&p, 1, 10000) <= 0)
			break;
		fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			break;
		f->connections++;
		if (k + 1 == (f->accepts ? f->accepts : 1)) {
			close(f->lfd);   /* like a daemon that is gone */
			f->lfd = -1;
		}
		fake_serve(f, fd, &answered);
		close(fd);
		sem_post(&f->closed);
	}
	return NULL;
}

/* A listening Unix socket in dir, for the fake daemon or for a test that
 * reads what a client writes itself: path gets its path. */
static int plain_listener(const char *dir, const char *name, char *path,
			  size_t cap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd;

	snprintf(path, cap, "%s/%s", dir, name);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path));
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	return lfd;
}

static void fake_start(struct fake *f, const char *dir)
{
	if (!f->answer)
		f->answer = answer_stored;
	if (!f->read_first)
		f->read_first = 1;
	sem_init(&f->closed, 0, 0);
	f->lfd = plain_listener(dir, "fake.sock", f->path, sizeof(f->path));
	assert_int_equal(pthread_create(&f->th, NULL, fake_run, f), 0);
}

/* Wait for the thread; release what it kept. */
static void fake_stop(struct fake *f)
{
	pthread_join(f->th, NULL);
	if (f->lfd >= 0)
		close(f->lfd);
	sem_destroy(&f->closed);
	free(f->got);
	f->got = NULL;
}

/* Bytes waiting on the daemon's side of fd now: read them (up to cap),
 * without waiting. */
static size_t read_now(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (n == cap || poll(&p, 1, 0) <= 0)
			return n;
		r = read(fd, buf + n, cap - n);
		if (r <= 0)
			return n;
		n += (size_t)r;
	}
}

/* Read until want bytes came, for at most 10 s. */
static size_t read_until(int fd, char *buf, size_t want)
{
	size_t n = 0;

	while (n < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 10000) <= 0)
			break;
		r = read(fd, buf + n, want - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	return n;
}


/* ---- the sender ---- */

#define RESULTS_MAX 64

struct results {
	int n;
	struct {
		uint64_t n;
		enum alog_sent outcome;
		int local;
		enum alog_answer_kind kind;
		uint64_t seq;
		char code[ALOG_CLIENT_CODE_MAX + 1];
		char id[ALOG_CLIENT_ID_MAX + 1];
		char line[1200];
		uint64_t backup_line;
	} r[RESULTS_MAX];
};

static void on_result(void *ctx, const struct alog_sender_result *r)
{
	struct results *rs = ctx;

	assert_true(rs->n < RESULTS_MAX);
	assert_int_equal(r->n, (uint64_t)rs->n);   /* in input order */
	rs->r[rs->n].n = r->n;
	rs->r[rs->n].outcome = r->outcome;
	rs->r[rs->n].local = r->local;
	rs->r[rs->n].kind = r->answer->kind;
	rs->r[rs->n].seq = r->answer->seq;
	snprintf(rs->r[rs->n].code, sizeof(rs->r[0].code), "%s",
		 r->answer->code);
	snprintf(rs->r[rs->n].id, sizeof(rs->r[0].id), "%s", r->id);
	assert_true(r->answer_len < sizeof(rs->r[0].line));
	memcpy(rs->r[rs->n].line, r->answer_line, r->answer_len);
	rs->r[rs->n].line[r->answer_len] = 0;
	rs->r[rs->n].backup_line = r->backup_line;
	rs->n++;
}

struct tmp {
	char *dir;
	char sock[300], backup[300];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	t->dir = testutil_tmpdir();
	snprintf(t->sock, sizeof(t->sock), "%s/none.sock", t->dir);
	snprintf(t->backup, sizeof(t->backup), "%s/backup.jsonl", t->dir);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;

	testutil_rmtree(t->dir);
	free(t->dir);
	free(t);
	return 0;
}

struct backup_events {
	int n;
	char ev[RESULTS_MAX][256];
	uint64_t line[RESULTS_MAX];
};

static int collect_backup(void *ctx, uint64_t line_no, const char *ev,
			  size_t len)
{
	struct backup_events *b = ctx;

	assert_true(b->n < RESULTS_MAX && len < 256);
	memcpy(b->ev[b->n], ev, len);
	b->ev[b->n][len] = 0;
	b->line[b->n] = line_no + 1;
	b->n++;
	return 0;
}

static int answer_timeout_ms;

static void open_sender(struct alog_sender **s, const char *sock,
			const char *backup, struct results *rs, unsigned max)
{
	struct alog_sender_options o = { 0 };
	struct alog_err err = { 0 };

	o.answer_timeout_ms = answer_timeout_ms;
	o.conn.socket_path = sock;
	o.backup_path = backup;
	o.on_result = on_result;
	o.ctx = rs;
	o.inflight_max = max;
	if (alog_sender_open(&o, s, &err) != 0)
		fail_msg("sender_open: %s", err.msg);
}

static void submit(struct alog_sender *s, const char *line)
{
	struct alog_err err = { 0 };

	if (alog_sender_submit(s, line, strlen(line), &err) != 0)
		fail_msg("submit: %s", err.msg);
}

static void test_client_connect_failure_falls_back_to_the_backup_file(
	void **state)
{
	struct tmp *t = *state;
	struct alog_sender *s = NULL;
	struct alog_sender_stats st;
	struct alog_err err = { 0 };
	struct results rs = { 0 };
	struct backup_events be = { 0 };
	struct alog_backup_info info;

	open_sender(&s, t->sock, t->backup, &rs, 0);
	alog_sender_stats(s, &st);
	assert_int_equal(st.connected, 0);
	assert_int_equal(st.fell_back, 1);
	assert_non_null(strstr(st.fall_back_reason, t->sock));
	assert_int_equal(st.backup_opened, 1);
	assert_int_equal(st.backup.created, 1);
	submit(s, "{\"type\":\"a.b\",\"n\":0}");
	submit(s, "{\"type\":\"a.b\",\"id\":\"mine\",\"n\":1}");
	submit(s, "not json");
	assert_int_equal(alog_sender_reject(s, "too_long", "line 4 is too long",
					    &err), 0);
	submit(s, "  {\"type\":\"a.b\"}  ");
	submit(s, "{\"type\":\n\"a.b\"}");   /* two lines for a daemon */
	assert_int_equal(alog_sender_drain(s, &err), 0);
	alog_sender_stats(s, &st);
	alog_sender_free(s);

	assert_int_equal(rs.n, 6);
	assert_int_equal(rs.r[5].outcome, ALOG_SENT_REJECTED);
	assert_string_equal(rs.r[5].code, "not_json");
	assert_int_equal(rs.r[0].outcome, ALOG_SENT_BACKED_UP);
	assert_int_equal(rs.r[0].backup_line, 2);
	assert_int_equal(rs.r[0].local, 1);
	assert_string_equal(rs.r[0].code, "backed_up");
	assert_non_null(strstr(rs.r[0].line, "{\"ok\":false,\"code\":\"backed_up\",\"retry\":true,\"error\":"));
	assert_non_null(strstr(rs.r[0].line, "line 2"));
	assert_int_equal(strlen(rs.r[0].id), 36);
	assert_int_equal(rs.r[1].outcome, ALOG_SENT_BACKED_UP);
	assert_string_equal(rs.r[1].id, "mine");
	assert_int_equal(rs.r[1].backup_line, 3);
	assert_int_equal(rs.r[2].outcome, ALOG_SENT_REJECTED);
	assert_string_equal(rs.r[2].code, "not_json");
	assert_int_equal(rs.r[2].local, 1);
	assert_int_equal(rs.r[3].outcome, ALOG_SENT_REJECTED);
	assert_string_equal(rs.r[3].code, "too_long");
	assert_int_equal(rs.r[4].outcome, ALOG_SENT_BACKED_UP);
	assert_int_equal(rs.r[4].backup_line, 4);
	assert_int_equal(st.submitted, 6);
	assert_int_equal(st.backed_up, 3);
	assert_int_equal(st.rejected, 3);
	assert_int_equal(st.rejected_locally, 3);
	assert_int_equal(st.acked, 0);

	/* the backup holds the events as they would have been sent */
	assert_int_equal(alog_backup_read(t->backup, collect_backup, &be, &info,
					  &err), 0);
	assert_int_equal(be.n, 3);
	{
		char want[256];

		snprintf(want, sizeof(want), "{\"id\":\"%s\",\"type\":\"a.b\",\"n\":0}",
			 rs.r[0].id);
		assert_string_equal(be.ev[0], want);
		assert_string_equal(be.ev[1], "{\"type\":\"a.b\",\"id\":\"mine\",\"n\":1}");
		snprintf(want, sizeof(want), "{\"id\":\"%s\",\"type\":\"a.b\"}",
			 rs.r[4].id);
		assert_string_equal(be.ev[2], want);
	}
}

static void test_client_connect_failure_without_backup_is_an_error(
	void **state)
{
	struct tmp *t = *state;
	struct alog_sender_options o = { 0 };
	struct alog_sender *s = NULL;
	struct alog_err err = { 0 };
	struct results rs = { 0 };

	o.conn.socket_path = t->sock;
	o.on_result = on_result;
	o.ctx = &rs;
	assert_int_equal(alog_sender_open(&o, &s, &err), ALOG_EIO);
	assert_null(s);
	assert_non_null(strstr(err.msg, t->sock));
	assert_int_equal(access(t->backup, F_OK), -1);
}

/* 40 lines through the sender; batch: alog_sender_batch's bytes (0: a
 * write a line), flush: alog_sender_flush after the 40th. */
static void sender_pipelines(struct tmp *t, size_t batch, int flush)
{
	struct fake f = { 0 };
	struct alog_sender *s = NULL;
	struct alog_sender_stats st;
	struct alog_err err = { 0 };
	struct results rs = { 0 };
	char line[128];

	/* the fake daemon answers nothing before it read all 40 lines: a
	 * client that waited for each answer would never finish */
	f.read_first = 40;
	f.answer_n = 40;
	fake_start(&f, t->dir);
	open_sender(&s, f.path, t->backup, &rs, 0);
	alog_sender_batch(s, batch);
	for (int i = 0; i < 40; i++) {
		snprintf(line, sizeof(line), "{\"type\":\"t.x\",\"i\":%d}", i);
		submit(s, line);
	}
	if (flush)
		assert_int_equal(alog_sender_flush(s, &err), 0);
	assert_int_equal(alog_sender_drain(s, &err), 0);
	alog_sender_stats(s, &st);
	alog_sender_free(s);
	fake_stop(&f);
	unlink(f.path);  /* the next run binds it again */
	assert_int_equal(rs.n, 40);
	for (int i = 0; i < 40; i++) {
		assert_int_equal(rs.r[i].outcome, ALOG_SENT_ACKED);
		assert_int_equal(rs.r[i].seq, 100 + i);
		assert_int_equal(rs.r[i].local, 0);
		snprintf(line, sizeof(line), "{\"ok\":true,\"seq\":%d}", 100 + i);
		assert_string_equal(rs.r[i].line, line);
	}
	assert_int_equal(st.acked, 40);
	assert_int_equal(st.stored, 40);
	assert_int_equal(st.connected, 1);
	assert_int_equal(st.backup_opened, 0);
	assert_int_equal(access(t->backup, F_OK), -1);
}

static void test_client_sender_pipelines_and_reports_answers_in_order(
	void **state)
{
	sender_pipelines(*state, 0, 0);
}

/* Batched writes (a batch larger than the 40 lines, or of 100 bytes:
 * written some at a time) change when lines are written, not what
 * arrives nor the results. */
static void test_client_sender_batched_gives_the_same_results(void **state)
{
	sender_pipelines(*state, 1 << 20, 0);
	sender_pipelines(*state, 1 << 20, 1);
	sender_pipelines(*state, 100, 0);
}

/* A sender batching 1 MiB, connected to a plain socket in dir whose
 * accepted side goes to *fd (*lfd: the listener). path (300 bytes) gets
 * the socket's path, which the sender borrows (it connects again). */
static struct alog_sender *plain_sender(const char *dir, const char *name,
					char *path, struct results *rs,
					int *lfd, int *fd)
{
	struct alog_sender *s = NULL;

	*lfd = plain_listener(dir, name, path, 300);
	open_sender(&s, path, NULL, rs, 0);
	*fd = accept(*lfd, NULL, NULL);
	assert_true(*fd >= 0);
	alog_sender_batch(s, 1 << 20);
	return s;
}

/* alog_sender_batch: submitted lines wait for alog_sender_flush, which
 * writes them all and reports the answers that came, without waiting. */
static void test_client_sender_batch_holds_lines_until_flushed(void **state)
{
	static const char ev[] = "{\"type\":\"t.x\",\"id\":\"k\"}\n";
	struct tmp *t = *state;
	struct alog_sender *s;
	struct alog_err err = { 0 };
	struct results rs = { 0 };
	char path[300], got[256];
	int lfd, fd;

	s = plain_sender(t->dir, "s.sock", path, &rs, &lfd, &fd);
	for (int i = 0; i < 3; i++)
		submit(s, "{\"type\":\"t.x\",\"id\":\"k\"}");
	assert_int_equal(read_now(fd, got, sizeof(got)), 0);
	assert_int_equal(alog_sender_flush(s, &err), 0);
	assert_int_equal(read_until(fd, got, 3 * (sizeof(ev) - 1)),
			 3 * (sizeof(ev) - 1));
	for (int i = 0; i < 3; i++)
		assert_memory_equal(got + i * (sizeof(ev) - 1), ev,
				    sizeof(ev) - 1);
	assert_int_equal(rs.n, 0);
	/* two answers there: a flush reports them, and waits for none */
	write_all(fd, "{\"ok\":true,\"seq\":5}\n{\"ok\":true,\"seq\":6}\n", 40);
	for (int k = 0; k < 1000 && rs.n < 2; k++) {
		struct pollfd p = { .fd = -1 };

		assert_int_equal(alog_sender_flush(s, &err), 0);
		if (rs.n < 2)
			(void)poll(&p, 0, 10);  /* the answers may still travel */
	}
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.r[1].seq, 6);
	write_all(fd, "{\"ok\":true,\"seq\":7}\n", 20);
	assert_int_equal(alog_sender_drain(s, &err), 0);
	assert_int_equal(rs.n, 3);
	alog_sender_free(s);
	close(fd);
	close(lfd);
}

static const char *answer_each_kind(int i, const char *line, char *buf,
				    size_t cap)
{
	(void)line;
	switch (i) {
	case 0: return "{\"ok\":true,\"seq\":7}";
	case 1: return "{\"ok\":false,\"code\":\"unavailable\",\"retry\":true,\"error\":\"commit failed\"}";
	case 2: return "{\"ok\":false,\"code\":\"bad_field\",\"retry\":false,\"error\":\"no type\"}";
	case 3: return "{\"ok\":true,\"duplicate\":true,\"seq\":3}";
	case 4: return "{\"ok\":true,\"spooled\":true,\"id\":\"sp-1\"}";
	case 5: return "{\"ok\":false,\"code\":\"not_json\",\"retry\":false,\"error\":\"x\"}";
	default:
		snprintf(buf, cap, "{\"ok\":true,\"seq\":%d}", i);
		return buf;
	}
}

static void run_each_kind(struct tmp *t, const char *backup,
			  struct results *rs, struct fake *f)
{
	struct alog_sender *s = NULL;
	struct alog_err err = { 0 };

	f->answer = answer_each_kind;
	f->answer_n = 6;
	fake_start(f, t->dir);
	open_sender(&s, f->path, backup, rs, 0);
	submit(s, "{\"type\":\"a\"}");
	submit(s, "{\"type\":\"a\",\"id\":\"r\"}");
	submit(s, "{\"notype\":1}");
	submit(s, "{\"type\":\"a\",\"id\":\"d\"}");
	submit(s, "{\"type\":\"a\",\"id\":\"sp-1\"}");
	submit(s, "{not json");     /* sent as it is: the daemon judges */
	assert_int_equal(alog_sender_drain(s, &err), 0);
	alog_sender_free(s);
	pthread_join(f->th, NULL);
}

static void test_client_sender_handles_every_answer_kind(void **state)
{
	struct tmp *t = *state;
	struct fake f = { 0 };
	struct results rs = { 0 };
	struct backup_events be = { 0 };
	struct alog_err err = { 0 };

	run_each_kind(t, t->backup, &rs, &f);
	assert_int_equal(rs.n, 6);
	assert_int_equal(rs.r[0].outcome, ALOG_SENT_ACKED);
	assert_int_equal(rs.r[0].seq, 7);
	/* "retry later" goes to the backup file */
	assert_int_equal(rs.r[1].outcome, ALOG_SENT_BACKED_UP);
	assert_int_equal(rs.r[1].backup_line, 2);
	assert_non_null(strstr(rs.r[1].line, "unavailable"));
	assert_int_equal(rs.r[2].outcome, ALOG_SENT_REJECTED);
	assert_int_equal(rs.r[2].local, 0);
	assert_string_equal(rs.r[2].code, "bad_field");
	assert_int_equal(rs.r[3].outcome, ALOG_SENT_ACKED);
	assert_int_equal(rs.r[3].kind, ALOG_ANSWER_DUPLICATE);
	assert_int_equal(rs.r[4].outcome, ALOG_SENT_ACKED);
	assert_int_equal(rs.r[4].kind, ALOG_ANSWER_SPOOLED);
	assert_int_equal(rs.r[5].outcome, ALOG_SENT_REJECTED);
	assert_int_equal(rs.r[5].local, 0);
	/* the line that is no event reached the daemon byte for byte */
	assert_non_null(strstr(f.got, "\n{not json\n"));
	/* and every event got its id before the first send */
	assert_memory_equal(f.got, "{\"id\":\"", 7);
	assert_non_null(strstr(f.got, "\n{\"type\":\"a\",\"id\":\"r\"}\n"));
	assert_int_equal(alog_backup_read(t->backup, collect_backup, &be, NULL,
					  &err), 0);
	assert_int_equal(be.n, 1);
	assert_string_equal(be.ev[0], "{\"type\":\"a\",\"id\":\"r\"}");
	if (f.lfd >= 0)
		close(f.lfd);
	sem_destroy(&f.closed);
	free(f.got);

	/* without a backup file "retry later" is a failure */
	memset(&rs, 0, sizeof(rs));
	memset(&f, 0, sizeof(f));
	unlink(t->backup);
	{
		char sock_dir[400];

		snprintf(sock_dir, sizeof(sock_dir), "%s/b", t->dir);
		assert_int_equal(mkdir(sock_dir, 0700), 0);
		{
			struct tmp t2 = *t;

			t2.dir = sock_dir;
			run_each_kind(&t2, NULL, &rs, &f);
		}
	}
	assert_int_equal(rs.n, 6);
	assert_int_equal(rs.r[1].outcome, ALOG_SENT_FAILED);
	assert_int_equal(rs.r[1].local, 0);
	assert_string_equal(rs.r[1].code, "unavailable");
	if (f.lfd >= 0)
		close(f.lfd);
	sem_destroy(&f.closed);
	free(f.got);
}

/* The daemon answers 5 lines and goes away: those 5 are acknowledged,
 * every other line is in the backup file, in order, none lost. */
static void test_client_broken_connection_backs_up_every_unanswered_event(
	void **state)
{
	struct tmp *t = *state;
	struct fake f = { 0 };
	struct alog_sender *s = NULL;
	struct alog_sender_stats st;
	struct alog_err err = { 0 };
	struct results rs = { 0 };
	struct backup_events be = { 0 };
	char line[128];

	f.read_first = 5;
	f.answer_n = 5;
	fake_start(&f, t->dir);
	open_sender(&s, f.path, t->backup, &rs, 8);
	for (int i = 0; i < 30; i++) {
		snprintf(line, sizeof(line), "{\"type\":\"t.x\",\"id\":\"e%d\"}", i);
		submit(s, line);
	}
	submit(s, "[\"no event\"]");
	assert_int_equal(alog_sender_drain(s, &err), 0);
	alog_sender_stats(s, &st);
	alog_sender_free(s);
	fake_stop(&f);

	assert_int_equal(rs.n, 31);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(rs.r[i].outcome, ALOG_SENT_ACKED);
		assert_int_equal(rs.r[i].seq, 100 + i);
	}
	for (int i = 5; i < 30; i++) {
		assert_int_equal(rs.r[i].outcome, ALOG_SENT_BACKED_UP);
		assert_int_equal(rs.r[i].backup_line, (uint64_t)i - 5 + 2);
	}
	/* a line that is no event can't be backed up: rejected here */
	assert_int_equal(rs.r[30].outcome, ALOG_SENT_REJECTED);
	assert_string_equal(rs.r[30].code, "not_object");
	assert_int_equal(st.fell_back, 1);
	assert_int_equal(st.backed_up, 25);
	assert_int_equal(st.acked, 5);
	assert_int_equal(alog_backup_read(t->backup, collect_backup, &be, NULL,
					  &err), 0);
	assert_int_equal(be.n, 25);
	for (int i = 0; i < 25; i++) {
		snprintf(line, sizeof(line), "{\"type\":\"t.x\",\"id\":\"e%d\"}",
			 i + 5);
		assert_string_equal(be.ev[i], line);
	}
}

static const char *answer_garbage(int i, const char *line, char *buf,
				  size_t cap)
{
	(void)line;
	if (i == 2)
		return "{\"ok\":maybe}";
	snprintf(buf, cap, "{\"ok\":true,\"seq\":%d}", i);
	return buf;
}

static void test_client_malformed_answer_ends_the_connection_into_the_backup(
	void **state)
{
	struct tmp *t = *state;
	struct fake f = { 0 };
	struct alog_sender *s = NULL;
	struct alog_err err = { 0 };
	struct results rs = { 0 };

	f.read_first = 4;
	f.answer_n = 4;
	f.answer = answer_garbage;
	fake_start(&f, t->dir);
	open_sender(&s, f.path, t->backup, &rs, 0);
	for (int i = 0; i < 4; i++)
		submit(s, "{\"type\":\"a\"}");
	assert_int_equal(alog_sender_drain(s, &err), 0);
	alog_sender_free(s);
	fake_stop(&f);
	assert_int_equal(rs.n, 4);
	assert_int_equal(rs.r[0].outcome, ALOG_SENT_ACKED);
	assert_int_equal(rs.r[1].outcome, ALOG_SENT_ACKED);
	assert_int_equal(rs.r[2].outcome, ALOG_SENT_BACKED_UP);
	assert_int_equal(rs.r[3].outcome, ALOG_SENT_BACKED_UP);
}

/* Without a backup file a broken connection fails the unanswered lines
 * (retryable, "no_answer") and the sender stops. */
static void test_client_broken_connection_without_backup_fails_and_stops(
	void **state)
{
	struct tmp *t = *state;
	struct fake f = { 0 };
	struct alog_sender *s = NULL;
	struct alog_err err = { 0 };
	struct results rs = { 0 };
	int rc = 0, i;

	/* the fake takes all 4 lines the sender may have in flight, so
	 * two of them are surely unanswered when it goes */
	f.read_first = 4;
	f.answer_n = 2;
	fake_start(&f, t->dir);
	open_sender(&s, f.path, NULL, &rs, 4);
	for (i = 0; i < 20 && rc == 0; i++)
		rc = alog_sender_submit(s, "{\"type\":\"a\"}", 12, &err);
	if (rc == 0)
		rc = alog_sender_drain(s, &err);
	assert_int_equal(rc, ALOG_EIO);
	assert_non_null(strstr(err.msg, "connection"));
	assert_int_equal(alog_sender_submit(s, "{}", 2, &err), ALOG_EIO);
	i++;
	alog_sender_free(s);
	fake_stop(&f);
	/* every line submitted got its result: acked, no answer (sent, may
	 * be stored) or not sent */
	assert_int_equal(rs.n, i);
	assert_int_equal(rs.r[0].outcome, ALOG_SENT_ACKED);
	assert_int_equal(rs.r[1].outcome, ALOG_SENT_ACKED);
	for (int k = 2; k < rs.n; k++) {
		assert_int_equal(rs.r[k].outcome, ALOG_SENT_FAILED);
		assert_int_equal(rs.r[k].local, 1);
		if (strcmp(rs.r[k].code, "no_answer") != 0)
			assert_string_equal(rs.r[k].code, "not_sent");
	}
	assert_string_equal(rs.r[2].code, "no_answer");
	assert_string_equal(rs.r[rs.n - 1].code, "not_sent");
}

/* The daemon closes a connection with nothing in flight (its idle
 * timeout): the next line goes over a new connection, not to the backup. */
static void test_client_sender_reconnects_after_an_idle_close(void **state)
{
	struct tmp *t = *state;
	struct fake f = { 0 };
	struct alog_sender *s = NULL;
	struct alog_sender_stats st;
	struct alog_err err = { 0 };
	struct results rs = { 0 };

	f.accepts = 2;
	f.read_first = 3;
	f.answer_n = 3;
	fake_start(&f, t->dir);
	open_sender(&s, f.path, t->backup, &rs, 0);
	for (int i = 0; i < 3; i++)
		submit(s, "{\"type\":\"a\"}");
	assert_int_equal(alog_sender_drain(s, &err), 0);
	assert_int_equal(sem_wait(&f.closed), 0);   /* the idle close */
	for (int i = 0; i < 3; i++)
		submit(s, "{\"type\":\"b\"}");
	assert_int_equal(alog_sender_drain(s, &err), 0);
	alog_sender_stats(s, &st);
	alog_sender_free(s);
	fake_stop(&f);
	assert_int_equal(rs.n, 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(rs.r[i].outcome, ALOG_SENT_ACKED);
		assert_int_equal(rs.r[i].seq, 100 + i);
	}
	assert_int_equal(f.connections, 2);
	assert_int_equal(st.fell_back, 0);
	assert_int_equal(access(t->backup, F_OK), -1);
}

/* A daemon that takes lines and never answers: with an answer timeout
 * the lines in flight go to the backup file. */
static void test_client_sender_answer_timeout_backs_up_lines_in_flight(
	void **state)
{
	struct tmp *t = *state;
	struct fake f = { 0 };
	struct alog_sender *s = NULL;
	struct alog_err err = { 0 };
	struct results rs = { 0 };

	f.read_first = 1000000;   /* answers only once the client left */
	f.answer_n = -1;
	fake_start(&f, t->dir);
	answer_timeout_ms = 100;
	open_sender(&s, f.path, t->backup, &rs, 0);
	answer_timeout_ms = 0;
	for (int i = 0; i < 4; i++)
		submit(s, "{\"type\":\"a\"}");
	assert_int_equal(alog_sender_drain(s, &err), 0);
	alog_sender_free(s);
	fake_stop(&f);
	assert_int_equal(rs.n, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rs.r[i].outcome, ALOG_SENT_BACKED_UP);
		assert_non_null(strstr(rs.r[i].line, "no answer"));
	}
}

static void test_client_connection_send_and_recv_pipelined(void **state)
{
	struct tmp *t = *state;
	struct fake f = { 0 };
	struct alog_client_options o = { 0 };
	struct alog_client *c = NULL;
	struct alog_answer a;
	struct alog_buf raw;
	struct alog_err err = { 0 };
	char id[ALOG_CLIENT_ID_MAX + 1];

	f.read_first = 3;
	f.answer_n = 3;
	fake_start(&f, t->dir);
	o.socket_path = f.path;
	assert_int_equal(alog_client_open(&o, &c, &err), 0);
	assert_int_equal(alog_client_recv(c, -1, &a, NULL, &err), ALOG_ESTATE);
	assert_int_equal(alog_client_send_event(c, "{\"type\":\"a\"}", 12, id,
						&err), 0);
	assert_int_equal(strlen(id), 36);
	assert_int_equal(alog_client_send_event(c, "{\"type\":\"a\",\"id\":\"k\"}",
						21, id, &err), 0);
	assert_string_equal(id, "k");
	assert_int_equal(alog_client_send(c, "{\"x\":1}", 7, &err), 0);
	assert_int_equal(alog_client_send(c, "a\nb", 3, &err), ALOG_EINVAL);
	assert_int_equal(alog_client_inflight(c), 3);
	alog_buf_init(&raw, 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(alog_client_recv(c, -1, &a, &raw, &err), 0);
		assert_int_equal(a.kind, ALOG_ANSWER_STORED);
		assert_int_equal(a.seq, 100 + i);
	}
	assert_string_equal((const char *)raw.data,
			    "{\"ok\":true,\"seq\":100}{\"ok\":true,\"seq\":101}"
			    "{\"ok\":true,\"seq\":102}");
	alog_buf_release(&raw);
	assert_int_equal(alog_client_inflight(c), 0);
	alog_client_close(c);
	fake_stop(&f);
}

/* A connection the daemon closed while idle is opened again at the next
 * line, batched as the one before. */
static void test_client_sender_batch_holds_after_a_reconnect(void **state)
{
	static const char ev[] = "{\"type\":\"t.x\",\"id\":\"k\"}";
	struct tmp *t = *state;
	struct alog_sender *s;
	struct alog_err err = { 0 };
	struct results rs = { 0 };
	char path[300], got[256];
	int lfd, fd;

	s = plain_sender(t->dir, "r.sock", path, &rs, &lfd, &fd);
	close(fd);  /* an idle close: nothing in flight */
	submit(s, ev);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(read_now(fd, got, sizeof(got)), 0);
	assert_int_equal(alog_sender_flush(s, &err), 0);
	assert_int_equal(read_until(fd, got, sizeof(ev)), sizeof(ev));
	assert_memory_equal(got, ev, sizeof(ev) - 1);
	write_all(fd, "{\"ok\":true,\"seq\":1}\n", 20);
	assert_int_equal(alog_sender_drain(s, &err), 0);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].outcome, ALOG_SENT_ACKED);
	alog_sender_free(s);
	close(fd);
	close(lfd);
}

/* alog_client_batch: a send writes nothing until the lines waiting reach
 * the batch's bytes; then all of them at once; alog_client_flush and
 * alog_client_recv write what waits. The daemon's side here is a plain
 * socket the test reads without waiting. */
static void test_client_batch_holds_lines_until_full_or_flushed(void **state)
{
	struct tmp *t = *state;
	struct alog_client_options o = { 0 };
	struct alog_client *c = NULL;
	struct alog_answer a;
	struct alog_err err = { 0 };
	char path[300], line[64], got[4096];
	int lfd, fd;

	/* a line of 49 bytes and its newline: 50 */
	snprintf(line, sizeof(line), "{\"type\":\"t.x\",\"pad\":\"%026d\"}", 0);
	assert_int_equal(strlen(line), 49);
	lfd = plain_listener(t->dir, "b.sock", path, sizeof(path));
	o.socket_path = path;
	assert_int_equal(alog_client_open(&o, &c, &err), 0);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	alog_client_batch(c, 1000);

	/* 19 lines, 950 bytes: held */
	for (int i = 0; i < 19; i++)
		assert_int_equal(alog_client_send(c, line, 49, &err), 0);
	assert_int_equal(read_now(fd, got, sizeof(got)), 0);
	/* the 20th makes 1,000: all 20 written */
	assert_int_equal(alog_client_send(c, line, 49, &err), 0);
	assert_int_equal(read_until(fd, got, 1000), 1000);
	assert_int_equal(read_now(fd, got, sizeof(got)), 0);
	/* held, then flushed */
	for (int i = 0; i < 3; i++)
		assert_int_equal(alog_client_send(c, line, 49, &err), 0);
	assert_int_equal(read_now(fd, got, sizeof(got)), 0);
	assert_int_equal(alog_client_flush(c, &err), 0);
	assert_int_equal(read_until(fd, got, 150), 150);
	assert_memory_equal(got + 100, line, 49);
	assert_int_equal(got[149], '\n');
	/* held, then written by a wait for an answer */
	assert_int_equal(alog_client_send(c, line, 49, &err), 0);
	assert_int_equal(read_now(fd, got, sizeof(got)), 0);
	write_all(fd, "{\"ok\":true,\"seq\":0}\n", 20);
	assert_int_equal(alog_client_recv(c, -1, &a, NULL, &err), 0);
	assert_int_equal(a.seq, 0);
	assert_int_equal(read_until(fd, got, 50), 50);
	assert_int_equal(alog_client_inflight(c), 23);
	/* batch 0: at once again */
	alog_client_batch(c, 0);
	assert_int_equal(alog_client_send(c, line, 49, &err), 0);
	assert_int_equal(read_until(fd, got, 50), 50);
	alog_client_close(c);
	close(fd);
	close(lfd);
}

static void test_client_open_refuses_bad_options_and_reports_refusals(
	void **state)
{
	struct tmp *t = *state;
	struct alog_client_options o;
	struct alog_client *c = NULL;
	struct alog_err err = { 0 };
	static const char *const bad_addr[] = {
		"localhost", "localhost:", ":80", "::1:80", "[::1]80",
		"[::1]:", "host:0", "host:65536", "host:8x", "[]:80",
	};
	char longpath[200];
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd;
	char addr[64];

	memset(&o, 0, sizeof(o));
	assert_int_equal(alog_client_open(&o, &c, &err), ALOG_EINVAL);
	o.socket_path = "/x";
	o.connect = "127.0.0.1:1";
	assert_int_equal(alog_client_open(&o, &c, &err), ALOG_EINVAL);
	memset(&o, 0, sizeof(o));
	o.socket_path = "/x";
	o.tls_ca = "/ca.pem";
	assert_int_equal(alog_client_open(&o, &c, &err), ALOG_EINVAL);
	memset(&o, 0, sizeof(o));
	o.connect = "127.0.0.1:1";
	o.tls_cert = "/c.pem";
	o.tls_ca = "/ca.pem";
	assert_int_equal(alog_client_open(&o, &c, &err), ALOG_EINVAL);
	for (size_t i = 0; i < sizeof(bad_addr) / sizeof(bad_addr[0]); i++) {
		memset(&o, 0, sizeof(o));
		o.connect = bad_addr[i];
		if (alog_client_open(&o, &c, &err) != ALOG_EINVAL)
			fail_msg("accepted address %s", bad_addr[i]);
	}
	/* socket path limit: 107 bytes is the most */
	memset(&o, 0, sizeof(o));
	memset(longpath, 'a', sizeof(longpath));
	longpath[0] = '/';
	longpath[108] = 0;
	o.socket_path = longpath;
	assert_int_equal(alog_client_open(&o, &c, &err), ALOG_EINVAL);
	longpath[107] = 0;
	assert_int_equal(alog_client_open(&o, &c, &err), ALOG_EIO);
	/* a port nobody listens on: refused */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	memset(&o, 0, sizeof(o));
	o.connect = addr;
	assert_int_equal(alog_client_open(&o, &c, &err), ALOG_EIO);
	assert_non_null(strstr(err.msg, addr));
	close(fd);
	(void)t;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_assign_id_inserts_uuid7_as_first_member),
		cmocka_unit_test(test_client_assign_id_keeps_whitespace_and_every_other_byte),
		cmocka_unit_test(test_client_assign_id_leaves_an_event_with_id_untouched),
		cmocka_unit_test(test_client_assign_id_refuses_lines_that_are_no_json_object),
		cmocka_unit_test(test_client_assign_id_needs_room_for_the_id_limits_plus_minus_1),
		cmocka_unit_test(test_client_answer_parse_reads_the_four_forms),
		cmocka_unit_test(test_client_answer_parse_decodes_the_error_string),
		cmocka_unit_test(test_client_answer_parse_refuses_malformed_answers),
		cmocka_unit_test_setup_teardown(test_client_connect_failure_falls_back_to_the_backup_file, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_client_connect_failure_without_backup_is_an_error, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_client_sender_pipelines_and_reports_answers_in_order, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_client_sender_batched_gives_the_same_results, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_client_sender_batch_holds_lines_until_flushed, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_client_sender_batch_holds_after_a_reconnect, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_client_sender_handles_every_answer_kind, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_client_broken_connection_backs_up_every_unanswered_event, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_client_malformed_answer_ends_the_connection_into_the_backup, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_client_broken_connection_without_backup_fails_and_stops, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_client_sender_reconnects_after_an_idle_close, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_client_sender_answer_timeout_backs_up_lines_in_flight, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_client_connection_send_and_recv_pipelined, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_client_batch_holds_lines_until_full_or_flushed, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_client_open_refuses_bad_options_and_reports_refusals, tmp_setup, tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
