/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Loader: checks the kernel and privileges, loads and attaches the programs. */
#ifndef TSH_LOADER_H
#define TSH_LOADER_H

#include <stddef.h>
#include "args.h"
#include "collector.h"

struct tcpstatehist_bpf;

/*
 * Oldest kernel the counts are exact on: the recursion guard of tracepoint
 * programs (docs/design.md, "Kernels"), and the oldest the matrix passes.
 */
#define TSH_MIN_KERNEL_MAJOR 6
#define TSH_MIN_KERNEL_MINOR 1

/*
 * A trace record wakes the reader at once when it takes the bytes waiting
 * past a multiple of this fraction of the ring (a power of two); otherwise
 * the reader finds it on its next timed poll.
 */
#define TRACE_WAKEUP_FRACTION 4

/* Release string to (major, minor); -EINVAL if it does not start "X.Y". */
int parse_kernel_release(const char *release, unsigned int *major, unsigned int *minor);

/*
 * The environment: kernel version, BTF, capabilities. 0, or a negative
 * errno with a one-line message in err.
 */
int loader_check_environment(char *err, size_t errlen);

/*
 * Raises the soft limit of open files to the hard one, and refuses a limit
 * below what cfg's command needs ("Too many open files", where libbpf would
 * turn the EMFILE of one of its opens into EINVAL). 0, or -EMFILE with err.
 */
int loader_check_open_files(const struct config *cfg, char *err, size_t errlen);

/* Resolves a -N path to the namespace's inode, checking that it is one. */
int netns_inode(const char *path, __u32 *inode, char *err, size_t errlen);

/*
 * The namespace's cookie, or 0 when the kernel cannot say or we may not enter
 * it; an error only if we could not come back to our own namespace.
 */
int netns_cookie(const char *path, __u64 *cookie, char *err, size_t errlen);

/* Open, configure and load; fills kernel. The caller destroys *skel. */
int loader_load(const struct config *cfg, struct tcpstatehist_bpf **skel, struct tsh_kernel *kernel,
		char *err, size_t errlen);

/* Attach the main program, then the recover program: the order matters. */
int loader_attach(struct tcpstatehist_bpf *skel, char *err, size_t errlen);

/* The libbpf print callback: debug output only with -v. */
void loader_set_verbose(bool verbose);

#endif /* TSH_LOADER_H */
