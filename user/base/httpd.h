/*
 * A small HTTP server for the metrics endpoint and probes (libmicrohttpd, its own
 * thread): GET and HEAD only, every answer rendered by the owner's callback on the
 * server's thread. A bind address is a security decision: numeric hosts only.
 * Errors: NULL with *err = -errno (a bad address: -EINVAL, a port in use: -EADDRINUSE;
 * -ENOTSUP in the static build, which has no libmicrohttpd).
 */
#ifndef FL_HTTPD_H
#define FL_HTTPD_H

#include <stddef.h>

/*
 * Answers path: returns the HTTP status and sets *body (malloc'd: the server frees it; or
 * NULL for an empty body), *len and *content_type (static). -ENOMEM: the connection is
 * closed.
 */
typedef int httpd_answer_fn(void *ctx, const char *path, char **body, size_t *len,
			    const char **content_type);

struct httpd;

/* addr: "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464"; port 0 picks a free port. paths:
 * the paths served (NULL-terminated, static): any other is 404 whatever the method, and a
 * method other than GET or HEAD is 405, before answer is asked. */
struct httpd *httpd__start(const char *addr, const char *const *paths, httpd_answer_fn *answer, void *ctx,
			   int *err);
int httpd__port(const struct httpd *h);
/* Whether addr is one httpd__start takes: 0, or -EINVAL with *why saying what is wrong
 * (static). Options are checked with it before anything starts. */
int httpd__check_addr(const char *addr, const char **why);
void httpd__stop(struct httpd *h); /* NULL-safe; joins the thread, closes the socket */

#endif
