/*
 * replay: `auditlog replay FILE...` (SPEC.md 17.9). Imports backup files
 * that `auditlog send --backup` or applications wrote, through
 * ingest/replay.h; this file parses options, prints what happened to each
 * file and line, and chooses the exit status.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ingest/clock.h"
#include "ingest/log.h"
#include "ingest/replay.h"
#include "tools/cli.h"

static const char usage_replay[] =
"usage: auditlog replay [--store DIR] [--quiet] FILE...\n"
"\n"
"Import backup files (SPEC.md section 16) into the store, in the order\n"
"given: the files that 'auditlog send --backup' and applications write\n"
"when the daemon can't be reached. Each file's SHA-256 chain is checked\n"
"in full first: a file that does not verify is refused as a whole, with\n"
"the line where it breaks, and the other files are still imported.\n"
"\n"
"Every event is judged as 'auditlog ingest' judges a line. An event whose\n"
"(source, id) is stored already with the same content is a duplicate and\n"
"is not stored again; with other content it is a conflict (reported).\n"
"An event without an id gets the record id FILE-ID:N (the file's id and\n"
"the record's chain index: 1 for the first record, on line 2), so\n"
"importing the same file again stores nothing twice.\n"
"Records get provenance {\"transport\":\"replay\",...} (this process) and\n"
"the time of the import as their received time. Each file's import is\n"
"recorded in the log as a backup.replayed event with its counts.\n"
"\n"
"For each file one line: imported N, duplicates N, conflicts N, refused N\n"
"(with -q only files with something to say), and one line for every\n"
"conflict and refused line (its line number and reason).\n"
"\n"
"The store must not be held by a running daemon (the daemon replays its\n"
"own spool by itself).\n"
"\n"
"  --store DIR   the store (default: $AUDITLOG_STORE, else ./auditlog-data)\n"
"  -q, --quiet   print only conflicts, refusals and errors\n"
"\n"
"exit status: 0 every file verified and was imported, 1 a file was refused\n"
"(its chain or format is broken), 3 operational error (nothing after it\n"
"was imported), 4 some lines were refused or conflicted\n";

struct replay_cli {
	const char *path;
	int quiet;
	uint64_t notes;
};

static void print_note(void *ctx, const struct alog_replay_note *n)
{
	struct replay_cli *c = ctx;

	if (strcmp(n->outcome, "duplicate") == 0)
		return;
	c->notes++;
	if (strcmp(n->outcome, "conflict") == 0)
		cli_msg("%s line %" PRIu64 ": conflict with record %" PRIu64
			": %s", c->path, n->line, n->index, n->msg);
	else
		cli_msg("%s line %" PRIu64 ": refused (%s): %s", c->path,
			n->line, n->code ? n->code : "refused", n->msg);
}

int cmd_replay(int argc, char **argv)
{
	enum { OPT_STORE = 1000, OPT_HELP };
	static const struct option opts[] = {
		{ "store", required_argument, NULL, OPT_STORE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "quiet", no_argument, NULL, 'q' },
		{ 0 },
	};
	struct alog_err err = { 0 };
	struct alog_store_recovery rec;
	struct alog_log *log = NULL;
	struct alog_provenance prov;
	struct alog_replay_opts ro;
	struct replay_cli c = { 0 };
	const char *store = NULL;
	int ch, code = EXIT_OK, rc;

	while ((ch = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_STORE: store = optarg; break;
		case 'q': c.quiet = 1; break;
		case OPT_HELP: fputs(usage_replay, stdout); return EXIT_OK;
		default: fputs(usage_replay, stderr); return EXIT_USAGE;
		}
	}
	if (optind == argc) {
		cli_msg("replay: name at least one backup file");
		fputs(usage_replay, stderr);
		return EXIT_USAGE;
	}
	store = cli_store_dir(store);
	memset(&rec, 0, sizeof(rec));
	rc = alog_log_open(store, alog_clock_now_us(), &log, &rec, &err);
	if (rc < 0)
		return cli_fail(&err);
	if (rec.cut || rec.removed_segments)
		cli_msg("store '%s': recovered at open (logged as store.recovered)",
			store);
	memset(&prov, 0, sizeof(prov));
	prov.transport = "replay";
	prov.uid = (int64_t)getuid();
	prov.gid = (int64_t)getgid();
	prov.pid = (int64_t)getpid();
	memset(&ro, 0, sizeof(ro));
	ro.origin = ALOG_REPLAY_IMPORT;
	ro.prov = &prov;
	ro.note = print_note;
	ro.ctx = &c;
	for (int i = optind; i < argc; i++) {
		struct alog_replay_result res;

		c.path = argv[i];
		err = (struct alog_err){ 0 };
		rc = alog_replay_file(log, argv[i], &ro, &res, &err);
		if (rc < 0 && res.file_bad) {
			cli_msg("%s: refused, nothing imported: %s", argv[i],
				err.msg);
			code = EXIT_VERIFY;
			continue;
		}
		if (rc < 0) {
			cli_fail(&err);
			cli_msg("%s: stopped; what was committed before stays, and replaying the file again goes on from there",
				argv[i]);
			code = EXIT_OPER;
			break;
		}
		if (!c.quiet || res.conflicts || res.refused)
			printf("%s: file %s, %" PRIu64 " records: imported %" PRIu64
			       ", duplicates %" PRIu64 ", conflicts %" PRIu64
			       ", refused %" PRIu64 "%s\n",
			       argv[i], res.file_id, res.records,
			       res.run_imported, res.duplicates, res.conflicts,
			       res.refused,
			       res.already_done ? " (replayed before)" : "");
		if ((res.conflicts || res.refused) && code == EXIT_OK)
			code = EXIT_PARTIAL;
	}
	alog_log_close(log);
	return code;
}
