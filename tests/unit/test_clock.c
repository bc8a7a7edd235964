/*
 * test_clock: RFC 3339 formatting and parsing (SPEC.md "Time") and
 * UUIDv7 (SPEC.md "UUIDv7"). Expected microsecond values were computed
 * independently with Python's datetime while writing the tests
 * (vectors V-TIME-1..V-TIME-9, V-UUID7-1..2 in SPEC.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ingest/clock.h"

struct known {
	const char *id;
	int64_t us;
	const char *text;
};

/* Formatted form, independent values (Python datetime). */
static const struct known known_times[] = {
	{ "V-TIME-1", 0, "1970-01-01T00:00:00.000000Z" },
	{ "V-TIME-2", 951782400000000, "2000-02-29T00:00:00.000000Z" },
	{ "V-TIME-3", 1709210096789012, "2024-02-29T12:34:56.789012Z" },
	{ "V-TIME-4", 253402300799999999, "9999-12-31T23:59:59.999999Z" },
	{ "V-TIME-5", -62167219200000000, "0000-01-01T00:00:00.000000Z" },
	{ "V-TIME-6", -1, "1969-12-31T23:59:59.999999Z" },
	{ "V-TIME-7", -62135596800000000, "0001-01-01T00:00:00.000000Z" },
	{ "V-TIME-8", -11670912000000000, "1600-03-01T00:00:00.000000Z" },
	{ "V-TIME-9", 1700000000123456, "2023-11-14T22:13:20.123456Z" },
};

static void test_time_format_writes_known_values(void **state)
{
	char out[ALOG_TIME_TEXT_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(known_times) / sizeof(known_times[0]); i++) {
		assert_int_equal(alog_time_format(known_times[i].us, out), 0);
		assert_string_equal(out, known_times[i].text);
	}
}

static void test_time_format_in_the_same_second_and_across_it(void **state)
{
	/* the format keeps its last second: times in it, just before it,
	 * after another second and back again must all come out right */
	static const struct known seq[] = {
		{ "3", 1709210096789012, "2024-02-29T12:34:56.789012Z" },
		{ "3+1", 1709210096789013, "2024-02-29T12:34:56.789013Z" },
		{ "3 start", 1709210096000000, "2024-02-29T12:34:56.000000Z" },
		{ "3 before", 1709210095999999, "2024-02-29T12:34:55.999999Z" },
		{ "6", -1, "1969-12-31T23:59:59.999999Z" },
		{ "6 start", -1000000, "1969-12-31T23:59:59.000000Z" },
		{ "3 again", 1709210096789012, "2024-02-29T12:34:56.789012Z" },
	};
	char out[ALOG_TIME_TEXT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		assert_int_equal(alog_time_format(seq[i].us, out), 0);
		assert_string_equal(out, seq[i].text);
	}
}

static void test_time_format_refuses_years_outside_0000_to_9999(void **state)
{
	char out[ALOG_TIME_TEXT_MAX];

	(void)state;
	assert_int_equal(alog_time_format(ALOG_TIME_MIN_US - 1, out), -1);
	assert_int_equal(alog_time_format(ALOG_TIME_MAX_US + 1, out), -1);
	assert_int_equal(alog_time_format(INT64_MIN, out), -1);
	assert_int_equal(alog_time_format(INT64_MAX, out), -1);
}

static void test_time_parse_reads_back_every_known_value(void **state)
{
	struct alog_err err = { 0 };
	int64_t us;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(known_times) / sizeof(known_times[0]); i++) {
		const char *t = known_times[i].text;

		assert_int_equal(alog_time_parse(t, strlen(t), 0, &us, &err),
				 0);
		assert_true(us == known_times[i].us);
	}
}

struct parse_case {
	const char *text;
	int64_t us;
};

static void test_time_parse_applies_offsets_and_truncates_fractions(
	void **state)
{
	static const struct parse_case cases[] = {
		/* RFC 3339 section 5.8 examples */
		{ "1985-04-12T23:20:50.52Z", 482196050520000 },
		{ "1996-12-19T16:39:57-08:00", 851042397000000 },
		{ "1937-01-01T12:00:27.87+00:20", -1041337172130000 },
		/* offsets */
		{ "2024-01-01T01:30:00+01:30", 1704067200000000 },
		{ "2023-12-31T19:00:00-05:00", 1704067200000000 },
		{ "2024-01-01T00:00:00-00:00", 1704067200000000 },
		{ "2024-01-01T00:00:00+00:00", 1704067200000000 },
		/* lower-case separators */
		{ "2024-01-01t00:00:00z", 1704067200000000 },
		/* fractions: 1..9 digits, truncated (never rounded) to us */
		{ "1970-01-01T00:00:00.1Z", 100000 },
		{ "1970-01-01T00:00:00.000001Z", 1 },
		{ "1970-01-01T00:00:00.123456789Z", 123456 },
		{ "1970-01-01T00:00:00.999999999Z", 999999 },
		{ "1970-01-01T00:00:00.0000009Z", 0 },
		/* an offset may carry the utc time across a day/year */
		{ "1970-01-01T00:30:00+01:00", -1800000000 },
		{ "0000-01-01T01:00:00+01:00", -62167219200000000 },
		{ "9999-12-31T22:59:59.999999-01:00", 253402300799999999 },
	};
	struct alog_err err = { 0 };
	int64_t us;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *t = cases[i].text;
		int rc = alog_time_parse(t, strlen(t), 0, &us, &err);

		if (rc != 0)
			fail_msg("'%s' refused: %s", t, err.msg);
		if (us != cases[i].us)
			fail_msg("'%s' gave %lld, want %lld", t,
				 (long long)us, (long long)cases[i].us);
	}
}

static void test_time_parse_refuses_invalid_dates_and_times(void **state)
{
	static const char *const bad[] = {
		"",
		"2024",
		"2024-02-30T00:00:00Z",         /* Feb 30 */
		"2023-02-29T00:00:00Z",         /* not a leap year */
		"1900-02-29T00:00:00Z",         /* century, not leap */
		"2024-04-31T00:00:00Z",         /* April has 30 days */
		"2024-13-01T00:00:00Z",         /* month 13 */
		"2024-00-01T00:00:00Z",
		"2024-01-00T00:00:00Z",
		"2024-01-32T00:00:00Z",
		"2024-01-01T24:00:00Z",         /* hour 24 */
		"2024-01-01T23:60:00Z",
		"2024-12-31T23:59:60Z",         /* leap second */
		"2024-01-01 00:00:00Z",         /* missing T */
		"2024-01-0100:00:00Z",
		"2024-01-01T00:00:00",          /* no zone */
		"2024-01-01T00:00Z",            /* no seconds */
		"2024-01-01T00:00:00.Z",
		"2024-01-01T00:00:00.1234567890Z", /* 10 fraction digits */
		"2024-01-01T00:00:00+24:00",
		"2024-01-01T00:00:00+01:60",
		"2024-01-01T00:00:00+0100",
		"2024-01-01T00:00:00+01",
		"2024-01-01T00:00:00ZZ",
		"2024-01-01T00:00:00Z ",
		"2024-1-01T00:00:00Z",
		"+2024-01-01T00:00:00Z",
		"2024-01-01T0a:00:00Z",
		"2024-01-01",                   /* date only, not allowed */
		"0000-01-01T00:00:00+00:01",    /* utc before year 0000 */
		"9999-12-31T23:59:59-00:01",    /* utc after year 9999 */
	};
	struct alog_err err;
	int64_t us = 42;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (alog_time_parse(bad[i], strlen(bad[i]), 0, &us, &err) !=
		    ALOG_EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(err.code, ALOG_EINVAL);
		assert_non_null(strstr(err.msg, "bad time"));
	}
	assert_true(us == 42);
}

static void test_time_parse_accepts_a_bare_date_only_when_allowed(
	void **state)
{
	int64_t us = 0;

	(void)state;
	assert_int_equal(alog_time_parse("2000-02-29", 10, 1, &us, NULL), 0);
	assert_true(us == 951782400000000);
	assert_int_equal(alog_time_parse("2000-02-29", 10, 0, &us, NULL),
			 ALOG_EINVAL);
	assert_int_equal(alog_time_parse("2000-02-30", 10, 1, &us, NULL),
			 ALOG_EINVAL);
	/* the length bounds the text: no read past len */
	assert_int_equal(alog_time_parse("2000-02-29T00:00:00Z", 10, 1, &us,
					 NULL), 0);
	assert_true(us == 951782400000000);
}

/* glibc's gmtime_r is the independent side: our days-from-civil must
 * agree with it for every day of 0000..0500 and 1890..2110, and for every
 * 89th day over the whole range, both ways. */
static void check_day(int64_t day)
{
	char out[ALOG_TIME_TEXT_MAX], want[64];
	int64_t us = day * INT64_C(86400000000) + 43200000001;
	time_t t = (time_t)(day * 86400 + 43200);
	struct tm tm;
	int64_t back = 0;

	assert_non_null(gmtime_r(&t, &tm));
	snprintf(want, sizeof(want), "%04d-%02d-%02dT12:00:00.000001Z",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	assert_int_equal(alog_time_format(us, out), 0);
	assert_string_equal(out, want);
	assert_int_equal(alog_time_parse(out, strlen(out), 0, &back, NULL), 0);
	assert_true(back == us);
}

static void test_time_format_and_parse_agree_with_gmtime_over_the_range(
	void **state)
{
	const int64_t first = -719528, last = 2932896; /* 0000-01-01, 9999-12-31 */
	int64_t d;

	(void)state;
	for (d = first; d < first + 183000; d++)   /* 0000..0500 */
		check_day(d);
	for (d = -29220; d < 51500; d++)            /* 1890..2110 */
		check_day(d);
	for (d = first; d <= last; d += 89)
		check_day(d);
	check_day(last);
}

/* alog_time_parse_record says yes exactly when the text is what
 * alog_time_format writes: a parse, a format and a compare decide it
 * here, on known times, then on each with one byte changed to every
 * byte that could pass for another (digits, separators, 't', 'z',
 * offset signs), and on every other length. */
static void record_time_judged_as_round_trip(const char *s, size_t len)
{
	char back[ALOG_TIME_TEXT_MAX];
	int64_t us = 0, got = 0;
	int want;

	want = alog_time_parse(s, len, 0, &us, NULL) == 0 &&
	       alog_time_format(us, back) == 0 && strlen(back) == len &&
	       memcmp(back, s, len) == 0;
	if ((alog_time_parse_record(s, len, &got) == 0) != want)
		fail_msg("'%.*s': parse_record says %s", (int)len, s,
			 want ? "no" : "yes");
	if (want)
		assert_true(got == us);
}

static void test_time_parse_record_accepts_exactly_the_format(void **state)
{
	static const char subst[] = "0123456789-:.TtZz+ x";
	const struct known *k;
	char buf[40];
	size_t n, i, j;

	(void)state;
	for (k = known_times; k < known_times + sizeof(known_times) /
	     sizeof(known_times[0]); k++) {
		n = strlen(k->text);
		record_time_judged_as_round_trip(k->text, n);
		for (i = 0; i < n; i++)
			for (j = 0; j < sizeof(subst) - 1; j++) {
				memcpy(buf, k->text, n);
				buf[i] = subst[j];
				record_time_judged_as_round_trip(buf, n);
			}
		for (i = 0; i < n; i++)  /* every byte value everywhere */
			for (j = 0; j < 256; j++) {
				memcpy(buf, k->text, n);
				buf[i] = (char)j;
				record_time_judged_as_round_trip(buf, n);
			}
		for (i = 0; i < n; i++)  /* every shorter length */
			record_time_judged_as_round_trip(k->text, i);
	}
	/* other valid RFC 3339 forms of a time are not the record form */
	record_time_judged_as_round_trip("2024-02-29T12:34:56.789Z", 24);
	record_time_judged_as_round_trip("2024-02-29T12:34:56.789012+00:00",
					 32);
	record_time_judged_as_round_trip("2024-02-29T12:34:56.7890123Z", 28);
	record_time_judged_as_round_trip("2023-02-29T12:34:56.789012Z", 27);
	assert_int_equal(alog_time_parse_record("2024-02-29t12:34:56.789012Z",
						27, &(int64_t){ 0 }), -1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void test_uuid7_has_version_variant_and_timestamp(void **state)
{
	char a[37], b[37];
	int i;

	(void)state;
	/* V-UUID7-2: 1700000000123456 us = ms 0x18bcfe5687b, sub-ms 456 us
	 * -> rand_a = floor(456 * 4096 / 1000) = 0x74b */
	assert_int_equal(alog_uuid7(1700000000123456, a, NULL), 0);
	assert_int_equal(strlen(a), 36);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(a[i], '-');
		else
			assert_true(hexval(a[i]) >= 0);
	}
	assert_memory_equal(a, "018bcfe5-687b-", 14);
	assert_int_equal(a[14], '7');                  /* version 7 */
	assert_memory_equal(a + 15, "74b", 3);         /* sub-ms bits */
	assert_true((hexval(a[19]) & 0xC) == 0x8);     /* variant 10 */
	/* 62 random bits: two ids of the same instant differ */
	assert_int_equal(alog_uuid7(1700000000123456, b, NULL), 0);
	assert_memory_equal(a, b, 19);
	assert_memory_not_equal(a + 19, b + 19, 17);
}

static void test_uuid7_timestamp_matches_rfc9562_example(void **state)
{
	int64_t us = 0;
	char a[37];

	(void)state;
	/* V-UUID7-1: RFC 9562 appendix A.6, 017F22E2-79B0-7CC3-98C4-
	 * DC0C0C07398F for Tuesday, February 22, 2022 2:22:22.00 PM
	 * GMT-05:00: the first 48 bits are the unix time in ms */
	assert_int_equal(alog_time_parse("2022-02-22T14:22:22.00-05:00", 28, 0,
					 &us, NULL), 0);
	assert_int_equal(alog_uuid7(us, a, NULL), 0);
	assert_memory_equal(a, "017f22e2-79b0-7", 15);
}

static void test_uuid7_refuses_times_outside_48_bits(void **state)
{
	struct alog_err err = { 0 };
	char a[37];

	(void)state;
	assert_int_equal(alog_uuid7(-1, a, &err), ALOG_EINVAL);
	assert_int_equal(alog_uuid7((INT64_C(1) << 48) * 1000, a, &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_uuid7((INT64_C(1) << 48) * 1000 - 1, a, &err),
			 0);
	assert_memory_equal(a, "ffffffff-ffff-7", 15);
	assert_int_equal(alog_uuid7(0, a, &err), 0);
	assert_memory_equal(a, "00000000-0000-7000-", 19);
}

static void test_clock_now_is_after_2020(void **state)
{
	(void)state;
	/* 2020-01-01T00:00:00Z = 1577836800 s */
	assert_true(alog_clock_now_us() > INT64_C(1577836800000000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_format_writes_known_values),
		cmocka_unit_test(
			test_time_format_in_the_same_second_and_across_it),
		cmocka_unit_test(
			test_time_format_refuses_years_outside_0000_to_9999),
		cmocka_unit_test(test_time_parse_reads_back_every_known_value),
		cmocka_unit_test(
			test_time_parse_record_accepts_exactly_the_format),
		cmocka_unit_test(
			test_time_parse_applies_offsets_and_truncates_fractions),
		cmocka_unit_test(
			test_time_parse_refuses_invalid_dates_and_times),
		cmocka_unit_test(
			test_time_parse_accepts_a_bare_date_only_when_allowed),
		cmocka_unit_test(
			test_time_format_and_parse_agree_with_gmtime_over_the_range),
		cmocka_unit_test(test_uuid7_has_version_variant_and_timestamp),
		cmocka_unit_test(test_uuid7_timestamp_matches_rfc9562_example),
		cmocka_unit_test(test_uuid7_refuses_times_outside_48_bits),
		cmocka_unit_test(test_clock_now_is_after_2020),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
