/*
 * Rendering process image ids (struct fl_exec_id) as stable strings.
 * Form: "<boot tag>:<start ns>:<tgid>", e.g. "9f86d081:1234567890123:812", where the boot
 * tag is the first 32 bits of the kernel's boot id, so ids stay unique across reboots of
 * a node, and the rest is the image's CLOCK_BOOTTIME start and the host tgid.
 */
#ifndef FL_EXEC_ID_H
#define FL_EXEC_ID_H

#include <stddef.h>
#include <stdint.h>

#include "firstlight.h"

#define EXEC_ID_STRLEN 48 /* enough for the longest id with its NUL */

/* Writes the id into buf (EXEC_ID_STRLEN bytes). Returns buf. An all-zero id gives "". */
char *exec_id__format(char *buf, uint32_t boot_tag, const struct fl_exec_id *id);
/* Parses an id string. 0 or -EINVAL. */
int exec_id__parse(const char *s, uint32_t *boot_tag, struct fl_exec_id *id);
/* The boot tag of the running kernel (from /proc/sys/kernel/random/boot_id). 0 or -errno. */
int exec_id__boot_tag(uint32_t *tag, char *boot_id, size_t boot_id_len);

#endif
