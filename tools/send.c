/*
 * send: `auditlog send` (SPEC.md sections 15 and 16).
 */
#include "tools/cli.h"

int cmd_send(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_msg("send is not built yet");
	return EXIT_OPER;
}
