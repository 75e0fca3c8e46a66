/*
 * The owners file (`run --owners FILE`, docs/owners.md): rules that name who owns a
 * workload, which approval covers it and the boundary it is meant to keep.
 *
 *   {"rules": [{"match": {"namespace": "payments", "image": "registry.local/pay-*"},
 *               "owner": "team-payments", "approvalRef": "CHG-1234",
 *               "boundary": "reads the ledger only"},
 *              {"match": {"cgroupPath": "/ci/\*"}, "owner": "ci-platform"}]}
 *   (the glob is /ci/ followed by a star; written escaped here, inside a C comment)
 *
 * Match keys: namespace, containerName, runtime, binary (equal), podName, image,
 * cgroupPath (fnmatch globs, '*' crossing '/'), uid (a number). The first rule whose
 * given keys all match wins; a key the workload does not (yet) have does not match.
 * The file is operator input: every problem is one message naming the file, the line,
 * the key and what to do, and a file with any problem is refused whole.
 * Errors: constructors return NULL with errno set; free is NULL-safe.
 */
#ifndef FL_OWNERS_H
#define FL_OWNERS_H

#include <stddef.h>
#include <stdint.h>

#define OWNERS_FILE_MAX (1u << 20)   /* bytes */
#define OWNERS_RULES_MAX 10000
#define OWNERS_SHA256_HEX 65         /* 64 hex digits and the NUL */
#define OWNERS_ERR_MAX 512

/* What a rule gives. Strings valid while the owners object lives. */
struct owners_rule {
	const char *owner;
	const char *approval_ref; /* "" when not given */
	const char *boundary;     /* "" when not given */
};

/* What is known of a workload: NULL or "" for what is not known. */
struct owners_subject {
	const char *namespace_, *pod_name, *container_name, *image, *cgroup_path, *runtime;
	const char *binary; /* of the first program executed in it */
	int has_uid;
	uint32_t uid;       /* of the first program executed in it */
};

struct owners;

/*
 * Parses text (len bytes; name is how messages call it). On a problem: NULL, errno
 * EINVAL (ENOMEM, E2BIG), and err holds "NAME:LINE: what: what to do" (one line).
 */
struct owners *owners__parse(const char *name, const char *text, size_t len, char *err,
			     size_t errlen);
/* Reads path (a regular file, at most OWNERS_FILE_MAX bytes) and parses it, as above. */
struct owners *owners__load(const char *path, char *err, size_t errlen);
void owners__free(struct owners *o);

/* The first rule whose given keys all match s; NULL when none does. */
const struct owners_rule *owners__match(const struct owners *o, const struct owners_subject *s);

size_t owners__count(const struct owners *o);
/* Hex SHA-256 of the file's bytes, as parsed. */
const char *owners__sha256(const struct owners *o);
/* The name given to owners__parse (the path, for owners__load). */
const char *owners__name(const struct owners *o);

#endif
