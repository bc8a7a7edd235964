/*
 * sign: Ed25519 signing keys for C2SP signed notes, through OpenSSL EVP
 * (the only file of store/ that includes OpenSSL's signature API).
 * SPEC.md "Keys".
 *
 * Key forms (C2SP signed-note, as golang.org/x/mod/sumdb/note writes them):
 *   verifier key  <name>+<hexkeyid>+<base64(0x01 || 32-byte public key)>
 *   signer key    PRIVATE+KEY+<name>+<hexkeyid>+<base64(0x01 || 32-byte seed)>
 * key id = first 4 bytes (big-endian) of SHA-256(name || 0x0A || 0x01 || pub).
 * The name is non-empty UTF-8 with no '+', no whitespace (Unicode
 * White_Space), no control chars (U+0000-U+001F, U+007F-U+009F), and
 * ALOG_NOTE_NAME_MAX bytes at most.
 *
 * Both parsers accept the text with or without one trailing newline.
 *
 * Invariants: private key material lives only in struct alog_signer (inside
 * its OpenSSL key object) and is wiped (OPENSSL_cleanse) on free, as is every
 * temporary buffer that held signer key text; key files are written mode
 * 0600 with O_EXCL and refused on load when group or others have any access
 * (mode & 077) or when larger than ALOG_KEY_FILE_MAX bytes.
 */
#ifndef ALOG_STORE_SIGN_H
#define ALOG_STORE_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "store/err.h"

#define ALOG_NOTE_NAME_MAX 256
#define ALOG_ED25519_PUB_LEN 32
#define ALOG_ED25519_SIG_LEN 64
/* vkey text: name + '+' + 8 hex + '+' + base64 of 33 bytes (44 chars). */
#define ALOG_VKEY_MAX (ALOG_NOTE_NAME_MAX + 1 + 8 + 1 + 44)
/* signer key text: "PRIVATE+KEY+" followed by the same three fields. */
#define ALOG_SIGNER_TEXT_MAX (12 + ALOG_VKEY_MAX)
/* A key file holds the signer text and one newline; larger files are
 * refused (ALOG_ELIMIT) before they are read. */
#define ALOG_KEY_FILE_MAX (ALOG_SIGNER_TEXT_MAX + 1)

struct alog_signer;   /* private key, name, key id */

struct alog_verifier {  /* all-zero: no key */
	char name[ALOG_NOTE_NAME_MAX + 1];
	uint32_t key_id;
	unsigned char pub[ALOG_ED25519_PUB_LEN];
};

/* Generate a fresh key pair named `name`. */
int alog_signer_generate(const char *name, struct alog_signer **out,
			 struct alog_err *err);
/* Write the signer key text and a newline to a new file (O_CREAT|O_EXCL,
 * mode 0600, fsynced, with its directory); ALOG_EEXIST if the file exists.
 * On any other failure the partly written file is removed. */
int alog_signer_save(const struct alog_signer *s, const char *path,
		     struct alog_err *err);
/* Load a signer key file; refuses files open to group or others, i.e.
 * mode & 077 (ALOG_EINVAL, message says to chmod 600), files that are not
 * regular, files over ALOG_KEY_FILE_MAX bytes (ALOG_ELIMIT); a missing
 * file is ALOG_ENOTFOUND. */
int alog_signer_load(const char *path, struct alog_signer **out,
		     struct alog_err *err);
/* Parse signer key text (used by load and tests). ALOG_EINVAL with the
 * reason (never the key material) when malformed or when the key id does not
 * match the key. */
int alog_signer_parse(const char *text, size_t len, struct alog_signer **out,
		      struct alog_err *err);
/* Signer key text (no newline) into out (ALOG_SIGNER_TEXT_MAX + 1 bytes).
 * out then holds the private key: the caller wipes it (OPENSSL_cleanse). */
int alog_signer_format(const struct alog_signer *s, char *out,
		       struct alog_err *err);
/* Wipes and frees; accepts NULL. */
void alog_signer_free(struct alog_signer *s);
const char *alog_signer_name(const struct alog_signer *s);
/* The matching verifier. */
void alog_signer_verifier(const struct alog_signer *s,
			  struct alog_verifier *out);
/* Ed25519 signature over msg. */
int alog_signer_sign(const struct alog_signer *s, const void *msg,
		     size_t len, unsigned char sig[ALOG_ED25519_SIG_LEN],
		     struct alog_err *err);

/* Parse a vkey; rejects wrong length, unknown algorithm byte, key id that
 * does not match the key, bad name (ALOG_EINVAL with the reason). */
int alog_verifier_parse(const char *text, size_t len,
			struct alog_verifier *out, struct alog_err *err);
/* Format as vkey text into out (ALOG_VKEY_MAX + 1 bytes). */
void alog_verifier_format(const struct alog_verifier *v, char *out);
/* 0 if sig is a valid Ed25519 signature of msg, else ALOG_EVERIFY
 * (ALOG_EINVAL for an all-zero v, ALOG_ECRYPTO if OpenSSL fails). */
int alog_verifier_verify(const struct alog_verifier *v, const void *msg,
			 size_t len,
			 const unsigned char sig[ALOG_ED25519_SIG_LEN],
			 struct alog_err *err);
/* Key id of (name, pub) as defined above (0 if OpenSSL cannot hash, which
 * only happens when out of memory; no valid key is then accepted). */
uint32_t alog_key_id(const char *name,
		     const unsigned char pub[ALOG_ED25519_PUB_LEN]);

/* 0 when name[0..len) is a valid key name as defined above, else ALOG_EINVAL
 * with the byte offset of the first bad byte. */
int alog_key_name_check(const char *name, size_t len, struct alog_err *err);

/* Decode one UTF-8 sequence at p (n > 0 bytes available). Returns its
 * length (1 to 4) and stores the code point in *cp, or returns 0 when the
 * bytes are not well-formed UTF-8 (truncated, overlong, surrogate, above
 * U+10FFFF). */
size_t alog_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);

/* Cryptographically random bytes (OpenSSL RAND_bytes). */
int alog_random(void *out, size_t n, struct alog_err *err);

#endif
