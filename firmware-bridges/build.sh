#!/bin/sh
# Builds the Uno firmware with Debian's gcc-avr, avr-libc and arduino-core-avr (no IDE, no Java).
#
#   firmware-bridges/build.sh [-d DEVICE_ID] [-s SKETCH.ino] OUTDIR
#
# Writes OUTDIR/firmware.elf and OUTDIR/firmware.hex and prints avr-size's Program/Data lines.
# Flash a real board with: avrdude -p m328p -c arduino -P /dev/ttyACM0 -b 115200 -U flash:w:OUTDIR/firmware.hex
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ID=uno-1
INO=$HERE/uno/uno.ino
while getopts d:s: opt; do
  case $opt in
    d) ID=$OPTARG ;;
    s) INO=$OPTARG ;;
    *) echo "usage: $0 [-d DEVICE_ID] [-s SKETCH.ino] OUTDIR" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "usage: $0 [-d DEVICE_ID] [-s SKETCH.ino] OUTDIR" >&2; exit 2; }
OUT=$1
case $ID in *[!A-Za-z0-9_-]*|'') echo "DEVICE_ID must be 1-24 characters of A-Z a-z 0-9 _ -" >&2; exit 2 ;; esac

ARDUINO=/usr/share/arduino/hardware/arduino/avr
CORE=$ARDUINO/cores/arduino
VARIANT=$ARDUINO/variants/standard
for tool in avr-gcc avr-g++ avr-gcc-ar avr-objcopy avr-size; do
  command -v $tool >/dev/null || { echo "$tool missing: apt-get install gcc-avr binutils-avr avr-libc arduino-core-avr" >&2; exit 1; }
done
[ -d "$CORE" ] || { echo "$CORE missing: apt-get install arduino-core-avr" >&2; exit 1; }

# -DDECIMAL_DIG=__DECIMAL_DIG__: Debian bookworm's arduino-core-avr 1.8.7 WString.cpp uses DECIMAL_DIG,
# which avr-gcc 5.4's <float.h> defines only for C, not for C++.
COMMON="-mmcu=atmega328p -DF_CPU=16000000L -DARDUINO=10807 -DARDUINO_AVR_UNO -DARDUINO_ARCH_AVR \
  -DDECIMAL_DIG=__DECIMAL_DIG__ -I$CORE -I$VARIANT -Os -Wall -ffunction-sections -fdata-sections -flto"
CFLAGS="$COMMON -std=gnu11 -fno-fat-lto-objects"
CXXFLAGS="$COMMON -std=gnu++11 -fpermissive -fno-exceptions -fno-threadsafe-statics -fno-rtti -fno-fat-lto-objects"

mkdir -p "$OUT/core"
# The core does not depend on the device id: build it once per OUTDIR.
if [ ! -f "$OUT/core.a" ]; then
  for f in "$CORE"/*.c; do avr-gcc $CFLAGS -c "$f" -o "$OUT/core/$(basename "$f").o" & done
  for f in "$CORE"/*.cpp; do avr-g++ $CXXFLAGS -c "$f" -o "$OUT/core/$(basename "$f").o" & done
  wait
  for f in "$CORE"/*.S; do avr-gcc $COMMON -x assembler-with-cpp -c "$f" -o "$OUT/core/$(basename "$f").o"; done
  for f in "$CORE"/*.c "$CORE"/*.cpp; do [ -f "$OUT/core/$(basename "$f").o" ] || { echo "core build failed: $f" >&2; exit 1; }; done
  avr-gcc-ar rcs "$OUT/core.a.tmp" "$OUT"/core/*.o
  mv "$OUT/core.a.tmp" "$OUT/core.a"
fi

avr-g++ $CXXFLAGS -DDEVICE_ID="\"$ID\"" -x c++ -include Arduino.h -c "$INO" -o "$OUT/sketch.o"
avr-gcc -mmcu=atmega328p -Os -flto -fuse-linker-plugin -Wl,--gc-sections \
  -o "$OUT/firmware.elf" "$OUT/sketch.o" "$OUT/core.a" -lm
avr-objcopy -O ihex -R .eeprom "$OUT/firmware.elf" "$OUT/firmware.hex"
echo "built $OUT/firmware.elf (DEVICE_ID=$ID)"
avr-size --mcu=atmega328p -C --format=avr "$OUT/firmware.elf" | grep -E "Program|Data"
