/*
 * test_config: the daemon's configuration file (SPEC.md "Configuration
 * file"): defaults by tier, the built-in inventory, every validation
 * error with its JSON path, unknown keys, JSON faults with line and
 * column, limits at and one past their value, the file hash (V-CONFIG-1,
 * computed with Python's hashlib), business hours (V-CONFIG-2, weekdays
 * and times from Python's datetime) and the example file
 * tools/auditlog.example.json.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/config.h"
#include "testutil.h"

static const char *all_zero_cfg_reason(const struct alog_config *c)
{
	static const struct alog_config zero;

	return memcmp(c, &zero, sizeof(zero)) == 0 ? NULL : "not zero";
}

/* Parse text (NUL-terminated), expect success. */
static void parse_ok(const char *text, struct alog_config *cfg)
{
	struct alog_err err = { 0 };
	int rc = alog_config_parse(cfg, text, strlen(text), "t.json", &err);

	if (rc != 0)
		fail_msg("unexpected refusal: %s", err.msg);
}

/* Parse text, expect code and a message containing want. */
static void parse_bad(const char *text, int code, const char *want)
{
	struct alog_config cfg;
	struct alog_err err = { 0 };
	int rc;

	memset(&cfg, 0x5a, sizeof(cfg));
	rc = alog_config_parse(&cfg, text, strlen(text), "t.json", &err);
	if (rc != code || !strstr(err.msg, want) ||
	    strncmp(err.msg, "t.json: ", 8) != 0)
		fail_msg("input %s\n  got %d \"%s\"\n  want %d \"...%s...\"",
			 text, rc, err.msg, code, want);
	/* A refusal leaves cfg empty. */
	assert_null(all_zero_cfg_reason(&cfg));
}

static void test_config_builtin_inventory_has_four_components_with_defaults(
	void **state)
{
	static const struct {
		const char *name;
		enum alog_config_tier tier;
	} want[] = {
		{ "dashboard_stats", ALOG_TIER_GENERAL },
		{ "dashboard_activities", ALOG_TIER_CRITICAL },
		{ "security_summary", ALOG_TIER_CRITICAL },
		{ "primary_store", ALOG_TIER_CRITICAL },
	};
	struct alog_config cfg;
	struct alog_err err = { 0 };
	size_t i;

	(void)state;
	assert_int_equal(alog_config_builtin(&cfg, &err), 0);
	assert_int_equal(cfg.n_components, 4);
	for (i = 0; i < 4; i++) {
		const struct alog_config_component *c = &cfg.components[i];
		int critical = want[i].tier == ALOG_TIER_CRITICAL;

		assert_string_equal(c->name, want[i].name);
		assert_int_equal(c->tier, want[i].tier);
		assert_int_equal(c->target_ppm, critical ? 999000 : 995000);
		assert_int_equal(c->breaker.threshold, critical ? 2 : 3);
		assert_int_equal(c->breaker.open_timeout_ms,
				 critical ? 15000 : 30000);
		assert_int_equal(c->daemon_owned, i == 3);
		assert_string_equal(c->owner, "");
		assert_int_equal(alog_breaker_config_check(&c->breaker, &err),
				 0);
	}
	assert_int_equal(cfg.from_file, 0);
	assert_string_equal(cfg.hash_hex, "");
	assert_int_equal(cfg.failover_target_s, 30);
	assert_int_equal(cfg.business_hours.start_min, 480);
	assert_int_equal(cfg.business_hours.end_min, 1080);
	assert_int_equal(cfg.business_hours.days, 0x3e);
	assert_int_equal(cfg.business_hours.tz_offset_min, 0);
	assert_int_equal(cfg.partial_weight_permille, 0);
	assert_ptr_equal(alog_config_component_find(&cfg, "primary_store",
						    13),
			 &cfg.components[3]);
	assert_null(alog_config_component_find(&cfg, "primary", 7));
	assert_null(alog_config_component_find(&cfg, "primary_stores", 14));
	alog_config_release(&cfg);
	assert_null(cfg.components);
	alog_config_release(&cfg);
	alog_config_release(NULL);
}

static void test_config_component_defaults_follow_the_tier(void **state)
{
	struct alog_config_component c;
	struct alog_err err = { 0 };

	(void)state;
	assert_int_equal(alog_config_component_defaults(
			 &c, "api", 3, ALOG_TIER_CRITICAL, &err), 0);
	assert_string_equal(c.name, "api");
	assert_int_equal(c.target_ppm, 999000);
	assert_int_equal(c.breaker.threshold, 2);
	assert_int_equal(c.breaker.open_timeout_ms, 15000);
	assert_int_equal(c.breaker.rate_permille, 0);
	assert_int_equal(c.breaker.backoff_permille, 1000);
	assert_int_equal(c.breaker.probes, 1);
	assert_int_equal(c.probe_interval_s, 60);
	assert_int_equal(c.daemon_owned, 0);
	assert_int_equal(alog_config_component_defaults(
			 &c, "web", 3, ALOG_TIER_GENERAL, &err), 0);
	assert_int_equal(c.target_ppm, 995000);
	assert_int_equal(c.breaker.threshold, 3);
	assert_int_equal(c.breaker.open_timeout_ms, 30000);
	assert_int_equal(alog_config_component_defaults(
			 &c, "primary_store", 13, ALOG_TIER_GENERAL, &err), 0);
	assert_int_equal(c.daemon_owned, 1);
	assert_int_equal(alog_config_component_defaults(
			 &c, "Web", 3, ALOG_TIER_GENERAL, &err), ALOG_EINVAL);
	assert_int_equal(alog_config_component_defaults(
			 &c, "web", 3, (enum alog_config_tier)7, &err),
			 ALOG_EINVAL);
	assert_string_equal(alog_config_tier_name(ALOG_TIER_CRITICAL),
			    "critical");
	assert_string_equal(alog_config_tier_name(ALOG_TIER_GENERAL),
			    "general");
}

static void test_config_parse_fills_missing_keys_with_tier_defaults(
	void **state)
{
	struct alog_config cfg;
	const struct alog_config_component *a, *b, *p;

	(void)state;
	parse_ok("{\"components\":[{\"name\":\"a\",\"tier\":\"critical\"},"
		 "{\"name\":\"b\",\"tier\":\"general\","
		 "\"breaker\":{\"open_timeout_s\":600}}]}", &cfg);
	assert_int_equal(cfg.n_components, 3);
	a = &cfg.components[0];
	b = &cfg.components[1];
	p = &cfg.components[2];
	assert_string_equal(a->name, "a");
	assert_int_equal(a->breaker.threshold, 2);
	assert_int_equal(a->breaker.open_timeout_ms, 15000);
	assert_int_equal(a->breaker.open_timeout_max_ms, 300000);
	assert_int_equal(a->target_ppm, 999000);
	assert_int_equal(b->breaker.threshold, 3);
	assert_int_equal(b->target_ppm, 995000);
	/* The cap is at least the open timeout. */
	assert_int_equal(b->breaker.open_timeout_ms, 600000);
	assert_int_equal(b->breaker.open_timeout_max_ms, 600000);
	/* The daemon's own component is always there, last when added. */
	assert_string_equal(p->name, "primary_store");
	assert_int_equal(p->tier, ALOG_TIER_CRITICAL);
	assert_int_equal(p->daemon_owned, 1);
	assert_int_equal(a->daemon_owned, 0);
	assert_int_equal(cfg.failover_target_s, 30);
	assert_int_equal(cfg.business_hours.days, 0x3e);
	assert_int_equal(cfg.from_file, 1);
	alog_config_release(&cfg);

	/* An empty list: only the daemon's own component. */
	parse_ok("{\"components\":[]}", &cfg);
	assert_int_equal(cfg.n_components, 1);
	assert_string_equal(cfg.components[0].name, "primary_store");
	alog_config_release(&cfg);
}

static void test_config_parse_reads_every_key(void **state)
{
	static const char text[] =
		"{\"version\":1,\"components\":[{\"name\":\"api-v2\","
		"\"tier\":\"general\",\"target\":0.9995,"
		"\"owner\":\"Équipe API <api@example.com>\","
		"\"probe_interval_s\":15,\"breaker\":{\"threshold\":7,"
		"\"failure_rate\":0.125,\"window_s\":120,\"min_calls\":50,"
		"\"open_timeout_s\":20,\"backoff\":1.5,"
		"\"open_timeout_max_s\":180,\"probes\":4}},"
		"{\"name\":\"primary_store\",\"tier\":\"general\","
		"\"breaker\":{\"threshold\":9}}],"
		"\"failover_target_s\":45,"
		"\"business_hours\":{\"start\":\"07:30\",\"end\":\"24:00\","
		"\"days\":[7,1],\"tz\":\"-05:30\"},\"partial_weight\":0.25}";
	struct alog_config cfg;
	const struct alog_config_component *c;

	(void)state;
	parse_ok(text, &cfg);
	assert_int_equal(cfg.n_components, 2);
	c = &cfg.components[0];
	assert_string_equal(c->name, "api-v2");
	assert_int_equal(c->tier, ALOG_TIER_GENERAL);
	assert_int_equal(c->target_ppm, 999500);
	assert_string_equal(c->owner, "Équipe API <api@example.com>");
	assert_int_equal(c->probe_interval_s, 15);
	assert_int_equal(c->breaker.threshold, 7);
	assert_int_equal(c->breaker.rate_permille, 125);
	assert_int_equal(c->breaker.window_us, INT64_C(120000000));
	assert_int_equal(c->breaker.min_calls, 50);
	assert_int_equal(c->breaker.open_timeout_ms, 20000);
	assert_int_equal(c->breaker.backoff_permille, 1500);
	assert_int_equal(c->breaker.open_timeout_max_ms, 180000);
	assert_int_equal(c->breaker.probes, 4);
	assert_int_equal(c->daemon_owned, 0);
	/* primary_store from the file: its settings, still the daemon's. */
	c = &cfg.components[1];
	assert_string_equal(c->name, "primary_store");
	assert_int_equal(c->tier, ALOG_TIER_GENERAL);
	assert_int_equal(c->breaker.threshold, 9);
	assert_int_equal(c->daemon_owned, 1);
	assert_int_equal(cfg.failover_target_s, 45);
	assert_int_equal(cfg.business_hours.start_min, 450);
	assert_int_equal(cfg.business_hours.end_min, 1440);
	assert_int_equal(cfg.business_hours.days, (1u << 7) | (1u << 1));
	assert_int_equal(cfg.business_hours.tz_offset_min, -330);
	assert_int_equal(cfg.partial_weight_permille, 250);
	alog_config_release(&cfg);
}

/* V-CONFIG-1: SHA-256 of the exact file bytes (Python hashlib). */
static void test_config_hash_is_sha256_of_the_file_bytes(void **state)
{
	struct alog_config cfg;
	struct alog_err err = { 0 };

	(void)state;
	parse_ok("{\"components\":[]}", &cfg);
	assert_string_equal(cfg.hash_hex,
			    "ac46fd24bd501fa7297f0a2945bcc7f5"
			    "d655b9bcf8bfbf16718a9d25c0c2c018");
	assert_int_equal(cfg.hash[0], 0xac);
	assert_int_equal(cfg.hash[31], 0x18);
	alog_config_release(&cfg);
	/* Same meaning, one more byte: another hash. */
	assert_int_equal(alog_config_parse(&cfg, "{\"components\":[]}\n", 18,
					   "t.json", &err), 0);
	assert_string_equal(cfg.hash_hex,
			    "7acf125e19d4d5f4675c7698ca93e720"
			    "973b5673f9abcdff724e856cc82fd7e5");
	alog_config_release(&cfg);
}

static void test_config_refuses_each_invalid_value_naming_its_path(
	void **state)
{
	static const struct {
		const char *text;
		int code;
		const char *want;
	} cases[] = {
#define C(x) "{\"components\":[{\"name\":\"a\",\"tier\":\"general\"}," \
	     "{\"name\":\"b\",\"tier\":\"critical\"," x "}]}"
#define B(x) C("\"breaker\":{" x "}")
		{ B("\"threshold\":0"), ALOG_EINVAL,
		  "t.json: components[1].breaker.threshold must be an "
		  "integer 1..1000" },
		{ B("\"threshold\":1001"), ALOG_EINVAL,
		  "components[1].breaker.threshold must be an integer "
		  "1..1000" },
		{ B("\"threshold\":2.5"), ALOG_EINVAL,
		  "components[1].breaker.threshold must be an integer" },
		{ B("\"threshold\":\"3\""), ALOG_EINVAL,
		  "components[1].breaker.threshold must be an integer" },
		{ B("\"threshold\":null"), ALOG_EINVAL,
		  "components[1].breaker.threshold must be an integer" },
		{ B("\"failure_rate\":1.001"), ALOG_EINVAL,
		  "components[1].breaker.failure_rate must be a number 0..1 "
		  "with at most 3 decimals" },
		{ B("\"failure_rate\":-0.1"), ALOG_EINVAL,
		  "components[1].breaker.failure_rate must be" },
		{ B("\"failure_rate\":0.0005"), ALOG_EINVAL,
		  "components[1].breaker.failure_rate must be" },
		{ B("\"window_s\":0"), ALOG_EINVAL,
		  "components[1].breaker.window_s must be an integer "
		  "1..86400" },
		{ B("\"window_s\":86401"), ALOG_EINVAL,
		  "components[1].breaker.window_s must be" },
		{ B("\"min_calls\":0"), ALOG_EINVAL,
		  "components[1].breaker.min_calls must be an integer "
		  "1..100000" },
		{ B("\"min_calls\":100001"), ALOG_EINVAL,
		  "components[1].breaker.min_calls must be" },
		{ B("\"open_timeout_s\":0"), ALOG_EINVAL,
		  "components[1].breaker.open_timeout_s must be an integer "
		  "1..86400" },
		{ B("\"open_timeout_s\":86401"), ALOG_EINVAL,
		  "components[1].breaker.open_timeout_s must be" },
		{ B("\"backoff\":0.999"), ALOG_EINVAL,
		  "components[1].breaker.backoff must be a number 1..10" },
		{ B("\"backoff\":10.001"), ALOG_EINVAL,
		  "components[1].breaker.backoff must be" },
		{ B("\"backoff\":1.0005"), ALOG_EINVAL,
		  "components[1].breaker.backoff must be" },
		{ B("\"open_timeout_s\":30,\"open_timeout_max_s\":29"),
		  ALOG_EINVAL,
		  "components[1].breaker.open_timeout_max_s must be an "
		  "integer 30..86400 (at least open_timeout_s)" },
		{ B("\"open_timeout_max_s\":86401"), ALOG_EINVAL,
		  "components[1].breaker.open_timeout_max_s must be an "
		  "integer 15..86400" },
		{ B("\"probes\":0"), ALOG_EINVAL,
		  "components[1].breaker.probes must be an integer 1..100" },
		{ B("\"probes\":101"), ALOG_EINVAL,
		  "components[1].breaker.probes must be" },
		{ C("\"breaker\":[]"), ALOG_EINVAL,
		  "components[1].breaker must be an object" },
		{ C("\"target\":1"), ALOG_EINVAL,
		  "components[1].target must be a number between 0 and 1 "
		  "(both excluded) with at most 6 decimals, e.g. 0.995 for "
		  "99.5 %" },
		{ C("\"target\":0"), ALOG_EINVAL,
		  "components[1].target must be" },
		{ C("\"target\":99.5"), ALOG_EINVAL,
		  "components[1].target must be" },
		{ C("\"target\":0.9999995"), ALOG_EINVAL,
		  "components[1].target must be" },
		{ C("\"target\":\"0.995\""), ALOG_EINVAL,
		  "components[1].target must be" },
		{ C("\"owner\":\"\""), ALOG_EINVAL,
		  "components[1].owner must be 1..128 bytes" },
		{ C("\"owner\":7"), ALOG_EINVAL,
		  "components[1].owner must be a string" },
		{ C("\"owner\":\"a\\tb\""), ALOG_EINVAL,
		  "components[1].owner must not hold control characters "
		  "(byte 1)" },
		{ C("\"probe_interval_s\":0"), ALOG_EINVAL,
		  "components[1].probe_interval_s must be an integer "
		  "1..86400" },
		{ C("\"probe_interval_s\":86401"), ALOG_EINVAL,
		  "components[1].probe_interval_s must be" },
		{ "{\"components\":[{\"tier\":\"general\"}]}", ALOG_EINVAL,
		  "components[0].name is required" },
		{ "{\"components\":[{\"name\":\"a\"}]}", ALOG_EINVAL,
		  "components[0].tier is required" },
		{ "{\"components\":[{\"name\":\"a\",\"tier\":\"high\"}]}",
		  ALOG_EINVAL,
		  "components[0].tier must be \"critical\" or \"general\"" },
		{ "{\"components\":[{\"name\":\"a\",\"tier\":\"Critical\"}]}",
		  ALOG_EINVAL, "components[0].tier must be" },
		{ "{\"components\":[{\"name\":\"Dash\",\"tier\":\"general\"}]}",
		  ALOG_EINVAL,
		  "components[0].name must be 1..64 bytes of [a-z0-9_-] "
		  "starting with [a-z]" },
		{ "{\"components\":[{\"name\":\"1a\",\"tier\":\"general\"}]}",
		  ALOG_EINVAL, "components[0].name must be" },
		{ "{\"components\":[{\"name\":\"\",\"tier\":\"general\"}]}",
		  ALOG_EINVAL, "components[0].name must be" },
		{ "{\"components\":[{\"name\":5,\"tier\":\"general\"}]}",
		  ALOG_EINVAL, "components[0].name must be a string" },
		{ "{\"components\":[{\"name\":\"a\",\"tier\":\"general\"},"
		  "{\"name\":\"b\",\"tier\":\"general\"},"
		  "{\"name\":\"a\",\"tier\":\"critical\"}]}", ALOG_EINVAL,
		  "components[2].name \"a\" repeats components[0].name" },
		{ "{\"components\":[{\"name\":\"primary_store\","
		  "\"tier\":\"general\"},{\"name\":\"primary_store\","
		  "\"tier\":\"critical\"}]}", ALOG_EINVAL,
		  "components[1].name \"primary_store\" repeats "
		  "components[0].name" },
		{ "{\"components\":{}}", ALOG_EINVAL,
		  "components must be an array" },
		{ "{\"components\":[3]}", ALOG_EINVAL,
		  "components[0] must be an object" },
		{ "{}", ALOG_EINVAL, "t.json: components is required" },
		{ "{\"version\":2,\"components\":[]}", ALOG_EINVAL,
		  "version must be 1" },
		{ "{\"version\":\"1\",\"components\":[]}", ALOG_EINVAL,
		  "version must be 1" },
		{ "{\"components\":[],\"failover_target_s\":0}", ALOG_EINVAL,
		  "failover_target_s must be an integer 1..3600" },
		{ "{\"components\":[],\"failover_target_s\":3601}",
		  ALOG_EINVAL, "failover_target_s must be" },
		{ "{\"components\":[],\"partial_weight\":1.5}", ALOG_EINVAL,
		  "partial_weight must be a number 0..1 with at most 3 "
		  "decimals" },
		{ "{\"components\":[],\"partial_weight\":-0.001}", ALOG_EINVAL,
		  "partial_weight must be" },
		{ "{\"components\":[],\"business_hours\":[]}", ALOG_EINVAL,
		  "business_hours must be an object" },
#define H(x) "{\"components\":[],\"business_hours\":{" x "}}"
		{ H("\"start\":\"8:00\""), ALOG_EINVAL,
		  "business_hours.start must be a time \"HH:MM\" from "
		  "\"00:00\" to \"23:59\"" },
		{ H("\"start\":\"24:00\""), ALOG_EINVAL,
		  "business_hours.start must be" },
		{ H("\"start\":\"08:60\""), ALOG_EINVAL,
		  "business_hours.start must be" },
		{ H("\"start\":800"), ALOG_EINVAL,
		  "business_hours.start must be" },
		{ H("\"end\":\"24:01\""), ALOG_EINVAL,
		  "business_hours.end must be a time \"HH:MM\" from "
		  "\"00:01\" to \"24:00\"" },
		{ H("\"end\":\"00:00\""), ALOG_EINVAL,
		  "business_hours.end must be" },
		{ H("\"start\":\"18:00\",\"end\":\"08:00\""), ALOG_EINVAL,
		  "business_hours.start must be before business_hours.end" },
		{ H("\"start\":\"18:00\""), ALOG_EINVAL,
		  "business_hours.start must be before" },
		{ H("\"days\":[]"), ALOG_EINVAL,
		  "business_hours.days must be an array of 1..7 ISO "
		  "weekdays" },
		{ H("\"days\":[1,2,3,4,5,6,7,1]"), ALOG_EINVAL,
		  "business_hours.days must be an array" },
		{ H("\"days\":3"), ALOG_EINVAL,
		  "business_hours.days must be an array" },
		{ H("\"days\":[0]"), ALOG_EINVAL,
		  "business_hours.days[0] must be an integer 1..7" },
		{ H("\"days\":[1,8]"), ALOG_EINVAL,
		  "business_hours.days[1] must be an integer 1..7" },
		{ H("\"days\":[1,3,3]"), ALOG_EINVAL,
		  "business_hours.days[2] repeats weekday 3" },
		{ H("\"tz\":\"Europe/Berlin\""), ALOG_EINVAL,
		  "business_hours.tz must be \"UTC\" or a fixed offset "
		  "\"+HH:MM\" / \"-HH:MM\" up to 14:00 (zone names are not "
		  "supported)" },
		{ H("\"tz\":\"+14:01\""), ALOG_EINVAL,
		  "business_hours.tz must be" },
		{ H("\"tz\":\"01:00\""), ALOG_EINVAL,
		  "business_hours.tz must be" },
		{ H("\"tz\":\"utc\""), ALOG_EINVAL,
		  "business_hours.tz must be" },
		{ H("\"tz\":0"), ALOG_EINVAL,
		  "business_hours.tz must be a string" },
#undef H
#undef B
#undef C
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		parse_bad(cases[i].text, cases[i].code, cases[i].want);
}

static void test_config_refuses_unknown_keys_at_every_level(void **state)
{
	(void)state;
	parse_bad("{\"components\":[],\"Components\":[]}", ALOG_EINVAL,
		  "t.json: unknown key \"Components\" at the top level "
		  "(allowed: version, components, failover_target_s, "
		  "business_hours, partial_weight)");
	parse_bad("{\"components\":[{\"name\":\"a\",\"tier\":\"general\","
		  "\"threshold\":3}]}", ALOG_EINVAL,
		  "unknown key \"threshold\" in components[0] (allowed: "
		  "name, tier, target, owner, probe_interval_s, breaker)");
	parse_bad("{\"components\":[{\"name\":\"a\",\"tier\":\"general\"},"
		  "{\"name\":\"b\",\"tier\":\"general\",\"breaker\":"
		  "{\"treshold\":3}}]}", ALOG_EINVAL,
		  "unknown key \"treshold\" in components[1].breaker "
		  "(allowed: threshold, failure_rate, window_s, min_calls, "
		  "open_timeout_s, backoff, open_timeout_max_s, probes)");
	parse_bad("{\"components\":[],\"business_hours\":{\"timezone\":"
		  "\"UTC\"}}", ALOG_EINVAL,
		  "unknown key \"timezone\" in business_hours (allowed: "
		  "start, end, days, tz)");
	/* A key is printed safely: quotes and control bytes as '?'. */
	parse_bad("{\"components\":[],\"a\\\"b\\n\":1}", ALOG_EINVAL,
		  "unknown key \"a?b?\" at the top level");
	/* An unknown key is refused even next to an invalid value. */
	parse_bad("{\"zz\":1,\"components\":7}", ALOG_EINVAL,
		  "unknown key \"zz\"");
}

static void test_config_reports_json_faults_with_line_and_column(
	void **state)
{
	char deep[64];

	(void)state;
	parse_bad("{\n  \"components\": [,]\n}", ALOG_EINVAL,
		  "t.json: invalid json at line 2 column 18 (byte 19): "
		  "unexpected character");
	parse_bad("{\"components\":[]", ALOG_EINVAL, "line 1 column 17 ");
	parse_bad("", ALOG_EINVAL, "line 1 column 1 (byte 0)");
	parse_bad("{\"components\":[]} x", ALOG_EINVAL,
		  "line 1 column 19 (byte 18)");
	/* Duplicate keys, which cJSON alone would accept. */
	parse_bad("{\"components\":[],\n\"components\":[]}", ALOG_EINVAL,
		  "line 2 column 1 (byte 18): duplicate key");
	parse_bad("{\"components\":[{\"name\":\"a\",\"name\":\"b\","
		  "\"tier\":\"general\"}]}", ALOG_EINVAL, "duplicate");
	/* Not an object at the top. */
	parse_bad("[]", ALOG_EINVAL, "line 1 column");
	/* \u0000, which cJSON would cut a string at. */
	parse_bad("{\"components\":[{\"name\":\"a\\u0000b\","
		  "\"tier\":\"general\"}]}", ALOG_EINVAL, "line 1 column");
	/* Bad UTF-8. */
	parse_bad("{\"components\":[],\"x\":\"\xc3\"}", ALOG_EINVAL,
		  "line 1 column");
	/* Deeper than ALOG_CONFIG_DEPTH_MAX (8) nested containers. */
	snprintf(deep, sizeof(deep),
		 "{\"components\":[[[[[[[[]]]]]]]]}");
	parse_bad(deep, ALOG_ELIMIT, "line 1 column 22 (byte 21)");
}

static void test_config_limits_accept_the_limit_and_refuse_one_past(
	void **state)
{
	struct alog_config cfg;
	struct alog_err err = { 0 };
	char name[ALOG_CONFIG_NAME_MAX + 2];
	char owner[ALOG_CONFIG_OWNER_MAX + 2];
	char *text;
	size_t cap = ALOG_CONFIG_FILE_MAX + 64, n, i;

	(void)state;
	text = malloc(cap);
	assert_non_null(text);

	/* Name: 64 bytes accepted, 65 refused. */
	memset(name, 'n', sizeof(name));
	name[ALOG_CONFIG_NAME_MAX] = 0;
	snprintf(text, cap, "{\"components\":[{\"name\":\"%s\","
		 "\"tier\":\"general\"}]}", name);
	parse_ok(text, &cfg);
	assert_int_equal(strlen(cfg.components[0].name), 64);
	alog_config_release(&cfg);
	name[ALOG_CONFIG_NAME_MAX] = 'n';
	name[ALOG_CONFIG_NAME_MAX + 1] = 0;
	snprintf(text, cap, "{\"components\":[{\"name\":\"%s\","
		 "\"tier\":\"general\"}]}", name);
	parse_bad(text, ALOG_ELIMIT, "components[0].name must be 1..64");

	/* Owner: 128 bytes accepted, 129 refused. */
	memset(owner, 'o', sizeof(owner));
	owner[ALOG_CONFIG_OWNER_MAX] = 0;
	snprintf(text, cap, "{\"components\":[{\"name\":\"a\","
		 "\"tier\":\"general\",\"owner\":\"%s\"}]}", owner);
	parse_ok(text, &cfg);
	assert_int_equal(strlen(cfg.components[0].owner), 128);
	alog_config_release(&cfg);
	owner[ALOG_CONFIG_OWNER_MAX] = 'o';
	owner[ALOG_CONFIG_OWNER_MAX + 1] = 0;
	snprintf(text, cap, "{\"components\":[{\"name\":\"a\","
		 "\"tier\":\"general\",\"owner\":\"%s\"}]}", owner);
	parse_bad(text, ALOG_ELIMIT, "components[0].owner must be 1..128");

	/* Components: 64 accepted (plus primary_store), 65 refused. */
	for (int lim = ALOG_CONFIG_COMPONENTS_MAX;
	     lim <= ALOG_CONFIG_COMPONENTS_MAX + 1; lim++) {
		n = (size_t)snprintf(text, cap, "{\"components\":[");
		for (i = 0; i < (size_t)lim; i++)
			n += (size_t)snprintf(text + n, cap - n,
					      "%s{\"name\":\"c%zu\","
					      "\"tier\":\"general\"}",
					      i ? "," : "", i);
		snprintf(text + n, cap - n, "]}");
		if (lim == ALOG_CONFIG_COMPONENTS_MAX) {
			parse_ok(text, &cfg);
			assert_int_equal(cfg.n_components, 65);
			assert_string_equal(cfg.components[64].name,
					    "primary_store");
			alog_config_release(&cfg);
		} else {
			parse_bad(text, ALOG_ELIMIT,
				  "components has 65 entries, more than 64");
		}
	}

	/* Limits of the numbers: the limit itself is accepted. */
	parse_ok("{\"components\":[{\"name\":\"a\",\"tier\":\"general\","
		 "\"target\":0.999999,\"probe_interval_s\":86400,"
		 "\"breaker\":{\"threshold\":1000,\"failure_rate\":1,"
		 "\"window_s\":86400,\"min_calls\":100000,"
		 "\"open_timeout_s\":86400,\"backoff\":10,"
		 "\"open_timeout_max_s\":86400,\"probes\":100}}],"
		 "\"failover_target_s\":3600,\"partial_weight\":1,"
		 "\"business_hours\":{\"start\":\"23:59\",\"end\":\"24:00\","
		 "\"days\":[1,2,3,4,5,6,7],\"tz\":\"+14:00\"}}", &cfg);
	assert_int_equal(cfg.components[0].target_ppm, 999999);
	assert_int_equal(cfg.components[0].breaker.rate_permille, 1000);
	assert_int_equal(cfg.components[0].breaker.backoff_permille, 10000);
	assert_int_equal(cfg.business_hours.days, 0xfe);
	assert_int_equal(cfg.business_hours.tz_offset_min, 840);
	alog_config_release(&cfg);
	parse_ok("{\"components\":[{\"name\":\"a\",\"tier\":\"general\","
		 "\"target\":0.000001,\"breaker\":{\"failure_rate\":0.001,"
		 "\"backoff\":1}}],\"business_hours\":{\"start\":\"00:00\","
		 "\"end\":\"00:01\",\"tz\":\"-14:00\"}}", &cfg);
	assert_int_equal(cfg.components[0].target_ppm, 1);
	assert_int_equal(cfg.components[0].breaker.rate_permille, 1);
	assert_int_equal(cfg.business_hours.tz_offset_min, -840);
	alog_config_release(&cfg);

	/* File size: ALOG_CONFIG_FILE_MAX bytes accepted, one more
	 * refused (whitespace padding). */
	n = (size_t)snprintf(text, cap, "{\"components\":[]}");
	memset(text + n, ' ', ALOG_CONFIG_FILE_MAX - n);
	assert_int_equal(alog_config_parse(&cfg, text, ALOG_CONFIG_FILE_MAX,
					   "t.json", &err), 0);
	alog_config_release(&cfg);
	text[ALOG_CONFIG_FILE_MAX] = ' ';
	assert_int_equal(alog_config_parse(&cfg, text,
					   ALOG_CONFIG_FILE_MAX + 1, "t.json",
					   &err), ALOG_ELIMIT);
	assert_string_equal(err.msg,
			    "t.json: 1048577 bytes, more than 1048576");
	free(text);
}

static void write_file(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void test_config_load_reads_a_file_and_names_it_in_errors(
	void **state)
{
	struct alog_config cfg;
	struct alog_err err = { 0 };
	char *dir = testutil_tmpdir();
	char path[4096], big[4096];
	char *pad;

	(void)state;
	snprintf(path, sizeof(path), "%s/auditlog.json", dir);
	write_file(path, "{\"components\":[]}", 17);
	assert_int_equal(alog_config_load(&cfg, path, &err), 0);
	assert_string_equal(cfg.hash_hex,
			    "ac46fd24bd501fa7297f0a2945bcc7f5"
			    "d655b9bcf8bfbf16718a9d25c0c2c018");
	alog_config_release(&cfg);

	write_file(path, "{\"components\":[],\"x\":1}", 23);
	assert_int_equal(alog_config_load(&cfg, path, &err), ALOG_EINVAL);
	assert_true(strncmp(err.msg, path, strlen(path)) == 0);
	if (!strstr(err.msg, ": unknown key \"x\""))
		fail_msg("%s", err.msg);

	snprintf(big, sizeof(big), "%s/big.json", dir);
	pad = malloc(ALOG_CONFIG_FILE_MAX + 1);
	assert_non_null(pad);
	memset(pad, ' ', ALOG_CONFIG_FILE_MAX + 1);
	write_file(big, pad, ALOG_CONFIG_FILE_MAX + 1);
	free(pad);
	assert_int_equal(alog_config_load(&cfg, big, &err), ALOG_ELIMIT);
	assert_non_null(strstr(err.msg, "more than 1048576 bytes"));

	snprintf(path, sizeof(path), "%s/missing.json", dir);
	assert_int_equal(alog_config_load(&cfg, path, &err), ALOG_ENOTFOUND);
	assert_non_null(strstr(err.msg, "missing.json: cannot open"));
	assert_null(all_zero_cfg_reason(&cfg));
	testutil_rmtree(dir);
	free(dir);
}

static void test_config_example_file_parses(void **state)
{
	const char *vec = getenv("ALOG_VECTORS");
	struct alog_config cfg;
	struct alog_err err = { 0 };
	char path[4096];
	static const char *const keys[] = {
		"version", "components", "name", "tier", "target", "owner",
		"probe_interval_s", "breaker", "threshold", "failure_rate",
		"window_s", "min_calls", "open_timeout_s", "backoff",
		"open_timeout_max_s", "probes", "failover_target_s",
		"business_hours", "start", "end", "days", "tz",
		"partial_weight",
	};
	const struct alog_config_component *c;
	size_t i, n, n_daemon = 0;
	char *text;

	(void)state;
	snprintf(path, sizeof(path), "%s/../../tools/auditlog.example.json",
		 vec ? vec : "tests/vectors");
	if (alog_config_load(&cfg, path, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(cfg.from_file, 1);
	assert_int_equal(strlen(cfg.hash_hex), 64);
	assert_int_equal(cfg.n_components, 4);
	for (i = 0; i < cfg.n_components; i++) {
		n_daemon += (size_t)cfg.components[i].daemon_owned;
		assert_true(cfg.components[i].owner[0] != 0);
	}
	assert_int_equal(n_daemon, 1);
	c = alog_config_component_find(&cfg, "primary_store", 13);
	assert_non_null(c);
	assert_int_equal(c->daemon_owned, 1);
	c = alog_config_component_find(&cfg, "dashboard_stats", 15);
	assert_non_null(c);
	assert_int_equal(c->tier, ALOG_TIER_GENERAL);
	assert_int_equal(c->target_ppm, 995000);
	assert_int_equal(c->breaker.rate_permille, 500);
	c = alog_config_component_find(&cfg, "dashboard_activities", 20);
	assert_non_null(c);
	assert_int_equal(c->tier, ALOG_TIER_CRITICAL);
	c = alog_config_component_find(&cfg, "security_summary", 16);
	assert_non_null(c);
	assert_int_equal(c->tier, ALOG_TIER_CRITICAL);
	assert_int_equal(cfg.failover_target_s, 30);
	alog_config_release(&cfg);

	/* The example shows every key of the format. */
	text = (char *)testutil_read_file(path, &n);
	text[n] = 0;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char quoted[64];

		snprintf(quoted, sizeof(quoted), "\"%s\":", keys[i]);
		if (!strstr(text, quoted))
			fail_msg("the example lacks %s", quoted);
	}
	free(text);
}

/* V-CONFIG-2: times and ISO weekdays from Python's datetime. */
static void test_config_business_hours_use_local_weekday_and_time(
	void **state)
{
	struct alog_config cfg;
	struct alog_err err = { 0 };

	(void)state;
	assert_int_equal(alog_config_builtin(&cfg, &err), 0);
	/* 1970-01-01T08:00:00Z, Thursday (4): in. */
	assert_true(alog_config_in_business_hours(&cfg, INT64_C(28800000000)));
	assert_false(alog_config_in_business_hours(&cfg,
						   INT64_C(28800000000) - 1));
	/* 2024-03-04T07:59:59.999999Z and T17:59:59.999999Z, Monday (1). */
	assert_false(alog_config_in_business_hours(
		&cfg, INT64_C(1709539199999999)));
	assert_true(alog_config_in_business_hours(
		&cfg, INT64_C(1709539199999999) + 1));
	assert_true(alog_config_in_business_hours(
		&cfg, INT64_C(1709575199999999)));
	assert_false(alog_config_in_business_hours(
		&cfg, INT64_C(1709575199999999) + 1));
	/* 2024-03-09T12:00:00Z, Saturday (6): out. */
	assert_false(alog_config_in_business_hours(
		&cfg, INT64_C(1709985600000000)));
	/* 1970-01-03T10:00:00Z, Saturday: out. */
	assert_false(alog_config_in_business_hours(&cfg,
						   INT64_C(208800000000)));
	/* With tz -05:00 and Thursday only, 1970-01-02T03:00:00Z (Friday
	 * in UTC) is Thursday 22:00 local. */
	cfg.business_hours.tz_offset_min = -300;
	cfg.business_hours.days = 1u << 4;
	cfg.business_hours.end_min = 1440;
	assert_true(alog_config_in_business_hours(&cfg,
						  INT64_C(97200000000)));
	/* Before 1970: 1969-12-31T20:00:00Z is Wednesday 15:00 local. */
	cfg.business_hours.days = 1u << 3;
	assert_true(alog_config_in_business_hours(&cfg, -INT64_C(14400000000)));
	/* Outside the representable range: never. */
	assert_false(alog_config_in_business_hours(&cfg, INT64_MAX));
	alog_config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_config_builtin_inventory_has_four_components_with_defaults),
		cmocka_unit_test(test_config_component_defaults_follow_the_tier),
		cmocka_unit_test(
			test_config_parse_fills_missing_keys_with_tier_defaults),
		cmocka_unit_test(test_config_parse_reads_every_key),
		cmocka_unit_test(test_config_hash_is_sha256_of_the_file_bytes),
		cmocka_unit_test(
			test_config_refuses_each_invalid_value_naming_its_path),
		cmocka_unit_test(
			test_config_refuses_unknown_keys_at_every_level),
		cmocka_unit_test(
			test_config_reports_json_faults_with_line_and_column),
		cmocka_unit_test(
			test_config_limits_accept_the_limit_and_refuse_one_past),
		cmocka_unit_test(
			test_config_load_reads_a_file_and_names_it_in_errors),
		cmocka_unit_test(test_config_example_file_parses),
		cmocka_unit_test(
			test_config_business_hours_use_local_weekday_and_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
