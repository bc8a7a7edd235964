/*
 * auditlog: the command (SPEC.md "Command line"). Parses arguments, calls
 * a front door of store/ or ingest/, prints, chooses an exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <poll.h>

#include "ingest/clock.h"
#include "ingest/event.h"
#include "ingest/lines.h"
#include "ingest/json.h"
#include "ingest/log.h"
#include "store/bytes.h"
#include "store/note.h"
#include "store/sign.h"
#include "store/store.h"
#include "tools/cli.h"

#define KEY_FILE_MAX 65536

void cli_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("auditlog: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_fail(const struct alog_err *err)
{
	cli_msg("%s", err->msg[0] ? err->msg : alog_err_name(err->code));
	switch (err->code) {
	case ALOG_EVERIFY:
	case ALOG_ECORRUPT:
		return EXIT_VERIFY;
	default:
		return EXIT_OPER;
	}
}

const char *cli_store_dir(const char *opt)
{
	const char *env = getenv("AUDITLOG_STORE");

	if (opt)
		return opt;
	if (env && *env)
		return env;
	return "./auditlog-data";
}

char *cli_default_key(const char *dir)
{
	size_t n = strlen(dir);
	char *p;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	p = malloc(n + 5);
	if (p) {
		memcpy(p, dir, n);
		memcpy(p + n, ".key", 5);
	}
	return p;
}

int cli_would_block(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

int cli_parse_time(const char *opt, const char *s, int64_t *us)
{
	struct alog_err err = { 0 };

	if (alog_time_parse(s, strlen(s), 1, us, &err) < 0) {
		cli_msg("%s '%s': want an RFC 3339 time or a date YYYY-MM-DD (%s)",
			opt, s, err.msg);
		return -1;
	}
	return 0;
}

int cli_print_record(void *ctx, uint64_t index, const unsigned char *rec,
		     size_t len)
{
	(void)ctx;
	(void)index;
	if (fwrite(rec, 1, len, stdout) != len || putchar('\n') == EOF)
		return ALOG_EIO;
	return 0;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* Read a whole small file (text) into a NUL-terminated malloc'd buffer. */
static char *read_small_file(const char *path, size_t max, size_t *len,
			     struct alog_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *p = NULL;
	size_t n = 0;

	if (fd < 0) {
		alog_err_sys(err, ALOG_EIO, errno, "open '%s': %s", path,
			     strerror(errno));
		return NULL;
	}
	p = malloc(max + 1);
	if (!p) {
		alog_err_set(err, ALOG_ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, p + n, max + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			alog_err_sys(err, ALOG_EIO, errno, "read '%s': %s", path,
				     strerror(errno));
			free(p);
			p = NULL;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			alog_err_set(err, ALOG_ELIMIT,
				     "'%s' is larger than %zu bytes", path, max);
			free(p);
			p = NULL;
			goto out;
		}
	}
	p[n] = 0;
	*len = n;
out:
	close(fd);
	return p;
}

/* ---- usage -------------------------------------------------------- */

static const char usage_main[] =
"usage: auditlog <command> [--store DIR] [options]\n"
"\n"
"A tamper-evident audit event store: events are kept in an append-only,\n"
"compressed log, hashed into an RFC 9162 Merkle tree, and covered by\n"
"Ed25519-signed checkpoints that anyone can check.\n"
"\n"
"commands:\n"
"  init         create a store and its signing key\n"
"  ingest       store NDJSON events from files or stdin\n"
"  info         print the store's origin, key, tree size and root (JSON)\n"
"  checkpoint   sign a checkpoint of the tree if it grew; print the latest\n"
"  export       print canonical records (the exact Merkle leaf inputs)\n"
"  get          print one record\n"
"  prove        inclusion or consistency proof (JSON)\n"
"  verify       recompute every leaf and the tree; check every checkpoint\n"
"  query        the events received in a period: a population (NDJSON)\n"
"  report       the evidence report for a period (A1.2 availability)\n"
"  verify-bundle  check a report's evidence bundle offline\n"
"  serve        run the daemon: producers send events over a socket\n"
"  send         send events to the daemon; back them up when it is down\n"
"  replay       import backup files that send or applications wrote\n"
"  demo         realistic events (NDJSON), or 90 days of history in a store\n"
"\n"
"The store is --store DIR, else $AUDITLOG_STORE, else ./auditlog-data.\n"
"'auditlog <command> --help' explains a command.\n"
"exit status: 0 ok, 1 integrity or verification failure, 2 usage,\n"
"3 operational error, 4 done in part (some input rejected)\n";

static int usage(const char *text, int code)
{
	fputs(text, code == EXIT_OK ? stdout : stderr);
	return code;
}

/* Options every command takes: --store DIR, --help. Returns -1 to go on,
 * else an exit code. Commands list their own options after these. */
enum { OPT_STORE = 1000, OPT_HELP, OPT_KEY, OPT_ORIGIN, OPT_FROM, OPT_TO,
       OPT_SIZE, OPT_VKEY, OPT_CHECKPOINT, OPT_QUIET, OPT_SEGMENT_SIZE,
       OPT_RECORD, OPT_SOCKET };

#define COMMON_OPTS \
	{ "store", required_argument, NULL, OPT_STORE }, \
	{ "help", no_argument, NULL, OPT_HELP }

/* ---- init --------------------------------------------------------- */

static const char usage_init[] =
"usage: auditlog init [--store DIR] [--origin NAME] [--key FILE]\n"
"\n"
"Create an empty store in DIR and a new Ed25519 signing key.\n"
"\n"
"  --origin NAME   the log's name in its checkpoints (default: the host\n"
"                  name followed by /auditlog); no spaces or '+'\n"
"  --key FILE      where to write the signing key (default: DIR.key beside\n"
"                  the store). It is created mode 0600, is never printed,\n"
"                  and must stay outside the store so that a copy of the\n"
"                  store handed to an auditor does not carry it.\n"
"  --segment-size BYTES  rotate segment files at this size (default 256 MiB)\n"
"\n"
"Prints the verifier key (vkey), which auditors use to check checkpoints.\n";

static int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTS,
		{ "origin", required_argument, NULL, OPT_ORIGIN },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "segment-size", required_argument, NULL, OPT_SEGMENT_SIZE },
		{ 0 },
	};
	struct alog_err err = { 0 };
	struct alog_store_options so = { 0 };
	struct alog_signer *signer = NULL;
	struct alog_verifier v;
	const char *store = NULL, *key = NULL, *origin = NULL;
	char *key_alloc = NULL, host[256], origin_buf[ALOG_ORIGIN_MAX + 1];
	char vtext[ALOG_VKEY_MAX + 1];
	int c, code = EXIT_OK;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: store = optarg; break;
		case OPT_KEY: key = optarg; break;
		case OPT_ORIGIN: origin = optarg; break;
		case OPT_SEGMENT_SIZE:
			if (cli_parse_u64(optarg, &so.segment_max) < 0) {
				cli_msg("--segment-size needs a number of bytes");
				return EXIT_USAGE;
			}
			break;
		case OPT_HELP: return usage(usage_init, EXIT_OK);
		default: return usage(usage_init, EXIT_USAGE);
		}
	}
	if (optind != argc)
		return usage(usage_init, EXIT_USAGE);
	store = cli_store_dir(store);
	if (!key)
		key = key_alloc = cli_default_key(store);
	if (!origin) {
		if (gethostname(host, sizeof(host)) < 0 || !host[0])
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = 0;
		snprintf(origin_buf, sizeof(origin_buf), "%.200s/auditlog", host);
		origin = origin_buf;
	}
	if (access(key, F_OK) == 0) {
		cli_msg("key file '%s' exists already; remove it or give --key",
			key);
		code = EXIT_OPER;
		goto out;
	}
	if (alog_signer_generate(origin, &signer, &err) < 0 ||
	    alog_signer_save(signer, key, &err) < 0) {
		code = err.code == ALOG_EINVAL ? EXIT_USAGE : cli_fail(&err);
		if (code == EXIT_USAGE)
			cli_msg("%s", err.msg);
		goto out;
	}
	alog_signer_verifier(signer, &v);
	if (alog_store_create(store, origin, &v, &so, &err) < 0) {
		if (err.code == ALOG_EINVAL) {
			cli_msg("%s", err.msg);
			code = EXIT_USAGE;
		} else {
			code = cli_fail(&err);
		}
		unlink(key);
		goto out;
	}
	alog_verifier_format(&v, vtext);
	printf("%s\n", vtext);
	cli_msg("created store '%s' (origin '%s'); signing key in '%s'", store,
		origin, key);
out:
	alog_signer_free(signer);
	free(key_alloc);
	return code;
}

/* ---- ingest ------------------------------------------------------- */

static const char usage_ingest[] =
"usage: auditlog ingest [--store DIR] [--quiet] [FILE...]\n"
"\n"
"Store audit events, one JSON object per line (NDJSON), from each FILE in\n"
"turn or from standard input ('-' is standard input too). Every valid line\n"
"is stored, even when others are rejected; a rejected line is reported on\n"
"stderr as 'FILE:LINE: reason'. Events are made durable in batches (one\n"
"round of fsyncs per batch); a summary goes to stderr at the end.\n"
"\n"
"An event needs a \"type\"; \"id\" and \"source\" (together the key that\n"
"makes a resend a duplicate instead of a second copy) and \"time\"\n"
"(RFC 3339) are optional. See SPEC.md \"Events\".\n"
"\n"
"  --quiet   no summary, only rejected lines\n"
"\n"
"exit status: 0 all stored (or duplicates), 4 some lines rejected,\n"
"3 operational error (what was acknowledged in the summary is stored)\n";

/* Lines and how they were judged. What was stored is not counted here:
 * the store's growth says it (cmd_ingest), so that a batch that committed
 * on the log's committer thread counts however the run ends. */
struct ingest_stats {
	uint64_t lines, duplicates, rejected;
};

/* ---- ingest on two threads ---------------------------------------------
 *
 * A reader thread reads lines and parses them (alog_event_parse: the
 * JSON checks and the canonical event) into chunks; this thread judges
 * each parsed event into the log's batch and commits, so the two cores
 * share the work. A chunk that ends where the input would block tells
 * the writer to commit: nothing waits on more input. */

#define INGEST_CHUNK 512    /* lines a chunk */
#define INGEST_CHUNKS 16    /* chunks in flight */
/* An event buffer up to this size is kept for the chunk's next use (most
 * events are far smaller); a larger one is freed once its record is in
 * the batch, so the chunks retain at most INGEST_CHUNK * INGEST_CHUNKS *
 * INGEST_KEEP_BYTES = 32 MiB. */
#define INGEST_KEEP_BYTES 4096
#define INGEST_STOP_POLL_MS 100 /* how soon a reader waiting for input
				 * sees that the writer stopped */

enum { IN_LINE, IN_TOO_LONG, IN_BAD };

struct in_item {
	int kind;
	uint64_t line_no;
	struct alog_event ev;
	struct alog_err err;     /* IN_BAD: why */
};

struct in_chunk {
	struct in_item items[INGEST_CHUNK];
	size_t n;
	int idle;                /* the input would block after it */
	uint64_t bytes_read;     /* of the input, when it was handed over */
};

struct in_pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct in_chunk *chunks; /* INGEST_CHUNKS */
	size_t head, tail;       /* filled: [tail, head) */
	int eof, stop, failed;
	int waiting;             /* the reader waits for input */
	struct alog_err err;     /* the reader's failure */
	struct alog_lines lr;
	struct alog_hasher *hasher; /* the reader's, for id keys */
	int fd;
	const char *name;
};

/* alog_lines' wait hook: return when fd has input (or its end), telling
 * the writer meanwhile that the reader waits (so it commits what it
 * holds); ALOG_ESTATE when the writer asked the reader to stop, since a
 * blocked read would keep the reader from ever seeing that. */
static int input_or_stop(void *ctx, struct alog_err *err)
{
	struct in_pipe *p = ctx;
	struct pollfd pf = { .fd = p->fd, .events = POLLIN };
	int rc = 0;

	if (poll(&pf, 1, 0) != 0)
		return 0;  /* input, end, or an error read() will tell */
	pthread_mutex_lock(&p->mu);
	p->waiting = 1;
	pthread_cond_broadcast(&p->cv);
	while (!p->stop) {
		pthread_mutex_unlock(&p->mu);
		rc = poll(&pf, 1, INGEST_STOP_POLL_MS);
		pthread_mutex_lock(&p->mu);
		if (rc != 0)
			break;
	}
	p->waiting = 0;
	rc = p->stop ? alog_err_set(err, ALOG_ESTATE, "stopped") : 0;
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static void *ingest_reader(void *arg)
{
	struct in_pipe *p = arg;
	int rc = 0;

	for (;;) {
		struct in_chunk *c;

		pthread_mutex_lock(&p->mu);
		while (p->head - p->tail >= INGEST_CHUNKS && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		c = &p->chunks[p->head % INGEST_CHUNKS];
		pthread_mutex_unlock(&p->mu);
		c->n = 0;
		c->idle = 0;
		while (c->n < INGEST_CHUNK) {
			struct in_item *it = &c->items[c->n];
			const char *line;
			size_t len;
			int r;

			if (c->n && !alog_lines_buffered(&p->lr) &&
			    cli_would_block(p->fd)) {
				c->idle = 1;
				break;
			}
			r = alog_lines_next(&p->lr, &line, &len, &p->err);
			if (r < 0) {
				alog_err_prefix(&p->err, "%s", p->name);
				rc = r;
				break;
			}
			if (r == ALOG_LINE_EOF)
				break;
			it->line_no = p->lr.line_no;
			it->err = (struct alog_err){ 0 };
			if (r == ALOG_LINE_TOO_LONG) {
				it->kind = IN_TOO_LONG;
			} else if (alog_event_parse(&it->ev, line, len,
						    &it->err) < 0) {
				if (it->ev.reject == ALOG_REJECT_NONE) {
					p->err = it->err; /* out of memory */
					rc = ALOG_ENOMEM;
					break;
				}
				it->kind = IN_BAD;
			} else {
				it->kind = IN_LINE;
				alog_event_id_key(&it->ev, p->hasher);
			}
			c->n++;
		}
		c->bytes_read = p->lr.bytes_read;
		pthread_mutex_lock(&p->mu);
		if (c->n)
			p->head++;
		if (rc < 0)
			p->failed = 1;
		if (rc < 0 || (c->n < INGEST_CHUNK && !c->idle))
			p->eof = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (p->eof)
			return NULL;
	}
}

/* The next filled chunk, or NULL at the end (p->failed says whether the
 * reader failed) or, when the writer holds events (ingest_holds), as soon as
 * the reader waits for input (*idle set: commit now). Release a chunk
 * with chunk_done. */
static struct in_chunk *chunk_next(struct in_pipe *p, int pending, int *idle)
{
	struct in_chunk *c = NULL;

	*idle = 0;
	pthread_mutex_lock(&p->mu);
	while (p->tail == p->head && !p->eof && !(pending && p->waiting))
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->tail != p->head)
		c = &p->chunks[p->tail % INGEST_CHUNKS];
	else if (!p->eof)
		*idle = 1;
	pthread_mutex_unlock(&p->mu);
	return c;
}

static void chunk_done(struct in_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->tail++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* One parsed line into the batch (or its refusal). */
static int ingest_item(struct alog_log *log, const struct in_item *it_c,
		       const char *name, const struct alog_provenance *prov,
		       struct ingest_stats *st, struct alog_err *err)
{
	struct in_item *it = (struct in_item *)it_c;
	struct alog_submit res;
	struct alog_err lerr = { 0 };
	int rc;

	st->lines++;
	if (it->kind == IN_TOO_LONG) {
		st->rejected++;
		cli_msg("%s:%" PRIu64 ": too_long: line is longer than %d bytes",
			name, it->line_no, ALOG_EVENT_LINE_MAX);
		return 0;
	}
	if (it->kind == IN_BAD) {
		st->rejected++;
		cli_msg("%s:%" PRIu64 ": %s: %s", name, it->line_no,
			alog_reject_name(it->ev.reject), it->err.msg);
		return 0;
	}
	if (alog_log_batch_full(log)) {
		rc = alog_log_commit_start(log, err);
		if (rc < 0)
			return rc;
	}
	rc = alog_log_submit_parsed(log, &it->ev, prov, alog_clock_now_us(),
				    0, &res, &lerr);
	if (rc < 0) {
		*err = lerr;
		alog_err_prefix(err, "%s:%" PRIu64, name, it->line_no);
		return rc;
	}
	switch (res.status) {
	case ALOG_SUBMIT_ACCEPTED:
		break;
	case ALOG_SUBMIT_DUPLICATE:
		st->duplicates++;
		break;
	case ALOG_SUBMIT_REJECTED:
		st->rejected++;
		cli_msg("%s:%" PRIu64 ": %s: %s", name, it->line_no, res.code,
			lerr.msg);
		break;
	}
	return 0;
}

/* 1 while the log holds events that are not durable yet: pending, or in
 * the batch in flight (whose failure must end the run as soon as the
 * input waits, as a failed commit of the pending batch does). */
static int ingest_holds(const struct alog_log *log)
{
	return alog_log_pending(log) > 0 || alog_log_in_flight(log) > 0;
}

static int ingest_fd(struct alog_log *log, int fd, const char *name,
		     const struct alog_provenance *prov,
		     struct ingest_stats *st, struct alog_err *err)
{
	struct in_pipe p;
	struct cli_progress pg;
	struct stat sb;
	uint64_t total = 0;
	pthread_t reader;
	int rc;

	memset(&p, 0, sizeof(p));
	p.fd = fd;
	p.name = name;
	/* progress on a terminal, for a file whose size is known */
	cli_progress_init(&pg, "ingesting", "MiB", 1u << 20);
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
		total = (uint64_t)sb.st_size;
	p.chunks = calloc(INGEST_CHUNKS, sizeof(*p.chunks));
	if (!p.chunks)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	for (size_t i = 0; i < INGEST_CHUNKS; i++)
		for (size_t k = 0; k < INGEST_CHUNK; k++)
			alog_event_init(&p.chunks[i].items[k].ev);
	rc = alog_hasher_new(&p.hasher, err);
	if (rc == 0)
		rc = alog_lines_init(&p.lr, fd, ALOG_EVENT_LINE_MAX, err);
	p.lr.wait = input_or_stop;
	p.lr.wait_ctx = &p;
	if (rc == 0 && (pthread_mutex_init(&p.mu, NULL) != 0 ||
			pthread_cond_init(&p.cv, NULL) != 0 ||
			pthread_create(&reader, NULL, ingest_reader, &p) != 0)) {
		alog_lines_release(&p.lr);
		rc = alog_err_set(err, ALOG_ENOMEM, "cannot start the reader");
	}
	if (rc < 0)
		goto out;
	for (;;) {
		int idle;
		struct in_chunk *c = chunk_next(&p, ingest_holds(log), &idle);

		if (!c && idle) {  /* the input waits: make what it holds durable */
			rc = alog_log_commit(log, err);
			if (rc < 0)
				break;
			continue;
		}
		if (!c)
			break;
		for (size_t i = 0; i < c->n && rc == 0; i++) {
			struct alog_event *ev = &c->items[i].ev;

			rc = ingest_item(log, &c->items[i], name, prov, st, err);
			/* the record is in the batch now: a long line's buffer
			 * is not kept for the chunk's next use (the chunks
			 * would hold 8192 of them) */
			if (ev->canon.cap > INGEST_KEEP_BYTES) {
				alog_event_release(ev);
				alog_event_init(ev);
			}
		}
		if (rc == 0 && c->idle && ingest_holds(log))
			rc = alog_log_commit(log, err);
		if (total)
			cli_progress_show(&pg, c->bytes_read < total ?
					  c->bytes_read : total, total);
		chunk_done(&p);
		if (rc < 0)
			break;
	}
	pthread_mutex_lock(&p.mu);
	p.stop = 1;
	pthread_cond_broadcast(&p.cv);
	pthread_mutex_unlock(&p.mu);
	pthread_join(reader, NULL);
	if (rc == 0 && p.failed) {
		*err = p.err;
		rc = err->code ? err->code : ALOG_EIO;
	}
	if (rc == 0)
		rc = alog_log_commit(log, err);
	if (total)
		cli_progress_end(&pg);
	alog_lines_release(&p.lr);
out:
	for (size_t i = 0; i < INGEST_CHUNKS; i++)
		for (size_t k = 0; k < INGEST_CHUNK; k++)
			alog_event_release(&p.chunks[i].items[k].ev);
	free(p.chunks);
	alog_hasher_free(p.hasher);
	return rc;
}

static void print_recovery(const char *store,
			   const struct alog_store_recovery *rec)
{
	if (rec->cut)
		cli_msg("store '%s': cut %" PRIu64
			" uncommitted bytes from segment %" PRIu32
			" at offset %" PRIu64 " (left by an interrupted write; logged as store.recovered)",
			store, rec->cut_bytes, rec->segment_id, rec->cut_from);
	if (rec->removed_segments)
		cli_msg("store '%s': removed %" PRIu32
			" uncommitted segment file(s) (logged as store.recovered)",
			store, rec->removed_segments);
}

static int cmd_ingest(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTS,
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ 0 },
	};
	struct alog_err err = { 0 };
	struct alog_store_recovery rec;
	struct alog_log *log = NULL;
	struct ingest_stats st = { 0 };
	struct alog_provenance prov = {
		.transport = "stdin",
		.uid = (int64_t)getuid(),
		.gid = -1,
		.pid = -1,
	};
	const char *store = NULL;
	uint64_t first, size;
	int c, quiet = 0, code = EXIT_OK, rc = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: store = optarg; break;
		case OPT_QUIET: quiet = 1; break;
		case OPT_HELP: return usage(usage_ingest, EXIT_OK);
		default: return usage(usage_ingest, EXIT_USAGE);
		}
	}
	store = cli_store_dir(store);
	memset(&rec, 0, sizeof(rec));
	rc = alog_log_open(store, alog_clock_now_us(), &log, &rec, &err);
	print_recovery(store, &rec); /* also when logging it failed */
	if (rc < 0)
		return cli_fail(&err);
	/* only this run's batches follow: they are the growth from here */
	first = alog_store_size(alog_log_store(log));
	if (optind == argc) {
		rc = ingest_fd(log, 0, "stdin", &prov, &st, &err);
	}
	for (int i = optind; i < argc && rc == 0; i++) {
		int fd = 0;

		if (strcmp(argv[i], "-") != 0) {
			fd = open(argv[i], O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				rc = alog_err_sys(&err, ALOG_EIO, errno,
						  "open '%s': %s", argv[i],
						  strerror(errno));
				break;
			}
		}
		rc = ingest_fd(log, fd, fd ? argv[i] : "stdin", &prov, &st,
			       &err);
		if (fd)
			close(fd);
	}
	if (rc < 0) {
		code = cli_fail(&err);
		if (code == EXIT_VERIFY)
			code = EXIT_OPER;
		alog_log_discard(log); /* waits for a batch in flight */
	} else if (st.rejected) {
		code = EXIT_PARTIAL;
	}
	size = alog_store_size(alog_log_store(log));
	if (!quiet || rc < 0) {
		if (size > first)
			cli_msg("stored %" PRIu64 " event%s (index %" PRIu64 "..%" PRIu64
				"), %" PRIu64 " duplicates, %" PRIu64
				" rejected, of %" PRIu64 " lines; tree size %" PRIu64,
				size - first, size - first == 1 ? "" : "s",
				first, size - 1, st.duplicates, st.rejected,
				st.lines, size);
		else
			cli_msg("stored 0 events, %" PRIu64 " duplicates, %" PRIu64
				" rejected, of %" PRIu64 " lines; tree size %" PRIu64,
				st.duplicates, st.rejected, st.lines, size);
		if (rc < 0)
			cli_msg("events after the last stored one were not stored");
	}
	alog_log_close(log);
	return code;
}

/* ---- read-only commands ------------------------------------------- */

static int open_ro(const char *store, struct alog_store **s,
		   struct alog_err *err)
{
	return alog_store_open(cli_store_dir(store), ALOG_STORE_RDONLY, s, NULL,
			       err);
}

static void print_hex(const unsigned char *h)
{
	char hex[2 * ALOG_HASH_LEN + 1];

	alog_hex_encode(h, ALOG_HASH_LEN, hex);
	fputs(hex, stdout);
}

static const char usage_info[] =
"usage: auditlog info [--store DIR]\n"
"\n"
"Print one JSON object about the store: origin, vkey (the verifier key),\n"
"tree_size, root_hash (hex), checkpoints and the latest checkpoint's size\n"
"and signing time.\n";

static int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = { COMMON_OPTS, { 0 } };
	struct alog_err err = { 0 };
	struct alog_store *s = NULL;
	struct alog_store_checkpoint ck = { 0 };
	unsigned char root[ALOG_HASH_LEN];
	char vtext[ALOG_VKEY_MAX + 1], t[ALOG_TIME_TEXT_MAX];
	const char *store = NULL;
	uint64_t n_ck;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: store = optarg; break;
		case OPT_HELP: return usage(usage_info, EXIT_OK);
		default: return usage(usage_info, EXIT_USAGE);
		}
	}
	if (optind != argc)
		return usage(usage_info, EXIT_USAGE);
	if (open_ro(store, &s, &err) < 0)
		return cli_fail(&err);
	alog_verifier_format(alog_store_vkey(s), vtext);
	if (alog_store_root_at(s, alog_store_size(s), root, &err) < 0) {
		alog_store_close(s);
		return cli_fail(&err);
	}
	n_ck = alog_store_checkpoint_count(s);
	printf("{\"store\":\"%s\",\"origin\":\"%s\",\"vkey\":\"%s\",\"tree_size\":%" PRIu64
	       ",\"root_hash\":\"", cli_store_dir(store), alog_store_origin(s),
	       vtext, alog_store_size(s));
	print_hex(root);
	printf("\",\"checkpoints\":%" PRIu64, n_ck);
	if (n_ck && alog_store_checkpoint_get(s, n_ck - 1, &ck, &err) == 0) {
		if (alog_time_format(ck.signed_us, t) < 0)
			snprintf(t, sizeof(t), "unknown");
		printf(",\"latest_checkpoint\":{\"size\":%" PRIu64
		       ",\"signed\":\"%s\"}", ck.size, t);
		alog_store_checkpoint_release(&ck);
	}
	printf(",\"format\":%u}\n", alog_store_format(s));
	alog_store_close(s);
	return EXIT_OK;
}

static int load_signer(const char *store, const char *key,
		       struct alog_signer **out, struct alog_err *err)
{
	char *def = NULL;
	int rc;

	if (!key)
		key = def = cli_default_key(store);
	rc = alog_signer_load(key, out, err);
	free(def);
	return rc;
}

static const char usage_checkpoint[] =
"usage: auditlog checkpoint [--store DIR] [--key FILE]\n"
"\n"
"If the tree grew since the latest checkpoint, sign a new one (C2SP\n"
"tlog-checkpoint in a signed note) and log it as a checkpoint.signed\n"
"event; then print the latest checkpoint. Save it: 'auditlog verify\n"
"--vkey KEY --checkpoint FILE' later proves the log only grew since.\n"
"\n"
"  --key FILE   the signing key (default: DIR.key beside the store)\n";

static int cmd_checkpoint(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTS,
		{ "key", required_argument, NULL, OPT_KEY },
		{ 0 },
	};
	struct alog_err err = { 0 };
	struct alog_store_recovery rec;
	struct alog_log *log = NULL;
	struct alog_signer *signer = NULL;
	struct alog_store_checkpoint ck = { 0 };
	const char *store = NULL, *key = NULL;
	int c, code = EXIT_OK;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: store = optarg; break;
		case OPT_KEY: key = optarg; break;
		case OPT_HELP: return usage(usage_checkpoint, EXIT_OK);
		default: return usage(usage_checkpoint, EXIT_USAGE);
		}
	}
	if (optind != argc)
		return usage(usage_checkpoint, EXIT_USAGE);
	store = cli_store_dir(store);
	if (load_signer(store, key, &signer, &err) < 0)
		return cli_fail(&err);
	memset(&rec, 0, sizeof(rec));
	c = alog_log_open(store, alog_clock_now_us(), &log, &rec, &err);
	print_recovery(store, &rec); /* also when logging it failed */
	if (c < 0) {
		code = cli_fail(&err);
		goto out;
	}
	if (alog_log_checkpoint(log, signer, alog_clock_now_us(), &ck, &err) < 0) {
		code = cli_fail(&err);
		goto out;
	}
	fwrite(ck.note.data, 1, ck.note.len, stdout);
out:
	alog_store_checkpoint_release(&ck);
	alog_log_close(log);
	alog_signer_free(signer);
	return code;
}

static const char usage_export[] =
"usage: auditlog export [--store DIR] [--from I] [--to I]\n"
"\n"
"Print canonical records, one per line, in index order: records I with\n"
"from <= I < to (default: all). Each line without its newline is the\n"
"exact Merkle leaf input, so anyone can recompute the tree:\n"
"leaf = SHA-256(0x00 || line), node = SHA-256(0x01 || left || right).\n";


static int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTS,
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ 0 },
	};
	struct alog_err err = { 0 };
	struct alog_store *s = NULL;
	const char *store = NULL;
	uint64_t from = 0, to = UINT64_MAX;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: store = optarg; break;
		case OPT_FROM:
		case OPT_TO:
			if (cli_parse_u64(optarg, c == OPT_FROM ? &from : &to) < 0) {
				cli_msg("--%s needs a record index",
					c == OPT_FROM ? "from" : "to");
				return EXIT_USAGE;
			}
			break;
		case OPT_HELP: return usage(usage_export, EXIT_OK);
		default: return usage(usage_export, EXIT_USAGE);
		}
	}
	if (optind != argc)
		return usage(usage_export, EXIT_USAGE);
	if (open_ro(store, &s, &err) < 0)
		return cli_fail(&err);
	if (to > alog_store_size(s))
		to = alog_store_size(s);
	if (from > to) {
		cli_msg("--from %" PRIu64 " is past --to %" PRIu64
			" (the log has %" PRIu64 " records)", from, to,
			alog_store_size(s));
		alog_store_close(s);
		return EXIT_USAGE;
	}
	rc = alog_store_read(s, from, to, cli_print_record, NULL, &err);
	alog_store_close(s);
	if (rc == ALOG_EIO && !err.msg[0])
		alog_err_set(&err, ALOG_EIO, "write to standard output failed");
	if (rc < 0)
		return cli_fail(&err);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_OPER;
}

static const char usage_get[] =
"usage: auditlog get [--store DIR] INDEX\n"
"\n"
"Print the canonical record at INDEX (from 0).\n";

static int cmd_get(int argc, char **argv)
{
	static const struct option opts[] = { COMMON_OPTS, { 0 } };
	struct alog_err err = { 0 };
	struct alog_store *s = NULL;
	struct alog_buf b;
	const char *store = NULL;
	uint64_t index;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: store = optarg; break;
		case OPT_HELP: return usage(usage_get, EXIT_OK);
		default: return usage(usage_get, EXIT_USAGE);
		}
	}
	if (optind + 1 != argc || cli_parse_u64(argv[optind], &index) < 0)
		return usage(usage_get, EXIT_USAGE);
	if (open_ro(store, &s, &err) < 0)
		return cli_fail(&err);
	if (index >= alog_store_size(s)) {
		cli_msg("no record %" PRIu64 ": the log has %" PRIu64 " records",
			index, alog_store_size(s));
		alog_store_close(s);
		return EXIT_USAGE;
	}
	alog_buf_init(&b, 0);
	rc = alog_store_get(s, index, &b, &err);
	if (rc == 0)
		printf("%s\n", (const char *)b.data);
	alog_buf_release(&b);
	alog_store_close(s);
	return rc < 0 ? cli_fail(&err) : EXIT_OK;
}

static const char usage_prove[] =
"usage: auditlog prove inclusion [--store DIR] INDEX [--size N]\n"
"       auditlog prove consistency [--store DIR] OLD [NEW]\n"
"\n"
"Print an RFC 9162 proof as JSON, hashes in lowercase hex:\n"
"  inclusion    {\"index\",\"tree_size\",\"leaf_hash\",\"root_hash\",\"proof\":[...]}\n"
"               that record INDEX is in the tree of size N (default: the\n"
"               whole log; use a checkpoint's size to check against it)\n"
"  consistency  {\"old_size\",\"new_size\",\"old_root\",\"new_root\",\"proof\":[...]}\n"
"               that the tree of size OLD is a prefix of the tree of size\n"
"               NEW (default: the whole log); OLD=0 or OLD=NEW gives []\n";

static void print_proof(unsigned char (*proof)[ALOG_HASH_LEN], size_t n)
{
	fputs("\"proof\":[", stdout);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\"" : "\"", stdout);
		print_hex(proof[i]);
		fputc('"', stdout);
	}
	fputs("]}\n", stdout);
}

static int cmd_prove(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTS,
		{ "size", required_argument, NULL, OPT_SIZE },
		{ 0 },
	};
	struct alog_err err = { 0 };
	struct alog_store *s = NULL;
	unsigned char proof[ALOG_MERKLE_PROOF_MAX][ALOG_HASH_LEN];
	unsigned char a[ALOG_HASH_LEN], b[ALOG_HASH_LEN];
	const char *store = NULL, *kind;
	uint64_t x, y = UINT64_MAX, size = UINT64_MAX;
	size_t n;
	int c, rc, inclusion;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return usage(usage_prove, argc < 2 ? EXIT_USAGE : EXIT_OK);
	kind = argv[1];
	if (strcmp(kind, "inclusion") && strcmp(kind, "consistency"))
		return usage(usage_prove, EXIT_USAGE);
	inclusion = kind[0] == 'i';
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: store = optarg; break;
		case OPT_SIZE:
			if (!inclusion || cli_parse_u64(optarg, &size) < 0)
				return usage(usage_prove, EXIT_USAGE);
			break;
		case OPT_HELP: return usage(usage_prove, EXIT_OK);
		default: return usage(usage_prove, EXIT_USAGE);
		}
	}
	if (optind >= argc || cli_parse_u64(argv[optind], &x) < 0)
		return usage(usage_prove, EXIT_USAGE);
	if (!inclusion && optind + 1 < argc &&
	    cli_parse_u64(argv[optind + 1], &y) < 0)
		return usage(usage_prove, EXIT_USAGE);
	if (argc - optind > (inclusion ? 1 : 2))
		return usage(usage_prove, EXIT_USAGE);
	if (open_ro(store, &s, &err) < 0)
		return cli_fail(&err);
	if (inclusion) {
		if (size == UINT64_MAX)
			size = alog_store_size(s);
		rc = alog_store_prove_inclusion(s, x, size, proof, &n, &err);
		if (rc == 0)
			rc = alog_store_leaf_hash(s, x, a, &err);
		if (rc == 0)
			rc = alog_store_root_at(s, size, b, &err);
		if (rc == 0) {
			printf("{\"index\":%" PRIu64 ",\"tree_size\":%" PRIu64
			       ",\"leaf_hash\":\"", x, size);
			print_hex(a);
			fputs("\",\"root_hash\":\"", stdout);
			print_hex(b);
			fputs("\",", stdout);
			print_proof(proof, n);
		}
	} else {
		if (y == UINT64_MAX)
			y = alog_store_size(s);
		rc = alog_store_prove_consistency(s, x, y, proof, &n, &err);
		if (rc == 0)
			rc = alog_store_root_at(s, x, a, &err);
		if (rc == 0)
			rc = alog_store_root_at(s, y, b, &err);
		if (rc == 0) {
			printf("{\"old_size\":%" PRIu64 ",\"new_size\":%" PRIu64
			       ",\"old_root\":\"", x, y);
			print_hex(a);
			fputs("\",\"new_root\":\"", stdout);
			print_hex(b);
			fputs("\",", stdout);
			print_proof(proof, n);
		}
	}
	alog_store_close(s);
	if (rc == ALOG_EINVAL) {
		cli_msg("%s", err.msg);
		return EXIT_USAGE;
	}
	return rc < 0 ? cli_fail(&err) : EXIT_OK;
}

static const char usage_verify[] =
"usage: auditlog verify [--store DIR] [--vkey KEY] [--checkpoint FILE]\n"
"                       [--record [--socket PATH]]\n"
"\n"
"Read every record, check its block's checksum and its canonical form,\n"
"recompute every leaf and the whole Merkle tree, compare every stored tree\n"
"node, and check every stored checkpoint's signature and root. Names the\n"
"first bad record index.\n"
"\n"
"  --vkey KEY         the verifier key (text, or a file holding it) that\n"
"                     the checkpoints must be signed with; default: the\n"
"                     key recorded in the store (which a forger controls)\n"
"  --checkpoint FILE  a checkpoint saved earlier ('auditlog checkpoint'):\n"
"                     also prove the log still extends it. Together with\n"
"                     --vkey this catches a log rebuilt from scratch.\n"
"  --record           record the run in the log as an integrity.verified\n"
"                     event (result, tree size, checkpoints, the bad index\n"
"                     and error, duration): the evidence of a scheduled\n"
"                     verification that reports count (CC7.2). Written\n"
"                     under the store's writer lock, or, while a daemon\n"
"                     holds it, through the daemon's socket (which takes\n"
"                     it from the store's owner or root only)\n"
"  --socket PATH      the daemon's socket (default: DIR/auditlog.sock)\n"
"\n"
"exit status: 0 verified, 1 verification failed, 3 could not run (or\n"
"could not record)\n";

void cli_progress_init(struct cli_progress *p, const char *what,
		       const char *unit, uint64_t scale)
{
	p->tty = isatty(2);
	p->last_pct = -1;
	p->what = what;
	p->unit = unit;
	p->scale = scale ? scale : 1;
}

void cli_progress_show(void *ctx, uint64_t done, uint64_t total)
{
	struct cli_progress *p = ctx;
	int pct = total ? (int)(done * 100 / total) : 100;

	if (!p->tty || pct == p->last_pct)
		return;
	p->last_pct = pct;
	fprintf(stderr, "\rauditlog: %s %" PRIu64 " of %" PRIu64 " %s (%d%%)",
		p->what, done / p->scale, total / p->scale, p->unit, pct);
	if (done == total)
		fputc('\n', stderr);
}

void cli_progress_end(struct cli_progress *p)
{
	if (p->tty && p->last_pct >= 0 && p->last_pct < 100)
		fputc('\n', stderr);
}

/* integrity.verified (SPEC.md 11.1): the run's result, in the log. */
static int record_verified(const char *store, const char *socket, int rc,
			   const struct alog_verify_result *res,
			   const char *why, int64_t took_us)
{
	struct alog_err err = { 0 };
	struct cli_recorder rec = { 0 };
	struct alog_buf m;
	int r;

	alog_buf_init(&m, 8192);
	r = alog_buf_addf(&m, &err,
			  "\"result\":\"%s\",\"tree_size\":%" PRIu64
			  ",\"checkpoints\":%" PRIu64 ",\"anchored\":%s,"
			  "\"bad_index\":", rc == 0 ? "pass" : "fail",
			  res->tree_size, res->n_checkpoints,
			  res->anchored ? "true" : "false");
	if (r == 0 && res->bad_index != UINT64_MAX)
		r = alog_buf_addf(&m, &err, "%" PRIu64, res->bad_index);
	else if (r == 0)
		r = alog_buf_adds(&m, "null", &err);
	if (r == 0)
		r = alog_buf_adds(&m, ",\"error\":", &err);
	if (r == 0 && rc == 0)
		r = alog_buf_adds(&m, "null", &err);
	else if (r == 0)
		r = alog_json_string_format(&m, why, strlen(why), &err);
	if (r == 0)
		r = alog_buf_addf(&m, &err, ",\"duration_ms\":%" PRId64,
				  took_us / 1000);
	if (r == 0)
		r = cli_recorder_open(store, socket, &rec, &err);
	if (r == 0)
		r = cli_recorder_append(&rec, "integrity.verified",
					(const char *)m.data, &err);
	cli_recorder_close(&rec);
	alog_buf_release(&m);
	if (r < 0)
		cli_msg("the run could not be recorded as integrity.verified: %s",
			err.msg);
	return r;
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_OPTS,
		{ "vkey", required_argument, NULL, OPT_VKEY },
		{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
		{ "record", no_argument, NULL, OPT_RECORD },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ 0 },
	};
	struct alog_err err = { 0 };
	struct alog_verifier v;
	struct alog_verify_result res;
	int record = 0;
	int64_t started = alog_clock_now_us();
	struct cli_progress pc;
	struct alog_store_check_progress prog = { cli_progress_show, &pc };
	const char *store = NULL, *vkey = NULL, *ckpt = NULL, *sock = NULL;
	char *vtext = NULL, *note = NULL;
	size_t note_len = 0;
	int c, rc, code = EXIT_OK;

	cli_progress_init(&pc, "verifying", "records", 1);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: store = optarg; break;
		case OPT_VKEY: vkey = optarg; break;
		case OPT_CHECKPOINT: ckpt = optarg; break;
		case OPT_RECORD: record = 1; break;
		case OPT_SOCKET: sock = optarg; break;
		case OPT_HELP: return usage(usage_verify, EXIT_OK);
		default: return usage(usage_verify, EXIT_USAGE);
		}
	}
	if (optind != argc)
		return usage(usage_verify, EXIT_USAGE);
	if (ckpt && !vkey) {
		cli_msg("--checkpoint needs --vkey: a saved checkpoint is only as good as the key that checks it");
		return EXIT_USAGE;
	}
	if (vkey) {
		size_t len = strlen(vkey);
		const char *text = vkey;

		if (!strchr(vkey, '+')) {
			vtext = read_small_file(vkey, ALOG_VKEY_MAX + 2, &len, &err);
			if (!vtext)
				return cli_fail(&err);
			while (len && (vtext[len - 1] == '\n' || vtext[len - 1] == '\r'))
				len--;
			text = vtext;
		}
		if (alog_verifier_parse(text, len, &v, &err) < 0) {
			cli_msg("bad --vkey: %s", err.msg);
			code = EXIT_USAGE;
			goto out;
		}
	}
	if (ckpt) {
		note = read_small_file(ckpt, ALOG_NOTE_MAX, &note_len, &err);
		if (!note) {
			code = cli_fail(&err);
			goto out;
		}
	}
	memset(&res, 0, sizeof(res));
	res.bad_index = UINT64_MAX;
	rc = alog_log_verify(cli_store_dir(store), vkey ? &v : NULL, note,
			     note_len, &prog, &res, &err);
	cli_progress_end(&pc);
	if (record && (rc == 0 || rc == ALOG_ECORRUPT || rc == ALOG_EVERIFY) &&
	    record_verified(cli_store_dir(store), sock, rc, &res, err.msg,
			    alog_clock_now_us() - started) < 0)
		code = EXIT_OPER;
	if (rc < 0) {
		if (rc == ALOG_ECORRUPT || rc == ALOG_EVERIFY) {
			if (res.bad_index != UINT64_MAX)
				cli_msg("verification failed at index %" PRIu64 ": %s",
					res.bad_index, err.msg);
			else
				cli_msg("verification failed: %s", err.msg);
			code = EXIT_VERIFY;
		} else {
			code = cli_fail(&err);
		}
		goto out;
	}
	printf("{\"verified\":true,\"tree_size\":%" PRIu64 ",\"checkpoints\":%" PRIu64,
	       res.tree_size, res.n_checkpoints);
	if (res.anchored)
		printf(",\"extends_checkpoint_of_size\":%" PRIu64, res.anchor_size);
	printf("}\n");
out:
	free(vtext);
	free(note);
	return code;
}

/* ---- main --------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{ "init", cmd_init },         { "ingest", cmd_ingest },
	{ "info", cmd_info },         { "checkpoint", cmd_checkpoint },
	{ "export", cmd_export },     { "get", cmd_get },
	{ "prove", cmd_prove },       { "verify", cmd_verify },
	{ "demo", cmd_demo },          { "serve", cmd_serve },
	{ "send", cmd_send },         { "replay", cmd_replay },
	{ "query", cmd_query },       { "report", cmd_report },
	{ "verify-bundle", cmd_verify_bundle },
};

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(usage_main, EXIT_USAGE);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help"))
		return usage(usage_main, EXIT_OK);
	if (!strcmp(argv[1], "--version")) {
		printf("auditlog %s\n", ALOG_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			return commands[i].fn(argc - 1, argv + 1);
		}
	}
	cli_msg("'%s' is not a command; see 'auditlog --help'", argv[1]);
	return EXIT_USAGE;
}
