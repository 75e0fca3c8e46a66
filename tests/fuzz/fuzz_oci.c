/*
 * libFuzzer target for user/identity/oci.c: the input is a config.json as a bundle's owner may
 * write it. Besides ASan/UBSan, every result is checked against oci.h's contract: 0,
 * -EBADMSG or -EFBIG; on error an all-empty identity; on success every field
 * NUL-terminated within its buffer, valid UTF-8 without control characters.
 *
 * Build and run: make fuzz [FUZZ_SECONDS=30]. Seeds in tests/fuzz/corpus_oci/: configs
 * as containerd's CRI plugin (containerd.json, sandbox.json) and CRI-O (crio.json) write
 * them, `runc spec`'s (runc-spec.json), values at and past the length limit (limits.json),
 * escapes and control characters (escapes.json) and wrong types (types.json).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity/oci.h"
#include "base/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_field(const char *s, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strnlen(s, cap);

	if (n >= cap || !utf8__valid(s, n))
		abort();
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f ||
		    (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct oci_identity empty;
	struct oci_identity id;
	int err;

	memset(&id, 0xa5, sizeof(id));
	err = oci__parse_config((const char *)data, size, &id);
	if (err) {
		if (err != -EBADMSG && err != -EFBIG)
			abort();
		if (memcmp(&id, &empty, sizeof(id)) != 0)
			abort();
		return 0;
	}
	check_field(id.pod_name, sizeof(id.pod_name));
	check_field(id.pod_namespace, sizeof(id.pod_namespace));
	check_field(id.pod_uid, sizeof(id.pod_uid));
	check_field(id.container_name, sizeof(id.container_name));
	check_field(id.image, sizeof(id.image));
	check_field(id.container_type, sizeof(id.container_type));
	check_field(id.sandbox_id, sizeof(id.sandbox_id));
	check_field(id.hostname, sizeof(id.hostname));
	if (id.has_kubernetes != 0 && id.has_kubernetes != 1)
		abort();
	return 0;
}
