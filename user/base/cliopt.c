/* Long options written in full; see cliopt.h. */
#include <errno.h>
#include <string.h>

#include "base/cliopt.h"
#include "base/log.h"

/* Is a an option of longopts, written in full ("--json", "--data-dir=x")? */
static int is_option(const char *a, const struct option *longopts)
{
	size_t n;

	if (strncmp(a, "--", 2) || !a[2])
		return 0;
	a += 2;
	n = strcspn(a, "=");
	for (const struct option *o = longopts; o->name; o++)
		if (strlen(o->name) == n && !strncmp(o->name, a, n))
			return 1;
	return 0;
}

int cliopt__check_full(const char *cmd, int argc, char **argv, const struct option *longopts)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq;
		const struct option *exact = NULL, *longer[3] = { NULL };
		size_t n, n_longer = 0;

		if (!strcmp(a, "--"))
			break;
		if (strncmp(a, "--", 2))
			continue;
		a += 2;
		eq = strchr(a, '=');
		n = eq ? (size_t)(eq - a) : strlen(a);
		for (const struct option *o = longopts; o->name; o++) {
			if (strlen(o->name) == n && !strncmp(o->name, a, n))
				exact = o;
			else if (strlen(o->name) > n && !strncmp(o->name, a, n) && n_longer++ < 3)
				longer[n_longer - 1] = o;
		}
		if (exact) {
			if (exact->has_arg != required_argument || eq)
				continue;
			/* Its value, unless the value is missing and the next option was taken
			 * for it ("--container --json"): say so instead. */
			if (i + 1 < argc && is_option(argv[i + 1], longopts)) {
				log_error("%s: --%s needs a value before %s", cmd, exact->name, argv[i + 1]);
				return -EINVAL;
			}
			i++;
			continue;
		}
		if (n_longer == 1 && n) {
			log_error("%s: option '--%.*s' is not complete: write --%s", cmd, (int)n, a, longer[0]->name);
			return -EINVAL;
		}
		if (n_longer > 1 && n) {
			log_error("%s: option '--%.*s' is not complete: write one of --%s, --%s%s%s%s", cmd, (int)n, a,
				  longer[0]->name, longer[1]->name, longer[2] ? ", --" : "",
				  longer[2] ? longer[2]->name : "", n_longer > 3 ? ", ..." : "");
			return -EINVAL;
		}
		/* Unknown: getopt_long says so. */
	}
	return 0;
}
