// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Daemonless mode: attach and pin, snapshot from the pins, status, detach.
 * The pin layout lives in pins.c, the state file in statefile.c; this file
 * is the order of the steps and what the user reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "commands.h"
#include "loader.h"
#include "output.h"
#include "pins.h"
#include "statefile.h"
#include "tcpstatehist.skel.h"

#define STATS_WINDOW_S 1

static void format_utc(char *buf, size_t len, __u64 realtime_s)
{
	time_t t = realtime_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static __u64 attach_seconds(const struct tsh_meta *meta)
{
	return meta->attach_realtime_ns / 1000000000ull;
}

/* The filters as the options that set them: "-4 -L 80 -N /run/netns/x", or "none". */
static void describe_filters(const struct tsh_meta *meta, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	if (meta->family)
		used += snprintf(buf + used, len - used, "%s",
				 meta->family == AF_INET ? "-4" : "-6");
	if (meta->lports[0] && used < len)
		used += snprintf(buf + used, len - used, "%s-L %s", used ? " " : "", meta->lports);
	if (meta->rports[0] && used < len)
		used += snprintf(buf + used, len - used, "%s-D %s", used ? " " : "", meta->rports);
	if (meta->netns_path[0] && used < len)
		used += snprintf(buf + used, len - used, "%s-N %s", used ? " " : "",
				 meta->netns_path);
	if (!used)
		snprintf(buf, len, "none");
}

static int fill_meta(const struct config *cfg, struct tsh_meta *meta)
{
	struct timespec now;
	char err[256];

	memset(meta, 0, sizeof(*meta));
	meta->layout_version = TSH_LAYOUT_VERSION;
	meta->family = cfg->family;
	if (cfg->netns_path && netns_inode(cfg->netns_path, &meta->netns_inode, err, sizeof(err))) {
		p_err("%s", err);
		return -EINVAL;
	}
	if (getrandom(&meta->attach_id, sizeof(meta->attach_id), 0) != sizeof(meta->attach_id)) {
		p_err("cannot get random bytes: %s", strerror(errno));
		return -errno;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	meta->attach_realtime_ns = (__u64)now.tv_sec * 1000000000ull + now.tv_nsec;
	if (cfg->lports.enabled)
		snprintf(meta->lports, sizeof(meta->lports), "%s", cfg->lports.spec);
	if (cfg->rports.enabled)
		snprintf(meta->rports, sizeof(meta->rports), "%s", cfg->rports.spec);
	if (cfg->netns_path)
		snprintf(meta->netns_path, sizeof(meta->netns_path), "%s", cfg->netns_path);
	return 0;
}

/* Refuses an existing set unless --replace; true when there is one to replace. */
static int check_existing(const struct config *cfg, bool *replace)
{
	struct pinned old;
	char err[512], when[32], filters[512];
	int ret;

	*replace = false;
	if (!pins_any(cfg->pin_path))
		return 0;
	*replace = true;
	if (cfg->replace)
		return 0;
	ret = pins_open(cfg->pin_path, &old, err, sizeof(err));
	if (ret) {
		p_err("%s (or attach --replace)", err);
		return ret;
	}
	format_utc(when, sizeof(when), attach_seconds(&old.meta));
	describe_filters(&old.meta, filters, sizeof(filters));
	pins_close(&old);
	p_err("already attached at %s since %s (filters: %s): detach first, or attach --replace",
	      cfg->pin_path, when, filters);
	return -EEXIST;
}

int run_attach(const struct config *cfg)
{
	struct tcpstatehist_bpf *skel = NULL;
	struct tsh_kernel kernel;
	struct tsh_meta meta;
	char err[512], filters[512];
	bool replace, created = false;
	int lock, ret;

	if (fill_meta(cfg, &meta))
		return EXIT_FAILURE;
	ret = pins_prepare_dir(cfg->pin_path, &created, err, sizeof(err));
	if (ret) {
		p_err("%s", err);
		if (created)
			rmdir(cfg->pin_path);
		return EXIT_FAILURE;
	}
	/* Two attaches, or an attach and a detach, take turns. */
	lock = pins_lock_dir(cfg->pin_path, err, sizeof(err));
	if (lock < 0) {
		p_err("%s", err);
		return EXIT_FAILURE;
	}
	if (check_existing(cfg, &replace)) {
		close(lock);
		return EXIT_FAILURE;
	}
	ret = loader_load(cfg, &skel, &kernel, err, sizeof(err));
	if (!ret)
		ret = loader_attach(skel, err, sizeof(err));
	/* The new programs count before the old ones go: no gap, and no mix. */
	if (!ret && replace && (ret = pins_remove(cfg->pin_path, false, err, sizeof(err))) > 0)
		ret = 0;
	if (!ret)
		ret = pins_create(cfg->pin_path, skel, &meta, err, sizeof(err));
	if (ret) {
		p_err("%s", err);
		tcpstatehist_bpf__destroy(skel);
		if (created)
			rmdir(cfg->pin_path);
		close(lock);
		return EXIT_FAILURE;
	}
	/* The pins hold the links now; destroying the skeleton must not detach. */
	bpf_link__disconnect(skel->links.tsh_main);
	bpf_link__disconnect(skel->links.tsh_recover);
	tcpstatehist_bpf__destroy(skel);
	close(lock);
	describe_filters(&meta, filters, sizeof(filters));
	printf("attached: pins under %s (filters: %s)\n", cfg->pin_path, filters);
	return output_exit_status(output_flush(stdout));
}

/* Text output says what the numbers cover; the renderer itself does not. */
static int render_text_snapshot(FILE *out, const struct snapshot *snap,
				const struct render_opts *opts)
{
	char since[32];

	if (opts->interval_s > 0) {
		fprintf(out, "Since the previous snapshot (%.3f s):\n", opts->interval_s);
	} else {
		format_utc(since, sizeof(since), opts->since_realtime);
		fprintf(out, "Since attach (%s):\n", since);
	}
	return render_text(out, snap, opts);
}

static int render_snapshot(const struct config *cfg, const struct snapshot *snap,
			   const struct render_opts *opts)
{
	renderer_fn render =
		cfg->format == FORMAT_TEXT ? render_text_snapshot : renderer_for(cfg->format);

	if (cfg->output)
		return output_file(cfg->output, render, snap, opts);
	return output_stream(stdout, render, snap, opts);
}

/*
 * The previous state, if it is usable: *found false for a missing file and
 * for a state of an earlier attach at the same pins (the counters restarted:
 * report everything since attach). Another pin path's state is an error.
 */
static int load_state(const struct config *cfg, const struct statefile_owner *owner,
		      struct snapshot *prev, bool *found)
{
	struct statefile_owner was;
	char err[512];
	int ret;

	ret = statefile_read(cfg->state_file, &was, prev, found, err, sizeof(err));
	if (ret) {
		p_err("--state-file %s: %s (delete it to start over)", cfg->state_file, err);
		return ret;
	}
	if (!*found)
		return 0;
	if (strcmp(was.pin_path, owner->pin_path)) {
		p_err("--state-file %s: belongs to the pins at %s, not %s: use one state file per "
		      "pin path",
		      cfg->state_file, was.pin_path, owner->pin_path);
		return -EINVAL;
	}
	if (was.attach_id != owner->attach_id)
		*found = false;
	return 0;
}

static int snapshot_pinned(const struct config *cfg, const struct pinned *p)
{
	struct render_opts opts = {
		.timestamp = cfg->timestamp,
		.milliseconds = cfg->milliseconds,
		.since_realtime = attach_seconds(&p->meta),
	};
	struct statefile_owner owner = {
		.attach_id = p->meta.attach_id,
		.attach_realtime_ns = p->meta.attach_realtime_ns,
	};
	struct snapshot prev = {}, cur, out;
	bool found = false;
	char err[512];
	int ret;

	if (!realpath(cfg->pin_path, owner.pin_path) ||
	    strlen(owner.pin_path) >= sizeof(owner.pin_path)) {
		p_err("--pin-path %s: %s", cfg->pin_path, strerror(errno ? errno : ENAMETOOLONG));
		return -EINVAL;
	}
	if (cfg->state_file && (ret = load_state(cfg, &owner, &prev, &found)))
		return ret;
	ret = collect_snapshot(&p->kernel, &cur, 1, err, sizeof(err));
	if (ret) {
		p_err("%s", err);
		return ret;
	}
	if (found) {
		snapshot_diff(&cur, &prev, &out);
		opts.interval_s =
			cur.taken_ns > prev.taken_ns ? (cur.taken_ns - prev.taken_ns) / 1e9 : 0;
		/* 0 would mean "since attach" to the renderers. */
		if (opts.interval_s < 0.001)
			opts.interval_s = 0.001;
	} else {
		memset(&prev, 0, sizeof(prev));
		out = cur;
	}
	/* Output first: a failed write leaves the state as it was, nothing is lost. */
	ret = render_snapshot(cfg, &out, &opts);
	if (ret || !cfg->state_file)
		return ret;
	snapshot_advance(&prev, &cur);
	ret = statefile_write(cfg->state_file, &owner, &prev, err, sizeof(err));
	if (ret)
		p_err("--state-file %s: %s", cfg->state_file, err);
	return ret;
}

int run_snapshot(const struct config *cfg)
{
	struct pinned p;
	char err[4400];
	int lock = -1, ret;

	ret = pins_open(cfg->pin_path, &p, err, sizeof(err));
	if (ret) {
		p_err("%s", err);
		return EXIT_FAILURE;
	}
	/* Read, collect, render, save: one run at a time per state file. */
	if (cfg->state_file) {
		lock = statefile_lock(cfg->state_file, err, sizeof(err));
		if (lock < 0) {
			p_err("--state-file %s: %s", cfg->state_file, err);
			pins_close(&p);
			return EXIT_FAILURE;
		}
	}
	ret = snapshot_pinned(cfg, &p);
	if (lock >= 0)
		close(lock);
	pins_close(&p);
	return output_exit_status(ret);
}

struct prog_cost {
	const char *name;
	__u64 run_cnt;
	__u64 run_time_ns;
	__u64 recursion_misses;
};

struct status {
	struct pinned *p;
	struct snapshot snap;
	struct prog_cost progs[2];
	const char *stats_source; /* "window", "cumulative", or NULL when unavailable */
	char stats_error[128];
	__u64 memlock;
};

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
static void measure_cost(struct status *st)
{
	int fds[2] = { st->p->kernel.main_prog_fd, st->p->recover_prog_fd };
	struct bpf_prog_info before[2] = {}, after;
	bool window = !bpf_stats_enabled();
	int stats_fd = -1;

	if (window) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0) {
			snprintf(st->stats_error, sizeof(st->stats_error),
				 "cannot enable BPF statistics: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < 2; i++)
			prog_info(fds[i], &before[i]);
		sleep(STATS_WINDOW_S);
	}
	for (int i = 0; i < 2; i++) {
		if (prog_info(fds[i], &after)) {
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
	if (!st->stats_error[0])
		st->stats_source = window ? "window" : "cumulative";
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

/* Memory charged to the maps: the programs' maps and meta. */
static __u64 maps_memlock(const struct pinned *p)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[16];
	__u64 total = fd_memlock(p->meta_fd);

	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(p->kernel.main_prog_fd, &info, &len))
		return total;
	for (__u32 i = 0; i < info.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++) {
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd >= 0) {
			total += fd_memlock(fd);
			close(fd);
		}
	}
	return total;
}

static void print_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void print_json_opt_string(FILE *out, const char *key, const char *s)
{
	fprintf(out, ",\"%s\":", key);
	if (*s)
		print_json_string(out, s);
	else
		fputs("null", out);
}

static double avg_ns(const struct prog_cost *c)
{
	return c->run_cnt ? (double)c->run_time_ns / c->run_cnt : 0;
}

static void print_status_json(FILE *out, const char *pin_path, const struct status *st)
{
	const struct tsh_meta *m = &st->p->meta;
	char when[32];

	format_utc(when, sizeof(when), attach_seconds(m));
	fputs("{\"attached\":true,\"pin_path\":", out);
	print_json_string(out, pin_path);
	fprintf(out, ",\"layout\":%u,\"since\":\"%s\",\"filters\":{\"family\":%s",
		m->layout_version, when,
		m->family == AF_INET	? "\"ipv4\""
		: m->family == AF_INET6 ? "\"ipv6\""
					: "null");
	print_json_opt_string(out, "lports", m->lports);
	print_json_opt_string(out, "rports", m->rports);
	print_json_opt_string(out, "netns", m->netns_path);
	fprintf(out,
		"},\"transitions\":%llu,\"missed\":%llu,\"start_fallbacks\":%llu,"
		"\"start_reclaims\":%llu,\"memlock_bytes\":%llu",
		(unsigned long long)snapshot_total(&st->snap), (unsigned long long)st->snap.missed,
		(unsigned long long)st->snap.kernel.fallback,
		(unsigned long long)st->snap.kernel.reclaimed, (unsigned long long)st->memlock);
	fprintf(out, ",\"stats\":{\"source\":");
	if (st->stats_source)
		fprintf(out, "\"%s\",\"window_s\":", st->stats_source);
	else
		fputs("null,\"window_s\":", out);
	if (st->stats_source && !strcmp(st->stats_source, "window"))
		fprintf(out, "%d", STATS_WINDOW_S);
	else
		fputs("null", out);
	fputs(",\"programs\":[", out);
	for (int i = 0; i < 2; i++) {
		const struct prog_cost *c = &st->progs[i];

		fprintf(out, "%s{\"name\":\"%s\",\"recursion_misses\":%llu", i ? "," : "", c->name,
			(unsigned long long)c->recursion_misses);
		if (st->stats_source)
			fprintf(out, ",\"run_cnt\":%llu,\"run_time_ns\":%llu,\"avg_ns\":%.1f}",
				(unsigned long long)c->run_cnt, (unsigned long long)c->run_time_ns,
				avg_ns(c));
		else
			fputs(",\"run_cnt\":null,\"run_time_ns\":null,\"avg_ns\":null}", out);
	}
	fputs("]}}\n", out);
}

static void print_status_text(FILE *out, const char *pin_path, const struct status *st)
{
	const struct tsh_meta *m = &st->p->meta;
	char when[32], filters[512];
	time_t now = time(NULL);
	__u64 since = attach_seconds(m);

	format_utc(when, sizeof(when), since);
	describe_filters(m, filters, sizeof(filters));
	fprintf(out, "attached:     yes, since %s (%llu s ago)\n", when,
		(unsigned long long)((__u64)now > since ? now - since : 0));
	fprintf(out, "pin path:     %s (layout v%u)\n", pin_path, m->layout_version);
	fprintf(out, "filters:      %s\n", filters);
	fprintf(out, "transitions:  %llu counted, %llu missed\n",
		(unsigned long long)snapshot_total(&st->snap), (unsigned long long)st->snap.missed);
	fprintf(out,
		"start slots:  %llu sockets fell back to socket storage (slot taken), "
		"%llu slots taken over from sockets gone\n",
		(unsigned long long)st->snap.kernel.fallback,
		(unsigned long long)st->snap.kernel.reclaimed);
	fprintf(out, "map memory:   %llu bytes (memlock)\n", (unsigned long long)st->memlock);
	if (!st->stats_source)
		fprintf(out, "cost:         unavailable (%s)\n", st->stats_error);
	else if (!strcmp(st->stats_source, "window"))
		fprintf(out, "cost:         measured over %d s (kernel.bpf_stats_enabled is 0)\n",
			STATS_WINDOW_S);
	else
		fprintf(out, "cost:         since kernel.bpf_stats_enabled was set\n");
	fprintf(out, "  %-12s %14s %14s %10s %17s\n", "program", "runs", "run time ns", "avg ns",
		"recursion misses");
	for (int i = 0; i < 2; i++) {
		const struct prog_cost *c = &st->progs[i];

		if (st->stats_source)
			fprintf(out, "  %-12s %14llu %14llu %10.1f %17llu\n", c->name,
				(unsigned long long)c->run_cnt, (unsigned long long)c->run_time_ns,
				avg_ns(c), (unsigned long long)c->recursion_misses);
		else
			fprintf(out, "  %-12s %14s %14s %10s %17llu\n", c->name, "-", "-", "-",
				(unsigned long long)c->recursion_misses);
	}
}

int run_status(const struct config *cfg)
{
	struct status st = { .progs = { { .name = "tsh_main" }, { .name = "tsh_recover" } } };
	struct pinned p;
	char err[4400];
	int ret;

	ret = pins_open(cfg->pin_path, &p, err, sizeof(err));
	if (ret == -ENOENT) {
		/* Not attached is an answer, on stdout; the exit status tells scripts. */
		if (cfg->format == FORMAT_JSON) {
			fputs("{\"attached\":false,\"pin_path\":", stdout);
			print_json_string(stdout, cfg->pin_path);
			fputs("}\n", stdout);
		} else {
			printf("attached:     no (no pins at %s)\n", cfg->pin_path);
		}
		fflush(stdout);
		return EXIT_FAILURE;
	}
	if (ret) {
		p_err("%s", err);
		return EXIT_FAILURE;
	}
	st.p = &p;
	ret = collect_snapshot(&p.kernel, &st.snap, 1, err, sizeof(err));
	if (ret) {
		p_err("%s", err);
		pins_close(&p);
		return EXIT_FAILURE;
	}
	measure_cost(&st);
	st.memlock = maps_memlock(&p);
	if (cfg->format == FORMAT_JSON)
		print_status_json(stdout, cfg->pin_path, &st);
	else
		print_status_text(stdout, cfg->pin_path, &st);
	pins_close(&p);
	return output_exit_status(output_flush(stdout));
}

/* Ids of the pinned programs, to wait for the kernel to free them. */
static unsigned int pinned_prog_ids(const char *dir, __u32 ids[2])
{
	static const enum pin_object progs[] = { PIN_MAIN_PROG, PIN_RECOVER_PROG };
	struct bpf_prog_info info;
	unsigned int n = 0;
	char path[4096];

	for (int i = 0; i < 2; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, pin_names[progs[i]]);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (!prog_info(fd, &info))
			ids[n++] = info.id;
		close(fd);
	}
	return n;
}

/*
 * The kernel frees a link and its program after the last reference goes,
 * a little later (deferred work, RCU). Waits, bounded, so that "nothing of
 * ours is left" holds when detach returns.
 */
static void wait_progs_freed(const __u32 *ids, unsigned int n)
{
	for (int tries = 0; tries < 500; tries++) {
		bool left = false;

		for (unsigned int i = 0; i < n; i++) {
			int fd = bpf_prog_get_fd_by_id(ids[i]);

			if (fd >= 0) {
				close(fd);
				left = true;
			}
		}
		if (!left)
			return;
		usleep(10000);
	}
}

int run_detach(const struct config *cfg)
{
	char err[4400];
	unsigned int nids;
	bool complete;
	struct pinned p;
	__u32 ids[2];
	int lock, ret;

	lock = pins_lock_dir(cfg->pin_path, err, sizeof(err));
	if (lock < 0) {
		if (lock == -ENOENT)
			p_err("nothing attached: no pins at %s", cfg->pin_path);
		else
			p_err("%s", err);
		return EXIT_FAILURE;
	}
	complete = !pins_open(cfg->pin_path, &p, err, sizeof(err));
	if (complete)
		pins_close(&p);
	nids = pinned_prog_ids(cfg->pin_path, ids);
	ret = pins_remove(cfg->pin_path, true, err, sizeof(err));
	close(lock);
	if (ret < 0) {
		p_err("%s", err);
		return EXIT_FAILURE;
	}
	if (ret == 0) {
		p_err("nothing attached: no pins at %s", cfg->pin_path);
		return EXIT_FAILURE;
	}
	wait_progs_freed(ids, nids);
	if (complete)
		printf("detached: removed %d pins and %s\n", ret, cfg->pin_path);
	else
		printf("detached: removed an incomplete or foreign-layout pin set (%d of %d pins) "
		       "and %s\n",
		       ret, PIN_NOBJECTS, cfg->pin_path);
	return output_exit_status(output_flush(stdout));
}
