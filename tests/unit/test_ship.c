/*
 * Unit tests for shipping's pure parts: subject names and node tokens
 * (transport/subjects.c), URLs shown without passwords (transport/jetstream.c), and the
 * collector's node folder (collect/nodestore.c): batches appended as gzip members that
 * the segment reader takes, a member cut by a crash cut off at open, redeliveries known.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "collect/nodestore.h"
#include "store/chain.h"
#include "store/segment_reader.h"
#include "transport/jetstream.h"
#include "transport/subjects.h"

static void test_tokens(void **state)
{
	char tok[SUBJECTS_TOKEN_MAX], back[256], s[JS_SUBJECT_MAX];
	char longname[300];

	(void)state;
	assert_int_equal(subjects__token("node-1_a", tok), 0);
	assert_string_equal(tok, "node-1_a");
	assert_int_equal(subjects__token("ip-10-0-0-1.ec2.internal", tok), 0);
	assert_string_equal(tok, "ip-10-0-0-1%2Eec2%2Einternal");
	assert_int_equal(subjects__node(tok, back, sizeof(back)), 0);
	assert_string_equal(back, "ip-10-0-0-1.ec2.internal");
	assert_int_equal(subjects__token("a b>*/..\x01", tok), 0);
	assert_string_equal(tok, "a%20b%3E%2A%2F%2E%2E%01");
	assert_int_equal(subjects__node(tok, back, sizeof(back)), 0);
	assert_string_equal(back, "a b>*/..\x01");
	/* Only the one spelling subjects__token writes is a token. */
	assert_int_equal(subjects__node("a%2e", back, sizeof(back)), -EINVAL);  /* lower case */
	assert_int_equal(subjects__node("a%41", back, sizeof(back)), -EINVAL);  /* 'A' needs none */
	assert_int_equal(subjects__node("a%00", back, sizeof(back)), -EINVAL);
	assert_int_equal(subjects__node("a%4", back, sizeof(back)), -EINVAL);
	assert_int_equal(subjects__node("a.b", back, sizeof(back)), -EINVAL);
	assert_int_equal(subjects__node("@collector", back, sizeof(back)), -EINVAL);
	assert_int_equal(subjects__node("", back, sizeof(back)), -EINVAL);
	assert_int_equal(subjects__token("", tok), -EINVAL);
	memset(longname, 'x', 299);
	longname[299] = '\0';
	assert_int_equal(subjects__token(longname, tok), -ENAMETOOLONG);
	assert_int_equal(subjects__batches("firstlight", "n1", s, sizeof(s)), 0);
	assert_string_equal(s, "firstlight.batches.n1");
	assert_int_equal(subjects__all_batches("acme.sec", s, sizeof(s)), 0);
	assert_string_equal(s, "acme.sec.batches.>");
	assert_int_equal(subjects__stream("acme.sec-1", s, sizeof(s)), 0);
	assert_string_equal(s, "ACME_SEC-1");
	assert_int_equal(subjects__check_prefix("firstlight"), 0);
	assert_int_equal(subjects__check_prefix("a.b_c-d"), 0);
	assert_int_equal(subjects__check_prefix(""), -EINVAL);
	assert_int_equal(subjects__check_prefix("a..b"), -EINVAL);
	assert_int_equal(subjects__check_prefix(".a"), -EINVAL);
	assert_int_equal(subjects__check_prefix("a."), -EINVAL);
	assert_int_equal(subjects__check_prefix("a b"), -EINVAL);
	assert_int_equal(subjects__check_prefix("a.*"), -EINVAL);
	assert_int_equal(subjects__check_prefix("a.>"), -EINVAL);
}

static void test_shown_urls(void **state)
{
	char *s;

	(void)state;
	s = js__shown_urls("nats://u:p@10.0.0.1:4222,nats://10.0.0.2:4222,tls://only-user@h:1");
	assert_string_equal(s, "nats://***@10.0.0.1:4222,nats://10.0.0.2:4222,tls://***@h:1");
	free(s);
	s = js__shown_urls("nats://127.0.0.1:4222");
	assert_string_equal(s, "nats://127.0.0.1:4222");
	free(s);
}

/* ---- the node folder ------------------------------------------------------------------ */

/* A sealed-looking batch: a body, then the trailer with a hash that is only a label. */
static size_t fake_batch(uint8_t *buf, uint8_t id)
{
	size_t n = 0;

	buf[n++] = 0x12; /* prev_hash, any bytes will do for the folder */
	buf[n++] = 4;
	memset(buf + n, id, 4);
	n += 4;
	buf[n++] = 0x1a;
	buf[n++] = CHAIN_HASH_LEN;
	memset(buf + n, id, CHAIN_HASH_LEN);
	n += CHAIN_HASH_LEN;
	buf[n++] = 0x2a;
	buf[n++] = 64;
	memset(buf + n, 0xee, 64);
	return n + 64;
}

static void test_nodestore(void **state)
{
	char dir[] = "/tmp/fl-test-ship-XXXXXX", path[512];
	const char *seg = "seg-0000000001-20240101T000000Z-deadbeef.seg.gz";
	uint8_t b[256], hash[CHAIN_HASH_LEN];
	struct segment_reader *r;
	struct nodestore *n;
	const uint8_t *body;
	uint64_t off;
	size_t len, count = 0;
	int dfd, err, fd;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	n = nodestore__open(dfd, "node-1", &err);
	assert_non_null(n);
	assert_null(nodestore__last_hash(n));
	for (uint8_t id = 1; id <= 3; id++) {
		size_t blen = fake_batch(b, id);

		memset(hash, id, sizeof(hash));
		assert_int_equal(nodestore__append(n, seg, b, blen, hash), 0);
	}
	assert_int_equal(nodestore__sync(n), 0);
	memset(hash, 2, sizeof(hash));
	assert_true(nodestore__has(n, hash));
	memset(hash, 9, sizeof(hash));
	assert_false(nodestore__has(n, hash));
	nodestore__free(n);

	/* A crash mid-write: half a member more. Opening cuts it off and knows the three. */
	snprintf(path, sizeof(path), "%s/node-1/%s", dir, seg);
	assert_int_equal(stat(path, &st), 0);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x1f\x8b\x08\x00\x00\x00", 6), 6);
	close(fd);
	n = nodestore__open(dfd, "node-1", &err);
	assert_non_null(n);
	memset(hash, 3, sizeof(hash));
	assert_memory_equal(nodestore__last_hash(n), hash, CHAIN_HASH_LEN);
	assert_true(nodestore__has(n, hash));
	nodestore__free(n);
	{
		struct stat after;

		assert_int_equal(stat(path, &after), 0);
		assert_int_equal(after.st_size, st.st_size);
	}
	/* The segment reader takes the members as one stream of batches. */
	r = segment_reader__open(path);
	assert_non_null(r);
	while (segment_reader__next_raw(r, &body, &len, &off) > 0) {
		assert_int_equal(len, fake_batch(b, (uint8_t)(count + 1)));
		assert_memory_equal(body, b, len);
		count++;
	}
	assert_false(segment_reader__unclean_end(r));
	segment_reader__close(r);
	assert_int_equal(count, 3);
	close(dfd);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_shown_urls),
		cmocka_unit_test(test_nodestore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
