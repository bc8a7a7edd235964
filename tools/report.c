/*
 * report: `auditlog report` (SPEC.md section 21): the evidence report for
 * a period, written to a directory, and recorded in the log as a
 * report.generated event.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ingest/clock.h"
#include "ingest/config.h"
#include "ingest/json.h"
#include "ingest/log.h"
#include "report/report.h"
#include "store/bytes.h"
#include "tools/cli.h"

static const char usage_report[] =
"usage: auditlog report [--store DIR] --from T --to T [--config FILE]\n"
"                       [--out DIR] [--no-record]\n"
"\n"
"Write the evidence report for the period [from, to) - 'to' excluded -\n"
"as report.json in DIR (default ./auditlog-report). T is an RFC 3339 time\n"
"or a date (midnight UTC). It holds, from the log alone:\n"
"  - the period, the store's origin, the configuration's hash, the report\n"
"    id (derived from them: the same inputs give the same id);\n"
"  - integrity: the last checkpoint signed before the period, the first\n"
"    signed after it, and the consistency proof between them (verified);\n"
"  - the population: every event received in the period, its index range\n"
"    (no gaps) and its SHA-256 (see 'auditlog query');\n"
"  - A1.2 availability per component of the configuration's inventory\n"
"    (SPEC.md section 20): time up, down (breaker open or probes down),\n"
"    partial (half-open, degraded), excluded (approved maintenance) and\n"
"    unknown (no data: never counted as up); availability raw and\n"
"    weighted, error budget, pass or fail against the target; outage\n"
"    episodes, MTTD, MTTR, MTBF; failover times and spool reconciliation;\n"
"    manual interventions; the same by month.\n"
"The JSON is byte-identical for the same inputs except \"generated_at\".\n"
"\n"
"The run is recorded in the log as a report.generated event (the report\n"
"id, the period and the SHA-256 of report.json). That needs the store's\n"
"writer lock: while a daemon holds it, or with --no-record, the report\n"
"says it was not recorded, and why.\n"
"\n"
"  --config FILE  the inventory and targets (SPEC.md section 18; default:\n"
"                 the built-in inventory)\n"
"  --out DIR      where to write (created mode 0750 when missing)\n"
"  --no-record    do not record the run (e.g. on a read-only copy)\n"
"\n"
"exit status: 0 written, 1 the log is corrupt, 2 usage, 3 error\n";

static int parse_time(const char *opt, const char *s, int64_t *us)
{
	struct alog_err err = { 0 };

	if (alog_time_parse(s, strlen(s), 1, us, &err) < 0) {
		cli_msg("%s '%s': want an RFC 3339 time or a date YYYY-MM-DD (%s)",
			opt, s, err.msg);
		return -1;
	}
	return 0;
}

static int write_file(const char *dir, const char *name,
		      const struct alog_buf *b, struct alog_err *err)
{
	char path[4096];
	int fd, rc = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return alog_err_set(err, ALOG_ELIMIT, "output path too long");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return alog_err_sys(err, ALOG_EIO, errno, "create '%s': %s",
				    path, strerror(errno));
	for (size_t off = 0; off < b->len;) {
		ssize_t n = write(fd, b->data + off, b->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = alog_err_sys(err, ALOG_EIO, errno, "write '%s': %s",
					  path, strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = alog_err_sys(err, ALOG_EIO, errno, "fsync '%s': %s", path,
				  strerror(errno));
	close(fd);
	return rc;
}

static void sha256_hex(const struct alog_buf *b, char out[65])
{
	unsigned char h[32];
	unsigned int n = 0;

	EVP_Digest(b->data, b->len, h, &n, EVP_sha256(), NULL);
	alog_hex_encode(h, 32, out);
}

int cmd_report(int argc, char **argv)
{
	enum { O_STORE = 1000, O_HELP, O_FROM, O_TO, O_CONFIG, O_OUT,
	       O_NOREC };
	static const struct option opts[] = {
		{ "store", required_argument, NULL, O_STORE },
		{ "help", no_argument, NULL, O_HELP },
		{ "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "out", required_argument, NULL, O_OUT },
		{ "no-record", no_argument, NULL, O_NOREC },
		{ 0 },
	};
	struct alog_report_opts ro;
	struct alog_report_summary sum;
	struct alog_config cfg = { 0 };
	struct alog_err err = { 0 };
	struct alog_store *s = NULL;
	struct alog_log *log = NULL;
	struct alog_buf json;
	const char *store = NULL, *config = NULL, *out = "auditlog-report";
	char why[ALOG_ERR_MSG_MAX + 64], hex[65];
	int ch, rc, code = EXIT_OK, have_from = 0, have_to = 0, norec = 0;

	memset(&ro, 0, sizeof(ro));
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case O_STORE: store = optarg; break;
		case O_FROM:
			if (parse_time("--from", optarg, &ro.from_us) < 0)
				return EXIT_USAGE;
			have_from = 1;
			break;
		case O_TO:
			if (parse_time("--to", optarg, &ro.to_us) < 0)
				return EXIT_USAGE;
			have_to = 1;
			break;
		case O_CONFIG: config = optarg; break;
		case O_OUT: out = optarg; break;
		case O_NOREC: norec = 1; break;
		case O_HELP: fputs(usage_report, stdout); return EXIT_OK;
		default: fputs(usage_report, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc || !have_from || !have_to) {
		cli_msg("report needs --from and --to (and no other arguments)");
		fputs(usage_report, stderr);
		return EXIT_USAGE;
	}
	if (ro.from_us >= ro.to_us) {
		cli_msg("the period is empty: --from must come before --to");
		return EXIT_USAGE;
	}
	rc = config ? alog_config_load(&cfg, config, &err)
		    : alog_config_builtin(&cfg, &err);
	if (rc < 0) {
		cli_msg("%s", err.msg);
		return rc == ALOG_ENOTFOUND || rc == ALOG_EIO ? EXIT_OPER
							       : EXIT_USAGE;
	}
	store = cli_store_dir(store);
	/* Recording needs the writer lock: take it first, so that the
	 * report can say whether it is recorded. */
	if (norec) {
		snprintf(why, sizeof(why), "--no-record was given");
		ro.recorded = why;
	} else if (alog_log_open(store, alog_clock_now_us(), &log, NULL,
				 &err) < 0) {
		snprintf(why, sizeof(why), "the store could not be opened for writing: %s",
			 err.msg);
		ro.recorded = why;
		err = (struct alog_err){ 0 };
	}
	rc = log ? 0 : alog_store_open(store, ALOG_STORE_RDONLY, &s, NULL, &err);
	if (rc < 0) {
		alog_config_release(&cfg);
		return cli_fail(&err);
	}
	ro.cfg = &cfg;
	ro.config_path = config;
	ro.generator = "auditlog " ALOG_VERSION;
	ro.generated_at_us = alog_clock_now_us();
	alog_buf_init(&json, 0);
	rc = alog_report_json(log ? alog_log_store(log) : s, &ro, &json, &sum,
			      &err);
	if (rc == 0 && mkdir(out, 0750) < 0 && errno != EEXIST)
		rc = alog_err_sys(&err, ALOG_EIO, errno, "create '%s': %s", out,
				  strerror(errno));
	if (rc == 0)
		rc = write_file(out, "report.json", &json, &err);
	if (rc == 0 && log) {
		struct alog_buf m;
		char from[ALOG_TIME_TEXT_MAX], to[ALOG_TIME_TEXT_MAX];

		sha256_hex(&json, hex);
		alog_time_format(ro.from_us, from);
		alog_time_format(ro.to_us, to);
		alog_buf_init(&m, 8192);
		rc = alog_buf_addf(&m, &err,
				   "\"report_id\":\"%s\",\"from\":\"%s\",\"to\":\"%s\","
				   "\"seed\":null,\"sample\":0,\"config_sha256\":%s%s%s,"
				   "\"outputs\":[{\"name\":\"report.json\",\"sha256\":\"%s\"}]",
				   sum.report_id, from, to,
				   cfg.from_file ? "\"" : "",
				   cfg.from_file ? cfg.hash_hex : "null",
				   cfg.from_file ? "\"" : "", hex);
		if (rc == 0)
			rc = alog_log_append_internal(log, "report.generated",
						      (const char *)m.data,
						      alog_clock_now_us(), NULL,
						      &err);
		alog_buf_release(&m);
	}
	if (rc < 0) {
		code = cli_fail(&err);
	} else {
		cli_msg("report %s: %" PRIu64 " events received in the period; "
			"A1.2: %zu of %zu components met their target; %s; %s",
			sum.report_id, sum.population, sum.passed,
			sum.components,
			sum.complete ? "complete (bracketed by checkpoints, consistency verified)"
				     : "NOT proven complete (no checkpoint after the period, or the proof failed)",
			ro.recorded ? "not recorded" : "recorded as report.generated");
		printf("%s/report.json\n", out);
	}
	alog_buf_release(&json);
	alog_log_close(log);
	alog_store_close(s);
	alog_config_release(&cfg);
	return code;
}
