/*
 * buf: a growable byte buffer with a maximum.
 *
 * Invariants: len <= max and cap <= max + 1 (when max != 0); when cap > 0,
 * len < cap and data[len] is a NUL byte (so text can be used as a C
 * string), not counted in len.
 * All-zero is a valid empty buffer with no maximum other than SIZE_MAX/2.
 * Every user-controllable buffer sets max to a named limit (SPEC.md).
 */
#ifndef ALOG_STORE_BUF_H
#define ALOG_STORE_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/err.h"

struct alog_buf {
	unsigned char *data;
	size_t len;
	size_t cap;
	size_t max; /* 0: no limit beyond SIZE_MAX/2 */
	unsigned char *fixed; /* caller's memory used first (never freed) */
};

static inline void alog_buf_init(struct alog_buf *b, size_t max)
{
	*b = (struct alog_buf){ .max = max };
}

/* A buffer that starts in the caller's memory mem of cap bytes (for a
 * short-lived buffer on the stack: no allocation while it fits); it moves
 * to the heap when it grows past cap. Of mem, at most max + 1 bytes are
 * used (when max != 0). Release it as any other. Inline, like
 * alog_buf_init: the JSON scanner sets up three per event. */
static inline void alog_buf_init_fixed(struct alog_buf *b, void *mem,
				       size_t cap, size_t max)
{
	alog_buf_init(b, max);
	/* only max bytes and the NUL of it are used: alog_buf_add appends
	 * in place while they fit (cap <= max + 1: the invariant) */
	if (max && cap > max + 1)
		cap = max + 1;
	if (cap) {
		b->fixed = b->data = (unsigned char *)mem;
		b->cap = cap;
		b->data[0] = 0;
	}
}

void alog_buf_release(struct alog_buf *b);
/* alog_buf_reserve when the bytes may not fit (it grows the buffer). */
int alog_buf_reserve_grow(struct alog_buf *b, size_t n, struct alog_err *err);

/* Make room for n more bytes; ALOG_ELIMIT past max, ALOG_ENOMEM. Inline:
 * the JSON scanner reserves a few times per event in a buffer that
 * mostly has room already. */
static inline int alog_buf_reserve(struct alog_buf *b, size_t n,
				   struct alog_err *err)
{
	/* room for n bytes and the NUL; cap never exceeds max + 1, so
	 * the limit holds too */
	if (n < b->cap - b->len)
		return 0;
	return alog_buf_reserve_grow(b, n, err);
}
/* alog_buf_add when the bytes may not fit (it grows the buffer). */
int alog_buf_add_grow(struct alog_buf *b, const void *p, size_t n,
		      struct alog_err *err);

/* Append n bytes (ALOG_ELIMIT past max, ALOG_ENOMEM). Inline: the hot
 * paths (the JSON scanner, record formatting) append a few bytes at a
 * time to a buffer that already has room. */
static inline int alog_buf_add(struct alog_buf *b, const void *p, size_t n,
			       struct alog_err *err)
{
	/* room for n bytes and the NUL: len + n + 1 <= cap, and cap never
	 * exceeds max + 1, so the limit holds too */
	if (n < b->cap - b->len) {
		if (n)
			memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = 0;
		return 0;
	}
	return alog_buf_add_grow(b, p, n, err);
}

static inline int alog_buf_addc(struct alog_buf *b, unsigned char c,
				struct alog_err *err)
{
	return alog_buf_add(b, &c, 1, err);
}
int alog_buf_adds(struct alog_buf *b, const char *s, struct alog_err *err);
int alog_buf_addf(struct alog_buf *b, struct alog_err *err,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void alog_buf_reset(struct alog_buf *b); /* len = 0, keeps memory */

#endif
