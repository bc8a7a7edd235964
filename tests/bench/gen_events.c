/*
 * gen_events: deterministic generator of realistic audit events for the
 * benchmark harness (tests/bench/compare.sh). Prints N events as
 * NDJSON on stdout, about 370 bytes each on average: HTTP requests,
 * logins, health probes, access grants, data exports, configuration
 * changes and file accesses from a few dozen actors, sources and
 * addresses (IPv4 and IPv6), with UUIDv7 ids made from each event's time
 * (as the client library makes them; BENCH_IDS=random in the environment:
 * UUID-like ids of random order instead), RFC 3339 times that
 * advance by 0..2 ms per event, the odd nested object, array, non-ASCII
 * name and JSON escape.
 *
 * Invariants: the same N and seed give the same bytes; every line is an
 * event that `auditlog ingest` accepts (SPEC.md section 3: envelope
 * alphabets, no reserved type, health probes name a component that is not
 * daemon-owned); every (source, id) is distinct, since 62 bits of a
 * UUIDv7 id (the first 64 bits of a random one) are a bijection of the
 * event's number.
 *
 * usage: bench_gen_events N [SEED [START [STEP]]]   (SEED default 1;
 * START, the first event's time in seconds since 1970, default
 * 2026-01-05T08:00Z; times advance by 0..STEP-1 us, default 2000)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINE_CAP 2048

struct line {
	char buf[LINE_CAP];
	size_t len;
	int overflow;
};

static uint64_t rng_state;

/* splitmix64: a bijective mix of its input, and a fine generator when fed
 * a counter. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(void)
{
	rng_state += 0x9e3779b97f4a7c15ULL;
	return mix64(rng_state);
}

/* Uniform enough in [0, n) for a benchmark (n is small). */
static unsigned pick(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static void put(struct line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(l->buf) - l->len) {
		l->overflow = 1;
		return;
	}
	l->len += (size_t)n;
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *const actors[] = {
	"alice@example.com", "bob@example.com", "carol@example.com",
	"dave@example.com", "erin@example.com", "frank@example.com",
	"grace@example.com", "heidi@example.com", "ivan@example.com",
	"judy@example.com", "mallory@example.com", "niaj@example.com",
	"olivia@example.com", "peggy@example.com", "rupert@example.com",
	"sybil@example.com", "trent@example.com", "victor@example.com",
	"walter@example.com", "svc-billing@example.com",
	"svc-reporting@example.com", "ci-runner@example.com",
	"jos\xc3\xa9.garc\xc3\xad" "a@example.com",
	"zo\xc3\xab.m\xc3\xbc" "ller@example.com",
};

static const char *const agents[] = {
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
	"okhttp/4.12.0",
	"curl/7.88.1",
	"python-requests/2.31.0",
	"Go-http-client/2.0",
	"aws-sdk-java/2.21.29 Linux/6.1.0 OpenJDK_64-Bit_Server_VM/17.0.9",
};

static const char *const tenants[] = {
	"acme-corp", "globex", "initech", "umbrella", "hooli", "stark-industries",
};

static const char *const regions[] = {
	"eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-2",
};

/* Not daemon-owned (SPEC.md 18.4): the built-in inventory's others. */
static const char *const components[] = {
	"dashboard_stats", "dashboard_activities", "security_summary",
};

static void put_ipv4(struct line *l, const char *key)
{
	put(l, ",\"%s\":\"%u.%u.%u.%u\"", key, 10 + pick(3), pick(256),
	    pick(256), 1 + pick(254));
}

static void put_addr(struct line *l, const char *key)
{
	if (pick(8) == 0)
		put(l, ",\"%s\":\"2001:db8:%x:%x::%x\"", key, pick(65536),
		    pick(65536), 1 + pick(65535));
	else
		put_ipv4(l, key);
}

static void put_hex(struct line *l, unsigned digits)
{
	static const char hex[] = "0123456789abcdef";
	char s[65];
	unsigned i;
	uint64_t r = 0;

	if (digits > 64)
		digits = 64;
	for (i = 0; i < digits; i++) {
		if (i % 16 == 0)
			r = rnd();
		s[i] = hex[r & 15];
		r >>= 4;
	}
	s[digits] = '\0';
	put(l, "%s", s);
}

static void put_time(struct line *l, const char *key, int64_t us)
{
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	put(l, ",\"%s\":\"%04d-%02d-%02dT%02d:%02d:%02d.%06uZ\"", key,
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (unsigned)(us % 1000000));
}

/* BENCH_IDS=random: ids of random order instead of UUIDv7s. */
static int random_ids;

static void envelope(struct line *l, const char *type, const char *source,
		     uint64_t n, int64_t us)
{
	uint64_t a = mix64(n ^ 0x5eed0f1d5eed0f1dULL), b = rnd();

	if (!random_ids) {
		/* UUIDv7 (SPEC.md 3) from the event's time, as the client
		 * library makes them; rand_b is a bijection of n (an odd
		 * multiplier modulo 2^62), so ids stay distinct */
		uint64_t ms = (uint64_t)us / 1000, rb;

		rb = (n * 0x9e3779b97f4a7c15ULL) & ((1ULL << 62) - 1);
		a = ms << 16 | 0x7000 | (uint64_t)(us % 1000) * 4096 / 1000;
		b = 1ULL << 63 | rb;
	}
	put(l, "{\"type\":\"%s\",\"id\":\"%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64
	    "-%04" PRIx64 "-%012" PRIx64 "\",\"source\":\"%s\"", type,
	    a >> 32, (a >> 16) & 0xffff, a & 0xffff, b >> 48,
	    b & (uint64_t)0xffffffffffff, source);
	put_time(l, "time", us);
}

static void ev_http(struct line *l, uint64_t n, int64_t us)
{
	static const char *const methods[] = { "GET", "GET", "GET", "POST",
		"PUT", "DELETE", "PATCH" };
	static const char *const paths[] = { "/api/v2/orders/%u/items",
		"/api/v2/customers/%u", "/api/v2/invoices/%u/pdf",
		"/api/v2/search", "/healthz", "/api/v2/reports/%u/export",
		"/static/app.%u.js" };
	static const unsigned statuses[] = { 200, 200, 200, 200, 200, 201,
		204, 301, 304, 400, 401, 403, 404, 429, 500, 503 };
	char src[16];
	unsigned p = pick(N_OF(paths));

	snprintf(src, sizeof(src), "web-%02u", 1 + pick(12));
	envelope(l, "http.request", src, n, us);
	put(l, ",\"method\":\"%s\",\"path\":\"", methods[pick(N_OF(methods))]);
	if (strstr(paths[p], "%u")) {
		char path[64];

		/* The format is one of ours, with one %u. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(path, sizeof(path), paths[p], 1000 + pick(90000));
#pragma GCC diagnostic pop
		put(l, "%s", path);
	} else {
		put(l, "%s", paths[p]);
	}
	put(l, "\",\"status\":%u,\"bytes\":%u,\"duration_ms\":%u.%u",
	    statuses[pick(N_OF(statuses))], pick(200000), pick(900),
	    pick(10));
	put(l, ",\"actor\":\"%s\"", actors[pick(N_OF(actors))]);
	put_addr(l, "client_addr");
	put(l, ",\"user_agent\":\"%s\",\"trace_id\":\"",
	    agents[pick(N_OF(agents))]);
	put_hex(l, 16);
	put(l, "\"");
	if (pick(50) == 0)
		put(l, ",\"query\":\"name=\\\"o'brien\\\"&path=C:\\\\exports\\\\q1\"");
	put(l, "}");
}

static void ev_login(struct line *l, uint64_t n, int64_t us)
{
	static const char *const methods[] = { "password", "sso", "mfa",
		"key", "sso" };
	static const char *const reasons[] = { "bad_password",
		"unknown_user", "mfa_timeout", "locked_out" };
	int ok = pick(10) != 0;

	envelope(l, "auth.login", pick(3) ? "sso" : "vpn-gw", n, us);
	put(l, ",\"actor\":\"%s\",\"outcome\":\"%s\"",
	    actors[pick(N_OF(actors))], ok ? "success" : "failure");
	put_addr(l, "source_addr");
	put(l, ",\"method\":\"%s\"", methods[pick(N_OF(methods))]);
	if (!ok)
		put(l, ",\"reason\":\"%s\"", reasons[pick(N_OF(reasons))]);
	put(l, ",\"mfa\":%s,\"user_agent\":\"%s\",\"session\":\"s-",
	    pick(4) ? "true" : "false", agents[pick(N_OF(agents))]);
	put_hex(l, 16);
	put(l, "\",\"tenant\":\"%s\"", tenants[pick(N_OF(tenants))]);
	put(l, ",\"geo\":{\"country\":\"%s\",\"asn\":%u}",
	    (const char *const[]){ "DE", "FR", "US", "GB", "NL", "AU" }[pick(6)],
	    3000 + pick(60000));
	put(l, "}");
}

static void ev_probe(struct line *l, uint64_t n, int64_t us)
{
	static const char *const status[] = { "up", "up", "up", "up", "up",
		"up", "up", "up", "degraded", "down" };
	const char *st = status[pick(N_OF(status))];
	const char *c = components[pick(N_OF(components))];

	envelope(l, "health.probe", "monitor", n, us);
	put(l, ",\"component\":\"%s\",\"status\":\"%s\",\"latency_ms\":%u",
	    c, st, st[0] == 'd' && st[1] == 'o' ? 5000 : 3 + pick(300));
	put(l, ",\"detail\":\"%s\"", st[0] == 'u' ? "http 200 in time" :
	    st[1] == 'e' ? "http 200 but slow (p95 over 800 ms)" :
	    "connect timeout after 5000 ms");
	put(l, ",\"probe\":\"https://%s.internal.example.com/healthz\","
	    "\"region\":\"%s\",\"checker\":\"prober-%02u\",\"attempt\":%u}",
	    c, regions[pick(N_OF(regions))], 1 + pick(6), 1 + pick(3));
}

static void ev_access(struct line *l, uint64_t n, int64_t us)
{
	static const char *const resources[] = { "hr/payroll",
		"finance/ledger", "crm/accounts", "infra/prod-db",
		"support/tickets", "legal/contracts" };
	static const char *const roles[] = { "reader", "writer", "admin",
		"auditor" };
	int grant = pick(3) != 0;

	envelope(l, grant ? "access.granted" : "access.revoked", "iam", n, us);
	put(l, ",\"actor\":\"%s\",\"subject\":\"%s\",\"resource\":\"%s\","
	    "\"role\":\"%s\",\"ticket\":\"CHG-%u\"",
	    actors[pick(N_OF(actors))], actors[pick(N_OF(actors))],
	    resources[pick(N_OF(resources))], roles[pick(N_OF(roles))],
	    1000 + pick(9000));
	if (grant)
		put_time(l, "expires", us + (int64_t)(1 + pick(90)) * 86400000000);
	put(l, ",\"reason\":\"%s\",\"scopes\":[\"read\"%s%s]",
	    grant ? "quarterly access review" :
	    "leaver process",
	    pick(2) ? ",\"write\"" : "", pick(4) ? "" : ",\"share\"");
	put(l, ",\"approver\":\"%s\"}", actors[pick(N_OF(actors))]);
}

static void ev_export(struct line *l, uint64_t n, int64_t us)
{
	static const char *const datasets[] = { "customers", "invoices",
		"payroll_2025", "support_tickets", "audit_trail" };
	static const char *const formats[] = { "csv", "parquet", "xlsx",
		"json" };

	envelope(l, "data.export", "warehouse", n, us);
	put(l, ",\"actor\":\"%s\",\"dataset\":\"%s\",\"rows\":%u,"
	    "\"format\":\"%s\",\"bytes\":%u",
	    actors[pick(N_OF(actors))], datasets[pick(N_OF(datasets))],
	    pick(2000000), formats[pick(N_OF(formats))], pick(400000000));
	put(l, ",\"destination\":\"s3://exports-%s/%u/",
	    tenants[pick(N_OF(tenants))], 2026);
	put_hex(l, 16);
	put(l, ".gz\"");
	put_addr(l, "source_addr");
	put(l, ",\"filters\":{\"from\":\"2025-10-01\",\"to\":\"2025-12-31\","
	    "\"region\":\"%s\"}}", regions[pick(N_OF(regions))]);
}

static void ev_config(struct line *l, uint64_t n, int64_t us)
{
	static const char *const settings[] = { "session_timeout_minutes",
		"password_min_length", "max_login_attempts",
		"log_retention_days", "rate_limit_per_minute" };
	static const char *const services[] = { "auth-service",
		"billing-api", "gateway", "scheduler" };

	envelope(l, "config.changed", "deploy", n, us);
	put(l, ",\"actor\":\"%s\",\"service\":\"%s\",\"setting\":\"%s\","
	    "\"old\":%u,\"new\":%u,\"change_ref\":\"CHG-%u\","
	    "\"approved_by\":\"%s\",\"environment\":\"%s\"",
	    actors[pick(N_OF(actors))], services[pick(N_OF(services))],
	    settings[pick(N_OF(settings))], 5 + pick(100), 5 + pick(100),
	    1000 + pick(9000), actors[pick(N_OF(actors))],
	    pick(3) ? "production" : "staging");
	put(l, ",\"commit\":\"");
	put_hex(l, 40);
	put(l, "\",\"pipeline\":\"deploy-%u\"}", 100000 + pick(900000));
}

static void ev_file(struct line *l, uint64_t n, int64_t us)
{
	static const char *const ops[] = { "read", "read", "read", "write",
		"delete", "chmod" };
	static const char *const dirs[] = { "/srv/data/finance",
		"/srv/data/hr", "/etc/app", "/var/lib/app/exports",
		"/home/shared/projects" };
	char src[16];

	snprintf(src, sizeof(src), "host-%03u", 1 + pick(40));
	envelope(l, "file.access", src, n, us);
	put(l, ",\"actor\":\"%s\",\"operation\":\"%s\",\"path\":\"%s/",
	    actors[pick(N_OF(actors))], ops[pick(N_OF(ops))],
	    dirs[pick(N_OF(dirs))]);
	put_hex(l, 12);
	put(l, ".dat\",\"result\":\"%s\",\"bytes\":%u,\"pid\":%u,"
	    "\"process\":\"/usr/bin/%s\",\"uid\":%u",
	    pick(12) ? "allowed" : "denied", pick(10000000), 300 + pick(60000),
	    (const char *const[]){ "python3", "rsync", "cat", "java", "bash" }
		    [pick(5)], 1000 + pick(100));
	put(l, ",\"hostname\":\"%s.prod.example.com\",\"selinux\":"
	    "\"system_u:system_r:app_t:s0\"}", src);
}

int main(int argc, char **argv)
{
	char *end;
	unsigned long long n, seed = 1, i, step = 2000;
	int64_t us = 1767600000000000; /* 2026-01-05T08:00:00Z */
	static char obuf[1 << 20];

	if (argc < 2 || argc > 5) {
		fprintf(stderr, "usage: bench_gen_events N [SEED [START [STEP]]]\n");
		return 2;
	}
	errno = 0;
	n = strtoull(argv[1], &end, 10);
	if (errno || *end || end == argv[1]) {
		fprintf(stderr, "bench_gen_events: bad N '%s'\n", argv[1]);
		return 2;
	}
	if (argc >= 3) {
		seed = strtoull(argv[2], &end, 10);
		if (errno || *end || end == argv[2]) {
			fprintf(stderr, "bench_gen_events: bad seed '%s'\n", argv[2]);
			return 2;
		}
	}
	if (argc == 5) {
		step = strtoull(argv[4], &end, 10);
		if (errno || *end || end == argv[4] || step == 0 || step > 1000000) {
			fprintf(stderr, "bench_gen_events: bad step '%s'\n", argv[4]);
			return 2;
		}
	}
	if (argc >= 4) {
		unsigned long long start = strtoull(argv[3], &end, 10);

		if (errno || *end || end == argv[3] || start > 253402300799ULL) {
			fprintf(stderr, "bench_gen_events: bad start '%s'\n", argv[3]);
			return 2;
		}
		us = (int64_t)start * 1000000;
	}
	random_ids = getenv("BENCH_IDS") && strcmp(getenv("BENCH_IDS"),
						   "random") == 0;
	rng_state = mix64(seed ^ 0xa11c0de5eedULL);
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	for (i = 0; i < n; i++) {
		struct line l;
		unsigned k = pick(100);

		l.len = 0;
		l.overflow = 0;
		us += (int64_t)pick((unsigned)step);
		if (k < 38)
			ev_http(&l, i, us);
		else if (k < 58)
			ev_login(&l, i, us);
		else if (k < 73)
			ev_probe(&l, i, us);
		else if (k < 81)
			ev_access(&l, i, us);
		else if (k < 86)
			ev_export(&l, i, us);
		else if (k < 91)
			ev_config(&l, i, us);
		else
			ev_file(&l, i, us);
		if (l.overflow) {
			fprintf(stderr, "bench_gen_events: event %llu too long\n", i);
			return 1;
		}
		l.buf[l.len++] = '\n';
		if (fwrite(l.buf, 1, l.len, stdout) != l.len) {
			perror("bench_gen_events: stdout");
			return 1;
		}
	}
	if (fflush(stdout) != 0) {
		perror("bench_gen_events: stdout");
		return 1;
	}
	return 0;
}
