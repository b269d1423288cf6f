#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/corpus/<target>/) from the project's fixtures.

    python3 fuzz/make_seeds.py          # fixtures and synthetic seeds only (deterministic)
    python3 fuzz/make_seeds.py --live   # also replies of this host's kernel (needs root for
                                        # packet sockets; adds one packet socket with a filter)

Netlink dumps (tests/fixtures/ss1.dump, sslab/*.diagdump) are split into messages: the per-message
decoders get payloads (the bytes after the 16-byte netlink header), the framing target gets whole
buffers. BTF seeds are small synthetic blobs built like src/collect/btf/tests.rs does; the real
/sys/kernel/btf/vmlinux (megabytes) is never committed, pass it as an extra corpus instead.
Seeds are named by content hash, so re-running the script never duplicates one.
"""

import glob
import hashlib
import os
import socket
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
FIX = os.path.join(ROOT, "tests", "fixtures")


def put(target, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    h = hashlib.sha1(data).hexdigest()[:16]
    path = os.path.join(d, f"{name}-{h}" if name else h)
    with open(path, "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def messages(buf):
    """(type, payload, whole message) of each netlink message in a buffer."""
    out = []
    at = 0
    while at + 16 <= len(buf):
        length, kind = struct.unpack_from("=IH", buf, at)
        if length < 16 or at + length > len(buf):
            break
        out.append((kind, buf[at + 16 : at + length], buf[at : at + length]))
        at += (length + 3) & ~3
    return out


def nlmsg(kind, payload, seq=1):
    m = struct.pack("=IHHII", 16 + len(payload), kind, 2, seq, 0) + payload
    return m + b"\0" * (-len(m) % 4)


def nla(kind, value):
    a = struct.pack("=HH", 4 + len(value), kind) + value
    return a + b"\0" * (-len(a) % 4)


def spread(items, n):
    """At most n items, evenly spread over the list (so seeds cover the whole dump)."""
    if len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


# --- netlink dumps: inet, netlink ---------------------------------------------------------


def inet_and_netlink():
    dumps = {
        "ss1": read(os.path.join(FIX, "ss1.dump")),
        "tcp": read(os.path.join(FIX, "sslab", "ss_tcp.diagdump")),
        "iem": read(os.path.join(FIX, "sslab", "ss_tcp_iem.diagdump")),
    }
    for name, buf in dumps.items():
        msgs = messages(buf)
        replies = [m for m in msgs if m[0] == 20]
        # Distinct shapes first: payload length and attribute kinds.
        by_shape = {}
        for kind, payload, whole in replies:
            shape = (len(payload), payload[0], payload[1])
            by_shape.setdefault(shape, (payload, whole))
        chosen = list(by_shape.values())
        chosen += [(p, w) for _, p, w in spread(replies, 40)]
        for payload, whole in chosen[:60]:
            put("inet", payload, f"{name}-payload")
        for payload, whole in spread(chosen, 8):
            put("netlink", whole, f"{name}-msg")
        # Attribute values: skmeminfo (kind 1 in inet replies) and tcp_info (kind 2).
        for payload, _ in spread(chosen, 10):
            at = 72
            while at + 4 <= len(payload):
                ln, k = struct.unpack_from("=HH", payload, at)
                if ln < 4:
                    break
                if k == 1:
                    put("netlink", payload[at + 4 : at + ln], "skmeminfo")
                at += (ln + 3) & ~3
        # Whole small buffers and prefixes for the framing and dump decoders.
        put("netlink", buf[:4096], f"{name}-head")
        put("inet", buf[:2048], f"{name}-dumphead")
    put("netlink", dumps["ss1"], "ss1-whole")
    put("inet", dumps["ss1"], "ss1-whole")
    # NLMSG_DONE with an error code, NLMSG_ERROR, a truncated message, a tiny length.
    put("netlink", nlmsg(3, struct.pack("=i", -2)), "done-enoent")
    put("netlink", nlmsg(2, struct.pack("=i", -22) + b"\0" * 16), "error-einval")
    put("netlink", nlmsg(20, b"\0" * 40)[:30], "truncated")
    put("netlink", struct.pack("=IHHII", 4, 20, 0, 0, 0), "short-length")
    put("netlink", b"".join(nlmsg(20, bytes(range(i))) for i in range(0, 24, 5)), "padding")


# --- unix_diag and packet_diag: synthetic (and live with --live) --------------------------


def unix_header(kind, state, ino, cookie=0x11):
    return struct.pack("=BBBBIQ", 1, kind, state, 0, ino, cookie)


def unix_synthetic():
    mem = b"".join(struct.pack("=I", i) for i in range(1, 10))
    p = unix_header(1, 10, 4242)
    p += nla(0, b"\0ab\0cd") + nla(1, struct.pack("=II", 1, 2))
    p += nla(3, struct.pack("=II", 7, 8)) + nla(4, struct.pack("=II", 2, 128))
    p += nla(5, mem) + nla(7, struct.pack("=I", 1000))
    put("unix", p, "listener-abstract")
    put("unix", unix_header(2, 1, 99) + nla(0, b"/run/x\xff.sock\0") + nla(2, struct.pack("=I", 98)), "dgram-path")
    put("unix", unix_header(5, 1, 7) + nla(6, b"\x01") + nla(4, struct.pack("=II", 0, 0)), "seqpacket")
    put("unix", unix_header(1, 1, 5) + nla(5, mem[:28]) + nla(7, b"\1\0"), "short-attrs")
    put("unix", unix_header(3, 7, 1), "bad-type")
    put("unix", unix_header(1, 1, 1)[:10], "truncated")


def packet_synthetic():
    bpf = b"".join(
        struct.pack("=HBBI", c, jt, jf, k)
        for c, jt, jf, k in [(0x28, 0, 0, 12), (0x15, 0, 3, 2048), (0x30, 0, 0, 23), (0x15, 0, 1, 17), (6, 0, 0, 0xFFFF), (6, 0, 0, 0)]
    )
    head = struct.pack("=BBHIQ", 17, 3, 0x0008, 164811, 0x7783)
    info = struct.pack("=IIIIII", 2, 2, 0, 0, 0, 1)
    mem = b"".join(struct.pack("=I", i) for i in range(9))
    put("packet", head + nla(0, info) + nla(5, b"\0\0\0\0") + nla(6, mem) + nla(7, bpf), "raw-bpf")
    put("packet", struct.pack("=BBHIQ", 17, 2, 0x0300, 7, 1) + nla(7, b"") + nla(4, struct.pack("=I", 0x10002)), "dgram-fanout")
    put("packet", head + nla(7, bpf[:13]), "bpf-partial")
    put("packet", head[:12], "truncated")
    put("packet", bpf, "bpf-only")


def diag_dump(body):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4)  # NETLINK_SOCK_DIAG
    s.bind((0, 0))
    s.send(struct.pack("=IHHII", 16 + len(body), 20, 0x301, 1, 0) + body)  # REQUEST|DUMP
    out = []
    while True:
        buf = s.recv(1 << 20)
        for kind, payload, whole in messages(buf):
            if kind in (2, 3):
                s.close()
                return out
            out.append(payload)


def live():
    import ctypes

    # A packet socket with a classic BPF filter, so the packet seeds carry PACKET_DIAG_FILTER.
    keep = []
    try:
        ps = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
        insns = [(0x28, 0, 0, 12), (0x15, 0, 1, 0x0800), (6, 0, 0, 0xFFFF), (6, 0, 0, 0)]
        prog = b"".join(struct.pack("=HBBI", *i) for i in insns)
        buf = ctypes.create_string_buffer(prog)
        fprog = struct.pack("=HxxxxxxQ", len(insns), ctypes.addressof(buf))
        ps.setsockopt(socket.SOL_SOCKET, 26, fprog)  # SO_ATTACH_FILTER
        keep += [ps, buf]
        keep.append(socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, 0))
    except OSError as e:
        print(f"no packet sockets ({e})", file=sys.stderr)
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET):
        a = socket.socket(socket.AF_UNIX, kind)
        a.bind(b"\0sockwarden-fuzz-seed-%d" % kind)
        if kind != socket.SOCK_DGRAM:
            a.listen(4)
        keep.append(a)
    keep += list(socket.socketpair())
    # unix_diag_req: family, protocol, pad, states, ino, show (all but UDIAG_SHOW_VFS's
    # neighbours we do not decode), cookie.
    show = 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x20 | 0x40
    unix = diag_dump(struct.pack("=BBHIII8s", 1, 0, 0, 0xFFFFFFFF, 0, show, b"\xff" * 8))
    for p in spread(unix, 30):
        put("unix", p, "live")
    pkt_body = struct.pack("=BBHII8s", 17, 0, 0, 0, 0x3F, b"\xff" * 8)
    try:
        for p in spread(diag_dump(pkt_body), 10):
            put("packet", p, "live")
    except OSError as e:
        print(f"no packet_diag ({e})", file=sys.stderr)
    # inet: UDP and raw (TCP comes from the recorded dumps). inet_diag_req_v2 with every ext.
    for fam in (socket.AF_INET, socket.AF_INET6):
        for proto in (17, 255):
            body = struct.pack("=BBBBI", fam, proto, 0xFF, 0, 0xFFFFFFFF) + b"\0" * 48
            try:
                for p in spread(diag_dump(body), 5):
                    put("inet", p, f"live-{fam}-{proto}")
            except OSError as e:
                print(f"no inet dump {fam}/{proto} ({e})", file=sys.stderr)
    del keep


# --- /proc/net/raw text ----------------------------------------------------------------------

RAW_HEAD = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
RAW6_HEAD = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"


def procnet():
    put("procnet", RAW_HEAD + "    1: 00000000:0006 00000000:0000 07 00000000:00000342 00:00000000 00000000     0        0 164770 2 0000000000000000 0\n   47: 010200C0:002F 050200C0:0000 01 00000000:00000000 00:00000000 00000000  1000        0 164771 2 0000000000000000 0\ngarbage line\n", "raw4")
    put("procnet", RAW6_HEAD + "   58: 00000000000000000000000000000000:003A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 164772 2 0000000000000000 0\n   58: B80D0120000000000000000001000000:003A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 164773 2 0000000000000000 0\n", "raw6")
    put("procnet", RAW_HEAD + "  255: 0100007F:00FF 0100007F:0000 07 FFFFFFFF:FFFFFFFF 00:00000000 00000000 4294967295 0 18446744073709551615 2 0000000000000000 0\n", "raw4-max")
    put("procnet", RAW_HEAD + "    1: 00000000:0001 00000000:0000 0C 00000000:00000000 00:00000000 00000000 0 0 1 2 0 0\n\n   \n    2: 0000000:0001\n", "raw4-odd")
    put("procnet", RAW6_HEAD + "   58: 0000000000000000FFFF00000100007F:0011 00000000000000000000000000000000:0000 0A 00000001:00000002 00:00000000 00000000 0 0 9 2 0 0\n", "raw6-mapped")
    put("procnet", RAW_HEAD, "header-only")


def procnet_live():
    keep = []
    try:
        for fam in (socket.AF_INET, socket.AF_INET6):
            for proto in (1 if fam == socket.AF_INET else 58, 6, 17, 255):
                keep.append(socket.socket(fam, socket.SOCK_RAW, proto))
    except OSError as e:
        print(f"no raw sockets ({e})", file=sys.stderr)
    for f in ("/proc/net/raw", "/proc/net/raw6"):
        try:
            put("procnet", read(f), "host-" + os.path.basename(f))
        except OSError:
            pass
    del keep


# --- BTF -------------------------------------------------------------------------------------

INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST, FUNC, PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64 = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19,
)


class Blob:
    def __init__(self):
        self.types = b""
        self.strings = b"\0"

    def name(self, n):
        if not n:
            return 0
        at = len(self.strings)
        self.strings += n.encode() + b"\0"
        return at

    def add(self, name, kind, vlen=0, kflag=False, st=0, extra=()):
        info = (int(kflag) << 31) | (kind << 24) | vlen
        self.types += b"".join(struct.pack("=I", w) for w in [self.name(name), info, st, *extra])
        return len(self.types)

    def strukt(self, kind, name, size, members, kflag=False):
        extra = []
        for n, t, off in members:
            extra += [self.name(n), t, off]
        self.add(name, kind, len(members), kflag, size, extra)

    def bytes(self, hdr_len=24):
        h = struct.pack("=HBBI", 0xEB9F, 1, 0, hdr_len)
        h += struct.pack("=IIII", 0, len(self.types), len(self.types), len(self.strings))
        return h + b"\0" * (hdr_len - 24) + self.types + self.strings


def btf_sample():
    """The unit tests' sample (src/collect/btf/tests.rs)."""
    b = Blob()
    b.add("ctx", FWD)
    b.add("int", INT, st=4, extra=[32])
    b.add("", PTR, st=2)
    b.add("u16", TYPEDEF, st=5)
    b.add("unsigned short", INT, st=2, extra=[16])
    b.strukt(UNION, "", 8, [("meta", 3, 0)])
    b.strukt(STRUCT, "ctx", 24, [("", 6, 0), ("fd", 2, 64), ("mode", 4, 128)])
    b.add("bpf_iter_x", FUNC)
    b.add("", ARRAY, extra=[2, 2, 3])
    b.strukt(STRUCT, "arr", 16, [("count", 2, 0), ("numbers", 9, 32)])
    a, z = b.name("A"), b.name("Z")
    b.add("e", ENUM, 2, st=4, extra=[a, 0, z, 1])
    b.add("", CONST, st=3)
    return b


def btf_layout(kflag=False):
    """Every type and member the task-file iterator's layout looks up, kernel-like offsets."""
    b = Blob()
    # 1 int, 2 ptr to void, 3 long long, 4 unsigned short, 5 upid, 6 upid[1], 7 pid, 8 meta,
    # 9 ctx, 10 task_struct, 11 file, 12 inode, 13 func proto, 14 func, 15 ptr to ctx,
    # 16 typedef, 17 volatile int, 18 anon union in file.
    b.add("int", INT, st=4, extra=[32])
    b.add("", PTR, st=0)
    b.add("long long unsigned int", INT, st=8, extra=[64])
    b.add("short unsigned int", INT, st=2, extra=[16])
    b.strukt(STRUCT, "upid", 16, [("nr", 1, 0), ("ns", 2, 64)], kflag)
    b.add("", ARRAY, extra=[5, 1, 1])
    b.strukt(STRUCT, "pid", 96, [("count", 1, 0), ("level", 1, 32), ("numbers", 6, 640)], kflag)
    b.strukt(STRUCT, "bpf_iter_meta", 24, [("seq", 2, 0), ("session_id", 3, 64), ("seq_num", 3, 128)], kflag)
    b.strukt(STRUCT, "bpf_iter__task_file", 32, [("", 18, 0), ("task", 2, 64), ("fd", 1, 128), ("file", 2, 192)], kflag)
    b.strukt(STRUCT, "task_struct", 9000, [("group_leader", 2, 8 * 1320), ("thread_pid", 2, 8 * 1400)], kflag)
    b.strukt(STRUCT, "file", 232, [("", 18, 0), ("f_inode", 2, 8 * 32)], kflag)
    b.strukt(STRUCT, "inode", 600, [("i_mode", 16, 0), ("i_ino", 3, 64)], kflag)
    b.add("", PROTO, 1, st=1, extra=[b.name("ctx"), 15])
    b.add("bpf_iter_task_file", FUNC, st=13)
    b.add("", PTR, st=9)
    b.add("umode_t", TYPEDEF, st=4)
    b.add("", VOLATILE, st=1)
    b.strukt(UNION, "", 8, [("meta", 2, 0)])
    return b


def btf():
    put("btf", btf_sample().bytes(), "sample")
    put("btf", btf_layout().bytes(), "layout")
    put("btf", btf_layout(kflag=True).bytes(), "layout-kflag")
    put("btf", btf_layout().bytes(hdr_len=32), "layout-longhdr")
    # Every other kind once, and a few broken ones.
    b = btf_sample()
    b.add("v", VAR, st=2, extra=[1])
    b.add(".data", DATASEC, 1, st=8, extra=[13, 0, 4])
    b.add("double", FLOAT, st=8)
    b.add("tag", DECL_TAG, st=7, extra=[0xFFFFFFFF])
    b.add("user", TYPE_TAG, st=2)
    b.add("e64", ENUM64, 1, st=8, extra=[b.name("BIG"), 1, 2])
    b.add("", VOLATILE, st=12)
    b.add("", 11, st=3)  # restrict
    put("btf", b.bytes(), "every-kind")
    c = Blob()
    c.add("loop", TYPEDEF, st=1)  # a typedef to itself
    c.add("", ARRAY, extra=[2, 1, 4])
    c.strukt(STRUCT, "s", 8, [("", 4, 0)])  # an anonymous member of its own type
    c.add("x", 31)
    put("btf", c.bytes(), "cycles-unknown-kind")
    put("btf", btf_sample().bytes()[:40], "truncated")


# --- YAML and JSON text ------------------------------------------------------------------------


def text_targets():
    for p in sorted(glob.glob(os.path.join(ROOT, "rules", "*", "*.yaml"))):
        put("rules", read(p), os.path.basename(p)[:40])
    for p in sorted(glob.glob(os.path.join(FIX, "broken_rules", "*.yaml"))):
        put("rules", read(p), "broken-" + os.path.basename(p)[:30])
    for p in sorted(glob.glob(os.path.join(FIX, "rules", "*.yaml"))):
        put("rules", read(p), os.path.basename(p)[:40])
    for p in sorted(glob.glob(os.path.join(ROOT, "rules", "lists", "*.yaml"))):
        put("lists", read(p), os.path.basename(p))
    put("lists", "empty:\nnull_list: ~\nnums: [1, -2, 18446744073709551615, true, x]\n", "mixed")
    for p in sorted(glob.glob(os.path.join(ROOT, "baselines", "*.yaml"))):
        put("baseline", read(p), os.path.basename(p))
    for p in sorted(glob.glob(os.path.join(FIX, "broken_baselines", "*.yaml"))):
        put("baseline", read(p), "broken-" + os.path.basename(p)[:30])
    for p in sorted(glob.glob(os.path.join(FIX, "snapshots", "*.json"))):
        put("snapshot", read(p), os.path.basename(p))
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "it", "snapshots", "*.json"))):
        put("snapshot", read(p), os.path.basename(p)[:40])


FILTERS = [
    # src/list/filter/tests.rs
    "sport >= 1024 and dport < 100", "sport :2048", "sport eq 2048", "sport == *:2048",
    "sport != :2048", "sport neq 1", "sport gt 2048", "sport ge 2048", "sport le 2047",
    "sport lt 2049", "dport > 79", "( sport = 22 or sport = 80 ) and dst 10.0.0.0/8",
    "sport = :22 or sport = :80 and dport = :5001", "sport = :1 || sport = :22 && dport = :5000",
    "not sport = :80 and sport = :22", "! ( sport = :22 || dport = :1 )", "src 127.0.0.1",
    "dst 127.0.0.0/8:40000", "src [2001:db8::]/32", "src [2001:db8::/32]:443",
    "src [2001:db8::1]:443", "src 2001:db8::1", "src *:443", "src :443", "src *",
    "dst 0.0.0.0/0", "src [::ffff:192.0.2.1]", "src = 192.0.2.0/24:22", "dst 10.0.0.1:*",
    "src unix:/run/*", "src /RUN/*/socket", "src @ab@c?", "src unix:@[a-b]b*",
    "src unix:@[!a]*", "src unix:?*", "dev eth0", "dev = 2", "dev != eth0", "fwmark = 0x2a",
    "fwmark 0x20/0xf0", "fwmark 42/0xf", "fwmark != 052", "dport = :abc", "sport = :ssh",
    "sport = :65536", "src example.com", "src != 1.2.3.4", "( sport = :22", "sport = :22 )",
    "sport = :22 and", "sport =", "or sport = :1", "sport = :1 state listening", "autobound",
    "src link:ip", "src fe80::1:22:x", "sport = :22\\ x",
    # ss(8) examples
    "state established ( dport = :ssh or sport = :ssh )",
    "state established ( dport = :22 or sport = :22 )",
    "dst 193.233.7/24", "state fin-wait-1 ( sport = :http or sport = :https ) dst 193.233.7/24",
    "state connected", "state synchronized", "state bucket", "state big", "exclude listening",
    "excl time-wait state syn-recv", "state all", "state bound-inactive", "state",
    "dst 192.168.1.5 and dport = :443", "( src 10.0.0.0/8 || src [fe80::]/10 ) && ! dport = :53",
    "cgroup /sys/fs/cgroup/x", "sport = :0x50",
]


def filters():
    for i, f in enumerate(FILTERS):
        # The first byte picks the table flags in the target: vary it over the seeds.
        prefix = chr(33 + (i * 7) % 90)
        put("filter", f, f"expr{i:02d}")
        put("filter", prefix + " " + f, f"flags{i:02d}")


# --- dictionaries for the text targets ---------------------------------------------------


def dicts():
    import json
    import re

    def esc(w):
        return '"' + "".join(c if 32 <= ord(c) < 127 and c not in '\\"' else "\\x%02X" % ord(c) for c in w) + '"'

    def write(name, words):
        words = sorted(set(w for w in words if w and len(w) < 60 and all(ord(c) < 128 for c in w)))
        os.makedirs(os.path.join(ROOT, "fuzz", "dict"), exist_ok=True)
        with open(os.path.join(ROOT, "fuzz", "dict", f"{name}.dict"), "w") as f:
            f.write("# libFuzzer dictionary, written by fuzz/make_seeds.py\n")
            f.writelines(esc(w) + "\n" for w in words)

    def yaml_keys(paths):
        for p in paths:
            for m in re.finditer(r"^\s*-?\s*([a-z_.]+):", read(p).decode(), re.M):
                yield m.group(1)

    yaml = [": ", "- ", "\n", "  ", "[", "]", "{", "}", ": |\n", "~", "null", "&a ", "*a", "!!str ", "'", '"', "---\n", "#", "<<: *a"]
    src = read(os.path.join(ROOT, "src", "rules", "fields.rs")).decode()
    fields = re.findall(r'name: "([a-z_.]+)"', src)
    rule_words = "id title severity status tags description references when examples match no_match all any not eq ne gt ge lt le in in_list list glob regex prefix suffix contains cidr port exists true false critical high medium low info stable experimental socket process count T1205.002 T1059.004 protocol exe comm cmdline uid tcp udp raw packet_raw packet_dgram unix_stream listen established 0.0.0.0/0 ::/0 1-1024".split()
    rule_files = glob.glob(os.path.join(ROOT, "rules", "*", "*.yaml"))
    write("rules", fields + yaml + rule_words + list(yaml_keys(rule_files)))
    list_files = glob.glob(os.path.join(ROOT, "rules", "lists", "*.yaml"))
    write("lists", yaml + ["true", "false", "1", "-1", "18446744073709551616", "0x5293"] + list(yaml_keys(list_files)))
    bl_words = "version host listeners outbound inbound acceptance severity protocol address port ports exe user note tcp udp raw any loopback private unspecified 127.0.0.1 ::1 10.0.0.0/8 1-1024 /usr/sbin/* new_listener new_outbound new_inbound listener_gone listener_rebound listener_owner_changed critical high medium low info".split()
    bl_files = glob.glob(os.path.join(ROOT, "baselines", "*.yaml")) + glob.glob(os.path.join(FIX, "broken_baselines", "*.yaml"))
    write("baseline", yaml + bl_words + list(yaml_keys(bl_files)))
    keys, vals = set(), set()

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                keys.add(k)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and len(v) < 30:
            vals.add(v)

    for p in glob.glob(os.path.join(FIX, "snapshots", "*.json")):
        walk(json.loads(read(p)))
    json_words = ["{", "}", "[", "]", "null", "true", "false", "-1", "18446744073709551615", "1e308", '"\\u0000"', '"\\ud800"']
    write("snapshot", [f'"{k}":' for k in keys] + [f'"{v}"' for v in vals] + json_words)
    write("filter", "sport dport src dst dev fwmark cgroup autobound state exclude excl and or not && || ! & | ( ) = == != eq ne neq > >= < <= gt ge lt le geq leq unix: link: netlink: * : [ ] / @ ? \\ established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait closed close-wait last-ack listening closing all connected synchronized bucket big bound-inactive 0x 127.0.0.1 ::1 [::ffff:1.2.3.4] 0.0.0.0/0 :22 *:443".split())


def main():
    dicts()
    inet_and_netlink()
    unix_synthetic()
    packet_synthetic()
    procnet()
    btf()
    text_targets()
    filters()
    if "--live" in sys.argv:
        live()
        procnet_live()
    for t in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, t))
        size = sum(os.path.getsize(os.path.join(CORPUS, t, f)) for f in files)
        print(f"{t}: {len(files)} seeds, {size} bytes")


if __name__ == "__main__":
    main()
