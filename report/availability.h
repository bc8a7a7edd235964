/*
 * availability: the A1.2 availability engine (SPEC.md "Availability").
 * A pure computation: for ONE component, its configuration entry, the
 * partial weight, the failover target, a period [from, to) and the
 * component's observations in log order (taken by the caller from the
 * whole log up to `to`, those before `from` included so that the state is
 * carried in), it works out the time the component was up, down, partial,
 * unknown and in approved maintenance, the availability raw and weighted
 * in parts per million, the error budget used, the outage episodes with
 * their trigger and recovery, flapping, MTTD / MTTR / MTBF, the failover
 * time and spool reconciliation of each backup activation, the manual
 * interventions, and the same numbers per UTC calendar month. No I/O, no
 * clock, no store.
 *
 * Invariants of a result:
 *  - all arithmetic is in integer microseconds; for the whole period and
 *    for each month, period = excluded + down + partial + unknown + up;
 *  - ratios are rounded DOWN to parts per million (never overstated); the
 *    error budget used is rounded UP (never understated);
 *  - time is counted as up only where the component's state is known
 *    (coverage) and up; time without coverage is unknown, never up;
 *  - approved maintenance (a window with a change reference) is excluded
 *    first: excluded time is never down, partial or unknown;
 *  - episodes are the maximal stretches in which the state is not up;
 *    their parts inside the period add up to their time inside it;
 *  - the same input always gives the same result (observations with the
 *    same time are ordered by log index).
 */
#ifndef ALOG_REPORT_AVAILABILITY_H
#define ALOG_REPORT_AVAILABILITY_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/breaker.h"
#include "ingest/config.h"
#include "store/err.h"

/* Limits and constants (SPEC.md "Availability", "Limits"). */
/* A non-daemon component is known for probe_interval_s * this after each
 * of its probes and transitions. */
#define ALOG_AV_PROBE_TOLERANCE 3
/* Flapping: at least this many episodes starting within ... */
#define ALOG_AV_FLAP_OPENS 3
/* ... this window (microseconds): start[i + 2] - start[i] < window. */
#define ALOG_AV_FLAP_WINDOW_US INT64_C(3600000000)
/* Observations one call takes. */
#define ALOG_AV_OBS_MAX (16u * 1024u * 1024u)
/* Calendar months one period may touch (100 years). */
#define ALOG_AV_MONTHS_MAX 1200u
/* Bytes of a percentage text with its NUL: "100.000". */
#define ALOG_AV_PERCENT_TEXT_MAX 8
/* A log index that is absent. */
#define ALOG_AV_NO_INDEX UINT64_MAX

/* The kinds of observation (SPEC.md 11.1, 15.4, 17.6, 17.9). */
enum alog_av_kind {
	ALOG_AV_TRANSITION = 0,   /* breaker.transition */
	ALOG_AV_PROBE,            /* health.probe */
	ALOG_AV_MAINTENANCE,      /* maintenance.window */
	ALOG_AV_DAEMON_STARTED,   /* daemon.started (daemon-owned only) */
	ALOG_AV_DAEMON_STOPPED,   /* daemon.stopped (daemon-owned only) */
	ALOG_AV_ACTIVATED,        /* backup.activated */
	ALOG_AV_REPLAYED,         /* backup.replayed */
	ALOG_AV_ADMIN,            /* admin.action whose target is the component */
};

enum alog_av_probe_status {
	ALOG_AV_PROBE_UP = 0,     /* "up" */
	ALOG_AV_PROBE_DOWN,       /* "down" */
	ALOG_AV_PROBE_DEGRADED,   /* "degraded" */
};

enum alog_av_outcome {
	ALOG_AV_OUTCOME_SUCCESS = 0,  /* "success" */
	ALOG_AV_OUTCOME_DENIED,       /* "denied" */
	ALOG_AV_OUTCOME_FAILED,       /* "failed" */
};

/*
 * One observation: one event of the log about the component. Times are
 * microseconds since 1970 within ALOG_TIME_MIN_US..ALOG_TIME_MAX_US.
 * Strings are borrowed, NUL-terminated, and must outlive the result
 * (the result points at them); NULL where the member was absent.
 */
struct alog_av_obs {
	enum alog_av_kind kind;
	uint64_t index;            /* the event's log index; strictly
				      increasing along the input array */
	union {
		struct {
			int64_t at_us;     /* the event's at_us */
			enum alog_breaker_state from, to;
			enum alog_breaker_cause cause;
		} transition;
		struct {
			int64_t time_us;   /* the event's time: when it ran */
			enum alog_av_probe_status status;
		} probe;
		struct {
			int64_t start_us, end_us;  /* end_us > start_us */
			const char *change_ref;    /* NULL or "": not approved */
			const char *approver;
		} maintenance;
		struct {
			int64_t at_us;     /* the event's time */
		} daemon;
		struct {
			int64_t failed_at_us;      /* its failed_at_us */
			int has_first_spooled;     /* 1: the next member is set */
			int64_t first_spooled_us;  /* received time of the first
						      spooled record after it */
		} activated;
		struct {
			int import;        /* 1: origin "import" (ignored) */
			uint64_t records, imported, duplicates, conflicts,
				refused;
			int drained;       /* 1: the activation's last file */
			int64_t replayed_at_us;
			const char *file;  /* the file's id */
		} replayed;
		struct {
			int64_t at_us;     /* the event's time */
			const char *operator_name;  /* authenticated operator */
			const char *auth_method;
			const char *action;        /* "breaker.reset", ... */
			const char *target;
			const char *reason;
			enum alog_av_outcome outcome;
			const char *change_ref;
		} admin;
	};
};

/* What the engine is given. All borrowed for the call (obs and its
 * strings also for the life of the result). */
struct alog_av_input {
	const struct alog_config_component *component; /* its target_ppm
						(1..999999), probe_interval_s
						(>= 1) and daemon_owned */
	uint32_t partial_weight_permille;   /* w: 0..1000 */
	uint32_t failover_target_s;         /* >= 1 */
	int64_t from_us, to_us;             /* the period [from, to) */
	const struct alog_av_obs *obs;      /* in log order */
	size_t n_obs;                       /* <= ALOG_AV_OBS_MAX */
};

/* Which events define the state (SPEC.md: "breaker" or "probes"). */
enum alog_av_signal {
	ALOG_AV_SIGNAL_PROBES = 0,
	ALOG_AV_SIGNAL_BREAKER,
};

/* The class of a moment. As a state (without coverage and maintenance),
 * UNKNOWN means "no state yet". */
enum alog_av_class {
	ALOG_AV_UNKNOWN = 0,
	ALOG_AV_UP,
	ALOG_AV_DOWN,
	ALOG_AV_PARTIAL,
	ALOG_AV_EXCLUDED,
};

/* The numbers of a stretch of time (the period, or one month of it). */
struct alog_av_totals {
	int64_t from_us, to_us;    /* the stretch */
	int64_t period_us;         /* T = to - from */
	int64_t excluded_us;       /* E: approved maintenance */
	int64_t down_us;           /* Dm: down, not excluded, known */
	int64_t partial_us;        /* Dp: partial, not excluded, known */
	int64_t unknown_us;        /* U: not known, not excluded */
	int64_t up_us;             /* T - E - Dm - Dp - U */
	uint64_t episodes_started; /* episodes whose start lies in it */
	int measured;              /* 1 when T - E > 0; else the ratios
				      below are 0 and pass is 0 */
	uint32_t raw_ppm;          /* floor(1e6 (T-E-Dm-U) / (T-E)) */
	uint32_t weighted_ppm;     /* floor(1e6 (T-E-Dm-w Dp-U) / (T-E)) */
	uint64_t budget_used_permille; /* ceil(1000 (Dm + w Dp) /
				      ((1 - target) (T-E))); may pass 1000 */
	int pass;                  /* measured and weighted_ppm >= target */
	int unknown_decides;       /* failed, and would pass with the
				      unknown time counted as up */
};

enum alog_av_recovery {
	ALOG_AV_RECOVERY_NONE = 0, /* still not up at the period's end */
	ALOG_AV_RECOVERY_AUTOMATIC,/* probe_success, or an up probe */
	ALOG_AV_RECOVERY_MANUAL,   /* a reset transition, or a successful
				      admin.action breaker.reset in it */
	ALOG_AV_RECOVERY_RESTART,  /* daemon-owned: a daemon.started */
};

/* One outage episode that overlaps the period. */
struct alog_av_episode {
	int64_t start_us;          /* when the state left up (may lie before
				      the period: carried in) */
	int64_t end_us;            /* when it was up again; to_us when open */
	int ended;                 /* 0: open at the period's end */
	int64_t duration_us;       /* end_us - start_us (not clipped) */
	int64_t in_period_us;      /* the part inside [from, to) ... */
	int64_t down_us, partial_us, excluded_us, unknown_us; /* ... split:
				      these four add up to in_period_us */
	uint64_t start_index;      /* the observation that started it */
	uint64_t end_index;        /* the one that ended it, or
				      ALOG_AV_NO_INDEX */
	const char *trigger;       /* cause text of the transition that
				      started it, or "probe"; static */
	enum alog_av_recovery recovery;
	uint64_t admin_index;      /* the admin.action that made the
				      recovery manual, or ALOG_AV_NO_INDEX */
	uint64_t half_open_failures; /* probe_failure transitions in it */
	int has_detect;            /* 1: detect_us is measured */
	int64_t detect_us;         /* start - the last up evidence before it */
	int flapping;              /* in a flapping group */
};

/* ALOG_AV_FLAP_OPENS or more episodes starting within the window. */
struct alog_av_flap {
	size_t first, last;        /* positions in the episodes array */
	int64_t first_start_us, last_start_us;
};

/* A maintenance window that overlaps the period. */
struct alog_av_window {
	const struct alog_av_obs *src;   /* borrowed from the input */
	int64_t start_us, end_us;        /* clipped to the period */
	int approved;                    /* 1: excluded; 0: a deviation */
};

/* A backup activation (spool episode) whose failed_at lies in the
 * period, with the spool backup.replayed events that follow it in log
 * order up to the one with drained true. */
struct alog_av_activation {
	const struct alog_av_obs *src;   /* the backup.activated */
	int failover_measured;           /* it has a first spooled record */
	int64_t failover_us;             /* first spooled - failed_at, >= 0 */
	int failover_pass;               /* measured and <= the target */
	uint64_t n_files;                /* its backup.replayed events */
	uint64_t spooled;                /* sum of records */
	uint64_t imported, duplicates, conflicts, refused; /* sums */
	int drained;                     /* 1: a file said drained */
	int64_t drained_at_us;           /* that file's replayed_at_us */
	int reconciled;                  /* every file: records = imported +
					    duplicates + conflicts + refused */
	uint64_t bad_index;              /* the first file that does not add
					    up, or ALOG_AV_NO_INDEX */
};

enum alog_av_finding_kind {
	/* a transition whose from is not the state before it (or a first
	 * transition not from closed): a transition is missing */
	ALOG_AV_FINDING_CHAIN_BREAK = 0,
	/* a daemon.started while the previous run had no daemon.stopped:
	 * that run counts as known only up to its last evidence */
	ALOG_AV_FINDING_CRASHED_RUN,
	/* a daemon.stopped without a run: ignored */
	ALOG_AV_FINDING_STOP_WITHOUT_START,
	/* a spool backup.replayed after no undrained activation: ignored */
	ALOG_AV_FINDING_ORPHAN_REPLAY,
};

/* Something in the input that the engine did not take at face value. */
struct alog_av_finding {
	enum alog_av_finding_kind kind;
	uint64_t index;            /* the observation's log index */
	int64_t at_us;             /* its time (inside the period) */
};

/* A stretch of one class, for timelines. Adjacent segments differ. */
struct alog_av_segment {
	int64_t start_us, end_us;
	enum alog_av_class cls;
};

/* One UTC calendar month intersected with the period. */
struct alog_av_month {
	int32_t year;
	uint32_t month;            /* 1..12 */
	struct alog_av_totals t;
};

/*
 * The result. All-zero is empty; release with alog_av_result_release.
 * Arrays are owned by the result; src pointers and the interventions
 * point into the input's observations (borrowed).
 */
struct alog_av_result {
	enum alog_av_signal signal;
	int daemon_owned;
	uint32_t target_ppm;
	uint32_t weight_permille;
	int64_t tolerance_us;      /* coverage after a probe or transition
				      (0 for the daemon-owned component) */
	int64_t failover_target_us;
	enum alog_av_class state_at_from;  /* carried in: UP, DOWN, PARTIAL,
				      or UNKNOWN when there was no state */
	uint64_t state_at_from_index;      /* the observation it comes from,
				      or ALOG_AV_NO_INDEX */
	struct alog_av_totals total;

	int has_mttr, has_mtbf, has_mttd;  /* 0: null */
	int64_t mttr_us;           /* mean duration_us of the episodes that
				      ended in the period (floor) */
	int64_t mtbf_us;           /* up_us / episodes started (floor) */
	int64_t mttd_us;           /* mean detect_us of the episodes started
				      in the period that have one (floor) */
	uint64_t n_mttr, n_mttd;   /* episodes averaged */
	int has_longest;
	size_t longest;            /* position of the longest episode (first
				      of equal ones) */

	struct alog_av_episode *episodes;   size_t n_episodes;
	struct alog_av_flap *flaps;         size_t n_flaps;
	size_t n_flapping;                  /* episodes in a flap group */
	struct alog_av_window *windows;     size_t n_windows;
	size_t n_unapproved;                /* windows without change_ref */
	struct alog_av_activation *activations; size_t n_activations;
	size_t n_failover_pass;
	size_t n_unreconciled;
	const struct alog_av_obs **interventions; size_t n_interventions;
	struct alog_av_month *months;       size_t n_months;
	struct alog_av_segment *segments;   size_t n_segments;
	struct alog_av_finding *findings;   size_t n_findings;
};

/*
 * Compute the availability of in->component over [from, to) into out
 * (overwritten; its earlier content is not freed). ALOG_EINVAL for a bad
 * input (period empty or outside years 0000..9999, weight over 1000, a
 * target outside 1..999999 ppm, a probe interval outside 1..86400 s, a
 * failover target outside 1..3600 s, an observation out of log order or
 * out of range, a transition that is not one of SPEC 17.1's, a
 * maintenance window that does not end after its start: the message
 * names the observation's position and log index), ALOG_ELIMIT past
 * ALOG_AV_OBS_MAX observations or ALOG_AV_MONTHS_MAX months, ALOG_ENOMEM.
 * On failure out is all-zero.
 */
int alog_av_compute(const struct alog_av_input *in,
		    struct alog_av_result *out, struct alog_err *err);

void alog_av_result_release(struct alog_av_result *r);

/* ppm (0..1000000) as a percentage with three decimals, rounded down:
 * 999000 -> "99.900", 1000000 -> "100.000". ALOG_EINVAL past 1000000. */
int alog_av_percent_format(uint32_t ppm, char out[ALOG_AV_PERCENT_TEXT_MAX]);

/* Fixed texts (SPEC.md): "probes", "breaker"; "unknown", "up", "down",
 * "partial", "excluded"; "none", "automatic", "manual", "restart";
 * "chain_break", "crashed_run", "stop_without_start", "orphan_replay".
 * NULL outside the enum. */
const char *alog_av_signal_name(enum alog_av_signal s);
const char *alog_av_class_name(enum alog_av_class c);
const char *alog_av_recovery_name(enum alog_av_recovery r);
const char *alog_av_finding_name(enum alog_av_finding_kind k);

#endif
