/* Watched paths; see watchpaths.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "sensor/watchpaths.h"

/*
 * Kubernetes service-account tokens live under /var/run/secrets (projected volumes
 * too: ..data links to a dated directory below it), which resolves to /run/secrets where
 * /var/run is a link (Docker secrets are there as well). A runtime socket opened (O_PATH,
 * or a bind-mounted one probed) is recorded here; connects to it are unix flows.
 */
static const char *const defaults[] = {
	"/var/run/secrets/",
	"/run/secrets/",
	"/etc/shadow",
	"/etc/gshadow",
	"/etc/ssh/ssh_host_",
	"~/.ssh/id_",
	"~/.aws/credentials",
	"~/.config/gcloud/",
	"~/.azure/",
	"/run/containerd/containerd.sock",
	"/var/run/containerd/containerd.sock",
	"/run/docker.sock",
	"/var/run/docker.sock",
	"/run/crio/crio.sock",
	"/var/run/crio/crio.sock",
	"/run/podman/podman.sock",
};

static void add_unchecked(struct watchpaths *w, const char *p)
{
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->pattern[i], p))
			return;
	snprintf(w->pattern[w->n++], FL_WATCH_LEN, "%s", p);
}

void watchpaths__init(struct watchpaths *w)
{
	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		add_unchecked(w, defaults[i]);
	w->n_defaults = w->n;
}

/* Why a pattern can never match a resolved path, or NULL. */
static const char *refusal(const char *p)
{
	size_t len = strlen(p);
	const char *c;

	if (!len)
		return "empty";
	if (len >= FL_WATCH_LEN)
		return "longer than 255 bytes";
	if (p[0] != '/' && strncmp(p, "~/", 2))
		return "relative (the kernel matches resolved paths)";
	if (!strcmp(p, "/") || !strcmp(p, "~/"))
		return "every file would match";
	for (c = p; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return "a control character";
	if (strstr(p, "//"))
		return "an empty component ('//'), which no resolved path has";
	for (c = p + (p[0] == '~'); c; c = strchr(c + 1, '/')) {
		const char *next = c + 1;

		if ((!strncmp(next, "./", 2) || !strcmp(next, ".")) ||
		    (!strncmp(next, "../", 3) || !strcmp(next, "..")))
			return "a '.' or '..' component, which no resolved path has";
	}
	return NULL;
}

int watchpaths__add(struct watchpaths *w, const char *pattern)
{
	const char *why = refusal(pattern);

	if (why) {
		log_error("--watch-path '%.*s': %s: give an absolute path such as /etc/shadow or a "
			  "home path such as ~/.aws/credentials (a prefix, matched on the path the "
			  "kernel resolved)", FL_WATCH_LEN, pattern, why);
		return -EINVAL;
	}
	if (w->n >= FL_WATCH_MAX) {
		log_error("--watch-path %s: more than %d watched paths (defaults included): give "
			  "a common prefix instead", pattern, FL_WATCH_MAX);
		return -E2BIG;
	}
	add_unchecked(w, pattern);
	return 0;
}

/* The pattern's last component, maybe cut ("shadow" of "/etc/shadow", "secrets" of
 * "/run/secrets/"): every path it matches has a component that begins with it. */
static const char *fragment(const char *p, size_t *len)
{
	size_t n = strlen(p);
	const char *start;

	while (n > 1 && p[n - 1] == '/')
		n--;
	start = p + n;
	while (start > p && start[-1] != '/')
		start--;
	*len = (size_t)(p + n - start);
	return start;
}

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= FL_FNV_PRIME;
	}
	return h;
}

void watchpaths__filter(const struct watchpaths *w, struct watch_filter *f)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < w->n; i++) {
		size_t len, m;
		const char *frag = fragment(w->pattern[i], &len);
		uint64_t h;
		uint32_t bit;
		struct fl_watch_key k;

		m = len < FL_WATCH_HEAD ? len : FL_WATCH_HEAD;
		h = fnv(FL_FNV_OFFSET, frag, m);
		bit = (uint32_t)(h ^ (h >> 32)) & (FL_WATCH_BITS - 1);
		f->bits[bit / 64] |= 1ULL << (bit % 64);
		f->heads |= 1u << m;
		watchpaths__key(w, i, &k);
		f->lens[k.home][k.len / 64] |= 1ULL << (k.len % 64);
	}
}

void watchpaths__key(const struct watchpaths *w, size_t i, struct fl_watch_key *k)
{
	const char *p = w->pattern[i];

	memset(k, 0, sizeof(*k));
	k->len = (uint32_t)strlen(p);
	k->home = p[0] == '~';
	k->hash = fnv(FL_FNV_OFFSET, p, k->len);
}

/* Where a home's "~" ends in path ("/root/x": 5, "/home/u/x": 7), 0 if in no home. */
static size_t home_end(const char *path)
{
	const char *slash;

	if (!strncmp(path, "/root/", 6))
		return 5;
	if (strncmp(path, "/home/", 6) || path[6] == '/' || !path[6])
		return 0;
	slash = strchr(path + 6, '/');
	return slash ? (size_t)(slash - path) : 0;
}

int watchpaths__match(const struct watchpaths *w, const char *path)
{
	size_t home = home_end(path);

	for (size_t i = 0; i < w->n; i++) {
		const char *p = w->pattern[i];

		if (p[0] == '~' ? home && !strncmp(path + home, p + 1, strlen(p + 1))
				: !strncmp(path, p, strlen(p)))
			return (int)i;
	}
	return -1;
}
