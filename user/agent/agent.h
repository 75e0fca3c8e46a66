/* `firstlight run`: the agent. Parses its options and runs until SIGINT/SIGTERM. */
#ifndef FL_AGENT_H
#define FL_AGENT_H

/* Returns the process exit status: 0 after a clean stop, 1 on error, 2 on bad usage. */
int agent__main(int argc, char **argv);

#endif
