/*
 * lines: see lines.h. Invariant: buf[start..end) holds unread bytes and
 * never more than cap; a line is returned only whole.
 */
#include "ingest/lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int alog_lines_init(struct alog_lines *lr, int fd, size_t max,
		    struct alog_err *err)
{
	memset(lr, 0, sizeof(*lr));
	lr->fd = fd;
	lr->max = max;
	lr->cap = max + 2 + ALOG_LINES_CHUNK;
	lr->buf = malloc(lr->cap);
	if (!lr->buf)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	return 0;
}

void alog_lines_release(struct alog_lines *lr)
{
	if (lr) {
		free(lr->buf);
		lr->buf = NULL;
	}
}

int alog_lines_buffered(const struct alog_lines *lr)
{
	return lr->eof ||
	       memchr(lr->buf + lr->start, '\n', lr->end - lr->start) != NULL;
}

static int fill(struct alog_lines *lr, struct alog_err *err)
{
	ssize_t n;

	if (lr->start > 0) {
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
	}
	if (lr->wait) {
		int rc = lr->wait(lr->wait_ctx, err);

		if (rc < 0)
			return rc;
	}
	do
		n = read(lr->fd, lr->buf + lr->end, lr->cap - lr->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return alog_err_sys(err, ALOG_EIO, errno, "read: %s",
				    strerror(errno));
	if (n == 0)
		lr->eof = 1;
	lr->end += (size_t)n;
	lr->bytes_read += (uint64_t)n;
	return 0;
}

int alog_lines_next(struct alog_lines *lr, const char **line, size_t *len,
		    struct alog_err *err)
{
	for (;;) {
		unsigned char *p = lr->buf + lr->start;
		size_t avail = lr->end - lr->start;
		unsigned char *nl = memchr(p, '\n', avail);
		size_t n;
		int rc;

		if (nl || (lr->eof && avail > 0)) {
			n = nl ? (size_t)(nl - p) : avail;
			lr->start += nl ? n + 1 : n;
			if (lr->skipping) {
				lr->skipping = 0;
				continue;  /* end of a too-long line */
			}
			lr->line_no++;
			if (nl && n > 0 && p[n - 1] == '\r')
				n--; /* CRLF; a CR at the end of input stays */
			if (n > lr->max)
				return ALOG_LINE_TOO_LONG;
			*line = (const char *)p;
			*len = n;
			return ALOG_LINE_OK;
		}
		if (lr->eof) {
			if (lr->skipping) {
				lr->skipping = 0;
				continue;
			}
			return ALOG_LINE_EOF;
		}
		if (!lr->skipping && avail > lr->max + 1) {
			/* No newline within max + CR: too long. Drop what we
			 * have and skip to the next newline. */
			lr->line_no++;
			lr->skipping = 1;
			lr->start = lr->end;
			return ALOG_LINE_TOO_LONG;
		}
		if (lr->skipping)
			lr->start = lr->end;
		rc = fill(lr, err);
		if (rc < 0)
			return rc;
	}
}
