/*
 * test_sample: seeded samples and tlog-proof texts (report/sample.h,
 * SPEC.md section 19 "Samples" and "tlog-proof").
 *
 * Every expected value below was computed independently with Python
 * (hashlib, and the cryptography package for Ed25519) while this test was
 * written; the scripts are in SPEC.md. Vectors:
 *   V-SAMPLE-1  derived seed and a 25-of-1000 draw
 *   V-SAMPLE-2  a given seed, 5 of 37
 *   V-SAMPLE-3  rejection of biased draws (a stratum of 2^63 + 1)
 *   V-SAMPLE-4  exact strata for N = 2^64 - 1
 *   V-TLOGPROOF-1  the tlog-proof of leaf 4 of the 7 leaves {"i":0}..{"i":6}
 *               against a checkpoint signed with the V-NOTE-3 key
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report/sample.h"
#include "store/bytes.h"
#include "store/merkle.h"
#include "store/note.h"
#include "store/sign.h"
#include "store/store.h"
#include "testutil.h"

/* V-NOTE-3: published in the golang.org/x/mod/sumdb/note documentation. */
static const char SKEY[] =
	"PRIVATE+KEY+PeterNeumann+c74f20a3+"
	"AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char VKEY[] =
	"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

/* V-SAMPLE-1 */
#define S1_POP_HEX "1a08bb72660eb4abce9ba74809078611ec1492479c4f8cfc5832659d33590012"
#define S1_REPORT_ID "example-report-2024q1"
#define S1_SEED "2f9a765b123a42876783d6cc54cf195bc4098c404d749443962e1a9159a07901"
static const uint64_t S1_POS[25] = {
	29, 53, 89, 129, 188, 212, 256, 282, 325, 368, 405, 453, 490,
	556, 590, 629, 667, 707, 727, 765, 836, 859, 893, 940, 964,
};
static const uint64_t S1_MEMBERS[25] = {
	1087, 1159, 1267, 1387, 1564, 1636, 1768, 1846, 1975, 2104, 2215,
	2359, 2470, 2668, 2770, 2887, 3001, 3121, 3181, 3295, 3508, 3577,
	3679, 3820, 3892,
};

/* V-TLOGPROOF-1 */
#define P1_ROOT "e9c6d5ed5127b01b79401e3c23dc61236402fbff7ab25aaedf8180865da94acd"
static const char P1_CHECKPOINT[] =
	"example.com/auditlog-test\n"
	"7\n"
	"6cbV7VEnsBt5QB48I9xhI2QC+/96slqu34GAhl2pSs0=\n"
	"\n"
	"\xe2\x80\x94 PeterNeumann x08go1PqtItb/e4c3ewL2TDlIBooOMH5NwAGa8ul2WbSJSkVbGrCkFCD4cKOJyECqkVCp0X92uH+frJOqnS3EWtskwc=\n";
static const char P1_PROOF[] =
	"c2sp.org/tlog-proof@v1\n"
	"extra eyJpIjo0fQ==\n"
	"index 4\n"
	"zWPy0SLaWx8aqkQ8Thh+Iy6cZFHUz63vxuK1X4fjeQs=\n"
	"Ig7PSzxT7zMuOnplhEQ7JNFb0NBYq+Xm3nUg37v4ihg=\n"
	"hkH548xF2RdwxU4+XUd9PO7ztp8GA8EgsuKSk2RIBtU=\n"
	"\n"
	"example.com/auditlog-test\n"
	"7\n"
	"6cbV7VEnsBt5QB48I9xhI2QC+/96slqu34GAhl2pSs0=\n"
	"\n"
	"\xe2\x80\x94 PeterNeumann x08go1PqtItb/e4c3ewL2TDlIBooOMH5NwAGa8ul2WbSJSkVbGrCkFCD4cKOJyECqkVCp0X92uH+frJOqnS3EWtskwc=\n";
static const char *const P1_HASHES[3] = {
	"cd63f2d122da5b1f1aaa443c4e187e232e9c6451d4cfadefc6e2b55f87e3790b",
	"220ecf4b3c53ef332e3a7a6584443b24d15bd0d058abe5e6de7520dfbbf88a18",
	"8641f9e3cc45d91770c54e3e5d477d3ceef3b69f0603c120b2e29293644806d5",
};

/* Leaves {"i":0} .. {"i":6}. */
static char RECS[7][8];

static void make_recs(void)
{
	for (int i = 0; i < 7; i++)
		snprintf(RECS[i], sizeof(RECS[i]), "{\"i\":%d}", i);
}

static void vkey(struct alog_verifier *v)
{
	struct alog_err err = { 0 };

	assert_int_equal(alog_verifier_parse(VKEY, strlen(VKEY), v, &err), 0);
}

/* Samples ------------------------------------------------------------ */

static void test_sample_derived_seed_matches_python_v_sample_1(void **state)
{
	char seed[ALOG_SAMPLE_SEED_HEX_LEN + 1];
	struct alog_err err = { 0 };

	(void)state;
	assert_int_equal(alog_sample_seed_derive(S1_REPORT_ID, S1_POP_HEX, seed,
						 &err), 0);
	assert_string_equal(seed, S1_SEED);
}

static void test_sample_draw_reproduces_python_v_sample_1(void **state)
{
	uint64_t *members = malloc(1000 * sizeof(*members));
	uint64_t pos[25], got[25];
	struct alog_err err = { 0 };
	size_t n = 0;

	(void)state;
	assert_non_null(members);
	for (uint64_t i = 0; i < 1000; i++)
		members[i] = 1000 + 3 * i;
	assert_int_equal(alog_sample_positions(1000, 25, S1_SEED,
					       strlen(S1_SEED), pos, &n, &err),
			 0);
	assert_int_equal(n, 25);
	assert_memory_equal(pos, S1_POS, sizeof(S1_POS));
	assert_int_equal(alog_sample_draw(members, 1000, 25, S1_SEED,
					  strlen(S1_SEED), got, &n, &err), 0);
	assert_int_equal(n, 25);
	assert_memory_equal(got, S1_MEMBERS, sizeof(S1_MEMBERS));
	free(members);
}

static void test_sample_given_seed_draws_one_member_per_stratum_v_sample_2(void **state)
{
	static const uint64_t want[5] = { 2, 12, 21, 24, 35 };
	const char *seed = "auditor seed 42";
	struct alog_err err = { 0 };
	uint64_t pos[5];
	size_t n = 0;

	(void)state;
	assert_int_equal(alog_sample_positions(37, 5, seed, strlen(seed), pos,
					       &n, &err), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(pos, want, sizeof(want));
	/* strata of 37 in 5: [0,7) [7,14) [14,22) [22,29) [29,37) */
	for (uint64_t k = 0; k < 5; k++) {
		assert_true(pos[k] >= k * 37 / 5);
		assert_true(pos[k] < (k + 1) * 37 / 5);
	}
}

static void test_sample_rejects_biased_draws_and_redraws_v_sample_3(void **state)
{
	/* One stratum of s = 2^63 + 1: 2^64 mod s = 2^63 - 1, so draws at or
	 * above s are refused; seed "reject-0" is refused three times. */
	const char *seed = "reject-0";
	struct alog_err err = { 0 };
	uint64_t pos[1];
	size_t n = 0;

	(void)state;
	assert_int_equal(alog_sample_positions(UINT64_C(9223372036854775809), 1,
					       seed, strlen(seed), pos, &n,
					       &err), 0);
	assert_int_equal(n, 1);
	assert_true(pos[0] == UINT64_C(5313349813307827438));
}

static void test_sample_strata_are_exact_for_the_largest_population_v_sample_4(void **state)
{
	static const uint64_t want[7] = {
		UINT64_C(2068073550363546272), UINT64_C(4316401321204415530),
		UINT64_C(7764091954442462455), UINT64_C(8634401015988739200),
		UINT64_C(11928972750670888494), UINT64_C(13834946787440358280),
		UINT64_C(16750461721706922751),
	};
	struct alog_err err = { 0 };
	uint64_t pos[7];
	size_t n = 0;

	(void)state;
	assert_int_equal(alog_sample_positions(UINT64_MAX, 7, "big", 3, pos, &n,
					       &err), 0);
	assert_int_equal(n, 7);
	for (int i = 0; i < 7; i++)
		assert_true(pos[i] == want[i]);
}

static void test_sample_at_least_the_population_takes_every_member(void **state)
{
	static const uint64_t members[4] = { 7, 9, 40, 41 };
	struct alog_err err = { 0 };
	uint64_t got[4];
	size_t n = 99;

	(void)state;
	assert_int_equal(alog_sample_draw(members, 4, 4, "x", 1, got, &n, &err),
			 0);
	assert_int_equal(n, 4);
	assert_memory_equal(got, members, sizeof(members));
	assert_int_equal(alog_sample_draw(members, 4, 9, "x", 1, got, &n, &err),
			 0);
	assert_int_equal(n, 4);
	assert_memory_equal(got, members, sizeof(members));
	assert_int_equal(alog_sample_draw(members, 0, 9, "x", 1, got, &n, &err),
			 0);
	assert_int_equal(n, 0);
	assert_int_equal(alog_sample_draw(members, 4, 0, "x", 1, got, &n, &err),
			 0);
	assert_int_equal(n, 0);
}

static void test_sample_positions_are_ascending_one_per_stratum_for_every_size_to_64(void **state)
{
	struct alog_err err = { 0 };
	uint64_t pos[70];
	size_t n;

	(void)state;
	for (uint64_t N = 1; N <= 64; N++) {
		for (uint64_t k = 0; k <= N + 2; k++) {
			assert_int_equal(alog_sample_positions(N, k, "strata", 6,
							       pos, &n, &err),
					 0);
			assert_int_equal(n, k < N ? k : N);
			for (size_t i = 0; i < n; i++) {
				if (k >= N) {
					assert_true(pos[i] == i);
					continue;
				}
				assert_true(pos[i] >= i * N / k);
				assert_true(pos[i] < (i + 1) * N / k);
			}
		}
	}
}

static void test_sample_refuses_bad_seeds_sizes_and_derivation_inputs(void **state)
{
	char seed[ALOG_SAMPLE_SEED_MAX + 2], out[ALOG_SAMPLE_SEED_HEX_LEN + 1];
	char id[ALOG_SAMPLE_REPORT_ID_MAX + 2];
	struct alog_err err = { 0 };
	uint64_t *pos = malloc(ALOG_SAMPLE_SIZE_MAX * sizeof(*pos));
	size_t n;

	(void)state;
	assert_non_null(pos);
	memset(seed, 'a', sizeof(seed));
	assert_int_equal(alog_sample_seed_check(seed, 0, &err), ALOG_EINVAL);
	assert_int_equal(alog_sample_seed_check(seed, ALOG_SAMPLE_SEED_MAX,
						&err), 0);
	assert_int_equal(alog_sample_seed_check(seed, ALOG_SAMPLE_SEED_MAX + 1,
						&err), ALOG_ELIMIT);
	assert_int_equal(alog_sample_seed_check("a\tb", 3, &err), ALOG_EINVAL);
	assert_non_null(strstr(err.msg, "offset 1"));
	assert_int_equal(alog_sample_seed_check("ab\x7f", 3, &err), ALOG_EINVAL);
	assert_int_equal(alog_sample_seed_check("\xc3\xa9", 2, &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_sample_seed_check(" ~", 2, &err), 0);
	assert_int_equal(alog_sample_positions(10, 3, "", 0, pos, &n, &err),
			 ALOG_EINVAL);

	/* sizes: the limit is accepted, one more is refused */
	assert_int_equal(alog_sample_positions(UINT64_C(1) << 40,
					       ALOG_SAMPLE_SIZE_MAX, "s", 1,
					       pos, &n, &err), 0);
	assert_int_equal(n, ALOG_SAMPLE_SIZE_MAX);
	for (size_t i = 1; i < n; i++)
		assert_true(pos[i - 1] < pos[i]);
	assert_int_equal(alog_sample_positions(UINT64_C(1) << 40,
					       ALOG_SAMPLE_SIZE_MAX + 1, "s", 1,
					       pos, &n, &err), ALOG_ELIMIT);
	assert_int_equal(n, 0);

	/* derivation inputs */
	assert_int_equal(alog_sample_seed_derive("", S1_POP_HEX, out, &err),
			 ALOG_EINVAL);
	memset(id, 'r', sizeof(id));
	id[ALOG_SAMPLE_REPORT_ID_MAX] = 0;
	assert_int_equal(alog_sample_seed_derive(id, S1_POP_HEX, out, &err), 0);
	id[ALOG_SAMPLE_REPORT_ID_MAX] = 'r';
	id[ALOG_SAMPLE_REPORT_ID_MAX + 1] = 0;
	assert_int_equal(alog_sample_seed_derive(id, S1_POP_HEX, out, &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_sample_seed_derive("r\n", S1_POP_HEX, out, &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_sample_seed_derive(
				 "r", "1A08bb72660eb4abce9ba74809078611ec1492479c4f8cfc5832659d33590012",
				 out, &err), ALOG_EINVAL);
	assert_int_equal(alog_sample_seed_derive(
				 "r", "1a08bb72660eb4abce9ba74809078611ec1492479c4f8cfc5832659d3359001",
				 out, &err), ALOG_EINVAL);
	assert_int_equal(alog_sample_seed_derive(
				 "r", "1a08bb72660eb4abce9ba74809078611ec1492479c4f8cfc5832659d335900120",
				 out, &err), ALOG_EINVAL);
	free(pos);
}

/* tlog-proof --------------------------------------------------------- */

/* Subtree hashes of the 7 leaves, computed from the leaves. */
static int subtree(void *ctx, unsigned level, uint64_t k,
		   unsigned char out[ALOG_HASH_LEN], struct alog_err *err)
{
	unsigned char l[ALOG_HASH_LEN], r[ALOG_HASH_LEN];

	(void)ctx;
	if (level == 0)
		return alog_merkle_leaf(NULL, RECS[k], strlen(RECS[k]), out);
	if (subtree(ctx, level - 1, 2 * k, l, err) < 0 ||
	    subtree(ctx, level - 1, 2 * k + 1, r, err) < 0)
		return ALOG_ECRYPTO;
	return alog_merkle_node(NULL, l, r, out);
}

static void test_tlog_proof_format_reproduces_v_tlogproof_1(void **state)
{
	unsigned char proof[ALOG_MERKLE_PROOF_MAX][ALOG_HASH_LEN];
	unsigned char root[ALOG_HASH_LEN], want[ALOG_HASH_LEN];
	struct alog_buf out = { 0 };
	struct alog_err err = { 0 };
	size_t n = 0;

	(void)state;
	make_recs();
	assert_int_equal(alog_merkle_root(subtree, NULL, NULL, 7, root, &err),
			 0);
	testutil_unhex(P1_ROOT, want, sizeof(want));
	assert_memory_equal(root, want, sizeof(want));
	assert_int_equal(alog_merkle_prove_inclusion(subtree, NULL, NULL, 4, 7,
						     proof, &n, &err), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		testutil_unhex(P1_HASHES[i], want, sizeof(want));
		assert_memory_equal(proof[i], want, sizeof(want));
	}
	assert_int_equal(alog_tlog_proof_format(4,
						(const unsigned char (*)[ALOG_HASH_LEN])proof,
						n, RECS[4], strlen(RECS[4]),
						P1_CHECKPOINT,
						strlen(P1_CHECKPOINT), &out,
						&err), 0);
	assert_int_equal(out.len, strlen(P1_PROOF));
	assert_memory_equal(out.data, P1_PROOF, out.len);
	alog_buf_release(&out);
}

static void test_tlog_proof_parse_and_verify_v_tlogproof_1(void **state)
{
	struct alog_tlog_proof p = { 0 };
	struct alog_checkpoint cp;
	struct alog_verifier v;
	struct alog_err err = { 0 };
	unsigned char want[ALOG_HASH_LEN];

	(void)state;
	vkey(&v);
	assert_int_equal(alog_tlog_proof_parse(P1_PROOF, strlen(P1_PROOF), &p,
					       &err), 0);
	assert_true(p.index == 4);
	assert_int_equal(p.n_proof, 3);
	for (size_t i = 0; i < 3; i++) {
		testutil_unhex(P1_HASHES[i], want, sizeof(want));
		assert_memory_equal(p.proof[i], want, sizeof(want));
	}
	assert_int_equal(p.extra_len, 7);
	assert_memory_equal(p.extra, "{\"i\":4}", 7);
	assert_int_equal(p.note_len, strlen(P1_CHECKPOINT));
	assert_memory_equal(p.note, P1_CHECKPOINT, p.note_len);
	assert_int_equal(alog_tlog_proof_verify(&p, &v, NULL, &cp, &err), 0);
	assert_string_equal(cp.origin, "example.com/auditlog-test");
	assert_true(cp.size == 7);
	testutil_unhex(P1_ROOT, want, sizeof(want));
	assert_memory_equal(cp.root, want, sizeof(want));
	alog_tlog_proof_release(&p);
	alog_tlog_proof_release(NULL);
}

static void test_tlog_proof_from_a_store_equals_v_tlogproof_1(void **state)
{
	char *tmp = testutil_tmpdir(), dir[4096];
	struct alog_signer *signer = NULL;
	struct alog_store *s = NULL;
	struct alog_store_checkpoint cp = { 0 };
	struct alog_store_rec recs[7] = { 0 };
	struct alog_verifier v;
	struct alog_buf out = { 0 };
	struct alog_err err = { 0 };

	(void)state;
	make_recs();
	snprintf(dir, sizeof(dir), "%s/store", tmp);
	assert_int_equal(alog_signer_parse(SKEY, strlen(SKEY), &signer, &err),
			 0);
	alog_signer_verifier(signer, &v);
	for (int i = 0; i < 7; i++) {
		recs[i].data = (const unsigned char *)RECS[i];
		recs[i].len = strlen(RECS[i]);
		recs[i].received_us = INT64_C(1700000000000000) + i;
		recs[i].id_key = NULL;
	}
	assert_int_equal(alog_store_create(dir, "example.com/auditlog-test", &v,
					   NULL, &err), 0);
	assert_int_equal(alog_store_open(dir, ALOG_STORE_WRITE, &s, NULL, &err),
			 0);
	assert_int_equal(alog_store_append(s, recs, 7, &err), 0);
	assert_int_equal(alog_store_sign_checkpoint(s, signer,
						    INT64_C(1700000001000000),
						    &cp, &err), 0);
	assert_int_equal(cp.note.len, strlen(P1_CHECKPOINT));
	assert_memory_equal(cp.note.data, P1_CHECKPOINT, cp.note.len);
	assert_int_equal(alog_sample_proof_format(s, 4, &cp, &out, &err), 0);
	assert_int_equal(out.len, strlen(P1_PROOF));
	assert_memory_equal(out.data, P1_PROOF, out.len);
	/* every record's proof verifies against the checkpoint */
	for (uint64_t i = 0; i < 7; i++) {
		struct alog_tlog_proof p = { 0 };

		alog_buf_reset(&out);
		assert_int_equal(alog_sample_proof_format(s, i, &cp, &out, &err),
				 0);
		assert_int_equal(alog_tlog_proof_parse((const char *)out.data,
						       out.len, &p, &err), 0);
		assert_int_equal(alog_tlog_proof_verify(&p, &v, NULL, NULL,
							&err), 0);
		alog_tlog_proof_release(&p);
	}
	assert_int_equal(alog_sample_proof_format(s, 7, &cp, &out, &err),
			 ALOG_EINVAL);
	alog_buf_release(&out);
	alog_store_checkpoint_release(&cp);
	alog_store_close(s);
	alog_signer_free(signer);
	testutil_rmtree(tmp);
	free(tmp);
}

/* Parse text, then verify it; the first failure's code. */
static int parse_verify(const char *text, size_t len,
			const struct alog_verifier *v, struct alog_err *err)
{
	struct alog_tlog_proof p = { 0 };
	int rc = alog_tlog_proof_parse(text, len, &p, err);

	if (rc == 0)
		rc = alog_tlog_proof_verify(&p, v, NULL, NULL, err);
	alog_tlog_proof_release(&p);
	return rc;
}

static void test_tlog_proof_refuses_any_changed_byte(void **state)
{
	size_t len = strlen(P1_PROOF);
	char *t = malloc(len + 1);
	struct alog_verifier v;
	struct alog_err err = { 0 };

	(void)state;
	assert_non_null(t);
	vkey(&v);
	for (size_t i = 0; i < len; i++) {
		memcpy(t, P1_PROOF, len + 1);
		t[i] ^= 0x01;
		assert_true(parse_verify(t, len, &v, &err) < 0);
	}
	free(t);
}

static void test_tlog_proof_refuses_every_truncation(void **state)
{
	size_t len = strlen(P1_PROOF);
	struct alog_verifier v;
	struct alog_err err = { 0 };

	(void)state;
	vkey(&v);
	for (size_t i = 0; i < len; i++) {
		char *t = malloc(i ? i : 1);

		assert_non_null(t);
		memcpy(t, P1_PROOF, i);
		assert_true(parse_verify(t, i, &v, &err) < 0);
		free(t);
	}
}

/* P1_PROOF with its lines replaced: head (before the hashes) and body. */
static int variant(const char *head, const char *hashes, const char *note,
		   struct alog_err *err)
{
	struct alog_buf b = { 0 };
	struct alog_verifier v;
	int rc;

	vkey(&v);
	assert_int_equal(alog_buf_addf(&b, NULL, "%s%s\n%s", head, hashes, note),
			 0);
	rc = parse_verify((const char *)b.data, b.len, &v, err);
	alog_buf_release(&b);
	return rc;
}

#define P1_HASH_LINES                                     \
	"zWPy0SLaWx8aqkQ8Thh+Iy6cZFHUz63vxuK1X4fjeQs=\n" \
	"Ig7PSzxT7zMuOnplhEQ7JNFb0NBYq+Xm3nUg37v4ihg=\n" \
	"hkH548xF2RdwxU4+XUd9PO7ztp8GA8EgsuKSk2RIBtU=\n"
#define HDR "c2sp.org/tlog-proof@v1\n"
#define EXTRA "extra eyJpIjo0fQ==\n"

static void test_tlog_proof_reader_rules(void **state)
{
	struct alog_err err = { 0 };

	(void)state;
	assert_int_equal(variant(HDR EXTRA "index 4\n", P1_HASH_LINES,
				 P1_CHECKPOINT, &err), 0);
	/* header */
	assert_int_equal(variant("c2sp.org/tlog-proof@v2\n" EXTRA "index 4\n",
				 P1_HASH_LINES, P1_CHECKPOINT, &err),
			 ALOG_ECORRUPT);
	assert_non_null(strstr(err.msg, "line 1"));
	/* index: leading zero, sign, overflow, missing, wrong value */
	assert_int_equal(variant(HDR EXTRA "index 04\n", P1_HASH_LINES,
				 P1_CHECKPOINT, &err), ALOG_ECORRUPT);
	assert_non_null(strstr(err.msg, "line 3"));
	assert_int_equal(variant(HDR EXTRA "index +4\n", P1_HASH_LINES,
				 P1_CHECKPOINT, &err), ALOG_ECORRUPT);
	assert_int_equal(variant(HDR EXTRA "index 18446744073709551616\n",
				 P1_HASH_LINES, P1_CHECKPOINT, &err),
			 ALOG_ECORRUPT);
	assert_int_equal(variant(HDR EXTRA "index \n", P1_HASH_LINES,
				 P1_CHECKPOINT, &err), ALOG_ECORRUPT);
	assert_int_equal(variant(HDR EXTRA, P1_HASH_LINES, P1_CHECKPOINT, &err),
			 ALOG_ECORRUPT);
	assert_int_equal(variant(HDR EXTRA "index 5\n", P1_HASH_LINES,
				 P1_CHECKPOINT, &err), ALOG_EVERIFY);
	assert_int_equal(variant(HDR EXTRA "index 7\n", P1_HASH_LINES,
				 P1_CHECKPOINT, &err), ALOG_EVERIFY);
	assert_non_null(strstr(err.msg, "tree of size 7"));
	assert_int_equal(variant(HDR EXTRA "index 18446744073709551615\n",
				 P1_HASH_LINES, P1_CHECKPOINT, &err),
			 ALOG_EVERIFY);
	/* extra: empty, not canonical, another record, after index */
	assert_int_equal(variant(HDR "extra \nindex 4\n", P1_HASH_LINES,
				 P1_CHECKPOINT, &err), ALOG_ECORRUPT);
	assert_non_null(strstr(err.msg, "line 2"));
	assert_int_equal(variant(HDR "extra eyJpIjo0fR==\nindex 4\n",
				 P1_HASH_LINES, P1_CHECKPOINT, &err),
			 ALOG_ECORRUPT);
	assert_int_equal(variant(HDR "extra eyJpIjo0fQ\nindex 4\n",
				 P1_HASH_LINES, P1_CHECKPOINT, &err),
			 ALOG_ECORRUPT);
	assert_int_equal(variant(HDR "extra eyJpIjozfQ==\nindex 4\n",
				 P1_HASH_LINES, P1_CHECKPOINT, &err),
			 ALOG_EVERIFY);
	assert_int_equal(variant(HDR "index 4\n" EXTRA, P1_HASH_LINES,
				 P1_CHECKPOINT, &err), ALOG_ECORRUPT);
	/* no extra: nothing to hash, the caller must give the leaf */
	assert_int_equal(variant(HDR "index 4\n", P1_HASH_LINES, P1_CHECKPOINT,
				 &err), ALOG_ECORRUPT);
	assert_non_null(strstr(err.msg, "no extra line"));
	/* hashes: one short, one too many, one altered, not canonical */
	assert_int_equal(variant(HDR EXTRA "index 4\n",
				 "zWPy0SLaWx8aqkQ8Thh+Iy6cZFHUz63vxuK1X4fjeQs=\n"
				 "Ig7PSzxT7zMuOnplhEQ7JNFb0NBYq+Xm3nUg37v4ihg=\n",
				 P1_CHECKPOINT, &err), ALOG_EVERIFY);
	assert_int_equal(variant(HDR EXTRA "index 4\n",
				 P1_HASH_LINES
				 "hkH548xF2RdwxU4+XUd9PO7ztp8GA8EgsuKSk2RIBtU=\n",
				 P1_CHECKPOINT, &err), ALOG_EVERIFY);
	assert_int_equal(variant(HDR EXTRA "index 4\n",
				 "zWPy0SLaWx8aqkQ8Thh+Iy6cZFHUz63vxuK1X4fjeQs=\n"
				 "Ig7PSzxT7zMuOnplhEQ7JNFb0NBYq+Xm3nUg37v4ihg=\n"
				 "hkH548xF2RdwxU4+XUd9PO7ztp8GA8EgsuKSk2RIBtQ=\n",
				 P1_CHECKPOINT, &err), ALOG_EVERIFY);
	assert_int_equal(variant(HDR EXTRA "index 4\n",
				 "zWPy0SLaWx8aqkQ8Thh+Iy6cZFHUz63vxuK1X4fjeQs=\n"
				 "Ig7PSzxT7zMuOnplhEQ7JNFb0NBYq+Xm3nUg37v4ihh=\n"
				 "hkH548xF2RdwxU4+XUd9PO7ztp8GA8EgsuKSk2RIBtU=\n",
				 P1_CHECKPOINT, &err), ALOG_ECORRUPT);
	assert_non_null(strstr(err.msg, "line 5"));
	assert_int_equal(variant(HDR EXTRA "index 4\n",
				 "zWPy0SLaWx8aqkQ8Thh+Iy6cZFHUz63vxuK1X4fjeQs\n",
				 P1_CHECKPOINT, &err), ALOG_ECORRUPT);
	/* no empty line, no checkpoint, a checkpoint by another key */
	assert_int_equal(alog_tlog_proof_parse(HDR EXTRA "index 4\n"
					       P1_HASH_LINES,
					       strlen(HDR EXTRA "index 4\n"
						      P1_HASH_LINES),
					       &(struct alog_tlog_proof){ 0 },
					       &err), ALOG_ECORRUPT);
	assert_int_equal(variant(HDR EXTRA "index 4\n", P1_HASH_LINES, "",
				 &err), ALOG_ECORRUPT);
	assert_int_equal(variant(HDR EXTRA "index 4\n", P1_HASH_LINES,
				 "This is an example message.\n\n\xe2\x80\x94 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n",
				 &err), ALOG_EVERIFY);
	assert_non_null(strstr(err.msg, "checkpoint"));
}

static void test_tlog_proof_limits_are_accepted_and_one_more_refused(void **state)
{
	struct alog_tlog_proof p = { 0 };
	struct alog_buf b = { 0 };
	struct alog_err err = { 0 };
	unsigned char *rec;

	(void)state;
	/* ALOG_MERKLE_PROOF_MAX hashes parse; one more is a limit */
	assert_int_equal(alog_buf_adds(&b, HDR "index 0\n", NULL), 0);
	for (int i = 0; i < ALOG_MERKLE_PROOF_MAX; i++)
		assert_int_equal(alog_buf_adds(&b, "zWPy0SLaWx8aqkQ8Thh+Iy6cZFHUz63vxuK1X4fjeQs=\n",
					       NULL), 0);
	assert_int_equal(alog_buf_adds(&b, "\n" "x\n", NULL), 0);
	assert_int_equal(alog_tlog_proof_parse((const char *)b.data, b.len, &p,
					       &err), 0);
	assert_int_equal(p.n_proof, ALOG_MERKLE_PROOF_MAX);
	alog_tlog_proof_release(&p);
	alog_buf_reset(&b);
	assert_int_equal(alog_buf_adds(&b, HDR "index 0\n", NULL), 0);
	for (int i = 0; i <= ALOG_MERKLE_PROOF_MAX; i++)
		assert_int_equal(alog_buf_adds(&b, "zWPy0SLaWx8aqkQ8Thh+Iy6cZFHUz63vxuK1X4fjeQs=\n",
					       NULL), 0);
	assert_int_equal(alog_buf_adds(&b, "\n" "x\n", NULL), 0);
	assert_int_equal(alog_tlog_proof_parse((const char *)b.data, b.len, &p,
					       &err), ALOG_ELIMIT);
	assert_null(p.extra);

	/* extra of ALOG_TLOG_PROOF_EXTRA_MAX bytes round-trips; one more is
	 * refused by the writer and by the reader */
	rec = malloc(ALOG_TLOG_PROOF_EXTRA_MAX + 1);
	assert_non_null(rec);
	memset(rec, 'r', ALOG_TLOG_PROOF_EXTRA_MAX + 1);
	alog_buf_reset(&b);
	assert_int_equal(alog_tlog_proof_format(0, NULL, 0, rec,
						ALOG_TLOG_PROOF_EXTRA_MAX,
						P1_CHECKPOINT,
						strlen(P1_CHECKPOINT), &b, &err),
			 0);
	assert_true(b.len <= ALOG_TLOG_PROOF_MAX);
	assert_int_equal(alog_tlog_proof_parse((const char *)b.data, b.len, &p,
					       &err), 0);
	assert_int_equal(p.extra_len, ALOG_TLOG_PROOF_EXTRA_MAX);
	assert_memory_equal(p.extra, rec, ALOG_TLOG_PROOF_EXTRA_MAX);
	alog_tlog_proof_release(&p);
	assert_int_equal(alog_tlog_proof_format(0, NULL, 0, rec,
						ALOG_TLOG_PROOF_EXTRA_MAX + 1,
						P1_CHECKPOINT,
						strlen(P1_CHECKPOINT), &b, &err),
			 ALOG_ELIMIT);
	alog_buf_reset(&b);
	assert_int_equal(alog_buf_adds(&b, HDR "extra ", NULL), 0);
	assert_int_equal(alog_buf_reserve(&b, 4 * ((ALOG_TLOG_PROOF_EXTRA_MAX + 3) / 3) + 1, NULL), 0);
	b.len += alog_b64_encode(rec, ALOG_TLOG_PROOF_EXTRA_MAX + 1,
				 (char *)b.data + b.len);
	assert_int_equal(alog_buf_adds(&b, "\nindex 0\n\nx\n", NULL), 0);
	assert_int_equal(alog_tlog_proof_parse((const char *)b.data, b.len, &p,
					       &err), ALOG_ELIMIT);
	free(rec);

	/* a text over ALOG_TLOG_PROOF_MAX bytes is refused before parsing */
	assert_int_equal(alog_tlog_proof_parse(P1_PROOF,
					       (size_t)ALOG_TLOG_PROOF_MAX + 1,
					       &p, &err), ALOG_ELIMIT);
	alog_buf_release(&b);
}

static void test_tlog_proof_without_extra_verifies_with_a_given_leaf(void **state)
{
	unsigned char proof[ALOG_MERKLE_PROOF_MAX][ALOG_HASH_LEN];
	unsigned char leaf[ALOG_HASH_LEN];
	struct alog_tlog_proof p = { 0 };
	struct alog_verifier v;
	struct alog_buf b = { 0 };
	struct alog_err err = { 0 };
	size_t n = 0;

	(void)state;
	make_recs();
	vkey(&v);
	assert_int_equal(alog_merkle_prove_inclusion(subtree, NULL, NULL, 6, 7,
						     proof, &n, &err), 0);
	assert_int_equal(alog_tlog_proof_format(6,
						(const unsigned char (*)[ALOG_HASH_LEN])proof,
						n, NULL, 0, P1_CHECKPOINT,
						strlen(P1_CHECKPOINT), &b,
						&err), 0);
	assert_null(strstr((const char *)b.data, "extra"));
	assert_int_equal(alog_tlog_proof_parse((const char *)b.data, b.len, &p,
					       &err), 0);
	assert_null(p.extra);
	assert_int_equal(alog_merkle_leaf(NULL, RECS[6], strlen(RECS[6]), leaf),
			 0);
	assert_int_equal(alog_tlog_proof_verify(&p, &v, leaf, NULL, &err), 0);
	assert_int_equal(alog_merkle_leaf(NULL, RECS[5], strlen(RECS[5]), leaf),
			 0);
	assert_int_equal(alog_tlog_proof_verify(&p, &v, leaf, NULL, &err),
			 ALOG_EVERIFY);
	assert_int_equal(alog_tlog_proof_verify(&p, &v, NULL, NULL, &err),
			 ALOG_ECORRUPT);
	alog_tlog_proof_release(&p);
	/* writer argument checks, output untouched on failure */
	alog_buf_reset(&b);
	assert_int_equal(alog_tlog_proof_format(6, NULL, 0, NULL, 0, "x", 1, &b,
						&err), ALOG_EINVAL);
	assert_int_equal(alog_tlog_proof_format(6, NULL, 0, NULL, 0, "", 0, &b,
						&err), ALOG_EINVAL);
	assert_int_equal(alog_tlog_proof_format(6, NULL,
						ALOG_MERKLE_PROOF_MAX + 1, NULL,
						0, "x\n", 2, &b, &err),
			 ALOG_EINVAL);
	assert_int_equal(b.len, 0);
	alog_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_derived_seed_matches_python_v_sample_1),
		cmocka_unit_test(test_sample_draw_reproduces_python_v_sample_1),
		cmocka_unit_test(test_sample_given_seed_draws_one_member_per_stratum_v_sample_2),
		cmocka_unit_test(test_sample_rejects_biased_draws_and_redraws_v_sample_3),
		cmocka_unit_test(test_sample_strata_are_exact_for_the_largest_population_v_sample_4),
		cmocka_unit_test(test_sample_at_least_the_population_takes_every_member),
		cmocka_unit_test(test_sample_positions_are_ascending_one_per_stratum_for_every_size_to_64),
		cmocka_unit_test(test_sample_refuses_bad_seeds_sizes_and_derivation_inputs),
		cmocka_unit_test(test_tlog_proof_format_reproduces_v_tlogproof_1),
		cmocka_unit_test(test_tlog_proof_parse_and_verify_v_tlogproof_1),
		cmocka_unit_test(test_tlog_proof_from_a_store_equals_v_tlogproof_1),
		cmocka_unit_test(test_tlog_proof_refuses_any_changed_byte),
		cmocka_unit_test(test_tlog_proof_refuses_every_truncation),
		cmocka_unit_test(test_tlog_proof_reader_rules),
		cmocka_unit_test(test_tlog_proof_limits_are_accepted_and_one_more_refused),
		cmocka_unit_test(test_tlog_proof_without_extra_verifies_with_a_given_leaf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
