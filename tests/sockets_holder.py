# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Holds TCP sockets in known states for tests/kernel/test_sockets.sh, in steps.

Run inside the test's network namespace with a work directory and 1 (make
the SYN_SENT socket) or 0: each step
waits for a file the test creates, then writes its own. Steps:
  before  three listeners (7000, 8000, 9000) and one connection on 7000,
          made before the attach: their ages are unknown           -> before
  old     (after "attached") 20 clients of 8000 close(); the server never
          closes: 20 CLOSE_WAIT children, 20 orphaned clients in FIN_WAIT2
          (each has its FIN acknowledged before the step is done);
          one client whose SYN goes nowhere: SYN_SENT; 3 clients of 9000,
          whose listener defers the accept until data comes: 3 request
          sockets in SYN_RECV, 3 clients ESTABLISHED                -> old
  fresh   (after "go") 5 more clients close the same way           -> fresh
Then it holds everything until "stop": up to 10 minutes, for the rest of the test
runs under software emulation too (each step before waits 30 s at most).
"""
import os
import socket
import sys
import time

work = sys.argv[1]
syn_sent = sys.argv[2] == "1"  # a veth drops SYNs to 10.99.0.1


def wait_for(name, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(os.path.join(work, name)):
            return
        time.sleep(0.05)
    sys.exit("holder: no %s" % name)


def done(name):
    with open(os.path.join(work, name), "w") as f:
        f.write("done\n")


def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(128)
    return s


def deferred_listener(port):
    s = listener(port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 120)
    return s


def closed_by_clients(srv, n, keep):
    """n connections whose client closes; the server sees the FIN (CLOSE_WAIT)."""
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", 8000))
        s, _ = srv.accept()
        c.close()
        if s.recv(1) != b"":
            sys.exit("holder: no FIN")
        keep.append(s)
    fin_wait2()


def fin_wait2():
    """Wait until no client is in FIN_WAIT1: the server may delay its ACK of
    the FIN, and a client enters FIN_WAIT2 (its timewait socket) only then,
    so a step is done when every orphaned client's FIN_WAIT2 has begun."""
    for _ in range(400):
        with open("/proc/net/tcp") as f:  # this namespace's; "04" = FIN_WAIT1
            if not any(line.split()[3] == "04" for line in f.readlines()[1:]):
                return
        time.sleep(0.005)
    sys.exit("holder: a client stays in FIN_WAIT1")


keep = []
l7000, l8000, l9000 = listener(7000), listener(8000), deferred_listener(9000)
c0 = socket.create_connection(("127.0.0.1", 7000))
s0, _ = l7000.accept()
done("before")
wait_for("attached")
closed_by_clients(l8000, 20, keep)
if syn_sent:
    syn = socket.socket()
    syn.setblocking(False)
    try:
        syn.connect(("10.99.0.1", 9))
    except BlockingIOError:
        pass
keep += [socket.create_connection(("127.0.0.1", 9000)) for _ in range(3)]
done("old")
wait_for("go")
closed_by_clients(l8000, 5, keep)
done("fresh")
wait_for("stop", 600)
