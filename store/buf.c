/*
 * buf: see buf.h. Growth doubles, capped at max; data[len] stays NUL.
 */
#include "store/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void alog_buf_release(struct alog_buf *b)
{
	if (!b)
		return;
	if (b->data != b->fixed)
		free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int alog_buf_reserve_grow(struct alog_buf *b, size_t n,
			  struct alog_err *err)
{
	size_t limit = b->max ? b->max : SIZE_MAX / 2;
	size_t need, cap;
	unsigned char *p;

	if (n > limit || b->len > limit - n)
		return alog_err_set(err, ALOG_ELIMIT,
				    "buffer limit of %zu bytes exceeded", limit);
	need = b->len + n + 1; /* + NUL */
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 4 ? need : cap * 2;
	if (cap > limit + 1)
		cap = limit + 1;
	if (b->data && b->data == b->fixed) {
		p = malloc(cap);
		if (p)
			memcpy(p, b->data, b->len + 1);
	} else {
		p = realloc(b->data, cap);
	}
	if (!p)
		return alog_err_set(err, ALOG_ENOMEM,
				    "out of memory growing a buffer to %zu bytes",
				    cap);
	b->data = p;
	b->cap = cap;
	return 0;
}

int alog_buf_add_grow(struct alog_buf *b, const void *p, size_t n,
		      struct alog_err *err)
{
	int rc = alog_buf_reserve(b, n, err);

	if (rc < 0)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

int alog_buf_adds(struct alog_buf *b, const char *s, struct alog_err *err)
{
	return alog_buf_add(b, s, strlen(s), err);
}

int alog_buf_addf(struct alog_buf *b, struct alog_err *err,
		  const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return alog_err_set(err, ALOG_EINVAL, "bad format string");
	rc = alog_buf_reserve(b, (size_t)n, err);
	if (rc < 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void alog_buf_reset(struct alog_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}
