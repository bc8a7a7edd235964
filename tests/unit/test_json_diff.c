/*
 * test_json_diff: the hot-path scanner (ingest/json.c alog_json_scan, the
 * strict I-JSON profile of SPEC.md section 3 "JSON rules") tested
 * differentially against cJSON on generated events and their mutations,
 * and its string scan (eight bytes at a time, alog_json_unplain8) against
 * a byte-at-a-time reference at every alignment.
 *
 * Properties, for every input (scanned with the event options: depth 32,
 * 4096 members, object only):
 *   - cJSON refuses => we refuse;
 *   - we accept => cJSON accepts, cJSON's tree of the input equals its tree
 *     of our minified output, the minified output is the input minus the
 *     whitespace outside strings, has no whitespace left, and scans again
 *     to itself;
 *   - we refuse what cJSON accepts => the fault is one of SPEC.md's extra
 *     rules (NUL, UTF-8, surrogates, duplicate names, number range, depth,
 *     members, not an object), checked on cJSON's tree or the bytes at the
 *     fault's offset; a SYNTAX fault there is a bug unless cJSON is known
 *     to be lenient in that place (see lenient_syntax());
 *   - a refused scan leaves `out` as it was.
 *
 * The generator is a seeded splitmix64; each input has its own seed (the
 * base seed and the iteration), printed with the input on failure.
 * Environment: ALOG_JSON_FUZZ_ITERS (inputs, default 40000),
 * ALOG_JSON_FUZZ_SEED (base seed, default fixed), ALOG_JSON_FUZZ_FIRST
 * (first input; a failure prints the SEED and FIRST that redo it).
 * The `slow` suite runs the same binary with many more inputs.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "ingest/event.h"
#include "ingest/json.h"

/* ---- PRNG and a growable text ---------------------------------------- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static unsigned below(struct rng *r, unsigned n)
{
	return n ? (unsigned)(rnd(r) % n) : 0;
}

/* true with probability 1/n */
static int one_in(struct rng *r, unsigned n)
{
	return below(r, n) == 0;
}

struct text {
	char *p;
	size_t n, cap;
};

static void t_reserve(struct text *t, size_t more)
{
	if (t->n + more + 1 <= t->cap)
		return;
	t->cap = (t->n + more + 1) * 2;
	t->p = realloc(t->p, t->cap);
	assert_non_null(t->p);
}

static void t_add(struct text *t, const void *p, size_t n)
{
	t_reserve(t, n);
	memcpy(t->p + t->n, p, n);
	t->n += n;
	t->p[t->n] = 0;
}

static void t_addc(struct text *t, char c)
{
	t_add(t, &c, 1);
}

static void t_adds(struct text *t, const char *s)
{
	t_add(t, s, strlen(s));
}

static void t_insert(struct text *t, size_t at, const void *p, size_t n)
{
	t_reserve(t, n);
	memmove(t->p + at + n, t->p + at, t->n - at);
	memcpy(t->p + at, p, n);
	t->n += n;
	t->p[t->n] = 0;
}

static void t_erase(struct text *t, size_t at, size_t n)
{
	if (at + n > t->n)
		n = t->n - at;
	memmove(t->p + at, t->p + at + n, t->n - at - n);
	t->n -= n;
	t->p[t->n] = 0;
}

/* ---- references, written from SPEC.md section 3, byte at a time ------ */

static int ref_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int ref_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The code point of 4 hex digits at p (n bytes there), or -1. */
static long ref_hex4(const unsigned char *p, size_t n)
{
	long v = 0;
	size_t i;

	if (n < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		int h = ref_hexval(p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* Length of the well-formed UTF-8 sequence at p (n bytes there) whose
 * lead byte is >= 0x80, else 0: decode, then judge the code point and
 * the shortest form (the other way round from the scanner's table). */
static size_t ref_utf8(const unsigned char *p, size_t n)
{
	size_t k, j;
	unsigned long cp;

	if ((p[0] & 0xE0) == 0xC0) {
		k = 2;
		cp = p[0] & 0x1F;
	} else if ((p[0] & 0xF0) == 0xE0) {
		k = 3;
		cp = p[0] & 0x0F;
	} else if ((p[0] & 0xF8) == 0xF0) {
		k = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < k)
		return 0;
	for (j = 1; j < k; j++) {
		if ((p[j] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[j] & 0x3F);
	}
	if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) ||
	    (k == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return k;
}

static int ref_utf8_ok(const unsigned char *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		k = ref_utf8(p + i, n - i);
		if (!k)
			return 0;
		i += k;
	}
	return 1;
}

static void put_utf8(struct text *t, unsigned long cp)
{
	char b[4];

	if (cp < 0x80) {
		t_addc(t, (char)cp);
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3F));
		t_add(t, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		t_add(t, b, 3);
	} else {
		b[0] = (char)(0xF0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		t_add(t, b, 4);
	}
}

struct ref_res {
	enum alog_json_fault fault;
	size_t off;
	size_t end;             /* after the closing quote when OK */
};

/* The string whose quote is at s[q] (n bytes of input): the first fault
 * in a left-to-right reading, or OK and its end; dec gets the decoded
 * bytes when non-NULL. */
static struct ref_res ref_string(const unsigned char *s, size_t n, size_t q,
				 struct text *dec)
{
	struct ref_res r = { ALOG_JSON_OK, 0, 0 };
	size_t i = q + 1;

	for (;;) {
		unsigned char c;
		long cp, lo;
		size_t k;

		if (i >= n) {
			r.fault = ALOG_JSON_SYNTAX;
			r.off = q;
			return r;
		}
		c = s[i];
		if (c == '"') {
			r.end = i + 1;
			return r;
		}
		if (c < 0x20) {
			r.fault = ALOG_JSON_SYNTAX;
			r.off = i;
			return r;
		}
		if (c >= 0x80) {
			k = ref_utf8(s + i, n - i);
			if (!k) {
				r.fault = ALOG_JSON_BAD_UTF8;
				r.off = i;
				return r;
			}
			if (dec)
				t_add(dec, s + i, k);
			i += k;
			continue;
		}
		if (c != '\\') {
			if (dec)
				t_addc(dec, (char)c);
			i++;
			continue;
		}
		if (i + 1 >= n) {
			r.fault = ALOG_JSON_SYNTAX;
			r.off = q;
			return r;
		}
		c = s[i + 1];
		if (c != 'u') {
			const char *from = "\"\\/bfnrt";
			const char *to = "\"\\/\b\f\n\r\t";
			const char *f = c ? strchr(from, c) : NULL;

			if (!f) {
				r.fault = ALOG_JSON_SYNTAX;
				r.off = i;
				return r;
			}
			if (dec)
				t_addc(dec, to[f - from]);
			i += 2;
			continue;
		}
		cp = ref_hex4(s + i + 2, n - i - 2);
		if (cp < 0) {
			r.fault = ALOG_JSON_SYNTAX;
			r.off = i;
			return r;
		}
		if (cp == 0) {
			r.fault = ALOG_JSON_NUL;
			r.off = i;
			return r;
		}
		k = 6;
		if (cp >= 0xDC00 && cp <= 0xDFFF) {
			r.fault = ALOG_JSON_BAD_UTF8;
			r.off = i;
			return r;
		}
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			lo = -1;
			if (n - i >= 12 && s[i + 6] == '\\' && s[i + 7] == 'u')
				lo = ref_hex4(s + i + 8, n - i - 8);
			if (lo < 0xDC00 || lo > 0xDFFF) {
				r.fault = ALOG_JSON_BAD_UTF8;
				r.off = i;
				return r;
			}
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			k = 12;
		}
		if (dec)
			put_utf8(dec, (unsigned long)cp);
		i += k;
	}
}

/* RFC 8259 number grammar: is all of p[0..n) one number? */
static int ref_rfc_number(const char *p, size_t n)
{
	size_t i = 0;

	if (i < n && p[i] == '-')
		i++;
	if (i >= n || p[i] < '0' || p[i] > '9')
		return 0;
	if (p[i] == '0')
		i++;
	else
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
	if (i < n && p[i] == '.') {
		i++;
		if (i >= n || p[i] < '0' || p[i] > '9')
			return 0;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (i >= n || p[i] < '0' || p[i] > '9')
			return 0;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
	}
	return i == n;
}

static int num_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' ||
	       c == 'e' || c == 'E';
}

/* The run of number characters around s[off]: [*a, *b). */
static void num_token(const unsigned char *s, size_t n, size_t off,
		      size_t *a, size_t *b)
{
	size_t i = off < n ? off : n;

	while (i > 0 && num_char(s[i - 1]))
		i--;
	*a = i;
	i = off;
	while (i < n && num_char(s[i]))
		i++;
	*b = i;
}

/* ---- what cJSON does ---------------------------------------------------- */

/* cJSON's parse of s; NULL when refused. require_null_terminated is
 * false (it cannot be true with an explicit length), so what follows the
 * value is checked here as cJSON would with it: bytes up to 0x20 only
 * (cJSON's whitespace). cs has a NUL after n bytes. */
static cJSON *cjson_parse(const char *cs, size_t n)
{
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(cs, n, &end, 0);
	size_t i;

	if (!j)
		return NULL;
	for (i = (size_t)(end - cs); i < n; i++) {
		if ((unsigned char)cs[i] > 0x20) {
			cJSON_Delete(j);
			return NULL;
		}
	}
	return j;
}

static int tree_depth(const cJSON *j)
{
	const cJSON *c;
	int d = 0, x;

	if (!cJSON_IsArray(j) && !cJSON_IsObject(j))
		return 0;
	for (c = j->child; c; c = c->next) {
		x = tree_depth(c);
		if (x > d)
			d = x;
	}
	return d + 1;
}

static int tree_has_dup(const cJSON *j)
{
	const cJSON *c, *o;

	for (c = j->child; c; c = c->next) {
		if (cJSON_IsObject(j))
			for (o = c->next; o; o = o->next)
				if (!strcmp(c->string, o->string))
					return 1;
		if (tree_has_dup(c))
			return 1;
	}
	return 0;
}

static size_t tree_max_members(const cJSON *j)
{
	const cJSON *c;
	size_t m = 0, k = 0, x;

	for (c = j->child; c; c = c->next) {
		k++;
		x = tree_max_members(c);
		if (x > m)
			m = x;
	}
	return cJSON_IsObject(j) && k > m ? k : m;
}

/* Every string and key of the tree is well-formed UTF-8. */
static int tree_utf8_ok(const cJSON *j)
{
	const cJSON *c;

	if (j->string && !ref_utf8_ok((const unsigned char *)j->string,
				      strlen(j->string)))
		return 0;
	if (cJSON_IsString(j) && !ref_utf8_ok(
		    (const unsigned char *)j->valuestring,
		    strlen(j->valuestring)))
		return 0;
	for (c = j->child; c; c = c->next)
		if (!tree_utf8_ok(c))
			return 0;
	return 1;
}

/* ---- the generator ------------------------------------------------------ */

/* A random code point for a string: mostly printable ASCII, else one that
 * must be escaped, or UTF-8 of 2, 3 or 4 bytes (never 0, no surrogate). */
static unsigned long gen_cp(struct rng *r)
{
	unsigned long cp;

	switch (below(r, 16)) {
	case 0:
		return 1 + below(r, 0x1F);
	case 1:
		return "\"\\/"[below(r, 3)];
	case 2:
		return 0x80 + below(r, 0x800 - 0x80);
	case 3:
		do
			cp = 0x800 + below(r, 0x10000 - 0x800);
		while (cp >= 0xD800 && cp <= 0xDFFF);
		return cp;
	case 4:
		return 0x10000 + below(r, 0x110000 - 0x10000);
	case 5:
		/* the edges of each UTF-8 length */
		return (unsigned long[]){ 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF,
					  0xE000, 0xFFFD, 0xFFFF, 0x10000,
					  0x10FFFF }[below(r, 10)];
	default:
		return 0x20 + below(r, 0x5F);
	}
}

/* A decoded string of code points: short, or long enough to cross many
 * 8-byte words (plain runs of every length between specials). */
static size_t gen_cps(struct rng *r, unsigned long *cps, size_t max)
{
	size_t n, i;

	n = one_in(r, 6) ? below(r, (unsigned)max + 1) : below(r, 14);
	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		cps[i] = one_in(r, 3) ? 'a' + below(r, 26) : gen_cp(r);
	return n;
}

static void put_u(struct rng *r, struct text *t, unsigned long v)
{
	static const char lc[] = "0123456789abcdef", uc[] = "0123456789ABCDEF";
	char b[6] = { '\\', 'u' };
	int i;

	for (i = 0; i < 4; i++) {
		unsigned d = (unsigned)(v >> (12 - 4 * i)) & 15;

		b[2 + i] = one_in(r, 2) ? lc[d] : uc[d];
	}
	t_add(t, b, 6);
}

/* Spell code points as a JSON string (with its quotes), choosing at random
 * between the spellings of each: raw, short escape, \u, surrogate pair. */
static void spell(struct rng *r, struct text *t, const unsigned long *cps,
		  size_t n)
{
	size_t i;

	t_addc(t, '"');
	for (i = 0; i < n; i++) {
		unsigned long cp = cps[i];
		const char *sh = NULL;

		switch (cp) {
		case '"': sh = "\\\""; break;
		case '\\': sh = "\\\\"; break;
		case '/': sh = one_in(r, 2) ? "\\/" : "/"; break;
		case '\b': sh = "\\b"; break;
		case '\f': sh = "\\f"; break;
		case '\n': sh = "\\n"; break;
		case '\r': sh = "\\r"; break;
		case '\t': sh = "\\t"; break;
		}
		if (sh && !one_in(r, 4)) {
			t_adds(t, sh);
		} else if (cp < 0x20 || cp == '"' || cp == '\\' ||
			   one_in(r, 12)) {
			if (cp < 0x10000) {
				put_u(r, t, cp);
			} else {
				put_u(r, t, 0xD800 + ((cp - 0x10000) >> 10));
				put_u(r, t, 0xDC00 + ((cp - 0x10000) & 0x3FF));
			}
		} else {
			put_utf8(t, cp);
		}
	}
	t_addc(t, '"');
}

static void gen_ws(struct rng *r, struct text *t)
{
	unsigned k;

	if (!one_in(r, 3))
		return;
	for (k = 1 + below(r, 3); k > 0; k--)
		t_addc(t, " \t\r\n"[below(r, 4)]);
}

static void gen_digits(struct rng *r, struct text *t, unsigned n)
{
	while (n--)
		t_addc(t, (char)('0' + below(r, 10)));
}

static void gen_number(struct rng *r, struct text *t)
{
	char b[32];
	unsigned shift;

	if (one_in(r, 2))
		t_addc(t, '-');
	switch (below(r, 12)) {
	case 0:
		t_addc(t, '0');
		break;
	case 1:
		/* the integer limit and its neighbours (2^53 is refused) */
		t_adds(t, (const char *[]){ "9007199254740991",
			"9007199254740992", "9007199254740990",
			"10000000000000000", "999999999999999" }[below(r, 5)]);
		return;
	case 2:
		/* two draws in two statements: their order is fixed */
		shift = 11 + below(r, 53);
		snprintf(b, sizeof(b), "%" PRIu64, rnd(r) >> shift);
		t_adds(t, b);
		break;
	case 3:
		/* range edges of a double */
		t_adds(t, (const char *[]){ "1.7976931348623157e308",
			"1.8e308", "1e400", "1e-400", "4.9e-324",
			"9007199254740992.0", "1E+308", "2e308" }[below(r, 8)]);
		return;
	case 4:
		/* long: 60..79 fraction digits (cJSON takes them whole) */
		if (one_in(r, 20)) {
			t_addc(t, '1');
			t_addc(t, '.');
			gen_digits(r, t, 60 + below(r, 20));
			return;
		}
		/* fall through */
	default:
		t_addc(t, (char)('1' + below(r, 9)));
		gen_digits(r, t, below(r, 6));
		break;
	}
	if (one_in(r, 2)) {
		t_addc(t, '.');
		gen_digits(r, t, 1 + below(r, 8));
	}
	if (one_in(r, 3)) {
		t_addc(t, one_in(r, 2) ? 'e' : 'E');
		if (one_in(r, 2))
			t_addc(t, one_in(r, 2) ? '+' : '-');
		gen_digits(r, t, 1 + below(r, 3));
	}
}

#define KEY_MAX 48
#define KEYS_MAX 64

static void gen_value(struct rng *r, struct text *t, int depth, int max);

static void gen_object(struct rng *r, struct text *t, int depth, int max,
		       int top)
{
	unsigned long keys[KEYS_MAX][KEY_MAX + 12], cps[KEY_MAX + 12];
	size_t klen[KEYS_MAX], nk = 0;
	unsigned n, i, dup_at;

	/* sometimes more members than the scanner compares pair by pair
	 * (it sorts those), with one name repeated in one object of five */
	n = one_in(r, 16) ? 16 + below(r, 24) : below(r, 9);
	dup_at = n > 1 && one_in(r, 5) ? 1 + below(r, n - 1) : n;
	t_addc(t, '{');
	gen_ws(r, t);
	if (top && !one_in(r, 8)) {
		t_adds(t, "\"type\"");
		gen_ws(r, t);
		t_addc(t, ':');
		gen_ws(r, t);
		t_adds(t, "\"user.login\"");
		gen_ws(r, t);
		if (n)
			t_addc(t, ',');
		gen_ws(r, t);
	}
	for (i = 0; i < n; i++) {
		size_t k;
		char suf[16];

		if (i) {
			gen_ws(r, t);
			t_addc(t, ',');
			gen_ws(r, t);
		}
		if (i == dup_at) {
			/* a duplicate name, probably spelled otherwise */
			size_t d = below(r, (unsigned)nk);

			memcpy(cps, keys[d], klen[d] * sizeof(cps[0]));
			k = klen[d];
		} else {
			/* distinct: the decoded name ends in "_<i>" */
			k = gen_cps(r, cps, KEY_MAX);
			snprintf(suf, sizeof(suf), "_%u", i);
			for (size_t j = 0; suf[j]; j++)
				cps[k++] = (unsigned char)suf[j];
		}
		spell(r, t, cps, k);
		if (nk < KEYS_MAX) {
			memcpy(keys[nk], cps, k * sizeof(cps[0]));
			klen[nk++] = k;
		}
		gen_ws(r, t);
		t_addc(t, ':');
		gen_ws(r, t);
		gen_value(r, t, depth + 1, max);
	}
	gen_ws(r, t);
	t_addc(t, '}');
}

static void gen_value(struct rng *r, struct text *t, int depth, int max)
{
	unsigned long cps[200];
	unsigned k, n, i;

	k = below(r, 100);
	if (depth >= max && k >= 70)
		k = below(r, 70);
	if (k < 35) {
		spell(r, t, cps, gen_cps(r, cps, 200));
	} else if (k < 58) {
		gen_number(r, t);
	} else if (k < 70) {
		t_adds(t, (const char *[]){ "true", "false",
			"null" }[below(r, 3)]);
	} else if (k < 85) {
		gen_object(r, t, depth, max, 0);
	} else {
		n = one_in(r, 10) ? below(r, 40) : below(r, 6);
		t_addc(t, '[');
		gen_ws(r, t);
		for (i = 0; i < n; i++) {
			if (i) {
				gen_ws(r, t);
				t_addc(t, ',');
				gen_ws(r, t);
			}
			gen_value(r, t, depth + 1, max);
		}
		gen_ws(r, t);
		t_addc(t, ']');
	}
}

/* A valid JSON text: usually an event (an object), nested a few levels,
 * sometimes a chain around the depth limit, sometimes not an object. */
static void gen_doc(struct rng *r, struct text *t)
{
	unsigned i, chain = 0;

	t->n = 0;
	gen_ws(r, t);
	if (one_in(r, 40)) {
		gen_value(r, t, 1, 3);
		gen_ws(r, t);
		return;
	}
	if (one_in(r, 25))
		chain = ALOG_EVENT_DEPTH_MAX - 4 + below(r, 6);
	if (one_in(r, 2000)) {
		/* around the member limit */
		unsigned members = ALOG_EVENT_MEMBERS_MAX - 2 + below(r, 5);
		char m[32];

		t_adds(t, "{\"type\":\"a.b\"");
		for (i = 1; i < members; i++) {
			snprintf(m, sizeof(m), ",\"m%u\":%u", i, i);
			t_adds(t, m);
		}
		t_addc(t, '}');
	} else if (!chain) {
		gen_object(r, t, 1, 2 + (int)below(r, 5), 1);
	} else {
		/* {"k":[{"k":[...1...]}]} down to depth `chain` */
		t_adds(t, "{\"k\":");
		for (i = 1; i < chain; i++)
			t_adds(t, i % 2 ? "[" : "{\"k\":");
		t_adds(t, "1");
		for (i = chain - 1; i >= 1; i--)
			t_addc(t, i % 2 ? ']' : '}');
		t_addc(t, '}');
	}
	gen_ws(r, t);
}

static const unsigned char interesting[] = {
	0x00, 0x01, 0x08, 0x0B, 0x0C, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC1,
	0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, '"', '\\',
	'{', '}', '[', ']', ',', ':', 'u', '0', '1', '9', 'e', 'E', '.',
	'-', '+', ' ', '\t', '\n', '\r', 'n', 'D', 'd', 'C', '8', 'f', 'a',
	'/', 't',
};

static unsigned char gen_byte(struct rng *r)
{
	switch (below(r, 3)) {
	case 0:
		return (unsigned char)rnd(r);
	case 1:
		return (unsigned char)(0x80 + below(r, 0x80));
	default:
		return interesting[below(r, sizeof(interesting))];
	}
}

static const char *const splices[] = {
	"\\u0000", "\\ud800", "\\udc00", "\\uD83D\\uDE00", "\\ud83d\\u0041",
	"\\uDBFF\\uDFFF", "\\u00", "\\uzzzz", "\\u12g4", "\\x", "\\",
	"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\xa0\x80",
	"\xc0\xaf", "\xe0\x80\xaf", "\xf4\x90\x80\x80", "\xef\xbb\xbf",
	"01", "1.", ".5", "-.5", "1e", "1.e5", "-", "1e400", "NaN", "tru",
	"\"a\":1,", ",\"a\":1", "\"a\":{},\"a\":[]", "[[[[[[[[", "]]]]]]]]",
	"{", "}", ",", ":", "\"\"", "null", " ", "\f", "\v",
};

/* Mutate: 1..4 edits of bytes, ranges and known trouble spots. */
static void mutate(struct rng *r, struct text *t, const struct text *donor)
{
	unsigned edits = 1 + below(r, 4);

	while (edits--) {
		size_t at = below(r, (unsigned)t->n + 1), k;
		unsigned char b[4];

		switch (below(r, 9)) {
		case 0:
			if (at < t->n)
				t->p[at] ^= (char)(1u << below(r, 8));
			break;
		case 1:
			if (at < t->n)
				t->p[at] = (char)gen_byte(r);
			break;
		case 2:
			k = 1 + below(r, 3);
			for (size_t i = 0; i < k; i++)
				b[i] = gen_byte(r);
			t_insert(t, at, b, k);
			break;
		case 3:
			if (at < t->n)
				t_erase(t, at, 1 + below(r, 4));
			break;
		case 4: {
			/* splice a range of a donor in, or over a range */
			size_t a = below(r, (unsigned)donor->n + 1);
			size_t n = below(r, (unsigned)(donor->n - a) + 1);

			if (one_in(r, 2) && at < t->n)
				t_erase(t, at, below(r, 16));
			t_insert(t, at, donor->p + a, n);
			break;
		}
		case 5:
			t->n = at;
			break;
		case 6: {
			/* repeat a range of the text itself (members, keys) */
			size_t a = below(r, (unsigned)t->n + 1);
			size_t n = below(r, (unsigned)(t->n - a) + 1);
			char *dup = malloc(n + 1);

			assert_non_null(dup);
			memcpy(dup, t->p + a, n);
			t_insert(t, a + n, dup, n);
			free(dup);
			break;
		}
		default: {
			const char *s = splices[below(r, sizeof(splices) /
						      sizeof(splices[0]))];

			t_insert(t, at, s, strlen(s));
			break;
		}
		}
	}
}

/* ---- the differential check ---------------------------------------------- */

struct stats {
	unsigned long inputs, both_accept, both_refuse, strict[16];
	unsigned long lenient[8];
};

static const char *const lenient_names[] = {
	"raw control byte in a string",
	"control byte as whitespace outside a string",
	"number text strtod takes (01, 1., -.5, 1.e5)",
	"\\u with non-hex digits (cJSON: U+0000)",
	"byte order mark at the start",
};

static uint64_t cur_base, cur_seed;
static unsigned long cur_iter;

static void dump_input(const char *what, const char *s, size_t n)
{
	size_t i;

	fprintf(stderr, "%s (%zu bytes): \"", what, n);
	for (i = 0; i < n && i < 4096; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(stderr, "\\%c", c);
		else if (c >= 0x20 && c < 0x7F)
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fprintf(stderr, "%s\"\n", i < n ? "..." : "");
}

#define CHECK(cond, in, n, ...)                                          \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "json_diff: ALOG_JSON_FUZZ_SEED=" \
				"0x%" PRIx64 " ALOG_JSON_FUZZ_FIRST=%lu "  \
				"(input seed 0x%016" PRIx64 "): ",         \
				cur_base, cur_iter, cur_seed);             \
			fprintf(stderr, __VA_ARGS__);                    \
			fputc('\n', stderr);                             \
			dump_input("input", (in), (n));                  \
			fail_msg("%s", #cond);                           \
		}                                                        \
	} while (0)

static void event_opts(struct alog_json_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->depth_max = ALOG_EVENT_DEPTH_MAX;
	o->members_max = ALOG_EVENT_MEMBERS_MAX;
	o->object_only = 1;
}

/*
 * A SYNTAX fault on input cJSON accepts: which known leniency of cJSON
 * 1.7.15 it is (index into lenient_names), or -1 (a bug of ours):
 *   0 cJSON copies string bytes below 0x20 as they are;
 *   1 cJSON's whitespace is every byte 0x01..0x20 (0x0B, 0x0C, ...);
 *   2 cJSON's numbers are whatever strtod takes of [0-9+-.eE]: 01, -01,
 *     1., 1.e5, -.5 (checked: strtod's text is not an RFC 8259 number);
 *   3 cJSON's \u reads non-hex digits as a value of 0 (U+0000);
 *   4 cJSON skips a UTF-8 byte order mark at the start.
 */
static int lenient_syntax(const unsigned char *s, size_t n,
			  const struct alog_json_result *res)
{
	size_t off = res->off, a, b;

	if (!strcmp(res->what, "control character in a string") &&
	    off < n && s[off] < 0x20)
		return 0;
	if (off < n && s[off] < 0x20 && !ref_ws(s[off]))
		return 1;
	if (!strcmp(res->what, "bad number") ||
	    !strcmp(res->what, "number with a leading zero") ||
	    !strcmp(res->what, "digit expected after '.'") ||
	    !strcmp(res->what, "digit expected in the exponent")) {
		char *tok, *end;
		int lenient;

		num_token(s, n, off, &a, &b);
		tok = malloc(b - a + 1);
		assert_non_null(tok);
		memcpy(tok, s + a, b - a);
		tok[b - a] = 0;
		(void)strtod(tok, &end);
		lenient = end != tok &&
			  !ref_rfc_number(tok, (size_t)(end - tok));
		free(tok);
		return lenient ? 2 : -1;
	}
	if (!strcmp(res->what, "bad \\u escape") && off + 6 <= n &&
	    ref_hex4(s + off + 2, 4) < 0)
		return 3;
	if (off == 0 && n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		return 4;
	return -1;
}

/* Our fault on input cJSON accepts (tree j) is one SPEC.md section 3
 * lists, and the bytes or the tree show it. */
static int strict_fault_shown(const unsigned char *s, size_t n,
			      const struct alog_json_result *res,
			      const cJSON *j)
{
	size_t off = res->off, a, b;
	char *tok, *end;
	int shown;

	switch (res->fault) {
	case ALOG_JSON_NUL:
		return memchr(s, 0, n) != NULL ||
		       (off + 6 <= n && s[off] == '\\' && s[off + 1] == 'u' &&
			ref_hex4(s + off + 2, 4) == 0);
	case ALOG_JSON_BAD_UTF8:
		if (off < n && s[off] >= 0x80)
			return ref_utf8(s + off, n - off) == 0;
		if (off + 6 <= n && s[off] == '\\' && s[off + 1] == 'u') {
			long cp = ref_hex4(s + off + 2, 4);

			return cp >= 0xD800 && cp <= 0xDFFF;
		}
		return 0;
	case ALOG_JSON_DUPLICATE:
		return off < n && s[off] == '"' && tree_has_dup(j);
	case ALOG_JSON_RANGE:
		/* the number that starts at off (strtod's end delimits it
		 * from what follows), valid, and out of range */
		num_token(s, n, off, &a, &b);
		if (a != off)
			return 0;
		tok = malloc(b - a + 1);
		assert_non_null(tok);
		memcpy(tok, s + a, b - a);
		tok[b - a] = 0;
		shown = 0;
		if (isinf(strtod(tok, &end)) &&
		    ref_rfc_number(tok, (size_t)(end - tok)))
			shown = 1;
		*end = 0;
		if (ref_rfc_number(tok, strlen(tok)) && !strpbrk(tok, ".eE")) {
			const char *d = tok + (tok[0] == '-');

			shown = strlen(d) > 16 || (strlen(d) == 16 &&
				strcmp(d, "9007199254740991") > 0);
		}
		free(tok);
		return shown;
	case ALOG_JSON_DEPTH:
		return tree_depth(j) > ALOG_EVENT_DEPTH_MAX;
	case ALOG_JSON_MEMBERS:
		return tree_max_members(j) > ALOG_EVENT_MEMBERS_MAX;
	case ALOG_JSON_NOT_OBJECT:
		return !cJSON_IsObject(j);
	default:
		return 0;
	}
}

/* The input minus the whitespace outside strings (reference minifier;
 * only for text the scanner accepted). */
static void ref_minify(const char *s, size_t n, struct text *t)
{
	size_t i;
	int in_str = 0;

	t->n = 0;
	t_reserve(t, n);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (in_str) {
			if (c == '\\') {
				t_add(t, s + i, 2);
				i++;
				continue;
			}
			if (c == '"')
				in_str = 0;
		} else if (ref_ws(c)) {
			continue;
		} else if (c == '"') {
			in_str = 1;
		}
		t_addc(t, (char)c);
	}
}

static void check_one(const char *in, size_t n, struct stats *st)
{
	struct alog_json_opts o;
	struct alog_json_result res, res2;
	struct alog_err err = { 0 };
	struct alog_buf out, out2;
	struct text ref = { 0 };
	char *exact = malloc(n ? n : 1), *cs = malloc(n + 1);
	cJSON *j, *jm;
	int rc, rc2, k;

	assert_non_null(exact);
	assert_non_null(cs);
	/* ours reads an allocation of exactly n bytes (ASan sees overreads);
	 * cJSON gets a NUL after them */
	memcpy(exact, in, n);
	memcpy(cs, in, n);
	cs[n] = 0;
	event_opts(&o);
	alog_buf_init(&out, 0);
	assert_int_equal(alog_buf_adds(&out, "<", NULL), 0);
	rc = alog_json_scan(exact, n, &o, &out, &res, &err);
	j = cjson_parse(cs, n);
	st->inputs++;

	if (!j) {
		CHECK(rc < 0, in, n, "cJSON refuses, we accept");
		st->both_refuse++;
	} else if (rc == 0) {
		st->both_accept++;
		CHECK(tree_depth(j) <= ALOG_EVENT_DEPTH_MAX &&
		      !tree_has_dup(j) && cJSON_IsObject(j) &&
		      tree_utf8_ok(j), in, n,
		      "we accept what breaks a rule on cJSON's tree");
		CHECK(out.len >= 1 && out.data[0] == '<' && out.len - 1 <= n,
		      in, n, "output appended after what was there");
		ref_minify(in, n, &ref);
		CHECK(out.len - 1 == ref.n &&
		      !memcmp(out.data + 1, ref.p, ref.n), in, n,
		      "minified output is not the input without whitespace");
		jm = cjson_parse((const char *)out.data + 1, out.len - 1);
		CHECK(jm && cJSON_Compare(j, jm, 1), in, n,
		      "cJSON's tree of our output differs");
		cJSON_Delete(jm);
		/* idempotent, and no whitespace left to minify */
		alog_buf_init(&out2, 0);
		o.no_whitespace = 1;
		rc2 = alog_json_scan((const char *)out.data + 1, out.len - 1,
				     &o, &out2, &res2, &err);
		CHECK(rc2 == 0 && out2.len == out.len - 1 &&
		      !memcmp(out2.data, out.data + 1, out2.len), in, n,
		      "minified output does not scan to itself (rc %d, %s)",
		      rc2, rc2 ? res2.what : "");
		alog_buf_release(&out2);
	} else {
		CHECK(res.fault != ALOG_JSON_OK && res.what, in, n,
		      "refused without a fault");
		if (res.fault == ALOG_JSON_SYNTAX) {
			k = lenient_syntax((const unsigned char *)in, n, &res);
			CHECK(k >= 0, in, n, "SYNTAX fault \"%s\" at byte %zu "
			      "on input cJSON accepts", res.what, res.off);
			st->lenient[k]++;
		} else {
			CHECK(strict_fault_shown((const unsigned char *)in, n,
						 &res, j), in, n,
			      "fault %d \"%s\" at byte %zu not shown by the "
			      "input", (int)res.fault, res.what, res.off);
			st->strict[res.fault]++;
		}
	}
	if (rc < 0)
		CHECK(out.len == 1 && out.data[1] == 0, in, n,
		      "a refused scan changed out");
	cJSON_Delete(j);
	alog_buf_release(&out);
	free(ref.p);
	free(exact);
	free(cs);
}

static unsigned long env_ulong(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long x;

	if (!v || !*v)
		return dflt;
	errno = 0;
	x = strtoul(v, &end, 0);
	if (errno || *end) {
		fprintf(stderr, "bad %s=%s\n", name, v);
		exit(2);
	}
	return x;
}

static uint64_t iter_seed(uint64_t base, unsigned long i)
{
	struct rng r = { base ^ (uint64_t)i * UINT64_C(0xD1B54A32D192ED03) };

	return rnd(&r);
}

static void test_scan_against_cjson(void **state)
{
	uint64_t base = env_ulong("ALOG_JSON_FUZZ_SEED", 0x5eed0006);
	unsigned long iters = env_ulong("ALOG_JSON_FUZZ_ITERS", 40000), i;
	unsigned long first = env_ulong("ALOG_JSON_FUZZ_FIRST", 0);
	struct stats st;
	struct text t = { 0 }, donor = { 0 };
	size_t k;

	(void)state;
	memset(&st, 0, sizeof(st));
	cur_base = base;
	for (i = first; i < first + iters; i++) {
		struct rng r;

		cur_iter = i;
		cur_seed = iter_seed(base, i);
		r.s = cur_seed;
		gen_doc(&r, &t);
		gen_doc(&r, &donor);
		/* one in four stays as generated (valid JSON) */
		if (!one_in(&r, 4))
			mutate(&r, &t, &donor);
		check_one(t.p, t.n, &st);
	}
	fprintf(stderr, "json_diff: seed 0x%" PRIx64 ", %lu inputs: both "
		"accept %lu, both refuse %lu\n", base, st.inputs,
		st.both_accept, st.both_refuse);
	for (k = 0; k < 16; k++)
		if (st.strict[k])
			fprintf(stderr, "  stricter: fault %zu: %lu\n", k,
				st.strict[k]);
	for (k = 0; k < sizeof(lenient_names) / sizeof(lenient_names[0]); k++)
		fprintf(stderr, "  cJSON lenient: %s: %lu\n",
			lenient_names[k], st.lenient[k]);
	/* the generator reaches what it is for */
	assert_true(st.both_accept > iters / 8);
	assert_true(st.both_refuse > iters / 8);
	if (iters >= 20000) {
		for (k = ALOG_JSON_BAD_UTF8; k <= ALOG_JSON_NOT_OBJECT; k++)
			if (k != ALOG_JSON_MEMBERS)
				assert_true(st.strict[k] > 0);
		for (k = 0; k < 4; k++)
			assert_true(st.lenient[k] > 0);
	}
	free(t.p);
	free(donor.p);
}

/* ---- the string scan at every alignment ------------------------------ */

static int plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static void test_unplain8_matches_bytewise(void **state)
{
	struct rng r = { 0x8b17e5 };
	unsigned char b[8];
	unsigned long i;
	int j, first;

	(void)state;
	for (i = 0; i < 400000; i++) {
		uint64_t m;

		/* mostly plain words with a few specials anywhere */
		for (j = 0; j < 8; j++)
			b[j] = one_in(&r, 3) ? gen_byte(&r) :
				(unsigned char)(0x20 + below(&r, 0x60));
		if (i < 256 * 8) {
			/* every byte value at every position, in plain text */
			memset(b, 'a', 8);
			b[i % 8] = (unsigned char)(i / 8);
		}
		m = alog_json_unplain8((const char *)b);
		first = -1;
		for (j = 0; j < 8 && first < 0; j++)
			if (!plain(b[j]))
				first = j;
		if (first < 0) {
			assert_true(m == 0);
			continue;
		}
		assert_true(m != 0);
		assert_true((m & ~UINT64_C(0x8080808080808080)) == 0);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		if (__builtin_ctzll(m) / 8 != first) {
			fprintf(stderr, "unplain8 %02x %02x %02x %02x "
				"%02x %02x %02x %02x: %016" PRIx64
				", first %d\n", b[0], b[1], b[2], b[3], b[4],
				b[5], b[6], b[7], m, first);
			fail();
		}
#endif
	}
}

static void test_plain_end_matches_bytewise(void **state)
{
	struct rng r = { 0x91a1e5 };
	unsigned char b[80];
	unsigned long i;

	(void)state;
	for (i = 0; i < 200000; i++) {
		size_t off = below(&r, 16), len = below(&r, 64), j, first;
		const char *got;

		/* long plain runs, a special byte now and then, at every
		 * alignment and length (the 16-, 8- and 1-byte steps) */
		for (j = 0; j < sizeof(b); j++)
			b[j] = one_in(&r, 40) ? gen_byte(&r) :
				(unsigned char)(0x20 + below(&r, 0x60));
		if (i < 256 * 40) {
			/* every byte value at every position of 40 */
			memset(b, 'a', sizeof(b));
			off = 0;
			len = 40;
			b[i % 40] = (unsigned char)(i / 40);
		}
		for (first = off; first < off + len && plain(b[first]); first++)
			;
		got = alog_json_plain_end((const char *)b + off,
					  (const char *)b + off + len);
		if (got != (const char *)b + first) {
			fprintf(stderr, "plain_end: off %zu len %zu: got %td, "
				"want %zu\n", off, len,
				got - (const char *)b, first);
			fail();
		}
	}
}

static void test_unplain64_matches_bytewise(void **state)
{
	struct rng r = { 0x64a1e5 };
	unsigned char b[96];
	unsigned long i;

	(void)state;
	for (i = 0; i < 200000; i++) {
		size_t off = below(&r, 16), len = 1 + below(&r, 80), j;
		uint64_t got, want = 0;

		/* plain text with a special byte now and then, at every
		 * alignment and length, below and above 64 (the 16-, 8-
		 * and 1-byte steps, and the bits past the end) */
		for (j = 0; j < sizeof(b); j++)
			b[j] = one_in(&r, 12) ? gen_byte(&r) :
				(unsigned char)(0x20 + below(&r, 0x60));
		if (i < 256 * 64) {
			/* every byte value at every position of 64 */
			memset(b, 'a', sizeof(b));
			off = 0;
			len = 64 + (i & 1);
			b[i % 64] = (unsigned char)(i / 64);
		}
		for (j = 0; j < 64; j++)
			if (j >= len || !plain(b[off + j]))
				want |= (uint64_t)1 << j;
		got = alog_json_unplain64((const char *)b + off,
					  (const char *)b + off + len);
		if (got != want) {
			fprintf(stderr, "unplain64: off %zu len %zu: got %016"
				PRIx64 ", want %016" PRIx64 "\n", off, len,
				got, want);
			fail();
		}
	}
}

/* String content: plain runs of every length, then a byte or sequence
 * that ends a run (quote, backslash, escape, control, UTF-8 good or bad). */
static void gen_string_content(struct rng *r, struct text *t, size_t max)
{
	while (t->n < max) {
		unsigned k = below(r, 12);

		if (k < 5) {
			size_t run = below(r, 20);

			while (run--) {
				char c = (char)(0x20 + below(r, 0x5F));

				t_addc(t, c == '"' || c == '\\' ? 'q' : c);
			}
		} else if (k < 8) {
			put_utf8(t, gen_cp(r));
		} else if (k < 10) {
			t_addc(t, (char)gen_byte(r));
		} else {
			const char *s = splices[below(r, 19)];

			t_adds(t, s);
		}
	}
}

static int got_key(void *ctx, const struct alog_json_member *m,
		   struct alog_err *err)
{
	struct text *t = ctx;

	(void)err;
	t->n = 0;
	t_add(t, m->key, m->key_len);
	return 0;
}

/* Keys whose filter bits collide (alog_json_key_bit) are still told
 * apart byte for byte: distinct ones are accepted, a repeat of either is
 * a duplicate at its own offset. Pairs are found among "k0".."k999". */
static void test_keys_of_one_filter_bit_are_told_apart(void **state)
{
	char a[8], b[8], text[128];
	struct alog_json_opts o = { .depth_max = 4 };
	struct alog_json_result res;
	struct alog_err err = { 0 };
	int found = 0, pairs = 0;

	(void)state;
	for (int i = 0; i < 1000 && pairs < 20; i++) {
		for (int j = i + 1; j < 1000 && pairs < 20; j++) {
			int n, rc;

			snprintf(a, sizeof(a), "k%d", i);
			snprintf(b, sizeof(b), "k%d", j);
			if (alog_json_key_bit(a, strlen(a)) !=
			    alog_json_key_bit(b, strlen(b)))
				continue;
			pairs++;
			n = snprintf(text, sizeof(text),
				     "{\"%s\":1,\"x\":[{\"%s\":2,\"%s\":3}],\"%s\":4}",
				     a, a, b, b);
			rc = alog_json_scan(text, (size_t)n, &o, NULL, &res,
					    &err);
			assert_int_equal(rc, 0);
			n = snprintf(text, sizeof(text),
				     "{\"%s\":1,\"%s\":2,\"%s\":3}", a, b, b);
			rc = alog_json_scan(text, (size_t)n, &o, NULL, &res,
					    &err);
			assert_true(rc < 0);
			assert_int_equal(res.fault, ALOG_JSON_DUPLICATE);
			assert_int_equal(res.off, strlen(a) + strlen(b) + 11);
			found = 1;
		}
	}
	assert_true(found);
}

static void test_string_scan_at_every_alignment(void **state)
{
	uint64_t base = env_ulong("ALOG_JSON_FUZZ_SEED", 0x5eed0006);
	/* a quarter of the inputs: each is 8 scans and 8 references */
	unsigned long iters = (env_ulong("ALOG_JSON_FUZZ_ITERS", 40000) + 3) / 4;
	unsigned long first = env_ulong("ALOG_JSON_FUZZ_FIRST", 0), i;
	struct rng r;
	struct text content = { 0 }, dec = { 0 }, key = { 0 };
	struct alog_json_opts o;
	struct alog_json_result res;
	struct alog_err err = { 0 };
	unsigned align;

	(void)state;
	cur_base = base;
	for (i = first; i < first + iters; i++) {
		cur_iter = i;
		cur_seed = iter_seed(base ^ 0xa11905, i);
		r.s = cur_seed;
		content.n = 0;
		gen_string_content(&r, &content, below(&r, 48));
		for (align = 0; align < 8; align++) {
			/* "<content>" as the whole text, starting at align in
			 * an allocation that ends right after it */
			size_t n = 2 + content.n, kn = n + 4, p;
			char *buf = malloc(align + kn);
			struct ref_res want;
			const char *z;
			int rc;

			assert_non_null(buf);
			memset(buf, ' ', align);
			buf[align] = '"';
			memcpy(buf + align + 1, content.p, content.n);
			buf[align + n - 1] = '"';
			memset(&o, 0, sizeof(o));
			o.depth_max = 2;
			rc = alog_json_scan(buf + align, n, &o, NULL, &res,
					    &err);
			dec.n = 0;
			want = ref_string((const unsigned char *)buf + align, n,
					  0, &dec);
			z = memchr(buf + align, 0, n);
			if (z) {
				want.fault = ALOG_JSON_NUL;
				want.off = (size_t)(z - (buf + align));
			} else if (!want.fault && want.end < n) {
				/* closed early: what follows must be blank */
				for (p = want.end; p < n &&
				     ref_ws((unsigned char)buf[align + p]); p++)
					;
				if (p < n) {
					want.fault = ALOG_JSON_SYNTAX;
					want.off = p;
				}
			}
			CHECK(res.fault == want.fault &&
			      (want.fault == ALOG_JSON_OK ||
			       res.off == want.off) &&
			      (rc == 0) == (want.fault == ALOG_JSON_OK),
			      buf + align, n, "align %u: fault %d at %zu (%s), "
			      "reference %d at %zu", align, (int)res.fault,
			      res.off, res.what ? res.what : "",
			      (int)want.fault, want.off);
			/* as a key: the decoded name (when it is the whole
			 * string) */
			if (!want.fault && want.end == n) {
				memmove(buf + align + 1, buf + align, n);
				buf[align] = '{';
				memcpy(buf + align + 1 + n, ":1}", 3);
				memset(&o, 0, sizeof(o));
				o.depth_max = 2;
				o.on_member = got_key;
				o.ctx = &key;
				key.n = 0;
				rc = alog_json_scan(buf + align, kn, &o, NULL,
						    &res, &err);
				CHECK(rc == 0 && key.n == dec.n &&
				      !memcmp(key.p, dec.p, dec.n), buf + align,
				      kn, "align %u: decoded key differs",
				      align);
			}
			free(buf);
		}
	}
	free(content.p);
	free(dec.p);
	free(key.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unplain8_matches_bytewise),
		cmocka_unit_test(test_plain_end_matches_bytewise),
		cmocka_unit_test(test_unplain64_matches_bytewise),
		cmocka_unit_test(test_string_scan_at_every_alignment),
		cmocka_unit_test(test_keys_of_one_filter_bit_are_told_apart),
		cmocka_unit_test(test_scan_against_cjson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
