/*
 * test_segment: blocks (store/block.h) and segment files
 * (store/segment.h), SPEC.md "Blocks" and "Segments".
 *
 * Vectors (independent of the code under test; computed with a bitwise
 * Python CRC-32C and struct.pack while writing these tests):
 *   V-CRC32C-1   crc32c("123456789") = 0xE3069283
 *   V-BLOCK-1    a hand-made block whose frame is an RFC 8878 frame with
 *                one Raw_Block (no compression) holding two records
 *   V-SEGMENT-1  segment header for id 1, first_index 0
 *   V-SEGMENT-2  segment header for id 7, first_index 123456789
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/block.h"
#include "store/bytes.h"
#include "store/segment.h"
#include "testutil.h"

/* V-BLOCK-1: first_index 5, n_records 2, raw_len 16, comp_len 25,
 * first_received 1700000000000000, crc 0xC86AFADE; payload below. */
static const char v_block_1_hex[] =
	"414c423100000000000000000000000500000002000000100000001900060a24"
	"181e4000c86afade28b52ffd20108100007b2261223a317d0a7b2262223a327d"
	"0a";
static const char v_block_1_payload[] = "{\"a\":1}\n{\"b\":2}\n";
static const char v_segment_1_hex[] =
	"414c4f47534547310000000100000001000000000000000000000000af5172a8";
static const char v_segment_2_hex[] =
	"414c4f4753454731000000010000000700000000075bcd15000000009f998ba6";

/* ---- helpers ---- */

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "wb");
	assert_non_null(f);
	if (n)
		assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}


/* n records "{"i":<k>,"pad":"xxx..."}\n", k from 0. */
static void make_payload(struct alog_buf *b, unsigned n, unsigned pad)
{
	alog_buf_reset(b);
	for (unsigned k = 0; k < n; k++) {
		assert_int_equal(alog_buf_addf(b, NULL, "{\"i\":%u,\"pad\":\"",
					       k), 0);
		for (unsigned j = 0; j < pad; j++)
			assert_int_equal(alog_buf_addc(b, 'a' + (k + j) % 26,
						       NULL), 0);
		assert_int_equal(alog_buf_adds(b, "\"}\n", NULL), 0);
	}
}

/* Decode header + frame held back to back in p. */
static int decode_bytes(struct alog_codec *c, const unsigned char *p,
			size_t n, struct alog_block_header *h,
			struct alog_buf *payload, struct alog_err *err)
{
	int rc = alog_block_header_decode(p, n, h, err);

	if (rc < 0)
		return rc;
	if (n - ALOG_BLOCK_HEADER_LEN < h->comp_len)
		return alog_err_set(err, ALOG_ECORRUPT, "test: short frame");
	return alog_block_decode(c, p, h, p + ALOG_BLOCK_HEADER_LEN, payload,
				 err);
}

/* An RFC 8878 frame with one raw (stored) last block holding p[0..n).
 * With fcs, Single_Segment with a 1-byte Frame_Content_Size (n < 256);
 * without, a Window_Descriptor and no content size. */
static size_t raw_frame(unsigned char *out, const void *p, size_t n, int fcs)
{
	size_t k = 0;
	uint32_t bh = 1u | (uint32_t)n << 3; /* Last_Block, Raw_Block */

	assert_true(n < 256);
	out[k++] = 0x28;
	out[k++] = 0xB5;
	out[k++] = 0x2F;
	out[k++] = 0xFD;
	if (fcs) {
		out[k++] = 0x20; /* Single_Segment_flag, FCS_Field_Size 1 */
		out[k++] = (unsigned char)n;
	} else {
		out[k++] = 0x00;
		out[k++] = 0x00; /* Window_Descriptor: 1 KiB */
	}
	out[k++] = (unsigned char)bh;
	out[k++] = (unsigned char)(bh >> 8);
	out[k++] = (unsigned char)(bh >> 16);
	memcpy(out + k, p, n);
	return k + n;
}

/* Header for frame[0..frame_len) with the given fields and a correct
 * CRC, followed by the frame; returns the block length. */
static size_t make_block(unsigned char *out, uint32_t flags,
			 uint32_t n_records, uint32_t raw_len,
			 const unsigned char *frame, size_t frame_len)
{
	uint32_t crc;

	alog_put_be32(out, ALOG_BLOCK_MAGIC);
	alog_put_be32(out + 4, flags);
	alog_put_be64(out + 8, 0);
	alog_put_be32(out + 16, n_records);
	alog_put_be32(out + 20, raw_len);
	alog_put_be32(out + 24, (uint32_t)frame_len);
	alog_put_be64(out + 28, 0);
	memcpy(out + ALOG_BLOCK_HEADER_LEN, frame, frame_len);
	crc = alog_crc32c(0, out, 36);
	crc = alog_crc32c(crc, frame, frame_len);
	alog_put_be32(out + 36, crc);
	return ALOG_BLOCK_HEADER_LEN + frame_len;
}

static void expect_corrupt(struct alog_codec *c, const unsigned char *p,
			   size_t n, const char *needle)
{
	struct alog_block_header h;
	struct alog_buf payload;
	struct alog_err err;

	alog_buf_init(&payload, 0);
	alog_err_clear(&err);
	assert_int_equal(decode_bytes(c, p, n, &h, &payload, &err),
			 ALOG_ECORRUPT);
	if (!strstr(err.msg, needle))
		fail_msg("message '%s' lacks '%s'", err.msg, needle);
	assert_int_equal(payload.len, 0);
	alog_buf_release(&payload);
}

/* A 40-byte header with valid fields (CRC not checked by header_decode). */
static void good_header(unsigned char *p)
{
	memset(p, 0, ALOG_BLOCK_HEADER_LEN);
	alog_put_be32(p, ALOG_BLOCK_MAGIC);
	alog_put_be32(p + 16, 1);
	alog_put_be32(p + 20, 1);
	alog_put_be32(p + 24, 1);
}

static int header_rc(const unsigned char *p)
{
	struct alog_block_header h;
	struct alog_err err;

	alog_err_clear(&err);
	return alog_block_header_decode(p, ALOG_BLOCK_HEADER_LEN, &h, &err);
}

/* ---- CRC ---- */

static void test_crc32c_of_123456789_is_e3069283(void **state)
{
	(void)state;
	/* V-CRC32C-1 */
	assert_int_equal(alog_crc32c(0, "123456789", 9), 0xE3069283u);
	/* Chaining gives the same answer as one call. */
	assert_int_equal(alog_crc32c(alog_crc32c(0, "1234", 4), "56789", 5),
			 0xE3069283u);
}

/* ---- blocks ---- */

static void test_block_decodes_the_hand_made_raw_frame_vector(void **state)
{
	unsigned char blk[65];
	struct alog_block_header h;
	struct alog_buf payload;
	struct alog_codec *c;
	struct alog_err err;

	(void)state;
	testutil_unhex(v_block_1_hex, blk, sizeof(blk));
	assert_int_equal(alog_codec_new(&c, &err), 0);
	alog_buf_init(&payload, 0);
	/* V-BLOCK-1 */
	assert_int_equal(decode_bytes(c, blk, sizeof(blk), &h, &payload, &err),
			 0);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.first_index, 5);
	assert_int_equal(h.n_records, 2);
	assert_int_equal(h.raw_len, 16);
	assert_int_equal(h.comp_len, 25);
	assert_true(h.first_received == INT64_C(1700000000000000));
	assert_int_equal(h.crc, 0xC86AFADEu);
	assert_int_equal(payload.len, strlen(v_block_1_payload));
	assert_memory_equal(payload.data, v_block_1_payload, payload.len);
	alog_buf_release(&payload);
	alog_codec_free(c);
}

static void round_trip(struct alog_codec *c, unsigned n)
{
	struct alog_buf payload, out, back;
	struct alog_block_header h;
	struct alog_err err;
	uint32_t crc;

	alog_buf_init(&payload, 0);
	alog_buf_init(&out, 0);
	alog_buf_init(&back, 0);
	make_payload(&payload, n, 40);
	/* Appends after what out already holds. */
	assert_int_equal(alog_buf_adds(&out, "prefix", NULL), 0);
	assert_int_equal(alog_block_encode(c, UINT64_C(1) << 40, n,
					   -INT64_C(1234567), payload.data,
					   payload.len, &out, &err),
			 0);
	assert_memory_equal(out.data, "prefix", 6);
	assert_int_equal(decode_bytes(c, out.data + 6, out.len - 6, &h, &back,
				      &err),
			 0);
	assert_int_equal(out.len - 6, ALOG_BLOCK_HEADER_LEN + h.comp_len);
	/* Header bytes exactly as SPEC.md's table lays them out. */
	assert_memory_equal(out.data + 6, "ALB1\0\0\0\0", 8);
	assert_int_equal(alog_get_be64(out.data + 6 + 8), UINT64_C(1) << 40);
	assert_int_equal(alog_get_be32(out.data + 6 + 16), n);
	assert_int_equal(alog_get_be32(out.data + 6 + 20), payload.len);
	assert_true(alog_get_be64(out.data + 6 + 28) ==
		    (uint64_t)-INT64_C(1234567));
	crc = alog_crc32c(0, out.data + 6, 36);
	crc = alog_crc32c(crc, out.data + 6 + 40, h.comp_len);
	assert_int_equal(alog_get_be32(out.data + 6 + 36), crc);
	assert_true(h.first_received == -INT64_C(1234567));
	assert_int_equal(h.n_records, n);
	assert_int_equal(back.len, payload.len);
	assert_memory_equal(back.data, payload.data, payload.len);
	alog_buf_release(&payload);
	alog_buf_release(&out);
	alog_buf_release(&back);
}

static void test_block_round_trips_1_2_and_1000_records(void **state)
{
	struct alog_codec *c;

	(void)state;
	assert_int_equal(alog_codec_new(&c, NULL), 0);
	round_trip(c, 1);
	round_trip(c, 2);
	round_trip(c, 1000);
	round_trip(c, 1); /* contexts are reusable after a big block */
	alog_codec_free(c);
}

/* A codec and three empty buffers: a payload, the block, what it decodes
 * to. */
static struct alog_codec *codec_and_bufs(struct alog_buf *payload,
					 struct alog_buf *out,
					 struct alog_buf *back)
{
	struct alog_codec *c = NULL;

	assert_int_equal(alog_codec_new(&c, NULL), 0);
	alog_buf_init(payload, 0);
	alog_buf_init(out, 0);
	alog_buf_init(back, 0);
	return c;
}

static void test_block_encode_accepts_limits_and_refuses_one_past(void **state)
{
	struct alog_buf payload, out, back;
	struct alog_block_header h;
	struct alog_codec *c;
	struct alog_err err;

	(void)state;
	c = codec_and_bufs(&payload, &out, &back);

	/* ALOG_BLOCK_RECORDS_MAX records of "x\n" encode and decode. */
	for (unsigned k = 0; k < ALOG_BLOCK_RECORDS_MAX; k++)
		assert_int_equal(alog_buf_add(&payload, "x\n", 2, NULL), 0);
	assert_int_equal(alog_block_encode(c, 0, ALOG_BLOCK_RECORDS_MAX, 0,
					   payload.data, payload.len, &out,
					   &err),
			 0);
	assert_int_equal(decode_bytes(c, out.data, out.len, &h, &back, &err),
			 0);
	assert_int_equal(h.n_records, ALOG_BLOCK_RECORDS_MAX);
	assert_int_equal(alog_buf_add(&payload, "x\n", 2, NULL), 0);
	alog_buf_reset(&out);
	assert_int_equal(alog_block_encode(c, 0, ALOG_BLOCK_RECORDS_MAX + 1, 0,
					   payload.data, payload.len, &out,
					   &err),
			 ALOG_ELIMIT);
	assert_int_equal(out.len, 0);

	/* A payload of exactly ALOG_BLOCK_RAW_MAX bytes: 64 lines. */
	alog_buf_reset(&payload);
	assert_int_equal(alog_buf_reserve(&payload, ALOG_BLOCK_RAW_MAX + 1,
					  NULL), 0);
	for (size_t i = 0; i < ALOG_BLOCK_RAW_MAX; i++)
		payload.data[i] = (i % 65536 == 65535) ? '\n'
						       : (unsigned char)('a' + i % 23);
	payload.len = ALOG_BLOCK_RAW_MAX;
	assert_int_equal(alog_block_encode(c, 0, 64, 0, payload.data,
					   payload.len, &out, &err),
			 0);
	assert_int_equal(decode_bytes(c, out.data, out.len, &h, &back, &err),
			 0);
	assert_int_equal(back.len, ALOG_BLOCK_RAW_MAX);
	assert_memory_equal(back.data, payload.data, payload.len);
	payload.data[ALOG_BLOCK_RAW_MAX] = '\n';
	payload.len = ALOG_BLOCK_RAW_MAX + 1;
	alog_buf_reset(&out);
	assert_int_equal(alog_block_encode(c, 0, 65, 0, payload.data,
					   payload.len, &out, &err),
			 ALOG_ELIMIT);
	assert_int_equal(out.len, 0);

	/* No records; a payload that disagrees with n_records. */
	assert_int_equal(alog_block_encode(c, 0, 0, 0, (const unsigned char *)
					   "a\n", 2, &out, &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_block_encode(c, 0, 2, 0, (const unsigned char *)
					   "a\n", 2, &out, &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_block_encode(c, 0, 1, 0, (const unsigned char *)
					   "a\nb", 3, &out, &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_block_encode(c, UINT64_MAX, 1, 0,
					   (const unsigned char *)"a\n", 2,
					   &out, &err),
			 ALOG_EINVAL);
	assert_int_equal(out.len, 0);

	alog_buf_release(&payload);
	alog_buf_release(&out);
	alog_buf_release(&back);
	alog_codec_free(c);
}

static void test_block_header_rejects_each_reserved_flag_bit(void **state)
{
	unsigned char p[ALOG_BLOCK_HEADER_LEN];

	(void)state;
	good_header(p);
	assert_int_equal(header_rc(p), 0);
	for (int bit = 0; bit < 32; bit++) {
		good_header(p);
		alog_put_be32(p + 4, UINT32_C(1) << bit);
		assert_int_equal(header_rc(p), ALOG_ECORRUPT);
	}
}

static void test_block_header_rejects_bad_magic_and_short_input(void **state)
{
	unsigned char p[ALOG_BLOCK_HEADER_LEN];
	struct alog_block_header h;
	struct alog_err err;

	(void)state;
	for (int i = 0; i < 4; i++) {
		good_header(p);
		p[i] ^= 0x20; /* "alb1", "aLB1", ... */
		assert_int_equal(header_rc(p), ALOG_ECORRUPT);
	}
	good_header(p);
	assert_int_equal(alog_block_header_decode(p, ALOG_BLOCK_HEADER_LEN - 1,
						  &h, &err),
			 ALOG_ECORRUPT);
	assert_non_null(strstr(err.msg, "torn block header"));
	assert_int_equal(alog_block_header_decode(p, 0, &h, &err),
			 ALOG_ECORRUPT);
}

static void test_block_header_checks_each_length_limit_plus_minus_one(
	void **state)
{
	static const struct {
		int off;
		uint32_t max;
	} f[] = {
		{16, ALOG_BLOCK_RECORDS_MAX},
		{20, ALOG_BLOCK_RAW_MAX},
		{24, ALOG_BLOCK_COMP_MAX},
	};
	unsigned char p[ALOG_BLOCK_HEADER_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		good_header(p);
		alog_put_be32(p + 20, ALOG_BLOCK_RAW_MAX); /* >= n_records */
		alog_put_be32(p + f[i].off, 0);
		assert_int_equal(header_rc(p), ALOG_ECORRUPT);
		alog_put_be32(p + f[i].off, f[i].max);
		assert_int_equal(header_rc(p), 0);
		alog_put_be32(p + f[i].off, f[i].max + 1);
		assert_int_equal(header_rc(p), ALOG_ECORRUPT);
		alog_put_be32(p + f[i].off, UINT32_MAX);
		assert_int_equal(header_rc(p), ALOG_ECORRUPT);
	}
	/* raw_len below n_records, and an index range that overflows. */
	good_header(p);
	alog_put_be32(p + 16, 3);
	alog_put_be32(p + 20, 2);
	assert_int_equal(header_rc(p), ALOG_ECORRUPT);
	good_header(p);
	alog_put_be64(p + 8, UINT64_MAX);
	assert_int_equal(header_rc(p), ALOG_ECORRUPT);
	alog_put_be64(p + 8, UINT64_MAX - 1);
	assert_int_equal(header_rc(p), 0);
}

static void test_block_decode_rejects_a_flipped_bit_in_every_byte(void **state)
{
	struct alog_buf payload, out;
	struct alog_block_header h;
	struct alog_codec *c;
	struct alog_err err;
	unsigned char blk[65];

	(void)state;
	assert_int_equal(alog_codec_new(&c, NULL), 0);
	alog_buf_init(&payload, 0);
	alog_buf_init(&out, 0);
	assert_int_equal(alog_block_encode(c, 9, 3, 77, (const unsigned char *)
					   "{\"x\":1}\n{\"y\":2}\n{\"z\":3}\n",
					   24, &out, &err),
			 0);
	testutil_unhex(v_block_1_hex, blk, sizeof(blk));
	for (int which = 0; which < 2; which++) {
		unsigned char *p = which ? blk : out.data;
		size_t n = which ? sizeof(blk) : out.len;

		for (size_t i = 0; i < n; i++) {
			for (int bit = 0; bit < 8; bit++) {
				int rc;

				p[i] ^= (unsigned char)(1u << bit);
				alog_err_clear(&err);
				rc = alog_block_header_decode(p, n, &h, &err);
				if (rc == 0) {
					/* Header still well-formed: the CRC
					 * over header and frame must catch
					 * it (a smaller comp_len just covers
					 * fewer bytes; a larger one runs
					 * past this buffer, so skip). */
					if (h.comp_len >
					    n - ALOG_BLOCK_HEADER_LEN) {
						p[i] ^= (unsigned char)(1u << bit);
						continue;
					}
					rc = alog_block_decode(
						c, p, &h,
						p + ALOG_BLOCK_HEADER_LEN,
						&payload, &err);
					assert_int_equal(rc, ALOG_ECORRUPT);
					if (!strstr(err.msg, "crc mismatch"))
						fail_msg("byte %zu bit %d: %s",
							 i, bit, err.msg);
				} else {
					assert_int_equal(rc, ALOG_ECORRUPT);
					assert_true(i < 36);
				}
				p[i] ^= (unsigned char)(1u << bit);
			}
		}
		/* Restored: decodes again. */
		assert_int_equal(decode_bytes(c, p, n, &h, &payload, &err), 0);
	}
	alog_buf_release(&payload);
	alog_buf_release(&out);
	alog_codec_free(c);
}

/* The newline count that both the encoder and the decoder check holds for
 * payloads whose newlines are dense (every byte, every 16th byte: one
 * counter lane each step) and long (past the steps the counters can take
 * before they are summed), and for lengths that leave a tail. */
static void test_block_newline_count_holds_for_dense_and_long_payloads(
	void **state)
{
	static const size_t rec_lens[] = { 1, 2, 15, 16, 17 };
	static const size_t n_recs[] = { 1, 15, 16, 17, 254, 255, 256, 257,
					 4079, 4080, 4081, 9000 };
	struct alog_codec *c;
	struct alog_buf payload, out, back;
	struct alog_block_header h;
	struct alog_err err;

	(void)state;
	c = codec_and_bufs(&payload, &out, &back);
	for (size_t r = 0; r < sizeof(rec_lens) / sizeof(rec_lens[0]); r++) {
		for (size_t k = 0; k < sizeof(n_recs) / sizeof(n_recs[0]);
		     k++) {
			size_t len = rec_lens[r], n = n_recs[k];
			char want[96];

			alog_buf_reset(&payload);
			for (size_t i = 0; i < n; i++)
				for (size_t j = 0; j < len; j++)
					assert_int_equal(alog_buf_addc(
						&payload,
						j + 1 == len ? '\n' : 'a',
						NULL), 0);
			alog_buf_reset(&out);
			assert_int_equal(alog_block_encode(c, 0, (uint32_t)n, 0,
							   payload.data,
							   payload.len, &out,
							   &err), 0);
			assert_int_equal(decode_bytes(c, out.data, out.len,
						      &h, &back, &err), 0);
			assert_int_equal(h.n_records, n);
			/* one record more than the payload holds */
			alog_buf_reset(&out);
			assert_int_equal(alog_block_encode(c, 0,
							   (uint32_t)n + 1, 0,
							   payload.data,
							   payload.len, &out,
							   &err),
					 ALOG_EINVAL);
			snprintf(want, sizeof(want),
				 "block payload has %zu newlines for %zu "
				 "records", n, n + 1);
			assert_string_equal(err.msg, want);
		}
	}
	alog_buf_release(&payload);
	alog_buf_release(&out);
	alog_buf_release(&back);
	alog_codec_free(c);
}

static void test_block_decode_rejects_newline_count_off_by_one(void **state)
{
	static const char three[] = "a\nb\nc\n";
	unsigned char frame[64], blk[128];
	size_t fn, bn;
	struct alog_codec *c;

	(void)state;
	assert_int_equal(alog_codec_new(&c, NULL), 0);
	fn = raw_frame(frame, three, 6, 1);
	bn = make_block(blk, 0, 3, 6, frame, fn);
	{
		struct alog_block_header h;
		struct alog_buf payload;

		alog_buf_init(&payload, 0);
		assert_int_equal(decode_bytes(c, blk, bn, &h, &payload, NULL),
				 0);
		alog_buf_release(&payload);
	}
	bn = make_block(blk, 0, 2, 6, frame, fn);
	expect_corrupt(c, blk, bn, "block payload has 3 records, n_records "
				   "says 2");
	bn = make_block(blk, 0, 4, 6, frame, fn);
	expect_corrupt(c, blk, bn, "block payload has 3 records, n_records "
				   "says 4");
	/* Right count, but the last record lacks its newline. */
	fn = raw_frame(frame, "a\nb", 3, 1);
	bn = make_block(blk, 0, 1, 3, frame, fn);
	expect_corrupt(c, blk, bn, "does not end with a newline");
	alog_codec_free(c);
}

static void test_block_decode_checks_the_frame_against_raw_len(void **state)
{
	unsigned char frame[64], blk[128];
	size_t fn, bn;
	struct alog_codec *c;

	(void)state;
	assert_int_equal(alog_codec_new(&c, NULL), 0);
	/* Declared content size differs from raw_len. */
	fn = raw_frame(frame, "x\ny\n", 4, 1);
	bn = make_block(blk, 0, 2, 5, frame, fn);
	expect_corrupt(c, blk, bn, "content size 4 differs from raw_len 5");
	/* No declared content size: output bounded by raw_len. */
	fn = raw_frame(frame, "x\ny\n", 4, 0);
	bn = make_block(blk, 0, 2, 3, frame, fn);
	expect_corrupt(c, blk, bn, "does not decompress");
	bn = make_block(blk, 0, 2, 5, frame, fn);
	expect_corrupt(c, blk, bn, "decompresses to 4 bytes");
	bn = make_block(blk, 0, 2, 4, frame, fn);
	{
		struct alog_block_header h;
		struct alog_buf payload;

		alog_buf_init(&payload, 0);
		assert_int_equal(decode_bytes(c, blk, bn, &h, &payload, NULL),
				 0);
		assert_memory_equal(payload.data, "x\ny\n", 4);
		alog_buf_release(&payload);
	}
	/* Bytes after the frame. */
	fn = raw_frame(frame, "x\ny\n", 4, 1);
	frame[fn++] = 0;
	bn = make_block(blk, 0, 2, 4, frame, fn);
	expect_corrupt(c, blk, bn, "followed by 1 other bytes");
	/* A skippable frame (magic 0x184D2A50) instead of a zstd frame. */
	{
		static const unsigned char skip[] = {0x50, 0x2A, 0x4D, 0x18,
						     2, 0, 0, 0, 'x', '\n'};

		bn = make_block(blk, 0, 1, 2, skip, sizeof(skip));
		expect_corrupt(c, blk, bn, "not a zstd frame");
	}
	/* A frame cut short (declared block larger than what follows). */
	fn = raw_frame(frame, "x\ny\n", 4, 1);
	bn = make_block(blk, 0, 2, 4, frame, fn - 1);
	expect_corrupt(c, blk, bn, "block frame is damaged");
	alog_codec_free(c);
}

/* ---- segments ---- */

struct segfix {
	char *dir;
	char path[4096];
	struct alog_codec *codec;
};

static int seg_setup(void **state)
{
	struct segfix *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->dir = testutil_tmpdir();
	snprintf(f->path, sizeof(f->path), "%s/00000001.seg", f->dir);
	if (alog_codec_new(&f->codec, NULL) < 0)
		return -1;
	*state = f;
	return 0;
}

static int seg_teardown(void **state)
{
	struct segfix *f = *state;

	testutil_rmtree(f->dir);
	free(f->dir);
	alog_codec_free(f->codec);
	free(f);
	return 0;
}

/* Append one block of n records (first index first) to s; returns its
 * offset. payload receives the records. */
static uint64_t append_block(struct segfix *f, struct alog_segment *s,
			     uint64_t first, unsigned n, struct alog_buf *payload)
{
	struct alog_buf out;
	struct alog_err err;
	uint64_t off = 0;

	alog_buf_init(&out, 0);
	make_payload(payload, n, (unsigned)first % 7 + 3);
	assert_int_equal(alog_block_encode(f->codec, first, n,
					   1000 + (int64_t)first, payload->data,
					   payload->len, &out, &err),
			 0);
	assert_int_equal(alog_segment_write(s, out.data, out.len, &off, &err),
			 0);
	alog_buf_release(&out);
	return off;
}

/* Read the block at off and check it holds want, first index first. */
static uint64_t expect_block(struct segfix *f, struct alog_segment *s,
			     uint64_t off, uint64_t first,
			     const struct alog_buf *want)
{
	struct alog_block_header h;
	struct alog_buf got;
	struct alog_err err;
	uint64_t next = 0, pnext = 0;

	alog_buf_init(&got, 0);
	alog_err_clear(&err);
	if (alog_segment_read_block(s, f->codec, off, &h, &got, &next,
				    &err) < 0)
		fail_msg("read_block at %" PRIu64 ": %s", off, err.msg);
	assert_int_equal(h.first_index, first);
	assert_true(h.first_received == 1000 + (int64_t)first);
	assert_int_equal(got.len, want->len);
	assert_memory_equal(got.data, want->data, want->len);
	assert_int_equal(next, off + ALOG_BLOCK_HEADER_LEN + h.comp_len);
	assert_int_equal(alog_segment_peek_block(s, off, &h, &pnext, &err), 0);
	assert_int_equal(pnext, next);
	alog_buf_release(&got);
	return next;
}

static void test_segment_create_writes_the_published_header(void **state)
{
	struct segfix *f = *state;
	struct alog_segment *s;
	struct alog_err err;
	unsigned char want[ALOG_SEGMENT_HEADER_LEN], *got;
	struct stat st;
	char path7[4096];
	size_t n;

	umask(022);
	assert_int_equal(alog_segment_create(f->dir, 1, 0, &s, &err), 0);
	assert_string_equal(alog_segment_path(s), f->path);
	assert_int_equal(alog_segment_id(s), 1);
	assert_int_equal(alog_segment_first_index(s), 0);
	assert_int_equal(alog_segment_size(s), ALOG_SEGMENT_HEADER_LEN);
	alog_segment_close(s);
	/* V-SEGMENT-1 */
	got = testutil_read_file(f->path, &n);
	testutil_unhex(v_segment_1_hex, want, sizeof(want));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
	free(got);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);

	/* V-SEGMENT-2: the id is zero-padded to 8 digits in the name. */
	assert_int_equal(alog_segment_create(f->dir, 7, 123456789, &s, &err),
			 0);
	alog_segment_close(s);
	snprintf(path7, sizeof(path7), "%s/00000007.seg", f->dir);
	got = testutil_read_file(path7, &n);
	testutil_unhex(v_segment_2_hex, want, sizeof(want));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
	free(got);
	assert_int_equal(alog_segment_open(f->dir, 7, 0, &s, &err), 0);
	assert_int_equal(alog_segment_first_index(s), 123456789);
	alog_segment_close(s);
}

static void test_segment_create_twice_fails_with_eexist(void **state)
{
	struct segfix *f = *state;
	struct alog_segment *s, *s2 = NULL;
	struct alog_err err;

	assert_int_equal(alog_segment_create(f->dir, 1, 0, &s, &err), 0);
	assert_int_equal(alog_segment_create(f->dir, 1, 0, &s2, &err),
			 ALOG_EEXIST);
	assert_null(s2);
	assert_non_null(strstr(err.msg, f->path));
	/* The first one is untouched. */
	assert_int_equal(alog_segment_size(s), ALOG_SEGMENT_HEADER_LEN);
	alog_segment_close(s);
	assert_int_equal(alog_segment_open(f->dir, 1, 0, &s, &err), 0);
	alog_segment_close(s);
}

static void test_segment_open_of_a_missing_file_is_not_found(void **state)
{
	struct segfix *f = *state;
	struct alog_segment *s = NULL;
	struct alog_err err;

	assert_int_equal(alog_segment_open(f->dir, 1, 0, &s, &err),
			 ALOG_ENOTFOUND);
	assert_null(s);
	assert_non_null(strstr(err.msg, f->path));
	assert_int_equal(alog_segment_create("", 1, 0, &s, &err), ALOG_EINVAL);
}

static void expect_open_corrupt(struct segfix *f, const unsigned char *hdr,
				size_t n, const char *needle)
{
	struct alog_segment *s = NULL;
	struct alog_err err;

	write_file(f->path, hdr, n);
	alog_err_clear(&err);
	assert_int_equal(alog_segment_open(f->dir, 1, 1, &s, &err),
			 ALOG_ECORRUPT);
	assert_null(s);
	if (!strstr(err.msg, needle) || !strstr(err.msg, f->path))
		fail_msg("message '%s' lacks '%s' or the path", err.msg,
			 needle);
}

static void test_segment_open_rejects_a_bad_header_in_each_field(void **state)
{
	struct segfix *f = *state;
	unsigned char good[ALOG_SEGMENT_HEADER_LEN], h[sizeof(good)];
	struct alog_segment *s;
	struct alog_err err;

	testutil_unhex(v_segment_1_hex, good, sizeof(good));
	write_file(f->path, good, sizeof(good));
	assert_int_equal(alog_segment_open(f->dir, 1, 1, &s, &err), 0);
	alog_segment_close(s);

	/* Each field wrong, with the CRC recomputed so the field check
	 * itself is what fires. */
	memcpy(h, good, sizeof(h));
	h[7] = '2'; /* "ALOGSEG2" */
	alog_put_be32(h + 28, alog_crc32c(0, h, 28));
	expect_open_corrupt(f, h, sizeof(h), "bad magic");
	for (uint32_t v = 0; v <= 2; v += 2) {
		memcpy(h, good, sizeof(h));
		alog_put_be32(h + 8, v);
		alog_put_be32(h + 28, alog_crc32c(0, h, 28));
		expect_open_corrupt(f, h, sizeof(h), "unsupported version");
	}
	memcpy(h, good, sizeof(h));
	alog_put_be32(h + 12, 2);
	alog_put_be32(h + 28, alog_crc32c(0, h, 28));
	expect_open_corrupt(f, h, sizeof(h), "header names segment 2");
	for (int bit = 0; bit < 32; bit++) {
		memcpy(h, good, sizeof(h));
		alog_put_be32(h + 24, UINT32_C(1) << bit);
		alog_put_be32(h + 28, alog_crc32c(0, h, 28));
		expect_open_corrupt(f, h, sizeof(h), "reserved header flags");
	}
	/* Any byte changed without fixing the CRC. */
	for (size_t i = 8; i < sizeof(h); i++) {
		memcpy(h, good, sizeof(h));
		h[i] ^= 0x01;
		expect_open_corrupt(f, h, sizeof(h), "header crc mismatch");
	}
	/* Torn header, at every length short of 32 bytes. */
	for (size_t n = 0; n < sizeof(good); n++)
		expect_open_corrupt(f, good, n, "torn header");
}

static void test_segment_blocks_read_back_after_write_and_reopen(void **state)
{
	struct segfix *f = *state;
	struct alog_buf p[3];
	struct alog_block_header h;
	struct alog_segment *s;
	struct alog_err err;
	uint64_t off[3], end, next;

	for (int i = 0; i < 3; i++)
		alog_buf_init(&p[i], 0);
	assert_int_equal(alog_segment_create(f->dir, 1, 100, &s, &err), 0);
	off[0] = append_block(f, s, 100, 5, &p[0]);
	assert_int_equal(off[0], ALOG_SEGMENT_HEADER_LEN);
	off[1] = append_block(f, s, 105, 1, &p[1]);
	off[2] = append_block(f, s, 106, 300, &p[2]);
	assert_int_equal(alog_segment_sync(s, &err), 0);
	end = alog_segment_size(s);
	/* Readable through the writing handle... */
	next = off[0];
	for (int i = 0; i < 3; i++) {
		assert_int_equal(next, off[i]);
		next = expect_block(f, s, off[i], i == 0 ? 100 : 105 + (i - 1),
				    &p[i]);
	}
	assert_int_equal(next, end);
	assert_int_equal(alog_segment_peek_block(s, end, &h, &next, &err),
			 ALOG_ENOTFOUND);
	alog_segment_close(s);
	/* ...and after reopening read-only. */
	assert_int_equal(alog_segment_open(f->dir, 1, 0, &s, &err), 0);
	assert_int_equal(alog_segment_first_index(s), 100);
	assert_int_equal(alog_segment_size(s), end);
	next = off[0];
	for (int i = 0; i < 3; i++)
		next = expect_block(f, s, next, i == 0 ? 100 : 105 + (i - 1),
				    &p[i]);
	assert_int_equal(alog_segment_read_block(s, f->codec, end, &h, &p[0],
						 &next, &err),
			 ALOG_ENOTFOUND);
	alog_segment_close(s);
	for (int i = 0; i < 3; i++)
		alog_buf_release(&p[i]);
}

static void test_segment_peek_rejects_offsets_outside_the_blocks(void **state)
{
	struct segfix *f = *state;
	struct alog_buf p;
	struct alog_block_header h;
	struct alog_segment *s;
	struct alog_err err;
	uint64_t next, size;

	alog_buf_init(&p, 0);
	assert_int_equal(alog_segment_create(f->dir, 1, 0, &s, &err), 0);
	append_block(f, s, 0, 2, &p);
	size = alog_segment_size(s);
	assert_int_equal(alog_segment_peek_block(s, size + 1, &h, &next, &err),
			 ALOG_ECORRUPT);
	assert_non_null(strstr(err.msg, "past the end"));
	assert_int_equal(alog_segment_peek_block(s, UINT64_MAX, &h, &next,
						 &err),
			 ALOG_ECORRUPT);
	for (uint64_t o = 0; o < ALOG_SEGMENT_HEADER_LEN; o++)
		assert_int_equal(alog_segment_peek_block(s, o, &h, &next, &err),
				 ALOG_ECORRUPT);
	/* An offset inside the block: not a block header. */
	assert_int_equal(alog_segment_read_block(s, f->codec,
						 ALOG_SEGMENT_HEADER_LEN + 1,
						 &h, &p, &next, &err),
			 ALOG_ECORRUPT);
	alog_segment_close(s);
	alog_buf_release(&p);
}

static void test_segment_truncated_last_block_fails_at_every_offset(
	void **state)
{
	struct segfix *f = *state;
	struct alog_buf p[3], got;
	struct alog_block_header h;
	struct alog_segment *s;
	struct alog_err err;
	uint64_t off[3], end, next;
	unsigned char *file;
	size_t file_len;
	char loc[64];

	for (int i = 0; i < 3; i++)
		alog_buf_init(&p[i], 0);
	alog_buf_init(&got, 0);
	assert_int_equal(alog_segment_create(f->dir, 1, 0, &s, &err), 0);
	off[0] = append_block(f, s, 0, 3, &p[0]);
	off[1] = append_block(f, s, 3, 4, &p[1]);
	off[2] = append_block(f, s, 7, 5, &p[2]);
	end = alog_segment_size(s);
	alog_segment_close(s);
	file = testutil_read_file(f->path, &file_len);
	assert_int_equal(file_len, end);

	for (uint64_t cut = off[2]; cut < end; cut++) {
		int want = cut == off[2] ? ALOG_ENOTFOUND : ALOG_ECORRUPT;

		write_file(f->path, file, (size_t)cut);
		assert_int_equal(alog_segment_open(f->dir, 1, 0, &s, &err), 0);
		assert_int_equal(alog_segment_size(s), cut);
		expect_block(f, s, off[0], 0, &p[0]);
		expect_block(f, s, off[1], 3, &p[1]);
		alog_err_clear(&err);
		assert_int_equal(alog_segment_peek_block(s, off[2], &h, &next,
							 &err),
				 want);
		assert_non_null(strstr(err.msg, f->path));
		snprintf(loc, sizeof(loc), "offset %" PRIu64 ":", off[2]);
		assert_non_null(strstr(err.msg, loc));
		alog_err_clear(&err);
		assert_int_equal(alog_segment_read_block(s, f->codec, off[2],
							 &h, &got, &next,
							 &err),
				 want);
		assert_non_null(strstr(err.msg, loc));
		assert_int_equal(got.len, 0);
		if (want == ALOG_ECORRUPT)
			assert_non_null(strstr(err.msg, "torn block"));
		alog_segment_close(s);
	}
	free(file);
	for (int i = 0; i < 3; i++)
		alog_buf_release(&p[i]);
	alog_buf_release(&got);
}

static void test_segment_read_names_file_and_offset_of_a_crc_mismatch(
	void **state)
{
	struct segfix *f = *state;
	struct alog_buf p[2];
	struct alog_block_header h;
	struct alog_segment *s;
	struct alog_err err;
	uint64_t off[2], next;
	unsigned char *file;
	size_t file_len;
	char want[4200];

	alog_buf_init(&p[0], 0);
	alog_buf_init(&p[1], 0);
	assert_int_equal(alog_segment_create(f->dir, 1, 0, &s, &err), 0);
	off[0] = append_block(f, s, 0, 3, &p[0]);
	off[1] = append_block(f, s, 3, 4, &p[1]);
	alog_segment_close(s);
	file = testutil_read_file(f->path, &file_len);
	file[off[1] + ALOG_BLOCK_HEADER_LEN + 2] ^= 0x10;
	write_file(f->path, file, file_len);
	free(file);

	assert_int_equal(alog_segment_open(f->dir, 1, 0, &s, &err), 0);
	expect_block(f, s, off[0], 0, &p[0]);
	/* The header alone is fine; the frame is what changed. */
	assert_int_equal(alog_segment_peek_block(s, off[1], &h, &next, &err),
			 0);
	assert_int_equal(alog_segment_read_block(s, f->codec, off[1], &h,
						 &p[1], &next, &err),
			 ALOG_ECORRUPT);
	snprintf(want, sizeof(want), "segment '%s' offset %" PRIu64
		 ": block crc mismatch", f->path, off[1]);
	if (strncmp(err.msg, want, strlen(want)) != 0)
		fail_msg("got '%s', want '%s...'", err.msg, want);
	alog_segment_close(s);
	alog_buf_release(&p[0]);
	alog_buf_release(&p[1]);
}

static void test_segment_truncate_then_append_works(void **state)
{
	struct segfix *f = *state;
	struct alog_buf p[3];
	struct alog_block_header h;
	struct alog_segment *s;
	struct alog_err err;
	uint64_t off[3], next, o;

	for (int i = 0; i < 3; i++)
		alog_buf_init(&p[i], 0);
	assert_int_equal(alog_segment_create(f->dir, 1, 0, &s, &err), 0);
	off[0] = append_block(f, s, 0, 2, &p[0]);
	off[1] = append_block(f, s, 2, 2, &p[1]);
	/* Cut the second block off and write a different one there. */
	assert_int_equal(alog_segment_truncate(s, off[1], &err), 0);
	assert_int_equal(alog_segment_size(s), off[1]);
	assert_int_equal(alog_segment_peek_block(s, off[1], &h, &next, &err),
			 ALOG_ENOTFOUND);
	off[2] = append_block(f, s, 2, 9, &p[2]);
	assert_int_equal(off[2], off[1]);
	assert_int_equal(alog_segment_sync(s, &err), 0);
	o = expect_block(f, s, off[0], 0, &p[0]);
	o = expect_block(f, s, o, 2, &p[2]);
	assert_int_equal(o, alog_segment_size(s));
	alog_segment_close(s);
	assert_int_equal(alog_segment_open(f->dir, 1, 1, &s, &err), 0);
	assert_int_equal(alog_segment_size(s), o);
	expect_block(f, s, off[2], 2, &p[2]);
	/* Truncation only cuts, and never into the header. */
	assert_int_equal(alog_segment_truncate(s, o + 1, &err), ALOG_EINVAL);
	assert_int_equal(alog_segment_truncate(s, ALOG_SEGMENT_HEADER_LEN - 1,
					       &err),
			 ALOG_EINVAL);
	assert_int_equal(alog_segment_truncate(s, ALOG_SEGMENT_HEADER_LEN,
					       &err),
			 0);
	assert_int_equal(alog_segment_size(s), ALOG_SEGMENT_HEADER_LEN);
	alog_segment_close(s);
	for (int i = 0; i < 3; i++)
		alog_buf_release(&p[i]);
}

static void test_segment_broken_by_a_failed_sync_refuses_everything(
	void **state)
{
	struct segfix *f = *state;
	struct alog_buf p;
	struct alog_block_header h;
	struct alog_segment *s;
	struct alog_err err;
	uint64_t off, next;

	alog_buf_init(&p, 0);
	assert_int_equal(alog_segment_create(f->dir, 1, 0, &s, &err), 0);
	off = append_block(f, s, 0, 2, &p);
	alog_segment_test_fail_next_sync(s);
	assert_int_equal(alog_segment_sync(s, &err), ALOG_EIO);
	assert_int_equal(err.cause, EIO);
	assert_non_null(strstr(err.msg, f->path));

	assert_int_equal(alog_segment_write(s, "x", 1, &next, &err),
			 ALOG_ESTATE);
	assert_non_null(strstr(err.msg, f->path));
	assert_int_equal(alog_segment_sync(s, &err), ALOG_ESTATE);
	assert_int_equal(alog_segment_truncate(s, off, &err), ALOG_ESTATE);
	assert_int_equal(alog_segment_peek_block(s, off, &h, &next, &err),
			 ALOG_ESTATE);
	assert_int_equal(alog_segment_read_block(s, f->codec, off, &h, &p,
						 &next, &err),
			 ALOG_ESTATE);
	assert_string_equal(alog_segment_path(s), f->path);
	assert_int_equal(alog_segment_id(s), 1);
	alog_segment_close(s);

	/* A failed fsync inside truncate breaks the segment too. */
	assert_int_equal(alog_segment_open(f->dir, 1, 1, &s, &err), 0);
	alog_segment_test_fail_next_sync(s);
	assert_int_equal(alog_segment_truncate(s, off, &err), ALOG_EIO);
	assert_int_equal(alog_segment_write(s, "x", 1, &next, &err),
			 ALOG_ESTATE);
	alog_segment_close(s);
	alog_buf_release(&p);
}

static void test_segment_opened_read_only_refuses_writes(void **state)
{
	struct segfix *f = *state;
	struct alog_segment *s;
	struct alog_err err;
	uint64_t next;

	assert_int_equal(alog_segment_create(f->dir, 1, 0, &s, &err), 0);
	alog_segment_close(s);
	assert_int_equal(alog_segment_open(f->dir, 1, 0, &s, &err), 0);
	assert_int_equal(alog_segment_write(s, "x", 1, &next, &err),
			 ALOG_ESTATE);
	assert_non_null(strstr(err.msg, "read-only"));
	assert_int_equal(alog_segment_truncate(s, ALOG_SEGMENT_HEADER_LEN,
					       &err),
			 ALOG_ESTATE);
	assert_int_equal(alog_segment_size(s), ALOG_SEGMENT_HEADER_LEN);
	alog_segment_close(s);
}

/* RLIMIT_FSIZE makes the kernel accept part of a write and then refuse
 * the rest with EFBIG: a deterministic short-then-failed write. */
static void test_segment_failed_write_keeps_size_and_drops_partial_bytes(
	void **state)
{
	struct segfix *f = *state;
	struct alog_buf p;
	struct alog_segment *s;
	struct alog_err err;
	struct rlimit old, lim;
	struct stat st;
	unsigned char big[4096];
	uint64_t size, off = 0;
	void (*old_handler)(int);
	int rc;

	alog_buf_init(&p, 0);
	memset(big, 'z', sizeof(big));
	assert_int_equal(alog_segment_create(f->dir, 1, 0, &s, &err), 0);
	append_block(f, s, 0, 2, &p);
	size = alog_segment_size(s);

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	old_handler = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = (rlim_t)size + 100;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = alog_segment_write(s, big, sizeof(big), &off, &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);

	assert_int_equal(rc, ALOG_EIO);
	assert_int_equal(err.cause, EFBIG);
	assert_non_null(strstr(err.msg, f->path));
	assert_int_equal(alog_segment_size(s), size);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, size);
	/* Still usable: the next write lands at the old end. */
	off = append_block(f, s, 2, 3, &p);
	assert_int_equal(off, size);
	assert_int_equal(alog_segment_sync(s, &err), 0);
	expect_block(f, s, off, 2, &p);
	alog_segment_close(s);
	alog_buf_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_of_123456789_is_e3069283),
		cmocka_unit_test(
			test_block_decodes_the_hand_made_raw_frame_vector),
		cmocka_unit_test(test_block_round_trips_1_2_and_1000_records),
		cmocka_unit_test(
			test_block_encode_accepts_limits_and_refuses_one_past),
		cmocka_unit_test(
			test_block_header_rejects_each_reserved_flag_bit),
		cmocka_unit_test(
			test_block_header_rejects_bad_magic_and_short_input),
		cmocka_unit_test(
			test_block_header_checks_each_length_limit_plus_minus_one),
		cmocka_unit_test(
			test_block_decode_rejects_a_flipped_bit_in_every_byte),
		cmocka_unit_test(
			test_block_decode_rejects_newline_count_off_by_one),
		cmocka_unit_test(
			test_block_newline_count_holds_for_dense_and_long_payloads),
		cmocka_unit_test(
			test_block_decode_checks_the_frame_against_raw_len),
		cmocka_unit_test_setup_teardown(
			test_segment_create_writes_the_published_header,
			seg_setup, seg_teardown),
		cmocka_unit_test_setup_teardown(
			test_segment_create_twice_fails_with_eexist, seg_setup,
			seg_teardown),
		cmocka_unit_test_setup_teardown(
			test_segment_open_of_a_missing_file_is_not_found,
			seg_setup, seg_teardown),
		cmocka_unit_test_setup_teardown(
			test_segment_open_rejects_a_bad_header_in_each_field,
			seg_setup, seg_teardown),
		cmocka_unit_test_setup_teardown(
			test_segment_blocks_read_back_after_write_and_reopen,
			seg_setup, seg_teardown),
		cmocka_unit_test_setup_teardown(
			test_segment_peek_rejects_offsets_outside_the_blocks,
			seg_setup, seg_teardown),
		cmocka_unit_test_setup_teardown(
			test_segment_truncated_last_block_fails_at_every_offset,
			seg_setup, seg_teardown),
		cmocka_unit_test_setup_teardown(
			test_segment_read_names_file_and_offset_of_a_crc_mismatch,
			seg_setup, seg_teardown),
		cmocka_unit_test_setup_teardown(
			test_segment_truncate_then_append_works, seg_setup,
			seg_teardown),
		cmocka_unit_test_setup_teardown(
			test_segment_broken_by_a_failed_sync_refuses_everything,
			seg_setup, seg_teardown),
		cmocka_unit_test_setup_teardown(
			test_segment_opened_read_only_refuses_writes, seg_setup,
			seg_teardown),
		cmocka_unit_test_setup_teardown(
			test_segment_failed_write_keeps_size_and_drops_partial_bytes,
			seg_setup, seg_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
