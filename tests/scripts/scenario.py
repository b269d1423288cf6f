#!/usr/bin/env python3
"""Attack and benign scenarios for sockwarden's scan tests, inside a test network namespace.

Run as: ip netns exec NS python3 scenario.py WORKDIR MODE
Prints `SCENARIO READY <json>` (pids and inodes of interest), then holds until SIGTERM; children
die with it (PDEATHSIG). Modes: tmp-listener, revshell, c2, redis, bpf, benign.
The test adds the addresses a mode needs (203.0.113.10, 198.51.100.10) before starting it.
"""
import ctypes
import json
import os
import shutil
import signal
import socket
import struct
import sys
import time

WORK, MODE = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
keep = []
info = {"pid": os.getpid()}


def child_exec(exe, argv, fds=(), stdio=None):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        os.close(r)
        if stdio is not None:
            for n in (0, 1, 2):
                os.dup2(stdio, n)
        for fd in fds:
            os.set_inheritable(fd, True)
        os.write(w, b"x")
        os.close(w)
        os.execv(exe, argv)
    os.close(w)
    os.read(r, 1)
    os.close(r)
    return pid


def listen(addr, family=socket.AF_INET, port=None):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr)
    s.listen(16)
    keep.append(s)
    return s


if MODE == "tmp-listener":
    exe = os.path.join(WORK, "kworkerd")
    shutil.copy("/bin/sleep", exe)
    s = listen(("0.0.0.0", 8081))
    info["holder"] = child_exec(exe, ["kworkerd", "infinity"], fds=[s.fileno()])
    info["inode"] = os.fstat(s.fileno()).st_ino
    s.close()
    keep.remove(s)
elif MODE == "revshell":
    srv = listen(("192.0.2.1", 4445))
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(("192.0.2.1", 4445))
    a, _ = srv.accept()
    keep.append(a)
    info["holder"] = child_exec("/bin/sh", ["sh", "-c", "while read l; do :; done"], stdio=c.fileno())
    info["inode"] = os.fstat(c.fileno()).st_ino
    c.close()
elif MODE == "c2":
    srv = listen(("203.0.113.10", 4444))
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.bind(("192.0.2.1", 0))
    c.connect(("203.0.113.10", 4444))
    a, _ = srv.accept()
    keep.extend([c, a])
    info["inode"] = os.fstat(c.fileno()).st_ino
elif MODE == "redis":
    s = listen(("0.0.0.0", 6379))
    info["inode"] = os.fstat(s.fileno()).st_ino
elif MODE == "bpf":
    p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    prog = [(0x28, 0, 0, 12), (0x15, 0, 3, 2048), (0x30, 0, 0, 23), (0x15, 0, 1, 17),
            (0x06, 0, 0, 262144), (0x06, 0, 0, 0)]
    buf = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in prog))
    p.setsockopt(socket.SOL_SOCKET, 26, struct.pack("HL", len(prog), ctypes.addressof(buf)))
    keep.append(p)
    info["inode"] = os.fstat(p.fileno()).st_ino
elif MODE == "benign":
    listen(("127.0.0.1", 8080))
    listen(("::1", 8443), socket.AF_INET6)
    srv = listen(("198.51.100.10", 8443))
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(("198.51.100.10", 8443))
    a, _ = srv.accept()
    keep.extend([c, a])
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 5353))
    keep.append(u)
else:
    sys.exit(f"unknown mode {MODE}")

print("SCENARIO READY " + json.dumps(info), flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    signal.pause()
