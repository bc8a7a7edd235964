/*
 * block: encode and decode the framed, checksummed, zstd-compressed unit
 * of a segment (SPEC.md "Blocks"; format table in block.h).
 *
 * This is the project's only zstd adapter: every zstd failure is
 * translated here, once, with ZSTD_getErrorName.
 *
 * Invariants: a block this file encodes always decodes (the encoder checks
 * the payload against the same rules the decoder enforces); the decoder
 * never writes more than raw_len bytes into the payload and never reads
 * past comp_len bytes of the frame.
 */
#include "store/block.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>
#include <zstd_errors.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "store/bytes.h"

struct alog_codec {
	ZSTD_CCtx *cctx; /* ALOG_BLOCK_ZSTD_* parameters, content size on */
	ZSTD_DCtx *dctx;
};

/* Offset of the CRC field; the CRC covers the header bytes before it. */
#define CRC_OFF 36

int alog_codec_new(struct alog_codec **out, struct alog_err *err)
{
	struct alog_codec *c;
	size_t zr;
	int rc = 0;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return alog_err_set(err, ALOG_ENOMEM,
				    "out of memory allocating a zstd codec");
	c->cctx = ZSTD_createCCtx();
	c->dctx = ZSTD_createDCtx();
	if (!c->cctx || !c->dctx) {
		rc = alog_err_set(err, ALOG_ENOMEM,
				  "out of memory creating zstd contexts");
		goto out;
	}
	{
		/* The reader checks the frame's content size against raw_len
		 * (SPEC.md "Blocks"), so the writer always records it. */
		static const struct { ZSTD_cParameter p; int v; } params[] = {
			{ ZSTD_c_compressionLevel, ALOG_BLOCK_ZSTD_LEVEL },
			{ ZSTD_c_strategy, ZSTD_fast },
			{ ZSTD_c_windowLog, ALOG_BLOCK_ZSTD_WINDOW_LOG },
			{ ZSTD_c_minMatch, ALOG_BLOCK_ZSTD_MIN_MATCH },
			{ ZSTD_c_hashLog, ALOG_BLOCK_ZSTD_HASH_LOG },
			{ ZSTD_c_contentSizeFlag, 1 },
		};

		zr = 0;
		for (size_t i = 0; i < sizeof(params) / sizeof(params[0]) &&
		     !ZSTD_isError(zr); i++)
			zr = ZSTD_CCtx_setParameter(c->cctx, params[i].p,
						    params[i].v);
	}
	if (ZSTD_isError(zr)) {
		rc = alog_err_sys(err, ALOG_EINVAL, (int)ZSTD_getErrorCode(zr),
				  "zstd: cannot set compression parameters: %s",
				  ZSTD_getErrorName(zr));
		goto out;
	}
out:
	if (rc < 0) {
		alog_codec_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void alog_codec_free(struct alog_codec *c)
{
	if (!c)
		return;
	ZSTD_freeCCtx(c->cctx);
	ZSTD_freeDCtx(c->dctx);
	free(c);
}

/* The 0x0A bytes of [p, p + n). With SSE2, 16 bytes a step: each lane
 * counts its matches down from 0 (a match is -1), and the lanes are summed
 * before any could wrap (255 steps). */
static size_t count_newlines(const unsigned char *p, size_t n)
{
	size_t k = 0, i = 0;

#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8(0x0A), zero = _mm_setzero_si128();

	while (n - i >= 16) {
		__m128i acc = zero, sum;
		size_t steps = (n - i) / 16;

		if (steps > 255)
			steps = 255;
		for (; steps; steps--, i += 16)
			acc = _mm_add_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128(
				(const __m128i *)(const void *)(p + i)), nl));
		sum = _mm_sad_epu8(_mm_sub_epi8(zero, acc), zero);
		k += (size_t)_mm_cvtsi128_si32(sum) +
		     (size_t)_mm_cvtsi128_si32(_mm_srli_si128(sum, 8));
	}
#endif
	for (; i < n; i++)
		k += p[i] == 0x0A;
	return k;
}

int alog_block_encode(struct alog_codec *c, uint64_t first_index,
		      uint32_t n_records, int64_t first_received,
		      const unsigned char *payload, size_t payload_len,
		      struct alog_buf *out, struct alog_err *err)
{
	unsigned char *hdr;
	size_t bound, zr, nl;
	uint32_t crc;
	int rc;

	if (n_records == 0)
		return alog_err_set(err, ALOG_EINVAL,
				    "block with no records");
	if (n_records > ALOG_BLOCK_RECORDS_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "block of %" PRIu32 " records exceeds "
				    "the limit of %u",
				    n_records, (unsigned)ALOG_BLOCK_RECORDS_MAX);
	if (payload_len > ALOG_BLOCK_RAW_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "block payload of %zu bytes exceeds the "
				    "limit of %u bytes",
				    payload_len, (unsigned)ALOG_BLOCK_RAW_MAX);
	if (payload_len == 0 || payload[payload_len - 1] != 0x0A)
		return alog_err_set(err, ALOG_EINVAL,
				    "block payload does not end with a newline");
	if (first_index > UINT64_MAX - n_records)
		return alog_err_set(err, ALOG_EINVAL,
				    "block first index %" PRIu64 " + %" PRIu32
				    " records overflows", first_index,
				    n_records);
	/* Refuse to write a block that no reader would accept. */
	nl = count_newlines(payload, payload_len);
	if (nl != n_records)
		return alog_err_set(err, ALOG_EINVAL,
				    "block payload has %zu newlines for %" PRIu32
				    " records", nl, n_records);

	bound = ZSTD_compressBound(payload_len);
	rc = alog_buf_reserve(out, ALOG_BLOCK_HEADER_LEN + bound, err);
	if (rc < 0)
		return rc;
	hdr = out->data + out->len;
	zr = ZSTD_compress2(c->cctx, hdr + ALOG_BLOCK_HEADER_LEN, bound,
			    payload, payload_len);
	if (ZSTD_isError(zr)) {
		int code = ZSTD_getErrorCode(zr) == ZSTD_error_memory_allocation
				   ? ALOG_ENOMEM
				   : ALOG_EINVAL;

		return alog_err_sys(err, code, (int)ZSTD_getErrorCode(zr),
				    "zstd compression failed: %s",
				    ZSTD_getErrorName(zr));
	}
	/* compressBound(RAW_MAX) < COMP_MAX, so this cannot fire; keep the
	 * writer honest should the limits ever change. */
	if (zr == 0 || zr > ALOG_BLOCK_COMP_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "compressed block of %zu bytes exceeds the "
				    "limit of %u bytes",
				    zr, (unsigned)ALOG_BLOCK_COMP_MAX);

	alog_put_be32(hdr + 0, ALOG_BLOCK_MAGIC);
	alog_put_be32(hdr + 4, 0);
	alog_put_be64(hdr + 8, first_index);
	alog_put_be32(hdr + 16, n_records);
	alog_put_be32(hdr + 20, (uint32_t)payload_len);
	alog_put_be32(hdr + 24, (uint32_t)zr);
	alog_put_be64(hdr + 28, (uint64_t)first_received);
	crc = alog_crc32c(0, hdr, CRC_OFF);
	crc = alog_crc32c(crc, hdr + ALOG_BLOCK_HEADER_LEN, zr);
	alog_put_be32(hdr + CRC_OFF, crc);
	out->len += ALOG_BLOCK_HEADER_LEN + zr;
	out->data[out->len] = 0; /* buf invariant */
	return 0;
}

int alog_block_header_decode(const unsigned char *p, size_t len,
			     struct alog_block_header *out,
			     struct alog_err *err)
{
	struct alog_rd rd;
	struct alog_block_header h;
	uint32_t magic = 0;
	uint64_t received = 0;

	memset(&h, 0, sizeof(h));
	if (len < ALOG_BLOCK_HEADER_LEN)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "torn block header: %zu of %d bytes", len,
				    ALOG_BLOCK_HEADER_LEN);
	alog_rd_init(&rd, p, ALOG_BLOCK_HEADER_LEN);
	alog_rd_u32(&rd, &magic);
	alog_rd_u32(&rd, &h.flags);
	alog_rd_u64(&rd, &h.first_index);
	alog_rd_u32(&rd, &h.n_records);
	alog_rd_u32(&rd, &h.raw_len);
	alog_rd_u32(&rd, &h.comp_len);
	alog_rd_u64(&rd, &received);
	alog_rd_u32(&rd, &h.crc);
	if (rd.bad) /* unreachable: len was checked; never read past it */
		return alog_err_set(err, ALOG_ECORRUPT, "torn block header");
	/* Two's complement, as SPEC.md says; memcpy avoids an
	 * implementation-defined conversion. */
	memcpy(&h.first_received, &received, sizeof(received));

	if (magic != ALOG_BLOCK_MAGIC)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "bad block magic 0x%08" PRIx32
				    " (expected \"ALB1\")", magic);
	if (h.flags != 0)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "reserved block flags set: 0x%08" PRIx32,
				    h.flags);
	if (h.n_records == 0 || h.n_records > ALOG_BLOCK_RECORDS_MAX)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "block n_records %" PRIu32
				    " outside 1..%u", h.n_records,
				    (unsigned)ALOG_BLOCK_RECORDS_MAX);
	if (h.raw_len == 0 || h.raw_len > ALOG_BLOCK_RAW_MAX)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "block raw_len %" PRIu32 " outside 1..%u",
				    h.raw_len, (unsigned)ALOG_BLOCK_RAW_MAX);
	if (h.comp_len == 0 || h.comp_len > ALOG_BLOCK_COMP_MAX)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "block comp_len %" PRIu32 " outside 1..%u",
				    h.comp_len, (unsigned)ALOG_BLOCK_COMP_MAX);
	/* Each record ends with its own 0x0A byte. */
	if (h.raw_len < h.n_records)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "block raw_len %" PRIu32
				    " is smaller than n_records %" PRIu32,
				    h.raw_len, h.n_records);
	if (h.first_index > UINT64_MAX - h.n_records)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "block first_index %" PRIu64
				    " + n_records %" PRIu32 " overflows",
				    h.first_index, h.n_records);
	*out = h;
	return 0;
}

/* The frame must be exactly one zstd frame (not a skippable frame, no
 * bytes after it) whose declared content size, if any, is raw_len. */
static int check_frame(const struct alog_block_header *h,
		       const unsigned char *frame, struct alog_err *err)
{
	unsigned long long fcs;
	size_t n;

	if (h->comp_len < 4 ||
	    (uint32_t)frame[0] != (ZSTD_MAGICNUMBER & 0xff) ||
	    (uint32_t)frame[1] != (ZSTD_MAGICNUMBER >> 8 & 0xff) ||
	    (uint32_t)frame[2] != (ZSTD_MAGICNUMBER >> 16 & 0xff) ||
	    (uint32_t)frame[3] != (ZSTD_MAGICNUMBER >> 24 & 0xff))
		return alog_err_set(err, ALOG_ECORRUPT,
				    "block frame is not a zstd frame");
	n = ZSTD_findFrameCompressedSize(frame, h->comp_len);
	if (ZSTD_isError(n))
		return alog_err_sys(err, ALOG_ECORRUPT,
				    (int)ZSTD_getErrorCode(n),
				    "block frame is damaged: zstd: %s",
				    ZSTD_getErrorName(n));
	if (n != h->comp_len)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "block frame of %zu bytes is followed by "
				    "%zu other bytes", n,
				    (size_t)h->comp_len - n);
	fcs = ZSTD_getFrameContentSize(frame, h->comp_len);
	if (fcs == ZSTD_CONTENTSIZE_ERROR)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "block frame header is damaged");
	if (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs != h->raw_len)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "block frame content size %llu differs "
				    "from raw_len %" PRIu32, fcs, h->raw_len);
	return 0;
}

int alog_block_decode(struct alog_codec *c, const unsigned char *hdr_bytes,
		      const struct alog_block_header *h,
		      const unsigned char *frame, struct alog_buf *payload,
		      struct alog_err *err)
{
	uint32_t crc;
	size_t zr, nl;
	int rc;

	alog_buf_reset(payload);
	/* h is trusted to come from alog_block_header_decode; recheck the
	 * sizes used below so that a caller's mistake can't overrun. */
	if (h->comp_len == 0 || h->comp_len > ALOG_BLOCK_COMP_MAX ||
	    h->raw_len == 0 || h->raw_len > ALOG_BLOCK_RAW_MAX)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "block lengths outside their limits");

	crc = alog_crc32c(0, hdr_bytes, CRC_OFF);
	crc = alog_crc32c(crc, frame, h->comp_len);
	if (crc != h->crc)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "block crc mismatch (stored 0x%08" PRIx32
				    ", computed 0x%08" PRIx32 ")", h->crc,
				    crc);
	rc = check_frame(h, frame, err);
	if (rc < 0)
		return rc;

	rc = alog_buf_reserve(payload, h->raw_len, err);
	if (rc < 0)
		return rc;
	/* dst capacity raw_len: a frame that inflates further fails here
	 * rather than allocating or writing more. */
	zr = ZSTD_decompressDCtx(c->dctx, payload->data, h->raw_len, frame,
				 h->comp_len);
	if (ZSTD_isError(zr))
		return alog_err_sys(err, ALOG_ECORRUPT,
				    (int)ZSTD_getErrorCode(zr),
				    "block frame does not decompress: zstd: %s",
				    ZSTD_getErrorName(zr));
	if (zr != h->raw_len)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "block decompresses to %zu bytes, "
				    "raw_len says %" PRIu32, zr, h->raw_len);
	payload->len = zr;
	payload->data[zr] = 0;

	nl = count_newlines(payload->data, payload->len);
	if (nl != h->n_records || payload->data[payload->len - 1] != 0x0A) {
		size_t n = payload->len;

		alog_buf_reset(payload);
		if (nl != h->n_records)
			return alog_err_set(err, ALOG_ECORRUPT,
					    "block payload has %zu records, "
					    "n_records says %" PRIu32, nl,
					    h->n_records);
		return alog_err_set(err, ALOG_ECORRUPT,
				    "block payload of %zu bytes does not end "
				    "with a newline", n);
	}
	return 0;
}
