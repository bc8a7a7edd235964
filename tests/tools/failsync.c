/*
 * failsync: an LD_PRELOAD shim for fault tests (tests/cli/test_serve.py).
 * While the file named by $ALOG_FAILSYNC_FLAG exists, fsync and fdatasync
 * of a file whose path contains $ALOG_FAILSYNC_MATCH fail with EIO, as a
 * failing disk would make them. Everything else goes to the C library.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*sync_fn)(int);

/* The C library's function (dlsym gives an object pointer; POSIX lets it
 * be copied into a function pointer). */
static sync_fn next_fn(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	sync_fn f;

	memcpy(&f, &p, sizeof(f));
	return f;
}

static int should_fail(int fd)
{
	const char *flag = getenv("ALOG_FAILSYNC_FLAG");
	const char *match = getenv("ALOG_FAILSYNC_MATCH");
	char link[64], path[PATH_MAX];
	ssize_t n;

	if (!flag || !match || access(flag, F_OK) != 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = 0;
	return strstr(path, match) != NULL;
}

int fsync(int fd)
{
	sync_fn real = next_fn("fsync");

	if (should_fail(fd)) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}

int fdatasync(int fd)
{
	sync_fn real = next_fn("fdatasync");

	if (should_fail(fd)) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}
