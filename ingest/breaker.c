/*
 * breaker: see breaker.h. SPEC.md "Circuit breakers".
 *
 * The failure-rate window is a ring of ALOG_BREAKER_WINDOW_BUCKETS time
 * buckets of bucket_us = window_us / BUCKETS each; bucket k holds the calls
 * recorded at times t with floor(t / bucket_us) = k. The window at time t
 * is the buckets k with cur - BUCKETS < k <= cur, cur = floor(t /
 * bucket_us): the current partial bucket and the BUCKETS - 1 before it.
 * A slot whose stored index is outside that range is stale and counts
 * nothing; INT64_MIN marks a slot that never held calls.
 */
#include "ingest/breaker.h"

#include <inttypes.h>
#include <string.h>

#include "ingest/clock.h"

static const char *const state_names[] = {
	[ALOG_BREAKER_CLOSED] = "closed",
	[ALOG_BREAKER_OPEN] = "open",
	[ALOG_BREAKER_HALF_OPEN] = "half_open",
};

static const char *const cause_names[] = {
	[ALOG_BREAKER_FAILURE_THRESHOLD] = "failure_threshold",
	[ALOG_BREAKER_FAILURE_RATE] = "failure_rate",
	[ALOG_BREAKER_OPEN_TIMEOUT] = "open_timeout",
	[ALOG_BREAKER_PROBE_SUCCESS] = "probe_success",
	[ALOG_BREAKER_PROBE_FAILURE] = "probe_failure",
	[ALOG_BREAKER_FORCED_OPEN] = "forced_open",
	[ALOG_BREAKER_RESET] = "reset",
};

#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))
#define N_CAUSES (sizeof(cause_names) / sizeof(cause_names[0]))
#define NO_DEADLINE INT64_MAX

const char *alog_breaker_state_name(enum alog_breaker_state s)
{
	if ((unsigned)s >= N_STATES)
		return NULL;
	return state_names[s];
}

const char *alog_breaker_cause_name(enum alog_breaker_cause c)
{
	if ((unsigned)c >= N_CAUSES)
		return NULL;
	return cause_names[c];
}

static int name_index(const char *const *names, size_t n, const char *s,
		      size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return (int)i;
	return -1;
}

int alog_breaker_state_parse(const char *s, size_t len,
			     enum alog_breaker_state *out)
{
	int i = name_index(state_names, N_STATES, s, len);

	if (i < 0)
		return ALOG_EINVAL;
	*out = (enum alog_breaker_state)i;
	return 0;
}

int alog_breaker_cause_parse(const char *s, size_t len,
			     enum alog_breaker_cause *out)
{
	int i = name_index(cause_names, N_CAUSES, s, len);

	if (i < 0)
		return ALOG_EINVAL;
	*out = (enum alog_breaker_cause)i;
	return 0;
}

int alog_breaker_component_valid(const char *name, size_t len)
{
	size_t i;

	if (len < 1 || len > ALOG_BREAKER_COMPONENT_MAX)
		return 0;
	if (name[0] < 'a' || name[0] > 'z')
		return 0;
	for (i = 1; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int alog_breaker_config_check(const struct alog_breaker_config *c,
			      struct alog_err *err)
{
	if (c->threshold < 1 || c->threshold > ALOG_BREAKER_THRESHOLD_MAX)
		return alog_err_set(err, ALOG_EINVAL,
				    "breaker threshold %" PRIu32
				    " is outside 1..%d",
				    c->threshold, ALOG_BREAKER_THRESHOLD_MAX);
	if (c->rate_permille > 1000)
		return alog_err_set(err, ALOG_EINVAL,
				    "breaker rate %" PRIu32
				    " per mille is outside 0..1000",
				    c->rate_permille);
	if (c->rate_permille > 0) {
		if (c->window_us < ALOG_BREAKER_WINDOW_BUCKETS ||
		    c->window_us > ALOG_BREAKER_WINDOW_MAX_US ||
		    c->window_us % ALOG_BREAKER_WINDOW_BUCKETS != 0)
			return alog_err_set(err, ALOG_EINVAL,
					    "breaker window %" PRId64
					    " us is not a multiple of %d in "
					    "%d..%" PRId64,
					    c->window_us,
					    ALOG_BREAKER_WINDOW_BUCKETS,
					    ALOG_BREAKER_WINDOW_BUCKETS,
					    ALOG_BREAKER_WINDOW_MAX_US);
		if (c->min_calls < 1 ||
		    c->min_calls > ALOG_BREAKER_MIN_CALLS_MAX)
			return alog_err_set(err, ALOG_EINVAL,
					    "breaker min calls %" PRIu32
					    " is outside 1..%d",
					    c->min_calls,
					    ALOG_BREAKER_MIN_CALLS_MAX);
	}
	if (c->open_timeout_ms < 1 ||
	    c->open_timeout_ms > ALOG_BREAKER_OPEN_TIMEOUT_MAX_MS)
		return alog_err_set(err, ALOG_EINVAL,
				    "breaker open timeout %" PRIu32
				    " ms is outside 1..%u",
				    c->open_timeout_ms,
				    ALOG_BREAKER_OPEN_TIMEOUT_MAX_MS);
	if (c->backoff_permille < 1000 ||
	    c->backoff_permille > ALOG_BREAKER_BACKOFF_MAX_PERMILLE)
		return alog_err_set(err, ALOG_EINVAL,
				    "breaker backoff %" PRIu32
				    " per mille is outside 1000..%u",
				    c->backoff_permille,
				    ALOG_BREAKER_BACKOFF_MAX_PERMILLE);
	if (c->open_timeout_max_ms < c->open_timeout_ms ||
	    c->open_timeout_max_ms > ALOG_BREAKER_OPEN_TIMEOUT_MAX_MS)
		return alog_err_set(err, ALOG_EINVAL,
				    "breaker open timeout cap %" PRIu32
				    " ms is outside %" PRIu32 "..%u",
				    c->open_timeout_max_ms, c->open_timeout_ms,
				    ALOG_BREAKER_OPEN_TIMEOUT_MAX_MS);
	if (c->probes < 1 || c->probes > ALOG_BREAKER_PROBES_MAX)
		return alog_err_set(err, ALOG_EINVAL,
				    "breaker probes %" PRIu32
				    " is outside 1..%d",
				    c->probes, ALOG_BREAKER_PROBES_MAX);
	return 0;
}

/* ---- the rate window ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if (a % b != 0 && (a < 0) != (b < 0))
		q--;
	return q;
}

static void window_clear(struct alog_breaker *b)
{
	size_t i;

	for (i = 0; i < ALOG_BREAKER_WINDOW_BUCKETS; i++) {
		b->window[i].index = INT64_MIN;
		b->window[i].calls = 0;
		b->window[i].failures = 0;
	}
}

/* The slot of bucket index k (k mod BUCKETS, never negative). */
static struct alog_breaker_bucket *window_slot(struct alog_breaker *b,
					       int64_t k)
{
	int64_t m = k % ALOG_BREAKER_WINDOW_BUCKETS;

	if (m < 0)
		m += ALOG_BREAKER_WINDOW_BUCKETS;
	return &b->window[m];
}

static void window_add(struct alog_breaker *b, int64_t t, int failure)
{
	struct alog_breaker_bucket *s;
	int64_t k;

	if (b->cfg.rate_permille == 0)
		return;
	k = floor_div(t, b->bucket_us);
	s = window_slot(b, k);
	if (s->index != k) {
		s->index = k;
		s->calls = 0;
		s->failures = 0;
	}
	/* Saturate: 100 buckets of at most 2^32 - 1 calls keep the rate
	 * arithmetic below 2^49. */
	if (s->calls < UINT32_MAX) {
		s->calls++;
		if (failure)
			s->failures++;
	}
}

static void window_sum(const struct alog_breaker *b, int64_t t,
		       uint64_t *calls, uint64_t *failures)
{
	const struct alog_breaker_bucket *s;
	int64_t cur;
	size_t i;

	*calls = 0;
	*failures = 0;
	if (b->cfg.rate_permille == 0)
		return;
	cur = floor_div(t, b->bucket_us);
	for (i = 0; i < ALOG_BREAKER_WINDOW_BUCKETS; i++) {
		s = &b->window[i];
		if (s->index == INT64_MIN || s->index > cur)
			continue;
		/* cur - index in uint64: exact, as index <= cur. */
		if ((uint64_t)cur - (uint64_t)s->index >=
		    ALOG_BREAKER_WINDOW_BUCKETS)
			continue;
		*calls += s->calls;
		*failures += s->failures;
	}
}

/* ---- transitions ---- */

static void emit(struct alog_breaker *b, enum alog_breaker_state from,
		 enum alog_breaker_cause cause, int64_t at_us,
		 uint64_t timeout_ms)
{
	struct alog_breaker_transition t;

	memset(&t, 0, sizeof(t));
	t.from = from;
	t.to = b->state;
	t.cause = cause;
	t.at_us = at_us;
	t.consecutive_failures = b->consecutive_failures;
	window_sum(b, at_us, &t.window_calls, &t.window_failures);
	t.opens = b->opens;
	t.open_timeout_ms = timeout_ms;
	b->transitions++;
	if (b->on_transition)
		b->on_transition(b->ctx, &t);
}

static int64_t add_sat(int64_t a, int64_t d)
{
	/* d >= 0; a deadline past INT64_MAX never comes. */
	if (a > INT64_MAX - d)
		return NO_DEADLINE;
	return a + d;
}

static void enter_open(struct alog_breaker *b, int64_t at_us,
		       enum alog_breaker_cause cause)
{
	enum alog_breaker_state from = b->state;
	uint64_t t;

	b->streak++;
	if (b->streak == 1) {
		t = b->cfg.open_timeout_ms;
	} else {
		/* SPEC: next = min(cap, floor(prev * backoff / 1000)); prev
		 * <= 86400000 and backoff <= 10000, so no overflow. */
		t = b->last_timeout_ms * b->cfg.backoff_permille / 1000;
		if (t > b->cfg.open_timeout_max_ms)
			t = b->cfg.open_timeout_max_ms;
	}
	b->cur_timeout_ms = t;
	b->last_timeout_ms = t;
	b->state = ALOG_BREAKER_OPEN;
	b->forced = 0;
	b->deadline_us = add_sat(at_us, (int64_t)t * 1000);
	b->in_flight = 0;
	b->probe_ok = 0;
	b->opens++;
	emit(b, from, cause, at_us, t);
}

static void enter_half_open(struct alog_breaker *b, int64_t at_us)
{
	uint64_t elapsed = b->cur_timeout_ms;

	b->state = ALOG_BREAKER_HALF_OPEN;
	b->deadline_us = NO_DEADLINE;
	b->cur_timeout_ms = 0;
	b->in_flight = 0;
	b->probe_ok = 0;
	emit(b, ALOG_BREAKER_OPEN, ALOG_BREAKER_OPEN_TIMEOUT, at_us, elapsed);
}

static void clear_counters(struct alog_breaker *b)
{
	b->consecutive_failures = 0;
	window_clear(b);
}

static void enter_closed(struct alog_breaker *b, int64_t at_us,
			 enum alog_breaker_cause cause)
{
	enum alog_breaker_state from = b->state;

	b->state = ALOG_BREAKER_CLOSED;
	b->forced = 0;
	b->deadline_us = NO_DEADLINE;
	b->streak = 0;
	b->cur_timeout_ms = 0;
	b->last_timeout_ms = 0;
	b->in_flight = 0;
	b->probe_ok = 0;
	clear_counters(b);
	emit(b, from, cause, at_us, 0);
}

/* Times never go back: an earlier time is taken as the latest seen. */
static int64_t clamp_now(const struct alog_breaker *b, int64_t now_us)
{
	return now_us < b->last_us ? b->last_us : now_us;
}

int alog_breaker_init(struct alog_breaker *b,
		      const struct alog_breaker_config *cfg, int64_t now_us,
		      alog_breaker_fn fn, void *ctx, struct alog_err *err)
{
	int rc;

	memset(b, 0, sizeof(*b));
	rc = alog_breaker_config_check(cfg, err);
	if (rc < 0)
		return rc;
	b->cfg = *cfg;
	b->on_transition = fn;
	b->ctx = ctx;
	b->state = ALOG_BREAKER_CLOSED;
	b->last_us = now_us;
	b->deadline_us = NO_DEADLINE;
	b->bucket_us = cfg->rate_permille > 0 ?
		cfg->window_us / ALOG_BREAKER_WINDOW_BUCKETS : 1;
	window_clear(b);
	return 0;
}

enum alog_breaker_state alog_breaker_state(const struct alog_breaker *b)
{
	return b->state;
}

int alog_breaker_forced(const struct alog_breaker *b)
{
	return b->forced;
}

uint64_t alog_breaker_generation(const struct alog_breaker *b)
{
	return b->transitions;
}

int64_t alog_breaker_next_deadline(const struct alog_breaker *b)
{
	if (b->state == ALOG_BREAKER_OPEN && !b->forced)
		return b->deadline_us;
	return NO_DEADLINE;
}

int alog_breaker_tick(struct alog_breaker *b, int64_t now_us)
{
	int64_t now = clamp_now(b, now_us);
	int n = 0;

	/* The only timed transition is open -> half_open; it happens at
	 * the deadline, whenever the tick comes (SPEC: exact times). */
	while (b->state == ALOG_BREAKER_OPEN && !b->forced &&
	       b->deadline_us != NO_DEADLINE && b->deadline_us <= now) {
		enter_half_open(b, b->deadline_us);
		n++;
	}
	b->last_us = now;
	return n;
}

int alog_breaker_allow(struct alog_breaker *b, int64_t now_us)
{
	alog_breaker_tick(b, now_us);
	switch (b->state) {
	case ALOG_BREAKER_CLOSED:
		return 1;
	case ALOG_BREAKER_HALF_OPEN:
		if (b->in_flight < b->cfg.probes - b->probe_ok) {
			b->in_flight++;
			return 1;
		}
		return 0;
	case ALOG_BREAKER_OPEN:
	default:
		return 0;
	}
}

static int rate_reached(const struct alog_breaker *b, int64_t now)
{
	uint64_t calls, failures;

	if (b->cfg.rate_permille == 0)
		return 0;
	window_sum(b, now, &calls, &failures);
	return calls >= b->cfg.min_calls &&
	       failures * 1000 >= (uint64_t)b->cfg.rate_permille * calls;
}

int alog_breaker_record(struct alog_breaker *b, int64_t now_us, int success)
{
	int n = alog_breaker_tick(b, now_us);
	int64_t now = b->last_us;

	switch (b->state) {
	case ALOG_BREAKER_CLOSED:
		if (success) {
			b->consecutive_failures = 0;
			window_add(b, now, 0);
			break;
		}
		if (b->consecutive_failures < UINT32_MAX)
			b->consecutive_failures++;
		window_add(b, now, 1);
		if (b->consecutive_failures >= b->cfg.threshold) {
			enter_open(b, now, ALOG_BREAKER_FAILURE_THRESHOLD);
			n++;
		} else if (rate_reached(b, now)) {
			enter_open(b, now, ALOG_BREAKER_FAILURE_RATE);
			n++;
		}
		break;
	case ALOG_BREAKER_HALF_OPEN:
		/* A result with no probe in flight is from a call admitted
		 * before this state: it says nothing about recovery. */
		if (b->in_flight == 0)
			break;
		b->in_flight--;
		if (success) {
			b->consecutive_failures = 0;
			b->probe_ok++;
			if (b->probe_ok >= b->cfg.probes) {
				enter_closed(b, now,
					     ALOG_BREAKER_PROBE_SUCCESS);
				n++;
			}
		} else {
			if (b->consecutive_failures < UINT32_MAX)
				b->consecutive_failures++;
			enter_open(b, now, ALOG_BREAKER_PROBE_FAILURE);
			n++;
		}
		break;
	case ALOG_BREAKER_OPEN:
	default:
		/* Open admits nothing; a late result is ignored. */
		break;
	}
	return n;
}

int alog_breaker_force_open(struct alog_breaker *b, int64_t now_us)
{
	int n = alog_breaker_tick(b, now_us);
	enum alog_breaker_state from = b->state;

	if (b->forced)
		return n;
	if (from != ALOG_BREAKER_OPEN)
		b->opens++;
	b->state = ALOG_BREAKER_OPEN;
	b->forced = 1;
	b->deadline_us = NO_DEADLINE;
	b->cur_timeout_ms = 0;
	b->in_flight = 0;
	b->probe_ok = 0;
	emit(b, from, ALOG_BREAKER_FORCED_OPEN, b->last_us, 0);
	return n + 1;
}

int alog_breaker_reset(struct alog_breaker *b, int64_t now_us)
{
	int n = alog_breaker_tick(b, now_us);

	if (b->state == ALOG_BREAKER_CLOSED) {
		clear_counters(b);
		return n;
	}
	enter_closed(b, b->last_us, ALOG_BREAKER_RESET);
	return n + 1;
}

int alog_breaker_transition_format(struct alog_buf *out,
				   const char *component, size_t len,
				   const struct alog_breaker_transition *t,
				   struct alog_err *err)
{
	const char *from = alog_breaker_state_name(t->from);
	const char *to = alog_breaker_state_name(t->to);
	const char *cause = alog_breaker_cause_name(t->cause);
	char at[ALOG_TIME_TEXT_MAX];
	int rc;

	if (!alog_breaker_component_valid(component, len))
		return alog_err_set(err, ALOG_EINVAL,
				    "component name is not 1..%d bytes of "
				    "[a-z][a-z0-9_-]*",
				    ALOG_BREAKER_COMPONENT_MAX);
	if (!from || !to || !cause)
		return alog_err_set(err, ALOG_EINVAL,
				    "transition has an unknown state or cause");
	if (alog_time_format(t->at_us, at) < 0)
		return alog_err_set(err, ALOG_EINVAL,
				    "transition time %" PRId64
				    " us is outside years 0000..9999",
				    t->at_us);
	rc = alog_buf_addf(out, err,
			   "\"component\":\"%.*s\",\"from\":\"%s\","
			   "\"to\":\"%s\",\"cause\":\"%s\",\"at\":\"%s\","
			   "\"at_us\":%" PRId64 ",\"consecutive_failures\":%"
			   PRIu32 ",\"window_failures\":%" PRIu64
			   ",\"window_calls\":%" PRIu64 ",\"opens\":%" PRIu64
			   ",\"open_timeout_ms\":%" PRIu64,
			   (int)len, component, from, to, cause, at, t->at_us,
			   t->consecutive_failures, t->window_failures,
			   t->window_calls, t->opens, t->open_timeout_ms);
	/* On failure alog_buf_addf leaves out's length as it was. */
	return rc;
}
