/*
 * Reading an OCI runtime's command line (runc, crun, runsc, youki) as the kernel recorded
 * it at exec: which container it acts on and where its bundle is. The runtime makes the
 * container's cgroup, so the process that made a cgroup tells us the bundle to read the
 * container's identity from, even for a container deleted 5 ms later.
 */
#ifndef FL_RUNTIME_ARGV_H
#define FL_RUNTIME_ARGV_H

#include <stddef.h>

#include "identity/cgpath.h"

struct runtime_cmd {
	const char *runtime;         /* static: "runc", "crun", "runsc", "youki" */
	const char *command;         /* static: "run", "create", "exec", ... or "" */
	char id[CGPATH_NAME_MAX];    /* container id (validated), "" if none */
	char bundle[4096];           /* absolute bundle dir, "" if none */
	char root[4096];             /* --root state dir, "" for the default */
};

/*
 * Parses argv (as recorded: args[0] is what was invoked) with the process's binary path
 * and cwd. Returns 0 when binary is an OCI runtime and the command creates a container
 * (run, create) with a valid id; -ENOENT when not a runtime; -EINVAL when a runtime but
 * not a container-creating command or the id/bundle do not validate. The bundle defaults
 * to cwd, a relative --bundle is taken from cwd; ".." components are refused.
 */
int runtime_argv__parse(const char *binary, char *const *args, size_t n_args, const char *cwd,
			struct runtime_cmd *out);

#endif
