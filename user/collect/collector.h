/*
 * The collector (`firstlight collect`): every node's batches, from a durable JetStream
 * consumer, into one store with a folder per node (nodestore.h), each batch checked
 * before it is kept and acknowledged only once it is durable, so that a collector killed
 * at any point resumes without loss or duplicate.
 *
 * Each batch is checked against what the node must be: its bytes hash to the hash it
 * carries and the message's id names; it is signed by the node's key (pinned with --keys,
 * or else the key the node's first batch stated: trust on first use, recorded as such);
 * it was published on the subject of the node its records name; it follows the batch
 * before it in the node's chain. A batch that fails any of the first three is not stored
 * with the node's (it goes to @rejected/ for the record) and is a BATCH_REJECTED gap; one
 * that does not follow is stored and is a CHAIN_BREAK gap; a node that stops sending
 * without a STOPPED record is a NODE_SILENT gap. These are the collector's own records,
 * in its own signed chain under DIR/@collector/, and metrics.
 *
 * Batches are judged and stored in their node's order. One that cannot be written now (a
 * full disk, a key not pinnable) goes back to the stream, and the node's later ones wait
 * behind it; after a restart, batches that would break a chain or lack a key wait for the
 * messages the previous run left unacknowledged. So a failure of the collector's own never
 * turns into a refused batch, a false chain break, or a copy out of order.
 */
#ifndef FL_COLLECTOR_H
#define FL_COLLECTOR_H

#include <stdint.h>

#define COLLECTOR_SELF_DIR "@collector" /* no node's token can start with '@' */
#define COLLECTOR_KEYS_DIR "@keys"
#define COLLECTOR_REJECTED_DIR "@rejected"

struct collector_opts {
	const char *urls;         /* nats://HOST:PORT[,...] */
	const char *creds, *tls_ca;
	const char *prefix;       /* subject prefix, as the agents' */
	const char *store_dir;    /* DIR */
	const char *keys_dir;     /* pinned public keys, <node>.pub; NULL: none pinned */
	const char *key_path;     /* the collector's own signing key */
	const char *durable;      /* the consumer's name */
	const char *metrics_addr; /* NULL: off */
	int metrics_explicit;
	const char *ready_file;   /* created once consuming; NULL: none */
	uint32_t silent_after_s;  /* a node quiet this long without a STOPPED is NODE_SILENT */
	int replicas;             /* of the stream, if the collector creates it */
};

void collector_opts__defaults(struct collector_opts *o);
/* Runs until SIGINT/SIGTERM. The process exit status: 0 after a clean stop, 1 on error. */
int collector__run(const struct collector_opts *o);

#endif
