/*
 * bench_limits: the machine's limits for the bytes of an NDJSON file, on
 * one core, for the benchmark harness (tests/bench/compare.sh).
 *
 *   hash: the RFC 6962 / 9162 leaf hash SHA-256(0x00 || event) of every
 *         line (without its newline), through one reused EVP_MD_CTX and
 *         one fetched EVP_MD (no per-leaf allocation or lookup);
 *   zstd: zstd level 1 compression of the file cut into blocks of whole
 *         lines of at most 64 KiB (a line longer than that is a block of
 *         its own), through one reused ZSTD_CCtx.
 *
 * The file is mapped and read once before timing, so both figures are
 * CPU work on bytes in memory. Prints one line:
 *   events=N bytes=B hash_s=S hash_per_s=X zstd_s=S zstd_per_s=X
 *   zstd_ratio=R check=H
 * (zstd_ratio: compressed bytes / input bytes; check: a fold of all
 * leaf hashes, so the work cannot be optimised away). A benchmark: it
 * asserts nothing about speed.
 *
 * usage: bench_limits NDJSON_FILE
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zstd.h>

#define BLOCK_MAX ((size_t)64 << 10)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const unsigned char *map = MAP_FAILED;
	size_t size = 0, n = 0, i, cap = 0;
	size_t *start = NULL; /* start[i]: offset of line i; start[n] = end */
	unsigned char md_out[EVP_MAX_MD_SIZE], fold[32] = { 0 };
	static const unsigned char zero = 0x00;
	EVP_MD *md = NULL;
	EVP_MD_CTX *ctx = NULL;
	ZSTD_CCtx *cctx = NULL;
	unsigned char *dst = NULL;
	size_t dst_cap, zbytes = 0;
	struct stat st;
	double t0, hash_s, zstd_s;
	int fd = -1, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_limits NDJSON_FILE\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "bench_limits: '%s': %s\n", argv[1], strerror(errno));
		goto out;
	}
	size = (size_t)st.st_size;
	if (size == 0) {
		fprintf(stderr, "bench_limits: '%s' is empty\n", argv[1]);
		goto out;
	}
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "bench_limits: mmap '%s': %s\n", argv[1],
			strerror(errno));
		goto out;
	}
	/* Line offsets (this pass also brings every page in). */
	for (i = 0; i < size;) {
		const unsigned char *nl = memchr(map + i, '\n', size - i);
		size_t next = nl ? (size_t)(nl - map) + 1 : size;

		if (n + 2 > cap) {
			size_t ncap = cap ? cap * 2 : 1 << 16;
			size_t *p = realloc(start, ncap * sizeof(*start));

			if (!p) {
				fprintf(stderr, "bench_limits: out of memory\n");
				goto out;
			}
			start = p;
			cap = ncap;
		}
		start[n++] = i;
		i = next;
	}
	start[n] = size;

	md = EVP_MD_fetch(NULL, "SHA256", NULL);
	ctx = EVP_MD_CTX_new();
	if (!md || !ctx) {
		fprintf(stderr, "bench_limits: openssl: no sha-256 context\n");
		goto out;
	}
	t0 = now_s();
	for (i = 0; i < n; i++) {
		size_t len = start[i + 1] - start[i];
		unsigned int md_len = 0;

		if (len > 0 && map[start[i + 1] - 1] == '\n')
			len--;
		if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
		    EVP_DigestUpdate(ctx, &zero, 1) != 1 ||
		    EVP_DigestUpdate(ctx, map + start[i], len) != 1 ||
		    EVP_DigestFinal_ex(ctx, md_out, &md_len) != 1 ||
		    md_len != 32) {
			fprintf(stderr, "bench_limits: sha-256 failed at line %zu\n",
				i + 1);
			goto out;
		}
		fold[i & 31] ^= md_out[i & 31];
	}
	hash_s = now_s() - t0;

	cctx = ZSTD_createCCtx();
	dst_cap = ZSTD_compressBound(BLOCK_MAX);
	dst = malloc(dst_cap);
	if (!cctx || !dst) {
		fprintf(stderr, "bench_limits: out of memory\n");
		goto out;
	}
	t0 = now_s();
	for (i = 0; i < n;) {
		size_t j = i + 1, blen, z;
		unsigned char *big = NULL;

		/* Whole lines, at most BLOCK_MAX bytes (at least one line). */
		while (j < n && start[j + 1] - start[i] <= BLOCK_MAX)
			j++;
		blen = start[j] - start[i];
		if (blen > BLOCK_MAX) {
			big = malloc(ZSTD_compressBound(blen));
			if (!big) {
				fprintf(stderr, "bench_limits: out of memory\n");
				goto out;
			}
		}
		z = ZSTD_compressCCtx(cctx, big ? big : dst,
				      big ? ZSTD_compressBound(blen) : dst_cap,
				      map + start[i], blen, 1);
		free(big);
		if (ZSTD_isError(z)) {
			fprintf(stderr, "bench_limits: zstd at line %zu: %s\n",
				i + 1, ZSTD_getErrorName(z));
			goto out;
		}
		zbytes += z;
		i = j;
	}
	zstd_s = now_s() - t0;

	printf("events=%zu bytes=%zu hash_s=%.3f hash_per_s=%.0f zstd_s=%.3f "
	       "zstd_per_s=%.0f zstd_ratio=%.4f check=",
	       n, size, hash_s, hash_s > 0 ? (double)n / hash_s : 0.0, zstd_s,
	       zstd_s > 0 ? (double)n / zstd_s : 0.0,
	       (double)zbytes / (double)size);
	for (i = 0; i < 8; i++)
		printf("%02x", fold[i]);
	printf("\n");
	rc = 0;
out:
	ZSTD_freeCCtx(cctx);
	free(dst);
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	free(start);
	if (map != MAP_FAILED)
		munmap((void *)map, size);
	if (fd >= 0)
		close(fd);
	return rc;
}
