#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Reads tcpstatehist JSON Lines on stdin with a real JSON parser, checks the
schema of every object, and answers one query:

  validate                 exit 0 when every line is a well-formed summary
  lines                    number of summaries
  count OLD NEW            sum of "count" of the pair over all summaries
  unknown OLD NEW          sum of "unknown" of the pair
  known OLD NEW            sum of the pair's bucket counts
  missed                   sum of "missed"
  total                    sum of all counts
  bucket OLD NEW LE_US     sum of the pair's bucket with that upper bound
  pairs                    "OLD NEW count" per pair, summed, sorted
  table                    "OLD NEW count unknown" per pair, summed, sorted
  accounts "OLD NEW N"...  the truth is exactly these pairs and counts: exit 0
                           when the counts equal it and missed is 0, or when
                           every count is <= its truth and the shortfall is
                           covered by missed (the kernel skipped events)
"""
import json
import sys

TOP_KEYS = {"time", "interval_s", "since", "total", "missed", "labels", "by", "transitions"}
PAIR_KEYS = {"old_state", "new_state", "count", "unknown", "sum_ns", "p50_us", "p90_us",
             "p99_us", "max_us", "buckets"}


def fail(msg):
    print("jsonq: " + msg, file=sys.stderr)
    sys.exit(1)


def check_summary(obj):
    if not isinstance(obj, dict) or set(obj) != TOP_KEYS:
        fail("bad top-level keys: %r" % (sorted(obj) if isinstance(obj, dict) else obj))
    if not isinstance(obj["transitions"], list):
        fail("transitions is not an array")
    total = 0
    # With --by, each transition also names its key (a netns also its name).
    key_fields = set()
    if obj["by"] is not None:
        key_fields = {obj["by"]} | ({"netns_name"} if obj["by"] == "netns" else set())
    for t in obj["transitions"]:
        if set(t) != PAIR_KEYS | key_fields:
            fail("bad transition keys: %r" % sorted(t))
        if not isinstance(t["buckets"], list):
            fail("buckets is not an array")
        known = sum(b["count"] for b in t["buckets"])
        if known + t["unknown"] != t["count"]:
            fail("%s->%s: known %d + unknown %d != count %d" %
                 (t["old_state"], t["new_state"], known, t["unknown"], t["count"]))
        total += t["count"]
    if total != obj["total"]:
        fail("total %d != sum of counts %d" % (obj["total"], total))


def main():
    args = sys.argv[1:]
    if not args:
        fail("usage: jsonq.py QUERY [ARGS]")
    summaries = []
    for n, line in enumerate(sys.stdin, 1):
        try:
            obj = json.loads(line)
        except ValueError as e:
            fail("line %d is not JSON: %s" % (n, e))
        check_summary(obj)
        summaries.append(obj)
    q = args[0]
    pairs = [t for s in summaries for t in s["transitions"]]

    def of(old, new):
        return [t for t in pairs if t["old_state"] == old and t["new_state"] == new]

    if q == "validate":
        if not summaries:
            fail("no summaries")
        return
    if q == "lines":
        print(len(summaries))
    elif q in ("count", "unknown"):
        print(sum(t[q] for t in of(args[1], args[2])))
    elif q == "known":
        print(sum(b["count"] for t in of(args[1], args[2]) for b in t["buckets"]))
    elif q == "missed":
        print(sum(s["missed"] for s in summaries))
    elif q == "total":
        print(sum(s["total"] for s in summaries))
    elif q == "bucket":
        le = None if args[3] == "inf" else int(args[3])
        print(sum(b["count"] for t in of(args[1], args[2]) for b in t["buckets"]
                  if b["le_us"] == le))
    elif q == "pairs":
        sums = {}
        for t in pairs:
            key = (t["old_state"], t["new_state"])
            sums[key] = sums.get(key, 0) + t["count"]
        for (old, new), c in sorted(sums.items()):
            print(old, new, c)
    elif q == "table":
        sums = {}
        for t in pairs:
            key = (t["old_state"], t["new_state"])
            count, unknown = sums.get(key, (0, 0))
            sums[key] = (count + t["count"], unknown + t["unknown"])
        for (old, new), (c, u) in sorted(sums.items()):
            print(old, new, c, u)
    elif q == "accounts":
        truth = {}
        for spec in args[1:]:
            old, new, n = spec.split()
            truth[(old, new)] = int(n)
        counted = {}
        for t in pairs:
            key = (t["old_state"], t["new_state"])
            counted[key] = counted.get(key, 0) + t["count"]
        missed = sum(s["missed"] for s in summaries)
        extra = {k: v for k, v in counted.items() if k not in truth}
        over = {k: (counted.get(k, 0), v) for k, v in truth.items() if counted.get(k, 0) > v}
        short = sum(v - counted.get(k, 0) for k, v in truth.items() if counted.get(k, 0) < v)
        if extra or over:
            fail("counted more than the truth: extra %r, over %r" % (extra, over))
        if short > missed:
            fail("%d transitions short, only %d missed: %r" % (short, missed, counted))
        print("exact" if short == 0 else "short %d, within missed %d" % (short, missed))
    else:
        fail("unknown query " + q)


main()
