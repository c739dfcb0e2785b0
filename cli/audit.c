// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include "audit.h"

#define EVENT "events/sock/inet_sock_set_state/id"

static const char *const tracefs_dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

/* The tracepoint's perf id, from tracefs; mounts it where it should be if needed. */
static int tracepoint_id(__u64 *id)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		for (size_t i = 0; i < sizeof(tracefs_dirs) / sizeof(tracefs_dirs[0]); i++) {
			char path[128];
			FILE *f;
			int ok;

			snprintf(path, sizeof(path), "%s/" EVENT, tracefs_dirs[i]);
			f = fopen(path, "r");
			if (!f)
				continue;
			ok = fscanf(f, "%llu", (unsigned long long *)id) == 1;
			fclose(f);
			if (ok)
				return 0;
		}
		if (mount("tracefs", tracefs_dirs[0], "tracefs", 0, NULL))
			break;
	}
	return -ENOENT;
}

int audit_open(struct audit *audit, char *err, size_t errlen)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
	};
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);
	int ret;

	audit->nfds = 0;
	audit->fds = calloc(ncpus > 0 ? ncpus : 1, sizeof(*audit->fds));
	if (!audit->fds) {
		snprintf(err, errlen, "audit: out of memory");
		return -ENOMEM;
	}
	if (tracepoint_id(&attr.config)) {
		snprintf(err, errlen,
			 "audit: no tracefs with sock/inet_sock_set_state (use --no-audit)");
		audit_close(audit);
		return -ENOENT;
	}
	for (long cpu = 0; cpu < ncpus; cpu++) {
		int fd =
			syscall(SYS_perf_event_open, &attr, -1, (int)cpu, -1, PERF_FLAG_FD_CLOEXEC);

		if (fd < 0) {
			/* An offline CPU has no events to count. */
			if (errno == ENODEV)
				continue;
			ret = -errno;
			if (ret == -EACCES || ret == -EPERM)
				snprintf(err, errlen,
					 "audit: the kernel refused to count the tracepoint (%s; "
					 "kernel.perf_event_paranoid=3 on Debian needs CAP_SYS_ADMIN)",
					 strerror(errno));
			else
				snprintf(err, errlen,
					 "audit: cannot count the tracepoint on CPU %ld: %s", cpu,
					 strerror(errno));
			audit_close(audit);
			return ret;
		}
		audit->fds[audit->nfds++] = fd;
	}
	return 0;
}

int audit_read(const struct audit *audit, __u64 *hits, char *err, size_t errlen)
{
	*hits = 0;
	for (int i = 0; i < audit->nfds; i++) {
		__u64 count;

		if (read(audit->fds[i], &count, sizeof(count)) != sizeof(count)) {
			snprintf(err, errlen, "audit: cannot read a counter: %s", strerror(errno));
			return -EIO;
		}
		*hits += count;
	}
	return 0;
}

int audit_classic_programs(const struct audit *audit, __u32 *count, char *err, size_t errlen)
{
	struct perf_event_query_bpf query = { .ids_len = 0 };

	*count = 0;
	if (!audit->nfds)
		return 0;
	/* With no room for ids the kernel still says how many there are. */
	if (ioctl(audit->fds[0], PERF_EVENT_IOC_QUERY_BPF, &query) && errno != ENOSPC) {
		snprintf(err, errlen, "audit: cannot list the tracepoint's programs: %s",
			 strerror(errno));
		return -errno;
	}
	*count = query.prog_cnt;
	return 0;
}

void audit_close(struct audit *audit)
{
	for (int i = 0; i < audit->nfds; i++)
		close(audit->fds[i]);
	free(audit->fds);
	audit->fds = NULL;
	audit->nfds = 0;
}
