/* The node's Ed25519 key with OpenSSL libcrypto; see keys.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/fdio.h"
#include "base/hexbytes.h"
#include "store/keys.h"
#include "base/log.h"

#define KEY_FILE_MAX (64 * 1024) /* a PEM Ed25519 key is ~120 bytes: more is not a key */

struct node_key {
	EVP_PKEY *pkey;
	EVP_MD_CTX *md;   /* reused for every signature */
	EVP_MD_CTX *init; /* initialised for signing once; md starts as a copy of it */
	uint8_t pub[KEYS_PUB_LEN];
};

void keys__free(struct node_key *k)
{
	if (!k)
		return;
	EVP_MD_CTX_free(k->md);
	EVP_MD_CTX_free(k->init);
	EVP_PKEY_free(k->pkey);
	free(k);
}

/* Wraps pkey (taking it) after checking it is an Ed25519 key. */
static struct node_key *wrap(EVP_PKEY *pkey, int *err)
{
	struct node_key *k = calloc(1, sizeof(*k));
	size_t len = KEYS_PUB_LEN;

	if (!k) {
		EVP_PKEY_free(pkey);
		*err = -ENOMEM;
		return NULL;
	}
	k->pkey = pkey;
	k->md = EVP_MD_CTX_new();
	k->init = EVP_MD_CTX_new();
	if (!k->md || !k->init) {
		*err = -ENOMEM;
		goto fail;
	}
	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(pkey, k->pub, &len) != 1 || len != KEYS_PUB_LEN ||
	    EVP_DigestSignInit(k->init, NULL, NULL, NULL, pkey) != 1) {
		*err = -EINVAL;
		goto fail;
	}
	*err = 0;
	return k;
fail:
	keys__free(k);
	return NULL;
}

struct node_key *keys__generate(int *err)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	if (!pkey) {
		*err = -ENOMEM;
		return NULL;
	}
	return wrap(pkey, err);
}

const uint8_t *keys__public(const struct node_key *k)
{
	return k->pub;
}

int keys__sign(struct node_key *k, const void *msg, size_t len, uint8_t sig[KEYS_SIG_LEN])
{
	size_t siglen = KEYS_SIG_LEN;

	/*
	 * Ed25519 is one-shot in OpenSSL: each message needs a freshly initialised context.
	 * Initialising fetches the algorithm from the provider (a locked name lookup, a
	 * quarter of a signature's cost, once per batch); a copy of a context initialised
	 * once is the same state without the lookup.
	 */
	if (EVP_MD_CTX_copy_ex(k->md, k->init) != 1 ||
	    EVP_DigestSign(k->md, sig, &siglen, msg, len) != 1 || siglen != KEYS_SIG_LEN)
		return -EIO;
	return 0;
}

int keys__verify(const uint8_t pub[KEYS_PUB_LEN], const void *msg, size_t len,
		 const uint8_t sig[KEYS_SIG_LEN])
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, KEYS_PUB_LEN);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc, err;

	if (!pkey || !md) {
		err = -ENOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) != 1) {
		err = -EIO;
		goto out;
	}
	rc = EVP_DigestVerify(md, sig, KEYS_SIG_LEN, msg, len);
	err = rc == 1 ? 0 : -EBADMSG;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return err;
}

void keys__hex(const uint8_t pub[KEYS_PUB_LEN], char out[KEYS_HEX_LEN])
{
	hexbytes__put(out, pub, KEYS_PUB_LEN);
}

int keys__public_pem(const uint8_t pub[KEYS_PUB_LEN], char **pem)
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, KEYS_PUB_LEN);
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int err = -ENOMEM;

	*pem = NULL;
	if (!pkey || !bio || PEM_write_bio_PUBKEY(bio, pkey) != 1)
		goto out;
	len = BIO_get_mem_data(bio, &data);
	*pem = len > 0 ? strndup(data, (size_t)len) : NULL;
	if (*pem)
		err = 0;
out:
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return err;
}

/*
 * Reads a small file without following a symlink into buf (NUL-terminated), checking
 * it is a regular file; private (0600, ours) when secret is set. Logs why not.
 */
static int read_key_file(const char *path, int secret, char *buf, size_t cap, size_t *len)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), err = 0;

	if (fd < 0) {
		err = -errno;
		if (err != -ENOENT)
			log_error("key %s: %s", path,
				  err == -ELOOP ? "is a symlink (refused)" : strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		log_error("key %s: %s", path, strerror(-err));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		log_error("key %s: not a regular file", path);
		goto out;
	}
	/* A private key others can read is a key others may have: refuse, as ssh does. */
	if (secret && ((st.st_mode & 077) || st.st_uid != geteuid())) {
		err = -EPERM;
		log_error("key %s: mode %04o owner %u: must be 0600 and owned by uid %u (others may "
			  "have read it: if so, make a new key; else chown %u and chmod 600 it)", path,
			  (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)geteuid(),
			  (unsigned)geteuid());
		goto out;
	}
	*len = 0;
	while (*len < cap - 1 && (n = read(fd, buf + *len, cap - 1 - *len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			log_error("key %s: %s", path, strerror(-err));
			goto out;
		}
		*len += (size_t)n;
	}
	buf[*len] = 0;
out:
	close(fd);
	return err;
}

static struct node_key *load(const char *path, int *err)
{
	char *buf = malloc(KEY_FILE_MAX);
	struct node_key *k = NULL;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	size_t len = 0;

	if (!buf) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = read_key_file(path, 1, buf, KEY_FILE_MAX, &len);
	if (*err)
		goto out;
	bio = BIO_new_mem_buf(buf, (int)len);
	pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	if (!pkey) {
		ERR_clear_error();
		*err = -EINVAL;
		log_error("key %s: not a PEM private key", path);
		goto out;
	}
	k = wrap(pkey, err);
	if (!k)
		log_error("key %s: not an Ed25519 key", path);
out:
	BIO_free(bio);
	OPENSSL_cleanse(buf, KEY_FILE_MAX);
	free(buf);
	return k;
}

/*
 * Creates the directories leading to path that do not exist, each 0700 (a fresh system
 * may lack /etc/firstlight, an initramfs even /etc); existing ones are left as they are.
 */
static int make_parent(const char *path)
{
	char copy[PATH_MAX], dir[PATH_MAX];

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", dirname(copy)); /* dirname may write into copy */
	for (char *p = dir + 1;; p++) {
		char c = *p;

		if (c != '/' && c)
			continue;
		*p = 0;
		if (mkdir(dir, 0700) && errno != EEXIST)
			return -errno;
		*p = c;
		if (!c)
			return 0;
	}
}

static int fsync_parent(const char *path)
{
	char copy[PATH_MAX];
	int fd, err = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}


/*
 * Writes k's private key at path: first to path.tmp, synced, then linked into place, so
 * that a crash leaves either no key or a whole one, and an existing key is never
 * replaced (link fails with EEXIST where rename would clobber).
 */
static int store_key(const struct node_key *k, const char *path)
{
	char tmp[PATH_MAX];
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int fd = -1, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		err = -ENAMETOOLONG;
		goto out;
	}
	if (!bio || PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		err = -ENOMEM;
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	unlink(tmp); /* a leftover of a crash during an earlier attempt */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = fdio__write_all(fd, data, (size_t)len);
	if (!err && fsync(fd))
		err = -errno;
	if (!err && link(tmp, path))
		err = -errno;
	unlink(tmp);
	if (!err)
		err = fsync_parent(path);
out:
	if (fd >= 0)
		close(fd);
	BIO_free(bio);
	return err;
}

struct node_key *keys__load_or_create(const char *path, int *created, int *err)
{
	struct node_key *k = load(path, err);

	*created = 0;
	if (k || *err != -ENOENT)
		return k;
	*err = make_parent(path);
	if (*err) {
		log_error("key %s: cannot create its directory: %s", path, strerror(-*err));
		return NULL;
	}
	k = keys__generate(err);
	if (!k) {
		log_error("key %s: cannot generate a key: %s", path, strerror(-*err));
		return NULL;
	}
	*err = store_key(k, path);
	if (*err == -EEXIST) {
		/* Another process created it meanwhile: use that one. */
		keys__free(k);
		return load(path, err);
	}
	if (*err) {
		log_error("key %s: cannot write it: %s", path, strerror(-*err));
		keys__free(k);
		return NULL;
	}
	*created = 1;
	return k;
}

int keys__read_public(const char *path, uint8_t pub[KEYS_PUB_LEN])
{
	char *buf = malloc(KEY_FILE_MAX);
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	size_t len = 0, plen = KEYS_PUB_LEN;
	int err;

	if (!buf)
		return -ENOMEM;
	err = read_key_file(path, 0, buf, KEY_FILE_MAX, &len);
	if (err) {
		if (err == -ENOENT)
			log_error("key %s: %s", path, strerror(ENOENT));
		goto out;
	}
	bio = BIO_new_mem_buf(buf, (int)len);
	pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	if (!pkey && bio) {
		/* A private key file holds the public key too. */
		ERR_clear_error();
		BIO_free(bio);
		bio = BIO_new_mem_buf(buf, (int)len);
		pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	}
	if (!pkey || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(pkey, pub, &plen) != 1 || plen != KEYS_PUB_LEN) {
		err = -EINVAL;
		log_error("key %s: not a PEM Ed25519 public key", path);
	}
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	OPENSSL_cleanse(buf, KEY_FILE_MAX);
	free(buf);
	return err;
}
