# labels: slow
# The Debian package in a fresh bookworm root: CPack builds the .deb from this build tree,
# debootstrap makes a minimal bookworm (cached per build tree), apt installs the .deb with the
# dependencies dpkg-shlibdeps named, and the service starts the way its systemd unit says (same
# ExecStart, same User, the root file system read-only but for the cache directory, as
# ProtectSystem=strict + CacheDirectory= give it). Then C-ECHO (DCMTK echoscu) and GET /health
# (curl) must answer. It runs in a private network namespace, so nothing listens beyond it.
# This machine has no systemd as PID 1, so the unit itself is checked with systemd-analyze
# verify and its ExecStart/User are what is started.
# Needs root (debootstrap, chroot, namespaces) and the Debian mirror (as install-deps.sh does).
set -euo pipefail
BIN=${BRIDGE_BINARY_DIR:?}
SRC=${BRIDGE_SOURCE_DIR:?}
WORK=$(mktemp -d /tmp/package-deb.XXXXXX)
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot, unshare)"
command -v debootstrap >/dev/null || fail "debootstrap missing (scripts/install-deps.sh installs it)"

# 1. The package.
cpack --config "$BIN/CPackConfig.cmake" -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1 || { cat "$WORK/cpack.log"; fail "cpack"; }
DEB=$(ls "$WORK"/pkg/tcia-bridge_*.deb)
dpkg-deb --info "$DEB" >"$WORK/info.txt"
grep -q '^ Depends:.*libdcmtk17' "$WORK/info.txt" || { cat "$WORK/info.txt"; fail "Depends lacks libdcmtk17"; }
dpkg-deb --contents "$DEB" >"$WORK/contents.txt"
for f in ./usr/bin/tcia-bridge ./usr/bin/tcia-emulator ./etc/tcia-bridge/tcia-bridge.json \
         ./lib/systemd/system/tcia-bridge.service; do
  grep -q " $f\$" "$WORK/contents.txt" || fail "package lacks $f"
done

# 2. A fresh bookworm root (minbase), made once per build tree, copied for each run.
# Cached beside ccache (not in the build tree): a new clone on the same machine reuses it.
BASE=${XDG_CACHE_HOME:-$HOME/.cache}/tcia-bridge-tests/bookworm-minbase
if [ ! -f "$BASE/.complete" ]; then
  rm -rf "$BASE"; mkdir -p "$(dirname "$BASE")"
  debootstrap --variant=minbase --include=systemd bookworm "$BASE" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log"; fail "debootstrap"; }
  touch "$BASE/.complete"
fi
ROOT=$WORK/root
cp -a "$BASE" "$ROOT"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp "$DEB" "$ROOT/tmp/"

# 3. apt installs it (dependencies from the mirror); postinst makes the user and the cache dir.
#    systemd comes along as on any server (minbase has none), so the unit can be verified; it is
#    not running in the chroot, so postinst enables nothing there.
in_root() { chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
mount -t proc proc "$ROOT/proc"
trap 'umount "$ROOT/proc" 2>/dev/null || true; bb_cleanup' EXIT
in_root apt-get update -qq >"$WORK/apt.log" 2>&1 || { tail -20 "$WORK/apt.log"; fail "apt-get update"; }
in_root apt-get install -y -qq --no-install-recommends systemd "/tmp/$(basename "$DEB")" >>"$WORK/apt.log" 2>&1 \
  || { tail -30 "$WORK/apt.log"; fail "apt-get install of the .deb"; }
in_root getent passwd tcia-bridge >/dev/null || fail "postinst made no tcia-bridge user"
[ "$(in_root stat -c %U /var/cache/tcia-bridge)" = tcia-bridge ] || fail "cache dir not owned by tcia-bridge"
umount "$ROOT/proc"

# 4. The unit: valid, hardened, and what it starts.
UNIT=$ROOT/lib/systemd/system/tcia-bridge.service
for want in 'User=tcia-bridge' 'ProtectSystem=strict' 'CacheDirectory=tcia-bridge' 'NoNewPrivileges=yes'; do
  grep -qx "$want" "$UNIT" || fail "unit lacks $want"
done
systemd-analyze verify --root="$ROOT" /lib/systemd/system/tcia-bridge.service >"$WORK/verify.log" 2>&1 \
  || { cat "$WORK/verify.log"; fail "systemd-analyze verify"; }
EXEC=$(sed -n 's/^ExecStart=//p' "$UNIT")
USER_=$(sed -n 's/^User=//p' "$UNIT")
# chroot --userspec with numbers: the names live in the fresh root's /etc/passwd, not the host's.
UID_=$(in_root id -u "$USER_"); GID_=$(in_root id -g "$USER_")

# 5. Start it as the unit would, in a private network (and mount) namespace: the root is
#    read-only except /var/cache/tcia-bridge; then echoscu and curl from the same namespace.
cat >"$WORK/inside.sh" <<EOF
set -euo pipefail
ip link set lo up
R=$ROOT
mount --bind "\$R" "\$R"
mount --bind "\$R/var/cache/tcia-bridge" "\$R/var/cache/tcia-bridge"
mount -o remount,bind,ro "\$R"
mount -t proc proc "\$R/proc"
mount -t tmpfs tmpfs "\$R/tmp"
chroot --userspec=$UID_:$GID_ "\$R" env -i PATH=/usr/bin:/bin TCP_NODELAY=1 $EXEC >"$WORK/service.log" 2>&1 &
PID=\$!
ok=0
for _ in \$(seq 1 300); do
  if curl -sf -o "$WORK/health.json" http://127.0.0.1:8080/health; then ok=1; break; fi
  kill -0 \$PID 2>/dev/null || break
  sleep 0.1
done
[ \$ok = 1 ] || { cat "$WORK/service.log"; echo "FAIL: /health never answered"; kill \$PID 2>/dev/null; exit 1; }
echoscu -aec TCIA -aet PKGTEST 127.0.0.1 11112 || { cat "$WORK/service.log"; echo "FAIL: C-ECHO"; kill \$PID; exit 1; }
ls "\$R/var/cache/tcia-bridge" >"$WORK/cache-listing.txt"
kill -TERM \$PID
wait \$PID || true
EOF
unshare -n -m bash "$WORK/inside.sh"
[ -s "$WORK/health.json" ] || fail "empty /health answer"
grep -q . "$WORK/cache-listing.txt" || fail "the service wrote nothing into its cache directory"
echo "package_deb: $(basename "$DEB") installed into a fresh bookworm root; service answered C-ECHO and /health"
