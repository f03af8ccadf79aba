#!/usr/bin/env bash
# Regenerates the seed corpora under fuzz/corpus/<target>/ from real inputs (committed; rerun
# only to refresh them). Needs a normal build with tcia-emulator (BUILD_DIR, default build/), the
# dcmtk tools and python3-pydicom's test files.
#   web_route, accept      OHIF 3.13's requests and Accept headers (toolchain.md 5), Weasis's
#                          "?&includefield=", the routes of tests/unit/web/WebRouteTest.cpp
#   identifier             C-FIND/C-MOVE identifiers like findscu/movescu -k send (dump2dcm -F)
#   tcia_json              tests/data/tcia-samples (captured TCIA answers)
#   zip_stream             the emulator's streamed getImage ZIPs (DEFLATE, data descriptors, md5hashes.csv)
#   dicom_json_record      records as the core builds them from TCIA answers
#   dicom_json_dataset     emulator-generated and pydicom instances, without file meta
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD_DIR:-$ROOT/build}
OUT=$ROOT/fuzz/corpus
TMP=$(mktemp -d)
EMU_PID=""
cleanup() { [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

# one seed file per line of stdin: NAME-<n>
lines_to_seeds() {
  local dir=$1 n=0
  mkdir -p "$dir"
  while IFS= read -r line; do
    n=$((n + 1))
    printf '%s' "$line" > "$dir/seed-$n"
  done
}

rm -rf "$OUT"
mkdir -p "$OUT"

lines_to_seeds "$OUT/web_route" <<'LINES'
/dicom-web/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030,00080060,00080090,00100030
/dicom-web/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030,00080060,00080090,00100030&StudyInstanceUID=1.2.826.0.1.3680043.10.1234.1.1
/dicom-web/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030,00080060,00080090,00100030&00100020=TCGA-DM-0001
/dicom-web/studies/1.2.826.0.1.3680043.10.1234.1.1/series?includefield=00080021,00080031,0008103E,00200011
/dicom-web/studies/1.2.826.0.1.3680043.10.1234.1.1/series/1.2.826.0.1.3680043.10.1234.2.1/metadata
/dicom-web/studies/1.2.826.0.1.3680043.10.1234.1.1/series/1.2.826.0.1.3680043.10.1234.2.1/instances/1.2.826.0.1.3680043.10.1234.3.1.1/frames/1
/dicom-web/studies/1.2.826.0.1.3680043.10.1234.1.1/series/1.2.826.0.1.3680043.10.1234.2.6/instances/1.2.826.0.1.3680043.10.1234.3.6.1/frames/1,3,5
/dicom-web/studies/1.2.826.0.1.3680043.10.1234.1.1/series/1.2.826.0.1.3680043.10.1234.2.6/instances/1.2.826.0.1.3680043.10.1234.3.6.1/frames/2/rendered
/dicom-web/studies/1.2/series/3.4/instances/5.6/bulkdata/7fe00010
/dicom-web/studies/1.2/series/3.4/instances/5.6/pixeldata
/dicom-web/studies/1.2/series/3.4/instances/5.6/thumbnail
/dicom-web/studies/1.2/rendered
/dicom-web/studies?&includefield=&PatientID=TCGA-DM-0002
/dicom-web/studies?PatientID=TCGA-DM-0001&PatientName=tcga&fuzzymatching=true
/dicom-web/studies?PatientID=TCGA-DM-0001&limit=1&offset=1
/dicom-web/series?Modality=CT&SeriesDate=20010101-20011231&includefield=all
/dicom-web/instances?SOPClassUID=1.2.840.10008.5.1.4.1.1.2&StudyInstanceUID=1.2.3,1.2.4
/dicom-web/studies/1.2.826.0.1.3680043.10.1234.1.1/instances?includefield=00280010%2C00280011
/dicom-web/studies?PatientName=M%C3%BCller*&StudyDate=-20050101&ClinicalTrialProtocolID=RIDER-Demo-MR
/dicom-web/studies?ReferencedStudySequence.ReferencedSOPClassUID=1.2
LINES

lines_to_seeds "$OUT/accept" <<'LINES'
application/dicom+json, multipart/related; type=application/octet-stream; transfer-syntax=*
multipart/related; type="application/octet-stream"; transfer-syntax=*; transfer-syntax=*
multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1
multipart/related; type="image/jls"; transfer-syntax=1.2.840.10008.1.2.4.80, multipart/related; type="application/octet-stream"; q=0.5
multipart/related; type="application/dicom"; x="a,b", application/json
application/json, text/plain, */*
image/avif,image/webp,image/apng,image/*,*/*;q=0.8
text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8
application/dicom; transfer-syntax=*
image/jpeg; q=1, image/png; q=0.5
multipart/related; type=image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.50
LINES

# identifiers: dump2dcm text -> dataset without meta; the first byte selects syntax and model
mkdir -p "$OUT/identifier"
n=0
identifier() {  # SELECTOR-BYTE SYNTAX-OPTION KEYS...
  local sel=$1 syn=$2; shift 2
  n=$((n + 1))
  printf '%s\n' "$@" > "$TMP/id.dump"
  dump2dcm -q -F "$syn" "$TMP/id.dump" "$TMP/id.bin"
  { printf "\\x$sel"; cat "$TMP/id.bin"; } > "$OUT/identifier/seed-$n"
}
identifier 00 +te '(0008,0052) CS [STUDY]' '(0010,0020) LO [TCGA-DM-0001]' '(0020,000d) UI []' '(0010,0010) PN []'
identifier 01 +ti '(0008,0052) CS [SERIES]' '(0020,000d) UI [1.2.826.0.1.3680043.10.1234.1.1]' '(0020,000e) UI []' '(0008,0060) CS [CT\MR]' '(0008,0021) DA [20010101-]'
identifier 04 +te '(0008,0052) CS [PATIENT]' '(0010,0010) PN [SMITH*]' '(0010,0020) LO []' '(0012,0020) LO [TCGA-DEMO-CT]'
identifier 00 +te '(0008,0005) CS [ISO_IR 100]' '(0008,0052) CS [IMAGE]' '(0020,000d) UI [1.2]' '(0020,000e) UI [1.2.3]' '(0008,0018) UI []' '(0020,0013) IS []'
identifier 02 +tb '(0008,0052) CS [STUDY]' '(0020,000d) UI [1.2.826.0.1.3680043.10.1234.1.1\1.2.826.0.1.3680043.10.1234.1.2]'
identifier 00 +te '(0008,0005) CS [ISO_IR 192]' '(0008,0052) CS [STUDY]' '(0010,0010) PN [Müller^Jürgen]' '(0008,0020) DA [20050101-20051231]' '(0008,1032) SQ (Sequence with explicit length #=1)' '(fffe,e000) na (Item with explicit length #=1)' '(0008,0100) SH [X]' '(fffe,e00d) na (ItemDelimitationItem for re-encoding)' '(fffe,e0dd) na (SequenceDelimitationItem for re-encoding)'
identifier 00 +te '(0008,0052) CS [SERIES]' '(0020,000e) UI [1.2.826.0.1.3680043.10.1234.2.1]' '(0008,0054) AE [TCIA]' '(0028,0010) US 64' '(7fe0,0010) OW 0000\0001'

cp -r "$ROOT/tests/data/tcia-samples" "$OUT/tcia_json"

# DICOM JSON of query records: "ggggeeee=value" lines, "--" between records
lines_to_seeds "$OUT/dicom_json_record" <<'LINES'
00100010=TCGA-DM-0001\n00100020=TCGA-DM-0001\n0020000D=1.2.826.0.1.3680043.10.1234.1.1\n00080020=20010314\n00201206=2\n00201208=18\n00080061=CT\n00081030=
00100010=Müller^Jürgen\n00080005=ISO_IR 192\n00101010=049Y\n00200011=4\n00201209=6\n0008103E=T1 SAG\n--\n00200011=4.000000\n00120020=RIDER-Demo-MR
00280010=64\n00280011=64\n00280100=16\n00280008=8\n00080016=1.2.840.10008.5.1.4.1.1.7.3\n00081190=http://127.0.0.1/dicom-web/studies/1.2
00100010=\n00100030=\n00101010=\n00200011=\n00131010=TCGA-DEMO-CT\n00201206=
LINES
for f in "$OUT"/dicom_json_record/seed-*; do printf '%b' "$(cat "$f")" > "$f.tmp" && mv "$f.tmp" "$f"; done

# Emulator data: instances (without meta) and streamed getImage ZIPs
mkdir -p "$OUT/dicom_json_dataset" "$OUT/zip_stream"
EMU=$BUILD/emulator/tcia-emulator
if [ -x "$EMU" ]; then
  "$EMU" generate --out "$TMP/data" >/dev/null
  n=0
  # one instance of each series, smallest first, up to 32 KiB
  for series in "$TMP"/data/*/*/*/*/; do
    f=$(ls -S -r "$series"*.dcm | head -1)
    [ "$(stat -c %s "$f")" -le 32768 ] || continue
    n=$((n + 1))
    dcmconv -q -F +te "$f" "$TMP/ds.bin" && { printf '\x00'; cat "$TMP/ds.bin"; } > "$OUT/dicom_json_dataset/emulator-$n"
  done
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$EMU" serve --data "$TMP/data" --port "$PORT" --bind 127.0.0.1 --quiet & EMU_PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/emulator/stats" >/dev/null && break; sleep 0.1; done
  base="http://127.0.0.1:$PORT/nbia-api/services/v1/getImage?SeriesInstanceUID=1.2.826.0.1.3680043.10.1234.2"
  curl -sf "${base/getImage/getImageWithMD5Hash}.4" -o "$OUT/zip_stream/sr-with-md5.zip"
  curl -sf "$base.4" -o "$OUT/zip_stream/sr.zip"
  curl -sf "$base.9" -o "$TMP/mr.zip"
  [ "$(stat -c %s "$TMP/mr.zip")" -le 65536 ] && cp "$TMP/mr.zip" "$OUT/zip_stream/mr.zip"
else
  echo "make-corpus: no tcia-emulator in $BUILD: emulator seeds skipped" >&2
fi
PYD=/usr/lib/python3/dist-packages/pydicom/data/test_files
for f in rtdose.dcm MR_small_RLE.dcm; do
  [ -f "$PYD/$f" ] && dcmconv -q -F +te "$PYD/$f" "$TMP/ds.bin" 2>/dev/null &&
    { printf '\x01'; cat "$TMP/ds.bin"; } > "$OUT/dicom_json_dataset/pydicom-${f%.dcm}" || true
done
# a ZIP as Python writes it to a pipe: data descriptors, STORED and DEFLATED
python3 - "$OUT/zip_stream/python-pipe.zip" <<'PY'
import io, sys, zipfile
class Pipe(io.RawIOBase):
    def __init__(self): self.buf = bytearray()
    def writable(self): return True
    def write(self, b): self.buf += b; return len(b)
p = Pipe()
with zipfile.ZipFile(p, "w") as z:
    z.writestr(zipfile.ZipInfo("1-1.dcm"), b"DICM" * 40, compress_type=zipfile.ZIP_DEFLATED)
    z.writestr(zipfile.ZipInfo("LICENSE"), b"CC BY 4.0", compress_type=zipfile.ZIP_STORED)
    z.writestr(zipfile.ZipInfo("md5hashes.csv"), b"Filename,MD5Hash\n1-1.dcm,00112233445566778899aabbccddeeff\n")
open(sys.argv[1], "wb").write(bytes(p.buf))
PY
du -sh "$OUT"/*
