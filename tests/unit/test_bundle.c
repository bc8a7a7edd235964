/*
 * test_bundle: evidence bundles (report/bundle.h, SPEC.md section 19
 * "Evidence bundles"): sealing, and verification that names the first
 * file (and line) that fails.
 *
 * V-BUNDLE-1: the manifest.txt and manifest.note of a three-file bundle
 * (the V-TLOGPROOF-1 checkpoint and proof and a report.json), sealed with
 * the V-NOTE-3 key, computed with Python (hashlib, cryptography) while this
 * test was written; the script is in SPEC.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "report/bundle.h"
#include "report/sample.h"
#include "store/buf.h"
#include "store/bytes.h"
#include "store/merkle.h"
#include "store/note.h"
#include "store/sign.h"
#include "testutil.h"

/* V-NOTE-3 */
static const char SKEY[] =
	"PRIVATE+KEY+PeterNeumann+c74f20a3+"
	"AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";

/* V-TLOGPROOF-1 (see test_sample.c) */
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
static const char REPORT[] = "{\"report\":\"V-BUNDLE-1\"}\n";

/* V-BUNDLE-1 */
static const char B1_MANIFEST[] =
	"d6f9ae10bd9421989e2d7ffbb19c41aabc193b58dd5e2a9b0a9370312a4d3b27  checkpoints/end.checkpoint\n"
	"846193a949f914f7819444bab06772362b676abd354458c858c7b4f541a8fc8f  report.json\n"
	"df149b5ceb64187aa97ae78a7fba1669606f4f8bbc08bb9c9b7f338597504506  samples/4.tlog-proof\n";
static const char B1_NOTE[] =
	"auditlog-bundle/v1\n"
	"example.com/auditlog-test\n"
	"3\n"
	"77d02afe26802be816931b28830fc56b62a322e7252951c3d4e5d7bad459e31a\n"
	"\n"
	"\xe2\x80\x94 PeterNeumann x08gox2arOr/RMGccdf9a952Y7xrt1N6Jo+Yg2FMps1/9IosZuaXQX1bFFl0am3cnkVQbse6PV/WwXV4XfRDVVercA4=\n";

/* The larger bundle of the tamper tests, in manifest order. */
static const char *const FILES[] = {
	"checkpoints/end.checkpoint",
	"populations/all.csv",
	"report.json",
	"reports/a1.2.md",
	"samples/2.tlog-proof",
	"samples/4.tlog-proof",
	"samples/6.tlog-proof",
};
#define N_FILES (sizeof(FILES) / sizeof(FILES[0]))

static char RECS[7][8];

struct fx {
	char *tmp;
	char dir[4096];
	struct alog_signer *a;  /* the log's key (V-NOTE-3) */
	struct alog_signer *b;  /* another key, same name */
	struct alog_verifier va;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct alog_err err = { 0 };

	if (!f)
		return -1;
	for (int i = 0; i < 7; i++)
		snprintf(RECS[i], sizeof(RECS[i]), "{\"i\":%d}", i);
	f->tmp = testutil_tmpdir();
	snprintf(f->dir, sizeof(f->dir), "%s/bundle", f->tmp);
	if (alog_signer_parse(SKEY, strlen(SKEY), &f->a, &err) < 0 ||
	    alog_signer_generate("PeterNeumann", &f->b, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	alog_signer_verifier(f->a, &f->va);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	alog_signer_free(f->a);
	alog_signer_free(f->b);
	testutil_rmtree(f->tmp);
	free(f->tmp);
	free(f);
	return 0;
}

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

static void put(const char *dir, const char *path, const void *data,
		size_t len)
{
	struct alog_err err = { 0 };
	int rc = alog_bundle_add(dir, path, data, len, &err);

	if (rc < 0)
		fprintf(stderr, "add %s: %s\n", path, err.msg);
	assert_int_equal(rc, 0);
}

/* The checkpoint of size `size` of RECS, signed by s. */
static void checkpoint(const struct alog_signer *s, uint64_t size,
		       struct alog_buf *out)
{
	struct alog_checkpoint c = { "example.com/auditlog-test", 0, { 0 } };
	struct alog_buf body = { 0 };
	struct alog_err err = { 0 };

	c.size = size;
	assert_int_equal(alog_merkle_root(subtree, NULL, NULL, size, c.root,
					  &err), 0);
	assert_int_equal(alog_checkpoint_format(&c, &body, &err), 0);
	assert_int_equal(alog_note_sign(s, (const char *)body.data, body.len,
					out, &err), 0);
	alog_buf_release(&body);
}

static void proof_text(uint64_t index, const struct alog_buf *note,
		       int with_extra, struct alog_buf *out)
{
	unsigned char proof[ALOG_MERKLE_PROOF_MAX][ALOG_HASH_LEN];
	struct alog_checkpoint c;
	struct alog_err err = { 0 };
	size_t n = 0, tl;

	/* the size the note states (its text ends at the blank line) */
	tl = (size_t)(strstr((const char *)note->data, "\n\n") -
		      (const char *)note->data) + 1;
	assert_int_equal(alog_checkpoint_parse((const char *)note->data, tl, &c,
					       &err), 0);
	assert_int_equal(alog_merkle_prove_inclusion(subtree, NULL, NULL, index,
						     c.size, proof, &n, &err),
			 0);
	alog_buf_reset(out);
	assert_int_equal(alog_tlog_proof_format(index,
						(const unsigned char (*)[ALOG_HASH_LEN])proof,
						n, with_extra ? RECS[index] : NULL,
						with_extra ? strlen(RECS[index]) : 0,
						(const char *)note->data,
						note->len, out, &err), 0);
}

/* Files of the bundle with checkpoint and proofs signed by ck. */
static void build(const char *dir, const struct alog_signer *ck, int big)
{
	struct alog_buf note = { 0 }, p = { 0 };

	checkpoint(ck, 7, &note);
	put(dir, "checkpoints/end.checkpoint", note.data, note.len);
	put(dir, "report.json", REPORT, strlen(REPORT));
	proof_text(4, &note, 1, &p);
	put(dir, "samples/4.tlog-proof", p.data, p.len);
	if (big) {
		put(dir, "populations/all.csv", "index\n2\n4\n6\n", 12);
		put(dir, "reports/a1.2.md", "# A1.2\n", 7);
		proof_text(2, &note, 1, &p);
		put(dir, "samples/2.tlog-proof", p.data, p.len);
		proof_text(6, &note, 1, &p);
		put(dir, "samples/6.tlog-proof", p.data, p.len);
	}
	alog_buf_release(&note);
	alog_buf_release(&p);
}

static void seal(struct fx *f, const struct alog_signer *s)
{
	struct alog_err err = { 0 };
	int rc = alog_bundle_sign(f->dir, s, NULL, &err);

	if (rc < 0)
		fprintf(stderr, "sign: %s\n", err.msg);
	assert_int_equal(rc, 0);
}

static char *path_of(const struct fx *f, const char *rel, char *buf,
		     size_t n)
{
	snprintf(buf, n, "%s/%s", f->dir, rel);
	return buf;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void unseal(struct fx *f)
{
	char p[4200];

	unlink(path_of(f, ALOG_BUNDLE_MANIFEST, p, sizeof(p)));
	unlink(path_of(f, ALOG_BUNDLE_MANIFEST_NOTE, p, sizeof(p)));
}

/*
 * Write manifest.txt and manifest.note for FILES by hand, signed by s: for
 * bundles alog_bundle_sign refuses to seal (a checkpoint by another key).
 * note_text, when non-NULL, replaces the signed text.
 */
static void reseal(struct fx *f, const struct alog_signer *s,
		   const char *note_text)
{
	struct alog_buf man = { 0 }, text = { 0 }, note = { 0 };
	unsigned char h[ALOG_HASH_LEN];
	char hex[65], p[4200];
	struct alog_err err = { 0 };

	unseal(f);
	for (size_t i = 0; i < N_FILES; i++) {
		size_t n;
		unsigned char *d = testutil_read_file(path_of(f, FILES[i], p,
							       sizeof(p)), &n);

		assert_int_equal(alog_hasher_sha256(NULL, d, n, NULL, 0, h), 0);
		alog_hex_encode(h, sizeof(h), hex);
		assert_int_equal(alog_buf_addf(&man, NULL, "%s  %s\n", hex,
					       FILES[i]), 0);
		free(d);
	}
	assert_int_equal(alog_hasher_sha256(NULL, man.data, man.len, NULL, 0,
					    h), 0);
	alog_hex_encode(h, sizeof(h), hex);
	if (note_text)
		assert_int_equal(alog_buf_adds(&text, note_text, NULL), 0);
	else
		assert_int_equal(alog_buf_addf(&text, NULL,
					       "auditlog-bundle/v1\nexample.com/auditlog-test\n%zu\n%s\n",
					       N_FILES, hex), 0);
	assert_int_equal(alog_note_sign(s, (const char *)text.data, text.len,
					&note, &err), 0);
	write_file(path_of(f, ALOG_BUNDLE_MANIFEST, p, sizeof(p)), man.data,
		   man.len);
	write_file(path_of(f, ALOG_BUNDLE_MANIFEST_NOTE, p, sizeof(p)),
		   note.data, note.len);
	alog_buf_release(&man);
	alog_buf_release(&text);
	alog_buf_release(&note);
}

/* Verify with the log's key; expect code rc, failed == file, and a
 * message that starts with the file and contains want (may be NULL). */
static void expect(struct fx *f, int rc, const char *file, const char *want)
{
	struct alog_bundle_summary sum;
	struct alog_err err = { 0 };
	int got = alog_bundle_verify(f->dir, &f->va, &sum, &err);

	if (got != rc || strcmp(sum.failed, file) != 0 ||
	    strncmp(err.msg, file, strlen(file)) != 0 ||
	    (want && !strstr(err.msg, want)))
		fprintf(stderr, "got %d, failed '%s': %s\n", got, sum.failed,
			err.msg);
	assert_int_equal(got, rc);
	assert_string_equal(sum.failed, file);
	assert_true(strncmp(err.msg, file, strlen(file)) == 0);
	if (want)
		assert_non_null(strstr(err.msg, want));
}

static void expect_ok(struct fx *f, uint64_t n_files, uint64_t n_proofs)
{
	struct alog_bundle_summary sum;
	struct alog_err err = { 0 };
	int rc = alog_bundle_verify(f->dir, &f->va, &sum, &err);

	if (rc < 0)
		fprintf(stderr, "verify: %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_true(sum.n_files == n_files);
	assert_true(sum.n_proofs == n_proofs);
	assert_true(sum.end.size == 7);
	assert_string_equal(sum.end.origin, "example.com/auditlog-test");
	assert_string_equal(sum.failed, "");
}

/* Tests ---------------------------------------------------------------- */

static void test_bundle_seal_reproduces_v_bundle_1(void **state)
{
	struct fx *f = *state;
	struct alog_bundle_summary sum;
	struct alog_err err = { 0 };
	unsigned char *d;
	char p[4200];
	size_t n;

	put(f->dir, "checkpoints/end.checkpoint", P1_CHECKPOINT,
	    strlen(P1_CHECKPOINT));
	put(f->dir, "report.json", REPORT, strlen(REPORT));
	put(f->dir, "samples/4.tlog-proof", P1_PROOF, strlen(P1_PROOF));
	assert_int_equal(alog_bundle_sign(f->dir, f->a, &sum, &err), 0);
	assert_true(sum.n_files == 3);
	assert_true(sum.n_proofs == 1);
	d = testutil_read_file(path_of(f, "manifest.txt", p, sizeof(p)), &n);
	assert_int_equal(n, strlen(B1_MANIFEST));
	assert_memory_equal(d, B1_MANIFEST, n);
	free(d);
	d = testutil_read_file(path_of(f, "manifest.note", p, sizeof(p)), &n);
	assert_int_equal(n, strlen(B1_NOTE));
	assert_memory_equal(d, B1_NOTE, n);
	free(d);
	expect_ok(f, 3, 1);
}

static void test_bundle_fresh_bundle_verifies(void **state)
{
	struct fx *f = *state;
	struct alog_bundle_summary sum;
	struct alog_err err = { 0 };
	unsigned char h[ALOG_HASH_LEN], *d;
	char p[4200];
	size_t n;

	build(f->dir, f->a, 1);
	assert_int_equal(alog_bundle_sign(f->dir, f->a, &sum, &err), 0);
	assert_true(sum.n_files == N_FILES);
	assert_true(sum.n_proofs == 3);
	expect_ok(f, N_FILES, 3);
	/* the summary's manifest hash is manifest.txt's */
	assert_int_equal(alog_bundle_verify(f->dir, &f->va, &sum, &err), 0);
	d = testutil_read_file(path_of(f, "manifest.txt", p, sizeof(p)), &n);
	assert_int_equal(alog_hasher_sha256(NULL, d, n, NULL, 0, h), 0);
	assert_memory_equal(h, sum.manifest_sha256, sizeof(h));
	free(d);
	/* an empty directory is not a file: nothing to list */
	assert_int_equal(mkdir(path_of(f, "empty", p, sizeof(p)), 0755), 0);
	expect_ok(f, N_FILES, 3);
}

static void test_bundle_changed_byte_in_any_file_is_refused_naming_it(void **state)
{
	struct fx *f = *state;
	const char *all[N_FILES + 2];
	char p[4200];

	build(f->dir, f->a, 1);
	seal(f, f->a);
	for (size_t i = 0; i < N_FILES; i++)
		all[i] = FILES[i];
	all[N_FILES] = ALOG_BUNDLE_MANIFEST;
	all[N_FILES + 1] = ALOG_BUNDLE_MANIFEST_NOTE;
	for (size_t i = 0; i < N_FILES + 2; i++) {
		size_t n;
		unsigned char *d = testutil_read_file(path_of(f, all[i], p,
							       sizeof(p)), &n);
		size_t offs[3] = { 0, n / 2, n - 1 };

		for (int k = 0; k < 3; k++) {
			struct alog_bundle_summary sum;
			struct alog_err err = { 0 };
			int rc;

			d[offs[k]] ^= 0x01;
			write_file(p, d, n);
			rc = alog_bundle_verify(f->dir, &f->va, &sum, &err);
			if (rc == 0 || strcmp(sum.failed, all[i]) != 0)
				fprintf(stderr, "%s offset %zu: %d '%s' %s\n",
					all[i], offs[k], rc, sum.failed,
					err.msg);
			assert_true(rc < 0);
			assert_string_equal(sum.failed, all[i]);
			assert_true(strncmp(err.msg, all[i],
					    strlen(all[i])) == 0);
			d[offs[k]] ^= 0x01;
			write_file(p, d, n);
		}
		free(d);
	}
	expect_ok(f, N_FILES, 3);
	/* a listed file's change names its manifest line */
	path_of(f, "report.json", p, sizeof(p));
	write_file(p, "{}\n", 3);
	expect(f, ALOG_EVERIFY, "report.json",
	       "sha256 differs from manifest.txt line 3");
}

static void test_bundle_removed_file_is_refused_naming_it(void **state)
{
	struct fx *f = *state;
	char p[4200], q[4200];

	build(f->dir, f->a, 1);
	seal(f, f->a);
	for (size_t i = 0; i < N_FILES; i++) {
		path_of(f, FILES[i], p, sizeof(p));
		snprintf(q, sizeof(q), "%s/removed", f->tmp);
		assert_int_equal(rename(p, q), 0);
		expect(f, ALOG_EVERIFY, FILES[i], "missing");
		assert_int_equal(rename(q, p), 0);
	}
	path_of(f, ALOG_BUNDLE_MANIFEST, p, sizeof(p));
	snprintf(q, sizeof(q), "%s/removed", f->tmp);
	assert_int_equal(rename(p, q), 0);
	expect(f, ALOG_EVERIFY, ALOG_BUNDLE_MANIFEST, "missing");
	assert_int_equal(rename(q, p), 0);
	path_of(f, ALOG_BUNDLE_MANIFEST_NOTE, p, sizeof(p));
	assert_int_equal(rename(p, q), 0);
	expect(f, ALOG_EVERIFY, ALOG_BUNDLE_MANIFEST_NOTE, "missing");
	assert_int_equal(rename(q, p), 0);
	/* a whole directory: its first file is named */
	path_of(f, "samples", p, sizeof(p));
	snprintf(q, sizeof(q), "%s/samples", f->tmp);
	assert_int_equal(rename(p, q), 0);
	expect(f, ALOG_EVERIFY, "samples/2.tlog-proof",
	       "listed in manifest.txt line 5");
	assert_int_equal(rename(q, p), 0);
	expect_ok(f, N_FILES, 3);
}

static void test_bundle_extra_file_is_refused_naming_it(void **state)
{
	static const char *const extra[] = {
		"zz.txt", "samples/8.tlog-proof", ".DS_Store", "a b",
		"checkpoints/start.checkpoint", "a/b/c/d/e/f/g/h.txt",
	};
	struct fx *f = *state;
	char p[4200], q[4200];

	build(f->dir, f->a, 1);
	seal(f, f->a);
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		char dirs[4200], *slash;

		path_of(f, extra[i], p, sizeof(p));
		snprintf(dirs, sizeof(dirs), "%s", p);
		for (slash = dirs + strlen(f->dir) + 1;
		     (slash = strchr(slash, '/')) != NULL; slash++) {
			*slash = 0;
			mkdir(dirs, 0755);
			*slash = '/';
		}
		write_file(p, "x", 1);
		expect(f, ALOG_EVERIFY, extra[i], "not listed in manifest.txt");
		assert_int_equal(unlink(p), 0);
	}
	/* a symbolic link, even to a listed file, is never followed */
	path_of(f, "link.json", p, sizeof(p));
	assert_int_equal(symlink("report.json", p), 0);
	expect(f, ALOG_EVERIFY, "link.json", "symbolic link");
	assert_int_equal(unlink(p), 0);
	/* a fifo */
	path_of(f, "fifo", p, sizeof(p));
	assert_int_equal(mkfifo(p, 0644), 0);
	expect(f, ALOG_EVERIFY, "fifo", "not a regular file");
	assert_int_equal(unlink(p), 0);
	/* a directory with ALOG_BUNDLE_DEPTH_MAX components holds nothing */
	path_of(f, "a/b/c/d/e/f/g/h", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	expect(f, ALOG_EVERIFY, "a/b/c/d/e/f/g/h", "too deep");
	assert_int_equal(rmdir(p), 0);
	/* a listed file replaced by a link to its own copy */
	path_of(f, "report.json", p, sizeof(p));
	snprintf(q, sizeof(q), "%s/report.json", f->tmp);
	assert_int_equal(rename(p, q), 0);
	assert_int_equal(symlink(q, p), 0);
	expect(f, ALOG_EVERIFY, "report.json", "symbolic link");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(rename(q, p), 0);
	/* a listed directory replaced by a link to its own copy */
	path_of(f, "samples", p, sizeof(p));
	snprintf(q, sizeof(q), "%s/samples", f->tmp);
	assert_int_equal(rename(p, q), 0);
	assert_int_equal(symlink(q, p), 0);
	expect(f, ALOG_EVERIFY, "samples/2.tlog-proof", "symbolic link");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(rename(q, p), 0);
	expect_ok(f, N_FILES, 3);
}

static void swap(struct fx *f, const char *a, const char *b)
{
	char p[4200], q[4200], t[4200];

	path_of(f, a, p, sizeof(p));
	path_of(f, b, q, sizeof(q));
	snprintf(t, sizeof(t), "%s/swap", f->tmp);
	assert_int_equal(rename(p, t), 0);
	assert_int_equal(rename(q, p), 0);
	assert_int_equal(rename(t, q), 0);
}

static void test_bundle_swapped_proofs_are_refused_naming_the_first(void **state)
{
	struct fx *f = *state;

	build(f->dir, f->a, 1);
	seal(f, f->a);
	swap(f, "samples/2.tlog-proof", "samples/6.tlog-proof");
	expect(f, ALOG_EVERIFY, "samples/2.tlog-proof",
	       "sha256 differs from manifest.txt line 5");
	/* even under a manifest sealed after the swap, the name binds the
	 * index */
	unseal(f);
	seal(f, f->a);
	expect(f, ALOG_EVERIFY, "samples/2.tlog-proof", "proves index 6");
}

static void test_bundle_checkpoint_signed_by_another_key_is_refused(void **state)
{
	struct fx *f = *state;

	/* checkpoint and proofs by another key, the manifest by the log's */
	build(f->dir, f->b, 1);
	reseal(f, f->a, NULL);
	expect(f, ALOG_EVERIFY, "checkpoints/end.checkpoint", NULL);
	/* the whole bundle sealed by another key */
	unseal(f);
	seal(f, f->b);
	expect(f, ALOG_EVERIFY, "manifest.note", NULL);
}

static void test_bundle_proof_against_another_checkpoint_is_refused(void **state)
{
	struct fx *f = *state;
	struct alog_buf note = { 0 }, p = { 0 };
	char path[4200];

	build(f->dir, f->a, 1);
	/* a proof signed by another key */
	checkpoint(f->b, 7, &note);
	proof_text(4, &note, 1, &p);
	write_file(path_of(f, "samples/4.tlog-proof", path, sizeof(path)),
		   p.data, p.len);
	seal(f, f->a);
	expect(f, ALOG_EVERIFY, "samples/4.tlog-proof",
	       "its checkpoint is not checkpoints/end.checkpoint");
	/* a proof against a valid checkpoint of the log of another size */
	alog_buf_reset(&note);
	checkpoint(f->a, 6, &note);
	proof_text(4, &note, 1, &p);
	write_file(path, p.data, p.len);
	unseal(f);
	seal(f, f->a);
	expect(f, ALOG_EVERIFY, "samples/4.tlog-proof",
	       "its checkpoint is not checkpoints/end.checkpoint");
	/* a proof without its record */
	alog_buf_reset(&note);
	checkpoint(f->a, 7, &note);
	proof_text(4, &note, 0, &p);
	write_file(path, p.data, p.len);
	unseal(f);
	seal(f, f->a);
	expect(f, ALOG_ECORRUPT, "samples/4.tlog-proof", "no extra line");
	/* a proof of another record under the right name */
	proof_text(4, &note, 1, &p);
	memcpy(strstr((char *)p.data, "extra ") + 6, "eyJpIjozfQ==", 12);
	write_file(path, p.data, p.len);
	unseal(f);
	seal(f, f->a);
	expect(f, ALOG_EVERIFY, "samples/4.tlog-proof", "leaf 4");
	/* a proof file not named by its index */
	proof_text(4, &note, 1, &p);
	write_file(path, p.data, p.len);
	unseal(f);
	put(f->dir, "samples/04.tlog-proof", p.data, p.len);
	seal(f, f->a);
	expect(f, ALOG_ECORRUPT, "samples/04.tlog-proof", "<index>.tlog-proof");
	alog_buf_release(&note);
	alog_buf_release(&p);
}

static void test_bundle_manifest_line_reordered_is_refused_naming_the_line(void **state)
{
	struct fx *f = *state;
	unsigned char *d, *e;
	char p[4200];
	size_t n, l1, l2, l3;

	build(f->dir, f->a, 1);
	seal(f, f->a);
	d = testutil_read_file(path_of(f, "manifest.txt", p, sizeof(p)), &n);
	e = malloc(n);
	assert_non_null(e);
	/* lines 2 and 3 exchanged */
	l1 = (size_t)((unsigned char *)memchr(d, '\n', n) - d) + 1;
	l2 = (size_t)((unsigned char *)memchr(d + l1, '\n', n - l1) - d) + 1;
	l3 = (size_t)((unsigned char *)memchr(d + l2, '\n', n - l2) - d) + 1;
	memcpy(e, d, l1);
	memcpy(e + l1, d + l2, l3 - l2);
	memcpy(e + l1 + (l3 - l2), d + l1, l2 - l1);
	memcpy(e + l3, d + l3, n - l3);
	write_file(p, e, n);
	expect(f, ALOG_ECORRUPT, "manifest.txt", "line 3");
	/* the first line moved to the end */
	memcpy(e, d + l1, n - l1);
	memcpy(e + n - l1, d, l1);
	write_file(p, e, n);
	expect(f, ALOG_ECORRUPT, "manifest.txt", "line 7");
	/* line 2 repeated in place of line 3 */
	memcpy(e, d, l2);
	memcpy(e + l2, d + l1, l2 - l1);
	write_file(p, e, l2 + (l2 - l1));
	expect(f, ALOG_ECORRUPT, "manifest.txt", "line 3");
	/* a line missing: the count no longer matches the signed one */
	memcpy(e, d, l1);
	memcpy(e + l1, d + l2, n - l2);
	write_file(p, e, n - (l2 - l1));
	expect(f, ALOG_EVERIFY, "manifest.txt", "6 files listed");
	write_file(p, d, n);
	expect_ok(f, N_FILES, 3);
	free(d);
	free(e);
}

static void test_bundle_manifest_note_text_rules(void **state)
{
	struct fx *f = *state;

	build(f->dir, f->a, 1);
	reseal(f, f->a, "auditlog-bundle/v2\nexample.com/auditlog-test\n7\n"
			"0000000000000000000000000000000000000000000000000000000000000000\n");
	expect(f, ALOG_ECORRUPT, "manifest.note", "line 1");
	reseal(f, f->a, "auditlog-bundle/v1\nexample.com/auditlog-test\n07\n"
			"0000000000000000000000000000000000000000000000000000000000000000\n");
	expect(f, ALOG_ECORRUPT, "manifest.note", "line 3");
	reseal(f, f->a, "auditlog-bundle/v1\nexample.com/auditlog-test\n7\n"
			"000000000000000000000000000000000000000000000000000000000000000A\n");
	expect(f, ALOG_ECORRUPT, "manifest.note", "line 4");
	reseal(f, f->a, "auditlog-bundle/v1\nexample.com/auditlog-test\n7\n"
			"0000000000000000000000000000000000000000000000000000000000000000\nx\n");
	expect(f, ALOG_ECORRUPT, "manifest.note", "line 5");
	reseal(f, f->a, "auditlog-bundle/v1\nexample.com/auditlog-test\n7\n");
	expect(f, ALOG_ECORRUPT, "manifest.note", "line 4");
	reseal(f, f->a, "auditlog-bundle/v1\nexample.com/auditlog-test\n7\n"
			"0000000000000000000000000000000000000000000000000000000000000000\n");
	expect(f, ALOG_EVERIFY, "manifest.txt", "sha256 differs");
	/* an origin other than the end checkpoint's */
	reseal(f, f->a, NULL);
	expect_ok(f, N_FILES, 3);
	{
		struct alog_buf t = { 0 };
		unsigned char h[ALOG_HASH_LEN], *d;
		char hex[65], p[4200];
		size_t n;

		d = testutil_read_file(path_of(f, "manifest.txt", p, sizeof(p)),
				       &n);
		assert_int_equal(alog_hasher_sha256(NULL, d, n, NULL, 0, h), 0);
		alog_hex_encode(h, sizeof(h), hex);
		free(d);
		assert_int_equal(alog_buf_addf(&t, NULL,
					       "auditlog-bundle/v1\nexample.com/other\n7\n%s\n",
					       hex), 0);
		reseal(f, f->a, (const char *)t.data);
		expect(f, ALOG_EVERIFY, "checkpoints/end.checkpoint",
		       "origin");
		alog_buf_release(&t);
	}
}

static void test_bundle_sign_refuses_links_bad_names_and_a_sealed_bundle(void **state)
{
	struct fx *f = *state;
	struct alog_bundle_summary sum;
	struct alog_err err = { 0 };
	struct stat sb;
	char p[4200], q[4200];

	build(f->dir, f->a, 0);
	/* a symbolic link */
	path_of(f, "link", p, sizeof(p));
	assert_int_equal(symlink("report.json", p), 0);
	assert_int_equal(alog_bundle_sign(f->dir, f->a, &sum, &err),
			 ALOG_EINVAL);
	assert_string_equal(sum.failed, "link");
	assert_int_equal(unlink(p), 0);
	/* a name outside the path rules */
	path_of(f, "a b", p, sizeof(p));
	write_file(p, "x", 1);
	assert_int_equal(alog_bundle_sign(f->dir, f->a, &sum, &err),
			 ALOG_EINVAL);
	assert_string_equal(sum.failed, "a b");
	assert_int_equal(unlink(p), 0);
	/* an end checkpoint by another key */
	path_of(f, "checkpoints/end.checkpoint", p, sizeof(p));
	snprintf(q, sizeof(q), "%s/end", f->tmp);
	assert_int_equal(rename(p, q), 0);
	{
		struct alog_buf note = { 0 };

		checkpoint(f->b, 7, &note);
		write_file(p, note.data, note.len);
		alog_buf_release(&note);
	}
	assert_int_equal(alog_bundle_sign(f->dir, f->a, &sum, &err),
			 ALOG_EVERIFY);
	assert_string_equal(sum.failed, "checkpoints/end.checkpoint");
	/* no end checkpoint */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(alog_bundle_sign(f->dir, f->a, &sum, &err),
			 ALOG_EINVAL);
	assert_string_equal(sum.failed, "checkpoints/end.checkpoint");
	assert_int_equal(rename(q, p), 0);
	/* nothing was left behind by the refusals */
	assert_int_equal(lstat(path_of(f, "manifest.txt", p, sizeof(p)), &sb),
			 -1);
	assert_int_equal(lstat(path_of(f, "manifest.note", p, sizeof(p)), &sb),
			 -1);
	/* sealed once, never twice */
	seal(f, f->a);
	assert_int_equal(alog_bundle_sign(f->dir, f->a, &sum, &err),
			 ALOG_EEXIST);
	assert_string_equal(sum.failed, "manifest.txt");
	expect_ok(f, 3, 1);
	/* no such directory */
	path_of(f, "nothing", p, sizeof(p));
	assert_int_equal(alog_bundle_verify(p, &f->va, &sum, &err),
			 ALOG_ENOTFOUND);
	assert_int_equal(alog_bundle_sign(p, f->a, &sum, &err),
			 ALOG_ENOTFOUND);
}

static void test_bundle_paths_follow_the_rules(void **state)
{
	static const char *const good[] = {
		"a", "a/b.c", "A-Z_0.9", "...", ".hidden", "a/b/c/d/e/f/g/h",
	};
	static const char *const bad[] = {
		"", "/a", "a/", "a//b", "./a", "a/../b", "..", ".", "a b",
		"a\\b", "\xc3\xa9", "a\nb", "a/b/c/d/e/f/g/h/i",
	};
	struct fx *f = *state;
	struct alog_err err = { 0 };
	char name[ALOG_BUNDLE_PATH_MAX + 2], p[4200];
	struct stat sb;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(alog_bundle_path_check(good[i], strlen(good[i]),
							&err), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(alog_bundle_path_check(bad[i], strlen(bad[i]),
							&err), ALOG_EINVAL);
	memset(name, 'n', sizeof(name));
	for (int i = 100; i < ALOG_BUNDLE_PATH_MAX; i += 101)
		name[i] = '/';
	assert_int_equal(alog_bundle_path_check(name, ALOG_BUNDLE_PATH_MAX,
						&err), 0);
	assert_int_equal(alog_bundle_path_check(name, ALOG_BUNDLE_PATH_MAX + 1,
						&err), ALOG_EINVAL);
	/* add: the rules, the reserved names, never over a file, never
	 * through a link */
	assert_int_equal(alog_bundle_add(f->dir, "../x", "x", 1, &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_bundle_add(f->dir, "manifest.txt", "x", 1, &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_bundle_add(f->dir, "manifest.note", "x", 1, &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_bundle_add(f->dir, "d/x", "x", 1, &err), 0);
	assert_int_equal(alog_bundle_add(f->dir, "d/x", "y", 1, &err),
			 ALOG_EEXIST);
	path_of(f, "l", p, sizeof(p));
	assert_int_equal(symlink(f->tmp, p), 0);
	assert_true(alog_bundle_add(f->dir, "l/x", "x", 1, &err) < 0);
	snprintf(p, sizeof(p), "%s/x", f->tmp);
	assert_int_equal(lstat(p, &sb), -1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_bundle_seal_reproduces_v_bundle_1),
		T(test_bundle_fresh_bundle_verifies),
		T(test_bundle_changed_byte_in_any_file_is_refused_naming_it),
		T(test_bundle_removed_file_is_refused_naming_it),
		T(test_bundle_extra_file_is_refused_naming_it),
		T(test_bundle_swapped_proofs_are_refused_naming_the_first),
		T(test_bundle_checkpoint_signed_by_another_key_is_refused),
		T(test_bundle_proof_against_another_checkpoint_is_refused),
		T(test_bundle_manifest_line_reordered_is_refused_naming_the_line),
		T(test_bundle_manifest_note_text_rules),
		T(test_bundle_sign_refuses_links_bad_names_and_a_sealed_bundle),
		T(test_bundle_paths_follow_the_rules),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
