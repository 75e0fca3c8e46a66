/*
 * `firstlight owners check FILE`: reads an owners file as `run --owners` would and says
 * whether the agent would take it: "FILE: N rules, sha256 HEX" and status 0, or the
 * first problem on one line (file, line, key, what to do) and status 1. The hash is the
 * one the agent records, so a reviewer can tie a file to the records it named.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/cliopt.h"
#include "base/log.h"
#include "cmd/cmd_owners.h"
#include "identity/owners.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: firstlight owners check FILE\n"
		   "  checks an owners file (the rules `run --owners FILE` takes; docs/owners.md):\n"
		   "  prints its rule count and SHA-256, or its first problem with the line\n");
}

int cmd_owners__main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	char err[OWNERS_ERR_MAX];
	struct owners *o;
	int c;

	if (cliopt__check_full("owners", argc, argv, longopts))
		return 2;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return 0;
		default:
			log_error("owners: unknown option or missing value '%s' (see firstlight owners --help)",
				  argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 2 || strcmp(argv[optind], "check")) {
		log_error("owners: expected: firstlight owners check FILE");
		return 2;
	}
	o = owners__load(argv[optind + 1], err, sizeof(err));
	if (!o) {
		log_error("owners: %s", err);
		return 1;
	}
	printf("%s: %zu rule%s, sha256 %s\n", owners__name(o), owners__count(o),
	       owners__count(o) == 1 ? "" : "s", owners__sha256(o));
	owners__free(o);
	return fflush(stdout) ? 1 : 0;
}
