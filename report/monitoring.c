/*
 * monitoring: see monitoring.h. SPEC.md 20A "CC7.2 monitoring".
 *
 * Passes over the event array (no I/O): check the order; cut the period
 * into UTC days; collect the probes of inventory components (sorted by
 * component, time, index) for the counts and gaps; one pass for the
 * checkpoints, verification runs, admin actions and logins; the rules
 * engine over every event, keeping the anomalies that reach the period.
 *
 * Invariant: every count is of events whose time (probes: the probe's
 * time; checkpoints and runs: the received time; admin and logins: the
 * time, else received) lies in [from, to).
 */
#include "report/monitoring.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/clock.h"

#define US_PER_S INT64_C(1000000)
#define US_PER_DAY INT64_C(86400000000)

struct probe {
	size_t comp;
	int64_t t;
	uint64_t index;
};

struct failure {
	const char *actor;
	int64_t t;
};

/* The growing list of anomalies the rules emit. */
struct sink {
	struct alog_mon_result *r;
	size_t cap;
	size_t seq;
	int64_t from;
};

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if (a % b != 0 && a < 0)
		q--;
	return q;
}

static int64_t event_time(const struct alog_rules_event *ev)
{
	return ev->has_time ? ev->time_us : ev->received_us;
}

void alog_mon_result_release(struct alog_mon_result *r)
{
	size_t i;

	if (!r)
		return;
	free(r->days);
	for (i = 0; i < r->n_components; i++)
		free(r->components[i].cells);
	free(r->components);
	free(r->gaps);
	free(r->days_without_verify);
	free(r->anomalies);
	free(r->admin);
	free(r->actors);
	memset(r, 0, sizeof(*r));
}

static int nomem(struct alog_err *err, size_t n)
{
	return alog_err_set(err, ALOG_ENOMEM, "out of memory for %zu items", n);
}

/* Grow *p (of elem bytes each, *cap of them) to hold n + 1. */
static int grow(void *p, size_t *cap, size_t n, size_t elem,
		struct alog_err *err)
{
	void **pp = p;
	size_t c;
	void *q;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	if (c > SIZE_MAX / elem)
		return nomem(err, c);
	q = realloc(*pp, c * elem);
	if (!q)
		return nomem(err, c);
	*pp = q;
	*cap = c;
	return 0;
}

static int collect(void *ctx, const struct alog_rules_anomaly *a,
		   struct alog_err *err)
{
	struct sink *s = ctx;
	struct alog_mon_result *r = s->r;
	int rc;

	s->seq++;
	if (a->window_end_us < s->from)
		return 0;  /* over before the period */
	rc = grow(&r->anomalies, &s->cap, r->n_anomalies,
		  sizeof(*r->anomalies), err);
	if (rc < 0)
		return rc;
	r->anomalies[r->n_anomalies].a = *a;
	r->anomalies[r->n_anomalies].seq = s->seq;
	r->n_anomalies++;
	return 0;
}

static int cmp_probe(const void *x, const void *y)
{
	const struct probe *a = x, *b = y;

	if (a->comp != b->comp)
		return a->comp < b->comp ? -1 : 1;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static int cmp_anomaly(const void *x, const void *y)
{
	const struct alog_mon_anomaly *a = x, *b = y;

	if (a->a.detected_us != b->a.detected_us)
		return a->a.detected_us < b->a.detected_us ? -1 : 1;
	if (a->a.rule != b->a.rule)
		return a->a.rule < b->a.rule ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_failure(const void *x, const void *y)
{
	const struct failure *a = x, *b = y;
	int c = strcmp(a->actor, b->actor);

	if (c)
		return c;
	return a->t < b->t ? -1 : a->t > b->t;
}

static int cmp_actor(const void *x, const void *y)
{
	const struct alog_mon_actor *a = x, *b = y;

	if (a->failures != b->failures)
		return a->failures > b->failures ? -1 : 1;
	return strcmp(a->actor, b->actor);
}

static int check_input(const struct alog_mon_input *in, struct alog_err *err)
{
	size_t i;

	if (!in->cfg)
		return alog_err_set(err, ALOG_EINVAL, "monitoring: no configuration");
	if (in->from_us >= in->to_us || in->from_us < ALOG_TIME_MIN_US ||
	    in->to_us > ALOG_TIME_MAX_US)
		return alog_err_set(err, ALOG_EINVAL,
				    "monitoring: period [%" PRId64 ", %" PRId64
				    ") is empty or out of range",
				    in->from_us, in->to_us);
	if (in->checkpoint_interval_us < 0)
		return alog_err_set(err, ALOG_EINVAL,
				    "monitoring: checkpoint interval %" PRId64
				    " us is negative", in->checkpoint_interval_us);
	if (in->n_events > ALOG_MON_EVENTS_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "monitoring: %zu events, at most %u",
				    in->n_events, ALOG_MON_EVENTS_MAX);
	for (i = 0; i < in->n_events; i++) {
		const struct alog_rules_event *ev = &in->events[i];

		if (i > 0 && (ev->index <= in->events[i - 1].index ||
			      ev->received_us < in->events[i - 1].received_us))
			return alog_err_set(err, ALOG_EINVAL,
					    "monitoring: event %zu (log index %"
					    PRIu64 ") is out of log order",
					    i, ev->index);
		if (ev->received_us >= in->to_us)
			return alog_err_set(err, ALOG_EINVAL,
					    "monitoring: event %zu (log index %"
					    PRIu64 ") was received after the period",
					    i, ev->index);
	}
	return 0;
}

static int make_days(const struct alog_mon_input *in, struct alog_mon_result *r,
		     int64_t first_day, struct alog_err *err)
{
	int64_t last_day = floor_div(in->to_us - 1, US_PER_DAY);
	uint64_t n = (uint64_t)(last_day - first_day) + 1;
	size_t i;

	if (n > ALOG_MON_DAYS_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "monitoring: the period touches %" PRIu64
				    " days, at most %u", n, ALOG_MON_DAYS_MAX);
	r->days = calloc((size_t)n, sizeof(*r->days));
	if (!r->days)
		return nomem(err, (size_t)n);
	r->n_days = (size_t)n;
	for (i = 0; i < r->n_days; i++) {
		struct alog_mon_day *d = &r->days[i];
		int64_t s = (first_day + (int64_t)i) * US_PER_DAY;

		d->start_us = s > in->from_us ? s : in->from_us;
		d->end_us = s + US_PER_DAY < in->to_us ? s + US_PER_DAY : in->to_us;
		d->checkpoints_expected =
			(uint64_t)((d->end_us - d->start_us) /
				   r->checkpoint_interval_us);
		r->checkpoints_expected += d->checkpoints_expected;
	}
	return 0;
}

static int add_gap(struct alog_mon_result *r, size_t *cap, size_t comp,
		   int64_t a, int64_t b, uint64_t ia, uint64_t ib,
		   struct alog_err *err)
{
	struct alog_mon_gap *g;
	int rc = grow(&r->gaps, cap, r->n_gaps, sizeof(*r->gaps), err);

	if (rc < 0)
		return rc;
	g = &r->gaps[r->n_gaps++];
	g->component = comp;
	g->start_us = a;
	g->end_us = b;
	g->length_us = b - a;
	g->in_period_us = (b < r->to_us ? b : r->to_us) -
			  (a > r->from_us ? a : r->from_us);
	g->before_index = ia;
	g->after_index = ib;
	return 0;
}

/* Probes: counts per component and day, and the gaps. */
static int do_probes(const struct alog_mon_input *in, struct alog_mon_result *r,
		     int64_t first_day, struct alog_err *err)
{
	const struct alog_config *cfg = in->cfg;
	struct probe *pr = NULL;
	size_t n_pr = 0, cap = 0, gcap = 0, i, j, c;
	int rc;

	r->components = calloc(cfg->n_components ? cfg->n_components : 1,
			       sizeof(*r->components));
	if (!r->components)
		return nomem(err, cfg->n_components);
	r->n_components = cfg->n_components;
	for (c = 0; c < cfg->n_components; c++) {
		struct alog_mon_component *mc = &r->components[c];
		int64_t iv = (int64_t)cfg->components[c].probe_interval_s *
			     US_PER_S;

		mc->c = &cfg->components[c];
		mc->tolerance_us = iv * ALOG_MON_PROBE_TOLERANCE;
		mc->cells = calloc(r->n_days, sizeof(*mc->cells));
		if (!mc->cells) {
			rc = nomem(err, r->n_days);
			goto out;
		}
		/* the daemon's own component is not probed: its evidence
		 * is the daemon's lifecycle and breaker (SPEC.md 20.3) */
		if (cfg->components[c].daemon_owned)
			continue;
		for (j = 0; j < r->n_days; j++) {
			mc->cells[j].expected = iv > 0 ?
				(uint64_t)((r->days[j].end_us -
					    r->days[j].start_us) / iv) : 0;
			mc->expected += mc->cells[j].expected;
		}
	}
	for (i = 0; i < in->n_events; i++) {
		const struct alog_rules_event *ev = &in->events[i];
		const struct alog_config_component *cc;

		if (ev->type != ALOG_RULES_EV_HEALTH_PROBE || !ev->component ||
		    !ev->has_time || ev->time_us >= in->to_us)
			continue;
		cc = alog_config_component_find(cfg, ev->component,
						strlen(ev->component));
		if (!cc)
			continue;  /* not in the inventory */
		rc = grow(&pr, &cap, n_pr, sizeof(*pr), err);
		if (rc < 0)
			goto out;
		pr[n_pr].comp = (size_t)(cc - cfg->components);
		pr[n_pr].t = ev->time_us;
		pr[n_pr].index = ev->index;
		n_pr++;
	}
	if (n_pr > 1)
		qsort(pr, n_pr, sizeof(*pr), cmp_probe);
	for (c = 0, i = 0; c < cfg->n_components; c++) {
		struct alog_mon_component *mc = &r->components[c];
		int64_t prev_t = in->from_us;
		uint64_t prev_i = ALOG_MON_NO_INDEX;

		if (cfg->components[c].daemon_owned) {
			for (; i < n_pr && pr[i].comp == c; i++)
				;
			continue;
		}
		for (; i < n_pr && pr[i].comp == c; i++) {
			if (pr[i].t <= in->from_us) {
				prev_t = pr[i].t;
				prev_i = pr[i].index;
				if (pr[i].t == in->from_us) {
					mc->cells[0].received++;
					mc->received++;
				}
				continue;
			}
			j = (size_t)(floor_div(pr[i].t, US_PER_DAY) - first_day);
			mc->cells[j].received++;
			mc->received++;
			if (pr[i].t - prev_t > mc->tolerance_us) {
				rc = add_gap(r, &gcap, c, prev_t, pr[i].t,
					     prev_i, pr[i].index, err);
				if (rc < 0)
					goto out;
			}
			prev_t = pr[i].t;
			prev_i = pr[i].index;
		}
		if (in->to_us - prev_t > mc->tolerance_us) {
			rc = add_gap(r, &gcap, c, prev_t, in->to_us, prev_i,
				     ALOG_MON_NO_INDEX, err);
			if (rc < 0)
				goto out;
		}
		if (mc->received > 0)
			r->n_monitored++;
	}
	rc = 0;
out:
	free(pr);
	return rc;
}

/* Checkpoints, verification runs, admin actions, logins. */
static int do_events(const struct alog_mon_input *in, struct alog_mon_result *r,
		     int64_t first_day, struct alog_err *err)
{
	struct failure *fl = NULL;
	size_t n_fl = 0, fcap = 0, acap = 0, i, j, k;
	struct alog_mon_cp_gap cur;
	int64_t len, best = -1;
	int rc;

	cur.start_us = in->from_us;
	cur.start_index = ALOG_MON_NO_INDEX;
	for (i = 0; i < in->n_events; i++) {
		const struct alog_rules_event *ev = &in->events[i];
		int64_t rx = ev->received_us, t = event_time(ev);
		int rx_in = rx >= in->from_us;  /* received < to: checked */
		int t_in = t >= in->from_us && t < in->to_us;

		switch (ev->type) {
		case ALOG_RULES_EV_CHECKPOINT:
			if (!rx_in) {
				cur.start_us = rx;
				cur.start_index = ev->index;
				break;
			}
			len = rx - cur.start_us;
			if (len > best) {
				best = len;
				r->cp_gap = cur;
				r->cp_gap.end_us = rx;
				r->cp_gap.end_index = ev->index;
			}
			cur.start_us = rx;
			cur.start_index = ev->index;
			j = (size_t)(floor_div(rx, US_PER_DAY) - first_day);
			r->days[j].checkpoints++;
			r->checkpoints++;
			break;
		case ALOG_RULES_EV_VERIFIED:
			if (!rx_in)
				break;
			j = (size_t)(floor_div(rx, US_PER_DAY) - first_day);
			r->days[j].verify_runs++;
			r->verify_runs++;
			if (ev->outcome && strcmp(ev->outcome, "pass") == 0) {
				r->days[j].verify_pass++;
				r->verify_pass++;
			} else if (ev->outcome &&
				   strcmp(ev->outcome, "fail") == 0) {
				r->days[j].verify_fail++;
				r->verify_fail++;
			}
			break;
		case ALOG_RULES_EV_ADMIN_ACTION:
			if (!t_in)
				break;
			rc = grow(&r->admin, &acap, r->n_admin,
				  sizeof(*r->admin), err);
			if (rc < 0)
				goto out;
			r->admin[r->n_admin].index = ev->index;
			r->admin[r->n_admin].time_us = t;
			r->admin[r->n_admin].operator_name = ev->operator_name;
			r->admin[r->n_admin].action = ev->action;
			r->admin[r->n_admin].target = ev->target;
			r->admin[r->n_admin].outcome = ev->outcome;
			r->admin[r->n_admin].in_business_hours =
				alog_config_in_business_hours(in->cfg, t);
			if (!r->admin[r->n_admin].in_business_hours)
				r->n_admin_outside++;
			r->n_admin++;
			break;
		case ALOG_RULES_EV_AUTH_LOGIN:
			if (!t_in)
				break;
			r->logins++;
			if (!ev->outcome || strcmp(ev->outcome, "failure") != 0)
				break;
			r->login_failures++;
			if (!ev->actor)
				break;
			rc = grow(&fl, &fcap, n_fl, sizeof(*fl), err);
			if (rc < 0)
				goto out;
			fl[n_fl].actor = ev->actor;
			fl[n_fl].t = t;
			n_fl++;
			break;
		default:
			break;
		}
	}
	/* the stretch from the last checkpoint to the end */
	len = in->to_us - cur.start_us;
	if (len > best) {
		r->cp_gap = cur;
		r->cp_gap.end_us = in->to_us;
		r->cp_gap.end_index = ALOG_MON_NO_INDEX;
	}

	for (j = 0; j < r->n_days; j++)
		if (r->days[j].verify_runs == 0)
			r->n_days_without_verify++;
	if (r->n_days_without_verify) {
		r->days_without_verify = calloc(r->n_days_without_verify,
						sizeof(size_t));
		if (!r->days_without_verify) {
			rc = nomem(err, r->n_days_without_verify);
			goto out;
		}
		for (j = 0, k = 0; j < r->n_days; j++)
			if (r->days[j].verify_runs == 0)
				r->days_without_verify[k++] = j;
	}

	/* failures by actor */
	if (n_fl > 1)
		qsort(fl, n_fl, sizeof(*fl), cmp_failure);
	for (i = 0; i < n_fl; i = j) {
		for (j = i; j < n_fl && strcmp(fl[j].actor, fl[i].actor) == 0; j++)
			;
		r->n_actors++;
	}
	if (r->n_actors) {
		r->actors = calloc(r->n_actors, sizeof(*r->actors));
		if (!r->actors) {
			rc = nomem(err, r->n_actors);
			goto out;
		}
		for (i = 0, k = 0; i < n_fl; i = j, k++) {
			for (j = i; j < n_fl &&
				    strcmp(fl[j].actor, fl[i].actor) == 0; j++)
				;
			r->actors[k].actor = fl[i].actor;
			r->actors[k].failures = j - i;
			r->actors[k].first_us = fl[i].t;
			r->actors[k].last_us = fl[j - 1].t;
		}
		qsort(r->actors, r->n_actors, sizeof(*r->actors), cmp_actor);
	}
	rc = 0;
out:
	free(fl);
	return rc;
}

static int do_rules(const struct alog_mon_input *in, struct alog_mon_result *r,
		    struct alog_err *err)
{
	struct alog_rules *rules = NULL;
	struct sink s = { r, 0, 0, in->from_us };
	int64_t start = in->from_us;
	const struct alog_rules_def *defs = alog_rules_defs();
	size_t i;
	int rc;

	if (in->n_events > 0 && in->events[0].received_us < start)
		start = in->events[0].received_us;
	rc = alog_rules_new(&rules, in->cfg, in->rules, start, collect, &s,
			    err);
	if (rc < 0)
		return rc;
	for (i = 0; i < in->n_events; i++) {
		rc = alog_rules_feed(rules, &in->events[i], err);
		if (rc < 0)
			goto out;
	}
	rc = alog_rules_finish(rules, in->to_us, err);
	if (rc < 0)
		goto out;
	if (r->n_anomalies > 1)
		qsort(r->anomalies, r->n_anomalies, sizeof(*r->anomalies),
		      cmp_anomaly);
	for (i = 0; i < r->n_anomalies; i++) {
		enum alog_rules_id id = r->anomalies[i].a.rule;

		r->by_rule[id]++;
		r->by_class[defs[id].cls]++;
	}
out:
	alog_rules_free(rules);
	return rc;
}

int alog_mon_compute(const struct alog_mon_input *in,
		     struct alog_mon_result *out, struct alog_err *err)
{
	int64_t first_day;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = check_input(in, err);
	if (rc < 0)
		return rc;
	out->from_us = in->from_us;
	out->to_us = in->to_us;
	out->checkpoint_interval_us = in->checkpoint_interval_us ?
		in->checkpoint_interval_us :
		ALOG_MON_CHECKPOINT_INTERVAL_DEFAULT_US;
	first_day = floor_div(in->from_us, US_PER_DAY);
	rc = make_days(in, out, first_day, err);
	if (rc < 0)
		goto out;
	rc = do_probes(in, out, first_day, err);
	if (rc < 0)
		goto out;
	rc = do_events(in, out, first_day, err);
	if (rc < 0)
		goto out;
	rc = do_rules(in, out, err);
	if (rc < 0)
		goto out;
	out->n_deviations = out->n_gaps + out->n_days_without_verify;
out:
	if (rc < 0)
		alog_mon_result_release(out);
	return rc;
}
