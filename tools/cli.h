/*
 * cli: what the auditlog subcommands share: exit codes (SPEC.md "Exit
 * status"), messages to stderr as "auditlog: <message>", the store and
 * key paths, and progress on a terminal.
 */
#ifndef ALOG_TOOLS_CLI_H
#define ALOG_TOOLS_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "store/err.h"

struct alog_log;
struct alog_client;

enum {
	EXIT_OK = 0,
	EXIT_VERIFY = 1,   /* integrity or verification failure */
	EXIT_USAGE = 2,
	EXIT_OPER = 3,     /* operational error */
	EXIT_PARTIAL = 4,  /* done in part: some input rejected */
};

void cli_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print err and return the exit code its class maps to. */
int cli_fail(const struct alog_err *err);
/* --store, else $AUDITLOG_STORE, else ./auditlog-data. */
const char *cli_store_dir(const char *opt);
/* Default key path: DIR.key beside the store (malloc'd). */
char *cli_default_key(const char *dir);
/* 1 when reading fd now could block: a batch should commit (or answers
 * be drained) before the read, so nothing waits on more input. */
int cli_would_block(int fd);
/* The time of option opt: RFC 3339 or a date (midnight UTC); -1 after a
 * message when it is not one. */
int cli_parse_time(const char *opt, const char *s, int64_t *us);
/* Print one record and a newline on stdout (a store/population reader's
 * callback); ALOG_EIO when stdout fails. */
int cli_print_record(void *ctx, uint64_t index, const unsigned char *rec,
		     size_t len);
/* Parse a non-negative decimal (no sign, no leading junk); -1 if bad. */
int cli_parse_u64(const char *s, uint64_t *out);

/* The daemon's default Unix socket: STORE/auditlog.sock (malloc'd; NULL
 * when out of memory). */
char *cli_socket_path(const char *store);

/* Records a command's run in the log (tools/record.c): under the store's
 * writer lock when it can be taken, else through the daemon that holds
 * it (its Unix socket: socket, or STORE/auditlog.sock when NULL). */
struct cli_recorder {
	struct alog_log *log;       /* the writer lock */
	struct alog_client *client; /* or the daemon */
	const char *via;            /* "the store's writer lock" or "the daemon" */
	uint64_t index;             /* the last record's index (not spooled) */
	int spooled;                /* the daemon spooled it (SPEC.md 17.8) */
};
/* Take the lock, else connect to the daemon. Fails (err says why) when
 * neither works. */
int cli_recorder_open(const char *store, const char *socket,
		      struct cli_recorder *r, struct alog_err *err);
/* Append one event of auditlog's own: type with members (JSON members
 * without braces). Durable (stored or spooled) when it returns 0. */
int cli_recorder_append(struct cli_recorder *r, const char *type,
			const char *members, struct alog_err *err);
void cli_recorder_close(struct cli_recorder *r);

/* Progress of a long run on a terminal (stderr): "auditlog: WHAT n of N
 * UNIT (p%)" (n and N divided by scale), redrawn when the percentage
 * changes; nothing when stderr is not a terminal. */
struct cli_progress {
	int tty;
	int last_pct;
	const char *what, *unit;
	uint64_t scale;
};
void cli_progress_init(struct cli_progress *p, const char *what,
		       const char *unit, uint64_t scale);
void cli_progress_show(void *ctx, uint64_t done, uint64_t total);
/* End the line when the run stopped before 100 %. */
void cli_progress_end(struct cli_progress *p);

int cmd_demo(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_verify_bundle(int argc, char **argv);

#endif
