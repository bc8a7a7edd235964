/*
 * test_merkle: RFC 9162 section 2.1 hashing, compact range, proof
 * generation and verification (store/merkle.h).
 *
 * Published vectors: tests/vectors/rfc6962.json (V-MERKLE-1 leaf hashes,
 * V-MERKLE-2 roots of sizes 0..8, V-MERKLE-3 inclusion proofs, V-MERKLE-4
 * consistency proofs). Independent computations (Python hashlib, pasted
 * below): V-MERKLE-5 SHA-256("abc") (FIPS 180-2), V-MERKLE-6 roots of the
 * 37- and 70-leaf trees whose leaf i has the input be32(i).
 *
 * For larger trees the subtree source below computes MTH literally from
 * RFC 9162's recursive definition over an array of leaf hashes, and checks
 * that no request reaches past the tree size it serves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/bytes.h"
#include "store/merkle.h"
#include "testutil.h"

#define H ALOG_HASH_LEN
#define BIG 70 /* trees up to this size are checked exhaustively */

/* ---- helpers ------------------------------------------------------------ */

/* A tree of leaf hashes served as complete subtrees. */
struct tree {
	unsigned char (*leaf)[H];
	uint64_t size;     /* leaves the source serves; requests must fit */
	unsigned long calls;
	int fake;          /* answer without hashing (for huge trees) */
};

/* MTH(D[a:a+n]) straight from RFC 9162 2.1.1 (recursive, split at the
 * largest power of two below n). */
static void mth(struct alog_hasher *hs, unsigned char (*leaf)[H], uint64_t a,
		uint64_t n, unsigned char out[H])
{
	unsigned char l[H], r[H];
	uint64_t k = 1;

	assert_true(n > 0);
	if (n == 1) {
		memcpy(out, leaf[a], H);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	mth(hs, leaf, a, k, l);
	mth(hs, leaf, a + k, n - k, r);
	assert_int_equal(alog_merkle_node(hs, l, r, out), 0);
}

static struct alog_hasher *shared_hasher;

static int tree_get(void *ctx, unsigned level, uint64_t k,
		    unsigned char out[H], struct alog_err *err)
{
	struct tree *t = ctx;

	t->calls++;
	/* Never beyond the size: [k << level, (k + 1) << level) fits. */
	assert_true(level < 64);
	assert_true(k < (UINT64_MAX >> level));
	assert_true((k + 1) << level <= t->size);
	if (t->fake) {
		memset(out, 0, H);
		alog_put_be64(out, level);
		alog_put_be64(out + 8, k);
		return 0;
	}
	mth(shared_hasher, t->leaf, k << level, (uint64_t)1 << level, out);
	return 0;
}

static void root_of(unsigned char (*leaf)[H], uint64_t n, unsigned char out[H])
{
	if (n == 0)
		assert_int_equal(alog_hasher_sha256(shared_hasher, NULL, 0,
						    NULL, 0, out), 0);
	else
		mth(shared_hasher, leaf, 0, n, out);
}

/* Leaf i of the big test trees: input be32(i). */
static unsigned char (*big_leaves(void))[H]
{
	unsigned char (*leaf)[H] = calloc(BIG, H);
	unsigned char in[4];
	unsigned i;

	assert_non_null(leaf);
	for (i = 0; i < BIG; i++) {
		alog_put_be32(in, i);
		assert_int_equal(alog_merkle_leaf(shared_hasher, in, 4,
						  leaf[i]), 0);
	}
	return leaf;
}

struct vec {
	cJSON *j;
	unsigned char leaf[8][H];
	unsigned char root[9][H];
};

static void vec_load(struct vec *v)
{
	cJSON *hashes, *roots, *e;
	char key[4];
	int i;

	v->j = testutil_load_vector("rfc6962.json");
	hashes = cJSON_GetObjectItemCaseSensitive(v->j, "leaf_hashes");
	roots = cJSON_GetObjectItemCaseSensitive(v->j, "roots");
	assert_int_equal(cJSON_GetArraySize(hashes), 8);
	for (i = 0; i < 8; i++)
		testutil_unhex(cJSON_GetArrayItem(hashes, i)->valuestring,
			       v->leaf[i], H);
	for (i = 0; i <= 8; i++) {
		snprintf(key, sizeof(key), "%d", i);
		e = cJSON_GetObjectItemCaseSensitive(roots, key);
		assert_non_null(e);
		testutil_unhex(e->valuestring, v->root[i], H);
	}
}

/* Decode a JSON array of hex hashes; returns the count. */
static size_t proof_load(const cJSON *arr,
			 unsigned char proof[ALOG_MERKLE_PROOF_MAX][H])
{
	size_t n = 0;
	const cJSON *e;

	cJSON_ArrayForEach(e, arr) {
		assert_true(n < ALOG_MERKLE_PROOF_MAX);
		testutil_unhex(e->valuestring, proof[n++], H);
	}
	return n;
}

static int num(const cJSON *o, const char *k)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_true(cJSON_IsNumber(e));
	return e->valueint;
}

/* ---- hashing ------------------------------------------------------------ */

static void test_merkle_hasher_computes_fips_180_sha256_of_abc(void **state)
{
	/* V-MERKLE-5: SHA-256("abc"), also split across both parts. */
	static const char want[] =
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	unsigned char exp[H], out[H];

	testutil_unhex(want, exp, H);
	assert_int_equal(alog_hasher_sha256(shared_hasher, "abc", 3, NULL, 0,
					    out), 0);
	assert_memory_equal(out, exp, H);
	assert_int_equal(alog_hasher_sha256(shared_hasher, "a", 1, "bc", 2,
					    out), 0);
	assert_memory_equal(out, exp, H);
}

static void test_merkle_leaf_hashes_match_rfc6962_vectors(void **state)
{
	/* V-MERKLE-1: rfc6962.json leaf_inputs_hex -> leaf_hashes, with the
	 * shared hasher and with a one-off one (h = NULL). */
	struct vec v;
	cJSON *inputs;
	unsigned char in[16], out[H];
	const char *hex;
	size_t len;
	int i;

	vec_load(&v);
	inputs = cJSON_GetObjectItemCaseSensitive(v.j, "leaf_inputs_hex");
	assert_int_equal(cJSON_GetArraySize(inputs), 8);
	for (i = 0; i < 8; i++) {
		hex = cJSON_GetArrayItem(inputs, i)->valuestring;
		len = strlen(hex) / 2;
		assert_true(len <= sizeof(in));
		testutil_unhex(hex, in, len);
		assert_int_equal(alog_merkle_leaf(shared_hasher, in, len, out),
				 0);
		assert_memory_equal(out, v.leaf[i], H);
		assert_int_equal(alog_merkle_leaf(NULL, in, len, out), 0);
		assert_memory_equal(out, v.leaf[i], H);
	}
	/* Node hash: rfc6962.json roots["2"] = node(leaf 0, leaf 1). */
	assert_int_equal(alog_merkle_node(NULL, v.leaf[0], v.leaf[1], out), 0);
	assert_memory_equal(out, v.root[2], H);
	cJSON_Delete(v.j);
}

/* ---- roots -------------------------------------------------------------- */

static void test_merkle_compact_range_roots_match_rfc6962_vectors(void **state)
{
	/* V-MERKLE-2: roots["0".."8"], reading the root after each push. */
	struct alog_merkle_range r;
	unsigned char out[H];
	struct vec v;
	int i;

	vec_load(&v);
	memset(&r, 0, sizeof(r));
	for (i = 0; i <= 8; i++) {
		if (i > 0)
			assert_int_equal(alog_merkle_range_push(&r, shared_hasher,
								v.leaf[i - 1],
								NULL, NULL,
								NULL), 0);
		assert_int_equal(r.size, (uint64_t)i);
		assert_int_equal(alog_merkle_range_root(&r, shared_hasher, out),
				 0);
		assert_memory_equal(out, v.root[i], H);
		assert_int_equal(alog_merkle_range_root(&r, NULL, out), 0);
		assert_memory_equal(out, v.root[i], H);
	}
	cJSON_Delete(v.j);
}

static void test_merkle_root_over_subtree_source_matches_rfc6962_vectors(
	void **state)
{
	/* V-MERKLE-2 again, through alog_merkle_root. */
	struct tree t = { 0 };
	unsigned char out[H];
	struct vec v;
	int i;

	vec_load(&v);
	t.leaf = v.leaf;
	for (i = 0; i <= 8; i++) {
		t.size = (uint64_t)i;
		assert_int_equal(alog_merkle_root(tree_get, &t, shared_hasher,
						  t.size, out, NULL), 0);
		assert_memory_equal(out, v.root[i], H);
	}
	cJSON_Delete(v.j);
}

static void test_merkle_roots_of_37_and_70_leaves_match_hashlib(void **state)
{
	/* V-MERKLE-6: Python hashlib, leaf i = be32(i). */
	static const char want37[] =
		"fe4e5591a84b05cb9054a48710310af7bef9546bd09df24e902a0dad6148a0ec";
	static const char want70[] =
		"11f946924f15a5393e1ae038f53cf09a2d45373fc434a1f8b3e13f51b6bb5077";
	unsigned char (*leaf)[H] = big_leaves();
	struct alog_merkle_range r;
	struct tree t = { 0 };
	unsigned char exp[H], out[H];
	int i;

	memset(&r, 0, sizeof(r));
	t.leaf = leaf;
	for (i = 0; i < BIG; i++) {
		assert_int_equal(alog_merkle_range_push(&r, shared_hasher,
							leaf[i], NULL, NULL,
							NULL), 0);
		if (i + 1 == 37) {
			testutil_unhex(want37, exp, H);
			assert_int_equal(alog_merkle_range_root(&r, NULL, out), 0);
			assert_memory_equal(out, exp, H);
			t.size = 37;
			assert_int_equal(alog_merkle_root(tree_get, &t, NULL, 37,
							  out, NULL), 0);
			assert_memory_equal(out, exp, H);
		}
	}
	testutil_unhex(want70, exp, H);
	assert_int_equal(alog_merkle_range_root(&r, NULL, out), 0);
	assert_memory_equal(out, exp, H);
	t.size = BIG;
	assert_int_equal(alog_merkle_root(tree_get, &t, NULL, BIG, out, NULL),
			 0);
	assert_memory_equal(out, exp, H);
	free(leaf);
}

/* ---- compact range callbacks -------------------------------------------- */

struct node_log {
	unsigned char (*leaf)[H];
	uint64_t size;            /* leaves pushed so far, including this one */
	unsigned long calls;
	unsigned char seen[7][BIG]; /* [level][k] */
	int refuse_level;         /* refuse a node at this level (-1: never) */
};

static int node_seen(void *ctx, unsigned level, uint64_t k,
		     const unsigned char hash[H])
{
	struct node_log *lg = ctx;
	unsigned char exp[H];

	if ((int)level == lg->refuse_level)
		return ALOG_EIO;
	lg->calls++;
	assert_true(level < 7);
	assert_true(k < BIG);
	assert_true((k + 1) << level <= lg->size);
	assert_int_equal(lg->seen[level][k], 0);
	lg->seen[level][k] = 1;
	mth(shared_hasher, lg->leaf, k << level, (uint64_t)1 << level, exp);
	assert_memory_equal(hash, exp, H);
	return 0;
}

static void test_merkle_on_node_is_called_once_per_complete_subtree(
	void **state)
{
	unsigned char (*leaf)[H] = big_leaves();
	struct alog_merkle_range r;
	struct node_log *lg = calloc(1, sizeof(*lg));
	unsigned char exp[H], out[H];
	unsigned level;
	uint64_t k;
	int i;

	assert_non_null(lg);
	lg->leaf = leaf;
	lg->refuse_level = -1;
	memset(&r, 0, sizeof(r));
	for (i = 0; i < BIG; i++) {
		lg->size = (uint64_t)i + 1;
		assert_int_equal(alog_merkle_range_push(&r, shared_hasher,
							leaf[i], node_seen, lg,
							NULL), 0);
		assert_int_equal(alog_merkle_range_root(&r, shared_hasher, out),
				 0);
		root_of(leaf, lg->size, exp);
		assert_memory_equal(out, exp, H);
	}
	/* 70 leaves have 70 + 35 + 17 + 8 + 4 + 2 + 1 = 137 complete aligned
	 * subtrees (levels 0..6), i.e. 2*70 - popcount(70) = 140 - 3. */
	assert_int_equal(lg->calls, 137);
	for (level = 0; level < 7; level++)
		for (k = 0; k < BIG; k++)
			assert_int_equal(lg->seen[level][k],
					 ((k + 1) << level) <= BIG);
	/* 70 = 64 + 4 + 2: three subtrees, largest first. */
	assert_int_equal(r.n, 3);
	assert_int_equal(r.level[0], 6);
	assert_int_equal(r.level[1], 2);
	assert_int_equal(r.level[2], 1);
	free(lg);
	free(leaf);
}

static void test_merkle_refused_node_leaves_compact_range_unchanged(
	void **state)
{
	unsigned char (*leaf)[H] = big_leaves();
	struct alog_merkle_range r, before;
	struct node_log *lg = calloc(1, sizeof(*lg));
	struct alog_err err = { 0 };
	int i;

	assert_non_null(lg);
	lg->leaf = leaf;
	lg->refuse_level = -1;
	memset(&r, 0, sizeof(r));
	for (i = 0; i < 3; i++) {
		lg->size = (uint64_t)i + 1;
		assert_int_equal(alog_merkle_range_push(&r, shared_hasher,
							leaf[i], node_seen, lg,
							NULL), 0);
	}
	/* Leaf 3 completes subtrees at levels 0, 1, 2: refuse level 2. */
	before = r;
	lg->size = 4;
	lg->refuse_level = 2;
	assert_int_equal(alog_merkle_range_push(&r, shared_hasher, leaf[3],
						node_seen, lg, &err),
			 ALOG_EIO);
	assert_int_equal(err.code, ALOG_EIO);
	assert_non_null(strstr(err.msg, "level 2"));
	assert_memory_equal(&r, &before, sizeof(r));
	free(lg);
	free(leaf);
}

static void test_merkle_compact_range_rejects_inconsistent_state(void **state)
{
	struct alog_merkle_range r;
	struct alog_err err = { 0 };
	unsigned char leaf[H] = { 0 }, out[H];

	memset(&r, 0, sizeof(r));
	r.size = 3; /* needs two subtrees, claims none */
	assert_int_equal(alog_merkle_range_push(&r, NULL, leaf, NULL, NULL,
						&err), ALOG_EINVAL);
	assert_int_equal(alog_merkle_range_root(&r, NULL, out), ALOG_EINVAL);
	r.n = 2;
	r.level[0] = 0; /* must be 1 then 0 */
	r.level[1] = 1;
	assert_int_equal(alog_merkle_range_root(&r, NULL, out), ALOG_EINVAL);
}

/* ---- published proofs --------------------------------------------------- */

static void test_merkle_published_inclusion_proofs_are_generated_and_verify(
	void **state)
{
	/* V-MERKLE-3: every rfc6962.json inclusion entry. */
	unsigned char want[ALOG_MERKLE_PROOF_MAX][H];
	unsigned char got[ALOG_MERKLE_PROOF_MAX][H];
	struct tree t = { 0 };
	const cJSON *e;
	size_t n_want, n_got;
	int index, size, count = 0;
	struct vec v;

	vec_load(&v);
	t.leaf = v.leaf;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(v.j,
								"inclusion")) {
		index = num(e, "index");
		size = num(e, "size");
		n_want = proof_load(cJSON_GetObjectItemCaseSensitive(e, "proof"),
				    want);
		t.size = (uint64_t)size;
		assert_int_equal(alog_merkle_prove_inclusion(
					 tree_get, &t, shared_hasher,
					 (uint64_t)index, (uint64_t)size, got,
					 &n_got, NULL), 0);
		assert_int_equal(n_got, n_want);
		if (n_want)
			assert_memory_equal(got, want, n_want * H);
		assert_int_equal(alog_merkle_verify_inclusion(
					 shared_hasher, (uint64_t)index,
					 (uint64_t)size, v.leaf[index],
					 (const unsigned char(*)[H])want,
					 n_want, v.root[size], NULL), 0);
		count++;
	}
	assert_int_equal(count, 36);
	cJSON_Delete(v.j);
}

static void test_merkle_published_consistency_proofs_are_generated_and_verify(
	void **state)
{
	/* V-MERKLE-4: every rfc6962.json consistency entry. */
	unsigned char want[ALOG_MERKLE_PROOF_MAX][H];
	unsigned char got[ALOG_MERKLE_PROOF_MAX][H];
	struct tree t = { 0 };
	const cJSON *e;
	size_t n_want, n_got;
	int old, new, count = 0;
	struct vec v;

	vec_load(&v);
	t.leaf = v.leaf;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(v.j,
								"consistency")) {
		old = num(e, "old");
		new = num(e, "new");
		n_want = proof_load(cJSON_GetObjectItemCaseSensitive(e, "proof"),
				    want);
		t.size = (uint64_t)new;
		assert_int_equal(alog_merkle_prove_consistency(
					 tree_get, &t, shared_hasher,
					 (uint64_t)old, (uint64_t)new, got,
					 &n_got, NULL), 0);
		assert_int_equal(n_got, n_want);
		if (n_want)
			assert_memory_equal(got, want, n_want * H);
		assert_int_equal(alog_merkle_verify_consistency(
					 shared_hasher, (uint64_t)old,
					 (uint64_t)new, v.root[old],
					 v.root[new],
					 (const unsigned char(*)[H])want,
					 n_want, NULL), 0);
		count++;
	}
	assert_int_equal(count, 36);
	cJSON_Delete(v.j);
}

/* ---- exhaustive small trees --------------------------------------------- */

/* The error of the last incl_ok or cons_ok call. */
static struct alog_err last;

static int incl_ok(uint64_t index, uint64_t size, const unsigned char leaf[H],
		   unsigned char proof[][H], size_t n, const unsigned char root[H])
{
	int rc;

	alog_err_clear(&last);
	rc = alog_merkle_verify_inclusion(shared_hasher, index, size, leaf,
					  (const unsigned char(*)[H])proof, n,
					  root, &last);
	if (rc < 0)
		assert_int_equal(last.code, rc);
	return rc;
}

static void test_merkle_inclusion_proofs_verify_for_all_sizes_to_70_and_any_change_fails(
	void **state)
{
	unsigned char (*leaf)[H] = big_leaves();
	unsigned char (*root)[H] = calloc(BIG + 2, H);
	unsigned char proof[ALOG_MERKLE_PROOF_MAX + 1][H];
	struct tree t = { 0 };
	uint64_t size, index, j;
	size_t n, i;

	assert_non_null(root);
	t.leaf = leaf;
	for (size = 0; size <= BIG; size++)
		root_of(leaf, size, root[size]);
	for (size = 1; size <= BIG; size++) {
		t.size = size;
		for (index = 0; index < size; index++) {
			assert_int_equal(alog_merkle_prove_inclusion(
						 tree_get, &t, shared_hasher,
						 index, size, proof, &n, NULL),
					 0);
			assert_true(n <= ALOG_MERKLE_PROOF_MAX);
			assert_int_equal(incl_ok(index, size, leaf[index], proof,
						 n, root[size]), 0);
			/* Any changed hash byte: each proof hash, the leaf,
			 * the root. */
			for (i = 0; i < n; i++) {
				proof[i][i % H] ^= 0x01;
				assert_int_equal(incl_ok(index, size,
							 leaf[index], proof, n,
							 root[size]),
						 ALOG_EVERIFY);
				proof[i][i % H] ^= 0x01;
			}
			assert_int_equal(incl_ok(index, size,
						 leaf[(index + 1) % size],
						 proof, n, root[size]),
					 size == 1 ? 0 : ALOG_EVERIFY);
			assert_int_equal(incl_ok(index, size, leaf[index], proof,
						 n, root[size - 1]),
					 ALOG_EVERIFY);
			/* Any other index of the same tree. */
			for (j = 0; j < size; j++)
				if (j != index)
					assert_int_equal(
						incl_ok(j, size, leaf[index],
							proof, n, root[size]),
						ALOG_EVERIFY);
			assert_int_equal(incl_ok(size, size, leaf[index], proof,
						 n, root[size]),
					 ALOG_EINVAL);
			/* Another size, against that size's root (the size is
			 * bound to its root by the checkpoint). */
			if (size - 1 > index)
				assert_int_equal(incl_ok(index, size - 1,
							 leaf[index], proof, n,
							 root[size - 1]),
						 ALOG_EVERIFY);
			if (size < BIG)
				assert_int_equal(incl_ok(index, size + 1,
							 leaf[index], proof, n,
							 root[size + 1]),
						 ALOG_EVERIFY);
			/* Truncated and extended. */
			if (n > 0) {
				assert_int_equal(incl_ok(index, size,
							 leaf[index], proof,
							 n - 1, root[size]),
						 ALOG_EVERIFY);
				assert_non_null(strstr(last.msg, "too short"));
			}
			memset(proof[n], 0, H);
			assert_int_equal(incl_ok(index, size, leaf[index], proof,
						 n + 1, root[size]),
					 ALOG_EVERIFY);
			assert_non_null(strstr(last.msg, "too long"));
			memcpy(proof[n], n ? proof[n - 1] : leaf[index], H);
			assert_int_equal(incl_ok(index, size, leaf[index], proof,
						 n + 1, root[size]),
					 ALOG_EVERIFY);
		}
	}
	free(root);
	free(leaf);
}

static int cons_ok(uint64_t old, uint64_t new, const unsigned char old_root[H],
		   const unsigned char new_root[H], unsigned char proof[][H],
		   size_t n)
{
	int rc;

	alog_err_clear(&last);
	rc = alog_merkle_verify_consistency(shared_hasher, old, new, old_root,
					    new_root,
					    (const unsigned char(*)[H])proof, n,
					    &last);
	if (rc < 0)
		assert_int_equal(last.code, rc);
	return rc;
}

static void test_merkle_consistency_proofs_verify_for_all_sizes_to_70_and_any_change_fails(
	void **state)
{
	unsigned char (*leaf)[H] = big_leaves();
	unsigned char (*root)[H] = calloc(BIG + 2, H);
	unsigned char proof[ALOG_MERKLE_PROOF_MAX + 1][H];
	struct tree t = { 0 };
	uint64_t old, new;
	size_t n, i;

	assert_non_null(root);
	t.leaf = leaf;
	for (new = 0; new <= BIG; new++)
		root_of(leaf, new, root[new]);
	for (new = 1; new <= BIG; new++) {
		t.size = new;
		for (old = 1; old <= new; old++) {
			assert_int_equal(alog_merkle_prove_consistency(
						 tree_get, &t, shared_hasher,
						 old, new, proof, &n, NULL),
					 0);
			assert_true(n <= ALOG_MERKLE_PROOF_MAX);
			assert_int_equal(cons_ok(old, new, root[old], root[new],
						 proof, n), 0);
			if (old == new) {
				assert_int_equal(n, 0);
				assert_int_equal(cons_ok(old, new, root[old],
							 root[new - 1], proof,
							 0), ALOG_EVERIFY);
				continue;
			}
			for (i = 0; i < n; i++) {
				proof[i][(i * 7) % H] ^= 0x80;
				assert_int_equal(cons_ok(old, new, root[old],
							 root[new], proof, n),
						 ALOG_EVERIFY);
				proof[i][(i * 7) % H] ^= 0x80;
			}
			assert_int_equal(cons_ok(old, new, root[old - 1],
						 root[new], proof, n),
					 ALOG_EVERIFY);
			assert_int_equal(cons_ok(old, new, root[old],
						 root[new - 1], proof, n),
					 ALOG_EVERIFY);
			/* Other sizes, against their own roots. */
			if (old > 1)
				assert_int_equal(cons_ok(old - 1, new,
							 root[old - 1],
							 root[new], proof, n),
						 ALOG_EVERIFY);
			if (old + 1 < new)
				assert_int_equal(cons_ok(old + 1, new,
							 root[old + 1],
							 root[new], proof, n),
						 ALOG_EVERIFY);
			if (new - 1 > old)
				assert_int_equal(cons_ok(old, new - 1,
							 root[old],
							 root[new - 1], proof,
							 n),
						 ALOG_EVERIFY);
			if (new < BIG)
				assert_int_equal(cons_ok(old, new + 1,
							 root[old],
							 root[new + 1], proof,
							 n),
						 ALOG_EVERIFY);
			assert_int_equal(cons_ok(new, old, root[new], root[old],
						 proof, n), ALOG_EINVAL);
			/* Truncated (n >= 1 here) and extended. */
			assert_int_equal(cons_ok(old, new, root[old], root[new],
						 proof, n - 1), ALOG_EVERIFY);
			assert_non_null(strstr(last.msg, n > 1 ? "too short"
							       : "is empty"));
			memset(proof[n], 0, H);
			assert_int_equal(cons_ok(old, new, root[old], root[new],
						 proof, n + 1), ALOG_EVERIFY);
			assert_non_null(strstr(last.msg, "too long"));
			memcpy(proof[n], proof[n - 1], H);
			assert_int_equal(cons_ok(old, new, root[old], root[new],
						 proof, n + 1), ALOG_EVERIFY);
		}
	}
	free(root);
	free(leaf);
}

/* ---- trivial cases and limits ------------------------------------------- */

static void test_merkle_consistency_proof_is_empty_when_old_is_zero_or_equal(
	void **state)
{
	unsigned char (*leaf)[H] = big_leaves();
	unsigned char proof[ALOG_MERKLE_PROOF_MAX][H];
	unsigned char empty[H], r5[H];
	struct tree t = { 0 };
	size_t n = 99;

	t.leaf = leaf;
	t.size = 5;
	root_of(leaf, 0, empty);
	root_of(leaf, 5, r5);
	assert_int_equal(alog_merkle_prove_consistency(tree_get, &t, NULL, 0, 5,
						       proof, &n, NULL), 0);
	assert_int_equal(n, 0);
	n = 99;
	assert_int_equal(alog_merkle_prove_consistency(tree_get, &t, NULL, 5, 5,
						       proof, &n, NULL), 0);
	assert_int_equal(n, 0);
	assert_int_equal(t.calls, 0);
	n = 99;
	t.size = 0;
	assert_int_equal(alog_merkle_prove_consistency(tree_get, &t, NULL, 0, 0,
						       proof, &n, NULL), 0);
	assert_int_equal(n, 0);
	/* Old size 0: the old root must be the empty tree's hash. */
	assert_int_equal(alog_merkle_verify_consistency(NULL, 0, 5, empty, r5,
							NULL, 0, NULL), 0);
	assert_int_equal(alog_merkle_verify_consistency(NULL, 0, 5, r5, r5,
							NULL, 0, NULL),
			 ALOG_EVERIFY);
	assert_int_equal(alog_merkle_verify_consistency(NULL, 0, 0, empty,
							empty, NULL, 0, NULL),
			 0);
	/* A non-empty proof in a trivial case is refused. */
	memcpy(proof[0], r5, H);
	assert_int_equal(alog_merkle_verify_consistency(
				 NULL, 5, 5, r5, r5,
				 (const unsigned char(*)[H])proof, 1, NULL),
			 ALOG_EVERIFY);
	assert_int_equal(alog_merkle_verify_consistency(
				 NULL, 0, 5, empty, r5,
				 (const unsigned char(*)[H])proof, 1, NULL),
			 ALOG_EVERIFY);
	free(leaf);
}

static void test_merkle_verify_consistency_of_empty_proof_with_different_roots_fails(
	void **state)
{
	unsigned char (*leaf)[H] = big_leaves();
	unsigned char r4[H], r5[H];
	struct alog_err err = { 0 };

	root_of(leaf, 4, r4);
	root_of(leaf, 5, r5);
	/* Equal sizes, different roots. */
	assert_int_equal(alog_merkle_verify_consistency(NULL, 5, 5, r4, r5,
							NULL, 0, &err),
			 ALOG_EVERIFY);
	assert_int_equal(err.code, ALOG_EVERIFY);
	/* Different sizes: an empty proof never suffices. */
	assert_int_equal(alog_merkle_verify_consistency(NULL, 4, 5, r4, r5,
							NULL, 0, NULL),
			 ALOG_EVERIFY);
	free(leaf);
}

static void test_merkle_verify_rejects_proofs_longer_than_the_limit(
	void **state)
{
	static unsigned char proof[ALOG_MERKLE_PROOF_MAX + 1][H];
	unsigned char leaf[H] = { 0 }, root[H] = { 0 };
	struct alog_err err = { 0 };

	assert_int_equal(alog_merkle_verify_inclusion(
				 NULL, 0, UINT64_MAX, leaf,
				 (const unsigned char(*)[H])proof,
				 ALOG_MERKLE_PROOF_MAX + 1, root, &err),
			 ALOG_EVERIFY);
	assert_non_null(strstr(err.msg, "limit"));
	assert_int_equal(alog_merkle_verify_consistency(
				 NULL, 1, UINT64_MAX, leaf, root,
				 (const unsigned char(*)[H])proof,
				 ALOG_MERKLE_PROOF_MAX + 1, NULL),
			 ALOG_EVERIFY);
	/* Index not below size is an argument error, not a failed proof. */
	assert_int_equal(alog_merkle_verify_inclusion(
				 NULL, 7, 7, leaf,
				 (const unsigned char(*)[H])proof, 3, root,
				 NULL), ALOG_EINVAL);
}

static void test_merkle_prove_rejects_index_not_below_size_and_old_above_new(
	void **state)
{
	unsigned char proof[ALOG_MERKLE_PROOF_MAX][H];
	struct tree t = { 0 };
	struct alog_err err = { 0 };
	size_t n = 99;

	t.fake = 1;
	t.size = 5;
	assert_int_equal(alog_merkle_prove_inclusion(tree_get, &t, NULL, 5, 5,
						     proof, &n, &err),
			 ALOG_EINVAL);
	assert_int_equal(n, 0);
	assert_int_equal(alog_merkle_prove_inclusion(tree_get, &t, NULL, 0, 0,
						     proof, &n, NULL),
			 ALOG_EINVAL);
	assert_int_equal(alog_merkle_prove_consistency(tree_get, &t, NULL, 6, 5,
						       proof, &n, NULL),
			 ALOG_EINVAL);
	assert_int_equal(t.calls, 0);
}

static int failing_get(void *ctx, unsigned level, uint64_t k,
		       unsigned char out[H], struct alog_err *err)
{
	return alog_err_set(err, ALOG_ECORRUPT, "node table entry is bad");
}

static void test_merkle_subtree_source_error_passes_up_with_locator(
	void **state)
{
	unsigned char proof[ALOG_MERKLE_PROOF_MAX][H], out[H];
	struct alog_err err = { 0 };
	size_t n = 99;

	assert_int_equal(alog_merkle_prove_inclusion(failing_get, NULL, NULL, 2,
						     6, proof, &n, &err),
			 ALOG_ECORRUPT);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err.msg, "merkle subtree level"));
	assert_non_null(strstr(err.msg, "node table entry is bad"));
	assert_int_equal(alog_merkle_root(failing_get, NULL, NULL, 6, out,
					  NULL), ALOG_ECORRUPT);
	assert_int_equal(alog_merkle_prove_consistency(failing_get, NULL, NULL,
						       3, 6, proof, &n, NULL),
			 ALOG_ECORRUPT);
}

/* ---- cost --------------------------------------------------------------- */

static void test_merkle_proofs_at_one_million_leaves_read_logarithmically_many_subtrees(
	void **state)
{
	/* 1,000,000 < 2^20: 20 levels. The bound 2*64 is the brief's
	 * O(log n) ceiling; the real counts are far lower. */
	unsigned char proof[ALOG_MERKLE_PROOF_MAX][H], out[H];
	struct tree t = { 0 };
	size_t n;

	t.fake = 1;
	t.size = 1000000;
	assert_int_equal(alog_merkle_prove_inclusion(tree_get, &t, NULL,
						     500001, t.size, proof, &n,
						     NULL), 0);
	assert_int_equal(n, 20);
	assert_true(t.calls <= 2 * 64);
	assert_true(t.calls <= 20 + 7); /* depth + popcount(10^6) */

	t.calls = 0;
	assert_int_equal(alog_merkle_prove_consistency(tree_get, &t, NULL,
						       500001, t.size, proof,
						       &n, NULL), 0);
	assert_true(n <= 21);
	assert_true(t.calls <= 2 * 64);
	assert_true(t.calls <= 20 + 7 + 1);

	t.calls = 0;
	assert_int_equal(alog_merkle_root(tree_get, &t, NULL, t.size, out,
					  NULL), 0);
	assert_int_equal(t.calls, 7); /* one per set bit of 1,000,000 */
}

static int group_setup(void **state)
{
	return alog_hasher_new(&shared_hasher, NULL) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	alog_hasher_free(shared_hasher);
	shared_hasher = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merkle_hasher_computes_fips_180_sha256_of_abc),
		cmocka_unit_test(test_merkle_leaf_hashes_match_rfc6962_vectors),
		cmocka_unit_test(test_merkle_compact_range_roots_match_rfc6962_vectors),
		cmocka_unit_test(test_merkle_root_over_subtree_source_matches_rfc6962_vectors),
		cmocka_unit_test(test_merkle_roots_of_37_and_70_leaves_match_hashlib),
		cmocka_unit_test(test_merkle_on_node_is_called_once_per_complete_subtree),
		cmocka_unit_test(test_merkle_refused_node_leaves_compact_range_unchanged),
		cmocka_unit_test(test_merkle_compact_range_rejects_inconsistent_state),
		cmocka_unit_test(test_merkle_published_inclusion_proofs_are_generated_and_verify),
		cmocka_unit_test(test_merkle_published_consistency_proofs_are_generated_and_verify),
		cmocka_unit_test(test_merkle_inclusion_proofs_verify_for_all_sizes_to_70_and_any_change_fails),
		cmocka_unit_test(test_merkle_consistency_proofs_verify_for_all_sizes_to_70_and_any_change_fails),
		cmocka_unit_test(test_merkle_consistency_proof_is_empty_when_old_is_zero_or_equal),
		cmocka_unit_test(test_merkle_verify_consistency_of_empty_proof_with_different_roots_fails),
		cmocka_unit_test(test_merkle_verify_rejects_proofs_longer_than_the_limit),
		cmocka_unit_test(test_merkle_prove_rejects_index_not_below_size_and_old_above_new),
		cmocka_unit_test(test_merkle_subtree_source_error_passes_up_with_locator),
		cmocka_unit_test(test_merkle_proofs_at_one_million_leaves_read_logarithmically_many_subtrees),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
