/*
 * segment: one append-only file of blocks (SPEC.md "Segments"; format
 * table in segment.h).
 *
 * Invariants:
 * - size is the length of the part of the file this handle vouches for:
 *   the header plus every byte written through it (or present at open).
 *   Writes go to offset size with pwrite; reads never look past size.
 * - A failed fdatasync/fsync sets broken; from then on every call but
 *   close and the getters fails with ALOG_ESTATE, because the kernel may
 *   have dropped the dirty pages and the page cache no longer says what
 *   the disk holds.
 * - A failed write leaves size unchanged and cuts any partial bytes off
 *   again; if that cut fails as well the segment is broken.
 */
#include "store/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/bytes.h"

#define SEG_MAGIC "ALOGSEG1"
#define SEG_VERSION 1u

struct alog_segment {
	int fd;              /* -1 when closed */
	uint32_t id;
	uint64_t first_index;
	uint64_t size;       /* bytes, header included; <= INT64_MAX */
	int writable;        /* opened O_RDWR */
	int broken;          /* a sync failed: see the invariants above */
	int fail_next_sync;  /* test hook */
	char *path;          /* "<dir>/<id as %08u>.seg", owned */
	struct alog_buf frame; /* reused frame buffer, max COMP_MAX */
};

static int make_path(const char *dir, uint32_t id, char **out,
		     struct alog_err *err)
{
	size_t n;
	char *p;

	*out = NULL;
	if (!dir || !*dir)
		return alog_err_set(err, ALOG_EINVAL,
				    "empty segments directory name");
	n = strlen(dir) + sizeof("/4294967295.seg");
	p = malloc(n);
	if (!p)
		return alog_err_set(err, ALOG_ENOMEM,
				    "out of memory for a segment path");
	snprintf(p, n, "%s/%08" PRIu32 ".seg", dir, id);
	*out = p;
	return 0;
}

static struct alog_segment *seg_alloc(void)
{
	struct alog_segment *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->fd = -1;
	alog_buf_init(&s->frame, ALOG_BLOCK_COMP_MAX);
	return s;
}

/* pwrite all n bytes at off; retries EINTR and short writes. Returns 0 or
 * an errno value. */
static int pwrite_all(int fd, const unsigned char *p, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (w == 0)
			return EIO; /* no progress and no errno: give up */
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* pread up to n bytes at off into p; *got gets how many were read (less
 * than n only at end of file). Returns 0 or an errno value. */
static int pread_all(int fd, unsigned char *p, size_t n, uint64_t off,
		     size_t *got)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(fd, p + done, n - done, (off_t)(off + done));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			*got = done;
			return errno;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	*got = done;
	return 0;
}

static int fsync_dir(const char *dir, struct alog_err *err)
{
	int fd, e;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		return alog_err_sys(err, ALOG_EIO, e,
				    "cannot open directory '%s' to sync it: %s",
				    dir, strerror(e));
	}
	if (fsync(fd) < 0) {
		e = errno;
		close(fd);
		return alog_err_sys(err, ALOG_EIO, e,
				    "cannot fsync directory '%s': %s", dir,
				    strerror(e));
	}
	close(fd);
	return 0;
}

static int refuse_broken(const struct alog_segment *s, struct alog_err *err)
{
	return alog_err_set(err, ALOG_ESTATE,
			    "segment '%s' is unusable after a failed sync; "
			    "reopen the store",
			    s->path);
}

/* fdatasync (full=0) or fsync (full=1); marks the segment broken on
 * failure. */
static int do_sync(struct alog_segment *s, int full, struct alog_err *err)
{
	int r, e;

	if (s->fail_next_sync) {
		s->fail_next_sync = 0;
		r = -1;
		errno = EIO;
	} else {
		r = full ? fsync(s->fd) : fdatasync(s->fd);
	}
	if (r < 0) {
		e = errno;
		s->broken = 1;
		return alog_err_sys(err, ALOG_EIO, e,
				    "segment '%s': %s failed: %s", s->path,
				    full ? "fsync" : "fdatasync", strerror(e));
	}
	return 0;
}

static void encode_header(unsigned char *p, uint32_t id, uint64_t first_index)
{
	memcpy(p, SEG_MAGIC, 8);
	alog_put_be32(p + 8, SEG_VERSION);
	alog_put_be32(p + 12, id);
	alog_put_be64(p + 16, first_index);
	alog_put_be32(p + 24, 0);
	alog_put_be32(p + 28, alog_crc32c(0, p, 28));
}

/* Check the 32-byte header of s (SPEC.md "Segments", reader MUST checks)
 * and set s->first_index. */
static int check_header(struct alog_segment *s, const unsigned char *p,
			size_t len, struct alog_err *err)
{
	struct alog_rd rd;
	const unsigned char *magic;
	uint32_t version = 0, id = 0, flags = 0, crc = 0, want;
	uint64_t first_index = 0;

	if (len < ALOG_SEGMENT_HEADER_LEN)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "segment '%s': torn header: %zu of %d bytes",
				    s->path, len, ALOG_SEGMENT_HEADER_LEN);
	alog_rd_init(&rd, p, ALOG_SEGMENT_HEADER_LEN);
	magic = alog_rd_take(&rd, 8);
	alog_rd_u32(&rd, &version);
	alog_rd_u32(&rd, &id);
	alog_rd_u64(&rd, &first_index);
	alog_rd_u32(&rd, &flags);
	alog_rd_u32(&rd, &crc);
	if (rd.bad || !magic)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "segment '%s': torn header", s->path);
	if (memcmp(magic, SEG_MAGIC, 8) != 0)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "segment '%s': bad magic (not an auditlog "
				    "segment)", s->path);
	want = alog_crc32c(0, p, 28);
	if (crc != want)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "segment '%s': header crc mismatch (stored "
				    "0x%08" PRIx32 ", computed 0x%08" PRIx32 ")",
				    s->path, crc, want);
	if (version != SEG_VERSION)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "segment '%s': unsupported version %" PRIu32
				    " (expected %u)", s->path, version,
				    SEG_VERSION);
	if (id != s->id)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "segment '%s': header names segment %" PRIu32
				    ", expected %" PRIu32, s->path, id, s->id);
	if (flags != 0)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "segment '%s': reserved header flags set: "
				    "0x%08" PRIx32, s->path, flags);
	s->first_index = first_index;
	return 0;
}

int alog_segment_create(const char *segments_dir, uint32_t id,
			uint64_t first_index, struct alog_segment **out,
			struct alog_err *err)
{
	unsigned char hdr[ALOG_SEGMENT_HEADER_LEN];
	struct alog_segment *s;
	int rc, e, created = 0;

	*out = NULL;
	s = seg_alloc();
	if (!s)
		return alog_err_set(err, ALOG_ENOMEM,
				    "out of memory opening a segment");
	rc = make_path(segments_dir, id, &s->path, err);
	if (rc < 0)
		goto out;
	s->id = id;
	s->first_index = first_index;
	s->writable = 1;
	s->fd = open(s->path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0640);
	if (s->fd < 0) {
		e = errno;
		rc = alog_err_sys(err, e == EEXIST ? ALOG_EEXIST : ALOG_EIO, e,
				  "cannot create segment '%s': %s", s->path,
				  strerror(e));
		goto out;
	}
	created = 1;
	encode_header(hdr, id, first_index);
	e = pwrite_all(s->fd, hdr, sizeof(hdr), 0);
	if (e) {
		rc = alog_err_sys(err, ALOG_EIO, e,
				  "cannot write header of segment '%s': %s",
				  s->path, strerror(e));
		goto out;
	}
	s->size = ALOG_SEGMENT_HEADER_LEN;
	rc = do_sync(s, 0, err);
	if (rc < 0)
		goto out;
	rc = fsync_dir(segments_dir, err);
	if (rc < 0)
		goto out;
out:
	if (rc < 0) {
		/* The file is ours (O_EXCL): don't leave a half-made segment
		 * that a later create would trip over. Best effort. */
		if (created)
			unlink(s->path);
		alog_segment_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

int alog_segment_open(const char *segments_dir, uint32_t id, int writable,
		      struct alog_segment **out, struct alog_err *err)
{
	unsigned char hdr[ALOG_SEGMENT_HEADER_LEN];
	struct alog_segment *s;
	struct stat st;
	size_t got;
	int rc, e;

	*out = NULL;
	s = seg_alloc();
	if (!s)
		return alog_err_set(err, ALOG_ENOMEM,
				    "out of memory opening a segment");
	rc = make_path(segments_dir, id, &s->path, err);
	if (rc < 0)
		goto out;
	s->id = id;
	s->writable = writable ? 1 : 0;
	s->fd = open(s->path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (s->fd < 0) {
		e = errno;
		rc = alog_err_sys(err, e == ENOENT ? ALOG_ENOTFOUND : ALOG_EIO,
				  e, "cannot open segment '%s': %s", s->path,
				  strerror(e));
		goto out;
	}
	if (fstat(s->fd, &st) < 0) {
		e = errno;
		rc = alog_err_sys(err, ALOG_EIO, e,
				  "cannot stat segment '%s': %s", s->path,
				  strerror(e));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "segment '%s' is not a regular file",
				  s->path);
		goto out;
	}
	e = pread_all(s->fd, hdr, sizeof(hdr), 0, &got);
	if (e) {
		rc = alog_err_sys(err, ALOG_EIO, e,
				  "cannot read header of segment '%s': %s",
				  s->path, strerror(e));
		goto out;
	}
	rc = check_header(s, hdr, got, err);
	if (rc < 0)
		goto out;
	s->size = (uint64_t)st.st_size;
out:
	if (rc < 0) {
		alog_segment_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void alog_segment_close(struct alog_segment *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->path);
	alog_buf_release(&s->frame);
	free(s);
}

uint32_t alog_segment_id(const struct alog_segment *s)
{
	return s->id;
}

uint64_t alog_segment_first_index(const struct alog_segment *s)
{
	return s->first_index;
}

uint64_t alog_segment_size(const struct alog_segment *s)
{
	return s->size;
}

const char *alog_segment_path(const struct alog_segment *s)
{
	return s->path;
}

static int check_writable(const struct alog_segment *s, struct alog_err *err)
{
	if (s->broken)
		return refuse_broken(s, err);
	if (!s->writable)
		return alog_err_set(err, ALOG_ESTATE,
				    "segment '%s' is open read-only", s->path);
	return 0;
}

int alog_segment_truncate(struct alog_segment *s, uint64_t len,
			  struct alog_err *err)
{
	int rc, e;

	rc = check_writable(s, err);
	if (rc < 0)
		return rc;
	if (len < ALOG_SEGMENT_HEADER_LEN || len > s->size)
		return alog_err_set(err, ALOG_EINVAL,
				    "segment '%s': cannot truncate to %" PRIu64
				    " bytes (valid: %d..%" PRIu64 ")",
				    s->path, len, ALOG_SEGMENT_HEADER_LEN,
				    s->size);
	while (ftruncate(s->fd, (off_t)len) < 0) {
		e = errno;
		if (e == EINTR)
			continue;
		return alog_err_sys(err, ALOG_EIO, e,
				    "segment '%s': cannot truncate to %" PRIu64
				    " bytes: %s", s->path, len, strerror(e));
	}
	s->size = len;
	/* fsync, not fdatasync: the file size is what changed. */
	return do_sync(s, 1, err);
}

int alog_segment_write(struct alog_segment *s, const void *p, size_t len,
		       uint64_t *offset, struct alog_err *err)
{
	int rc, e;

	rc = check_writable(s, err);
	if (rc < 0)
		return rc;
	if ((uint64_t)len > (uint64_t)INT64_MAX - s->size)
		return alog_err_set(err, ALOG_ELIMIT,
				    "segment '%s': write of %zu bytes at offset "
				    "%" PRIu64 " overflows the file size",
				    s->path, len, s->size);
	e = pwrite_all(s->fd, p, len, s->size);
	if (e) {
		rc = alog_err_sys(err, ALOG_EIO, e,
				  "segment '%s' offset %" PRIu64
				  ": cannot write %zu bytes: %s",
				  s->path, s->size, len, strerror(e));
		/* Part of the bytes may have landed: cut them off so the file
		 * ends where size says. If even that fails, the file no longer
		 * matches this handle's view: stop trusting it. */
		while (ftruncate(s->fd, (off_t)s->size) < 0) {
			if (errno == EINTR)
				continue;
			s->broken = 1;
			break;
		}
		return rc;
	}
	if (offset)
		*offset = s->size;
	s->size += len;
	return 0;
}

int alog_segment_sync(struct alog_segment *s, struct alog_err *err)
{
	if (s->broken)
		return refuse_broken(s, err);
	return do_sync(s, 0, err);
}

/* Read and decode the header of the block at offset into hdr and h and
 * check the block lies inside size. Messages carry no locator; the
 * public callers prefix the file and offset. */
static int peek(struct alog_segment *s, uint64_t offset,
		unsigned char hdr[ALOG_BLOCK_HEADER_LEN],
		struct alog_block_header *h, uint64_t *next,
		struct alog_err *err)
{
	uint64_t left;
	size_t got;
	int rc, e;

	if (next)  /* set on every path, so no caller thinks it unset */
		*next = 0;
	if (s->broken)
		return alog_err_set(err, ALOG_ESTATE,
				    "segment is unusable after a failed sync; "
				    "reopen the store");
	if (offset == s->size)
		return alog_err_set(err, ALOG_ENOTFOUND,
				    "no block: offset is the end of the "
				    "segment");
	if (offset > s->size)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "offset lies past the end of the segment "
				    "(%" PRIu64 " bytes)", s->size);
	if (offset < ALOG_SEGMENT_HEADER_LEN)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "offset lies inside the segment header");
	left = s->size - offset;
	if (left < ALOG_BLOCK_HEADER_LEN)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "torn block header: %" PRIu64
				    " of %d bytes before the end of the segment",
				    left, ALOG_BLOCK_HEADER_LEN);
	e = pread_all(s->fd, hdr, ALOG_BLOCK_HEADER_LEN, offset, &got);
	if (e)
		return alog_err_sys(err, ALOG_EIO, e,
				    "cannot read block header: %s",
				    strerror(e));
	if (got < ALOG_BLOCK_HEADER_LEN)
		/* The file shrank under us. */
		return alog_err_set(err, ALOG_ECORRUPT,
				    "torn block header: the file ends after "
				    "%zu of %d bytes", got,
				    ALOG_BLOCK_HEADER_LEN);
	rc = alog_block_header_decode(hdr, ALOG_BLOCK_HEADER_LEN, h, err);
	if (rc < 0)
		return rc;
	left -= ALOG_BLOCK_HEADER_LEN;
	if (h->comp_len > left)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "torn block: frame of %" PRIu32
				    " bytes but only %" PRIu64
				    " bytes before the end of the segment",
				    h->comp_len, left);
	if (next)
		*next = offset + ALOG_BLOCK_HEADER_LEN + h->comp_len;
	return 0;
}

int alog_segment_peek_block(struct alog_segment *s, uint64_t offset,
			    struct alog_block_header *h, uint64_t *next,
			    struct alog_err *err)
{
	unsigned char hdr[ALOG_BLOCK_HEADER_LEN];
	int rc;

	rc = peek(s, offset, hdr, h, next, err);
	if (rc < 0)
		alog_err_prefix(err, "segment '%s' offset %" PRIu64, s->path,
				offset);
	return rc;
}

int alog_segment_read_block(struct alog_segment *s, struct alog_codec *c,
			    uint64_t offset, struct alog_block_header *h,
			    struct alog_buf *payload, uint64_t *next,
			    struct alog_err *err)
{
	unsigned char hdr[ALOG_BLOCK_HEADER_LEN];
	uint64_t end;
	size_t got;
	int rc, e;

	rc = peek(s, offset, hdr, h, &end, err);
	if (rc < 0)
		goto out;
	alog_buf_reset(&s->frame);
	rc = alog_buf_reserve(&s->frame, h->comp_len, err);
	if (rc < 0)
		goto out;
	e = pread_all(s->fd, s->frame.data, h->comp_len,
		      offset + ALOG_BLOCK_HEADER_LEN, &got);
	if (e) {
		rc = alog_err_sys(err, ALOG_EIO, e,
				  "cannot read block frame: %s", strerror(e));
		goto out;
	}
	if (got < h->comp_len) {
		rc = alog_err_set(err, ALOG_ECORRUPT,
				  "torn block: the file ends after %zu of %"
				  PRIu32 " frame bytes", got, h->comp_len);
		goto out;
	}
	s->frame.len = got;
	s->frame.data[got] = 0; /* buf invariant */
	rc = alog_block_decode(c, hdr, h, s->frame.data, payload, err);
	if (rc < 0)
		goto out;
	if (next)
		*next = end;
out:
	if (rc < 0)
		alog_err_prefix(err, "segment '%s' offset %" PRIu64, s->path,
				offset);
	return rc;
}

void alog_segment_test_fail_next_sync(struct alog_segment *s)
{
	s->fail_next_sync = 1;
}
