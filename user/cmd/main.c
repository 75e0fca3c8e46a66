/* firstlight: subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd_collect.h"
#include "cmd/cmd_gaps.h"
#include "cmd/cmd_key.h"
#include "cmd/cmd_owners.h"
#include "cmd/cmd_read.h"
#include "cmd/cmd_report.h"
#include "cmd/cmd_run.h"
#include "cmd/cmd_tree.h"
#include "cmd/cmd_unpin.h"
#include "cmd/cmd_verify.h"
#include "cmd/cmd_workloads.h"
#include "base/log.h"
#include "records/version.h"
#include "sensor/linkhold.h"

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "run", cmd_run__main, "run the sensor (records to segment files, or --stdout)" },
	{ "read", cmd_read__main, "decode records to JSON lines or --text" },
	{ "workloads", cmd_workloads__main, "list the workloads of the records: what tree selects" },
	{ "tree", cmd_tree__main, "rebuild a job: its process tree, flows and gaps" },
	{ "gaps", cmd_gaps__main, "list telemetry gaps: gap records and holes in the records" },
	{ "verify", cmd_verify__main, "check segment files: hash chain, signatures, sequence" },
	{ "report", cmd_report__main, "was a node's record of a window complete? verdict, gaps, coverage" },
	{ "owners", cmd_owners__main, "check an owners file (owners check FILE): the rules run --owners takes" },
	{ "key", cmd_key__main, "export the node's public key (key export)" },
	{ "collect", cmd_collect__main, "collect every node's batches from NATS JetStream into one store" },
	{ "unpin", cmd_unpin__main, "remove the programs `run --handover` left pinned (uninstall)" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: firstlight COMMAND [options]   (firstlight COMMAND --help)\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "  %-9s %s\n", "version", "print the version");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], LINKHOLD_COMMAND))
		return linkhold__main();
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("firstlight %s\n", FIRSTLIGHT_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	log_error("unknown command '%s' (see firstlight --help)", argv[1]);
	return 2;
}
