/*
 * lines: newline framing of a byte stream with a line limit (SPEC.md
 * "Framing"). A line ends at 0x0A; one 0x0D right before it is removed.
 * A line longer than max is reported as too long (its bytes are skipped
 * up to the next newline) without buffering more than max + 1 bytes.
 * Bytes after the last newline at end of input form a final line.
 */
#ifndef ALOG_INGEST_LINES_H
#define ALOG_INGEST_LINES_H

#include <stddef.h>
#include <stdint.h>

#include "store/err.h"

#define ALOG_LINES_CHUNK 65536

struct alog_lines {
	int fd;
	size_t max;          /* longest line kept, without newline/CR */
	unsigned char *buf;  /* max + 1 + ALOG_LINES_CHUNK bytes */
	size_t cap;
	size_t start, end;   /* unread bytes buf[start..end) */
	int eof;
	int skipping;        /* inside a too-long line */
	uint64_t line_no;    /* number of the line last returned, from 1 */
	uint64_t bytes_read; /* from fd so far */
	/* Optional: called before each read(); a negative return stops the
	 * read, and alog_lines_next returns it (err filled by the hook).
	 * Lets a reader thread wait for input in a way it can stop. */
	int (*wait)(void *ctx, struct alog_err *err);
	void *wait_ctx;
};

int alog_lines_init(struct alog_lines *lr, int fd, size_t max,
		    struct alog_err *err);
void alog_lines_release(struct alog_lines *lr);

enum {
	ALOG_LINE_OK = 0,        /* *line, *len set (borrowed until next call) */
	ALOG_LINE_TOO_LONG = 1,  /* line lr->line_no exceeded max */
	ALOG_LINE_EOF = 2,
};
/* Next line. Returns ALOG_LINE_* or a negative ALOG_E* on read error. */
int alog_lines_next(struct alog_lines *lr, const char **line, size_t *len,
		    struct alog_err *err);
/* 1 when a line can be returned without reading (for group commit:
 * commit before a read that may block). */
int alog_lines_buffered(const struct alog_lines *lr);

#endif
