#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""bench/run.sh's scale phase, summarized: scale_report.py RAWDIR SCALE_N PORT SCALE_PER"""
import json
import os
import sys

raw, n, port, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
nproc = (n + per - 1) // per


def kv(f):
    return {l.split()[0]: int(l.split()[1]) for l in open(os.path.join(raw, f)) if l.strip()}




def loadgens(c):
    """The loadgen processes of one run, summed."""
    tot = {"connections": 0, "conn_per_s": 0.0, "expected": {"total": 0}, "hold_ms": 0,
           "by_pair": {}}
    for i in range(nproc):
        g = json.load(open(os.path.join(raw, "scale-%s.lg.%d" % (c, i))))
        tot["connections"] += g["connections"]
        tot["conn_per_s"] += g["conn_per_s"]
        tot["expected"]["total"] += g["expected"]["total"]
        tot["hold_ms"] = g["hold_ms"]
        for p in g["expected"]["by_pair"]:
            k = (p["from"], p["to"])
            tot["by_pair"][k] = tot["by_pair"].get(k, 0) + p["count"]
    return tot


lg = {c: loadgens(c) for c in "ABC"}
print("scale: %d loadgen processes (-n M -H M -w %d -t 1 -c sfin, M <= %d) together, %d"
      " connections held at once, then closed" % (nproc, lg["A"]["hold_ms"], per, n))
for c, name in (("A", "no tracer"), ("B", "tcpstatehist"), ("C", "tcpstates")):
    m0, m1 = kv("scale-%s.mem0" % c), kv("scale-%s.mem1" % c)
    print("  %-13s peak TCP sockets in use %d (%d connections, %.0f conn/s); at the peak vs"
          " before: Slab %+d kB, kmalloc slabs %+d kB, Percpu %+d kB"
          % (name, m1["inuse"], lg[c]["connections"], lg[c]["conn_per_s"],
             m1["slab_kb"] - m0["slab_kb"], m1["kmalloc_kb"] - m0["kmalloc_kb"],
             m1["percpu_kb"] - m0["percpu_kb"]))

exp = lg["B"]["expected"]["total"]
tot = missed = 0
est = {}
got = {}
for l in open(os.path.join(raw, "scale-B.out")):
    o = json.loads(l)
    tot += o["total"]
    missed += o["missed"]
    for t in o["transitions"]:
        k = (t["old_state"], t["new_state"])
        got[k] = got.get(k, 0) + t["count"]
        if t["old_state"] == "ESTABLISHED":
            e = est.setdefault(t["new_state"], [0, 0])
            e[0] += t["count"]
            e[1] += t["unknown"]
print("  tcpstatehist: counted %d of %d expected, missed %d; ESTABLISHED->*: %s"
      % (tot, exp, missed, ", ".join("%s %d (unknown %d)" % (k, v[0], v[1])
                                     for k, v in sorted(est.items()))))
for k in sorted(set(got) | set(lg["B"]["by_pair"])):
    if got.get(k, 0) != lg["B"]["by_pair"].get(k, 0):
        print("    %s->%s: counted %d, expected %d" % (k[0], k[1], got.get(k, 0),
                                                     lg["B"]["by_pair"].get(k, 0)))
maps = []
for chunk in open(os.path.join(raw, "scale-B.maps")).read().split("\n"):
    if chunk.strip():
        j = json.loads(chunk)
        maps.append("%s (%s) %d B" % (j.get("name", "?"), j.get("type", "?"),
                                      j.get("bytes_memlock", 0)))
print("  tcpstatehist maps at the peak, bytes_memlock: " + ", ".join(maps))

# tcpstates: SKADDR PID COMM LADDR LPORT RADDR RPORT OLD -> NEW MS; MS 0 = no start time
zero = known = lines = 0
ports = range(port, port + nproc)
for l in open(os.path.join(raw, "scale-C.out")):
    f = l.split()
    if len(f) < 11 or not f[4].isdigit() or not f[6].isdigit():
        continue
    if int(f[4]) not in ports and int(f[6]) not in ports:
        continue
    lines += 1
    if f[7] == "ESTABLISHED":
        if float(f[10]) == 0.0:
            zero += 1
        else:
            known += 1
print("  tcpstates: %d lines of %d expected; ESTABLISHED->* lines: %d with a duration, %d with 0"
      " (no start time)" % (lines, lg["C"]["expected"]["total"], known, zero))
