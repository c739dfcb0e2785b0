// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The floor: an empty program on the tracepoint tcpstatehist uses (bench/run.sh, round D). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tsh_bench_empty, struct sock *sk, int oldstate, int newstate)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
