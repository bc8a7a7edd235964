/*
 * sample: seeded samples spread over a population (SPEC.md section 19
 * "Samples"), and the C2SP tlog-proof text (https://c2sp.org/tlog-proof)
 * that carries one sampled record, its inclusion proof and the signed
 * checkpoint it proves against, so an auditor can check a sample offline.
 *
 * Drawing. A population of N members (positions 0..N-1, in index order) is
 * cut into n strata by position, [floor(k*N/n), floor((k+1)*N/n)) for
 * k = 0..n-1, and one member is drawn from each with a PRNG made only of
 * SHA-256: x = first 8 bytes (big-endian) of
 * SHA-256(seed || u64be(k) || u64be(j)) for attempts j = 0, 1, ...,
 * accepted when x < 2^64 - (2^64 mod s) (no modulo bias), position
 * lo + x mod s, where s is the stratum's size. n >= N takes every member.
 *
 * Invariants: a draw depends only on (N, n, seed) and is the same on every
 * platform; positions come out strictly ascending (one per stratum), so
 * the members drawn are distinct and in index order.
 */
#ifndef ALOG_REPORT_SAMPLE_H
#define ALOG_REPORT_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "store/buf.h"
#include "store/err.h"
#include "store/merkle.h"
#include "store/note.h"
#include "store/sign.h"
#include "store/store.h"

/* Bytes in a seed: printable ASCII (0x20..0x7E), at least one. */
#define ALOG_SAMPLE_SEED_MAX 256
/* Most members one sample may draw (and the most a "take all" returns). */
#define ALOG_SAMPLE_SIZE_MAX 10000
/* Bytes in a report id a seed is derived from (printable ASCII). */
#define ALOG_SAMPLE_REPORT_ID_MAX 256
/* Domain string of a derived seed. */
#define ALOG_SAMPLE_DOMAIN "auditlog-sample-v1"
/* A derived seed is the lowercase hex of a SHA-256: 64 characters. */
#define ALOG_SAMPLE_SEED_HEX_LEN 64

/* 0 when seed[0..len) is a valid seed, else ALOG_EINVAL (empty, too long:
 * ALOG_ELIMIT, or a byte outside 0x20..0x7E, with its offset). */
int alog_sample_seed_check(const char *seed, size_t len,
			   struct alog_err *err);

/* The derived seed: lowercase hex of SHA-256(ALOG_SAMPLE_DOMAIN || 0x00 ||
 * report_id || 0x00 || population_sha256_hex) into out (65 bytes, NUL
 * terminated). report_id: 1..ALOG_SAMPLE_REPORT_ID_MAX printable ASCII;
 * population_sha256_hex: 64 lowercase hex digits (else ALOG_EINVAL). */
int alog_sample_seed_derive(const char *report_id,
			    const char *population_sha256_hex,
			    char out[ALOG_SAMPLE_SEED_HEX_LEN + 1],
			    struct alog_err *err);

/* Positions drawn from a population of n_members with sample size
 * n_sample (<= ALOG_SAMPLE_SIZE_MAX, else ALOG_ELIMIT) and seed (checked
 * as above). out has room for min(n_members, n_sample) positions; *n_out
 * gets that count. Strictly ascending. */
int alog_sample_positions(uint64_t n_members, uint64_t n_sample,
			  const char *seed, size_t seed_len, uint64_t *out,
			  size_t *n_out, struct alog_err *err);

/* Same, mapped through members (the population's indices, in order):
 * out[i] = members[position i]. out may not alias members. */
int alog_sample_draw(const uint64_t *members, uint64_t n_members,
		     uint64_t n_sample, const char *seed, size_t seed_len,
		     uint64_t *out, size_t *n_out, struct alog_err *err);

/*
 * tlog-proof text (C2SP tlog-proof v1):
 *   "c2sp.org/tlog-proof@v1\n"
 *   ["extra " base64(extra data) "\n"]    our record: the canonical record
 *   "index " decimal index "\n"
 *   base64(hash) "\n" ...                 the RFC 9162 inclusion path
 *   "\n"
 *   <checkpoint signed note, verbatim, to the end>
 */
#define ALOG_TLOG_PROOF_HEADER "c2sp.org/tlog-proof@v1"
/* Decoded bytes of an extra line (a canonical record the store accepts). */
#define ALOG_TLOG_PROOF_EXTRA_MAX ALOG_STORE_RECORD_MAX
/* Bytes in a tlog-proof text: header line 23, "extra " 6 + base64 of
 * ALOG_TLOG_PROOF_EXTRA_MAX + 1, "index " 6 + 20 digits + 1, 45 per hash
 * line, the blank line 1, the note ALOG_NOTE_MAX (1412114). */
#define ALOG_TLOG_PROOF_MAX                                              \
	(23 + 6 + 4 * ((ALOG_TLOG_PROOF_EXTRA_MAX + 2) / 3) + 1 + 6 + 20 + \
	 1 + ALOG_MERKLE_PROOF_MAX * 45 + 1 + ALOG_NOTE_MAX)

/* A parsed tlog-proof. All-zero is empty; release with
 * alog_tlog_proof_release. */
struct alog_tlog_proof {
	uint64_t index;
	size_t n_proof;                                   /* hashes in proof */
	unsigned char proof[ALOG_MERKLE_PROOF_MAX][ALOG_HASH_LEN];
	unsigned char *extra;  /* owned, decoded; NULL when no extra line */
	size_t extra_len;
	const char *note;      /* the checkpoint note: borrowed from the text
				* given to parse, valid as long as it is */
	size_t note_len;
};

/* Append a tlog-proof text to out: extra (may be NULL when extra_len is
 * 0: no extra line), index, n_proof hashes (<= ALOG_MERKLE_PROOF_MAX),
 * the checkpoint note verbatim (non-empty, ending in a newline).
 * ALOG_EINVAL for arguments that break those rules, ALOG_ELIMIT for extra
 * over ALOG_TLOG_PROOF_EXTRA_MAX. */
int alog_tlog_proof_format(uint64_t index,
			   const unsigned char proof[][ALOG_HASH_LEN],
			   size_t n_proof, const void *extra, size_t extra_len,
			   const char *note, size_t note_len,
			   struct alog_buf *out, struct alog_err *err);

/* Parse a tlog-proof text (SPEC.md "tlog-proof" reader rules). Malformed
 * text is ALOG_ECORRUPT naming the line; over ALOG_TLOG_PROOF_MAX bytes,
 * more than ALOG_MERKLE_PROOF_MAX hashes or extra data over
 * ALOG_TLOG_PROOF_EXTRA_MAX bytes is ALOG_ELIMIT. The note is not checked
 * here. On failure out is all-zero. */
int alog_tlog_proof_parse(const char *text, size_t len,
			  struct alog_tlog_proof *out, struct alog_err *err);

/* Verify p: its checkpoint note with v (alog_checkpoint_open_note), then
 * the inclusion of leaf (NULL: the leaf hash of p's extra data, which must
 * then be present, else ALOG_ECORRUPT) at p->index in the checkpoint's
 * tree. ALOG_EVERIFY when the index is not below the tree size or the
 * proof does not lead to the checkpoint's root. cp (may be NULL) gets the
 * checkpoint on success. */
int alog_tlog_proof_verify(const struct alog_tlog_proof *p,
			   const struct alog_verifier *v,
			   const unsigned char leaf[ALOG_HASH_LEN],
			   struct alog_checkpoint *cp, struct alog_err *err);

/* Free p's extra data and reset p to all-zero; accepts NULL. */
void alog_tlog_proof_release(struct alog_tlog_proof *p);

/* The tlog-proof of record `index` of s against checkpoint cp (one of
 * s's, index < cp->size, else ALOG_EINVAL), appended to out: the canonical
 * record as extra data, the inclusion proof at cp->size, cp's note. */
int alog_sample_proof_format(struct alog_store *s, uint64_t index,
			     const struct alog_store_checkpoint *cp,
			     struct alog_buf *out, struct alog_err *err);

#endif
