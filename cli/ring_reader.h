/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A BPF ring buffer read through its own mapping, one batch at a time: the
 * records that were complete when the batch began, then one store of the
 * consumer position for the whole batch (the programs read that position at
 * every reservation), and a wait that only a forced wakeup, a stop signal or
 * the timeout ends (docs/design.md, "Trace").
 */
#ifndef TSH_RING_READER_H
#define TSH_RING_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct ring_reader {
	unsigned long *consumer_pos;	   /* ours: a page, read-write */
	const unsigned long *producer_pos; /* the programs': a page, then the data twice */
	const __u8 *data;
	size_t mask;	     /* the data's size - 1 */
	size_t producer_len; /* of the read-only mapping */
	int epoll_fd;
};

/* Called for each record in order: 0 to go on, or a negative errno that ends the batch. */
typedef int (*ring_record_fn)(void *ctx, const void *data, size_t size);

/*
 * Maps the ring (map_fd, size bytes of data) and makes an epoll set of it
 * (edge-triggered: records submitted without a wakeup do not end a wait)
 * and of stop_fd. 0, or a negative errno with err filled in.
 */
int ring_reader_open(struct ring_reader *r, int map_fd, size_t size, int stop_fd, char *err,
		     size_t errlen);
/* Ends when the ring wakes us, stop_fd is readable, or after timeout_ms: 0 or a negative errno. */
int ring_reader_wait(const struct ring_reader *r, int timeout_ms);
/* The records complete now, each given to fn: 0, or fn's or the ring's error. */
int ring_reader_drain(struct ring_reader *r, ring_record_fn fn, void *ctx);
/* Whether every record submitted has been drained (none is still being written). */
bool ring_reader_empty(const struct ring_reader *r);
void ring_reader_close(struct ring_reader *r);

#endif /* TSH_RING_READER_H */
