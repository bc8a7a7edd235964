/*
 * backup: see backup.h. SPEC.md section 16.
 *
 * One reader core (struct reader) checks every line for both
 * alog_backup_read and a writer that resumes a file, so a writer goes on
 * only from a file every reader accepts. Lines are read through one
 * bounded buffer: never more than ALOG_BACKUP_LINE_MAX + 1 bytes of one
 * line are held, whatever the file holds.
 *
 * Writer invariants: b->end is the file size after the last complete
 * line, b->chain that line's chain value; nothing is written at b->end
 * until the bytes, the fsync and the new state all succeeded, else the
 * file is cut back to b->end and the writer is marked broken.
 */
#include "ingest/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ingest/clock.h"
#include "ingest/event.h"
#include "ingest/json.h"
#include "store/buf.h"
#include "store/bytes.h"

_Static_assert(ALOG_BACKUP_LINE_MAX == ALOG_EVENT_LINE_MAX + 1024,
	       "SPEC.md 17: a backup line is an event line plus 1024");
_Static_assert(ALOG_BACKUP_EVENT_MAX >= ALOG_EVENT_LINE_MAX,
	       "every event line fits a record line");

#define HASH_LEN 32
#define PREFIX "{\"chain\":\""
#define PREFIX_LEN 10
#define HEX_LEN 64
/* {"chain":"<64 hex>",  then the body */
#define BODY_OFF (PREFIX_LEN + HEX_LEN + 2)
#define READ_CHUNK 65536
/* append_many writes in pieces of about this size */
#define WRITE_CHUNK (1u << 20)
/* members of a line the reader looks at: chain and three more */
#define SEEN_MAX 4

struct alog_backup {
	int fd;
	char *path;
	unsigned char chain[HASH_LEN];
	uint64_t end;        /* bytes of complete lines */
	uint64_t lines;      /* complete lines */
	uint64_t records;    /* record lines */
	int sealed;
	int broken;          /* a write failed: refuse further appends */
	struct alog_backup_opened opened;
	EVP_MD_CTX *md;
};

/* ---- chain ---------------------------------------------------------- */

static int chain_next(EVP_MD_CTX *md, const unsigned char prev[HASH_LEN],
		      const void *body, size_t len,
		      unsigned char out[HASH_LEN], struct alog_err *err)
{
	unsigned int n = 0;

	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, prev, HASH_LEN) != 1 ||
	    EVP_DigestUpdate(md, body, len) != 1 ||
	    EVP_DigestFinal_ex(md, out, &n) != 1 || n != HASH_LEN)
		return alog_err_set(err, ALOG_ECRYPTO, "sha-256 failed");
	return 0;
}

static int is_lower_hex(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		      (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

/* The text form of SPEC.md "UUIDv7": 8-4-4-4-12 lowercase hex, version
 * 7, variant 10. */
static int is_uuid7(const char *s, size_t n)
{
	if (n != 36)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!is_lower_hex((const unsigned char *)s + i, 1)) {
			return 0;
		}
	}
	return s[14] == '7' && strchr("89ab", s[19]) != NULL;
}

/* ---- reader core ---------------------------------------------------- */

struct seen {
	const char *raw_key;
	size_t raw_key_len;
	enum alog_json_type type;
	const char *value;
	size_t value_len;
	int escaped, integer;
};

struct members {
	struct seen m[SEEN_MAX];
	size_t n;
};

static int collect_member(void *ctx, const struct alog_json_member *m,
			  struct alog_err *err)
{
	struct members *ms = ctx;

	(void)err;
	if (ms->n < SEEN_MAX) {
		struct seen *s = &ms->m[ms->n];

		s->raw_key = m->raw_key;
		s->raw_key_len = m->raw_key_len;
		s->type = m->type;
		s->value = m->value;
		s->value_len = m->value_len;
		s->escaped = m->escaped;
		s->integer = m->integer;
	}
	ms->n++;
	return 0;
}

static int key_is(const struct seen *s, const char *key)
{
	size_t n = strlen(key);

	return s->raw_key_len == n && memcmp(s->raw_key, key, n) == 0;
}

/* The bytes between a string value's quotes (no escapes: checked). */
static int plain_string(const struct seen *s, const char **p, size_t *n)
{
	if (s->type != ALOG_JSON_STRING || s->escaped || s->value_len < 2)
		return -1;
	*p = s->value + 1;
	*n = s->value_len - 2;
	return 0;
}

struct reader {
	int fd;
	const char *path;
	alog_backup_record_fn fn;
	void *ctx;
	struct alog_backup_info *info;
	EVP_MD_CTX *md;
	unsigned char chain[HASH_LEN];
	uint64_t off;        /* offset of the next line */
	uint64_t lines;      /* complete lines checked */
	uint64_t records;
	int sealed;
};

static int corrupt(struct reader *r, struct alog_err *err, const char *what)
{
	r->info->bad_line = r->lines + 1;
	return alog_err_set(err, ALOG_ECORRUPT,
			    "backup file '%s' line %" PRIu64 ": %s", r->path,
			    r->lines + 1, what);
}

static int check_header(struct reader *r, const struct members *ms,
			struct alog_err *err)
{
	const char *p;
	size_t n;
	int64_t us;

	if (ms->n < 4 || !key_is(&ms->m[1], "backup"))
		return corrupt(r, err, "the first line is not a backup header "
			       "(\"backup\" must follow \"chain\")");
	if (plain_string(&ms->m[1], &p, &n) < 0 ||
	    n != strlen(ALOG_BACKUP_MAGIC) ||
	    memcmp(p, ALOG_BACKUP_MAGIC, n) != 0)
		return corrupt(r, err, "unsupported backup format (\"backup\" "
			       "must be \"" ALOG_BACKUP_MAGIC "\")");
	if (!key_is(&ms->m[2], "file") || plain_string(&ms->m[2], &p, &n) < 0 ||
	    !is_uuid7(p, n))
		return corrupt(r, err, "header member 3 must be \"file\" "
			       "with a uuidv7");
	memcpy(r->info->file_id, p, n);
	r->info->file_id[n] = 0;
	if (!key_is(&ms->m[3], "created") ||
	    plain_string(&ms->m[3], &p, &n) < 0 ||
	    alog_time_parse(p, n, 0, &us, NULL) < 0)
		return corrupt(r, err, "header member 4 must be \"created\" "
			       "with an rfc 3339 time");
	r->info->created_us = us;
	return 0;
}

static int check_seal(struct reader *r, const struct members *ms,
		      struct alog_err *err)
{
	const struct seen *c = &ms->m[2];
	uint64_t v = 0;

	if (ms->n != 3 || ms->m[1].type != ALOG_JSON_TRUE ||
	    !key_is(c, "records") || c->type != ALOG_JSON_NUMBER ||
	    !c->integer || c->value[0] == '-')
		return corrupt(r, err, "a seal is exactly "
			       "\"seal\":true,\"records\":<count>");
	for (size_t i = 0; i < c->value_len; i++)
		v = v * 10 + (uint64_t)(c->value[i] - '0'); /* <= 2^53-1 */
	if (v != r->records)
		return corrupt(r, err, "the seal's record count does not match "
			       "the record lines");
	r->sealed = 1;
	return 0;
}

/* One complete line (without its newline): SPEC.md 16.1 reader MUST. */
static int check_line(struct reader *r, const char *s, size_t len,
		      struct alog_err *err)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char want[HASH_LEN], got[HASH_LEN];
	struct alog_json_opts o = { 0 };
	struct alog_json_result res;
	struct alog_err jerr = { 0 };
	struct members ms;
	char what[ALOG_ERR_MSG_MAX];
	int rc;

	if (r->sealed)
		return corrupt(r, err, "a line follows the seal");
	if (len > ALOG_BACKUP_LINE_MAX)
		return corrupt(r, err, "longer than ALOG_BACKUP_LINE_MAX bytes");
	if (len < BODY_OFF || memcmp(s, PREFIX, PREFIX_LEN) != 0 ||
	    u[PREFIX_LEN + HEX_LEN] != '"' || u[PREFIX_LEN + HEX_LEN + 1] != ',')
		return corrupt(r, err, "does not start with "
			       "{\"chain\":\"<64 hex digits>\",");
	if (!is_lower_hex(u + PREFIX_LEN, HEX_LEN) ||
	    alog_hex_decode(s + PREFIX_LEN, HEX_LEN, want, HASH_LEN) < 0)
		return corrupt(r, err, "the chain value is not 64 lowercase "
			       "hex digits");
	rc = chain_next(r->md, r->chain, s + BODY_OFF, len - BODY_OFF, got, err);
	if (rc < 0)
		return rc;
	if (memcmp(want, got, HASH_LEN) != 0)
		return corrupt(r, err, "the chain value does not match (this "
			       "line or one before it was changed, removed or "
			       "reordered)");
	memset(&ms, 0, sizeof(ms));
	o.depth_max = ALOG_JSON_DEPTH_LIMIT;
	o.object_only = 1;
	o.on_member = collect_member;
	o.ctx = &ms;
	rc = alog_json_scan(s, len, &o, NULL, &res, &jerr);
	if (rc < 0) {
		snprintf(what, sizeof(what), "not a json object: %.400s", jerr.msg);
		return corrupt(r, err, what);
	}
	if (r->lines == 0) {
		rc = check_header(r, &ms, err);
	} else if (key_is(&ms.m[1], "event")) {
		if (ms.n != 2 || ms.m[1].type != ALOG_JSON_OBJECT)
			return corrupt(r, err, "a record is exactly "
				       "\"event\":<object>");
		r->records++;
		if (r->fn) {
			rc = r->fn(r->ctx, r->lines, ms.m[1].value,
				   ms.m[1].value_len);
			if (rc < 0)
				return rc;
		}
	} else if (key_is(&ms.m[1], "seal")) {
		rc = check_seal(r, &ms, err);
	} else if (key_is(&ms.m[1], "backup")) {
		return corrupt(r, err, "a second header");
	} else {
		return corrupt(r, err, "neither a record (\"event\") nor a "
			       "seal (\"seal\")");
	}
	if (rc < 0)
		return rc;
	memcpy(r->chain, got, HASH_LEN);
	return 0;
}

/* Read r->fd from offset 0 to its end, checking every line. */
static int read_all(struct reader *r, struct alog_err *err)
{
	size_t cap = ALOG_BACKUP_LINE_MAX + 1 + READ_CHUNK;
	size_t start = 0, end = 0, scanned = 0;
	unsigned char *buf;
	int eof = 0, rc = 0;

	buf = malloc(cap);
	if (!buf)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	for (;;) {
		unsigned char *nl = memchr(buf + scanned, '\n', end - scanned);
		ssize_t got;

		if (nl) {
			size_t len = (size_t)(nl - (buf + start));

			rc = check_line(r, (const char *)buf + start, len, err);
			if (rc < 0)
				goto out;
			r->lines++;
			r->off += len + 1;
			start = scanned = (size_t)(nl - buf) + 1;
			continue;
		}
		scanned = end;
		if (end - start > ALOG_BACKUP_LINE_MAX) {
			rc = corrupt(r, err, "longer than ALOG_BACKUP_LINE_MAX "
				     "bytes");
			goto out;
		}
		if (eof)
			break;
		if (start > 0) {
			memmove(buf, buf + start, end - start);
			end -= start;
			scanned -= start;
			start = 0;
		}
		got = read(r->fd, buf + end, cap - end);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = alog_err_sys(err, ALOG_EIO, errno,
					  "read backup file '%s': %s", r->path,
					  strerror(errno));
			goto out;
		}
		if (got == 0)
			eof = 1;
		end += (size_t)got;
	}
	if (end > start) {
		if (r->sealed) {
			rc = corrupt(r, err, "bytes follow the seal");
			goto out;
		}
		r->info->torn_tail = 1;
		r->info->torn_offset = r->off;
		r->info->torn_bytes = end - start;
	}
out:
	r->info->lines = r->lines;
	r->info->records = r->records;
	r->info->sealed = r->sealed;
	free(buf);
	return rc;
}

static int read_fd(int fd, const char *path, alog_backup_record_fn fn,
		   void *ctx, struct alog_backup_info *info,
		   unsigned char chain[HASH_LEN], struct alog_err *err)
{
	struct reader r;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(info, 0, sizeof(*info));
	r.fd = fd;
	r.path = path;
	r.fn = fn;
	r.ctx = ctx;
	r.info = info;
	r.md = EVP_MD_CTX_new();
	if (!r.md)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	rc = read_all(&r, err);
	if (rc == 0 && chain)
		memcpy(chain, r.chain, HASH_LEN);
	EVP_MD_CTX_free(r.md);
	return rc;
}

int alog_backup_read(const char *path, alog_backup_record_fn fn, void *ctx,
		     struct alog_backup_info *info, struct alog_err *err)
{
	struct alog_backup_info local;
	int fd, rc;

	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return alog_err_sys(err, errno == ENOENT ? ALOG_ENOTFOUND :
				    ALOG_EIO, errno, "open backup file '%s': %s",
				    path, strerror(errno));
	rc = read_fd(fd, path, fn, ctx, info, NULL, err);
	/* empty, or only a torn header: there is no header line */
	if (rc == 0 && info->lines == 0) {
		info->bad_line = 1;
		rc = alog_err_set(err, ALOG_ECORRUPT, "backup file '%s' line 1: "
				  "no complete header line (%" PRIu64 " bytes "
				  "without a newline)", path, info->torn_bytes);
	}
	close(fd);
	return rc;
}

/* ---- writer --------------------------------------------------------- */

static int write_at(struct alog_backup *b, const void *p, size_t n,
		    uint64_t off, struct alog_err *err)
{
	const unsigned char *q = p;

	while (n) {
		ssize_t w = pwrite(b->fd, q, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return alog_err_sys(err, ALOG_EIO, errno,
					    "write backup file '%s': %s",
					    b->path, strerror(errno));
		q += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static int sync_fd(int fd, const char *what, const char *path,
		   struct alog_err *err)
{
	if (fsync(fd) < 0)
		return alog_err_sys(err, ALOG_EIO, errno, "fsync %s '%s': %s",
				    what, path, strerror(errno));
	return 0;
}

static int sync_dir(const char *path, struct alog_err *err)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = alog_err_sys(err, ALOG_EIO, errno, "open directory '%s': %s",
				  dir, strerror(errno));
	} else {
		rc = sync_fd(fd, "directory", dir, err);
		close(fd);
	}
	free(dir);
	return rc;
}

/* Give up on the bytes written after b->end: cut them off (best effort)
 * and refuse further appends, since what reached the disk is unknown. */
static void write_failed(struct alog_backup *b)
{
	if (ftruncate(b->fd, (off_t)b->end) == 0)
		(void)fsync(b->fd);
	b->broken = 1;
}

/* Append to out the line {"chain":"<H>",BODY\n where BODY is body_a then
 * body_b then body_c; advance chain. */
static int format_line(EVP_MD_CTX *md, unsigned char chain[HASH_LEN],
		       const char *body_a, const char *body_b, size_t b_len,
		       const char *body_c, struct alog_buf *out,
		       struct alog_err *err)
{
	size_t start = out->len, body;
	char hex[HEX_LEN + 1];
	int rc;

	/* the chain value is filled in once the body is known */
	rc = alog_buf_reserve(out, BODY_OFF, err);
	if (rc == 0) {
		memcpy(out->data + start, PREFIX, PREFIX_LEN);
		memset(out->data + start + PREFIX_LEN, '0', HEX_LEN);
		memcpy(out->data + start + PREFIX_LEN + HEX_LEN, "\",", 2);
		out->len += BODY_OFF;
	}
	body = out->len;
	if (rc == 0)
		rc = alog_buf_adds(out, body_a, err);
	if (rc == 0 && body_b)
		rc = alog_buf_add(out, body_b, b_len, err);
	if (rc == 0 && body_c)
		rc = alog_buf_adds(out, body_c, err);
	if (rc == 0)
		rc = chain_next(md, chain, out->data + body, out->len - body,
				chain, err);
	if (rc == 0) {
		alog_hex_encode(chain, HASH_LEN, hex);
		memcpy(out->data + start + PREFIX_LEN, hex, HEX_LEN);
		rc = alog_buf_addc(out, '\n', err);
	}
	if (rc < 0)
		out->len = start;
	return rc;
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The object inside event (outer whitespace dropped), checked as the
 * reader will check it inside a record line. */
static int check_event(const char *event, size_t len, const char **obj,
		       size_t *obj_len, struct alog_err *err)
{
	struct alog_json_opts o = { 0 };
	struct alog_json_result res;

	while (len && is_ws(event[0])) {
		event++;
		len--;
	}
	while (len && is_ws(event[len - 1]))
		len--;
	if (len > ALOG_BACKUP_EVENT_MAX)
		return alog_err_set(err, ALOG_ELIMIT, "event of %zu bytes is "
				    "longer than a backup record holds (%d)",
				    len, (int)ALOG_BACKUP_EVENT_MAX);
	if (memchr(event, '\n', len))
		return alog_err_set(err, ALOG_EINVAL,
				    "event holds a newline byte");
	/* the record line is one level deeper than the event */
	o.depth_max = ALOG_JSON_DEPTH_LIMIT - 1;
	o.object_only = 1;
	if (alog_json_scan(event, len, &o, NULL, &res, err) < 0) {
		alog_err_prefix(err, "event is not a json object");
		return ALOG_EINVAL;
	}
	*obj = event;
	*obj_len = len;
	return 0;
}

static int writable(const struct alog_backup *b, struct alog_err *err)
{
	if (b->broken)
		return alog_err_set(err, ALOG_ESTATE, "backup file '%s': an "
				    "earlier write failed; reopen it", b->path);
	if (b->sealed)
		return alog_err_set(err, ALOG_ESTATE, "backup file '%s' is "
				    "sealed", b->path);
	return 0;
}

/* Write out[0..len) at b->end and fsync; on success the new state
 * (chain, counts) is taken. */
static int commit_bytes(struct alog_backup *b, const struct alog_buf *out,
			struct alog_err *err)
{
	int rc = write_at(b, out->data, out->len, b->end, err);

	if (rc == 0)
		rc = sync_fd(b->fd, "backup file", b->path, err);
	if (rc < 0)
		write_failed(b);
	return rc;
}

int alog_backup_append_many(struct alog_backup *b, const char *const *events,
			    const size_t *lens, size_t n,
			    struct alog_err *err)
{
	unsigned char chain[HASH_LEN];
	struct alog_buf out;
	uint64_t written = 0;
	size_t i;
	int rc;

	rc = writable(b, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++) {
		const char *obj;
		size_t obj_len;

		rc = check_event(events[i], lens[i], &obj, &obj_len, err);
		if (rc < 0) {
			alog_err_prefix(err, "backup file '%s' event %zu",
					b->path, i);
			return rc;
		}
	}
	alog_buf_init(&out, 0);
	memcpy(chain, b->chain, HASH_LEN);
	for (i = 0; i < n; i++) {
		const char *obj;
		size_t obj_len;

		(void)check_event(events[i], lens[i], &obj, &obj_len, NULL);
		rc = format_line(b->md, chain, "\"event\":", obj, obj_len, "}",
				 &out, err);
		if (rc < 0)
			goto out;
		if (out.len >= WRITE_CHUNK || i + 1 == n) {
			rc = write_at(b, out.data, out.len, b->end + written, err);
			if (rc < 0) {
				write_failed(b);
				goto out;
			}
			written += out.len;
			alog_buf_reset(&out);
		}
	}
	if (n) {
		rc = sync_fd(b->fd, "backup file", b->path, err);
		if (rc < 0) {
			write_failed(b);
			goto out;
		}
	}
	b->end += written;
	b->lines += n;
	b->records += n;
	memcpy(b->chain, chain, HASH_LEN);
out:
	alog_buf_release(&out);
	return rc;
}

int alog_backup_append(struct alog_backup *b, const char *event, size_t len,
		       struct alog_err *err)
{
	return alog_backup_append_many(b, &event, &len, 1, err);
}

int alog_backup_seal(struct alog_backup *b, struct alog_err *err)
{
	unsigned char chain[HASH_LEN];
	struct alog_buf out;
	char body[64];
	int rc;

	rc = writable(b, err);
	if (rc < 0)
		return rc;
	snprintf(body, sizeof(body), "\"seal\":true,\"records\":%" PRIu64 "}",
		 b->records);
	alog_buf_init(&out, 0);
	memcpy(chain, b->chain, HASH_LEN);
	rc = format_line(b->md, chain, body, NULL, 0, NULL, &out, err);
	if (rc == 0)
		rc = commit_bytes(b, &out, err);
	if (rc == 0) {
		b->end += out.len;
		b->lines++;
		b->sealed = 1;
		memcpy(b->chain, chain, HASH_LEN);
	}
	alog_buf_release(&out);
	return rc;
}

/* Write the header as line 0 of an empty file. */
static int write_header(struct alog_backup *b, int64_t now_us,
			struct alog_err *err)
{
	char uuid[37], t[ALOG_TIME_TEXT_MAX], body[160];
	struct alog_buf out;
	int rc;

	if (alog_time_format(now_us, t) < 0)
		return alog_err_set(err, ALOG_EINVAL, "backup header: time "
				    "outside years 0000..9999");
	rc = alog_uuid7(now_us, uuid, err);
	if (rc < 0)
		return rc;
	snprintf(body, sizeof(body), "\"backup\":\"" ALOG_BACKUP_MAGIC
		 "\",\"file\":\"%s\",\"created\":\"%s\"}", uuid, t);
	alog_buf_init(&out, 0);
	memset(b->chain, 0, HASH_LEN);
	rc = format_line(b->md, b->chain, body, NULL, 0, NULL, &out, err);
	if (rc == 0)
		rc = commit_bytes(b, &out, err);
	if (rc == 0) {
		b->end = out.len;
		b->lines = 1;
		b->records = 0;
		b->opened.created = 1;
		memcpy(b->opened.file_id, uuid, sizeof(uuid));
	}
	alog_buf_release(&out);
	return rc;
}

/* Go on from an existing file: verify it, cut a torn tail (reported in
 * b->opened), or give a file without a line its header. */
static int resume(struct alog_backup *b, int64_t now_us, struct alog_err *err)
{
	struct alog_backup_info info;
	struct stat st;
	int rc;

	if (fstat(b->fd, &st) < 0)
		return alog_err_sys(err, ALOG_EIO, errno, "stat '%s': %s",
				    b->path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return alog_err_set(err, ALOG_EINVAL, "backup file '%s' is not "
				    "a regular file", b->path);
	rc = read_fd(b->fd, b->path, NULL, NULL, &info, b->chain, err);
	if (rc < 0)
		return rc;
	if (info.sealed)
		return alog_err_set(err, ALOG_ESTATE, "backup file '%s' is "
				    "sealed (complete); write to a new file",
				    b->path);
	if (info.torn_tail) {
		/* Every reader ignores these bytes (SPEC.md 16.1) and no
		 * writer reported them as backed up: it fsyncs whole lines
		 * first. Cutting them changes nothing a reader sees. */
		if (ftruncate(b->fd, (off_t)info.torn_offset) < 0)
			return alog_err_sys(err, ALOG_EIO, errno,
					    "cut torn line of '%s': %s",
					    b->path, strerror(errno));
		rc = sync_fd(b->fd, "backup file", b->path, err);
		if (rc < 0)
			return rc;
		b->opened.cut_bytes = info.torn_bytes;
		b->opened.cut_offset = info.torn_offset;
		b->opened.cut_line = info.lines + 1;
	}
	if (info.lines == 0)
		return write_header(b, now_us, err);
	b->end = info.torn_tail ? info.torn_offset : (uint64_t)st.st_size;
	b->lines = info.lines;
	b->records = info.records;
	b->opened.records = info.records;
	memcpy(b->opened.file_id, info.file_id, sizeof(info.file_id));
	return 0;
}

int alog_backup_open(const char *path, int64_t now_us,
		     struct alog_backup **out, struct alog_err *err)
{
	struct alog_backup *b;
	int created = 0, rc;

	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	b->fd = -1;
	b->path = strdup(path);
	b->md = EVP_MD_CTX_new();
	if (!b->path || !b->md) {
		rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
		goto out;
	}
	b->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (b->fd >= 0)
		created = 1;
	else if (errno == EEXIST)
		b->fd = open(path, O_RDWR | O_CLOEXEC);
	if (b->fd < 0) {
		rc = alog_err_sys(err, ALOG_EIO, errno,
				  "open backup file '%s': %s", path,
				  strerror(errno));
		goto out;
	}
	if (flock(b->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			rc = alog_err_set(err, ALOG_EBUSY, "backup file '%s' is "
					  "locked by another writer", path);
		else
			rc = alog_err_sys(err, ALOG_EIO, errno, "lock backup "
					  "file '%s': %s", path,
					  strerror(errno));
		goto out;
	}
	if (created) {
		rc = write_header(b, now_us, err);
		if (rc == 0)
			rc = sync_dir(path, err);
		if (rc < 0)
			unlink(path);
	} else {
		/* the file may have been empty: resume writes a header */
		rc = resume(b, now_us, err);
	}
out:
	if (rc < 0) {
		alog_backup_close(b);
		return rc;
	}
	*out = b;
	return 0;
}

uint64_t alog_backup_records(const struct alog_backup *b)
{
	return b->records;
}

uint64_t alog_backup_lines(const struct alog_backup *b)
{
	return b->lines;
}

const struct alog_backup_opened *alog_backup_opened(
	const struct alog_backup *b)
{
	return &b->opened;
}

void alog_backup_close(struct alog_backup *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	EVP_MD_CTX_free(b->md);
	free(b->path);
	free(b);
}
