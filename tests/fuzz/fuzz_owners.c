/*
 * libFuzzer target for user/identity/owners.c: the input is an owners file. Besides
 * ASan/UBSan, every result is checked against owners.h's contract: a file is taken
 * (with a 64-digit hash and matching that never crashes) or refused with errno EINVAL,
 * E2BIG or ENOMEM and one non-empty line that starts with the file's name.
 *
 * Build and run: make fuzz [FUZZ_SECONDS=30]. Seeds in tests/fuzz/corpus_owners/: the
 * documented example (example.json) and bad files of each kind (bad-*.json).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity/owners.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct owners_subject s = { .namespace_ = "payments", .image = "registry.local/pay-api",
				    .cgroup_path = "/ci/job", .runtime = "runc", .binary = "/bin/sh",
				    .pod_name = "web-0", .container_name = "app", .has_uid = 1 };
	char err[OWNERS_ERR_MAX];
	struct owners *o = owners__parse("f.json", (const char *)data, size, err, sizeof(err));

	if (!o) {
		if ((errno != EINVAL && errno != E2BIG && errno != ENOMEM) || strncmp(err, "f.json", 6) ||
		    strchr(err, '\n'))
			abort();
		return 0;
	}
	if (strlen(owners__sha256(o)) != 64)
		abort();
	(void)owners__match(o, &s);
	owners__free(o);
	return 0;
}
