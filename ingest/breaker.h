/*
 * breaker: one circuit breaker as a pure state machine (SPEC.md "Circuit
 * breakers"). No I/O and no clock reads: every call takes the time, in
 * microseconds since 1970, from the caller, so tests drive it with an
 * injected clock and the daemon with its wall clock.
 *
 * States closed, open and half_open. closed -> open after `threshold`
 * consecutive failures, or when the failure rate over a sliding window
 * reaches `rate_permille` once the window holds `min_calls` calls.
 * open -> half_open when the open timeout expires (a timer: the caller
 * asks alog_breaker_next_deadline and calls alog_breaker_tick; the
 * transition's time is the deadline itself, never the late tick's time).
 * half_open admits at most as many calls as successful probes are still
 * needed; `probes` successes close it, one failure reopens it with the
 * next (backed-off) open timeout. An operator can force it open (held,
 * no timer, until reset) and reset it (to closed) from any state.
 *
 * Invariants: every transition is reported exactly once, through the
 * callback, in order; reported times never decrease (a time earlier than
 * the latest one seen is taken as the latest one); before any other
 * effect, every call performs the timed transitions that are due at its
 * time; a transition is reported exactly when the pair (state, forced)
 * changes; counters in a report are the values just after the transition.
 */
#ifndef ALOG_INGEST_BREAKER_H
#define ALOG_INGEST_BREAKER_H

#include <stddef.h>
#include <stdint.h>

#include "store/buf.h"
#include "store/err.h"

/* Limits (SPEC.md "Limits"). */
#define ALOG_BREAKER_THRESHOLD_MAX 1000      /* consecutive failures */
#define ALOG_BREAKER_MIN_CALLS_MAX 100000    /* min calls in the window */
#define ALOG_BREAKER_WINDOW_BUCKETS 100      /* the window's time buckets */
#define ALOG_BREAKER_WINDOW_MAX_US INT64_C(86400000000) /* one day */
#define ALOG_BREAKER_OPEN_TIMEOUT_MAX_MS 86400000u      /* one day */
#define ALOG_BREAKER_BACKOFF_MAX_PERMILLE 10000u        /* x10 */
#define ALOG_BREAKER_PROBES_MAX 100
/* Component names: [a-z][a-z0-9_-]*, 1..64 bytes. */
#define ALOG_BREAKER_COMPONENT_MAX 64

enum alog_breaker_state {
	ALOG_BREAKER_CLOSED = 0,
	ALOG_BREAKER_OPEN,
	ALOG_BREAKER_HALF_OPEN,
};

enum alog_breaker_cause {
	ALOG_BREAKER_FAILURE_THRESHOLD = 0, /* closed -> open */
	ALOG_BREAKER_FAILURE_RATE,          /* closed -> open */
	ALOG_BREAKER_OPEN_TIMEOUT,          /* open -> half_open (timer) */
	ALOG_BREAKER_PROBE_SUCCESS,         /* half_open -> closed */
	ALOG_BREAKER_PROBE_FAILURE,         /* half_open -> open */
	ALOG_BREAKER_FORCED_OPEN,           /* any -> open, held (operator) */
	ALOG_BREAKER_RESET,                 /* any -> closed (operator) */
};

/*
 * Settings of one breaker. Times in the names' units. Checked by
 * alog_breaker_config_check (and by alog_breaker_init).
 */
struct alog_breaker_config {
	uint32_t threshold;          /* 1..ALOG_BREAKER_THRESHOLD_MAX */
	uint32_t rate_permille;      /* 0: no rate rule; 1..1000: opens when
					failures * 1000 >= rate * calls */
	int64_t window_us;           /* rate window: a multiple of
					ALOG_BREAKER_WINDOW_BUCKETS, at most
					ALOG_BREAKER_WINDOW_MAX_US (checked
					only when rate_permille > 0) */
	uint32_t min_calls;          /* 1..ALOG_BREAKER_MIN_CALLS_MAX calls in
					the window before the rate counts
					(checked only when rate_permille > 0) */
	uint32_t open_timeout_ms;    /* first open period,
					1..ALOG_BREAKER_OPEN_TIMEOUT_MAX_MS */
	uint32_t backoff_permille;   /* 1000 (none) ..
					ALOG_BREAKER_BACKOFF_MAX_PERMILLE:
					next = floor(prev * backoff / 1000) */
	uint32_t open_timeout_max_ms;/* cap of backed-off periods:
					open_timeout_ms..OPEN_TIMEOUT_MAX_MS */
	uint32_t probes;             /* successes in half_open that close it,
					1..ALOG_BREAKER_PROBES_MAX; also the
					most probes in flight */
};

/* One reported transition. */
struct alog_breaker_transition {
	enum alog_breaker_state from;
	enum alog_breaker_state to;       /* == from only for forced_open
					     of a timed open breaker */
	enum alog_breaker_cause cause;
	int64_t at_us;                    /* when it happened (for
					     open_timeout: the deadline) */
	uint32_t consecutive_failures;    /* failures since the last success
					     or reset */
	uint64_t window_failures;         /* in the window at at_us */
	uint64_t window_calls;
	uint64_t opens;                   /* entries into open from another
					     state since init, this one too */
	uint64_t open_timeout_ms;         /* to = open by a timed cause: this
					     period's length; cause
					     open_timeout: the length of the
					     period that ended; else 0 */
};

typedef void (*alog_breaker_fn)(void *ctx,
				const struct alog_breaker_transition *t);

struct alog_breaker_bucket {
	int64_t index;     /* floor(t / bucket_us) of the calls it holds */
	uint32_t calls;    /* saturating */
	uint32_t failures; /* saturating, <= calls */
};

/*
 * A breaker. Embed it anywhere; initialise with alog_breaker_init (it
 * owns no memory, so there is nothing to release). Fields are private:
 * read them through the functions below.
 */
struct alog_breaker {
	struct alog_breaker_config cfg;
	alog_breaker_fn on_transition;   /* may be NULL */
	void *ctx;
	enum alog_breaker_state state;
	int forced;                /* open and held until reset */
	int64_t last_us;           /* latest time seen */
	int64_t deadline_us;       /* open -> half_open, or INT64_MAX */
	uint32_t consecutive_failures;
	uint32_t streak;           /* timed opens since the last close */
	uint64_t cur_timeout_ms;   /* the current timed open period, or 0 */
	uint64_t last_timeout_ms;  /* the latest timed open period since the
				      last close, or 0 */
	uint32_t in_flight;        /* half_open: admitted, not recorded */
	uint32_t probe_ok;         /* half_open: successful probes */
	uint64_t opens;
	uint64_t transitions;      /* reported so far (the generation) */
	int64_t bucket_us;         /* window_us / ALOG_BREAKER_WINDOW_BUCKETS */
	struct alog_breaker_bucket window[ALOG_BREAKER_WINDOW_BUCKETS];
};

/* Fixed text of states and causes (SPEC.md): "closed", "open",
 * "half_open"; "failure_threshold", "failure_rate", "open_timeout",
 * "probe_success", "probe_failure", "forced_open", "reset". NULL for a
 * value outside the enum. */
const char *alog_breaker_state_name(enum alog_breaker_state s);
const char *alog_breaker_cause_name(enum alog_breaker_cause c);
/* The reverse, for readers of breaker.transition events: 0, or
 * ALOG_EINVAL when the text (len bytes) is not one of the names. */
int alog_breaker_state_parse(const char *s, size_t len,
			     enum alog_breaker_state *out);
int alog_breaker_cause_parse(const char *s, size_t len,
			     enum alog_breaker_cause *out);

/* 1 when name (len bytes) is a valid component name, else 0. */
int alog_breaker_component_valid(const char *name, size_t len);

/* 0, or ALOG_EINVAL naming the first field out of range. */
int alog_breaker_config_check(const struct alog_breaker_config *cfg,
			      struct alog_err *err);

/*
 * Start b closed at time now_us with copies of cfg; fn (may be NULL) is
 * called with ctx for every transition, synchronously, from inside the
 * call that made it (fn must not call back into b). ALOG_EINVAL for a bad
 * cfg (b is then left all-zero).
 */
int alog_breaker_init(struct alog_breaker *b,
		      const struct alog_breaker_config *cfg, int64_t now_us,
		      alog_breaker_fn fn, void *ctx, struct alog_err *err);

enum alog_breaker_state alog_breaker_state(const struct alog_breaker *b);
/* 1 when forced open by an operator (held until reset). */
int alog_breaker_forced(const struct alog_breaker *b);
/* Number of transitions so far. A caller that runs calls concurrently
 * records only the results of calls admitted at the same generation. */
uint64_t alog_breaker_generation(const struct alog_breaker *b);

/* Time of the next timed transition (open -> half_open), or INT64_MAX
 * when none is pending (closed, half_open, forced open). */
int64_t alog_breaker_next_deadline(const struct alog_breaker *b);

/* Perform every timed transition due at now_us, each at its deadline.
 * Returns the number of transitions reported. */
int alog_breaker_tick(struct alog_breaker *b, int64_t now_us);

/*
 * May a call go ahead at now_us? closed: 1; open: 0; half_open: 1 while
 * fewer than (probes - successful probes) calls are in flight, and the
 * call then counts as in flight. Every admitted call must be recorded
 * exactly once (an abandoned call is a failure).
 */
int alog_breaker_allow(struct alog_breaker *b, int64_t now_us);

/*
 * Record the outcome of a call at now_us (success: 1, failure: 0).
 * closed: counts (consecutive failures, window) and may open; open: the
 * result is ignored; half_open: ignored when no probe is in flight, else
 * counts as that probe's result. Returns the number of transitions
 * reported (timed ones included).
 */
int alog_breaker_record(struct alog_breaker *b, int64_t now_us, int success);

/* Operator actions. force_open: any state -> open, held with no timer
 * until reset (a no-op on a breaker already forced). reset: any state ->
 * closed with cleared counters (on a closed breaker it clears the counters
 * and reports nothing). Return the number of transitions reported. */
int alog_breaker_force_open(struct alog_breaker *b, int64_t now_us);
int alog_breaker_reset(struct alog_breaker *b, int64_t now_us);

/*
 * Append the members of a breaker.transition event for component (len
 * bytes, a valid component name) to out, without braces, in the order of
 * SPEC.md: "component","from","to","cause","at","at_us",
 * "consecutive_failures","window_failures","window_calls","opens",
 * "open_timeout_ms". ALOG_EINVAL for a bad name, state, cause or a time
 * outside years 0000..9999 (out is then left as it was); ALOG_ELIMIT or
 * ALOG_ENOMEM from out.
 */
int alog_breaker_transition_format(struct alog_buf *out,
				   const char *component, size_t len,
				   const struct alog_breaker_transition *t,
				   struct alog_err *err);

#endif
