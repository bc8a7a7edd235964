/*
 * test_store: the record store (store/store.h), SPEC.md "Store layout",
 * "LMDB layout", "Durability", "Verification".
 *
 * Records are opaque byte lines made with snprintf. Every tree hash is
 * compared with a reference computed here, independently of the store: a
 * recursive RFC 9162 MTH over leaf hashes, with node hashes taken from
 * OpenSSL's SHA-256 directly (the reference itself is first checked
 * against the published RFC 6962 tree in tests/vectors/rfc6962.json).
 *
 * Vectors (computed with Python hashlib while writing these tests):
 *   V-STORE-1  roots of the tree whose record i is "alog test record %06u"
 *              (i from 0), for the sizes in v_store_1 below
 *   V-STORE-2  alog_store_id_key(h, "billing", id): the id digest, t then
 *              SHA-256("billing" 0x00 id)[0:16] (SPEC.md 7 "Id keys")
 *
 * Segment files are read and damaged through their published layout
 * (store/segment.h, store/block.h): a 32-byte segment header, then blocks
 * of a 40-byte header (first_index at +8, n_records at +16, comp_len at
 * +24) and comp_len bytes of frame.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>
#include <openssl/evp.h>

#include "store/block.h"
#include "store/bytes.h"
#include "store/merkle.h"
#include "store/note.h"
#include "store/segment.h"
#include "store/sign.h"
#include "store/store.h"
#include "testutil.h"

#define ORIGIN "example.com/audit"
#define T0 INT64_C(1700000000000000)
#define SEG1 "segments/00000001.seg"

/* V-STORE-1 */
static const struct {
	uint64_t size;
	const char *root;
} v_store_1[] = {
	{ 1, "407e8c1d88ec983d0b3a1b63923562949f5005eda90452c57b8a919c3c21bb00" },
	{ 255, "ecbcf5e9cd44db40246411e420fd99a26fe2b8d64d379ea6c577d0040d3d0f75" },
	{ 256, "f0e23af23d6b25417ac84ebab97769ee5d927caacedf6cd3ce23a18c08944a3c" },
	{ 257, "38df1feb9484e886ebb2985feb0d62485d094dfa4ef3adaa9516f61991a2996c" },
	{ 511, "83a2bc4536553a1f73a042aa78d8cf123c83f08198854de284c6b62cb57cc75f" },
	{ 512, "54f69304807b3ed08ae9567f214e09d3e64cc795a417ed509c1613f3c77ad15d" },
	{ 513, "33fd02f8d2e13c3758d464ac73041ccb6e1178e733eca4bdfd95096435bca45f" },
	{ 1000, "ec0fee316bfac6c47bd086aea4ab33071bc81010214168bd9f8382b0393f0ab1" },
	{ 4097, "01b8431787cc7847ffac654fbca3797f7eb9674b21f35439c2f1fac6ae7d4e56" },
};
/* V-STORE-2 and V-STORE-3 (SPEC.md 7 "Id keys"): the id digest, t (0 for
 * an id that is not a UUIDv7) then SHA-256(source 0x00 id)[0:16]. */
static const struct {
	const char *id, *digest;
} v_store_ids[] = {
	{ "evt-42", "000000000000045008a9537a37d40e2fcb6e4ff508c8" },
	{ "018bcfe5-687b-774b-8a3f-0123456789ab",
	  "018bcfe5687bfeee1117184c616b293202c66379452c" },
	{ "018BCFE5-687B-774B-8A3F-0123456789AB",
	  "018bcfe5687bf973ad47eff9148dc549a5a4e7dee753" },
	/* version 4, variant c: not UUIDv7 */
	{ "018bcfe5-687b-474b-8a3f-0123456789ab",
	  "0000000000003583acde274866422504e4686b0d6d75" },
	{ "018bcfe5-687b-774b-ca3f-0123456789ab",
	  "00000000000016b5906fc8203c869de0c3ec1162eac6" },
};

/* ---- fixture ---- */

struct fx {
	char *tmp;
	char dir[4096];  /* the store directory, inside tmp */
	struct alog_signer *signer;
	struct alog_verifier vkey;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->tmp = testutil_tmpdir();
	snprintf(f->dir, sizeof(f->dir), "%s/store", f->tmp);
	if (alog_signer_generate("example.com/audit-key", &f->signer, NULL) < 0)
		return -1;
	alog_signer_verifier(f->signer, &f->vkey);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	testutil_rmtree(f->tmp);
	free(f->tmp);
	alog_signer_free(f->signer);
	free(f);
	return 0;
}

static void path_in(const struct fx *f, const char *rel, char *out,
		    size_t cap)
{
	snprintf(out, cap, "%s/%s", f->dir, rel);
}

static void fail_with(const char *what, int rc, const struct alog_err *err)
{
	fail_msg("%s: rc %d (%s): %s", what, rc, alog_err_name(rc), err->msg);
}

static struct alog_store *create_open(struct fx *f, uint64_t segment_max)
{
	struct alog_store_options opt = { segment_max };
	struct alog_store_recovery rec;
	struct alog_store *s = NULL;
	struct alog_err err;
	int rc;

	alog_err_clear(&err);
	rc = alog_store_create(f->dir, ORIGIN, &f->vkey, &opt, &err);
	if (rc < 0)
		fail_with("create", rc, &err);
	rc = alog_store_open(f->dir, ALOG_STORE_WRITE, &s, &rec, &err);
	if (rc < 0)
		fail_with("open", rc, &err);
	assert_int_equal(rec.cut, 0);
	assert_int_equal(rec.removed_segments, 0);
	return s;
}

static struct alog_store *reopen(struct fx *f, int mode,
				 struct alog_store_recovery *rec)
{
	struct alog_store *s = NULL;
	struct alog_err err;
	int rc;

	alog_err_clear(&err);
	rc = alog_store_open(f->dir, mode, &s, rec, &err);
	if (rc < 0)
		fail_with("reopen", rc, &err);
	return s;
}

/* ---- files ---- */

static uint64_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}


static void append_bytes(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0640);

	assert_true(fd >= 0);
	if (n)
		assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

static void write_at(const char *path, uint64_t off, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, p, n, (off_t)off), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

static unsigned count_segment_files(const struct fx *f)
{
	char p[4200];
	DIR *d;
	unsigned n = 0;

	path_in(f, "segments", p, sizeof(p));
	d = opendir(p);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));) {
		size_t l = strlen(e->d_name);

		if (l > 4 && strcmp(e->d_name + l - 4, ".seg") == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* One block of a segment file, from its published header. */
struct blk {
	uint64_t off, len, first_index;
	uint32_t n;
};

/* Walk the blocks of segment file bytes p[0..n) up to at most max. */
static size_t parse_blocks(const unsigned char *p, size_t n, struct blk *out,
			   size_t max)
{
	size_t off = ALOG_SEGMENT_HEADER_LEN, k = 0;

	assert_true(n >= ALOG_SEGMENT_HEADER_LEN);
	assert_memory_equal(p, "ALOGSEG1", 8);
	while (off < n && k < max) {
		assert_true(n - off >= ALOG_BLOCK_HEADER_LEN);
		assert_int_equal(alog_get_be32(p + off), ALOG_BLOCK_MAGIC);
		out[k].off = off;
		out[k].first_index = alog_get_be64(p + off + 8);
		out[k].n = alog_get_be32(p + off + 16);
		out[k].len = ALOG_BLOCK_HEADER_LEN +
			     (uint64_t)alog_get_be32(p + off + 24);
		assert_true(out[k].len <= n - off);
		off += out[k].len;
		k++;
	}
	return k;
}

/* ---- records ---- */

enum { K_SIMPLE, K_BIG, K_BIN };

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

#define REC_CAP 1200

/* Record i of a kind into buf (REC_CAP bytes); returns its length.
 * K_SIMPLE: V-STORE-1's records. K_BIG: about 1 KB of hex noise.
 * K_BIN: bytes 0x00..0xFF except 0x0A, varying with i. */
static size_t gen(int kind, uint64_t i, char *buf)
{
	uint64_t x = i * 0x9E3779B97F4A7C15u + 1;
	int n;

	switch (kind) {
	case K_SIMPLE:
		n = snprintf(buf, REC_CAP, "alog test record %06" PRIu64, i);
		return (size_t)n;
	case K_BIG:
		n = snprintf(buf, REC_CAP, "big %06" PRIu64 " ", i);
		for (int k = 0; k < 1000; k++)
			buf[n++] = "0123456789abcdef"[xorshift(&x) & 15];
		return (size_t)n;
	default:
		n = snprintf(buf, REC_CAP, "bin %06" PRIu64 ":", i);
		for (int k = 0; k < 300; k++) {
			unsigned char c = (unsigned char)(k + i);

			buf[n++] = (char)(c == '\n' ? 0x0B : c);
		}
		return (size_t)n;
	}
}

static int64_t recv_of(uint64_t i)
{
	return T0 + (int64_t)i * 10;
}

/* Append records [from, from + n) of kind with received recv_of(i). */
static int append_kind(struct alog_store *s, int kind, uint64_t from,
		       size_t n, struct alog_err *err)
{
	struct alog_store_rec *recs = calloc(n ? n : 1, sizeof(*recs));
	char *buf = malloc((n ? n : 1) * REC_CAP);
	int rc;

	assert_non_null(recs);
	assert_non_null(buf);
	for (size_t k = 0; k < n; k++) {
		recs[k].data = (unsigned char *)buf + k * REC_CAP;
		recs[k].len = gen(kind, from + k, buf + k * REC_CAP);
		recs[k].received_us = recv_of(from + k);
	}
	alog_err_clear(err);
	rc = alog_store_append(s, recs, n, err);
	free(recs);
	free(buf);
	return rc;
}

static void must_append(struct alog_store *s, int kind, size_t n)
{
	struct alog_err err;
	uint64_t size = alog_store_size(s);
	int rc = append_kind(s, kind, size, n, &err);

	if (rc < 0)
		fail_with("append", rc, &err);
	assert_int_equal(alog_store_size(s), size + n);
}

struct readback {
	int kind;
	uint64_t next;
	uint64_t stop_at; /* return 1 at this index (UINT64_MAX: never) */
};

static int check_rec(void *ctx, uint64_t index, const unsigned char *rec,
		     size_t len)
{
	struct readback *r = ctx;
	char buf[REC_CAP];
	size_t n;

	if (index != r->next)
		return -100;
	n = gen(r->kind, index, buf);
	if (n != len || memcmp(buf, rec, n) != 0)
		return -101;
	r->next++;
	return index == r->stop_at ? 1 : 0;
}

/* Every record of s reads back exactly, through read and get. */
static void expect_all_records(struct alog_store *s, int kind)
{
	struct readback r = { kind, 0, UINT64_MAX };
	struct alog_err err;
	struct alog_buf b;
	uint64_t size = alog_store_size(s);
	int rc;

	alog_err_clear(&err);
	rc = alog_store_read(s, 0, size, check_rec, &r, &err);
	if (rc < 0)
		fail_with("read", rc, &err);
	assert_int_equal(r.next, size);
	alog_buf_init(&b, 0);
	for (uint64_t i = 0; i < size; i += 1 + size / 23) {
		char buf[REC_CAP];
		size_t n = gen(kind, i, buf);

		rc = alog_store_get(s, i, &b, &err);
		if (rc < 0)
			fail_with("get", rc, &err);
		assert_int_equal(b.len, n);
		assert_memory_equal(b.data, buf, n);
	}
	alog_buf_release(&b);
}

static void expect_check_ok(struct alog_store *s)
{
	struct alog_err err;
	uint64_t bad = 0;
	int rc;

	alog_err_clear(&err);
	rc = alog_store_check(s, NULL, NULL, NULL, NULL, NULL, &bad, &err);
	if (rc < 0)
		fail_with("check", rc, &err);
	assert_true(bad == UINT64_MAX);
}

/* ---- reference tree ---- */

static void sha256_2(const void *a, size_t an, const void *b, size_t bn,
		     const void *c, size_t cn, unsigned char out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int olen = 0;

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, a, an), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, b, bn), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, c, cn), 1);
	assert_int_equal(EVP_DigestFinal_ex(ctx, out, &olen), 1);
	assert_int_equal(olen, 32);
	EVP_MD_CTX_free(ctx);
}

/* RFC 9162 section 2.1.1 MTH over n leaf hashes. */
static void ref_mth(const unsigned char (*leaves)[32], uint64_t n,
		    unsigned char out[32])
{
	unsigned char l[32], r[32];
	uint64_t k = 1;

	if (n == 0) {
		sha256_2("", 0, "", 0, "", 0, out);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], 32);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	ref_mth(leaves, k, l);
	ref_mth(leaves + k, n - k, r);
	sha256_2("\x01", 1, l, 32, r, 32, out);
}

/* Leaf hashes of records [0, n) of kind (caller frees). */
static unsigned char (*ref_leaves(int kind, uint64_t n))[32]
{
	unsigned char (*lv)[32] = malloc((n ? n : 1) * 32);

	assert_non_null(lv);
	for (uint64_t i = 0; i < n; i++) {
		char buf[REC_CAP];
		size_t len = gen(kind, i, buf);

		assert_int_equal(alog_merkle_leaf(NULL, buf, len, lv[i]), 0);
	}
	return lv;
}

static void expect_root(struct alog_store *s,
			const unsigned char (*lv)[32])
{
	unsigned char want[32], got[32];

	ref_mth(lv, alog_store_size(s), want);
	alog_store_root(s, got);
	assert_memory_equal(got, want, 32);
}

static void expect_root_at(struct alog_store *s, uint64_t size,
			   const unsigned char (*lv)[32])
{
	unsigned char want[32], got[32];
	struct alog_err err;
	int rc;

	alog_err_clear(&err);
	ref_mth(lv, size, want);
	rc = alog_store_root_at(s, size, got, &err);
	if (rc < 0)
		fail_with("root_at", rc, &err);
	if (memcmp(got, want, 32) != 0)
		fail_msg("root_at(%" PRIu64 ") differs from the reference",
			 size);
}

static void hex32(const char *hex, unsigned char out[32])
{
	testutil_unhex(hex, out, 32);
}

/* ---- tests: the reference ---- */

static void test_store_reference_tree_matches_the_published_rfc6962_tree(
	void **state)
{
	cJSON *v = testutil_load_vector("rfc6962.json");
	cJSON *inputs = cJSON_GetObjectItem(v, "leaf_inputs_hex");
	cJSON *hashes = cJSON_GetObjectItem(v, "leaf_hashes");
	cJSON *roots = cJSON_GetObjectItem(v, "roots");
	unsigned char lv[8][32], want[32], got[32], in[16];

	(void)state;
	assert_int_equal(cJSON_GetArraySize(inputs), 8);
	for (int i = 0; i < 8; i++) {
		const char *hex = cJSON_GetArrayItem(inputs, i)->valuestring;
		size_t n = strlen(hex) / 2;

		testutil_unhex(hex, in, n);
		assert_int_equal(alog_merkle_leaf(NULL, in, n, lv[i]), 0);
		hex32(cJSON_GetArrayItem(hashes, i)->valuestring, want);
		assert_memory_equal(lv[i], want, 32);
	}
	for (int size = 0; size <= 8; size++) {
		char key[16];

		snprintf(key, sizeof(key), "%d", size);
		hex32(cJSON_GetObjectItem(roots, key)->valuestring, want);
		ref_mth((const unsigned char (*)[32])lv, (uint64_t)size, got);
		assert_memory_equal(got, want, 32);
	}
	cJSON_Delete(v);
}

/* ---- tests: tree, reads, proofs ---- */

static void test_store_roots_match_reference_across_group_boundaries_and_reopen(
	void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	unsigned char (*lv)[32] = ref_leaves(K_SIMPLE, 4097);
	const unsigned char (*clv)[32] = (const unsigned char (*)[32])lv;
	unsigned char want[32], got[32];

	/* Empty tree: SHA-256(""). */
	ref_mth(clv, 0, want);
	alog_store_root(s, got);
	assert_memory_equal(got, want, 32);
	for (size_t t = 0; t < sizeof(v_store_1) / sizeof(v_store_1[0]); t++) {
		uint64_t size = alog_store_size(s);

		must_append(s, K_SIMPLE, v_store_1[t].size - size);
		hex32(v_store_1[t].root, want);
		alog_store_root(s, got);
		assert_memory_equal(got, want, 32);
		expect_root(s, clv);
		/* The writer rebuilds its tree from stored nodes at open. */
		alog_store_close(s);
		s = reopen(f, t % 2 ? ALOG_STORE_RDONLY : ALOG_STORE_WRITE,
			   NULL);
		assert_int_equal(alog_store_size(s), v_store_1[t].size);
		alog_store_root(s, got);
		assert_memory_equal(got, want, 32);
		alog_store_close(s);
		s = reopen(f, ALOG_STORE_WRITE, NULL);
	}
	/* Every size up to 600, then a sample up to 4097. */
	for (uint64_t m = 0; m <= 600; m++)
		expect_root_at(s, m, clv);
	for (uint64_t m = 601; m <= 4097; m += 97)
		expect_root_at(s, m, clv);
	{
		static const uint64_t edge[] = { 767, 768, 769, 1023, 1024,
						 1025, 2047, 2048, 2049,
						 4095, 4096, 4097 };

		for (size_t k = 0; k < sizeof(edge) / sizeof(edge[0]); k++)
			expect_root_at(s, edge[k], clv);
	}
	for (uint64_t i = 0; i < 4097; i += 37) {
		struct alog_err err;

		assert_int_equal(alog_store_leaf_hash(s, i, got, &err), 0);
		assert_memory_equal(got, lv[i], 32);
	}
	expect_all_records(s, K_SIMPLE);
	expect_check_ok(s);
	alog_store_close(s);
	free(lv);
}

static void test_store_batches_of_varied_sizes_build_the_reference_tree(
	void **state)
{
	static const size_t batches[] = { 1,  1,  2,   3,  5,   8,   13,  21,
					  34, 55, 89,  23, 1,   255, 256, 257,
					  3,  64, 128, 17, 300, 2,   1 };
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	unsigned char (*lv)[32] = ref_leaves(K_SIMPLE, 1700);
	const unsigned char (*clv)[32] = (const unsigned char (*)[32])lv;

	for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
		must_append(s, K_SIMPLE, batches[b]);
		assert_true(alog_store_size(s) <= 1700);
		expect_root(s, clv);
		/* A root of a smaller tree between appends uses the group
		 * cache, which the next append must not leave stale. */
		expect_root_at(s, alog_store_size(s) - 1, clv);
		if (b % 5 == 4) {
			alog_store_close(s);
			s = reopen(f, ALOG_STORE_WRITE, NULL);
			expect_root(s, clv);
		}
	}
	expect_all_records(s, K_SIMPLE);
	expect_check_ok(s);
	alog_store_close(s);
	free(lv);
}

static void test_store_inclusion_and_consistency_proofs_verify_for_sampled_sizes(
	void **state)
{
	static const uint64_t sizes[] = { 1,   2,   3,    7,    8,    255,
					  256, 257, 300,  511,  512,  513,
					  1000, 1023, 1024, 1025, 2048, 4096,
					  4097 };
	enum { NS = sizeof(sizes) / sizeof(sizes[0]) };
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	unsigned char (*lv)[32] = ref_leaves(K_SIMPLE, 4097);
	const unsigned char (*clv)[32] = (const unsigned char (*)[32])lv;
	unsigned char roots[NS][32];
	unsigned char proof[ALOG_MERKLE_PROOF_MAX][ALOG_HASH_LEN];
	const unsigned char (*cproof)[ALOG_HASH_LEN] =
		(const unsigned char (*)[ALOG_HASH_LEN])proof;
	struct alog_err err;
	size_t n_proof;
	int rc;

	must_append(s, K_SIMPLE, 1000);
	must_append(s, K_SIMPLE, 3097);
	alog_store_close(s);
	s = reopen(f, ALOG_STORE_RDONLY, NULL);
	for (size_t a = 0; a < NS; a++)
		ref_mth(clv, sizes[a], roots[a]);
	for (size_t a = 0; a < NS; a++) {
		uint64_t size = sizes[a];
		uint64_t idx[] = { 0, 1, size / 2, size - 2, size - 1, 255,
				   256, 511, 512, 4095, 4096, size / 3 };

		for (size_t k = 0; k < sizeof(idx) / sizeof(idx[0]); k++) {
			if (idx[k] >= size)
				continue;
			alog_err_clear(&err);
			rc = alog_store_prove_inclusion(s, idx[k], size, proof,
							&n_proof, &err);
			if (rc < 0)
				fail_with("prove inclusion", rc, &err);
			rc = alog_merkle_verify_inclusion(NULL, idx[k], size,
							  lv[idx[k]], cproof,
							  n_proof, roots[a],
							  &err);
			if (rc < 0)
				fail_msg("inclusion of %" PRIu64 " in %" PRIu64
					 ": %s", idx[k], size, err.msg);
			/* The proof is bound to its leaf. */
			if (idx[k] + 1 < size)
				assert_int_equal(
					alog_merkle_verify_inclusion(
						NULL, idx[k], size,
						lv[idx[k] + 1], cproof,
						n_proof, roots[a], NULL),
					ALOG_EVERIFY);
		}
		for (size_t b = a; b < NS; b++) {
			alog_err_clear(&err);
			rc = alog_store_prove_consistency(s, sizes[a], sizes[b],
							  proof, &n_proof,
							  &err);
			if (rc < 0)
				fail_with("prove consistency", rc, &err);
			rc = alog_merkle_verify_consistency(
				NULL, sizes[a], sizes[b], roots[a], roots[b],
				cproof, n_proof, &err);
			if (rc < 0)
				fail_msg("consistency %" PRIu64 " -> %" PRIu64
					 ": %s", sizes[a], sizes[b], err.msg);
		}
	}
	/* Out of range requests are refused, not answered. */
	assert_int_equal(alog_store_prove_inclusion(s, 4097, 4097, proof,
						    &n_proof, NULL),
			 ALOG_EINVAL);
	assert_int_equal(alog_store_prove_inclusion(s, 0, 4098, proof,
						    &n_proof, NULL),
			 ALOG_EINVAL);
	assert_int_equal(alog_store_prove_consistency(s, 5, 4, proof,
						      &n_proof, NULL),
			 ALOG_EINVAL);
	assert_int_equal(alog_store_prove_consistency(s, 1, 4098, proof,
						      &n_proof, NULL),
			 ALOG_EINVAL);
	assert_int_equal(alog_store_root_at(s, 4098, roots[0], NULL),
			 ALOG_EINVAL);
	assert_int_equal(alog_store_leaf_hash(s, 4097, roots[0], NULL),
			 ALOG_EINVAL);
	alog_store_close(s);
	free(lv);
}

static void test_store_reads_return_exact_bytes_and_honour_stops(void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	struct readback r;
	struct alog_err err;
	struct alog_buf b;
	int rc;

	/* 3 blocks of >= ALOG_BLOCK_TARGET bytes and a small one. */
	must_append(s, K_BIN, 700);
	must_append(s, K_BIN, 5);
	expect_all_records(s, K_BIN);
	/* Sub-ranges that start and end inside blocks. */
	for (uint64_t from = 0; from < 705; from += 101) {
		for (uint64_t to = from; to <= 705; to += 173) {
			r = (struct readback){ K_BIN, from, UINT64_MAX };
			rc = alog_store_read(s, from, to, check_rec, &r, &err);
			assert_int_equal(rc, 0);
			assert_int_equal(r.next, to);
		}
	}
	/* A positive return stops without error; a negative one is passed
	 * up. */
	r = (struct readback){ K_BIN, 10, 300 };
	assert_int_equal(alog_store_read(s, 10, 705, check_rec, &r, &err), 0);
	assert_int_equal(r.next, 301);
	r = (struct readback){ K_BIN, 11, UINT64_MAX }; /* wrong start */
	assert_int_equal(alog_store_read(s, 10, 20, check_rec, &r, &err), -100);
	/* Outside the log. */
	assert_int_equal(alog_store_read(s, 0, 706, check_rec, &r, &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_store_read(s, 5, 4, check_rec, &r, &err),
			 ALOG_EINVAL);
	alog_buf_init(&b, 0);
	assert_int_equal(alog_store_get(s, 705, &b, &err), ALOG_ENOTFOUND);
	alog_buf_release(&b);
	alog_store_close(s);
}

static void test_store_append_refuses_bad_records_and_accepts_the_largest(
	void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	unsigned char *big = malloc(ALOG_STORE_RECORD_MAX + 1);
	unsigned char root[32], root2[32];
	struct alog_store_rec r[2];
	struct alog_err err;
	struct alog_buf b;

	assert_non_null(big);
	memset(big, 'x', ALOG_STORE_RECORD_MAX + 1);
	must_append(s, K_SIMPLE, 3);
	alog_store_root(s, root);
	memset(r, 0, sizeof(r));
	r[0] = (struct alog_store_rec){ (const unsigned char *)"ok", 2, T0 + 100,
					NULL, NULL };
	r[1] = (struct alog_store_rec){ (const unsigned char *)"a\nb", 3, T0 + 100,
					NULL, NULL };
	assert_int_equal(alog_store_append(s, r, 2, &err), ALOG_EINVAL);
	r[1] = (struct alog_store_rec){ (const unsigned char *)"", 0, T0 + 100,
					NULL, NULL };
	assert_int_equal(alog_store_append(s, r, 2, &err), ALOG_EINVAL);
	r[1] = (struct alog_store_rec){ big, ALOG_STORE_RECORD_MAX + 1, T0 + 100,
					NULL, NULL };
	assert_int_equal(alog_store_append(s, r, 2, &err), ALOG_EINVAL);
	assert_int_equal(alog_store_size(s), 3);
	alog_store_root(s, root2);
	assert_memory_equal(root, root2, 32);
	/* n = 0 is a no-op. */
	assert_int_equal(alog_store_append(s, r, 0, &err), 0);
	r[1] = (struct alog_store_rec){ big, ALOG_STORE_RECORD_MAX, T0 + 100,
					NULL, NULL };
	assert_int_equal(alog_store_append(s, r, 2, &err), 0);
	assert_int_equal(alog_store_size(s), 5);
	alog_buf_init(&b, 0);
	assert_int_equal(alog_store_get(s, 4, &b, &err), 0);
	assert_int_equal(b.len, ALOG_STORE_RECORD_MAX);
	assert_memory_equal(b.data, big, ALOG_STORE_RECORD_MAX);
	assert_int_equal(alog_store_get(s, 3, &b, &err), 0);
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.data, "ok", 2);
	alog_buf_release(&b);
	expect_check_ok(s);
	alog_store_close(s);
	free(big);
}

/* Blocks encoded ahead of the append (SPEC.md 10.2) are taken only when
 * they are the ones the store would make: a batch of 200 K_BIG records
 * (1012 payload bytes each: blocks of 65, 65, 65 and 5) is refused, with
 * nothing written, for a block missing, a boundary moved, a header's first
 * index, count or first received time off, a block cut short; the right
 * blocks make the same segment bytes and tree as alog_store_append. */
#define ENC_N 200

static void encode_range(struct alog_codec *codec,
			 const struct alog_store_rec *recs, size_t start,
			 size_t end, uint64_t first_index, int64_t received,
			 struct alog_buf *out)
{
	struct alog_buf payload;
	struct alog_err err;
	int rc;

	alog_buf_init(&payload, 0);
	alog_buf_reset(out);
	for (size_t i = start; i < end; i++) {
		assert_int_equal(alog_buf_add(&payload, recs[i].data,
					      recs[i].len, NULL), 0);
		assert_int_equal(alog_buf_addc(&payload, '\n', NULL), 0);
	}
	rc = alog_block_encode(codec, first_index, (uint32_t)(end - start),
			       received, payload.data, payload.len, out, &err);
	if (rc < 0)
		fail_with("encode", rc, &err);
	alog_buf_release(&payload);
}

static void test_store_append_encoded_takes_only_the_blocks_it_would_make(
	void **state)
{
	struct fx *f = *state;
	static const size_t cut[] = { 0, 65, 130, 195, ENC_N };
	struct alog_store_rec recs[ENC_N];
	struct alog_store_block blk[4];
	struct alog_buf enc[4], bad;
	struct alog_codec *codec;
	struct alog_store *s = create_open(f, 0), *s2;
	unsigned char (*lv)[32] = ref_leaves(K_BIG, ENC_N);
	char *buf = malloc(ENC_N * REC_CAP);
	char dir2[4200], seg[4300];
	unsigned char *a, *b;
	size_t alen, blen;
	struct alog_err err;

	assert_non_null(buf);
	assert_int_equal(alog_codec_new(&codec, NULL), 0);
	for (size_t i = 0; i < ENC_N; i++) {
		recs[i] = (struct alog_store_rec){ 0 };
		recs[i].data = (unsigned char *)buf + i * REC_CAP;
		recs[i].len = gen(K_BIG, i, buf + i * REC_CAP);
		recs[i].received_us = recv_of(i);
		assert_int_equal(recs[i].len, 1011);
	}
	for (int j = 0; j < 4; j++) {
		alog_buf_init(&enc[j], 0);
		encode_range(codec, recs, cut[j], cut[j + 1], cut[j],
			     recv_of(cut[j]), &enc[j]);
		blk[j] = (struct alog_store_block){ cut[j], cut[j + 1],
						    enc[j].data, enc[j].len };
	}
	alog_buf_init(&bad, 0);

	/* a block missing */
	assert_int_equal(alog_store_append_encoded(s, recs, ENC_N, blk, 3,
						   &err), ALOG_EINVAL);
	/* a boundary moved (the headers would say so too) */
	blk[0].end = blk[1].start = 64;
	assert_int_equal(alog_store_append_encoded(s, recs, ENC_N, blk, 4,
						   &err), ALOG_EINVAL);
	blk[0].end = blk[1].start = 65;
	/* block 1's header: first index, then first received time, off */
	encode_range(codec, recs, 65, 130, 66, recv_of(65), &bad);
	blk[1].data = bad.data;
	blk[1].len = bad.len;
	assert_int_equal(alog_store_append_encoded(s, recs, ENC_N, blk, 4,
						   &err), ALOG_EINVAL);
	encode_range(codec, recs, 65, 130, 65, recv_of(65) + 1, &bad);
	blk[1].data = bad.data;
	blk[1].len = bad.len;
	assert_int_equal(alog_store_append_encoded(s, recs, ENC_N, blk, 4,
						   &err), ALOG_EINVAL);
	/* block 2's count: the records of block 2 less its last */
	encode_range(codec, recs, 130, 194, 130, recv_of(130), &bad);
	blk[1] = (struct alog_store_block){ 65, 130, enc[1].data, enc[1].len };
	blk[2].data = bad.data;
	blk[2].len = bad.len;
	assert_int_equal(alog_store_append_encoded(s, recs, ENC_N, blk, 4,
						   &err), ALOG_EINVAL);
	blk[2].data = enc[2].data;
	blk[2].len = enc[2].len;
	/* the last block cut short */
	blk[3].len--;
	assert_int_equal(alog_store_append_encoded(s, recs, ENC_N, blk, 4,
						   &err), ALOG_EINVAL);
	blk[3].len++;
	assert_int_equal(alog_store_size(s), 0);

	alog_err_clear(&err);
	if (alog_store_append_encoded(s, recs, ENC_N, blk, 4, &err) < 0)
		fail_with("append encoded", err.code, &err);
	assert_int_equal(alog_store_size(s), ENC_N);
	expect_all_records(s, K_BIG);
	expect_root(s, (const unsigned char (*)[32])lv);
	expect_check_ok(s);
	alog_store_close(s);

	/* the same segment bytes as the store's own compression */
	snprintf(dir2, sizeof(dir2), "%s/store2", f->tmp);
	alog_err_clear(&err);
	assert_int_equal(alog_store_create(dir2, ORIGIN, &f->vkey, NULL, &err),
			 0);
	assert_int_equal(alog_store_open(dir2, ALOG_STORE_WRITE, &s2, NULL,
					 &err), 0);
	assert_int_equal(alog_store_append(s2, recs, ENC_N, &err), 0);
	alog_store_close(s2);
	snprintf(seg, sizeof(seg), "%s/segments/00000001.seg", f->dir);
	a = testutil_read_file(seg, &alen);
	snprintf(seg, sizeof(seg), "%s/segments/00000001.seg", dir2);
	b = testutil_read_file(seg, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);

	free(a);
	free(b);
	for (int j = 0; j < 4; j++)
		alog_buf_release(&enc[j]);
	alog_buf_release(&bad);
	alog_codec_free(codec);
	free(lv);
	free(buf);
}

/* ---- tests: segments, crash recovery, damage ---- */

static void test_store_rotates_tiny_segments_and_reads_everything_back(
	void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, ALOG_SEGMENT_SIZE_MIN);
	unsigned char (*lv)[32] = ref_leaves(K_BIG, 200);
	const unsigned char (*clv)[32] = (const unsigned char (*)[32])lv;
	struct alog_store_recovery rec;
	uint64_t total = 0;

	for (unsigned b = 0; total < 160; b++) {
		size_t n = 1 + b % 5;

		must_append(s, K_BIG, n);
		total += n;
	}
	assert_true(count_segment_files(f) >= 20);
	expect_root(s, clv);
	expect_all_records(s, K_BIG);
	expect_check_ok(s);
	alog_store_close(s);

	/* A torn tail in the newest segment, and a segment file after it
	 * (a crash in the middle of a rotating batch). */
	{
		unsigned last = 0;
		char p[4200], name[64];

		for (unsigned id = 1; id < 1000; id++) {
			snprintf(name, sizeof(name), "segments/%08u.seg", id);
			path_in(f, name, p, sizeof(p));
			if (access(p, F_OK) == 0)
				last = id;
		}
		assert_true(last >= 20);
		snprintf(name, sizeof(name), "segments/%08u.seg", last);
		path_in(f, name, p, sizeof(p));
		append_bytes(p, "ALB1\0\0\0\0torn", 12);
		snprintf(name, sizeof(name), "segments/%08u.seg", last + 1);
		path_in(f, name, p, sizeof(p));
		append_bytes(p, "", 0);
		s = reopen(f, ALOG_STORE_WRITE, &rec);
		assert_int_equal(rec.cut, 1);
		assert_int_equal(rec.segment_id, last);
		assert_int_equal(rec.cut_bytes, 12);
		assert_int_equal(rec.removed_segments, 1);
		assert_int_equal(access(p, F_OK), -1);
	}
	assert_int_equal(alog_store_size(s), total);
	expect_root(s, clv);
	must_append(s, K_BIG, 200 - total);
	expect_root(s, clv);
	expect_all_records(s, K_BIG);
	expect_check_ok(s);
	for (uint64_t m = 0; m <= 200; m += 7)
		expect_root_at(s, m, clv);
	alog_store_close(s);
	s = reopen(f, ALOG_STORE_RDONLY, NULL);
	expect_all_records(s, K_BIG);
	expect_check_ok(s);
	alog_store_close(s);
	free(lv);
}

static void test_store_one_batch_may_span_many_tiny_segments(void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, ALOG_SEGMENT_SIZE_MIN);
	struct alog_store_recovery rec;
	struct alog_err err;
	int rc;

	/* 700 records of ~1 KB: 11 blocks of >= ALOG_BLOCK_TARGET bytes,
	 * each larger than segment_max, so one segment each. A batch the
	 * log layer may legally send (ALOG_LOG_BATCH_* are far larger). */
	rc = append_kind(s, K_BIG, 0, 700, &err);
	if (rc < 0)
		fail_with("append", rc, &err);
	assert_true(count_segment_files(f) >= 10);
	expect_all_records(s, K_BIG);
	expect_check_ok(s);
	alog_store_close(s);
	s = reopen(f, ALOG_STORE_WRITE, &rec);
	assert_int_equal(rec.cut, 0);
	assert_int_equal(rec.removed_segments, 0);
	must_append(s, K_BIG, 300);
	expect_all_records(s, K_BIG);
	expect_check_ok(s);
	alog_store_close(s);
}

static void test_store_open_cuts_a_torn_tail_at_every_offset(void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	char seg[4200];
	unsigned char *file, *block;
	struct blk bl[4];
	size_t n_file, n_bl, block_len;
	uint64_t committed;

	path_in(f, SEG1, seg, sizeof(seg));
	must_append(s, K_SIMPLE, 2);
	must_append(s, K_SIMPLE, 3);
	alog_store_close(s);
	file = testutil_read_file(seg, &n_file);
	n_bl = parse_blocks(file, n_file, bl, 4);
	assert_int_equal(n_bl, 2);
	/* The last committed block: a valid-looking block to tear. */
	block_len = (size_t)bl[1].len;
	block = malloc(block_len);
	assert_non_null(block);
	memcpy(block, file + bl[1].off, block_len);
	free(file);
	committed = n_file;

	for (size_t k = 0; k <= block_len; k++) {
		struct alog_store_recovery rec;
		uint32_t cur_id = (uint32_t)(k == 0 ? 1 : k);
		char rel[64];

		append_bytes(seg, block, k);
		assert_int_equal(file_size(seg), committed + k);
		s = reopen(f, ALOG_STORE_WRITE, &rec);
		if (k == 0) {
			assert_int_equal(rec.cut, 0);
		} else {
			assert_int_equal(rec.cut, 1);
			assert_int_equal(rec.segment_id, cur_id);
			assert_int_equal(rec.cut_from, committed);
			assert_int_equal(rec.cut_bytes, k);
		}
		assert_int_equal(rec.removed_segments, 0);
		assert_int_equal(file_size(seg), committed);
		assert_int_equal(alog_store_size(s), 5 + k);
		must_append(s, K_SIMPLE, 1);
		expect_check_ok(s);
		alog_store_close(s);
		/* A cut segment is never written again (SPEC.md 8): the
		 * append went to a new one, which the next round tears. */
		if (k > 0) {
			snprintf(rel, sizeof(rel), "segments/%08u.seg",
				 (unsigned)cur_id + 1);
			path_in(f, rel, seg, sizeof(seg));
		}
		committed = file_size(seg);
	}
	s = reopen(f, ALOG_STORE_RDONLY, NULL);
	expect_all_records(s, K_SIMPLE);
	expect_check_ok(s);
	alog_store_close(s);
	free(block);
}

static void test_store_write_open_refuses_a_segment_missing_committed_bytes(
	void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	char seg[4200];
	struct alog_err err;
	struct alog_store *t = NULL;
	uint64_t committed;
	int rc;

	path_in(f, SEG1, seg, sizeof(seg));
	must_append(s, K_BIN, 300); /* two blocks */
	alog_store_close(s);
	committed = file_size(seg);

	assert_int_equal(truncate(seg, (off_t)(committed - 1)), 0);
	alog_err_clear(&err);
	rc = alog_store_open(f->dir, ALOG_STORE_WRITE, &t, NULL, &err);
	assert_int_equal(rc, ALOG_ECORRUPT);
	assert_null(t);
	if (!strstr(err.msg, "00000001.seg"))
		fail_msg("message does not name the segment: %s", err.msg);
	/* Nothing was cut or repaired by the refused open. */
	assert_int_equal(file_size(seg), committed - 1);

	/* Below the segment header: still refused, still named. */
	assert_int_equal(truncate(seg, 10), 0);
	alog_err_clear(&err);
	rc = alog_store_open(f->dir, ALOG_STORE_WRITE, &t, NULL, &err);
	assert_int_equal(rc, ALOG_ECORRUPT);
	assert_null(t);
	if (!strstr(err.msg, "00000001.seg"))
		fail_msg("message does not name the segment: %s", err.msg);
}

/* Cut the last byte of a store of n records of K_BIN (two blocks or
 * more), open it read-only and check: ECORRUPT, bad_index in the last
 * block, the segment named. Returns the open's rc instead when the
 * read-only open itself fails. */
static int missing_bytes_check(struct fx *f, uint64_t n)
{
	struct alog_store *s = create_open(f, 0);
	char seg[4200];
	unsigned char *file;
	struct blk bl[8];
	size_t n_file, n_bl;
	struct alog_err err;
	uint64_t bad = 0;
	int rc;

	path_in(f, SEG1, seg, sizeof(seg));
	must_append(s, K_BIN, n);
	alog_store_close(s);
	file = testutil_read_file(seg, &n_file);
	n_bl = parse_blocks(file, n_file, bl, 8);
	free(file);
	assert_true(n_bl >= 2);
	assert_int_equal(truncate(seg, (off_t)(n_file - 1)), 0);
	alog_err_clear(&err);
	rc = alog_store_open(f->dir, ALOG_STORE_RDONLY, &s, NULL, &err);
	if (rc < 0)
		return rc;
	assert_int_equal(alog_store_size(s), n);
	alog_err_clear(&err);
	rc = alog_store_check(s, NULL, NULL, NULL, NULL, NULL, &bad, &err);
	assert_int_equal(rc, ALOG_ECORRUPT);
	if (bad < bl[n_bl - 1].first_index || bad >= n)
		fail_msg("bad_index %" PRIu64 " is not in the last block", bad);
	if (!strstr(err.msg, "00000001.seg"))
		fail_msg("message does not name the segment: %s", err.msg);
	alog_store_close(s);
	return 0;
}

static void test_store_read_only_check_reports_missing_committed_bytes(
	void **state)
{
	struct fx *f = *state;
	int rc;

	/* 512 records: whole groups, the open needs only stored nodes. */
	assert_int_equal(missing_bytes_check(f, 512), 0);
	/* 300 records: the open rehashes the last, partial group. */
	snprintf(f->dir, sizeof(f->dir), "%s/store300", f->tmp);
	rc = missing_bytes_check(f, 300);
	assert_int_equal(rc, 0);
}

static void test_store_check_finds_a_flipped_byte_in_a_middle_block(
	void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	char seg[4200];
	unsigned char *file;
	struct blk bl[8];
	size_t n_file, n_bl;
	uint64_t bad = 0;
	struct alog_err err;
	int rc;

	path_in(f, SEG1, seg, sizeof(seg));
	/* One batch of > 3 * ALOG_BLOCK_TARGET bytes: at least 4 blocks. */
	must_append(s, K_BIG, 260);
	expect_check_ok(s);
	alog_err_clear(&err);
	assert_int_equal(alog_store_check(s, NULL, NULL, NULL, NULL, NULL, &bad,
					  &err), 0);
	assert_true(bad == UINT64_MAX);

	file = testutil_read_file(seg, &n_file);
	n_bl = parse_blocks(file, n_file, bl, 8);
	assert_true(n_bl >= 3);
	assert_int_equal(bl[1].off + bl[1].len, bl[2].off);
	{
		/* Header magic, first_index, n_records, CRC, the frame's
		 * first byte, middle and last byte of block 1. */
		uint64_t where[] = { 0, 15, 19, 37, ALOG_BLOCK_HEADER_LEN,
				     bl[1].len / 2, bl[1].len - 1 };

		for (size_t k = 0; k < sizeof(where) / sizeof(where[0]); k++) {
			uint64_t off = bl[1].off + where[k];
			unsigned char c = file[off] ^ 0x20;
			struct alog_buf b;

			write_at(seg, off, &c, 1);
			alog_err_clear(&err);
			bad = 0;
			rc = alog_store_check(s, NULL, NULL, NULL, NULL, NULL, &bad,
					      &err);
			assert_int_equal(rc, ALOG_ECORRUPT);
			if (bad < bl[1].first_index ||
			    bad >= bl[1].first_index + bl[1].n)
				fail_msg("flip at +%" PRIu64 ": bad_index %" PRIu64
					 " outside block %" PRIu64 "..%" PRIu64,
					 where[k], bad, bl[1].first_index,
					 bl[1].first_index + bl[1].n - 1);
			/* Records of the damaged block are refused, those of
			 * the others still read. */
			alog_buf_init(&b, 0);
			assert_int_equal(alog_store_get(s, bl[1].first_index,
							&b, &err),
					 ALOG_ECORRUPT);
			assert_int_equal(alog_store_get(s, bl[2].first_index,
							&b, NULL),
					 0);
			alog_buf_release(&b);
			write_at(seg, off, &file[off], 1);
		}
	}
	expect_check_ok(s);
	alog_store_close(s);
	free(file);
}

static void test_store_open_removes_uncommitted_segment_files(void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	struct alog_store_recovery rec;
	char p[4200];
	int fd;

	must_append(s, K_SIMPLE, 4);
	alog_store_close(s);
	path_in(f, "segments/00000009.seg", p, sizeof(p));
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "junk", 4), 4);
	close(fd);
	path_in(f, "segments/00000002.seg", p, sizeof(p));
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	close(fd);
	/* Not segment names: left alone. */
	path_in(f, "segments/notes.txt", p, sizeof(p));
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	close(fd);
	/* A read-only open changes nothing. */
	s = reopen(f, ALOG_STORE_RDONLY, NULL);
	alog_store_close(s);
	assert_int_equal(count_segment_files(f), 3);

	s = reopen(f, ALOG_STORE_WRITE, &rec);
	assert_int_equal(rec.removed_segments, 2);
	assert_int_equal(rec.cut, 0);
	assert_int_equal(count_segment_files(f), 1);
	assert_int_equal(access(p, F_OK), 0);
	path_in(f, "segments/00000009.seg", p, sizeof(p));
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(alog_store_size(s), 4);
	must_append(s, K_SIMPLE, 1);
	expect_check_ok(s);
	alog_store_close(s);
	s = reopen(f, ALOG_STORE_WRITE, &rec);
	assert_int_equal(rec.removed_segments, 0);
	alog_store_close(s);
}

static void test_store_failed_sync_abandons_the_segment(void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	struct alog_err err;
	unsigned char root[ALOG_HASH_LEN], again[ALOG_HASH_LEN];
	char seg1[4200], seg2[4200];
	uint64_t seg1_size;
	int rc;

	path_in(f, SEG1, seg1, sizeof(seg1));
	path_in(f, "segments/00000002.seg", seg2, sizeof(seg2));
	must_append(s, K_SIMPLE, 10);
	alog_store_root(s, root);
	seg1_size = file_size(seg1);
	/* The batch's fdatasync fails: nothing of it is visible. */
	alog_store_test_fail_next_sync(s);
	rc = append_kind(s, K_SIMPLE, 10, 5, &err);
	assert_int_equal(rc, ALOG_EIO);
	assert_int_equal(alog_store_size(s), 10);
	alog_store_root(s, again);
	assert_memory_equal(root, again, sizeof(root));
	/* The next batch goes to a new segment; the failed one is never
	 * written again (its bytes past the committed end stay as they
	 * are, not part of the log). */
	must_append(s, K_SIMPLE, 5);
	assert_true(file_size(seg2) > ALOG_SEGMENT_HEADER_LEN);
	assert_true(file_size(seg1) >= seg1_size);
	must_append(s, K_SIMPLE, 5);
	assert_int_equal(alog_store_size(s), 20);
	/* A checkpoint can still be signed, and everything checks. */
	assert_int_equal(alog_store_sign_checkpoint(s, f->signer, T0, NULL,
						    &err), 0);
	expect_all_records(s, K_SIMPLE);
	expect_check_ok(s);
	alog_store_close(s);
	s = reopen(f, ALOG_STORE_RDONLY, NULL);
	expect_all_records(s, K_SIMPLE);
	expect_check_ok(s);
	alog_store_close(s);
}

/* A batch large enough to be hashed on its own thread (HASH_THREAD_MIN)
 * whose write fails meanwhile: the tree is as before it, and the batches
 * after it make the same tree as if it had never been tried. */
static void test_store_failed_sync_of_a_large_batch_leaves_the_tree(
	void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	struct alog_err err;
	unsigned char root[ALOG_HASH_LEN], again[ALOG_HASH_LEN];

	must_append(s, K_SIMPLE, 300);
	alog_store_root(s, root);
	alog_store_test_fail_next_sync(s);
	assert_int_equal(append_kind(s, K_SIMPLE, 300, 600, &err), ALOG_EIO);
	assert_int_equal(alog_store_size(s), 300);
	alog_store_root(s, again);
	assert_memory_equal(root, again, sizeof(root));
	must_append(s, K_SIMPLE, 600);
	must_append(s, K_SIMPLE, 300);
	assert_int_equal(alog_store_size(s), 1200);
	/* the records, every stored node and the root recomputed */
	expect_all_records(s, K_SIMPLE);
	expect_check_ok(s);
	alog_store_close(s);
	s = reopen(f, ALOG_STORE_RDONLY, NULL);
	expect_check_ok(s);
	alog_store_close(s);
}

/* ---- tests: ids, times ---- */

static void test_store_id_key_is_the_published_hash(void **state)
{
	unsigned char key[ALOG_STORE_ID_LEN], want[ALOG_STORE_ID_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(v_store_ids) / sizeof(v_store_ids[0]);
	     i++) {
		testutil_unhex(v_store_ids[i].digest, want, sizeof(want));
		alog_store_id_key(NULL, "billing", v_store_ids[i].id, key);
		assert_memory_equal(key, want, sizeof(key));
	}
	/* one byte off the UUIDv7 shape: no time */
	alog_store_id_key(NULL, "billing", "018bcfe5-687b-774b-8a3f-0123456789a", key);
	assert_memory_equal(key, "\0\0\0\0\0\0", 6);
	alog_store_id_key(NULL, "billing", "018bcfe5-687b-774b-8a3f-0123456789ag", key);
	assert_memory_equal(key, "\0\0\0\0\0\0", 6);
	alog_store_id_key(NULL, "billing", "018bcfe5+687b-774b-8a3f-0123456789ab", key);
	assert_memory_equal(key, "\0\0\0\0\0\0", 6);
	{
		/* each a byte away from a UUIDv7: length, a dash, the
		 * version, the variant, a digit of the time and of the rest */
		static const char *const off_shape[] = {
			"018bcfe5-687b-774b-8a3f-0123456789abc",
			"018bcfe5-687b-774b-8a3f+0123456789ab",
			"018bcfe5-687b-674b-8a3f-0123456789ab",
			"018bcfe5-687b-774b-ca3f-0123456789ab",
			"018bcfe5-687b-774b-xa3f-0123456789ab",
			"018bcfG5-687b-774b-8a3f-0123456789ab",
			"018bcfe5-687b-774b-8a3f-01234567 9ab",
		};

		for (size_t i = 0; i < sizeof(off_shape) / sizeof(off_shape[0]);
		     i++) {
			alog_store_id_key(NULL, "billing", off_shape[i], key);
			assert_memory_equal(key, "\0\0\0\0\0\0", 6);
		}
		/* upper-case digits are hex too */
		alog_store_id_key(NULL, "billing",
				  "018BCFE5-687B-774B-8A3F-0123456789AB", key);
		assert_memory_equal(key, "\x01\x8b\xcf\xe5\x68\x7b", 6);
	}
	/* The separator keeps (a, bc) and (ab, c) apart. */
	alog_store_id_key(NULL, "ab", "c", key);
	alog_store_id_key(NULL, "a", "bc", want);
	assert_memory_not_equal(key, want, sizeof(key));
}

static void expect_conflict_changes_nothing(struct fx *f,
					    struct alog_store *s,
					    const struct alog_store_rec *r,
					    size_t n)
{
	unsigned char before[32], after[32];
	uint64_t size = alog_store_size(s);
	uint64_t seg_bytes;
	char seg[4200];
	struct alog_err err;

	path_in(f, SEG1, seg, sizeof(seg));
	seg_bytes = file_size(seg);
	alog_store_root(s, before);
	alog_err_clear(&err);
	assert_int_equal(alog_store_append(s, r, n, &err), ALOG_ECONFLICT);
	assert_int_equal(alog_store_size(s), size);
	alog_store_root(s, after);
	assert_memory_equal(before, after, 32);
	assert_int_equal(file_size(seg), seg_bytes);
}

/* SPEC.md 7 "Recent ids": keys go to ids_recent and are merged into ids
 * when the next batch would overfill it (here past 5 keys); every key
 * stays found, before and after merges and reopens, and a key in either
 * table is refused. */
static int cmp_key_desc(const void *a, const void *b)
{
	return memcmp(b, a, ALOG_STORE_ID_KEY_LEN);
}

static void test_store_recent_ids_merge_into_ids_and_stay_found(void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	unsigned char keys[13][ALOG_STORE_ID_LEN];
	struct alog_store_rec r[3];
	struct alog_err err;
	uint64_t index = 0;
	char id[16];

	for (int i = 0; i < 13; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		alog_store_id_key(NULL, "src", id, keys[i]);
	}
	/* in falling key order: after the first batch (appended to the
	 * empty ids) each key sorts before ids' last, so it is staged */
	qsort(keys, 13, sizeof(keys[0]), cmp_key_desc);
	alog_store_set_ids_recent_max(s, 5);
	for (int b = 0; b < 4; b++) {
		for (int j = 0; j < 3; j++)
			r[j] = (struct alog_store_rec){
				(const unsigned char *)"rec", 3,
				T0 + b, keys[3 * b + j], NULL };
		if (alog_store_append(s, r, 3, &err) < 0)
			fail_msg("batch %d: %s", b, err.msg);
		for (int i = 0; i < 3 * (b + 1); i++) {
			assert_int_equal(alog_store_find_id(s, keys[i], &index,
							    &err), 0);
			assert_int_equal(index, (uint64_t)i);
		}
		assert_int_equal(alog_store_find_id(s, keys[12], &index, &err),
				 ALOG_ENOTFOUND);
	}
	/* a key merged into ids (0) and one still recent (11): refused */
	r[0] = (struct alog_store_rec){ (const unsigned char *)"again", 5,
					T0 + 9, keys[0], NULL };
	expect_conflict_changes_nothing(f, s, r, 1);
	r[0].id_key = keys[11];
	expect_conflict_changes_nothing(f, s, r, 1);
	alog_store_close(s);

	/* the writer reads ids_recent back; a reader finds both tables */
	s = reopen(f, ALOG_STORE_WRITE, NULL);
	alog_store_set_ids_recent_max(s, 5);
	r[0].id_key = keys[9];
	expect_conflict_changes_nothing(f, s, r, 1);
	r[0].id_key = keys[12];
	if (alog_store_append(s, r, 1, &err) < 0)
		fail_msg("append after reopen: %s", err.msg);
	expect_check_ok(s);
	alog_store_close(s);
	s = reopen(f, ALOG_STORE_RDONLY, NULL);
	for (int i = 0; i < 13; i++) {
		assert_int_equal(alog_store_find_id(s, keys[i], &index, &err), 0);
		assert_int_equal(index, (uint64_t)i);
	}
	alog_store_close(s);
}

/* Keys in ids_recent that share all but one byte are different keys:
 * each is stored, found at its own index, and a repeat of any of them is
 * refused. The bytes: 0 and 5 (outside the bytes the map's slot is
 * chosen by, so both keys probe the same slots: a compare of the second
 * half only fails), 7 and 8 (either side of the halves the map
 * compares), 15 (the last, the same slots again: a compare of the first
 * half only fails). */
static void test_store_recent_keys_one_byte_apart_stay_apart(void **state)
{
	static const int at[] = { 0, 5, 7, 8, 15 };
	enum { N_KEYS = 1 + sizeof(at) / sizeof(at[0]) };
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	unsigned char high[ALOG_STORE_ID_LEN], keys[N_KEYS][ALOG_STORE_ID_LEN];
	struct alog_store_rec r;
	struct alog_err err;
	uint64_t index = 0;

	/* ids' last key is high: the others sort before it, to ids_recent */
	memset(high, 0xff, sizeof(high));
	r = (struct alog_store_rec){ (const unsigned char *)"rec", 3, T0, high,
				     NULL };
	if (alog_store_append(s, &r, 1, &err) < 0)
		fail_msg("first: %s", err.msg);
	memset(keys[0], 0x5a, sizeof(keys[0]));
	for (int k = 1; k < N_KEYS; k++) {
		memcpy(keys[k], keys[0], sizeof(keys[0]));
		keys[k][at[k - 1]] ^= 0x01;
	}
	for (int k = 0; k < N_KEYS; k++) {
		r.id_key = keys[k];
		if (alog_store_append(s, &r, 1, &err) < 0)
			fail_msg("key %d: %s", k, err.msg);
	}
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < N_KEYS; k++) {
			assert_int_equal(alog_store_find_id(s, keys[k], &index,
							    &err), 0);
			assert_int_equal(index, (uint64_t)k + 1);
			r.id_key = keys[k];
			expect_conflict_changes_nothing(f, s, &r, 1);
		}
		/* and after the writer reads ids_recent back */
		alog_store_close(s);
		s = reopen(f, ALOG_STORE_WRITE, NULL);
	}
	alog_store_close(s);
}

static int cmp_key_asc(const void *a, const void *b)
{
	return memcmp(a, b, ALOG_STORE_ID_KEY_LEN);
}

/* Batches of keys in order, in falling order, in runs and as hashed,
 * large enough for the sort's merges of several widths (and not a power of
 * two): every key is found at its index, from ids or ids_recent, across
 * merges and a reopen; a key twice in a batch is refused however far
 * apart the two are, and the later record is named. */
static void test_store_large_batches_of_keys_in_any_order_are_kept_right(
	void **state)
{
	enum { N = 1500, B = 4 };
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	unsigned char (*keys)[ALOG_STORE_ID_LEN] =
		calloc(N * B + 1, sizeof(*keys));
	unsigned char first[ALOG_STORE_ID_LEN];
	struct alog_store_rec *r = calloc(N, sizeof(*r));
	struct alog_store_rec one;
	struct alog_err err;
	uint64_t index = 0;
	char id[32], want[64];

	assert_non_null(keys);
	assert_non_null(r);
	for (int i = 0; i < N * B + 1; i++) {
		snprintf(id, sizeof(id), "key-%d", i);
		alog_store_id_key(NULL, "src", id, keys[i]);
	}
	/* batch 0 in key order, 1 in falling key order, 2 in rising runs of
	 * 7 that fall from run to run, 3 as hashed */
	qsort(keys, N, sizeof(keys[0]), cmp_key_asc);
	qsort(keys + N, N, sizeof(keys[0]), cmp_key_desc);
	qsort(keys + 2 * N, N, sizeof(keys[0]), cmp_key_desc);
	for (int i = 0; i + 7 <= N; i += 7)
		qsort(keys + 2 * N + i, 7, sizeof(keys[0]), cmp_key_asc);
	/* the middle key of batch 0 goes first, alone: the batches then go
	 * partly to ids (after its last key) and partly to ids_recent */
	memcpy(first, keys[N / 2], sizeof(first));
	memcpy(keys[N / 2], keys[N * B], sizeof(first));
	one = (struct alog_store_rec){ (const unsigned char *)"first", 5, T0,
				       first, NULL };
	assert_int_equal(alog_store_append(s, &one, 1, &err), 0);
	/* a small ids_recent: the later batches merge it into ids */
	alog_store_set_ids_recent_max(s, 2000);
	for (int b = 0; b < B; b++) {
		for (int j = 0; j < N; j++)
			r[j] = (struct alog_store_rec){
				(const unsigned char *)"rec", 3, T0 + 1 + b,
				keys[b * N + j], NULL };
		if (b == 1) {
			/* twice in the batch, far apart */
			r[N - 3].id_key = r[4].id_key;
			alog_err_clear(&err);
			assert_int_equal(alog_store_append(s, r, N, &err),
					 ALOG_ECONFLICT);
			snprintf(want, sizeof(want),
				 "record %d of the batch: its (source, id) came earlier",
				 N - 3);
			assert_non_null(strstr(err.msg, want));
			expect_conflict_changes_nothing(f, s, r, N);
			r[N - 3].id_key = keys[b * N + N - 3];
		}
		if (alog_store_append(s, r, N, &err) < 0)
			fail_msg("batch %d: %s", b, err.msg);
	}
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(alog_store_find_id(s, first, &index, &err), 0);
		assert_int_equal(index, 0);
		for (int i = 0; i < N * B; i++) {
			assert_int_equal(alog_store_find_id(s, keys[i], &index,
							    &err), 0);
			assert_int_equal(index, (uint64_t)i + 1);
		}
		expect_check_ok(s);
		alog_store_close(s);
		s = reopen(f, ALOG_STORE_WRITE, NULL);
		alog_store_set_ids_recent_max(s, 2000);
	}
	alog_store_close(s);
	free(r);
	free(keys);
}

/* A write transaction on the store's index, opened directly (the store
 * closed): for tests that damage or age what it holds. */
static MDB_txn *index_txn(struct fx *f, MDB_env **env)
{
	char idx[4200];
	MDB_txn *txn;

	snprintf(idx, sizeof(idx), "%s/index", f->dir);
	assert_int_equal(mdb_env_create(env), 0);
	assert_int_equal(mdb_env_set_maxdbs(*env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(*env, (size_t)1 << 30), 0);
	assert_int_equal(mdb_env_open(*env, idx, MDB_NOTLS, 0640), 0);
	assert_int_equal(mdb_txn_begin(*env, NULL, 0, &txn), 0);
	return txn;
}

/* Set meta "format" (with its checksum, SPEC.md 7) and drop ids_recent
 * (as a store written before format 2 looks) and, below format 3, meta
 * "node_level". */
static void make_format(struct fx *f, uint32_t format)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta, recent;
	unsigned char v[8];
	MDB_val k = { 6, "format" }, val = { 8, v };

	txn = index_txn(f, &env);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	alog_put_be32(v, format);
	alog_put_be32(v + 4, alog_crc32c(alog_crc32c(0, "format", 6), v, 4));
	assert_int_equal(mdb_put(txn, meta, &k, &val, 0), 0);
	if (mdb_dbi_open(txn, "ids_recent", 0, &recent) == 0)
		assert_int_equal(mdb_drop(txn, recent, 1), 0);
	if (format < 3) {  /* node_level came with format 3 */
		MDB_val nl = { 10, "node_level" };

		(void)mdb_del(txn, meta, &nl, NULL);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Put key -> val with its checksum (SPEC.md 7) in an open transaction. */
static void put_sum(MDB_txn *txn, MDB_dbi dbi, const void *key,
		    size_t key_len, const void *val, size_t val_len)
{
	unsigned char v[64];
	MDB_val k = { key_len, (void *)key }, mv = { val_len + 4, v };

	assert_true(val_len + 4 <= sizeof(v));
	memcpy(v, val, val_len);
	alog_put_be32(v + val_len, alog_crc32c(alog_crc32c(0, key, key_len),
					       val, val_len));
	assert_int_equal(mdb_put(txn, dbi, &k, &mv, 0), 0);
}

/* Put key -> value (with its checksum, SPEC.md 7) into table, bypassing
 * the store: the damage a check must find. */
static void put_raw(struct fx *f, const char *table, const void *key,
		    size_t key_len, const void *val, size_t val_len)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	txn = index_txn(f, &env);
	assert_int_equal(mdb_dbi_open(txn, table, 0, &dbi), 0);
	put_sum(txn, dbi, key, key_len, val, val_len);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void expect_check_fails(struct fx *f, const char *what)
{
	struct alog_store *s = reopen(f, ALOG_STORE_RDONLY, NULL);
	struct alog_err err;
	uint64_t bad = 0;

	alog_err_clear(&err);
	assert_int_equal(alog_store_check(s, NULL, NULL, NULL, NULL, NULL,
					  &bad, &err), ALOG_ECORRUPT);
	if (!strstr(err.msg, what))
		fail_msg("check said '%s', not '%s'", err.msg, what);
	alog_store_close(s);
}

/* verify checks the id tables (SPEC.md 7): a key in both ids and
 * ids_recent, and an entry naming a record past the log. */
static void test_store_check_finds_damage_in_the_id_tables(void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	unsigned char k1[ALOG_STORE_ID_LEN], k2[ALOG_STORE_ID_LEN], v[8];
	unsigned char late[ALOG_STORE_ID_LEN];
	struct alog_store_rec r;
	struct alog_err err;

	alog_store_id_key(NULL, "src", "id-1", k1);
	alog_store_id_key(NULL, "src", "id-2", k2);
	/* a key that sorts last, so that k1 goes to ids_recent */
	alog_store_id_key(NULL, "src", "ffffffff-ffff-7fff-bfff-ffffffffffff",
			  late);
	r = (struct alog_store_rec){ (const unsigned char *)"late", 4, T0,
				     late, NULL };
	assert_int_equal(alog_store_append(s, &r, 1, &err), 0);
	r = (struct alog_store_rec){ (const unsigned char *)"with id", 7,
				     T0, k1, NULL };
	assert_int_equal(alog_store_append(s, &r, 1, &err), 0);
	expect_check_ok(s);
	alog_store_close(s);
	/* k1 is in ids_recent: the same key in ids too */
	alog_put_be64(v, 1);
	put_raw(f, "ids", k1, 16, v, 8);
	expect_check_fails(f, "both hold the key of record 1");
	/* an ids entry past the log (a tree of 2 records) */
	alog_put_be64(v, 7);
	put_raw(f, "ids", k1, 16, v, 8);
	put_raw(f, "ids", k2, 16, v, 8);
	expect_check_fails(f, "past the log");
}

/* Make the store look written by format 1 or 2 with records 0..n-1 keyed
 * by keys[i] in the older form (SPEC.md 7 "Older stores"): format 1 has
 * them all in ids and no ids_recent; format 2 has the first in ids and the
 * others in ids_recent. */
static void make_legacy(struct fx *f, uint32_t format,
			unsigned char (*keys)[ALOG_STORE_ID_LEN], size_t n)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta, ids, recent;
	unsigned char u[8];

	make_format(f, format);
	txn = index_txn(f, &env);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_dbi_open(txn, "ids", 0, &ids), 0);
	assert_int_equal(mdb_drop(txn, ids, 0), 0);
	if (format == 2)
		assert_int_equal(mdb_dbi_open(txn, "ids_recent", MDB_CREATE,
					      &recent), 0);
	for (size_t i = 0; i < n; i++) {
		const unsigned char *old = keys[i] + ALOG_STORE_ID_TIME_LEN;

		alog_put_be64(u, i);
		if (format == 1 || i == 0)
			put_sum(txn, ids, old, 16, u, 8);
		else
			put_sum(txn, recent, u, 8, old, 16);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* The id tables are checked on a thread of their own while the blocks are
 * read; the fault reported is still the first in the check's order: a
 * damaged block before a damaged later block, both before the id tables,
 * whose fault shows once the blocks are whole again. */
static void test_store_check_reports_the_first_fault_with_the_id_thread(
	void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	char seg[4200];
	unsigned char *file, k1[ALOG_STORE_ID_LEN], k2[ALOG_STORE_ID_LEN], v[8];
	struct alog_store_rec r;
	struct blk bl[8];
	size_t n_file, n_bl;
	uint64_t bad = 0, off1, off2;
	struct alog_err err;
	unsigned char c1, c2;

	path_in(f, SEG1, seg, sizeof(seg));
	alog_store_id_key(NULL, "src", "id-1", k1);
	alog_store_id_key(NULL, "src", "id-2", k2);
	r = (struct alog_store_rec){ (const unsigned char *)"with id", 7,
				     T0, k1, NULL };
	assert_int_equal(alog_store_append(s, &r, 1, &err), 0);
	must_append(s, K_BIG, 260);
	expect_check_ok(s);
	alog_store_close(s);
	/* an ids entry past the log */
	alog_put_be64(v, 100000);
	put_raw(f, "ids", k2, 16, v, 8);
	expect_check_fails(f, "past the log");

	file = testutil_read_file(seg, &n_file);
	n_bl = parse_blocks(file, n_file, bl, 8);
	assert_true(n_bl >= 4);
	off1 = bl[1].off + bl[1].len / 2;
	off2 = bl[2].off + bl[2].len / 2;
	c1 = file[off1] ^ 0x20;
	c2 = file[off2] ^ 0x20;
	write_at(seg, off1, &c1, 1);
	write_at(seg, off2, &c2, 1);
	s = reopen(f, ALOG_STORE_RDONLY, NULL);
	for (int round = 0; round < 2; round++) {
		alog_err_clear(&err);
		assert_int_equal(alog_store_check(s, NULL, NULL, NULL, NULL,
						  NULL, &bad, &err),
				 ALOG_ECORRUPT);
		if (bad < bl[1 + round].first_index ||
		    bad >= bl[1 + round].first_index + bl[1 + round].n)
			fail_msg("bad_index %" PRIu64 " not in block %d (%s)",
				 bad, 1 + round, err.msg);
		assert_null(strstr(err.msg, "past the log"));
		/* mend the first damaged block: the next one is reported */
		write_at(seg, off1, &file[off1], 1);
	}
	write_at(seg, off2, &file[off2], 1);
	alog_store_close(s);
	expect_check_fails(f, "past the log");
	free(file);
}

/* SPEC.md 7 "Older stores": a format 1 or 2 store is read as it is (its
 * older keys found) and upgraded to format 3 by a writer's open: its
 * keys stay found and refused again, new keys take the new form, an
 * older auditlog refuses it (format 3 is past what it reads), and a later
 * format is refused here. */
static void test_store_formats_1_and_2_are_upgraded_with_their_keys(
	void **state)
{
	struct fx *f = *state;
	unsigned char keys[4][ALOG_STORE_ID_LEN];
	static const char *ids[4] = {
		"id-0", "018bcfe5-687b-774b-8a3f-0123456789ab", "id-2",
		"018bcfe5-687b-774b-8a3f-0123456789ac",
	};
	struct alog_store *s;
	struct alog_err err;
	uint64_t index = 0;

	for (int i = 0; i < 4; i++)
		alog_store_id_key(NULL, "src", ids[i], keys[i]);
	for (uint32_t format = 1; format <= 2; format++) {
		struct alog_store_rec r[3];

		s = create_open(f, 0);
		for (int i = 0; i < 3; i++)
			r[i] = (struct alog_store_rec){
				(const unsigned char *)"rec", 3, T0, keys[i], NULL };
		assert_int_equal(alog_store_append(s, r, 3, &err), 0);
		alog_store_close(s);
		make_legacy(f, format, keys, 3);

		s = reopen(f, ALOG_STORE_RDONLY, NULL);
		assert_int_equal(alog_store_format(s), format);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(alog_store_find_id(s, keys[i], &index,
							    &err), 0);
			assert_int_equal(index, (uint64_t)i);
		}
		expect_check_ok(s);
		alog_store_close(s);

		s = reopen(f, ALOG_STORE_WRITE, NULL);
		assert_int_equal(alog_store_format(s), 3);
		r[0] = (struct alog_store_rec){ (const unsigned char *)"again",
						5, T0 + 1, keys[1], NULL };
		expect_conflict_changes_nothing(f, s, r, 1);
		r[0].id_key = keys[2];
		expect_conflict_changes_nothing(f, s, r, 1);
		r[0].id_key = keys[3];
		assert_int_equal(alog_store_append(s, r, 1, &err), 0);
		expect_check_ok(s);
		alog_store_close(s);

		s = reopen(f, ALOG_STORE_RDONLY, NULL);
		assert_int_equal(alog_store_format(s), 3);
		for (int i = 0; i < 4; i++) {
			assert_int_equal(alog_store_find_id(s, keys[i], &index,
							    &err), 0);
			assert_int_equal(index, (uint64_t)i);
		}
		alog_store_close(s);
		testutil_rmtree(f->dir);
	}
	s = create_open(f, 0);
	alog_store_close(s);
	make_format(f, 4);
	s = NULL;
	assert_int_equal(alog_store_open(f->dir, ALOG_STORE_RDONLY, &s, NULL,
					 &err), ALOG_ECORRUPT);
	assert_non_null(strstr(err.msg, "store format 4"));
}

/* SPEC.md 7 "Id keys", "Where a batch's keys go": keys from UUIDv7 ids
 * sort by time, so a batch appends them to ids and fills its pages; the
 * few that come late (a producer whose clock lags) go to ids_recent; every
 * key stays found, also after the writer reopens. */
static void test_store_time_keys_are_appended_and_found(void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	enum { N = 6000, B = 500 };
	unsigned char (*keys)[ALOG_STORE_ID_LEN] = malloc(N * sizeof(*keys));
	struct alog_store_rec *r = calloc(B, sizeof(*r));
	struct alog_err err;
	uint64_t index = 0;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi ids;
	MDB_stat st;
	size_t n_recent;
	char id[40];

	assert_non_null(keys);
	assert_non_null(r);
	for (int i = 0; i < N; i++) {
		/* one millisecond per 3 events, random tails; every 50th
		 * event 400 ms late */
		uint64_t ms = UINT64_C(0x018bcfe5687b) + i / 3 -
			      (i % 50 == 49 ? 400 : 0);

		snprintf(id, sizeof(id), "%08" PRIx64 "-%04" PRIx64
			 "-7%03x-9%03x-%012x", ms >> 16, ms & 0xffff,
			 (unsigned)(i * 2654435761u) & 0xfff,
			 (unsigned)(i * 40503u) & 0xfff, (unsigned)i);
		alog_store_id_key(NULL, "src", id, keys[i]);
		assert_int_not_equal(keys[i][0] | keys[i][1] | keys[i][5], 0);
	}
	alog_store_set_ids_recent_max(s, 1000);
	for (int b = 0; b < N / B; b++) {
		for (int j = 0; j < B; j++)
			r[j] = (struct alog_store_rec){
				(const unsigned char *)"rec", 3, T0,
				keys[b * B + j], NULL };
		if (alog_store_append(s, r, B, &err) < 0)
			fail_msg("batch %d: %s", b, err.msg);
	}
	for (int i = 0; i < N; i += 7) {
		assert_int_equal(alog_store_find_id(s, keys[i], &index, &err), 0);
		assert_int_equal(index, (uint64_t)i);
	}
	expect_check_ok(s);
	alog_store_close(s);
	txn = index_txn(f, &env);
	assert_int_equal(mdb_dbi_open(txn, "ids_recent", 0, &ids), 0);
	assert_int_equal(mdb_stat(txn, ids, &st), 0);
	n_recent = st.ms_entries;
	assert_int_equal(mdb_dbi_open(txn, "ids", 0, &ids), 0);
	assert_int_equal(mdb_stat(txn, ids, &st), 0);
	/* the late ones (past the first batch) and no others staged */
	assert_true(n_recent > 0 && n_recent <= N / 50);
	assert_int_equal(st.ms_entries + n_recent, N);
	/* keys of 16 + 12 bytes, 8 of node header and 2 of pointer: 40
	 * bytes each, about 100 in a page when full, 50 when split in
	 * halves, 70 when put in random order */
	if (st.ms_leaf_pages > st.ms_entries / 90 + 1)
		fail_msg("%zu leaf pages for %zu keys: not filled in order",
			 st.ms_leaf_pages, st.ms_entries);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	/* the writer reads the staged keys back */
	s = reopen(f, ALOG_STORE_WRITE, NULL);
	for (int i = 49; i < N; i += 50) {
		assert_int_equal(alog_store_find_id(s, keys[i], &index, &err), 0);
		assert_int_equal(index, (uint64_t)i);
	}
	r[0] = (struct alog_store_rec){ (const unsigned char *)"again", 5, T0,
					keys[N - 1], NULL };
	expect_conflict_changes_nothing(f, s, r, 1);
	alog_store_close(s);
	free(keys);
	free(r);
}

/* SPEC.md 7 "Where a batch's keys go": a key equal to the last key of
 * ids (the one a batch's keys are split at) is refused, alone or beside
 * keys that would be appended or staged, and beside a key whose staging
 * merges ids_recent: nothing of such a batch stays, ids_recent and the
 * writer's copy of it included, and every key stays found. */
static void test_store_key_equal_to_the_last_of_ids_is_refused(void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	/* ms of ids 0..5: late (staged) 0, 1; in order 2, 3, 4; later 5 */
	static const uint64_t ms[] = { 10, 11, 20, 21, 22, 30 };
	unsigned char k[6][ALOG_STORE_ID_LEN];
	struct alog_store_rec r[3];
	struct alog_err err;
	uint64_t index = 0;
	char id[40];
	int rc;

	for (int i = 0; i < 6; i++) {
		snprintf(id, sizeof(id), "018bcfe5-%04x-7000-8000-00000000000%d",
			 (unsigned)ms[i], i);
		alog_store_id_key(NULL, "src", id, k[i]);
		assert_int_equal(k[i][5], (unsigned char)ms[i]); /* a time key */
	}
	alog_store_set_ids_recent_max(s, 1);
	for (int i = 0; i < 3; i++)
		r[i] = (struct alog_store_rec){ (const unsigned char *)"rec", 3,
						T0, k[2 + i], NULL };
	assert_int_equal(alog_store_append(s, r, 3, &err), 0); /* 0..2 */
	r[0].id_key = k[0];  /* before the last key: staged */
	assert_int_equal(alog_store_append(s, r, 1, &err), 0); /* 3 */
	/* k[4] is the last key of ids */
	r[0].id_key = k[4];
	expect_conflict_changes_nothing(f, s, r, 1);
	r[0].id_key = k[5];  /* would be appended */
	r[1].id_key = k[4];
	expect_conflict_changes_nothing(f, s, r, 2);
	r[0].id_key = k[1];  /* would be staged, merging ids_recent */
	expect_conflict_changes_nothing(f, s, r, 2);
	assert_int_equal(alog_store_find_id(s, k[1], &index, &err),
			 ALOG_ENOTFOUND);
	assert_int_equal(alog_store_find_id(s, k[5], &index, &err),
			 ALOG_ENOTFOUND);
	assert_int_equal(alog_store_find_id(s, k[0], &index, &err), 0);
	assert_int_equal(index, 3);
	/* the same keys without it go in, the merge with them */
	rc = alog_store_append(s, r, 1, &err);
	if (rc < 0)
		fail_with("append", rc, &err);
	r[0].id_key = k[5];
	assert_int_equal(alog_store_append(s, r, 1, &err), 0); /* 5 */
	for (int i = 0; i < 6; i++) {
		static const uint64_t want[] = { 3, 4, 0, 1, 2, 5 };

		assert_int_equal(alog_store_find_id(s, k[i], &index, &err), 0);
		assert_int_equal(index, want[i]);
	}
	expect_check_ok(s);
	alog_store_close(s);
	s = reopen(f, ALOG_STORE_WRITE, NULL);
	for (int i = 0; i < 6; i++) {
		r[0].id_key = k[i];
		expect_conflict_changes_nothing(f, s, r, 1);
	}
	expect_check_ok(s);
	alog_store_close(s);
}

/* Whether the nodes table holds an entry for subtree (level, k). */
static int has_node(struct fx *f, unsigned level, uint64_t k)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	unsigned char key[9];
	MDB_val mk = { 9, key }, mv;
	int rc;

	key[0] = (unsigned char)level;
	alog_put_be64(key + 1, k);
	txn = index_txn(f, &env);
	assert_int_equal(mdb_dbi_open(txn, "nodes", 0, &dbi), 0);
	rc = mdb_get(txn, dbi, &mk, &mv);
	assert_true(rc == 0 || rc == MDB_NOTFOUND);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc == 0;
}

/* RFC 9162 section 2.1.3.1 PATH(m, D[0:n]) for every m < n at once (n >=
 * 1): paths[m] gets lens[m] hashes, the leaf's sibling first; root gets
 * MTH(D[0:n]). Each split appends the other side's MTH to the paths of
 * the leaves on this side, after the deeper hashes the recursion wrote. */
static void ref_paths(const unsigned char (*leaves)[32], uint64_t n,
		      unsigned char (*paths)[64][32], size_t *lens,
		      unsigned char root[32])
{
	unsigned char l[32], r[32];
	uint64_t k = 1;

	if (n == 1) {
		memcpy(root, leaves[0], 32);
		lens[0] = 0;
		return;
	}
	while (k * 2 < n)
		k *= 2;
	ref_paths(leaves, k, paths, lens, l);
	ref_paths(leaves + k, n - k, paths + k, lens + k, r);
	for (uint64_t m = 0; m < n; m++)
		memcpy(paths[m][lens[m]++], m < k ? r : l, 32);
	sha256_2("\x01", 1, l, 32, r, 32, root);
}

/* Every inclusion proof and leaf hash in trees of the sizes below equals
 * the reference, and every consistency proof into the two largest
 * verifies against the reference roots, for
 * records of about 1 KB: a 64 KiB block holds about 65 of them, so the
 * stored groups (64 leaves, or 256 at the older node level) straddle
 * block boundaries everywhere, and batches end blocks early at other
 * places. old_level: the store is made format 2 while empty (no meta
 * node_level) and upgraded by the writer's open, so that it stores nodes
 * from level 8 only (SPEC.md 7 "Node level") and proofs recompute the
 * lower eight levels. */
static void proofs_match_the_reference(struct fx *f, int old_level)
{
	static const size_t batches[] = { 1, 63, 64, 65, 130, 3, 200, 173 };
	static const uint64_t sizes[] = { 699, 640, 577, 513, 256, 129, 64, 2 };
	struct alog_store *s = create_open(f, 0);
	unsigned char (*lv)[32] = ref_leaves(K_BIG, 699);
	const unsigned char (*clv)[32] = (const unsigned char (*)[32])lv;
	unsigned char proof[ALOG_MERKLE_PROOF_MAX][ALOG_HASH_LEN];
	unsigned char (*roots)[32] = malloc(700 * 32);
	unsigned char (*want)[64][32] = malloc(699 * sizeof(*want));
	size_t *n_want = malloc(699 * sizeof(*n_want));
	struct alog_err err;
	size_t n_proof;
	int rc;

	assert_non_null(roots);
	assert_non_null(want);
	assert_non_null(n_want);
	if (old_level) {  /* a format 2 store, upgraded by this open */
		alog_store_close(s);
		make_format(f, 2);
		s = reopen(f, ALOG_STORE_WRITE, NULL);
	}
	assert_int_equal(alog_store_format(s), 3);
	for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++)
		must_append(s, K_BIG, batches[b]);
	assert_int_equal(alog_store_size(s), 699);
	alog_store_close(s);
	/* the lowest stored level is the store's: 6, or 8 in a store
	 * created before meta node_level */
	for (unsigned level = 5; level <= 8; level++)
		assert_int_equal(has_node(f, level, 0),
				 level >= (old_level ? 8u : 6u));
	s = reopen(f, ALOG_STORE_RDONLY, NULL);
	assert_int_equal(alog_store_format(s), 3);
	for (uint64_t n = 0; n <= 699; n++)
		ref_mth(clv, n, roots[n]);
	for (size_t a = 0; a < sizeof(sizes) / sizeof(sizes[0]); a++) {
		uint64_t size = sizes[a];

		ref_paths(clv, size, want, n_want, proof[0]);
		assert_memory_equal(proof[0], roots[size], 32);
		for (uint64_t i = 0; i < size; i++) {
			alog_err_clear(&err);
			rc = alog_store_prove_inclusion(s, i, size, proof,
							&n_proof, &err);
			if (rc < 0)
				fail_with("prove inclusion", rc, &err);
			if (n_proof != n_want[i] ||
			    memcmp(proof, want[i], n_proof * 32) != 0)
				fail_msg("inclusion proof of %" PRIu64 " in %" PRIu64
					 " differs from the reference", i, size);
			rc = alog_store_leaf_hash(s, i, proof[0], &err);
			if (rc < 0)
				fail_with("leaf hash", rc, &err);
			assert_memory_equal(proof[0], lv[i], 32);
		}
		/* every old size into the two largest trees */
		for (uint64_t old = 0; a < 2 && old <= size; old++) {
			alog_err_clear(&err);
			rc = alog_store_prove_consistency(s, old, size, proof,
							  &n_proof, &err);
			if (rc < 0)
				fail_with("prove consistency", rc, &err);
			rc = alog_merkle_verify_consistency(
				NULL, old, size, roots[old], roots[size],
				(const unsigned char (*)[ALOG_HASH_LEN])proof,
				n_proof, &err);
			if (rc < 0)
				fail_msg("consistency %" PRIu64 " -> %" PRIu64
					 ": %s", old, size, err.msg);
		}
	}
	expect_all_records(s, K_BIG);
	expect_check_ok(s);
	alog_store_close(s);
	free(n_want);
	free(want);
	free(roots);
	free(lv);
}

static void test_store_proofs_at_every_index_equal_the_reference(
	void **state)
{
	proofs_match_the_reference(*state, 0);
}

static void test_store_level_8_proofs_at_every_index_equal_the_reference(
	void **state)
{
	proofs_match_the_reference(*state, 1);
}

/* SPEC.md 7: a new store keeps the nodes of levels 6 and 7 too; verify
 * checks them against the records, and a proof that recomputes a group
 * checks the group against its stored node. */
static void test_store_check_and_proofs_find_a_damaged_level_6_node(
	void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	unsigned char key[9], bad[32], proof[ALOG_MERKLE_PROOF_MAX][32];
	struct alog_err err;
	size_t n_proof;

	must_append(s, K_SIMPLE, 300);
	alog_store_close(s);
	key[0] = 6;
	alog_put_be64(key + 1, 2); /* records 128..191 */
	memset(bad, 0x5a, sizeof(bad));
	put_raw(f, "nodes", key, 9, bad, 32);
	expect_check_fails(f, "stored tree node level 6 index 2");
	s = reopen(f, ALOG_STORE_RDONLY, NULL);
	alog_err_clear(&err);
	assert_int_equal(alog_store_prove_inclusion(s, 150, 300, proof,
						    &n_proof, &err),
			 ALOG_ECORRUPT);
	assert_non_null(strstr(err.msg, "do not match their stored tree node"));
	/* other groups are unaffected */
	assert_int_equal(alog_store_prove_inclusion(s, 100, 300, proof,
						    &n_proof, &err), 0);
	alog_store_close(s);
}

static void test_store_duplicate_id_key_fails_the_whole_batch(void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	unsigned char k1[ALOG_STORE_ID_LEN], k2[ALOG_STORE_ID_LEN],
		k3[ALOG_STORE_ID_LEN], root[32];
	struct alog_store_rec r[3];
	struct alog_err err;
	uint64_t index = 0;
	int rc;

	alog_store_id_key(NULL, "src", "id-1", k1);
	alog_store_id_key(NULL, "src", "id-2", k2);
	alog_store_id_key(NULL, "src", "id-3", k3);
	must_append(s, K_SIMPLE, 2);
	r[0] = (struct alog_store_rec){ (const unsigned char *)"with id 1", 9,
					T0 + 100, k1, NULL };
	assert_int_equal(alog_store_append(s, r, 1, &err), 0);
	assert_int_equal(alog_store_find_id(s, k1, &index, &err), 0);
	assert_int_equal(index, 2);
	assert_int_equal(alog_store_find_id(s, k2, &index, &err),
			 ALOG_ENOTFOUND);

	/* A new id and a stored one: all of the batch is refused. */
	r[0] = (struct alog_store_rec){ (const unsigned char *)"with id 2", 9,
					T0 + 200, k2, NULL };
	r[1] = (struct alog_store_rec){ (const unsigned char *)"no id", 5,
					T0 + 200, NULL, NULL };
	r[2] = (struct alog_store_rec){ (const unsigned char *)"id 1 again",
					10, T0 + 200, k1, NULL };
	expect_conflict_changes_nothing(f, s, r, 3);
	assert_int_equal(alog_store_find_id(s, k2, &index, &err),
			 ALOG_ENOTFOUND);
	/* The same id twice inside one batch. */
	r[2] = (struct alog_store_rec){ (const unsigned char *)"id 2 again",
					10, T0 + 200, k2, NULL };
	expect_conflict_changes_nothing(f, s, r, 3);
	assert_int_equal(alog_store_find_id(s, k2, &index, &err),
			 ALOG_ENOTFOUND);

	/* The next append works and takes the indices the failed batches
	 * would have used. */
	r[2] = (struct alog_store_rec){ (const unsigned char *)"with id 3",
					9, T0 + 200, k3, NULL };
	rc = alog_store_append(s, r, 3, &err);
	if (rc < 0)
		fail_with("append", rc, &err);
	assert_int_equal(alog_store_size(s), 6);
	assert_int_equal(alog_store_find_id(s, k2, &index, &err), 0);
	assert_int_equal(index, 3);
	assert_int_equal(alog_store_find_id(s, k3, &index, &err), 0);
	assert_int_equal(index, 5);
	expect_check_ok(s);
	alog_store_root(s, root);
	alog_store_close(s);
	s = reopen(f, ALOG_STORE_RDONLY, NULL);
	assert_int_equal(alog_store_find_id(s, k1, &index, &err), 0);
	assert_int_equal(index, 2);
	{
		unsigned char again[32];

		alog_store_root(s, again);
		assert_memory_equal(root, again, 32);
	}
	alog_store_close(s);
}

/* A batch of n records that rotates several segments, then conflicts at
 * its last record: nothing of it stays, and the same batch without the
 * conflict goes in. n below HASH_THREAD_MIN hashes on the appending
 * thread, n above it on the batch thread (the tree it rolls back was
 * that thread's). */
static void conflict_after_rotation(struct fx *f, size_t n)
{
	struct alog_store *s = create_open(f, ALOG_SEGMENT_SIZE_MIN);
	unsigned char key[ALOG_STORE_ID_LEN], before[32], after[32];
	struct alog_store_rec *r;
	struct alog_store_recovery rec;
	char *buf;
	struct alog_err err;
	uint64_t size;
	int rc;

	alog_store_id_key(NULL, "src", "dup", key);
	must_append(s, K_BIG, 2);
	{
		struct alog_store_rec one = { (const unsigned char *)"keyed", 5,
					      recv_of(2), key, NULL };

		assert_int_equal(alog_store_append(s, &one, 1, &err), 0);
	}
	size = alog_store_size(s);
	alog_store_root(s, before);
	r = calloc(n, sizeof(*r));
	buf = malloc(n * REC_CAP);
	assert_non_null(r);
	assert_non_null(buf);
	for (size_t k = 0; k < n; k++) {
		r[k].data = (unsigned char *)buf + k * REC_CAP;
		r[k].len = gen(K_BIG, size + k, buf + k * REC_CAP);
		r[k].received_us = recv_of(size + k);
	}
	r[n - 1].id_key = key;
	alog_err_clear(&err);
	assert_int_equal(alog_store_append(s, r, n, &err), ALOG_ECONFLICT);
	assert_int_equal(alog_store_size(s), size);
	alog_store_root(s, after);
	assert_memory_equal(before, after, 32);
	/* Usable: the same batch without the conflict goes in. */
	r[n - 1].id_key = NULL;
	rc = alog_store_append(s, r, n, &err);
	if (rc < 0)
		fail_with("append after conflict", rc, &err);
	assert_int_equal(alog_store_size(s), size + n);
	expect_check_ok(s);
	alog_store_root(s, before);
	alog_store_close(s);
	s = reopen(f, ALOG_STORE_WRITE, &rec);
	assert_int_equal(rec.cut, 0);
	assert_int_equal(alog_store_size(s), size + n);
	alog_store_root(s, after);
	assert_memory_equal(before, after, 32);
	expect_check_ok(s);
	alog_store_close(s);
	free(r);
	free(buf);
}

static void test_store_conflict_after_rotation_leaves_the_store_usable(
	void **state)
{
	conflict_after_rotation(*state, 200);
}

static void test_store_conflict_after_rotation_of_a_large_batch(
	void **state)
{
	conflict_after_rotation(*state, 700);
}

static void test_store_refuses_received_times_that_go_backwards(void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	struct alog_store_rec r[3];
	struct alog_err err;

	r[0] = (struct alog_store_rec){ (const unsigned char *)"a", 1, T0 + 50,
					NULL, NULL };
	r[1] = (struct alog_store_rec){ (const unsigned char *)"b", 1, T0 + 50,
					NULL, NULL };
	r[2] = (struct alog_store_rec){ (const unsigned char *)"c", 1, T0 + 49,
					NULL, NULL };
	/* Inside one batch. */
	assert_int_equal(alog_store_append(s, r, 3, &err), ALOG_EINVAL);
	assert_int_equal(alog_store_size(s), 0);
	/* Equal times are fine. */
	assert_int_equal(alog_store_append(s, r, 2, &err), 0);
	assert_int_equal(alog_store_last_received(s), T0 + 50);
	/* Against the last committed record. */
	assert_int_equal(alog_store_append(s, &r[2], 1, &err), ALOG_EINVAL);
	assert_int_equal(alog_store_size(s), 2);
	alog_store_close(s);
	s = reopen(f, ALOG_STORE_WRITE, NULL);
	assert_int_equal(alog_store_last_received(s), T0 + 50);
	assert_int_equal(alog_store_append(s, &r[2], 1, &err), ALOG_EINVAL);
	r[2].received_us = T0 + 51;
	assert_int_equal(alog_store_append(s, &r[2], 1, &err), 0);
	expect_check_ok(s);
	alog_store_close(s);
}

/* Records "t=<received> ..." for find_time. */
static int received_from_text(const unsigned char *rec, size_t len,
			      int64_t *received_us)
{
	char buf[32];
	char *end;
	size_t n = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;

	memcpy(buf, rec, n);
	buf[n] = 0;
	if (strncmp(buf, "t=", 2) != 0)
		return ALOG_ECORRUPT;
	errno = 0;
	*received_us = strtoll(buf + 2, &end, 10);
	if (errno || *end != ' ')
		return ALOG_ECORRUPT;
	return 0;
}

static int received_fails(const unsigned char *rec, size_t len,
			  int64_t *received_us)
{
	(void)rec;
	(void)len;
	(void)received_us;
	return ALOG_ECORRUPT;
}

static void test_store_find_time_answers_before_inside_between_and_after(
	void **state)
{
	/* Batches (one block each) of received times; blocks 2 and 3 share
	 * a time across their boundary, block 4 is all one time. */
	static const int64_t times[][6] = {
		{ 100, 110, 120, 130, -1 },
		{ 200, 200, 210, 250, 250, -1 },
		{ 250, 260, -1 },
		{ 400, 400, 400, -1 },
		{ 1000, -1 },
	};
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	int64_t all[32];
	size_t n_all = 0;
	struct alog_err err;
	uint64_t index = 99;
	int rc;

	assert_int_equal(alog_store_find_time(s, 5, received_from_text, &index,
					      &err), 0);
	assert_int_equal(index, 0);
	for (size_t b = 0; b < sizeof(times) / sizeof(times[0]); b++) {
		struct alog_store_rec r[6];
		char buf[6][64];
		size_t n = 0;

		for (; times[b][n] >= 0; n++) {
			int len = snprintf(buf[n], sizeof(buf[n]),
					   "t=%" PRId64 " rec %zu",
					   T0 + times[b][n], n_all);

			r[n] = (struct alog_store_rec){
				(unsigned char *)buf[n], (size_t)len,
				T0 + times[b][n], NULL, NULL };
			all[n_all++] = T0 + times[b][n];
		}
		rc = alog_store_append(s, r, n, &err);
		if (rc < 0)
			fail_with("append", rc, &err);
	}
	/* Every time from before the first to after the last, against a
	 * linear scan. */
	for (int64_t t = 0; t <= 1100; t++) {
		uint64_t want = n_all;

		for (size_t i = 0; i < n_all; i++) {
			if (all[i] >= T0 + t) {
				want = i;
				break;
			}
		}
		alog_err_clear(&err);
		rc = alog_store_find_time(s, T0 + t, received_from_text,
					  &index, &err);
		if (rc < 0)
			fail_with("find_time", rc, &err);
		if (index != want)
			fail_msg("find_time(T0+%" PRId64 ") = %" PRIu64
				 ", want %" PRIu64, t, index, want);
	}
	assert_int_equal(alog_store_find_time(s, INT64_MIN, received_from_text,
					      &index, &err), 0);
	assert_int_equal(index, 0);
	assert_int_equal(alog_store_find_time(s, INT64_MAX, received_from_text,
					      &index, &err), 0);
	assert_int_equal(index, n_all);
	/* A record whose time can't be read is an error, not an answer. */
	assert_true(alog_store_find_time(s, T0 + 115, received_fails, &index,
					 &err) < 0);
	alog_store_close(s);
}

/* ---- tests: checkpoints ---- */

static void test_store_checkpoints_are_signed_kept_and_checked(void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	unsigned char (*lv)[32] = ref_leaves(K_SIMPLE, 300);
	const unsigned char (*clv)[32] = (const unsigned char (*)[32])lv;
	struct alog_store_checkpoint c;
	struct alog_checkpoint cp;
	struct alog_signer *other;
	struct alog_verifier ov;
	struct alog_err err;
	unsigned char want[32];
	uint64_t bad = 0;
	int rc;

	assert_int_equal(alog_signer_generate("example.com/audit-key", &other,
					      NULL), 0);
	alog_signer_verifier(other, &ov);
	assert_int_equal(alog_store_checkpoint_count(s), 0);
	assert_int_equal(alog_store_checkpoint_get(s, 0, &c, &err),
			 ALOG_ENOTFOUND);
	/* The empty tree can be signed. */
	rc = alog_store_sign_checkpoint(s, f->signer, T0, NULL, &err);
	if (rc < 0)
		fail_with("sign", rc, &err);
	must_append(s, K_SIMPLE, 257);
	rc = alog_store_sign_checkpoint(s, f->signer, T0 + 5, &c, &err);
	if (rc < 0)
		fail_with("sign", rc, &err);
	assert_int_equal(c.seq, 1);
	assert_int_equal(c.size, 257);
	assert_int_equal(c.signed_us, T0 + 5);
	alog_store_checkpoint_release(&c);
	/* A key that is not the store's is refused; nothing is stored. */
	alog_err_clear(&err);
	assert_int_equal(alog_store_sign_checkpoint(s, other, T0 + 6, NULL,
						    &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_store_checkpoint_count(s), 2);
	must_append(s, K_SIMPLE, 43);
	/* Twice at the same size is allowed. */
	assert_int_equal(alog_store_sign_checkpoint(s, f->signer, T0 + 7,
						    NULL, &err), 0);
	assert_int_equal(alog_store_sign_checkpoint(s, f->signer, T0 + 8,
						    NULL, &err), 0);
	assert_int_equal(alog_store_checkpoint_count(s), 4);
	alog_store_close(s);

	s = reopen(f, ALOG_STORE_RDONLY, NULL);
	assert_int_equal(alog_store_checkpoint_count(s), 4);
	{
		static const uint64_t sizes[] = { 0, 257, 300, 300 };
		static const int64_t at[] = { 0, 5, 7, 8 };

		for (uint64_t q = 0; q < 4; q++) {
			alog_err_clear(&err);
			rc = alog_store_checkpoint_get(s, q, &c, &err);
			if (rc < 0)
				fail_with("checkpoint get", rc, &err);
			assert_int_equal(c.seq, q);
			assert_int_equal(c.size, sizes[q]);
			assert_int_equal(c.signed_us, T0 + at[q]);
			rc = alog_checkpoint_open_note(&f->vkey,
						       (const char *)c.note.data,
						       c.note.len, &cp, &err);
			if (rc < 0)
				fail_with("open note", rc, &err);
			assert_string_equal(cp.origin, ORIGIN);
			assert_int_equal(cp.size, sizes[q]);
			ref_mth(clv, sizes[q], want);
			assert_memory_equal(cp.root, want, 32);
			assert_int_equal(alog_checkpoint_open_note(
						 &ov, (const char *)c.note.data,
						 c.note.len, &cp, NULL),
					 ALOG_EVERIFY);
			alog_store_checkpoint_release(&c);
		}
	}
	assert_int_equal(alog_store_checkpoint_get(s, 4, &c, &err),
			 ALOG_ENOTFOUND);
	/* A read-only store signs nothing. */
	assert_int_equal(alog_store_sign_checkpoint(s, f->signer, T0, NULL,
						    &err),
			 ALOG_ESTATE);
	/* check verifies every note: with the store's key, and not with
	 * another one. */
	expect_check_ok(s);
	assert_int_equal(alog_store_check(s, &f->vkey, NULL, NULL, NULL, NULL, &bad,
					  &err), 0);
	alog_err_clear(&err);
	assert_int_equal(alog_store_check(s, &ov, NULL, NULL, NULL, NULL, &bad,
					  &err),
			 ALOG_EVERIFY);
	alog_store_close(s);
	alog_signer_free(other);
	free(lv);
}

struct seen {
	uint64_t n;
	uint64_t last_done, last_total, n_progress;
};

static int count_seen(void *ctx, uint64_t index, const unsigned char *rec,
		      size_t len)
{
	struct seen *sn = ctx;
	char buf[REC_CAP];
	size_t n = gen(K_SIMPLE, index, buf);

	if (index != sn->n || n != len || memcmp(buf, rec, n) != 0)
		return -77;
	sn->n++;
	return 0;
}

static void progress_fn(void *ctx, uint64_t done, uint64_t total)
{
	struct seen *sn = ctx;

	if (done < sn->last_done)
		sn->last_done = UINT64_MAX; /* marks "went backwards" */
	else
		sn->last_done = done;
	sn->last_total = total;
	sn->n_progress++;
}

static void test_store_check_shows_every_record_and_reports_progress(
	void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	struct seen sn = { 0, 0, 0, 0 };
	struct alog_store_check_progress pg = { progress_fn, &sn };
	struct alog_err err;
	uint64_t bad = 0;

	for (int b = 0; b < 6; b++)
		must_append(s, K_SIMPLE, 100);
	assert_int_equal(alog_store_check(s, NULL, NULL, count_seen, &sn, &pg, &bad,
					  &err), 0);
	assert_int_equal(sn.n, 600);
	assert_true(sn.n_progress >= 6);
	assert_int_equal(sn.last_done, 600);
	assert_int_equal(sn.last_total, 600);
	/* The callback's error stops the check and is returned. */
	sn.n = 1;
	assert_int_equal(alog_store_check(s, NULL, NULL, count_seen, &sn, NULL, &bad,
					  &err), -77);
	assert_int_equal(bad, 0);
	alog_store_close(s);
}

/* A record check that refuses record `at` (-77, no message). */
struct refuse {
	uint64_t at;
};

static int refuse_one(void *ctx, uint64_t index, const unsigned char *rec,
		      size_t len)
{
	const struct refuse *rf = ctx;

	return index == rf->at ? -77 : 0;
}

/* Leaves, stored nodes and checkpoints are checked on a worker thread
 * while the caller's thread checks blocks and records; the fault
 * reported is still the one a one-thread walk meets first: the node
 * over records 512..767 completes at leaf 767, after record 767's own
 * check and before record 768's; the checkpoint at size 1000 comes
 * before record 1000's check (and the worker's fault is the later one
 * when the walk's comes first). Each case several times, as the worker
 * may be ahead of the walk or behind it, and once without the thread. */
static void test_store_check_reports_the_first_fault_with_the_hash_worker(
	void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	struct alog_signer *other;
	struct alog_verifier ov;
	unsigned char key[9], wrong[32];
	struct alog_err err;
	uint64_t bad;
	int rc;
	static const struct {
		uint64_t refuse;
		int rc;       /* -77: the record check's fault reported */
		uint64_t bad;
	} node_cases[] = {
		{ 300, -77, 300 },
		{ 767, -77, 767 },
		{ 768, ALOG_ECORRUPT, 512 },
		{ 1500, ALOG_ECORRUPT, 512 },
	}, ckpt_cases[] = {
		{ 999, -77, 999 },
		{ 1000, ALOG_EVERIFY, UINT64_MAX },
		{ 1700, ALOG_EVERIFY, UINT64_MAX },
	};

	assert_int_equal(alog_signer_generate("example.com/audit-key", &other,
					      NULL), 0);
	alog_signer_verifier(other, &ov);
	for (int b = 0; b < 10; b++)
		must_append(s, K_SIMPLE, 100);
	assert_int_equal(alog_store_sign_checkpoint(s, f->signer, T0, NULL,
						    &err), 0);
	for (int b = 0; b < 10; b++)
		must_append(s, K_SIMPLE, 100);
	expect_check_ok(s);
	alog_store_close(s);

	/* a checkpoint that does not verify with another key, at 1000 */
	s = reopen(f, ALOG_STORE_RDONLY, NULL);
	for (size_t i = 0; i < sizeof(ckpt_cases) / sizeof(ckpt_cases[0]); i++) {
		for (int round = 0; round < 6; round++) {
			struct refuse rf = { ckpt_cases[i].refuse };

			alog_store_test_check_inline(s, round == 5);

			alog_err_clear(&err);
			bad = 0;
			rc = alog_store_check(s, &ov, NULL, refuse_one, &rf,
					      NULL, &bad, &err);
			if (rc != ckpt_cases[i].rc || bad != ckpt_cases[i].bad)
				fail_msg("refusing record %" PRIu64
					 ": rc %d bad %" PRIu64 " (%s)",
					 rf.at, rc, bad, err.msg);
		}
	}
	/* and without the thread, a whole log verifies */
	alog_store_test_check_inline(s, 1);
	assert_int_equal(alog_store_check(s, NULL, NULL, NULL, NULL, NULL, &bad,
					  &err), 0);
	assert_true(bad == UINT64_MAX);
	alog_store_close(s);

	/* the stored node of level 8 over records 512..767, damaged */
	key[0] = 8;
	alog_put_be64(key + 1, 2);
	memset(wrong, 0x5a, sizeof(wrong));
	put_raw(f, "nodes", key, sizeof(key), wrong, sizeof(wrong));
	s = reopen(f, ALOG_STORE_RDONLY, NULL);
	for (size_t i = 0; i < sizeof(node_cases) / sizeof(node_cases[0]); i++) {
		for (int round = 0; round < 6; round++) {
			struct refuse rf = { node_cases[i].refuse };

			alog_store_test_check_inline(s, round == 5);

			alog_err_clear(&err);
			bad = 0;
			rc = alog_store_check(s, NULL, NULL, refuse_one, &rf,
					      NULL, &bad, &err);
			if (rc != node_cases[i].rc || bad != node_cases[i].bad)
				fail_msg("refusing record %" PRIu64
					 ": rc %d bad %" PRIu64 " (%s)",
					 rf.at, rc, bad, err.msg);
			if (rc == ALOG_ECORRUPT &&
			    !strstr(err.msg, "stored tree node level 8 index 2"))
				fail_msg("check said '%s'", err.msg);
		}
	}
	/* both: the node's fault (at leaf 767) before the checkpoint's */
	for (int inline_ = 0; inline_ < 2; inline_++) {
		alog_store_test_check_inline(s, inline_);
		alog_err_clear(&err);
		assert_int_equal(alog_store_check(s, &ov, NULL, NULL, NULL,
						  NULL, &bad, &err),
				 ALOG_ECORRUPT);
		assert_int_equal(bad, 512);
	}
	alog_store_close(s);
	alog_signer_free(other);
}

/* ---- tests: processes ---- */

/* Run fn in a child process; it writes up to cap bytes of its report to
 * out (NUL-terminated). Returns what the child wrote. */
static void run_child(void (*fn)(int wfd, void *ctx), void *ctx, char *out,
		      size_t cap)
{
	int p[2];
	pid_t pid;
	size_t got = 0;
	int status;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		fn(p[1], ctx);
		close(p[1]);
		_exit(0);
	}
	close(p[1]);
	for (;;) {
		ssize_t r = read(p[0], out + got, cap - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == cap - 1)
			break;
	}
	out[got] = 0;
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
}

static void child_open_write(int wfd, void *ctx)
{
	struct fx *f = ctx;
	struct alog_store *s = NULL;
	struct alog_err err;
	char msg[ALOG_ERR_MSG_MAX + 32];
	int rc, n;

	alog_err_clear(&err);
	rc = alog_store_open(f->dir, ALOG_STORE_WRITE, &s, NULL, &err);
	n = snprintf(msg, sizeof(msg), "%d|%s", rc, err.msg);
	if (write(wfd, msg, (size_t)n) < 0)
		_exit(2);
	if (rc == 0)
		alog_store_close(s);
}

static void test_store_second_writer_gets_ebusy_naming_the_holder(
	void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	char out[1024], pid[32];

	must_append(s, K_SIMPLE, 3);
	run_child(child_open_write, f, out, sizeof(out));
	snprintf(pid, sizeof(pid), "%d|", ALOG_EBUSY);
	if (strncmp(out, pid, strlen(pid)) != 0)
		fail_msg("second writer: %s", out);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	if (!strstr(out, pid))
		fail_msg("message does not name pid %s: %s", pid, out);
	/* The refused writer changed nothing. */
	must_append(s, K_SIMPLE, 1);
	expect_check_ok(s);
	alog_store_close(s);
	/* Once the writer is gone another one may open. */
	run_child(child_open_write, f, out, sizeof(out));
	assert_string_equal(out, "0|");
}

static void child_open_read(int wfd, void *ctx)
{
	struct fx *f = ctx;
	struct alog_store *s = NULL;
	struct alog_err err;
	unsigned char root[32];
	char msg[ALOG_ERR_MSG_MAX + 128], hex[65];
	uint64_t bad = 0;
	int rc, n;

	alog_err_clear(&err);
	rc = alog_store_open(f->dir, ALOG_STORE_RDONLY, &s, NULL, &err);
	if (rc == 0) {
		alog_store_root(s, root);
		alog_hex_encode(root, 32, hex);
		rc = alog_store_check(s, NULL, NULL, NULL, NULL, NULL, &bad, &err);
		n = snprintf(msg, sizeof(msg), "%d|%" PRIu64 "|%s|%s", rc,
			     alog_store_size(s), hex, err.msg);
		alog_store_close(s);
	} else {
		n = snprintf(msg, sizeof(msg), "%d|open|%s", rc, err.msg);
	}
	if (write(wfd, msg, (size_t)n) < 0)
		_exit(2);
}

static void test_store_read_only_open_beside_the_writer_sees_committed_state(
	void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	unsigned char root[32];
	char out[1024], want[256], hex[65];

	/* In a child process: LMDB forbids opening one environment twice
	 * in the same process. */
	must_append(s, K_SIMPLE, 300);
	alog_store_root(s, root);
	alog_hex_encode(root, 32, hex);
	run_child(child_open_read, f, out, sizeof(out));
	snprintf(want, sizeof(want), "0|300|%s|", hex);
	assert_string_equal(out, want);
	must_append(s, K_SIMPLE, 5);
	alog_store_root(s, root);
	alog_hex_encode(root, 32, hex);
	run_child(child_open_read, f, out, sizeof(out));
	snprintf(want, sizeof(want), "0|305|%s|", hex);
	assert_string_equal(out, want);
	alog_store_close(s);
}

/* Child: open for write, then sign a checkpoint (what & 1) and/or
 * append 10 records (what & 2). */
struct child_job {
	struct fx *f;
	int what;
};

static void child_write(int wfd, void *ctx)
{
	struct child_job *j = ctx;
	struct alog_store *s = NULL;
	struct alog_err err;
	char msg[ALOG_ERR_MSG_MAX + 32];
	int rc, n;

	alog_err_clear(&err);
	rc = alog_store_open(j->f->dir, ALOG_STORE_WRITE, &s, NULL, &err);
	if (rc == 0 && (j->what & 2))
		rc = append_kind(s, K_SIMPLE, alog_store_size(s), 10, &err);
	if (rc == 0 && (j->what & 1))
		rc = alog_store_sign_checkpoint(s, j->f->signer, T0 + 99999,
						NULL, &err);
	n = snprintf(msg, sizeof(msg), "%d|%s", rc, err.msg);
	if (write(wfd, msg, (size_t)n) < 0)
		_exit(2);
	alog_store_close(s);
}

/* Open read-only, let a child write (job), then check: the rc. */
static int check_after_child(struct fx *f, int what, struct alog_err *err)
{
	struct child_job job = { f, what };
	struct alog_store *s = reopen(f, ALOG_STORE_RDONLY, NULL);
	uint64_t size = alog_store_size(s), bad = 0;
	char out[1024];
	int rc;

	run_child(child_write, &job, out, sizeof(out));
	assert_string_equal(out, "0|");
	alog_err_clear(err);
	rc = alog_store_check(s, NULL, NULL, NULL, NULL, NULL, &bad, err);
	if (rc == 0) {
		assert_true(bad == UINT64_MAX);
		assert_int_equal(alog_store_size(s), size);
		expect_all_records(s, K_SIMPLE);
	}
	alog_store_close(s);
	return rc;
}

static void test_store_read_only_check_ignores_a_writer_appending_meanwhile(
	void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	struct alog_err err, err2;
	int rc_sign, rc_append;

	must_append(s, K_SIMPLE, 300);
	assert_int_equal(alog_store_sign_checkpoint(s, f->signer, T0, NULL,
						    &err), 0);
	alog_store_close(s);
	/* A verifier opens the store read-only; then a writer (another
	 * process) signs, or appends, before the verifier's check runs. */
	rc_sign = check_after_child(f, 1, &err);
	if (rc_sign < 0)
		fail_msg("check after a checkpoint: %d %s", rc_sign, err.msg);
	rc_append = check_after_child(f, 2, &err2);
	if (rc_append < 0)
		fail_msg("check after an append: %d %s", rc_append, err2.msg);
}

static void test_store_second_writer_in_the_same_process_is_refused(
	void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	struct alog_store *t = NULL;
	struct alog_err err;
	char out[1024], want[32];
	int rc;

	must_append(s, K_SIMPLE, 3);
	alog_err_clear(&err);
	rc = alog_store_open(f->dir, ALOG_STORE_WRITE, &t, NULL, &err);
	assert_int_equal(rc, ALOG_EBUSY);
	assert_null(t);
	/* The first writer still holds the store. */
	run_child(child_open_write, f, out, sizeof(out));
	snprintf(want, sizeof(want), "%d|", ALOG_EBUSY);
	assert_true(strncmp(out, want, strlen(want)) == 0);
	alog_store_close(s);
}

/* ---- tests: create, modes ---- */

static void test_store_create_refuses_bad_origin_small_segments_and_used_dirs(
	void **state)
{
	struct fx *f = *state;
	struct alog_store_options small = { ALOG_SEGMENT_SIZE_MIN - 1 };
	struct alog_store_options ok = { ALOG_SEGMENT_SIZE_MIN };
	struct alog_store *s = NULL;
	struct alog_err err;
	char p[4200];

	assert_int_equal(alog_store_create(f->dir, "", &f->vkey, NULL, &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_store_create(f->dir, "has space", &f->vkey, NULL,
					   &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_store_create(f->dir, "a+b", &f->vkey, NULL,
					   &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_store_create(f->dir, "a\nb", &f->vkey, NULL,
					   &err),
			 ALOG_EINVAL);
	snprintf(p, sizeof(p), "%s/small", f->tmp);
	assert_int_equal(alog_store_create(p, ORIGIN, &f->vkey, &small, &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_store_create(f->dir, ORIGIN, &f->vkey, &ok,
					   &err), 0);
	/* Not over an existing store. */
	assert_int_equal(alog_store_create(f->dir, ORIGIN, &f->vkey, NULL,
					   &err),
			 ALOG_EEXIST);
	assert_int_equal(alog_store_open(f->dir, ALOG_STORE_RDONLY, &s, NULL,
					 &err), 0);
	assert_string_equal(alog_store_origin(s), ORIGIN);
	assert_int_equal(alog_store_vkey(s)->key_id, f->vkey.key_id);
	assert_memory_equal(alog_store_vkey(s)->pub, f->vkey.pub, 32);
	assert_int_equal(alog_store_size(s), 0);
	alog_store_close(s);
	snprintf(p, sizeof(p), "%s/none", f->tmp);
	assert_int_equal(alog_store_open(p, ALOG_STORE_RDONLY, &s, NULL, &err),
			 ALOG_ENOTFOUND);
	assert_null(s);
}

static void test_store_read_only_store_refuses_appends(void **state)
{
	struct fx *f = *state;
	struct alog_store *s = create_open(f, 0);
	struct alog_err err;

	must_append(s, K_SIMPLE, 2);
	alog_store_close(s);
	s = reopen(f, ALOG_STORE_RDONLY, NULL);
	assert_int_equal(append_kind(s, K_SIMPLE, 2, 1, &err), ALOG_ESTATE);
	assert_int_equal(alog_store_size(s), 2);
	alog_store_close(s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_store_reference_tree_matches_the_published_rfc6962_tree),
		T(test_store_roots_match_reference_across_group_boundaries_and_reopen),
		T(test_store_batches_of_varied_sizes_build_the_reference_tree),
		T(test_store_inclusion_and_consistency_proofs_verify_for_sampled_sizes),
		T(test_store_reads_return_exact_bytes_and_honour_stops),
		T(test_store_append_refuses_bad_records_and_accepts_the_largest),
		T(test_store_append_encoded_takes_only_the_blocks_it_would_make),
		T(test_store_rotates_tiny_segments_and_reads_everything_back),
		T(test_store_one_batch_may_span_many_tiny_segments),
		T(test_store_open_cuts_a_torn_tail_at_every_offset),
		T(test_store_write_open_refuses_a_segment_missing_committed_bytes),
		T(test_store_read_only_check_reports_missing_committed_bytes),
		T(test_store_check_finds_a_flipped_byte_in_a_middle_block),
		T(test_store_open_removes_uncommitted_segment_files),
		T(test_store_failed_sync_abandons_the_segment),
		T(test_store_failed_sync_of_a_large_batch_leaves_the_tree),
		cmocka_unit_test(test_store_id_key_is_the_published_hash),
		T(test_store_duplicate_id_key_fails_the_whole_batch),
		T(test_store_recent_ids_merge_into_ids_and_stay_found),
		T(test_store_recent_keys_one_byte_apart_stay_apart),
		T(test_store_large_batches_of_keys_in_any_order_are_kept_right),
		T(test_store_formats_1_and_2_are_upgraded_with_their_keys),
		T(test_store_time_keys_are_appended_and_found),
		T(test_store_key_equal_to_the_last_of_ids_is_refused),
		T(test_store_check_reports_the_first_fault_with_the_id_thread),
		T(test_store_proofs_at_every_index_equal_the_reference),
		T(test_store_level_8_proofs_at_every_index_equal_the_reference),
		T(test_store_check_and_proofs_find_a_damaged_level_6_node),
		T(test_store_check_finds_damage_in_the_id_tables),
		T(test_store_conflict_after_rotation_leaves_the_store_usable),
		T(test_store_conflict_after_rotation_of_a_large_batch),
		T(test_store_refuses_received_times_that_go_backwards),
		T(test_store_find_time_answers_before_inside_between_and_after),
		T(test_store_checkpoints_are_signed_kept_and_checked),
		T(test_store_check_shows_every_record_and_reports_progress),
		T(test_store_check_reports_the_first_fault_with_the_hash_worker),
		T(test_store_second_writer_gets_ebusy_naming_the_holder),
		T(test_store_read_only_open_beside_the_writer_sees_committed_state),
		T(test_store_read_only_check_ignores_a_writer_appending_meanwhile),
		T(test_store_second_writer_in_the_same_process_is_refused),
		T(test_store_create_refuses_bad_origin_small_segments_and_used_dirs),
		T(test_store_read_only_store_refuses_appends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
