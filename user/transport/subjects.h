/*
 * Where batches go in JetStream: subject "<prefix>.batches.<node token>" in stream
 * "<PREFIX>" (the prefix upper-cased, dots as underscores). A node's name (a hostname,
 * $NODE_NAME) may hold dots and anything else, none of which a subject token may: the
 * token keeps [A-Za-z0-9_-] and writes every other byte as %XX, so it is reversible, and
 * safe as a file name for the collector (one folder per node).
 */
#ifndef FL_SUBJECTS_H
#define FL_SUBJECTS_H

#include <stddef.h>

#define SUBJECTS_TOKEN_MAX 768 /* a node name of 255 bytes, each as %XX, and the NUL */
#define SUBJECTS_PREFIX_MAX 128
#define SUBJECTS_DEFAULT_PREFIX "firstlight"

/* 0 when prefix is one or more tokens of [A-Za-z0-9_-] joined by dots, -EINVAL if not. */
int subjects__check_prefix(const char *prefix);
/* The node's token. -ENAMETOOLONG for a name longer than 255 bytes, -EINVAL for "". */
int subjects__token(const char *node, char out[SUBJECTS_TOKEN_MAX]);
/* The node's name from its token: -EINVAL when token is not one subjects__token makes. */
int subjects__node(const char *token, char *out, size_t size);
/* "<prefix>.batches.<token>" / "<prefix>.batches.>" / the stream's name. */
int subjects__batches(const char *prefix, const char *token, char *out, size_t size);
int subjects__all_batches(const char *prefix, char *out, size_t size);
int subjects__stream(const char *prefix, char *out, size_t size);

#endif
