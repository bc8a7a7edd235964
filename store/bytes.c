/*
 * bytes: see bytes.h. CRC-32C uses the processor's crc32 instruction
 * (SSE 4.2) where there is one, else a 256-entry table built once; base64
 * decoding is strict (RFC 4648 section 3.5 canonical encoding).
 */
#include "store/bytes.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <nmmintrin.h>
#define HAVE_CRC_INSN 1
#endif

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static int crc_insn;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[i] = c;
	}
#ifdef HAVE_CRC_INSN
	crc_insn = __builtin_cpu_supports("sse4.2");
#endif
}

#ifdef HAVE_CRC_INSN
/* The same CRC (the instruction's polynomial is CRC-32C's, reflected),
 * 8 bytes a step. */
__attribute__((target("sse4.2")))
static uint32_t crc_by_insn(uint32_t crc, const unsigned char *q, size_t n)
{
	uint64_t c = crc;

	for (; n >= 8; q += 8, n -= 8) {
		uint64_t v;

		memcpy(&v, q, 8);
		c = _mm_crc32_u64(c, v);
	}
	crc = (uint32_t)c;
	while (n--)
		crc = _mm_crc32_u8(crc, *q++);
	return crc;
}
#endif

uint32_t alog_crc32c_table(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *q = p;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *q++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint32_t alog_crc32c(uint32_t crc, const void *p, size_t n)
{
	pthread_once(&crc_once, crc_init);
#ifdef HAVE_CRC_INSN
	if (crc_insn)
		return ~crc_by_insn(~crc, p, n);
#endif
	return alog_crc32c_table(crc, p, n);
}

void alog_hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

#define HEX_NONE_16 -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
const signed char alog_hex_values[256] = {
	HEX_NONE_16, HEX_NONE_16, HEX_NONE_16,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1,         /* 0x30 */
	-1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0x40 */
	HEX_NONE_16,
	-1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, /* 0x60 */
	HEX_NONE_16,
	HEX_NONE_16, HEX_NONE_16, HEX_NONE_16, HEX_NONE_16,
	HEX_NONE_16, HEX_NONE_16, HEX_NONE_16, HEX_NONE_16,
};

int alog_hex_decode(const char *in, size_t in_len, unsigned char *out,
		    size_t n)
{
	if (in_len != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = alog_hex_digit(in[2 * i]);
		int lo = alog_hex_digit(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t alog_b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			     in[i + 2];

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = 0;
	return o;
}

static int b64val(char c)
{
	const char *p;

	if (c == 0)
		return -1;
	p = strchr(b64, c);
	return p ? (int)(p - b64) : -1;
}

long alog_b64_decode(const char *in, size_t in_len, unsigned char *out,
		     size_t out_max)
{
	size_t o = 0;

	if (in_len % 4)
		return -1;
	for (size_t i = 0; i < in_len; i += 4) {
		int v[4], pad = 0;
		uint32_t w;

		for (int k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == in_len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad) /* data after '=' */
				return -1;
			v[k] = b64val(in[i + k]);
			if (v[k] < 0)
				return -1;
		}
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		    (uint32_t)v[2] << 6 | (uint32_t)v[3];
		if ((pad == 2 && (w & 0xffff)) || (pad == 1 && (w & 0xff)))
			return -1; /* non-canonical trailing bits */
		if (o + 3 - (size_t)pad > out_max)
			return -1;
		out[o++] = (unsigned char)(w >> 16);
		if (pad < 2)
			out[o++] = (unsigned char)(w >> 8);
		if (pad < 1)
			out[o++] = (unsigned char)w;
	}
	return (long)o;
}

int alog_ct_memcmp(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d != 0;
}

int alog_dec_parse(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || (n > 1 && p[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (p[i] < '0' || p[i] > '9')
			return -1;
		d = (unsigned)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}
