/*
 * loadgen: a test producer for `auditlog serve` (tests/cli/test_serve.py),
 * and the test of ingest/tls.h's client side in blocking mode.
 *
 * P producers (threads), each on its own connection (Unix socket, TCP or
 * TLS), send N events {"type":"load.test","id":"TAG-p-i","source":
 * "loadgen","n":i} in windows of W lines: write a window, then read its W
 * answers (one thread per connection: an SSL object is not shared between
 * threads, and a bounded window never fills the daemon's buffers).
 *
 * Output, one JSON object per line: per producer
 *   {"producer":p,"ok":n,"duplicate":n,"refused":n,"ordered":true|false,
 *    "first_seq":s,"last_seq":s}
 * then {"events":N,"seconds":x,"per_second":y}. Exit 0 when every line got
 * an answer, 1 otherwise (the reason on stderr, e.g. a refused certificate).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ingest/tls.h"

struct cfg {
	const char *unix_path, *tcp, *cert, *key, *ca, *host, *tag;
	unsigned producers, count, window;
	struct alog_tls_ctx *tls;
};

struct prod {
	const struct cfg *cfg;
	unsigned p;
	pthread_t th;
	int fd;
	struct alog_tls_conn *t;
	uint64_t ok, dup, refused, first_seq, last_seq;
	int ordered, failed;
	char why[600];
	char rbuf[1 << 16];
	size_t rlen;
};

static int dial(struct prod *pr)
{
	const struct cfg *c = pr->cfg;

	if (c->unix_path) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (strlen(c->unix_path) >= sizeof(sa.sun_path))
			return snprintf(pr->why, sizeof(pr->why), "socket path too long"), -1;
		memcpy(sa.sun_path, c->unix_path, strlen(c->unix_path) + 1);
		pr->fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (pr->fd < 0 || connect(pr->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return snprintf(pr->why, sizeof(pr->why), "connect '%s': %s",
					c->unix_path, strerror(errno)), -1;
		return 0;
	}
	{
		char host[256];
		const char *colon = strrchr(c->tcp, ':');
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
		size_t hl;
		int one = 1, rc;

		if (!colon)
			return snprintf(pr->why, sizeof(pr->why), "--tcp HOST:PORT"), -1;
		hl = (size_t)(colon - c->tcp);
		if (hl >= sizeof(host))
			return snprintf(pr->why, sizeof(pr->why), "host too long"), -1;
		memcpy(host, c->tcp, hl);
		host[hl] = 0;
		if (host[0] == '[') {
			memmove(host, host + 1, hl);
			host[strcspn(host, "]")] = 0;
		}
		rc = getaddrinfo(host, colon + 1, &hints, &ai);
		if (rc)
			return snprintf(pr->why, sizeof(pr->why), "%s", gai_strerror(rc)), -1;
		pr->fd = socket(ai->ai_family, SOCK_STREAM, 0);
		if (pr->fd < 0 || connect(pr->fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			snprintf(pr->why, sizeof(pr->why), "connect '%s': %s", c->tcp,
				 strerror(errno));
			freeaddrinfo(ai);
			return -1;
		}
		freeaddrinfo(ai);
		setsockopt(pr->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (c->tls) {
		struct alog_err err = { 0 };

		if (alog_tls_conn_new(c->tls, pr->fd, 0, &pr->t, &err) < 0 ||
		    (c->host && alog_tls_conn_set_host(pr->t, c->host, &err) < 0) ||
		    alog_tls_handshake(pr->t, &err) != 0)
			return snprintf(pr->why, sizeof(pr->why), "%s", err.msg), -1;
	}
	return 0;
}

static int put(struct prod *pr, const char *p, size_t n)
{
	while (n > 0) {
		size_t done = 0;

		if (pr->t) {
			struct alog_err err = { 0 };
			int rc = alog_tls_write(pr->t, p, n, &done, &err);

			if (rc != 0)
				return snprintf(pr->why, sizeof(pr->why), "%s",
						rc < 0 ? err.msg : "tls write wants more (blocking socket?)"), -1;
		} else {
			ssize_t r = send(pr->fd, p, n, MSG_NOSIGNAL);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return snprintf(pr->why, sizeof(pr->why), "write: %s",
						strerror(errno)), -1;
			done = (size_t)r;
		}
		p += done;
		n -= done;
	}
	return 0;
}

/* One answer line into line (NUL-terminated, no newline). */
static int get_line(struct prod *pr, char *line, size_t cap)
{
	for (;;) {
		char *nl = memchr(pr->rbuf, '\n', pr->rlen);
		size_t got = 0;

		if (nl) {
			size_t n = (size_t)(nl - pr->rbuf);

			if (n >= cap)
				n = cap - 1;
			memcpy(line, pr->rbuf, n);
			line[n] = 0;
			pr->rlen -= (size_t)(nl - pr->rbuf) + 1;
			memmove(pr->rbuf, nl + 1, pr->rlen);
			return 0;
		}
		if (pr->rlen == sizeof(pr->rbuf))
			return snprintf(pr->why, sizeof(pr->why), "answer too long"), -1;
		if (pr->t) {
			struct alog_err err = { 0 };
			int rc = alog_tls_read(pr->t, pr->rbuf + pr->rlen,
					       sizeof(pr->rbuf) - pr->rlen, &got, &err);

			if (rc != 0)
				return snprintf(pr->why, sizeof(pr->why), "%s",
						rc < 0 ? err.msg : "tls read wants more"), -1;
		} else {
			ssize_t r = recv(pr->fd, pr->rbuf + pr->rlen,
					 sizeof(pr->rbuf) - pr->rlen, 0);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return snprintf(pr->why, sizeof(pr->why), "read: %s",
						strerror(errno)), -1;
			got = (size_t)r;
		}
		if (got == 0)
			return snprintf(pr->why, sizeof(pr->why),
					"the daemon closed the connection"), -1;
		pr->rlen += got;
	}
}

static void judge(struct prod *pr, const char *a)
{
	static const char ok[] = "{\"ok\":true,\"seq\":";
	static const char dup[] = "{\"ok\":true,\"duplicate\":true,\"seq\":";
	uint64_t seq;

	if (strncmp(a, ok, sizeof(ok) - 1) == 0) {
		seq = strtoull(a + sizeof(ok) - 1, NULL, 10);
		if (pr->ok + pr->dup > 0 && seq <= pr->last_seq)
			pr->ordered = 0;
		if (pr->ok == 0)
			pr->first_seq = seq;
		pr->last_seq = seq;
		pr->ok++;
	} else if (strncmp(a, dup, sizeof(dup) - 1) == 0) {
		pr->dup++;
	} else {
		pr->refused++;
		if (pr->refused == 1)
			fprintf(stderr, "loadgen: producer %u: %s\n", pr->p, a);
	}
}

static void *run(void *arg)
{
	struct prod *pr = arg;
	const struct cfg *c = pr->cfg;
	char *buf = NULL, line[4096];
	size_t cap = (size_t)c->window * 160;

	pr->ordered = 1;
	pr->fd = -1;
	buf = malloc(cap);
	if (!buf || dial(pr) < 0)
		goto fail;
	for (unsigned i = 0; i < c->count;) {
		unsigned w = c->count - i < c->window ? c->count - i : c->window;
		size_t len = 0;

		for (unsigned k = 0; k < w; k++)
			len += (size_t)snprintf(buf + len, cap - len,
				"{\"type\":\"load.test\",\"id\":\"%s-%u-%u\",\"source\":\"loadgen\",\"n\":%u}\n",
				c->tag, pr->p, i + k, i + k);
		if (put(pr, buf, len) < 0)
			goto fail;
		for (unsigned k = 0; k < w; k++) {
			if (get_line(pr, line, sizeof(line)) < 0)
				goto fail;
			judge(pr, line);
		}
		i += w;
	}
	goto out;
fail:
	pr->failed = 1;
out:
	if (pr->t)
		alog_tls_close(pr->t);
	alog_tls_conn_free(pr->t);
	pr->t = NULL;
	if (pr->fd >= 0)
		close(pr->fd);
	free(buf);
	return NULL;
}

static unsigned num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s < '0' || *s > '9' || *end || v == 0 || v > 10000000) {
		fprintf(stderr, "loadgen: bad number '%s'\n", s);
		exit(2);
	}
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "unix", required_argument, NULL, 'u' },
		{ "tcp", required_argument, NULL, 't' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "tls-ca", required_argument, NULL, 'a' },
		{ "tls-host", required_argument, NULL, 'h' },
		{ "producers", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'n' },
		{ "window", required_argument, NULL, 'w' },
		{ "tag", required_argument, NULL, 'g' },
		{ 0 },
	};
	struct cfg c = { .producers = 1, .count = 100, .window = 256, .tag = "lg" };
	struct prod *prods;
	struct timespec t0, t1;
	uint64_t total = 0;
	double secs;
	int o, failed = 0;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'u': c.unix_path = optarg; break;
		case 't': c.tcp = optarg; break;
		case 'c': c.cert = optarg; break;
		case 'k': c.key = optarg; break;
		case 'a': c.ca = optarg; break;
		case 'h': c.host = optarg; break;
		case 'p': c.producers = num(optarg); break;
		case 'n': c.count = num(optarg); break;
		case 'w': c.window = num(optarg); break;
		case 'g': c.tag = optarg; break;
		default: return 2;
		}
	}
	if (!c.unix_path == !c.tcp) {
		fprintf(stderr, "loadgen: give --unix PATH or --tcp HOST:PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (c.ca) {
		struct alog_err err = { 0 };

		if (alog_tls_client_new(c.cert, c.key, c.ca, &c.tls, &err) < 0) {
			fprintf(stderr, "loadgen: %s\n", err.msg);
			return 1;
		}
	}
	prods = calloc(c.producers, sizeof(*prods));
	if (!prods)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned p = 0; p < c.producers; p++) {
		prods[p].cfg = &c;
		prods[p].p = p;
		if (pthread_create(&prods[p].th, NULL, run, &prods[p]) != 0) {
			fprintf(stderr, "loadgen: cannot start a thread\n");
			return 1;
		}
	}
	for (unsigned p = 0; p < c.producers; p++)
		pthread_join(prods[p].th, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	for (unsigned p = 0; p < c.producers; p++) {
		struct prod *pr = &prods[p];

		printf("{\"producer\":%u,\"ok\":%" PRIu64 ",\"duplicate\":%" PRIu64
		       ",\"refused\":%" PRIu64 ",\"ordered\":%s,\"first_seq\":%" PRIu64
		       ",\"last_seq\":%" PRIu64 "}\n", p, pr->ok, pr->dup, pr->refused,
		       pr->ordered ? "true" : "false", pr->first_seq, pr->last_seq);
		total += pr->ok + pr->dup + pr->refused;
		if (pr->failed) {
			fprintf(stderr, "loadgen: producer %u: %s\n", p, pr->why);
			failed = 1;
		}
	}
	printf("{\"events\":%" PRIu64 ",\"seconds\":%.3f,\"per_second\":%.0f}\n",
	       total, secs, secs > 0 ? (double)total / secs : 0.0);
	free(prods);
	alog_tls_ctx_free(c.tls);
	return failed;
}
