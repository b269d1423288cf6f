#!/usr/bin/env python3
"""ci/rounds-stats.py - the traced workload's slowdown from paired rounds (ci/bench-watch.sh
with ROUNDS=N, issue 18; the method is docs/PERFORMANCE.md's "Issue 18, session 12").

usage: rounds-stats.py ROUNDS.TSV

ROUNDS.TSV has one line per run: `round<TAB>label<TAB>connections<TAB>cpu_seconds`, where the
label is `none` (connload without a watch) or the name of the watch binary the run was traced
by. For each label other than `none`, each round's ratio is that run's CPU per connection over
the same round's `none` run; printed: every round's ratio, their median with the interquartile
range and a 95% bootstrap interval of the median (10,000 resamples, a fixed seed: the same
input prints the same figures), and the ratio of the two labels' median CPU per connection.
With two watch labels, the same for the second over the first (before/after in the same
rounds).
"""
import random
import statistics
import sys


def quartiles(xs):
    q = statistics.quantiles(sorted(xs), n=4, method="inclusive")
    return q[0], q[2]


def bootstrap_median(xs, resamples=10_000, seed=18):
    rng = random.Random(seed)
    meds = sorted(statistics.median(rng.choices(xs, k=len(xs))) for _ in range(resamples))
    return meds[int(0.025 * resamples)], meds[int(0.975 * resamples) - 1]


def pct(r):
    return f"{100 * (r - 1):+.2f}%"


def describe(name, ratios, num, den):
    lo, hi = quartiles(ratios)
    blo, bhi = bootstrap_median(ratios)
    print(f"| {name} | {len(ratios)} | **{pct(statistics.median(ratios))}** | "
          f"{pct(lo)} .. {pct(hi)} | {pct(blo)} .. {pct(bhi)} | "
          f"{pct(statistics.median(num) / statistics.median(den))} |")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    per = {}  # round -> label -> ns of CPU per connection
    labels = []
    with open(sys.argv[1]) as f:
        for line in f:
            rnd, label, conns, cpu = line.split()
            per.setdefault(int(rnd), {})[label] = float(cpu) * 1e9 / max(int(conns), 1)
            if label != "none" and label not in labels:
                labels.append(label)
    rounds = sorted(r for r in per if "none" in per[r] and all(lb in per[r] for lb in labels))
    if not rounds:
        sys.exit("rounds-stats.py: no complete round")
    head = "| round | none (ns/conn) | " + " | ".join(f"{lb} (ns/conn, ratio)" for lb in labels)
    print(head + " |")
    print("|---" * (2 + len(labels)) + "|")
    for r in rounds:
        cells = [f"{per[r][lb]:,.0f}, {pct(per[r][lb] / per[r]['none'])}" for lb in labels]
        print(f"| {r} | {per[r]['none']:,.0f} | " + " | ".join(cells) + " |")
    print()
    print("| CPU per connection | pairs | median of the per-round ratios | interquartile range "
          "| 95% bootstrap interval of the median | ratio of the medians |")
    print("|---|---:|---:|---:|---:|---:|")
    none = [per[r]["none"] for r in rounds]
    for lb in labels:
        runs = [per[r][lb] for r in rounds]
        describe(f"{lb} / none", [per[r][lb] / per[r]["none"] for r in rounds], runs, none)
    if len(labels) == 2:
        a, b = labels
        describe(f"{b} / {a}", [per[r][b] / per[r][a] for r in rounds],
                 [per[r][b] for r in rounds], [per[r][a] for r in rounds])


if __name__ == "__main__":
    main()
