/*
 * sample: see sample.h. SPEC.md section 19 "Samples" and "tlog-proof".
 */
#include "report/sample.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "store/bytes.h"

static int printable(const char *s, size_t len, size_t *bad)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
			*bad = i;
			return 0;
		}
	}
	return 1;
}

int alog_sample_seed_check(const char *seed, size_t len,
			   struct alog_err *err)
{
	size_t bad;

	if (len == 0)
		return alog_err_set(err, ALOG_EINVAL, "the sample seed is empty");
	if (len > ALOG_SAMPLE_SEED_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "the sample seed has %zu bytes, more than %d",
				    len, ALOG_SAMPLE_SEED_MAX);
	if (!printable(seed, len, &bad))
		return alog_err_set(err, ALOG_EINVAL,
				    "the sample seed has a byte other than printable ascii at offset %zu",
				    bad);
	return 0;
}

int alog_sample_seed_derive(const char *report_id,
			    const char *population_sha256_hex,
			    char out[ALOG_SAMPLE_SEED_HEX_LEN + 1],
			    struct alog_err *err)
{
	/* domain 0x00 report_id 0x00 hex */
	unsigned char in[sizeof(ALOG_SAMPLE_DOMAIN) +
			 ALOG_SAMPLE_REPORT_ID_MAX + 1 +
			 ALOG_SAMPLE_SEED_HEX_LEN];
	unsigned char h[ALOG_HASH_LEN];
	size_t id_len, hex_len, n = 0, bad;
	int rc;

	out[0] = 0;
	id_len = strnlen(report_id, ALOG_SAMPLE_REPORT_ID_MAX + 1);
	if (id_len == 0 || id_len > ALOG_SAMPLE_REPORT_ID_MAX ||
	    !printable(report_id, id_len, &bad))
		return alog_err_set(err, ALOG_EINVAL,
				    "a report id must be 1 to %d bytes of printable ascii",
				    ALOG_SAMPLE_REPORT_ID_MAX);
	hex_len = strnlen(population_sha256_hex, ALOG_SAMPLE_SEED_HEX_LEN + 1);
	if (hex_len != ALOG_SAMPLE_SEED_HEX_LEN)
		return alog_err_set(err, ALOG_EINVAL,
				    "a population hash must be 64 lowercase hex digits");
	for (size_t i = 0; i < hex_len; i++) {
		char c = population_sha256_hex[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return alog_err_set(err, ALOG_EINVAL,
					    "a population hash must be 64 lowercase hex digits (offset %zu)",
					    i);
	}
	/* sizeof includes the NUL: that is the 0x00 separator. */
	memcpy(in, ALOG_SAMPLE_DOMAIN, sizeof(ALOG_SAMPLE_DOMAIN));
	n = sizeof(ALOG_SAMPLE_DOMAIN);
	memcpy(in + n, report_id, id_len);
	n += id_len;
	in[n++] = 0;
	memcpy(in + n, population_sha256_hex, hex_len);
	n += hex_len;
	rc = alog_hasher_sha256(NULL, in, n, NULL, 0, h);
	if (rc < 0)
		return alog_err_set(err, rc, "cannot hash the sample seed");
	alog_hex_encode(h, sizeof(h), out);
	return 0;
}

/* floor(k * N / n) without overflow: N = q*n + r, so k*N/n = k*q + k*r/n
 * and k*r < n*n fits in 64 bits (n <= ALOG_SAMPLE_SIZE_MAX). k <= n. */
static uint64_t stratum_start(uint64_t k, uint64_t N, uint64_t n)
{
	return k * (N / n) + k * (N % n) / n;
}

/* One draw in [0, s), s >= 1, for stratum k (SPEC.md 19 "Samples"). */
static int draw_in(struct alog_hasher *h, const char *seed, size_t seed_len,
		   uint64_t k, uint64_t s, uint64_t *out)
{
	/* 2^64 mod s, computed in 64 bits; accept x < 2^64 - rem. */
	uint64_t rem = (UINT64_MAX % s + 1) % s;
	unsigned char ctr[16], d[ALOG_HASH_LEN];
	int rc;

	alog_put_be64(ctr, k);
	for (uint64_t j = 0;; j++) {
		uint64_t x;

		alog_put_be64(ctr + 8, j);
		rc = alog_hasher_sha256(h, seed, seed_len, ctr, sizeof(ctr), d);
		if (rc < 0)
			return rc;
		x = alog_get_be64(d);
		/* 0 - rem is 2^64 - rem modulo 2^64. */
		if (rem == 0 || x < (uint64_t)0 - rem) {
			*out = x % s;
			return 0;
		}
	}
}

int alog_sample_positions(uint64_t n_members, uint64_t n_sample,
			  const char *seed, size_t seed_len, uint64_t *out,
			  size_t *n_out, struct alog_err *err)
{
	struct alog_hasher *h = NULL;
	int rc;

	*n_out = 0;
	rc = alog_sample_seed_check(seed, seed_len, err);
	if (rc < 0)
		return rc;
	if (n_sample > ALOG_SAMPLE_SIZE_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "a sample of %" PRIu64 " is larger than %d",
				    n_sample, ALOG_SAMPLE_SIZE_MAX);
	if (n_sample >= n_members) {
		for (uint64_t i = 0; i < n_members; i++)
			out[i] = i;
		*n_out = (size_t)n_members;
		return 0;
	}
	rc = alog_hasher_new(&h, err);
	if (rc < 0)
		return rc;
	for (uint64_t k = 0; k < n_sample; k++) {
		uint64_t lo = stratum_start(k, n_members, n_sample);
		uint64_t hi = stratum_start(k + 1, n_members, n_sample);
		uint64_t x;

		/* n_sample < n_members: every stratum has at least one. */
		rc = draw_in(h, seed, seed_len, k, hi - lo, &x);
		if (rc < 0) {
			alog_err_set(err, rc, "cannot hash draw %" PRIu64, k);
			goto out;
		}
		out[k] = lo + x;
	}
	*n_out = (size_t)n_sample;
out:
	alog_hasher_free(h);
	return rc;
}

int alog_sample_draw(const uint64_t *members, uint64_t n_members,
		     uint64_t n_sample, const char *seed, size_t seed_len,
		     uint64_t *out, size_t *n_out, struct alog_err *err)
{
	int rc = alog_sample_positions(n_members, n_sample, seed, seed_len,
				       out, n_out, err);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < *n_out; i++)
		out[i] = members[out[i]];
	return 0;
}

/* tlog-proof --------------------------------------------------------- */

int alog_tlog_proof_format(uint64_t index,
			   const unsigned char proof[][ALOG_HASH_LEN],
			   size_t n_proof, const void *extra, size_t extra_len,
			   const char *note, size_t note_len,
			   struct alog_buf *out, struct alog_err *err)
{
	size_t start = out->len, b64_len;
	char line[4 * ((ALOG_HASH_LEN + 2) / 3) + 1];
	int rc;

	if (n_proof > ALOG_MERKLE_PROOF_MAX)
		return alog_err_set(err, ALOG_EINVAL,
				    "a proof of %zu hashes is longer than %d",
				    n_proof, ALOG_MERKLE_PROOF_MAX);
	if (extra_len > ALOG_TLOG_PROOF_EXTRA_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "extra data of %zu bytes is longer than %d",
				    extra_len, ALOG_TLOG_PROOF_EXTRA_MAX);
	if (note_len == 0 || note[note_len - 1] != '\n')
		return alog_err_set(err, ALOG_EINVAL,
				    "the checkpoint note is empty or does not end in a newline");
	rc = alog_buf_adds(out, ALOG_TLOG_PROOF_HEADER "\n", err);
	if (rc == 0 && extra_len > 0) {
		b64_len = 4 * ((extra_len + 2) / 3);
		rc = alog_buf_adds(out, "extra ", err);
		if (rc == 0)
			rc = alog_buf_reserve(out, b64_len + 2, err);
		if (rc == 0) {
			alog_b64_encode(extra, extra_len,
					(char *)out->data + out->len);
			out->len += b64_len;
			rc = alog_buf_addc(out, '\n', err);
		}
	}
	if (rc == 0)
		rc = alog_buf_addf(out, err, "index %" PRIu64 "\n", index);
	for (size_t i = 0; rc == 0 && i < n_proof; i++) {
		alog_b64_encode(proof[i], ALOG_HASH_LEN, line);
		rc = alog_buf_addf(out, err, "%s\n", line);
	}
	if (rc == 0)
		rc = alog_buf_addc(out, '\n', err);
	if (rc == 0)
		rc = alog_buf_add(out, note, note_len, err);
	if (rc < 0) {
		out->len = start;
		if (out->cap)
			out->data[start] = 0;
	}
	return rc;
}

/* Next line of [p, end): its length without the newline; 0 and *nl = 0
 * when the text ends without one. */
static size_t line_len(const char *p, const char *end, int *nl)
{
	const char *q = memchr(p, '\n', (size_t)(end - p));

	*nl = q != NULL;
	return q ? (size_t)(q - p) : (size_t)(end - p);
}

int alog_tlog_proof_parse(const char *text, size_t len,
			  struct alog_tlog_proof *out, struct alog_err *err)
{
	const char *p = text, *end = text + len;
	size_t n, lineno = 1, hlen = sizeof(ALOG_TLOG_PROOF_HEADER) - 1;
	int nl, rc = 0;

	memset(out, 0, sizeof(*out));
	if (len > ALOG_TLOG_PROOF_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "a tlog-proof of %zu bytes is longer than %d",
				    len, ALOG_TLOG_PROOF_MAX);
	n = line_len(p, end, &nl);
	if (!nl || n != hlen || memcmp(p, ALOG_TLOG_PROOF_HEADER, hlen) != 0) {
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "line 1: not \"" ALOG_TLOG_PROOF_HEADER "\"");
		goto out;
	}
	p += n + 1;
	lineno++;

	n = line_len(p, end, &nl);
	if (nl && n >= 6 && memcmp(p, "extra ", 6) == 0) {
		const char *b = p + 6;
		size_t bl = n - 6, dl;
		long got;

		if (bl == 0 || bl % 4) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "line %zu: extra data is not canonical padded base64",
					  lineno);
			goto out;
		}
		dl = bl / 4 * 3 - (b[bl - 1] == '=') - (b[bl - 2] == '=');
		if (dl > ALOG_TLOG_PROOF_EXTRA_MAX) {
			rc = alog_err_set(err, ALOG_ELIMIT,
					  "line %zu: extra data of %zu bytes is longer than %d",
					  lineno, dl,
					  ALOG_TLOG_PROOF_EXTRA_MAX);
			goto out;
		}
		out->extra = malloc(dl ? dl : 1);
		if (!out->extra) {
			rc = alog_err_set(err, ALOG_ENOMEM,
					  "out of memory for %zu bytes of extra data",
					  dl);
			goto out;
		}
		got = alog_b64_decode(b, bl, out->extra, dl);
		if (got < 1 || (size_t)got != dl) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "line %zu: extra data is not canonical padded base64",
					  lineno);
			goto out;
		}
		out->extra_len = dl;
		p += n + 1;
		lineno++;
		n = line_len(p, end, &nl);
	}

	if (!nl || n < 7 || memcmp(p, "index ", 6) != 0 ||
	    alog_dec_parse(p + 6, n - 6, &out->index) < 0) {
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "line %zu: not \"index \" and a decimal index without leading zeros",
				  lineno);
		goto out;
	}
	p += n + 1;
	lineno++;

	for (;;) {
		n = line_len(p, end, &nl);
		if (!nl) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "line %zu: the text ends before the empty line that precedes the checkpoint",
					  lineno);
			goto out;
		}
		if (n == 0)
			break;
		if (out->n_proof == ALOG_MERKLE_PROOF_MAX) {
			rc = alog_err_set(err, ALOG_ELIMIT,
					  "line %zu: more than %d proof hashes",
					  lineno, ALOG_MERKLE_PROOF_MAX);
			goto out;
		}
		if (n != 44 ||
		    alog_b64_decode(p, n, out->proof[out->n_proof],
				    ALOG_HASH_LEN) != ALOG_HASH_LEN) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "line %zu: not the canonical base64 of a 32-byte hash",
					  lineno);
			goto out;
		}
		out->n_proof++;
		p += n + 1;
		lineno++;
	}
	p++; /* the empty line */
	lineno++;
	if (p == end) {
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "line %zu: no checkpoint after the empty line",
				  lineno);
		goto out;
	}
	out->note = p;
	out->note_len = (size_t)(end - p);
out:
	if (rc < 0)
		alog_tlog_proof_release(out);
	return rc;
}

int alog_tlog_proof_verify(const struct alog_tlog_proof *p,
			   const struct alog_verifier *v,
			   const unsigned char leaf[ALOG_HASH_LEN],
			   struct alog_checkpoint *cp, struct alog_err *err)
{
	struct alog_checkpoint c;
	unsigned char lh[ALOG_HASH_LEN];
	int rc;

	if (cp)
		memset(cp, 0, sizeof(*cp));
	rc = alog_checkpoint_open_note(v, p->note, p->note_len, &c, err);
	if (rc < 0) {
		alog_err_prefix(err, "checkpoint");
		return rc;
	}
	if (!leaf) {
		if (!p->extra)
			return alog_err_set(err, ALOG_ECORRUPT,
					    "no extra line: the proof carries no record to hash");
		rc = alog_merkle_leaf(NULL, p->extra, p->extra_len, lh);
		if (rc < 0)
			return alog_err_set(err, rc, "cannot hash the record");
		leaf = lh;
	}
	if (p->index >= c.size)
		return alog_err_set(err, ALOG_EVERIFY,
				    "index %" PRIu64 " is not in the checkpoint's tree of size %" PRIu64,
				    p->index, c.size);
	rc = alog_merkle_verify_inclusion(NULL, p->index, c.size, leaf,
					  p->proof, p->n_proof, c.root, err);
	if (rc < 0)
		return rc;
	if (cp)
		*cp = c;
	return 0;
}

void alog_tlog_proof_release(struct alog_tlog_proof *p)
{
	if (!p)
		return;
	free(p->extra);
	memset(p, 0, sizeof(*p));
}

int alog_sample_proof_format(struct alog_store *s, uint64_t index,
			     const struct alog_store_checkpoint *cp,
			     struct alog_buf *out, struct alog_err *err)
{
	unsigned char proof[ALOG_MERKLE_PROOF_MAX][ALOG_HASH_LEN];
	/* C11 needs the cast to add const to an array's elements. */
	const unsigned char (*cproof)[ALOG_HASH_LEN] =
		(const unsigned char (*)[ALOG_HASH_LEN])proof;
	struct alog_buf rec = { 0 };
	size_t n_proof = 0;
	int rc;

	if (index >= cp->size)
		return alog_err_set(err, ALOG_EINVAL,
				    "record %" PRIu64 " is not in the checkpoint's tree of size %" PRIu64,
				    index, cp->size);
	alog_buf_init(&rec, ALOG_STORE_RECORD_MAX);
	rc = alog_store_get(s, index, &rec, err);
	if (rc == 0)
		rc = alog_store_prove_inclusion(s, index, cp->size, proof,
						&n_proof, err);
	if (rc == 0)
		rc = alog_tlog_proof_format(index, cproof, n_proof, rec.data,
					    rec.len,
					    (const char *)cp->note.data,
					    cp->note.len, out, err);
	if (rc < 0)
		alog_err_prefix(err, "tlog-proof of record %" PRIu64, index);
	alog_buf_release(&rec);
	return rc;
}
