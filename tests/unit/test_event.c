/*
 * test_event: producer event validation and canonicalisation (SPEC.md
 * "Events", "Bad input"), reserved types, and the canonical record
 * (SPEC.md "Canonical record", "Provenance"). Expected bytes are written
 * by hand from the spec (vectors V-EVENT-*, V-RECORD-*).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/clock.h"
#include "ingest/event.h"
#include "ingest/json.h"

struct line_case {
	const char *what;
	const char *in;
	size_t len;              /* 0: strlen(in) */
	enum alog_reject want;
};

#define L(in) (in), sizeof(in) - 1

/* The bad-input table of SPEC.md "Bad input" (V-EVENT-BAD). */
static const struct line_case bad_lines[] = {
	/* not_json */
	{ "unterminated object", L("{\"type\":\"a\""), ALOG_REJECT_NOT_JSON },
	{ "trailing comma", L("{\"type\":\"a\",}"), ALOG_REJECT_NOT_JSON },
	{ "single quotes", L("{\"type\":'a'}"), ALOG_REJECT_NOT_JSON },
	{ "bare key", L("{type:\"a\"}"), ALOG_REJECT_NOT_JSON },
	{ "bytes after value", L("{\"type\":\"a\"} x"), ALOG_REJECT_NOT_JSON },
	{ "two values", L("{\"type\":\"a\"}{}"), ALOG_REJECT_NOT_JSON },
	{ "leading zero", L("{\"type\":\"a\",\"n\":01}"), ALOG_REJECT_NOT_JSON },
	{ "dot without digits", L("{\"type\":\"a\",\"n\":1.}"),
	  ALOG_REJECT_NOT_JSON },
	{ "leading dot", L("{\"type\":\"a\",\"n\":.5}"), ALOG_REJECT_NOT_JSON },
	{ "plus sign", L("{\"type\":\"a\",\"n\":+1}"), ALOG_REJECT_NOT_JSON },
	{ "empty exponent", L("{\"type\":\"a\",\"n\":1e}"),
	  ALOG_REJECT_NOT_JSON },
	{ "NaN", L("{\"type\":\"a\",\"n\":NaN}"), ALOG_REJECT_NOT_JSON },
	{ "Infinity", L("{\"type\":\"a\",\"n\":Infinity}"),
	  ALOG_REJECT_NOT_JSON },
	{ "truncated literal", L("{\"type\":\"a\",\"b\":tru}"),
	  ALOG_REJECT_NOT_JSON },
	{ "capital literal", L("{\"type\":\"a\",\"b\":True}"),
	  ALOG_REJECT_NOT_JSON },
	{ "bad escape", L("{\"type\":\"a\",\"s\":\"\\x41\"}"),
	  ALOG_REJECT_NOT_JSON },
	{ "short \\u escape", L("{\"type\":\"a\",\"s\":\"\\u12\"}"),
	  ALOG_REJECT_NOT_JSON },
	{ "non-hex \\u escape", L("{\"type\":\"a\",\"s\":\"\\u12g4\"}"),
	  ALOG_REJECT_NOT_JSON },
	{ "raw tab in string", L("{\"type\":\"a\",\"s\":\"x\ty\"}"),
	  ALOG_REJECT_NOT_JSON },
	{ "raw newline in string", L("{\"type\":\"a\",\"s\":\"x\ny\"}"),
	  ALOG_REJECT_NOT_JSON },
	{ "raw 0x1f in string", L("{\"type\":\"a\",\"s\":\"\x1f\"}"),
	  ALOG_REJECT_NOT_JSON },
	{ "array trailing comma", L("{\"type\":\"a\",\"v\":[1,]}"),
	  ALOG_REJECT_NOT_JSON },
	{ "missing colon", L("{\"type\" \"a\"}"), ALOG_REJECT_NOT_JSON },
	{ "unterminated string", L("{\"type\":\"a"), ALOG_REJECT_NOT_JSON },
	{ "form feed is not whitespace", L("\f{\"type\":\"a\"}"),
	  ALOG_REJECT_NOT_JSON },
	{ "non-ascii outside strings", L("{\"type\":\"a\"}\xc3\xa9"),
	  ALOG_REJECT_NOT_JSON },
	{ "byte order mark", L("\xef\xbb\xbf{\"type\":\"a\"}"),
	  ALOG_REJECT_NOT_JSON },
	{ "bad json inside an array", L("[1,"), ALOG_REJECT_NOT_JSON },
	/* not_object */
	{ "array", L("[{\"type\":\"a\"}]"), ALOG_REJECT_NOT_OBJECT },
	{ "empty array", L("[]"), ALOG_REJECT_NOT_OBJECT },
	{ "string", L("\"type\""), ALOG_REJECT_NOT_OBJECT },
	{ "number", L("42"), ALOG_REJECT_NOT_OBJECT },
	{ "negative number", L(" -1.5 "), ALOG_REJECT_NOT_OBJECT },
	{ "null", L("null"), ALOG_REJECT_NOT_OBJECT },
	{ "true", L("true"), ALOG_REJECT_NOT_OBJECT },
	/* bad_utf8 */
	{ "0xff byte", L("{\"type\":\"a\",\"s\":\"\xff\"}"),
	  ALOG_REJECT_BAD_UTF8 },
	{ "lone continuation", L("{\"type\":\"a\",\"s\":\"\x80\"}"),
	  ALOG_REJECT_BAD_UTF8 },
	{ "overlong 2-byte /", L("{\"type\":\"a\",\"s\":\"\xc0\xaf\"}"),
	  ALOG_REJECT_BAD_UTF8 },
	{ "overlong 2-byte c1", L("{\"type\":\"a\",\"s\":\"\xc1\xbf\"}"),
	  ALOG_REJECT_BAD_UTF8 },
	{ "overlong 3-byte", L("{\"type\":\"a\",\"s\":\"\xe0\x80\xaf\"}"),
	  ALOG_REJECT_BAD_UTF8 },
	{ "overlong 4-byte", L("{\"type\":\"a\",\"s\":\"\xf0\x8f\xbf\xbf\"}"),
	  ALOG_REJECT_BAD_UTF8 },
	{ "utf-8 surrogate d800", L("{\"type\":\"a\",\"s\":\"\xed\xa0\x80\"}"),
	  ALOG_REJECT_BAD_UTF8 },
	{ "utf-8 surrogate dfff", L("{\"type\":\"a\",\"s\":\"\xed\xbf\xbf\"}"),
	  ALOG_REJECT_BAD_UTF8 },
	{ "above U+10FFFF", L("{\"type\":\"a\",\"s\":\"\xf4\x90\x80\x80\"}"),
	  ALOG_REJECT_BAD_UTF8 },
	{ "lead byte f5", L("{\"type\":\"a\",\"s\":\"\xf5\x80\x80\x80\"}"),
	  ALOG_REJECT_BAD_UTF8 },
	{ "truncated 3-byte", L("{\"type\":\"a\",\"s\":\"\xe2\x82\"}"),
	  ALOG_REJECT_BAD_UTF8 },
	{ "truncated at end of line", L("{\"type\":\"a\",\"s\":\"\xe2\x82"),
	  ALOG_REJECT_BAD_UTF8 },
	{ "truncated 4-byte then ascii",
	  L("{\"type\":\"a\",\"s\":\"\xf0\x9f\x98x\"}"), ALOG_REJECT_BAD_UTF8 },
	{ "bad utf-8 in a key", L("{\"type\":\"a\",\"\xfe\":1}"),
	  ALOG_REJECT_BAD_UTF8 },
	{ "lone high surrogate escape",
	  L("{\"type\":\"a\",\"s\":\"\\ud800\"}"), ALOG_REJECT_BAD_UTF8 },
	{ "lone low surrogate escape",
	  L("{\"type\":\"a\",\"s\":\"\\udc00\"}"), ALOG_REJECT_BAD_UTF8 },
	{ "high surrogate then bmp",
	  L("{\"type\":\"a\",\"s\":\"\\ud800\\u0041\"}"), ALOG_REJECT_BAD_UTF8 },
	{ "misordered surrogates",
	  L("{\"type\":\"a\",\"s\":\"\\udc00\\ud800\"}"), ALOG_REJECT_BAD_UTF8 },
	{ "two high surrogates",
	  L("{\"type\":\"a\",\"s\":\"\\ud800\\ud800\"}"), ALOG_REJECT_BAD_UTF8 },
	{ "high surrogate then raw text",
	  L("{\"type\":\"a\",\"s\":\"\\ud83dx\\ude00\"}"), ALOG_REJECT_BAD_UTF8 },
	/* nul */
	{ "nul after the object", L("{\"type\":\"a\"}\0"), ALOG_REJECT_NUL },
	{ "nul in a string", L("{\"type\":\"a\",\"s\":\"x\0y\"}"),
	  ALOG_REJECT_NUL },
	{ "nul after a syntax error", L("{\"type\":x\0"), ALOG_REJECT_NUL },
	{ "\\u0000 in a value", L("{\"type\":\"a\",\"s\":\"\\u0000\"}"),
	  ALOG_REJECT_NUL },
	{ "\\u0000 in a key", L("{\"type\":\"a\",\"\\u0000\":1}"),
	  ALOG_REJECT_NUL },
	/* duplicate_key */
	{ "plain duplicate", L("{\"type\":\"a\",\"type\":\"b\"}"),
	  ALOG_REJECT_DUPLICATE_KEY },
	{ "escaped duplicate", L("{\"type\":\"x\",\"a\":1,\"\\u0061\":2}"),
	  ALOG_REJECT_DUPLICATE_KEY },
	{ "escaped type duplicate",
	  L("{\"type\":\"x\",\"\\u0074ype\":\"y\"}"), ALOG_REJECT_DUPLICATE_KEY },
	{ "solidus escape duplicate", L("{\"type\":\"x\",\"a/\":1,\"a\\/\":2}"),
	  ALOG_REJECT_DUPLICATE_KEY },
	{ "utf-8 and \\u escape",
	  L("{\"type\":\"x\",\"\xc3\xa9\":1,\"\\u00e9\":2}"),
	  ALOG_REJECT_DUPLICATE_KEY },
	{ "utf-8 and surrogate pair",
	  L("{\"type\":\"x\",\"\xf0\x9f\x98\x80\":1,\"\\ud83d\\ude00\":2}"),
	  ALOG_REJECT_DUPLICATE_KEY },
	{ "nested object", L("{\"type\":\"x\",\"o\":{\"k\":1,\"j\":2,\"k\":3}}"),
	  ALOG_REJECT_DUPLICATE_KEY },
	{ "object in an array",
	  L("{\"type\":\"x\",\"v\":[1,{\"k\":1,\"k\":1}]}"),
	  ALOG_REJECT_DUPLICATE_KEY },
	{ "deeply nested escaped",
	  L("{\"type\":\"x\",\"o\":{\"p\":{\"\\u006b\":1,\"k\":2}}}"),
	  ALOG_REJECT_DUPLICATE_KEY },
	{ "empty keys", L("{\"type\":\"x\",\"\":1,\"\":2}"),
	  ALOG_REJECT_DUPLICATE_KEY },
	/* number_range */
	{ "2^53", L("{\"type\":\"a\",\"n\":9007199254740992}"),
	  ALOG_REJECT_NUMBER_RANGE },
	{ "-2^53", L("{\"type\":\"a\",\"n\":-9007199254740992}"),
	  ALOG_REJECT_NUMBER_RANGE },
	{ "20 digits", L("{\"type\":\"a\",\"n\":12345678901234567890}"),
	  ALOG_REJECT_NUMBER_RANGE },
	{ "1e400", L("{\"type\":\"a\",\"n\":1e400}"), ALOG_REJECT_NUMBER_RANGE },
	{ "-1e400", L("{\"type\":\"a\",\"n\":-1e400}"),
	  ALOG_REJECT_NUMBER_RANGE },
	{ "1.8e308", L("{\"type\":\"a\",\"n\":1.8e308}"),
	  ALOG_REJECT_NUMBER_RANGE },
	{ "1E+0309", L("{\"type\":\"a\",\"n\":1E+0309}"),
	  ALOG_REJECT_NUMBER_RANGE },
	{ "huge exponent", L("{\"type\":\"a\",\"n\":1E+99999999999999999999}"),
	  ALOG_REJECT_NUMBER_RANGE },
	{ "range in an array", L("{\"type\":\"a\",\"v\":[1,2,9007199254740993]}"),
	  ALOG_REJECT_NUMBER_RANGE },
	/* empty */
	{ "empty line", "", 0, ALOG_REJECT_EMPTY },
	{ "one space", L(" "), ALOG_REJECT_EMPTY },
	{ "whitespace only", L(" \t\r\n \t"), ALOG_REJECT_EMPTY },
	{ "cr only", L("\r"), ALOG_REJECT_EMPTY },
	/* bad_field */
	{ "missing type", L("{\"id\":\"x\"}"), ALOG_REJECT_BAD_FIELD },
	{ "empty object", L("{}"), ALOG_REJECT_BAD_FIELD },
	{ "nested type only", L("{\"o\":{\"type\":\"a\"}}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "type number", L("{\"type\":1}"), ALOG_REJECT_BAD_FIELD },
	{ "type null", L("{\"type\":null}"), ALOG_REJECT_BAD_FIELD },
	{ "type object", L("{\"type\":{}}"), ALOG_REJECT_BAD_FIELD },
	{ "type empty", L("{\"type\":\"\"}"), ALOG_REJECT_BAD_FIELD },
	{ "type upper case", L("{\"type\":\"User.login\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "type starts with a digit", L("{\"type\":\"1abc\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "type starts with a dot", L("{\"type\":\".a\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "type ends with a dot", L("{\"type\":\"a.\"}"), ALOG_REJECT_BAD_FIELD },
	{ "type empty segment", L("{\"type\":\"a..b\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "type with space", L("{\"type\":\"a b\"}"), ALOG_REJECT_BAD_FIELD },
	{ "type with slash", L("{\"type\":\"a/b\"}"), ALOG_REJECT_BAD_FIELD },
	{ "type non-ascii", L("{\"type\":\"\xc3\xa9t\xc3\xa9\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "type with an escape", L("{\"type\":\"\\u0061\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "type 65 bytes", L("{\"type\":\"a23456789012345678901234567890"
			     "12345678901234567890123456789012345\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "id number", L("{\"type\":\"a\",\"id\":7}"), ALOG_REJECT_BAD_FIELD },
	{ "id empty", L("{\"type\":\"a\",\"id\":\"\"}"), ALOG_REJECT_BAD_FIELD },
	{ "id with space", L("{\"type\":\"a\",\"id\":\"a b\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "id with escaped quote", L("{\"type\":\"a\",\"id\":\"a\\\"b\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "id with escaped backslash", L("{\"type\":\"a\",\"id\":\"a\\\\b\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "id non-ascii", L("{\"type\":\"a\",\"id\":\"\xc3\xa9\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "id with DEL", L("{\"type\":\"a\",\"id\":\"a\x7f\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "source array", L("{\"type\":\"a\",\"source\":[]}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "source empty", L("{\"type\":\"a\",\"source\":\"\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "source with tab escape", L("{\"type\":\"a\",\"source\":\"a\\tb\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "time number", L("{\"type\":\"a\",\"time\":1700000000}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "time Feb 30", L("{\"type\":\"a\",\"time\":\"2024-02-30T00:00:00Z\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "time without T", L("{\"type\":\"a\",\"time\":\"2024-01-01 00:00:00Z\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "time date only", L("{\"type\":\"a\",\"time\":\"2024-01-01\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "time without zone", L("{\"type\":\"a\",\"time\":\"2024-01-01T00:00:00\"}"),
	  ALOG_REJECT_BAD_FIELD },
	{ "time escaped", L("{\"type\":\"a\",\"time\":\"2024-01-01T00:00:00\\u005a\"}"),
	  ALOG_REJECT_BAD_FIELD },
};

static void test_event_parse_refuses_every_bad_input_with_its_reject_name(
	void **state)
{
	struct alog_event ev;
	struct alog_err err;
	size_t i;

	(void)state;
	alog_event_init(&ev);
	for (i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		const struct line_case *c = &bad_lines[i];
		int rc;

		memset(&err, 0, sizeof(err));
		rc = alog_event_parse(&ev, c->in, c->len, &err);
		if (rc != ALOG_EINVAL || ev.reject != c->want)
			fail_msg("%s: rc %d reject \"%s\", want \"%s\" (%s)",
				 c->what, rc, alog_reject_name(ev.reject),
				 alog_reject_name(c->want), err.msg);
		assert_int_equal(err.code, ALOG_EINVAL);
		assert_true(err.msg[0] != 0);
		assert_int_equal(ev.canon.len, 0);
		assert_string_equal(ev.type, "");
	}
	alog_event_release(&ev);
}

static const struct line_case good_lines[] = {
	{ "2^53-1", L("{\"type\":\"a\",\"n\":9007199254740991}"),
	  ALOG_REJECT_NONE },
	{ "-(2^53-1)", L("{\"type\":\"a\",\"n\":-9007199254740991}"),
	  ALOG_REJECT_NONE },
	{ "1e-400 underflows to 0", L("{\"type\":\"a\",\"n\":1e-400}"),
	  ALOG_REJECT_NONE },
	{ "largest double", L("{\"type\":\"a\",\"n\":1.7976931348623157e308}"),
	  ALOG_REJECT_NONE },
	/* around the scanner's test of which numbers strtod must judge
	 * (integer digits + exponent > 308) */
	{ "9.9e307", L("{\"type\":\"a\",\"n\":9.9e307}"), ALOG_REJECT_NONE },
	{ "1e308", L("{\"type\":\"a\",\"n\":1e308,\"m\":-1E+0308}"),
	  ALOG_REJECT_NONE },
	{ "small digits, large exponent",
	  L("{\"type\":\"a\",\"n\":0.0000001e314,\"m\":0.5e-999999999}"),
	  ALOG_REJECT_NONE },
	{ "2^53 as a fraction", L("{\"type\":\"a\",\"n\":9007199254740992.0}"),
	  ALOG_REJECT_NONE },
	{ "-0", L("{\"type\":\"a\",\"n\":-0,\"m\":0.0e-0}"), ALOG_REJECT_NONE },
	{ "valid surrogate pair", L("{\"type\":\"a\",\"s\":\"\\ud83d\\ude00\"}"),
	  ALOG_REJECT_NONE },
	{ "all valid utf-8 lengths",
	  L("{\"type\":\"a\",\"s\":\"\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf"
	    "\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}"),
	  ALOG_REJECT_NONE },
	{ "same key in sibling objects",
	  L("{\"type\":\"a\",\"o\":{\"k\":1},\"p\":{\"k\":1},\"k\":[{\"k\":1}]}"),
	  ALOG_REJECT_NONE },
	{ "keys differing in case", L("{\"type\":\"a\",\"K\":1,\"k\":2}"),
	  ALOG_REJECT_NONE },
	{ "escapes in other members",
	  L("{\"type\":\"a\",\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"}"),
	  ALOG_REJECT_NONE },
	{ "type 64 bytes", L("{\"type\":\"a23456789012345678901234567890"
			     "1234567890123456789012345678901234\"}"),
	  ALOG_REJECT_NONE },
	{ "type alphabet", L("{\"type\":\"a.b-c_d.0e\"}"), ALOG_REJECT_NONE },
	{ "reserved type is not refused here", L("{\"type\":\"daemon.start\"}"),
	  ALOG_REJECT_NONE },
	{ "time with offset",
	  L("{\"type\":\"a\",\"time\":\"2024-01-01T01:30:00.5+01:30\"}"),
	  ALOG_REJECT_NONE },
	{ "other literals", L("{\"type\":\"a\",\"t\":true,\"f\":false,\"n\":null}"),
	  ALOG_REJECT_NONE },
};

static void test_event_parse_accepts_limits_and_valid_edge_cases(
	void **state)
{
	struct alog_event ev;
	struct alog_err err;
	size_t i;

	(void)state;
	alog_event_init(&ev);
	for (i = 0; i < sizeof(good_lines) / sizeof(good_lines[0]); i++) {
		const struct line_case *c = &good_lines[i];

		memset(&err, 0, sizeof(err));
		if (alog_event_parse(&ev, c->in, c->len, &err) != 0)
			fail_msg("%s refused: %s", c->what, err.msg);
		assert_int_equal(ev.reject, ALOG_REJECT_NONE);
		/* no whitespace in these: canonical == input */
		assert_int_equal(ev.canon.len, c->len);
		assert_memory_equal(ev.canon.data, c->in, c->len);
	}
	alog_event_release(&ev);
}

/* Numbers written with 308 or 309 integer digits: below 10^308 none can
 * overflow a double; from 309 digits on, strtod judges. */
static void test_event_parse_judges_long_numbers_by_their_value(void **state)
{
	static const struct {
		char lead;
		size_t zeros;
		const char *tail;
		enum alog_reject want;
	} cases[] = {
		{ '9', 307, ".0", ALOG_REJECT_NONE },   /* 9e307 */
		{ '1', 308, ".5", ALOG_REJECT_NONE },   /* 1e308 */
		{ '1', 308, "e0", ALOG_REJECT_NONE },
		{ '2', 308, ".0", ALOG_REJECT_NUMBER_RANGE }, /* 2e308 */
		{ '1', 309, "e-1", ALOG_REJECT_NONE },  /* 1e308 */
		{ '1', 309, "e-0", ALOG_REJECT_NUMBER_RANGE },
	};
	char line[512];
	struct alog_event ev;
	struct alog_err err;

	(void)state;
	alog_event_init(&ev);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = (size_t)snprintf(line, sizeof(line),
					    "{\"type\":\"a\",\"n\":%c",
					    cases[i].lead);

		memset(line + n, '0', cases[i].zeros);
		n += cases[i].zeros;
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s}",
				      cases[i].tail);
		memset(&err, 0, sizeof(err));
		(void)alog_event_parse(&ev, line, n, &err);
		if (ev.reject != cases[i].want)
			fail_msg("case %zu: reject %d, want %d (%s)", i,
				 (int)ev.reject, (int)cases[i].want, err.msg);
	}
	alog_event_release(&ev);
}

static void test_event_parse_reports_the_byte_offset_of_the_fault(
	void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
		{ "{\"type\":\"a\",\"s\":\"\xff\"}", "at byte 17" },
		{ "{\"type\":\"a\",\"a\":1,\"a\":2}", "at byte 18" },
		{ "{\"type\":\"a\",\"n\":1e400}", "at byte 16" },
		{ "{\"type\":\"a\" \"x\"}", "at byte 12" },
		{ "{\"type\":\"a\",\"id\":7}", "field \"id\" must be a string "
		  "at byte 17" },
	};
	struct alog_event ev;
	struct alog_err err;
	size_t i;

	(void)state;
	alog_event_init(&ev);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_true(alog_event_parse(&ev, cases[i].in,
					     strlen(cases[i].in), &err) < 0);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("'%s' not in '%s'", cases[i].want, err.msg);
	}
	alog_event_release(&ev);
}

/* {"type":"a","p":"xxx..."} padded to exactly n bytes. */
static char *padded_line(size_t n)
{
	static const char head[] = "{\"type\":\"a\",\"p\":\"";
	char *s = malloc(n + 1);
	size_t h = sizeof(head) - 1;

	assert_non_null(s);
	assert_true(n >= h + 2);
	memcpy(s, head, h);
	memset(s + h, 'x', n - h - 2);
	memcpy(s + n - 2, "\"}", 2);
	s[n] = 0;
	return s;
}

static void test_event_parse_accepts_line_max_and_refuses_one_more(
	void **state)
{
	struct alog_event ev;
	struct alog_err err = { 0 };
	char *s;

	(void)state;
	alog_event_init(&ev);
	s = padded_line(ALOG_EVENT_LINE_MAX);
	assert_int_equal(alog_event_parse(&ev, s, ALOG_EVENT_LINE_MAX, &err), 0);
	assert_int_equal(ev.canon.len, ALOG_EVENT_LINE_MAX);
	free(s);
	s = padded_line(ALOG_EVENT_LINE_MAX + 1);
	assert_int_equal(alog_event_parse(&ev, s, ALOG_EVENT_LINE_MAX + 1,
					  &err), ALOG_ELIMIT);
	assert_int_equal(ev.reject, ALOG_REJECT_TOO_LONG);
	assert_string_equal(alog_reject_name(ev.reject), "too_long");
	free(s);
	/* too_long is decided before scanning: even garbage is too_long */
	s = calloc(ALOG_EVENT_LINE_MAX + 1, 1);
	assert_non_null(s);
	assert_int_equal(alog_event_parse(&ev, s, ALOG_EVENT_LINE_MAX + 1,
					  &err), ALOG_ELIMIT);
	assert_int_equal(ev.reject, ALOG_REJECT_TOO_LONG);
	free(s);
	alog_event_release(&ev);
}

/* {"type":"a","d":[[...]]} with `depth` levels in all (object = 1). */
static char *deep_line(int depth, int objects)
{
	struct alog_buf b;
	int i;

	alog_buf_init(&b, 0);
	assert_int_equal(alog_buf_adds(&b, "{\"type\":\"a\",\"d\":", NULL), 0);
	for (i = 1; i < depth; i++)
		assert_int_equal(alog_buf_adds(&b, objects ? "{\"k\":" : "[",
					       NULL), 0);
	assert_int_equal(alog_buf_adds(&b, "0", NULL), 0);
	for (i = 1; i < depth; i++)
		assert_int_equal(alog_buf_adds(&b, objects ? "}" : "]", NULL),
				 0);
	assert_int_equal(alog_buf_adds(&b, "}", NULL), 0);
	return (char *)b.data;
}

static void test_event_parse_accepts_depth_max_and_refuses_one_more(
	void **state)
{
	struct alog_event ev;
	struct alog_err err = { 0 };
	int objects;
	char *s;

	(void)state;
	alog_event_init(&ev);
	for (objects = 0; objects < 2; objects++) {
		s = deep_line(ALOG_EVENT_DEPTH_MAX, objects);
		if (alog_event_parse(&ev, s, strlen(s), &err) != 0)
			fail_msg("depth max refused: %s", err.msg);
		free(s);
		s = deep_line(ALOG_EVENT_DEPTH_MAX + 1, objects);
		assert_int_equal(alog_event_parse(&ev, s, strlen(s), &err),
				 ALOG_ELIMIT);
		assert_int_equal(ev.reject, ALOG_REJECT_TOO_DEEP);
		assert_string_equal(alog_reject_name(ev.reject), "too_deep");
		free(s);
	}
	alog_event_release(&ev);
}

/* An object with n members in all: at top level or nested in "o". */
static char *wide_line(size_t n, int nested)
{
	struct alog_buf b;
	size_t i;

	alog_buf_init(&b, 0);
	if (nested) {
		assert_int_equal(alog_buf_adds(&b, "{\"type\":\"a\",\"o\":{\"k0\":0",
					       NULL), 0);
	} else {
		assert_int_equal(alog_buf_adds(&b, "{\"type\":\"a\"", NULL), 0);
	}
	for (i = 1; i < n; i++)
		assert_int_equal(alog_buf_addf(&b, NULL, ",\"k%zu\":%zu", i, i),
				 0);
	assert_int_equal(alog_buf_adds(&b, nested ? "}}" : "}", NULL), 0);
	return (char *)b.data;
}

static void test_event_parse_accepts_members_max_and_refuses_one_more(
	void **state)
{
	struct alog_event ev;
	struct alog_err err = { 0 };
	int nested;
	char *s;

	(void)state;
	alog_event_init(&ev);
	for (nested = 0; nested < 2; nested++) {
		s = wide_line(ALOG_EVENT_MEMBERS_MAX, nested);
		if (alog_event_parse(&ev, s, strlen(s), &err) != 0)
			fail_msg("members max refused: %s", err.msg);
		free(s);
		s = wide_line(ALOG_EVENT_MEMBERS_MAX + 1, nested);
		assert_int_equal(alog_event_parse(&ev, s, strlen(s), &err),
				 ALOG_ELIMIT);
		assert_int_equal(ev.reject, ALOG_REJECT_TOO_MANY_MEMBERS);
		assert_string_equal(alog_reject_name(ev.reject),
				    "too_many_members");
		free(s);
	}
	alog_event_release(&ev);
}

static void test_event_parse_finds_a_duplicate_among_members_max_keys(
	void **state)
{
	struct alog_event ev;
	struct alog_err err = { 0 };
	char *s;
	char *last;

	(void)state;
	/* k1..k4095 and then k4095 renamed to k1: the last key repeats the
	 * second one, thousands of keys apart */
	s = wide_line(ALOG_EVENT_MEMBERS_MAX, 0);
	last = strstr(s, ",\"k4095\":4095}");
	assert_non_null(last);
	memcpy(last, ",\"k1\":   4095}", 14);
	alog_event_init(&ev);
	assert_int_equal(alog_event_parse(&ev, s, strlen(s), &err),
			 ALOG_EINVAL);
	assert_int_equal(ev.reject, ALOG_REJECT_DUPLICATE_KEY);
	free(s);
	alog_event_release(&ev);
}

/* V-EVENT-CANON-1 */
static void test_event_parse_removes_only_whitespace_outside_strings(
	void **state)
{
	static const char in[] =
		" \t{ \"type\" : \"user.login\" ,\r\n \"id\":\"ev-1\",\n"
		"  \"source\" : \"app/web\" , \"time\" : \"2024-02-29T12:34:56."
		"789012Z\" ,\n  \"n\" : 1.50 , \"e\" : 1E2 , \"s\" : \"\\u00e9 x"
		"\\n y \" , \"a\" : [ 1 , -0 , { } , [ ] ] , \"t\" : true } \r\n";
	static const char want[] =
		"{\"type\":\"user.login\",\"id\":\"ev-1\",\"source\":\"app/web\","
		"\"time\":\"2024-02-29T12:34:56.789012Z\",\"n\":1.50,\"e\":1E2,"
		"\"s\":\"\\u00e9 x\\n y \",\"a\":[1,-0,{},[]],\"t\":true}";
	struct alog_event ev;
	struct alog_err err = { 0 };

	(void)state;
	alog_event_init(&ev);
	if (alog_event_parse(&ev, in, sizeof(in) - 1, &err) != 0)
		fail_msg("refused: %s", err.msg);
	assert_int_equal(ev.canon.len, sizeof(want) - 1);
	assert_memory_equal(ev.canon.data, want, sizeof(want) - 1);
	assert_int_equal(ev.canon.data[ev.canon.len], 0);
	assert_string_equal(ev.type, "user.login");
	assert_string_equal(ev.id, "ev-1");
	assert_string_equal(ev.source, "app/web");
	assert_int_equal(ev.has_time, 1);
	assert_true(ev.time_us == 1709210096789012);

	/* a second parse with the same struct forgets the first */
	assert_int_equal(alog_event_parse(&ev, L("{\"type\":\"b\"}"), &err), 0);
	assert_string_equal(ev.type, "b");
	assert_string_equal(ev.id, "");
	assert_string_equal(ev.source, "");
	assert_int_equal(ev.has_time, 0);
	assert_string_equal((const char *)ev.canon.data, "{\"type\":\"b\"}");
	alog_event_release(&ev);
}

static void test_event_parse_reads_the_envelope_at_its_limits(void **state)
{
	char line[512], id[ALOG_EVENT_ID_MAX + 2];
	struct alog_event ev;
	struct alog_err err = { 0 };
	size_t i;

	(void)state;
	/* the whole id alphabet, 0x21..0x7e without '"' and '\\', padded */
	for (i = 0; i < ALOG_EVENT_ID_MAX; i++) {
		char c = (char)(0x21 + i % 94);

		id[i] = c == '"' || c == '\\' ? '-' : c;
	}
	id[ALOG_EVENT_ID_MAX] = 0;
	snprintf(line, sizeof(line), "{\"type\":\"t\",\"id\":\"%s\","
		 "\"source\":\"%s\"}", id, id);
	alog_event_init(&ev);
	if (alog_event_parse(&ev, line, strlen(line), &err) != 0)
		fail_msg("refused: %s", err.msg);
	assert_string_equal(ev.id, id);
	assert_string_equal(ev.source, id);
	/* one byte more is bad_field */
	id[ALOG_EVENT_ID_MAX] = 'x';
	id[ALOG_EVENT_ID_MAX + 1] = 0;
	snprintf(line, sizeof(line), "{\"type\":\"t\",\"id\":\"%s\"}", id);
	assert_int_equal(alog_event_parse(&ev, line, strlen(line), &err),
			 ALOG_EINVAL);
	assert_int_equal(ev.reject, ALOG_REJECT_BAD_FIELD);
	assert_non_null(strstr(err.msg, "\"id\""));
	snprintf(line, sizeof(line), "{\"type\":\"t\",\"source\":\"%s\"}", id);
	assert_int_equal(alog_event_parse(&ev, line, strlen(line), &err),
			 ALOG_EINVAL);
	assert_int_equal(ev.reject, ALOG_REJECT_BAD_FIELD);
	assert_non_null(strstr(err.msg, "\"source\""));
	alog_event_release(&ev);
}

static void test_reject_names_are_the_spec_names(void **state)
{
	static const char *const names[] = {
		"none", "empty", "too_long", "not_json", "not_object",
		"bad_utf8", "nul", "duplicate_key", "number_range", "too_deep",
		"too_many_members", "bad_field", "reserved_type",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_string_equal(alog_reject_name((enum alog_reject)i),
				    names[i]);
	assert_string_equal(alog_reject_name((enum alog_reject)99), "unknown");
}

static void test_reserved_types_are_the_daemon_vocabulary(void **state)
{
	static const struct {
		const char *type;
		int reserved;
	} cases[] = {
		{ "daemon", 1 }, { "daemon.start", 1 }, { "store", 1 },
		{ "store.opened", 1 }, { "checkpoint.signed", 1 },
		{ "backup", 1 }, { "backup.spooled", 1 },
		{ "admin.breaker.reset", 1 }, { "integrity.verify", 1 },
		{ "anomaly.detected", 1 }, { "report.generated", 1 },
		{ "daemons.x", 0 }, { "backups", 0 }, { "storefront.order", 0 },
		{ "reporting.x", 0 }, { "user.login", 0 },
		{ "breaker.opened", 0 }, { "app.daemon.start", 0 },
		{ "probe.ok", 0 }, { "a", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (alog_event_type_reserved(cases[i].type) !=
		    cases[i].reserved)
			fail_msg("type '%s' reserved should be %d",
				 cases[i].type, cases[i].reserved);
}

/* ---- canonical records ------------------------------------------------ */

/* V-RECORD-1 */
static const char rec1[] =
	"{\"index\":7,\"received\":\"2023-11-14T22:13:20.123456Z\","
	"\"id\":\"ev-1\",\"provenance\":{\"transport\":\"unix\",\"uid\":1000,"
	"\"gid\":100,\"pid\":4242},\"event\":{\"type\":\"a.b\",\"n\":1.50}}";
static const char ev1[] = "{\"type\":\"a.b\",\"n\":1.50}";

static void test_record_format_writes_the_exact_canonical_bytes(
	void **state)
{
	struct alog_provenance p = { "unix", 1000, 100, 4242, NULL, NULL, NULL, 0 };
	struct alog_buf out;
	struct alog_err err = { 0 };

	(void)state;
	alog_buf_init(&out, ALOG_RECORD_MAX);
	assert_int_equal(alog_record_format(7, 1700000000123456, "ev-1", &p,
					    (const unsigned char *)ev1,
					    sizeof(ev1) - 1, &out, &err), 0);
	assert_string_equal((const char *)out.data, rec1);
	alog_buf_release(&out);
}

static void test_record_format_parsed_writes_the_record_of_a_parsed_line(
	void **state)
{
	/* V-RECORD-1 again, from a spaced line through alog_event_parse */
	static const char line[] = " { \"type\" : \"a.b\" , \"n\" : 1.50 } ";
	struct alog_provenance p = { "unix", 1000, 100, 4242, NULL, NULL, NULL, 0 };
	struct alog_event ev;
	struct alog_buf out;
	struct alog_err err = { 0 };

	(void)state;
	alog_event_init(&ev);
	alog_buf_init(&out, ALOG_RECORD_MAX);
	assert_int_equal(alog_event_parse(&ev, line, sizeof(line) - 1, &err),
			 0);
	assert_string_equal(ev.id, "");
	snprintf(ev.id, sizeof(ev.id), "%s", "ev-1");
	assert_int_equal(alog_record_format_parsed(7, 1700000000123456, &p,
						   &ev, &out, &err), 0);
	assert_string_equal((const char *)out.data, rec1);
	/* the other checks stay: a bad id or index is refused, out kept */
	alog_buf_reset(&out);
	snprintf(ev.id, sizeof(ev.id), "%s", "a b");
	assert_int_equal(alog_record_format_parsed(7, 0, &p, &ev, &out, &err),
			 ALOG_EINVAL);
	snprintf(ev.id, sizeof(ev.id), "%s", "i");
	assert_int_equal(alog_record_format_parsed(ALOG_RECORD_INDEX_MAX + 1,
						   0, &p, &ev, &out, &err),
			 ALOG_EINVAL);
	assert_int_equal(out.len, 0);
	alog_buf_release(&out);
	alog_event_release(&ev);
}

static void test_record_format_escapes_provenance_strings_minimally(
	void **state)
{
	/* V-RECORD-2: every provenance member, '"', '\\' and control bytes
	 * escaped, UTF-8 and DEL kept as is */
	static const char want[] =
		"{\"index\":0,\"received\":\"1970-01-01T00:00:00.000000Z\","
		"\"id\":\"018bcfe5-687b-74b0-8000-000000000000\",\"provenance\":"
		"{\"transport\":\"tls\",\"uid\":0,\"gid\":0,\"pid\":1,"
		"\"addr\":\"[2001:db8::1]:6514\",\"subject\":\"CN=a\\\"b\\\\c"
		"\\u0009\\u001f\x7f\xc3\xa9\"},\"event\":{\"type\":\"x\"}}";
	struct alog_provenance p = { "tls", 0, 0, 1, "[2001:db8::1]:6514",
				     "CN=a\"b\\c\t\x1f\x7f\xc3\xa9", NULL, 0 };
	struct alog_provenance none = { NULL, -1, -1, -1, NULL, NULL, NULL, 0 };
	struct alog_buf out;
	struct alog_err err = { 0 };

	(void)state;
	alog_buf_init(&out, ALOG_RECORD_MAX);
	assert_int_equal(alog_record_format(0, 0,
		"018bcfe5-687b-74b0-8000-000000000000", &p,
		(const unsigned char *)"{\"type\":\"x\"}", 12, &out, &err), 0);
	assert_string_equal((const char *)out.data, want);
	/* V-RECORD-3: absent provenance is an empty object; appends */
	alog_buf_reset(&out);
	assert_int_equal(alog_buf_adds(&out, "x", NULL), 0);
	assert_int_equal(alog_record_format(9007199254740991, 0, "i", &none,
		(const unsigned char *)"{}", 2, &out, &err), 0);
	assert_string_equal((const char *)out.data,
		"x{\"index\":9007199254740991,\"received\":"
		"\"1970-01-01T00:00:00.000000Z\",\"id\":\"i\",\"provenance\":{},"
		"\"event\":{}}");
	alog_buf_reset(&out);
	assert_int_equal(alog_record_format(1, 0, "i", NULL,
		(const unsigned char *)"{}", 2, &out, &err), 0);
	assert_non_null(strstr((const char *)out.data, "\"provenance\":{},"));
	alog_buf_release(&out);
}

static void test_record_format_refuses_what_the_reader_would_refuse(
	void **state)
{
	static const char long_id[] =
		"0123456789012345678901234567890123456789012345678901234567890123"
		"45678901234567890123456789012345678901234567890123456789012345678";
	struct alog_provenance bad_utf8 = { "tcp", -1, -1, -1, "\xff", NULL, NULL, 0 };
	struct alog_provenance big_uid = { "unix", INT64_C(1) << 53, -1, -1,
					   NULL, NULL, NULL, 0 };
	const unsigned char *e = (const unsigned char *)"{\"type\":\"x\"}";
	struct alog_buf out;
	struct alog_err err = { 0 };

	(void)state;
	alog_buf_init(&out, ALOG_RECORD_MAX);
	assert_int_equal(alog_buf_adds(&out, "keep", NULL), 0);
	assert_int_equal(alog_record_format(1, 0, "a b", NULL, e, 12, &out,
					    &err), ALOG_EINVAL);
	assert_int_equal(alog_record_format(1, 0, "", NULL, e, 12, &out,
					    &err), ALOG_EINVAL);
	assert_int_equal(alog_record_format(1, 0, NULL, NULL, e, 12, &out,
					    &err), ALOG_EINVAL);
	assert_int_equal(alog_record_format(1, 0, "a\"b", NULL, e, 12, &out,
					    &err), ALOG_EINVAL);
	assert_int_equal(alog_record_format(1, 0, long_id, NULL, e, 12, &out,
					    &err), ALOG_EINVAL);
	assert_int_equal(alog_record_format(ALOG_RECORD_INDEX_MAX + 1, 0, "i",
					    NULL, e, 12, &out, &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_record_format(1, INT64_C(253402300800000000),
					    "i", NULL, e, 12, &out, &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_record_format(1, 0, "i", NULL,
		(const unsigned char *)"{ \"type\":\"x\"}", 13, &out, &err),
		ALOG_EINVAL);
	assert_non_null(strstr(err.msg, "not canonical"));
	assert_int_equal(alog_record_format(1, 0, "i", NULL,
		(const unsigned char *)"[1]", 3, &out, &err), ALOG_EINVAL);
	assert_int_equal(alog_record_format(1, 0, "i", NULL,
		(const unsigned char *)"{\"a\":1,\"a\":1}", 13, &out, &err),
		ALOG_EINVAL);
	assert_int_equal(alog_record_format(1, 0, "i", &bad_utf8, e, 12, &out,
					    &err), ALOG_EINVAL);
	assert_non_null(strstr(err.msg, "\"addr\""));
	assert_int_equal(alog_record_format(1, 0, "i", &big_uid, e, 12, &out,
					    &err), ALOG_EINVAL);
	/* out is left as it was */
	assert_string_equal((const char *)out.data, "keep");
	alog_buf_release(&out);
}

static void test_record_format_bounds_the_wrapper(void **state)
{
	char *subject = malloc(ALOG_RECORD_WRAPPER_MAX + 1);
	struct alog_provenance p = { "tls", -1, -1, -1, NULL, NULL, NULL, 0 };
	struct alog_buf out;
	struct alog_err err = { 0 };

	(void)state;
	assert_non_null(subject);
	memset(subject, 'a', ALOG_RECORD_WRAPPER_MAX);
	subject[ALOG_RECORD_WRAPPER_MAX] = 0;
	p.subject = subject;
	alog_buf_init(&out, ALOG_RECORD_MAX);
	assert_int_equal(alog_record_format(1, 0, "i", &p,
		(const unsigned char *)"{}", 2, &out, &err), ALOG_ELIMIT);
	assert_int_equal(out.len, 0);
	free(subject);
	alog_buf_release(&out);
}

static void test_record_parse_returns_the_spans_of_a_formatted_record(
	void **state)
{
	static const char prov1[] = "{\"transport\":\"unix\",\"uid\":1000,"
				    "\"gid\":100,\"pid\":4242}";
	struct alog_record_view v;
	struct alog_err err = { 0 };

	(void)state;
	if (alog_record_parse(rec1, sizeof(rec1) - 1, &v, &err) != 0)
		fail_msg("refused: %s", err.msg);
	assert_true(v.index == 7);
	assert_true(v.received_us == 1700000000123456);
	assert_int_equal(v.id_len, 4);
	assert_memory_equal(v.id, "ev-1", 4);
	assert_int_equal(v.prov_len, sizeof(prov1) - 1);
	assert_memory_equal(v.prov, prov1, sizeof(prov1) - 1);
	assert_int_equal(v.event_len, sizeof(ev1) - 1);
	assert_memory_equal(v.event, ev1, sizeof(ev1) - 1);
	assert_true(v.event >= rec1 && v.event < rec1 + sizeof(rec1));
}

static void test_record_parse_accepts_every_record_format_writes(
	void **state)
{
	struct alog_provenance p = { "tls", 0, 1, 2, "192.0.2.1:5000",
				     "CN=\"q\"\\\x01\n\xe2\x82\xac", NULL, 0 };
	struct alog_provenance none = { NULL, -1, -1, -1, NULL, NULL, NULL, 0 };
	const struct alog_provenance *provs[] = { &p, &none, NULL };
	static const char *const events[] = {
		"{}", "{\"type\":\"a\",\"x\":[{\"y\":\"\\u00e9\"},1E2,-0.5]}",
	};
	const int64_t times[] = { ALOG_TIME_MIN_US, -1, 0,
				  1709210096789012, ALOG_TIME_MAX_US };
	const uint64_t indexes[] = { 0, 1, 10, ALOG_RECORD_INDEX_MAX };
	struct alog_record_view v;
	struct alog_buf out;
	struct alog_err err = { 0 };
	size_t a, b, c, d;

	(void)state;
	alog_buf_init(&out, ALOG_RECORD_MAX);
	for (a = 0; a < 3; a++)
	for (b = 0; b < 2; b++)
	for (c = 0; c < 5; c++)
	for (d = 0; d < 4; d++) {
		alog_buf_reset(&out);
		assert_int_equal(alog_record_format(indexes[d], times[c],
			"id-!~", provs[a], (const unsigned char *)events[b],
			strlen(events[b]), &out, &err), 0);
		if (alog_record_parse((const char *)out.data, out.len, &v,
				      &err) != 0)
			fail_msg("'%s' refused: %s", out.data, err.msg);
		assert_true(v.index == indexes[d]);
		assert_true(v.received_us == times[c]);
		assert_int_equal(v.id_len, 5);
		assert_memory_equal(v.id, "id-!~", 5);
		assert_int_equal(v.event_len, strlen(events[b]));
		assert_memory_equal(v.event, events[b], v.event_len);
	}
	alog_buf_release(&out);
}

struct corrupt_case {
	const char *what;
	const char *rec;
	size_t off;              /* byte offset the message must name */
};

#define R_HEAD "{\"index\":7,\"received\":\"2023-11-14T22:13:20.123456Z\"," \
	       "\"id\":\"ev-1\",\"provenance\":"

static void test_record_parse_refuses_non_canonical_records_with_offsets(
	void **state)
{
	static const struct corrupt_case cases[] = {
		{ "space after colon", "{\"index\": 7}", 9 },
		{ "trailing newline", R_HEAD "{},\"event\":{}}\n", 91 },
		{ "leading zero index", "{\"index\":07}", 9 },
		{ "negative index", "{\"index\":-1}", 9 },
		{ "minus zero index", "{\"index\":-0}", 9 },
		{ "fractional index", "{\"index\":7.0}", 9 },
		{ "string index", "{\"index\":\"7\"}", 9 },
		{ "index beyond 2^53-1", "{\"index\":9007199254740992}", 9 },
		{ "escaped member name", "{\"\\u0069ndex\":7}", 1 },
		{ "members out of order", "{\"received\":\"x\",\"index\":7}", 1 },
		{ "unknown first member", "{\"seq\":7}", 1 },
		{ "received without fraction", "{\"index\":7,\"received\":"
		  "\"2023-11-14T22:13:20Z\"}", 22 },
		{ "received with offset", "{\"index\":7,\"received\":"
		  "\"2023-11-14T22:13:20.123456+00:00\"}", 22 },
		{ "received lower case t", "{\"index\":7,\"received\":"
		  "\"2023-11-14t22:13:20.123456Z\"}", 22 },
		{ "received 9 digits", "{\"index\":7,\"received\":"
		  "\"2023-11-14T22:13:20.123456000Z\"}", 22 },
		{ "received number", "{\"index\":7,\"received\":1}", 22 },
		{ "id with space", "{\"index\":7,\"received\":\"2023-11-14T22:"
		  "13:20.123456Z\",\"id\":\"a b\"}", 57 },
		{ "id empty", "{\"index\":7,\"received\":\"2023-11-14T22:"
		  "13:20.123456Z\",\"id\":\"\"}", 57 },
		{ "provenance array", R_HEAD "[],\"event\":{}}", 77 },
		{ "provenance out of order", R_HEAD "{\"uid\":1,\"transport\":"
		  "\"unix\"},\"event\":{}}", 86 },
		{ "provenance repeated member", R_HEAD "{\"uid\":1,\"uid\":1},"
		  "\"event\":{}}", 86 },
		{ "provenance unknown member", R_HEAD "{\"port\":1},\"event\":{}}",
		  78 },
		{ "provenance negative uid", R_HEAD "{\"uid\":-1},\"event\":{}}",
		  84 },
		{ "provenance string uid", R_HEAD "{\"uid\":\"1\"},\"event\":{}}",
		  84 },
		{ "provenance \\n escape", R_HEAD "{\"addr\":\"a\\nb\"},"
		  "\"event\":{}}", 85 },
		{ "provenance upper-case hex", R_HEAD "{\"addr\":\"a\\u000Ab\"},"
		  "\"event\":{}}", 85 },
		{ "provenance escaped letter", R_HEAD "{\"addr\":\"\\u0041\"},"
		  "\"event\":{}}", 85 },
		{ "provenance solidus escape", R_HEAD "{\"addr\":\"\\/\"},"
		  "\"event\":{}}", 85 },
		{ "provenance nested object", R_HEAD "{\"addr\":{}},"
		  "\"event\":{}}", 85 },
		{ "event array", R_HEAD "{},\"event\":[]}", 88 },
		{ "event string", R_HEAD "{},\"event\":\"{}\"}", 88 },
		{ "event missing", R_HEAD "{}}", 79 },
		{ "extra member", R_HEAD "{},\"event\":{},\"x\":1}", 91 },
		{ "duplicate in event", R_HEAD "{},\"event\":{\"a\":1,"
		  "\"a\":2}}", 95 },
		{ "bad utf-8 in event", R_HEAD "{},\"event\":{\"a\":\"\xc0\x80\"}}",
		  94 },
		{ "whitespace in event", R_HEAD "{},\"event\":{\"a\": 1}}", 93 },
		{ "nul in event", R_HEAD "{},\"event\":{\"a\":\"\0\"}}", 94 },
		{ "not json", "index=7", 0 },
		{ "empty", "", 0 },
	};
	struct alog_record_view v;
	struct alog_err err;
	char want[64];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct corrupt_case *c = &cases[i];

		len = strlen(c->rec);
		if (!strcmp(c->what, "nul in event"))
			len = sizeof(R_HEAD "{},\"event\":{\"a\":\"\0\"}}") - 1;
		memset(&err, 0, sizeof(err));
		memset(&v, 0xAA, sizeof(v));
		if (alog_record_parse(c->rec, len, &v, &err) != ALOG_ECORRUPT)
			fail_msg("%s: accepted", c->what);
		assert_int_equal(err.code, ALOG_ECORRUPT);
		snprintf(want, sizeof(want), "at byte %zu", c->off);
		if (!strstr(err.msg, want))
			fail_msg("%s: '%s' not in '%s'", c->what, want,
				 err.msg);
		assert_null(v.event);
		assert_null(v.id);
	}
}

static void test_record_parse_refuses_every_truncation(void **state)
{
	struct alog_record_view v;
	struct alog_err err;
	size_t n;

	(void)state;
	for (n = 0; n < sizeof(rec1) - 1; n++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(alog_record_parse(rec1, n, &v, &err),
				 ALOG_ECORRUPT);
	}
	assert_int_equal(alog_record_parse(rec1, sizeof(rec1) - 1, &v, &err),
			 0);
}

/* The reporter's fast reader finds the same spans as the full parse, on
 * records format writes (escaped provenance strings, braces and quotes
 * inside strings, nested values); of every truncation it refuses the
 * wrapper, or alog_event_peek the event. */
static void test_record_peek_finds_the_spans_record_parse_finds(void **state)
{
	static const char *const events[] = {
		"{\"type\":\"a.b\",\"n\":1.50}",
		"{}",
		"{\"s\":\"}{\\\"][\\\\\",\"type\":\"x\",\"o\":{\"time\":\"no\",\"a\":[1,{\"b\":\"}\"}]}}",
		"{\"a\":[[],{}],\"time\":\"2024-02-29T12:34:56Z\",\"b\":null}",
	};
	struct alog_provenance p = { "tls", 0, 1, 2, "192.0.2.1:5000",
				     "CN=\"q\"}{\\\x01\n\xe2\x82\xac", NULL, 0 };
	struct alog_record_view a, b;
	struct alog_err err = { 0 };
	struct alog_buf out;

	(void)state;
	alog_buf_init(&out, ALOG_RECORD_MAX);
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		alog_buf_reset(&out);
		assert_int_equal(alog_record_format(123456789, 1700000000123456,
			"id-1", &p, (const unsigned char *)events[i],
			strlen(events[i]), &out, &err), 0);
		assert_int_equal(alog_record_parse((const char *)out.data,
						   out.len, &a, &err), 0);
		if (alog_record_peek((const char *)out.data, out.len, &b,
				     &err) != 0)
			fail_msg("event %zu refused: %s", i, err.msg);
		assert_true(a.index == b.index);
		assert_true(a.received_us == b.received_us);
		assert_true(a.id == b.id && a.id_len == b.id_len);
		assert_true(a.prov == b.prov && a.prov_len == b.prov_len);
		assert_true(a.event == b.event && a.event_len == b.event_len);
		/* a cut record: the wrapper or else its event is refused */
		for (size_t n = 0; n < out.len; n++) {
			struct alog_envelope_view env;

			if (alog_record_peek((const char *)out.data, n, &b,
					     &err) == 0)
				assert_int_equal(alog_event_peek(b.event,
								 b.event_len,
								 &env),
						 ALOG_ECORRUPT);
		}
	}
	alog_buf_release(&out);
	/* shapes the writer never makes */
	{
		static const char *const bad[] = {
			"{\"index\":07,\"received\":\"2023-11-14T22:13:20.123456Z\",\"id\":\"e\",\"provenance\":{},\"event\":{}}",
			"{\"index\":7,\"received\":\"2023-11-14T22:13:20.1234+00:00\",\"id\":\"e\",\"provenance\":{},\"event\":{}}",
			"{\"index\":7,\"received\":\"2023-11-14T22:13:20.123456Z\",\"id\":\"\",\"provenance\":{},\"event\":{}}",
			"{\"index\":7,\"received\":\"2023-11-14T22:13:20.123456Z\",\"id\":\"e\",\"event\":{},\"provenance\":{}}",
			"{\"index\":7,\"received\":\"2023-11-14T22:13:20.123456Z\",\"id\":\"e\",\"provenance\":{},\"event\":{}}x",
			"{\"index\":7,\"received\":\"2023-11-14T22:13:20.123456Z\",\"id\":\"e\",\"provenance\":{},\"event\":[]}",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (alog_record_peek(bad[i], strlen(bad[i]), &b, &err) !=
			    ALOG_ECORRUPT)
				fail_msg("bad shape %zu accepted", i);
	}
}

/* The envelope is read from the top level only; a key written with an
 * escape asks for a full parse. */
static void test_event_peek_reads_top_level_envelope_members_only(
	void **state)
{
	struct alog_envelope_view e;
	static const char ev[] =
		"{\"o\":{\"type\":\"inner\",\"time\":\"x\"},\"type\":\"app.a\","
		"\"n\":-1.5e3,\"source\":\"web-1\",\"s\":\"\\\"time\\\":\","
		"\"id\":\"k-1\",\"time\":\"2024-02-29T12:34:56Z\",\"t\":true}";
	static const char esc[] = "{\"\\u0074ype\":\"x\",\"type\":\"y\"}";

	(void)state;
	assert_int_equal(alog_event_peek(ev, sizeof(ev) - 1, &e), 0);
	assert_int_equal(e.type_len, 5);
	assert_memory_equal(e.type, "app.a", 5);
	assert_int_equal(e.source_len, 5);
	assert_memory_equal(e.source, "web-1", 5);
	assert_int_equal(e.id_len, 3);
	assert_memory_equal(e.id, "k-1", 3);
	assert_int_equal(e.time_len, 20);
	assert_memory_equal(e.time, "2024-02-29T12:34:56Z", 20);
	assert_int_equal(alog_event_peek("{\"a\":1}", 7, &e), 0);
	assert_null(e.type);
	assert_null(e.time);
	assert_int_equal(alog_event_peek(esc, sizeof(esc) - 1, &e), 1);
	assert_int_equal(alog_event_peek("{\"a\":1", 6, &e), ALOG_ECORRUPT);
	assert_int_equal(alog_event_peek("{\"a\":\"}", 7, &e), ALOG_ECORRUPT);
	assert_int_equal(alog_event_peek("{\"a\":{}}}", 9, &e), ALOG_ECORRUPT);
	assert_int_equal(alog_event_peek("[]", 2, &e), ALOG_ECORRUPT);
}

static void test_record_parse_refuses_records_over_the_limit(void **state)
{
	char *big = malloc(ALOG_RECORD_MAX + 1);
	struct alog_record_view v;
	struct alog_err err = { 0 };

	(void)state;
	assert_non_null(big);
	memset(big, ' ', ALOG_RECORD_MAX + 1);
	memcpy(big, rec1, sizeof(rec1) - 1);
	assert_int_equal(alog_record_parse(big, ALOG_RECORD_MAX + 1, &v,
					   &err), ALOG_ECORRUPT);
	assert_non_null(strstr(err.msg, "longer than"));
	free(big);
}

static void test_canonical_event_of_a_max_line_fits_a_record(void **state)
{
	struct alog_provenance p = { "tls", INT64_C(4294967295),
				     INT64_C(4294967295), INT64_C(4294967295),
				     "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]"
				     ":65535", "CN=client", NULL, 0 };
	struct alog_record_view v;
	struct alog_event ev;
	struct alog_buf out;
	struct alog_err err = { 0 };
	char id[ALOG_EVENT_ID_MAX + 1];
	char *s = padded_line(ALOG_EVENT_LINE_MAX);

	(void)state;
	memset(id, 'z', ALOG_EVENT_ID_MAX);
	id[ALOG_EVENT_ID_MAX] = 0;
	alog_event_init(&ev);
	alog_buf_init(&out, ALOG_RECORD_MAX);
	assert_int_equal(alog_event_parse(&ev, s, ALOG_EVENT_LINE_MAX, &err), 0);
	assert_int_equal(alog_record_format(ALOG_RECORD_INDEX_MAX,
					    ALOG_TIME_MAX_US, id, &p,
					    ev.canon.data, ev.canon.len, &out,
					    &err), 0);
	assert_true(out.len <= ALOG_RECORD_MAX);
	assert_int_equal(alog_record_parse((const char *)out.data, out.len,
					   &v, &err), 0);
	assert_int_equal(v.event_len, ALOG_EVENT_LINE_MAX);
	free(s);
	alog_buf_release(&out);
	alog_event_release(&ev);
}

/* The fast path of alog_record_parse is exactly as strict as the full
 * scan: on canonical records it gives the same view, and for every record
 * made by changing one byte to any value, deleting one byte or inserting
 * one, it accepts only what the full scan accepts (with the same view);
 * and alog_record_parse's verdict is the full scan's. */
static void check_fast_agrees(const char *rec, size_t len)
{
	struct alog_record_view fv, sv, pv;
	struct alog_err err;
	int fast = alog_record_parse_fast(rec, len, &fv);
	int full = alog_record_parse_full(rec, len, &sv, &err);
	int both = alog_record_parse(rec, len, &pv, &err);

	if (fast && full != 0) {
		fprintf(stderr, "fast path accepts what the full scan refuses: %.*s\n",
			(int)len, rec);
		fail();
	}
	assert_int_equal(both, full);
	if (full == 0) {
		assert_memory_equal(&sv, &pv, sizeof(sv));
		if (fast)
			assert_memory_equal(&sv, &fv, sizeof(sv));
	}
}

static void test_record_parse_fast_path_is_exactly_as_strict(void **state)
{
	static const char *const recs[] = {
		"{\"index\":0,\"received\":\"2026-01-05T08:00:00.000001Z\",\"id\":\"a\",\"provenance\":{},\"event\":{}}",
		"{\"index\":1234,\"received\":\"2026-12-04T23:59:39.236405Z\",\"id\":\"a9f76b9d-6dcb\",\"provenance\":{\"transport\":\"stdin\",\"uid\":0},\"event\":{\"type\":\"access.revoked\",\"actor\":\"zo\xc3\xab.m\xc3\xbcller@example.com\",\"scopes\":[\"read\",\"write\"],\"n\":-12,\"d\":366.25,\"z\":0,\"t\":true,\"f\":false,\"u\":null}}",
		"{\"index\":9,\"received\":\"2026-12-04T23:59:39.236405Z\",\"id\":\"x\",\"provenance\":{\"transport\":\"tls\",\"uid\":1,\"gid\":2,\"pid\":3,\"addr\":\"10.0.0.1:4\",\"subject\":\"CN=a\"},\"event\":{\"geo\":{\"country\":\"FR\",\"asn\":27998,\"a\":[[],{},[1,-0.5,{\"k\":\"\xe2\x82\xac\xf0\x9f\x98\x80\"}]]},\"e\":\"\",\"x\":\"\x7f\"}}",
		"{\"index\":7,\"received\":\"2026-12-04T23:59:39.236405Z\",\"id\":\"y\",\"provenance\":{\"transport\":\"internal\"},\"event\":{\"ab\":1,\"ba\":2,\"a\":{\"ab\":1},\"b\":[{\"a\":1},{\"a\":2}]}}",
		/* an id of 36 bytes (16 at a time, then the rest); 24 keys
		 * in one object, some alike in length and ends, and one
		 * string over 64 bytes */
		"{\"index\":5,\"received\":\"2026-12-04T23:59:39.236405Z\",\"id\":\"019b8d2b-8c02-7bc6-9e37-79b97f4a7c15\",\"provenance\":{\"transport\":\"unix\",\"uid\":1000,\"gid\":100,\"pid\":4242,\"addr\":\"/run/a.sock\"},\"event\":{\"a\":1,\"b\":2,\"aa\":3,\"ab\":4,\"ba\":5,\"abc\":6,\"acb\":7,\"abcd\":8,\"abdc\":9,\"actor\":0,\"action\":1,\"actions\":2,\"xactor\":3,\"source_addr\":4,\"source_port\":5,\"client_addr\":6,\"k1\":7,\"k2\":8,\"k10\":9,\"k20\":0,\"\":1,\"path\":\"/srv/data/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.dat\",\"pat\":2,\"ath\":3}}",
	};
	char buf[1024];

	(void)state;
	for (size_t r = 0; r < sizeof(recs) / sizeof(recs[0]); r++) {
		const char *rec = recs[r];
		size_t len = strlen(rec);
		struct alog_record_view v;

		/* the test's records are plain: the fast path takes them */
		assert_int_equal(alog_record_parse_fast(rec, len, &v), 1);
		check_fast_agrees(rec, len);
		assert_true(len + 1 <= sizeof(buf));
		for (size_t i = 0; i < len; i++) {
			for (unsigned c = 0; c < 256; c++) {
				if ((unsigned char)rec[i] == c)
					continue;
				memcpy(buf, rec, len);
				buf[i] = (char)c;
				check_fast_agrees(buf, len);
			}
			/* deleted */
			memcpy(buf, rec, i);
			memcpy(buf + i, rec + i + 1, len - i - 1);
			check_fast_agrees(buf, len - 1);
		}
		for (size_t i = 0; i <= len; i++) {
			static const char ins[] = " \"\\{}[],:0-.e\x80";

			for (size_t c = 0; c < sizeof(ins) - 1; c++) {
				memcpy(buf, rec, i);
				buf[i] = ins[c];
				memcpy(buf + i + 1, rec + i, len - i);
				check_fast_agrees(buf, len + 1);
			}
		}
	}
}

/* A record id is 1..128 bytes of printable ASCII but '"' and '\\'
 * (SPEC.md 4): every byte value at every place of a 40-byte id (checked
 * 16 bytes at a time, then byte by byte), by both paths. */
static void test_record_parse_checks_every_byte_of_the_id(void **state)
{
	static const char head[] =
		"{\"index\":3,\"received\":\"2026-12-04T23:59:39.236405Z\",\"id\":\"";
	static const char tail[] = "\",\"provenance\":{},\"event\":{}}";
	char rec[256];
	size_t id_at = sizeof(head) - 1, id_len = 40;
	size_t len = id_at + id_len + sizeof(tail) - 1;

	(void)state;
	memcpy(rec, head, id_at);
	memset(rec + id_at, 'a', id_len);
	memcpy(rec + id_at + id_len, tail, sizeof(tail) - 1);
	for (size_t i = 0; i < id_len; i++) {
		for (unsigned c = 0; c < 256; c++) {
			int want = c >= 0x21 && c <= 0x7E && c != '"' &&
				   c != '\\';
			struct alog_record_view v;

			rec[id_at + i] = (char)c;
			if ((alog_record_parse(rec, len, &v, NULL) == 0) !=
			    want)
				fail_msg("id byte %zu = 0x%02x: %s", i, c,
					 want ? "refused" : "accepted");
			if (alog_record_parse_fast(rec, len, &v) && !want)
				fail_msg("id byte %zu = 0x%02x: fast path "
					 "accepted", i, c);
		}
		rec[id_at + i] = 'a';
	}
}

/* What the fast path leaves to the full scan is still judged by it:
 * escapes, exponents, long numbers, deep nesting, many members. */
static void test_record_parse_leaves_unusual_records_to_the_full_scan(
	void **state)
{
	static const char *const recs[] = {
		"{\"index\":1,\"received\":\"2026-12-04T23:59:39.236405Z\",\"id\":\"a\",\"provenance\":{},\"event\":{\"a\":\"x\\\"y\\u001f\"}}",
		"{\"index\":1,\"received\":\"2026-12-04T23:59:39.236405Z\",\"id\":\"a\",\"provenance\":{},\"event\":{\"a\":1e5}}",
		"{\"index\":1,\"received\":\"2026-12-04T23:59:39.236405Z\",\"id\":\"a\",\"provenance\":{},\"event\":{\"a\":9007199254740991}}",
		"{\"index\":1,\"received\":\"2026-12-04T23:59:39.236405Z\",\"id\":\"a\",\"provenance\":{},\"event\":{\"a\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}}",
		"{\"index\":1,\"received\":\"2026-12-04T23:59:39.236405Z\",\"id\":\"a\",\"provenance\":{\"addr\":\"\\\\\"},\"event\":{}}",
	};

	(void)state;
	for (size_t r = 0; r < sizeof(recs) / sizeof(recs[0]); r++) {
		struct alog_record_view v;
		struct alog_err err;
		size_t len = strlen(recs[r]);

		assert_int_equal(alog_record_parse_fast(recs[r], len, &v), 0);
		assert_int_equal(alog_record_parse(recs[r], len, &v, &err), 0);
		assert_int_equal(v.index, 1);
	}
	{
		/* 33 members: the fast path's bound, still canonical */
		char rec[1024];
		int n = snprintf(rec, sizeof(rec), "%s",
				 "{\"index\":1,\"received\":\"2026-12-04T23:59:39.236405Z\",\"id\":\"a\",\"provenance\":{},\"event\":{");
		struct alog_record_view v;
		struct alog_err err;

		for (int i = 0; i < 33; i++)
			n += snprintf(rec + n, sizeof(rec) - (size_t)n,
				      "%s\"k%d\":%d", i ? "," : "", i, i);
		n += snprintf(rec + n, sizeof(rec) - (size_t)n, "}}");
		assert_int_equal(alog_record_parse_fast(rec, (size_t)n, &v), 0);
		assert_int_equal(alog_record_parse(rec, (size_t)n, &v, &err), 0);
		/* a duplicate among them ("k22" twice) is still found */
		assert_memory_equal(rec + n - 9, "k32", 3);
		rec[n - 8] = '2';
		assert_int_equal(alog_record_parse(rec, (size_t)n, &v, &err),
				 ALOG_ECORRUPT);
		check_fast_agrees(rec, (size_t)n);
	}
}

/* alog_event_id_key: the digest alog_store_id_key gives for the parsed
 * (source, id), hashed ahead of the writer; none for an event without an
 * id; every parse clears it (a stale key would judge the wrong id). */
static void test_event_id_key_is_the_store_digest_and_cleared_by_parse(
	void **state)
{
	static const char with_id[] =
		"{\"type\":\"a.b\",\"source\":\"billing\","
		"\"id\":\"018bcfe5-687b-774b-8a3f-0123456789ab\"}";
	static const char no_id[] = "{\"type\":\"a.b\",\"source\":\"billing\"}";
	unsigned char want[ALOG_STORE_ID_LEN];
	struct alog_hasher *h;
	struct alog_event ev;
	struct alog_err err;

	(void)state;
	assert_int_equal(alog_hasher_new(&h, NULL), 0);
	alog_event_init(&ev);
	assert_int_equal(alog_event_parse(&ev, with_id, sizeof(with_id) - 1,
					  &err), 0);
	assert_int_equal(ev.has_id_key, 0);
	alog_event_id_key(&ev, h);
	assert_int_equal(ev.has_id_key, 1);
	alog_store_id_key(NULL, "billing",
			  "018bcfe5-687b-774b-8a3f-0123456789ab", want);
	assert_memory_equal(ev.id_key, want, sizeof(want));
	assert_int_equal(alog_event_parse(&ev, no_id, sizeof(no_id) - 1,
					  &err), 0);
	assert_int_equal(ev.has_id_key, 0);
	alog_event_id_key(&ev, h);
	assert_int_equal(ev.has_id_key, 0);
	alog_event_release(&ev);
	alog_hasher_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		  test_event_parse_refuses_every_bad_input_with_its_reject_name),
		cmocka_unit_test(
		  test_event_parse_accepts_limits_and_valid_edge_cases),
		cmocka_unit_test(
		  test_event_parse_judges_long_numbers_by_their_value),
		cmocka_unit_test(
		  test_event_parse_reports_the_byte_offset_of_the_fault),
		cmocka_unit_test(
		  test_event_parse_accepts_line_max_and_refuses_one_more),
		cmocka_unit_test(
		  test_event_parse_accepts_depth_max_and_refuses_one_more),
		cmocka_unit_test(
		  test_event_parse_accepts_members_max_and_refuses_one_more),
		cmocka_unit_test(
		  test_event_parse_finds_a_duplicate_among_members_max_keys),
		cmocka_unit_test(
		  test_event_parse_removes_only_whitespace_outside_strings),
		cmocka_unit_test(
		  test_event_parse_reads_the_envelope_at_its_limits),
		cmocka_unit_test(test_reject_names_are_the_spec_names),
		cmocka_unit_test(
		  test_reserved_types_are_the_daemon_vocabulary),
		cmocka_unit_test(
		  test_record_format_writes_the_exact_canonical_bytes),
		cmocka_unit_test(
		  test_record_format_parsed_writes_the_record_of_a_parsed_line),
		cmocka_unit_test(
		  test_record_format_escapes_provenance_strings_minimally),
		cmocka_unit_test(
		  test_record_format_refuses_what_the_reader_would_refuse),
		cmocka_unit_test(test_record_format_bounds_the_wrapper),
		cmocka_unit_test(
		  test_record_parse_returns_the_spans_of_a_formatted_record),
		cmocka_unit_test(
		  test_record_parse_accepts_every_record_format_writes),
		cmocka_unit_test(
		  test_record_parse_refuses_non_canonical_records_with_offsets),
		cmocka_unit_test(test_record_parse_refuses_every_truncation),
		cmocka_unit_test(test_record_parse_fast_path_is_exactly_as_strict),
		cmocka_unit_test(test_record_parse_checks_every_byte_of_the_id),
		cmocka_unit_test(
			test_record_parse_leaves_unusual_records_to_the_full_scan),
		cmocka_unit_test(test_record_peek_finds_the_spans_record_parse_finds),
		cmocka_unit_test(test_event_peek_reads_top_level_envelope_members_only),
		cmocka_unit_test(
		  test_record_parse_refuses_records_over_the_limit),
		cmocka_unit_test(
		  test_canonical_event_of_a_max_line_fits_a_record),
		cmocka_unit_test(
		  test_event_id_key_is_the_store_digest_and_cleared_by_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
