/*
 * test_spool: the daemon's spool directory (ingest/spool.h), SPEC.md 17.8
 * (names, mode, quarantine/), 16.5 (start-up looks only at the newest
 * file's tail) and 17.9 step 1 (quarantine with NAME.reason).
 *
 * Spool files are checked from the outside: their names in the
 * directory, their bytes, and what the backup reader (ingest/backup.h)
 * reads back from them.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ingest/backup.h"
#include "ingest/spool.h"
#include "testutil.h"

#define NOW_US INT64_C(1700000000123456)
#define PROV "{\"transport\":\"unix\",\"uid\":1000,\"gid\":100,\"pid\":4242}"
#define TORN "{\"chain\":\"00ab"

struct fx {
	char *tmp;
	char dir[4096];    /* the spool directory (not created yet) */
	struct alog_spool *sp;
};

static void fail_with(const char *what, int rc, const struct alog_err *err)
{
	fail_msg("%s: rc %d (%s): %s", what, rc, alog_err_name(rc), err->msg);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->tmp = testutil_tmpdir();
	snprintf(f->dir, sizeof(f->dir), "%s/spool", f->tmp);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	alog_spool_close(f->sp);
	testutil_rmtree(f->tmp);
	free(f->tmp);
	free(f);
	return 0;
}

static void open_spool(struct fx *f, struct alog_spool_start *st)
{
	struct alog_err err = { 0 };
	int rc;

	alog_spool_close(f->sp);
	f->sp = NULL;
	rc = alog_spool_open(f->dir, &f->sp, st, &err);
	if (rc < 0)
		fail_with("spool open", rc, &err);
}

static void close_spool(struct fx *f)
{
	alog_spool_close(f->sp);
	f->sp = NULL;
}

/* <dir>/<16 hex digits>.spool, or in quarantine/ */
static void name_of(const struct fx *f, uint64_t seq, int quarantined,
		    char *out, size_t cap)
{
	snprintf(out, cap, "%s%s/%016" PRIx64 ".spool", f->dir,
		 quarantined ? "/quarantine" : "", seq);
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static uint64_t size_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The *.spool names in the spool directory, sorted, joined by ' '. */
static void listing(const struct fx *f, char *out, size_t cap)
{
	char names[16][256];
	size_t n = 0, len = 0;
	struct dirent *e;
	DIR *d = opendir(f->dir);

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);

		if (l > 6 && strcmp(e->d_name + l - 6, ".spool") == 0) {
			assert_true(n < 16);
			snprintf(names[n++], sizeof(names[0]), "%s", e->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_name);
	out[0] = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s",
					i ? " " : "", names[i]);
}

static void assert_listing(const struct fx *f, const char *want)
{
	char got[1024];

	listing(f, got, sizeof(got));
	assert_string_equal(got, want);
}

static struct alog_backup_spool_rec rec_of(const char *event, const char *id)
{
	struct alog_backup_spool_rec r = {
		.event = event, .event_len = strlen(event),
		.received_us = NOW_US, .id = id,
		.provenance = PROV, .provenance_len = strlen(PROV),
	};
	return r;
}

static void append(struct fx *f, const char *id)
{
	char ev[128];
	struct alog_backup_spool_rec r;
	struct alog_err err = { 0 };
	int rc;

	snprintf(ev, sizeof(ev), "{\"type\":\"a.b\",\"id\":\"%s\"}", id);
	r = rec_of(ev, id);
	rc = alog_spool_append(f->sp, &r, 1, NOW_US, &err);
	if (rc < 0)
		fail_with("spool append", rc, &err);
}

/* What the backup reader finds in the file at path. */
static struct alog_backup_info read_info(const char *path)
{
	struct alog_backup_info info;
	struct alog_err err = { 0 };
	int rc = alog_backup_read(path, NULL, NULL, &info, &err);

	if (rc < 0)
		fail_with("backup read", rc, &err);
	return info;
}

/* A spool file written directly (as an earlier daemon left it): n records,
 * unsealed. */
static void write_file(const struct fx *f, uint64_t seq, int n)
{
	char path[4200], ev[64], id[16];
	struct alog_backup *b = NULL;
	struct alog_backup_spool_rec r;
	struct alog_err err = { 0 };

	name_of(f, seq, 0, path, sizeof(path));
	assert_int_equal(alog_backup_open(path, NOW_US, &b, &err), 0);
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "w%d", i);
		snprintf(ev, sizeof(ev), "{\"type\":\"a.b\",\"id\":\"%s\"}", id);
		r = rec_of(ev, id);
		assert_int_equal(alog_backup_append_spool(b, &r, 1, &err), 0);
	}
	alog_backup_close(b);
}

static void add_bytes(const char *path, const char *bytes, size_t n)
{
	FILE *fp = fopen(path, "ab");

	assert_non_null(fp);
	assert_int_equal(fwrite(bytes, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static void assert_oldest(struct fx *f, uint64_t seq)
{
	char got[ALOG_SPOOL_PATH_MAX], want[4200];
	struct alog_err err = { 0 };
	int rc = alog_spool_oldest(f->sp, got, sizeof(got), &err);

	if (rc < 0)
		fail_with("oldest", rc, &err);
	name_of(f, seq, 0, want, sizeof(want));
	assert_string_equal(got, want);
}

static void assert_no_oldest(struct fx *f)
{
	char got[ALOG_SPOOL_PATH_MAX];
	struct alog_err err = { 0 };

	assert_int_equal(alog_spool_oldest(f->sp, got, sizeof(got), &err),
			 ALOG_ENOTFOUND);
}

/* ---- tests ----------------------------------------------------------- */

static void test_spool_open_creates_the_directory_0700_with_quarantine(
	void **state)
{
	struct fx *f = *state;
	struct alog_spool_start st;
	struct alog_spool *sp = NULL;
	struct alog_err err = { 0 };
	struct stat s;
	char q[4200], file[4200];

	umask(022);
	open_spool(f, &st);
	assert_int_equal(stat(f->dir, &s), 0);
	assert_true(S_ISDIR(s.st_mode));
	assert_int_equal(s.st_mode & 07777, 0700);
	snprintf(q, sizeof(q), "%s/quarantine", f->dir);
	assert_int_equal(stat(q, &s), 0);
	assert_true(S_ISDIR(s.st_mode));
	assert_int_equal(s.st_mode & 07777, 0700);
	assert_int_equal(st.files, 0);
	assert_int_equal(st.cut_bytes, 0);
	assert_string_equal(st.cut_file, "");
	assert_string_equal(alog_spool_dir(f->sp), f->dir);
	assert_int_equal(alog_spool_count(f->sp), 0);
	assert_int_equal(alog_spool_has_current(f->sp), 0);
	assert_string_equal(alog_spool_current_id(f->sp), "");
	assert_int_equal(alog_spool_last(f->sp), 0);
	assert_no_oldest(f);
	assert_listing(f, "");
	/* an existing directory is opened as it is */
	open_spool(f, &st);
	assert_int_equal(st.files, 0);
	/* a path that is not a directory is refused */
	snprintf(file, sizeof(file), "%s/plain", f->tmp);
	add_bytes(file, "x", 1);
	assert_true(alog_spool_open(file, &sp, &st, &err) < 0);
	assert_null(sp);
	assert_non_null(strstr(err.msg, file));
}

/* V-SPOOL-1: names, order, numbers never reused. */
static void test_spool_names_files_by_a_sequence_that_grows_across_reopen(
	void **state)
{
	struct fx *f = *state;
	struct alog_spool_start st;
	struct alog_backup_info info;
	struct alog_err err = { 0 };
	char path[4200], id[64];

	open_spool(f, &st);
	assert_int_equal(alog_spool_begin(f->sp, NOW_US, &err), 0);
	assert_int_equal(alog_spool_has_current(f->sp), 1);
	assert_int_equal(alog_spool_count(f->sp), 1);
	assert_listing(f, "0000000000000000.spool");
	/* the current id is the header's file id, a UUIDv7 */
	snprintf(id, sizeof(id), "%s", alog_spool_current_id(f->sp));
	assert_int_equal(strlen(id), 36);
	assert_int_equal(id[14], '7');
	name_of(f, 0, 0, path, sizeof(path));
	info = read_info(path);
	assert_string_equal(info.file_id, id);
	/* begin again: the same file */
	assert_int_equal(alog_spool_begin(f->sp, NOW_US, &err), 0);
	assert_string_equal(alog_spool_current_id(f->sp), id);
	append(f, "a1");
	assert_int_equal(alog_spool_seal(f->sp, &err), 0);
	append(f, "a2");
	assert_listing(f, "0000000000000000.spool 0000000000000001.spool");
	assert_string_not_equal(alog_spool_current_id(f->sp), id);
	close_spool(f);
	/* close seals the current file */
	name_of(f, 1, 0, path, sizeof(path));
	info = read_info(path);
	assert_int_equal(info.sealed, 1);
	assert_int_equal(info.records, 1);

	/* names that are not spool files are ignored, also for numbering */
	snprintf(path, sizeof(path), "%s/000000000000000A.spool", f->dir);
	add_bytes(path, "x", 1);
	snprintf(path, sizeof(path), "%s/00000000000000009.spool", f->dir);
	add_bytes(path, "x", 1);
	snprintf(path, sizeof(path), "%s/0000000000000009.spool.tmp", f->dir);
	add_bytes(path, "x", 1);
	snprintf(path, sizeof(path), "%s/notes.txt", f->dir);
	add_bytes(path, "x", 1);
	open_spool(f, &st);
	assert_int_equal(st.files, 2);
	assert_int_equal(alog_spool_count(f->sp), 2);
	assert_int_equal(alog_spool_has_current(f->sp), 0);
	append(f, "b1");
	assert_int_equal(alog_spool_count(f->sp), 3);
	name_of(f, 2, 0, path, sizeof(path));
	assert_true(exists(path));
	close_spool(f);

	/* a file with a higher number: new files go above it */
	write_file(f, 0xff, 1);
	open_spool(f, &st);
	assert_int_equal(st.files, 4);
	append(f, "c1");
	name_of(f, 0x100, 0, path, sizeof(path));
	assert_true(exists(path));
	/* oldest first, in numeric order */
	for (uint64_t seq = 0; seq < 3; seq++) {
		assert_oldest(f, seq);
		assert_int_equal(alog_spool_remove_oldest(f->sp, &err), 0);
	}
	assert_oldest(f, 0xff);
}

static void test_spool_append_seal_oldest_last_remove_and_quarantine(
	void **state)
{
	struct fx *f = *state;
	struct alog_spool_start st;
	struct alog_backup_spool_rec recs[2];
	struct alog_backup_info info;
	struct alog_err err = { 0 };
	static const char reason[] =
		"backup file '0000000000000001.spool' line 3: the chain value does not match";
	char path[4200], q[4200], why[4300];
	unsigned char *before, *after, *text;
	size_t n_before, n_after, n_text;

	open_spool(f, &st);
	recs[0] = rec_of("{\"type\":\"a.b\",\"id\":\"r1\"}", "r1");
	recs[1] = rec_of("{\"type\":\"a.b\",\"id\":\"r2\"}", "r2");
	assert_int_equal(alog_spool_append(f->sp, recs, 2, NOW_US, &err), 0);
	assert_int_equal(alog_spool_has_current(f->sp), 1);
	assert_int_equal(alog_spool_count(f->sp), 1);
	assert_int_equal(alog_spool_last(f->sp), 0);
	assert_no_oldest(f);   /* the only file is the current one */
	name_of(f, 0, 0, path, sizeof(path));
	info = read_info(path);
	assert_int_equal(info.records, 2);
	assert_int_equal(info.sealed, 0);

	assert_int_equal(alog_spool_seal(f->sp, &err), 0);
	assert_int_equal(alog_spool_has_current(f->sp), 0);
	assert_string_equal(alog_spool_current_id(f->sp), "");
	assert_int_equal(alog_spool_count(f->sp), 1);
	info = read_info(path);
	assert_int_equal(info.sealed, 1);
	assert_int_equal(info.records, 2);
	assert_oldest(f, 0);
	assert_int_equal(alog_spool_last(f->sp), 1);
	/* sealing without a current file does nothing */
	assert_int_equal(alog_spool_seal(f->sp, &err), 0);

	append(f, "r3");
	assert_int_equal(alog_spool_count(f->sp), 2);
	assert_int_equal(alog_spool_last(f->sp), 0);
	assert_oldest(f, 0);
	assert_int_equal(alog_spool_remove_oldest(f->sp, &err), 0);
	assert_false(exists(path));
	assert_listing(f, "0000000000000001.spool");
	assert_int_equal(alog_spool_count(f->sp), 1);
	/* the current file is never the oldest: nothing to remove */
	assert_no_oldest(f);
	assert_int_equal(alog_spool_remove_oldest(f->sp, &err), ALOG_ENOTFOUND);
	assert_int_equal(alog_spool_quarantine_oldest(f->sp, reason, &err),
			 ALOG_ENOTFOUND);
	assert_listing(f, "0000000000000001.spool");

	assert_int_equal(alog_spool_seal(f->sp, &err), 0);
	name_of(f, 1, 0, path, sizeof(path));
	before = testutil_read_file(path, &n_before);
	assert_oldest(f, 1);
	assert_int_equal(alog_spool_last(f->sp), 1);
	assert_int_equal(alog_spool_quarantine_oldest(f->sp, reason, &err), 0);
	assert_false(exists(path));
	assert_listing(f, "");
	name_of(f, 1, 1, q, sizeof(q));
	after = testutil_read_file(q, &n_after);
	assert_int_equal(n_after, n_before);
	assert_memory_equal(after, before, n_before);
	snprintf(why, sizeof(why), "%s.reason", q);
	text = testutil_read_file(why, &n_text);
	assert_int_equal(n_text, strlen(reason) + 1);
	assert_memory_equal(text, reason, strlen(reason));
	assert_int_equal(text[n_text - 1], '\n');
	free(before);
	free(after);
	free(text);
	assert_int_equal(alog_spool_count(f->sp), 0);
	assert_int_equal(alog_spool_last(f->sp), 0);
	assert_no_oldest(f);

	/* a number is never used twice */
	append(f, "r4");
	assert_listing(f, "0000000000000002.spool");
}

/* V-SPOOL-2: the tail-only start-up. */
static void test_spool_open_cuts_a_torn_tail_of_the_newest_file_only_and_reports_it(
	void **state)
{
	struct fx *f = *state;
	struct alog_spool_start st;
	char old[4200], newest[4200];
	uint64_t old_size, new_size;

	open_spool(f, &st);
	close_spool(f);
	write_file(f, 0, 2);
	write_file(f, 1, 3);
	name_of(f, 0, 0, old, sizeof(old));
	name_of(f, 1, 0, newest, sizeof(newest));
	new_size = size_of(newest);
	add_bytes(old, TORN, strlen(TORN));
	add_bytes(newest, TORN, strlen(TORN));
	old_size = size_of(old);

	open_spool(f, &st);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.cut_bytes, strlen(TORN));
	assert_int_equal(st.cut_offset, new_size);
	assert_string_equal(st.cut_file, newest);
	assert_int_equal(size_of(newest), new_size);
	/* only the newest file's tail is looked at: the older one keeps its
	 * torn tail for replay's full read, which ignores it */
	assert_int_equal(size_of(old), old_size);
	assert_int_equal(read_info(newest).records, 3);

	/* new records never go to a file that existed before */
	append(f, "n1");
	assert_listing(f, "0000000000000000.spool 0000000000000001.spool "
			  "0000000000000002.spool");
	assert_int_equal(size_of(newest), new_size);
	close_spool(f);

	/* nothing to cut: nothing reported */
	open_spool(f, &st);
	assert_int_equal(st.files, 3);
	assert_int_equal(st.cut_bytes, 0);
	assert_string_equal(st.cut_file, "");
}

static void test_spool_open_removes_an_empty_leftover_file(void **state)
{
	struct fx *f = *state;
	struct alog_spool_start st;
	char path[4200];

	open_spool(f, &st);
	close_spool(f);
	write_file(f, 2, 1);
	/* an empty newest file (a crash right after create) */
	name_of(f, 3, 0, path, sizeof(path));
	add_bytes(path, "", 0);
	open_spool(f, &st);
	assert_false(exists(path));
	assert_int_equal(st.files, 1);
	assert_int_equal(alog_spool_count(f->sp), 1);
	assert_listing(f, "0000000000000002.spool");
	/* its number is not used again */
	append(f, "e1");
	assert_listing(f, "0000000000000002.spool 0000000000000004.spool");
	close_spool(f);

	/* a newest file with a torn header only: cut to nothing, reported,
	 * removed */
	name_of(f, 5, 0, path, sizeof(path));
	add_bytes(path, TORN, strlen(TORN));
	open_spool(f, &st);
	assert_false(exists(path));
	assert_int_equal(st.files, 2);
	assert_int_equal(st.cut_bytes, strlen(TORN));
	assert_int_equal(st.cut_offset, 0);
	assert_listing(f, "0000000000000002.spool 0000000000000004.spool");
}

static void test_spool_oldest_never_returns_the_current_file(void **state)
{
	struct fx *f = *state;
	struct alog_spool_start st;
	struct alog_err err = { 0 };

	open_spool(f, &st);
	close_spool(f);
	write_file(f, 0, 1);
	write_file(f, 1, 1);
	open_spool(f, &st);
	assert_int_equal(alog_spool_begin(f->sp, NOW_US, &err), 0);
	assert_int_equal(alog_spool_count(f->sp), 3);
	assert_oldest(f, 0);
	assert_int_equal(alog_spool_last(f->sp), 0);
	assert_int_equal(alog_spool_remove_oldest(f->sp, &err), 0);
	assert_oldest(f, 1);
	assert_int_equal(alog_spool_last(f->sp), 0);
	assert_int_equal(alog_spool_remove_oldest(f->sp, &err), 0);
	assert_int_equal(alog_spool_count(f->sp), 1);
	assert_no_oldest(f);
	assert_int_equal(alog_spool_last(f->sp), 0);
	/* sealed, it is no longer current: the last file to replay */
	assert_int_equal(alog_spool_seal(f->sp, &err), 0);
	assert_oldest(f, 2);
	assert_int_equal(alog_spool_last(f->sp), 1);
}

/* V-SPOOL-3: a newest file that does not verify (bytes after its seal)
 * is replay's to quarantine (SPEC.md 16.5: "cutting would hide the
 * corruption from replay"; 17.9: "the other files are still replayed"):
 * start-up cuts nothing and still opens the spool, so that the daemon
 * can start. */
static void test_spool_open_leaves_a_newest_file_with_bytes_after_its_seal_for_replay(
	void **state)
{
	struct fx *f = *state;
	struct alog_spool_start st;
	struct alog_err err = { 0 };
	char path[4200];
	uint64_t size;
	int rc;

	open_spool(f, &st);
	append(f, "s1");
	assert_int_equal(alog_spool_seal(f->sp, &err), 0);
	append(f, "s2");
	close_spool(f);
	name_of(f, 1, 0, path, sizeof(path));
	add_bytes(path, TORN, strlen(TORN));
	size = size_of(path);
	rc = alog_spool_open(f->dir, &f->sp, &st, &err);
	assert_int_equal(size_of(path), size);   /* nothing cut */
	if (rc < 0)
		fail_msg("spool open refused the whole spool (rc %d): %s", rc,
			 err.msg);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.cut_bytes, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_spool_open_creates_the_directory_0700_with_quarantine),
		T(test_spool_names_files_by_a_sequence_that_grows_across_reopen),
		T(test_spool_append_seal_oldest_last_remove_and_quarantine),
		T(test_spool_open_cuts_a_torn_tail_of_the_newest_file_only_and_reports_it),
		T(test_spool_open_removes_an_empty_leftover_file),
		T(test_spool_oldest_never_returns_the_current_file),
		T(test_spool_open_leaves_a_newest_file_with_bytes_after_its_seal_for_replay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
