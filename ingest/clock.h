/*
 * clock: time in auditlog is int64 microseconds since 1970-01-01T00:00:00Z
 * (SPEC.md "Time"), written as RFC 3339.
 */
#ifndef ALOG_INGEST_CLOCK_H
#define ALOG_INGEST_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "store/err.h"

#define ALOG_TIME_TEXT_MAX 32
/* The length of alog_time_format's text, the form records hold. */
#define ALOG_TIME_RECORD_LEN 27
/* The representable range: 0000-01-01T00:00:00.000000Z and
 * 9999-12-31T23:59:59.999999Z, in microseconds since 1970. */
#define ALOG_TIME_MIN_US (-INT64_C(62167219200000000))
#define ALOG_TIME_MAX_US INT64_C(253402300799999999)

/* Wall clock now (CLOCK_REALTIME), microseconds. */
int64_t alog_clock_now_us(void);
/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" (always 6 fraction digits, UTC) into out
 * (ALOG_TIME_TEXT_MAX bytes); years 0000..9999 only (returns -1 outside). */
int alog_time_format(int64_t us, char out[ALOG_TIME_TEXT_MAX]);
/* Parse RFC 3339 date-time (section 5.6: 'T' or 't', fraction of 1..9
 * digits truncated to microseconds, 'Z'/'z' or +-HH:MM; leap second 60
 * refused) into microseconds UTC. Also accepts a bare date YYYY-MM-DD
 * when allow_date is 1 (midnight UTC). ALOG_EINVAL if bad. */
int alog_time_parse(const char *s, size_t len, int allow_date, int64_t *us,
		    struct alog_err *err);

/* The received time of a record: 0 (and *us) exactly when s is what
 * alog_time_format writes for some time, else -1. Cheaper than a parse,
 * a format and a compare (verify reads one per record). */
int alog_time_parse_record(const char *s, size_t len, int64_t *us);

/* A UUIDv7 (RFC 9562) for time us with random bits, lowercase text with
 * hyphens into out (37 bytes). */
int alog_uuid7(int64_t us, char out[37], struct alog_err *err);

#endif
