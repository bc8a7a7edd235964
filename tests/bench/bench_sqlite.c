/*
 * bench_sqlite: the SQLite peer of the benchmark harness (tests/bench/
 * compare.sh). Stores every line of an NDJSON file as one row of
 * a fresh database: one table `events(id INTEGER PRIMARY KEY, j TEXT NOT
 * NULL)` holding the JSON text as is, WAL journal, synchronous=FULL (a
 * commit is durable when it returns), 1000 rows per transaction through
 * one prepared statement. No validation, no hashing: the baseline a plain
 * embedded database gives.
 *
 * Prints one line: `rows=R seconds=S rows_per_s=X` where S runs from
 * opening the database (the file is read as part of the run, as `auditlog
 * ingest` reads it) to the return of sqlite3_close, which checkpoints the
 * WAL into the database file. A benchmark: it asserts nothing about speed.
 *
 * usage: bench_sqlite NDJSON_FILE DB_FILE   (DB_FILE must not exist)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#define ROWS_PER_TXN 1000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "bench_sqlite: %s: %s\n", sql,
			msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	FILE *in = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	uint64_t rows = 0;
	unsigned in_txn = 0;
	struct stat st;
	double t0, t1;
	int rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: bench_sqlite NDJSON_FILE DB_FILE\n");
		return 2;
	}
	if (stat(argv[2], &st) == 0) {
		fprintf(stderr, "bench_sqlite: '%s' exists\n", argv[2]);
		return 2;
	}
	t0 = now_s();
	in = fopen(argv[1], "r");
	if (!in) {
		fprintf(stderr, "bench_sqlite: '%s': %s\n", argv[1], strerror(errno));
		goto out;
	}
	if (sqlite3_open(argv[2], &db) != SQLITE_OK) {
		fprintf(stderr, "bench_sqlite: '%s': %s\n", argv[2],
			db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	if (exec_sql(db, "PRAGMA journal_mode=WAL") < 0 ||
	    exec_sql(db, "PRAGMA synchronous=FULL") < 0 ||
	    exec_sql(db, "CREATE TABLE events(id INTEGER PRIMARY KEY, "
			 "j TEXT NOT NULL)") < 0)
		goto out;
	if (sqlite3_prepare_v2(db, "INSERT INTO events(j) VALUES (?1)", -1,
			       &ins, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_sqlite: prepare: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	while ((len = getline(&line, &cap, in)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len == 0)
			continue;
		if (in_txn == 0 && exec_sql(db, "BEGIN") < 0)
			goto out;
		if (sqlite3_bind_text(ins, 1, line, (int)len, SQLITE_STATIC) !=
			    SQLITE_OK ||
		    sqlite3_step(ins) != SQLITE_DONE) {
			fprintf(stderr, "bench_sqlite: insert of line %llu: %s\n",
				(unsigned long long)rows + 1, sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_reset(ins);
		rows++;
		if (++in_txn == ROWS_PER_TXN) {
			if (exec_sql(db, "COMMIT") < 0)
				goto out;
			in_txn = 0;
		}
	}
	if (ferror(in)) {
		fprintf(stderr, "bench_sqlite: '%s': read error\n", argv[1]);
		goto out;
	}
	if (in_txn > 0 && exec_sql(db, "COMMIT") < 0)
		goto out;
	sqlite3_finalize(ins);
	ins = NULL;
	if (sqlite3_close(db) != SQLITE_OK) {
		fprintf(stderr, "bench_sqlite: close: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	db = NULL;
	t1 = now_s();
	printf("rows=%llu seconds=%.3f rows_per_s=%.0f\n",
	       (unsigned long long)rows, t1 - t0,
	       t1 > t0 ? (double)rows / (t1 - t0) : 0.0);
	rc = 0;
out:
	sqlite3_finalize(ins);
	if (db)
		sqlite3_close(db);
	if (in)
		fclose(in);
	free(line);
	return rc;
}
