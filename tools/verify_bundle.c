/*
 * verify_bundle: `auditlog verify-bundle DIR [--vkey FILE]` (SPEC.md
 * 21.3): checks an evidence bundle offline, without the store, and names
 * the first thing that fails.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/bundle.h"
#include "store/bytes.h"
#include "store/sign.h"
#include "tools/cli.h"

static const char usage_vb[] =
"usage: auditlog verify-bundle DIR [--vkey FILE]\n"
"\n"
"Check an evidence bundle written by 'auditlog report', offline, without\n"
"the store: the signed manifest (manifest.note over manifest.txt), the\n"
"SHA-256 of every file it lists, that no other file is there, the end\n"
"checkpoint's signature, and every sample's inclusion proof\n"
"(proofs/INDEX.tlog-proof) against it. The first thing that fails is\n"
"named, with its file (and line).\n"
"\n"
"  --vkey FILE   the log's verifier key, as you hold it (from 'auditlog\n"
"                init'). Without it the bundle's own file vkey is used,\n"
"                which proves only that the bundle is consistent with\n"
"                itself, not who signed it: a warning says so.\n"
"\n"
"exit status: 0 verified, 1 a check failed, 2 usage, 3 the bundle can't be\n"
"read\n";

static int read_vkey(const char *path, struct alog_verifier *v,
		     struct alog_err *err)
{
	size_t n = 0;
	char *text = NULL;
	FILE *f = fopen(path, "rb");
	int rc;

	if (!f)
		return alog_err_sys(err, ALOG_ENOTFOUND, 0,
				    "cannot read verifier key '%s'", path);
	text = calloc(1, ALOG_VKEY_MAX + 2);
	if (text)
		n = fread(text, 1, ALOG_VKEY_MAX + 1, f);
	fclose(f);
	if (!text)
		return alog_err_set(err, ALOG_ENOMEM, "out of memory");
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	rc = alog_verifier_parse(text, n, v, err);
	if (rc < 0)
		alog_err_prefix(err, "verifier key '%s'", path);
	free(text);
	return rc;
}

int cmd_verify_bundle(int argc, char **argv)
{
	enum { O_HELP = 1000, O_VKEY };
	static const struct option opts[] = {
		{ "help", no_argument, NULL, O_HELP },
		{ "vkey", required_argument, NULL, O_VKEY },
		{ 0 },
	};
	struct alog_bundle_summary sum;
	struct alog_verifier v;
	struct alog_err err = { 0 };
	const char *vkey = NULL;
	char own[4096];
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_VKEY: vkey = optarg; break;
		case O_HELP: fputs(usage_vb, stdout); return EXIT_OK;
		default: fputs(usage_vb, stderr); return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		cli_msg("verify-bundle needs one bundle directory");
		fputs(usage_vb, stderr);
		return EXIT_USAGE;
	}
	if (!vkey) {
		snprintf(own, sizeof(own), "%s/vkey", argv[optind]);
		vkey = own;
		cli_msg("warning: no --vkey: using the bundle's own verifier key, which proves the bundle consistent, not who signed it");
	}
	rc = read_vkey(vkey, &v, &err);
	if (rc < 0)
		return cli_fail(&err);
	rc = alog_bundle_verify(argv[optind], &v, &sum, &err);
	if (rc < 0) {
		cli_msg("bundle '%s' does not verify: %s", argv[optind], err.msg);
		return rc == ALOG_ENOTFOUND || rc == ALOG_EIO ? EXIT_OPER
							       : EXIT_VERIFY;
	}
	printf("{\"verified\":true,\"files\":%" PRIu64 ",\"proofs\":%" PRIu64
	       ",\"checkpoint_size\":%" PRIu64 "}\n", sum.n_files,
	       sum.n_proofs, sum.end.size);
	return EXIT_OK;
}
