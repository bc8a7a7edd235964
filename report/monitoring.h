/*
 * monitoring: the CC7.2 monitoring figures (SPEC.md 20A "CC7.2
 * monitoring"). A pure computation over the events of the log in log
 * order (struct alog_rules_event, the detection rules' view of an event)
 * for a period [from, to): per component of the inventory and UTC day,
 * health probes expected vs received and the gaps longer than the
 * tolerance (deviations of the monitoring control); checkpoint cadence
 * per day and the longest gap between checkpoints; verification runs per
 * day with their results and the days without one (deviations); the
 * anomalies of the detection rules (ingest/rules.h) by rule and class;
 * the admin actions and a summary of failed logins by actor. No I/O, no
 * clock, no store.
 *
 * Invariants of a result:
 *  - integer microseconds throughout; days are the UTC days that overlap
 *    the period, clipped to it, and tile it;
 *  - expected counts are floor(day piece / interval): a piece shorter than
 *    one interval expects none;
 *  - the same input always gives the same result.
 */
#ifndef ALOG_REPORT_MONITORING_H
#define ALOG_REPORT_MONITORING_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/config.h"
#include "ingest/rules.h"
#include "store/err.h"

/* The expected interval between checkpoints when none is given: the
 * daemon's default --checkpoint-interval (SPEC.md 15.4), 60 s, which is
 * 1440 a day. */
#define ALOG_MON_CHECKPOINT_INTERVAL_DEFAULT_US INT64_C(60000000)
/* A probe gap is a deviation when longer than this many intervals. */
#define ALOG_MON_PROBE_TOLERANCE 3
/* UTC days one period may touch (= ALOG_REPORT_DAYS_MAX). */
#define ALOG_MON_DAYS_MAX 3660u
/* Events one call takes. */
#define ALOG_MON_EVENTS_MAX (64u * 1024u * 1024u)
#define ALOG_MON_NO_INDEX UINT64_MAX

struct alog_mon_input {
	const struct alog_config *cfg;   /* inventory, intervals, business
					    hours; borrowed */
	int64_t from_us, to_us;          /* the period [from, to) */
	int64_t checkpoint_interval_us;  /* expected; 0: the default */
	const struct alog_rules_params *rules; /* NULL: the defaults */
	/* In log order, all received before to_us; they may start before
	 * from_us (the last probe, checkpoint and verification before the
	 * period are carried in). Borrowed for the call and, for their
	 * strings, the life of the result. */
	const struct alog_rules_event *events;
	size_t n_events;                 /* <= ALOG_MON_EVENTS_MAX */
};

/* One UTC day of the period, clipped. */
struct alog_mon_day {
	int64_t start_us, end_us;
	uint64_t checkpoints_expected;   /* floor(len / checkpoint interval) */
	uint64_t checkpoints;            /* checkpoint.signed received in it */
	uint64_t verify_runs;            /* integrity.verified received in it */
	uint64_t verify_pass, verify_fail; /* by result; others are neither */
};

/* Probes of one component on one day. */
struct alog_mon_cell {
	uint64_t expected;               /* floor(len / probe interval) */
	uint64_t received;               /* probes whose time lies in it */
};

/* A gap in a component's probes longer than the tolerance. */
struct alog_mon_gap {
	size_t component;                /* position in the inventory */
	int64_t start_us, end_us;        /* the probe times around it, or the
					    period's edge when there is none */
	int64_t length_us;               /* end - start */
	int64_t in_period_us;            /* clipped to [from, to) */
	uint64_t before_index, after_index; /* or ALOG_MON_NO_INDEX */
};

struct alog_mon_component {
	const struct alog_config_component *c;   /* borrowed from cfg */
	int64_t tolerance_us;            /* 3 x probe_interval_s */
	uint64_t expected, received;     /* over the period */
	struct alog_mon_cell *cells;     /* one per day (result's n_days) */
};

/* The longest stretch without a checkpoint. */
struct alog_mon_cp_gap {
	int64_t start_us, end_us;        /* checkpoints' received times, or
					    from/to at an edge */
	uint64_t start_index, end_index; /* or ALOG_MON_NO_INDEX */
};

/* An anomaly that overlaps the period (window_end >= from). */
struct alog_mon_anomaly {
	struct alog_rules_anomaly a;     /* copied */
	size_t seq;                      /* order of emission by the rules */
};

/* An admin.action whose time lies in the period. */
struct alog_mon_admin {
	uint64_t index;
	int64_t time_us;                 /* its time, else received */
	const char *operator_name, *action, *target, *outcome; /* borrowed;
					    NULL when absent */
	int in_business_hours;
};

/* Failed logins of one actor in the period. */
struct alog_mon_actor {
	const char *actor;               /* borrowed */
	uint64_t failures;
	int64_t first_us, last_us;       /* first and last failure */
};

/*
 * The result. All-zero is empty; release with alog_mon_result_release.
 * Arrays are owned; strings point into the input events.
 */
struct alog_mon_result {
	int64_t from_us, to_us;
	int64_t checkpoint_interval_us;
	struct alog_mon_day *days;           size_t n_days;
	struct alog_mon_component *components; size_t n_components;
	size_t n_monitored;              /* components with a probe in it */
	struct alog_mon_gap *gaps;           size_t n_gaps; /* by component,
					    then start */
	uint64_t checkpoints, checkpoints_expected;
	struct alog_mon_cp_gap cp_gap;   /* the first of equal ones */
	uint64_t verify_runs, verify_pass, verify_fail;
	size_t *days_without_verify;     size_t n_days_without_verify; /* day
					    positions: deviations */
	struct alog_mon_anomaly *anomalies;  size_t n_anomalies; /* by
					    detection time, then rule */
	uint64_t by_rule[ALOG_RULES_N];
	uint64_t by_class[ALOG_RULES_CLASSES];
	struct alog_mon_admin *admin;        size_t n_admin; /* log order */
	size_t n_admin_outside;          /* outside business hours */
	uint64_t logins, login_failures;
	struct alog_mon_actor *actors;       size_t n_actors; /* most failures
					    first, then actor bytes */
	size_t n_deviations;             /* gaps + days without a run */
};

/*
 * Compute the figures into out (overwritten; its earlier content is not
 * freed). ALOG_EINVAL for an empty period or one outside years
 * 0000..9999, a checkpoint interval under 0, bad rule parameters, or an
 * event out of log order or received at or after to (the message names
 * its log index); ALOG_ELIMIT past ALOG_MON_DAYS_MAX days or
 * ALOG_MON_EVENTS_MAX events; ALOG_ENOMEM. On failure out is all-zero.
 */
int alog_mon_compute(const struct alog_mon_input *in,
		     struct alog_mon_result *out, struct alog_err *err);

void alog_mon_result_release(struct alog_mon_result *r);

#endif
