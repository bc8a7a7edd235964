/*
 * note: C2SP signed notes (c2sp.org/signed-note) and tlog checkpoints
 * (c2sp.org/tlog-checkpoint). SPEC.md "Checkpoints".
 *
 * A note is split at its last "\n\n": what precedes and includes the first
 * of those newlines is the signed text, what follows is one or more
 * signature lines. Verification scans the whole note once for UTF-8 and
 * control characters, then every signature line for syntax; lines by other
 * keys are skipped, every line by the verifier's (name, key id) must verify
 * and at least one must exist.
 *
 * Invariants: nothing reads past len; notes over ALOG_NOTE_MAX bytes or with
 * more than ALOG_NOTE_SIGS_MAX signature lines are refused (ALOG_ELIMIT)
 * before any signature is checked; alog_note_sign never emits a note that
 * alog_note_verify would refuse.
 */
#include "store/note.h"

#include <inttypes.h>
#include <string.h>

#include "store/bytes.h"

#define EM_DASH_SP "\xe2\x80\x94 "
#define EM_DASH_SP_LEN 4
#define SIG_BLOB_LEN (4 + ALOG_ED25519_SIG_LEN)
/* base64 of the 68-byte key id || signature */
#define SIG_B64_LEN 92

/*
 * Text rules shared by notes and checkpoint bodies: well-formed UTF-8 and
 * no ASCII control characters other than newline. code is ALOG_EINVAL for
 * caller input, ALOG_ECORRUPT for received bytes; what names the input.
 */
static int text_check(const char *text, size_t len, int code,
		      const char *what, struct alog_err *err)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t off = 0;

	while (off < len) {
		uint32_t c;
		size_t n;

		if (p[off] < 0x80) {
			if (p[off] < 0x20 && p[off] != '\n')
				return alog_err_set(err, code,
						    "%s has control character "
						    "0x%02x at byte %zu", what,
						    p[off], off);
			off++;
			continue;
		}
		n = alog_utf8_decode(p + off, len - off, &c);
		if (n == 0)
			return alog_err_set(err, code,
					    "%s is not utf-8 at byte %zu", what,
					    off);
		off += n;
	}
	return 0;
}

int alog_note_sign(const struct alog_signer *s, const char *text,
		   size_t text_len, struct alog_buf *out,
		   struct alog_err *err)
{
	struct alog_verifier v;
	unsigned char blob[SIG_BLOB_LEN];
	char b64[SIG_B64_LEN + 1];
	size_t name_len, note_len, start = out->len;
	int rc;

	alog_signer_verifier(s, &v);
	name_len = strlen(v.name);
	if (text_len == 0)
		return alog_err_set(err, ALOG_EINVAL, "note text is empty");
	if (text[text_len - 1] != '\n')
		return alog_err_set(err, ALOG_EINVAL,
				    "note text does not end in a newline");
	rc = text_check(text, text_len, ALOG_EINVAL, "note text", err);
	if (rc < 0)
		return rc;
	/* text, blank line, em dash, space, name, space, base64, newline */
	note_len = text_len + 1 + EM_DASH_SP_LEN + name_len + 1 + SIG_B64_LEN +
		   1;
	if (text_len > ALOG_NOTE_MAX || note_len > ALOG_NOTE_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "signed note would have %zu bytes, more "
				    "than ALOG_NOTE_MAX (%d)",
				    text_len > ALOG_NOTE_MAX ? text_len
							     : note_len,
				    ALOG_NOTE_MAX);
	alog_put_be32(blob, v.key_id);
	rc = alog_signer_sign(s, text, text_len, blob + 4, err);
	if (rc < 0)
		return rc;
	alog_b64_encode(blob, sizeof(blob), b64);
	rc = alog_buf_reserve(out, note_len, err);
	if (rc < 0)
		return rc;
	if ((rc = alog_buf_add(out, text, text_len, err)) < 0 ||
	    (rc = alog_buf_adds(out, "\n" EM_DASH_SP, err)) < 0 ||
	    (rc = alog_buf_add(out, v.name, name_len, err)) < 0 ||
	    (rc = alog_buf_addc(out, ' ', err)) < 0 ||
	    (rc = alog_buf_add(out, b64, SIG_B64_LEN, err)) < 0 ||
	    (rc = alog_buf_addc(out, '\n', err)) < 0) {
		out->len = start; /* all or nothing */
		if (out->data)
			out->data[start] = 0;
	}
	return rc;
}

/* Last occurrence of "\n\n" in p[0..len), or -1. */
static long last_blank(const char *p, size_t len)
{
	for (size_t i = len; i >= 2; i--)
		if (p[i - 2] == '\n' && p[i - 1] == '\n')
			return (long)(i - 2);
	return -1;
}

/* One signature line, split; name and b64 point into the note. */
struct sig_line {
	const char *name;
	size_t name_len;
	const char *b64;
	size_t b64_len;
	uint32_t key_id;
	size_t blob_len; /* decoded bytes: key id and signature */
};

/*
 * Parse "— <name> <base64>" (line without its newline; off is its byte
 * offset in the note, for messages). Every signature, also one by a key we
 * do not know, must be canonical base64 (padding only in the last group)
 * of at least 5 bytes: a key id and something.
 */
static int sig_line_parse(const char *line, size_t line_len, size_t off,
			  struct sig_line *sl, struct alog_err *err)
{
	unsigned char head[4];
	size_t head_len = 0;
	const char *sp;

	memset(sl, 0, sizeof(*sl));
	if (line_len < EM_DASH_SP_LEN ||
	    memcmp(line, EM_DASH_SP, EM_DASH_SP_LEN) != 0)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "note signature line at byte %zu does not "
				    "start with an em dash and a space", off);
	sl->name = line + EM_DASH_SP_LEN;
	sp = memchr(sl->name, ' ', line_len - EM_DASH_SP_LEN);
	if (!sp)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "note signature line at byte %zu has no "
				    "space after the key name", off);
	sl->name_len = (size_t)(sp - sl->name);
	sl->b64 = sp + 1;
	sl->b64_len = (size_t)(line + line_len - sl->b64);
	if (alog_key_name_check(sl->name, sl->name_len, err) < 0) {
		if (err)
			err->code = ALOG_ECORRUPT;
		alog_err_prefix(err, "note signature line at byte %zu", off);
		return ALOG_ECORRUPT;
	}
	/* a length that is no multiple of 4 decodes nothing: refused below */
	for (size_t i = 0; sl->b64_len % 4 == 0 && i < sl->b64_len; i += 4) {
		unsigned char g[3];
		long k = alog_b64_decode(sl->b64 + i, 4, g, sizeof(g));

		if (k < 0 || (k != 3 && i + 4 != sl->b64_len)) {
			sl->blob_len = 0;
			break;
		}
		for (long j = 0; j < k && head_len < sizeof(head); j++)
			head[head_len++] = g[j];
		sl->blob_len += (size_t)k;
	}
	if (sl->blob_len < 5)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "note signature line at byte %zu is not "
				    "canonical base64 of a key id and a "
				    "signature", off);
	sl->key_id = alog_get_be32(head);
	return 0;
}

int alog_note_verify(const struct alog_verifier *v, const char *note,
		     size_t len, size_t *text_len, struct alog_err *err)
{
	size_t vname_len = strlen(v->name), text_end, off, n_sigs = 0;
	size_t n_ours = 0;
	long split;
	int rc;

	if (!v->name[0])
		return alog_err_set(err, ALOG_EINVAL, "no verifier key");
	if (len > ALOG_NOTE_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "note of %zu bytes is longer than "
				    "ALOG_NOTE_MAX (%d)", len, ALOG_NOTE_MAX);
	if (len == 0)
		return alog_err_set(err, ALOG_ECORRUPT, "note is empty");
	rc = text_check(note, len, ALOG_ECORRUPT, "note", err);
	if (rc < 0)
		return rc;
	split = last_blank(note, len);
	if (split < 0)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "note has no blank line before its "
				    "signatures");
	text_end = (size_t)split + 1;
	off = text_end + 1;
	if (off == len || note[len - 1] != '\n')
		return alog_err_set(err, ALOG_ECORRUPT,
				    "note signature block at byte %zu is empty "
				    "or does not end in a newline", off);
	for (; off < len; n_sigs++) {
		const char *line = note + off;
		/* found: the note ends in a newline */
		const char *nl = memchr(line, '\n', len - off);
		size_t line_len = (size_t)(nl - line);
		unsigned char sig[SIG_BLOB_LEN];
		struct sig_line sl;

		if (n_sigs == ALOG_NOTE_SIGS_MAX)
			return alog_err_set(err, ALOG_ELIMIT,
					    "note has more than "
					    "ALOG_NOTE_SIGS_MAX (%d) signature "
					    "lines", ALOG_NOTE_SIGS_MAX);
		rc = sig_line_parse(line, line_len, off, &sl, err);
		if (rc < 0)
			return rc;
		if (sl.name_len == vname_len &&
		    memcmp(sl.name, v->name, vname_len) == 0 &&
		    sl.key_id == v->key_id) {
			/* our key: this line must verify (c2sp signed-note) */
			n_ours++;
			if (sl.blob_len != SIG_BLOB_LEN ||
			    alog_b64_decode(sl.b64, sl.b64_len, sig,
					    sizeof(sig)) != SIG_BLOB_LEN)
				return alog_err_set(err, ALOG_EVERIFY,
						    "note signature by "
						    "'%s+%08x' at byte %zu is "
						    "not 64 bytes", v->name,
						    (unsigned)v->key_id, off);
			rc = alog_verifier_verify(v, note, text_end, sig + 4,
						  err);
			if (rc < 0) {
				alog_err_prefix(err, "note signature line at "
						"byte %zu", off);
				return rc;
			}
		}
		off += line_len + 1;
	}
	if (n_ours == 0)
		return alog_err_set(err, ALOG_EVERIFY,
				    "note has no signature by '%s+%08x'",
				    v->name, (unsigned)v->key_id);
	if (text_len)
		*text_len = text_end;
	return 0;
}

int alog_checkpoint_format(const struct alog_checkpoint *c,
			   struct alog_buf *out, struct alog_err *err)
{
	char root[ALOG_HASH_LEN / 3 * 4 + 8];
	size_t origin_len = strnlen(c->origin, sizeof(c->origin));
	int rc;

	if (origin_len == 0)
		return alog_err_set(err, ALOG_EINVAL,
				    "checkpoint origin is empty");
	if (origin_len > ALOG_ORIGIN_MAX)
		return alog_err_set(err, ALOG_EINVAL,
				    "checkpoint origin is not terminated "
				    "within ALOG_ORIGIN_MAX (%d) bytes",
				    ALOG_ORIGIN_MAX);
	if (memchr(c->origin, '\n', origin_len))
		return alog_err_set(err, ALOG_EINVAL,
				    "checkpoint origin contains a newline");
	rc = text_check(c->origin, origin_len, ALOG_EINVAL,
			"checkpoint origin", err);
	if (rc < 0)
		return rc;
	alog_b64_encode(c->root, ALOG_HASH_LEN, root);
	return alog_buf_addf(out, err, "%s\n%" PRIu64 "\n%s\n", c->origin,
			     c->size, root);
}

int alog_checkpoint_parse(const char *text, size_t len,
			  struct alog_checkpoint *out, struct alog_err *err)
{
	struct alog_checkpoint c;
	const char *line[3];
	size_t line_len[3], off = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (len > ALOG_NOTE_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "checkpoint of %zu bytes is longer than "
				    "ALOG_NOTE_MAX (%d)", len, ALOG_NOTE_MAX);
	if (len == 0 || text[len - 1] != '\n')
		return alog_err_set(err, ALOG_ECORRUPT,
				    "checkpoint does not end in a newline");
	rc = text_check(text, len, ALOG_ECORRUPT, "checkpoint", err);
	if (rc < 0)
		return rc;
	for (int i = 0; i < 3; i++) {
		const char *nl;

		if (off == len)
			return alog_err_set(err, ALOG_ECORRUPT,
					    "checkpoint has %d lines, fewer "
					    "than 3", i);
		nl = memchr(text + off, '\n', len - off);
		line[i] = text + off;
		line_len[i] = (size_t)(nl - line[i]);
		off += line_len[i] + 1;
	}
	if (line_len[0] == 0)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "checkpoint origin (line 1) is empty");
	if (line_len[0] > ALOG_ORIGIN_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "checkpoint origin of %zu bytes is longer "
				    "than ALOG_ORIGIN_MAX (%d)", line_len[0],
				    ALOG_ORIGIN_MAX);
	memcpy(c.origin, line[0], line_len[0]);
	if (alog_dec_parse(line[1], line_len[1], &c.size) < 0)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "checkpoint tree size (line 2) is not a "
				    "decimal number without sign or leading "
				    "zeros that fits in 64 bits");
	if (alog_b64_decode(line[2], line_len[2], c.root, sizeof(c.root)) !=
	    ALOG_HASH_LEN)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "checkpoint root hash (line 3) is not "
				    "canonical base64 of %d bytes",
				    ALOG_HASH_LEN);
	/* Extension lines: opaque, but each must be non-empty. */
	for (int i = 4; off < len; i++) {
		const char *nl = memchr(text + off, '\n', len - off);

		if (nl == text + off)
			return alog_err_set(err, ALOG_ECORRUPT,
					    "checkpoint extension line %d is "
					    "empty", i);
		off = (size_t)(nl - text) + 1;
	}
	*out = c;
	return 0;
}

int alog_checkpoint_open_note(const struct alog_verifier *v,
			      const char *note, size_t len,
			      struct alog_checkpoint *out,
			      struct alog_err *err)
{
	size_t text_len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = alog_note_verify(v, note, len, &text_len, err);
	if (rc < 0)
		return rc;
	return alog_checkpoint_parse(note, text_len, out, err);
}
