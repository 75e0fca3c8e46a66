/*
 * OCI runtime command lines, parsed the way each runtime's own option parser would. The
 * option tables matter: an option that takes a value must be known as such, or its value
 * would be read as the container id. So an option not in the runtime's table makes the
 * line -EINVAL rather than a guess; no real runtime invocation (containerd's shim,
 * CRI-O, podman, docker) uses one that is missing here.
 *
 * runc and runsc parse with Go's flag package (urfave/cli for runc): "-root" is
 * "--root", one-letter aliases are flags too ("-b"), and "--flag=value" works for
 * booleans as well. crun (argp) and youki (clap) are getopt-like: long options with
 * "--", short ones with "-", a short option's value may be attached ("-b/x").
 * Options may follow the container id: urfave/cli moves flags before the arguments and
 * argp permutes, so "runc run c1 --bundle /b" is understood as the runtime does; "--"
 * ends the options. A create command takes exactly one argument, the id.
 */
#include <errno.h>
#include <string.h>

#include "identity/runtime_argv.h"

enum {
	OPT_VALUE = 1,  /* takes a value */
	OPT_ROOT = 2,   /* the value is the state root */
	OPT_BUNDLE = 4, /* the value is the bundle dir */
	OPT_RUN = 8,    /* only for "run" */
};

struct opt {
	const char *name; /* long name */
	char short_name;  /* single-letter alias, 0 if none */
	unsigned char flags;
};

struct runtime_desc {
	const char *name;
	int go_flags; /* Go flag syntax (see above) */
	const struct opt *global;
	const struct opt *create; /* options of "create" and "run" */
};

/* runc 1.1 main.go and create.go / run.go. */
static const struct opt runc_global[] = {
	{ "root", 0, OPT_VALUE | OPT_ROOT },
	{ "log", 0, OPT_VALUE },
	{ "log-format", 0, OPT_VALUE },
	{ "criu", 0, OPT_VALUE },
	{ "rootless", 0, OPT_VALUE },
	{ "debug", 0, 0 },
	{ "systemd-cgroup", 0, 0 },
	{ NULL, 0, 0 },
};

static const struct opt runc_create[] = {
	{ "bundle", 'b', OPT_VALUE | OPT_BUNDLE },
	{ "console-socket", 0, OPT_VALUE },
	{ "pid-file", 0, OPT_VALUE },
	{ "preserve-fds", 0, OPT_VALUE },
	{ "no-pivot", 0, 0 },
	{ "no-new-keyring", 0, 0 },
	{ "detach", 'd', OPT_RUN },
	{ "keep", 0, OPT_RUN },
	{ "no-subreaper", 0, OPT_RUN },
	{ NULL, 0, 0 },
};

/* crun 1.x src/crun.c, src/create.c, src/run.c. */
static const struct opt crun_global[] = {
	{ "root", 0, OPT_VALUE | OPT_ROOT },
	{ "log", 0, OPT_VALUE },
	{ "log-format", 0, OPT_VALUE },
	{ "log-level", 0, OPT_VALUE },
	{ "cgroup-manager", 0, OPT_VALUE },
	{ "rootless", 0, OPT_VALUE },
	{ "systemd-cgroup", 0, 0 },
	{ "debug", 0, 0 },
	{ NULL, 0, 0 },
};

static const struct opt crun_create[] = {
	{ "bundle", 'b', OPT_VALUE | OPT_BUNDLE },
	{ "config", 'f', OPT_VALUE },
	{ "console-socket", 0, OPT_VALUE },
	{ "pid-file", 0, OPT_VALUE },
	{ "preserve-fds", 0, OPT_VALUE },
	{ "no-pivot", 0, 0 },
	{ "no-new-keyring", 0, 0 },
	{ "no-subreaper", 0, 0 },
	{ "detach", 'd', OPT_RUN },
	{ "keep", 0, OPT_RUN },
	{ "rm", 0, OPT_RUN },
	{ NULL, 0, 0 },
};

/* runsc has far more global flags than these; the ones its shim and docker pass. */
static const struct opt runsc_global[] = {
	{ "root", 0, OPT_VALUE | OPT_ROOT },
	{ "log", 0, OPT_VALUE },
	{ "log-format", 0, OPT_VALUE },
	{ "debug-log", 0, OPT_VALUE },
	{ "debug-log-format", 0, OPT_VALUE },
	{ "panic-log", 0, OPT_VALUE },
	{ "platform", 0, OPT_VALUE },
	{ "network", 0, OPT_VALUE },
	{ "debug", 0, 0 },
	{ "strace", 0, 0 },
	{ "systemd-cgroup", 0, 0 },
	{ "rootless", 0, 0 },
	{ NULL, 0, 0 },
};

static const struct opt runsc_create[] = {
	{ "bundle", 0, OPT_VALUE | OPT_BUNDLE },
	{ "console-socket", 0, OPT_VALUE },
	{ "pid-file", 0, OPT_VALUE },
	{ "user-log", 0, OPT_VALUE },
	{ "detach", 0, OPT_RUN },
	{ NULL, 0, 0 },
};

/* youki's liboci-cli. */
static const struct opt youki_global[] = {
	{ "root", 'r', OPT_VALUE | OPT_ROOT },
	{ "log", 'l', OPT_VALUE },
	{ "log-format", 0, OPT_VALUE },
	{ "debug", 'd', 0 },
	{ "systemd-cgroup", 0, 0 },
	{ "systemd-log", 0, 0 },
	{ NULL, 0, 0 },
};

static const struct opt youki_create[] = {
	{ "bundle", 'b', OPT_VALUE | OPT_BUNDLE },
	{ "console-socket", 0, OPT_VALUE },
	{ "pid-file", 0, OPT_VALUE },
	{ "preserve-fds", 0, OPT_VALUE },
	{ "no-pivot", 0, 0 },
	{ "no-new-keyring", 0, 0 },
	{ "detach", 'd', OPT_RUN },
	{ "keep", 0, OPT_RUN },
	{ NULL, 0, 0 },
};

static const struct runtime_desc runtimes[] = {
	{ "runc", 1, runc_global, runc_create },
	{ "crun", 0, crun_global, crun_create },
	{ "runsc", 1, runsc_global, runsc_create },
	{ "youki", 0, youki_global, youki_create },
};

/* Commands of the runtimes, so out->command can name what was asked for. */
static const char *const commands[] = {
	"run", "create", "start", "exec", "delete", "kill", "state", "list", "ps", "pause",
	"resume", "update", "events", "checkpoint", "restore", "spec", "init", "features",
	"boot", "gofer", "wait", "help",
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static const struct runtime_desc *find_runtime(const char *binary, char *const *args,
					       size_t n_args)
{
	const char *name;

	if (binary && *binary)
		name = base_name(binary);
	else if (args && n_args > 0 && args[0])
		name = base_name(args[0]);
	else
		return NULL;
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
		if (strcmp(name, runtimes[i].name) == 0)
			return &runtimes[i];
	return NULL;
}

/* Whether a is an option (as opposed to an argument); "-" alone is an argument. */
static int is_option(const char *a)
{
	return a[0] == '-' && a[1] != '\0';
}

/*
 * Parses the option at args[*i] against table (entries with a flag in skip excluded).
 * On success *i is left at the option's last argument and, for a value option,
 * opt and value say which and what. 0 or -EINVAL (unknown, missing value).
 */
static int parse_option(const struct runtime_desc *rt, const struct opt *table,
			unsigned char skip, char *const *args, size_t n_args, size_t *i,
			const struct opt **opt, const char **value)
{
	const char *a = args[*i], *name, *eq, *attached = NULL;
	size_t name_len;
	int short_form = 0;

	*opt = NULL;
	*value = NULL;
	if (a[1] == '-') {
		name = a + 2;
	} else if (rt->go_flags) {
		name = a + 1;
	} else {
		name = a + 1;
		short_form = 1;
	}
	if (short_form) {
		name_len = 1;
		if (name[1])
			attached = name + 1;
	} else {
		eq = strchr(name, '=');
		name_len = eq ? (size_t)(eq - name) : strlen(name);
		if (eq)
			attached = eq + 1;
	}
	if (name_len == 0)
		return -EINVAL;
	for (const struct opt *o = table; o->name; o++) {
		int hit;

		if (o->flags & skip)
			continue;
		if (short_form)
			hit = o->short_name && name[0] == o->short_name;
		else
			hit = (strlen(o->name) == name_len && memcmp(o->name, name, name_len) == 0) ||
			      (rt->go_flags && o->short_name && name_len == 1 &&
			       name[0] == o->short_name);
		if (!hit)
			continue;
		if (!(o->flags & OPT_VALUE)) {
			/* Go's booleans take "=true"; getopt-style ones take nothing, and a
			 * short one followed by more letters would be a bundle we do not
			 * parse. */
			if (attached && !rt->go_flags)
				return -EINVAL;
			*opt = o;
			return 0;
		}
		if (attached) {
			*value = attached;
		} else {
			if (*i + 1 >= n_args || !args[*i + 1])
				return -EINVAL;
			*value = args[++*i];
		}
		*opt = o;
		return 0;
	}
	return -EINVAL;
}

/*
 * path made absolute (relative to cwd) and clean into out: "." and empty components
 * dropped, no trailing '/'. A ".." component is refused rather than resolved: resolving
 * it lexically could name a different directory than the runtime used when a
 * component is a symlink.
 */
static int clean_path(const char *cwd, const char *path, char *out, size_t cap)
{
	const char *parts[2] = { NULL, path };
	size_t o = 0;

	if (path[0] != '/') {
		if (!cwd || cwd[0] != '/')
			return -EINVAL;
		parts[0] = cwd;
	}
	for (int k = 0; k < 2; k++) {
		const char *p = parts[k];

		if (!p)
			continue;
		while (*p) {
			const char *end;
			size_t n;

			while (*p == '/')
				p++;
			if (!*p)
				break;
			end = strchrnul(p, '/');
			n = (size_t)(end - p);
			if (n == 2 && p[0] == '.' && p[1] == '.')
				return -EINVAL;
			if (!(n == 1 && p[0] == '.')) {
				if (o + 1 + n >= cap)
					return -EINVAL;
				out[o++] = '/';
				memcpy(out + o, p, n);
				o += n;
			}
			p = end;
		}
	}
	if (o == 0) {
		if (cap < 2)
			return -EINVAL;
		out[o++] = '/';
	}
	out[o] = '\0';
	return 0;
}

static const char *command_name(const char *a)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(a, commands[i]) == 0)
			return commands[i];
	return "";
}

int runtime_argv__parse(const char *binary, char *const *args, size_t n_args, const char *cwd,
			struct runtime_cmd *out)
{
	const struct runtime_desc *rt;
	const struct opt *opt;
	const char *value, *bundle = NULL, *id = NULL;
	unsigned char skip;
	size_t i;
	int err, opts_done = 0;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->command = "";
	rt = find_runtime(binary, args, n_args);
	if (!rt)
		return -ENOENT;
	out->runtime = rt->name;
	if (!args)
		return -EINVAL;
	for (i = 0; i < n_args; i++)
		if (!args[i])
			return -EINVAL;

	/* Global options, up to the command. */
	for (i = 1; i < n_args && is_option(args[i]); i++) {
		if (strcmp(args[i], "--") == 0) {
			i++;
			break;
		}
		err = parse_option(rt, rt->global, 0, args, n_args, &i, &opt, &value);
		if (err)
			goto fail;
		if (opt->flags & OPT_ROOT) {
			err = clean_path(cwd, value, out->root, sizeof(out->root));
			if (err)
				goto fail;
		}
	}
	if (i >= n_args)
		return -EINVAL;
	out->command = command_name(args[i]);
	if (strcmp(out->command, "run") == 0)
		skip = 0;
	else if (strcmp(out->command, "create") == 0)
		skip = OPT_RUN;
	else
		return -EINVAL;

	/* The command's options and its one argument, in any order. */
	for (i++; i < n_args; i++) {
		const char *a = args[i];

		if (!opts_done && strcmp(a, "--") == 0) {
			opts_done = 1;
			continue;
		}
		if (opts_done || !is_option(a)) {
			if (id) {
				err = -EINVAL; /* the runtime refuses extra arguments */
				goto fail;
			}
			id = a;
			continue;
		}
		err = parse_option(rt, rt->create, skip, args, n_args, &i, &opt, &value);
		if (err)
			goto fail;
		if (opt->flags & OPT_BUNDLE)
			bundle = value; /* the last one wins, as in every parser here */
	}
	if (!id || !cgpath__valid_runtime_id(id)) {
		err = -EINVAL;
		goto fail;
	}
	/* An empty --bundle means the current directory to runc and crun alike. */
	err = clean_path(cwd, bundle && *bundle ? bundle : ".", out->bundle, sizeof(out->bundle));
	if (err)
		goto fail;
	strcpy(out->id, id); /* <= 128 bytes: valid ids are */
	return 0;
fail:
	out->id[0] = '\0';
	out->bundle[0] = '\0';
	return err;
}
