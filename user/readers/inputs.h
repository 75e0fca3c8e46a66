/*
 * What a reader command reads: its FILE, DIR and "-" arguments expanded. A directory
 * stands for its segment files (*.seg.gz) in name order, which is chain order; a
 * directory with none but with folders that have some (a collected store: one folder per
 * node, `firstlight collect`) stands for each folder's, in name order; a directory must
 * give at least one. "-" is stdin; no argument at all is the default directory, unless
 * stdin is a pipe or a file (records piped in without "-" are refused, never ignored).
 * Each directory's segments are one store (one node's chain): paths carry the index of
 * theirs; files named alone share store 0 with the others so named. Errors: -errno, one
 * line logged naming the argument and what to do.
 *
 * Reading them: inputs__read feeds an input's records, one at a time, to the reader's
 * function; a reader that passes over its inputs twice first has stdin kept
 * (inputs__keep_stdin), since a pipe can be read only once.
 */
#ifndef FL_INPUTS_H
#define FL_INPUTS_H

#include <stddef.h>

#include "firstlight.pb-c.h"

/* The paths, in reading order; caller frees with inputs__free. */
struct inputs {
	char **paths;
	int n;
	size_t cap;
	int *store;        /* paths[i]'s store, an index into stores[] */
	size_t cap_store;
	char **stores;     /* each store's directory ("" for files named alone) */
	int n_stores;
	size_t cap_stores;
	int *own_folder;   /* stores[i] is a collected store's folder of the collector's own */
	size_t cap_own;
	int *failed;       /* INPUT_* of paths[i]: what reading it found so far */
	size_t cap_failed;
	int stdin_fd;      /* stdin's copy (inputs__keep_stdin), when have_stdin */
	int have_stdin;
};
#define INPUT_FAILED 1   /* it could not be read in full: said once, read again silently */
#define INPUT_NO_STDIN 2 /* "-" whose copy could not be made: never read */

int inputs__collect(struct inputs *in, int argc, char **argv, const char *default_dir);

/*
 * Whose records input i holds, where that is not the node its records name: a collected
 * store's folder whose name starts with '@' (`@collector`, the collector's own records; no
 * node's folder can, its name is the node's subject token, of [A-Za-z0-9_-] and %XX)
 * names itself, whatever host the collector ran on; by its path when the inputs hold
 * several stores' (their collectors are not one). NULL: the node its records name.
 */
const char *inputs__group(const struct inputs *in, int i);
void inputs__free(struct inputs *in);

/*
 * Copies stdin to an anonymous file that every "-" then reads from its start. 0, or 1
 * when it could not be copied (logged; such "-" inputs are not read and count as
 * damaged). Without it, "-" reads stdin itself, once.
 */
int inputs__keep_stdin(struct inputs *in);

/* Takes one record of an input (the reader's own, untrusted). 0, or an error that stops
 * the reading and is returned. */
typedef int (*inputs_feed_fn)(void *ctx, const Firstlight__V1__Event *ev);

#define INPUTS_WARN_UNCLEAN 1u /* warn of an input that ends without its gzip trailer */

/*
 * Feeds every record of input i, in order, to feed. An input that cannot be read in
 * full is said once (its name and the byte offset) however often it is read, and what
 * was read of it still counts. 0; 1 when it is damaged, now or at an earlier read; or
 * the error of feed, or -ENOMEM.
 */
int inputs__read(struct inputs *in, int i, inputs_feed_fn feed, void *ctx, unsigned int flags);

#endif
