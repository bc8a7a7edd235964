/*
 * bundle: see bundle.h. SPEC.md section 19 "Evidence bundles".
 *
 * Nothing here follows a symbolic link: the tree is walked with fstatat
 * (AT_SYMLINK_NOFOLLOW) and files are opened one component at a time with
 * O_NOFOLLOW, so a link anywhere in a path is refused, never resolved.
 */
#include "report/bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "report/sample.h"
#include "store/buf.h"
#include "store/bytes.h"

#define CHUNK 65536
#define HEX_LEN (2 * ALOG_HASH_LEN)
#define LINE_MIN (HEX_LEN + 2 + 1) /* hash, two spaces, a 1-byte path */

/* Shared helpers ------------------------------------------------------ */

static int is_reserved(const char *p, size_t n)
{
	return (n == sizeof(ALOG_BUNDLE_MANIFEST) - 1 &&
		memcmp(p, ALOG_BUNDLE_MANIFEST, n) == 0) ||
	       (n == sizeof(ALOG_BUNDLE_MANIFEST_NOTE) - 1 &&
		memcmp(p, ALOG_BUNDLE_MANIFEST_NOTE, n) == 0);
}

static int path_byte_ok(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* A path from the file system as messages show it: bytes outside printable
 * ASCII become '?', cut at ALOG_BUNDLE_PATH_MAX bytes. */
static void show(const char *path, char out[ALOG_BUNDLE_PATH_MAX + 1])
{
	size_t i;

	for (i = 0; path[i] && i < ALOG_BUNDLE_PATH_MAX; i++) {
		unsigned char c = (unsigned char)path[i];

		out[i] = c < 0x20 || c > 0x7e ? '?' : (char)c;
	}
	out[i] = 0;
}

int alog_bundle_path_check(const char *path, size_t len,
			   struct alog_err *err)
{
	size_t start = 0, depth = 0;

	if (len == 0)
		return alog_err_set(err, ALOG_EINVAL, "the path is empty");
	if (len > ALOG_BUNDLE_PATH_MAX)
		return alog_err_set(err, ALOG_EINVAL,
				    "the path has %zu bytes, more than %d", len,
				    ALOG_BUNDLE_PATH_MAX);
	for (size_t i = 0; i <= len; i++) {
		size_t n;

		if (i < len && path[i] != '/') {
			if (!path_byte_ok((unsigned char)path[i]))
				return alog_err_set(err, ALOG_EINVAL,
						    "byte 0x%02x at offset %zu is not one of A-Z a-z 0-9 . _ - /",
						    (unsigned char)path[i], i);
			continue;
		}
		n = i - start;
		if (n == 0)
			return alog_err_set(err, ALOG_EINVAL,
					    "empty path component at offset %zu",
					    i);
		if ((n == 1 && path[start] == '.') ||
		    (n == 2 && path[start] == '.' && path[start + 1] == '.'))
			return alog_err_set(err, ALOG_EINVAL,
					    "\".\" or \"..\" component at offset %zu",
					    start);
		if (++depth > ALOG_BUNDLE_DEPTH_MAX)
			return alog_err_set(err, ALOG_EINVAL,
					    "more than %d path components",
					    ALOG_BUNDLE_DEPTH_MAX);
		start = i + 1;
	}
	return 0;
}

static int lower_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		      (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

/* Hashing (OpenSSL EVP, translated here). */
struct hasher {
	EVP_MD_CTX *md;
	unsigned char *chunk; /* CHUNK bytes */
};

static int hasher_init(struct hasher *h, struct alog_err *err)
{
	h->md = EVP_MD_CTX_new();
	h->chunk = malloc(CHUNK);
	if (!h->md || !h->chunk)
		return alog_err_set(err, ALOG_ENOMEM,
				    "out of memory for a sha-256 context");
	return 0;
}

static void hasher_release(struct hasher *h)
{
	EVP_MD_CTX_free(h->md);
	free(h->chunk);
	h->md = NULL;
	h->chunk = NULL;
}

static int sha_begin(struct hasher *h, struct alog_err *err)
{
	if (EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1)
		return alog_err_set(err, ALOG_ECRYPTO, "sha-256 init failed");
	return 0;
}

static int sha_update(struct hasher *h, const void *p, size_t n,
		      struct alog_err *err)
{
	if (n && EVP_DigestUpdate(h->md, p, n) != 1)
		return alog_err_set(err, ALOG_ECRYPTO, "sha-256 update failed");
	return 0;
}

static int sha_end(struct hasher *h, unsigned char out[ALOG_HASH_LEN],
		   struct alog_err *err)
{
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(h->md, out, &n) != 1 || n != ALOG_HASH_LEN)
		return alog_err_set(err, ALOG_ECRYPTO, "sha-256 final failed");
	return 0;
}

static int sha_mem(struct hasher *h, const void *p, size_t n,
		   unsigned char out[ALOG_HASH_LEN], struct alog_err *err)
{
	int rc = sha_begin(h, err);

	if (rc == 0)
		rc = sha_update(h, p, n, err);
	if (rc == 0)
		rc = sha_end(h, out, err);
	return rc;
}

/* SHA-256 of the rest of fd; when keep is non-NULL the bytes are also
 * appended to it (ALOG_ELIMIT past its maximum). */
static int sha_fd(struct hasher *h, int fd, const char *path,
		  struct alog_buf *keep, unsigned char out[ALOG_HASH_LEN],
		  struct alog_err *err)
{
	int rc = sha_begin(h, err);

	while (rc == 0) {
		ssize_t got = read(fd, h->chunk, CHUNK);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;

			return alog_err_sys(err, ALOG_EIO, e, "%s: cannot read: %s",
					    path, strerror(e));
		}
		if (got == 0)
			return sha_end(h, out, err);
		rc = sha_update(h, h->chunk, (size_t)got, err);
		if (rc == 0 && keep) {
			rc = alog_buf_add(keep, h->chunk, (size_t)got, err);
			if (rc == ALOG_ELIMIT)
				alog_err_set(err, rc, "%s: larger than %zu bytes",
					     path, keep->max);
		}
	}
	return rc;
}

static int write_all(int fd, const void *p, size_t n)
{
	const unsigned char *q = p;

	while (n > 0) {
		ssize_t w = write(fd, q, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Opening a bundle path below root without following links. */
enum { OPEN_OK, OPEN_MISSING, OPEN_LINK, OPEN_NOTREG, OPEN_ERR };

static int open_errno(int e)
{
	return e == ENOENT || e == ENOTDIR ? OPEN_MISSING :
	       e == ELOOP ? OPEN_LINK : OPEN_ERR;
}

/* What a stat says of a path component: a directory is wanted for every
 * component but the last, a regular file for the last. */
static int open_kind(const struct stat *sb, int last)
{
	if (S_ISLNK(sb->st_mode))
		return OPEN_LINK;
	if (!last)
		return S_ISDIR(sb->st_mode) ? OPEN_OK : OPEN_MISSING;
	return S_ISREG(sb->st_mode) ? OPEN_OK : OPEN_NOTREG;
}

static int open_rel(int root, const char *path, int *fd_out, int *e_out)
{
	char buf[ALOG_BUNDLE_PATH_MAX + 1];
	size_t n = strlen(path);
	char *p = buf, *slash;
	int cur = root, fd = -1, st = OPEN_OK;
	struct stat sb;

	*fd_out = -1;
	*e_out = 0;
	if (n > ALOG_BUNDLE_PATH_MAX)
		return OPEN_MISSING;
	memcpy(buf, path, n + 1);
	for (;;) {
		int last;

		slash = strchr(p, '/');
		last = slash == NULL;
		if (!last)
			*slash = 0;
		/* lstat first: never open a link, a fifo or a device */
		if (fstatat(cur, p, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			*e_out = errno;
			st = open_errno(*e_out);
			goto out;
		}
		st = open_kind(&sb, last);
		if (st != OPEN_OK)
			goto out;
		fd = openat(cur, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
			    (last ? O_NONBLOCK : O_DIRECTORY));
		if (fd < 0 || fstat(fd, &sb) < 0) {
			*e_out = errno;
			st = open_errno(*e_out);
			goto out;
		}
		/* swapped since the fstatat */
		st = open_kind(&sb, last);
		if (st != OPEN_OK || last)
			goto out;
		if (cur != root)
			close(cur);
		cur = fd;
		fd = -1;
		p = slash + 1;
	}
out:
	if (st == OPEN_OK) {
		*fd_out = fd;
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	if (cur != root)
		close(cur);
	return st;
}

/* The walk: every entry below the root but the two manifest files, with
 * what it is. Directories are descended (never through a link) while
 * their files can still be valid paths. */
enum { K_REG, K_LINK, K_OTHER, K_DEEP };

struct ent {
	char *path; /* owned */
	int kind;
};

struct walk {
	struct ent *v;
	size_t n, cap;
};

static void walk_release(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].path);
	free(w->v);
	memset(w, 0, sizeof(*w));
}

static char *join(const char *prefix, const char *name)
{
	size_t pl = strlen(prefix), nl = strlen(name);
	char *p = malloc(pl + 1 + nl + 1);

	if (!p)
		return NULL;
	if (pl) {
		memcpy(p, prefix, pl);
		p[pl++] = '/';
	}
	memcpy(p + pl, name, nl + 1);
	return p;
}

/* Takes path (freed on failure). */
static int walk_push(struct walk *w, char *path, int kind,
		     struct alog_err *err)
{
	if (w->n > ALOG_BUNDLE_FILES_MAX) {
		free(path);
		return alog_err_set(err, ALOG_ELIMIT,
				    "the bundle holds more than %d files",
				    ALOG_BUNDLE_FILES_MAX);
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct ent *v = realloc(w->v, cap * sizeof(*v));

		if (!v) {
			free(path);
			return alog_err_set(err, ALOG_ENOMEM,
					    "out of memory listing the bundle");
		}
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n].path = path;
	w->v[w->n].kind = kind;
	w->n++;
	return 0;
}

/* dfd is owned (closed here); prefix has `comps` components. */
static int walk_dir(int dfd, const char *prefix, unsigned comps,
		    struct walk *w, struct alog_err *err)
{
	char shown[ALOG_BUNDLE_PATH_MAX + 1];
	DIR *d = fdopendir(dfd);
	int rc = 0, e;

	show(prefix, shown);
	if (!d) {
		e = errno;
		close(dfd);
		return alog_err_sys(err, ALOG_EIO, e,
				    "cannot read directory '%s': %s",
				    comps ? shown : ".", strerror(e));
	}
	for (;;) {
		struct dirent *de;
		struct stat sb;
		char *path;
		int kind;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno) {
				e = errno;
				rc = alog_err_sys(err, ALOG_EIO, e,
						  "cannot read directory '%s': %s",
						  comps ? shown : ".",
						  strerror(e));
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (comps == 0 &&
		    is_reserved(de->d_name, strlen(de->d_name)))
			continue;
		path = join(prefix, de->d_name);
		if (!path) {
			rc = alog_err_set(err, ALOG_ENOMEM,
					  "out of memory listing the bundle");
			break;
		}
		if (fstatat(dirfd(d), de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) < 0) {
			e = errno;
			show(path, shown);
			free(path);
			rc = alog_err_sys(err, ALOG_EIO, e, "%s: cannot stat: %s",
					  shown, strerror(e));
			break;
		}
		if (S_ISDIR(sb.st_mode) && comps + 2 <= ALOG_BUNDLE_DEPTH_MAX) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC);

			if (sub < 0) {
				e = errno;
				show(path, shown);
				free(path);
				rc = alog_err_sys(err, ALOG_EIO, e,
						  "%s: cannot open directory: %s",
						  shown, strerror(e));
				break;
			}
			rc = walk_dir(sub, path, comps + 1, w, err);
			free(path);
			if (rc < 0)
				break;
			continue;
		}
		kind = S_ISREG(sb.st_mode) ? K_REG :
		       S_ISLNK(sb.st_mode) ? K_LINK :
		       S_ISDIR(sb.st_mode) ? K_DEEP : K_OTHER;
		rc = walk_push(w, path, kind, err);
		if (rc < 0)
			break;
	}
	closedir(d);
	return rc;
}

static int ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->path,
		      ((const struct ent *)b)->path);
}

/* List the tree below root, sorted by path (byte order). */
static int walk_tree(int root, struct walk *w, struct alog_err *err)
{
	int fd = fcntl(root, F_DUPFD_CLOEXEC, 0), rc, e;

	if (fd < 0) {
		e = errno;
		return alog_err_sys(err, ALOG_EIO, e,
				    "cannot duplicate a descriptor: %s",
				    strerror(e));
	}
	rc = walk_dir(fd, "", 0, w, err);
	if (rc == 0 && w->n > 1)
		qsort(w->v, w->n, sizeof(*w->v), ent_cmp);
	return rc;
}

static const char *kind_text(int kind)
{
	switch (kind) {
	case K_LINK: return "a symbolic link, never followed";
	case K_DEEP: return "a directory too deep to hold bundle files";
	case K_OTHER: return "not a regular file";
	default: return "a regular file";
	}
}

static int open_root(const char *dir, int *out, struct alog_err *err)
{
	int e;

	*out = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*out >= 0)
		return 0;
	e = errno;
	return alog_err_sys(err, e == ENOENT ? ALOG_ENOTFOUND :
			    e == ENOTDIR ? ALOG_EINVAL : ALOG_EIO, e,
			    "cannot open bundle directory '%s': %s", dir,
			    strerror(e));
}

/* Create root/name exclusively with data, fsynced. */
static int create_file(int dfd, const char *name, const char *shown,
		       const void *data, size_t len, struct alog_err *err)
{
	int fd, e;

	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
	if (fd < 0) {
		e = errno;
		return alog_err_sys(err, e == EEXIST ? ALOG_EEXIST : ALOG_EIO,
				    e, "%s: cannot create: %s", shown,
				    strerror(e));
	}
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlinkat(dfd, name, 0);
		return alog_err_sys(err, ALOG_EIO, e, "%s: cannot write: %s",
				    shown, strerror(e));
	}
	if (close(fd) < 0) {
		e = errno;
		unlinkat(dfd, name, 0);
		return alog_err_sys(err, ALOG_EIO, e, "%s: cannot write: %s",
				    shown, strerror(e));
	}
	return 0;
}

static int sync_fd(int fd, const char *shown, struct alog_err *err)
{
	int e;

	if (fsync(fd) == 0)
		return 0;
	e = errno;
	return alog_err_sys(err, ALOG_EIO, e, "%s: cannot fsync: %s", shown,
			    strerror(e));
}

/* alog_bundle_add --------------------------------------------------- */

int alog_bundle_add(const char *dir, const char *path, const void *data,
		    size_t len, struct alog_err *err)
{
	char buf[ALOG_BUNDLE_PATH_MAX + 1];
	size_t n = strlen(path);
	char *p = buf, *slash;
	int root = -1, cur = -1, rc, e;

	rc = alog_bundle_path_check(path, n, err);
	if (rc < 0) {
		alog_err_prefix(err, "bundle path");
		return rc;
	}
	if (is_reserved(path, n))
		return alog_err_set(err, ALOG_EINVAL,
				    "%s: the manifest is written by sealing the bundle",
				    path);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		e = errno;
		return alog_err_sys(err, ALOG_EIO, e,
				    "cannot create bundle directory '%s': %s",
				    dir, strerror(e));
	}
	rc = open_root(dir, &root, err);
	if (rc < 0)
		return rc;
	cur = root;
	memcpy(buf, path, n + 1);
	while ((slash = strchr(p, '/')) != NULL) {
		int fd;

		*slash = 0;
		if (mkdirat(cur, p, 0755) < 0 && errno != EEXIST) {
			e = errno;
			rc = alog_err_sys(err, ALOG_EIO, e,
					  "%s: cannot create directory '%s': %s",
					  path, buf, strerror(e));
			goto out;
		}
		fd = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
		if (fd < 0) {
			e = errno;
			rc = alog_err_sys(err, ALOG_EIO, e,
					  "%s: cannot open directory '%s' (links are not followed): %s",
					  path, buf, strerror(e));
			goto out;
		}
		if (cur != root)
			close(cur);
		cur = fd;
		*slash = '/';
		p = slash + 1;
	}
	rc = create_file(cur, p, path, data, len, err);
	if (rc == 0)
		rc = sync_fd(cur, path, err);
out:
	if (cur >= 0 && cur != root)
		close(cur);
	if (root >= 0)
		close(root);
	return rc;
}

/* Hash a bundle file, opened without following links; when out is
 * non-NULL also read it whole (at most max bytes). */
static int read_rel(int root, const char *path, size_t lineno, size_t max,
		    struct hasher *h, struct alog_buf *out,
		    unsigned char sha[ALOG_HASH_LEN], struct alog_err *err)
{
	char listed[64] = "";
	int fd = -1, e, st, rc;

	if (lineno)
		snprintf(listed, sizeof(listed), " (listed in %s line %zu)",
			 ALOG_BUNDLE_MANIFEST, lineno);
	st = open_rel(root, path, &fd, &e);
	switch (st) {
	case OPEN_OK:
		break;
	case OPEN_MISSING:
		return alog_err_set(err, ALOG_EVERIFY, "%s: missing%s", path,
				    listed);
	case OPEN_LINK:
		return alog_err_set(err, ALOG_EVERIFY,
				    "%s: reached through a symbolic link, which is not followed%s",
				    path, listed);
	case OPEN_NOTREG:
		return alog_err_set(err, ALOG_EVERIFY,
				    "%s: not a regular file%s", path, listed);
	default:
		return alog_err_sys(err, ALOG_EIO, e, "%s: cannot open: %s",
				    path, strerror(e));
	}
	if (out) {
		alog_buf_release(out);
		alog_buf_init(out, max);
	}
	rc = sha_fd(h, fd, path, out, sha, err);
	close(fd);
	return rc;
}

/* The manifest's lines, in order. path points into the manifest buffer
 * (NUL-terminated there once the line is parsed). */
struct mline {
	const char *path;
	size_t lineno;
	unsigned char sha[ALOG_HASH_LEN];
};

/* A listed file read again for its contents (at most max bytes into
 * out): it must still have the hash step 3 checked. */
static int reread_listed(int root, const struct mline *l, size_t max,
			 struct hasher *h, struct alog_buf *out,
			 struct alog_err *err)
{
	unsigned char sha[ALOG_HASH_LEN];
	int rc = read_rel(root, l->path, l->lineno, max, h, out, sha, err);

	if (rc == 0 && memcmp(sha, l->sha, ALOG_HASH_LEN) != 0)
		rc = alog_err_set(err, ALOG_EVERIFY,
				  "%s: changed while the bundle was verified",
				  l->path);
	return rc;
}

static long mline_find(const struct mline *v, size_t n, const char *path)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid].path, path);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int has_suffix(const char *path, const char *suffix)
{
	size_t n = strlen(path), m = strlen(suffix);

	return n > m && memcmp(path + n - m, suffix, m) == 0;
}

static void set_failed(struct alog_bundle_summary *sum, const char *path)
{
	show(path, sum->failed);
}

/* alog_bundle_sign -------------------------------------------------- */

int alog_bundle_sign(const char *dir, const struct alog_signer *s,
		     struct alog_bundle_summary *out, struct alog_err *err)
{
	static const char *const reserved[] = {
		ALOG_BUNDLE_MANIFEST, ALOG_BUNDLE_MANIFEST_NOTE,
	};
	struct alog_bundle_summary sum;
	struct alog_verifier v;
	struct walk w = { 0 };
	struct hasher h = { 0 };
	struct alog_buf man = { 0 }, note = { 0 }, text = { 0 }, ck = { 0 };
	char shown[ALOG_BUNDLE_PATH_MAX + 1], hex[HEX_LEN + 1];
	unsigned char sha[ALOG_HASH_LEN];
	int root = -1, rc, made_txt = 0, has_end = 0;
	struct stat sb;

	memset(&sum, 0, sizeof(sum));
	alog_buf_init(&man, ALOG_BUNDLE_MANIFEST_MAX);
	alog_buf_init(&note, ALOG_NOTE_MAX);
	alog_buf_init(&text, ALOG_NOTE_MAX);
	rc = hasher_init(&h, err);
	if (rc < 0)
		goto out;
	rc = open_root(dir, &root, err);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < 2; i++) {
		if (fstatat(root, reserved[i], &sb, AT_SYMLINK_NOFOLLOW) == 0) {
			set_failed(&sum, reserved[i]);
			rc = alog_err_set(err, ALOG_EEXIST,
					  "%s: already exists: the bundle is sealed",
					  reserved[i]);
			goto out;
		}
	}
	rc = walk_tree(root, &w, err);
	if (rc < 0)
		goto out;
	if (w.n > ALOG_BUNDLE_FILES_MAX) {
		rc = alog_err_set(err, ALOG_ELIMIT,
				  "the bundle holds more than %d files",
				  ALOG_BUNDLE_FILES_MAX);
		goto out;
	}
	for (size_t i = 0; i < w.n; i++) {
		show(w.v[i].path, shown);
		if (w.v[i].kind != K_REG) {
			set_failed(&sum, w.v[i].path);
			rc = alog_err_set(err, ALOG_EINVAL,
					  "%s: %s: a bundle holds regular files only",
					  shown, kind_text(w.v[i].kind));
			goto out;
		}
		rc = alog_bundle_path_check(w.v[i].path,
					    strlen(w.v[i].path), err);
		if (rc < 0) {
			set_failed(&sum, w.v[i].path);
			alog_err_prefix(err, "%s", shown);
			goto out;
		}
		if (strcmp(w.v[i].path, ALOG_BUNDLE_END_CHECKPOINT) == 0)
			has_end = 1;
	}
	if (!has_end) {
		set_failed(&sum, ALOG_BUNDLE_END_CHECKPOINT);
		rc = alog_err_set(err, ALOG_EINVAL,
				  "%s: missing: a bundle needs its end checkpoint",
				  ALOG_BUNDLE_END_CHECKPOINT);
		goto out;
	}
	rc = read_rel(root, ALOG_BUNDLE_END_CHECKPOINT, 0, ALOG_NOTE_MAX, &h,
		      &ck, sha, err);
	if (rc == 0) {
		alog_signer_verifier(s, &v);
		rc = alog_checkpoint_open_note(&v, (const char *)ck.data,
					       ck.len, &sum.end, err);
		if (rc < 0)
			alog_err_prefix(err, "%s", ALOG_BUNDLE_END_CHECKPOINT);
	}
	if (rc < 0) {
		set_failed(&sum, ALOG_BUNDLE_END_CHECKPOINT);
		goto out;
	}
	for (size_t i = 0; i < w.n; i++) {
		rc = read_rel(root, w.v[i].path, 0, 0, &h, NULL, sha, err);
		if (rc == 0) {
			alog_hex_encode(sha, sizeof(sha), hex);
			rc = alog_buf_addf(&man, err, "%s  %s\n", hex,
					   w.v[i].path);
		}
		if (rc < 0) {
			set_failed(&sum, w.v[i].path);
			goto out;
		}
		if (has_suffix(w.v[i].path, ALOG_BUNDLE_PROOF_SUFFIX))
			sum.n_proofs++;
	}
	sum.n_files = w.n;
	rc = sha_mem(&h, man.data, man.len, sum.manifest_sha256, err);
	if (rc < 0)
		goto out;
	alog_hex_encode(sum.manifest_sha256, ALOG_HASH_LEN, hex);
	rc = alog_buf_addf(&text, err, "%s\n%s\n%zu\n%s\n",
			   ALOG_BUNDLE_NOTE_HEADER, sum.end.origin, w.n, hex);
	if (rc == 0)
		rc = alog_note_sign(s, (const char *)text.data, text.len, &note,
				    err);
	if (rc < 0) {
		alog_err_prefix(err, "%s", ALOG_BUNDLE_MANIFEST_NOTE);
		set_failed(&sum, ALOG_BUNDLE_MANIFEST_NOTE);
		goto out;
	}
	rc = create_file(root, ALOG_BUNDLE_MANIFEST, ALOG_BUNDLE_MANIFEST,
			 man.data, man.len, err);
	if (rc < 0) {
		set_failed(&sum, ALOG_BUNDLE_MANIFEST);
		goto out;
	}
	made_txt = 1;
	rc = create_file(root, ALOG_BUNDLE_MANIFEST_NOTE,
			 ALOG_BUNDLE_MANIFEST_NOTE, note.data, note.len, err);
	if (rc < 0) {
		set_failed(&sum, ALOG_BUNDLE_MANIFEST_NOTE);
		goto out;
	}
	rc = sync_fd(root, dir, err);
	if (rc < 0)
		unlinkat(root, ALOG_BUNDLE_MANIFEST_NOTE, 0);
out:
	if (rc < 0 && made_txt)
		unlinkat(root, ALOG_BUNDLE_MANIFEST, 0);
	if (root >= 0)
		close(root);
	if (out)
		*out = sum;
	walk_release(&w);
	hasher_release(&h);
	alog_buf_release(&man);
	alog_buf_release(&note);
	alog_buf_release(&text);
	alog_buf_release(&ck);
	return rc;
}

/* alog_bundle_verify ------------------------------------------------ */

/* The signed text of manifest.note: header, origin, count, hash. */
static int parse_note_text(const char *t, size_t len,
			   char origin[ALOG_ORIGIN_MAX + 1], uint64_t *count,
			   unsigned char sha[ALOG_HASH_LEN],
			   struct alog_err *err)
{
	const char *p = t, *end = t + len;
	const char *line[4];
	size_t n[4];

	for (int i = 0; i < 4; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			return alog_err_set(err, ALOG_ECORRUPT,
					    "line %d: missing (the signed text has 4 lines)",
					    i + 1);
		line[i] = p;
		n[i] = (size_t)(nl - p);
		p = nl + 1;
	}
	if (p != end)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "line 5: the signed text has more than 4 lines");
	if (n[0] != sizeof(ALOG_BUNDLE_NOTE_HEADER) - 1 ||
	    memcmp(line[0], ALOG_BUNDLE_NOTE_HEADER, n[0]) != 0)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "line 1: not \"" ALOG_BUNDLE_NOTE_HEADER "\"");
	if (n[1] == 0 || n[1] > ALOG_ORIGIN_MAX)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "line 2: the origin must have 1 to %d bytes",
				    ALOG_ORIGIN_MAX);
	memcpy(origin, line[1], n[1]);
	origin[n[1]] = 0;
	if (alog_dec_parse(line[2], n[2], count) < 0 ||
	    *count > ALOG_BUNDLE_FILES_MAX)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "line 3: not a file count from 0 to %d without leading zeros",
				    ALOG_BUNDLE_FILES_MAX);
	if (n[3] != HEX_LEN || !lower_hex(line[3], HEX_LEN) ||
	    alog_hex_decode(line[3], HEX_LEN, sha, ALOG_HASH_LEN) < 0)
		return alog_err_set(err, ALOG_ECORRUPT,
				    "line 4: not 64 lowercase hex digits");
	return 0;
}

/* Parse manifest.txt in place (newlines become NULs) into lines. */
static int parse_manifest(struct alog_buf *man, struct mline **out,
			  size_t *n_out, struct alog_err *err)
{
	char *p = (char *)man->data, *end = p + man->len;
	struct mline *v = NULL;
	struct alog_err perr = { 0 };
	size_t n = 0, cap = 0, lineno = 1;
	int rc = 0;

	*out = NULL;
	*n_out = 0;
	for (; p < end; p++, lineno++) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *path;
		size_t len;

		if (!nl) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "line %zu: does not end in a newline",
					  lineno);
			goto out;
		}
		len = (size_t)(nl - p);
		if (len < LINE_MIN || !lower_hex(p, HEX_LEN) ||
		    p[HEX_LEN] != ' ' || p[HEX_LEN + 1] != ' ') {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "line %zu: not 64 lowercase hex digits, two spaces and a path",
					  lineno);
			goto out;
		}
		path = p + HEX_LEN + 2;
		if (alog_bundle_path_check(path, len - HEX_LEN - 2,
					   &perr) < 0) {
			rc = alog_err_set(err, ALOG_ECORRUPT, "line %zu: path: %s",
					  lineno, perr.msg);
			goto out;
		}
		*nl = 0;
		if (is_reserved(path, len - HEX_LEN - 2)) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "line %zu: lists \"%s\", which is never listed",
					  lineno, path);
			goto out;
		}
		if (n > 0 && strcmp(v[n - 1].path, path) >= 0) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "line %zu: \"%s\" does not come after \"%s\" (lines are sorted by path, each path once)",
					  lineno, path, v[n - 1].path);
			goto out;
		}
		if (n == ALOG_BUNDLE_FILES_MAX) {
			rc = alog_err_set(err, ALOG_ELIMIT,
					  "line %zu: more than %d files",
					  lineno, ALOG_BUNDLE_FILES_MAX);
			goto out;
		}
		if (n == cap) {
			size_t c = cap ? 2 * cap : 64;
			struct mline *nv = realloc(v, c * sizeof(*nv));

			if (!nv) {
				rc = alog_err_set(err, ALOG_ENOMEM,
						  "out of memory for the manifest");
				goto out;
			}
			v = nv;
			cap = c;
		}
		alog_hex_decode(p, HEX_LEN, v[n].sha, ALOG_HASH_LEN);
		v[n].path = path;
		v[n].lineno = lineno;
		n++;
		p = nl;
	}
out:
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	*n_out = n;
	return 0;
}

/* A proof file's name: <dir>/<index>.tlog-proof, decimal index. */
static int proof_name_index(const char *path, uint64_t *index)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base) - (sizeof(ALOG_BUNDLE_PROOF_SUFFIX) - 1);
	return alog_dec_parse(base, n, index);
}

int alog_bundle_verify(const char *dir, const struct alog_verifier *v,
		       struct alog_bundle_summary *out, struct alog_err *err)
{
	struct alog_bundle_summary sum;
	struct alog_buf note = { 0 }, man = { 0 }, ck = { 0 }, file = { 0 };
	struct alog_tlog_proof tp = { 0 };
	struct mline *lines = NULL;
	struct walk w = { 0 };
	struct hasher h = { 0 };
	char origin[ALOG_ORIGIN_MAX + 1], shown[ALOG_BUNDLE_PATH_MAX + 1];
	unsigned char signed_sha[ALOG_HASH_LEN], sha[ALOG_HASH_LEN];
	size_t n_lines = 0, text_len = 0;
	uint64_t count = 0;
	long end_at;
	int root = -1, rc;

	memset(&sum, 0, sizeof(sum));
	rc = hasher_init(&h, err);
	if (rc < 0)
		goto out;
	rc = open_root(dir, &root, err);
	if (rc < 0)
		goto out;

	/* 1. manifest.note: the signature, then the signed text. */
	set_failed(&sum, ALOG_BUNDLE_MANIFEST_NOTE);
	rc = read_rel(root, ALOG_BUNDLE_MANIFEST_NOTE, 0, ALOG_NOTE_MAX, &h,
		      &note, sha, err);
	if (rc < 0)
		goto out;
	rc = alog_note_verify(v, (const char *)note.data, note.len, &text_len,
			      err);
	if (rc == 0)
		rc = parse_note_text((const char *)note.data, text_len, origin,
				     &count, signed_sha, err);
	if (rc < 0) {
		alog_err_prefix(err, "%s", ALOG_BUNDLE_MANIFEST_NOTE);
		goto out;
	}

	/* 2. manifest.txt: lines, count, hash. */
	set_failed(&sum, ALOG_BUNDLE_MANIFEST);
	rc = read_rel(root, ALOG_BUNDLE_MANIFEST, 0, ALOG_BUNDLE_MANIFEST_MAX,
		      &h, &man, sum.manifest_sha256, err);
	if (rc < 0)
		goto out;
	rc = parse_manifest(&man, &lines, &n_lines, err);
	if (rc < 0) {
		alog_err_prefix(err, "%s", ALOG_BUNDLE_MANIFEST);
		goto out;
	}
	if (n_lines != count) {
		rc = alog_err_set(err, ALOG_EVERIFY,
				  "%s: %zu files listed, but %s signs %" PRIu64,
				  ALOG_BUNDLE_MANIFEST, n_lines,
				  ALOG_BUNDLE_MANIFEST_NOTE, count);
		goto out;
	}
	if (memcmp(sum.manifest_sha256, signed_sha, ALOG_HASH_LEN) != 0) {
		rc = alog_err_set(err, ALOG_EVERIFY,
				  "%s: sha256 differs from the one %s signs",
				  ALOG_BUNDLE_MANIFEST,
				  ALOG_BUNDLE_MANIFEST_NOTE);
		goto out;
	}
	sum.n_files = n_lines;

	/* 3. Every listed file: present, regular, same hash. */
	for (size_t i = 0; i < n_lines; i++) {
		set_failed(&sum, lines[i].path);
		rc = read_rel(root, lines[i].path, lines[i].lineno, 0, &h, NULL,
			      sha, err);
		if (rc < 0)
			goto out;
		if (memcmp(sha, lines[i].sha, ALOG_HASH_LEN) != 0) {
			rc = alog_err_set(err, ALOG_EVERIFY,
					  "%s: sha256 differs from %s line %zu",
					  lines[i].path, ALOG_BUNDLE_MANIFEST,
					  lines[i].lineno);
			goto out;
		}
	}

	/* 4. Nothing else: the first entry not listed, in path order. */
	sum.failed[0] = 0;
	rc = walk_tree(root, &w, err);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < w.n; i++) {
		if (w.v[i].kind == K_REG &&
		    mline_find(lines, n_lines, w.v[i].path) >= 0)
			continue;
		set_failed(&sum, w.v[i].path);
		show(w.v[i].path, shown);
		if (w.v[i].kind == K_REG)
			rc = alog_err_set(err, ALOG_EVERIFY,
					  "%s: not listed in %s", shown,
					  ALOG_BUNDLE_MANIFEST);
		else
			rc = alog_err_set(err, ALOG_EVERIFY,
					  "%s: not listed in %s (%s)", shown,
					  ALOG_BUNDLE_MANIFEST,
					  kind_text(w.v[i].kind));
		goto out;
	}

	/* 5. The end checkpoint: verifies with v, the manifest's origin. */
	set_failed(&sum, ALOG_BUNDLE_END_CHECKPOINT);
	end_at = mline_find(lines, n_lines, ALOG_BUNDLE_END_CHECKPOINT);
	if (end_at < 0) {
		rc = alog_err_set(err, ALOG_EVERIFY,
				  "%s: not in the bundle (proofs are checked against it)",
				  ALOG_BUNDLE_END_CHECKPOINT);
		goto out;
	}
	rc = reread_listed(root, &lines[end_at], ALOG_NOTE_MAX, &h, &ck, err);
	if (rc < 0)
		goto out;
	rc = alog_checkpoint_open_note(v, (const char *)ck.data, ck.len,
				       &sum.end, err);
	if (rc < 0) {
		alog_err_prefix(err, "%s", ALOG_BUNDLE_END_CHECKPOINT);
		goto out;
	}
	if (strcmp(sum.end.origin, origin) != 0) {
		rc = alog_err_set(err, ALOG_EVERIFY,
				  "%s: origin \"%s\" is not the manifest's \"%s\"",
				  ALOG_BUNDLE_END_CHECKPOINT, sum.end.origin,
				  origin);
		goto out;
	}

	/* 6. Every tlog-proof, in manifest order. */
	for (size_t i = 0; i < n_lines; i++) {
		const char *path = lines[i].path;
		uint64_t named;

		if (!has_suffix(path, ALOG_BUNDLE_PROOF_SUFFIX))
			continue;
		set_failed(&sum, path);
		rc = reread_listed(root, &lines[i], ALOG_TLOG_PROOF_MAX, &h,
				   &file, err);
		if (rc < 0)
			goto out;
		alog_tlog_proof_release(&tp);
		rc = alog_tlog_proof_parse((const char *)file.data, file.len,
					   &tp, err);
		if (rc < 0) {
			alog_err_prefix(err, "%s", path);
			goto out;
		}
		if (proof_name_index(path, &named) < 0) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "%s: a proof file must be named <index>%s",
					  path, ALOG_BUNDLE_PROOF_SUFFIX);
			goto out;
		}
		if (named != tp.index) {
			rc = alog_err_set(err, ALOG_EVERIFY,
					  "%s: proves index %" PRIu64 ", not the index its name gives",
					  path, tp.index);
			goto out;
		}
		if (!tp.extra) {
			rc = alog_err_set(err, ALOG_ECORRUPT,
					  "%s: no extra line: the proof carries no record",
					  path);
			goto out;
		}
		if (tp.note_len != ck.len ||
		    memcmp(tp.note, ck.data, ck.len) != 0) {
			rc = alog_err_set(err, ALOG_EVERIFY,
					  "%s: its checkpoint is not %s",
					  path, ALOG_BUNDLE_END_CHECKPOINT);
			goto out;
		}
		rc = alog_tlog_proof_verify(&tp, v, NULL, NULL, err);
		if (rc < 0) {
			alog_err_prefix(err, "%s", path);
			goto out;
		}
		sum.n_proofs++;
	}
	sum.failed[0] = 0;
out:
	if (out)
		*out = sum;
	if (root >= 0)
		close(root);
	alog_tlog_proof_release(&tp);
	free(lines);
	walk_release(&w);
	hasher_release(&h);
	alog_buf_release(&note);
	alog_buf_release(&man);
	alog_buf_release(&ck);
	alog_buf_release(&file);
	return rc;
}
