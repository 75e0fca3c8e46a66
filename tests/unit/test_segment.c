/* Unit tests for user/store/sink_segment.c and user/store/segment_reader.c: records
 * written through the real segment sink come back in order from the reader; cut,
 * oversized, raw, concatenated and garbage streams are read or rejected with an error
 * naming the byte. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>

#include "store/keys.h"
#include "records/record.h"
#include "store/segment_reader.h"
#include "records/sink.h"
#include "store/sink_segment.h"
#include "base/varint.h"

/* ---- temp directory ------------------------------------------------------------------ */

struct fx {
	char dir[256];  /* mkdtemp, removed with everything in it at teardown */
	char data[300]; /* dir/data: the sink's data directory */
	struct recorder rec;
	struct sink *sink;
	struct node_key *key; /* signs the batches, in memory only */
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

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/fl-test-segment-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->data, sizeof(f->data), "%s/data", f->dir);
	if (recorder__init(&f->rec, NULL))
		return -1;
	f->key = keys__generate(&(int){ 0 });
	if (!f->key)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sink__free(f->sink);
	keys__free(f->key);
	recorder__fini(&f->rec);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* A segment sink in dir (created by the sink), recording through f->rec. */
static struct sink *open_sink(struct fx *f, const char *dir, uint64_t flush_bytes)
{
	struct segment_opts opts = { .dir = dir, .run_id = f->rec.run_id,
				     .flush_bytes = flush_bytes, .key = f->key };
	int err = 1;
	struct sink *s = sink_segment__new(&opts, &err);

	assert_non_null(s);
	assert_int_equal(err, 0);
	f->rec.sink = s;
	return s;
}

/* Record number seq: alternately a heartbeat and a gap with a detail that varies. */
static void emit(struct fx *f, uint64_t seq)
{
	Event ev = FIRSTLIGHT__V1__EVENT__INIT;
	Firstlight__V1__Heartbeat hb = FIRSTLIGHT__V1__HEARTBEAT__INIT;
	Firstlight__V1__Gap gap = FIRSTLIGHT__V1__GAP__INIT;
	char detail[128];

	assert_int_equal(f->rec.seq + 1, seq);
	if (seq % 2) {
		hb.records = seq;
		hb.live_processes = seq * 7;
		ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_HEARTBEAT;
		ev.heartbeat = &hb;
	} else {
		snprintf(detail, sizeof(detail), "record %llu of the test, %0*d",
			 (unsigned long long)seq, (int)(seq % 50), 0);
		gap.kind = FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS;
		gap.count = seq;
		gap.detail = detail;
		ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_GAP;
		ev.gap = &gap;
	}
	assert_int_equal(recorder__emit(&f->rec, &ev, 1000000 + seq), 0);
}

static void emit_range(struct fx *f, uint64_t from, uint64_t to)
{
	for (uint64_t seq = from; seq <= to; seq++)
		emit(f, seq);
}

/* The one *.seg.gz file in dir, into path. */
static void find_segment(const char *dir, char *path, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n > 7 && !strcmp(de->d_name + n - 7, ".seg.gz")) {
			snprintf(path, len, "%s/%s", dir, de->d_name);
			found++;
		}
	}
	closedir(d);
	assert_int_equal(found, 1);
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* Copies the first len bytes of src (all when len < 0) to dst. */
static void copy_file(const char *src, const char *dst, off_t len)
{
	char buf[8192];
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t got;
	off_t done = 0;

	assert_true(in >= 0);
	assert_true(out >= 0);
	while ((len < 0 || done < len) && (got = read(in, buf, sizeof(buf))) > 0) {
		if (len >= 0 && got > len - done)
			got = (ssize_t)(len - done);
		assert_int_equal(write(out, buf, (size_t)got), got);
		done += got;
	}
	close(in);
	close(out);
}

static void write_file(const char *path, const void *data, size_t len, int append)
{
	int fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC) | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* ---- reading ------------------------------------------------------------------------- */

struct readout {
	int rc;          /* the last segment_reader__next result */
	uint64_t events; /* records read, each checked to be number events + 1 */
	uint64_t batches;
	uint64_t empty_batches;
	int unclean_end;
	char err[256];
};

/* Checks one record as emit() made it. */
static void check_record(const Firstlight__V1__Event *ev, uint64_t seq)
{
	assert_int_equal(ev->seq, seq);
	assert_int_equal(ev->boot_nano, 1000000 + seq);
	if (seq % 2) {
		assert_int_equal(ev->body_case, FIRSTLIGHT__V1__EVENT__BODY_HEARTBEAT);
		assert_int_equal(ev->heartbeat->records, seq);
		assert_int_equal(ev->heartbeat->live_processes, seq * 7);
	} else {
		char want[128];

		snprintf(want, sizeof(want), "record %llu of the test, %0*d",
			 (unsigned long long)seq, (int)(seq % 50), 0);
		assert_int_equal(ev->body_case, FIRSTLIGHT__V1__EVENT__BODY_GAP);
		assert_int_equal(ev->gap->kind, FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS);
		assert_int_equal(ev->gap->count, seq);
		assert_string_equal(ev->gap->detail, want);
	}
}

/* Reads path to its end or first error. check: every record must be emit()'s next one
 * (and carry run_id when that is set); otherwise the records are only counted. */
static struct readout read_stream(const char *path, int check, const char *run_id)
{
	struct segment_reader *r = segment_reader__open(path);
	struct readout o;
	Firstlight__V1__Batch *b;

	memset(&o, 0, sizeof(o));
	assert_non_null(r);
	while ((o.rc = segment_reader__next(r, &b)) == 1) {
		assert_non_null(b);
		o.batches++;
		o.empty_batches += b->n_events == 0;
		for (size_t i = 0; i < b->n_events; i++) {
			++o.events;
			if (!check)
				continue;
			check_record(b->events[i], o.events);
			if (run_id)
				assert_string_equal(b->events[i]->agent_run_id, run_id);
		}
		firstlight__v1__batch__free_unpacked(b, NULL);
		assert_true(o.batches < 1000000);
	}
	assert_null(b);
	o.unclean_end = segment_reader__unclean_end(r);
	snprintf(o.err, sizeof(o.err), "%s", segment_reader__error(r));
	segment_reader__close(r);
	return o;
}

static struct readout read_all(const char *path, const char *run_id)
{
	return read_stream(path, 1, run_id);
}

/* ---- round trips through the sink ---------------------------------------------------- */

static void test_round_trip(void **state)
{
	enum { N = 2000 };
	struct fx *f = *state;
	char path[600];
	struct readout o;
	struct stat st;
	const char *base;

	f->sink = open_sink(f, f->data, 4096);
	assert_string_equal(f->sink->name, "segment");
	emit_range(f, 1, N);
	assert_int_equal(f->rec.sink_errors, 0);
	assert_int_equal(f->sink->lost, 0);
	sink__free(f->sink);
	f->sink = NULL;

	/* a 0700 directory holding one 0600 file named after the run */
	assert_int_equal(stat(f->data, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	find_segment(f->data, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	base = strrchr(path, '/') + 1;
	assert_int_equal(strncmp(base, "seg-", 4), 0);
	assert_int_equal(strncmp(base, "seg-0000000001-", 15), 0);
	assert_non_null(strstr(base, ".seg.gz"));
	{
		char run8[9];

		memcpy(run8, f->rec.run_id, 8);
		run8[8] = 0;
		assert_non_null(strstr(base, run8));
	}

	o = read_all(path, f->rec.run_id);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.events, N);
	assert_true(o.batches > 10); /* 4096-byte batches */
	assert_int_equal(o.empty_batches, 0);
	assert_int_equal(o.unclean_end, 0);
}

/* The sink counts what it wrote; the default batch size keeps all in one batch. */
static void test_default_flush_and_counts(void **state)
{
	struct fx *f = *state;
	char path[600];
	struct readout o;

	f->sink = open_sink(f, f->data, 0);
	emit_range(f, 1, 100);
	assert_int_equal(f->sink->written, 0); /* still in the batch */
	assert_int_equal(f->sink->flush(f->sink), 0);
	assert_int_equal(f->sink->written, 100);
	/* a flush with nothing new writes nothing */
	find_segment(f->data, path, sizeof(path));
	{
		off_t size = file_size(path);

		assert_int_equal(f->sink->flush(f->sink), 0);
		assert_int_equal(file_size(path), size);
	}
	emit_range(f, 101, 150);
	sink__free(f->sink);
	f->sink = NULL;

	o = read_all(path, f->rec.run_id);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.events, 150);
	assert_int_equal(o.batches, 2);
	assert_int_equal(o.unclean_end, 0);
}

/* A file cut in the middle of a batch: the complete batches, then an error. */
static void test_truncated(void **state)
{
	struct fx *f = *state;
	char path[600], cut[600];
	off_t b1, b2, b3, size;
	struct readout o;

	f->sink = open_sink(f, f->data, 1u << 30);
	find_segment(f->data, path, sizeof(path));
	emit_range(f, 1, 10);
	assert_int_equal(f->sink->flush(f->sink), 0);
	b1 = file_size(path);
	emit_range(f, 11, 20);
	assert_int_equal(f->sink->flush(f->sink), 0);
	b2 = file_size(path);
	emit_range(f, 21, 2000); /* the last batch is most of the file */
	assert_int_equal(f->sink->flush(f->sink), 0);
	b3 = file_size(path);
	sink__free(f->sink);
	f->sink = NULL;
	size = file_size(path);
	assert_true(0 < b1 && b1 < b2 && b2 < b3 && b3 < size);
	/* half the file lies well inside the third batch */
	assert_true(b2 + 64 < size / 2 && size / 2 + 64 < b3);

	/* the complete file reads back whole */
	o = read_all(path, NULL);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.events, 2000);
	assert_int_equal(o.batches, 3);

	snprintf(cut, sizeof(cut), "%s/cut.seg.gz", f->dir);
	copy_file(path, cut, -1);
	assert_int_equal(truncate(cut, size / 2), 0);
	assert_int_equal(file_size(cut), size / 2);
	o = read_all(cut, f->rec.run_id);
	assert_int_equal(o.rc, -EBADMSG);
	assert_int_equal(o.batches, 2);
	assert_int_equal(o.events, 20);
	assert_non_null(strstr(o.err, "byte"));
	assert_non_null(strstr(o.err, "truncated"));

	/* cut inside the first batch: an error before any batch */
	copy_file(path, cut, (10 + b1) / 2);
	o = read_all(cut, NULL);
	assert_true(o.rc < 0);
	assert_int_equal(o.events, 0);
	assert_non_null(strstr(o.err, "byte"));

	/* cut inside the trailer: every batch, an unclean end */
	copy_file(path, cut, size - 3);
	o = read_all(cut, NULL);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.events, 2000);
	assert_int_equal(o.unclean_end, 1);
}

/* A writer that stopped without closing: flushed batches read back, the end is unclean. */
static void test_unclean_end(void **state)
{
	struct fx *f = *state;
	char path[600], copy[600];
	struct readout o;

	f->sink = open_sink(f, f->data, 1u << 30);
	find_segment(f->data, path, sizeof(path));
	emit_range(f, 1, 30);
	assert_int_equal(f->sink->flush(f->sink), 0);
	emit_range(f, 31, 77);
	assert_int_equal(f->sink->flush(f->sink), 0);
	emit_range(f, 78, 80); /* not flushed: not in the file yet */

	snprintf(copy, sizeof(copy), "%s/killed.seg.gz", f->dir);
	copy_file(path, copy, -1);
	o = read_all(copy, f->rec.run_id);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.events, 77);
	assert_int_equal(o.batches, 2);
	assert_int_equal(o.unclean_end, 1);
	assert_string_equal(o.err, "");

	/* the live file reads the same while open, and whole once closed */
	o = read_all(path, NULL);
	assert_int_equal(o.events, 77);
	assert_int_equal(o.unclean_end, 1);
	sink__free(f->sink);
	f->sink = NULL;
	o = read_all(path, NULL);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.events, 80);
	assert_int_equal(o.unclean_end, 0);
}

/* Segments back to back in one file (cat seg1 seg2) read as one stream. */
static void test_concatenated(void **state)
{
	struct fx *f = *state;
	char dir2[600], p1[600], p2[600], both[600];
	struct readout o;
	char buf[65536];
	int fd;
	ssize_t n;

	f->sink = open_sink(f, f->data, 2048);
	emit_range(f, 1, 300);
	sink__free(f->sink);
	snprintf(dir2, sizeof(dir2), "%s/data2", f->dir);
	f->sink = open_sink(f, dir2, 2048);
	emit_range(f, 301, 500);
	sink__free(f->sink);
	f->sink = NULL;
	find_segment(f->data, p1, sizeof(p1));
	find_segment(dir2, p2, sizeof(p2));

	snprintf(both, sizeof(both), "%s/both.seg.gz", f->dir);
	copy_file(p1, both, -1);
	fd = open(p2, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		write_file(both, buf, (size_t)n, 1);
	close(fd);
	o = read_all(both, f->rec.run_id);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.events, 500);
	assert_int_equal(o.unclean_end, 0);
}

/* ---- hand-built streams -------------------------------------------------------------- */

/* Appends a length-delimited Batch holding records from..to (emit()'s shape) to buf. */
static size_t put_batch(uint8_t *buf, uint64_t from, uint64_t to)
{
	Firstlight__V1__Batch b = FIRSTLIGHT__V1__BATCH__INIT;
	Firstlight__V1__Event evs[16], *pevs[16];
	Firstlight__V1__Heartbeat hbs[16];
	Firstlight__V1__Gap gaps[16];
	char details[16][128];
	size_t n = 0, len;

	assert_true(to - from < 16 || to < from);
	for (uint64_t seq = from; seq <= to; seq++, n++) {
		firstlight__v1__event__init(&evs[n]);
		evs[n].seq = seq;
		evs[n].boot_nano = 1000000 + seq;
		if (seq % 2) {
			firstlight__v1__heartbeat__init(&hbs[n]);
			hbs[n].records = seq;
			hbs[n].live_processes = seq * 7;
			evs[n].body_case = FIRSTLIGHT__V1__EVENT__BODY_HEARTBEAT;
			evs[n].heartbeat = &hbs[n];
		} else {
			firstlight__v1__gap__init(&gaps[n]);
			snprintf(details[n], sizeof(details[n]), "record %llu of the test, %0*d",
				 (unsigned long long)seq, (int)(seq % 50), 0);
			gaps[n].kind = FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS;
			gaps[n].count = seq;
			gaps[n].detail = details[n];
			evs[n].body_case = FIRSTLIGHT__V1__EVENT__BODY_GAP;
			evs[n].gap = &gaps[n];
		}
		pevs[n] = &evs[n];
	}
	b.n_events = n;
	b.events = pevs;
	len = firstlight__v1__batch__get_packed_size(&b);
	n = varint__put(buf, len);
	firstlight__v1__batch__pack(&b, buf + n);
	return n + len;
}

static void test_raw_stream(void **state)
{
	struct fx *f = *state;
	uint8_t buf[8192];
	char path[600];
	struct readout o;
	size_t len = 0;
	int saved;

	len += put_batch(buf + len, 1, 5);
	len += put_batch(buf + len, 6, 6);
	snprintf(path, sizeof(path), "%s/raw.bin", f->dir);
	write_file(path, buf, len, 0);
	o = read_all(path, NULL);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.batches, 2);
	assert_int_equal(o.events, 6);
	assert_int_equal(o.unclean_end, 0);

	/* an empty batch (length 0) is a batch */
	len += put_batch(buf + len, 7, 6);
	assert_int_equal(buf[len - 1], 0);
	len += put_batch(buf + len, 7, 8);
	write_file(path, buf, len, 0);
	o = read_all(path, NULL);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.batches, 4);
	assert_int_equal(o.empty_batches, 1);
	assert_int_equal(o.events, 8);

	/* "-" reads standard input */
	saved = dup(STDIN_FILENO);
	assert_true(saved >= 0);
	{
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		assert_true(fd >= 0);
		assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
		close(fd);
	}
	o = read_all("-", NULL);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.events, 8);

	/* a raw stream cut inside its second batch */
	len = put_batch(buf, 1, 5);
	len += put_batch(buf + len, 6, 9);
	write_file(path, buf, len - 5, 0);
	o = read_all(path, NULL);
	assert_int_equal(o.rc, -EBADMSG);
	assert_int_equal(o.events, 5);
	assert_non_null(strstr(o.err, "truncated batch at byte"));
}

/* Reads a stream of the given bytes and returns the outcome. */
static struct readout read_bytes_check(struct fx *f, const void *data, size_t len, int check)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/bytes.bin", f->dir);
	write_file(path, data, len, 0);
	return read_stream(path, check, NULL);
}

static struct readout read_bytes(struct fx *f, const void *data, size_t len)
{
	return read_bytes_check(f, data, len, 1);
}

static void test_bad_lengths(void **state)
{
	struct fx *f = *state;
	uint8_t buf[64];
	struct readout o;
	size_t n;

	/* a length prefix past the 4 MiB limit: refused before any of it is buffered */
	n = varint__put(buf, (uint64_t)BATCH_MAX_BYTES + 1);
	memset(buf + n, 0, 16);
	o = read_bytes(f, buf, n + 16);
	assert_int_equal(o.rc, -E2BIG);
	assert_int_equal(o.batches, 0);
	assert_non_null(strstr(o.err, "byte 0"));
	assert_non_null(strstr(o.err, "4194305"));
	assert_non_null(strstr(o.err, "limit"));

	/* after a good batch the offset is that batch's end */
	n = put_batch(buf, 1, 1);
	n += varint__put(buf + n, UINT64_MAX);
	o = read_bytes(f, buf, n);
	assert_int_equal(o.rc, -E2BIG);
	assert_int_equal(o.events, 1);
	{
		char want[64];

		snprintf(want, sizeof(want), "batch at byte %zu claims", (size_t)put_batch(buf, 1, 1));
		assert_non_null(strstr(o.err, want));
	}

	/* exactly the limit is allowed, and then missing */
	n = varint__put(buf, BATCH_MAX_BYTES);
	o = read_bytes(f, buf, n + 4);
	assert_int_equal(o.rc, -EBADMSG);
	assert_non_null(strstr(o.err, "truncated batch at byte 0"));

	/* a varint longer than 64 bits */
	memset(buf, 0xff, 12);
	o = read_bytes(f, buf, 12);
	assert_int_equal(o.rc, -EBADMSG);
	assert_non_null(strstr(o.err, "corrupt batch length at byte 0"));

	/* a varint cut by the end of the stream */
	buf[0] = 0x80;
	o = read_bytes(f, buf, 1);
	assert_int_equal(o.rc, -EBADMSG);
	assert_non_null(strstr(o.err, "truncated batch length at byte 0"));

	/* bytes that are not a Batch */
	buf[0] = 3;
	buf[1] = buf[2] = buf[3] = 0xff;
	o = read_bytes(f, buf, 4);
	assert_int_equal(o.rc, -EBADMSG);
	assert_non_null(strstr(o.err, "does not decode"));

	/* nothing at all is a clean, empty stream */
	o = read_bytes(f, "", 0);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.batches, 0);
	assert_int_equal(o.unclean_end, 0);
	/* a single zero byte: one empty batch */
	o = read_bytes(f, "", 1);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.batches, 1);

	/* only the gzip magic: no batch, a writer that never got further */
	o = read_bytes(f, "\x1f\x8b", 2);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.batches, 0);
	assert_int_equal(o.unclean_end, 1);

	/* a file that does not exist */
	errno = 0;
	assert_null(segment_reader__open("/nonexistent/fl-test/none.seg.gz"));
	assert_int_equal(errno, ENOENT);
}

/* Bytes in the middle of the compressed data changed: an error, never a crash. */
static void test_corrupt_gzip(void **state)
{
	struct fx *f = *state;
	char path[600];
	uint8_t *data;
	struct readout o;
	off_t size;
	int fd;

	f->sink = open_sink(f, f->data, 1u << 30);
	emit_range(f, 1, 1000);
	sink__free(f->sink);
	f->sink = NULL;
	find_segment(f->data, path, sizeof(path));
	size = file_size(path);
	data = malloc((size_t)size);
	assert_non_null(data);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(read(fd, data, (size_t)size), size);
	close(fd);

	for (int i = 0; i < 8; i++)
		data[size / 2 + i] ^= 0x5a;
	o = read_bytes_check(f, data, (size_t)size, 0);
	assert_int_equal(o.rc, -EBADMSG);
	assert_non_null(strstr(o.err, "byte"));

	/* trailing garbage after a complete member */
	for (int i = 0; i < 8; i++)
		data[size / 2 + i] ^= 0x5a;
	{
		uint8_t *more = malloc((size_t)size + 5);

		assert_non_null(more);
		memcpy(more, data, (size_t)size);
		memcpy(more + size, "junk!", 5);
		o = read_bytes(f, more, (size_t)size + 5);
		free(more);
	}
	assert_int_equal(o.rc, -EBADMSG);
	assert_int_equal(o.events, 1000);
	assert_non_null(strstr(o.err, "corrupt gzip data after byte"));
	free(data);
}

/* Random bytes, raw and behind a gzip header, and random damage to a real segment. */
static void test_garbage(void **state)
{
	struct fx *f = *state;
	unsigned int seed = 20240611;
	char path[600];
	uint8_t *seg, buf[4096];
	struct readout o;
	off_t size;
	int fd;

	f->sink = open_sink(f, f->data, 512);
	emit_range(f, 1, 200);
	sink__free(f->sink);
	f->sink = NULL;
	find_segment(f->data, path, sizeof(path));
	size = file_size(path);
	seg = malloc((size_t)size);
	assert_non_null(seg);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(read(fd, seg, (size_t)size), size);
	close(fd);

	for (int round = 0; round < 300; round++) {
		size_t len = (size_t)rand_r(&seed) % sizeof(buf);

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rand_r(&seed);
		if (round % 3 == 1 && len >= 2) {
			buf[0] = 0x1f;
			buf[1] = 0x8b;
		}
		if (round % 3 == 2) {
			/* a real segment, cut somewhere and with a few bytes changed */
			len = (size_t)rand_r(&seed) % (size_t)size;
			if (len > sizeof(buf))
				len = sizeof(buf);
			memcpy(buf, seg, len);
			for (int k = rand_r(&seed) % 4; k >= 0 && len; k--)
				buf[(size_t)rand_r(&seed) % len] ^= (uint8_t)(1 + rand_r(&seed) % 255);
		}
		o = read_bytes_check(f, buf, len, 0);
		assert_true(o.rc <= 0);
		if (o.rc < 0)
			assert_true(strlen(o.err) > 0);
	}
	free(seg);
}

/* gzip of data, as a segment's compression would be, into out (cap bytes): its length. */
static size_t gzip_bytes(const void *data, size_t len, uint8_t *out, size_t cap)
{
	z_stream z = {};

	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return cap - z.avail_out;
}

/* A file that is no segment at all says so; a segment cut short still says where. */
static void test_not_a_segment(void **state)
{
	static const char text[] = "last_seq 42\nsegment seg-0000000001-x.seg.gz\n";
	struct fx *f = *state;
	uint8_t gz[512], batch[64];
	struct readout o;
	size_t n;

	o = read_bytes(f, text, sizeof(text) - 1);
	assert_int_equal(o.rc, -EBADMSG);
	assert_non_null(strstr(o.err, "not a segment file: it starts with neither a gzip header nor a record batch ("));
	assert_non_null(strstr(o.err, "read one of them, or the data dir"));

	n = gzip_bytes(text, sizeof(text) - 1, gz, sizeof(gz));
	o = read_bytes(f, gz, n);
	assert_int_equal(o.rc, -EBADMSG);
	assert_non_null(strstr(o.err, "not a segment file: a gzip stream, but what it holds does not start with a record batch"));

	/* The first batch of a segment, cut: a segment, truncated, not "not a segment". */
	n = put_batch(batch, 1, 1);
	n = gzip_bytes(batch, n - 3, gz, sizeof(gz));
	o = read_bytes(f, gz, n);
	assert_int_equal(o.rc, -EBADMSG);
	assert_non_null(strstr(o.err, "truncated batch at byte 0"));
	assert_null(strstr(o.err, "not a segment"));

	/* After a good batch, damage is damage at its offset. */
	n = put_batch(batch, 1, 1);
	memcpy(batch + n, text, 8);
	o = read_bytes(f, batch, n + 8);
	assert_int_equal(o.rc, -EBADMSG);
	assert_int_equal(o.events, 1);
	assert_null(strstr(o.err, "not a segment"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_flush_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unclean_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concatenated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_gzip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_segment, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
