// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * status: what is attached at a pin path, what it counted and what it costs.
 * This file gathers a struct status; render_status.c prints it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "common.h"
#include "pins.h"

#define STATS_WINDOW_S 1

static int prog_info(int fd, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

static bool bpf_stats_enabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	int enabled = 0;

	if (f) {
		if (fscanf(f, "%d", &enabled) != 1)
			enabled = 0;
		fclose(f);
	}
	return enabled;
}

/*
 * The programs' run counts and times. If the kernel keeps statistics
 * already, they are read as they are (cumulative since they were turned
 * on); otherwise they are turned on for a short window only, since keeping
 * them costs every program on the machine a little on every run.
 */
static void measure_cost(struct status *st, const struct pinned *p)
{
	struct bpf_prog_info before[NPROGS] = {}, after;
	bool window = !bpf_stats_enabled();
	int stats_fd = -1;

	for (int i = 0; i < NPROGS; i++)
		st->progs[i].name = prog_table[i].name;
	if (window) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0) {
			snprintf(st->stats_error, sizeof(st->stats_error),
				 "cannot enable BPF statistics: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < NPROGS; i++)
			prog_info(p->prog_fds[i], &before[i]);
		sleep(STATS_WINDOW_S);
	}
	for (int i = 0; i < NPROGS; i++) {
		if (prog_info(p->prog_fds[i], &after)) {
			snprintf(st->stats_error, sizeof(st->stats_error),
				 "cannot read program statistics: %s", strerror(errno));
			break;
		}
		st->progs[i].run_cnt = after.run_cnt - before[i].run_cnt;
		st->progs[i].run_time_ns = after.run_time_ns - before[i].run_time_ns;
		st->progs[i].recursion_misses = after.recursion_misses;
	}
	if (stats_fd >= 0)
		close(stats_fd);
	if (st->stats_error[0])
		return;
	st->stats_source = window ? STATS_WINDOW : STATS_CUMULATIVE;
	st->stats_window_s = window ? STATS_WINDOW_S : 0;
}

static __u64 fd_memlock(int fd)
{
	char path[64], line[128];
	unsigned long long memlock = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &memlock) == 1)
			break;
	fclose(f);
	return memlock;
}

/* The ids of prog_fd's maps, added to ids[*n] (room for max) unless there already. */
static void add_map_ids(int prog_fd, __u32 *ids, __u32 *n, __u32 max)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), mine[16];

	info.nr_map_ids = ARRAY_SIZE(mine);
	info.map_ids = (__u64)(unsigned long)mine;
	if (prog_fd < 0 || bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return;
	for (__u32 i = 0; i < info.nr_map_ids && i < ARRAY_SIZE(mine); i++) {
		__u32 j = 0;

		while (j < *n && ids[j] != mine[i])
			j++;
		if (j == *n && *n < max)
			ids[(*n)++] = mine[i];
	}
}

/* Memory charged to the maps: the programs' maps (the census's too, each once) and meta. */
static __u64 maps_memlock(const struct pinned *p)
{
	__u32 ids[32], n = 0;
	__u64 total = fd_memlock(p->meta_fd);

	add_map_ids(p->kernel.main_prog_fd, ids, &n, ARRAY_SIZE(ids));
	add_map_ids(p->census_fd, ids, &n, ARRAY_SIZE(ids));
	for (__u32 i = 0; i < n; i++) {
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd >= 0) {
			total += fd_memlock(fd);
			close(fd);
		}
	}
	return total;
}

int cmd_status(const struct config *cfg)
{
	int (*render)(FILE *, const struct status *) =
		cfg->format == FORMAT_JSON ? render_status_json : render_status_text;
	struct status st = { .pin_path = cfg->pin_path };
	char err[ERR_LEN] = "";
	struct snapshot snap;
	struct pinned p;
	int ret;

	ret = pins_open_shared(cfg->pin_path, &p, err, sizeof(err));
	if (ret) {
		/*
		 * Not attached is an answer, on stdout; the exit status tells scripts.
		 * Pins that cannot be used (half a set, another layout) are an answer
		 * too, with the reason, which stderr repeats.
		 */
		if (ret != -ENOENT)
			st.problem = err;
		render(stdout, &st);
		fflush(stdout);
		if (ret == -ENOENT)
			err[0] = '\0';
		goto out;
	}
	ret = collect_snapshot(&p.kernel, &snap, 1, err, sizeof(err));
	if (ret)
		goto out;
	st.attached = true;
	st.meta = p.meta;
	st.max_keys = p.max_keys;
	st.transitions = snapshot_total(&snap);
	st.missed = snap.missed;
	st.start_fallbacks = snap.kernel.fallback;
	st.start_reclaims = snap.kernel.reclaimed;
	measure_cost(&st, &p);
	st.memlock = maps_memlock(&p);
	st.now = time(NULL);
	render(stdout, &st);
	ret = output_flush(stdout, err, sizeof(err));
out:
	pins_close(&p);
	return command_exit(ret, err);
}
