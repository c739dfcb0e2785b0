/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Maps that both BPF objects define alike: the transition programs keep the
 * start times and the port filters in them, and the census reads an attached
 * set's start times by reusing that set's maps (bpf_map__reuse_fd), which
 * needs the same definition. Each object that includes this has its own
 * instance until userspace hands it another.
 */
#ifndef TSH_SHARED_MAPS_BPF_H
#define TSH_SHARED_MAPS_BPF_H

/* When each socket entered its current state: docs/design.md, "Durations". */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, START_SLOTS);
	__type(key, __u32);
	__type(value, struct start_slot);
} start_slots SEC(".maps");

/* The same, for the sockets whose start slot another socket holds. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} state_since SEC(".maps");

/* The -L and -D port sets, one bit per port, indexed by tsh_port_set. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TSH_NPORTSETS);
	__type(key, __u32);
	__type(value, struct tsh_portset);
} ports SEC(".maps");

static __always_inline bool port_in_set(__u32 set, __u16 port)
{
	struct tsh_portset *ps = bpf_map_lookup_elem(&ports, &set);

	return ps && (ps->bits[(port >> 6) & (TSH_PORTSET_WORDS - 1)] >> (port & 63)) & 1;
}

#endif /* TSH_SHARED_MAPS_BPF_H */
