#!/usr/bin/env python3
"""Creates real sockets of every kind for sockwarden's live tests, inside a network namespace.

Run as: ip netns exec NS python3 lab.py WORKDIR [--pairs N]
Prints one line `LAB READY <json>` with the ground truth (kind, inode, pid, fd, addresses, exe),
then holds every socket until it receives SIGTERM. Children it forks die with it (PDEATHSIG).
Addresses: loopback, and 192.0.2.1/24 + 2001:db8::1/64 that the test put on veth0 in the
namespace, with permanent neighbours 192.0.2.99 / 2001:db8::99 that never answer (SYN-SENT).
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

WORK = sys.argv[1]
PAIRS = int(sys.argv[sys.argv.index("--pairs") + 1]) if "--pairs" in sys.argv else 0
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
truth = []
keep = []  # sockets that must stay open


def ino(sock):
    return os.fstat(sock.fileno()).st_ino


def rec(kind, sock=None, pid=None, fd=None, inode=None, local=None, remote=None, **extra):
    if sock is not None:
        inode = ino(sock)
        fd = sock.fileno()
        try:
            local = local or sock.getsockname()
        except OSError:
            pass
        keep.append(sock)
    entry = {"kind": kind, "inode": inode, "pid": pid or os.getpid(), "fd": fd}
    if local is not None:
        entry["local"] = list(local[:2]) if isinstance(local, tuple) else local
    if remote is not None:
        entry["remote"] = list(remote[:2]) if isinstance(remote, tuple) else remote
    entry.update(extra)
    truth.append(entry)
    return entry


def listener(family, addr, v6only=None):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    s.bind(addr)
    s.listen(64)
    return s


def pair(lst, family, dest):
    c = socket.socket(family, socket.SOCK_STREAM)
    c.connect(dest)
    a, _ = lst.accept()
    return c, a


def spawn_holder(sock, exe, argv):
    """Fork a child that keeps `sock` open across exec of `exe` (a path or an fd path)."""
    sock.set_inheritable(True)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.close(r)
        os.write(w, b"x")
        os.close(w)
        os.execv(exe, argv)
    os.close(w)
    os.read(r, 1)
    os.close(r)
    return pid


def main():
    # --- TCP listeners: IPv4, IPv6-only, dual-stack
    l4 = listener(socket.AF_INET, ("127.0.0.1", 21001))
    rec("tcp-listen-v4", l4)
    l6 = listener(socket.AF_INET6, ("::", 21002), v6only=True)
    rec("tcp-listen-v6only", l6)
    ld = listener(socket.AF_INET6, ("::", 21003), v6only=False)
    rec("tcp-listen-dual", ld)
    # --- established IPv4, IPv6, and v4-mapped (an IPv4 client of the dual-stack listener)
    c, a = pair(l4, socket.AF_INET, ("127.0.0.1", 21001))
    rec("tcp-estab-v4-client", c, remote=c.getpeername())
    rec("tcp-estab-v4-server", a, remote=a.getpeername())
    l6b = listener(socket.AF_INET6, ("::1", 21004))
    rec("tcp-listen-v6-loopback", l6b)
    c6, a6 = pair(l6b, socket.AF_INET6, ("::1", 21004))
    rec("tcp-estab-v6-client", c6, remote=c6.getpeername())
    rec("tcp-estab-v6-server", a6, remote=a6.getpeername())
    cm, am = pair(ld, socket.AF_INET, ("127.0.0.1", 21003))
    rec("tcp-estab-mapped-client", cm, remote=cm.getpeername())
    rec("tcp-estab-mapped-server", am, remote=am.getpeername())
    # --- SYN-SENT towards neighbours that never answer
    for fam, dst, kind in [(socket.AF_INET, ("192.0.2.99", 80), "tcp-synsent-v4"),
                           (socket.AF_INET6, ("2001:db8::99", 443), "tcp-synsent-v6")]:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(dst)
        except BlockingIOError:
            pass
        rec(kind, s, remote=dst)
    # --- TIME-WAIT: the side that closes first keeps it; no inode, no owner
    lt = listener(socket.AF_INET, ("127.0.0.1", 21005))
    rec("tcp-listen-v4", lt)
    ct, at = pair(lt, socket.AF_INET, ("127.0.0.1", 21005))
    tw_local = ct.getsockname()
    ct.close()
    time.sleep(0.05)
    at.close()
    rec("tcp-timewait", inode=0, pid=0, fd=None, local=tw_local, remote=("127.0.0.1", 21005))
    # --- UDP
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", 21010))
    rec("udp-v4", u)
    u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u6.bind(("::1", 21011))
    rec("udp-v6", u6)
    uc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uc.bind(("127.0.0.1", 21012))
    uc.connect(("127.0.0.1", 21010))
    rec("udp-connected", uc, remote=("127.0.0.1", 21010))
    # --- raw
    r4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    rec("raw-v4-icmp", r4, local=("0.0.0.0", 1))
    r6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    rec("raw-v6-icmp", r6, local=("::", 58))
    # --- unix: named stream listener (+ a client), abstract dgram, unnamed socketpair
    path = os.path.join(WORK, "lab.sock")
    ul = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ul.bind(path)
    ul.listen(8)
    rec("unix-listen-path", ul, local=path)
    ucl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ucl.connect(path)
    rec("unix-client", ucl, local="")
    uacc, _ = ul.accept()
    rec("unix-accepted", uacc, local=path)
    ua = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ua.bind(b"\0sockwarden-lab-abstract")
    rec("unix-abstract", ua, local="@sockwarden-lab-abstract")
    sp1, sp2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    rec("unix-pair", sp1, local="")
    rec("unix-pair", sp2, local="")
    sq = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sq.bind(b"\0sockwarden-lab-seqpacket")
    sq.listen(1)
    rec("unix-seqpacket-listen", sq, local="@sockwarden-lab-seqpacket")
    # --- packet sockets, with and without a classic BPF filter (BPFDoor-like program)
    p1 = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    rec("packet-plain", p1, local=None, ethertype=3)
    p2 = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    prog = [(0x28, 0, 0, 12), (0x15, 0, 3, 2048), (0x30, 0, 0, 23), (0x15, 0, 1, 17),
            (0x06, 0, 0, 262144), (0x06, 0, 0, 0)]
    buf = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in prog))
    fprog = struct.pack("HL", len(prog), ctypes.addressof(buf))
    p2.setsockopt(socket.SOL_SOCKET, 26, fprog)  # SO_ATTACH_FILTER
    p2.bind(("veth0", 0x0800))
    rec("packet-bpf", p2, local=None, ethertype=0x0800, bpf=[list(i) for i in prog])
    # --- one socket shared by two processes (fork)
    ls = listener(socket.AF_INET, ("127.0.0.1", 21020))
    child = os.fork()
    if child == 0:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        signal.pause()
        os._exit(0)
    rec("tcp-listen-shared", ls, shared_with=child)
    # --- a listener held by a process whose executable was deleted
    exe_copy = os.path.join(WORK, "evil-sleep")
    shutil.copy("/bin/sleep", exe_copy)
    ld_ = listener(socket.AF_INET, ("127.0.0.1", 21030))
    pid = spawn_holder(ld_, exe_copy, ["evil-sleep", "infinity"])
    time.sleep(0.1)
    os.unlink(exe_copy)
    rec("tcp-listen-deleted-exe", inode=ino(ld_), pid=pid, fd=ld_.fileno(),
        local=ld_.getsockname(), exe=exe_copy, exe_deleted=True)
    ld_.close()
    # --- a listener held by a process running from a memfd (fileless)
    mfd = os.memfd_create("lab-payload", 0)
    with open("/bin/sleep", "rb") as f:
        os.write(mfd, f.read())
    lm = listener(socket.AF_INET, ("127.0.0.1", 21031))
    pid = spawn_holder(lm, f"/proc/self/fd/{mfd}", ["lab-payload", "infinity"])
    rec("tcp-listen-memfd-exe", inode=ino(lm), pid=pid, fd=lm.fileno(),
        local=lm.getsockname(), exe="/memfd:lab-payload", exe_memfd=True)
    lm.close()
    os.close(mfd)
    # --- bulk: N more TCP pairs, UDP sockets and unix pairs, for the differential test
    if PAIRS:
        bl = listener(socket.AF_INET, ("127.0.0.1", 22000))
        bl6 = listener(socket.AF_INET6, ("::1", 22001))
        for i in range(PAIRS):
            c, a = pair(bl, socket.AF_INET, ("127.0.0.1", 22000))
            keep.extend([c, a])
            c, a = pair(bl6, socket.AF_INET6, ("::1", 22001))
            keep.extend([c, a])
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(("127.0.0.1", 23000 + i))
            keep.append(u)
            keep.extend(socket.socketpair())
        keep.extend([bl, bl6])
    print("LAB READY " + json.dumps(truth), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


main()
