/*
 * bench_proofs: latency of inclusion and consistency proofs as library
 * calls (store/store.h) against an existing store, for the benchmark
 * harness (tests/bench/compare.sh).
 *
 * Opens the store read-only and times, one call at a time, N
 * alog_store_prove_inclusion(index, size) with index uniform in
 * [0, size) and N alog_store_prove_consistency(old, size) with old
 * uniform in [1, size), size the store's tree size. Each proof is then
 * checked (outside the timed region) against the store's leaf hash and
 * roots with alog_merkle_verify_*, so the figures are of real proofs.
 * Prints one line:
 *   size=S n=N inclusion_p50_us=.. inclusion_p99_us=.. inclusion_max_us=..
 *   consistency_p50_us=.. consistency_p99_us=.. consistency_max_us=..
 * Percentiles are nearest-rank. A benchmark: it asserts nothing about
 * speed; it exits 1 when a proof does not verify.
 *
 * usage: bench_proofs STORE_DIR [N [SEED]]   (N default 10000, SEED 1)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/err.h"
#include "store/merkle.h"
#include "store/store.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile p (0 < p <= 100) of n sorted values, in µs. */
static double pct_us(const int64_t *v, size_t n, unsigned p)
{
	size_t rank = (n * p + 99) / 100;

	if (rank == 0)
		rank = 1;
	return (double)v[rank - 1] / 1000.0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct alog_store *s = NULL;
	struct alog_hasher *h = NULL;
	struct alog_err err = { 0 };
	unsigned char proof[ALOG_MERKLE_PROOF_MAX][ALOG_HASH_LEN];
	unsigned char leaf[ALOG_HASH_LEN], root[ALOG_HASH_LEN],
		old_root[ALOG_HASH_LEN];
	int64_t *inc = NULL, *con = NULL;
	uint64_t n = 10000, seed = 1, size, i;
	int rc = 1, r;

	if (argc < 2 || argc > 4 || (argc >= 3 && parse_u64(argv[2], &n) < 0) ||
	    (argc == 4 && parse_u64(argv[3], &seed) < 0) || n == 0 ||
	    n > 100000000) {
		fprintf(stderr, "usage: bench_proofs STORE_DIR [N [SEED]]\n");
		return 2;
	}
	rng_state = seed;
	r = alog_store_open(argv[1], ALOG_STORE_RDONLY, &s, NULL, &err);
	if (r < 0)
		goto fail;
	size = alog_store_size(s);
	if (size < 2) {
		fprintf(stderr, "bench_proofs: store '%s' has fewer than 2 records\n",
			argv[1]);
		goto out;
	}
	r = alog_hasher_new(&h, &err);
	if (r < 0)
		goto fail;
	inc = calloc(n, sizeof(*inc));
	con = calloc(n, sizeof(*con));
	if (!inc || !con) {
		fprintf(stderr, "bench_proofs: out of memory\n");
		goto out;
	}
	r = alog_store_root_at(s, size, root, &err);
	if (r < 0)
		goto fail;

	for (i = 0; i < n; i++) {
		uint64_t index = rnd() % size;
		size_t n_proof = 0;
		int64_t t0 = now_ns();

		r = alog_store_prove_inclusion(s, index, size, proof, &n_proof,
					       &err);
		inc[i] = now_ns() - t0;
		if (r < 0) {
			alog_err_prefix(&err, "inclusion proof of %" PRIu64, index);
			goto fail;
		}
		r = alog_store_leaf_hash(s, index, leaf, &err);
		if (r == 0)
			r = alog_merkle_verify_inclusion(h, index, size, leaf,
				(const unsigned char (*)[ALOG_HASH_LEN])proof,
				n_proof, root, &err);
		if (r < 0) {
			alog_err_prefix(&err, "inclusion proof of %" PRIu64, index);
			goto fail;
		}
	}
	for (i = 0; i < n; i++) {
		uint64_t old = 1 + rnd() % (size - 1);
		size_t n_proof = 0;
		int64_t t0 = now_ns();

		r = alog_store_prove_consistency(s, old, size, proof, &n_proof,
						 &err);
		con[i] = now_ns() - t0;
		if (r < 0) {
			alog_err_prefix(&err, "consistency proof from %" PRIu64, old);
			goto fail;
		}
		r = alog_store_root_at(s, old, old_root, &err);
		if (r == 0)
			r = alog_merkle_verify_consistency(h, old, size, old_root,
				root, (const unsigned char (*)[ALOG_HASH_LEN])proof,
				n_proof, &err);
		if (r < 0) {
			alog_err_prefix(&err, "consistency proof from %" PRIu64, old);
			goto fail;
		}
	}
	qsort(inc, n, sizeof(*inc), cmp_i64);
	qsort(con, n, sizeof(*con), cmp_i64);
	printf("size=%" PRIu64 " n=%" PRIu64 " inclusion_p50_us=%.1f "
	       "inclusion_p99_us=%.1f inclusion_max_us=%.1f "
	       "consistency_p50_us=%.1f consistency_p99_us=%.1f "
	       "consistency_max_us=%.1f\n",
	       size, n, pct_us(inc, n, 50), pct_us(inc, n, 99),
	       pct_us(inc, n, 100), pct_us(con, n, 50), pct_us(con, n, 99),
	       pct_us(con, n, 100));
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "bench_proofs: %s: %s\n", argv[1], err.msg);
out:
	free(inc);
	free(con);
	alog_hasher_free(h);
	alog_store_close(s);
	return rc;
}
