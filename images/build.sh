#!/bin/bash
# Builds a flashable arm64 Raspberry Pi SD image of Junction from Debian trixie packages only.
#
#   sudo images/deps.sh && sudo images/build.sh        # 11-20 min on 2 cores, mostly emulation
#
# Output (in $JUNCTION_IMAGE_DIR/out, default /var/tmp/junction-image/out):
#   junction-rpi-arm64.img      msdos label: p1 FAT32 "RASPIFIRM" (firmware, kernel, initrd, first-boot
#                               files), p2 ext4 "RASPIROOT" (the root filesystem)
#   junction-rpi-arm64.img.xz   the same, compressed (XZ=0 skips it)
#   junction-rpi-arm64.manifest packages with versions and sha256/mode/owner of every file of both
#                               partitions; compare two with images/manifest.sh
#   build-info.txt              inputs (suite, mirror, SOURCE_DATE_EPOCH, git commit) and timings
#
# No loop devices, device-mapper or vfat mounts are needed: the root filesystem is written with
# `mkfs.ext4 -d`, the FAT partition with mtools, and both are put into the image file at their offsets.
#
# Environment:
#   JUNCTION_IMAGE_DIR  work directory (chroot, caches, output); needs ~5 GB free. Default /var/tmp/junction-image
#   SUITE               Debian suite, default trixie
#   KERNEL_SUITE        where the kernel comes from: default $SUITE-backports (Linux 7.x, which has
#                       the Pi 5's RP1 drivers: Ethernet, USB, GPIO); $SUITE for its own kernel (6.12
#                       in trixie: Pi 3/4/Zero 2 W only)
#   SNAPSHOT            pin the archive to a snapshot.debian.org time stamp, e.g. 20251120T000000Z
#                       (then MIRROR/SECURITY_MIRROR default to the snapshot archive)
#   MIRROR              Debian mirror, default http://deb.debian.org/debian
#   SECURITY_MIRROR     default http://deb.debian.org/debian-security ("none" leaves security updates out)
#   SOURCE_DATE_EPOCH   time stamp of every file, default: the last commit's time
#   ENABLE_SSH=1        enable sshd in the image (key login only; default off, see README)
#   XZ=0                do not write the .img.xz
#   RESUME=1            after a failed run that got past the package stage: reuse its chroot
#   JUNCTION_SRC        where Junction's sources are (default: this repository's working tree)
#   BOOT_TEST=0         skip the up-front check that boot-test.sh will find node_modules (npm ci)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# Junction's sources (package*.json, tsconfig.json, src/, scripts/, README.md, systemd/): this
# repository's working tree unless JUNCTION_SRC names a copy (e.g. to build twice from one state).
REPO=${JUNCTION_SRC:-$(dirname "$HERE")}
WORK=${JUNCTION_IMAGE_DIR:-/var/tmp/junction-image}
SUITE=${SUITE:-trixie}
KERNEL_SUITE=${KERNEL_SUITE:-$SUITE-backports}
SNAPSHOT=${SNAPSHOT:-}
if [ -n "$SNAPSHOT" ]; then
  MIRROR=${MIRROR:-http://snapshot.debian.org/archive/debian/$SNAPSHOT}
  SECURITY_MIRROR=${SECURITY_MIRROR:-http://snapshot.debian.org/archive/debian-security/$SNAPSHOT}
else
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
  SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
fi
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || echo 1735689600)}
export SOURCE_DATE_EPOCH
ENABLE_SSH=${ENABLE_SSH:-0}
XZ=${XZ:-1}
RESUME=${RESUME:-0}
NAME=junction-rpi-arm64
BOOT_MB=${BOOT_MB:-256}

ROOT=$WORK/rootfs
OUT=$WORK/out
CACHE=$WORK/cache
STAMPS=$WORK/stamps
APP=$WORK/app

# The image is checked afterwards by boot-test.sh, which needs the checkout's node_modules: say so
# now rather than after the build. BOOT_TEST=0 builds without that check.
if [ "${BOOT_TEST:-1}" != 0 ]; then
  "$HERE/need-node-modules.sh" build.sh || { echo "(or BOOT_TEST=0 to build without checking the image afterwards)" >&2; exit 1; }
fi
[ "$(id -u)" = 0 ] || { echo "build.sh: run as root (debootstrap, chroot)" >&2; exit 1; }
for tool in debootstrap mkfs.ext4 mformat mcopy sfdisk; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool missing; run images/deps.sh" >&2; exit 1; }
done
[ -x /usr/bin/qemu-aarch64-static ] || [ "$(uname -m)" = aarch64 ] || { echo "build.sh: qemu-user-static missing; run images/deps.sh" >&2; exit 1; }

T0=$(date +%s)
step() { echo "=== [$(( $(date +%s) - T0 ))s] $*"; }
TIMINGS=()
mark() { TIMINGS+=("$1: $(( $(date +%s) - T0 ))s"); }

# ---------------------------------------------------------------- chroot mounts, always undone
MOUNTED=()
mount_chroot() {
  local d
  for d in proc sys dev dev/pts; do mkdir -p "$ROOT/$d"; done
  mount -t proc proc "$ROOT/proc"; MOUNTED+=("$ROOT/proc")
  mount -t sysfs sys "$ROOT/sys"; MOUNTED+=("$ROOT/sys")
  mount --bind /dev "$ROOT/dev"; MOUNTED+=("$ROOT/dev")
  mount -t devpts -o newinstance,ptmxmode=0666 devpts "$ROOT/dev/pts"; MOUNTED+=("$ROOT/dev/pts")
  mkdir -p "$CACHE/archives" "$ROOT/var/cache/apt/archives"
  mount --bind "$CACHE/archives" "$ROOT/var/cache/apt/archives"; MOUNTED+=("$ROOT/var/cache/apt/archives")
}
umount_chroot() {
  local i
  for (( i=${#MOUNTED[@]}-1; i>=0; i-- )); do
    umount "${MOUNTED[$i]}" 2>/dev/null || umount -l "${MOUNTED[$i]}" 2>/dev/null || true
  done
  MOUNTED=()
}
BINFMT_ENABLED_BY_US=0
cleanup() {
  local rc=$?
  umount_chroot
  if [ "$BINFMT_ENABLED_BY_US" = 1 ]; then update-binfmts --disable qemu-aarch64 >/dev/null 2>&1 || true; fi
  [ $rc = 0 ] || echo "build.sh: FAILED (exit $rc) after $(( $(date +%s) - T0 ))s; work directory kept: $WORK" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_chroot() {
  chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" "$@"
}
apt_in_chroot() {
  in_chroot apt-get -o Dpkg::Options::=--force-confold -o APT::Install-Recommends=false \
    -o Acquire::Retries=3 -o Acquire::Check-Valid-Until=false -y -q "$@"
}

# ---------------------------------------------------------------- foreign architecture support
if [ "$(uname -m)" != aarch64 ]; then
  step "binfmt_misc for qemu-aarch64"
  [ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || ! grep -q enabled /proc/sys/fs/binfmt_misc/qemu-aarch64; then
    update-binfmts --enable qemu-aarch64
    BINFMT_ENABLED_BY_US=1
  fi
  grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 || echo "warning: qemu-aarch64 binfmt lacks the F flag; copying the interpreter into the chroot" >&2
fi

mkdir -p "$WORK" "$OUT" "$CACHE" "$STAMPS"
df -h "$WORK" | tail -1

# ---------------------------------------------------------------- 1. Junction itself, built on the host
# As its Debian package (images/build-deb.sh: dist/ and the linux-arm64 production node_modules, the
# unit, the user, the default config), installed in the chroot by apt below: the image holds what
# `apt install ./junction_..._arm64.deb` gives any Debian system, and later upgrades are .debs too.
# The build copies the working tree (not git HEAD), so what is tested is what is shipped.
step "Junction: npm ci + build on the host, its arm64 Debian package"
rm -rf "$APP"
DEB=$(JUNCTION_SRC=$REPO DEB_WORK=$APP DEB_OUT=$APP/out "$HERE/build-deb.sh" arm64 | tail -1)
echo "$DEB"
mark "app built"

# ---------------------------------------------------------------- 2. debootstrap, both stages
PKGS_BASE="initramfs-tools zstd"
# avahi-daemon: the board found as <hostname>.local with its services (mDNS/DNS-SD; images/README.md).
PKGS_MAIN="raspi-firmware firmware-brcm80211 wireless-regdb systemd-sysv udev dbus \
  systemd-timesyncd systemd-resolved wpasupplicant iproute2 iputils-ping openssh-server nodejs \
  ca-certificates fdisk e2fsprogs dosfstools kmod procps less avahi-daemon"

if [ "$RESUME" = 1 ] && [ -f "$STAMPS/packages" ] && [ -d "$ROOT/usr" ]; then
  step "RESUME=1: reusing the chroot in $ROOT"
  mount_chroot
else
  rm -f "$STAMPS/packages"
  if [ -d "$ROOT" ]; then
    step "removing the old chroot"
    for m in $(awk -v r="$ROOT" '$2 ~ "^"r {print $2}' /proc/mounts | sort -r); do umount -l "$m"; done
    rm -rf "$ROOT"
  fi
  step "debootstrap --foreign ($SUITE, $MIRROR)"
  debootstrap --arch=arm64 --foreign --variant=minbase --components=main,non-free-firmware \
    --include=ca-certificates "$SUITE" "$ROOT" "$MIRROR"
  mark "debootstrap first stage"
  [ "$(uname -m)" = aarch64 ] || grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 || cp /usr/bin/qemu-aarch64-static "$ROOT/usr/bin/"
  step "debootstrap --second-stage (emulated)"
  chroot "$ROOT" /debootstrap/debootstrap --second-stage
  mark "debootstrap second stage"

  mount_chroot
  # APT sources, no docs/man pages/translations (SD space), no services started in the chroot.
  rm -f "$ROOT/etc/apt/sources.list"
  {
    echo "Types: deb"; echo "URIs: $MIRROR"
    if [ "$KERNEL_SUITE" != "$SUITE" ]; then echo "Suites: $SUITE $SUITE-updates $KERNEL_SUITE"; else echo "Suites: $SUITE $SUITE-updates"; fi
    echo "Components: main non-free-firmware"; echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
    if [ "$SECURITY_MIRROR" != none ]; then
      echo; echo "Types: deb"; echo "URIs: $SECURITY_MIRROR"; echo "Suites: $SUITE-security"
      echo "Components: main non-free-firmware"; echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
    fi
  } > "$ROOT/etc/apt/sources.list.d/debian.sources"
  cat > "$ROOT/etc/dpkg/dpkg.cfg.d/01-junction-nodoc" <<'EOF'
# Junction image: no documentation on the SD card (copyright files and Junction's README stay).
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-include=/usr/share/doc/junction/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
EOF
  cat > "$ROOT/etc/apt/apt.conf.d/01-junction" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
  printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"; chmod 755 "$ROOT/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf.build" 2>/dev/null || true
  rm -f "$ROOT/etc/resolv.conf"; cp "$ROOT/etc/resolv.conf.build" "$ROOT/etc/resolv.conf" 2>/dev/null || true

  step "apt: initramfs-tools (initramfs generation held back until the end)"
  apt_in_chroot update
  apt_in_chroot install $PKGS_BASE
  # Every initramfs build costs ~12 min under emulation: hold update-initramfs off until the end.
  in_chroot dpkg-divert --local --rename --add /usr/sbin/update-initramfs
  ln -sf /bin/true "$ROOT/usr/sbin/update-initramfs"
  sed -i 's/^update_initramfs=.*/update_initramfs=no/' "$ROOT/etc/initramfs-tools/update-initramfs.conf"
  mkdir -p "$ROOT/etc/default"
  # raspi-firmware writes cmdline.txt from this: root by label (the same on every board); its
  # cmdline already has net.ifnames=0 (eth0, wlan0 on every board, as the network files expect).
  cat > "$ROOT/etc/default/raspi-firmware" <<'EOF'
ROOTPART=LABEL=RASPIROOT
CONSOLES="auto"
KERNEL_ARCH="arm64"
EOF

  step "apt: kernel ($KERNEL_SUITE), firmware, systemd, network, nodejs"
  # The kernel from backports by default: trixie's 6.12 has the Pi 5's device tree but not the
  # drivers of its RP1 south bridge (Ethernet, USB, GPIO). APT keeps an installed backports
  # package on backports for later upgrades; everything else stays on the stable suite.
  apt_in_chroot install -t "$KERNEL_SUITE" linux-image-arm64
  apt_in_chroot install $PKGS_MAIN
  rm -f "$ROOT/etc/default/raspi-firmware.dpkg-dist"
  mark "packages"
  touch "$STAMPS/packages"
fi

# ---------------------------------------------------------------- 3. system configuration
step "system configuration"
echo junction > "$ROOT/etc/hostname"
cat > "$ROOT/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	junction
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
EOF
cat > "$ROOT/etc/fstab" <<'EOF'
# <file system>   <mount point>   <type>  <options>                         <dump> <pass>
LABEL=RASPIROOT   /               ext4    defaults,noatime,commit=600       0      1
LABEL=RASPIFIRM   /boot/firmware  vfat    defaults,noatime,umask=0077       0      2
EOF
mkdir -p "$ROOT/boot/firmware"
# Locked root password: no default password anywhere. Console and SSH logins need a key (first boot).
in_chroot usermod -p '*' root

# Junction from its package: apt takes nodejs from the archive (installed above); the postinst
# creates the user junction (in dialout) and /var/lib/junction and enables the unit. Its default
# config goes: first boot installs the one on the FAT partition or generates one that admits nobody
# without credentials (dpkg takes the deletion as the admin's choice and leaves it on upgrades).
cp "$DEB" "$ROOT/tmp/"
apt_in_chroot install "/tmp/$(basename "$DEB")"
rm -f "$ROOT/tmp/$(basename "$DEB")" "$ROOT/etc/junction/junction.yaml"

# This image's own files (first boot, network, journald); the unit came with the package.
( cd "$HERE/rootfs" && find . -type d ) | while read -r d; do install -d -m 755 "$ROOT/$d"; done
( cd "$HERE/rootfs" && find . -type f ) | while read -r f; do
  case "$f" in *.sh) mode=755 ;; *) mode=644 ;; esac
  install -m "$mode" "$HERE/rootfs/$f" "$ROOT/$f"
done
in_chroot systemctl enable junction-firstboot.service systemd-networkd.service \
  systemd-resolved.service systemd-timesyncd.service avahi-daemon.service
# Timers that would write to the SD card for nothing on this board (images/README.md, "Sparing the
# SD card"): apt's (no unattended-upgrades here; once APT::Periodic asks for it, each `apt update`
# rewrites megabytes of package lists), e2scrub's (it checks ext4 on LVM only; there is none).
MASKED_UNITS="apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service"
in_chroot systemctl disable $MASKED_UNITS
in_chroot systemctl mask $MASKED_UNITS
# wpa_supplicant for wlan0 starts when wlan0 appears (not from multi-user.target: on a board or VM
# without Wi-Fi that would hold network.target, and so Junction, for the 90 s device timeout), and
# only once first boot wrote its config (drop-in condition).
mkdir -p "$ROOT/etc/systemd/system/sys-subsystem-net-devices-wlan0.device.wants"
ln -sfn /usr/lib/systemd/system/wpa_supplicant@.service \
  "$ROOT/etc/systemd/system/sys-subsystem-net-devices-wlan0.device.wants/wpa_supplicant@wlan0.service"
rm -f "$ROOT/etc/systemd/system/multi-user.target.wants/wpa_supplicant@wlan0.service"
# sshd: the unit is enabled, but Debian's switch file /etc/ssh/sshd_not_to_be_run keeps it from
# running until first boot installs an authorized key (or the image is built with ENABLE_SSH=1).
# No host keys in the image: first boot makes them, so no two boards share one.
in_chroot systemctl disable ssh.socket 2>/dev/null || true
in_chroot systemctl enable ssh.service
if [ "$ENABLE_SSH" = 1 ]; then rm -f "$ROOT/etc/ssh/sshd_not_to_be_run"; else : > "$ROOT/etc/ssh/sshd_not_to_be_run"; fi
# First-boot systemd prompts (locale, time zone, root password) would wait on a console nobody has.
in_chroot systemctl mask systemd-firstboot.service
cat > "$ROOT/etc/ssh/sshd_config.d/10-junction.conf" <<'EOF'
# Junction image: keys only.
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
EOF

step "checking Junction under the target's node (emulated)"
in_chroot node --version
in_chroot junction version
in_chroot node -e '
  const { createRequire } = require("module");
  const r = createRequire("/usr/lib/junction/package.json");
  const b = r("@serialport/bindings-cpp");
  console.log("serialport binding: ok", typeof b.autoDetect === "function");
  const m = r("msgpackr"); console.log("msgpackr:", m.pack({a:1}).length > 0 ? "ok" : "bad");
  const c = r("cbor-x"); console.log("cbor-x:", c.encode({a:1}).length > 0 ? "ok" : "bad");'
cat > "$ROOT/tmp/check.yaml" <<'EOF'
version: 2
workers:
  - type: router
    realms: [ { name: realm1, roles: [ { name: admin, permissions: [ { uri: "", match: prefix, allow: { call: true, register: true, publish: true, subscribe: true } } ] } ] } ]
    transports:
      - type: universal
        endpoint: { type: tcp, port: 8080 }
        websocket: { ws: { auth: { ticket: { type: static, principals: { admin: { ticket: t, role: admin } } } } } }
EOF
in_chroot junction check --config /tmp/check.yaml
rm -f "$ROOT/tmp/check.yaml"
mark "configured"

# ---------------------------------------------------------------- 4. the one initramfs build
KVER=$(basename "$(ls -d "$ROOT"/lib/modules/* | sort -V | tail -1)")
step "initramfs for $KVER (emulated; the slow part)"
if in_chroot dpkg-divert --list /usr/sbin/update-initramfs | grep -q .; then
  rm -f "$ROOT/usr/sbin/update-initramfs"
  in_chroot dpkg-divert --local --rename --remove /usr/sbin/update-initramfs
fi
sed -i 's/^update_initramfs=.*/update_initramfs=yes/' "$ROOT/etc/initramfs-tools/update-initramfs.conf"
in_chroot update-initramfs -c -k "$KVER"
# raspi-firmware's kernel hook copies kernel, initrd, DTBs and writes config.txt/cmdline.txt.
in_chroot /etc/kernel/postinst.d/z50-raspi-firmware "$KVER"
mark "initramfs"
ls "$ROOT/boot/firmware" | tr '\n' ' '; echo
if ls "$ROOT/boot/firmware" | grep -q '^bcm2712' && [ -e "$ROOT/lib/modules/$KVER/kernel/drivers/misc/rp1" ]; then
  echo "Pi 5: bcm2712 device tree and RP1 drivers present ($KVER)"
else
  echo "NOTE: no Pi 5 support in $KVER (bcm2712 device tree or RP1 drivers missing)"
fi
grep -q "^kernel=vmlinuz-$KVER" "$ROOT/boot/firmware/config.txt" || { echo "build.sh: raspi-firmware wrote no config.txt for $KVER" >&2; exit 1; }

# First-boot examples on the FAT side, where the user edits them before the first boot.
for f in "$HERE"/boot/*; do sed "s/\$/\r/" "$f" > "$ROOT/boot/firmware/$(basename "$f")"; done   # CRLF for Notepad

# ---------------------------------------------------------------- 5. make it deterministic
step "cleanup for a reproducible tree"
rm -f "$ROOT/usr/sbin/policy-rc.d" "$ROOT/etc/resolv.conf.build" "$STAMPS/packages"   # no RESUME from here on
umount_chroot
rm -f "$ROOT/etc/resolv.conf"; ln -s ../run/systemd/resolve/stub-resolv.conf "$ROOT/etc/resolv.conf"
rm -rf "$ROOT/var/lib/apt/lists/"* "$ROOT/var/cache/apt/"*.bin "$ROOT/var/cache/debconf/"*-old \
  "$ROOT/var/lib/dpkg/"*-old "$ROOT/etc/"*- "$ROOT/var/cache/ldconfig/aux-cache" \
  "$ROOT/var/lib/systemd/random-seed" "$ROOT/var/lib/dbus/machine-id" "$ROOT/etc/ssh/ssh_host_"* \
  "$ROOT/root/.bash_history" "$ROOT/debootstrap" "$ROOT/tmp/"* "$ROOT/var/tmp/"* \
  "$ROOT/var/cache/apt/archives/partial" "$ROOT/usr/bin/qemu-aarch64-static"
find "$ROOT/var/log" -type f -delete
find "$ROOT" -xdev -name '__pycache__' -type d -prune -exec rm -rf {} +
# Empty machine-id: systemd makes a per-device one on first boot.
: > "$ROOT/etc/machine-id"
# Every file time clamped to SOURCE_DATE_EPOCH.
find "$ROOT" -xdev -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0 -r touch -h -d "@$SOURCE_DATE_EPOCH"

# ---------------------------------------------------------------- 6. manifest
step "manifest"
MAN="$OUT/$NAME.manifest"
{
  echo "# Junction image manifest: suite $SUITE, SOURCE_DATE_EPOCH $SOURCE_DATE_EPOCH"
  echo "## packages"
  chroot "$ROOT" /usr/bin/dpkg-query -W -f '${Package} ${Version} ${Architecture}\n' 2>/dev/null | LC_ALL=C sort \
    || dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f '${Package} ${Version} ${Architecture}\n' | LC_ALL=C sort
  echo "## files (sha256 mode uid:gid path; symlinks: -> target)"
  "$HERE/manifest.sh" --tree "$ROOT"
} > "$MAN"
mark "manifest"

# ---------------------------------------------------------------- 7. the partitions and the image
step "boot partition (FAT32, mtools)"
BOOTDIR=$WORK/bootfs
rm -rf "$BOOTDIR"; mv "$ROOT/boot/firmware" "$BOOTDIR"; mkdir -p "$ROOT/boot/firmware"
touch -d "@$SOURCE_DATE_EPOCH" "$ROOT/boot/firmware" "$ROOT/boot"
BOOTIMG=$WORK/boot.vfat
rm -f "$BOOTIMG"; truncate -s "${BOOT_MB}M" "$BOOTIMG"
# Fixed volume serial from SOURCE_DATE_EPOCH; mcopy -m keeps the (clamped) file times.
SERIAL=$(printf '%08X' $(( SOURCE_DATE_EPOCH & 0xFFFFFFFF )))
mformat -i "$BOOTIMG" -F -v RASPIFIRM -N "$SERIAL" ::
mcopy -i "$BOOTIMG" -s -m -Q "$BOOTDIR"/* ::/
USED_BOOT=$(du -sm "$BOOTDIR" | cut -f1)
echo "boot partition: ${USED_BOOT} MiB used of ${BOOT_MB} MiB"

step "root partition (mkfs.ext4 -d)"
ROOTIMG=$WORK/root.ext4
USED=$(du -sm --apparent-size "$ROOT" | cut -f1)
ROOT_MB=$(( (USED * 13 / 10 + 300 + 3) / 4 * 4 ))
rm -f "$ROOTIMG"
# Fixed UUID and directory hash seed (derived from the inputs) and a fixed clock for the superblock.
UUID=$(printf '%s' "junction-$SUITE-$SOURCE_DATE_EPOCH" | sha256sum | sed -E 's/^(.{8})(.{4}).(.{3}).(.{3})(.{12}).*/\1-\2-4\3-8\4-\5/')
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mkfs.ext4 -q -F -L RASPIROOT -U "$UUID" \
  -E "hash_seed=$UUID,root_owner=0:0" -d "$ROOT" "$ROOTIMG" "${ROOT_MB}M"
# mkfs.ext4 -d takes each inode's atime and ctime from the tree, and a ctime cannot be set there:
# pin both with debugfs. With that the two partitions, and the image, come out bit for bit the same.
( cd "$ROOT" && find . -xdev -print ) | sed -e 's|^\.||' -e 's|^$|/|' \
  | awk -v t="@$SOURCE_DATE_EPOCH" '{ printf "sif \"%s\" ctime %s\nsif \"%s\" atime %s\n", $0, t, $0, t }' > "$WORK/debugfs.cmds"
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH debugfs -w -f "$WORK/debugfs.cmds" "$ROOTIMG" >/dev/null 2>"$WORK/debugfs.log"
if grep -v '^debugfs ' "$WORK/debugfs.log" | grep -q .; then echo "build.sh: debugfs reported:" >&2; head "$WORK/debugfs.log" >&2; exit 1; fi
e2fsck -fn "$ROOTIMG" >/dev/null || { echo "build.sh: e2fsck found problems in the root file system" >&2; exit 1; }
echo "root partition: ${USED} MiB of files in ${ROOT_MB} MiB (grown to the card on first boot)"

step "image"
IMG=$OUT/$NAME.img
START=8192   # 4 MiB alignment (sectors of 512 bytes)
BOOT_SECTORS=$(( BOOT_MB * 2048 ))
ROOT_START=$(( START + BOOT_SECTORS ))
ROOT_SECTORS=$(( ROOT_MB * 2048 ))
rm -f "$IMG"; truncate -s $(( (ROOT_START + ROOT_SECTORS) * 512 )) "$IMG"
sfdisk -q "$IMG" <<EOF
label: dos
label-id: 0x${SERIAL}
unit: sectors
start=$START, size=$BOOT_SECTORS, type=c, bootable
start=$ROOT_START, size=$ROOT_SECTORS, type=83
EOF
dd if="$BOOTIMG" of="$IMG" bs=1M seek=$(( START / 2048 )) conv=notrunc,sparse status=none
dd if="$ROOTIMG" of="$IMG" bs=1M seek=$(( ROOT_START / 2048 )) conv=notrunc,sparse status=none
rm -f "$BOOTIMG" "$ROOTIMG"
sfdisk -l "$IMG"
# Kernel and initrd beside the image for images/boot-test.sh (the same files as on the FAT partition).
cp "$BOOTDIR/vmlinuz-$KVER" "$OUT/vmlinuz"
cp "$BOOTDIR/initrd.img-$KVER" "$OUT/initrd.img"
mark "image"

if [ "$XZ" = 1 ]; then
  step "xz"
  rm -f "$IMG.xz"; xz -T0 -6 -k "$IMG"
  mark "xz"
fi
( cd "$OUT" && sha256sum "$NAME.img" $( [ "$XZ" = 1 ] && echo "$NAME.img.xz" ) "$NAME.manifest" > "$NAME.sha256" )

{
  echo "suite=$SUITE kernel_suite=$KERNEL_SUITE mirror=$MIRROR security=$SECURITY_MIRROR snapshot=${SNAPSHOT:-none}"
  echo "source_date_epoch=$SOURCE_DATE_EPOCH commit=$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown) dirty=$(git -C "$REPO" status --porcelain 2>/dev/null | grep -c . || true)"
  echo "kernel=$KVER node=$(grep -E '^nodejs ' "$MAN" | cut -d' ' -f2) packages=$(sed -n '/^## packages/,/^## files/p' "$MAN" | grep -vc '^##')"
  echo "image_bytes=$(stat -c %s "$IMG") root_mb=$ROOT_MB boot_mb=$BOOT_MB boot_used_mb=$USED_BOOT"
  [ "$XZ" = 1 ] && echo "xz_bytes=$(stat -c %s "$IMG.xz")"
  printf '%s\n' "${TIMINGS[@]}"
  echo "total: $(( $(date +%s) - T0 ))s"
} > "$OUT/build-info.txt"
cat "$OUT/build-info.txt"
step "done: $IMG"
