#!/bin/bash
# Boots the built SD image under qemu-system-aarch64 (software emulation) and checks from outside,
# through forwarded ports, that Junction comes up and answers a WAMP call and an MQTT publish.
# Reports the time from power-on (qemu started) to the first answered call.
#
#   sudo images/boot-test.sh [IMAGE]                      # default $JUNCTION_IMAGE_DIR/out/junction-rpi-arm64.img
#   sudo images/boot-test.sh --generated [IMAGE]          # no junction.yaml: checks the generated, closed config
#   sudo images/boot-test.sh --machine raspi3b [IMAGE]    # on QEMU's Raspberry Pi 3B model (with either mode)
#   sudo images/boot-test.sh --sd-writes [MINUTES] [IMAGE]   # then the root file system's writes at idle (below)
#   sudo images/boot-test.sh --upgrade [IMAGE]            # then upgrade and downgrade the running service (below)
#
# The image itself is not changed: a sparse copy (grown by 512 MiB, so first boot's root resize is
# exercised) gets test files on its FAT partition, as a user would put them there:
#   default mode:  junction.yaml (a ticket principal "tester"; universal transport on 8080 with WebSocket
#                  and RawSocket, an MQTT transport on 1883, no anonymous access) and hostname.txt
#   --generated:   nothing; first boot must generate credentials and print a setup code, and anonymous
#                  WAMP and MQTT clients must be refused.
#   --sd-writes:   as the default mode, with Junction's board telemetry on (a sample every 5 s) and a
#                  WAMP client subscribed to it from outside; after the first answered call it waits
#                  SETTLE seconds (first boot's resize and setup done), then reads the root disk's
#                  sectors written (/proc/diskstats inside the guest) at the start and the end of a
#                  window of MINUTES (default 30) and prints MiB/hour. The counters come over the
#                  serial console from a probe (images/sd-writes/) that debugfs puts into the copy's
#                  root file system before the boot; it also names who dirtied which inode.
#   --upgrade:     as the default mode, the ticket in junction.env (a credential) rather than in the
#                  config, and Junction's package built twice from this checkout by build-deb.sh
#                  (arm64): version N (package.json's, as the image has) and N+1, both put on the FAT
#                  partition. With clients connected from outside (images/upgrade-check.mjs), an agent
#                  put into the copy (images/upgrade/, on a virtio serial port) runs `dpkg -i` of N+1,
#                  then of N (a downgrade); each time the service must run the new version in a new
#                  process with config, credentials and state unchanged and the clients back on their
#                  own. Prints how long the clients saw the router gone. virt only.
# The kernel and initrd are the ones on the image's FAT partition. Machines:
#   virt     (default) QEMU's generic board: virtio disk and network, a Cortex-A72. Tests the
#            userland, the units and first boot.
#   raspi3b  QEMU's Raspberry Pi 3B: the Pi 3's own device tree from the FAT partition
#            (bcm2837-rpi-3-b.dtb) and command line (cmdline.txt, plus a console on the PL011 UART),
#            the card on the Pi's SD controller (the copy is grown to a power of two, as QEMU wants),
#            the network through the Pi's USB host controller (dwc2) and an emulated USB Ethernet
#            device (usb-net: the kernel's cdc_ether). 4 Cortex-A53, 1 GiB, as the board. Checks
#            also that the console shows multi-user reached, the root file system grown and the USB
#            network driver bound. Not covered: the GPU firmware and config.txt (QEMU loads the
#            kernel itself), Wi-Fi, the watchdog's reset; see images/README.md.
#
# Environment: JUNCTION_IMAGE_DIR (default /var/tmp/junction-image), WAMP_PORT (28080; 28081 for
# raspi3b), MQTT_PORT (21883; 21884 for raspi3b) on 127.0.0.1, TIMEOUT seconds for the first answer
# (900; 1800 for raspi3b), virt only: QEMU_SMP (2), QEMU_MEM MiB (1024); --sd-writes: SETTLE (660:
# past the root file system's 600 s journal commit interval, so first boot's last commit is not counted);
# --upgrade: DEBS_DIR (take junction_<N>_arm64.deb and <N+1> from there if present, else build them).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${JUNCTION_IMAGE_DIR:-/var/tmp/junction-image}
MODE=ticket
MACHINE=virt
while [ $# -gt 0 ]; do
  case "$1" in
    --generated) MODE=generated; shift ;;
    --sd-writes)
      MODE=sd-writes; shift
      WINDOW_MIN=30; case "${1:-}" in [0-9]*) WINDOW_MIN=$1; shift ;; esac ;;
    --upgrade) MODE=upgrade; shift ;;
    --machine) MACHINE=${2:-}; shift 2 || shift ;;
    --machine=*) MACHINE=${1#--machine=}; shift ;;
    *) break ;;
  esac
done
# The long modes have their own ports and directory: they may run beside the other boot tests.
if [ "$MODE" = sd-writes ]; then WAMP_PORT=${WAMP_PORT:-28082}; MQTT_PORT=${MQTT_PORT:-21885}; fi
if [ "$MODE" = upgrade ]; then WAMP_PORT=${WAMP_PORT:-28083}; MQTT_PORT=${MQTT_PORT:-21886}; fi
case "$MACHINE" in
  virt) T=$WORK/boot-test; WAMP_PORT=${WAMP_PORT:-28080}; MQTT_PORT=${MQTT_PORT:-21883}; TIMEOUT=${TIMEOUT:-900} ;;
  # Other ports and directory than virt's: both tests may run at once.
  raspi3b) T=$WORK/boot-test-raspi3b; WAMP_PORT=${WAMP_PORT:-28081}; MQTT_PORT=${MQTT_PORT:-21884}; TIMEOUT=${TIMEOUT:-1800} ;;
  *) echo "boot-test.sh: --machine takes virt or raspi3b, not '$MACHINE'" >&2; exit 2 ;;
esac
case "$MODE" in sd-writes|upgrade) T=$T-$MODE ;; esac
if [ "$MODE" = upgrade ] && [ "$MACHINE" != virt ]; then echo "boot-test.sh: --upgrade runs on virt only" >&2; exit 2; fi
IMG=${1:-$WORK/out/junction-rpi-arm64.img}
"$HERE/need-node-modules.sh" boot-test.sh || exit 1
[ -f "$IMG" ] || { echo "boot-test.sh: no image $IMG (run images/build.sh)" >&2; exit 1; }
for tool in qemu-system-aarch64 mcopy mtype sfdisk mosquitto_pub node; do
  command -v "$tool" >/dev/null || { echo "boot-test.sh: $tool missing; run images/deps.sh" >&2; exit 1; }
done

rm -rf "$T"; mkdir -p "$T"
QEMU_PID=
cleanup() { [ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

echo "boot-test: copying $IMG"
cp --sparse=always "$IMG" "$T/disk.img"
truncate -s +512M "$T/disk.img"
if [ "$MACHINE" = raspi3b ]; then
  # QEMU's SD card model takes only power-of-two sizes.
  size=$(stat -c %s "$T/disk.img"); card=$(( 1 << 20 ))
  while [ $card -lt "$size" ]; do card=$(( card * 2 )); done
  truncate -s "$card" "$T/disk.img"
fi
# FAT partition offset (partition 1) for mtools.
BOOT_START=$(sfdisk -d "$T/disk.img" | awk -F'[=,]' '/^[^ ]+1 :/ { gsub(/ /, "", $2); print $2 }')
FAT="$T/disk.img@@$(( BOOT_START * 512 ))"
# raspi-firmware names them after the kernel version (config.txt: kernel=…, initramfs …).
KERNEL=$(mdir -i "$FAT" -b ::/ | sed 's|^::/||' | grep '^vmlinuz-' | sort -V | tail -1)
INITRD=$(mdir -i "$FAT" -b ::/ | sed 's|^::/||' | grep '^initrd.img-' | sort -V | tail -1)
[ -n "$KERNEL" ] && [ -n "$INITRD" ] || { echo "boot-test.sh: no vmlinuz-*/initrd.img-* on the FAT partition" >&2; exit 1; }
mcopy -i "$FAT" "::$KERNEL" "$T/vmlinuz"
mcopy -i "$FAT" "::$INITRD" "$T/initrd.img"
echo "boot-test: kernel $KERNEL, initrd $INITRD from the image's FAT partition"
if [ "$MACHINE" = raspi3b ]; then
  DTB=bcm2837-rpi-3-b.dtb
  mcopy -i "$FAT" "::$DTB" "$T/$DTB" 2>/dev/null || { echo "boot-test.sh: no $DTB on the FAT partition" >&2; exit 1; }
  # The board's own command line (root=LABEL=RASPIROOT ...); the last console= becomes /dev/console,
  # where first boot prints: the PL011 UART, QEMU's first serial port.
  # systemd.watchdog_sec=off: QEMU's BCM2835 power-management model resets the machine as soon as
  # bcm2835_wdt arms the watchdog (it takes the "full reset" setting as a reset request and never
  # counts), so systemd's RuntimeWatchdogSec would reboot it in a loop right after PID 1 starts.
  CMDLINE="$(mtype -i "$FAT" ::cmdline.txt | tr -d '\r' | tr '\n' ' ' | sed 's/ *$//') console=ttyAMA0,115200 systemd.watchdog_sec=off"
  echo "boot-test: device tree $DTB, cmdline.txt + console: $CMDLINE"
fi

TICKET=
if [ "$MODE" != generated ]; then
  TICKET=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  YAML_TICKET=$TICKET
  # --upgrade: the ticket is a credential in junction.env, which an upgrade must keep.
  if [ "$MODE" = upgrade ]; then YAML_TICKET='${TESTER_TICKET}'; printf 'TESTER_TICKET=%s\n' "$TICKET" > "$T/junction.env"; fi
  cat > "$T/junction.yaml" <<EOF
version: 2
workers:
  - type: router
    realms:
      - name: realm1
        roles:
          - name: tester
            permissions:
              - { uri: "", match: prefix, allow: { call: true, register: true, publish: true, subscribe: true } }
    transports:
      - type: universal
        endpoint: { type: tcp, port: 8080 }
        rawsocket: { auth: { ticket: { type: static, principals: { tester: { ticket: "$YAML_TICKET", role: tester } } } } }
        websocket:
          ws: { auth: { ticket: { type: static, principals: { tester: { ticket: "$YAML_TICKET", role: tester } } } } }
      - type: mqtt
        endpoint: { type: tcp, port: 1883 }
        options: { realm: realm1, session_file: /var/lib/junction/mqtt-sessions.json }
        auth: { ticket: { type: static, principals: { tester: { ticket: "$YAML_TICKET", role: tester } } } }
EOF
  if [ "$MODE" = sd-writes ]; then echo 'telemetry: {}' >> "$T/junction.yaml"; fi
  printf 'junction-test\r\n' > "$T/hostname.txt"
  mcopy -i "$FAT" -o "$T/junction.yaml" "$T/hostname.txt" ::/
  if [ "$MODE" = upgrade ]; then mcopy -i "$FAT" -o "$T/junction.env" ::/; fi
fi

# A test's helper service goes into the copy's root file system (ext4, partition 2) with debugfs:
# nothing is mounted, and the image itself stays as it was built.
add_service() { # script unit name
  local root_start rootfs
  root_start=$(sfdisk -d "$T/disk.img" | awk -F'[=,]' '/^[^ ]+2 :/ { gsub(/ /, "", $2); print $2 }')
  rootfs="$T/disk.img?offset=$(( root_start * 512 ))"
  debugfs -w -f - "$rootfs" >"$T/debugfs.log" 2>&1 <<EOF
write $1 /usr/local/sbin/$3
write $2 /etc/systemd/system/$3.service
symlink /etc/systemd/system/multi-user.target.wants/$3.service /etc/systemd/system/$3.service
EOF
  debugfs -R "stat /etc/systemd/system/multi-user.target.wants/$3.service" "$rootfs" 2>/dev/null | grep -q 'Type: symlink' \
    || { echo "boot-test.sh: could not put $3 into the copy:" >&2; cat "$T/debugfs.log" >&2; exit 1; }
}
QEMU_EXTRA=()
if [ "$MODE" = sd-writes ]; then add_service "$HERE/sd-writes/probe.sh" "$HERE/sd-writes/sd-writes-probe.service" sd-writes-probe; fi
if [ "$MODE" = upgrade ]; then
  # Versions N (package.json's: the image's) and N+1 of the package, from this checkout.
  V1=$(node -p "require('$HERE/../package.json').version")
  V2=$(node -p "const v = '$V1'.split('.'); v[2] = String(Number(v[2]) + 1); v.join('.')")
  DEBS=${DEBS_DIR:-$T/debs}
  for v in "$V1" "$V2"; do
    [ -z "${DEBS_DIR:-}" ] || [ ! -f "$DEBS/junction_${v}_arm64.deb" ] || continue
    echo "boot-test: building junction_${v}_arm64.deb"
    JUNCTION_VERSION=$v DEB_WORK="$T/deb-work" DEB_OUT="$DEBS" "$HERE/build-deb.sh" arm64 > "$T/build-deb-$v.log" 2>&1 \
      || { echo "boot-test.sh: build-deb.sh failed ($T/build-deb-$v.log)" >&2; tail -5 "$T/build-deb-$v.log" >&2; exit 1; }
  done
  mcopy -i "$FAT" -o "$DEBS/junction_${V1}_arm64.deb" "$DEBS/junction_${V2}_arm64.deb" ::/
  add_service "$HERE/upgrade/agent.sh" "$HERE/upgrade/upgrade-agent.service" upgrade-agent
  QEMU_EXTRA=(-device virtio-serial-pci -chardev "socket,id=agent,path=$T/agent.sock,server=on,wait=off"
    -device virtserialport,chardev=agent,name=junction-test)
fi

echo "boot-test: starting qemu -M $MACHINE ($MODE mode; WAMP on 127.0.0.1:$WAMP_PORT, MQTT on 127.0.0.1:$MQTT_PORT)"
NETDEV="user,id=n0,hostfwd=tcp:127.0.0.1:$WAMP_PORT-:8080,hostfwd=tcp:127.0.0.1:$MQTT_PORT-:1883"
SINCE=$(date +%s%3N)
if [ "$MACHINE" = raspi3b ]; then
  # The machine fixes the CPUs (4 Cortex-A53) and wants exactly 1 GiB. The Pi 3B's own Ethernet
  # (LAN9514 on its USB hub) is not modelled: a USB Ethernet device on the dwc2 root port instead.
  # Its MAC in the Pi's own range (b8:27:eb, globally administered) as the LAN9514 has: with QEMU's
  # locally administered default usbnet would name it usb0, which 20-wired.network does not match.
  qemu-system-aarch64 -M raspi3b -m 1G \
    -display none -monitor none -serial "file:$T/console.log" \
    -kernel "$T/vmlinuz" -initrd "$T/initrd.img" -dtb "$T/$DTB" -append "$CMDLINE" \
    -drive "file=$T/disk.img,format=raw,if=sd" \
    -netdev "$NETDEV" -device usb-net,netdev=n0,mac=b8:27:eb:4a:55:4e 2>"$T/qemu.log" &
else
  qemu-system-aarch64 -M virt -cpu cortex-a72 -smp "${QEMU_SMP:-2}" -m "${QEMU_MEM:-1024}" \
    -display none -monitor none -serial "file:$T/console.log" \
    -kernel "$T/vmlinuz" -initrd "$T/initrd.img" \
    -append "root=LABEL=RASPIROOT rw rootwait console=ttyAMA0 net.ifnames=0" \
    -drive "file=$T/disk.img,format=raw,if=virtio" \
    -device virtio-rng-pci \
    -netdev "$NETDEV" -device virtio-net-pci,netdev=n0,romfile= "${QEMU_EXTRA[@]}" 2>"$T/qemu.log" &
fi
QEMU_PID=$!

set +e
if [ "$MODE" != generated ]; then
  RESULT=$(node "$HERE/boot-check.mjs" --wamp "$WAMP_PORT" --mqtt "$MQTT_PORT" --since "$SINCE" --timeout "$TIMEOUT" --ticket "$TICKET" --authid tester)
else
  RESULT=$(node "$HERE/boot-check.mjs" --wamp "$WAMP_PORT" --mqtt "$MQTT_PORT" --since "$SINCE" --timeout "$TIMEOUT")
fi
RC=$?
set -e
if [ "$MODE" = sd-writes ] && [ $RC = 0 ]; then
  node "$HERE/sd-writes/measure.mjs" "$T/console.log" "${SETTLE:-660}" "$WINDOW_MIN" "$WAMP_PORT" "$TICKET" junction.board.junction_test.load || RC=1
fi
if [ "$MODE" = upgrade ] && [ $RC = 0 ]; then
  echo "boot-test: upgrading to $V2 and downgrading to $V1 with clients connected"
  # Its progress on stderr, without the clients' own chatter about lost connections.
  UPGRADE=$(node "$HERE/upgrade-check.mjs" "$T/agent.sock" "$WAMP_PORT" "$MQTT_PORT" "$TICKET" "$V1" "$V2" \
    2> >(tee "$T/upgrade-check.log" | grep --line-buffered '^\[upgrade-check\]' >&2)) || RC=1
  echo "boot-test: upgrade $UPGRADE"
fi
sleep 2
kill "$QEMU_PID" 2>/dev/null; wait "$QEMU_PID" 2>/dev/null; QEMU_PID=

# What the guest said about itself on the serial console.
grep -a -E 'junction-firstboot|Junction|Reached target|SETUP CODE|root file system grown|dwc2 .*DWC OTG|cdc_ether|rndis_host|mmc0: new' "$T/console.log" | sed 's/\x1b\[[0-9;]*m//g' | tail -40 > "$T/console-summary.txt" || true
cat "$T/console-summary.txt"
CHECKS=""
if [ "$MODE" = generated ]; then
  grep -aq 'SETUP CODE: [A-Z2-9]\{4\}-[A-Z2-9]\{4\}' "$T/console.log" && CHECKS="$CHECKS setup_code_on_console=yes" || { CHECKS="$CHECKS setup_code_on_console=NO"; RC=1; }
else
  # First boot must have removed the secret-holding file from the FAT side and left its report.
  if mdir -i "$FAT" -b ::/ 2>/dev/null | grep -qi 'junction.yaml'; then CHECKS="$CHECKS fat_junction_yaml_removed=NO"; RC=1; else CHECKS="$CHECKS fat_junction_yaml_removed=yes"; fi
  mcopy -i "$FAT" -n ::firstboot-report.txt "$T/firstboot-report.txt" 2>/dev/null && { echo "--- firstboot-report.txt"; tr -d '\r' < "$T/firstboot-report.txt"; } || true
fi
if [ "$MACHINE" = raspi3b ]; then
  # What only the console shows: how far the Pi's boot path went.
  seen() { # name pattern
    if grep -aEq "$2" "$T/console.log"; then CHECKS="$CHECKS $1=yes"; else CHECKS="$CHECKS $1=NO"; RC=1; fi
  }
  seen multi_user 'Reached target .*Multi-User System'
  seen root_grown 'root file system grown to'
  seen usb_host_dwc2 'dwc2 .*DWC OTG Controller'
  seen usb_network '(cdc_ether|rndis_host) .*register'
fi
echo "boot-test: machine $MACHINE"
echo "boot-test: result $RESULT"
echo "boot-test:$CHECKS"
# QEMU's own messages go to a file: slirp and usb-net log every packet or request the guest is not
# ready for yet, which would bury the result.
[ $RC = 0 ] || { echo "--- qemu's last messages ($T/qemu.log)"; grep -v -e '^qemu-system-aarch64: Slirp: Failed to send packet' -e '^usbnet: failed control transaction' "$T/qemu.log" | tail -5; }
[ $RC = 0 ] && echo "boot-test: PASSED" || echo "boot-test: FAILED (console log: $T/console.log)"
exit $RC
