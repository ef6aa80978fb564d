#!/bin/sh
# Put into a copy of the image by `boot-test.sh --sd-writes` (never into the image itself): prints
# the root disk's write counters on the console every PERIOD seconds, and which processes dirtied
# which inodes of it since the last line, so the test reads them from outside without a login and
# without writing to the disk it measures (the console is a serial port; the trace lives in RAM).
PERIOD=${1:-10}
dev=$(findmnt -no SOURCE /)
name=${dev#/dev/}
bdi=$(cat "/sys/class/block/$name/../dev" 2>/dev/null || cat "/sys/class/block/$name/dev")
tr=/sys/kernel/tracing
if [ -d "$tr/events/writeback/writeback_dirty_inode_start" ] || [ -d "$tr/events/writeback/writeback_mark_inode_dirty" ]; then
  echo 1 > "$tr/events/writeback/writeback_mark_inode_dirty/enable" 2>/dev/null
  echo 65536 > "$tr/buffer_size_kb" 2>/dev/null
  : > "$tr/trace"
fi
while :; do
  read -r up _ < /proc/uptime
  stat=$(awk -v d="$name" '$3 == d { print $10, $8 }' /proc/diskstats)
  kb=$(cat "/sys/fs/ext4/$name/lifetime_write_kbytes" 2>/dev/null)
  echo "sd-writes: uptime=$up dev=$name sectors_written_writes=$stat ext4_lifetime_kb=$kb" > /dev/console
  if [ -f "$tr/trace" ]; then
    # "comm-pid [cpu] ... writeback_mark_inode_dirty: bdi 254:0: ino=1234 state= flags=..."
    awk -v bdi="bdi $bdi:" 'index($0, bdi) { c = $1; sub(/-[0-9]+$/, "", c); i = $0; sub(/.*ino=/, "", i); sub(/ .*/, "", i); n[c " ino=" i]++ }
      END { for (k in n) print "sd-writes: dirtied " n[k] "x by " k }' "$tr/trace" > /dev/console
    : > "$tr/trace"
  fi
  sleep "$PERIOD"
done
