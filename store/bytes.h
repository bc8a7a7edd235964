/*
 * bytes: big-endian integer codecs, a bounds-checked reader for untrusted
 * bytes, CRC-32C, hex and base64 (RFC 4648, padded).
 *
 * Every decoder of bytes from disk or the network reads through
 * struct alog_rd: a read past the end fails (returns -1 and sets rd->bad),
 * never reads out of bounds.
 */
#ifndef ALOG_STORE_BYTES_H
#define ALOG_STORE_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline void alog_put_be16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}
static inline void alog_put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}
static inline void alog_put_be64(unsigned char *p, uint64_t v)
{
	alog_put_be32(p, (uint32_t)(v >> 32));
	alog_put_be32(p + 4, (uint32_t)v);
}
static inline uint16_t alog_get_be16(const unsigned char *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}
static inline uint32_t alog_get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t alog_get_be64(const unsigned char *p)
{
	return (uint64_t)alog_get_be32(p) << 32 | alog_get_be32(p + 4);
}

/* Bounded reader over untrusted bytes. All-zero is an empty reader. */
struct alog_rd {
	const unsigned char *p;
	size_t len; /* bytes in total */
	size_t off; /* bytes consumed, off <= len */
	int bad;    /* set once a read went past the end */
};

static inline void alog_rd_init(struct alog_rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->bad = 0;
}
static inline size_t alog_rd_left(const struct alog_rd *r)
{
	return r->len - r->off;
}
/* Borrow n bytes (valid as long as the underlying memory); NULL past end. */
static inline const unsigned char *alog_rd_take(struct alog_rd *r, size_t n)
{
	const unsigned char *q;

	if (r->bad || n > r->len - r->off) {
		r->bad = 1;
		return NULL;
	}
	q = r->p + r->off;
	r->off += n;
	return q;
}
static inline int alog_rd_u32(struct alog_rd *r, uint32_t *v)
{
	const unsigned char *q = alog_rd_take(r, 4);

	if (!q)
		return -1;
	*v = alog_get_be32(q);
	return 0;
}
static inline int alog_rd_u64(struct alog_rd *r, uint64_t *v)
{
	const unsigned char *q = alog_rd_take(r, 8);

	if (!q)
		return -1;
	*v = alog_get_be64(q);
	return 0;
}

/* CRC-32C (Castagnoli, reflected 0x82F63B78), crc32c("123456789") =
 * 0xE3069283. Pass 0 as crc to start; chain by passing the last result. */
uint32_t alog_crc32c(uint32_t crc, const void *p, size_t n);
/* The same by table, without the processor's crc32 instruction (which
 * alog_crc32c uses where there is one): for tests that compare the two. */
uint32_t alog_crc32c_table(uint32_t crc, const void *p, size_t n);

/* Lowercase hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void alog_hex_encode(const unsigned char *in, size_t n, char *out);
/* The value of one hex digit (either case), or -1: by table, inline (the
 * id key reads the 32 digits of every event's UUID). */
extern const signed char alog_hex_values[256];
static inline int alog_hex_digit(char c)
{
	return alog_hex_values[(unsigned char)c];
}
/* Decode exactly 2n hex digits (either case) into n bytes; -1 if bad. */
int alog_hex_decode(const char *in, size_t in_len, unsigned char *out,
		    size_t n);

/* Base64 (RFC 4648 section 4, padded). out needs 4*ceil(n/3)+1 bytes. */
size_t alog_b64_encode(const unsigned char *in, size_t n, char *out);
/* Strict decode: padding required, no whitespace, canonical trailing bits.
 * Returns decoded length, or -1 if bad or longer than out_max. */
long alog_b64_decode(const char *in, size_t in_len, unsigned char *out,
		     size_t out_max);

/* Constant-time comparison of n bytes: 0 when equal. */
int alog_ct_memcmp(const void *a, const void *b, size_t n);

/* n bytes of ASCII decimal: digits only, no sign, no leading zero (a lone
 * "0" is fine), fitting in a uint64. 0, or -1 (out unchanged). */
int alog_dec_parse(const char *p, size_t n, uint64_t *out);

#endif
