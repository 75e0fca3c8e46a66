/* `firstlight verify`: checks a segment store's hash chain, signatures and sequence. */
#ifndef FL_CMD_VERIFY_H
#define FL_CMD_VERIFY_H

/* 0 when everything holds, 1 when something does not, 2 on bad usage. */
int cmd_verify__main(int argc, char **argv);

#endif
