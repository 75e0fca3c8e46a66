/* `firstlight read`: records back as JSON lines (canonical proto3 mapping) or text. */
#ifndef FL_CMD_READ_H
#define FL_CMD_READ_H

int cmd_read__main(int argc, char **argv);

/*
 * Expands the reader arguments: a directory stands for its segment files (*.seg.gz) in
 * name order, which is time order; "-" is stdin. Caller frees with inputs__free.
 */
struct inputs {
	char **paths;
	int n;
};
int inputs__collect(struct inputs *in, int argc, char **argv, const char *default_dir);
void inputs__free(struct inputs *in);

#endif
