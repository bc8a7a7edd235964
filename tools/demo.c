/*
 * demo: example data for the README's tour, for tests and for the
 * reporter (SPEC.md sections 3, 11, 17, 18).
 *
 * `auditlog demo events` prints a realistic, reproducible stream of audit
 * events (NDJSON): logins with failures and a burst, access grants,
 * admin-side changes by producers, breaker transitions and health probes
 * of the example components.
 *
 * `auditlog demo history` writes a simulated history of many days into a
 * fresh store through ingest/log.h, with a simulated clock (received =
 * simulated time): the example components' health probes, application
 * breaker outages driven by the breaker of ingest/breaker.h, the daemon's
 * spool episodes with its primary_store transitions, maintenance windows,
 * logins with bursts, operator actions, daily integrity runs and a signed
 * checkpoint at the end of every day. It then prints (and with --truth
 * writes as JSON) what a report over the period must find.
 *
 * Invariants of the history: the same seed gives the same records byte
 * for byte (auditlog's own events get a UUIDv7 id whose random bits come
 * from the seed and a fixed simulated provenance); events are submitted
 * in non-decreasing received order and each day's events are received
 * within that day; every breaker.transition chain per (source, component)
 * starts closed and follows SPEC.md 17.3, because the breaker library
 * makes it; the scenario's episodes never overlap for one component.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ingest/breaker.h"
#include "ingest/clock.h"
#include "ingest/config.h"
#include "ingest/event.h"
#include "ingest/log.h"
#include "store/bytes.h"
#include "store/merkle.h"
#include "store/sign.h"
#include "store/store.h"
#include "tools/cli.h"

struct rng {
	uint64_t s;
};

/* splitmix64: small, fast, reproducible from one seed. */
static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static unsigned rng_below(struct rng *r, unsigned n)
{
	return (unsigned)(rng_next(r) % n);
}

static const char *const users[] = {
	"alice@example.com", "bob@example.com", "carol@example.com",
	"dave@example.com", "erin@example.com", "frank@example.com",
	"grace@example.com", "heidi@example.com",
};
static const char *const components[] = {
	"dashboard_stats", "dashboard_activities", "security_summary",
};
static const char *const resources[] = {
	"billing/invoices", "crm/contacts", "hr/payroll", "prod/db-primary",
	"s3://reports-archive", "vault/secrets/payments",
};
static const char *const agents[] = {
	"Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (Macintosh)",
	"curl/7.88.1", "okhttp/4.12.0",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char usage_demo[] =
"usage: auditlog demo events [--count N] [--seed S] [--start TIME]\n"
"       auditlog demo history --store DIR [--days N] [--end DATE] [--seed S]\n"
"                             [--truth FILE] [--key FILE] [--config FILE]\n"
"\n"
"events: print N (default 10000) realistic audit events as NDJSON, one\n"
"every few seconds from TIME (RFC 3339, default 2026-01-05T08:00:00Z),\n"
"the same stream for the same seed: logins (some failing, one burst of\n"
"failures from one address), access grants and revocations, data\n"
"exports, config changes, health probes and breaker transitions of the\n"
"example components. Pipe it into 'auditlog ingest'.\n"
"\n"
"history: write days of simulated history (probes, outages, spool\n"
"episodes, maintenance, logins, operator actions, checkpoints) into a\n"
"fresh store; 'auditlog demo history --help' says more.\n";

static void ip(struct rng *r, char *out, size_t n)
{
	snprintf(out, n, "10.%u.%u.%u", rng_below(r, 4), rng_below(r, 250),
		 1 + rng_below(r, 250));
}

static int demo_events(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 's' },
		{ "start", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct alog_err err = { 0 };
	struct rng r;
	uint64_t count = 10000, seed = 1;
	int64_t t;
	int c, burst_left = 0;
	const char *start = "2026-01-05T08:00:00Z";
	int open_breaker[N(components)] = { 0 };

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_demo, stdout);
		return EXIT_OK;
	}
	if (argc < 2 || strcmp(argv[1], "events") != 0) {
		fputs(usage_demo, stderr);
		return EXIT_USAGE;
	}
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (cli_parse_u64(optarg, &count) < 0)
				return fputs(usage_demo, stderr), EXIT_USAGE;
			break;
		case 's':
			if (cli_parse_u64(optarg, &seed) < 0)
				return fputs(usage_demo, stderr), EXIT_USAGE;
			break;
		case 't': start = optarg; break;
		case 'h': fputs(usage_demo, stdout); return EXIT_OK;
		default: fputs(usage_demo, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return fputs(usage_demo, stderr), EXIT_USAGE;
	if (alog_time_parse(start, strlen(start), 1, &t, &err) < 0) {
		cli_msg("bad --start: %s", err.msg);
		return EXIT_USAGE;
	}
	r.s = seed;
	for (uint64_t i = 0; i < count; i++) {
		char ts[ALOG_TIME_TEXT_MAX], addr[32];
		unsigned k = rng_below(&r, 100);
		const char *user = users[rng_below(&r, N(users))];
		/* Ids stay unique across seeds: streams can be mixed. */
		uint64_t n = seed * UINT64_C(1000000000) + i;

		t += 500000 + (int64_t)rng_below(&r, 4000000);
		alog_time_format(t, ts);
		ip(&r, addr, sizeof(addr));
		printf("{\"type\":");
		if (burst_left > 0 || (k == 0 && rng_below(&r, 20) == 0)) {
			/* A password-spraying burst from one address. */
			if (burst_left == 0)
				burst_left = 12;
			burst_left--;
			printf("\"auth.login\",\"id\":\"evt-%08" PRIu64
			       "\",\"source\":\"sso\",\"time\":\"%s\",\"actor\":\"%s\","
			       "\"outcome\":\"failure\",\"reason\":\"bad_password\","
			       "\"source_ip\":\"203.0.113.77\",\"user_agent\":\"python-requests/2.31\"}\n",
			       n, ts, user);
		} else if (k < 45) {
			int ok = rng_below(&r, 10) != 0;

			printf("\"auth.login\",\"id\":\"evt-%08" PRIu64
			       "\",\"source\":\"sso\",\"time\":\"%s\",\"actor\":\"%s\","
			       "\"outcome\":\"%s\"%s,\"source_ip\":\"%s\",\"mfa\":%s,"
			       "\"user_agent\":\"%s\"}\n",
			       n, ts, user, ok ? "success" : "failure",
			       ok ? "" : ",\"reason\":\"bad_password\"", addr,
			       ok ? "true" : "false",
			       agents[rng_below(&r, N(agents))]);
		} else if (k < 75) {
			unsigned comp = rng_below(&r, N(components));

			printf("\"health.probe\",\"id\":\"evt-%08" PRIu64
			       "\",\"source\":\"monitor\",\"time\":\"%s\",\"component\":\"%s\","
			       "\"status\":\"%s\",\"latency_ms\":%u}\n",
			       n, ts, components[comp],
			       open_breaker[comp] ? "down" : "up",
			       open_breaker[comp] ? 0 : 3 + rng_below(&r, 80));
		} else if (k < 85) {
			printf("\"access.%s\",\"id\":\"evt-%08" PRIu64
			       "\",\"source\":\"iam\",\"time\":\"%s\",\"actor\":\"%s\","
			       "\"subject\":\"%s\",\"resource\":\"%s\",\"role\":\"%s\","
			       "\"ticket\":\"CHG-%u\"}\n",
			       rng_below(&r, 3) ? "granted" : "revoked", n, ts,
			       users[0], user, resources[rng_below(&r, N(resources))],
			       rng_below(&r, 4) ? "reader" : "admin",
			       1000 + rng_below(&r, 9000));
		} else if (k < 93) {
			printf("\"data.exported\",\"id\":\"evt-%08" PRIu64
			       "\",\"source\":\"reports-api\",\"time\":\"%s\",\"actor\":\"%s\","
			       "\"resource\":\"%s\",\"rows\":%u,\"format\":\"csv\"}\n",
			       n, ts, user, resources[rng_below(&r, N(resources))],
			       1 + rng_below(&r, 50000));
		} else if (k < 97) {
			printf("\"config.changed\",\"id\":\"evt-%08" PRIu64
			       "\",\"source\":\"deploy\",\"time\":\"%s\",\"actor\":\"%s\","
			       "\"setting\":\"session_timeout_minutes\",\"old\":%u,\"new\":%u,"
			       "\"change_ref\":\"CHG-%u\"}\n",
			       n, ts, user, 15 + rng_below(&r, 4) * 15,
			       15 + rng_below(&r, 4) * 15, 1000 + rng_below(&r, 9000));
		} else {
			unsigned comp = rng_below(&r, N(components));
			const char *from = open_breaker[comp] ? "open" : "closed";
			const char *to = open_breaker[comp] ? "closed" : "open";

			open_breaker[comp] = !open_breaker[comp];
			printf("\"breaker.transition\",\"id\":\"evt-%08" PRIu64
			       "\",\"source\":\"%s\",\"time\":\"%s\",\"component\":\"%s\","
			       "\"from\":\"%s\",\"to\":\"%s\",\"cause\":\"%s\","
			       "\"consecutive_failures\":%u}\n",
			       n, "webapp", ts, components[comp], from, to,
			       open_breaker[comp] ? "failure_threshold" : "probe_success",
			       open_breaker[comp] ? 3u : 0u);
		}
	}
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_OPER;
}

/* ---- demo history ------------------------------------------------------ */

#define SEC_US INT64_C(1000000)
#define MS_US INT64_C(1000)
#define MIN_US (60 * SEC_US)
#define HOUR_US (60 * MIN_US)
#define DAY_US (24 * HOUR_US)

/* Limits of the command. */
#define HIST_DAYS_MAX 3660            /* --days */
#define HIST_FILES_MAX 8              /* spool files in one activation */
#define HIST_LINE_MAX 2048            /* bytes of one generated event */
/* A component is known for this many probe intervals after each of its
 * probes or transitions (the A1.2 rule the truth applies). */
#define HIST_PROBE_TOLERANCE 3
#define HIST_FLAP_OPENS 3             /* episodes ... */
#define HIST_FLAP_WINDOW_US HOUR_US   /* ... starting within this */
#define HIST_MISS_ONE_IN 20000        /* a probe goes missing 1 in N */
/* The simulated daemon and where it keeps things. */
#define HIST_DAEMON_UID 998
#define HIST_DAEMON_PID 2817
#define HIST_STORE_PATH "/var/lib/auditlog/store"
#define HIST_SPOOL_DIR "/var/spool/auditlog"
#define HIST_CONFIG_PATH "/etc/auditlog/auditlog.json"

/* tools/auditlog.example.json, byte for byte (the test compares hashes):
 * the default inventory, probe intervals and breaker settings. */
static const char example_config[] =
"{\n"
"  \"version\": 1,\n"
"  \"components\": [\n"
"    {\n"
"      \"name\": \"dashboard_stats\",\n"
"      \"tier\": \"general\",\n"
"      \"target\": 0.995,\n"
"      \"owner\": \"dashboards-team@example.com\",\n"
"      \"probe_interval_s\": 60,\n"
"      \"breaker\": {\n"
"        \"threshold\": 3,\n"
"        \"failure_rate\": 0.5,\n"
"        \"window_s\": 60,\n"
"        \"min_calls\": 20,\n"
"        \"open_timeout_s\": 30,\n"
"        \"backoff\": 2,\n"
"        \"open_timeout_max_s\": 300,\n"
"        \"probes\": 1\n"
"      }\n"
"    },\n"
"    {\n"
"      \"name\": \"dashboard_activities\",\n"
"      \"tier\": \"critical\",\n"
"      \"target\": 0.999,\n"
"      \"owner\": \"dashboards-team@example.com\",\n"
"      \"probe_interval_s\": 30,\n"
"      \"breaker\": {\n"
"        \"threshold\": 2,\n"
"        \"failure_rate\": 0.25,\n"
"        \"window_s\": 60,\n"
"        \"min_calls\": 20,\n"
"        \"open_timeout_s\": 15,\n"
"        \"backoff\": 1.5,\n"
"        \"open_timeout_max_s\": 120,\n"
"        \"probes\": 2\n"
"      }\n"
"    },\n"
"    {\n"
"      \"name\": \"security_summary\",\n"
"      \"tier\": \"critical\",\n"
"      \"target\": 0.999,\n"
"      \"owner\": \"security-oncall@example.com\",\n"
"      \"probe_interval_s\": 30,\n"
"      \"breaker\": {\n"
"        \"threshold\": 2,\n"
"        \"open_timeout_s\": 15,\n"
"        \"probes\": 1\n"
"      }\n"
"    },\n"
"    {\n"
"      \"name\": \"primary_store\",\n"
"      \"tier\": \"critical\",\n"
"      \"target\": 0.9995,\n"
"      \"owner\": \"platform-oncall@example.com\",\n"
"      \"probe_interval_s\": 10,\n"
"      \"breaker\": {\n"
"        \"threshold\": 2,\n"
"        \"failure_rate\": 0,\n"
"        \"open_timeout_s\": 15,\n"
"        \"backoff\": 2,\n"
"        \"open_timeout_max_s\": 240,\n"
"        \"probes\": 3\n"
"      }\n"
"    }\n"
"  ],\n"
"  \"failover_target_s\": 30,\n"
"  \"business_hours\": {\n"
"    \"start\": \"08:00\",\n"
"    \"end\": \"18:00\",\n"
"    \"days\": [1, 2, 3, 4, 5],\n"
"    \"tz\": \"UTC\"\n"
"  },\n"
"  \"partial_weight\": 0\n"
"}\n"
;

static const char usage_history[] =
"usage: auditlog demo history --store DIR [--days N] [--end DATE] [--seed S]\n"
"                             [--truth FILE] [--key FILE] [--config FILE]\n"
"\n"
"Write N days (default 90) of realistic history ending at DATE (RFC 3339\n"
"or YYYY-MM-DD; default today 00:00Z) into the fresh store DIR ('auditlog\n"
"init' it first), with a simulated clock: every event is received at its\n"
"simulated time, and the same seed (default 1) writes the same records,\n"
"byte for byte. For the components of the configuration (default: the\n"
"example file tools/auditlog.example.json, built in):\n"
"  - health probes every probe_interval_s, down or degraded during\n"
"    outages, a few missing, and one 20-minute monitoring gap;\n"
"  - breaker outages of dashboard_activities and security_summary made\n"
"    by the breaker library (one flapping burst, one operator reset) and\n"
"    a probe-only outage of dashboard_stats;\n"
"  - two spool episodes of the daemon's primary_store with backup\n"
"    events, one ended by an operator at night;\n"
"  - maintenance windows (approved, overlapping, one without change_ref),\n"
"    logins with a burst per actor and per address, operator actions\n"
"    (one denied), daily integrity runs (one day missing), a few events\n"
"    whose clock is 10 minutes off, and a checkpoint signed every day.\n"
"Then it prints the events by type, the outages with their exact\n"
"lengths and the availability a report must find.\n"
"\n"
"  --days N       1..3660 days (default 90)\n"
"  --end DATE     end of the period (exclusive)\n"
"  --seed S       the simulation's seed (default 1)\n"
"  --truth FILE   also write the expected findings as JSON\n"
"  --key FILE     the signing key (default: DIR.key beside the store)\n"
"  --config FILE  the configuration whose components are simulated; it\n"
"                 must list dashboard_stats, dashboard_activities and\n"
"                 security_summary\n"
"\n"
"exit status: 0 written, 2 usage (or a store that is not empty), 3 error\n";

enum hstate { ST_UP = 0, ST_DOWN, ST_PARTIAL };
static const char *const state_status[] = { "up", "down", "degraded" };

enum htype {
	T_PROBE, T_LOGIN, T_TRANSITION, T_MAINT, T_ADMIN, T_INTEGRITY,
	T_ACTIVATED, T_REPLAYED, T_STARTED, T_CHECKPOINT, N_TYPES
};
static const char *const type_name[N_TYPES] = {
	"health.probe", "auth.login", "breaker.transition",
	"maintenance.window", "admin.action", "integrity.verified",
	"backup.activated", "backup.replayed", "daemon.started",
	"checkpoint.signed",
};

/* Who sends what (the provenance the simulated daemon would record). */
enum hsrc {
	SRC_DAEMON, SRC_VERIFY, SRC_MONITOR, SRC_APP, SRC_SSO, SRC_CHANGE,
	SRC_LEGACY, N_SRC
};

enum hmark { M_NONE, M_SKEW, M_BURST, M_ADMIN, M_MAINT, M_ACTIVATED };
enum hkind { HK_LINE, HK_INTEGRITY, HK_ACTIVATED };

/* One event to write. Its line lives in the scenario's or the day's text
 * arena (offsets stay valid while the arena grows). */
struct hev {
	int64_t received;   /* simulated time, us */
	uint64_t seq;       /* creation order: ties of received and cls */
	size_t off;
	uint32_t len;
	uint8_t cls;        /* 1 sorts after every 0 of the same time */
	uint8_t scen;       /* 1: scenario arena, 0: the day's */
	uint8_t src;        /* enum hsrc */
	uint8_t kind;       /* enum hkind */
	uint8_t type;       /* enum htype */
	uint8_t mark;       /* enum hmark: the truth wants its index */
	uint16_t arg;       /* mark's item; HK_INTEGRITY: the day */
};

struct hlist {
	struct hev *v;
	size_t n, cap;
};

struct hpoint {
	int64_t t;
	int state;          /* enum hstate from t on */
};

struct hspan {
	int64_t a, b;       /* [a, b) */
};

/* Classes of time (SPEC.md 20.5), in their order of precedence. */
enum hclass { CL_EXCLUDED, CL_UNKNOWN, CL_DOWN, CL_PARTIAL, CL_UP };

struct hseg {
	int64_t a, b;       /* [a, b) */
	int cls;            /* enum hclass */
};

struct hist;

struct hcomp {
	struct hist *h;
	const struct alog_config_component *cfg;
	int probed;          /* the monitor probes it (not daemon-owned) */
	int has_breaker;     /* it reports breaker.transition: the signal */
	int64_t interval_us, offset_us; /* probe k runs at from + offset + k iv */
	struct alog_breaker b;
	/* What the probes see (the scenario), sorted change points. */
	struct hpoint *plan;
	size_t n_plan, cap_plan, cur_plan;
	/* What was written: probe state changes, known spans. */
	struct hpoint *sig;
	size_t n_sig, cap_sig;
	int sig_state;
	struct hspan *known;
	size_t n_known, cap_known;
	int64_t known_a, known_b; /* the open span; known_b < known_a: none */
	uint64_t probes_expected, probes_written;
	/* The truth. */
	int64_t period_us, excluded_us, down_us, partial_us, unknown_us;
	int64_t up_us;
	struct hseg *segs;          /* the period's pieces and their class */
	size_t n_segs;
	uint32_t raw_ppm, weighted_ppm;
	uint64_t budget_permille;  /* of (1 - target) x (T - E), rounded up */
	int unknown_decides;       /* fails, but would pass were U up */
};

struct htrans {
	size_t comp;
	struct alog_breaker_transition t;
};

/* An application backend failing in [fail_from, fail_to). */
struct houtage {
	size_t comp;
	int64_t fail_from, fail_to;
	int64_t cadence_us;  /* the application's calls */
	int64_t reset_at;    /* an operator resets the breaker; 0: none */
	int admin;           /* that operator action, or -1 */
};

struct hwin {
	size_t comp;
	int64_t start, end;
	const char *change_ref; /* NULL: none (a deviation) */
	const char *approver, *reason;
	int64_t down_from, down_to; /* what probes see as down; 0: nothing */
	uint64_t index;
};

struct hadmin {
	int64_t at;
	const char *operator_name, *auth_method, *action, *target, *reason;
	const char *outcome, *change_ref;
	uint64_t index;
};

struct hburst {
	const char *kind, *subject;
	uint32_t n;
	int64_t first, last;
	uint64_t first_index, last_index, seen;
};

struct hfile {
	char id[17];
	int64_t from, to;         /* lines received in [from, to] */
	int64_t last_received, replayed_at;
	uint64_t records, imported, duplicates, conflicts;
	int drained;
};

/* The daemon's primary store failing: one spool activation. */
struct hepisode {
	int64_t fail_at, repair_at, reset_at; /* reset_at 0: automatic */
	const char *error;
	uint32_t duplicates, conflicts; /* spool lines replay finds stored */
	int admin;
	int64_t seal1;            /* the first replay attempt seals file 1 */
	int64_t recover_at;       /* automatic: the successful half-open */
	int64_t closed_at;
	struct hfile files[HIST_FILES_MAX];
	size_t n_files;
	uint64_t activated_index;
};

struct hist {
	struct rng r;
	uint64_t seed;
	int64_t from_us, to_us;
	uint32_t days;
	struct alog_config cfg;
	struct hcomp *comps;
	size_t n_comps, c_stats, c_act, c_sec, c_store;
	struct htrans *trans;
	size_t n_trans, cap_trans;
	int oom;                  /* the breaker callback could not keep one */
	struct houtage out[8];
	size_t n_out;
	struct hepisode ep[2];
	size_t n_ep;
	struct hwin win[8];
	size_t n_win;
	struct hadmin adm[4];
	size_t n_adm;
	struct hburst burst[2];
	int64_t gap_a, gap_b;     /* the monitoring gap */
	uint32_t no_integrity_day; /* UINT32_MAX: none */
	int64_t login_t;          /* the next background login */
	struct hlist scen, day;
	struct alog_buf scen_text, day_text;
	size_t scen_cur;          /* next scenario event to write */
	uint64_t seq;
	uint64_t next_id[N_SRC];
	uint32_t spool_seq;
	/* Writing. */
	struct alog_log *log;
	struct alog_event ev;
	struct alog_buf line;
	uint64_t by_type[N_TYPES], total;
	uint64_t skew_index[8];
	int64_t skew_time[8], skew_received[8];
	size_t n_skew;
	uint64_t n_checkpoints, n_integrity;
	int tty;
};

/* ---- small helpers ---- */

static uint64_t mix64(uint64_t z)
{
	z += UINT64_C(0x9E3779B97F4A7C15);
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* A value of (seed, a, b) without a sequence: the probes' randomness. */
static uint64_t hash3(uint64_t seed, uint64_t a, uint64_t b)
{
	return mix64(mix64(mix64(seed) ^ a) ^ b);
}

/* Up to max_s seconds of jitter, with ms and us. */
static int64_t jitter(struct hist *h, unsigned max_s)
{
	int64_t s = max_s ? rng_below(&h->r, max_s) : 0;

	return s * SEC_US + rng_below(&h->r, 1000) * MS_US +
	       rng_below(&h->r, 1000);
}

/* Day floor(days * permille / 1000) of the period, at time of day tod. */
static int64_t when(const struct hist *h, unsigned permille, int64_t tod)
{
	uint64_t d = (uint64_t)h->days * permille / 1000;

	return h->from_us + (int64_t)d * DAY_US + tod;
}

/* t moved by whole days (0, -1, +1, -2, ...) so that [t, t + len] lies in
 * business hours and in the period; t when no day within a week does. */
static int64_t in_hours(const struct hist *h, int64_t t, int64_t len)
{
	for (int k = 0; k < 14; k++) {
		int64_t d = (k % 2 ? -(k + 1) / 2 : k / 2) * DAY_US;
		int64_t u = t + d;

		if (u >= h->from_us && u + len < h->to_us &&
		    alog_config_in_business_hours(&h->cfg, u) &&
		    alog_config_in_business_hours(&h->cfg, u + len))
			return u;
	}
	return t;
}

static const char *ts(int64_t us, char out[ALOG_TIME_TEXT_MAX])
{
	if (alog_time_format(us, out) < 0)
		snprintf(out, ALOG_TIME_TEXT_MAX, "?");
	return out;
}

/* "1h02m03.456789s" (h and m only when not zero). */
static const char *dur(int64_t us, char out[40])
{
	int64_t s = us / SEC_US, f = us % SEC_US;

	if (s >= 3600)
		snprintf(out, 40, "%" PRId64 "h%02" PRId64 "m%02" PRId64 ".%06" PRId64 "s",
			 s / 3600, s / 60 % 60, s % 60, f);
	else if (s >= 60)
		snprintf(out, 40, "%" PRId64 "m%02" PRId64 ".%06" PRId64 "s",
			 s / 60, s % 60, f);
	else
		snprintf(out, 40, "%" PRId64 ".%06" PRId64 "s", s, f);
	return out;
}

/* "99.987" of parts per million: three decimals of percent, truncated
 * (SPEC.md 20.5 "Text"). */
static const char *pct(uint32_t ppm, char out[16])
{
	snprintf(out, 16, "%u.%03u", ppm / 10000, ppm / 10 % 1000);
	return out;
}

/* floor(num * 10^6 / den) for 0 <= num <= den, den > 0, without
 * overflow: long division, one decimal digit at a time. */
static uint32_t ppm_of(uint64_t num, uint64_t den)
{
	uint64_t q = num / den, r = num % den;

	for (int i = 0; i < 6; i++) {
		r *= 10;
		q = q * 10 + r / den;
		r %= den;
	}
	return (uint32_t)q;
}

/* The products of the error budget need more than 64 bits. */
__extension__ typedef unsigned __int128 u128;

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap * 2 : 64;
	void *q;

	if (n < *cap)
		return 0;
	if (c > SIZE_MAX / size)
		return ALOG_ENOMEM;
	q = realloc(*p, c * size);
	if (!q)
		return ALOG_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

static int add_point(struct hpoint **v, size_t *n, size_t *cap, int64_t t,
		     int state)
{
	if (grow((void **)v, cap, *n, sizeof(**v)) < 0)
		return ALOG_ENOMEM;
	(*v)[*n].t = t;
	(*v)[(*n)++].state = state;
	return 0;
}

static int add_span(struct hspan **v, size_t *n, size_t *cap, int64_t a,
		    int64_t b)
{
	if (grow((void **)v, cap, *n, sizeof(**v)) < 0)
		return ALOG_ENOMEM;
	(*v)[*n].a = a;
	(*v)[(*n)++].b = b;
	return 0;
}

/* A deterministic UUIDv7 (SPEC.md section 3 "UUIDv7") for received time
 * us: the layout of alog_uuid7, with rand_b from the seed instead of a
 * CSPRNG, so that the history is the same for the same seed. */
static void uuid7_det(int64_t us, uint64_t rnd, char out[37])
{
	unsigned char b[16];
	char hex[33];
	uint64_t ms = (uint64_t)us / 1000;
	unsigned sub = (unsigned)((us % 1000) * 4096 / 1000);

	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	b[6] = (unsigned char)(0x70 | (sub >> 8));
	b[7] = (unsigned char)sub;
	for (int i = 0; i < 8; i++)
		b[8 + i] = (unsigned char)(rnd >> (8 * i));
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3F));
	alog_hex_encode(b, sizeof(b), hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
		 hex + 16, hex + 20);
}

static void src_provenance(int src, int64_t pid, struct alog_provenance *p)
{
	memset(p, 0, sizeof(*p));
	p->uid = p->gid = p->pid = -1;
	switch (src) {
	case SRC_DAEMON:
	case SRC_VERIFY:
		/* as alog_log_internal_provenance: no gid */
		p->transport = "internal";
		p->uid = HIST_DAEMON_UID;
		p->pid = src == SRC_DAEMON ? HIST_DAEMON_PID : pid;
		break;
	case SRC_MONITOR:
		p->transport = "unix";
		p->uid = p->gid = 1002;
		p->pid = 1310;
		break;
	case SRC_APP:
		p->transport = "unix";
		p->uid = p->gid = 1003;
		p->pid = 2204;
		break;
	case SRC_SSO:
		p->transport = "tls";
		p->addr = "10.0.4.21:51544";
		p->subject = "CN=sso.example.com,O=Example Corp";
		break;
	case SRC_CHANGE:
		p->transport = "tls";
		p->addr = "10.0.7.5:40112";
		p->subject = "CN=change.example.com,O=Example Corp";
		break;
	default:
		p->transport = "tcp";
		p->addr = "10.0.9.14:39012";
		break;
	}
}

/* ---- events ---- */

static int ev_cmp(const void *a, const void *b)
{
	const struct hev *x = a, *y = b;

	if (x->received != y->received)
		return x->received < y->received ? -1 : 1;
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const char *ev_line(const struct hist *h, const struct hev *e)
{
	return (const char *)(e->scen ? h->scen_text.data : h->day_text.data) +
	       e->off;
}

static int add_raw(struct hist *h, int scen, int64_t received, int src,
		   int type, const char *line, size_t len, struct hev **out,
		   struct alog_err *err)
{
	struct hlist *l = scen ? &h->scen : &h->day;
	struct alog_buf *text = scen ? &h->scen_text : &h->day_text;
	struct hev *e;
	size_t off = text->len;
	int rc;

	if (grow((void **)&l->v, &l->cap, l->n, sizeof(*l->v)) < 0)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	rc = alog_buf_add(text, line, len + 1, err); /* with its NUL */
	if (rc < 0)
		return rc;
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	e->received = received;
	e->seq = h->seq++;
	e->off = off;
	e->len = (uint32_t)len;
	e->scen = (uint8_t)scen;
	e->src = (uint8_t)src;
	e->type = (uint8_t)type;
	if (out)
		*out = e;
	return 0;
}

static int add_ev(struct hist *h, int scen, int64_t received, int src,
		  int type, struct hev **out, struct alog_err *err,
		  const char *fmt, ...) __attribute__((format(printf, 8, 9)));

static int add_ev(struct hist *h, int scen, int64_t received, int src,
		  int type, struct hev **out, struct alog_err *err,
		  const char *fmt, ...)
{
	char line[HIST_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return alog_err_set(err, ALOG_ELIMIT,
				    "demo event longer than %d bytes",
				    HIST_LINE_MAX);
	return add_raw(h, scen, received, src, type, line, (size_t)n, out,
		       err);
}

/* A producer's next id: "<prefix>-<n>". */
static uint64_t next_id(struct hist *h, int src)
{
	return ++h->next_id[src];
}

static const char *user_addr(unsigned u, char out[32])
{
	snprintf(out, 32, "10.20.%u.%u", u + 1, (u * 37) % 250 + 1);
	return out;
}

static int add_login(struct hist *h, int scen, int src, int64_t received,
		     int64_t time_us, const char *actor, int ok,
		     const char *addr, const char *method, const char *reason,
		     struct hev **out, struct alog_err *err)
{
	char t[ALOG_TIME_TEXT_MAX];

	return add_ev(h, scen, received, src, T_LOGIN, out, err,
		      "{\"type\":\"auth.login\",\"id\":\"%s-%08" PRIu64
		      "\",\"source\":\"%s\",\"time\":\"%s\",\"actor\":\"%s\","
		      "\"outcome\":\"%s\",\"source_addr\":\"%s\",\"method\":\"%s\"%s%s%s}",
		      src == SRC_SSO ? "sso" : "lsso", next_id(h, src),
		      src == SRC_SSO ? "sso" : "legacy-sso", ts(time_us, t),
		      actor, ok ? "success" : "failure", addr, method,
		      reason ? ",\"reason\":\"" : "", reason ? reason : "",
		      reason ? "\"" : "");
}

/* ---- the scenario ---- */

static void on_transition(void *ctx, const struct alog_breaker_transition *t)
{
	struct hcomp *c = ctx;
	struct hist *h = c->h;

	if (grow((void **)&h->trans, &h->cap_trans, h->n_trans,
		 sizeof(*h->trans)) < 0) {
		h->oom = 1;
		return;
	}
	h->trans[h->n_trans].comp = (size_t)(c - h->comps);
	h->trans[h->n_trans++].t = *t;
}

static int find_comp(struct hist *h, const char *name, size_t *out,
		     struct alog_err *err)
{
	for (size_t i = 0; i < h->n_comps; i++)
		if (!strcmp(h->comps[i].cfg->name, name)) {
			*out = i;
			return 0;
		}
	return alog_err_set(err, ALOG_EINVAL,
			    "the configuration has no component '%s' (the demo's scenario needs dashboard_stats, dashboard_activities and security_summary)",
			    name);
}

static int add_window(struct hist *h, size_t comp, int64_t start,
		      int64_t len, const char *change_ref,
		      const char *approver, const char *reason,
		      int64_t down_from, int64_t down_to)
{
	struct hwin *w = &h->win[h->n_win++];

	memset(w, 0, sizeof(*w));
	w->comp = comp;
	w->start = start;
	w->end = start + len;
	w->change_ref = change_ref;
	w->approver = approver;
	w->reason = reason;
	if (down_to > down_from) {
		w->down_from = start + down_from;
		w->down_to = start + down_to;
	}
	return 0;
}

static int add_admin(struct hist *h, const char *op, const char *method,
		     const char *action, const char *target,
		     const char *reason, const char *outcome,
		     const char *change_ref)
{
	struct hadmin *a = &h->adm[h->n_adm];

	memset(a, 0, sizeof(*a));
	a->operator_name = op;
	a->auth_method = method;
	a->action = action;
	a->target = target;
	a->reason = reason;
	a->outcome = outcome;
	a->change_ref = change_ref;
	return (int)h->n_adm++;
}

static int outage_cmp(const void *a, const void *b)
{
	const struct houtage *x = a, *y = b;

	return x->fail_from < y->fail_from ? -1 : x->fail_from > y->fail_from;
}

static int admin_cmp(const void *a, const void *b)
{
	const struct hadmin *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static int episode_cmp(const void *a, const void *b)
{
	const struct hepisode *x = a, *y = b;

	return x->fail_at < y->fail_at ? -1 : x->fail_at > y->fail_at;
}

/* Where everything happens. Items sit at a fraction of the period and a
 * time of day; the times of day keep the items of one component apart
 * even when the period is one day. */
static void plan(struct hist *h)
{
	struct houtage *o;
	struct hepisode *e;
	int64_t t;
	int k;

	add_window(h, h->c_stats, when(h, 50, 2 * HOUR_US), HOUR_US,
		   "CHG-1042", "carol@example.com",
		   "database minor version upgrade", 5 * MIN_US, 50 * MIN_US);
	add_window(h, h->c_sec, when(h, 350, 3 * HOUR_US + 30 * MIN_US),
		   30 * MIN_US, "CHG-1107", "grace@example.com",
		   "tls certificate rotation", 0, 0);
	add_window(h, h->c_store, when(h, 550, 4 * HOUR_US + 15 * MIN_US),
		   45 * MIN_US, "CHG-1188", "carol@example.com",
		   "storage controller firmware update", 0, 0);
	add_window(h, h->c_act, when(h, 750, 19 * HOUR_US), 20 * MIN_US, NULL,
		   NULL, "hotfix deployed outside the change process", 0, 0);
	/* two overlapping windows; the probes see one downtime */
	add_window(h, h->c_stats, when(h, 900, 20 * HOUR_US), HOUR_US,
		   "CHG-1203", "grace@example.com", "schema migration, part 1",
		   5 * MIN_US, 110 * MIN_US);
	add_window(h, h->c_stats, when(h, 900, 20 * HOUR_US + 30 * MIN_US),
		   90 * MIN_US, "CHG-1204", "grace@example.com",
		   "schema migration, part 2", 0, 0);

	o = &h->out[h->n_out++];   /* a daytime outage, automatic */
	o->comp = h->c_act;
	o->fail_from = when(h, 100, 10 * HOUR_US + 17 * MIN_US) + jitter(h, 120);
	o->fail_to = o->fail_from + 6 * MIN_US + 40 * SEC_US;
	o->cadence_us = 2 * SEC_US;
	o->admin = -1;
	for (int i = 0; i < 3; i++) { /* flapping: 3 opens within an hour */
		static const int64_t at[] = { 5, 21, 48 };

		o = &h->out[h->n_out++];
		o->comp = h->c_act;
		o->fail_from = when(h, 300, 14 * HOUR_US + at[i] * MIN_US) +
			       jitter(h, 60);
		o->fail_to = o->fail_from + 40 * SEC_US;
		o->cadence_us = 2 * SEC_US;
		o->admin = -1;
	}
	o = &h->out[h->n_out++];   /* at night: few calls, long half-opens */
	o->comp = h->c_sec;
	o->fail_from = when(h, 450, HOUR_US + 12 * MIN_US) + jitter(h, 300);
	o->fail_to = o->fail_from + 23 * MIN_US;
	o->cadence_us = 45 * SEC_US;
	o->admin = -1;
	o = &h->out[h->n_out++];   /* ended by an operator's reset */
	o->comp = h->c_sec;
	t = when(h, 700, 11 * HOUR_US + 40 * MIN_US) + jitter(h, 120);
	o->fail_from = in_hours(h, t, 20 * MIN_US);
	o->fail_to = o->reset_at = o->fail_from + 18 * MIN_US;
	o->cadence_us = 2 * SEC_US;
	o->admin = add_admin(h, "dave@example.com", "peer_credentials",
			     "breaker.reset", "security_summary",
			     "backend redeployed after a bad configuration push",
			     "success", "CHG-1311");
	qsort(h->out, h->n_out, sizeof(h->out[0]), outage_cmp);

	e = &h->ep[h->n_ep++];
	e->fail_at = when(h, 150, 13 * HOUR_US + 31 * MIN_US) + jitter(h, 180);
	e->repair_at = e->fail_at + 4 * MIN_US;
	e->error = "fdatasync '" HIST_STORE_PATH "/segments/00000001.seg': No space left on device";
	e->admin = -1;
	e = &h->ep[h->n_ep++];
	e->fail_at = when(h, 800, 3 * HOUR_US + 12 * MIN_US) + jitter(h, 120);
	e->repair_at = e->reset_at = e->fail_at + 9 * MIN_US + 28 * SEC_US;
	e->error = "write '" HIST_STORE_PATH "/segments/00000001.seg': Input/output error";
	e->duplicates = 3;
	e->conflicts = 1;
	e->admin = add_admin(h, "frank@example.com", "token", "breaker.reset",
			     "primary_store",
			     "store volume remounted read-write after a controller reset",
			     "success", "CHG-1402");
	qsort(h->ep, h->n_ep, sizeof(h->ep[0]), episode_cmp);

	k = add_admin(h, "erin@example.com", "token", "breaker.force_open",
		      "dashboard_activities", "load test of the fallback page",
		      "denied", NULL);
	h->adm[k].at = in_hours(h, when(h, 500, 15 * HOUR_US + 10 * MIN_US) +
				       jitter(h, 600), 0);

	h->burst[0].kind = "actor";
	h->burst[0].subject = "heidi@example.com";
	h->burst[0].n = 12;
	h->burst[0].first = when(h, 400, 9 * HOUR_US + 13 * MIN_US) +
			    jitter(h, 300);
	h->burst[1].kind = "source_addr";
	h->burst[1].subject = "203.0.113.77";
	h->burst[1].n = 15;
	h->burst[1].first = when(h, 650, 23 * HOUR_US + 2 * MIN_US) +
			    jitter(h, 300);

	h->gap_a = when(h, 600, 5 * HOUR_US + 40 * MIN_US) + jitter(h, 120);
	h->gap_b = h->gap_a + 20 * MIN_US;
	h->no_integrity_day = h->days >= 2 ? h->days * 550 / 1000 : UINT32_MAX;
}

/* An application's calls through its breaker while its backend fails. */
static int simulate_outage(struct hist *h, struct houtage *o,
			   struct alog_err *err)
{
	struct hcomp *c = &h->comps[o->comp];
	struct alog_breaker *b = &c->b;
	/* calls before the failure fill the rate window */
	int64_t t = o->fail_from - 30 * o->cadence_us;

	if (t < h->from_us)
		t = h->from_us;
	for (;;) {
		if (o->reset_at && t >= o->reset_at) {
			size_t n = h->n_trans;

			/* the operator's action comes just before its effect
			 * (a reset of a closed breaker reports nothing) */
			alog_breaker_reset(b, o->reset_at);
			h->adm[o->admin].at = (h->n_trans > n ?
					       h->trans[h->n_trans - 1].t.at_us :
					       o->reset_at) - 40 * MS_US;
			return 0;
		}
		alog_breaker_tick(b, t);
		if (t >= o->fail_to &&
		    alog_breaker_state(b) == ALOG_BREAKER_CLOSED)
			return 0;
		if (alog_breaker_allow(b, t)) {
			int ok = t < o->fail_from || t >= o->fail_to;
			/* a failure is a 1 s timeout */
			int64_t lat = ok ? 35 * MS_US +
				      (int64_t)rng_below(&h->r, 90000) : SEC_US;

			alog_breaker_record(b, t + lat, ok);
		}
		t += o->cadence_us;
		if (t > o->fail_to + DAY_US)
			return alog_err_set(err, ALOG_ESTATE,
					    "the breaker of '%s' did not close within a day",
					    c->cfg->name);
	}
}

/* The daemon's breaker while the store fails (SPEC.md 17.8): the failed
 * commit, replay attempts, probes at each half-open, recovery. */
static int simulate_episode(struct hist *h, struct hepisode *e,
			    struct alog_err *err)
{
	struct alog_breaker *b = &h->comps[h->c_store].b;
	int64_t t = e->fail_at;

	alog_breaker_allow(b, t);
	alog_breaker_record(b, t + 3 * MS_US, 0);
	e->seal1 = t + SEC_US; /* the first replay attempt seals file 1 */
	for (t = e->seal1; alog_breaker_state(b) == ALOG_BREAKER_CLOSED;
	     t += SEC_US) {
		alog_breaker_allow(b, t);
		alog_breaker_record(b, t + 3 * MS_US, 0);
	}
	for (;;) {
		int64_t d = alog_breaker_next_deadline(b);

		if (d == INT64_MAX)
			return alog_err_set(err, ALOG_ESTATE,
					    "primary_store breaker has no deadline");
		if (e->reset_at && e->reset_at < d) {
			alog_breaker_reset(b, e->reset_at);
			e->recover_at = e->reset_at;
			e->closed_at = h->trans[h->n_trans - 1].t.at_us;
			h->adm[e->admin].at = e->closed_at - 2 * MS_US;
			return 0;
		}
		alog_breaker_tick(b, d);
		alog_breaker_allow(b, d);
		if (d + 3 * MS_US < e->repair_at) {
			alog_breaker_record(b, d + 3 * MS_US, 0);
			continue;
		}
		/* the probe replays file 1; more replay batches follow */
		e->recover_at = d;
		for (int k = 1; k <= ALOG_BREAKER_PROBES_MAX &&
		     alog_breaker_state(b) == ALOG_BREAKER_HALF_OPEN; k++) {
			alog_breaker_allow(b, d + (3 * k - 2) * MS_US);
			alog_breaker_record(b, d + 3 * k * MS_US, 1);
		}
		e->closed_at = h->trans[h->n_trans - 1].t.at_us;
		return 0;
	}
}

static int plan_points_cmp(const void *a, const void *b)
{
	const struct hpoint *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

/* Turn the simulated transitions and the plan into scenario events. */
static int scenario_events(struct hist *h, struct alog_err *err)
{
	struct alog_buf m;
	char t1[ALOG_TIME_TEXT_MAX], t2[ALOG_TIME_TEXT_MAX];
	int64_t *last = NULL;
	struct hev *e;
	int rc = 0;

	alog_buf_init(&m, HIST_LINE_MAX);
	last = calloc(h->n_comps, sizeof(*last));
	if (!last) {
		rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
		goto out;
	}
	{
		unsigned char hash[ALOG_HASH_LEN];
		char hex[2 * ALOG_HASH_LEN + 1];
		char opts[1024];
		int n;

		/* config_hash (SPEC.md 15.4): the daemon's options, sorted */
		n = snprintf(opts, sizeof(opts),
			     "checkpoint_events=100000\ncheckpoint_interval=60\n"
			     "config_file_sha256=%s\nidle_timeout=300\n"
			     "key=" HIST_STORE_PATH ".key\nlisten=\n"
			     "max_connections=1024\n"
			     "socket=/run/auditlog/auditlog.sock\n"
			     "store=" HIST_STORE_PATH "\ntls_ca=\ntls_cert=\n"
			     "tls_key=\n", h->cfg.hash_hex);
		alog_hasher_sha256(NULL, opts, (size_t)n, NULL, 0, hash);
		alog_hex_encode(hash, sizeof(hash), hex);
		rc = add_ev(h, 1, h->from_us, SRC_DAEMON, T_STARTED, NULL, err,
			    "{\"type\":\"daemon.started\",\"source\":\"auditlog\","
			    "\"version\":\"%s\",\"pid\":%d,\"config_hash\":\"%s\","
			    "\"store\":\"" HIST_STORE_PATH "\",\"config_file\":\""
			    HIST_CONFIG_PATH "\",\"config_file_sha256\":\"%s\","
			    "\"spool\":\"" HIST_SPOOL_DIR "\",\"spool_same_device\":false}",
			    ALOG_VERSION, HIST_DAEMON_PID, hex, h->cfg.hash_hex);
		if (rc < 0)
			goto out;
	}
	for (size_t i = 0; i < h->n_trans; i++) {
		const struct htrans *x = &h->trans[i];
		struct hcomp *c = &h->comps[x->comp];
		int64_t rec;
		static const int st[] = { ST_UP, ST_DOWN, ST_PARTIAL };

		c->has_breaker = 1;
		alog_buf_reset(&m);
		rc = alog_breaker_transition_format(&m, c->cfg->name,
						    strlen(c->cfg->name),
						    &x->t, err);
		if (rc < 0)
			goto out;
		if (c->cfg->daemon_owned) {
			/* the daemon spools it at once, as it writes it */
			rec = x->t.at_us + MS_US;
			if (rec <= last[x->comp])
				rec = last[x->comp] + 1;
			rc = add_ev(h, 1, rec, SRC_DAEMON, T_TRANSITION, NULL,
				    err, "{\"type\":\"breaker.transition\","
				    "\"source\":\"auditlog\",\"time\":\"%s\",%s}",
				    ts(x->t.at_us, t1), m.data);
		} else {
			rec = x->t.at_us + 8 * MS_US +
			      (int64_t)rng_below(&h->r, 30000);
			if (rec <= last[x->comp])
				rec = last[x->comp] + 1;
			rc = add_ev(h, 1, rec, SRC_APP, T_TRANSITION, NULL, err,
				    "{\"type\":\"breaker.transition\",\"id\":\"dash-brk-%06" PRIu64
				    "\",\"source\":\"dashboards\",\"time\":\"%s\",%s}",
				    next_id(h, SRC_APP), ts(x->t.at_us, t1),
				    m.data);
			if (rc == 0)
				rc = add_point(&c->plan, &c->n_plan,
					       &c->cap_plan, x->t.at_us,
					       st[x->t.to]);
		}
		if (rc < 0)
			goto out;
		last[x->comp] = rec;
	}
	for (size_t i = 0; i < h->n_win; i++) {
		struct hwin *w = &h->win[i];
		struct hcomp *c = &h->comps[w->comp];
		char id[64], extra[256];

		if (w->change_ref)
			snprintf(id, sizeof(id), "%s", w->change_ref);
		else
			snprintf(id, sizeof(id), "unplanned-%zu", i);
		if (w->change_ref)
			snprintf(extra, sizeof(extra),
				 ",\"change_ref\":\"%s\",\"approver\":\"%s\"",
				 w->change_ref, w->approver);
		else
			extra[0] = 0;
		rc = add_ev(h, 1, w->start + 1200 * MS_US, SRC_CHANGE, T_MAINT,
			    &e, err,
			    "{\"type\":\"maintenance.window\",\"id\":\"mw-%s\","
			    "\"source\":\"change-mgmt\",\"time\":\"%s\","
			    "\"component\":\"%s\",\"start\":\"%s\",\"end\":\"%s\"%s,"
			    "\"reason\":\"%s\"}", id, ts(w->start, t1),
			    c->cfg->name, ts(w->start, t1), ts(w->end, t2), extra,
			    w->reason);
		if (rc < 0)
			goto out;
		e->mark = M_MAINT;
		e->arg = (uint16_t)i;
		if (w->down_to > w->down_from &&
		    (add_point(&c->plan, &c->n_plan, &c->cap_plan,
			       w->down_from, ST_DOWN) < 0 ||
		     add_point(&c->plan, &c->n_plan, &c->cap_plan, w->down_to,
			       ST_UP) < 0)) {
			rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
			goto out;
		}
	}
	{       /* dashboard_stats has no breaker: its probes show an outage */
		struct hcomp *c = &h->comps[h->c_stats];
		int64_t a = when(h, 200, 16 * HOUR_US + 2 * MIN_US) +
			    jitter(h, 60);

		if (add_point(&c->plan, &c->n_plan, &c->cap_plan, a,
			      ST_DOWN) < 0 ||
		    add_point(&c->plan, &c->n_plan, &c->cap_plan,
			      a + 11 * MIN_US + 30 * SEC_US, ST_PARTIAL) < 0 ||
		    add_point(&c->plan, &c->n_plan, &c->cap_plan,
			      a + 15 * MIN_US + 30 * SEC_US, ST_UP) < 0) {
			rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < h->n_comps; i++)
		if (h->comps[i].n_plan)
			qsort(h->comps[i].plan, h->comps[i].n_plan,
			      sizeof(struct hpoint), plan_points_cmp);
	for (size_t i = 0; i < h->n_adm; i++) {
		const struct hadmin *a = &h->adm[i];
		char ref[64] = "";

		if (a->change_ref)
			snprintf(ref, sizeof(ref), ",\"change_ref\":\"%s\"",
				 a->change_ref);
		rc = add_ev(h, 1, a->at, SRC_DAEMON, T_ADMIN, &e, err,
			    "{\"type\":\"admin.action\",\"source\":\"auditlog\","
			    "\"operator\":\"%s\",\"auth_method\":\"%s\","
			    "\"action\":\"%s\",\"target\":\"%s\",\"reason\":\"%s\","
			    "\"outcome\":\"%s\"%s}", a->operator_name,
			    a->auth_method, a->action, a->target, a->reason,
			    a->outcome, ref);
		if (rc < 0)
			goto out;
		e->mark = M_ADMIN;
		e->arg = (uint16_t)i;
	}
	for (size_t i = 0; i < h->n_ep; i++) {
		struct hepisode *p = &h->ep[i];
		int64_t first = p->fail_at + 4 * MS_US;

		/* the first line of the spool (written when its file's id is
		 * known), then the batch that failed */
		rc = add_raw(h, 1, first, SRC_DAEMON, T_ACTIVATED, "", 0, &e,
			     err);
		if (rc < 0)
			goto out;
		e->kind = HK_ACTIVATED;
		e->mark = M_ACTIVATED;
		e->arg = (uint16_t)i;
		rc = add_login(h, 1, SRC_SSO, first, p->fail_at - 2 * MS_US,
			       users[rng_below(&h->r, N(users))], 1,
			       user_addr(2, t2), "sso", NULL, NULL, err);
		if (rc < 0)
			goto out;
	}
	for (size_t i = 0; i < 2; i++) {
		struct hburst *bu = &h->burst[i];
		static const char *const names[] = { "admin", "root", "test",
						     "backup", "oracle" };
		int64_t t = bu->first;

		for (uint32_t k = 0; k < bu->n; k++) {
			char addr[32];
			const char *actor = bu->subject, *reason = "bad_password";

			if (i == 0) {
				snprintf(addr, sizeof(addr), "198.51.100.%u",
					 1 + rng_below(&h->r, 250));
			} else {
				snprintf(addr, sizeof(addr), "%s", bu->subject);
				if (k % 3 == 0) {
					actor = names[k / 3 % N(names)];
					reason = "unknown_user";
				} else {
					actor = users[k % N(users)];
				}
			}
			rc = add_login(h, 1, SRC_SSO, t + 40 * MS_US, t, actor,
				       0, addr, "password", reason, &e, err);
			if (rc < 0)
				goto out;
			e->mark = M_BURST;
			e->arg = (uint16_t)i;
			bu->last = t;
			t += (i == 0 ? 18 : 8) * SEC_US +
			     (int64_t)rng_below(&h->r, 6000000);
		}
	}
	for (int i = 0; i < 3; i++) {
		/* a host whose clock is 10 minutes behind */
		static const int64_t at[] = { 8 * 60 + 47, 8 * 60 + 52, 9 * 60 + 5 };
		int64_t r = when(h, 250, at[i] * MIN_US) + jitter(h, 30);
		char addr[32];

		rc = add_login(h, 1, SRC_LEGACY, r, r - 10 * MIN_US - 150 * MS_US,
			       users[5 + i], 1, user_addr(5 + (unsigned)i, addr),
			       "password", NULL, &e, err);
		if (rc < 0)
			goto out;
		e->mark = M_SKEW;
	}
	qsort(h->scen.v, h->scen.n, sizeof(*h->scen.v), ev_cmp);
out:
	free(last);
	alog_buf_release(&m);
	return rc;
}

/* ---- one day ---- */

static void note_known(struct hcomp *c, int64_t t, int64_t tol, int *oom)
{
	if (c->known_b >= c->known_a && t <= c->known_b) {
		if (t + tol > c->known_b)
			c->known_b = t + tol;
		return;
	}
	if (c->known_b > c->known_a &&
	    add_span(&c->known, &c->n_known, &c->cap_known, c->known_a,
		     c->known_b) < 0)
		*oom = 1;
	c->known_a = t;
	c->known_b = t + tol;
}

/* The probes of c received in [t0, t1): probe k runs at from + offset +
 * k * interval and is received 30..180 ms later; its randomness is a hash
 * of (seed, component, k), so a day needs nothing of the day before. */
static int day_probes(struct hist *h, size_t ci, int64_t t0, int64_t t1,
		      struct alog_err *err)
{
	struct hcomp *c = &h->comps[ci];
	int64_t base = h->from_us + c->offset_us, iv = c->interval_us;
	int64_t k = (t0 - base - SEC_US) / iv;
	int oom = 0;

	for (k = k < 0 ? 0 : k;; k++) {
		int64_t t = base + k * iv, rec;
		uint64_t r = hash3(h->seed, ci, (uint64_t)k);
		char tt[ALOG_TIME_TEXT_MAX];
		const char *detail = "";
		unsigned lat;
		int st;

		if (t >= h->to_us)
			break;
		rec = t + 30 * MS_US + (int64_t)(r % 150000);
		if (rec >= h->to_us)
			rec = h->to_us - 1; /* received within the period */
		if (rec < t0)
			continue;
		if (rec >= t1)
			break;
		if ((t >= h->gap_a && t < h->gap_b) ||
		    (r >> 32) % HIST_MISS_ONE_IN == 0)
			continue; /* the monitor did not run it */
		while (c->cur_plan < c->n_plan && c->plan[c->cur_plan].t <= t)
			c->cur_plan++;
		st = c->cur_plan ? c->plan[c->cur_plan - 1].state : ST_UP;
		if (st == ST_UP) {
			lat = 12 + (unsigned)(r >> 20) % 80;
		} else if (st == ST_PARTIAL) {
			lat = 900 + (unsigned)(r >> 20) % 1100;
			detail = ",\"detail\":\"slow responses\"";
		} else {
			lat = 2000;
			detail = ",\"detail\":\"timeout after 2000 ms\"";
		}
		if (add_ev(h, 0, rec, SRC_MONITOR, T_PROBE, NULL, err,
			   "{\"type\":\"health.probe\",\"id\":\"mon-%s-%" PRId64
			   "\",\"source\":\"monitor\",\"time\":\"%s\",\"component\":\"%s\","
			   "\"status\":\"%s\",\"latency_ms\":%u%s}", c->cfg->name, k,
			   ts(t, tt), c->cfg->name, state_status[st], lat,
			   detail) < 0)
			return err->code;
		c->probes_written++;
		note_known(c, t, HIST_PROBE_TOLERANCE * iv, &oom);
		if ((c->n_sig == 0 || st != c->sig_state) &&
		    add_point(&c->sig, &c->n_sig, &c->cap_sig, t, st) < 0)
			oom = 1;
		c->sig_state = st;
		if (oom)
			return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	}
	return 0;
}

/* Background logins: a new one every ~50 s in business hours, every ~7
 * min outside; a few fail. */
static int day_logins(struct hist *h, int64_t t1, struct alog_err *err)
{
	while (h->login_t < t1) {
		int64_t t = h->login_t;
		int64_t mean = alog_config_in_business_hours(&h->cfg, t) ?
			       50 * SEC_US : 7 * MIN_US;
		unsigned u = rng_below(&h->r, N(users));
		unsigned k = rng_below(&h->r, 100);
		const char *method = k < 60 ? "sso" : k < 85 ? "password" :
				     k < 95 ? "mfa" : "key";
		int ok = rng_below(&h->r, 100) >= 4;
		char addr[32];
		int rc;

		if (rng_below(&h->r, 10) == 0)
			snprintf(addr, sizeof(addr), "198.51.100.%u",
				 1 + rng_below(&h->r, 250));
		else
			user_addr(u, addr);
		rc = add_login(h, 0, SRC_SSO, t,
			       t - (int64_t)rng_below(&h->r, 80000), users[u],
			       ok, addr, method,
			       ok ? NULL : k >= 85 && k < 95 ? "mfa_rejected" :
			       "bad_password", NULL, err);
		if (rc < 0)
			return rc;
		h->login_t += mean / 2 + (int64_t)(rng_next(&h->r) %
						   (uint64_t)mean);
	}
	return 0;
}

/* Lines received in (lo, hi]: how many, and the last one's time. */
static uint64_t count_lines(const struct hist *h, int64_t lo, int64_t hi,
			    int64_t *last)
{
	uint64_t n = 0;

	for (size_t i = 0; i < h->day.n; i++) {
		const struct hev *e = &h->day.v[i];

		if (e->received > lo && e->received <= hi &&
		    e->type != T_REPLAYED) {
			n++;
			*last = e->received;
		}
	}
	return n;
}

/* A spool activation within the day (SPEC.md 17.8, 17.9): the lines
 * received while the store failed went with the failed batch; the spool
 * files are cut where replay seals them; each file's backup.replayed
 * follows its last line. File 1 is sealed by the first replay attempt;
 * file k + 1 by the replay that reaches it when file k is done; the last
 * file is the one no live line arrived after. */
static int day_episode(struct hist *h, struct hepisode *p,
		       struct alog_err *err)
{
	int64_t first = p->fail_at + 4 * MS_US, lo = first - 1, hi = p->seal1;
	int64_t replayed = 0;
	char t1[ALOG_TIME_TEXT_MAX];

	for (size_t i = 0; i < h->day.n; i++) {
		struct hev *e = &h->day.v[i];

		if (e->received >= p->fail_at && e->received < first)
			e->received = first;
	}
	qsort(h->day.v, h->day.n, sizeof(*h->day.v), ev_cmp);
	for (size_t k = 0;; k++) {
		struct hfile *f;
		int64_t last = 0;
		uint64_t n = count_lines(h, lo, hi, &last);

		if (k >= 2 && n == 0)
			break;
		if (k >= HIST_FILES_MAX)
			return alog_err_set(err, ALOG_ESTATE,
					    "spool activation at %s needs more than %d files",
					    ts(p->fail_at, t1), HIST_FILES_MAX);
		f = &p->files[k];
		snprintf(f->id, sizeof(f->id), "%016" PRIx32,
			 ++h->spool_seq);
		f->from = lo;
		f->to = hi;
		f->last_received = last;
		f->imported = n;
		if (k == 1) {
			f->duplicates = p->duplicates;
			f->conflicts = p->conflicts;
		}
		f->records = n + f->duplicates + f->conflicts;
		if (k == 0)
			replayed = p->reset_at ?
				   p->recover_at + 2 * MS_US +
				   25 * (int64_t)f->records :
				   p->recover_at + 3 * MS_US;
		else
			replayed += 5 * MS_US + 25 * (int64_t)f->records;
		f->replayed_at = replayed;
		p->n_files = k + 1;
		lo = hi;
		hi = replayed;
	}
	p->files[p->n_files - 1].drained = 1;
	for (size_t k = 0; k < p->n_files; k++) {
		const struct hfile *f = &p->files[k];
		struct hev *e;
		int rc;

		rc = add_ev(h, 0, f->last_received, SRC_DAEMON, T_REPLAYED, &e,
			    err,
			    "{\"type\":\"backup.replayed\",\"source\":\"auditlog\","
			    "\"origin\":\"spool\",\"file\":\"%s\",\"path\":\""
			    HIST_SPOOL_DIR "/%s.spool\",\"records\":%" PRIu64
			    ",\"imported\":%" PRIu64 ",\"duplicates\":%" PRIu64
			    ",\"conflicts\":%" PRIu64 ",\"refused\":0,\"drained\":%s,"
			    "\"replayed_at\":\"%s\",\"replayed_at_us\":%" PRId64 "}",
			    f->id, f->id, f->records, f->imported, f->duplicates,
			    f->conflicts, f->drained ? "true" : "false",
			    ts(f->replayed_at, t1), f->replayed_at);
		if (rc < 0)
			return rc;
		e->cls = 1; /* right after the file's last line */
	}
	qsort(h->day.v, h->day.n, sizeof(*h->day.v), ev_cmp);
	return 0;
}

/* Validate and append one line at received time rec; auditlog's own
 * events (trusted) get a UUIDv7 record id from the seed. */
static int submit_line(struct hist *h, const char *line, size_t len,
		       int64_t rec, int src, int64_t pid, uint64_t seq,
		       uint64_t *index, struct alog_err *err)
{
	struct alog_provenance prov;
	struct alog_submit res;
	int internal = src == SRC_DAEMON || src == SRC_VERIFY;
	int rc;

	if (rec < alog_log_last_received(h->log))
		/* the log would raise it: the simulation has a bug */
		return alog_err_set(err, ALOG_ESTATE,
				    "demo event '%.80s' is out of order", line);
	if (alog_log_batch_full(h->log)) {
		rc = alog_log_commit(h->log, err);
		if (rc < 0)
			return rc;
	}
	rc = alog_event_parse(&h->ev, line, len, err);
	if (rc < 0) {
		alog_err_prefix(err, "demo event '%.80s'", line);
		return rc;
	}
	if (internal)
		uuid7_det(rec, hash3(h->seed, 0x1d, seq), h->ev.id);
	src_provenance(src, pid, &prov);
	rc = alog_log_submit_parsed(h->log, &h->ev, &prov, rec, internal,
				    &res, err);
	if (rc < 0)
		return rc;
	if (res.status != ALOG_SUBMIT_ACCEPTED) {
		if (res.status == ALOG_SUBMIT_DUPLICATE)
			alog_err_set(err, ALOG_ESTATE, "a duplicate");
		alog_err_prefix(err, "the log refused demo event '%.80s'",
				line);
		return ALOG_ESTATE;
	}
	*index = res.index;
	return 0;
}

static int write_event(struct hist *h, const struct hev *e,
		       struct alog_err *err)
{
	const char *line = ev_line(h, e);
	size_t len = e->len;
	uint64_t index;
	int64_t pid = 0;
	int rc;

	if (e->kind == HK_INTEGRITY) {
		struct alog_store *s = alog_log_store(h->log);
		uint64_t size;

		/* auditlog verify checks what is committed */
		rc = alog_log_commit(h->log, err);
		if (rc < 0)
			return rc;
		size = alog_store_size(s);
		pid = 30000 + (int64_t)(hash3(h->seed, 9, e->arg) % 30000);
		alog_buf_reset(&h->line);
		rc = alog_buf_addf(&h->line, err,
				   "{\"type\":\"integrity.verified\",\"source\":\"auditlog\","
				   "\"result\":\"pass\",\"tree_size\":%" PRIu64
				   ",\"checkpoints\":%" PRIu64 ",\"anchored\":true,"
				   "\"bad_index\":null,\"error\":null,\"duration_ms\":%" PRIu64 "}",
				   size, alog_store_checkpoint_count(s),
				   300 + size / 1500 +
				   hash3(h->seed, 10, e->arg) % 200);
		if (rc < 0)
			return rc;
		line = (const char *)h->line.data;
		len = h->line.len;
	} else if (e->kind == HK_ACTIVATED) {
		const struct hepisode *p = &h->ep[e->arg];
		char t1[ALOG_TIME_TEXT_MAX];

		alog_buf_reset(&h->line);
		rc = alog_buf_addf(&h->line, err,
				   "{\"type\":\"backup.activated\",\"source\":\"auditlog\","
				   "\"component\":\"%s\",\"spool\":\"" HIST_SPOOL_DIR
				   "\",\"file\":\"%s\",\"failed_at\":\"%s\",\"failed_at_us\":%"
				   PRId64 ",\"error\":\"%s\"}",
				   h->comps[h->c_store].cfg->name, p->files[0].id,
				   ts(p->fail_at, t1), p->fail_at, p->error);
		if (rc < 0)
			return rc;
		line = (const char *)h->line.data;
		len = h->line.len;
	}
	rc = submit_line(h, line, len, e->received, e->src, pid, e->seq, &index,
			 err);
	if (rc < 0)
		return rc;
	h->by_type[e->type]++;
	h->total++;
	switch (e->mark) {
	case M_SKEW:
		if (h->n_skew < N(h->skew_index)) {
			h->skew_index[h->n_skew] = index;
			h->skew_time[h->n_skew] = h->ev.time_us;
			h->skew_received[h->n_skew++] = e->received;
		}
		break;
	case M_BURST:
		if (h->burst[e->arg].seen++ == 0)
			h->burst[e->arg].first_index = index;
		h->burst[e->arg].last_index = index;
		break;
	case M_ADMIN:
		h->adm[e->arg].index = index;
		break;
	case M_MAINT:
		h->win[e->arg].index = index;
		break;
	case M_ACTIVATED:
		h->ep[e->arg].activated_index = index;
		break;
	default:
		break;
	}
	if (e->type == T_INTEGRITY)
		h->n_integrity++;
	return 0;
}

/* Sign the day's checkpoint at time at and log its checkpoint.signed
 * event (SPEC.md 11) with a record id from the seed; then
 * alog_log_checkpoint, which must find the tree covered by it. */
static int day_checkpoint(struct hist *h, const struct alog_signer *signer,
			  int64_t at, struct alog_err *err)
{
	struct alog_store *s = alog_log_store(h->log);
	struct alog_store_checkpoint ck = { 0 }, latest = { 0 };
	unsigned char root[ALOG_HASH_LEN];
	char hex[2 * ALOG_HASH_LEN + 1];
	uint64_t index;
	int rc;

	rc = alog_log_commit(h->log, err);
	if (rc == 0)
		rc = alog_store_sign_checkpoint(s, signer, at, &ck, err);
	if (rc == 0)
		rc = alog_store_root_at(s, ck.size, root, err);
	if (rc < 0)
		goto out;
	alog_hex_encode(root, sizeof(root), hex);
	alog_buf_reset(&h->line);
	rc = alog_buf_addf(&h->line, err,
			   "{\"type\":\"checkpoint.signed\",\"source\":\"auditlog\","
			   "\"checkpoint\":%" PRIu64 ",\"size\":%" PRIu64
			   ",\"root\":\"%s\"}", ck.seq, ck.size, hex);
	if (rc == 0)
		rc = submit_line(h, (const char *)h->line.data, h->line.len, at,
				 SRC_DAEMON, 0, h->seq++, &index, err);
	if (rc == 0)
		rc = alog_log_commit(h->log, err);
	if (rc == 0)
		rc = alog_log_checkpoint(h->log, signer, at, &latest, err);
	if (rc == 0 && latest.seq != ck.seq)
		rc = alog_err_set(err, ALOG_ESTATE,
				  "alog_log_checkpoint signed checkpoint %" PRIu64
				  " after the demo's %" PRIu64
				  ": its checkpoint.signed event was not recognised",
				  latest.seq, ck.seq);
	if (rc == 0) {
		h->by_type[T_CHECKPOINT]++;
		h->total++;
		h->n_checkpoints++;
	}
out:
	alog_store_checkpoint_release(&ck);
	alog_store_checkpoint_release(&latest);
	return rc;
}

static int write_day(struct hist *h, uint32_t d,
		     const struct alog_signer *signer, struct alog_err *err)
{
	int64_t t0 = h->from_us + (int64_t)d * DAY_US, t1 = t0 + DAY_US;
	struct hev *e;
	int rc = 0;

	h->day.n = 0;
	alog_buf_reset(&h->day_text);
	for (size_t i = 0; i < h->n_comps && rc == 0; i++)
		if (h->comps[i].probed)
			rc = day_probes(h, i, t0, t1, err);
	if (rc == 0)
		rc = day_logins(h, t1, err);
	if (rc == 0 && d != h->no_integrity_day) {
		rc = add_raw(h, 0, t0 + 2 * HOUR_US + 30 * MIN_US +
			     jitter(h, 90), SRC_VERIFY, T_INTEGRITY, "", 0, &e,
			     err);
		if (rc == 0) {
			e->kind = HK_INTEGRITY;
			e->arg = (uint16_t)d;
		}
	}
	for (; rc == 0 && h->scen_cur < h->scen.n &&
	       h->scen.v[h->scen_cur].received < t1; h->scen_cur++) {
		if (grow((void **)&h->day.v, &h->day.cap, h->day.n,
			 sizeof(*h->day.v)) < 0)
			rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
		else
			h->day.v[h->day.n++] = h->scen.v[h->scen_cur];
	}
	if (rc < 0)
		return rc;
	if (h->day.n)
		qsort(h->day.v, h->day.n, sizeof(*h->day.v), ev_cmp);
	for (size_t i = 0; i < h->n_ep; i++)
		if (h->ep[i].fail_at >= t0 && h->ep[i].fail_at < t1) {
			rc = day_episode(h, &h->ep[i], err);
			if (rc < 0)
				return rc;
		}
	for (size_t i = 0; i < h->day.n; i++) {
		rc = write_event(h, &h->day.v[i], err);
		if (rc < 0)
			return rc;
	}
	return day_checkpoint(h, signer, t1, err);
}

/* ---- the truth: what a report over [from, to) must find ---- */

struct hepi {
	int64_t start, end;
	int64_t down, partial, excluded, unknown; /* classes in the period */
	const char *trigger, *recovery;
	uint32_t opens, half_open_failures;
	int maintenance; /* inside approved maintenance windows */
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t clip(const struct hist *h, int64_t t)
{
	return t < h->from_us ? h->from_us : t > h->to_us ? h->to_us : t;
}

/* 1 when [a, b) lies inside the union of c's approved windows. */
static int covered(const struct hist *h, size_t ci, int64_t a, int64_t b)
{
	int64_t x = a;

	while (x < b) {
		int64_t best = x;

		for (size_t i = 0; i < h->n_win; i++) {
			const struct hwin *w = &h->win[i];

			if (w->comp == ci && w->change_ref && w->start <= x &&
			    w->end > best)
				best = w->end;
		}
		if (best == x)
			return 0;
		x = best;
	}
	return 1;
}

/* The component's signal as state change points (breaker transitions, or
 * probe statuses), malloc'd into *out. */
static int signal_points(const struct hist *h, size_t ci,
			 struct hpoint **out, size_t *n)
{
	const struct hcomp *c = &h->comps[ci];
	static const int st[] = { ST_UP, ST_DOWN, ST_PARTIAL };
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!c->has_breaker) {
		for (size_t i = 0; i < c->n_sig; i++)
			if (add_point(out, n, &cap, c->sig[i].t,
				      c->sig[i].state) < 0)
				return ALOG_ENOMEM;
		return 0;
	}
	for (size_t i = 0; i < h->n_trans; i++)
		if (h->trans[i].comp == ci &&
		    add_point(out, n, &cap, h->trans[i].t.at_us,
			      st[h->trans[i].t.to]) < 0)
			return ALOG_ENOMEM;
	return 0;
}

/* A1.2 numbers of component ci: excluded (approved maintenance, union),
 * unknown (no probe or transition within HIST_PROBE_TOLERANCE intervals;
 * the daemon-owned component is known from daemon.started on), down and
 * partial time (not excluded, known), in that order of precedence. */
static int availability(struct hist *h, size_t ci)
{
	struct hcomp *c = &h->comps[ci];
	struct hspan *known = NULL;
	struct hpoint *pts = NULL;
	int64_t *cuts = NULL, tol = HIST_PROBE_TOLERANCE * c->interval_us;
	size_t nk = 0, ck = 0, np = 0, nc = 0;
	uint64_t t, e, w = h->cfg.partial_weight_permille;
	int rc = ALOG_ENOMEM;

	if (c->cfg->daemon_owned) {
		if (add_span(&known, &nk, &ck, h->from_us, h->to_us) < 0)
			goto out;
	} else {
		for (size_t i = 0; i < c->n_known; i++)
			if (add_span(&known, &nk, &ck, c->known[i].a,
				     c->known[i].b) < 0)
				goto out;
		if (c->known_b > c->known_a &&
		    add_span(&known, &nk, &ck, c->known_a, c->known_b) < 0)
			goto out;
		for (size_t i = 0; i < h->n_trans; i++)
			if (h->trans[i].comp == ci &&
			    add_span(&known, &nk, &ck, h->trans[i].t.at_us,
				     h->trans[i].t.at_us + tol) < 0)
				goto out;
	}
	if (signal_points(h, ci, &pts, &np) < 0)
		goto out;
	cuts = malloc((4 + 2 * nk + np + 2 * h->n_win) * sizeof(*cuts));
	if (!cuts)
		goto out;
	cuts[nc++] = h->from_us;
	cuts[nc++] = h->to_us;
	for (size_t i = 0; i < nk; i++) {
		cuts[nc++] = clip(h, known[i].a);
		cuts[nc++] = clip(h, known[i].b);
	}
	for (size_t i = 0; i < np; i++)
		cuts[nc++] = clip(h, pts[i].t);
	for (size_t i = 0; i < h->n_win; i++)
		if (h->win[i].comp == ci && h->win[i].change_ref) {
			cuts[nc++] = clip(h, h->win[i].start);
			cuts[nc++] = clip(h, h->win[i].end);
		}
	qsort(cuts, nc, sizeof(*cuts), cmp_i64);
	free(c->segs);
	c->segs = calloc(nc, sizeof(*c->segs));
	c->n_segs = 0;
	if (!c->segs)
		goto out;
	c->excluded_us = c->unknown_us = c->down_us = c->partial_us = 0;
	for (size_t i = 0; i + 1 < nc; i++) {
		int64_t a = cuts[i], len = cuts[i + 1] - a;
		int excl = 0, kn = 0, st = ST_UP, cls;

		if (len == 0)
			continue;
		for (size_t j = 0; j < h->n_win; j++)
			if (h->win[j].comp == ci && h->win[j].change_ref &&
			    h->win[j].start <= a && a < h->win[j].end)
				excl = 1;
		for (size_t j = 0; j < nk; j++)
			if (known[j].a <= a && a < known[j].b)
				kn = 1;
		for (size_t j = 0; j < np && pts[j].t <= a; j++)
			st = pts[j].state;
		cls = excl ? CL_EXCLUDED : !kn ? CL_UNKNOWN :
		      st == ST_DOWN ? CL_DOWN : st == ST_PARTIAL ? CL_PARTIAL :
		      CL_UP;
		if (cls == CL_EXCLUDED)
			c->excluded_us += len;
		else if (cls == CL_UNKNOWN)
			c->unknown_us += len;
		else if (cls == CL_DOWN)
			c->down_us += len;
		else if (cls == CL_PARTIAL)
			c->partial_us += len;
		c->segs[c->n_segs].a = a;
		c->segs[c->n_segs].b = cuts[i + 1];
		c->segs[c->n_segs++].cls = cls;
	}
	c->period_us = h->to_us - h->from_us;
	t = (uint64_t)(c->period_us - c->excluded_us);
	e = (uint64_t)(c->down_us + c->unknown_us);
	c->up_us = c->period_us - c->excluded_us - c->down_us - c->partial_us -
		   c->unknown_us;
	c->raw_ppm = t ? ppm_of(t - e, t) : 0;
	c->weighted_ppm = t ? ppm_of((t - e) * 1000 - w * (uint64_t)c->partial_us,
				     t * 1000) : 0;
	c->budget_permille = 0;
	c->unknown_decides = 0;
	if (t) {
		/* the budget (1 - target) x (T - E) used, rounded up */
		u128 num = ((u128)c->down_us * 1000 + (u128)w * (uint64_t)c->partial_us) *
			   1000000u;
		u128 den = (u128)(1000000u - c->cfg->target_ppm) * t;

		c->budget_permille = (uint64_t)((num + den - 1) / den);
		c->unknown_decides = c->weighted_ppm < c->cfg->target_ppm &&
			c->unknown_us > 0 &&
			ppm_of((t - (uint64_t)c->down_us) * 1000 -
			       w * (uint64_t)c->partial_us, t * 1000) >=
			c->cfg->target_ppm;
	}
	rc = 0;
out:
	free(known);
	free(pts);
	free(cuts);
	return rc;
}

/* Outage episodes of ci (SPEC.md 20.6): from a point leaving up to the
 * next point that is up; their time is split by class afterwards. */
static int episodes(const struct hist *h, size_t ci, struct hepi **out,
		    size_t *n)
{
	const struct hcomp *c = &h->comps[ci];
	struct hepi *v = NULL, cur;
	size_t cap = 0;
	int in = 0;

	*n = 0;
	memset(&cur, 0, sizeof(cur));
	if (c->has_breaker) {
		for (size_t i = 0; i < h->n_trans; i++) {
			const struct alog_breaker_transition *x = &h->trans[i].t;

			if (h->trans[i].comp != ci)
				continue;
			if (!in && x->to != ALOG_BREAKER_CLOSED) {
				in = 1;
				memset(&cur, 0, sizeof(cur));
				cur.start = x->at_us;
				cur.trigger = alog_breaker_cause_name(x->cause);
			}
			if (x->to == ALOG_BREAKER_OPEN &&
			    x->from != ALOG_BREAKER_OPEN)
				cur.opens++;
			if (x->cause == ALOG_BREAKER_PROBE_FAILURE)
				cur.half_open_failures++;
			if (in && x->to == ALOG_BREAKER_CLOSED) {
				in = 0;
				cur.end = x->at_us;
				cur.recovery = x->cause == ALOG_BREAKER_RESET ?
					       "manual" : "automatic";
				if (grow((void **)&v, &cap, *n, sizeof(*v)) < 0)
					goto oom;
				v[(*n)++] = cur;
			}
		}
	} else {
		for (size_t i = 0; i < c->n_sig; i++) {
			const struct hpoint *p = &c->sig[i];

			if (!in && p->state != ST_UP) {
				in = 1;
				memset(&cur, 0, sizeof(cur));
				cur.start = p->t;
				cur.trigger = "probe";
			}
			if (in && p->state == ST_UP) {
				in = 0;
				cur.end = p->t;
				cur.recovery = "automatic";
				if (grow((void **)&v, &cap, *n, sizeof(*v)) < 0)
					goto oom;
				v[(*n)++] = cur;
			}
		}
	}
	for (size_t i = 0; i < *n; i++) {
		v[i].maintenance = covered(h, ci, v[i].start, v[i].end);
		v[i].down = v[i].partial = v[i].excluded = v[i].unknown = 0;
		for (size_t j = 0; j < c->n_segs; j++) {
			const struct hseg *s = &c->segs[j];
			int64_t a = s->a > v[i].start ? s->a : v[i].start;
			int64_t b = s->b < v[i].end ? s->b : v[i].end;

			if (a >= b)
				continue;
			if (s->cls == CL_DOWN)
				v[i].down += b - a;
			else if (s->cls == CL_PARTIAL)
				v[i].partial += b - a;
			else if (s->cls == CL_EXCLUDED)
				v[i].excluded += b - a;
			else if (s->cls == CL_UNKNOWN)
				v[i].unknown += b - a;
		}
	}
	*out = v;
	return 0;
oom:
	free(v);
	*n = 0;
	*out = NULL;
	return ALOG_ENOMEM;
}

static void print_outage(FILE *f, const char *name, const struct hepi *x)
{
	char a[ALOG_TIME_TEXT_MAX], d1[40], d2[40], d3[40], d4[40];

	fprintf(f, "  %-22s %s  %s (down %s, partial %s%s%s) %s, %s\n", name,
		ts(x->start, a), dur(x->end - x->start, d1), dur(x->down, d2),
		dur(x->partial, d3), x->excluded ? ", excluded " : "",
		x->excluded ? dur(x->excluded, d4) : "", x->trigger,
		x->recovery);
}

static void json_outage(FILE *f, const struct hepi *x, int first)
{
	char a[ALOG_TIME_TEXT_MAX], b[ALOG_TIME_TEXT_MAX];

	fprintf(f, "%s{\"start\":\"%s\",\"start_us\":%" PRId64 ",\"end\":\"%s\","
		"\"end_us\":%" PRId64 ",\"length_us\":%" PRId64 ",\"down_us\":%" PRId64
		",\"partial_us\":%" PRId64 ",\"excluded_us\":%" PRId64
		",\"unknown_us\":%" PRId64 ",\"trigger\":\"%s\",\"recovery\":\"%s\","
		"\"opens\":%" PRIu32 ",\"half_open_failures\":%" PRIu32
		",\"in_approved_maintenance\":%s}",
		first ? "" : ",", ts(x->start, a), x->start, ts(x->end, b), x->end,
		x->end - x->start, x->down, x->partial, x->excluded, x->unknown,
		x->trigger, x->recovery,
		x->opens, x->half_open_failures,
		x->maintenance ? "true" : "false");
}

/* Print the summary (f: stdout) or write the truth (json = 1). */
static int report(struct hist *h, FILE *f, int json)
{
	char a[ALOG_TIME_TEXT_MAX], b[ALOG_TIME_TEXT_MAX], p1[16], p2[16], p3[16];
	char d1[40], d2[40], d3[40], d4[40];
	uint32_t w = h->cfg.partial_weight_permille;

	if (json) {
		fprintf(f, "{\"generator\":\"auditlog demo history\",\"version\":\"%s\","
			"\"seed\":%" PRIu64 ",\"days\":%" PRIu32 ",\"from\":\"%s\","
			"\"from_us\":%" PRId64 ",\"to\":\"%s\",\"to_us\":%" PRId64
			",\"config_sha256\":\"%s\",", ALOG_VERSION, h->seed, h->days,
			ts(h->from_us, a), h->from_us, ts(h->to_us, b), h->to_us,
			h->cfg.hash_hex);
		fprintf(f, "\"definitions\":{\"period\":\"[from, to)\","
			"\"known\":\"%d probe intervals after each probe (time) or transition (at_us); primary_store from daemon.started\","
			"\"precedence\":\"excluded, unknown, down, partial\","
			"\"availability_raw\":\"(T - E - Dm - U) / (T - E)\","
			"\"availability_weighted\":\"(T - E - Dm - w * Dp - U) / (T - E)\","
			"\"rounding\":\"parts per million, rounded down\","
			"\"partial_weight_permille\":%" PRIu32 ",\"flap_opens\":%d,"
			"\"flap_window_us\":%" PRId64 "},", HIST_PROBE_TOLERANCE, w,
			HIST_FLAP_OPENS, HIST_FLAP_WINDOW_US);
		fprintf(f, "\"events\":{\"total\":%" PRIu64 ",\"by_type\":{",
			h->total);
		for (int i = 0; i < N_TYPES; i++)
			fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", type_name[i],
				h->by_type[i]);
		fprintf(f, "}},\"checkpoints\":%" PRIu64 ",\"components\":[",
			h->n_checkpoints);
	} else {
		fprintf(f, "history: %" PRIu32 " day%s [%s, %s), seed %" PRIu64 "\n",
			h->days, h->days == 1 ? "" : "s", ts(h->from_us, a),
			ts(h->to_us, b), h->seed);
		fprintf(f, "events: %" PRIu64 " (index 0..%" PRIu64 "), %" PRIu64
			" checkpoints\n", h->total, h->total ? h->total - 1 : 0,
			h->n_checkpoints);
		for (int i = 0; i < N_TYPES; i++)
			fprintf(f, "  %-20s %" PRIu64 "\n", type_name[i],
				h->by_type[i]);
		fprintf(f, "outages (exact lengths):\n");
	}
	for (size_t ci = 0; ci < h->n_comps; ci++) {
		struct hcomp *c = &h->comps[ci];
		struct hepi *v = NULL;
		size_t n = 0, groups = 0;

		if (availability(h, ci) < 0 || episodes(h, ci, &v, &n) < 0)
			return ALOG_ENOMEM;
		if (json) {
			fprintf(f, "%s{\"name\":\"%s\",\"tier\":\"%s\",\"target_ppm\":%" PRIu32
				",\"signal\":\"%s\",\"probe_interval_s\":%" PRIu32
				",\"probes_expected\":%" PRIu64 ",\"probes_received\":%" PRIu64
				",\"period_us\":%" PRId64 ",\"excluded_us\":%" PRId64
				",\"down_us\":%" PRId64 ",\"partial_us\":%" PRId64
				",\"unknown_us\":%" PRId64 ",\"up_us\":%" PRId64
				",\"availability_raw_ppm\":%" PRIu32
				",\"availability_weighted_ppm\":%" PRIu32
				",\"availability_raw\":\"%s\",\"availability_weighted\":\"%s\","
				"\"error_budget_used_permille\":%" PRIu64 ",\"pass\":%s,"
				"\"unknown_decides\":%s,\"outages\":[",
				ci ? "," : "", c->cfg->name,
				alog_config_tier_name(c->cfg->tier), c->cfg->target_ppm,
				c->has_breaker ? "breaker" : "probes",
				c->cfg->probe_interval_s, c->probes_expected,
				c->probes_written, c->period_us, c->excluded_us,
				c->down_us, c->partial_us, c->unknown_us, c->up_us,
				c->raw_ppm, c->weighted_ppm, pct(c->raw_ppm, p1),
				pct(c->weighted_ppm, p2), c->budget_permille,
				c->weighted_ppm >= c->cfg->target_ppm ? "true" : "false",
				c->unknown_decides ? "true" : "false");
			for (size_t i = 0; i < n; i++)
				json_outage(f, &v[i], i == 0);
			fprintf(f, "],\"flapping\":[");
		} else {
			for (size_t i = 0; i < n; i++)
				print_outage(f, c->cfg->name, &v[i]);
		}
		/* SPEC.md 20.7: episodes m .. m + k - 1 flap when their starts
		 * lie within the window; groups sharing an episode merge */
		for (size_t m = 0, gs = 0, ge = 0, open = 0;; m++) {
			int more = m + HIST_FLAP_OPENS <= n;
			int flap = more && v[m + HIST_FLAP_OPENS - 1].start -
					   v[m].start < HIST_FLAP_WINDOW_US;

			if (flap && open && m <= ge) {
				ge = m + HIST_FLAP_OPENS - 1;
				continue;
			}
			if (open && (flap || !more)) {
				if (json)
					fprintf(f, "%s{\"first_start\":\"%s\","
						"\"last_start\":\"%s\",\"episodes\":%zu}",
						groups ? "," : "",
						ts(v[gs].start, a),
						ts(v[ge].start, b), ge - gs + 1);
				else
					fprintf(f, "  %-22s flapping: %zu episodes from %s to %s\n",
						c->cfg->name, ge - gs + 1,
						ts(v[gs].start, a),
						ts(v[ge].start, b));
				groups++;
				open = 0;
			}
			if (!more)
				break;
			if (flap) {
				open = 1;
				gs = m;
				ge = m + HIST_FLAP_OPENS - 1;
			}
		}
		if (json)
			fprintf(f, "]}");
		free(v);
	}
	if (!json) {
		fprintf(f, "availability = (T - E - Dm - U) / (T - E), weighted with "
			"w = %" PRIu32 ".%03" PRIu32 " of partial time; unknown = no "
			"probe or transition within %d intervals:\n",
			w / 1000, w % 1000, HIST_PROBE_TOLERANCE);
		for (size_t ci = 0; ci < h->n_comps; ci++) {
			const struct hcomp *c = &h->comps[ci];

			fprintf(f, "  %-22s %-8s target %s %%  raw %s %%  weighted %s %%  %s"
				"  (%s; excluded %s, down %s, partial %s, unknown %s)\n",
				c->cfg->name, alog_config_tier_name(c->cfg->tier),
				pct(c->cfg->target_ppm, p1), pct(c->raw_ppm, p2),
				pct(c->weighted_ppm, p3),
				c->weighted_ppm >= c->cfg->target_ppm ? "pass" : "FAIL",
				c->has_breaker ? "breaker" : "probes",
				dur(c->excluded_us, d1), dur(c->down_us, d2),
				dur(c->partial_us, d3), dur(c->unknown_us, d4));
		}
		fprintf(f, "spool activations (primary_store):\n");
	} else {
		fprintf(f, "],\"monitoring_gaps\":[{\"from\":\"%s\",\"to\":\"%s\","
			"\"length_us\":%" PRId64 "}],\"spool_activations\":[",
			ts(h->gap_a, a), ts(h->gap_b, b), h->gap_b - h->gap_a);
	}
	for (size_t i = 0; i < h->n_ep; i++) {
		const struct hepisode *p = &h->ep[i];
		uint64_t rec = 0, imp = 0, dup = 0, con = 0;

		for (size_t k = 0; k < p->n_files; k++) {
			rec += p->files[k].records;
			imp += p->files[k].imported;
			dup += p->files[k].duplicates;
			con += p->files[k].conflicts;
		}
		if (!json) {
			fprintf(f, "  failed %s, failover %s, %zu files: spooled %" PRIu64
				" = imported %" PRIu64 " + duplicates %" PRIu64
				" + conflicts %" PRIu64 " + refused 0; %s, drained %s\n",
				ts(p->fail_at, a), dur(4 * MS_US, d1), p->n_files, rec,
				imp, dup, con, p->reset_at ? "operator reset" : "automatic",
				ts(p->files[p->n_files - 1].replayed_at, b));
			continue;
		}
		fprintf(f, "%s{\"activated_index\":%" PRIu64 ",\"failed_at\":\"%s\","
			"\"failed_at_us\":%" PRId64 ",\"first_spooled_us\":%" PRId64
			",\"failover_us\":%" PRId64 ",\"recovery\":\"%s\",\"closed_at_us\":%"
			PRId64 ",\"drained_at_us\":%" PRId64 ",\"spooled\":%" PRIu64
			",\"imported\":%" PRIu64 ",\"duplicates\":%" PRIu64
			",\"conflicts\":%" PRIu64 ",\"refused\":0,\"files\":[",
			i ? "," : "", p->activated_index, ts(p->fail_at, a), p->fail_at,
			p->fail_at + 4 * MS_US, 4 * MS_US,
			p->reset_at ? "manual" : "automatic", p->closed_at,
			p->files[p->n_files - 1].replayed_at, rec, imp, dup, con);
		for (size_t k = 0; k < p->n_files; k++) {
			const struct hfile *x = &p->files[k];

			fprintf(f, "%s{\"file\":\"%s\",\"records\":%" PRIu64
				",\"imported\":%" PRIu64 ",\"duplicates\":%" PRIu64
				",\"conflicts\":%" PRIu64 ",\"refused\":0,\"drained\":%s,"
				"\"replayed_at_us\":%" PRId64 "}", k ? "," : "", x->id,
				x->records, x->imported, x->duplicates, x->conflicts,
				x->drained ? "true" : "false", x->replayed_at);
		}
		fprintf(f, "]}");
	}
	if (!json) {
		fprintf(f, "operator actions:\n");
		for (size_t i = 0; i < h->n_adm; i++) {
			const struct hadmin *x = &h->adm[i];

			fprintf(f, "  %s  %s %s %s: %s (%s)%s\n", ts(x->at, a),
				x->operator_name, x->action, x->target, x->outcome,
				x->change_ref ? x->change_ref : "no change_ref",
				alog_config_in_business_hours(&h->cfg, x->at) ? "" :
				", outside business hours");
		}
		size_t unapproved = 0;

		for (size_t i = 0; i < h->n_win; i++)
			unapproved += !h->win[i].change_ref;
		fprintf(f, "maintenance windows: %zu (%zu without change_ref); "
			"monitoring gap %s from %s; integrity runs %" PRIu64
			"; login bursts %" PRIu32 " and %" PRIu32
			" failures; %zu events with a clock 10 minutes off\n",
			h->n_win, unapproved, dur(h->gap_b - h->gap_a, d1),
			ts(h->gap_a, a), h->n_integrity, h->burst[0].n,
			h->burst[1].n, h->n_skew);
		return ferror(f) ? ALOG_EIO : 0;
	}
	fprintf(f, "],\"maintenance\":[");
	for (size_t i = 0; i < h->n_win; i++) {
		const struct hwin *x = &h->win[i];

		fprintf(f, "%s{\"index\":%" PRIu64 ",\"component\":\"%s\",\"start\":\"%s\","
			"\"end\":\"%s\",\"change_ref\":%s%s%s,\"excluded\":%s}",
			i ? "," : "", x->index, h->comps[x->comp].cfg->name,
			ts(x->start, a), ts(x->end, b), x->change_ref ? "\"" : "",
			x->change_ref ? x->change_ref : "null",
			x->change_ref ? "\"" : "", x->change_ref ? "true" : "false");
	}
	fprintf(f, "],\"admin_actions\":[");
	for (size_t i = 0; i < h->n_adm; i++) {
		const struct hadmin *x = &h->adm[i];

		fprintf(f, "%s{\"index\":%" PRIu64 ",\"at\":\"%s\",\"operator\":\"%s\","
			"\"auth_method\":\"%s\",\"action\":\"%s\",\"target\":\"%s\","
			"\"outcome\":\"%s\",\"change_ref\":%s%s%s,\"in_business_hours\":%s}",
			i ? "," : "", x->index, ts(x->at, a), x->operator_name,
			x->auth_method, x->action, x->target, x->outcome,
			x->change_ref ? "\"" : "",
			x->change_ref ? x->change_ref : "null",
			x->change_ref ? "\"" : "",
			alog_config_in_business_hours(&h->cfg, x->at) ? "true" : "false");
	}
	fprintf(f, "],\"login_bursts\":[");
	for (size_t i = 0; i < 2; i++) {
		const struct hburst *x = &h->burst[i];

		fprintf(f, "%s{\"kind\":\"%s\",\"subject\":\"%s\",\"failures\":%" PRIu32
			",\"first_index\":%" PRIu64 ",\"last_index\":%" PRIu64
			",\"first\":\"%s\",\"last\":\"%s\",\"window_us\":%" PRId64 "}",
			i ? "," : "", x->kind, x->subject, x->n, x->first_index,
			x->last_index, ts(x->first, a), ts(x->last, b),
			x->last - x->first);
	}
	fprintf(f, "],\"clock_skew\":[");
	for (size_t i = 0; i < h->n_skew; i++)
		fprintf(f, "%s{\"index\":%" PRIu64 ",\"time\":\"%s\",\"received\":\"%s\","
			"\"offset_us\":%" PRId64 "}", i ? "," : "", h->skew_index[i],
			ts(h->skew_time[i], a), ts(h->skew_received[i], b),
			h->skew_received[i] - h->skew_time[i]);
	if (h->no_integrity_day != UINT32_MAX)
		ts(h->from_us + (int64_t)h->no_integrity_day * DAY_US, a);
	fprintf(f, "],\"integrity\":{\"runs\":%" PRIu64 ",\"missing_day\":%s%.10s%s}}\n",
		h->n_integrity, h->no_integrity_day != UINT32_MAX ? "\"" : "",
		h->no_integrity_day != UINT32_MAX ? a : "null",
		h->no_integrity_day != UINT32_MAX ? "\"" : "");
	return ferror(f) ? ALOG_EIO : 0;
}

/* ---- the command ---- */

static void hist_release(struct hist *h)
{
	for (size_t i = 0; h->comps && i < h->n_comps; i++) {
		free(h->comps[i].plan);
		free(h->comps[i].sig);
		free(h->comps[i].known);
		free(h->comps[i].segs);
	}
	free(h->comps);
	free(h->trans);
	free(h->scen.v);
	free(h->day.v);
	alog_buf_release(&h->scen_text);
	alog_buf_release(&h->day_text);
	alog_buf_release(&h->line);
	alog_event_release(&h->ev);
	alog_config_release(&h->cfg);
}

/* Components, their breakers and the whole scenario (no store yet). */
static int hist_setup(struct hist *h, const char *config_path,
		      struct alog_err *err)
{
	int rc;

	alog_event_init(&h->ev);
	alog_buf_init(&h->scen_text, 0);
	alog_buf_init(&h->day_text, 0);
	alog_buf_init(&h->line, HIST_LINE_MAX);
	rc = config_path ? alog_config_load(&h->cfg, config_path, err) :
	     alog_config_parse(&h->cfg, example_config,
			       sizeof(example_config) - 1,
			       "auditlog.example.json", err);
	if (rc < 0)
		return rc;
	h->comps = calloc(h->cfg.n_components, sizeof(*h->comps));
	if (!h->comps)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	h->n_comps = h->cfg.n_components;
	for (size_t i = 0; i < h->n_comps; i++) {
		struct hcomp *c = &h->comps[i];
		int64_t base;

		c->h = h;
		c->cfg = &h->cfg.components[i];
		c->probed = !c->cfg->daemon_owned;
		c->interval_us = (int64_t)c->cfg->probe_interval_s * SEC_US;
		c->offset_us = (int64_t)(i * 7 + 3) * SEC_US % c->interval_us;
		c->known_b = -1;
		if (c->cfg->daemon_owned)
			h->c_store = i;
		base = h->from_us + c->offset_us;
		if (c->probed && h->to_us > base)
			c->probes_expected = (uint64_t)((h->to_us - base +
							 c->interval_us - 1) /
							c->interval_us);
		rc = alog_breaker_init(&c->b, &c->cfg->breaker, h->from_us,
				       on_transition, c, err);
		if (rc < 0)
			return rc;
	}
	if ((rc = find_comp(h, "dashboard_stats", &h->c_stats, err)) < 0 ||
	    (rc = find_comp(h, "dashboard_activities", &h->c_act, err)) < 0 ||
	    (rc = find_comp(h, "security_summary", &h->c_sec, err)) < 0)
		return rc;
	plan(h);
	for (size_t i = 0; i < h->n_out; i++) {
		rc = simulate_outage(h, &h->out[i], err);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < h->n_ep; i++) {
		rc = simulate_episode(h, &h->ep[i], err);
		if (rc < 0)
			return rc;
	}
	if (h->oom)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	h->login_t = h->from_us + jitter(h, 60);
	return scenario_events(h, err);
}

static double mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int demo_history(int argc, char **argv)
{
	enum { O_STORE = 1000, O_HELP, O_DAYS, O_END, O_SEED, O_TRUTH, O_KEY,
	       O_CONFIG };
	static const struct option opts[] = {
		{ "store", required_argument, NULL, O_STORE },
		{ "help", no_argument, NULL, O_HELP },
		{ "days", required_argument, NULL, O_DAYS },
		{ "end", required_argument, NULL, O_END },
		{ "seed", required_argument, NULL, O_SEED },
		{ "truth", required_argument, NULL, O_TRUTH },
		{ "key", required_argument, NULL, O_KEY },
		{ "config", required_argument, NULL, O_CONFIG },
		{ 0 },
	};
	struct alog_err err = { 0 };
	struct alog_store_recovery rec;
	struct alog_signer *signer = NULL;
	struct hist *h = NULL;
	const char *store = NULL, *end = NULL, *truth = NULL, *key = NULL;
	const char *config = NULL;
	char *key_alloc = NULL;
	uint64_t days = 90, seed = 1;
	int64_t end_us;
	double t_start = mono_s(), secs;
	int c, code = EXIT_OK;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_STORE: store = optarg; break;
		case O_DAYS:
			if (cli_parse_u64(optarg, &days) < 0 || days < 1 ||
			    days > HIST_DAYS_MAX) {
				cli_msg("--days needs a number of days 1..%d",
					HIST_DAYS_MAX);
				return EXIT_USAGE;
			}
			break;
		case O_END: end = optarg; break;
		case O_SEED:
			if (cli_parse_u64(optarg, &seed) < 0) {
				cli_msg("--seed needs a non-negative number");
				return EXIT_USAGE;
			}
			break;
		case O_TRUTH: truth = optarg; break;
		case O_KEY: key = optarg; break;
		case O_CONFIG: config = optarg; break;
		case O_HELP: fputs(usage_history, stdout); return EXIT_OK;
		default: fputs(usage_history, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(usage_history, stderr);
		return EXIT_USAGE;
	}
	if (end) {
		if (alog_time_parse(end, strlen(end), 1, &end_us, &err) < 0) {
			cli_msg("--end '%s': want an RFC 3339 time or a date YYYY-MM-DD (%s)",
				end, err.msg);
			return EXIT_USAGE;
		}
	} else {
		end_us = alog_clock_now_us() / DAY_US * DAY_US;
	}
	if (end_us - (int64_t)days * DAY_US < 0) {
		cli_msg("--end minus --days is before 1970");
		return EXIT_USAGE;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		cli_msg("out of memory");
		return EXIT_OPER;
	}
	h->seed = seed;
	h->r.s = seed;
	h->days = (uint32_t)days;
	h->to_us = end_us;
	h->from_us = end_us - (int64_t)days * DAY_US;
	h->no_integrity_day = UINT32_MAX;
	h->tty = isatty(2);
	if (hist_setup(h, config, &err) < 0) {
		if (config && (err.code == ALOG_EINVAL || err.code == ALOG_ELIMIT)) {
			cli_msg("%s", err.msg);
			code = EXIT_USAGE;
		} else {
			code = cli_fail(&err);
		}
		goto out;
	}
	store = cli_store_dir(store);
	if (!key)
		key = key_alloc = cli_default_key(store);
	if (!key) {
		cli_msg("out of memory");
		code = EXIT_OPER;
		goto out;
	}
	if (alog_signer_load(key, &signer, &err) < 0) {
		code = cli_fail(&err);
		goto out;
	}
	memset(&rec, 0, sizeof(rec));
	if (alog_log_open(store, h->from_us, &h->log, &rec, &err) < 0) {
		code = cli_fail(&err);
		goto out;
	}
	if (alog_store_size(alog_log_store(h->log)) != 0) {
		cli_msg("store '%s' holds %" PRIu64 " records: demo history writes a fresh store ('auditlog init' a new one)",
			store, alog_store_size(alog_log_store(h->log)));
		code = EXIT_USAGE;
		goto out;
	}
	for (uint32_t d = 0; d < h->days; d++) {
		if (write_day(h, d, signer, &err) < 0) {
			if (h->tty)
				fputc('\n', stderr);
			alog_err_prefix(&err, "day %" PRIu32 " of %" PRIu32,
					d + 1, h->days);
			alog_log_discard(h->log);
			code = cli_fail(&err);
			if (code == EXIT_VERIFY)
				code = EXIT_OPER;
			goto out;
		}
		if (h->tty)
			fprintf(stderr, "\rauditlog: writing day %" PRIu32 " of %"
				PRIu32 ", %" PRIu64 " events (%" PRIu32 "%%)",
				d + 1, h->days, h->total,
				(d + 1) * 100 / h->days);
	}
	if (h->tty)
		fputc('\n', stderr);
	secs = mono_s() - t_start;
	/* in log order from here on (the scenario no longer refers to them) */
	qsort(h->adm, h->n_adm, sizeof(h->adm[0]), admin_cmp);
	if (report(h, stdout, 0) < 0 || fflush(stdout) != 0) {
		cli_msg("write to standard output failed");
		code = EXIT_OPER;
		goto out;
	}
	if (truth) {
		FILE *f = fopen(truth, "w");

		if (!f || report(h, f, 1) < 0 || fclose(f) != 0) {
			cli_msg("cannot write '%s'", truth);
			code = EXIT_OPER;
			goto out;
		}
	}
	cli_msg("wrote %" PRIu64 " events of %" PRIu32 " days into '%s' in %.1f s (%.0f events/s)",
		h->total, h->days, store, secs, secs > 0 ? (double)h->total / secs : 0.0);
out:
	if (h) {
		alog_log_close(h->log);
		hist_release(h);
	}
	free(h);
	alog_signer_free(signer);
	free(key_alloc);
	return code;
}

int cmd_demo(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "history"))
		return demo_history(argc - 1, argv + 1);
	return demo_events(argc, argv);
}
