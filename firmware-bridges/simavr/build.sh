#!/bin/sh
# Compiles the simavr harness (needs Debian's libsimavr-dev).   firmware-bridges/simavr/build.sh [OUTFILE]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/uno_pty}
[ -f /usr/include/simavr/sim_avr.h ] || { echo "simavr headers missing: apt-get install libsimavr-dev" >&2; exit 1; }
# Explicit flags: pkg-config's simavr.pc wants libelf-dev's .pc file, which is not needed to link.
gcc -O2 -Wall -Wextra -Wno-unused-parameter -o "$OUT.tmp" "$HERE/uno_pty.c" \
  -I/usr/include/simavr -I/usr/include/simavr/parts -lsimavrparts -lsimavr -lpthread -lutil
mv "$OUT.tmp" "$OUT"
echo "built $OUT"
