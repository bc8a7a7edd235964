/*
 * test_availability: the A1.2 availability engine (report/availability.h,
 * SPEC.md "Availability") on hand-built observations. Every expected
 * number is computed by hand in the comments (and was checked with
 * Python's integer arithmetic while writing the test), never by the code
 * under test: vectors V-AVAIL-1 .. V-AVAIL-11. A seeded random run checks
 * that the sums are exact for any input.
 *
 * Times: D = 2024-03-01T00:00:00Z = 1709251200000000 us (Python
 * datetime); other dates are given where used.
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
#include "report/availability.h"

#define S(x) ((int64_t)(x) * INT64_C(1000000))
#define MINS(x) S((int64_t)(x) * 60)
#define HRS(x) S((int64_t)(x) * 3600)

#define D INT64_C(1709251200000000)         /* 2024-03-01T00:00:00Z */
#define APR INT64_C(1711929600000000)       /* 2024-04-01T00:00:00Z */
#define MAY INT64_C(1714521600000000)       /* 2024-05-01T00:00:00Z */
#define JAN31 INT64_C(1706659200000000)     /* 2024-01-31T00:00:00Z */
#define FEB1 INT64_C(1706745600000000)      /* 2024-02-01T00:00:00Z */
#define FEB2 INT64_C(1706832000000000)      /* 2024-02-02T00:00:00Z */
#define DEC31 INT64_C(1703980800000000)     /* 2023-12-31T00:00:00Z */
#define JAN1 INT64_C(1704067200000000)      /* 2024-01-01T00:00:00Z */
#define MAR2 INT64_C(1709337600000000)      /* 2024-03-02T00:00:00Z */

/* A growing list of observations with log indices 100, 101, ... */
struct obsv {
	struct alog_av_obs *o;
	size_t n, cap;
};

static struct alog_av_obs *push(struct obsv *v, enum alog_av_kind k)
{
	struct alog_av_obs *o;

	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		v->o = realloc(v->o, v->cap * sizeof(*v->o));
		assert_non_null(v->o);
	}
	o = &v->o[v->n];
	memset(o, 0, sizeof(*o));
	o->kind = k;
	o->index = 100 + v->n;
	v->n++;
	return o;
}

static uint64_t tr(struct obsv *v, int64_t at, enum alog_breaker_state from,
		   enum alog_breaker_state to, enum alog_breaker_cause cause)
{
	struct alog_av_obs *o = push(v, ALOG_AV_TRANSITION);

	o->transition.at_us = at;
	o->transition.from = from;
	o->transition.to = to;
	o->transition.cause = cause;
	return o->index;
}

static uint64_t probe(struct obsv *v, int64_t t, enum alog_av_probe_status s)
{
	struct alog_av_obs *o = push(v, ALOG_AV_PROBE);

	o->probe.time_us = t;
	o->probe.status = s;
	return o->index;
}

/* Up probes at start, start + step, ... while < end. */
static void probes_up(struct obsv *v, int64_t start, int64_t end,
		      int64_t step)
{
	int64_t t;

	for (t = start; t < end; t += step)
		probe(v, t, ALOG_AV_PROBE_UP);
}

static uint64_t maint(struct obsv *v, int64_t start, int64_t end,
		      const char *change_ref)
{
	struct alog_av_obs *o = push(v, ALOG_AV_MAINTENANCE);

	o->maintenance.start_us = start;
	o->maintenance.end_us = end;
	o->maintenance.change_ref = change_ref;
	o->maintenance.approver = change_ref ? "cab" : NULL;
	return o->index;
}

static uint64_t life(struct obsv *v, enum alog_av_kind k, int64_t at)
{
	struct alog_av_obs *o = push(v, k);

	o->daemon.at_us = at;
	return o->index;
}

static uint64_t activated(struct obsv *v, int64_t failed_at,
			  int64_t first_spooled)
{
	struct alog_av_obs *o = push(v, ALOG_AV_ACTIVATED);

	o->activated.failed_at_us = failed_at;
	o->activated.has_first_spooled = 1;
	o->activated.first_spooled_us = first_spooled;
	return o->index;
}

static uint64_t replayed(struct obsv *v, int64_t at, uint64_t records,
			 uint64_t imported, uint64_t duplicates,
			 uint64_t conflicts, uint64_t refused, int drained)
{
	struct alog_av_obs *o = push(v, ALOG_AV_REPLAYED);

	o->replayed.replayed_at_us = at;
	o->replayed.records = records;
	o->replayed.imported = imported;
	o->replayed.duplicates = duplicates;
	o->replayed.conflicts = conflicts;
	o->replayed.refused = refused;
	o->replayed.drained = drained;
	o->replayed.file = "0000000000000001";
	return o->index;
}

static uint64_t admin(struct obsv *v, int64_t at, const char *action,
		      enum alog_av_outcome outcome)
{
	struct alog_av_obs *o = push(v, ALOG_AV_ADMIN);

	o->admin.at_us = at;
	o->admin.operator_name = "alice";
	o->admin.auth_method = "peer_credentials";
	o->admin.action = action;
	o->admin.target = "api";
	o->admin.reason = "stuck breaker";
	o->admin.outcome = outcome;
	return o->index;
}

static struct alog_config_component comp(uint32_t target_ppm,
					 uint32_t interval_s, int daemon)
{
	struct alog_config_component c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", daemon ? "primary_store" : "api");
	c.tier = target_ppm == 999000 ? ALOG_TIER_CRITICAL : ALOG_TIER_GENERAL;
	c.target_ppm = target_ppm;
	c.probe_interval_s = interval_s;
	c.daemon_owned = daemon;
	return c;
}

static void run(const struct alog_config_component *c, uint32_t w,
		int64_t from, int64_t to, const struct obsv *v,
		struct alog_av_result *r)
{
	struct alog_av_input in;
	struct alog_err err = { 0 };
	int rc;

	memset(&in, 0, sizeof(in));
	in.component = c;
	in.partial_weight_permille = w;
	in.failover_target_s = 30;
	in.from_us = from;
	in.to_us = to;
	in.obs = v->o;
	in.n_obs = v->n;
	rc = alog_av_compute(&in, r, &err);
	if (rc != 0)
		fail_msg("alog_av_compute: %s", err.msg);
}

/* The sums every result must satisfy, whatever the input. */
static void check_sums(const struct alog_av_result *r)
{
	const struct alog_av_totals *t = &r->total;
	int64_t sum[5] = { 0 }, expect[5];
	int64_t pos;
	size_t i;

	assert_int_equal(t->period_us, t->to_us - t->from_us);
	assert_int_equal(t->excluded_us + t->down_us + t->partial_us +
				 t->unknown_us + t->up_us,
			 t->period_us);
	/* months tile the period and add up */
	pos = t->from_us;
	for (i = 0; i < r->n_months; i++) {
		const struct alog_av_totals *m = &r->months[i].t;

		assert_int_equal(m->from_us, pos);
		assert_true(m->to_us > m->from_us);
		assert_int_equal(m->excluded_us + m->down_us + m->partial_us +
					 m->unknown_us + m->up_us,
				 m->period_us);
		sum[0] += m->excluded_us;
		sum[1] += m->down_us;
		sum[2] += m->partial_us;
		sum[3] += m->unknown_us;
		sum[4] += m->up_us;
		pos = m->to_us;
	}
	assert_int_equal(pos, t->to_us);
	expect[0] = t->excluded_us;
	expect[1] = t->down_us;
	expect[2] = t->partial_us;
	expect[3] = t->unknown_us;
	expect[4] = t->up_us;
	for (i = 0; i < 5; i++)
		assert_int_equal(sum[i], expect[i]);
	/* segments tile the period; neighbours differ */
	pos = t->from_us;
	for (i = 0; i < r->n_segments; i++) {
		assert_int_equal(r->segments[i].start_us, pos);
		assert_true(r->segments[i].end_us > pos);
		if (i > 0)
			assert_int_not_equal(r->segments[i].cls,
					     r->segments[i - 1].cls);
		pos = r->segments[i].end_us;
	}
	assert_int_equal(pos, t->to_us);
	/* episodes: parts add up to the clipped length */
	for (i = 0; i < r->n_episodes; i++) {
		const struct alog_av_episode *e = &r->episodes[i];
		int64_t a = e->start_us > t->from_us ? e->start_us : t->from_us;
		int64_t b = e->end_us < t->to_us ? e->end_us : t->to_us;

		assert_int_equal(e->in_period_us, b - a);
		assert_int_equal(e->down_us + e->partial_us + e->excluded_us +
					 e->unknown_us,
				 e->in_period_us);
		assert_int_equal(e->duration_us, e->end_us - e->start_us);
		if (i > 0)
			assert_true(e->start_us >= r->episodes[i - 1].end_us);
	}
	if (t->measured) {
		assert_true(t->raw_ppm <= 1000000);
		assert_true(t->weighted_ppm <= t->raw_ppm);
	}
}

static void text_is(uint32_t ppm, const char *want)
{
	char txt[ALOG_AV_PERCENT_TEXT_MAX];

	assert_int_equal(alog_av_percent_format(ppm, txt), 0);
	assert_string_equal(txt, want);
}

/*
 * V-AVAIL-1. April 2024 has 30 days: T = 30 * 86400 s = 2592000 s. The
 * breaker is open for 43 min 12 s = 2592 s, from t0 = APR + 864015 s
 * (failure_threshold) to t0 + 2592 s (reset). Probes every 60 s from
 * APR - 30 s keep it known all month (tolerance 3 * 60 s).
 *   raw = (2592000 - 2592) / 2592000 = 0.999 exactly = 999000 ppm.
 *   budget = 2592 / ((1 - 0.999) * 2592000) = 2592 / 2592 = 1000 permille.
 *   MTBF = up / 1 episode = 2592000 - 2592 = 2589408 s.
 *   MTTD: the last up probe before t0 is at APR - 30 + 60 * 14400 =
 *   APR + 863970 s, so 864015 - 863970 = 45 s.
 */
static void test_availability_43m12s_down_in_a_30_day_month_is_exactly_99_900_percent(void **state)
{
	struct alog_config_component c = comp(999000, 60, 0);
	struct alog_av_result r;
	struct obsv v = { 0 };
	int64_t t0 = APR + S(864015);
	char txt[ALOG_AV_PERCENT_TEXT_MAX];
	uint64_t i_open, i_reset;

	(void)state;
	probes_up(&v, APR - S(30), MAY, S(60));
	i_open = tr(&v, t0, ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN,
		    ALOG_BREAKER_FAILURE_THRESHOLD);
	i_reset = tr(&v, t0 + S(2592), ALOG_BREAKER_OPEN, ALOG_BREAKER_CLOSED,
		     ALOG_BREAKER_RESET);
	run(&c, 0, APR, MAY, &v, &r);
	check_sums(&r);

	assert_int_equal(r.signal, ALOG_AV_SIGNAL_BREAKER);
	assert_int_equal(r.total.period_us, S(2592000));
	assert_int_equal(r.total.down_us, S(2592));
	assert_int_equal(r.total.partial_us, 0);
	assert_int_equal(r.total.unknown_us, 0);
	assert_int_equal(r.total.excluded_us, 0);
	assert_int_equal(r.total.raw_ppm, 999000);
	assert_int_equal(r.total.weighted_ppm, 999000);
	assert_int_equal(alog_av_percent_format(r.total.weighted_ppm, txt), 0);
	assert_string_equal(txt, "99.900");
	assert_true(r.total.pass);
	assert_int_equal(r.total.budget_used_permille, 1000);
	assert_int_equal(r.state_at_from, ALOG_AV_UP);

	assert_int_equal(r.n_episodes, 1);
	assert_int_equal(r.episodes[0].start_us, t0);
	assert_int_equal(r.episodes[0].duration_us, S(2592));
	assert_int_equal(r.episodes[0].down_us, S(2592));
	assert_int_equal(r.episodes[0].start_index, i_open);
	assert_int_equal(r.episodes[0].end_index, i_reset);
	assert_string_equal(r.episodes[0].trigger, "failure_threshold");
	assert_int_equal(r.episodes[0].recovery, ALOG_AV_RECOVERY_MANUAL);
	assert_true(r.has_mttr);
	assert_int_equal(r.mttr_us, S(2592));
	assert_true(r.has_mtbf);
	assert_int_equal(r.mtbf_us, S(2589408));
	assert_true(r.has_mttd);
	assert_int_equal(r.mttd_us, S(45));
	assert_true(r.has_longest);
	assert_int_equal(r.longest, 0);

	assert_int_equal(r.n_months, 1);
	assert_int_equal(r.months[0].year, 2024);
	assert_int_equal(r.months[0].month, 4);
	assert_int_equal(r.months[0].t.weighted_ppm, 999000);
	assert_int_equal(r.months[0].t.episodes_started, 1);
	assert_int_equal(r.n_findings, 0);
	alog_av_result_release(&r);
	free(v.o);
}

/*
 * V-AVAIL-1, one microsecond more: Dm = 2592000001 us.
 *   raw = floor(1e6 * (2592000000000 - 2592000001) / 2592000000000)
 *       = floor(998999.9999996...) = 998999 ppm: fails a 99.9 % target.
 *   budget = ceil(1000 * 2592000001 / 2592000000) = ceil(1000.0000004)
 *          = 1001 permille.
 */
static void test_availability_one_microsecond_over_the_budget_fails(void **state)
{
	struct alog_config_component c = comp(999000, 60, 0);
	struct alog_av_result r;
	struct obsv v = { 0 };
	int64_t t0 = APR + S(864015);

	(void)state;
	probes_up(&v, APR - S(30), MAY, S(60));
	tr(&v, t0, ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN,
	   ALOG_BREAKER_FAILURE_THRESHOLD);
	tr(&v, t0 + S(2592) + 1, ALOG_BREAKER_OPEN, ALOG_BREAKER_CLOSED,
	   ALOG_BREAKER_RESET);
	run(&c, 0, APR, MAY, &v, &r);
	check_sums(&r);
	assert_int_equal(r.total.down_us, S(2592) + 1);
	assert_int_equal(r.total.raw_ppm, 998999);
	assert_int_equal(r.total.weighted_ppm, 998999);
	assert_false(r.total.pass);
	assert_false(r.total.unknown_decides);
	assert_int_equal(r.total.budget_used_permille, 1001);
	alog_av_result_release(&r);
	free(v.o);
}

/*
 * V-AVAIL-2. Period [D, D + 1 day), general target 99.5 %. The breaker
 * opened at D - 10 min (carried in), went half_open at D + 5 min and
 * closed at D + 6 min; it opened again at D + 1 day - 2 min and is still
 * open at the end. Probes every 60 s from D - 1170 s.
 *   Dm = 5 min + 2 min = 420 s; Dp = 1 min = 60 s; T = 86400 s.
 *   raw = (86400 - 420) / 86400 = 0.9951388... -> 995138 ppm (pass).
 *   Episode 1: start D - 10 min, end D + 6 min, 16 min long, 6 min of it
 *   in the period (down 5 min, partial 1 min). Episode 2: open at the
 *   end, 2 min, down. MTTR = 16 min (one ended); MTBF = up / 1 started =
 *   86400 - 480 = 85920 s. MTTD of episode 2: the last up probe before
 *   D + 86280 s is D - 1170 + 60 * 1457 = D + 86250 s: 30 s.
 */
static void test_availability_carries_in_an_open_breaker_and_clips_episodes_at_both_ends(void **state)
{
	struct alog_config_component c = comp(995000, 60, 0);
	struct alog_av_result r;
	struct obsv v = { 0 };
	int64_t to = D + S(86400);
	uint64_t i_first;

	(void)state;
	probes_up(&v, D - S(1170), to, S(60));
	i_first = tr(&v, D - MINS(10), ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN,
		     ALOG_BREAKER_FAILURE_THRESHOLD);
	tr(&v, D + MINS(5), ALOG_BREAKER_OPEN, ALOG_BREAKER_HALF_OPEN,
	   ALOG_BREAKER_OPEN_TIMEOUT);
	tr(&v, D + MINS(6), ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_CLOSED,
	   ALOG_BREAKER_PROBE_SUCCESS);
	tr(&v, to - MINS(2), ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN,
	   ALOG_BREAKER_FAILURE_RATE);
	run(&c, 0, D, to, &v, &r);
	check_sums(&r);

	assert_int_equal(r.state_at_from, ALOG_AV_DOWN);
	assert_int_equal(r.state_at_from_index, i_first);
	assert_int_equal(r.total.down_us, S(420));
	assert_int_equal(r.total.partial_us, S(60));
	assert_int_equal(r.total.unknown_us, 0);
	assert_int_equal(r.total.raw_ppm, 995138);
	assert_int_equal(r.total.weighted_ppm, 995138);
	assert_true(r.total.pass);

	assert_int_equal(r.n_episodes, 2);
	assert_int_equal(r.episodes[0].start_us, D - MINS(10));
	assert_int_equal(r.episodes[0].end_us, D + MINS(6));
	assert_true(r.episodes[0].ended);
	assert_int_equal(r.episodes[0].duration_us, MINS(16));
	assert_int_equal(r.episodes[0].in_period_us, MINS(6));
	assert_int_equal(r.episodes[0].down_us, MINS(5));
	assert_int_equal(r.episodes[0].partial_us, MINS(1));
	assert_int_equal(r.episodes[0].recovery, ALOG_AV_RECOVERY_AUTOMATIC);
	assert_string_equal(r.episodes[0].trigger, "failure_threshold");
	assert_int_equal(r.episodes[1].start_us, to - MINS(2));
	assert_false(r.episodes[1].ended);
	assert_int_equal(r.episodes[1].end_us, to);
	assert_int_equal(r.episodes[1].end_index, ALOG_AV_NO_INDEX);
	assert_int_equal(r.episodes[1].in_period_us, MINS(2));
	assert_int_equal(r.episodes[1].down_us, MINS(2));
	assert_int_equal(r.episodes[1].recovery, ALOG_AV_RECOVERY_NONE);
	assert_string_equal(r.episodes[1].trigger, "failure_rate");
	assert_true(r.episodes[1].has_detect);
	assert_int_equal(r.episodes[1].detect_us, S(30));

	assert_int_equal(r.total.episodes_started, 1);
	assert_int_equal(r.n_mttr, 1);
	assert_int_equal(r.mttr_us, MINS(16));
	assert_int_equal(r.mtbf_us, S(85920));
	assert_int_equal(r.n_mttd, 1);
	assert_int_equal(r.mttd_us, S(30));
	assert_int_equal(r.longest, 0);

	/* the timeline: down, partial, up, down */
	assert_int_equal(r.n_segments, 4);
	assert_int_equal(r.segments[0].cls, ALOG_AV_DOWN);
	assert_int_equal(r.segments[0].end_us, D + MINS(5));
	assert_int_equal(r.segments[1].cls, ALOG_AV_PARTIAL);
	assert_int_equal(r.segments[2].cls, ALOG_AV_UP);
	assert_int_equal(r.segments[3].cls, ALOG_AV_DOWN);
	assert_int_equal(r.segments[3].start_us, to - MINS(2));
	alog_av_result_release(&r);
	free(v.o);
}

/*
 * V-AVAIL-3. Period [D, D + 1 day), probes every minute from D - 2 h;
 * down from 10:15 to 10:45 and from 14:00 to 14:30. Windows:
 *   W1 [D - 1 h, 00:30) CHG-3 (crosses the start: 30 min excluded),
 *   A [10:00, 11:00) CHG-1 and B [10:30, 12:00) CHG-2 (union 2 h),
 *   C [14:00, 14:30) without change_ref (not excluded: a deviation),
 *   W5 [16:00, 16:10) with an empty change_ref (not approved either),
 *   W6 [D + 30 h, D + 31 h) CHG-9 (after the period: not listed).
 *   E = 30 + 120 = 150 min = 9000 s; the 10:15 outage lies inside A u B,
 *   so only C's 30 min are down: Dm = 1800 s.
 *   raw = (86400 - 9000 - 1800) / (86400 - 9000) = 75600 / 77400
 *       = 0.9767441... -> 976744 ppm.
 */
static void test_availability_excludes_the_union_of_approved_windows_and_flags_one_without_change_ref(void **state)
{
	struct alog_config_component c = comp(995000, 60, 0);
	struct alog_av_result r;
	struct obsv v = { 0 };
	int64_t m;
	uint64_t i_c, i_w5;

	(void)state;
	for (m = -120; m < 1440; m++)
		probe(&v, D + MINS(m),
		      (m >= 615 && m < 645) || (m >= 840 && m < 870)
			      ? ALOG_AV_PROBE_DOWN : ALOG_AV_PROBE_UP);
	maint(&v, D - HRS(1), D + MINS(30), "CHG-3");
	maint(&v, D + HRS(10), D + HRS(11), "CHG-1");
	maint(&v, D + MINS(630), D + HRS(12), "CHG-2");
	i_c = maint(&v, D + HRS(14), D + MINS(870), NULL);
	i_w5 = maint(&v, D + HRS(16), D + MINS(970), "");
	maint(&v, D + HRS(30), D + HRS(31), "CHG-9");
	run(&c, 0, D, D + S(86400), &v, &r);
	check_sums(&r);

	assert_int_equal(r.signal, ALOG_AV_SIGNAL_PROBES);
	assert_int_equal(r.total.excluded_us, S(9000));
	assert_int_equal(r.total.down_us, S(1800));
	assert_int_equal(r.total.unknown_us, 0);
	assert_int_equal(r.total.raw_ppm, 976744);
	assert_false(r.total.pass);

	assert_int_equal(r.n_windows, 5);
	assert_int_equal(r.windows[0].start_us, D);       /* clipped */
	assert_int_equal(r.windows[0].end_us, D + MINS(30));
	assert_true(r.windows[0].approved);
	assert_true(r.windows[1].approved);
	assert_true(r.windows[2].approved);
	assert_false(r.windows[3].approved);
	assert_int_equal(r.windows[3].src->index, i_c);
	assert_false(r.windows[4].approved);
	assert_int_equal(r.windows[4].src->index, i_w5);
	assert_int_equal(r.n_unapproved, 2);

	/* the 10:15 outage was all excluded, the 14:00 one all down */
	assert_int_equal(r.n_episodes, 2);
	assert_int_equal(r.episodes[0].excluded_us, MINS(30));
	assert_int_equal(r.episodes[0].down_us, 0);
	assert_int_equal(r.episodes[1].down_us, MINS(30));
	assert_string_equal(r.episodes[1].trigger, "probe");
	alog_av_result_release(&r);
	free(v.o);
}

/*
 * V-AVAIL-4. No observation at all: T = U = 86400 s, 0.000 %, fails, and
 * the failure is due to unknown time (as up it would be 100 %).
 */
static void test_availability_component_without_data_is_all_unknown_and_fails(void **state)
{
	struct alog_config_component c = comp(999000, 60, 0);
	struct alog_av_result r;
	struct obsv v = { 0 };
	char txt[ALOG_AV_PERCENT_TEXT_MAX];

	(void)state;
	run(&c, 0, D, D + S(86400), &v, &r);
	check_sums(&r);
	assert_int_equal(r.signal, ALOG_AV_SIGNAL_PROBES);
	assert_true(r.total.measured);
	assert_int_equal(r.total.unknown_us, S(86400));
	assert_int_equal(r.total.up_us, 0);
	assert_int_equal(r.total.raw_ppm, 0);
	assert_int_equal(r.total.weighted_ppm, 0);
	assert_int_equal(alog_av_percent_format(r.total.raw_ppm, txt), 0);
	assert_string_equal(txt, "0.000");
	assert_false(r.total.pass);
	assert_true(r.total.unknown_decides);
	assert_int_equal(r.total.budget_used_permille, 0);
	assert_int_equal(r.state_at_from, ALOG_AV_UNKNOWN);
	assert_int_equal(r.state_at_from_index, ALOG_AV_NO_INDEX);
	assert_int_equal(r.n_episodes, 0);
	assert_false(r.has_mttr);
	assert_false(r.has_mtbf);
	assert_false(r.has_mttd);
	assert_false(r.has_longest);
	assert_int_equal(r.n_segments, 1);
	assert_int_equal(r.segments[0].cls, ALOG_AV_UNKNOWN);
	alog_av_result_release(&r);
}

/*
 * V-AVAIL-5. Period [D, D + 1 day), target 99.9 %: open 06:00-06:10,
 * half_open 06:10-06:20, open 06:20-06:40 (probe_failure), half_open
 * 06:40-07:40, closed (probe_success). Dm = 10 + 20 = 30 min = 1800 s;
 * Dp = 10 + 60 = 70 min = 4200 s.
 *   raw = (86400 - 1800) / 86400 = 0.9791666... -> 979166 (any w).
 *   w = 0:    weighted = 84600 / 86400 -> 979166;
 *             budget = 1800 / 86.4 = 20.8333 -> 20834 permille (up).
 *   w = 300:  (84600 - 0.3 * 4200) / 86400 = 83340 / 86400 = 0.9645833
 *             -> 964583; budget = 3060 / 86.4 = 35.41666 -> 35417.
 *   w = 1000: (84600 - 4200) / 86400 = 80400 / 86400 = 0.9305555
 *             -> 930555; budget = 6000 / 86.4 = 69.4444 -> 69445.
 */
static void test_availability_half_open_time_counts_by_weight_0_300_1000(void **state)
{
	static const uint32_t w[3] = { 0, 300, 1000 };
	static const uint32_t want_ppm[3] = { 979166, 964583, 930555 };
	static const uint64_t want_budget[3] = { 20834, 35417, 69445 };
	struct alog_config_component c = comp(999000, 60, 0);
	struct obsv v = { 0 };
	size_t i;

	(void)state;
	probes_up(&v, D - S(60), D + S(86400), S(60));
	tr(&v, D + HRS(6), ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN,
	   ALOG_BREAKER_FAILURE_THRESHOLD);
	tr(&v, D + MINS(370), ALOG_BREAKER_OPEN, ALOG_BREAKER_HALF_OPEN,
	   ALOG_BREAKER_OPEN_TIMEOUT);
	tr(&v, D + MINS(380), ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_OPEN,
	   ALOG_BREAKER_PROBE_FAILURE);
	tr(&v, D + MINS(400), ALOG_BREAKER_OPEN, ALOG_BREAKER_HALF_OPEN,
	   ALOG_BREAKER_OPEN_TIMEOUT);
	tr(&v, D + MINS(460), ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_CLOSED,
	   ALOG_BREAKER_PROBE_SUCCESS);
	for (i = 0; i < 3; i++) {
		struct alog_av_result r;

		run(&c, w[i], D, D + S(86400), &v, &r);
		check_sums(&r);
		assert_int_equal(r.weight_permille, w[i]);
		assert_int_equal(r.total.down_us, S(1800));
		assert_int_equal(r.total.partial_us, S(4200));
		assert_int_equal(r.total.raw_ppm, 979166);
		assert_int_equal(r.total.weighted_ppm, want_ppm[i]);
		assert_int_equal(r.total.budget_used_permille, want_budget[i]);
		assert_false(r.total.pass);
		assert_int_equal(r.n_episodes, 1);
		assert_int_equal(r.episodes[0].duration_us, MINS(100));
		assert_int_equal(r.episodes[0].down_us, S(1800));
		assert_int_equal(r.episodes[0].partial_us, S(4200));
		assert_int_equal(r.episodes[0].half_open_failures, 1);
		assert_int_equal(r.episodes[0].recovery,
				 ALOG_AV_RECOVERY_AUTOMATIC);
		alog_av_result_release(&r);
	}
	free(v.o);
}

/*
 * V-AVAIL-6. Probes every 60 s (tolerance 180 s) from 00:00 to 11:59, the
 * last one down; none until 18:00, then up every minute. Known: [00:00,
 * 12:02) and [18:00, 24:02). The state stays down through the gap, but
 * the gap is unknown, not down:
 *   Dm = 11:59 -> 12:02 = 180 s; U = 12:02 -> 18:00 = 21480 s.
 *   raw = (86400 - 180 - 21480) / 86400 = 64740 / 86400 = 0.7493055...
 *       -> 749305 ppm; with U as up: 86220 / 86400 -> 997916 >= 995000,
 *   so the unknown time decides the failure.
 *   Episode: 11:59 -> 18:00 = 21660 s: down 180 s + unknown 21480 s.
 *   MTTD: the up probe at 11:58 -> 60 s.
 */
static void test_availability_probe_coverage_gaps_are_unknown_never_up(void **state)
{
	struct alog_config_component c = comp(995000, 60, 0);
	struct alog_av_result r;
	struct obsv v = { 0 };
	int64_t m;

	(void)state;
	for (m = 0; m < 720; m++)
		probe(&v, D + MINS(m),
		      m == 719 ? ALOG_AV_PROBE_DOWN : ALOG_AV_PROBE_UP);
	probes_up(&v, D + HRS(18), D + HRS(24), S(60));
	run(&c, 0, D, D + HRS(24), &v, &r);
	check_sums(&r);

	assert_int_equal(r.total.down_us, S(180));
	assert_int_equal(r.total.unknown_us, S(21480));
	assert_int_equal(r.total.raw_ppm, 749305);
	assert_false(r.total.pass);
	assert_true(r.total.unknown_decides);
	assert_int_equal(r.n_episodes, 1);
	assert_int_equal(r.episodes[0].start_us, D + MINS(719));
	assert_int_equal(r.episodes[0].end_us, D + HRS(18));
	assert_int_equal(r.episodes[0].duration_us, S(21660));
	assert_int_equal(r.episodes[0].down_us, S(180));
	assert_int_equal(r.episodes[0].unknown_us, S(21480));
	assert_int_equal(r.episodes[0].detect_us, S(60));
	assert_int_equal(r.n_segments, 4);
	assert_int_equal(r.segments[0].cls, ALOG_AV_UP);
	assert_int_equal(r.segments[1].cls, ALOG_AV_DOWN);
	assert_int_equal(r.segments[2].cls, ALOG_AV_UNKNOWN);
	assert_int_equal(r.segments[2].start_us, D + MINS(722));
	assert_int_equal(r.segments[2].end_us, D + HRS(18));
	assert_int_equal(r.segments[3].cls, ALOG_AV_UP);
	alog_av_result_release(&r);
	free(v.o);
}

/* One 60 s breaker episode starting at t. */
static void blip(struct obsv *v, int64_t t)
{
	tr(v, t, ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN,
	   ALOG_BREAKER_FAILURE_THRESHOLD);
	tr(v, t + S(30), ALOG_BREAKER_OPEN, ALOG_BREAKER_HALF_OPEN,
	   ALOG_BREAKER_OPEN_TIMEOUT);
	tr(v, t + S(60), ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_CLOSED,
	   ALOG_BREAKER_PROBE_SUCCESS);
}

/*
 * V-AVAIL-7. Episodes start at 01:00, 01:20, 01:50, 02:10 (01:50 - 01:00
 * and 02:10 - 01:20 are 50 min < 1 h: one group of four), 05:00, 05:40,
 * 06:00:01 (06:00:01 - 05:00 = 1 h 1 s: no), 10:00, 10:30, 11:00
 * (exactly 1 h: no; the window is open at its end).
 */
static void test_availability_flapping_needs_three_episode_starts_within_an_hour(void **state)
{
	static const int64_t starts_s[10] = {
		3600, 4800, 6600, 7800, 18000, 20400, 21601, 36000, 37800,
		39600,
	};
	struct alog_config_component c = comp(995000, 60, 0);
	struct alog_av_result r;
	struct obsv v = { 0 };
	size_t i;

	(void)state;
	probes_up(&v, D - S(60), D + HRS(24), S(60));
	for (i = 0; i < 10; i++)
		blip(&v, D + S(starts_s[i]));
	run(&c, 0, D, D + HRS(24), &v, &r);
	check_sums(&r);

	assert_int_equal(r.n_episodes, 10);
	for (i = 0; i < 10; i++) {
		assert_int_equal(r.episodes[i].start_us, D + S(starts_s[i]));
		assert_int_equal(r.episodes[i].flapping, i < 4);
	}
	assert_int_equal(r.n_flapping, 4);
	assert_int_equal(r.n_flaps, 1);
	assert_int_equal(r.flaps[0].first, 0);
	assert_int_equal(r.flaps[0].last, 3);
	assert_int_equal(r.flaps[0].first_start_us, D + HRS(1));
	assert_int_equal(r.flaps[0].last_start_us, D + S(7800));
	/* each blip: 30 s down, 30 s partial */
	assert_int_equal(r.total.down_us, S(300));
	assert_int_equal(r.total.partial_us, S(300));
	assert_int_equal(r.mttr_us, S(60));
	alog_av_result_release(&r);
	free(v.o);
}

/*
 * V-AVAIL-8. primary_store, failover target 30 s. The daemon runs since
 * D - 1 day.
 *   A0 fails at D - 2 h (before the period: not listed).
 *   A1 fails at D + 1 h, first spooled 800 ms later: 0.8 s, pass. Files:
 *      100 = 90 + 5 + 3 + 2 and 50 = 50 (drained): spooled 150 =
 *      140 + 5 + 3 + 2, reconciled. Breaker: open 15 s, half_open 0.5 s.
 *   A2 fails at D + 5 h, first spooled 45 s later: fail. Its file says
 *      10 records but 7 + 1 + 0 + 0 = 8: not reconciled (that file).
 *   A backup.replayed at D + 6 h after A2 drained: an orphan (finding).
 *   A3 fails at D + 8 h, first spooled exactly 30 s later: pass (the
 *      target is inclusive); no file yet: not drained. An import's
 *      backup.replayed is ignored.
 */
static void test_availability_failover_times_against_target_and_spool_reconciliation(void **state)
{
	struct alog_config_component c = comp(999000, 60, 1);
	struct alog_av_result r;
	struct obsv v = { 0 };
	uint64_t i_a1, i_bad, i_orphan;
	struct alog_av_obs *imp;

	(void)state;
	life(&v, ALOG_AV_DAEMON_STARTED, D - HRS(24));
	activated(&v, D - HRS(2), D - HRS(2) + S(1));
	replayed(&v, D - HRS(2) + MINS(1), 5, 5, 0, 0, 0, 1);
	i_a1 = activated(&v, D + HRS(1), D + HRS(1) + 800000);
	tr(&v, D + HRS(1) + 200000, ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN,
	   ALOG_BREAKER_FAILURE_THRESHOLD);
	tr(&v, D + HRS(1) + S(15) + 200000, ALOG_BREAKER_OPEN,
	   ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_OPEN_TIMEOUT);
	tr(&v, D + HRS(1) + S(15) + 700000, ALOG_BREAKER_HALF_OPEN,
	   ALOG_BREAKER_CLOSED, ALOG_BREAKER_PROBE_SUCCESS);
	replayed(&v, D + HRS(1) + S(16), 100, 90, 5, 3, 2, 0);
	replayed(&v, D + HRS(1) + S(17), 50, 50, 0, 0, 0, 1);
	activated(&v, D + HRS(5), D + HRS(5) + S(45));
	i_bad = replayed(&v, D + HRS(5) + MINS(2), 10, 7, 1, 0, 0, 1);
	i_orphan = replayed(&v, D + HRS(6), 1, 1, 0, 0, 0, 1);
	activated(&v, D + HRS(8), D + HRS(8) + S(30));
	imp = push(&v, ALOG_AV_REPLAYED);
	imp->replayed.import = 1;
	imp->replayed.replayed_at_us = D + HRS(9);
	imp->replayed.records = 3;
	run(&c, 0, D, D + HRS(24), &v, &r);
	check_sums(&r);

	assert_int_equal(r.signal, ALOG_AV_SIGNAL_BREAKER);
	assert_true(r.daemon_owned);
	assert_int_equal(r.total.down_us, S(15));
	assert_int_equal(r.total.partial_us, 500000);
	assert_int_equal(r.total.unknown_us, 0);

	assert_int_equal(r.n_activations, 3);
	assert_int_equal(r.activations[0].src->index, i_a1);
	assert_true(r.activations[0].failover_measured);
	assert_int_equal(r.activations[0].failover_us, 800000);
	assert_true(r.activations[0].failover_pass);
	assert_int_equal(r.activations[0].n_files, 2);
	assert_int_equal(r.activations[0].spooled, 150);
	assert_int_equal(r.activations[0].imported, 140);
	assert_int_equal(r.activations[0].duplicates, 5);
	assert_int_equal(r.activations[0].conflicts, 3);
	assert_int_equal(r.activations[0].refused, 2);
	assert_true(r.activations[0].drained);
	assert_int_equal(r.activations[0].drained_at_us, D + HRS(1) + S(17));
	assert_true(r.activations[0].reconciled);
	assert_int_equal(r.activations[0].bad_index, ALOG_AV_NO_INDEX);

	assert_int_equal(r.activations[1].failover_us, S(45));
	assert_false(r.activations[1].failover_pass);
	assert_false(r.activations[1].reconciled);
	assert_int_equal(r.activations[1].bad_index, i_bad);
	assert_int_equal(r.activations[1].spooled, 10);
	assert_true(r.activations[1].drained);

	assert_int_equal(r.activations[2].failover_us, S(30));
	assert_true(r.activations[2].failover_pass);
	assert_false(r.activations[2].drained);
	assert_int_equal(r.activations[2].n_files, 0);
	assert_true(r.activations[2].reconciled);

	assert_int_equal(r.n_failover_pass, 2);
	assert_int_equal(r.n_unreconciled, 1);
	assert_int_equal(r.n_findings, 1);
	assert_int_equal(r.findings[0].kind, ALOG_AV_FINDING_ORPHAN_REPLAY);
	assert_int_equal(r.findings[0].index, i_orphan);
	alog_av_result_release(&r);
	free(v.o);
}

/*
 * V-AVAIL-9. primary_store over [D, D + 1 day): started 00:00, stopped
 * 10:00, a stray stop at 11:00 (finding), started 12:00, breaker open at
 * 15:00, started again at 20:00 without a stop (the 12:00 run crashed:
 * known up to its last evidence, the 15:00 transition; finding).
 *   Known: [0, 10 h) u [12 h, 15 h) u [20 h, 24 h); U = 2 h + 5 h =
 *   25200 s; up = 10 + 3 + 4 = 17 h = 61200 s; Dm = 0 (open only while
 *   unknown). raw = 61200 / 86400 = 0.708333... -> 708333.
 *   Episode 15:00 -> 20:00, recovered by the restart (breaker closed).
 */
static void test_availability_daemon_known_time_comes_from_its_runs(void **state)
{
	struct alog_config_component c = comp(999000, 60, 1);
	struct alog_av_result r;
	struct obsv v = { 0 };
	uint64_t i_stray, i_restart;

	(void)state;
	life(&v, ALOG_AV_DAEMON_STARTED, D);
	life(&v, ALOG_AV_DAEMON_STOPPED, D + HRS(10));
	i_stray = life(&v, ALOG_AV_DAEMON_STOPPED, D + HRS(11));
	life(&v, ALOG_AV_DAEMON_STARTED, D + HRS(12));
	tr(&v, D + HRS(15), ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN,
	   ALOG_BREAKER_FAILURE_THRESHOLD);
	i_restart = life(&v, ALOG_AV_DAEMON_STARTED, D + HRS(20));
	run(&c, 0, D, D + HRS(24), &v, &r);
	check_sums(&r);

	assert_int_equal(r.tolerance_us, 0);
	assert_int_equal(r.total.unknown_us, S(25200));
	assert_int_equal(r.total.up_us, S(61200));
	assert_int_equal(r.total.down_us, 0);
	assert_int_equal(r.total.raw_ppm, 708333);
	assert_int_equal(r.n_episodes, 1);
	assert_int_equal(r.episodes[0].start_us, D + HRS(15));
	assert_int_equal(r.episodes[0].end_us, D + HRS(20));
	assert_int_equal(r.episodes[0].unknown_us, HRS(5));
	assert_int_equal(r.episodes[0].recovery, ALOG_AV_RECOVERY_RESTART);
	assert_int_equal(r.episodes[0].end_index, i_restart);
	assert_int_equal(r.n_findings, 2);
	assert_int_equal(r.findings[0].kind,
			 ALOG_AV_FINDING_STOP_WITHOUT_START);
	assert_int_equal(r.findings[0].index, i_stray);
	assert_int_equal(r.findings[1].kind, ALOG_AV_FINDING_CRASHED_RUN);
	assert_int_equal(r.findings[1].index, i_restart);
	alog_av_result_release(&r);
	free(v.o);
}

/*
 * V-AVAIL-10. Period [2024-01-31, 2024-02-02), down 2024-01-31T23:30Z ->
 * 2024-02-01T01:00Z (probes every minute).
 *   January: [JAN31, FEB1) = 86400 s, Dm 1800 s -> 84600 / 86400 =
 *   0.9791666 -> 979166; the episode started here.
 *   February: [FEB1, FEB2), Dm 3600 s -> 82800 / 86400 -> 958333.
 *   Whole: Dm 5400 s of 172800 -> 167400 / 172800 = 0.96875 -> 968750.
 * And a period without data [2023-12-31, 2024-03-02) touches December
 * (1 day), January (31), February 2024 (29, leap year) and March (1).
 */
static void test_availability_months_split_at_utc_month_boundaries(void **state)
{
	struct alog_config_component c = comp(995000, 60, 0);
	struct alog_av_result r;
	struct obsv v = { 0 };
	int64_t m;

	(void)state;
	for (m = -1; m < 2880; m++)
		probe(&v, JAN31 + MINS(m),
		      m >= 1410 && m < 1500 ? ALOG_AV_PROBE_DOWN
					    : ALOG_AV_PROBE_UP);
	run(&c, 0, JAN31, FEB2, &v, &r);
	check_sums(&r);
	assert_int_equal(r.n_months, 2);
	assert_int_equal(r.months[0].year, 2024);
	assert_int_equal(r.months[0].month, 1);
	assert_int_equal(r.months[0].t.from_us, JAN31);
	assert_int_equal(r.months[0].t.to_us, FEB1);
	assert_int_equal(r.months[0].t.down_us, S(1800));
	assert_int_equal(r.months[0].t.raw_ppm, 979166);
	assert_int_equal(r.months[0].t.episodes_started, 1);
	assert_int_equal(r.months[1].month, 2);
	assert_int_equal(r.months[1].t.from_us, FEB1);
	assert_int_equal(r.months[1].t.to_us, FEB2);
	assert_int_equal(r.months[1].t.down_us, S(3600));
	assert_int_equal(r.months[1].t.raw_ppm, 958333);
	assert_int_equal(r.months[1].t.episodes_started, 0);
	assert_int_equal(r.total.down_us, S(5400));
	assert_int_equal(r.total.raw_ppm, 968750);
	assert_int_equal(r.n_episodes, 1);
	assert_int_equal(r.episodes[0].down_us, S(5400));
	alog_av_result_release(&r);

	v.n = 0;
	run(&c, 0, DEC31, MAR2, &v, &r);
	check_sums(&r);
	assert_int_equal(r.n_months, 4);
	assert_int_equal(r.months[0].year, 2023);
	assert_int_equal(r.months[0].month, 12);
	assert_int_equal(r.months[0].t.period_us, S(86400));
	assert_int_equal(r.months[1].t.from_us, JAN1);
	assert_int_equal(r.months[1].t.period_us, S(31 * 86400));
	assert_int_equal(r.months[2].month, 2);
	assert_int_equal(r.months[2].t.period_us, S(29 * 86400));
	assert_int_equal(r.months[3].month, 3);
	assert_int_equal(r.months[3].t.from_us, D);
	assert_int_equal(r.months[3].t.period_us, S(86400));
	alog_av_result_release(&r);
	free(v.o);
}

/*
 * V-AVAIL-11. Probes only, period [D, D + 1 day). No probe before 01:00,
 * then down every minute until 01:30 (first evidence ever is down: the
 * episode's MTTD is not measurable); a denied reset at 01:10 and a
 * successful one at 01:20 (manual recovery); up from 01:30 every minute.
 * A second outage 05:00 -> 05:10 with only a denied reset at 05:05
 * recovers by itself; its MTTD is 60 s (up probe at 04:59).
 *   U = 1 h (no probe before 01:00); MTTD = 60 s over one episode.
 */
static void test_availability_manual_recovery_needs_a_successful_admin_reset(void **state)
{
	struct alog_config_component c = comp(995000, 60, 0);
	struct alog_av_result r;
	struct obsv v = { 0 };
	int64_t m;
	uint64_t i_ok;

	(void)state;
	for (m = 60; m < 1440; m++)
		probe(&v, D + MINS(m),
		      m < 90 || (m >= 300 && m < 310) ? ALOG_AV_PROBE_DOWN
						      : ALOG_AV_PROBE_UP);
	admin(&v, D + MINS(70), "breaker.reset", ALOG_AV_OUTCOME_DENIED);
	i_ok = admin(&v, D + MINS(80), "breaker.reset",
		     ALOG_AV_OUTCOME_SUCCESS);
	admin(&v, D + MINS(305), "breaker.reset", ALOG_AV_OUTCOME_DENIED);
	run(&c, 0, D, D + HRS(24), &v, &r);
	check_sums(&r);

	assert_int_equal(r.total.unknown_us, HRS(1));
	assert_int_equal(r.total.down_us, MINS(40));
	assert_int_equal(r.n_episodes, 2);
	assert_int_equal(r.episodes[0].recovery, ALOG_AV_RECOVERY_MANUAL);
	assert_int_equal(r.episodes[0].admin_index, i_ok);
	assert_false(r.episodes[0].has_detect);
	assert_int_equal(r.episodes[1].recovery, ALOG_AV_RECOVERY_AUTOMATIC);
	assert_int_equal(r.episodes[1].admin_index, ALOG_AV_NO_INDEX);
	assert_true(r.episodes[1].has_detect);
	assert_int_equal(r.episodes[1].detect_us, S(60));
	assert_int_equal(r.n_mttd, 1);
	assert_int_equal(r.mttd_us, S(60));
	assert_int_equal(r.n_interventions, 3);
	assert_int_equal(r.interventions[1]->index, i_ok);
	assert_string_equal(r.interventions[1]->admin.operator_name, "alice");
	alog_av_result_release(&r);
	free(v.o);
}

static void test_availability_transition_chain_break_is_a_finding(void **state)
{
	struct alog_config_component c = comp(995000, 60, 0);
	struct alog_av_result r;
	struct obsv v = { 0 };
	uint64_t i_break;

	(void)state;
	probes_up(&v, D, D + HRS(24), S(60));
	tr(&v, D + HRS(1), ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN,
	   ALOG_BREAKER_FAILURE_THRESHOLD);
	/* open -> half_open is missing */
	i_break = tr(&v, D + HRS(2), ALOG_BREAKER_HALF_OPEN,
		     ALOG_BREAKER_CLOSED, ALOG_BREAKER_PROBE_SUCCESS);
	run(&c, 0, D, D + HRS(24), &v, &r);
	check_sums(&r);
	assert_int_equal(r.n_findings, 1);
	assert_int_equal(r.findings[0].kind, ALOG_AV_FINDING_CHAIN_BREAK);
	assert_int_equal(r.findings[0].index, i_break);
	assert_int_equal(r.findings[0].at_us, D + HRS(2));
	/* the state is taken as the log gives it: open 01:00 -> 02:00 */
	assert_int_equal(r.total.down_us, HRS(1));
	alog_av_result_release(&r);

	/* A first transition not from closed: the state before it is not
	 * known, so the time before it is unknown (and a finding). */
	v.n = 0;
	probes_up(&v, D, D + HRS(24), S(60));
	tr(&v, D + HRS(2), ALOG_BREAKER_OPEN, ALOG_BREAKER_HALF_OPEN,
	   ALOG_BREAKER_OPEN_TIMEOUT);
	tr(&v, D + HRS(3), ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_CLOSED,
	   ALOG_BREAKER_PROBE_SUCCESS);
	run(&c, 0, D, D + HRS(24), &v, &r);
	check_sums(&r);
	assert_int_equal(r.n_findings, 1);
	assert_int_equal(r.total.unknown_us, HRS(2));
	assert_int_equal(r.total.partial_us, HRS(1));
	assert_int_equal(r.n_episodes, 1);
	alog_av_result_release(&r);
	free(v.o);
}

static void expect_einval(struct alog_av_input *in, const char *part)
{
	struct alog_av_result r;
	struct alog_err err = { 0 };

	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(alog_av_compute(in, &r, &err), ALOG_EINVAL);
	assert_int_equal(err.code, ALOG_EINVAL);
	if (!strstr(err.msg, part))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, part);
	assert_null(r.episodes);
	assert_int_equal(r.n_months, 0);
}

static void test_availability_rejects_bad_input_naming_the_observation(void **state)
{
	struct alog_config_component c = comp(999000, 60, 0);
	struct alog_av_input in, base;
	struct alog_av_obs o[2];
	struct alog_av_result r;
	struct alog_err err = { 0 };

	(void)state;
	memset(o, 0, sizeof(o));
	memset(&base, 0, sizeof(base));
	base.component = &c;
	base.failover_target_s = 30;
	base.from_us = D;
	base.to_us = D + HRS(24);
	base.obs = o;

	in = base;
	in.to_us = D;
	expect_einval(&in, "the period is empty");
	in = base;
	in.partial_weight_permille = 1001;
	expect_einval(&in, "partial weight 1001");
	c.target_ppm = 1000000;
	expect_einval(&base, "target 1000000 ppm");
	c.target_ppm = 0;
	expect_einval(&base, "target 0 ppm");
	c.target_ppm = 999000;
	c.probe_interval_s = 0;
	expect_einval(&base, "probe interval 0");
	c.probe_interval_s = 60;

	o[0].kind = ALOG_AV_MAINTENANCE;
	o[0].index = 7;
	o[0].maintenance.start_us = D;
	o[0].maintenance.end_us = D;
	in = base;
	in.n_obs = 1;
	expect_einval(&in, "observation 0 (log index 7): maintenance window does not end after its start");

	o[0].kind = ALOG_AV_TRANSITION;
	o[0].transition.at_us = D;
	o[0].transition.from = ALOG_BREAKER_CLOSED;
	o[0].transition.to = ALOG_BREAKER_HALF_OPEN;
	o[0].transition.cause = ALOG_BREAKER_OPEN_TIMEOUT;
	expect_einval(&in, "(from, to, cause)");

	o[0].kind = ALOG_AV_PROBE;
	o[0].probe.time_us = D;
	o[0].probe.status = (enum alog_av_probe_status)3;
	expect_einval(&in, "probe status");
	o[0].probe.status = ALOG_AV_PROBE_UP;
	o[0].probe.time_us = ALOG_TIME_MAX_US + 1;
	expect_einval(&in, "probe time out of range");
	o[0].probe.time_us = D;

	o[1] = o[0];
	o[1].index = 7;  /* not after index 7 */
	in.n_obs = 2;
	expect_einval(&in, "observation 1 (log index 7): not after");

	o[0].kind = (enum alog_av_kind)99;
	in.n_obs = 1;
	expect_einval(&in, "unknown observation kind");

	/* limits */
	in = base;
	in.n_obs = (size_t)ALOG_AV_OBS_MAX + 1;
	assert_int_equal(alog_av_compute(&in, &r, &err), ALOG_ELIMIT);
	in = base;
	/* 1924-03-01 (Python datetime): March 1924 .. March 2024 = 1201 */
	in.from_us = D - HRS(24) * 36525;
	assert_int_equal(alog_av_compute(&in, &r, &err), ALOG_ELIMIT);
	assert_non_null(strstr(err.msg, "more than 1200 months"));
	/* 1924-04-01: April 1924 .. March 2024 = 1200, the limit */
	in.from_us = D - HRS(24) * 36494;
	assert_int_equal(alog_av_compute(&in, &r, &err), 0);
	assert_int_equal(r.n_months, 1200);
	alog_av_result_release(&r);
	alog_av_result_release(NULL);
}

/* Percent text is the ppm truncated to three decimals. */
static void test_availability_percent_text_rounds_down(void **state)
{
	char txt[ALOG_AV_PERCENT_TEXT_MAX];

	(void)state;
	text_is(999000, "99.900");
	text_is(1000000, "100.000");
	text_is(0, "0.000");
	text_is(999999, "99.999");
	text_is(9, "0.000");
	text_is(10, "0.001");
	text_is(995138, "99.513");
	assert_int_equal(alog_av_percent_format(1000001, txt), ALOG_EINVAL);
}

static void test_availability_names_are_the_spec_texts(void **state)
{
	(void)state;
	assert_string_equal(alog_av_signal_name(ALOG_AV_SIGNAL_BREAKER),
			    "breaker");
	assert_string_equal(alog_av_signal_name(ALOG_AV_SIGNAL_PROBES),
			    "probes");
	assert_string_equal(alog_av_class_name(ALOG_AV_PARTIAL), "partial");
	assert_string_equal(alog_av_class_name(ALOG_AV_EXCLUDED), "excluded");
	assert_string_equal(alog_av_recovery_name(ALOG_AV_RECOVERY_RESTART),
			    "restart");
	assert_string_equal(alog_av_finding_name(ALOG_AV_FINDING_ORPHAN_REPLAY),
			    "orphan_replay");
	assert_null(alog_av_class_name((enum alog_av_class)5));
	assert_null(alog_av_signal_name((enum alog_av_signal)2));
}

/* A small deterministic generator (xorshift64*). */
static uint64_t rnd_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(uint64_t n)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return (rnd_state * 0x2545f4914f6cdd1du) % n;
}

static void test_availability_random_inputs_keep_every_sum_exact(void **state)
{
	static const struct {
		enum alog_breaker_state from, to;
		enum alog_breaker_cause cause;
	} combos[] = {
		{ ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN, ALOG_BREAKER_FAILURE_THRESHOLD },
		{ ALOG_BREAKER_OPEN, ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_OPEN_TIMEOUT },
		{ ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_CLOSED, ALOG_BREAKER_PROBE_SUCCESS },
		{ ALOG_BREAKER_HALF_OPEN, ALOG_BREAKER_OPEN, ALOG_BREAKER_PROBE_FAILURE },
		{ ALOG_BREAKER_OPEN, ALOG_BREAKER_CLOSED, ALOG_BREAKER_RESET },
		{ ALOG_BREAKER_CLOSED, ALOG_BREAKER_OPEN, ALOG_BREAKER_FORCED_OPEN },
	};
	int round;

	(void)state;
	for (round = 0; round < 300; round++) {
		struct alog_config_component c =
			comp(990000 + (uint32_t)rnd(9999), 1 + (uint32_t)rnd(600),
			     round % 4 == 3);
		struct obsv v = { 0 };
		struct alog_av_result r;
		int64_t from = JAN1 + (int64_t)rnd(HRS(24 * 60));
		int64_t to = from + 1 + (int64_t)rnd(HRS(24 * 70));
		int64_t span = to - from + HRS(48);
		size_t n = rnd(400), i;

		for (i = 0; i < n; i++) {
			int64_t t = from - HRS(24) + (int64_t)rnd((uint64_t)span);
			struct alog_av_obs *o;
			size_t k;

			switch (rnd(8)) {
			case 0:
			case 1:
				k = rnd(sizeof(combos) / sizeof(combos[0]));
				tr(&v, t, combos[k].from, combos[k].to,
				   combos[k].cause);
				break;
			case 2:
			case 3:
				probe(&v, t, (enum alog_av_probe_status)rnd(3));
				break;
			case 4:
				maint(&v, t, t + 1 + (int64_t)rnd(HRS(30)),
				      rnd(2) ? "CHG" : NULL);
				break;
			case 5:
				life(&v, rnd(2) ? ALOG_AV_DAEMON_STARTED
						: ALOG_AV_DAEMON_STOPPED, t);
				break;
			case 6:
				admin(&v, t, "breaker.reset",
				      (enum alog_av_outcome)rnd(3));
				break;
			default:
				if (rnd(2)) {
					activated(&v, t, t + (int64_t)rnd(S(60)));
				} else {
					o = push(&v, ALOG_AV_REPLAYED);
					o->replayed.replayed_at_us = t;
					o->replayed.records = rnd(10);
					o->replayed.imported = rnd(10);
					o->replayed.drained = (int)rnd(2);
				}
				break;
			}
		}
		run(&c, (uint32_t)rnd(1001), from, to, &v, &r);
		check_sums(&r);
		alog_av_result_release(&r);
		free(v.o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_availability_43m12s_down_in_a_30_day_month_is_exactly_99_900_percent),
		cmocka_unit_test(test_availability_one_microsecond_over_the_budget_fails),
		cmocka_unit_test(test_availability_carries_in_an_open_breaker_and_clips_episodes_at_both_ends),
		cmocka_unit_test(test_availability_excludes_the_union_of_approved_windows_and_flags_one_without_change_ref),
		cmocka_unit_test(test_availability_component_without_data_is_all_unknown_and_fails),
		cmocka_unit_test(test_availability_half_open_time_counts_by_weight_0_300_1000),
		cmocka_unit_test(test_availability_probe_coverage_gaps_are_unknown_never_up),
		cmocka_unit_test(test_availability_flapping_needs_three_episode_starts_within_an_hour),
		cmocka_unit_test(test_availability_failover_times_against_target_and_spool_reconciliation),
		cmocka_unit_test(test_availability_daemon_known_time_comes_from_its_runs),
		cmocka_unit_test(test_availability_months_split_at_utc_month_boundaries),
		cmocka_unit_test(test_availability_manual_recovery_needs_a_successful_admin_reset),
		cmocka_unit_test(test_availability_transition_chain_break_is_a_finding),
		cmocka_unit_test(test_availability_rejects_bad_input_naming_the_observation),
		cmocka_unit_test(test_availability_percent_text_rounds_down),
		cmocka_unit_test(test_availability_names_are_the_spec_texts),
		cmocka_unit_test(test_availability_random_inputs_keep_every_sum_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
