/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The --state-file of snapshot: the previous snapshot that used the file, and
 * which attach it was taken from. A fixed-size binary record, little-endian,
 * with a checksum; decoding is a pure function so that it can be fuzzed.
 */
#ifndef TSH_STATEFILE_H
#define TSH_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "breakdown.h"
#include "snapshot.h"

#define STATEFILE_MAGIC "TSHSTATE"
#define STATEFILE_VERSION 3
#define STATEFILE_PATH_LEN 4096 /* PATH_MAX: the canonical pin path, whole */

/* The attach a state was taken from, and whether the run that saved it committed. */
struct statefile_owner {
	__u64 attach_id;
	__u64 attach_realtime_ns;
	char pin_path[STATEFILE_PATH_LEN]; /* NUL-terminated */
	/*
	 * Saved before the run's output, not yet committed after it: the run
	 * stopped in between, and its interval may or may not have been printed.
	 */
	bool pending;
};

/* The most keys a state holds: --by's keys and other. */
#define STATEFILE_MAX_KEYS (MAX_KEYS_MAX + 1)

/* Bytes of an encoded state with nkeys keys (0 without --by). */
size_t statefile_size(size_t nkeys);

/*
 * Writes statefile_size(by->n) bytes to buf (by NULL: no keys); 0, or
 * -ENOSPC when len is short.
 */
int statefile_encode(const struct statefile_owner *owner, const struct snapshot *snap,
		     const struct breakdown *by, void *buf, size_t len);

/*
 * Writes the checksum of a record of len bytes into its last 8: what encode
 * does last, and how a test makes a changed record pass the checksum.
 */
void statefile_seal(void *buf, size_t len);

/*
 * Parses len bytes. 0, or -EINVAL with a one-line reason in err (wrong
 * magic, version, layout, size or checksum). Touches nothing but its
 * arguments. With by, the keys too (allocated; none in a v1 or v2 state;
 * by->by is left TSH_BY_NONE: the pins say which key it is).
 */
int statefile_decode(const void *buf, size_t len, struct statefile_owner *owner,
		     struct snapshot *out, struct breakdown *by, char *err, size_t errlen);

/*
 * Takes an exclusive lock on PATH.lock (created 0600), held until the
 * returned descriptor is closed; waits for another holder. PATH must be
 * missing or a regular file: anything else (a symlink, a directory, a FIFO,
 * a device) is refused before the lock file is made. fd, or a negative errno
 * with err filled in.
 */
int statefile_lock(const char *path, char *err, size_t errlen);

/*
 * Reads and decodes PATH. 0 with *found set; *found false when PATH does not
 * exist. A negative errno with err filled in otherwise (symlinks, garbage).
 */
int statefile_read(const char *path, struct statefile_owner *owner, struct snapshot *snap,
		   struct breakdown *by, bool *found, char *err, size_t errlen);

/* Replaces PATH atomically (replace_file), mode 0600; by may be NULL. */
int statefile_write(const char *path, const struct statefile_owner *owner,
		    const struct snapshot *snap, const struct breakdown *by, char *err,
		    size_t errlen);

#endif /* TSH_STATEFILE_H */
