/* `firstlight read`: records back as JSON lines (canonical proto3 mapping) or text. */
#ifndef FL_CMD_READ_H
#define FL_CMD_READ_H

int cmd_read__main(int argc, char **argv);

#endif
