/*
 * json: see json.h. SPEC.md "Events" (JSON rules) and "Canonical record".
 *
 * The scanner is a loop over a state (what may come next) and a stack of
 * open containers. Invariants while scanning:
 *   - depth == number of open containers, stack[depth - 1] the innermost;
 *   - keys holds the decoded keys with escapes of the open objects (a key
 *     without one is its own input bytes), ents one key_ent per member of
 *     the open objects, both in stack order, so closing an object pops
 *     exactly its own entries;
 *   - when out != NULL, out_n bytes of minified text are written and the
 *     input bytes [copy_from, pos) are pending (not yet copied).
 */
#include "ingest/json.h"

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct key_ent {
	size_t off;                 /* decoded key: in keys.data when
				     * decoded, else in the input */
	size_t len;
	size_t in_off;              /* input offset of the key's quote */
	size_t raw_len;             /* key as sent, without its quotes */
	int decoded;                /* had an escape: decoded into keys */
	const unsigned char *p;     /* set just before sorting */
};

struct frame {
	int is_object;
	size_t n_members;
	size_t ent_start;           /* first key_ent of this object */
	size_t key_start;           /* keys.len when the object opened */
};

enum state {
	ST_VALUE,          /* a value (top level, after ':' or array ',') */
	ST_FIRST_ELEM,     /* after '[': a value or ']' */
	ST_FIRST_KEY,      /* after '{': a key or '}' */
	ST_KEY,            /* after ',' in an object: a key */
	ST_COLON,
	ST_OBJ_NEXT,       /* after a member value: ',' or '}' */
	ST_ARR_NEXT,       /* after an element: ',' or ']' */
	ST_DONE,
};

struct scan {
	const unsigned char *s;
	size_t len;
	size_t pos;
	const struct alog_json_opts *o;
	struct alog_json_result *res;
	struct alog_err *err;

	struct frame *stack;        /* ALOG_JSON_DEPTH_LIMIT frames, each
				     * set when its container opens */
	unsigned depth;
	enum state st;

	struct alog_buf keys;
	struct alog_buf ents;
	struct alog_buf num;        /* NUL-terminated copy of one number */
	locale_t c_loc;

	unsigned char *out;         /* where minified bytes go, or NULL */
	size_t out_n;
	size_t copy_from;

	/* the current member of the top-level object */
	size_t top_ent;
	size_t top_value_off;
	/* the value just read */
	int val_escaped;
	int val_integer;
};

/* The decoded bytes of a key. */
static const unsigned char *key_bytes(const struct scan *sc,
				      const struct key_ent *e)
{
	return e->decoded ? sc->keys.data + e->off : sc->s + e->off;
}

static int is_ws(unsigned char c)
{
	/* one compare for the usual byte */
	return c <= ' ' && (c == ' ' || c == '\t' || c == '\n' || c == '\r');
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int fault(struct scan *sc, enum alog_json_fault f, size_t off,
		 const char *what)
{
	int code = (f == ALOG_JSON_DEPTH || f == ALOG_JSON_MEMBERS) ?
		ALOG_ELIMIT : ALOG_EINVAL;

	sc->res->fault = f;
	sc->res->off = off;
	sc->res->what = what;
	return alog_err_set(sc->err, code, "%s at byte %zu", what, off);
}

/* A buffer could not grow (rc from alog_buf_*, err already filled). */
static int nomem(struct scan *sc, int rc)
{
	sc->res->fault = ALOG_JSON_NOMEM;
	sc->res->off = sc->pos;
	sc->res->what = "out of memory";
	return rc;
}

/* Length of the valid UTF-8 sequence at s[i] (2..4), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t i, size_t n)
{
	unsigned char c = s[i], lo = 0x80, hi = 0xBF;
	size_t k, j;

	if (c < 0xC2)
		return 0;       /* continuation byte or overlong 2-byte lead */
	if (c < 0xE0) {
		k = 2;
	} else if (c < 0xF0) {
		k = 3;
		if (c == 0xE0)
			lo = 0xA0;      /* overlong */
		else if (c == 0xED)
			hi = 0x9F;      /* U+D800..DFFF */
	} else if (c < 0xF5) {
		k = 4;
		if (c == 0xF0)
			lo = 0x90;      /* overlong */
		else if (c == 0xF4)
			hi = 0x8F;      /* > U+10FFFF */
	} else {
		return 0;
	}
	for (j = 1; j < k; j++) {
		unsigned char b;

		if (i + j >= n)
			return 0;       /* truncated */
		b = s[i + j];
		if (j == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
			return 0;
	}
	return k;
}

size_t alog_json_utf8_seq(const char *s, size_t len)
{
	return len ? utf8_seq((const unsigned char *)s, 0, len) : 0;
}

size_t alog_json_utf8_check(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		k = utf8_seq(s, i, len);
		if (!k)
			return i;
		i += k;
	}
	return len;
}

static int hex4(const unsigned char *p, unsigned *v)
{
	unsigned x = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned char c = p[i];

		x <<= 4;
		if (c >= '0' && c <= '9')
			x |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			x |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			x |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*v = x;
	return 0;
}

static size_t utf8_encode(unsigned cp, unsigned char *o)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* The classic tests: (x - ONES * n) & ~x & HIGHS flags the bytes of x
 * below n (n <= 0x80), and a byte equal to c is a zero byte of
 * x ^ ONES * c. A flag above a flagged byte may be false (a borrow), the
 * lowest one never is. */
uint64_t alog_json_unplain8(const char *p)
{
	uint64_t x, q, b;

	memcpy(&x, p, 8);
	q = x ^ (ONES * '"');
	b = x ^ (ONES * '\\');
	return (((x - ONES * 0x20) & ~x) | x | ((q - ONES) & ~q) |
		((b - ONES) & ~b)) & HIGHS;
}

uint64_t alog_json_unplain64(const char *p, const char *end)
{
	size_t n = (size_t)(end - p), i = 0;
	uint64_t m = 0;

	if (n > 64)
		n = 64;
#ifdef __SSE2__
	for (; i + 16 <= n; i += 16)
		m |= (uint64_t)alog_json_unplain16(p + i) << i;
#endif
	for (; i < n; i++)
		if (alog_json_unplain((unsigned char)p[i]))
			m |= (uint64_t)1 << i;
	if (n < 64)
		m |= ~(uint64_t)0 << n;
	return m;
}

/*
 * Check the string whose opening quote is at sc->pos; leave pos after the
 * closing quote. *escaped: it holds a backslash escape (a key with one is
 * decoded by alog_json_string_decode, which trusts this check).
 */
static int scan_string(struct scan *sc, int *escaped)
{
	const unsigned char *s = sc->s;
	size_t n = sc->len, i = sc->pos + 1, k;
	unsigned cp = 0, lo;

	*escaped = 0;
	for (;;) {
		unsigned char c;

		/* on to the first byte that is not plain */
		i = (size_t)((const unsigned char *)alog_json_plain_end(
			(const char *)s + i, (const char *)s + n) - s);
		if (i >= n)
			return fault(sc, ALOG_JSON_SYNTAX, sc->pos,
				     "unterminated string");
		c = s[i];
		if (c == '"')
			break;
		if (c < 0x20)
			return fault(sc, ALOG_JSON_SYNTAX, i,
				     "control character in a string");
		if (c >= 0x80) {
			k = utf8_seq(s, i, n);
			if (!k)
				return fault(sc, ALOG_JSON_BAD_UTF8, i,
					     "invalid utf-8 in a string");
			i += k;
			continue;
		}
		/* else a backslash: plain_end stops at nothing else */
		*escaped = 1;
		if (i + 1 >= n)
			return fault(sc, ALOG_JSON_SYNTAX, sc->pos,
				     "unterminated string");
		k = 2;
		switch (s[i + 1]) {
		case '"': case '\\': case '/':
		case 'b': case 'f': case 'n': case 'r': case 't':
			break;
		case 'u':
			if (n - i < 6 || hex4((const unsigned char *)s + i + 2, &cp) < 0)
				return fault(sc, ALOG_JSON_SYNTAX, i,
					     "bad \\u escape");
			k = 6;
			if (cp == 0)
				return fault(sc, ALOG_JSON_NUL, i,
					     "\\u0000 escape in a string");
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return fault(sc, ALOG_JSON_BAD_UTF8, i,
					     "lone low surrogate escape");
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (n - i < 12 || s[i + 6] != '\\' ||
				    s[i + 7] != 'u' ||
				    hex4((const unsigned char *)s + i + 8, &lo) < 0 ||
				    lo < 0xDC00 || lo > 0xDFFF)
					return fault(sc, ALOG_JSON_BAD_UTF8, i,
						     "lone high surrogate escape");
				k = 12;
			}
			break;
		default:
			return fault(sc, ALOG_JSON_SYNTAX, i, "bad escape");
		}
		i += k;
	}
	sc->pos = i + 1;
	return 0;
}

static int scan_number(struct scan *sc)
{
	const unsigned char *s = sc->s;
	size_t n = sc->len, start = sc->pos, i = start, int_start, ndig;
	long exp10 = 0;      /* the exponent, held at 10^6 when larger */
	int exp_neg = 0;
	double v;
	int rc;

	if (s[i] == '-')
		i++;
	if (i >= n || !is_digit(s[i]))
		return fault(sc, ALOG_JSON_SYNTAX, i, "bad number");
	int_start = i;
	if (s[i] == '0') {
		i++;
		if (i < n && is_digit(s[i]))
			return fault(sc, ALOG_JSON_SYNTAX, start,
				     "number with a leading zero");
	} else {
		while (i < n && is_digit(s[i]))
			i++;
	}
	ndig = i - int_start;
	sc->val_integer = 1;
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || !is_digit(s[i]))
			return fault(sc, ALOG_JSON_SYNTAX, i,
				     "digit expected after '.'");
		while (i < n && is_digit(s[i]))
			i++;
		sc->val_integer = 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			exp_neg = s[i++] == '-';
		if (i >= n || !is_digit(s[i]))
			return fault(sc, ALOG_JSON_SYNTAX, i,
				     "digit expected in the exponent");
		while (i < n && is_digit(s[i])) {
			if (exp10 < 1000000)
				exp10 = exp10 * 10 + (s[i] - '0');
			i++;
		}
		sc->val_integer = 0;
	}
	if (sc->val_integer) {
		/* 2^53-1 has 16 digits; compare as text (no leading zeros) */
		if (ndig > 16 || (ndig == 16 &&
		    memcmp(s + int_start, "9007199254740991", 16) > 0))
			return fault(sc, ALOG_JSON_RANGE, start,
				     "integer beyond +-(2^53-1)");
	} else if ((long)ndig + (exp_neg ? -exp10 : exp10) > 308) {
		/* below 10^(ndig + exponent) <= 10^308 a number cannot
		 * overflow a double (DBL_MAX is about 1.8e308): only a number
		 * that might is converted. strtod in the C locale: overflow
		 * gives +-HUGE_VAL (inf); underflow to 0 is allowed */
		alog_buf_reset(&sc->num);
		rc = alog_buf_add(&sc->num, s + start, i - start, sc->err);
		if (rc < 0)
			return nomem(sc, rc);
		if (!sc->c_loc) {
			sc->c_loc = newlocale(LC_NUMERIC_MASK, "C",
					      (locale_t)0);
			if (!sc->c_loc) {
				return nomem(sc, alog_err_set(sc->err,
					ALOG_ENOMEM, "cannot create the c locale"));
			}
		}
		v = strtod_l((const char *)sc->num.data, NULL, sc->c_loc);
		if (isinf(v))
			return fault(sc, ALOG_JSON_RANGE, start,
				     "number overflows a double");
	}
	sc->pos = i;
	return 0;
}

static int scan_literal(struct scan *sc, enum alog_json_type *type)
{
	static const struct { const char *text; enum alog_json_type t; }
	lits[] = {
		{ "true", ALOG_JSON_TRUE },
		{ "false", ALOG_JSON_FALSE },
		{ "null", ALOG_JSON_NULL },
	};
	size_t i, k, left = sc->len - sc->pos;

	for (i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
		k = strlen(lits[i].text);
		if (left >= k && !memcmp(sc->s + sc->pos, lits[i].text, k)) {
			sc->pos += k;
			*type = lits[i].t;
			return 0;
		}
	}
	return fault(sc, ALOG_JSON_SYNTAX, sc->pos, "unexpected character");
}

static int cmp_key(const void *a, const void *b)
{
	const struct key_ent *x = a, *y = b;
	size_t m = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, m);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->in_off < y->in_off ? -1 : x->in_off > y->in_off;
}

/* Pop the innermost object, refusing it if two of its keys are equal. */
/* Objects of up to this many members are checked for duplicate keys pair
 * by pair (no sort). */
#define SMALL_OBJECT 24

static int close_object(struct scan *sc)
{
	struct frame *f = &sc->stack[sc->depth - 1];
	struct key_ent *e = (struct key_ent *)(void *)sc->ents.data;
	size_t i, first_dup = SIZE_MAX;

	if (f->n_members > 1 && f->n_members <= SMALL_OBJECT) {
		/* few members (the usual event): a key whose filter bit is
		 * set already is compared with the ones before it; the first
		 * that repeats is the earliest */
		uint64_t seen = 0;

		e += f->ent_start;
		for (i = 0; i < f->n_members && first_dup == SIZE_MAX; i++) {
			uint64_t bit;

			e[i].p = key_bytes(sc, &e[i]);
			bit = (uint64_t)1 << alog_json_key_bit(e[i].p,
							       e[i].len);
			if (seen & bit)
				for (size_t j = 0; j < i; j++)
					if (e[i].len == e[j].len &&
					    !memcmp(e[i].p, e[j].p, e[i].len)) {
						first_dup = e[i].in_off;
						break;
					}
			seen |= bit;
		}
		if (first_dup != SIZE_MAX)
			return fault(sc, ALOG_JSON_DUPLICATE, first_dup,
				     "duplicate key");
	} else if (f->n_members > 1) {
		e += f->ent_start;
		for (i = 0; i < f->n_members; i++)
			e[i].p = key_bytes(sc, &e[i]);
		qsort(e, f->n_members, sizeof(*e), cmp_key);
		/* after sorting, equal keys are adjacent and in input order:
		 * report the earliest key that repeats an earlier one */
		for (i = 1; i < f->n_members; i++) {
			if (e[i].len == e[i - 1].len &&
			    !memcmp(e[i].p, e[i - 1].p, e[i].len) &&
			    e[i].in_off < first_dup)
				first_dup = e[i].in_off;
		}
		if (first_dup != SIZE_MAX)
			return fault(sc, ALOG_JSON_DUPLICATE, first_dup,
				     "duplicate key");
	}
	sc->ents.len = f->ent_start * sizeof(struct key_ent);
	sc->keys.len = f->key_start;
	sc->depth--;
	return 0;
}

/* A value of type t ended at sc->pos: report it and choose what is next. */
static int value_done(struct scan *sc, enum alog_json_type t)
{
	struct alog_json_member m;
	const struct key_ent *e;
	int rc;

	if (sc->depth == 0) {
		sc->res->type = t;
		sc->st = ST_DONE;
		return 0;
	}
	if (!sc->stack[sc->depth - 1].is_object) {
		sc->st = ST_ARR_NEXT;
		return 0;
	}
	sc->st = ST_OBJ_NEXT;
	if (sc->depth != 1 || !sc->o->on_member)
		return 0;
	e = (const struct key_ent *)(const void *)sc->ents.data + sc->top_ent;
	/* every member set: no memset first */
	m = (struct alog_json_member){
		.key = (const char *)key_bytes(sc, e),
		.key_len = e->len,
		.raw_key = (const char *)sc->s + e->in_off + 1,
		.raw_key_len = e->raw_len,
		.key_off = e->in_off,
		.type = t,
		.value = (const char *)sc->s + sc->top_value_off,
		.value_len = sc->pos - sc->top_value_off,
		.value_off = sc->top_value_off,
		.escaped = t == ALOG_JSON_STRING && sc->val_escaped,
		.integer = t == ALOG_JSON_NUMBER && sc->val_integer,
	};
	rc = sc->o->on_member(sc->o->ctx, &m, sc->err);
	if (rc < 0) {
		sc->res->fault = ALOG_JSON_STOPPED;
		sc->res->off = sc->top_value_off;
		sc->res->what = "stopped";
		return rc;
	}
	return 0;
}

static int open_container(struct scan *sc, int is_object)
{
	struct frame *f;

	if (sc->depth + 1 > sc->o->depth_max)
		return fault(sc, ALOG_JSON_DEPTH, sc->pos, "nesting too deep");
	f = &sc->stack[sc->depth++];
	f->is_object = is_object;
	f->n_members = 0;
	f->ent_start = sc->ents.len / sizeof(struct key_ent);
	f->key_start = sc->keys.len;
	sc->pos++;
	sc->st = is_object ? ST_FIRST_KEY : ST_FIRST_ELEM;
	return 0;
}

static int scan_value(struct scan *sc);

static int scan_key(struct scan *sc)
{
	struct frame *f = &sc->stack[sc->depth - 1];
	struct key_ent *e;
	size_t in_off = sc->pos;
	int escaped;
	int rc;

	if (sc->o->members_max && f->n_members >= sc->o->members_max)
		return fault(sc, ALOG_JSON_MEMBERS, sc->pos,
			     "too many members in an object");
	rc = scan_string(sc, &escaped);
	if (rc < 0)
		return rc;
	/* the entry is filled in place: one built on the stack and copied
	 * costs a store-forwarding stall per key */
	rc = alog_buf_reserve(&sc->ents, sizeof(*e), sc->err);
	if (rc < 0)
		return nomem(sc, rc);
	e = (struct key_ent *)(void *)(sc->ents.data + sc->ents.len);
	e->in_off = in_off;
	e->raw_len = sc->pos - in_off - 2;
	e->p = NULL;
	if (!escaped) {
		/* the usual key: its bytes are its decoded form */
		e->decoded = 0;
		e->off = in_off + 1;
		e->len = e->raw_len;
	} else {
		/* decoded text is never longer than the text sent */
		rc = alog_buf_reserve(&sc->keys, e->raw_len, sc->err);
		if (rc < 0)
			return nomem(sc, rc);
		e->decoded = 1;
		e->off = sc->keys.len;
		e->len = alog_json_string_decode((const char *)sc->s +
						 in_off + 1, e->raw_len,
						 (char *)sc->keys.data + e->off,
						 e->raw_len + 1);
		sc->keys.len += e->len;
	}
	sc->ents.len += sizeof(*e);
	if (sc->depth == 1)
		sc->top_ent = sc->ents.len / sizeof(*e) - 1;
	f->n_members++;
	/* minified input: the ':' and the value at once, as the loop would
	 * take them (it is entered again for whatever else comes) */
	if (sc->len - sc->pos >= 2 && sc->s[sc->pos] == ':' &&
	    !is_ws(sc->s[sc->pos + 1])) {
		sc->pos++;
		return scan_value(sc);
	}
	sc->st = ST_COLON;
	return 0;
}

static int scan_value(struct scan *sc)
{
	unsigned char c = sc->s[sc->pos];
	enum alog_json_type t = ALOG_JSON_NULL;
	int rc;

	if (sc->depth == 1 && sc->stack[0].is_object)
		sc->top_value_off = sc->pos;
	sc->val_escaped = 0;
	sc->val_integer = 0;
	if (c == '{')
		return open_container(sc, 1);
	if (c == '[')
		return open_container(sc, 0);
	if (c == '"') {
		t = ALOG_JSON_STRING;
		rc = scan_string(sc, &sc->val_escaped);
	} else if (c == '-' || is_digit(c)) {
		t = ALOG_JSON_NUMBER;
		rc = scan_number(sc);
	} else {
		rc = scan_literal(sc, &t);
	}
	if (rc < 0)
		return rc;
	return value_done(sc, t);
}

/* Skip whitespace, moving the pending minified run past it. */
static int skip_ws(struct scan *sc)
{
	size_t start = sc->pos;

	if (start < sc->len && !is_ws(sc->s[start]))
		return 0;  /* the usual case: minified input */
	while (sc->pos < sc->len && is_ws(sc->s[sc->pos]))
		sc->pos++;
	if (sc->pos == start)
		return 0;
	if (sc->o->no_whitespace)
		return fault(sc, ALOG_JSON_WHITESPACE, start,
			     "whitespace outside a string");
	if (sc->out) {
		memcpy(sc->out + sc->out_n, sc->s + sc->copy_from,
		       start - sc->copy_from);
		sc->out_n += start - sc->copy_from;
	}
	sc->copy_from = sc->pos;
	return 0;
}

static int step(struct scan *sc)
{
	unsigned char c = sc->s[sc->pos];
	struct frame *f;

	switch (sc->st) {
	case ST_FIRST_ELEM:
		if (c == ']') {
			sc->pos++;
			sc->depth--;
			return value_done(sc, ALOG_JSON_ARRAY);
		}
		return scan_value(sc);
	case ST_VALUE:
		return scan_value(sc);
	case ST_FIRST_KEY:
		if (c == '}') {
			sc->pos++;
			sc->depth--;
			return value_done(sc, ALOG_JSON_OBJECT);
		}
		/* fall through */
	case ST_KEY:
		if (c != '"')
			return fault(sc, ALOG_JSON_SYNTAX, sc->pos,
				     "key expected");
		return scan_key(sc);
	case ST_COLON:
		if (c != ':')
			return fault(sc, ALOG_JSON_SYNTAX, sc->pos,
				     "':' expected");
		sc->pos++;
		sc->st = ST_VALUE;
		return 0;
	case ST_OBJ_NEXT:
	case ST_ARR_NEXT:
		f = &sc->stack[sc->depth - 1];
		if (c == ',') {
			sc->pos++;
			/* minified input: the next key at once */
			if (f->is_object && sc->pos < sc->len &&
			    sc->s[sc->pos] == '"')
				return scan_key(sc);
			sc->st = f->is_object ? ST_KEY : ST_VALUE;
			return 0;
		}
		if (c == (f->is_object ? '}' : ']')) {
			int rc = 0;

			sc->pos++;
			if (f->is_object)
				rc = close_object(sc);
			else
				sc->depth--;
			if (rc < 0)
				return rc;
			return value_done(sc, f->is_object ?
					  ALOG_JSON_OBJECT : ALOG_JSON_ARRAY);
		}
		return fault(sc, ALOG_JSON_SYNTAX, sc->pos, f->is_object ?
			     "',' or '}' expected" : "',' or ']' expected");
	case ST_DONE:
		return fault(sc, ALOG_JSON_SYNTAX, sc->pos,
			     "bytes after the json value");
	}
	return fault(sc, ALOG_JSON_SYNTAX, sc->pos, "bad scanner state");
}

int alog_json_scan(const char *s, size_t len, const struct alog_json_opts *o,
		   struct alog_buf *out, struct alog_json_result *res,
		   struct alog_err *err)
{
	struct alog_json_result dummy;
	struct frame stack[ALOG_JSON_DEPTH_LIMIT];
	struct scan sc;
	/* room for the members of a typical event, so that a scan does not
	 * allocate */
	unsigned char keys[1024], num[64];
	_Alignas(max_align_t) unsigned char ents[1024];
	const void *nul;
	int rc = 0;

	if (!res)
		res = &dummy;
	memset(res, 0, sizeof(*res));
	sc = (struct scan){
		.s = (const unsigned char *)s, .len = len, .o = o,
		.res = res, .err = err, .stack = stack, .st = ST_VALUE,
	};
	alog_buf_init_fixed(&sc.keys, keys, sizeof(keys), 0);
	alog_buf_init_fixed(&sc.ents, ents, sizeof(ents), 0);
	alog_buf_init_fixed(&sc.num, num, sizeof(num), 0);
	if (o->depth_max < 1 || o->depth_max > ALOG_JSON_DEPTH_LIMIT)
		return fault(&sc, ALOG_JSON_DEPTH, 0, "bad depth limit");

	/* a NUL byte anywhere comes before every other fault (SPEC.md) */
	nul = memchr(s, 0, len);
	if (nul)
		return fault(&sc, ALOG_JSON_NUL, (size_t)((const char *)nul - s),
			     "nul byte");
	if (out) {
		rc = alog_buf_reserve(out, len, err);
		if (rc < 0)
			return nomem(&sc, rc);
		sc.out = out->data + out->len;
	}

	for (;;) {
		rc = skip_ws(&sc);
		if (rc < 0)
			goto out;
		if (sc.pos >= len)
			break;
		rc = step(&sc);
		if (rc < 0)
			goto out;
	}
	if (sc.st != ST_DONE) {
		rc = fault(&sc, ALOG_JSON_SYNTAX, len, sc.depth || sc.st !=
			   ST_VALUE ? "unexpected end of input" :
			   "no json value");
		goto out;
	}
	if (o->object_only && res->type != ALOG_JSON_OBJECT) {
		rc = fault(&sc, ALOG_JSON_NOT_OBJECT, 0,
			   "top-level value is not an object");
		goto out;
	}
	if (sc.out) {
		memcpy(sc.out + sc.out_n, sc.s + sc.copy_from,
		       len - sc.copy_from);
		sc.out_n += len - sc.copy_from;
		out->len += sc.out_n;
	}
out:
	if (out && out->data)
		out->data[out->len] = 0;
	if (sc.c_loc)
		freelocale(sc.c_loc);
	alog_buf_release(&sc.keys);
	alog_buf_release(&sc.ents);
	alog_buf_release(&sc.num);
	return rc;
}

int alog_json_string_format(struct alog_buf *out, const char *s, size_t len,
			    struct alog_err *err)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = out->len, i, run = 0, bad;
	char esc[6];
	int rc;

	bad = alog_json_utf8_check(s, len);
	if (bad != len)
		return alog_err_set(err, ALOG_EINVAL,
				    "invalid utf-8 at byte %zu", bad);
	rc = alog_buf_addc(out, '"', err);
	for (i = 0; rc == 0 && i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t m = 2;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
		} else if (c < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			m = 6;
		} else {
			continue;
		}
		rc = alog_buf_add(out, s + run, i - run, err);
		if (rc == 0)
			rc = alog_buf_add(out, esc, m, err);
		run = i + 1;
	}
	if (rc == 0)
		rc = alog_buf_add(out, s + run, len - run, err);
	if (rc == 0)
		rc = alog_buf_addc(out, '"', err);
	if (rc < 0) {
		out->len = start;
		if (out->data)
			out->data[start] = 0;
	}
	return rc;
}

/* ---- decoding a checked string ---------------------------------------- */

size_t alog_json_string_decode(const char *s, size_t n, char *out,
			       size_t cap)
{
	size_t i = 0, o = 0;

	while (i < n) {
		char buf[4];
		size_t k = 0;
		unsigned cp, lo;

		if (s[i] != '\\') {
			/* copy one whole UTF-8 sequence */
			unsigned char c = (unsigned char)s[i];
			size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;

			if (len > n - i)
				len = n - i;
			if (o + len > cap - 1)
				break;
			memcpy(out + o, s + i, len);
			o += len;
			i += len;
			continue;
		}
		if (i + 1 >= n)
			break;
		switch (s[i + 1]) {
		case 'b': buf[k++] = '\b'; break;
		case 'f': buf[k++] = '\f'; break;
		case 'n': buf[k++] = '\n'; break;
		case 'r': buf[k++] = '\r'; break;
		case 't': buf[k++] = '\t'; break;
		case 'u':
			if (i + 6 > n || hex4((const unsigned char *)s + i + 2, &cp) < 0)
				goto done;
			if (cp >= 0xD800 && cp <= 0xDBFF && i + 12 <= n &&
			    hex4((const unsigned char *)s + i + 8, &lo) == 0) {
				cp = 0x10000 + ((cp - 0xD800) << 10) +
				     (lo - 0xDC00);
				i += 6;
			}
			k = utf8_encode(cp, (unsigned char *)buf);
			i += 4;
			break;
		default: buf[k++] = s[i + 1]; break; /* " \ / */
		}
		i += 2;
		if (o + k > cap - 1)
			break;
		memcpy(out + o, buf, k);
		o += k;
	}
done:
	out[o] = 0;
	return o;
}
