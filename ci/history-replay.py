#!/usr/bin/env python3
"""Replays the socket and holding rows of a recorded sockwarden history into a new file, run by
run, as a recorder writes them (each run in one transaction: its new socket versions and the
socket versions it ended, then its new holdings and the holdings it ended), and prints each
run's growth in bytes and which b-trees grew by how many pages (SQLite's dbstat). For trying a
layout of the rows without rebuilding sockwarden (ci/bench-history.sh with KEEP_DB=FILE gives
the history to replay); process versions are few and left out.

usage: history-replay.py SOURCE.db OUT.db [--order id|hash|shuffle] [--reserve N] [--end-first]
                         [--runs N]

--order: the order a run's new rows are inserted in (id: as recorded, the snapshot's order).
--reserve N: every new row is inserted with end_run = N (a placeholder of N's stored width),
  set back to NULL at the end of its run's transaction.
--end-first: a run ends the rows it ends before it inserts its new ones (as sockwarden does
  since session 8; without it, the order of the recorder before).
--runs N: the first N runs only.
"""
import argparse
import hashlib
import sqlite3

ap = argparse.ArgumentParser()
ap.add_argument("source")
ap.add_argument("out")
ap.add_argument("--order", default="id", choices=["id", "hash", "shuffle"])
ap.add_argument("--reserve", type=int, default=None)
ap.add_argument("--page-size", type=int, default=4096)
ap.add_argument("--end-first", action="store_true")
ap.add_argument("--runs", type=int, default=None)
a = ap.parse_args()

src = sqlite3.connect(f"file:{a.source}?mode=ro", uri=True)
schema = [sql for (sql,) in src.execute(
    "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
    "ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, rowid")]
out = sqlite3.connect(a.out, isolation_level=None)
out.execute(f"PRAGMA page_size = {a.page_size}")
out.execute("PRAGMA journal_mode = WAL")
for sql in schema:
    out.execute(sql)


def cols(table):
    return [r[1] for r in src.execute(f"PRAGMA table_info({table})")]


def order_key(row, idx_hash):
    if a.order == "hash":
        return row[idx_hash]
    if a.order == "shuffle":
        return hashlib.sha256(row[idx_hash]).digest()
    return row[0]


def pages():
    return dict(out.execute("SELECT name, count(*) FROM dbstat GROUP BY name"))


runs = [r for (r,) in src.execute("SELECT id FROM runs ORDER BY id")][:a.runs]
run_cols = cols("runs")
new_id = {"socket_versions": {}, "holdings": {}}
prev_size = 0
prev_pages = {}
for r in runs:
    out.execute("BEGIN IMMEDIATE")
    out.execute(f"INSERT INTO runs ({', '.join(run_cols)}) VALUES "
                f"({', '.join('?' * len(run_cols))})",
                src.execute("SELECT * FROM runs WHERE id = ?", (r,)).fetchone())
    changed = 0
    for table in ["socket_versions", "holdings"]:
        c = cols(table)
        ih = c.index("hash")
        ie = c.index("end_run")
        rows = src.execute(f"SELECT * FROM {table} WHERE first_run = ? ORDER BY id",
                           (r,)).fetchall()
        rows.sort(key=lambda row: order_key(row, ih))
        ins = [x for x in c if x != "id"]
        stmt = (f"INSERT INTO {table} ({', '.join(ins)}) VALUES "
                f"({', '.join('?' * len(ins))})")
        isv = c.index("socket_version") if table == "holdings" else None
        mine = []

        def insert_new():
            for row in rows:
                vals = list(row)
                vals[ie] = a.reserve
                if isv is not None:
                    vals[isv] = new_id["socket_versions"][vals[isv]]
                cur = out.execute(stmt, [v for i, v in enumerate(vals) if c[i] != "id"])
                new_id[table][row[0]] = cur.lastrowid
                mine.append(cur.lastrowid)

        def end_old():
            ended = [new_id[table][i] for (i,) in src.execute(
                f"SELECT id FROM {table} WHERE end_run = ? ORDER BY id", (r,))]
            for i in sorted(ended):
                out.execute(f"UPDATE {table} SET end_run = ? WHERE id = ?", (r, i))

            return len(ended)

        if a.end_first:
            n_ended = end_old()
            insert_new()
        else:
            insert_new()
            n_ended = end_old()
        if a.reserve is not None:
            for i in mine:
                out.execute(f"UPDATE {table} SET end_run = NULL WHERE id = ?", (i,))
        if table == "socket_versions":
            changed = len(rows) + n_ended
    out.execute("COMMIT")
    size = out.execute("PRAGMA page_count").fetchone()[0] * a.page_size
    now = pages()
    grew = ", ".join(f"{k} {now.get(k, 0) - prev_pages.get(k, 0):+d}"
                     for k in sorted(set(now) | set(prev_pages))
                     if now.get(k, 0) != prev_pages.get(k, 0))
    per = f", {(size - prev_size) // changed} B per changed socket version" if changed else ""
    print(f"run {r}: {size} bytes (+{size - prev_size}), {changed} socket versions "
          f"opened+ended{per}; pages: {grew}", flush=True)
    prev_size, prev_pages = size, now
