/*
 * merkle: the RFC 9162 section 2.1 Merkle tree hash (SPEC.md "Merkle
 * tree"): leaf = SHA-256(0x00 || input), node = SHA-256(0x01 || l || r),
 * the empty tree's hash SHA-256(""); inclusion and consistency proofs,
 * their generation over any source of complete-subtree hashes, and their
 * verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2).
 *
 * Pure code: no I/O. Proof generation asks a callback for hashes of
 * complete aligned subtrees [k*2^level, (k+1)*2^level), which the store
 * answers from its node table or by rehashing one group of records; so a
 * proof reads O(log n) subtree hashes.
 */
#ifndef ALOG_STORE_MERKLE_H
#define ALOG_STORE_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "store/err.h"

#define ALOG_HASH_LEN 32
/* Deepest tree: sizes are below 2^63, so a proof has at most 63 hashes
 * for inclusion and 2*63 for consistency (we bound both at 128). */
#define ALOG_MERKLE_PROOF_MAX 128

/* A reusable SHA-256 hasher (wraps one OpenSSL EVP_MD_CTX, so hashing
 * millions of leaves does not allocate per leaf). All-zero is not valid:
 * use alog_hasher_new. */
struct alog_hasher;

int alog_hasher_new(struct alog_hasher **out, struct alog_err *err);
void alog_hasher_free(struct alog_hasher *h);
/* SHA-256 of the concatenation of the given parts; h may be NULL. */
int alog_hasher_sha256(struct alog_hasher *h, const void *a, size_t a_len,
		       const void *b, size_t b_len,
		       unsigned char out[ALOG_HASH_LEN]);
/* Leaf and node hashes; h may be NULL (a one-off context is used). */
int alog_merkle_leaf(struct alog_hasher *h, const void *input, size_t len,
		     unsigned char out[ALOG_HASH_LEN]);
int alog_merkle_node(struct alog_hasher *h,
		     const unsigned char left[ALOG_HASH_LEN],
		     const unsigned char right[ALOG_HASH_LEN],
		     unsigned char out[ALOG_HASH_LEN]);

/*
 * Compact range: the roots of the complete subtrees that make up a tree of
 * `size` leaves (one per set bit of size, largest first), so leaves can be
 * appended one at a time and the root read at any moment. All-zero is the
 * empty tree.
 */
struct alog_merkle_range {
	uint64_t size;
	unsigned n;                                    /* popcount(size) */
	unsigned char hash[64][ALOG_HASH_LEN];         /* largest subtree first */
	unsigned char level[64];                       /* log2 of subtree size */
};

/*
 * Append one leaf hash. When `on_node` is non-NULL it is called for every
 * complete subtree this append completes (the leaf itself at level 0 and
 * each merge above it), with its level and its index k (it covers leaves
 * [k << level, (k+1) << level)); a negative return aborts with that code.
 */
typedef int (*alog_merkle_node_fn)(void *ctx, unsigned level, uint64_t k,
				   const unsigned char hash[ALOG_HASH_LEN]);
int alog_merkle_range_push(struct alog_merkle_range *r,
			   struct alog_hasher *h,
			   const unsigned char leaf[ALOG_HASH_LEN],
			   alog_merkle_node_fn on_node, void *ctx,
			   struct alog_err *err);
/* Root hash of the range (SHA-256("") when empty). */
int alog_merkle_range_root(const struct alog_merkle_range *r,
			   struct alog_hasher *h,
			   unsigned char out[ALOG_HASH_LEN]);

/*
 * Source of complete-subtree hashes for proof generation: fill out with the
 * hash of leaves [k << level, (k+1) << level). The generator only asks for
 * subtrees entirely inside the tree size it was given.
 */
typedef int (*alog_merkle_subtree_fn)(void *ctx, unsigned level, uint64_t k,
				      unsigned char out[ALOG_HASH_LEN],
				      struct alog_err *err);

/* Root of the first `size` leaves. */
int alog_merkle_root(alog_merkle_subtree_fn get, void *ctx,
		     struct alog_hasher *h, uint64_t size,
		     unsigned char out[ALOG_HASH_LEN], struct alog_err *err);

/* Inclusion proof of leaf `index` in the tree of `size` leaves (index <
 * size), leaf-sibling first, RFC 9162 section 2.1.3.1. *n_out set to the
 * number of hashes written to proof (at most ALOG_MERKLE_PROOF_MAX). */
int alog_merkle_prove_inclusion(alog_merkle_subtree_fn get, void *ctx,
				struct alog_hasher *h, uint64_t index,
				uint64_t size,
				unsigned char proof[][ALOG_HASH_LEN],
				size_t *n_out, struct alog_err *err);

/* Consistency proof between sizes old_size <= new_size, RFC 9162 section
 * 2.1.4.1. Empty when old_size is 0 or equals new_size. */
int alog_merkle_prove_consistency(alog_merkle_subtree_fn get, void *ctx,
				  struct alog_hasher *h, uint64_t old_size,
				  uint64_t new_size,
				  unsigned char proof[][ALOG_HASH_LEN],
				  size_t *n_out, struct alog_err *err);

/* RFC 9162 section 2.1.3.2. 0 when the proof verifies, ALOG_EVERIFY when it
 * does not (err says why), ALOG_EINVAL for index >= size. */
int alog_merkle_verify_inclusion(struct alog_hasher *h, uint64_t index,
				 uint64_t size,
				 const unsigned char leaf[ALOG_HASH_LEN],
				 const unsigned char proof[][ALOG_HASH_LEN],
				 size_t n_proof,
				 const unsigned char root[ALOG_HASH_LEN],
				 struct alog_err *err);

/* RFC 9162 section 2.1.4.2, including the trivial cases: old_size 0 (any
 * old root... must be the empty hash, proof empty) and old_size ==
 * new_size (proof empty, roots equal). */
int alog_merkle_verify_consistency(struct alog_hasher *h, uint64_t old_size,
				   uint64_t new_size,
				   const unsigned char old_root[ALOG_HASH_LEN],
				   const unsigned char new_root[ALOG_HASH_LEN],
				   const unsigned char proof[][ALOG_HASH_LEN],
				   size_t n_proof, struct alog_err *err);

#endif
