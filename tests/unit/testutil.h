/*
 * testutil: helpers shared by the unit tests: reading the published
 * vectors (tests/vectors, path from $ALOG_VECTORS), temporary directories.
 */
#ifndef ALOG_TESTS_TESTUTIL_H
#define ALOG_TESTS_TESTUTIL_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Parse tests/vectors/<name>; aborts the test binary if missing. Caller
 * frees with cJSON_Delete. */
cJSON *testutil_load_vector(const char *name);
/* Create a fresh temporary directory (mkdtemp under $TMPDIR or /tmp);
 * returns a malloc'd path. */
char *testutil_tmpdir(void);
/* rm -rf path (only paths testutil_tmpdir made). */
void testutil_rmtree(const char *path);
/* Whole file into a malloc'd buffer (one spare byte after it); *n gets
 * its length. Aborts the test binary when it can't be read. */
unsigned char *testutil_read_file(const char *path, size_t *n);

/* Decode hex into out (size n); aborts on bad input. */
void testutil_unhex(const char *hex, unsigned char *out, size_t n);

#endif
