// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A BPF ring buffer's consumer, on the kernel's documented layout: the
 * consumer position in the first page (ours to write), the producer position
 * in the next, then the data, mapped twice in a row so that a record that
 * wraps around reads as one piece. Each record starts with an 8-byte header:
 * its length, and the busy bit while the program still writes it.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <linux/bpf.h>
#include "ring_reader.h"
#include "util.h"

static int watch(int epoll_fd, int fd, __u32 events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int ring_reader_open(struct ring_reader *r, int map_fd, size_t size, int stop_fd, char *err,
		     size_t errlen)
{
	size_t page = sysconf(_SC_PAGESIZE);
	void *cons, *prod;
	int ret;

	*r = (struct ring_reader){ .epoll_fd = -1 };
	cons = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (cons == MAP_FAILED)
		return set_err(err, errlen, -errno, "cannot map the ring buffer: %s",
			       strerror(errno));
	r->consumer_pos = cons;
	r->producer_len = page + 2 * size;
	prod = mmap(NULL, r->producer_len, PROT_READ, MAP_SHARED, map_fd, page);
	if (prod == MAP_FAILED) {
		ret = set_err(err, errlen, -errno, "cannot map the ring buffer: %s",
			      strerror(errno));
		ring_reader_close(r);
		return ret;
	}
	r->producer_pos = prod;
	r->data = (const __u8 *)prod + page;
	r->mask = size - 1;
	r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	ret = r->epoll_fd < 0 ? -errno : 0;
	if (!ret)
		ret = watch(r->epoll_fd, map_fd, EPOLLIN | EPOLLET);
	if (!ret)
		ret = watch(r->epoll_fd, stop_fd, EPOLLIN);
	if (ret) {
		set_err(err, errlen, ret, "cannot wait for the ring buffer: %s", strerror(-ret));
		ring_reader_close(r);
	}
	return ret;
}

int ring_reader_wait(const struct ring_reader *r, int timeout_ms)
{
	struct epoll_event events[2];

	if (epoll_wait(r->epoll_fd, events, 2, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

int ring_reader_drain(struct ring_reader *r, ring_record_fn fn, void *ctx)
{
	unsigned long cons = *r->consumer_pos;
	unsigned long prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
	int ret = 0;

	while (!ret && cons < prod) {
		const __u32 *hdr = (const __u32 *)(r->data + (cons & r->mask));
		__u32 len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);

		if (len & BPF_RINGBUF_BUSY_BIT)
			break; /* still being written: the next batch takes it */
		if (!(len & BPF_RINGBUF_DISCARD_BIT))
			ret = fn(ctx, (const __u8 *)hdr + BPF_RINGBUF_HDR_SZ,
				 len & ~BPF_RINGBUF_DISCARD_BIT);
		len &= ~BPF_RINGBUF_DISCARD_BIT;
		cons += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
	}
	/* The programs reuse the space once this store is seen. */
	__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
	return ret;
}

bool ring_reader_empty(const struct ring_reader *r)
{
	return *r->consumer_pos == __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
}

void ring_reader_close(struct ring_reader *r)
{
	size_t page = sysconf(_SC_PAGESIZE);

	if (r->epoll_fd >= 0)
		close(r->epoll_fd);
	if (r->producer_pos)
		munmap((void *)r->producer_pos, r->producer_len);
	if (r->consumer_pos)
		munmap(r->consumer_pos, page);
	*r = (struct ring_reader){ .epoll_fd = -1 };
}
