/*
 * `firstlight verify [--pubkey FILE]... [FILE|DIR]...`: checks segment files (a directory
 * stands for its segments in chain order) with verify.c, and prints either OK with
 * counts and what deserves a note, or FAIL with the first failing batch and why.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cliopt.h"
#include "base/plural.h"
#include "readers/inputs.h"
#include "store/store_dir.h"
#include "cmd/cmd_verify.h"
#include "store/keys.h"
#include "base/log.h"
#include "readers/verify.h"

#define MAX_KEYS 16

static void usage(FILE *f)
{
	fprintf(f,
		"usage: firstlight verify [--pubkey FILE]... [FILE|DIR]...\n"
		"  checks the hash chain, signatures, sequence numbers and retention records of\n"
		"  segment files (default: every segment in %s)\n"
		"  --pubkey FILE   trust this node public key (PEM, from `firstlight key export`);\n"
		"                  repeatable. Without it, the key named by the first segment is\n"
		"                  taken, which proves consistency but not who signed\n"
		"  exit status: 0 everything holds, 1 something does not, 2 bad usage\n",
		STORE_DEFAULT_DIR);
}

static void print_result(const struct verify_result *r)
{
	if (r->failed) {
		printf("FAIL: %s\n", r->failure);
	} else {
		printf("OK: %" PRIu64 " %s, %" PRIu64 " %s, %" PRIu64 " %s, %" PRIu64 " %s: every "
		       "batch decodes, matches its hash, follows the one before it and is signed by "
		       "key %s (%s)\n",
		       r->files, plural__word(r->files, "segment file", "segment files"), r->batches,
		       plural__word(r->batches, "batch", "batches"), r->records,
		       plural__word(r->records, "record", "records"), r->runs,
		       plural__word(r->runs, "agent run", "agent runs"), r->key_hex,
		       r->key_trusted ? "trusted: --pubkey" :
		       "named by the first segment: give --pubkey to check who signed");
		if (r->lost_records)
			printf("  %" PRIu64 " %s lost by the store and recorded as SINK_LOSS gaps\n",
			       r->lost_records, plural__word(r->lost_records, "record was", "records were"));
		if (r->removed_segments)
			printf("  %" PRIu64 " %s removed by retention, as recorded\n", r->removed_segments,
			       plural__word(r->removed_segments, "segment was", "segments were"));
	}
	for (size_t i = 0; i < r->n_notes; i++)
		printf("  note: %s\n", r->notes[i]);
	if (r->notes_dropped)
		printf("  note: %zu more %s\n", r->notes_dropped, plural__word(r->notes_dropped, "note", "notes"));
}

int cmd_verify__main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pubkey", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	uint8_t keys[MAX_KEYS][KEYS_PUB_LEN];
	size_t n_keys = 0;
	struct verifier *v = NULL;
	struct inputs in = { 0 };
	int c, status = 1;

	if (cliopt__check_full("verify", argc, argv, longopts))
		return 2;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (n_keys == MAX_KEYS) {
				log_error("verify: at most %d --pubkey", MAX_KEYS);
				return 2;
			}
			if (keys__read_public(optarg, keys[n_keys]))
				return 2;
			n_keys++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			log_error("verify: unknown option or missing value '%s' (see firstlight "
				  "verify --help)", argv[optind - 1]);
			return 2;
		}
	}
	if (inputs__collect(&in, argc - optind, argv + optind, STORE_DEFAULT_DIR))
		return 1;
	v = verifier__new((const uint8_t(*)[KEYS_PUB_LEN])keys, n_keys);
	if (!v) {
		log_error("verify: %s", strerror(errno));
		goto out;
	}
	for (int i = 0; i < in.n && !verifier__file(v, in.paths[i]); i++)
		;
	status = verifier__finish(v) ? 1 : 0;
	print_result(verifier__result(v));
	if (fflush(stdout)) {
		log_error("stdout: %s", strerror(errno));
		status = 1;
	}
out:
	verifier__free(v);
	inputs__free(&in);
	return status;
}
