#!/bin/sh
# Root filesystem manifests of Junction images.
#
#   images/manifest.sh A.manifest B.manifest   compare two manifests (exit 0: same, 1: different)
#   images/manifest.sh --tree DIR              print the file part of a manifest for a directory tree
#
# A manifest (written by images/build.sh next to the image) has two sections:
#   ## packages   one line per installed package: name version architecture
#   ## files      one line per file system entry, sorted by path:
#                 regular file: <sha256> <octal mode> <uid>:<gid> <path>
#                 symlink:      -> <target> <uid>:<gid> <path>
#                 directory:    dir <octal mode> <uid>:<gid> <path>
#                 other:        <type letter> <octal mode> <uid>:<gid> <path>
# Times are not listed: the build clamps them all to SOURCE_DATE_EPOCH.
set -eu
export LC_ALL=C

usage() { sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

tree() {
  dir=$1
  [ -d "$dir" ] || { echo "manifest.sh: no directory $dir" >&2; exit 2; }
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  ( cd "$dir" && find . -xdev -printf '%p\t%y\t%m\t%U:%G\t%l\n' ) | sort -t "$(printf '\t')" -k1,1 > "$tmp/meta"
  ( cd "$dir" && find . -xdev -type f -print0 | xargs -0 -r sha256sum ) \
    | sed -E 's/^([0-9a-f]{64})  (.*)$/\2\t\1/' | sort -t "$(printf '\t')" -k1,1 > "$tmp/hash"
  join -t "$(printf '\t')" -a 1 -e '' -o '1.1,1.2,1.3,1.4,1.5,2.2' "$tmp/meta" "$tmp/hash" | awk -F '\t' '
    { p = substr($1, 2); if (p == "") p = "/" }
    $2 == "f" { print $6 " " $3 " " $4 " " p; next }
    $2 == "l" { print "-> " $5 " " $4 " " p; next }
    $2 == "d" { print "dir " $3 " " $4 " " p; next }
              { print $2 " " $3 " " $4 " " p }'
}

section() { # $1 file, $2 section name
  awk -v s="## $2" 'index($0, s) == 1 { on = 1; next } /^## / { on = 0 } on' "$1"
}

compare() {
  a=$1; b=$2
  for f in "$a" "$b"; do [ -f "$f" ] || { echo "manifest.sh: no file $f" >&2; exit 2; }; done
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  section "$a" packages > "$tmp/pa"; section "$b" packages > "$tmp/pb"
  section "$a" files > "$tmp/fa"; section "$b" files > "$tmp/fb"
  # Files keyed by path (the last field; paths hold no spaces in a Debian root, but keep them whole).
  for s in a b; do
    awk '{ p = $0; for (i = 1; i < 4; i++) sub(/^[^ ]+ /, "", p); print p "\t" $0 }' "$tmp/f$s" | sort -t "$(printf '\t')" -k1,1 > "$tmp/k$s"
  done
  pkg_only_a=$(comm -23 "$tmp/pa" "$tmp/pb" | wc -l); pkg_only_b=$(comm -13 "$tmp/pa" "$tmp/pb" | wc -l)
  cut -f1 "$tmp/ka" > "$tmp/na"; cut -f1 "$tmp/kb" > "$tmp/nb"
  comm -23 "$tmp/na" "$tmp/nb" > "$tmp/gone"; comm -13 "$tmp/na" "$tmp/nb" > "$tmp/new"
  join -t "$(printf '\t')" "$tmp/ka" "$tmp/kb" | awk -F '\t' '$2 != $3 { print $1 }' > "$tmp/changed"
  echo "packages: $(wc -l < "$tmp/pa") in A, $(wc -l < "$tmp/pb") in B; differing lines: $pkg_only_a in A only, $pkg_only_b in B only"
  echo "files:    $(wc -l < "$tmp/fa") in A, $(wc -l < "$tmp/fb") in B; $(wc -l < "$tmp/gone") only in A, $(wc -l < "$tmp/new") only in B, $(wc -l < "$tmp/changed") changed"
  if [ "$pkg_only_a$pkg_only_b" != 00 ]; then
    echo "--- package differences (- A, + B)"
    comm -23 "$tmp/pa" "$tmp/pb" | sed 's/^/- /' | head -50
    comm -13 "$tmp/pa" "$tmp/pb" | sed 's/^/+ /' | head -50
  fi
  for kind in gone new changed; do
    if [ -s "$tmp/$kind" ]; then
      case $kind in gone) label="only in A" ;; new) label="only in B" ;; changed) label="changed" ;; esac
      echo "--- files $label (first 50)"; head -50 "$tmp/$kind"
    fi
  done
  if [ "$pkg_only_a$pkg_only_b" = 00 ] && [ ! -s "$tmp/gone" ] && [ ! -s "$tmp/new" ] && [ ! -s "$tmp/changed" ]; then
    echo "identical"; exit 0
  fi
  exit 1
}

case "${1:-}" in
  --tree) [ $# = 2 ] || usage; tree "$2" ;;
  -h|--help|"") usage ;;
  *) [ $# = 2 ] || usage; compare "$1" "$2" ;;
esac
