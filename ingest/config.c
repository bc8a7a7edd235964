/*
 * config: see config.h. SPEC.md "Configuration file".
 *
 * Two passes over the bytes: the strict scanner (ingest/json.h) proves the
 * text is one JSON object under our JSON rules (so cJSON, which accepts
 * duplicate keys and truncates strings at \u0000, only ever sees text it
 * reads the same way), then cJSON builds the tree that the walk below
 * checks key by key. Paths in messages are written as in the SPEC:
 * `components[2].breaker.threshold`.
 *
 * Invariant of the walk: every value is checked before it is stored, and
 * the result is built in a local struct that replaces *cfg only when the
 * whole file passed.
 */
#include "ingest/config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ingest/clock.h"
#include "ingest/json.h"
#include "store/bytes.h"
#include "store/merkle.h"

#define PATH_LEN 160
#define US_PER_MIN INT64_C(60000000)
#define US_PER_DAY INT64_C(86400000000)

/* Built-in inventory (SPEC.md "Built-in inventory"). */
static const struct {
	const char *name;
	enum alog_config_tier tier;
} builtin_components[] = {
	{ "dashboard_stats", ALOG_TIER_GENERAL },
	{ "dashboard_activities", ALOG_TIER_CRITICAL },
	{ "security_summary", ALOG_TIER_CRITICAL },
	{ ALOG_CONFIG_PRIMARY_STORE, ALOG_TIER_CRITICAL },
};

static const char *const top_keys[] = {
	"version", "components", "failover_target_s", "business_hours",
	"partial_weight",
};
static const char *const component_keys[] = {
	"name", "tier", "target", "owner", "probe_interval_s", "breaker",
};
static const char *const breaker_keys[] = {
	"threshold", "failure_rate", "window_s", "min_calls",
	"open_timeout_s", "backoff", "open_timeout_max_s", "probes",
};
static const char *const hours_keys[] = {
	"start", "end", "days", "tz",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

struct parser {
	const char *file;      /* prefixes every message */
	struct alog_err *err;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct parser *p, int code, const char *fmt, ...)
{
	char msg[ALOG_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return alog_err_set(p->err, code, "%s: %s", p->file, msg);
}

/* out = a b c, cut (never overflowed) at PATH_LEN - 1 bytes. Paths are
 * built from our own key names and indexes below
 * ALOG_CONFIG_COMPONENTS_MAX, so the longest
 * ("components[63].breaker.open_timeout_max_s") fits with room to spare. */
static void path_join(char out[PATH_LEN], const char *a, const char *b,
		      const char *c)
{
	const char *parts[3] = { a, b, c };
	size_t n = 0, m, i;

	for (i = 0; i < 3; i++) {
		m = strlen(parts[i]);
		if (m > PATH_LEN - 1 - n)
			m = PATH_LEN - 1 - n;
		memmove(out + n, parts[i], m);
		n += m;
	}
	out[n] = 0;
}

/* parent.key, or key at the top level. */
static void path_key(char out[PATH_LEN], const char *parent, const char *key)
{
	path_join(out, parent, parent[0] ? "." : "", key);
}

/* parent[i] */
static void path_index(char out[PATH_LEN], const char *parent, size_t i)
{
	char idx[32];

	snprintf(idx, sizeof(idx), "[%zu]", i);
	path_join(out, parent, idx, "");
}

/* A key from the file, safe to print: at most 64 bytes, printable ASCII
 * other than '"' and '\\', everything else as '?'. */
static void safe_text(const char *s, char out[80])
{
	size_t i, n = strlen(s);
	int cut = n > 64;

	if (cut)
		n = 64;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ?
			(char)c : '?';
	}
	if (cut) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = 0;
}

/* Refuse the first member of obj whose key is not in keys. */
static int check_keys(struct parser *p, const cJSON *obj, const char *path,
		      const char *const *keys, size_t n)
{
	char allowed[512], key[80];
	const cJSON *m;
	size_t i, off;

	cJSON_ArrayForEach(m, obj) {
		for (i = 0; i < n; i++)
			if (strcmp(m->string, keys[i]) == 0)
				break;
		if (i < n)
			continue;
		off = 0;
		allowed[0] = 0;
		for (i = 0; i < n && off < sizeof(allowed); i++)
			off += (size_t)snprintf(allowed + off,
						sizeof(allowed) - off, "%s%s",
						i ? ", " : "", keys[i]);
		safe_text(m->string, key);
		if (path[0])
			return fail(p, ALOG_EINVAL,
				    "unknown key \"%s\" in %s (allowed: %s)",
				    key, path, allowed);
		return fail(p, ALOG_EINVAL,
			    "unknown key \"%s\" at the top level "
			    "(allowed: %s)", key, allowed);
	}
	return 0;
}

static int want_object(struct parser *p, const cJSON *v, const char *path)
{
	if (!cJSON_IsObject(v))
		return fail(p, ALOG_EINVAL, "%s must be an object", path);
	return 0;
}

static int get_int(struct parser *p, const cJSON *v, const char *path,
		   int64_t lo, int64_t hi, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		goto bad;
	d = v->valuedouble;
	/* Range first, so the cast below is defined. */
	if (!(d >= (double)lo && d <= (double)hi))
		goto bad;
	if ((double)(int64_t)d != d)
		goto bad;
	*out = (int64_t)d;
	return 0;
bad:
	return fail(p, ALOG_EINVAL, "%s must be an integer %" PRId64
		    "..%" PRId64, path, lo, hi);
}

/*
 * A decimal number with at most `places` digits after the point, as an
 * integer count of 10^-places (0.995 with places 6 is 995000), in lo..hi.
 * hint completes the message.
 */
static int get_fixed(struct parser *p, const cJSON *v, const char *path,
		     int places, int64_t lo, int64_t hi, const char *hint,
		     int64_t *out)
{
	double scale = 1, x, diff;
	int64_t r;
	int i;

	for (i = 0; i < places; i++)
		scale *= 10;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0)
		goto bad;
	x = v->valuedouble * scale;
	if (!(x <= 1e12))
		goto bad;
	r = (int64_t)(x + 0.5);
	diff = x - (double)r;
	/* The text had more decimals than allowed (0.9995001). */
	if (diff > 1e-6 || diff < -1e-6)
		goto bad;
	if (r < lo || r > hi)
		goto bad;
	*out = r;
	return 0;
bad:
	return fail(p, ALOG_EINVAL, "%s must be %s", path, hint);
}

static int get_string(struct parser *p, const cJSON *v, const char *path,
		      const char **out)
{
	if (!cJSON_IsString(v) || !v->valuestring)
		return fail(p, ALOG_EINVAL, "%s must be a string", path);
	*out = v->valuestring;
	return 0;
}

const char *alog_config_tier_name(enum alog_config_tier t)
{
	switch (t) {
	case ALOG_TIER_CRITICAL: return "critical";
	case ALOG_TIER_GENERAL: return "general";
	}
	return NULL;
}

int alog_config_component_defaults(struct alog_config_component *c,
				   const char *name, size_t len,
				   enum alog_config_tier tier,
				   struct alog_err *err)
{
	int critical;

	if (!alog_breaker_component_valid(name, len))
		return alog_err_set(err, ALOG_EINVAL,
				    "component name must be 1..%d bytes of "
				    "[a-z0-9_-] starting with [a-z]",
				    ALOG_CONFIG_NAME_MAX);
	if (tier != ALOG_TIER_CRITICAL && tier != ALOG_TIER_GENERAL)
		return alog_err_set(err, ALOG_EINVAL, "unknown tier %d",
				    (int)tier);
	critical = tier == ALOG_TIER_CRITICAL;
	memset(c, 0, sizeof(*c));
	memcpy(c->name, name, len);
	c->tier = tier;
	/* The original design's tiers: critical 99.9 %, threshold 2, 15 s;
	 * general 99.5 %, threshold 3, 30 s. */
	c->target_ppm = critical ? 999000 : 995000;
	c->probe_interval_s = 60;
	c->daemon_owned = len == strlen(ALOG_CONFIG_PRIMARY_STORE) &&
		memcmp(name, ALOG_CONFIG_PRIMARY_STORE, len) == 0;
	c->breaker.threshold = critical ? 2 : 3;
	c->breaker.rate_permille = 0;
	c->breaker.window_us = 60 * INT64_C(1000000);
	c->breaker.min_calls = 10;
	c->breaker.open_timeout_ms = critical ? 15000 : 30000;
	c->breaker.backoff_permille = 1000;
	c->breaker.open_timeout_max_ms =
		ALOG_CONFIG_OPEN_TIMEOUT_CAP_DEFAULT_S * 1000;
	c->breaker.probes = 1;
	return 0;
}

static void defaults_global(struct alog_config *cfg)
{
	cfg->failover_target_s = 30;
	cfg->business_hours.start_min = 8 * 60;
	cfg->business_hours.end_min = 18 * 60;
	cfg->business_hours.days = 0x3e; /* Monday..Friday: bits 1..5 */
	cfg->business_hours.tz_offset_min = 0;
	cfg->partial_weight_permille = 0;
}

void alog_config_release(struct alog_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->components);
	memset(cfg, 0, sizeof(*cfg));
}

int alog_config_builtin(struct alog_config *cfg, struct alog_err *err)
{
	struct alog_config c;
	size_t i, n = N_OF(builtin_components);
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	memset(&c, 0, sizeof(c));
	c.components = calloc(n, sizeof(*c.components));
	if (!c.components)
		return alog_err_set(err, ALOG_ENOMEM,
				    "out of memory for the inventory");
	for (i = 0; i < n; i++) {
		rc = alog_config_component_defaults(
			&c.components[i], builtin_components[i].name,
			strlen(builtin_components[i].name),
			builtin_components[i].tier, err);
		if (rc < 0) {
			free(c.components);
			return rc;
		}
	}
	c.n_components = n;
	defaults_global(&c);
	*cfg = c;
	return 0;
}

const struct alog_config_component *
alog_config_component_find(const struct alog_config *cfg, const char *name,
			   size_t len)
{
	size_t i;

	for (i = 0; i < cfg->n_components; i++)
		if (strlen(cfg->components[i].name) == len &&
		    memcmp(cfg->components[i].name, name, len) == 0)
			return &cfg->components[i];
	return NULL;
}

/* ---- the walk ---- */

static int parse_breaker(struct parser *p, const cJSON *obj,
			 const char *path, struct alog_breaker_config *b)
{
	char sub[PATH_LEN];
	const cJSON *v;
	int64_t x = 0, open_s;
	int rc;

	rc = want_object(p, obj, path);
	if (rc < 0)
		return rc;
	rc = check_keys(p, obj, path, breaker_keys, N_OF(breaker_keys));
	if (rc < 0)
		return rc;
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "threshold"))) {
		path_key(sub, path, "threshold");
		rc = get_int(p, v, sub, 1, ALOG_BREAKER_THRESHOLD_MAX, &x);
		if (rc < 0)
			return rc;
		b->threshold = (uint32_t)x;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "failure_rate"))) {
		path_key(sub, path, "failure_rate");
		rc = get_fixed(p, v, sub, 3, 0, 1000,
			       "a number 0..1 with at most 3 decimals "
			       "(0 turns the rate rule off)", &x);
		if (rc < 0)
			return rc;
		b->rate_permille = (uint32_t)x;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "window_s"))) {
		path_key(sub, path, "window_s");
		rc = get_int(p, v, sub, 1, ALOG_CONFIG_WINDOW_MAX_S, &x);
		if (rc < 0)
			return rc;
		b->window_us = x * INT64_C(1000000);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "min_calls"))) {
		path_key(sub, path, "min_calls");
		rc = get_int(p, v, sub, 1, ALOG_BREAKER_MIN_CALLS_MAX, &x);
		if (rc < 0)
			return rc;
		b->min_calls = (uint32_t)x;
	}
	open_s = b->open_timeout_ms / 1000;
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "open_timeout_s"))) {
		path_key(sub, path, "open_timeout_s");
		rc = get_int(p, v, sub, 1, ALOG_CONFIG_OPEN_TIMEOUT_MAX_S,
			     &open_s);
		if (rc < 0)
			return rc;
		b->open_timeout_ms = (uint32_t)(open_s * 1000);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "backoff"))) {
		path_key(sub, path, "backoff");
		rc = get_fixed(p, v, sub, 3, 1000,
			       ALOG_BREAKER_BACKOFF_MAX_PERMILLE,
			       "a number 1..10 with at most 3 decimals "
			       "(1: no backoff)", &x);
		if (rc < 0)
			return rc;
		b->backoff_permille = (uint32_t)x;
	}
	/* The cap defaults to ALOG_CONFIG_OPEN_TIMEOUT_CAP_DEFAULT_S, or the
	 * open timeout itself when that is longer. */
	x = open_s > ALOG_CONFIG_OPEN_TIMEOUT_CAP_DEFAULT_S ?
		open_s : ALOG_CONFIG_OPEN_TIMEOUT_CAP_DEFAULT_S;
	if ((v = cJSON_GetObjectItemCaseSensitive(obj,
						  "open_timeout_max_s"))) {
		path_key(sub, path, "open_timeout_max_s");
		rc = get_int(p, v, sub, open_s, ALOG_CONFIG_OPEN_TIMEOUT_MAX_S,
			     &x);
		if (rc < 0)
			return fail(p, rc, "%s must be an integer %" PRId64
				    "..%d (at least open_timeout_s)",
				    sub, open_s,
				    ALOG_CONFIG_OPEN_TIMEOUT_MAX_S);
	}
	b->open_timeout_max_ms = (uint32_t)(x * 1000);
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "probes"))) {
		path_key(sub, path, "probes");
		rc = get_int(p, v, sub, 1, ALOG_BREAKER_PROBES_MAX, &x);
		if (rc < 0)
			return rc;
		b->probes = (uint32_t)x;
	}
	return 0;
}

static int parse_component(struct parser *p, const cJSON *obj,
			   const char *path, struct alog_config_component *c)
{
	char sub[PATH_LEN];
	const cJSON *v;
	enum alog_config_tier tier;
	const char *s = NULL;
	int64_t x = 0;
	size_t n;
	int rc;

	rc = want_object(p, obj, path);
	if (rc < 0)
		return rc;
	rc = check_keys(p, obj, path, component_keys, N_OF(component_keys));
	if (rc < 0)
		return rc;

	path_key(sub, path, "name");
	v = cJSON_GetObjectItemCaseSensitive(obj, "name");
	if (!v)
		return fail(p, ALOG_EINVAL, "%s is required", sub);
	rc = get_string(p, v, sub, &s);
	if (rc < 0)
		return rc;
	n = strlen(s);
	if (!alog_breaker_component_valid(s, n))
		return fail(p, n > ALOG_CONFIG_NAME_MAX ? ALOG_ELIMIT :
			    ALOG_EINVAL,
			    "%s must be 1..%d bytes of [a-z0-9_-] starting "
			    "with [a-z]", sub, ALOG_CONFIG_NAME_MAX);

	path_key(sub, path, "tier");
	v = cJSON_GetObjectItemCaseSensitive(obj, "tier");
	if (!v)
		return fail(p, ALOG_EINVAL, "%s is required", sub);
	if (cJSON_IsString(v) && strcmp(v->valuestring, "critical") == 0)
		tier = ALOG_TIER_CRITICAL;
	else if (cJSON_IsString(v) && strcmp(v->valuestring, "general") == 0)
		tier = ALOG_TIER_GENERAL;
	else
		return fail(p, ALOG_EINVAL,
			    "%s must be \"critical\" or \"general\"", sub);
	rc = alog_config_component_defaults(c, s, n, tier, p->err);
	if (rc < 0)
		return rc;

	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "target"))) {
		path_key(sub, path, "target");
		rc = get_fixed(p, v, sub, 6, 1, 999999,
			       "a number between 0 and 1 (both excluded) "
			       "with at most 6 decimals, e.g. 0.995 for "
			       "99.5 %", &x);
		if (rc < 0)
			return rc;
		c->target_ppm = (uint32_t)x;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "owner"))) {
		path_key(sub, path, "owner");
		rc = get_string(p, v, sub, &s);
		if (rc < 0)
			return rc;
		n = strlen(s);
		if (n < 1 || n > ALOG_CONFIG_OWNER_MAX)
			return fail(p, n ? ALOG_ELIMIT : ALOG_EINVAL,
				    "%s must be 1..%d bytes", sub,
				    ALOG_CONFIG_OWNER_MAX);
		/* UTF-8 is proven by the scanner; refuse control bytes so
		 * the owner prints safely in every report format. */
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 ||
			    (unsigned char)s[i] == 0x7f)
				return fail(p, ALOG_EINVAL,
					    "%s must not hold control "
					    "characters (byte %zu)", sub, i);
		memcpy(c->owner, s, n + 1);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "probe_interval_s"))) {
		path_key(sub, path, "probe_interval_s");
		rc = get_int(p, v, sub, 1, ALOG_CONFIG_PROBE_INTERVAL_MAX_S,
			     &x);
		if (rc < 0)
			return rc;
		c->probe_interval_s = (uint32_t)x;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "breaker"))) {
		path_key(sub, path, "breaker");
		rc = parse_breaker(p, v, sub, &c->breaker);
		if (rc < 0)
			return rc;
	}
	/* Belt and braces: what the walk built, the breaker accepts. */
	rc = alog_breaker_config_check(&c->breaker, p->err);
	if (rc < 0) {
		alog_err_prefix(p->err, "%s: %s", p->file, path);
		return rc;
	}
	return 0;
}

static int parse_components(struct parser *p, const cJSON *arr,
			    struct alog_config *cfg)
{
	char path[PATH_LEN];
	const cJSON *e;
	size_t n, i, j, have_primary = 0;

	if (!cJSON_IsArray(arr))
		return fail(p, ALOG_EINVAL, "components must be an array");
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > ALOG_CONFIG_COMPONENTS_MAX)
		return fail(p, ALOG_ELIMIT,
			    "components has %zu entries, more than %d", n,
			    ALOG_CONFIG_COMPONENTS_MAX);
	/* One spare entry for the daemon's own component. */
	cfg->components = calloc(n + 1, sizeof(*cfg->components));
	if (!cfg->components)
		return fail(p, ALOG_ENOMEM, "out of memory for %zu components",
			    n);
	i = 0;
	cJSON_ArrayForEach(e, arr) {
		struct alog_config_component *c = &cfg->components[i];
		int rc;

		path_index(path, "components", i);
		rc = parse_component(p, e, path, c);
		if (rc < 0)
			return rc;
		for (j = 0; j < i; j++)
			if (strcmp(cfg->components[j].name, c->name) == 0)
				return fail(p, ALOG_EINVAL,
					    "%s.name \"%s\" repeats "
					    "components[%zu].name",
					    path, c->name, j);
		if (c->daemon_owned)
			have_primary = 1;
		cfg->n_components = ++i;
	}
	if (!have_primary) {
		/* The daemon's own breaker always exists (SPEC). */
		return alog_config_component_defaults(
			&cfg->components[cfg->n_components++],
			ALOG_CONFIG_PRIMARY_STORE,
			strlen(ALOG_CONFIG_PRIMARY_STORE), ALOG_TIER_CRITICAL,
			p->err);
	}
	return 0;
}

/* "HH:MM" into minutes after midnight; 24:00 only when allow_24. */
static int parse_hhmm(const char *s, int allow_24, uint32_t *out)
{
	unsigned h, m;

	if (strlen(s) != 5 || s[2] != ':' ||
	    s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
	    s[3] < '0' || s[3] > '9' || s[4] < '0' || s[4] > '9')
		return -1;
	h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	m = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_24)))
		return -1;
	*out = h * 60 + m;
	return 0;
}

/* "UTC", or "+HH:MM" / "-HH:MM" up to 14:00, into minutes east of UTC. */
static int parse_tz(const char *s, int32_t *out)
{
	uint32_t min;

	if (strcmp(s, "UTC") == 0) {
		*out = 0;
		return 0;
	}
	if ((s[0] != '+' && s[0] != '-') || parse_hhmm(s + 1, 0, &min) < 0 ||
	    min > 14 * 60)
		return -1;
	*out = s[0] == '-' ? -(int32_t)min : (int32_t)min;
	return 0;
}

static int parse_hours(struct parser *p, const cJSON *obj,
		       struct alog_config_hours *h)
{
	char sub[PATH_LEN];
	const cJSON *v, *e;
	const char *s = NULL;
	size_t i;
	int64_t d = 0;
	int rc;

	rc = want_object(p, obj, "business_hours");
	if (rc < 0)
		return rc;
	rc = check_keys(p, obj, "business_hours", hours_keys,
			N_OF(hours_keys));
	if (rc < 0)
		return rc;
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "start"))) {
		if (!cJSON_IsString(v) ||
		    parse_hhmm(v->valuestring, 0, &h->start_min) < 0)
			return fail(p, ALOG_EINVAL,
				    "business_hours.start must be a time "
				    "\"HH:MM\" from \"00:00\" to \"23:59\"");
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "end"))) {
		if (!cJSON_IsString(v) ||
		    parse_hhmm(v->valuestring, 1, &h->end_min) < 0 ||
		    h->end_min == 0)
			return fail(p, ALOG_EINVAL,
				    "business_hours.end must be a time "
				    "\"HH:MM\" from \"00:01\" to \"24:00\"");
	}
	if (h->start_min >= h->end_min)
		return fail(p, ALOG_EINVAL,
			    "business_hours.start must be before "
			    "business_hours.end (hours that span midnight "
			    "are not supported)");
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "days"))) {
		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 ||
		    cJSON_GetArraySize(v) > 7)
			return fail(p, ALOG_EINVAL,
				    "business_hours.days must be an array of "
				    "1..7 ISO weekdays (1 = Monday .. "
				    "7 = Sunday)");
		h->days = 0;
		i = 0;
		cJSON_ArrayForEach(e, v) {
			path_index(sub, "business_hours.days", i);
			rc = get_int(p, e, sub, 1, 7, &d);
			if (rc < 0)
				return rc;
			if (h->days & (1u << d))
				return fail(p, ALOG_EINVAL,
					    "%s repeats weekday %" PRId64,
					    sub, d);
			h->days |= 1u << d;
			i++;
		}
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "tz"))) {
		rc = get_string(p, v, "business_hours.tz", &s);
		if (rc < 0)
			return rc;
		if (parse_tz(s, &h->tz_offset_min) < 0)
			return fail(p, ALOG_EINVAL,
				    "business_hours.tz must be \"UTC\" or a "
				    "fixed offset \"+HH:MM\" / \"-HH:MM\" up "
				    "to 14:00 (zone names are not "
				    "supported)");
	}
	return 0;
}

static int walk(struct parser *p, const cJSON *root, struct alog_config *cfg)
{
	const cJSON *v;
	int64_t x = 0;
	int rc;

	rc = check_keys(p, root, "", top_keys, N_OF(top_keys));
	if (rc < 0)
		return rc;
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "version"))) {
		if (!cJSON_IsNumber(v) || v->valuedouble != 1)
			return fail(p, ALOG_EINVAL,
				    "version must be 1 (the configuration "
				    "version this auditlog reads)");
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "components");
	if (!v)
		return fail(p, ALOG_EINVAL, "components is required");
	rc = parse_components(p, v, cfg);
	if (rc < 0)
		return rc;
	if ((v = cJSON_GetObjectItemCaseSensitive(root,
						  "failover_target_s"))) {
		rc = get_int(p, v, "failover_target_s", 1,
			     ALOG_CONFIG_FAILOVER_TARGET_MAX_S, &x);
		if (rc < 0)
			return rc;
		cfg->failover_target_s = (uint32_t)x;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "business_hours"))) {
		rc = parse_hours(p, v, &cfg->business_hours);
		if (rc < 0)
			return rc;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "partial_weight"))) {
		rc = get_fixed(p, v, "partial_weight", 3, 0, 1000,
			       "a number 0..1 with at most 3 decimals", &x);
		if (rc < 0)
			return rc;
		cfg->partial_weight_permille = (uint32_t)x;
	}
	return 0;
}

/* 1-based line and column (in bytes) of offset off. */
static void line_col(const char *text, size_t len, size_t off, size_t *line,
		     size_t *col)
{
	size_t i, l = 1, c = 1;

	for (i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			l++;
			c = 1;
		} else {
			c++;
		}
	}
	*line = l;
	*col = c;
}

int alog_config_parse(struct alog_config *cfg, const char *text, size_t len,
		      const char *name, struct alog_err *err)
{
	struct alog_json_opts opts;
	struct alog_json_result res;
	struct parser p = { name ? name : "config", err };
	struct alog_config c;
	const char *end = NULL;
	cJSON *root = NULL;
	size_t line, col, off;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	memset(&c, 0, sizeof(c));
	if (len > ALOG_CONFIG_FILE_MAX)
		return fail(&p, ALOG_ELIMIT, "%zu bytes, more than %d", len,
			    ALOG_CONFIG_FILE_MAX);

	memset(&opts, 0, sizeof(opts));
	opts.depth_max = ALOG_CONFIG_DEPTH_MAX;
	opts.object_only = 1;
	rc = alog_json_scan(text, len, &opts, NULL, &res, NULL);
	if (rc < 0) {
		if (res.fault == ALOG_JSON_NOMEM)
			return fail(&p, ALOG_ENOMEM, "out of memory reading "
				    "the json");
		line_col(text, len, res.off, &line, &col);
		return fail(&p, rc, "invalid json at line %zu column %zu "
			    "(byte %zu): %s", line, col, res.off, res.what);
	}

	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		/* The scanner accepted the text, so cJSON stopping is an
		 * allocation failure or a disagreement: say where. */
		off = end && end >= text && end <= text + len ?
			(size_t)(end - text) : 0;
		line_col(text, len, off, &line, &col);
		return fail(&p, ALOG_EINVAL,
			    "invalid json at line %zu column %zu (byte %zu): "
			    "the json parser stopped (out of memory?)",
			    line, col, off);
	}

	defaults_global(&c);
	rc = walk(&p, root, &c);
	if (rc < 0)
		goto out;
	rc = alog_hasher_sha256(NULL, text, len, NULL, 0, c.hash);
	if (rc < 0) {
		fail(&p, rc, "could not compute the sha-256 of the file");
		goto out;
	}
	alog_hex_encode(c.hash, sizeof(c.hash), c.hash_hex);
	c.from_file = 1;
	*cfg = c;
	memset(&c, 0, sizeof(c));
out:
	cJSON_Delete(root);
	alog_config_release(&c);
	return rc;
}

int alog_config_load(struct alog_config *cfg, const char *path,
		     struct alog_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd = -1, rc;

	memset(cfg, 0, sizeof(*cfg));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = alog_err_sys(err, errno == ENOENT ? ALOG_ENOTFOUND :
				  ALOG_EIO, errno,
				  "%s: cannot open the configuration file: %s",
				  path, strerror(errno));
		goto out;
	}
	/* One byte more than the limit tells "too long" from "at the
	 * limit" without trusting st_size. */
	buf = malloc(ALOG_CONFIG_FILE_MAX + 1);
	if (!buf) {
		rc = alog_err_set(err, ALOG_ENOMEM,
				  "%s: out of memory reading it", path);
		goto out;
	}
	for (;;) {
		r = read(fd, buf + len, ALOG_CONFIG_FILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = alog_err_sys(err, ALOG_EIO, errno,
					  "%s: read failed: %s", path,
					  strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > ALOG_CONFIG_FILE_MAX) {
			rc = alog_err_set(err, ALOG_ELIMIT,
					  "%s: more than %d bytes", path,
					  ALOG_CONFIG_FILE_MAX);
			goto out;
		}
	}
	rc = alog_config_parse(cfg, buf, len, path, err);
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

int alog_config_in_business_hours(const struct alog_config *cfg, int64_t us)
{
	const struct alog_config_hours *h = &cfg->business_hours;
	int64_t local, day, min;
	int iso;

	if (us < ALOG_TIME_MIN_US || us > ALOG_TIME_MAX_US)
		return 0;
	local = us + (int64_t)h->tz_offset_min * US_PER_MIN;
	day = local / US_PER_DAY;
	if (local % US_PER_DAY < 0)
		day--;
	/* 1970-01-01 (day 0) was a Thursday, ISO weekday 4. */
	iso = (int)(((day + 3) % 7 + 7) % 7) + 1;
	min = (local - day * US_PER_DAY) / US_PER_MIN;
	return (h->days & (1u << iso)) != 0 && min >= h->start_min &&
	       min < h->end_min;
}
