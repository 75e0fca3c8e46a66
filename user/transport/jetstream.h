/*
 * NATS JetStream, as firstlight uses it (the C client nats.c): one connection and its
 * JetStream context; the stream of segment batches, created with the settings evidence
 * needs or checked against them; publishing one batch with a message id (the server drops
 * a re-publish as a duplicate) and the expected last sequence of the node's subject (the
 * server refuses a publish out of order, so no hole can form); the last batch the server
 * holds for a subject; a durable pull consumer for the collector.
 *
 * Every function is called from one thread per connection. Errors: 0 or -errno, and a
 * one-line reason in the caller's buffer: -ECONNREFUSED/-ETIMEDOUT/-ENOTCONN (the engine
 * cannot be reached now: try again later), -EACCES (credentials refused), -ESTALE (the
 * subject's last sequence is not the one expected), -ENOENT (nothing there), -ENODEV (no
 * stream or consumer answers: deleted, or the server lost its store; make them again),
 * -EINVAL (a setting conflicts), -EPROTO (any other refusal), -ENOTSUP (a build without
 * NATS).
 */
#ifndef FL_JETSTREAM_H
#define FL_JETSTREAM_H

#include <stddef.h>
#include <stdint.h>

#define JS_ERR_MAX 256
#define JS_SUBJECT_MAX 512
#define JS_STREAM_MAX 64

struct js_opts {
	const char *urls;    /* "nats://host:port[,nats://...]" */
	const char *creds;   /* a .creds file (JWT and NKey seed), or NULL */
	const char *tls_ca;  /* CA certificates (PEM) to trust, or NULL; given: TLS required */
	const char *name;    /* the client's name, seen by the server's monitoring */
	int64_t timeout_ms;  /* connect and request timeout; 0: 5000 */
};

/* The stream's settings (js_conn__ensure_stream). */
struct js_stream {
	const char *name;     /* e.g. FIRSTLIGHT */
	const char *subjects; /* e.g. firstlight.batches.> */
	int replicas;         /* 1, or 3 for a 3-server cluster */
	int64_t max_bytes;    /* 0: no limit */
	int64_t duplicate_window_ns;
};

/* Headers firstlight puts on a batch; values as strings. */
#define JS_HDR_MAX 10
struct js_header {
	const char *key, *value;
};

struct js_publish {
	const char *subject;
	const char *msg_id;
	uint64_t expect_last_subject_seq; /* 0: no expectation (the subject's first message) */
	struct js_header hdr[JS_HDR_MAX];
	int n_hdr;
	const void *data;
	size_t len;
};

/* urls with any "user:password@" shown as "***@", for messages (caller frees; NULL on
 * ENOMEM): no log line carries a secret. */
char *js__shown_urls(const char *urls);

/* A message read back (js_conn__last, js_conn__fetch): valid until js_msg__free. */
struct js_msg;

struct js_conn;

/* Connects once (no retry here: the caller decides when to try again). NULL with *err and
 * why set. */
struct js_conn *js_conn__open(const struct js_opts *o, int *err, char why[JS_ERR_MAX]);
void js_conn__close(struct js_conn *c); /* NULL-safe */
/* The connection is up now (the client reconnects by itself after an outage). */
int js_conn__connected(struct js_conn *c);

/* Creates the stream with s's settings, or checks that an existing one can hold our
 * batches without loss: -EINVAL and why when it cannot (subjects, storage, discard
 * policy, duplicate window). */
int js_conn__ensure_stream(struct js_conn *c, const struct js_stream *s, char why[JS_ERR_MAX]);
/* Publishes and waits for JetStream's ack: 0, *seq the stream sequence and *duplicate set
 * when the server already held that message id. */
int js_conn__publish(struct js_conn *c, const struct js_publish *p, uint64_t *seq, int *duplicate,
		     char why[JS_ERR_MAX]);
/* The last message of subject in stream: 0 and *out, or -ENOENT when there is none. */
int js_conn__last(struct js_conn *c, const char *stream, const char *subject, struct js_msg **out,
		  char why[JS_ERR_MAX]);

/* The collector's durable pull consumer on stream, for subjects matching filter. */
int js_conn__consume(struct js_conn *c, const char *stream, const char *filter, const char *durable,
		     char why[JS_ERR_MAX]);
/* Where a consumer stands; -ENODEV when it or its stream is gone. */
struct js_consumer_state {
	uint64_t ack_floor;   /* every message up to this stream sequence is acknowledged */
	uint64_t pending;     /* messages delivered, not acknowledged */
	uint64_t stream_last; /* the stream's last sequence: no message delivered is past it */
};
int js_conn__consumer_state(struct js_conn *c, const char *stream, const char *durable,
			    struct js_consumer_state *st, char why[JS_ERR_MAX]);
/* Up to max messages, waiting at most timeout_ms: 0 and *n (possibly 0 on a timeout). */
int js_conn__fetch(struct js_conn *c, struct js_msg **out, int max, int64_t timeout_ms, int *n,
		   char why[JS_ERR_MAX]);
/*
 * Acknowledges the fetched messages m[i] whose ok[i] is set, then waits once for the
 * server to have read them all (one round trip for the lot, not one per message: the
 * server takes a connection's messages in order, so a ping answered after the acks
 * means they were processed). An error leaves some unacknowledged: they come again.
 */
int js_conn__ack(struct js_conn *c, struct js_msg **m, const int *ok, int n, char why[JS_ERR_MAX]);

/*
 * Hands a fetched message back to be delivered again after delay_ms (a negative
 * acknowledgement with a delay): it is not taken now, and sooner than the consumer's ack
 * wait would bring it back.
 */
int js_conn__nak(struct js_conn *c, struct js_msg *m, int64_t delay_ms, char why[JS_ERR_MAX]);
/* 0 when stream still holds the message of sequence seq, -ENOENT when it does not (the
 * stream's limits discarded it, or it was deleted). */
int js_conn__holds(struct js_conn *c, const char *stream, uint64_t seq, char why[JS_ERR_MAX]);

const char *js_msg__subject(const struct js_msg *m);
const void *js_msg__data(const struct js_msg *m, size_t *len);
/* A header's value, or NULL; valid while m lives (for a stored message, for the next
 * JS_HDR_MAX calls: each has a slot of its own). */
const char *js_msg__header(struct js_msg *m, const char *key);
/* The stream sequence (js_conn__last and fetched messages). */
uint64_t js_msg__seq(struct js_msg *m);
/* How many times a fetched message has been delivered, this time included (1 the first
 * time); 0 when not known. */
uint64_t js_msg__delivered(struct js_msg *m);
void js_msg__free(struct js_msg *m); /* NULL-safe */

#endif
