/* `firstlight unpin`: removes what `run --handover` pinned (an uninstall). */
#ifndef FL_CMD_UNPIN_H
#define FL_CMD_UNPIN_H

int cmd_unpin__main(int argc, char **argv);

#endif
