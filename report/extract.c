/*
 * extract: see extract.h.
 */
#include "report/extract.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/clock.h"
#include "ingest/event.h"
#include "ingest/json.h"

/* Events in the CC7.2 stream at most (the monitoring engine's limit). */
#define ALOG_MON_EVENTS_CAP (64u * 1024u * 1024u)

/* The types the availability engine reads (SPEC.md 20.1). */
static const char *const TYPES[] = {
	"breaker.transition", "health.probe", "maintenance.window",
	"daemon.started", "daemon.stopped", "backup.activated",
	"backup.replayed", "admin.action", "auth.login",
	"integrity.verified", "checkpoint.signed",
};

struct evmember {
	const char *key, *value;
	size_t key_len, value_len;
	const char *text;         /* the decoded string, once asked for */
	int decoded;              /* text is set (NULL: not a good string) */
};

struct evview {
	struct evmember *m;
	size_t n, cap;
	char *scratch;            /* holds every decoded text of the event */
	size_t used, scratch_cap;
	int oom;
};

struct run {
	struct evview view;       /* the current event's members */
	const struct alog_config *cfg;
	int64_t skew_us;
	struct alog_extract *x;
	struct alog_err *err;
	int pending_activation;   /* a backup.activated awaits its first
				     spooled record */
	size_t act_comp, act_pos;
};

/* FNV-1a: the slot of a string in the owned set. */
static size_t str_hash(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return (size_t)h;
}

/* The extraction's copy of s: one per distinct text (actors, sources,
 * components and outcomes repeat across millions of events), in an
 * open-addressing set whose load stays at most one half. */
static int own(struct alog_extract *x, const char *s, const char **out)
{
	size_t i;
	char *p;

	if (!s) {
		*out = NULL;
		return 0;
	}
	if (2 * (x->n_strings + 1) > x->cap_strings) {
		size_t cap = x->cap_strings ? 2 * x->cap_strings : 256;
		char **q = calloc(cap, sizeof(*q));

		if (!q)
			return ALOG_ENOMEM;
		for (size_t k = 0; k < x->cap_strings; k++)
			if (x->strings[k]) {
				for (i = str_hash(x->strings[k]) & (cap - 1); q[i];
				     i = (i + 1) & (cap - 1))
					;
				q[i] = x->strings[k];
			}
		free(x->strings);
		x->strings = q;
		x->cap_strings = cap;
	}
	for (i = str_hash(s) & (x->cap_strings - 1); x->strings[i];
	     i = (i + 1) & (x->cap_strings - 1))
		if (strcmp(x->strings[i], s) == 0) {
			*out = x->strings[i];
			return 0;
		}
	p = strdup(s);
	if (!p)
		return ALOG_ENOMEM;
	x->strings[i] = p;
	x->n_strings++;
	*out = p;
	return 0;
}

static int push(struct alog_extract_comp *c, const struct alog_av_obs *o)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 256;
		struct alog_av_obs *p;

		if (cap > ALOG_AV_OBS_MAX)
			return ALOG_ELIMIT;
		p = realloc(c->obs, cap * sizeof(*p));
		if (!p)
			return ALOG_ENOMEM;
		c->obs = p;
		c->cap = cap;
	}
	c->obs[c->n++] = *o;
	return 0;
}

/* ---- an event's top-level members, read without building a tree ------
 *
 * The spans of each member (key, raw value) come from alog_event_members,
 * or, for an event with a key written with an escape, from the strict
 * scanner's decoded keys; string values are decoded on demand into the
 * event's scratch space, which holds every text asked for until the next
 * event (decoded text is never longer than its JSON). */

static void view_add(void *ctx, const char *key, size_t key_len,
		     const char *value, size_t value_len)
{
	struct evview *e = ctx;

	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 32;
		struct evmember *q = realloc(e->m, cap * sizeof(*q));

		if (!q) {
			e->oom = 1;
			return;
		}
		e->m = q;
		e->cap = cap;
	}
	e->m[e->n++] = (struct evmember){ key, value, key_len, value_len,
					  NULL, 0 };
}

/* Room in scratch for n bytes and a NUL, or NULL. */
static char *view_room(struct evview *e, size_t n)
{
	char *p;

	if (e->scratch_cap - e->used < n + 1)
		return NULL;
	p = e->scratch + e->used;
	e->used += n + 1;
	return p;
}

static int view_scanned(void *ctx, const struct alog_json_member *m,
			struct alog_err *err)
{
	struct evview *e = ctx;
	char *k = view_room(e, m->key_len);

	(void)err;
	if (!k)
		return ALOG_ENOMEM;
	memcpy(k, m->key, m->key_len);
	k[m->key_len] = 0;
	view_add(e, k, m->key_len, m->value, m->value_len);
	return e->oom ? ALOG_ENOMEM : 0;
}

/* Read ev's members into e: 0, ALOG_ECORRUPT or ALOG_ENOMEM. */
static int view_read(struct evview *e, const char *ev, size_t len)
{
	int rc;

	e->n = 0;
	e->used = 0;
	e->oom = 0;
	/* texts decoded, and keys of the escaped-key path: 2 len at most */
	if (e->scratch_cap < 2 * len + 64) {
		char *q = realloc(e->scratch, 2 * len + 64);

		if (!q)
			return ALOG_ENOMEM;
		e->scratch = q;
		e->scratch_cap = 2 * len + 64;
	}
	rc = alog_event_members(ev, len, view_add, e);
	if (rc == 1) {   /* a key with an escape: the strict scanner */
		struct alog_json_opts o = { ALOG_EVENT_DEPTH_MAX, 0, 1, 0,
					    view_scanned, e };
		struct alog_json_result res;

		e->n = 0;
		rc = alog_json_scan(ev, len, &o, NULL, &res, NULL) < 0 ?
		     (e->oom || res.fault == ALOG_JSON_STOPPED ? ALOG_ENOMEM :
		      ALOG_ECORRUPT) : 0;
	}
	if (rc == 0 && e->oom)
		rc = ALOG_ENOMEM;
	return rc < 0 ? rc : 0;
}

static void view_free(struct evview *e)
{
	free(e->m);
	free(e->scratch);
	memset(e, 0, sizeof(*e));
}

static const struct evmember *view_find(const struct evview *e,
					const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; i < e->n; i++)
		if (e->m[i].key_len == n && memcmp(e->m[i].key, key, n) == 0)
			return &e->m[i];
	return NULL;
}

/* A string member's text, decoded (NUL-terminated; a \u0000 ends it, as
 * it would a C string), or NULL when absent, not a string or malformed. */
static const char *decode(struct evview *e, const struct evmember *m);

static const char *str(struct evview *e, const char *key)
{
	struct evmember *m = (struct evmember *)view_find(e, key);

	if (!m)
		return NULL;
	if (!m->decoded) {   /* each member at most once: scratch suffices */
		m->text = decode(e, m);
		m->decoded = 1;
	}
	return m->text;
}

static const char *decode(struct evview *e, const struct evmember *m)
{
	char *out;

	if (m->value_len < 2 || m->value[0] != '"')
		return NULL;
	out = view_room(e, m->value_len - 2);
	if (!out)
		return NULL;
	alog_json_string_decode(m->value + 1, m->value_len - 2, out,
				m->value_len - 1);
	return out;
}

static int time_of(struct evview *e, const char *key, int64_t *us)
{
	const char *t = str(e, key);

	return t && alog_time_parse(t, strlen(t), 0, us, NULL) == 0 ? 0 : -1;
}

/* A number member that holds an integer (as a double would: 1.0 and 1e3
 * count), into *v; -1 when absent or not one. */
static int int_of(struct evview *e, const char *key, int64_t *v)
{
	const struct evmember *m = view_find(e, key);
	char num[64], *endp;
	double d;

	if (!m || m->value_len == 0 || m->value_len >= sizeof(num) ||
	    !(m->value[0] == '-' || (m->value[0] >= '0' && m->value[0] <= '9')))
		return -1;
	memcpy(num, m->value, m->value_len);
	num[m->value_len] = 0;
	d = strtod(num, &endp);
	if (*endp || !(d >= -9007199254740992.0 && d <= 9007199254740992.0) ||
	    d != (double)(int64_t)d)
		return -1;
	*v = (int64_t)d;
	return 0;
}

/* A boolean member: 1 true, 0 false, -1 absent or not a boolean. */
static int bool_of(const struct evview *e, const char *key)
{
	const struct evmember *m = view_find(e, key);

	if (m && m->value_len == 4 && memcmp(m->value, "true", 4) == 0)
		return 1;
	if (m && m->value_len == 5 && memcmp(m->value, "false", 5) == 0)
		return 0;
	return -1;
}

static long comp_index(const struct run *r, const char *name)
{
	for (size_t i = 0; name && i < r->cfg->n_components; i++)
		if (strcmp(r->cfg->components[i].name, name) == 0)
			return (long)i;
	return -1;
}

static long owned_index(const struct run *r)
{
	return comp_index(r, ALOG_CONFIG_PRIMARY_STORE);
}

static void malformed(struct run *r, uint64_t index)
{
	if (r->x->malformed++ == 0)
		r->x->first_malformed = index;
}

/* One report input: 1 when it was taken, 0 when it is not one (or is
 * malformed, which is counted), negative on failure. */
static int take(struct run *r, uint64_t index, int64_t received,
		struct evview *ev, const char *type, int internal)
{
	struct alog_av_obs o;
	long c = -1;
	int64_t v;
	int rc;

	memset(&o, 0, sizeof(o));
	o.index = index;
	if (strcmp(type, "auth.login") == 0 ||
	    strcmp(type, "integrity.verified") == 0 ||
	    strcmp(type, "checkpoint.signed") == 0)
		return 0; /* CC7.2 inputs only */
	if (strcmp(type, "breaker.transition") == 0) {
		const char *f = str(ev, "from"), *t = str(ev, "to"),
			   *cause = str(ev, "cause");

		c = comp_index(r, str(ev, "component"));
		o.kind = ALOG_AV_TRANSITION;
		if (c < 0)
			return 0;
		if (!f || !t || !cause || int_of(ev, "at_us", &o.transition.at_us) ||
		    alog_breaker_state_parse(f, strlen(f), &o.transition.from) ||
		    alog_breaker_state_parse(t, strlen(t), &o.transition.to) ||
		    alog_breaker_cause_parse(cause, strlen(cause),
					     &o.transition.cause))
			goto bad;
	} else if (strcmp(type, "health.probe") == 0) {
		const char *st = str(ev, "status");

		c = comp_index(r, str(ev, "component"));
		o.kind = ALOG_AV_PROBE;
		if (c < 0)
			return 0;
		if (!st || time_of(ev, "time", &o.probe.time_us))
			goto bad;
		if (strcmp(st, "up") == 0)
			o.probe.status = ALOG_AV_PROBE_UP;
		else if (strcmp(st, "down") == 0)
			o.probe.status = ALOG_AV_PROBE_DOWN;
		else if (strcmp(st, "degraded") == 0)
			o.probe.status = ALOG_AV_PROBE_DEGRADED;
		else
			goto bad;
	} else if (strcmp(type, "maintenance.window") == 0) {
		c = comp_index(r, str(ev, "component"));
		o.kind = ALOG_AV_MAINTENANCE;
		if (c < 0)
			return 0;
		if (time_of(ev, "start", &o.maintenance.start_us) ||
		    time_of(ev, "end", &o.maintenance.end_us) ||
		    o.maintenance.end_us <= o.maintenance.start_us)
			goto bad;
		if (own(r->x, str(ev, "change_ref"), &o.maintenance.change_ref) ||
		    own(r->x, str(ev, "approver"), &o.maintenance.approver))
			return ALOG_ENOMEM;
	} else if (strcmp(type, "admin.action") == 0) {
		const char *out = str(ev, "outcome");

		c = comp_index(r, str(ev, "target"));
		o.kind = ALOG_AV_ADMIN;
		if (c < 0 || !internal)
			return 0; /* written by the daemon only */
		if (!out || time_of(ev, "time", &o.admin.at_us))
			o.admin.at_us = received;
		if (!out)
			goto bad;
		o.admin.outcome = strcmp(out, "success") == 0 ?
			ALOG_AV_OUTCOME_SUCCESS : strcmp(out, "denied") == 0 ?
			ALOG_AV_OUTCOME_DENIED : ALOG_AV_OUTCOME_FAILED;
		if (own(r->x, str(ev, "operator"), &o.admin.operator_name) ||
		    own(r->x, str(ev, "auth_method"), &o.admin.auth_method) ||
		    own(r->x, str(ev, "action"), &o.admin.action) ||
		    own(r->x, str(ev, "target"), &o.admin.target) ||
		    own(r->x, str(ev, "reason"), &o.admin.reason) ||
		    own(r->x, str(ev, "change_ref"), &o.admin.change_ref))
			return ALOG_ENOMEM;
	} else {
		/* the daemon's own: daemon.*, backup.* (trusted only) */
		c = owned_index(r);
		if (c < 0 || !internal)
			return 0;
		if (strcmp(type, "daemon.started") == 0) {
			o.kind = ALOG_AV_DAEMON_STARTED;
			o.daemon.at_us = received;
		} else if (strcmp(type, "daemon.stopped") == 0) {
			o.kind = ALOG_AV_DAEMON_STOPPED;
			o.daemon.at_us = received;
		} else if (strcmp(type, "backup.activated") == 0) {
			o.kind = ALOG_AV_ACTIVATED;
			if (int_of(ev, "failed_at_us", &o.activated.failed_at_us))
				goto bad;
		} else {
			const char *origin = str(ev, "origin");
			int d = bool_of(ev, "drained");
			int64_t n[5];

			o.kind = ALOG_AV_REPLAYED;
			if (!origin || d < 0 ||
			    int_of(ev, "records", &n[0]) ||
			    int_of(ev, "imported", &n[1]) ||
			    int_of(ev, "duplicates", &n[2]) ||
			    int_of(ev, "conflicts", &n[3]) ||
			    int_of(ev, "refused", &n[4]) ||
			    int_of(ev, "replayed_at_us", &v))
				goto bad;
			for (int k = 0; k < 5; k++)
				if (n[k] < 0)
					goto bad;
			o.replayed.import = strcmp(origin, "spool") != 0;
			o.replayed.records = (uint64_t)n[0];
			o.replayed.imported = (uint64_t)n[1];
			o.replayed.duplicates = (uint64_t)n[2];
			o.replayed.conflicts = (uint64_t)n[3];
			o.replayed.refused = (uint64_t)n[4];
			o.replayed.drained = d == 1;
			o.replayed.replayed_at_us = v;
			if (own(r->x, str(ev, "file"), &o.replayed.file))
				return ALOG_ENOMEM;
		}
	}
	rc = push(&r->x->comps[c], &o);
	if (rc < 0)
		return rc;
	if (o.kind == ALOG_AV_ACTIVATED) {
		r->pending_activation = 1;
		r->act_comp = (size_t)c;
		r->act_pos = r->x->comps[c].n - 1;
	}
	return 1;
bad:
	malformed(r, index);
	return 0;
}

static int push_ev(struct alog_extract *x, const struct alog_rules_event *e)
{
	if (x->n_ev == x->cap_ev) {
		size_t cap = x->cap_ev ? 2 * x->cap_ev : 1024;
		struct alog_rules_event *p;

		if (cap > ALOG_MON_EVENTS_CAP)
			return ALOG_ELIMIT;
		p = realloc(x->ev, cap * sizeof(*p));
		if (!p)
			return ALOG_ENOMEM;
		x->ev = p;
		x->cap_ev = cap;
	}
	x->ev[x->n_ev++] = *e;
	return 0;
}

/* The CC7.2 event of a record (SPEC.md 20.14). ev may be NULL (a record
 * of another type, kept only for its clock skew). */
static int rules_event(struct run *r, uint64_t index, int64_t received,
		       struct evview *ev, const char *type, int has_time,
		       int64_t time_us)
{
	struct alog_rules_event e;
	int rc = 0;

	memset(&e, 0, sizeof(e));
	e.index = index;
	e.received_us = received;
	e.has_time = has_time;
	e.time_us = time_us;
	if (!type)
		e.type = ALOG_RULES_EV_OTHER;
	else if (strcmp(type, "auth.login") == 0)
		e.type = ALOG_RULES_EV_AUTH_LOGIN;
	else if (strcmp(type, "admin.action") == 0)
		e.type = ALOG_RULES_EV_ADMIN_ACTION;
	else if (strcmp(type, "health.probe") == 0)
		e.type = ALOG_RULES_EV_HEALTH_PROBE;
	else if (strcmp(type, "breaker.transition") == 0)
		e.type = ALOG_RULES_EV_BREAKER;
	else if (strcmp(type, "integrity.verified") == 0)
		e.type = ALOG_RULES_EV_VERIFIED;
	else if (strcmp(type, "checkpoint.signed") == 0)
		e.type = ALOG_RULES_EV_CHECKPOINT;
	else
		e.type = ALOG_RULES_EV_OTHER;
	if (ev) {
		rc = own(r->x, str(ev, "source"), &e.source);
		if (rc == 0)
			rc = own(r->x, str(ev, "actor"), &e.actor);
		if (rc == 0)
			rc = own(r->x, str(ev, "source_addr"), &e.source_addr);
		if (rc == 0)
			rc = own(r->x, e.type == ALOG_RULES_EV_VERIFIED ?
				 str(ev, "result") : e.type ==
				 ALOG_RULES_EV_HEALTH_PROBE ? str(ev, "status") :
				 str(ev, "outcome"), &e.outcome);
		if (rc == 0)
			rc = own(r->x, str(ev, "operator"), &e.operator_name);
		if (rc == 0)
			rc = own(r->x, str(ev, "action"), &e.action);
		if (rc == 0)
			rc = own(r->x, str(ev, "target"), &e.target);
		if (rc == 0)
			rc = own(r->x, str(ev, "component"), &e.component);
		if (rc < 0)
			return rc;
		if (e.type == ALOG_RULES_EV_BREAKER) {
			const char *f = str(ev, "from"), *t = str(ev, "to");

			if (!f || !t || int_of(ev, "at_us", &e.at_us) ||
			    alog_breaker_state_parse(f, strlen(f), &e.from) ||
			    alog_breaker_state_parse(t, strlen(t), &e.to))
				return 0; /* counted by the availability pass */
		}
	}
	return push_ev(r->x, &e);
}

int alog_extract_event_time(const char *ev, size_t len, int64_t *us)
{
	struct alog_envelope_view env;
	struct evview e;
	int ok;

	switch (alog_event_peek(ev, len, &env)) {
	case 0:
		return env.time &&
		       alog_time_parse(env.time, env.time_len, 0, us, NULL) == 0;
	case 1:  /* a key with an escape: the members, keys decoded */
		memset(&e, 0, sizeof(e));
		ok = view_read(&e, ev, len) == 0 && time_of(&e, "time", us) == 0;
		view_free(&e);
		return ok;
	default:
		return 0;
	}
}

/* The record's type when it is a report input: from the envelope (read
 * without an escaped key), or NULL. */
static const char *input_type(const struct alog_envelope_view *env)
{
	for (size_t i = 0; env->type && i < sizeof(TYPES) / sizeof(TYPES[0]);
	     i++)
		if (strlen(TYPES[i]) == env->type_len &&
		    memcmp(TYPES[i], env->type, env->type_len) == 0)
			return TYPES[i];
	return NULL;
}

int alog_extract_add(struct alog_extractor *ex, uint64_t index,
		     const struct alog_record_view *v,
		     const struct alog_envelope_view *given, int peek,
		     struct alog_err *err)
{
	struct run *r = (struct run *)ex;
	struct alog_envelope_view env;
	const char *type = NULL;
	struct evview *ev = &r->view;
	int internal, rc = 0;

	r->err = err;
	internal = alog_provenance_is_internal(v->prov, v->prov_len);
	if (r->pending_activation && !internal) {
		/* the first spooled producer record after backup.activated */
		struct alog_av_obs *a =
			&r->x->comps[r->act_comp].obs[r->act_pos];

		a->activated.has_first_spooled = 1;
		a->activated.first_spooled_us = v->received_us;
		r->pending_activation = 0;
	}
	if (peek == -2)
		peek = alog_event_peek(v->event, v->event_len, &env);
	else
		env = *given;
	if (peek < 0)
		return alog_err_set(err, ALOG_ECORRUPT, "record %" PRIu64
				    ": the event is not one object", index);
	if (peek == 0 && !(type = input_type(&env))) {
		int64_t t;

		if (env.time &&
		    alog_time_parse(env.time, env.time_len, 0, &t, NULL) == 0 &&
		    (t - v->received_us > r->skew_us ||
		     v->received_us - t > r->skew_us)) {
			rc = rules_event(r, index, v->received_us, NULL, NULL, 1,
					 t);
			if (rc < 0)
				goto fail;
		}
		return 0;
	}
	rc = view_read(ev, v->event, v->event_len);
	if (rc == ALOG_ENOMEM)
		return alog_err_set(r->err, ALOG_ENOMEM, "out of memory");
	if (rc < 0)
		return alog_err_set(r->err, ALOG_ECORRUPT, "record %" PRIu64
				    ": the event does not parse", index);
	type = str(ev, "type");
	for (size_t i = 0; type && i < sizeof(TYPES) / sizeof(TYPES[0]); i++)
		if (strcmp(type, TYPES[i]) == 0) {
			int64_t t = 0;
			int has_t = time_of(ev, "time", &t) == 0;
			int64_t uid;

			/* integrity.verified may come through the daemon
			 * (SPEC.md 15.1), which admits that type from a unix
			 * peer running as its own uid or root only: such a
			 * record is in the log only because auditlog let it
			 * in (and a spool it replays is the daemon's alone,
			 * 17.8) */
			if (!internal &&
			    strcmp(type, "integrity.verified") == 0 &&
			    alog_provenance_unix_uid(v->prov, v->prov_len,
						     &uid) == 0)
				internal = 1;
			rc = take(r, index, v->received_us, ev, type, internal);
			/* admin.* and checkpoints count only when auditlog
			 * wrote them */
			if (rc >= 0 && (internal ||
					(strcmp(type, "admin.action") != 0 &&
					 strcmp(type, "checkpoint.signed") != 0 &&
					 strcmp(type, "integrity.verified") != 0)))
				rc = rules_event(r, index, v->received_us, ev, type,
						 has_t, t);
			break;
		}
fail:
	if (rc == ALOG_ENOMEM)
		return alog_err_set(r->err, ALOG_ENOMEM, "out of memory");
	if (rc == ALOG_ELIMIT)
		return alog_err_set(r->err, ALOG_ELIMIT,
				    "more than %u observations of one component",
				    ALOG_AV_OBS_MAX);
	return rc < 0 ? rc : 0;
}

int alog_extract_begin(const struct alog_config *cfg, int64_t skew_us,
		       struct alog_extract *out, struct alog_extractor **ex,
		       struct alog_err *err)
{
	struct run *r;

	memset(out, 0, sizeof(*out));
	*ex = NULL;
	out->first_malformed = UINT64_MAX;
	out->comps = calloc(cfg->n_components ? cfg->n_components : 1,
			    sizeof(*out->comps));
	r = calloc(1, sizeof(*r));
	if (!out->comps || !r) {
		free(r);
		free(out->comps);
		out->comps = NULL;
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	}
	out->n_comps = cfg->n_components;
	r->cfg = cfg;
	r->skew_us = skew_us;
	r->x = out;
	r->err = err;
	*ex = (struct alog_extractor *)r;
	return 0;
}

void alog_extract_end(struct alog_extractor *ex)
{
	if (ex)
		view_free(&((struct run *)ex)->view);
	free(ex);
}

struct one_pass {
	struct alog_extractor *ex;
	struct alog_err *err;
};

static int on_record(void *ctx, uint64_t index, const unsigned char *rec,
		     size_t len)
{
	struct one_pass *op = ctx;
	struct alog_record_view v;
	int rc = alog_record_peek_at(index, rec, len, &v, op->err);

	if (rc < 0)
		return rc;
	return alog_extract_add(op->ex, index, &v, NULL, -2, op->err);
}

int alog_extract_run(struct alog_store *s, const struct alog_config *cfg,
		     uint64_t to_index, int64_t skew_us,
		     struct alog_extract *out, struct alog_err *err)
{
	struct one_pass op = { NULL, err };
	int rc;

	rc = alog_extract_begin(cfg, skew_us, out, &op.ex, err);
	if (rc == 0)
		rc = alog_store_read(s, 0, to_index, on_record, &op, err);
	alog_extract_end(op.ex);
	if (rc < 0)
		alog_extract_release(out);
	return rc;
}

void alog_extract_release(struct alog_extract *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n_comps; i++)
		free(x->comps[i].obs);
	free(x->comps);
	for (size_t i = 0; i < x->cap_strings; i++)
		free(x->strings[i]);
	free(x->strings);
	free(x->ev);
	memset(x, 0, sizeof(*x));
}
