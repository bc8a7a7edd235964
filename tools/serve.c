/*
 * serve: `auditlog serve` (SPEC.md section 15). Parses the options, loads
 * the signing key, blocks SIGTERM/SIGINT (the server waits for them with
 * signalfd) and ignores SIGPIPE, then runs ingest/server.h's daemon.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest/server.h"
#include "store/sign.h"
#include "tools/cli.h"

static const char usage_serve[] =
"usage: auditlog serve [--store DIR] [--key FILE] [--socket PATH]\n"
"                      [--listen HOST:PORT [--tls-cert F --tls-key F --tls-ca F]]\n"
"                      [--checkpoint-interval S] [--checkpoint-events N]\n"
"                      [--idle-timeout S] [--max-connections N]\n"
"                      [--config FILE] [--spool DIR]\n"
"\n"
"Run the daemon. It owns the store (a second writer is refused) and takes\n"
"events from many producers at once. A producer connects, writes events as\n"
"JSON objects, one per line (the same lines 'auditlog ingest' reads), and\n"
"gets exactly one answer line per line, in the order it sent them:\n"
"\n"
"  {\"ok\":true,\"seq\":N}                   stored at index N, on disk (fsynced)\n"
"  {\"ok\":true,\"duplicate\":true,\"seq\":N}  this source+id and event is stored\n"
"                                         at N already; nothing new stored\n"
"  {\"ok\":true,\"spooled\":true,\"id\":\"ID\"} the store is failing: durable in\n"
"                                         the spool; it reaches the store later\n"
"  {\"ok\":false,\"code\":\"C\",\"retry\":R,\"error\":\"...\"}  not stored\n"
"\n"
"retry false: the line itself is refused (not_json, too_long, bad_field,\n"
"reserved_type, reserved_component, conflict, ...); sending it again never\n"
"works. retry true:\n"
"unavailable (neither the store nor the spool could take it), overloaded\n"
"(too many connections)\n"
"or shutting_down; send the same line again later. Give every event an \"id\"\n"
"(and a \"source\"), so that a retry after a lost answer is a duplicate, not\n"
"a second event. No answer is sent before the event is durable; lines that\n"
"arrive together are committed together (one round of fsyncs).\n"
"\n"
"Where producers connect:\n"
"  --socket PATH      Unix socket (default DIR/auditlog.sock; at most 107\n"
"                     bytes), created mode 0660: the daemon's user and group\n"
"                     may connect. Records carry the sender's uid, gid, pid.\n"
"  --listen HOST:PORT also TCP (IPv6 as [::1]:PORT; port 0 picks one, see the\n"
"                     'listening' line). Without TLS only on a loopback\n"
"                     address (127.0.0.1, ::1): records carry the peer address.\n"
"  --tls-cert F --tls-key F --tls-ca F\n"
"                     TLS 1.2 or later on --listen, any address. Clients must\n"
"                     present a certificate signed by the CA in F; records\n"
"                     carry the address and the certificate subject.\n"
"\n"
"Checkpoints (signed with the store's key):\n"
"  --key FILE                the signing key (default: DIR.key beside the store)\n"
"  --checkpoint-interval S   sign every S seconds if the log grew (default 60)\n"
"  --checkpoint-events N     ... or after N events, whichever comes first\n"
"                            (default 100000); and always at shutdown\n"
"\n";

/* (Two strings: C11 compilers need support only 4095 bytes in one.) */
static const char usage_serve_more[] =
"The spool:\n"
"When the store fails (a full disk, an I/O error, a failed fsync), the\n"
"breaker of the component primary_store counts it, and events go to the\n"
"spool: backup files with a SHA-256 chain, fsynced before the answer. After\n"
"the configured number of failures the breaker opens; when its open\n"
"timeout ends it half-opens and the daemon tries one batch of the spool;\n"
"success closes it and the whole spool is replayed into the store, in\n"
"order, without duplicates, keeping each event's received time. Every\n"
"transition is logged as a breaker.transition event, each activation as\n"
"backup.activated, each replayed file as backup.replayed.\n"
"  --config FILE   components and breaker settings (SPEC.md section 18;\n"
"                  example: tools/auditlog.example.json). Default: the\n"
"                  built-in inventory, primary_store critical: opens after 2\n"
"                  failures, half-opens after 15 s\n"
"  --spool DIR     the spool directory (default DIR/spool beside the store;\n"
"                  put it on another disk, so that it works when the\n"
"                  store's disk is full). Created mode 0700.\n"
"\n"
"Limits:\n"
"  --idle-timeout S      close a connection that sends nothing for S seconds\n"
"                        while none of its lines is pending (default 300)\n"
"  --max-connections N   at most N connections (default and most 256); one\n"
"                        more gets an \"overloaded\" answer and is closed\n"
"A line longer than 65536 bytes is answered too_long and skipped. A\n"
"connection with 4096 lines (4 MiB) waiting for answers, or 1 MiB of\n"
"answers it does not read, is not read until that drains: a slow client\n"
"slows only itself.\n"
"\n"
"The log records daemon.started and daemon.stopped events. SIGTERM or\n"
"SIGINT stops the daemon: it accepts no more connections, answers every\n"
"complete line it already read, writes daemon.stopped, signs a final\n"
"checkpoint and exits 0. A final line without a newline is not answered.\n"
"\n"
"Diagnostics go to stderr, one line each:\n"
"  level=info time=2026-01-05T08:00:00.000000Z msg=listening transport=unix socket=...\n"
"\n"
"Example:\n"
"  auditlog serve --store /var/lib/auditlog &\n"
"  echo '{\"type\":\"user.login\",\"id\":\"e1\",\"source\":\"web\"}' |\n"
"    socat - UNIX-CONNECT:/var/lib/auditlog/auditlog.sock\n"
"\n"
"exit status: 0 after SIGTERM/SIGINT, 2 bad options (e.g. a non-loopback\n"
"--listen without TLS, a socket path too long), 3 could not start or run\n"
"(store locked or missing, key, a daemon already on the socket, bind).\n";

enum { O_STORE = 1000, O_HELP, O_KEY, O_SOCKET, O_LISTEN, O_CERT, O_TLSKEY,
       O_CA, O_CK_S, O_CK_N, O_IDLE, O_MAXC, O_CONFIG, O_SPOOL };

static void log_line(void *ctx, const char *line)
{
	size_t n = strlen(line);
	char *p = malloc(n + 1);

	(void)ctx;
	if (!p)
		return;
	memcpy(p, line, n);
	p[n] = '\n';
	/* One write per line: the daemon's threads never interleave. */
	if (write(STDERR_FILENO, p, n + 1) < 0) {
		/* stderr is gone: nothing left to tell */
	}
	free(p);
}

/* A positive number no larger than max; -1 (after a message) if not. */
static int parse_count(const char *opt, const char *s, uint64_t max,
		       uint64_t *out)
{
	if (cli_parse_u64(s, out) < 0 || *out == 0 || *out > max) {
		cli_msg("%s '%s': want a whole number from 1 to %llu", opt, s,
			(unsigned long long)max);
		return -1;
	}
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, O_STORE },
		{ "help", no_argument, NULL, O_HELP },
		{ "key", required_argument, NULL, O_KEY },
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "tls-cert", required_argument, NULL, O_CERT },
		{ "tls-key", required_argument, NULL, O_TLSKEY },
		{ "tls-ca", required_argument, NULL, O_CA },
		{ "checkpoint-interval", required_argument, NULL, O_CK_S },
		{ "checkpoint-events", required_argument, NULL, O_CK_N },
		{ "idle-timeout", required_argument, NULL, O_IDLE },
		{ "max-connections", required_argument, NULL, O_MAXC },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "spool", required_argument, NULL, O_SPOOL },
		{ 0 },
	};
	struct alog_server_options o = { 0 };
	struct alog_err err = { 0 };
	struct alog_signer *signer = NULL;
	struct alog_config cfg = { 0 };
	const char *store = NULL, *key = NULL, *config = NULL;
	char *def_key = NULL;
	sigset_t set;
	uint64_t v;
	int c, code = EXIT_OK;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_STORE: store = optarg; break;
		case O_KEY: key = optarg; break;
		case O_SOCKET: o.socket_path = optarg; break;
		case O_LISTEN: o.listen = optarg; break;
		case O_CERT: o.tls_cert = optarg; break;
		case O_TLSKEY: o.tls_key = optarg; break;
		case O_CA: o.tls_ca = optarg; break;
		case O_CONFIG: config = optarg; break;
		case O_SPOOL: o.spool_dir = optarg; break;
		case O_CK_S:
			if (parse_count("--checkpoint-interval", optarg,
					UINT32_MAX / 1000, &v) < 0)
				return EXIT_USAGE;
			o.checkpoint_s = (unsigned)v;
			break;
		case O_CK_N:
			if (parse_count("--checkpoint-events", optarg,
					UINT64_C(1) << 53, &v) < 0)
				return EXIT_USAGE;
			o.checkpoint_events = v;
			break;
		case O_IDLE:
			if (parse_count("--idle-timeout", optarg,
					UINT32_MAX / 1000, &v) < 0)
				return EXIT_USAGE;
			o.idle_timeout_s = (unsigned)v;
			break;
		case O_MAXC:
			if (parse_count("--max-connections", optarg,
					ALOG_SERVER_CONNS_MAX, &v) < 0)
				return EXIT_USAGE;
			o.max_conns = (unsigned)v;
			break;
		case O_HELP:
			fputs(usage_serve, stdout);
			fputs(usage_serve_more, stdout);
			return EXIT_OK;
		default:
			fputs(usage_serve, stderr);
			fputs(usage_serve_more, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_msg("serve takes no arguments ('%s'); see 'auditlog serve --help'",
			argv[optind]);
		return EXIT_USAGE;
	}
	o.store_dir = cli_store_dir(store);
	if (!key)
		key = def_key = cli_default_key(o.store_dir);
	if (!key) {
		cli_msg("out of memory");
		return EXIT_OPER;
	}
	o.key_path = key;
	o.version = ALOG_VERSION;
	o.log_fn = log_line;
	if (alog_server_check_options(&o, &err) < 0) {
		cli_msg("%s", err.msg);
		code = EXIT_USAGE;
		goto out;
	}
	if (access(o.store_dir, F_OK) != 0) {
		cli_msg("store '%s' does not exist (create it with 'auditlog init --store %s')",
			o.store_dir, o.store_dir);
		code = EXIT_OPER;
		goto out;
	}
	if (config) {
		int rc = alog_config_load(&cfg, config, &err);

		if (rc < 0) {
			/* SPEC.md 18.3: 2 for a refused file, 3 when it
			 * can't be read */
			cli_msg("%s", err.msg);
			code = rc == ALOG_ENOTFOUND || rc == ALOG_EIO ?
			       EXIT_OPER : EXIT_USAGE;
			goto out;
		}
		o.config = &cfg;
		o.config_path = config;
	}
	if (alog_signer_load(key, &signer, &err) < 0) {
		code = cli_fail(&err);
		goto out;
	}
	o.signer = signer;
	/* Before any thread exists, so that every thread inherits it. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		cli_msg("cannot set up signals");
		code = EXIT_OPER;
		goto out;
	}
	if (alog_server_run(&o, &err) < 0)
		code = cli_fail(&err);
out:
	alog_config_release(&cfg);
	alog_signer_free(signer);
	free(def_key);
	return code;
}
