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
 */
#ifndef FL_INPUTS_H
#define FL_INPUTS_H

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
};
int inputs__collect(struct inputs *in, int argc, char **argv, const char *default_dir);
void inputs__free(struct inputs *in);

#endif
