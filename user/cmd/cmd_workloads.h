/* `firstlight workloads`: what there is to select with `tree`. */
#ifndef FL_CMD_WORKLOADS_H
#define FL_CMD_WORKLOADS_H

int cmd_workloads__main(int argc, char **argv);

#endif
