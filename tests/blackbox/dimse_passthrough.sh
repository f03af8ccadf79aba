#!/usr/bin/env bash
# C-MOVE / C-GET send the cached bytes unchanged (issue 11 item 3): the built tcia-bridge in front
# of the built tcia-emulator, DCMTK's movescu / getscu / storescp as peers. For one series of each
# stored transfer syntax the sample data has (Explicit VR LE, Implicit VR LE, JPEG lossless SV1,
# JPEG-LS lossless), a cold C-MOVE (from TCIA) and a warm one (from the instance cache) into a
# storescp that accepts every syntax and writes what it receives bit for bit (+xa +B) must give
# datasets byte-identical to the emulator's files (everything after the Part-10 meta header; md5).
# Then the transcode fallback: a storescp that takes uncompressed only gets decoded pixel data
# equal to the source's, and getscu (+B) gets the Explicit VR LE series byte for byte.
set -euo pipefail
B=${BRIDGE_BINARY_DIR:?set BRIDGE_BINARY_DIR}
DATA=${DATA:-$B/sample-data}
export TCP_NODELAY=1
WORK=$(mktemp -d /tmp/passthrough-bb-XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
fail() { echo "FAIL: $*" >&2; echo "--- bridge log" >&2; tail -30 "$WORK/bridge.log" >&2 || true; exit 1; }

ensure_sample_data
start_emulator || fail "emulator did not start"

# ALL accepts every syntax and writes the received dataset as it came (+B); PLAIN is a default
# storescp: uncompressed syntaxes only
start_storescp ALL "$WORK/all" +xa +B || fail "storescp +xa did not start"
ALL=$STORE_PORT
start_storescp PLAIN "$WORK/plain" || fail "storescp did not start"
PLAIN=$STORE_PORT
mkdir -p "$WORK/got"

"$B/tcia-bridge" --tcia-url "http://127.0.0.1:$EMU/nbia-api/services/v4" --aet TCIA --dimse-port 0 --no-web \
  --cache-dir "$WORK/cache" --destination "ALL=127.0.0.1:$ALL" --destination "PLAIN=127.0.0.1:$PLAIN" \
  > "$WORK/bridge.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q "DIMSE listening on" "$WORK/bridge.log" 2>/dev/null && break; sleep 0.1; done
PORT=$(grep -o 'DIMSE listening on 127.0.0.1:[0-9]*' "$WORK/bridge.log" | sed 's/.*://') || true
[ -n "$PORT" ] || fail "bridge did not print its DIMSE port"

tag_of() { dcmdump -s +P "$1" "$2" | sed 's/.*\[\(.*\)\].*/\1/' | tr -d '\0 '; }
ts_of() { dcmdump -s -Un +P TransferSyntaxUID "$1" | sed 's/.*\[\(.*\)\].*/\1/' | tr -d '\0 '; }
# "SOP TS DATASET_MD5" of a Part-10 file in one dcmdump call; the dataset md5 covers the bytes
# after the meta header: 128 preamble + "DICM" + (0002,0000) (12 bytes) + its value.
info_of() {
  local gl ts sop
  read -r gl ts sop < <(dcmdump -s -M -Un +P 0002,0000 +P 0002,0010 +P SOPInstanceUID "$1" | tr -d '\0' |
    awk '/^\(0002,0000\)/{g=$3} /^\(0002,0010\)/{t=$3} /^\(0008,0018\)/{s=$3} END{gsub(/[][]/,"",t); gsub(/[][]/,"",s); print g, t, s}')
  [[ $gl =~ ^[0-9]+$ ]] || { echo "? ? no-meta-length"; return; }
  echo "$sop $ts $(tail -c +$((128 + 4 + 12 + gl + 1)) "$1" | md5sum | cut -d' ' -f1)"
}
pixels_md5() {  # native pixel data (decoded first when compressed), as dimse_dcmtk.sh
  local src=$1 d
  d=$(mktemp -d "$WORK/px-XXXXXX")
  case $(ts_of "$src") in
    1.2.840.10008.1.2.4.8*) dcmdjpls "$src" "$d/f.dcm" && src=$d/f.dcm ;;
    1.2.840.10008.1.2.4.*) dcmdjpeg "$src" "$d/f.dcm" && src=$d/f.dcm ;;
    1.2.840.10008.1.2.5) dcmdrle "$src" "$d/f.dcm" && src=$d/f.dcm ;;
  esac
  mkdir "$d/raw"
  dcmdump +W "$d/raw" "$src" > /dev/null
  cat "$d"/raw/*.raw | md5sum | cut -d' ' -f1
}

# One public series per stored syntax: SERIES_OF[ts]=<series dir>
declare -A SERIES_OF
for dir in "$DATA"/TCGA-DEMO-CT/*/*/* "$DATA"/RIDER-Demo-MR/*/*/*; do
  f=$(find "$dir" -name '*.dcm' | head -1)
  [ -n "$f" ] || continue
  ts=$(ts_of "$f")
  [ -n "${SERIES_OF[$ts]:-}" ] || SERIES_OF[$ts]=$dir
done
for want in 1.2.840.10008.1.2.1 1.2.840.10008.1.2 1.2.840.10008.1.2.4.70 1.2.840.10008.1.2.4.80; do
  [ -n "${SERIES_OF[$want]:-}" ] || fail "the sample data has no series in $want"
done

move_series() {  # move_series DEST_AE SERIES_DIR LOG
  local dir=$2 study series
  series=$(basename "$dir"); study=$(basename "$(dirname "$dir")")
  movescu -S -aec TCIA -aet BBSCU -aem "$1" -k QueryRetrieveLevel=SERIES -k StudyInstanceUID="$study" \
    -k SeriesInstanceUID="$series" 127.0.0.1 "$PORT" > "$3" 2>&1 || fail "movescu $series: $(tail -3 "$3")"
}
# expect_identical RECEIVED_DIR SERIES_DIR LABEL: every source instance arrived, same dataset bytes
expect_identical() {
  local got=$1 dir=$2 label=$3 f sop ts md5 n=0
  declare -A want=()
  for f in "$dir"/*.dcm; do read -r sop ts md5 < <(info_of "$f"); want[$sop]="$ts $md5"; done
  for f in "$got"/*; do
    read -r sop ts md5 < <(info_of "$f")
    [ -n "${want[$sop]:-}" ] || fail "$label: unexpected instance $sop"
    [ "$ts $md5" = "${want[$sop]}" ] || fail "$label: $sop arrived as '$ts $md5', the source is '${want[$sop]}'"
    n=$((n + 1))
  done
  [ "$n" = "${#want[@]}" ] || fail "$label: $n of ${#want[@]} instances arrived"
}

for ts in 1.2.840.10008.1.2.1 1.2.840.10008.1.2 1.2.840.10008.1.2.4.70 1.2.840.10008.1.2.4.80; do
  dir=${SERIES_OF[$ts]}
  for pass in cold warm; do
    rm -f "$WORK"/all/*
    move_series ALL "$dir" "$WORK/move-$ts-$pass.log"
    expect_identical "$WORK/all" "$dir" "C-MOVE $pass $ts"
    ok "C-MOVE $pass, $ts: $(ls "$WORK/all" | wc -l) datasets byte-identical to the source"
  done
done

# ---- fallback: the destination takes uncompressed only -> decoded, same pixels
for ts in 1.2.840.10008.1.2.4.70 1.2.840.10008.1.2.4.80; do
  dir=${SERIES_OF[$ts]}
  rm -f "$WORK"/plain/*
  move_series PLAIN "$dir" "$WORK/move-plain-$ts.log"
  declare -A px=()
  for f in "$dir"/*.dcm; do px[$(tag_of SOPInstanceUID "$f")]=$(pixels_md5 "$f"); done
  n=0
  for f in "$WORK"/plain/*; do
    sop=$(tag_of SOPInstanceUID "$f")
    case $(ts_of "$f") in 1.2.840.10008.1.2|1.2.840.10008.1.2.1|1.2.840.10008.1.2.2) ;; *) fail "fallback $ts: $sop arrived in $(ts_of "$f")" ;; esac
    [ "$(pixels_md5 "$f")" = "${px[$sop]}" ] || fail "fallback $ts: pixel data of $sop differs"
    n=$((n + 1))
  done
  [ "$n" = "${#px[@]}" ] || fail "fallback $ts: $n of ${#px[@]} instances arrived"
  unset px
  ok "C-MOVE (warm) to an uncompressed-only storescp, $ts: $n instances decoded, pixel data equal"
done

# ---- C-GET of the cached Explicit VR LE series: getscu writes what it receives (+B)
dir=${SERIES_OF[1.2.840.10008.1.2.1]}
getscu -S +B -aec TCIA -aet BBSCU -od "$WORK/got" -k QueryRetrieveLevel=SERIES -k StudyInstanceUID="$(basename "$(dirname "$dir")")" \
  -k SeriesInstanceUID="$(basename "$dir")" 127.0.0.1 "$PORT" > "$WORK/get.log" 2>&1 || fail "getscu: $(tail -3 "$WORK/get.log")"
expect_identical "$WORK/got" "$dir" "C-GET"
ok "C-GET (warm), 1.2.840.10008.1.2.1: $(ls "$WORK/got" | wc -l) datasets byte-identical to the source"
