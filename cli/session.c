// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include "audit.h"
#include "collector.h"
#include "common.h"
#include "session.h"

/* True when sig was ignored when we started (nohup, a shell's background job). */
static bool ignored_at_start(int sig)
{
	struct sigaction old;

	return !sigaction(sig, NULL, &old) && old.sa_handler == SIG_IGN;
}

/*
 * Signals that end a command arrive through sigtimedwait() or a signalfd,
 * never a handler. Waiting for a signal would take it even if ignored, so
 * SIGHUP and SIGINT are waited for only if they were not ignored at start:
 * nohup keeps the command running through a hangup, as a shell keeps its
 * background jobs through Ctrl-C. SIGTERM always ends it.
 */
void block_exit_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	if (!ignored_at_start(SIGINT))
		sigaddset(set, SIGINT);
	if (!ignored_at_start(SIGHUP))
		sigaddset(set, SIGHUP);
	sigprocmask(SIG_BLOCK, set, NULL);
}

/* Debian's perf_event_paranoid=3 refuses perf events without CAP_SYS_ADMIN. */
int open_audit(struct audit *audit, struct tsh_kernel *kernel, char *err, size_t errlen)
{
	int ret = audit_open(audit, err, errlen);

	if (!ret) {
		kernel->audit = audit;
	} else if (ret == -EACCES || ret == -EPERM) {
		p_err("warning: %s: missed omits events the kernel gave to no program", err);
		err[0] = '\0';
		ret = 0;
	}
	return ret;
}

/*
 * Can the audit no longer see every event? A classic tracepoint program on
 * the tracepoint (tcpstates) that returns 0 hides the event from perf: found
 * by asking the kernel which are attached, at once, and by the perf count
 * falling behind what the programs handled, for whatever else hides it.
 */
static bool audit_hidden(const struct audit *audit, const struct snapshot *cur,
			 const struct snapshot *base)
{
	char ignored[ERR_LEN];
	__u32 classic = 0;

	if (!cur->kernel.audited)
		return false;
	if (!audit_classic_programs(audit, &classic, ignored, sizeof(ignored)) && classic)
		return true;
	return snapshot_audit_blind(&cur->kernel, &base->kernel);
}

bool warn_if_audit_hidden(const struct audit *audit, const struct snapshot *cur,
			  const struct snapshot *base)
{
	if (!audit_hidden(audit, cur, base))
		return false;
	p_err("warning: another program hides sock:inet_sock_set_state from perf "
	      "(tcpstates?): missed omits events the kernel gave to no program");
	return true;
}
