/*
 * err: see err.h. Messages are truncated, never overflowed, at
 * ALOG_ERR_MSG_MAX bytes.
 */
#include "store/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int alog_err_set_at(struct alog_err *err, int code, int cause,
		    const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	err->cause = cause;
	err->file = file;
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void alog_err_prefix(struct alog_err *err, const char *fmt, ...)
{
	char old[ALOG_ERR_MSG_MAX];
	size_t n, m;
	va_list ap;
	int r;

	if (!err)
		return;
	memcpy(old, err->msg, sizeof(old));
	old[sizeof(old) - 1] = 0;
	va_start(ap, fmt);
	r = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	/* "<locator>: <old message>", cut at ALOG_ERR_MSG_MAX - 1 bytes. */
	n = r < 0 ? 0 : (size_t)r;
	if (n > sizeof(err->msg) - 1)
		n = sizeof(err->msg) - 1;
	if (n + 2 < sizeof(err->msg)) {
		memcpy(err->msg + n, ": ", 2);
		n += 2;
		m = strlen(old);
		if (m > sizeof(err->msg) - 1 - n)
			m = sizeof(err->msg) - 1 - n;
		memcpy(err->msg + n, old, m);
		n += m;
	}
	err->msg[n] = 0;
}

void alog_err_clear(struct alog_err *err)
{
	/* msg as a string only: ingest clears an error for every event,
	 * and the 512-byte buffer's memset showed in its profile */
	if (err) {
		err->code = 0;
		err->cause = 0;
		err->file = NULL;
		err->line = 0;
		err->msg[0] = 0;
	}
}

const char *alog_err_name(int code)
{
	switch (code) {
	case ALOG_OK: return "ok";
	case ALOG_EINVAL: return "invalid input";
	case ALOG_ENOMEM: return "out of memory";
	case ALOG_EIO: return "i/o error";
	case ALOG_ECORRUPT: return "corrupt data";
	case ALOG_ENOTFOUND: return "not found";
	case ALOG_ELIMIT: return "limit exceeded";
	case ALOG_EBUSY: return "busy";
	case ALOG_EVERIFY: return "verification failed";
	case ALOG_ECONFLICT: return "conflict";
	case ALOG_EEXIST: return "already exists";
	case ALOG_EDB: return "database error";
	case ALOG_ECRYPTO: return "crypto error";
	case ALOG_ESTATE: return "bad state";
	default: return "unknown error";
	}
}
