/*
 * test_rules: the detection rules (ingest/rules.h, SPEC.md 11.2) on
 * hand-built event streams. Every expected anomaly is worked out by hand
 * in the comments: vectors V-RULES-1 .. V-RULES-10.
 *
 * Times: M = 2024-03-04T00:00:00Z (a Monday) = 1709510400000000 us (from
 * V-CONFIG-2: 2024-03-04T17:59:59.999999Z = 1709575199999999);
 * SAT = 2024-03-09T12:00:00Z = 1709985600000000 (V-CONFIG-2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/config.h"
#include "ingest/rules.h"

#define S(x) ((int64_t)(x) * INT64_C(1000000))
#define MINS(x) S((int64_t)(x) * 60)
#define HRS(x) S((int64_t)(x) * 3600)
#define M INT64_C(1709510400000000)
#define SAT INT64_C(1709985600000000)

/* What the callback saw. */
struct seen {
	struct alog_rules_anomaly a[64];
	size_t n;
};

static int record(void *ctx, const struct alog_rules_anomaly *a,
		  struct alog_err *err)
{
	struct seen *s = ctx;

	assert_true(s->n < 64);
	s->a[s->n++] = *a;
	return 0;
}

/* A test stream: a built-in configuration, an evaluator, indices from 0. */
struct fx {
	struct alog_config cfg;
	struct alog_rules *r;
	struct seen seen;
	uint64_t next;
};

static void fx_open(struct fx *f, int64_t start)
{
	struct alog_err err = { 0 };

	memset(f, 0, sizeof(*f));
	assert_int_equal(alog_config_builtin(&f->cfg, &err), 0);
	assert_int_equal(alog_rules_new(&f->r, &f->cfg, NULL, start, record,
					&f->seen, &err), 0);
}

static void fx_close(struct fx *f)
{
	alog_rules_free(f->r);
	alog_config_release(&f->cfg);
}

static void fx_finish(struct fx *f, int64_t end)
{
	struct alog_err err = { 0 };

	assert_int_equal(alog_rules_finish(f->r, end, &err), 0);
}

/* Feed ev with the next index; returns the index. */
static uint64_t feed(struct fx *f, struct alog_rules_event *ev)
{
	struct alog_err err = { 0 };

	ev->index = f->next++;
	assert_int_equal(alog_rules_feed(f->r, ev, &err), 0);
	return ev->index;
}

/* An auth.login failure of actor from addr at t (received at t). */
static uint64_t fail_login(struct fx *f, const char *actor, const char *addr,
			   int64_t t)
{
	struct alog_rules_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = ALOG_RULES_EV_AUTH_LOGIN;
	ev.received_us = t;
	ev.has_time = 1;
	ev.time_us = t;
	ev.source = "app";
	ev.actor = actor;
	ev.source_addr = addr;
	ev.outcome = "failure";
	return feed(f, &ev);
}

static uint64_t other(struct fx *f, int64_t rx)
{
	struct alog_rules_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.received_us = rx;
	return feed(f, &ev);
}

static size_t count_rule(const struct fx *f, enum alog_rules_id id)
{
	size_t i, n = 0;

	for (i = 0; i < f->seen.n; i++)
		n += f->seen.a[i].rule == id;
	return n;
}

/* V-RULES-1: 5 failures of one actor within 4 min 59.999999 s fire once;
 * two more within 5 min of the previous join the same anomaly. */
static void test_rules_five_failures_within_five_minutes_fire_once(void **state)
{
	struct fx f;
	const struct alog_rules_anomaly *a;

	fx_open(&f, M);
	fail_login(&f, "alice", NULL, M);
	fail_login(&f, "alice", NULL, M + MINS(1));
	fail_login(&f, "alice", NULL, M + MINS(2));
	fail_login(&f, "alice", NULL, M + MINS(3));
	fail_login(&f, "alice", NULL, M + MINS(5) - 1);  /* span 5 min - 1 us */
	fail_login(&f, "alice", NULL, M + MINS(9));      /* 4 min after: joins */
	fail_login(&f, "alice", NULL, M + MINS(13));     /* joins */
	assert_int_equal(f.seen.n, 0);  /* open: emitted when it closes */
	fx_finish(&f, M + MINS(14));
	assert_int_equal(f.seen.n, 1);
	a = &f.seen.a[0];
	assert_int_equal(a->rule, ALOG_RULES_LOGIN_ACTOR);
	assert_string_equal(a->subject, "alice");
	assert_int_equal(a->n_events, 7);
	assert_int_equal(a->n_indices, 7);
	assert_int_equal(a->indices[0], 0);
	assert_int_equal(a->indices[6], 6);
	assert_int_equal(a->detected_index, 4);
	assert_int_equal(a->detected_us, M + MINS(5) - 1);
	assert_int_equal(a->window_start_us, M);
	assert_int_equal(a->window_end_us, M + MINS(13));
	fx_close(&f);
}

/* V-RULES-1: 4 failures, 5 spanning exactly 5 min, 5 over 6 min: none. */
static void test_rules_four_failures_or_five_spread_over_five_minutes_or_more_do_not_fire(void **state)
{
	struct fx f;
	int i;

	fx_open(&f, M);
	for (i = 0; i < 4; i++)
		fail_login(&f, "bob", NULL, M + MINS(i));
	fx_finish(&f, M + MINS(10));
	assert_int_equal(f.seen.n, 0);
	fx_close(&f);

	/* 0, 1m15, 2m30, 3m45, 5m00: the window is exclusive */
	fx_open(&f, M);
	for (i = 0; i < 5; i++)
		fail_login(&f, "bob", NULL, M + S(75) * i);
	fx_finish(&f, M + MINS(10));
	assert_int_equal(f.seen.n, 0);
	fx_close(&f);

	/* 0, 1m30, 3m, 4m30, 6m */
	fx_open(&f, M);
	for (i = 0; i < 5; i++)
		fail_login(&f, "bob", NULL, M + S(90) * i);
	fx_finish(&f, M + MINS(10));
	assert_int_equal(f.seen.n, 0);
	fx_close(&f);
}

/* V-RULES-2: 10 failures from one address by 10 actors in 9 s fire
 * R-LOGIN-SOURCE once and no R-LOGIN-ACTOR; 9 do not. */
static void test_rules_failures_from_one_source_address_fire_per_source(void **state)
{
	static const char *const actors[10] = {
		"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9",
	};
	struct fx f;
	int i;

	fx_open(&f, M);
	for (i = 0; i < 10; i++)
		fail_login(&f, actors[i], "192.0.2.7", M + S(i));
	fx_finish(&f, M + MINS(10));
	assert_int_equal(f.seen.n, 1);
	assert_int_equal(f.seen.a[0].rule, ALOG_RULES_LOGIN_SOURCE);
	assert_string_equal(f.seen.a[0].subject, "192.0.2.7");
	assert_int_equal(f.seen.a[0].n_events, 10);
	assert_int_equal(f.seen.a[0].detected_index, 9);
	fx_close(&f);

	fx_open(&f, M);
	for (i = 0; i < 9; i++)
		fail_login(&f, actors[i], "192.0.2.7", M + S(i));
	fail_login(&f, actors[9], "192.0.2.8", M + S(9));
	fx_finish(&f, M + MINS(10));
	assert_int_equal(f.seen.n, 0);
	fx_close(&f);
}

static uint64_t breaker(struct fx *f, const char *comp,
			enum alog_breaker_state from,
			enum alog_breaker_state to, int64_t at)
{
	struct alog_rules_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = ALOG_RULES_EV_BREAKER;
	ev.received_us = at;
	ev.has_time = 1;
	ev.time_us = at;
	ev.component = comp;
	ev.from = from;
	ev.to = to;
	ev.at_us = at;
	return feed(f, &ev);
}

/* Opens at 0, 30 and t (with the closes and half-opens between). */
static size_t flaps(int64_t third)
{
	struct fx f;
	size_t n;

	fx_open(&f, M);
	breaker(&f, "api", ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN, M);
	breaker(&f, "api", ALOG_BREAKER_OPEN, ALOG_BREAKER_HALF_OPEN, M + MINS(1));
	breaker(&f, "api", ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_CLOSED, M + MINS(2));
	breaker(&f, "api", ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN, M + MINS(30));
	breaker(&f, "api", ALOG_BREAKER_OPEN, ALOG_BREAKER_HALF_OPEN, M + MINS(31));
	breaker(&f, "api", ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_CLOSED, M + MINS(32));
	breaker(&f, "api", ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN, M + third);
	fx_finish(&f, M + HRS(3));
	n = count_rule(&f, ALOG_RULES_BREAKER_FLAP);
	if (n == 1) {
		assert_string_equal(f.seen.a[0].subject, "api");
		assert_int_equal(f.seen.a[0].n_events, 3);
		assert_int_equal(f.seen.a[0].indices[0], 0);
		assert_int_equal(f.seen.a[0].indices[1], 3);
		assert_int_equal(f.seen.a[0].indices[2], 6);
	}
	fx_close(&f);
	return n;
}

/* V-RULES-3: 3 opens within 59 min fire; within 61 min (or exactly 60)
 * do not. */
static void test_rules_breaker_flapping_fires_at_three_opens_within_an_hour(void **state)
{
	assert_int_equal(flaps(MINS(59)), 1);
	assert_int_equal(flaps(MINS(60)), 0);
	assert_int_equal(flaps(MINS(61)), 0);
}

static size_t admin_at(int64_t t, int32_t tz_min)
{
	struct fx f;
	struct alog_rules_event ev;
	size_t n;

	fx_open(&f, t - HRS(1));
	f.cfg.business_hours.tz_offset_min = tz_min;
	memset(&ev, 0, sizeof(ev));
	ev.type = ALOG_RULES_EV_ADMIN_ACTION;
	ev.received_us = t;
	ev.has_time = 1;
	ev.time_us = t;
	ev.operator_name = "ops-anna";
	ev.action = "breaker.reset";
	ev.target = "api";
	ev.outcome = "success";
	feed(&f, &ev);
	n = f.seen.n;
	if (n == 1) {
		assert_int_equal(f.seen.a[0].rule, ALOG_RULES_ADMIN_HOURS);
		assert_string_equal(f.seen.a[0].subject, "ops-anna");
		assert_int_equal(f.seen.a[0].window_start_us, t);
		assert_int_equal(f.seen.a[0].indices[0], 0);
	}
	fx_finish(&f, t);
	fx_close(&f);
	return n;
}

/* V-RULES-4: business hours 08:00-18:00 Monday-Friday (defaults). */
static void test_rules_admin_action_outside_business_hours_fires(void **state)
{
	assert_int_equal(admin_at(M + HRS(7) + MINS(59), 0), 1); /* 07:59 Mon */
	assert_int_equal(admin_at(M + HRS(8), 0), 0);            /* 08:00 */
	assert_int_equal(admin_at(M + HRS(18) - 1, 0), 0);       /* 17:59:59.999999 */
	assert_int_equal(admin_at(M + HRS(18), 0), 1);           /* 18:00 */
	assert_int_equal(admin_at(SAT, 0), 1);                   /* Saturday noon */
	/* +02:00: 06:00Z is 08:00 local (inside), 05:59Z is 07:59 local */
	assert_int_equal(admin_at(M + HRS(6), 120), 0);
	assert_int_equal(admin_at(M + HRS(5) + MINS(59), 120), 1);
	/* 07:59Z is 09:59 local under +02:00: inside */
	assert_int_equal(admin_at(M + HRS(7) + MINS(59), 120), 0);
}

static uint64_t probe(struct fx *f, const char *comp, int64_t t)
{
	struct alog_rules_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = ALOG_RULES_EV_HEALTH_PROBE;
	ev.received_us = t;
	ev.has_time = 1;
	ev.time_us = t;
	ev.component = comp;
	ev.outcome = NULL;
	return feed(f, &ev);
}

/* V-RULES-5: probe_interval_s 60 (built-in), tolerance 180 s. */
static void test_rules_probe_gap_fires_only_past_three_intervals(void **state)
{
	struct fx f;
	const struct alog_rules_anomaly *a;

	fx_open(&f, M);
	probe(&f, "dashboard_stats", M);                   /* 0 */
	probe(&f, "not_in_inventory", M + S(1));           /* 1: ignored */
	probe(&f, "dashboard_stats", M + S(180));          /* 2: exactly 3x: no */
	probe(&f, "not_in_inventory", M + S(300));         /* 3: ignored */
	probe(&f, "dashboard_stats", M + S(360) + 1);      /* 4: 3x + 1 us: yes */
	assert_int_equal(f.seen.n, 1);
	a = &f.seen.a[0];
	assert_int_equal(a->rule, ALOG_RULES_PROBE_GAP);
	assert_string_equal(a->subject, "dashboard_stats");
	assert_int_equal(a->window_start_us, M + S(180));
	assert_int_equal(a->window_end_us, M + S(360) + 1);
	assert_int_equal(a->measure_us, S(180) + 1);
	assert_int_equal(a->n_indices, 2);
	assert_int_equal(a->indices[0], 2);
	assert_int_equal(a->indices[1], 4);
	assert_int_equal(a->detected_index, 4);
	/* at the end, 180 s after the last probe: no trailing gap */
	fx_finish(&f, M + S(540) + 1);
	assert_int_equal(f.seen.n, 1);
	fx_close(&f);

	/* a trailing gap of 180 s + 1 us at the end */
	fx_open(&f, M);
	probe(&f, "dashboard_stats", M);
	fx_finish(&f, M + S(180) + 1);
	assert_int_equal(f.seen.n, 1);
	assert_int_equal(f.seen.a[0].window_end_us, M + S(180) + 1);
	assert_int_equal(f.seen.a[0].detected_index, ALOG_RULES_NO_INDEX);
	assert_int_equal(f.seen.a[0].n_indices, 1);
	fx_close(&f);
}

static uint64_t verified(struct fx *f, int64_t rx, const char *result)
{
	struct alog_rules_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = ALOG_RULES_EV_VERIFIED;
	ev.received_us = rx;
	ev.has_time = 1;
	ev.time_us = rx;
	ev.source = "auditlog";
	ev.outcome = result;
	return feed(f, &ev);
}

/* V-RULES-6: 26 h between runs is fine (a daily run, 2 h of slack), 26 h + 1 us is one anomaly;
 * a failed run fires at once. */
static void test_rules_verification_missing_for_more_than_a_day_fires(void **state)
{
	struct fx f;
	const struct alog_rules_anomaly *a;

	fx_open(&f, M);
	verified(&f, M, "pass");                 /* 0 */
	verified(&f, M + HRS(26), "pass");       /* 1: exactly 26 h */
	other(&f, M + HRS(52));                  /* 2: exactly 26 h: not yet */
	other(&f, M + HRS(52) + 1);              /* 3: opens here */
	verified(&f, M + HRS(54), "fail");       /* 4: closes it; fails */
	fx_finish(&f, M + HRS(80));              /* 26 h after: none */
	assert_int_equal(f.seen.n, 2);
	/* the failed run is emitted at its event, before the gap closes */
	assert_int_equal(f.seen.a[0].rule, ALOG_RULES_VERIFY_FAILED);
	assert_int_equal(f.seen.a[0].indices[0], 4);
	a = &f.seen.a[1];
	assert_int_equal(a->rule, ALOG_RULES_VERIFY_MISSING);
	assert_int_equal(a->window_start_us, M + HRS(26));
	assert_int_equal(a->window_end_us, M + HRS(54));
	assert_int_equal(a->detected_index, 3);
	assert_int_equal(a->detected_us, M + HRS(52) + 1);
	assert_int_equal(a->n_indices, 2);
	assert_int_equal(a->indices[0], 1);
	assert_int_equal(a->indices[1], 4);
	fx_close(&f);

	/* no run at all: from the start, 26 h + 1 us to the end */
	fx_open(&f, M);
	other(&f, M + HRS(1));
	fx_finish(&f, M + HRS(26));
	assert_int_equal(f.seen.n, 0);
	fx_close(&f);
	fx_open(&f, M);
	fx_finish(&f, M + HRS(26) + 1);
	assert_int_equal(f.seen.n, 1);
	assert_int_equal(f.seen.a[0].rule, ALOG_RULES_VERIFY_MISSING);
	assert_int_equal(f.seen.a[0].window_start_us, M);
	assert_int_equal(f.seen.a[0].n_indices, 0);
	assert_int_equal(f.seen.a[0].detected_index, ALOG_RULES_NO_INDEX);
	fx_close(&f);
}

static uint64_t timed(struct fx *f, const char *source, int64_t rx, int64_t t)
{
	struct alog_rules_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.received_us = rx;
	ev.has_time = 1;
	ev.time_us = t;
	ev.source = source;
	return feed(f, &ev);
}

/* V-RULES-7: skew of exactly 5 min is fine, 5 min + 1 us fires; a
 * source's skewed events within 1 h of each other are one anomaly. */
static void test_rules_clock_skew_fires_past_five_minutes_once_per_source_burst(void **state)
{
	struct fx f;

	fx_open(&f, M);
	timed(&f, "app", M + MINS(10), M + MINS(5));          /* 0: 5 min */
	timed(&f, "app", M + MINS(20), M + MINS(25));         /* 1: -5 min */
	timed(&f, "app", M + MINS(30), M + MINS(25) - 1);     /* 2: fires */
	timed(&f, "app", M + MINS(80), M + MINS(90) + 7);     /* 3: joins */
	timed(&f, "cron", M + MINS(81), M + HRS(5));          /* 4: other */
	timed(&f, "app", M + MINS(200), M);                   /* 5: new one */
	fx_finish(&f, M + MINS(200));
	assert_int_equal(f.seen.n, 3);
	/* "app"'s first burst closed by the log's clock at index 5 */
	assert_int_equal(f.seen.a[0].rule, ALOG_RULES_CLOCK_SKEW);
	assert_string_equal(f.seen.a[0].subject, "app");
	assert_int_equal(f.seen.a[0].n_events, 2);
	assert_int_equal(f.seen.a[0].indices[0], 2);
	assert_int_equal(f.seen.a[0].indices[1], 3);
	assert_int_equal(f.seen.a[0].measure_us, MINS(10) + 7);
	assert_string_equal(f.seen.a[1].subject, "cron");
	assert_int_equal(f.seen.a[1].measure_us, HRS(5) - MINS(81));
	assert_string_equal(f.seen.a[2].subject, "app");
	assert_int_equal(f.seen.a[2].indices[0], 5);
	assert_int_equal(f.seen.a[2].measure_us, MINS(200));
	fx_close(&f);
}

/* An open burst is emitted as soon as the log's clock is a window past
 * its last event, without waiting for the end. */
static void test_rules_burst_closes_when_the_log_clock_passes_its_window(void **state)
{
	struct fx f;
	int i;

	fx_open(&f, M);
	for (i = 0; i < 5; i++)
		fail_login(&f, "carol", NULL, M + S(i));
	other(&f, M + S(4) + MINS(5) - 1);
	assert_int_equal(f.seen.n, 0);
	other(&f, M + S(4) + MINS(5));
	assert_int_equal(f.seen.n, 1);
	/* a sixth failure later starts a new window: 4 more are needed */
	fail_login(&f, "carol", NULL, M + MINS(10));
	fx_finish(&f, M + MINS(11));
	assert_int_equal(f.seen.n, 1);
	fx_close(&f);
}

/* V-RULES-8: the table holds ALOG_RULES_KEYS_MAX keys. An actor whose 4
 * failures are followed by that many other actors is evicted (its fifth
 * failure starts over); an actor seen every 200 other actors stays and
 * its burst is found among 5000 actors. */
static void test_rules_memory_is_bounded_with_many_actors(void **state)
{
	struct fx f;
	char name[32];
	int64_t t = M;
	int i, j;

	fx_open(&f, M);
	for (i = 0; i < 4; i++)
		fail_login(&f, "victim", NULL, t);
	for (i = 0; i < ALOG_RULES_KEYS_MAX; i++) {
		snprintf(name, sizeof(name), "noise-%d", i);
		fail_login(&f, name, NULL, t);
	}
	fail_login(&f, "victim", NULL, t);
	assert_int_equal(count_rule(&f, ALOG_RULES_LOGIN_ACTOR), 0);
	for (i = 0; i < 5; i++) {
		for (j = 0; j < 1000; j++) {
			snprintf(name, sizeof(name), "many-%d-%d", i, j);
			fail_login(&f, name, NULL, t);
		}
		fail_login(&f, "mallory", NULL, t);
		t += S(1);
	}
	fx_finish(&f, t);
	assert_int_equal(f.seen.n, 1);
	assert_string_equal(f.seen.a[0].subject, "mallory");
	assert_int_equal(f.seen.a[0].n_events, 5);
	fx_close(&f);
}

/* An anomaly keeps the first ALOG_RULES_INDICES_MAX indices and counts
 * the rest; a long subject is cut at a UTF-8 character boundary. */
static void test_rules_anomaly_indices_and_subject_are_bounded(void **state)
{
	struct fx f;
	char actor[ALOG_RULES_SUBJECT_MAX + 8];
	int i;

	/* 127 'a' then U+00E9 (2 bytes): 129 bytes, cut to 127 */
	memset(actor, 'a', ALOG_RULES_SUBJECT_MAX - 1);
	actor[ALOG_RULES_SUBJECT_MAX - 1] = (char)0xC3;
	actor[ALOG_RULES_SUBJECT_MAX] = (char)0xA9;
	actor[ALOG_RULES_SUBJECT_MAX + 1] = 0;
	fx_open(&f, M);
	for (i = 0; i < 100; i++)
		fail_login(&f, actor, NULL, M + S(i));
	fx_finish(&f, M + MINS(10));
	assert_int_equal(f.seen.n, 1);
	assert_int_equal(f.seen.a[0].n_events, 100);
	assert_int_equal(f.seen.a[0].n_indices, ALOG_RULES_INDICES_MAX);
	assert_int_equal(f.seen.a[0].indices[ALOG_RULES_INDICES_MAX - 1],
			 ALOG_RULES_INDICES_MAX - 1);
	assert_int_equal(f.seen.a[0].subject_truncated, 1);
	assert_int_equal(strlen(f.seen.a[0].subject), ALOG_RULES_SUBJECT_MAX - 1);
	fx_close(&f);
}

static void test_rules_refuses_events_out_of_order_and_after_the_end(void **state)
{
	struct fx f;
	struct alog_rules_event ev;
	struct alog_rules_params p;
	struct alog_err err = { 0 };
	struct alog_rules *r = NULL;

	fx_open(&f, M);
	other(&f, M + S(10));
	memset(&ev, 0, sizeof(ev));
	ev.index = 0;   /* not after index 0 */
	ev.received_us = M + S(11);
	assert_int_equal(alog_rules_feed(f.r, &ev, &err), ALOG_EINVAL);
	assert_non_null(strstr(err.msg, "log index 0"));
	ev.index = 5;
	ev.received_us = M + S(9);  /* received before the one before */
	assert_int_equal(alog_rules_feed(f.r, &ev, &err), ALOG_EINVAL);
	assert_int_equal(alog_rules_finish(f.r, M + S(9), &err), ALOG_EINVAL);
	fx_finish(&f, M + S(10));
	ev.received_us = M + S(20);
	assert_int_equal(alog_rules_feed(f.r, &ev, &err), ALOG_ESTATE);
	fx_close(&f);

	alog_rules_params_default(&p);
	p.login_actor_threshold = ALOG_RULES_THRESHOLD_MAX + 1;
	assert_int_equal(alog_rules_new(&r, NULL, &p, M, NULL, NULL, &err),
			 ALOG_EINVAL);
	assert_null(r);
	assert_non_null(strstr(err.msg, "login_actor_threshold"));
	p.login_actor_threshold = ALOG_RULES_THRESHOLD_MAX;
	assert_int_equal(alog_rules_params_check(&p, &err), 0);
	p.probe_gap_factor = 0;
	assert_int_equal(alog_rules_params_check(&p, &err), ALOG_EINVAL);
}

static void test_rules_table_names_are_the_spec_texts(void **state)
{
	static const char *const ids[ALOG_RULES_N] = {
		"R-LOGIN-ACTOR", "R-LOGIN-SOURCE", "R-BREAKER-FLAP",
		"R-ADMIN-HOURS", "R-PROBE-GAP", "R-VERIFY-FAILED",
		"R-VERIFY-MISSING", "R-CLOCK-SKEW",
	};
	const struct alog_rules_def *d = alog_rules_defs();
	int i;

	for (i = 0; i < ALOG_RULES_N; i++) {
		assert_int_equal(d[i].rule, i);
		assert_string_equal(d[i].id, ids[i]);
		assert_string_equal(alog_rules_id_name((enum alog_rules_id)i), ids[i]);
		assert_non_null(alog_rules_severity_name(d[i].severity));
		assert_non_null(alog_rules_class_name(d[i].cls));
	}
	assert_null(alog_rules_id_name(ALOG_RULES_N));
	assert_string_equal(alog_rules_severity_name(ALOG_RULES_HIGH), "high");
	assert_string_equal(alog_rules_class_name(ALOG_RULES_ENVIRONMENTAL),
			    "environmental");
	assert_null(alog_rules_class_name(ALOG_RULES_CLASSES));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_five_failures_within_five_minutes_fire_once),
		cmocka_unit_test(test_rules_four_failures_or_five_spread_over_five_minutes_or_more_do_not_fire),
		cmocka_unit_test(test_rules_failures_from_one_source_address_fire_per_source),
		cmocka_unit_test(test_rules_breaker_flapping_fires_at_three_opens_within_an_hour),
		cmocka_unit_test(test_rules_admin_action_outside_business_hours_fires),
		cmocka_unit_test(test_rules_probe_gap_fires_only_past_three_intervals),
		cmocka_unit_test(test_rules_verification_missing_for_more_than_a_day_fires),
		cmocka_unit_test(test_rules_clock_skew_fires_past_five_minutes_once_per_source_burst),
		cmocka_unit_test(test_rules_burst_closes_when_the_log_clock_passes_its_window),
		cmocka_unit_test(test_rules_memory_is_bounded_with_many_actors),
		cmocka_unit_test(test_rules_anomaly_indices_and_subject_are_bounded),
		cmocka_unit_test(test_rules_refuses_events_out_of_order_and_after_the_end),
		cmocka_unit_test(test_rules_table_names_are_the_spec_texts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
