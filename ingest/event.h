/*
 * event: the producer's event envelope, its validation, and the canonical
 * record that wraps it (SPEC.md "Events", "Canonical record",
 * "Bad input").
 *
 * A producer's event is one line of JSON: an object with
 *   type    string, required, ALOG_EVENT_TYPE_MAX bytes, [a-z0-9_.-]
 *           segments separated by '.', starting with a letter
 *   id      string, optional, 1..ALOG_EVENT_ID_MAX printable ASCII bytes
 *           (0x21..0x7E but '"' and '\\')
 *   source  string, optional, same alphabet, 1..ALOG_EVENT_SOURCE_MAX
 *   time    string, optional, RFC 3339 with 'T', seconds, optional
 *           fraction up to 9 digits, 'Z' or a numeric offset
 * and any other members. Validation is strict RFC 8259 plus: valid UTF-8,
 * no NUL byte, no \u0000 escape, no lone surrogate escape, no duplicate
 * key in any object, integers within +-(2^53-1) and other numbers finite
 * as IEEE doubles (RFC 7493), at most ALOG_EVENT_LINE_MAX bytes and
 * ALOG_EVENT_DEPTH_MAX levels of nesting.
 *
 * The canonical form of the event is its bytes with every whitespace
 * character outside strings removed: values, escapes and member order are
 * kept exactly as sent.
 */
#ifndef ALOG_INGEST_EVENT_H
#define ALOG_INGEST_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "store/buf.h"
#include "store/err.h"
#include "store/merkle.h"
#include "store/store.h"

#define ALOG_EVENT_LINE_MAX 65536      /* bytes, without the newline */
#define ALOG_EVENT_DEPTH_MAX 32        /* nested objects/arrays, top = 1 */
#define ALOG_EVENT_TYPE_MAX 64
#define ALOG_EVENT_ID_MAX 128
#define ALOG_EVENT_SOURCE_MAX 128
#define ALOG_EVENT_MEMBERS_MAX 4096    /* members in one object */
#define ALOG_EVENT_COMPONENT_MAX 64    /* = ALOG_BREAKER_COMPONENT_MAX */
enum { ALOG_COMPONENT_ABSENT = 0, ALOG_COMPONENT_PLAIN, ALOG_COMPONENT_OTHER };
/* A canonical record is the event plus at most this many wrapper bytes. */
#define ALOG_RECORD_WRAPPER_MAX 2048
#define ALOG_RECORD_MAX (ALOG_EVENT_LINE_MAX + ALOG_RECORD_WRAPPER_MAX)
/* Largest record index (2^53-1: records hold only I-JSON integers). */
#define ALOG_RECORD_INDEX_MAX ((UINT64_C(1) << 53) - 1)

/* Why a line was refused: stable machine-readable names (SPEC.md table). */
enum alog_reject {
	ALOG_REJECT_NONE = 0,
	ALOG_REJECT_EMPTY,          /* "empty": empty or whitespace-only line */
	ALOG_REJECT_TOO_LONG,       /* "too_long" */
	ALOG_REJECT_NOT_JSON,       /* "not_json": syntax error */
	ALOG_REJECT_NOT_OBJECT,     /* "not_object" */
	ALOG_REJECT_BAD_UTF8,       /* "bad_utf8" */
	ALOG_REJECT_NUL,            /* "nul": NUL byte or \u0000 */
	ALOG_REJECT_DUPLICATE_KEY,  /* "duplicate_key" */
	ALOG_REJECT_NUMBER_RANGE,   /* "number_range" */
	ALOG_REJECT_TOO_DEEP,       /* "too_deep" */
	ALOG_REJECT_TOO_MANY_MEMBERS, /* "too_many_members" */
	ALOG_REJECT_BAD_FIELD,      /* "bad_field": type/id/source/time */
	ALOG_REJECT_RESERVED_TYPE,  /* "reserved_type" */
	ALOG_REJECT_RESERVED_COMPONENT, /* "reserved_component" */
};
const char *alog_reject_name(enum alog_reject r);

struct alog_event {
	struct alog_buf canon;   /* canonical event bytes (owned) */
	char type[ALOG_EVENT_TYPE_MAX + 1];
	char id[ALOG_EVENT_ID_MAX + 1];          /* "" when absent */
	char source[ALOG_EVENT_SOURCE_MAX + 1];  /* "" when absent */
	int has_time;
	int64_t time_us;         /* producer's time, microseconds UTC */
	/* The top-level "component" member: a string without escapes of at
	 * most ALOG_EVENT_COMPONENT_MAX bytes is copied (PLAIN); anything
	 * else present is OTHER. */
	int component_state;
	char component[ALOG_EVENT_COMPONENT_MAX + 1];
	enum alog_reject reject; /* why parse failed, NONE on success */
	/* The id digest of (source, id) (alog_event_id_key), computed ahead
	 * by a thread that parses for the writer; cleared by every parse.
	 * Code that changes id or source afterwards clears has_id_key. */
	int has_id_key;
	unsigned char id_key[ALOG_STORE_ID_LEN];
};

void alog_event_init(struct alog_event *ev);
/* Compute ev->id_key (when ev has an id) with hasher h, so that the
 * writer need not: for a thread that parses ahead of it. */
void alog_event_id_key(struct alog_event *ev, struct alog_hasher *h);
void alog_event_release(struct alog_event *ev);

/*
 * Parse and validate one line (without its newline; a trailing '\r' is
 * not stripped here: the framing layer decides). On success ev holds the
 * canonical bytes and the envelope fields. On failure returns ALOG_EINVAL
 * (or ALOG_ELIMIT for the limits), sets ev->reject and err's message says
 * what and where (byte offset). Reserved types are NOT refused here (the
 * caller knows whether the writer is the daemon): see
 * alog_event_type_reserved.
 */
int alog_event_parse(struct alog_event *ev, const char *line, size_t len,
		     struct alog_err *err);

/* 1 if a producer may not write events of this type (SPEC.md "Event
 * vocabulary": daemon.*, store.*, checkpoint.*, backup.*, admin.*,
 * integrity.*, anomaly.*, report.*). */
int alog_event_type_reserved(const char *type);

/* Where a record came from (SPEC.md "Provenance"). Fields < 0 or NULL are
 * left out of the record. */
struct alog_provenance {
	const char *transport; /* "stdin", "unix", "tcp", "tls", "internal" */
	int64_t uid, gid, pid;
	const char *addr;      /* peer address, for tcp/tls */
	const char *subject;   /* client certificate subject, for tls */
	/* When set, the provenance object's bytes ({...}) as a record
	 * holds them, used instead of the fields above (replay of a spool
	 * record); the record writer refuses them unless canonical. */
	const char *raw;
	size_t raw_len;
};

/*
 * Append the canonical record (no newline) to out:
 * {"index":I,"received":"<RFC 3339 UTC, 6 fraction digits, Z>","id":"<id>",
 *  "provenance":{...},"event":<canonical event>}
 * Provenance members in the order transport, uid, gid, pid, addr, subject;
 * strings escaped minimally (alog_json_string_format: \" \\ and \u00xx
 * for bytes < 0x20, all else as is; invalid UTF-8 is refused). Refuses
 * (ALOG_EINVAL) what alog_record_parse would call corrupt: index or a
 * provenance number > 2^53-1, received outside years 0000..9999, id outside
 * the id alphabet, an event that is not a canonical object (whitespace,
 * duplicate key, ...); ALOG_ELIMIT when the wrapper would exceed
 * ALOG_RECORD_WRAPPER_MAX. out is unchanged on failure.
 */
/* 1 when a canonical provenance object (len bytes) says the record was
 * written by auditlog itself (transport "internal"), else 0. */
int alog_provenance_is_internal(const char *p, size_t len);
/* The peer uid of a canonical provenance object's bytes when its
 * transport is unix and it names one: 0 and *uid set, else -1. */
int alog_provenance_unix_uid(const char *p, size_t len, int64_t *uid);

/* The provenance object ({...}) as a record holds it, appended to out. */
int alog_provenance_format(const struct alog_provenance *p,
			   struct alog_buf *out, struct alog_err *err);

int alog_record_format(uint64_t index, int64_t received_us, const char *id,
		       const struct alog_provenance *prov,
		       const unsigned char *event, size_t event_len,
		       struct alog_buf *out, struct alog_err *err);

/* The same record for an event that a successful alog_event_parse left
 * in ev (ev->id may have been set since): the scan that checks the event
 * is canonical is skipped, as alog_event_parse wrote canonical bytes
 * (the writer's hot path; every other check is kept). */
int alog_record_format_parsed(uint64_t index, int64_t received_us,
			      const struct alog_provenance *prov,
			      const struct alog_event *ev,
			      struct alog_buf *out, struct alog_err *err);

/* A parsed canonical record; spans borrow from the record bytes. */
struct alog_record_view {
	uint64_t index;
	int64_t received_us;
	const char *id;      size_t id_len;
	const char *event;   size_t event_len;   /* canonical event bytes */
	const char *prov;    size_t prov_len;    /* provenance object bytes */
};
/* Parse a stored record and check it is canonical (ALOG_ECORRUPT if not,
 * message with the byte offset): exactly the bytes alog_record_format can
 * write, with the event checked against the JSON rules above (not the
 * envelope rules, which are for producers). */
int alog_record_parse(const char *rec, size_t len,
		      struct alog_record_view *out, struct alog_err *err);

/* The fast path alog_record_parse takes first: 1 and the view when the
 * record is canonical and plain (strings without escapes, numbers with
 * at most 15 integer digits and no exponent, at most 16 levels and 32
 * members per object), else
 * 0 (the record may still be canonical: the full scan decides). It never
 * accepts a record the full scan would refuse. */
int alog_record_parse_fast(const char *rec, size_t len,
			   struct alog_record_view *out);
/* The full scan alone (alog_record_parse without its fast path): the
 * reference the fast path is tested against. */
int alog_record_parse_full(const char *rec, size_t len,
			   struct alog_record_view *out, struct alog_err *err);

/* The same view, found without checking the event's JSON: for passes over
 * many records (the reporter) that rely on the block checksum and leave
 * the full check to verify. Checks the wrapper's shape as the writer
 * makes it (members, order, the received time, the id alphabet, the
 * provenance as an object whose strings and brackets balance, the event
 * as the bytes from its '{' to the record's last '}'): ALOG_ECORRUPT,
 * with the byte offset, when it is not. The event's own balance is
 * alog_event_peek's to check. */
int alog_record_peek(const char *rec, size_t len,
		     struct alog_record_view *out, struct alog_err *err);
/* alog_record_peek of the record read at index (a store reader's
 * callback arguments), which must hold that index; the message names
 * it. */
int alog_record_peek_at(uint64_t index, const unsigned char *rec,
			size_t len, struct alog_record_view *out,
			struct alog_err *err);

/* The envelope's raw string texts in a stored (canonical) event: the
 * top-level members type, id, source and time (section 3), NULL when
 * absent. Their texts hold no escape (the envelope rules). */
struct alog_envelope_view {
	const char *type, *id, *source, *time;
	size_t type_len, id_len, source_len, time_len;
};
/* 0 when found; 1 when a top-level key is written with an escape (it
 * might spell an envelope member: parse the event fully instead);
 * ALOG_ECORRUPT when the bytes are not one balanced object. */
int alog_event_peek(const char *ev, size_t len,
		    struct alog_envelope_view *out);
/* Each top-level member of a stored event, in order, as its raw key text
 * (between the quotes) and raw value text (a string with its quotes):
 * the same reading and results as alog_event_peek (1 for a key written
 * with an escape, before any member after it). */
typedef void (*alog_event_member_fn)(void *ctx, const char *key,
				     size_t key_len, const char *value,
				     size_t value_len);
int alog_event_members(const char *ev, size_t len, alog_event_member_fn fn,
		       void *ctx);

#endif
