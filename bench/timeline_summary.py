#!/usr/bin/env python3
"""Summarises the bridge's bridge.retrieve.timeline debug lines (issue 11: where a cold C-MOVE
spends its time). Usage: bench/timeline_summary.py BRIDGE_LOG...

Enable the lines with a bridge config such as
  { "log": { "levels": { "bridge.retrieve.timeline": "debug" } } }
(bench/run passes one through BENCH_BRIDGE_ARGS="--config FILE"). Each download prints one line
per instance -- ms since the download started when it left the ZIP reader (zip), was handed to
the subscribers (published), entered the cache writer (writer) and was cached -- and, since
issue 11, "download done" and "durable in" lines. A new download starts where the zip times go
back to zero. Prints one summary line per download.
"""
import re
import statistics
import sys

INSTANCE = re.compile(r"bridge\.retrieve\.timeline.*? (\S+) (\S+) ((?:(?:zip|published|writer|cached) -?\d+ ?){4})$")
DONE = re.compile(r"bridge\.retrieve\.timeline.*? download done (\d+) ms")
DURABLE = re.compile(r"bridge\.retrieve\.timeline.*? durable in (\d+) ms")


def summarise(run):
    rows, done, durable = run["rows"], run.get("done"), run.get("durable")
    if not rows:
        return None
    zips = [r["zip"] for r in rows]
    gaps = [b - a for a, b in zip(zips, zips[1:])]
    lag = [r["cached"] - r["zip"] for r in rows]
    pub = [r["published"] - r["zip"] for r in rows]
    return (f"{len(rows)} instances: first out of the ZIP at {zips[0]} ms, last at {zips[-1]} ms "
            f"(median gap {statistics.median(gaps) if gaps else 0} ms, max {max(gaps) if gaps else 0}); "
            f"last published {max(r['published'] for r in rows)} ms (publish-zip median {statistics.median(pub)}, max {max(pub)}); "
            f"last cached {max(r['cached'] for r in rows)} ms (cache lag median {statistics.median(lag)}, max {max(lag)} ms)"
            + (f"; download done {done} ms" if done is not None else "")
            + (f"; durable {durable} ms after" if durable is not None else ""))


def main(paths):
    runs, current = [], None
    for path in paths:
        with open(path, errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                m = INSTANCE.search(line)
                if m:
                    fields = m.group(3).split()
                    row = {fields[i]: int(fields[i + 1]) for i in range(0, len(fields), 2)}
                    if current is None or (current["rows"] and row["zip"] + 1000 < current["rows"][-1]["zip"]) \
                            or current.get("done") is not None:
                        current = {"rows": []}
                        runs.append(current)
                    current["rows"].append(row)
                    continue
                m = DONE.search(line)
                if m and current is not None:
                    current["done"] = int(m.group(1))
                    continue
                m = DURABLE.search(line)
                if m and current is not None:
                    current["durable"] = int(m.group(1))
    for i, run in enumerate(runs, 1):
        text = summarise(run)
        if text:
            print(f"download {i}: {text}")
    return 0 if runs else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
