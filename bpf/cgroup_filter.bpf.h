/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --cgroup: keep the sockets of one cgroup (v2) and its descendants. Shared by
 * the transition programs (the filter in their rodata: the verifier drops
 * the check when it is off) and the census (in its settings, written before
 * each walk).
 */
#ifndef TSH_CGROUP_FILTER_BPF_H
#define TSH_CGROUP_FILTER_BPF_H

/*
 * Is the socket's cgroup the one of id (at level below the cgroup2 mount) or
 * below it? The cgroup's ancestor at that level is that cgroup: one read,
 * whatever the depth.
 */
static __always_inline bool in_cgroup(const struct sock *sk, __u64 id, __u32 level)
{
	struct cgroup *cgroup = sk->sk_cgrp_data.cgroup, *ancestor = NULL;

	if (!cgroup || cgroup->level < (int)level ||
	    bpf_core_read(&ancestor, sizeof(ancestor), &cgroup->ancestors[level]))
		return false;
	return ancestor && BPF_CORE_READ(ancestor, kn, id) == id;
}

#endif /* TSH_CGROUP_FILTER_BPF_H */
