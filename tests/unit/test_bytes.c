/*
 * test_bytes: shared utilities of store/: bytes.h (big-endian codecs,
 * bounded reader, CRC-32C, hex, base64), buf.h (growable buffer with a
 * maximum) and err.h (error values).
 *
 * Vectors:
 *   V-B64-1..7   RFC 4648 section 10: BASE64("") = "", "f" = "Zg==",
 *                "fo" = "Zm8=", "foo" = "Zm9v", "foob" = "Zm9vYg==",
 *                "fooba" = "Zm9vYmE=", "foobar" = "Zm9vYmFy"
 *   V-CRC32C-1   crc32c("123456789") = 0xE3069283 (the check value of
 *                CRC-32C, Castagnoli)
 *   V-CRC32C-2..5  RFC 3720 appendix B.4: 32 zero bytes 0x8A9136AA,
 *                32 0xFF bytes 0x62A8AB43, bytes 0x00..0x1F 0x46DD794E,
 *                bytes 0x1F..0x00 0x113FDB5C (also recomputed with a
 *                bitwise Python CRC while writing this test)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/buf.h"
#include "store/bytes.h"
#include "store/err.h"

/* ---- big-endian, reader ---- */

static void test_bytes_big_endian_codecs_write_the_expected_bytes(
	void **state)
{
	unsigned char b[8];

	(void)state;
	alog_put_be16(b, 0x0102);
	assert_memory_equal(b, "\x01\x02", 2);
	assert_int_equal(alog_get_be16(b), 0x0102);
	alog_put_be32(b, 0xA1B2C3D4u);
	assert_memory_equal(b, "\xA1\xB2\xC3\xD4", 4);
	assert_int_equal(alog_get_be32(b), 0xA1B2C3D4u);
	alog_put_be64(b, UINT64_C(0x0102030405060708));
	assert_memory_equal(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_int_equal(alog_get_be64(b), UINT64_C(0x0102030405060708));
	alog_put_be64(b, UINT64_MAX);
	assert_int_equal(alog_get_be64(b), UINT64_MAX);
	/* High bits survive (no sign extension). */
	memcpy(b, "\xFF\xFE\xFD\xFC\xFB\xFA\xF9\xF8", 8);
	assert_int_equal(alog_get_be16(b), 0xFFFE);
	assert_int_equal(alog_get_be32(b), 0xFFFEFDFCu);
	assert_int_equal(alog_get_be64(b), UINT64_C(0xFFFEFDFCFBFAF9F8));
}

static void test_bytes_reader_refuses_reads_past_the_end_and_stays_bad(
	void **state)
{
	static const unsigned char in[13] = { 0, 0, 0, 7, 0, 0, 0, 0,
					      0, 0, 0, 9, 0xAA };
	struct alog_rd r, zero;
	uint32_t u = 0;
	uint64_t v = 0;

	(void)state;
	alog_rd_init(&r, in, sizeof(in));
	assert_int_equal(alog_rd_left(&r), 13);
	assert_int_equal(alog_rd_u32(&r, &u), 0);
	assert_int_equal(u, 7);
	assert_int_equal(alog_rd_u64(&r, &v), 0);
	assert_int_equal(v, 9);
	assert_int_equal(alog_rd_left(&r), 1);
	/* 4 bytes wanted, 1 left: fails, and the value is untouched. */
	u = 12345;
	assert_int_equal(alog_rd_u32(&r, &u), -1);
	assert_int_equal(u, 12345);
	assert_true(r.bad);
	/* Once bad, even a read that would fit fails. */
	assert_null(alog_rd_take(&r, 1));
	assert_int_equal(r.off, 12);
	/* Exactly to the end is fine; a huge n does not wrap. */
	alog_rd_init(&r, in, sizeof(in));
	assert_non_null(alog_rd_take(&r, 13));
	assert_int_equal(alog_rd_left(&r), 0);
	assert_non_null(alog_rd_take(&r, 0));
	alog_rd_init(&r, in, sizeof(in));
	assert_non_null(alog_rd_take(&r, 1));
	assert_null(alog_rd_take(&r, SIZE_MAX));
	assert_true(r.bad);
	/* All-zero is an empty reader. */
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(alog_rd_left(&zero), 0);
	assert_null(alog_rd_take(&zero, 1));
}

/* ---- CRC-32C ---- */

static void test_bytes_crc32c_matches_published_check_values(void **state)
{
	unsigned char b[32];

	(void)state;
	/* V-CRC32C-1 */
	assert_int_equal(alog_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(alog_crc32c(0, "", 0), 0);
	/* V-CRC32C-2..5 */
	memset(b, 0, sizeof(b));
	assert_int_equal(alog_crc32c(0, b, 32), 0x8A9136AAu);
	memset(b, 0xFF, sizeof(b));
	assert_int_equal(alog_crc32c(0, b, 32), 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		b[i] = (unsigned char)i;
	assert_int_equal(alog_crc32c(0, b, 32), 0x46DD794Eu);
	for (int i = 0; i < 32; i++)
		b[i] = (unsigned char)(31 - i);
	assert_int_equal(alog_crc32c(0, b, 32), 0x113FDB5Cu);
}

static void test_bytes_crc32c_instruction_and_table_agree(void **state)
{
	unsigned char b[1024 + 7];
	uint32_t x = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(b); i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (unsigned char)(x >> 16);
	}
	/* every length and start alignment up to 8, then longer runs */
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n + off <= 64; n++)
			assert_int_equal(alog_crc32c(7, b + off, n),
					 alog_crc32c_table(7, b + off, n));
	assert_int_equal(alog_crc32c(0, b, sizeof(b)),
			 alog_crc32c_table(0, b, sizeof(b)));
	assert_int_equal(alog_crc32c_table(0, "123456789", 9), 0xE3069283u);
}

static void test_bytes_crc32c_chains_across_split_input(void **state)
{
	const char *s = "123456789";

	(void)state;
	for (size_t k = 0; k <= 9; k++)
		assert_int_equal(alog_crc32c(alog_crc32c(0, s, k), s + k, 9 - k),
				 0xE3069283u);
}

/* ---- hex ---- */

static void test_bytes_hex_round_trips_every_byte(void **state)
{
	unsigned char in[256], out[256];
	char hex[513];

	(void)state;
	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)i;
	alog_hex_encode(in, 256, hex);
	assert_int_equal(strlen(hex), 512);
	assert_memory_equal(hex, "000102", 6);
	assert_string_equal(hex + 506, "fdfeff");
	assert_int_equal(alog_hex_decode(hex, 512, out, 256), 0);
	assert_memory_equal(in, out, 256);
	/* Either case decodes. */
	assert_int_equal(alog_hex_decode("ABcdEF", 6, out, 3), 0);
	assert_memory_equal(out, "\xAB\xCD\xEF", 3);
	alog_hex_encode(in, 0, hex);
	assert_string_equal(hex, "");
	assert_int_equal(alog_hex_decode("", 0, out, 0), 0);
}

static void test_bytes_hex_digit_table_matches_the_digits(void **state)
{
	(void)state;
	/* every byte value against the rule: 0-9, a-f, A-F, else -1 */
	for (int c = 0; c < 256; c++) {
		int want = -1;

		if (c >= '0' && c <= '9')
			want = c - '0';
		else if (c >= 'a' && c <= 'f')
			want = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			want = c - 'A' + 10;
		assert_int_equal(alog_hex_digit((char)c), want);
	}
}

static void test_bytes_hex_decode_rejects_bad_digits_and_lengths(
	void **state)
{
	static const char *const bad[] = { "0g", "g0", " 0", "0 ", "-1",
					   "0x", "\xc3\xa9", ":0" };
	unsigned char out[4];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(alog_hex_decode(bad[i], 2, out, 1), -1);
	assert_int_equal(alog_hex_decode("0\0", 2, out, 1), -1);
	assert_int_equal(alog_hex_decode("abc", 3, out, 1), -1);
	assert_int_equal(alog_hex_decode("abc", 3, out, 2), -1);
	assert_int_equal(alog_hex_decode("abcd", 4, out, 1), -1);
	assert_int_equal(alog_hex_decode("ab", 2, out, 2), -1);
}

/* ---- base64 ---- */

static const struct {
	const char *plain, *b64;
} v_b64[] = {
	{ "", "" },              /* V-B64-1 */
	{ "f", "Zg==" },         /* V-B64-2 */
	{ "fo", "Zm8=" },        /* V-B64-3 */
	{ "foo", "Zm9v" },       /* V-B64-4 */
	{ "foob", "Zm9vYg==" },  /* V-B64-5 */
	{ "fooba", "Zm9vYmE=" }, /* V-B64-6 */
	{ "foobar", "Zm9vYmFy" },/* V-B64-7 */
};

static void test_bytes_base64_matches_rfc4648_vectors(void **state)
{
	char out[16];
	unsigned char dec[16];

	(void)state;
	for (size_t i = 0; i < sizeof(v_b64) / sizeof(v_b64[0]); i++) {
		size_t n = strlen(v_b64[i].plain);
		size_t m = strlen(v_b64[i].b64);

		memset(out, 'x', sizeof(out));
		assert_int_equal(alog_b64_encode((const unsigned char *)
						 v_b64[i].plain,
						 n, out),
				 m);
		assert_string_equal(out, v_b64[i].b64);
		assert_int_equal(alog_b64_decode(v_b64[i].b64, m, dec,
						 sizeof(dec)),
				 (long)n);
		assert_memory_equal(dec, v_b64[i].plain, n);
		/* out_max exactly the length is enough, one less is not. */
		assert_int_equal(alog_b64_decode(v_b64[i].b64, m, dec, n),
				 (long)n);
		if (n > 0)
			assert_int_equal(alog_b64_decode(v_b64[i].b64, m, dec,
							 n - 1),
					 -1);
	}
}

static void test_bytes_base64_round_trips_all_byte_values(void **state)
{
	unsigned char in[256], dec[256];
	char enc[4 * 86 + 1];

	(void)state;
	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)(255 - i);
	for (size_t n = 0; n <= 256; n += 1 + n / 16) {
		size_t m = alog_b64_encode(in, n, enc);

		assert_int_equal(m, 4 * ((n + 2) / 3));
		assert_int_equal(enc[m], 0);
		assert_int_equal(alog_b64_decode(enc, m, dec, sizeof(dec)),
				 (long)n);
		assert_memory_equal(dec, in, n);
	}
	/* Both alphabet ends: '+' is 62, '/' is 63. */
	assert_int_equal(alog_b64_decode("+/+/", 4, dec, sizeof(dec)), 3);
	assert_memory_equal(dec, "\xFB\xFF\xBF", 3);
}

static void test_bytes_base64_strict_decoding_rejects_noncanonical_input(
	void **state)
{
	static const char *const bad[] = {
		"Zg=",      /* bad length */
		"Zg",       /* unpadded */
		"Zm9vY",    /* bad length */
		"Zm9v!A==", /* bad character */
		"Zm-v",     /* URL-safe alphabet */
		"Zm_v",
		"Zm9v\n",   /* whitespace */
		"Zm 9v",
		" Zm9v",
		"Zh==",     /* non-canonical trailing bits ("f" is Zg==) */
		"Zm9=",     /* ("fo" is Zm8=) */
		"Zm9vYh==",
		"Zm9vYmF=",
		"Zg==Zg==", /* data after padding */
		"Zg=a",
		"Z===",     /* too much padding */
		"====",
		"=Zm9",
		"Zg==\n",
	};
	unsigned char out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long r = alog_b64_decode(bad[i], strlen(bad[i]), out,
					 sizeof(out));

		if (r != -1)
			fail_msg("'%s' decoded to %ld bytes", bad[i], r);
	}
	/* A NUL inside the given length is a bad character. */
	assert_int_equal(alog_b64_decode("Zm\0v", 4, out, sizeof(out)), -1);
	assert_int_equal(alog_b64_decode("Zg\0=", 4, out, sizeof(out)), -1);
}

/* ---- buf ---- */

static void test_buf_grows_to_exactly_its_maximum_and_no_further(
	void **state)
{
	struct alog_buf b;
	struct alog_err err;

	(void)state;
	alog_buf_init(&b, 10);
	assert_int_equal(alog_buf_add(&b, "0123456789", 10, &err), 0);
	assert_int_equal(b.len, 10);
	assert_true(b.cap <= b.max + 1);
	assert_int_equal(b.data[10], 0);
	alog_err_clear(&err);
	assert_int_equal(alog_buf_addc(&b, 'x', &err), ALOG_ELIMIT);
	assert_int_equal(err.code, ALOG_ELIMIT);
	assert_int_equal(b.len, 10);
	assert_string_equal((char *)b.data, "0123456789");
	assert_int_equal(alog_buf_add(&b, "", 0, &err), 0);
	alog_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.data[0], 0);
	/* max + 1 in one go, then max - 1 + 2, each refused whole. */
	assert_int_equal(alog_buf_add(&b, "0123456789A", 11, &err),
			 ALOG_ELIMIT);
	assert_int_equal(b.len, 0);
	assert_int_equal(alog_buf_add(&b, "012345678", 9, &err), 0);
	assert_int_equal(alog_buf_add(&b, "ab", 2, &err), ALOG_ELIMIT);
	assert_int_equal(b.len, 9);
	assert_int_equal(alog_buf_adds(&b, "ab", &err), ALOG_ELIMIT);
	assert_int_equal(alog_buf_addf(&b, &err, "%d", 42), ALOG_ELIMIT);
	assert_int_equal(b.len, 9);
	assert_string_equal((char *)b.data, "012345678");
	assert_int_equal(alog_buf_addf(&b, &err, "%d", 7), 0);
	assert_string_equal((char *)b.data, "0123456787");
	/* A reserve beyond the maximum is refused; size_t overflow too. */
	assert_int_equal(alog_buf_reserve(&b, 1, &err), ALOG_ELIMIT);
	assert_int_equal(alog_buf_reserve(&b, SIZE_MAX, &err), ALOG_ELIMIT);
	alog_buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	/* Released, it is empty and usable again, with its maximum. */
	assert_int_equal(alog_buf_add(&b, "0123456789A", 11, &err),
			 ALOG_ELIMIT);
	assert_int_equal(alog_buf_adds(&b, "ok", &err), 0);
	assert_string_equal((char *)b.data, "ok");
	alog_buf_release(&b);
	alog_buf_release(NULL);
}

static void test_buf_all_zero_is_an_empty_unlimited_buffer(void **state)
{
	struct alog_buf b;
	struct alog_err err;
	char big[5000];

	(void)state;
	memset(&b, 0, sizeof(b));
	memset(big, 'q', sizeof(big));
	for (int i = 0; i < 20; i++)
		assert_int_equal(alog_buf_add(&b, big, sizeof(big), &err), 0);
	assert_int_equal(b.len, 20 * sizeof(big));
	assert_int_equal(b.data[b.len], 0);
	assert_int_equal(alog_buf_reserve(&b, SIZE_MAX / 2 + 1, &err),
			 ALOG_ELIMIT);
	assert_int_equal(alog_buf_reserve(&b, SIZE_MAX, &err), ALOG_ELIMIT);
	alog_buf_release(&b);
	/* An empty add still leaves a NUL-terminated string. */
	memset(&b, 0, sizeof(b));
	assert_int_equal(alog_buf_add(&b, NULL, 0, &err), 0);
	assert_non_null(b.data);
	assert_string_equal((char *)b.data, "");
	alog_buf_reset(&b);
	alog_buf_release(&b);
	/* Reset of a buffer that never allocated is fine. */
	memset(&b, 0, sizeof(b));
	alog_buf_reset(&b);
	assert_int_equal(b.len, 0);
}

static void test_buf_addf_formats_long_text_and_keeps_nul(void **state)
{
	struct alog_buf b;
	struct alog_err err;
	char want[3001];

	(void)state;
	alog_buf_init(&b, 0);
	memset(want, 'z', 3000);
	want[3000] = 0;
	assert_int_equal(alog_buf_addf(&b, &err, "%s", want), 0);
	assert_int_equal(alog_buf_addf(&b, &err, "<%d|%s>", -5, "a"), 0);
	assert_int_equal(b.len, 3000 + 6);
	assert_int_equal(strlen((char *)b.data), b.len);
	assert_string_equal((char *)b.data + 3000, "<-5|a>");
	alog_buf_release(&b);
}

/* A buffer in the caller's memory: used while it fits (no allocation,
 * the caller's bytes), moved to the heap with its content when it grows,
 * its limit kept, and never freed by release. */
static void test_buf_fixed_memory_is_used_first_then_left_for_the_heap(
	void **state)
{
	unsigned char mem[16];
	struct alog_buf b;
	struct alog_err err;

	(void)state;
	alog_buf_init_fixed(&b, mem, sizeof(mem), 40);
	assert_ptr_equal(b.data, mem);
	assert_string_equal((char *)b.data, "");
	assert_int_equal(alog_buf_adds(&b, "0123456789abcde", &err), 0);
	assert_ptr_equal(b.data, mem);  /* 15 bytes and the NUL fit */
	alog_buf_reset(&b);
	assert_ptr_equal(b.data, mem);
	assert_int_equal(alog_buf_adds(&b, "0123456789abcde", &err), 0);
	assert_int_equal(alog_buf_adds(&b, "f!", &err), 0);
	assert_ptr_not_equal(b.data, mem);
	assert_string_equal((char *)b.data, "0123456789abcdef!");
	assert_int_equal(memcmp(mem, "0123456789abcde", 15), 0);
	assert_int_equal(alog_buf_add(&b, "0123456789abcdef01234567", 24,
					&err), ALOG_ELIMIT);
	alog_buf_release(&b);
	assert_null(b.data);
	/* released while still in the caller's memory: nothing freed */
	alog_buf_init_fixed(&b, mem, sizeof(mem), 0);
	assert_int_equal(alog_buf_adds(&b, "abc", &err), 0);
	alog_buf_release(&b);
	assert_string_equal((char *)mem, "abc");
}

/* Caller's memory larger than the limit: the limit still holds (the
 * inline append trusts cap <= max + 1). */
static void test_buf_fixed_memory_larger_than_the_limit_keeps_the_limit(
	void **state)
{
	unsigned char mem[64];
	struct alog_buf b;
	struct alog_err err;

	(void)state;
	alog_buf_init_fixed(&b, mem, sizeof(mem), 8);
	assert_int_equal(alog_buf_add(&b, "01234567", 8, &err), 0);
	assert_int_equal(alog_buf_addc(&b, '8', &err), ALOG_ELIMIT);
	assert_int_equal(b.len, 8);
	alog_buf_reset(&b);
	assert_int_equal(alog_buf_add(&b, "0123456789", 10, &err), ALOG_ELIMIT);
	assert_int_equal(b.len, 0);
	alog_buf_release(&b);
}

/* ---- err ---- */

static void test_err_set_fills_code_cause_location_and_message(void **state)
{
	struct alog_err err;

	(void)state;
	memset(&err, 0x55, sizeof(err));
	alog_err_clear(&err);
	assert_int_equal(err.code, 0);
	assert_int_equal(err.cause, 0);
	assert_int_equal(err.line, 0);
	assert_int_equal(err.msg[0], 0);
	assert_null(err.file);
	assert_int_equal(alog_err_set(&err, ALOG_ECORRUPT, "bad %s at %d",
				      "block", 7),
			 ALOG_ECORRUPT);
	assert_int_equal(err.code, ALOG_ECORRUPT);
	assert_int_equal(err.cause, 0);
	assert_string_equal(err.msg, "bad block at 7");
	assert_non_null(err.file);
	assert_non_null(strstr(err.file, "test_bytes.c"));
	assert_true(err.line > 0);
	assert_int_equal(alog_err_sys(&err, ALOG_EIO, 5, "read '%s'", "f"),
			 ALOG_EIO);
	assert_int_equal(err.cause, 5);
	assert_string_equal(err.msg, "read 'f'");
	/* NULL err: nothing to fill, the code still comes back. */
	assert_int_equal(alog_err_set(NULL, ALOG_EINVAL, "x"), ALOG_EINVAL);
	alog_err_prefix(NULL, "y");
	alog_err_clear(NULL);
}

static void test_err_prefix_composes_locators_outermost_first(void **state)
{
	struct alog_err err;

	(void)state;
	alog_err_clear(&err);
	alog_err_set(&err, ALOG_ECORRUPT, "crc mismatch");
	alog_err_prefix(&err, "offset %d", 4096);
	alog_err_prefix(&err, "segment '%s'", "00000001.seg");
	assert_string_equal(err.msg,
			    "segment '00000001.seg': offset 4096: crc mismatch");
	assert_int_equal(err.code, ALOG_ECORRUPT);
	/* On an empty message. */
	alog_err_clear(&err);
	alog_err_prefix(&err, "where");
	assert_string_equal(err.msg, "where: ");
}

static void test_err_long_messages_are_truncated_never_overflowed(
	void **state)
{
	struct alog_err err;
	char *big = malloc(4 * ALOG_ERR_MSG_MAX);

	(void)state;
	assert_non_null(big);
	memset(big, 'm', 4 * ALOG_ERR_MSG_MAX - 1);
	big[4 * ALOG_ERR_MSG_MAX - 1] = 0;
	/* A message longer than the buffer. */
	alog_err_set(&err, ALOG_EINVAL, "%s", big);
	assert_int_equal(strlen(err.msg), ALOG_ERR_MSG_MAX - 1);
	/* A short prefix on a full message keeps the prefix, cuts the end. */
	alog_err_prefix(&err, "loc");
	assert_int_equal(strlen(err.msg), ALOG_ERR_MSG_MAX - 1);
	assert_memory_equal(err.msg, "loc: mmm", 8);
	/* A prefix longer than the buffer. */
	alog_err_set(&err, ALOG_EINVAL, "tail");
	alog_err_prefix(&err, "%s", big);
	assert_int_equal(strlen(err.msg), ALOG_ERR_MSG_MAX - 1);
	assert_int_equal(err.msg[0], 'm');
	/* Prefixes of every length around the limit. */
	for (size_t n = ALOG_ERR_MSG_MAX - 8; n <= ALOG_ERR_MSG_MAX + 2; n++) {
		alog_err_set(&err, ALOG_EINVAL, "tail");
		alog_err_prefix(&err, "%.*s", (int)n, big);
		assert_true(strlen(err.msg) <= ALOG_ERR_MSG_MAX - 1);
		assert_memory_equal(err.msg, big,
				    n < ALOG_ERR_MSG_MAX - 1 ? n :
				    ALOG_ERR_MSG_MAX - 1);
	}
	/* Many prefixes in a row stay bounded. */
	alog_err_set(&err, ALOG_EINVAL, "root cause");
	for (int i = 0; i < 200; i++)
		alog_err_prefix(&err, "level %d", i);
	assert_true(strlen(err.msg) <= ALOG_ERR_MSG_MAX - 1);
	assert_memory_equal(err.msg, "level 199: level 198: ", 22);
	free(big);
}

static void test_err_names_every_code(void **state)
{
	static const int codes[] = {
		ALOG_OK,       ALOG_EINVAL,   ALOG_ENOMEM,    ALOG_EIO,
		ALOG_ECORRUPT, ALOG_ENOTFOUND, ALOG_ELIMIT,   ALOG_EBUSY,
		ALOG_EVERIFY,  ALOG_ECONFLICT, ALOG_EEXIST,   ALOG_EDB,
		ALOG_ECRYPTO,  ALOG_ESTATE,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *n = alog_err_name(codes[i]);

		assert_non_null(n);
		assert_string_not_equal(n, "unknown error");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(n, alog_err_name(codes[j]));
	}
	assert_string_equal(alog_err_name(ALOG_ECORRUPT), "corrupt data");
	assert_string_equal(alog_err_name(-999), "unknown error");
}

/* ---- constant-time compare ---- */

static void test_bytes_ct_memcmp_tells_equal_from_different(void **state)
{
	unsigned char a[64], b[64];

	(void)state;
	for (int i = 0; i < 64; i++)
		a[i] = b[i] = (unsigned char)(i * 7);
	assert_int_equal(alog_ct_memcmp(a, b, 64), 0);
	assert_int_equal(alog_ct_memcmp(a, b, 0), 0);
	for (int i = 0; i < 64; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (unsigned char)(1u << bit);
			assert_int_not_equal(alog_ct_memcmp(a, b, 64), 0);
			/* Only the compared prefix counts. */
			assert_int_equal(alog_ct_memcmp(a, b, (size_t)i), 0);
			b[i] ^= (unsigned char)(1u << bit);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_bytes_big_endian_codecs_write_the_expected_bytes),
		cmocka_unit_test(
			test_bytes_reader_refuses_reads_past_the_end_and_stays_bad),
		cmocka_unit_test(
			test_bytes_crc32c_matches_published_check_values),
		cmocka_unit_test(test_bytes_crc32c_chains_across_split_input),
		cmocka_unit_test(test_bytes_crc32c_instruction_and_table_agree),
		cmocka_unit_test(test_bytes_hex_round_trips_every_byte),
		cmocka_unit_test(test_bytes_hex_digit_table_matches_the_digits),
		cmocka_unit_test(
			test_bytes_hex_decode_rejects_bad_digits_and_lengths),
		cmocka_unit_test(test_bytes_base64_matches_rfc4648_vectors),
		cmocka_unit_test(
			test_bytes_base64_round_trips_all_byte_values),
		cmocka_unit_test(
			test_bytes_base64_strict_decoding_rejects_noncanonical_input),
		cmocka_unit_test(
			test_buf_grows_to_exactly_its_maximum_and_no_further),
		cmocka_unit_test(test_buf_all_zero_is_an_empty_unlimited_buffer),
		cmocka_unit_test(test_buf_addf_formats_long_text_and_keeps_nul),
		cmocka_unit_test(
		  test_buf_fixed_memory_is_used_first_then_left_for_the_heap),
		cmocka_unit_test(
		  test_buf_fixed_memory_larger_than_the_limit_keeps_the_limit),
		cmocka_unit_test(
			test_err_set_fills_code_cause_location_and_message),
		cmocka_unit_test(
			test_err_prefix_composes_locators_outermost_first),
		cmocka_unit_test(
			test_err_long_messages_are_truncated_never_overflowed),
		cmocka_unit_test(test_err_names_every_code),
		cmocka_unit_test(test_bytes_ct_memcmp_tells_equal_from_different),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
