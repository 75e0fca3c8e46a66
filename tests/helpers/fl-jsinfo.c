/*
 * JetStream from the tests' side, with the C client the agent uses:
 *   fl-jsinfo msgs URL STREAM [SUBJECT]      messages in the stream (on SUBJECT only: the
 *                                            count of the subject, from the stream's state)
 *   fl-jsinfo batches URL STREAM SUBJECT     the batches the messages on SUBJECT carry, in
 *                                            stream order: one line each, the hash it ends
 *                                            with in hex (a message carries one batch, or a
 *                                            bundle of Fl-Count, each after its length, the
 *                                            whole raw deflate with Fl-Encoding: deflate)
 *   fl-jsinfo list URL STREAM SUBJECT        one line per message on SUBJECT: its stream
 *                                            sequence, shipping headers and size
 *   fl-jsinfo publish URL SUBJECT FILE [KEY=VALUE...]   publishes FILE's bytes with headers
 *   fl-jsinfo memstream URL STREAM SUBJECTS  creates a stream in memory (a conflicting one)
 *   fl-jsinfo subjects URL STREAM SUBJECT    the stream takes SUBJECT instead of its own (a
 *                                            publish on those then has no responders)
 * Exit status 0, or 1 with a message naming the problem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>
#include <zlib.h>

/* The hash a sealed batch ends with (its trailer: hash, then signature), in hex. */
static void print_hash(const unsigned char *b, size_t len)
{
	const unsigned char *t = b + len - 100;

	if (len < 100 || t[0] != 0x1a || t[1] != 0x20 || t[34] != 0x2a || t[35] != 0x40) {
		printf("-\n");
		return;
	}
	for (int i = 0; i < 32; i++)
		printf("%02x", t[2 + i]);
	printf("\n");
}

/* Raw deflate, inflated into a buffer of 64 MiB at most (a test's messages are small). */
static unsigned char *inflate_all(const unsigned char *in, size_t len, size_t *out_len)
{
	size_t cap = 64u << 20;
	unsigned char *out = malloc(cap);
	z_stream z = { 0 };

	if (!out || inflateInit2(&z, -MAX_WBITS) != Z_OK)
		return NULL;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	inflate(&z, Z_SYNC_FLUSH);
	*out_len = cap - z.avail_out;
	if (z.avail_in) {
		free(out);
		out = NULL;
	}
	inflateEnd(&z);
	return out;
}

static int die(const char *what, natsStatus s)
{
	fprintf(stderr, "fl-jsinfo: %s: %s\n", what, nats_GetLastError(NULL) ? nats_GetLastError(NULL) :
						       natsStatus_GetText(s));
	return 1;
}

int main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	if (argc < 4) {
		fprintf(stderr, "usage: fl-jsinfo msgs URL STREAM [SUBJECT] | batches URL STREAM SUBJECT | publish URL SUBJECT FILE [K=V...] | "
				"memstream URL STREAM SUBJECTS | subjects URL STREAM SUBJECT\n");
		return 2;
	}
	if ((s = natsConnection_ConnectTo(&nc, argv[2])) || (s = natsConnection_JetStream(&js, nc, NULL)))
		return die(argv[2], s);
	if (!strcmp(argv[1], "msgs")) {
		jsStreamInfo *si = NULL;
		jsOptions o;

		jsOptions_Init(&o);
		if (argc > 4)
			o.Stream.Info.SubjectsFilter = argv[4];
		if ((s = js_GetStreamInfo(&si, js, argv[3], &o, &jerr)))
			return die(argv[3], s);
		if (argc > 4) {
			uint64_t n = 0;

			for (int i = 0; si->State.Subjects && i < si->State.Subjects->Count; i++)
				n += si->State.Subjects->List[i].Msgs;
			printf("%llu\n", (unsigned long long)n);
		} else {
			printf("%llu\n", (unsigned long long)si->State.Msgs);
		}
		jsStreamInfo_Destroy(si);
	} else if (!strcmp(argv[1], "batches") && argc >= 5) {
		jsStreamInfo *si = NULL;

		if ((s = js_GetStreamInfo(&si, js, argv[3], NULL, &jerr)))
			return die(argv[3], s);
		for (uint64_t seq = si->State.FirstSeq; seq && seq <= si->State.LastSeq; seq++) {
			const unsigned char *d;
			const char *count = NULL, *enc = NULL;
			unsigned char *plain = NULL;
			natsMsg *m = NULL;
			size_t len, off = 0;
			unsigned long n = 1;

			if (js_GetMsg(&m, js, argv[3], seq, NULL, &jerr))
				continue; /* deleted */
			if (strcmp(natsMsg_GetSubject(m), argv[4])) {
				natsMsg_Destroy(m);
				continue;
			}
			d = (const unsigned char *)natsMsg_GetData(m);
			len = (size_t)natsMsg_GetDataLength(m);
			if (natsMsgHeader_Get(m, "Fl-Count", &count) == NATS_OK && count)
				n = strtoul(count, NULL, 10);
			else {
				print_hash(d, len);
				natsMsg_Destroy(m);
				continue;
			}
			if (natsMsgHeader_Get(m, "Fl-Encoding", &enc) == NATS_OK && enc) {
				if (!(plain = inflate_all(d, len, &len)))
					return die("a message that does not inflate", NATS_ERR);
				d = plain;
			}
			for (unsigned long i = 0; i < n; i++) {
				uint64_t blen = 0;
				int shift = 0;

				while (off < len && (d[off] & 0x80) && shift < 63) {
					blen |= (uint64_t)(d[off++] & 0x7f) << shift;
					shift += 7;
				}
				if (off >= len)
					return die("a bundle cut short", NATS_ERR);
				blen |= (uint64_t)d[off++] << shift;
				if (blen > len - off)
					return die("a bundle's batch beyond its end", NATS_ERR);
				print_hash(d + off, (size_t)blen);
				off += (size_t)blen;
			}
			free(plain);
			natsMsg_Destroy(m);
		}
		jsStreamInfo_Destroy(si);
	} else if (!strcmp(argv[1], "list") && argc >= 5) {
		jsStreamInfo *si = NULL;

		if ((s = js_GetStreamInfo(&si, js, argv[3], NULL, &jerr)))
			return die(argv[3], s);
		for (uint64_t seq = si->State.FirstSeq; seq && seq <= si->State.LastSeq; seq++) {
			const char *k[] = { "Fl-Segment", "Fl-Batch", "Fl-Count", "Fl-Encoding", "Nats-Msg-Id" };
			natsMsg *m = NULL;

			if (js_GetMsg(&m, js, argv[3], seq, NULL, &jerr) || strcmp(natsMsg_GetSubject(m), argv[4])) {
				natsMsg_Destroy(m);
				continue;
			}
			printf("%llu", (unsigned long long)seq);
			for (int i = 0; i < 5; i++) {
				const char *v = NULL;

				natsMsgHeader_Get(m, k[i], &v);
				printf(" %s=%s", k[i], v ? v : "-");
			}
			printf(" bytes=%d\n", natsMsg_GetDataLength(m));
			natsMsg_Destroy(m);
		}
		jsStreamInfo_Destroy(si);
	} else if (!strcmp(argv[1], "publish") && argc >= 5) {
		FILE *f = fopen(argv[4], "rb");
		char *buf = malloc(64 << 20);
		size_t n = f && buf ? fread(buf, 1, 64 << 20, f) : 0;
		natsMsg *m = NULL;
		jsPubAck *ack = NULL;

		if (!f || !buf)
			return die(argv[4], NATS_ERR);
		fclose(f);
		if ((s = natsMsg_Create(&m, argv[3], NULL, buf, (int)n)))
			return die("message", s);
		for (int i = 5; i < argc; i++) {
			char *eq = strchr(argv[i], '=');

			if (!eq)
				return die(argv[i], NATS_INVALID_ARG);
			*eq = '\0';
			natsMsgHeader_Set(m, argv[i], eq + 1);
		}
		if ((s = js_PublishMsg(&ack, js, m, NULL, &jerr)))
			return die("publish", s);
		printf("%llu\n", (unsigned long long)ack->Sequence);
		jsPubAck_Destroy(ack);
		natsMsg_Destroy(m);
		free(buf);
	} else if (!strcmp(argv[1], "memstream") && argc >= 5) {
		jsStreamConfig cfg;
		jsStreamInfo *si = NULL;
		const char *subj[] = { argv[4] };

		jsStreamConfig_Init(&cfg);
		cfg.Name = argv[3];
		cfg.Subjects = subj;
		cfg.SubjectsLen = 1;
		cfg.Storage = js_MemoryStorage;
		if ((s = js_AddStream(&si, js, &cfg, NULL, &jerr)))
			return die(argv[3], s);
		jsStreamInfo_Destroy(si);
	} else if (!strcmp(argv[1], "subjects") && argc >= 5) {
		jsStreamInfo *si = NULL, *up = NULL;
		const char *subj[] = { argv[4] };
		jsStreamConfig cfg;

		if ((s = js_GetStreamInfo(&si, js, argv[3], NULL, &jerr)))
			return die(argv[3], s);
		cfg = *si->Config;
		cfg.Subjects = subj;
		cfg.SubjectsLen = 1;
		if ((s = js_UpdateStream(&up, js, &cfg, NULL, &jerr)))
			return die(argv[3], s);
		jsStreamInfo_Destroy(up);
		jsStreamInfo_Destroy(si);
	} else {
		fprintf(stderr, "fl-jsinfo: unknown command '%s'\n", argv[1]);
		return 2;
	}
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return 0;
}
