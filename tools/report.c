/*
 * report: `auditlog report` (SPEC.md section 21): the evidence report for
 * a period, written to a directory, and recorded in the log as a
 * report.generated event.
 */
#include <dirent.h>
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
#include "report/bundle.h"
#include "report/population.h"
#include "report/render.h"
#include "report/report.h"
#include "report/sample.h"
#include "ingest/event.h"
#include "store/bytes.h"
#include "tools/cli.h"

static const char usage_report[] =
"usage: auditlog report [--store DIR] --from T --to T [--config FILE]\n"
"                       [--out DIR] [--format json,md,html] [--sample N]\n"
"                       [--seed S] [--key FILE] [--no-record]\n"
"                       [--socket PATH]\n"
"\n"
"Write the evidence for the period [from, to) - 'to' excluded - into the\n"
"new directory DIR (default ./auditlog-report): report.json, and, once a\n"
"checkpoint was signed after the period, an evidence bundle that\n"
"'auditlog verify-bundle' checks offline. T is an RFC 3339 time or a date\n"
"(midnight UTC). report.json holds, from the log alone:\n"
"  - the period, the store's origin, the configuration's hash, the report\n"
"    id (derived from them and the sample size and seed: the same inputs\n"
"    give the same id);\n"
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
"    manual interventions; the same by month;\n"
"  - seeded samples of the population spread over the period, each with\n"
"    its canonical record and its inclusion proof against the end\n"
"    checkpoint (SPEC.md 21.1: an auditor can redraw them).\n"
"The bundle adds population.csv (every event of the period), the\n"
"checkpoints, the consistency proof, one C2SP tlog-proof file per sample\n"
"(proofs/INDEX.tlog-proof), the verifier key, and manifest.txt /\n"
"manifest.note: the SHA-256 of every file, signed with the log's key.\n"
"The JSON is byte-identical for the same inputs except \"generated_at\".\n"
"\n"
"The run is recorded in the log as a report.generated event (the report\n"
"id, the period, sample size and seed, and the SHA-256 of each report\n"
"file): under the store's writer lock, or, while a daemon holds it,\n"
"through the daemon's socket (the daemon takes it from the store's owner\n"
"or root only). With --no-record, or when neither works, the report says\n"
"it was not recorded, and why.\n"
"\n"
"  --config FILE  the inventory and targets (SPEC.md section 18; default:\n"
"                 the built-in inventory)\n"
"  --out DIR      where to write: a new or empty directory\n"
"  --format LIST  report.json always; md adds report.md, html adds\n"
"                 report.html (one self-contained page with SVG charts\n"
"                 that prints well); default json,md,html\n"
"  --sample N     sample size (default 25; 0: none; at most 10000)\n"
"  --seed S       the auditor's seed (default: derived from the report id\n"
"                 and the population's hash)\n"
"  --key FILE     the log's signing key, for the bundle's manifest\n"
"                 (default: DIR.key beside the store)\n"
"  --no-record    do not record the run (e.g. on a read-only copy)\n"
"  --socket PATH  the daemon's socket (default: DIR/auditlog.sock)\n"
"\n"
"exit status: 0 written, 1 the log is corrupt, 2 usage, 3 error\n";

static void sha256_hex(const struct alog_buf *b, char out[65])
{
	unsigned char h[32];
	unsigned int n = 0;

	EVP_Digest(b->data, b->len, h, &n, EVP_sha256(), NULL);
	alog_hex_encode(h, 32, out);
}

/* "json,md,html": json is always written. */
static int parse_formats(const char *list, int *md, int *html)
{
	const char *p = list;

	*md = *html = 0;
	for (;;) {
		size_t n = strcspn(p, ",");

		if (n == 2 && memcmp(p, "md", 2) == 0) {
			*md = 1;
		} else if (n == 4 && memcmp(p, "html", 4) == 0) {
			*html = 1;
		} else if (!(n == 4 && memcmp(p, "json", 4) == 0)) {
			cli_msg("--format '%s': want a list of json, md and html",
				list);
			return -1;
		}
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

typedef int (*render_fn)(const char *json, size_t len, struct alog_buf *out,
			 struct alog_err *err);

/* A rendering of report.json, into the bundle. */
static int render_to(const char *dir, const char *name, render_fn fn,
		     const struct alog_buf *json, char hex[65],
		     struct alog_err *err)
{
	struct alog_buf b;
	int rc;

	alog_buf_init(&b, 0);
	rc = fn((const char *)json->data, json->len, &b, err);
	if (rc == 0) {
		sha256_hex(&b, hex);
		rc = alog_bundle_add(dir, name, b.data, b.len, err);
	} else {
		alog_err_prefix(err, "rendering %s", name);
	}
	alog_buf_release(&b);
	return rc;
}

/* A new directory, or an empty one. */
static int make_out(const char *out, struct alog_err *err)
{
	DIR *d;
	struct dirent *e;
	int empty = 1;

	if (mkdir(out, 0750) == 0)
		return 0;
	if (errno != EEXIST)
		return alog_err_sys(err, ALOG_EIO, errno, "create '%s': %s",
				    out, strerror(errno));
	d = opendir(out);
	if (!d)
		return alog_err_sys(err, ALOG_EIO, errno, "open '%s': %s", out,
				    strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	if (!empty)
		return alog_err_set(err, ALOG_EEXIST,
				    "'%s' is not empty: a report goes into a new directory (--out)",
				    out);
	return 0;
}

/* The evidence bundle (SPEC.md 21.3) beside report.json, signed. */
static int write_bundle(struct alog_store *s, const char *out,
			const char *key, const struct alog_report_summary *sum,
			struct alog_err *err)
{
	struct alog_signer *signer = NULL;
	struct alog_buf b;
	char vtext[ALOG_VKEY_MAX + 2];
	int rc;

	rc = alog_signer_load(key, &signer, err);
	if (rc < 0) {
		alog_err_prefix(err, "the bundle's manifest needs the log's signing key");
		return rc;
	}
	alog_buf_init(&b, 0);
	/* population.csv is there already, from the report's pass */
	rc = alog_bundle_add(out, ALOG_BUNDLE_END_CHECKPOINT,
			      (const char *)sum->end.note.data,
			      sum->end.note.len, err);
	if (rc == 0 && sum->have_start)
		rc = alog_bundle_add(out, "checkpoints/start.checkpoint",
			      (const char *)sum->start.note.data,
			      sum->start.note.len, err);
	if (rc == 0) {
		/* one hash a line, hex, start size -> end size */
		alog_buf_reset(&b);
		for (size_t i = 0; rc == 0 && i < sum->n_proof; i++) {
			char hex[2 * ALOG_HASH_LEN + 1];

			alog_hex_encode(sum->proof[i], ALOG_HASH_LEN, hex);
			rc = alog_buf_addf(&b, err, "%s\n", hex);
		}
		if (rc == 0)
			rc = alog_bundle_add(out, "checkpoints/consistency.proof",
				      (const char *)b.data, b.len, err);
	}
	for (size_t i = 0; rc == 0 && i < sum->n_samples; i++) {
		char path[64];

		alog_buf_reset(&b);
		snprintf(path, sizeof(path), "proofs/%" PRIu64 ".tlog-proof",
			 sum->samples[i]);
		rc = alog_sample_proof_format(s, sum->samples[i], &sum->end, &b,
					      err);
		if (rc == 0)
			rc = alog_bundle_add(out, path, (const char *)b.data, b.len,
				      err);
	}
	if (rc == 0) {
		size_t n;

		alog_verifier_format(alog_store_vkey(s), vtext);
		n = strlen(vtext);
		vtext[n] = '\n';
		rc = alog_bundle_add(out, "vkey", vtext, n + 1, err);
	}
	if (rc == 0)
		rc = alog_bundle_sign(out, signer, NULL, err);
	alog_buf_release(&b);
	alog_signer_free(signer);
	return rc;
}

/* report.generated (SPEC.md 11.1): the run's parameters and the SHA-256
 * of each file it wrote. */
static int record_report(struct cli_recorder *rec,
			 const struct alog_report_opts *ro,
			 const struct alog_config *cfg,
			 const struct alog_report_summary *sum,
			 const char *hex_json, const char *hex_md,
			 const char *hex_html, struct alog_err *err)
{
	struct alog_buf m;
	char from[ALOG_TIME_TEXT_MAX], to[ALOG_TIME_TEXT_MAX];
	int rc;

	alog_time_format(ro->from_us, from);
	alog_time_format(ro->to_us, to);
	alog_buf_init(&m, 8192);
	rc = alog_buf_addf(&m, err,
			   "\"report_id\":\"%s\",\"from\":\"%s\",\"to\":\"%s\","
			   "\"seed\":", sum->report_id, from, to);
	if (rc == 0 && ro->seed)
		rc = alog_json_string_format(&m, ro->seed, strlen(ro->seed),
					     err);
	else if (rc == 0)
		rc = alog_buf_adds(&m, "null", err);
	if (rc == 0)
		rc = alog_buf_addf(&m, err,
				   ",\"sample\":%" PRIu64 ",\"config_sha256\":%s%s%s,"
				   "\"outputs\":[{\"name\":\"report.json\",\"sha256\":\"%s\"}",
				   ro->sample, cfg->from_file ? "\"" : "",
				   cfg->from_file ? cfg->hash_hex : "null",
				   cfg->from_file ? "\"" : "", hex_json);
	if (rc == 0 && hex_md[0])
		rc = alog_buf_addf(&m, err,
				   ",{\"name\":\"report.md\",\"sha256\":\"%s\"}",
				   hex_md);
	if (rc == 0 && hex_html[0])
		rc = alog_buf_addf(&m, err,
				   ",{\"name\":\"report.html\",\"sha256\":\"%s\"}",
				   hex_html);
	if (rc == 0)
		rc = alog_buf_adds(&m, "]", err);
	if (rc == 0)
		rc = cli_recorder_append(rec, "report.generated",
					 (const char *)m.data, err);
	alog_buf_release(&m);
	return rc;
}

int cmd_report(int argc, char **argv)
{
	enum { O_STORE = 1000, O_HELP, O_FROM, O_TO, O_CONFIG, O_OUT,
	       O_NOREC, O_SAMPLE, O_SEED, O_KEY, O_FORMAT, O_SOCKET };
	static const struct option opts[] = {
		{ "store", required_argument, NULL, O_STORE },
		{ "help", no_argument, NULL, O_HELP },
		{ "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "out", required_argument, NULL, O_OUT },
		{ "no-record", no_argument, NULL, O_NOREC },
		{ "sample", required_argument, NULL, O_SAMPLE },
		{ "seed", required_argument, NULL, O_SEED },
		{ "key", required_argument, NULL, O_KEY },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "socket", required_argument, NULL, O_SOCKET },
		{ 0 },
	};
	struct alog_report_opts ro;
	struct alog_report_summary sum;
	struct alog_config cfg = { 0 };
	struct alog_err err = { 0 };
	struct alog_store *s = NULL;
	struct cli_recorder rec = { 0 };
	struct alog_buf json;
	struct cli_progress progress;
	char *csv_path = NULL;
	const char *store = NULL, *config = NULL, *out = "auditlog-report";
	const char *key = NULL, *sock = NULL;
	char *def_key = NULL;
	char bundle_note[ALOG_ERR_MSG_MAX + 64] = "";
	char why[ALOG_ERR_MSG_MAX + 64];
	char hex_json[65], hex_md[65] = "", hex_html[65] = "";
	int ch, rc, code = EXIT_OK, have_from = 0, have_to = 0, norec = 0;
	int want_md = 1, want_html = 1;

	memset(&ro, 0, sizeof(ro));
	ro.sample = 25;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case O_STORE: store = optarg; break;
		case O_FROM:
			if (cli_parse_time("--from", optarg, &ro.from_us) < 0)
				return EXIT_USAGE;
			have_from = 1;
			break;
		case O_TO:
			if (cli_parse_time("--to", optarg, &ro.to_us) < 0)
				return EXIT_USAGE;
			have_to = 1;
			break;
		case O_CONFIG: config = optarg; break;
		case O_OUT: out = optarg; break;
		case O_NOREC: norec = 1; break;
		case O_SAMPLE:
			if (cli_parse_u64(optarg, &ro.sample) < 0 ||
			    ro.sample > ALOG_SAMPLE_SIZE_MAX) {
				cli_msg("--sample '%s': want 0 to %d", optarg,
					ALOG_SAMPLE_SIZE_MAX);
				return EXIT_USAGE;
			}
			break;
		case O_SEED: ro.seed = optarg; break;
		case O_KEY: key = optarg; break;
		case O_SOCKET: sock = optarg; break;
		case O_FORMAT:
			if (parse_formats(optarg, &want_md, &want_html) < 0)
				return EXIT_USAGE;
			break;
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
	/* Recording needs the writer lock or the daemon that holds it: make
	 * sure of one first, so that the report can say whether it is
	 * recorded. */
	if (norec) {
		snprintf(why, sizeof(why), "--no-record was given");
		ro.recorded = why;
	} else if (cli_recorder_open(store, sock, &rec, &err) < 0) {
		snprintf(why, sizeof(why), "the run could not be recorded: %s",
			 err.msg);
		ro.recorded = why;
		err = (struct alog_err){ 0 };
	}
	rc = rec.log ? 0 : alog_store_open(store, ALOG_STORE_RDONLY, &s, NULL,
					   &err);
	if (rc < 0) {
		cli_recorder_close(&rec);
		alog_config_release(&cfg);
		return cli_fail(&err);
	}
	if (rec.log)
		s = alog_log_store(rec.log);
	ro.cfg = &cfg;
	ro.config_path = config;
	ro.generator = "auditlog " ALOG_VERSION;
	ro.generated_at_us = alog_clock_now_us();
	cli_progress_init(&progress, "reading", "records", 1);
	ro.progress = cli_progress_show;
	ro.progress_ctx = &progress;
	alog_buf_init(&json, 0);
	rc = make_out(out, &err);
	if (rc == 0) {
		csv_path = malloc(strlen(out) + sizeof("/population.csv"));
		if (!csv_path)
			rc = alog_err_set(&err, ALOG_ENOMEM, "out of memory");
		else
			snprintf(csv_path, strlen(out) + sizeof("/population.csv"),
				 "%s/population.csv", out);
		ro.population_csv_path = csv_path;
	}
	if (rc == 0)
		rc = alog_report_json(s, &ro, &json, &sum, &err);
	cli_progress_end(&progress);
	if (rc == 0) {
		sha256_hex(&json, hex_json);
		rc = alog_bundle_add(out, "report.json", json.data, json.len,
				     &err);
	}
	if (rc == 0 && want_md)
		rc = render_to(out, "report.md", alog_render_markdown, &json,
			       hex_md, &err);
	if (rc == 0 && want_html)
		rc = render_to(out, "report.html", alog_render_html, &json,
			       hex_html, &err);
	if (rc == 0 && !sum.have_end) {
		snprintf(bundle_note, sizeof(bundle_note),
			 "no evidence bundle: no checkpoint was signed after the period yet (run 'auditlog checkpoint')");
	} else if (rc == 0) {
		if (!key)
			key = def_key = cli_default_key(store);
		rc = write_bundle(s, out, key, &sum, &err);
	}
	if (rc == 0 && !ro.recorded) {
		rc = record_report(&rec, &ro, &cfg, &sum, hex_json, hex_md,
				   hex_html, &err);
		if (rc < 0)
			alog_err_prefix(&err, "the report was written to %s but not recorded (it says it is)",
					out);
	}
	if (rc < 0) {
		code = cli_fail(&err);
	} else {
		if (bundle_note[0])
			cli_msg("%s", bundle_note);
		cli_msg("report %s: %" PRIu64 " events received in the period; "
			"A1.2: %zu of %zu components met their target; %s; %s",
			sum.report_id, sum.population, sum.passed,
			sum.components,
			sum.complete ? "complete (bracketed by checkpoints, consistency verified)"
				     : "NOT proven complete (no checkpoint after the period, or the proof failed)",
			ro.recorded ? "not recorded" : rec.client ?
			"recorded as report.generated through the daemon" :
			"recorded as report.generated");
		printf("%s/report.json\n", out);
	}
	alog_buf_release(&json);
	free(csv_path);
	alog_report_summary_release(&sum);
	free(def_key);
	if (!rec.log)
		alog_store_close(s);
	cli_recorder_close(&rec);
	alog_config_release(&cfg);
	return code;
}
