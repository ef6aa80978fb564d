#!/bin/bash
# Builds Junction's Debian packages with dpkg-deb: junction_<version>_<arch>.deb for each ARCH.
#
#   images/build-deb.sh [ARCH...]      ARCH: amd64, arm64 (default: both)
#
# Each package holds the built dist/ and the production node_modules for its architecture (npm
# installs the packages' own prebuilt native addons for it: nothing is compiled, so any host builds
# both) under /usr/lib/junction, the CLI as /usr/bin/junction, the unit, the user (sysusers.d), a
# default /etc/junction/junction.yaml (a conffile) and the maintainer scripts in images/deb/.
# Node.js is Debian's nodejs package (Depends: nodejs (>= 20)).
#
# Environment:
#   JUNCTION_SRC      Junction's sources (default: this repository's working tree, not git HEAD)
#   JUNCTION_DIST     an already built dist/ to package (e.g. the checkout's, after `npm run build`)
#                     instead of `npm ci` and a build in a copy of the sources
#   JUNCTION_VERSION  the package's version (default: package.json's); also written into the
#                     packaged package.json, so `junction version` says it
#   DEB_OUT           where the .deb files go (default: $DEB_WORK/out)
#   DEB_WORK          work directory (default: /var/tmp/junction-deb)
#   SOURCE_DATE_EPOCH time stamp of every file (default: the last commit's time)
#
# Prints the path of each package built, one a line, last.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=${JUNCTION_SRC:-$(dirname "$HERE")}
WORK=${DEB_WORK:-/var/tmp/junction-deb}
OUT=${DEB_OUT:-$WORK/out}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || echo 1735689600)}
export SOURCE_DATE_EPOCH
VERSION=${JUNCTION_VERSION:-$(node -p "require('$REPO/package.json').version")}
first=$(git -C "$REPO" log --format=%cd --date=format:%Y 2>/dev/null | tail -1 || true)
last=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y)
YEARS=${first:-$last}; [ "$YEARS" = "$last" ] || YEARS="$YEARS-$last"
MAINTAINER=${DEB_MAINTAINER:-$(git -C "$REPO" log -1 --format='%an <%ae>' 2>/dev/null || echo 'Junction developers <junction@example.org>')}
[ $# -gt 0 ] || set -- amd64 arm64
for arch in "$@"; do
  case $arch in amd64|arm64) ;; *) echo "build-deb.sh: unknown architecture $arch (amd64, arm64)" >&2; exit 2 ;; esac
done
for tool in dpkg-deb node npm; do
  command -v "$tool" >/dev/null || { echo "build-deb.sh: $tool missing" >&2; exit 1; }
done
mkdir -p "$WORK" "$OUT"
NPM_QUIET=(--no-audit --no-fund --loglevel=error)

# /usr/share/doc/junction/copyright: Junction's license, and each bundled npm package's name,
# version and license (the full texts stay in their directories under node_modules).
copyright() { # node_modules
  echo "Junction: a WAMP router appliance for Raspberry Pi-class boards"
  echo "Copyright (c) $YEARS the Junction developers"
  echo "License: MIT (below)"
  echo
  echo "Bundled npm packages in /usr/lib/junction/node_modules, each under the license named"
  echo "here; the license text is in the package's own directory:"
  echo
  node -e '
    const fs = require("fs"), path = require("path"), lines = new Set();
    (function walk(dir) {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        const d = path.join(dir, e.name);
        if (e.name.startsWith("@")) { walk(d); continue; }
        const f = path.join(d, "package.json");
        if (fs.existsSync(f)) {
          const p = JSON.parse(fs.readFileSync(f, "utf8"));
          if (p.name && p.version) lines.add(`  ${p.name} ${p.version}: ${typeof p.license === "string" ? p.license : "see its directory"}`);
        }
        if (fs.existsSync(path.join(d, "node_modules"))) walk(path.join(d, "node_modules"));
      }
    })(process.argv[1]);
    console.log([...lines].sort().join("\n"));' "$1"
  echo
  echo "Licenses named above that Debian ships, e.g. Apache-2.0, are in /usr/share/common-licenses/."
  echo
  echo "MIT License"
  echo
  echo "Permission is hereby granted, free of charge, to any person obtaining a copy of this software"
  echo "and associated documentation files (the \"Software\"), to deal in the Software without"
  echo "restriction, including without limitation the rights to use, copy, modify, merge, publish,"
  echo "distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the"
  echo "Software is furnished to do so, subject to the following conditions:"
  echo
  echo "The above copyright notice and this permission notice shall be included in all copies or"
  echo "substantial portions of the Software."
  echo
  echo "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING"
  echo "BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND"
  echo "NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,"
  echo "DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,"
  echo "OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE."
}

# ---------------------------------------------------------------- dist/, built once for all
if [ -n "${JUNCTION_DIST:-}" ]; then
  DIST=$(cd "$JUNCTION_DIST" && pwd)
  [ -f "$DIST/bin/junction.cjs" ] || { echo "build-deb.sh: no built CLI in $DIST (npm run build)" >&2; exit 1; }
else
  # A copy of the working tree: what is tested is what is shipped, and the checkout is untouched.
  rm -rf "$WORK/src"; mkdir -p "$WORK/src"
  cp -a "$REPO/package.json" "$REPO/package-lock.json" "$REPO/tsconfig.json" "$REPO/src" "$REPO/scripts" "$WORK/src/"
  # --ignore-scripts: the build needs only TypeScript and esbuild, neither needs its install script.
  ( cd "$WORK/src" && npm ci --ignore-scripts "${NPM_QUIET[@]}" >/dev/null && npm run build >/dev/null )
  DIST=$WORK/src/dist
fi

# The default config: `junction init`'s commented starter (127.0.0.1 only), as the README describes.
rm -rf "$WORK/init"
node "$DIST/bin/junction.cjs" init "$WORK/init" >/dev/null

for arch in "$@"; do
  case $arch in amd64) cpu=x64 ;; arm64) cpu=arm64 ;; esac
  ROOT=$WORK/$arch
  rm -rf "$ROOT"; mkdir -p "$ROOT/DEBIAN"
  APP=$ROOT/usr/lib/junction
  mkdir -p "$APP"
  cp -a "$DIST" "$APP/dist"
  cp -a "$REPO/package.json" "$REPO/package-lock.json" "$APP/"
  # No install scripts: native addons come from the packages' own prebuilds (serialport ships
  # linux-x64 and linux-arm64; msgpackr/cbor-x take their optional per-platform packages, or fall
  # back to JavaScript).
  ( cd "$APP" && npm ci --omit=dev --ignore-scripts --os=linux --cpu="$cpu" --libc=glibc --prefer-offline "${NPM_QUIET[@]}" >/dev/null )
  rm -f "$APP/package-lock.json" "$APP/node_modules/.package-lock.json"
  # Prebuilt addons for other systems are dead weight (and foreign binaries in an $arch package);
  # so are type declarations, source maps and the npm packages' own tool configs (dot files).
  find "$APP/node_modules" -type d -path '*/prebuilds/*' ! -name "linux-$cpu" -prune -exec rm -rf {} +
  find "$APP/node_modules" -name '*.musl.node' -delete
  find "$APP/node_modules" \( -name '.*' -o -name '*.d.ts' -o -name '*.d.?ts' -o -name '*.map' \) -prune -exec rm -rf {} +
  # The addons link against glibc: the newest symbol version any of them needs.
  glibc=$(find "$APP/node_modules" -name '*.node' -exec grep -aoh 'GLIBC_[0-9][0-9.]*' {} + | sed 's/GLIBC_//' | sort -Vu | tail -1)
  node -e '
    const f = process.argv[1], p = JSON.parse(require("fs").readFileSync(f, "utf8"));
    p.version = process.argv[2];
    require("fs").writeFileSync(f, JSON.stringify(p, null, 2) + "\n");' "$APP/package.json" "$VERSION"
  # Debian runs scripts with the interpreter's path, not through env.
  sed -i '1s|^#!/usr/bin/env node$|#!/usr/bin/node|' "$APP/dist/bin/junction.cjs"
  mkdir -p "$ROOT/usr/bin"
  ln -s ../lib/junction/dist/bin/junction.cjs "$ROOT/usr/bin/junction"

  install -D -m 644 "$REPO/systemd/junction.service" "$ROOT/usr/lib/systemd/system/junction.service"
  install -D -m 644 "$HERE/deb/junction.sysusers" "$ROOT/usr/lib/sysusers.d/junction.conf"
  install -D -m 644 "$WORK/init/junction.yaml" "$ROOT/etc/junction/junction.yaml"
  install -D -m 644 "$HERE/deb/lintian-overrides" "$ROOT/usr/share/lintian/overrides/junction"
  DOC=$ROOT/usr/share/doc/junction
  install -d "$DOC"
  gzip -9n < "$REPO/README.md" > "$DOC/README.md.gz"
  install -d "$ROOT/usr/share/man/man1"
  gzip -9n < "$HERE/deb/junction.1" > "$ROOT/usr/share/man/man1/junction.1.gz"
  {
    echo "junction ($VERSION) unstable; urgency=medium"; echo
    echo "  * Junction $VERSION, built from commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)."; echo
    echo " -- $MAINTAINER  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
  } | gzip -9n > "$DOC/changelog.gz"
  copyright "$APP/node_modules" > "$DOC/copyright"

  for s in postinst prerm postrm; do install -m 755 "$HERE/deb/$s" "$ROOT/DEBIAN/$s"; done
  echo /etc/junction/junction.yaml > "$ROOT/DEBIAN/conffiles"
  # Everything readable, nothing writable but by root; times clamped for a reproducible package.
  find "$ROOT" -type d -exec chmod 755 {} +
  find "$ROOT" -type f -exec chmod 644 {} +
  chmod 755 "$APP/dist/bin/junction.cjs" "$ROOT"/DEBIAN/post* "$ROOT"/DEBIAN/prerm
  ( cd "$ROOT" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum ) > "$ROOT/DEBIAN/md5sums"
  chmod 644 "$ROOT/DEBIAN/md5sums"
  size=$(du -sk --apparent-size --exclude=DEBIAN "$ROOT" | cut -f1)
  sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$MAINTAINER|" -e "s|@SIZE@|$size|" \
    -e "s|@LIBC@|${glibc:+libc6 (>= $glibc), }|" \
    "$HERE/deb/control" > "$ROOT/DEBIAN/control"
  find "$ROOT" -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0 -r touch -h -d "@$SOURCE_DATE_EPOCH"
  deb=$OUT/junction_${VERSION}_$arch.deb
  dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$deb" >/dev/null
  echo "$deb"
done
