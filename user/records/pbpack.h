/*
 * Protobuf packing in one pass, into a buffer of known room. protobuf-c's
 * protobuf_c_message_pack() writes into a buffer it trusts to be large enough, so a
 * caller first walks the whole message once more with protobuf_c_message_get_packed_size();
 * in the agent that size pass cost about as much CPU as the packing itself. pbpack__pack
 * checks its room as it writes instead, and writes the same bytes as protobuf-c (the
 * descriptor's field order, the same rules for what is left out, minimal varints), so
 * hashes and signatures over packed records do not depend on which packer made them.
 */
#ifndef FL_PBPACK_H
#define FL_PBPACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <protobuf-c/protobuf-c.h>

/* Submessages nested deeper than this are refused (-EINVAL); records nest 3 deep. */
#define PBPACK_DEPTH_MAX 32

/*
 * Packs m into out[0..cap). Returns the packed length; -ENOSPC when it does not fit
 * (out's bytes then undefined: grow and pack again); -EINVAL for a message nested
 * deeper than PBPACK_DEPTH_MAX or of a field type protobuf-c does not know.
 */
ssize_t pbpack__pack(const ProtobufCMessage *m, uint8_t *out, size_t cap);

#endif
