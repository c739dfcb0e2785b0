/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --cgroup: keep the sockets of one cgroup (v2) and its descendants. Shared by
 * the transition programs and the census; with filter_cgroup_id 0 the
 * verifier drops the check, as it does any filter that is off.
 */
#ifndef TSH_CGROUP_FILTER_BPF_H
#define TSH_CGROUP_FILTER_BPF_H

/* The cgroup's id and its level below the cgroup2 mount (0 = any cgroup), set by userspace. */
const volatile __u64 filter_cgroup_id;
const volatile __u32 filter_cgroup_level;

/*
 * Is the socket's cgroup the filter's or below it? The cgroup's ancestor at
 * the filter's level is the filter's cgroup: one read, whatever the depth.
 */
static __always_inline bool in_cgroup(const struct sock *sk)
{
	struct cgroup *cgroup = sk->sk_cgrp_data.cgroup, *ancestor = NULL;
	__u32 level = filter_cgroup_level;

	if (!cgroup || cgroup->level < (int)level ||
	    bpf_core_read(&ancestor, sizeof(ancestor), &cgroup->ancestors[level]))
		return false;
	return ancestor && BPF_CORE_READ(ancestor, kn, id) == filter_cgroup_id;
}

#endif /* TSH_CGROUP_FILTER_BPF_H */
