/*
 * `firstlight verify [--pubkey FILE]... [FILE|DIR]...`: checks segment files (a directory
 * stands for its segments in chain order) with verify.c, and prints either OK with
 * counts and what deserves a note, UNPINNED when everything holds but the key that signed
 * was taken from the store itself, or FAIL with the first failing batch and why.
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
#include "base/textesc.h"
#include "base/timefmt.h"
#include "readers/against.h"
#include "readers/verify.h"
#include <unistd.h>

#define MAX_KEYS 16

/*
 * Exit statuses. UNPINNED has its own: a store re-signed end to end with any key is
 * intact by its own word, and an audit script that tests for 0 must not take that for
 * "signed by the node".
 */
enum { VERIFY_OK = 0, VERIFY_FAILED = 1, VERIFY_USAGE = 2, VERIFY_UNPINNED = 3 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: firstlight verify [--pubkey FILE]... [--keys DIR] [--trust-embedded-key]\n"
		"                         [FILE|DIR]...\n"
		"       firstlight verify --against COLLECTED [LOCAL]\n"
		"  checks the hash chain, signatures, sequence numbers and retention records of\n"
		"  segment files (default: every segment in %s); a collected store (one\n"
		"  folder per node) is checked folder by folder, each its node's own chain\n"
		"  --pubkey FILE   trust this node public key (PEM, from `firstlight key export`);\n"
		"                  repeatable. Without it (or --keys), the key named by the first\n"
		"                  segment is taken, which proves consistency but not who signed:\n"
		"                  the store is then UNPINNED (exit status 3), not OK\n"
		"  --keys DIR      the keys of many nodes: DIR/<node>.pub for each folder <node>\n"
		"  --trust-embedded-key  accept the key the store names (exit status 0): for a\n"
		"                  store whose origin you vouch for by other means\n"
		"  --against COLLECTED  compares LOCAL (a node's data dir, default %s) with\n"
		"                  the collector's copy of that node in COLLECTED: every batch the\n"
		"                  collector holds must still be in LOCAL; what is gone is named by\n"
		"                  run and sequence range (a deleted run, a cut segment)\n"
		"  exit status: 0 everything holds and the key was pinned (or --trust-embedded-key),\n"
		"  1 something does not hold, 2 bad usage, 3 everything holds but the key that\n"
		"  signed was named by the store itself and pinned by nobody (UNPINNED)\n",
		STORE_DEFAULT_DIR, STORE_DEFAULT_DIR);
}

/* The status of one store's result. */
static int result_status(const struct verify_result *r, int trust_embedded)
{
	if (r->failed)
		return VERIFY_FAILED;
	return r->key_trusted || trust_embedded ? VERIFY_OK : VERIFY_UNPINNED;
}

static void print_result(const struct verify_result *r, int trust_embedded)
{
	int status = result_status(r, trust_embedded);

	if (status == VERIFY_FAILED) {
		textesc__print(stdout, "FAIL: ", r->failure, "\n");
	} else {
		printf("%s: %" PRIu64 " %s, %" PRIu64 " %s, %" PRIu64 " %s, %" PRIu64 " %s: every "
		       "batch decodes, matches its hash, follows the one before it and is signed by "
		       "key %s (%s)\n", status == VERIFY_OK ? "OK" : "UNPINNED",
		       r->files, plural__word(r->files, "segment file", "segment files"), r->batches,
		       plural__word(r->batches, "batch", "batches"), r->records,
		       plural__word(r->records, "record", "records"), r->runs,
		       plural__word(r->runs, "agent run", "agent runs"), r->key_hex,
		       r->key_trusted ? "trusted: --pubkey" : trust_embedded ?
		       "named by the store, accepted by --trust-embedded-key" :
		       "named by the store itself and pinned by nobody: give --pubkey FILE with the key "
		       "exported on the node (firstlight key export) to check who signed");
		if (r->lost_records)
			printf("  %" PRIu64 " %s lost by the store and recorded as SINK_LOSS gaps\n",
			       r->lost_records, plural__word(r->lost_records, "record was", "records were"));
		if (r->removed_segments)
			printf("  %" PRIu64 " %s removed by retention, as recorded\n", r->removed_segments,
			       plural__word(r->removed_segments, "segment was", "segments were"));
	}
	for (size_t i = 0; i < r->n_notes; i++)
		textesc__print(stdout, "  note: ", r->notes[i], "\n");
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
	{
		struct json_buf line = { 0 };

		/* Node and folder names come from the collected store: escaped as a whole line. */
		if (!r.deleted)
			json_buf__appendf(&line, "OK: node %s: all %" PRIu64 " batches the collector holds in "
					  "%s are in %s", r.node, r.collected, r.folder, local);
		else
			json_buf__appendf(&line, "FAIL: node %s: batches the collector holds in %s are gone "
					  "from %s", r.node, r.folder, local);
		json_buf__appendf(&line, " (%" PRIu64 " local batches, %" PRIu64 " not shipped yet)",
				  r.local, r.unshipped);
		textesc__print(stdout, "", line.data ? line.data : "", "\n");
		json_buf__free(&line);
	}
	for (size_t i = 0; i < r.n_gone; i++) {
		const struct against_gone *g = &r.gone[i];
		struct json_buf t = { 0 };

		if (g->first_ns)
			timefmt__rfc3339(&t, g->first_ns, 3), json_buf__append_str(&t, " to "),
				timefmt__rfc3339(&t, g->last_ns, 3);
		struct json_buf line = { 0 };

		json_buf__appendf(&line, "%s: run %s, seq %" PRIu64 "-%" PRIu64 ", %" PRIu64 " records in %"
				  PRIu64 " batches%s%s", g->by_retention ? "removed by retention, as recorded" :
				  "GONE", g->run_id, g->first_seq, g->last_seq, g->records, g->batches,
				  t.data ? ", " : "", t.data ? t.data : "");
		textesc__print(stdout, "  ", line.data ? line.data : "", "\n");
		json_buf__free(&line);
		json_buf__free(&t);
	}
	against__free(&r);
	return r.deleted ? 1 : 0;
}

/* One store (one node's chain): its VERIFY_* status, -1 on error. */
static int verify_store(const struct inputs *in, int store, uint8_t (*keys)[KEYS_PUB_LEN], size_t n_keys,
			const char *keys_dir, int trust_embedded)
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
	verifier__finish(v);
	status = result_status(verifier__result(v), trust_embedded);
	if (in->n_stores > 1)
		textesc__print(stdout, "", *in->stores[store] ? in->stores[store] : "(files)", ": ");
	print_result(verifier__result(v), trust_embedded);
	verifier__free(v);
	return status;
}


int cmd_verify__main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pubkey", required_argument, NULL, 'k' },
		{ "keys", required_argument, NULL, 'K' },
		{ "against", required_argument, NULL, 'a' },
		{ "trust-embedded-key", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	uint8_t keys[MAX_KEYS + 1][KEYS_PUB_LEN];
	size_t n_keys = 0;
	const char *keys_dir = NULL, *against = NULL;
	struct inputs in = { 0 };
	int c, status = VERIFY_OK, trust_embedded = 0;

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
		case 'T': trust_embedded = 1; break;
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
	/* Any failure is the status of the whole; else any unpinned store. */
	for (int s = 0; s < in.n_stores && status >= 0; s++) {
		int r = verify_store(&in, s, keys, n_keys, keys_dir, trust_embedded);

		if (r < 0 || r == VERIFY_FAILED || status == VERIFY_OK)
			status = r;
	}
	if (status < 0)
		status = VERIFY_FAILED;
	if (fflush(stdout)) {
		log_error("stdout: %s", strerror(errno));
		status = 1;
	}
	inputs__free(&in);
	return status;
}
