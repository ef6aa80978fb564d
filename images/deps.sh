#!/bin/sh
# Debian packages that images/build.sh and images/boot-test.sh need on the build host (Debian 12 or
# newer, amd64 or arm64). Not part of .ci/run: CI does not build images.
set -eu
PKGS="debootstrap debian-archive-keyring qemu-user-static binfmt-support e2fsprogs mtools dosfstools fdisk xz-utils qemu-system-arm mosquitto-clients ca-certificates"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "deps.sh: installing$missing"
  apt-get -o DPkg::Lock::Timeout=900 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $missing
fi
