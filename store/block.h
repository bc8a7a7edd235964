/*
 * block: the framed, checksummed, zstd-compressed unit of a segment
 * (SPEC.md "Blocks"). The only file of the project that includes zstd.
 *
 * A block holds n consecutive canonical records, each followed by one
 * 0x0A byte, compressed as one zstd frame. Header (40 bytes, big-endian):
 *   0  4  magic "ALB1"
 *   4  4  flags, reserved: MUST be 0
 *   8  8  first_index   index of the first record
 *  16  4  n_records     1..ALOG_BLOCK_RECORDS_MAX
 *  20  4  raw_len       1..ALOG_BLOCK_RAW_MAX, uncompressed payload bytes
 *  24  4  comp_len      1..ALOG_BLOCK_COMP_MAX, bytes of the zstd frame
 *  28  8  first_received  microseconds since 1970 (int64 two's complement)
 *  36  4  crc           CRC-32C of header bytes 0..35 then the zstd frame
 * Reader MUST check: magic, flags 0, every length within its limit, the
 * CRC, that the frame decompresses to exactly raw_len bytes, that the
 * payload has exactly n_records 0x0A bytes and ends with one.
 */
#ifndef ALOG_STORE_BLOCK_H
#define ALOG_STORE_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "store/buf.h"
#include "store/err.h"

#define ALOG_BLOCK_HEADER_LEN 40
#define ALOG_BLOCK_MAGIC 0x414C4231u /* "ALB1" */
/* A writer closes a block once its payload reaches this many bytes. */
#define ALOG_BLOCK_TARGET 65536
#define ALOG_BLOCK_RECORDS_MAX 65536
/* Largest payload: the target plus one record of the largest size. */
#define ALOG_BLOCK_RAW_MAX (4u * 1024 * 1024)
#define ALOG_BLOCK_COMP_MAX (ALOG_BLOCK_RAW_MAX + ALOG_BLOCK_RAW_MAX / 128 + 1024)
#define ALOG_BLOCK_ZSTD_LEVEL 1
/* Level 1's fast strategy, tuned for 64 KiB blocks of records (SPEC.md
 * "Blocks"): window 2^17, matches of 7 bytes or more, 2^16 hash slots. */
#define ALOG_BLOCK_ZSTD_WINDOW_LOG 17
#define ALOG_BLOCK_ZSTD_MIN_MATCH 7
#define ALOG_BLOCK_ZSTD_HASH_LOG 16

struct alog_block_header {
	uint32_t flags;
	uint64_t first_index;
	uint32_t n_records;
	uint32_t raw_len;
	uint32_t comp_len;
	int64_t first_received;
	uint32_t crc;
};

/* Reusable compression and decompression contexts. */
struct alog_codec;
int alog_codec_new(struct alog_codec **out, struct alog_err *err);
void alog_codec_free(struct alog_codec *c);

/* Encode a block from its payload (records each followed by 0x0A; the
 * caller guarantees n_records newlines): appends header + frame to out.
 * ALOG_EINVAL if n_records is 0, first_index + n_records overflows, or
 * the payload does not hold exactly n_records 0x0A bytes ending with one;
 * ALOG_ELIMIT over ALOG_BLOCK_RECORDS_MAX records or ALOG_BLOCK_RAW_MAX
 * bytes. out is unchanged on failure. */
int alog_block_encode(struct alog_codec *c, uint64_t first_index,
		      uint32_t n_records, int64_t first_received,
		      const unsigned char *payload, size_t payload_len,
		      struct alog_buf *out, struct alog_err *err);

/* Decode and check a 40-byte header (not the CRC, which covers the frame):
 * magic, flags 0, the three lengths within their limits, raw_len >=
 * n_records, first_index + n_records does not overflow. ALOG_ECORRUPT. */
int alog_block_header_decode(const unsigned char *p, size_t len,
			     struct alog_block_header *out,
			     struct alog_err *err);

/* Check the CRC of header bytes + frame (frame is comp_len bytes), then
 * decompress into payload (reset first) and check it against the header.
 * ALOG_ECORRUPT with the reason on any mismatch; payload is empty on
 * failure. h must be what alog_block_header_decode made of hdr_bytes. */
int alog_block_decode(struct alog_codec *c, const unsigned char *hdr_bytes,
		      const struct alog_block_header *h,
		      const unsigned char *frame, struct alog_buf *payload,
		      struct alog_err *err);

#endif
