#!/usr/bin/env python3
"""Print the benchmark table of issue #5 from the figures bench/run recorded.

Usage: table.py RESULTS_TSV

RESULTS_TSV holds one `key<TAB>value` per line (the last line for a key wins). A key with the
suffix `_na` holds the reason a figure could not be measured; keys starting with `note_` are
printed under the table. A key with the suffix `_runs` holds the space-separated values of the
runs whose median is the key itself (issue 11): the cell then shows the median with the runs'
[min-max], the ratio cell the [min-max] of the per-run ratios (bridge run i / baseline run i),
and the verdict how many runs met the goal. Every row prints, as "n/a: reason" when a figure is missing, so the
table is complete whatever failed. Python 3 standard library only.
"""
import sys


def load(path):
    r = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if "\t" in line:
                    k, v = line.split("\t", 1)
                    r[k] = v
    except FileNotFoundError:
        pass
    return r


def num(r, k):
    v = r.get(k)
    if v is None or v == "":
        return None
    try:
        return float(v)
    except ValueError:
        return None


def runs(r, k):
    """The values of the runs behind key k (list of floats), or None."""
    v = r.get(k + "_runs") if k else None
    if not v:
        return None
    try:
        out = [float(x) for x in v.split()]
    except ValueError:
        return None
    return out or None


def spread(values, unit):
    """' (median of n [min-max])' for repeated figures, '' for a single run."""
    if not values or len(values) < 2:
        return ""
    lo, hi = min(values), max(values)
    return " (median of %d [%s-%s])" % (len(values), bare(lo, unit), bare(hi, unit))


def bare(v, unit):
    """A value without its unit, at the precision fmt() uses."""
    if unit == "s":
        return "%.3f" % v
    if unit == "ms":
        return "%.2f" % v
    if unit in ("MB", "MB/s"):
        return "%.1f" % v
    if unit == "rps":
        return "%.0f" % v
    return "%g" % v


def reason(r, *keys):
    for k in keys:
        if k and r.get(k + "_na"):
            return r[k + "_na"]
    return "not measured"


def fmt(v, unit):
    if v is None:
        return None
    if unit == "s":
        return "%.3f s" % v
    if unit == "ms":
        return "%.2f ms" % v
    if unit == "MB":
        return "%.1f MB" % v
    if unit == "MB/s":
        return "%.1f MB/s" % v
    if unit == "rps":
        return "%.0f req/s" % v
    return "%g %s" % (v, unit)


# (number, figure, bridge key, baseline key, unit, goal kind, goal value, baseline label key)
# goal kinds: ratio_le / ratio_ge (bridge / baseline), abs_lt (bridge alone), info (no goal).
ROWS = [
    ("1a", "C-MOVE 300-slice series into storescp, cold (median of runs), vs sequential curl getImage + unzip + storescu (median of runs)",
     "move_cold_s", "seq_total_s", "s", "info", None),
    ("1b", "Issue 11: C-MOVE cold vs limit = max(download alone, storescu alone)",
     "move_cold_s", "seq_limit_s", "s", "ratio_le", 1.15),
    ("1c", "Issue 11: C-MOVE warm (series in bridge cache) vs Orthanc C-MOVE from its own storage",
     "move_warm_s", "orthanc_move_s", "s", "ratio_le", 0.8),
    ("2", "C-MOVE request -> first file at destination, cold (baseline: sequential pipeline's first file)",
     "move_cold_first_s", "seq_first_s", "s", "abs_lt", 0.3),
    ("3a", "QIDO /studies (OHIF study-list request) p50, warm, vs Orthanc DICOMweb",
     "qido_p50_ms", "orthanc_qido_p50_ms", "ms", "info", None),
    ("3b", "QIDO /studies p99, warm, vs Orthanc",
     "qido_p99_ms", "orthanc_qido_p99_ms", "ms", "info", None),
    ("3c", "QIDO /studies throughput (wrk), vs Orthanc",
     "qido_rps", "orthanc_qido_rps", "rps", "ratio_ge", 10.0),
    ("3d", "Issue 11: C-FIND STUDY level p50 (one association, sequential queries), warm, vs Orthanc",
     "cfind_p50_ms", "orthanc_cfind_p50_ms", "ms", "ratio_le", 0.5),
    ("3e", "C-FIND STUDY level p99, warm, vs Orthanc",
     "cfind_p99_ms", "orthanc_cfind_p99_ms", "ms", "info", None),
    ("3f", "Issue 11: C-FIND STUDY level throughput (4 concurrent associations), vs Orthanc",
     "cfind_rps", "orthanc_cfind_rps", "rps", "ratio_ge", 3.0),
    ("4a", "WADO-RS series metadata, 300-slice series, warm (p50 of 5), vs Orthanc",
     "meta_warm_ms", "orthanc_meta_warm_ms", "ms", "ratio_le", 0.5),
    ("4b", "WADO-RS series metadata, 300-slice series, cold (empty cache) (issue #4), vs Orthanc warm",
     "meta_cold_ms", "orthanc_meta_warm_ms", "ms", "info", None),
    ("5", "Peak RSS of the bridge, 4 concurrent cold C-MOVEs of large series",
     "rss_4moves_mb", None, "MB", "abs_lt", 150.0),
    ("5b", "Peak RSS of the bridge, 4 concurrent cold C-MOVEs of 4 DISTINCT 300-slice series",
     "rss_4distinct_mb", None, "MB", "abs_lt", 150.0),
    ("6a", "Synthetic 100k studies / 1M series: C-FIND PatientName wildcard, all collections, p50",
     "syn_cfind_p50_ms", None, "ms", "abs_lt", 50.0),
    ("6b", "Synthetic catalog: full `tcia-bridge sync` time",
     "syn_sync_s", None, "s", "info", None),
    ("6c", "Synthetic: C-FIND with a leading-wildcard PatientName, all collections, p50",
     "syn_cfind2_p50_ms", None, "ms", "info", None),
    ("6d", "Issue 8: peak RSS of the bridge harvesting the synthetic catalog on start, vs the old `sync`'s peak RSS",
     "syn_harvest_rss_mb", "syn_sync_rss_mb", "MB", "abs_lt", 150.0),
    ("6e", "Issue 8: bridge start -> complete study-level catalog (harvest on start), vs the old full `sync` time",
     "syn_harvest_study_s", "syn_sync_s", "s", "info", None),
    ("6f", "Issue 8: bridge start -> complete catalog, both levels (harvest on start), vs the old full `sync` time",
     "syn_harvest_s", "syn_sync_s", "s", "info", None),
    ("7", "Issue #2: peak RSS of the TCIA client downloading the 300-slice series",
     "client_rss_mb", None, "MB", "abs_lt", 64.0),
    ("8a", "Issue #3: C-MOVE throughput, cold, vs sequential baseline's end-to-end rate",
     "move_cold_mbps", "seq_mbps", "MB/s", "info", None),
    ("8b", "Issue #3: C-MOVE throughput, warm, vs Orthanc",
     "move_warm_mbps", "orthanc_move_mbps", "MB/s", "info", None),
    ("9a", "Issue #9: mixed load, 16 DIMSE associations (C-FIND; C-MOVE, C-GET of small series) + 64 HTTP clients (QIDO, WADO-RS metadata, frames), loopback: errors",
     "load_errors", None, "errors", "abs_lt", 1),
    ("9b", "Issue #9: mixed load, HTTP requests/s",
     "load_http_rps", None, "rps", "info", None),
    ("9c", "Issue #9: mixed load, DIMSE operations/s (C-FIND + C-MOVE + C-GET)",
     "load_dimse_rps", None, "rps", "info", None),
    ("9d", "Issue #9: mixed load, peak RSS of the bridge (VmHWM)",
     "load_peak_rss_mb", None, "MB", "abs_lt", 150.0),
    ("9e", "Issue #9: mixed load, bridge RSS growth (peak VmRSS of the last 10 s minus that of the first 10 s)",
     "load_rss_growth_mb", None, "MB", "abs_lt", 16.0),
    ("12a", "Issue 12: IDC source (bridge --source idc on the emulator's /v3 + /s3): cold C-MOVE of the 300-slice series vs limit = max(ListObjectsV2 + curl --parallel-max K of the objects, storescu alone)",
     "idc_move_cold_s", "idc_move_limit_s", "s", "ratio_le", 1.15),
    ("12b", "Issue 12: IDC source: C-MOVE request -> first file at destination, cold (baseline: ListObjectsV2 + one object GET + storescu's first file)",
     "idc_move_first_s", "idc_first_floor_s", "s", "abs_lt", 0.3),
    ("12c", "Issue 12: IDC source: bridge start -> complete catalog, harvest of the synthetic IDC index (emulator --idc-synthetic), vs the same /v3/sql pages read back to back",
     "idc_harvest_s", "idc_replay_s", "s", "info", None),
    ("12d", "Issue 12: IDC source: bridge start -> complete study level (same harvest), vs the whole replay of 12c (all three passes; information)",
     "idc_harvest_study_s", "idc_replay_s", "s", "info", None),
    ("12e", "Issue 12: IDC source: peak RSS (VmHWM) of the bridge harvesting the synthetic IDC index",
     "idc_harvest_rss_mb", None, "MB", "abs_lt", 150.0),
    ("12f", "Issue 12: the 12a limit's two tools at once, no bridge (ListObjectsV2 + curl --parallel-max K into one directory while storescu sends the same files from another) vs the 12a limit (each tool alone): the two jobs sharing this machine's cores, as they must inside a bridge",
     "idc_both_s", "idc_move_limit_s", "s", "info", None),
    ("12g", "Issue 12: IDC cold C-MOVE (12a) vs the two tools at once (12f): both jobs in one bridge (plus an MD5 per object, the cache write, the DICOM header parse; sending from memory) against the same two jobs as separate tools",
     "idc_move_cold_s", "idc_both_s", "s", "info", None),
]


def goal_text(kind, g, unit):
    if kind == "ratio_le":
        return "ratio <= %g" % g
    if kind == "ratio_ge":
        return "ratio >= %g" % g
    if kind == "abs_lt":
        return "< %s" % fmt(g, unit)
    return "(info)"


def meets(kind, ratio, g):
    return ratio <= g if kind == "ratio_le" else ratio >= g


def render(r):
    out = []
    if r.get("note_aa_quick"):
        out += ["**" + r["note_aa_quick"] + "**", ""]
    out += ["| # | figure | bridge | baseline | ratio | goal | met? |",
            "|---|---|---|---|---|---|---|"]
    for n, fig, bk, basek, unit, kind, g in ROWS:
        b = num(r, bk)
        base = num(r, basek) if basek else None
        b_runs, base_runs = runs(r, bk), runs(r, basek)
        bs = fmt(b, unit) + spread(b_runs, unit) if b is not None else "n/a: " + reason(r, bk)
        if basek:
            bases = fmt(base, unit) + spread(base_runs, unit) if base is not None else "n/a: " + reason(r, basek)
        else:
            bases = "-"
        ratio = None
        if b is not None and base:
            ratio = b / base
        rs = ("%.2f" % ratio) if ratio is not None else ("-" if not basek else "n/a")
        # Per-run ratios: run i of the bridge over run i of the baseline.
        per_run = []
        if ratio is not None and b_runs and base_runs and min(len(b_runs), len(base_runs)) >= 2:
            per_run = [x / y for x, y in zip(b_runs, base_runs) if y]
            if per_run:
                rs += " [%.2f-%.2f]" % (min(per_run), max(per_run))
        met = "-"
        if kind in ("ratio_le", "ratio_ge"):
            met = ("yes" if meets(kind, ratio, g) else "NO") if ratio is not None else "n/a"
            if per_run:
                met += " (%d/%d runs)" % (sum(1 for x in per_run if meets(kind, x, g)), len(per_run))
        elif kind == "abs_lt":
            met = ("yes" if b < g else "NO") if b is not None else "n/a"
        extra = r.get("label_" + n)
        if extra:
            fig = fig + " (" + extra + ")"
        out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            n, fig, bs.replace("|", "/"), bases.replace("|", "/"), rs, goal_text(kind, g, unit), met))
    notes = [(k, v) for k, v in r.items() if k.startswith("note_")]
    if notes:
        out.append("")
        out.append("Notes:")
        for k, v in sorted(notes):
            out.append("- " + v)
    return "\n".join(out)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    print(render(load(sys.argv[1])))


if __name__ == "__main__":
    main()
