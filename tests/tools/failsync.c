/*
 * failsync: an LD_PRELOAD shim that makes the disk fail on demand, for
 * fault tests (tests/cli/test_serve.py, tests/cli/test_faults.py).
 * This comment is the shim's specification.
 *
 * Environment:
 *   ALOG_FAILSYNC_FLAG   path of the flag file; faults are armed while it
 *                        exists. Unset: the shim does nothing.
 *   ALOG_FAILSYNC_MATCH  a substring; only calls on a file descriptor whose
 *                        /proc/self/fd link contains it can fail (e.g.
 *                        "/segments/" or "data.mdb"). Unset: nothing fails.
 *
 * Flag file content (read on every matching call; at most FLAG_MAX = 256
 * bytes; the process must be able to open it for reading and writing):
 * words separated by white space, in any order:
 *   sync               fsync, fdatasync fail
 *   write              write, writev, pwrite, pwrite64, pwritev,
 *                      pwritev64, pwritev2, pwritev64v2, ftruncate,
 *                      ftruncate64, fallocate, fallocate64,
 *                      posix_fallocate, posix_fallocate64 fail
 *   all                both classes
 *   EIO ENOSPC EDQUOT  the errno the failing calls report (at most one)
 *   count=N            fail only the next N matching calls (N decimal,
 *                      0..1000000000); without it every matching call
 *                      fails while the flag exists
 * No class word means `sync`; no errno word means EIO; so an empty file
 * (today's `touch`) means "sync EIO". Examples: "write ENOSPC",
 * "sync write EIO", "all EDQUOT count=1". Any other word is a mistake in
 * the test, as are a longer flag and one the process cannot open: the
 * shim writes "failsync: flag file '...': ..." to stderr and aborts, so a
 * typo cannot silently disarm a fault test.
 *
 * A failing call does nothing at all: it returns -1 with errno set
 * (posix_fallocate returns the error number, as it does), no byte is
 * written and the file's size is unchanged. (A real ENOSPC can also be a
 * short write; "nothing written" is the deterministic case.) ftruncate
 * is in the write class, so code that cuts a file back after a failed
 * write meets a failure there too (and uses up a count= unit). Calls
 * that go through leave errno as the C library sets it.
 *
 * count=N: each failure that the count allows decrements N in the flag
 * file itself, rewritten in place under an exclusive flock(2) of the flag
 * file that every deciding call takes, so concurrent threads (and
 * processes) sharing the flag fail exactly N calls in total. The failure
 * that brings N to 0 leaves "count=0" in the file and removes it: a test
 * can poll for the flag to disappear to know the faults were used up. A
 * flag holding count=0 fails nothing.
 *
 * Writing the flag: tests MUST make the content appear at once (write a
 * temporary file in the same directory, then rename it to the flag path),
 * because a flag seen empty for a moment means "sync EIO". To disarm,
 * unlink it. Tests should only look at whether the flag exists, not read
 * it (the shim rewrites it in place).
 *
 * Cost and safety: with the flag absent a call costs one getenv pair and
 * one access(2); only then is the descriptor's link read. The shim's own
 * file work (open, pread, flock, readlink, fstat) is not intercepted, it
 * calls the C library's pwrite/ftruncate directly to rewrite the count,
 * and a thread-local guard passes through any call the shim makes while
 * deciding (so is a write from a signal handler that interrupts it). A
 * call on the flag file itself is never matched. Works with ASan builds
 * loaded with ASAN_OPTIONS=verify_asan_link_order=0.
 */
#undef _FILE_OFFSET_BITS /* define pwrite and pwrite64 both, unrenamed */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define FLAG_MAX 256          /* bytes of the flag file that are read */
#define COUNT_MAX 1000000000L /* largest count=N */

enum op_class { OP_SYNC = 1, OP_WRITE = 2 };

struct fault {
	int classes;     /* OP_* bits */
	int err;         /* errno to report */
	long count;      /* remaining failures, -1 without count= */
};

/* 1 while this thread is inside the shim's own decision. */
static _Thread_local int busy;

/* Types of the intercepted functions. */
typedef int (*sync_fn)(int);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void *, size_t, off64_t);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef ssize_t (*pwritev64_fn)(int, const struct iovec *, int, off64_t);
typedef ssize_t (*pwritev2_fn)(int, const struct iovec *, int, off_t, int);
typedef ssize_t (*pwritev64v2_fn)(int, const struct iovec *, int, off64_t,
				  int);
typedef int (*ftruncate_fn)(int, off_t);
typedef int (*ftruncate64_fn)(int, off64_t);
typedef int (*fallocate_fn)(int, int, off_t, off_t);
typedef int (*fallocate64_fn)(int, int, off64_t, off64_t);
typedef int (*pfallocate_fn)(int, off_t, off_t);
typedef int (*pfallocate64_fn)(int, off64_t, off64_t);

/*
 * var = the next definition of name after this shim (the C library's, or
 * ASan's interceptor), looked up once and cached in an atomic static
 * (racing threads store the same value). dlsym gives an object pointer;
 * POSIX lets it be copied into a function pointer.
 */
#define REAL(type, name, var)                                  \
	static _Atomic(type) var##_cache;                      \
	type var = atomic_load(&var##_cache);                  \
	if (!var) {                                            \
		void *p_ = dlsym(RTLD_NEXT, name);             \
		memcpy(&var, &p_, sizeof(var));                \
		atomic_store(&var##_cache, var);               \
	}

/* Report a bad flag file and stop: a test that arms a fault it did not
 * mean must not pass silently. */
static _Noreturn void die(const char *flag, const char *what,
			  const char *word, size_t len)
{
	char msg[FLAG_MAX + PATH_MAX + 128];
	int n;

	n = snprintf(msg, sizeof(msg), "failsync: flag file '%s': %s '%.*s'\n",
		     flag, what, (int)len, word);
	if (n > 0) {
		REAL(write_fn, "write", real);
		if (real)
			(void)real(2, msg, (size_t)n < sizeof(msg) ? (size_t)n
				   : sizeof(msg) - 1);
	}
	abort();
}

static int word_is(const char *w, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(w, lit, len) == 0;
}

/* Parse the flag content (NUL-terminated) into f; dies on a bad word. */
static void parse_flag(const char *flag, const char *text, struct fault *f)
{
	const char *p = text;
	int have_err = 0;

	f->classes = 0;
	f->err = EIO;
	f->count = -1;
	for (;;) {
		const char *w;
		size_t len;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
		       *p == '\v' || *p == '\f')
			p++;
		if (!*p)
			break;
		w = p;
		while (*p && !(*p == ' ' || *p == '\t' || *p == '\n' ||
			       *p == '\r' || *p == '\v' || *p == '\f'))
			p++;
		len = (size_t)(p - w);
		if (word_is(w, len, "sync")) {
			f->classes |= OP_SYNC;
		} else if (word_is(w, len, "write")) {
			f->classes |= OP_WRITE;
		} else if (word_is(w, len, "all")) {
			f->classes |= OP_SYNC | OP_WRITE;
		} else if (!have_err && word_is(w, len, "EIO")) {
			f->err = EIO;
			have_err = 1;
		} else if (!have_err && word_is(w, len, "ENOSPC")) {
			f->err = ENOSPC;
			have_err = 1;
		} else if (!have_err && word_is(w, len, "EDQUOT")) {
			f->err = EDQUOT;
			have_err = 1;
		} else if (f->count < 0 && len > 6 && len <= 16 &&
			   memcmp(w, "count=", 6) == 0) {
			long n = 0;

			for (size_t i = 6; i < len; i++) {
				if (w[i] < '0' || w[i] > '9')
					die(flag, "unknown or repeated word", w, len);
				n = n * 10 + (w[i] - '0');
				if (n > COUNT_MAX)
					die(flag, "unknown or repeated word", w, len);
			}
			f->count = n;
		} else {
			die(flag, "unknown or repeated word", w, len);
		}
	}
	if (!f->classes)
		f->classes = OP_SYNC;
}

/* Rewrite the flag (held open as fd, locked) with count=n in place of
 * its count word. */
static void write_count(int fd, const char *text, long n)
{
	REAL(pwrite_fn, "pwrite", real_pwrite);
	REAL(ftruncate_fn, "ftruncate", real_ftruncate);
	char out[FLAG_MAX + 32];
	const char *c = strstr(text, "count=");
	size_t head, tail_at, len;
	int k;

	if (!c || !real_pwrite || !real_ftruncate)
		return;
	head = (size_t)(c - text);
	tail_at = head + 6;
	while (text[tail_at] >= '0' && text[tail_at] <= '9')
		tail_at++;
	k = snprintf(out, sizeof(out), "%.*scount=%ld%s", (int)head, text, n,
		     text + tail_at);
	if (k < 0 || (size_t)k >= sizeof(out))
		return;
	len = (size_t)k;
	if (real_pwrite(fd, out, len, 0) == (ssize_t)len)
		(void)real_ftruncate(fd, (off_t)len);
}

/*
 * The errno the call on fd of class cls must fail with, or 0 to let it
 * through. Consumes one unit of count= when it says fail. Leaves errno as
 * it found it.
 */
static int should_fail(int fd, enum op_class cls)
{
	const char *flag = getenv("ALOG_FAILSYNC_FLAG");
	const char *match = getenv("ALOG_FAILSYNC_MATCH");
	char link[64], path[PATH_MAX], text[FLAG_MAX + 2];
	struct stat fst, tst;
	struct fault f;
	ssize_t n;
	int saved = errno, ffd = -1, e = 0;

	if (busy)
		return 0; /* a call the shim itself made while deciding */
	busy = 1;
	if (!flag || !match || !*flag || access(flag, F_OK) != 0)
		goto out;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		goto out;
	path[n] = 0;
	if (!strstr(path, match))
		goto out;
	ffd = open(flag, O_RDWR | O_CLOEXEC);
	if (ffd < 0) {
		const char *why = strerror(errno);

		if (errno == ENOENT)
			goto out; /* removed meanwhile: disarmed */
		die(flag, "cannot open for reading and writing:", why,
		    strlen(why));
	}
	/* Never fail calls on the flag file itself. */
	if (fstat(ffd, &fst) == 0 && fstat(fd, &tst) == 0 &&
	    fst.st_dev == tst.st_dev && fst.st_ino == tst.st_ino)
		goto out;
	/* One lock per open file description: excludes other threads and
	 * processes that share the flag, so count= is consumed exactly. */
	while (flock(ffd, LOCK_EX) < 0) {
		if (errno != EINTR)
			goto out;
	}
	n = pread(ffd, text, FLAG_MAX + 1, 0);
	if (n < 0)
		goto out;
	if (n > FLAG_MAX)
		die(flag, "is longer than", "256 bytes", 9);
	text[n] = 0;
	parse_flag(flag, text, &f);
	if (!(f.classes & (int)cls) || f.count == 0)
		goto out;
	if (f.count > 0) {
		write_count(ffd, text, f.count - 1);
		/* The last allowed failure removes the flag; the file keeps
		 * count=0 for anyone who opened it before the unlink. */
		if (f.count == 1)
			unlink(flag);
	}
	e = f.err;
out:
	if (ffd >= 0)
		close(ffd); /* drops the lock */
	busy = 0;
	errno = saved;
	return e;
}

/* The body of every interposer that reports errors as -1 and errno: fail
 * when told to, else call the next definition, real (ENOSYS when the C
 * library lacks it). */
#define FAIL_OR_CALL(fd, cls, call)                     \
	do {                                            \
		int e_ = should_fail(fd, cls);          \
		if (!e_ && !real)                       \
			e_ = ENOSYS;                    \
		if (e_) {                               \
			errno = e_;                     \
			return -1;                      \
		}                                       \
		return call;                            \
	} while (0)
#define WRITE_BODY(fd, call) FAIL_OR_CALL(fd, OP_WRITE, call)

/* ---- sync class -------------------------------------------------------- */

int fsync(int fd)
{
	REAL(sync_fn, "fsync", real);
	FAIL_OR_CALL(fd, OP_SYNC, real(fd));
}

int fdatasync(int fd)
{
	REAL(sync_fn, "fdatasync", real);
	FAIL_OR_CALL(fd, OP_SYNC, real(fd));
}

/* ---- write class ------------------------------------------------------- */

ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(write_fn, "write", real);
	WRITE_BODY(fd, real(fd, buf, n));
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	REAL(writev_fn, "writev", real);
	WRITE_BODY(fd, real(fd, iov, iovcnt));
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(pwrite_fn, "pwrite", real);
	WRITE_BODY(fd, real(fd, buf, n, off));
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	REAL(pwrite64_fn, "pwrite64", real);
	WRITE_BODY(fd, real(fd, buf, n, off));
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
	REAL(pwritev_fn, "pwritev", real);
	WRITE_BODY(fd, real(fd, iov, iovcnt, off));
}

ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off64_t off)
{
	REAL(pwritev64_fn, "pwritev64", real);
	WRITE_BODY(fd, real(fd, iov, iovcnt, off));
}

ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t off,
		 int flags)
{
	REAL(pwritev2_fn, "pwritev2", real);
	WRITE_BODY(fd, real(fd, iov, iovcnt, off, flags));
}

ssize_t pwritev64v2(int fd, const struct iovec *iov, int iovcnt,
		    off64_t off, int flags)
{
	REAL(pwritev64v2_fn, "pwritev64v2", real);
	WRITE_BODY(fd, real(fd, iov, iovcnt, off, flags));
}

int ftruncate(int fd, off_t len)
{
	REAL(ftruncate_fn, "ftruncate", real);
	WRITE_BODY(fd, real(fd, len));
}

int ftruncate64(int fd, off64_t len)
{
	REAL(ftruncate64_fn, "ftruncate64", real);
	WRITE_BODY(fd, real(fd, len));
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	REAL(fallocate_fn, "fallocate", real);
	WRITE_BODY(fd, real(fd, mode, off, len));
}

int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
	REAL(fallocate64_fn, "fallocate64", real);
	WRITE_BODY(fd, real(fd, mode, off, len));
}

/* posix_fallocate reports its error as the return value, not in errno. */
int posix_fallocate(int fd, off_t off, off_t len)
{
	REAL(pfallocate_fn, "posix_fallocate", real);
	int e = should_fail(fd, OP_WRITE);

	if (!e && !real)
		e = ENOSYS;
	return e ? e : real(fd, off, len);
}

int posix_fallocate64(int fd, off64_t off, off64_t len)
{
	REAL(pfallocate64_fn, "posix_fallocate64", real);
	int e = should_fail(fd, OP_WRITE);

	if (!e && !real)
		e = ENOSYS;
	return e ? e : real(fd, off, len);
}
