/*
 * event: see event.h. SPEC.md "Events", "Bad input", "Canonical record",
 * "Provenance".
 *
 * Both the producer's line and the stored record are read with the one
 * JSON scanner of ingest/json.c. Invariants: after a successful
 * alog_event_parse, ev->canon holds bytes that alog_record_format accepts
 * unchanged; alog_record_parse accepts exactly the bytes
 * alog_record_format can produce, so format(parse(r)) == r.
 */
#include "ingest/event.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ingest/clock.h"
#include "ingest/json.h"

static const char *const reject_names[] = {
	[ALOG_REJECT_NONE] = "none",
	[ALOG_REJECT_EMPTY] = "empty",
	[ALOG_REJECT_TOO_LONG] = "too_long",
	[ALOG_REJECT_NOT_JSON] = "not_json",
	[ALOG_REJECT_NOT_OBJECT] = "not_object",
	[ALOG_REJECT_BAD_UTF8] = "bad_utf8",
	[ALOG_REJECT_NUL] = "nul",
	[ALOG_REJECT_DUPLICATE_KEY] = "duplicate_key",
	[ALOG_REJECT_NUMBER_RANGE] = "number_range",
	[ALOG_REJECT_TOO_DEEP] = "too_deep",
	[ALOG_REJECT_TOO_MANY_MEMBERS] = "too_many_members",
	[ALOG_REJECT_BAD_FIELD] = "bad_field",
	[ALOG_REJECT_RESERVED_TYPE] = "reserved_type",
	[ALOG_REJECT_RESERVED_COMPONENT] = "reserved_component",
};

const char *alog_reject_name(enum alog_reject r)
{
	if ((unsigned)r >= sizeof(reject_names) / sizeof(reject_names[0]))
		return "unknown";
	return reject_names[r];
}

void alog_event_init(struct alog_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	alog_buf_init(&ev->canon, ALOG_EVENT_LINE_MAX);
}

void alog_event_release(struct alog_event *ev)
{
	if (!ev)
		return;
	alog_buf_release(&ev->canon);
	memset(ev, 0, sizeof(*ev));
}

/* The id/source alphabet: printable ASCII 0x21..0x7E but '"' and '\\'. */
static int id_char(unsigned char c)
{
	return c >= 0x21 && c <= 0x7E && c != '"' && c != '\\';
}

static int id_valid(const char *s, size_t len, size_t max)
{
	size_t i = 0;

	if (len < 1 || len > max)
		return 0;
#ifdef __SSE2__
	{
		/* below 0x21 as a signed byte: 0x00..0x20 and 0x80..0xFF */
		const __m128i lo = _mm_set1_epi8(0x21);
		const __m128i del = _mm_set1_epi8(0x7F);
		const __m128i quote = _mm_set1_epi8('"');
		const __m128i bslash = _mm_set1_epi8('\\');

		for (; i + 16 <= len; i += 16) {
			__m128i v = _mm_loadu_si128(
				(const __m128i *)(const void *)(s + i));

			if (_mm_movemask_epi8(_mm_or_si128(
				    _mm_or_si128(_mm_cmplt_epi8(v, lo),
						 _mm_cmpeq_epi8(v, del)),
				    _mm_or_si128(_mm_cmpeq_epi8(v, quote),
						 _mm_cmpeq_epi8(v, bslash)))))
				return 0;
		}
	}
#endif
	for (; i < len; i++)
		if (!id_char((unsigned char)s[i]))
			return 0;
	return 1;
}

/* type: segments of [a-z0-9_-], separated by single dots, first byte a
 * lower-case letter, 1..ALOG_EVENT_TYPE_MAX bytes. */
static int type_valid(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > ALOG_EVENT_TYPE_MAX)
		return 0;
	if (s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (i + 1 == len || s[i + 1] == '.')
				return 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int alog_event_type_reserved(const char *type)
{
#define PREFIX(s) { s, sizeof(s) - 1 }
	static const struct { const char *p; size_t n; } prefixes[] = {
		PREFIX("daemon"), PREFIX("store"), PREFIX("checkpoint"),
		PREFIX("backup"), PREFIX("admin"), PREFIX("integrity"),
		PREFIX("anomaly"), PREFIX("report"),
	};
#undef PREFIX
	size_t i, n;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		n = prefixes[i].n;
		/* type[0] first: most types differ there */
		if (type[0] == prefixes[i].p[0] &&
		    !strncmp(type, prefixes[i].p, n) &&
		    (type[n] == 0 || type[n] == '.'))
			return 1;
	}
	return 0;
}

/* ---- producer events ---------------------------------------------- */

enum { F_TYPE, F_ID, F_SOURCE, F_TIME, F_COUNT };

static const char *const field_names[F_COUNT] = {
	"type", "id", "source", "time",
};

struct envelope {
	struct alog_event *ev;   /* its component member is captured */
	struct {
		int present;
		enum alog_json_type type;
		int escaped;
		const char *text;   /* string contents, without quotes */
		size_t len;
		size_t off;         /* input offset of the value */
	} f[F_COUNT];
};

static int envelope_member(void *ctx, const struct alog_json_member *m,
			   struct alog_err *err)
{
	struct envelope *env = ctx;
	int i;

	if (m->key_len == 9 && memcmp(m->key, "component", 9) == 0 &&
	    env->ev->component_state == ALOG_COMPONENT_ABSENT) {
		/* kept for the ingest path's check of daemon-owned
		 * components (SPEC.md 17.6) */
		if (m->type == ALOG_JSON_STRING && !m->escaped &&
		    m->value_len - 2 <= ALOG_EVENT_COMPONENT_MAX) {
			memcpy(env->ev->component, m->value + 1,
			       m->value_len - 2);
			env->ev->component[m->value_len - 2] = 0;
			env->ev->component_state = ALOG_COMPONENT_PLAIN;
		} else {
			env->ev->component_state = ALOG_COMPONENT_OTHER;
		}
		return 0;
	}
	/* by length first: memcmp of a constant length is a compare or
	 * two, not a call, and most members are none of these */
	switch (m->key_len) {
	case 2:
		i = memcmp(m->key, "id", 2) == 0 ? F_ID : F_COUNT;
		break;
	case 4:
		i = memcmp(m->key, "type", 4) == 0 ? F_TYPE :
		    memcmp(m->key, "time", 4) == 0 ? F_TIME : F_COUNT;
		break;
	case 6:
		i = memcmp(m->key, "source", 6) == 0 ? F_SOURCE : F_COUNT;
		break;
	default:
		i = F_COUNT;
	}
	/* a second one is caught as duplicate_key when the object closes;
	 * keep the first */
	if (i == F_COUNT || env->f[i].present)
		return 0;
	env->f[i].present = 1;
	env->f[i].type = m->type;
	env->f[i].escaped = m->escaped;
	env->f[i].off = m->value_off;
	if (m->type == ALOG_JSON_STRING) {
		env->f[i].text = m->value + 1;
		env->f[i].len = m->value_len - 2;
	}
	return 0;
}

static enum alog_reject reject_of(enum alog_json_fault f)
{
	switch (f) {
	case ALOG_JSON_OK: return ALOG_REJECT_NONE;
	case ALOG_JSON_BAD_UTF8: return ALOG_REJECT_BAD_UTF8;
	case ALOG_JSON_NUL: return ALOG_REJECT_NUL;
	case ALOG_JSON_DUPLICATE: return ALOG_REJECT_DUPLICATE_KEY;
	case ALOG_JSON_RANGE: return ALOG_REJECT_NUMBER_RANGE;
	case ALOG_JSON_DEPTH: return ALOG_REJECT_TOO_DEEP;
	case ALOG_JSON_MEMBERS: return ALOG_REJECT_TOO_MANY_MEMBERS;
	case ALOG_JSON_NOT_OBJECT: return ALOG_REJECT_NOT_OBJECT;
	case ALOG_JSON_NOMEM: return ALOG_REJECT_NONE;
	case ALOG_JSON_SYNTAX:
	case ALOG_JSON_WHITESPACE:
	case ALOG_JSON_STOPPED:
	default: return ALOG_REJECT_NOT_JSON;
	}
}

static int bad_field(struct alog_event *ev, struct alog_err *err, int i,
		     size_t off, const char *why)
{
	ev->reject = ALOG_REJECT_BAD_FIELD;
	return alog_err_set(err, ALOG_EINVAL, "field \"%s\" %s at byte %zu",
			    field_names[i], why, off);
}

static int check_envelope(struct alog_event *ev, const struct envelope *env,
			  struct alog_err *err)
{
	static const size_t max[F_COUNT] = {
		ALOG_EVENT_TYPE_MAX, ALOG_EVENT_ID_MAX, ALOG_EVENT_SOURCE_MAX,
		0,
	};
	char *dst[F_COUNT] = { ev->type, ev->id, ev->source, NULL };
	int i;

	if (!env->f[F_TYPE].present) {
		ev->reject = ALOG_REJECT_BAD_FIELD;
		return alog_err_set(err, ALOG_EINVAL,
				    "field \"type\" is missing from the "
				    "top-level object");
	}
	for (i = 0; i < F_COUNT; i++) {
		const char *t = env->f[i].text;
		size_t n = env->f[i].len, off = env->f[i].off;

		if (!env->f[i].present)
			continue;
		if (env->f[i].type != ALOG_JSON_STRING)
			return bad_field(ev, err, i, off, "must be a string");
		if (env->f[i].escaped)
			return bad_field(ev, err, i, off,
					 "must not contain escapes");
		if (i == F_TIME) {
			if (alog_time_parse(t, n, 0, &ev->time_us, err) < 0) {
				ev->reject = ALOG_REJECT_BAD_FIELD;
				alog_err_prefix(err, "field \"time\" at byte "
						"%zu", off);
				return ALOG_EINVAL;
			}
			ev->has_time = 1;
			continue;
		}
		if (i == F_TYPE ? !type_valid(t, n) : !id_valid(t, n, max[i]))
			return bad_field(ev, err, i, off, i == F_TYPE ?
				"must be 1..64 bytes of dot-separated "
				"[a-z0-9_-] segments starting with a letter" :
				"must be 1..128 printable ascii bytes");
		memcpy(dst[i], t, n);
		dst[i][n] = 0;
	}
	return 0;
}

static void event_clear(struct alog_event *ev)
{
	alog_buf_reset(&ev->canon);
	ev->type[0] = ev->id[0] = ev->source[0] = 0;
	ev->has_time = 0;
	ev->time_us = 0;
	ev->component_state = ALOG_COMPONENT_ABSENT;
	ev->component[0] = 0;
	ev->has_id_key = 0;
}

void alog_event_id_key(struct alog_event *ev, struct alog_hasher *h)
{
	if (!ev->id[0])
		return;
	alog_store_id_key(h, ev->source, ev->id, ev->id_key);
	ev->has_id_key = 1;
}

int alog_event_parse(struct alog_event *ev, const char *line, size_t len,
		     struct alog_err *err)
{
	struct alog_json_opts o;
	struct alog_json_result res;
	struct envelope env;
	size_t i;
	int rc;

	event_clear(ev);
	ev->reject = ALOG_REJECT_NONE;
	ev->canon.max = ALOG_EVENT_LINE_MAX;
	/* order of the first checks: SPEC.md "Bad input" */
	if (len > ALOG_EVENT_LINE_MAX) {
		ev->reject = ALOG_REJECT_TOO_LONG;
		return alog_err_set(err, ALOG_ELIMIT,
				    "line of %zu bytes exceeds the limit of "
				    "%d bytes", len, ALOG_EVENT_LINE_MAX);
	}
	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' &&
		    line[i] != '\n')
			break;
	if (i == len) {
		ev->reject = ALOG_REJECT_EMPTY;
		return alog_err_set(err, ALOG_EINVAL, "empty line");
	}

	memset(&env, 0, sizeof(env));
	env.ev = ev;
	memset(&o, 0, sizeof(o));
	o.depth_max = ALOG_EVENT_DEPTH_MAX;
	o.members_max = ALOG_EVENT_MEMBERS_MAX;
	o.object_only = 1;
	o.on_member = envelope_member;
	o.ctx = &env;
	rc = alog_json_scan(line, len, &o, &ev->canon, &res, err);
	if (rc < 0) {
		ev->reject = reject_of(res.fault);
		goto out;
	}
	rc = check_envelope(ev, &env, err);
out:
	if (rc < 0)
		event_clear(ev);
	return rc;
}

/* ---- canonical records -------------------------------------------- */

static const char *const prov_names[] = {
	"transport", "uid", "gid", "pid", "addr", "subject",
};
#define N_PROV (sizeof(prov_names) / sizeof(prov_names[0]))

static int add_prov_sep(struct alog_buf *out, int *first, const char *name,
			struct alog_err *err)
{
	int rc = 0;

	if (!*first)
		rc = alog_buf_addc(out, ',', err);
	*first = 0;
	if (rc == 0)
		rc = alog_buf_addc(out, '"', err);
	if (rc == 0)
		rc = alog_buf_adds(out, name, err);
	if (rc == 0)
		rc = alog_buf_adds(out, "\":", err);
	return rc;
}

static int check_prov(const char *p, size_t len, size_t base,
		      struct alog_err *err);

/* v in decimal. */
static int add_u64(struct alog_buf *out, uint64_t v, struct alog_err *err)
{
	char d[20];
	size_t n = sizeof(d);

	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return alog_buf_add(out, d + n, sizeof(d) - n, err);
}

static int format_prov(const struct alog_provenance *p, struct alog_buf *out,
		       struct alog_err *err)
{
	const char *strs[N_PROV] = { p->transport, NULL, NULL, NULL, p->addr,
				     p->subject };
	int64_t nums[N_PROV] = { -1, p->uid, p->gid, p->pid, -1, -1 };
	int first = 1, rc = 0;
	size_t i;

	if (p->raw) {
		/* a spooled record's provenance, written by the daemon:
		 * copied when it is exactly what format_prov would write */
		if (p->raw_len < 2 || p->raw[0] != '{' ||
		    p->raw[p->raw_len - 1] != '}' ||
		    check_prov(p->raw, p->raw_len, 0, err) < 0) {
			alog_err_prefix(err, "provenance is not canonical");
			if (err)
				err->code = ALOG_EINVAL;
			return ALOG_EINVAL;
		}
		return alog_buf_add(out, p->raw + 1, p->raw_len - 2, err);
	}
	for (i = 0; rc == 0 && i < N_PROV; i++) {
		if (strs[i]) {
			rc = add_prov_sep(out, &first, prov_names[i], err);
			if (rc == 0)
				rc = alog_json_string_format(out, strs[i],
					strlen(strs[i]), err);
			if (rc < 0)
				alog_err_prefix(err, "provenance \"%s\"",
						prov_names[i]);
		} else if (nums[i] >= 0) {
			/* the record reader refuses integers past 2^53-1 */
			if (nums[i] > ALOG_JSON_INT_MAX)
				return alog_err_set(err, ALOG_EINVAL,
					"provenance \"%s\" %" PRId64
					" beyond 2^53-1", prov_names[i],
					nums[i]);
			rc = add_prov_sep(out, &first, prov_names[i], err);
			if (rc == 0)
				rc = add_u64(out, (uint64_t)nums[i], err);
		}
	}
	return rc;
}

int alog_provenance_is_internal(const char *p, size_t len)
{
	/* canonical: transport comes first, its string written exactly */
	static const char prefix[] = "{\"transport\":\"internal\"";

	return len >= sizeof(prefix) - 1 &&
	       memcmp(p, prefix, sizeof(prefix) - 1) == 0;
}

int alog_provenance_unix_uid(const char *p, size_t len, int64_t *uid)
{
	/* canonical: {"transport":"unix","uid":U, with U a plain integer
	 * of at most 16 digits (2^53 - 1 has 16) */
	static const char prefix[] = "{\"transport\":\"unix\",\"uid\":";
	size_t i = sizeof(prefix) - 1, n = 0;
	int64_t v = 0;

	if (len < i || memcmp(p, prefix, i) != 0)
		return -1;
	for (; i < len && p[i] >= '0' && p[i] <= '9' && n < 16; i++, n++)
		v = v * 10 + (p[i] - '0');
	if (n == 0 || i >= len || (p[i] != ',' && p[i] != '}'))
		return -1;
	*uid = v;
	return 0;
}

int alog_provenance_format(const struct alog_provenance *p,
			   struct alog_buf *out, struct alog_err *err)
{
	size_t start = out->len;
	int rc;

	rc = alog_buf_addc(out, '{', err);
	if (rc == 0)
		rc = format_prov(p, out, err);
	if (rc == 0)
		rc = alog_buf_addc(out, '}', err);
	if (rc < 0)
		out->len = start;
	return rc;
}

/* alog_record_format; check_event = 0 skips the scan of event (the caller
 * knows it is the canonical form alog_event_parse wrote). */
static int record_format(uint64_t index, int64_t received_us, const char *id,
			 const struct alog_provenance *prov,
			 const unsigned char *event, size_t event_len,
			 int check_event, struct alog_buf *out,
			 struct alog_err *err)
{
	struct alog_json_opts o;
	struct alog_json_result res;
	char ts[ALOG_TIME_TEXT_MAX];
	size_t start = out->len, id_len = id ? strlen(id) : 0;
	int rc;

	if (index > ALOG_RECORD_INDEX_MAX)
		return alog_err_set(err, ALOG_EINVAL,
				    "record index %" PRIu64 " beyond 2^53-1",
				    index);
	if (alog_time_format(received_us, ts) < 0)
		return alog_err_set(err, ALOG_EINVAL,
				    "received time %" PRId64
				    " us outside years 0000..9999",
				    received_us);
	if (!id || !id_valid(id, id_len, ALOG_EVENT_ID_MAX))
		return alog_err_set(err, ALOG_EINVAL,
				    "record id must be 1..%d printable ascii "
				    "bytes without '\"' or '\\'",
				    ALOG_EVENT_ID_MAX);
	if (event_len > ALOG_EVENT_LINE_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "event of %zu bytes exceeds the limit of "
				    "%d bytes", event_len,
				    ALOG_EVENT_LINE_MAX);
	/* never write a record that alog_record_parse would call corrupt */
	if (check_event) {
		memset(&o, 0, sizeof(o));
		o.depth_max = ALOG_EVENT_DEPTH_MAX;
		o.members_max = ALOG_EVENT_MEMBERS_MAX;
		o.object_only = 1;
		o.no_whitespace = 1;
		rc = alog_json_scan((const char *)event, event_len, &o, NULL,
				    &res, err);
		if (rc < 0) {
			if (res.fault == ALOG_JSON_NOMEM)
				return rc;
			alog_err_prefix(err, "event is not canonical");
			if (err)
				err->code = ALOG_EINVAL;
			return ALOG_EINVAL;
		}
	}
	/* the writer's hot path: assembled without printf */
#define ADD_TEXT(lit) alog_buf_add(out, lit, sizeof(lit) - 1, err)
	rc = ADD_TEXT("{\"index\":");
	if (rc == 0)
		rc = add_u64(out, index, err);
	if (rc == 0)
		rc = ADD_TEXT(",\"received\":\"");
	if (rc == 0)
		rc = alog_buf_add(out, ts, ALOG_TIME_RECORD_LEN, err);
	if (rc == 0)
		rc = ADD_TEXT("\",\"id\":\"");
	if (rc == 0)
		rc = alog_buf_add(out, id, id_len, err);
	if (rc == 0)
		rc = ADD_TEXT("\",\"provenance\":{");
	if (rc == 0 && prov)
		rc = format_prov(prov, out, err);
	if (rc == 0)
		rc = ADD_TEXT("},\"event\":");
#undef ADD_TEXT
	if (rc == 0)
		rc = alog_buf_add(out, event, event_len, err);
	if (rc == 0)
		rc = alog_buf_addc(out, '}', err);
	if (rc == 0 && out->len - start - event_len > ALOG_RECORD_WRAPPER_MAX)
		rc = alog_err_set(err, ALOG_ELIMIT,
				  "record wrapper of %zu bytes exceeds the "
				  "limit of %d bytes",
				  out->len - start - event_len,
				  ALOG_RECORD_WRAPPER_MAX);
	if (rc < 0) {
		out->len = start;
		if (out->data)
			out->data[start] = 0;
	}
	return rc;
}

int alog_record_format(uint64_t index, int64_t received_us, const char *id,
		       const struct alog_provenance *prov,
		       const unsigned char *event, size_t event_len,
		       struct alog_buf *out, struct alog_err *err)
{
	return record_format(index, received_us, id, prov, event, event_len,
			     1, out, err);
}

int alog_record_format_parsed(uint64_t index, int64_t received_us,
			      const struct alog_provenance *prov,
			      const struct alog_event *ev,
			      struct alog_buf *out, struct alog_err *err)
{
	return record_format(index, received_us, ev->id, prov,
			     ev->canon.data, ev->canon.len, 0, out, err);
}

/* ---- reading stored records ---------------------------------------- */

static const char *const rec_names[] = {
	"index", "received", "id", "provenance", "event",
};
#define N_REC (sizeof(rec_names) / sizeof(rec_names[0]))

struct rec_ctx {
	size_t n;               /* members seen */
	struct alog_record_view *v;
};

struct prov_ctx {
	size_t next;            /* first prov_names index still allowed */
	size_t base;            /* record offset of the provenance object */
};

static int corrupt(struct alog_err *err, size_t off, const char *what)
{
	return alog_err_set(err, ALOG_ECORRUPT, "record: %s at byte %zu",
			    what, off);
}

static int key_is(const struct alog_json_member *m, const char *name)
{
	return m->raw_key_len == strlen(name) &&
	       !memcmp(m->raw_key, name, m->raw_key_len);
}

/* String contents use only the escapes alog_json_string_format writes. */
static int canonical_escapes(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] != '\\')
			continue;
		if (i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\')) {
			i++;
			continue;
		}
		if (n - i >= 6 && !memcmp(s + i + 1, "u00", 3) &&
		    (s[i + 4] == '0' || s[i + 4] == '1') &&
		    ((s[i + 5] >= '0' && s[i + 5] <= '9') ||
		     (s[i + 5] >= 'a' && s[i + 5] <= 'f'))) {
			i += 5;
			continue;
		}
		return 0;
	}
	return 1;
}

static int prov_member(void *ctx, const struct alog_json_member *m,
		       struct alog_err *err)
{
	struct prov_ctx *pc = ctx;
	size_t i, off = pc->base + m->key_off;

	for (i = pc->next; i < N_PROV; i++)
		if (key_is(m, prov_names[i]))
			break;
	if (i == N_PROV)
		return corrupt(err, off, "unknown or misordered provenance "
			       "member");
	pc->next = i + 1;
	off = pc->base + m->value_off;
	if (i == 1 || i == 2 || i == 3) {
		if (m->type != ALOG_JSON_NUMBER || !m->integer ||
		    m->value[0] == '-')
			return corrupt(err, off, "provenance id must be a "
				       "non-negative integer");
		return 0;
	}
	if (m->type != ALOG_JSON_STRING ||
	    !canonical_escapes(m->value + 1, m->value_len - 2))
		return corrupt(err, off, "provenance string not canonical");
	return 0;
}

static int check_prov(const char *p, size_t len, size_t base,
		      struct alog_err *err)
{
	struct alog_json_opts o;
	struct alog_json_result res;
	struct prov_ctx pc;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&pc, 0, sizeof(pc));
	pc.base = base;
	o.depth_max = 1;
	o.object_only = 1;
	o.no_whitespace = 1;
	o.on_member = prov_member;
	o.ctx = &pc;
	/* the record scan already checked the json; this checks the shape */
	rc = alog_json_scan(p, len, &o, NULL, &res, err);
	if (rc < 0 && res.fault != ALOG_JSON_STOPPED &&
	    res.fault != ALOG_JSON_NOMEM)
		return corrupt(err, base + res.off, "provenance must hold "
			       "only strings and integers");
	return rc;
}

static int record_member(void *ctx, const struct alog_json_member *m,
			 struct alog_err *err)
{
	struct rec_ctx *rc = ctx;
	struct alog_record_view *v = rc->v;
	uint64_t x = 0;
	size_t i;

	if (rc->n >= N_REC)
		return corrupt(err, m->key_off, "unexpected member");
	if (!key_is(m, rec_names[rc->n])) {
		char what[64];

		snprintf(what, sizeof(what), "member \"%s\" expected",
			 rec_names[rc->n]);
		return corrupt(err, m->key_off, what);
	}
	switch (rc->n++) {
	case 0:
		if (m->type != ALOG_JSON_NUMBER || !m->integer ||
		    m->value[0] == '-')
			return corrupt(err, m->value_off,
				       "index must be a non-negative integer");
		for (i = 0; i < m->value_len; i++)
			x = x * 10 + (uint64_t)(m->value[i] - '0');
		v->index = x;
		break;
	case 1:
		if (m->type != ALOG_JSON_STRING || m->escaped ||
		    alog_time_parse_record(m->value + 1, m->value_len - 2,
					   &v->received_us) < 0)
			return corrupt(err, m->value_off, "received must be "
				       "yyyy-mm-ddThh:mm:ss.ffffffZ");
		break;
	case 2:
		if (m->type != ALOG_JSON_STRING ||
		    !id_valid(m->value + 1, m->value_len - 2,
			      ALOG_EVENT_ID_MAX))
			return corrupt(err, m->value_off, "bad record id");
		v->id = m->value + 1;
		v->id_len = m->value_len - 2;
		break;
	case 3:
		if (m->type != ALOG_JSON_OBJECT)
			return corrupt(err, m->value_off,
				       "provenance must be an object");
		v->prov = m->value;
		v->prov_len = m->value_len;
		return check_prov(m->value, m->value_len, m->value_off, err);
	case 4:
		if (m->type != ALOG_JSON_OBJECT)
			return corrupt(err, m->value_off,
				       "event must be an object");
		if (m->value_len > ALOG_EVENT_LINE_MAX)
			return corrupt(err, m->value_off,
				       "event longer than the line limit");
		v->event = m->value;
		v->event_len = m->value_len;
		break;
	}
	return 0;
}

/* ---- the fast check: records as the writer makes them ------------------ */

/*
 * verify reads every record of the log, and the JSON scanner above (a
 * general one: escapes, numbers through strtod, keys compared decoded)
 * was most of its time. Nearly every record is plain: strings without
 * escapes, short numbers. fast_parse reads exactly those and says 1 only
 * for records that record_parse_full accepts too, filling the same view;
 * for anything else (an escape, an exponent, a long number, deep nesting,
 * many members, and every fault) it
 * says 0 and alog_record_parse asks the full scan, whose verdict and
 * message stand. So the check stays exactly as strict: fast_parse only
 * ever accepts a subset of what the full scan accepts (test_event's
 * mutation test holds it to that, byte by byte).
 */
#define FAST_DEPTH 16   /* record = 1; below ALOG_EVENT_DEPTH_MAX + 1 */
#define FAST_MEMBERS 32 /* per object; below ALOG_EVENT_MEMBERS_MAX */
#define FAST_KEYS 256   /* keys of the open objects, all levels */

/*
 * A record has some 35 strings, most of them a few bytes long: rather than
 * a vector scan from each one's start, the bytes that may end a string
 * (alog_json_unplain64) are found 64 at a time, once, and each string's
 * end is the next set bit. Reads only move forward: a position is never
 * below base.
 */
struct fast_scan {
	const char *base;   /* mask covers [base, base + 64) */
	const char *end;    /* of the record */
	uint64_t mask;      /* alog_json_unplain64(base, end) */
};

static void fast_scan_init(struct fast_scan *sc, const char *p,
			   const char *end)
{
	sc->base = p;
	sc->end = end;
	sc->mask = p < end ? alog_json_unplain64(p, end) : ~(uint64_t)0;
}

static unsigned low_bit(uint64_t m)
{
#if defined(__GNUC__)
	return (unsigned)__builtin_ctzll(m);
#else
	unsigned i = 0;

	while (!(m & 1)) {
		m >>= 1;
		i++;
	}
	return i;
#endif
}

/* The first byte at or after p (p >= sc->base) that is not a plain
 * string byte, or sc->end. */
static inline const char *fast_unplain(struct fast_scan *sc,
				       const char *p)
{
	for (;;) {
		size_t off = (size_t)(p - sc->base);

		if (off < 64) {
			uint64_t m = sc->mask >> off;

			if (m)
				return p + low_bit(m);
			p = sc->base + 64;
		}
		if (p >= sc->end)
			return sc->end;
		sc->base = p;
		sc->mask = alog_json_unplain64(p, sc->end);
	}
}

static int expect(const char **p, const char *end, const char *lit, size_t n)
{
	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return -1;
	*p += n;
	return 0;
}

#define LIT(s) s, sizeof(s) - 1

/* The closing quote of a plain string starting at p (no escape, no
 * control byte, valid UTF-8), or NULL when it is not one or is cut. */
static inline const char *plain_string_end(struct fast_scan *sc,
					   const char *p)
{
	const char *end = sc->end;

	for (;;) {
		unsigned char c;
		size_t k;

		p = fast_unplain(sc, p);
		if (p >= end)
			return NULL;
		c = (unsigned char)*p;
		if (c < 0x80)
			return c == '"' ? p : NULL;
		k = alog_json_utf8_seq(p, (size_t)(end - p));
		if (!k)
			return NULL;
		p += k;
	}
}

/* A short plain number (optional '-' when neg, no leading zero, at most
 * 15 integer digits, a fraction only when frac, no exponent): the byte
 * after it, or NULL. Without an exponent and with at most 15 integer
 * digits it is finite, which is all the full scan asks of a fraction. */
static const char *plain_num_end(const char *p, const char *end, int neg,
				 int frac)
{
	const char *d;

	if (neg && p < end && *p == '-')
		p++;
	d = p;
	if (p < end && *p == '0')
		p++;
	else
		while (p < end && *p >= '0' && *p <= '9' && p - d < 16)
			p++;
	if (p == d || p - d > 15 || p >= end || (*p >= '0' && *p <= '9'))
		return NULL;
	if (*p == '.' && frac) {
		d = ++p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == d || p >= end)
			return NULL;
	}
	if (*p == '.' || *p == 'e' || *p == 'E')
		return NULL;
	return p;
}

/* The keys of the open objects. Each object keeps a 64-bit filter of its
 * keys (alog_json_key_bit): a new key is compared byte for byte with the
 * object's earlier keys only when its bit is already set (a repeated key
 * always finds its bit set), not with each of them as a pair. */
struct fast_keys {
	const char *k[FAST_KEYS];
	size_t len[FAST_KEYS];
};

/* A plain JSON value at p at depth (the record is 1), whitespace-free,
 * every object's keys distinct byte for byte (they are plain, so byte
 * equality is decoded equality). The byte after it, or NULL. */
static const char *fast_value(struct fast_scan *sc, const char *p)
{
	const char *end = sc->end;
	/* explicit stack: for each open container, 1 object / 0 array,
	 * where its keys start in keys, and its keys' filter */
	unsigned char is_obj[FAST_DEPTH + 1];
	size_t key0[FAST_DEPTH + 1];
	uint64_t seen[FAST_DEPTH + 1];
	struct fast_keys keys;
	size_t nk = 0;
	int depth = 1; /* the record's object is open */

	for (;;) {
		/* a value at p */
		if (p >= end)
			return NULL;
		switch (*p) {
		case '"':
			p = plain_string_end(sc, p + 1);
			if (!p)
				return NULL;
			p++;
			break;
		case '{': case '[':
			if (depth >= FAST_DEPTH)
				return NULL;
			is_obj[depth] = *p == '{';
			key0[depth] = nk;
			seen[depth] = 0;
			depth++;
			p++;
			if (p < end && *p == (is_obj[depth - 1] ? '}' : ']')) {
				depth--;
				p++;
				break;
			}
			if (is_obj[depth - 1])
				goto key;
			continue;
		case 't':
			if (end - p < 4 || memcmp(p, "true", 4))
				return NULL;
			p += 4;
			break;
		case 'f':
			if (end - p < 5 || memcmp(p, "false", 5))
				return NULL;
			p += 5;
			break;
		case 'n':
			if (end - p < 4 || memcmp(p, "null", 4))
				return NULL;
			p += 4;
			break;
		default:
			p = plain_num_end(p, end, 1, 1);
			if (!p)
				return NULL;
			break;
		}
		/* after a value: a separator or the end of containers */
		for (;;) {
			if (depth == 1)
				return p;
			if (p >= end)
				return NULL;
			if (*p == ',') {
				p++;
				if (is_obj[depth - 1])
					goto key;
				goto next_value;
			}
			if (*p != (is_obj[depth - 1] ? '}' : ']'))
				return NULL;
			if (is_obj[depth - 1])
				nk = key0[depth - 1];
			depth--;
			p++;
		}
key:
		{
			const char *q;
			size_t len, i;
			uint64_t bit;

			if (p >= end || *p != '"' || nk >= FAST_KEYS ||
			    nk - key0[depth - 1] >= FAST_MEMBERS)
				return NULL;
			q = plain_string_end(sc, p + 1);
			if (!q || q + 1 >= end || q[1] != ':')
				return NULL;
			len = (size_t)(q - p - 1);
			bit = (uint64_t)1 << alog_json_key_bit(p + 1, len);
			if (seen[depth - 1] & bit) {
				/* distinct from each earlier key */
				for (i = key0[depth - 1]; i < nk; i++)
					if (keys.len[i] == len &&
					    !memcmp(keys.k[i], p + 1, len))
						return NULL;
			}
			seen[depth - 1] |= bit;
			keys.k[nk] = p + 1;
			keys.len[nk] = len;
			nk++;
			p = q + 2;
		}
next_value:
		;
	}
}

static const size_t prov_lens[] = { 9, 3, 3, 3, 4, 7 };
_Static_assert(sizeof(prov_lens) / sizeof(prov_lens[0]) == N_PROV,
	       "a length for each provenance member");

static int fast_parse(const char *rec, size_t len,
		      struct alog_record_view *out)
{
	const char *p = rec, *end = rec + len, *q;
	struct fast_scan sc;
	uint64_t index = 0;
	size_t next = 0;

	if (len > ALOG_RECORD_MAX || expect(&p, end, LIT("{\"index\":")) < 0)
		return 0;
	fast_scan_init(&sc, p, end);
	q = plain_num_end(p, end, 0, 0);
	if (!q)
		return 0;
	for (; p < q; p++)
		index = index * 10 + (uint64_t)(*p - '0');
	out->index = index;
	if (expect(&p, end, LIT(",\"received\":\"")) < 0)
		return 0;
	q = plain_string_end(&sc, p);
	if (!q || alog_time_parse_record(p, (size_t)(q - p),
					 &out->received_us) < 0)
		return 0;
	p = q + 1;
	if (expect(&p, end, LIT(",\"id\":\"")) < 0)
		return 0;
	q = plain_string_end(&sc, p);
	if (!q || !id_valid(p, (size_t)(q - p), ALOG_EVENT_ID_MAX))
		return 0;
	out->id = p;
	out->id_len = (size_t)(q - p);
	p = q + 1;
	if (expect(&p, end, LIT(",\"provenance\":{")) < 0)
		return 0;
	out->prov = p - 1;
	/* members of prov_names in that order; numbers for uid, gid and
	 * pid, plain strings (their escapes are trivially canonical) for
	 * the others */
	if (p < end && *p != '}') {
		for (;;) {
			size_t i;

			if (p >= end || *p != '"')
				return 0;
			q = plain_string_end(&sc, p + 1);
			if (!q || q + 1 >= end || q[1] != ':')
				return 0;
			for (i = next; i < N_PROV; i++)
				if (prov_lens[i] == (size_t)(q - p - 1) &&
				    !memcmp(prov_names[i], p + 1,
					    (size_t)(q - p - 1)))
					break;
			if (i == N_PROV)
				return 0;
			next = i + 1;
			p = q + 2;
			if (i == 1 || i == 2 || i == 3) {
				p = plain_num_end(p, end, 0, 0);
			} else {
				if (p >= end || *p != '"')
					return 0;
				p = plain_string_end(&sc, p + 1);
				if (p)
					p++;
			}
			if (!p || p >= end)
				return 0;
			if (*p == '}')
				break;
			if (*p != ',')
				return 0;
			p++;
		}
	}
	if (p >= end || *p != '}')
		return 0;
	p++;
	out->prov_len = (size_t)(p - out->prov);
	if (expect(&p, end, LIT(",\"event\":")) < 0 || p >= end || *p != '{')
		return 0;
	q = fast_value(&sc, p);
	if (!q || (size_t)(q - p) > ALOG_EVENT_LINE_MAX || q + 1 != end ||
	    *q != '}')
		return 0;
	out->event = p;
	out->event_len = (size_t)(q - p);
	return 1;
}

int alog_record_parse_fast(const char *rec, size_t len,
			   struct alog_record_view *out)
{
	memset(out, 0, sizeof(*out));
	if (fast_parse(rec, len, out))
		return 1;
	memset(out, 0, sizeof(*out));
	return 0;
}

int alog_record_parse_full(const char *rec, size_t len,
			   struct alog_record_view *out, struct alog_err *err)
{
	struct alog_json_opts o;
	struct alog_json_result res;
	struct rec_ctx ctx;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > ALOG_RECORD_MAX)
		return corrupt(err, ALOG_RECORD_MAX, "record longer than "
			       "ALOG_RECORD_MAX");
	memset(&o, 0, sizeof(o));
	memset(&ctx, 0, sizeof(ctx));
	ctx.v = out;
	/* the event sits one level below the record's object */
	o.depth_max = ALOG_EVENT_DEPTH_MAX + 1;
	o.members_max = ALOG_EVENT_MEMBERS_MAX;
	o.object_only = 1;
	o.no_whitespace = 1;
	o.on_member = record_member;
	o.ctx = &ctx;
	rc = alog_json_scan(rec, len, &o, NULL, &res, err);
	if (rc < 0) {
		if (res.fault != ALOG_JSON_STOPPED &&
		    res.fault != ALOG_JSON_NOMEM)
			rc = corrupt(err, res.off, res.what);
		goto out;
	}
	if (ctx.n != N_REC) {
		char what[64];

		snprintf(what, sizeof(what), "member \"%s\" missing",
			 rec_names[ctx.n]);
		rc = corrupt(err, len ? len - 1 : 0, what);
	}
out:
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int alog_record_parse(const char *rec, size_t len,
		      struct alog_record_view *out, struct alog_err *err)
{
	if (alog_record_parse_fast(rec, len, out))
		return 0;
	return alog_record_parse_full(rec, len, out, err);
}

/* ---- peeking: the reporter's fast reader ------------------------------ */

/* The closing quote of the string whose opening quote is at p[-1]: the
 * first quote not escaped (preceded by an even run of backslashes). end
 * when there is none; *esc set when the string holds a backslash. */
static const char *string_end(const char *p, const char *end, int *esc)
{
	const char *start = p;

	for (;;) {
		const char *q = memchr(p, '"', (size_t)(end - p));
		const char *b;

		if (!q)
			return end;
		for (b = q; b > p && b[-1] == '\\'; b--)
			;
		if (((q - b) & 1) == 0) {
			if (esc && memchr(start, '\\', (size_t)(q - start)))
				*esc = 1;
			return q;
		}
		p = q + 1;
	}
}

/* The byte after the value starting at p (an object, array, string or
 * scalar), or NULL when it is cut or unbalanced. */
static const char *value_end(const char *p, const char *end)
{
	int depth = 0;

	if (p >= end)
		return NULL;
	if (*p != '{' && *p != '[' && *p != '"') {
		while (p < end && *p != ',' && *p != '}' && *p != ']')
			p++;
		return p;
	}
	while (p < end) {
		switch (*p) {
		case '"':
			p = string_end(p + 1, end, NULL);
			if (p == end)
				return NULL;
			break;
		case '{': case '[':
			depth++;
			break;
		case '}': case ']':
			depth--;
			break;
		default:
			break;
		}
		p++;
		if (depth == 0)
			return p;
	}
	return NULL;
}


int alog_record_peek(const char *rec, size_t len,
		     struct alog_record_view *out, struct alog_err *err)
{
	const char *p = rec, *end = rec + len, *q;
	const char *what;
	uint64_t index = 0;
	size_t digits = 0;

	memset(out, 0, sizeof(*out));
	what = "record longer than ALOG_RECORD_MAX";
	if (len > ALOG_RECORD_MAX)
		goto bad;
	what = "\"index\" expected";
	if (expect(&p, end, LIT("{\"index\":")) < 0)
		goto bad;
	for (; p < end && *p >= '0' && *p <= '9' && digits < 16; p++, digits++)
		index = index * 10 + (uint64_t)(*p - '0');
	what = "bad index";
	if (digits == 0 || (digits > 1 && p[-(ptrdiff_t)digits] == '0'))
		goto bad;
	what = "\"received\" expected";
	if (expect(&p, end, LIT(",\"received\":\"")) < 0)
		goto bad;
	what = "bad received time";
	if (end - p < ALOG_TIME_RECORD_LEN + 1 || p[ALOG_TIME_RECORD_LEN] != '"' ||
	    p[19] != '.' || p[ALOG_TIME_RECORD_LEN - 1] != 'Z' ||
	    alog_time_parse(p, ALOG_TIME_RECORD_LEN, 0, &out->received_us,
			    NULL) < 0)
		goto bad;
	p += ALOG_TIME_RECORD_LEN + 1;
	what = "\"id\" expected";
	if (expect(&p, end, LIT(",\"id\":\"")) < 0)
		goto bad;
	for (q = p; q < end && *q != '"'; q++)
		if (*q < 0x21 || *q > 0x7e || *q == '\\')
			break;
	what = "bad id";
	if (q == p || q >= end || *q != '"' || q - p > ALOG_EVENT_ID_MAX)
		goto bad;
	out->id = p;
	out->id_len = (size_t)(q - p);
	p = q + 1;
	what = "\"provenance\" expected";
	if (expect(&p, end, LIT(",\"provenance\":")) < 0 || p >= end ||
	    *p != '{')
		goto bad;
	q = value_end(p, end);
	what = "provenance cut";
	if (!q)
		goto bad;
	out->prov = p;
	out->prov_len = (size_t)(q - p);
	p = q;
	what = "\"event\" expected";
	if (expect(&p, end, LIT(",\"event\":")) < 0 || p >= end || *p != '{')
		goto bad;
	/* the event is the last member: it runs to the record's closing
	 * brace (its inside is alog_event_peek's to read, or verify's) */
	what = "the record does not end with the event's object";
	if (end - p < 3 || end[-1] != '}' || end[-2] != '}')
		goto bad;
	out->event = p;
	out->event_len = (size_t)(end - 1 - p);
	out->index = index;
	return 0;
bad:
	{
		size_t off = (size_t)(p - rec);

		memset(out, 0, sizeof(*out));
		return alog_err_set(err, ALOG_ECORRUPT,
				    "record not canonical at byte %zu: %s",
				    off, what);
	}
}

int alog_record_peek_at(uint64_t index, const unsigned char *rec,
			size_t len, struct alog_record_view *out,
			struct alog_err *err)
{
	struct alog_err perr = { 0 };

	if (alog_record_peek((const char *)rec, len, out, &perr) < 0)
		return alog_err_set(err, ALOG_ECORRUPT, "record %" PRIu64
				    ": %s", index, perr.msg);
	if (out->index != index)
		return alog_err_set(err, ALOG_ECORRUPT, "record %" PRIu64
				    " holds index %" PRIu64, index,
				    out->index);
	return 0;
}

int alog_event_members(const char *ev, size_t len, alog_event_member_fn fn,
		       void *ctx)
{
	const char *p = ev, *end = ev + len;

	if (len < 2 || *p != '{' || end[-1] != '}')
		return ALOG_ECORRUPT;
	p++;
	if (*p == '}')
		return p + 1 == end ? 0 : ALOG_ECORRUPT;
	for (;;) {
		const char *k, *ke, *v, *ve;
		int esc = 0;

		if (p >= end || *p != '"')
			return ALOG_ECORRUPT;
		k = p + 1;
		ke = string_end(k, end, &esc);
		if (ke == end || ke + 1 >= end || ke[1] != ':')
			return ALOG_ECORRUPT;
		if (esc)
			return 1;
		v = ke + 2;
		ve = value_end(v, end);
		if (!ve || ve >= end)
			return ALOG_ECORRUPT;
		if (fn)
			fn(ctx, k, (size_t)(ke - k), v, (size_t)(ve - v));
		p = ve;
		if (*p == '}')
			return p + 1 == end ? 0 : ALOG_ECORRUPT;
		if (*p != ',')
			return ALOG_ECORRUPT;
		p++;
	}
}

static void peek_member(void *ctx, const char *k, size_t n,
			    const char *v, size_t vlen)
{
	struct alog_envelope_view *out = ctx;
	const char **slot = NULL;
	size_t *slot_len = NULL;

	if (*v != '"')
		return;
	if (n == 4 && memcmp(k, "type", 4) == 0)
		slot = &out->type, slot_len = &out->type_len;
	else if (n == 2 && memcmp(k, "id", 2) == 0)
		slot = &out->id, slot_len = &out->id_len;
	else if (n == 6 && memcmp(k, "source", 6) == 0)
		slot = &out->source, slot_len = &out->source_len;
	else if (n == 4 && memcmp(k, "time", 4) == 0)
		slot = &out->time, slot_len = &out->time_len;
	if (slot) {
		*slot = v + 1;
		*slot_len = vlen - 2;
	}
}

int alog_event_peek(const char *ev, size_t len,
		    struct alog_envelope_view *out)
{
	memset(out, 0, sizeof(*out));
	return alog_event_members(ev, len, peek_member, out);
}
