#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Deterministic TCP connections on loopback for the kernel tests.

Each connection runs in lock step, so the transitions it emits are exact:
connect, accept, then the client closes (FIN, or RST with -c rst); the server
waits until it has seen that close, then closes too. With FIN, the client
first shuts down its side and waits until its FIN is acknowledged
(FIN_WAIT2): otherwise the server's FIN could ride on the same segment as that
acknowledgement, and the kernel would take another path. With -c half-fin or
half-rst, the client only shuts down its side (FIN_WAIT2, not orphaned) and
the server closes first, with a FIN (the client's FIN_WAIT2 ends in its
timewait socket's TIME_WAIT) or a RST (the client's FIN_WAIT2 ends in CLOSE).
The script returns only once every socket it made has reached CLOSE.

  traffic.py [-6] [-n N] [-c fin|rst|half-fin|half-rst] [-p PORT] [-b CLIENT_PORT] [--hold S]
             [--open-before FIFO]

--hold S: keep each connection ESTABLISHED for S seconds before closing.
--open-before FIFO: open one connection, write "ready" to FIFO, wait for a
line on stdin, then close it (a socket that exists before the tool attaches).
"""
import argparse
import socket
import struct
import sys
import time

TCP_FIN_WAIT2 = 5
TCP_CLOSE = 7


def wait_closed(port, family):
    """Until no socket on PORT is in a state other than TIME_WAIT (bounded)."""
    for _ in range(200):
        busy = False
        for path in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(path) as f:
                for line in f.readlines()[1:]:
                    cols = line.split()
                    lport = int(cols[1].split(":")[1], 16)
                    rport = int(cols[2].split(":")[1], 16)
                    state = int(cols[3], 16)
                    if port in (lport, rport) and state != 6:  # 6: TIME_WAIT
                        busy = True
        if not busy:
            return
        time.sleep(0.01)
    sys.exit("traffic.py: sockets on port %d did not close" % port)


def tcp_state(sock):
    return struct.unpack("B", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1))[0]


def wait_state(sock, state, what):
    for _ in range(1000):
        if tcp_state(sock) == state:
            return
        time.sleep(0.001)
    sys.exit("traffic.py: " + what)


def close_client_fin(client):
    client.shutdown(socket.SHUT_WR)
    wait_state(client, TCP_FIN_WAIT2, "the client's FIN was not acknowledged")
    client.close()


def server_closes_first(client, server, reset):
    """The client half-closes; the server reads EOF and closes with a FIN or a RST."""
    client.shutdown(socket.SHUT_WR)
    wait_state(client, TCP_FIN_WAIT2, "the client's FIN was not acknowledged")
    server.recv(1)
    if reset:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
    server.close()
    wait_state(client, TCP_CLOSE, "the client did not see the server's close")
    client.close()


def one_connection(listener, family, addr, args):
    client = socket.socket(family, socket.SOCK_STREAM)
    if args.bind_port:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        client.bind((addr, args.bind_port))
    client.connect(listener.getsockname()[:2])
    server, _ = listener.accept()
    if args.hold:
        time.sleep(args.hold)
    if args.close in ("half-fin", "half-rst"):
        server_closes_first(client, server, args.close == "half-rst")
        return
    if args.close == "rst":
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        client.close()
    else:
        close_client_fin(client)
    try:
        server.recv(1)  # EOF, or ECONNRESET after a RST
    except ConnectionResetError:
        pass
    server.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("-6", dest="v6", action="store_true")
    p.add_argument("-n", type=int, default=1)
    p.add_argument("-c", dest="close", choices=("fin", "rst", "half-fin", "half-rst"),
                   default="fin")
    p.add_argument("-p", dest="port", type=int, default=0)
    p.add_argument("-b", dest="bind_port", type=int, default=0)
    p.add_argument("--hold", type=float, default=0)
    p.add_argument("--open-before")
    args = p.parse_args()

    family = socket.AF_INET6 if args.v6 else socket.AF_INET
    addr = "::1" if args.v6 else "127.0.0.1"
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((addr, args.port))
    listener.listen(128)
    port = listener.getsockname()[1]

    if args.open_before:
        client = socket.create_connection((addr, port))
        server, _ = listener.accept()
        with open(args.open_before, "w") as f:
            f.write("ready\n")
        sys.stdin.readline()
        close_client_fin(client)
        server.recv(1)
        server.close()
    for _ in range(args.n):
        one_connection(listener, family, addr, args)
    listener.close()
    wait_closed(port, family)


main()
