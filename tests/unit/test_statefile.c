// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* State file: round trips, and every kind of damage rejected with a reason. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "statefile.h"
#include "unit.h"

static void sample(struct statefile_owner *owner, struct snapshot *snap)
{
	memset(owner, 0, sizeof(*owner));
	memset(snap, 0, sizeof(*snap));
	owner->attach_id = 0x0123456789abcdefull;
	owner->attach_realtime_ns = 1700000000123456789ull;
	strcpy(owner->pin_path, "/sys/fs/bpf/tcpstatehist");
	for (unsigned int s = 0; s < TSH_NSLOTS; s++) {
		snap->slots[s].count = 1000 + s;
		snap->slots[s].unknown = s;
		snap->slots[s].sum_ns = ~0ull - s;
		for (unsigned int b = 0; b < TSH_NBUCKETS; b++)
			snap->slots[s].buckets[b] = s * 100 + b;
	}
	snap->missed = 7;
	snap->taken_ns = 123456789;
	snap->taken_realtime = 1700000100;
}

static unsigned char *encoded(const struct statefile_owner *owner, const struct snapshot *snap)
{
	unsigned char *buf = malloc(statefile_size(0));

	CHECK(statefile_encode(owner, snap, NULL, buf, statefile_size(0)) == 0);
	return buf;
}

static void test_round_trip(void)
{
	struct statefile_owner owner, got_owner;
	struct snapshot snap, got;
	unsigned char *buf;
	char err[128] = "";

	sample(&owner, &snap);
	buf = encoded(&owner, &snap);
	CHECK(statefile_decode(buf, statefile_size(0), &got_owner, &got, NULL, err, sizeof(err)) ==
	      0);
	CHECK(!memcmp(&snap, &got, sizeof(snap)));
	CHECK_EQ_U64(owner.attach_id, got_owner.attach_id);
	CHECK_EQ_U64(owner.attach_realtime_ns, got_owner.attach_realtime_ns);
	CHECK_STR(owner.pin_path, got_owner.pin_path);
	CHECK(statefile_encode(&owner, &snap, NULL, buf, statefile_size(0) - 1) == -ENOSPC);
	free(buf);
}

/* decode(buf with one change) must fail with a message matching want. */
static void expect_rejected(const unsigned char *buf, size_t len, const char *want)
{
	struct statefile_owner owner;
	struct snapshot snap;
	char err[128] = "";

	CHECK(statefile_decode(buf, len, &owner, &snap, NULL, err, sizeof(err)) == -EINVAL);
	if (!strstr(err, want)) {
		printf("    error '%s' does not say '%s'\n", err, want);
		unit_failures++;
	}
}

static void test_damage_rejected(void)
{
	struct statefile_owner owner;
	struct snapshot snap;
	size_t len = statefile_size(0);
	unsigned char *buf, *copy = malloc(len + 1);

	sample(&owner, &snap);
	buf = encoded(&owner, &snap);
	expect_rejected(buf, 0, "not a tcpstatehist state file");
	expect_rejected((const unsigned char *)"hello world, not a state", 24,
			"not a tcpstatehist state file");
	expect_rejected(buf, len - 1, "truncated");
	expect_rejected(buf, 12, "truncated");
	memcpy(copy, buf, len);
	copy[len] = 0;
	expect_rejected(copy, len + 1, "truncated or padded");
	/* Every single flipped byte past the magic is caught by some check. */
	for (size_t i = 8; i < len; i += 97) {
		struct statefile_owner o;
		struct snapshot s;
		char err[128];

		memcpy(copy, buf, len);
		copy[i] ^= 0x40;
		CHECK(statefile_decode(copy, len, &o, &s, NULL, err, sizeof(err)) == -EINVAL);
	}
	memcpy(copy, buf, len);
	copy[8] = 9; /* format version */
	expect_rejected(copy, len, "format v9");
	memcpy(copy, buf, len);
	copy[len / 2] ^= 1;
	expect_rejected(copy, len, "checksum");
	free(copy);
	free(buf);
}

static void test_file_round_trip(void)
{
	char dir[] = "/tmp/tsh-unit-XXXXXX", path[64], lockpath[80], err[256] = "";
	struct statefile_owner owner, got_owner;
	struct snapshot snap, got;
	struct stat st;
	bool found = true;
	int lock, fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(lockpath, sizeof(lockpath), "%s.lock", path);
	sample(&owner, &snap);
	CHECK(statefile_read(path, &got_owner, &got, NULL, &found, err, sizeof(err)) == 0);
	CHECK(!found);
	lock = statefile_lock(path, err, sizeof(err));
	CHECK(lock >= 0);
	CHECK(!stat(lockpath, &st) && (st.st_mode & 0777) == 0600);
	CHECK(statefile_write(path, &owner, &snap, NULL, err, sizeof(err)) == 0);
	CHECK(!stat(path, &st) && (st.st_mode & 0777) == 0600);
	CHECK(statefile_read(path, &got_owner, &got, NULL, &found, err, sizeof(err)) == 0);
	CHECK(found);
	CHECK(!memcmp(&snap, &got, sizeof(snap)));
	close(lock);
	/* Garbage in the file: an error that says why. */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, "garbage\n", 8) == 8);
	close(fd);
	CHECK(statefile_read(path, &got_owner, &got, NULL, &found, err, sizeof(err)) == -EINVAL);
	CHECK(!found);
	CHECK(strstr(err, "not a tcpstatehist state file") != NULL);
	/* A symlink is refused for reading and for writing. */
	unlink(path);
	CHECK(symlink("/etc/passwd", path) == 0);
	CHECK(statefile_read(path, &got_owner, &got, NULL, &found, err, sizeof(err)) < 0);
	CHECK(strstr(err, "symlink") != NULL);
	CHECK(statefile_write(path, &owner, &snap, NULL, err, sizeof(err)) < 0);
	unlink(path);
	unlink(lockpath);
	CHECK(rmdir(dir) == 0);
}

/* A pin path of any length up to PATH_MAX, and the pending mark, survive a round trip. */
static void test_long_path_and_pending(void)
{
	struct statefile_owner owner, got_owner;
	struct snapshot snap, got;
	unsigned char *buf;
	char err[128] = "";

	sample(&owner, &snap);
	memset(owner.pin_path, 'p', sizeof(owner.pin_path) - 1);
	owner.pin_path[0] = '/';
	owner.pending = true;
	buf = encoded(&owner, &snap);
	CHECK(statefile_decode(buf, statefile_size(0), &got_owner, &got, NULL, err, sizeof(err)) ==
	      0);
	CHECK_EQ_U64(4095, strlen(got_owner.pin_path));
	CHECK_STR(owner.pin_path, got_owner.pin_path);
	CHECK(got_owner.pending);
	buf[8 + 5 * 4 - 4] = 2; /* a flag this binary does not know */
	statefile_seal(buf, statefile_size(0));
	CHECK(statefile_decode(buf, statefile_size(0), &got_owner, &got, NULL, err, sizeof(err)) ==
	      -EINVAL);
	CHECK_STR("unknown flags 0x2", err);
	free(buf);
}

/* A v1 state (256 bytes of pin path, no flags) is still read: an upgrade loses nothing. */
static void test_v1_read(void)
{
	size_t head1 = 8 + 4 * 4 + 2 * 8, path1 = 256, rest;
	size_t head2 = 8 + 5 * 4 + 2 * 8, v1_len;
	struct statefile_owner owner, got_owner;
	struct snapshot snap, got;
	unsigned char *v2, *v1;
	char err[128] = "";

	sample(&owner, &snap);
	v2 = encoded(&owner, &snap);
	/* v3 with no keys is v1's body and a count of keys (4 bytes) more. */
	rest = statefile_size(0) - 4 - head2 - STATEFILE_PATH_LEN;
	v1_len = head1 + path1 + rest;
	v1 = calloc(1, v1_len);
	memcpy(v1, v2, 8 + 4 * 4);
	v1[8] = 1;
	memcpy(v1 + 8 + 4 * 4, v2 + 8 + 5 * 4, 2 * 8);
	memcpy(v1 + head1, v2 + head2, path1 - 1);
	memcpy(v1 + head1 + path1, v2 + head2 + STATEFILE_PATH_LEN, rest - 8);
	statefile_seal(v1, v1_len);
	CHECK(statefile_decode(v1, v1_len, &got_owner, &got, NULL, err, sizeof(err)) == 0);
	CHECK(!memcmp(&snap, &got, sizeof(snap)));
	CHECK_STR(owner.pin_path, got_owner.pin_path);
	CHECK(!got_owner.pending);
	free(v1);
	free(v2);
}

/* A v2 state (no keys) is still read; a v3 state keeps each key, other included. */
static void test_v2_and_keys(void)
{
	struct statefile_owner owner, got_owner;
	struct key_counts keys[2] = {};
	struct breakdown by = { TSH_BY_PORT, 2, keys }, got_by;
	struct snapshot snap, got;
	size_t len = statefile_size(2), v2_len = statefile_size(0) - 4;
	unsigned char *buf = malloc(len), *v2;
	char err[128] = "";

	sample(&owner, &snap);
	keys[0].other = true;
	keys[0].slots[3].buckets[2] = 7;
	keys[1].key = 443;
	keys[1].slots[5].unknown = 9;
	CHECK(statefile_encode(&owner, &snap, &by, buf, len) == 0);
	CHECK(statefile_encode(&owner, &snap, &by, buf, len - 1) == -ENOSPC);
	CHECK(statefile_decode(buf, len, &got_owner, &got, &got_by, err, sizeof(err)) == 0);
	CHECK_EQ_U64(2, got_by.n);
	CHECK(got_by.keys[0].other && !got_by.keys[1].other);
	CHECK_EQ_U64(7, got_by.keys[0].slots[3].buckets[2]);
	CHECK_EQ_U64(443, got_by.keys[1].key);
	CHECK_EQ_U64(9, got_by.keys[1].slots[5].unknown);
	breakdown_free(&got_by);
	CHECK(statefile_decode(buf, len - 1, &got_owner, &got, &got_by, err, sizeof(err)) ==
	      -EINVAL);
	/* v2: the same record without the keys and their count. */
	v2 = calloc(1, v2_len);
	memcpy(v2, buf, v2_len - 8);
	v2[8] = 2;
	statefile_seal(v2, v2_len);
	CHECK(statefile_decode(v2, v2_len, &got_owner, &got, &got_by, err, sizeof(err)) == 0);
	CHECK(!memcmp(&snap, &got, sizeof(snap)));
	CHECK_EQ_U64(0, got_by.n);
	breakdown_free(&got_by);
	free(v2);
	free(buf);
}

UNIT_TESTS(statefile_tests) = {
	{ "statefile: v2 still read; v3 keeps the keys", test_v2_and_keys },
	{ "statefile: a long pin path and the pending mark", test_long_path_and_pending },
	{ "statefile: v1 still read", test_v1_read },
	{ "statefile: encode and decode round trip", test_round_trip },
	{ "statefile: truncated, padded, corrupt, foreign rejected", test_damage_rejected },
	{ "statefile: lock, write 0600, read back, refuse garbage and symlinks",
	  test_file_round_trip },
	UNIT_END,
};
