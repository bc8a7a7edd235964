/*
 * bundle: an evidence bundle (SPEC.md section 19 "Evidence bundles"): a
 * directory of files (reports, populations, checkpoints, per-sample
 * tlog-proofs) with a manifest of their SHA-256 hashes, signed with the
 * log's key, that anyone holding the log's verifier key checks offline.
 *
 *   manifest.txt   one line per file, sorted by path (byte order):
 *                  <64 lowercase hex> "  " <path> "\n"   (sha256sum -c form)
 *   manifest.note  a C2SP signed note over the text
 *                  "auditlog-bundle/v1\n" origin "\n" file count "\n"
 *                  <lowercase hex SHA-256 of manifest.txt> "\n"
 *   checkpoints/end.checkpoint   the signed checkpoint every proof is against
 *   <dir>/<index>.tlog-proof     one per sampled record (report/sample.h)
 *
 * Invariants: paths are relative, made of [A-Za-z0-9._-] components
 * separated by '/', no "." or ".." component, at most
 * ALOG_BUNDLE_PATH_MAX bytes and ALOG_BUNDLE_DEPTH_MAX components; nothing
 * in a bundle is reached through a symbolic link; the two manifest files
 * are the only files not listed. Verification reports the first failure
 * in the order of SPEC.md, naming the file (and the line) first.
 */
#ifndef ALOG_REPORT_BUNDLE_H
#define ALOG_REPORT_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "store/err.h"
#include "store/merkle.h"
#include "store/note.h"
#include "store/sign.h"

#define ALOG_BUNDLE_MANIFEST "manifest.txt"
#define ALOG_BUNDLE_MANIFEST_NOTE "manifest.note"
#define ALOG_BUNDLE_END_CHECKPOINT "checkpoints/end.checkpoint"
#define ALOG_BUNDLE_PROOF_SUFFIX ".tlog-proof"
#define ALOG_BUNDLE_NOTE_HEADER "auditlog-bundle/v1"

/* Bytes in a path inside the bundle. */
#define ALOG_BUNDLE_PATH_MAX 255
/* Components of a path ("a/b/c" has 3). */
#define ALOG_BUNDLE_DEPTH_MAX 8
/* Files listed in one manifest. */
#define ALOG_BUNDLE_FILES_MAX 65536
/* Bytes in manifest.txt: every line at its longest. */
#define ALOG_BUNDLE_MANIFEST_MAX \
	(ALOG_BUNDLE_FILES_MAX * (64 + 2 + ALOG_BUNDLE_PATH_MAX + 1))

/* What a sign or verify saw. All-zero is empty. */
struct alog_bundle_summary {
	uint64_t n_files;                       /* listed in manifest.txt */
	uint64_t n_proofs;                      /* .tlog-proof files verified */
	struct alog_checkpoint end;             /* the end checkpoint */
	unsigned char manifest_sha256[ALOG_HASH_LEN];
	/* On failure: the bundle path of the file the first failure is
	 * about ("" when it concerns no file, e.g. the directory). */
	char failed[ALOG_BUNDLE_PATH_MAX + 1];
};

/* 0 when path[0..len) is a valid bundle path (rules above), else
 * ALOG_EINVAL naming the byte offset. */
int alog_bundle_path_check(const char *path, size_t len,
			   struct alog_err *err);

/* Write data as the new file `path` of the bundle in dir (created when
 * missing), making its parent directories (mode 0755); the file is created
 * exclusively (mode 0644, ALOG_EEXIST if present), written and fsynced. No
 * component is followed through a symbolic link. ALOG_EINVAL for a bad or
 * reserved (manifest) path. */
int alog_bundle_add(const char *dir, const char *path, const void *data,
		    size_t len, struct alog_err *err);

/* Seal the bundle in dir: hash every file, write manifest.txt and
 * manifest.note (signed by s, origin taken from the end checkpoint, which
 * must exist and verify with s's own verifier key). Refuses (ALOG_EINVAL,
 * naming the path) a symbolic link, a special file, a bad path, a
 * directory at depth ALOG_BUNDLE_DEPTH_MAX; ALOG_EEXIST when either
 * manifest file exists. All or nothing: on failure neither manifest file
 * is left behind. out (may be NULL) gets the summary (n_proofs 0: proofs
 * are not checked here; run alog_bundle_verify). */
int alog_bundle_sign(const char *dir, const struct alog_signer *s,
		     struct alog_bundle_summary *out, struct alog_err *err);

/* Verify the bundle in dir with v, in this order, stopping at the first
 * failure: manifest.note signature and text; manifest.txt lines (syntax,
 * order), count and hash; every listed file (present, regular, hash); no
 * unlisted file; the end checkpoint (verifies with v, origin of the
 * manifest); every .tlog-proof file (name, record, checkpoint identical to
 * the end checkpoint, inclusion). Codes: ALOG_EVERIFY (a signature, hash or
 * proof fails, a file missing or not listed), ALOG_ECORRUPT (malformed
 * text), ALOG_ELIMIT (a limit), ALOG_ENOTFOUND (dir missing), ALOG_EIO.
 * err's message starts with the file ("report.json: ...",
 * "manifest.txt line 4: ..."); out->failed names it too. */
int alog_bundle_verify(const char *dir, const struct alog_verifier *v,
		       struct alog_bundle_summary *out, struct alog_err *err);

#endif
