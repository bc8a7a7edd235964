/*
 * report: the evidence report for a period (SPEC.md section 21) as JSON,
 * the source of truth of every other format: the cover (period, origin,
 * configuration, checkpoints and the consistency proof between them),
 * the completeness of the population, and the A1.2 availability of every
 * configured component (report/availability.h).
 *
 * Invariants: the JSON is a function of the store's content up to the end
 * checkpoint, the configuration and the options, byte for byte, except
 * the one member "generated_at"; every number is an integer (ppm,
 * permille, microseconds), rendered texts are derived from them.
 */
#ifndef ALOG_REPORT_REPORT_H
#define ALOG_REPORT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/config.h"
#include "report/sample.h"
#include "store/buf.h"
#include "store/err.h"
#include "store/sign.h"
#include "store/merkle.h"
#include "store/store.h"

#define ALOG_REPORT_SCHEMA "auditlog-report/1"
/* Days in a report's period (the daily volume has one entry a day). */
#define ALOG_REPORT_DAYS_MAX 3660

struct alog_report_opts {
	int64_t from_us, to_us;           /* the period [from, to) */
	const struct alog_config *cfg;    /* the inventory and targets */
	const char *config_path;          /* NULL: built in */
	const char *generator;            /* "auditlog 0.3.0" */
	int64_t generated_at_us;          /* the one member that may differ */
	const char *recorded;             /* NULL: recorded as the
					     report.generated event; else
					     why it was not */
	uint64_t sample;                  /* sample size (0: none) */
	/* When set and the period has an end checkpoint (the bundle's
	 * condition), population.csv (SPEC.md 21) is written to this new
	 * file (fsynced; removed on failure) from the same pass that hashes
	 * the population; the summary's csv_written says so. */
	const char *population_csv_path;
	const char *seed;                 /* NULL: derived (SPEC.md 21.1) */
	/* Called now and then during the read of the log (records read of
	 * all to read), or NULL. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
};

struct alog_report_summary {
	char report_id[33];               /* 32 lowercase hex digits */
	uint64_t population;              /* records received in the period */
	size_t components, passed;        /* A1.2 verdicts */
	size_t monitoring_deviations;     /* CC7.2: gaps, days without a run */
	size_t anomalies;                 /* CC7.2: detection rule findings */
	int complete;                     /* bracketed by checkpoints and
					     the consistency proof verified */
	int csv_written;                  /* population_csv_path written */
	/* For the evidence bundle (owned: alog_report_summary_release). */
	int have_start, have_end;
	struct alog_store_checkpoint start, end;
	unsigned char proof[ALOG_MERKLE_PROOF_MAX][ALOG_HASH_LEN];
	size_t n_proof;                   /* consistency proof start -> end */
	uint64_t *samples;                /* sampled indices, ascending */
	size_t n_samples;
	char seed[ALOG_SAMPLE_SEED_MAX + 1];
};
void alog_report_summary_release(struct alog_report_summary *sum);

/* Build the JSON report (one object and a newline) into json. */
int alog_report_json(struct alog_store *s, const struct alog_report_opts *o,
		     struct alog_buf *json, struct alog_report_summary *sum,
		     struct alog_err *err);

/* The report id (SPEC.md 21): the first 16 bytes, in hex, of
 * SHA-256("auditlog-report-v1" 0x00 origin 0x00 FROM 0x00 TO 0x00
 * config_sha256_hex 0x00 SAMPLE 0x00 seed), FROM and TO in the 27-byte
 * time form, config_sha256_hex "" for the built-in configuration,
 * SAMPLE the sample size in decimal and seed the given seed ("" or NULL
 * when it is derived). */
int alog_report_id(const char *origin, int64_t from_us, int64_t to_us,
		   const char *config_sha256_hex, uint64_t sample,
		   const char *seed, char out[33], struct alog_err *err);

#endif
