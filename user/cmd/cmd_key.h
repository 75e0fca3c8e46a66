/* `firstlight key export`: the node's public key, for auditors and `verify --pubkey`. */
#ifndef FL_CMD_KEY_H
#define FL_CMD_KEY_H

int cmd_key__main(int argc, char **argv);

#endif
