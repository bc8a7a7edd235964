/*
 * log: see log.h. The pending batch keeps its records back to back in one
 * buffer; an open-addressing table over (source, id) keys finds
 * duplicates inside the batch in O(1).
 *
 * Two batch sets: the pending one (cur), judged into on the caller's
 * thread, and, after alog_log_commit_start, the one in flight (fly), which
 * a committer thread appends to the store. While one is in flight the
 * caller's thread only reads it (its id table and records, to judge
 * duplicates) and asks the store nothing but alog_store_find_id, which the
 * store serves beside an append (store.h); anything else waits for the
 * batch in flight first (settle).
 *
 * Once commits are pipelined, a compressing thread encodes each batch's
 * blocks while the batch is judged (SPEC.md 10.2): a set that starts
 * after that is streamed, its records framed into blocks as they are
 * added (each record followed by 0x0A in recs, so that a block's payload
 * is a slice of recs, whose memory never moves). Closed blocks are taken
 * in order, oldest set first, by the compressing thread and by the
 * thread that commits the set, which then hands the store the encoded
 * blocks (alog_store_append_encoded). enc_mu guards each set's block
 * counts; a set is cleared only when no block of it is being encoded.
 */
#include "ingest/log.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest/clock.h"
#include "store/block.h"
#include "store/bytes.h"

#define SLOTS (2 * ALOG_LOG_BATCH_MAX) /* power of two, load <= 1/2 */
/* A set's records, each followed by 0x0A: the batch limit of record
 * bytes and a 0x0A for each record in it, then one record past it.
 * Reserved at once, so that the memory never moves under a block being
 * encoded. */
#define SET_BYTES_MAX \
	(ALOG_LOG_BATCH_BYTES_MAX + ALOG_LOG_BATCH_MAX + ALOG_RECORD_MAX)

struct pending {
	size_t rec_off, rec_len;
	size_t ev_len;   /* the event is the record's last member */
	int64_t received;
	int has_key;
	unsigned char key[ALOG_STORE_ID_LEN];
	int has_leaf;
	unsigned char leaf[ALOG_HASH_LEN]; /* hashed as it is formatted */
};

/* One batch: its records back to back, their entries, their id table. */
struct batchset {
	struct alog_buf recs;
	struct pending *p;
	size_t n;
	uint64_t *slots;     /* pending index + 1 (0 = empty) in the low 32
			      * bits, the key's tag (slot_for) above */
	struct alog_store_rec *batch;
	uint64_t first;      /* the index of p[0] */
	/* Streamed (framed into blocks from its first record on). Block j
	 * holds records [given[j].start, given[j].end), encoded into enc[j]
	 * by whichever thread took it (given[j].data and len are set for
	 * the store once all are); room for one block per record. The open
	 * block's start and bytes are the judging thread's; under enc_mu:
	 * n_blocks (closed), taken, done, enc_rc and enc_err (the first
	 * failure), seq (age). */
	int streamed;
	struct alog_store_block *given;
	struct alog_buf *enc;
	size_t blk_start, blk_bytes;
	size_t n_blocks, taken, done;
	uint64_t seq;
	int enc_rc;
	struct alog_err enc_err;
};

struct alog_log {
	struct alog_store *store;
	struct alog_event ev;
	struct alog_buf tmp;
	struct batchset sets[2];
	struct batchset *cur;    /* pending: submits go here */
	struct batchset *fly;    /* in flight on the committer, or NULL */
	pthread_t committer;
	int fly_rc;              /* the committer's result, err with it */
	struct alog_err fly_err;
	int failed;              /* a batch in flight failed: only close */
	struct alog_err fail_err;
	int64_t last_received;
	struct alog_hasher *hasher; /* id keys, leaves */
	/* Commits are pipelined (alog_log_commit_start was called): each
	 * record's leaf is hashed as it is judged, since the committer's
	 * threads are the busier ones. Otherwise the append's own batch
	 * thread hashes the leaves while the caller's thread compresses. */
	int pipelined;
	/* The compressing thread (started with pipelining) and its codec;
	 * the committing thread's codec (the committer's or the caller's,
	 * never both at once). */
	pthread_mutex_t enc_mu;
	pthread_cond_t enc_cv;   /* a block closed or was encoded, or stop */
	pthread_t encoder;
	int enc_started, enc_stop;
	uint64_t enc_seq;
	struct alog_codec *enc_codec, *commit_codec;
};

static int settle(struct alog_log *log, struct alog_err *err);
static void join_fly(struct alog_log *log);

static const unsigned char *event_of(const struct batchset *b,
				     const struct pending *p)
{
	return b->recs.data + p->rec_off + p->rec_len - 1 - p->ev_len;
}

static int set_init(struct batchset *b)
{
	alog_buf_init(&b->recs, SET_BYTES_MAX);
	b->p = calloc(ALOG_LOG_BATCH_MAX, sizeof(*b->p));
	b->slots = calloc(SLOTS, sizeof(*b->slots));
	b->batch = calloc(ALOG_LOG_BATCH_MAX, sizeof(*b->batch));
	b->given = calloc(ALOG_LOG_BATCH_MAX, sizeof(*b->given));
	b->enc = calloc(ALOG_LOG_BATCH_MAX, sizeof(*b->enc));
	if (b->enc)
		for (size_t j = 0; j < ALOG_LOG_BATCH_MAX; j++)
			alog_buf_init(&b->enc[j], ALOG_BLOCK_COMP_MAX +
				      ALOG_BLOCK_HEADER_LEN);
	return b->p && b->slots && b->batch && b->given && b->enc &&
	       alog_buf_reserve(&b->recs, SET_BYTES_MAX, NULL) == 0 ? 0 : -1;
}

static void set_release(struct batchset *b)
{
	alog_buf_release(&b->recs);
	free(b->p);
	free(b->slots);
	free(b->batch);
	if (b->enc)
		for (size_t j = 0; j < ALOG_LOG_BATCH_MAX; j++)
			alog_buf_release(&b->enc[j]);
	free(b->enc);
	free(b->given);
}

/* The set is streamed no more: blocks not taken yet are dropped, one
 * being encoded is waited for. */
static void unstream(struct alog_log *log, struct batchset *b)
{
	size_t used;

	pthread_mutex_lock(&log->enc_mu);
	b->n_blocks = used = b->taken;
	while (b->done < b->taken)
		pthread_cond_wait(&log->enc_cv, &log->enc_mu);
	b->n_blocks = b->taken = b->done = 0;
	b->enc_rc = 0;
	b->streamed = 0;
	pthread_mutex_unlock(&log->enc_mu);
	/* a block's buffer is kept for the next batch unless a large record
	 * made it larger than blocks mostly need (a full block reserves its
	 * compression bound, a little over ALOG_BLOCK_TARGET: the buffer
	 * doubles to twice that) */
	for (size_t j = 0; j < used; j++)
		if (b->enc[j].cap > 2 * ALOG_BLOCK_TARGET)
			alog_buf_release(&b->enc[j]);
}

/* Empty the set; its first index is first. Clearing single keys would
 * break probe chains: the whole table is cleared. */
static void set_clear(struct alog_log *log, struct batchset *b,
		      uint64_t first)
{
	if (b->streamed)
		unstream(log, b);
	memset(b->slots, 0, SLOTS * sizeof(*b->slots));
	b->n = 0;
	alog_buf_reset(&b->recs);
	b->first = first;
}

/* Encode block j of b (taken: it is the caller's). */
static int encode_block(struct alog_codec *codec, struct batchset *b,
			size_t j, struct alog_err *err)
{
	const struct alog_store_block *k = &b->given[j];
	const struct pending *a = &b->p[k->start], *z = &b->p[k->end - 1];

	alog_buf_reset(&b->enc[j]);
	return alog_block_encode(codec, b->first + k->start,
				 (uint32_t)(k->end - k->start), a->received,
				 b->recs.data + a->rec_off,
				 z->rec_off + z->rec_len + 1 - a->rec_off,
				 &b->enc[j], err);
}

/* Encode the taken block j of b with codec and count it done (enc_mu is
 * held on entry and on return). */
static void encode_taken(struct alog_log *log, struct alog_codec *codec,
			 struct batchset *b, size_t j)
{
	struct alog_err e = { 0 };
	int rc;

	pthread_mutex_unlock(&log->enc_mu);
	rc = encode_block(codec, b, j, &e);
	pthread_mutex_lock(&log->enc_mu);
	if (rc < 0 && b->enc_rc == 0) {
		b->enc_rc = rc;
		b->enc_err = e;
	}
	b->done++;
	pthread_cond_broadcast(&log->enc_cv);
}

/* The compressing thread: closed blocks, oldest set first. */
static void *encode_run(void *arg)
{
	struct alog_log *log = arg;

	pthread_mutex_lock(&log->enc_mu);
	while (!log->enc_stop) {
		struct batchset *b = NULL;

		for (int i = 0; i < 2; i++) {
			struct batchset *c = &log->sets[i];

			if (c->streamed && c->taken < c->n_blocks &&
			    (!b || c->seq < b->seq))
				b = c;
		}
		if (!b) {
			pthread_cond_wait(&log->enc_cv, &log->enc_mu);
			continue;
		}
		encode_taken(log, log->enc_codec, b, b->taken++);
	}
	pthread_mutex_unlock(&log->enc_mu);
	return NULL;
}

/* Close b's open block [blk_start, n) for the encoders. */
static void close_block(struct alog_log *log, struct batchset *b)
{
	if (b->blk_start == b->n)
		return;
	pthread_mutex_lock(&log->enc_mu);
	b->given[b->n_blocks].start = b->blk_start;
	b->given[b->n_blocks].end = b->n;
	b->n_blocks++;
	pthread_cond_broadcast(&log->enc_cv);
	pthread_mutex_unlock(&log->enc_mu);
	b->blk_start = b->n;
	b->blk_bytes = 0;
}

static void stop_encoder(struct alog_log *log);

/* Start the compressing thread (once); without it, sets are not
 * streamed and the store compresses them itself. What a start that
 * failed made is freed: the next commit start tries again. */
static void start_encoder(struct alog_log *log)
{
	if (log->enc_started)
		return;
	if (alog_codec_new(&log->enc_codec, NULL) == 0 &&
	    alog_codec_new(&log->commit_codec, NULL) == 0 &&
	    pthread_create(&log->encoder, NULL, encode_run, log) == 0)
		log->enc_started = 1;
	else
		stop_encoder(log);
}

/* Stop the compressing thread, if started, and free the codecs. */
static void stop_encoder(struct alog_log *log)
{
	if (log->enc_started) {
		pthread_mutex_lock(&log->enc_mu);
		log->enc_stop = 1;
		pthread_cond_broadcast(&log->enc_cv);
		pthread_mutex_unlock(&log->enc_mu);
		pthread_join(log->encoder, NULL);
		log->enc_started = 0;
	}
	alog_codec_free(log->enc_codec);
	alog_codec_free(log->commit_codec);
	log->enc_codec = log->commit_codec = NULL;
}

/* Append the set b (its batch records set) to the store: a streamed
 * set's last block is closed, the blocks left are encoded here beside
 * the compressing thread, and the store gets them encoded. */
static int set_append(struct alog_log *log, struct batchset *b,
		      struct alog_err *err)
{
	int rc;

	if (!b->streamed || b->n == 0)
		return alog_store_append(log->store, b->batch, b->n, err);
	close_block(log, b);
	pthread_mutex_lock(&log->enc_mu);
	while (b->taken < b->n_blocks)
		encode_taken(log, log->commit_codec, b, b->taken++);
	while (b->done < b->n_blocks)
		pthread_cond_wait(&log->enc_cv, &log->enc_mu);
	rc = b->enc_rc;
	if (rc < 0 && err)
		*err = b->enc_err;
	pthread_mutex_unlock(&log->enc_mu);
	for (size_t j = 0; j < b->n_blocks && rc == 0; j++) {
		b->given[j].data = b->enc[j].data;
		b->given[j].len = b->enc[j].len;
	}
	if (rc == 0)
		rc = alog_store_append_encoded(log->store, b->batch, b->n,
					       b->given, b->n_blocks, err);
	/* a set that stays pending (alog_log_commit) may grow: the store
	 * frames and compresses it from now on */
	if (rc < 0)
		unstream(log, b);
	return rc;
}

/* The store's batch records of the set. */
static void set_batch(struct batchset *b)
{
	for (size_t i = 0; i < b->n; i++) {
		b->batch[i].data = b->recs.data + b->p[i].rec_off;
		b->batch[i].len = b->p[i].rec_len;
		b->batch[i].received_us = b->p[i].received;
		b->batch[i].id_key = b->p[i].has_key ? b->p[i].key : NULL;
		b->batch[i].leaf = b->p[i].has_leaf ? b->p[i].leaf : NULL;
	}
}

int alog_log_open(const char *dir, int64_t now_us, struct alog_log **out,
		  struct alog_store_recovery *rec, struct alog_err *err)
{
	struct alog_store_recovery r;
	struct alog_log *log;
	int rc;

	*out = NULL;
	log = calloc(1, sizeof(*log));
	if (!log)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	alog_event_init(&log->ev);
	alog_buf_init(&log->tmp, ALOG_RECORD_MAX);
	pthread_mutex_init(&log->enc_mu, NULL);
	pthread_cond_init(&log->enc_cv, NULL);
	log->cur = &log->sets[0];
	if (set_init(&log->sets[0]) < 0 || set_init(&log->sets[1]) < 0) {
		rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
		goto out;
	}
	rc = alog_hasher_new(&log->hasher, err);
	if (rc < 0)
		goto out;
	rc = alog_store_open(dir, ALOG_STORE_WRITE, &log->store, &r, err);
	if (rc < 0)
		goto out;
	log->last_received = alog_store_last_received(log->store);
	log->cur->first = alog_store_size(log->store);
	if (rec)
		*rec = r;
	if (r.cut || r.removed_segments) {
		char members[256];

		snprintf(members, sizeof(members),
			 "\"segment\":%" PRIu32 ",\"committed_end\":%" PRIu64
			 ",\"cut_bytes\":%" PRIu64 ",\"removed_segments\":%" PRIu32,
			 r.segment_id, r.cut_from, r.cut_bytes,
			 r.removed_segments);
		rc = alog_log_append_internal(log, "store.recovered", members,
					      now_us, NULL, err);
		if (rc < 0)
			goto out;
	}
	*out = log;
	log = NULL;
out:
	alog_log_close(log);
	return rc;
}

void alog_log_close(struct alog_log *log)
{
	if (!log)
		return;
	join_fly(log);
	stop_encoder(log); /* no block is encoded after it */
	pthread_mutex_destroy(&log->enc_mu);
	pthread_cond_destroy(&log->enc_cv);
	alog_store_close(log->store);
	alog_hasher_free(log->hasher);
	alog_event_release(&log->ev);
	alog_buf_release(&log->tmp);
	set_release(&log->sets[0]);
	set_release(&log->sets[1]);
	free(log);
}

struct alog_store *alog_log_store(struct alog_log *log)
{
	/* a failure stays in log->failed for the next call that reports */
	join_fly(log);
	return log->store;
}

size_t alog_log_pending(const struct alog_log *log)
{
	return log->cur->n;
}

size_t alog_log_in_flight(const struct alog_log *log)
{
	return log->fly ? log->fly->n : 0;
}

int alog_log_batch_full(const struct alog_log *log)
{
	/* record bytes: recs holds a 0x0A after each record */
	return log->cur->n >= ALOG_LOG_BATCH_MAX ||
	       log->cur->recs.len - log->cur->n >= ALOG_LOG_BATCH_BYTES_MAX;
}

/* res->id = id (ids are at most ALOG_EVENT_ID_MAX bytes), without printf:
 * this runs for every event. */
static void set_id(struct alog_submit *res, const char *id)
{
	size_t n = strnlen(id, sizeof(res->id) - 1);

	memcpy(res->id, id, n);
	res->id[n] = 0;
}

/* A slot's tag for key (slot_for): the 4 bytes after those that choose
 * the slot, all within the ALOG_STORE_ID_KEY_LEN bytes compared. */
static uint64_t slot_tag(const unsigned char *key)
{
	return alog_get_be32(key + ALOG_STORE_ID_TIME_LEN + 4);
}

/* The slot of the pending event whose id key (the digest's first
 * ALOG_STORE_ID_KEY_LEN bytes, what the store keys by) is key's, else the
 * empty one where it goes (slot_set). Not the whole digest: two ids of
 * one key in a batch would make the store refuse the batch, where the
 * later must be judged against the earlier (SPEC.md 7 "Id keys": a
 * conflict). A slot keeps 32 more bits of the key as a tag, so that a
 * probe past another key's slot compares the key's bytes (in b->p,
 * elsewhere in memory) only when the tags are equal. */
static uint64_t *slot_for(struct batchset *b, const unsigned char *key)
{
	/* the digest's hash part: its time part is no spread at all */
	uint32_t h = alog_get_be32(key + ALOG_STORE_ID_TIME_LEN) & (SLOTS - 1);
	uint64_t tag = slot_tag(key);

	for (;; h = (h + 1) & (SLOTS - 1)) {
		uint64_t v = b->slots[h];
		uint32_t i = (uint32_t)v;

		if (i == 0 || ((v >> 32) == tag &&
			       memcmp(b->p[i - 1].key, key,
				      ALOG_STORE_ID_KEY_LEN) == 0))
			return &b->slots[h];
	}
}

/* The pending index + 1 in a slot, 0 when empty. */
static uint32_t slot_index(const uint64_t *slot)
{
	return (uint32_t)*slot;
}

static void slot_set(uint64_t *slot, const unsigned char *key, uint32_t i)
{
	*slot = slot_tag(key) << 32 | i;
}

void alog_log_discard(struct alog_log *log)
{
	join_fly(log);
	set_clear(log, log->cur, alog_store_size(log->store));
	log->last_received = alog_store_last_received(log->store);
}

static int reject(struct alog_submit *res, const char *code)
{
	res->status = ALOG_SUBMIT_REJECTED;
	res->code = code;
	return 0;
}

/* Compare the new canonical event with the stored record at index. */
static int judge_stored(struct alog_log *log, const struct alog_event *ev,
			uint64_t index, struct alog_submit *res,
			struct alog_err *err)
{
	struct alog_record_view v;
	int rc;

	rc = settle(log, err);  /* reading needs the store to itself */
	if (rc == 0)
		rc = alog_store_get(log->store, index, &log->tmp, err);
	if (rc < 0)
		return rc;
	rc = alog_record_parse((const char *)log->tmp.data, log->tmp.len, &v,
			       err);
	if (rc < 0) {
		alog_err_prefix(err, "record %" PRIu64, index);
		return rc;
	}
	res->index = index;
	if (v.event_len == ev->canon.len &&
	    memcmp(v.event, ev->canon.data, v.event_len) == 0) {
		res->status = ALOG_SUBMIT_DUPLICATE;
		return 0;
	}
	alog_err_set(err, ALOG_ECONFLICT,
		     "source '%s' id '%s' is stored at index %" PRIu64
		     " with a different event", ev->source, ev->id, index);
	return reject(res, "conflict");
}

int alog_log_submit(struct alog_log *log, const char *line, size_t len,
		    const struct alog_provenance *prov, int64_t now_us,
		    int trusted, struct alog_submit *res, struct alog_err *err)
{
	int rc;

	memset(res, 0, sizeof(*res));
	if (alog_log_batch_full(log))
		return alog_err_set(err, ALOG_ELIMIT,
				    "the pending batch is full: commit first");
	rc = alog_event_parse(&log->ev, line, len, err);
	if (rc < 0) {
		if (log->ev.reject == ALOG_REJECT_NONE)
			return rc; /* operational, e.g. out of memory */
		return reject(res, alog_reject_name(log->ev.reject));
	}
	return alog_log_submit_parsed(log, &log->ev, prov, now_us, trusted,
				      res, err);
}

/* SPEC.md 17.6: a producer's breaker.transition or health.probe about a
 * daemon-owned component (only primary_store is, 18.4). A component
 * written with escapes could spell that name: refused the same way. */
static int owned_component(const struct alog_event *ev)
{
	if (strcmp(ev->type, "breaker.transition") != 0 &&
	    strcmp(ev->type, "health.probe") != 0)
		return 0;
	if (ev->component_state == ALOG_COMPONENT_OTHER)
		return 1;
	return ev->component_state == ALOG_COMPONENT_PLAIN &&
	       strcmp(ev->component, ALOG_LOG_OWNED_COMPONENT) == 0;
}

int alog_log_owner_type(const char *type)
{
	return strcmp(type, "report.generated") == 0 ||
	       strcmp(type, "integrity.verified") == 0;
}

int alog_log_owner_trusted(const struct alog_event *ev,
			   const struct alog_provenance *prov)
{
	int64_t uid;

	if (!alog_log_owner_type(ev->type))
		return 0;
	if (prov->raw) {
		if (alog_provenance_unix_uid(prov->raw, prov->raw_len, &uid) < 0)
			return 0;
	} else if (prov->transport && strcmp(prov->transport, "unix") == 0) {
		uid = prov->uid;
	} else {
		return 0;
	}
	return uid == 0 || uid == (int64_t)geteuid();
}

int alog_log_precheck(const struct alog_event *ev, int trusted,
		      struct alog_submit *res, struct alog_err *err)
{
	memset(res, 0, sizeof(*res));
	if (!trusted && alog_event_type_reserved(ev->type)) {
		alog_err_set(err, ALOG_EINVAL,
			     "event type '%s' is reserved for auditlog itself",
			     ev->type);
		reject(res, alog_reject_name(ALOG_REJECT_RESERVED_TYPE));
		return 1;
	}
	if (!trusted && owned_component(ev)) {
		if (ev->component_state == ALOG_COMPONENT_OTHER)
			alog_err_set(err, ALOG_EINVAL,
				     "a %s event's component must be a plain name (a string without escapes, at most %d bytes)",
				     ev->type, ALOG_EVENT_COMPONENT_MAX);
		else
			alog_err_set(err, ALOG_EINVAL,
				     "component '%s' belongs to auditlog itself: only the daemon writes its %s events",
				     ev->component, ev->type);
		reject(res, alog_reject_name(ALOG_REJECT_RESERVED_COMPONENT));
		return 1;
	}
	return 0;
}

/* The event in slot v (index + 1) of batch b has ev's id key: the same
 * event is a duplicate, another a conflict. */
static int judge_batched(const struct batchset *b, uint32_t v,
			 const struct alog_event *ev, struct alog_submit *res,
			 struct alog_err *err)
{
	const struct pending *q = &b->p[v - 1];

	set_id(res, ev->id);
	res->index = b->first + v - 1;
	if (q->ev_len == ev->canon.len &&
	    memcmp(event_of(b, q), ev->canon.data, q->ev_len) == 0) {
		res->status = ALOG_SUBMIT_DUPLICATE;
		return 0;
	}
	alog_err_set(err, ALOG_ECONFLICT,
		     "source '%s' id '%s' came earlier in this batch with a different event",
		     ev->source, ev->id);
	return reject(res, "conflict");
}

int alog_log_submit_parsed(struct alog_log *log, struct alog_event *ev,
			   const struct alog_provenance *prov, int64_t now_us,
			   int trusted, struct alog_submit *res,
			   struct alog_err *err)
{
	struct batchset *b = log->cur;
	struct pending *p;
	uint64_t *slot = NULL;
	unsigned char key[ALOG_STORE_ID_LEN];
	int has_key = 0;
	size_t off;
	int rc;

	memset(res, 0, sizeof(*res));
	if (alog_log_batch_full(log))
		return alog_err_set(err, ALOG_ELIMIT,
				    "the pending batch is full: commit first");
	if (alog_log_precheck(ev, trusted, res, err))
		return 0;
	if (b->n == 0 && !log->fly) /* the store may have grown without us */
		b->first = alog_store_size(log->store);
	if (b->n == 0 && log->enc_started && !b->streamed) {
		pthread_mutex_lock(&log->enc_mu);
		b->streamed = 1;
		b->seq = ++log->enc_seq;
		pthread_mutex_unlock(&log->enc_mu);
		b->blk_start = b->blk_bytes = 0;
	}
	if (ev->id[0]) {
		uint64_t index;

		has_key = 1;
		if (ev->has_id_key)
			memcpy(key, ev->id_key, sizeof(key));
		else
			alog_store_id_key(log->hasher, ev->source, ev->id, key);
		slot = slot_for(b, key);
		if (slot_index(slot))
			return judge_batched(b, slot_index(slot), ev, res,
					     err);
		if (log->fly) {
			uint32_t v = slot_index(slot_for(log->fly, key));

			if (v)
				return judge_batched(log->fly, v, ev, res,
						     err);
		}
		rc = alog_store_find_id(log->store, key, &index, err);
		if (rc == 0) {
			set_id(res, ev->id);
			return judge_stored(log, ev, index, res, err);
		}
		if (rc != ALOG_ENOTFOUND)
			return rc;
		alog_err_clear(err);
	} else {
		/* the id's time is the received time the record will get */
		rc = alog_uuid7(now_us < log->last_received ?
				log->last_received : now_us, ev->id, err);
		if (rc < 0)
			return rc;
	}
	if (now_us < log->last_received)
		now_us = log->last_received;
	off = b->recs.len;
	rc = alog_record_format_parsed(b->first + b->n, now_us, prov, ev,
				       &b->recs, err);
	if (rc < 0) {
		b->recs.len = off;
		return rc;
	}
	p = &b->p[b->n];
	p->rec_off = off;
	p->rec_len = b->recs.len - off;
	/* records end with 0x0A in recs: a block's payload is a slice */
	rc = alog_buf_addc(&b->recs, '\n', err);
	if (rc < 0) {
		b->recs.len = off;
		return rc;
	}
	/* pipelined: the leaf now, while the record is in the cache */
	p->has_leaf = log->pipelined;
	if (p->has_leaf &&
	    (rc = alog_merkle_leaf(log->hasher, b->recs.data + off,
				   p->rec_len, p->leaf)) < 0) {
		b->recs.len = off;
		return alog_err_set(err, rc, "cannot hash a record");
	}
	p->ev_len = ev->canon.len;
	p->received = now_us;
	p->has_key = has_key;
	if (has_key) {
		memcpy(p->key, key, sizeof(key));
		slot_set(slot, key, (uint32_t)(b->n + 1));
	}
	res->status = ALOG_SUBMIT_ACCEPTED;
	res->index = b->first + b->n;
	set_id(res, ev->id);
	b->n++;
	log->last_received = now_us;
	if (b->streamed) {
		/* the store's framing (SPEC.md 5 "Blocks") */
		b->blk_bytes += p->rec_len + 1;
		if (b->blk_bytes >= ALOG_BLOCK_TARGET ||
		    b->n - b->blk_start >= ALOG_BLOCK_RECORDS_MAX)
			close_block(log, b);
	}
	return 0;
}

/* The committer thread: the batch in flight into the store. */
static void *commit_run(void *arg)
{
	struct alog_log *log = arg;

	memset(&log->fly_err, 0, sizeof(log->fly_err));
	log->fly_rc = set_append(log, log->fly, &log->fly_err);
	return NULL;
}

/* Wait for the batch in flight. When it failed, drop it and the pending
 * batch judged after it, and keep the failure for the next call that
 * reports one (log->failed). */
static void join_fly(struct alog_log *log)
{
	struct batchset *b = log->fly;

	if (!b)
		return;
	pthread_join(log->committer, NULL);
	log->fly = NULL;
	if (log->fly_rc < 0) {
		log->failed = 1;
		log->fail_err = log->fly_err;
		if (!log->fail_err.code)
			log->fail_err.code = log->fly_rc;
		set_clear(log, b, 0);
		set_clear(log, log->cur, alog_store_size(log->store));
		log->last_received = alog_store_last_received(log->store);
		return;
	}
	set_clear(log, b, 0);
}

int alog_log_commit_wait(struct alog_log *log, struct alog_err *err)
{
	join_fly(log);
	if (!log->failed)
		return 0;
	log->failed = 0;
	if (err)
		*err = log->fail_err;
	return log->fail_err.code;
}

/* The caller's thread may use the store again once nothing is in flight;
 * a batch in flight that failed is reported once. */
static int settle(struct alog_log *log, struct alog_err *err)
{
	return alog_log_commit_wait(log, err);
}

int alog_log_commit_start(struct alog_log *log, struct alog_err *err)
{
	struct batchset *b = log->cur;
	int rc = settle(log, err);

	if (rc < 0)
		return rc;
	log->pipelined = 1;
	start_encoder(log);
	if (b->n == 0)
		return alog_log_commit(log, err);
	set_batch(b);
	if (b->streamed)
		close_block(log, b);
	log->fly = b;
	if (pthread_create(&log->committer, NULL, commit_run, log) != 0) {
		log->fly = NULL;
		return alog_log_commit(log, err);
	}
	log->cur = b == &log->sets[0] ? &log->sets[1] : &log->sets[0];
	set_clear(log, log->cur, b->first + b->n);
	return 0;
}

int alog_log_commit(struct alog_log *log, struct alog_err *err)
{
	struct batchset *b = log->cur;
	int rc = settle(log, err);

	if (rc < 0)
		return rc;
	if (b->n == 0) /* staged replay progress alone still commits */
		return alog_store_append(log->store, b->batch, 0, err);
	set_batch(b);
	rc = set_append(log, b, err);
	if (rc < 0)
		return rc;
	set_clear(log, b, b->first + b->n);
	return 0;
}

void alog_log_internal_provenance(struct alog_provenance *out)
{
	memset(out, 0, sizeof(*out));
	out->transport = "internal";
	out->uid = (int64_t)getuid();
	out->gid = -1;
	out->pid = (int64_t)getpid();
}

int alog_log_internal_line(struct alog_buf *out, const char *type,
			   const char *members, struct alog_err *err)
{
	return alog_buf_addf(out, err,
			     "{\"type\":\"%s\",\"source\":\"auditlog\"%s%s}",
			     type, members && *members ? "," : "",
			     members ? members : "");
}

int alog_log_submit_internal(struct alog_log *log, const char *type,
			     const char *members, int64_t now_us,
			     struct alog_submit *res, struct alog_err *err)
{
	struct alog_provenance prov;
	struct alog_buf line;
	int rc;

	alog_log_internal_provenance(&prov);
	alog_buf_init(&line, ALOG_EVENT_LINE_MAX);
	rc = alog_log_internal_line(&line, type, members, err);
	if (rc == 0)
		rc = alog_log_submit(log, (const char *)line.data, line.len,
				     &prov, now_us, 1, res, err);
	if (rc == 0 && res->status != ALOG_SUBMIT_ACCEPTED)
		rc = alog_err_set(err, ALOG_EINVAL,
				  "internal event '%s' was refused: %s", type,
				  res->code ? res->code : "duplicate");
	alog_buf_release(&line);
	return rc;
}

int alog_log_append_internal(struct alog_log *log, const char *type,
			     const char *members, int64_t now_us,
			     uint64_t *index, struct alog_err *err)
{
	struct alog_submit res;
	int rc;

	/* What the caller had pending goes first; if that fails it stays
	 * pending (alog_log_commit's contract). */
	rc = alog_log_commit(log, err);
	if (rc < 0)
		return rc;
	rc = alog_log_submit_internal(log, type, members, now_us, &res, err);
	if (rc == 0)
		rc = alog_log_commit(log, err);
	if (rc < 0)
		alog_log_discard(log); /* only our own event is pending */
	else if (index)
		*index = res.index;
	return rc;
}

int alog_log_stage_replay(struct alog_log *log,
			  const char key[ALOG_STORE_REPLAY_KEY_LEN],
			  const struct alog_store_replay *r,
			  struct alog_err *err)
{
	int rc = settle(log, err);

	return rc < 0 ? rc : alog_store_replay_stage(log->store, key, r, err);
}

int64_t alog_log_last_received(const struct alog_log *log)
{
	return log->last_received;
}

/* 1 when record index is the checkpoint.signed event of checkpoint seq. */
static int is_checkpoint_event(struct alog_log *log, uint64_t index,
			       uint64_t seq, struct alog_err *err)
{
	struct alog_record_view v;
	char want[64];

	if (alog_store_get(log->store, index, &log->tmp, err) < 0 ||
	    alog_record_parse((const char *)log->tmp.data, log->tmp.len, &v,
			      err) < 0)
		return 0;
	static const char head[] =
		"{\"type\":\"checkpoint.signed\",\"source\":\"auditlog\",";

	snprintf(want, sizeof(want), "\"checkpoint\":%" PRIu64 ",", seq);
	return v.event_len > sizeof(head) - 1 &&
	       memcmp(v.event, head, sizeof(head) - 1) == 0 &&
	       memmem(v.event, v.event_len, want, strlen(want)) != NULL;
}

/* Append the checkpoint.signed event of checkpoint c (record c->size). */
static int log_checkpoint_event(struct alog_log *log,
				const struct alog_store_checkpoint *c,
				int64_t now_us, struct alog_err *err)
{
	char members[160], hex[2 * ALOG_HASH_LEN + 1];
	unsigned char root[ALOG_HASH_LEN];
	int rc;

	rc = alog_store_root_at(log->store, c->size, root, err);
	if (rc < 0)
		return rc;
	alog_hex_encode(root, ALOG_HASH_LEN, hex);
	snprintf(members, sizeof(members),
		 "\"checkpoint\":%" PRIu64 ",\"size\":%" PRIu64 ",\"root\":\"%s\"",
		 c->seq, c->size, hex);
	return alog_log_append_internal(log, "checkpoint.signed", members,
					now_us, NULL, err);
}

int alog_log_checkpoint(struct alog_log *log, const struct alog_signer *signer,
			int64_t now_us, struct alog_store_checkpoint *out,
			struct alog_err *err)
{
	struct alog_store *s = log->store;
	uint64_t n_ck;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = alog_log_commit(log, err);
	if (rc < 0)
		return rc;
	n_ck = alog_store_checkpoint_count(s);
	if (n_ck > 0) {
		uint64_t size = alog_store_size(s);

		rc = alog_store_checkpoint_get(s, n_ck - 1, out, err);
		if (rc < 0)
			return rc;
		/* Signed, but its event never made it (the append after
		 * signing failed): write it now. */
		if (size == out->size)
			return log_checkpoint_event(log, out, now_us, err);
		if (size == out->size + 1 &&
		    is_checkpoint_event(log, out->size, out->seq, NULL))
			return 0;
		alog_store_checkpoint_release(out);
	}
	rc = alog_store_sign_checkpoint(s, signer, now_us, out, err);
	if (rc == 0)
		rc = log_checkpoint_event(log, out, now_us, err);
	return rc;
}

int alog_log_record_received(const unsigned char *rec, size_t len,
			     int64_t *received_us)
{
	struct alog_record_view v;
	int rc = alog_record_parse((const char *)rec, len, &v, NULL);

	if (rc == 0)
		*received_us = v.received_us;
	return rc;
}

struct verify_ctx {
	int64_t last_received;
	struct alog_err *err;
};

static int verify_record(void *ctx, uint64_t index, const unsigned char *rec,
			 size_t len)
{
	struct verify_ctx *vc = ctx;
	struct alog_record_view v;
	int rc;

	rc = alog_record_parse((const char *)rec, len, &v, vc->err);
	if (rc < 0) {
		alog_err_prefix(vc->err, "record %" PRIu64, index);
		return ALOG_ECORRUPT;
	}
	if (v.index != index)
		return alog_err_set(vc->err, ALOG_ECORRUPT,
				    "record %" PRIu64 " says it is record %" PRIu64,
				    index, v.index);
	if (v.received_us < vc->last_received)
		return alog_err_set(vc->err, ALOG_ECORRUPT,
				    "record %" PRIu64
				    ": received time is earlier than the record before",
				    index);
	vc->last_received = v.received_us;
	return 0;
}

static int verify_anchor(struct alog_store *s, const struct alog_verifier *vkey,
			 const char *note, size_t len,
			 struct alog_verify_result *res, struct alog_err *err)
{
	struct alog_checkpoint cp;
	unsigned char root[ALOG_HASH_LEN], now_root[ALOG_HASH_LEN];
	unsigned char proof[ALOG_MERKLE_PROOF_MAX][ALOG_HASH_LEN];
	size_t n_proof;
	int rc;

	rc = alog_checkpoint_open_note(vkey, note, len, &cp, err);
	if (rc < 0) {
		alog_err_prefix(err, "saved checkpoint");
		return rc;
	}
	res->anchored = 1;
	res->anchor_size = cp.size;
	if (strcmp(cp.origin, alog_store_origin(s)) != 0)
		return alog_err_set(err, ALOG_EVERIFY,
				    "saved checkpoint is for origin '%s', the store is '%s'",
				    cp.origin, alog_store_origin(s));
	if (cp.size > alog_store_size(s))
		return alog_err_set(err, ALOG_EVERIFY,
				    "the log has %" PRIu64
				    " records but the saved checkpoint covers %" PRIu64
				    ": records were removed",
				    alog_store_size(s), cp.size);
	rc = alog_store_root_at(s, cp.size, root, err);
	if (rc < 0)
		return rc;
	if (memcmp(root, cp.root, ALOG_HASH_LEN) != 0)
		return alog_err_set(err, ALOG_EVERIFY,
				    "the log's first %" PRIu64
				    " records do not match the saved checkpoint: the log was altered or rebuilt",
				    cp.size);
	rc = alog_store_prove_consistency(s, cp.size, alog_store_size(s), proof,
					  &n_proof, err);
	if (rc < 0)
		return rc;
	rc = alog_store_root_at(s, alog_store_size(s), now_root, err);
	if (rc < 0)
		return rc;
	return alog_merkle_verify_consistency(NULL, cp.size, alog_store_size(s),
					      cp.root, now_root,
					      (const unsigned char (*)[ALOG_HASH_LEN])proof,
					      n_proof, err);
}

int alog_log_verify(const char *dir, const struct alog_verifier *vkey,
		    const char *anchor_note, size_t anchor_len,
		    const struct alog_store_check_progress *progress,
		    struct alog_verify_result *res, struct alog_err *err)
{
	struct verify_ctx vc = { INT64_MIN, err };
	struct alog_store *s = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	res->bad_index = UINT64_MAX;
	if (anchor_note && !vkey)
		return alog_err_set(err, ALOG_EINVAL,
				    "a saved checkpoint needs the verifier key it was signed with");
	rc = alog_store_open(dir, ALOG_STORE_RDONLY, &s, NULL, err);
	if (rc < 0)
		return rc;
	res->tree_size = alog_store_size(s);
	res->n_checkpoints = alog_store_checkpoint_count(s);
	if (vkey) {
		const struct alog_verifier *own = alog_store_vkey(s);

		if (own->key_id != vkey->key_id ||
		    memcmp(own->pub, vkey->pub, sizeof(own->pub)) != 0 ||
		    strcmp(own->name, vkey->name) != 0) {
			char have[ALOG_VKEY_MAX + 1];

			alog_verifier_format(own, have);
			rc = alog_err_set(err, ALOG_EVERIFY,
					  "the store's key '%s' is not the given verifier key: the log may have been rebuilt",
					  have);
			goto out;
		}
	}
	rc = alog_store_check(s, vkey, alog_log_record_received, verify_record,
			      &vc, progress,
			      &res->bad_index, err);
	if (rc < 0)
		goto out;
	if (anchor_note)
		rc = verify_anchor(s, vkey, anchor_note, anchor_len, res, err);
out:
	alog_store_close(s);
	return rc;
}
