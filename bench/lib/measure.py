#!/usr/bin/env python3
"""Measurement helpers for bench/run (python3 standard library only).

Every subcommand prints ONE line of JSON on stdout (the figures) and exits 0 when it measured
something, non-zero (with a reason on stderr) when it could not. Every loop is bounded by a
count AND a time limit, so a hung peer never hangs the benchmark.

Subcommands:
  http-latency  --url U [--n N] [--max-seconds S] [--accept A]
      N sequential GETs over one keep-alive connection: p50/p99/mean/min ms, bytes of the last body.
  findscu-latency --n N [--max-seconds S] -- findscu ARGS...
      Runs `findscu --repeat N ARGS` (one association, N queries) with a log layout that stamps
      each line in microseconds: latency = "Sending Find Request" -> "Received Final Find Response".
  findscu-load --procs K --n N [--max-seconds S] -- findscu ARGS...
      K concurrent `findscu --repeat N` associations; aggregate C-FINDs per second.
  timed-move --dest DIR --expect N [--timeout S] -- movescu ARGS...
      Runs a C-MOVE SCU, polls DIR for the first file, reports total seconds, seconds to the first
      file, files and bytes that arrived.
  tcia-largest --url BASE_V4
      The series with the most images (getSeries), and how many series have >= 300 images.
  tcia-patient --url BASE_V4
      One patient id of the catalog (getPatient), to build a PatientName wildcard from.
  orthanc-upload --url ORTHANC DIR...
      POST every *.dcm under DIR to Orthanc's REST /instances.
  stats  v1 v2 ...   p50/p99/mean/min of numbers given on the command line.
"""
import argparse
import http.client
import json
import os
import select
import subprocess
import sys
import time
import urllib.parse
import urllib.request


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(values)
    if not s:
        return None
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def summary(values_s, scale=1000.0, unit="ms"):
    """p50/p99/mean/min of durations given in seconds, scaled (default to milliseconds)."""
    v = [x * scale for x in values_s]
    return {
        "n": len(v),
        "p50_" + unit: round(percentile(v, 50), 3),
        "p99_" + unit: round(percentile(v, 99), 3),
        "mean_" + unit: round(sum(v) / len(v), 3),
        "min_" + unit: round(min(v), 3),
    }


def fail(msg):
    sys.stderr.write(msg + "\n")
    sys.exit(2)


def cmd_http_latency(a):
    u = urllib.parse.urlsplit(a.url)
    path = u.path + ("?" + u.query if u.query else "")
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=a.timeout)
    headers = {"Accept": a.accept} if a.accept else {}
    times, nbytes, errors, status = [], 0, 0, None
    deadline = time.monotonic() + a.max_seconds
    for _ in range(a.n):
        if time.monotonic() > deadline:
            break
        t0 = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            body = r.read()
            status = r.status
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=a.timeout)
            continue
        dt = time.perf_counter() - t0
        if status != 200:
            errors += 1
            continue
        times.append(dt)
        nbytes = len(body)
    conn.close()
    if not times:
        fail("no successful request (last status %s, errors %d)" % (status, errors))
    out = summary(times)
    out.update({"bytes": nbytes, "errors": errors})
    print(json.dumps(out))


# findscu stamps its own log lines (oflog/log4cplus PatternLayout, microseconds), so the
# latency does not depend on when this process gets to read the pipe on a busy machine.
FINDSCU_LOG_CONFIG = """log4cplus.rootLogger = INFO, console
log4cplus.appender.console = log4cplus::ConsoleAppender
log4cplus.appender.console.logToStdErr = true
log4cplus.appender.console.layout = log4cplus::PatternLayout
log4cplus.appender.console.layout.ConversionPattern = %D{%H:%M:%S.%Q} %m%n
"""


def parse_stamp(line):
    """'13:38:52.204.302 msg' -> seconds since midnight (float), or None."""
    try:
        stamp = line.split(" ", 1)[0]
        hms, ms, us = stamp.rsplit(".", 2)
        h, m, sec = hms.split(":")
        return int(h) * 3600 + int(m) * 60 + int(sec) + int(ms) / 1e3 + int(us) / 1e6
    except ValueError:
        return None


def cmd_findscu_latency(a):
    import tempfile
    args = list(a.args)
    if args and args[0] == "--":
        args = args[1:]
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as cfg:
        cfg.write(FINDSCU_LOG_CONFIG)
    cmd = ["findscu", "-lc", cfg.name, "--repeat", str(a.n)] + args
    env = dict(os.environ, TCP_NODELAY="1")
    t_start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    sends, finals, pending, lines = [], [], 0, 0
    deadline = time.monotonic() + a.max_seconds
    for raw in p.stderr:
        lines += 1
        line = raw.decode("latin-1")
        if "Sending Find Request" in line:
            sends.append(parse_stamp(line))
        elif "Received Final Find Response" in line:
            finals.append((parse_stamp(line), "(Success)" in line, line.strip()))
        elif "Find Response:" in line and "Pending" in line:
            pending += 1
        if time.monotonic() > deadline:
            p.kill()
            break
    rc = p.wait()
    os.unlink(cfg.name)
    t_total = time.perf_counter() - t_start
    pairs = [(s0, f[0]) for s0, f in zip(sends, finals)
             if f[1] and s0 is not None and f[0] is not None and f[0] >= s0]
    failed = [f[2] for f in finals if not f[1]]
    if not pairs:
        fail("findscu gave no successful query (rc %s, %d log lines%s)"
             % (rc, lines, "; final status: " + failed[0].split(" ", 1)[-1] if failed else ""))
    lat = [f - s for s, f in pairs]
    out = summary(lat)
    span = pairs[-1][1] - pairs[0][0]
    out.update({
        "rc": rc,
        "matches_per_query": round(pending / len(pairs), 2),
        "failed_queries": len(failed),
        "qps_one_association": round(len(pairs) / span, 1) if span > 0 else None,
        "process_seconds": round(t_total, 3),
    })
    print(json.dumps(out))


def cmd_findscu_load(a):
    """K concurrent `findscu --repeat N` processes; aggregate completed queries per second."""
    import threading
    args = list(a.args)
    if args and args[0] == "--":
        args = args[1:]
    env = dict(os.environ, TCP_NODELAY="1")
    done = [0] * a.procs
    procs = []

    def reader(i, p):
        for raw in p.stderr:
            if b"Received Final Find Response (Success)" in raw:
                done[i] += 1

    t0 = time.perf_counter()
    threads = []
    for i in range(a.procs):
        p = subprocess.Popen(["findscu", "-v", "--repeat", str(a.n)] + args,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        procs.append(p)
        t = threading.Thread(target=reader, args=(i, p), daemon=True)
        t.start()
        threads.append(t)
    deadline = time.monotonic() + a.max_seconds
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    wall = time.perf_counter() - t0
    for t in threads:
        t.join(timeout=2)
    total = sum(done)
    if total == 0:
        fail("no C-FIND completed")
    print(json.dumps({"procs": a.procs, "queries": total, "wall_s": round(wall, 3),
                      "qps": round(total / wall, 1)}))


def count_files(d):
    n, b = 0, 0
    try:
        with os.scandir(d) as it:
            for e in it:
                if e.is_file():
                    n += 1
                    try:
                        b += e.stat().st_size
                    except OSError:
                        pass
    except FileNotFoundError:
        pass
    return n, b


def cmd_timed_move(a):
    args = list(a.args)
    if args and args[0] == "--":
        args = args[1:]
    os.makedirs(a.dest, exist_ok=True)
    env = dict(os.environ, TCP_NODELAY="1")
    log = open(a.log, "wb") if a.log else subprocess.DEVNULL
    t0 = time.perf_counter()
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    # The exit is seen through a pidfd the moment it happens: Popen.wait(timeout) sleeps in
    # growing steps (up to 50 ms) and so added up to 50 ms to every measured move, the same
    # for every side but biasing each ratio towards 1.
    pidfd = os.pidfd_open(p.pid)
    exited = select.poll()
    exited.register(pidfd, select.POLLIN)
    first = None
    deadline = time.monotonic() + a.timeout
    # Until the first file: look into DIR every millisecond (cheap: it is empty until then),
    # waiting on the pidfd between looks.
    while first is None and time.monotonic() < deadline:
        try:
            if any(True for _ in os.scandir(a.dest)):
                first = time.perf_counter() - t0
                break
        except FileNotFoundError:
            pass
        if exited.poll(1):
            break
    if not exited.poll(max(0, int((deadline - time.monotonic()) * 1000))):
        p.kill()
    total = time.perf_counter() - t0
    rc = p.wait()
    os.close(pidfd)
    if rc < 0 and time.monotonic() >= deadline:
        rc = "timeout"
    if first is None and count_files(a.dest)[0] > 0:
        first = total  # arrived between the last poll and exit
    # storescp may still be writing the last file when movescu returns: settle briefly.
    settle = time.monotonic() + 5
    n, b = count_files(a.dest)
    while n < a.expect and time.monotonic() < settle:
        time.sleep(0.02)
        n, b = count_files(a.dest)
    out = {"rc": rc, "total_s": round(total, 3), "first_file_s": None if first is None else round(first, 4),
           "files": n, "bytes": b, "expected": a.expect,
           "mb_per_s": round(b / 1e6 / total, 1) if total > 0 and b else None}
    print(json.dumps(out))
    if rc != 0 or n < a.expect:
        sys.stderr.write("move incomplete: rc=%s files=%d expected=%d\n" % (rc, n, a.expect))
        sys.exit(3)


def get_json(url, timeout):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        body = r.read()
    return json.loads(body) if body.strip() else []


def cmd_tcia_largest(a):
    rows = get_json(a.url.rstrip("/") + "/getSeries", a.timeout)
    if not rows:
        fail("getSeries returned nothing")
    rows = [r for r in rows if isinstance(r.get("ImageCount"), (int, float)) or str(r.get("ImageCount", "")).isdigit()]
    for r in rows:
        r["ImageCount"] = int(r["ImageCount"])
    rows.sort(key=lambda r: r["ImageCount"], reverse=True)
    big = rows[0]
    out = {
        "series": big["SeriesInstanceUID"], "study": big.get("StudyInstanceUID"),
        "collection": big.get("Collection"), "patient": big.get("PatientID"),
        "images": big["ImageCount"], "file_size": big.get("FileSize"),
        "large_series": [r["SeriesInstanceUID"] for r in rows if r["ImageCount"] >= 300],
        "total_series": len(rows),
    }
    print(json.dumps(out))


def cmd_tcia_patient(a):
    rows = get_json(a.url.rstrip("/") + "/getPatient", a.timeout)
    if not rows:
        fail("getPatient returned nothing")
    r = rows[len(rows) // 2]
    print(json.dumps({"patient": r.get("PatientId") or r.get("PatientID"), "name": r.get("PatientName"),
                      "patients": len(rows)}))


def cmd_orthanc_upload(a):
    """POST every *.dcm under the given directories to Orthanc's /instances (one keep-alive
    connection). REST, not C-STORE: no transfer-syntax negotiation can refuse a file."""
    u = urllib.parse.urlsplit(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=a.timeout)
    ok, failed, nbytes = 0, 0, 0
    deadline = time.monotonic() + a.max_seconds
    for d in a.dirs:
        for root, _, files in os.walk(d):
            for f in sorted(files):
                if not f.endswith(".dcm") or time.monotonic() > deadline:
                    continue
                with open(os.path.join(root, f), "rb") as fh:
                    body = fh.read()
                try:
                    conn.request("POST", "/instances", body=body, headers={"Content-Type": "application/dicom"})
                    r = conn.getresponse()
                    r.read()
                    if r.status == 200:
                        ok += 1
                        nbytes += len(body)
                    else:
                        failed += 1
                except (OSError, http.client.HTTPException):
                    failed += 1
                    conn.close()
                    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=a.timeout)
    print(json.dumps({"stored": ok, "failed": failed, "bytes": nbytes}))
    if ok == 0:
        sys.exit(2)


def cmd_stats(a):
    print(json.dumps(summary([float(x) for x in a.values], scale=1.0, unit="v")))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("http-latency")
    p.add_argument("--url", required=True)
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--max-seconds", type=float, default=30)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--accept")
    p.set_defaults(fn=cmd_http_latency)
    p = sub.add_parser("findscu-latency")
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--max-seconds", type=float, default=60)
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_findscu_latency)
    p = sub.add_parser("findscu-load")
    p.add_argument("--procs", type=int, default=4)
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--max-seconds", type=float, default=30)
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_findscu_load)
    p = sub.add_parser("timed-move")
    p.add_argument("--dest", required=True)
    p.add_argument("--expect", type=int, default=1)
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--log")
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_timed_move)
    p = sub.add_parser("tcia-largest")
    p.add_argument("--url", required=True)
    p.add_argument("--timeout", type=float, default=60)
    p.set_defaults(fn=cmd_tcia_largest)
    p = sub.add_parser("tcia-patient")
    p.add_argument("--url", required=True)
    p.add_argument("--timeout", type=float, default=120)
    p.set_defaults(fn=cmd_tcia_patient)
    p = sub.add_parser("orthanc-upload")
    p.add_argument("--url", required=True)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--max-seconds", type=float, default=600)
    p.add_argument("dirs", nargs="+")
    p.set_defaults(fn=cmd_orthanc_upload)
    p = sub.add_parser("stats")
    p.add_argument("values", nargs="+")
    p.set_defaults(fn=cmd_stats)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
