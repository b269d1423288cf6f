#!/usr/bin/env python3
"""Sockets for the `-e` cgroup and `-i` BBR comparisons of tests/it/ss_parity.rs.

Run as: nsenter --net=/run/netns/NS python3 ssdetail.py MODE [ARG]
inside a namespace with lo up and veth0 carrying 192.0.2.1/24 (tests/it/common.rs, Netns).
- `cgroup PROCS`: one UDP socket made here, then the process moves itself into the cgroup whose
  cgroup.procs file is PROCS and makes a TCP listener, a connection to it (both ends), a
  v6only listener and a bound UDP socket there (a socket keeps the cgroup it was created in).
- `bbr`: a listener and a connection to it (the namespace's congestion control is bbr), with
  4 MB sent one way and 1 MB the other, then idle.
Prints `READY` once every socket exists, then holds them until killed.
Only loopback and documentation addresses inside the namespace are used.
"""
import socket
import sys
import time

keep = []


def k(s):
    keep.append(s)
    return s


def pair(lst, fam, dest):
    c = k(socket.socket(fam, socket.SOCK_STREAM))
    c.connect(dest)
    a, _ = lst.accept()
    k(a)
    return c, a


def listener(fam, addr, v6only=None):
    s = k(socket.socket(fam, socket.SOCK_STREAM))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    s.bind(addr)
    s.listen(8)
    return s


def udp(addr):
    u = k(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    u.bind(addr)
    return u


def cgroup(procs):
    udp(("192.0.2.1", 7103))
    with open(procs, "w") as f:
        f.write("0\n")  # 0: the writing process itself
    lst = listener(socket.AF_INET, ("127.0.0.1", 7100))
    pair(lst, socket.AF_INET, ("127.0.0.1", 7100))
    listener(socket.AF_INET6, ("::1", 7102), v6only=True)
    udp(("192.0.2.1", 7101))


def transfer(src, dst, n):
    chunk = b"x" * 65536
    sent = 0
    got = 0
    while got < n:
        if sent < n:
            sent += src.send(chunk[: min(len(chunk), n - sent)])
        got += len(dst.recv(1 << 20))


def bbr():
    lst = listener(socket.AF_INET, ("127.0.0.1", 7200))
    c, a = pair(lst, socket.AF_INET, ("127.0.0.1", 7200))
    for s in (c, a):
        s.settimeout(20)
    transfer(c, a, 4 << 20)
    transfer(a, c, 1 << 20)
    # Let the last ACKs arrive: afterwards nothing moves but the last* times.
    time.sleep(0.5)


{"cgroup": lambda: cgroup(sys.argv[2]), "bbr": bbr}[sys.argv[1]]()
print("READY", flush=True)
sys.stdin.read()
