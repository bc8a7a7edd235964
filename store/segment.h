/*
 * segment: one append-only file of blocks (SPEC.md "Segments").
 *
 * File "segments/<id as 8 decimal digits>.seg" inside the store. Header
 * (32 bytes, big-endian):
 *   0  8  magic "ALOGSEG1"
 *   8  4  version, 1
 *  12  4  segment id
 *  16  8  first_index  index of the first record the segment holds
 *  24  4  flags, reserved: MUST be 0
 *  28  4  CRC-32C of bytes 0..27
 * then blocks back to back (store/block.h). The store's LMDB records the
 * committed end of the segment being written; bytes past it are not part
 * of the log (see store.c for the open-time cut).
 *
 * Invariants: writes go through pwrite at the end, never through mmap;
 * after a failed fdatasync the segment is "broken": every later call but
 * close fails with ALOG_ESTATE (its page cache can't be trusted).
 */
#ifndef ALOG_STORE_SEGMENT_H
#define ALOG_STORE_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "store/block.h"
#include "store/buf.h"
#include "store/err.h"

#define ALOG_SEGMENT_HEADER_LEN 32
/* Default rotation size; a store may set a smaller one (tests do). */
#define ALOG_SEGMENT_SIZE_DEFAULT (256u * 1024 * 1024)
#define ALOG_SEGMENT_SIZE_MIN 4096u

struct alog_segment;

/* Create segments_dir/<id>.seg with O_EXCL, write and fdatasync its
 * header, fsync the directory. ALOG_EEXIST if the file exists; on any
 * later failure the new file is unlinked again (best effort). *out is
 * owned by the caller (alog_segment_close). */
int alog_segment_create(const char *segments_dir, uint32_t id,
			uint64_t first_index, struct alog_segment **out,
			struct alog_err *err);
/* Open an existing segment read-write (writable=1) or read-only, checking
 * its header (ALOG_ECORRUPT with the file name on mismatch; ALOG_ENOTFOUND
 * if it does not exist). size is the file size at open; a read-only
 * handle does not see later appends by another handle. */
int alog_segment_open(const char *segments_dir, uint32_t id, int writable,
		      struct alog_segment **out, struct alog_err *err);
void alog_segment_close(struct alog_segment *s);

uint32_t alog_segment_id(const struct alog_segment *s);
uint64_t alog_segment_first_index(const struct alog_segment *s);
/* Current file size in bytes (header included). */
uint64_t alog_segment_size(const struct alog_segment *s);
const char *alog_segment_path(const struct alog_segment *s);

/* Cut the file to len bytes (header <= len <= size, else ALOG_EINVAL) and
 * fsync it. ALOG_ESTATE if broken or read-only; a failed fsync breaks. */
int alog_segment_truncate(struct alog_segment *s, uint64_t len,
			  struct alog_err *err);
/* Write bytes (one or more encoded blocks) at the end; no sync. *offset
 * (if non-NULL) gets where they start. Short writes and EINTR are retried.
 * On a write error (ALOG_EIO, errno in cause) size stays what it was and
 * the partial bytes are cut off with ftruncate; if that cut fails too the
 * segment becomes broken. ALOG_ESTATE if broken or read-only. */
int alog_segment_write(struct alog_segment *s, const void *p, size_t len,
		       uint64_t *offset, struct alog_err *err);
/* fdatasync. On failure the segment becomes broken (see above). */
int alog_segment_sync(struct alog_segment *s, struct alog_err *err);

/* Read the block at offset: header, CRC, decompress into payload.
 * *next (if non-NULL) gets the offset just past it. Errors name the
 * segment file and the offset. Same ALOG_ENOTFOUND/ALOG_ECORRUPT rules
 * as peek; payload is empty on failure. */
int alog_segment_read_block(struct alog_segment *s, struct alog_codec *c,
			    uint64_t offset, struct alog_block_header *h,
			    struct alog_buf *payload, uint64_t *next,
			    struct alog_err *err);
/* Read only the header at offset and check that the whole block lies
 * within the file (no CRC check). ALOG_ENOTFOUND when offset == size;
 * ALOG_ECORRUPT for a torn or bad header. */
int alog_segment_peek_block(struct alog_segment *s, uint64_t offset,
			    struct alog_block_header *h, uint64_t *next,
			    struct alog_err *err);

/* For tests only: make the next durability call on s (alog_segment_sync,
 * or the fsync inside alog_segment_truncate) fail as if fdatasync had
 * returned EIO, without calling it. The segment then becomes broken. */
void alog_segment_test_fail_next_sync(struct alog_segment *s);

#endif
