#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""bench/run.sh's phases 1-3, summarized: summary.py ROWS RAWDIR N ROUNDS STATS_ROUNDS KINDS"""
import json, statistics as st, sys, os
rows_f, raw, n, rounds, srounds, kinds = sys.argv[1:]
rows = [json.loads(l) for l in open(rows_f)]
med = st.median
names = {"A": "no tracer", "B": "tcpstatehist -f json -N NS 1",
         "C": "tcpstates >/dev/null", "D": "empty tp_btf program",
         "E": "tcpstatehist --no-audit (E)", "P": "tcpstatehist --by port (P)",
         "G": "tcpstatehist --by cgroup (G)", "T": "trace >/dev/null (T)",
         "M": "trace --min-duration 1s (M)"}
print("N=%s connections per round, -t 2, ROUNDS=%s (rate, stats off), STATS_ROUNDS=%s (ns/run)"
      % (n, rounds, srounds))
for kind in kinds.split():
    R = [r for r in rows if r["kind"] == kind]
    cfgs = [c for c in "ABEPGCDTM" if any(r["cfg"] == c and r["phase"] == "rate" for r in R)]
    rate = {c: [r["conn_per_s"] for r in R if r["phase"] == "rate" and r["cfg"] == c] for c in cfgs}
    # Each round's rate over the same round's A: the rounds run back to back, so this
    # cancels some of the machine's drift that a ratio of medians keeps.
    pair = {c: [x / a for x, a in zip(rate[c], rate["A"])] for c in cfgs}
    base = med(rate["A"])
    print()
    print("close: %s" % kind)
    print("%-30s %9s %6s %18s %10s %22s %8s %9s" % ("config", "conn/s", "ratio", "ns/transition",
          "cpu s", "counted/expected", "missed", "map mem"))
    for c in cfgs:
        rs = [r for r in R if r["phase"] == "rate" and r["cfg"] == c]
        ss = [r for r in R if r["phase"] == "stats" and r["cfg"] == c]
        ns = "-"
        if ss:
            # a transition runs every program once: cost = the sum of each program's
            # run_time_ns / run_cnt over all stats rounds
            per = {}
            for r in ss:
                for k, v in r["progs"].items():
                    a = per.setdefault(k, [0, 0])
                    a[0] += v["ns"]
                    a[1] += v["runs"]
            each = [a[0] / max(a[1], 1) for a in per.values()]
            ns = "%.1f" % sum(each)
            ns += " (" + "+".join("%.1f" % x for x in each) + ")" if len(each) > 1 else ""
        cpu = "%.2f/%.2f" % (med([r["cpu_s"] for r in rs]), med([r["cpu_total_s"] for r in rs])) \
            if c != "A" else "-"
        cnt = miss = "-"
        if c in "BEPG":
            cnt = "%d/%d" % (sum(r["counted"] for r in rs), sum(r["expected"] for r in rs))
            miss = "%d" % sum(r["missed"] for r in rs)
        if c in "CTM":
            lost = sum(r["lost"] for r in rs)
            cnt = "lost %d/%d" % (lost, sum(r["expected"] for r in rs))
        mem = "%d KiB" % (max(r["memlock"] for r in rs) // 1024) if c in "BCEPGTM" else "-"
        print("%-30s %9.0f %6.3f %18s %10s %22s %8s %9s" % (names[c], med(rate[c]),
              med(rate[c]) / base, ns, cpu, cnt, miss, mem))
    print("  rates per round: " + "; ".join("%s %s" % (c, " ".join("%.0f" % x for x in rate[c]))
                                           for c in cfgs))
    print("  ratio to A within each round, median (rounds): " + "; ".join(
        "%s %.3f (%s)" % (c, med(pair[c]), " ".join("%.3f" % x for x in pair[c]))
        for c in cfgs if c != "A"))
    for c, ref in (("T", "C"), ("M", "B")):
        if c in rate and ref in rate:
            within = [x / y for x, y in zip(rate[c], rate[ref])]
            print("  %s over %s within each round, median (rounds): %.3f (%s)" % (
                c, ref, med(within), " ".join("%.3f" % x for x in within)))
    for r in R:
        if r["phase"] == "stats":
            print("  stats round %d %s: " % (r["round"], r["cfg"]) + ", ".join(
                "%s %d runs %.1f ns/run %d recursion_misses" % (k, v["runs"], v["ns"] / max(v["runs"], 1),
                v["recursion_misses"]) for k, v in r["progs"].items()))
        if r["phase"] == "count":
            print("  tcpstates with output counted: %d of %d expected lines (%.2f%%), %d lost"
                  " reported, %.0f conn/s" % (r["lines"], r["expected"], 100.0 * r["lines"] / r["expected"],
                  r["lost"], r["conn_per_s"]))
a = [int(x) for x in open(os.path.join(raw, "attach_ms"))]
s = [int(x) for x in open(os.path.join(raw, "snapshot_us"))]
t = [l.split(",") for l in open(os.path.join(raw, "snapshot_perf")) if "task-clock" in l]
print()
print("tcpstatehist start to attached (2 links in fdinfo, 2 ms polling): median %d ms, min %d, max %d"
      % (med(a), min(a), max(a)))
print("one interval read, `snapshot --pin-path P -f json` whole process: median %.1f ms wall"
      " (min %.1f, max %.1f); CPU (perf stat task-clock, mean of 20) %s ms"
      % (med(s) / 1000, min(s) / 1000, max(s) / 1000, t[0][0] if t else "?"))
