/*
 * testutil: see testutil.h.
 */
#include "testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/bytes.h"

cJSON *testutil_load_vector(const char *name)
{
	const char *dir = getenv("ALOG_VECTORS");
	char path[4096];
	FILE *f;
	long n;
	char *text;
	cJSON *j;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/vectors",
		 name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open vector file '%s'\n", path);
		abort();
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = malloc((size_t)n + 1);
	if (!text || fread(text, 1, (size_t)n, f) != (size_t)n)
		abort();
	text[n] = 0;
	fclose(f);
	j = cJSON_Parse(text);
	free(text);
	if (!j) {
		fprintf(stderr, "cannot parse vector file '%s'\n", path);
		abort();
	}
	return j;
}

char *testutil_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];
	char *p;

	snprintf(tmpl, sizeof(tmpl), "%s/alog-test-XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(tmpl))
		abort();
	p = strdup(tmpl);
	if (!p)
		abort();
	return p;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void testutil_rmtree(const char *path)
{
	if (path && strstr(path, "alog-test-"))
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void testutil_unhex(const char *hex, unsigned char *out, size_t n)
{
	if (alog_hex_decode(hex, strlen(hex), out, n) < 0) {
		fprintf(stderr, "bad hex in vector: %s\n", hex);
		abort();
	}
}

unsigned char *testutil_read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p;
	long len;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "cannot read '%s'\n", path);
		abort();
	}
	p = malloc((size_t)len + 1);
	if (!p || fread(p, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "cannot read '%s'\n", path);
		abort();
	}
	fclose(f);
	*n = (size_t)len;
	return p;
}
