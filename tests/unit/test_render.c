/*
 * test_render: the Markdown and HTML renderings of a report (SPEC.md 21.4,
 * report/render.h), from a small report JSON written by hand below: three
 * components (one failing with an episode and an unapproved maintenance
 * window, one clean, one failing because of unknown time with an
 * unreconciled activation, a failover over target and a finding), two
 * samples, a start checkpoint and no end checkpoint (vector V-RENDER-1).
 * The numbers in it were computed with Python integer arithmetic from the
 * formulas of SPEC.md 20.5, not by auditlog.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report/render.h"
#include "tests/unit/testutil.h"

/* V-RENDER-1, one JSON text in parts (C limits a literal's length). */
static const char *const fixture_parts[] = {
	"{\"schema\":\"auditlog-report/1\",\"report_id\":\"0123456789abcdef0123456789abcdef\",",
	"\"title\":\"Availability (A1.2) evidence\",\"nature\":\"management-prepared,",
	" system-generated evidence; not an audit opinion\",\"generator\":\"auditlog 0.3.0\",",
	"\"generated_at\":\"2024-03-05T00:00:00.000000Z\",\"origin\":\"example.com/log\",",
	"\"period\":{\"from\":\"2024-02-29T00:00:00.000000Z\",\"to\":\"2024-03-02T00:00:00.000000Z\",",
	"\"from_us\":1709164800000000,\"to_us\":1709337600000000,\"time_zone\":\"UTC\"},",
	"\"config\":{\"file\":\"cfg.json\",\"sha256\":\"abababababababababababababababababababababababababababababababab\"},",
	"\"recorded\":{\"recorded\":false,\"reason\":\"--no-record was given\"},",
	"\"integrity\":{\"start_checkpoint\":{\"checkpoint\":0,\"size\":9,\"root\":\"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\",",
	"\"signed_at\":\"2024-02-28T23:00:00.000000Z\",\"signed_at_us\":1709161200000000,",
	"\"note\":\"example.com/log\\n9\\nq83vEjRWeBvLTq9hcX1L6MsB0SMvfzhI3OmzCdJl1Nc=\\n\\n\\u2014 example.com/log AAAAAAAA\\n\"},",
	"\"end_checkpoint\":null,\"consistency_proof\":[],\"consistency_verified\":false,",
	"\"complete\":false},\"population\":{\"query\":\"received >= \\\"2024-02-29T00:00:00.000000Z\\\" and received < \\\"2024-03-02T00:00:00.000000Z\\\"\",",
	"\"count\":3,\"index_from\":10,\"index_to\":13,\"gaps\":0,\"first_received\":\"2024-02-29T01:00:00.000000Z\",",
	"\"last_received\":\"2024-03-01T02:00:00.000000Z\",\"sha256\":\"efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef\",",
	"\"daily\":[[\"2024-02-29\",2],[\"2024-03-01\",1]]},\"samples\":{\"seed\":\"auditor seed 42\",",
	"\"seed_source\":\"given\",\"requested\":2,\"population\":3,\"items\":[{\"index\":10,",
	"\"leaf_hash\":\"b038f24df84cd51850d4f6def709c57aee586252ec5c5a44d758f401795b21c5\",",
	"\"record\":\"{\\\"index\\\":10,\\\"received\\\":\\\"2024-02-29T01:00:00.000000Z\\\",",
	"\\\"id\\\":\\\"e-10\\\",\\\"provenance\\\":{\\\"transport\\\":\\\"stdin\\\",\\\"uid\\\":0},",
	"\\\"event\\\":{\\\"type\\\":\\\"health.probe\\\",\\\"id\\\":\\\"e-10\\\",\\\"source\\\":\\\"mon\\\",",
	"\\\"time\\\":\\\"2024-02-29T01:00:00Z\\\",\\\"component\\\":\\\"api\\\",\\\"status\\\":\\\"up\\\"}}\",",
	"\"proof_file\":null,\"proof_verified\":false},{\"index\":12,\"leaf_hash\":\"fe52da4a4407d86ce50a0b90424718bf3725665e74f1d72943b0b2592adae0c0\",",
	"\"record\":\"{\\\"index\\\":12,\\\"received\\\":\\\"2024-03-01T02:00:00.000000Z\\\",",
	"\\\"id\\\":\\\"e-12\\\",\\\"provenance\\\":{\\\"transport\\\":\\\"stdin\\\",\\\"uid\\\":0},",
	"\\\"event\\\":{\\\"type\\\":\\\"auth.login\\\",\\\"id\\\":\\\"e-12\\\",\\\"source\\\":\\\"sso\\\",",
	"\\\"time\\\":\\\"2024-03-01T02:00:00Z\\\",\\\"actor\\\":\\\"bob\\\",\\\"outcome\\\":\\\"success\\\"}}\",",
	"\"proof_file\":null,\"proof_verified\":false}]},\"a1_2\":{\"criterion\":\"A1.2\",",
	"\"partial_weight_permille\":0,\"failover_target_s\":30,\"malformed_inputs\":2,",
	"\"components\":[{\"component\":\"api\",\"tier\":\"critical\",\"target_ppm\":999000,",
	"\"target\":\"99.900\",\"signal\":\"probes\",\"daemon_owned\":false,\"state_at_from\":\"up\",",
	"\"period_us\":172800000000,\"excluded_us\":1800000000,\"down_us\":600000000,",
	"\"partial_us\":0,\"unknown_us\":3600000000,\"up_us\":166800000000,",
	"\"measured\":true,\"availability_raw_ppm\":975438,\"availability_raw\":\"97.543\",",
	"\"availability_weighted_ppm\":975438,\"availability_weighted\":\"97.543\",",
	"\"error_budget_used_permille\":3509,\"episodes_started\":1,\"pass\":false,",
	"\"unknown_decides\":false,\"mttd_us\":45000000,\"mttr_us\":600000000,",
	"\"mtbf_us\":166800000000,\"longest_outage_us\":600000000,\"episodes\":[{\"start\":\"2024-02-29T10:00:00.000000Z\",",
	"\"end\":\"2024-02-29T10:10:00.000000Z\",\"ended\":true,\"duration_us\":600000000,",
	"\"in_period_us\":600000000,\"down_us\":600000000,\"partial_us\":0,",
	"\"excluded_us\":0,\"unknown_us\":0,\"trigger\":\"failure_threshold\",",
	"\"recovery\":\"manual\",\"half_open_failures\":0,\"detect_us\":45000000,",
	"\"flapping\":false,\"start_index\":40,\"end_index\":52}],\"maintenance\":[{\"start\":\"2024-02-29T00:00:00.000000Z\",",
	"\"end\":\"2024-02-29T00:30:00.000000Z\",\"approved\":true,\"change_ref\":\"<script>alert(1)</script>\",",
	"\"approver\":\"carol & dave\",\"index\":3},{\"start\":\"2024-02-29T04:00:00.000000Z\",",
	"\"end\":\"2024-02-29T04:10:00.000000Z\",\"approved\":false,\"change_ref\":null,",
	"\"approver\":null,\"index\":17},{\"start\":\"2024-02-29T05:00:00.000000Z\",",
	"\"end\":\"2024-02-29T05:05:00.000000Z\",\"approved\":true,\"change_ref\":\"CHG-1001 | x\",",
	"\"approver\":\"carol\",\"index\":18}],\"activations\":[],\"interventions\":[],",
	"\"months\":[{\"month\":\"2024-02\",\"period_us\":86400000000,\"excluded_us\":1800000000,",
	"\"down_us\":600000000,\"partial_us\":0,\"unknown_us\":0,\"up_us\":84000000000,",
	"\"measured\":true,\"availability_raw_ppm\":992907,\"availability_raw\":\"99.290\",",
	"\"availability_weighted_ppm\":992907,\"availability_weighted\":\"99.290\",",
	"\"error_budget_used_permille\":7093,\"episodes_started\":1,\"pass\":false,",
	"\"unknown_decides\":false},{\"month\":\"2024-03\",\"period_us\":86400000000,",
	"\"excluded_us\":0,\"down_us\":0,\"partial_us\":0,\"unknown_us\":3600000000,",
	"\"up_us\":82800000000,\"measured\":true,\"availability_raw_ppm\":958333,",
	"\"availability_raw\":\"95.833\",\"availability_weighted_ppm\":958333,",
	"\"availability_weighted\":\"95.833\",\"error_budget_used_permille\":0,",
	"\"episodes_started\":0,\"pass\":false,\"unknown_decides\":true}],\"timeline\":[[1709164800000000,",
	"1709166600000000,\"excluded\"],[1709166600000000,1709200800000000,",
	"\"up\"],[1709200800000000,1709201400000000,\"down\"],[1709201400000000,",
	"1709334000000000,\"up\"],[1709334000000000,1709337600000000,\"unknown\"]],",
	"\"findings\":[]},{\"component\":\"primary_store\",\"tier\":\"critical\",",
	"\"target_ppm\":995000,\"target\":\"99.500\",\"signal\":\"breaker\",\"daemon_owned\":false,",
	"\"state_at_from\":\"up\",\"period_us\":172800000000,\"excluded_us\":0,",
	"\"down_us\":0,\"partial_us\":0,\"unknown_us\":0,\"up_us\":172800000000,",
	"\"measured\":true,\"availability_raw_ppm\":1000000,\"availability_raw\":\"100.000\",",
	"\"availability_weighted_ppm\":1000000,\"availability_weighted\":\"100.000\",",
	"\"error_budget_used_permille\":0,\"episodes_started\":0,\"pass\":true,",
	"\"unknown_decides\":false,\"mttd_us\":null,\"mttr_us\":null,\"mtbf_us\":null,",
	"\"longest_outage_us\":null,\"episodes\":[],\"maintenance\":[],\"activations\":[{\"failed_at\":\"2024-03-01T08:00:00.250000Z\",",
	"\"failover_us\":800000,\"failover_pass\":true,\"files\":2,\"spooled\":150,",
	"\"imported\":140,\"duplicates\":5,\"conflicts\":3,\"refused\":2,\"drained\":true,",
	"\"reconciled\":true,\"index\":60}],\"interventions\":[{\"at\":\"2024-03-01T09:00:00.000000Z\",",
	"\"operator\":\"alice\",\"auth_method\":\"mtls\",\"action\":\"breaker.reset\",",
	"\"reason\":\"disk replaced\",\"change_ref\":\"CHG-7\",\"index\":61}],\"months\":[{\"month\":\"2024-02\",",
	"\"period_us\":86400000000,\"excluded_us\":0,\"down_us\":0,\"partial_us\":0,",
	"\"unknown_us\":0,\"up_us\":86400000000,\"measured\":true,\"availability_raw_ppm\":1000000,",
	"\"availability_raw\":\"100.000\",\"availability_weighted_ppm\":1000000,",
	"\"availability_weighted\":\"100.000\",\"error_budget_used_permille\":0,",
	"\"episodes_started\":0,\"pass\":true,\"unknown_decides\":false},{\"month\":\"2024-03\",",
	"\"period_us\":86400000000,\"excluded_us\":0,\"down_us\":0,\"partial_us\":0,",
	"\"unknown_us\":0,\"up_us\":86400000000,\"measured\":true,\"availability_raw_ppm\":1000000,",
	"\"availability_raw\":\"100.000\",\"availability_weighted_ppm\":1000000,",
	"\"availability_weighted\":\"100.000\",\"error_budget_used_permille\":0,",
	"\"episodes_started\":0,\"pass\":true,\"unknown_decides\":false}],\"timeline\":[[1709164800000000,",
	"1709337600000000,\"up\"]],\"findings\":[]},{\"component\":\"auditlog\",",
	"\"tier\":\"critical\",\"target_ppm\":990000,\"target\":\"99.000\",\"signal\":\"breaker\",",
	"\"daemon_owned\":true,\"state_at_from\":\"unknown\",\"period_us\":172800000000,",
	"\"excluded_us\":0,\"down_us\":0,\"partial_us\":7200000000,\"unknown_us\":7200000000,",
	"\"up_us\":158400000000,\"measured\":true,\"availability_raw_ppm\":958333,",
	"\"availability_raw\":\"95.833\",\"availability_weighted_ppm\":958333,",
	"\"availability_weighted\":\"95.833\",\"error_budget_used_permille\":0,",
	"\"episodes_started\":0,\"pass\":false,\"unknown_decides\":true,\"mttd_us\":null,",
	"\"mttr_us\":null,\"mtbf_us\":null,\"longest_outage_us\":null,\"episodes\":[],",
	"\"maintenance\":[],\"activations\":[{\"failed_at\":\"2024-03-01T12:00:00.000000Z\",",
	"\"failover_us\":45500000,\"failover_pass\":false,\"files\":1,\"spooled\":10,",
	"\"imported\":7,\"duplicates\":1,\"conflicts\":0,\"refused\":0,\"drained\":false,",
	"\"reconciled\":false,\"index\":70}],\"interventions\":[],\"months\":[{\"month\":\"2024-02\",",
	"\"period_us\":86400000000,\"excluded_us\":0,\"down_us\":0,\"partial_us\":0,",
	"\"unknown_us\":7200000000,\"up_us\":79200000000,\"measured\":true,",
	"\"availability_raw_ppm\":916666,\"availability_raw\":\"91.666\",\"availability_weighted_ppm\":916666,",
	"\"availability_weighted\":\"91.666\",\"error_budget_used_permille\":0,",
	"\"episodes_started\":0,\"pass\":false,\"unknown_decides\":true},{\"month\":\"2024-03\",",
	"\"period_us\":86400000000,\"excluded_us\":0,\"down_us\":0,\"partial_us\":7200000000,",
	"\"unknown_us\":0,\"up_us\":79200000000,\"measured\":true,\"availability_raw_ppm\":1000000,",
	"\"availability_raw\":\"100.000\",\"availability_weighted_ppm\":1000000,",
	"\"availability_weighted\":\"100.000\",\"error_budget_used_permille\":0,",
	"\"episodes_started\":0,\"pass\":true,\"unknown_decides\":false}],\"timeline\":[[1709164800000000,",
	"1709172000000000,\"unknown\"],[1709172000000000,1709251200000000,",
	"\"up\"],[1709251200000000,1709258400000000,\"partial\"],[1709258400000000,",
	"1709337600000000,\"up\"]],\"findings\":[{\"finding\":\"crashed_run\",",
	"\"index\":65,\"at\":\"2024-03-01T11:00:00.000000Z\"}]}]},",
	/* cc7_2: api probed every 60 s, 5 probes missing in a 6 min gap
	 * at 00:10 and 40 in a 41 min gap at 10:00 on 2024-03-01 (1440 +
	 * 1395 of 2 x 1440); primary_store every 10 s, none missing;
	 * auditlog, the daemon's own, not probed. One verification run, on
	 * 2024-02-29, failed; none on 2024-03-01. */
	"\"cc7_2\":{\"criterion\":\"CC7.2\",\"components_monitored\":2,\"components\":3,",
	"\"probes\":[{\"component\":\"api\",\"probe_interval_s\":60,\"tolerance_us\":180000000,",
	"\"expected\":2880,\"received\":2835,\"days\":[[\"2024-02-29\",1440,1440],",
	"[\"2024-03-01\",1440,1395]]},{\"component\":\"primary_store\",\"probe_interval_s\":10,",
	"\"tolerance_us\":30000000,\"expected\":17280,\"received\":17280,",
	"\"days\":[[\"2024-02-29\",8640,8640],[\"2024-03-01\",8640,8640]]},",
	"{\"component\":\"auditlog\",\"probe_interval_s\":60,\"tolerance_us\":180000000,",
	"\"expected\":0,\"received\":0,\"days\":[[\"2024-02-29\",0,0],[\"2024-03-01\",0,0]]}],",
	"\"gaps\":[{\"component\":\"api\",\"start\":\"2024-03-01T00:10:00.000000Z\",",
	"\"end\":\"2024-03-01T00:16:00.000000Z\",\"length_us\":360000000,",
	"\"in_period_us\":360000000,\"before_index\":300,\"after_index\":301},",
	"{\"component\":\"api\",\"start\":\"2024-03-01T10:00:00.000000Z\",",
	"\"end\":\"2024-03-01T10:41:00.000000Z\",\"length_us\":2460000000,",
	"\"in_period_us\":2460000000}],\"checkpoints\":{\"expected_interval_us\":60000000,",
	"\"expected\":2880,\"signed\":2870,\"longest_gap_start\":\"2024-03-01T10:00:30.000000Z\",",
	"\"longest_gap_end\":\"2024-03-01T10:05:30.000000Z\"},\"verification\":{\"runs\":1,",
	"\"pass\":0,\"fail\":1,\"days_without_a_run\":[\"2024-03-01\"]},\"rules\":[",
	"{\"rule\":\"R-LOGIN-ACTOR\",\"logic\":\"at least 5 auth.login failures for one actor within 5 min\",",
	"\"severity\":\"medium\",\"class\":\"malicious\",\"anomalies\":1},",
	"{\"rule\":\"R-LOGIN-SOURCE\",\"logic\":\"at least 10 auth.login failures from one source_addr within 5 min\",",
	"\"severity\":\"high\",\"class\":\"malicious\",\"anomalies\":0},",
	"{\"rule\":\"R-BREAKER-FLAP\",\"logic\":\"at least 3 breaker transitions to open for one component within 1 h\",",
	"\"severity\":\"medium\",\"class\":\"environmental\",\"anomalies\":1},",
	"{\"rule\":\"R-ADMIN-HOURS\",\"logic\":\"an admin.action outside the configured business hours\",",
	"\"severity\":\"medium\",\"class\":\"malicious\",\"anomalies\":1},",
	"{\"rule\":\"R-PROBE-GAP\",\"logic\":\"more than 3 x probe_interval_s between consecutive health probes of a component\",",
	"\"severity\":\"medium\",\"class\":\"environmental\",\"anomalies\":2},",
	"{\"rule\":\"R-VERIFY-FAILED\",\"logic\":\"an integrity.verified with result fail\",",
	"\"severity\":\"high\",\"class\":\"malicious\",\"anomalies\":1},",
	"{\"rule\":\"R-VERIFY-MISSING\",\"logic\":\"no integrity.verified for more than 26 h (a daily run, 2 h of slack)\",",
	"\"severity\":\"medium\",\"class\":\"error\",\"anomalies\":0},",
	"{\"rule\":\"R-CLOCK-SKEW\",\"logic\":\"an event whose time is more than 5 min from its received time\",",
	"\"severity\":\"low\",\"class\":\"error\",\"anomalies\":0}],\"anomalies\":[",
	"{\"rule\":\"R-BREAKER-FLAP\",\"subject\":\"primary_store\",\"window_start\":\"2024-02-29T12:00:00.000000Z\",",
	"\"window_end\":\"2024-02-29T12:40:00.000000Z\",\"detected\":\"2024-02-29T12:20:00.000000Z\",",
	"\"events\":70,\"indices\":[400,401,402,403,404,405,406,407,408,409,410,411,412,413,",
	"414,415,416,417,418,419,420,421,422,423,424,425,426,427,428,429,430,431,432,433,434,",
	"435,436,437,438,439,440,441,442,443,444,445,446,447,448,449,450,451,452,453,454,455,",
	"456,457,458,459,460,461,462,463]},{\"rule\":\"R-VERIFY-FAILED\",\"subject\":\"integrity\",",
	"\"window_start\":\"2024-02-29T23:30:00.000000Z\",\"window_end\":\"2024-02-29T23:30:00.000000Z\",",
	"\"detected\":\"2024-02-29T23:30:00.000000Z\",\"events\":1,\"indices\":[330]},",
	"{\"rule\":\"R-PROBE-GAP\",\"subject\":\"api\",\"window_start\":\"2024-03-01T00:10:00.000000Z\",",
	"\"window_end\":\"2024-03-01T00:16:00.000000Z\",\"detected\":\"2024-03-01T00:16:00.050000Z\",",
	"\"events\":2,\"indices\":[300,301]},{\"rule\":\"R-ADMIN-HOURS\",",
	"\"subject\":\"<b>root</b> & co\",\"window_start\":\"2024-03-01T07:00:00.000000Z\",",
	"\"window_end\":\"2024-03-01T07:00:00.000000Z\",\"detected\":\"2024-03-01T07:00:00.000000Z\",",
	"\"events\":1,\"indices\":[58]},{\"rule\":\"R-PROBE-GAP\",\"subject\":\"api\",",
	"\"window_start\":\"2024-03-01T10:00:00.000000Z\",\"window_end\":\"2024-03-01T10:41:00.000000Z\",",
	"\"detected\":\"2024-03-01T10:41:00.050000Z\",\"events\":2,\"indices\":[340,341]},",
	"{\"rule\":\"R-LOGIN-ACTOR\",\"subject\":\"<script>alert(2)</script>|eve\",",
	"\"window_start\":\"2024-03-01T11:00:00.000000Z\",\"window_end\":\"2024-03-01T11:04:00.000000Z\",",
	"\"detected\":\"2024-03-01T11:03:00.000000Z\",\"events\":5,\"indices\":[350,351,352,353,354]}],",
	"\"operator_activity\":[{\"index\":58,\"at\":\"2024-03-01T07:00:00.000000Z\",",
	"\"operator\":\"<b>root</b> & co\",\"action\":\"breaker.force_open\",\"target\":\"api\",",
	"\"outcome\":\"denied\",\"in_business_hours\":false},{\"index\":61,",
	"\"at\":\"2024-03-01T09:00:00.000000Z\",\"operator\":\"alice\",\"action\":\"breaker.reset\",",
	"\"target\":\"primary_store\",\"outcome\":\"success\",\"in_business_hours\":true}],",
	"\"logins\":9,\"login_failures\":8,\"failures_by_actor\":[{\"actor\":",
	"\"<script>alert(2)</script>|eve\",\"failures\":5},{\"actor\":\"<img onerror=alert(4)>`*_bob_*`\",",
	"\"failures\":3}],\"deviations\":3}}",
	NULL
};

static char *fixture(void)
{
	size_t n = 0;
	char *s, *p;

	for (int i = 0; fixture_parts[i]; i++)
		n += strlen(fixture_parts[i]);
	s = malloc(n + 1);
	assert_non_null(s);
	p = s;
	for (int i = 0; fixture_parts[i]; i++) {
		size_t k = strlen(fixture_parts[i]);

		memcpy(p, fixture_parts[i], k);
		p += k;
	}
	*p = 0;
	return s;
}

/* s with the first occurrence of from replaced by to (malloc'd). */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t n;
	char *o;

	assert_non_null(at);
	n = strlen(s) - strlen(from) + strlen(to);
	o = malloc(n + 1);
	assert_non_null(o);
	memcpy(o, s, (size_t)(at - s));
	memcpy(o + (at - s), to, strlen(to));
	memcpy(o + (at - s) + strlen(to), at + strlen(from),
	       strlen(at + strlen(from)) + 1);
	return o;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p;
	     p = strstr(p + strlen(needle), needle))
		n++;
	return n;
}

static void render(int html, const char *json, struct alog_buf *out)
{
	struct alog_err err = { 0 };
	int rc;

	alog_buf_init(out, 0);
	rc = html ? alog_render_html(json, strlen(json), out, &err)
		  : alog_render_markdown(json, strlen(json), out, &err);
	if (rc != 0)
		fail_msg("render: %s", err.msg);
	assert_int_equal(strlen((const char *)out->data), out->len);
}

static void assert_has(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("missing from the rendering: \"%s\"", needle);
}

static void test_render_markdown_has_every_section_and_key_text(void **state)
{
	struct alog_buf md;
	char *json = fixture();
	const char *s;

	(void)state;
	render(0, json, &md);
	s = (const char *)md.data;
	/* the sections, in the order of SPEC.md 21.4 */
	{
		static const char *const heads[] = {
			"# Availability (A1.2) evidence\n", "## 1. Cover\n",
			"## 2. Completeness\n", "## 3. Availability (A1.2)\n",
			"## 4. Monitoring (CC7.2)\n", "### 4.1 Health probes\n",
			"#### 4.1.1 api\n", "#### 4.1.2 primary\\_store\n",
			"#### 4.1.3 auditlog\n", "### 4.2 Monitoring gaps\n",
			"### 4.3 Checkpoint cadence\n",
			"### 4.4 Verification runs\n",
			"### 4.5 Detection rules\n", "### 4.6 Anomalies\n",
			"### 4.7 Operator activity (CC6.1, CC8.1)\n",
			"### 4.8 Logins\n",
			"## 5. Tests and results\n", "### Deviations register\n",
			"## 6. Sampling worksheet\n",
			"## 7. Integrity appendix\n", "## 8. Definitions\n",
		};
		const char *prev = s;

		for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
			const char *at = strstr(s, heads[i]);

			if (!at || at < prev)
				fail_msg("section \"%s\" missing or out of order",
					 heads[i]);
			prev = at;
		}
	}
	/* cover */
	assert_has(s, "**management-prepared, system-generated evidence; not "
		      "an audit opinion**");
	assert_has(s, "A1.2 and CC7.2 \xe2\x80\x94 2017 TSC, revised points of "
		      "focus 2022");
	assert_has(s, "\\[2024-02-29T00:00:00.000000Z, "
		      "2024-03-02T00:00:00.000000Z)");
	assert_has(s, "`0123456789abcdef0123456789abcdef`");
	assert_has(s, "no: --no-record was given");
	assert_has(s, "none yet: no checkpoint was signed at or after the end");
	assert_has(s, "**NOT complete**");
	assert_has(s, "**NOT verified**");
	/* completeness */
	assert_has(s, "| all events received in the period | `received >= "
		      "\"2024-02-29T00:00:00.000000Z\" and received < "
		      "\"2024-03-02T00:00:00.000000Z\"` | 3 | \\[10, 13) | 0 |");
	assert_has(s, "the daily counts add up to 3, **equal to the population "
		      "count**");
	/* A1.2 summary row of api: durations, ratios, budget, metrics */
	assert_has(s, "| 2 d 00 h 00 m 00 s | 30 m 00 s | 10 m 00 s | 0 s | "
		      "1 h 00 m 00 s | 97.543 % | 97.543 % | 350.9 % | 1 | "
		      "45 s | 10 m 00 s |");
	assert_has(s, "| n/a | n/a | n/a | n/a | max 0.8 s; 1 of 1 within 30 s "
		      "| **PASS** |");
	assert_has(s, "**FAIL** (fails because of unknown time)");
	/* the formulas with the numbers of api (SPEC.md 20.5) */
	assert_has(s, "= floor(10^6 \xc3\x97 166800000000 / 171000000000)\n"
		      "                      = 975438 ppm = 97.543 %\n");
	assert_has(s, "= 3509 permille = 350.9 % of the budget\n");
	/* episode, windows, activations, interventions, findings */
	assert_has(s, "| 1 | 2024-02-29T10:00:00.000000Z (40) | "
		      "2024-02-29T10:10:00.000000Z (52) | 10 m 00 s |");
	assert_has(s, "| 17 | 2024-02-29T04:00:00.000000Z | "
		      "2024-02-29T04:10:00.000000Z | none | none | "
		      "**DEVIATION** (not excluded; see DEV-2) |");
	assert_has(s, "| 150 = 140 + 5 + 3 + 2 |");
	assert_has(s, "| 10 = 7 + 1 + 0 + 0 (some file does not add up) |");
	assert_has(s, "45.5 s (target 30 s)");
	assert_has(s, "| 61 | 2024-03-01T09:00:00.000000Z | alice | mtls | "
		      "breaker.reset | primary\\_store | disk replaced | "
		      "not stated | CHG-7 |");
	assert_has(s, "| crashed\\_run | 65 | 2024-03-01T11:00:00.000000Z |");
	/* tests and results: the auditors' wording, numbered deviations */
	assert_has(s, "Deviations identified: 2 of 2 months below target (see "
		      "DEV-1); 1 of 3 maintenance windows without an approved "
		      "change reference (see DEV-2)");
	assert_has(s, "| primary\\_store |");
	assert_has(s, "| census | 1 period (2 months), 0 maintenance windows, "
		      "1 activations, 0 findings | No deviations identified |");
	assert_has(s, "1 of 1 spool activations not reconciled (see DEV-4)");
	assert_has(s, "1 of 1 failovers over the 30 s target or not measured "
		      "(see DEV-5)");
	assert_has(s, "1 of 1 findings in the evidence (each is a deviation) "
		      "(see DEV-6)");
	assert_has(s, "2 of 2 malformed report inputs not used (see DEV-7)");
	for (int k = 1; k <= 9; k++) {
		char h[32];

		snprintf(h, sizeof(h), "#### DEV-%d\n", k);
		assert_has(s, h);
	}
	assert_int_equal(count(s, "#### DEV-"), 9);
	assert_int_equal(count(s, "- **Management response:** (to be "
				  "completed by management)"), 9);
	assert_has(s, "- index 17: \\[2024-02-29T04:00:00.000000Z, "
		      "2024-02-29T04:10:00.000000Z), change reference none\n");
	/* sampling worksheet */
	assert_has(s, "| Seed | `auditor seed 42` |");
	assert_has(s, "| Seed source | given by the auditor |");
	assert_has(s, "| 1 | 10 | 2024-02-29T01:00:00.000000Z | health.probe | "
		      "`b038f24df84cd51850d4f6def709c57aee586252ec5c5a44d758f4"
		      "01795b21c5` | none (no end checkpoint yet) | "
		      "**NOT verified** |");
	assert_has(s, "SPEC.md 21.1");
	/* integrity appendix */
	assert_has(s, "```\nexample.com/log\n9\n"
		      "q83vEjRWeBvLTq9hcX1L6MsB0SMvfzhI3OmzCdJl1Nc=\n\n"
		      "\xe2\x80\x94 example.com/log AAAAAAAA\n```\n");
	assert_has(s, "auditlog verify-bundle DIR --vkey FILE\n");
	/* definitions */
	assert_has(s, "Partial weight w = 0 permille");
	assert_has(s, "rounded down");
	alog_buf_release(&md);
	free(json);
}

/* The HTML page: the same sections with ids, self-contained. */
static const char *const html_ids[] = {
	"<section id=\"cover\">", "<section id=\"completeness\" class=\"major\">",
	"<section id=\"availability\" class=\"major\">",
	"<section id=\"component-1\">", "<section id=\"component-2\">",
	"<section id=\"component-3\">",
	"<section id=\"monitoring\" class=\"major\">",
	"<section id=\"monitoring-probes\">", "<section id=\"probes-1\">",
	"<section id=\"probes-2\">", "<section id=\"probes-3\">",
	"<section id=\"monitoring-gaps\">",
	"<section id=\"monitoring-checkpoints\">",
	"<section id=\"monitoring-verification\">",
	"<section id=\"monitoring-rules\">",
	"<section id=\"monitoring-anomalies\">",
	"<section id=\"monitoring-operators\">",
	"<section id=\"monitoring-logins\">",
	"<section id=\"tests\" class=\"major\">", "<section id=\"deviations\">",
	"<section id=\"sampling\" class=\"major\">",
	"<section id=\"integrity\" class=\"major\">",
	"<section id=\"definitions\" class=\"major\">",
};

static void test_render_html_has_every_section_with_ids_and_key_text(void **state)
{
	struct alog_buf html;
	char *json = fixture();
	const char *s, *prev;

	(void)state;
	render(1, json, &html);
	s = (const char *)html.data;
	assert_true(strncmp(s, "<!DOCTYPE html>\n", 16) == 0);
	assert_has(s, "</html>\n");
	prev = s;
	for (size_t i = 0; i < sizeof(html_ids) / sizeof(html_ids[0]); i++) {
		const char *at = strstr(s, html_ids[i]);

		if (!at || at < prev)
			fail_msg("\"%s\" missing or out of order", html_ids[i]);
		prev = at;
	}
	for (int k = 1; k <= 9; k++) {
		char h[64];

		snprintf(h, sizeof(h), "<h4 id=\"dev-%d\">DEV-%d</h4>", k, k);
		assert_has(s, h);
	}
	assert_has(s, "<h2>1. Cover</h2>");
	assert_has(s, "<h2>4. Monitoring (CC7.2)</h2>");
	assert_has(s, "<h2>8. Definitions</h2>");
	assert_has(s, "<td>97.543 %</td>");
	assert_has(s, "<strong class=\"bad\">NOT complete</strong>");
	assert_has(s, "Deviations identified: 2 of 2 months below target (see "
		      "<a href=\"#dev-1\">DEV-1</a>); 1 of 3 maintenance "
		      "windows without an approved change reference (see "
		      "<a href=\"#dev-2\">DEV-2</a>)");
	assert_has(s, "<td>carol &amp; dave</td>");
	assert_has(s, "<code>received &gt;= &quot;2024-02-29T00:00:00.000000Z"
		      "&quot; and received &lt; &quot;2024-03-02T00:00:00.000000Z"
		      "&quot;</code>");
	assert_has(s, "@media print");
	assert_has(s, "size:A4");
	assert_has(s, "break-before:page");
	/* the daily volume chart: one bar per day with events */
	assert_int_equal(count(s, "<svg class=\"volume\""), 1);
	assert_int_equal(count(s, "<rect class=\"bar\""), 2);
	assert_has(s, "<title>2024-02-29: 2</title>");
	alog_buf_release(&html);
	free(json);
}

/* Every timeline segment is one rect, in its class's colour (SPEC.md 20.11). */
static void test_render_html_timeline_has_one_rect_per_segment(void **state)
{
	static const size_t segs[] = { 5, 1, 4 };
	struct alog_buf html;
	char *json = fixture();
	const char *s, *p;

	(void)state;
	render(1, json, &html);
	s = (const char *)html.data;
	assert_int_equal(count(s, "<svg class=\"timeline\""), 3);
	p = s;
	for (size_t i = 0; i < 3; i++) {
		const char *a = strstr(p, "<svg class=\"timeline\"");
		const char *b = strstr(a, "</svg>");
		size_t n = (size_t)(b - a);
		char *one = malloc(n + 1);

		memcpy(one, a, n);
		one[n] = 0;
		assert_int_equal(count(one, "<rect class=\"seg "), segs[i]);
		/* the five classes of the legend */
		assert_int_equal(count(one, "<rect class=\"key "), 5);
		free(one);
		p = b;
	}
	/* api: excluded (hatched), up, down, up, unknown; the first rect
	 * starts at the left margin and spans 1800 s of 172800 s of 880 px */
	assert_has(s, "<rect class=\"seg excluded\" x=\"10.00\" y=\"4\" "
		      "width=\"9.16\" height=\"28\" fill=\"url(#hatch-1)\">"
		      "<title>excluded [2024-02-29T00:00:00.000000Z, "
		      "2024-02-29T00:30:00.000000Z)</title></rect>");
	assert_has(s, "<rect class=\"seg down\"");
	assert_has(s, "<rect class=\"seg unknown\"");
	assert_has(s, "<rect class=\"seg partial\"");
	/* the month tick of 2024-03-01, half-way: x = 10 + 440 */
	assert_has(s, "<line class=\"tick\" x1=\"450.00\" x2=\"450.00\"");
	alog_buf_release(&html);
	free(json);
}

/* A hostile change reference is escaped in both; never raw. */
static void test_render_escapes_hostile_text_in_both_formats(void **state)
{
	struct alog_buf md, html;
	char *json = fixture();
	const char *m, *h;

	(void)state;
	render(0, json, &md);
	render(1, json, &html);
	m = (const char *)md.data;
	h = (const char *)html.data;
	assert_null(strstr(m, "<script"));
	assert_null(strstr(h, "<script"));
	assert_null(strstr(h, "alert(1)</"));
	assert_has(h, "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>");
	assert_has(m, "| &lt;script&gt;alert(1)&lt;/script&gt; | carol &amp; dave |");
	/* a pipe inside a cell does not split the Markdown table */
	assert_has(m, "| CHG-1001 \\| x |");
	alog_buf_release(&md);
	alog_buf_release(&html);
	free(json);
}

/* Control and bidi characters never reach a reader as such. */
static void test_render_replaces_control_and_bidi_characters(void **state)
{
	struct alog_buf md, html;
	char *json = fixture();
	char *bad = replace(json, "\"approver\":\"carol\"",
			    "\"approver\":\"ca\\u202erol\\u0007\\nx\"");

	(void)state;
	render(0, bad, &md);
	render(1, bad, &html);
	assert_has((const char *)md.data,
		   "| ca\xef\xbf\xbdrol\xef\xbf\xbd x |");
	assert_has((const char *)html.data,
		   "<td>ca\xef\xbf\xbdrol\xef\xbf\xbd x</td>");
	assert_null(strstr((const char *)html.data, "\xe2\x80\xae"));
	alog_buf_release(&md);
	alog_buf_release(&html);
	free(bad);
	free(json);
}

/* No resource from outside the page: no src, no external link, no
 * script, no web font; only in-page anchors. */
static void test_render_html_loads_nothing_from_outside(void **state)
{
	struct alog_buf html;
	char *json = fixture();
	const char *s, *p;

	(void)state;
	render(1, json, &html);
	s = (const char *)html.data;
	assert_null(strstr(s, "http://"));
	assert_null(strstr(s, "https://"));
	assert_null(strstr(s, "//"));
	assert_null(strstr(s, "src="));
	assert_null(strstr(s, "<script"));
	assert_null(strstr(s, "<link"));
	assert_null(strstr(s, "<img"));
	assert_null(strstr(s, "@import"));
	assert_null(strstr(s, "@font-face"));
	assert_true(count(s, "href=") > 0);
	for (p = strstr(s, "href="); p; p = strstr(p + 1, "href=")) {
		char id[64];
		size_t n;

		assert_true(strncmp(p, "href=\"#", 7) == 0);
		/* the anchor's target is on the page */
		n = strcspn(p + 7, "\"");
		assert_true(n > 0 && n < 40);
		snprintf(id, sizeof(id), "id=\"%.*s\"", (int)n, p + 7);
		assert_has(s, id);
	}
	for (p = strstr(s, "url("); p; p = strstr(p + 1, "url("))
		assert_true(strncmp(p, "url(#", 5) == 0);
	assert_has(s, "Content-Security-Policy");
	alog_buf_release(&html);
	free(json);
}

/* Same JSON, same bytes; a trailing newline changes nothing. */
static void test_render_is_deterministic(void **state)
{
	struct alog_buf a, b, c;
	struct alog_err err = { 0 };
	char *json = fixture();
	size_t n = strlen(json);
	char *nl = malloc(n + 2);

	(void)state;
	memcpy(nl, json, n);
	nl[n] = '\n';
	nl[n + 1] = 0;
	for (int html = 0; html < 2; html++) {
		render(html, json, &a);
		render(html, json, &b);
		alog_buf_init(&c, 0);
		assert_int_equal(html ? alog_render_html(nl, n + 1, &c, &err)
				      : alog_render_markdown(nl, n + 1, &c, &err),
				 0);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.data, b.data, a.len);
		assert_int_equal(a.len, c.len);
		assert_memory_equal(a.data, c.data, a.len);
		alog_buf_release(&a);
		alog_buf_release(&b);
		alog_buf_release(&c);
	}
	free(nl);
	free(json);
}

/* The rendering is appended: what out held stays in front. */
static void test_render_appends_to_out(void **state)
{
	struct alog_buf out;
	struct alog_err err = { 0 };
	char *json = fixture();

	(void)state;
	alog_buf_init(&out, 0);
	assert_int_equal(alog_buf_adds(&out, "keep\n", &err), 0);
	assert_int_equal(alog_render_markdown(json, strlen(json), &out, &err), 0);
	assert_true(strncmp((const char *)out.data,
			    "keep\n\n# Availability", 20) == 0);
	assert_int_equal(out.max, 0);
	alog_buf_release(&out);
	free(json);
}

static void expect_refused(const char *json, size_t len, int code,
			   const char *msg_part)
{
	for (int html = 0; html < 2; html++) {
		struct alog_buf out;
		struct alog_err err = { 0 };

		alog_buf_init(&out, 0);
		assert_int_equal(alog_buf_adds(&out, "keep", &err), 0);
		assert_int_equal(html ? alog_render_html(json, len, &out, &err)
				      : alog_render_markdown(json, len, &out, &err),
				 code);
		assert_int_equal(err.code, code);
		if (!strstr(err.msg, msg_part))
			fail_msg("message \"%s\" lacks \"%s\"", err.msg,
				 msg_part);
		/* out is left as it was */
		assert_int_equal(out.len, 4);
		assert_string_equal((const char *)out.data, "keep");
		alog_buf_release(&out);
	}
}

static void test_render_refuses_another_schema(void **state)
{
	char *json = fixture();
	char *v2 = replace(json, "auditlog-report/1", "auditlog-report/2");
	char *none = replace(json, "\"schema\"", "\"schemo\"");

	(void)state;
	expect_refused(v2, strlen(v2), ALOG_EINVAL, "schema");
	expect_refused(none, strlen(none), ALOG_EINVAL, "schema");
	expect_refused("[1]", 3, ALOG_EINVAL, "report json");
	expect_refused("{\"schema\":\"auditlog-report/1\"", 29, ALOG_EINVAL,
		       "report json");
	free(v2);
	free(none);
	free(json);
}

/* A member the rendering needs is named by its path when missing or
 * of the wrong type. */
static void test_render_refuses_missing_or_mistyped_members(void **state)
{
	static const struct {
		const char *from, *to, *path;
	} cases[] = {
		{ "\"tier\":\"critical\"", "\"tyer\":\"critical\"",
		  "\"a1_2.components[0].tier\"" },
		{ "\"count\":3", "\"count\":\"3\"", "\"population.count\"" },
		{ "\"count\":3", "\"count\":3.5", "\"population.count\"" },
		{ "\"duration_us\":600000000", "\"duration_us\":null",
		  "\"a1_2.components[0].episodes[0].duration_us\"" },
		{ "\"approved\":false", "\"approved\":0",
		  "\"a1_2.components[0].maintenance[1].approved\"" },
		{ "\"excluded\"]", "\"sideways\"]",
		  "\"a1_2.components[0].timeline[0]\"" },
		{ "[\"2024-02-29\",2]", "[\"2024-02-29\"]",
		  "\"population.daily[0]\"" },
		{ "[\"2024-02-29\",2]", "{\"d\":\"2024-02-29\",\"n\":2}",
		  "\"population.daily[0]\"" },
		{ "\"timeline\":[[1709164800000000,1709166600000000,\"excluded\"]",
		  "\"timeline\":[{\"a\":1709164800000000,\"b\":1709166600000000,"
		  "\"c\":\"excluded\"}", "\"a1_2.components[0].timeline[0]\"" },
		{ "\"end_checkpoint\":null", "\"end_checkpoint\":7",
		  "\"integrity.end_checkpoint\"" },
		{ "\"from_us\":1709164800000000", "\"from_us\":1809164800000000",
		  "from_us is not before to_us" },
		{ "\"record\":\"{", "\"record\":\"x{",
		  "\"samples.items[0].record\"" },
		/* cc7_2 (SPEC.md 21.4 input rules) */
		{ "\"cc7_2\":", "\"cc7_x\":", "\"cc7_2\"" },
		{ "\"received\":2835", "\"received\":\"2835\"",
		  "\"cc7_2.probes[0].received\"" },
		{ "\"expected\":2880", "\"expected\":-1",
		  "\"cc7_2.probes[0].expected\"" },
		{ "[\"2024-03-01\",1440,1395]", "[\"2024-03-01\",1440]",
		  "\"cc7_2.probes[0].days[1]\"" },
		{ "[\"2024-03-01\",1440,1395]", "[\"2024-3-1\",1440,1395]",
		  "\"cc7_2.probes[0].days[1]\"" },
		{ "\"component\":\"api\",\"start\"",
		  "\"component\":\"web\",\"start\"",
		  "\"cc7_2.gaps[0].component\" names no component" },
		{ "\"start\":\"2024-03-01T00:10:00.000000Z\"",
		  "\"start\":\"yesterday\"", "\"cc7_2.gaps[0].start\"" },
		{ "\"before_index\":300", "\"before_index\":\"300\"",
		  "\"cc7_2.gaps[0].before_index\"" },
		{ "\"indices\":[300,301]", "\"indices\":[300,-1]",
		  "\"cc7_2.anomalies[2].indices[1]\"" },
		{ "\"subject\":\"integrity\"", "\"subject\":null",
		  "\"cc7_2.anomalies[1].subject\"" },
		{ "\"days_without_a_run\":[\"2024-03-01\"]",
		  "\"days_without_a_run\":[\"2024-3-1\"]",
		  "\"cc7_2.verification.days_without_a_run[0]\"" },
		{ "\"fail\":1", "\"fail\":true",
		  "\"cc7_2.verification.fail\"" },
		{ "\"longest_gap_end\":\"2024-03-01T10:05:30.000000Z\"",
		  "\"longest_gap_end\":1709287530000000",
		  "\"cc7_2.checkpoints.longest_gap_end\"" },
		{ "\"in_business_hours\":false", "\"in_business_hours\":\"no\"",
		  "\"cc7_2.operator_activity[0].in_business_hours\"" },
		{ "\"failures\":3", "\"failures\":3.5",
		  "\"cc7_2.failures_by_actor[1].failures\"" },
		{ "\"logins\":9", "\"logins\":null", "\"cc7_2.logins\"" },
	};
	char *json = fixture();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *bad = replace(json, cases[i].from, cases[i].to);

		expect_refused(bad, strlen(bad), ALOG_EINVAL, cases[i].path);
		free(bad);
	}
	free(json);
}

/* Duplicate keys, integers past 2^53 - 1 and depth past the limit are
 * refused before anything is read (I-JSON). */
static void test_render_refuses_json_that_is_not_i_json(void **state)
{
	char *json = fixture();
	char *dup = replace(json, "\"origin\":", "\"origin\":\"a\",\"origin\":");
	char *big = replace(json, "\"count\":3", "\"count\":9007199254740992");
	char deep[64];

	(void)state;
	expect_refused(dup, strlen(dup), ALOG_EINVAL, "report json");
	expect_refused(big, strlen(big), ALOG_EINVAL, "report json");
	/* 17 nested arrays in the object: past ALOG_RENDER_DEPTH_MAX */
	snprintf(deep, sizeof(deep), "{\"schema\":%s%s}",
		 "[[[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]]");
	expect_refused(deep, strlen(deep), ALOG_ELIMIT, "report json");
	free(dup);
	free(big);
	free(json);
}

/* The input limit is checked before reading; out's own maximum holds. */
static void test_render_limits_input_and_output(void **state)
{
	struct alog_buf out;
	struct alog_err err = { 0 };
	char *json = fixture();
	char *huge = calloc(1, (size_t)ALOG_RENDER_JSON_MAX + 1);

	(void)state;
	assert_non_null(huge);
	expect_refused(huge, (size_t)ALOG_RENDER_JSON_MAX + 1, ALOG_ELIMIT,
		       "over");
	alog_buf_init(&out, 2000);
	assert_int_equal(alog_render_html(json, strlen(json), &out, &err),
			 ALOG_ELIMIT);
	assert_int_equal(out.len, 0);
	assert_int_equal(out.max, 2000);
	alog_buf_release(&out);
	free(huge);
	free(json);
}

/* An empty population is a recorded zero; no sample, no bar. */
static void test_render_shows_an_empty_population_as_a_recorded_zero(void **state)
{
	struct alog_buf md, html;
	char *json = fixture();
	char *a = replace(json, "\"count\":3", "\"count\":0");
	char *b = replace(a, "[\"2024-02-29\",2],[\"2024-03-01\",1]",
			  "[\"2024-02-29\",0],[\"2024-03-01\",0]");
	char *c0 = replace(b, "\"first_received\":\"2024-02-29T01:00:00.000000Z\"",
			   "\"first_received\":null");
	char *c = replace(c0, "\"last_received\":\"2024-03-01T02:00:00.000000Z\"",
			  "\"last_received\":null");
	char *items = strstr(c, "\"items\":[");
	char *end = strstr(items, "]},\"a1_2\"");

	(void)state;
	/* "items":[] */
	memmove(items + 9, end, strlen(end) + 1);
	render(0, c, &md);
	render(1, c, &html);
	assert_has((const char *)md.data, "| 0 (recorded zero: no event in the "
		   "period) |");
	assert_has((const char *)md.data, "| none | none |");
	assert_has((const char *)md.data, "No sample was drawn.");
	assert_int_equal(count((const char *)html.data, "<rect class=\"bar\""), 0);
	alog_buf_release(&md);
	alog_buf_release(&html);
	free(a);
	free(b);
	free(c0);
	free(c);
	free(json);
}

/* json with its cc7_2 object replaced by cc (the last member). */
static char *with_cc72(const char *json, const char *cc)
{
	const char *at = strstr(json, "\"cc7_2\":");
	size_t head, n;
	char *o;

	assert_non_null(at);
	head = (size_t)(at - json) + 8;
	n = head + strlen(cc) + 1;
	o = malloc(n + 1);
	assert_non_null(o);
	memcpy(o, json, head);
	memcpy(o + head, cc, strlen(cc));
	o[n - 1] = '}';
	o[n] = 0;
	return o;
}

/* The part of s from the first from up to the next to (malloc'd). */
static char *between(const char *s, const char *from, const char *to)
{
	const char *a = strstr(s, from), *b;
	char *o;

	assert_non_null(a);
	b = strstr(a, to);
	assert_non_null(b);
	o = malloc((size_t)(b - a) + 1);
	assert_non_null(o);
	memcpy(o, a, (size_t)(b - a));
	o[b - a] = 0;
	return o;
}

/* CC7.2 (SPEC.md 21.4 section 4): probes per component with the share
 * rounded down (2835 of 2880 = 98.4375 % -> 98.4 %), the short day, the
 * daemon's component, gaps with the indices around them (the members,
 * else the R-PROBE-GAP anomaly of the same window), checkpoint cadence,
 * verification, rules, anomalies (8 indices shown of 64), operator
 * activity, logins. */
static void test_render_markdown_shows_the_cc7_2_monitoring_evidence(void **state)
{
	struct alog_buf md;
	char *json = fixture();
	const char *s;

	(void)state;
	render(0, json, &md);
	s = (const char *)md.data;
	assert_has(s, "2 of 3 components monitored; deviations of the "
		      "monitoring control counted in report.json (gaps and "
		      "days without a verification run): 3.");
	assert_has(s, "| Component | Probe interval | Tolerance | Expected | "
		      "Received | Received / expected | Monitored | Days with "
		      "fewer probes than expected | Gaps over the tolerance |");
	assert_has(s, "| api | 60 s | 3 m 00 s | 2880 | 2835 | 98.4 % | yes | "
		      "1 of 2 | 2 (DEV-8) |");
	assert_has(s, "| primary\\_store | 10 s | 30 s | 17280 | 17280 | "
		      "100.0 % | yes | 0 of 2 | 0 |");
	assert_has(s, "| auditlog | 60 s | 3 m 00 s | 0 | 0 | n/a (none "
		      "expected) | no | 0 of 2 | 0 |");
	assert_has(s, "1 of 2 days with fewer probes than expected (45 probes "
		      "short on those days).");
	assert_has(s, "| 2024-03-01 | 1440 | 1395 | 45 |");
	assert_has(s, "Every one of the 2 days received at least the expected "
		      "probes.");
	assert_has(s, "#### 4.1.3 auditlog\n\nNo probe is expected: the "
		      "daemon's own component");
	/* gaps: indices from the members, then from the anomaly */
	assert_has(s, "| 1 | api | 2024-03-01T00:10:00.000000Z | "
		      "2024-03-01T00:16:00.000000Z | 6 m 00 s | 6 m 00 s | "
		      "300 \xe2\x86\x92 301 | **DEVIATION** (see DEV-8) |");
	assert_has(s, "| 2 | api | 2024-03-01T10:00:00.000000Z | "
		      "2024-03-01T10:41:00.000000Z | 41 m 00 s | 41 m 00 s | "
		      "340, 341 | **DEVIATION** (see DEV-8) |");
	/* checkpoint cadence */
	assert_has(s, "| Expected interval | 1 m 00 s |");
	assert_has(s, "| Expected in the period | 2880 |");
	assert_has(s, "| Signed in the period | 2870 |");
	assert_has(s, "| Longest stretch without a checkpoint | 5 m 00 s: "
		      "\\[2024-03-01T10:00:30.000000Z, "
		      "2024-03-01T10:05:30.000000Z\\] |");
	/* verification */
	assert_has(s, "| Runs in the period | 1 |");
	assert_has(s, "| Passed | 0 |");
	assert_has(s, "| Failed | **1** (see DEV-9) |");
	assert_has(s, "| Days without a run | **1 of 2 days**: 2024-03-01 "
		      "(see DEV-9) |");
	/* rules and anomalies */
	assert_has(s, "| `R-PROBE-GAP` | more than 3 x probe\\_interval\\_s "
		      "between consecutive health probes of a component | "
		      "medium | environmental | 2 |");
	assert_has(s, "6 anomalies detected.");
	assert_has(s, "| 1 | `R-BREAKER-FLAP` | primary\\_store | "
		      "2024-02-29T12:00:00.000000Z | 2024-02-29T12:40:00.000000Z "
		      "| 2024-02-29T12:20:00.000000Z | 70 | 400, 401, 402, 403, "
		      "404, 405, 406, 407 and 56 more |");
	assert_has(s, "| 2 | `R-VERIFY-FAILED` | integrity | "
		      "2024-02-29T23:30:00.000000Z | 2024-02-29T23:30:00.000000Z "
		      "| 2024-02-29T23:30:00.000000Z | 1 | 330 |");
	/* operator activity and logins */
	assert_has(s, "2 actions, 1 outside business hours.");
	assert_has(s, "| 61 | 2024-03-01T09:00:00.000000Z | alice | "
		      "breaker.reset | primary\\_store | success | yes |");
	assert_has(s, "| breaker.force\\_open | api | denied | **no** |");
	assert_has(s, "9 logins, 8 failed.");
	/* the tests section: monitoring deviations, anomalies counted */
	assert_has(s, "| CC7.2 monitoring (all components) | every component "
		      "probed with no gap over its tolerance; a verification "
		      "run every day, each passing | census | 3 components, 2 "
		      "days, 1 verification runs | Deviations identified: api: "
		      "1 of 2 days with a monitoring gap over the 3 m 00 s "
		      "tolerance (2 gaps) (see DEV-8); 1 of 2 days without a "
		      "verification run; 1 of 1 verification runs failed (see "
		      "DEV-9) |");
	assert_has(s, "| CC7.2 detection (anomalies) | the detection rules of "
		      "SPEC.md 11.2 run over every event of the period | "
		      "census | 8 rules | 6 anomalies detected and listed for "
		      "follow-up (4.6); not deviations: the detection control "
		      "operating |");
	/* definitions */
	assert_has(s, "an anomaly is the detection control operating, never a "
		      "deviation.");
	alog_buf_release(&md);
	free(json);
}

/* The same in HTML, with one probes chart per probed component: a bar
 * per day for the expected and one for the received count, red when
 * short. api's 2024-03-01: 1395 of 1440 of 90 px = 87.18 px high, the
 * second of two slots of 830 px from x 60 (475.00), 80 % wide. */
static void test_render_html_shows_the_cc7_2_evidence_and_probe_charts(void **state)
{
	struct alog_buf html;
	char *json = fixture();
	char *api;
	const char *s;

	(void)state;
	render(1, json, &html);
	s = (const char *)html.data;
	assert_has(s, "<h3>4.1 Health probes</h3>");
	assert_has(s, "<td><a href=\"#probes-1\">api</a></td><td>60 s</td>"
		      "<td>3 m 00 s</td><td>2880</td><td>2835</td>"
		      "<td>98.4 %</td><td>yes</td><td>1 of 2</td><td>2 (<a "
		      "href=\"#dev-8\">DEV-8</a>)</td>");
	assert_has(s, "<td>300 \xe2\x86\x92 301</td><td><strong class=\"bad\">"
		      "DEVIATION</strong> (see <a href=\"#dev-8\">DEV-8</a>)"
		      "</td>");
	assert_has(s, "<strong>1 of 2 days</strong>: 2024-03-01 (see <a "
		      "href=\"#dev-9\">DEV-9</a>)");
	/* charts for api and primary_store; none for auditlog */
	assert_int_equal(count(s, "<svg class=\"probes\""), 2);
	api = between(s, "<section id=\"probes-1\">", "</svg>");
	assert_int_equal(count(api, "<rect class=\"exp\""), 2);
	assert_int_equal(count(api, "<rect class=\"rcv\" x="), 1);
	assert_int_equal(count(api, "<rect class=\"rcv short\" x="), 1);
	assert_has(api, "<rect class=\"rcv short\" x=\"475.00\" y=\"12.82\" "
			"width=\"332.00\" height=\"87.18\"><title>2024-03-01: "
			"1395 received of 1440 expected</title></rect>");
	assert_has(api, "<rect class=\"exp\" x=\"60.00\" y=\"10.00\" "
			"width=\"332.00\" height=\"90.00\"><title>2024-02-29: "
			"1440 expected</title></rect>");
	free(api);
	api = between(s, "<section id=\"probes-3\">", "</section>");
	assert_null(strstr(api, "<svg"));
	free(api);
	assert_has(s, "6 anomalies detected and listed for follow-up (<a "
		      "href=\"#monitoring-anomalies\">4.6</a>)");
	alog_buf_release(&html);
	free(json);
}

/* SPEC.md 21.4 kinds 7 and 8: a component with gaps is one deviation,
 * "x of N days" that a gap lies in (clipped to the period); the days
 * without a run and the failed runs one report-wide deviation. */
static void test_render_counts_monitoring_gaps_and_missing_runs_as_deviations_x_of_n(void **state)
{
	struct alog_buf md;
	char *json = fixture();
	char *a, *b, *c, *d;
	const char *s;

	(void)state;
	render(0, json, &md);
	s = (const char *)md.data;
	assert_has(s, "#### DEV-8\n\n- **Control and criterion:** CC7.2 "
		      "monitoring: every component is probed at its interval, "
		      "with no gap over the tolerance\n- **Component:** api\n"
		      "- **Description:** 1 of 2 days with a monitoring gap "
		      "over the 3 m 00 s tolerance (2 gaps)\n");
	assert_has(s, "- \\[2024-03-01T00:10:00.000000Z, "
		      "2024-03-01T00:16:00.000000Z\\]: 6 m 00 s, 6 m 00 s in "
		      "the period; log indices 300 \xe2\x86\x92 301\n");
	assert_has(s, "- \\[2024-03-01T10:00:00.000000Z, "
		      "2024-03-01T10:41:00.000000Z\\]: 41 m 00 s, 41 m 00 s in "
		      "the period; log indices 340, 341\n");
	assert_has(s, "#### DEV-9\n\n- **Control and criterion:** CC7.2 "
		      "monitoring: the log's integrity is verified every day "
		      "and every run passes\n- **Component:** all (report-wide)"
		      "\n- **Description:** 1 of 2 days without a verification "
		      "run; 1 of 1 verification runs failed\n");
	assert_has(s, "- days without a run: 2024-03-01\n- failed runs: 1 of "
		      "1\n- a failed run detected at 2024-02-29T23:30:00.000000Z "
		      "(anomaly \\#2): log index 330\n");
	/* the anomalies are not deviations */
	assert_int_equal(count(s, "#### DEV-"), 9);
	alog_buf_release(&md);

	/* a gap across midnight lies in both days; the other stays */
	a = replace(json, "\"start\":\"2024-03-01T00:10:00.000000Z\"",
		    "\"start\":\"2024-02-29T23:58:00.000000Z\"");
	render(0, a, &md);
	assert_has((const char *)md.data, "api: 2 of 2 days with a monitoring "
		   "gap over the 3 m 00 s tolerance (2 gaps) (see DEV-8)");
	alog_buf_release(&md);
	/* one gap from before the period to its first minutes: clipped,
	 * it lies in the first day only */
	b = replace(json, "\"start\":\"2024-03-01T00:10:00.000000Z\","
		    "\"end\":\"2024-03-01T00:16:00.000000Z\"",
		    "\"start\":\"2024-02-28T20:00:00.000000Z\","
		    "\"end\":\"2024-02-29T00:05:00.000000Z\"");
	c = replace(b, "{\"component\":\"api\",\"start\":\"2024-03-01T10:00",
		    "{\"component\":\"primary_store\",\"start\":\"2024-03-01T10:00");
	render(0, c, &md);
	assert_has((const char *)md.data, "Deviations identified: api: 1 of 2 "
		   "days with a monitoring gap over the 3 m 00 s tolerance "
		   "(1 gap) (see DEV-8); primary\\_store: 1 of 2 days with a "
		   "monitoring gap over the 30 s tolerance (1 gap) (see DEV-9); "
		   "1 of 2 days without a verification run; 1 of 1 "
		   "verification runs failed (see DEV-10) |");
	alog_buf_release(&md);
	/* only a day without a run; only a failed run */
	d = replace(json, "\"fail\":1,", "\"fail\":0,");
	render(0, d, &md);
	assert_has((const char *)md.data, "- **Description:** 1 of 2 days "
		   "without a verification run\n");
	assert_has((const char *)md.data, "| Failed | 0 |");
	alog_buf_release(&md);
	free(d);
	d = replace(json, "\"days_without_a_run\":[\"2024-03-01\"]",
		    "\"days_without_a_run\":[]");
	render(0, d, &md);
	assert_has((const char *)md.data, "- **Description:** 1 of 1 "
		   "verification runs failed\n");
	assert_has((const char *)md.data, "| Days without a run | none: each "
		   "of the 2 days has a run |");
	alog_buf_release(&md);
	free(a);
	free(b);
	free(c);
	free(d);
	free(json);
}

/* Days without a run are listed as runs of consecutive days. */
static void test_render_lists_days_without_a_run_compactly(void **state)
{
	struct alog_buf md;
	char *json = fixture();
	char *a = replace(json, "\"days_without_a_run\":[\"2024-03-01\"]",
			  "\"days_without_a_run\":[\"2024-02-27\",\"2024-02-28\","
			  "\"2024-02-29\",\"2024-03-01\",\"2024-03-03\","
			  "\"2024-03-05\",\"2024-03-06\"]");

	(void)state;
	render(0, a, &md);
	assert_has((const char *)md.data, ": 2024-02-27 to 2024-03-01 (4 days), "
		   "2024-03-03, 2024-03-05 to 2024-03-06 (2 days) (see DEV-9)");
	alog_buf_release(&md);
	free(a);
	free(json);
}

/* No gap, no anomaly, no activity, no failure: each part says so in a
 * sentence, and the monitoring row has no deviation. */
static void test_render_says_so_when_cc7_2_has_no_gap_anomaly_or_activity(void **state)
{
	static const char empty[] =
		"{\"criterion\":\"CC7.2\",\"components_monitored\":1,"
		"\"components\":1,\"probes\":[{\"component\":\"api\","
		"\"probe_interval_s\":60,\"tolerance_us\":180000000,"
		"\"expected\":2880,\"received\":2880,\"days\":[[\"2024-02-29\","
		"1440,1440],[\"2024-03-01\",1440,1440]]}],\"gaps\":[],"
		"\"checkpoints\":{\"expected_interval_us\":60000000,"
		"\"expected\":2880,\"signed\":2880,\"longest_gap_start\":"
		"\"2024-02-29T00:00:00.000000Z\",\"longest_gap_end\":"
		"\"2024-02-29T00:01:00.000000Z\"},\"verification\":{\"runs\":2,"
		"\"pass\":2,\"fail\":0,\"days_without_a_run\":[]},\"rules\":[],"
		"\"anomalies\":[],\"operator_activity\":[],\"logins\":0,"
		"\"login_failures\":0,\"failures_by_actor\":[],\"deviations\":0}";
	static const char none[] =
		"{\"criterion\":\"CC7.2\",\"components_monitored\":0,"
		"\"components\":0,\"probes\":[],\"gaps\":[],"
		"\"checkpoints\":{\"expected_interval_us\":60000000,"
		"\"expected\":2880,\"signed\":0,\"longest_gap_start\":"
		"\"2024-02-29T00:00:00.000000Z\",\"longest_gap_end\":"
		"\"2024-03-02T00:00:00.000000Z\"},\"verification\":{\"runs\":2,"
		"\"pass\":2,\"fail\":0,\"days_without_a_run\":[]},\"rules\":[],"
		"\"anomalies\":[],\"operator_activity\":[],\"logins\":0,"
		"\"login_failures\":0,\"failures_by_actor\":[],\"deviations\":0}";
	struct alog_buf md, html;
	char *json = fixture();
	char *e = with_cc72(json, empty), *n = with_cc72(json, none);
	const char *s;

	(void)state;
	render(0, e, &md);
	render(1, e, &html);
	s = (const char *)md.data;
	assert_has(s, "Every one of the 2 days received at least the expected "
		      "probes.");
	assert_has(s, "No monitoring gap over the tolerance in the period.");
	assert_has(s, "| Failed | 0 |");
	assert_has(s, "| Days without a run | none: each of the 2 days has a "
		      "run |");
	assert_has(s, "report.json lists no detection rule.");
	assert_has(s, "No anomaly was detected in the period.");
	assert_has(s, "No operator activity (admin.action) in the period.");
	assert_has(s, "0 logins, 0 failed.");
	assert_has(s, "No failed login in the period.");
	assert_has(s, "| census | 1 components, 2 days, 2 verification runs | "
		      "No deviations identified |");
	assert_has(s, "| census | 0 rules | No anomaly detected |");
	assert_int_equal(count(s, "#### DEV-"), 7);
	s = (const char *)html.data;
	assert_has(s, "<p>No monitoring gap over the tolerance in the "
		      "period.</p>");
	assert_has(s, "<p>No anomaly was detected in the period.</p>");
	assert_int_equal(count(s, "<svg class=\"probes\""), 1);
	assert_int_equal(count(s, "<rect class=\"rcv short\""), 0);
	alog_buf_release(&md);
	alog_buf_release(&html);
	render(0, n, &md);
	assert_has((const char *)md.data, "### 4.1 Health probes\n\n"
		   "Expected per component");
	assert_has((const char *)md.data, "The inventory has no component.");
	alog_buf_release(&md);
	free(e);
	free(n);
	free(json);
}

/* Subjects, operators and actors are the log's texts: escaped in both
 * formats, never markup. */
static void test_render_escapes_hostile_cc7_2_subject_operator_and_actor(void **state)
{
	struct alog_buf md, html;
	char *json = fixture();
	const char *m, *h;

	(void)state;
	render(0, json, &md);
	render(1, json, &html);
	m = (const char *)md.data;
	h = (const char *)html.data;
	assert_null(strstr(m, "<script"));
	assert_null(strstr(h, "<script"));
	assert_null(strstr(m, "<b>"));
	assert_null(strstr(h, "<b>"));
	assert_null(strstr(m, "<img"));
	assert_null(strstr(h, "<img"));
	/* subject (anomaly) and actor */
	assert_has(h, "<td>&lt;script&gt;alert(2)&lt;/script&gt;|eve</td>");
	assert_has(m, "| &lt;script&gt;alert(2)&lt;/script&gt;\\|eve | 5 |");
	assert_has(m, "| `R-LOGIN-ACTOR` | &lt;script&gt;alert(2)&lt;/script"
		      "&gt;\\|eve |");
	/* operator */
	assert_has(h, "<td>&lt;b&gt;root&lt;/b&gt; &amp; co</td>");
	assert_has(m, "| 58 | 2024-03-01T07:00:00.000000Z | &lt;b&gt;root&lt;"
		      "/b&gt; &amp; co | breaker.force\\_open |");
	/* Markdown punctuation is literal */
	assert_has(h, "<td>&lt;img onerror=alert(4)&gt;`*_bob_*`</td>");
	assert_has(m, "| &lt;img onerror=alert(4)&gt;\\`\\*\\_bob\\_\\*\\` | 3 |");
	alog_buf_release(&md);
	alog_buf_release(&html);
	free(json);
}

/* At most ALOG_RENDER_ANOMALY_ROWS anomalies and
 * ALOG_RENDER_SHORT_DAYS_ROWS short days a component are rows; the rest
 * are counted. */
static void test_render_bounds_the_anomaly_and_short_day_tables(void **state)
{
	static const char one[] =
		"{\"rule\":\"R-CLOCK-SKEW\",\"subject\":\"legacy\","
		"\"window_start\":\"2024-03-01T12:00:00.000000Z\","
		"\"window_end\":\"2024-03-01T12:00:00.000000Z\","
		"\"detected\":\"2024-03-01T12:00:00.000000Z\",\"events\":1,"
		"\"indices\":[500]},";
	struct alog_buf md, html;
	struct alog_buf many, days;
	struct alog_err err = { 0 };
	char *json = fixture();
	char *a, *b, *t;

	(void)state;
	alog_buf_init(&many, 0);
	assert_int_equal(alog_buf_adds(&many, "\"anomalies\":[", &err), 0);
	for (int i = 0; i < 200; i++)
		assert_int_equal(alog_buf_adds(&many, one, &err), 0);
	a = replace(json, "\"anomalies\":[", (const char *)many.data);
	/* 40 days of api, each one probe short */
	alog_buf_init(&days, 0);
	assert_int_equal(alog_buf_adds(&days, "\"days\":[", &err), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(alog_buf_addf(&days, &err,
					       "%s[\"2024-%s-%02d\",1440,1439]",
					       i ? "," : "", i < 31 ? "03" : "04",
					       i < 31 ? i + 1 : i - 30), 0);
	assert_int_equal(alog_buf_adds(&days, "]},{\"component\":\"primary_store\"",
				       &err), 0);
	b = replace(a, "\"days\":[[\"2024-02-29\",1440,1440],[\"2024-03-01\","
		    "1440,1395]]},{\"component\":\"primary_store\"",
		    (const char *)days.data);
	render(0, b, &md);
	render(1, b, &html);
	t = between((const char *)md.data, "### 4.6 Anomalies",
		    "### 4.7 Operator");
	assert_has(t, "206 anomalies detected.");
	assert_has(t, "\n| 200 | `R-CLOCK-SKEW` |");
	assert_null(strstr(t, "\n| 201 |"));
	assert_has(t, "and 6 more anomalies (every one is in report.json, "
		      "cc7\\_2.anomalies).");
	free(t);
	t = between((const char *)md.data, "#### 4.1.1 api", "#### 4.1.2");
	assert_has(t, "40 of 40 days with fewer probes than expected (40 "
		      "probes short on those days).");
	assert_int_equal(count(t, "| 1440 | 1439 | 1 |"), 31);
	assert_has(t, "| 2024-03-31 | 1440 | 1439 | 1 |");
	assert_null(strstr(t, "| 2024-04-01 |"));
	assert_has(t, "and 9 more days (every day is in report.json, "
		      "cc7\\_2.probes\\[0\\].days).");
	free(t);
	/* the chart has every day */
	t = between((const char *)html.data, "<section id=\"probes-1\">",
		    "</svg>");
	assert_int_equal(count(t, "<rect class=\"rcv short\" x="), 40);
	free(t);
	alog_buf_release(&md);
	alog_buf_release(&html);
	alog_buf_release(&many);
	alog_buf_release(&days);
	free(a);
	free(b);
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_markdown_has_every_section_and_key_text),
		cmocka_unit_test(test_render_html_has_every_section_with_ids_and_key_text),
		cmocka_unit_test(test_render_html_timeline_has_one_rect_per_segment),
		cmocka_unit_test(test_render_escapes_hostile_text_in_both_formats),
		cmocka_unit_test(test_render_replaces_control_and_bidi_characters),
		cmocka_unit_test(test_render_html_loads_nothing_from_outside),
		cmocka_unit_test(test_render_is_deterministic),
		cmocka_unit_test(test_render_appends_to_out),
		cmocka_unit_test(test_render_refuses_another_schema),
		cmocka_unit_test(test_render_refuses_missing_or_mistyped_members),
		cmocka_unit_test(test_render_refuses_json_that_is_not_i_json),
		cmocka_unit_test(test_render_limits_input_and_output),
		cmocka_unit_test(test_render_shows_an_empty_population_as_a_recorded_zero),
		cmocka_unit_test(test_render_markdown_shows_the_cc7_2_monitoring_evidence),
		cmocka_unit_test(test_render_html_shows_the_cc7_2_evidence_and_probe_charts),
		cmocka_unit_test(test_render_counts_monitoring_gaps_and_missing_runs_as_deviations_x_of_n),
		cmocka_unit_test(test_render_lists_days_without_a_run_compactly),
		cmocka_unit_test(test_render_says_so_when_cc7_2_has_no_gap_anomaly_or_activity),
		cmocka_unit_test(test_render_escapes_hostile_cc7_2_subject_operator_and_actor),
		cmocka_unit_test(test_render_bounds_the_anomaly_and_short_day_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
