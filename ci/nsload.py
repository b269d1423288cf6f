#!/usr/bin/env python3
"""Holds COUNT TCP sockets (COUNT/2 loopback pairs, plus a listener) in each network namespace
named on the command line (/run/netns/NAME), from one process, via setns(2); prints READY and
waits for SIGTERM. For ci/bench-netns.sh.

usage: nsload.py COUNT NAME...
"""
import ctypes
import os
import resource
import signal
import socket
import sys

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
count, names = int(sys.argv[1]), sys.argv[2:]
need = count * len(names) + len(names) * 2 + 64
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), max(hard, need)))
keep = []
for name in names:
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        sys.exit(f"setns {name}: errno {ctypes.get_errno()}")
    os.close(fd)
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1024)
    keep.append(lst)
    for _ in range(count // 2):
        c = socket.create_connection(lst.getsockname())
        a, _ = lst.accept()
        keep.extend([c, a])
print("READY", flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.pause()
