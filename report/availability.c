/*
 * availability: see availability.h. SPEC.md "Availability".
 *
 * The computation, in passes over arrays (no I/O):
 *  1. check the input and choose the signal (breaker or probes);
 *  2. the state points: (time, state) from the signal's observations,
 *     sorted by (time, log index); the state at a moment is that of the
 *     last point at or before it;
 *  3. the known spans (coverage) and the approved maintenance spans, each
 *     sorted and merged;
 *  4. the boundaries: every time inside the period where the class can
 *     change (points, span edges, month starts), with from and to;
 *  5. the episodes, walking the points from the first one;
 *  6. one pass over the elementary segments between boundaries: each is
 *     classified at its start (excluded, else unknown, else the state)
 *     and added to the period, its month and its episode;
 *  7. the metrics, flapping, maintenance windows, activations,
 *     interventions and findings.
 *
 * Invariant: every segment lies inside exactly one month and at most one
 * episode, and nothing changes inside a segment, so the sums are exact.
 */
#include "report/availability.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/clock.h"

#define US_PER_S INT64_C(1000000)
#define US_PER_DAY INT64_C(86400000000)
#define PPM UINT64_C(1000000)

/* 128-bit products: ratios of periods up to 10^4 years times 10^9. */
__extension__ typedef unsigned __int128 u128;

/* A moment where the state is set by an observation. */
struct point {
	int64_t t;
	uint64_t index;
	enum alog_av_class st;
	const struct alog_av_obs *o;
};

/* [a, b) */
struct span {
	int64_t a, b;
};

/* A time with its log index (up evidence, resets). */
struct stamp {
	int64_t t;
	uint64_t index;
};

struct engine {
	const struct alog_av_input *in;
	struct alog_av_result *r;
	int64_t from, to;
	struct point *pts;
	size_t n_pts;
	enum alog_av_class initial;   /* the state before the first point */
	struct span *known;
	size_t n_known;
	struct span *excl;
	size_t n_excl;
	int64_t *bounds;
	size_t n_bounds;
	struct stamp *upev;           /* up evidence, sorted */
	size_t n_upev;
	struct stamp *resets;         /* successful admin breaker.reset */
	size_t n_resets;
	int64_t *evid;                /* daemon: every evidence time, sorted */
	size_t n_evid;
	size_t n_trans, n_probe, n_maint, n_started, n_stopped, n_act,
		n_repl, n_admin;
};

static const char *const signal_names[] = { "probes", "breaker" };
static const char *const class_names[] = {
	"unknown", "up", "down", "partial", "excluded",
};
static const char *const recovery_names[] = {
	"none", "automatic", "manual", "restart",
};
static const char *const finding_names[] = {
	"chain_break", "crashed_run", "stop_without_start", "orphan_replay",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

const char *alog_av_signal_name(enum alog_av_signal s)
{
	return (unsigned)s < N_OF(signal_names) ? signal_names[s] : NULL;
}

const char *alog_av_class_name(enum alog_av_class c)
{
	return (unsigned)c < N_OF(class_names) ? class_names[c] : NULL;
}

const char *alog_av_recovery_name(enum alog_av_recovery r)
{
	return (unsigned)r < N_OF(recovery_names) ? recovery_names[r] : NULL;
}

const char *alog_av_finding_name(enum alog_av_finding_kind k)
{
	return (unsigned)k < N_OF(finding_names) ? finding_names[k] : NULL;
}

int alog_av_percent_format(uint32_t ppm, char out[ALOG_AV_PERCENT_TEXT_MAX])
{
	if (ppm > PPM) {
		out[0] = 0;
		return ALOG_EINVAL;
	}
	/* percent = ppm / 10^4; three decimals = ppm / 10, truncated */
	snprintf(out, ALOG_AV_PERCENT_TEXT_MAX, "%u.%03u", ppm / 10000u,
		 (ppm % 10000u) / 10u);
	return 0;
}

void alog_av_result_release(struct alog_av_result *r)
{
	if (!r)
		return;
	free(r->episodes);
	free(r->flaps);
	free(r->windows);
	free(r->activations);
	free(r->interventions);
	free(r->months);
	free(r->segments);
	free(r->findings);
	memset(r, 0, sizeof(*r));
}

/* ---- small helpers ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if (a % b != 0 && a < 0)
		q--;
	return q;
}

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe, mp;

	if (m <= 2)
		y--;
	era = floor_div(y, 400);
	yoe = (unsigned)(y - era * 400);            /* 0..399 */
	mp = m > 2 ? m - 3 : m + 9;                 /* March = 0 */
	doy = (153 * mp + 2) / 5 + d - 1;           /* 0..365 */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;/* 0..146096 */
	return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse: year and month of day z since 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* The first microsecond of the UTC month after the one of (y, m). */
static int64_t next_month_us(int64_t y, unsigned m)
{
	if (m == 12)
		return days_from_civil(y + 1, 1, 1) * US_PER_DAY;
	return days_from_civil(y, m + 1, 1) * US_PER_DAY;
}

static int time_ok(int64_t t)
{
	return t >= ALOG_TIME_MIN_US && t <= ALOG_TIME_MAX_US;
}

/* n zeroed items, or NULL for none (n == 0) or when out of memory. */
static void *alloc_n(size_t n, size_t elem)
{
	return n ? calloc(n, elem) : NULL;
}

/* 1 when p could not be allocated for n items. */
#define ALLOC_FAILS(p, n) \
	(((p) = alloc_n((n), sizeof(*(p)))) == NULL && (n) > 0)

static int nomem(struct alog_err *err, size_t n)
{
	return alog_err_set(err, ALOG_ENOMEM, "out of memory for %zu items", n);
}

static enum alog_av_class state_class(enum alog_breaker_state s)
{
	switch (s) {
	case ALOG_BREAKER_CLOSED:
		return ALOG_AV_UP;
	case ALOG_BREAKER_OPEN:
		return ALOG_AV_DOWN;
	default:
		return ALOG_AV_PARTIAL;
	}
}

static enum alog_av_class probe_class(enum alog_av_probe_status s)
{
	switch (s) {
	case ALOG_AV_PROBE_UP:
		return ALOG_AV_UP;
	case ALOG_AV_PROBE_DOWN:
		return ALOG_AV_DOWN;
	default:
		return ALOG_AV_PARTIAL;
	}
}

static int not_up(enum alog_av_class c)
{
	return c == ALOG_AV_DOWN || c == ALOG_AV_PARTIAL;
}

/* SPEC.md 17.1: the (from, to, cause) combinations that exist. */
static int combo_ok(enum alog_breaker_state from, enum alog_breaker_state to,
		    enum alog_breaker_cause cause)
{
	switch (cause) {
	case ALOG_BREAKER_FAILURE_THRESHOLD:
	case ALOG_BREAKER_FAILURE_RATE:
		return from == ALOG_BREAKER_CLOSED && to == ALOG_BREAKER_OPEN;
	case ALOG_BREAKER_OPEN_TIMEOUT:
		return from == ALOG_BREAKER_OPEN &&
		       to == ALOG_BREAKER_HALF_OPEN;
	case ALOG_BREAKER_PROBE_SUCCESS:
		return from == ALOG_BREAKER_HALF_OPEN &&
		       to == ALOG_BREAKER_CLOSED;
	case ALOG_BREAKER_PROBE_FAILURE:
		return from == ALOG_BREAKER_HALF_OPEN &&
		       to == ALOG_BREAKER_OPEN;
	case ALOG_BREAKER_FORCED_OPEN:
		return to == ALOG_BREAKER_OPEN;
	case ALOG_BREAKER_RESET:
		return from != ALOG_BREAKER_CLOSED &&
		       to == ALOG_BREAKER_CLOSED;
	default:
		return 0;
	}
}

/* ---- 1. input ---- */

static int bad_obs(struct alog_err *err, size_t i, const struct alog_av_obs *o,
		   const char *what)
{
	return alog_err_set(err, ALOG_EINVAL,
			    "observation %zu (log index %" PRIu64 "): %s", i,
			    o->index, what);
}

static int check_obs(struct engine *e, size_t i, struct alog_err *err)
{
	const struct alog_av_obs *o = &e->in->obs[i];

	if (i > 0 && o->index <= e->in->obs[i - 1].index)
		return bad_obs(err, i, o, "not after the one before it in log order");
	switch (o->kind) {
	case ALOG_AV_TRANSITION:
		if ((unsigned)o->transition.from > ALOG_BREAKER_HALF_OPEN ||
		    (unsigned)o->transition.to > ALOG_BREAKER_HALF_OPEN ||
		    (unsigned)o->transition.cause > ALOG_BREAKER_RESET ||
		    !combo_ok(o->transition.from, o->transition.to,
			      o->transition.cause))
			return bad_obs(err, i, o,
				       "transition is not one of the breaker's (from, to, cause) combinations");
		if (!time_ok(o->transition.at_us))
			return bad_obs(err, i, o, "transition time out of range");
		e->n_trans++;
		return 0;
	case ALOG_AV_PROBE:
		if ((unsigned)o->probe.status > ALOG_AV_PROBE_DEGRADED)
			return bad_obs(err, i, o, "probe status out of range");
		if (!time_ok(o->probe.time_us))
			return bad_obs(err, i, o, "probe time out of range");
		e->n_probe++;
		return 0;
	case ALOG_AV_MAINTENANCE:
		if (!time_ok(o->maintenance.start_us) ||
		    !time_ok(o->maintenance.end_us))
			return bad_obs(err, i, o, "maintenance time out of range");
		if (o->maintenance.end_us <= o->maintenance.start_us)
			return bad_obs(err, i, o,
				       "maintenance window does not end after its start");
		e->n_maint++;
		return 0;
	case ALOG_AV_DAEMON_STARTED:
	case ALOG_AV_DAEMON_STOPPED:
		if (!time_ok(o->daemon.at_us))
			return bad_obs(err, i, o, "daemon event time out of range");
		if (o->kind == ALOG_AV_DAEMON_STARTED)
			e->n_started++;
		else
			e->n_stopped++;
		return 0;
	case ALOG_AV_ACTIVATED:
		if (!time_ok(o->activated.failed_at_us) ||
		    (o->activated.has_first_spooled &&
		     !time_ok(o->activated.first_spooled_us)))
			return bad_obs(err, i, o, "activation time out of range");
		e->n_act++;
		return 0;
	case ALOG_AV_REPLAYED:
		if (!time_ok(o->replayed.replayed_at_us))
			return bad_obs(err, i, o, "replay time out of range");
		e->n_repl++;
		return 0;
	case ALOG_AV_ADMIN:
		if ((unsigned)o->admin.outcome > ALOG_AV_OUTCOME_FAILED)
			return bad_obs(err, i, o, "admin outcome out of range");
		if (!time_ok(o->admin.at_us))
			return bad_obs(err, i, o, "admin action time out of range");
		e->n_admin++;
		return 0;
	}
	return bad_obs(err, i, o, "unknown observation kind");
}

static int check_input(struct engine *e, struct alog_err *err)
{
	const struct alog_av_input *in = e->in;
	const struct alog_config_component *c = in->component;
	size_t i;
	int rc;

	if (!c)
		return alog_err_set(err, ALOG_EINVAL, "no component given");
	if (in->from_us >= in->to_us)
		return alog_err_set(err, ALOG_EINVAL,
				    "component \"%s\": the period is empty", c->name);
	if (!time_ok(in->from_us) || !time_ok(in->to_us))
		return alog_err_set(err, ALOG_EINVAL,
				    "component \"%s\": the period lies outside years 0000..9999",
				    c->name);
	if (c->target_ppm < 1 || c->target_ppm >= PPM)
		return alog_err_set(err, ALOG_EINVAL,
				    "component \"%s\": target %" PRIu32 " ppm is not strictly between 0 and 1000000",
				    c->name, c->target_ppm);
	if (c->probe_interval_s < 1 ||
	    c->probe_interval_s > ALOG_CONFIG_PROBE_INTERVAL_MAX_S)
		return alog_err_set(err, ALOG_EINVAL,
				    "component \"%s\": probe interval %" PRIu32 " s is not 1..%d",
				    c->name, c->probe_interval_s,
				    ALOG_CONFIG_PROBE_INTERVAL_MAX_S);
	if (in->partial_weight_permille > 1000)
		return alog_err_set(err, ALOG_EINVAL,
				    "partial weight %" PRIu32 " permille is over 1000",
				    in->partial_weight_permille);
	if (in->failover_target_s < 1 ||
	    in->failover_target_s > ALOG_CONFIG_FAILOVER_TARGET_MAX_S)
		return alog_err_set(err, ALOG_EINVAL,
				    "failover target %" PRIu32 " s is not 1..%d",
				    in->failover_target_s,
				    ALOG_CONFIG_FAILOVER_TARGET_MAX_S);
	if (in->n_obs > ALOG_AV_OBS_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "component \"%s\": %zu observations, more than %u",
				    c->name, in->n_obs, ALOG_AV_OBS_MAX);
	if (in->n_obs > 0 && !in->obs)
		return alog_err_set(err, ALOG_EINVAL, "no observations given");
	for (i = 0; i < in->n_obs; i++) {
		rc = check_obs(e, i, err);
		if (rc < 0) {
			alog_err_prefix(err, "component \"%s\"", c->name);
			return rc;
		}
	}
	return 0;
}

/* ---- sorting and searching ---- */

static int cmp_point(const void *pa, const void *pb)
{
	const struct point *a = pa, *b = pb;

	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static int cmp_span(const void *pa, const void *pb)
{
	const struct span *a = pa, *b = pb;

	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

static int cmp_stamp(const void *pa, const void *pb)
{
	const struct stamp *a = pa, *b = pb;

	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static int cmp_i64(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;

	return a < b ? -1 : a > b;
}

static int cmp_finding(const void *pa, const void *pb)
{
	const struct alog_av_finding *a = pa, *b = pb;

	if (a->index != b->index)
		return a->index < b->index ? -1 : 1;
	return (int)a->kind - (int)b->kind;
}

/* Sort spans and merge those that overlap or touch; returns the count. */
static size_t merge_spans(struct span *s, size_t n)
{
	size_t i, k = 0;

	if (n == 0)
		return 0;
	qsort(s, n, sizeof(*s), cmp_span);
	for (i = 1; i < n; i++) {
		if (s[i].a <= s[k].b) {
			if (s[i].b > s[k].b)
				s[k].b = s[i].b;
		} else {
			s[++k] = s[i];
		}
	}
	return k + 1;
}

/* 1 when x lies in one of the merged spans. */
static int in_spans(const struct span *s, size_t n, int64_t x)
{
	size_t lo = 0, hi = n;

	/* the first span with a > x */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s[mid].a <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && x < s[lo - 1].b;
}

/* Number of points with t <= x (the last one sets the state at x). */
static size_t points_upto(const struct engine *e, int64_t x)
{
	size_t lo = 0, hi = e->n_pts;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (e->pts[mid].t <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static enum alog_av_class state_at(const struct engine *e, int64_t x)
{
	size_t k = points_upto(e, x);

	return k > 0 ? e->pts[k - 1].st : e->initial;
}

/* The last stamp with t <= x, or NULL. */
static const struct stamp *stamp_upto(const struct stamp *s, size_t n,
				      int64_t x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s[mid].t <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 ? &s[lo - 1] : NULL;
}

/* The first stamp with t >= x, or NULL. */
static const struct stamp *stamp_from(const struct stamp *s, size_t n,
				      int64_t x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s[mid].t < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n ? &s[lo] : NULL;
}

static int in_period(const struct engine *e, int64_t t)
{
	return t >= e->from && t < e->to;
}

static void add_finding(struct engine *e, enum alog_av_finding_kind k,
			const struct alog_av_obs *o, int64_t at)
{
	struct alog_av_finding *f;

	if (!in_period(e, at))
		return;
	f = &e->r->findings[e->r->n_findings++];
	f->kind = k;
	f->index = o->index;
	f->at_us = at;
}

/* ---- 2. state points ---- */

static int build_points(struct engine *e, struct alog_err *err)
{
	const struct alog_av_input *in = e->in;
	struct alog_av_result *r = e->r;
	enum alog_av_class cur;
	size_t i;

	r->signal = ALOG_AV_SIGNAL_PROBES;
	if (r->daemon_owned) {
		r->signal = ALOG_AV_SIGNAL_BREAKER;
	} else {
		for (i = 0; i < in->n_obs; i++)
			if (in->obs[i].kind == ALOG_AV_TRANSITION &&
			    in->obs[i].transition.at_us < e->to) {
				r->signal = ALOG_AV_SIGNAL_BREAKER;
				break;
			}
	}
	if (ALLOC_FAILS(e->pts, e->n_trans + e->n_probe + e->n_started))
		return nomem(err, e->n_trans + e->n_probe + e->n_started);
	for (i = 0; i < in->n_obs; i++) {
		const struct alog_av_obs *o = &in->obs[i];
		struct point p = { 0, o->index, ALOG_AV_UNKNOWN, o };

		if (r->signal == ALOG_AV_SIGNAL_BREAKER &&
		    o->kind == ALOG_AV_TRANSITION) {
			p.t = o->transition.at_us;
			p.st = state_class(o->transition.to);
		} else if (r->signal == ALOG_AV_SIGNAL_BREAKER &&
			   r->daemon_owned &&
			   o->kind == ALOG_AV_DAEMON_STARTED) {
			/* each run's breaker starts closed (SPEC 17.3) */
			p.t = o->daemon.at_us;
			p.st = ALOG_AV_UP;
		} else if (r->signal == ALOG_AV_SIGNAL_PROBES &&
			   o->kind == ALOG_AV_PROBE) {
			p.t = o->probe.time_us;
			p.st = probe_class(o->probe.status);
		} else {
			continue;
		}
		if (p.t < e->to)
			e->pts[e->n_pts++] = p;
	}
	if (e->n_pts > 1)
		qsort(e->pts, e->n_pts, sizeof(*e->pts), cmp_point);

	/* A breaker only reports changes and starts closed: before its first
	 * transition from closed it was closed. */
	e->initial = ALOG_AV_UNKNOWN;
	if (e->n_pts > 0 && e->pts[0].o->kind == ALOG_AV_TRANSITION &&
	    e->pts[0].o->transition.from == ALOG_BREAKER_CLOSED)
		e->initial = ALOG_AV_UP;

	/* Chain check (SPEC 17.6): each from is the state before it. */
	cur = e->initial;
	for (i = 0; i < e->n_pts && r->signal == ALOG_AV_SIGNAL_BREAKER; i++) {
		const struct point *p = &e->pts[i];

		if (p->o->kind == ALOG_AV_TRANSITION) {
			enum alog_av_class want =
				state_class(p->o->transition.from);

			if (cur == ALOG_AV_UNKNOWN ? want != ALOG_AV_UP
						   : want != cur)
				add_finding(e, ALOG_AV_FINDING_CHAIN_BREAK, p->o,
					    p->t);
		}
		cur = p->st;
	}
	return 0;
}

/* ---- 3. coverage and maintenance ---- */

/* The time an observation speaks for (a crashed run's evidence, up
 * evidence). */
static int64_t obs_time(const struct alog_av_obs *o)
{
	switch (o->kind) {
	case ALOG_AV_TRANSITION:
		return o->transition.at_us;
	case ALOG_AV_PROBE:
		return o->probe.time_us;
	case ALOG_AV_MAINTENANCE:
		return o->maintenance.start_us;
	case ALOG_AV_ACTIVATED:
		return o->activated.failed_at_us;
	case ALOG_AV_REPLAYED:
		return o->replayed.replayed_at_us;
	case ALOG_AV_ADMIN:
		return o->admin.at_us;
	default:
		return o->daemon.at_us;
	}
}

static int daemon_known(struct engine *e, struct alog_err *err)
{
	const struct alog_av_input *in = e->in;
	struct point *life = NULL;
	size_t n_life = 0, i;
	int open = 0;
	int64_t s = 0;
	int rc;

	if (ALLOC_FAILS(life, e->n_started + e->n_stopped)) {
		rc = nomem(err, e->n_started + e->n_stopped);
		goto out;
	}
	if (ALLOC_FAILS(e->evid, in->n_obs)) {
		rc = nomem(err, in->n_obs);
		goto out;
	}
	if (ALLOC_FAILS(e->known, e->n_started + e->n_stopped)) {
		rc = nomem(err, e->n_started + e->n_stopped);
		goto out;
	}
	for (i = 0; i < in->n_obs; i++) {
		const struct alog_av_obs *o = &in->obs[i];

		if (o->kind == ALOG_AV_DAEMON_STARTED ||
		    o->kind == ALOG_AV_DAEMON_STOPPED) {
			struct point p = { o->daemon.at_us, o->index,
					   ALOG_AV_UNKNOWN, o };

			if (p.t < e->to)
				life[n_life++] = p;
		} else if (o->kind != ALOG_AV_MAINTENANCE) {
			e->evid[e->n_evid++] = obs_time(o);
		}
	}
	if (n_life > 1)
		qsort(life, n_life, sizeof(*life), cmp_point);
	if (e->n_evid > 1)
		qsort(e->evid, e->n_evid, sizeof(*e->evid), cmp_i64);
	for (i = 0; i < n_life; i++) {
		const struct point *p = &life[i];

		if (p->o->kind == ALOG_AV_DAEMON_STARTED) {
			if (open) {
				/* crashed run: known up to its last evidence
				 * before this start */
				size_t lo = 0, hi = e->n_evid;

				while (lo < hi) {
					size_t mid = lo + (hi - lo) / 2;

					if (e->evid[mid] < p->t)
						lo = mid + 1;
					else
						hi = mid;
				}
				if (lo > 0 && e->evid[lo - 1] > s)
					e->known[e->n_known++] =
						(struct span){ s, e->evid[lo - 1] };
				add_finding(e, ALOG_AV_FINDING_CRASHED_RUN, p->o,
					    p->t);
			}
			open = 1;
			s = p->t;
		} else if (open) {
			if (p->t > s)
				e->known[e->n_known++] = (struct span){ s, p->t };
			open = 0;
		} else {
			add_finding(e, ALOG_AV_FINDING_STOP_WITHOUT_START, p->o,
				    p->t);
		}
	}
	if (open && s < e->to)
		e->known[e->n_known++] = (struct span){ s, e->to };
	e->n_known = merge_spans(e->known, e->n_known);
	rc = 0;
out:
	free(life);
	return rc;
}

static int build_spans(struct engine *e, struct alog_err *err)
{
	const struct alog_av_input *in = e->in;
	size_t i;
	int rc;

	if (e->r->daemon_owned) {
		rc = daemon_known(e, err);
		if (rc < 0)
			return rc;
	} else {
		if (ALLOC_FAILS(e->known, e->n_trans + e->n_probe))
			return nomem(err, e->n_trans + e->n_probe);
		for (i = 0; i < in->n_obs; i++) {
			const struct alog_av_obs *o = &in->obs[i];
			int64_t t;

			if (o->kind == ALOG_AV_TRANSITION)
				t = o->transition.at_us;
			else if (o->kind == ALOG_AV_PROBE)
				t = o->probe.time_us;
			else
				continue;
			if (t < e->to)
				e->known[e->n_known++] =
					(struct span){ t, t + e->r->tolerance_us };
		}
		e->n_known = merge_spans(e->known, e->n_known);
	}

	if (ALLOC_FAILS(e->excl, e->n_maint))
		return nomem(err, e->n_maint);
	for (i = 0; i < in->n_obs; i++) {
		const struct alog_av_obs *o = &in->obs[i];

		if (o->kind == ALOG_AV_MAINTENANCE &&
		    o->maintenance.change_ref && o->maintenance.change_ref[0])
			e->excl[e->n_excl++] = (struct span){
				o->maintenance.start_us, o->maintenance.end_us };
	}
	e->n_excl = merge_spans(e->excl, e->n_excl);

	/* Up evidence (MTTD) and successful resets (manual recovery). */
	if (ALLOC_FAILS(e->upev, e->n_probe + e->n_trans + e->n_started))
		return nomem(err, e->n_probe + e->n_trans + e->n_started);
	if (ALLOC_FAILS(e->resets, e->n_admin))
		return nomem(err, e->n_admin);
	for (i = 0; i < in->n_obs; i++) {
		const struct alog_av_obs *o = &in->obs[i];

		if ((o->kind == ALOG_AV_PROBE &&
		     o->probe.status == ALOG_AV_PROBE_UP) ||
		    (o->kind == ALOG_AV_TRANSITION &&
		     o->transition.to == ALOG_BREAKER_CLOSED) ||
		    (o->kind == ALOG_AV_DAEMON_STARTED && e->r->daemon_owned))
			e->upev[e->n_upev++] =
				(struct stamp){ obs_time(o), o->index };
		if (o->kind == ALOG_AV_ADMIN &&
		    o->admin.outcome == ALOG_AV_OUTCOME_SUCCESS &&
		    o->admin.action &&
		    strcmp(o->admin.action, "breaker.reset") == 0)
			e->resets[e->n_resets++] =
				(struct stamp){ o->admin.at_us, o->index };
	}
	if (e->n_upev > 1)
		qsort(e->upev, e->n_upev, sizeof(*e->upev), cmp_stamp);
	if (e->n_resets > 1)
		qsort(e->resets, e->n_resets, sizeof(*e->resets), cmp_stamp);
	return 0;
}

/* ---- 4. months and boundaries ---- */

static int build_months(struct engine *e, struct alog_err *err)
{
	struct alog_av_result *r = e->r;
	int64_t y, ms;
	unsigned m;
	size_t n = 0, k;

	civil_from_days(floor_div(e->from, US_PER_DAY), &y, &m);
	/* count first, then fill */
	for (k = 0; k < 2; k++) {
		int64_t yy = y;
		unsigned mm = m;

		ms = e->from;
		n = 0;
		while (ms < e->to) {
			int64_t next = next_month_us(yy, mm);

			if (n == ALOG_AV_MONTHS_MAX)
				return alog_err_set(err, ALOG_ELIMIT,
						    "the period touches more than %u months",
						    ALOG_AV_MONTHS_MAX);
			if (k == 1) {
				struct alog_av_month *mo = &r->months[n];

				mo->year = (int32_t)yy;
				mo->month = mm;
				mo->t.from_us = ms;
				mo->t.to_us = next < e->to ? next : e->to;
			}
			n++;
			ms = next;
			if (++mm == 13) {
				mm = 1;
				yy++;
			}
		}
		if (k == 0) {
			if (ALLOC_FAILS(r->months, n))
				return nomem(err, n);
		}
	}
	r->n_months = n;
	return 0;
}

static int build_bounds(struct engine *e, struct alog_err *err)
{
	size_t cap = 2 + e->n_pts + 2 * e->n_known + 2 * e->n_excl +
		     e->r->n_months;
	size_t i, k;

	if (ALLOC_FAILS(e->bounds, cap))
		return nomem(err, cap);
#define ADD_BOUND(x)                                                 \
	do {                                                         \
		int64_t x_ = (x);                                    \
		if (x_ > e->from && x_ < e->to)                      \
			e->bounds[e->n_bounds++] = x_;               \
	} while (0)
	e->bounds[e->n_bounds++] = e->from;
	e->bounds[e->n_bounds++] = e->to;
	for (i = 0; i < e->n_pts; i++)
		ADD_BOUND(e->pts[i].t);
	for (i = 0; i < e->n_known; i++) {
		ADD_BOUND(e->known[i].a);
		ADD_BOUND(e->known[i].b);
	}
	for (i = 0; i < e->n_excl; i++) {
		ADD_BOUND(e->excl[i].a);
		ADD_BOUND(e->excl[i].b);
	}
	for (i = 0; i < e->r->n_months; i++)
		ADD_BOUND(e->r->months[i].t.from_us);
#undef ADD_BOUND
	qsort(e->bounds, e->n_bounds, sizeof(*e->bounds), cmp_i64);
	for (i = 1, k = 0; i < e->n_bounds; i++)
		if (e->bounds[i] != e->bounds[k])
			e->bounds[++k] = e->bounds[i];
	e->n_bounds = k + 1;
	return 0;
}

/* ---- 5. episodes ---- */

static void end_episode(struct engine *e, struct alog_av_episode *ep,
			const struct point *p)
{
	const struct stamp *rs;

	ep->ended = 1;
	ep->end_us = p->t;
	ep->end_index = p->index;
	ep->recovery = ALOG_AV_RECOVERY_AUTOMATIC;
	if (p->o->kind == ALOG_AV_TRANSITION &&
	    p->o->transition.cause == ALOG_BREAKER_RESET)
		ep->recovery = ALOG_AV_RECOVERY_MANUAL;
	else if (p->o->kind == ALOG_AV_DAEMON_STARTED)
		ep->recovery = ALOG_AV_RECOVERY_RESTART;
	if (ep->recovery != ALOG_AV_RECOVERY_MANUAL) {
		rs = stamp_from(e->resets, e->n_resets, ep->start_us);
		if (rs && rs->t <= ep->end_us) {
			ep->recovery = ALOG_AV_RECOVERY_MANUAL;
			ep->admin_index = rs->index;
		}
	}
}

static int build_episodes(struct engine *e, struct alog_err *err)
{
	struct alog_av_result *r = e->r;
	struct alog_av_episode cur_ep;
	int in_ep = 0;
	size_t i;

	if (ALLOC_FAILS(r->episodes, e->n_pts))
		return nomem(err, e->n_pts);
	memset(&cur_ep, 0, sizeof(cur_ep));
	for (i = 0; i < e->n_pts; i++) {
		const struct point *p = &e->pts[i];

		if (in_ep && p->o->kind == ALOG_AV_TRANSITION &&
		    p->o->transition.cause == ALOG_BREAKER_PROBE_FAILURE)
			cur_ep.half_open_failures++;
		if (!in_ep && not_up(p->st)) {
			const struct stamp *up;

			memset(&cur_ep, 0, sizeof(cur_ep));
			in_ep = 1;
			cur_ep.start_us = p->t;
			cur_ep.start_index = p->index;
			cur_ep.end_index = ALOG_AV_NO_INDEX;
			cur_ep.admin_index = ALOG_AV_NO_INDEX;
			cur_ep.trigger = p->o->kind == ALOG_AV_TRANSITION
				? alog_breaker_cause_name(p->o->transition.cause)
				: "probe";
			up = stamp_upto(e->upev, e->n_upev, p->t);
			if (up) {
				cur_ep.has_detect = 1;
				cur_ep.detect_us = p->t - up->t;
			}
		} else if (in_ep && p->st == ALOG_AV_UP) {
			end_episode(e, &cur_ep, p);
			in_ep = 0;
			if (cur_ep.end_us > e->from)
				r->episodes[r->n_episodes++] = cur_ep;
		}
	}
	if (in_ep) {
		cur_ep.ended = 0;
		cur_ep.end_us = e->to;
		r->episodes[r->n_episodes++] = cur_ep;
	}
	for (i = 0; i < r->n_episodes; i++)
		r->episodes[i].duration_us =
			r->episodes[i].end_us - r->episodes[i].start_us;
	return 0;
}

/* ---- 6. segments ---- */

static void totals_add(struct alog_av_totals *t, enum alog_av_class c,
		       int64_t len)
{
	switch (c) {
	case ALOG_AV_EXCLUDED:
		t->excluded_us += len;
		break;
	case ALOG_AV_DOWN:
		t->down_us += len;
		break;
	case ALOG_AV_PARTIAL:
		t->partial_us += len;
		break;
	case ALOG_AV_UP:
		t->up_us += len;
		break;
	default:
		t->unknown_us += len;
		break;
	}
}

static int classify(struct engine *e, struct alog_err *err)
{
	struct alog_av_result *r = e->r;
	size_t k, ep_i = 0, mo_i = 0;

	if (ALLOC_FAILS(r->segments, e->n_bounds))
		return nomem(err, e->n_bounds);
	for (k = 0; k + 1 < e->n_bounds; k++) {
		int64_t a = e->bounds[k], b = e->bounds[k + 1], len = b - a;
		enum alog_av_class c;

		if (in_spans(e->excl, e->n_excl, a))
			c = ALOG_AV_EXCLUDED;
		else if (!in_spans(e->known, e->n_known, a))
			c = ALOG_AV_UNKNOWN;
		else
			c = state_at(e, a);

		totals_add(&r->total, c, len);
		while (mo_i + 1 < r->n_months && a >= r->months[mo_i].t.to_us)
			mo_i++;
		totals_add(&r->months[mo_i].t, c, len);

		while (ep_i < r->n_episodes && r->episodes[ep_i].end_us <= a)
			ep_i++;
		if (ep_i < r->n_episodes && r->episodes[ep_i].start_us <= a) {
			struct alog_av_episode *ep = &r->episodes[ep_i];

			/* inside an episode the state is down or partial, so
			 * the class is never up here */
			ep->in_period_us += len;
			if (c == ALOG_AV_DOWN)
				ep->down_us += len;
			else if (c == ALOG_AV_PARTIAL)
				ep->partial_us += len;
			else if (c == ALOG_AV_EXCLUDED)
				ep->excluded_us += len;
			else
				ep->unknown_us += len;
		}

		if (r->n_segments > 0 &&
		    r->segments[r->n_segments - 1].cls == c) {
			r->segments[r->n_segments - 1].end_us = b;
		} else {
			struct alog_av_segment *s = &r->segments[r->n_segments++];

			s->start_us = a;
			s->end_us = b;
			s->cls = c;
		}
	}
	return 0;
}

/* The ratios of a stretch (SPEC: rounding down, budget rounded up). */
static void totals_finish(struct alog_av_totals *t, uint32_t target,
			  uint32_t w)
{
	int64_t base;
	u128 num, den, num_u;

	t->period_us = t->to_us - t->from_us;
	base = t->period_us - t->excluded_us;
	t->measured = base > 0;
	if (!t->measured)
		return;
	t->raw_ppm = (uint32_t)((u128)(uint64_t)(base - t->down_us -
						 t->unknown_us) * PPM /
				(uint64_t)base);
	/* in microsecond-permille: (base - Dm - U) * 1000 - w * Dp >= 0 */
	num = (u128)(uint64_t)(base - t->down_us - t->unknown_us) * 1000u -
	      (u128)w * (uint64_t)t->partial_us;
	t->weighted_ppm = (uint32_t)(num * 1000u / (uint64_t)base);
	num = ((u128)(uint64_t)t->down_us * 1000u +
	       (u128)w * (uint64_t)t->partial_us) * PPM;
	den = (u128)(PPM - target) * (uint64_t)base;
	t->budget_used_permille = (uint64_t)((num + den - 1) / den);
	t->pass = t->weighted_ppm >= target;
	if (!t->pass && t->unknown_us > 0) {
		num_u = (u128)(uint64_t)(base - t->down_us) * 1000u -
			(u128)w * (uint64_t)t->partial_us;
		t->unknown_decides =
			(uint64_t)(num_u * 1000u / (uint64_t)base) >= target;
	}
}

/* ---- 7. metrics and lists ---- */

static void metrics(struct engine *e)
{
	struct alog_av_result *r = e->r;
	u128 sum_r = 0, sum_d = 0;
	size_t i, j, mo_i = 0;
	const size_t k = ALOG_AV_FLAP_OPENS;

	for (i = 0; i < r->n_episodes; i++) {
		struct alog_av_episode *ep = &r->episodes[i];

		if (ep->ended) {
			sum_r += (uint64_t)ep->duration_us;
			r->n_mttr++;
		}
		if (ep->start_us >= e->from) {
			r->total.episodes_started++;
			while (mo_i + 1 < r->n_months &&
			       ep->start_us >= r->months[mo_i].t.to_us)
				mo_i++;
			r->months[mo_i].t.episodes_started++;
			if (ep->has_detect) {
				sum_d += (uint64_t)ep->detect_us;
				r->n_mttd++;
			}
		}
		if (!r->has_longest ||
		    ep->duration_us > r->episodes[r->longest].duration_us) {
			r->has_longest = 1;
			r->longest = i;
		}
	}
	if (r->n_mttr > 0) {
		r->has_mttr = 1;
		r->mttr_us = (int64_t)(sum_r / r->n_mttr);
	}
	if (r->n_mttd > 0) {
		r->has_mttd = 1;
		r->mttd_us = (int64_t)(sum_d / r->n_mttd);
	}
	if (r->total.episodes_started > 0) {
		r->has_mtbf = 1;
		r->mtbf_us = r->total.up_us /
			     (int64_t)r->total.episodes_started;
	}

	/* Flapping: k episodes whose starts lie within the window. Groups
	 * that share an episode are one group. */
	for (i = 0; i + k <= r->n_episodes; i++) {
		if (r->episodes[i + k - 1].start_us - r->episodes[i].start_us >=
		    ALOG_AV_FLAP_WINDOW_US)
			continue;
		for (j = i; j < i + k; j++)
			r->episodes[j].flapping = 1;
		if (r->n_flaps > 0 && r->flaps[r->n_flaps - 1].last >= i) {
			r->flaps[r->n_flaps - 1].last = i + k - 1;
		} else {
			r->flaps[r->n_flaps].first = i;
			r->flaps[r->n_flaps].last = i + k - 1;
			r->n_flaps++;
		}
	}
	for (i = 0; i < r->n_flaps; i++) {
		r->flaps[i].first_start_us =
			r->episodes[r->flaps[i].first].start_us;
		r->flaps[i].last_start_us =
			r->episodes[r->flaps[i].last].start_us;
	}
	for (i = 0; i < r->n_episodes; i++)
		r->n_flapping += (size_t)r->episodes[i].flapping;
}

static int sum_add(uint64_t *acc, uint64_t v)
{
	if (*acc > UINT64_MAX - v)
		return -1;
	*acc += v;
	return 0;
}

static int activations(struct engine *e, struct alog_err *err)
{
	const struct alog_av_input *in = e->in;
	struct alog_av_result *r = e->r;
	struct alog_av_activation *cur = NULL;
	size_t i, k;

	for (i = 0; i < in->n_obs; i++) {
		const struct alog_av_obs *o = &in->obs[i];
		uint64_t four = 0;

		if (o->kind == ALOG_AV_ACTIVATED) {
			cur = &r->activations[r->n_activations++];
			cur->src = o;
			cur->reconciled = 1;
			cur->bad_index = ALOG_AV_NO_INDEX;
			continue;
		}
		if (o->kind != ALOG_AV_REPLAYED || o->replayed.import)
			continue;
		if (!cur || cur->drained) {
			add_finding(e, ALOG_AV_FINDING_ORPHAN_REPLAY, o,
				    o->replayed.replayed_at_us);
			continue;
		}
		cur->n_files++;
		if (sum_add(&four, o->replayed.imported) < 0 ||
		    sum_add(&four, o->replayed.duplicates) < 0 ||
		    sum_add(&four, o->replayed.conflicts) < 0 ||
		    sum_add(&four, o->replayed.refused) < 0 ||
		    sum_add(&cur->spooled, o->replayed.records) < 0 ||
		    sum_add(&cur->imported, o->replayed.imported) < 0 ||
		    sum_add(&cur->duplicates, o->replayed.duplicates) < 0 ||
		    sum_add(&cur->conflicts, o->replayed.conflicts) < 0 ||
		    sum_add(&cur->refused, o->replayed.refused) < 0)
			return alog_err_set(err, ALOG_EINVAL,
					    "component \"%s\": observation %zu (log index %" PRIu64 "): replay counts overflow",
					    in->component->name, i, o->index);
		if (four != o->replayed.records && cur->reconciled) {
			cur->reconciled = 0;
			cur->bad_index = o->index;
		}
		if (o->replayed.drained) {
			cur->drained = 1;
			cur->drained_at_us = o->replayed.replayed_at_us;
		}
	}

	/* keep those whose failure lies in the period */
	for (i = 0, k = 0; i < r->n_activations; i++) {
		struct alog_av_activation a = r->activations[i];
		const struct alog_av_obs *o = a.src;

		if (!in_period(e, o->activated.failed_at_us))
			continue;
		if (o->activated.has_first_spooled) {
			int64_t d = o->activated.first_spooled_us -
				    o->activated.failed_at_us;

			a.failover_measured = 1;
			a.failover_us = d > 0 ? d : 0;
			a.failover_pass = a.failover_us <= r->failover_target_us;
		}
		r->n_failover_pass += (size_t)a.failover_pass;
		r->n_unreconciled += (size_t)!a.reconciled;
		r->activations[k++] = a;
	}
	r->n_activations = k;
	return 0;
}

static void lists(struct engine *e)
{
	const struct alog_av_input *in = e->in;
	struct alog_av_result *r = e->r;
	size_t i;

	for (i = 0; i < in->n_obs; i++) {
		const struct alog_av_obs *o = &in->obs[i];

		if (o->kind == ALOG_AV_MAINTENANCE &&
		    o->maintenance.start_us < e->to &&
		    o->maintenance.end_us > e->from) {
			struct alog_av_window *w = &r->windows[r->n_windows++];

			w->src = o;
			w->start_us = o->maintenance.start_us > e->from
				? o->maintenance.start_us : e->from;
			w->end_us = o->maintenance.end_us < e->to
				? o->maintenance.end_us : e->to;
			w->approved = o->maintenance.change_ref &&
				      o->maintenance.change_ref[0];
			r->n_unapproved += (size_t)!w->approved;
		} else if (o->kind == ALOG_AV_ADMIN &&
			   in_period(e, o->admin.at_us)) {
			r->interventions[r->n_interventions++] = o;
		}
	}
	if (r->n_findings > 1)
		qsort(r->findings, r->n_findings, sizeof(*r->findings),
		      cmp_finding);
}

int alog_av_compute(const struct alog_av_input *in,
		    struct alog_av_result *out, struct alog_err *err)
{
	struct engine e;
	struct alog_av_result *r = out;
	size_t k, i, n;
	int rc;

	memset(&e, 0, sizeof(e));
	memset(out, 0, sizeof(*out));
	e.in = in;
	e.r = r;
	rc = check_input(&e, err);
	if (rc < 0)
		goto out;
	e.from = in->from_us;
	e.to = in->to_us;
	r->daemon_owned = in->component->daemon_owned != 0;
	r->target_ppm = in->component->target_ppm;
	r->weight_permille = in->partial_weight_permille;
	r->tolerance_us = r->daemon_owned ? 0
		: (int64_t)in->component->probe_interval_s *
		  ALOG_AV_PROBE_TOLERANCE * US_PER_S;
	r->failover_target_us = (int64_t)in->failover_target_s * US_PER_S;
	r->total.from_us = e.from;
	r->total.to_us = e.to;

	/* at most one finding per transition, lifecycle event or replay */
	n = e.n_trans + e.n_started + e.n_stopped + e.n_repl;
	if (ALLOC_FAILS(r->findings, n) ||
	    ALLOC_FAILS(r->windows, e.n_maint) ||
	    ALLOC_FAILS(r->activations, e.n_act) ||
	    ALLOC_FAILS(r->interventions, e.n_admin)) {
		rc = nomem(err, in->n_obs);
		goto out;
	}

	rc = build_points(&e, err);
	if (rc < 0)
		goto out;
	rc = build_spans(&e, err);
	if (rc < 0)
		goto out;
	rc = build_months(&e, err);
	if (rc < 0)
		goto out;
	rc = build_bounds(&e, err);
	if (rc < 0)
		goto out;
	rc = build_episodes(&e, err);
	if (rc < 0)
		goto out;
	if (ALLOC_FAILS(r->flaps, r->n_episodes)) {
		rc = nomem(err, r->n_episodes);
		goto out;
	}
	rc = classify(&e, err);
	if (rc < 0)
		goto out;

	/* the state carried in at from */
	k = points_upto(&e, e.from);
	r->state_at_from = state_at(&e, e.from);
	r->state_at_from_index = ALOG_AV_NO_INDEX;
	if (k > 0)
		r->state_at_from_index = e.pts[k - 1].index;
	else if (r->state_at_from != ALOG_AV_UNKNOWN)
		r->state_at_from_index = e.pts[0].index;

	metrics(&e);
	totals_finish(&r->total, r->target_ppm, r->weight_permille);
	for (i = 0; i < r->n_months; i++)
		totals_finish(&r->months[i].t, r->target_ppm,
			      r->weight_permille);
	rc = activations(&e, err);
	if (rc < 0)
		goto out;
	lists(&e);
	rc = 0;
out:
	free(e.pts);
	free(e.known);
	free(e.excl);
	free(e.bounds);
	free(e.upev);
	free(e.resets);
	free(e.evid);
	if (rc < 0)
		alog_av_result_release(out);
	return rc;
}
