/*
 * rules: the detection rules of the event model (SPEC.md 11.2 "Detection
 * rules"). A table of rule definitions (id, logic, severity, class) and a
 * streaming evaluator: events go in one at a time in log order, anomalies
 * come out through a callback when they close. The daemon can run it live
 * on every accepted event; the reporter runs it over a period. Both get
 * the same anomalies from the same events, because every decision depends
 * only on the events fed (no wall clock): the "now" of the evaluator is
 * the received time of the latest event fed.
 *
 * Invariants:
 *  - pure: no I/O, no clock, no allocation after alog_rules_new;
 *  - bounded memory: at most ALOG_RULES_KEYS_MAX keys (actor, address,
 *    component, source) per keyed rule; when a new key finds the table
 *    full, the least recently seen key is evicted (its open anomaly, if
 *    any, is emitted first); an anomaly keeps the first
 *    ALOG_RULES_INDICES_MAX indices behind it and counts the rest;
 *  - one anomaly per burst: a keyed rule fires when its threshold is
 *    reached, and every later event of the same key that comes within the
 *    window of the previous one joins that anomaly instead of firing
 *    again;
 *  - every anomaly is emitted exactly once, by alog_rules_feed or
 *    alog_rules_finish.
 */
#ifndef ALOG_INGEST_RULES_H
#define ALOG_INGEST_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/breaker.h"
#include "ingest/config.h"
#include "store/err.h"

/* Limits (SPEC.md "Limits"). */
#define ALOG_RULES_KEYS_MAX 1024        /* keys per keyed rule */
#define ALOG_RULES_INDICES_MAX 64       /* indices kept per anomaly */
#define ALOG_RULES_SUBJECT_MAX 128      /* bytes of a subject kept */
#define ALOG_RULES_THRESHOLD_MAX 32     /* largest count threshold */
#define ALOG_RULES_WINDOW_MAX_US INT64_C(604800000000) /* 7 days */
#define ALOG_RULES_GAP_FACTOR_MAX 100   /* probe gap, in intervals */
/* A log index that is absent. */
#define ALOG_RULES_NO_INDEX UINT64_MAX

/* The rules, in table order (the order of emission at one event). */
enum alog_rules_id {
	ALOG_RULES_LOGIN_ACTOR = 0,   /* "R-LOGIN-ACTOR" */
	ALOG_RULES_LOGIN_SOURCE,      /* "R-LOGIN-SOURCE" */
	ALOG_RULES_BREAKER_FLAP,      /* "R-BREAKER-FLAP" */
	ALOG_RULES_ADMIN_HOURS,       /* "R-ADMIN-HOURS" */
	ALOG_RULES_PROBE_GAP,         /* "R-PROBE-GAP" */
	ALOG_RULES_VERIFY_FAILED,     /* "R-VERIFY-FAILED" */
	ALOG_RULES_VERIFY_MISSING,    /* "R-VERIFY-MISSING" */
	ALOG_RULES_CLOCK_SKEW,        /* "R-CLOCK-SKEW" */
};
#define ALOG_RULES_N 8

enum alog_rules_severity {
	ALOG_RULES_LOW = 0,           /* "low" */
	ALOG_RULES_MEDIUM,            /* "medium" */
	ALOG_RULES_HIGH,              /* "high" */
};

enum alog_rules_class {
	ALOG_RULES_MALICIOUS = 0,     /* "malicious" */
	ALOG_RULES_ENVIRONMENTAL,     /* "environmental" */
	ALOG_RULES_ERROR,             /* "error" */
};
#define ALOG_RULES_CLASSES 3

/* The parameters of the rules. alog_rules_params_default gives the
 * documented defaults (in the comments). */
struct alog_rules_params {
	uint32_t login_actor_threshold;  /* 5 failures ... */
	int64_t login_actor_window_us;   /* ... within 5 min */
	uint32_t login_source_threshold; /* 10 failures ... */
	int64_t login_source_window_us;  /* ... within 5 min */
	uint32_t flap_opens;             /* 3 transitions to open ... */
	int64_t flap_window_us;          /* ... within 1 h */
	uint32_t probe_gap_factor;       /* gap > 3 x probe_interval_s */
	int64_t verify_max_gap_us;       /* 26 h without integrity.verified */
	int64_t skew_max_us;             /* |received - time| > 5 min */
	int64_t skew_burst_us;           /* 1 h: skewed events of a source
					    this close to the previous one
					    join its anomaly */
};

/* One rule definition (static). */
struct alog_rules_def {
	enum alog_rules_id rule;
	const char *id;           /* "R-LOGIN-ACTOR", ... */
	const char *logic;        /* one line: what fires, with the default
				     parameters */
	enum alog_rules_severity severity;
	enum alog_rules_class cls;
};

/* The event types the rules read (SPEC.md 11.1). */
enum alog_rules_type {
	ALOG_RULES_EV_OTHER = 0,      /* anything else (clock skew only) */
	ALOG_RULES_EV_AUTH_LOGIN,     /* auth.login */
	ALOG_RULES_EV_ADMIN_ACTION,   /* admin.action */
	ALOG_RULES_EV_HEALTH_PROBE,   /* health.probe */
	ALOG_RULES_EV_BREAKER,        /* breaker.transition */
	ALOG_RULES_EV_VERIFIED,       /* integrity.verified */
	ALOG_RULES_EV_CHECKPOINT,     /* checkpoint.signed */
};

/*
 * One event, as the rules see it. Strings are borrowed for the call (the
 * report's monitoring result also keeps pointers to them), NUL-terminated,
 * NULL when the member is absent. An event without a member a rule needs
 * is ignored by that rule.
 */
struct alog_rules_event {
	uint64_t index;           /* log index; strictly increasing */
	int64_t received_us;      /* never decreasing along the stream */
	int has_time;             /* 1: time_us is the producer's time */
	int64_t time_us;
	enum alog_rules_type type;
	const char *source;       /* envelope source (clock skew key) */
	/* auth.login */
	const char *actor;
	const char *source_addr;
	/* auth.login: "success"/"failure"; admin.action: "success"/
	 * "denied"/"failed"; integrity.verified: "pass"/"fail" (result) */
	const char *outcome;
	/* admin.action */
	const char *operator_name;
	const char *action;
	const char *target;
	/* health.probe, breaker.transition */
	const char *component;
	/* breaker.transition */
	enum alog_breaker_state from, to;
	int64_t at_us;            /* the transition's at_us */
};

/* One anomaly, valid only during the emit callback. */
struct alog_rules_anomaly {
	enum alog_rules_id rule;
	char subject[ALOG_RULES_SUBJECT_MAX + 1]; /* actor, address,
				     component, source, or "integrity" */
	int subject_truncated;    /* 1: cut to ALOG_RULES_SUBJECT_MAX bytes
				     (at a UTF-8 character boundary) */
	int64_t window_start_us;  /* the span of the events behind it, in */
	int64_t window_end_us;    /* the rule's clock (SPEC 11.2) */
	uint64_t detected_index;  /* the event at which it fired, or
				     ALOG_RULES_NO_INDEX (fired at finish) */
	int64_t detected_us;      /* that event's received time (or the end) */
	int64_t measure_us;       /* probe gap and verification gap length,
				     largest |skew|; 0 for other rules */
	uint64_t n_events;        /* events behind it */
	size_t n_indices;         /* min(n_events, ALOG_RULES_INDICES_MAX) */
	uint64_t indices[ALOG_RULES_INDICES_MAX]; /* the first ones, in log
				     order */
};

/* Called for each anomaly as it closes; a negative return stops the
 * evaluator and is returned by the call that emitted. */
typedef int (*alog_rules_emit_fn)(void *ctx,
				  const struct alog_rules_anomaly *a,
				  struct alog_err *err);

struct alog_rules; /* opaque */

void alog_rules_params_default(struct alog_rules_params *p);
/* ALOG_EINVAL when a parameter is out of its range (thresholds
 * 1..ALOG_RULES_THRESHOLD_MAX, windows 1..ALOG_RULES_WINDOW_MAX_US,
 * gap factor 1..ALOG_RULES_GAP_FACTOR_MAX), naming it. */
int alog_rules_params_check(const struct alog_rules_params *p,
			    struct alog_err *err);

/* The table: ALOG_RULES_N definitions in enum order. */
const struct alog_rules_def *alog_rules_defs(void);
/* Fixed texts; NULL outside the enums. */
const char *alog_rules_id_name(enum alog_rules_id r);
const char *alog_rules_severity_name(enum alog_rules_severity s);
const char *alog_rules_class_name(enum alog_rules_class c);

/*
 * A new evaluator into *out (the caller frees it with alog_rules_free).
 * cfg (business hours, components and their probe_interval_s) is
 * borrowed for the evaluator's life; params NULL means the defaults;
 * start_us is when watching began (the start of the first verification
 * gap). emit is called with ctx for each anomaly. ALOG_EINVAL for bad
 * parameters, ALOG_ENOMEM.
 */
int alog_rules_new(struct alog_rules **out, const struct alog_config *cfg,
		   const struct alog_rules_params *params, int64_t start_us,
		   alog_rules_emit_fn emit, void *ctx, struct alog_err *err);

/* Feed the next event. ALOG_EINVAL (naming its log index) for an event
 * out of log order (index not increasing, received time decreasing or
 * before start_us) or with a time outside years 0000..9999; ALOG_ESTATE
 * after finish; or the callback's code. */
int alog_rules_feed(struct alog_rules *r, const struct alog_rules_event *ev,
		    struct alog_err *err);

/* The stream ended at end_us (>= the last received time): emit every
 * anomaly still open and the gaps that run up to the end. Later feeds
 * fail with ALOG_ESTATE. */
int alog_rules_finish(struct alog_rules *r, int64_t end_us,
		      struct alog_err *err);

void alog_rules_free(struct alog_rules *r);

#endif
