#!/bin/sh
# Put into a copy of the image by `boot-test.sh --upgrade` only (never into the image itself): runs
# what the test asks over a virtio serial port, as an admin at the board's shell would:
#   install FILE   dpkg -i /boot/firmware/FILE (a junction_*_arm64.deb the test put there)
#   state          Junction's version, its service's PID and state, checksums of its config,
#                  credentials and state files
#   journal        the service's last journal lines
# Every answer line starts with "agent: "; the last one is "agent: done rc=N".
PORT=/dev/virtio-ports/junction-test
state() {
  echo "version $(junction version 2>&1 | head -1)"
  systemctl show junction -p MainPID -p ActiveState -p NRestarts | tr '\n' ' '; echo
  find /etc/junction /var/lib/junction -type f -exec sha256sum {} + 2>&1 | sort -k2
}
while :; do
  while [ ! -e "$PORT" ]; do sleep 1; done
  exec 3<>"$PORT"
  while read -r cmd arg <&3; do
    case "$cmd" in
      install)
        case "$arg" in
          # dpkg's output line by line as it comes, so the test shows where an install is.
          junction_*_arm64.deb)
            { dpkg -i "/boot/firmware/$arg" 2>&1; echo "rc=$?" > /run/upgrade-agent.rc; } | sed -u 's/^/agent: /' >&3
            rc=$(sed 's/^rc=//' /run/upgrade-agent.rc) ;;
          *) echo "agent: not a Junction package: $arg" >&3; rc=2 ;;
        esac ;;
      state) state | sed 's/^/agent: /' >&3; rc=0 ;;
      journal) journalctl -u junction -n 40 --no-pager -o short-monotonic | sed 's/^/agent: /' >&3; rc=0 ;;
      *) echo "agent: unknown command: $cmd" >&3; rc=2 ;;
    esac
    echo "agent: done rc=$rc" >&3
  done
  exec 3<&-
  sleep 1
done
