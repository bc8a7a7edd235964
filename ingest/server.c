/*
 * server: see server.h (SPEC.md section 15).
 *
 * Two threads:
 * - the I/O thread (the caller of alog_server_run) owns every socket and
 *   every struct conn: one epoll set over the listeners, a signalfd, an
 *   eventfd the writer rings, and the connections (non-blocking). It
 *   frames lines, parses each (alog_event_parse is pure: validation and
 *   canonical bytes cost the writer nothing) and hashes its id key,
 *   moves them to the writer as items, and writes answers.
 * - the writer thread owns the struct alog_log (ingest/log.h is single
 *   threaded): it takes every queued item, judges them in queue order
 *   (reserved type, deduplication, record: alog_log_submit_parsed),
 *   commits, and only then hands the items back with their answers. It
 *   also signs checkpoints and writes the lifecycle events.
 *
 * Invariants:
 * - An item goes back to the I/O thread only after the batch holding it
 *   committed (or failed: then it says "unavailable"); the writer returns
 *   items in the order it received them, and the I/O thread queues a
 *   connection's lines in input order, so answers go out in input order.
 * - A connection is freed only when none of its items is in flight (the
 *   writer reads its provenance through them).
 * - Memory is bounded: a connection's input buffer holds at most one
 *   partial line of ALOG_EVENT_LINE_MAX + 1 bytes plus one read; a longer
 *   line is skipped up to its newline and answered too_long. A connection
 *   is not read while it has ALOG_SERVER_INFLIGHT_MAX lines or
 *   ALOG_SERVER_INFLIGHT_BYTES_MAX bytes in flight or ALOG_SERVER_OUT_MAX
 *   bytes of unread answers, and no connection is read while all lines in
 *   flight hold ALOG_SERVER_QUEUE_BYTES_MAX bytes.
 */
#include "ingest/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ingest/breaker.h"
#include "ingest/clock.h"
#include "ingest/config.h"
#include "ingest/event.h"
#include "ingest/json.h"
#include "ingest/log.h"
#include "ingest/replay.h"
#include "ingest/spool.h"
#include "ingest/tls.h"
#include "store/bytes.h"
#include "store/merkle.h"
#include "store/store.h"

/* Input buffer: one partial line (max + CR) plus one read. */
#define READ_CHUNK 65536
#define IN_CAP (ALOG_EVENT_LINE_MAX + 2 + READ_CHUNK)
/* Longest answer line: the error message escaped (<= 6 bytes per byte of
 * a control character, in practice 2) plus the frame. */
#define ANSWER_MAX (6 * ALOG_ERR_MSG_MAX + 128)
#define OUT_BUF_MAX (ALOG_SERVER_OUT_MAX + \
		     (size_t)ALOG_SERVER_INFLIGHT_MAX * ANSWER_MAX)
#define ACCEPT_BATCH 64
#define EPOLL_EVENTS 64
#define LOG_LINE_MAX 8192
#define ADDR_MAX 64
/* Breaker transitions waiting to be recorded: while the store and the
 * spool both fail they wait in memory (about 64 bytes each; a cycle of
 * open and half_open adds two). Past this many the oldest waiting one is
 * dropped, and the drop is logged with its times. */
#define TRANS_MAX 65536

/* ---- items: lines on their way to the writer and back -------------- */

/* ITEM_LINE: ev holds the parsed event; ITEM_BAD: the I/O thread refused
 * the line and text holds the answer (set as the answer by the writer, in
 * order, unless the store is gone). */
enum { ITEM_LINE = 0, ITEM_BAD, ITEM_TOO_LONG };
enum { ANS_NONE = 0, ANS_SEQ, ANS_DUP, ANS_TEXT, ANS_SPOOLED,
       ANS_SPOOL_PENDING, ANS_SPOOL_PENDING_DUP };

struct conn;

struct item {
	struct item *next;
	struct conn *conn;
	const struct alog_provenance *prov; /* the connection's, immutable */
	int kind;
	int ans;             /* ANS_*, set by the writer */
	uint64_t seq;        /* ANS_SEQ, ANS_DUP */
	char *text;          /* ANS_TEXT: the answer line with its newline */
	size_t text_len;
	size_t len;          /* bytes of the line as read */
	size_t cost;         /* its memory, counted in srv.inflight_bytes */
	struct alog_event ev; /* ITEM_LINE: parsed by the I/O thread */
};

struct item_list {
	struct item *head, **tail;
	size_t n;
};

static void list_init(struct item_list *l)
{
	l->head = NULL;
	l->tail = &l->head;
	l->n = 0;
}

static void list_push(struct item_list *l, struct item *it)
{
	it->next = NULL;
	*l->tail = it;
	l->tail = &it->next;
	l->n++;
}

/* Move all of src to the end of dst. */
static void list_move(struct item_list *dst, struct item_list *src)
{
	if (!src->head)
		return;
	*dst->tail = src->head;
	dst->tail = src->tail;
	dst->n += src->n;
	list_init(src);
}

static void item_free(struct item *it)
{
	if (it) {
		free(it->text);
		alog_event_release(&it->ev);
		free(it);
	}
}

/* ---- connections --------------------------------------------------- */

enum { SRC_LISTEN_UNIX = 1, SRC_LISTEN_TCP, SRC_SIGNAL, SRC_WAKE, SRC_CONN };
enum { T_UNIX = 0, T_TCP, T_TLS };

struct source {
	int kind;
};

struct conn {
	struct source src;        /* first: epoll's data.ptr */
	struct conn *prev, *next; /* every connection, dead ones too */
	uint64_t id;              /* number for diagnostics, from 1 */
	int fd;                   /* -1 once dead */
	int transport;            /* T_* */
	struct alog_tls_conn *tls;
	int handshaking;          /* TLS handshake not done */
	int hs_want;              /* EPOLLIN/EPOLLOUT the handshake waits on */
	int rd_wants_write;       /* a TLS read needs the socket writable */
	int wr_wants_read;        /* a TLS write needs the socket readable */
	int rd_closed;            /* EOF read, or no more reading (shutdown) */
	int eof;                  /* the peer closed its side */
	int hup;                  /* EPOLLHUP/ERR seen */
	int dead;                 /* fd closed; waiting for in-flight items */
	int registered;           /* in the epoll set */
	uint32_t events;          /* registered epoll events */
	int try_read;             /* read without waiting for epoll */
	int64_t active_ms;        /* last progress (monotonic) */
	struct alog_provenance prov;
	char addr[ADDR_MAX];      /* tcp/tls peer "IP:PORT" */
	char subject[ALOG_TLS_SUBJECT_MAX];
	unsigned char *in;        /* IN_CAP bytes; unread in[in_start..in_end) */
	size_t in_start, in_end;
	int skipping;             /* inside a line longer than the limit */
	uint64_t skipped;         /* bytes of it skipped so far */
	struct alog_buf out;      /* answers; unsent out.data[out_off..len) */
	size_t out_off;
	size_t inflight, inflight_bytes;
	uint64_t lines, answered;
	uint64_t bytes_in;        /* bytes read from the peer */
};

/* ---- the server ---------------------------------------------------- */

struct shared {              /* between the threads, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;        /* the writer waits on it */
	struct item_list in;      /* I/O -> writer */
	struct item_list out;     /* writer -> I/O */
	int stop;                 /* the I/O thread asks the writer to finish */
	int done;                 /* the writer finished; rc, err below */
	int rc;
	struct alog_err err;
};

struct srv {
	const struct alog_server_options *o;
	unsigned idle_s, checkpoint_s, max_conns;
	uint64_t checkpoint_events;
	char *store_path;         /* realpath of the store (or as given) */
	char *socket_path;
	const char *version;
	char config_hash[2 * ALOG_HASH_LEN + 1];
	pthread_mutex_t log_mu;   /* diagnostics come from both threads */

	/* I/O thread */
	struct alog_hasher *hasher; /* id keys of the lines it parses */
	int epfd, sigfd, wakefd;
	int unix_fd, tcp_fd;
	dev_t sock_dev;
	ino_t sock_ino;
	char tcp_addr[ADDR_MAX];
	struct alog_tls_ctx *tls;
	struct source src_unix, src_tcp, src_sig, src_wake;
	struct conn *conns;
	size_t n_conns;
	uint64_t next_id;
	struct item_list pend;    /* items to hand to the writer */
	size_t inflight_lines;
	size_t inflight_bytes;    /* items' memory: headers, events, answers */
	size_t n_try;
	int accept_paused;
	int stopping;
	int stop_sent;
	int writer_done;
	int64_t flush_deadline_ms;
	int64_t idle_check_ms;
	int signo;

	/* writer thread */
	pthread_t writer;
	int writer_started;
	struct alog_log *log;
	uint64_t stored;          /* producer events stored by this run */
	uint64_t since_checkpoint;
	int64_t next_checkpoint_ms;
	uint64_t n_checkpoints;
	int64_t last_received;    /* latest received time given, in the
				     store or the spool */
	uint64_t stored_spool;    /* events spooled by this run */

	/* breaker, spool, replay (SPEC.md 17.8, 17.9) */
	struct alog_config builtin;   /* when no configuration was given */
	const struct alog_config *cfg;
	struct alog_breaker breaker;
	struct alog_spool *spool;
	char *spool_path;
	int spool_same_device;
	int spooling;             /* the spool holds files: events go there */
	int draining;             /* replaying the last spool file */
	int call_open;            /* an admitted breaker call awaits its end */
	int64_t call_started_us;
	int64_t fail_at_us;       /* first failure before the spool is used */
	char fail_msg[ALOG_ERR_MSG_MAX];
	int64_t next_replay_ms;
	struct alog_breaker_transition *trans; /* to record, oldest first */
	size_t n_trans, cap_trans;

	struct shared sh;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- diagnostics (SPEC.md 15.6) -------------------------------------- */

/* Append key=value; the value is quoted when it is empty or holds a
 * space, '"', '=', '\\' or a control byte; inside quotes '"' and '\\'
 * are escaped, \n \r \t by name and other control bytes as \xHH. */
static void lf_pair(struct alog_buf *b, const char *key, const char *val)
{
	size_t n = strlen(val);
	int quote = n == 0;

	for (size_t i = 0; i < n && !quote; i++) {
		unsigned char c = (unsigned char)val[i];

		quote = c <= 0x20 || c == 0x7f || c == '"' || c == '=' ||
			c == '\\';
	}
	if (b->len)
		alog_buf_addc(b, ' ', NULL);
	alog_buf_adds(b, key, NULL);
	alog_buf_addc(b, '=', NULL);
	if (!quote) {
		alog_buf_add(b, val, n, NULL);
		return;
	}
	alog_buf_addc(b, '"', NULL);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)val[i];

		if (c == '"' || c == '\\') {
			alog_buf_addc(b, '\\', NULL);
			alog_buf_addc(b, c, NULL);
		} else if (c == '\n') {
			alog_buf_adds(b, "\\n", NULL);
		} else if (c == '\r') {
			alog_buf_adds(b, "\\r", NULL);
		} else if (c == '\t') {
			alog_buf_adds(b, "\\t", NULL);
		} else if (c < 0x20 || c == 0x7f) {
			alog_buf_addf(b, NULL, "\\x%02x", c);
		} else {
			alog_buf_addc(b, c, NULL);
		}
	}
	alog_buf_addc(b, '"', NULL);
}

/* slog(s, "info", "msg", key, value, ..., NULL): all strings. */
static void slog(struct srv *s, const char *level, const char *msg, ...)
{
	struct alog_buf b;
	char now[ALOG_TIME_TEXT_MAX];
	const char *k, *v;
	va_list ap;

	alog_buf_init(&b, LOG_LINE_MAX);
	if (alog_time_format(alog_clock_now_us(), now) < 0)
		now[0] = 0;
	lf_pair(&b, "level", level);
	lf_pair(&b, "time", now);
	lf_pair(&b, "msg", msg);
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		lf_pair(&b, k, v ? v : "");
	}
	va_end(ap);
	if (b.data) {
		pthread_mutex_lock(&s->log_mu);
		if (s->o->log_fn) /* library code never prints itself */
			s->o->log_fn(s->o->log_ctx, (const char *)b.data);
		pthread_mutex_unlock(&s->log_mu);
	}
	alog_buf_release(&b);
}

/* Decimal text of v in a caller's buffer (for slog's string values). */
static const char *u64s(char buf[24], uint64_t v)
{
	snprintf(buf, 24, "%" PRIu64, v);
	return buf;
}

static const char *conn_ids(struct conn *c, char buf[24])
{
	return u64s(buf, c->id);
}

/* ---- options ------------------------------------------------------- */

/* Split "HOST:PORT" / "[V6]:PORT" into host (may be "") and port. */
static int split_listen(const char *spec, char *host, size_t host_cap,
			char *port, size_t port_cap, struct alog_err *err)
{
	const char *colon = strrchr(spec, ':');
	size_t hl;

	if (!colon || !colon[1])
		return alog_err_set(err, ALOG_EINVAL,
				    "--listen '%s': want HOST:PORT (e.g. 127.0.0.1:6514 or [::1]:6514)",
				    spec);
	hl = (size_t)(colon - spec);
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	} else if (memchr(spec, ':', hl)) {
		return alog_err_set(err, ALOG_EINVAL,
				    "--listen '%s': write an IPv6 address in brackets, e.g. [::1]:6514",
				    spec);
	}
	if (hl >= host_cap || strlen(colon + 1) >= port_cap ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return alog_err_set(err, ALOG_EINVAL,
				    "--listen '%s': bad host or port", spec);
	memcpy(host, spec, hl);
	host[hl] = 0;
	snprintf(port, port_cap, "%s", colon + 1);
	if (strtoul(port, NULL, 10) > 65535)
		return alog_err_set(err, ALOG_EINVAL,
				    "--listen '%s': port above 65535", spec);
	return 0;
}

static int is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;

		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) &&
		       a->sin6_addr.s6_addr[12] == 127;
	}
	return 0;
}

/* Resolve --listen (numeric or a name such as localhost). */
static int resolve_listen(const char *spec, struct addrinfo **out,
			  struct alog_err *err)
{
	struct addrinfo hints = { 0 };
	char host[256], port[8];
	int rc;

	*out = NULL;
	rc = split_listen(spec, host, sizeof(host), port, sizeof(port), err);
	if (rc < 0)
		return rc;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, out);
	if (rc != 0)
		return alog_err_set(err, ALOG_EINVAL, "--listen '%s': %s", spec,
				    gai_strerror(rc));
	return 0;
}

int alog_server_check_options(const struct alog_server_options *o,
			      struct alog_err *err)
{
	int n_tls = !!o->tls_cert + !!o->tls_key + !!o->tls_ca;

	if (!o->store_dir || !*o->store_dir)
		return alog_err_set(err, ALOG_EINVAL, "no store directory");
	if (o->socket_path && strlen(o->socket_path) > ALOG_SOCKET_PATH_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "socket path '%s' is %zu bytes; a Unix socket path holds at most %d (give a shorter --socket)",
				    o->socket_path, strlen(o->socket_path),
				    ALOG_SOCKET_PATH_MAX);
	if (!o->socket_path &&
	    strlen(o->store_dir) + strlen("/auditlog.sock") > ALOG_SOCKET_PATH_MAX)
		return alog_err_set(err, ALOG_ELIMIT,
				    "the default socket path '%s/auditlog.sock' is longer than %d bytes (give a shorter --socket)",
				    o->store_dir, ALOG_SOCKET_PATH_MAX);
	if (n_tls != 0 && n_tls != 3)
		return alog_err_set(err, ALOG_EINVAL,
				    "TLS needs all of --tls-cert, --tls-key and --tls-ca");
	if (n_tls && !o->listen)
		return alog_err_set(err, ALOG_EINVAL,
				    "--tls-cert, --tls-key and --tls-ca need --listen HOST:PORT");
	if (o->max_conns > ALOG_SERVER_CONNS_MAX)
		return alog_err_set(err, ALOG_EINVAL,
				    "at most %d connections (ALOG_SERVER_CONNS_MAX)",
				    ALOG_SERVER_CONNS_MAX);
	if (o->listen) {
		struct addrinfo *ai;
		int rc = resolve_listen(o->listen, &ai, err);

		if (rc < 0)
			return rc;
		if (!n_tls) {
			for (struct addrinfo *p = ai; p; p = p->ai_next) {
				if (!is_loopback(p->ai_addr)) {
					freeaddrinfo(ai);
					return alog_err_set(err, ALOG_EINVAL,
							    "--listen '%s' is not a loopback address: plain TCP carries no authentication, so it is only for local processes (127.0.0.0/8, ::1); give --tls-cert, --tls-key and --tls-ca to listen there",
							    o->listen);
				}
			}
		}
		freeaddrinfo(ai);
	}
	return 0;
}

/* The configuration hash of daemon.started: SHA-256 of the sorted
 * "key=value\n" lines of the effective options. */
static int config_hash(struct srv *s, struct alog_err *err)
{
	const struct alog_server_options *o = s->o;
	struct alog_buf b;
	unsigned char h[ALOG_HASH_LEN];
	int rc;

	alog_buf_init(&b, 1 << 16);
	rc = alog_buf_addf(&b, err,
			   "checkpoint_events=%" PRIu64 "\n"
			   "checkpoint_interval=%u\n"
			   "%s%s%s"
			   "idle_timeout=%u\n"
			   "key=%s\n"
			   "listen=%s\n"
			   "max_connections=%u\n"
			   "socket=%s\n"
			   "store=%s\n"
			   "tls_ca=%s\n"
			   "tls_cert=%s\n"
			   "tls_key=%s\n",
			   s->checkpoint_events, s->checkpoint_s,
			   o->config ? "config_file_sha256=" : "",
			   o->config ? o->config->hash_hex : "",
			   o->config ? "\n" : "", s->idle_s,
			   o->key_path ? o->key_path : "",
			   o->listen ? o->listen : "", s->max_conns,
			   s->socket_path, s->store_path,
			   o->tls_ca ? o->tls_ca : "",
			   o->tls_cert ? o->tls_cert : "",
			   o->tls_key ? o->tls_key : "");
	if (rc == 0)
		rc = alog_hasher_sha256(NULL, b.data, b.len, NULL, 0, h);
	if (rc < 0 && err && !err->code)
		alog_err_set(err, rc, "configuration hash");
	if (rc == 0)
		alog_hex_encode(h, ALOG_HASH_LEN, s->config_hash);
	alog_buf_release(&b);
	return rc;
}

/* ---- listeners ----------------------------------------------------- */

static int ep_add(struct srv *s, int fd, uint32_t ev, void *ptr,
		  struct alog_err *err)
{
	struct epoll_event e = { .events = ev, .data.ptr = ptr };

	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &e) < 0)
		return alog_err_sys(err, ALOG_EIO, errno, "epoll_ctl: %s",
				    strerror(errno));
	return 0;
}

/* Unix listener: refuse when a daemon answers on the path, remove a
 * stale socket, bind with mode 0660. */
static int listen_unix(struct srv *s, struct alog_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = s->socket_path;
	struct stat st;
	mode_t old;
	int fd = -1, rc = 0;

	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode))
			return alog_err_set(err, ALOG_EEXIST,
					    "'%s' exists and is not a socket: remove it or give another --socket",
					    path);
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0)
			return alog_err_sys(err, ALOG_EIO, errno, "socket: %s",
					    strerror(errno));
		if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			return alog_err_set(err, ALOG_EEXIST,
					    "a daemon already answers on socket '%s'",
					    path);
		}
		if (errno != ECONNREFUSED && errno != ENOENT) {
			rc = alog_err_sys(err, ALOG_EIO, errno,
					  "socket '%s' exists and cannot be checked: %s",
					  path, strerror(errno));
			close(probe);
			return rc;
		}
		close(probe);
		if (unlink(path) < 0 && errno != ENOENT)
			return alog_err_sys(err, ALOG_EIO, errno,
					    "remove stale socket '%s': %s", path,
					    strerror(errno));
		slog(s, "info", "removed a stale socket", "socket", path, NULL);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return alog_err_sys(err, ALOG_EIO, errno, "socket: %s",
				    strerror(errno));
	/* No thread runs yet: the umask covers the window before chmod. */
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = alog_err_sys(err, ALOG_EIO, errno, "bind socket '%s': %s",
				  path, strerror(errno));
		umask(old);
		goto out;
	}
	umask(old);
	if (chmod(path, 0660) < 0)
		rc = alog_err_sys(err, ALOG_EIO, errno, "chmod socket '%s': %s",
				  path, strerror(errno));
	else if (stat(path, &st) < 0)
		rc = alog_err_sys(err, ALOG_EIO, errno, "stat socket '%s': %s",
				  path, strerror(errno));
	else if (listen(fd, SOMAXCONN) < 0)
		rc = alog_err_sys(err, ALOG_EIO, errno, "listen on socket '%s': %s",
				  path, strerror(errno));
	if (rc < 0) {
		unlink(path);
		goto out;
	}
	s->sock_dev = st.st_dev;
	s->sock_ino = st.st_ino;
	s->unix_fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* "IP:PORT" or "[IP6]:PORT"; a v4-mapped address prints as IPv4. */
static void format_addr(const struct sockaddr_storage *ss, char *out,
			size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(out, cap, "%s:%u", ip, ntohs(a->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
			inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], ip,
				  sizeof(ip));
			snprintf(out, cap, "%s:%u", ip, ntohs(a->sin6_port));
		} else {
			inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
			snprintf(out, cap, "[%s]:%u", ip, ntohs(a->sin6_port));
		}
	} else {
		snprintf(out, cap, "?");
	}
}

static int listen_tcp(struct srv *s, struct alog_err *err)
{
	struct addrinfo *ai = NULL, *p;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = -1, one = 1, rc;

	rc = resolve_listen(s->o->listen, &ai, err);
	if (rc < 0)
		return rc;
	rc = alog_err_set(err, ALOG_EIO, "--listen '%s': no address",
			  s->o->listen);
	for (p = ai; p; p = p->ai_next) {
		fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC |
			    SOCK_NONBLOCK, p->ai_protocol);
		if (fd < 0) {
			rc = alog_err_sys(err, ALOG_EIO, errno, "socket: %s",
					  strerror(errno));
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, p->ai_addr, p->ai_addrlen) == 0 &&
		    listen(fd, SOMAXCONN) == 0) {
			rc = 0;
			break;
		}
		rc = alog_err_sys(err, ALOG_EIO, errno, "listen on '%s': %s",
				  s->o->listen, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (rc < 0)
		return rc;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		format_addr(&ss, s->tcp_addr, sizeof(s->tcp_addr));
	s->tcp_fd = fd;
	return 0;
}

static void close_listeners(struct srv *s)
{
	struct stat st;

	if (s->unix_fd >= 0) {
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->unix_fd, NULL);
		close(s->unix_fd);
		s->unix_fd = -1;
		/* Remove the path only if it is still our socket. */
		if (lstat(s->socket_path, &st) == 0 &&
		    st.st_dev == s->sock_dev && st.st_ino == s->sock_ino)
			unlink(s->socket_path);
	}
	if (s->tcp_fd >= 0) {
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->tcp_fd, NULL);
		close(s->tcp_fd);
		s->tcp_fd = -1;
	}
}

/* ---- answers (SPEC.md 15.2) ----------------------------------------- */

/* The answer line of a refusal: {"ok":false,"code":C,"retry":R,
 * "error":MSG}\n, MSG JSON-escaped. Returns NULL if out of memory. */
static char *answer_error(const char *code, int retry, const char *msg,
			  size_t *len)
{
	struct alog_buf b;
	char *p;

	alog_buf_init(&b, ANSWER_MAX);
	if (alog_buf_addf(&b, NULL, "{\"ok\":false,\"code\":\"%s\",\"retry\":%s,\"error\":",
			  code, retry ? "true" : "false") < 0)
		goto fail;
	if (alog_json_string_format(&b, msg, strlen(msg), NULL) < 0 &&
	    alog_buf_adds(&b, "\"(the message is not valid UTF-8)\"", NULL) < 0)
		goto fail;
	if (alog_buf_adds(&b, "}\n", NULL) < 0)
		goto fail;
	*len = b.len;
	p = (char *)b.data;
	return p; /* the buffer's memory moves to the caller */
fail:
	alog_buf_release(&b);
	return NULL;
}

static void item_set_error(struct item *it, const char *code, int retry,
			   const char *msg)
{
	free(it->text);
	it->text = answer_error(code, retry, msg, &it->text_len);
	it->ans = ANS_TEXT;
}

/* ---- the writer thread ---------------------------------------------- */

static int open_log(struct srv *s, struct alog_err *err)
{
	struct alog_store_recovery r;
	int rc;

	memset(&r, 0, sizeof(r));
	/* While the spool holds lines, a store.recovered event written by
	 * open takes the store's last received time (the log raises an
	 * earlier time to it), so that the spooled lines after it keep
	 * theirs (SPEC.md 17.8). */
	rc = alog_log_open(s->o->store_dir,
			   s->spooling ? 0 : alog_clock_now_us(),
			   &s->log, &r, err);
	if (r.cut || r.removed_segments) {
		char seg[24], from[24], cut[24], removed[24];

		slog(s, "warn", "store recovered at open (logged as store.recovered)",
		     "segment", u64s(seg, r.segment_id),
		     "committed_end", u64s(from, r.cut_from),
		     "cut_bytes", u64s(cut, r.cut_bytes),
		     "removed_segments", u64s(removed, r.removed_segments),
		     NULL);
	}
	if (rc == 0 && alog_log_last_received(s->log) > s->last_received)
		s->last_received = alog_log_last_received(s->log);
	return rc;
}

static void close_log(struct srv *s)
{
	alog_log_close(s->log);
	s->log = NULL;
}

/* Hand judged items back to the I/O thread. */
static void release(struct srv *s, struct item_list *batch)
{
	int was_empty;
	uint64_t one = 1;

	if (!batch->head)
		return;
	pthread_mutex_lock(&s->sh.mu);
	was_empty = s->sh.out.head == NULL;
	list_move(&s->sh.out, batch);
	pthread_mutex_unlock(&s->sh.mu);
	if (was_empty && write(s->wakefd, &one, sizeof(one)) < 0) {
		/* the counter is full: the I/O thread wakes anyway */
	}
}

/* -- the breaker of primary_store (SPEC.md 17.8) -- */

static void on_transition(void *ctx, const struct alog_breaker_transition *t)
{
	struct srv *s = ctx;
	char opens[24];

	if (s->n_trans == s->cap_trans && s->cap_trans < TRANS_MAX) {
		size_t cap = s->cap_trans ? 2 * s->cap_trans : 16;
		struct alog_breaker_transition *p =
			realloc(s->trans, cap * sizeof(*p));

		if (p) {
			s->trans = p;
			s->cap_trans = cap;
		}
	}
	if (s->n_trans == s->cap_trans && s->n_trans) {
		char at[24];

		slog(s, "error", "breaker transition dropped: too many waiting to be recorded",
		     "from", alog_breaker_state_name(s->trans[0].from),
		     "to", alog_breaker_state_name(s->trans[0].to),
		     "at_us", u64s(at, (uint64_t)s->trans[0].at_us), NULL);
		memmove(s->trans, s->trans + 1,
			(s->n_trans - 1) * sizeof(*s->trans));
		s->n_trans--;
	}
	if (s->n_trans < s->cap_trans)
		s->trans[s->n_trans++] = *t;
	slog(s, t->to == ALOG_BREAKER_CLOSED ? "info" : "warn",
	     "breaker transition", "component", ALOG_LOG_OWNED_COMPONENT,
	     "from", alog_breaker_state_name(t->from),
	     "to", alog_breaker_state_name(t->to),
	     "cause", alog_breaker_cause_name(t->cause),
	     "opens", u64s(opens, t->opens), NULL);
}

/* Every attempt to make something durable in the store is one call of
 * the breaker: begin admits it (0: the breaker refuses), end records it. */
static int call_begin(struct srv *s)
{
	if (!s->call_open) {
		if (!alog_breaker_allow(&s->breaker, alog_clock_now_us()))
			return 0;
		s->call_open = 1;
	}
	/* an admitted call may wait for its work: its attempt starts now
	 * (backup.activated's failed_at_us) */
	s->call_started_us = alog_clock_now_us();
	return 1;
}

static void call_end(struct srv *s, int ok, const char *why)
{
	if (!s->call_open)
		return;
	s->call_open = 0;
	if (!ok && !s->spooling && !s->fail_at_us) {
		/* the activation's first failure, for backup.activated */
		s->fail_at_us = s->call_started_us;
		snprintf(s->fail_msg, sizeof(s->fail_msg), "%s", why);
	}
	alog_breaker_record(&s->breaker, alog_clock_now_us(), ok);
}

/* SPEC.md 17.6: a producer's breaker.transition or health.probe must
 * name a component of the inventory (a daemon-owned one is refused by
 * the log as reserved_component). 1 when refused (the answer is set). */
static int unlisted_component(struct srv *s, struct item *it)
{
	const struct alog_event *ev = &it->ev;
	char msg[ALOG_EVENT_COMPONENT_MAX + 160];

	if (strcmp(ev->type, "breaker.transition") != 0 &&
	    strcmp(ev->type, "health.probe") != 0)
		return 0;
	if (ev->component_state == ALOG_COMPONENT_OTHER)
		return 0; /* the log's check says why */
	if (ev->component_state == ALOG_COMPONENT_PLAIN &&
	    alog_config_component_find(s->cfg, ev->component,
				       strlen(ev->component)))
		return 0;
	if (ev->component_state == ALOG_COMPONENT_PLAIN)
		snprintf(msg, sizeof(msg),
			 "component '%s' is not in the daemon's inventory (its configuration file)",
			 ev->component);
	else
		snprintf(msg, sizeof(msg),
			 "a %s event needs a \"component\" of the daemon's inventory",
			 ev->type);
	item_set_error(it, "unknown_component", 0, msg);
	return 1;
}

/* The answer of a line refused before judging (too long, not an event). */
static void judge_refused(struct item *it)
{
	char msg[80];

	if (it->kind == ITEM_TOO_LONG) {
		snprintf(msg, sizeof(msg), "line is longer than %d bytes",
			 ALOG_EVENT_LINE_MAX);
		item_set_error(it, "too_long", 0, msg);
		return;
	}
	it->ans = ANS_TEXT;
}

/* -- spool batches -- */

struct sprec {
	size_t ev_off, ev_len, prov_off, prov_len;
	int64_t received_us;
	char id[ALOG_EVENT_ID_MAX + 1];
};

struct spbatch {
	struct sprec *r;
	size_t n, cap;
	size_t n_trans;           /* transitions included */
	struct alog_buf bytes;    /* events and provenance objects */
};

static void sp_release(struct spbatch *b)
{
	free(b->r);
	alog_buf_release(&b->bytes);
}

static int64_t spool_time(struct srv *s)
{
	int64_t t = alog_clock_now_us();

	return t < s->last_received ? s->last_received : t;
}

static int sp_add(struct srv *s, struct spbatch *b, const void *event,
		  size_t len, const char *id,
		  const struct alog_provenance *prov, struct alog_err *err)
{
	struct sprec *r;
	int rc;

	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct sprec *p = realloc(b->r, cap * sizeof(*p));

		if (!p)
			return alog_err_set(err, ALOG_ENOMEM, "out of memory");
		b->r = p;
		b->cap = cap;
	}
	r = &b->r[b->n];
	r->ev_off = b->bytes.len;
	r->ev_len = len;
	rc = alog_buf_add(&b->bytes, event, len, err);
	if (rc < 0)
		return rc;
	r->prov_off = b->bytes.len;
	rc = alog_provenance_format(prov, &b->bytes, err);
	if (rc < 0)
		return rc;
	r->prov_len = b->bytes.len - r->prov_off;
	/* non-decreasing within the batch too (a clock that steps back) */
	r->received_us = spool_time(s);
	s->last_received = r->received_us;
	snprintf(r->id, sizeof(r->id), "%s", id);
	b->n++;
	return 0;
}

static int sp_add_internal(struct srv *s, struct spbatch *b, const char *type,
			   const char *members, struct alog_err *err)
{
	struct alog_provenance prov;
	struct alog_buf line;
	char id[40];
	int rc;

	alog_log_internal_provenance(&prov);
	alog_buf_init(&line, ALOG_EVENT_LINE_MAX);
	rc = alog_log_internal_line(&line, type, members, err);
	if (rc == 0)
		rc = alog_uuid7(alog_clock_now_us(), id, err);
	if (rc == 0)
		rc = sp_add(s, b, line.data, line.len, id, &prov, err);
	alog_buf_release(&line);
	return rc;
}

static int transition_members(struct alog_buf *m,
			      const struct alog_breaker_transition *t,
			      struct alog_err *err)
{
	char at[ALOG_TIME_TEXT_MAX];
	size_t start = m->len;
	int rc;

	/* the envelope's time is the transition's (SPEC.md 17.6) */
	if (alog_time_format(t->at_us, at) < 0)
		return alog_err_set(err, ALOG_EINVAL,
				    "transition time outside years 0000..9999");
	rc = alog_buf_addf(m, err, "\"time\":\"%s\",", at);
	if (rc == 0)
		rc = alog_breaker_transition_format(m, ALOG_LOG_OWNED_COMPONENT,
						    strlen(ALOG_LOG_OWNED_COMPONENT),
						    t, err);
	if (rc < 0)
		m->len = start;
	return rc;
}

/* Start a spool batch: backup.activated first when the spool is not in
 * use yet, then the breaker's pending transitions. */
static int sp_begin(struct srv *s, struct spbatch *b, struct alog_err *err)
{
	struct alog_buf m;
	int rc;

	memset(b, 0, sizeof(*b));
	alog_buf_init(&b->bytes, 0);
	rc = alog_spool_begin(s->spool, alog_clock_now_us(), err);
	if (rc < 0)
		return rc;
	alog_buf_init(&m, ALOG_EVENT_LINE_MAX);
	if (!s->spooling) {
		char at[ALOG_TIME_TEXT_MAX];
		int64_t fail = s->fail_at_us ? s->fail_at_us : alog_clock_now_us();

		alog_time_format(fail, at);
		rc = alog_buf_addf(&m, err, "\"component\":\"%s\",\"spool\":",
				   ALOG_LOG_OWNED_COMPONENT);
		if (rc == 0)
			rc = alog_json_string_format(&m, s->spool_path,
						     strlen(s->spool_path), err);
		if (rc == 0)
			rc = alog_buf_addf(&m, err,
					   ",\"file\":\"%s\",\"failed_at\":\"%s\",\"failed_at_us\":%" PRId64 ",\"error\":",
					   alog_spool_current_id(s->spool), at,
					   fail);
		if (rc == 0)
			rc = alog_json_string_format(&m, s->fail_msg,
						     strlen(s->fail_msg), err);
		if (rc == 0)
			rc = sp_add_internal(s, b, "backup.activated",
					     (const char *)m.data, err);
	}
	for (size_t i = 0; rc == 0 && i < s->n_trans; i++) {
		alog_buf_reset(&m);
		rc = transition_members(&m, &s->trans[i], err);
		if (rc == 0)
			rc = sp_add_internal(s, b, "breaker.transition",
					     (const char *)m.data, err);
	}
	b->n_trans = s->n_trans;
	alog_buf_release(&m);
	return rc;
}

/* Append the batch to the spool with one fsync. */
static int sp_commit(struct srv *s, struct spbatch *b, struct alog_err *err)
{
	struct alog_backup_spool_rec *recs;
	int rc;

	recs = calloc(b->n ? b->n : 1, sizeof(*recs));
	if (!recs)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	for (size_t i = 0; i < b->n; i++) {
		const struct sprec *r = &b->r[i];

		recs[i].event = (const char *)b->bytes.data + r->ev_off;
		recs[i].event_len = r->ev_len;
		recs[i].received_us = r->received_us;
		recs[i].id = r->id;
		recs[i].provenance = (const char *)b->bytes.data + r->prov_off;
		recs[i].provenance_len = r->prov_len;
	}
	rc = alog_spool_append(s->spool, recs, b->n, alog_clock_now_us(), err);
	free(recs);
	if (rc < 0) {
		char n[24];

		slog(s, "error", "the spool failed too: answering unavailable",
		     "lines", u64s(n, b->n), "error", err->msg, NULL);
		return rc;
	}
	if (!s->spooling) {
		char at[24];

		slog(s, "warn", "store failing: events go to the spool (logged as backup.activated)",
		     "spool", s->spool_path, "failed_at_us",
		     u64s(at, (uint64_t)s->fail_at_us), "error", s->fail_msg,
		     NULL);
	}
	s->spooling = 1;
	s->fail_at_us = 0;
	s->fail_msg[0] = 0;
	if (b->n && b->r[b->n - 1].received_us > s->last_received)
		s->last_received = b->r[b->n - 1].received_us;
	/* the transitions it holds are recorded; any later ones stay */
	if (b->n_trans) {
		memmove(s->trans, s->trans + b->n_trans,
			(s->n_trans - b->n_trans) * sizeof(*s->trans));
		s->n_trans -= b->n_trans;
	}
	return 0;
}

/* The breaker's pending transitions go to the spool (they reach the log
 * by replay, in order). */
static void spool_transitions(struct srv *s)
{
	struct spbatch b;
	struct alog_err err = { 0 };

	if (!s->n_trans)
		return;
	if (sp_begin(s, &b, &err) == 0)
		sp_commit(s, &b, &err);
	else
		slog(s, "error", "cannot spool the breaker's transitions",
		     "error", err.msg, NULL);
	sp_release(&b);
}

/*
 * Spool a list of items. judged = 0: the lines were not judged yet (the
 * checks that need no store run here, ids are assigned). judged = 1: a
 * batch the store failed to commit: its accepted lines are spooled as
 * judged; a duplicate of a line of the same batch (seq >= base) follows
 * its original into the spool. Every other answer stands.
 */
/* Whether the line's spool record stays within ALOG_BACKUP_LINE_MAX (the
 * id and the provenance come on top of the event: SPEC.md 16.4). */
static int spool_line_fits(const struct item *it)
{
	const struct alog_provenance *p = it->prov;
	size_t n = ALOG_BACKUP_SPOOL_OVERHEAD + it->ev.canon.len +
		   ALOG_EVENT_ID_MAX + 128;

	/* provenance strings may grow 6x when escaped */
	if (p->addr)
		n += 6 * strlen(p->addr);
	if (p->subject)
		n += 6 * strlen(p->subject);
	return n <= ALOG_BACKUP_LINE_MAX;
}

static void spool_items(struct srv *s, struct item_list *list, int judged,
			uint64_t base)
{
	struct spbatch b;
	struct alog_err err = { 0 };
	struct item *it;
	char msg[ALOG_ERR_MSG_MAX + 64];
	int rc;

	/* first what goes to the spool, and every other answer */
	for (it = list->head; it; it = it->next) {
		struct alog_submit res;
		struct alog_err jerr = { 0 };

		if (judged) {
			if (it->ans == ANS_DUP && it->seq >= base)
				it->ans = ANS_SPOOL_PENDING_DUP;
			else if (it->ans == ANS_SEQ)
				it->ans = ANS_SPOOL_PENDING;
		} else if (it->kind == ITEM_TOO_LONG || it->kind == ITEM_BAD) {
			judge_refused(it);
		} else if (alog_log_precheck(&it->ev,
					     alog_log_owner_trusted(&it->ev,
								    it->prov),
					     &res, &jerr)) {
			item_set_error(it, res.code, 0, jerr.msg);
		} else if (!unlisted_component(s, it) && !spool_line_fits(it)) {
			char why[160];

			snprintf(why, sizeof(why),
				 "the event and its provenance do not fit a spool line of %d bytes (the store is failing)",
				 ALOG_BACKUP_LINE_MAX);
			item_set_error(it, "too_long", 1, why);
		} else if (it->ans == ANS_NONE) {
			it->ans = ANS_SPOOL_PENDING;
		}
	}
	rc = sp_begin(s, &b, &err);
	for (it = list->head; rc == 0 && it; it = it->next) {
		if (it->ans != ANS_SPOOL_PENDING)
			continue;
		if (!it->ev.id[0])
			rc = alog_uuid7(alog_clock_now_us(), it->ev.id, &err);
		if (rc == 0)
			rc = sp_add(s, &b, it->ev.canon.data, it->ev.canon.len,
				    it->ev.id, it->prov, &err);
	}
	if (rc == 0)
		rc = sp_commit(s, &b, &err);
	sp_release(&b);
	snprintf(msg, sizeof(msg), "the store and the spool failed: %s",
		 err.msg);
	for (it = list->head; it; it = it->next) {
		if (it->ans != ANS_SPOOL_PENDING &&
		    it->ans != ANS_SPOOL_PENDING_DUP)
			continue;
		if (rc == 0)
			it->ans = ANS_SPOOLED;
		else
			item_set_error(it, "unavailable", 1, msg);
	}
	if (rc == 0)
		s->stored_spool += b.n;
	release(s, list);
}

static void do_checkpoint(struct srv *s);

/* After a failed commit: did it reach the disk anyway? Only an LMDB
 * commit whose outcome is unknown can have; a read-only open (which
 * writes nothing, so it works on a full disk) tells. 1: it did, 0: it
 * did not, -1: unknown. */
static int settled(struct srv *s, uint64_t want)
{
	struct alog_store *ro = NULL;
	struct alog_err err = { 0 };
	int rc;

	if (alog_store_open(s->o->store_dir, ALOG_STORE_RDONLY, &ro, NULL,
			    &err) < 0) {
		slog(s, "error", "cannot tell whether the failed commit reached the disk",
		     "error", err.msg, NULL);
		return -1;
	}
	rc = alog_store_size(ro) == want;
	alog_store_close(ro);
	if (rc == 1) {
		/* What a read sees may be only in the page cache (the sync
		 * that failed was LMDB's): make it durable before it is
		 * acknowledged, or answer unavailable. */
		char path[PATH_MAX];
		int fd;

		snprintf(path, sizeof(path), "%s/index/data.mdb",
			 s->o->store_dir);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0) {
			slog(s, "error", "the failed commit is visible but can't be made durable",
			     "file", path, "error", strerror(errno), NULL);
			rc = -1;
		}
		if (fd >= 0)
			close(fd);
	}
	return rc;
}

/* Commit what is pending, then release the batch. A failed commit sends
 * the batch to the spool (SPEC.md 17.8), unless it did reach the disk;
 * when that can't be told, the lines are answered unavailable. */
static void commit_batch(struct srv *s, struct item_list *batch,
			 size_t accepted)
{
	struct alog_err err = { 0 };
	uint64_t old_size, n;
	int rc, unknown;

	if (!s->log || alog_log_pending(s->log) == 0) {
		release(s, batch);
		return;
	}
	n = alog_log_pending(s->log);
	old_size = alog_store_size(alog_log_store(s->log));
	if (!call_begin(s)) {
		alog_log_discard(s->log);
		spool_items(s, batch, 1, old_size);
		return;
	}
	rc = alog_log_commit(s->log, &err);
	call_end(s, rc == 0, err.msg);
	if (rc < 0) {
		char lines[24];

		unknown = alog_store_failed(alog_log_store(s->log));
		slog(s, "error", "commit failed", "lines", u64s(lines, n),
		     "error", err.msg, NULL);
		close_log(s);
		rc = unknown ? settled(s, old_size + n) : 0;
		if (rc == 0) {
			spool_items(s, batch, 1, old_size);
			spool_transitions(s);
			return;
		}
		if (rc < 0) {
			char msg[ALOG_ERR_MSG_MAX + 64];

			snprintf(msg, sizeof(msg),
				 "the store failed to commit: %s", err.msg);
			for (struct item *it = batch->head; it; it = it->next)
				if (it->ans == ANS_SEQ || it->ans == ANS_DUP)
					item_set_error(it, "unavailable", 1,
						       msg);
			release(s, batch);
			spool_transitions(s);
			return;
		}
		slog(s, "warn",
		     "the failed commit did reach the disk: the batch is stored",
		     NULL);
	}
	s->stored += accepted;
	s->since_checkpoint += n;
	release(s, batch);
	spool_transitions(s);
	/* --checkpoint-events: checked after every commit, so a checkpoint
	 * comes at most one batch after the count was reached. */
	if (s->log && !s->spooling &&
	    s->since_checkpoint >= s->checkpoint_events)
		do_checkpoint(s);
}

/* Judge one line into the pending batch. 0, or a negative code when the
 * store failed (the line was not judged). */
static int judge(struct srv *s, struct item *it, size_t *accepted)
{
	struct alog_submit res;
	struct alog_err err = { 0 };
	int rc, trusted;

	if (it->kind == ITEM_TOO_LONG || it->kind == ITEM_BAD) {
		judge_refused(it);
		return 0;
	}
	trusted = alog_log_owner_trusted(&it->ev, it->prov);
	if (alog_log_precheck(&it->ev, trusted, &res, &err)) {
		item_set_error(it, res.code, 0, err.msg);
		return 0;
	}
	if (unlisted_component(s, it))
		return 0;
	rc = alog_log_submit_parsed(s->log, &it->ev, it->prov,
				    alog_clock_now_us(), trusted, &res, &err);
	if (rc < 0) {
		slog(s, "error", "a line could not be judged", "error", err.msg,
		     NULL);
		return rc;
	}
	switch (res.status) {
	case ALOG_SUBMIT_ACCEPTED:
		it->ans = ANS_SEQ;
		it->seq = res.index;
		(*accepted)++;
		break;
	case ALOG_SUBMIT_DUPLICATE:
		it->ans = ANS_DUP;
		it->seq = res.index;
		break;
	default:
		item_set_error(it, res.code ? res.code : "not_json", 0,
			       err.msg[0] ? err.msg : "refused");
		break;
	}
	return 0;
}

/* Open the store as a breaker call. 0 when it is open. */
static int ensure_log(struct srv *s)
{
	struct alog_err err = { 0 };
	int rc;

	if (s->log)
		return 0;
	if (!call_begin(s))
		return ALOG_EBUSY;
	rc = open_log(s, &err);
	if (rc < 0) {
		slog(s, "error", "cannot open the store", "error", err.msg,
		     NULL);
		call_end(s, 0, err.msg);
		spool_transitions(s);
		return rc;
	}
	/* opening is not yet a write: the call goes on to the commit */
	return 0;
}

/* Judge a list of items in order; commit when the batch is full and at
 * the end; release each batch's items after its commit. While the spool
 * is in use, everything goes there. */
static void judge_all(struct srv *s, struct item_list *list)
{
	struct item_list batch;
	size_t accepted = 0;
	struct item *it;

	if (!s->spooling && ensure_log(s) < 0) {
		spool_items(s, list, 0, 0);
		return;
	}
	if (s->spooling) {
		spool_items(s, list, 0, 0);
		return;
	}
	list_init(&batch);
	while ((it = list->head) != NULL) {
		list->head = it->next;
		if (!list->head)
			list->tail = &list->head;
		list->n--;
		if (s->log && it->kind != ITEM_TOO_LONG &&
		    alog_log_batch_full(s->log)) {
			commit_batch(s, &batch, accepted);
			accepted = 0;
		}
		if (s->spooling || !s->log) {
			/* an earlier batch of this list failed */
			list_push(&batch, it);
			continue;
		}
		if (judge(s, it, &accepted) < 0)
			item_set_error(it, "unavailable", 1,
				       "the line could not be judged; see the daemon's log");
		list_push(&batch, it);
	}
	if (s->spooling || !s->log) {
		/* lines after a failure: judged = 0 spools the unjudged */
		spool_items(s, &batch, 0, 0);
		return;
	}
	commit_batch(s, &batch, accepted);
}

/* -- replay of the spool (SPEC.md 17.9) -- */

static void take_incoming(struct srv *s, struct item_list *list)
{
	pthread_mutex_lock(&s->sh.mu);
	list_move(list, &s->sh.in);
	pthread_mutex_unlock(&s->sh.mu);
}

/* After each committed replay batch: that call succeeded; live events
 * that came meanwhile go to the spool (except while the last file is
 * replayed: they wait, and reach the store directly after it); the next
 * batch is a new call. */
static int stop_asked(struct srv *s)
{
	int stop;

	pthread_mutex_lock(&s->sh.mu);
	stop = s->sh.stop;
	pthread_mutex_unlock(&s->sh.mu);
	return stop;
}

static int replay_after_batch(void *ctx)
{
	struct srv *s = ctx;

	call_end(s, 1, "");
	if (stop_asked(s))
		return ALOG_EBUSY; /* shutdown: the rest replays at the next start */
	if (!s->draining) {
		struct item_list list;

		list_init(&list);
		take_incoming(s, &list);
		if (list.head)
			spool_items(s, &list, 0, 0);
		spool_transitions(s);
	}
	return call_begin(s) ? 0 : ALOG_EBUSY;
}

static void replay_note(void *ctx, const struct alog_replay_note *n)
{
	struct srv *s = ctx;
	char line[24], idx[24];

	if (strcmp(n->outcome, "duplicate") == 0)
		return;
	slog(s, "warn", n->outcome[0] == 'c' ?
	     "spool replay: conflict (the same source and id is stored with another event)" :
	     "spool replay: line refused",
	     "line", u64s(line, n->line), "code", n->code ? n->code : "",
	     "stored_index", u64s(idx, n->index), "error", n->msg, NULL);
}

/* The breaker's transitions held while the last spool file was replayed
 * go to the log directly (the spool is drained). */
static void log_transitions(struct srv *s)
{
	struct alog_buf m;
	struct alog_err err = { 0 };
	int rc = 0;

	alog_buf_init(&m, ALOG_EVENT_LINE_MAX);
	while (s->n_trans && rc == 0) {
		if (ensure_log(s) < 0 || !call_begin(s))
			break;
		alog_buf_reset(&m);
		rc = transition_members(&m, &s->trans[0], &err);
		if (rc == 0)
			rc = alog_log_append_internal(s->log, "breaker.transition",
						      (const char *)m.data,
						      alog_clock_now_us(), NULL,
						      &err);
		call_end(s, rc == 0, err.msg);
		if (rc < 0) {
			slog(s, "error", "cannot log a breaker transition",
			     "error", err.msg, NULL);
			close_log(s);
			break;
		}
		memmove(s->trans, s->trans + 1,
			(s->n_trans - 1) * sizeof(*s->trans));
		s->n_trans--;
	}
	alog_buf_release(&m);
	if (s->n_trans)
		spool_transitions(s);
}

/* Replay spool files while the breaker admits calls. */
static void try_replay(struct srv *s)
{
	char path[ALOG_SPOOL_PATH_MAX];

	s->next_replay_ms = mono_ms() + 1000; /* unless it drains */
	while (s->spooling && !stop_asked(s)) {
		struct alog_replay_opts o;
		struct alog_replay_result res;
		struct alog_err err = { 0 };
		char a[24], d[24], c[24], r[24];
		int rc;

		rc = alog_spool_oldest(s->spool, path, sizeof(path), &err);
		if (rc == ALOG_ENOTFOUND && alog_spool_has_current(s->spool)) {
			/* replay reached the current file: seal it, live
			 * events start a new one */
			rc = alog_spool_seal(s->spool, &err);
			if (rc < 0)
				slog(s, "warn", "cannot seal the spool file (replayed unsealed)",
				     "error", err.msg, NULL);
			continue;
		}
		if (rc == ALOG_ENOTFOUND) {
			s->spooling = 0;
			break;
		}
		if (rc < 0 || !call_begin(s))
			break;
		if (!s->log && open_log(s, &err) < 0) {
			slog(s, "error", "cannot open the store", "error",
			     err.msg, NULL);
			call_end(s, 0, err.msg);
			spool_transitions(s);
			break;
		}
		memset(&o, 0, sizeof(o));
		o.origin = ALOG_REPLAY_SPOOL;
		o.drained = s->draining = alog_spool_last(s->spool);
		o.after_batch = replay_after_batch;
		o.note = replay_note;
		o.ctx = s;
		rc = alog_replay_file(s->log, path, &o, &res, &err);
		s->draining = 0;
		if (rc == ALOG_ENOTFOUND && res.file_bad) {
			/* gone: nothing to replay, and not the store's fault */
			slog(s, "error", "spool file disappeared: dropped from the spool",
			     "file", path, "error", err.msg, NULL);
			alog_spool_forget_oldest(s->spool);
			continue;
		}
		if (rc < 0 && res.file_bad) {
			struct alog_err qerr = { 0 };

			slog(s, "error", "spool file does not verify or can't be read: quarantined, not imported",
			     "file", path, "error", err.msg, NULL);
			if (alog_spool_quarantine_oldest(s->spool, err.msg,
							 &qerr) < 0) {
				slog(s, "error", "cannot quarantine the spool file",
				     "file", path, "error", qerr.msg, NULL);
				break;
			}
			continue;
		}
		if (rc == ALOG_EBUSY)
			break; /* the breaker admits no more calls now */
		if (rc < 0) {
			slog(s, "error", "spool replay failed", "file", path,
			     "error", err.msg, NULL);
			call_end(s, 0, err.msg);
			close_log(s);
			spool_transitions(s);
			break;
		}
		if (res.clamped) {
			char cl[24];

			slog(s, "warn", "spool replay: received times raised to a later one the store held (another writer stored it while the spool waited)",
			     "file", path, "lines", u64s(cl, res.clamped), NULL);
		}
		slog(s, "info", "spool file replayed", "file", path,
		     "imported", u64s(a, res.imported),
		     "duplicates", u64s(d, res.duplicates),
		     "conflicts", u64s(c, res.conflicts),
		     "refused", u64s(r, res.refused), NULL);
		rc = alog_spool_remove_oldest(s->spool, &err);
		if (rc < 0) {
			slog(s, "error", "cannot remove the replayed spool file",
			     "file", path, "error", err.msg, NULL);
			break;
		}
		if (o.drained) {
			s->spooling = 0;
			slog(s, "info", "spool drained: events go to the store again",
			     NULL);
		}
	}
	if (!s->spooling) {
		s->next_replay_ms = 0;
		log_transitions(s);
	}
}

static void do_checkpoint(struct srv *s)
{
	struct alog_store_checkpoint ck = { 0 };
	struct alog_err err = { 0 };
	int rc;

	s->since_checkpoint = 0;
	s->next_checkpoint_ms = mono_ms() + (int64_t)s->checkpoint_s * 1000;
	/* none while spooling: the store is what fails (SPEC.md 17.8) */
	if (s->spooling || ensure_log(s) < 0 || !call_begin(s))
		return;
	rc = alog_log_checkpoint(s->log, s->o->signer, alog_clock_now_us(),
				 &ck, &err);
	call_end(s, rc == 0, err.msg);
	if (rc < 0) {
		slog(s, "error", "checkpoint failed", "error", err.msg, NULL);
		close_log(s);
		spool_transitions(s);
		return;
	}
	if (alog_store_checkpoint_count(alog_log_store(s->log)) !=
	    s->n_checkpoints) {
		char seq[24], size[24];

		s->n_checkpoints =
			alog_store_checkpoint_count(alog_log_store(s->log));
		slog(s, "info", "checkpoint signed", "checkpoint",
		     u64s(seq, ck.seq), "size", u64s(size, ck.size), NULL);
	}
	alog_store_checkpoint_release(&ck);
}

static const char *signal_name(int signo)
{
	switch (signo) {
	case SIGTERM: return "SIGTERM";
	case SIGINT: return "SIGINT";
	default: return "signal";
	}
}

/* daemon.stopped, the breaker's last transitions, then the final
 * checkpoint. What the store can't take (it is failing, or the spool is
 * not drained) goes to the spool, without the checkpoint. */
static int finish(struct srv *s, struct alog_err *err)
{
	struct alog_store_checkpoint ck = { 0 };
	struct spbatch b;
	char members[256], n[24];
	int rc, stopped = 0;

	snprintf(members, sizeof(members),
		 "\"pid\":%ld,\"reason\":\"signal\",\"signal_name\":\"%s\",\"events\":%" PRIu64,
		 (long)getpid(), signal_name(s->signo), s->stored);
	if (!s->spooling && ensure_log(s) == 0 && call_begin(s)) {
		rc = alog_log_append_internal(s->log, "daemon.stopped", members,
					      alog_clock_now_us(), NULL, err);
		call_end(s, rc == 0, err->msg);
		if (rc == 0) {
			stopped = 1;
		} else {
			slog(s, "error", "cannot write daemon.stopped to the store",
			     "error", err->msg, NULL);
			close_log(s);
			alog_err_clear(err);
		}
	}
	/* a call's success may close the breaker: record that too, before
	 * the checkpoint that covers it (a few rounds at most) */
	for (int round = 0; stopped && round < 4; round++) {
		if (s->n_trans)
			log_transitions(s);
		if (s->spooling || !s->log || !call_begin(s))
			break;
		rc = alog_log_checkpoint(s->log, s->o->signer,
					 alog_clock_now_us(), &ck, err);
		call_end(s, rc == 0, err->msg);
		if (rc < 0) {
			slog(s, "error", "final checkpoint failed", "error",
			     err->msg, NULL);
			close_log(s);
			alog_err_clear(err);
			break;
		}
		{
			char seq[24], size[24];

			slog(s, "info", "final checkpoint signed", "checkpoint",
			     u64s(seq, ck.seq), "size", u64s(size, ck.size),
			     NULL);
		}
		alog_store_checkpoint_release(&ck);
		if (!s->n_trans) {
			slog(s, "info", "daemon stopped", "events",
			     u64s(n, s->stored), NULL);
			return 0;
		}
	}
	/* the rest goes to the spool: daemon.stopped unless stored, and the
	 * transitions not recorded yet */
	rc = sp_begin(s, &b, err);
	if (rc == 0 && !stopped)
		rc = sp_add_internal(s, &b, "daemon.stopped", members, err);
	if (rc == 0)
		rc = sp_commit(s, &b, err);
	sp_release(&b);
	if (rc < 0) {
		alog_err_prefix(err, "writing daemon.stopped");
		return rc;
	}
	rc = alog_spool_seal(s->spool, err);
	if (rc < 0)
		return rc;
	slog(s, "warn", "daemon stopped with events in the spool: they are replayed into the store at the next start",
	     "spool", s->spool_path,
	     "files", u64s(n, alog_spool_count(s->spool)), NULL);
	return 0;
}

/* When the writer must wake next (monotonic ms); INT64_MAX: only for
 * work. */
static int64_t next_wake_ms(struct srv *s)
{
	int64_t at = INT64_MAX, dl = alog_breaker_next_deadline(&s->breaker);

	if (!s->spooling)
		at = s->next_checkpoint_ms;
	if (dl != INT64_MAX) {
		int64_t left = (dl - alog_clock_now_us()) / 1000 + 1;
		int64_t t = mono_ms() + (left > 0 ? left : 0);

		if (t < at)
			at = t;
	}
	if (s->spooling &&
	    alog_breaker_state(&s->breaker) != ALOG_BREAKER_OPEN &&
	    s->next_replay_ms < at)
		at = s->next_replay_ms;
	return at;
}

static void *writer_main(void *arg)
{
	struct srv *s = arg;
	struct item_list list;
	struct alog_err err = { 0 };
	uint64_t one = 1;
	int stop, rc;

	for (;;) {
		pthread_mutex_lock(&s->sh.mu);
		while (!s->sh.in.head && !s->sh.stop &&
		       mono_ms() < next_wake_ms(s)) {
			struct timespec ts;
			int64_t at = next_wake_ms(s);

			if (at > mono_ms() + 3600 * 1000)
				at = mono_ms() + 3600 * 1000;
			ts.tv_sec = at / 1000;
			ts.tv_nsec = (at % 1000) * 1000000;
			pthread_cond_timedwait(&s->sh.cv, &s->sh.mu, &ts);
		}
		list_init(&list);
		list_move(&list, &s->sh.in);
		stop = s->sh.stop;
		pthread_mutex_unlock(&s->sh.mu);
		/* the breaker's timer: open -> half_open at its deadline */
		if (alog_breaker_tick(&s->breaker, alog_clock_now_us()))
			s->next_replay_ms = 0;
		if (s->n_trans && s->spooling)
			spool_transitions(s);
		if (list.head)
			judge_all(s, &list);
		if (!stop && s->spooling && mono_ms() >= s->next_replay_ms)
			try_replay(s);
		if (s->n_trans) {
			if (s->spooling)
				spool_transitions(s);
			else
				log_transitions(s);
		}
		if (!stop && !s->spooling &&
		    (s->since_checkpoint >= s->checkpoint_events ||
		     mono_ms() >= s->next_checkpoint_ms))
			do_checkpoint(s);
		if (stop && !list.head)
			break;
	}
	rc = finish(s, &err);
	if (rc < 0)
		slog(s, "error", "shutdown did not complete", "error", err.msg,
		     NULL);
	close_log(s);
	pthread_mutex_lock(&s->sh.mu);
	s->sh.done = 1;
	s->sh.rc = rc;
	s->sh.err = err;
	pthread_mutex_unlock(&s->sh.mu);
	if (write(s->wakefd, &one, sizeof(one)) < 0) {
		/* the counter is full: the I/O thread wakes anyway */
	}
	return NULL;
}

/* ---- connections: the I/O thread ------------------------------------ */

static size_t out_pending(const struct conn *c)
{
	return c->out.len - c->out_off;
}

/* May more of c's lines go to the writer now? */
static int can_queue(const struct srv *s, const struct conn *c)
{
	return c->inflight < ALOG_SERVER_INFLIGHT_MAX &&
	       c->inflight_bytes < ALOG_SERVER_INFLIGHT_BYTES_MAX &&
	       out_pending(c) < ALOG_SERVER_OUT_MAX &&
	       s->inflight_bytes < ALOG_SERVER_QUEUE_BYTES_MAX;
}

static int can_read(const struct srv *s, const struct conn *c)
{
	return !c->dead && !c->rd_closed && !c->handshaking &&
	       can_queue(s, c);
}

static void ep_set(struct srv *s, struct conn *c, uint32_t want)
{
	struct epoll_event e = { .events = want, .data.ptr = &c->src };

	if (c->registered && c->events == want)
		return;
	if (c->registered && epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &e) == 0) {
		c->events = want;
		return;
	}
	if (!c->registered && epoll_ctl(s->epfd, EPOLL_CTL_ADD, c->fd, &e) == 0) {
		c->registered = 1;
		c->events = want;
	}
}

static void ep_remove(struct srv *s, struct conn *c)
{
	if (c->registered)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	c->registered = 0;
	c->events = 0;
}

static void conn_free(struct srv *s, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_conns--;
	if (c->try_read)
		s->n_try--;
	alog_tls_conn_free(c->tls);
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	alog_buf_release(&c->out);
	free(c);
	if (s->accept_paused) {
		/* A descriptor is free again: accept again. */
		s->accept_paused = 0;
		if (s->unix_fd >= 0)
			ep_add(s, s->unix_fd, EPOLLIN, &s->src_unix, NULL);
		if (s->tcp_fd >= 0)
			ep_add(s, s->tcp_fd, EPOLLIN, &s->src_tcp, NULL);
	}
}

/* Bytes of a final line without its newline (lost at disconnect). */
static uint64_t partial_bytes(const struct conn *c)
{
	const unsigned char *p = c->in + c->in_start;
	size_t n = c->in_end - c->in_start;
	const unsigned char *nl;

	if (c->skipping)
		return c->skipped + n;
	/* After the last newline (complete lines not yet queued are counted
	 * separately by the caller). */
	nl = n ? memrchr(p, '\n', n) : NULL;
	return nl ? (uint64_t)(p + n - nl - 1) : n;
}

static uint64_t unqueued_lines(const struct conn *c)
{
	uint64_t k = 0;

	for (size_t i = c->in_start; i < c->in_end; i++)
		k += c->in[i] == '\n';
	return k;
}

/* Close c's socket now (reason for the diagnostics); its items in flight
 * are answered into the void; reap() frees c afterwards. */
static void conn_close(struct srv *s, struct conn *c, const char *level,
		       const char *reason)
{
	char id[24], lines[24], answered[24], bytes[24], dropped[24], pid[24];
	const char *peer_key = c->transport == T_UNIX ? "pid" : "peer";
	const char *peer = c->transport == T_UNIX ?
			   u64s(pid, (uint64_t)c->prov.pid) : c->addr;
	uint64_t partial, unqueued;

	if (c->dead)
		return;
	partial = partial_bytes(c);
	unqueued = unqueued_lines(c);
	if (partial)
		slog(s, "warn", "partial line lost at disconnect", "conn",
		     conn_ids(c, id), "bytes", u64s(bytes, partial), NULL);
	if (unqueued)
		slog(s, "warn", "complete lines not read before the disconnect",
		     "conn", conn_ids(c, id), "lines", u64s(dropped, unqueued),
		     NULL);
	slog(s, level, "connection closed", "conn", conn_ids(c, id), peer_key,
	     peer, "reason", reason, "lines", u64s(lines, c->lines),
	     "answered", u64s(answered, c->answered), NULL);
	ep_remove(s, c);
	if (c->tls && !c->handshaking && !c->hup)
		alog_tls_close(c->tls);
	alog_tls_conn_free(c->tls);
	c->tls = NULL;
	close(c->fd);
	c->fd = -1;
	c->dead = 1;
	c->in_start = c->in_end = 0;
	c->skipping = 0;
	if (c->try_read) {
		c->try_read = 0;
		s->n_try--;
	}
	/* Freed by reap() once nothing of it is in flight: callers may
	 * still look at c (c->dead) until the loop iteration ends. */
}

static void mark_try(struct srv *s, struct conn *c)
{
	if (!c->try_read) {
		c->try_read = 1;
		s->n_try++;
	}
}

/* Queue one item for the writer (at the end of this loop iteration). A
 * line is parsed here, on the I/O thread: the writer only judges
 * (reserved type, deduplication) and stores. */
static int push_item(struct srv *s, struct conn *c, int kind,
		     const unsigned char *line, size_t len)
{
	struct item *it = malloc(sizeof(*it));
	struct alog_err err = { 0 };

	if (!it)
		return ALOG_ENOMEM;
	memset(it, 0, sizeof(*it));
	alog_event_init(&it->ev);
	it->conn = c;
	it->prov = &c->prov;
	it->kind = kind;
	it->len = len;
	if (kind == ITEM_LINE &&
	    alog_event_parse(&it->ev, (const char *)line, len, &err) < 0) {
		if (it->ev.reject == ALOG_REJECT_NONE) {
			/* operational, e.g. out of memory */
			slog(s, "error", "a line could not be judged", "error",
			     err.msg, NULL);
			it->text = answer_error("unavailable", 1, err.msg,
						&it->text_len);
		} else {
			it->text = answer_error(alog_reject_name(it->ev.reject),
						0, err.msg[0] ? err.msg :
						"refused", &it->text_len);
		}
		if (!it->text) {
			item_free(it);
			return ALOG_ENOMEM;
		}
		it->kind = ITEM_BAD;
	} else if (kind == ITEM_LINE) {
		/* hashed here, not by the writer */
		alog_event_id_key(&it->ev, s->hasher);
	}
	/* what the item holds; empty lines cost too */
	it->cost = sizeof(*it) + it->ev.canon.cap + it->text_len;
	list_push(&s->pend, it);
	c->inflight++;
	c->inflight_bytes += len;
	s->inflight_lines++;
	s->inflight_bytes += it->cost;
	c->lines++;
	return 0;
}

/* Frame the buffered bytes into lines (SPEC.md 10.1) and queue them,
 * while c may queue more (or always, when force). */
static void conn_extract(struct srv *s, struct conn *c, int force)
{
	while (c->in_start < c->in_end) {
		unsigned char *p = c->in + c->in_start;
		size_t avail = c->in_end - c->in_start, len;
		unsigned char *nl;
		int rc;

		if (!force && !can_queue(s, c))
			break;
		nl = memchr(p, '\n', avail);
		if (!nl) {
			if (c->skipping) {
				c->skipped += avail;
				c->in_start = c->in_end;
			} else if (avail > (size_t)ALOG_EVENT_LINE_MAX + 1) {
				/* Too long whatever follows: keep nothing. */
				c->skipping = 1;
				c->skipped = avail;
				c->in_start = c->in_end;
			}
			break;
		}
		len = (size_t)(nl - p);
		c->in_start += len + 1;
		if (c->skipping) {
			c->skipping = 0;
			c->skipped = 0;
			rc = push_item(s, c, ITEM_TOO_LONG, NULL, 0);
		} else {
			if (len && p[len - 1] == '\r')
				len--;
			if (len > ALOG_EVENT_LINE_MAX)
				rc = push_item(s, c, ITEM_TOO_LONG, NULL, 0);
			else
				rc = push_item(s, c, ITEM_LINE, p, len);
		}
		if (rc < 0) {
			conn_close(s, c, "error", "out of memory");
			return;
		}
	}
	if (c->in_start == c->in_end)
		c->in_start = c->in_end = 0;
}

/* Read once (plain) or while the TLS layer holds bytes; frame. */
static void conn_read(struct srv *s, struct conn *c, int force)
{
	for (int round = 0; round < 4; round++) {
		struct alog_err err = { 0 };
		size_t got = 0;
		int rc = 0;

		if (c->dead || c->rd_closed || (!force && !can_read(s, c)))
			return;
		if (c->in_start > 0) {
			memmove(c->in, c->in + c->in_start,
				c->in_end - c->in_start);
			c->in_end -= c->in_start;
			c->in_start = 0;
		}
		if (c->in_end >= IN_CAP)
			return; /* full of lines that wait for the limits */
		if (c->tls) {
			c->rd_wants_write = 0;
			rc = alog_tls_read(c->tls, c->in + c->in_end,
					   IN_CAP - c->in_end, &got, &err);
			if (rc == ALOG_TLS_WANT_READ)
				return;
			if (rc == ALOG_TLS_WANT_WRITE) {
				c->rd_wants_write = 1;
				return;
			}
		} else {
			ssize_t r = recv(c->fd, c->in + c->in_end,
					 IN_CAP - c->in_end, MSG_DONTWAIT);

			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
				      errno == EINTR))
				return;
			if (r < 0)
				rc = alog_err_sys(&err, ALOG_EIO, errno,
						  "read: %s", strerror(errno));
			else
				got = (size_t)r;
		}
		if (rc < 0) {
			conn_close(s, c, "warn", err.msg);
			return;
		}
		if (got == 0) {
			c->eof = 1;
			c->rd_closed = 1;
			return;
		}
		c->in_end += got;
		c->bytes_in += got;
		c->active_ms = mono_ms();
		conn_extract(s, c, force);
		if (c->dead)
			return;
		if (!c->tls || alog_tls_pending(c->tls) == 0)
			return;
	}
	mark_try(s, c); /* more is buffered: come back next iteration */
}

static void conn_flush(struct srv *s, struct conn *c)
{
	while (!c->dead && out_pending(c) > 0) {
		struct alog_err err = { 0 };
		size_t n = 0;
		int rc = 0;

		if (c->tls) {
			c->wr_wants_read = 0;
			rc = alog_tls_write(c->tls, c->out.data + c->out_off,
					    out_pending(c), &n, &err);
			if (rc == ALOG_TLS_WANT_WRITE)
				return;
			if (rc == ALOG_TLS_WANT_READ) {
				c->wr_wants_read = 1;
				return;
			}
		} else {
			ssize_t r = send(c->fd, c->out.data + c->out_off,
					 out_pending(c),
					 MSG_DONTWAIT | MSG_NOSIGNAL);

			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
				      errno == EINTR))
				return;
			if (r < 0)
				rc = alog_err_sys(&err, ALOG_EIO, errno,
						  "write: %s", strerror(errno));
			else
				n = (size_t)r;
		}
		if (rc < 0) {
			conn_close(s, c, "warn", err.msg);
			return;
		}
		c->out_off += n;
		c->active_ms = mono_ms();
	}
	if (!c->dead && c->out_off == c->out.len) {
		c->out_off = 0;
		c->out.len = 0;
	}
}

/* Register what c waits for; close it when it is finished. */
static void conn_update(struct srv *s, struct conn *c)
{
	uint32_t want = 0;

	if (c->dead)
		return;
	/* Finished: nothing more to read, every line answered and sent
	 * (complete lines still buffered wait for the global limit, unless
	 * we are stopping: then they were all queued). */
	if (c->rd_closed && c->inflight == 0 && out_pending(c) == 0 &&
	    !c->handshaking && (s->stopping || unqueued_lines(c) == 0)) {
		conn_close(s, c, "info", c->eof ? "eof" : "shutdown");
		return;
	}
	if (c->handshaking) {
		want = (uint32_t)c->hs_want;
	} else {
		if (can_read(s, c) || c->wr_wants_read)
			want |= EPOLLIN;
		if (out_pending(c) > 0 || c->rd_wants_write)
			want |= EPOLLOUT;
	}
	if (c->hup && !(want & EPOLLOUT) && !can_read(s, c)) {
		/* Nothing to do with a hung-up socket until the limits let
		 * us read what it left: keep HUP from waking us meanwhile. */
		ep_remove(s, c);
		return;
	}
	if (c->hup && can_read(s, c))
		mark_try(s, c);
	if (c->tls && can_read(s, c) && alog_tls_pending(c->tls) > 0)
		mark_try(s, c);
	ep_set(s, c, want);
}

static void conn_opened_log(struct srv *s, struct conn *c)
{
	char id[24], uid[24], gid[24], pid[24];

	if (c->transport == T_UNIX)
		slog(s, "info", "connection opened", "conn", conn_ids(c, id),
		     "transport", "unix", "uid", u64s(uid, (uint64_t)c->prov.uid),
		     "gid", u64s(gid, (uint64_t)c->prov.gid),
		     "pid", u64s(pid, (uint64_t)c->prov.pid), NULL);
	else if (c->transport == T_TCP)
		slog(s, "info", "connection opened", "conn", conn_ids(c, id),
		     "transport", "tcp", "peer", c->addr, NULL);
	else
		slog(s, "info", "connection opened", "conn", conn_ids(c, id),
		     "transport", "tls", "peer", c->addr, "subject", c->subject,
		     NULL);
}

static void conn_handshake(struct srv *s, struct conn *c)
{
	struct alog_err err = { 0 };
	int rc = alog_tls_handshake(c->tls, &err);

	if (rc == ALOG_TLS_WANT_READ) {
		c->hs_want = EPOLLIN;
		return;
	}
	if (rc == ALOG_TLS_WANT_WRITE) {
		c->hs_want = EPOLLOUT;
		return;
	}
	if (rc < 0) {
		char id[24];

		slog(s, "warn", "tls handshake failed", "conn", conn_ids(c, id),
		     "peer", c->addr, "error", err.msg, NULL);
		c->hup = 1; /* no close_notify on a failed handshake */
		conn_close(s, c, "info", "tls handshake failed");
		return;
	}
	c->handshaking = 0;
	c->active_ms = mono_ms();
	alog_tls_peer_subject(c->tls, c->subject, sizeof(c->subject));
	if (!c->subject[0]) {
		char id[24];

		slog(s, "warn", "tls client refused: its certificate subject is empty or too long",
		     "conn", conn_ids(c, id), "peer", c->addr, NULL);
		conn_close(s, c, "info", "no usable certificate subject");
		return;
	}
	c->prov.subject = c->subject;
	conn_opened_log(s, c);
	mark_try(s, c);
}

static void refuse_overloaded(struct srv *s, int fd, int tls,
			      const char *peer)
{
	char msg[128], max[24];
	size_t len;
	char *line;

	snprintf(msg, sizeof(msg),
		 "the server is at its limit of %u connections; try again later",
		 s->max_conns);
	slog(s, "warn", "connection refused: too many connections", "peer",
	     peer, "max_connections", u64s(max, s->max_conns), NULL);
	if (!tls) {
		unsigned char sink[4096];

		line = answer_error("overloaded", 1, msg, &len);
		if (line && send(fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* best effort: the client sees the close */
		}
		free(line);
		/* Unread input makes close() send a reset that could destroy
		 * the answer in flight: read what is there first. */
		while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
		shutdown(fd, SHUT_WR);
	}
	close(fd);
}

static void accept_conns(struct srv *s, int lfd, int is_unix)
{
	for (int k = 0; k < ACCEPT_BATCH; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct conn *c;
		char peer[ADDR_MAX] = "unix";
		int fd, one = 1;

		fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				slog(s, "error", "cannot accept: out of descriptors or memory; pausing until a connection closes",
				     "error", strerror(errno), NULL);
				if (s->unix_fd >= 0)
					epoll_ctl(s->epfd, EPOLL_CTL_DEL,
						  s->unix_fd, NULL);
				if (s->tcp_fd >= 0)
					epoll_ctl(s->epfd, EPOLL_CTL_DEL,
						  s->tcp_fd, NULL);
				s->accept_paused = 1;
			}
			return; /* EAGAIN, or a connection that died early */
		}
		if (!is_unix)
			format_addr(&ss, peer, sizeof(peer));
		if (s->n_conns >= s->max_conns) {
			refuse_overloaded(s, fd, !is_unix && s->tls, peer);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c) {
			c->in = malloc(IN_CAP);
			alog_buf_init(&c->out, OUT_BUF_MAX);
		}
		if (!c || !c->in) {
			slog(s, "error", "cannot accept: out of memory", NULL);
			if (c)
				free(c->in);
			free(c);
			close(fd);
			continue;
		}
		c->src.kind = SRC_CONN;
		c->fd = fd;
		c->id = ++s->next_id;
		c->active_ms = mono_ms();
		c->prov.uid = c->prov.gid = c->prov.pid = -1;
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->n_conns++;
		if (is_unix) {
			struct ucred cr;
			socklen_t cl = sizeof(cr);

			c->transport = T_UNIX;
			c->prov.transport = "unix";
			if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0) {
				slog(s, "error", "SO_PEERCRED failed: connection closed",
				     "error", strerror(errno), NULL);
				c->hup = 1;
				conn_close(s, c, "warn", "no peer credentials");
				continue;
			}
			c->prov.uid = cr.uid;
			c->prov.gid = cr.gid;
			c->prov.pid = cr.pid;
			conn_opened_log(s, c);
		} else {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
			snprintf(c->addr, sizeof(c->addr), "%s", peer);
			c->prov.addr = c->addr;
			if (s->tls) {
				struct alog_err err = { 0 };

				c->transport = T_TLS;
				c->prov.transport = "tls";
				c->handshaking = 1;
				c->hs_want = EPOLLIN;
				if (alog_tls_conn_new(s->tls, fd, 1, &c->tls,
						      &err) < 0) {
					slog(s, "error", "tls connection",
					     "error", err.msg, NULL);
					c->hup = 1;
					conn_close(s, c, "warn", "tls setup failed");
					continue;
				}
			} else {
				c->transport = T_TCP;
				c->prov.transport = "tcp";
				conn_opened_log(s, c);
			}
		}
		conn_update(s, c);
	}
}

static void handle_conn(struct srv *s, struct conn *c, uint32_t ev)
{
	if (c->dead)
		return;
	if (ev & (EPOLLHUP | EPOLLERR))
		c->hup = 1;
	if (c->handshaking) {
		conn_handshake(s, c);
		if (c->dead)
			return;
		if (c->handshaking) {
			if (c->hup)
				conn_close(s, c, "info", "hung up during the tls handshake");
			else
				conn_update(s, c);
			return;
		}
	}
	if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) ||
	    ((ev & EPOLLOUT) && c->rd_wants_write) || c->try_read) {
		if (c->try_read) {
			c->try_read = 0;
			s->n_try--;
		}
		conn_read(s, c, 0);
	}
	if (!c->dead && ((ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) ||
			 ((ev & EPOLLIN) && c->wr_wants_read)))
		conn_flush(s, c);
	if (!c->dead)
		conn_update(s, c);
}

/* Append the answer of item it to c's buffer. */
static int append_answer(struct conn *c, const struct item *it)
{
	char line[64];
	int n;

	switch (it->ans) {
	case ANS_SEQ:
		n = snprintf(line, sizeof(line), "{\"ok\":true,\"seq\":%" PRIu64 "}\n",
			     it->seq);
		return alog_buf_add(&c->out, line, (size_t)n, NULL);
	case ANS_DUP:
		n = snprintf(line, sizeof(line),
			     "{\"ok\":true,\"duplicate\":true,\"seq\":%" PRIu64 "}\n",
			     it->seq);
		return alog_buf_add(&c->out, line, (size_t)n, NULL);
	case ANS_SPOOLED:
		return alog_buf_addf(&c->out, NULL,
				     "{\"ok\":true,\"spooled\":true,\"id\":\"%s\"}\n",
				     it->ev.id);
	case ANS_TEXT:
		if (it->text)
			return alog_buf_add(&c->out, it->text, it->text_len,
					    NULL);
		return alog_buf_adds(&c->out,
				     "{\"ok\":false,\"code\":\"unavailable\",\"retry\":true,\"error\":\"out of memory\"}\n",
				     NULL);
	default:
		return ALOG_EINVAL;
	}
}

/* Answers came back from the writer: hand them to their connections. */
static void take_answers(struct srv *s)
{
	struct item_list l;
	uint64_t v;
	struct item *it;

	if (read(s->wakefd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing new */
	}
	list_init(&l);
	pthread_mutex_lock(&s->sh.mu);
	list_move(&l, &s->sh.out);
	if (s->sh.done)
		s->writer_done = 1;
	pthread_mutex_unlock(&s->sh.mu);
	while ((it = l.head) != NULL) {
		struct conn *c = it->conn;

		l.head = it->next;
		c->inflight--;
		c->inflight_bytes -= it->len;
		s->inflight_lines--;
		s->inflight_bytes -= it->cost;
		if (!c->dead) {
			if (c->out_off > 0 && c->out_off >= c->out.len / 2) {
				memmove(c->out.data, c->out.data + c->out_off,
					c->out.len - c->out_off);
				c->out.len -= c->out_off;
				c->out_off = 0;
			}
			if (append_answer(c, it) < 0) {
				item_free(it);
				conn_close(s, c, "error",
					   "answer buffer limit (out of memory?)");
				continue;
			}
			c->answered++;
		}
		item_free(it);
	}
	/* Answers free room everywhere (the global limit too): give every
	 * connection its chance, oldest last. */
	for (struct conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (c->dead)
			continue;
		conn_flush(s, c);
		if (c->dead)
			continue;
		if (!c->handshaking)
			conn_extract(s, c, s->stopping);
		if (!c->dead)
			conn_update(s, c);
	}
}

static void hand_to_writer(struct srv *s)
{
	if (!s->pend.head)
		return;
	pthread_mutex_lock(&s->sh.mu);
	list_move(&s->sh.in, &s->pend);
	pthread_cond_signal(&s->sh.cv);
	pthread_mutex_unlock(&s->sh.mu);
}

static void check_idle(struct srv *s)
{
	int64_t now = mono_ms();

	if (now < s->idle_check_ms)
		return;
	s->idle_check_ms = now + 1000;
	for (struct conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (!c->dead && c->inflight == 0 &&
		    now - c->active_ms >= (int64_t)s->idle_s * 1000)
			conn_close(s, c, "info", "idle timeout");
	}
}

/* SIGTERM/SIGINT: stop accepting, read what each connection already
 * sent (at most ALOG_SERVER_DRAIN_MAX bytes), queue every complete line. */
static void begin_shutdown(struct srv *s, int signo)
{
	char conns[24];

	s->stopping = 1;
	s->signo = signo;
	s->flush_deadline_ms = -1;
	slog(s, "info", "shutting down", "signal", signal_name(signo),
	     "connections", u64s(conns, s->n_conns), NULL);
	close_listeners(s);
	for (struct conn *c = s->conns, *next; c; c = next) {
		uint64_t start;

		next = c->next;
		if (c->dead)
			continue;
		if (c->handshaking) {
			c->hup = 1;
			conn_close(s, c, "info", "shutdown during the tls handshake");
			continue;
		}
		conn_extract(s, c, 1);
		start = c->bytes_in;
		while (!c->dead && !c->rd_closed &&
		       c->bytes_in - start < ALOG_SERVER_DRAIN_MAX) {
			uint64_t before = c->bytes_in;

			conn_read(s, c, 1);
			if (c->bytes_in == before)
				break; /* nothing more now, or the peer closed */
		}
		if (c->dead)
			continue;
		if (c->try_read) {
			c->try_read = 0;
			s->n_try--;
		}
		c->rd_closed = 1;
		conn_update(s, c);
	}
}

static int read_signal(struct srv *s)
{
	struct signalfd_siginfo si;

	if (read(s->sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

/* Free closed connections that have nothing in flight any more (the one
 * place that frees a connection while the server runs). */
static void reap(struct srv *s)
{
	for (struct conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (c->dead && c->inflight == 0)
			conn_free(s, c);
	}
}

/* The I/O loop; returns when the shutdown is complete. */
static void io_loop(struct srv *s)
{
	struct epoll_event evs[EPOLL_EVENTS];

	for (;;) {
		int timeout = -1, n;

		if (s->n_try)
			timeout = 0;
		else if (s->stopping)
			timeout = 100;
		else if (s->n_conns)
			timeout = 1000;
		n = epoll_wait(s->epfd, evs, EPOLL_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			slog(s, "error", "epoll_wait failed", "error",
			     strerror(errno), NULL);
			n = 0;
		}
		for (int i = 0; i < n; i++) {
			struct source *src = evs[i].data.ptr;

			switch (src->kind) {
			case SRC_LISTEN_UNIX:
				if (!s->stopping)
					accept_conns(s, s->unix_fd, 1);
				break;
			case SRC_LISTEN_TCP:
				if (!s->stopping)
					accept_conns(s, s->tcp_fd, 0);
				break;
			case SRC_SIGNAL: {
				int signo = read_signal(s);

				if (signo && !s->stopping)
					begin_shutdown(s, signo);
				else if (signo)
					slog(s, "info", "already shutting down",
					     "signal", signal_name(signo), NULL);
				break;
			}
			case SRC_WAKE:
				take_answers(s);
				break;
			default:
				handle_conn(s, (struct conn *)src, evs[i].events);
				break;
			}
		}
		if (s->n_try) {
			for (struct conn *c = s->conns, *next; c; c = next) {
				next = c->next;
				if (!c->try_read)
					continue;
				c->try_read = 0;
				s->n_try--;
				if (c->dead)
					continue;
				if (c->handshaking)
					conn_handshake(s, c);
				else
					conn_read(s, c, 0);
				if (!c->dead)
					conn_update(s, c);
			}
		}
		hand_to_writer(s);
		if (!s->stopping) {
			if (s->idle_s)
				check_idle(s);
			reap(s);
			continue;
		}
		/* Shutting down: once every line read has its answer, the
		 * writer logs daemon.stopped and the final checkpoint while
		 * the answers drain to their clients. */
		if (!s->stop_sent && s->inflight_lines == 0 && !s->pend.head) {
			pthread_mutex_lock(&s->sh.mu);
			s->sh.stop = 1;
			pthread_cond_signal(&s->sh.cv);
			pthread_mutex_unlock(&s->sh.mu);
			s->stop_sent = 1;
			s->flush_deadline_ms = mono_ms() +
				ALOG_SERVER_SHUTDOWN_FLUSH_S * 1000;
		}
		for (struct conn *c = s->conns, *next; c; c = next) {
			next = c->next;
			if (!c->dead)
				conn_update(s, c);
		}
		if (s->stop_sent && mono_ms() >= s->flush_deadline_ms) {
			for (struct conn *c = s->conns, *next; c; c = next) {
				next = c->next;
				if (!c->dead)
					conn_close(s, c, "warn",
						   "shutdown: answers not read in time");
			}
		}
		reap(s);
		if (s->writer_done && s->n_conns == 0)
			return;
	}
}

/* ---- start and stop --------------------------------------------------- */

static int check_signer(struct srv *s, struct alog_err *err)
{
	const struct alog_verifier *own = alog_store_vkey(alog_log_store(s->log));
	struct alog_verifier v;

	if (!s->o->signer)
		return alog_err_set(err, ALOG_EINVAL, "no signing key");
	alog_signer_verifier(s->o->signer, &v);
	if (v.key_id != own->key_id || strcmp(v.name, own->name) != 0 ||
	    memcmp(v.pub, own->pub, sizeof(v.pub)) != 0)
		return alog_err_set(err, ALOG_EINVAL,
				    "the signing key '%s' is not the key of store '%s' (give the store's key with --key)",
				    s->o->key_path ? s->o->key_path : v.name,
				    s->o->store_dir);
	return 0;
}

static int json_str(struct alog_buf *b, const char *s, struct alog_err *err)
{
	int rc = alog_json_string_format(b, s, strlen(s), err);

	if (rc < 0)
		alog_err_prefix(err, "path '%s'", s);
	return rc;
}

static int log_started(struct srv *s, struct alog_err *err)
{
	struct alog_buf m;
	int rc;

	alog_buf_init(&m, ALOG_EVENT_LINE_MAX / 2);
	rc = alog_buf_addf(&m, err, "\"version\":");
	if (rc == 0)
		rc = json_str(&m, s->version, err);
	if (rc == 0)
		rc = alog_buf_addf(&m, err,
				   ",\"pid\":%ld,\"config_hash\":\"%s\",\"store\":",
				   (long)getpid(), s->config_hash);
	if (rc == 0)
		rc = json_str(&m, s->store_path, err);
	if (rc == 0)
		rc = alog_buf_adds(&m, ",\"config_file\":", err);
	if (rc == 0 && s->o->config_path)
		rc = json_str(&m, s->o->config_path, err);
	else if (rc == 0)
		rc = alog_buf_adds(&m, "null", err);
	if (rc == 0)
		rc = alog_buf_addf(&m, err, ",\"config_file_sha256\":%s%s%s",
				   s->o->config ? "\"" : "",
				   s->o->config ? s->o->config->hash_hex : "null",
				   s->o->config ? "\"" : "");
	if (rc == 0)
		rc = alog_buf_adds(&m, ",\"spool\":", err);
	if (rc == 0)
		rc = json_str(&m, s->spool_path, err);
	if (rc == 0)
		rc = alog_buf_addf(&m, err, ",\"spool_same_device\":%s",
				   s->spool_same_device ? "true" : "false");
	if (rc == 0 && !s->spooling && call_begin(s)) {
		rc = alog_log_append_internal(s->log, "daemon.started",
					      (const char *)m.data,
					      alog_clock_now_us(), NULL, err);
		call_end(s, rc == 0, err->msg);
		if (rc < 0) {
			slog(s, "error", "cannot write daemon.started to the store",
			     "error", err->msg, NULL);
			close_log(s);
			alog_err_clear(err);
		} else {
			goto out;
		}
	}
	if (rc == 0) {
		/* the spool holds events from before: this one goes after
		 * them, so the log keeps their order */
		struct spbatch b;

		rc = sp_begin(s, &b, err);
		if (rc == 0)
			rc = sp_add_internal(s, &b, "daemon.started",
					     (const char *)m.data, err);
		if (rc == 0)
			rc = sp_commit(s, &b, err);
		sp_release(&b);
	}
out:
	if (rc < 0)
		alog_err_prefix(err, "writing daemon.started");
	alog_buf_release(&m);
	return rc;
}

/* The spool's path; and whether it holds files from before, read before
 * the store is opened, so that a store.recovered event written by that
 * open does not pass the spooled lines' received times (SPEC.md 17.8). */
static int locate_spool(struct srv *s, struct alog_err *err)
{
	if (s->o->spool_dir) {
		s->spool_path = strdup(s->o->spool_dir);
	} else {
		size_t n = strlen(s->store_path);

		s->spool_path = malloc(n + sizeof("/spool"));
		if (s->spool_path) {
			memcpy(s->spool_path, s->store_path, n);
			memcpy(s->spool_path + n, "/spool", sizeof("/spool"));
		}
	}
	if (!s->spool_path)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	s->spooling = alog_spool_peek(s->spool_path) > 0;
	return 0;
}

/* The configuration, the breaker of primary_store and the spool
 * (SPEC.md 17.8): only the newest spool file's tail is read. */
static int setup_spool(struct srv *s, struct alog_err *err)
{
	const struct alog_config_component *c;
	struct alog_spool_start st;
	struct stat a, b;
	char *real;
	int rc;

	s->cfg = s->o->config;
	if (!s->cfg) {
		rc = alog_config_builtin(&s->builtin, err);
		if (rc < 0)
			return rc;
		s->cfg = &s->builtin;
	}
	c = alog_config_component_find(s->cfg, ALOG_CONFIG_PRIMARY_STORE,
				       strlen(ALOG_CONFIG_PRIMARY_STORE));
	if (!c)
		return alog_err_set(err, ALOG_EINVAL,
				    "the configuration has no %s component",
				    ALOG_CONFIG_PRIMARY_STORE);
	rc = alog_breaker_init(&s->breaker, &c->breaker, alog_clock_now_us(),
			       on_transition, s, err);
	if (rc < 0)
		return rc;
	rc = alog_spool_open(s->spool_path, &s->spool, &st, err);
	if (rc < 0) {
		alog_err_prefix(err, "spool");
		return rc;
	}
	real = realpath(s->spool_path, NULL);
	if (real) {
		free(s->spool_path);
		s->spool_path = real;
	}
	s->spool_same_device = stat(s->spool_path, &a) == 0 &&
			       stat(s->store_path, &b) == 0 &&
			       a.st_dev == b.st_dev;
	if (st.cut_bytes) {
		char off[24], bytes[24];

		slog(s, "warn", "spool: cut a torn last line (never acknowledged)",
		     "file", st.cut_file, "offset", u64s(off, st.cut_offset),
		     "bytes", u64s(bytes, st.cut_bytes), NULL);
	}
	if (st.corrupt_file[0])
		slog(s, "error", "spool: the newest file's tail is corrupt (replay will quarantine it)",
		     "file", st.corrupt_file, "error", st.corrupt_msg, NULL);
	s->spooling = st.files > 0;
	if (st.files) {
		char files[24];

		slog(s, "warn", "spool holds events from before: replaying them into the store",
		     "spool", s->spool_path, "files", u64s(files, st.files),
		     NULL);
	}
	return 0;
}

static int setup(struct srv *s, struct alog_err *err)
{
	const struct alog_server_options *o = s->o;
	pthread_condattr_t ca;
	sigset_t set;
	char *real;
	uint64_t tree_size;
	int rc;

	s->idle_s = o->idle_timeout_s ? o->idle_timeout_s : ALOG_SERVER_IDLE_S;
	s->checkpoint_s = o->checkpoint_s ? o->checkpoint_s
					  : ALOG_SERVER_CHECKPOINT_S;
	s->checkpoint_events = o->checkpoint_events ? o->checkpoint_events
					: ALOG_SERVER_CHECKPOINT_EVENTS;
	s->max_conns = o->max_conns ? o->max_conns : ALOG_SERVER_CONNS_MAX;
	s->version = o->version ? o->version : "";
	real = realpath(o->store_dir, NULL);
	s->store_path = real ? real : strdup(o->store_dir);
	if (o->socket_path) {
		s->socket_path = strdup(o->socket_path);
	} else {
		size_t n = strlen(o->store_dir);

		s->socket_path = malloc(n + sizeof("/auditlog.sock"));
		if (s->socket_path) {
			memcpy(s->socket_path, o->store_dir, n);
			memcpy(s->socket_path + n, "/auditlog.sock",
			       sizeof("/auditlog.sock"));
		}
	}
	if (!s->store_path || !s->socket_path)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->sh.cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&s->sh.mu, NULL);
	list_init(&s->sh.in);
	list_init(&s->sh.out);
	list_init(&s->pend);
	rc = config_hash(s, err);
	if (rc < 0)
		return rc;

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->epfd < 0 || s->wakefd < 0 || s->sigfd < 0)
		return alog_err_sys(err, ALOG_EIO, errno,
				    "epoll, eventfd or signalfd: %s",
				    strerror(errno));
	s->src_unix.kind = SRC_LISTEN_UNIX;
	s->src_tcp.kind = SRC_LISTEN_TCP;
	s->src_sig.kind = SRC_SIGNAL;
	s->src_wake.kind = SRC_WAKE;
	rc = ep_add(s, s->sigfd, EPOLLIN, &s->src_sig, err);
	if (rc == 0)
		rc = ep_add(s, s->wakefd, EPOLLIN, &s->src_wake, err);
	if (rc < 0)
		return rc;
	if (o->tls_cert) {
		rc = alog_tls_server_new(o->tls_cert, o->tls_key, o->tls_ca,
					 &s->tls, err);
		if (rc < 0)
			return rc;
	}

	/* The store first: its lock tells a second daemon on the same store
	 * to go away before it touches the first one's socket. */
	rc = locate_spool(s, err);
	if (rc == 0)
		rc = open_log(s, err);
	if (rc < 0)
		return rc;
	rc = setup_spool(s, err);
	if (rc < 0)
		return rc;
	rc = check_signer(s, err);
	if (rc < 0)
		return rc;
	s->n_checkpoints = alog_store_checkpoint_count(alog_log_store(s->log));
	rc = listen_unix(s, err);
	if (rc == 0 && o->listen)
		rc = listen_tcp(s, err);
	if (rc < 0)
		return rc;
	rc = log_started(s, err);
	if (rc < 0)
		return rc;
	rc = ep_add(s, s->unix_fd, EPOLLIN, &s->src_unix, err);
	if (rc == 0 && s->tcp_fd >= 0)
		rc = ep_add(s, s->tcp_fd, EPOLLIN, &s->src_tcp, err);
	if (rc < 0)
		return rc;
	s->next_checkpoint_ms = mono_ms() + (int64_t)s->checkpoint_s * 1000;
	/* read before the writer starts: from then on it owns the log (it
	 * may close it at once, to replay the spool) */
	tree_size = s->log ? alog_store_size(alog_log_store(s->log)) : 0;
	rc = pthread_create(&s->writer, NULL, writer_main, s);
	if (rc != 0)
		return alog_err_sys(err, ALOG_EIO, rc, "cannot start the writer thread: %s",
				    strerror(rc));
	s->writer_started = 1;
	{
		char size[24], pid[24];

		slog(s, "info", "listening", "transport", "unix", "socket",
		     s->socket_path, NULL);
		if (s->tcp_fd >= 0)
			slog(s, "info", "listening", "transport",
			     s->tls ? "tls" : "tcp", "addr", s->tcp_addr, NULL);
		slog(s, "info", "daemon started", "pid",
		     u64s(pid, (uint64_t)getpid()), "store", s->store_path,
		     "tree_size", u64s(size, tree_size),
		     "version", s->version, NULL);
	}
	return 0;
}

static void teardown(struct srv *s)
{
	while (s->conns) {
		struct conn *c = s->conns;

		c->inflight = 0; /* its items are freed below, unread */
		if (!c->dead) {
			c->hup = 1;
			conn_close(s, c, "warn", "shutdown");
		}
		conn_free(s, c);
	}
	for (int k = 0; k < 3; k++) {
		struct item_list *l = k == 0 ? &s->pend :
				      k == 1 ? &s->sh.out : &s->sh.in;

		while (l->head) {
			struct item *it = l->head;

			l->head = it->next;
			item_free(it);
		}
	}
	close_listeners(s);
	alog_log_close(s->log);
	alog_tls_ctx_free(s->tls);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->wakefd >= 0)
		close(s->wakefd);
	pthread_cond_destroy(&s->sh.cv);
	pthread_mutex_destroy(&s->sh.mu);
	alog_spool_close(s->spool);
	alog_config_release(&s->builtin);
	free(s->trans);
	free(s->spool_path);
	free(s->store_path);
	free(s->socket_path);
}

int alog_server_run(const struct alog_server_options *o, struct alog_err *err)
{
	struct srv *s;
	int rc;

	rc = alog_server_check_options(o, err);
	if (rc < 0)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	s->o = o;
	s->epfd = s->sigfd = s->wakefd = s->unix_fd = s->tcp_fd = -1;
	pthread_mutex_init(&s->log_mu, NULL);
	rc = alog_hasher_new(&s->hasher, err);
	if (rc == 0)
		rc = setup(s, err);
	if (rc < 0)
		goto out;
	if (o->ready_fn)
		o->ready_fn(o->ready_ctx);
	io_loop(s);
	pthread_join(s->writer, NULL);
	s->writer_started = 0;
	rc = s->sh.rc;
	if (rc < 0 && err)
		*err = s->sh.err;
out:
	if (s->writer_started) {
		pthread_mutex_lock(&s->sh.mu);
		s->sh.stop = 1;
		pthread_cond_signal(&s->sh.cv);
		pthread_mutex_unlock(&s->sh.mu);
		pthread_join(s->writer, NULL);
	}
	teardown(s);
	alog_hasher_free(s->hasher);
	pthread_mutex_destroy(&s->log_mu);
	free(s);
	return rc;
}
