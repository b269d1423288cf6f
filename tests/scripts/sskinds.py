#!/usr/bin/env python3
"""Every socket kind `ss` lists, for the ss parity test (tests/it/ss_parity.rs).

Run as: ip netns exec NS python3 sskinds.py WORKDIR
inside a namespace with lo, veth0 (192.0.2.1/24, 2001:db8::1/64, silent neighbours .99/::99),
vdoc0 (198.51.100.1/24) and a route 203.0.113.0/24 via 192.0.2.99 that the test made.
Prints `KINDS READY` once every socket exists, then holds them until killed. Reads lines on
stdin: `tw` makes a new batch of TIME-WAIT sockets and answers `TW READY`.
Only loopback, the namespace's veth/dummy and documentation addresses are used.
"""
import ctypes
import os
import socket
import struct
import sys
import time

WORK = sys.argv[1]
keep = []
SO_MARK = 36
SO_BINDTODEVICE = 25


def k(s):
    keep.append(s)
    return s


def listener(fam, addr, typ=socket.SOCK_STREAM, v6only=None, mark=None, dev=None):
    s = k(socket.socket(fam, typ))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    if mark is not None:
        s.setsockopt(socket.SOL_SOCKET, SO_MARK, mark)
    if dev is not None:
        s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, dev.encode())
    s.bind(addr)
    if typ == socket.SOCK_STREAM:
        s.listen(16)
    return s


def connect(fam, dest, mark=None):
    c = k(socket.socket(fam, socket.SOCK_STREAM))
    if mark is not None:
        c.setsockopt(socket.SOL_SOCKET, SO_MARK, mark)
    c.connect(dest)
    return c


def estab(lst, fam, dest, mark=None):
    c = connect(fam, dest, mark)
    a, _ = lst.accept()
    k(a)
    return c, a


def time_wait():
    """TIME-WAIT on the client side: the client closes first, then the server."""
    for port in (22, 80):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.connect(("127.0.0.1", port))
        a, _ = LST[port].accept()
        c.close()
        time.sleep(0.05)
        a.close()
    c = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    c.connect(("::1", 443))
    a, _ = LST[443].accept()
    c.close()
    time.sleep(0.05)
    a.close()


# TCP listeners: v4, v6 dual stack, v6only, marked, bound to devices.
LST = {
    22: listener(socket.AF_INET, ("0.0.0.0", 22)),
    80: listener(socket.AF_INET, ("127.0.0.1", 80), mark=0x10),
    443: listener(socket.AF_INET6, ("::", 443), v6only=False),
    8080: listener(socket.AF_INET6, ("::1", 8080), v6only=True, mark=0x1234),
    5000: listener(socket.AF_INET, ("192.0.2.1", 5000), dev="veth0"),
    5001: listener(socket.AF_INET6, ("2001:db8::1", 5001), v6only=True),
    6000: listener(socket.AF_INET, ("0.0.0.0", 6000), dev="vdoc0", mark=0x20),
}
# ESTABLISHED, both ends: v4, v6, v4-mapped (v4 client to the dual-stack listener), marked.
estab(LST[22], socket.AF_INET, ("127.0.0.1", 22))
estab(LST[22], socket.AF_INET, ("192.0.2.1", 22), mark=0x11)
estab(LST[80], socket.AF_INET, ("127.0.0.1", 80))
estab(LST[443], socket.AF_INET6, ("::1", 443))
estab(LST[443], socket.AF_INET, ("127.0.0.1", 443))
estab(LST[8080], socket.AF_INET6, ("::1", 8080))
estab(LST[5001], socket.AF_INET6, ("2001:db8::1", 5001))
# FIN-WAIT-2 / CLOSE-WAIT: the client shuts down writing, the server never closes.
c, a = estab(LST[5000], socket.AF_INET, ("192.0.2.1", 5000))
c.shutdown(socket.SHUT_WR)
c, a = estab(LST[443], socket.AF_INET6, ("::1", 443))
c.shutdown(socket.SHUT_WR)
# SYN-SENT: to the silent neighbour and through the route to it.
for dest in [("192.0.2.99", 80), ("203.0.113.7", 443)]:
    s = k(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    s.setblocking(False)
    s.connect_ex(dest)
s = k(socket.socket(socket.AF_INET6, socket.SOCK_STREAM))
s.setblocking(False)
s.connect_ex(("2001:db8::99", 22))

# UDP: bound (v4, v6, dual), connected, marked, bound to a device.
listener(socket.AF_INET, ("0.0.0.0", 53), socket.SOCK_DGRAM)
listener(socket.AF_INET, ("127.0.0.1", 5353), socket.SOCK_DGRAM, mark=0x2A)
listener(socket.AF_INET6, ("::", 123), socket.SOCK_DGRAM, v6only=False)
listener(socket.AF_INET6, ("::1", 161), socket.SOCK_DGRAM, v6only=True)
listener(socket.AF_INET, ("198.51.100.1", 514), socket.SOCK_DGRAM, dev="vdoc0")
for fam, dest in [
    (socket.AF_INET, ("127.0.0.1", 53)),
    (socket.AF_INET, ("192.0.2.99", 8080)),
    (socket.AF_INET6, ("::1", 123)),
    (socket.AF_INET6, ("::ffff:127.0.0.1", 53)),
]:
    u = k(socket.socket(fam, socket.SOCK_DGRAM))
    u.connect(dest)

# Raw: ICMP v4/v6, one bound to a device, one marked.
k(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
k(socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6))
r = k(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP))
r.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, b"veth0")
r = k(socket.socket(socket.AF_INET, socket.SOCK_RAW, 253))
r.setsockopt(socket.SOL_SOCKET, SO_MARK, 7)
r.bind(("127.0.0.1", 0))

# Unix: stream/seqpacket listeners (path and abstract) with a connected pair each, socketpairs,
# datagram sockets bound, autobound and unbound.
for typ, tag in [(socket.SOCK_STREAM, "st"), (socket.SOCK_SEQPACKET, "sq")]:
    path = os.path.join(WORK, f"lab-{tag}.sock")
    lst = listener(socket.AF_UNIX, path, typ)
    lst.listen(4)
    c = k(socket.socket(socket.AF_UNIX, typ))
    c.connect(path)
    k(lst.accept()[0])
    alst = listener(socket.AF_UNIX, f"\0swlab-{tag}", typ)
    alst.listen(4)
    c = k(socket.socket(socket.AF_UNIX, typ))
    c.connect(f"\0swlab-{tag}")
    k(alst.accept()[0])
    a, b = socket.socketpair(socket.AF_UNIX, typ)
    k(a), k(b)
for name in [os.path.join(WORK, "lab-dg.sock"), "\0swlab-dg"]:
    listener(socket.AF_UNIX, name, socket.SOCK_DGRAM)
auto = k(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
auto.bind("")  # autobind: @xxxxx
k(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
d1, d2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
k(d1), k(d2)

# Packet: all protocols unbound, IP on veth0 (raw and dgram). For `-e`/`-b`: the veth0 one
# carries a classic BPF filter that drops everything and is in fanout group 7 (round robin);
# the vdoc0 one has PACKET_AUXDATA and a TPACKET_V2 receive ring.
SOL_PACKET = 263
PACKET_RX_RING, PACKET_AUXDATA, PACKET_VERSION, PACKET_FANOUT = 5, 8, 10, 18
SO_ATTACH_FILTER = 26
k(socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003)))
p = k(socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800)))
p.bind(("veth0", 0x0800))
PROG = [(0x28, 0, 0, 12), (0x15, 0, 1, 0x0800), (0x06, 0, 0, 0), (0x06, 0, 0, 0)]
code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in PROG))
p.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", len(PROG), ctypes.addressof(code)))
p.setsockopt(SOL_PACKET, PACKET_FANOUT, 7 | (1 << 16))
p = k(socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x86DD)))
p.bind(("vdoc0", 0x86DD))
p.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
p.setsockopt(SOL_PACKET, PACKET_VERSION, 1)
p.setsockopt(SOL_PACKET, PACKET_RX_RING, struct.pack("IIII", 4096, 1, 2048, 2))

# Netlink: a route socket bound to groups 1 and 3 and subscribed to 33 (the kernel dumps it
# twice), a uevent socket connected to group 1, a usersock socket on port id 4242, and two
# generic ones: the second gets a negative (autobound) port id.
NETLINK_ADD_MEMBERSHIP = 1
SOL_NETLINK = 270
n = k(socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0))
n.bind((0, 1 | 4))
n.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 33)
n = k(socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15))
n.bind((0, 0))
n.connect((0, 1))
k(socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 2)).bind((4242, 0))
for _ in range(2):
    k(socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)).bind((0, 0))

time_wait()
print("KINDS READY", flush=True)
for line in sys.stdin:
    if line.strip() == "tw":
        time_wait()
        print("TW READY", flush=True)
