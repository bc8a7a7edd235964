/*
 * note: C2SP signed notes and tlog checkpoints (SPEC.md "Checkpoints").
 *
 * A signed note is text (non-empty, UTF-8, no control characters but
 * newline, ending in a newline), a blank line, then one or more signature
 * lines "— <name> <base64(4-byte key id || signature)>\n" (U+2014 em dash).
 * A checkpoint's text is
 *   <origin>\n<decimal tree size>\n<base64 root hash>\n[extension lines]
 * Limits: ALOG_NOTE_MAX bytes in all, ALOG_NOTE_SIGS_MAX signature lines.
 *
 * Errors: text a caller asks to sign or format that breaks the rules is
 * ALOG_EINVAL; notes and checkpoints that break them are ALOG_ECORRUPT; a
 * named limit exceeded is ALOG_ELIMIT; a signature that does not verify, or
 * no signature by the verifier's key, is ALOG_EVERIFY.
 */
#ifndef ALOG_STORE_NOTE_H
#define ALOG_STORE_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "store/buf.h"
#include "store/err.h"
#include "store/merkle.h"
#include "store/sign.h"

#define ALOG_NOTE_MAX 8192
#define ALOG_NOTE_SIGS_MAX 16
#define ALOG_ORIGIN_MAX 255

/* Append text + "\n" + its signature line by s to out (all or nothing).
 * text must end in "\n" and pass the note text rules (ALOG_EINVAL); the
 * note must fit in ALOG_NOTE_MAX bytes (ALOG_ELIMIT). */
int alog_note_sign(const struct alog_signer *s, const char *text,
		   size_t text_len, struct alog_buf *out,
		   struct alog_err *err);

/* Verify note against v: 0 when at least one signature line has v's name
 * and key id and every such line verifies; lines by other keys are checked
 * for syntax only. *text_len (if non-NULL) gets the length of the signed
 * text (up to and including the newline before the last blank line).
 * Malformed notes are ALOG_ECORRUPT; over a limit ALOG_ELIMIT; no matching
 * or a bad signature ALOG_EVERIFY; an all-zero v ALOG_EINVAL. */
int alog_note_verify(const struct alog_verifier *v, const char *note,
		     size_t len, size_t *text_len, struct alog_err *err);

struct alog_checkpoint {
	char origin[ALOG_ORIGIN_MAX + 1];
	uint64_t size;
	unsigned char root[ALOG_HASH_LEN];
};

/* Append the checkpoint body text (no extension lines) to out. The origin
 * must be non-empty, NUL-terminated within ALOG_ORIGIN_MAX bytes, without
 * newline or other control characters, valid UTF-8 (else ALOG_EINVAL). */
int alog_checkpoint_format(const struct alog_checkpoint *c,
			   struct alog_buf *out, struct alog_err *err);
/* Parse the body text of a checkpoint (extension lines allowed, ignored,
 * but each must be non-empty): text ends in a newline, origin non-empty and
 * at most ALOG_ORIGIN_MAX bytes (ALOG_ELIMIT), size decimal without sign or
 * leading zeros that fits in a uint64, root canonical base64 of 32 bytes.
 * Malformed text is ALOG_ECORRUPT; out is all-zero on failure. */
int alog_checkpoint_parse(const char *text, size_t len,
			  struct alog_checkpoint *out, struct alog_err *err);
/* Verify a signed checkpoint note with v (alog_note_verify) and parse its
 * signed text (alog_checkpoint_parse); out is all-zero on failure. */
int alog_checkpoint_open_note(const struct alog_verifier *v,
			      const char *note, size_t len,
			      struct alog_checkpoint *out,
			      struct alog_err *err);

#endif
