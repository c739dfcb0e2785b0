// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * empty_loader - attach bench/empty.bpf.c's empty program to sock:inet_sock_set_state, print
 * its program id, and hold it until SIGINT or SIGTERM (bench/run.sh, round D: the floor).
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "empty.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(void)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct empty_bpf *skel;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	skel = empty_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "empty_loader: cannot load the program\n");
		return 1;
	}
	if (empty_bpf__attach(skel)) {
		fprintf(stderr, "empty_loader: cannot attach the program\n");
		empty_bpf__destroy(skel);
		return 1;
	}
	if (bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.tsh_bench_empty), &info, &len) == 0)
		printf("%u\n", info.id);
	fflush(stdout);
	while (!stop)
		pause();
	empty_bpf__destroy(skel);
	return 0;
}
