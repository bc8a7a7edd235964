/*
 * population: the records of the log that a report tests (SPEC.md
 * section 19): those received in a period [from, to), a contiguous index
 * range, narrowed by type and component filters; their count, index
 * range and SHA-256 over their canonical records.
 *
 * Invariants: members are visited in index order, each exactly once; the
 * hash covers exactly the bytes visited, each followed by 0x0A; every
 * record of the range is checked to lie in the period.
 */
#ifndef ALOG_REPORT_POPULATION_H
#define ALOG_REPORT_POPULATION_H

#include <stddef.h>
#include <stdint.h>

#include "store/buf.h"
#include "store/err.h"
#include "store/store.h"

struct alog_population_query {
	int64_t from_us, to_us;   /* [from, to), from < to */
	const char *type;         /* NULL: any; "a.b" exact; "a.b.*" prefix */
	const char *component;    /* NULL: any */
};

struct alog_population {
	uint64_t index_from, index_to;   /* [a, b) */
	uint64_t count;                  /* members */
	unsigned char sha256[32];
	int64_t first_received, last_received; /* of the members; 0 if none */
};

/* Called for each member in index order; rec is valid during the call.
 * A negative return stops the run with that code. */
typedef int (*alog_population_fn)(void *ctx, uint64_t index,
				  const unsigned char *rec, size_t len);

/* Check q (ALOG_EINVAL: from >= to, an empty or malformed type or
 * component filter). */
int alog_population_check(const struct alog_population_query *q,
			  struct alog_err *err);
/* The query as text (SPEC.md 19), appended to out. */
int alog_population_text(const struct alog_population_query *q,
			 struct alog_buf *out, struct alog_err *err);
/* Compute the population of q in s; fn (may be NULL) sees each member.
 * ALOG_ECORRUPT naming the index for a record that does not parse or lies
 * outside the period. */
int alog_population_run(struct alog_store *s,
			const struct alog_population_query *q,
			alog_population_fn fn, void *ctx,
			struct alog_population *out, struct alog_err *err);

/* The same for a query without filters, as steps, for a caller that
 * reads the records itself together with other work (the report's one
 * pass): begin finds the index range into out, add takes each record of
 * [out->index_from, out->index_to) in index order with its received
 * time, end finishes the hash (and frees what begin made, also after a
 * failure; call it whenever begin returned 0). */
struct alog_population_pass {
	struct alog_population *out;
	int64_t from_us, to_us;
	void *md;  /* EVP_MD_CTX */
};
int alog_population_begin(struct alog_store *s,
			  const struct alog_population_query *q,
			  struct alog_population_pass *p,
			  struct alog_population *out, struct alog_err *err);
int alog_population_add(struct alog_population_pass *p, uint64_t index,
			const unsigned char *rec, size_t len,
			int64_t received_us, struct alog_err *err);
/* add in two halves, which may run on two threads (each half in index
 * order): count checks the record lies in the period and counts it;
 * hash takes bytes that are whole records, each followed by 0x0A. */
int alog_population_count(struct alog_population_pass *p, uint64_t index,
			  int64_t received_us, struct alog_err *err);
int alog_population_hash(struct alog_population_pass *p,
			 const unsigned char *bytes, size_t len,
			 struct alog_err *err);
int alog_population_end(struct alog_population_pass *p, int ok,
			struct alog_err *err);

#endif
