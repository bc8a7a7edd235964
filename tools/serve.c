/*
 * serve: `auditlog serve` (SPEC.md section 15).
 */
#include "tools/cli.h"

int cmd_serve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_msg("serve is not built yet");
	return EXIT_OPER;
}
