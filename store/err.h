/*
 * err: the error value every fallible call of auditlog fills.
 *
 * Every fallible function returns 0 or a negative ALOG_E* code and, when
 * data, I/O or user input can make it fail, takes a nullable
 * `struct alog_err *err` last. The innermost failure fills it (code, cause,
 * file:line, one-line message); callers add a locator with
 * alog_err_prefix() and pass the code up unchanged.
 *
 * Invariants: an all-zero struct alog_err is "no error"; msg is always
 * NUL-terminated; messages are lower case, one line, no trailing period.
 */
#ifndef ALOG_STORE_ERR_H
#define ALOG_STORE_ERR_H

#include <stddef.h>

enum {
	ALOG_OK = 0,
	ALOG_EINVAL = -1,   /* bad input (user, producer, argument) */
	ALOG_ENOMEM = -2,   /* allocation failed */
	ALOG_EIO = -3,      /* operating-system I/O failure (errno in cause) */
	ALOG_ECORRUPT = -4, /* bytes on disk or wire break SPEC.md */
	ALOG_ENOTFOUND = -5,/* no such record, key, file */
	ALOG_ELIMIT = -6,   /* a named limit was exceeded */
	ALOG_EBUSY = -7,    /* the store is locked by another process */
	ALOG_EVERIFY = -8,  /* a signature, proof or hash did not verify */
	ALOG_ECONFLICT = -9,/* same (source, id), different event */
	ALOG_EEXIST = -10,  /* already exists */
	ALOG_EDB = -11,     /* LMDB failure (code in cause) */
	ALOG_ECRYPTO = -12, /* OpenSSL failure */
	ALOG_ESTATE = -13,  /* object in a state that forbids the call */
};

#define ALOG_ERR_MSG_MAX 512

struct alog_err {
	int code;         /* ALOG_E*, 0 when no error */
	int cause;        /* errno, MDB_* or library code; 0 when none */
	const char *file; /* source file of the innermost failure */
	int line;
	char msg[ALOG_ERR_MSG_MAX];
};

/* Fill err (if non-NULL) and return code. printf-style message. */
int alog_err_set_at(struct alog_err *err, int code, int cause,
		    const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

#define alog_err_set(err, code, ...) \
	alog_err_set_at((err), (code), 0, __FILE__, __LINE__, __VA_ARGS__)
/* Same, recording errno (or another library cause) and its text. */
#define alog_err_sys(err, code, cause, ...) \
	alog_err_set_at((err), (code), (cause), __FILE__, __LINE__, __VA_ARGS__)

/* Prepend "<locator>: " to err->msg (no-op when err is NULL). */
void alog_err_prefix(struct alog_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Clear err to the no-error state. */
void alog_err_clear(struct alog_err *err);

/* Short constant name of a code: "invalid input", "corrupt data", ... */
const char *alog_err_name(int code);

#endif
