/*
 * merkle: see merkle.h. RFC 9162 section 2.1 (SPEC.md "Merkle tree").
 *
 * Every node of the tree over leaves [0, n) covers a range [a, b) where a
 * is a multiple of the smallest power of two >= b - a (the root [0, n)
 * trivially; a left child [a, a + k) and a right child [a + k, b) keep the
 * property because k is the largest power of two below b - a). Such a
 * range splits into complete aligned subtrees, one per set bit of b - a,
 * largest first, and its hash is those subtree hashes folded from the
 * right (smallest first). Proof generation walks from the root down and
 * asks the subtree callback only for such pieces, so every request lies
 * inside [0, size) and a proof costs O(log n) requests.
 *
 * The OpenSSL error queue is translated (and emptied) here.
 *
 * Digests use OpenSSL's low-level SHA256_* functions, deprecated in 3.0
 * but the same code the default provider runs: a digest through EVP
 * costs a provider dispatch and a context (re)initialisation each time,
 * which at one leaf and one node per record is a good part of verify's
 * and ingest's hashing time (SHA-256 itself uses the CPU's SHA
 * extensions where present either way).
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "store/merkle.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/sha.h>

#include "store/bytes.h"

struct alog_hasher {
	SHA256_CTX ctx; /* reinitialised for each digest */
};

_Static_assert(SHA256_DIGEST_LENGTH == ALOG_HASH_LEN, "SHA-256 digest size");

/* One input to a digest. */
struct part {
	const void *p;
	size_t len;
};

/* Deepest tree: n < 2^64, so a root-to-leaf path has at most 64 nodes. */
#define TREE_DEPTH_MAX 64

/* Take the oldest OpenSSL error as text and empty the queue. */
static int crypto_fail(struct alog_err *err, const char *what)
{
	char text[256];
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, text, sizeof(text));
	else
		snprintf(text, sizeof(text), "no detail");
	ERR_clear_error();
	return alog_err_sys(err, ALOG_ECRYPTO, (int)(e & 0x7fffffff),
			    "%s failed: %s", what, text);
}

int alog_hasher_new(struct alog_hasher **out, struct alog_err *err)
{
	struct alog_hasher *h;

	*out = NULL;
	h = OPENSSL_zalloc(sizeof(*h));
	if (!h)
		return alog_err_set(err, ALOG_ENOMEM,
				    "out of memory allocating a hasher");
	*out = h;
	return 0;
}

void alog_hasher_free(struct alog_hasher *h)
{
	if (!h)
		return;
	OPENSSL_clear_free(h, sizeof(*h));
}

static int digest(struct alog_hasher *h, const struct part *parts,
		  size_t n_parts, unsigned char out[ALOG_HASH_LEN],
		  struct alog_err *err)
{
	size_t i;

	if (SHA256_Init(&h->ctx) != 1)
		return crypto_fail(err, "sha-256 init");
	for (i = 0; i < n_parts; i++) {
		/* Skip empty parts: their pointer may be NULL. */
		if (parts[i].len &&
		    SHA256_Update(&h->ctx, parts[i].p, parts[i].len) != 1)
			return crypto_fail(err, "sha-256 update");
	}
	if (SHA256_Final(out, &h->ctx) != 1)
		return crypto_fail(err, "sha-256 final");
	return 0;
}

/* Use h, or a one-off hasher in *tmp when h is NULL (caller frees *tmp). */
static int hasher_get(struct alog_hasher *h, struct alog_hasher **tmp,
		      struct alog_hasher **use, struct alog_err *err)
{
	int rc;

	*tmp = NULL;
	if (h) {
		*use = h;
		return 0;
	}
	rc = alog_hasher_new(tmp, err);
	if (rc < 0)
		return rc;
	*use = *tmp;
	return 0;
}

int alog_hasher_sha256(struct alog_hasher *h, const void *a, size_t a_len,
		       const void *b, size_t b_len,
		       unsigned char out[ALOG_HASH_LEN])
{
	struct part parts[2] = { { a, a_len }, { b, b_len } };
	struct alog_hasher *tmp, *use;
	int rc;

	rc = hasher_get(h, &tmp, &use, NULL);
	if (rc < 0)
		return rc;
	rc = digest(use, parts, 2, out, NULL);
	alog_hasher_free(tmp);
	return rc;
}

static int leaf_hash(struct alog_hasher *h, const void *input, size_t len,
		     unsigned char out[ALOG_HASH_LEN], struct alog_err *err)
{
	static const unsigned char prefix = 0x00;
	struct part parts[2] = { { &prefix, 1 }, { input, len } };

	return digest(h, parts, 2, out, err);
}

static int node_hash(struct alog_hasher *h,
		     const unsigned char left[ALOG_HASH_LEN],
		     const unsigned char right[ALOG_HASH_LEN],
		     unsigned char out[ALOG_HASH_LEN], struct alog_err *err)
{
	static const unsigned char prefix = 0x01;
	struct part parts[3] = {
		{ &prefix, 1 }, { left, ALOG_HASH_LEN }, { right, ALOG_HASH_LEN }
	};

	/* out may alias left or right: the digest reads both before
	 * SHA256_Final writes out. */
	return digest(h, parts, 3, out, err);
}

int alog_merkle_leaf(struct alog_hasher *h, const void *input, size_t len,
		     unsigned char out[ALOG_HASH_LEN])
{
	struct alog_hasher *tmp, *use;
	int rc;

	rc = hasher_get(h, &tmp, &use, NULL);
	if (rc < 0)
		return rc;
	rc = leaf_hash(use, input, len, out, NULL);
	alog_hasher_free(tmp);
	return rc;
}

int alog_merkle_node(struct alog_hasher *h,
		     const unsigned char left[ALOG_HASH_LEN],
		     const unsigned char right[ALOG_HASH_LEN],
		     unsigned char out[ALOG_HASH_LEN])
{
	struct alog_hasher *tmp, *use;
	int rc;

	rc = hasher_get(h, &tmp, &use, NULL);
	if (rc < 0)
		return rc;
	rc = node_hash(use, left, right, out, NULL);
	alog_hasher_free(tmp);
	return rc;
}

static int empty_hash(struct alog_hasher *h, unsigned char out[ALOG_HASH_LEN],
		      struct alog_err *err)
{
	return digest(h, NULL, 0, out, err);
}

/* popcount without compiler extensions in the interface. */
static unsigned bit_count(uint64_t v)
{
	unsigned n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

/* floor(log2(v)) for v > 0. */
static unsigned log2_floor(uint64_t v)
{
	unsigned l = 0;

	while (v >>= 1)
		l++;
	return l;
}

/* Largest power of two strictly below n (n >= 2): RFC 9162's k. */
static uint64_t split_point(uint64_t n)
{
	return (uint64_t)1 << log2_floor(n - 1);
}

/* ---- compact range ---------------------------------------------------- */

static int range_check(const struct alog_merkle_range *r,
		       struct alog_err *err)
{
	unsigned i;

	/* The struct may come from a caller's storage: never index past
	 * hash[] because of a stale n. */
	if (r->n > 64 || r->n != bit_count(r->size))
		return alog_err_set(err, ALOG_EINVAL,
				    "compact range of size %" PRIu64
				    " has %u subtrees, expected %u",
				    r->size, r->n, bit_count(r->size));
	for (i = 0; i < r->n; i++) {
		if (r->level[i] >= 64 ||
		    !(r->size & ((uint64_t)1 << r->level[i])) ||
		    (i && r->level[i] >= r->level[i - 1]))
			return alog_err_set(err, ALOG_EINVAL,
					    "compact range of size %" PRIu64
					    " has a bad level %u at position %u",
					    r->size, r->level[i], i);
	}
	return 0;
}

int alog_merkle_range_push(struct alog_merkle_range *r,
			   struct alog_hasher *h,
			   const unsigned char leaf[ALOG_HASH_LEN],
			   alog_merkle_node_fn on_node, void *ctx,
			   struct alog_err *err)
{
	struct alog_hasher *tmp = NULL, *use;
	unsigned char cur[ALOG_HASH_LEN];
	uint64_t index = r->size;
	unsigned level = 0, n = r->n;
	int rc;

	rc = range_check(r, err);
	if (rc < 0)
		return rc;
	if (index == UINT64_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "merkle tree is full at %" PRIu64 " leaves",
				    index);
	rc = hasher_get(h, &tmp, &use, err);
	if (rc < 0)
		return rc;
	memcpy(cur, leaf, ALOG_HASH_LEN);
	/* r is only written once every callback has accepted its node, so
	 * a failed push leaves the range as it was. */
	for (;;) {
		if (on_node) {
			rc = on_node(ctx, level, index >> level, cur);
			if (rc < 0) {
				/* Keep the callback's own message when it set
				 * one: it knows why. */
				if (err && err->code == 0)
					alog_err_set(err, rc,
					     "merkle node level %u index %" PRIu64
					     " was refused", level,
					     index >> level);
				goto out;
			}
		}
		if (n == 0 || r->level[n - 1] != level)
			break;
		rc = node_hash(use, r->hash[n - 1], cur, cur, err);
		if (rc < 0)
			goto out;
		n--;
		level++;
	}
	memcpy(r->hash[n], cur, ALOG_HASH_LEN);
	r->level[n] = (unsigned char)level;
	r->n = n + 1;
	r->size = index + 1;
out:
	alog_hasher_free(tmp);
	return rc;
}

int alog_merkle_range_root(const struct alog_merkle_range *r,
			   struct alog_hasher *h,
			   unsigned char out[ALOG_HASH_LEN])
{
	struct alog_hasher *tmp = NULL, *use;
	unsigned char acc[ALOG_HASH_LEN];
	unsigned i;
	int rc;

	rc = range_check(r, NULL);
	if (rc < 0)
		return rc;
	rc = hasher_get(h, &tmp, &use, NULL);
	if (rc < 0)
		return rc;
	if (r->n == 0) {
		rc = empty_hash(use, out, NULL);
		goto out;
	}
	memcpy(acc, r->hash[r->n - 1], ALOG_HASH_LEN);
	for (i = r->n - 1; i-- > 0;) {
		rc = node_hash(use, r->hash[i], acc, acc, NULL);
		if (rc < 0)
			goto out;
	}
	memcpy(out, acc, ALOG_HASH_LEN);
out:
	alog_hasher_free(tmp);
	return rc;
}

/* ---- proof generation ------------------------------------------------- */

/* A range of leaves [a, b) that is a node of the tree. */
struct span {
	uint64_t a, b;
};

static int subtree(alog_merkle_subtree_fn get, void *ctx, unsigned level,
		   uint64_t k, unsigned char out[ALOG_HASH_LEN],
		   struct alog_err *err)
{
	int rc = get(ctx, level, k, out, err);

	if (rc < 0) {
		/* A callback may fail without filling err. */
		if (err && err->code == 0)
			alog_err_set(err, rc, "subtree source failed");
		alog_err_prefix(err, "merkle subtree level %u index %" PRIu64,
				level, k);
	}
	return rc;
}

/* MTH of the tree node [a, b), b > a: one complete aligned subtree per set
 * bit of b - a, largest first, folded from the smallest. */
static int span_hash(alog_merkle_subtree_fn get, void *ctx,
		     struct alog_hasher *h, struct span s,
		     unsigned char out[ALOG_HASH_LEN], struct alog_err *err)
{
	unsigned char part[TREE_DEPTH_MAX][ALOG_HASH_LEN];
	unsigned n = 0, level, i;
	uint64_t a = s.a;
	int rc;

	while (a < s.b) {
		level = log2_floor(s.b - a);
		/* Alignment holds for tree nodes (see the top of the file);
		 * shrink anyway so a piece never straddles a boundary. */
		while (level > 0 && (a & (((uint64_t)1 << level) - 1)))
			level--;
		rc = subtree(get, ctx, level, a >> level, part[n], err);
		if (rc < 0)
			return rc;
		n++;
		a += (uint64_t)1 << level;
		if (n == TREE_DEPTH_MAX && a < s.b)
			return alog_err_set(err, ALOG_EINVAL,
					    "range [%" PRIu64 ", %" PRIu64
					    ") is not a tree node", s.a, s.b);
	}
	for (i = n - 1; i-- > 0;) {
		rc = node_hash(h, part[i], part[n - 1], part[n - 1], err);
		if (rc < 0)
			return rc;
	}
	memcpy(out, part[n - 1], ALOG_HASH_LEN);
	return 0;
}

/* Hash the spans into proof in the given order. */
static int spans_hash(alog_merkle_subtree_fn get, void *ctx,
		      struct alog_hasher *h, const struct span *s, size_t n,
		      unsigned char proof[][ALOG_HASH_LEN],
		      struct alog_err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = span_hash(get, ctx, h, s[i], proof[i], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int alog_merkle_root(alog_merkle_subtree_fn get, void *ctx,
		     struct alog_hasher *h, uint64_t size,
		     unsigned char out[ALOG_HASH_LEN], struct alog_err *err)
{
	struct alog_hasher *tmp = NULL, *use;
	struct span all = { 0, size };
	int rc;

	rc = hasher_get(h, &tmp, &use, err);
	if (rc < 0)
		return rc;
	if (size == 0)
		rc = empty_hash(use, out, err);
	else
		rc = span_hash(get, ctx, use, all, out, err);
	alog_hasher_free(tmp);
	return rc;
}

int alog_merkle_prove_inclusion(alog_merkle_subtree_fn get, void *ctx,
				struct alog_hasher *h, uint64_t index,
				uint64_t size,
				unsigned char proof[][ALOG_HASH_LEN],
				size_t *n_out, struct alog_err *err)
{
	struct alog_hasher *tmp = NULL, *use;
	struct span sib[TREE_DEPTH_MAX];
	uint64_t a = 0, b = size, k;
	size_t n = 0, i;
	int rc;

	*n_out = 0;
	if (index >= size)
		return alog_err_set(err, ALOG_EINVAL,
				    "leaf index %" PRIu64
				    " is not below tree size %" PRIu64,
				    index, size);
	/* PATH(m, D[a:b]) (RFC 9162 2.1.3.1) from the root down: record
	 * the sibling at each level; the proof lists them bottom-up. */
	while (b - a > 1) {
		k = split_point(b - a);
		if (index - a < k) {
			sib[n].a = a + k;
			sib[n].b = b;
			b = a + k;
		} else {
			sib[n].a = a;
			sib[n].b = a + k;
			a += k;
		}
		n++;
	}
	for (i = 0; i < n / 2; i++) {
		struct span t = sib[i];

		sib[i] = sib[n - 1 - i];
		sib[n - 1 - i] = t;
	}
	rc = hasher_get(h, &tmp, &use, err);
	if (rc < 0)
		return rc;
	rc = spans_hash(get, ctx, use, sib, n, proof, err);
	if (rc == 0)
		*n_out = n;
	alog_hasher_free(tmp);
	return rc;
}

int alog_merkle_prove_consistency(alog_merkle_subtree_fn get, void *ctx,
				  struct alog_hasher *h, uint64_t old_size,
				  uint64_t new_size,
				  unsigned char proof[][ALOG_HASH_LEN],
				  size_t *n_out, struct alog_err *err)
{
	struct alog_hasher *tmp = NULL, *use;
	struct span sib[TREE_DEPTH_MAX + 1];
	uint64_t a = 0, b = new_size, m = old_size, k;
	size_t n = 0, i;
	int whole = 1; /* SUBPROOF's b: [a, b) is still the old tree's root */
	int rc;

	*n_out = 0;
	if (old_size > new_size)
		return alog_err_set(err, ALOG_EINVAL,
				    "old tree size %" PRIu64
				    " is above new tree size %" PRIu64,
				    old_size, new_size);
	if (old_size == 0 || old_size == new_size)
		return 0;
	/* SUBPROOF(m, D[a:b], whole) (RFC 9162 2.1.4.1) from the root down:
	 * record the sibling at each level until [a, b) is the old tree's
	 * last node; the proof is that node (unless it is the whole old
	 * tree, which the verifier knows) then the siblings bottom-up. */
	while (m != b) {
		k = split_point(b - a);
		if (m - a <= k) {
			sib[n].a = a + k;
			sib[n].b = b;
			b = a + k;
		} else {
			sib[n].a = a;
			sib[n].b = a + k;
			a += k;
			whole = 0;
		}
		n++;
	}
	for (i = 0; i < n / 2; i++) {
		struct span t = sib[i];

		sib[i] = sib[n - 1 - i];
		sib[n - 1 - i] = t;
	}
	if (!whole) {
		memmove(sib + 1, sib, n * sizeof(sib[0]));
		sib[0].a = a;
		sib[0].b = b;
		n++;
	}
	rc = hasher_get(h, &tmp, &use, err);
	if (rc < 0)
		return rc;
	rc = spans_hash(get, ctx, use, sib, n, proof, err);
	if (rc == 0)
		*n_out = n;
	alog_hasher_free(tmp);
	return rc;
}

/* ---- verification ----------------------------------------------------- */

int alog_merkle_verify_inclusion(struct alog_hasher *h, uint64_t index,
				 uint64_t size,
				 const unsigned char leaf[ALOG_HASH_LEN],
				 const unsigned char proof[][ALOG_HASH_LEN],
				 size_t n_proof,
				 const unsigned char root[ALOG_HASH_LEN],
				 struct alog_err *err)
{
	struct alog_hasher *tmp = NULL, *use;
	unsigned char r[ALOG_HASH_LEN];
	uint64_t fn = index, sn;
	size_t i;
	int rc;

	if (index >= size)
		return alog_err_set(err, ALOG_EINVAL,
				    "leaf index %" PRIu64
				    " is not below tree size %" PRIu64,
				    index, size);
	if (n_proof > ALOG_MERKLE_PROOF_MAX)
		return alog_err_set(err, ALOG_EVERIFY,
				    "inclusion proof has %zu hashes, limit %d",
				    n_proof, ALOG_MERKLE_PROOF_MAX);
	rc = hasher_get(h, &tmp, &use, err);
	if (rc < 0)
		return rc;
	sn = size - 1;
	memcpy(r, leaf, ALOG_HASH_LEN);
	for (i = 0; i < n_proof; i++) {
		if (sn == 0) {
			rc = alog_err_set(err, ALOG_EVERIFY,
					  "inclusion proof of leaf %" PRIu64
					  " in tree size %" PRIu64
					  " is too long: %zu hashes, expected %zu",
					  index, size, n_proof, i);
			goto out;
		}
		if ((fn & 1) || fn == sn) {
			rc = node_hash(use, proof[i], r, r, err);
			if (rc < 0)
				goto out;
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			rc = node_hash(use, r, proof[i], r, err);
			if (rc < 0)
				goto out;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0) {
		rc = alog_err_set(err, ALOG_EVERIFY,
				  "inclusion proof of leaf %" PRIu64
				  " in tree size %" PRIu64
				  " is too short: %zu hashes",
				  index, size, n_proof);
		goto out;
	}
	if (alog_ct_memcmp(r, root, ALOG_HASH_LEN) != 0)
		rc = alog_err_set(err, ALOG_EVERIFY,
				  "inclusion proof of leaf %" PRIu64
				  " in tree size %" PRIu64
				  " does not lead to the root",
				  index, size);
out:
	alog_hasher_free(tmp);
	return rc;
}

static int is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int alog_merkle_verify_consistency(struct alog_hasher *h, uint64_t old_size,
				   uint64_t new_size,
				   const unsigned char old_root[ALOG_HASH_LEN],
				   const unsigned char new_root[ALOG_HASH_LEN],
				   const unsigned char proof[][ALOG_HASH_LEN],
				   size_t n_proof, struct alog_err *err)
{
	struct alog_hasher *tmp = NULL, *use;
	unsigned char fr[ALOG_HASH_LEN], sr[ALOG_HASH_LEN];
	const unsigned char *c;
	uint64_t fn, sn;
	size_t i, start;
	int rc;

	if (old_size > new_size)
		return alog_err_set(err, ALOG_EINVAL,
				    "old tree size %" PRIu64
				    " is above new tree size %" PRIu64,
				    old_size, new_size);
	if (n_proof > ALOG_MERKLE_PROOF_MAX)
		return alog_err_set(err, ALOG_EVERIFY,
				    "consistency proof has %zu hashes, limit %d",
				    n_proof, ALOG_MERKLE_PROOF_MAX);
	rc = hasher_get(h, &tmp, &use, err);
	if (rc < 0)
		return rc;
	if (old_size == 0 || old_size == new_size) {
		/* Trivial cases: nothing to prove, nothing may be sent. */
		if (n_proof != 0) {
			rc = alog_err_set(err, ALOG_EVERIFY,
					  "consistency proof from size %" PRIu64
					  " to %" PRIu64
					  " must be empty, has %zu hashes",
					  old_size, new_size, n_proof);
			goto out;
		}
		if (old_size == 0) {
			rc = empty_hash(use, fr, err);
			if (rc < 0)
				goto out;
			if (alog_ct_memcmp(fr, old_root, ALOG_HASH_LEN) != 0)
				rc = alog_err_set(err, ALOG_EVERIFY,
						  "old root of size 0 is not "
						  "the empty tree hash");
		} else if (alog_ct_memcmp(old_root, new_root,
					  ALOG_HASH_LEN) != 0) {
			rc = alog_err_set(err, ALOG_EVERIFY,
					  "roots of equal size %" PRIu64
					  " differ", old_size);
		}
		goto out;
	}
	/* RFC 9162 2.1.4.2. */
	if (n_proof == 0) {
		rc = alog_err_set(err, ALOG_EVERIFY,
				  "consistency proof from size %" PRIu64
				  " to %" PRIu64 " is empty",
				  old_size, new_size);
		goto out;
	}
	/* When the old tree is a complete subtree the verifier already has
	 * its hash: it acts as the proof's first element. */
	if (is_pow2(old_size)) {
		c = old_root;
		start = 0;
	} else {
		c = proof[0];
		start = 1;
	}
	fn = old_size - 1;
	sn = new_size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, c, ALOG_HASH_LEN);
	memcpy(sr, c, ALOG_HASH_LEN);
	for (i = start; i < n_proof; i++) {
		if (sn == 0) {
			rc = alog_err_set(err, ALOG_EVERIFY,
					  "consistency proof from size %" PRIu64
					  " to %" PRIu64
					  " is too long: %zu hashes, expected %zu",
					  old_size, new_size, n_proof, i);
			goto out;
		}
		if ((fn & 1) || fn == sn) {
			rc = node_hash(use, proof[i], fr, fr, err);
			if (rc == 0)
				rc = node_hash(use, proof[i], sr, sr, err);
			if (rc < 0)
				goto out;
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			rc = node_hash(use, sr, proof[i], sr, err);
			if (rc < 0)
				goto out;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0) {
		rc = alog_err_set(err, ALOG_EVERIFY,
				  "consistency proof from size %" PRIu64
				  " to %" PRIu64 " is too short: %zu hashes",
				  old_size, new_size, n_proof);
		goto out;
	}
	if (alog_ct_memcmp(fr, old_root, ALOG_HASH_LEN) != 0) {
		rc = alog_err_set(err, ALOG_EVERIFY,
				  "consistency proof from size %" PRIu64
				  " to %" PRIu64
				  " does not lead to the old root",
				  old_size, new_size);
		goto out;
	}
	if (alog_ct_memcmp(sr, new_root, ALOG_HASH_LEN) != 0)
		rc = alog_err_set(err, ALOG_EVERIFY,
				  "consistency proof from size %" PRIu64
				  " to %" PRIu64
				  " does not lead to the new root",
				  old_size, new_size);
out:
	alog_hasher_free(tmp);
	return rc;
}
