/*
 * client: see client.h. SPEC.md 10.2 (ids before the first send), 15.2
 * (answers), 16 (backup files).
 *
 * Connection invariants: out.data[out_off..out.len) are queued bytes not
 * yet written; in.data[in_off..in.len) are received bytes not yet returned
 * as answers; inflight = lines queued minus answers returned. The socket
 * is non-blocking; waiting is done in poll(), never in read or write.
 *
 * Sender invariants: the queue holds, in submit order, every line whose
 * result is not yet reported, and results are reported from its head
 * only. Lines waiting for an answer (E_WAIT) were sent in queue order, so
 * the next answer belongs to the first of them (wait_pos). A line leaves
 * E_WAIT only by its answer or by the end of the connection, and reaches
 * E_DONE only after what its result claims is true (for "backed up":
 * after the backup file's fsync).
 */
#include "ingest/client.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ingest/clock.h"
#include "ingest/event.h"
#include "ingest/json.h"
#include "ingest/server.h"
#include "ingest/tls.h"

_Static_assert(ALOG_CLIENT_LINE_MAX == ALOG_EVENT_LINE_MAX, "line limit");
_Static_assert(ALOG_CLIENT_ID_MAX == ALOG_EVENT_ID_MAX, "id limit");
_Static_assert(ALOG_CLIENT_INFLIGHT_MAX <= ALOG_SERVER_INFLIGHT_MAX,
	       "a client never has more in flight than the server reads");

#define UUID_TEXT_LEN 36
/* unparsed answer bytes kept before the connection stops being read:
 * room for the answers of every line that may be in flight, so reading
 * never waits on the caller while lines await answers */
#define IN_MAX ((ALOG_CLIENT_INFLIGHT_MAX + 1u) * ALOG_CLIENT_ANSWER_MAX)
/* chunk of one read */
#define READ_CHUNK 16384

/* ---- small helpers ------------------------------------------------ */

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* SPEC.md "Envelope": id alphabet 0x21..0x7E without '"' and '\'. */
static int id_valid(const char *s, size_t n)
{
	if (n < 1 || n > ALOG_CLIENT_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7E || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

static int code_valid(const char *s, size_t n)
{
	if (n < 1 || n > ALOG_CLIENT_CODE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* Replace every byte that is not part of valid UTF-8 with '?', so text
 * from the system (paths, strerror) can go into a JSON string. */
static void utf8_sanitize(char *s)
{
	size_t n = strlen(s), off = 0;

	while (off < n) {
		off += alog_json_utf8_check(s + off, n - off);
		if (off < n)
			s[off++] = '?';
	}
}

/* ---- 1. ids --------------------------------------------------------- */

static const char *reject_name(enum alog_json_fault f)
{
	switch (f) {
	case ALOG_JSON_BAD_UTF8: return "bad_utf8";
	case ALOG_JSON_NUL: return "nul";
	case ALOG_JSON_DUPLICATE: return "duplicate_key";
	case ALOG_JSON_RANGE: return "number_range";
	case ALOG_JSON_DEPTH: return "too_deep";
	case ALOG_JSON_MEMBERS: return "too_many_members";
	case ALOG_JSON_NOT_OBJECT: return "not_object";
	default: return "not_json";
	}
}

struct id_scan {
	int has_id;
	size_t members;
	char id[ALOG_CLIENT_ID_MAX + 1];
};

static int find_id(void *ctx, const struct alog_json_member *m,
		   struct alog_err *err)
{
	struct id_scan *is = ctx;

	(void)err;
	is->members++;
	/* decoded key, as the daemon matches envelope members */
	if (m->key_len == 2 && memcmp(m->key, "id", 2) == 0) {
		is->has_id = 1;
		if (m->type == ALOG_JSON_STRING && !m->escaped &&
		    id_valid(m->value + 1, m->value_len - 2)) {
			memcpy(is->id, m->value + 1, m->value_len - 2);
			is->id[m->value_len - 2] = 0;
		}
	}
	return 0;
}

int alog_client_assign_id(const char *line, size_t len, int64_t now_us,
			  struct alog_buf *out, struct alog_client_event *ev,
			  struct alog_err *err)
{
	struct alog_json_opts o = { 0 };
	struct alog_json_result res;
	struct id_scan is;
	char uuid[UUID_TEXT_LEN + 1];
	size_t i, brace, start = out->len, add;
	int rc;

	memset(ev, 0, sizeof(*ev));
	memset(&is, 0, sizeof(is));
	/* the order of SPEC.md "Bad input": too_long, empty, then the scan */
	if (len > ALOG_CLIENT_LINE_MAX) {
		ev->code = "too_long";
		return alog_err_set(err, ALOG_EINVAL, "line of %zu bytes is "
				    "longer than %d bytes", len,
				    ALOG_CLIENT_LINE_MAX);
	}
	for (i = 0; i < len && is_ws(line[i]); i++)
		;
	if (i == len) {
		ev->code = "empty";
		return alog_err_set(err, ALOG_EINVAL, "empty line");
	}
	o.depth_max = ALOG_EVENT_DEPTH_MAX;
	o.members_max = ALOG_EVENT_MEMBERS_MAX;
	o.object_only = 1;
	o.on_member = find_id;
	o.ctx = &is;
	rc = alog_json_scan(line, len, &o, NULL, &res, err);
	if (rc == ALOG_ENOMEM)
		return rc;
	if (rc < 0) {
		ev->code = reject_name(res.fault);
		return ALOG_EINVAL;
	}
	if (is.has_id) {
		memcpy(ev->id, is.id, sizeof(is.id));
		return alog_buf_add(out, line, len, err);
	}
	brace = i; /* the object's '{': the first byte after whitespace */
	add = ALOG_CLIENT_ID_MEMBER_LEN - (is.members ? 0 : 1);
	if (len + add > ALOG_CLIENT_LINE_MAX) {
		ev->code = "too_long";
		return alog_err_set(err, ALOG_ELIMIT, "no room for an id: with "
				    "it the line would be %zu bytes, over %d",
				    len + add, ALOG_CLIENT_LINE_MAX);
	}
	if (is.members >= ALOG_EVENT_MEMBERS_MAX) {
		ev->code = "too_many_members";
		return alog_err_set(err, ALOG_ELIMIT, "no room for an id: the "
				    "object has %d members already",
				    ALOG_EVENT_MEMBERS_MAX);
	}
	rc = alog_uuid7(now_us, uuid, err);
	if (rc < 0)
		return rc;
	rc = alog_buf_add(out, line, brace + 1, err);
	if (rc == 0)
		rc = alog_buf_addf(out, err, "\"id\":\"%s\"%s", uuid,
				   is.members ? "," : "");
	if (rc == 0)
		rc = alog_buf_add(out, line + brace + 1, len - brace - 1, err);
	if (rc < 0) {
		out->len = start;
		if (out->data)
			out->data[start] = 0;
		return rc;
	}
	ev->id_added = 1;
	memcpy(ev->id, uuid, sizeof(uuid));
	return 0;
}

/* ---- 1. answers ------------------------------------------------------ */

#define ANSWER_MEMBERS 4

struct ans_scan {
	size_t n;
	struct {
		const char *key;   /* raw */
		size_t key_len;
		enum alog_json_type type;
		const char *value;
		size_t value_len;
		int escaped, integer;
	} m[ANSWER_MEMBERS];
};

static int collect_answer(void *ctx, const struct alog_json_member *m,
			  struct alog_err *err)
{
	struct ans_scan *as = ctx;

	(void)err;
	if (as->n < ANSWER_MEMBERS) {
		as->m[as->n].key = m->raw_key;
		as->m[as->n].key_len = m->raw_key_len;
		as->m[as->n].type = m->type;
		as->m[as->n].value = m->value;
		as->m[as->n].value_len = m->value_len;
		as->m[as->n].escaped = m->escaped;
		as->m[as->n].integer = m->integer;
	}
	as->n++;
	return 0;
}

static int akey(const struct ans_scan *as, size_t i, const char *key,
		enum alog_json_type t)
{
	size_t n = strlen(key);

	return as->m[i].key_len == n && memcmp(as->m[i].key, key, n) == 0 &&
	       as->m[i].type == t;
}

int alog_answer_acked(const struct alog_answer *a)
{
	return a->kind == ALOG_ANSWER_STORED ||
	       a->kind == ALOG_ANSWER_DUPLICATE ||
	       a->kind == ALOG_ANSWER_SPOOLED;
}

static int parse_seq(const struct ans_scan *as, size_t i, uint64_t *seq)
{
	uint64_t v = 0;

	if (!as->m[i].integer || as->m[i].value[0] == '-')
		return -1;
	/* the scanner bounds integers by 2^53-1: no overflow */
	for (size_t k = 0; k < as->m[i].value_len; k++)
		v = v * 10 + (uint64_t)(as->m[i].value[k] - '0');
	*seq = v;
	return 0;
}

static int bad_answer(struct alog_err *err, const char *why)
{
	return alog_err_set(err, ALOG_ECORRUPT, "malformed answer from the "
			    "daemon: %s", why);
}

int alog_answer_parse(const char *line, size_t len, struct alog_answer *out,
		      struct alog_err *err)
{
	struct alog_json_opts o = { 0 };
	struct alog_json_result res;
	struct alog_err jerr = { 0 };
	struct ans_scan as;
	size_t n;

	memset(out, 0, sizeof(*out));
	memset(&as, 0, sizeof(as));
	if (len > ALOG_CLIENT_ANSWER_MAX)
		return bad_answer(err, "longer than ALOG_CLIENT_ANSWER_MAX bytes");
	o.depth_max = 1;   /* answers hold only scalars */
	o.object_only = 1;
	o.on_member = collect_answer;
	o.ctx = &as;
	if (alog_json_scan(line, len, &o, NULL, &res, &jerr) < 0) {
		alog_err_set(err, ALOG_ECORRUPT, "malformed answer from the "
			     "daemon: not a flat json object: %.300s",
			     jerr.msg);
		return ALOG_ECORRUPT;
	}
	if (as.n < 2 || as.n > 4)
		return bad_answer(err, "wrong number of members");
	if (akey(&as, 0, "ok", ALOG_JSON_TRUE)) {
		if (as.n == 2 && akey(&as, 1, "seq", ALOG_JSON_NUMBER) &&
		    parse_seq(&as, 1, &out->seq) == 0) {
			out->kind = ALOG_ANSWER_STORED;
			return 0;
		}
		if (as.n == 3 && akey(&as, 1, "duplicate", ALOG_JSON_TRUE) &&
		    akey(&as, 2, "seq", ALOG_JSON_NUMBER) &&
		    parse_seq(&as, 2, &out->seq) == 0) {
			out->kind = ALOG_ANSWER_DUPLICATE;
			return 0;
		}
		if (as.n == 3 && akey(&as, 1, "spooled", ALOG_JSON_TRUE) &&
		    akey(&as, 2, "id", ALOG_JSON_STRING) && !as.m[2].escaped &&
		    id_valid(as.m[2].value + 1, as.m[2].value_len - 2)) {
			n = as.m[2].value_len - 2;
			memcpy(out->id, as.m[2].value + 1, n);
			out->id[n] = 0;
			out->kind = ALOG_ANSWER_SPOOLED;
			return 0;
		}
		return bad_answer(err, "\"ok\":true must be followed by \"seq\", "
				  "\"duplicate\":true,\"seq\" or "
				  "\"spooled\":true,\"id\"");
	}
	if (!akey(&as, 0, "ok", ALOG_JSON_FALSE))
		return bad_answer(err, "the first member must be \"ok\" "
				  "(true or false)");
	if (as.n != 4 || !akey(&as, 1, "code", ALOG_JSON_STRING) ||
	    as.m[1].escaped ||
	    !code_valid(as.m[1].value + 1, as.m[1].value_len - 2) ||
	    !(akey(&as, 2, "retry", ALOG_JSON_TRUE) ||
	      akey(&as, 2, "retry", ALOG_JSON_FALSE)) ||
	    !akey(&as, 3, "error", ALOG_JSON_STRING))
		return bad_answer(err, "\"ok\":false must be followed by "
				  "\"code\",\"retry\",\"error\"");
	n = as.m[1].value_len - 2;
	memcpy(out->code, as.m[1].value + 1, n);
	out->code[n] = 0;
	out->retry = as.m[2].type == ALOG_JSON_TRUE;
	alog_json_string_decode(as.m[3].value + 1, as.m[3].value_len - 2, out->error,
		      sizeof(out->error));
	out->kind = ALOG_ANSWER_REJECTED;
	return 0;
}

int alog_answer_format(const struct alog_answer *a, struct alog_buf *out,
		       struct alog_err *err)
{
	size_t start = out->len;
	int rc;

	switch (a->kind) {
	case ALOG_ANSWER_STORED:
	case ALOG_ANSWER_DUPLICATE:
		if (a->seq > ALOG_JSON_INT_MAX)
			return alog_err_set(err, ALOG_EINVAL, "answer: seq "
					    "beyond 2^53-1");
		rc = alog_buf_addf(out, err, "{\"ok\":true,%s\"seq\":%" PRIu64
				   "}", a->kind == ALOG_ANSWER_DUPLICATE ?
				   "\"duplicate\":true," : "", a->seq);
		break;
	case ALOG_ANSWER_SPOOLED:
		if (!id_valid(a->id, strlen(a->id)))
			return alog_err_set(err, ALOG_EINVAL, "answer: bad id");
		rc = alog_buf_addf(out, err, "{\"ok\":true,\"spooled\":true,"
				   "\"id\":\"%s\"}", a->id);
		break;
	case ALOG_ANSWER_REJECTED:
		if (!code_valid(a->code, strlen(a->code)))
			return alog_err_set(err, ALOG_EINVAL, "answer: bad code");
		rc = alog_buf_addf(out, err, "{\"ok\":false,\"code\":\"%s\","
				   "\"retry\":%s,\"error\":", a->code,
				   a->retry ? "true" : "false");
		if (rc == 0)
			rc = alog_json_string_format(out, a->error,
						     strlen(a->error), err);
		if (rc == 0)
			rc = alog_buf_addc(out, '}', err);
		break;
	default:
		return alog_err_set(err, ALOG_EINVAL, "answer: unknown kind");
	}
	if (rc < 0) {
		out->len = start;
		if (out->data)
			out->data[start] = 0;
	}
	return rc;
}

/* ---- 2. a connection ------------------------------------------------ */

struct alog_client {
	int fd;
	char *name;                  /* the address, for messages */
	char *host;                  /* HOST of HOST:PORT, for TLS */
	struct alog_tls_ctx *tls_ctx;
	struct alog_tls_conn *tls;
	int tls_want;                /* ALOG_TLS_WANT_* the last call met */
	struct alog_buf out;
	size_t out_off;
	struct alog_buf in;
	size_t in_off;
	size_t scanned;              /* in.data[in_off..scanned) has no '\n' */
	size_t inflight;
	int eof;                     /* the daemon closed its side, or
				      * reading failed (rerr says why) */
	int wdead;                   /* writing failed: the daemon is gone */
	struct alog_err werr;        /* why writing failed */
	struct alog_err rerr;        /* why reading failed (code 0: eof) */
	size_t batch;                /* alog_client_batch; 0: write at once */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Remaining ms until deadline (never negative). */
static int left_ms(int64_t deadline)
{
	int64_t d = deadline - mono_ms();

	return d < 0 ? 0 : d > 1000000 ? 1000000 : (int)d;
}

/* Wait for events on fd; 0 ready, ALOG_ENOTFOUND at the timeout. */
static int wait_fd(int fd, short events, int timeout_ms, struct alog_err *err)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int r = poll(&p, 1, timeout_ms);

		if (r > 0)
			return 0;
		if (r == 0)
			return alog_err_set(err, ALOG_ENOTFOUND, "timed out");
		if (errno != EINTR)
			return alog_err_sys(err, ALOG_EIO, errno, "poll: %s",
					    strerror(errno));
	}
}

/* Non-blocking connect of fd to sa, waiting at most timeout_ms. */
static int connect_fd(int fd, const struct sockaddr *sa, socklen_t sa_len,
		      int timeout_ms, const char *name, struct alog_err *err)
{
	int so = 0;
	socklen_t so_len = sizeof(so);

	if (connect(fd, sa, sa_len) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		return alog_err_sys(err, ALOG_EIO, errno,
				    "connect to '%s': %s", name,
				    errno == EAGAIN ? "the daemon is not "
				    "accepting connections" : strerror(errno));
	if (wait_fd(fd, POLLOUT, timeout_ms, NULL) < 0)
		return alog_err_set(err, ALOG_EIO, "connect to '%s': timed out "
				    "after %d ms", name, timeout_ms);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &so_len) < 0)
		so = errno;
	if (so)
		return alog_err_sys(err, ALOG_EIO, so, "connect to '%s': %s",
				    name, strerror(so));
	return 0;
}

static int open_unix(struct alog_client *c, const char *path, int timeout_ms,
		     struct alog_err *err)
{
	struct sockaddr_un sa;
	size_t n = strlen(path);

	if (n == 0 || n > ALOG_SOCKET_PATH_MAX || n >= sizeof(sa.sun_path))
		return alog_err_set(err, ALOG_EINVAL, "socket path '%s' must be "
				    "1..%d bytes", path, ALOG_SOCKET_PATH_MAX);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return alog_err_sys(err, ALOG_EIO, errno, "socket: %s",
				    strerror(errno));
	return connect_fd(c->fd, (const struct sockaddr *)&sa, sizeof(sa),
			  timeout_ms, path, err);
}

/* "HOST:PORT" or "[V6]:PORT" into host and port (malloc'd). */
static int split_host_port(const char *s, char **host, char **port,
			   struct alog_err *err)
{
	const char *colon, *h = s, *h_end;

	*host = *port = NULL;
	if (s[0] == '[') {
		h = s + 1;
		h_end = strchr(h, ']');
		if (!h_end || h_end[1] != ':')
			goto bad;
		colon = h_end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			goto bad;
		h_end = colon;
	}
	if (h_end == h || !colon[1] || strspn(colon + 1, "0123456789") !=
	    strlen(colon + 1) || strlen(colon + 1) > 5 ||
	    strtoul(colon + 1, NULL, 10) < 1 ||
	    strtoul(colon + 1, NULL, 10) > 65535)
		goto bad;
	*host = strndup(h, (size_t)(h_end - h));
	*port = strdup(colon + 1);
	if (!*host || !*port) {
		free(*host);
		free(*port);
		*host = *port = NULL;
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	}
	return 0;
bad:
	return alog_err_set(err, ALOG_EINVAL, "'%s' is not HOST:PORT (an IPv6 "
			    "address goes in brackets: [::1]:PORT)", s);
}

static int open_tcp(struct alog_client *c, const char *addr, int timeout_ms,
		    struct alog_err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char *host = NULL, *port = NULL;
	int rc, one = 1;

	rc = split_host_port(addr, &host, &port, err);
	if (rc < 0)
		return rc;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		rc = alog_err_set(err, ALOG_EIO, "connect to '%s': %s", addr,
				  gai_strerror(rc));
		goto out;
	}
	rc = alog_err_set(err, ALOG_EIO, "connect to '%s': no address", addr);
	for (ai = res; ai; ai = ai->ai_next) {
		if (c->fd >= 0)
			close(c->fd);
		c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
			       SOCK_NONBLOCK, ai->ai_protocol);
		if (c->fd < 0) {
			rc = alog_err_sys(err, ALOG_EIO, errno, "socket: %s",
					  strerror(errno));
			continue;
		}
		rc = connect_fd(c->fd, ai->ai_addr, ai->ai_addrlen, timeout_ms,
				addr, err);
		if (rc == 0)
			break;
	}
	if (rc == 0)  /* lines go out as soon as they are written */
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
out:
	if (res)
		freeaddrinfo(res);
	c->host = host;
	free(port);
	return rc;
}

static int handshake(struct alog_client *c, const struct alog_client_options *o,
		     int timeout_ms, struct alog_err *err)
{
	int64_t deadline = mono_ms() + timeout_ms;
	int rc;

	rc = alog_tls_client_new(o->tls_cert, o->tls_key, o->tls_ca,
				 &c->tls_ctx, err);
	if (rc == 0)
		rc = alog_tls_conn_new(c->tls_ctx, c->fd, 0, &c->tls, err);
	/* the daemon's certificate must also name the host we dialled */
	if (rc == 0)
		rc = alog_tls_conn_set_host(c->tls, c->host, err);
	while (rc == 0) {
		rc = alog_tls_handshake(c->tls, err);
		if (rc <= 0)
			break;
		rc = wait_fd(c->fd, rc == ALOG_TLS_WANT_WRITE ? POLLOUT : POLLIN,
			     left_ms(deadline), NULL);
		if (rc < 0)
			rc = alog_err_set(err, ALOG_EIO, "tls handshake with "
					  "'%s': timed out", c->name);
	}
	if (rc < 0)
		alog_err_prefix(err, "tls with '%s'", c->name);
	return rc;
}

int alog_client_open(const struct alog_client_options *o,
		     struct alog_client **out, struct alog_err *err)
{
	struct alog_client *c;
	int timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms :
			 ALOG_CLIENT_CONNECT_TIMEOUT_MS;
	int rc;

	*out = NULL;
	if (!o->socket_path == !o->connect)
		return alog_err_set(err, ALOG_EINVAL, "give either a socket "
				    "path or HOST:PORT");
	if ((o->tls_ca || o->tls_cert || o->tls_key) && !o->connect)
		return alog_err_set(err, ALOG_EINVAL, "tls needs HOST:PORT");
	if ((o->tls_cert || o->tls_key) && !o->tls_ca)
		return alog_err_set(err, ALOG_EINVAL, "a tls certificate needs "
				    "the ca file that checks the daemon");
	if (!o->tls_cert != !o->tls_key)
		return alog_err_set(err, ALOG_EINVAL, "a tls certificate and "
				    "its key go together");
	c = calloc(1, sizeof(*c));
	if (!c)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	c->fd = -1;
	alog_buf_init(&c->out, 0);
	alog_buf_init(&c->in, 0);
	c->name = strdup(o->socket_path ? o->socket_path : o->connect);
	if (!c->name) {
		rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
		goto out;
	}
	if (o->socket_path)
		rc = open_unix(c, o->socket_path, timeout_ms, err);
	else
		rc = open_tcp(c, o->connect, timeout_ms, err);
	if (rc == 0 && o->tls_ca)
		rc = handshake(c, o, timeout_ms, err);
out:
	if (rc < 0) {
		alog_client_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void alog_client_close(struct alog_client *c)
{
	if (!c)
		return;
	if (c->tls && !c->wdead && !c->eof)
		(void)alog_tls_close(c->tls);
	alog_tls_conn_free(c->tls);
	alog_tls_ctx_free(c->tls_ctx);
	if (c->fd >= 0)
		close(c->fd);
	free(c->host);
	alog_buf_release(&c->out);
	alog_buf_release(&c->in);
	free(c->name);
	free(c);
}

size_t alog_client_inflight(const struct alog_client *c)
{
	return c->inflight;
}

/* Write queued bytes until the socket would block. Sets *progress. A
 * failure marks the connection unwritable (wdead) and is not returned:
 * the answers already sent may still be read. */
static void c_write(struct alog_client *c, int *progress)
{
	while (c->out_off < c->out.len && !c->wdead) {
		const unsigned char *p = c->out.data + c->out_off;
		size_t len = c->out.len - c->out_off, n = 0;
		ssize_t w;

		if (c->tls) {
			int rc = alog_tls_write(c->tls, p, len, &n, &c->werr);

			if (rc > 0) {
				c->tls_want = rc;
				return;
			}
			if (rc < 0) {
				c->wdead = 1;
				return;
			}
		} else {
			w = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			if (w < 0) {
				alog_err_sys(&c->werr, ALOG_EIO, errno,
					     "write to '%s': %s", c->name,
					     strerror(errno));
				c->wdead = 1;
				return;
			}
			n = (size_t)w;
		}
		c->out_off += n;
		*progress = 1;
	}
	if (c->out_off == c->out.len) {
		alog_buf_reset(&c->out);
		c->out_off = 0;
	}
}

/* Read what the socket holds now. A failure to read ends the input like
 * a close (eof, with rerr saying why) so that the answers read before it
 * are still taken; negative only for out of memory. */
static int c_read(struct alog_client *c, int *progress, struct alog_err *err)
{
	while (!c->eof) {
		size_t n = 0;
		int rc;

		if (c->in.len - c->in_off >= IN_MAX)
			return 0;  /* the caller must take answers first */
		if (c->in_off > 0 && c->in_off == c->in.len) {
			alog_buf_reset(&c->in);
			c->in_off = c->scanned = 0;
		}
		rc = alog_buf_reserve(&c->in, READ_CHUNK, err);
		if (rc < 0)
			return rc;
		if (c->tls) {
			rc = alog_tls_read(c->tls, c->in.data + c->in.len,
					   READ_CHUNK, &n, err);
			if (rc > 0) {
				c->tls_want = rc;
				return 0;
			}
			if (rc < 0) {
				c->rerr = *err;
				alog_err_prefix(&c->rerr, "read from '%s'",
						c->name);
				c->eof = 1;
				*progress = 1;
				return 0;
			}
		} else {
			ssize_t r = recv(c->fd, c->in.data + c->in.len,
					 READ_CHUNK, MSG_DONTWAIT);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return 0;
			if (r < 0) {
				alog_err_sys(&c->rerr, ALOG_EIO, errno,
					     "read from '%s': %s", c->name,
					     strerror(errno));
				c->eof = 1;
				*progress = 1;
				return 0;
			}
			n = (size_t)r;
		}
		if (n == 0)
			c->eof = 1;
		c->in.len += n;
		c->in.data[c->in.len] = 0;
		*progress = 1;
	}
	return 0;
}

/* Move bytes both ways; with timeout_ms != 0 wait (at most that long, or
 * for ever when < 0) until something moved. ALOG_ENOTFOUND at the
 * timeout; ALOG_EIO when reading failed or the connection can do nothing
 * more. */
static int c_io(struct alog_client *c, int timeout_ms, struct alog_err *err)
{
	int64_t deadline = timeout_ms > 0 ? mono_ms() + timeout_ms : 0;

	for (;;) {
		struct pollfd p = { .fd = c->fd };
		int progress = 0, rc, t;

		c->tls_want = 0;
		c_write(c, &progress);
		rc = c_read(c, &progress, err);
		if (rc < 0)
			return rc;
		if (progress || timeout_ms == 0 || c->eof)
			return 0;
		if (c->wdead) {
			*err = c->werr;
			return ALOG_EIO;
		}
		if (c->in.len - c->in_off < IN_MAX)
			p.events |= POLLIN;
		if ((c->out_off < c->out.len) ||
		    c->tls_want == ALOG_TLS_WANT_WRITE)
			p.events |= POLLOUT;
		if (!p.events)
			return 0;
		t = timeout_ms < 0 ? -1 : left_ms(deadline);
		rc = poll(&p, 1, t);
		if (rc < 0 && errno != EINTR)
			return alog_err_sys(err, ALOG_EIO, errno, "poll: %s",
					    strerror(errno));
		if (rc == 0 && t >= 0 && left_ms(deadline) == 0)
			return alog_err_set(err, ALOG_ENOTFOUND, "no answer "
					    "from '%s' within %d ms", c->name,
					    timeout_ms);
	}
}

/* Take one complete answer line from the input buffer: 1 when taken (line
 * and len borrow from the buffer until the next read), 0 when none is
 * complete, ALOG_ECORRUPT when the daemon sent more than it was asked or
 * a line longer than ALOG_CLIENT_ANSWER_MAX. */
static int c_take_line(struct alog_client *c, const char **line, size_t *len,
		       struct alog_err *err)
{
	const char *base = (const char *)c->in.data;
	const char *nl;

	/* set on every path, so that no caller's compiler thinks them unset */
	*line = NULL;
	*len = 0;
	if (!base)
		return 0;   /* nothing read yet */
	if (c->scanned < c->in_off)
		c->scanned = c->in_off;
	nl = memchr(base + c->scanned, '\n', c->in.len - c->scanned);
	if (!nl) {
		c->scanned = c->in.len;
		if (c->in.len - c->in_off > ALOG_CLIENT_ANSWER_MAX)
			return alog_err_set(err, ALOG_ECORRUPT, "answer from "
					    "'%s' longer than %d bytes",
					    c->name, ALOG_CLIENT_ANSWER_MAX);
		return 0;
	}
	if (c->inflight == 0)
		return alog_err_set(err, ALOG_ECORRUPT, "'%s' answered a line "
				    "that was not sent", c->name);
	*line = base + c->in_off;
	*len = (size_t)(nl - *line);
	c->in_off = (size_t)(nl - base) + 1;
	c->scanned = c->in_off;
	c->inflight--;
	return 1;
}

int alog_client_send(struct alog_client *c, const char *line, size_t len,
		     struct alog_err *err)
{
	int rc;

	if (len > ALOG_CLIENT_LINE_MAX)
		return alog_err_set(err, ALOG_EINVAL, "line of %zu bytes is "
				    "longer than %d", len, ALOG_CLIENT_LINE_MAX);
	if (memchr(line, '\n', len))
		return alog_err_set(err, ALOG_EINVAL, "line holds a newline");
	if (c->inflight >= ALOG_CLIENT_INFLIGHT_MAX)
		return alog_err_set(err, ALOG_ELIMIT, "%d lines await their "
				    "answers: receive some first",
				    ALOG_CLIENT_INFLIGHT_MAX);
	if (c->wdead || c->eof) {
		if (c->wdead)
			*err = c->werr;
		else
			alog_err_set(err, ALOG_EIO, "'%s' closed the "
				     "connection", c->name);
		return ALOG_EIO;
	}
	/* keep the buffer bounded: wait until the daemon took enough */
	while (c->out.len - c->out_off + len + 1 > ALOG_CLIENT_INFLIGHT_BYTES_MAX &&
	       c->out_off < c->out.len) {
		rc = c_io(c, -1, err);
		if (rc < 0)
			return rc;
		if (c->wdead || c->eof)
			return alog_err_set(err, ALOG_EIO, "'%s' closed the "
					    "connection", c->name);
	}
	rc = alog_buf_add(&c->out, line, len, err);
	if (rc == 0)
		rc = alog_buf_addc(&c->out, '\n', err);
	if (rc < 0)
		return rc;
	c->inflight++;
	if (c->batch && c->out.len - c->out_off < c->batch)
		return 0;  /* written with the next batch */
	return c_io(c, 0, err);
}

void alog_client_batch(struct alog_client *c, size_t bytes)
{
	c->batch = bytes;
}

int alog_client_flush(struct alog_client *c, struct alog_err *err)
{
	int rc = c_io(c, 0, err);

	if (rc == 0 && c->wdead) {
		*err = c->werr;
		rc = ALOG_EIO;
	}
	return rc;
}

int alog_client_send_event(struct alog_client *c, const char *event,
			   size_t len, char id[ALOG_CLIENT_ID_MAX + 1],
			   struct alog_err *err)
{
	struct alog_client_event ev;
	struct alog_buf b;
	int rc;

	alog_buf_init(&b, 0);
	rc = alog_client_assign_id(event, len, alog_clock_now_us(), &b, &ev,
				   err);
	if (rc == 0)
		rc = alog_client_send(c, (const char *)b.data, b.len, err);
	if (rc == 0 && id)
		memcpy(id, ev.id, sizeof(ev.id));
	alog_buf_release(&b);
	return rc;
}

int alog_client_recv(struct alog_client *c, int timeout_ms,
		     struct alog_answer *ans, struct alog_buf *raw,
		     struct alog_err *err)
{
	int64_t deadline = timeout_ms > 0 ? mono_ms() + timeout_ms : 0;
	int last = 0;

	if (c->inflight == 0)
		return alog_err_set(err, ALOG_ESTATE, "no line awaits an answer");
	for (;;) {
		const char *line;
		size_t len;
		int rc = c_take_line(c, &line, &len, err), t;

		if (rc < 0)
			return rc;
		if (rc == 1) {
			if (raw) {
				rc = alog_buf_add(raw, line, len, err);
				if (rc < 0)
					return rc;
			}
			return alog_answer_parse(line, len, ans, err);
		}
		if (c->eof) {
			if (c->rerr.code) {
				*err = c->rerr;
				return ALOG_EIO;
			}
			return alog_err_set(err, ALOG_EIO, "'%s' closed the "
					    "connection before answering",
					    c->name);
		}
		if (last)
			return alog_err_set(err, ALOG_ENOTFOUND, "no answer "
					    "from '%s' yet", c->name);
		t = timeout_ms < 0 ? -1 : timeout_ms == 0 ? 0 :
		    left_ms(deadline);
		if (t == 0)
			last = 1;  /* one more pass without waiting */
		rc = c_io(c, t, err);
		if (rc == ALOG_ENOTFOUND)
			last = 1;
		else if (rc < 0)
			return rc;
	}
}

/* ---- 3. the sender ---------------------------------------------------- */

enum { E_FREE = 0, E_WAIT, E_BACKUP, E_DONE };

struct entry {
	uint64_t n;
	int state;
	int sent;                /* queued on the connection */
	int answered;            /* E_BACKUP after a "retry" answer (in ans) */
	const char *reject;      /* a line that is no event: its reject name */
	char *line;              /* the bytes sent (with the id), owned */
	size_t len;
	char id[ALOG_CLIENT_ID_MAX + 1];
	/* the result, once E_DONE */
	enum alog_sent outcome;
	int local;
	struct alog_answer ans;
	struct alog_buf raw;
	uint64_t backup_line;
};

struct alog_sender {
	struct alog_sender_options o;
	struct alog_client *c;       /* NULL when not connected */
	struct alog_backup *bk;      /* opened when first needed */
	struct entry *q;             /* ring of cap entries */
	size_t cap;
	uint64_t head, tail;         /* absolute positions: [head, tail) */
	uint64_t wait_pos;           /* no E_WAIT entry before it */
	size_t bytes;                /* line bytes in the queue */
	size_t n_backup;             /* entries in E_BACKUP */
	const char **bk_lines;       /* cap pointers for append_many */
	size_t *bk_lens;
	uint64_t next_n;
	int fallback;                /* every event goes to the backup */
	int dead;                    /* refuses further lines */
	struct alog_err dead_err;
	char why[ALOG_ERR_MSG_MAX];  /* why events go to the backup */
	struct alog_sender_stats st;
	struct alog_buf tmp;
	size_t batch;                /* alog_sender_batch */
};

static struct entry *at(struct alog_sender *s, uint64_t i)
{
	return &s->q[i % s->cap];
}

static void finish(struct alog_sender *s, struct entry *e,
		   enum alog_sent outcome, int local)
{
	e->state = E_DONE;
	e->outcome = outcome;
	e->local = local;
	free(e->line);
	e->line = NULL;
	switch (outcome) {
	case ALOG_SENT_ACKED:
		s->st.acked++;
		if (e->ans.kind == ALOG_ANSWER_STORED)
			s->st.stored++;
		else if (e->ans.kind == ALOG_ANSWER_DUPLICATE)
			s->st.duplicates++;
		else
			s->st.spooled++;
		break;
	case ALOG_SENT_REJECTED:
		s->st.rejected++;
		if (local)
			s->st.rejected_locally++;
		break;
	case ALOG_SENT_BACKED_UP:
		s->st.backed_up++;
		break;
	case ALOG_SENT_FAILED:
		s->st.failed++;
		break;
	}
}

/* Keep the daemon's answer for e (the line as received, and parsed). */
static void keep_answer(struct entry *e, const struct alog_answer *a,
			const char *raw, size_t len)
{
	e->ans = *a;
	alog_buf_reset(&e->raw);
	if (alog_buf_add(&e->raw, raw, len, NULL) < 0)
		alog_buf_reset(&e->raw);   /* out of memory: no text */
}

__attribute__((format(printf, 6, 7)))
static void local_answer(struct alog_sender *s, struct entry *e,
			 enum alog_sent outcome, const char *code, int retry,
			 const char *fmt, ...)
{
	va_list ap;

	memset(&e->ans, 0, sizeof(e->ans));
	e->ans.kind = ALOG_ANSWER_REJECTED;
	snprintf(e->ans.code, sizeof(e->ans.code), "%s", code);
	e->ans.retry = retry;
	va_start(ap, fmt);
	vsnprintf(e->ans.error, sizeof(e->ans.error), fmt, ap);
	va_end(ap);
	utf8_sanitize(e->ans.error);
	alog_buf_reset(&e->raw);
	if (alog_answer_format(&e->ans, &e->raw, NULL) < 0)
		alog_buf_reset(&e->raw);
	finish(s, e, outcome, 1);
}

/* Report every result at the head of the queue, in order. */
static void deliver(struct alog_sender *s)
{
	while (s->head < s->tail && at(s, s->head)->state == E_DONE) {
		struct entry *e = at(s, s->head);
		struct alog_sender_result r;

		memset(&r, 0, sizeof(r));
		r.n = e->n;
		r.outcome = e->outcome;
		r.local = e->local;
		r.answer = &e->ans;
		r.answer_line = e->raw.data ? (const char *)e->raw.data : "";
		r.answer_len = e->raw.len;
		r.id = e->id;
		r.backup_line = e->backup_line;
		s->o.on_result(s->o.ctx, &r);
		s->bytes -= e->len;
		e->len = 0;
		e->state = E_FREE;
		s->head++;
	}
	if (s->wait_pos < s->head)
		s->wait_pos = s->head;
}

static struct entry *next_wait(struct alog_sender *s)
{
	while (s->wait_pos < s->tail && at(s, s->wait_pos)->state != E_WAIT)
		s->wait_pos++;
	return s->wait_pos < s->tail ? at(s, s->wait_pos) : NULL;
}

/* The sender can't go on: give every line without a result a failed one
 * (or, for lines that are no event, their rejection), report them all,
 * and refuse further lines with rc. */
static int go_dead(struct alog_sender *s, int rc, const struct alog_err *why,
		   struct alog_err *err)
{
	const char *msg = why && why->msg[0] ? why->msg : alog_err_name(rc);

	for (uint64_t i = s->head; i < s->tail; i++) {
		struct entry *e = at(s, i);

		if (e->state != E_WAIT && e->state != E_BACKUP)
			continue;
		if (e->answered)
			finish(s, e, ALOG_SENT_FAILED, 0);
		else if (e->reject)
			local_answer(s, e, ALOG_SENT_REJECTED, e->reject, 0,
				     "not a valid event (%s); no answer came "
				     "and it can't go to a backup file",
				     e->reject);
		else if (e->sent)
			local_answer(s, e, ALOG_SENT_FAILED, "no_answer", 1,
				     "no answer (%.600s); the event may be "
				     "stored: resend it, its id makes a resend "
				     "a duplicate", msg);
		else
			local_answer(s, e, ALOG_SENT_FAILED, "not_sent", 1,
				     "not sent (%.600s)", msg);
	}
	s->n_backup = 0;
	deliver(s);
	alog_client_close(s->c);
	s->c = NULL;
	s->dead = 1;
	if (why && why != &s->dead_err)
		s->dead_err = *why;
	s->dead_err.code = rc;
	if (!s->dead_err.msg[0])
		alog_err_set(&s->dead_err, rc, "%s", alog_err_name(rc));
	if (err && err != &s->dead_err)
		*err = s->dead_err;
	return rc;
}

static int open_backup(struct alog_sender *s, struct alog_err *err)
{
	int rc = alog_backup_open(s->o.backup_path, alog_clock_now_us(),
				  &s->bk, err);

	if (rc == 0) {
		s->st.backup_opened = 1;
		s->st.backup = *alog_backup_opened(s->bk);
	}
	return rc;
}

/* Append every E_BACKUP line to the backup file (one fsync), then report
 * them backed up. */
static int flush_backup(struct alog_sender *s, struct alog_err *err)
{
	struct alog_err berr = { 0 };
	uint64_t first, i;
	size_t n = 0;
	int rc;

	if (!s->n_backup)
		return 0;
	if (!s->bk) {
		rc = open_backup(s, &berr);
		if (rc < 0)
			return go_dead(s, rc, &berr, err);
	}
	for (i = s->head; i < s->tail; i++) {
		struct entry *e = at(s, i);

		if (e->state != E_BACKUP)
			continue;
		s->bk_lines[n] = e->line;
		s->bk_lens[n] = e->len;
		n++;
	}
	first = alog_backup_lines(s->bk) + 1;
	rc = alog_backup_append_many(s->bk, s->bk_lines, s->bk_lens, n, &berr);
	if (rc < 0)
		return go_dead(s, rc, &berr, err);
	n = 0;
	for (i = s->head; i < s->tail; i++) {
		struct entry *e = at(s, i);
		char reason[ALOG_ERR_MSG_MAX];

		if (e->state != E_BACKUP)
			continue;
		e->backup_line = first + n++;
		if (e->answered)
			snprintf(reason, sizeof(reason), "the daemon answered "
				 "\"%s\": %.300s", e->ans.code, e->ans.error);
		else
			snprintf(reason, sizeof(reason), "%.400s", s->why);
		local_answer(s, e, ALOG_SENT_BACKED_UP, "backed_up", 1,
			     "not delivered (%.500s); in backup file '%.300s' "
			     "line %" PRIu64, reason, s->o.backup_path,
			     e->backup_line);
	}
	s->n_backup = 0;
	deliver(s);
	return 0;
}

/* Events go to the backup file from now on (or, without one, nothing
 * more can be done). */
static int fall_back(struct alog_sender *s, int rc, const char *what,
		     const struct alog_err *why, struct alog_err *err)
{
	snprintf(s->why, sizeof(s->why), "%s: %.400s", what, why->msg);
	if (!s->o.backup_path) {
		struct alog_err e2 = *why;

		snprintf(e2.msg, sizeof(e2.msg), "%s", s->why);
		return go_dead(s, rc, &e2, err);
	}
	s->fallback = 1;
	return 0;
}

/* The connection ended (why): lines waiting for an answer go to the
 * backup file, are rejected (lines that are no event) or failed. */
static int broken(struct alog_sender *s, const struct alog_err *why,
		  struct alog_err *err)
{
	int rc;

	alog_client_close(s->c);
	s->c = NULL;
	rc = fall_back(s, ALOG_EIO, "the connection to the daemon ended", why,
		       err);
	if (rc < 0)
		return rc;   /* go_dead reported the lines */
	for (uint64_t i = s->wait_pos; i < s->tail; i++) {
		struct entry *e = at(s, i);

		if (e->state != E_WAIT)
			continue;
		if (e->reject) {
			local_answer(s, e, ALOG_SENT_REJECTED, e->reject, 0,
				     "not a valid event (%s); no answer came "
				     "and it can't go to the backup file",
				     e->reject);
		} else {
			e->state = E_BACKUP;
			s->n_backup++;
		}
	}
	rc = flush_backup(s, err);
	deliver(s);
	return rc;
}

/* Move bytes, take the answers that came, report results. block: wait
 * until at least one answer came (only when lines await answers). */
static int pump(struct alog_sender *s, int block, struct alog_err *err)
{
	struct alog_err ioerr = { 0 };
	int got = 0, rc;

	while (s->c) {
		const char *line;
		size_t len;

		if (s->c->inflight == 0)
			block = 0;
		rc = c_io(s->c, !block || got ? 0 : s->o.answer_timeout_ms > 0 ?
			  s->o.answer_timeout_ms : -1, &ioerr);
		if (rc == ALOG_ENOTFOUND && block && !got) {
			alog_err_set(&ioerr, ALOG_EIO, "no answer from the "
				     "daemon for %d ms", s->o.answer_timeout_ms);
			return broken(s, &ioerr, err);
		}
		if (rc < 0 && rc != ALOG_ENOTFOUND)
			return broken(s, &ioerr, err);
		while ((rc = c_take_line(s->c, &line, &len, &ioerr)) == 1) {
			struct entry *e = next_wait(s);
			struct alog_answer a;

			if (!e || alog_answer_parse(line, len, &a, &ioerr) < 0) {
				if (!e)
					alog_err_set(&ioerr, ALOG_ECORRUPT,
						     "an answer for no line");
				return broken(s, &ioerr, err);
			}
			got++;
			s->wait_pos++;
			keep_answer(e, &a, line, len);
			if (alog_answer_acked(&a)) {
				finish(s, e, ALOG_SENT_ACKED, 0);
			} else if (!a.retry) {
				finish(s, e, ALOG_SENT_REJECTED, 0);
			} else if (s->o.backup_path && !e->reject) {
				e->answered = 1;
				e->state = E_BACKUP;
				s->n_backup++;
			} else {
				finish(s, e, ALOG_SENT_FAILED, 0);
			}
		}
		if (rc < 0)
			return broken(s, &ioerr, err);
		if (s->n_backup) {
			rc = flush_backup(s, err);
			if (rc < 0)
				return rc;
		}
		deliver(s);
		if (s->c->eof || s->c->wdead) {
			if (s->c->inflight) {
				if (s->c->rerr.code)
					ioerr = s->c->rerr;
				else if (s->c->wdead)
					ioerr = s->c->werr;
				else
					alog_err_set(&ioerr, ALOG_EIO, "the "
						     "daemon closed the "
						     "connection");
				return broken(s, &ioerr, err);
			}
			/* closed with nothing in flight (idle timeout): the
			 * next line connects again */
			alog_client_close(s->c);
			s->c = NULL;
			return 0;
		}
		if (!block || got)
			return 0;
	}
	return 0;
}

int alog_sender_open(const struct alog_sender_options *o,
		     struct alog_sender **out, struct alog_err *err)
{
	struct alog_err cerr = { 0 };
	struct alog_sender *s;
	int rc;

	*out = NULL;
	if (!o->on_result)
		return alog_err_set(err, ALOG_EINVAL, "sender: on_result is "
				    "required");
	s = calloc(1, sizeof(*s));
	if (!s)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	s->o = *o;
	s->cap = o->inflight_max && o->inflight_max < ALOG_CLIENT_INFLIGHT_MAX ?
		 o->inflight_max : ALOG_CLIENT_INFLIGHT_MAX;
	s->q = calloc(s->cap, sizeof(*s->q));
	s->bk_lines = calloc(s->cap, sizeof(*s->bk_lines));
	s->bk_lens = calloc(s->cap, sizeof(*s->bk_lens));
	alog_buf_init(&s->tmp, 0);
	if (!s->q || !s->bk_lines || !s->bk_lens) {
		rc = alog_err_set(err, ALOG_ENOMEM, "out of memory");
		goto out;
	}
	rc = alog_client_open(&o->conn, &s->c, &cerr);
	if (rc == 0) {
		s->st.connected = 1;
	} else if (rc != ALOG_EIO || !o->backup_path) {
		/* bad options, tls failures and no backup file: stop here */
		*err = cerr;
		goto out;
	} else {
		s->fallback = 1;
		snprintf(s->why, sizeof(s->why), "the daemon can't be "
			 "reached: %.400s", cerr.msg);
		rc = open_backup(s, err);
		if (rc < 0)
			alog_err_prefix(err, "the daemon can't be reached "
					"(%.200s), and", cerr.msg);
	}
out:
	if (rc < 0) {
		alog_sender_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int dead_code(struct alog_sender *s, struct alog_err *err)
{
	if (err)
		*err = s->dead_err;
	return s->dead_err.code ? s->dead_err.code : ALOG_ESTATE;
}

/* Wait until the queue has room for one more line of len bytes. */
static int make_room(struct alog_sender *s, size_t len, struct alog_err *err)
{
	while (!s->dead && s->tail > s->head &&
	       (s->tail - s->head >= s->cap ||
		s->bytes + len > ALOG_CLIENT_INFLIGHT_BYTES_MAX)) {
		int rc;

		if (s->n_backup)
			rc = flush_backup(s, err);
		else if (s->c && s->c->inflight)
			rc = pump(s, 1, err);
		else
			break;   /* nothing left to wait for */
		if (rc < 0)
			return rc;
		deliver(s);
	}
	return s->dead ? dead_code(s, err) : 0;
}

static struct entry *push(struct alog_sender *s)
{
	struct entry *e = at(s, s->tail++);

	e->n = s->next_n++;
	e->state = E_FREE;
	e->sent = e->answered = 0;
	e->reject = NULL;
	e->line = NULL;
	e->len = 0;
	e->id[0] = 0;
	e->local = 0;
	e->backup_line = 0;
	memset(&e->ans, 0, sizeof(e->ans));
	alog_buf_reset(&e->raw);
	s->st.submitted++;
	return e;
}

/* Give e the bytes of line (owned) and send it or set it aside for the
 * backup file. */
static int route(struct alog_sender *s, struct entry *e, const char *line,
		 size_t len, struct alog_err *err)
{
	struct alog_err serr = { 0 };
	int rc;

	e->line = malloc(len + 1);
	if (!e->line) {
		alog_err_set(&serr, ALOG_ENOMEM, "out of memory");
		return go_dead(s, ALOG_ENOMEM, &serr, err);
	}
	memcpy(e->line, line, len);
	e->line[len] = 0;
	e->len = len;
	s->bytes += len;
	if (!s->c) {
		e->state = E_BACKUP;
		s->n_backup++;
		return 0;
	}
	e->state = E_WAIT;
	rc = alog_client_send(s->c, e->line, len, &serr);
	if (rc == 0) {
		e->sent = 1;
		return 0;
	}
	if (rc == ALOG_ENOMEM)
		return go_dead(s, rc, &serr, err);
	/* the line may be partly written: it counts as sent */
	e->sent = 1;
	return broken(s, &serr, err);
}

int alog_sender_submit(struct alog_sender *s, const char *line, size_t len,
		       struct alog_err *err)
{
	struct alog_err aerr = { 0 }, cerr = { 0 };
	struct alog_client_event ev;
	struct entry *e;
	int rc;

	if (!s->dead)
		(void)make_room(s, len, NULL);
	/* an idle connection the daemon closed meanwhile (idle timeout)
	 * shows its end now, before a line is sent into it */
	if (!s->dead && s->c && s->c->inflight == 0)
		(void)pump(s, 0, NULL);
	if (!s->dead && !s->c && !s->fallback) {
		/* the daemon closed an idle connection: connect again */
		rc = alog_client_open(&s->o.conn, &s->c, &cerr);
		if (rc == 0)
			alog_client_batch(s->c, s->batch);
		if (rc == ALOG_EIO)
			(void)fall_back(s, rc, "the daemon can't be reached",
					&cerr, NULL);
		else if (rc < 0)  /* tls refused, out of memory: stop */
			(void)go_dead(s, rc, &cerr, NULL);
	}
	e = push(s);
	if (s->dead) {
		/* this line gets its result too: one result per call */
		local_answer(s, e, ALOG_SENT_FAILED, "not_sent", 1,
			     "not sent (%.600s)", s->dead_err.msg);
		deliver(s);
		return dead_code(s, err);
	}
	if (memchr(line, '\n', len)) {
		/* one event per line: the daemon would see two lines */
		local_answer(s, e, ALOG_SENT_REJECTED, "not_json", 0,
			     "the line holds a newline byte; not sent");
		deliver(s);
		return 0;
	}
	alog_buf_reset(&s->tmp);
	rc = alog_client_assign_id(line, len, alog_clock_now_us(), &s->tmp,
				   &ev, &aerr);
	if (rc == ALOG_EINVAL && s->c && len <= ALOG_CLIENT_LINE_MAX) {
		/* no event: the daemon says why, in its own words */
		e->reject = ev.code;
		rc = route(s, e, line, len, err);
	} else if (rc == ALOG_EINVAL) {
		local_answer(s, e, ALOG_SENT_REJECTED, ev.code, 0, "%.600s; %s",
			     aerr.msg, s->c ? "not sent" : "a line that is no "
			     "valid event can't go to the backup file");
		rc = 0;
	} else if (rc == ALOG_ELIMIT) {
		local_answer(s, e, ALOG_SENT_REJECTED, ev.code, 0,
			     "%.600s; not sent", aerr.msg);
		rc = 0;
	} else if (rc < 0) {
		return go_dead(s, rc, &aerr, err);
	} else {
		memcpy(e->id, ev.id, sizeof(ev.id));
		rc = route(s, e, (const char *)s->tmp.data, s->tmp.len, err);
	}
	if (rc < 0)
		return rc;
	deliver(s);
	/* batched: the line waits for the batch to fill or for a flush */
	if (s->c && !(s->batch && s->c->out.len - s->c->out_off < s->batch)) {
		rc = pump(s, 0, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int alog_sender_reject(struct alog_sender *s, const char *code,
		       const char *msg, struct alog_err *err)
{
	struct entry *e;

	if (!s->dead)
		(void)make_room(s, 0, NULL);
	e = push(s);
	local_answer(s, e, ALOG_SENT_REJECTED, code_valid(code, strlen(code)) ?
		     code : "not_json", 0, "%.800s; not sent", msg);
	deliver(s);
	return s->dead ? dead_code(s, err) : 0;
}

int alog_sender_drain(struct alog_sender *s, struct alog_err *err)
{
	while (!s->dead) {
		int rc = 0;

		if (s->n_backup)
			rc = flush_backup(s, err);
		if (rc < 0)
			return rc;
		deliver(s);
		if (s->head == s->tail)
			return 0;
		if (!s->c || !s->c->inflight)
			break;   /* cannot happen: every line is accounted */
		rc = pump(s, 1, err);
		if (rc < 0)
			return rc;
	}
	return s->dead ? dead_code(s, err) : 0;
}

void alog_sender_batch(struct alog_sender *s, size_t bytes)
{
	s->batch = bytes;
	if (s->c)
		alog_client_batch(s->c, bytes);
}

int alog_sender_flush(struct alog_sender *s, struct alog_err *err)
{
	int rc = 0;

	if (!s->dead && s->c)
		rc = pump(s, 0, err);
	if (rc == 0 && !s->dead && s->n_backup)
		rc = flush_backup(s, err);
	deliver(s);
	return rc < 0 ? rc : s->dead ? dead_code(s, err) : 0;
}

void alog_sender_stats(const struct alog_sender *s,
		       struct alog_sender_stats *out)
{
	*out = s->st;
	out->fell_back = s->fallback;
	snprintf(out->fall_back_reason, sizeof(out->fall_back_reason), "%s",
		 s->why);
}

void alog_sender_free(struct alog_sender *s)
{
	if (!s)
		return;
	alog_client_close(s->c);
	alog_backup_close(s->bk);
	if (s->q) {
		for (size_t i = 0; i < s->cap; i++) {
			free(s->q[i].line);
			alog_buf_release(&s->q[i].raw);
		}
	}
	free(s->q);
	free(s->bk_lines);
	free(s->bk_lens);
	alog_buf_release(&s->tmp);
	free(s);
}
