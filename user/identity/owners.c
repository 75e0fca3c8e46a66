/*
 * The owners file; see owners.h for the format and the contract.
 *
 * jansson parses and checks the syntax (its errors carry the line); it keeps no position
 * per value, so a second, lenient pass over the same bytes notes the line of every key
 * and array element by its path ("rules[1].match.image"), and a problem found in the
 * parsed tree is reported at the line of its path.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "base/array.h"
#include "identity/owners.h"

#define PATH_MAX_LEN 256 /* a path in the file ("rules[12].match.cgroupPath") */
#define DEPTH_MAX 32
#define OWNER_MAX 256
#define TEXT_MAX 1024   /* approvalRef, boundary */
#define MATCH_MAX 4096  /* a match value */

enum key_kind { K_EQUAL, K_GLOB, K_UID };

/* The match keys, in the order of struct rule's values. */
static const struct {
	const char *name;
	enum key_kind kind;
} match_keys[] = {
	{ "namespace", K_EQUAL }, { "podName", K_GLOB },    { "containerName", K_EQUAL },
	{ "image", K_GLOB },      { "cgroupPath", K_GLOB }, { "runtime", K_EQUAL },
	{ "uid", K_UID },         { "binary", K_EQUAL },
};
#define N_MATCH (sizeof(match_keys) / sizeof(match_keys[0]))
#define UID_KEY 6

struct rule {
	struct owners_rule out;
	char *value[N_MATCH]; /* NULL: not given (uid: its decimal text) */
	uint32_t uid;
};

struct owners {
	char *name;
	struct rule *rules;
	size_t n;
	char sha256[OWNERS_SHA256_HEX];
};

/* ---- where each key is ------------------------------------------------------------------ */

struct pathline {
	char path[PATH_MAX_LEN];
	int line;
};

struct lines {
	struct pathline *v;
	size_t n, cap;
};

static int lines_add(struct lines *l, const char *path, int line)
{
	if (ARRAY_GROW(l->v, l->cap, l->n + 1))
		return -ENOMEM;
	snprintf(l->v[l->n].path, PATH_MAX_LEN, "%s", path);
	l->v[l->n++].line = line;
	return 0;
}

/*
 * Notes the line of every key and array element by its path. Runs after jansson accepted
 * the text, so it only has to follow well-formed JSON; deeper than DEPTH_MAX it stops
 * (such a file is refused for its shape anyway, at the line of the outer key).
 */
static int scan_lines(const char *t, size_t len, struct lines *l)
{
	struct frame {
		int is_arr, expect_key;
		size_t idx, plen;
	} st[DEPTH_MAX];
	char path[PATH_MAX_LEN] = "";
	size_t plen = 0;
	int depth = 0, line = 1, err;

	for (size_t i = 0; i < len; i++) {
		char c = t[i];
		struct frame *f = depth ? &st[depth - 1] : NULL;

		if (c == '\n') {
			line++;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == ':')
			continue;
		if (c == ',') {
			if (f && f->is_arr)
				f->idx++;
			else if (f)
				f->expect_key = 1;
			continue;
		}
		if (c == '}' || c == ']') {
			if (!depth)
				return 0;
			depth--;
			plen = st[depth].plen;
			path[plen] = 0;
			continue;
		}
		if (f && !f->is_arr && f->expect_key && c == '"') {
			size_t start = ++i;

			while (i < len && t[i] != '"')
				i += t[i] == '\\' ? 2 : 1;
			plen = f->plen;
			snprintf(path + plen, sizeof(path) - plen, "%s%.*s", plen ? "." : "",
				 (int)(i - start), t + start);
			plen = strlen(path);
			f->expect_key = 0;
			if ((err = lines_add(l, path, line)))
				return err;
			continue;
		}
		/* A value starts here: in an array, it is an element with a path of its own. */
		if (f && f->is_arr) {
			plen = f->plen;
			snprintf(path + plen, sizeof(path) - plen, "[%zu]", f->idx);
			plen = strlen(path);
			if ((err = lines_add(l, path, line)))
				return err;
		}
		if (c == '{' || c == '[') {
			if (depth == DEPTH_MAX)
				return 0;
			st[depth++] = (struct frame){ .is_arr = c == '[', .expect_key = c == '{', .plen = plen };
		} else if (c == '"') {
			for (i++; i < len && t[i] != '"'; i += t[i] == '\\' ? 2 : 1)
				;
		} else {
			while (i + 1 < len && !strchr(",]} \t\r\n", t[i + 1]))
				i++;
		}
	}
	return 0;
}

/* The line of path, else of the nearest enclosing path noted; 1 when none is. */
static int line_of(const struct lines *l, const char *path)
{
	char p[PATH_MAX_LEN];

	snprintf(p, sizeof(p), "%s", path);
	for (;;) {
		char *cut;

		for (size_t i = 0; i < l->n; i++)
			if (!strcmp(l->v[i].path, p))
				return l->v[i].line;
		cut = strrchr(p, '.');
		if (!cut || (strrchr(p, '[') && strrchr(p, '[') > cut))
			cut = strrchr(p, '[');
		if (!cut)
			return 1;
		*cut = 0;
	}
}

/* ---- checking ----------------------------------------------------------------------------- */

struct check {
	const char *name;
	struct lines lines;
	char *err;
	size_t errlen;
};

/* "NAME:LINE: PATH: what" into the error buffer; returns -EINVAL. */
__attribute__((format(printf, 3, 4)))
static int bad(struct check *c, const char *path, const char *fmt, ...)
{
	char what[OWNERS_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%d: %s%s%s", c->name, line_of(&c->lines, path), path,
		 *path ? ": " : "", what);
	return -EINVAL;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "a number";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* What is wrong with a glob, NULL when nothing: fnmatch takes anything and matches an
 * unclosed bracket literally, which is never what was meant. */
static const char *glob_problem(const char *g)
{
	for (const char *p = g; *p; p++) {
		if (*p == '\\') {
			if (!p[1])
				return "ends in a lone '\\'";
			p++;
		} else if (*p == '[') {
			const char *q = p + 1;

			if (*q == '!' || *q == '^')
				q++;
			if (*q == ']')
				q++; /* a ']' first is a member */
			while (*q && *q != ']')
				q++;
			if (!*q)
				return "'[' without a closing ']'";
			if (q == p + 1)
				return "an empty '[]'";
			p = q;
		}
	}
	return NULL;
}

/* A string value: present, a string, not empty, at most max bytes, no control bytes. */
static int check_text(struct check *c, const char *path, const json_t *v, size_t max,
		      const char **out)
{
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return bad(c, path, "is %s, expected a string", type_name(v));
	s = json_string_value(v);
	len = json_string_length(v);
	if (!len)
		return bad(c, path, "is empty: give a value or leave the key out");
	if (len > max)
		return bad(c, path, "is %zu bytes long, at most %zu", len, max);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return bad(c, path, "holds a control character (byte %zu)", i);
	*out = s;
	return 0;
}

static int parse_match(struct check *c, const char *rpath, const json_t *m, struct rule *r)
{
	char path[PATH_MAX_LEN];
	const char *key;
	json_t *v;

	snprintf(path, sizeof(path), "%.31s.match", rpath);
	if (!json_is_object(m))
		return bad(c, path, "is %s, expected an object of match keys", type_name(m));
	if (!json_object_size(m))
		return bad(c, path, "is empty: a rule matches by at least one key (an empty match "
			   "would own every workload)");
	json_object_foreach((json_t *)m, key, v) {
		size_t k;
		const char *s = NULL, *why;
		char num[16];

		snprintf(path, sizeof(path), "%.31s.match.%.64s", rpath, key);
		for (k = 0; k < N_MATCH && strcmp(key, match_keys[k].name); k++)
			;
		if (k == N_MATCH)
			return bad(c, path, "unknown match key: the keys are namespace, podName, "
				   "containerName, image, cgroupPath, runtime, uid, binary");
		if (match_keys[k].kind == K_UID) {
			json_int_t u;

			if (!json_is_integer(v))
				return bad(c, path, "is %s, expected a number (a uid, such as 1000)",
					   type_name(v));
			u = json_integer_value(v);
			if (u < 0 || u >= 4294967295LL)
				return bad(c, path, "%lld is not a uid (0 to 4294967294)", (long long)u);
			r->uid = (uint32_t)u;
			snprintf(num, sizeof(num), "%u", r->uid);
			s = num;
		} else {
			int err = check_text(c, path, v, MATCH_MAX, &s);

			if (err)
				return err;
			if (match_keys[k].kind == K_GLOB && (why = glob_problem(s)))
				return bad(c, path, "bad glob '%.200s': %s (write \\[ for a literal '[')",
					   s, why);
		}
		if (!(r->value[k] = strdup(s)))
			return -ENOMEM;
	}
	return 0;
}

static int parse_rule(struct check *c, size_t i, const json_t *j, struct rule *r)
{
	static const char *const known[] = { "match", "owner", "approvalRef", "boundary" };
	const char *texts[4] = { 0 };
	char rpath[32], path[PATH_MAX_LEN];
	const char *key;
	json_t *v;
	int err;

	snprintf(rpath, sizeof(rpath), "rules[%zu]", i);
	if (!json_is_object(j))
		return bad(c, rpath, "is %s, expected an object with match and owner", type_name(j));
	json_object_foreach((json_t *)j, key, v) {
		size_t k;

		snprintf(path, sizeof(path), "%.31s.%.64s", rpath, key);
		for (k = 0; k < 4 && strcmp(key, known[k]); k++)
			;
		if (k == 4)
			return bad(c, path, "unknown key: a rule has match, owner, approvalRef, boundary");
		if (k == 0)
			err = parse_match(c, rpath, v, r);
		else
			err = check_text(c, path, v, k == 1 ? OWNER_MAX : TEXT_MAX, &texts[k]);
		if (err)
			return err;
	}
	if (!json_object_get(j, "match"))
		return bad(c, rpath, "has no match: give the keys a workload must match");
	if (!texts[1])
		return bad(c, rpath, "has no owner: name who owns what the rule matches");
	r->out.owner = strdup(texts[1]);
	r->out.approval_ref = strdup(texts[2] ? texts[2] : "");
	r->out.boundary = strdup(texts[3] ? texts[3] : "");
	return r->out.owner && r->out.approval_ref && r->out.boundary ? 0 : -ENOMEM;
}

static void rule_fini(struct rule *r)
{
	for (size_t k = 0; k < N_MATCH; k++)
		free(r->value[k]);
	free((char *)r->out.owner);
	free((char *)r->out.approval_ref);
	free((char *)r->out.boundary);
}

void owners__free(struct owners *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n; i++)
		rule_fini(&o->rules[i]);
	free(o->rules);
	free(o->name);
	free(o);
}

static int sha256_hex(const char *text, size_t len, char out[OWNERS_SHA256_HEX])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (!EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != sizeof(md))
		return -EIO;
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

struct owners *owners__parse(const char *name, const char *text, size_t len, char *errbuf,
			     size_t errlen)
{
	struct check c = { .name = name, .err = errbuf, .errlen = errlen };
	struct owners *o = calloc(1, sizeof(*o));
	json_error_t jerr;
	json_t *root = NULL, *rules, *v;
	const char *key;
	int err = -ENOMEM;

	if (errlen)
		errbuf[0] = 0;
	if (!o || !(o->name = strdup(name)))
		goto out;
	if (len > OWNERS_FILE_MAX) {
		snprintf(errbuf, errlen, "%s: %zu bytes, at most %u: split the rules or shorten them",
			 name, len, OWNERS_FILE_MAX);
		err = -E2BIG;
		goto out;
	}
	/* Duplicate keys refused: "the first rule wins" must not depend on which copy of a
	 * key jansson kept. */
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(errbuf, errlen, "%s:%d: not valid JSON: %s", name, jerr.line > 0 ? jerr.line : 1,
			 jerr.text);
		err = -EINVAL;
		goto out;
	}
	if ((err = scan_lines(text, len, &c.lines)))
		goto out;
	if (!json_is_object(root)) {
		err = bad(&c, "", "the file is %s, expected an object {\"rules\": [...]}", type_name(root));
		goto out;
	}
	json_object_foreach(root, key, v) {
		if (strcmp(key, "rules")) {
			char path[PATH_MAX_LEN];

			snprintf(path, sizeof(path), "%.64s", key);
			err = bad(&c, path, "unknown key: the file has one key, rules");
			goto out;
		}
	}
	rules = json_object_get(root, "rules");
	if (!rules) {
		err = bad(&c, "", "no rules: the file is {\"rules\": [...]}");
		goto out;
	}
	if (!json_is_array(rules)) {
		err = bad(&c, "rules", "is %s, expected an array of rules", type_name(rules));
		goto out;
	}
	if (json_array_size(rules) > OWNERS_RULES_MAX) {
		err = bad(&c, "rules", "%zu rules, at most %u", json_array_size(rules), OWNERS_RULES_MAX);
		goto out;
	}
	o->rules = calloc(json_array_size(rules) + 1, sizeof(*o->rules));
	if (!o->rules) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < json_array_size(rules); i++) {
		o->n = i + 1; /* freed in full on failure */
		if ((err = parse_rule(&c, i, json_array_get(rules, i), &o->rules[i])))
			goto out;
	}
	o->n = json_array_size(rules);
	err = sha256_hex(text, len, o->sha256);
out:
	if (err == -ENOMEM && errlen && !errbuf[0])
		snprintf(errbuf, errlen, "%s: %s", name, strerror(ENOMEM));
	if (err == -EIO && errlen)
		snprintf(errbuf, errlen, "%s: computing its SHA-256 failed", name);
	/* The message quotes the file (keys, jansson's text near an error): its controls
	 * must not split the one line or reach a terminal. */
	for (size_t i = 0; err && i < errlen && errbuf[i]; i++)
		if ((unsigned char)errbuf[i] < 0x20 || errbuf[i] == 0x7f)
			errbuf[i] = '?';
	json_decref(root);
	free(c.lines.v);
	if (err) {
		owners__free(o);
		errno = -err;
		return NULL;
	}
	return o;
}

struct owners *owners__load(const char *path, char *errbuf, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct owners *o = NULL;
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int err = 0;

	if (fd < 0) {
		err = errno;
		snprintf(errbuf, errlen, "%s: %s: give the path of an owners file (docs/owners.md)",
			 path, strerror(err));
		goto out;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		err = EINVAL;
		snprintf(errbuf, errlen, "%s: not a regular file: give the path of an owners file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > OWNERS_FILE_MAX) {
		err = E2BIG;
		snprintf(errbuf, errlen, "%s: %lld bytes, at most %u: split the rules or shorten them",
			 path, (long long)st.st_size, OWNERS_FILE_MAX);
		goto out;
	}
	buf = malloc(OWNERS_FILE_MAX + 1);
	if (!buf) {
		err = ENOMEM;
		snprintf(errbuf, errlen, "%s: %s", path, strerror(err));
		goto out;
	}
	/* Read to the end, one byte past the limit: the file may grow after fstat. */
	for (;;) {
		ssize_t n = read(fd, buf + len, OWNERS_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			snprintf(errbuf, errlen, "%s: reading: %s", path, strerror(err));
			goto out;
		}
		if (!n || (len += (size_t)n) > OWNERS_FILE_MAX)
			break;
	}
	o = owners__parse(path, buf, len, errbuf, errlen);
	if (!o)
		err = errno;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	if (!o)
		errno = err ? err : EINVAL;
	return o;
}

/* ---- matching ----------------------------------------------------------------------------- */

static int value_matches(size_t k, const char *want, const struct owners_subject *s)
{
	const char *have[N_MATCH] = { s->namespace_, s->pod_name, s->container_name, s->image,
				      s->cgroup_path, s->runtime, NULL, s->binary };

	if (k == UID_KEY)
		return 0; /* compared by number, by the caller */
	if (!have[k] || !*have[k])
		return 0;
	if (match_keys[k].kind == K_GLOB)
		return !fnmatch(want, have[k], 0);
	return !strcmp(want, have[k]);
}

const struct owners_rule *owners__match(const struct owners *o, const struct owners_subject *s)
{
	if (!o)
		return NULL;
	for (size_t i = 0; i < o->n; i++) {
		const struct rule *r = &o->rules[i];
		size_t k;

		for (k = 0; k < N_MATCH; k++) {
			if (!r->value[k])
				continue;
			if (k == UID_KEY ? !(s->has_uid && s->uid == r->uid) : !value_matches(k, r->value[k], s))
				break;
		}
		if (k == N_MATCH)
			return &r->out;
	}
	return NULL;
}

size_t owners__count(const struct owners *o)
{
	return o ? o->n : 0;
}

const char *owners__sha256(const struct owners *o)
{
	return o ? o->sha256 : "";
}

const char *owners__name(const struct owners *o)
{
	return o ? o->name : "";
}
