/*
 * send: `auditlog send` (SPEC.md sections 15 and 16). Reads NDJSON and
 * hands every line to the client library's sender (ingest/client.h),
 * which gives events their ids, sends them pipelined and falls back to the
 * backup file; this file only parses options, prints one answer per input
 * line and chooses the exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest/client.h"
#include "ingest/lines.h"
#include "tools/cli.h"

/* Bytes of waiting lines at which they are written (SPEC.md 15.7 "Batched
 * writes"); the lines of each read of the input are written together
 * before the next read anyway. */
#define ALOG_SEND_BATCH_BYTES 65536

static const char usage_send[] =
"usage: auditlog send [--socket PATH | --connect HOST:PORT] [--backup FILE]\n"
"                     [--store DIR] [--timeout S] [--quiet] [FILE...]\n"
"\n"
"Send audit events, one JSON object per line (NDJSON), from each FILE in\n"
"turn or from standard input ('-' is standard input too), to the daemon\n"
"('auditlog serve'), and print its answer to every line, in input order:\n"
"  {\"ok\":true,\"seq\":N}                    stored as record N\n"
"  {\"ok\":true,\"duplicate\":true,\"seq\":N}   stored before, as record N\n"
"  {\"ok\":true,\"spooled\":true,\"id\":\"ID\"}   in the daemon's spool\n"
"  {\"ok\":false,\"code\":C,\"retry\":R,\"error\":M}  not stored, with why\n"
"Answers made here use the last form, with code \"backed_up\" (in the\n"
"backup file), \"no_answer\" (the connection ended first: the event may be\n"
"stored), \"not_sent\", or the reason a line is no event (\"not_json\"...).\n"
"\n"
"Every event without an \"id\" gets one (a UUIDv7, inserted as its first\n"
"member) before it is first sent, so that a copy sent again - from the\n"
"backup file, or after an unanswered send - is a duplicate, never a\n"
"second record. (Running send twice on input without ids sends two sets\n"
"of events: give events ids of your own to make that safe.) Lines are\n"
"sent without waiting for each answer (at most 1024 unanswered), the\n"
"lines of each read of the input written together (every 64 KiB of them\n"
"at once); each FILE's answers come before the next FILE is opened.\n"
"\n"
"When the daemon can't be reached, or the connection breaks, or it says\n"
"\"retry later\", every event not yet acknowledged is appended to the\n"
"backup FILE (SPEC.md section 16: JSON lines in a SHA-256 chain, fsynced\n"
"before they are reported), from then on until the end of the input.\n"
"Import it later: its lines hold the events, ids included. A line that is\n"
"no JSON object can't go there: it is rejected here with its reason\n"
"(with a daemon it is sent as it is and the daemon rejects it).\n"
"\n"
"  --socket PATH     the daemon's Unix socket (default: DIR/auditlog.sock)\n"
"  --store DIR       find the socket in DIR (default: $AUDITLOG_STORE,\n"
"                    else ./auditlog-data)\n"
"  --connect HOST:PORT  TCP instead ([IPv6]:PORT); TLS with --tls-ca\n"
"  --tls-ca FILE     check the daemon's certificate against this CA\n"
"  --tls-cert FILE   our client certificate (with --tls-key)\n"
"  --tls-key FILE\n"
"  --backup FILE     where events go when the daemon can't take them;\n"
"                    created mode 0600, or appended to (its chain is\n"
"                    verified first). Without it a missing daemon is an\n"
"                    error.\n"
"  --timeout S       lines await answers and nothing moves for S seconds:\n"
"                    the daemon counts as gone (default 60; 0: wait)\n"
"  --quiet           no answers on stdout; rejected lines on stderr\n"
"\n"
"A summary goes to stderr. exit status: 0 every event acknowledged,\n"
"4 some rejected or backed up, 3 some neither acknowledged, rejected nor\n"
"backed up (no daemon and no --backup, or the backup failed), 2 usage\n";

enum { OPT_STORE = 1000, OPT_HELP, OPT_SOCKET, OPT_CONNECT, OPT_BACKUP,
       OPT_QUIET, OPT_TLS_CA, OPT_TLS_CERT, OPT_TLS_KEY, OPT_TIMEOUT };

#define SEND_TIMEOUT_S 60

/* Where each line without a result yet came from (results come in input
 * order), for messages. */
struct origin {
	const char *file;
	uint64_t line;
};

struct send_ctx {
	int quiet;
	struct origin *fifo;      /* ring of cap */
	size_t cap, head, n;
	int out_failed;
};

static int fifo_push(struct send_ctx *c, const char *file, uint64_t line)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 2048;
		struct origin *p = malloc(cap * sizeof(*p));

		if (!p)
			return -1;
		for (size_t i = 0; i < c->n; i++)
			p[i] = c->fifo[(c->head + i) % c->cap];
		free(c->fifo);
		c->fifo = p;
		c->cap = cap;
		c->head = 0;
	}
	c->fifo[(c->head + c->n) % c->cap] = (struct origin){ file, line };
	c->n++;
	return 0;
}

static void on_result(void *ctx, const struct alog_sender_result *r)
{
	struct send_ctx *c = ctx;
	struct origin o = { "?", 0 };

	if (c->n) {
		o = c->fifo[c->head];
		c->head = (c->head + 1) % c->cap;
		c->n--;
	}
	if (!c->quiet) {
		if (fwrite(r->answer_line, 1, r->answer_len, stdout) !=
		    r->answer_len || putchar('\n') == EOF)
			c->out_failed = 1;
	} else if (r->outcome == ALOG_SENT_REJECTED ||
		   r->outcome == ALOG_SENT_FAILED) {
		cli_msg("%s:%" PRIu64 ": %s: %s", o.file, o.line,
			r->answer->code, r->answer->error);
	}
}

/* Submit every line of fd. */
static int send_fd(struct alog_sender *s, struct send_ctx *c, int fd,
		   const char *name, struct alog_err *err)
{
	struct alog_lines lr;
	int rc;

	rc = alog_lines_init(&lr, fd, ALOG_CLIENT_LINE_MAX, err);
	if (rc < 0)
		return rc;
	for (;;) {
		const char *line;
		size_t len;
		int r;

		/* the lines read so far are written in one go; when nothing
		 * more can be read now, their answers come out too */
		if (!alog_lines_buffered(&lr)) {
			rc = cli_would_block(fd) ? alog_sender_drain(s, err)
						 : alog_sender_flush(s, err);
			if (rc < 0)
				break;
		}
		r = alog_lines_next(&lr, &line, &len, err);
		if (r < 0) {
			rc = r;
			alog_err_prefix(err, "%s", name);
			break;
		}
		if (r == ALOG_LINE_EOF)
			break;
		if (fifo_push(c, name, lr.line_no) < 0) {
			rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
			break;
		}
		if (r == ALOG_LINE_TOO_LONG) {
			char msg[96];

			snprintf(msg, sizeof(msg), "line is longer than %d "
				 "bytes", ALOG_CLIENT_LINE_MAX);
			rc = alog_sender_reject(s, "too_long", msg, err);
		} else {
			rc = alog_sender_submit(s, line, len, err);
		}
		if (rc < 0) {
			alog_err_prefix(err, "%s:%" PRIu64, name, lr.line_no);
			break;
		}
	}
	/* the last line of an input without a final newline comes with its
	 * end: nothing may wait unwritten while the next FILE opens (a
	 * FIFO can block there) */
	if (rc == 0)
		rc = alog_sender_drain(s, err);
	alog_lines_release(&lr);
	return rc;
}

static void print_summary(const struct alog_sender_stats *st,
			  const char *backup)
{
	if (st->backup.cut_bytes)
		cli_msg("backup file '%s': cut a torn last line (line %" PRIu64
			", %" PRIu64 " bytes at offset %" PRIu64 ") left by an "
			"interrupted write; nothing in it had been reported "
			"as backed up", backup, st->backup.cut_line,
			st->backup.cut_bytes, st->backup.cut_offset);
	if (st->fell_back)
		cli_msg("%s", st->fall_back_reason);
	cli_msg("sent %" PRIu64 " line%s: %" PRIu64 " acknowledged (%" PRIu64
		" stored, %" PRIu64 " duplicates, %" PRIu64 " spooled), %"
		PRIu64 " rejected, %" PRIu64 " backed up%s%s%s, %" PRIu64
		" failed", st->submitted, st->submitted == 1 ? "" : "s",
		st->acked, st->stored, st->duplicates, st->spooled,
		st->rejected, st->backed_up, st->backed_up ? " to '" : "",
		st->backed_up ? backup : "", st->backed_up ? "'" : "",
		st->failed);
}

int cmd_send(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, OPT_STORE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "connect", required_argument, NULL, OPT_CONNECT },
		{ "backup", required_argument, NULL, OPT_BACKUP },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "tls-ca", required_argument, NULL, OPT_TLS_CA },
		{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
		{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ 0 },
	};
	struct alog_sender_options so = { 0 };
	struct alog_sender_stats st;
	struct alog_sender *s = NULL;
	struct alog_err err = { 0 };
	struct send_ctx ctx = { 0 };
	const char *store = NULL;
	char *sock_alloc = NULL;
	uint64_t timeout_s = SEND_TIMEOUT_S;
	int c, rc = 0, code = EXIT_OK;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: store = optarg; break;
		case OPT_SOCKET: so.conn.socket_path = optarg; break;
		case OPT_CONNECT: so.conn.connect = optarg; break;
		case OPT_BACKUP: so.backup_path = optarg; break;
		case OPT_QUIET: ctx.quiet = 1; break;
		case OPT_TLS_CA: so.conn.tls_ca = optarg; break;
		case OPT_TLS_CERT: so.conn.tls_cert = optarg; break;
		case OPT_TLS_KEY: so.conn.tls_key = optarg; break;
		case OPT_TIMEOUT:
			if (cli_parse_u64(optarg, &timeout_s) < 0 ||
			    timeout_s > 86400) {
				cli_msg("--timeout needs seconds, 0..86400");
				return EXIT_USAGE;
			}
			break;
		case OPT_HELP:
			fputs(usage_send, stdout);
			return EXIT_OK;
		default:
			fputs(usage_send, stderr);
			return EXIT_USAGE;
		}
	}
	if (so.conn.connect && (so.conn.socket_path || store)) {
		cli_msg("--connect goes alone: not with --socket or --store");
		return EXIT_USAGE;
	}
	if ((so.conn.tls_ca || so.conn.tls_cert || so.conn.tls_key) &&
	    !so.conn.connect) {
		cli_msg("--tls-* options need --connect HOST:PORT");
		return EXIT_USAGE;
	}
	if (!so.conn.tls_cert != !so.conn.tls_key) {
		cli_msg("--tls-cert and --tls-key go together");
		return EXIT_USAGE;
	}
	if ((so.conn.tls_cert) && !so.conn.tls_ca) {
		cli_msg("--tls-cert needs --tls-ca, the CA that checks the daemon");
		return EXIT_USAGE;
	}
	if (!so.conn.connect && !so.conn.socket_path) {
		sock_alloc = cli_socket_path(cli_store_dir(store));
		if (!sock_alloc) {
			cli_msg("out of memory");
			return EXIT_OPER;
		}
		so.conn.socket_path = sock_alloc;
	}
	/* a closed stdout or TLS peer is an error to report, not a signal */
	signal(SIGPIPE, SIG_IGN);
	so.on_result = on_result;
	so.ctx = &ctx;
	so.answer_timeout_ms = (int)(timeout_s * 1000);
	rc = alog_sender_open(&so, &s, &err);
	if (rc == 0)
		alog_sender_batch(s, ALOG_SEND_BATCH_BYTES);
	if (rc < 0) {
		if (rc == ALOG_EINVAL) {
			cli_msg("%s", err.msg);
			code = EXIT_USAGE;
		} else if (rc == ALOG_EIO && !so.backup_path) {
			cli_msg("can't reach the daemon: %s; is 'auditlog serve' "
				"running? (--backup FILE keeps the events when "
				"it is not)", err.msg);
			code = EXIT_OPER;
		} else {
			/* a busy, sealed or corrupt backup file included:
			 * send could do nothing */
			cli_msg("%s", err.msg);
			code = EXIT_OPER;
		}
		goto out;
	}
	if (optind == argc)
		rc = send_fd(s, &ctx, 0, "stdin", &err);
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
		rc = send_fd(s, &ctx, fd, fd ? argv[i] : "stdin", &err);
		if (fd)
			close(fd);
	}
	/* what was submitted gets its result, even after a failure */
	{
		struct alog_err derr = { 0 };
		int drc = alog_sender_drain(s, &derr);

		if (rc == 0 && drc < 0) {
			rc = drc;
			err = derr;
		}
	}
	if (fflush(stdout) != 0)
		ctx.out_failed = 1;
	alog_sender_stats(s, &st);
	print_summary(&st, so.backup_path);
	if (rc < 0) {
		cli_msg("%s", err.msg);
		cli_msg("stopped at this error: input after it was not read");
		code = EXIT_OPER;
	} else if (ctx.out_failed) {
		cli_msg("writing the answers to standard output failed");
		code = EXIT_OPER;
	} else if (st.failed) {
		code = EXIT_OPER;
	} else if (st.rejected || st.backed_up) {
		code = EXIT_PARTIAL;
	}
out:
	alog_sender_free(s);
	free(ctx.fifo);
	free(sock_alloc);
	return code;
}
