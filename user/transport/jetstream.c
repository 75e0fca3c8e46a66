/* NATS JetStream for firstlight; see jetstream.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/jetstream.h"

/* The URLs with any "user:password@" shown as "***@": messages never carry a secret. */
char *js__shown_urls(const char *urls)
{
	size_t n = strlen(urls);
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (const char *p = urls; *p;) {
		const char *end = strchr(p, ','), *at, *scheme = strstr(p, "://");
		size_t len = end ? (size_t)(end - p) : strlen(p);

		at = memchr(p, '@', len);
		if (at && scheme && scheme < at) {
			size_t head = (size_t)(scheme + 3 - p);

			memcpy(o, p, head);
			o += head;
			memcpy(o, "***", 3);
			o += 3;
			memcpy(o, at, (size_t)(p + len - at));
			o += p + len - at;
		} else {
			memcpy(o, p, len);
			o += len;
		}
		p += len;
		if (*p == ',')
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

#ifdef FL_NO_NATS
/* The static build has no NATS client (Debian ships no static libnats). */
static int unsupported(char why[JS_ERR_MAX])
{
	snprintf(why, JS_ERR_MAX, "this build has no NATS client (the static build): use the dynamic one");
	return -ENOTSUP;
}

struct js_conn *js_conn__open(const struct js_opts *o, int *err, char why[JS_ERR_MAX])
{
	(void)o;
	*err = unsupported(why);
	return NULL;
}
void js_conn__close(struct js_conn *c) { (void)c; }
int js_conn__connected(struct js_conn *c) { (void)c; return 0; }
int js_conn__ensure_stream(struct js_conn *c, const struct js_stream *s, char why[JS_ERR_MAX])
{
	(void)c, (void)s;
	return unsupported(why);
}
int js_conn__publish(struct js_conn *c, const struct js_publish *p, uint64_t *seq, int *duplicate,
		     char why[JS_ERR_MAX])
{
	(void)c, (void)p, (void)seq, (void)duplicate;
	return unsupported(why);
}
int js_conn__last(struct js_conn *c, const char *stream, const char *subject, struct js_msg **out,
		  char why[JS_ERR_MAX])
{
	(void)c, (void)stream, (void)subject, (void)out;
	return unsupported(why);
}
int js_conn__consume(struct js_conn *c, const char *stream, const char *filter, const char *durable,
		     char why[JS_ERR_MAX])
{
	(void)c, (void)stream, (void)filter, (void)durable;
	return unsupported(why);
}
int js_conn__consumer_state(struct js_conn *c, const char *stream, const char *durable,
			    struct js_consumer_state *st, char why[JS_ERR_MAX])
{
	(void)c, (void)stream, (void)durable, (void)st;
	return unsupported(why);
}
int js_conn__fetch(struct js_conn *c, struct js_msg **out, int max, int64_t timeout_ms, int *n,
		   char why[JS_ERR_MAX])
{
	(void)c, (void)out, (void)max, (void)timeout_ms, (void)n;
	return unsupported(why);
}
int js_conn__ack(struct js_conn *c, struct js_msg **m, const int *ok, int n, char why[JS_ERR_MAX])
{
	(void)c, (void)m, (void)ok, (void)n;
	return unsupported(why);
}
int js_conn__nak(struct js_conn *c, struct js_msg *m, int64_t delay_ms, char why[JS_ERR_MAX])
{
	(void)c, (void)m, (void)delay_ms;
	return unsupported(why);
}
int js_conn__holds(struct js_conn *c, const char *stream, uint64_t seq, char why[JS_ERR_MAX])
{
	(void)c, (void)stream, (void)seq;
	return unsupported(why);
}
const char *js_msg__subject(const struct js_msg *m) { (void)m; return ""; }
const void *js_msg__data(const struct js_msg *m, size_t *len) { (void)m; *len = 0; return ""; }
const char *js_msg__header(struct js_msg *m, const char *key) { (void)m, (void)key; return NULL; }
uint64_t js_msg__seq(struct js_msg *m) { (void)m; return 0; }
uint64_t js_msg__delivered(struct js_msg *m) { (void)m; return 0; }
void js_msg__free(struct js_msg *m) { (void)m; }

#else

#include <jansson.h>
#include <nats/nats.h>
#include <openssl/evp.h>

#define JS_ERR_WRONG_LAST_SEQUENCE 10071 /* JSStreamWrongLastSequenceErrF */
#define JS_ERR_STREAM_NOT_FOUND 10059
#define JS_ERR_CONSUMER_NOT_FOUND 10014
#define JS_ERR_NO_MESSAGE_FOUND 10037

/* A publish no stream answers (-ENODEV): gone, or (in a cluster) without a leader for now. */
static const char NO_STREAM[] =
	"no stream answers on this subject (no responders: the stream is gone, deleted or lost with the "
	"server's store, or a cluster is electing its leader)";

/*
 * Messages this client made or received are freed by its garbage-collecting thread, woken
 * for each one it is handed while it waits: two thread hand-offs per publish (the message
 * sent, its ack), which on a paravirtualized machine cost more than the publish itself.
 * Handed over together, they wake it once: kept until SPENT_MAX of them, or SPENT_BYTES
 * (a message holds its copy of the batches).
 */
#define SPENT_MAX 16
#define SPENT_BYTES (2u << 20)

struct js_conn {
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *sub; /* the collector's pull consumer */
	natsSubscription *acks; /* publish acks: ack_prefix and a counter */
	char ack_prefix[JS_SUBJECT_MAX];
	uint64_t ack_n;
	int64_t timeout_ms;
	natsMsg *spent[SPENT_MAX]; /* done with, not yet destroyed (see SPENT_MAX) */
	int n_spent;
	size_t spent_bytes;
};

struct js_msg {
	natsMsg *msg;     /* fetched: ack through it; NULL for a stored message */
	/* A stored message (js_conn__last), decoded from the API's JSON. */
	char *subject;
	uint8_t *data;
	size_t len;
	char *hdr;        /* "NATS/1.0\r\nKey: Value\r\n..." */
	uint64_t seq;
	/* js_msg__header's results for a stored message: one slot per call, so that the
	 * values of several headers stay valid together (a caller reads three or four). */
	char value[JS_HDR_MAX][JS_ERR_MAX];
	int n_values;
};

static void say(char why[JS_ERR_MAX], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(char why[JS_ERR_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, JS_ERR_MAX, fmt, ap);
	va_end(ap);
}

/* The client's own account of the last failure, without its source-file prefix. */
static const char *last_error(natsStatus s)
{
	const char *e = nats_GetLastError(NULL);

	if (e && *e == '(' && strstr(e, "): "))
		e = strstr(e, "): ") + 3;
	return e && *e ? e : natsStatus_GetText(s);
}

static int errno_of(natsStatus s)
{
	switch (s) {
	case NATS_OK: return 0;
	case NATS_NO_SERVER:
	case NATS_CONNECTION_CLOSED:
	case NATS_CONNECTION_DISCONNECTED:
	case NATS_NOT_YET_CONNECTED:
	case NATS_IO_ERROR: return -ENOTCONN;
	case NATS_TIMEOUT: return -ETIMEDOUT;
	case NATS_CONNECTION_AUTH_FAILED:
	case NATS_NOT_PERMITTED: return -EACCES;
	case NATS_NOT_FOUND: return -ENOENT;
	case NATS_NO_MEMORY: return -ENOMEM;
	default: return -EPROTO;
	}
}

struct js_conn *js_conn__open(const struct js_opts *o, int *err, char why[JS_ERR_MAX])
{
	struct js_conn *c = calloc(1, sizeof(*c));
	char *urls = NULL, *save = NULL, *tok;
	const char *servers[16];
	int n = 0;
	natsStatus s;

	*why = '\0';
	if (!c || !(urls = strdup(o->urls))) {
		*err = -ENOMEM;
		say(why, "%s", strerror(ENOMEM));
		goto fail;
	}
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
	for (tok = strtok_r(urls, ",", &save); tok && n < 16; tok = strtok_r(NULL, ",", &save))
		servers[n++] = tok;
	/* The client's locks spin (a PAUSE at each of 2,000 tries, by default) before they
	 * sleep: dear on a VM, where a PAUSE loop may exit to the host, and the threads that
	 * take them wait on each other anyway. Only the library's first opening sets it. */
	s = nats_Open(0);
	if (!s)
		s = natsOptions_Create(&c->opts);
	if (!s)
		s = natsOptions_SetServers(c->opts, servers, n);
	if (!s && o->name)
		s = natsOptions_SetName(c->opts, o->name);
	if (!s)
		s = natsOptions_SetTimeout(c->opts, c->timeout_ms);
	/* After an outage the client reconnects by itself, for ever, every second. */
	if (!s)
		s = natsOptions_SetMaxReconnect(c->opts, -1);
	if (!s)
		s = natsOptions_SetReconnectWait(c->opts, 1000);
	/* A publish is written by the publishing thread itself, not handed to the client's
	 * flusher thread: one thread wake-up less per batch, and every batch waits for its
	 * ack anyway, so there is nothing to coalesce. */
	if (!s)
		s = natsOptions_SetSendAsap(c->opts, true);
	if (!s && o->creds)
		s = natsOptions_SetUserCredentialsFromFiles(c->opts, o->creds, NULL);
	if (!s && o->tls_ca) {
		s = natsOptions_SetSecure(c->opts, true);
		if (!s)
			s = natsOptions_LoadCATrustedCertificates(c->opts, o->tls_ca);
	}
	if (s) {
		*err = s == NATS_NO_MEMORY ? -ENOMEM : -EINVAL;
		say(why, "%s", last_error(s));
		goto fail;
	}
	s = natsConnection_Connect(&c->nc, c->opts);
	if (!s)
		s = natsConnection_JetStream(&c->js, c->nc, NULL);
	if (s) {
		*err = errno_of(s);
		say(why, "%s", last_error(s));
		goto fail;
	}
	free(urls);
	return c;
fail:
	free(urls);
	js_conn__close(c);
	return NULL;
}

static void spent_flush(struct js_conn *c)
{
	for (int i = 0; i < c->n_spent; i++)
		natsMsg_Destroy(c->spent[i]);
	c->n_spent = 0;
	c->spent_bytes = 0;
}

static void spend(struct js_conn *c, natsMsg *m)
{
	if (!m)
		return;
	c->spent[c->n_spent++] = m;
	c->spent_bytes += (size_t)natsMsg_GetDataLength(m);
	if (c->n_spent == SPENT_MAX || c->spent_bytes >= SPENT_BYTES)
		spent_flush(c);
}

void js_conn__close(struct js_conn *c)
{
	if (!c)
		return;
	spent_flush(c);
	natsSubscription_Destroy(c->sub);
	natsSubscription_Destroy(c->acks);
	jsCtx_Destroy(c->js);
	natsConnection_Destroy(c->nc);
	natsOptions_Destroy(c->opts);
	free(c);
}

int js_conn__connected(struct js_conn *c)
{
	return c && c->nc && natsConnection_Status(c->nc) == NATS_CONN_STATUS_CONNECTED;
}

/* Does pattern (a stream's subject, wildcards allowed) take every subject of ours? */
static int covers(const char *pattern, const char *ours)
{
	size_t pl = strlen(pattern);

	if (!strcmp(pattern, ours) || !strcmp(pattern, ">"))
		return 1;
	/* "a.b.>" takes "a.b.>" and anything under "a.b.". */
	return pl >= 2 && !strcmp(pattern + pl - 2, ".>") && !strncmp(pattern, ours, pl - 1);
}

int js_conn__ensure_stream(struct js_conn *c, const struct js_stream *s, char why[JS_ERR_MAX])
{
	const char *subjects[] = { s->subjects };
	jsStreamInfo *si = NULL;
	jsStreamConfig cfg;
	jsErrCode jerr = 0;
	natsStatus st;
	int err = 0, covered = 0;

	st = js_GetStreamInfo(&si, c->js, s->name, NULL, &jerr);
	if (st == NATS_NOT_FOUND || jerr == JS_ERR_STREAM_NOT_FOUND) {
		jsStreamConfig_Init(&cfg);
		cfg.Name = s->name;
		cfg.Description = "firstlight: every node's signed segment batches";
		cfg.Subjects = subjects;
		cfg.SubjectsLen = 1;
		cfg.Storage = js_FileStorage;
		cfg.Retention = js_LimitsPolicy;
		/* When full, refuse new batches (the nodes keep them and say so) rather than
		 * dropping old ones nobody has collected. */
		cfg.Discard = js_DiscardNew;
		cfg.MaxBytes = s->max_bytes > 0 ? s->max_bytes : -1;
		cfg.Replicas = s->replicas > 0 ? s->replicas : 1;
		cfg.Duplicates = s->duplicate_window_ns;
		/* Evidence: no message deleted or purged through the API. */
		cfg.DenyDelete = true;
		cfg.DenyPurge = true;
		jerr = 0;
		st = js_AddStream(&si, c->js, &cfg, NULL, &jerr);
		if (st) {
			say(why, "creating stream %s: %s", s->name, last_error(st));
			err = errno_of(st) == -EPROTO ? -EINVAL : errno_of(st);
		}
		jsStreamInfo_Destroy(si);
		return err;
	}
	if (st) {
		say(why, "stream %s: %s", s->name, last_error(st));
		return errno_of(st);
	}
	for (int i = 0; i < si->Config->SubjectsLen; i++)
		covered |= covers(si->Config->Subjects[i], s->subjects);
	if (!covered)
		say(why, "stream %s exists but does not take subject %s: give another --ship-subject-prefix, "
			 "or add the subject to the stream", s->name, s->subjects), err = -EINVAL;
	else if (si->Config->Storage != js_FileStorage)
		say(why, "stream %s keeps messages in memory: batches would not survive a server restart", s->name),
			err = -EINVAL;
	else if (si->Config->Discard != js_DiscardNew && (si->Config->MaxBytes > 0 || si->Config->MaxMsgs > 0 ||
							  si->Config->MaxAge > 0 || si->Config->MaxMsgsPerSubject > 0))
		say(why, "stream %s has limits with the discard-old policy: uncollected batches would be dropped "
			 "silently (set discard new)", s->name), err = -EINVAL;
	else if (si->Config->Retention != js_LimitsPolicy)
		say(why, "stream %s is not a limits stream: messages would go once a consumer acked them", s->name),
			err = -EINVAL;
	else if (si->Config->Duplicates < 60000000000LL)
		say(why, "stream %s has a duplicate window under a minute: a re-published batch could be stored twice",
		    s->name), err = -EINVAL;
	jsStreamInfo_Destroy(si);
	return err;
}

/*
 * Publishing waits for JetStream's ack on a synchronous subscription of our own: the
 * client's reader thread hands the ack straight to the waiting publisher. The client's
 * own request path (js_PublishMsg) goes through its reply multiplexer, an asynchronous
 * subscription with a delivery thread of its own: a thread hand-over more per message,
 * and hand-overs are most of what a message costs. Each publish has a reply subject of its
 * own (the inbox and a counter), so a late ack of an earlier publish that timed out is
 * never taken for this one's.
 */
static int ack_inbox(struct js_conn *c, char why[JS_ERR_MAX])
{
	natsInbox *inbox = NULL;
	char pattern[JS_SUBJECT_MAX];
	natsStatus s;

	if (c->acks)
		return 0;
	s = natsInbox_Create(&inbox);
	if (!s) {
		snprintf(c->ack_prefix, sizeof(c->ack_prefix), "%s.", (const char *)inbox);
		snprintf(pattern, sizeof(pattern), "%s.*", (const char *)inbox);
		s = natsConnection_SubscribeSync(&c->acks, c->nc, pattern);
	}
	natsInbox_Destroy(inbox);
	if (s) {
		say(why, "subscribing to acks: %s", last_error(s));
		return errno_of(s);
	}
	return 0;
}

/* JetStream's answer to a publish: {"stream":..,"seq":N[,"duplicate":true]} or
 * {"error":{"code":..,"err_code":..,"description":..}}. */
static int read_ack(natsMsg *r, uint64_t *seq, int *duplicate, char why[JS_ERR_MAX])
{
	json_error_t jerr;
	json_t *doc, *error, *sq;
	int err = 0;

	if (natsMsg_IsNoResponders(r)) {
		say(why, "%s", NO_STREAM);
		return -ENODEV;
	}
	doc = json_loadb(natsMsg_GetData(r), (size_t)natsMsg_GetDataLength(r), 0, &jerr);
	if (!doc) {
		say(why, "the server's ack is not JSON");
		return -EPROTO;
	}
	error = json_object_get(doc, "error");
	sq = json_object_get(doc, "seq");
	if (error) {
		json_int_t code = json_integer_value(json_object_get(error, "err_code"));

		say(why, "%s", json_string_value(json_object_get(error, "description")) ?: "refused");
		err = code == JS_ERR_WRONG_LAST_SEQUENCE ? -ESTALE : -EPROTO;
	} else if (!json_is_integer(sq) || json_integer_value(sq) <= 0) {
		say(why, "the server's ack names no sequence");
		err = -EPROTO;
	} else {
		*seq = (uint64_t)json_integer_value(sq);
		*duplicate = json_is_true(json_object_get(doc, "duplicate"));
	}
	json_decref(doc);
	return err;
}

int js_conn__publish(struct js_conn *c, const struct js_publish *p, uint64_t *seq, int *duplicate,
		     char why[JS_ERR_MAX])
{
	char reply[sizeof(c->ack_prefix) + 24], expect[24];
	int64_t deadline, left;
	natsMsg *m = NULL, *r = NULL;
	natsStatus s;
	int err;

	if (p->len > (size_t)INT32_MAX) {
		say(why, "batch of %zu bytes", p->len);
		return -EMSGSIZE;
	}
	if ((err = ack_inbox(c, why)))
		return err;
	snprintf(reply, sizeof(reply), "%s%" PRIu64, c->ack_prefix, ++c->ack_n);
	s = natsMsg_Create(&m, p->subject, reply, p->data, (int)p->len);
	for (int i = 0; !s && i < p->n_hdr; i++)
		s = natsMsgHeader_Set(m, p->hdr[i].key, p->hdr[i].value);
	if (!s && p->msg_id)
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", p->msg_id);
	if (!s && p->expect_last_subject_seq) {
		snprintf(expect, sizeof(expect), "%" PRIu64, p->expect_last_subject_seq);
		s = natsMsgHeader_Set(m, "Nats-Expected-Last-Subject-Sequence", expect);
	}
	if (!s)
		s = natsConnection_PublishMsg(c->nc, m);
	spend(c, m);
	if (s) {
		say(why, "%s", last_error(s));
		return errno_of(s);
	}
	deadline = nats_Now() + c->timeout_ms;
	for (;;) {
		left = deadline - nats_Now();
		s = natsSubscription_NextMsg(&r, c->acks, left > 0 ? left : 1);
		if (s == NATS_NO_RESPONDERS) {
			say(why, "%s", NO_STREAM);
			return -ENODEV;
		}
		if (s) {
			say(why, "%s", s == NATS_TIMEOUT ? "no ack within the timeout" : last_error(s));
			return errno_of(s);
		}
		if (!strcmp(natsMsg_GetSubject(r), reply))
			break;
		spend(c, r); /* the late ack of a publish that timed out */
	}
	err = read_ack(r, seq, duplicate, why);
	spend(c, r);
	return err;
}

/* Base64 as the JetStream API writes it. NULL on bad input. */
static uint8_t *unbase64(const char *in, size_t *out_len)
{
	size_t n = strlen(in), pad = 0;
	uint8_t *out;
	int r;

	if (n % 4)
		return NULL;
	out = malloc(n / 4 * 3 + 1);
	if (!out)
		return NULL;
	r = n ? EVP_DecodeBlock(out, (const unsigned char *)in, (int)n) : 0;
	if (r < 0) {
		free(out);
		return NULL;
	}
	if (n >= 1 && in[n - 1] == '=')
		pad++;
	if (n >= 2 && in[n - 2] == '=')
		pad++;
	*out_len = (size_t)r - pad;
	out[*out_len] = '\0';
	return out;
}

/*
 * A stored message through the JetStream API itself ($JS.API.STREAM.MSG.GET with body,
 * e.g. {"last_by_subj": S} or {"seq": N}): 0 and *doc (the answer, caller decrefs),
 * -ENOENT when the stream holds no such message. what names it in why.
 */
static int stream_msg_get(struct js_conn *c, const char *stream, json_t *body, const char *what, json_t **doc,
			  char why[JS_ERR_MAX])
{
	char api[JS_STREAM_MAX + 64];
	natsMsg *reply = NULL;
	json_error_t jerr;
	char *req;
	natsStatus st;

	*doc = NULL;
	snprintf(api, sizeof(api), "$JS.API.STREAM.MSG.GET.%s", stream);
	req = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!req)
		return -ENOMEM;
	st = natsConnection_Request(&reply, c->nc, api, req, (int)strlen(req), c->timeout_ms);
	free(req);
	if (st) {
		say(why, "%s: %s", what, last_error(st));
		return st == NATS_NO_RESPONDERS ? -ENOTCONN : errno_of(st);
	}
	*doc = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, &jerr);
	natsMsg_Destroy(reply);
	if (!*doc) {
		say(why, "%s: the server's answer is not JSON", what);
		return -EPROTO;
	}
	if (json_object_get(*doc, "error")) {
		json_t *e = json_object_get(*doc, "error");
		json_int_t code = json_integer_value(json_object_get(e, "err_code"));

		say(why, "%s: %s", what, json_string_value(json_object_get(e, "description")) ?: "error");
		json_decref(*doc);
		*doc = NULL;
		return code == JS_ERR_NO_MESSAGE_FOUND ? -ENOENT : -EPROTO;
	}
	return 0;
}

/*
 * The subject's last stored message, by the API itself: this client version hands back no
 * sequence for a stored message, and the next publish must name it.
 */
int js_conn__last(struct js_conn *c, const char *stream, const char *subject, struct js_msg **out,
		  char why[JS_ERR_MAX])
{
	char what[JS_SUBJECT_MAX + 32];
	json_t *doc = NULL, *msg;
	struct js_msg *m = NULL;
	const char *s;
	int err;

	*out = NULL;
	snprintf(what, sizeof(what), "last batch of %s", subject);
	err = stream_msg_get(c, stream, json_pack("{s:s}", "last_by_subj", subject), what, &doc, why);
	if (err)
		return err;
	err = -EPROTO;
	msg = json_object_get(doc, "message");
	m = calloc(1, sizeof(*m));
	if (!m || !msg)
		goto done;
	m->seq = (uint64_t)json_integer_value(json_object_get(msg, "seq"));
	m->subject = strdup(json_string_value(json_object_get(msg, "subject")) ?: "");
	s = json_string_value(json_object_get(msg, "data"));
	m->data = unbase64(s ? s : "", &m->len);
	s = json_string_value(json_object_get(msg, "hdrs"));
	if (s) {
		size_t hl;

		m->hdr = (char *)unbase64(s, &hl);
	}
	if (!m->subject || !m->data || !m->seq || (s && !m->hdr)) {
		say(why, "%s: the server's answer is incomplete", what);
		goto done;
	}
	*out = m;
	m = NULL;
	err = 0;
done:
	js_msg__free(m);
	json_decref(doc);
	return err;
}

int js_conn__consume(struct js_conn *c, const char *stream, const char *filter, const char *durable,
		     char why[JS_ERR_MAX])
{
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;

	jsSubOptions_Init(&so);
	so.Stream = stream;
	so.Config.Durable = durable;
	so.Config.AckPolicy = js_AckExplicit;
	so.Config.DeliverPolicy = js_DeliverAll;
	/* Long enough to write a batch durably before the server redelivers it. */
	so.Config.AckWait = 60LL * 1000000000;
	so.Config.MaxAckPending = 1024;
	s = js_PullSubscribe(&c->sub, c->js, filter, durable, NULL, &so, &jerr);
	if (s) {
		say(why, "consumer %s on stream %s: %s", durable, stream, last_error(s));
		return errno_of(s);
	}
	return 0;
}

int js_conn__consumer_state(struct js_conn *c, const char *stream, const char *durable,
			    struct js_consumer_state *st, char why[JS_ERR_MAX])
{
	jsConsumerInfo *ci = NULL;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	/* The stream first: a message delivered after this answer is past its last sequence,
	 * and the consumer's answer, later, counts it. */
	s = js_GetStreamInfo(&si, c->js, stream, NULL, &jerr);
	if (!s)
		s = js_GetConsumerInfo(&ci, c->js, stream, durable, NULL, &jerr);
	if (s) {
		jsStreamInfo_Destroy(si);
		say(why, "consumer %s on stream %s: %s", durable, stream, last_error(s));
		return s == NATS_NOT_FOUND || jerr == JS_ERR_CONSUMER_NOT_FOUND || jerr == JS_ERR_STREAM_NOT_FOUND ?
			       -ENODEV : errno_of(s);
	}
	st->stream_last = si->State.LastSeq;
	st->ack_floor = ci->AckFloor.Stream;
	st->pending = ci->NumAckPending > 0 ? (uint64_t)ci->NumAckPending : 0;
	jsStreamInfo_Destroy(si);
	jsConsumerInfo_Destroy(ci);
	return 0;
}

int js_conn__fetch(struct js_conn *c, struct js_msg **out, int max, int64_t timeout_ms, int *n,
		   char why[JS_ERR_MAX])
{
	natsMsgList list = { 0 };
	jsErrCode jerr = 0;
	natsStatus s;

	*n = 0;
	s = natsSubscription_Fetch(&list, c->sub, max, timeout_ms, &jerr);
	if (s == NATS_TIMEOUT)
		return 0; /* nothing came */
	if (s == NATS_NO_RESPONDERS || s == NATS_NOT_FOUND) {
		say(why, "fetching: %s (the consumer or its stream is gone: deleted, or the server lost its store)",
		    last_error(s));
		return -ENODEV;
	}
	if (s) {
		say(why, "fetching: %s", last_error(s));
		return errno_of(s);
	}
	for (int i = 0; i < list.Count && *n < max; i++) {
		struct js_msg *m = calloc(1, sizeof(*m));

		if (!m)
			break; /* the rest is redelivered */
		m->msg = list.Msgs[i];
		list.Msgs[i] = NULL;
		out[(*n)++] = m;
	}
	natsMsgList_Destroy(&list);
	return 0;
}

int js_conn__ack(struct js_conn *c, struct js_msg **m, const int *ok, int n, char why[JS_ERR_MAX])
{
	int any = 0;
	natsStatus s;

	for (int i = 0; i < n; i++) {
		if (!ok[i])
			continue;
		if (!m[i]->msg) {
			say(why, "ack: %s", "not a fetched message");
			return -EINVAL;
		}
		if ((s = natsMsg_Ack(m[i]->msg, NULL))) {
			say(why, "ack: %s", last_error(s));
			return errno_of(s);
		}
		any = 1;
	}
	if (any && (s = natsConnection_FlushTimeout(c->nc, c->timeout_ms))) {
		say(why, "ack: %s", last_error(s));
		return errno_of(s);
	}
	return 0;
}

int js_conn__nak(struct js_conn *c, struct js_msg *m, int64_t delay_ms, char why[JS_ERR_MAX])
{
	natsStatus s;

	(void)c;
	if (!m->msg) {
		say(why, "nak: %s", "not a fetched message");
		return -EINVAL;
	}
	if ((s = natsMsg_NakWithDelay(m->msg, delay_ms, NULL))) {
		say(why, "nak: %s", last_error(s));
		return errno_of(s);
	}
	return 0;
}

int js_conn__holds(struct js_conn *c, const char *stream, uint64_t seq, char why[JS_ERR_MAX])
{
	char what[64];
	json_t *doc = NULL;
	int err;

	snprintf(what, sizeof(what), "stream message %" PRIu64, seq);
	err = stream_msg_get(c, stream, json_pack("{s:I}", "seq", (json_int_t)seq), what, &doc, why);
	json_decref(doc);
	return err;
}

const char *js_msg__subject(const struct js_msg *m)
{
	return m->msg ? natsMsg_GetSubject(m->msg) : m->subject;
}

const void *js_msg__data(const struct js_msg *m, size_t *len)
{
	if (m->msg) {
		*len = (size_t)natsMsg_GetDataLength(m->msg);
		return natsMsg_GetData(m->msg);
	}
	*len = m->len;
	return m->data;
}

const char *js_msg__header(struct js_msg *m, const char *key)
{
	const char *v = NULL, *p;
	size_t kl = strlen(key);

	if (m->msg)
		return natsMsgHeader_Get(m->msg, key, &v) == NATS_OK ? v : NULL;
	/* "NATS/1.0\r\nKey: Value\r\n...": the first line is the status. */
	for (p = m->hdr ? strstr(m->hdr, "\r\n") : NULL; p && p[2]; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2, *end = strstr(line, "\r\n");
		size_t vl;

		if (!end)
			break;
		if ((size_t)(end - line) > kl + 1 && !strncasecmp(line, key, kl) && line[kl] == ':') {
			const char *val = line + kl + 1;

			while (*val == ' ')
				val++;
			char *slot = m->value[m->n_values++ % JS_HDR_MAX];

			vl = (size_t)(end - val);
			if (vl >= JS_ERR_MAX)
				return NULL;
			memcpy(slot, val, vl);
			slot[vl] = '\0';
			return slot;
		}
	}
	return NULL;
}

uint64_t js_msg__seq(struct js_msg *m)
{
	jsMsgMetaData *meta = NULL;
	uint64_t seq = 0;

	if (!m->msg)
		return m->seq;
	if (natsMsg_GetMetaData(&meta, m->msg) == NATS_OK) {
		seq = meta->Sequence.Stream;
		jsMsgMetaData_Destroy(meta);
	}
	return seq;
}

uint64_t js_msg__delivered(struct js_msg *m)
{
	jsMsgMetaData *meta = NULL;
	uint64_t n = 0;

	if (m->msg && natsMsg_GetMetaData(&meta, m->msg) == NATS_OK) {
		n = meta->NumDelivered;
		jsMsgMetaData_Destroy(meta);
	}
	return n;
}

void js_msg__free(struct js_msg *m)
{
	if (!m)
		return;
	natsMsg_Destroy(m->msg);
	free(m->subject);
	free(m->data);
	free(m->hdr);
	free(m);
}

#endif
