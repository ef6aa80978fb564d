#!/bin/bash
# Upgrade and downgrade of Junction's Debian package in a Debian chroot (amd64, debootstrap'd
# minbase from Debian's mirror), with apt as a user runs it:
#   install version N (apt pulls nodejs and systemd), check the files, the user and `junction check`;
#   edit the config and leave state in /var/lib/junction; install N+1 (the same sources, the patch
#   version bumped): config and state kept; install N again (downgrade): the same.
# A running service is not tested here: no systemd runs in a chroot (the maintainer scripts then
# enable the unit without starting it); the image's boot test covers the running service.
#
#   sudo images/deb-upgrade-test.sh          # ~3.5 min the first time (debootstrap), then ~1.5 min
#
# Environment:
#   DEB_TEST_DIR   work directory (default /var/tmp/junction-deb-test); the chroot is kept there and
#                  reused (FRESH=1 makes a new one)
#   SUITE, MIRROR  Debian suite (default trixie) and mirror (default http://deb.debian.org/debian)
#   JUNCTION_DIST  package this built dist/ instead of building (see build-deb.sh)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${DEB_TEST_DIR:-/var/tmp/junction-deb-test}
SUITE=${SUITE:-trixie}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
ROOT=$WORK/chroot
[ "$(id -u)" = 0 ] || { echo "deb-upgrade-test.sh: run as root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "deb-upgrade-test.sh: debootstrap missing (apt install debootstrap)" >&2; exit 1; }

T0=$(date +%s)
step() { echo "=== [$(( $(date +%s) - T0 ))s] $*"; }
fail() { echo "deb-upgrade-test.sh: FAILED: $*" >&2; exit 1; }
MOUNTED=()
cleanup() { local i; for (( i=${#MOUNTED[@]}-1; i>=0; i-- )); do umount "${MOUNTED[$i]}" 2>/dev/null || umount -l "${MOUNTED[$i]}" || true; done; }
trap cleanup EXIT
in_chroot() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
apt_install() { in_chroot apt-get -o APT::Install-Recommends=false -o Acquire::Retries=3 -y -q install "$@"; }

# ---------------------------------------------------------------- versions N and N+1
V1=$(node -p "require('$HERE/../package.json').version")
V2=$(node -p "const v = '$V1'.split('.'); v[2] = String(Number(v[2]) + 1); v.join('.')")
step "building junction $V1 and $V2 (amd64)"
mkdir -p "$WORK"
DEB_WORK=$WORK/build DEB_OUT=$WORK/debs "$HERE/build-deb.sh" amd64 >/dev/null
# N+1 from the same build (dist/ is built once): only the version differs.
JUNCTION_DIST=${JUNCTION_DIST:-$WORK/build/src/dist} JUNCTION_VERSION=$V2 DEB_WORK=$WORK/build DEB_OUT=$WORK/debs \
  "$HERE/build-deb.sh" amd64 >/dev/null
ls -l "$WORK/debs"

# ---------------------------------------------------------------- the chroot
if [ "${FRESH:-0}" = 1 ] || [ ! -f "$WORK/chroot.ok" ]; then
  rm -rf "$ROOT" "$WORK/chroot.ok"
  step "debootstrap --variant=minbase $SUITE ($MIRROR)"
  debootstrap --arch=amd64 --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; fail "debootstrap"; }
  touch "$WORK/chroot.ok"
else
  step "reusing the chroot in $ROOT (FRESH=1 for a new one)"
  in_chroot sh -c 'dpkg -P junction >/dev/null 2>&1 || true'
fi
mount -t proc proc "$ROOT/proc"; MOUNTED+=("$ROOT/proc")
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"; chmod 755 "$ROOT/usr/sbin/policy-rc.d"
cp "$WORK/debs/junction_${V1}_amd64.deb" "$WORK/debs/junction_${V2}_amd64.deb" "$ROOT/tmp/"
in_chroot apt-get -q update >/dev/null

installed() { in_chroot dpkg-query -W -f '${Version}' junction; }
check_files() { # version
  [ "$(installed)" = "$1" ] || fail "installed version $(installed), expected $1"
  in_chroot junction version | grep -qF "$1" || fail "junction version does not say $1"
  in_chroot junction check --config /etc/junction/junction.yaml >/dev/null || fail "junction check"
  in_chroot id -nG junction | grep -qw dialout || fail "junction is not in dialout"
  [ "$(in_chroot stat -c '%U:%G %a' /etc/junction /etc/junction/junction.yaml /var/lib/junction | tr '\n' ' ')" = "root:junction 750 root:junction 640 junction:junction 750 " ] \
    || fail "ownership: $(in_chroot stat -c '%n %U:%G %a' /etc/junction /etc/junction/junction.yaml /var/lib/junction | tr '\n' ' ')"
  [ "$(in_chroot systemctl is-enabled junction.service)" = enabled ] || fail "junction.service not enabled"
  [ "$(in_chroot readlink /usr/bin/junction)" = ../lib/junction/dist/bin/junction.cjs ] || fail "/usr/bin/junction"
  in_chroot su -s /bin/sh junction -c 'cat /etc/junction/junction.yaml' >/dev/null || fail "the user junction cannot read its config"
  echo "ok: junction $1 installed; junction check passes; user junction in dialout; permissions; unit enabled"
}
kept() {
  in_chroot grep -q '^# edited by the admin' /etc/junction/junction.yaml || fail "the admin's config was replaced"
  [ "$(in_chroot cat /var/lib/junction/mqtt-sessions.json)" = '{"kept":true}' ] || fail "state in /var/lib/junction lost"
  echo "ok: the admin's config and /var/lib/junction kept"
}

step "install $V1: apt install ./junction_${V1}_amd64.deb (pulls nodejs, systemd)"
apt_install "/tmp/junction_${V1}_amd64.deb" >"$WORK/apt-install.log" 2>&1 || { tail -30 "$WORK/apt-install.log" >&2; fail "apt install $V1"; }
grep -E '^(Setting up (nodejs|systemd|junction) )' "$WORK/apt-install.log" || true
check_files "$V1"
in_chroot sh -c 'echo "# edited by the admin" >> /etc/junction/junction.yaml; echo "{\"kept\":true}" > /var/lib/junction/mqtt-sessions.json'

step "upgrade to $V2: apt install ./junction_${V2}_amd64.deb"
apt_install "/tmp/junction_${V2}_amd64.deb" >"$WORK/apt-upgrade.log" 2>&1 || { tail -30 "$WORK/apt-upgrade.log" >&2; fail "apt install $V2"; }
grep -E '^(Unpacking|Setting up) junction' "$WORK/apt-upgrade.log"
check_files "$V2"; kept

step "downgrade to $V1: apt install --allow-downgrades ./junction_${V1}_amd64.deb"
apt_install --allow-downgrades "/tmp/junction_${V1}_amd64.deb" >"$WORK/apt-downgrade.log" 2>&1 || { tail -30 "$WORK/apt-downgrade.log" >&2; fail "apt downgrade"; }
grep -E '^(Unpacking|Setting up) junction' "$WORK/apt-downgrade.log"
check_files "$V1"; kept

rm -f "$ROOT/usr/sbin/policy-rc.d"
step "PASS: install, upgrade, downgrade (total $(( $(date +%s) - T0 ))s)"
