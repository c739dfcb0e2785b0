// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * State file encoding and the file operations around it. Only libc: the unit
 * tests link this file. Every field is written explicitly, little-endian, so
 * the format does not depend on the compiler's struct layout.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "statefile.h"
#include "util.h"

/*
 * v3: magic, version, layout, slots, buckets, flags, attach id and time, the
 * pin path in PATH_MAX bytes, the snapshot, the number of keys of the
 * breakdown and each key (its value, its flags, its slots), a checksum. v2
 * had no keys; v1 (both read, never written) no flags either, and 256 bytes
 * of pin path.
 */
#define MAGIC_LEN 8
#define V1_PATH_LEN 256
#define HEADER_LEN(path_len, nwords) (MAGIC_LEN + (nwords)*4 + 2 * 8 + (path_len))
#define SLOT_WORDS (3 + TSH_NBUCKETS)
#define BODY_LEN ((3 + TSH_NSLOTS * SLOT_WORDS) * 8)
#define CHECKSUM_LEN 8
#define V1_SIZE (HEADER_LEN(V1_PATH_LEN, 4) + BODY_LEN + CHECKSUM_LEN)
#define V2_SIZE (HEADER_LEN(STATEFILE_PATH_LEN, 5) + BODY_LEN + CHECKSUM_LEN)
#define KEY_LEN (8 + 4 + TSH_NSLOTS * SLOT_WORDS * 8)
#define V3_SIZE(nkeys) (V2_SIZE + 4 + (nkeys)*KEY_LEN)
#define FLAG_PENDING 1u
#define KEY_FLAG_OTHER 1u

size_t statefile_size(size_t nkeys)
{
	return V3_SIZE(nkeys);
}

/* FNV-1a, 64 bits: catches truncation and bit rot, not an adversary. */
static __u64 checksum(const unsigned char *p, size_t len)
{
	__u64 h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static unsigned char *put_u32(unsigned char *p, __u32 v)
{
	for (int i = 0; i < 4; i++)
		*p++ = v >> (8 * i);
	return p;
}

static unsigned char *put_u64(unsigned char *p, __u64 v)
{
	for (int i = 0; i < 8; i++)
		*p++ = v >> (8 * i);
	return p;
}

static __u32 get_u32(const unsigned char **p)
{
	__u32 v = 0;

	for (int i = 0; i < 4; i++)
		v |= (__u32)(*p)[i] << (8 * i);
	*p += 4;
	return v;
}

static __u64 get_u64(const unsigned char **p)
{
	__u64 v = 0;

	for (int i = 0; i < 8; i++)
		v |= (__u64)(*p)[i] << (8 * i);
	*p += 8;
	return v;
}

static unsigned char *put_slots(unsigned char *p, const struct tsh_slot *slots)
{
	for (unsigned int s = 0; s < TSH_NSLOTS; s++) {
		const struct tsh_slot *slot = &slots[s];

		p = put_u64(p, slot->count);
		p = put_u64(p, slot->unknown);
		p = put_u64(p, slot->sum_ns);
		for (unsigned int b = 0; b < TSH_NBUCKETS; b++)
			p = put_u64(p, slot->buckets[b]);
	}
	return p;
}

int statefile_encode(const struct statefile_owner *owner, const struct snapshot *snap,
		     const struct breakdown *by, void *buf, size_t len)
{
	unsigned char *start = buf, *p = buf;
	size_t nkeys = by ? by->n : 0;

	if (len < statefile_size(nkeys))
		return -ENOSPC;
	memcpy(p, STATEFILE_MAGIC, MAGIC_LEN);
	p += MAGIC_LEN;
	p = put_u32(p, STATEFILE_VERSION);
	p = put_u32(p, TSH_LAYOUT_VERSION);
	p = put_u32(p, TSH_NSLOTS);
	p = put_u32(p, TSH_NBUCKETS);
	p = put_u32(p, owner->pending ? FLAG_PENDING : 0);
	p = put_u64(p, owner->attach_id);
	p = put_u64(p, owner->attach_realtime_ns);
	memset(p, 0, STATEFILE_PATH_LEN);
	memcpy(p, owner->pin_path, strnlen(owner->pin_path, STATEFILE_PATH_LEN - 1));
	p += STATEFILE_PATH_LEN;
	p = put_u64(p, snap->missed);
	p = put_u64(p, snap->taken_ns);
	p = put_u64(p, snap->taken_realtime);
	p = put_slots(p, snap->slots);
	p = put_u32(p, nkeys);
	for (size_t k = 0; k < nkeys; k++) {
		p = put_u64(p, by->keys[k].key);
		p = put_u32(p, by->keys[k].other ? KEY_FLAG_OTHER : 0);
		p = put_slots(p, by->keys[k].slots);
	}
	statefile_seal(start, p - start + CHECKSUM_LEN);
	return 0;
}

void statefile_seal(void *buf, size_t len)
{
	unsigned char *p = buf;

	put_u64(p + len - CHECKSUM_LEN, checksum(p, len - CHECKSUM_LEN));
}

static int reject(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int reject(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void get_slots(const unsigned char **p, struct tsh_slot *slots)
{
	for (unsigned int s = 0; s < TSH_NSLOTS; s++) {
		struct tsh_slot *slot = &slots[s];

		slot->count = get_u64(p);
		slot->unknown = get_u64(p);
		slot->sum_ns = get_u64(p);
		for (unsigned int b = 0; b < TSH_NBUCKETS; b++)
			slot->buckets[b] = get_u64(p);
	}
}

/* The size a record of this version says it has: v3 counts its keys. */
static int record_size(const unsigned char *start, size_t len, __u32 version, size_t *want,
		       char *err, size_t errlen)
{
	const unsigned char *p = start + V2_SIZE - CHECKSUM_LEN;
	__u32 nkeys;

	if (version == 1 || version == 2) {
		*want = version == 1 ? V1_SIZE : V2_SIZE;
		return 0;
	}
	if (len < V3_SIZE(0))
		return reject(err, errlen, "truncated or padded: %zu bytes, want at least %zu", len,
			      (size_t)V3_SIZE(0));
	nkeys = get_u32(&p);
	if (nkeys > STATEFILE_MAX_KEYS)
		return reject(err, errlen, "%u keys, at most %d", nkeys, STATEFILE_MAX_KEYS);
	*want = V3_SIZE(nkeys);
	return 0;
}

/* The keys of a v3 record, at p; by->keys allocated here. */
static int get_keys(const unsigned char *p, struct breakdown *by, char *err, size_t errlen)
{
	__u32 nkeys = get_u32(&p);

	by->n = 0;
	by->keys = calloc(nkeys ? nkeys : 1, sizeof(*by->keys));
	if (!by->keys)
		return reject(err, errlen, "out of memory");
	for (__u32 k = 0; k < nkeys; k++) {
		struct key_counts *key = &by->keys[k];
		__u32 flags;

		key->key = get_u64(&p);
		flags = get_u32(&p);
		if (flags & ~KEY_FLAG_OTHER) {
			breakdown_free(by);
			return reject(err, errlen, "unknown key flags 0x%x", flags);
		}
		key->other = flags & KEY_FLAG_OTHER;
		get_slots(&p, key->slots);
	}
	by->n = nkeys;
	return 0;
}

int statefile_decode(const void *buf, size_t len, struct statefile_owner *owner,
		     struct snapshot *out, struct breakdown *by, char *err, size_t errlen)
{
	const unsigned char *start = buf, *p = buf, *tail;
	__u32 version, layout, nslots, nbuckets, flags = 0;
	size_t path_len, want = 0;
	int ret;

	if (by)
		*by = (struct breakdown){ 0 };
	if (len < MAGIC_LEN + 4 || memcmp(p, STATEFILE_MAGIC, MAGIC_LEN))
		return reject(err, errlen, "not a tcpstatehist state file");
	p += MAGIC_LEN;
	version = get_u32(&p);
	if (version < 1 || version > STATEFILE_VERSION)
		return reject(err, errlen, "state file format v%u, this binary reads v1 to v%d",
			      version, STATEFILE_VERSION);
	ret = record_size(start, len, version, &want, err, errlen);
	if (ret)
		return ret;
	path_len = version == 1 ? V1_PATH_LEN : STATEFILE_PATH_LEN;
	if (len != want)
		return reject(err, errlen, "truncated or padded: %zu bytes, want %zu", len, want);
	tail = start + len - CHECKSUM_LEN;
	if (checksum(start, len - CHECKSUM_LEN) != get_u64(&tail))
		return reject(err, errlen, "checksum mismatch: the file is corrupt");
	layout = get_u32(&p);
	nslots = get_u32(&p);
	nbuckets = get_u32(&p);
	if (version != 1)
		flags = get_u32(&p);
	if (layout != TSH_LAYOUT_VERSION || nslots != TSH_NSLOTS || nbuckets != TSH_NBUCKETS)
		return reject(err, errlen, "written for pinned layout v%u, this binary reads v%d",
			      layout, TSH_LAYOUT_VERSION);
	if (flags & ~FLAG_PENDING)
		return reject(err, errlen, "unknown flags 0x%x", flags);
	owner->pending = flags & FLAG_PENDING;
	owner->attach_id = get_u64(&p);
	owner->attach_realtime_ns = get_u64(&p);
	if (!memchr(p, '\0', path_len))
		return reject(err, errlen, "pin path is not terminated");
	memset(owner->pin_path, 0, sizeof(owner->pin_path));
	memcpy(owner->pin_path, p, path_len);
	p += path_len;
	memset(out, 0, sizeof(*out));
	out->missed = get_u64(&p);
	out->taken_ns = get_u64(&p);
	out->taken_realtime = get_u64(&p);
	get_slots(&p, out->slots);
	if (version < 3 || !by)
		return 0;
	return get_keys(p, by, err, errlen);
}

int statefile_lock(const char *path, char *err, size_t errlen)
{
	char lock[4096];
	int fd, ret;

	/* Before the lock file is made: a refused path leaves nothing beside it. */
	ret = check_file_path(path, err, errlen);
	if (ret)
		return ret;
	if (snprintf(lock, sizeof(lock), "%s.lock", path) >= (int)sizeof(lock)) {
		snprintf(err, errlen, "path too long");
		return -ENAMETOOLONG;
	}
	fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the lock file %s: %s", lock, strerror(errno));
		return -errno;
	}
	ret = lock_wait(fd, LOCK_EX);
	if (ret) {
		snprintf(err, errlen, "cannot lock %s: %s", lock, strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

int statefile_read(const char *path, struct statefile_owner *owner, struct snapshot *snap,
		   struct breakdown *by, bool *found, char *err, size_t errlen)
{
	size_t want = V3_SIZE(STATEFILE_MAX_KEYS) + 1, got = 0;
	unsigned char *buf;
	struct stat st;
	int fd, ret;

	*found = false;
	/* O_NONBLOCK: a FIFO put in the file's place must not stall us with the lock held. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s",
			 errno == ELOOP ? "is a symlink (refused)" : strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "not a regular file");
		return -EINVAL;
	}
	/* The largest state there can be, read whole; one byte more, so a longer one is refused. */
	if ((size_t)st.st_size < want)
		want = st.st_size + 1;
	buf = malloc(want);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* One byte more than a state: a longer file is rejected, not cut. */
	while (got < want) {
		ssize_t n = read(fd, buf + got, want - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += n;
	}
	ret = statefile_decode(buf, got, owner, snap, by, err, errlen);
	*found = !ret;
out:
	free(buf);
	close(fd);
	return ret;
}

struct encoded {
	const void *buf;
	size_t len;
};

static int write_state(FILE *out, const void *arg)
{
	const struct encoded *e = arg;

	return fwrite(e->buf, e->len, 1, out) == 1 ? 0 : -1;
}

int statefile_write(const char *path, const struct statefile_owner *owner,
		    const struct snapshot *snap, const struct breakdown *by, char *err,
		    size_t errlen)
{
	size_t len = statefile_size(by ? by->n : 0);
	unsigned char *buf = malloc(len);
	struct encoded e = { buf, len };
	int ret;

	if (!buf)
		return set_err(err, errlen, -ENOMEM, "out of memory");
	statefile_encode(owner, snap, by, buf, len);
	ret = replace_file(path, 0600, write_state, &e, err, errlen);
	free(buf);
	return ret;
}
