/*
 * bench_parse: the ingest reader's and judge's per-event CPU work on the
 * lines of an NDJSON file, on one core: alog_event_parse (the strict
 * scan, the envelope checks and the canonical bytes) and
 * alog_record_format_parsed (the canonical record around them).
 *
 * The file is read into memory first and each step runs over every line
 * seven times; the best run counts, so the figures are CPU work on bytes
 * in memory. Prints one line:
 *   events=N parse_ns=X record_ns=Y check=H
 * (check: a fold of the records' bytes, so the work cannot be optimised
 * away). A benchmark: it asserts nothing about speed. Every line must be
 * an event that ingest would accept; an event without an id gets a
 * UUIDv7, as ingest gives it one, counted in record_ns.
 *
 * usage: bench_parse NDJSON_FILE
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/clock.h"
#include "ingest/event.h"
#include "store/buf.h"
#include "store/err.h"

#define RUNS 7

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			char *p = realloc(buf, cap ? 2 * cap : (size_t)1 << 20);

			if (!p) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
			cap = cap ? 2 * cap : (size_t)1 << 20;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	if (ferror(f)) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	/* what `auditlog ingest` records for root */
	struct alog_provenance prov = {
		.transport = "stdin", .uid = 0, .gid = -1, .pid = -1,
	};
	struct alog_event ev;
	struct alog_buf rec;
	struct alog_err err = { 0 };
	double best_parse = 1e300, best_rec = 1e300;
	uint64_t fold = 0;
	size_t len = 0, n = 0;
	char *buf;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_parse NDJSON_FILE\n");
		return 2;
	}
	buf = read_all(argv[1], &len);
	if (!buf) {
		fprintf(stderr, "bench_parse: '%s': %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	alog_event_init(&ev);
	alog_buf_init(&rec, 0);
	for (int run = 0; run < RUNS; run++) {
		for (int step = 0; step < 2; step++) {
			double t0 = now_s(), t;
			const char *p = buf, *end = buf + len;

			n = 0;
			while (p < end) {
				const char *nl = memchr(p, '\n',
							(size_t)(end - p));
				size_t l = nl ? (size_t)(nl - p) :
					(size_t)(end - p);

				if (alog_event_parse(&ev, p, l, &err) < 0) {
					fprintf(stderr, "bench_parse: line %zu: %s\n",
						n + 1, err.msg);
					return 1;
				}
				if (step == 1) {
					int64_t at = 1700000000000000 + (int64_t)n;

					alog_buf_reset(&rec);
					if ((!ev.id[0] &&
					     alog_uuid7(at, ev.id, &err) < 0) ||
					    alog_record_format_parsed(
						    n, at, &prov, &ev, &rec,
						    &err) < 0) {
						fprintf(stderr, "bench_parse: line %zu: %s\n",
							n + 1, err.msg);
						return 1;
					}
					fold = fold * 31 + rec.len +
					       rec.data[rec.len / 2];
				}
				n++;
				p = nl ? nl + 1 : end;
			}
			t = now_s() - t0;
			if (step == 0 && t < best_parse)
				best_parse = t;
			if (step == 1 && t < best_rec)
				best_rec = t;
		}
	}
	if (n == 0) {
		fprintf(stderr, "bench_parse: '%s' has no lines\n", argv[1]);
		return 1;
	}
	/* the second step parses too: its own part is the difference */
	printf("events=%zu parse_ns=%.1f record_ns=%.1f check=%016llx\n", n,
	       best_parse * 1e9 / (double)n,
	       (best_rec - best_parse) * 1e9 / (double)n,
	       (unsigned long long)fold);
	alog_event_release(&ev);
	alog_buf_release(&rec);
	free(buf);
	return 0;
}
