/*
 * query: `auditlog query` (SPEC.md section 19), the population engine as a
 * command: the records received in [from, to), narrowed by type and
 * component, printed as canonical records, with their count, index range
 * and hash.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ingest/clock.h"
#include "ingest/json.h"
#include "report/population.h"
#include "store/bytes.h"
#include "tools/cli.h"

static const char usage_query[] =
"usage: auditlog query [--store DIR] --from T --to T [--type TYPE]\n"
"                      [--component NAME] [--summary]\n"
"\n"
"Print a population: the canonical records (one per line, as 'export'\n"
"prints them) of the events received in the period [from, to) - 'to' is\n"
"excluded - that pass the filters. T is an RFC 3339 time\n"
"(2026-01-31T23:00:00Z, 2026-02-01T00:00:00+01:00) or a date (2026-02-01,\n"
"midnight UTC). Received times never decrease, so the period is one\n"
"contiguous index range of the log, without gaps.\n"
"\n"
"  --type TYPE       only events of this type; TYPE.* for the type and\n"
"                    every type under it (auth.* is auth, auth.login, ...)\n"
"  --component NAME  only events whose \"component\" member is NAME\n"
"  --summary         print one JSON object instead of the records: the\n"
"                    query as text, the resolved period, the index range,\n"
"                    records in it, members, and the population hash\n"
"\n"
"Standard error gets one line: the count, the index range, the resolved\n"
"period and the population hash - SHA-256 over exactly the printed bytes\n"
"(each record and its newline), so 'auditlog query ... | sha256sum'\n"
"gives the same hash.\n"
"\n"
"exit status: 0 ok, 1 a record in the range is corrupt, 2 usage, 3 error\n";

int cmd_query(int argc, char **argv)
{
	enum { O_STORE = 1000, O_HELP, O_FROM, O_TO, O_TYPE, O_COMP, O_SUM };
	static const struct option opts[] = {
		{ "store", required_argument, NULL, O_STORE },
		{ "help", no_argument, NULL, O_HELP },
		{ "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },
		{ "type", required_argument, NULL, O_TYPE },
		{ "component", required_argument, NULL, O_COMP },
		{ "summary", no_argument, NULL, O_SUM },
		{ 0 },
	};
	struct alog_population_query q = { 0 };
	struct alog_population pop;
	struct alog_err err = { 0 };
	struct alog_store *s = NULL;
	struct alog_buf text;
	const char *store = NULL;
	char hex[65], from[ALOG_TIME_TEXT_MAX], to[ALOG_TIME_TEXT_MAX];
	int c, rc, summary = 0, have_from = 0, have_to = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_STORE: store = optarg; break;
		case O_FROM:
			if (cli_parse_time("--from", optarg, &q.from_us) < 0)
				return EXIT_USAGE;
			have_from = 1;
			break;
		case O_TO:
			if (cli_parse_time("--to", optarg, &q.to_us) < 0)
				return EXIT_USAGE;
			have_to = 1;
			break;
		case O_TYPE: q.type = optarg; break;
		case O_COMP: q.component = optarg; break;
		case O_SUM: summary = 1; break;
		case O_HELP: fputs(usage_query, stdout); return EXIT_OK;
		default: fputs(usage_query, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc || !have_from || !have_to) {
		cli_msg("query needs --from and --to (and no other arguments)");
		fputs(usage_query, stderr);
		return EXIT_USAGE;
	}
	if (alog_population_check(&q, &err) < 0) {
		cli_msg("%s", err.msg);
		return EXIT_USAGE;
	}
	rc = alog_store_open(cli_store_dir(store), ALOG_STORE_RDONLY, &s, NULL,
			     &err);
	if (rc < 0)
		return cli_fail(&err);
	rc = alog_population_run(s, &q, summary ? NULL : cli_print_record, NULL,
				 &pop, &err);
	if (rc == ALOG_EIO && !err.msg[0])
		alog_err_set(&err, ALOG_EIO, "write to standard output failed");
	if (rc < 0) {
		alog_store_close(s);
		return cli_fail(&err);
	}
	alog_hex_encode(pop.sha256, sizeof(pop.sha256), hex);
	alog_time_format(q.from_us, from);
	alog_time_format(q.to_us, to);
	alog_buf_init(&text, 4096);
	rc = alog_population_text(&q, &text, &err);
	if (rc == 0 && summary) {
		struct alog_buf js;

		alog_buf_init(&js, 8192);
		rc = alog_json_string_format(&js, (const char *)text.data,
					     text.len, &err);
		if (rc == 0)
			printf("{\"query\":%.*s,\"from\":\"%s\",\"to\":\"%s\""
			       ",\"index_from\":%" PRIu64 ",\"index_to\":%" PRIu64
			       ",\"records_in_range\":%" PRIu64 ",\"count\":%" PRIu64
			       ",\"sha256\":\"%s\"}\n", (int)js.len,
			       (const char *)js.data, from, to, pop.index_from,
			       pop.index_to, pop.index_to - pop.index_from,
			       pop.count, hex);
		alog_buf_release(&js);
	}
	if (rc == 0)
		cli_msg("population: %" PRIu64 " of %" PRIu64
			" records in index range [%" PRIu64 ", %" PRIu64
			"), received [%s, %s); sha256 %s", pop.count,
			pop.index_to - pop.index_from, pop.index_from,
			pop.index_to, from, to, hex);
	alog_buf_release(&text);
	alog_store_close(s);
	if (rc < 0)
		return cli_fail(&err);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_OPER;
}
