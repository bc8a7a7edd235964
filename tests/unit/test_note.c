/*
 * test_note: Ed25519 keys (store/sign.h), C2SP signed notes and tlog
 * checkpoints (store/note.h).
 *
 * Vectors:
 *   V-NOTE-1  tests/vectors/signed-note.json "valid": published notes and
 *             the verifier keys they verify with.
 *   V-NOTE-2  tests/vectors/signed-note.json "invalid_vkeys".
 *   V-NOTE-3  the signer key published in the documentation of
 *             golang.org/x/mod/sumdb/note (package note, "Signing Notes"),
 *             whose signature of the first V-NOTE-1 text is that vector's
 *             signature line; pasted below.
 *   V-CKPT-1  the example checkpoint body of c2sp.org/tlog-checkpoint; its
 *             root hash in hex was computed independently with Python's
 *             base64 module.
 */
#include <errno.h>
#include <fcntl.h>
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
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "store/buf.h"
#include "store/bytes.h"
#include "store/note.h"
#include "store/sign.h"
#include "testutil.h"

/* V-NOTE-3 */
static const char go_skey[] = "PRIVATE+KEY+PeterNeumann+c74f20a3+"
			      "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
/* V-CKPT-1 */
static const char c2sp_ckpt[] =
	"example.com/behind-the-sofa\n"
	"20852163\n"
	"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
static const char c2sp_root_hex[] =
	"0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62";

#define N_VALID 2

struct vec {
	char *vkey;
	char *note;
};

static struct vec valid[N_VALID];
static char *invalid_vkey[8], *invalid_why[8];
static int n_invalid;

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	assert_non_null(p);
	return p;
}

static int load_vectors(void **state)
{
	cJSON *j = testutil_load_vector("signed-note.json");
	cJSON *arr, *it;
	int i = 0;

	(void)state;
	arr = cJSON_GetObjectItem(j, "valid");
	assert_int_equal(cJSON_GetArraySize(arr), N_VALID);
	cJSON_ArrayForEach(it, arr) {
		valid[i].vkey = xstrdup(
			cJSON_GetObjectItem(it, "vkey")->valuestring);
		valid[i].note = xstrdup(
			cJSON_GetObjectItem(it, "note")->valuestring);
		i++;
	}
	arr = cJSON_GetObjectItem(j, "invalid_vkeys");
	cJSON_ArrayForEach(it, arr) {
		assert_true(n_invalid < 8);
		invalid_vkey[n_invalid] = xstrdup(
			cJSON_GetObjectItem(it, "vkey")->valuestring);
		invalid_why[n_invalid] = xstrdup(
			cJSON_GetObjectItem(it, "why")->valuestring);
		n_invalid++;
	}
	assert_true(n_invalid >= 2);
	cJSON_Delete(j);
	return 0;
}

static int free_vectors(void **state)
{
	(void)state;
	for (int i = 0; i < N_VALID; i++) {
		free(valid[i].vkey);
		free(valid[i].note);
	}
	for (int i = 0; i < n_invalid; i++) {
		free(invalid_vkey[i]);
		free(invalid_why[i]);
	}
	return 0;
}

static void parse_vkey(const char *text, struct alog_verifier *v)
{
	struct alog_err err = {0};
	int rc = alog_verifier_parse(text, strlen(text), v, &err);

	if (rc < 0)
		fail_msg("vkey '%s': %s", text, err.msg);
}

static int verify_str(const struct alog_verifier *v, const char *note,
		      size_t len)
{
	return alog_note_verify(v, note, len, NULL, NULL);
}

/* Length of the signed text of a well-formed single-blank-line note. */
static size_t text_len_of(const char *note)
{
	const char *sep = strstr(note, "\n\n" "\xe2\x80\x94 ");

	assert_non_null(sep);
	return (size_t)(sep - note) + 1;
}

/* The signature line (malloc'd) that s makes over text. */
static char *sig_line(const struct alog_signer *s, const char *text)
{
	struct alog_buf b;
	struct alog_err err = {0};
	char *line;
	size_t tl = strlen(text);

	alog_buf_init(&b, 0);
	if (alog_note_sign(s, text, tl, &b, &err) < 0)
		fail_msg("sign: %s", err.msg);
	line = xstrdup((char *)b.data + tl + 1);
	alog_buf_release(&b);
	return line;
}

static struct alog_signer *gen(const char *name)
{
	struct alog_signer *s = NULL;
	struct alog_err err = {0};

	if (alog_signer_generate(name, &s, &err) < 0)
		fail_msg("generate: %s", err.msg);
	return s;
}

/* V-NOTE-1 */
static void test_note_published_notes_verify_with_their_vkeys(void **state)
{
	(void)state;
	for (int i = 0; i < N_VALID; i++) {
		struct alog_verifier v;
		struct alog_err err = {0};
		size_t tl = 0;
		int rc;

		parse_vkey(valid[i].vkey, &v);
		rc = alog_note_verify(&v, valid[i].note, strlen(valid[i].note),
				      &tl, &err);
		if (rc < 0)
			fail_msg("vector %d: %s", i, err.msg);
		assert_int_equal(tl, text_len_of(valid[i].note));
	}
}

/* V-NOTE-1 */
static void test_note_published_notes_fail_with_any_changed_text_byte(
	void **state)
{
	(void)state;
	for (int i = 0; i < N_VALID; i++) {
		struct alog_verifier v;
		size_t len = strlen(valid[i].note), tl;
		char *n = xstrdup(valid[i].note);

		parse_vkey(valid[i].vkey, &v);
		tl = text_len_of(n);
		for (size_t k = 0; k < tl; k++) {
			char old = n[k];
			int rc;

			n[k] = old == 'x' ? 'y' : 'x';
			rc = verify_str(&v, n, len);
			if (old == '\n')
				assert_true(rc < 0); /* structure broken */
			else
				assert_int_equal(rc, ALOG_EVERIFY);
			n[k] = old;
		}
		assert_int_equal(verify_str(&v, n, len), 0);
		free(n);
	}
}

/* V-NOTE-1: each of the 68 decoded signature bytes (key id, signature)
 * changed in turn, re-encoded canonically. */
static void test_note_published_notes_fail_with_any_changed_signature_byte(
	void **state)
{
	(void)state;
	for (int i = 0; i < N_VALID; i++) {
		struct alog_verifier v;
		size_t tl, len = strlen(valid[i].note);
		char *n = xstrdup(valid[i].note);
		char *b64 = strrchr(n, ' ') + 1;
		unsigned char blob[68];
		char enc[93];

		parse_vkey(valid[i].vkey, &v);
		tl = text_len_of(n);
		assert_true((size_t)(b64 - n) > tl);
		assert_int_equal(alog_b64_decode(b64, 92, blob, sizeof(blob)),
				 68);
		for (size_t k = 0; k < sizeof(blob); k++) {
			for (int bit = 0; bit < 8; bit += 7) {
				blob[k] ^= (unsigned char)(1u << bit);
				alog_b64_encode(blob, sizeof(blob), enc);
				memcpy(b64, enc, 92);
				assert_int_equal(verify_str(&v, n, len),
						 ALOG_EVERIFY);
				blob[k] ^= (unsigned char)(1u << bit);
			}
		}
		alog_b64_encode(blob, sizeof(blob), enc);
		memcpy(b64, enc, 92);
		assert_int_equal(verify_str(&v, n, len), 0);
		free(n);
	}
}

/* V-NOTE-1 */
static void test_note_published_notes_fail_with_the_other_vectors_key(
	void **state)
{
	struct alog_verifier v0, v1;

	(void)state;
	parse_vkey(valid[0].vkey, &v0);
	parse_vkey(valid[1].vkey, &v1);
	assert_int_equal(verify_str(&v1, valid[0].note, strlen(valid[0].note)),
			 ALOG_EVERIFY);
	assert_int_equal(verify_str(&v0, valid[1].note, strlen(valid[1].note)),
			 ALOG_EVERIFY);
}

/* V-NOTE-1 */
static void test_note_published_notes_fail_without_their_signature_line(
	void **state)
{
	(void)state;
	for (int i = 0; i < N_VALID; i++) {
		struct alog_verifier v;
		struct alog_signer *other = gen("other.example/log");
		size_t tl = text_len_of(valid[i].note);
		char *n = xstrdup(valid[i].note);
		char *text = strndup(n, tl), *line = sig_line(other, text);
		struct alog_buf b;

		assert_non_null(text);
		parse_vkey(valid[i].vkey, &v);
		/* Only the line removed: an empty signature block. */
		assert_int_equal(verify_str(&v, n, tl + 1), ALOG_ECORRUPT);
		/* Line and blank removed: no blank line at all. */
		assert_int_equal(verify_str(&v, n, tl), ALOG_ECORRUPT);
		/* Replaced by an unknown signer's valid line. */
		alog_buf_init(&b, 0);
		assert_int_equal(alog_buf_add(&b, n, tl + 1, NULL), 0);
		assert_int_equal(alog_buf_adds(&b, line, NULL), 0);
		assert_int_equal(verify_str(&v, (char *)b.data, b.len),
				 ALOG_EVERIFY);
		alog_buf_release(&b);
		free(line);
		free(text);
		free(n);
		alog_signer_free(other);
	}
}

/* V-NOTE-2. Go's decoder reads the first key's base64 leniently and then
 * finds the length wrong; ours refuses the non-canonical base64 already. So
 * the published reason is checked on canonical keys of 32 and 34 bytes
 * whose key ids were computed independently (Python hashlib). */
static void test_vkey_parse_refuses_published_invalid_vkeys(void **state)
{
	static const char *wrong_len[] = {
		"PeterNeumann+5bdbe860+"
		"ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAA==",
		"PeterNeumann+a3fe51bc+"
		"ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10Q=",
	};

	(void)state;
	for (int i = 0; i < n_invalid; i++) {
		struct alog_verifier v;
		struct alog_err err = {0};
		int rc = alog_verifier_parse(invalid_vkey[i],
					     strlen(invalid_vkey[i]), &v, &err);

		if (rc != ALOG_EINVAL)
			fail_msg("'%s' (%s): rc %d", invalid_vkey[i],
				 invalid_why[i], rc);
		assert_true(err.msg[0] != 0);
		assert_int_equal(v.name[0], 0); /* out left empty */
	}
	for (int i = 0; i < 2; i++) {
		struct alog_verifier v;
		struct alog_err err = {0};

		assert_int_equal(alog_verifier_parse(wrong_len[i],
						     strlen(wrong_len[i]), &v,
						     &err), ALOG_EINVAL);
		assert_non_null(strstr(err.msg, "wrong key length"));
	}
	/* the published unknown-algorithm key fails for that reason */
	for (int i = 0; i < n_invalid; i++) {
		struct alog_err err = {0};
		struct alog_verifier v;

		if (!strstr(invalid_why[i], "algorithm"))
			continue;
		assert_int_equal(alog_verifier_parse(invalid_vkey[i],
						     strlen(invalid_vkey[i]),
						     &v, &err), ALOG_EINVAL);
		assert_non_null(strstr(err.msg, invalid_why[i]));
	}
}

/* V-NOTE-1 */
static void test_vkey_parse_and_format_round_trip_published_vkeys_exactly(
	void **state)
{
	(void)state;
	for (int i = 0; i < N_VALID; i++) {
		struct alog_verifier v;
		char out[ALOG_VKEY_MAX + 1];

		parse_vkey(valid[i].vkey, &v);
		alog_verifier_format(&v, out);
		assert_string_equal(out, valid[i].vkey);
	}
}

/* Go's note package refuses every deletion from a valid key; so do we. */
static void test_vkey_parse_refuses_every_deletion_and_a_wrong_key_id(
	void **state)
{
	const char *vk = valid[0].vkey;
	size_t len = strlen(vk);
	struct alog_verifier v;
	char buf[ALOG_VKEY_MAX + 2];

	(void)state;
	for (size_t i = 0; i <= len; i++) {
		for (size_t j = i + 1; j <= len; j++) {
			size_t n = 0;

			if (i == 0 && j == len)
				continue;
			memcpy(buf, vk, i);
			n = i;
			memcpy(buf + n, vk + j, len - j);
			n += len - j;
			if (alog_verifier_parse(buf, n, &v, NULL) == 0)
				fail_msg("accepted '%.*s'", (int)n, buf);
		}
	}
	/* key id "c74f20a3" -> "c74f20a4": does not match the key */
	memcpy(buf, vk, len);
	buf[strlen("PeterNeumann+c74f20a")] = '4';
	assert_int_equal(alog_verifier_parse(buf, len, &v, NULL), ALOG_EINVAL);
	/* one trailing newline is accepted, two are not */
	memcpy(buf, vk, len);
	buf[len] = '\n';
	assert_int_equal(alog_verifier_parse(buf, len + 1, &v, NULL), 0);
	buf[len + 1] = '\n';
	assert_int_equal(alog_verifier_parse(buf, len + 2, &v, NULL),
			 ALOG_EINVAL);
}

/* V-NOTE-1 */
static void test_key_id_of_published_vkeys_matches_their_text(void **state)
{
	(void)state;
	for (int i = 0; i < N_VALID; i++) {
		struct alog_verifier v;

		parse_vkey(valid[i].vkey, &v);
		assert_int_equal(alog_key_id(v.name, v.pub), v.key_id);
	}
	{
		struct alog_verifier v;

		parse_vkey(valid[0].vkey, &v);
		assert_int_equal(v.key_id, 0xc74f20a3u);
		assert_string_equal(v.name, "PeterNeumann");
	}
}

/* V-NOTE-3, V-NOTE-1: Ed25519 is deterministic, so the published key must
 * reproduce the published note byte for byte. */
static void test_signer_with_published_go_key_reproduces_published_note(
	void **state)
{
	struct alog_signer *s = NULL;
	struct alog_verifier v;
	struct alog_err err = {0};
	struct alog_buf b;
	char vk[ALOG_VKEY_MAX + 1];
	const char *note = valid[0].note;
	size_t tl = text_len_of(note);

	(void)state;
	if (alog_signer_parse(go_skey, strlen(go_skey), &s, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(alog_signer_name(s), "PeterNeumann");
	alog_signer_verifier(s, &v);
	alog_verifier_format(&v, vk);
	assert_string_equal(vk, valid[0].vkey);
	alog_buf_init(&b, ALOG_NOTE_MAX);
	assert_int_equal(alog_note_sign(s, note, tl, &b, &err), 0);
	assert_int_equal(b.len, strlen(note));
	assert_memory_equal(b.data, note, b.len);
	alog_buf_release(&b);
	alog_signer_free(s);
}

/* V-NOTE-3 */
static void test_signer_parse_and_format_round_trip_published_go_key(
	void **state)
{
	struct alog_signer *s = NULL;
	char out[ALOG_SIGNER_TEXT_MAX + 1];
	char withnl[sizeof(go_skey) + 1];

	(void)state;
	memcpy(withnl, go_skey, sizeof(go_skey) - 1);
	withnl[sizeof(go_skey) - 1] = '\n';
	assert_int_equal(alog_signer_parse(withnl, sizeof(go_skey), &s, NULL),
			 0);
	assert_int_equal(alog_signer_format(s, out, NULL), 0);
	assert_string_equal(out, go_skey);
	OPENSSL_cleanse(out, sizeof(out));
	alog_signer_free(s);
}

/* V-NOTE-3 */
static void test_signer_parse_refuses_every_deletion_from_published_key(
	void **state)
{
	size_t len = strlen(go_skey);
	char buf[sizeof(go_skey)];

	(void)state;
	for (size_t i = 0; i <= len; i++) {
		for (size_t j = i + 1; j <= len; j++) {
			struct alog_signer *s = NULL;
			struct alog_err err = {0};
			size_t n;

			if (i == 0 && j == len)
				continue;
			memcpy(buf, go_skey, i);
			memcpy(buf + i, go_skey + j, len - j);
			n = i + len - j;
			if (alog_signer_parse(buf, n, &s, &err) == 0)
				fail_msg("accepted '%.*s'", (int)n, buf);
			assert_null(s);
			/* never echo key material */
			assert_null(strstr(err.msg, "AYEKFALV"));
		}
	}
}

static void write_file(const char *path, const char *text, size_t len,
		       mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_signer_generate_save_load_and_sign_a_checkpoint(
	void **state)
{
	char *dir = testutil_tmpdir(), path[4096];
	struct alog_signer *s = gen("auditlog.test/log"), *l = NULL;
	struct alog_verifier vs, vl;
	struct alog_checkpoint c = {0}, got;
	struct alog_err err = {0};
	struct alog_buf body, note;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/log.key", dir);
	if (alog_signer_save(s, path, &err) < 0)
		fail_msg("save: %s", err.msg);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* O_EXCL: an existing key is never overwritten */
	assert_int_equal(alog_signer_save(s, path, &err), ALOG_EEXIST);
	if (alog_signer_load(path, &l, &err) < 0)
		fail_msg("load: %s", err.msg);
	alog_signer_verifier(s, &vs);
	alog_signer_verifier(l, &vl);
	assert_memory_equal(&vs, &vl, sizeof(vs));
	assert_string_equal(alog_signer_name(l), "auditlog.test/log");

	memcpy(c.origin, "auditlog.test/log", 18);
	c.size = 1234567;
	for (int i = 0; i < ALOG_HASH_LEN; i++)
		c.root[i] = (unsigned char)(i * 7 + 1);
	alog_buf_init(&body, ALOG_NOTE_MAX);
	alog_buf_init(&note, ALOG_NOTE_MAX);
	assert_int_equal(alog_checkpoint_format(&c, &body, &err), 0);
	assert_int_equal(alog_note_sign(l, (char *)body.data, body.len, &note,
					&err), 0);
	if (alog_checkpoint_open_note(&vs, (char *)note.data, note.len, &got,
				      &err) < 0)
		fail_msg("open: %s", err.msg);
	assert_string_equal(got.origin, c.origin);
	assert_int_equal(got.size, c.size);
	assert_memory_equal(got.root, c.root, ALOG_HASH_LEN);
	/* a different key does not open it */
	{
		struct alog_signer *o = gen("auditlog.test/log");
		struct alog_verifier vo;

		alog_signer_verifier(o, &vo);
		assert_int_equal(alog_checkpoint_open_note(&vo,
				(char *)note.data, note.len, &got, NULL),
				 ALOG_EVERIFY);
		assert_int_equal(got.origin[0], 0);
		alog_signer_free(o);
	}
	alog_buf_release(&body);
	alog_buf_release(&note);
	alog_signer_free(s);
	alog_signer_free(l);
	testutil_rmtree(dir);
	free(dir);
}

static void test_signer_load_refuses_files_open_to_group_or_others(
	void **state)
{
	static const mode_t modes[] = {0644, 0640, 0604, 0660, 0601, 0610};
	char *dir = testutil_tmpdir(), path[4096];
	struct alog_signer *s = NULL;
	struct alog_err err = {0};

	(void)state;
	snprintf(path, sizeof(path), "%s/k", dir);
	write_file(path, go_skey, strlen(go_skey), 0600);
	assert_int_equal(alog_signer_load(path, &s, &err), 0);
	alog_signer_free(s);
	s = NULL;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(chmod(path, modes[i]), 0);
		assert_int_equal(alog_signer_load(path, &s, &err), ALOG_EINVAL);
		assert_null(s);
		assert_non_null(strstr(err.msg, "chmod 600"));
	}
	testutil_rmtree(dir);
	free(dir);
}

static void test_signer_load_limit_is_key_file_max_bytes(void **state)
{
	char *dir = testutil_tmpdir(), path[4096];
	char name[ALOG_NOTE_NAME_MAX + 1];
	char big[ALOG_KEY_FILE_MAX + 1];
	struct alog_signer *s, *l = NULL;
	struct alog_err err = {0};
	struct stat st;

	(void)state;
	/* The longest name makes the longest key file: exactly the limit. */
	memset(name, 'n', ALOG_NOTE_NAME_MAX);
	name[ALOG_NOTE_NAME_MAX] = 0;
	s = gen(name);
	snprintf(path, sizeof(path), "%s/max.key", dir);
	assert_int_equal(alog_signer_save(s, path, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, ALOG_KEY_FILE_MAX);
	if (alog_signer_load(path, &l, &err) < 0)
		fail_msg("%s", err.msg);
	alog_signer_free(l);
	l = NULL;
	/* One byte more is refused before parsing. */
	memset(big, 'A', sizeof(big));
	snprintf(path, sizeof(path), "%s/big.key", dir);
	write_file(path, big, sizeof(big), 0600);
	assert_int_equal(alog_signer_load(path, &l, &err), ALOG_ELIMIT);
	assert_null(l);
	/* missing file */
	snprintf(path, sizeof(path), "%s/none.key", dir);
	assert_int_equal(alog_signer_load(path, &l, &err), ALOG_ENOTFOUND);
	alog_signer_free(s);
	testutil_rmtree(dir);
	free(dir);
}

static void test_key_name_check_follows_the_signed_note_rules(void **state)
{
	static const char *good[] = {
		"a", "example.com/log", "PeterNeumann", "\xe4\xbe\x8b.jp/log",
		"x\xef\xbb\xbfy", "sum.golang.org",
	};
	static const char *bad[] = {
		"", "a+b", "a b", "a\tb", "a\nb", "a\x7f", "a\xc2\x85",
		"a\xc2\xa0", "a\xe3\x80\x80", "a\xe2\x80\xa8", "\xff",
		"\xc0\xaf", "\xed\xa0\x80", "a\xe2\x80",
	};
	char longest[ALOG_NOTE_NAME_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(alog_key_name_check(good[i], strlen(good[i]),
						     NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(alog_key_name_check(bad[i], strlen(bad[i]),
						     NULL), ALOG_EINVAL);
	memset(longest, 'n', sizeof(longest));
	assert_int_equal(alog_key_name_check(longest, ALOG_NOTE_NAME_MAX, NULL),
			 0);
	assert_int_equal(alog_key_name_check(longest, ALOG_NOTE_NAME_MAX + 1,
					     NULL), ALOG_EINVAL);
	{
		struct alog_signer *s = NULL;

		assert_int_equal(alog_signer_generate("a b", &s, NULL),
				 ALOG_EINVAL);
		assert_null(s);
	}
}

/* V-CKPT-1 */
static void test_checkpoint_parse_reads_the_published_c2sp_example(
	void **state)
{
	struct alog_checkpoint c;
	unsigned char root[ALOG_HASH_LEN];
	struct alog_buf b;

	(void)state;
	assert_int_equal(alog_checkpoint_parse(c2sp_ckpt, strlen(c2sp_ckpt),
					       &c, NULL), 0);
	assert_string_equal(c.origin, "example.com/behind-the-sofa");
	assert_int_equal(c.size, 20852163);
	testutil_unhex(c2sp_root_hex, root, sizeof(root));
	assert_memory_equal(c.root, root, sizeof(root));
	/* formatting gives the published text back */
	alog_buf_init(&b, ALOG_NOTE_MAX);
	assert_int_equal(alog_checkpoint_format(&c, &b, NULL), 0);
	assert_string_equal((char *)b.data, c2sp_ckpt);
	alog_buf_release(&b);
}

static void test_checkpoint_parse_accepts_zero_max_and_extension_lines(
	void **state)
{
	static const char *ok[] = {
		"o\n0\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"o\n18446744073709551615\n"
		"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next 1\n"
		"ext 2\n",
	};
	static const uint64_t size[] = {0, UINT64_MAX, 5};
	struct alog_checkpoint c;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(alog_checkpoint_parse(ok[i], strlen(ok[i]), &c,
						       NULL), 0);
		assert_int_equal(c.size, size[i]);
	}
}

static void test_checkpoint_parse_rejects_malformed_bodies(void **state)
{
#define R "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
	static const struct {
		const char *text, *why;
	} bad[] = {
		{"o\n01\n" R "\n", "leading zero"},
		{"o\n00\n" R "\n", "zero with leading zero"},
		{"o\n-1\n" R "\n", "negative"},
		{"o\n+1\n" R "\n", "plus sign"},
		{"o\n 1\n" R "\n", "space before size"},
		{"o\n1 \n" R "\n", "space after size"},
		{"o\n\n" R "\n", "empty size"},
		{"o\n0x10\n" R "\n", "hex size"},
		{"o\n18446744073709551616\n" R "\n", "uint64 max + 1"},
		{"o\n99999999999999999999\n" R "\n", "overflowing size"},
		{"o\n1\n!sUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		 "bad base64 character"},
		{"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",
		 "non-canonical base64"},
		{"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
		 "base64 without padding"},
		/* 31 and 33 bytes (independently encoded with Python) */
		{"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",
		 "31-byte root"},
		{"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
		 "33-byte root"},
		{"o\n1\n\n", "empty root"},
		{"\n1\n" R "\n", "empty origin"},
		{"o\n1\n" R, "missing final newline"},
		{"o\n1\n", "two lines"},
		{"o\n1\n" R "\n\next\n", "empty extension line"},
		{"o\t\n1\n" R "\n", "control character"},
		{"o\xff\n1\n" R "\n", "bad utf-8"},
		{"", "empty"},
	};
#undef R
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct alog_checkpoint c;
		struct alog_err err = {0};
		int rc = alog_checkpoint_parse(bad[i].text, strlen(bad[i].text),
					       &c, &err);

		if (rc != ALOG_ECORRUPT)
			fail_msg("%s: rc %d", bad[i].why, rc);
		assert_int_equal(c.origin[0], 0);
		assert_true(err.msg[0] != 0);
	}
}

static void test_checkpoint_origin_limit_is_origin_max_bytes(void **state)
{
	char text[ALOG_ORIGIN_MAX + 64];
	const char *tail =
		"\n7\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	struct alog_checkpoint c;
	size_t n;

	(void)state;
	memset(text, 'o', ALOG_ORIGIN_MAX + 1);
	memcpy(text + ALOG_ORIGIN_MAX, tail, strlen(tail));
	n = ALOG_ORIGIN_MAX + strlen(tail);
	assert_int_equal(alog_checkpoint_parse(text, n, &c, NULL), 0);
	assert_int_equal(strlen(c.origin), ALOG_ORIGIN_MAX);
	memset(text, 'o', ALOG_ORIGIN_MAX + 1);
	memcpy(text + ALOG_ORIGIN_MAX + 1, tail, strlen(tail));
	assert_int_equal(alog_checkpoint_parse(text, n + 1, &c, NULL),
			 ALOG_ELIMIT);
}

static void test_checkpoint_format_refuses_bad_origins(void **state)
{
	struct alog_checkpoint c = {0};
	struct alog_buf b;

	(void)state;
	alog_buf_init(&b, 0);
	assert_int_equal(alog_checkpoint_format(&c, &b, NULL), ALOG_EINVAL);
	memcpy(c.origin, "a\nb", 4);
	assert_int_equal(alog_checkpoint_format(&c, &b, NULL), ALOG_EINVAL);
	memcpy(c.origin, "a\rb", 4);
	assert_int_equal(alog_checkpoint_format(&c, &b, NULL), ALOG_EINVAL);
	memset(c.origin, 'o', sizeof(c.origin)); /* not terminated */
	assert_int_equal(alog_checkpoint_format(&c, &b, NULL), ALOG_EINVAL);
	assert_int_equal(b.len, 0);
	alog_buf_release(&b);
}

/* A note of exactly ALOG_NOTE_MAX bytes verifies; one byte more is
 * refused by the limit (not by the signature) and cannot be signed. */
static void test_note_size_limit_at_and_one_past_note_max(void **state)
{
	struct alog_signer *s = gen("limit.example/log");
	struct alog_verifier v;
	struct alog_buf b;
	struct alog_err err = {0};
	char *text, *line;
	size_t line_len, tl;

	(void)state;
	alog_signer_verifier(s, &v);
	line = sig_line(s, "x\n");
	line_len = strlen(line);
	tl = ALOG_NOTE_MAX - 1 - line_len;
	text = malloc(ALOG_NOTE_MAX + 2);
	assert_non_null(text);
	memset(text, 'x', tl + 1);
	text[tl - 1] = '\n';
	alog_buf_init(&b, 0);
	assert_int_equal(alog_note_sign(s, text, tl, &b, &err), 0);
	assert_int_equal(b.len, ALOG_NOTE_MAX);
	assert_int_equal(verify_str(&v, (char *)b.data, b.len), 0);
	/* one more text byte: the note would be ALOG_NOTE_MAX + 1 */
	alog_buf_reset(&b);
	text[tl - 1] = 'x';
	text[tl] = '\n';
	assert_int_equal(alog_note_sign(s, text, tl + 1, &b, &err),
			 ALOG_ELIMIT);
	assert_int_equal(b.len, 0);
	/* and such a note is refused before any signature is looked at */
	text[tl] = 'x';
	text[tl - 1] = '\n';
	assert_int_equal(alog_note_sign(s, text, tl, &b, &err), 0);
	assert_int_equal(alog_buf_add(&b, "\n", 1, NULL), 0);
	memmove(b.data + 1, b.data, b.len - 1);
	b.data[0] = 'y';
	assert_int_equal(b.len, ALOG_NOTE_MAX + 1);
	assert_int_equal(verify_str(&v, (char *)b.data, b.len), ALOG_ELIMIT);
	alog_buf_release(&b);
	free(text);
	free(line);
	alog_signer_free(s);
}

/* ALOG_NOTE_SIGS_MAX signature lines verify (ours among other keys'); one
 * more line is refused. */
static void test_note_signature_limit_at_and_one_past_sigs_max(void **state)
{
	const char *text = "count.example/log\n3\n"
			   "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	struct alog_signer *ours = gen("count.example/log");
	struct alog_verifier v;
	struct alog_buf b;
	char *line;

	(void)state;
	alog_signer_verifier(ours, &v);
	alog_buf_init(&b, 0);
	assert_int_equal(alog_buf_adds(&b, text, NULL), 0);
	assert_int_equal(alog_buf_adds(&b, "\n", NULL), 0);
	for (int i = 0; i < ALOG_NOTE_SIGS_MAX; i++) {
		struct alog_signer *o;
		char name[32];

		snprintf(name, sizeof(name), "witness%d.example", i);
		o = i == ALOG_NOTE_SIGS_MAX / 2 ? ours : gen(name);
		line = sig_line(o, text);
		assert_int_equal(alog_buf_adds(&b, line, NULL), 0);
		free(line);
		if (o != ours)
			alog_signer_free(o);
	}
	assert_int_equal(verify_str(&v, (char *)b.data, b.len), 0);
	{
		struct alog_signer *o = gen("one.more.example");

		line = sig_line(o, text);
		assert_int_equal(alog_buf_adds(&b, line, NULL), 0);
		free(line);
		alog_signer_free(o);
	}
	assert_int_equal(verify_str(&v, (char *)b.data, b.len), ALOG_ELIMIT);
	alog_buf_release(&b);
	alog_signer_free(ours);
}

/* Other keys, also sharing our name or our key id (not both), are skipped;
 * a second, bad line by our key rejects the note. */
static void test_note_verify_skips_unknown_keys_and_rejects_a_bad_own_line(
	void **state)
{
	const char *text = "hello\n";
	struct alog_signer *ours = gen("a.example/log");
	struct alog_signer *twin = gen("a.example/log"); /* same name */
	struct alog_verifier v;
	struct alog_buf b;
	char *l_ours, *l_twin, *l_same_id;
	unsigned char blob[68];
	char enc[93];

	(void)state;
	alog_signer_verifier(ours, &v);
	l_ours = sig_line(ours, text);
	l_twin = sig_line(twin, text);
	/* a line with our key id under another name */
	l_same_id = malloc(200);
	assert_non_null(l_same_id);
	alog_put_be32(blob, v.key_id);
	memset(blob + 4, 0x55, 64);
	alog_b64_encode(blob, sizeof(blob), enc);
	snprintf(l_same_id, 200, "\xe2\x80\x94 b.example/log %s\n", enc);

	alog_buf_init(&b, 0);
	assert_int_equal(alog_buf_adds(&b, text, NULL), 0);
	assert_int_equal(alog_buf_adds(&b, "\n", NULL), 0);
	assert_int_equal(alog_buf_adds(&b, l_twin, NULL), 0);
	assert_int_equal(alog_buf_adds(&b, l_same_id, NULL), 0);
	assert_int_equal(alog_buf_adds(&b, l_ours, NULL), 0);
	assert_int_equal(verify_str(&v, (char *)b.data, b.len), 0);
	/* a forged line by our (name, key id) after the good one */
	assert_int_equal(alog_buf_adds(&b, "\xe2\x80\x94 a.example/log ",
				       NULL), 0);
	assert_int_equal(alog_buf_adds(&b, enc, NULL), 0);
	assert_int_equal(alog_buf_adds(&b, "\n", NULL), 0);
	assert_int_equal(verify_str(&v, (char *)b.data, b.len), ALOG_EVERIFY);
	alog_buf_release(&b);
	free(l_ours);
	free(l_twin);
	free(l_same_id);
	alog_signer_free(ours);
	alog_signer_free(twin);
}

static void test_note_verify_rejects_malformed_notes(void **state)
{
	struct alog_verifier v;
	/* "This is an example message.\n\n— example.com/foo ...\n" */
	const char *good = valid[1].note;
	size_t tl = text_len_of(good);
	const char *b64 = strrchr(good, ' ') + 1;
	char buf[1024];
	static const struct {
		const char *prefix, *why;
	} bad_lines[] = {
		{"- example.com/foo ", "hyphen instead of em dash"},
		{"\xe2\x80\x94" "example.com/foo ", "no space after dash"},
		{"\xe2\x80\x94  ", "empty name"},
		{"\xe2\x80\x94 exa+mple.com/foo ", "plus in name"},
		{"\xe2\x80\x94 exa\xc2\xa0mple ", "no-break space in name"},
	};

	(void)state;
	parse_vkey(valid[1].vkey, &v);
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		int n = snprintf(buf, sizeof(buf), "%.*s\n%s%s", (int)tl, good,
				 bad_lines[i].prefix, b64);

		if (verify_str(&v, buf, (size_t)n) != ALOG_ECORRUPT)
			fail_msg("%s accepted", bad_lines[i].why);
	}
	{
		static const char *bad_b64[] = {
			"", "AAA", "AAAAA===", "AAAA====", "AA==AAAA",
			"AAAAAA==", "AA==AAAAAAAA", "AAAAAA==AAAA", "*AAAAAAA",
		};

		for (size_t i = 0; i < sizeof(bad_b64) / sizeof(bad_b64[0]);
		     i++) {
			int n = snprintf(buf, sizeof(buf),
					 "%.*s\n\xe2\x80\x94 other %s\n",
					 (int)tl, good, bad_b64[i]);

			if (verify_str(&v, buf, (size_t)n) != ALOG_ECORRUPT)
				fail_msg("base64 '%s' accepted", bad_b64[i]);
		}
	}
	/* 5 decoded bytes is the least an unknown signature may have */
	{
		int n = snprintf(buf, sizeof(buf),
				 "%s\xe2\x80\x94 other AAAAAAA=\n", good);

		assert_int_equal(verify_str(&v, buf, (size_t)n), 0);
	}
	/* no final newline */
	assert_int_equal(verify_str(&v, good, strlen(good) - 1), ALOG_ECORRUPT);
	/* no signature block */
	assert_int_equal(verify_str(&v, good, tl), ALOG_ECORRUPT);
	/* our (name, key id) with a signature of 65 bytes */
	{
		unsigned char blob[69];
		char enc[93];
		int n;

		assert_int_equal(alog_b64_decode(b64, 92, blob, 68), 68);
		blob[68] = 0;
		alog_b64_encode(blob, 69, enc);
		n = snprintf(buf, sizeof(buf),
			     "%.*s\n\xe2\x80\x94 example.com/foo %s\n", (int)tl,
			     good, enc);
		assert_int_equal(verify_str(&v, buf, (size_t)n), ALOG_EVERIFY);
	}
	/* control character, bad UTF-8, overlong, NUL: anywhere */
	{
		static const char *bytes[] = {"\t", "\r", "\xff", "\xc0\x80",
					      "\xed\xa0\x80"};

		for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
			int n = snprintf(buf, sizeof(buf), "This%s%s", bytes[i],
					 good + 4);

			assert_int_equal(verify_str(&v, buf, (size_t)n),
					 ALOG_ECORRUPT);
		}
		memcpy(buf, good, strlen(good));
		buf[2] = 0;
		assert_int_equal(verify_str(&v, buf, strlen(good)),
				 ALOG_ECORRUPT);
	}
	assert_int_equal(verify_str(&v, "", 0), ALOG_ECORRUPT);
	/* an all-zero verifier is no key */
	assert_int_equal(verify_str(&(struct alog_verifier){{0}, 0, {0}}, good,
				    strlen(good)), ALOG_EINVAL);
}

/* Text may hold empty lines: the last blank line separates signatures. */
static void test_note_text_with_empty_lines_signs_and_verifies(void **state)
{
	const char *text = "\nfirst\n\n\nlast\n\n";
	struct alog_signer *s = gen("blank.example");
	struct alog_verifier v;
	struct alog_buf b;
	size_t tl = 0;

	(void)state;
	alog_signer_verifier(s, &v);
	alog_buf_init(&b, 0);
	assert_int_equal(alog_note_sign(s, text, strlen(text), &b, NULL), 0);
	assert_int_equal(alog_note_verify(&v, (char *)b.data, b.len, &tl,
					  NULL), 0);
	assert_int_equal(tl, strlen(text));
	alog_buf_release(&b);
	alog_signer_free(s);
}

static void test_note_sign_refuses_text_breaking_the_note_rules(void **state)
{
	static const char *bad[] = {"", "no newline", "tab\there\n",
				    "cr\r\n", "nul\0x\n", "bad \xff utf-8\n",
				    "cut \xe2\x80\n"};
	static const size_t len[] = {0, 10, 10, 4, 6, 13, 7};
	struct alog_signer *s = gen("text.example");
	struct alog_buf b;

	(void)state;
	alog_buf_init(&b, 0);
	assert_int_equal(alog_buf_adds(&b, "keep", NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (alog_note_sign(s, bad[i], len[i], &b, NULL) != ALOG_EINVAL)
			fail_msg("text %zu accepted", i);
		assert_int_equal(b.len, 4);
	}
	alog_buf_release(&b);
	alog_signer_free(s);
}

/* Ed25519 signing is deterministic, and OpenSSL verifies our signatures
 * without going through our code. */
static void test_signer_sign_is_deterministic_and_openssl_verifies_it(
	void **state)
{
	static const char msg[] = "checkpoint text\n";
	struct alog_signer *s = gen("det.example");
	struct alog_verifier v;
	unsigned char a[64], b[64];
	EVP_PKEY *pk;
	EVP_MD_CTX *ctx;

	(void)state;
	alog_signer_verifier(s, &v);
	assert_int_equal(alog_signer_sign(s, msg, sizeof(msg) - 1, a, NULL), 0);
	assert_int_equal(alog_signer_sign(s, msg, sizeof(msg) - 1, b, NULL), 0);
	assert_memory_equal(a, b, 64);
	pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, v.pub, 32);
	ctx = EVP_MD_CTX_new();
	assert_non_null(pk);
	assert_non_null(ctx);
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk), 1);
	assert_int_equal(EVP_DigestVerify(ctx, a, 64,
					  (const unsigned char *)msg,
					  sizeof(msg) - 1), 1);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	assert_int_equal(alog_verifier_verify(&v, msg, sizeof(msg) - 1, a,
					      NULL), 0);
	a[10] ^= 1;
	assert_int_equal(alog_verifier_verify(&v, msg, sizeof(msg) - 1, a,
					      NULL), ALOG_EVERIFY);
	alog_signer_free(s);
}

static void test_random_fills_buffers_with_fresh_bytes(void **state)
{
	unsigned char a[32], b[32], zero[32] = {0};

	(void)state;
	assert_int_equal(alog_random(a, 0, NULL), 0);
	assert_int_equal(alog_random(a, sizeof(a), NULL), 0);
	assert_int_equal(alog_random(b, sizeof(b), NULL), 0);
	/* each fails with probability 2^-256 */
	assert_true(memcmp(a, b, 32) != 0);
	assert_true(memcmp(a, zero, 32) != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_note_published_notes_verify_with_their_vkeys),
		cmocka_unit_test(test_note_published_notes_fail_with_any_changed_text_byte),
		cmocka_unit_test(test_note_published_notes_fail_with_any_changed_signature_byte),
		cmocka_unit_test(test_note_published_notes_fail_with_the_other_vectors_key),
		cmocka_unit_test(test_note_published_notes_fail_without_their_signature_line),
		cmocka_unit_test(test_vkey_parse_refuses_published_invalid_vkeys),
		cmocka_unit_test(test_vkey_parse_and_format_round_trip_published_vkeys_exactly),
		cmocka_unit_test(test_vkey_parse_refuses_every_deletion_and_a_wrong_key_id),
		cmocka_unit_test(test_key_id_of_published_vkeys_matches_their_text),
		cmocka_unit_test(test_signer_with_published_go_key_reproduces_published_note),
		cmocka_unit_test(test_signer_parse_and_format_round_trip_published_go_key),
		cmocka_unit_test(test_signer_parse_refuses_every_deletion_from_published_key),
		cmocka_unit_test(test_signer_generate_save_load_and_sign_a_checkpoint),
		cmocka_unit_test(test_signer_load_refuses_files_open_to_group_or_others),
		cmocka_unit_test(test_signer_load_limit_is_key_file_max_bytes),
		cmocka_unit_test(test_key_name_check_follows_the_signed_note_rules),
		cmocka_unit_test(test_checkpoint_parse_reads_the_published_c2sp_example),
		cmocka_unit_test(test_checkpoint_parse_accepts_zero_max_and_extension_lines),
		cmocka_unit_test(test_checkpoint_parse_rejects_malformed_bodies),
		cmocka_unit_test(test_checkpoint_origin_limit_is_origin_max_bytes),
		cmocka_unit_test(test_checkpoint_format_refuses_bad_origins),
		cmocka_unit_test(test_note_size_limit_at_and_one_past_note_max),
		cmocka_unit_test(test_note_signature_limit_at_and_one_past_sigs_max),
		cmocka_unit_test(test_note_verify_skips_unknown_keys_and_rejects_a_bad_own_line),
		cmocka_unit_test(test_note_verify_rejects_malformed_notes),
		cmocka_unit_test(test_note_text_with_empty_lines_signs_and_verifies),
		cmocka_unit_test(test_note_sign_refuses_text_breaking_the_note_rules),
		cmocka_unit_test(test_signer_sign_is_deterministic_and_openssl_verifies_it),
		cmocka_unit_test(test_random_fills_buffers_with_fresh_bytes),
	};

	return cmocka_run_group_tests(tests, load_vectors, free_vectors);
}
