#!/usr/bin/env python3
"""Socket and process churn for sockwarden's churn test, inside a test network namespace.

Run as: ip netns exec NS python3 churn.py --port PORT --seconds MAX --log FILE [--clients N]
        [--rate R] [--forks-per-s F]

- Two servers (127.0.0.1:PORT and [::1]:PORT) accept every connection and close it at once.
- N client processes connect and close R times a second in all (as many as the machine allows
  when it cannot keep up), alternating IPv4 and IPv6; most close with a reset (SO_LINGER 0),
  every 128th gracefully (FIN, TIME-WAIT on one side).
- A forker forks F children a second (at most 64 alive). Each child opens its OWN sockets after
  the fork (the forker holds none): a TCP listener and a UDP socket on port
  BASE + pid % SPAN (a child whose port is taken exits at once), half of them also a connection
  to their own listener (connected and accepted ends); it lives 2 to 300 ms, then exits.
  So every socket on a port in [BASE, BASE + SPAN) is held by the process the port names.
  Each child appends `PID PORT INODE:FD` to the --log file for every socket it creates.

Prints `CHURN READY <json>` (pids, the port formula) when everything runs, then stops when its
stdin closes or after MAX seconds, whichever is first, waits for its workers and prints
`CHURN DONE <json>`: connections made, seconds, children forked and bound. Workers die with the
main process (PDEATHSIG); children live at most 300 ms.
"""
import argparse
import ctypes
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time

BASE, SPAN = 10000, 20000
ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--seconds", type=float, required=True)
ap.add_argument("--clients", type=int, default=2)
ap.add_argument("--rate", type=float, default=5000.0)
ap.add_argument("--forks-per-s", type=float, default=150.0)
ap.add_argument("--log", required=True)
args = ap.parse_args()
libc = ctypes.CDLL(None, use_errno=True)
LINGER0 = struct.pack("ii", 1, 0)


class Stop(Exception):
    pass


def on_term(*_):
    raise Stop()


def worker(fn, results):
    """Forks a worker that runs fn() until SIGTERM, then writes its stats as one JSON line."""
    pid = os.fork()
    if pid:
        return pid
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    stats = {}
    signal.signal(signal.SIGTERM, on_term)
    try:
        fn(stats)
    except Stop:
        pass
    except BaseException as e:  # noqa: BLE001 - any failure goes into the report
        stats["error"] = repr(e)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if "finish" in stats:
        stats.pop("finish")(stats)
    os.write(results, (json.dumps(stats) + "\n").encode())
    os._exit(0)


def server(family, addr, ready):
    def run(stats):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, args.port))
        s.listen(4096)
        os.write(ready, b"r")
        stats["accepted"] = 0
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                continue
            c.close()
            stats["accepted"] += 1
    return run


def client(n):
    def run(stats):
        stats["connections"] = 0
        stats["failed"] = 0
        targets = [(socket.AF_INET, ("127.0.0.1", args.port)),
                   (socket.AF_INET6, ("::1", args.port))]
        i = n
        period = 25 * args.clients / args.rate  # seconds per batch of 25 connections
        nxt = time.monotonic()
        while True:
            if i % 25 == 0:
                nxt += period
                delay = nxt - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -1:
                    nxt = time.monotonic()  # far behind (a busy machine): no burst to catch up
            fam, dst = targets[i % 2]
            i += 1
            c = socket.socket(fam, socket.SOCK_STREAM)
            try:
                c.connect(dst)
                stats["connections"] += 1
                if i % 128:
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
            except OSError:
                stats["failed"] += 1
            c.close()
    return run


def child():
    """A forked child: its own sockets on the port its pid names, a short life, exit."""
    os.closerange(3, 1024)  # the forker's pipes: the child holds nothing it did not open
    pid = os.getpid()
    port = BASE + pid % SPAN
    log = os.open(args.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    keep = []

    def own(s):
        """Logs a new socket before it is bound (one O_APPEND write): PID PORT INODE:FD."""
        keep.append(s)
        os.write(log, f"{pid} {port} {os.fstat(s.fileno()).st_ino}:{s.fileno()}\n".encode())
        return s

    rng = random.Random(pid ^ int(time.monotonic_ns()))
    v6 = pid % 2 == 1
    fam, lo, any_ = ((socket.AF_INET6, "::1", "::") if v6 else
                     (socket.AF_INET, "127.0.0.1", "0.0.0.0"))
    try:
        t = own(socket.socket(fam, socket.SOCK_STREAM))
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((lo, port))
        t.listen(8)
        own(socket.socket(fam, socket.SOCK_DGRAM)).bind((any_, port))
        if rng.random() < 0.5:
            own(socket.socket(fam, socket.SOCK_STREAM)).connect((lo, port))
            own(t.accept()[0])
    except OSError:
        os._exit(3)  # the port is taken (another child, or a TIME-WAIT): just exit
    # 2 to 300 ms, log-uniform: many very short lives, some long enough to be seen often.
    time.sleep(0.002 * 150 ** rng.random())
    os._exit(0)


def forker(stats):
    stats.update(forked=0, bound=0, port_taken=0, child_failed=0)
    alive = set()

    def reap(block):
        while alive:
            try:
                pid, st = os.waitpid(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                alive.clear()
                return
            if pid == 0:
                return
            alive.discard(pid)
            code = os.waitstatus_to_exitcode(st)
            key = {0: "bound", 3: "port_taken"}.get(code, "child_failed")
            stats[key] += 1

    def finish(stats):
        reap(True)
    stats["finish"] = finish
    period = 1.0 / args.forks_per_s
    nxt = time.monotonic()
    while True:
        reap(False)
        if len(alive) < 64:
            pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                try:
                    child()
                finally:
                    os._exit(4)
            alive.add(pid)
            stats["forked"] += 1
        nxt += period
        delay = nxt - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            nxt = time.monotonic()


def main():
    deadline = time.monotonic() + args.seconds
    ready_r, ready_w = os.pipe()
    res_r, res_w = os.pipe()
    pids = {}
    # Workers are forked before this process has any socket, so none inherits one.
    pids["server4"] = worker(server(socket.AF_INET, "127.0.0.1", ready_w), res_w)
    pids["server6"] = worker(server(socket.AF_INET6, "::1", ready_w), res_w)
    assert os.read(ready_r, 1) == b"r" and os.read(ready_r, 1) == b"r"
    os.close(ready_w)
    os.close(ready_r)
    start = time.monotonic()
    for n in range(args.clients):
        pids[f"client{n}"] = worker(client(n), res_w)
    pids["forker"] = worker(forker, res_w)
    os.close(res_w)
    print("CHURN READY " + json.dumps({"pid": os.getpid(), "pids": pids, "base": BASE,
                                      "span": SPAN, "port": args.port}), flush=True)
    while time.monotonic() < deadline:
        r, _, _ = select.select([sys.stdin], [], [], max(0.0, deadline - time.monotonic()))
        if r and not sys.stdin.buffer.read1(4096):
            break  # stdin closed: the test is done
    elapsed = time.monotonic() - start
    for pid in pids.values():
        os.kill(pid, signal.SIGTERM)
    for pid in pids.values():
        os.waitpid(pid, 0)
    workers = []
    with os.fdopen(res_r) as f:
        for line in f:
            workers.append(json.loads(line))
    total = {"seconds": elapsed, "workers": workers}
    for key in ("connections", "failed", "accepted", "forked", "bound", "port_taken",
                "child_failed"):
        total[key] = sum(w.get(key, 0) for w in workers)
    total["errors"] = [w["error"] for w in workers if "error" in w]
    total["rate"] = total["connections"] / elapsed
    print("CHURN DONE " + json.dumps(total), flush=True)


main()
