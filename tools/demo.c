/*
 * demo: `auditlog demo events` prints a realistic, reproducible stream of
 * audit events (NDJSON) for the README's tour and for tests: logins with
 * failures and a burst, access grants, admin-side changes by producers,
 * breaker transitions and health probes of the example components.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/clock.h"
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
"\n"
"Print N (default 10000) realistic audit events as NDJSON, one every few\n"
"seconds from TIME (RFC 3339, default 2026-01-05T08:00:00Z), the same\n"
"stream for the same seed: logins (some failing, one burst of failures\n"
"from one address), access grants and revocations, data exports, config\n"
"changes, health probes and breaker transitions of the example\n"
"components. Pipe it into 'auditlog ingest'.\n";

static void ip(struct rng *r, char *out, size_t n)
{
	snprintf(out, n, "10.%u.%u.%u", rng_below(r, 4), rng_below(r, 250),
		 1 + rng_below(r, 250));
}

int cmd_demo(int argc, char **argv)
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
