/*
 * population: see population.h.
 */
#include "report/population.h"

#include <inttypes.h>
#include <string.h>

#include <openssl/evp.h>

#include "ingest/clock.h"
#include "ingest/event.h"
#include "ingest/log.h"

/* The type filter: exact, or a prefix written "a.b.*". */
static int type_matches(const char *filter, const char *type)
{
	size_t n = strlen(filter);

	if (n >= 2 && strcmp(filter + n - 2, ".*") == 0)
		return strncmp(type, filter, n - 2) == 0 &&
		       (type[n - 2] == 0 || type[n - 2] == '.');
	return strcmp(filter, type) == 0;
}

int alog_population_check(const struct alog_population_query *q,
			  struct alog_err *err)
{
	char t[ALOG_TIME_TEXT_MAX];

	if (q->from_us >= q->to_us)
		return alog_err_set(err, ALOG_EINVAL,
				    "the period is empty: --from must come before --to");
	if (alog_time_format(q->from_us, t) < 0 ||
	    alog_time_format(q->to_us, t) < 0)
		return alog_err_set(err, ALOG_EINVAL,
				    "the period lies outside years 0000..9999");
	if (q->type && (!q->type[0] || strlen(q->type) > ALOG_EVENT_TYPE_MAX + 2 ||
			strchr(q->type, '"') || strchr(q->type, '\\')))
		return alog_err_set(err, ALOG_EINVAL,
				    "--type must be an event type, or one followed by .*");
	if (q->component && (!q->component[0] ||
			     strlen(q->component) > ALOG_EVENT_COMPONENT_MAX ||
			     strchr(q->component, '"') ||
			     strchr(q->component, '\\')))
		return alog_err_set(err, ALOG_EINVAL,
				    "--component must be a component name of at most %d bytes",
				    ALOG_EVENT_COMPONENT_MAX);
	return 0;
}

int alog_population_text(const struct alog_population_query *q,
			 struct alog_buf *out, struct alog_err *err)
{
	char from[ALOG_TIME_TEXT_MAX], to[ALOG_TIME_TEXT_MAX];
	size_t n;
	int rc;

	alog_time_format(q->from_us, from);
	alog_time_format(q->to_us, to);
	rc = alog_buf_addf(out, err, "received >= \"%s\" and received < \"%s\"",
			   from, to);
	if (rc == 0 && q->type) {
		n = strlen(q->type);
		rc = alog_buf_addf(out, err, " and type %s \"%s\"",
				   n >= 2 && strcmp(q->type + n - 2, ".*") == 0 ?
				   "matches" : "=", q->type);
	}
	if (rc == 0 && q->component)
		rc = alog_buf_addf(out, err, " and component = \"%s\"",
				   q->component);
	return rc;
}

int alog_population_begin(struct alog_store *s,
			  const struct alog_population_query *q,
			  struct alog_population_pass *p,
			  struct alog_population *out, struct alog_err *err)
{
	EVP_MD_CTX *md;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(p, 0, sizeof(*p));
	rc = alog_population_check(q, err);
	if (rc == 0)
		rc = alog_store_find_time(s, q->from_us, alog_log_record_received,
					  &out->index_from, err);
	if (rc == 0)
		rc = alog_store_find_time(s, q->to_us, alog_log_record_received,
					  &out->index_to, err);
	if (rc < 0)
		return rc;
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return alog_err_set(err, ALOG_ENOMEM, "sha-256 context");
	}
	p->out = out;
	p->from_us = q->from_us;
	p->to_us = q->to_us;
	p->md = md;
	return 0;
}

int alog_population_count(struct alog_population_pass *p, uint64_t index,
			  int64_t received_us, struct alog_err *err)
{
	if (received_us < p->from_us || received_us >= p->to_us)
		return alog_err_set(err, ALOG_ECORRUPT, "record %" PRIu64
				    ": received outside the period its index places it in",
				    index);
	if (p->out->count == 0)
		p->out->first_received = received_us;
	p->out->last_received = received_us;
	p->out->count++;
	return 0;
}

int alog_population_hash(struct alog_population_pass *p,
			 const unsigned char *bytes, size_t len,
			 struct alog_err *err)
{
	if (EVP_DigestUpdate(p->md, bytes, len) != 1)
		return alog_err_set(err, ALOG_ENOMEM, "sha-256 failed");
	return 0;
}

int alog_population_add(struct alog_population_pass *p, uint64_t index,
			const unsigned char *rec, size_t len,
			int64_t received_us, struct alog_err *err)
{
	int rc = alog_population_count(p, index, received_us, err);

	if (rc == 0)
		rc = alog_population_hash(p, rec, len, err);
	if (rc == 0)
		rc = alog_population_hash(p, (const unsigned char *)"\n", 1,
					  err);
	return rc;
}

int alog_population_end(struct alog_population_pass *p, int ok,
			struct alog_err *err)
{
	unsigned int hlen = 0;
	int rc = 0;

	if (ok && EVP_DigestFinal_ex(p->md, p->out->sha256, &hlen) != 1)
		rc = alog_err_set(err, ALOG_ENOMEM, "sha-256 failed");
	EVP_MD_CTX_free(p->md);
	p->md = NULL;
	return rc;
}

struct run {
	const struct alog_population_query *q;
	alog_population_fn fn;
	void *ctx;
	struct alog_population_pass pass;
	struct alog_event ev;
	struct alog_err *err;
};

static int member(void *ctx, uint64_t index, const unsigned char *rec,
		  size_t len)
{
	struct run *r = ctx;
	struct alog_record_view v;
	struct alog_err perr = { 0 };
	int rc = alog_record_peek_at(index, rec, len, &v, r->err);

	if (rc < 0)
		return rc;
	if (r->q->type || r->q->component) {
		rc = alog_event_parse(&r->ev, v.event, v.event_len, &perr);
		if (rc < 0)
			return alog_err_set(r->err, ALOG_ECORRUPT, "record %"
					    PRIu64 ": event: %s", index,
					    perr.msg);
		if (r->q->type && !type_matches(r->q->type, r->ev.type))
			return 0;
		if (r->q->component &&
		    (r->ev.component_state != ALOG_COMPONENT_PLAIN ||
		     strcmp(r->ev.component, r->q->component) != 0))
			return 0;
	}
	rc = alog_population_add(&r->pass, index, rec, len, v.received_us,
				 r->err);
	if (rc == 0 && r->fn)
		rc = r->fn(r->ctx, index, rec, len);
	return rc;
}

int alog_population_run(struct alog_store *s,
			const struct alog_population_query *q,
			alog_population_fn fn, void *ctx,
			struct alog_population *out, struct alog_err *err)
{
	struct run r;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = alog_population_begin(s, q, &r.pass, out, err);
	if (rc < 0)
		return rc;
	r.q = q;
	r.fn = fn;
	r.ctx = ctx;
	r.err = err;
	alog_event_init(&r.ev);
	rc = alog_store_read(s, out->index_from, out->index_to, member, &r,
			     err);
	rc = alog_population_end(&r.pass, rc == 0, err) < 0 && rc == 0 ?
	     ALOG_ENOMEM : rc;
	alog_event_release(&r.ev);
	return rc;
}
