/*
 * Writes the seeds of the store's fuzz targets: a small store made by the real segment
 * sink (two segments: records in several batches, a rotation, a sequence hole with the
 * SINK_LOSS record that explains it, a SegmentRemoved record, a stop), as
 *   DIR/corpus/store-1.seg.gz, store-2.seg.gz      for fuzz_reader
 *   DIR/corpus-verify/fv-store.bin, fv-store-gz.bin for fuzz_verify ("FV" form: the
 *   decompressed segments, a zero-length batch between them), and store-1.seg.gz as is.
 * usage: make_seeds DIR   (make fuzz-seeds)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "store/keys.h"
#include "records/record.h"
#include "records/sink.h"
#include "store/sink_segment.h"
#include "store/store_dir.h"

static void heartbeats(struct recorder *rec, int n)
{
	for (int i = 0; i < n; i++) {
		Firstlight__V1__Heartbeat hb = FIRSTLIGHT__V1__HEARTBEAT__INIT;
		Event ev = FIRSTLIGHT__V1__EVENT__INIT;

		hb.records = rec->seq;
		ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_HEARTBEAT;
		ev.heartbeat = &hb;
		recorder__emit(rec, &ev, 0);
	}
}

static void copy_out(const char *from, FILE *to, int decompress)
{
	char buf[65536];
	int n;

	if (decompress) {
		gzFile g = gzopen(from, "rb");

		while (g && (n = gzread(g, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)n, to);
		if (g)
			gzclose(g);
	} else {
		FILE *f = fopen(from, "rb");

		while (f && (n = (int)fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, (size_t)n, to);
		if (f)
			fclose(f);
	}
}

int main(int argc, char **argv)
{
	char tmp[] = "/tmp/fl-seeds-XXXXXX", path[4096], seg[2][512];
	struct recorder rec;
	struct node_key *key;
	struct sink *s;
	struct seg_entry *segs;
	size_t n;
	int err, dirfd;

	if (argc != 2 || !mkdtemp(tmp) || recorder__init(&rec, NULL))
		return 2;
	key = keys__generate(&err);
	snprintf(path, 256, "%s/data", tmp);
	s = sink_segment__new(&(struct segment_opts){ .dir = path, .run_id = rec.run_id,
						    .node = "seed", .key = key }, &err);
	if (!s)
		return 1;
	rec.sink = s;
	heartbeats(&rec, 3);
	s->flush(s);
	heartbeats(&rec, 3);
	s->flush(s);
	sink_segment__next(s);
	s->flush(s);
	heartbeats(&rec, 2);
	rec.seq += 2; /* two records lost... */
	{
		Firstlight__V1__Gap gap = FIRSTLIGHT__V1__GAP__INIT;
		Firstlight__V1__SegmentRemoved rm = FIRSTLIGHT__V1__SEGMENT_REMOVED__INIT;
		Event ev = FIRSTLIGHT__V1__EVENT__INIT;
		uint8_t h[32] = { 1 };

		gap.kind = FIRSTLIGHT__V1__GAP__KIND__SINK_LOSS; /* ... and said so */
		gap.count = 2;
		gap.first_seq = rec.seq - 1;
		gap.last_seq = rec.seq;
		ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_GAP;
		ev.gap = &gap;
		recorder__emit(&rec, &ev, 0);
		rm.file = "seg-0000000000-20240101T000000Z-00000000.seg.gz";
		rm.reason = "--retain-bytes 1";
		rm.last_hash.data = h;
		rm.last_hash.len = sizeof(h);
		ev = (Event)FIRSTLIGHT__V1__EVENT__INIT;
		ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_SEGMENT_REMOVED;
		ev.segment_removed = &rm;
		recorder__emit(&rec, &ev, 0);
	}
	{
		Firstlight__V1__AgentLifecycle body = FIRSTLIGHT__V1__AGENT_LIFECYCLE__INIT;
		Event ev = FIRSTLIGHT__V1__EVENT__INIT;

		body.state = FIRSTLIGHT__V1__AGENT_LIFECYCLE__STATE__STOPPED;
		ev.body_case = FIRSTLIGHT__V1__EVENT__BODY_AGENT;
		ev.agent = &body;
		recorder__emit(&rec, &ev, 0);
	}
	sink__free(s);
	dirfd = store_dir__open(path);
	if (dirfd < 0 || store_dir__list(dirfd, &segs, &n) || n != 2)
		return 1;
	for (int i = 0; i < 2; i++)
		snprintf(seg[i], sizeof(seg[i]), "%.256s/%s", path, segs[i].name);
	for (int i = 0; i < 4; i++) {
		static const char *const names[] = { "corpus/store-1.seg.gz", "corpus/store-2.seg.gz",
						     "corpus-verify/fv-store.bin",
						     "corpus-verify/fv-store-gz.bin" };
		FILE *out;

		snprintf(path, sizeof(path), "%.1024s/%s", argv[1], names[i]);
		out = fopen(path, "wb");
		if (!out)
			return 1;
		if (i < 2) {
			copy_out(seg[i], out, 0);
		} else {
			fwrite(i == 2 ? "FV\0" : "FV\1", 1, 3, out);
			copy_out(seg[0], out, 1);
			fputc(0, out); /* the next file */
			copy_out(seg[1], out, 1);
		}
		fclose(out);
	}
	snprintf(path, sizeof(path), "cp %s '%.1024s/corpus-verify/store-1.seg.gz' && rm -rf %s",
		 seg[0], argv[1], tmp);
	free(segs);
	keys__free(key);
	recorder__fini(&rec);
	return system(path) ? 1 : 0;
}
