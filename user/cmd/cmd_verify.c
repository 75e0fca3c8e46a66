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
#include "base/json.h"
#include "base/timefmt.h"
#include "readers/against.h"
#include "readers/verify.h"
#include <unistd.h>

#define MAX_KEYS 16

static void usage(FILE *f)
{
	fprintf(f,
		"usage: firstlight verify [--pubkey FILE]... [--keys DIR] [FILE|DIR]...\n"
		"       firstlight verify --against COLLECTED [LOCAL]\n"
		"  checks the hash chain, signatures, sequence numbers and retention records of\n"
		"  segment files (default: every segment in %s); a collected store (one\n"
		"  folder per node) is checked folder by folder, each its node's own chain\n"
		"  --pubkey FILE   trust this node public key (PEM, from `firstlight key export`);\n"
		"                  repeatable. Without it, the key named by the first segment is\n"
		"                  taken, which proves consistency but not who signed\n"
		"  --keys DIR      the keys of many nodes: DIR/<node>.pub for each folder <node>\n"
		"  --against COLLECTED  compares LOCAL (a node's data dir, default %s) with\n"
		"                  the collector's copy of that node in COLLECTED: every batch the\n"
		"                  collector holds must still be in LOCAL; what is gone is named by\n"
		"                  run and sequence range (a deleted run, a cut segment)\n"
		"  exit status: 0 everything holds, 1 something does not, 2 bad usage\n",
		STORE_DEFAULT_DIR, STORE_DEFAULT_DIR);
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

/* The key a folder's node is pinned to in --keys DIR: DIR/<folder name>.pub. */
static int folder_key(const char *keys_dir, const char *store, uint8_t key[KEYS_PUB_LEN])
{
	const char *base = strrchr(store, '/') ? strrchr(store, '/') + 1 : store;
	char path[4096];

	if (!keys_dir || !*base)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%s.pub", keys_dir, base);
	if (access(path, F_OK))
		return -ENOENT;
	return keys__read_public(path, key) ? -EINVAL : 0;
}

/* verify --against: the collector's copy of the node against its local store. */
static int against__main(const char *collected, const char *local)
{
	struct against_result r;
	int err = against__compare(collected, local, &r);

	if (err) {
		log_error("verify --against: %s", r.error);
		against__free(&r);
		return 1;
	}
	if (!r.deleted)
		printf("OK: node %s: all %" PRIu64 " batches the collector holds in %s are in %s", r.node,
		       r.collected, r.folder, local);
	else
		printf("FAIL: node %s: batches the collector holds in %s are gone from %s", r.node, r.folder,
		       local);
	printf(" (%" PRIu64 " local batches, %" PRIu64 " not shipped yet)\n", r.local, r.unshipped);
	for (size_t i = 0; i < r.n_gone; i++) {
		const struct against_gone *g = &r.gone[i];
		struct json_buf t = { 0 };

		if (g->first_ns)
			timefmt__rfc3339(&t, g->first_ns, 3), json_buf__append_str(&t, " to "),
				timefmt__rfc3339(&t, g->last_ns, 3);
		printf("  %s: run %s, seq %" PRIu64 "-%" PRIu64 ", %" PRIu64 " records in %" PRIu64 " batches%s%s\n",
		       g->by_retention ? "removed by retention, as recorded" : "GONE", g->run_id, g->first_seq,
		       g->last_seq, g->records, g->batches, t.data ? ", " : "", t.data ? t.data : "");
		json_buf__free(&t);
	}
	against__free(&r);
	return r.deleted ? 1 : 0;
}

/* One store (one node's chain): 0 when it holds, 1 when not, -1 on error. */
static int verify_store(const struct inputs *in, int store, uint8_t (*keys)[KEYS_PUB_LEN], size_t n_keys,
			const char *keys_dir)
{
	struct verifier *v;
	int status, err;

	err = folder_key(keys_dir, in->stores[store], keys[n_keys]);
	if (err == -EINVAL)
		return -1;
	v = verifier__new((const uint8_t(*)[KEYS_PUB_LEN])keys, n_keys + !err);
	if (!v) {
		log_error("verify: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < in->n; i++)
		if (in->store[i] == store && verifier__file(v, in->paths[i]))
			break;
	status = verifier__finish(v) ? 1 : 0;
	if (in->n_stores > 1)
		printf("%s: ", *in->stores[store] ? in->stores[store] : "(files)");
	print_result(verifier__result(v));
	verifier__free(v);
	return status;
}


int cmd_verify__main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pubkey", required_argument, NULL, 'k' },
		{ "keys", required_argument, NULL, 'K' },
		{ "against", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	uint8_t keys[MAX_KEYS + 1][KEYS_PUB_LEN];
	size_t n_keys = 0;
	const char *keys_dir = NULL, *against = NULL;
	struct inputs in = { 0 };
	int c, status = 0;

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
		case 'K': keys_dir = optarg; break;
		case 'a': against = optarg; break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			log_error("verify: unknown option or missing value '%s' (see firstlight "
				  "verify --help)", argv[optind - 1]);
			return 2;
		}
	}
	if (against) {
		if (argc - optind > 1) {
			log_error("verify: --against compares one local store: give one DIR");
			return 2;
		}
		return against__main(against, optind < argc ? argv[optind] : STORE_DEFAULT_DIR);
	}
	if (inputs__collect(&in, argc - optind, argv + optind, STORE_DEFAULT_DIR))
		return 1;
	for (int s = 0; s < in.n_stores && status >= 0; s++) {
		int r = verify_store(&in, s, keys, n_keys, keys_dir);

		status = r < 0 ? r : (status | r);
	}
	if (status < 0)
		status = 1;
	if (fflush(stdout)) {
		log_error("stdout: %s", strerror(errno));
		status = 1;
	}
	inputs__free(&in);
	return status;
}
