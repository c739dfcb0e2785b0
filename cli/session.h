/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the commands that load their own programs and run until told to stop
 * (the live view, trace) share: the exit signals and the optional audit.
 */
#ifndef TSH_SESSION_H
#define TSH_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

struct audit;
struct tsh_kernel;

/*
 * Blocks the signals that end the command (SIGTERM; SIGINT and SIGHUP unless
 * ignored at start) and fills set with them, for sigtimedwait() or a
 * signalfd: a signal that comes during load or a read waits until the step
 * is done, so the programs are always detached.
 */
void block_exit_signals(sigset_t *set);

/*
 * The audit, or a warning on stderr and none where the kernel refuses perf
 * events to this process: the counts stay exact, only missed loses the
 * events no program was given. 0, or a negative errno with err filled in.
 */
int open_audit(struct audit *audit, struct tsh_kernel *kernel, char *err, size_t errlen);

struct snapshot;

/*
 * Warns, and returns true, when the audit can no longer see every event: a
 * classic tracepoint program on the tracepoint (tcpstates) that returns 0
 * hides the event from perf.
 */
bool warn_if_audit_hidden(const struct audit *audit, const struct snapshot *cur,
			  const struct snapshot *base);

#endif /* TSH_SESSION_H */
