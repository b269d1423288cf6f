#!/usr/bin/env python3
"""Connections for the `list -K` and `list -E` tests (tests/it/ss_parity.rs).

Run as: ip netns exec NS python3 sskill.py
Listens on 127.0.0.1:7001 and 127.0.0.1:7002, connects one client to each, and prints
`KILL READY <client port 1> <client port 2>`. Then reads commands on stdin:
  check  answers `ABORTED` when client 1's connection was aborted (ECONNABORTED on recv) and
         client 2's still works, else a line saying what it saw
  close  closes client 2 and its peer (a destroyed connection for -E) and answers `CLOSED`
Only loopback is used.
"""
import errno
import socket
import sys

keep = []
pairs = []
for port in (7001, 7002):
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", port))
    lst.listen(4)
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(("127.0.0.1", port))
    a, _ = lst.accept()
    keep.append(lst)
    pairs.append((c, a))
ports = [c.getsockname()[1] for c, _ in pairs]
print("KILL READY", *ports, flush=True)


def state(c):
    c.settimeout(2)
    try:
        data = c.recv(1)
        return "eof" if data == b"" else "data"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    except socket.timeout:
        return "open"


for line in sys.stdin:
    cmd = line.strip()
    if cmd == "check":
        first = state(pairs[0][0])
        pairs[1][1].sendall(b"x")
        second = state(pairs[1][0])
        ok = first == "ECONNABORTED" and second == "data"
        print("ABORTED" if ok else f"client 1: {first}, client 2: {second}", flush=True)
    elif cmd == "close":
        for s in pairs[1]:
            s.close()
        print("CLOSED", flush=True)
