/*
 * render: see render.h. SPEC.md 21.4.
 *
 * One walk over the report writes both formats: the content functions
 * below call a small document layer (headings, paragraphs, lists, tables,
 * code, inline text) whose two back ends are Markdown and HTML, so the
 * renderings hold the same sections with the same texts. Only the SVG
 * charts are HTML alone.
 *
 * Errors are sticky: the first failure (a member missing, an allocation,
 * a limit) is kept in r->rc and every later call does nothing, so the
 * content code reads top to bottom without a check after each line.
 */
#include "report/render.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ingest/clock.h"
#include "ingest/json.h"
#include "ingest/rules.h"
#include "report/monitoring.h"

__extension__ typedef unsigned __int128 u128;

#define DAY_US INT64_C(86400000000)
#define INT_LIMIT 9007199254740991.0 /* 2^53 - 1: JSON integers (I-JSON) */
#define MONTH_TICKS_MAX 1200         /* = ALOG_AV_MONTHS_MAX */

enum dev_kind {
	DEV_TARGET,    /* the period's availability below the target */
	DEV_WINDOW,    /* maintenance windows without a change reference */
	DEV_RECON,     /* spool activations that do not reconcile */
	DEV_FAILOVER,  /* failovers over the target, or not measured */
	DEV_FINDING,   /* findings of SPEC.md 20.10 */
	DEV_MALFORMED, /* report inputs that break SPEC.md 11.1 (report-wide) */
	DEV_GAP,       /* CC7.2: probe gaps over the tolerance */
	DEV_VERIFY,    /* CC7.2: days without a verification run, failed
			  runs (report-wide) */
	DEV_KINDS
};

struct dev {
	enum dev_kind kind;
	const cJSON *comp;   /* an a1_2 component, a cc7_2.probes element
				(DEV_GAP), or NULL for the report-wide kinds */
	int64_t x, n;        /* "x of N" */
	int64_t x2, n2;      /* DEV_GAP: the gaps (x2); DEV_VERIFY: failed
				runs (x2) of the runs (n2) */
};

struct rnd {
	struct alog_buf *out;
	int html;
	int rc;
	struct alog_err *err;
	struct alog_buf tmp;       /* one formatted inline text */
	char where[96];            /* the JSON path the content reads */
	const cJSON *root;
	const cJSON *cc;           /* cc7_2 */
	int64_t from_us, to_us;
	int64_t n_days;            /* UTC days of the period (population.daily) */
	int64_t w_permille, failover_target_s;
	struct dev *devs;
	size_t n_devs;
	int table_cols;            /* columns of the open table */
};

/* ---- errors --------------------------------------------------------- */

static void fail_member(struct rnd *r, const char *key, const char *want)
{
	if (r->rc < 0)
		return;
	r->rc = alog_err_set(r->err, ALOG_EINVAL,
			     "report member \"%s%s%s\" is missing or not %s",
			     r->where, r->where[0] ? "." : "", key, want);
}

static void where(struct rnd *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void where(struct rnd *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->where, sizeof(r->where), fmt, ap);
	va_end(ap);
}

/* ---- typed member access: a missing or mistyped member fails -------- */

static const cJSON *member(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key)
				 : NULL;
}

static int is_int(const cJSON *v)
{
	double d;

	if (!cJSON_IsNumber(v))
		return 0;
	d = v->valuedouble;
	return d >= -INT_LIMIT && d <= INT_LIMIT && d == (double)(int64_t)d;
}

static const char *j_str(struct rnd *r, const cJSON *o, const char *key)
{
	const cJSON *v = member(o, key);

	if (r->rc < 0)
		return "";
	if (!cJSON_IsString(v)) {
		fail_member(r, key, "a string");
		return "";
	}
	return v->valuestring;
}

/* A string or null (NULL). */
static const char *j_strn(struct rnd *r, const cJSON *o, const char *key)
{
	const cJSON *v = member(o, key);

	if (r->rc < 0)
		return NULL;
	if (cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v)) {
		fail_member(r, key, "a string or null");
		return NULL;
	}
	return v->valuestring;
}

/* A member that later versions may add: NULL when absent or null. */
static const char *j_stropt(const cJSON *o, const char *key)
{
	const cJSON *v = member(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t j_int(struct rnd *r, const cJSON *o, const char *key)
{
	const cJSON *v = member(o, key);

	if (r->rc < 0)
		return 0;
	if (!is_int(v)) {
		fail_member(r, key, "an integer");
		return 0;
	}
	return (int64_t)v->valuedouble;
}

/* An integer or null: 1 and *out when an integer, 0 when null. */
static int j_intn(struct rnd *r, const cJSON *o, const char *key,
		  int64_t *out)
{
	const cJSON *v = member(o, key);

	*out = 0;
	if (r->rc < 0 || cJSON_IsNull(v))
		return 0;
	if (!is_int(v)) {
		fail_member(r, key, "an integer or null");
		return 0;
	}
	*out = (int64_t)v->valuedouble;
	return 1;
}

static int j_bool(struct rnd *r, const cJSON *o, const char *key)
{
	const cJSON *v = member(o, key);

	if (r->rc < 0)
		return 0;
	if (!cJSON_IsBool(v)) {
		fail_member(r, key, "a boolean");
		return 0;
	}
	return cJSON_IsTrue(v);
}

static const cJSON *j_obj(struct rnd *r, const cJSON *o, const char *key)
{
	const cJSON *v = member(o, key);

	if (r->rc < 0)
		return NULL;
	if (!cJSON_IsObject(v)) {
		fail_member(r, key, "an object");
		return NULL;
	}
	return v;
}

/* An object or null (NULL). */
static const cJSON *j_objn(struct rnd *r, const cJSON *o, const char *key)
{
	const cJSON *v = member(o, key);

	if (r->rc < 0 || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsObject(v)) {
		fail_member(r, key, "an object or null");
		return NULL;
	}
	return v;
}

static const cJSON *j_arr(struct rnd *r, const cJSON *o, const char *key)
{
	const cJSON *v = member(o, key);

	if (r->rc < 0)
		return NULL;
	if (!cJSON_IsArray(v)) {
		fail_member(r, key, "an array");
		return NULL;
	}
	return v;
}

/* Elements of an array that may be NULL (after a failure). */
/* cJSON arrays are linked lists: reaching element i walks i nodes and
 * counting walks them all, so a loop over a long array (an outage
 * episode list, a timeline) would be quadratic. render() indexes every
 * array of the document once (this thread's render in progress), and
 * n_items and item look it up. */
struct arr_slot {
	const cJSON *a;         /* NULL: empty slot */
	const cJSON **v;
	int n;
};

static _Thread_local struct {
	struct arr_slot *t;
	size_t cap;             /* a power of two, or 0: no index */
} arrs;

static size_t arr_hash(const cJSON *a, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)a * UINT64_C(0x9e3779b97f4a7c15);

	return (size_t)(h >> 32) & (cap - 1);
}

static const struct arr_slot *arr_find(const cJSON *a)
{
	size_t i;

	if (!arrs.cap)
		return NULL;
	for (i = arr_hash(a, arrs.cap); arrs.t[i].a;
	     i = (i + 1) & (arrs.cap - 1))
		if (arrs.t[i].a == a)
			return &arrs.t[i];
	return NULL;
}

static size_t count_arrays(const cJSON *n)
{
	size_t k = cJSON_IsArray(n);

	for (const cJSON *c = n->child; c; c = c->next)
		k += count_arrays(c);
	return k;
}

static int index_arrays(const cJSON *n)
{
	if (cJSON_IsArray(n)) {
		size_t i = arr_hash(n, arrs.cap);
		int k = 0;

		for (const cJSON *c = n->child; c; c = c->next)
			k++;
		while (arrs.t[i].a)
			i = (i + 1) & (arrs.cap - 1);
		arrs.t[i].a = n;
		arrs.t[i].n = k;
		arrs.t[i].v = k ? malloc((size_t)k * sizeof(*arrs.t[i].v)) : NULL;
		if (k && !arrs.t[i].v)
			return ALOG_ENOMEM;
		k = 0;
		for (const cJSON *c = n->child; c; c = c->next)
			arrs.t[i].v[k++] = c;
	}
	for (const cJSON *c = n->child; c; c = c->next)
		if (index_arrays(c) < 0)
			return ALOG_ENOMEM;
	return 0;
}

static void arrays_free(void)
{
	for (size_t i = 0; i < arrs.cap; i++)
		free(arrs.t[i].v);
	free(arrs.t);
	arrs.t = NULL;
	arrs.cap = 0;
}

static int arrays_index(const cJSON *root)
{
	size_t n = count_arrays(root), cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	arrs.t = calloc(cap, sizeof(*arrs.t));
	if (!arrs.t)
		return ALOG_ENOMEM;
	arrs.cap = cap;
	if (index_arrays(root) < 0) {
		arrays_free();
		return ALOG_ENOMEM;
	}
	return 0;
}

static int n_items(const cJSON *a)
{
	const struct arr_slot *s;

	if (!a)
		return 0;
	s = arr_find(a);
	return s ? s->n : cJSON_GetArraySize(a);
}

static const cJSON *item(const cJSON *a, int i)
{
	const struct arr_slot *s;

	if (!a)
		return NULL;
	s = arr_find(a);
	if (s)
		return i >= 0 && i < s->n ? s->v[i] : NULL;
	return cJSON_GetArrayItem(a, i);
}

/* A count: an integer, not negative. */
static int64_t j_count(struct rnd *r, const cJSON *o, const char *key)
{
	const cJSON *v = member(o, key);

	if (r->rc < 0)
		return 0;
	if (!is_int(v) || v->valuedouble < 0) {
		fail_member(r, key, "a non-negative integer");
		return 0;
	}
	return (int64_t)v->valuedouble;
}

/* An RFC 3339 time text, as microseconds (the text is shown as is). */
static int64_t j_time(struct rnd *r, const cJSON *o, const char *key)
{
	const char *s = j_str(r, o, key);
	int64_t us = 0;

	if (r->rc < 0)
		return 0;
	if (alog_time_parse(s, strlen(s), 0, &us, NULL) < 0)
		fail_member(r, key, "an RFC 3339 time");
	return us;
}

/* A member that later versions may add, an index or null: -1 when
 * absent, 0 when null, 1 and *out when an index; refused when present
 * and of another type. */
static int j_index_opt(struct rnd *r, const cJSON *o, const char *key,
		       int64_t *out)
{
	const cJSON *v = member(o, key);

	*out = 0;
	if (r->rc < 0 || !v)
		return -1;
	if (cJSON_IsNull(v))
		return 0;
	if (!is_int(v) || v->valuedouble < 0) {
		fail_member(r, key, "an index or null");
		return -1;
	}
	*out = (int64_t)v->valuedouble;
	return 1;
}

/* A UTC day "YYYY-MM-DD" as the microsecond of its midnight, or -1. */
static int parse_day(const cJSON *v, int64_t *us)
{
	if (!cJSON_IsString(v) || strlen(v->valuestring) != 10)
		return -1;
	return alog_time_parse(v->valuestring, 10, 1, us, NULL) < 0 ? -1 : 0;
}

/* ---- output --------------------------------------------------------- */

static void put(struct rnd *r, const char *s)
{
	if (r->rc == 0)
		r->rc = alog_buf_adds(r->out, s, r->err);
}

static void putn(struct rnd *r, const char *s, size_t n)
{
	if (r->rc == 0)
		r->rc = alog_buf_add(r->out, s, n, r->err);
}

static void putf(struct rnd *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void putf(struct rnd *r, const char *fmt, ...)
{
	char small[1024];
	va_list ap;
	int n;

	if (r->rc < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(small)) {
		r->rc = alog_err_set(r->err, ALOG_EINVAL,
				     "render: markup longer than %zu bytes",
				     sizeof(small));
		return;
	}
	putn(r, small, (size_t)n);
}

/* Format into r->tmp (the text is escaped by the caller). */
static void vformat(struct rnd *r, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void vformat(struct rnd *r, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	alog_buf_reset(&r->tmp);
	if (r->rc < 0)
		return;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0) {
		r->rc = alog_err_set(r->err, ALOG_EINVAL, "render: bad format");
		return;
	}
	r->rc = alog_buf_reserve(&r->tmp, (size_t)n + 1, r->err);
	if (r->rc < 0)
		return;
	vsnprintf((char *)r->tmp.data, (size_t)n + 1, fmt, ap);
	r->tmp.len = (size_t)n;
}

enum esc_mode {
	ESC_INLINE, /* running text, one line */
	ESC_CODE,   /* a code span, one line */
	ESC_PRE,    /* a code block: newlines kept */
};

/* Characters a reader must not be shown as such: C0 controls, DEL, C1
 * controls and the bidirectional overrides and isolates (a hostile text
 * could reorder what an auditor reads). Returns the length of the
 * sequence at s to replace by U+FFFD, or 0. The input is valid UTF-8
 * (alog_json_scan checked it; our own texts are ASCII). */
static size_t hidden_len(const unsigned char *s, size_t left)
{
	if (s[0] < 0x20 || s[0] == 0x7f)
		return 1;
	if (left >= 2 && s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 2;
	if (left >= 3 && s[0] == 0xe2 && s[1] == 0x80 &&
	    s[2] >= 0xaa && s[2] <= 0xae)
		return 3; /* U+202A..U+202E */
	if (left >= 3 && s[0] == 0xe2 && s[1] == 0x81 &&
	    s[2] >= 0xa6 && s[2] <= 0xa9)
		return 3; /* U+2066..U+2069 */
	return 0;
}

static void esc(struct rnd *r, const char *text, size_t n, enum esc_mode m)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, run = 0;

	while (i < n && r->rc == 0) {
		unsigned char c = s[i];
		size_t h;

		if (c == '\n' && m == ESC_PRE) {
			put(r, "\n");
			i++;
			continue;
		}
		if (c == '\n' || c == '\r' || c == '\t') {
			put(r, " ");
			i++;
			continue;
		}
		h = hidden_len(s + i, n - i);
		if (h) {
			put(r, "\xef\xbf\xbd");
			i += h;
			continue;
		}
		for (run = 0; i + run < n; run++) {
			unsigned char d = s[i + run];

			if (d < 0x20 || d == 0x7f || d == 0xc2 || d == 0xe2)
				break;
			if (r->html && strchr("&<>\"'", d))
				break;
			if (!r->html && m == ESC_INLINE &&
			    strchr("\\`*_{}[]<>#|!~&", d))
				break;
			if (!r->html && m == ESC_CODE && d == '|')
				break;
		}
		if (run) {
			putn(r, text + i, run);
			i += run;
			continue;
		}
		if (r->html) {
			switch (c) {
			case '&': put(r, "&amp;"); break;
			case '<': put(r, "&lt;"); break;
			case '>': put(r, "&gt;"); break;
			case '"': put(r, "&quot;"); break;
			case '\'': put(r, "&#39;"); break;
			default: putn(r, text + i, 1); break;
			}
		} else {
			/* CommonMark: < > & as entity references (so no
			 * tag is ever in the text, even unrendered); a
			 * backslash before other ASCII punctuation makes it
			 * literal; in a GFM table a code span's pipe needs
			 * one too. */
			if (m == ESC_INLINE && c == '<')
				put(r, "&lt;");
			else if (m == ESC_INLINE && c == '>')
				put(r, "&gt;");
			else if (m == ESC_INLINE && c == '&')
				put(r, "&amp;");
			else if (c != 0xc2 && c != 0xe2) {
				put(r, "\\");
				putn(r, text + i, 1);
			} else {
				putn(r, text + i, 1);
			}
		}
		i++;
	}
}

static void escs(struct rnd *r, const char *s, enum esc_mode m)
{
	esc(r, s, strlen(s), m);
}

/* ---- inline content ------------------------------------------------- */

/* Formatted running text, escaped for its place. */
static void vtext(struct rnd *r, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void vtext(struct rnd *r, const char *fmt, va_list ap)
{
	vformat(r, fmt, ap);
	esc(r, (const char *)r->tmp.data, r->tmp.len, ESC_INLINE);
}

static void text(struct rnd *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void text(struct rnd *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtext(r, fmt, ap);
	va_end(ap);
}

/* A JSON text (never a format). */
static void txt(struct rnd *r, const char *s)
{
	escs(r, s, ESC_INLINE);
}

static void code_s(struct rnd *r, const char *s)
{
	size_t n = strlen(s), run = 0, max = 0;

	if (r->html) {
		put(r, "<code>");
		esc(r, s, n, ESC_CODE);
		put(r, "</code>");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		run = s[i] == '`' ? run + 1 : 0;
		if (run > max)
			max = run;
	}
	for (size_t i = 0; i <= max; i++)
		put(r, "`");
	if (max || n == 0)
		put(r, " ");
	esc(r, s, n, ESC_CODE);
	if (max || n == 0)
		put(r, " ");
	for (size_t i = 0; i <= max; i++)
		put(r, "`");
}

static void strong_begin(struct rnd *r)
{
	put(r, r->html ? "<strong>" : "**");
}

static void strong_end(struct rnd *r)
{
	put(r, r->html ? "</strong>" : "**");
}

static void strong(struct rnd *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void strong(struct rnd *r, const char *fmt, ...)
{
	va_list ap;

	strong_begin(r);
	va_start(ap, fmt);
	vtext(r, fmt, ap);
	va_end(ap);
	strong_end(r);
}

/* A verdict word in the colours of the HTML page. */
static void verdict(struct rnd *r, int good, const char *word)
{
	if (r->html)
		putf(r, "<strong class=\"%s\">", good ? "ok" : "bad");
	else
		put(r, "**");
	txt(r, word);
	put(r, r->html ? "</strong>" : "**");
}

/* A reference to an anchor of the page: a link in HTML, text in
 * Markdown. */
static void ref(struct rnd *r, const char *anchor, const char *label)
{
	if (r->html)
		putf(r, "<a href=\"#%s\">", anchor);
	txt(r, label);
	if (r->html)
		put(r, "</a>");
}

static void dev_ref(struct rnd *r, size_t k)
{
	char a[32], l[32];

	snprintf(a, sizeof(a), "dev-%zu", k + 1);
	snprintf(l, sizeof(l), "DEV-%zu", k + 1);
	ref(r, a, l);
}

/* ---- blocks --------------------------------------------------------- */

static void section_begin(struct rnd *r, const char *id, int major)
{
	if (r->html)
		putf(r, "<section id=\"%s\"%s>\n", id,
		     major ? " class=\"major\"" : "");
}

static void section_end(struct rnd *r)
{
	if (r->html)
		put(r, "</section>\n");
}

static void heading_begin(struct rnd *r, int level, const char *id)
{
	if (r->html) {
		if (id)
			putf(r, "<h%d id=\"%s\">", level, id);
		else
			putf(r, "<h%d>", level);
	} else {
		put(r, "\n");
		for (int i = 0; i < level; i++)
			put(r, "#");
		put(r, " ");
	}
}

static void heading_end(struct rnd *r, int level)
{
	if (r->html)
		putf(r, "</h%d>\n", level);
	else
		put(r, "\n\n");
}

static void heading(struct rnd *r, int level, const char *id,
		    const char *label)
{
	heading_begin(r, level, id);
	txt(r, label);
	heading_end(r, level);
}

static void para_begin(struct rnd *r)
{
	put(r, r->html ? "<p>" : "");
}

static void para_end(struct rnd *r)
{
	put(r, r->html ? "</p>\n" : "\n\n");
}

static void para(struct rnd *r, const char *s)
{
	para_begin(r);
	txt(r, s);
	para_end(r);
}

static void list_begin(struct rnd *r)
{
	put(r, r->html ? "<ul>\n" : "");
}

static void item_begin(struct rnd *r)
{
	put(r, r->html ? "<li>" : "- ");
}

static void item_end(struct rnd *r)
{
	put(r, r->html ? "</li>\n" : "\n");
}

static void list_end(struct rnd *r)
{
	put(r, r->html ? "</ul>\n" : "\n");
}

static void li(struct rnd *r, const char *s)
{
	item_begin(r);
	txt(r, s);
	item_end(r);
}

/* heads: column titles separated by '|'; our own texts. */
static void table_begin(struct rnd *r, const char *cls, const char *heads)
{
	const char *p = heads;

	r->table_cols = 0;
	if (r->html) {
		putf(r, "<table class=\"%s\"><thead><tr>", cls);
		while (*p) {
			const char *bar = strchr(p, '|');
			size_t n = bar ? (size_t)(bar - p) : strlen(p);

			put(r, "<th>");
			esc(r, p, n, ESC_INLINE);
			put(r, "</th>");
			r->table_cols++;
			p += n + (bar ? 1 : 0);
		}
		put(r, "</tr></thead>\n<tbody>\n");
		return;
	}
	put(r, "|");
	while (*p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);

		put(r, " ");
		esc(r, p, n, ESC_INLINE);
		put(r, " |");
		r->table_cols++;
		p += n + (bar ? 1 : 0);
	}
	put(r, "\n|");
	for (int i = 0; i < r->table_cols; i++)
		put(r, "---|");
	put(r, "\n");
}

static void row_begin(struct rnd *r)
{
	put(r, r->html ? "<tr>" : "|");
}

static void row_end(struct rnd *r)
{
	put(r, r->html ? "</tr>\n" : "\n");
}

static void cell_begin(struct rnd *r)
{
	put(r, r->html ? "<td>" : " ");
}

static void cell_end(struct rnd *r)
{
	put(r, r->html ? "</td>" : " |");
}

static void table_end(struct rnd *r)
{
	put(r, r->html ? "</tbody></table>\n" : "\n");
}

static void cell(struct rnd *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void cell(struct rnd *r, const char *fmt, ...)
{
	va_list ap;

	cell_begin(r);
	va_start(ap, fmt);
	vtext(r, fmt, ap);
	va_end(ap);
	cell_end(r);
}

static void cell_s(struct rnd *r, const char *s)
{
	cell_begin(r);
	txt(r, s);
	cell_end(r);
}

static void cell_code(struct rnd *r, const char *s)
{
	cell_begin(r);
	code_s(r, s);
	cell_end(r);
}

/* A two-column row "field | value" of a key-value table. */
static void kv_begin(struct rnd *r, const char *field)
{
	row_begin(r);
	cell_s(r, field);
	cell_begin(r);
}

static void kv_end(struct rnd *r)
{
	cell_end(r);
	row_end(r);
}

static void kv(struct rnd *r, const char *field, const char *value)
{
	kv_begin(r, field);
	txt(r, value);
	kv_end(r);
}

/* A code block: Markdown fences longer than any backtick run inside. */
static void pre(struct rnd *r, const char *s)
{
	size_t n = strlen(s), run = 0, max = 0, fence;

	if (r->html) {
		put(r, "<pre>");
		esc(r, s, n, ESC_PRE);
		put(r, "</pre>\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		run = s[i] == '`' ? run + 1 : 0;
		if (run > max)
			max = run;
	}
	fence = max < 3 ? 3 : max + 1;
	for (size_t i = 0; i < fence; i++)
		put(r, "`");
	put(r, "\n");
	esc(r, s, n, ESC_PRE);
	if (n == 0 || s[n - 1] != '\n')
		put(r, "\n");
	for (size_t i = 0; i < fence; i++)
		put(r, "`");
	put(r, "\n\n");
}

/* ---- number texts ---------------------------------------------------- */

/* "1 h 02 m 03 s": the largest non-zero unit first, the smaller ones in
 * two digits, a fraction of a second only when there is one ("0.014007 s",
 * trailing zeros cut). SPEC.md 21.4 "Durations". */
static void fmt_dur(int64_t us, char out[64])
{
	uint64_t u = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
	uint64_t s = u / 1000000, f = u % 1000000;
	uint64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;
	char frac[16] = "";
	const char *sign = us < 0 ? "-" : "";

	s %= 60;
	if (f) {
		int k = 6;

		snprintf(frac, sizeof(frac), ".%06" PRIu64, f);
		while (frac[k] == '0')
			frac[k--] = 0;
	}
	if (d)
		snprintf(out, 64, "%s%" PRIu64 " d %02" PRIu64 " h %02" PRIu64
			 " m %02" PRIu64 "%s s", sign, d, h, m, s, frac);
	else if (h)
		snprintf(out, 64, "%s%" PRIu64 " h %02" PRIu64 " m %02" PRIu64
			 "%s s", sign, h, m, s, frac);
	else if (m)
		snprintf(out, 64, "%s%" PRIu64 " m %02" PRIu64 "%s s", sign, m,
			 s, frac);
	else
		snprintf(out, 64, "%s%" PRIu64 "%s s", sign, s, frac);
}

/* Permille of the error budget as a percentage: 973 -> "97.3 %". */
static void fmt_permille(int64_t p, char out[40])
{
	if (p < 0)
		snprintf(out, 40, "-%" PRId64 ".%" PRId64 " %%", -p / 10,
			 -p % 10);
	else
		snprintf(out, 40, "%" PRId64 ".%" PRId64 " %%", p / 10, p % 10);
}

static void dur_text(struct rnd *r, int64_t us)
{
	char d[64];

	fmt_dur(us, d);
	txt(r, d);
}

static void cell_dur(struct rnd *r, int64_t us)
{
	char d[64];

	fmt_dur(us, d);
	cell_s(r, d);
}

/* An optional duration member: "n/a" when null. */
static void cell_dur_n(struct rnd *r, const cJSON *o, const char *key)
{
	int64_t v;

	if (j_intn(r, o, key, &v))
		cell_dur(r, v);
	else
		cell_s(r, "n/a");
}

/* ---- calendar (proleptic Gregorian, UTC) ----------------------------- */

/* Days since 1970-01-01 of y-m-d (the usual era arithmetic). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* ---- deviations (SPEC.md 21.4 "Deviations") -------------------------- */

static int add_dev(struct rnd *r, enum dev_kind kind, const cJSON *comp,
		   int64_t x, int64_t n)
{
	struct dev *d;

	if (r->rc < 0)
		return r->rc;
	d = realloc(r->devs, (r->n_devs + 1) * sizeof(*d));
	if (!d)
		return r->rc = alog_err_set(r->err, ALOG_ENOMEM,
					    "out of memory");
	r->devs = d;
	d[r->n_devs].kind = kind;
	d[r->n_devs].comp = comp;
	d[r->n_devs].x = x;
	d[r->n_devs].n = n;
	d[r->n_devs].x2 = 0;
	d[r->n_devs].n2 = 0;
	r->n_devs++;
	return 0;
}

/* The number (0-based) of the deviation of kind for comp, or -1. */
static long find_dev(const struct rnd *r, enum dev_kind kind,
		     const cJSON *comp)
{
	for (size_t i = 0; i < r->n_devs; i++)
		if (r->devs[i].kind == kind && r->devs[i].comp == comp)
			return (long)i;
	return -1;
}

/* Decided from the JSON's own verdicts (pass, approved, reconciled,
 * failover_pass), in inventory order, then the report-wide ones. */
static void collect_devs(struct rnd *r, const cJSON *a12, const cJSON *comps)
{
	for (int i = 0; i < n_items(comps) && r->rc == 0; i++) {
		const cJSON *c = item(comps, i);
		const cJSON *a;
		int64_t x = 0;

		where(r, "a1_2.components[%d]", i);
		if (!cJSON_IsObject(c)) {
			r->rc = alog_err_set(r->err, ALOG_EINVAL,
					     "report member \"%s\" is not an object",
					     r->where);
			return;
		}
		if (!j_bool(r, c, "pass")) {
			const cJSON *months = j_arr(r, c, "months");

			for (int k = 0; k < n_items(months); k++) {
				where(r, "a1_2.components[%d].months[%d]", i, k);
				x += !j_bool(r, item(months, k), "pass");
			}
			where(r, "a1_2.components[%d]", i);
			if (x == 0)
				x = 1; /* no month: the period itself */
			add_dev(r, DEV_TARGET, c, x,
				n_items(months) ? n_items(months) : 1);
		}
		a = j_arr(r, c, "maintenance");
		x = 0;
		for (int k = 0; k < n_items(a); k++) {
			where(r, "a1_2.components[%d].maintenance[%d]", i, k);
			x += !j_bool(r, item(a, k), "approved");
		}
		if (x)
			add_dev(r, DEV_WINDOW, c, x, n_items(a));
		where(r, "a1_2.components[%d]", i);
		a = j_arr(r, c, "activations");
		x = 0;
		for (int k = 0; k < n_items(a); k++) {
			where(r, "a1_2.components[%d].activations[%d]", i, k);
			x += !j_bool(r, item(a, k), "reconciled");
		}
		if (x)
			add_dev(r, DEV_RECON, c, x, n_items(a));
		x = 0;
		for (int k = 0; k < n_items(a); k++) {
			where(r, "a1_2.components[%d].activations[%d]", i, k);
			x += !j_bool(r, item(a, k), "failover_pass");
		}
		if (x)
			add_dev(r, DEV_FAILOVER, c, x, n_items(a));
		where(r, "a1_2.components[%d]", i);
		a = j_arr(r, c, "findings");
		if (n_items(a))
			add_dev(r, DEV_FINDING, c, n_items(a), n_items(a));
	}
	where(r, "a1_2");
	if (j_int(r, a12, "malformed_inputs") > 0)
		add_dev(r, DEV_MALFORMED, NULL,
			j_int(r, a12, "malformed_inputs"),
			j_int(r, a12, "malformed_inputs"));
}

/* ---- CC7.2 inputs (cc7_2, SPEC.md 21 and 20.14) -------------------- */

/* probes[i].days[k]: ["YYYY-MM-DD", expected, received]. */
static void check_day(struct rnd *r, const cJSON *d, int i, int k)
{
	int64_t us;

	if (r->rc < 0)
		return;
	if (!cJSON_IsArray(d) || n_items(d) != 3 ||
	    parse_day(item(d, 0), &us) < 0 ||
	    !is_int(item(d, 1)) ||
	    !is_int(item(d, 2)) ||
	    item(d, 1)->valuedouble < 0 ||
	    item(d, 2)->valuedouble < 0)
		r->rc = alog_err_set(r->err, ALOG_EINVAL,
				     "report member \"cc7_2.probes[%d].days[%d]\" "
				     "is not [day, expected, received]", i, k);
}

/* The parts of a checked day. */
static const char *day_s(const cJSON *d)
{
	return item(d, 0)->valuestring;
}

static int64_t day_n(const cJSON *d, int k)
{
	return (int64_t)item(d, k)->valuedouble;
}

static void not_object(struct rnd *r)
{
	if (r->rc == 0)
		r->rc = alog_err_set(r->err, ALOG_EINVAL,
				     "report member \"%s\" is not an object",
				     r->where);
}

/* The position in probes of the component called name, or -1. */
static int probe_of(const cJSON *probes, const char *name)
{
	for (int i = 0; i < n_items(probes); i++) {
		const char *c = j_stropt(item(probes, i), "component");

		if (c && strcmp(c, name) == 0)
			return i;
	}
	return -1;
}

/* Every member of cc7_2 the deviations and the tables below read
 * before they do: probes and their days, gaps (each naming a component
 * of probes), anomalies, the verification's days. */
static void check_cc72(struct rnd *r)
{
	const cJSON *cc = r->cc, *probes, *gaps, *anoms, *ver, *days;
	int64_t us, v;

	where(r, "cc7_2");
	probes = j_arr(r, cc, "probes");
	gaps = j_arr(r, cc, "gaps");
	anoms = j_arr(r, cc, "anomalies");
	ver = j_obj(r, cc, "verification");
	for (int i = 0; i < n_items(probes) && r->rc == 0; i++) {
		const cJSON *p = item(probes, i);

		where(r, "cc7_2.probes[%d]", i);
		if (!cJSON_IsObject(p)) {
			not_object(r);
			break;
		}
		j_str(r, p, "component");
		j_count(r, p, "probe_interval_s");
		j_count(r, p, "tolerance_us");
		j_count(r, p, "expected");
		j_count(r, p, "received");
		days = j_arr(r, p, "days");
		for (int k = 0; k < n_items(days) && r->rc == 0; k++)
			check_day(r, item(days, k), i, k);
	}
	for (int k = 0; k < n_items(gaps) && r->rc == 0; k++) {
		const cJSON *g = item(gaps, k);
		const char *name;

		where(r, "cc7_2.gaps[%d]", k);
		if (!cJSON_IsObject(g)) {
			not_object(r);
			break;
		}
		name = j_str(r, g, "component");
		if (r->rc == 0 && probe_of(probes, name) < 0)
			r->rc = alog_err_set(r->err, ALOG_EINVAL,
					     "report member \"cc7_2.gaps[%d]."
					     "component\" names no component of "
					     "cc7_2.probes", k);
		j_time(r, g, "start");
		j_time(r, g, "end");
		j_count(r, g, "length_us");
		j_count(r, g, "in_period_us");
		j_index_opt(r, g, "before_index", &v);
		j_index_opt(r, g, "after_index", &v);
	}
	for (int k = 0; k < n_items(anoms) && r->rc == 0; k++) {
		const cJSON *a = item(anoms, k), *ix;

		where(r, "cc7_2.anomalies[%d]", k);
		if (!cJSON_IsObject(a)) {
			not_object(r);
			break;
		}
		j_str(r, a, "rule");
		j_str(r, a, "subject");
		j_time(r, a, "window_start");
		j_time(r, a, "window_end");
		j_time(r, a, "detected");
		j_count(r, a, "events");
		ix = j_arr(r, a, "indices");
		for (int i = 0; i < n_items(ix) && r->rc == 0; i++) {
			const cJSON *x = item(ix, i);

			if (!is_int(x) || x->valuedouble < 0)
				r->rc = alog_err_set(r->err, ALOG_EINVAL,
						     "report member \"cc7_2."
						     "anomalies[%d].indices[%d]\" "
						     "is not an index", k, i);
		}
	}
	where(r, "cc7_2.verification");
	j_count(r, ver, "runs");
	j_count(r, ver, "pass");
	j_count(r, ver, "fail");
	days = j_arr(r, ver, "days_without_a_run");
	for (int k = 0; k < n_items(days) && r->rc == 0; k++)
		if (parse_day(item(days, k), &us) < 0)
			r->rc = alog_err_set(r->err, ALOG_EINVAL,
					     "report member \"cc7_2.verification."
					     "days_without_a_run[%d]\" is not a "
					     "day (YYYY-MM-DD)", k);
}

/* SPEC.md 21.4 kinds 7 and 8, after the A1.2 kinds. Kind 7, per
 * component of probes with a gap: x = the days of the period that a gap
 * lies in (its inside, clipped to the period, overlaps the day), N = the
 * component's days. Kind 8, report-wide: the days without a
 * verification run of the period's days, and the failed runs of the
 * runs. */
static void collect_mon_devs(struct rnd *r)
{
	const cJSON *probes, *gaps, *ver;
	int64_t day0 = floor_div(r->from_us, DAY_US), w, f;

	check_cc72(r);
	if (r->rc < 0)
		return;
	probes = member(r->cc, "probes");
	gaps = member(r->cc, "gaps");
	ver = member(r->cc, "verification");
	for (int i = 0; i < n_items(probes) && r->rc == 0; i++) {
		const cJSON *p = item(probes, i);
		const char *name = j_stropt(p, "component");
		int nd = n_items(member(p, "days"));
		unsigned char *hit = calloc(nd > 0 ? (size_t)nd : 1, 1);
		int64_t n_gaps = 0, x = 0;

		if (!hit) {
			r->rc = alog_err_set(r->err, ALOG_ENOMEM,
					     "out of memory");
			return;
		}
		where(r, "cc7_2.gaps");
		for (int k = 0; k < n_items(gaps); k++) {
			const cJSON *g = item(gaps, k);
			int64_t a, b, first, last;

			if (strcmp(j_stropt(g, "component"), name) != 0)
				continue;
			n_gaps++;
			a = j_time(r, g, "start");
			b = j_time(r, g, "end");
			if (a < r->from_us)
				a = r->from_us;
			if (b > r->to_us)
				b = r->to_us;
			if (a >= b)
				continue;
			first = floor_div(a, DAY_US) - day0;
			last = floor_div(b - 1, DAY_US) - day0;
			for (int64_t d = first < 0 ? 0 : first;
			     d <= last && d < nd; d++)
				hit[d] = 1;
		}
		for (int d = 0; d < nd; d++)
			x += hit[d];
		free(hit);
		if (n_gaps && add_dev(r, DEV_GAP, p, x, nd) == 0)
			r->devs[r->n_devs - 1].x2 = n_gaps;
	}
	where(r, "cc7_2.verification");
	w = n_items(member(ver, "days_without_a_run"));
	f = j_count(r, ver, "fail");
	if ((w || f) && add_dev(r, DEV_VERIFY, NULL, w, r->n_days) == 0) {
		r->devs[r->n_devs - 1].x2 = f;
		r->devs[r->n_devs - 1].n2 = j_count(r, ver, "runs");
	}
}

static const char *const dev_control[DEV_KINDS] = {
	"A1.2 availability commitment: the component meets its target",
	"A1.2 (with CC8.1): maintenance is excluded only with an approved change",
	"A1.2 backup and recovery: every spooled event is accounted for on replay",
	"A1.2 recovery: failover to the spool within the failover target",
	"A1.2 (with CC7.2): the availability evidence is consistent",
	"A1.2 (with CC7.2): report inputs follow the event vocabulary",
	"CC7.2 monitoring: every component is probed at its interval, with "
	"no gap over the tolerance",
	"CC7.2 monitoring: the log's integrity is verified every day and "
	"every run passes",
};

/* "1 of 3 maintenance windows without an approved change reference" */
static void dev_summary(struct rnd *r, const struct dev *d)
{
	switch (d->kind) {
	case DEV_TARGET:
		text(r, "%" PRId64 " of %" PRId64 " months below target",
		     d->x, d->n);
		break;
	case DEV_WINDOW:
		text(r, "%" PRId64 " of %" PRId64 " maintenance windows "
		     "without an approved change reference", d->x, d->n);
		break;
	case DEV_RECON:
		text(r, "%" PRId64 " of %" PRId64 " spool activations not "
		     "reconciled", d->x, d->n);
		break;
	case DEV_FAILOVER:
		text(r, "%" PRId64 " of %" PRId64 " failovers over the %" PRId64
		     " s target or not measured", d->x, d->n,
		     r->failover_target_s);
		break;
	case DEV_FINDING:
		text(r, "%" PRId64 " of %" PRId64 " findings in the evidence "
		     "(each is a deviation)", d->x, d->n);
		break;
	case DEV_MALFORMED:
		text(r, "%" PRId64 " of %" PRId64 " malformed report inputs "
		     "not used", d->x, d->n);
		break;
	case DEV_GAP: {
		char tol[64];

		fmt_dur(j_count(r, d->comp, "tolerance_us"), tol);
		text(r, "%" PRId64 " of %" PRId64 " days with a monitoring gap "
		     "over the %s tolerance (%" PRId64 " gap%s)", d->x, d->n,
		     tol, d->x2, d->x2 == 1 ? "" : "s");
		break;
	}
	default:
		if (d->x)
			text(r, "%" PRId64 " of %" PRId64 " days without a "
			     "verification run", d->x, d->n);
		if (d->x && d->x2)
			txt(r, "; ");
		if (d->x2)
			text(r, "%" PRId64 " of %" PRId64 " verification runs "
			     "failed", d->x2, d->n2);
		break;
	}
}

/* ---- 1. cover --------------------------------------------------------- */

static void checkpoint_text(struct rnd *r, const cJSON *ck)
{
	text(r, "checkpoint %" PRId64 ", size %" PRId64 ", root ",
	     j_int(r, ck, "checkpoint"), j_int(r, ck, "size"));
	code_s(r, j_str(r, ck, "root"));
	text(r, ", signed at %s", j_str(r, ck, "signed_at"));
}

static void cover(struct rnd *r)
{
	const cJSON *root = r->root;
	const cJSON *period, *cfg, *rec, *integ, *start, *end;
	const char *file, *sha, *reason;
	int complete;

	where(r, "%s", "");
	period = j_obj(r, root, "period");
	cfg = j_obj(r, root, "config");
	rec = j_obj(r, root, "recorded");
	integ = j_obj(r, root, "integrity");
	section_begin(r, "cover", 0);
	heading(r, 1, NULL, j_str(r, root, "title"));
	para_begin(r);
	strong(r, "%s", j_str(r, root, "nature"));
	para_end(r);
	heading(r, 2, NULL, "1. Cover");
	table_begin(r, "kv", "Item|Value");
	kv(r, "Title", j_str(r, root, "title"));
	kv(r, "Nature", j_str(r, root, "nature"));
	kv(r, "Criteria", "A1.2 and CC7.2 \xe2\x80\x94 2017 TSC, revised points "
	   "of focus 2022");
	kv(r, "System (log origin)", j_str(r, root, "origin"));
	where(r, "period");
	kv_begin(r, "Period (UTC)");
	text(r, "[%s, %s)", j_str(r, period, "from"), j_str(r, period, "to"));
	text(r, " \xe2\x80\x94 from included, to excluded; time zone %s",
	     j_str(r, period, "time_zone"));
	kv_end(r);
	where(r, "%s", "");
	kv_begin(r, "Report id");
	code_s(r, j_str(r, root, "report_id"));
	kv_end(r);
	kv(r, "Generated at", j_str(r, root, "generated_at"));
	kv(r, "Generator", j_str(r, root, "generator"));
	where(r, "config");
	file = j_strn(r, cfg, "file");
	sha = j_strn(r, cfg, "sha256");
	kv_begin(r, "Configuration");
	if (file)
		txt(r, file);
	else
		txt(r, "built-in configuration");
	if (sha) {
		txt(r, ", SHA-256 ");
		code_s(r, sha);
	}
	kv_end(r);
	where(r, "recorded");
	kv_begin(r, "Recorded in the log");
	if (j_bool(r, rec, "recorded")) {
		txt(r, "yes, as a report.generated event");
	} else {
		reason = j_strn(r, rec, "reason");
		txt(r, "no: ");
		txt(r, reason ? reason : "no reason given");
	}
	kv_end(r);
	where(r, "integrity");
	start = j_objn(r, integ, "start_checkpoint");
	end = j_objn(r, integ, "end_checkpoint");
	kv_begin(r, "Start checkpoint");
	if (start) {
		where(r, "integrity.start_checkpoint");
		checkpoint_text(r, start);
	} else {
		txt(r, "none: the start is the empty tree, which every log extends");
	}
	kv_end(r);
	where(r, "integrity");
	kv_begin(r, "End checkpoint");
	if (end) {
		where(r, "integrity.end_checkpoint");
		checkpoint_text(r, end);
	} else {
		txt(r, "none yet: no checkpoint was signed at or after the "
		    "end of the period");
	}
	kv_end(r);
	where(r, "integrity");
	kv_begin(r, "Consistency (start to end)");
	if (j_bool(r, integ, "consistency_verified"))
		verdict(r, 1, "verified");
	else
		verdict(r, 0, "NOT verified");
	kv_end(r);
	complete = j_bool(r, integ, "complete");
	kv_begin(r, "Complete");
	if (complete)
		verdict(r, 1, "complete");
	else
		verdict(r, 0, "NOT complete");
	if (!complete)
		txt(r, end ? " (the end checkpoint or the proof does not cover "
			     "the population)"
			   : " (yet: run the report again once a checkpoint "
			     "was signed after the period)");
	kv_end(r);
	table_end(r);
	section_end(r);
}

/* ---- 2. completeness ------------------------------------------------- */

static void daily_chart(struct rnd *r, const cJSON *daily);

static void completeness(struct rnd *r)
{
	const cJSON *pop, *daily;
	const char *first, *last;
	int64_t count, sum = 0;

	where(r, "%s", "");
	pop = j_obj(r, r->root, "population");
	where(r, "population");
	section_begin(r, "completeness", 1);
	heading(r, 2, NULL, "2. Completeness");
	para(r, "The population is every event the log received in the "
	     "period: a contiguous index range, so there are no gaps by "
	     "construction (SPEC.md section 19). Its SHA-256 covers the "
	     "members' canonical records, one per line, in index order.");
	count = j_int(r, pop, "count");
	first = j_strn(r, pop, "first_received");
	last = j_strn(r, pop, "last_received");
	table_begin(r, "wide", "Population|Query|Count|Index range|Gaps|"
		    "First received|Last received|SHA-256");
	row_begin(r);
	cell_s(r, "all events received in the period");
	cell_code(r, j_str(r, pop, "query"));
	if (count == 0)
		cell_s(r, "0 (recorded zero: no event in the period)");
	else
		cell(r, "%" PRId64, count);
	cell(r, "[%" PRId64 ", %" PRId64 ")", j_int(r, pop, "index_from"),
	     j_int(r, pop, "index_to"));
	cell(r, "%" PRId64, j_int(r, pop, "gaps"));
	cell_s(r, first ? first : "none");
	cell_s(r, last ? last : "none");
	cell_code(r, j_str(r, pop, "sha256"));
	row_end(r);
	table_end(r);

	daily = j_arr(r, pop, "daily");
	for (int i = 0; i < n_items(daily) && r->rc == 0; i++) {
		const cJSON *d = item(daily, i);

		if (!cJSON_IsArray(d) || n_items(d) != 2 ||
		    !cJSON_IsString(item(d, 0)) ||
		    !is_int(item(d, 1))) {
			r->rc = alog_err_set(r->err, ALOG_EINVAL,
					     "report member \"population.daily[%d]\" "
					     "is not [day, count]", i);
			return;
		}
		sum += (int64_t)item(d, 1)->valuedouble;
	}
	heading(r, 3, NULL, "Events received per UTC day");
	para_begin(r);
	text(r, "%d days; the daily counts add up to %" PRId64 ", ",
	     n_items(daily), sum);
	if (sum == count)
		verdict(r, 1, "equal to the population count");
	else
		verdict(r, 0, "NOT equal to the population count");
	txt(r, ".");
	para_end(r);
	if (r->html)
		daily_chart(r, daily);
	/* the counts by month (the chart has every day) */
	table_begin(r, "narrow", "Month|Days|Events");
	for (int i = 0; i < n_items(daily) && r->rc == 0;) {
		const char *day = item(item(daily, i), 0)->valuestring;
		int64_t msum = 0;
		int days = 0;

		while (i < n_items(daily)) {
			const cJSON *d = item(daily, i);
			const char *s = item(d, 0)->valuestring;

			if (strncmp(s, day, 7) != 0)
				break;
			msum += (int64_t)item(d, 1)->valuedouble;
			days++;
			i++;
		}
		row_begin(r);
		cell_begin(r);
		esc(r, day, strnlen(day, 7), ESC_INLINE);
		cell_end(r);
		cell(r, "%d", days);
		cell(r, "%" PRId64, msum);
		row_end(r);
	}
	table_end(r);
	section_end(r);
}

/* ---- SVG charts (HTML only) ----------------------------------------- */

#define SVG_X0 10      /* left margin, px */
#define SVG_PLOT (ALOG_RENDER_SVG_WIDTH - 20)

/* x of time t in hundredths of a pixel, clamped to the period. */
static int64_t svg_x(const struct rnd *r, int64_t t)
{
	u128 span = (u128)(r->to_us - r->from_us);

	if (t <= r->from_us)
		return SVG_X0 * 100;
	if (t >= r->to_us)
		return (SVG_X0 + SVG_PLOT) * 100;
	return SVG_X0 * 100 +
	       (int64_t)((u128)(t - r->from_us) * (SVG_PLOT * 100) / span);
}

static const char *const classes[] = {
	"up", "partial", "down", "excluded", "unknown",
};

static int class_of(const char *s)
{
	for (int i = 0; i < 5; i++)
		if (strcmp(s, classes[i]) == 0)
			return i;
	return -1;
}

static void timeline_svg(struct rnd *r, int pos, const cJSON *tl)
{
	int64_t y;
	unsigned m;
	int64_t last_label = -100000, end_l, months = 0;
	char t0[ALOG_TIME_TEXT_MAX], t1[ALOG_TIME_TEXT_MAX];

	if (r->rc < 0)
		return;

	putf(r, "<svg class=\"timeline\" width=\"%d\" height=\"80\" "
	     "viewBox=\"0 0 %d 80\" role=\"img\" aria-label=\"availability "
	     "timeline\">\n", ALOG_RENDER_SVG_WIDTH, ALOG_RENDER_SVG_WIDTH);
	putf(r, "<defs><pattern id=\"hatch-%d\" width=\"6\" height=\"6\" "
	     "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
	     "<rect width=\"6\" height=\"6\" fill=\"#d0d0d0\"/>"
	     "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#8a8a8a\" "
	     "stroke-width=\"3\"/></pattern></defs>\n", pos);
	for (int i = 0; i < n_items(tl) && r->rc == 0; i++) {
		const cJSON *s = item(tl, i);
		const cJSON *a = item(s, 0);
		const cJSON *b = item(s, 1);
		const cJSON *c = item(s, 2);
		int64_t x0, x1;
		int k;

		/* checked by availability() before */
		k = class_of(c->valuestring);
		x0 = svg_x(r, (int64_t)a->valuedouble);
		x1 = svg_x(r, (int64_t)b->valuedouble);
		if (x1 < x0)
			x1 = x0;
		putf(r, "<rect class=\"seg %s\" x=\"%" PRId64 ".%02" PRId64
		     "\" y=\"4\" width=\"%" PRId64 ".%02" PRId64
		     "\" height=\"28\"", classes[k], x0 / 100, x0 % 100,
		     (x1 - x0) / 100, (x1 - x0) % 100);
		if (k == 3)
			putf(r, " fill=\"url(#hatch-%d)\"", pos);
		if (alog_time_format((int64_t)a->valuedouble, t0) < 0 ||
		    alog_time_format((int64_t)b->valuedouble, t1) < 0) {
			put(r, "/>\n");
			continue;
		}
		putf(r, "><title>%s [%s, %s)</title></rect>\n", classes[k],
		     t0, t1);
	}
	/* month ticks; labels where they do not crowd the ends */
	civil_from_days(floor_div(r->from_us, DAY_US), &y, &m);
	end_l = (SVG_X0 + SVG_PLOT) * 100 - 9000;
	for (;;) {
		int64_t ms;

		m++;
		if (m == 13) {
			m = 1;
			y++;
		}
		ms = days_from_civil(y, m, 1) * DAY_US;
		if (ms >= r->to_us || ++months > MONTH_TICKS_MAX)
			break;
		int64_t x = svg_x(r, ms);

		putf(r, "<line class=\"tick\" x1=\"%" PRId64 ".%02" PRId64
		     "\" x2=\"%" PRId64 ".%02" PRId64 "\" y1=\"2\" y2=\"38\"/>\n",
		     x / 100, x % 100, x / 100, x % 100);
		if (x - last_label >= 6000 && x >= 9000 + SVG_X0 * 100 &&
		    x <= end_l) {
			putf(r, "<text x=\"%" PRId64 ".%02" PRId64 "\" y=\"50\" "
			     "text-anchor=\"middle\">%04" PRId64 "-%02u</text>\n",
			     x / 100, x % 100, y, m);
			last_label = x;
		}
	}
	if (alog_time_format(r->from_us, t0) == 0 &&
	    alog_time_format(r->to_us, t1) == 0) {
		t0[10] = 0;
		t1[10] = 0;
		putf(r, "<text x=\"%d\" y=\"50\" text-anchor=\"start\">%s</text>\n",
		     SVG_X0, t0);
		putf(r, "<text x=\"%d\" y=\"50\" text-anchor=\"end\">%s</text>\n",
		     SVG_X0 + SVG_PLOT, t1);
	}
	for (int k = 0; k < 5; k++) {
		int x = SVG_X0 + 110 * k;

		putf(r, "<rect class=\"key %s\" x=\"%d\" y=\"62\" width=\"12\" "
		     "height=\"12\"%s", classes[k], x, k == 3 ? "" : "/>");
		if (k == 3)
			putf(r, " fill=\"url(#hatch-%d)\"/>", pos);
		putf(r, "<text x=\"%d\" y=\"72\">%s</text>\n", x + 16,
		     classes[k]);
	}
	put(r, "</svg>\n");
}

static void daily_chart(struct rnd *r, const cJSON *daily)
{
	int n = n_items(daily);
	int64_t max = 0;
	const int x0 = 60, plot = ALOG_RENDER_SVG_WIDTH - 70, top = 10, h = 110;

	if (r->rc < 0)
		return;
	for (int i = 0; i < n; i++) {
		int64_t v = (int64_t)item(item(daily, i), 1)->valuedouble;

		if (v > max)
			max = v;
	}
	putf(r, "<svg class=\"volume\" width=\"%d\" height=\"150\" viewBox=\"0 0 "
	     "%d 150\" role=\"img\" aria-label=\"events received per day\">\n",
	     ALOG_RENDER_SVG_WIDTH, ALOG_RENDER_SVG_WIDTH);
	putf(r, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
	     x0, top + h, x0 + plot, top + h);
	putf(r, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
	     x0, top, x0, top + h);
	putf(r, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%" PRId64 "</text>\n",
	     x0 - 4, top + 8, max);
	putf(r, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n",
	     x0 - 4, top + h);
	for (int i = 0; i < n && r->rc == 0 && max > 0; i++) {
		const cJSON *d = item(daily, i);
		int64_t v = (int64_t)item(d, 1)->valuedouble;
		int64_t xa = (int64_t)x0 * 100 + (int64_t)i * plot * 100 / n;
		int64_t xb = (int64_t)x0 * 100 + (int64_t)(i + 1) * plot * 100 / n;
		int64_t bh, w;

		if (v <= 0)
			continue;
		bh = (int64_t)((u128)v * (uint64_t)(h * 100) / (uint64_t)max);
		w = xb - xa;
		if (w > 300)
			w = w * 8 / 10; /* a gap between wide bars */
		putf(r, "<rect class=\"bar\" x=\"%" PRId64 ".%02" PRId64 "\" y=\""
		     "%" PRId64 ".%02" PRId64 "\" width=\"%" PRId64 ".%02" PRId64
		     "\" height=\"%" PRId64 ".%02" PRId64 "\"><title>",
		     xa / 100, xa % 100, (top * 100 + h * 100 - bh) / 100,
		     (top * 100 + h * 100 - bh) % 100, w / 100, w % 100,
		     bh / 100, bh % 100);
		txt(r, item(d, 0)->valuestring);
		putf(r, ": %" PRId64 "</title></rect>\n", v);
	}
	if (n > 0) {
		putf(r, "<text x=\"%d\" y=\"%d\" text-anchor=\"start\">", x0,
		     top + h + 16);
		txt(r, item(item(daily, 0), 0)->valuestring);
		putf(r, "</text>\n<text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
		     x0 + plot, top + h + 16);
		txt(r, item(item(daily, n - 1), 0)->valuestring);
		put(r, "</text>\n");
	}
	putf(r, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">events "
	     "received per UTC day</text>\n", x0 + plot / 2, top + h + 30);
	put(r, "</svg>\n");
}

/* ---- 3. A1.2 --------------------------------------------------------- */

static void pct_cell(struct rnd *r, const cJSON *c, const char *key)
{
	if (!j_bool(r, c, "measured")) {
		cell_s(r, "not measured");
		return;
	}
	cell(r, "%s %%", j_str(r, c, key));
}

static void result_text(struct rnd *r, const cJSON *c)
{
	if (j_bool(r, c, "pass")) {
		verdict(r, 1, "PASS");
		return;
	}
	verdict(r, 0, "FAIL");
	if (!j_bool(r, c, "measured"))
		txt(r, " (not measured: all of the period excluded)");
	else if (j_bool(r, c, "unknown_decides"))
		txt(r, " (fails because of unknown time)");
}

/* "max 0.014007 s; 1 of 1 within 30 s", or "n/a". */
static void failover_text(struct rnd *r, const cJSON *acts)
{
	int64_t max = 0, v;
	int measured = 0, within = 0;

	for (int k = 0; k < n_items(acts); k++) {
		const cJSON *a = item(acts, k);

		if (j_intn(r, a, "failover_us", &v)) {
			measured++;
			if (v > max)
				max = v;
		}
		within += j_bool(r, a, "failover_pass");
	}
	if (n_items(acts) == 0) {
		txt(r, "n/a");
		return;
	}
	if (measured) {
		txt(r, "max ");
		dur_text(r, max);
		txt(r, "; ");
	}
	text(r, "%d of %d within %" PRId64 " s", within, n_items(acts),
	     r->failover_target_s);
}

static void summary_table(struct rnd *r, const cJSON *comps)
{
	table_begin(r, "wide summary", "Component|Tier|Target|Signal|Period|"
		    "Excluded|Down|Partial|Unknown|Availability raw|"
		    "Availability weighted|Error budget used|Episodes|MTTD|MTTR|"
		    "MTBF|Longest outage|Failover|Result");
	for (int i = 0; i < n_items(comps) && r->rc == 0; i++) {
		const cJSON *c = item(comps, i);
		char a[32], p[40];

		where(r, "a1_2.components[%d]", i);
		snprintf(a, sizeof(a), "component-%d", i + 1);
		row_begin(r);
		cell_begin(r);
		ref(r, a, j_str(r, c, "component"));
		cell_end(r);
		cell_s(r, j_str(r, c, "tier"));
		cell(r, "%s %%", j_str(r, c, "target"));
		cell_s(r, j_str(r, c, "signal"));
		cell_dur(r, j_int(r, c, "period_us"));
		cell_dur(r, j_int(r, c, "excluded_us"));
		cell_dur(r, j_int(r, c, "down_us"));
		cell_dur(r, j_int(r, c, "partial_us"));
		cell_dur(r, j_int(r, c, "unknown_us"));
		pct_cell(r, c, "availability_raw");
		pct_cell(r, c, "availability_weighted");
		fmt_permille(j_int(r, c, "error_budget_used_permille"), p);
		cell_s(r, p);
		cell(r, "%" PRId64, j_int(r, c, "episodes_started"));
		cell_dur_n(r, c, "mttd_us");
		cell_dur_n(r, c, "mttr_us");
		cell_dur_n(r, c, "mtbf_us");
		cell_dur_n(r, c, "longest_outage_us");
		cell_begin(r);
		failover_text(r, j_arr(r, c, "activations"));
		cell_end(r);
		cell_begin(r);
		result_text(r, c);
		cell_end(r);
		row_end(r);
	}
	table_end(r);
}

/* SPEC.md 20.5 with this component's numbers. */
static void formulas(struct rnd *r, const cJSON *c)
{
	int64_t T = j_int(r, c, "period_us"), E = j_int(r, c, "excluded_us");
	int64_t Dm = j_int(r, c, "down_us"), Dp = j_int(r, c, "partial_us");
	int64_t U = j_int(r, c, "unknown_us"), up = j_int(r, c, "up_us");
	int64_t w = r->w_permille, tgt = j_int(r, c, "target_ppm");
	int64_t B = T - E;
	char dT[64], dE[64], dDm[64], dDp[64], dU[64], dup[64], bud[40];
	struct alog_buf f;

	if (r->rc < 0)
		return;
	fmt_dur(T, dT);
	fmt_dur(E, dE);
	fmt_dur(Dm, dDm);
	fmt_dur(Dp, dDp);
	fmt_dur(U, dU);
	fmt_dur(up, dup);
	fmt_permille(j_int(r, c, "error_budget_used_permille"), bud);
	alog_buf_init(&f, 0);
	r->rc = alog_buf_addf(&f, r->err,
		"T  = period                  = %" PRId64 " \xc2\xb5s (%s)\n"
		"E  = approved maintenance    = %" PRId64 " \xc2\xb5s (%s)\n"
		"Dm = down                    = %" PRId64 " \xc2\xb5s (%s)\n"
		"Dp = partial                 = %" PRId64 " \xc2\xb5s (%s)\n"
		"U  = unknown                 = %" PRId64 " \xc2\xb5s (%s)\n"
		"up = T - E - Dm - Dp - U     = %" PRId64 " \xc2\xb5s (%s)\n"
		"w  = partial weight          = %" PRId64 " permille\n"
		"target                       = %" PRId64 " ppm\n"
		"B  = T - E                   = %" PRId64 " \xc2\xb5s\n\n",
		T, dT, E, dE, Dm, dDm, Dp, dDp, U, dU, up, dup, w, tgt, B);
	if (r->rc == 0 && !j_bool(r, c, "measured"))
		r->rc = alog_buf_adds(&f, "B = 0: the period is not measured "
				      "(no ratio; it does not pass)\n", r->err);
	else if (r->rc == 0)
		r->rc = alog_buf_addf(&f, r->err,
			"availability_raw      = floor(10^6 \xc3\x97 (B - Dm - U) / B)\n"
			"                      = floor(10^6 \xc3\x97 %" PRId64 " / %" PRId64 ")\n"
			"                      = %" PRId64 " ppm = %s %%\n"
			"availability_weighted = floor(10^6 \xc3\x97 ((B - Dm - U) \xc3\x97 1000 - w \xc3\x97 Dp) / (1000 \xc3\x97 B))\n"
			"                      = floor(10^6 \xc3\x97 (%" PRId64 " \xc3\x97 1000 - %" PRId64 " \xc3\x97 %" PRId64 ") / (1000 \xc3\x97 %" PRId64 "))\n"
			"                      = %" PRId64 " ppm = %s %%\n"
			"error budget used     = ceil((Dm \xc3\x97 1000 + w \xc3\x97 Dp) \xc3\x97 10^6 / ((10^6 - target) \xc3\x97 B))\n"
			"                      = ceil((%" PRId64 " \xc3\x97 1000 + %" PRId64 " \xc3\x97 %" PRId64 ") \xc3\x97 10^6 / ((10^6 - %" PRId64 ") \xc3\x97 %" PRId64 "))\n"
			"                      = %" PRId64 " permille = %s of the budget\n"
			"pass                  = weighted >= target: %" PRId64 " >= %" PRId64 ": %s\n",
			B - Dm - U, B, j_int(r, c, "availability_raw_ppm"),
			j_str(r, c, "availability_raw"),
			B - Dm - U, w, Dp, B,
			j_int(r, c, "availability_weighted_ppm"),
			j_str(r, c, "availability_weighted"),
			Dm, w, Dp, tgt, B,
			j_int(r, c, "error_budget_used_permille"), bud,
			j_int(r, c, "availability_weighted_ppm"), tgt,
			j_bool(r, c, "pass") ? "PASS" : "FAIL");
	if (r->rc == 0 && j_bool(r, c, "unknown_decides"))
		r->rc = alog_buf_adds(&f, "unknown decides       = yes: the "
				      "component would pass were the unknown "
				      "time counted as up\n", r->err);
	if (r->rc == 0)
		pre(r, (const char *)f.data);
	alog_buf_release(&f);
}

static void episodes(struct rnd *r, const cJSON *c, const char *path)
{
	const cJSON *eps = j_arr(r, c, "episodes");

	heading(r, 4, NULL, "Outage episodes");
	if (n_items(eps) == 0) {
		para(r, "No outage episode overlaps the period.");
		return;
	}
	table_begin(r, "wide", "#|Start (index)|End (index)|Duration|"
		    "In period|Down|Partial|Excluded|Unknown|Trigger|Recovery|"
		    "Half-open failures|Detection|Flapping");
	for (int k = 0; k < n_items(eps) && r->rc == 0; k++) {
		const cJSON *e = item(eps, k);
		int64_t ei;

		where(r, "%s.episodes[%d]", path, k);
		row_begin(r);
		cell(r, "%d", k + 1);
		cell(r, "%s (%" PRId64 ")", j_str(r, e, "start"),
		     j_int(r, e, "start_index"));
		if (j_intn(r, e, "end_index", &ei))
			cell(r, "%s (%" PRId64 ")", j_str(r, e, "end"), ei);
		else
			cell(r, "open: %s", j_str(r, e, "end"));
		cell_dur(r, j_int(r, e, "duration_us"));
		cell_dur(r, j_int(r, e, "in_period_us"));
		cell_dur(r, j_int(r, e, "down_us"));
		cell_dur(r, j_int(r, e, "partial_us"));
		cell_dur(r, j_int(r, e, "excluded_us"));
		cell_dur(r, j_int(r, e, "unknown_us"));
		cell_s(r, j_str(r, e, "trigger"));
		cell_s(r, j_str(r, e, "recovery"));
		cell(r, "%" PRId64, j_int(r, e, "half_open_failures"));
		cell_dur_n(r, e, "detect_us");
		cell_s(r, j_bool(r, e, "flapping") ? "yes" : "no");
		row_end(r);
	}
	table_end(r);
}

static void windows(struct rnd *r, const cJSON *c, const char *path)
{
	const cJSON *ws = j_arr(r, c, "maintenance");
	long dev = find_dev(r, DEV_WINDOW, c);

	heading(r, 4, NULL, "Maintenance windows");
	if (n_items(ws) == 0) {
		para(r, "No maintenance window overlaps the period.");
		return;
	}
	table_begin(r, "wide", "Index|Start|End|Change reference|Approver|"
		    "Status");
	for (int k = 0; k < n_items(ws) && r->rc == 0; k++) {
		const cJSON *m = item(ws, k);
		const char *ch, *ap;

		where(r, "%s.maintenance[%d]", path, k);
		ch = j_strn(r, m, "change_ref");
		ap = j_strn(r, m, "approver");
		row_begin(r);
		cell(r, "%" PRId64, j_int(r, m, "index"));
		cell_s(r, j_str(r, m, "start"));
		cell_s(r, j_str(r, m, "end"));
		cell_s(r, ch ? (ch[0] ? ch : "(empty)") : "none");
		cell_s(r, ap ? ap : "none");
		cell_begin(r);
		if (j_bool(r, m, "approved")) {
			verdict(r, 1, "approved");
			txt(r, ", excluded");
		} else {
			verdict(r, 0, "DEVIATION");
			txt(r, " (not excluded; see ");
			if (dev >= 0)
				dev_ref(r, (size_t)dev);
			txt(r, ")");
		}
		cell_end(r);
		row_end(r);
	}
	table_end(r);
}

static void activations(struct rnd *r, const cJSON *c, const char *path)
{
	const cJSON *as = j_arr(r, c, "activations");
	long rdev = find_dev(r, DEV_RECON, c), fdev = find_dev(r, DEV_FAILOVER, c);

	heading(r, 4, NULL, "Spool activations (failover and reconciliation)");
	if (n_items(as) == 0) {
		para(r, "No spool activation in the period.");
		return;
	}
	table_begin(r, "wide", "Index|Failed at|Failover|Files|"
		    "Reconciliation: spooled = imported + duplicates + "
		    "conflicts + refused|Drained|Status");
	for (int k = 0; k < n_items(as) && r->rc == 0; k++) {
		const cJSON *a = item(as, k);
		int64_t fo;
		int rec, fp;

		where(r, "%s.activations[%d]", path, k);
		rec = j_bool(r, a, "reconciled");
		fp = j_bool(r, a, "failover_pass");
		row_begin(r);
		cell(r, "%" PRId64, j_int(r, a, "index"));
		cell_s(r, j_str(r, a, "failed_at"));
		cell_begin(r);
		if (j_intn(r, a, "failover_us", &fo))
			dur_text(r, fo);
		else
			txt(r, "not measured");
		text(r, " (target %" PRId64 " s)", r->failover_target_s);
		cell_end(r);
		cell(r, "%" PRId64, j_int(r, a, "files"));
		cell(r, "%" PRId64 " = %" PRId64 " + %" PRId64 " + %" PRId64
		     " + %" PRId64 "%s", j_int(r, a, "spooled"),
		     j_int(r, a, "imported"), j_int(r, a, "duplicates"),
		     j_int(r, a, "conflicts"), j_int(r, a, "refused"),
		     rec ? "" : " (some file does not add up)");
		cell_s(r, j_bool(r, a, "drained") ? "yes" : "no");
		cell_begin(r);
		verdict(r, rec, rec ? "reconciled" : "NOT reconciled");
		if (!rec && rdev >= 0) {
			txt(r, " (");
			dev_ref(r, (size_t)rdev);
			txt(r, ")");
		}
		txt(r, "; ");
		verdict(r, fp, fp ? "failover within target"
				  : "failover over target");
		if (!fp && fdev >= 0) {
			txt(r, " (");
			dev_ref(r, (size_t)fdev);
			txt(r, ")");
		}
		cell_end(r);
		row_end(r);
	}
	table_end(r);
}

static void interventions(struct rnd *r, const cJSON *c, const char *path)
{
	const cJSON *xs = j_arr(r, c, "interventions");

	heading(r, 4, NULL, "Manual interventions");
	if (n_items(xs) == 0) {
		para(r, "No manual intervention in the period.");
		return;
	}
	table_begin(r, "wide", "Index|Time|Operator|Authentication|Action|"
		    "Target|Reason|Outcome|Change reference");
	for (int k = 0; k < n_items(xs) && r->rc == 0; k++) {
		const cJSON *x = item(xs, k);
		const char *s;

		where(r, "%s.interventions[%d]", path, k);
		row_begin(r);
		cell(r, "%" PRId64, j_int(r, x, "index"));
		cell_s(r, j_str(r, x, "at"));
		s = j_strn(r, x, "operator");
		cell_s(r, s ? s : "none");
		s = j_strn(r, x, "auth_method");
		cell_s(r, s ? s : "none");
		s = j_strn(r, x, "action");
		cell_s(r, s ? s : "none");
		s = j_stropt(x, "target");
		cell_s(r, s ? s : j_str(r, c, "component"));
		s = j_strn(r, x, "reason");
		cell_s(r, s ? s : "none");
		s = j_stropt(x, "outcome");
		cell_s(r, s ? s : "not stated");
		s = j_strn(r, x, "change_ref");
		cell_s(r, s ? s : "none");
		row_end(r);
	}
	table_end(r);
}

static void months(struct rnd *r, const cJSON *c, const char *path)
{
	const cJSON *ms = j_arr(r, c, "months");

	heading(r, 4, NULL, "By month");
	table_begin(r, "wide", "Month|Period|Excluded|Down|Partial|Unknown|"
		    "Availability raw|Availability weighted|Error budget used|"
		    "Episodes started|Result");
	for (int k = 0; k < n_items(ms) && r->rc == 0; k++) {
		const cJSON *m = item(ms, k);
		char p[40];

		where(r, "%s.months[%d]", path, k);
		row_begin(r);
		cell_s(r, j_str(r, m, "month"));
		cell_dur(r, j_int(r, m, "period_us"));
		cell_dur(r, j_int(r, m, "excluded_us"));
		cell_dur(r, j_int(r, m, "down_us"));
		cell_dur(r, j_int(r, m, "partial_us"));
		cell_dur(r, j_int(r, m, "unknown_us"));
		pct_cell(r, m, "availability_raw");
		pct_cell(r, m, "availability_weighted");
		fmt_permille(j_int(r, m, "error_budget_used_permille"), p);
		cell_s(r, p);
		cell(r, "%" PRId64, j_int(r, m, "episodes_started"));
		cell_begin(r);
		result_text(r, m);
		cell_end(r);
		row_end(r);
	}
	table_end(r);
}

static void findings(struct rnd *r, const cJSON *c, const char *path)
{
	const cJSON *fs = j_arr(r, c, "findings");

	heading(r, 4, NULL, "Findings");
	if (n_items(fs) == 0) {
		para(r, "No finding: the evidence is consistent (SPEC.md 20.10).");
		return;
	}
	table_begin(r, "narrow", "Finding|Index|Time");
	for (int k = 0; k < n_items(fs) && r->rc == 0; k++) {
		const cJSON *f = item(fs, k);
		const char *at;

		where(r, "%s.findings[%d]", path, k);
		at = j_strn(r, f, "at");
		row_begin(r);
		cell_s(r, j_str(r, f, "finding"));
		cell(r, "%" PRId64, j_int(r, f, "index"));
		cell_s(r, at ? at : "n/a");
		row_end(r);
	}
	table_end(r);
}

/* Checks the triples before anything is drawn. */
static void check_timeline(struct rnd *r, const cJSON *tl, const char *path)
{
	for (int k = 0; k < n_items(tl) && r->rc == 0; k++) {
		const cJSON *s = item(tl, k);

		if (!cJSON_IsArray(s) || n_items(s) != 3 ||
		    !is_int(item(s, 0)) ||
		    !is_int(item(s, 1)) ||
		    !cJSON_IsString(item(s, 2)) ||
		    class_of(item(s, 2)->valuestring) < 0)
			r->rc = alog_err_set(r->err, ALOG_EINVAL,
					     "report member \"%s.timeline[%d]\" "
					     "is not [start_us, end_us, class]",
					     path, k);
	}
}

static void availability(struct rnd *r)
{
	const cJSON *a12, *comps;

	where(r, "%s", "");
	a12 = j_obj(r, r->root, "a1_2");
	where(r, "a1_2");
	comps = j_arr(r, a12, "components");
	section_begin(r, "availability", 1);
	heading(r, 2, NULL, "3. Availability (A1.2)");
	para_begin(r);
	text(r, "Criterion %s: per component of the inventory, against its own "
	     "target (SPEC.md section 20). Partial weight w = %" PRId64
	     " permille; failover target %" PRId64 " s; malformed report "
	     "inputs not used: %" PRId64 ".", j_str(r, a12, "criterion"),
	     r->w_permille, r->failover_target_s,
	     j_int(r, a12, "malformed_inputs"));
	para_end(r);
	heading(r, 3, NULL, "Summary per component");
	if (n_items(comps) == 0)
		para(r, "The inventory has no component.");
	else
		summary_table(r, comps);
	for (int i = 0; i < n_items(comps) && r->rc == 0; i++) {
		const cJSON *c = item(comps, i);
		char id[32], path[48];
		const cJSON *tl;

		snprintf(id, sizeof(id), "component-%d", i + 1);
		snprintf(path, sizeof(path), "a1_2.components[%d]", i);
		where(r, "%s", path);
		section_begin(r, id, 0);
		heading_begin(r, 3, NULL);
		text(r, "3.%d ", i + 1);
		txt(r, j_str(r, c, "component"));
		heading_end(r, 3);
		para_begin(r);
		text(r, "Tier %s; target %s %% (%" PRId64 " ppm); signal %s; "
		     "%s; state at the start of the period: %s.",
		     j_str(r, c, "tier"), j_str(r, c, "target"),
		     j_int(r, c, "target_ppm"), j_str(r, c, "signal"),
		     j_bool(r, c, "daemon_owned") ? "owned by the daemon"
						  : "not owned by the daemon",
		     j_str(r, c, "state_at_from"));
		txt(r, " Result: ");
		result_text(r, c);
		txt(r, ".");
		para_end(r);
		tl = j_arr(r, c, "timeline");
		check_timeline(r, tl, path);
		if (r->html) {
			heading(r, 4, NULL, "Timeline");
			timeline_svg(r, i + 1, tl);
		} else {
			para_begin(r);
			text(r, "Timeline: %d segments in report.json "
			     "(a1_2.components[%d].timeline); drawn in the HTML "
			     "rendering.", n_items(tl), i);
			para_end(r);
		}
		heading(r, 4, NULL, "Formulas with this component's numbers");
		formulas(r, c);
		episodes(r, c, path);
		where(r, "%s", path);
		windows(r, c, path);
		where(r, "%s", path);
		activations(r, c, path);
		where(r, "%s", path);
		interventions(r, c, path);
		where(r, "%s", path);
		months(r, c, path);
		where(r, "%s", path);
		findings(r, c, path);
		section_end(r);
	}
	section_end(r);
}

/* ---- 4. CC7.2 monitoring (SPEC.md 20.14) ----------------------------- */

/* received of expected rounded down to 0.1 %: 2835 of 2880 -> "98.4 %" */
static void fmt_share(int64_t received, int64_t expected, char out[48])
{
	uint64_t p;

	if (expected <= 0) {
		snprintf(out, 48, "n/a (none expected)");
		return;
	}
	p = (uint64_t)((u128)(uint64_t)received * 1000 / (uint64_t)expected);
	snprintf(out, 48, "%" PRIu64 ".%" PRIu64 " %%", p / 10, p % 10);
}

/* Checked days ("YYYY-MM-DD", ascending) as runs of consecutive days:
 * "2026-10-24, 2026-11-02 to 2026-11-04 (3 days)". */
static void day_list(struct rnd *r, const cJSON *days)
{
	int n = n_items(days);

	for (int i = 0; i < n && r->rc == 0;) {
		int64_t a, b;
		int j = i;

		parse_day(item(days, i), &a);
		while (j + 1 < n && parse_day(item(days, j + 1), &b) == 0 &&
		       b == a + (int64_t)(j + 1 - i) * DAY_US)
			j++;
		if (i > 0)
			txt(r, ", ");
		txt(r, item(days, i)->valuestring);
		if (j > i) {
			txt(r, " to ");
			txt(r, item(days, j)->valuestring);
			text(r, " (%d days)", j - i + 1);
		}
		i = j + 1;
	}
}

/* "12, 13" or "4 (start) to none (end of the period)": log indices
 * around a gap. The members before_index and after_index when present;
 * else the indices of the R-PROBE-GAP anomaly of the same component and
 * window; else "n/a". */
static void gap_indices(struct rnd *r, const cJSON *g)
{
	const cJSON *an = member(r->cc, "anomalies");
	const char *comp = j_str(r, g, "component");
	const char *s = j_str(r, g, "start"), *e = j_str(r, g, "end");
	int64_t b, a;
	int hb = j_index_opt(r, g, "before_index", &b);
	int ha = j_index_opt(r, g, "after_index", &a);

	if (hb >= 0 || ha >= 0) {
		if (hb > 0)
			text(r, "%" PRId64, b);
		else
			txt(r, "none (the period's start)");
		txt(r, " \xe2\x86\x92 ");
		if (ha > 0)
			text(r, "%" PRId64, a);
		else
			txt(r, "none (the period's end)");
		return;
	}
	for (int k = 0; k < n_items(an); k++) {
		const cJSON *x = item(an, k), *ix = member(x, "indices");

		if (strcmp(j_stropt(x, "rule"), "R-PROBE-GAP") != 0 ||
		    strcmp(j_stropt(x, "subject"), comp) != 0 ||
		    strcmp(j_stropt(x, "window_start"), s) != 0 ||
		    strcmp(j_stropt(x, "window_end"), e) != 0 ||
		    n_items(ix) == 0)
			continue;
		for (int i = 0; i < n_items(ix); i++)
			text(r, "%s%" PRId64, i ? ", " : "",
			     (int64_t)item(ix, i)->valuedouble);
		return;
	}
	txt(r, "n/a");
}

/* Whether a1_2 says the component is the daemon's own (not probed). */
static int daemon_owned(const struct rnd *r, const char *name)
{
	const cJSON *comps = member(member(r->root, "a1_2"), "components");

	for (int i = 0; i < n_items(comps); i++) {
		const cJSON *c = item(comps, i);
		const char *n = j_stropt(c, "component");

		if (n && strcmp(n, name) == 0)
			return cJSON_IsTrue(member(c, "daemon_owned"));
	}
	return 0;
}

/* Probes received vs expected per day (svg.probes, HTML only): per day a
 * grey bar for the expected count, a bar for the received one over it
 * (red when fewer than expected), heights relative to the largest. */
static void probes_svg(struct rnd *r, const cJSON *days)
{
	int n = n_items(days);
	int64_t max = 0;
	const int x0 = 60, plot = ALOG_RENDER_SVG_WIDTH - 70, top = 10, h = 90;
	static const char *const keys[3][2] = {
		{ "exp", "expected" }, { "rcv", "received" },
		{ "rcv short", "fewer than expected" },
	};

	for (int i = 0; i < n; i++) {
		if (day_n(item(days, i), 1) > max)
			max = day_n(item(days, i), 1);
		if (day_n(item(days, i), 2) > max)
			max = day_n(item(days, i), 2);
	}
	if (r->rc < 0 || max == 0)
		return;
	putf(r, "<svg class=\"probes\" width=\"%d\" height=\"150\" viewBox=\"0 0 "
	     "%d 150\" role=\"img\" aria-label=\"health probes per day: "
	     "received and expected\">\n", ALOG_RENDER_SVG_WIDTH,
	     ALOG_RENDER_SVG_WIDTH);
	putf(r, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
	     x0, top + h, x0 + plot, top + h);
	putf(r, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
	     x0, top, x0, top + h);
	putf(r, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%" PRId64 "</text>\n",
	     x0 - 4, top + 8, max);
	putf(r, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n",
	     x0 - 4, top + h);
	for (int i = 0; i < n && r->rc == 0; i++) {
		const cJSON *d = item(days, i);
		int64_t e = day_n(d, 1), v = day_n(d, 2);
		int64_t xa = (int64_t)x0 * 100 + (int64_t)i * plot * 100 / n;
		int64_t xb = (int64_t)x0 * 100 + (int64_t)(i + 1) * plot * 100 / n;
		int64_t w = xb - xa;

		if (w > 300)
			w = w * 8 / 10; /* a gap between wide bars */
		for (int k = 1; k <= 2; k++) {
			int64_t c = k == 1 ? e : v, bh;

			if (c <= 0)
				continue;
			bh = (int64_t)((u128)(uint64_t)c * (uint64_t)(h * 100) /
				       (uint64_t)max);
			putf(r, "<rect class=\"%s\" x=\"%" PRId64 ".%02" PRId64
			     "\" y=\"%" PRId64 ".%02" PRId64 "\" width=\"%" PRId64
			     ".%02" PRId64 "\" height=\"%" PRId64 ".%02" PRId64
			     "\"><title>", k == 1 ? "exp" : v < e ? "rcv short"
							       : "rcv",
			     xa / 100, xa % 100, (top * 100 + h * 100 - bh) / 100,
			     (top * 100 + h * 100 - bh) % 100, w / 100, w % 100,
			     bh / 100, bh % 100);
			txt(r, day_s(d));
			if (k == 1)
				putf(r, ": %" PRId64 " expected", e);
			else
				putf(r, ": %" PRId64 " received of %" PRId64
				     " expected", v, e);
			put(r, "</title></rect>\n");
		}
	}
	if (n > 0) {
		putf(r, "<text x=\"%d\" y=\"%d\" text-anchor=\"start\">", x0,
		     top + h + 16);
		txt(r, day_s(item(days, 0)));
		putf(r, "</text>\n<text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
		     x0 + plot, top + h + 16);
		txt(r, day_s(item(days, n - 1)));
		put(r, "</text>\n");
	}
	for (int k = 0; k < 3; k++) {
		int x = x0 + 150 * k;

		putf(r, "<rect class=\"key %s\" x=\"%d\" y=\"%d\" width=\"12\" "
		     "height=\"12\"/><text x=\"%d\" y=\"%d\">%s</text>\n",
		     keys[k][0], x, top + h + 28, x + 16, top + h + 38,
		     keys[k][1]);
	}
	putf(r, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">health probes "
	     "per UTC day</text>\n", x0 + plot, top + h + 38);
	put(r, "</svg>\n");
}

/* A part of section 4: a section with its level-3 heading. */
static void part_begin(struct rnd *r, const char *id, const char *title)
{
	section_begin(r, id, 0);
	heading(r, 3, NULL, title);
}

/* A part whose list is empty says so in a sentence and ends: 1 then. */
static int empty_part(struct rnd *r, const cJSON *list, const char *sentence)
{
	if (n_items(list) > 0)
		return 0;
	para(r, sentence);
	section_end(r);
	return 1;
}

/* 4.1: per component expected vs received, then each component's days. */
static void mon_probes(struct rnd *r, const cJSON *probes, const cJSON *gaps)
{
	part_begin(r, "monitoring-probes", "4.1 Health probes");
	para(r, "Expected per component and UTC day = floor(day length / "
	     "probe interval), each day clipped to the period; received = the "
	     "component's health.probe events whose own time lies in the day. "
	     "Received / expected is rounded down to 0.1 %. A component is "
	     "monitored when it received at least one probe in the period.");
	if (empty_part(r, probes, "The inventory has no component."))
		return;
	table_begin(r, "wide", "Component|Probe interval|Tolerance|Expected|"
		    "Received|Received / expected|Monitored|Days with fewer "
		    "probes than expected|Gaps over the tolerance");
	for (int i = 0; i < n_items(probes) && r->rc == 0; i++) {
		const cJSON *p = item(probes, i), *days;
		const char *name;
		int64_t e, v, short_days = 0, n_gaps = 0;
		long dev = find_dev(r, DEV_GAP, p);
		char share[48], a[32];

		where(r, "cc7_2.probes[%d]", i);
		name = j_str(r, p, "component");
		e = j_count(r, p, "expected");
		v = j_count(r, p, "received");
		days = j_arr(r, p, "days");
		for (int k = 0; k < n_items(days); k++)
			short_days += day_n(item(days, k), 2) <
				      day_n(item(days, k), 1);
		for (int k = 0; k < n_items(gaps); k++)
			n_gaps += strcmp(j_stropt(item(gaps, k), "component"),
					 name) == 0;
		fmt_share(v, e, share);
		snprintf(a, sizeof(a), "probes-%d", i + 1);
		row_begin(r);
		cell_begin(r);
		ref(r, a, name);
		cell_end(r);
		cell(r, "%" PRId64 " s", j_count(r, p, "probe_interval_s"));
		cell_dur(r, j_count(r, p, "tolerance_us"));
		cell(r, "%" PRId64, e);
		cell(r, "%" PRId64, v);
		cell_s(r, share);
		cell_s(r, v > 0 ? "yes" : "no");
		cell(r, "%" PRId64 " of %d", short_days, n_items(days));
		cell_begin(r);
		text(r, "%" PRId64, n_gaps);
		if (dev >= 0) {
			txt(r, " (");
			dev_ref(r, (size_t)dev);
			txt(r, ")");
		}
		cell_end(r);
		row_end(r);
	}
	table_end(r);
	for (int i = 0; i < n_items(probes) && r->rc == 0; i++) {
		const cJSON *p = item(probes, i), *days;
		const char *name;
		int64_t e, v, short_days = 0, short_by = 0;
		int shown = 0;
		char id[32];

		where(r, "cc7_2.probes[%d]", i);
		name = j_str(r, p, "component");
		e = j_count(r, p, "expected");
		v = j_count(r, p, "received");
		days = j_arr(r, p, "days");
		snprintf(id, sizeof(id), "probes-%d", i + 1);
		section_begin(r, id, 0);
		heading_begin(r, 4, NULL);
		text(r, "4.1.%d ", i + 1);
		txt(r, name);
		heading_end(r, 4);
		if (e == 0 && v == 0) {
			para(r, daemon_owned(r, name) ?
				"No probe is expected: the daemon's own "
				"component, whose evidence is the daemon's "
				"lifecycle and breaker (SPEC.md 20.14)." :
				"No probe is expected and none was received "
				"(no whole probe interval in a day of the "
				"period).");
			section_end(r);
			continue;
		}
		if (r->html)
			probes_svg(r, days);
		for (int k = 0; k < n_items(days); k++) {
			const cJSON *d = item(days, k);

			if (day_n(d, 2) < day_n(d, 1)) {
				short_days++;
				short_by += day_n(d, 1) - day_n(d, 2);
			}
		}
		para_begin(r);
		if (short_days == 0)
			text(r, "Every one of the %d days received at least the "
			     "expected probes.", n_items(days));
		else
			text(r, "%" PRId64 " of %d days with fewer probes than "
			     "expected (%" PRId64 " probes short on those "
			     "days).", short_days, n_items(days), short_by);
		para_end(r);
		if (short_days == 0) {
			section_end(r);
			continue;
		}
		table_begin(r, "narrow", "Day (UTC)|Expected|Received|Short by");
		for (int k = 0; k < n_items(days) && r->rc == 0; k++) {
			const cJSON *d = item(days, k);

			if (day_n(d, 2) >= day_n(d, 1))
				continue;
			if (shown++ == ALOG_RENDER_SHORT_DAYS_ROWS)
				break;
			row_begin(r);
			cell_s(r, day_s(d));
			cell(r, "%" PRId64, day_n(d, 1));
			cell(r, "%" PRId64, day_n(d, 2));
			cell(r, "%" PRId64, day_n(d, 1) - day_n(d, 2));
			row_end(r);
		}
		table_end(r);
		if (short_days > ALOG_RENDER_SHORT_DAYS_ROWS) {
			para_begin(r);
			text(r, "and %" PRId64 " more days (every day is in "
			     "report.json, cc7_2.probes[%d].days).",
			     short_days - ALOG_RENDER_SHORT_DAYS_ROWS, i);
			para_end(r);
		}
		section_end(r);
	}
	section_end(r);
}

/* 4.2: every gap, with the deviation of its component. */
static void mon_gaps(struct rnd *r, const cJSON *probes, const cJSON *gaps)
{
	part_begin(r, "monitoring-gaps", "4.2 Monitoring gaps");
	para(r, "A gap is more than the component's tolerance (table 4.1) "
	     "between two consecutive health probes, or between a probe and "
	     "an edge of the period; a component without any probe has one "
	     "gap over the whole period (SPEC.md 20.14). Each component with "
	     "a gap is a deviation.");
	if (empty_part(r, gaps, "No monitoring gap over the tolerance in the period."))
		return;
	table_begin(r, "wide", "#|Component|Start|End|Length|In the period|"
		    "Log indices around it|Deviation");
	for (int k = 0; k < n_items(gaps) && r->rc == 0; k++) {
		const cJSON *g = item(gaps, k);
		const char *name;
		long dev;

		where(r, "cc7_2.gaps[%d]", k);
		name = j_str(r, g, "component");
		dev = find_dev(r, DEV_GAP, item(probes, probe_of(probes, name)));
		row_begin(r);
		cell(r, "%d", k + 1);
		cell_s(r, name);
		cell_s(r, j_str(r, g, "start"));
		cell_s(r, j_str(r, g, "end"));
		cell_dur(r, j_count(r, g, "length_us"));
		cell_dur(r, j_count(r, g, "in_period_us"));
		cell_begin(r);
		gap_indices(r, g);
		cell_end(r);
		cell_begin(r);
		verdict(r, 0, "DEVIATION");
		if (dev >= 0) {
			txt(r, " (see ");
			dev_ref(r, (size_t)dev);
			txt(r, ")");
		}
		cell_end(r);
		row_end(r);
	}
	table_end(r);
	section_end(r);
}

/* 4.3: checkpoints expected and signed, the longest stretch without. */
static void mon_checkpoints(struct rnd *r)
{
	const cJSON *ck;
	int64_t a, b, ia, ib;
	int ha, hb;

	where(r, "cc7_2");
	ck = j_obj(r, r->cc, "checkpoints");
	where(r, "cc7_2.checkpoints");
	part_begin(r, "monitoring-checkpoints", "4.3 Checkpoint cadence");
	table_begin(r, "kv", "Item|Value");
	kv_begin(r, "Expected interval");
	dur_text(r, j_count(r, ck, "expected_interval_us"));
	kv_end(r);
	kv_begin(r, "Expected in the period");
	text(r, "%" PRId64, j_count(r, ck, "expected"));
	kv_end(r);
	kv_begin(r, "Signed in the period");
	text(r, "%" PRId64, j_count(r, ck, "signed"));
	kv_end(r);
	a = j_time(r, ck, "longest_gap_start");
	b = j_time(r, ck, "longest_gap_end");
	ha = j_index_opt(r, ck, "longest_gap_start_index", &ia);
	hb = j_index_opt(r, ck, "longest_gap_end_index", &ib);
	kv_begin(r, "Longest stretch without a checkpoint");
	dur_text(r, b - a);
	text(r, ": [%s, %s]", j_str(r, ck, "longest_gap_start"),
	     j_str(r, ck, "longest_gap_end"));
	if (ha >= 0 || hb >= 0) {
		txt(r, ", log indices ");
		if (ha > 0)
			text(r, "%" PRId64, ia);
		else
			txt(r, "none (the period's start)");
		txt(r, " \xe2\x86\x92 ");
		if (hb > 0)
			text(r, "%" PRId64, ib);
		else
			txt(r, "none (the period's end)");
	}
	kv_end(r);
	table_end(r);
	para(r, "A checkpoint.signed event counts by its received time. Fewer "
	     "checkpoints than expected are shown, not a deviation: a "
	     "checkpoint is signed only when the log grew (SPEC.md section "
	     "11). The longest stretch runs between the checkpoints received "
	     "(the last one before the period included), or to the end of "
	     "the period.");
	section_end(r);
}

/* 4.4: verification runs, the days without one. */
static void mon_verification(struct rnd *r)
{
	const cJSON *v, *days;
	int64_t f;
	long dev = find_dev(r, DEV_VERIFY, NULL);

	where(r, "cc7_2");
	v = j_obj(r, r->cc, "verification");
	where(r, "cc7_2.verification");
	days = j_arr(r, v, "days_without_a_run");
	f = j_count(r, v, "fail");
	part_begin(r, "monitoring-verification", "4.4 Verification runs");
	para(r, "A verification run is an integrity.verified event (auditlog "
	     "verify --record), counted by its received time. A day of the "
	     "period without a run and a failed run are deviations (SPEC.md "
	     "20.14).");
	table_begin(r, "kv", "Item|Value");
	kv_begin(r, "Runs in the period");
	text(r, "%" PRId64, j_count(r, v, "runs"));
	kv_end(r);
	kv_begin(r, "Passed");
	text(r, "%" PRId64, j_count(r, v, "pass"));
	kv_end(r);
	kv_begin(r, "Failed");
	if (f == 0) {
		txt(r, "0");
	} else {
		strong(r, "%" PRId64, f);
		txt(r, " (see ");
		if (dev >= 0)
			dev_ref(r, (size_t)dev);
		txt(r, ")");
	}
	kv_end(r);
	kv_begin(r, "Days without a run");
	if (n_items(days) == 0) {
		text(r, "none: each of the %" PRId64 " days has a run",
		     r->n_days);
	} else {
		strong(r, "%d of %" PRId64 " days", n_items(days), r->n_days);
		txt(r, ": ");
		day_list(r, days);
		txt(r, " (see ");
		if (dev >= 0)
			dev_ref(r, (size_t)dev);
		txt(r, ")");
	}
	kv_end(r);
	table_end(r);
	section_end(r);
}

/* 4.5: the detection rules and their anomaly counts. */
static void mon_rules(struct rnd *r)
{
	const cJSON *rules;

	where(r, "cc7_2");
	rules = j_arr(r, r->cc, "rules");
	part_begin(r, "monitoring-rules", "4.5 Detection rules");
	para(r, "The rules of SPEC.md 11.2, run over every event from the "
	     "period's start (or the first event received, when earlier) to "
	     "its end.");
	if (empty_part(r, rules, "report.json lists no detection rule."))
		return;
	table_begin(r, "wide", "Rule|Logic|Severity|Class|Anomalies");
	for (int k = 0; k < n_items(rules) && r->rc == 0; k++) {
		const cJSON *x = item(rules, k);

		where(r, "cc7_2.rules[%d]", k);
		row_begin(r);
		cell_code(r, j_str(r, x, "rule"));
		cell_s(r, j_str(r, x, "logic"));
		cell_s(r, j_str(r, x, "severity"));
		cell_s(r, j_str(r, x, "class"));
		cell(r, "%" PRId64, j_count(r, x, "anomalies"));
		row_end(r);
	}
	table_end(r);
	section_end(r);
}

/* 4.6: the anomalies, at most ALOG_RENDER_ANOMALY_ROWS rows. */
static void mon_anomalies(struct rnd *r)
{
	const cJSON *an = member(r->cc, "anomalies");
	int n = n_items(an);

	part_begin(r, "monitoring-anomalies", "4.6 Anomalies");
	para_begin(r);
	text(r, "Anomalies are the detection control operating, not "
	     "deviations: each is listed for follow-up with the log indices "
	     "of the events behind it (the first ones; report.json keeps up to "
	     "%d per anomaly), ordered by detection time.",
	     ALOG_RULES_INDICES_MAX);
	para_end(r);
	if (empty_part(r, an, "No anomaly was detected in the period."))
		return;
	para_begin(r);
	text(r, "%d anomal%s detected.", n, n == 1 ? "y" : "ies");
	para_end(r);
	table_begin(r, "wide", "#|Rule|Subject|Window start|Window end|"
		    "Detected|Events|Log indices (first)");
	for (int k = 0; k < n && k < ALOG_RENDER_ANOMALY_ROWS && r->rc == 0;
	     k++) {
		const cJSON *a = item(an, k), *ix;
		int ni;

		where(r, "cc7_2.anomalies[%d]", k);
		ix = j_arr(r, a, "indices");
		ni = n_items(ix);
		row_begin(r);
		cell(r, "%d", k + 1);
		cell_code(r, j_str(r, a, "rule"));
		cell_s(r, j_str(r, a, "subject"));
		cell_s(r, j_str(r, a, "window_start"));
		cell_s(r, j_str(r, a, "window_end"));
		cell_s(r, j_str(r, a, "detected"));
		cell(r, "%" PRId64, j_count(r, a, "events"));
		cell_begin(r);
		for (int i = 0; i < ni && i < ALOG_RENDER_ANOMALY_INDICES; i++)
			text(r, "%s%" PRId64, i ? ", " : "",
			     (int64_t)item(ix, i)->valuedouble);
		if (ni > ALOG_RENDER_ANOMALY_INDICES)
			text(r, " and %d more", ni - ALOG_RENDER_ANOMALY_INDICES);
		if (ni == 0)
			txt(r, "none");
		cell_end(r);
		row_end(r);
	}
	table_end(r);
	if (n > ALOG_RENDER_ANOMALY_ROWS) {
		para_begin(r);
		text(r, "and %d more anomalies (every one is in report.json, "
		     "cc7_2.anomalies).", n - ALOG_RENDER_ANOMALY_ROWS);
		para_end(r);
	}
	section_end(r);
}

/* 4.7: every admin.action of the period (CC6.1, CC8.1). */
static void mon_operators(struct rnd *r)
{
	const cJSON *ops;
	int outside = 0;

	where(r, "cc7_2");
	ops = j_arr(r, r->cc, "operator_activity");
	for (int k = 0; k < n_items(ops) && r->rc == 0; k++) {
		where(r, "cc7_2.operator_activity[%d]", k);
		outside += !j_bool(r, item(ops, k), "in_business_hours");
	}
	part_begin(r, "monitoring-operators", "4.7 Operator activity (CC6.1, CC8.1)");
	if (empty_part(r, ops, "No operator activity (admin.action) in the period."))
		return;
	para_begin(r);
	text(r, "Every admin.action written by auditlog whose time lies in the "
	     "period, in log order: %d actions, %d outside business hours.",
	     n_items(ops), outside);
	para_end(r);
	table_begin(r, "wide", "Index|At|Operator|Action|Target|Outcome|"
		    "In business hours");
	for (int k = 0; k < n_items(ops) && r->rc == 0; k++) {
		const cJSON *x = item(ops, k);
		const char *s;

		where(r, "cc7_2.operator_activity[%d]", k);
		row_begin(r);
		cell(r, "%" PRId64, j_count(r, x, "index"));
		cell_s(r, j_str(r, x, "at"));
		s = j_strn(r, x, "operator");
		cell_s(r, s ? s : "none");
		s = j_strn(r, x, "action");
		cell_s(r, s ? s : "none");
		s = j_strn(r, x, "target");
		cell_s(r, s ? s : "none");
		s = j_strn(r, x, "outcome");
		cell_s(r, s ? s : "none");
		cell_begin(r);
		if (j_bool(r, x, "in_business_hours"))
			txt(r, "yes");
		else
			strong(r, "no");
		cell_end(r);
		row_end(r);
	}
	table_end(r);
	section_end(r);
}

/* 4.8: logins, failures, failures by actor. */
static void mon_logins(struct rnd *r)
{
	const cJSON *fa;

	where(r, "cc7_2");
	fa = j_arr(r, r->cc, "failures_by_actor");
	part_begin(r, "monitoring-logins", "4.8 Logins");
	para_begin(r);
	text(r, "auth.login events whose time lies in the period: %" PRId64
	     " logins, %" PRId64 " failed.", j_count(r, r->cc, "logins"),
	     j_count(r, r->cc, "login_failures"));
	para_end(r);
	if (empty_part(r, fa, "No failed login in the period."))
		return;
	para(r, "Failed logins by actor, most failures first (report.json "
	     "keeps the 20 actors with the most):");
	table_begin(r, "narrow", "Actor|Failures");
	for (int k = 0; k < n_items(fa) && r->rc == 0; k++) {
		const cJSON *x = item(fa, k);
		const char *first, *last;

		where(r, "cc7_2.failures_by_actor[%d]", k);
		row_begin(r);
		cell_s(r, j_str(r, x, "actor"));
		cell_begin(r);
		text(r, "%" PRId64, j_count(r, x, "failures"));
		first = j_stropt(x, "first_failure");
		last = j_stropt(x, "last_failure");
		if (first && last) {
			txt(r, " (first ");
			txt(r, first);
			txt(r, ", last ");
			txt(r, last);
			txt(r, ")");
		}
		cell_end(r);
		row_end(r);
	}
	table_end(r);
	section_end(r);
}

static void monitoring(struct rnd *r)
{
	const cJSON *probes, *gaps;

	where(r, "cc7_2");
	probes = j_arr(r, r->cc, "probes");
	gaps = j_arr(r, r->cc, "gaps");
	section_begin(r, "monitoring", 1);
	heading(r, 2, NULL, "4. Monitoring (CC7.2)");
	para_begin(r);
	text(r, "Criterion %s: the system's components are monitored and "
	     "anomalies detected, shown from the log alone (SPEC.md 20.14). "
	     "%" PRId64 " of %" PRId64 " components monitored; deviations of "
	     "the monitoring control counted in report.json (gaps and days "
	     "without a verification run): %" PRId64 ".",
	     j_str(r, r->cc, "criterion"),
	     j_count(r, r->cc, "components_monitored"),
	     j_count(r, r->cc, "components"),
	     j_count(r, r->cc, "deviations"));
	para_end(r);
	mon_probes(r, probes, gaps);
	mon_gaps(r, probes, gaps);
	mon_checkpoints(r);
	mon_verification(r);
	mon_rules(r);
	mon_anomalies(r);
	mon_operators(r);
	mon_logins(r);
	section_end(r);
}

/* ---- 5. tests and results ------------------------------------------- */

static void dev_items(struct rnd *r, const struct dev *d)
{
	const cJSON *c = d->comp, *a;

	list_begin(r);
	switch (d->kind) {
	case DEV_TARGET:
		item_begin(r);
		text(r, "the period: weighted %s %% against a target of %s %%",
		     j_bool(r, c, "measured") ?
			     j_str(r, c, "availability_weighted") : "n/a",
		     j_str(r, c, "target"));
		if (j_bool(r, c, "unknown_decides"))
			txt(r, " (fails because of unknown time)");
		item_end(r);
		a = j_arr(r, c, "months");
		for (int k = 0; k < n_items(a) && r->rc == 0; k++) {
			const cJSON *m = item(a, k);

			if (j_bool(r, m, "pass"))
				continue;
			item_begin(r);
			text(r, "month %s: weighted %s %%%s", j_str(r, m, "month"),
			     j_bool(r, m, "measured") ?
				     j_str(r, m, "availability_weighted") : "n/a",
			     j_bool(r, m, "unknown_decides") ?
				     " (fails because of unknown time)" : "");
			item_end(r);
		}
		break;
	case DEV_WINDOW:
		a = j_arr(r, c, "maintenance");
		for (int k = 0; k < n_items(a) && r->rc == 0; k++) {
			const cJSON *m = item(a, k);
			const char *ch;

			if (j_bool(r, m, "approved"))
				continue;
			ch = j_strn(r, m, "change_ref");
			item_begin(r);
			text(r, "index %" PRId64 ": [%s, %s), change reference ",
			     j_int(r, m, "index"), j_str(r, m, "start"),
			     j_str(r, m, "end"));
			txt(r, ch ? (ch[0] ? ch : "(empty)") : "none");
			item_end(r);
		}
		break;
	case DEV_RECON:
	case DEV_FAILOVER:
		a = j_arr(r, c, "activations");
		for (int k = 0; k < n_items(a) && r->rc == 0; k++) {
			const cJSON *x = item(a, k);
			int64_t fo;

			if (j_bool(r, x, d->kind == DEV_RECON ? "reconciled"
							      : "failover_pass"))
				continue;
			item_begin(r);
			text(r, "index %" PRId64 ": failed at %s; ",
			     j_int(r, x, "index"), j_str(r, x, "failed_at"));
			if (d->kind == DEV_RECON) {
				text(r, "spooled %" PRId64 ", imported %" PRId64
				     ", duplicates %" PRId64 ", conflicts %"
				     PRId64 ", refused %" PRId64,
				     j_int(r, x, "spooled"),
				     j_int(r, x, "imported"),
				     j_int(r, x, "duplicates"),
				     j_int(r, x, "conflicts"),
				     j_int(r, x, "refused"));
			} else if (j_intn(r, x, "failover_us", &fo)) {
				txt(r, "failover ");
				dur_text(r, fo);
			} else {
				txt(r, "failover not measured (no spooled record)");
			}
			item_end(r);
		}
		break;
	case DEV_FINDING:
		a = j_arr(r, c, "findings");
		for (int k = 0; k < n_items(a) && r->rc == 0; k++) {
			const cJSON *f = item(a, k);
			const char *at = j_strn(r, f, "at");

			item_begin(r);
			text(r, "index %" PRId64 ": ", j_int(r, f, "index"));
			txt(r, j_str(r, f, "finding"));
			txt(r, " at ");
			txt(r, at ? at : "n/a");
			item_end(r);
		}
		break;
	case DEV_MALFORMED:
		li(r, "the report counts them; their indices are found by "
		   "checking every event of the log against SPEC.md 11.1");
		break;
	case DEV_GAP:
		a = member(r->cc, "gaps");
		for (int k = 0; k < n_items(a) && r->rc == 0; k++) {
			const cJSON *g = item(a, k);
			char len[64], in[64];

			if (strcmp(j_stropt(g, "component"),
				   j_str(r, c, "component")) != 0)
				continue;
			where(r, "cc7_2.gaps[%d]", k);
			fmt_dur(j_count(r, g, "length_us"), len);
			fmt_dur(j_count(r, g, "in_period_us"), in);
			item_begin(r);
			text(r, "[%s, %s]: %s, %s in the period; log indices ",
			     j_str(r, g, "start"), j_str(r, g, "end"), len, in);
			gap_indices(r, g);
			item_end(r);
		}
		break;
	default:
		where(r, "cc7_2.verification");
		if (d->x) {
			item_begin(r);
			txt(r, "days without a run: ");
			day_list(r, member(member(r->cc, "verification"),
					   "days_without_a_run"));
			item_end(r);
		}
		if (d->x2) {
			item_begin(r);
			text(r, "failed runs: %" PRId64 " of %" PRId64,
			     d->x2, d->n2);
			item_end(r);
		}
		a = member(r->cc, "anomalies");
		for (int k = 0; k < n_items(a) && r->rc == 0; k++) {
			const cJSON *x = item(a, k), *ix = member(x, "indices");

			if (strcmp(j_stropt(x, "rule"), "R-VERIFY-FAILED") == 0) {
				item_begin(r);
				text(r, "a failed run detected at %s (anomaly "
				     "#%d): log index", j_stropt(x, "detected"),
				     k + 1);
			} else if (strcmp(j_stropt(x, "rule"),
					  "R-VERIFY-MISSING") == 0) {
				item_begin(r);
				text(r, "no run from %s to %s (anomaly #%d): log "
				     "indices", j_stropt(x, "window_start"),
				     j_stropt(x, "window_end"), k + 1);
			} else {
				continue;
			}
			for (int i = 0; i < n_items(ix); i++)
				text(r, "%s%" PRId64, i ? ", " : " ",
				     (int64_t)item(ix, i)->valuedouble);
			item_end(r);
		}
		break;
	}
	list_end(r);
}

/* The CC7.2 rows of the results: monitoring (kinds 7, 8), detection. */
static void mon_tests(struct rnd *r)
{
	const cJSON *probes, *ver, *an;
	int any = 0;

	where(r, "cc7_2");
	probes = j_arr(r, r->cc, "probes");
	ver = j_obj(r, r->cc, "verification");
	an = j_arr(r, r->cc, "anomalies");
	row_begin(r);
	cell_s(r, "CC7.2 monitoring (all components)");
	cell_s(r, "every component probed with no gap over its tolerance; a "
	       "verification run every day, each passing");
	cell_s(r, "census");
	where(r, "cc7_2.verification");
	cell(r, "%d components, %" PRId64 " days, %" PRId64 " verification "
	     "runs", n_items(probes), r->n_days, j_count(r, ver, "runs"));
	cell_begin(r);
	for (size_t k = 0; k < r->n_devs; k++) {
		if (r->devs[k].kind != DEV_GAP && r->devs[k].kind != DEV_VERIFY)
			continue;
		txt(r, any ? "; " : "Deviations identified: ");
		if (r->devs[k].kind == DEV_GAP) {
			txt(r, j_str(r, r->devs[k].comp, "component"));
			txt(r, ": ");
		}
		dev_summary(r, &r->devs[k]);
		txt(r, " (see ");
		dev_ref(r, k);
		txt(r, ")");
		any = 1;
	}
	if (!any)
		txt(r, "No deviations identified");
	cell_end(r);
	row_end(r);
	row_begin(r);
	cell_s(r, "CC7.2 detection (anomalies)");
	cell_s(r, "the detection rules of SPEC.md 11.2 run over every event "
	       "of the period");
	cell_s(r, "census");
	cell(r, "%d rules", n_items(j_arr(r, r->cc, "rules")));
	cell_begin(r);
	if (n_items(an) == 0) {
		txt(r, "No anomaly detected");
	} else {
		text(r, "%d anomal%s detected and listed for follow-up (",
		     n_items(an), n_items(an) == 1 ? "y" : "ies");
		ref(r, "monitoring-anomalies", "4.6");
		txt(r, "); not deviations: the detection control operating");
	}
	cell_end(r);
	row_end(r);
}

static const char *const dev_detected[DEV_KINDS] = {
	"computed by auditlog from the log alone (SPEC.md 20.5): weighted "
	"availability below the component's target",
	"every maintenance.window event overlapping the period, checked for a "
	"non-empty change_ref (SPEC.md 20.4)",
	"every backup.replayed event of the activation, checked for records = "
	"imported + duplicates + conflicts + refused (SPEC.md 20.8)",
	"backup.activated failed_at_us to the first spooled record's received "
	"time, against the failover target (SPEC.md 20.8)",
	"the walk over the component's events (SPEC.md 20.2, 20.3, 20.8, 20.10)",
	"the report inputs' rows of SPEC.md 11.1",
	"every health.probe of the component, in time order: more than the "
	"tolerance between two probes or between a probe and an edge of the "
	"period (SPEC.md 20.14)",
	"every integrity.verified event by received time: the UTC days of "
	"the period without one, and the runs with result fail (SPEC.md "
	"20.14)",
};

static void tests(struct rnd *r)
{
	const cJSON *comps = j_arr(r, j_obj(r, r->root, "a1_2"), "components");

	section_begin(r, "tests", 1);
	heading(r, 2, NULL, "5. Tests and results");
	heading(r, 3, NULL, "Classification rules (stated before the results)");
	list_begin(r);
	li(r, "Every component is tested in full (census) over the period; "
	   "the population of each test is named in its result.");
	li(r, "A deviation is each of: a component whose weighted availability "
	   "is below its target (or not measured); a maintenance window "
	   "without a change reference; a spool activation that does not "
	   "reconcile; a failover over the failover target or not measured; "
	   "a finding of the evidence; malformed report inputs; a component "
	   "with a monitoring gap over its tolerance; a day without a "
	   "verification run; a failed verification run.");
	li(r, "Unknown time (no evidence) is never counted as up.");
	li(r, "An anomaly of the detection rules is not a deviation: it shows "
	   "the detection control operating, and is listed for follow-up.");
	list_end(r);
	heading(r, 3, NULL, "Results per component and control");
	table_begin(r, "wide", "Component|What was tested|Method|Tested|Result");
	for (int i = 0; i < n_items(comps) && r->rc == 0; i++) {
		const cJSON *c = item(comps, i);
		int any = 0;

		where(r, "a1_2.components[%d]", i);
		row_begin(r);
		cell_s(r, j_str(r, c, "component"));
		cell(r, "availability at or above %s %%; maintenance approved; "
		     "spool reconciled; failover within %" PRId64 " s",
		     j_str(r, c, "target"), r->failover_target_s);
		cell_s(r, "census");
		cell(r, "1 period (%d months), %d maintenance windows, "
		     "%d activations, %d findings",
		     n_items(j_arr(r, c, "months")),
		     n_items(j_arr(r, c, "maintenance")),
		     n_items(j_arr(r, c, "activations")),
		     n_items(j_arr(r, c, "findings")));
		cell_begin(r);
		for (size_t k = 0; k < r->n_devs; k++) {
			if (r->devs[k].comp != c)
				continue;
			txt(r, any ? "; " : "Deviations identified: ");
			dev_summary(r, &r->devs[k]);
			txt(r, " (see ");
			dev_ref(r, k);
			txt(r, ")");
			any = 1;
		}
		if (!any)
			txt(r, "No deviations identified");
		cell_end(r);
		row_end(r);
	}
	row_begin(r);
	cell_s(r, "(report inputs)");
	cell_s(r, "every report input follows its row of SPEC.md 11.1");
	cell_s(r, "census");
	cell_s(r, "every event received before the end of the period");
	cell_begin(r);
	{
		long k = find_dev(r, DEV_MALFORMED, NULL);

		if (k < 0) {
			txt(r, "No deviations identified");
		} else {
			txt(r, "Deviations identified: ");
			dev_summary(r, &r->devs[k]);
			txt(r, " (see ");
			dev_ref(r, (size_t)k);
			txt(r, ")");
		}
	}
	cell_end(r);
	row_end(r);
	mon_tests(r);
	table_end(r);

	section_begin(r, "deviations", 0);
	heading(r, 3, NULL, "Deviations register");
	if (r->n_devs == 0)
		para(r, "No deviations identified.");
	for (size_t k = 0; k < r->n_devs && r->rc == 0; k++) {
		const struct dev *d = &r->devs[k];
		char id[32], label[32];

		snprintf(id, sizeof(id), "dev-%zu", k + 1);
		snprintf(label, sizeof(label), "DEV-%zu", k + 1);
		heading(r, 4, id, label);
		list_begin(r);
		item_begin(r);
		strong(r, "Control and criterion:");
		txt(r, " ");
		txt(r, dev_control[d->kind]);
		item_end(r);
		item_begin(r);
		strong(r, "Component:");
		txt(r, " ");
		txt(r, d->comp ? j_str(r, d->comp, "component")
			       : "all (report-wide)");
		item_end(r);
		item_begin(r);
		strong(r, "Description:");
		txt(r, " ");
		dev_summary(r, d);
		item_end(r);
		item_begin(r);
		strong(r, "How detected:");
		txt(r, " ");
		txt(r, dev_detected[d->kind]);
		item_end(r);
		item_begin(r);
		strong(r, "Management response:");
		txt(r, " (to be completed by management)");
		item_end(r);
		list_end(r);
		para(r, "Items:");
		dev_items(r, d);
	}
	section_end(r);
	section_end(r);
}

/* ---- 6. sampling worksheet ------------------------------------------ */

static void sampling(struct rnd *r)
{
	const cJSON *s, *items, *pop;
	int verified = 0;

	where(r, "%s", "");
	s = j_obj(r, r->root, "samples");
	pop = j_obj(r, r->root, "population");
	where(r, "samples");
	items = j_arr(r, s, "items");
	section_begin(r, "sampling", 1);
	heading(r, 2, NULL, "6. Sampling worksheet");
	table_begin(r, "kv", "Item|Value");
	kv_begin(r, "Seed");
	code_s(r, j_str(r, s, "seed"));
	kv_end(r);
	kv_begin(r, "Seed source");
	if (strcmp(j_str(r, s, "seed_source"), "given") == 0) {
		txt(r, "given by the auditor");
	} else {
		txt(r, "derived from the report id ");
		code_s(r, j_str(r, r->root, "report_id"));
		txt(r, " and the population hash ");
		where(r, "population");
		code_s(r, j_str(r, pop, "sha256"));
		where(r, "samples");
	}
	kv_end(r);
	kv_begin(r, "Size");
	text(r, "%" PRId64 " requested, %d drawn, from a population of %"
	     PRId64, j_int(r, s, "requested"), n_items(items),
	     j_int(r, s, "population"));
	kv_end(r);
	table_end(r);
	para(r, "To redraw: apply SPEC.md 21.1 to N = the population, n = the "
	     "size requested and the seed above (its Python script needs "
	     "nothing else); position p is the p-th line of population.csv.");
	if (empty_part(r, items, "No sample was drawn."))
		return;
	table_begin(r, "wide", "#|Index|Received|Type|Leaf hash|Proof file|"
		    "Verified");
	for (int k = 0; k < n_items(items) && r->rc == 0; k++) {
		const cJSON *it = item(items, k);
		const char *recs, *pf, *recv = NULL, *type = NULL;
		cJSON *rec;
		int ok;

		where(r, "samples.items[%d]", k);
		recs = j_str(r, it, "record");
		pf = j_strn(r, it, "proof_file");
		ok = j_bool(r, it, "proof_verified");
		if (r->rc < 0)
			break;
		rec = cJSON_Parse(recs);
		if (rec) {
			recv = j_stropt(rec, "received");
			type = j_stropt(member(rec, "event"), "type");
		}
		if (!recv || !type) {
			cJSON_Delete(rec);
			r->rc = alog_err_set(r->err, ALOG_EINVAL,
					     "report member \"samples.items[%d]."
					     "record\" is not a canonical record",
					     k);
			break;
		}
		verified += ok;
		row_begin(r);
		cell(r, "%d", k + 1);
		cell(r, "%" PRId64, j_int(r, it, "index"));
		cell_s(r, recv);
		cell_s(r, type);
		cell_code(r, j_str(r, it, "leaf_hash"));
		if (pf)
			cell_code(r, pf);
		else
			cell_s(r, "none (no end checkpoint yet)");
		cell_begin(r);
		verdict(r, ok, ok ? "verified" : "NOT verified");
		cell_end(r);
		row_end(r);
		cJSON_Delete(rec);
	}
	table_end(r);
	para_begin(r);
	text(r, "Inclusion proofs verified against the end checkpoint: %d of %d.",
	     verified, n_items(items));
	para_end(r);
	section_end(r);
}

/* ---- 7. integrity appendix ------------------------------------------ */

static void integrity(struct rnd *r)
{
	const cJSON *integ, *proof, *items;
	static const char *const which[2] = { "start_checkpoint",
					      "end_checkpoint" };

	where(r, "%s", "");
	integ = j_obj(r, r->root, "integrity");
	items = j_arr(r, j_obj(r, r->root, "samples"), "items");
	where(r, "integrity");
	section_begin(r, "integrity", 1);
	heading(r, 2, NULL, "7. Integrity appendix");
	for (int i = 0; i < 2; i++) {
		const cJSON *ck = j_objn(r, integ, which[i]);

		heading(r, 3, NULL, i ? "End checkpoint (signed note)"
				      : "Start checkpoint (signed note)");
		if (!ck) {
			para(r, i ? "None yet: no checkpoint was signed at or "
				    "after the end of the period."
				  : "None: the start is the empty tree.");
			continue;
		}
		where(r, "integrity.%s", which[i]);
		pre(r, j_str(r, ck, "note"));
		where(r, "integrity");
	}
	heading(r, 3, NULL, "Consistency proof (start to end, RFC 9162 2.1.4)");
	proof = j_arr(r, integ, "consistency_proof");
	if (n_items(proof) == 0) {
		para(r, "Empty: the start is the empty tree or has the end's "
		     "size.");
	} else {
		list_begin(r);
		for (int k = 0; k < n_items(proof) && r->rc == 0; k++) {
			const cJSON *h = item(proof, k);

			if (!cJSON_IsString(h)) {
				r->rc = alog_err_set(r->err, ALOG_EINVAL,
						     "report member \"integrity."
						     "consistency_proof[%d]\" is "
						     "not a string", k);
				break;
			}
			item_begin(r);
			code_s(r, h->valuestring);
			item_end(r);
		}
		list_end(r);
	}
	para_begin(r);
	txt(r, "Verified: ");
	if (j_bool(r, integ, "consistency_verified"))
		verdict(r, 1, "yes");
	else
		verdict(r, 0, "no");
	para_end(r);
	heading(r, 3, NULL, "Re-verifying offline");
	para(r, "In the evidence bundle's directory DIR, with the log's "
	     "verifier key FILE obtained from the entity independently of the "
	     "bundle:");
	pre(r, "auditlog verify-bundle DIR --vkey FILE\n"
	       "cd DIR && sha256sum -c manifest.txt\n");
	para(r, "verify-bundle checks the signed manifest, every file's "
	     "SHA-256, the end checkpoint's signature and every sample's "
	     "inclusion proof (SPEC.md 21.3).");
	heading(r, 3, NULL, "Canonical records of the samples");
	if (n_items(items) == 0)
		para(r, "No sample was drawn.");
	for (int k = 0; k < n_items(items) && r->rc == 0; k++) {
		const cJSON *it = item(items, k);

		where(r, "samples.items[%d]", k);
		para_begin(r);
		text(r, "Index %" PRId64 " (leaf hash = SHA-256 of 0x00 and "
		     "these bytes):", j_int(r, it, "index"));
		para_end(r);
		pre(r, j_str(r, it, "record"));
	}
	section_end(r);
}

/* ---- 8. definitions -------------------------------------------------- */

static void definitions(struct rnd *r)
{
	char buf[160];

	section_begin(r, "definitions", 1);
	heading(r, 2, NULL, "8. Definitions");
	list_begin(r);
	li(r, "Time zone: UTC for every time; the period [from, to) includes "
	   "from and excludes to.");
	li(r, "Classes of time (SPEC.md 20.5), in this order: excluded "
	   "(approved maintenance), unknown (no evidence covers it, or no "
	   "state yet), then up, down or partial (the state at that time).");
	li(r, "Unknown time is shown, never counted as up: it counts against "
	   "availability but not against the error budget.");
	snprintf(buf, sizeof(buf), "Partial weight w = %" PRId64 " permille: "
		 "the share of partial (half-open, degraded) time counted as "
		 "down.", r->w_permille);
	li(r, buf);
	li(r, "Rounding: availability in parts per million, rounded down (never "
	   "overstated), printed as a percentage with three decimals, "
	   "truncated; the error budget used in permille, rounded up (never "
	   "understated); durations in microseconds.");
	li(r, "An outage episode starts when the state leaves up and ends at "
	   "the next up (SPEC.md 20.6). MTTR: mean duration of the episodes "
	   "that ended; MTBF: up time per episode started; MTTD: mean time "
	   "from the last up evidence to the episode's start.");
	li(r, "A maintenance window is excluded only with a non-empty change "
	   "reference; one without is a deviation and its time counts as "
	   "whatever the component was.");
	li(r, "CC7.2 (SPEC.md 20.14): probes expected per component and UTC "
	   "day = floor(day length / probe interval); received = the "
	   "health.probe events whose own time lies in the day.");
	item_begin(r);
	text(r, "A monitoring gap is more than the tolerance (%d probe "
	     "intervals) without a probe; each component with a gap is a "
	     "deviation, counted in the days of the period that a gap lies "
	     "in.", ALOG_MON_PROBE_TOLERANCE);
	item_end(r);
	li(r, "Checkpoint cadence: expected = floor(day length / expected "
	   "interval) per day; fewer checkpoints are shown, not a deviation. "
	   "Verification runs (integrity.verified) count by received time; a "
	   "day without a run and a failed run are deviations.");
	li(r, "Anomalies: the detection rules of SPEC.md 11.2 (classes "
	   "malicious, environmental, error); an anomaly is the detection "
	   "control operating, never a deviation.");
	list_end(r);
	pre(r, "T  = period; E = approved maintenance; Dm = down; "
	       "Dp = partial; U = unknown; B = T - E\n"
	       "availability_raw      = floor(10^6 \xc3\x97 (B - Dm - U) / B)\n"
	       "availability_weighted = floor(10^6 \xc3\x97 ((B - Dm - U) "
	       "\xc3\x97 1000 - w \xc3\x97 Dp) / (1000 \xc3\x97 B))\n"
	       "error budget used     = ceil((Dm \xc3\x97 1000 + w \xc3\x97 Dp)"
	       " \xc3\x97 10^6 / ((10^6 - target_ppm) \xc3\x97 B))  [permille]\n"
	       "pass                  = availability_weighted >= target_ppm "
	       "(B = 0: not measured, does not pass)\n");
	section_end(r);
}

/* ---- the page -------------------------------------------------------- */

static const char css[] =
	"@page{size:A4;margin:14mm 12mm}"
	"body{font:13px/1.45 Georgia,'Times New Roman',serif;color:#111;"
	"margin:0 auto;max-width:1180px;padding:16px}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;border-bottom:2px "
	"solid #333;padding-bottom:2px;margin-top:28px}h3{font-size:15px;"
	"margin-top:20px}h4{font-size:13px;margin:14px 0 4px}"
	"table{border-collapse:collapse;margin:6px 0 12px;font-size:12px}"
	"th,td{border:1px solid #999;padding:3px 6px;text-align:left;"
	"vertical-align:top}th{background:#e8e8e8}"
	"table.wide{width:100%}table.summary td,table.summary th{font-size:11px}"
	"table.kv td:first-child{font-weight:bold;white-space:nowrap;"
	"background:#f4f4f4}"
	"code,pre{font-family:'DejaVu Sans Mono',Consolas,monospace;"
	"font-size:11px;word-break:break-all}"
	"pre{background:#f6f6f6;border:1px solid #ccc;padding:6px;"
	"white-space:pre-wrap}"
	".ok{color:#1b6e2c}.bad{color:#b00020}"
	"a{color:inherit}"
	"svg{display:block;margin:4px 0 10px;font:10px sans-serif}"
	"svg text{fill:#222}"
	".seg.up,.key.up{fill:#2e9e44}.seg.partial,.key.partial{fill:#f0a30a}"
	".seg.down,.key.down{fill:#d62728}.seg.unknown,.key.unknown{fill:#e3e3e3}"
	".tick{stroke:#333;stroke-width:1}.axis{stroke:#333}.bar{fill:#4a6fa5}"
	".exp{fill:#d4d4d4}.rcv{fill:#4a6fa5}.rcv.short{fill:#d62728}"
	"rect.seg{shape-rendering:crispEdges}"
	"@media print{body{max-width:none;padding:0;font-size:11px}"
	"section.major{break-before:page}h2,h3,h4{break-after:avoid}"
	"tr,svg,pre{break-inside:avoid}table.summary td,table.summary th"
	"{font-size:9px}a{text-decoration:none}}";

static void page_begin(struct rnd *r)
{
	if (!r->html)
		return;
	put(r, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	       "<meta charset=\"utf-8\">\n"
	       "<meta http-equiv=\"Content-Security-Policy\" content=\""
	       "default-src 'none'; style-src 'unsafe-inline'\">\n"
	       "<meta name=\"viewport\" content=\"width=device-width, "
	       "initial-scale=1\">\n<title>");
	txt(r, j_str(r, r->root, "title"));
	txt(r, " \xe2\x80\x94 ");
	txt(r, j_str(r, r->root, "report_id"));
	put(r, "</title>\n<style>");
	put(r, css);
	put(r, "</style>\n</head>\n<body>\n<main>\n");
}

static void page_end(struct rnd *r)
{
	if (r->html)
		put(r, "</main>\n</body>\n</html>\n");
}

static int render(const char *json, size_t len, struct alog_buf *out,
		  int html, struct alog_err *err)
{
	struct alog_json_opts jo = { ALOG_RENDER_DEPTH_MAX, 0, 1, 0, NULL, NULL };
	struct alog_json_result res;
	struct rnd r;
	size_t start = out->len, saved_max = out->max;
	const cJSON *period, *a12, *comps, *pop;
	cJSON *root = NULL;
	int rc;

	memset(&r, 0, sizeof(r));
	if (len > ALOG_RENDER_JSON_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "report json of %zu bytes is over %d bytes",
				    len, ALOG_RENDER_JSON_MAX);
	/* strict I-JSON first (UTF-8, no duplicate key, integers within
	 * 2^53 - 1, bounded depth), so that cJSON's reading is exact */
	rc = alog_json_scan(json, len, &jo, NULL, &res, err);
	if (rc < 0) {
		alog_err_prefix(err, "report json");
		return rc;
	}
	root = cJSON_ParseWithLength(json, len);
	if (!root || arrays_index(root) < 0) {
		cJSON_Delete(root);
		return alog_err_set(err, ALOG_ENOMEM, "report json: out of memory");
	}
	if (!cJSON_IsString(member(root, "schema")) ||
	    strcmp(member(root, "schema")->valuestring, ALOG_RENDER_SCHEMA) != 0) {
		arrays_free();
		cJSON_Delete(root);
		return alog_err_set(err, ALOG_EINVAL,
				    "report json: \"schema\" is not \"%s\"",
				    ALOG_RENDER_SCHEMA);
	}
	if (out->max == 0 || out->max - start > ALOG_RENDER_OUT_MAX)
		out->max = start + ALOG_RENDER_OUT_MAX;
	r.out = out;
	r.html = html;
	r.err = err;
	r.root = root;
	alog_buf_init(&r.tmp, 0);

	period = j_obj(&r, root, "period");
	a12 = j_obj(&r, root, "a1_2");
	where(&r, "period");
	r.from_us = j_int(&r, period, "from_us");
	r.to_us = j_int(&r, period, "to_us");
	if (r.rc == 0 && r.from_us >= r.to_us)
		r.rc = alog_err_set(err, ALOG_EINVAL,
				    "report member \"period\": from_us is not "
				    "before to_us");
	where(&r, "a1_2");
	r.w_permille = j_int(&r, a12, "partial_weight_permille");
	r.failover_target_s = j_int(&r, a12, "failover_target_s");
	comps = j_arr(&r, a12, "components");
	where(&r, "%s", "");
	pop = j_obj(&r, root, "population");
	where(&r, "population");
	r.n_days = n_items(j_arr(&r, pop, "daily"));
	where(&r, "%s", "");
	r.cc = j_obj(&r, root, "cc7_2");
	collect_devs(&r, a12, comps);
	collect_mon_devs(&r);

	page_begin(&r);
	cover(&r);
	completeness(&r);
	availability(&r);
	monitoring(&r);
	tests(&r);
	sampling(&r);
	integrity(&r);
	definitions(&r);
	page_end(&r);

	rc = r.rc;
	out->max = saved_max;
	if (rc < 0)
		out->len = start;
	if (out->cap > 0)
		out->data[out->len] = 0;
	alog_buf_release(&r.tmp);
	free(r.devs);
	arrays_free();
	cJSON_Delete(root);
	return rc;
}

int alog_render_markdown(const char *json, size_t len, struct alog_buf *out,
			 struct alog_err *err)
{
	return render(json, len, out, 0, err);
}

int alog_render_html(const char *json, size_t len, struct alog_buf *out,
		     struct alog_err *err)
{
	return render(json, len, out, 1, err);
}
