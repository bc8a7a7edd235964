/*
 * spool: see spool.h.
 */
#include "ingest/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUFFIX ".spool"
#define NAME_LEN (16 + sizeof(SUFFIX) - 1)

struct alog_spool {
	char *dir;
	char *qdir;
	uint64_t *seqs;          /* files waiting, ascending; the current
				    one (when open) is the last */
	size_t n, cap;
	uint64_t next_seq;
	struct alog_backup *cur; /* the current file, or NULL */
	int lock_fd;             /* the directory, flocked for our run */
};

static int sync_dir(const char *dir, struct alog_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return alog_err_sys(err, ALOG_EIO, errno,
				    "open spool directory '%s': %s", dir,
				    strerror(errno));
	if (fsync(fd) < 0)
		rc = alog_err_sys(err, ALOG_EIO, errno,
				  "fsync spool directory '%s': %s", dir,
				  strerror(errno));
	close(fd);
	return rc;
}

static int make_dir(const char *dir, struct alog_err *err)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0) {
		/* its entry in the parent must be durable too */
		char *parent = strdup(dir);
		char *slash = parent ? strrchr(parent, '/') : NULL;
		int rc;

		if (!parent)
			return alog_err_set(err, ALOG_ENOMEM, "out of memory");
		if (slash == parent)
			slash[1] = 0;
		else if (slash)
			*slash = 0;
		rc = sync_dir(slash ? parent : ".", err);
		free(parent);
		if (rc < 0)
			return rc;
	} else if (errno != EEXIST) {
		return alog_err_sys(err, ALOG_EIO, errno,
				    "create spool directory '%s': %s", dir,
				    strerror(errno));
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return alog_err_set(err, ALOG_EIO,
				    "spool directory '%s' is not a directory",
				    dir);
	/* SPEC.md 17.8: its records are replayed with the provenance they
	 * claim, so nobody but the daemon may write there */
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return alog_err_set(err, ALOG_EINVAL,
				    "spool directory '%s' is owned by uid %u with mode %04o: it must be this user's (uid %u) and writable by nobody else (e.g. chmod 0700)",
				    dir, (unsigned)st.st_uid,
				    (unsigned)(st.st_mode & 07777),
				    (unsigned)geteuid());
	return 0;
}

static int file_path(const struct alog_spool *sp, uint64_t seq, char *out,
		     size_t cap, struct alog_err *err)
{
	int n = snprintf(out, cap, "%s/%016" PRIx64 SUFFIX, sp->dir, seq);

	if (n < 0 || (size_t)n >= cap)
		return alog_err_set(err, ALOG_ELIMIT,
				    "spool path longer than %zu bytes", cap);
	return 0;
}

/* "0123456789abcdef.spool" -> seq; -1 for any other name. */
static int parse_name(const char *name, uint64_t *seq)
{
	uint64_t v = 0;

	if (strlen(name) != NAME_LEN || strcmp(name + 16, SUFFIX) != 0)
		return -1;
	for (size_t i = 0; i < 16; i++) {
		char c = name[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return -1;
	}
	*seq = v;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int push_seq(struct alog_spool *sp, uint64_t seq, struct alog_err *err)
{
	if (sp->n == sp->cap) {
		size_t cap = sp->cap ? 2 * sp->cap : 16;
		uint64_t *p = realloc(sp->seqs, cap * sizeof(*p));

		if (!p)
			return alog_err_set(err, ALOG_ENOMEM, "out of memory");
		sp->seqs = p;
		sp->cap = cap;
	}
	sp->seqs[sp->n++] = seq;
	return 0;
}

static int scan(struct alog_spool *sp, struct alog_err *err)
{
	DIR *d = opendir(sp->dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return alog_err_sys(err, ALOG_EIO, errno,
				    "read spool directory '%s': %s", sp->dir,
				    strerror(errno));
	while (rc == 0 && (e = readdir(d)) != NULL) {
		uint64_t seq;

		if (parse_name(e->d_name, &seq) < 0)
			continue;
		rc = push_seq(sp, seq, err);
		if (rc == 0 && seq >= sp->next_seq)
			sp->next_seq = seq + 1;
	}
	closedir(d);
	if (rc == 0 && sp->n)
		qsort(sp->seqs, sp->n, sizeof(*sp->seqs), cmp_u64);
	return rc;
}

size_t alog_spool_peek(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;
	uint64_t seq;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (parse_name(e->d_name, &seq) == 0)
			n++;
	closedir(d);
	return n;
}

/* Start-up: only the newest file's tail is read. */
static int check_tail(struct alog_spool *sp, struct alog_spool_start *st,
		      struct alog_err *err)
{
	struct alog_backup_tail t;
	char path[ALOG_SPOOL_PATH_MAX];
	int rc;

	if (sp->n == 0)
		return 0;
	rc = file_path(sp, sp->seqs[sp->n - 1], path, sizeof(path), err);
	if (rc == 0)
		rc = alog_backup_cut_tail(path, &t, err);
	if (rc == ALOG_ECORRUPT) {
		/* not a torn line to cut (bytes after a seal, a line past the
		 * limit): left as it is for replay, which quarantines it */
		snprintf(st->corrupt_file, sizeof(st->corrupt_file), "%s",
			 path);
		snprintf(st->corrupt_msg, sizeof(st->corrupt_msg), "%s",
			 err->msg);
		alog_err_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	if (t.cut_bytes) {
		st->cut_bytes = t.cut_bytes;
		st->cut_offset = t.cut_offset;
		snprintf(st->cut_file, sizeof(st->cut_file), "%s", path);
	}
	if (t.size == 0) {
		/* not even a header: nothing in it was ever acknowledged */
		if (unlink(path) < 0)
			return alog_err_sys(err, ALOG_EIO, errno,
					    "remove empty spool file '%s': %s",
					    path, strerror(errno));
		sp->n--;
		return sync_dir(sp->dir, err);
	}
	return 0;
}

/* One daemon a spool: the directory stays locked for the whole run
 * (the store's writer lock is let go while the store fails). */
static int lock_dir(struct alog_spool *sp, struct alog_err *err)
{
	sp->lock_fd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->lock_fd < 0)
		return alog_err_sys(err, ALOG_EIO, errno,
				    "open spool directory '%s': %s", sp->dir,
				    strerror(errno));
	if (flock(sp->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return alog_err_sys(err, errno == EWOULDBLOCK ? ALOG_EBUSY :
				    ALOG_EIO, errno,
				    "spool directory '%s' is in use by another daemon",
				    sp->dir);
	return 0;
}

int alog_spool_open(const char *dir, struct alog_spool **out,
		    struct alog_spool_start *st, struct alog_err *err)
{
	struct alog_spool *sp;
	struct alog_spool_start local;
	size_t n = strlen(dir);
	int rc;

	*out = NULL;
	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	if (n == 0 || n + 1 + NAME_LEN + 1 > ALOG_SPOOL_PATH_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "spool directory path '%.200s' of %zu bytes (at most %zu)",
				    dir, n, ALOG_SPOOL_PATH_MAX - NAME_LEN - 2);
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	sp->lock_fd = -1;
	sp->dir = strdup(dir);
	sp->qdir = malloc(n + sizeof("/quarantine"));
	if (!sp->dir || !sp->qdir) {
		rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
		goto fail;
	}
	memcpy(sp->qdir, dir, n);
	memcpy(sp->qdir + n, "/quarantine", sizeof("/quarantine"));
	rc = make_dir(sp->dir, err);
	if (rc == 0)
		rc = make_dir(sp->qdir, err);
	if (rc == 0)
		rc = lock_dir(sp, err);
	if (rc == 0)
		rc = scan(sp, err);
	if (rc == 0)
		rc = check_tail(sp, st, err);
	if (rc < 0)
		goto fail;
	st->files = sp->n;
	*out = sp;
	return 0;
fail:
	alog_spool_close(sp);
	return rc;
}

void alog_spool_close(struct alog_spool *sp)
{
	struct alog_err err = { 0 };

	if (!sp)
		return;
	(void)alog_spool_seal(sp, &err);
	if (sp->lock_fd >= 0)
		close(sp->lock_fd);
	free(sp->seqs);
	free(sp->qdir);
	free(sp->dir);
	free(sp);
}

const char *alog_spool_dir(const struct alog_spool *sp)
{
	return sp->dir;
}

size_t alog_spool_count(const struct alog_spool *sp)
{
	return sp->n;
}

int alog_spool_has_current(const struct alog_spool *sp)
{
	return sp->cur != NULL;
}

const char *alog_spool_current_id(const struct alog_spool *sp)
{
	return sp->cur ? alog_backup_opened(sp->cur)->file_id : "";
}

static int start_file(struct alog_spool *sp, int64_t now_us,
		      struct alog_err *err)
{
	char path[ALOG_SPOOL_PATH_MAX];
	int rc;

	rc = file_path(sp, sp->next_seq, path, sizeof(path), err);
	if (rc == 0)
		rc = push_seq(sp, sp->next_seq, err);
	if (rc < 0)
		return rc;
	rc = alog_backup_open(path, now_us, &sp->cur, err);
	if (rc < 0) {
		sp->n--;
		/* a file we could not start holds nothing acknowledged */
		if (rc != ALOG_EBUSY && access(path, F_OK) == 0)
			unlink(path);
		return rc;
	}
	sp->next_seq++;
	return 0;
}

int alog_spool_seal(struct alog_spool *sp, struct alog_err *err)
{
	int rc;

	if (!sp->cur)
		return 0;
	rc = alog_backup_seal(sp->cur, err);
	alog_backup_close(sp->cur);
	sp->cur = NULL;
	return rc;
}

int alog_spool_begin(struct alog_spool *sp, int64_t now_us,
		     struct alog_err *err)
{
	int rc;

	if (sp->cur && alog_backup_size(sp->cur) >= ALOG_SPOOL_FILE_MAX) {
		rc = alog_spool_seal(sp, err);
		if (rc < 0)
			return rc;
	}
	if (!sp->cur)
		return start_file(sp, now_us, err);
	return 0;
}

int alog_spool_append(struct alog_spool *sp,
		      const struct alog_backup_spool_rec *recs, size_t n,
		      int64_t now_us, struct alog_err *err)
{
	int rc;

	rc = alog_spool_begin(sp, now_us, err);
	if (rc < 0)
		return rc;
	rc = alog_backup_append_spool(sp->cur, recs, n, err);
	if (rc < 0) {
		/* the file was cut back to its last good line and refuses
		 * more: close it, the next append starts a new one */
		alog_backup_close(sp->cur);
		sp->cur = NULL;
	}
	return rc;
}

int alog_spool_oldest(const struct alog_spool *sp, char *path, size_t cap,
		      struct alog_err *err)
{
	if (sp->n == 0 || (sp->n == 1 && sp->cur))
		return alog_err_set(err, ALOG_ENOTFOUND,
				    "no spool file to replay");
	return file_path(sp, sp->seqs[0], path, cap, err);
}

int alog_spool_last(const struct alog_spool *sp)
{
	return sp->n == 1 && !sp->cur;
}

static void drop_oldest(struct alog_spool *sp)
{
	memmove(sp->seqs, sp->seqs + 1, (sp->n - 1) * sizeof(*sp->seqs));
	sp->n--;
}

void alog_spool_forget_oldest(struct alog_spool *sp)
{
	if (sp->n && !(sp->n == 1 && sp->cur))
		drop_oldest(sp);
}

int alog_spool_remove_oldest(struct alog_spool *sp, struct alog_err *err)
{
	char path[ALOG_SPOOL_PATH_MAX];
	int rc;

	rc = alog_spool_oldest(sp, path, sizeof(path), err);
	if (rc < 0)
		return rc;
	if (unlink(path) < 0)
		return alog_err_sys(err, ALOG_EIO, errno,
				    "remove replayed spool file '%s': %s", path,
				    strerror(errno));
	drop_oldest(sp);
	return sync_dir(sp->dir, err);
}

int alog_spool_quarantine_oldest(struct alog_spool *sp, const char *reason,
				 struct alog_err *err)
{
	char path[ALOG_SPOOL_PATH_MAX], to[ALOG_SPOOL_PATH_MAX];
	char why[ALOG_SPOOL_PATH_MAX + sizeof(".reason")];
	int rc, fd, n;

	rc = alog_spool_oldest(sp, path, sizeof(path), err);
	if (rc < 0)
		return rc;
	n = snprintf(to, sizeof(to), "%s/%016" PRIx64 SUFFIX, sp->qdir,
		     sp->seqs[0]);
	if (n < 0 || (size_t)n >= sizeof(to))
		return alog_err_set(err, ALOG_ELIMIT,
				    "quarantine path for '%s' too long", path);
	snprintf(why, sizeof(why), "%s.reason", to);
	rc = make_dir(sp->qdir, err); /* it may have been removed */
	if (rc < 0)
		return rc;
	fd = open(why, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return alog_err_sys(err, ALOG_EIO, errno, "create '%s': %s",
				    why, strerror(errno));
	if (dprintf(fd, "%s\n", reason) < 0 || fsync(fd) < 0) {
		rc = alog_err_sys(err, ALOG_EIO, errno, "write '%s': %s", why,
				  strerror(errno));
		close(fd);
		return rc;
	}
	close(fd);
	if (rename(path, to) < 0)
		return alog_err_sys(err, ALOG_EIO, errno,
				    "move '%s' to quarantine: %s", path,
				    strerror(errno));
	drop_oldest(sp);
	rc = sync_dir(sp->qdir, err);
	if (rc == 0)
		rc = sync_dir(sp->dir, err);
	return rc;
}
