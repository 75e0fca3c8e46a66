/* `firstlight owners check FILE`: validates an owners file (identity/owners.h). */
#ifndef FL_CMD_OWNERS_H
#define FL_CMD_OWNERS_H

int cmd_owners__main(int argc, char **argv);

#endif
