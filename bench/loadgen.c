// SPDX-License-Identifier: GPL-2.0
/*
 * loadgen - open and close TCP connections on loopback as fast as it can, then print the rate
 * and the TCP state transitions (sock:inet_sock_set_state) the kernel emitted for them.
 *
 * Run it in a network namespace of its own (it only ever talks to loopback):
 *	ip netns add lg && ip netns exec lg ip link set lo up
 *	ip netns exec lg loadgen -n 200000 -t 2
 *
 * Each worker thread owns a listener and drives BOTH ends of each connection: connect(),
 * accept(), close one end, read() the other end until the kernel has processed that close
 * (EOF or ECONNRESET), close the other end. Nothing can race: the child exists before the
 * first close, and the second end always closes from the same state. No thread ever waits
 * for another (no cross-thread wakeups), which is also the fastest loop. The end that closes
 * last lingers (SO_LINGER, 5 s), so its close() returns once both sockets are in CLOSE:
 * every transition in the report has happened when loadgen exits.
 *
 * Per connection (verified against the kernel, 6.18, IPv4 and IPv6, with and without -H):
 *   both ends open:  client CLOSE->SYN_SENT, SYN_SENT->ESTABLISHED
 *                    server LISTEN->SYN_RECV (the child is a clone of the listener),
 *                           SYN_RECV->ESTABLISHED
 *   -c fin   client closes first: client ESTABLISHED->FIN_WAIT1, FIN_WAIT1->FIN_WAIT2,
 *            FIN_WAIT2->CLOSE (the hand-over to the TIME_WAIT mini-socket, which emits
 *            nothing; tcpstatehist counts it as FIN_WAIT2->TIME_WAIT, as listed); server
 *            ESTABLISHED->CLOSE_WAIT, CLOSE_WAIT->LAST_ACK, LAST_ACK->CLOSE.
 *            TIME_WAIT holds the client's port: above ~28,000 connections/s per listener the
 *            ports run out (tcp_tw_reuse=2 reuses them after tcp_tw_reuse_delay, 1 s), and
 *            connect() fails with EADDRNOTAVAIL. loadgen retries after 1 ms and counts each
 *            failure, which emits client CLOSE->SYN_SENT and SYN_SENT->CLOSE.
 *   -c sfin  server closes first (default: fastest, and its TIME_WAIT never blocks a
 *            connect()): the mirror image of fin, sides swapped.
 *   -c rst   the client aborts (SO_LINGER {1, 0}): client and server ESTABLISHED->CLOSE.
 *   and per listener: CLOSE->LISTEN, LISTEN->CLOSE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS	64
#define LISTEN_BACKLOG	65535	/* capped by somaxconn; at most 1 connection waits */
#define LINGER_S	5	/* the last close() waits at most this long for CLOSE */
#define GRACE_S		10	/* past -d, how long a worker may take to finish a round */
#define RETRY_MS	1	/* pause after EADDRNOTAVAIL, while TIME_WAIT ports free up */

enum close_kind { CLOSE_FIN, CLOSE_SFIN, CLOSE_RST };

struct config {
	unsigned long count;
	unsigned long duration_s;
	unsigned long threads;
	unsigned long hold;
	unsigned long hold_ms;
	unsigned long port;
	int family;
	enum close_kind close_kind;
	bool json;
};

/* Shared by all workers; only stop is ever written after the threads start. */
struct run {
	const struct config *cfg;
	struct timespec deadline;
	atomic_bool stop;
};

struct worker {
	struct run *run;
	pthread_t thread;
	int listener;
	struct sockaddr_storage addr;	/* where the listener listens */
	socklen_t addrlen;
	unsigned long quota;		/* connections to make */
	unsigned long hold;		/* this worker's share of -H */
	unsigned long completed;
	unsigned long retries;		/* connect() failures with EADDRNOTAVAIL */
	const char *failed;		/* the call that failed, NULL if none */
	int err;
};

struct pair {
	int client;
	int server;
};

/* Set by SIGINT/SIGTERM: workers finish the connection in hand, then stop. */
static volatile sig_atomic_t interrupted;

static const char *const close_names[] = { "fin", "sfin", "rst" };

static int parse_ulong(char opt, const char *arg, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	unsigned long val;
	char *end;

	errno = 0;
	/* strtoul() would accept " 5", "+5" and "-1" (as ULONG_MAX) */
	if (arg[0] < '0' || arg[0] > '9')
		goto bad;
	val = strtoul(arg, &end, 10);
	if (errno || *end || val < min || val > max)
		goto bad;
	*out = val;
	return 0;
bad:
	fprintf(stderr, "loadgen: -%c '%s': expected an integer from %lu to %lu\n", opt, arg, min,
		max);
	return -1;
}

static int parse_close_kind(const char *arg, enum close_kind *out)
{
	unsigned int i;

	for (i = 0; i < sizeof(close_names) / sizeof(close_names[0]); i++)
		if (!strcmp(arg, close_names[i])) {
			*out = i;
			return 0;
		}
	fprintf(stderr, "loadgen: -c '%s': expected fin, sfin or rst\n", arg);
	return -1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: loadgen -n COUNT [-d SECONDS] [-t THREADS] [-6] [-c fin|sfin|rst]\n"
		"               [-H N [-w MS]] [-p PORT] [-j]\n"
		"Open and close COUNT TCP connections on loopback, print the rate and the\n"
		"TCP state transitions the kernel emitted for them.\n"
		"  -n COUNT    connections to make (1..1000000000)\n"
		"  -d SECONDS  stop starting connections after this long (default 10)\n"
		"  -t THREADS  worker threads, each with its own listener (default 1)\n"
		"  -6          IPv6 (::1) instead of IPv4 (127.0.0.1)\n"
		"  -c KIND     fin: client closes first; sfin: server closes first (default);\n"
		"              rst: client aborts with RST\n"
		"  -H N        hold N connections open at once, then close them all; repeat\n"
		"  -w MS       with -H: how long to hold them (default 0)\n"
		"  -p PORT     first listener port (PORT..PORT+THREADS-1; default ephemeral)\n"
		"  -j          JSON output\n"
		"EXAMPLES:\n"
		"  ip netns exec lg loadgen -n 200000 -t 2        # churn rate\n"
		"  ip netns exec lg loadgen -n 50 -c rst -6 -j    # small exact-count run\n"
		"  ip netns exec lg loadgen -n 20000 -H 5000 -w 1000\n");
}

/* 0: run; 1: help was asked for; -1: bad input, already reported */
static int parse_args(int argc, char **argv, struct config *cfg)
{
	unsigned long max_port;
	bool have_count = false;
	int opt;

	*cfg = (struct config){ .duration_s = 10, .threads = 1, .family = AF_INET,
				.close_kind = CLOSE_SFIN };
	opterr = 0;
	while ((opt = getopt(argc, argv, ":n:d:t:6c:H:w:p:jh")) != -1) {
		int err = 0;

		switch (opt) {
		case 'n':
			err = parse_ulong('n', optarg, 1, 1000000000, &cfg->count);
			have_count = true;
			break;
		case 'd':
			err = parse_ulong('d', optarg, 1, 86400, &cfg->duration_s);
			break;
		case 't':
			err = parse_ulong('t', optarg, 1, MAX_THREADS, &cfg->threads);
			break;
		case '6':
			cfg->family = AF_INET6;
			break;
		case 'c':
			err = parse_close_kind(optarg, &cfg->close_kind);
			break;
		case 'H':
			err = parse_ulong('H', optarg, 1, 1000000, &cfg->hold);
			break;
		case 'w':
			err = parse_ulong('w', optarg, 0, 3600000, &cfg->hold_ms);
			break;
		case 'p':
			err = parse_ulong('p', optarg, 0, 65535, &cfg->port);
			break;
		case 'j':
			cfg->json = true;
			break;
		case 'h':
			return 1;
		case ':':
			fprintf(stderr, "loadgen: -%c needs a value\n", optopt);
			return -1;
		default:
			fprintf(stderr, "loadgen: unknown option -%c (try -h)\n", optopt);
			return -1;
		}
		if (err)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "loadgen: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!have_count) {
		fprintf(stderr, "loadgen: -n COUNT is required\n");
		return -1;
	}
	if (cfg->hold_ms && !cfg->hold) {
		fprintf(stderr, "loadgen: -w needs -H\n");
		return -1;
	}
	if (cfg->hold && cfg->hold < cfg->threads) {
		fprintf(stderr, "loadgen: -H %lu: must be at least -t (%lu)\n", cfg->hold,
			cfg->threads);
		return -1;
	}
	max_port = 65536 - cfg->threads;
	if (cfg->port && cfg->port > max_port) {
		fprintf(stderr, "loadgen: -p %lu: with -t %lu it must be at most %lu\n", cfg->port,
			cfg->threads, max_port);
		return -1;
	}
	return 0;
}

static struct timespec clock_in_ms(clockid_t clock, unsigned long ms)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	ts.tv_sec += ms / 1000 + (ts.tv_nsec + (ms % 1000) * 1000000) / 1000000000;
	ts.tv_nsec = (ts.tv_nsec + (ms % 1000) * 1000000) % 1000000000;
	return ts;
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static bool should_stop(struct run *run)
{
	struct timespec now = clock_in_ms(CLOCK_MONOTONIC, 0);

	return interrupted || atomic_load_explicit(&run->stop, memory_order_relaxed) ||
	       !ts_before(&now, &run->deadline);
}

static int fail(struct worker *w, const char *call)
{
	w->failed = call;
	w->err = errno;
	atomic_store(&w->run->stop, true);
	return -1;
}

static int set_linger(int fd, int seconds)
{
	struct linger lg = { .l_onoff = 1, .l_linger = seconds };

	return setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

/* 0: both ends open; 1: stopped (deadline) with nothing open; -1: failed */
static int pair_open(struct worker *w, struct pair *p)
{
	enum close_kind kind = w->run->cfg->close_kind;

	for (;;) {
		p->client = socket(w->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (p->client < 0)
			return fail(w, "socket");
		/* rst: abort on close; sfin: the client closes last, so it lingers */
		if (kind != CLOSE_FIN && set_linger(p->client, kind == CLOSE_RST ? 0 : LINGER_S))
			return fail(w, "setsockopt(SO_LINGER)");
		if (!connect(p->client, (struct sockaddr *)&w->addr, w->addrlen))
			break;
		if (errno != EADDRNOTAVAIL)
			return fail(w, "connect");
		/* ports in TIME_WAIT: counted (it emitted 2 transitions), retried after a pause */
		close(p->client);
		w->retries++;
		if (should_stop(w->run))
			return 1;
		nanosleep(&(struct timespec){ .tv_nsec = RETRY_MS * 1000000 }, NULL);
	}
	/* our own connection is the only one that can be in this listener's queue */
	p->server = accept4(w->listener, NULL, NULL, SOCK_CLOEXEC);
	if (p->server < 0)
		return fail(w, "accept");
	return 0;
}

static int pair_close_first(struct worker *w, struct pair *p)
{
	if (close(w->run->cfg->close_kind == CLOSE_SFIN ? p->server : p->client))
		return fail(w, "close (first end)");
	return 0;
}

/*
 * Wait until the kernel has processed the peer's FIN or RST, so the state this end closes
 * from is always the same, then close it.
 */
static int pair_close_second(struct worker *w, struct pair *p)
{
	enum close_kind kind = w->run->cfg->close_kind;
	int fd = kind == CLOSE_SFIN ? p->client : p->server;
	char byte;
	ssize_t n;

	n = read(fd, &byte, 1);
	if (kind == CLOSE_RST ? n != -1 || errno != ECONNRESET : n != 0) {
		if (n >= 0)
			errno = n ? EPROTO : ENOTCONN;
		return fail(w, kind == CLOSE_RST ? "read (expected ECONNRESET)" :
						    "read (expected EOF)");
	}
	if (close(fd))
		return fail(w, "close (second end)");
	return 0;
}

static void churn(struct worker *w)
{
	struct pair p;

	while (w->completed < w->quota && !should_stop(w->run)) {
		if (pair_open(w, &p) || pair_close_first(w, &p) || pair_close_second(w, &p))
			return;
		w->completed++;
	}
}

static void hold_for(struct run *run, unsigned long ms)
{
	struct timespec until = clock_in_ms(CLOCK_MONOTONIC, ms);

	if (ts_before(&run->deadline, &until))
		until = run->deadline;
	/* absolute time: a signal may cut the sleep, never stretch it */
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR &&
	       !interrupted)
		;
}

/* Rounds of: open w->hold pairs, hold them, close them all (each pair as in churn()). */
static void hold_rounds(struct worker *w)
{
	struct pair *pairs = calloc(w->hold, sizeof(*pairs));
	unsigned long i, want, opened;
	int err = 0;

	if (!pairs) {
		fail(w, "calloc");
		return;
	}
	while (w->completed < w->quota && !should_stop(w->run)) {
		want = w->quota - w->completed < w->hold ? w->quota - w->completed : w->hold;
		/* a deadline mid-round cuts the round short; what is open still closes cleanly */
		for (opened = 0; !err && opened < want && !should_stop(w->run); opened++)
			err = pair_open(w, &pairs[opened]);
		if (err) {
			opened--;
			if (err < 0)
				goto out;
		}
		hold_for(w->run, w->run->cfg->hold_ms);
		for (i = 0; i < opened; i++)
			if (pair_close_first(w, &pairs[i]))
				goto out;
		for (i = 0; i < opened; i++)
			if (pair_close_second(w, &pairs[i]))
				goto out;
		w->completed += opened;
		if (err)
			break;
	}
out:
	free(pairs);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (w->hold)
		hold_rounds(w);
	else
		churn(w);
	return NULL;
}

static int open_listener(const struct config *cfg, unsigned long port, struct worker *w)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&w->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&w->addr;
	int one = 1, fd;

	memset(&w->addr, 0, sizeof(w->addr));
	if (cfg->family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(port);
		w->addrlen = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(port);
		w->addrlen = sizeof(*sin);
	}
	fd = socket(cfg->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* fin: the server closes last; children inherit the linger, saving a syscall each */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (cfg->close_kind == CLOSE_FIN && set_linger(fd, LINGER_S)) ||
	    bind(fd, (struct sockaddr *)&w->addr, w->addrlen) || listen(fd, LISTEN_BACKLOG) ||
	    getsockname(fd, (struct sockaddr *)&w->addr, &w->addrlen)) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	w->listener = fd;
	return 0;
}

/* Sockets held at once, plus slack for stdio and the listeners. */
static int ensure_fd_limit(const struct config *cfg)
{
	rlim_t need = 2 * (cfg->hold ? cfg->hold : cfg->threads) + cfg->threads + 16;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_max < need) {
		fprintf(stderr, "loadgen: needs %llu open files, the hard limit is %llu\n",
			(unsigned long long)need, (unsigned long long)rl.rlim_max);
		return -1;
	}
	if (rl.rlim_cur >= need)
		return 0;
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		perror("loadgen: setrlimit");
		return -1;
	}
	return 0;
}

/*
 * Workers never block for long, unless the kernel drops a loopback packet: then interrupt
 * the blocked call (SIGUSR1 has no SA_RESTART, it returns EINTR and the worker fails).
 * limit is in CLOCK_REALTIME, which is what pthread_timedjoin_np() takes.
 */
static void join_workers(struct worker *workers, unsigned long n, const struct timespec *limit)
{
	unsigned long i, kicks;
	struct timespec soon;

	for (i = 0; i < n; i++) {
		if (!pthread_timedjoin_np(workers[i].thread, NULL, limit))
			continue;
		atomic_store(&workers[i].run->stop, true);
		for (kicks = 0; kicks < 50; kicks++) {
			pthread_kill(workers[i].thread, SIGUSR1);
			soon = clock_in_ms(CLOCK_REALTIME, 100);
			if (!pthread_timedjoin_np(workers[i].thread, NULL, &soon))
				break;
		}
		if (kicks == 50) {
			fprintf(stderr, "loadgen: worker %lu is stuck, giving up\n", i);
			_exit(1);
		}
	}
}

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void on_kick(int sig)
{
	(void)sig;
}

static int install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_interrupt, .sa_flags = SA_RESTART };

	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -1;
	sa.sa_handler = on_kick;
	sa.sa_flags = 0;
	return sigaction(SIGUSR1, &sa, NULL);
}

/* --- the expected transitions ------------------------------------------------------- */

enum side { SIDE_CLIENT, SIDE_SERVER, SIDE_LISTENER, SIDE_ANY, NR_SIDES };

static const char *const side_names[NR_SIDES] = { "client", "server", "listener", "by_pair" };

struct transition {
	const char *from;
	const char *to;
};

/* Each list ends with { NULL, NULL }. Verified against the kernel: see the comment at the top. */
static const struct transition active_close[] = { { "ESTABLISHED", "FIN_WAIT1" },
	{ "FIN_WAIT1", "FIN_WAIT2" }, { "FIN_WAIT2", "TIME_WAIT" }, { NULL, NULL } };
static const struct transition passive_close[] = { { "ESTABLISHED", "CLOSE_WAIT" },
	{ "CLOSE_WAIT", "LAST_ACK" }, { "LAST_ACK", "CLOSE" }, { NULL, NULL } };
static const struct transition reset_close[] = { { "ESTABLISHED", "CLOSE" }, { NULL, NULL } };
static const struct transition client_open[] = { { "CLOSE", "SYN_SENT" },
	{ "SYN_SENT", "ESTABLISHED" }, { NULL, NULL } };
/* the child is a clone of the listener, so its first transition starts from LISTEN */
static const struct transition server_open[] = { { "LISTEN", "SYN_RECV" },
	{ "SYN_RECV", "ESTABLISHED" }, { NULL, NULL } };
/* connect() moves to SYN_SENT before it looks for a port, and back when there is none */
static const struct transition connect_retry[] = { { "CLOSE", "SYN_SENT" },
	{ "SYN_SENT", "CLOSE" }, { NULL, NULL } };
static const struct transition listener_life[] = { { "CLOSE", "LISTEN" },
	{ "LISTEN", "CLOSE" }, { NULL, NULL } };

#define MAX_ROWS 16

struct row {
	const char *from;
	const char *to;
	unsigned long long count;
};

struct table {
	struct row rows[NR_SIDES][MAX_ROWS];
	int nr_rows[NR_SIDES];
	unsigned long long total;
};

static void table_add_one(struct table *t, enum side side, const struct transition *tr,
			  unsigned long long count)
{
	struct row *rows = t->rows[side];
	int i;

	for (i = 0; i < t->nr_rows[side]; i++)
		if (!strcmp(rows[i].from, tr->from) && !strcmp(rows[i].to, tr->to))
			break;
	if (i == t->nr_rows[side]) {
		/* the tables above hold fewer than MAX_ROWS distinct pairs */
		rows[i] = (struct row){ tr->from, tr->to, 0 };
		t->nr_rows[side]++;
	}
	rows[i].count += count;
}

static void table_add(struct table *t, enum side side, const struct transition *trs,
		      unsigned long long count)
{
	if (!count)
		return;
	for (; trs->from; trs++) {
		table_add_one(t, side, trs, count);
		table_add_one(t, SIDE_ANY, trs, count);
		t->total += count;
	}
}

static void expected_table(const struct config *cfg, unsigned long long conns,
			   unsigned long long retries, struct table *t)
{
	const struct transition *client_close, *server_close;

	memset(t, 0, sizeof(*t));
	switch (cfg->close_kind) {
	case CLOSE_FIN:
		client_close = active_close;
		server_close = passive_close;
		break;
	case CLOSE_SFIN:
		client_close = passive_close;
		server_close = active_close;
		break;
	default:
		client_close = reset_close;
		server_close = reset_close;
		break;
	}
	table_add(t, SIDE_LISTENER, listener_life, cfg->threads);
	table_add(t, SIDE_CLIENT, client_open, conns);
	table_add(t, SIDE_CLIENT, connect_retry, retries);
	table_add(t, SIDE_CLIENT, client_close, conns);
	table_add(t, SIDE_SERVER, server_open, conns);
	table_add(t, SIDE_SERVER, server_close, conns);
}

static const char *const close_orders[] = {
	"client closes first, server reads EOF then closes (lingering)",
	"server closes first, client reads EOF then closes (lingering)",
	"client aborts with SO_LINGER {1,0} (RST), server reads ECONNRESET then closes",
};

static unsigned int addr_port(const struct sockaddr_storage *addr)
{
	if (addr->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
	return ntohs(((const struct sockaddr_in *)addr)->sin_port);
}

static void print_report(const struct config *cfg, const struct worker *workers,
			 unsigned long long conns, unsigned long long retries, double elapsed)
{
	const char *family = cfg->family == AF_INET6 ? "ipv6" : "ipv4";
	double rate = elapsed > 0 ? conns / elapsed : 0;
	struct table t;
	unsigned long i;
	int s, r;

	expected_table(cfg, conns, retries, &t);
	if (!cfg->json) {
		printf("family %s, close %s: %s\nthreads %lu, ports", family,
		       close_names[cfg->close_kind], close_orders[cfg->close_kind], cfg->threads);
		for (i = 0; i < cfg->threads; i++)
			printf(" %u", addr_port(&workers[i].addr));
		if (cfg->hold)
			printf(", holding %lu at once for %lu ms", cfg->hold, cfg->hold_ms);
		printf("\nconnections %llu of %lu in %.3f s: %.0f conn/s, connect retries %llu\n",
		       conns, cfg->count, elapsed, rate, retries);
		printf("expected transitions:\n");
		for (s = 0; s < NR_SIDES; s++)
			for (r = 0; r < t.nr_rows[s]; r++)
				printf("  %-9s %-12s -> %-12s %llu\n", side_names[s],
				       t.rows[s][r].from, t.rows[s][r].to, t.rows[s][r].count);
		printf("  total %llu\n", t.total);
		return;
	}
	/* one stable shape: every list is an array, even with one element */
	printf("{\"family\":\"%s\",\"close\":\"%s\",\"close_order\":\"%s\",\"threads\":%lu,"
	       "\"hold\":%lu,\"hold_ms\":%lu,\"ports\":[",
	       family, close_names[cfg->close_kind], close_orders[cfg->close_kind], cfg->threads,
	       cfg->hold, cfg->hold_ms);
	for (i = 0; i < cfg->threads; i++)
		printf("%s%u", i ? "," : "", addr_port(&workers[i].addr));
	printf("],\"requested\":%lu,\"connections\":%llu,\"connect_retries\":%llu,"
	       "\"elapsed_s\":%.6f,\"conn_per_s\":%.1f,\"expected\":{",
	       cfg->count, conns, retries, elapsed, rate);
	for (s = 0; s < NR_SIDES; s++) {
		printf("%s\"%s\":[", s ? "," : "", side_names[s]);
		for (r = 0; r < t.nr_rows[s]; r++)
			printf("%s{\"from\":\"%s\",\"to\":\"%s\",\"count\":%llu}", r ? "," : "",
			       t.rows[s][r].from, t.rows[s][r].to, t.rows[s][r].count);
		printf("]");
	}
	printf(",\"total\":%llu}}\n", t.total);
}

int main(int argc, char **argv)
{
	unsigned long long conns = 0, retries = 0;
	struct worker *workers;
	struct timespec start, end, join_limit;
	struct config cfg;
	struct run run;
	unsigned long i, started;
	int ret = 0;

	ret = parse_args(argc, argv, &cfg);
	if (ret) {
		if (ret > 0)
			usage(stdout);
		return ret > 0 ? 0 : 2;
	}
	if (ensure_fd_limit(&cfg))
		return 1;
	workers = calloc(cfg.threads, sizeof(*workers));
	if (!workers || install_signals()) {
		perror("loadgen: setup");
		return 1;
	}
	run.cfg = &cfg;
	atomic_init(&run.stop, false);
	for (i = 0; i < cfg.threads; i++) {
		workers[i].run = &run;
		workers[i].quota = cfg.count / cfg.threads + (i < cfg.count % cfg.threads);
		workers[i].hold = cfg.hold / cfg.threads + (i < cfg.hold % cfg.threads);
		if (open_listener(&cfg, cfg.port ? cfg.port + i : 0, &workers[i])) {
			fprintf(stderr, "loadgen: listener on port %lu: %s\n",
				cfg.port ? cfg.port + i : 0, strerror(errno));
			return 1;	/* exit closes the listeners opened so far */
		}
	}
	start = clock_in_ms(CLOCK_MONOTONIC, 0);
	run.deadline = clock_in_ms(CLOCK_MONOTONIC, cfg.duration_s * 1000);
	join_limit = clock_in_ms(CLOCK_REALTIME, (cfg.duration_s + GRACE_S) * 1000);
	for (started = 0; started < cfg.threads; started++) {
		errno = pthread_create(&workers[started].thread, NULL, worker_main,
				       &workers[started]);
		if (errno) {
			perror("loadgen: pthread_create");
			atomic_store(&run.stop, true);
			ret = 1;
			break;
		}
	}
	join_workers(workers, started, &join_limit);
	end = clock_in_ms(CLOCK_MONOTONIC, 0);
	for (i = 0; i < cfg.threads; i++) {
		close(workers[i].listener);
		conns += workers[i].completed;
		retries += workers[i].retries;
		if (workers[i].failed) {
			fprintf(stderr, "loadgen: worker %lu: %s: %s\n", i, workers[i].failed,
				strerror(workers[i].err));
			ret = 1;
		}
	}
	if (ret)
		fprintf(stderr, "loadgen: a connection was left half-done, no exact counts\n");
	else
		print_report(&cfg, workers, conns, retries,
			     (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9);
	free(workers);
	return ret;
}
