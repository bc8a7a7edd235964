/*
 * json: a strict one-pass JSON scanner (RFC 8259) that validates, minifies
 * and reports the members of the top-level object, with the extra rules of
 * SPEC.md "Events" (an I-JSON profile, RFC 7493): valid UTF-8, no NUL byte,
 * no \u0000, no lone or misordered surrogate escape, no duplicate key
 * (compared on decoded keys) in any object, integers within +-(2^53-1),
 * other numbers finite as IEEE doubles, bounded depth and members.
 *
 * It builds no tree: one pass over the bytes with an explicit stack of open
 * containers. Duplicate keys are found by sorting each object's decoded
 * keys when the object closes (O(n log n), never quadratic). Events and
 * stored records (ingest/event.c) are both read with it; cJSON is never
 * used on this path.
 *
 * Minified output = the input minus the whitespace (space, tab, CR, LF)
 * outside strings; every other byte is kept exactly (escapes, number text,
 * member order).
 *
 * Fault order: a line with a 0x00 byte anywhere is a NUL fault before any
 * other; otherwise the first fault met in a left-to-right scan wins, where
 * a duplicate key is met at the '}' that closes its object and "not an
 * object" after the whole value was read.
 */
#ifndef ALOG_INGEST_JSON_H
#define ALOG_INGEST_JSON_H

#include <stddef.h>
#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "store/buf.h"
#include "store/err.h"

/* Hard cap on alog_json_opts.depth_max (size of the scanner's stack). */
#define ALOG_JSON_DEPTH_LIMIT 64
/* Integers (no fraction, no exponent) must lie within +-this (2^53-1). */
#define ALOG_JSON_INT_MAX 9007199254740991LL

enum alog_json_fault {
	ALOG_JSON_OK = 0,
	ALOG_JSON_SYNTAX,      /* RFC 8259 grammar broken */
	ALOG_JSON_BAD_UTF8,    /* bad UTF-8 in a string, lone surrogate escape */
	ALOG_JSON_NUL,         /* a 0x00 byte anywhere, or \u0000 */
	ALOG_JSON_DUPLICATE,   /* two keys of one object decode equal */
	ALOG_JSON_RANGE,       /* integer beyond 2^53-1, number overflows */
	ALOG_JSON_DEPTH,       /* more than depth_max nested containers */
	ALOG_JSON_MEMBERS,     /* more than members_max members in an object */
	ALOG_JSON_NOT_OBJECT,  /* valid JSON, top level not an object */
	ALOG_JSON_WHITESPACE,  /* whitespace outside strings (no_whitespace) */
	ALOG_JSON_STOPPED,     /* the member callback returned < 0 */
	ALOG_JSON_NOMEM,       /* allocation or output buffer limit */
};

enum alog_json_type {
	ALOG_JSON_NULL = 0,
	ALOG_JSON_FALSE,
	ALOG_JSON_TRUE,
	ALOG_JSON_NUMBER,
	ALOG_JSON_STRING,
	ALOG_JSON_ARRAY,
	ALOG_JSON_OBJECT,
};

/* One member of the top-level object, reported after its value was read.
 * All pointers borrow from the input, except key, which is valid only
 * during the callback. */
struct alog_json_member {
	const char *key;       /* decoded key (UTF-8, no NUL inside) */
	size_t key_len;
	const char *raw_key;   /* key as sent, between its quotes */
	size_t raw_key_len;
	size_t key_off;        /* input offset of the key's opening quote */
	enum alog_json_type type;
	const char *value;     /* value as sent; strings include the quotes */
	size_t value_len;
	size_t value_off;      /* input offset of the value's first byte */
	int escaped;           /* string value holds a backslash escape */
	int integer;           /* number without fraction or exponent */
};

/* Return 0 to go on, or a negative ALOG_E* to stop the scan (which then
 * returns that code with fault ALOG_JSON_STOPPED; the callback fills err). */
typedef int (*alog_json_member_fn)(void *ctx,
				   const struct alog_json_member *m,
				   struct alog_err *err);

struct alog_json_opts {
	unsigned depth_max;    /* 1..ALOG_JSON_DEPTH_LIMIT; top level = 1 */
	size_t members_max;    /* per object; 0 means no limit */
	int object_only;       /* top-level value must be an object */
	int no_whitespace;     /* whitespace outside strings is a fault */
	alog_json_member_fn on_member; /* top-level object members, or NULL */
	void *ctx;
};

struct alog_json_result {
	enum alog_json_fault fault;
	size_t off;            /* input offset of the fault */
	const char *what;      /* static lower-case description of the fault */
	enum alog_json_type type; /* type of the top-level value when OK */
};

/*
 * Scan len bytes of s (one JSON text). When out is non-NULL the minified
 * text is appended to it (out is left as it was on failure). Returns 0, or
 * ALOG_EINVAL for a fault (ALOG_ELIMIT for the depth and member limits),
 * ALOG_ENOMEM/ALOG_ELIMIT for out, or the callback's code; res says which
 * fault and where, err says "<what> at byte <off>".
 */
int alog_json_scan(const char *s, size_t len, const struct alog_json_opts *o,
		   struct alog_buf *out, struct alog_json_result *res,
		   struct alog_err *err);

/*
 * Append s (len bytes of UTF-8) to out as a JSON string with minimal
 * escapes: '"' -> \", '\\' -> \\, bytes 0x00..0x1F -> \u00xx (lowercase
 * hex); every other byte as is. ALOG_EINVAL if s is not valid UTF-8 (out
 * is then left as it was).
 */
int alog_json_string_format(struct alog_buf *out, const char *s, size_t len,
			    struct alog_err *err);

/*
 * Decode the text of a JSON string (n bytes between its quotes, already
 * checked by alog_json_scan or written by a writer that checks) into out:
 * cap bytes with room for the NUL, cut on a character boundary when it
 * does not fit (n + 1 always fits: decoded text is never longer). Returns
 * the decoded length; a \u0000 is written as a NUL byte.
 */
size_t alog_json_string_decode(const char *s, size_t n, char *out,
			       size_t cap);

/* Offset of the first byte of s that is not valid UTF-8 (overlongs,
 * surrogates, > U+10FFFF and truncated sequences are invalid), or len. */
size_t alog_json_utf8_check(const char *s, size_t len);
/* The length (2..4) of the valid UTF-8 sequence of a lead byte >= 0x80 at
 * s[0] (len bytes available), 0 when it is not one: the scanner's rule. */
size_t alog_json_utf8_seq(const char *s, size_t len);

/* Of the 8 bytes at p, those that end a run of plain string bytes (below
 * 0x20, at or above 0x80, '"' or '\\'), as the high bit of each: 0
 * exactly when all 8 are plain, else the lowest flag is the first byte
 * that is not. */
uint64_t alog_json_unplain8(const char *p);
/* The bytes of [p, p + 64) that are not plain string bytes (as above), as
 * bits, bit i for p[i], with every bit from end on set too (end - p may be
 * below 64; p < end): the lowest set bit is the first byte that is not
 * plain, or end. 16 bytes at a time with SSE2, the rest (and without
 * SSE2, all) byte by byte. For a
 * reader that finds many short strings' ends in one stretch of text. */
uint64_t alog_json_unplain64(const char *p, const char *end);
/* 1 when byte c ends a run of plain string bytes (as above). */
static inline int alog_json_unplain(unsigned char c)
{
	return c < 0x20 || c >= 0x80 || c == '"' || c == '\\';
}

#ifdef __SSE2__
/* Of the 16 bytes at p, those that are not plain, as bits (bit i for
 * p[i]). A byte below 0x20 or at or above 0x80 is below 0x20 as a signed
 * byte: one compare for both, two for the quote and backslash. */
static inline unsigned alog_json_unplain16(const char *p)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);

	return (unsigned)_mm_movemask_epi8(_mm_or_si128(
		_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
		_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
			     _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')))));
}
#endif

/* The first byte in [p, end) that is not a plain string byte (as above),
 * or end: 16 bytes at a time with SSE2 where the compiler targets it,
 * else 8 at a time (alog_json_unplain8), then byte by byte. Inline: the
 * scanners call it for every string, most of them short. */
static inline const char *alog_json_plain_end(const char *p,
						 const char *end)
{
#ifdef __SSE2__
	while (end - p >= 16) {
		unsigned m = alog_json_unplain16(p);

		if (m)
			return p + __builtin_ctz(m);
		p += 16;
	}
#endif
	while (end - p >= 8) {
		uint64_t m = alog_json_unplain8(p);

		if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return p + __builtin_ctzll(m) / 8;
#else
			break;
#endif
		}
		p += 8;
	}
	while (p < end && !alog_json_unplain((unsigned char)*p))
		p++;
	return p;
}

/* A key's place (0..63) in a 64-bit filter of an object's keys: a mix of
 * its length and its first and last (up to) four bytes. A key repeated in
 * an object finds its bit set already; only then are keys compared byte
 * for byte (the duplicate-key checks of the scanner and of verify's
 * record check). */
static inline unsigned alog_json_key_bit(const void *key, size_t n)
{
	const unsigned char *k = (const unsigned char *)key;
	uint32_t a = 0, b = 0;

	if (n >= 4) {
		memcpy(&a, k, 4);
		memcpy(&b, k + n - 4, 4);
	} else if (n) {
		a = (uint32_t)k[0] | (uint32_t)k[n / 2] << 8;
		b = k[n - 1];
	}
	return (unsigned)((((uint64_t)a << 32 | b) ^ n) *
			  UINT64_C(0x9E3779B97F4A7C15) >> 58);
}

#endif
