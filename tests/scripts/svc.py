#!/usr/bin/env python3
"""One long-running network service for sockwarden's baseline tests.

  svc.py listen ADDR PORT              a TCP listener (python holds it)
  svc.py listen-exec ADDR PORT EXE     a TCP listener held by EXE (exec'd with the fd inherited)
  svc.py connect ADDR PORT             an established TCP connection (python holds it)
  svc.py udp-many ADDR COUNT           COUNT UDP sockets bound to ADDR, ports from the kernel
  svc.py bulk ADDR PORT                a listener on ADDR:PORT and a connection to it that sent
                                       50,000 bytes the accepted side has not read
Prints `READY` once the socket exists, then holds it until killed.
"""
import os
import signal
import socket
import sys

mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
held = []
if mode == "udp-many":
    for _ in range(port):
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.bind((addr, 0))
        held.append(u)
    print("READY", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()
if mode == "bulk":
    lis = socket.socket(fam, socket.SOCK_STREAM)
    lis.bind((addr, port))
    lis.listen(1)
    c = socket.create_connection((addr, port))
    a, _ = lis.accept()
    c.sendall(b"x" * 50000)
    held += [lis, c, a]
    print("READY", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()
s = socket.socket(fam, socket.SOCK_STREAM)
if mode.startswith("listen"):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
else:
    s.connect((addr, port))
print("READY", flush=True)
if mode == "listen-exec":
    s.set_inheritable(True)
    os.execv(sys.argv[4], [os.path.basename(sys.argv[4]), "infinity"])
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    signal.pause()
