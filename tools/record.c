/*
 * record: how auditlog's own commands (report, verify --record) record
 * their run in the log (SPEC.md 15.1, 21): directly under the store's
 * writer lock, or, while a daemon holds that lock, through the daemon's
 * Unix socket, where a peer running as the store's owner may write these
 * reserved types.
 */
#include <stdlib.h>
#include <string.h>

#include "ingest/client.h"
#include "ingest/clock.h"
#include "ingest/log.h"
#include "store/buf.h"
#include "tools/cli.h"

/* How long the daemon may take to make the record durable. */
#define RECORD_ANSWER_TIMEOUT_MS 30000

char *cli_socket_path(const char *store)
{
	size_t n = strlen(store);
	char *p;

	while (n > 1 && store[n - 1] == '/')
		n--;
	p = malloc(n + sizeof("/auditlog.sock"));
	if (!p)
		return NULL;
	memcpy(p, store, n);
	memcpy(p + n, "/auditlog.sock", sizeof("/auditlog.sock"));
	return p;
}

int cli_recorder_open(const char *store, const char *socket,
		      struct cli_recorder *r, struct alog_err *err)
{
	struct alog_client_options o = { 0 };
	struct alog_err lerr = { 0 };
	char *def = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = alog_log_open(store, alog_clock_now_us(), &r->log, NULL, &lerr);
	if (rc == 0) {
		r->via = "the store's writer lock";
		return 0;
	}
	if (rc != ALOG_EBUSY) {
		*err = lerr;
		return rc;
	}
	/* a daemon holds the store: ask it */
	if (!socket)
		socket = def = cli_socket_path(store);
	if (!socket)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	o.socket_path = socket;
	rc = alog_client_open(&o, &r->client, err);
	if (rc < 0)
		alog_err_prefix(err, "%s, and its daemon could not be reached",
				lerr.msg);
	else
		r->via = "the daemon";
	free(def);
	return rc;
}

int cli_recorder_append(struct cli_recorder *r, const char *type,
			const char *members, struct alog_err *err)
{
	struct alog_buf line;
	struct alog_answer ans;
	int rc;

	if (r->log)
		return alog_log_append_internal(r->log, type, members,
						alog_clock_now_us(),
						&r->index, err);
	alog_buf_init(&line, 0);
	rc = alog_log_internal_line(&line, type, members, err);
	if (rc == 0)
		rc = alog_client_send_event(r->client, (const char *)line.data,
					    line.len, NULL, err);
	if (rc == 0)
		rc = alog_client_recv(r->client, RECORD_ANSWER_TIMEOUT_MS, &ans,
				      NULL, err);
	if (rc == ALOG_ENOTFOUND)
		rc = alog_err_set(err, ALOG_EIO,
				  "the daemon did not answer within %d s",
				  RECORD_ANSWER_TIMEOUT_MS / 1000);
	if (rc == 0 && !alog_answer_acked(&ans))
		rc = alog_err_set(err, ans.retry ? ALOG_EIO : ALOG_EINVAL,
				  "the daemon refused the %s event: %s (%s)",
				  type, ans.code, ans.error);
	if (rc == 0) {
		r->spooled = ans.kind == ALOG_ANSWER_SPOOLED;
		r->index = r->spooled ? 0 : ans.seq;
	}
	alog_buf_release(&line);
	return rc;
}

void cli_recorder_close(struct cli_recorder *r)
{
	alog_log_close(r->log);
	alog_client_close(r->client);
	memset(r, 0, sizeof(*r));
}
