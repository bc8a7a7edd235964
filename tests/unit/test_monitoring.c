/*
 * test_monitoring: the CC7.2 monitoring figures (report/monitoring.h,
 * SPEC.md 20A) on hand-built event streams; every expected number is
 * worked out by hand in the comments: vectors V-MON-1 .. V-MON-4.
 *
 * Times: D = 2024-03-04T00:00:00Z (a Monday) = 1709510400000000 us
 * (V-CONFIG-2).
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
#include "report/monitoring.h"

#define S(x) ((int64_t)(x) * INT64_C(1000000))
#define MINS(x) S((int64_t)(x) * 60)
#define HRS(x) S((int64_t)(x) * 3600)
#define D INT64_C(1709510400000000)

/* One configured component "api" (probes every 60 s) and primary_store
 * (added with the defaults: also 60 s). */
static const char config_text[] =
	"{\"components\":[{\"name\":\"api\",\"tier\":\"critical\","
	"\"probe_interval_s\":60}]}";

struct evs {
	struct alog_rules_event *e;
	size_t n, cap;
};

static struct alog_rules_event *push(struct evs *v, enum alog_rules_type type,
				     int64_t rx)
{
	struct alog_rules_event *ev;

	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 256;
		v->e = realloc(v->e, v->cap * sizeof(*v->e));
		assert_non_null(v->e);
	}
	ev = &v->e[v->n];
	memset(ev, 0, sizeof(*ev));
	ev->index = 1000 + v->n;
	ev->type = type;
	ev->received_us = rx;
	ev->has_time = 1;
	ev->time_us = rx;
	ev->source = "app";
	v->n++;
	return ev;
}

static void load_config(struct alog_config *cfg)
{
	struct alog_err err = { 0 };

	assert_int_equal(alog_config_parse(cfg, config_text,
					   sizeof(config_text) - 1, "t.json",
					   &err), 0);
	assert_int_equal(cfg->n_components, 2);
	assert_string_equal(cfg->components[0].name, "api");
}

static void compute(const struct alog_config *cfg, int64_t from, int64_t to,
		    int64_t cp_interval, const struct evs *v,
		    struct alog_mon_result *r)
{
	struct alog_mon_input in;
	struct alog_err err = { 0 };

	memset(&in, 0, sizeof(in));
	in.cfg = cfg;
	in.from_us = from;
	in.to_us = to;
	in.checkpoint_interval_us = cp_interval;
	in.events = v->e;
	in.n_events = v->n;
	assert_int_equal(alog_mon_compute(&in, r, &err), 0);
}

/*
 * V-MON-1: period [D + 12 h, D + 48 h) starts mid-day: day 0 is 12 h long
 * (43200 s / 60 = 720 probes expected), day 1 24 h (1440). "api" probes
 * every 60 s from D + 12 h (k = 0 .. 2159), except k = 100 .. 103: day 0
 * receives 720 - 4 = 716, day 1 1440; the gap from k = 99 to k = 104 is
 * 300 s > 180 s. A probe at D + 11 h 59 min (before the period) is carried
 * in and is not counted. primary_store, the daemon's own, is not probed:
 * nothing expected, no gap. One verification run at D + 13 h, none on day 1: a deviation; no
 * run for more than 26 h from D + 13 h to the end (35 h): R-VERIFY-MISSING.
 */
static void test_monitoring_probes_expected_vs_received_over_a_period_starting_mid_day(void **state)
{
	struct alog_config cfg = { 0 };
	struct evs v = { 0 };
	struct alog_mon_result r;
	struct alog_rules_event *ev;
	int64_t from = D + HRS(12), to = D + HRS(48);
	uint64_t idx99 = 0, idx104 = 0, vidx = 0;
	int k;

	load_config(&cfg);
	ev = push(&v, ALOG_RULES_EV_HEALTH_PROBE, from - MINS(1));
	ev->component = "api";
	for (k = 0; k < 2160; k++) {
		if (k >= 100 && k <= 103)
			continue;
		if (k == 60) {
			ev = push(&v, ALOG_RULES_EV_VERIFIED, D + HRS(13));
			ev->outcome = "pass";
			vidx = ev->index;
		}
		ev = push(&v, ALOG_RULES_EV_HEALTH_PROBE, from + MINS(k));
		ev->component = "api";
		ev->outcome = NULL;
		if (k == 99)
			idx99 = ev->index;
		if (k == 104)
			idx104 = ev->index;
	}
	compute(&cfg, from, to, 0, &v, &r);

	assert_int_equal(r.n_days, 2);
	assert_int_equal(r.days[0].start_us, from);
	assert_int_equal(r.days[0].end_us, D + HRS(24));
	assert_int_equal(r.days[1].end_us, to);
	assert_int_equal(r.n_components, 2);
	assert_int_equal(r.components[0].cells[0].expected, 720);
	assert_int_equal(r.components[0].cells[0].received, 716);
	assert_int_equal(r.components[0].cells[1].expected, 1440);
	assert_int_equal(r.components[0].cells[1].received, 1440);
	assert_int_equal(r.components[0].expected, 2160);
	assert_int_equal(r.components[0].received, 2156);
	/* primary_store is not probed: nothing expected, no gap */
	assert_int_equal(r.components[1].received, 0);
	assert_int_equal(r.components[1].expected, 0);
	assert_int_equal(r.n_monitored, 1);

	assert_int_equal(r.n_gaps, 1);
	assert_int_equal(r.gaps[0].component, 0);
	assert_int_equal(r.gaps[0].start_us, from + MINS(99));
	assert_int_equal(r.gaps[0].end_us, from + MINS(104));
	assert_int_equal(r.gaps[0].length_us, S(300));
	assert_int_equal(r.gaps[0].before_index, idx99);
	assert_int_equal(r.gaps[0].after_index, idx104);

	/* default cadence 60 s: 720 + 1440 checkpoints expected, none made:
	 * the longest gap is the whole period */
	assert_int_equal(r.checkpoint_interval_us, S(60));
	assert_int_equal(r.checkpoints_expected, 2160);
	assert_int_equal(r.checkpoints, 0);
	assert_int_equal(r.cp_gap.start_us, from);
	assert_int_equal(r.cp_gap.end_us, to);

	assert_int_equal(r.verify_runs, 1);
	assert_int_equal(r.days[0].verify_pass, 1);
	assert_int_equal(r.n_days_without_verify, 1);
	assert_int_equal(r.days_without_verify[0], 1);
	assert_int_equal(r.n_deviations, 2);

	/* anomalies: the probe gap of "api" (rules: 300 s > 180 s) and the
	 * missing verification (D + 13 h .. D + 48 h) */
	assert_int_equal(r.n_anomalies, 2);
	assert_int_equal(r.anomalies[0].a.rule, ALOG_RULES_PROBE_GAP);
	assert_int_equal(r.anomalies[0].a.detected_index, idx104);
	assert_int_equal(r.anomalies[1].a.rule, ALOG_RULES_VERIFY_MISSING);
	assert_int_equal(r.anomalies[1].a.window_start_us, D + HRS(13));
	assert_int_equal(r.anomalies[1].a.window_end_us, to);
	assert_int_equal(r.anomalies[1].a.indices[0], vidx);
	assert_int_equal(r.by_rule[ALOG_RULES_PROBE_GAP], 1);
	assert_int_equal(r.by_class[ALOG_RULES_ENVIRONMENTAL], 1);
	assert_int_equal(r.by_class[ALOG_RULES_ERROR], 1);

	alog_mon_result_release(&r);
	free(v.e);
	alog_config_release(&cfg);
}

/*
 * V-MON-2: period [D + 12 h, D + 36 h), expected interval 3600 s: 12 + 12
 * checkpoints expected. Checkpoints received at D + 11 h (before: carried
 * in), D + 13 h, D + 20 h, D + 25 h. Stretches: 11 h -> 13 h (2 h),
 * 13 h -> 20 h (7 h), 20 h -> 25 h (5 h), 25 h -> 36 h (the end, 11 h):
 * the longest is the last one.
 */
static void test_monitoring_checkpoint_cadence_and_longest_gap(void **state)
{
	struct alog_config cfg = { 0 };
	struct evs v = { 0 };
	struct alog_mon_result r;
	struct alog_rules_event *ev;
	uint64_t last;

	load_config(&cfg);
	push(&v, ALOG_RULES_EV_CHECKPOINT, D + HRS(11));
	push(&v, ALOG_RULES_EV_CHECKPOINT, D + HRS(13));
	push(&v, ALOG_RULES_EV_CHECKPOINT, D + HRS(20));
	ev = push(&v, ALOG_RULES_EV_CHECKPOINT, D + HRS(25));
	last = ev->index;
	compute(&cfg, D + HRS(12), D + HRS(36), S(3600), &v, &r);
	assert_int_equal(r.days[0].checkpoints_expected, 12);
	assert_int_equal(r.days[1].checkpoints_expected, 12);
	assert_int_equal(r.checkpoints_expected, 24);
	assert_int_equal(r.days[0].checkpoints, 2);
	assert_int_equal(r.days[1].checkpoints, 1);
	assert_int_equal(r.checkpoints, 3);
	assert_int_equal(r.cp_gap.start_us, D + HRS(25));
	assert_int_equal(r.cp_gap.start_index, last);
	assert_int_equal(r.cp_gap.end_us, D + HRS(36));
	assert_int_equal(r.cp_gap.end_index, ALOG_MON_NO_INDEX);
	alog_mon_result_release(&r);

	/* a later checkpoint at D + 30 h (25 -> 30: 5 h, 30 -> 36: 6 h):
	 * now 13 h -> 20 h (7 h) is the longest */
	push(&v, ALOG_RULES_EV_CHECKPOINT, D + HRS(30));
	compute(&cfg, D + HRS(12), D + HRS(36), S(3600), &v, &r);
	assert_int_equal(r.cp_gap.start_us, D + HRS(13));
	assert_int_equal(r.cp_gap.end_us, D + HRS(20));
	assert_int_equal(r.cp_gap.start_index, 1001);
	assert_int_equal(r.cp_gap.end_index, 1002);
	alog_mon_result_release(&r);
	free(v.e);
	alog_config_release(&cfg);
}

/*
 * V-MON-3: one day [D, D + 24 h), a Monday. Admin actions at 07:59
 * (outside), 08:00 (inside), 17:00 (inside, denied); logins: bob fails 5
 * times in 4 min from 10:00 (R-LOGIN-ACTOR once), alice fails 3 times,
 * carol succeeds once; a failed verification run at 12:00.
 */
static void test_monitoring_operator_activity_logins_and_anomalies_by_class(void **state)
{
	struct alog_config cfg = { 0 };
	struct evs v = { 0 };
	struct alog_mon_result r;
	struct alog_rules_event *ev;
	int i;

	load_config(&cfg);
	ev = push(&v, ALOG_RULES_EV_ADMIN_ACTION, D + HRS(7) + MINS(59));
	ev->source = "auditlog";
	ev->operator_name = "ops-anna";
	ev->action = "breaker.reset";
	ev->target = "api";
	ev->outcome = "success";
	ev = push(&v, ALOG_RULES_EV_ADMIN_ACTION, D + HRS(8));
	ev->operator_name = "ops-anna";
	ev->action = "config.reload";
	ev->target = "config";
	ev->outcome = "success";
	for (i = 0; i < 3; i++) {
		ev = push(&v, ALOG_RULES_EV_AUTH_LOGIN, D + HRS(9) + MINS(i));
		ev->actor = "alice";
		ev->outcome = "failure";
	}
	for (i = 0; i < 5; i++) {
		ev = push(&v, ALOG_RULES_EV_AUTH_LOGIN, D + HRS(10) + MINS(i));
		ev->actor = "bob";
		ev->source_addr = "198.51.100.4";
		ev->outcome = "failure";
	}
	ev = push(&v, ALOG_RULES_EV_AUTH_LOGIN, D + HRS(11));
	ev->actor = "carol";
	ev->outcome = "success";
	ev = push(&v, ALOG_RULES_EV_VERIFIED, D + HRS(12));
	ev->outcome = "fail";
	ev = push(&v, ALOG_RULES_EV_ADMIN_ACTION, D + HRS(17));
	ev->operator_name = "ops-ben";
	ev->action = "breaker.force_open";
	ev->target = "api";
	ev->outcome = "denied";
	compute(&cfg, D, D + HRS(24), 0, &v, &r);

	assert_int_equal(r.n_admin, 3);
	assert_int_equal(r.n_admin_outside, 1);
	assert_int_equal(r.admin[0].in_business_hours, 0);
	assert_int_equal(r.admin[0].index, 1000);
	assert_string_equal(r.admin[0].action, "breaker.reset");
	assert_int_equal(r.admin[1].in_business_hours, 1);
	assert_string_equal(r.admin[2].operator_name, "ops-ben");
	assert_string_equal(r.admin[2].outcome, "denied");

	assert_int_equal(r.logins, 9);
	assert_int_equal(r.login_failures, 8);
	assert_int_equal(r.n_actors, 2);
	assert_string_equal(r.actors[0].actor, "bob");
	assert_int_equal(r.actors[0].failures, 5);
	assert_int_equal(r.actors[0].first_us, D + HRS(10));
	assert_int_equal(r.actors[0].last_us, D + HRS(10) + MINS(4));
	assert_string_equal(r.actors[1].actor, "alice");
	assert_int_equal(r.actors[1].failures, 3);

	assert_int_equal(r.verify_runs, 1);
	assert_int_equal(r.verify_fail, 1);
	assert_int_equal(r.n_days_without_verify, 0);

	/* by detection time: admin 07:59, bob's burst (detected 10:04),
	 * the failed run 12:00 */
	assert_int_equal(r.n_anomalies, 3);
	assert_int_equal(r.anomalies[0].a.rule, ALOG_RULES_ADMIN_HOURS);
	assert_int_equal(r.anomalies[1].a.rule, ALOG_RULES_LOGIN_ACTOR);
	assert_string_equal(r.anomalies[1].a.subject, "bob");
	assert_int_equal(r.anomalies[1].a.n_events, 5);
	assert_int_equal(r.anomalies[2].a.rule, ALOG_RULES_VERIFY_FAILED);
	assert_int_equal(r.by_rule[ALOG_RULES_ADMIN_HOURS], 1);
	assert_int_equal(r.by_rule[ALOG_RULES_LOGIN_ACTOR], 1);
	assert_int_equal(r.by_rule[ALOG_RULES_VERIFY_FAILED], 1);
	assert_int_equal(r.by_class[ALOG_RULES_MALICIOUS], 3);
	assert_int_equal(r.by_class[ALOG_RULES_ERROR], 0);
	alog_mon_result_release(&r);
	free(v.e);
	alog_config_release(&cfg);
}

/* V-MON-4: anomalies that ended before the period are not reported; a
 * burst that runs into it is. */
static void test_monitoring_keeps_only_anomalies_that_reach_the_period(void **state)
{
	struct alog_config cfg = { 0 };
	struct evs v = { 0 };
	struct alog_mon_result r;
	struct alog_rules_event *ev;
	int i;

	load_config(&cfg);
	for (i = 0; i < 5; i++) {    /* D + 1 h .. + 4 min: before */
		ev = push(&v, ALOG_RULES_EV_AUTH_LOGIN, D + HRS(1) + MINS(i));
		ev->actor = "early";
		ev->outcome = "failure";
	}
	for (i = 0; i < 5; i++) {    /* D + 2 h - 2 min .. + 2 min */
		ev = push(&v, ALOG_RULES_EV_AUTH_LOGIN, D + HRS(2) + MINS(i - 2));
		ev->actor = "edge";
		ev->outcome = "failure";
	}
	compute(&cfg, D + HRS(2), D + HRS(3), 0, &v, &r);
	assert_int_equal(r.n_anomalies, 1);
	assert_string_equal(r.anomalies[0].a.subject, "edge");
	assert_int_equal(r.anomalies[0].a.window_start_us, D + HRS(2) - MINS(2));
	/* logins are counted by their time: 3 of "edge" lie in the period */
	assert_int_equal(r.login_failures, 3);
	alog_mon_result_release(&r);
	free(v.e);
	alog_config_release(&cfg);
}

static void test_monitoring_refuses_bad_periods_and_late_events(void **state)
{
	struct alog_config cfg = { 0 };
	struct evs v = { 0 };
	struct alog_mon_input in;
	struct alog_mon_result r;
	struct alog_err err = { 0 };

	load_config(&cfg);
	memset(&in, 0, sizeof(in));
	in.cfg = &cfg;
	in.from_us = D;
	in.to_us = D;
	assert_int_equal(alog_mon_compute(&in, &r, &err), ALOG_EINVAL);
	in.to_us = D + HRS(24) * (int64_t)ALOG_MON_DAYS_MAX;
	assert_int_equal(alog_mon_compute(&in, &r, &err), 0);
	assert_int_equal(r.n_days, ALOG_MON_DAYS_MAX);
	alog_mon_result_release(&r);
	in.to_us += 1;
	assert_int_equal(alog_mon_compute(&in, &r, &err), ALOG_ELIMIT);
	assert_null(r.days);

	push(&v, ALOG_RULES_EV_OTHER, D + HRS(1));
	push(&v, ALOG_RULES_EV_OTHER, D + HRS(24));
	in.to_us = D + HRS(24);
	in.events = v.e;
	in.n_events = v.n;
	assert_int_equal(alog_mon_compute(&in, &r, &err), ALOG_EINVAL);
	assert_non_null(strstr(err.msg, "log index 1001"));
	v.e[1].received_us = D;   /* before the one before it */
	assert_int_equal(alog_mon_compute(&in, &r, &err), ALOG_EINVAL);
	assert_non_null(strstr(err.msg, "out of log order"));
	free(v.e);
	alog_config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_monitoring_probes_expected_vs_received_over_a_period_starting_mid_day),
		cmocka_unit_test(test_monitoring_checkpoint_cadence_and_longest_gap),
		cmocka_unit_test(test_monitoring_operator_activity_logins_and_anomalies_by_class),
		cmocka_unit_test(test_monitoring_keeps_only_anomalies_that_reach_the_period),
		cmocka_unit_test(test_monitoring_refuses_bad_periods_and_late_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
