/*
 * `firstlight tree`: rebuilds one job (a container, a pod, a workload, or a process and
 * its descendants) from segment files, as a text tree or one JSON document. The
 * assembly is jobtree.h, the output treefmt.h.
 */
#ifndef FL_CMD_TREE_H
#define FL_CMD_TREE_H

int cmd_tree__main(int argc, char **argv);

#endif
