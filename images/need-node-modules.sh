#!/bin/sh
# Checks, in seconds, what images/boot-check.mjs needs from this checkout: the npm package `ws` in
# its node_modules (`npm ci`). boot-test.sh runs it first; build.sh runs it before its 20-minute
# build, since the image is checked with boot-test.sh afterwards. Says what to do when it fails.
repo=$(cd "$(dirname "$0")/.." && pwd)
# Resolved as boot-check.mjs resolves it: from images/ up through the checkout's node_modules.
if (cd "$repo/images" && node -e "require.resolve('ws')") >/dev/null 2>&1; then exit 0; fi
cat >&2 <<MSG
$(basename "${1:-$0}"): images/boot-check.mjs needs the npm package "ws" from $repo/node_modules,
which is not there. Install the checkout's dependencies first, as your own user (not with sudo):
    cd $repo && npm ci
MSG
exit 1
