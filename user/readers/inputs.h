/*
 * What a reader command reads: its FILE, DIR and "-" arguments expanded. A directory
 * stands for its segment files (*.seg.gz) in name order, which is chain order, and must
 * hold at least one; "-" is stdin; no argument at all is the default directory, unless
 * stdin is a pipe or a file (records piped in without "-" are refused, never ignored).
 * Errors: -errno, one line logged naming the argument and what to do.
 */
#ifndef FL_INPUTS_H
#define FL_INPUTS_H

/* The paths, in reading order; caller frees with inputs__free. */
struct inputs {
	char **paths;
	int n;
	size_t cap;
};
int inputs__collect(struct inputs *in, int argc, char **argv, const char *default_dir);
void inputs__free(struct inputs *in);

#endif
