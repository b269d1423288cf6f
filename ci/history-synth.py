#!/usr/bin/env python3
"""Extends a recorded sockwarden history to RUNS runs in all by synthetic runs, for
ci/bench-history.sh: each new run ends the CHURN newest open socket versions and their holdings
and opens as many new ones (the same sockets under new inodes, held by the same processes), as a
recorder does for CHURN sockets replaced: the first run replaces the sockets the latest recorded
change opened (the benchmark's churner), each later run those of the run before. Runs are five minutes apart after the last recorded
one. Writes through SQLite only, in the schema docs/history.md documents; the rows are shaped
like recorded ones (only `hash` is random: nothing reads it but the recorder).

usage: history-synth.py DB RUNS CHURN
"""
import sqlite3
import sys
import time

db, total, churn = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = sqlite3.connect(db, isolation_level=None)
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA foreign_keys=ON")
last = c.execute("SELECT max(id) FROM runs").fetchone()[0]
cols = ("ns, netns, protocol, family, state, local_address, local_port, remote_address, "
        "remote_port, inode, cookie, uid, ifindex, interface, v6only, unix_name, unix_abstract, "
        "unix_peer, packet_ethertype")
# A replaced connection comes back on other ephemeral ports (both ends of a loopback pair move
# alike); a listener's port stays.
ports = [str(p) for (p,) in c.execute(
    "SELECT DISTINCT local_port FROM socket_versions WHERE state = 'listen' "
    "AND local_port IS NOT NULL")]
listening = "(" + ", ".join(ports or ["-1"]) + ")"
def moved(col):
    return (f"CASE WHEN {col} IS NULL OR {col} IN {listening} THEN {col} "
            f"ELSE ({col} + 7919) % 28000 + 32768 END")
new_cols = (cols.replace("inode, cookie", "inode + 4294967296, cookie")
            .replace("local_port,", moved("local_port") + ",", 1)
            .replace("remote_port,", moved("remote_port") + ",", 1))
# The sockets replaced at each run: those the latest change opened (the churner's), then each
# synthetic run's own, found by (ns, first_run) rather than by sorting the open rows.
prev = c.execute("SELECT max(first_run) FROM socket_versions WHERE end_run IS NULL").fetchone()[0]
nss = ", ".join(str(n) for (n,) in c.execute(
    "SELECT DISTINCT ns FROM socket_versions WHERE first_run = ?", (prev,)))
t0 = time.time()
for r in range(last + 1, total + 1):
    if (r - last) % 100 == 1:
        c.execute("BEGIN IMMEDIATE")
    c.execute(
        "INSERT INTO runs (id, started_at, host, tool_version, scope, socket_count, detail) "
        "SELECT ?1, strftime('%Y-%m-%dT%H:%M:%SZ', started_at, '+5 minutes'), host, "
        "tool_version, scope, socket_count, detail FROM runs WHERE id = ?1 - 1", (r,))
    c.execute("DROP TABLE IF EXISTS temp.gone")
    c.execute("CREATE TEMP TABLE gone AS SELECT id FROM socket_versions INDEXED BY "
              f"socket_versions_first WHERE ns IN ({nss}) AND first_run = ?1 "
              "AND end_run IS NULL AND protocol = 'tcp' ORDER BY id DESC LIMIT ?2",
              (prev, churn))
    prev = r
    c.execute("UPDATE holdings SET end_run = ?1 WHERE end_run IS NULL "
              "AND socket_version IN temp.gone", (r,))
    c.execute("UPDATE socket_versions SET end_run = ?1 WHERE id IN temp.gone", (r,))
    c.execute(f"INSERT INTO socket_versions (hash, first_run, {cols}) "
              f"SELECT randomblob(16), ?1, {new_cols} FROM socket_versions "
              "WHERE id IN temp.gone ORDER BY id", (r,))
    c.execute("INSERT INTO holdings (hash, first_run, ns, socket_version, process_version, "
              "pid, fd) SELECT randomblob(16), ?1, h.ns, n.id, h.process_version, h.pid, h.fd "
              # CROSS JOIN: from the few replaced rows to their holdings, never the reverse.
              "FROM temp.gone g CROSS JOIN holdings h ON h.socket_version = g.id "
              "JOIN socket_versions o ON o.id = g.id "
              "JOIN socket_versions n ON n.first_run = ?1 AND n.ns = o.ns "
              "AND n.inode = o.inode + 4294967296 AND n.protocol = o.protocol", (r,))
    if (r - last) % 100 == 0 or r == total:
        c.execute("COMMIT")
print(f"synthesized runs {last + 1}-{total} ({churn} sockets replaced each) "
      f"in {time.time() - t0:.1f} s", flush=True)
