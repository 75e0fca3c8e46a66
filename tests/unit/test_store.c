/* Unit tests for the segment store: the node key (keys.c), the batch chain format
 * (chain.c), segment names (store_dir.c), finding where the chain ends after a stop, a
 * kill, a cut write, corruption or a deleted segment (chain_state.c), write failures
 * counted by exact range (sink_segment.c, store.c, forced with RLIMIT_FSIZE), retention
 * (retention.c), and verify.c on stores made by all of these. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "store/chain.h"
#include "agent/storelink.h"
#include "store/chain_state.h"
#include "store/keys.h"
#include "base/log.h"
#include "records/record.h"
#include "store/retention.h"
#include "store/segment_reader.h"
#include "records/sink.h"
#include "store/sink_segment.h"
#include "store/store.h"
#include "store/store_dir.h"
#include "readers/verify.h"

struct fx {
	char dir[256];
	char data[300];
	struct recorder rec;
	struct node_key *key;
	struct sink *sink;
	int dirfd;
	/* open_linked_store's */
	char key_path[300];
	struct storelink link;
	struct gaps *gaps;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");
	int err;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/fl-test-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->data, sizeof(f->data), "%s/data", f->dir);
	if (recorder__init(&f->rec, NULL))
		return -1;
	f->key = keys__generate(&err);
	f->dirfd = -1;
	*state = f;
	return f->key ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sink__free(f->sink);
	keys__free(f->key);
	recorder__fini(&f->rec);
	if (f->dirfd >= 0)
		close(f->dirfd);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- helpers ---------------------------------------------------------------------- */

static void open_sink(struct fx *f, const struct chain_pos *resume, uint64_t flush_bytes)
{
	struct segment_opts o = { .dir = f->data, .run_id = f->rec.run_id, .node = "n1",
				  .boot_id = "b", .flush_bytes = flush_bytes, .key = f->key,
				  .resume = resume };
	int err = 1;

	f->sink = sink_segment__new(&o, &err);
	assert_non_null(f->sink);
	assert_int_equal(err, 0);
	f->rec.sink = f->sink;
	if (f->dirfd < 0)
		f->dirfd = store_dir__open(f->data);
	assert_true(f->dirfd >= 0);
}

/*
 * A store opened as the agent opens it (no retention), with the agent's link: losses
 * become SINK_LOSS gaps written into the store itself. Its sink is f->sink; free with
 * close_linked_store.
 */
static struct store *open_linked_store(struct fx *f, struct store_opts *so)
{
	struct store_ident id = { .run_id = f->rec.run_id, .node = f->rec.node, .boot_id = f->rec.boot_id };
	struct store *st;
	int err;

	snprintf(f->key_path, sizeof(f->key_path), "%s/node.key", f->dir);
	so->key_path = f->key_path;
	so->retain_bytes = 0;
	st = store__open(f->data, so, &id, &err);
	assert_non_null(st);
	f->gaps = gaps__new(&f->rec);
	assert_non_null(f->gaps);
	f->link = (struct storelink){ .rec = &f->rec, .gaps = f->gaps };
	storelink__bind(&f->link, st);
	f->sink = store__sink(st);
	f->rec.sink = f->sink;
	f->dirfd = store_dir__open(f->data);
	return st;
}

static void close_sink(struct fx *f)
{
	sink__free(f->sink);
	f->sink = NULL;
	f->rec.sink = NULL;
}

/* Ends what open_linked_store made, as the agent stops: the sink, the store, the link. */
static void close_linked_store(struct fx *f, struct store *st)
{
	close_sink(f);
	store__free(st);
	gaps__free(f->gaps);
	f->gaps = NULL;
}

static void emit(struct fx *f, int n)
{
	for (int i = 0; i < n; i++) {
		Firstlight__V1__Heartbeat hb = FIRSTLIGHT__V1__HEARTBEAT__INIT;
		Event ev = FIRSTLIGHT__V1__EVENT__INIT;

		hb.records = f->rec.seq + 1;
		ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_HEARTBEAT;
		ev.heartbeat = &hb;
		recorder__emit(&f->rec, &ev, 0);
	}
}

static void emit_stopped(struct fx *f)
{
	Firstlight__V1__AgentLifecycle body = FIRSTLIGHT__V1__AGENT_LIFECYCLE__INIT;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	body.state = FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED;
	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_AGENT;
	ev.agent = &body;
	recorder__emit(&f->rec, &ev, 0);
}

/* A new run id for the recorder, as a restarted agent has. */
static void new_run(struct fx *f)
{
	struct sink *s = f->rec.sink;

	recorder__fini(&f->rec);
	assert_int_equal(recorder__init(&f->rec, s), 0);
}

/* The n-th (0-based) segment name in the data dir. */
static void seg_path(struct fx *f, size_t i, char *out, size_t len)
{
	struct seg_entry *segs;
	size_t n;

	assert_int_equal(store_dir__list(f->dirfd, &segs, &n), 0);
	assert_true(i < n);
	snprintf(out, len, "%s/%s", f->data, segs[i].name);
	free(segs);
}

static size_t n_segs(struct fx *f)
{
	struct seg_entry *segs;
	size_t n;

	assert_int_equal(store_dir__list(f->dirfd, &segs, &n), 0);
	free(segs);
	return n;
}

static off_t size_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* Verifies every segment of the data dir; returns the result (copied into *out). */
static int verify_dir(struct fx *f, const uint8_t *pub, struct verify_result *out)
{
	struct verifier *v = verifier__new(pub ? (const uint8_t(*)[KEYS_PUB_LEN])pub : NULL,
					   pub ? 1 : 0);
	size_t n = n_segs(f);
	char path[600];
	int rc;

	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		seg_path(f, i, path, sizeof(path));
		verifier__file(v, path);
	}
	rc = verifier__finish(v);
	if (out)
		*out = *verifier__result(v);
	if (rc)
		print_message("verify: %s\n", verifier__result(v)->failure);
	verifier__free(v);
	return rc;
}

/* ---- keys and chain format -------------------------------------------------------- */

static void test_keys(void **state)
{
	struct fx *f = *state;
	char path[600], link[600], pem_path[600];
	uint8_t pub[KEYS_PUB_LEN], sig[KEYS_SIG_LEN];
	struct node_key *k, *k2;
	struct stat st;
	char *pem;
	int created, err;
	FILE *fp;

	/* Every missing directory on the way is made, 0700 (an initramfs has no /etc). */
	snprintf(path, sizeof(path), "%s/etc/firstlight/node.key", f->dir);
	k = keys__load_or_create(path, &created, &err);
	assert_non_null(k);
	assert_int_equal(created, 1);
	keys__free(k);
	snprintf(link, sizeof(link), "%s/etc", f->dir);
	assert_int_equal(stat(link, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	snprintf(path, sizeof(path), "%s/keys/node.key", f->dir);
	k = keys__load_or_create(path, &created, &err);
	assert_non_null(k);
	assert_int_equal(created, 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(link, sizeof(link), "%s/keys", f->dir);
	assert_int_equal(stat(link, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	/* The same key on the next start. */
	k2 = keys__load_or_create(path, &created, &err);
	assert_non_null(k2);
	assert_int_equal(created, 0);
	assert_memory_equal(keys__public(k), keys__public(k2), KEYS_PUB_LEN);
	keys__free(k2);

	/* Signatures verify with the public key, and only for the message signed. */
	assert_int_equal(keys__sign(k, "abc", 3, sig), 0);
	assert_int_equal(keys__verify(keys__public(k), "abc", 3, sig), 0);
	assert_int_equal(keys__verify(keys__public(k), "abd", 3, sig), -EBADMSG);
	sig[10] ^= 1;
	assert_int_equal(keys__verify(keys__public(k), "abc", 3, sig), -EBADMSG);

	/* The exported PEM reads back, and the private key file gives the same public key. */
	assert_int_equal(keys__public_pem(keys__public(k), &pem), 0);
	assert_non_null(strstr(pem, "BEGIN PUBLIC KEY"));
	snprintf(pem_path, sizeof(pem_path), "%s/node.pub", f->dir);
	fp = fopen(pem_path, "w");
	assert_non_null(fp);
	fputs(pem, fp);
	fclose(fp);
	free(pem);
	assert_int_equal(keys__read_public(pem_path, pub), 0);
	assert_memory_equal(pub, keys__public(k), KEYS_PUB_LEN);
	assert_int_equal(keys__read_public(path, pub), 0);
	assert_memory_equal(pub, keys__public(k), KEYS_PUB_LEN);
	keys__free(k);

	/* Refused: a key others can read, a symlink, a file that is not a key. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_null(keys__load_or_create(path, &created, &err));
	assert_int_equal(err, -EPERM);
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(link, sizeof(link), "%s/link.key", f->dir);
	assert_int_equal(symlink(path, link), 0);
	assert_null(keys__load_or_create(link, &created, &err));
	assert_int_equal(err, -ELOOP);
	assert_int_equal(keys__read_public(link, pub), -ELOOP);
	fp = fopen(pem_path, "w");
	assert_non_null(fp);
	fputs("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n", fp);
	fclose(fp);
	assert_int_equal(keys__read_public(pem_path, pub), -EINVAL);
}

static void test_chain_format(void **state)
{
	struct fx *f = *state;
	uint8_t core[64], body[64 + CHAIN_TRAILER_LEN], hash[CHAIN_HASH_LEN], again[CHAIN_HASH_LEN];
	const uint8_t *h, *sig;
	size_t core_len;

	memset(core, 0x5a, sizeof(core));
	memcpy(body, core, sizeof(core));
	assert_int_equal(chain__seal(f->key, core, sizeof(core), body + sizeof(core), hash), 0);
	assert_int_equal(chain__hash(core, sizeof(core), again), 0);
	assert_memory_equal(hash, again, CHAIN_HASH_LEN);
	assert_int_equal(chain__split(body, sizeof(body), &core_len, &h, &sig), 0);
	assert_int_equal(core_len, sizeof(core));
	assert_memory_equal(h, hash, CHAIN_HASH_LEN);
	assert_int_equal(chain__check_signature(keys__public(f->key), h, sig), 0);
	/* The trailer is fields 3 and 5, so the whole body decodes as a Batch. */
	{
		Firstlight__V1__Batch *b = firstlight__v1__batch__unpack(NULL, CHAIN_TRAILER_LEN,
									body + sizeof(core));

		assert_non_null(b);
		assert_int_equal(b->hash.len, CHAIN_HASH_LEN);
		assert_int_equal(b->signature.len, KEYS_SIG_LEN);
		firstlight__v1__batch__free_unpacked(b, NULL);
	}
	/* Another hash does not carry this signature. */
	again[0] ^= 1;
	assert_int_equal(chain__check_signature(keys__public(f->key), again, sig), -EBADMSG);
	/* Hashes and keys in hex: lowercase, two digits a byte, whole; a wrong length none. */
	{
		uint8_t bytes[CHAIN_HASH_LEN];
		char hex[CHAIN_HEX_LEN], want[CHAIN_HEX_LEN] = "", key_hex[KEYS_HEX_LEN];

		for (int i = 0; i < CHAIN_HASH_LEN; i++) {
			bytes[i] = (uint8_t)(i * 37 + 5);
			snprintf(want + 2 * i, 3, "%02x", bytes[i]);
		}
		assert_string_equal(chain__hex(bytes, CHAIN_HASH_LEN, hex), want);
		assert_string_equal(chain__hex(bytes, CHAIN_HASH_LEN - 1, hex), "");
		keys__hex(bytes, key_hex); /* KEYS_PUB_LEN is CHAIN_HASH_LEN: 32 bytes each */
		assert_string_equal(key_hex, want);
	}
	/* Too short, or not ending with the two fields: no chain. */
	assert_int_equal(chain__split(body, CHAIN_TRAILER_LEN - 1, &core_len, &h, &sig), -ENOMSG);
	body[sizeof(core)] = 0x12;
	assert_int_equal(chain__split(body, sizeof(body), &core_len, &h, &sig), -ENOMSG);
}

static void test_segment_names(void **state)
{
	struct fx *f = *state;
	char name[SEGMENT_NAME_MAX];
	uint64_t n;

	store_dir__segment_name(name, 42, 86400, "0123abcd-ffff");
	assert_string_equal(name, "seg-0000000042-19700102T000000Z-0123abcd.seg.gz");
	assert_int_equal(store_dir__segment_number(name, &n), 0);
	assert_int_equal(n, 42);
	assert_int_equal(store_dir__segment_number("seg-20240101T000000Z-abc-000001.seg.gz", &n),
			 -EINVAL); /* the old naming */
	assert_int_equal(store_dir__segment_number("seg-00000000x1-a-b.seg.gz", &n), -EINVAL);
	assert_int_equal(store_dir__segment_number("seg-0000000001-a-b.seg", &n), -EINVAL);

	/* The data dir is made 0700; one made by hand is tightened. */
	assert_int_equal(mkdir(f->data, 0755), 0);
	assert_int_equal(chmod(f->data, 0755), 0);
	f->dirfd = store_dir__open(f->data);
	assert_true(f->dirfd >= 0);
	{
		struct stat st;

		assert_int_equal(stat(f->data, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0700);
	}
	/* A second agent cannot lock it. */
	{
		int other = store_dir__open(f->data);

		assert_int_equal(store_dir__lock(f->dirfd), 0);
		assert_int_equal(store_dir__lock(other), -EBUSY);
		close(other);
	}
}

/* ---- where the chain ends -------------------------------------------------------- */

static void expect_end(struct fx *f, int end, const char *segment)
{
	struct chain_pos pos;
	uint64_t next;

	assert_int_equal(chain_state__find_end(f->dirfd, &pos, &next), 0);
	if (pos.end != end)
		print_message("end %d, detail: %s\n", pos.end, pos.detail);
	assert_int_equal(pos.end, end);
	if (segment)
		assert_non_null(strstr(segment, pos.segment));
}

/* Two threads listing the folder through one dirfd (the shipper's, which the store's
 * retention reads too) each see all of it: a listing has a directory position of its own. */
#define LIST_FILES 200
#define LIST_ROUNDS 150

static void *list_rounds(void *arg)
{
	int dirfd = *(int *)arg;
	intptr_t short_lists = 0;

	for (int r = 0; r < LIST_ROUNDS; r++) {
		struct seg_entry *segs;
		size_t n;

		if (store_dir__list(dirfd, &segs, &n) || n != LIST_FILES)
			short_lists++;
		free(segs);
	}
	return (void *)short_lists;
}

static void test_list_concurrent(void **state)
{
	struct fx *f = *state;
	pthread_t other;
	void *theirs, *ours;

	f->dirfd = store_dir__open(f->data);
	assert_true(f->dirfd >= 0);
	for (int i = 1; i <= LIST_FILES; i++) {
		char name[SEGMENT_NAME_MAX];
		int fd;

		store_dir__segment_name(name, (uint64_t)i, 86400, "0123abcd-ffff");
		fd = openat(f->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(pthread_create(&other, NULL, list_rounds, &f->dirfd), 0);
	ours = list_rounds(&f->dirfd);
	assert_int_equal(pthread_join(other, &theirs), 0);
	assert_int_equal((intptr_t)ours, 0);
	assert_int_equal((intptr_t)theirs, 0);
}

static void test_find_end(void **state)
{
	struct fx *f = *state;
	struct chain_pos pos, slow;
	char path[600], cmd[2000];
	uint64_t next;

	/* Nothing yet: the chain starts. */
	f->dirfd = store_dir__open(f->data);
	assert_int_equal(chain_state__find_end(f->dirfd, &pos, &next), 0);
	assert_int_equal(pos.end, FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__GENESIS);
	assert_int_equal(pos.has_hash, 0);
	assert_int_equal(next, 1);

	/* A clean stop: chain.state describes it (the fast path)... */
	open_sink(f, NULL, 0);
	emit(f, 30);
	f->sink->flush(f->sink);
	assert_int_equal(sink_segment__next(f->sink), 0);
	emit(f, 20);
	emit_stopped(f);
	close_sink(f);
	assert_int_equal(chain_state__find_end(f->dirfd, &pos, &next), 0);
	assert_int_equal(pos.end, FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__STOPPED);
	assert_int_equal(pos.last_seq, 51);
	assert_int_equal(next, 3);
	assert_string_equal(pos.run_id, f->rec.run_id);
	/* ... and the segment itself says the same (the slow path). */
	assert_int_equal(unlink(strcat(strcpy(path, f->data), "/" CHAIN_STATE_FILE)), 0);
	assert_int_equal(chain_state__find_end(f->dirfd, &slow, &next), 0);
	assert_int_equal(slow.end, FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__STOPPED);
	assert_memory_equal(slow.hash, pos.hash, CHAIN_HASH_LEN);
	assert_int_equal(slow.last_seq, 51);
	assert_int_equal(slow.offset, pos.offset);

	/* A run killed with records flushed: its segment just ends, at its last batch. */
	new_run(f);
	open_sink(f, &slow, 0);
	emit(f, 5);
	f->sink->flush(f->sink);
	emit(f, 5);
	f->sink->flush(f->sink);
	seg_path(f, 2, path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/killed'", path, f->dir);
	assert_int_equal(system(cmd), 0);
	close_sink(f);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/clean' && cp '%s/killed' '%s'", path, f->dir,
		 f->dir, path);
	assert_int_equal(system(cmd), 0);
	expect_end(f, FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__KILLED, path);
	assert_int_equal(chain_state__find_end(f->dirfd, &pos, &next), 0);
	assert_int_equal(pos.last_seq, 10);
	assert_non_null(strstr(pos.detail, "ended without a clean stop after seq 10"));

	/* Its last batch cut mid-write: the batch before it is the end, and that is said. */
	assert_int_equal(truncate(path, size_of(path) - 20), 0);
	assert_int_equal(chain_state__find_end(f->dirfd, &pos, &next), 0);
	assert_int_equal(pos.end, FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__INCOMPLETE);
	assert_non_null(strstr(pos.detail, "cut mid-write"));
	assert_int_equal(pos.last_seq, 5);

	/* Bytes that are not gzip after the segment's end: damage, not a crash. */
	snprintf(cmd, sizeof(cmd), "cp '%s/clean' '%s' && printf junk! >> '%s'", f->dir, path,
		 path);
	assert_int_equal(system(cmd), 0);
	expect_end(f, FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__DAMAGED, NULL);
	assert_int_equal(chain_state__find_end(f->dirfd, &pos, &next), 0);
	assert_non_null(strstr(pos.detail, "not a cut write"));
	assert_int_equal(pos.last_seq, 10);

	/* An empty newest segment (a writer killed before its first batch) is skipped. */
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/seg-0000000009-20240101T000000Z-deadbeef.seg.gz", f->data);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	assert_int_equal(chain_state__find_end(f->dirfd, &pos, &next), 0);
	assert_int_equal(pos.end, FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__STOPPED);
	assert_int_equal(pos.last_seq, 51);
	assert_non_null(strstr(pos.detail, "holds no complete batch"));
	assert_int_equal(next, 10);

	/* chain.state names a newer segment than any left: it was deleted. */
	assert_int_equal(chain_state__opened(f->dirfd, "seg-0000000012-20240101T000000Z-deadbeef.seg.gz"), 0);
	assert_int_equal(chain_state__find_end(f->dirfd, &pos, &next), 0);
	assert_int_equal(pos.end, FIRSTLIGHT__V1__SEGMENT_HEADER__PREV_END__MISSING);
	assert_non_null(strstr(pos.detail, "seg-0000000012-20240101T000000Z-deadbeef.seg.gz"));
	assert_int_equal(next, 13);
}

/* ---- write failures, counted by range --------------------------------------------- */

static void test_write_failure(void **state)
{
	struct fx *f = *state;
	struct store_opts so;
	struct store *st;
	struct rlimit was, lim;
	struct verify_result res;
	struct sink_loss l[4];
	char path[600];
	off_t good;
	int err;

	/* Writes past RLIMIT_FSIZE fail with EFBIG (SIGXFSZ ignored): a full disk at will. */
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &was), 0);
	store_opts__defaults(&so);
	st = open_linked_store(f, &so);
	emit(f, 20);
	f->sink->flush(f->sink);
	store__tick(st);
	seg_path(f, 0, path, sizeof(path));
	good = size_of(path);

	lim = was;
	lim.rlim_cur = (rlim_t)good + 16; /* the next batch cannot fit */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	emit(f, 40); /* seq 21-60 */
	assert_int_equal(f->sink->flush(f->sink), -EFBIG);
	assert_int_equal(size_of(path), good); /* cut back to its last complete batch */
	emit(f, 5);  /* seq 61-65: no segment to go to */
	assert_int_equal(f->sink->lost, 45);
	/* The retry writes a new segment's header alone first: too big now, so nothing
	 * else is tried, nothing more lost, and the empty segment is not left behind. */
	lim.rlim_cur = 100;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	store__tick(st);
	assert_int_equal(f->sink->lost, 45);
	assert_int_equal(n_segs(f), 1);

	/* Space again: a new segment, whose first records are the loss, exactly. */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &was), 0);
	store__stopping(st); /* the retry, now */
	emit(f, 3);
	close_linked_store(f, st);
	assert_int_equal(n_segs(f), 2);

	assert_int_equal(verify_dir(f, NULL, &res), 0);
	assert_int_equal(res.lost_records, 45);
	assert_int_equal(res.records, 20 + 1 + 3); /* the gap record between */
	/* The take/return of loss runs keeps them whole and in order. */
	{
		struct sink_loss back = { .first_seq = 5, .last_seq = 6, .count = 2 };
		struct segment_opts o = { .dir = f->data, .run_id = "x", .key = f->key };
		struct sink *s = sink_segment__new(&o, &err);

		assert_non_null(s);
		sink_segment__return_losses(s, &back, 1);
		assert_int_equal(sink_segment__take_losses(s, l, 4), 1);
		assert_int_equal(l[0].first_seq, 5);
		assert_int_equal(l[0].count, 2);
		sink__free(s);
	}
}

/* ---- a batch held for the fsync interval, without memory for the copy ---------------- */

/*
 * This test is linked with -Wl,--wrap=malloc (Makefile): the library's mallocs, and this
 * file's, come here, and fail while fail_mallocs is set. That reaches the paths the store
 * takes without memory, which no limit can aim at one allocation.
 */
void *__real_malloc(size_t size);
void *__wrap_malloc(size_t size);
static int fail_mallocs, failed_mallocs;

void *__wrap_malloc(size_t size)
{
	if (fail_mallocs) {
		failed_mallocs++;
		return NULL;
	}
	return __real_malloc(size);
}

static void count_handed(void *ctx, const struct sealed_batch *b)
{
	(void)b;
	++*(int *)ctx;
}

/*
 * A sink that syncs only every hour (so a sealed batch waits in memory for the sync),
 * handing batches on to *handed's count; ten records written and flushed, not yet handed.
 */
static void open_interval_sink(struct fx *f, int readback, int *handed)
{
	int err = 1;
	struct segment_opts o = { .dir = f->data, .run_id = f->rec.run_id, .node = "n1", .boot_id = "b",
				  .fsync_interval_ns = 3600ULL * 1000000000ULL, .readback = readback, .key = f->key,
				  .sealed = count_handed, .sealed_ctx = handed };

	f->sink = sink_segment__new(&o, &err);
	assert_non_null(f->sink);
	assert_int_equal(err, 0);
	f->rec.sink = f->sink;
	f->dirfd = store_dir__open(f->data);
	assert_true(f->dirfd >= 0);
	emit(f, 10);
	assert_int_equal(f->sink->flush(f->sink), 0); /* written, its sync waits for the interval */
	assert_int_equal(*handed, 0);
}

/* Closes the sink: its store verifies with the node's key, holds records, lost none. */
static void close_verified(struct fx *f, uint64_t records)
{
	struct verify_result res;

	assert_int_equal(f->sink->lost, 0);
	close_sink(f);
	assert_int_equal(verify_dir(f, keys__public(f->key), &res), 0);
	assert_int_equal(res.records, records);
	assert_int_equal(res.lost_records, 0);
}

/*
 * With an fsync interval, a sealed batch is copied to wait for the sync before it is
 * handed on (to shipping). Without memory for the copy, the store syncs at once and hands
 * the batch on: it is neither lost nor left unsynced, and later batches wait again.
 */
static void test_hold_without_memory(void **state)
{
	struct fx *f = *state;
	int handed = 0, err;

	open_interval_sink(f, 0, &handed);
	emit(f, 10);
	fail_mallocs = 1;
	err = f->sink->flush(f->sink);
	fail_mallocs = 0;
	assert_int_equal(err, 0);
	assert_int_equal(failed_mallocs, 1); /* the copy's, and nothing else on this path */
	assert_int_equal(handed, 2);         /* synced now: the held one, then this one */
	assert_int_equal(f->sink->lost, 0);

	emit(f, 10);
	assert_int_equal(f->sink->flush(f->sink), 0);
	assert_int_equal(handed, 2); /* memory again: held until the sync */
	assert_int_equal(sink_segment__sync(f->sink), 0);
	assert_int_equal(handed, 3);
	close_verified(f, 30);
}

/* ---- read-back that cannot open its segment ---------------------------------------- */

/* Lines of path that contain what. */
static int lines_with(const char *path, const char *what)
{
	char line[1024];
	FILE *fp = fopen(path, "r");
	int n = 0;

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp))
		n += strstr(line, what) != NULL;
	fclose(fp);
	return n;
}

/*
 * With read-back on, a segment that cannot be opened to read (no descriptor left) says
 * nothing about the disk: the synced batches count as stored on fdatasync's word, are
 * handed on, nothing is lost, and the warning is said once, not at every sync. With
 * descriptors again, the next sync reads back what it synced.
 */
static void test_readback_unopenable(void **state)
{
	struct fx *f = *state;
	int handed = 0, saved, fd;
	struct rlimit was, lim;
	char log_path[600];

	open_interval_sink(f, 1, &handed);

	snprintf(log_path, sizeof(log_path), "%s/stderr", f->dir);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
	/* No descriptor left: the lowest free one is the limit. */
	fd = dup(0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &was), 0);
	lim = was;
	lim.rlim_cur = (rlim_t)fd;
	log__set_level(LOG_WARN);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
	assert_int_equal(sink_segment__sync(f->sink), 0);
	emit(f, 10);
	assert_int_equal(sink_segment__sync(f->sink), 0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &was), 0);
	log__set_level(LOG_ERROR);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_int_equal(lines_with(log_path, "cannot open it to read back: Too many open files"), 1);
	assert_int_equal(handed, 2);
	assert_int_equal(f->sink->lost, 0);

	/* Descriptors again: the next sync reads its bytes back, and they are as written. */
	emit(f, 10);
	assert_int_equal(sink_segment__sync(f->sink), 0);
	assert_int_equal(handed, 3);
	close_verified(f, 30);
}

/*
 * A sync whose bytes read back otherwise than written (here: altered in the page cache
 * behind the store's back before the fdatasync, as a device that stores what it did not
 * get) cuts the segment back to its last stored batch and counts the rest lost. With an
 * fsync interval the segment's first batch is named in chain.state before its sync: cut
 * to nothing, the file is kept, empty, so that the name chain.state holds still exists;
 * the next segment says where the chain stood, and its first records are the loss.
 */
static void test_readback_differs_named_segment(void **state)
{
	struct fx *f = *state;
	struct store_opts so;
	struct store *st;
	struct verify_result res;
	struct chain_pos pos;
	uint64_t next;
	char path[600], byte;
	off_t size;
	int fd, cut_noted = 0;

	store_opts__defaults(&so);
	so.fsync_interval_ns = 3600ULL * 1000000000ULL;
	so.readback = STORE_READBACK_ON;
	st = open_linked_store(f, &so);
	emit(f, 10);
	assert_int_equal(f->sink->flush(f->sink), 0);
	seg_path(f, 0, path, sizeof(path));
	size = size_of(path);
	assert_true(size > 40);
	/* Named before its sync: the interval holds the sync back. */
	assert_int_equal(chain_state__find_end(f->dirfd, &pos, &next), 0);
	assert_non_null(strstr(path, pos.segment));

	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &byte, 1, size / 2), 1);
	byte ^= 0x55;
	assert_int_equal(pwrite(fd, &byte, 1, size / 2), 1);
	close(fd);
	assert_int_equal(store__sync(st), -EIO);
	assert_int_equal(f->sink->lost, 10);
	assert_int_equal(size_of(path), 0); /* kept, empty: chain.state names it */
	assert_int_equal(n_segs(f), 1);

	store__stopping(st); /* the retry, now: a new segment */
	emit(f, 5);
	close_linked_store(f, st);
	assert_int_equal(n_segs(f), 2);
	assert_int_equal(verify_dir(f, NULL, &res), 0);
	assert_int_equal(res.lost_records, 10);
	assert_int_equal(res.records, 1 + 5); /* the loss's gap record, then the five */
	/* verify says why the first file is empty: the next header's word for it. */
	for (size_t i = 0; i < res.n_notes; i++)
		cut_noted |= strstr(res.notes[i], "holds no batch: the next segment's header says why "
					"(read-back failed after 0 batches: Input/output error)") != NULL;
	assert_true(cut_noted);
}

/* ---- verify on stores made here --------------------------------------------------- */

static void test_verify_runs_and_holes(void **state)
{
	struct fx *f = *state;
	struct verify_result res;
	struct chain_pos pos;
	uint64_t next;

	open_sink(f, NULL, 512);
	emit(f, 40);
	assert_int_equal(sink_segment__next(f->sink), 0);
	emit(f, 40);
	emit_stopped(f);
	close_sink(f);
	/* A second run continues the chain. */
	new_run(f);
	assert_int_equal(chain_state__find_end(f->dirfd, &pos, &next), 0);
	open_sink(f, &pos, 512);
	emit(f, 10);
	close_sink(f);
	assert_int_equal(verify_dir(f, keys__public(f->key), &res), 0);
	assert_int_equal(res.runs, 2);
	assert_int_equal(res.records, 40 + 40 + 1 + 10);
	assert_int_equal(res.files, 3);
	assert_int_equal(res.key_trusted, 1);

	/* Another key trusted: nothing verifies. */
	{
		int err;
		struct node_key *other = keys__generate(&err);

		assert_int_equal(verify_dir(f, keys__public(other), &res), 1);
		assert_non_null(strstr(res.failure, "not a trusted key"));
		keys__free(other);
	}

	/* A third run whose seq jumps: a hole that no loss explains. */
	new_run(f);
	assert_int_equal(chain_state__find_end(f->dirfd, &pos, &next), 0);
	open_sink(f, &pos, 512);
	emit(f, 5);
	f->rec.seq += 3;
	emit(f, 5);
	close_sink(f);
	assert_int_equal(verify_dir(f, NULL, &res), 1);
	assert_non_null(strstr(res.failure, "records seq 6-8 of run"));
	assert_non_null(strstr(res.failure, "no SINK_LOSS record accounts for them"));
}

static int record_removal(void *ctx, const Firstlight__V1__SegmentRemoved *r, int by_bytes)
{
	struct fx *f = ctx;

	(void)by_bytes;
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;

	ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_SEGMENT_REMOVED;
	ev.segment_removed = (Firstlight__V1__SegmentRemoved *)r;
	recorder__emit(&f->rec, &ev, 0);
	return sink_segment__sync(f->sink);
}

static int refuse_removal(void *ctx, const Firstlight__V1__SegmentRemoved *r, int by_bytes)
{
	(void)by_bytes;
	(void)ctx;
	(void)r;
	return -EIO;
}

static void test_retention(void **state)
{
	struct fx *f = *state;
	struct retention_policy p = { .max_bytes = 1 };
	struct segment_status s;
	struct verify_result res;
	char first[600];

	open_sink(f, NULL, 0);
	for (int i = 0; i < 5; i++) {
		emit(f, 20);
		assert_int_equal(sink_segment__next(f->sink), 0);
		f->sink->flush(f->sink);
	}
	assert_int_equal(n_segs(f), 6);
	sink_segment__status(f->sink, &s);
	/* Nothing goes without its record. */
	assert_int_equal(retention__apply(f->dirfd, &p, s.name, refuse_removal, f), -EIO);
	assert_int_equal(n_segs(f), 6);
	/* Everything but the open segment goes, each removal recorded first. */
	assert_int_equal(retention__apply(f->dirfd, &p, s.name, record_removal, f), 5);
	assert_int_equal(n_segs(f), 1);
	close_sink(f);
	assert_int_equal(verify_dir(f, NULL, &res), 0);
	assert_int_equal(res.removed_segments, 5);
	assert_non_null(strstr(res.notes[0], "the chain starts after segments removed by retention"));

	/* A policy that keeps everything removes nothing. */
	p.max_bytes = 1u << 30;
	seg_path(f, 0, first, sizeof(first));
	assert_int_equal(retention__apply(f->dirfd, &p, "", record_removal, f), 0);
	assert_int_equal(n_segs(f), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segment_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_without_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readback_unopenable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readback_differs_named_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_runs_and_holes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
	};

	log__set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
