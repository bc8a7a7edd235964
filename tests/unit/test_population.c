/*
 * test_population: populations (report/population.h, SPEC.md section 19):
 * the index range of a period, its edges (from included, to excluded),
 * the type and component filters, and the population hash (vector
 * V-POP-1: the hashes below were computed with Python's hashlib over the
 * exact record bytes of RECS, each followed by a newline).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report/population.h"
#include "store/bytes.h"
#include "store/sign.h"
#include "store/store.h"
#include "testutil.h"

#define T0 INT64_C(1700000000000000) /* 2023-11-14T22:13:20Z */

/* Stored as they are (the store takes any record bytes). */
static const char *const RECS[] = {
	"{\"index\":0,\"received\":\"2023-11-14T22:13:19.000000Z\",\"id\":\"a\",\"provenance\":{},\"event\":{\"type\":\"auth.login\"}}",
	"{\"index\":1,\"received\":\"2023-11-14T22:13:20.000000Z\",\"id\":\"b\",\"provenance\":{},\"event\":{\"type\":\"auth\",\"component\":\"api\"}}",
	"{\"index\":2,\"received\":\"2023-11-14T22:13:21.000000Z\",\"id\":\"c\",\"provenance\":{},\"event\":{\"type\":\"authx.y\",\"component\":\"api\"}}",
	"{\"index\":3,\"received\":\"2023-11-14T22:13:21.500000Z\",\"id\":\"d\",\"provenance\":{},\"event\":{\"type\":\"auth.login\",\"component\":\"api\"}}",
	"{\"index\":4,\"received\":\"2023-11-14T22:13:22.000000Z\",\"id\":\"e\",\"provenance\":{},\"event\":{\"type\":\"auth.login\"}}",
};
static const int64_t RECEIVED[] = {
	T0 - 1000000, T0, T0 + 1000000, T0 + 1500000, T0 + 2000000,
};

/* V-POP-1 */
#define H_AUTH_PREFIX "c3f922412892e1a6686fe7a4e52f506bd6e6a3d08f4ca458d0850ed296e00681"
#define H_ALL "c70f4b8373a68d153a33d43de9bb18327dba5ef2da636dc6488b869501f53690"
#define H_AUTH_LOGIN "60e08a40edca564b24ad1cd95a50f8b0edefca81e0e73769ebf55450521b5f27"
#define H_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct fx {
	char *tmp;
	char dir[4096];
	struct alog_store *s;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct alog_signer *signer = NULL;
	struct alog_verifier vkey;
	struct alog_store_rec recs[5] = { 0 };
	struct alog_err err = { 0 };

	if (!f)
		return -1;
	f->tmp = testutil_tmpdir();
	snprintf(f->dir, sizeof(f->dir), "%s/store", f->tmp);
	if (alog_signer_generate("example.com/audit-key", &signer, NULL) < 0)
		return -1;
	alog_signer_verifier(signer, &vkey);
	alog_signer_free(signer);
	for (size_t i = 0; i < 5; i++) {
		recs[i].data = (const unsigned char *)RECS[i];
		recs[i].len = strlen(RECS[i]);
		recs[i].received_us = RECEIVED[i];
		recs[i].id_key = NULL;
	}
	if (alog_store_create(f->dir, "example.com/audit", &vkey, NULL, &err) < 0 ||
	    alog_store_open(f->dir, ALOG_STORE_WRITE, &f->s, NULL, &err) < 0 ||
	    alog_store_append(f->s, recs, 5, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	alog_store_close(f->s);
	testutil_rmtree(f->tmp);
	free(f->tmp);
	free(f);
	return 0;
}

struct seen {
	uint64_t idx[8];
	size_t n;
};

static int collect(void *ctx, uint64_t index, const unsigned char *rec,
		   size_t len)
{
	struct seen *s = ctx;

	assert_true(s->n < 8);
	assert_int_equal(len, strlen(RECS[index]));
	assert_memory_equal(rec, RECS[index], len);
	s->idx[s->n++] = index;
	return 0;
}

static void run(struct fx *f, const char *type, const char *component,
		int64_t from, int64_t to, const char *want_hash,
		uint64_t want_from, uint64_t want_to, size_t n_want,
		const uint64_t *want)
{
	struct alog_population_query q = { from, to, type, component };
	struct alog_population p;
	struct seen seen = { { 0 }, 0 };
	struct alog_err err = { 0 };
	char hex[65];

	assert_int_equal(alog_population_run(f->s, &q, collect, &seen, &p,
					     &err), 0);
	alog_hex_encode(p.sha256, 32, hex);
	assert_string_equal(hex, want_hash);
	assert_int_equal(p.index_from, want_from);
	assert_int_equal(p.index_to, want_to);
	assert_int_equal(p.count, n_want);
	assert_int_equal(seen.n, n_want);
	for (size_t i = 0; i < n_want; i++)
		assert_int_equal(seen.idx[i], want[i]);
}

static void test_population_period_includes_from_and_excludes_to(void **state)
{
	static const uint64_t all[] = { 1, 2, 3 };

	run(*state, NULL, NULL, T0, T0 + 2000000, H_ALL, 1, 4, 3, all);
}

static void test_population_type_prefix_matches_the_type_and_its_children_only(
	void **state)
{
	static const uint64_t want[] = { 1, 3 };

	/* "auth" and "auth.login", not "authx.y" */
	run(*state, "auth.*", NULL, T0, T0 + 2000000, H_AUTH_PREFIX, 1, 4, 2,
	    want);
	run(*state, "auth.*", "api", T0, T0 + 2000000, H_AUTH_PREFIX, 1, 4, 2,
	    want);
}

static void test_population_exact_type_and_component_filters(void **state)
{
	static const uint64_t login[] = { 3 };
	static const uint64_t api[] = { 1, 2, 3 };

	run(*state, "auth.login", NULL, T0, T0 + 2000000, H_AUTH_LOGIN, 1, 4, 1,
	    login);
	run(*state, NULL, "api", T0, T0 + 2000000, H_ALL, 1, 4, 3, api);
	run(*state, NULL, "web", T0, T0 + 2000000, H_EMPTY, 1, 4, 0, NULL);
}

static void test_population_an_empty_period_is_a_recorded_zero(void **state)
{
	/* after the log, and before it */
	run(*state, NULL, NULL, T0 + 5000000, T0 + 6000000, H_EMPTY, 5, 5, 0,
	    NULL);
	run(*state, NULL, NULL, T0 - 9000000, T0 - 8000000, H_EMPTY, 0, 0, 0,
	    NULL);
}

static void test_population_refuses_bad_queries(void **state)
{
	struct fx *f = *state;
	struct alog_population p;
	struct alog_err err = { 0 };
	struct alog_population_query q = { T0, T0, NULL, NULL };

	assert_int_equal(alog_population_run(f->s, &q, NULL, NULL, &p, &err),
			 ALOG_EINVAL);
	q.to_us = T0 + 1;
	q.type = "";
	assert_int_equal(alog_population_run(f->s, &q, NULL, NULL, &p, &err),
			 ALOG_EINVAL);
	q.type = NULL;
	q.component = "a\"b";
	assert_int_equal(alog_population_run(f->s, &q, NULL, NULL, &p, &err),
			 ALOG_EINVAL);
}

static void test_population_query_text_names_every_filter(void **state)
{
	struct alog_population_query q = { T0, T0 + 2000000, "auth.*", "api" };
	struct alog_buf b;
	struct alog_err err = { 0 };

	(void)state;
	alog_buf_init(&b, 4096);
	assert_int_equal(alog_population_text(&q, &b, &err), 0);
	assert_int_equal(alog_buf_addc(&b, 0, &err), 0);
	assert_string_equal((const char *)b.data,
			    "received >= \"2023-11-14T22:13:20.000000Z\" and "
			    "received < \"2023-11-14T22:13:22.000000Z\" and type "
			    "matches \"auth.*\" and component = \"api\"");
	alog_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_population_period_includes_from_and_excludes_to, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_population_type_prefix_matches_the_type_and_its_children_only, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_population_exact_type_and_component_filters, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_population_an_empty_period_is_a_recorded_zero, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_population_refuses_bad_queries, fx_setup, fx_teardown),
		cmocka_unit_test(test_population_query_text_names_every_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
