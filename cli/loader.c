// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cgroups.h"
#include "loader.h"
#include "util.h"
#include "tcpstatehist.skel.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool verbose_output;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose_output)
		return 0;
	/* Without -v, libbpf's warnings would repeat our own one-line error. */
	if (!verbose_output)
		return 0;
	return vfprintf(stderr, fmt, args);
}

void loader_set_verbose(bool verbose)
{
	verbose_output = verbose;
	libbpf_set_print(print_libbpf);
}

int parse_kernel_release(const char *release, unsigned int *major, unsigned int *minor)
{
	if (sscanf(release, "%u.%u", major, minor) != 2)
		return -EINVAL;
	return 0;
}

static bool has_capability(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (1u << (cap % 32));
}

static int check_capabilities(char *err, size_t errlen)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	bool admin, bpf, perfmon;

	if (syscall(SYS_capget, &header, data)) {
		snprintf(err, errlen, "cannot read capabilities: %s", strerror(errno));
		return -errno;
	}
	admin = has_capability(data, CAP_SYS_ADMIN);
	bpf = admin || has_capability(data, CAP_BPF);
	perfmon = admin || has_capability(data, CAP_PERFMON);
	if (bpf && perfmon)
		return 0;
	snprintf(err, errlen, "missing %s%s%s: run as root, or grant CAP_BPF and CAP_PERFMON",
		 bpf ? "" : "CAP_BPF", bpf || perfmon ? "" : " and ", perfmon ? "" : "CAP_PERFMON");
	return -EPERM;
}

int loader_check_environment(char *err, size_t errlen)
{
	unsigned int major, minor;
	struct utsname uts;

	if (uname(&uts) || parse_kernel_release(uts.release, &major, &minor)) {
		snprintf(err, errlen, "cannot tell the kernel version");
		return -EINVAL;
	}
	if (major < TSH_MIN_KERNEL_MAJOR ||
	    (major == TSH_MIN_KERNEL_MAJOR && minor < TSH_MIN_KERNEL_MINOR)) {
		snprintf(err, errlen,
			 "kernel %s is too old: tcpstatehist needs Linux %d.%d or later",
			 uts.release, TSH_MIN_KERNEL_MAJOR, TSH_MIN_KERNEL_MINOR);
		return -EOPNOTSUPP;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(err, errlen,
			 "kernel has no BTF (/sys/kernel/btf/vmlinux): tcpstatehist needs a kernel "
			 "built with CONFIG_DEBUG_INFO_BTF=y");
		return -EOPNOTSUPP;
	}
	return check_capabilities(err, errlen);
}

/*
 * Descriptors a command holds at once, with room to spare; the audit adds one
 * per CPU. The census (sockets, snapshot --sockets) holds the set's pins, the
 * iterator's link and the namespace at once (18 with -N), or loads its own
 * iterator: it counts as loading.
 */
#define FDS_DAEMONLESS 16
#define FDS_LOAD 32

int loader_check_open_files(const struct config *cfg, char *err, size_t errlen)
{
	unsigned long needed = FDS_DAEMONLESS;
	struct rlimit lim;
	int cpus;

	if (cfg->command == CMD_LIVE || cfg->command == CMD_ATTACH || cfg->command == CMD_TRACE ||
	    cfg->command == CMD_SOCKETS || cfg->with_sockets)
		needed = FDS_LOAD;
	if ((cfg->command == CMD_LIVE || cfg->command == CMD_TRACE) && !cfg->no_audit) {
		cpus = libbpf_num_possible_cpus();
		needed += cpus > 0 ? cpus : 0;
	}
	if (getrlimit(RLIMIT_NOFILE, &lim))
		return 0;
	if (lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
		getrlimit(RLIMIT_NOFILE, &lim);
	}
	if (lim.rlim_cur >= needed)
		return 0;
	return set_err(err, errlen, -EMFILE,
		       "%s: the open-file limit (ulimit -n) is %llu, this command needs at "
		       "least %lu",
		       strerror(EMFILE), (unsigned long long)lim.rlim_cur, needed);
}

int netns_inode(const char *path, __u32 *inode, char *err, size_t errlen)
{
	struct stat st;
	int fd, type;

	/* O_NONBLOCK: a FIFO would block open() until a writer came. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "-N %s: %s", path, strerror(errno));
		return -errno;
	}
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type != CLONE_NEWNET || fstat(fd, &st)) {
		close(fd);
		snprintf(err, errlen, "-N %s: not a network namespace", path);
		return -EINVAL;
	}
	close(fd);
	*inode = st.st_ino;
	return 0;
}

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/*
 * The namespace's cookie, read from a socket made inside it (Linux 5.14+). It
 * lies on a line of struct net that nothing writes, where the inode number
 * shares its line with the namespace's reference count, which every socket's
 * birth and death writes: comparing cookies spares the programs a cache miss
 * per transition. 0 when it cannot be had (an older kernel, or no
 * CAP_SYS_ADMIN to enter the namespace); the programs then compare inodes.
 */
int netns_cookie(const char *path, __u64 *cookie, char *err, size_t errlen)
{
	int home, target, sock, ret = 0;
	socklen_t len = sizeof(*cookie);

	*cookie = 0;
	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return 0;
	target = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (target < 0 || setns(target, CLONE_NEWNET)) {
		if (target >= 0)
			close(target);
		close(home);
		return 0;
	}
	close(target);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock >= 0) {
		if (getsockopt(sock, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len) ||
		    len != sizeof(*cookie))
			*cookie = 0;
		close(sock);
	}
	if (setns(home, CLONE_NEWNET)) {
		snprintf(err, errlen, "cannot return to our network namespace: %s",
			 strerror(errno));
		ret = -errno;
	}
	close(home);
	return ret;
}

static int fill_port_set(int map_fd, __u32 key, const struct port_filter *pf, char *err,
			 size_t errlen)
{
	if (!pf->enabled)
		return 0;
	if (bpf_map_update_elem(map_fd, &key, &pf->set, BPF_ANY)) {
		snprintf(err, errlen, "cannot write the port filter: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * The breakdown's switch and its maps' sizes: max_keys tables and the
 * overflow's when on, one entry each when off (a map has at least one).
 */
static int configure_breakdown(const struct config *cfg, struct tcpstatehist_bpf *obj)
{
	__u32 keys = cfg->by ? cfg->max_keys : 1;
	int ret;

	obj->rodata->by_kind = cfg->by;
	obj->rodata->max_keys = cfg->by ? cfg->max_keys : 0;
	ret = bpf_map__set_max_entries(obj->maps.key_index, keys);
	if (!ret)
		ret = bpf_map__set_max_entries(obj->maps.key_tables, cfg->by ? keys + 1 : 1);
	return ret;
}

static int describe_load_error(int ret, char *err, size_t errlen)
{
	if (ret == -EPERM || ret == -EACCES)
		snprintf(err, errlen,
			 "the kernel refused to load the programs (%s): run as root, or grant "
			 "CAP_BPF and CAP_PERFMON; -v shows the verifier's log",
			 strerror(-ret));
	else
		snprintf(err, errlen, "cannot load the BPF programs: %s (-v shows why)",
			 strerror(-ret));
	return ret;
}

/*
 * The trace's settings (docs/design.md, "Trace"). Every other command leaves
 * tracing off, which the verifier prunes, and its ring at one page.
 */
static int configure_trace(struct tcpstatehist_bpf *obj, const struct config *cfg, char *err,
			   size_t errlen)
{
	bool on = cfg->command == CMD_TRACE;
	__u32 page = sysconf(_SC_PAGESIZE);
	__u32 bytes = on ? cfg->ring_kib * 1024 : page;
	int ret;

	if (bytes < page)
		bytes = page;
	obj->rodata->trace_enabled = on;
	obj->rodata->trace_min_ns = cfg->min_duration_ns;
	obj->rodata->trace_from_states = cfg->from_states;
	obj->rodata->trace_to_states = cfg->to_states;
	obj->rodata->trace_wakeup_shift = __builtin_ctz(bytes / TRACE_WAKEUP_FRACTION);
	ret = bpf_map__set_max_entries(obj->maps.trace_ring, bytes);
	if (ret)
		set_err(err, errlen, ret, "cannot size the ring buffer: %s", strerror(-ret));
	return ret;
}

int loader_load(const struct config *cfg, struct tcpstatehist_bpf **skel, struct tsh_kernel *kernel,
		char *err, size_t errlen)
{
	struct tcpstatehist_bpf *obj;
	__u64 netns_id = 0, cgroup_id = 0;
	__u32 netns = 0, cgroup_level = 0;
	int ret;

	if (cfg->netns_path && ((ret = netns_inode(cfg->netns_path, &netns, err, errlen)) ||
				(ret = netns_cookie(cfg->netns_path, &netns_id, err, errlen))))
		return ret;
	if (cfg->cgroup_path &&
	    (ret = cgroup_of_path(cfg->cgroup_path, &cgroup_id, &cgroup_level, err, errlen)))
		return ret;
	obj = tcpstatehist_bpf__open();
	if (!obj) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		return ret;
	}
	obj->rodata->filter_family = cfg->family;
	obj->rodata->filter_netns = netns;
	obj->rodata->filter_netns_cookie = netns_id;
	obj->rodata->filter_lport = cfg->lports.enabled;
	obj->rodata->filter_rport = cfg->rports.enabled;
	obj->rodata->filter_cgroup_id = cgroup_id;
	obj->rodata->filter_cgroup_level = cgroup_level;
	ret = configure_breakdown(cfg, obj);
	if (!ret)
		ret = configure_trace(obj, cfg, err, errlen);
	if (!ret)
		ret = tcpstatehist_bpf__load(obj);
	if (ret) {
		tcpstatehist_bpf__destroy(obj);
		return describe_load_error(ret, err, errlen);
	}
	ret = fill_port_set(bpf_map__fd(obj->maps.ports), TSH_PORTS_LOCAL, &cfg->lports, err,
			    errlen);
	if (!ret)
		ret = fill_port_set(bpf_map__fd(obj->maps.ports), TSH_PORTS_REMOTE, &cfg->rports,
				    err, errlen);
	if (ret) {
		tcpstatehist_bpf__destroy(obj);
		return ret;
	}
	kernel->counters_fd = bpf_map__fd(obj->maps.counters);
	kernel->main_prog_fd = bpf_program__fd(obj->progs.tsh_main);
	kernel->by = cfg->by;
	kernel->key_index_fd = bpf_map__fd(obj->maps.key_index);
	kernel->key_tables_fd = bpf_map__fd(obj->maps.key_tables);
	*skel = obj;
	return 0;
}

int loader_attach(struct tcpstatehist_bpf *skel, char *err, size_t errlen)
{
	int ret;

	/*
	 * A tracepoint calls its programs in the order they were attached. The
	 * recover program must run after the main one for the same event.
	 */
	skel->links.tsh_main = bpf_program__attach(skel->progs.tsh_main);
	if (!skel->links.tsh_main)
		goto fail;
	skel->links.tsh_recover = bpf_program__attach(skel->progs.tsh_recover);
	if (!skel->links.tsh_recover)
		goto fail;
	return 0;
fail:
	ret = -errno;
	snprintf(err, errlen, "cannot attach to tracepoint inet_sock_set_state: %s",
		 strerror(-ret));
	return ret;
}
