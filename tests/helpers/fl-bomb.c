/*
 * fl-bomb: decompression bombs for the readers' memory tests, and a way to measure what
 * a command costs.
 *
 *   fl-bomb write KIND OUT
 *       One segment file, a gzip stream of ~100 KiB or less, holding one batch sealed as
 *       the chain format says (a header naming a fresh key, SHA-256, Ed25519 signature by
 *       that key), so that verify cannot refuse it for its hash or signature:
 *         length  a batch of 64 MiB - 1 of empty records (32 million of them)
 *         events  a batch under 4 MiB of two million empty records
 *         args    a batch under 4 MiB of one exec record with 1.9 million empty args
 *                 (2 bytes each on the wire, ~40 unpacked)
 *   fl-bomb rss OUT LIMIT_MIB CMD [ARGS...]
 *       Runs CMD with its address space limited to LIMIT_MIB (so that a reader that
 *       tries to take what the bomb asks fails instead of taking the machine), its output
 *       passed through; writes "MAXRSS_KIB STATUS" to OUT (STATUS: exit status, or 128 +
 *       signal) and exits 0.
 *
 * Knows the chain format (proto/firstlight.proto, at Batch) and just enough protobuf
 * wire format to write it; independent of the code it tests. Links zlib and libcrypto.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <openssl/evp.h>

#define HASH_LEN 32
#define SIG_LEN 64

static void die(const char *what)
{
	fprintf(stderr, "fl-bomb: %s\n", what);
	exit(1);
}

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			die("out of memory");
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_varint(struct buf *b, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;

	while (v >= 0x80) {
		t[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	t[n++] = (uint8_t)v;
	put(b, t, n);
}

/* A length-delimited field: tag, length, bytes. */
static void put_field(struct buf *b, unsigned int field, const void *p, size_t n)
{
	put_varint(b, (uint64_t)field << 3 | 2);
	put_varint(b, n);
	put(b, p, n);
}

/* A SegmentHeader: format 1, node, run, segment 1, first seq 1, the key, GENESIS. */
static void header(struct buf *h, const uint8_t pub[32])
{
	put(h, "\x08\x01", 2);                    /* format_version = 1 */
	put_field(h, 2, "bomb", 4);               /* node */
	put_field(h, 3, "b0mb0000-0000-4000-8000-000000000000", 36); /* agent_run_id */
	put(h, "\x20\x01\x28\x01", 4);            /* segment_number = 1, first_seq = 1 */
	put_field(h, 7, pub, 32);                 /* public_key */
	put(h, "\x60\x01", 2);                    /* prev_end = GENESIS */
}

/* The records of KIND, appended to the batch's core. */
static void records(struct buf *core, const char *kind)
{
	if (!strcmp(kind, "length") || !strcmp(kind, "events")) {
		size_t n = !strcmp(kind, "length") ? ((64u << 20) - 1 - 200) / 2 : 2000000;

		for (size_t i = 0; i < n; i++)
			put(core, "\x0a\x00", 2); /* Batch.events: an empty Event */
	} else if (!strcmp(kind, "args")) {
		struct buf proc = { 0 }, exec = { 0 }, ev = { 0 };

		for (size_t i = 0; i < 1900000; i++)
			put(&proc, "\x72\x00", 2); /* Process.args: "" */
		put_field(&exec, 1, proc.p, proc.len);  /* ProcessExec.process */
		put(&ev, "\x08\x01", 2);                /* Event.seq = 1 */
		put_field(&ev, 10, exec.p, exec.len);   /* Event.exec */
		put_field(core, 1, ev.p, ev.len);
		free(proc.p);
		free(exec.p);
		free(ev.p);
	} else {
		die("KIND is length, events or args");
	}
}

static void write_bomb(const char *kind, const char *out)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	uint8_t pub[32], hash[HASH_LEN], sig[SIG_LEN], msg[20 + HASH_LEN], zout[1 << 16];
	size_t plen = sizeof(pub), siglen = SIG_LEN;
	struct buf core = { 0 }, hdr = { 0 }, framed = { 0 };
	z_stream z = { 0 };
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	FILE *f;

	if (!key || !md || EVP_PKEY_get_raw_public_key(key, pub, &plen) != 1)
		die("no Ed25519 key");
	records(&core, kind);
	header(&hdr, pub);
	put_field(&core, 4, hdr.p, hdr.len);
	if (EVP_Digest(core.p, core.len, hash, NULL, EVP_sha256(), NULL) != 1)
		die("sha256 failed");
	memcpy(msg, "firstlight.v1.batch", 20);
	memcpy(msg + 20, hash, HASH_LEN);
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)) != 1)
		die("signing failed");
	put_field(&core, 3, hash, HASH_LEN);
	put_field(&core, 5, sig, SIG_LEN);
	put_varint(&framed, core.len);
	put(&framed, core.p, core.len);

	f = fopen(out, "wb");
	if (!f || deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		die("cannot write OUT");
	z.next_in = framed.p;
	z.avail_in = (uInt)framed.len;
	do {
		z.next_out = zout;
		z.avail_out = sizeof(zout);
		deflate(&z, Z_FINISH);
		fwrite(zout, 1, sizeof(zout) - z.avail_out, f);
	} while (z.avail_out == 0);
	deflateEnd(&z);
	if (fclose(f))
		die("cannot write OUT");
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	free(core.p);
	free(hdr.p);
	free(framed.p);
}

static int rss(const char *out, const char *limit_mib, char **cmd)
{
	struct rusage ru;
	int status;
	pid_t pid = fork();
	FILE *f;

	if (pid < 0)
		die("fork failed");
	if (pid == 0) {
		rlim_t lim = (rlim_t)strtoull(limit_mib, NULL, 10) << 20;
		struct rlimit rl = { lim, lim };

		if (setrlimit(RLIMIT_AS, &rl))
			die("setrlimit failed");
		execvp(cmd[0], cmd);
		perror(cmd[0]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid)
		die("wait4 failed");
	f = fopen(out, "w");
	if (!f)
		die("cannot write OUT");
	fprintf(f, "%ld %d\n", ru.ru_maxrss,
		WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return fclose(f) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "write")) {
		write_bomb(argv[2], argv[3]);
		return 0;
	}
	if (argc >= 5 && !strcmp(argv[1], "rss"))
		return rss(argv[2], argv[3], argv + 4);
	fprintf(stderr, "usage: fl-bomb write length|events|args OUT\n"
			"       fl-bomb rss OUT LIMIT_MIB CMD [ARGS...]\n");
	return 2;
}
