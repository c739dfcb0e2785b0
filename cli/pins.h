/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The pinned layout under one directory of bpffs: the two links, the
 * counters map, the two programs, the breakdown's two maps, the census's
 * socket iterator, and the "meta" map, pinned last as the mark of a complete
 * set. Opening checks the layout before reading anything.
 */
#ifndef TSH_PINS_H
#define TSH_PINS_H

#include <stdbool.h>
#include <stddef.h>
#include "collector.h"
#include "tcpstatehist.h"

struct tcpstatehist_bpf;

/* Where attach pins when --pin-path is not given. */
#define DEFAULT_PIN_PATH "/sys/fs/bpf/tcpstatehist"

enum pin_object {
	PIN_MAIN_LINK = 0,
	PIN_RECOVER_LINK,
	PIN_COUNTERS,
	PIN_MAIN_PROG,
	PIN_RECOVER_PROG,
	PIN_KEY_INDEX,	/* --by: key -> table index (one entry without --by) */
	PIN_KEY_TABLES, /* --by: the key tables */
	PIN_CENSUS_PROG, /* the census's iterator, with the set's start times */
	PIN_META,	/* last: the commit marker */
	PIN_NOBJECTS,
};

extern const char *const pin_names[PIN_NOBJECTS];

/* The programs, in the order they attach: the recover program runs after the main one. */
enum tsh_prog {
	PROG_MAIN = 0,
	PROG_RECOVER,
	NPROGS,
};

struct prog_desc {
	const char *name; /* the program's name in the kernel */
	enum pin_object prog;
	enum pin_object link;
};

extern const struct prog_desc prog_table[NPROGS];

/* The census's iterator's name in the kernel (bpf/sockets.bpf.c). */
#define CENSUS_PROG_NAME "tsh_sockets"

/* An opened, verified pin set. */
struct pinned {
	struct tsh_kernel kernel; /* counters_fd; main_prog_fd is prog_fds[PROG_MAIN] */
	int prog_fds[NPROGS];
	int census_fd; /* the census's iterator program */
	int meta_fd;
	struct tsh_meta meta;
	__u32 max_keys; /* --by's, from the key index map's size; 0 without --by */
};

/* When the set was attached, in seconds since the epoch. */
static inline __u64 pins_attach_seconds(const struct tsh_meta *meta)
{
	return meta->attach_realtime_ns / 1000000000ull;
}

/*
 * A flock on dir (LOCK_EX for attach and detach, LOCK_SH for the readers),
 * released by close(); it holds only while dir names the directory locked,
 * which this checks after each wait (detach removes the directory with the
 * lock held), starting over when it does not. With created, first mounts
 * bpffs at /sys/fs/bpf if nothing is mounted there and creates dir (0700) if
 * missing (*created says so); a mount point (a bpffs root) is refused. Checks
 * that dir is a real directory on bpffs. fd, or a negative errno with err
 * filled in (-ENOENT when dir is missing and not to be created).
 */
int pins_lock_dir(const char *dir, int operation, bool *created, char *err, size_t errlen);

/*
 * pins_open() under a shared lock: an attach, a replace or a detach in
 * progress is waited for, so the set read is whole. The lock is dropped on
 * return (the descriptors keep the objects). p can be closed whatever the
 * result.
 */
int pins_open_shared(const char *dir, struct pinned *p, char *err, size_t errlen);

/*
 * Opens and verifies the set. 0; -ENOENT when nothing is pinned (err says
 * so); another negative errno for a wrong layout, a half set, a bad dir.
 */
int pins_open(const char *dir, struct pinned *p, char *err, size_t errlen);

/* Nothing open: pins_close() may be called on p. */
void pins_init(struct pinned *p);

void pins_close(struct pinned *p);

/* True when any of our names exists under dir. */
bool pins_any(const char *dir);

/*
 * Pins the attached skeleton's objects, the census program census_fd, and
 * then meta. On failure unpins what it created and returns a negative errno;
 * on success the caller disconnects the links so that destroying the
 * skeleton leaves them.
 */
int pins_create(const char *dir, struct tcpstatehist_bpf *skel, int census_fd,
		const struct tsh_meta *meta, char *err, size_t errlen);

/*
 * Unpins every object of ours under dir, meta first, then removes dir if
 * remove_dir (never a mount point).
 * Returns the number of pins removed, or a negative errno with err filled.
 */
int pins_remove(const char *dir, bool remove_dir, char *err, size_t errlen);

/* The programs a set pins: the counting programs and the census's. */
#define PINNED_PROGS (NPROGS + 1)

/*
 * Ids of the programs pinned under dir, whatever state the set is in: as
 * many as could be opened, written to ids and counted in the return value.
 */
unsigned int pins_prog_ids(const char *dir, __u32 ids[PINNED_PROGS]);

#endif /* TSH_PINS_H */
