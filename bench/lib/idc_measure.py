#!/usr/bin/env python3
"""IDC helpers for bench/idc_bench.sh (issue 12; python3 standard library only).

Every subcommand prints its result on stdout and exits non-zero with a reason on stderr when it
cannot. Every loop is bounded (page count and a time limit).

Subcommands:
  locate --api URL --series UID
      One line of JSON: aws_bucket, crdc_series_uuid, instanceCount of the series (POST /v3/sql).
  object-urls --bucket-url TEMPLATE --bucket B --prefix P
      ListObjectsV2 of the prefix (every page): one object URL per line, keys in listing order,
      zero-byte and '/'-ending keys skipped (as the bridge does).
  harvest-replay --api URL [--page-rows N] [--max-seconds S]
      The /v3/sql pages a bridge harvest of every collection reads (the patient, study and series
      queries of bridge/idc/IdcClient.cpp, per collection of collections_index, pages of N rows
      LIMIT/OFFSET until a short page), sent back to back on one keep-alive connection; bodies
      read, not parsed. One line of JSON: seconds, requests, bytes, rows.
"""
import argparse
import http.client
import json
import re
import sys
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

# Keep in step with bridge/idc/IdcClient.cpp (kSeriesColumns, kStudyColumns, patientBatches).
SERIES_COLUMNS = ("collection_id, PatientID, PatientSex, PatientAge, StudyInstanceUID, StudyDate, StudyDescription, "
                  "SeriesInstanceUID, SeriesDate, SeriesDescription, SeriesNumber, Modality, BodyPartExamined, "
                  "Manufacturer, ManufacturerModelName, instanceCount, series_size_MB, license_short_name, "
                  "source_DOI, analysis_result_id, series_revised_idc_version")
STUDY_COLUMNS = ("collection_id, PatientID, PatientSex, PatientAge, StudyInstanceUID, StudyDate, StudyDescription, "
                 "SeriesInstanceUID")
PATIENT_COLUMNS = "collection_id, PatientID, PatientSex, SeriesInstanceUID"
HARVEST_QUERIES = [  # (columns, ORDER BY) per collection, in the harvester's order
    (PATIENT_COLUMNS, "collection_id, PatientID, SeriesInstanceUID"),
    (STUDY_COLUMNS, "StudyInstanceUID, SeriesInstanceUID"),
    (SERIES_COLUMNS, "SeriesInstanceUID"),
]


def fail(msg):
    sys.stderr.write(msg + "\n")
    sys.exit(2)


def quote(v):
    return "'" + v.replace("'", "''") + "'"


def sql(api, query, max_rows=10000, timeout=120):
    body = json.dumps({"sql": query, "max_rows": max_rows}).encode()
    req = urllib.request.Request(api.rstrip("/") + "/sql", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def cmd_locate(a):
    page = sql(a.api, "SELECT aws_bucket, crdc_series_uuid, instanceCount FROM index WHERE SeriesInstanceUID = "
               + quote(a.series) + " LIMIT 1")
    rows = page.get("rows") or []
    if not rows:
        fail("series %s is not in the IDC index" % a.series)
    row = rows[0]
    if isinstance(row, list):
        row = dict(zip(page.get("columns", []), row))
    print(json.dumps({k: row.get(k) for k in ("aws_bucket", "crdc_series_uuid", "instanceCount")}))


def local(tag):
    return tag.rsplit("}", 1)[-1]


def cmd_object_urls(a):
    base = a.bucket_url.replace("{bucket}", a.bucket).rstrip("/")
    token, urls = None, []
    for _ in range(10000):
        q = {"list-type": "2", "prefix": a.prefix, "max-keys": "1000"}
        if token:
            q["continuation-token"] = token
        with urllib.request.urlopen(base + "/?" + urllib.parse.urlencode(q), timeout=60) as r:
            root = ET.fromstring(r.read())
        truncated, token = False, None
        for el in root:
            name = local(el.tag)
            if name == "Contents":
                key = size = None
                for c in el:
                    if local(c.tag) == "Key":
                        key = c.text or ""
                    elif local(c.tag) == "Size":
                        size = int(c.text or "0")
                if key and not key.endswith("/") and size != 0:
                    urls.append(base + "/" + urllib.parse.quote(key))
            elif name == "IsTruncated":
                truncated = (el.text or "").strip() == "true"
            elif name == "NextContinuationToken":
                token = el.text
        if not truncated or not token:
            break
    if not urls:
        fail("no objects under %s/%s" % (base, a.prefix))
    print("\n".join(urls))


def cmd_harvest_replay(a):
    names = sql(a.api, "SELECT collection_name, collection_id FROM collections_index ORDER BY collection_name "
                "LIMIT 10000 OFFSET 0")
    ids = []
    for row in names.get("rows") or []:
        if isinstance(row, list):
            row = dict(zip(names.get("columns", []), row))
        if row.get("collection_id"):
            ids.append(row["collection_id"])
    if not ids:
        fail("collections_index lists no collection")
    u = urllib.parse.urlsplit(a.api.rstrip("/") + "/sql")
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=120)
    requests = nbytes = rows = 0
    count_re = re.compile(rb'"row_count"\s*:\s*(\d+)')
    trunc_re = re.compile(rb'"truncated"\s*:\s*true')
    deadline = time.monotonic() + a.max_seconds
    t0 = time.perf_counter()
    for cid in ids:
        for columns, order in HARVEST_QUERIES:
            offset = 0
            while True:
                if time.monotonic() > deadline:
                    fail("harvest replay exceeded %d s" % a.max_seconds)
                q = "SELECT %s FROM index WHERE collection_id = %s ORDER BY %s LIMIT %d OFFSET %d" % (
                    columns, quote(cid), order, a.page_rows, offset)
                conn.request("POST", u.path, body=json.dumps({"sql": q, "max_rows": a.page_rows}),
                             headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                body = r.read()
                requests += 1
                nbytes += len(body)
                if r.status != 200:
                    fail("/v3/sql -> HTTP %d: %s" % (r.status, body[:200]))
                m = count_re.search(body[-400:]) or count_re.search(body)
                got = int(m.group(1)) if m else 0
                rows += got
                if got == 0 or (got < a.page_rows and not trunc_re.search(body[-400:])):
                    break
                offset += got
    print(json.dumps({"seconds": round(time.perf_counter() - t0, 3), "requests": requests, "bytes": nbytes,
                      "rows": rows, "collections": len(ids)}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("locate")
    s.add_argument("--api", required=True)
    s.add_argument("--series", required=True)
    s.set_defaults(fn=cmd_locate)
    s = sub.add_parser("object-urls")
    s.add_argument("--bucket-url", required=True)
    s.add_argument("--bucket", required=True)
    s.add_argument("--prefix", required=True)
    s.set_defaults(fn=cmd_object_urls)
    s = sub.add_parser("harvest-replay")
    s.add_argument("--api", required=True)
    s.add_argument("--page-rows", type=int, default=10000)
    s.add_argument("--max-seconds", type=int, default=3600)
    s.set_defaults(fn=cmd_harvest_replay)
    a = p.parse_args()
    try:
        a.fn(a)
    except (OSError, ValueError, http.client.HTTPException, ET.ParseError) as e:
        fail("%s: %s" % (a.cmd, e))


if __name__ == "__main__":
    main()
