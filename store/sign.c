/*
 * sign: Ed25519 signer and verifier keys in the C2SP signed-note text forms
 * (see sign.h), key files, and OpenSSL's random bytes. SPEC.md "Keys".
 *
 * This is the adapter of OpenSSL's signature API: every OpenSSL failure is
 * translated here, once, into ALOG_ECRYPTO with the reason from OpenSSL's
 * error queue, and the queue is left empty.
 *
 * Invariants: a struct alog_signer always holds a usable Ed25519 private
 * key whose public half and key id are cached beside it; the seed leaves
 * the OpenSSL key object only into stack buffers that are wiped with
 * OPENSSL_cleanse before the function returns. Error messages never quote
 * signer key text.
 */
#include "store/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "store/bytes.h"

#define ALG_ED25519 0x01
#define SEED_LEN 32
#define PRIV_PREFIX "PRIVATE+KEY+"
#define PRIV_PREFIX_LEN (sizeof(PRIV_PREFIX) - 1)
/* base64 of 0x01 || 32 key bytes */
#define KEY_B64_LEN 44

struct alog_signer {
	char name[ALOG_NOTE_NAME_MAX + 1];
	uint32_t key_id;
	unsigned char pub[ALOG_ED25519_PUB_LEN];
	EVP_PKEY *pkey; /* Ed25519 private key, owned */
};

/* Translate the oldest error on OpenSSL's queue; empties the queue. */
static int crypto_fail(struct alog_err *err, const char *what)
{
	unsigned long e = ERR_get_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;
	int rc;

	rc = alog_err_sys(err, ALOG_ECRYPTO, e ? ERR_GET_REASON(e) : 0,
			  "openssl %s failed: %s", what,
			  reason ? reason : "no reason given");
	ERR_clear_error();
	return rc;
}

size_t alog_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c, min;
	size_t len;

	if (n == 0)
		return 0;
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0; /* continuation byte, 0xc0/0xc1, or 0xf5.. */
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Unicode White_Space (what Go's unicode.IsSpace reports). */
static int is_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 ||
	       c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	       c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	       c == 0x3000;
}

static int is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

int alog_key_name_check(const char *name, size_t len, struct alog_err *err)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t off = 0;

	if (len == 0)
		return alog_err_set(err, ALOG_EINVAL, "key name is empty");
	if (len > ALOG_NOTE_NAME_MAX)
		return alog_err_set(err, ALOG_EINVAL,
				    "key name of %zu bytes is longer than %d",
				    len, ALOG_NOTE_NAME_MAX);
	while (off < len) {
		uint32_t c;
		size_t n = alog_utf8_decode(p + off, len - off, &c);

		if (n == 0)
			return alog_err_set(err, ALOG_EINVAL,
					    "key name is not utf-8 at byte %zu",
					    off);
		if (c == '+' || is_space(c) || is_control(c))
			return alog_err_set(err, ALOG_EINVAL,
					    "key name has a forbidden "
					    "character (plus, space or "
					    "control) at byte %zu", off);
		off += n;
	}
	return 0;
}

/* SHA-256(name || 0x0A || 0x01 || pub)[0:4], big-endian. */
static int compute_key_id(const char *name, size_t name_len,
			  const unsigned char pub[ALOG_ED25519_PUB_LEN],
			  uint32_t *id, struct alog_err *err)
{
	unsigned char in[ALOG_NOTE_NAME_MAX + 2 + ALOG_ED25519_PUB_LEN];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (name_len > ALOG_NOTE_NAME_MAX)
		return alog_err_set(err, ALOG_EINVAL, "key name too long");
	memcpy(in, name, name_len);
	in[name_len] = '\n';
	in[name_len + 1] = ALG_ED25519;
	memcpy(in + name_len + 2, pub, ALOG_ED25519_PUB_LEN);
	if (EVP_Digest(in, name_len + 2 + ALOG_ED25519_PUB_LEN, md, &md_len,
		       EVP_sha256(), NULL) != 1 || md_len != 32)
		return crypto_fail(err, "sha-256 of the key id");
	*id = alog_get_be32(md);
	return 0;
}

uint32_t alog_key_id(const char *name,
		     const unsigned char pub[ALOG_ED25519_PUB_LEN])
{
	uint32_t id = 0;

	if (compute_key_id(name, strlen(name), pub, &id, NULL) < 0)
		return 0;
	return id;
}

/* Wrap pkey (ownership moves in, also on failure) into a new signer. */
static int signer_wrap(const char *name, size_t name_len, EVP_PKEY *pkey,
		       struct alog_signer **out, struct alog_err *err)
{
	struct alog_signer *s = NULL;
	size_t pub_len = ALOG_ED25519_PUB_LEN;
	int rc;

	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(s->name, name, name_len);
	s->name[name_len] = 0;
	s->pkey = pkey;
	pkey = NULL;
	if (EVP_PKEY_get_raw_public_key(s->pkey, s->pub, &pub_len) != 1 ||
	    pub_len != ALOG_ED25519_PUB_LEN) {
		rc = crypto_fail(err, "ed25519 public key");
		goto out;
	}
	rc = compute_key_id(s->name, name_len, s->pub, &s->key_id, err);
	if (rc < 0)
		goto out;
	*out = s;
	s = NULL;
out:
	EVP_PKEY_free(pkey);
	alog_signer_free(s);
	return rc;
}

int alog_signer_generate(const char *name, struct alog_signer **out,
			 struct alog_err *err)
{
	size_t name_len = strlen(name);
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	int rc;

	*out = NULL;
	rc = alog_key_name_check(name, name_len, err);
	if (rc < 0)
		return rc;
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_keygen(ctx, &pkey) != 1) {
		rc = crypto_fail(err, "ed25519 key generation");
		goto out;
	}
	rc = signer_wrap(name, name_len, pkey, out, err);
	pkey = NULL;
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

void alog_signer_free(struct alog_signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->pkey); /* OpenSSL clears Ed25519 private keys */
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

const char *alog_signer_name(const struct alog_signer *s)
{
	return s->name;
}

void alog_signer_verifier(const struct alog_signer *s,
			  struct alog_verifier *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->name, s->name, sizeof(out->name));
	out->key_id = s->key_id;
	memcpy(out->pub, s->pub, sizeof(out->pub));
}

int alog_signer_sign(const struct alog_signer *s, const void *msg,
		     size_t len, unsigned char sig[ALOG_ED25519_SIG_LEN],
		     struct alog_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t sig_len = ALOG_ED25519_SIG_LEN;
	int rc = 0;

	if (!ctx)
		return crypto_fail(err, "signing context");
	/* Ed25519 is PureEdDSA: no digest, one-shot over the message. */
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &sig_len, len ? msg : (const void *)"",
			   len) != 1) {
		rc = crypto_fail(err, "ed25519 signing");
		goto out;
	}
	if (sig_len != ALOG_ED25519_SIG_LEN)
		rc = alog_err_set(err, ALOG_ECRYPTO,
				  "ed25519 signature of %zu bytes", sig_len);
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* Split "a+b+rest" at its first two '+' (rest may hold more '+', which is
 * a base64 character). */
static int split3(const char *t, size_t len, const char **f, size_t *f_len)
{
	const char *end = t + len, *p = t;

	for (int i = 0; i < 2; i++) {
		const char *q = memchr(p, '+', (size_t)(end - p));

		if (!q)
			return -1;
		f[i] = p;
		f_len[i] = (size_t)(q - p);
		p = q + 1;
	}
	f[2] = p;
	f_len[2] = (size_t)(end - p);
	return 0;
}

/*
 * Parse "<name>+<hex id>+<base64(0x01 || 32 bytes)>" (the common tail of
 * both key forms). Fills name (NUL-terminated), id and key (the 32 bytes
 * after the algorithm byte). what is "verifier" or "signer" for messages.
 */
static int parse_key_fields(const char *t, size_t len, const char *what,
			    char name[ALOG_NOTE_NAME_MAX + 1], uint32_t *id,
			    unsigned char key[32], struct alog_err *err)
{
	const char *f[3];
	size_t f_len[3];
	unsigned char id4[4];
	unsigned char raw[ALOG_SIGNER_TEXT_MAX]; /* > any decoded field */
	long n;
	int rc = ALOG_EINVAL;

	if (split3(t, len, f, f_len) < 0) {
		alog_err_set(err, rc, "%s key does not have the form "
			     "name+keyid+key", what);
		goto out;
	}
	if (alog_key_name_check(f[0], f_len[0], err) < 0) {
		alog_err_prefix(err, "%s key", what);
		goto out;
	}
	memcpy(name, f[0], f_len[0]);
	name[f_len[0]] = 0;
	if (alog_hex_decode(f[1], f_len[1], id4, 4) < 0) {
		alog_err_set(err, rc, "%s key id is not 8 hex digits", what);
		goto out;
	}
	*id = alog_get_be32(id4);
	n = alog_b64_decode(f[2], f_len[2], raw, sizeof(raw));
	if (n < 0) {
		alog_err_set(err, rc, "%s key is not canonical base64", what);
		goto out;
	}
	if (n == 0) {
		alog_err_set(err, rc, "%s key has wrong key length 0", what);
		goto out;
	}
	if (raw[0] != ALG_ED25519) {
		alog_err_set(err, rc, "%s key has unknown algorithm byte "
			     "0x%02x (only 0x01, ed25519)", what, raw[0]);
		goto out;
	}
	if (n != 1 + 32) {
		alog_err_set(err, rc, "%s key has wrong key length %ld "
			     "(want 32)", what, n - 1);
		goto out;
	}
	memcpy(key, raw + 1, 32);
	rc = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

/* Drop one trailing newline. */
static size_t chomp(const char *text, size_t len)
{
	return len && text[len - 1] == '\n' ? len - 1 : len;
}

int alog_verifier_parse(const char *text, size_t len,
			struct alog_verifier *out, struct alog_err *err)
{
	struct alog_verifier v;
	uint32_t want;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&v, 0, sizeof(v));
	len = chomp(text, len);
	if (len > ALOG_VKEY_MAX)
		return alog_err_set(err, ALOG_EINVAL,
				    "verifier key of %zu bytes is longer "
				    "than %d", len, ALOG_VKEY_MAX);
	rc = parse_key_fields(text, len, "verifier", v.name, &v.key_id, v.pub,
			      err);
	if (rc < 0)
		return rc;
	rc = compute_key_id(v.name, strlen(v.name), v.pub, &want, err);
	if (rc < 0)
		return rc;
	if (want != v.key_id)
		return alog_err_set(err, ALOG_EINVAL,
				    "verifier key id %08x does not match the "
				    "key (want %08x)", v.key_id, want);
	*out = v;
	return 0;
}

void alog_verifier_format(const struct alog_verifier *v, char *out)
{
	unsigned char raw[1 + ALOG_ED25519_PUB_LEN];
	char b64[KEY_B64_LEN + 1];

	raw[0] = ALG_ED25519;
	memcpy(raw + 1, v->pub, ALOG_ED25519_PUB_LEN);
	alog_b64_encode(raw, sizeof(raw), b64);
	snprintf(out, ALOG_VKEY_MAX + 1, "%s+%08x+%s", v->name,
		 (unsigned)v->key_id, b64);
}

int alog_verifier_verify(const struct alog_verifier *v, const void *msg,
			 size_t len,
			 const unsigned char sig[ALOG_ED25519_SIG_LEN],
			 struct alog_err *err)
{
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	int rc = 0, r;

	if (!v->name[0])
		return alog_err_set(err, ALOG_EINVAL, "no verifier key");
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, v->pub,
					   ALOG_ED25519_PUB_LEN);
	ctx = EVP_MD_CTX_new();
	if (!pkey || !ctx ||
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1) {
		rc = crypto_fail(err, "ed25519 verification setup");
		goto out;
	}
	r = EVP_DigestVerify(ctx, sig, ALOG_ED25519_SIG_LEN,
			     len ? msg : (const void *)"", len);
	if (r == 1)
		goto out;
	ERR_clear_error();
	if (r == 0)
		rc = alog_err_set(err, ALOG_EVERIFY,
				  "ed25519 signature by '%s+%08x' does not "
				  "verify", v->name, (unsigned)v->key_id);
	else
		rc = alog_err_set(err, ALOG_ECRYPTO,
				  "openssl ed25519 verification failed");
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return rc;
}

int alog_signer_parse(const char *text, size_t len, struct alog_signer **out,
		      struct alog_err *err)
{
	char name[ALOG_NOTE_NAME_MAX + 1];
	unsigned char seed[SEED_LEN];
	struct alog_signer *s = NULL;
	EVP_PKEY *pkey = NULL;
	uint32_t id;
	int rc;

	*out = NULL;
	len = chomp(text, len);
	if (len > ALOG_SIGNER_TEXT_MAX) {
		rc = alog_err_set(err, ALOG_EINVAL,
				  "signer key of %zu bytes is longer than %d",
				  len, ALOG_SIGNER_TEXT_MAX);
		goto out;
	}
	if (len < PRIV_PREFIX_LEN ||
	    memcmp(text, PRIV_PREFIX, PRIV_PREFIX_LEN) != 0) {
		rc = alog_err_set(err, ALOG_EINVAL,
				  "signer key does not start with "
				  "'PRIVATE+KEY+'");
		goto out;
	}
	rc = parse_key_fields(text + PRIV_PREFIX_LEN, len - PRIV_PREFIX_LEN,
			      "signer", name, &id, seed, err);
	if (rc < 0)
		goto out;
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
					    SEED_LEN);
	if (!pkey) {
		rc = crypto_fail(err, "ed25519 private key import");
		goto out;
	}
	rc = signer_wrap(name, strlen(name), pkey, &s, err);
	pkey = NULL;
	if (rc < 0)
		goto out;
	if (s->key_id != id) {
		rc = alog_err_set(err, ALOG_EINVAL,
				  "signer key id %08x does not match the key "
				  "(want %08x)", (unsigned)id,
				  (unsigned)s->key_id);
		goto out;
	}
	*out = s;
	s = NULL;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	EVP_PKEY_free(pkey);
	alog_signer_free(s);
	return rc;
}

int alog_signer_format(const struct alog_signer *s, char *out,
		       struct alog_err *err)
{
	unsigned char raw[1 + SEED_LEN];
	char b64[KEY_B64_LEN + 1];
	size_t seed_len = SEED_LEN;
	int rc = 0;

	raw[0] = ALG_ED25519;
	if (EVP_PKEY_get_raw_private_key(s->pkey, raw + 1, &seed_len) != 1 ||
	    seed_len != SEED_LEN) {
		rc = crypto_fail(err, "ed25519 private key export");
		goto out;
	}
	alog_b64_encode(raw, sizeof(raw), b64);
	snprintf(out, ALOG_SIGNER_TEXT_MAX + 1, "%s%s+%08x+%s", PRIV_PREFIX,
		 s->name, (unsigned)s->key_id, b64);
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(b64, sizeof(b64));
	return rc;
}

/* fsync the directory that holds path, so a new entry is durable. */
static int sync_parent(const char *path, struct alog_err *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd, rc = 0;

	if (!slash) {
		dir[0] = '.';
		n = 1;
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir))
			return alog_err_set(err, ALOG_EINVAL,
					    "path '%s' is too long", path);
		memcpy(dir, path, n);
	}
	dir[n] = 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return alog_err_sys(err, ALOG_EIO, errno,
				    "cannot open directory '%s': %s", dir,
				    strerror(errno));
	if (fsync(fd) < 0)
		rc = alog_err_sys(err, ALOG_EIO, errno,
				  "cannot fsync directory '%s': %s", dir,
				  strerror(errno));
	close(fd);
	return rc;
}

int alog_signer_save(const struct alog_signer *s, const char *path,
		     struct alog_err *err)
{
	char text[ALOG_KEY_FILE_MAX + 1];
	size_t len, off = 0;
	int fd = -1, created = 0, rc;

	rc = alog_signer_format(s, text, err);
	if (rc < 0)
		goto out;
	len = strlen(text);
	text[len++] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			rc = alog_err_sys(err, ALOG_EEXIST, errno,
					  "key file '%s' already exists "
					  "(refusing to overwrite a key)",
					  path);
		else
			rc = alog_err_sys(err, ALOG_EIO, errno,
					  "cannot create key file '%s': %s",
					  path, strerror(errno));
		goto out;
	}
	created = 1;
	/* The umask may only have narrowed 0600; make it exact. */
	if (fchmod(fd, 0600) < 0) {
		rc = alog_err_sys(err, ALOG_EIO, errno,
				  "cannot chmod key file '%s': %s", path,
				  strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = alog_err_sys(err, ALOG_EIO, errno,
					  "cannot write key file '%s': %s",
					  path, strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0) {
		rc = alog_err_sys(err, ALOG_EIO, errno,
				  "cannot fsync key file '%s': %s", path,
				  strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = alog_err_sys(err, ALOG_EIO, errno,
				  "cannot close key file '%s': %s", path,
				  strerror(errno));
		goto out;
	}
	fd = -1;
	rc = sync_parent(path, err);
out:
	OPENSSL_cleanse(text, sizeof(text));
	if (fd >= 0)
		close(fd);
	if (rc < 0 && created)
		unlink(path); /* a half-written key must not block a retry */
	return rc;
}

int alog_signer_load(const char *path, struct alog_signer **out,
		     struct alog_err *err)
{
	char text[ALOG_KEY_FILE_MAX + 1];
	struct stat st;
	size_t len = 0;
	int fd, rc = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return alog_err_sys(err, ALOG_ENOTFOUND, errno,
					    "key file '%s' does not exist",
					    path);
		return alog_err_sys(err, ALOG_EIO, errno,
				    "cannot open key file '%s': %s", path,
				    strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		rc = alog_err_sys(err, ALOG_EIO, errno,
				  "cannot stat key file '%s': %s", path,
				  strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = alog_err_set(err, ALOG_EINVAL,
				  "key file '%s' is not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		rc = alog_err_set(err, ALOG_EINVAL,
				  "key file '%s' has mode %04o, open to group "
				  "or others: run chmod 600 on it", path,
				  (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size > ALOG_KEY_FILE_MAX) {
		rc = alog_err_set(err, ALOG_ELIMIT,
				  "key file '%s' has %lld bytes, more than "
				  "ALOG_KEY_FILE_MAX (%d)", path,
				  (long long)st.st_size, ALOG_KEY_FILE_MAX);
		goto out;
	}
	/* Read one byte more than allowed, in case the file grew. */
	while (len < sizeof(text)) {
		ssize_t r = read(fd, text + len, sizeof(text) - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = alog_err_sys(err, ALOG_EIO, errno,
					  "cannot read key file '%s': %s",
					  path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > ALOG_KEY_FILE_MAX) {
		rc = alog_err_set(err, ALOG_ELIMIT,
				  "key file '%s' is larger than "
				  "ALOG_KEY_FILE_MAX (%d)", path,
				  ALOG_KEY_FILE_MAX);
		goto out;
	}
	rc = alog_signer_parse(text, len, out, err);
	if (rc < 0)
		alog_err_prefix(err, "key file '%s'", path);
out:
	OPENSSL_cleanse(text, sizeof(text));
	close(fd);
	return rc;
}

int alog_random(void *out, size_t n, struct alog_err *err)
{
	unsigned char *p = out;

	while (n > 0) {
		int chunk = n > INT_MAX ? INT_MAX : (int)n;

		if (RAND_bytes(p, chunk) != 1)
			return crypto_fail(err, "random bytes");
		p += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}
