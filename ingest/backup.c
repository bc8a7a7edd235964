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
 * file is cut back to b->end and the writer is marked broken. Plain and
 * spool records go through one function (append_records), and each line
 * is assembled from pieces (struct piece) so that no record kind has a
 * writer of its own.
 *
 * alog_backup_cut_tail is the only code that reads a file from its end:
 * one window of ALOG_BACKUP_LINE_MAX + 1 bytes, whatever the file's size.
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
_Static_assert(ALOG_BACKUP_ID_MAX == ALOG_EVENT_ID_MAX,
	       "a spool record's id is a record id");

#define HASH_LEN 32
#define PREFIX "{\"chain\":\""
#define PREFIX_LEN 10
#define HEX_LEN 64
/* {"chain":"<64 hex>",  then the body */
#define BODY_OFF (PREFIX_LEN + HEX_LEN + 2)
#define READ_CHUNK 65536
/* append_many writes in pieces of about this size */
#define WRITE_CHUNK (1u << 20)
/* members of a line the reader looks at: chain and four more */
#define SEEN_MAX 5
/* the canonical time YYYY-MM-DDTHH:MM:SS.ffffffZ (SPEC.md "Time") */
#define RECEIVED_LEN 27
/* the fixed bytes of record bodies (SPEC.md 16.1) */
#define EVENT_KEY "\"event\":"
#define RECEIVED_KEY ",\"received\":\""
#define ID_KEY "\",\"id\":\""
#define PROVENANCE_KEY "\",\"provenance\":"
#define CONST_LEN(s) (sizeof(s) - 1)

_Static_assert(ALOG_BACKUP_RECORD_OVERHEAD ==
	       BODY_OFF + CONST_LEN(EVENT_KEY) + 1, "plain record overhead");
_Static_assert(ALOG_BACKUP_SPOOL_OVERHEAD ==
	       BODY_OFF + CONST_LEN(EVENT_KEY) + CONST_LEN(RECEIVED_KEY) +
	       RECEIVED_LEN + CONST_LEN(ID_KEY) + CONST_LEN(PROVENANCE_KEY) + 1,
	       "spool record overhead");

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

/* SPEC.md "Canonical record": 1..ALOG_BACKUP_ID_MAX bytes of 0x21..0x7E
 * but '"' and '\\'. */
static int is_record_id(const char *s, size_t n)
{
	if (n < 1 || n > ALOG_BACKUP_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

/* The shape of a line's start: {"chain":"<64 bytes>", (the 64 bytes are
 * checked as hex apart, for a message of their own). */
static int has_chain_prefix(const char *s, size_t len)
{
	return len >= BODY_OFF && memcmp(s, PREFIX, PREFIX_LEN) == 0 &&
	       s[PREFIX_LEN + HEX_LEN] == '"' &&
	       s[PREFIX_LEN + HEX_LEN + 1] == ',';
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

/* Scan one whole line as a JSON object (SPEC.md 16.1 rule 5) and keep
 * its first SEEN_MAX members in ms. */
static int scan_members(const char *s, size_t len, struct members *ms,
			struct alog_err *err)
{
	struct alog_json_opts o = { 0 };
	struct alog_json_result res;

	memset(ms, 0, sizeof(*ms));
	o.depth_max = ALOG_JSON_DEPTH_LIMIT;
	o.object_only = 1;
	o.on_member = collect_member;
	o.ctx = ms;
	return alog_json_scan(s, len, &o, NULL, &res, err);
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
	alog_backup_entry_fn fn;
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

/* A record line, plain or spool (SPEC.md 16.1 rule 6); reported to the
 * callback. */
static int check_record(struct reader *r, const struct members *ms,
			struct alog_err *err)
{
	struct alog_backup_entry e;
	char t[ALOG_TIME_TEXT_MAX];

	if ((ms->n != 2 && ms->n != 5) || ms->m[1].type != ALOG_JSON_OBJECT)
		return corrupt(r, err, "a record is exactly \"event\":<object>, "
			       "or a spool record \"event\":<object>,"
			       "\"received\",\"id\",\"provenance\"");
	memset(&e, 0, sizeof(e));
	e.line_no = r->lines;
	e.event = ms->m[1].value;
	e.event_len = ms->m[1].value_len;
	if (ms->n == 5) {
		const struct seen *rv = &ms->m[2], *id = &ms->m[3];
		const struct seen *pv = &ms->m[4];

		e.spool = 1;
		/* canonical: it formats back to the same 27 bytes */
		if (!key_is(rv, "received") ||
		    plain_string(rv, &e.received, &e.received_len) < 0 ||
		    e.received_len != RECEIVED_LEN ||
		    alog_time_parse(e.received, e.received_len, 0,
				    &e.received_us, NULL) < 0 ||
		    alog_time_format(e.received_us, t) < 0 ||
		    memcmp(t, e.received, RECEIVED_LEN) != 0)
			return corrupt(r, err, "spool record member 3 must be "
				       "\"received\" with a canonical time "
				       "(YYYY-MM-DDTHH:MM:SS.ffffffZ)");
		if (!key_is(id, "id") || plain_string(id, &e.id, &e.id_len) < 0 ||
		    !is_record_id(e.id, e.id_len))
			return corrupt(r, err, "spool record member 4 must be "
				       "\"id\" with 1..128 bytes of the id "
				       "alphabet");
		if (!key_is(pv, "provenance") || pv->type != ALOG_JSON_OBJECT)
			return corrupt(r, err, "spool record member 5 must be "
				       "\"provenance\" with an object");
		e.provenance = pv->value;
		e.provenance_len = pv->value_len;
	}
	r->records++;
	return r->fn ? r->fn(r->ctx, &e) : 0;
}

/* One complete line (without its newline): SPEC.md 16.1 reader MUST. */
static int check_line(struct reader *r, const char *s, size_t len,
		      struct alog_err *err)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char want[HASH_LEN], got[HASH_LEN];
	struct alog_err jerr = { 0 };
	struct members ms;
	char what[ALOG_ERR_MSG_MAX];
	int rc;

	if (r->sealed)
		return corrupt(r, err, "a line follows the seal");
	if (len > ALOG_BACKUP_LINE_MAX)
		return corrupt(r, err, "longer than ALOG_BACKUP_LINE_MAX bytes");
	if (!has_chain_prefix(s, len))
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
	rc = scan_members(s, len, &ms, &jerr);
	if (rc < 0) {
		snprintf(what, sizeof(what), "not a json object: %.400s", jerr.msg);
		return corrupt(r, err, what);
	}
	if (r->lines == 0) {
		rc = check_header(r, &ms, err);
	} else if (key_is(&ms.m[1], "event")) {
		rc = check_record(r, &ms, err);
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

static int read_fd(int fd, const char *path, alog_backup_entry_fn fn,
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

/* A file descriptor for an existing file, or a negative ALOG_E*
 * (ALOG_ENOTFOUND when it is missing). */
static int open_existing(const char *path, int flags, struct alog_err *err)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return alog_err_sys(err, errno == ENOENT ? ALOG_ENOTFOUND :
				    ALOG_EIO, errno, "open backup file '%s': %s",
				    path, strerror(errno));
	return fd;
}

int alog_backup_read_entries(const char *path, alog_backup_entry_fn fn,
			     void *ctx, struct alog_backup_info *info,
			     struct alog_err *err)
{
	struct alog_backup_info local;
	int fd, rc;

	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	fd = open_existing(path, O_RDONLY, err);
	if (fd < 0)
		return fd;
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

/* alog_backup_read's callback, called through the entries reader. */
struct record_fn_ctx {
	alog_backup_record_fn fn;
	void *ctx;
};

static int call_record_fn(void *ctx, const struct alog_backup_entry *e)
{
	const struct record_fn_ctx *c = ctx;

	return c->fn(c->ctx, e->line_no, e->event, e->event_len);
}

int alog_backup_read(const char *path, alog_backup_record_fn fn, void *ctx,
		     struct alog_backup_info *info, struct alog_err *err)
{
	struct record_fn_ctx c = { fn, ctx };

	return alog_backup_read_entries(path, fn ? call_record_fn : NULL, &c,
					info, err);
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

/* A run of bytes of a line's body. */
struct piece {
	const char *p;
	size_t n;
};

static struct piece piece_str(const char *s)
{
	struct piece pc = { s, strlen(s) };

	return pc;
}

/* Append to out the line {"chain":"<H>",BODY\n where BODY is the pieces
 * one after the other; advance chain. */
static int format_line(EVP_MD_CTX *md, unsigned char chain[HASH_LEN],
		       const struct piece *parts, size_t n_parts,
		       struct alog_buf *out, struct alog_err *err)
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
	for (size_t i = 0; rc == 0 && i < n_parts; i++)
		rc = alog_buf_add(out, parts[i].p, parts[i].n, err);
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

/* p without the JSON whitespace around it. */
static struct piece trim_ws(const char *p, size_t len)
{
	struct piece pc;

	while (len && is_ws(p[0])) {
		p++;
		len--;
	}
	while (len && is_ws(p[len - 1]))
		len--;
	pc.p = p;
	pc.n = len;
	return pc;
}

/* obj (trimmed) checked as the reader will check it inside a record
 * line: one JSON object without a newline byte, one level down. */
static int scan_object(const char *what, struct piece obj,
		       struct alog_err *err)
{
	struct alog_json_opts o = { 0 };
	struct alog_json_result res;

	if (memchr(obj.p, '\n', obj.n))
		return alog_err_set(err, ALOG_EINVAL, "%s holds a newline byte",
				    what);
	/* the record line is one level deeper than the object */
	o.depth_max = ALOG_JSON_DEPTH_LIMIT - 1;
	o.object_only = 1;
	if (alog_json_scan(obj.p, obj.n, &o, NULL, &res, err) < 0) {
		alog_err_prefix(err, "%s is not a json object", what);
		return ALOG_EINVAL;
	}
	return 0;
}

/* The records of one append call: plain events (events, lens) or spool
 * records (recs). */
struct batch {
	const char *const *events;
	const size_t *lens;
	const struct alog_backup_spool_rec *recs;
};

/* The body of one record line, in pieces (SPEC.md 16.1):
 *   plain  "event":E}
 *   spool  "event":E,"received":"R","id":"D","provenance":P}
 * The pieces point into the caller's record and into received. */
struct record_body {
	struct piece part[9];
	size_t n_parts;
	char received[ALOG_TIME_TEXT_MAX];
};

/* Build the body of record i of bt. The cheap checks (limits, id,
 * time) always run; scan = 1 also checks the objects' JSON, which the
 * caller does once per record, before anything is written. Refuses what
 * a reader would refuse (SPEC.md 16.2). */
static int record_body(const struct batch *bt, size_t i, int scan,
		       struct record_body *rb, struct alog_err *err)
{
	const struct alog_backup_spool_rec *rec = bt->recs ? &bt->recs[i] : NULL;
	struct piece ev, prov;
	size_t id_len, line;
	int rc;

	ev = rec ? trim_ws(rec->event, rec->event_len) :
		   trim_ws(bt->events[i], bt->lens[i]);
	if (ev.n > ALOG_BACKUP_EVENT_MAX)
		return alog_err_set(err, ALOG_ELIMIT, "event of %zu bytes is "
				    "longer than a backup record holds (%d)",
				    ev.n, (int)ALOG_BACKUP_EVENT_MAX);
	rb->part[0] = piece_str(EVENT_KEY);
	rb->part[1] = ev;
	if (!rec) {
		rb->part[2] = piece_str("}");
		rb->n_parts = 3;
		return scan ? scan_object("event", ev, err) : 0;
	}
	if (!rec->id || !rec->provenance)
		return alog_err_set(err, ALOG_EINVAL, "spool record without "
				    "an id or a provenance");
	id_len = strnlen(rec->id, ALOG_BACKUP_ID_MAX + 1);
	prov = trim_ws(rec->provenance, rec->provenance_len);
	if (prov.n > ALOG_BACKUP_LINE_MAX)
		return alog_err_set(err, ALOG_ELIMIT, "provenance of %zu bytes "
				    "is longer than ALOG_BACKUP_LINE_MAX (%d)",
				    prov.n, (int)ALOG_BACKUP_LINE_MAX);
	/* every term is bounded now, so the sum can't wrap; the event's
	 * own limit is not enough: the whole line counts */
	line = ALOG_BACKUP_SPOOL_OVERHEAD + ev.n + id_len + prov.n;
	if (line > ALOG_BACKUP_LINE_MAX)
		return alog_err_set(err, ALOG_ELIMIT, "spool record line of %zu "
				    "bytes (event %zu, id %zu, provenance %zu) "
				    "is longer than ALOG_BACKUP_LINE_MAX (%d)",
				    line, ev.n, id_len, prov.n,
				    (int)ALOG_BACKUP_LINE_MAX);
	if (!is_record_id(rec->id, id_len))
		return alog_err_set(err, ALOG_EINVAL, "id is not 1..%d bytes of "
				    "0x21..0x7e but '\"' and '\\'",
				    ALOG_BACKUP_ID_MAX);
	if (alog_time_format(rec->received_us, rb->received) < 0)
		return alog_err_set(err, ALOG_EINVAL, "received time %" PRId64
				    " is outside years 0000..9999",
				    rec->received_us);
	rb->part[2] = piece_str(RECEIVED_KEY);
	rb->part[3].p = rb->received;
	rb->part[3].n = RECEIVED_LEN;
	rb->part[4] = piece_str(ID_KEY);
	rb->part[5].p = rec->id;
	rb->part[5].n = id_len;
	rb->part[6] = piece_str(PROVENANCE_KEY);
	rb->part[7] = prov;
	rb->part[8] = piece_str("}");
	rb->n_parts = 9;
	if (!scan)
		return 0;
	rc = scan_object("event", ev, err);
	if (rc == 0)
		rc = scan_object("provenance", prov, err);
	return rc;
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

/* Append the n records of bt with one fsync, all or none: every record
 * is checked before the first byte is written. */
static int append_records(struct alog_backup *b, const struct batch *bt,
			  size_t n, struct alog_err *err)
{
	unsigned char chain[HASH_LEN];
	struct record_body rb;
	struct alog_buf out;
	uint64_t written = 0;
	size_t i;
	int rc;

	rc = writable(b, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++) {
		rc = record_body(bt, i, 1, &rb, err);
		if (rc < 0) {
			alog_err_prefix(err, "backup file '%s' event %zu",
					b->path, i);
			return rc;
		}
	}
	alog_buf_init(&out, 0);
	memcpy(chain, b->chain, HASH_LEN);
	for (i = 0; i < n; i++) {
		/* checked above: only the pieces are made again */
		(void)record_body(bt, i, 0, &rb, NULL);
		rc = format_line(b->md, chain, rb.part, rb.n_parts, &out, err);
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

int alog_backup_append_many(struct alog_backup *b, const char *const *events,
			    const size_t *lens, size_t n,
			    struct alog_err *err)
{
	struct batch bt = { events, lens, NULL };

	return append_records(b, &bt, n, err);
}

int alog_backup_append_spool(struct alog_backup *b,
			     const struct alog_backup_spool_rec *recs,
			     size_t n, struct alog_err *err)
{
	struct batch bt = { NULL, NULL, recs };

	return append_records(b, &bt, n, err);
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
	struct piece body_pc;
	char body[64];
	int rc;

	rc = writable(b, err);
	if (rc < 0)
		return rc;
	snprintf(body, sizeof(body), "\"seal\":true,\"records\":%" PRIu64 "}",
		 b->records);
	alog_buf_init(&out, 0);
	memcpy(chain, b->chain, HASH_LEN);
	body_pc = piece_str(body);
	rc = format_line(b->md, chain, &body_pc, 1, &out, err);
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
	struct piece body_pc;
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
	body_pc = piece_str(body);
	rc = format_line(b->md, b->chain, &body_pc, 1, &out, err);
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

/* Take the writer's flock without waiting (SPEC.md 16.2). */
static int lock_file(int fd, const char *path, struct alog_err *err)
{
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return alog_err_set(err, ALOG_EBUSY, "backup file '%s' is "
				    "locked by another writer", path);
	return alog_err_sys(err, ALOG_EIO, errno, "lock backup file '%s': %s",
			    path, strerror(errno));
}

/* The size of fd, which must be a regular file. */
static int regular_size(int fd, const char *path, uint64_t *size,
			struct alog_err *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return alog_err_sys(err, ALOG_EIO, errno, "stat '%s': %s", path,
				    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return alog_err_set(err, ALOG_EINVAL, "backup file '%s' is not "
				    "a regular file", path);
	*size = (uint64_t)st.st_size;
	return 0;
}

/* Cut a torn tail at off and fsync. Every reader ignores these bytes
 * (SPEC.md 16.1) and no writer reported them as backed up: it fsyncs
 * whole lines first. Cutting them changes nothing a reader sees. */
static int cut_torn_tail(int fd, const char *path, uint64_t off,
			 struct alog_err *err)
{
	if (ftruncate(fd, (off_t)off) < 0)
		return alog_err_sys(err, ALOG_EIO, errno, "cut torn line of "
				    "'%s' at offset %" PRIu64 ": %s", path, off,
				    strerror(errno));
	return sync_fd(fd, "backup file", path, err);
}

/* Go on from an existing file: verify it, cut a torn tail (reported in
 * b->opened), or give a file without a line its header. */
static int resume(struct alog_backup *b, int64_t now_us, struct alog_err *err)
{
	struct alog_backup_info info;
	uint64_t size;
	int rc;

	rc = regular_size(b->fd, b->path, &size, err);
	if (rc < 0)
		return rc;
	rc = read_fd(b->fd, b->path, NULL, NULL, &info, b->chain, err);
	if (rc < 0)
		return rc;
	if (info.sealed)
		return alog_err_set(err, ALOG_ESTATE, "backup file '%s' is "
				    "sealed (complete); write to a new file",
				    b->path);
	if (info.torn_tail) {
		rc = cut_torn_tail(b->fd, b->path, info.torn_offset, err);
		if (rc < 0)
			return rc;
		b->opened.cut_bytes = info.torn_bytes;
		b->opened.cut_offset = info.torn_offset;
		b->opened.cut_line = info.lines + 1;
	}
	if (info.lines == 0)
		return write_header(b, now_us, err);
	b->end = info.torn_tail ? info.torn_offset : size;
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
	rc = lock_file(b->fd, path, err);
	if (rc < 0)
		goto out;
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

uint64_t alog_backup_size(const struct alog_backup *b)
{
	return b->end;
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

/* ---- tail-only start-up (SPEC.md 16.2) ------------------------------ */

/* Whether the complete line s (without its newline) is a seal: the chain
 * prefix, then a JSON object whose second member is "seal":true. The
 * chain and the count are not checked here (replay does). */
static int is_seal_line(const char *s, size_t len)
{
	struct members ms;

	if (!has_chain_prefix(s, len) ||
	    !is_lower_hex((const unsigned char *)s + PREFIX_LEN, HEX_LEN) ||
	    scan_members(s, len, &ms, NULL) < 0)
		return 0;
	return ms.n >= 2 && key_is(&ms.m[1], "seal") &&
	       ms.m[1].type == ALOG_JSON_TRUE;
}

/* n bytes of fd at off; a short read means the file shrank under the
 * lock (someone ignores it): ALOG_EIO. */
static int read_at(int fd, const char *path, unsigned char *p, size_t n,
		   uint64_t off, struct alog_err *err)
{
	while (n) {
		ssize_t got = pread(fd, p, n, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return alog_err_sys(err, ALOG_EIO, errno, "read backup "
					    "file '%s' at offset %" PRIu64 ": %s",
					    path, off, strerror(errno));
		if (got == 0)
			return alog_err_set(err, ALOG_EIO, "backup file '%s' "
					    "shrank while it was read (offset %"
					    PRIu64 ")", path, off);
		p += got;
		n -= (size_t)got;
		off += (uint64_t)got;
	}
	return 0;
}

int alog_backup_cut_tail(const char *path, struct alog_backup_tail *out,
			 struct alog_err *err)
{
	const size_t window_max = (size_t)ALOG_BACKUP_LINE_MAX + 1;
	unsigned char *buf = NULL;
	uint64_t size, base;
	size_t win, nl_end, line, tail;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	fd = open_existing(path, O_RDWR, err);
	if (fd < 0)
		return fd;
	rc = lock_file(fd, path, err);
	if (rc == 0)
		rc = regular_size(fd, path, &size, err);
	if (rc < 0)
		goto out;
	/* the window: the last ALOG_BACKUP_LINE_MAX + 1 bytes at most,
	 * enough to hold one 0x0A and a torn tail of the largest size a
	 * reader allows (16.1 rule 2) */
	win = size < window_max ? (size_t)size : window_max;
	base = size - win;
	buf = malloc(win ? win : 1);
	if (!buf) {
		rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
		goto out;
	}
	rc = read_at(fd, path, buf, win, base, err);
	if (rc < 0)
		goto out;
	/* nl_end: the window's bytes up to and with its last 0x0A */
	for (nl_end = win; nl_end > 0 && buf[nl_end - 1] != '\n'; nl_end--)
		;
	tail = win - nl_end;
	if (tail > ALOG_BACKUP_LINE_MAX) {
		rc = alog_err_set(err, ALOG_ECORRUPT, "backup file '%s' offset %"
				  PRIu64 ": no newline in the last %zu bytes "
				  "(a line longer than ALOG_BACKUP_LINE_MAX)",
				  path, base, win);
		goto out;
	}
	if (nl_end > 0) {
		/* the last complete line, when it starts inside the window */
		for (line = nl_end - 1; line > 0 && buf[line - 1] != '\n'; line--)
			;
		if (line > 0 || base == 0)
			out->sealed = is_seal_line((const char *)buf + line,
						   nl_end - 1 - line);
	}
	if (tail > 0) {
		if (out->sealed) {
			/* 16.1 rule 1: not a torn tail but corrupt; cutting
			 * would hide it */
			rc = alog_err_set(err, ALOG_ECORRUPT, "backup file '%s' "
					  "offset %" PRIu64 ": %zu bytes follow "
					  "the seal", path, base + nl_end, tail);
			goto out;
		}
		rc = cut_torn_tail(fd, path, base + nl_end, err);
		if (rc < 0)
			goto out;
		out->cut_bytes = tail;
		out->cut_offset = base + nl_end;
	}
	out->size = base + nl_end;
out:
	free(buf);
	close(fd);
	return rc;
}
