/* The collector; see collector.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "agent/storelink.h"
#include "base/clock.h"
#include "base/fdio.h"
#include "base/httpd.h"
#include "base/log.h"
#include "base/promtext.h"
#include "base/ptrvec.h"
#include "base/strmap.h"
#include "base/varint.h"
#include "collect/collector.h"
#include "collect/nodestore.h"
#include "records/gaps.h"
#include "records/record.h"
#include "store/batchwire.h"
#include "store/chain.h"
#include "store/keys.h"
#include "store/segment_reader.h"
#include "store/store.h"
#include "store/store_dir.h"
#include "transport/jetstream.h"
#include "transport/subjects.h"

#define NS_PER_S 1000000000ull
#define FETCH_MAX 64
#define FETCH_WAIT_MS 1000
#define BACKOFF_MAX_MS 30000
#define HEALTH_STALL_S 60 /* see answer_health */
#define DUPLICATE_WINDOW_NS (10 * 60 * NS_PER_S)
/* A bundle inflated: up to 64 batches of the largest size (each checked on its own). */
#define BUNDLE_INFLATED_MAX (64u * BATCH_MAX_BYTES)
#define COLLECT_BUNDLE_MAX 4096 /* batches in one message: the agent sends at most 64 */
/* A message not taken comes again after RETRY_MS, doubled at each delivery up to RETRY_MAX_MS;
 * those waiting behind it RETRY_AFTER_MS after its next try. */
#define RETRY_MS 500
#define RETRY_MAX_MS 10000
#define RETRY_AFTER_MS 200
#define ASK_EVERY_NS (5 * NS_PER_S) /* how often a node's wait asks whether its message is gone */
/* The consumer's ack wait twice, and some: every message delivered before has come again. */
#define OUTSTANDING_WAIT_NS (130 * NS_PER_S)
#define EARLY_RETRY_MS 1000
#define CONSUMER_ASK_EVERY_NS (10 * NS_PER_S) /* while nothing comes: is the consumer still there? */

/* Why a batch was refused: the reason strings of BATCH_REJECTED gaps and metrics. */
enum reject {
	REJ_SUBJECT, REJ_HEADERS, REJ_SIZE, REJ_HASH, REJ_UNDECODABLE, REJ_WRONG_NODE, REJ_NO_KEY,
	REJ_KEY_CHANGED, REJ_SIGNATURE, REJ_KINDS
};
static const char *const reject_names[REJ_KINDS] = {
	[REJ_SUBJECT] = "bad-subject",     [REJ_HEADERS] = "bad-headers",
	[REJ_SIZE] = "too-large",          [REJ_HASH] = "bad-hash",
	[REJ_UNDECODABLE] = "undecodable", [REJ_WRONG_NODE] = "wrong-node",
	[REJ_NO_KEY] = "no-key",           [REJ_KEY_CHANGED] = "key-changed",
	[REJ_SIGNATURE] = "bad-signature",
};

struct node {
	char token[SUBJECTS_TOKEN_MAX];
	char name[256];
	struct nodestore *store;
	int have_key;
	uint8_t key[KEYS_PUB_LEN];
	uint64_t batches, duplicates, chain_breaks, rejected[REJ_KINDS];
	uint64_t last_mono_ns;   /* when its last batch arrived (this run) */
	uint64_t last_unix_ns;   /* its last record's time */
	double last_wall;        /* arrival, for the metrics */
	int stopped;             /* its last run wrote STOPPED */
	int silent;              /* a NODE_SILENT gap is written, not yet answered */
	uint64_t undone_seen;    /* nodestore__undone when its last fetch began */
	int sync_failed;         /* its sync after the last fetch failed */
	/*
	 * The stream sequences of its messages handed back, not taken (a write failed: disk
	 * full, a key not pinned), ascending. Its later messages wait behind the first, handed
	 * back untouched, until they come again in order: judged or stored before it, they
	 * would be refused for want of its key, or stored out of order with a false chain
	 * break, and the refused ones acknowledged for good.
	 */
	uint64_t *back;
	size_t n_back, cap_back;
	uint64_t waiting_since_mono_ns, asked_mono_ns; /* asked: whether the stream still holds back[0] */
	uint64_t retry_at_mono_ns;                     /* when back[0] comes again */
};

struct collector {
	struct collector_opts o;
	char head[JS_SUBJECT_MAX];   /* "<prefix>.batches." */
	char filter[JS_SUBJECT_MAX], stream[JS_STREAM_MAX];
	int dirfd;
	pthread_mutex_t lock;        /* nodes' counters, for the metrics thread */
	struct strmap *by_token;
	struct ptrvec nodes;
	uint64_t unknown_rejected[REJ_KINDS]; /* batches no node can be named for */
	struct recorder rec;
	struct store *store;
	struct sink *sink;
	struct gaps *gaps;
	struct storelink link;
	struct js_conn *js;
	char *shown_urls;            /* the URLs without passwords, for messages */
	int connected;
	uint64_t turned_mono_ns;     /* the loop's last turn, for /healthz (under lock) */
	int stopping;                /* see stop_requested */
	struct httpd *http;
	int sigfd;
	char said[JS_ERR_MAX];
	/*
	 * Messages delivered before this connection (to a collector killed, or cut off) and
	 * not acknowledged: up to stream sequence outstanding_to, 0 when none. They come again
	 * only after their ack wait, after later ones: until the consumer's ack floor passes
	 * them, a batch that would be refused for want of its node's key, or break its node's
	 * chain, may only have come early, and waits (see early).
	 */
	uint64_t outstanding_to, ack_floor;
	uint64_t outstanding_until_mono_ns, floor_asked_mono_ns;
	uint64_t consumer_asked_mono_ns; /* see round_trip */
};

void collector_opts__defaults(struct collector_opts *o)
{
	*o = (struct collector_opts){
		.prefix = SUBJECTS_DEFAULT_PREFIX,
		.key_path = "/etc/firstlight/collector.key",
		.durable = "firstlight-collector",
		.metrics_addr = "127.0.0.1:9465",
		.silent_after_s = 60,
	};
}

/* ---- nodes ---------------------------------------------------------------------------- */

/* A node name fit to be a file name in --keys: else the key is looked up by token. */
static int plain_name(const char *name)
{
	if (!*name || name[0] == '.' || strlen(name) > 200)
		return 0;
	for (const char *p = name; *p; p++)
		if (*p == '/' || (unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			return 0;
	return 1;
}

/* The key an operator pinned (--keys), or one this collector pinned on first use. */
static void load_key(struct collector *c, struct node *n)
{
	char path[4096];

	if (c->o.keys_dir) {
		const char *names[] = { plain_name(n->name) ? n->name : NULL, n->token };

		for (int i = 0; i < 2 && !n->have_key; i++) {
			if (!names[i])
				continue;
			snprintf(path, sizeof(path), "%s/%s.pub", c->o.keys_dir, names[i]);
			if (access(path, F_OK))
				continue;
			if (keys__read_public(path, n->key)) {
				log_warn("collect: %s: unreadable; batches of node %s are refused until it is fixed",
					 path, n->name);
				n->have_key = -1;
				return;
			}
			n->have_key = 1;
		}
	}
	if (!n->have_key) {
		snprintf(path, sizeof(path), "%s/%s/%s.pub", c->o.store_dir, COLLECTOR_KEYS_DIR, n->token);
		if (!access(path, F_OK) && !keys__read_public(path, n->key))
			n->have_key = 1;
	}
}

/* A write to the store failed: said once for what (a path), until another fails. */
static void store_failed(struct collector *c, const char *what, int err)
{
	if (!strncmp(what, c->said, sizeof(c->said) - 1)) /* said holds what, cut to its size */
		return;
	log_error("collect: %s: %s; the node's batches stay in the stream", what, strerror(-err));
	snprintf(c->said, sizeof(c->said), "%s", what);
}

/* The node's folder, opened on first need (and again after a failure: the disk may be back). */
static int node_store(struct collector *c, struct node *n)
{
	char what[JS_ERR_MAX];
	int err = 0;

	if (n->store)
		return 0;
	n->store = nodestore__open(c->dirfd, n->token, &err);
	if (n->store)
		return 0;
	snprintf(what, sizeof(what), "%.200s/%.40s", c->o.store_dir, n->token);
	store_failed(c, what, err);
	return err;
}

/* The node of a subject's token, known from now on even when its folder cannot be opened yet. */
static struct node *node_get(struct collector *c, const char *token, const char *name, int *err)
{
	struct node *n = strmap__get(c->by_token, token);

	if (n)
		return n;
	n = calloc(1, sizeof(*n));
	if (!n) {
		*err = -ENOMEM;
		return NULL;
	}
	snprintf(n->token, sizeof(n->token), "%s", token);
	snprintf(n->name, sizeof(n->name), "%s", name);
	load_key(c, n);
	pthread_mutex_lock(&c->lock);
	if (strmap__put(c->by_token, n->token, n) || ptrvec__push(&c->nodes, n)) {
		pthread_mutex_unlock(&c->lock);
		free(n);
		*err = -ENOMEM;
		return NULL;
	}
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* First use: the key the node's first batch states, kept for good and said in the chain. */
static int pin_key(struct collector *c, struct node *n, const uint8_t key[KEYS_PUB_LEN], const char *segment)
{
	Firstlight__V1__NodeKey nk = FIRSTLIGHT__V1__NODE_KEY__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	char name[SUBJECTS_TOKEN_MAX + 8], hex[KEYS_HEX_LEN];
	int kfd = -1, err;
	char *pem = NULL;

	if (mkdirat(c->dirfd, COLLECTOR_KEYS_DIR, 0700) && errno != EEXIST)
		return -errno;
	kfd = openat(c->dirfd, COLLECTOR_KEYS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (kfd < 0)
		return -errno;
	snprintf(name, sizeof(name), "%s.pub", n->token);
	err = keys__public_pem(key, &pem);
	if (!err)
		err = store_dir__write_atomic(kfd, name, pem, strlen(pem));
	free(pem);
	close(kfd);
	if (err)
		return err;
	memcpy(n->key, key, KEYS_PUB_LEN);
	n->have_key = 1;
	keys__hex(key, hex);
	log_info("collect: node %s: holding it to key %s, the one its first batch stated (trust on first use; "
		 "pin keys with --keys to rule out an impostor)", n->name, hex);
	nk.node = n->name;
	nk.public_key.data = n->key;
	nk.public_key.len = KEYS_PUB_LEN;
	nk.source = "trust-on-first-use";
	nk.segment = (char *)segment;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_NODE_KEY;
	ev.node_key = &nk;
	return recorder__emit(&c->rec, &ev, 0);
}

/* ---- findings ------------------------------------------------------------------------- */

static void finding(struct collector *c, int kind, const char *node, const char *reason, const char *detail,
		    uint64_t start_ns)
{
	struct gap_info gi = {
		.kind = kind, .count = 1, .node = node, .reason = reason, .detail = detail,
		.start_unix_ns = start_ns ? start_ns : clock__unix_ns(), .end_unix_ns = clock__unix_ns(),
	};

	gaps__emit(c->gaps, &gi);
	log_warn("collect: %s", detail);
}

/* Keeps what was refused, for whoever investigates: @rejected/<token>/<hash or seq>. */
static void keep_rejected(struct collector *c, const char *token, const char *id, const void *data, size_t len)
{
	char dir[SUBJECTS_TOKEN_MAX + 32];
	int dfd, fd;

	if (mkdirat(c->dirfd, COLLECTOR_REJECTED_DIR, 0700) && errno != EEXIST)
		return;
	snprintf(dir, sizeof(dir), "%s/%s", COLLECTOR_REJECTED_DIR, token);
	if (mkdirat(c->dirfd, dir, 0700) && errno != EEXIST)
		return;
	dfd = openat(c->dirfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return;
	fd = openat(dfd, id, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		int err = fdio__write_all(fd, data, len);

		if (!err && fsync(fd))
			err = -errno;
		close(fd);
		if (err) {
			/* A cut copy would mislead whoever investigates: the finding stands alone. */
			unlinkat(dfd, id, 0);
			log_warn("collect: keeping a rejected batch in %s: %s (its finding is recorded)", dir,
				 strerror(-err));
		}
	}
	close(dfd);
}

static int reject(struct collector *c, struct node *n, const char *token, enum reject why, uint64_t seq,
		  const char *hash_hex, const void *data, size_t len, const char *what)
{
	char detail[512], id[96];

	snprintf(detail, sizeof(detail), "refused a batch (stream seq %" PRIu64 ") on the subject of node %.120s: %.300s",
		 seq, n ? n->name : "?", what);
	pthread_mutex_lock(&c->lock);
	if (n)
		n->rejected[why]++;
	else
		c->unknown_rejected[why]++;
	pthread_mutex_unlock(&c->lock);
	finding(c, FIRSTLIGHT__V1__GAP__KIND__BATCH_REJECTED, n ? n->name : NULL, reject_names[why], detail, 0);
	snprintf(id, sizeof(id), "%s.seq-%" PRIu64 ".batch", hash_hex && *hash_hex ? hash_hex : "unhashed", seq);
	keep_rejected(c, token && *token ? token : "@unknown", id, data, len);
	return 0; /* acknowledged: it is on record, and will not improve */
}

/* ---- one batch ------------------------------------------------------------------------ */

static int early(struct collector *c, uint64_t seq);

/* The node a batch's records say they come from: its segment header's, or its first record's. */
static const char *stated_node(const Firstlight__V1__Batch *b)
{
	if (b->header && b->header->node && *b->header->node)
		return b->header->node;
	if (b->n_events && b->events[0]->node && *b->events[0]->node)
		return b->events[0]->node;
	return NULL;
}

/* What the batch's records say of their run: STARTED and STOPPED. */
static void note_lifecycle(struct node *n, const Firstlight__V1__Batch *b)
{
	for (size_t i = 0; i < b->n_events; i++) {
		const Event *ev = b->events[i];

		if (ev->time_unix_nano > n->last_unix_ns)
			n->last_unix_ns = ev->time_unix_nano;
		if (ev->body_case != FIRSTLIGHT__V1__EVENT__BODY_AGENT)
			continue;
		if (ev->agent->state == FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED)
			n->stopped = 1;
		else if (ev->agent->state == FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STARTED)
			n->stopped = 0;
	}
}

/*
 * One batch of a message (its only one, or one of a bundle): checked, then stored. want_hex:
 * the hash the message's headers name, for its last batch; NULL for the others.
 * 0: done with it (stored, a duplicate, or rejected on record). -errno: not now.
 */
static int take_batch(struct collector *c, struct node *n, const char *token, const char *seg, uint64_t seq,
		      const uint8_t *data, size_t len, const char *want_hex)
{
	char hex[CHAIN_HEX_LEN], what[768], stated_token[SUBJECTS_TOKEN_MAX];
	const uint8_t *hash, *sig, *prev;
	uint8_t computed[CHAIN_HASH_LEN];
	Firstlight__V1__Batch *b = NULL;
	struct batchwire w;
	const char *stated;
	size_t core;
	int err, follows, held;

	if (chain__split(data, len, &core, &hash, &sig) || chain__hash(data, core, computed) ||
	    memcmp(computed, hash, CHAIN_HASH_LEN))
		return reject(c, n, token, REJ_HASH, seq, NULL, data, len,
			      "its bytes do not hash to the hash it carries: modified or not a sealed batch");
	chain__hex(hash, CHAIN_HASH_LEN, hex);
	if (want_hex && strcmp(hex, want_hex))
		return reject(c, n, token, REJ_HEADERS, seq, hex, data, len, "published under another batch's hash");
	b = batchwire__scan(data, len, &w) ? NULL : batchwire__unpack(data, len);
	if (!b)
		return reject(c, n, token, REJ_UNDECODABLE, seq, hex, data, len,
			      "not a Batch message, or one over the limits no agent reaches");
	stated = stated_node(b);
	if (stated && (subjects__token(stated, stated_token) || strcmp(stated_token, token))) {
		snprintf(what, sizeof(what), "its records are of node '%.120s', published on another node's subject",
			 stated);
		err = reject(c, n, token, REJ_WRONG_NODE, seq, hex, data, len, what);
		goto done;
	}
	if (!n->have_key && b->header && b->header->public_key.len == KEYS_PUB_LEN &&
	    (err = pin_key(c, n, b->header->public_key.data, seg))) {
		snprintf(what, sizeof(what), "%.200s/%s/%.64s.pub", c->o.store_dir, COLLECTOR_KEYS_DIR, n->token);
		store_failed(c, what, err);
		goto done; /* not acked: tried again */
	}
	if (!n->have_key && early(c, seq)) {
		err = -EINPROGRESS; /* its segment's first batch may be among those outstanding */
		goto done;
	}
	if (n->have_key != 1) {
		err = reject(c, n, token, REJ_NO_KEY, seq, hex, data, len, n->have_key < 0 ?
			     "its pinned key file is unreadable" :
			     "no key is pinned for it and this batch states none (not the first of a segment)");
		goto done;
	}
	if (b->header && b->header->public_key.len == KEYS_PUB_LEN &&
	    memcmp(b->header->public_key.data, n->key, KEYS_PUB_LEN)) {
		char was[KEYS_HEX_LEN], now[KEYS_HEX_LEN];

		keys__hex(n->key, was);
		keys__hex(b->header->public_key.data, now);
		snprintf(what, sizeof(what), "it states key %s, the node is held to %s: pin the new key if the "
			 "node was re-keyed", now, was);
		err = reject(c, n, token, REJ_KEY_CHANGED, seq, hex, data, len, what);
		goto done;
	}
	if (chain__check_signature(n->key, hash, sig)) {
		err = reject(c, n, token, REJ_SIGNATURE, seq, hex, data, len,
			     "its signature is not the node's key's: forged");
		goto done;
	}
	prev = nodestore__last_hash(n->store);
	follows = !prev || (b->prev_hash.len == CHAIN_HASH_LEN && !memcmp(b->prev_hash.data, prev, CHAIN_HASH_LEN));
	/* Held already: one of the last ones delivered again, or, when it does not follow,
	 * one held long ago and shipped again (the node's stream was lost). */
	held = nodestore__has(n->store, hash) ? 1 : follows ? 0 : nodestore__holds(n->store, seg, hash);
	if (held < 0) {
		err = held;
		snprintf(what, sizeof(what), "%.200s/%.300s/%.64s", c->o.store_dir, n->token, seg);
		store_failed(c, what, err);
		goto done;
	}
	if (held) {
		pthread_mutex_lock(&c->lock);
		n->duplicates++;
		pthread_mutex_unlock(&c->lock);
		err = 0;
		goto done;
	}
	if (!follows) {
		char want[CHAIN_HEX_LEN], got[CHAIN_HEX_LEN];

		if (early(c, seq)) {
			err = -EINPROGRESS; /* the batches between may be among those outstanding */
			goto done;
		}
		snprintf(what, sizeof(what), "node %.120s: batch %s of %.64s does not follow the last one held (it names "
			 "%s before it, the last held is %s): batches between are missing or were replaced",
			 n->name, hex, seg, b->prev_hash.len ? chain__hex(b->prev_hash.data, b->prev_hash.len, got) :
			 "none", chain__hex(prev, CHAIN_HASH_LEN, want));
		pthread_mutex_lock(&c->lock);
		n->chain_breaks++;
		pthread_mutex_unlock(&c->lock);
		finding(c, FIRSTLIGHT__V1__GAP__KIND__CHAIN_BREAK, n->name, "chain-break", what, n->last_unix_ns);
	}
	err = nodestore__append(n->store, seg, data, len, hash);
	if (err) {
		snprintf(what, sizeof(what), "%.200s/%.300s/%.64s", c->o.store_dir, n->token, seg);
		store_failed(c, what, err);
		goto done;
	}
	pthread_mutex_lock(&c->lock);
	n->batches++;
	n->last_mono_ns = clock__mono_ns();
	n->last_wall = (double)clock__unix_ns() / 1e9;
	note_lifecycle(n, b);
	if (n->silent) {
		log_info("collect: node %s speaks again", n->name);
		n->silent = 0;
	}
	pthread_mutex_unlock(&c->lock);
done:
	firstlight__v1__batch__free_unpacked(b, NULL);
	return err;
}

/*
 * A compressed message's body inflated (raw deflate, as the node's segment file holds it),
 * into *out (caller frees). -EFBIG past 64 of the largest batches, -EBADMSG when not deflate data.
 */
static int inflate_body(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	z_stream z = { 0 };
	size_t cap = len * 8 + 4096, n = 0;
	uint8_t *buf = NULL;
	int rc, err = 0;

	if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	for (;;) {
		if (n == cap || !buf) {
			uint8_t *p;

			if (buf)
				cap *= 2;
			if (cap > BUNDLE_INFLATED_MAX)
				cap = BUNDLE_INFLATED_MAX;
			if (buf && n == cap) {
				err = -EFBIG;
				break;
			}
			if (!(p = realloc(buf, cap))) {
				err = -ENOMEM;
				break;
			}
			buf = p;
		}
		z.next_out = buf + n;
		z.avail_out = (uInt)(cap - n);
		rc = inflate(&z, Z_SYNC_FLUSH);
		n = cap - z.avail_out;
		if (rc == Z_STREAM_END || (z.avail_in == 0 && z.avail_out > 0))
			break;
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			err = rc == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
			break;
		}
	}
	inflateEnd(&z);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*out_len = n;
	return 0;
}

/* The batches of a bundle, each after its length (a varint). */
static int take_framed(struct collector *c, struct node *n, const char *token, const char *seg, uint64_t seq,
		       const uint8_t *data, size_t len, uint64_t count, const char *hdr_hash)
{
	char what[256];
	uint64_t blen;
	size_t off = 0;
	int err;

	/* The framing whole first: nothing of a bundle cut short is stored. */
	for (uint64_t i = 0; i < count; i++) {
		int used = varint__get(data + off, len - off, &blen);

		if (used <= 0 || blen > len - off - (size_t)used) {
			snprintf(what, sizeof(what), "not a bundle of %" PRIu64 " batches: batch %" PRIu64
				 "'s length is cut or beyond the message", count, i);
			return reject(c, n, token, REJ_UNDECODABLE, seq, NULL, data, len, what);
		}
		off += (size_t)used + (size_t)blen;
	}
	if (off != len)
		return reject(c, n, token, REJ_UNDECODABLE, seq, NULL, data, len,
			      "bytes after the bundle's last batch");
	for (uint64_t i = 0, at = 0; i < count; i++) {
		int used = varint__get(data + at, len - at, &blen);

		at += (size_t)used;
		err = take_batch(c, n, token, seg, seq, data + at, (size_t)blen, i + 1 == count ? hdr_hash : NULL);
		if (err)
			return err; /* not acked: delivered again, the batches before are duplicates then */
		at += (size_t)blen;
	}
	return 0;
}

/* Under c->lock: seq among n's messages handed back (0), or not (-ENOMEM: not enough memory). */
static int back_add(struct node *n, uint64_t seq)
{
	size_t i = 0;

	while (i < n->n_back && n->back[i] < seq)
		i++;
	if (i < n->n_back && n->back[i] == seq)
		return 0;
	if (n->n_back == n->cap_back) {
		size_t cap = n->cap_back ? 2 * n->cap_back : 16;
		uint64_t *b = realloc(n->back, cap * sizeof(*b));

		if (!b)
			return -ENOMEM;
		n->back = b;
		n->cap_back = cap;
	}
	memmove(n->back + i + 1, n->back + i, (n->n_back - i) * sizeof(*n->back));
	n->back[i] = seq;
	if (!n->n_back++)
		n->waiting_since_mono_ns = clock__mono_ns();
	return 0;
}

/* Under c->lock: seq no longer among them. */
static void back_remove(struct node *n, uint64_t seq)
{
	for (size_t i = 0; i < n->n_back; i++) {
		if (n->back[i] != seq)
			continue;
		memmove(n->back + i, n->back + i + 1, (n->n_back - i - 1) * sizeof(*n->back));
		n->n_back--;
		return;
	}
}

/*
 * Whether n's message seq waits behind one of its earlier ones handed back: yes, unless
 * the stream no longer holds that one (its limits discarded it while it waited, or it was
 * deleted); then the batches after it go on, and the chain check names what is missing.
 * The stream is asked at most every ASK_EVERY_NS.
 */
static int waits(struct collector *c, struct node *n, uint64_t seq)
{
	char why[JS_ERR_MAX];

	while (n->n_back && seq > n->back[0]) {
		uint64_t now = clock__mono_ns(), gone = n->back[0];

		if (now - n->asked_mono_ns < ASK_EVERY_NS)
			return 1;
		n->asked_mono_ns = now;
		if (js_conn__holds(c->js, c->stream, gone, why) != -ENOENT)
			return 1;
		log_warn("collect: node %s: stream message %" PRIu64 ", which its later batches waited behind, is no "
			 "longer in stream %s (its limits discarded it, or it was deleted): going on without it",
			 n->name, gone, c->stream);
		pthread_mutex_lock(&c->lock);
		back_remove(n, gone);
		pthread_mutex_unlock(&c->lock);
	}
	return 0;
}

/* After take: a message of n not taken is handed back, and the later ones wait behind it; taken, it leaves. */
static void note_taken(struct collector *c, struct node *n, uint64_t seq, int err)
{
	pthread_mutex_lock(&c->lock);
	if (err) {
		if (!n->n_back) {
			n->asked_mono_ns = clock__mono_ns();
			log_warn("collect: node %s: stream message %" PRIu64 " is not stored yet; its later batches wait "
				 "behind it, in the stream", n->name, seq);
		}
		if (back_add(n, seq))
			log_error("collect: node %s: out of memory: its batches may be stored out of order", n->name);
	} else if (n->n_back) {
		back_remove(n, seq);
		if (!n->n_back)
			log_info("collect: node %s: its batches are stored again, in order, after %.1f s", n->name,
				 (double)(clock__mono_ns() - n->waiting_since_mono_ns) / 1e9);
	}
	pthread_mutex_unlock(&c->lock);
}

/*
 * 0: done with it (stored, a duplicate, or rejected on record): ack. -EAGAIN: it waits
 * behind an earlier message of its node. Other -errno: not now. *np: its node, when known.
 */
static int take(struct collector *c, struct js_msg *m, uint64_t seq, struct node **np)
{
	const char *subject = js_msg__subject(m), *token, *seg, *hdr_hash, *count_hdr, *enc;
	char name[256];
	uint64_t number, count = 1;
	const uint8_t *data;
	uint8_t *plain = NULL;
	struct node *n;
	size_t len;
	int err, end = 0;

	*np = NULL;
	data = js_msg__data(m, &len);
	if (strncmp(subject, c->head, strlen(c->head)))
		return reject(c, NULL, NULL, REJ_SUBJECT, seq, NULL, data, len, "not a batches subject");
	token = subject + strlen(c->head);
	if (subjects__node(token, name, sizeof(name)))
		return reject(c, NULL, NULL, REJ_SUBJECT, seq, NULL, data, len, "the subject names no node");
	n = node_get(c, token, name, &err);
	if (!n)
		return err;
	*np = n;
	if (waits(c, n, seq))
		return -EAGAIN;
	if ((err = node_store(c, n)))
		return err;
	if (len > BATCH_MAX_BYTES)
		return reject(c, n, token, REJ_SIZE, seq, NULL, data, 0, "larger than any batch");
	seg = js_msg__header(m, "Fl-Segment");
	hdr_hash = js_msg__header(m, "Fl-Hash");
	if (!seg || store_dir__segment_number(seg, &number) || !hdr_hash)
		return reject(c, n, token, REJ_HEADERS, seq, NULL, data, len,
			      "no segment name or hash in its headers");
	/* A bundle: Fl-Count batches of one segment, each after its length (a varint). */
	count_hdr = js_msg__header(m, "Fl-Count");
	if (count_hdr && (sscanf(count_hdr, "%" SCNu64 "%n", &count, &end) != 1 || count_hdr[end] || count < 1 ||
			  count > COLLECT_BUNDLE_MAX))
		return reject(c, n, token, REJ_HEADERS, seq, NULL, data, len, "its Fl-Count is not a batch count");
	if (!count_hdr)
		return take_batch(c, n, token, seg, seq, data, len, hdr_hash);
	/* Compressed: the batches as the node's file holds them, which inflate to the framing. */
	enc = js_msg__header(m, "Fl-Encoding");
	if (enc && strcmp(enc, "deflate"))
		return reject(c, n, token, REJ_HEADERS, seq, NULL, data, len, "an Fl-Encoding other than deflate");
	if (enc) {
		err = inflate_body(data, len, &plain, &len);
		if (err == -ENOMEM)
			return err;
		if (err)
			return reject(c, n, token, err == -EFBIG ? REJ_SIZE : REJ_UNDECODABLE, seq, NULL, data, len,
				      err == -EFBIG ? "it inflates beyond any batch" : "not deflate data");
		data = plain;
	}
	err = take_framed(c, n, token, seg, seq, data, len, count, hdr_hash);
	free(plain);
	return err;
}

/* Nodes that went quiet without saying they stopped. */
static void check_silent(struct collector *c)
{
	uint64_t now = clock__mono_ns(), after = (uint64_t)c->o.silent_after_s * NS_PER_S;

	for (size_t i = 0; i < c->nodes.n; i++) {
		struct node *n = c->nodes.v[i];
		char detail[512];

		if (n->stopped || n->silent || !n->last_mono_ns || now - n->last_mono_ns < after)
			continue;
		snprintf(detail, sizeof(detail), "node %.200s sent nothing for %" PRIu64 " s and its last run wrote no "
			 "STOPPED record: its sensor or its node is gone, or cannot reach the engine", n->name,
			 (uint64_t)((now - n->last_mono_ns) / NS_PER_S));
		pthread_mutex_lock(&c->lock);
		n->silent = 1;
		pthread_mutex_unlock(&c->lock);
		finding(c, FIRSTLIGHT__V1__GAP__KIND__NODE_SILENT, n->name, "no-batches", detail, n->last_unix_ns);
	}
}

/* ---- metrics -------------------------------------------------------------------------- */

static int render(struct collector *c, char *buf, size_t cap)
{
	struct promtext o;
	uint64_t now = clock__mono_ns();

	promtext__init(&o, buf, cap);
	pthread_mutex_lock(&c->lock);
	promtext__u64(&o, "firstlight_collector_connected", "gauge", "1 while connected to JetStream.",
		      (uint64_t)c->connected);
	promtext__u64(&o, "firstlight_collector_nodes", "gauge", "Nodes whose batches this collector holds.",
		      c->nodes.n);
	promtext__header(&o, "firstlight_collector_batches_total", "counter", "Batches stored, by node.");
	for (size_t i = 0; i < c->nodes.n; i++) {
		struct node *n = c->nodes.v[i];

		promtext__labelled(&o, "firstlight_collector_batches_total", "node", n->name, n->batches);
	}
	promtext__header(&o, "firstlight_collector_duplicate_batches_total", "counter",
			 "Batches delivered again that were already stored, by node.");
	for (size_t i = 0; i < c->nodes.n; i++) {
		struct node *n = c->nodes.v[i];

		promtext__labelled(&o, "firstlight_collector_duplicate_batches_total", "node", n->name, n->duplicates);
	}
	promtext__header(&o, "firstlight_collector_chain_breaks_total", "counter",
			 "Batches that do not follow the one before them, by node.");
	for (size_t i = 0; i < c->nodes.n; i++) {
		struct node *n = c->nodes.v[i];

		promtext__labelled(&o, "firstlight_collector_chain_breaks_total", "node", n->name, n->chain_breaks);
	}
	promtext__header(&o, "firstlight_collector_rejected_batches_total", "counter",
			 "Batches refused, by node and reason (forged, mis-signed, wrong node, ...).");
	for (size_t i = 0; i < c->nodes.n; i++) {
		struct node *n = c->nodes.v[i];

		for (int r = 0; r < REJ_KINDS; r++) {
			if (!n->rejected[r])
				continue;
			promtext__str(&o, "firstlight_collector_rejected_batches_total{node=\"");
			promtext__label_value(&o, n->name, sizeof(n->name));
			promtext__str(&o, "\",reason=\"");
			promtext__str(&o, reject_names[r]);
			promtext__str(&o, "\"} ");
			{
				char v[24];

				snprintf(v, sizeof(v), "%" PRIu64 "\n", n->rejected[r]);
				promtext__str(&o, v);
			}
		}
	}
	promtext__header(&o, "firstlight_collector_node_last_batch_timestamp_seconds", "gauge",
			 "Unix time a node's last batch arrived.");
	for (size_t i = 0; i < c->nodes.n; i++) {
		struct node *n = c->nodes.v[i];

		promtext__labelled_double(&o, "firstlight_collector_node_last_batch_timestamp_seconds", "node",
					  n->name, n->last_wall);
	}
	promtext__header(&o, "firstlight_collector_node_waiting_seconds", "gauge",
			 "How long a node's batches have waited in the stream behind one that could not be stored "
			 "(disk full, a write error); 0 when none wait.");
	for (size_t i = 0; i < c->nodes.n; i++) {
		struct node *n = c->nodes.v[i];

		promtext__labelled_double(&o, "firstlight_collector_node_waiting_seconds", "node", n->name,
					  n->n_back ? (double)(now - n->waiting_since_mono_ns) / 1e9 : 0);
	}
	promtext__header(&o, "firstlight_collector_node_silent", "gauge",
			 "1 for a node that stopped sending without a STOPPED record.");
	for (size_t i = 0; i < c->nodes.n; i++) {
		struct node *n = c->nodes.v[i];

		promtext__labelled(&o, "firstlight_collector_node_silent", "node", n->name, (uint64_t)n->silent);
	}
	pthread_mutex_unlock(&c->lock);
	return promtext__end(&o);
}

/*
 * /healthz: 200 while the loop turns, connected or not (a collector waiting out an engine
 * outage is healthy: restarting it would not bring the engine back, and
 * firstlight_collector_connected says the rest); 503 once it has not turned for
 * HEALTH_STALL_S, longer than any wait of one turn (a fetch, a connection attempt, a
 * backoff's step), so that a liveness probe restarts a collector that is stuck.
 */
static int answer_health(struct collector *c, char **body, size_t *len, const char **type)
{
	uint64_t now, turned;
	int connected, status;

	pthread_mutex_lock(&c->lock);
	turned = c->turned_mono_ns;
	connected = c->connected;
	pthread_mutex_unlock(&c->lock);
	/* Read after the turn it is compared with (turned() reads the clock before it locks):
	 * read before, a turn landing in between would be later than now, and the difference
	 * would wrap into "stuck". */
	now = clock__mono_ns();
	if (turned && now - turned < HEALTH_STALL_S * NS_PER_S) {
		status = 200;
		*body = strdup(connected ? "ok: consuming\n" : "ok: not connected to JetStream, retrying\n");
	} else if (!turned) {
		status = 503;
		*body = strdup("starting\n");
	} else {
		status = 503;
		if (asprintf(body, "stuck: the collector's loop has not turned for %" PRIu64 " s\n",
			     (uint64_t)((now - turned) / NS_PER_S)) < 0)
			*body = NULL;
	}
	if (!*body)
		return -ENOMEM;
	*len = strlen(*body);
	*type = "text/plain; charset=utf-8";
	return status;
}

static int answer(void *ctx, const char *path, char **body, size_t *len, const char **type)
{
	size_t cap = 16384;

	if (!strcmp(path, "/healthz"))
		return answer_health(ctx, body, len, type);
	for (;;) {
		char *buf = malloc(cap);
		int n;

		if (!buf)
			return -ENOMEM;
		n = render(ctx, buf, cap);
		if (n >= 0) {
			*body = buf;
			*len = (size_t)n;
			*type = PROMTEXT_CONTENT_TYPE;
			return 200;
		}
		free(buf);
		if (cap > (64u << 20))
			return -ENOMEM;
		cap *= 4;
	}
}

/* ---- the loop ------------------------------------------------------------------------- */

/* The loop is alive (answer_health). */
static void turned(struct collector *c)
{
	uint64_t now = clock__mono_ns();

	pthread_mutex_lock(&c->lock);
	c->turned_mono_ns = now;
	pthread_mutex_unlock(&c->lock);
}

/* A SIGINT or SIGTERM since the start: read once, then remembered (a wait that saw it
 * ends, and the loop must see it too). */
static int stop_requested(struct collector *c)
{
	struct signalfd_siginfo si;

	if (!c->stopping)
		c->stopping = read(c->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si);
	return c->stopping;
}

static void say_once(struct collector *c, const char *why)
{
	if (strcmp(why, c->said)) {
		log_warn("collect: %s: %s; trying again", c->shown_urls ? c->shown_urls : "", why);
		snprintf(c->said, sizeof(c->said), "%s", why);
	}
}

static int connect_now(struct collector *c)
{
	struct js_opts jo = { .urls = c->o.urls, .creds = c->o.creds, .tls_ca = c->o.tls_ca,
			      .name = "firstlight-collector" };
	struct js_stream st = { .name = c->stream, .subjects = c->filter, .replicas = c->o.replicas,
				.duplicate_window_ns = DUPLICATE_WINDOW_NS };
	struct js_consumer_state cs;
	char why[JS_ERR_MAX];
	int err;

	c->js = js_conn__open(&jo, &err, why);
	if (!c->js) {
		say_once(c, why);
		return err;
	}
	err = js_conn__ensure_stream(c->js, &st, why);
	if (!err)
		err = js_conn__consume(c->js, c->stream, c->filter, c->o.durable, why);
	if (err) {
		say_once(c, why);
		js_conn__close(c->js);
		c->js = NULL;
		return err;
	}
	c->said[0] = '\0';
	log_info("collect: consuming %s from stream %s as %s", c->filter, c->stream, c->o.durable);
	if (!js_conn__consumer_state(c->js, c->stream, c->o.durable, &cs, why) && cs.pending) {
		c->ack_floor = cs.ack_floor;
		c->outstanding_to = cs.stream_last;
		c->outstanding_until_mono_ns = clock__mono_ns() + OUTSTANDING_WAIT_NS;
		log_info("collect: %" PRIu64 " messages delivered before were not acknowledged: until they come again "
			 "(at most %d s), a batch after them that would break its node's chain or lacks its key waits",
			 cs.pending, (int)(OUTSTANDING_WAIT_NS / NS_PER_S));
	}
	return 0;
}

/*
 * Whether the message seq, which would be refused for want of its node's key or break its
 * node's chain, may only have come before earlier ones that are outstanding (see
 * outstanding_to): then it waits. Not past OUTSTANDING_WAIT_NS: a message the stream
 * dropped meanwhile must not stall the collector; the finding is made then.
 */
static int early(struct collector *c, uint64_t seq)
{
	uint64_t now = clock__mono_ns();
	struct js_consumer_state cs;
	char why[JS_ERR_MAX];

	if (!c->outstanding_to)
		return 0;
	if (now - c->floor_asked_mono_ns >= NS_PER_S) {
		c->floor_asked_mono_ns = now;
		if (!js_conn__consumer_state(c->js, c->stream, c->o.durable, &cs, why))
			c->ack_floor = cs.ack_floor;
	}
	if (c->ack_floor >= c->outstanding_to) {
		log_info("collect: the messages delivered before are all in");
		c->outstanding_to = 0;
		return 0;
	}
	if (now >= c->outstanding_until_mono_ns) {
		log_warn("collect: messages delivered before (up to stream message %" PRIu64 ") did not all come again "
			 "within %d s: judging the batches after them as they are", c->outstanding_to,
			 (int)(OUTSTANDING_WAIT_NS / NS_PER_S));
		c->outstanding_to = 0;
		return 0;
	}
	return c->ack_floor + 1 < seq;
}

/* Why a message was not taken, for when it comes again. */
enum hand_back { BACK_FAILED, BACK_BEHIND, BACK_EARLY };

/*
 * When a message not taken comes again. One that failed: soon at first, then backing off
 * (the disk may stay full for long). One that may have come early: in a second. Either,
 * its node's first handed back, sets the node's retry_at. One waiting behind an earlier
 * one of its node: just after that one's next try, the later ones later, so that they come
 * back in order once it is taken (one that comes early only waits again).
 */
static int64_t hand_back_ms(struct collector *c, struct node *n, struct js_msg *m, uint64_t seq,
			    enum hand_back why)
{
	uint64_t now = clock__mono_ns(), delivered = js_msg__delivered(m);
	int64_t ms = why == BACK_EARLY ? EARLY_RETRY_MS : RETRY_MS;
	size_t rank = 0;

	if (!n)
		return ms;
	if (why != BACK_BEHIND) {
		for (uint64_t i = 1; why == BACK_FAILED && i < delivered && ms < RETRY_MAX_MS; i++)
			ms *= 2;
		ms = ms < RETRY_MAX_MS ? ms : RETRY_MAX_MS;
		pthread_mutex_lock(&c->lock);
		if (n->n_back && n->back[0] == seq)
			n->retry_at_mono_ns = now + (uint64_t)ms * 1000000;
		pthread_mutex_unlock(&c->lock);
		return ms;
	}
	while (rank < n->n_back && n->back[rank] < seq)
		rank++;
	ms = n->retry_at_mono_ns > now ? (int64_t)((n->retry_at_mono_ns - now) / 1000000) : 0;
	return ms + RETRY_AFTER_MS + (int64_t)(rank < 100 ? rank : 100) * 10;
}

/* One fetch: every message taken, the stores synced, our own records made durable, then
 * the acks (a crash before them redelivers, and the redelivery is known as a duplicate). */
static int round_trip(struct collector *c)
{
	struct js_msg *msgs[FETCH_MAX];
	struct node *of[FETCH_MAX];
	uint64_t seq[FETCH_MAX];
	int ok[FETCH_MAX];
	enum hand_back why_back[FETCH_MAX];
	char why[JS_ERR_MAX];
	int n = 0, err;

	err = js_conn__fetch(c->js, msgs, FETCH_MAX, FETCH_WAIT_MS, &n, why);
	if (err) {
		say_once(c, why);
		return err;
	}
	if (!n) {
		/* A fetch from a consumer that is gone (its stream deleted, or the server came
		 * back without its store) only times out: ask now and then whether it is there. */
		struct js_consumer_state cs;
		uint64_t now = clock__mono_ns();

		if (now - c->consumer_asked_mono_ns < CONSUMER_ASK_EVERY_NS)
			return 0;
		c->consumer_asked_mono_ns = now;
		err = js_conn__consumer_state(c->js, c->stream, c->o.durable, &cs, why);
		if (err == -ENODEV)
			log_warn("collect: %s", why);
		return err == -ENODEV ? err : 0;
	}
	for (size_t i = 0; i < c->nodes.n; i++) {
		struct node *nd = c->nodes.v[i];

		nd->undone_seen = nd->store ? nodestore__undone(nd->store) : 0;
	}
	for (int i = 0; i < n; i++) {
		seq[i] = js_msg__seq(msgs[i]); /* parsed from the reply subject: once */
		err = take(c, msgs[i], seq[i], &of[i]);
		ok[i] = !err;
		why_back[i] = err == -EAGAIN ? BACK_BEHIND : err == -EINPROGRESS ? BACK_EARLY : BACK_FAILED;
		if (of[i])
			note_taken(c, of[i], seq[i], err);
	}
	for (size_t i = 0; i < c->nodes.n; i++) {
		struct node *nd = c->nodes.v[i];

		/* Every node, not only those written to: a directory fsync that failed (a new
		 * file's name) is tried again before its batches, held, are acked. */
		nd->sync_failed = nd->store && (err = nodestore__sync(nd->store));
		if (nd->sync_failed) {
			char what[512];

			snprintf(what, sizeof(what), "%.200s/%.64s", c->o.store_dir, nd->token);
			store_failed(c, what, err);
		}
	}
	/* A failed sync (here, or when an append moved to the next file) leaves the node's
	 * batches of this fetch not known durable: a failed fdatasync forgot those written
	 * since the last good one, a failed directory fsync may lose a new file's name. None
	 * of its messages of this fetch is acked: those forgotten are written again when
	 * they come, the others (stored before, or judged held by a batch now forgotten) are
	 * known again as held. Its later messages wait behind them, as behind any batch not
	 * stored. */
	for (int i = 0; i < n; i++) {
		if (!ok[i] || !of[i] || !of[i]->store ||
		    (!of[i]->sync_failed && nodestore__undone(of[i]->store) == of[i]->undone_seen))
			continue;
		ok[i] = 0;
		why_back[i] = BACK_FAILED;
		note_taken(c, of[i], seq[i], -EIO);
	}
	c->sink->flush(c->sink);
	if (js_conn__ack(c->js, msgs, ok, n, why))
		say_once(c, why); /* those not acked come again: held already, they count as duplicates */
	/* Those not taken come again soon, rather than after the consumer's ack wait. */
	for (int pass = 0; pass < 2; pass++) /* the first handed back set the times of those behind */
		for (int i = 0; i < n; i++)
			if (!ok[i] && (why_back[i] == BACK_BEHIND) == pass &&
			    js_conn__nak(c->js, msgs[i], hand_back_ms(c, of[i], msgs[i], seq[i], why_back[i]), why))
				say_once(c, why);
	for (int i = 0; i < n; i++)
		js_msg__free(msgs[i]);
	return 0;
}

static int emit_lifecycle(struct collector *c, int state)
{
	Firstlight__V1__AgentLifecycle body = FIRSTLIGHT__V1__AGENT_LIFECYCLE__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	body.state = state;
	body.version = "collector";
	body.pid = (uint32_t)getpid();
	body.boot_id = c->rec.boot_id;
	if (state == FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED)
		body.records = c->rec.seq + 1;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_AGENT;
	ev.agent = &body;
	return recorder__emit(&c->rec, &ev, 0);
}

static int open_self(struct collector *c)
{
	struct store_opts so;
	struct store_ident id;
	char dir[4096];
	int err = 0;

	err = recorder__init(&c->rec, NULL);
	if (err) {
		log_error("collect: records: %s", strerror(-err));
		return err;
	}
	store_opts__defaults(&so);
	so.key_path = c->o.key_path;
	snprintf(dir, sizeof(dir), "%s/%s", c->o.store_dir, COLLECTOR_SELF_DIR);
	id = (struct store_ident){ .run_id = c->rec.run_id, .node = c->rec.node, .boot_id = c->rec.boot_id };
	c->store = store__open(dir, &so, &id, &err);
	if (!c->store)
		return err; /* it said why */
	c->sink = store__sink(c->store);
	c->rec.sink = c->sink;
	c->gaps = gaps__new(&c->rec);
	if (!c->gaps)
		return -ENOMEM;
	c->link = (struct storelink){ .rec = &c->rec, .gaps = c->gaps };
	storelink__bind(&c->link, c->store);
	return 0;
}

static int write_ready(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	return close(fd) ? -errno : 0;
}

int collector__run(const struct collector_opts *o)
{
	struct collector c = { .o = *o, .dirfd = -1, .sigfd = -1 };
	int err = 0, rt, backoff_ms = 500, ready = 0;
	uint64_t last_tick = 0;
	sigset_t mask;

	pthread_mutex_init(&c.lock, NULL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) || (c.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		log_error("collect: signals: %s", strerror(errno));
		return 1;
	}
	c.shown_urls = js__shown_urls(o->urls);
	subjects__batches(o->prefix, "", c.head, sizeof(c.head));
	subjects__all_batches(o->prefix, c.filter, sizeof(c.filter));
	subjects__stream(o->prefix, c.stream, sizeof(c.stream));
	c.dirfd = store_dir__open(o->store_dir);
	if (c.dirfd < 0) {
		err = c.dirfd;
		log_error("collect: --store %s: %s", o->store_dir, strerror(-err));
		goto out;
	}
	c.by_token = strmap__new();
	if (!c.by_token) {
		err = -ENOMEM;
		goto out;
	}
	if ((err = open_self(&c)))
		goto out;
	if (o->metrics_addr) {
		static const char *const paths[] = { "/metrics", "/healthz", NULL };
		int e;

		c.http = httpd__start(o->metrics_addr, paths, answer, &c, &e);
		if (!c.http && o->metrics_explicit) {
			log_error("--metrics-addr %s: %s", o->metrics_addr, strerror(-e));
			err = e;
			goto out;
		}
		if (!c.http)
			log_warn("collect: metrics not served on %s: %s (set --metrics-addr, or off)", o->metrics_addr,
				 strerror(-e));
		else
			log_info("collect: metrics on http://%s/metrics (port %d)", o->metrics_addr, httpd__port(c.http));
	}
	emit_lifecycle(&c, FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STARTED);
	c.sink->flush(c.sink);
	while (!stop_requested(&c)) {
		uint64_t now = clock__mono_ns();

		turned(&c);
		if (!c.js && connect_now(&c)) {
			for (int slept = 0; slept < backoff_ms && !stop_requested(&c); slept += 100) {
				usleep(100000);
				turned(&c);
			}
			backoff_ms = backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff_ms * 2;
			continue;
		}
		backoff_ms = 500;
		if (!ready) {
			ready = 1;
			log_info("collect: ready, storing into %s", o->store_dir);
			if (o->ready_file && (err = write_ready(o->ready_file))) {
				log_error("collect: ready file %s: %s", o->ready_file, strerror(-err));
				goto out;
			}
		}
		pthread_mutex_lock(&c.lock);
		c.connected = js_conn__connected(c.js);
		pthread_mutex_unlock(&c.lock);
		rt = round_trip(&c);
		if (rt == -ENODEV) {
			/* The consumer or its stream is gone (deleted, or the server came back
			 * without its store): connect afresh, which makes them again. */
			log_warn("collect: %s: making the stream and the consumer again", c.stream);
			js_conn__close(c.js);
			c.js = NULL;
		} else if (rt) {
			usleep(200000); /* the client reconnects by itself meanwhile */
		}
		if (now - last_tick >= NS_PER_S) {
			last_tick = now;
			check_silent(&c);
			store__tick(c.store);
			c.sink->flush(c.sink);
		}
	}
	log_info("collect: stopping");
	emit_lifecycle(&c, FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED);
	c.sink->flush(c.sink);
out:
	if (o->ready_file && ready)
		unlink(o->ready_file);
	httpd__stop(c.http);
	js_conn__close(c.js);
	for (size_t i = 0; i < c.nodes.n; i++) {
		struct node *n = c.nodes.v[i];

		nodestore__free(n->store);
		free(n->back);
		free(n);
	}
	ptrvec__free(&c.nodes);
	strmap__free(c.by_token);
	gaps__free(c.gaps);
	sink__free(c.sink);
	store__free(c.store);
	recorder__fini(&c.rec);
	if (c.dirfd >= 0)
		close(c.dirfd);
	if (c.sigfd >= 0)
		close(c.sigfd);
	free(c.shown_urls);
	pthread_mutex_destroy(&c.lock);
	return err ? 1 : 0;
}
