#!/bin/bash
# Boots the built SD image under qemu-system-aarch64 (-M virt, software emulation) and checks from
# outside, through forwarded ports, that Junction comes up and answers a WAMP call and an MQTT publish.
# Reports the time from power-on (qemu started) to the first answered call.
#
#   sudo images/boot-test.sh [IMAGE]              # default $JUNCTION_IMAGE_DIR/out/junction-rpi-arm64.img
#   sudo images/boot-test.sh --generated [IMAGE]  # no junction.yaml: checks the generated, closed config
#
# The image itself is not changed: a sparse copy (grown by 512 MiB, so first boot's root resize is
# exercised) gets test files on its FAT partition, as a user would put them there:
#   default mode:  junction.yaml (a ticket principal "tester"; universal transport on 8080 with WebSocket
#                  and RawSocket, an MQTT transport on 1883, no anonymous access) and hostname.txt
#   --generated:   nothing; first boot must generate credentials and print a setup code, and anonymous
#                  WAMP and MQTT clients must be refused.
# The kernel and initrd are the ones on the image's FAT partition. -M virt tests the userland, the
# units and first boot; only a real board tests the Raspberry Pi firmware path.
#
# Environment: JUNCTION_IMAGE_DIR (default /var/tmp/junction-image), WAMP_PORT (28080), MQTT_PORT (21883)
# on 127.0.0.1, TIMEOUT seconds for the first answer (900), QEMU_SMP (2), QEMU_MEM MiB (1024).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${JUNCTION_IMAGE_DIR:-/var/tmp/junction-image}
MODE=ticket
if [ "${1:-}" = --generated ]; then MODE=generated; shift; fi
IMG=${1:-$WORK/out/junction-rpi-arm64.img}
WAMP_PORT=${WAMP_PORT:-28080}
MQTT_PORT=${MQTT_PORT:-21883}
TIMEOUT=${TIMEOUT:-900}
T=$WORK/boot-test
"$HERE/need-node-modules.sh" boot-test.sh || exit 1
[ -f "$IMG" ] || { echo "boot-test.sh: no image $IMG (run images/build.sh)" >&2; exit 1; }
for tool in qemu-system-aarch64 mcopy sfdisk mosquitto_pub node; do
  command -v "$tool" >/dev/null || { echo "boot-test.sh: $tool missing; run images/deps.sh" >&2; exit 1; }
done

rm -rf "$T"; mkdir -p "$T"
QEMU_PID=
cleanup() { [ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

echo "boot-test: copying $IMG"
cp --sparse=always "$IMG" "$T/disk.img"
truncate -s +512M "$T/disk.img"
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

TICKET=
if [ "$MODE" = ticket ]; then
  TICKET=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
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
        rawsocket: { auth: { ticket: { type: static, principals: { tester: { ticket: "$TICKET", role: tester } } } } }
        websocket:
          ws: { auth: { ticket: { type: static, principals: { tester: { ticket: "$TICKET", role: tester } } } } }
      - type: mqtt
        endpoint: { type: tcp, port: 1883 }
        options: { realm: realm1 }
        auth: { ticket: { type: static, principals: { tester: { ticket: "$TICKET", role: tester } } } }
EOF
  printf 'junction-test\r\n' > "$T/hostname.txt"
  mcopy -i "$FAT" -o "$T/junction.yaml" "$T/hostname.txt" ::/
fi

echo "boot-test: starting qemu ($MODE mode; WAMP on 127.0.0.1:$WAMP_PORT, MQTT on 127.0.0.1:$MQTT_PORT)"
SINCE=$(date +%s%3N)
qemu-system-aarch64 -M virt -cpu cortex-a72 -smp "${QEMU_SMP:-2}" -m "${QEMU_MEM:-1024}" \
  -display none -monitor none -serial "file:$T/console.log" \
  -kernel "$T/vmlinuz" -initrd "$T/initrd.img" \
  -append "root=LABEL=RASPIROOT rw rootwait console=ttyAMA0 net.ifnames=0" \
  -drive "file=$T/disk.img,format=raw,if=virtio" \
  -device virtio-rng-pci \
  -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$WAMP_PORT-:8080,hostfwd=tcp:127.0.0.1:$MQTT_PORT-:1883" \
  -device virtio-net-pci,netdev=n0,romfile= &
QEMU_PID=$!

set +e
if [ "$MODE" = ticket ]; then
  RESULT=$(node "$HERE/boot-check.mjs" --wamp "$WAMP_PORT" --mqtt "$MQTT_PORT" --since "$SINCE" --timeout "$TIMEOUT" --ticket "$TICKET" --authid tester)
else
  RESULT=$(node "$HERE/boot-check.mjs" --wamp "$WAMP_PORT" --mqtt "$MQTT_PORT" --since "$SINCE" --timeout "$TIMEOUT")
fi
RC=$?
set -e
sleep 2
kill "$QEMU_PID" 2>/dev/null; wait "$QEMU_PID" 2>/dev/null; QEMU_PID=

# What the guest said about itself on the serial console.
grep -a -E 'junction-firstboot|Junction|Reached target|SETUP CODE|root file system grown' "$T/console.log" | sed 's/\x1b\[[0-9;]*m//g' | tail -40 > "$T/console-summary.txt" || true
cat "$T/console-summary.txt"
CHECKS=""
if [ "$MODE" = generated ]; then
  grep -aq 'SETUP CODE: [A-Z2-9]\{4\}-[A-Z2-9]\{4\}' "$T/console.log" && CHECKS="$CHECKS setup_code_on_console=yes" || { CHECKS="$CHECKS setup_code_on_console=NO"; RC=1; }
else
  # First boot must have removed the secret-holding file from the FAT side and left its report.
  if mdir -i "$FAT" -b ::/ 2>/dev/null | grep -qi 'junction.yaml'; then CHECKS="$CHECKS fat_junction_yaml_removed=NO"; RC=1; else CHECKS="$CHECKS fat_junction_yaml_removed=yes"; fi
  mcopy -i "$FAT" -n ::firstboot-report.txt "$T/firstboot-report.txt" 2>/dev/null && { echo "--- firstboot-report.txt"; tr -d '\r' < "$T/firstboot-report.txt"; } || true
fi
echo "boot-test: result $RESULT"
echo "boot-test:$CHECKS"
[ $RC = 0 ] && echo "boot-test: PASSED" || echo "boot-test: FAILED (console log: $T/console.log)"
exit $RC
