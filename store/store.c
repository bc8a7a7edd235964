/*
 * store: see store.h; SPEC.md "Store layout", "LMDB layout", "Durability",
 * "Verification". This file is the only one that includes LMDB.
 *
 * Every LMDB value we depend on ends in a CRC-32C over key || payload
 * (LMDB itself checksums nothing), checked on every read.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "store/block.h"
#include "store/bytes.h"
#include "store/segment.h"

/* The group cache holds the largest group of any format (256 leaves). */
#define GROUP_LEAVES_MAX (1u << ALOG_STORE_NODE_LEVEL_OLD)
#define SEG_CACHE 8
#define STATE_LEN 28   /* tree_size u64, last_received i64, seg_id u32, n_ckpt u64 */
#define BLOCKVAL_LEN 28 /* seg_id u32, offset u64, disk_len u32, n u32, first_received i64 */
#define SEGVAL_LEN 16  /* first_index u64, committed end u64 */
/* Batches of this many records or more are hashed on a second thread
 * while their blocks are compressed, or, when the caller compressed them
 * (alog_store_append_encoded), while they are written and synced (fewer:
 * a thread costs more). */
#define HASH_THREAD_MIN 256

struct pending_node {
	unsigned char key[9];
	unsigned char hash[ALOG_HASH_LEN];
};

struct seg_slot {
	struct alog_segment *seg;
	uint64_t used; /* LRU tick */
};

/* An open-addressing map from id key to record index, for the writer's
 * copy of ids_recent. Load stays at most one half. A slot holds its key
 * and index together: a look-up touches one place in memory. */
struct idslot {
	unsigned char key[ALOG_STORE_ID_KEY_LEN];
	uint64_t idx;       /* index + 1; 0: empty slot */
};

struct idmap {
	struct idslot *slot;
	size_t cap, n;      /* cap: 0 or a power of two */
	uint64_t seed;      /* random, drawn with the first slots: a producer
			       that grinds ids to collide in the slots
			       can't know where they fall */
};

struct alog_store;
static int load_recent(struct alog_store *s, struct alog_err *err);
static int merge_recent(struct alog_store *s, MDB_txn *txn,
			struct alog_err *err);
static int ids_last(struct alog_store *s, MDB_txn *txn,
		    unsigned char last[ALOG_STORE_ID_KEY_LEN], int *have,
		    struct alog_err *err);

/* The first slot to probe for key. */
static size_t idmap_home(const struct idmap *m, const unsigned char *key)
{
	uint64_t h;

	/* the key's hash part (SPEC.md 7 "Id keys"): its time part, the
	 * first bytes, has little spread */
	memcpy(&h, key + ALOG_STORE_ID_TIME_LEN, sizeof(h));
	h = (h ^ m->seed) * UINT64_C(0x9e3779b97f4a7c15);
	return (size_t)(h >> 32) & (m->cap - 1);
}

/* The slot that holds key, or the empty one where it would go. A key is
 * compared as two 64-bit halves, inline (no memcmp call a probe). */
static size_t idmap_slot(const struct idmap *m, const unsigned char *key)
{
	uint64_t k0, k1, s0, s1;
	size_t i;

	_Static_assert(ALOG_STORE_ID_KEY_LEN == 16, "two 64-bit halves");
	memcpy(&k0, key, 8);
	memcpy(&k1, key + 8, 8);
	for (i = idmap_home(m, key); m->slot[i].idx;
	     i = (i + 1) & (m->cap - 1)) {
		memcpy(&s0, m->slot[i].key, 8);
		memcpy(&s1, m->slot[i].key + 8, 8);
		if (((s0 ^ k0) | (s1 ^ k1)) == 0)
			break;
	}
	return i;
}

/* 1 and *index when key is there, else 0. */
static int idmap_get(const struct idmap *m, const unsigned char *key,
		     uint64_t *index)
{
	size_t i;

	if (!m->n)
		return 0;
	i = idmap_slot(m, key);
	if (!m->slot[i].idx)
		return 0;
	*index = m->slot[i].idx - 1;
	return 1;
}

#define SLOTS_MAPPED ((size_t)2 << 20) /* bytes from which slots are mapped */

/* cap zeroed slots. A large array is mapped (zeroed by the system as it
 * is touched) and asks for huge pages, since look-ups land all over it
 * (fewer TLB misses). */
static struct idslot *slots_alloc(size_t cap)
{
	size_t bytes = cap * sizeof(struct idslot);
	void *p;

	if (bytes < SLOTS_MAPPED)
		return calloc(cap, sizeof(struct idslot));
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, bytes, MADV_HUGEPAGE);
#endif
	return p;
}

static void slots_free(struct idslot *slot, size_t cap)
{
	if (cap * sizeof(struct idslot) < SLOTS_MAPPED)
		free(slot);
	else if (slot)
		munmap(slot, cap * sizeof(struct idslot));
}

/* Room for n entries in all, so that puts up to n never allocate. */
static int idmap_reserve(struct idmap *m, size_t n)
{
	if (2 * n > m->cap) {
		struct idmap g = { 0 };

		g.seed = m->seed;
		if (!m->cap && alog_random(&g.seed, sizeof(g.seed), NULL) < 0)
			return ALOG_ENOMEM;
		g.cap = m->cap ? 2 * m->cap : 4096;
		while (2 * n > g.cap)
			g.cap *= 2;
		g.slot = slots_alloc(g.cap);
		if (!g.slot)
			return ALOG_ENOMEM;
		for (size_t j = 0; j < m->cap; j++)
			if (m->slot[j].idx)
				g.slot[idmap_slot(&g, m->slot[j].key)] =
					m->slot[j];
		g.n = m->n;
		slots_free(m->slot, m->cap);
		*m = g;
	}
	return 0;
}

static int idmap_put(struct idmap *m, const unsigned char *key,
		     uint64_t index)
{
	size_t i;

	if (idmap_reserve(m, m->n + 1) < 0)
		return ALOG_ENOMEM;
	i = idmap_slot(m, key);
	if (!m->slot[i].idx)
		m->n++;
	memcpy(m->slot[i].key, key, ALOG_STORE_ID_KEY_LEN);
	m->slot[i].idx = index + 1;
	return 0;
}

static void idmap_clear(struct idmap *m)
{
	if (m->n)
		memset(m->slot, 0, m->cap * sizeof(*m->slot));
	m->n = 0;
}

static void idmap_free(struct idmap *m)
{
	slots_free(m->slot, m->cap);
	memset(m, 0, sizeof(*m));
}

struct alog_store {
	char *dir;
	char *seg_dir;
	int mode;
	int lock_fd;
	MDB_env *env;
	MDB_dbi dbi_meta, dbi_blocks, dbi_times, dbi_ids, dbi_nodes,
		dbi_ckpt, dbi_segs, dbi_replays, dbi_recent;
	int has_recent;     /* the ids_recent table exists (likewise) */
	int ids_legacy;     /* ids holds keys of format 1 or 2 (meta
			       "ids_legacy"): look-ups ask for those too */
	uint32_t format;    /* meta "format" as read */
	unsigned node_level; /* lowest stored tree level (meta node_level) */
	struct idmap recent; /* the writer's copy of ids_recent (a reader's:
				read on its first id look-up) */
	int recent_loaded;
	struct keyref *staged; /* put_ids: the batch's keys for ids_recent,
				* then cap_staged more for its sort */
	size_t n_staged, cap_staged;
	/* The writer's copy of the last key of ids (ids_end_known; none when
	 * ids is empty): a key after it is not in ids, without a look-up.
	 * put_ids leaves the batch's in pend_*, taken on commit. */
	int ids_end_known, ids_empty, pend_set, pend_empty;
	unsigned char ids_end[ALOG_STORE_ID_KEY_LEN];
	unsigned char pend_end[ALOG_STORE_ID_KEY_LEN];
	size_t recent_max;   /* ALOG_STORE_IDS_RECENT_MAX, or a test's */
	int has_replays;    /* the replays table exists (read-only opens of
			       a store that never replayed may lack it) */
	int replay_staged;  /* replay_key/replay_val go with the next append */
	char replay_key[ALOG_STORE_REPLAY_KEY_LEN];
	struct alog_store_replay replay_val;

	/* committed state (SPEC.md "LMDB layout", meta "state") */
	uint64_t size;
	int64_t last_received;
	uint32_t seg_id;
	uint64_t seg_first; /* index of the current segment's first record */
	uint64_t seg_end;
	uint64_t n_ckpt;
	int abandoned;  /* never write segment seg_id again (SPEC.md 8) */
	int range_bad;  /* read-only open could not rebuild the tree */
	int hash_inline; /* tests: check hashes on the walk's thread */
	struct alog_err range_err; /* why, when range_bad */
	int failed;     /* a commit's outcome is unknown: reopen to go on */
	/* The read transaction of id look-ups, kept between them (reset
	 * before any other transaction begins, renewed by the next look-up):
	 * one begin per batch instead of one per event. */
	MDB_txn *id_txn;
	int id_txn_live;
	/* Held by alog_store_find_id, and by an append around what that
	 * reads (recent, ids_end and the rest of the writer's copy of ids,
	 * id_txn) and around a write transaction's begin (a map resize
	 * wants no live read transaction): so a writer may look ids up on
	 * one thread while a batch commits on another (store.h). */
	pthread_mutex_t ids_mu;
	int ids_mu_init;

	char origin[ALOG_ORIGIN_MAX + 1];
	struct alog_verifier vkey;
	uint64_t segment_max;

	struct alog_segment *cur; /* writer's current segment, or NULL */
	struct seg_slot slots[SEG_CACHE];
	uint64_t tick;

	struct alog_codec *codec;
	struct alog_codec *codec2;  /* a writer's second, for a batch thread */
	struct alog_hasher *hasher;
	struct alog_merkle_range range;

	/* Cache of one group's subtree: all nodes of levels 0 to
	 * node_level - 1 of group group_k (the records k << node_level
	 * onwards), level l at group_off(l). */
	uint64_t group_k;
	uint32_t group_n; /* leaves cached (< a group only at the tail) */
	unsigned char (*group)[ALOG_HASH_LEN];
	/* The read transaction of the proof or root being made, or NULL:
	 * its subtrees come from one snapshot and one begin instead of one
	 * per stored node and block. */
	MDB_txn *proof_txn;

	struct alog_buf payload;
	struct alog_buf payload2;   /* the batch thread's */
	struct pending_node *nodes;
	size_t n_nodes, cap_nodes;
};

/* ---- LMDB adapter ------------------------------------------------- */

static int db_fail(struct alog_err *err, int rc, const char *what)
{
	return alog_err_sys(err, ALOG_EDB, rc, "lmdb %s: %s", what,
			    mdb_strerror(rc));
}

static int put_checked(MDB_txn *txn, MDB_dbi dbi, const void *key,
		       size_t key_len, const void *val, size_t val_len,
		       unsigned flags, struct alog_err *err)
{
	MDB_val k = { key_len, (void *)key }, v;
	unsigned char stack[256];
	unsigned char *buf = stack;
	uint32_t crc;
	int rc;

	if (val_len + 4 > sizeof(stack)) {
		buf = malloc(val_len + 4);
		if (!buf)
			return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	}
	memcpy(buf, val, val_len);
	crc = alog_crc32c(alog_crc32c(0, key, key_len), val, val_len);
	alog_put_be32(buf + val_len, crc);
	v.mv_size = val_len + 4;
	v.mv_data = buf;
	rc = mdb_put(txn, dbi, &k, &v, flags);
	if (buf != stack)
		free(buf);
	if (rc == MDB_KEYEXIST)
		return alog_err_set(err, ALOG_ECONFLICT, "key exists");
	if (rc)
		return db_fail(err, rc, "put");
	return 0;
}

/* Check the CRC of a value read under key; *len gets the payload length. */
static int check_val(const MDB_val *k, const MDB_val *v, size_t *len,
		     const char *table, struct alog_err *err)
{
	uint32_t crc;

	if (v->mv_size < 4)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "index table '%s': value of %zu bytes is too short",
				    table, v->mv_size);
	crc = alog_crc32c(alog_crc32c(0, k->mv_data, k->mv_size), v->mv_data,
			  v->mv_size - 4);
	if (crc != alog_get_be32((const unsigned char *)v->mv_data +
				 v->mv_size - 4))
		return alog_err_set(err, ALOG_ECORRUPT,
				    "index table '%s': value checksum mismatch",
				    table);
	*len = v->mv_size - 4;
	return 0;
}

/* get_checked without a message for a missing key: ALOG_ENOTFOUND alone
 * (a look-up that misses is the common case, e.g. every new id key). */
static int lookup_checked(MDB_txn *txn, MDB_dbi dbi, const char *table,
			  const void *key, size_t key_len, const void **val,
			  size_t *len, struct alog_err *err)
{
	MDB_val k = { key_len, (void *)key }, v;
	int rc = mdb_get(txn, dbi, &k, &v);

	/* set on every path, so that no caller's compiler thinks them unset */
	*val = NULL;
	*len = 0;
	if (rc == MDB_NOTFOUND)
		return ALOG_ENOTFOUND;
	if (rc)
		return db_fail(err, rc, "get");
	rc = check_val(&k, &v, len, table, err);
	if (rc < 0)
		return rc;
	*val = v.mv_data;
	return 0;
}

static int get_checked(MDB_txn *txn, MDB_dbi dbi, const char *table,
		       const void *key, size_t key_len, const void **val,
		       size_t *len, struct alog_err *err)
{
	int rc = lookup_checked(txn, dbi, table, key, key_len, val, len, err);

	if (rc == ALOG_ENOTFOUND)
		return alog_err_set(err, ALOG_ENOTFOUND,
				    "index table '%s': key not found", table);
	return rc;
}

/* Grow the map (address space, not disk) before a write transaction so
 * that half of it stays free: a batch never meets MDB_MAP_FULL. */
static int grow_map(struct alog_store *s, struct alog_err *err)
{
	MDB_envinfo info;
	MDB_stat st;
	size_t used, size;
	int rc;

	if (mdb_env_info(s->env, &info) || mdb_env_stat(s->env, &st))
		return 0;
	used = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
	size = info.me_mapsize;
	if (used + ALOG_STORE_MAP_HEADROOM <= size / 2)
		return 0;
	while (used + ALOG_STORE_MAP_HEADROOM > size / 2)
		size *= 2;
	rc = mdb_env_set_mapsize(s->env, size);
	if (rc)
		return db_fail(err, rc, "grow map");
	return 0;
}

static void id_txn_reset(struct alog_store *s)
{
	if (s->id_txn_live) {
		mdb_txn_reset(s->id_txn);
		s->id_txn_live = 0;
	}
}

/* txn_begin after its preparation (below). */
static int txn_begin_prepared(struct alog_store *s, int write, MDB_txn **txn,
			      struct alog_err *err)
{
	int rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, txn);

	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size. */
		rc = mdb_env_set_mapsize(s->env, 0);
		if (rc == 0)
			rc = mdb_txn_begin(s->env, NULL,
					   write ? 0 : MDB_RDONLY, txn);
	}
	if (rc)
		return db_fail(err, rc, "begin transaction");
	return 0;
}

/* What comes before a transaction's begin: a map resize needs no live
 * transaction in this process, and a write makes the look-ups' snapshot
 * old. */
static int txn_prepare(struct alog_store *s, int write, struct alog_err *err)
{
	id_txn_reset(s);
	return write ? grow_map(s, err) : 0;
}

static int txn_begin(struct alog_store *s, int write, MDB_txn **txn,
		     struct alog_err *err)
{
	int rc = txn_prepare(s, write, err);

	return rc < 0 ? rc : txn_begin_prepared(s, write, txn, err);
}

static int txn_commit(MDB_txn *txn, struct alog_err *err)
{
	int rc = mdb_txn_commit(txn); /* consumes txn even on failure */

	if (rc)
		return db_fail(err, rc, "commit");
	return 0;
}

static int open_dbis(struct alog_store *s, MDB_txn *txn, unsigned flags,
		     struct alog_err *err)
{
	struct {
		const char *name;
		MDB_dbi *dbi;
	} t[] = {
		{ "meta", &s->dbi_meta },     { "blocks", &s->dbi_blocks },
		{ "times", &s->dbi_times },   { "ids", &s->dbi_ids },
		{ "nodes", &s->dbi_nodes },   { "checkpoints", &s->dbi_ckpt },
		{ "segments", &s->dbi_segs },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = mdb_dbi_open(txn, t[i].name, flags, t[i].dbi);

		if (rc == MDB_NOTFOUND)
			return alog_err_set(err, ALOG_ECORRUPT,
					    "index table '%s' is missing",
					    t[i].name);
		if (rc)
			return db_fail(err, rc, "open table");
	}
	/* replays came with the spool; a store opened read-only that never
	 * replayed anything may lack it (it is created on a writer's open). */
	{
		int rc = mdb_dbi_open(txn, "replays", flags, &s->dbi_replays);

		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc)
			return db_fail(err, rc, "open table");
		s->has_replays = 1;
	}
	{
		int rc = mdb_dbi_open(txn, "ids_recent", flags, &s->dbi_recent);

		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc)
			return db_fail(err, rc, "open table");
		s->has_recent = 1;
	}
	return 0;
}

static void encode_state(const struct alog_store *s, unsigned char *p)
{
	alog_put_be64(p, s->size);
	alog_put_be64(p + 8, (uint64_t)s->last_received);
	alog_put_be32(p + 16, s->seg_id);
	alog_put_be64(p + 20, s->n_ckpt);
}

static int put_state(struct alog_store *s, MDB_txn *txn, struct alog_err *err)
{
	unsigned char st[STATE_LEN], sv[SEGVAL_LEN], sk[4];
	int rc;

	encode_state(s, st);
	rc = put_checked(txn, s->dbi_meta, "state", 5, st, sizeof(st), 0, err);
	if (rc < 0)
		return rc;
	alog_put_be32(sk, s->seg_id);
	alog_put_be64(sv, s->seg_first);
	alog_put_be64(sv + 8, s->seg_end);
	return put_checked(txn, s->dbi_segs, sk, 4, sv, sizeof(sv), 0, err);
}

static int get_segment_entry(struct alog_store *s, MDB_txn *txn, uint32_t id,
			     uint64_t *first, uint64_t *end,
			     struct alog_err *err)
{
	unsigned char sk[4];
	const void *v;
	size_t len;
	int rc;

	alog_put_be32(sk, id);
	rc = get_checked(txn, s->dbi_segs, "segments", sk, 4, &v, &len, err);
	if (rc < 0)
		return rc;
	if (len != SEGVAL_LEN)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "index table 'segments': bad value for segment %u",
				    id);
	if (first)
		*first = alog_get_be64(v);
	*end = alog_get_be64((const unsigned char *)v + 8);
	return 0;
}

static int load_meta(struct alog_store *s, MDB_txn *txn, struct alog_err *err)
{
	const void *v;
	size_t len;
	int rc;

	rc = get_checked(txn, s->dbi_meta, "meta", "format", 6, &v, &len, err);
	if (rc < 0)
		goto out;
	if (len != 4 || alog_get_be32(v) < ALOG_STORE_FORMAT_MIN ||
	    alog_get_be32(v) > ALOG_STORE_FORMAT) {
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "store format %u is not one this auditlog reads (%d to %d)",
				  len == 4 ? alog_get_be32(v) : 0,
				  ALOG_STORE_FORMAT_MIN, ALOG_STORE_FORMAT);
		goto out;
	}
	s->format = alog_get_be32(v);
	/* two optional keys: lookup_checked leaves err alone when absent */
	rc = lookup_checked(txn, s->dbi_meta, "meta", "ids_legacy", 10, &v,
			    &len, err);
	if (rc == 0 && len != 8)
		rc = alog_err_set(err, ALOG_ECORRUPT, "bad ids_legacy in meta");
	if (rc < 0 && rc != ALOG_ENOTFOUND)
		goto out;
	/* formats 1 and 2 hold only keys of the older form */
	s->ids_legacy = rc == 0 || s->format < 3;
	rc = lookup_checked(txn, s->dbi_meta, "meta", "node_level", 10, &v,
			    &len, err);
	if (rc == 0 && (len != 4 || alog_get_be32(v) != ALOG_STORE_NODE_LEVEL))
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "bad node_level in meta (this auditlog reads %d)",
				  ALOG_STORE_NODE_LEVEL);
	if (rc < 0 && rc != ALOG_ENOTFOUND)
		goto out;
	/* a store created before node_level keeps its level 8 */
	s->node_level = rc == 0 ? ALOG_STORE_NODE_LEVEL
				: ALOG_STORE_NODE_LEVEL_OLD;
	rc = get_checked(txn, s->dbi_meta, "meta", "origin", 6, &v, &len, err);
	if (rc < 0)
		goto out;
	if (len == 0 || len > ALOG_ORIGIN_MAX) {
		rc = alog_err_set(err, ALOG_ECORRUPT, "bad origin in meta");
		goto out;
	}
	memcpy(s->origin, v, len);
	s->origin[len] = 0;
	rc = get_checked(txn, s->dbi_meta, "meta", "vkey", 4, &v, &len, err);
	if (rc < 0)
		goto out;
	rc = alog_verifier_parse(v, len, &s->vkey, err);
	if (rc < 0) {
		alog_err_prefix(err, "meta vkey");
		rc = ALOG_ECORRUPT;
		goto out;
	}
	rc = get_checked(txn, s->dbi_meta, "meta", "segment_max", 11, &v, &len,
			 err);
	if (rc < 0)
		goto out;
	if (len != 8) {
		rc = alog_err_set(err, ALOG_ECORRUPT, "bad segment_max in meta");
		goto out;
	}
	s->segment_max = alog_get_be64(v);
	rc = get_checked(txn, s->dbi_meta, "meta", "state", 5, &v, &len, err);
	if (rc < 0)
		goto out;
	if (len != STATE_LEN) {
		rc = alog_err_set(err, ALOG_ECORRUPT, "bad state in meta");
		goto out;
	}
	s->size = alog_get_be64(v);
	s->last_received = (int64_t)alog_get_be64((const unsigned char *)v + 8);
	s->seg_id = alog_get_be32((const unsigned char *)v + 16);
	s->n_ckpt = alog_get_be64((const unsigned char *)v + 20);
	rc = get_segment_entry(s, txn, s->seg_id, &s->seg_first, &s->seg_end,
			       err);
out:
	return rc;
}

/* ---- paths, lock -------------------------------------------------- */

static char *path_join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

static int fsync_dir(const char *path, struct alog_err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return alog_err_sys(err, ALOG_EIO, errno, "open directory '%s': %s",
				    path, strerror(errno));
	if (fsync(fd) < 0)
		rc = alog_err_sys(err, ALOG_EIO, errno, "fsync directory '%s': %s",
				  path, strerror(errno));
	close(fd);
	return rc;
}

/* The writer lock: an open-file-description lock (F_OFD_SETLK), so that
 * it belongs to this store handle, not to the process: a second writer
 * open in the same process is refused too, and closing another
 * descriptor of the file does not drop it. The holder writes its pid
 * into the file for the message others get. */
static int take_lock(struct alog_store *s, struct alog_err *err)
{
	char *path = path_join(s->dir, "LOCK");
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char pid[32];
	int n, rc = 0;

	if (!path)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (s->lock_fd < 0) {
		rc = alog_err_sys(err, ALOG_EIO, errno, "open '%s': %s", path,
				  strerror(errno));
		goto out;
	}
	if (fcntl(s->lock_fd, F_OFD_SETLK, &fl) < 0) {
		ssize_t got;

		if (errno != EACCES && errno != EAGAIN) {
			rc = alog_err_sys(err, ALOG_EIO, errno, "lock '%s': %s",
					  path, strerror(errno));
			goto out;
		}
		got = pread(s->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[got > 0 ? got : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		if (pid[0] && strspn(pid, "0123456789") == strlen(pid))
			rc = alog_err_set(err, ALOG_EBUSY,
					  "store '%s' is in use by process %s (lock '%s')",
					  s->dir, pid, path);
		else
			rc = alog_err_set(err, ALOG_EBUSY,
					  "store '%s' is in use by another process (lock '%s')",
					  s->dir, path);
		goto out;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(s->lock_fd, 0) < 0 ||
	    pwrite(s->lock_fd, pid, (size_t)n, 0) != n) {
		rc = alog_err_sys(err, ALOG_EIO, errno, "write '%s': %s", path,
				  strerror(errno));
		goto out;
	}
out:
	if (rc < 0 && s->lock_fd >= 0) {
		close(s->lock_fd);
		s->lock_fd = -1;
	}
	free(path);
	return rc;
}

static int env_open(struct alog_store *s, int rdonly, struct alog_err *err)
{
	char *idx = path_join(s->dir, "index");
	int rc;

	if (!idx)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	rc = mdb_env_create(&s->env);
	if (rc) {
		s->env = NULL;
		rc = db_fail(err, rc, "create environment");
		goto out;
	}
	mdb_env_set_maxdbs(s->env, 16);
	{
		/* Start at the initial size, or twice the file when larger;
		 * grow_map() doubles it as the index grows. */
		char *data = path_join(idx, "data.mdb");
		struct stat sb;
		size_t size = ALOG_STORE_MAP_INITIAL;

		if (data && stat(data, &sb) == 0 &&
		    (size_t)sb.st_size > size / 2)
			size = (size_t)sb.st_size * 2;
		free(data);
		mdb_env_set_mapsize(s->env, size);
	}
	/* Never MDB_WRITEMAP (a full disk must be ENOSPC, not SIGBUS), never
	 * MDB_NOSYNC: the LMDB commit is our commit point. */
	rc = mdb_env_open(s->env, idx,
			  MDB_NOTLS | (rdonly ? MDB_RDONLY : 0), 0640);
	if (rc) {
		rc = alog_err_sys(err, rc == ENOENT ? ALOG_ENOTFOUND : ALOG_EDB,
				  rc, "open index '%s': %s", idx,
				  mdb_strerror(rc));
		goto out;
	}
out:
	free(idx);
	return rc;
}

/* ---- create ------------------------------------------------------- */

static int put_meta(struct alog_store *s, MDB_txn *txn, const char *origin,
		    const struct alog_verifier *vkey, struct alog_err *err)
{
	char vtext[ALOG_VKEY_MAX + 1];
	unsigned char u[8];
	int rc;

	alog_put_be32(u, ALOG_STORE_FORMAT);
	rc = put_checked(txn, s->dbi_meta, "format", 6, u, 4, 0, err);
	if (rc < 0)
		return rc;
	alog_put_be32(u, ALOG_STORE_NODE_LEVEL);
	rc = put_checked(txn, s->dbi_meta, "node_level", 10, u, 4, 0, err);
	if (rc < 0)
		return rc;
	rc = put_checked(txn, s->dbi_meta, "origin", 6, origin, strlen(origin),
			 0, err);
	if (rc < 0)
		return rc;
	alog_verifier_format(vkey, vtext);
	rc = put_checked(txn, s->dbi_meta, "vkey", 4, vtext, strlen(vtext), 0,
			 err);
	if (rc < 0)
		return rc;
	alog_put_be64(u, s->segment_max);
	rc = put_checked(txn, s->dbi_meta, "segment_max", 11, u, 8, 0, err);
	if (rc < 0)
		return rc;
	return put_state(s, txn, err);
}

static int check_origin(const char *origin, struct alog_err *err)
{
	size_t n = strlen(origin);

	if (n == 0 || n > ALOG_ORIGIN_MAX)
		return alog_err_set(err, ALOG_EINVAL,
				    "origin must be 1 to %d bytes",
				    ALOG_ORIGIN_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)origin[i];

		if (c < 0x21 || c == 0x7f || c == '+')
			return alog_err_set(err, ALOG_EINVAL,
					    "origin '%s' has a space, control character or '+' at byte %zu",
					    origin, i);
	}
	return 0;
}

static void store_free(struct alog_store *s);

int alog_store_create(const char *dir, const char *origin,
		      const struct alog_verifier *vkey,
		      const struct alog_store_options *opt,
		      struct alog_err *err)
{
	struct alog_store *s = NULL;
	MDB_txn *txn = NULL;
	char *idx = NULL;
	DIR *d;
	int rc;

	rc = check_origin(origin, err);
	if (rc < 0)
		return rc;
	if (mkdir(dir, 0750) < 0) {
		if (errno != EEXIST)
			return alog_err_sys(err, ALOG_EIO, errno,
					    "create directory '%s': %s", dir,
					    strerror(errno));
		d = opendir(dir);
		if (!d)
			return alog_err_sys(err, ALOG_EIO, errno, "open '%s': %s",
					    dir, strerror(errno));
		for (struct dirent *e; (e = readdir(d));) {
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
				closedir(d);
				return alog_err_set(err, ALOG_EEXIST,
						    "'%s' exists and is not empty",
						    dir);
			}
		}
		closedir(d);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	s->ids_mu_init = pthread_mutex_init(&s->ids_mu, NULL) == 0;
	s->lock_fd = -1;
	s->mode = ALOG_STORE_WRITE;
	s->dir = strdup(dir);
	s->seg_dir = path_join(dir, "segments");
	idx = path_join(dir, "index");
	if (!s->dir || !s->seg_dir || !idx) {
		rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
		goto out;
	}
	s->segment_max = opt && opt->segment_max ? opt->segment_max
						 : ALOG_SEGMENT_SIZE_DEFAULT;
	if (s->segment_max < ALOG_SEGMENT_SIZE_MIN) {
		rc = alog_err_set(err, ALOG_EINVAL,
				  "segment size must be at least %u bytes",
				  ALOG_SEGMENT_SIZE_MIN);
		goto out;
	}
	rc = take_lock(s, err);
	if (rc < 0)
		goto out;
	if ((mkdir(s->seg_dir, 0750) < 0 && errno != EEXIST) ||
	    (mkdir(idx, 0750) < 0 && errno != EEXIST)) {
		rc = alog_err_sys(err, ALOG_EIO, errno,
				  "create directories in '%s': %s", dir,
				  strerror(errno));
		goto out;
	}
	rc = alog_segment_create(s->seg_dir, 1, 0, &s->cur, err);
	if (rc < 0)
		goto out;
	s->seg_id = 1;
	s->seg_end = alog_segment_size(s->cur);
	rc = env_open(s, 0, err);
	if (rc < 0)
		goto out;
	rc = txn_begin(s, 1, &txn, err);
	if (rc < 0)
		goto out;
	rc = open_dbis(s, txn, MDB_CREATE, err);
	if (rc < 0)
		goto out;
	rc = put_meta(s, txn, origin, vkey, err);
	if (rc < 0)
		goto out;
	rc = txn_commit(txn, err);
	txn = NULL;
	if (rc < 0)
		goto out;
	rc = fsync_dir(dir, err);
out:
	if (txn)
		mdb_txn_abort(txn);
	free(idx);
	store_free(s);
	return rc;
}

/* ---- open --------------------------------------------------------- */

static int remove_uncommitted_segments(struct alog_store *s,
				       struct alog_store_recovery *rec,
				       struct alog_err *err)
{
	DIR *d = opendir(s->seg_dir);
	int rc = 0;

	if (!d)
		return alog_err_sys(err, ALOG_EIO, errno, "open '%s': %s",
				    s->seg_dir, strerror(errno));
	for (struct dirent *e; (e = readdir(d));) {
		unsigned long id;
		char *end;

		if (strlen(e->d_name) != 12 ||
		    strspn(e->d_name, "0123456789") != 8 ||
		    strcmp(e->d_name + 8, ".seg") != 0)
			continue;
		errno = 0;
		id = strtoul(e->d_name, &end, 10);
		if (errno || end != e->d_name + 8 || id <= s->seg_id)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0) {
			rc = alog_err_sys(err, ALOG_EIO, errno,
					  "remove uncommitted segment '%s/%s': %s",
					  s->seg_dir, e->d_name,
					  strerror(errno));
			break;
		}
		if (rec)
			rec->removed_segments++;
	}
	closedir(d);
	if (rc == 0 && rec && rec->removed_segments)
		rc = fsync_dir(s->seg_dir, err);
	return rc;
}

static int rebuild_range(struct alog_store *s, struct alog_err *err);

/* The writer's copy of ids_recent (SPEC.md 7 "Recent ids"). */
static int load_recent(struct alog_store *s, struct alog_err *err)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc, mrc;

	rc = txn_begin(s, 0, &txn, err);
	if (rc < 0)
		return rc;
	mrc = mdb_cursor_open(txn, s->dbi_recent, &cur);
	if (mrc) {
		rc = db_fail(err, mrc, "open cursor");
		goto out;
	}
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint64_t index;
		size_t len;

		rc = check_val(&k, &v, &len, "ids_recent", err);
		if (rc < 0)
			goto out;
		if (k.mv_size != 8 || len != ALOG_STORE_ID_KEY_LEN) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "index table 'ids_recent': an entry of %zu and %zu bytes",
					  k.mv_size, len);
			goto out;
		}
		index = alog_get_be64(k.mv_data);
		if (index >= s->size && s->mode != ALOG_STORE_WRITE)
			break;  /* a reader's snapshot ends before it */
		if (index >= s->size) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "index table 'ids_recent': record %" PRIu64
					  " is past the log's %" PRIu64, index,
					  s->size);
			goto out;
		}
		if (idmap_put(&s->recent, v.mv_data, index) < 0) {
			rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (mrc != MDB_NOTFOUND)
		rc = db_fail(err, mrc, "read ids_recent");
out:
	if (cur)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc < 0)
		idmap_clear(&s->recent);
	else
		s->recent_loaded = 1;
	return rc;
}

int alog_store_open(const char *dir, int mode, struct alog_store **out,
		    struct alog_store_recovery *rec, struct alog_err *err)
{
	struct alog_store *s;
	MDB_txn *txn = NULL;
	int rc;

	*out = NULL;
	if (rec)
		memset(rec, 0, sizeof(*rec));
	s = calloc(1, sizeof(*s));
	if (!s)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	s->ids_mu_init = pthread_mutex_init(&s->ids_mu, NULL) == 0;
	s->lock_fd = -1;
	s->mode = mode;
	s->recent_max = ALOG_STORE_IDS_RECENT_MAX;
	s->group_k = UINT64_MAX;
	s->dir = strdup(dir);
	s->seg_dir = path_join(dir, "segments");
	s->group = malloc(2 * GROUP_LEAVES_MAX * ALOG_HASH_LEN);
	if (!s->dir || !s->seg_dir || !s->group) {
		rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
		goto out;
	}
	alog_buf_init(&s->payload, ALOG_BLOCK_RAW_MAX);
	alog_buf_init(&s->payload2, ALOG_BLOCK_RAW_MAX);
	if (access(dir, F_OK) < 0) {
		rc = alog_err_sys(err, ALOG_ENOTFOUND, errno,
				  "no store at '%s' (create one with 'auditlog init')",
				  dir);
		goto out;
	}
	if (mode == ALOG_STORE_WRITE) {
		rc = take_lock(s, err);
		if (rc < 0)
			goto out;
	}
	rc = env_open(s, mode != ALOG_STORE_WRITE, err);
	if (rc < 0)
		goto out;
	rc = txn_begin(s, 0, &txn, err);
	if (rc < 0)
		goto out;
	rc = open_dbis(s, txn, 0, err);
	if (rc < 0)
		goto out;
	rc = load_meta(s, txn, err);
	if (rc < 0)
		goto out;
	/* Commit, not abort: table handles opened in an aborted transaction
	 * are closed with it. */
	rc = txn_commit(txn, err);
	txn = NULL;
	if (rc < 0)
		goto out;
	if (mode == ALOG_STORE_WRITE && (!s->has_replays || !s->has_recent ||
					 s->format < ALOG_STORE_FORMAT)) {
		/* format 2: its recent keys, in the older form, go to ids
		 * before the form changes (SPEC.md 7 "Older stores") */
		if (s->has_recent && s->format < 3) {
			rc = load_recent(s, err);
			if (rc < 0)
				goto out;
		}
		rc = txn_begin(s, 1, &txn, err);
		if (rc == 0 && s->recent.n)
			rc = merge_recent(s, txn, err);
		if (rc == 0 && s->format < 3) {
			MDB_stat st;
			unsigned char u[8];

			rc = mdb_stat(txn, s->dbi_ids, &st);
			if (rc)
				rc = db_fail(err, rc, "read ids");
			alog_put_be64(u, rc == 0 ? st.ms_entries : 0);
			if (rc == 0 && st.ms_entries)
				rc = put_checked(txn, s->dbi_meta, "ids_legacy",
						 10, u, 8, 0, err);
			s->ids_legacy = rc == 0 && st.ms_entries;
		}
		if (rc == 0 && !s->has_replays) {
			rc = mdb_dbi_open(txn, "replays", MDB_CREATE,
					  &s->dbi_replays);
			if (rc)
				rc = db_fail(err, rc, "create table");
		}
		if (rc == 0 && !s->has_recent) {
			rc = mdb_dbi_open(txn, "ids_recent", MDB_CREATE,
					  &s->dbi_recent);
			if (rc)
				rc = db_fail(err, rc, "create table");
		}
		if (rc == 0 && s->format < ALOG_STORE_FORMAT) {
			/* an older auditlog, which would miss the keys in
			 * ids_recent or of the new form, now refuses the
			 * store */
			unsigned char u[4];

			alog_put_be32(u, ALOG_STORE_FORMAT);
			rc = put_checked(txn, s->dbi_meta, "format", 6, u, 4, 0,
					 err);
		}
		if (rc == 0) {
			rc = txn_commit(txn, err);
			txn = NULL;
		}
		if (rc < 0)
			goto out;
		idmap_clear(&s->recent);
		s->recent_loaded = 0;
		s->has_replays = s->has_recent = 1;
		s->format = ALOG_STORE_FORMAT;
	}
	if (mode == ALOG_STORE_WRITE) {
		int have;

		rc = load_recent(s, err);
		if (rc == 0)
			rc = txn_begin(s, 0, &txn, err);
		if (rc == 0)
			rc = ids_last(s, txn, s->ids_end, &have, err);
		if (txn)
			mdb_txn_abort(txn);
		txn = NULL;
		if (rc < 0)
			goto out;
		s->ids_end_known = 1;
		s->ids_empty = !have;
	}
	rc = alog_codec_new(&s->codec, err);
	if (rc == 0 && mode == ALOG_STORE_WRITE)
		rc = alog_codec_new(&s->codec2, err);
	if (rc < 0)
		goto out;
	rc = alog_hasher_new(&s->hasher, err);
	if (rc < 0)
		goto out;

	if (mode == ALOG_STORE_WRITE) {
		uint64_t fsize;

		rc = alog_segment_open(s->seg_dir, s->seg_id, 1, &s->cur, err);
		if (rc == ALOG_ENOTFOUND)
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "current segment file %08" PRIu32
					  ".seg is missing", s->seg_id);
		if (rc < 0)
			goto out;
		fsize = alog_segment_size(s->cur);
		if (fsize < s->seg_end) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "segment '%s' is %" PRIu64
					  " bytes long but %" PRIu64
					  " bytes are committed: committed records are missing",
					  alog_segment_path(s->cur), fsize,
					  s->seg_end);
			goto out;
		}
		if (fsize > s->seg_end) {
			rc = alog_segment_truncate(s->cur, s->seg_end, err);
			if (rc < 0)
				goto out;
			if (rec) {
				rec->cut = 1;
				rec->cut_bytes = fsize - s->seg_end;
			}
			/* The write that left these bytes may have failed its
			 * sync: never write this segment again. */
			alog_segment_close(s->cur);
			s->cur = NULL;
			s->abandoned = 1;
		}
		if (rec) {
			rec->segment_id = s->seg_id;
			rec->cut_from = s->seg_end;
		}
		rc = remove_uncommitted_segments(s, rec, err);
		if (rc < 0)
			goto out;
	}
	rc = rebuild_range(s, err);
	if (rc == ALOG_ECORRUPT && mode != ALOG_STORE_WRITE) {
		/* Damage in the last group: a reader can still read and
		 * check everything else, and report it (verify does). */
		s->range_bad = 1;
		if (err)
			s->range_err = *err;
		alog_err_clear(err);
		rc = 0;
	}
	if (rc < 0)
		goto out;
	*out = s;
	s = NULL;
out:
	if (txn)
		mdb_txn_abort(txn);
	if (rc < 0 && err)
		alog_err_prefix(err, "store '%s'", dir);
	store_free(s);
	return rc;
}

static void store_free(struct alog_store *s)
{
	if (!s)
		return;
	alog_segment_close(s->cur);
	for (int i = 0; i < SEG_CACHE; i++)
		alog_segment_close(s->slots[i].seg);
	if (s->id_txn)
		mdb_txn_abort(s->id_txn);
	if (s->ids_mu_init)
		pthread_mutex_destroy(&s->ids_mu);
	idmap_free(&s->recent);
	free(s->staged);
	if (s->env)
		mdb_env_close(s->env);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	alog_codec_free(s->codec);
	alog_codec_free(s->codec2);
	alog_hasher_free(s->hasher);
	alog_buf_release(&s->payload);
	alog_buf_release(&s->payload2);
	free(s->nodes);
	free(s->group);
	free(s->dir);
	free(s->seg_dir);
	free(s);
}

void alog_store_close(struct alog_store *s)
{
	store_free(s);
}

uint64_t alog_store_size(const struct alog_store *s)
{
	return s->size;
}

int64_t alog_store_last_received(const struct alog_store *s)
{
	return s->last_received;
}

const char *alog_store_origin(const struct alog_store *s)
{
	return s->origin;
}

const struct alog_verifier *alog_store_vkey(const struct alog_store *s)
{
	return &s->vkey;
}

void alog_store_root(const struct alog_store *s,
		     unsigned char out[ALOG_HASH_LEN])
{
	alog_merkle_range_root(&s->range, s->hasher, out);
}

/* The 48-bit unix_ts_ms of a UUIDv7 in text form, or 0 (SPEC.md 7 "Id
 * keys"). */
static uint64_t uuid7_ms(const char *id)
{
	/* 36 bytes: dashes at 8, 13, 18, 23, version 7 at 14, the variant
	 * (10xx) at 19, hex elsewhere; the first 12 digits are the time.
	 * The digits are checked together (a bad one is -1), no branch
	 * each. */
	static const unsigned char digit_at[32] = {
		0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17,
		19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
	};
	uint64_t ms = 0;
	int bad = 0;

	if (strnlen(id, 37) != 36 || id[8] != '-' || id[13] != '-' ||
	    id[18] != '-' || id[23] != '-' || id[14] != '7' ||
	    (alog_hex_digit(id[19]) & 0xc) != 0x8)
		return 0;
	for (size_t i = 0; i < 32; i++)
		bad |= alog_hex_digit(id[digit_at[i]]);
	if (bad < 0)
		return 0;
	for (size_t i = 0; i < 12; i++)
		ms = ms << 4 | (uint64_t)alog_hex_digit(id[digit_at[i]]);
	return ms;
}

void alog_store_id_key(struct alog_hasher *hs, const char *source,
		       const char *id, unsigned char out[ALOG_STORE_ID_LEN])
{
	unsigned char h[ALOG_HASH_LEN], t[8];

	alog_put_be64(t, uuid7_ms(id));
	memcpy(out, t + 8 - ALOG_STORE_ID_TIME_LEN, ALOG_STORE_ID_TIME_LEN);
	/* source's terminating NUL is the 0x00 separator (SPEC.md "ids"). */
	alog_hasher_sha256(hs, source, strlen(source) + 1, id, strlen(id), h);
	memcpy(out + ALOG_STORE_ID_TIME_LEN, h, ALOG_STORE_ID_KEY_LEN);
}

/* The key of formats 1 and 2 within an id digest. */
static const unsigned char *legacy_key(const unsigned char *digest)
{
	return digest + ALOG_STORE_ID_TIME_LEN;
}

/* ---- reading ------------------------------------------------------ */

/* A segment handle for reading: the writer's current one, or a cached
 * read-only one. Borrowed: valid until the next call of this function. */
static int seg_for_read(struct alog_store *s, uint32_t id,
			struct alog_segment **out, struct alog_err *err)
{
	int victim = 0;

	if (s->cur && alog_segment_id(s->cur) == id) {
		*out = s->cur;
		return 0;
	}
	for (int i = 0; i < SEG_CACHE; i++) {
		if (s->slots[i].seg && alog_segment_id(s->slots[i].seg) == id) {
			s->slots[i].used = ++s->tick;
			*out = s->slots[i].seg;
			return 0;
		}
		if (!s->slots[i].seg ||
		    (s->slots[victim].seg &&
		     s->slots[i].used < s->slots[victim].used))
			victim = i;
	}
	alog_segment_close(s->slots[victim].seg);
	s->slots[victim].seg = NULL;
	{
		int rc = alog_segment_open(s->seg_dir, id, 0,
					   &s->slots[victim].seg, err);
		if (rc == ALOG_ENOTFOUND)
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "segment file %08" PRIu32
					  ".seg holds committed records but is missing",
					  id);
		if (rc < 0)
			return rc;
	}
	s->slots[victim].used = ++s->tick;
	*out = s->slots[victim].seg;
	return 0;
}

struct blockloc {
	uint64_t first_index;
	uint32_t seg_id;
	uint64_t offset;
	uint32_t disk_len;
	uint32_t n;
	int64_t first_received;
};

static int decode_blockloc(const MDB_val *k, const MDB_val *v,
			   struct blockloc *b, struct alog_err *err)
{
	size_t len;
	const unsigned char *p = v->mv_data;
	int rc;

	if (k->mv_size != 8)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "index table 'blocks': key of %zu bytes",
				    k->mv_size);
	rc = check_val(k, v, &len, "blocks", err);
	if (rc < 0)
		return rc;
	if (len != BLOCKVAL_LEN)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "index table 'blocks': value of %zu bytes",
				    len);
	b->first_index = alog_get_be64(k->mv_data);
	b->seg_id = alog_get_be32(p);
	b->offset = alog_get_be64(p + 4);
	b->disk_len = alog_get_be32(p + 12);
	b->n = alog_get_be32(p + 16);
	b->first_received = (int64_t)alog_get_be64(p + 20);
	if (b->n == 0 || b->first_index + b->n < b->first_index)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "index table 'blocks': bad entry at index %" PRIu64,
				    b->first_index);
	return 0;
}

/* The block holding record index. */
static int find_block(struct alog_store *s, MDB_txn *txn, uint64_t index,
		      struct blockloc *b, struct alog_err *err)
{
	MDB_cursor *c;
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	alog_put_be64(kb, index);
	rc = mdb_cursor_open(txn, s->dbi_blocks, &c);
	if (rc)
		return db_fail(err, rc, "cursor");
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && k.mv_size == 8 && alog_get_be64(k.mv_data) != index)
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0)
		rc = decode_blockloc(&k, &v, b, err);
	else if (rc == MDB_NOTFOUND)
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "no block holds record %" PRIu64, index);
	else
		rc = db_fail(err, rc, "cursor get");
	mdb_cursor_close(c);
	if (rc == 0 && (index < b->first_index ||
			index - b->first_index >= b->n))
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "no block holds record %" PRIu64
				  " (index table gap)", index);
	return rc;
}

/* Read and decode one block into s->payload, checking it against loc. */
static int load_block(struct alog_store *s, const struct blockloc *b,
		      struct alog_block_header *h, struct alog_err *err)
{
	struct alog_segment *seg;
	uint64_t next;
	int rc;

	rc = seg_for_read(s, b->seg_id, &seg, err);
	if (rc < 0)
		goto out;
	rc = alog_segment_read_block(seg, s->codec, b->offset, h, &s->payload,
				     &next, err);
	if (rc < 0)
		goto out;
	if (h->first_index != b->first_index || h->n_records != b->n ||
	    h->first_received != b->first_received ||
	    next - b->offset != b->disk_len)
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "segment %u offset %" PRIu64
				  ": block does not match its index entry",
				  b->seg_id, b->offset);
out:
	if (rc < 0)
		alog_err_prefix(err, "records %" PRIu64 "..%" PRIu64, b->first_index,
				b->first_index + b->n - 1);
	return rc;
}

int alog_store_read(struct alog_store *s, uint64_t from, uint64_t to,
		    alog_store_record_fn fn, void *ctx, struct alog_err *err)
{
	MDB_txn *txn = NULL;
	uint64_t i = from;
	int rc = 0;

	if (from > to || to > s->size)
		return alog_err_set(err, ALOG_EINVAL,
				    "range %" PRIu64 "..%" PRIu64
				    " is outside the log of %" PRIu64 " records",
				    from, to, s->size);
	while (i < to) {
		struct blockloc b;
		struct alog_block_header h;
		const unsigned char *p, *end;
		uint64_t idx;

		rc = txn_begin(s, 0, &txn, err);
		if (rc < 0)
			break;
		rc = find_block(s, txn, i, &b, err);
		mdb_txn_abort(txn);
		txn = NULL;
		if (rc < 0)
			break;
		rc = load_block(s, &b, &h, err);
		if (rc < 0)
			break;
		p = s->payload.data;
		end = p + s->payload.len;
		for (idx = b.first_index; p < end && idx < to; idx++) {
			const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));

			if (idx >= i) {
				rc = fn(ctx, idx, p, (size_t)(nl - p));
				if (rc != 0)
					return rc < 0 ? rc : 0;
			}
			p = nl + 1;
		}
		i = idx;
	}
	return rc;
}

struct get_ctx {
	struct alog_buf *out;
	int rc;
	struct alog_err *err;
};

static int get_one(void *ctx, uint64_t index, const unsigned char *rec,
		   size_t len)
{
	struct get_ctx *g = ctx;

	(void)index;
	alog_buf_reset(g->out);
	g->rc = alog_buf_add(g->out, rec, len, g->err);
	return g->rc;
}

int alog_store_get(struct alog_store *s, uint64_t index,
		   struct alog_buf *out, struct alog_err *err)
{
	struct get_ctx g = { out, 0, err };

	if (index >= s->size)
		return alog_err_set(err, ALOG_ENOTFOUND,
				    "no record %" PRIu64 " (the log has %" PRIu64
				    " records)", index, s->size);
	return alog_store_read(s, index, index + 1, get_one, &g, err);
}

/* The index that table ids holds for an id digest: under its id key, or
 * in a store upgraded from format 1 or 2, under its older key (SPEC.md 7
 * "Older stores"); else ALOG_ENOTFOUND. */
static int ids_get(struct alog_store *s, MDB_txn *txn,
		   const unsigned char *digest, uint64_t *index,
		   struct alog_err *err)
{
	const void *v;
	size_t len;
	int rc;

	rc = lookup_checked(txn, s->dbi_ids, "ids", digest,
			    ALOG_STORE_ID_KEY_LEN, &v, &len, err);
	if (rc == ALOG_ENOTFOUND && s->ids_legacy)
		rc = lookup_checked(txn, s->dbi_ids, "ids", legacy_key(digest),
				    ALOG_STORE_ID_KEY_LEN, &v, &len, err);
	if (rc == 0 && len != 8)
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "index table 'ids': value of %zu bytes", len);
	if (rc == 0)
		*index = alog_get_be64(v);
	if (rc == 0 && *index >= s->size)
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "index table 'ids' points past the log");
	return rc;
}

/* 1 when the writer knows that table ids can't hold the id digest's key:
 * it sorts after the table's last key, and the table holds no keys of
 * the older form (which sort anywhere). */
static int after_ids_end(const struct alog_store *s,
			 const unsigned char *digest)
{
	return s->ids_end_known && !s->ids_legacy &&
	       (s->ids_empty || memcmp(digest, s->ids_end,
				       ALOG_STORE_ID_KEY_LEN) > 0);
}

static int find_id(struct alog_store *s, const unsigned char *id_key,
		   uint64_t *index, struct alog_err *err);

int alog_store_find_id(struct alog_store *s, const unsigned char *id_key,
		       uint64_t *index, struct alog_err *err)
{
	int rc;

	pthread_mutex_lock(&s->ids_mu);
	rc = find_id(s, id_key, index, err);
	pthread_mutex_unlock(&s->ids_mu);
	return rc;
}

static int find_id(struct alog_store *s, const unsigned char *id_key,
		   uint64_t *index, struct alog_err *err)
{
	int rc = 0;

	if (!s->recent_loaded && s->has_recent) {
		rc = load_recent(s, err);
		if (rc < 0)
			return rc;
	}
	/* a reader's copy of a format 2 ids_recent holds older keys */
	if (idmap_get(&s->recent, s->format < 3 ? legacy_key(id_key) : id_key,
		      index))
		return 0;
	if (after_ids_end(s, id_key))
		return ALOG_ENOTFOUND;
	if (!s->id_txn_live && s->id_txn) {
		rc = mdb_txn_renew(s->id_txn);
		if (rc) {  /* e.g. MDB_MAP_RESIZED: begin anew */
			mdb_txn_abort(s->id_txn);
			s->id_txn = NULL;
			rc = 0;
		}
	}
	if (!s->id_txn) {
		MDB_txn *txn;

		rc = txn_begin(s, 0, &txn, err);
		if (rc < 0)
			return rc;
		s->id_txn = txn;
	}
	s->id_txn_live = 1;
	return ids_get(s, s->id_txn, id_key, index, err);
}

/* ---- Merkle subtrees ---------------------------------------------- */

/* Offset of level l (0..8) in the group cache: leaves first, then each
 * level above, each with room for a group of GROUP_LEAVES_MAX leaves;
 * 2*GROUP_LEAVES_MAX - 1 entries in all. */
static size_t group_off(unsigned l)
{
	return 2 * GROUP_LEAVES_MAX - ((2 * GROUP_LEAVES_MAX) >> l);
}

static int read_node(struct alog_store *s, MDB_txn *txn, unsigned level,
		     uint64_t k, unsigned char out[ALOG_HASH_LEN],
		     struct alog_err *err);

/* Hash the leaves [first, last) into the group cache, reading each block
 * they lie in once (in txn) and hashing the records straight from its
 * payload. Sets *n to the leaves hashed. */
static int group_leaves(struct alog_store *s, MDB_txn *txn, uint64_t first,
			uint64_t last, uint32_t *n, struct alog_err *err)
{
	uint64_t i = first;
	int rc;

	*n = 0;
	while (i < last) {
		struct blockloc b;
		struct alog_block_header h;
		const unsigned char *p, *end;
		uint64_t idx;

		rc = find_block(s, txn, i, &b, err);
		if (rc < 0)
			return rc;
		rc = load_block(s, &b, &h, err);
		if (rc < 0)
			return rc;
		/* load_block checked exactly b.n records, each ending with
		 * 0x0A: memchr finds one for every index below b's end */
		p = s->payload.data;
		end = p + s->payload.len;
		for (idx = b.first_index; idx < last && p < end; idx++) {
			const unsigned char *nl = memchr(p, '\n',
							 (size_t)(end - p));

			if (idx >= i) {
				rc = alog_merkle_leaf(s->hasher, p,
						      (size_t)(nl - p),
						      s->group[(*n)++]);
				if (rc < 0)
					return alog_err_set(err, rc,
							    "sha-256 of record %" PRIu64
							    " failed", idx);
			}
			p = nl + 1;
		}
		if (idx <= i) /* cannot happen: find_block gave i's block */
			return alog_err_set(err, ALOG_ECORRUPT,
					    "block at %" PRIu64
					    " does not hold record %" PRIu64,
					    b.first_index, i);
		i = idx;
	}
	return 0;
}

/* Make the cache hold group gk: its leaves and every complete node. */
static int load_group(struct alog_store *s, uint64_t gk, struct alog_err *err)
{
	unsigned nl = s->node_level;
	uint64_t first = gk << nl;
	uint64_t last = first + ((uint64_t)1 << nl);
	MDB_txn *txn = s->proof_txn;
	uint32_t n = 0;
	int rc;

	if (s->group_k == gk)
		return 0;
	s->group_k = UINT64_MAX;
	if (last > s->size)
		last = s->size;
	if (!txn) {
		rc = txn_begin(s, 0, &txn, err);
		if (rc < 0)
			return rc;
	}
	rc = group_leaves(s, txn, first, last, &n, err);
	for (unsigned l = 1; rc == 0 && l < nl; l++) {
		uint32_t count = n >> l;

		for (uint32_t j = 0; rc == 0 && j < count; j++)
			rc = alog_merkle_node(s->hasher,
					      s->group[group_off(l - 1) + 2 * j],
					      s->group[group_off(l - 1) + 2 * j + 1],
					      s->group[group_off(l) + j]);
	}
	if (rc == 0 && n == (uint32_t)1 << nl) {
		/* A complete group must hash to its stored node, or proofs
		 * would mix recomputed lower levels with stored upper ones. */
		unsigned char top[ALOG_HASH_LEN], stored[ALOG_HASH_LEN];
		unsigned l = nl - 1;

		rc = alog_merkle_node(s->hasher, s->group[group_off(l)],
				      s->group[group_off(l) + 1], top);
		if (rc == 0)
			rc = read_node(s, txn, nl, gk, stored, err);
		if (rc == 0 && memcmp(top, stored, ALOG_HASH_LEN) != 0)
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "records %" PRIu64 "..%" PRIu64
					  " do not match their stored tree node (level %u index %" PRIu64 ")",
					  first, last - 1, nl, gk);
	}
	if (txn != s->proof_txn)
		mdb_txn_abort(txn);
	if (rc < 0)
		return rc;
	s->group_k = gk;
	s->group_n = n;
	return 0;
}

static void node_key(unsigned level, uint64_t k, unsigned char key[9])
{
	key[0] = (unsigned char)level;
	alog_put_be64(key + 1, k);
}

static int read_node(struct alog_store *s, MDB_txn *txn, unsigned level,
		     uint64_t k, unsigned char out[ALOG_HASH_LEN],
		     struct alog_err *err)
{
	unsigned char key[9];
	const void *v;
	size_t len;
	int rc;

	node_key(level, k, key);
	rc = get_checked(txn, s->dbi_nodes, "nodes", key, 9, &v, &len, err);
	if (rc == ALOG_ENOTFOUND)
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "index table 'nodes': node level %u index %" PRIu64
				  " is missing", level, k);
	if (rc == 0 && len != ALOG_HASH_LEN)
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "index table 'nodes': value of %zu bytes", len);
	if (rc == 0)
		memcpy(out, v, ALOG_HASH_LEN);
	return rc;
}

/* alog_merkle_subtree_fn over the store. */
static int store_subtree(void *ctx, unsigned level, uint64_t k,
			 unsigned char out[ALOG_HASH_LEN], struct alog_err *err)
{
	struct alog_store *s = ctx;
	uint64_t gk;
	int rc;

	if (level >= s->node_level) {
		MDB_txn *txn;

		if (s->proof_txn)
			return read_node(s, s->proof_txn, level, k, out, err);
		rc = txn_begin(s, 0, &txn, err);
		if (rc < 0)
			return rc;
		rc = read_node(s, txn, level, k, out, err);
		mdb_txn_abort(txn);
		return rc;
	}
	gk = (k << level) >> s->node_level;
	rc = load_group(s, gk, err);
	if (rc < 0)
		return rc;
	k -= gk << (s->node_level - level);
	if (((k + 1) << level) > s->group_n)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "subtree level %u of group %" PRIu64
				    " is past the records read", level, gk);
	memcpy(out, s->group[group_off(level) + k], ALOG_HASH_LEN);
	return 0;
}

/* One read transaction for all the subtrees of one proof or root. */
static int proof_txn_begin(struct alog_store *s, struct alog_err *err)
{
	return txn_begin(s, 0, &s->proof_txn, err);
}

static void proof_txn_end(struct alog_store *s)
{
	mdb_txn_abort(s->proof_txn);
	s->proof_txn = NULL;
}

static int rebuild_range(struct alog_store *s, struct alog_err *err)
{
	uint64_t pos = 0;
	int rc;

	memset(&s->range, 0, sizeof(s->range));
	for (int l = 63; l >= 0; l--) {
		if (!(s->size >> l & 1))
			continue;
		rc = store_subtree(s, (unsigned)l, pos >> l,
				   s->range.hash[s->range.n], err);
		if (rc < 0) {
			alog_err_prefix(err, "rebuilding the tree of size %" PRIu64,
					s->size);
			return rc;
		}
		s->range.level[s->range.n++] = (unsigned char)l;
		pos += (uint64_t)1 << l;
	}
	s->range.size = s->size;
	return 0;
}

int alog_store_root_at(struct alog_store *s, uint64_t size,
		       unsigned char out[ALOG_HASH_LEN], struct alog_err *err)
{
	int rc;

	if (size > s->size)
		return alog_err_set(err, ALOG_EINVAL,
				    "tree size %" PRIu64 " is larger than the log (%" PRIu64 ")",
				    size, s->size);
	if (size == s->size && s->range_bad) {
		if (err)
			*err = s->range_err;
		return s->range_err.code ? s->range_err.code : ALOG_ECORRUPT;
	}
	if (size == s->size) {
		alog_store_root(s, out);
		return 0;
	}
	rc = proof_txn_begin(s, err);
	if (rc < 0)
		return rc;
	rc = alog_merkle_root(store_subtree, s, s->hasher, size, out, err);
	proof_txn_end(s);
	return rc;
}

int alog_store_leaf_hash(struct alog_store *s, uint64_t index,
			 unsigned char out[ALOG_HASH_LEN], struct alog_err *err)
{
	if (index >= s->size)
		return alog_err_set(err, ALOG_EINVAL,
				    "index %" PRIu64 " is not in the log of %" PRIu64
				    " records", index, s->size);
	return store_subtree(s, 0, index, out, err);
}

int alog_store_prove_inclusion(struct alog_store *s, uint64_t index,
			       uint64_t size,
			       unsigned char proof[][ALOG_HASH_LEN],
			       size_t *n_proof, struct alog_err *err)
{
	int rc;

	if (size > s->size || index >= size)
		return alog_err_set(err, ALOG_EINVAL,
				    "index %" PRIu64 " is not in a tree of size %" PRIu64
				    " (the log has %" PRIu64 " records)",
				    index, size, s->size);
	rc = proof_txn_begin(s, err);
	if (rc < 0)
		return rc;
	rc = alog_merkle_prove_inclusion(store_subtree, s, s->hasher, index,
					 size, proof, n_proof, err);
	proof_txn_end(s);
	return rc;
}

int alog_store_prove_consistency(struct alog_store *s, uint64_t old_size,
				 uint64_t new_size,
				 unsigned char proof[][ALOG_HASH_LEN],
				 size_t *n_proof, struct alog_err *err)
{
	int rc;

	if (old_size > new_size || new_size > s->size)
		return alog_err_set(err, ALOG_EINVAL,
				    "need old size <= new size <= %" PRIu64
				    " (got %" PRIu64 " and %" PRIu64 ")",
				    s->size, old_size, new_size);
	rc = proof_txn_begin(s, err);
	if (rc < 0)
		return rc;
	rc = alog_merkle_prove_consistency(store_subtree, s, s->hasher,
					   old_size, new_size, proof, n_proof,
					   err);
	proof_txn_end(s);
	return rc;
}

/* ---- append ------------------------------------------------------- */

struct closed_seg {
	uint32_t id;
	uint64_t first_index;
	uint64_t end;
};

static int collect_node(void *ctx, unsigned level, uint64_t k,
			const unsigned char hash[ALOG_HASH_LEN])
{
	struct alog_store *s = ctx;

	if (level < s->node_level)
		return 0;
	if (s->n_nodes == s->cap_nodes) {
		size_t cap = s->cap_nodes ? 2 * s->cap_nodes : 64;
		struct pending_node *p = realloc(s->nodes, cap * sizeof(*p));

		if (!p)
			return ALOG_ENOMEM;
		s->nodes = p;
		s->cap_nodes = cap;
	}
	node_key(level, k, s->nodes[s->n_nodes].key);
	memcpy(s->nodes[s->n_nodes].hash, hash, ALOG_HASH_LEN);
	s->n_nodes++;
	return 0;
}

/* Start segment id at first_index as the writer's current one. A file of
 * that id can only be left from a batch that never committed. */
static int start_segment(struct alog_store *s, uint32_t id,
			 uint64_t first_index, struct alog_err *err)
{
	char name[16];
	int dfd;

	snprintf(name, sizeof(name), "%08" PRIu32 ".seg", id);
	dfd = open(s->seg_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)unlinkat(dfd, name, 0);
		close(dfd);
	}
	return alog_segment_create(s->seg_dir, id, first_index, &s->cur, err);
}

/* After a failed append: make the writer's segment end at its committed
 * end again, or give it up when abandon is set (a failed sync is never
 * retried; SPEC.md 8). A segment the batch started holds nothing
 * committed: it is dropped, and its file is removed by the next start or
 * open. */
static void writer_reset(struct alog_store *s, int abandon)
{
	if (s->cur && alog_segment_id(s->cur) != s->seg_id) {
		alog_segment_close(s->cur);
		s->cur = NULL;
	}
	if (abandon)
		s->abandoned = 1;
	if (!s->cur) {
		/* Closed by a rotation in this batch, after a good sync. */
		if (s->abandoned ||
		    alog_segment_open(s->seg_dir, s->seg_id, 1, &s->cur,
				      NULL) < 0) {
			s->cur = NULL;
			s->abandoned = 1;
			return;
		}
	}
	if (s->abandoned ||
	    alog_segment_truncate(s->cur, s->seg_end, NULL) < 0) {
		alog_segment_close(s->cur);
		s->cur = NULL;
		s->abandoned = 1; /* the next append starts a new segment */
	}
}

static int put_blocks(struct alog_store *s, MDB_txn *txn,
		      const struct blockloc *b, struct alog_err *err)
{
	unsigned char k[16], v[BLOCKVAL_LEN];
	int rc;

	alog_put_be64(k, b->first_index);
	alog_put_be32(v, b->seg_id);
	alog_put_be64(v + 4, b->offset);
	alog_put_be32(v + 12, b->disk_len);
	alog_put_be32(v + 16, b->n);
	alog_put_be64(v + 20, (uint64_t)b->first_received);
	rc = put_checked(txn, s->dbi_blocks, k, 8, v, sizeof(v), MDB_APPEND,
			 err);
	if (rc < 0)
		return rc;
	/* times: received with the sign bit flipped, so keys sort in time
	 * order, then the first index. */
	alog_put_be64(k, (uint64_t)b->first_received ^ (UINT64_C(1) << 63));
	alog_put_be64(k + 8, b->first_index);
	return put_checked(txn, s->dbi_times, k, 16, "", 0, 0, err);
}

/* ---- replay progress (SPEC.md "LMDB layout", table replays) ---------- */

#define REPLAY_VAL_LEN 40

static int put_replay(struct alog_store *s, MDB_txn *txn, struct alog_err *err)
{
	unsigned char v[REPLAY_VAL_LEN];

	alog_put_be64(v, s->replay_val.line);
	alog_put_be64(v + 8, s->replay_val.imported);
	alog_put_be64(v + 16, s->replay_val.duplicates);
	alog_put_be64(v + 24, s->replay_val.conflicts);
	alog_put_be64(v + 32, s->replay_val.refused);
	return put_checked(txn, s->dbi_replays, s->replay_key,
			   ALOG_STORE_REPLAY_KEY_LEN, v, sizeof(v), 0, err);
}

/* A batch with no record (every line a duplicate, say) still moves the
 * replay's progress: one transaction with that alone. */
static int commit_replay_only(struct alog_store *s, struct alog_err *err)
{
	MDB_txn *txn = NULL;
	int rc;

	rc = txn_begin(s, 1, &txn, err);  /* grows the map first */
	if (rc == 0)
		rc = put_replay(s, txn, err);
	if (rc == 0) {
		rc = txn_commit(txn, err);
		txn = NULL;
		if (rc < 0)
			s->failed = 1; /* its outcome is unknown: reopen */
	}
	if (txn)
		mdb_txn_abort(txn);
	s->replay_staged = 0; /* with this commit or not at all */
	return rc;
}

int alog_store_replay_stage(struct alog_store *s,
			    const char key[ALOG_STORE_REPLAY_KEY_LEN],
			    const struct alog_store_replay *r,
			    struct alog_err *err)
{
	if (s->mode != ALOG_STORE_WRITE || !s->has_replays)
		return alog_err_set(err, ALOG_ESTATE,
				    "store '%s' is open read-only: no replay progress",
				    s->dir);
	memcpy(s->replay_key, key, ALOG_STORE_REPLAY_KEY_LEN);
	s->replay_val = *r;
	s->replay_staged = 1;
	return 0;
}

int alog_store_replay_get(struct alog_store *s,
			  const char key[ALOG_STORE_REPLAY_KEY_LEN],
			  struct alog_store_replay *out, struct alog_err *err)
{
	MDB_txn *txn = NULL;
	const void *v;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s->has_replays)
		return alog_err_set(err, ALOG_ENOTFOUND, "no replay recorded");
	rc = txn_begin(s, 0, &txn, err);
	if (rc < 0)
		return rc;
	rc = get_checked(txn, s->dbi_replays, "replays", key,
			 ALOG_STORE_REPLAY_KEY_LEN, &v, &len, err);
	if (rc == 0 && len != REPLAY_VAL_LEN)
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "index table 'replays': value of %zu bytes",
				  len);
	if (rc == 0) {
		const unsigned char *p = v;

		out->line = alog_get_be64(p);
		out->imported = alog_get_be64(p + 8);
		out->duplicates = alog_get_be64(p + 16);
		out->conflicts = alog_get_be64(p + 24);
		out->refused = alog_get_be64(p + 32);
	}
	mdb_txn_abort(txn);
	return rc;
}

struct keyref {
	const unsigned char *key;
	uint64_t index;
	uint64_t hi, lo;    /* the key's halves, big-endian: the key's byte
			     * order is the order of (hi, lo) */
};

static void keyref_set(struct keyref *r, const unsigned char *key,
		       uint64_t index)
{
	r->key = key;
	r->index = index;
	r->hi = alog_get_be64(key);
	r->lo = alog_get_be64(key + 8);
}

static int keyref_before(const struct keyref *a, const struct keyref *b,
			 int by_index)
{
	if (by_index)
		return a->index < b->index;
	return a->hi < b->hi || (a->hi == b->hi && a->lo < b->lo);
}

static int keyref_same(const struct keyref *a, const struct keyref *b)
{
	return a->hi == b->hi && a->lo == b->lo;
}

/* Sort v[0..n) by key, or by index; tmp holds n. A merge sort with the
 * comparison inline: a batch's keys are sorted once per commit, and
 * qsort's call of memcmp per comparison was most of that cost. Runs
 * already in order (a producer's UUIDv7 ids are in time order) cost one
 * comparison per key. */
static void sort_keyrefs(struct keyref *v, struct keyref *tmp, size_t n,
			 int by_index)
{
	enum { RUN = 16 };
	struct keyref *src = v, *dst = tmp, *t;
	size_t i = 1;

	while (i < n && !keyref_before(&v[i], &v[i - 1], by_index))
		i++;
	if (i >= n)
		return;
	/* insertion sort of each run of RUN */
	for (size_t lo = 0; lo < n; lo += RUN) {
		size_t hi = lo + RUN < n ? lo + RUN : n;

		for (i = lo + 1; i < hi; i++) {
			struct keyref x = v[i];
			size_t j = i;

			for (; j > lo && keyref_before(&x, &v[j - 1], by_index);
			     j--)
				v[j] = v[j - 1];
			v[j] = x;
		}
	}
	for (size_t w = RUN; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t a = lo, b = mid, o = lo;

			if (mid == hi ||
			    !keyref_before(&src[mid], &src[mid - 1], by_index)) {
				/* one run, or two already in order */
				memcpy(dst + lo, src + lo, (hi - lo) * sizeof(*v));
				continue;
			}
			while (a < mid && b < hi)
				dst[o++] = keyref_before(&src[b], &src[a],
							 by_index) ?
					src[b++] : src[a++];
			memcpy(dst + o, src + a, (mid - a) * sizeof(*v));
			o += mid - a;
			memcpy(dst + o, src + b, (hi - b) * sizeof(*v));
		}
		t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

/* The last key of table ids into last (*have 0 when it is empty). */
static int ids_last(struct alog_store *s, MDB_txn *txn,
		    unsigned char last[ALOG_STORE_ID_KEY_LEN], int *have,
		    struct alog_err *err)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int mrc;

	*have = 0;
	mrc = mdb_cursor_open(txn, s->dbi_ids, &cur);
	if (mrc)
		return db_fail(err, mrc, "open cursor");
	mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (mrc == MDB_NOTFOUND)
		return 0;
	if (mrc)
		return db_fail(err, mrc, "read ids");
	if (k.mv_size != ALOG_STORE_ID_KEY_LEN)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "index table 'ids': a key of %zu bytes",
				    k.mv_size);
	memcpy(last, k.mv_data, ALOG_STORE_ID_KEY_LEN);
	*have = 1;
	return 0;
}

/* ids_recent merged into ids, in key order (SPEC.md 7 "Recent ids"). */
static int merge_recent(struct alog_store *s, MDB_txn *txn,
			struct alog_err *err)
{
	size_t cap = s->recent.n ? s->recent.n : 1;
	struct keyref *v = malloc(2 * cap * sizeof(*v));  /* and the sort's */
	unsigned char last[ALOG_STORE_ID_KEY_LEN];
	int have_last;
	size_t k = 0;
	int rc = 0, mrc;

	if (!v)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	for (size_t i = 0; i < s->recent.cap; i++)
		if (s->recent.slot[i].idx) {
			keyref_set(&v[k], s->recent.slot[i].key,
				   s->recent.slot[i].idx - 1);
			k++;
		}
	sort_keyrefs(v, v + cap, k, 0);
	rc = ids_last(s, txn, last, &have_last, err);
	for (size_t i = 0; i < k && rc == 0; i++) {
		unsigned char val[8];
		/* after the table's last key: appended, pages left full */
		int append = !have_last || memcmp(v[i].key, last,
						  ALOG_STORE_ID_KEY_LEN) > 0;

		alog_put_be64(val, v[i].index);
		rc = put_checked(txn, s->dbi_ids, v[i].key,
				 ALOG_STORE_ID_KEY_LEN, val, 8,
				 MDB_NOOVERWRITE | (append ? MDB_APPEND : 0),
				 err);
		if (rc == 0 && append) {
			memcpy(last, v[i].key, ALOG_STORE_ID_KEY_LEN);
			have_last = 1;
		}
		if (rc == ALOG_ECONFLICT)
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "index tables 'ids' and 'ids_recent' both hold the key of record %" PRIu64,
					  v[i].index);
	}
	free(v);
	if (rc == 0 && (mrc = mdb_drop(txn, s->dbi_recent, 0)) != 0)
		rc = db_fail(err, mrc, "empty ids_recent");
	return rc;
}

/* The batch's id keys (SPEC.md 7 "Where a batch's keys go"): refused when
 * stored already or twice in the batch; those after the last key of ids
 * appended to it in key order, the others into ids_recent (merged into
 * ids first when they would overfill it: *merged set). s->staged gets the
 * keys put into ids_recent, for the writer's map once the batch
 * commits. */
static int put_ids(struct alog_store *s, MDB_txn *txn,
		   const struct alog_store_rec *recs, size_t n, int *merged,
		   struct alog_err *err)
{
	unsigned char last[ALOG_STORE_ID_KEY_LEN];
	struct keyref *v;
	size_t k = 0, j = 0;
	int rc = 0, have_last = 0;

	*merged = 0;
	s->n_staged = 0;
	s->pend_set = 0;
	for (size_t i = 0; i < n; i++)
		k += recs[i].id_key != NULL;
	if (k == 0)
		return 0;
	if (k > s->cap_staged) {
		/* the keys, then room for the sort's merges */
		v = realloc(s->staged, 2 * k * sizeof(*v));
		if (!v)
			return alog_err_set(err, ALOG_ENOMEM, "out of memory");
		s->staged = v;
		s->cap_staged = k;
	}
	v = s->staged;
	k = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint64_t old;

		if (!recs[i].id_key)
			continue;
		keyref_set(&v[k++], recs[i].id_key, i);
		if (idmap_get(&s->recent, recs[i].id_key, &old))
			rc = ALOG_ECONFLICT;
		else if (after_ids_end(s, recs[i].id_key))
			rc = 0;
		else if ((rc = ids_get(s, txn, recs[i].id_key, &old,
				       err)) == 0)
			rc = ALOG_ECONFLICT;
		else if (rc == ALOG_ENOTFOUND)
			rc = 0;
		if (rc == ALOG_ECONFLICT)
			alog_err_set(err, ALOG_ECONFLICT,
				     "record %zu of the batch: its (source, id) is stored already",
				     i);
	}
	if (rc < 0)
		return rc;
	/* in key order: twice in the batch is two neighbours */
	sort_keyrefs(v, v + s->cap_staged, k, 0);
	for (size_t i = 1; i < k; i++)
		if (keyref_same(&v[i - 1], &v[i]))
			return alog_err_set(err, ALOG_ECONFLICT,
					    "record %" PRIu64 " of the batch: its (source, id) came earlier in the batch",
					    v[i - 1].index > v[i].index ?
					    v[i - 1].index : v[i].index);
	/* the writer's copy of ids' last key (read again after a merge) */
	have_last = !s->ids_empty;
	memcpy(last, s->ids_end, ALOG_STORE_ID_KEY_LEN);
	for (int pass = 0; pass < 2; pass++) {
		/* v[0..j): not after the last key of ids, to ids_recent */
		if (pass || !s->ids_end_known) {
			rc = ids_last(s, txn, last, &have_last, err);
			if (rc < 0)
				return rc;
		}
		for (j = 0; j < k && have_last &&
		     memcmp(v[j].key, last, ALOG_STORE_ID_KEY_LEN) <= 0;
		     j++)
			;
		if (pass || !j || s->recent.n + j <= s->recent_max)
			break;
		/* a merge moves the table's last key: split again */
		rc = merge_recent(s, txn, err);
		if (rc < 0)
			return rc;
		*merged = 1;
	}
	for (size_t i = j; i < k && rc == 0; i++) {
		unsigned char val[8];

		alog_put_be64(val, s->size + v[i].index);
		rc = put_checked(txn, s->dbi_ids, v[i].key,
				 ALOG_STORE_ID_KEY_LEN, val, 8,
				 MDB_NOOVERWRITE | MDB_APPEND, err);
	}
	/* the table's last key once this commits */
	s->pend_set = rc == 0;
	s->pend_empty = j == k && !have_last;
	if (j < k)
		memcpy(s->pend_end, v[k - 1].key, ALOG_STORE_ID_KEY_LEN);
	else if (have_last)
		memcpy(s->pend_end, last, ALOG_STORE_ID_KEY_LEN);
	/* the staged keys, in index order for ids_recent's appends; the
	 * map is emptied after a merge before they go in */
	s->n_staged = j;
	sort_keyrefs(v, v + s->cap_staged, j, 1);
	if (rc == 0 && idmap_reserve(&s->recent,
				     (*merged ? 0 : s->recent.n) + j) < 0)
		rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
	for (size_t i = 0; i < j && rc == 0; i++) {
		unsigned char key[8];

		alog_put_be64(key, s->size + v[i].index);
		rc = put_checked(txn, s->dbi_recent, key, 8, v[i].key,
				 ALOG_STORE_ID_KEY_LEN, MDB_APPEND, err);
	}
	return rc;
}

/* The batch's leaves into the tree (nodes it completes collected). */
static int hash_records(struct alog_store *s, const struct alog_store_rec *recs,
			size_t n, struct alog_err *err)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char leaf[ALOG_HASH_LEN];
		int rc = 0;

		if (recs[i].leaf)
			memcpy(leaf, recs[i].leaf, ALOG_HASH_LEN);
		else
			rc = alog_merkle_leaf(s->hasher, recs[i].data,
					      recs[i].len, leaf);
		if (rc == 0)
			rc = alog_merkle_range_push(&s->range, s->hasher, leaf,
						    collect_node, s, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* One block of a batch: records [start, end) and their encoded block
 * (data, len: in enc, or the caller's for alog_store_append_encoded). */
struct batch_block {
	size_t start, end;
	struct alog_buf enc;
	const unsigned char *data;
	size_t len;
};

/* Frame recs into blocks of about ALOG_BLOCK_TARGET bytes (at most
 * ALOG_BLOCK_RECORDS_MAX records); returns how many (bb has room for n). */
static size_t frame_blocks(const struct alog_store_rec *recs, size_t n,
			   struct batch_block *bb)
{
	size_t nb = 0, i = 0;

	while (i < n) {
		size_t start = i, len = 0;

		while (i < n) {
			len += recs[i].len + 1;
			i++;
			if (len >= ALOG_BLOCK_TARGET ||
			    i - start >= ALOG_BLOCK_RECORDS_MAX)
				break;
		}
		bb[nb].start = start;
		bb[nb++].end = i;
	}
	return nb;
}

/* Encode the blocks of bb taken in turn from *next until none is left
 * (two threads share the work this way); a failure stops both. */
static int encode_blocks(struct alog_store *s, struct alog_codec *codec,
			 struct alog_buf *payload,
			 const struct alog_store_rec *recs,
			 struct batch_block *bb, size_t nb,
			 atomic_size_t *next, struct alog_err *err)
{
	for (;;) {
		size_t j = atomic_fetch_add(next, 1);
		struct batch_block *b = &bb[j];
		int rc = 0;

		if (j >= nb)
			return 0;
		alog_buf_reset(payload);
		for (size_t i = b->start; i < b->end && rc == 0; i++)
			if (alog_buf_add(payload, recs[i].data, recs[i].len,
					 NULL) < 0 ||
			    alog_buf_addc(payload, '\n', NULL) < 0)
				rc = alog_err_set(err, ALOG_ELIMIT,
						  "block payload limit");
		alog_buf_reset(&b->enc);
		if (rc == 0)
			rc = alog_block_encode(codec, s->size + b->start,
					       (uint32_t)(b->end - b->start),
					       recs[b->start].received_us,
					       payload->data, payload->len,
					       &b->enc, err);
		if (rc < 0) {
			atomic_store(next, nb);
			return rc;
		}
		b->data = b->enc.data;
		b->len = b->enc.len;
	}
}

/* The caller's blocks must be the ones frame_blocks made of the batch
 * (bb), each header true to its records. */
static int take_blocks(const struct alog_store *s,
		       const struct alog_store_rec *recs,
		       const struct alog_store_block *blocks, size_t nb_given,
		       struct batch_block *bb, size_t nb, struct alog_err *err)
{
	if (nb_given != nb)
		return alog_err_set(err, ALOG_EINVAL,
				    "the batch's %zu records make %zu blocks, not %zu",
				    bb[nb - 1].end, nb, nb_given);
	for (size_t j = 0; j < nb; j++) {
		const struct alog_store_block *g = &blocks[j];
		struct alog_block_header h;
		uint64_t raw = 0;
		struct alog_err herr;

		if (g->start != bb[j].start || g->end != bb[j].end)
			return alog_err_set(err, ALOG_EINVAL,
					    "block %zu of the batch holds records %zu..%zu, not %zu..%zu",
					    j, g->start, g->end, bb[j].start,
					    bb[j].end);
		for (size_t i = g->start; i < g->end; i++)
			raw += recs[i].len + 1;
		if (alog_block_header_decode(g->data, g->len, &h, &herr) < 0 ||
		    h.first_index != s->size + g->start ||
		    h.n_records != g->end - g->start || h.raw_len != raw ||
		    h.first_received != recs[g->start].received_us ||
		    (uint64_t)h.comp_len + ALOG_BLOCK_HEADER_LEN != g->len)
			return alog_err_set(err, ALOG_EINVAL,
					    "block %zu of the batch: its header does not match its records",
					    j);
		bb[j].data = g->data;
		bb[j].len = g->len;
	}
	return 0;
}

/* A large batch's second thread: it hashes the leaves into the tree,
 * then encodes blocks beside the appending thread (none when the caller
 * encoded them: the appending thread writes them meanwhile). Until the
 * appending thread joins it, the tree, its hasher and the collected nodes
 * are this thread's (the appending thread touches the segments, its own
 * codec and payload, and blocks that it took from the shared counter). */
struct batch_job {
	struct alog_store *s;
	const struct alog_store_rec *recs;
	size_t n;
	struct batch_block *bb;
	size_t nb;
	atomic_size_t next;
	int rc;
	struct alog_err err;
};

static void *batch_run(void *arg)
{
	struct batch_job *j = arg;

	j->rc = hash_records(j->s, j->recs, j->n, &j->err);
	if (j->rc < 0)
		atomic_store(&j->next, j->nb);
	else
		j->rc = encode_blocks(j->s, j->s->codec2, &j->s->payload2,
				      j->recs, j->bb, j->nb, &j->next,
				      &j->err);
	return NULL;
}

/* Wait for the batch thread; its failure, if any. */
static int batch_join(pthread_t t, struct batch_job *job,
		      struct alog_err *err)
{
	pthread_join(t, NULL);
	if (job->rc < 0 && err)
		*err = job->err;
	return job->rc < 0 ? job->rc : 0;
}

/* Append recs; given (nb_given blocks) when the caller encoded them,
 * else NULL. */
static int append(struct alog_store *s, const struct alog_store_rec *recs,
		  size_t n, const struct alog_store_block *given,
		  size_t nb_given, struct alog_err *err)
{
	struct batch_job job = { .s = s, .recs = recs, .n = n };
	struct batch_block *bb = NULL;
	size_t nb = 0;
	pthread_t batch_thread;
	int hashing = 0;
	struct alog_merkle_range saved;
	struct blockloc *blocks = NULL;
	struct closed_seg *closed = NULL;
	size_t n_blocks = 0, n_closed = 0;
	int64_t last = s->last_received;
	int sync_failed = 0, wrote = 0, commit_failed = 0, merged = 0;
	MDB_txn *txn = NULL;
	int rc = 0;

	if (s->mode != ALOG_STORE_WRITE)
		return alog_err_set(err, ALOG_ESTATE, "store is open read-only");
	if (s->failed)
		return alog_err_set(err, ALOG_ESTATE,
				    "an earlier commit failed: reopen the store");
	if (n == 0)
		return s->replay_staged ? commit_replay_only(s, err) : 0;
	for (size_t i = 0; i < n; i++) {
		if (recs[i].len == 0 || recs[i].len > ALOG_STORE_RECORD_MAX ||
		    memchr(recs[i].data, '\n', recs[i].len))
			return alog_err_set(err, ALOG_EINVAL,
					    "record %zu of the batch: empty, longer than %u bytes, or holds a newline",
					    i, ALOG_STORE_RECORD_MAX);
		if (recs[i].received_us < last)
			return alog_err_set(err, ALOG_EINVAL,
					    "record %zu of the batch: received time goes backwards",
					    i);
		last = recs[i].received_us;
	}
	blocks = calloc(n, sizeof(*blocks));
	bb = calloc(n, sizeof(*bb));
	if (!blocks || !bb) {
		free(blocks);
		free(bb);
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	}
	nb = frame_blocks(recs, n, bb);
	if (given) {
		rc = take_blocks(s, recs, given, nb_given, bb, nb, err);
		if (rc < 0) {
			free(blocks);
			free(bb);
			return rc;
		}
	}
	atomic_init(&job.next, given ? nb : 0);
	job.bb = bb;
	job.nb = nb;
	memcpy(&saved, &s->range, sizeof(saved));
	s->n_nodes = 0;
	if (n >= HASH_THREAD_MIN &&
	    pthread_create(&batch_thread, NULL, batch_run, &job) == 0) {
		hashing = 1;
	} else {
		rc = hash_records(s, recs, n, err);
		if (rc < 0)
			goto out;
	}
	rc = encode_blocks(s, s->codec, &s->payload, recs, bb, nb, &job.next,
			   err);
	if (rc < 0)
		goto out;
	/* blocks the batch thread encodes must be done before they are
	 * written; when the caller encoded them, its hashing goes on beside
	 * the writes and syncs */
	if (hashing && !given) {
		hashing = 0;
		rc = batch_join(batch_thread, &job, err);
		if (rc < 0)
			goto out;
	}

	if (!s->cur) {
		rc = start_segment(s, s->seg_id + 1, s->size, err);
		if (rc < 0)
			goto out;
	}
	/* Write the blocks; rotate when a block would pass segment_max. */
	for (size_t j = 0; j < nb; j++) {
		size_t start = bb[j].start;
		struct blockloc *b;

		if (alog_segment_size(s->cur) + bb[j].len > s->segment_max &&
		    alog_segment_size(s->cur) > ALOG_SEGMENT_HEADER_LEN) {
			{
				struct closed_seg *c = realloc(closed,
					(n_closed + 1) * sizeof(*closed));

				if (!c) {
					rc = alog_err_set(err, ALOG_ENOMEM,
							  "out of memory");
					goto out;
				}
				closed = c;
			}
			rc = alog_segment_sync(s->cur, err);
			if (rc < 0) {
				sync_failed = 1;
				goto out;
			}
			closed[n_closed].id = alog_segment_id(s->cur);
			closed[n_closed].first_index =
				alog_segment_first_index(s->cur);
			closed[n_closed].end = alog_segment_size(s->cur);
			n_closed++;
			/* writer_reset reopens the committed one if the
			 * batch fails. */
			alog_segment_close(s->cur);
			s->cur = NULL;
			rc = start_segment(s, closed[n_closed - 1].id + 1,
					   s->size + start, err);
			if (rc < 0)
				goto out;
		}
		b = &blocks[n_blocks++];
		b->first_index = s->size + start;
		b->seg_id = alog_segment_id(s->cur);
		b->disk_len = (uint32_t)bb[j].len;
		b->n = (uint32_t)(bb[j].end - start);
		b->first_received = recs[start].received_us;
		wrote = 1;
		rc = alog_segment_write(s->cur, bb[j].data, bb[j].len,
					&b->offset, err);
		if (rc < 0)
			goto out;
	}
	rc = alog_segment_sync(s->cur, err);
	if (rc < 0) {
		sync_failed = 1;
		goto out;
	}
	if (hashing) {
		hashing = 0;
		rc = batch_join(batch_thread, &job, err);
		if (rc < 0)
			goto out;
	}

	/* the look-ups' transaction is reset under the lock they hold, the
	 * write begins outside it (LMDB's writer lock, then ids_mu, is the
	 * one order: put_ids below) */
	pthread_mutex_lock(&s->ids_mu);
	rc = txn_prepare(s, 1, err);
	pthread_mutex_unlock(&s->ids_mu);
	if (rc == 0)
		rc = txn_begin_prepared(s, 1, &txn, err);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < n_blocks && rc == 0; i++)
		rc = put_blocks(s, txn, &blocks[i], err);
	if (rc == 0) {
		pthread_mutex_lock(&s->ids_mu);
		rc = put_ids(s, txn, recs, n, &merged, err);
		pthread_mutex_unlock(&s->ids_mu);
	}
	for (size_t i = 0; i < s->n_nodes && rc == 0; i++)
		rc = put_checked(txn, s->dbi_nodes, s->nodes[i].key, 9,
				 s->nodes[i].hash, ALOG_HASH_LEN, 0, err);
	for (size_t i = 0; i < n_closed && rc == 0; i++) {
		unsigned char sk[4], sv[SEGVAL_LEN];

		alog_put_be32(sk, closed[i].id);
		alog_put_be64(sv, closed[i].first_index);
		alog_put_be64(sv + 8, closed[i].end);
		rc = put_checked(txn, s->dbi_segs, sk, 4, sv, sizeof(sv), 0, err);
	}
	if (rc < 0)
		goto out;
	{
		uint64_t old_size = s->size, old_end = s->seg_end;
		uint32_t old_id = s->seg_id;
		int64_t old_last = s->last_received;

		/* ids_get reads size beside an append */
		pthread_mutex_lock(&s->ids_mu);
		s->size += n;
		pthread_mutex_unlock(&s->ids_mu);
		s->last_received = last;
		s->seg_id = alog_segment_id(s->cur);
		s->seg_end = alog_segment_size(s->cur);
		uint64_t old_first = s->seg_first;

		s->seg_first = alog_segment_first_index(s->cur);
		rc = put_state(s, txn, err);
		if (rc == 0 && s->replay_staged)
			rc = put_replay(s, txn, err);
		if (rc == 0) {
			rc = txn_commit(txn, err);
			txn = NULL;
			/* A failed commit may still have reached the disk:
			 * cut nothing, write this segment no more, and make
			 * the caller reopen (open settles what is
			 * committed). */
			commit_failed = rc < 0;
		}
		if (rc < 0) {
			s->seg_first = old_first;
			pthread_mutex_lock(&s->ids_mu);
			s->size = old_size;
			pthread_mutex_unlock(&s->ids_mu);
			s->seg_end = old_end;
			s->seg_id = old_id;
			s->last_received = old_last;
			goto out;
		}
		if (s->group_k != UINT64_MAX &&
		    s->group_k >= old_size >> s->node_level)
			s->group_k = UINT64_MAX;
		s->abandoned = 0;
		s->replay_staged = 0;
		/* the batch's keys are committed: now the writer's copy
		 * (put_ids made room: these puts do not allocate), and the
		 * look-ups' snapshot is old */
		pthread_mutex_lock(&s->ids_mu);
		if (merged)
			idmap_clear(&s->recent);
		if (s->pend_set) {
			s->ids_empty = s->pend_empty;
			memcpy(s->ids_end, s->pend_end, ALOG_STORE_ID_KEY_LEN);
		}
		for (size_t i = 0; i < s->n_staged; i++)
			(void)idmap_put(&s->recent, s->staged[i].key,
					old_size + s->staged[i].index);
		id_txn_reset(s);
		pthread_mutex_unlock(&s->ids_mu);
	}
out:
	if (hashing)  /* the tree is the batch thread's until it ends */
		pthread_join(batch_thread, NULL);
	for (size_t j = 0; j < nb; j++)
		alog_buf_release(&bb[j].enc);
	free(bb);
	if (txn)
		mdb_txn_abort(txn);
	if (rc < 0) {
		/* staged progress goes with this batch or not at all */
		s->replay_staged = 0;
		memcpy(&s->range, &saved, sizeof(saved));
		if (commit_failed)
			s->failed = 1;
		if (wrote || n_closed || commit_failed)
			writer_reset(s, sync_failed || commit_failed);
	}
	free(closed);
	free(blocks);
	return rc;
}

int alog_store_append(struct alog_store *s, const struct alog_store_rec *recs,
		      size_t n, struct alog_err *err)
{
	return append(s, recs, n, NULL, 0, err);
}

int alog_store_append_encoded(struct alog_store *s,
			      const struct alog_store_rec *recs, size_t n,
			      const struct alog_store_block *blocks, size_t nb,
			      struct alog_err *err)
{
	if (n && !blocks)
		return alog_err_set(err, ALOG_EINVAL, "no blocks given");
	return append(s, recs, n, blocks, nb, err);
}

uint32_t alog_store_format(const struct alog_store *s)
{
	return s->format;
}

void alog_store_set_ids_recent_max(struct alog_store *s, size_t n)
{
	s->recent_max = n;
}

int alog_store_failed(const struct alog_store *s)
{
	return s->failed;
}

void alog_store_test_fail_next_sync(struct alog_store *s)
{
	if (s->cur)
		alog_segment_test_fail_next_sync(s->cur);
}

void alog_store_test_check_inline(struct alog_store *s, int on)
{
	s->hash_inline = on;
}

/* ---- time --------------------------------------------------------- */

struct time_scan {
	alog_store_received_fn received_of;
	int64_t t;
	uint64_t found;
	int rc;
};

static int time_scan_one(void *ctx, uint64_t index, const unsigned char *rec,
			 size_t len)
{
	struct time_scan *ts = ctx;
	int64_t r;

	ts->rc = ts->received_of(rec, len, &r);
	if (ts->rc < 0)
		return ts->rc;
	if (r >= ts->t) {
		ts->found = index;
		return 1; /* stop: not an error */
	}
	return 0;
}

int alog_store_find_time(struct alog_store *s, int64_t t_us,
			 alog_store_received_fn received_of, uint64_t *index,
			 struct alog_err *err)
{
	MDB_txn *txn;
	MDB_cursor *c = NULL;
	unsigned char kb[16];
	MDB_val k = { 16, kb }, v;
	uint64_t lo = 0, hi = s->size;
	struct time_scan ts = { received_of, t_us, UINT64_MAX, 0 };
	int rc;

	rc = txn_begin(s, 0, &txn, err);
	if (rc < 0)
		return rc;
	rc = mdb_cursor_open(txn, s->dbi_times, &c);
	if (rc) {
		rc = db_fail(err, rc, "cursor");
		goto out;
	}
	/* The answer lies in [first index of the block before the first
	 * block starting at or after t, first index of that block]. */
	alog_put_be64(kb, (uint64_t)t_us ^ (UINT64_C(1) << 63));
	alog_put_be64(kb + 8, 0);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0) {
		if (k.mv_size != 16) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "index table 'times': key of %zu bytes",
					  k.mv_size);
			goto out;
		}
		hi = alog_get_be64((unsigned char *)k.mv_data + 8);
		if (hi > s->size) /* a block appended after open */
			hi = s->size;
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	} else if (rc == MDB_NOTFOUND) {
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	}
	if (rc == 0) {
		if (k.mv_size != 16) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "index table 'times': key of %zu bytes",
					  k.mv_size);
			goto out;
		}
		lo = alog_get_be64((unsigned char *)k.mv_data + 8);
		if (lo > hi)
			lo = hi;
	} else if (rc != MDB_NOTFOUND) {
		rc = db_fail(err, rc, "cursor get");
		goto out;
	}
	rc = 0;
	mdb_cursor_close(c);
	c = NULL;
	mdb_txn_abort(txn);
	txn = NULL;
	if (lo < hi) {
		rc = alog_store_read(s, lo, hi, time_scan_one, &ts, err);
		if (rc < 0) {
			if (ts.rc < 0)
				alog_err_set(err, ts.rc,
					     "cannot read the received time of a record");
			goto out;
		}
	}
	*index = ts.found != UINT64_MAX ? ts.found : hi;
	rc = 0;
out:
	if (c)
		mdb_cursor_close(c);
	if (txn)
		mdb_txn_abort(txn);
	return rc;
}

/* ---- checkpoints -------------------------------------------------- */

void alog_store_checkpoint_release(struct alog_store_checkpoint *c)
{
	if (c)
		alog_buf_release(&c->note);
}

uint64_t alog_store_checkpoint_count(struct alog_store *s)
{
	return s->n_ckpt;
}

static int decode_checkpoint(const void *v, size_t len, uint64_t seq,
			     struct alog_store_checkpoint *out,
			     struct alog_err *err)
{
	if (len < 16 || len - 16 > ALOG_NOTE_MAX)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "index table 'checkpoints': checkpoint %" PRIu64
				    " has a bad length", seq);
	out->seq = seq;
	out->size = alog_get_be64(v);
	out->signed_us = (int64_t)alog_get_be64((const unsigned char *)v + 8);
	alog_buf_init(&out->note, ALOG_NOTE_MAX);
	return alog_buf_add(&out->note, (const unsigned char *)v + 16, len - 16,
			    err);
}

/* Checkpoint seq as txn sees it (out is zeroed first). */
static int checkpoint_get_txn(struct alog_store *s, MDB_txn *txn,
			      uint64_t seq, struct alog_store_checkpoint *out,
			      struct alog_err *err)
{
	unsigned char k[8];
	const void *v;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	alog_put_be64(k, seq);
	rc = get_checked(txn, s->dbi_ckpt, "checkpoints", k, 8, &v, &len, err);
	if (rc == ALOG_ENOTFOUND)
		alog_err_set(err, rc, "no checkpoint %" PRIu64, seq);
	if (rc == 0)
		rc = decode_checkpoint(v, len, seq, out, err);
	return rc;
}

int alog_store_checkpoint_get(struct alog_store *s, uint64_t seq,
			      struct alog_store_checkpoint *out,
			      struct alog_err *err)
{
	MDB_txn *txn;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = txn_begin(s, 0, &txn, err);
	if (rc < 0)
		return rc;
	rc = checkpoint_get_txn(s, txn, seq, out, err);
	mdb_txn_abort(txn);
	return rc;
}

int alog_store_sign_checkpoint(struct alog_store *s,
			       const struct alog_signer *signer,
			       int64_t now_us,
			       struct alog_store_checkpoint *out,
			       struct alog_err *err)
{
	struct alog_verifier v;
	struct alog_checkpoint cp;
	struct alog_buf body, val;
	unsigned char k[8];
	MDB_txn *txn = NULL;
	int rc;

	alog_buf_init(&body, ALOG_NOTE_MAX);
	alog_buf_init(&val, ALOG_NOTE_MAX + 16);
	if (s->mode != ALOG_STORE_WRITE || s->failed) {
		rc = alog_err_set(err, ALOG_ESTATE, s->failed ?
				  "an earlier commit failed: reopen the store" :
				  "store is open read-only");
		goto out;
	}
	alog_signer_verifier(signer, &v);
	if (strcmp(v.name, s->vkey.name) != 0 || v.key_id != s->vkey.key_id ||
	    memcmp(v.pub, s->vkey.pub, sizeof(v.pub)) != 0) {
		rc = alog_err_set(err, ALOG_EINVAL,
				  "the signing key '%s' is not the store's key '%s'",
				  v.name, s->vkey.name);
		goto out;
	}
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", s->origin);
	cp.size = s->size;
	alog_store_root(s, cp.root);
	rc = alog_checkpoint_format(&cp, &body, err);
	if (rc < 0)
		goto out;
	alog_put_be64(k, cp.size);
	rc = alog_buf_add(&val, k, 8, err);
	alog_put_be64(k, (uint64_t)now_us);
	if (rc == 0)
		rc = alog_buf_add(&val, k, 8, err);
	if (rc == 0)
		rc = alog_note_sign(signer, (const char *)body.data, body.len,
				    &val, err);
	if (rc < 0)
		goto out;
	rc = txn_begin(s, 1, &txn, err);
	if (rc < 0)
		goto out;
	alog_put_be64(k, s->n_ckpt);
	rc = put_checked(txn, s->dbi_ckpt, k, 8, val.data, val.len,
			 MDB_NOOVERWRITE, err);
	if (rc < 0)
		goto out;
	s->n_ckpt++;
	rc = put_state(s, txn, err);
	if (rc == 0) {
		rc = txn_commit(txn, err);
		txn = NULL;
		if (rc < 0)
			s->failed = 1;
	}
	if (rc < 0) {
		s->n_ckpt--;
		goto out;
	}
	if (out)
		rc = decode_checkpoint(val.data, val.len, s->n_ckpt - 1, out,
				       err);
out:
	if (txn)
		mdb_txn_abort(txn);
	alog_buf_release(&body);
	alog_buf_release(&val);
	return rc;
}

/* ---- full check --------------------------------------------------- */

struct check_state {
	struct alog_store *s;
	MDB_txn *txn;
	struct alog_err *err;
	uint64_t bad_node_index;
};

static int check_node(void *ctx, unsigned level, uint64_t k,
		      const unsigned char hash[ALOG_HASH_LEN])
{
	struct check_state *cs = ctx;
	unsigned char stored[ALOG_HASH_LEN];
	int rc;

	if (level < cs->s->node_level)
		return 0;
	rc = read_node(cs->s, cs->txn, level, k, stored, cs->err);
	if (rc < 0) {
		cs->bad_node_index = k << level;
		return rc;
	}
	if (memcmp(stored, hash, ALOG_HASH_LEN) != 0) {
		cs->bad_node_index = k << level;
		return alog_err_set(cs->err, ALOG_ECORRUPT,
				    "stored tree node level %u index %" PRIu64
				    " (records %" PRIu64 "..%" PRIu64
				    ") does not match the records",
				    level, k, k << level,
				    ((k + 1) << level) - 1);
	}
	return 0;
}

/* Verify checkpoint note seq and compare its size/root with the tree. */
static int check_checkpoint(struct alog_store *s,
			    const struct alog_verifier *vkey,
			    const struct alog_store_checkpoint *c,
			    const unsigned char root[ALOG_HASH_LEN],
			    struct alog_err *err)
{
	struct alog_checkpoint cp;
	int rc;

	rc = alog_checkpoint_open_note(vkey, (const char *)c->note.data,
				       c->note.len, &cp, err);
	if (rc < 0) {
		alog_err_prefix(err, "checkpoint %" PRIu64, c->seq);
		return rc;
	}
	if (cp.size != c->size || strcmp(cp.origin, s->origin) != 0)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "checkpoint %" PRIu64
				    ": signed size or origin differs from its index entry",
				    c->seq);
	if (memcmp(cp.root, root, ALOG_HASH_LEN) != 0)
		return alog_err_set(err, ALOG_EVERIFY,
				    "checkpoint %" PRIu64 " (tree size %" PRIu64
				    "): signed root does not match the records",
				    c->seq, c->size);
	return 0;
}

/* Every `times` entry below size names a block with that first received
 * time, and there is one per block (SPEC.md 7). */
static int check_times(struct alog_store *s, MDB_txn *txn, uint64_t size,
		       uint64_t n_blocks, struct alog_err *err)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t seen = 0;
	int rc, op = MDB_FIRST;

	rc = mdb_cursor_open(txn, s->dbi_times, &c);
	if (rc)
		return db_fail(err, rc, "cursor");
	while ((rc = mdb_cursor_get(c, &k, &v, (MDB_cursor_op)op)) == 0) {
		struct blockloc b;
		unsigned char bk[8];
		MDB_val kk = { 8, bk }, vv;
		uint64_t idx;
		int64_t t;
		size_t len;

		op = MDB_NEXT;
		if (k.mv_size != 16) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "index table 'times': key of %zu bytes",
					  k.mv_size);
			goto out;
		}
		rc = check_val(&k, &v, &len, "times", err);
		if (rc < 0)
			goto out;
		t = (int64_t)(alog_get_be64(k.mv_data) ^ (UINT64_C(1) << 63));
		idx = alog_get_be64((unsigned char *)k.mv_data + 8);
		if (idx >= size)
			continue; /* appended after open */
		alog_put_be64(bk, idx);
		rc = mdb_get(txn, s->dbi_blocks, &kk, &vv);
		if (rc == 0)
			rc = decode_blockloc(&kk, &vv, &b, err);
		else
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "index table 'times': entry for index %" PRIu64
					  " names no block", idx);
		if (rc == 0 && b.first_received != t)
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "index table 'times': entry for index %" PRIu64
					  " has the wrong time", idx);
		if (rc < 0)
			goto out;
		seen++;
	}
	if (rc != MDB_NOTFOUND) {
		rc = db_fail(err, rc, "cursor get");
		goto out;
	}
	rc = 0;
	if (seen != n_blocks)
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "index table 'times' has %" PRIu64
				  " entries for %" PRIu64 " blocks", seen, n_blocks);
out:
	mdb_cursor_close(c);
	return rc;
}

/* Every replays entry: key length, value CRC and length (SPEC.md 7). */
/* Every entry of an index table: a key of key_len bytes and a checked
 * value of val_len bytes (SPEC.md 7), then each's own rule (fn, may be
 * NULL). */
typedef int (*entry_fn)(struct alog_store *s, MDB_txn *txn, const char *table,
			const MDB_val *k, const MDB_val *v, uint64_t size,
			struct alog_err *err);

static int check_table(struct alog_store *s, MDB_txn *txn, MDB_dbi dbi,
		       const char *table, size_t key_len, size_t val_len,
		       entry_fn fn, uint64_t size, struct alog_err *err)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc, op = MDB_FIRST;

	rc = mdb_cursor_open(txn, dbi, &c);
	if (rc)
		return db_fail(err, rc, "cursor");
	while ((rc = mdb_cursor_get(c, &k, &v, (MDB_cursor_op)op)) == 0) {
		size_t len = 0;

		op = MDB_NEXT;
		if (k.mv_size != key_len)
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "index table '%s': key of %zu bytes",
					  table, k.mv_size);
		else if ((rc = check_val(&k, &v, &len, table, err)) == 0 &&
			 len != val_len)
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "index table '%s': value of %zu bytes",
					  table, len);
		if (rc == 0 && fn)
			rc = fn(s, txn, table, &k, &v, size, err);
		if (rc < 0)
			break;
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	else if (rc > 0)
		rc = db_fail(err, rc, "cursor get");
	mdb_cursor_close(c);
	return rc;
}

static int check_replays(struct alog_store *s, MDB_txn *txn,
			 struct alog_err *err)
{
	if (!s->has_replays)
		return 0;
	return check_table(s, txn, s->dbi_replays, "replays",
			   ALOG_STORE_REPLAY_KEY_LEN, REPLAY_VAL_LEN, NULL, 0,
			   err);
}

/* An ids or ids_recent entry (SPEC.md 7): it names a record below the
 * snapshot's tree size; an ids_recent key is not also in ids. */
static int check_id_entry(struct alog_store *s, MDB_txn *txn,
			  const char *table, const MDB_val *k,
			  const MDB_val *v, uint64_t size,
			  struct alog_err *err)
{
	int recent = k->mv_size == 8;
	uint64_t index = alog_get_be64(recent ? k->mv_data : v->mv_data);
	MDB_val ik = { ALOG_STORE_ID_KEY_LEN, v->mv_data }, iv;
	int rc;

	if (index >= size)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "index table '%s' names record %" PRIu64
				    ", past the log's %" PRIu64, table, index,
				    size);
	if (!recent)
		return 0;
	rc = mdb_get(txn, s->dbi_ids, &ik, &iv);
	if (rc == 0)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "index tables 'ids' and 'ids_recent' both hold the key of record %" PRIu64,
				    index);
	return rc == MDB_NOTFOUND ? 0 : db_fail(err, rc, "get");
}

static int check_ids(struct alog_store *s, MDB_txn *txn, struct alog_err *err)
{
	const void *v;
	size_t len;
	uint64_t size;
	int rc;

	/* the tree size of this transaction's snapshot: a writer may have
	 * appended since the store was opened */
	rc = get_checked(txn, s->dbi_meta, "meta", "state", 5, &v, &len, err);
	if (rc < 0)
		return rc;
	if (len != STATE_LEN)
		return alog_err_set(err, ALOG_ECORRUPT, "meta state of %zu bytes",
				    len);
	size = alog_get_be64(v);
	rc = check_table(s, txn, s->dbi_ids, "ids", ALOG_STORE_ID_KEY_LEN, 8,
			 check_id_entry, size, err);
	if (rc == 0 && s->has_recent)
		rc = check_table(s, txn, s->dbi_recent, "ids_recent", 8,
				 ALOG_STORE_ID_KEY_LEN, check_id_entry, size, err);
	return rc;
}

/*
 * The id tables hold an entry per record and take a good part of verify's
 * time; they do not depend on the walk over the blocks, so a second thread
 * checks them (in a read transaction of its own, begun by the caller:
 * MDB_NOTLS lets it move to that thread) while the walk runs. Their fault
 * is reported only when the walk and check_times found none, as they come
 * after those in the order the checks are reported.
 */
struct id_check {
	struct alog_store *s;
	MDB_txn *txn;
	struct alog_err err;
	int rc;
};

static void *id_check_run(void *arg)
{
	struct id_check *ic = arg;

	ic->rc = check_replays(ic->s, ic->txn, &ic->err);
	if (ic->rc == 0)
		ic->rc = check_ids(ic->s, ic->txn, &ic->err);
	return NULL;
}

/*
 * verify's hashing worker. The walk (the caller's thread) reads,
 * decompresses and checks the blocks and their records; a worker hashes
 * their leaves into the tree, compares the stored nodes as their
 * subtrees complete and verifies each checkpoint at its tree size, in a
 * read transaction of its own (begun by the caller: MDB_NOTLS lets it
 * move to that thread). The walk hands it every decoded block in index
 * order through a ring of HASH_RING payload buffers: it decodes into a
 * buffer of its own, swaps it with a ring slot the worker is done with,
 * then checks the block's records in that slot while the worker hashes
 * them (both only read it), and decodes the next block into the buffer
 * it swapped out, which neither thread reads any longer. The worker is
 * the faster of the two: it is woken for half a ring at a time, not for
 * each block, as a wake-up costs.
 *
 * Faults are reported in the order of SPEC.md 12 as the one-thread walk
 * met them: at tree size i, the checkpoints of that size (FAULT_CKPT);
 * then a fault of the block starting at i, or of record i itself
 * (FAULT_WALK); then record i's leaf and the stored nodes it completes
 * (FAULT_LEAF). Each thread stops at its first fault. The walk then
 * tells the worker to hash no leaf at or past its fault (a block the
 * worker already began it may finish), waits for it, and reports the
 * earlier of the two faults; after a fault of the worker's, the walk
 * stops at the next block, as all its faults to come lie after it.
 * Without a thread (it could not start) the walk runs the same worker
 * steps itself, a few blocks behind, with the same result.
 */
#define HASH_RING 8

enum { FAULT_CKPT, FAULT_WALK, FAULT_LEAF };

struct fault_at {
	uint64_t i;
	unsigned phase;
};

static int fault_before(const struct fault_at *a, const struct fault_at *b)
{
	return a->i < b->i || (a->i == b->i && a->phase < b->phase);
}

struct hash_slot {
	struct alog_buf payload;
	uint64_t first_index;
};

struct hash_work {
	struct alog_store *s;
	const struct alog_verifier *vkey;
	struct check_state cs;  /* the worker's transaction, err, bad node */
	struct alog_err err;
	struct alog_hasher *hasher;
	struct alog_merkle_range range;
	struct alog_store_checkpoint ck; /* next to check, when have_ck */
	int have_ck;
	uint64_t next_ckpt, n_ckpt;
	/* the worker's first fault, its bad index and place */
	int rc;
	uint64_t bad_index;
	struct fault_at at;
	/* shared with the walk under mu when threaded */
	int threaded;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct hash_slot slot[HASH_RING];
	uint64_t produced, consumed;  /* blocks handed over, hashed */
	int worker_waits, walk_waits; /* in pthread_cond_wait on cv */
	int failed;                   /* rc < 0, for the walk to see */
	int closed;                   /* no more blocks; then: */
	uint64_t limit;               /* no leaf at or past this index */
	int ckpt_at_limit;            /* the checkpoints at size limit too */
};

static int hash_fault(struct hash_work *w, int rc, uint64_t i,
		      unsigned phase, uint64_t bad_index)
{
	w->at.i = i;
	w->at.phase = phase;
	w->bad_index = bad_index;
	return rc;
}

/* The checkpoints at the tree's current size; those below it are done. */
static int hash_checkpoints(struct hash_work *w)
{
	uint64_t size = w->range.size;
	/* the walk's bad index then: the last record of the last block */
	uint64_t last = size ? size - 1 : UINT64_MAX;
	unsigned char root[ALOG_HASH_LEN];
	int rc;

	while (w->next_ckpt < w->n_ckpt) {
		if (!w->have_ck) {
			rc = checkpoint_get_txn(w->s, w->cs.txn, w->next_ckpt,
						&w->ck, &w->err);
			if (rc < 0)
				return hash_fault(w, rc, size, FAULT_CKPT, last);
			w->have_ck = 1;
		}
		if (w->ck.size > size)
			break;
		if (w->ck.size < size) {
			rc = alog_err_set(&w->err, ALOG_ECORRUPT,
					  "checkpoint %" PRIu64
					  " has tree size %" PRIu64
					  ", smaller than an earlier one",
					  w->ck.seq, w->ck.size);
			return hash_fault(w, rc, size, FAULT_CKPT, last);
		}
		alog_merkle_range_root(&w->range, w->hasher, root);
		rc = check_checkpoint(w->s, w->vkey, &w->ck, root, &w->err);
		if (rc < 0)
			return hash_fault(w, rc, size, FAULT_CKPT, UINT64_MAX);
		alog_store_checkpoint_release(&w->ck);
		w->have_ck = 0;
		w->next_ckpt++;
	}
	return 0;
}

/* One block: the checkpoints at its start, then its leaves below limit.
 * The walk checked that it starts where the tree ends, and its decoder
 * that the payload is n_records lines each ending in 0x0A. */
static int hash_block(struct hash_work *w, const struct hash_slot *sl,
		      uint64_t limit)
{
	const unsigned char *p = sl->payload.data;
	const unsigned char *end = p + sl->payload.len;
	uint64_t idx = sl->first_index;
	int rc;

	rc = hash_checkpoints(w);
	if (rc < 0)
		return rc;
	for (; p < end && idx < limit; idx++) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		unsigned char leaf[ALOG_HASH_LEN];

		rc = alog_merkle_leaf(w->hasher, p, (size_t)(nl - p), leaf);
		if (rc == 0)
			rc = alog_merkle_range_push(&w->range, w->hasher, leaf,
						    check_node, &w->cs,
						    &w->err);
		if (rc < 0)
			return hash_fault(w, rc, idx, FAULT_LEAF,
					  w->cs.bad_node_index != UINT64_MAX ?
					  w->cs.bad_node_index : idx);
		p = nl + 1;
	}
	return 0;
}

/* The oldest block handed over and not yet hashed (skipped after a
 * fault: the walk only waits for its slot). */
static void hash_next(struct hash_work *w, uint64_t limit)
{
	if (w->rc == 0)
		w->rc = hash_block(w, &w->slot[w->consumed % HASH_RING], limit);
}

/* After the last block: the checkpoints at the size the walk stopped at,
 * when it stopped before a block (not inside one, at a record). */
static void hash_end(struct hash_work *w, uint64_t limit, int ckpt_at_limit)
{
	if (w->rc == 0 && ckpt_at_limit && w->range.size == limit)
		w->rc = hash_checkpoints(w);
}

static void *hash_run(void *arg)
{
	struct hash_work *w = arg;
	uint64_t limit;
	int ckpt_at_limit;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->consumed == w->produced && !w->closed) {
			w->worker_waits = 1;
			pthread_cond_wait(&w->cv, &w->mu);
			w->worker_waits = 0;
		}
		if (w->consumed == w->produced)
			break;
		limit = w->limit;
		pthread_mutex_unlock(&w->mu);
		hash_next(w, limit);
		pthread_mutex_lock(&w->mu);
		w->consumed++;
		w->failed = w->rc < 0;
		if (w->walk_waits)
			pthread_cond_signal(&w->cv);
	}
	limit = w->limit;
	ckpt_at_limit = w->ckpt_at_limit;
	pthread_mutex_unlock(&w->mu);
	hash_end(w, limit, ckpt_at_limit);
	return NULL;
}

static int hash_start(struct hash_work *w, struct alog_store *s,
		      const struct alog_verifier *vkey, uint64_t n_ckpt,
		      struct alog_err *err)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->s = s;
	w->vkey = vkey;
	w->cs.s = s;
	w->cs.err = &w->err;
	w->cs.bad_node_index = UINT64_MAX;
	w->n_ckpt = n_ckpt;
	w->limit = UINT64_MAX;
	w->bad_index = UINT64_MAX;
	for (int i = 0; i < HASH_RING; i++)
		alog_buf_init(&w->slot[i].payload, ALOG_BLOCK_RAW_MAX);
	rc = alog_hasher_new(&w->hasher, err);
	if (rc == 0)
		rc = txn_begin(s, 0, &w->cs.txn, err);
	if (rc < 0 || s->hash_inline)
		return rc;
	if (pthread_mutex_init(&w->mu, NULL) != 0)
		return 0;
	if (pthread_cond_init(&w->cv, NULL) != 0) {
		pthread_mutex_destroy(&w->mu);
		return 0;
	}
	if (pthread_create(&w->thread, NULL, hash_run, w) != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		return 0;
	}
	w->threaded = 1;
	return 0;
}

/* Hand over the block the walk just decoded into s->payload (it gets an
 * idle buffer back there); returns the block's payload, now in the ring.
 * *failed is set when the worker has met a fault: the walk may stop,
 * as every fault of its own to come lies after the worker's. */
static const struct alog_buf *hash_put(struct hash_work *w,
				       uint64_t first_index, int *failed)
{
	struct alog_store *s = w->s;
	struct hash_slot *sl;
	struct alog_buf t;

	if (w->threaded)
		pthread_mutex_lock(&w->mu);
	while (w->produced - w->consumed == HASH_RING) {
		if (w->threaded) {
			w->walk_waits = 1;
			pthread_cond_wait(&w->cv, &w->mu);
			w->walk_waits = 0;
		} else {
			hash_next(w, UINT64_MAX);
			w->consumed++;
			w->failed = w->rc < 0;
		}
	}
	sl = &w->slot[w->produced % HASH_RING];
	t = sl->payload;
	sl->payload = s->payload;
	s->payload = t;
	sl->first_index = first_index;
	w->produced++;
	*failed = w->failed;
	if (w->threaded) {
		if (w->worker_waits &&
		    w->produced - w->consumed >= HASH_RING / 2)
			pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
	}
	return &sl->payload;
}

/* No more blocks: hash none at or past limit, check the checkpoints at
 * size limit when ckpt_at_limit, and wait for the worker. */
static void hash_close(struct hash_work *w, uint64_t limit, int ckpt_at_limit)
{
	if (w->closed)
		return;
	if (!w->threaded) {
		w->closed = 1;
		for (; w->consumed < w->produced; w->consumed++)
			hash_next(w, limit);
		hash_end(w, limit, ckpt_at_limit);
		return;
	}
	pthread_mutex_lock(&w->mu);
	w->closed = 1;
	w->limit = limit;
	w->ckpt_at_limit = ckpt_at_limit;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
}

static void hash_free(struct hash_work *w)
{
	if (w->threaded) {
		hash_close(w, 0, 0);
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
	}
	if (w->cs.txn)
		mdb_txn_abort(w->cs.txn);
	if (w->have_ck)
		alog_store_checkpoint_release(&w->ck);
	alog_hasher_free(w->hasher);
	for (int i = 0; i < HASH_RING; i++)
		alog_buf_release(&w->slot[i].payload);
}

int alog_store_check(struct alog_store *s, const struct alog_verifier *vkey,
		     alog_store_received_fn received_of,
		     alog_store_record_fn fn, void *ctx,
		     const struct alog_store_check_progress *progress,
		     uint64_t *bad_index, struct alog_err *err)
{
	MDB_txn *txn = NULL;
	struct id_check ic;
	struct hash_work hw;
	pthread_t id_thread;
	int id_threaded = 0;
	struct fault_at wat;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint64_t expect = 0, seg_off = 0, rec_idx = 0;
	uint32_t seg_id = 0;
	int64_t last_received = INT64_MIN;
	unsigned char root[ALOG_HASH_LEN];
	uint64_t size = 0, n_ckpt = 0, n_blocks = 0;
	int op = MDB_FIRST, at_record = 0, hash_failed = 0;
	int rc;

	*bad_index = UINT64_MAX;
	if (!vkey)
		vkey = &s->vkey;
	rc = txn_begin(s, 0, &txn, err);
	if (rc < 0)
		return rc;
	/* The check covers the log as it was at open (a read-only opener's
	 * snapshot): blocks a writer appended since are not looked at, so
	 * they are not mistaken for damage. */
	size = s->size;
	n_ckpt = s->n_ckpt;
	memset(&ic, 0, sizeof(ic));
	ic.s = s;
	if (txn_begin(s, 0, &ic.txn, &ic.err) == 0) {
		if (pthread_create(&id_thread, NULL, id_check_run, &ic) == 0) {
			id_threaded = 1;
		} else {
			mdb_txn_abort(ic.txn);
			ic.txn = NULL;
		}
	}
	rc = hash_start(&hw, s, vkey, n_ckpt, err);
	if (rc < 0)
		goto out;
	rc = mdb_cursor_open(txn, s->dbi_blocks, &c);
	if (rc) {
		rc = db_fail(err, rc, "cursor");
		goto out;
	}
	for (;;) {
		struct blockloc b;
		struct alog_block_header h;
		const struct alog_buf *payload;
		const unsigned char *p, *end;

		/* a fault from here to the records: the block's, at expect */
		at_record = 0;
		rc = mdb_cursor_get(c, &k, &v, (MDB_cursor_op)op);
		op = MDB_NEXT;
		if (rc == MDB_NOTFOUND) {
			rc = 0;
			break;
		}
		if (rc) {
			rc = db_fail(err, rc, "cursor get");
			goto walk_fault;
		}
		rc = decode_blockloc(&k, &v, &b, err);
		if (rc < 0)
			goto walk_fault;
		if (b.first_index >= size && b.first_index == expect)
			break; /* appended after open */
		*bad_index = b.first_index;
		if (b.first_index != expect) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "records %" PRIu64 "..%" PRIu64
					  " are missing from the index",
					  expect, b.first_index - 1);
			*bad_index = expect;
			goto walk_fault;
		}
		if (b.seg_id != seg_id) {
			uint64_t first, end_off;

			if (seg_id) {
				rc = get_segment_entry(s, txn, seg_id, NULL,
						       &end_off, err);
				if (rc < 0)
					goto walk_fault;
				if (seg_off != end_off) {
					*bad_index = UINT64_MAX;
					rc = alog_err_set(err, ALOG_ECORRUPT,
							  "segment %u: blocks end at offset %" PRIu64
							  " but %" PRIu64 " bytes are committed",
							  seg_id, seg_off, end_off);
					goto walk_fault;
				}
			}
			rc = get_segment_entry(s, txn, b.seg_id, &first,
					       &end_off, err);
			if (rc < 0)
				goto walk_fault;
			if (b.seg_id <= seg_id || first != b.first_index) {
				rc = alog_err_set(err, ALOG_ECORRUPT,
						  "segment %u does not start at record %" PRIu64,
						  b.seg_id, b.first_index);
				goto walk_fault;
			}
			seg_id = b.seg_id;
			seg_off = ALOG_SEGMENT_HEADER_LEN;
		}
		if (b.offset != seg_off) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "segment %u: bytes %" PRIu64 "..%" PRIu64
					  " belong to no block",
					  seg_id, seg_off, b.offset);
			goto walk_fault;
		}
		rc = load_block(s, &b, &h, err);
		if (rc < 0)
			goto walk_fault;
		if (b.first_received < last_received) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "record %" PRIu64
					  ": received time goes backwards",
					  b.first_index);
			goto walk_fault;
		}
		last_received = b.first_received;
		payload = hash_put(&hw, b.first_index, &hash_failed);
		if (hash_failed)
			break; /* its fault comes before any still to find */
		p = payload->data;
		end = p + payload->len;
		at_record = 1;
		for (rec_idx = b.first_index; p < end; rec_idx++) {
			const unsigned char *nl = memchr(p, '\n',
							 (size_t)(end - p));

			*bad_index = rec_idx;
			if (received_of && rec_idx == b.first_index) {
				int64_t r;

				rc = received_of(p, (size_t)(nl - p), &r);
				if (rc == 0 && r != b.first_received)
					rc = alog_err_set(err, ALOG_ECORRUPT,
							  "record %" PRIu64
							  ": received time differs from its block's index entry",
							  rec_idx);
				if (rc < 0)
					goto walk_fault;
			}
			if (fn) {
				rc = fn(ctx, rec_idx, p, (size_t)(nl - p));
				if (rc < 0)
					goto walk_fault;
			}
			p = nl + 1;
		}
		expect = b.first_index + b.n;
		seg_off += b.disk_len;
		n_blocks++;
		if (progress && progress->fn)
			progress->fn(progress->ctx, expect, size);
	}
	/* the walk is done: the worker's fault, if any, comes first */
	hash_close(&hw, expect, 1);
	if (hw.rc < 0) {
		rc = hw.rc;
		*bad_index = hw.bad_index;
		if (err)
			*err = hw.err;
		goto out;
	}
	*bad_index = UINT64_MAX;
	if (expect != size) {
		*bad_index = expect;
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "the index holds %" PRIu64
				  " records but the log has %" PRIu64,
				  expect, size);
		goto out;
	}
	if (seg_id) {
		uint64_t end_off = s->seg_end;

		if (seg_id != s->seg_id) {
			rc = get_segment_entry(s, txn, seg_id, NULL, &end_off,
					       err);
			if (rc < 0)
				goto out;
		}
		if (seg_off != end_off) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "segment %u: blocks end at offset %" PRIu64
					  " but %" PRIu64 " bytes are committed",
					  seg_id, seg_off, end_off);
			goto out;
		}
	}
	rc = check_times(s, txn, size, n_blocks, err);
	if (rc < 0)
		goto out;
	if (id_threaded) {
		pthread_join(id_thread, NULL);
		id_threaded = 0;
		rc = ic.rc;
		if (rc < 0 && err)
			*err = ic.err;
	} else {
		/* no thread (it could not start): here, in order */
		rc = check_replays(s, txn, err);
		if (rc == 0)
			rc = check_ids(s, txn, err);
	}
	if (rc < 0)
		goto out;
	if (hw.next_ckpt < n_ckpt) {
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "checkpoint %" PRIu64 " has tree size %" PRIu64
				  ", larger than the log", hw.next_ckpt,
				  hw.ck.size);
		goto out;
	}
	{
		unsigned char mem_root[ALOG_HASH_LEN];

		/* The root the writer serves was rebuilt from stored nodes at
		 * open: it must equal the one recomputed from the records. */
		alog_merkle_range_root(&hw.range, hw.hasher, root);
		alog_store_root(s, mem_root);
		if (size == s->size && !s->range_bad &&
		    memcmp(root, mem_root, ALOG_HASH_LEN) != 0) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "the stored tree's root differs from the root of the records");
			goto out;
		}
	}
	goto out;
walk_fault:
	/* The walk's fault, at a block's start (after the checkpoints of
	 * that size) or at a record (before its leaf): the worker hashes up
	 * to it, and its own fault stands when it comes first. */
	wat.i = at_record ? rec_idx : expect;
	wat.phase = FAULT_WALK;
	hash_close(&hw, wat.i, !at_record);
	if (hw.rc < 0 && fault_before(&hw.at, &wat)) {
		rc = hw.rc;
		*bad_index = hw.bad_index;
		if (err)
			*err = hw.err;
	}
out:
	/* an earlier fault stands; the id thread's result is dropped */
	if (id_threaded)
		pthread_join(id_thread, NULL);
	if (ic.txn)
		mdb_txn_abort(ic.txn);
	hash_free(&hw);
	if (c)
		mdb_cursor_close(c);
	if (txn)
		mdb_txn_abort(txn);
	return rc;
}
