/*
 * rules: see rules.h. SPEC.md 11.2 "Detection rules".
 *
 * Keyed rules (failed logins per actor and per address, breaker flapping
 * per component, clock skew per source) share one machine: a table of at
 * most ALOG_RULES_KEYS_MAX keys with hash chains and a least-recently-seen
 * list; each key holds a ring of its last `threshold` events (time, index)
 * and at most one open anomaly. The other rules keep a few scalars (last
 * probe per configured component, last verification).
 *
 * Invariant: an open anomaly of a key is closed (emitted) before its key
 * is evicted, when the next event of the key does not join it, when the
 * log's clock passes its last event's received time + window, or at
 * finish; so each anomaly is emitted exactly once.
 */
#include "ingest/rules.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/clock.h"

#define US_PER_S INT64_C(1000000)
#define US_PER_MIN (60 * US_PER_S)
#define US_PER_HOUR (60 * US_PER_MIN)
#define HASH_BUCKETS (2 * ALOG_RULES_KEYS_MAX)
#define NONE (-1)
#define N_KEYED 4

struct slot {
	int used;
	char subject[ALOG_RULES_SUBJECT_MAX + 1];
	size_t subject_len;
	int truncated;
	uint32_t hash;
	int32_t chain;                /* next slot in the hash bucket */
	int32_t prev, next;           /* least-recently-seen list */
	/* the ring of the last events, oldest first from ring_head */
	int64_t ring_t[ALOG_RULES_THRESHOLD_MAX];
	uint64_t ring_idx[ALOG_RULES_THRESHOLD_MAX];
	uint32_t ring_n, ring_head;
	/* the open anomaly */
	int open;
	int64_t last_t;               /* rule clock of its latest event */
	int64_t last_rx;              /* received time of its latest event */
	struct alog_rules_anomaly a;
};

struct keyed {
	enum alog_rules_id rule;
	uint32_t threshold;
	int64_t window_us;
	struct slot *slots;           /* ALOG_RULES_KEYS_MAX */
	int32_t buckets[HASH_BUCKETS];
	int32_t lru_head, lru_tail;   /* least recently seen first */
	size_t n_used;
	int32_t open[ALOG_RULES_KEYS_MAX]; /* open slots, in opening order */
	size_t n_open;
};

struct probe_state {
	int has;
	int64_t last_t;               /* latest probe time so far */
	uint64_t last_index;
};

struct alog_rules {
	const struct alog_config *cfg;
	struct alog_rules_params p;
	alog_rules_emit_fn emit;
	void *ctx;
	int finished;
	int fed;
	uint64_t last_index;
	int64_t now_us;               /* received time of the latest event */
	struct keyed keyed[N_KEYED];
	struct probe_state *probes;   /* one per configured component */
	/* verification gap */
	int64_t verify_last_us;
	uint64_t verify_last_index;
	int verify_open;
	uint64_t verify_detected_index;
	int64_t verify_detected_us;
	struct alog_rules_anomaly scratch;
};

static const struct alog_rules_def defs[ALOG_RULES_N] = {
	{ ALOG_RULES_LOGIN_ACTOR, "R-LOGIN-ACTOR",
	  "at least 5 auth.login failures for one actor within 5 min",
	  ALOG_RULES_MEDIUM, ALOG_RULES_MALICIOUS },
	{ ALOG_RULES_LOGIN_SOURCE, "R-LOGIN-SOURCE",
	  "at least 10 auth.login failures from one source_addr within 5 min",
	  ALOG_RULES_HIGH, ALOG_RULES_MALICIOUS },
	{ ALOG_RULES_BREAKER_FLAP, "R-BREAKER-FLAP",
	  "at least 3 breaker transitions to open for one component within 1 h",
	  ALOG_RULES_MEDIUM, ALOG_RULES_ENVIRONMENTAL },
	{ ALOG_RULES_ADMIN_HOURS, "R-ADMIN-HOURS",
	  "an admin.action outside the configured business hours",
	  ALOG_RULES_MEDIUM, ALOG_RULES_MALICIOUS },
	{ ALOG_RULES_PROBE_GAP, "R-PROBE-GAP",
	  "more than 3 x probe_interval_s between consecutive health probes of a component",
	  ALOG_RULES_MEDIUM, ALOG_RULES_ENVIRONMENTAL },
	{ ALOG_RULES_VERIFY_FAILED, "R-VERIFY-FAILED",
	  "an integrity.verified with result fail",
	  ALOG_RULES_HIGH, ALOG_RULES_MALICIOUS },
	{ ALOG_RULES_VERIFY_MISSING, "R-VERIFY-MISSING",
	  "no integrity.verified for more than 26 h (a daily run, 2 h of slack)",
	  ALOG_RULES_MEDIUM, ALOG_RULES_ERROR },
	{ ALOG_RULES_CLOCK_SKEW, "R-CLOCK-SKEW",
	  "an event whose time is more than 5 min from its received time",
	  ALOG_RULES_LOW, ALOG_RULES_ERROR },
};

static const char *const severity_names[] = { "low", "medium", "high" };
static const char *const class_names[] = {
	"malicious", "environmental", "error",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

const struct alog_rules_def *alog_rules_defs(void)
{
	return defs;
}

const char *alog_rules_id_name(enum alog_rules_id r)
{
	return (unsigned)r < ALOG_RULES_N ? defs[r].id : NULL;
}

const char *alog_rules_severity_name(enum alog_rules_severity s)
{
	return (unsigned)s < N_OF(severity_names) ? severity_names[s] : NULL;
}

const char *alog_rules_class_name(enum alog_rules_class c)
{
	return (unsigned)c < N_OF(class_names) ? class_names[c] : NULL;
}

void alog_rules_params_default(struct alog_rules_params *p)
{
	memset(p, 0, sizeof(*p));
	p->login_actor_threshold = 5;
	p->login_actor_window_us = 5 * US_PER_MIN;
	p->login_source_threshold = 10;
	p->login_source_window_us = 5 * US_PER_MIN;
	p->flap_opens = 3;
	p->flap_window_us = US_PER_HOUR;
	p->probe_gap_factor = 3;
	p->verify_max_gap_us = 26 * US_PER_HOUR;
	p->skew_max_us = 5 * US_PER_MIN;
	p->skew_burst_us = US_PER_HOUR;
}

static int check_threshold(uint32_t v, const char *name, struct alog_err *err)
{
	if (v < 1 || v > ALOG_RULES_THRESHOLD_MAX)
		return alog_err_set(err, ALOG_EINVAL,
				    "rule parameter \"%s\" must be 1..%d", name,
				    ALOG_RULES_THRESHOLD_MAX);
	return 0;
}

static int check_window(int64_t v, const char *name, struct alog_err *err)
{
	if (v < 1 || v > ALOG_RULES_WINDOW_MAX_US)
		return alog_err_set(err, ALOG_EINVAL,
				    "rule parameter \"%s\" must be 1..%" PRId64
				    " us", name, ALOG_RULES_WINDOW_MAX_US);
	return 0;
}

int alog_rules_params_check(const struct alog_rules_params *p,
			    struct alog_err *err)
{
	int rc;

	if ((rc = check_threshold(p->login_actor_threshold,
				  "login_actor_threshold", err)) < 0 ||
	    (rc = check_window(p->login_actor_window_us,
			       "login_actor_window_us", err)) < 0 ||
	    (rc = check_threshold(p->login_source_threshold,
				  "login_source_threshold", err)) < 0 ||
	    (rc = check_window(p->login_source_window_us,
			       "login_source_window_us", err)) < 0 ||
	    (rc = check_threshold(p->flap_opens, "flap_opens", err)) < 0 ||
	    (rc = check_window(p->flap_window_us, "flap_window_us", err)) < 0 ||
	    (rc = check_window(p->verify_max_gap_us, "verify_max_gap_us",
			       err)) < 0 ||
	    (rc = check_window(p->skew_max_us, "skew_max_us", err)) < 0 ||
	    (rc = check_window(p->skew_burst_us, "skew_burst_us", err)) < 0)
		return rc;
	if (p->probe_gap_factor < 1 ||
	    p->probe_gap_factor > ALOG_RULES_GAP_FACTOR_MAX)
		return alog_err_set(err, ALOG_EINVAL,
				    "rule parameter \"probe_gap_factor\" must be 1..%d",
				    ALOG_RULES_GAP_FACTOR_MAX);
	return 0;
}

/* ---- anomalies ---- */

/* Copy s into a subject, cut at a UTF-8 character boundary. */
static void set_subject(char *dst, size_t *len, int *truncated, const char *s)
{
	size_t n = strlen(s);

	*truncated = 0;
	if (n > ALOG_RULES_SUBJECT_MAX) {
		n = ALOG_RULES_SUBJECT_MAX;
		/* back off over continuation bytes 10xxxxxx */
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		*truncated = 1;
	}
	memcpy(dst, s, n);
	dst[n] = 0;
	*len = n;
}

static void anomaly_start(struct alog_rules_anomaly *a, enum alog_rules_id rule,
			  const char *subject)
{
	size_t len;

	memset(a, 0, sizeof(*a));
	a->rule = rule;
	set_subject(a->subject, &len, &a->subject_truncated, subject);
	a->detected_index = ALOG_RULES_NO_INDEX;
}

static void anomaly_add(struct alog_rules_anomaly *a, uint64_t index, int64_t t)
{
	if (a->n_events == 0 || t < a->window_start_us)
		a->window_start_us = t;
	if (a->n_events == 0 || t > a->window_end_us)
		a->window_end_us = t;
	if (a->n_indices < ALOG_RULES_INDICES_MAX)
		a->indices[a->n_indices++] = index;
	a->n_events++;
}

static int emit(struct alog_rules *r, const struct alog_rules_anomaly *a,
		struct alog_err *err)
{
	int rc = r->emit ? r->emit(r->ctx, a, err) : 0;

	return rc < 0 ? rc : 0;
}

/* ---- keyed rules ---- */

static uint32_t hash_bytes(const char *s, size_t n)
{
	uint32_t h = 2166136261u;   /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static void lru_unlink(struct keyed *k, int32_t i)
{
	struct slot *s = &k->slots[i];

	if (s->prev != NONE)
		k->slots[s->prev].next = s->next;
	else
		k->lru_head = s->next;
	if (s->next != NONE)
		k->slots[s->next].prev = s->prev;
	else
		k->lru_tail = s->prev;
	s->prev = s->next = NONE;
}

static void lru_append(struct keyed *k, int32_t i)
{
	struct slot *s = &k->slots[i];

	s->prev = k->lru_tail;
	s->next = NONE;
	if (k->lru_tail != NONE)
		k->slots[k->lru_tail].next = i;
	else
		k->lru_head = i;
	k->lru_tail = i;
}

static void open_remove(struct keyed *k, int32_t i)
{
	size_t j;

	for (j = 0; j < k->n_open; j++) {
		if (k->open[j] == i) {
			memmove(&k->open[j], &k->open[j + 1],
				(k->n_open - j - 1) * sizeof(k->open[0]));
			k->n_open--;
			return;
		}
	}
}

/* Emit the open anomaly of slot i and forget the key's ring. */
static int keyed_close(struct alog_rules *r, struct keyed *k, int32_t i,
		       struct alog_err *err)
{
	struct slot *s = &k->slots[i];

	if (!s->open)
		return 0;
	s->open = 0;
	s->ring_n = s->ring_head = 0;
	open_remove(k, i);
	return emit(r, &s->a, err);
}

static void keyed_drop(struct keyed *k, int32_t i)
{
	struct slot *s = &k->slots[i];
	int32_t *pp = &k->buckets[s->hash % HASH_BUCKETS];

	while (*pp != i)
		pp = &k->slots[*pp].chain;
	*pp = s->chain;
	lru_unlink(k, i);
	memset(s, 0, sizeof(*s));
	k->n_used--;
}

/* The slot of subject, made (evicting the least recently seen key when
 * the table is full) if new; *out the slot. */
static int keyed_slot(struct alog_rules *r, struct keyed *k,
		      const char *subject, int32_t *out, struct alog_err *err)
{
	char key[ALOG_RULES_SUBJECT_MAX + 1];
	size_t len;
	int truncated, rc;
	uint32_t h;
	int32_t i;
	struct slot *s;

	set_subject(key, &len, &truncated, subject);
	h = hash_bytes(key, len);
	for (i = k->buckets[h % HASH_BUCKETS]; i != NONE;
	     i = k->slots[i].chain) {
		s = &k->slots[i];
		if (s->hash == h && s->subject_len == len &&
		    memcmp(s->subject, key, len) == 0) {
			lru_unlink(k, i);
			lru_append(k, i);
			*out = i;
			return 0;
		}
	}
	if (k->n_used == ALOG_RULES_KEYS_MAX) {
		i = k->lru_head;
		rc = keyed_close(r, k, i, err);
		if (rc < 0)
			return rc;
		keyed_drop(k, i);
	}
	for (i = 0; k->slots[i].used; i++)
		;
	s = &k->slots[i];
	memset(s, 0, sizeof(*s));
	s->used = 1;
	memcpy(s->subject, key, len + 1);
	s->subject_len = len;
	s->truncated = truncated;
	s->hash = h;
	s->chain = k->buckets[h % HASH_BUCKETS];
	k->buckets[h % HASH_BUCKETS] = i;
	lru_append(k, i);
	k->n_used++;
	*out = i;
	return 0;
}

/* Close the open anomalies of k that no event can join any more: the
 * log's clock is a window past the received time of their last event. */
static int keyed_expire(struct alog_rules *r, struct keyed *k, int64_t now,
			struct alog_err *err)
{
	size_t j = 0;
	int rc;

	while (j < k->n_open) {
		struct slot *s = &k->slots[k->open[j]];

		if (now - s->last_rx >= k->window_us) {
			rc = keyed_close(r, k, k->open[j], err);
			if (rc < 0)
				return rc;
			continue;  /* open[j] is now the next one */
		}
		j++;
	}
	return 0;
}

static int64_t abs_diff(int64_t a, int64_t b)
{
	return a > b ? a - b : b - a;
}

/* One event of key subject at rule-clock time t. */
static int keyed_event(struct alog_rules *r, struct keyed *k,
		       const char *subject, const struct alog_rules_event *ev,
		       int64_t t, int64_t measure, struct alog_err *err)
{
	struct slot *s;
	int32_t i;
	uint32_t j, pos;
	int64_t lo, hi;
	int rc;

	rc = keyed_slot(r, k, subject, &i, err);
	if (rc < 0)
		return rc;
	s = &k->slots[i];
	if (s->open) {
		if (abs_diff(t, s->last_t) < k->window_us) {
			/* the burst goes on: join it */
			anomaly_add(&s->a, ev->index, t);
			if (measure > s->a.measure_us)
				s->a.measure_us = measure;
			s->last_t = t;
			s->last_rx = ev->received_us;
			return 0;
		}
		rc = keyed_close(r, k, i, err);
		if (rc < 0)
			return rc;
	}
	/* the ring keeps the last `threshold` events of the key */
	if (s->ring_n < k->threshold) {
		pos = (s->ring_head + s->ring_n) % k->threshold;
		s->ring_n++;
	} else {
		pos = s->ring_head;
		s->ring_head = (s->ring_head + 1) % k->threshold;
	}
	s->ring_t[pos] = t;
	s->ring_idx[pos] = ev->index;
	if (s->ring_n < k->threshold)
		return 0;
	lo = hi = s->ring_t[s->ring_head];
	for (j = 1; j < s->ring_n; j++) {
		int64_t x = s->ring_t[(s->ring_head + j) % k->threshold];

		if (x < lo)
			lo = x;
		if (x > hi)
			hi = x;
	}
	if (hi - lo >= k->window_us)
		return 0;
	/* the threshold is reached: fire */
	anomaly_start(&s->a, k->rule, s->subject);
	s->a.subject_truncated = s->truncated;
	for (j = 0; j < s->ring_n; j++) {
		pos = (s->ring_head + j) % k->threshold;
		anomaly_add(&s->a, s->ring_idx[pos], s->ring_t[pos]);
	}
	s->a.detected_index = ev->index;
	s->a.detected_us = ev->received_us;
	s->a.measure_us = measure;
	s->ring_n = s->ring_head = 0;
	s->open = 1;
	s->last_t = t;
	s->last_rx = ev->received_us;
	k->open[k->n_open++] = i;
	return 0;
}

static int keyed_flush(struct alog_rules *r, struct keyed *k,
		       struct alog_err *err)
{
	int rc;

	while (k->n_open > 0) {
		rc = keyed_close(r, k, k->open[0], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- lifecycle ---- */

int alog_rules_new(struct alog_rules **out, const struct alog_config *cfg,
		   const struct alog_rules_params *params, int64_t start_us,
		   alog_rules_emit_fn emit_fn, void *ctx, struct alog_err *err)
{
	struct alog_rules *r = NULL;
	static const enum alog_rules_id keyed_rules[N_KEYED] = {
		ALOG_RULES_LOGIN_ACTOR, ALOG_RULES_LOGIN_SOURCE,
		ALOG_RULES_BREAKER_FLAP, ALOG_RULES_CLOCK_SKEW,
	};
	size_t i, j;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory for the rules");
	if (params)
		r->p = *params;
	else
		alog_rules_params_default(&r->p);
	rc = alog_rules_params_check(&r->p, err);
	if (rc < 0)
		goto out;
	if (start_us < ALOG_TIME_MIN_US || start_us > ALOG_TIME_MAX_US) {
		rc = alog_err_set(err, ALOG_EINVAL,
				  "rules start time %" PRId64 " out of range",
				  start_us);
		goto out;
	}
	r->cfg = cfg;
	r->emit = emit_fn;
	r->ctx = ctx;
	r->now_us = start_us;
	r->verify_last_us = start_us;
	r->verify_last_index = ALOG_RULES_NO_INDEX;
	for (i = 0; i < N_KEYED; i++) {
		struct keyed *k = &r->keyed[i];

		k->rule = keyed_rules[i];
		k->lru_head = k->lru_tail = NONE;
		for (j = 0; j < HASH_BUCKETS; j++)
			k->buckets[j] = NONE;
		k->slots = calloc(ALOG_RULES_KEYS_MAX, sizeof(*k->slots));
		if (!k->slots) {
			rc = alog_err_set(err, ALOG_ENOMEM,
					  "out of memory for %d rule keys",
					  ALOG_RULES_KEYS_MAX);
			goto out;
		}
	}
	r->keyed[0].threshold = r->p.login_actor_threshold;
	r->keyed[0].window_us = r->p.login_actor_window_us;
	r->keyed[1].threshold = r->p.login_source_threshold;
	r->keyed[1].window_us = r->p.login_source_window_us;
	r->keyed[2].threshold = r->p.flap_opens;
	r->keyed[2].window_us = r->p.flap_window_us;
	r->keyed[3].threshold = 1;
	r->keyed[3].window_us = r->p.skew_burst_us;
	if (cfg && cfg->n_components > 0) {
		r->probes = calloc(cfg->n_components, sizeof(*r->probes));
		if (!r->probes) {
			rc = alog_err_set(err, ALOG_ENOMEM,
					  "out of memory for %zu components",
					  cfg->n_components);
			goto out;
		}
	}
	*out = r;
	r = NULL;
	rc = 0;
out:
	alog_rules_free(r);
	return rc;
}

void alog_rules_free(struct alog_rules *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < N_KEYED; i++)
		free(r->keyed[i].slots);
	free(r->probes);
	free(r);
}

/* ---- the rules ---- */

static int time_ok(int64_t t)
{
	return t >= ALOG_TIME_MIN_US && t <= ALOG_TIME_MAX_US;
}

/* The time an event happened: its producer time, else received. */
static int64_t event_time(const struct alog_rules_event *ev)
{
	return ev->has_time ? ev->time_us : ev->received_us;
}

static int single(struct alog_rules *r, enum alog_rules_id rule,
		  const char *subject, const struct alog_rules_event *ev,
		  int64_t t, struct alog_err *err)
{
	struct alog_rules_anomaly *a = &r->scratch;

	anomaly_start(a, rule, subject);
	anomaly_add(a, ev->index, t);
	a->detected_index = ev->index;
	a->detected_us = ev->received_us;
	return emit(r, a, err);
}

static int64_t probe_tolerance(const struct alog_rules *r,
			       const struct alog_config_component *c)
{
	return (int64_t)c->probe_interval_s * r->p.probe_gap_factor * US_PER_S;
}

static int probe_gap(struct alog_rules *r, const struct alog_rules_event *ev,
		     struct alog_err *err)
{
	const struct alog_config_component *c;
	struct probe_state *ps;
	struct alog_rules_anomaly *a = &r->scratch;
	int64_t gap;
	int rc;

	if (!r->cfg || !ev->component || !ev->has_time)
		return 0;
	c = alog_config_component_find(r->cfg, ev->component,
				       strlen(ev->component));
	if (!c)
		return 0;  /* not in the inventory: no interval to hold it to */
	ps = &r->probes[c - r->cfg->components];
	if (ps->has) {
		gap = ev->time_us - ps->last_t;
		if (gap > probe_tolerance(r, c)) {
			anomaly_start(a, ALOG_RULES_PROBE_GAP, c->name);
			anomaly_add(a, ps->last_index, ps->last_t);
			anomaly_add(a, ev->index, ev->time_us);
			a->detected_index = ev->index;
			a->detected_us = ev->received_us;
			a->measure_us = gap;
			rc = emit(r, a, err);
			if (rc < 0)
				return rc;
		}
	}
	if (!ps->has || ev->time_us >= ps->last_t) {
		ps->last_t = ev->time_us;
		ps->last_index = ev->index;
	}
	ps->has = 1;
	return 0;
}

/* Emit the verification gap that ends at end (an event's received time,
 * or the stream's end) with the event index (or none). */
static int verify_gap_close(struct alog_rules *r, int64_t end, uint64_t index,
			    struct alog_err *err)
{
	struct alog_rules_anomaly *a = &r->scratch;

	anomaly_start(a, ALOG_RULES_VERIFY_MISSING, "integrity");
	if (r->verify_last_index != ALOG_RULES_NO_INDEX)
		anomaly_add(a, r->verify_last_index, r->verify_last_us);
	if (index != ALOG_RULES_NO_INDEX)
		anomaly_add(a, index, end);
	/* the gap itself, also when it starts at start_us or ends at the end */
	a->window_start_us = r->verify_last_us;
	a->window_end_us = end;
	a->measure_us = end - r->verify_last_us;
	if (r->verify_open) {
		a->detected_index = r->verify_detected_index;
		a->detected_us = r->verify_detected_us;
	} else {
		a->detected_index = index;
		a->detected_us = end;
	}
	r->verify_open = 0;
	return emit(r, a, err);
}

static int check_event(const struct alog_rules *r,
		       const struct alog_rules_event *ev, struct alog_err *err)
{
	if (r->fed && ev->index <= r->last_index)
		return alog_err_set(err, ALOG_EINVAL,
				    "rules: event at log index %" PRIu64
				    " is not after log index %" PRIu64,
				    ev->index, r->last_index);
	if (ev->received_us < r->now_us)
		return alog_err_set(err, ALOG_EINVAL,
				    "rules: event at log index %" PRIu64
				    " was received before the one fed before it",
				    ev->index);
	if (!time_ok(ev->received_us) || (ev->has_time && !time_ok(ev->time_us)) ||
	    (ev->type == ALOG_RULES_EV_BREAKER && !time_ok(ev->at_us)))
		return alog_err_set(err, ALOG_EINVAL,
				    "rules: event at log index %" PRIu64
				    " has a time out of range", ev->index);
	return 0;
}

int alog_rules_feed(struct alog_rules *r, const struct alog_rules_event *ev,
		    struct alog_err *err)
{
	int64_t t, skew;
	size_t i;
	int rc;

	if (r->finished)
		return alog_err_set(err, ALOG_ESTATE,
				    "rules: event fed after the end");
	rc = check_event(r, ev, err);
	if (rc < 0)
		return rc;
	r->fed = 1;
	r->last_index = ev->index;
	r->now_us = ev->received_us;
	t = event_time(ev);

	/* the log's clock moved: close what nothing can join any more */
	for (i = 0; i < N_KEYED; i++) {
		rc = keyed_expire(r, &r->keyed[i], r->now_us, err);
		if (rc < 0)
			return rc;
	}

	switch (ev->type) {
	case ALOG_RULES_EV_AUTH_LOGIN:
		if (!ev->outcome || strcmp(ev->outcome, "failure") != 0)
			break;
		if (ev->actor) {
			rc = keyed_event(r, &r->keyed[0], ev->actor, ev, t, 0,
					 err);
			if (rc < 0)
				return rc;
		}
		if (ev->source_addr) {
			rc = keyed_event(r, &r->keyed[1], ev->source_addr, ev,
					 t, 0, err);
			if (rc < 0)
				return rc;
		}
		break;
	case ALOG_RULES_EV_BREAKER:
		if (ev->component && ev->to == ALOG_BREAKER_OPEN) {
			rc = keyed_event(r, &r->keyed[2], ev->component, ev,
					 ev->at_us, 0, err);
			if (rc < 0)
				return rc;
		}
		break;
	case ALOG_RULES_EV_ADMIN_ACTION:
		if (r->cfg && ev->operator_name &&
		    !alog_config_in_business_hours(r->cfg, t)) {
			rc = single(r, ALOG_RULES_ADMIN_HOURS,
				    ev->operator_name, ev, t, err);
			if (rc < 0)
				return rc;
		}
		break;
	case ALOG_RULES_EV_HEALTH_PROBE:
		rc = probe_gap(r, ev, err);
		if (rc < 0)
			return rc;
		break;
	case ALOG_RULES_EV_VERIFIED:
		if (ev->outcome && strcmp(ev->outcome, "fail") == 0) {
			rc = single(r, ALOG_RULES_VERIFY_FAILED, "integrity",
				    ev, t, err);
			if (rc < 0)
				return rc;
		}
		break;
	default:
		break;
	}

	/* R-VERIFY-MISSING on the log's clock */
	if (r->now_us - r->verify_last_us > r->p.verify_max_gap_us &&
	    !r->verify_open) {
		r->verify_open = 1;
		r->verify_detected_index = ev->index;
		r->verify_detected_us = ev->received_us;
	}
	if (ev->type == ALOG_RULES_EV_VERIFIED) {
		if (r->verify_open) {
			rc = verify_gap_close(r, ev->received_us, ev->index,
					      err);
			if (rc < 0)
				return rc;
		}
		r->verify_last_us = ev->received_us;
		r->verify_last_index = ev->index;
	}

	/* R-CLOCK-SKEW, per source, on the log's clock */
	if (ev->has_time) {
		skew = abs_diff(ev->received_us, ev->time_us);
		if (skew > r->p.skew_max_us) {
			rc = keyed_event(r, &r->keyed[3],
					 ev->source ? ev->source : "", ev,
					 ev->received_us, skew, err);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int alog_rules_finish(struct alog_rules *r, int64_t end_us,
		      struct alog_err *err)
{
	struct alog_rules_anomaly *a = &r->scratch;
	size_t i;
	int rc;

	if (r->finished)
		return alog_err_set(err, ALOG_ESTATE, "rules: finished twice");
	if (end_us < r->now_us || !time_ok(end_us))
		return alog_err_set(err, ALOG_EINVAL,
				    "rules: end %" PRId64
				    " is before the last event received",
				    end_us);
	r->finished = 1;
	for (i = 0; i < N_KEYED; i++) {
		if (r->keyed[i].rule == ALOG_RULES_CLOCK_SKEW)
			continue;
		rc = keyed_flush(r, &r->keyed[i], err);
		if (rc < 0)
			return rc;
	}
	/* probe gaps that run up to the end, in inventory order */
	for (i = 0; r->cfg && i < r->cfg->n_components; i++) {
		const struct alog_config_component *c = &r->cfg->components[i];
		struct probe_state *ps = &r->probes[i];

		if (!ps->has || end_us - ps->last_t <= probe_tolerance(r, c))
			continue;
		anomaly_start(a, ALOG_RULES_PROBE_GAP, c->name);
		anomaly_add(a, ps->last_index, ps->last_t);
		a->window_end_us = end_us;
		a->detected_us = end_us;
		a->measure_us = end_us - ps->last_t;
		rc = emit(r, a, err);
		if (rc < 0)
			return rc;
	}
	if (r->verify_open || end_us - r->verify_last_us > r->p.verify_max_gap_us) {
		rc = verify_gap_close(r, end_us, ALOG_RULES_NO_INDEX, err);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < N_KEYED; i++) {
		if (r->keyed[i].rule != ALOG_RULES_CLOCK_SKEW)
			continue;
		rc = keyed_flush(r, &r->keyed[i], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}
