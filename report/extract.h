/*
 * extract: the availability observations of every configured component,
 * read from the log (SPEC.md 11.1 and 20.1): one pass over the records
 * [0, to) so that the state at the period's start is carried in.
 *
 * Invariants: each component's observations are in log order; every
 * string an observation points to is owned by the extraction and lives
 * until alog_extract_release; an event that breaks its row of SPEC 11.1
 * is not guessed at: it is counted as malformed with its index.
 */
#ifndef ALOG_REPORT_EXTRACT_H
#define ALOG_REPORT_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/config.h"
#include "ingest/event.h"
#include "ingest/rules.h"
#include "report/availability.h"
#include "store/store.h"

struct alog_extract_comp {
	struct alog_av_obs *obs;
	size_t n, cap;
};

struct alog_extract {
	struct alog_extract_comp *comps;  /* one per cfg component, in order */
	size_t n_comps;
	uint64_t malformed;               /* report inputs refused */
	uint64_t first_malformed;         /* its index, or UINT64_MAX */
	char **strings;                   /* owned, each text once: a set of
					     cap_strings slots (NULL: empty) */
	size_t n_strings, cap_strings;
	/* The CC7.2 stream (SPEC.md 20.14): logins, admin actions, probes,
	 * transitions, verification runs, checkpoints, and events whose
	 * time is off their received time by more than skew_us. */
	struct alog_rules_event *ev;
	size_t n_ev, cap_ev;
};

/* Read records [0, to_index) of s. skew_us: an event of another type
 * joins the CC7.2 stream when its time is further than this from its
 * received time. */
int alog_extract_run(struct alog_store *s, const struct alog_config *cfg,
		     uint64_t to_index, int64_t skew_us,
		     struct alog_extract *out, struct alog_err *err);
void alog_extract_release(struct alog_extract *x);

/* The same pass as steps, for a caller that reads the records itself
 * together with other work (the report's one pass): begin, then add
 * each record of [0, to) in index order (its view from alog_record_peek
 * or alog_record_parse; with peeked = alog_event_peek's result on its
 * event when env holds it, or -2 to let add peek), then end (which frees ex, not out; release out
 * as above, also after a failed add). */
struct alog_extractor;
int alog_extract_begin(const struct alog_config *cfg, int64_t skew_us,
		       struct alog_extract *out, struct alog_extractor **ex,
		       struct alog_err *err);
int alog_extract_add(struct alog_extractor *ex, uint64_t index,
		     const struct alog_record_view *v,
		     const struct alog_envelope_view *env, int peeked,
		     struct alog_err *err);
void alog_extract_end(struct alog_extractor *ex);

/* The producer's "time" member of a canonical event (len bytes), found
 * without parsing the whole event: 1 and *us when there is one that
 * parses, else 0. */
int alog_extract_event_time(const char *ev, size_t len, int64_t *us);

#endif
