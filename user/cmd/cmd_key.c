/*
 * `firstlight key export [--key FILE]`: prints the public half of the node key as PEM
 * (SubjectPublicKeyInfo; `openssl pkey -pubin` reads it), for `verify --pubkey`. Never
 * creates a key: that is the agent's first run.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cliopt.h"
#include "cmd/cmd_key.h"
#include "store/keys.h"
#include "base/log.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: firstlight key export [--key FILE]\n"
		   "  prints the node's public key (PEM) from its private key FILE\n"
		   "  (default %s)\n", STORE_DEFAULT_KEY);
}

int cmd_key__main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *path = STORE_DEFAULT_KEY;
	uint8_t pub[KEYS_PUB_LEN];
	char *pem = NULL;
	int c;

	if (cliopt__check_full("key", argc, argv, longopts))
		return 2;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': path = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			log_error("key: unknown option or missing value '%s' (see firstlight key --help)",
				  argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1 || strcmp(argv[optind], "export")) {
		usage(stderr);
		return 2;
	}
	if (keys__read_public(path, pub))
		return 1;
	if (keys__public_pem(pub, &pem)) {
		log_error("key: out of memory");
		return 1;
	}
	fputs(pem, stdout);
	free(pem);
	return fflush(stdout) ? 1 : 0;
}
