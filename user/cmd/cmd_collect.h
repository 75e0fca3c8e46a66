/* `firstlight collect`: the collector's options, then the collector (collect/collector.h). */
#ifndef FL_CMD_COLLECT_H
#define FL_CMD_COLLECT_H

/* 0 after a clean stop, 1 on error, 2 on bad usage. */
int cmd_collect__main(int argc, char **argv);

#endif
