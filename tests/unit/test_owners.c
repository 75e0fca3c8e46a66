/* Unit tests for user/identity/owners.c: the example file, first match wins, every
 * key and its kind (equal, glob, uid), unknown values never match, the SHA-256 of the
 * bytes, and bad files refused with one line naming the file, the line and the key. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "identity/owners.h"

static const char example[] =
	"{\"rules\": [\n"
	"  {\"match\": {\"namespace\": \"payments\", \"image\": \"registry.local/pay-*\"},\n"
	"   \"owner\": \"team-payments\", \"approvalRef\": \"CHG-1234\", \"boundary\": \"reads the ledger only\"},\n"
	"  {\"match\": {\"cgroupPath\": \"/ci/*\"}, \"owner\": \"ci-platform\"},\n"
	"  {\"match\": {\"uid\": 1234, \"binary\": \"/usr/bin/backup\"}, \"owner\": \"backup\"},\n"
	"  {\"match\": {\"podName\": \"web-[0-9]\", \"containerName\": \"app\", \"runtime\": \"runc\"}, \"owner\": \"web\"}\n"
	"]}\n";

static struct owners *parse(const char *text, char *err)
{
	return owners__parse("owners.json", text, strlen(text), err, OWNERS_ERR_MAX);
}

static void test_example(void **state)
{
	char err[OWNERS_ERR_MAX];
	struct owners *o = parse(example, err);
	const struct owners_rule *r;
	struct owners_subject pay = { .namespace_ = "payments", .image = "registry.local/pay-api:3" };
	struct owners_subject ci = { .cgroup_path = "/ci/job-17/step", .namespace_ = "payments" };
	struct owners_subject none = { .namespace_ = "payments", .image = "docker.io/pay-api" };

	(void)state;
	assert_non_null(o);
	assert_string_equal(err, "");
	assert_int_equal(owners__count(o), 4);
	r = owners__match(o, &pay);
	assert_non_null(r);
	assert_string_equal(r->owner, "team-payments");
	assert_string_equal(r->approval_ref, "CHG-1234");
	assert_string_equal(r->boundary, "reads the ledger only");
	/* A glob's '*' crosses '/'; a rule without approvalRef gives "". */
	r = owners__match(o, &ci);
	assert_non_null(r);
	assert_string_equal(r->owner, "ci-platform");
	assert_string_equal(r->approval_ref, "");
	/* Every given key must match: the namespace alone is not enough. */
	assert_null(owners__match(o, &none));
	owners__free(o);
}

static void test_first_wins_and_unknowns(void **state)
{
	char err[OWNERS_ERR_MAX];
	struct owners *o = parse("{\"rules\":[{\"match\":{\"runtime\":\"runc\"},\"owner\":\"first\"},"
				 "{\"match\":{\"runtime\":\"runc\",\"containerName\":\"x\"},\"owner\":\"second\"}]}",
				 err);
	struct owners_subject both = { .runtime = "runc", .container_name = "x" };
	struct owners_subject nothing = { 0 };
	struct owners *o2 = parse(example, err);
	struct owners_subject uid = { .binary = "/usr/bin/backup", .has_uid = 1, .uid = 1234 };
	struct owners_subject uid_unknown = { .binary = "/usr/bin/backup" };
	struct owners_subject uid_other = { .binary = "/usr/bin/backup", .has_uid = 1, .uid = 0 };
	struct owners_subject pod = { .pod_name = "web-3", .container_name = "app", .runtime = "runc" };
	struct owners_subject pod2 = { .pod_name = "web-33", .container_name = "app", .runtime = "runc" };

	(void)state;
	assert_non_null(o);
	assert_non_null(o2);
	assert_string_equal(owners__match(o, &both)->owner, "first");
	assert_null(owners__match(o, &nothing));
	assert_string_equal(owners__match(o2, &uid)->owner, "backup");
	assert_null(owners__match(o2, &uid_unknown)); /* not known yet: no match */
	assert_null(owners__match(o2, &uid_other));
	assert_string_equal(owners__match(o2, &pod)->owner, "web");
	assert_null(owners__match(o2, &pod2));
	assert_null(owners__match(NULL, &pod));
	owners__free(o);
	owners__free(o2);
}

static void test_sha256(void **state)
{
	char err[OWNERS_ERR_MAX];
	struct owners *o = parse("{\"rules\": []}", err);

	(void)state;
	assert_non_null(o);
	assert_int_equal(owners__count(o), 0);
	/* sha256sum of the 13 bytes {"rules": []} */
	assert_string_equal(owners__sha256(o), "af4fc1e3a66777e55c55972accbc027937a8a5cdb88591254bec551bd74b8ac7");
	owners__free(o);
}

/* Each bad file: refused, one line, naming the file, the line and the problem. */
static void test_bad(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "{\"rules\": [\n  {\"match\": {\"namespace\": 7}, \"owner\": \"a\"}\n]}",
		  "owners.json:2: rules[0].match.namespace: is a number, expected a string" },
		{ "{\"rules\": [\n{\"match\": {\"runtime\": \"runc\"}, \"owner\": \"a\"},\n"
		  "{\"match\": {\n  \"image\": \"reg/pay-[\"}, \"owner\": \"b\"}]}",
		  "owners.json:4: rules[1].match.image: bad glob 'reg/pay-[': '[' without a closing ']' "
		  "(write \\[ for a literal '[')" },
		{ "{\"rules\": [{\"match\": {\"runtime\": \"runc\"},\n \"ownr\": \"a\"}]}",
		  "owners.json:2: rules[0].ownr: unknown key: a rule has match, owner, approvalRef, boundary" },
		{ "{\"rules\": [{\"match\": {\n\n\"namespce\": \"x\"}, \"owner\": \"a\"}]}",
		  "owners.json:3: rules[0].match.namespce: unknown match key: the keys are namespace, "
		  "podName, containerName, image, cgroupPath, runtime, uid, binary" },
		{ "{\"rules\": [{\"match\": {\"uid\": \"0\"}, \"owner\": \"a\"}]}",
		  "owners.json:1: rules[0].match.uid: is a string, expected a number (a uid, such as 1000)" },
		{ "{\"rules\": [{\"match\": {\"uid\": -1}, \"owner\": \"a\"}]}",
		  "owners.json:1: rules[0].match.uid: -1 is not a uid (0 to 4294967294)" },
		{ "{\"rules\": [\n\n{\"match\": {\"runtime\": \"runc\"}}]}",
		  "owners.json:3: rules[0]: has no owner: name who owns what the rule matches" },
		{ "{\"rules\": [{\"match\": {}, \"owner\": \"a\"}]}",
		  "owners.json:1: rules[0].match: is empty: a rule matches by at least one key (an empty "
		  "match would own every workload)" },
		{ "{\"rules\": [{\"match\": {\"runtime\": \"\"}, \"owner\": \"a\"}]}",
		  "owners.json:1: rules[0].match.runtime: is empty: give a value or leave the key out" },
		{ "{\"rules\": {}}", "owners.json:1: rules: is an object, expected an array of rules" },
		{ "{\"rule\": []}", "owners.json:1: rule: unknown key: the file has one key, rules" },
		{ "[]", "owners.json:1: the file is an array, expected an object {\"rules\": [...]}" },
		{ "{\"rules\": [\n 3]}", "owners.json:2: rules[0]: is a number, expected an object with match and owner" },
		{ "{\"rules\": [\n{\"match\": {\"runtime\": \"a\", \"runtime\": \"b\"}, \"owner\": \"a\"}]}",
		  "owners.json:2: not valid JSON: duplicate object key" },
		{ "{\"rules\": [\n{\"match\": {\"runtime\": \"a\"}, \"owner\": \"a\"},,]}",
		  "owners.json:2: not valid JSON: " },
	};
	char err[OWNERS_ERR_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct owners *o = parse(cases[i].text, err);

		if (o || strncmp(err, cases[i].want, strlen(cases[i].want)) || strchr(err, '\n')) {
			print_error("case %zu: want '%s', got '%s'\n", i, cases[i].want, err);
			owners__free(o);
			fail();
		}
		assert_int_equal(errno, EINVAL);
	}
}

static void test_load(void **state)
{
	char path[] = "/tmp/fl-owners-XXXXXX", err[OWNERS_ERR_MAX], want[OWNERS_ERR_MAX];
	int fd = mkstemp(path);
	struct owners *o;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, example, strlen(example)), (ssize_t)strlen(example));
	close(fd);
	o = owners__load(path, err, sizeof(err));
	assert_non_null(o);
	assert_string_equal(owners__name(o), path);
	assert_int_equal(owners__count(o), 4);
	owners__free(o);
	unlink(path);
	assert_null(owners__load(path, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory: give the path of an owners file "
		 "(docs/owners.md)", path);
	assert_string_equal(err, want);
	assert_null(owners__load("/tmp", err, sizeof(err)));
	assert_string_equal(err, "/tmp: not a regular file: give the path of an owners file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_first_wins_and_unknowns),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
