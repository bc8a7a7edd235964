/*
 * test_breaker: the circuit breaker state machine (SPEC.md "Circuit
 * breakers") driven by an injected clock: every transition and its cause,
 * the open timer (exact deadlines when the tick is late), backoff growth
 * and cap (V-BREAKER-1, V-BREAKER-2, computed by hand from the SPEC
 * formula), the failure rate with its minimum calls and window edges,
 * half-open probe counting and the in-flight limit, forced open and
 * reset, and the breaker.transition members (V-BREAKER-EVENT-1, whose time
 * text is V-TIME-3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/breaker.h"

#define S(x) ((int64_t)(x) * INT64_C(1000000))
#define MS(x) ((int64_t)(x) * INT64_C(1000))
#define LOG_MAX 256

/* Every reported transition, in order. */
struct rec {
	struct alog_breaker_transition t[LOG_MAX];
	size_t n;
};

static void on_transition(void *ctx, const struct alog_breaker_transition *t)
{
	struct rec *r = ctx;

	assert_true(r->n < LOG_MAX);
	r->t[r->n++] = *t;
}

static struct alog_breaker_config base_cfg(void)
{
	struct alog_breaker_config c;

	memset(&c, 0, sizeof(c));
	c.threshold = 3;
	c.open_timeout_ms = 1000;
	c.backoff_permille = 1000;
	c.open_timeout_max_ms = 1000;
	c.probes = 1;
	return c;
}

static void start(struct alog_breaker *b, const struct alog_breaker_config *c,
		  struct rec *r, int64_t now)
{
	struct alog_err err = { 0 };

	memset(r, 0, sizeof(*r));
	assert_int_equal(alog_breaker_init(b, c, now, on_transition, r, &err),
			 0);
}

static void expect(const struct rec *r, size_t i,
		   enum alog_breaker_state from, enum alog_breaker_state to,
		   enum alog_breaker_cause cause, int64_t at_us)
{
	assert_true(i < r->n);
	assert_int_equal(r->t[i].from, from);
	assert_int_equal(r->t[i].to, to);
	assert_int_equal(r->t[i].cause, cause);
	assert_int_equal(r->t[i].at_us, at_us);
}

/* Drive b to open with threshold failures at time t. */
static void trip(struct alog_breaker *b, int64_t t, uint32_t threshold)
{
	uint32_t i;

	for (i = 0; i < threshold; i++)
		alog_breaker_record(b, t, 0);
	assert_int_equal(alog_breaker_state(b), ALOG_BREAKER_OPEN);
}

static void test_breaker_state_and_cause_names_are_the_spec_strings(
	void **state)
{
	static const char *const states[] = { "closed", "open", "half_open" };
	static const char *const causes[] = {
		"failure_threshold", "failure_rate", "open_timeout",
		"probe_success", "probe_failure", "forced_open", "reset",
	};
	enum alog_breaker_state s;
	enum alog_breaker_cause c;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_string_equal(
			alog_breaker_state_name((enum alog_breaker_state)i),
			states[i]);
		assert_int_equal(alog_breaker_state_parse(
				 states[i], strlen(states[i]), &s), 0);
		assert_int_equal(s, (int)i);
	}
	for (i = 0; i < 7; i++) {
		assert_string_equal(
			alog_breaker_cause_name((enum alog_breaker_cause)i),
			causes[i]);
		assert_int_equal(alog_breaker_cause_parse(
				 causes[i], strlen(causes[i]), &c), 0);
		assert_int_equal(c, (int)i);
	}
	assert_null(alog_breaker_state_name((enum alog_breaker_state)3));
	assert_null(alog_breaker_cause_name((enum alog_breaker_cause)7));
	assert_int_equal(alog_breaker_state_parse("half-open", 9, &s),
			 ALOG_EINVAL);
	assert_int_equal(alog_breaker_state_parse("open", 3, &s),
			 ALOG_EINVAL);
	assert_int_equal(alog_breaker_cause_parse("resets", 6, &c),
			 ALOG_EINVAL);
	assert_int_equal(alog_breaker_cause_parse("", 0, &c), ALOG_EINVAL);
}

static void test_breaker_config_check_accepts_limits_and_refuses_one_past(
	void **state)
{
	struct alog_breaker_config c;
	struct alog_breaker b;
	struct alog_err err = { 0 };

	(void)state;
#define REFUSED(field, value)                                               \
	do {                                                                \
		c = base_cfg();                                             \
		c.rate_permille = 500;                                      \
		c.window_us = S(10);                                        \
		c.min_calls = 5;                                            \
		c.field = value;                                            \
		assert_int_equal(alog_breaker_config_check(&c, &err),      \
				 ALOG_EINVAL);                              \
	} while (0)
#define ACCEPTED(field, value)                                              \
	do {                                                                \
		c = base_cfg();                                             \
		c.open_timeout_max_ms = ALOG_BREAKER_OPEN_TIMEOUT_MAX_MS;   \
		c.rate_permille = 500;                                      \
		c.window_us = S(10);                                        \
		c.min_calls = 5;                                            \
		c.field = value;                                            \
		assert_int_equal(alog_breaker_config_check(&c, &err), 0);  \
	} while (0)
	ACCEPTED(threshold, 1);
	ACCEPTED(threshold, ALOG_BREAKER_THRESHOLD_MAX);
	REFUSED(threshold, 0);
	REFUSED(threshold, ALOG_BREAKER_THRESHOLD_MAX + 1);
	ACCEPTED(rate_permille, 1000);
	REFUSED(rate_permille, 1001);
	ACCEPTED(window_us, ALOG_BREAKER_WINDOW_BUCKETS);
	ACCEPTED(window_us, ALOG_BREAKER_WINDOW_MAX_US);
	REFUSED(window_us, 0);
	REFUSED(window_us, ALOG_BREAKER_WINDOW_BUCKETS + 1);
	REFUSED(window_us, ALOG_BREAKER_WINDOW_MAX_US +
			   ALOG_BREAKER_WINDOW_BUCKETS);
	ACCEPTED(min_calls, 1);
	ACCEPTED(min_calls, ALOG_BREAKER_MIN_CALLS_MAX);
	REFUSED(min_calls, 0);
	REFUSED(min_calls, ALOG_BREAKER_MIN_CALLS_MAX + 1);
	ACCEPTED(open_timeout_ms, 1);
	ACCEPTED(open_timeout_ms, ALOG_BREAKER_OPEN_TIMEOUT_MAX_MS);
	REFUSED(open_timeout_ms, 0);
	REFUSED(open_timeout_ms, ALOG_BREAKER_OPEN_TIMEOUT_MAX_MS + 1);
	ACCEPTED(backoff_permille, ALOG_BREAKER_BACKOFF_MAX_PERMILLE);
	REFUSED(backoff_permille, 999);
	REFUSED(backoff_permille, ALOG_BREAKER_BACKOFF_MAX_PERMILLE + 1);
	REFUSED(open_timeout_max_ms, 999); /* below open_timeout_ms 1000 */
	REFUSED(open_timeout_max_ms, ALOG_BREAKER_OPEN_TIMEOUT_MAX_MS + 1);
	ACCEPTED(probes, ALOG_BREAKER_PROBES_MAX);
	REFUSED(probes, 0);
	REFUSED(probes, ALOG_BREAKER_PROBES_MAX + 1);
#undef REFUSED
#undef ACCEPTED
	/* The window and min calls are not checked when the rate is off. */
	c = base_cfg();
	c.window_us = 7;
	assert_int_equal(alog_breaker_config_check(&c, &err), 0);
	/* init refuses a bad config, naming the field, and leaves b zero. */
	c = base_cfg();
	c.probes = 0;
	memset(&b, 0xff, sizeof(b));
	assert_int_equal(alog_breaker_init(&b, &c, 0, NULL, NULL, &err),
			 ALOG_EINVAL);
	assert_non_null(strstr(err.msg, "probes"));
	assert_int_equal(b.state, 0);
	assert_int_equal(b.opens, 0);
}

static void test_breaker_opens_after_threshold_consecutive_failures(
	void **state)
{
	struct alog_breaker_config c = base_cfg();
	struct alog_breaker b;
	struct rec r;

	(void)state;
	start(&b, &c, &r, S(1));
	assert_int_equal(alog_breaker_allow(&b, S(1)), 1);
	assert_int_equal(alog_breaker_record(&b, S(1), 0), 0);
	assert_int_equal(alog_breaker_record(&b, S(2), 0), 0);
	/* A success in between starts the count again. */
	assert_int_equal(alog_breaker_record(&b, S(3), 1), 0);
	assert_int_equal(alog_breaker_record(&b, S(4), 0), 0);
	assert_int_equal(alog_breaker_record(&b, S(5), 0), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(alog_breaker_next_deadline(&b), INT64_MAX);
	assert_int_equal(alog_breaker_record(&b, S(6), 0), 1);
	expect(&r, 0, ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN,
	       ALOG_BREAKER_FAILURE_THRESHOLD, S(6));
	assert_int_equal(r.t[0].consecutive_failures, 3);
	assert_int_equal(r.t[0].opens, 1);
	assert_int_equal(r.t[0].open_timeout_ms, 1000);
	/* No rate rule: the window counts nothing. */
	assert_int_equal(r.t[0].window_calls, 0);
	assert_int_equal(r.t[0].window_failures, 0);
	assert_int_equal(alog_breaker_state(&b), ALOG_BREAKER_OPEN);
	assert_int_equal(alog_breaker_next_deadline(&b), S(6) + MS(1000));
	assert_int_equal(alog_breaker_allow(&b, S(6) + MS(999)), 0);
	assert_int_equal(alog_breaker_generation(&b), 1);
}

static void test_breaker_half_opens_at_the_deadline_even_when_tick_is_late(
	void **state)
{
	struct alog_breaker_config c = base_cfg();
	struct alog_breaker b;
	struct rec r;

	(void)state;
	c.open_timeout_ms = 1500;
	c.open_timeout_max_ms = 1500;
	start(&b, &c, &r, S(10));
	trip(&b, S(10), 3);
	assert_int_equal(alog_breaker_next_deadline(&b), S(10) + MS(1500));
	/* One microsecond early: nothing. */
	assert_int_equal(alog_breaker_tick(&b, S(10) + MS(1500) - 1), 0);
	assert_int_equal(r.n, 1);
	/* Very late: the transition carries the deadline, not the tick. */
	assert_int_equal(alog_breaker_tick(&b, S(25)), 1);
	expect(&r, 1, ALOG_BREAKER_OPEN, ALOG_BREAKER_HALF_OPEN,
	       ALOG_BREAKER_OPEN_TIMEOUT, S(10) + MS(1500));
	assert_int_equal(r.t[1].open_timeout_ms, 1500);
	assert_int_equal(r.t[1].consecutive_failures, 3);
	assert_int_equal(r.t[1].opens, 1);
	assert_int_equal(alog_breaker_next_deadline(&b), INT64_MAX);
	assert_int_equal(alog_breaker_tick(&b, S(26)), 0);

	/* A tick exactly at the deadline fires. */
	start(&b, &c, &r, S(10));
	trip(&b, S(10), 3);
	assert_int_equal(alog_breaker_tick(&b, S(10) + MS(1500)), 1);
	expect(&r, 1, ALOG_BREAKER_OPEN, ALOG_BREAKER_HALF_OPEN,
	       ALOG_BREAKER_OPEN_TIMEOUT, S(10) + MS(1500));

	/* Without any tick, the next call performs the due transition
	 * first, at the deadline, and is then answered in half_open. */
	start(&b, &c, &r, S(10));
	trip(&b, S(10), 3);
	assert_int_equal(alog_breaker_allow(&b, S(40)), 1);
	assert_int_equal(r.n, 2);
	expect(&r, 1, ALOG_BREAKER_OPEN, ALOG_BREAKER_HALF_OPEN,
	       ALOG_BREAKER_OPEN_TIMEOUT, S(10) + MS(1500));
	/* The probe's result comes at its own time. */
	assert_int_equal(alog_breaker_record(&b, S(41), 1), 1);
	expect(&r, 2, ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_CLOSED,
	       ALOG_BREAKER_PROBE_SUCCESS, S(41));
	assert_int_equal(r.t[2].consecutive_failures, 0);
	assert_int_equal(r.t[2].open_timeout_ms, 0);
}

/* V-BREAKER-1: base 1000 ms, backoff 2000 per mille, cap 5000 ms; each
 * probe fails at once. Open periods: 1000, 2000, 4000, 5000 (8000 capped),
 * 5000; after a close the next open is 1000 again. */
static void test_breaker_backoff_grows_on_each_reopen_and_stops_at_the_cap(
	void **state)
{
	static const int64_t periods_ms[] = { 1000, 2000, 4000, 5000, 5000 };
	struct alog_breaker_config c = base_cfg();
	struct alog_breaker b;
	struct rec r;
	int64_t t = S(100), deadline;
	size_t i;

	(void)state;
	c.backoff_permille = 2000;
	c.open_timeout_max_ms = 5000;
	start(&b, &c, &r, t);
	trip(&b, t, 3);
	for (i = 0; i < 5; i++) {
		const struct alog_breaker_transition *o = &r.t[r.n - 1];

		assert_int_equal(o->to, ALOG_BREAKER_OPEN);
		assert_int_equal(o->open_timeout_ms, periods_ms[i]);
		assert_int_equal(o->opens, i + 1);
		deadline = o->at_us + MS(periods_ms[i]);
		assert_int_equal(alog_breaker_next_deadline(&b), deadline);
		/* Tick 7 ms late; the probe fails 3 ms after that. */
		assert_int_equal(alog_breaker_tick(&b, deadline + MS(7)), 1);
		expect(&r, r.n - 1, ALOG_BREAKER_OPEN, ALOG_BREAKER_HALF_OPEN,
		       ALOG_BREAKER_OPEN_TIMEOUT, deadline);
		assert_int_equal(r.t[r.n - 1].open_timeout_ms, periods_ms[i]);
		t = deadline + MS(10);
		assert_int_equal(alog_breaker_allow(&b, t), 1);
		if (i < 4) {
			assert_int_equal(alog_breaker_record(&b, t, 0), 1);
			expect(&r, r.n - 1, ALOG_BREAKER_HALF_OPEN,
			       ALOG_BREAKER_OPEN, ALOG_BREAKER_PROBE_FAILURE,
			       t);
			assert_int_equal(r.t[r.n - 1].consecutive_failures,
					 3 + i + 1);
		}
	}
	/* The fifth probe succeeds: closed, and the backoff starts over. */
	assert_int_equal(alog_breaker_record(&b, t, 1), 1);
	assert_int_equal(alog_breaker_state(&b), ALOG_BREAKER_CLOSED);
	trip(&b, t + S(1), 3);
	assert_int_equal(r.t[r.n - 1].open_timeout_ms, 1000);
	assert_int_equal(r.t[r.n - 1].opens, 6);
}

/* V-BREAKER-2: floor rounding: base 1001 ms, backoff 1500 per mille, cap
 * 3000 ms: 1001, floor(1501.5) = 1501, floor(2251.5) = 2251, 3000
 * (floor(3376.5) = 3376 capped). */
static void test_breaker_backoff_rounds_down_to_whole_milliseconds(
	void **state)
{
	static const uint64_t periods_ms[] = { 1001, 1501, 2251, 3000 };
	struct alog_breaker_config c = base_cfg();
	struct alog_breaker b;
	struct rec r;
	int64_t t = 0;
	size_t i;

	(void)state;
	c.open_timeout_ms = 1001;
	c.backoff_permille = 1500;
	c.open_timeout_max_ms = 3000;
	start(&b, &c, &r, t);
	trip(&b, t, 3);
	for (i = 0; i < 4; i++) {
		assert_int_equal(r.t[r.n - 1].open_timeout_ms, periods_ms[i]);
		t = alog_breaker_next_deadline(&b);
		assert_int_equal(alog_breaker_allow(&b, t), 1);
		/* allow performed the timed transition; the failed probe
		 * reopens. */
		assert_int_equal(alog_breaker_record(&b, t, 0), 1);
	}
}

static void test_breaker_half_open_admits_only_the_probes_still_needed(
	void **state)
{
	struct alog_breaker_config c = base_cfg();
	struct alog_breaker b;
	struct rec r;
	int64_t t;

	(void)state;
	c.probes = 3;
	start(&b, &c, &r, 0);
	trip(&b, 0, 3);
	t = alog_breaker_next_deadline(&b);
	assert_int_equal(alog_breaker_tick(&b, t), 1);
	/* Three in flight at most. */
	assert_int_equal(alog_breaker_allow(&b, t), 1);
	assert_int_equal(alog_breaker_allow(&b, t), 1);
	assert_int_equal(alog_breaker_allow(&b, t), 1);
	assert_int_equal(alog_breaker_allow(&b, t), 0);
	/* One success: two more needed, two in flight: none admitted. */
	assert_int_equal(alog_breaker_record(&b, t + 1, 1), 0);
	assert_int_equal(alog_breaker_state(&b), ALOG_BREAKER_HALF_OPEN);
	assert_int_equal(alog_breaker_allow(&b, t + 1), 0);
	/* Second success: one needed, one in flight: none admitted. */
	assert_int_equal(alog_breaker_record(&b, t + 2, 1), 0);
	assert_int_equal(alog_breaker_allow(&b, t + 2), 0);
	/* Third success closes. */
	assert_int_equal(alog_breaker_record(&b, t + 3, 1), 1);
	expect(&r, 2, ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_CLOSED,
	       ALOG_BREAKER_PROBE_SUCCESS, t + 3);
	assert_int_equal(alog_breaker_allow(&b, t + 3), 1);
	assert_int_equal(alog_breaker_allow(&b, t + 3), 1); /* closed: any */

	/* Sequential probes: after one success with none in flight, the
	 * next probe is admitted; a failure reopens at once. */
	start(&b, &c, &r, 0);
	trip(&b, 0, 3);
	t = alog_breaker_next_deadline(&b);
	assert_int_equal(alog_breaker_allow(&b, t), 1);
	assert_int_equal(alog_breaker_record(&b, t, 1), 0);
	assert_int_equal(alog_breaker_allow(&b, t + 5), 1);
	assert_int_equal(alog_breaker_allow(&b, t + 5), 1);
	assert_int_equal(alog_breaker_allow(&b, t + 5), 0);
	assert_int_equal(alog_breaker_record(&b, t + 6, 0), 1);
	expect(&r, 2, ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_OPEN,
	       ALOG_BREAKER_PROBE_FAILURE, t + 6);
	assert_int_equal(r.t[2].consecutive_failures, 1);
	assert_int_equal(r.t[2].opens, 2);
	/* The other probe's late result is ignored in open. */
	assert_int_equal(alog_breaker_record(&b, t + 7, 1), 0);
	assert_int_equal(alog_breaker_state(&b), ALOG_BREAKER_OPEN);
	assert_int_equal(r.n, 3);
}

static void test_breaker_half_open_ignores_results_without_a_probe_in_flight(
	void **state)
{
	struct alog_breaker_config c = base_cfg();
	struct alog_breaker b;
	struct rec r;
	int64_t t;

	(void)state;
	start(&b, &c, &r, 0);
	trip(&b, 0, 3);
	/* Results while open change nothing (not even the counters). */
	assert_int_equal(alog_breaker_record(&b, 10, 0), 0);
	assert_int_equal(alog_breaker_record(&b, 20, 1), 0);
	t = alog_breaker_next_deadline(&b);
	assert_int_equal(alog_breaker_tick(&b, t), 1);
	assert_int_equal(r.t[1].consecutive_failures, 3);
	/* A result of a call admitted before half_open: ignored. */
	assert_int_equal(alog_breaker_record(&b, t + 1, 1), 0);
	assert_int_equal(alog_breaker_record(&b, t + 2, 0), 0);
	assert_int_equal(alog_breaker_state(&b), ALOG_BREAKER_HALF_OPEN);
	assert_int_equal(r.n, 2);
}

static struct alog_breaker_config rate_cfg(void)
{
	struct alog_breaker_config c = base_cfg();

	c.threshold = ALOG_BREAKER_THRESHOLD_MAX;
	c.rate_permille = 500;
	c.window_us = S(10); /* buckets of 100 ms */
	c.min_calls = 4;
	return c;
}

static void test_breaker_rate_opens_only_once_the_window_holds_min_calls(
	void **state)
{
	struct alog_breaker_config c = rate_cfg();
	struct alog_breaker b;
	struct rec r;

	(void)state;
	start(&b, &c, &r, 0);
	/* 100 % failures but only 3 calls: below min_calls 4. */
	assert_int_equal(alog_breaker_record(&b, MS(1), 0), 0);
	assert_int_equal(alog_breaker_record(&b, MS(2), 0), 0);
	assert_int_equal(alog_breaker_record(&b, MS(3), 0), 0);
	/* The fourth call is a success: 3 of 4 failed, but the rate is
	 * judged only when a failure is recorded. */
	assert_int_equal(alog_breaker_record(&b, MS(4), 1), 0);
	assert_int_equal(alog_breaker_record(&b, MS(5), 0), 1);
	expect(&r, 0, ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN,
	       ALOG_BREAKER_FAILURE_RATE, MS(5));
	assert_int_equal(r.t[0].window_calls, 5);
	assert_int_equal(r.t[0].window_failures, 4);
	assert_int_equal(r.t[0].consecutive_failures, 1);

	/* Exactly the rate (2 of 4 = 500 per mille) opens. */
	start(&b, &c, &r, 0);
	alog_breaker_record(&b, MS(1), 1);
	alog_breaker_record(&b, MS(2), 1);
	alog_breaker_record(&b, MS(3), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(alog_breaker_record(&b, MS(4), 0), 1);
	assert_int_equal(r.t[0].cause, ALOG_BREAKER_FAILURE_RATE);
	assert_int_equal(r.t[0].window_calls, 4);
	assert_int_equal(r.t[0].window_failures, 2);

	/* Just below (2 of 5 = 400 per mille) does not. */
	start(&b, &c, &r, 0);
	alog_breaker_record(&b, MS(1), 1);
	alog_breaker_record(&b, MS(2), 1);
	alog_breaker_record(&b, MS(3), 1);
	alog_breaker_record(&b, MS(4), 0);
	assert_int_equal(alog_breaker_record(&b, MS(5), 0), 0);
	assert_int_equal(alog_breaker_state(&b), ALOG_BREAKER_CLOSED);

	/* The consecutive rule is checked first and names its cause. */
	c.threshold = 2;
	start(&b, &c, &r, 0);
	alog_breaker_record(&b, MS(1), 1);
	alog_breaker_record(&b, MS(2), 1);
	alog_breaker_record(&b, MS(3), 0);
	assert_int_equal(alog_breaker_record(&b, MS(4), 0), 1);
	assert_int_equal(r.t[0].cause, ALOG_BREAKER_FAILURE_THRESHOLD);
}

/* The window at time t is the buckets k with cur - 100 < k <= cur. */
static void window_at(int64_t probe_at, uint64_t *calls, uint64_t *failures)
{
	struct alog_breaker_config c = rate_cfg();
	struct alog_breaker b;
	struct rec r;

	c.min_calls = 1000; /* never opens by rate here */
	start(&b, &c, &r, 0);
	alog_breaker_record(&b, MS(50), 0);  /* bucket 0 */
	alog_breaker_record(&b, MS(150), 1); /* bucket 1 */
	alog_breaker_record(&b, MS(9950), 1);/* bucket 99 */
	/* force_open reports the window as it stands at probe_at. */
	assert_int_equal(alog_breaker_force_open(&b, probe_at), 1);
	*calls = r.t[0].window_calls;
	*failures = r.t[0].window_failures;
}

static void test_breaker_rate_window_drops_buckets_older_than_the_window(
	void **state)
{
	uint64_t calls, failures;

	(void)state;
	window_at(MS(9999), &calls, &failures);        /* cur 99 */
	assert_int_equal(calls, 3);
	assert_int_equal(failures, 1);
	window_at(MS(10000), &calls, &failures);       /* cur 100: 0 out */
	assert_int_equal(calls, 2);
	assert_int_equal(failures, 0);
	window_at(MS(10099), &calls, &failures);
	assert_int_equal(calls, 2);
	window_at(MS(10100), &calls, &failures);       /* cur 101: 1 out */
	assert_int_equal(calls, 1);
	window_at(MS(20000), &calls, &failures);       /* cur 200: all out */
	assert_int_equal(calls, 0);
	assert_int_equal(failures, 0);
}

static void test_breaker_rate_forgets_old_failures(void **state)
{
	struct alog_breaker_config c = rate_cfg();
	struct alog_breaker b;
	struct rec r;
	int64_t t;

	(void)state;
	start(&b, &c, &r, 0);
	alog_breaker_record(&b, MS(1), 0);
	alog_breaker_record(&b, MS(2), 0);
	alog_breaker_record(&b, MS(3), 0);
	/* Ten seconds later the three failures (bucket 0) have left the
	 * window, and bucket 100 reuses their slot: 1 failure of 4 calls
	 * stays below 500 per mille. */
	t = S(10) + MS(1);
	alog_breaker_record(&b, t, 1);
	alog_breaker_record(&b, t, 1);
	alog_breaker_record(&b, t, 1);
	assert_int_equal(alog_breaker_record(&b, t, 0), 0);
	assert_int_equal(alog_breaker_state(&b), ALOG_BREAKER_CLOSED);
	/* The same slots are reused without leaking old counts:
	 * 2 failures of 5 calls, still below. */
	assert_int_equal(alog_breaker_record(&b, t + MS(1), 0), 0);
	/* 3 of 6: opens. */
	assert_int_equal(alog_breaker_record(&b, t + MS(2), 0), 1);
	assert_int_equal(r.t[0].window_calls, 6);
	assert_int_equal(r.t[0].window_failures, 3);
}

static void test_breaker_close_clears_the_window_and_the_failure_count(
	void **state)
{
	struct alog_breaker_config c = rate_cfg();
	struct alog_breaker b;
	struct rec r;
	int64_t t;

	(void)state;
	c.threshold = 5;
	start(&b, &c, &r, 0);
	alog_breaker_record(&b, MS(1), 1);
	alog_breaker_record(&b, MS(2), 1);
	alog_breaker_record(&b, MS(3), 0);
	assert_int_equal(alog_breaker_record(&b, MS(4), 0), 1);
	t = alog_breaker_next_deadline(&b);
	assert_int_equal(alog_breaker_allow(&b, t), 1);
	assert_int_equal(alog_breaker_record(&b, t, 1), 1);
	expect(&r, 2, ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_CLOSED,
	       ALOG_BREAKER_PROBE_SUCCESS, t);
	assert_int_equal(r.t[2].window_calls, 0);
	assert_int_equal(r.t[2].window_failures, 0);
	/* The old 2 of 4 are gone: 3 new failures of 3 calls stay below
	 * min_calls, the fourth failure opens with 4 of 4. */
	alog_breaker_record(&b, t + 1, 0);
	alog_breaker_record(&b, t + 2, 0);
	assert_int_equal(alog_breaker_record(&b, t + 3, 0), 0);
	assert_int_equal(alog_breaker_record(&b, t + 4, 0), 1);
	assert_int_equal(r.t[3].window_calls, 4);
	assert_int_equal(r.t[3].window_failures, 4);
	assert_int_equal(r.t[3].cause, ALOG_BREAKER_FAILURE_RATE);
}

static void test_breaker_force_open_holds_until_reset(void **state)
{
	struct alog_breaker_config c = base_cfg();
	struct alog_breaker b;
	struct rec r;

	(void)state;
	start(&b, &c, &r, 0);
	assert_int_equal(alog_breaker_force_open(&b, S(5)), 1);
	expect(&r, 0, ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN,
	       ALOG_BREAKER_FORCED_OPEN, S(5));
	assert_int_equal(r.t[0].opens, 1);
	assert_int_equal(r.t[0].open_timeout_ms, 0);
	assert_true(alog_breaker_forced(&b));
	assert_int_equal(alog_breaker_next_deadline(&b), INT64_MAX);
	/* No timer, no probes, results ignored, for as long as it takes. */
	assert_int_equal(alog_breaker_tick(&b, S(86400 * 365)), 0);
	assert_int_equal(alog_breaker_allow(&b, S(86400 * 365)), 0);
	assert_int_equal(alog_breaker_record(&b, S(86400 * 365), 1), 0);
	/* Forcing again changes nothing and reports nothing. */
	assert_int_equal(alog_breaker_force_open(&b, S(86400 * 366)), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(alog_breaker_reset(&b, S(86400 * 367)), 1);
	expect(&r, 1, ALOG_BREAKER_OPEN, ALOG_BREAKER_CLOSED,
	       ALOG_BREAKER_RESET, S(86400 * 367));
	assert_false(alog_breaker_forced(&b));
	assert_int_equal(alog_breaker_allow(&b, S(86400 * 367)), 1);

	/* From a timed open: open -> open, the timer is cancelled, the
	 * open count does not grow. */
	start(&b, &c, &r, 0);
	trip(&b, 0, 3);
	assert_int_equal(alog_breaker_force_open(&b, MS(500)), 1);
	expect(&r, 1, ALOG_BREAKER_OPEN, ALOG_BREAKER_OPEN,
	       ALOG_BREAKER_FORCED_OPEN, MS(500));
	assert_int_equal(r.t[1].opens, 1);
	assert_int_equal(alog_breaker_next_deadline(&b), INT64_MAX);
	assert_int_equal(alog_breaker_tick(&b, S(60)), 0);
	assert_int_equal(alog_breaker_state(&b), ALOG_BREAKER_OPEN);

	/* From half_open: probes in flight are dropped. */
	start(&b, &c, &r, 0);
	trip(&b, 0, 3);
	assert_int_equal(alog_breaker_allow(&b, S(1)), 1);
	assert_int_equal(alog_breaker_force_open(&b, S(2)), 1);
	expect(&r, 2, ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_OPEN,
	       ALOG_BREAKER_FORCED_OPEN, S(2));
	assert_int_equal(r.t[2].opens, 2);
	assert_int_equal(alog_breaker_record(&b, S(3), 1), 0);
	assert_int_equal(alog_breaker_state(&b), ALOG_BREAKER_OPEN);

	/* A due timed transition happens first, at its deadline. */
	start(&b, &c, &r, 0);
	trip(&b, 0, 3);
	assert_int_equal(alog_breaker_force_open(&b, S(9)), 2);
	expect(&r, 1, ALOG_BREAKER_OPEN, ALOG_BREAKER_HALF_OPEN,
	       ALOG_BREAKER_OPEN_TIMEOUT, S(1));
	expect(&r, 2, ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_OPEN,
	       ALOG_BREAKER_FORCED_OPEN, S(9));
}

static void test_breaker_reset_returns_to_closed_from_every_state(
	void **state)
{
	struct alog_breaker_config c = base_cfg();
	struct alog_breaker b;
	struct rec r;

	(void)state;
	c.backoff_permille = 2000;
	c.open_timeout_max_ms = 60000;

	/* closed: counters cleared, nothing reported. */
	start(&b, &c, &r, 0);
	alog_breaker_record(&b, 1, 0);
	alog_breaker_record(&b, 2, 0);
	assert_int_equal(alog_breaker_reset(&b, 3), 0);
	assert_int_equal(r.n, 0);
	alog_breaker_record(&b, 4, 0);
	assert_int_equal(alog_breaker_record(&b, 5, 0), 0); /* 2 of 3 */
	assert_int_equal(alog_breaker_state(&b), ALOG_BREAKER_CLOSED);

	/* open (after a backed-off reopen): closed, and the backoff starts
	 * over. */
	start(&b, &c, &r, 0);
	trip(&b, 0, 3);
	assert_int_equal(alog_breaker_allow(&b, S(1)), 1);
	alog_breaker_record(&b, S(1), 0);
	assert_int_equal(r.t[r.n - 1].open_timeout_ms, 2000);
	assert_int_equal(alog_breaker_reset(&b, S(2)), 1);
	expect(&r, r.n - 1, ALOG_BREAKER_OPEN, ALOG_BREAKER_CLOSED,
	       ALOG_BREAKER_RESET, S(2));
	assert_int_equal(r.t[r.n - 1].consecutive_failures, 0);
	assert_int_equal(r.t[r.n - 1].open_timeout_ms, 0);
	assert_int_equal(r.t[r.n - 1].opens, 2);
	assert_int_equal(alog_breaker_next_deadline(&b), INT64_MAX);
	trip(&b, S(3), 3);
	assert_int_equal(r.t[r.n - 1].open_timeout_ms, 1000);

	/* half_open. */
	start(&b, &c, &r, 0);
	trip(&b, 0, 3);
	assert_int_equal(alog_breaker_tick(&b, S(1)), 1);
	assert_int_equal(alog_breaker_reset(&b, S(1)), 1);
	expect(&r, 2, ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_CLOSED,
	       ALOG_BREAKER_RESET, S(1));

	/* forced open: covered in the force-open test; a reset twice
	 * reports once. */
	start(&b, &c, &r, 0);
	alog_breaker_force_open(&b, 1);
	assert_int_equal(alog_breaker_reset(&b, 2), 1);
	assert_int_equal(alog_breaker_reset(&b, 3), 0);
	assert_int_equal(r.n, 2);
}

/* A scripted run with repeated ticks and calls at the same instants:
 * every transition comes once, the chain from -> to is unbroken, times
 * never decrease, and the generation counts the reports. */
static void test_breaker_reports_every_transition_once_in_order(void **state)
{
	struct alog_breaker_config c = base_cfg();
	struct alog_breaker b;
	struct rec r;
	int64_t t = S(1000), d;
	size_t i;
	int k, total = 0;

	(void)state;
	c.threshold = 2;
	c.backoff_permille = 1500;
	c.open_timeout_max_ms = 4000;
	c.probes = 2;
	start(&b, &c, &r, t);
	for (k = 0; k < 30; k++) {
		int j;

		/* Two failures open it. */
		total += alog_breaker_record(&b, t, 0);
		total += alog_breaker_record(&b, t, 0);
		d = alog_breaker_next_deadline(&b);
		for (j = 0; j < 3; j++)
			total += alog_breaker_tick(&b, d - 1);
		for (j = 0; j < 3; j++)
			total += alog_breaker_tick(&b, d + j);
		t = d + 10;
		if (k % 3 == 0) {
			/* probe fails, then the next period passes and
			 * two probes succeed */
			assert_int_equal(alog_breaker_allow(&b, t), 1);
			total += alog_breaker_record(&b, t, 0);
			t = alog_breaker_next_deadline(&b);
		}
		if (k % 5 == 4) {
			total += alog_breaker_force_open(&b, t);
			total += alog_breaker_force_open(&b, t);
			total += alog_breaker_reset(&b, t + 1);
			total += alog_breaker_reset(&b, t + 1);
			t += 2;
			continue;
		}
		total += alog_breaker_tick(&b, t);
		assert_int_equal(alog_breaker_allow(&b, t), 1);
		assert_int_equal(alog_breaker_allow(&b, t), 1);
		total += alog_breaker_record(&b, t, 1);
		total += alog_breaker_record(&b, t + 1, 1);
		assert_int_equal(alog_breaker_state(&b), ALOG_BREAKER_CLOSED);
		t += 2;
	}
	assert_int_equal((size_t)total, r.n);
	assert_int_equal(alog_breaker_generation(&b), r.n);
	assert_true(r.n > 60);
	assert_int_equal(r.t[0].from, ALOG_BREAKER_CLOSED);
	for (i = 1; i < r.n; i++) {
		assert_int_equal(r.t[i].from, r.t[i - 1].to);
		assert_true(r.t[i].at_us >= r.t[i - 1].at_us);
		assert_false(r.t[i].from == r.t[i].to &&
			     r.t[i].cause != ALOG_BREAKER_FORCED_OPEN);
		assert_false(r.t[i].from == r.t[i - 1].from &&
			     r.t[i].to == r.t[i - 1].to &&
			     r.t[i].cause == r.t[i - 1].cause &&
			     r.t[i].at_us == r.t[i - 1].at_us);
	}
}

static void test_breaker_takes_an_earlier_time_as_the_latest_seen(
	void **state)
{
	struct alog_breaker_config c = base_cfg();
	struct alog_breaker b;
	struct rec r;

	(void)state;
	start(&b, &c, &r, S(100));
	alog_breaker_record(&b, S(110), 0);
	alog_breaker_record(&b, S(105), 0);
	assert_int_equal(alog_breaker_record(&b, S(90), 0), 1);
	expect(&r, 0, ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN,
	       ALOG_BREAKER_FAILURE_THRESHOLD, S(110));
	assert_int_equal(alog_breaker_next_deadline(&b), S(111));
	/* A call earlier than init is taken as the init time too. */
	start(&b, &c, &r, S(100));
	alog_breaker_force_open(&b, S(1));
	assert_int_equal(r.t[0].at_us, S(100));
}

static void test_breaker_deadline_past_the_end_of_time_never_comes(
	void **state)
{
	struct alog_breaker_config c = base_cfg();
	struct alog_breaker b;
	struct rec r;

	(void)state;
	start(&b, &c, &r, INT64_MAX - 10);
	trip(&b, INT64_MAX - 10, 3);
	assert_int_equal(alog_breaker_next_deadline(&b), INT64_MAX);
	assert_int_equal(alog_breaker_tick(&b, INT64_MAX), 0);
	assert_int_equal(alog_breaker_state(&b), ALOG_BREAKER_OPEN);
	/* Negative times (before 1970) work like any other. */
	start(&b, &c, &r, -S(10));
	trip(&b, -S(10), 3);
	assert_int_equal(alog_breaker_next_deadline(&b), -S(9));
	assert_int_equal(alog_breaker_tick(&b, 0), 1);
	assert_int_equal(r.t[1].at_us, -S(9));
}

static void test_breaker_rate_window_works_before_1970(void **state)
{
	struct alog_breaker_config c = rate_cfg();
	struct alog_breaker b;
	struct rec r;

	(void)state;
	start(&b, &c, &r, -S(20));
	/* Buckets -1 and 0 are neighbours; all four calls count. */
	alog_breaker_record(&b, -MS(50), 1);
	alog_breaker_record(&b, -MS(1), 0);
	alog_breaker_record(&b, 0, 1);
	assert_int_equal(alog_breaker_record(&b, MS(1), 0), 1);
	assert_int_equal(r.t[0].window_calls, 4);
	assert_int_equal(r.t[0].window_failures, 2);
}

/* V-BREAKER-EVENT-1 */
static void test_breaker_transition_format_writes_the_spec_members(
	void **state)
{
	static const char want[] =
		"\"component\":\"primary_store\",\"from\":\"half_open\","
		"\"to\":\"open\",\"cause\":\"probe_failure\","
		"\"at\":\"2024-02-29T12:34:56.789012Z\","
		"\"at_us\":1709210096789012,\"consecutive_failures\":4,"
		"\"window_failures\":3,\"window_calls\":7,\"opens\":2,"
		"\"open_timeout_ms\":30000";
	struct alog_breaker_transition t;
	struct alog_buf out;
	struct alog_err err = { 0 };

	(void)state;
	memset(&t, 0, sizeof(t));
	t.from = ALOG_BREAKER_HALF_OPEN;
	t.to = ALOG_BREAKER_OPEN;
	t.cause = ALOG_BREAKER_PROBE_FAILURE;
	t.at_us = 1709210096789012;
	t.consecutive_failures = 4;
	t.window_failures = 3;
	t.window_calls = 7;
	t.opens = 2;
	t.open_timeout_ms = 30000;
	alog_buf_init(&out, 0);
	assert_int_equal(alog_buf_adds(&out, "{", &err), 0);
	assert_int_equal(alog_breaker_transition_format(&out, "primary_store",
							13, &t, &err), 0);
	assert_string_equal((char *)out.data + 1, want);

	/* Refusals leave out as it was. */
	assert_int_equal(alog_breaker_transition_format(&out, "Primary", 7,
							&t, &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_breaker_transition_format(&out, "a\"b", 3, &t,
							&err),
			 ALOG_EINVAL);
	assert_int_equal(alog_breaker_transition_format(&out, "", 0, &t,
							&err),
			 ALOG_EINVAL);
	t.at_us = INT64_MAX;
	assert_int_equal(alog_breaker_transition_format(&out, "a", 1, &t,
							&err),
			 ALOG_EINVAL);
	t.at_us = 0;
	t.cause = (enum alog_breaker_cause)99;
	assert_int_equal(alog_breaker_transition_format(&out, "a", 1, &t,
							&err),
			 ALOG_EINVAL);
	assert_int_equal(out.len, 1 + strlen(want));
	alog_buf_release(&out);

	/* A buffer limit is ALOG_ELIMIT. */
	t.cause = ALOG_BREAKER_RESET;
	alog_buf_init(&out, 64);
	assert_int_equal(alog_breaker_transition_format(&out, "a", 1, &t,
							&err),
			 ALOG_ELIMIT);
	assert_int_equal(out.len, 0);
	alog_buf_release(&out);
}

static void test_breaker_component_names_follow_the_alphabet(void **state)
{
	char name[ALOG_BREAKER_COMPONENT_MAX + 2];

	(void)state;
	assert_true(alog_breaker_component_valid("a", 1));
	assert_true(alog_breaker_component_valid("dashboard_stats", 15));
	assert_true(alog_breaker_component_valid("api-v2_x9", 9));
	assert_false(alog_breaker_component_valid("", 0));
	assert_false(alog_breaker_component_valid("9a", 2));
	assert_false(alog_breaker_component_valid("_a", 2));
	assert_false(alog_breaker_component_valid("Ab", 2));
	assert_false(alog_breaker_component_valid("a.b", 3));
	assert_false(alog_breaker_component_valid("a b", 3));
	memset(name, 'a', sizeof(name));
	assert_true(alog_breaker_component_valid(name,
						 ALOG_BREAKER_COMPONENT_MAX));
	assert_false(alog_breaker_component_valid(
		name, ALOG_BREAKER_COMPONENT_MAX + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_breaker_state_and_cause_names_are_the_spec_strings),
		cmocka_unit_test(
			test_breaker_config_check_accepts_limits_and_refuses_one_past),
		cmocka_unit_test(
			test_breaker_opens_after_threshold_consecutive_failures),
		cmocka_unit_test(
			test_breaker_half_opens_at_the_deadline_even_when_tick_is_late),
		cmocka_unit_test(
			test_breaker_backoff_grows_on_each_reopen_and_stops_at_the_cap),
		cmocka_unit_test(
			test_breaker_backoff_rounds_down_to_whole_milliseconds),
		cmocka_unit_test(
			test_breaker_half_open_admits_only_the_probes_still_needed),
		cmocka_unit_test(
			test_breaker_half_open_ignores_results_without_a_probe_in_flight),
		cmocka_unit_test(
			test_breaker_rate_opens_only_once_the_window_holds_min_calls),
		cmocka_unit_test(
			test_breaker_rate_window_drops_buckets_older_than_the_window),
		cmocka_unit_test(test_breaker_rate_forgets_old_failures),
		cmocka_unit_test(
			test_breaker_close_clears_the_window_and_the_failure_count),
		cmocka_unit_test(test_breaker_force_open_holds_until_reset),
		cmocka_unit_test(
			test_breaker_reset_returns_to_closed_from_every_state),
		cmocka_unit_test(
			test_breaker_reports_every_transition_once_in_order),
		cmocka_unit_test(
			test_breaker_takes_an_earlier_time_as_the_latest_seen),
		cmocka_unit_test(
			test_breaker_deadline_past_the_end_of_time_never_comes),
		cmocka_unit_test(test_breaker_rate_window_works_before_1970),
		cmocka_unit_test(
			test_breaker_transition_format_writes_the_spec_members),
		cmocka_unit_test(
			test_breaker_component_names_follow_the_alphabet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
