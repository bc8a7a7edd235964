/*
 * bench_serve: load generator for `auditlog serve` (SPEC.md section 15).
 * P producer threads each open a Unix socket connection, send E events
 * pipelined (at most W without an answer), and time every answer against
 * its send. Prints one JSON line: events, seconds, acked events per second
 * and answer latency percentiles. A benchmark, not a test: it asserts
 * nothing about speed, and exits non-zero only when an event was not
 * acknowledged.
 *
 * Ids are UUIDv7s from the clock, as the client library makes them.
 *
 * usage: bench_serve SOCKET PRODUCERS EVENTS_PER_PRODUCER [WINDOW] [TAG]
 * Also: bench_serve --print PRODUCERS EVENTS [TAG] prints the same events
 * as NDJSON (for the stdin baseline).
 *
 * Each producer writes a line a system call, as an application that sends
 * each event when it happens; BENCH_WRITES=window makes it write the lines
 * its window has room for in one call, as `auditlog send` and a batching
 * client do (SPEC.md 15.7 "Batched writes").
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *tag = "b";
static int window_writes;  /* BENCH_WRITES=window */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A UUIDv7 (SPEC.md 3) from the clock, as the client library makes its
 * ids; rand_b holds the tag's hash, the producer and the event number,
 * so that ids are distinct within and across runs. */
static void uuid7(char out[37], unsigned p, unsigned i)
{
	struct timespec ts;
	uint64_t ms, sub, rb, th = UINT64_C(1469598103934665603);

	for (const char *t = tag; *t; t++)
		th = (th ^ (unsigned char)*t) * UINT64_C(1099511628211);
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	sub = (uint64_t)(ts.tv_nsec % 1000000) * 4096 / 1000000;
	rb = (th & 0x3fff) << 48 | (uint64_t)(p & 0xff) << 40 |
	     ((uint64_t)i & UINT64_C(0xffffffffff));
	snprintf(out, 37, "%08" PRIx64 "-%04" PRIx64 "-7%03" PRIx64 "-%04" PRIx64
		 "-%012" PRIx64, (ms >> 16) & 0xffffffffu, ms & 0xffff,
		 sub & 0xfff, (uint64_t)0x8000 | (rb >> 48 & 0x3fff),
		 rb & (uint64_t)0xffffffffffff);
}

/* A realistic event of about 370 bytes. */
static int format_event(char *out, size_t cap, unsigned p, unsigned i)
{
	static const char *const users[] = { "alice@example.com",
		"bob@example.com", "carol@example.com", "dave@example.com" };
	char id[37];

	uuid7(id, p, i);
	return snprintf(out, cap,
		"{\"type\":\"auth.login\",\"id\":\"%s\",\"source\":\"bench-%u\","
		"\"time\":\"2026-01-05T08:%02u:%02u.%06uZ\",\"actor\":\"%s\","
		"\"outcome\":\"%s\",\"source_ip\":\"10.%u.%u.%u\",\"mfa\":true,"
		"\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\","
		"\"session\":\"s-%08x%08x\",\"tenant\":\"acme-corp\",\"region\":\"eu-west-1\","
		"\"request_id\":\"req-%u-%u\"}\n",
		id, p, (i / 60) % 60, i % 60, (i * 7919u) % 1000000u,
		users[i % 4], i % 10 ? "success" : "failure", p % 256,
		(i >> 8) % 256, i % 256, p * 2654435761u, i * 40503u, p, i);
}

struct producer {
	const char *path;
	unsigned id, n, window;
	int64_t *lat_ns;   /* n entries */
	unsigned acked, failed;
	int err;
};

static void *run(void *arg)
{
	struct producer *pr = arg;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t *sent = calloc(pr->n, sizeof(*sent));
	size_t cap = 1024 * (size_t)(window_writes ? pr->window : 1);
	char *line = malloc(cap), rbuf[65536];
	size_t rlen = 0;
	unsigned next = 0, got = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", pr->path);
	if (!sent || !line || fd < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		pr->err = errno ? errno : ENOMEM;
		goto out;
	}
	while (got < pr->n) {
		/* Fill the window, then read what answers are there. */
		while (next < pr->n && next - got < pr->window) {
			ssize_t w, off = 0, len = 0;

			/* one line, or as many as the window has room for */
			do {
				sent[next] = now_ns();
				len += format_event(line + len, 1024, pr->id,
						    next);
				next++;
			} while (window_writes && next < pr->n &&
				 next - got < pr->window);
			while (off < len) {
				w = write(fd, line + off, (size_t)(len - off));
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					pr->err = errno;
					goto out;
				}
				off += w;
			}
		}
		{
			ssize_t r = read(fd, rbuf + rlen, sizeof(rbuf) - rlen);
			char *p, *nl;

			if (r <= 0) {
				pr->err = r < 0 ? errno : EPIPE;
				goto out;
			}
			rlen += (size_t)r;
			p = rbuf;
			while ((nl = memchr(p, '\n', rlen - (size_t)(p - rbuf)))) {
				pr->lat_ns[got] = now_ns() - sent[got];
				if (strncmp(p, "{\"ok\":true", 10) == 0)
					pr->acked++;
				else
					pr->failed++;
				got++;
				p = nl + 1;
			}
			rlen -= (size_t)(p - rbuf);
			memmove(rbuf, p, rlen);
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(sent);
	free(line);
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct producer *prs;
	pthread_t *th;
	unsigned np, ne, window = 256;
	int64_t t0, t1, *all;
	uint64_t total = 0, acked = 0, failed = 0;
	size_t k = 0;

	if (argc >= 4 && strcmp(argv[1], "--print") == 0) {
		char line[1024];

		np = (unsigned)strtoul(argv[2], NULL, 10);
		ne = (unsigned)strtoul(argv[3], NULL, 10);
		if (argc > 4)
			tag = argv[4];
		for (unsigned p = 0; p < np; p++)
			for (unsigned i = 0; i < ne; i++) {
				format_event(line, sizeof(line), p, i);
				fputs(line, stdout);
			}
		return 0;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: bench_serve SOCKET PRODUCERS EVENTS [WINDOW] [TAG]\n"
				"       bench_serve --print PRODUCERS EVENTS [TAG]\n");
		return 2;
	}
	np = (unsigned)strtoul(argv[2], NULL, 10);
	ne = (unsigned)strtoul(argv[3], NULL, 10);
	window_writes = getenv("BENCH_WRITES") &&
			strcmp(getenv("BENCH_WRITES"), "window") == 0;
	if (argc > 4)
		window = (unsigned)strtoul(argv[4], NULL, 10);
	if (argc > 5)
		tag = argv[5];
	prs = calloc(np, sizeof(*prs));
	th = calloc(np, sizeof(*th));
	all = calloc((size_t)np * ne, sizeof(*all));
	if (!prs || !th || !all || !np || !ne || !window)
		return 2;
	t0 = now_ns();
	for (unsigned p = 0; p < np; p++) {
		prs[p] = (struct producer){ argv[1], p, ne, window, NULL, 0, 0, 0 };
		prs[p].lat_ns = all + (size_t)p * ne;
		pthread_create(&th[p], NULL, run, &prs[p]);
	}
	for (unsigned p = 0; p < np; p++)
		pthread_join(th[p], NULL);
	t1 = now_ns();
	for (unsigned p = 0; p < np; p++) {
		acked += prs[p].acked;
		failed += prs[p].failed;
		total += ne;
		if (prs[p].err)
			fprintf(stderr, "bench_serve: producer %u: %s\n", p,
				strerror(prs[p].err));
	}
	k = (size_t)(acked + failed);
	{
		/* Latencies of answered events only (they are stored first). */
		int64_t *lat = calloc(k ? k : 1, sizeof(*lat));
		size_t m = 0;

		for (unsigned p = 0; p < np; p++)
			for (unsigned i = 0; i < prs[p].acked + prs[p].failed; i++)
				lat[m++] = prs[p].lat_ns[i];
		qsort(lat, m, sizeof(*lat), cmp_i64);
		printf("{\"producers\":%u,\"events\":%" PRIu64 ",\"acked\":%" PRIu64
		       ",\"seconds\":%.3f,\"acked_per_s\":%.0f,\"p50_ms\":%.3f,"
		       "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
		       np, total, acked, (double)(t1 - t0) / 1e9,
		       (double)acked / ((double)(t1 - t0) / 1e9),
		       m ? (double)lat[m / 2] / 1e6 : 0.0,
		       m ? (double)lat[m * 9 / 10] / 1e6 : 0.0,
		       m ? (double)lat[m * 99 / 100] / 1e6 : 0.0,
		       m ? (double)lat[m - 1] / 1e6 : 0.0);
		free(lat);
	}
	free(prs);
	free(th);
	free(all);
	return acked == total ? 0 : 1;
}
