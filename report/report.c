/*
 * report: see report.h.
 */
#include "report/report.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ingest/clock.h"
#include "ingest/json.h"
#include "ingest/log.h"
#include "report/availability.h"
#include "report/extract.h"
#include "report/monitoring.h"
#include "report/population.h"
#include "store/bytes.h"
#include "store/merkle.h"
#include "store/note.h"

/* ---- a small JSON writer: members in the order written ------------ */

#define JW_DEPTH 16

struct jw {
	struct alog_buf *b;
	int first[JW_DEPTH];
	int depth;
	int rc;
	struct alog_err *err;
};

static void jw_sep(struct jw *w, const char *key)
{
	if (w->rc < 0)
		return;
	if (!w->first[w->depth])
		w->rc = alog_buf_addc(w->b, ',', w->err);
	w->first[w->depth] = 0;
	if (key && w->rc == 0) {
		w->rc = alog_json_string_format(w->b, key, strlen(key), w->err);
		if (w->rc == 0)
			w->rc = alog_buf_addc(w->b, ':', w->err);
	}
}

static void jw_open(struct jw *w, const char *key, char c)
{
	jw_sep(w, key);
	if (w->rc == 0)
		w->rc = alog_buf_addc(w->b, c, w->err);
	if (w->rc == 0 && w->depth + 1 < JW_DEPTH)
		w->first[++w->depth] = 1;
}

static void jw_close(struct jw *w, char c)
{
	if (w->rc == 0)
		w->rc = alog_buf_addc(w->b, c, w->err);
	if (w->depth > 0)
		w->depth--;
}

static void jw_str(struct jw *w, const char *key, const char *v)
{
	jw_sep(w, key);
	if (w->rc < 0)
		return;
	if (!v)
		w->rc = alog_buf_adds(w->b, "null", w->err);
	else
		w->rc = alog_json_string_format(w->b, v, strlen(v), w->err);
}

static void jw_int(struct jw *w, const char *key, int64_t v)
{
	jw_sep(w, key);
	if (w->rc == 0)
		w->rc = alog_buf_addf(w->b, w->err, "%" PRId64, v);
}

static void jw_uint(struct jw *w, const char *key, uint64_t v)
{
	jw_sep(w, key);
	if (w->rc == 0)
		w->rc = alog_buf_addf(w->b, w->err, "%" PRIu64, v);
}

static void jw_bool(struct jw *w, const char *key, int v)
{
	jw_sep(w, key);
	if (w->rc == 0)
		w->rc = alog_buf_adds(w->b, v ? "true" : "false", w->err);
}

static void jw_null(struct jw *w, const char *key);

/* A log index, or null for ALOG_MON_NO_INDEX (no record there). */
static void jw_index(struct jw *w, const char *key, uint64_t index)
{
	if (index == ALOG_MON_NO_INDEX)
		jw_null(w, key);
	else
		jw_uint(w, key, index);
}

static void jw_null(struct jw *w, const char *key)
{
	jw_sep(w, key);
	if (w->rc == 0)
		w->rc = alog_buf_adds(w->b, "null", w->err);
}

static void jw_time(struct jw *w, const char *key, int64_t us)
{
	char t[ALOG_TIME_TEXT_MAX];

	if (alog_time_format(us, t) < 0)
		jw_null(w, key);
	else
		jw_str(w, key, t);
}

static void jw_hex(struct jw *w, const char *key, const unsigned char *h,
		   size_t n)
{
	char hex[2 * ALOG_HASH_LEN + 1];

	alog_hex_encode(h, n, hex);
	jw_str(w, key, hex);
}

static void jw_percent(struct jw *w, const char *key, uint32_t ppm)
{
	char p[ALOG_AV_PERCENT_TEXT_MAX];

	if (alog_av_percent_format(ppm, p) < 0)
		jw_null(w, key);
	else
		jw_str(w, key, p);
}

/* ---- the report id -------------------------------------------------- */

int alog_report_id(const char *origin, int64_t from_us, int64_t to_us,
		   const char *config_sha256_hex, uint64_t sample,
		   const char *seed, char out[33], struct alog_err *err)
{
	static const char tag[] = "auditlog-report-v1";
	char from[ALOG_TIME_TEXT_MAX], to[ALOG_TIME_TEXT_MAX], n_text[24];
	unsigned char h[ALOG_HASH_LEN];
	unsigned int n = 0;
	EVP_MD_CTX *md;
	int ok;

	if (alog_time_format(from_us, from) < 0 ||
	    alog_time_format(to_us, to) < 0)
		return alog_err_set(err, ALOG_EINVAL,
				    "the period lies outside years 0000..9999");
	snprintf(n_text, sizeof(n_text), "%" PRIu64, sample);
	if (!seed)
		seed = "";
	md = EVP_MD_CTX_new();
	ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(md, tag, sizeof(tag)) == 1 &&
	     EVP_DigestUpdate(md, origin, strlen(origin) + 1) == 1 &&
	     EVP_DigestUpdate(md, from, strlen(from) + 1) == 1 &&
	     EVP_DigestUpdate(md, to, strlen(to) + 1) == 1 &&
	     EVP_DigestUpdate(md, config_sha256_hex,
			      strlen(config_sha256_hex) + 1) == 1 &&
	     EVP_DigestUpdate(md, n_text, strlen(n_text) + 1) == 1 &&
	     EVP_DigestUpdate(md, seed, strlen(seed)) == 1 &&
	     EVP_DigestFinal_ex(md, h, &n) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return alog_err_set(err, ALOG_ENOMEM, "sha-256 failed");
	alog_hex_encode(h, 16, out);
	return 0;
}

/* ---- checkpoints ---------------------------------------------------- */

struct bracket {
	int have_start, have_end;
	struct alog_store_checkpoint start, end;
	struct alog_checkpoint start_ck, end_ck;
	int consistent;              /* the proof between them verified */
	unsigned char proof[ALOG_MERKLE_PROOF_MAX][ALOG_HASH_LEN];
	size_t n_proof;
};

/* The last checkpoint signed before from, the first signed at or after
 * to (SPEC.md 21); each note verified with the store's key. */
static int find_bracket(struct alog_store *s, const struct alog_report_opts *o,
			struct bracket *br, struct alog_err *err)
{
	uint64_t n = alog_store_checkpoint_count(s);
	int rc = 0;

	for (uint64_t i = 0; i < n && rc == 0; i++) {
		struct alog_store_checkpoint ck = { 0 };

		rc = alog_store_checkpoint_get(s, i, &ck, err);
		if (rc < 0)
			break;
		if (ck.signed_us < o->from_us) {
			if (br->have_start)
				alog_store_checkpoint_release(&br->start);
			br->start = ck;
			br->have_start = 1;
		} else if (ck.signed_us >= o->to_us && !br->have_end) {
			br->end = ck;
			br->have_end = 1;
			break;
		} else {
			alog_store_checkpoint_release(&ck);
		}
	}
	if (rc == 0 && br->have_start)
		rc = alog_checkpoint_open_note(alog_store_vkey(s),
					       (const char *)br->start.note.data,
					       br->start.note.len,
					       &br->start_ck, err);
	if (rc == 0 && br->have_end)
		rc = alog_checkpoint_open_note(alog_store_vkey(s),
					       (const char *)br->end.note.data,
					       br->end.note.len, &br->end_ck,
					       err);
	if (rc == 0 && br->have_end) {
		uint64_t old = br->have_start ? br->start_ck.size : 0;

		if (old == 0) {
			/* the empty tree: every log extends it */
			br->consistent = 1;
		} else {
			rc = alog_store_prove_consistency(s, old,
							  br->end_ck.size,
							  br->proof,
							  &br->n_proof, err);
			if (rc == 0)
				br->consistent = alog_merkle_verify_consistency(
					NULL, old, br->end_ck.size,
					br->start_ck.root, br->end_ck.root,
					(const unsigned char (*)[ALOG_HASH_LEN])
					br->proof, br->n_proof, NULL) == 0;
		}
	}
	return rc;
}

static void jw_checkpoint(struct jw *w, const char *key, int have,
			  const struct alog_store_checkpoint *c,
			  const struct alog_checkpoint *ck)
{
	if (!have) {
		jw_null(w, key);
		return;
	}
	jw_open(w, key, '{');
	jw_uint(w, "checkpoint", c->seq);
	jw_uint(w, "size", ck->size);
	jw_hex(w, "root", ck->root, ALOG_HASH_LEN);
	jw_time(w, "signed_at", c->signed_us);
	jw_int(w, "signed_at_us", c->signed_us);
	jw_sep(w, "note");
	if (w->rc == 0)
		w->rc = alog_json_string_format(w->b, (const char *)c->note.data,
						c->note.len, w->err);
	jw_close(w, '}');
}

/* ---- A1.2 ----------------------------------------------------------- */

static void jw_totals(struct jw *w, const struct alog_av_totals *t)
{
	jw_int(w, "period_us", t->period_us);
	jw_int(w, "excluded_us", t->excluded_us);
	jw_int(w, "down_us", t->down_us);
	jw_int(w, "partial_us", t->partial_us);
	jw_int(w, "unknown_us", t->unknown_us);
	jw_int(w, "up_us", t->up_us);
	jw_bool(w, "measured", t->measured);
	jw_uint(w, "availability_raw_ppm", t->raw_ppm);
	jw_percent(w, "availability_raw", t->raw_ppm);
	jw_uint(w, "availability_weighted_ppm", t->weighted_ppm);
	jw_percent(w, "availability_weighted", t->weighted_ppm);
	jw_uint(w, "error_budget_used_permille", t->budget_used_permille);
	jw_uint(w, "episodes_started", t->episodes_started);
	jw_bool(w, "pass", t->pass);
	jw_bool(w, "unknown_decides", t->unknown_decides);
}

static void jw_optional_us(struct jw *w, const char *key, int has, int64_t v)
{
	if (has)
		jw_int(w, key, v);
	else
		jw_null(w, key);
}

static void jw_component(struct jw *w, const struct alog_config_component *c,
			 const struct alog_av_result *r)
{
	jw_open(w, NULL, '{');
	jw_str(w, "component", c->name);
	jw_str(w, "tier", alog_config_tier_name(c->tier));
	jw_uint(w, "target_ppm", c->target_ppm);
	jw_percent(w, "target", c->target_ppm);
	jw_str(w, "signal", alog_av_signal_name(r->signal));
	jw_bool(w, "daemon_owned", r->daemon_owned);
	jw_str(w, "state_at_from", alog_av_class_name(r->state_at_from));
	jw_totals(w, &r->total);
	jw_optional_us(w, "mttd_us", r->has_mttd, r->mttd_us);
	jw_optional_us(w, "mttr_us", r->has_mttr, r->mttr_us);
	jw_optional_us(w, "mtbf_us", r->has_mtbf, r->mtbf_us);
	if (r->has_longest)
		jw_int(w, "longest_outage_us",
		       r->episodes[r->longest].duration_us);
	else
		jw_null(w, "longest_outage_us");
	jw_open(w, "episodes", '[');
	for (size_t i = 0; i < r->n_episodes; i++) {
		const struct alog_av_episode *e = &r->episodes[i];

		jw_open(w, NULL, '{');
		jw_time(w, "start", e->start_us);
		jw_time(w, "end", e->end_us);
		jw_bool(w, "ended", e->ended);
		jw_int(w, "duration_us", e->duration_us);
		jw_int(w, "in_period_us", e->in_period_us);
		jw_int(w, "down_us", e->down_us);
		jw_int(w, "partial_us", e->partial_us);
		jw_int(w, "excluded_us", e->excluded_us);
		jw_int(w, "unknown_us", e->unknown_us);
		jw_str(w, "trigger", e->trigger);
		jw_str(w, "recovery", alog_av_recovery_name(e->recovery));
		jw_uint(w, "half_open_failures", e->half_open_failures);
		jw_optional_us(w, "detect_us", e->has_detect, e->detect_us);
		jw_bool(w, "flapping", e->flapping);
		jw_uint(w, "start_index", e->start_index);
		if (e->end_index == ALOG_AV_NO_INDEX)
			jw_null(w, "end_index");
		else
			jw_uint(w, "end_index", e->end_index);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_open(w, "maintenance", '[');
	for (size_t i = 0; i < r->n_windows; i++) {
		const struct alog_av_window *m = &r->windows[i];

		jw_open(w, NULL, '{');
		jw_time(w, "start", m->start_us);
		jw_time(w, "end", m->end_us);
		jw_bool(w, "approved", m->approved);
		jw_str(w, "change_ref", m->src->maintenance.change_ref);
		jw_str(w, "approver", m->src->maintenance.approver);
		jw_uint(w, "index", m->src->index);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_open(w, "activations", '[');
	for (size_t i = 0; i < r->n_activations; i++) {
		const struct alog_av_activation *a = &r->activations[i];

		jw_open(w, NULL, '{');
		jw_time(w, "failed_at", a->src->activated.failed_at_us);
		jw_optional_us(w, "failover_us", a->failover_measured,
			       a->failover_us);
		jw_bool(w, "failover_pass", a->failover_pass);
		jw_uint(w, "files", a->n_files);
		jw_uint(w, "spooled", a->spooled);
		jw_uint(w, "imported", a->imported);
		jw_uint(w, "duplicates", a->duplicates);
		jw_uint(w, "conflicts", a->conflicts);
		jw_uint(w, "refused", a->refused);
		jw_bool(w, "drained", a->drained);
		if (a->drained)
			jw_time(w, "drained_at", a->drained_at_us);
		else
			jw_null(w, "drained_at");
		jw_bool(w, "reconciled", a->reconciled);
		if (a->bad_index == ALOG_AV_NO_INDEX)
			jw_null(w, "bad_index");
		else
			jw_uint(w, "bad_index", a->bad_index);
		jw_uint(w, "index", a->src->index);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_open(w, "interventions", '[');
	for (size_t i = 0; i < r->n_interventions; i++) {
		const struct alog_av_obs *x = r->interventions[i];

		jw_open(w, NULL, '{');
		jw_time(w, "at", x->admin.at_us);
		jw_str(w, "operator", x->admin.operator_name);
		jw_str(w, "auth_method", x->admin.auth_method);
		jw_str(w, "action", x->admin.action);
		jw_str(w, "target", x->admin.target);
		jw_str(w, "reason", x->admin.reason);
		jw_str(w, "outcome",
		       x->admin.outcome == ALOG_AV_OUTCOME_SUCCESS ? "success" :
		       x->admin.outcome == ALOG_AV_OUTCOME_DENIED ? "denied" :
		       "failed");
		jw_str(w, "change_ref", x->admin.change_ref);
		jw_uint(w, "index", x->index);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_open(w, "months", '[');
	for (size_t i = 0; i < r->n_months; i++) {
		char ym[16];

		snprintf(ym, sizeof(ym), "%04d-%02u", (int)r->months[i].year,
			 r->months[i].month);
		jw_open(w, NULL, '{');
		jw_str(w, "month", ym);
		jw_totals(w, &r->months[i].t);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_open(w, "timeline", '[');
	for (size_t i = 0; i < r->n_segments; i++) {
		jw_open(w, NULL, '[');
		jw_int(w, NULL, r->segments[i].start_us);
		jw_int(w, NULL, r->segments[i].end_us);
		jw_str(w, NULL, alog_av_class_name(r->segments[i].cls));
		jw_close(w, ']');
	}
	jw_close(w, ']');
	jw_open(w, "findings", '[');
	for (size_t i = 0; i < r->n_findings; i++) {
		jw_open(w, NULL, '{');
		jw_str(w, "finding", alog_av_finding_name(r->findings[i].kind));
		jw_uint(w, "index", r->findings[i].index);
		jw_time(w, "at", r->findings[i].at_us);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

/* ---- CC7.2 (SPEC.md 20.14) ------------------------------------------- */

static void jw_day(struct jw *w, int64_t us)
{
	char t[ALOG_TIME_TEXT_MAX];

	alog_time_format(us, t);
	t[10] = 0;
	jw_str(w, NULL, t);
}

static int cc7_2(struct jw *w, const struct alog_report_opts *o,
		 const struct alog_extract *x, struct alog_report_summary *sum,
		 struct alog_err *err)
{
	struct alog_mon_input in;
	struct alog_mon_result m;
	int rc;

	memset(&in, 0, sizeof(in));
	in.cfg = o->cfg;
	in.from_us = o->from_us;
	in.to_us = o->to_us;
	in.events = x->ev;
	in.n_events = x->n_ev;
	rc = alog_mon_compute(&in, &m, err);
	if (rc < 0) {
		alog_err_prefix(err, "CC7.2");
		return rc;
	}
	sum->monitoring_deviations = m.n_deviations;
	sum->anomalies = m.n_anomalies;
	jw_open(w, "cc7_2", '{');
	jw_str(w, "criterion", "CC7.2");
	jw_uint(w, "components_monitored", m.n_monitored);
	jw_uint(w, "components", m.n_components);
	jw_open(w, "probes", '[');
	for (size_t i = 0; i < m.n_components; i++) {
		const struct alog_mon_component *c = &m.components[i];

		jw_open(w, NULL, '{');
		jw_str(w, "component", c->c->name);
		jw_uint(w, "probe_interval_s", c->c->probe_interval_s);
		jw_int(w, "tolerance_us", c->tolerance_us);
		jw_uint(w, "expected", c->expected);
		jw_uint(w, "received", c->received);
		jw_open(w, "days", '[');
		for (size_t d = 0; d < m.n_days; d++) {
			jw_open(w, NULL, '[');
			jw_day(w, m.days[d].start_us);
			jw_uint(w, NULL, c->cells[d].expected);
			jw_uint(w, NULL, c->cells[d].received);
			jw_close(w, ']');
		}
		jw_close(w, ']');
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_open(w, "gaps", '[');
	for (size_t i = 0; i < m.n_gaps; i++) {
		const struct alog_mon_gap *g = &m.gaps[i];

		jw_open(w, NULL, '{');
		jw_str(w, "component", m.components[g->component].c->name);
		jw_time(w, "start", g->start_us);
		jw_time(w, "end", g->end_us);
		jw_int(w, "length_us", g->length_us);
		jw_int(w, "in_period_us", g->in_period_us);
		jw_index(w, "before_index", g->before_index);
		jw_index(w, "after_index", g->after_index);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_open(w, "checkpoints", '{');
	jw_int(w, "expected_interval_us", m.checkpoint_interval_us);
	jw_uint(w, "expected", m.checkpoints_expected);
	jw_uint(w, "signed", m.checkpoints);
	jw_time(w, "longest_gap_start", m.cp_gap.start_us);
	jw_time(w, "longest_gap_end", m.cp_gap.end_us);
	jw_index(w, "longest_gap_start_index", m.cp_gap.start_index);
	jw_index(w, "longest_gap_end_index", m.cp_gap.end_index);
	jw_close(w, '}');
	jw_open(w, "verification", '{');
	jw_uint(w, "runs", m.verify_runs);
	jw_uint(w, "pass", m.verify_pass);
	jw_uint(w, "fail", m.verify_fail);
	jw_open(w, "days_without_a_run", '[');
	for (size_t i = 0; i < m.n_days_without_verify; i++)
		jw_day(w, m.days[m.days_without_verify[i]].start_us);
	jw_close(w, ']');
	jw_close(w, '}');
	jw_open(w, "rules", '[');
	for (size_t i = 0; i < ALOG_RULES_N; i++) {
		const struct alog_rules_def *d = &alog_rules_defs()[i];

		jw_open(w, NULL, '{');
		jw_str(w, "rule", d->id);
		jw_str(w, "logic", d->logic);
		jw_str(w, "severity", alog_rules_severity_name(d->severity));
		jw_str(w, "class", alog_rules_class_name(d->cls));
		jw_uint(w, "anomalies", m.by_rule[d->rule]);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_open(w, "anomalies", '[');
	for (size_t i = 0; i < m.n_anomalies; i++) {
		const struct alog_rules_anomaly *a = &m.anomalies[i].a;

		jw_open(w, NULL, '{');
		jw_str(w, "rule", alog_rules_id_name(a->rule));
		jw_str(w, "subject", a->subject);
		jw_time(w, "window_start", a->window_start_us);
		jw_time(w, "window_end", a->window_end_us);
		jw_time(w, "detected", a->detected_us);
		jw_uint(w, "events", a->n_events);
		jw_open(w, "indices", '[');
		for (size_t k = 0; k < a->n_indices; k++)
			jw_uint(w, NULL, a->indices[k]);
		jw_close(w, ']');
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_open(w, "operator_activity", '[');
	for (size_t i = 0; i < m.n_admin; i++) {
		const struct alog_mon_admin *a = &m.admin[i];

		jw_open(w, NULL, '{');
		jw_uint(w, "index", a->index);
		jw_time(w, "at", a->time_us);
		jw_str(w, "operator", a->operator_name);
		jw_str(w, "action", a->action);
		jw_str(w, "target", a->target);
		jw_str(w, "outcome", a->outcome);
		jw_bool(w, "in_business_hours", a->in_business_hours);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_uint(w, "logins", m.logins);
	jw_uint(w, "login_failures", m.login_failures);
	jw_open(w, "failures_by_actor", '[');
	for (size_t i = 0; i < m.n_actors && i < 20; i++) {
		jw_open(w, NULL, '{');
		jw_str(w, "actor", m.actors[i].actor);
		jw_uint(w, "failures", m.actors[i].failures);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_uint(w, "deviations", m.n_deviations);
	jw_close(w, '}');
	alog_mon_result_release(&m);
	return w->rc;
}

static int a1_2(struct jw *w, const struct alog_report_opts *o,
		struct alog_extract *x, struct alog_report_summary *sum,
		struct alog_err *err)
{
	int rc = 0;

	jw_open(w, "a1_2", '{');
	jw_str(w, "criterion", "A1.2");
	jw_uint(w, "partial_weight_permille",
		o->cfg->partial_weight_permille);
	jw_uint(w, "failover_target_s", o->cfg->failover_target_s);
	jw_uint(w, "malformed_inputs", x->malformed);
	if (x->malformed)
		jw_uint(w, "first_malformed_index", x->first_malformed);
	else
		jw_null(w, "first_malformed_index");
	jw_open(w, "components", '[');
	for (size_t i = 0; rc == 0 && i < o->cfg->n_components; i++) {
		const struct alog_config_component *c = &o->cfg->components[i];
		struct alog_av_input in = {
			.component = c,
			.partial_weight_permille = o->cfg->partial_weight_permille,
			.failover_target_s = o->cfg->failover_target_s,
			.from_us = o->from_us,
			.to_us = o->to_us,
			.obs = x->comps[i].obs,
			.n_obs = x->comps[i].n,
		};
		struct alog_av_result r;

		rc = alog_av_compute(&in, &r, err);
		if (rc < 0) {
			alog_err_prefix(err, "component '%s'", c->name);
			break;
		}
		jw_component(w, c, &r);
		sum->components++;
		if (r.total.pass)
			sum->passed++;
		alog_av_result_release(&r);
	}
	jw_close(w, ']');
	jw_close(w, '}');
	if (rc == 0)
		rc = cc7_2(w, o, x, sum, err);
	return rc;
}

/* ---- samples (SPEC.md 21.1, 21.2) ---------------------------------- */

static int samples(struct jw *w, struct alog_store *s,
		   const struct alog_report_opts *o,
		   const struct alog_population *pop, const struct bracket *br,
		   struct alog_report_summary *sum, struct alog_err *err)
{
	struct alog_buf rec, text;
	uint64_t want = o->sample < pop->count ? o->sample : pop->count;
	size_t n = 0;
	int rc = 0;

	if (o->seed) {
		rc = alog_sample_seed_check(o->seed, strlen(o->seed), err);
		if (rc == 0)
			snprintf(sum->seed, sizeof(sum->seed), "%s", o->seed);
	} else {
		char hex[65];

		alog_hex_encode(pop->sha256, sizeof(pop->sha256), hex);
		rc = alog_sample_seed_derive(sum->report_id, hex, sum->seed,
					     err);
	}
	if (rc < 0)
		return rc;
	sum->samples = calloc(want ? want : 1, sizeof(*sum->samples));
	if (!sum->samples)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	if (want)
		rc = alog_sample_positions(pop->count, want, sum->seed,
					   strlen(sum->seed), sum->samples, &n,
					   err);
	if (rc < 0)
		return rc;
	sum->n_samples = n;
	jw_open(w, "samples", '{');
	jw_str(w, "seed", sum->seed);
	jw_str(w, "seed_source", o->seed ? "given" : "derived");
	jw_uint(w, "requested", o->sample);
	jw_uint(w, "population", pop->count);
	jw_open(w, "items", '[');
	alog_buf_init(&rec, 0);
	alog_buf_init(&text, 0);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		uint64_t idx = pop->index_from + sum->samples[i];
		unsigned char leaf[ALOG_HASH_LEN];
		char file[64];

		sum->samples[i] = idx;
		rc = alog_store_get(s, idx, &rec, err);
		if (rc == 0)
			rc = alog_merkle_leaf(NULL, rec.data, rec.len, leaf);
		if (rc < 0)
			break;
		jw_open(w, NULL, '{');
		jw_uint(w, "index", idx);
		jw_hex(w, "leaf_hash", leaf, ALOG_HASH_LEN);
		jw_sep(w, "record");
		if (w->rc == 0)
			w->rc = alog_json_string_format(w->b,
							(const char *)rec.data,
							rec.len, err);
		if (br->have_end) {
			struct alog_tlog_proof p;
			struct alog_checkpoint cp;

			/* the proof file, checked as an auditor would */
			alog_buf_reset(&text);
			memset(&p, 0, sizeof(p));
			rc = alog_sample_proof_format(s, idx, &br->end, &text,
						      err);
			if (rc == 0)
				rc = alog_tlog_proof_parse((const char *)text.data,
							   text.len, &p, err);
			if (rc == 0)
				rc = alog_tlog_proof_verify(&p, alog_store_vkey(s),
							    leaf, &cp, err);
			alog_tlog_proof_release(&p);
			snprintf(file, sizeof(file), "proofs/%" PRIu64 "%s",
				 idx, ".tlog-proof");
			jw_str(w, "proof_file", file);
			jw_bool(w, "proof_verified", rc == 0);
		} else {
			jw_null(w, "proof_file");
			jw_bool(w, "proof_verified", 0);
		}
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
	alog_buf_release(&rec);
	alog_buf_release(&text);
	return rc;
}

void alog_report_summary_release(struct alog_report_summary *sum)
{
	if (!sum)
		return;
	if (sum->have_start)
		alog_store_checkpoint_release(&sum->start);
	if (sum->have_end)
		alog_store_checkpoint_release(&sum->end);
	free(sum->samples);
	memset(sum, 0, sizeof(*sum));
}

/* ---- daily volume: events received per UTC day ---------------------- */

#define DAY_US INT64_C(86400000000)

struct volume {
	int64_t first_day;        /* floor(from / day) */
	uint64_t *count;          /* per day of the period */
	size_t n;
	struct alog_event ev;
};

static int64_t day_of(int64_t us)
{
	return us >= 0 ? us / DAY_US : -((-us + DAY_US - 1) / DAY_US);
}

static void count_day(struct volume *v, int64_t received_us)
{
	int64_t r = day_of(received_us) - v->first_day;

	if (r >= 0 && (size_t)r < v->n)
		v->count[r]++;
}

/* The envelope of a stored event whose keys alog_event_peek could not
 * read (one holds an escape): parsed (the texts then point into ev). */
static int envelope(const struct alog_record_view *rv, struct alog_event *ev,
		    struct alog_envelope_view *env)
{
	if (alog_event_parse(ev, rv->event, rv->event_len, NULL) < 0)
		return ALOG_ECORRUPT;
	memset(env, 0, sizeof(*env));
	env->type = ev->type;
	env->type_len = strlen(ev->type);
	env->source = ev->source;
	env->source_len = strlen(ev->source);
	return 0;
}

/* ---- the population's hash and population.csv, on a second thread ----
 *
 * The reading thread copies the population's records into jobs (each
 * record followed by 0x0A: the bytes the hash covers, in order) with the
 * spans population.csv needs; the worker hashes each job's bytes and
 * writes its csv lines. Jobs go round a ring of POP_JOBS. */

#define POP_JOBS 4
#define POP_JOB_BYTES (1u << 20)

struct pop_rec {
	uint64_t index;
	uint32_t recv_off, id_off, src_off, type_off; /* in bytes, or in
						       * extra when
						       * parsed */
	uint16_t id_len, src_len, type_len;
	uint8_t parsed;
};

struct pop_job {
	struct alog_buf bytes;   /* records, each followed by 0x0A */
	struct alog_buf extra;   /* source and type of parsed envelopes */
	struct pop_rec *recs;
	size_t n, cap;
};

struct pop_worker {
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pop_job jobs[POP_JOBS];
	size_t head, tail;       /* filled jobs: [tail, head) mod POP_JOBS */
	size_t filling;          /* the job the reader fills */
	int done;                /* the reader pushed its last job */
	int cancel;              /* the reader failed: stop */
	int failed;              /* the worker stopped: err says why */
	struct alog_err err;
	struct alog_population_pass *pop;
	int csv_fd;              /* -1: no population.csv */
	const char *csv_name;
	struct alog_buf csv;     /* lines waiting for write() */
};

static int csv_flush(struct pop_worker *w, size_t keep_below)
{
	const unsigned char *p = w->csv.data;
	size_t n = w->csv.len;

	if (w->csv_fd < 0 || n < keep_below)
		return 0;
	while (n) {
		ssize_t k = write(w->csv_fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return alog_err_sys(&w->err, ALOG_EIO, errno,
					    "%s: cannot write: %s", w->csv_name,
					    strerror(errno ? errno : EIO));
		p += k;
		n -= (size_t)k;
	}
	alog_buf_reset(&w->csv);
	return 0;
}

/* population.csv: index,received,id,source,type; ids, sources and types
 * use no comma, quote or newline. */
static int csv_lines(struct pop_worker *w, const struct pop_job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		const struct pop_rec *r = &j->recs[i];
		const char *b = (const char *)j->bytes.data;
		const char *x = r->parsed ? (const char *)j->extra.data : b;
		char *line;
		size_t n;

		if (alog_buf_reserve(&w->csv, 24 + 4 + ALOG_TIME_RECORD_LEN +
				     r->id_len + r->src_len + r->type_len,
				     &w->err) < 0)
			return ALOG_ENOMEM;
		line = (char *)w->csv.data + w->csv.len;
		n = (size_t)snprintf(line, 24, "%" PRIu64, r->index);
		line[n++] = ',';
		memcpy(line + n, b + r->recv_off, ALOG_TIME_RECORD_LEN);
		n += ALOG_TIME_RECORD_LEN;
		line[n++] = ',';
		memcpy(line + n, b + r->id_off, r->id_len);
		n += r->id_len;
		line[n++] = ',';
		memcpy(line + n, x + r->src_off, r->src_len);
		n += r->src_len;
		line[n++] = ',';
		memcpy(line + n, x + r->type_off, r->type_len);
		n += r->type_len;
		line[n++] = '\n';
		w->csv.len += n;
	}
	return csv_flush(w, POP_JOB_BYTES);
}

static void *pop_work(void *arg)
{
	struct pop_worker *w = arg;

	for (;;) {
		struct pop_job *j;
		int rc;

		pthread_mutex_lock(&w->mu);
		while (w->tail == w->head && !w->done && !w->cancel)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->cancel) {
			pthread_mutex_unlock(&w->mu);
			return NULL;
		}
		if (w->tail == w->head) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		j = &w->jobs[w->tail % POP_JOBS];
		pthread_mutex_unlock(&w->mu);
		rc = alog_population_hash(w->pop, j->bytes.data, j->bytes.len,
					  &w->err);
		if (rc == 0)
			rc = csv_lines(w, j);
		pthread_mutex_lock(&w->mu);
		w->tail++;
		if (rc < 0)
			w->failed = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		if (rc < 0)
			return NULL;
	}
	if (csv_flush(w, 0) < 0) {
		pthread_mutex_lock(&w->mu);
		w->failed = 1;
		pthread_mutex_unlock(&w->mu);
	}
	return NULL;
}

static int pop_start(struct pop_worker *w, struct alog_population_pass *pop,
		     int csv_fd, const char *csv_name, struct alog_err *err)
{
	memset(w, 0, sizeof(*w));
	w->pop = pop;
	w->csv_fd = csv_fd;
	w->csv_name = csv_name;
	alog_buf_init(&w->csv, 0);
	if (csv_fd >= 0 &&
	    alog_buf_adds(&w->csv, "index,received,id,source,type\n", err) < 0)
		return ALOG_ENOMEM;
	for (size_t i = 0; i < POP_JOBS; i++) {
		alog_buf_init(&w->jobs[i].bytes, 0);
		alog_buf_init(&w->jobs[i].extra, 0);
	}
	if (pthread_mutex_init(&w->mu, NULL) != 0)
		return alog_err_set(err, ALOG_ENOMEM, "mutex");
	if (pthread_cond_init(&w->cv, NULL) != 0) {
		pthread_mutex_destroy(&w->mu);
		return alog_err_set(err, ALOG_ENOMEM, "condition variable");
	}
	if (pthread_create(&w->thread, NULL, pop_work, w) != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		return alog_err_set(err, ALOG_ENOMEM, "cannot start a thread");
	}
	w->started = 1;
	return 0;
}

/* Hand the filling job to the worker and wait for a free one. */
static int pop_push(struct pop_worker *w, struct alog_err *err)
{
	int failed;

	pthread_mutex_lock(&w->mu);
	w->head++;
	pthread_cond_broadcast(&w->cv);
	while (w->head - w->tail >= POP_JOBS && !w->failed)
		pthread_cond_wait(&w->cv, &w->mu);
	failed = w->failed;
	w->filling = w->head;
	pthread_mutex_unlock(&w->mu);
	if (failed) {
		*err = w->err;
		return err->code ? err->code : ALOG_EIO;
	}
	{
		struct pop_job *j = &w->jobs[w->filling % POP_JOBS];

		alog_buf_reset(&j->bytes);
		alog_buf_reset(&j->extra);
		j->n = 0;
	}
	return 0;
}

/* One record of the population into the filling job. */
static int pop_take(struct pop_worker *w, uint64_t index,
		    const unsigned char *rec, size_t len,
		    const struct alog_record_view *v,
		    const struct alog_envelope_view *env, struct alog_err *err)
{
	struct pop_job *j = &w->jobs[w->filling % POP_JOBS];
	struct pop_rec *r;
	size_t off = j->bytes.len;
	int rc;

	if (j->bytes.len + len + 1 > POP_JOB_BYTES && j->n) {
		rc = pop_push(w, err);
		if (rc < 0)
			return rc;
		j = &w->jobs[w->filling % POP_JOBS];
		off = 0;
	}
	if (j->n == j->cap) {
		size_t cap = j->cap ? 2 * j->cap : 4096;
		struct pop_rec *q = realloc(j->recs, cap * sizeof(*q));

		if (!q)
			return alog_err_set(err, ALOG_ENOMEM, "out of memory");
		j->recs = q;
		j->cap = cap;
	}
	if (alog_buf_add(&j->bytes, rec, len, err) < 0 ||
	    alog_buf_addc(&j->bytes, '\n', err) < 0)
		return ALOG_ENOMEM;
	r = &j->recs[j->n];
	memset(r, 0, sizeof(*r));
	r->index = index;
	/* the received text sits before ","id":" (SPEC.md 3) */
	r->recv_off = (uint32_t)(off + (size_t)((const unsigned char *)v->id -
						 rec) - 8 -
				 ALOG_TIME_RECORD_LEN);
	r->id_off = (uint32_t)(off + (size_t)((const unsigned char *)v->id - rec));
	r->id_len = (uint16_t)v->id_len;
	r->type_len = (uint16_t)env->type_len;
	r->src_len = (uint16_t)env->source_len;
	if (env->type >= (const char *)rec &&
	    env->type < (const char *)rec + len) {
		r->type_off = (uint32_t)(off + (size_t)(env->type -
							 (const char *)rec));
		r->src_off = env->source ?
			(uint32_t)(off + (size_t)(env->source -
						  (const char *)rec)) : 0;
	} else {  /* parsed: the texts live in the event, not the record */
		r->parsed = 1;
		r->type_off = (uint32_t)j->extra.len;
		if (alog_buf_add(&j->extra, env->type, env->type_len, err) < 0)
			return ALOG_ENOMEM;
		r->src_off = (uint32_t)j->extra.len;
		if (env->source_len &&
		    alog_buf_add(&j->extra, env->source, env->source_len,
				 err) < 0)
			return ALOG_ENOMEM;
	}
	j->n++;
	return 0;
}

/* Push the last job, wait for the worker, collect its verdict. rc: the
 * reader's; a failure stops the worker without its work. */
static int pop_finish(struct pop_worker *w, int rc, struct alog_err *err)
{
	if (!w->started) {  /* pop_start failed, or never ran */
		alog_buf_release(&w->csv);
		return rc;
	}
	pthread_mutex_lock(&w->mu);
	if (rc == 0 && w->jobs[w->filling % POP_JOBS].n)
		w->head++;
	if (rc < 0)
		w->cancel = 1;      /* drop what waits */
	w->done = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	if (rc == 0 && w->failed) {
		*err = w->err;
		rc = err->code ? err->code : ALOG_EIO;
	}
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	for (size_t i = 0; i < POP_JOBS; i++) {
		alog_buf_release(&w->jobs[i].bytes);
		alog_buf_release(&w->jobs[i].extra);
		free(w->jobs[i].recs);
	}
	alog_buf_release(&w->csv);
	w->started = 0;
	return rc;
}

/* ---- late arrivals: event time in the period, received after it ------ */

#define LATE_LIST_MAX 100

struct late {
	uint64_t from_index, to_index;  /* searched */
	uint64_t n;
	struct { uint64_t index; int64_t time_us, received_us; }
		first[LATE_LIST_MAX];
};

static int late_one(struct late *l, const struct alog_report_opts *o,
		    uint64_t index, const struct alog_record_view *v,
		    const struct alog_envelope_view *env, int peeked)
{
	int64_t t;

	if (peeked == 1) {   /* a key with an escape: parse */
		if (!alog_extract_event_time(v->event, v->event_len, &t))
			return 0;
	} else if (!env->time ||
		   alog_time_parse(env->time, env->time_len, 0, &t, NULL) < 0) {
		return 0;
	}
	if (t < o->from_us || t >= o->to_us)
		return 0;
	if (l->n < LATE_LIST_MAX) {
		l->first[l->n].index = index;
		l->first[l->n].time_us = t;
		l->first[l->n].received_us = v->received_us;
	}
	l->n++;
	return 0;
}

static void jw_late(struct jw *w, const struct late *l)
{
	jw_open(w, "late_arrivals", '{');
	jw_uint(w, "searched_from_index", l->from_index);
	jw_uint(w, "searched_to_index", l->to_index);
	jw_uint(w, "count", l->n);
	jw_open(w, "first", '[');
	for (uint64_t i = 0; i < l->n && i < LATE_LIST_MAX; i++) {
		jw_open(w, NULL, '{');
		jw_uint(w, "index", l->first[i].index);
		jw_time(w, "time", l->first[i].time_us);
		jw_time(w, "received", l->first[i].received_us);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

/* ---- the one pass over the log ---------------------------------------- */

/* Every record is read once (SPEC.md 21 "Inputs"): [0, b) feeds the
 * availability and monitoring extraction (the state at the period's
 * start is carried in), [a, b) is the population (hash, days, csv), and
 * [b, end checkpoint) is searched for late arrivals. */
struct pass {
	const struct alog_report_opts *o;
	struct alog_extractor *ex;
	struct alog_population_pass pop;
	struct pop_worker worker;
	struct volume *vol;
	struct late *late;
	uint64_t end;            /* records to read: [0, end) */
	struct alog_err *err;
};

#define PROGRESS_EVERY 65536     /* records between progress calls */

static int pass_one(void *ctx, uint64_t index, const unsigned char *rec,
		    size_t len)
{
	struct pass *p = ctx;
	struct alog_record_view v;
	struct alog_envelope_view env;
	int rc = alog_record_peek_at(index, rec, len, &v, p->err), peeked;

	if (rc < 0)
		return rc;
	if (p->o->progress && (index % PROGRESS_EVERY == 0 || index + 1 == p->end))
		p->o->progress(p->o->progress_ctx, index + 1, p->end);
	peeked = alog_event_peek(v.event, v.event_len, &env);
	if (peeked < 0)
		return alog_err_set(p->err, ALOG_ECORRUPT, "record %" PRIu64
				    ": the event is not one object", index);
	if (index < p->pop.out->index_to) {
		rc = alog_extract_add(p->ex, index, &v, &env, peeked, p->err);
		if (rc == 0 && index >= p->pop.out->index_from) {
			if (peeked == 1)
				rc = envelope(&v, &p->vol->ev, &env);
			if (rc < 0 || !env.type)
				return alog_err_set(p->err, ALOG_ECORRUPT,
						    "record %" PRIu64
						    ": the event has no type",
						    index);
			rc = alog_population_count(&p->pop, index,
						   v.received_us, p->err);
			if (rc == 0)
				rc = pop_take(&p->worker, index, rec, len, &v,
					      &env, p->err);
			count_day(p->vol, v.received_us);
		}
	} else if (index < p->late->to_index) {
		rc = late_one(p->late, p->o, index, &v, &env, peeked);
	}
	if (rc == ALOG_ECORRUPT && !p->err->msg[0])
		alog_err_set(p->err, ALOG_ECORRUPT, "record %" PRIu64
			     ": the event's envelope can't be read", index);
	else if (rc == ALOG_ENOMEM && !p->err->msg[0])
		alog_err_set(p->err, ALOG_ENOMEM, "out of memory");
	return rc;
}

static int read_log(struct alog_store *s, const struct alog_report_opts *o,
		    const struct alog_population_query *q,
		    struct alog_population *pop, struct volume *vol,
		    struct late *late, const struct bracket *br,
		    struct alog_extract *x, int *csv_written,
		    struct alog_err *err)
{
	struct alog_rules_params rp;
	struct pass p;
	uint64_t end;
	int rc, csv_fd = -1;

	memset(&p, 0, sizeof(p));
	memset(x, 0, sizeof(*x));
	p.o = o;
	p.vol = vol;
	p.late = late;
	p.err = err;
	alog_rules_params_default(&rp);
	rc = alog_population_begin(s, q, &p.pop, pop, err);
	if (rc < 0)
		return rc;
	late->from_index = pop->index_to;
	late->to_index = br->have_end ? br->end_ck.size : alog_store_size(s);
	if (late->to_index < late->from_index)
		late->to_index = late->from_index;
	/* population.csv goes with the bundle, which needs an end
	 * checkpoint */
	if (o->population_csv_path && br->have_end) {
		csv_fd = open(o->population_csv_path,
			      O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (csv_fd < 0)
			rc = alog_err_sys(err, ALOG_EIO, errno,
					  "%s: cannot create: %s",
					  o->population_csv_path,
					  strerror(errno));
	}
	if (rc == 0)
		rc = alog_extract_begin(o->cfg, rp.skew_max_us, x, &p.ex, err);
	if (rc == 0)
		rc = pop_start(&p.worker, &p.pop, csv_fd,
			       o->population_csv_path, err);
	end = late->to_index > pop->index_to ? late->to_index : pop->index_to;
	p.end = end;
	if (rc == 0)
		rc = alog_store_read(s, 0, end, pass_one, &p, err);
	rc = pop_finish(&p.worker, rc, err);
	alog_extract_end(p.ex);
	if (alog_population_end(&p.pop, rc == 0, err) < 0 && rc == 0)
		rc = ALOG_ENOMEM;
	if (csv_fd >= 0) {
		if (rc == 0 && (fsync(csv_fd) < 0 || close(csv_fd) < 0))
			rc = alog_err_sys(err, ALOG_EIO, errno,
					  "%s: cannot write: %s",
					  o->population_csv_path,
					  strerror(errno));
		else if (rc < 0)
			close(csv_fd);
		if (rc < 0)
			unlink(o->population_csv_path);
		else
			*csv_written = 1;
	}
	return rc;
}

/* ---- the whole report ----------------------------------------------- */

int alog_report_json(struct alog_store *s, const struct alog_report_opts *o,
		     struct alog_buf *json, struct alog_report_summary *sum,
		     struct alog_err *err)
{
	struct alog_population_query q = { o->from_us, o->to_us, NULL, NULL };
	struct alog_population pop;
	struct alog_extract x;
	struct alog_buf text;
	struct bracket *br;
	struct late *late;
	struct volume vol;
	struct jw w;
	int rc;

	memset(sum, 0, sizeof(*sum));
	memset(&vol, 0, sizeof(vol));
	memset(&x, 0, sizeof(x));
	br = calloc(1, sizeof(*br));
	late = calloc(1, sizeof(*late));
	if (!br || !late) {
		free(br);
		free(late);
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	}
	alog_buf_init(&text, 4096);
	rc = alog_report_id(alog_store_origin(s), o->from_us, o->to_us,
			    o->cfg->hash_hex, o->sample, o->seed, sum->report_id,
			    err);
	vol.first_day = day_of(o->from_us);
	vol.n = (size_t)(day_of(o->to_us - 1) - vol.first_day + 1);
	if (rc == 0 && vol.n > ALOG_REPORT_DAYS_MAX)
		rc = alog_err_set(err, ALOG_ELIMIT,
				  "a period of more than %d days",
				  ALOG_REPORT_DAYS_MAX);
	if (rc == 0 && !(vol.count = calloc(vol.n, sizeof(*vol.count))))
		rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
	alog_event_init(&vol.ev);
	if (rc == 0)
		rc = find_bracket(s, o, br, err);
	if (rc == 0)
		rc = read_log(s, o, &q, &pop, &vol, late, br, &x,
			      &sum->csv_written, err);
	alog_event_release(&vol.ev);
	if (rc == 0)
		rc = alog_population_text(&q, &text, err);
	if (rc < 0)
		goto out;
	sum->population = pop.count;
	sum->complete = br->have_end && br->consistent &&
			br->end_ck.size >= pop.index_to &&
			(!br->have_start || br->start_ck.size <= pop.index_from);

	memset(&w, 0, sizeof(w));
	w.b = json;
	w.err = err;
	w.first[0] = 1;
	jw_open(&w, NULL, '{');
	jw_str(&w, "schema", ALOG_REPORT_SCHEMA);
	jw_str(&w, "report_id", sum->report_id);
	jw_str(&w, "title", "SOC 2 evidence: availability (A1.2) and monitoring (CC7.2)");
	jw_str(&w, "nature", "management-prepared, system-generated evidence; not an audit opinion");
	jw_str(&w, "generator", o->generator);
	jw_time(&w, "generated_at", o->generated_at_us);
	jw_str(&w, "origin", alog_store_origin(s));
	jw_open(&w, "period", '{');
	jw_time(&w, "from", o->from_us);
	jw_time(&w, "to", o->to_us);
	jw_int(&w, "from_us", o->from_us);
	jw_int(&w, "to_us", o->to_us);
	jw_str(&w, "time_zone", "UTC");
	jw_close(&w, '}');
	jw_open(&w, "config", '{');
	jw_str(&w, "file", o->config_path);
	jw_str(&w, "sha256", o->cfg->from_file ? o->cfg->hash_hex : NULL);
	jw_close(&w, '}');
	jw_open(&w, "recorded", '{');
	jw_bool(&w, "recorded", o->recorded == NULL);
	jw_str(&w, "reason", o->recorded);
	jw_close(&w, '}');
	jw_open(&w, "integrity", '{');
	jw_checkpoint(&w, "start_checkpoint", br->have_start, &br->start,
		      &br->start_ck);
	jw_checkpoint(&w, "end_checkpoint", br->have_end, &br->end,
		      &br->end_ck);
	jw_open(&w, "consistency_proof", '[');
	for (size_t i = 0; i < br->n_proof; i++)
		jw_hex(&w, NULL, br->proof[i], ALOG_HASH_LEN);
	jw_close(&w, ']');
	jw_bool(&w, "consistency_verified", br->have_end && br->consistent);
	jw_bool(&w, "complete", sum->complete);
	jw_close(&w, '}');
	jw_open(&w, "population", '{');
	jw_sep(&w, "query");
	if (w.rc == 0)
		w.rc = alog_json_string_format(json, (const char *)text.data,
					       text.len, err);
	jw_uint(&w, "count", pop.count);
	jw_uint(&w, "index_from", pop.index_from);
	jw_uint(&w, "index_to", pop.index_to);
	jw_uint(&w, "gaps", 0);
	if (pop.count) {
		jw_time(&w, "first_received", pop.first_received);
		jw_time(&w, "last_received", pop.last_received);
	} else {
		jw_null(&w, "first_received");
		jw_null(&w, "last_received");
	}
	jw_hex(&w, "sha256", pop.sha256, sizeof(pop.sha256));
	jw_open(&w, "daily", '[');
	for (size_t i = 0; i < vol.n; i++) {
		char day[ALOG_TIME_TEXT_MAX];

		alog_time_format((vol.first_day + (int64_t)i) * DAY_US, day);
		day[10] = 0;
		jw_open(&w, NULL, '[');
		jw_str(&w, NULL, day);
		jw_uint(&w, NULL, vol.count[i]);
		jw_close(&w, ']');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');
	jw_late(&w, late);
	if (w.rc == 0 && rc == 0)
		rc = samples(&w, s, o, &pop, br, sum, err);
	if (w.rc == 0 && rc == 0)
		rc = a1_2(&w, o, &x, sum, err);
	jw_close(&w, '}');
	if (w.rc == 0 && rc == 0)
		w.rc = alog_buf_addc(json, '\n', err);
	if (rc == 0)
		rc = w.rc;
out:
	/* the checkpoints and the proof go to the caller, for the bundle */
	sum->have_start = br->have_start;
	sum->have_end = br->have_end;
	sum->start = br->start;
	sum->end = br->end;
	sum->n_proof = br->n_proof;
	memcpy(sum->proof, br->proof, sizeof(sum->proof));
	free(br);
	free(late);
	free(vol.count);
	alog_extract_release(&x);
	alog_buf_release(&text);
	return rc;
}
