/*
 * fl-segtool: makes and edits segment files for the tests of `firstlight gaps`, with
 * zlib and a hand-written protobuf encoder (a tool independent of the code it tests).
 *
 *   fl-segtool write OUT [--unclean] < SPEC
 *       A segment from a text spec, one record per line ('#' comments, blank lines):
 *         batch                                  the next records go in a new batch
 *         agent RUN SEQ TIME STARTED|STOPPED [pid=N] [boot=ID] [bootns=N]
 *         hb    RUN SEQ TIME INTERVAL_NS         a heartbeat
 *         exit  RUN SEQ TIME                     an ordinary record
 *         gap   RUN SEQ TIME KIND [cgroup=N] [start=NS] [end=NS] [count=N] [detail=S]
 *               [type=S] [workload=S] [first=N] [last=N] [prev=S] [reason=S]
 *       TIME is unix seconds with up to 9 decimals; KIND the Gap.Kind number; S may hold
 *       \xHH escapes (\x20 for a space). Node "n1". Each batch is compressed with a sync
 *       flush as the agent's sink does; --unclean leaves out the gzip trailer (a writer
 *       killed before it closed the file).
 *   fl-segtool batches IN
 *       One line per batch: index (from 0), records, seq of its first and last record,
 *       and the compressed bytes of IN needed to decode it (the file had reached that
 *       size when the batch was written: the benchmark's write-time measurement).
 *   fl-segtool batch IN N OUT
 *       Batch N (from 0) as stored, without its length prefix, into OUT.
 *   fl-segtool hashes IN
 *       One line per batch: the hash it ends with, in hex.
 *   fl-segtool drop-batch IN OUT N
 *       A copy of IN without batch N (from 0), as a clean gzip stream.
 *
 * Exit status 0, or 1 with a message naming the problem.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_FILE (256u << 20)

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("fl-segtool: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			die("out of memory");
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* ---- protobuf encoding ---------------------------------------------------------------- */

static void put_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		tmp[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	put(b, tmp, n);
}

static void field_varint(struct buf *b, unsigned field, uint64_t v)
{
	if (!v)
		return; /* proto3: a default value is not written */
	put_varint(b, (uint64_t)field << 3);
	put_varint(b, v);
}

static void field_bytes(struct buf *b, unsigned field, const void *p, size_t n)
{
	put_varint(b, (uint64_t)field << 3 | 2);
	put_varint(b, n);
	put(b, p, n);
}

static void field_str(struct buf *b, unsigned field, const char *s)
{
	if (s && *s)
		field_bytes(b, field, s, strlen(s));
}

/* ---- spec parsing --------------------------------------------------------------------- */

static uint64_t parse_u64(const char *s, int line)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		die("line %d: bad number '%s'", line, s);
	return v;
}

static uint64_t parse_time(const char *s, int line)
{
	const char *dot = strchr(s, '.');
	char sec[32], frac[10] = "000000000";
	size_t n = dot ? (size_t)(dot - s) : strlen(s);

	if (n >= sizeof(sec) || (dot && strlen(dot + 1) > 9))
		die("line %d: bad time '%s'", line, s);
	memcpy(sec, s, n);
	sec[n] = '\0';
	if (dot)
		memcpy(frac, dot + 1, strlen(dot + 1));
	return parse_u64(sec, line) * 1000000000ull + (dot ? parse_u64(frac, line) : 0);
}

/* \xHH and \\ decoded in place. */
static char *unescape(char *s, int line)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		if (*p != '\\') {
			*o++ = *p;
		} else if (p[1] == '\\') {
			*o++ = '\\';
			p++;
		} else if (p[1] == 'x' && p[2] && p[3]) {
			char hex[3] = { p[2], p[3], 0 }, *end;
			long v = strtol(hex, &end, 16);

			if (*end)
				die("line %d: bad escape in '%s'", line, s);
			*o++ = (char)v;
			p += 3;
		} else {
			die("line %d: bad escape in '%s'", line, s);
		}
	}
	*o = '\0';
	return s;
}

/* The value of key=... among words, or NULL. */
static char *opt(char **w, int n, const char *key)
{
	size_t k = strlen(key);

	for (int i = 0; i < n; i++)
		if (!strncmp(w[i], key, k) && w[i][k] == '=')
			return w[i] + k + 1;
	return NULL;
}

static uint64_t opt_u64(char **w, int n, const char *key, int line)
{
	char *v = opt(w, n, key);

	return v ? parse_u64(v, line) : 0;
}

static void gap_body(struct buf *m, char **w, int n, int line)
{
	static const struct { const char *key; unsigned field; int str; } f[] = {
		{ "cgroup", 2, 0 }, { "start", 3, 0 }, { "end", 4, 0 }, { "count", 5, 0 },
		{ "detail", 6, 1 }, { "type", 7, 1 }, { "workload", 8, 1 }, { "first", 9, 0 },
		{ "last", 10, 0 }, { "prev", 11, 1 }, { "reason", 12, 1 },
	};

	if (n < 5)
		die("line %d: gap RUN SEQ TIME KIND [key=value...]", line);
	field_varint(m, 1, parse_u64(w[4], line));
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		char *v = opt(w + 5, n - 5, f[i].key);

		if (!v)
			continue;
		if (f[i].str)
			field_str(m, f[i].field, unescape(v, line));
		else
			field_varint(m, f[i].field, parse_u64(v, line));
	}
}

/* One spec line into an Event, appended to the batch as field 1. */
static void encode_line(struct buf *batch, char **w, int n, int line)
{
	struct buf ev = {}, body = {};
	unsigned body_field;

	if (n < 4)
		die("line %d: expected KIND RUN SEQ TIME ...", line);
	if (!strcmp(w[0], "agent")) {
		if (n < 5 || (strcmp(w[4], "STARTED") && strcmp(w[4], "STOPPED")))
			die("line %d: agent RUN SEQ TIME STARTED|STOPPED", line);
		field_varint(&body, 1, strcmp(w[4], "STARTED") ? 2 : 1);
		field_str(&body, 2, "test");
		field_varint(&body, 3, opt_u64(w + 5, n - 5, "pid", line));
		field_str(&body, 4, opt(w + 5, n - 5, "boot"));
		body_field = 17;
	} else if (!strcmp(w[0], "hb")) {
		if (n < 5)
			die("line %d: hb RUN SEQ TIME INTERVAL_NS", line);
		field_varint(&body, 1, parse_u64(w[4], line));
		body_field = 16;
	} else if (!strcmp(w[0], "exit")) {
		field_varint(&body, 2, 1); /* pid 1: any process will do */
		body_field = 12;
	} else if (!strcmp(w[0], "gap")) {
		gap_body(&body, w, n, line);
		body_field = 15;
	} else {
		die("line %d: unknown record '%s'", line, w[0]);
	}
	field_varint(&ev, 1, parse_u64(w[2], line));
	field_varint(&ev, 2, parse_time(w[3], line));
	if (!strcmp(w[0], "agent"))
		field_varint(&ev, 3, opt_u64(w + 5, n - 5, "bootns", line));
	field_str(&ev, 4, "n1");
	field_str(&ev, 5, strcmp(w[1], "-") ? w[1] : ""); /* "-": no run id */
	field_bytes(&ev, body_field, body.p, body.len);
	field_bytes(batch, 1, ev.p, ev.len);
	free(ev.p);
	free(body.p);
}

/* ---- gzip ----------------------------------------------------------------------------- */

struct gz {
	z_stream z;
	FILE *f;
	const char *path;
};

static void gz_open(struct gz *g, const char *path)
{
	memset(g, 0, sizeof(*g));
	g->path = path;
	g->f = fopen(path, "wbe");
	if (!g->f)
		die("%s: %s", path, strerror(errno));
	if (deflateInit2(&g->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		die("deflateInit2 failed");
}

static void gz_write(struct gz *g, const void *p, size_t n, int flush)
{
	uint8_t out[16384];

	g->z.next_in = (Bytef *)p;
	g->z.avail_in = (uInt)n;
	do {
		g->z.next_out = out;
		g->z.avail_out = sizeof(out);
		if (deflate(&g->z, flush) == Z_STREAM_ERROR)
			die("deflate failed");
		if (fwrite(out, 1, sizeof(out) - g->z.avail_out, g->f) != sizeof(out) - g->z.avail_out)
			die("%s: write failed", g->path);
	} while (g->z.avail_out == 0 || g->z.avail_in);
}

/* A length-prefixed batch, flushed so that it is readable at once (as the sink does). */
static void gz_batch(struct gz *g, const struct buf *batch)
{
	struct buf hdr = {};

	put_varint(&hdr, batch->len);
	gz_write(g, hdr.p, hdr.len, Z_NO_FLUSH);
	gz_write(g, batch->p, batch->len, Z_SYNC_FLUSH);
	free(hdr.p);
}

static void gz_close(struct gz *g, int clean)
{
	if (clean)
		gz_write(g, NULL, 0, Z_FINISH);
	deflateEnd(&g->z);
	if (fclose(g->f))
		die("%s: %s", g->path, strerror(errno));
}

/* Where decompressed bytes became available: after `in` compressed bytes, `out`
 * decompressed bytes were out. Recorded at every deflate block boundary. */
struct zmark {
	uint64_t in, out;
};

struct zmarks {
	struct zmark *m;
	size_t len, cap;
};

/* The whole decompressed stream of a segment (gzip members back to back, or cut); with
 * marks, also where each block of it ended in the compressed file. */
static struct buf gunzip_file_marks(const char *path, struct zmarks *marks)
{
	struct buf in = {}, out = {};
	uint8_t chunk[65536];
	z_stream z = {};
	FILE *f = fopen(path, "rbe");
	size_t n;
	int zr = Z_OK;

	if (!f)
		die("%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		put(&in, chunk, n);
		if (in.len > MAX_FILE)
			die("%s: larger than %u bytes", path, MAX_FILE);
	}
	fclose(f);
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		die("inflateInit2 failed");
	z.next_in = in.p;
	z.avail_in = (uInt)in.len;
	for (;;) {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		/* Z_BLOCK stops at each block boundary: the input consumed so far never runs
		 * past the block that produced the output */
		zr = inflate(&z, marks ? Z_BLOCK : Z_NO_FLUSH);
		put(&out, chunk, sizeof(chunk) - z.avail_out);
		if (marks) {
			if (marks->len == marks->cap) {
				marks->cap = marks->cap ? 2 * marks->cap : 1024;
				marks->m = realloc(marks->m, marks->cap * sizeof(*marks->m));
				if (!marks->m)
					die("out of memory");
			}
			marks->m[marks->len++] = (struct zmark){ (uint64_t)(z.next_in - in.p), out.len };
		}
		if (out.len > MAX_FILE)
			die("%s: decompresses to more than %u bytes", path, MAX_FILE);
		if (zr == Z_STREAM_END) {
			if (!z.avail_in)
				break;
			inflateReset(&z); /* another member follows */
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			die("%s: corrupt gzip data", path);
		} else if (!z.avail_in && z.avail_out) {
			break; /* input ended inside a member: a writer that was killed */
		}
	}
	inflateEnd(&z);
	free(in.p);
	return out;
}

static struct buf gunzip_file(const char *path)
{
	return gunzip_file_marks(path, NULL);
}

/* ---- protobuf decoding, only as far as batches and seq go ----------------------------- */

static int get_varint(const uint8_t *p, size_t n, size_t *pos, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*pos >= n)
			return -1;
		*v |= (uint64_t)(p[*pos] & 0x7f) << shift;
		if (!(p[(*pos)++] & 0x80))
			return 0;
	}
	return -1;
}

/* Calls fn for each length-delimited field `field` of the message p[0..n). */
static int each_field(const uint8_t *p, size_t n, unsigned field,
		      void (*fn)(void *ctx, const uint8_t *p, size_t n), void *ctx)
{
	size_t pos = 0;
	uint64_t key, len;

	while (pos < n) {
		if (get_varint(p, n, &pos, &key))
			return -1;
		switch (key & 7) {
		case 0:
			if (get_varint(p, n, &pos, &len))
				return -1;
			break;
		case 1: pos += 8; break;
		case 5: pos += 4; break;
		case 2:
			if (get_varint(p, n, &pos, &len) || len > n - pos)
				return -1;
			if ((key >> 3) == field)
				fn(ctx, p + pos, (size_t)len);
			pos += (size_t)len;
			break;
		default:
			return -1;
		}
	}
	return pos == n ? 0 : -1;
}

static uint64_t event_seq(const uint8_t *p, size_t n)
{
	size_t pos = 0;
	uint64_t key, v;

	while (pos < n && !get_varint(p, n, &pos, &key)) {
		if (key == (1 << 3)) /* seq: field 1, varint */
			return get_varint(p, n, &pos, &v) ? 0 : v;
		if ((key & 7) == 0 && !get_varint(p, n, &pos, &v))
			continue;
		if ((key & 7) == 2 && !get_varint(p, n, &pos, &v) && v <= n - pos) {
			pos += (size_t)v;
			continue;
		}
		if ((key & 7) == 1 || (key & 7) == 5) {
			pos += (key & 7) == 1 ? 8 : 4;
			continue;
		}
		break;
	}
	return 0;
}

struct seq_range {
	uint64_t count, first, last;
};

static void on_event(void *ctx, const uint8_t *p, size_t n)
{
	struct seq_range *r = ctx;
	uint64_t seq = event_seq(p, n);

	if (!r->count++)
		r->first = seq;
	r->last = seq;
}

/* Walks the batches of a decompressed stream: their bodies and lengths. */
struct batch_ref {
	const uint8_t *p;
	size_t len;     /* body */
	size_t off, end; /* the whole delimited batch in the stream */
};

static int next_batch(const struct buf *s, size_t *pos, struct batch_ref *b)
{
	uint64_t len;

	if (*pos >= s->len)
		return 0;
	b->off = *pos;
	if (get_varint(s->p, s->len, pos, &len) || len > s->len - *pos)
		die("batch at byte %zu is cut or corrupt", b->off);
	b->p = s->p + *pos;
	b->len = (size_t)len;
	*pos += (size_t)len;
	b->end = *pos;
	return 1;
}

/* ---- commands ------------------------------------------------------------------------- */

static int cmd_write(const char *out, int clean)
{
	struct buf batch = {};
	struct gz g;
	char line[8192];
	int lineno = 0, open_batch = 0;

	gz_open(&g, out);
	while (fgets(line, sizeof(line), stdin)) {
		char *w[64], *save = NULL, *tok;
		int n = 0;

		lineno++;
		if (!strchr(line, '\n') && !feof(stdin))
			die("line %d: too long", lineno);
		for (tok = strtok_r(line, " \t\n", &save); tok && n < 64; tok = strtok_r(NULL, " \t\n", &save))
			w[n++] = tok;
		if (!n || w[0][0] == '#')
			continue;
		if (!strcmp(w[0], "batch")) {
			if (open_batch)
				gz_batch(&g, &batch);
			batch.len = 0;
			open_batch = 0;
			continue;
		}
		encode_line(&batch, w, n, lineno);
		open_batch = 1;
	}
	if (open_batch)
		gz_batch(&g, &batch);
	gz_close(&g, clean);
	free(batch.p);
	return 0;
}

static int cmd_batches(const char *in)
{
	struct zmarks marks = {};
	struct buf s = gunzip_file_marks(in, &marks);
	struct batch_ref b;
	size_t pos = 0, k = 0;

	for (unsigned i = 0; next_batch(&s, &pos, &b); i++) {
		struct seq_range r = {};

		if (each_field(b.p, b.len, 1, on_event, &r))
			die("%s: batch %u does not decode", in, i);
		/* the first mark with the whole batch out (marks grow in both columns) */
		while (k < marks.len && marks.m[k].out < b.end)
			k++;
		printf("%u %llu %llu %llu %llu\n", i, (unsigned long long)r.count,
		       (unsigned long long)r.first, (unsigned long long)r.last,
		       (unsigned long long)(k < marks.len ? marks.m[k].in : 0));
	}
	free(marks.m);
	free(s.p);
	return 0;
}

static int cmd_drop_batch(const char *in, const char *out, const char *which)
{
	struct buf s = gunzip_file(in);
	struct batch_ref b;
	struct gz g;
	size_t pos = 0;
	uint64_t drop = parse_u64(which, 0);
	int found = 0;

	gz_open(&g, out);
	for (uint64_t i = 0; next_batch(&s, &pos, &b); i++) {
		if (i == drop) {
			found = 1;
			continue;
		}
		gz_write(&g, s.p + b.off, b.end - b.off, Z_SYNC_FLUSH);
	}
	gz_close(&g, 1);
	free(s.p);
	if (!found)
		die("%s: no batch %s", in, which);
	return 0;
}

/* The hash each batch ends with (the chain's trailer: 0x1a 0x20 hash 0x2a 0x40 sig),
 * one per line in hex; "-" for a batch without one. */
static int cmd_hashes(const char *in)
{
	struct buf s = gunzip_file(in);
	struct batch_ref b;
	size_t pos = 0;

	while (next_batch(&s, &pos, &b)) {
		const uint8_t *t = b.p + b.len - 100;

		if (b.len < 100 || t[0] != 0x1a || t[1] != 0x20 || t[34] != 0x2a || t[35] != 0x40) {
			printf("-\n");
			continue;
		}
		for (int i = 0; i < 32; i++)
			printf("%02x", t[2 + i]);
		printf("\n");
	}
	free(s.p);
	return 0;
}

/* Batch n of in, as stored (its body, no length prefix), into out: what a shipper sends. */
static int cmd_batch(const char *in, const char *which, const char *out)
{
	struct buf s = gunzip_file(in);
	struct batch_ref b;
	size_t pos = 0;
	uint64_t want = parse_u64(which, 0);
	FILE *f;

	for (uint64_t i = 0; next_batch(&s, &pos, &b); i++) {
		if (i != want)
			continue;
		f = fopen(out, "wb");
		if (!f || fwrite(b.p, 1, b.len, f) != b.len || fclose(f))
			die("%s: cannot write", out);
		free(s.p);
		return 0;
	}
	die("%s: no batch %s", in, which);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "write"))
		return cmd_write(argv[2], !(argc >= 4 && !strcmp(argv[3], "--unclean")));
	if (argc == 3 && !strcmp(argv[1], "batches"))
		return cmd_batches(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "batch"))
		return cmd_batch(argv[2], argv[3], argv[4]);
	if (argc == 3 && !strcmp(argv[1], "hashes"))
		return cmd_hashes(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "drop-batch"))
		return cmd_drop_batch(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: fl-segtool write OUT [--unclean] < SPEC | batches IN | batch IN N OUT | hashes IN | "
			"drop-batch IN OUT N\n");
	return 2;
}
