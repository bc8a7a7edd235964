/*
 * store: the verifiable record store (SPEC.md "Store layout", "LMDB
 * layout", "Durability"). Owns the segment files, the LMDB index, the
 * Merkle tree's stored nodes and the checkpoints. Knows nothing of event
 * JSON: a record is an opaque line of bytes without 0x0A.
 *
 * Directory:  DIR/index/      LMDB environment (data.mdb, lock.mdb)
 *             DIR/segments/   segment files (store/segment.h)
 *             DIR/LOCK        store-wide writer lock (fcntl), holds a pid
 *
 * Invariants:
 * - Record i is the RFC 9162 leaf i; the tree size is the record count.
 * - received_us never decreases with the index.
 * - An append is durable when its blocks are fdatasynced and then the
 *   LMDB transaction that makes them visible has committed; LMDB is the
 *   commit point. Nothing past the committed end of a segment is read.
 * - Merkle nodes are stored for complete subtrees of level >=
 *   ALOG_STORE_NODE_LEVEL (2^6 = 64 leaves; 2^8 = 256 in a store created
 *   before meta node_level); lower levels are recomputed from the records of one group
 *   when a proof needs them.
 * - One writer process (DIR/LOCK); any number of read-only openers.
 */
#ifndef ALOG_STORE_STORE_H
#define ALOG_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store/buf.h"
#include "store/err.h"
#include "store/merkle.h"
#include "store/note.h"
#include "store/sign.h"

/* The store format written; formats 1 (no ids_recent table) and 2 (id
 * keys without a time prefix) are read and upgraded by a writer's open
 * (SPEC.md 7 "Older stores"). */
#define ALOG_STORE_FORMAT 3
#define ALOG_STORE_FORMAT_MIN 1
/* Lowest level of the stored tree nodes: 2^6 = 64 leaves in a store
 * created with meta node_level, 2^8 = 256 in one created before
 * (ALOG_STORE_NODE_LEVEL_OLD; SPEC.md 7 "Node level"). */
#define ALOG_STORE_NODE_LEVEL 6
#define ALOG_STORE_NODE_LEVEL_OLD 8
/* LMDB map (address space, not disk): starts at 1 GiB (or twice the
 * index file) and doubles whenever less than half of it would be free
 * with ALOG_STORE_MAP_HEADROOM more. */
#define ALOG_STORE_MAP_INITIAL ((size_t)1 << 30)
#define ALOG_STORE_MAP_HEADROOM ((size_t)64 << 20)
/* An id digest (what the writer and look-ups are given for (source, id)):
 * t (6 bytes, the UUIDv7 time or 0) || SHA-256(source || 0x00 || id)[0:16].
 * Its first ALOG_STORE_ID_KEY_LEN bytes are the id key stored in ids
 * (SPEC.md 7 "Id keys"); its last ALOG_STORE_ID_KEY_LEN bytes are the key
 * of formats 1 and 2. */
#define ALOG_STORE_ID_KEY_LEN 16
#define ALOG_STORE_ID_TIME_LEN 6
#define ALOG_STORE_ID_LEN (ALOG_STORE_ID_TIME_LEN + ALOG_STORE_ID_KEY_LEN)
/* Id keys kept in the ids_recent table and the writer's memory before
 * they are merged into ids (SPEC.md 7 "Recent ids"). */
#define ALOG_STORE_IDS_RECENT_MAX (1u << 19)
/* Largest record the store accepts (bytes, without the newline). */
#define ALOG_STORE_RECORD_MAX (1u << 20)

enum {
	ALOG_STORE_RDONLY = 0,
	ALOG_STORE_WRITE = 1,
};

struct alog_store;

/* What open did to bring the store back to its committed state. */
struct alog_store_recovery {
	int cut;                  /* 1 when bytes were cut */
	uint32_t segment_id;      /* segment that was cut */
	uint64_t cut_from;        /* committed end (bytes kept) */
	uint64_t cut_bytes;       /* bytes removed past it */
	uint32_t removed_segments;/* uncommitted segment files removed */
};

struct alog_store_options {
	uint64_t segment_max;  /* rotation size; 0: ALOG_SEGMENT_SIZE_DEFAULT */
};

/* Create a new, empty store in dir (which must not exist or be empty)
 * with the log's origin and verifier key. */
int alog_store_create(const char *dir, const char *origin,
		      const struct alog_verifier *vkey,
		      const struct alog_store_options *opt,
		      struct alog_err *err);

/* Open. ALOG_STORE_WRITE takes the writer lock (ALOG_EBUSY naming the pid
 * that holds it) and cuts uncommitted bytes (reported in rec, may be
 * NULL). Read-only opens change nothing. */
int alog_store_open(const char *dir, int mode, struct alog_store **out,
		    struct alog_store_recovery *rec, struct alog_err *err);
void alog_store_close(struct alog_store *s);

uint64_t alog_store_size(const struct alog_store *s);
int64_t alog_store_last_received(const struct alog_store *s);
const char *alog_store_origin(const struct alog_store *s);
const struct alog_verifier *alog_store_vkey(const struct alog_store *s);
/* Root of the current tree (from memory, no I/O). A read-only open that
 * found the last group of records damaged has no such root (all zero
 * here): alog_store_root_at(s, size) reports the damage instead. */
void alog_store_root(const struct alog_store *s,
		     unsigned char out[ALOG_HASH_LEN]);

/* One record to append. id_key: the ALOG_STORE_ID_LEN-byte id digest of
 * (source, id) for deduplication (alog_store_id_key), or NULL. leaf: the
 * record's leaf hash (alog_merkle_leaf of data) when the caller hashed it
 * already (the writer does, on the thread that formats the record, so
 * that the append's threads only compress and combine), or NULL. */
struct alog_store_rec {
	const unsigned char *data;
	size_t len;
	int64_t received_us;
	const unsigned char *id_key;
	const unsigned char *leaf;
};

/* Append n records as indices size..size+n-1, durably (one round of
 * syncs). On failure nothing is visible and the store stays usable (a
 * segment whose sync failed is abandoned: the next append starts a new
 * one). ALOG_ECONFLICT if an id_key is already stored. */
int alog_store_append(struct alog_store *s, const struct alog_store_rec *recs,
		      size_t n, struct alog_err *err);

/* A block of a batch that the caller encoded ahead of the append: records
 * [start, end) of recs, each followed by 0x0A, through alog_block_encode
 * with first_index = the store's size + start and first_received =
 * recs[start].received_us (data, len: header and frame). */
struct alog_store_block {
	size_t start, end;
	const unsigned char *data;
	size_t len;
};

/* alog_store_append of records whose blocks are encoded already (a
 * writer compresses a batch while it judges it: SPEC.md 10.2). The blocks
 * must be the ones alog_store_append would make of recs (a block closes
 * once its payload reaches ALOG_BLOCK_TARGET bytes or
 * ALOG_BLOCK_RECORDS_MAX records); ALOG_EINVAL, nothing written, when
 * they are not or a header disagrees with the batch (first index, count,
 * payload length, first received time, frame length). */
int alog_store_append_encoded(struct alog_store *s,
			      const struct alog_store_rec *recs, size_t n,
			      const struct alog_store_block *blocks, size_t nb,
			      struct alog_err *err);

/* Index stored for the id digest id_key (ALOG_STORE_ID_LEN bytes), or
 * ALOG_ENOTFOUND. The one call that may run on another thread while
 * alog_store_append runs (a writer judges its next batch while one
 * commits): it sees what is committed, a batch in flight once its
 * append has returned. */
int alog_store_find_id(struct alog_store *s, const unsigned char *id_key,
		       uint64_t *index, struct alog_err *err);
/* First index whose received time is >= t_us (size when none). The
 * store keeps each block's first received time; received_of reads a
 * record's own (the layer above knows the record format). */
typedef int (*alog_store_received_fn)(const unsigned char *rec, size_t len,
				      int64_t *received_us);
int alog_store_find_time(struct alog_store *s, int64_t t_us,
			 alog_store_received_fn received_of, uint64_t *index,
			 struct alog_err *err);

/* Called for each record in index order. rec is valid during the call.
 * A negative return stops the read and is returned; a positive one stops
 * it without error. */
typedef int (*alog_store_record_fn)(void *ctx, uint64_t index,
				    const unsigned char *rec, size_t len);
/* Records [from, to) in order (to <= size). */
int alog_store_read(struct alog_store *s, uint64_t from, uint64_t to,
		    alog_store_record_fn fn, void *ctx, struct alog_err *err);
/* Copy of record index into out (reset first). */
int alog_store_get(struct alog_store *s, uint64_t index,
		   struct alog_buf *out, struct alog_err *err);

/* Tree hashes and proofs for any size <= current size. */
int alog_store_root_at(struct alog_store *s, uint64_t size,
		       unsigned char out[ALOG_HASH_LEN], struct alog_err *err);
int alog_store_leaf_hash(struct alog_store *s, uint64_t index,
			 unsigned char out[ALOG_HASH_LEN],
			 struct alog_err *err);
int alog_store_prove_inclusion(struct alog_store *s, uint64_t index,
			       uint64_t size,
			       unsigned char proof[][ALOG_HASH_LEN],
			       size_t *n_proof, struct alog_err *err);
int alog_store_prove_consistency(struct alog_store *s, uint64_t old_size,
				 uint64_t new_size,
				 unsigned char proof[][ALOG_HASH_LEN],
				 size_t *n_proof, struct alog_err *err);

/* Checkpoints: seq numbers from 0, kept forever. */
struct alog_store_checkpoint {
	uint64_t seq;
	uint64_t size;
	int64_t signed_us;
	struct alog_buf note; /* the signed note text (owned) */
};
void alog_store_checkpoint_release(struct alog_store_checkpoint *c);
/* Sign a checkpoint of the current tree with signer (whose verifier must
 * be the store's) and store it. out may be NULL. */
int alog_store_sign_checkpoint(struct alog_store *s,
			       const struct alog_signer *signer,
			       int64_t now_us,
			       struct alog_store_checkpoint *out,
			       struct alog_err *err);
/* Number of checkpoints, and checkpoint seq. ALOG_ENOTFOUND if none. */
uint64_t alog_store_checkpoint_count(struct alog_store *s);
int alog_store_checkpoint_get(struct alog_store *s, uint64_t seq,
			      struct alog_store_checkpoint *out,
			      struct alog_err *err);

/*
 * Full check (SPEC.md "Verification"): read every block of every segment
 * through the index, check framing, CRCs, index continuity, received
 * order, recompute every leaf and the tree, compare every stored node and
 * every checkpoint (whose notes must verify with vkey; NULL: the store's
 * own). received_of (may be NULL) reads a record's received time, to
 * check each block's first one against the index; fn (may be NULL) sees
 * each record, for checks of the layer above.
 * On the first failure returns ALOG_ECORRUPT or ALOG_EVERIFY with
 * *bad_index set to the first index found bad (UINT64_MAX when the damage
 * is not tied to one record) and err naming the place.
 */
struct alog_store_check_progress {
	void (*fn)(void *ctx, uint64_t done, uint64_t total);
	void *ctx;
};
int alog_store_check(struct alog_store *s, const struct alog_verifier *vkey,
		     alog_store_received_fn received_of,
		     alog_store_record_fn fn, void *ctx,
		     const struct alog_store_check_progress *progress,
		     uint64_t *bad_index, struct alog_err *err);

/*
 * Replay progress (SPEC.md "LMDB layout", table replays): per backup or
 * spool file, keyed by its file id (the header's UUIDv7 text), how far a
 * replay got. Staged progress is written in the same transaction as the
 * next alog_store_append (which then commits even with n = 0), so records
 * and progress are durable together or not at all.
 */
#define ALOG_STORE_REPLAY_KEY_LEN 36
struct alog_store_replay {
	uint64_t line;        /* chain index of the last line done */
	uint64_t imported;    /* records appended */
	uint64_t duplicates;  /* (source, id) stored with the same event */
	uint64_t conflicts;   /* (source, id) stored with another event */
	uint64_t refused;     /* lines the log refused */
};
int alog_store_replay_stage(struct alog_store *s,
			    const char key[ALOG_STORE_REPLAY_KEY_LEN],
			    const struct alog_store_replay *r,
			    struct alog_err *err);
/* ALOG_ENOTFOUND when nothing was recorded for key. */
int alog_store_replay_get(struct alog_store *s,
			  const char key[ALOG_STORE_REPLAY_KEY_LEN],
			  struct alog_store_replay *out, struct alog_err *err);

/* 1 after a commit whose outcome is unknown (an LMDB commit that
 * failed: it may have reached the disk). The store then refuses writes;
 * reopen it, or open it read-only to see what is committed. */
/* The store's format (meta "format"): ALOG_STORE_FORMAT_MIN to
 * ALOG_STORE_FORMAT. */
uint32_t alog_store_format(const struct alog_store *s);
/* For tests: merge ids_recent into ids past n keys instead of
 * ALOG_STORE_IDS_RECENT_MAX. */
void alog_store_set_ids_recent_max(struct alog_store *s, size_t n);
int alog_store_failed(const struct alog_store *s);

/* For tests only: make the next fdatasync of the writer's current
 * segment fail (alog_segment_test_fail_next_sync). No-op without one. */
void alog_store_test_fail_next_sync(struct alog_store *s);
/* For tests only: alog_store_check hashes on the caller's thread, as
 * when its worker thread cannot start (on: 1). */
void alog_store_test_check_inline(struct alog_store *s, int on);

/* The id digest of (source, id) (see ALOG_STORE_ID_LEN), hashed with h
 * (NULL: a context made for the call, which costs more than the hash). */
void alog_store_id_key(struct alog_hasher *h, const char *source,
		       const char *id, unsigned char out[ALOG_STORE_ID_LEN]);

#endif
