/* `firstlight run`: the agent's options, then the agent (agent/agent.h). */
#ifndef FL_CMD_RUN_H
#define FL_CMD_RUN_H

/* 0 after a clean stop, 1 on error, 2 on bad usage. */
int cmd_run__main(int argc, char **argv);

#endif
