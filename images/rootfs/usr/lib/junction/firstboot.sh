#!/bin/sh
# Junction first-boot setup: applies the files a user put on the FAT boot partition, then removes
# them there (they may hold secrets). Run by junction-firstboot.service on every boot, before the
# network and junction.service; with nothing to apply it only checks that a router config exists.
#
#   junction.env       NAME=value lines (secrets for "${NAME}" in junction.yaml) -> /etc/junction/junction.env
#                      (root 0600, read by systemd for junction.service: EnvironmentFile=)
#   junction.yaml      router config (Crossbar format) -> /etc/junction/junction.yaml, checked first
#                      (with junction.env's variables)
#   wifi.txt           ssid=..., psk=..., country=XX (optional hidden=1) -> wpa_supplicant for wlan0
#   wpa_supplicant.conf  taken as is for wlan0 instead of wifi.txt
#   hostname.txt       one line, the host name
#   authorized_keys    SSH public keys for root; their presence turns SSH on
#
# With no router config at all it has the installed Junction write one that lets nobody in without
# credentials (`junction init --first-boot`, src/config/first-boot.ts): a generated ticket for the
# principal "admin", kept in /var/lib/junction/setup.json (0600, owner junction) together with a
# one-time setup code, which is printed on the console and in the journal and written to
# junction-setup.txt on the boot partition (for boards without a screen); the status page shows
# the ticket to whoever enters that code. junction-setup.txt goes at the first boot after that.
#
# Environment (for tests on a build host; defaults are the real system):
#   JUNCTION_ROOT   prefix of the root file system (default: empty, i.e. /)
#   JUNCTION_BOOT   the boot partition directory (default: $JUNCTION_ROOT/boot/firmware)
#   JUNCTION_CLI    command that runs Junction's CLI (default: node /usr/lib/junction/dist/bin/junction.cjs)
#   JUNCTION_CHECK  command that validates a config file given as its last argument
#                   (default: $JUNCTION_CLI check --config)
set -u
umask 077

R=${JUNCTION_ROOT:-}
BOOT=${JUNCTION_BOOT:-$R/boot/firmware}
CLI=${JUNCTION_CLI:-/usr/bin/node /usr/lib/junction/dist/bin/junction.cjs}
CHECK=${JUNCTION_CHECK:-$CLI check --config}
STATE=$R/var/lib/junction-firstboot
REPORT=$BOOT/firstboot-report.txt
CONF_DIR=$R/etc/junction
CONF=$CONF_DIR/junction.yaml
SETUP=$R/var/lib/junction/setup.json
SETUP_NOTE=$BOOT/junction-setup.txt
LIVE=0; [ -z "$R" ] && LIVE=1
CHANGES=0

say() { echo "junction-firstboot: $*"; }
report() { say "$*"; echo "$*" >> "$REPORT.new" 2>/dev/null || true; }

# Numeric ids from the target's own user database (the build host may have no "junction" user).
id_of() { awk -F: -v n="$2" '$1 == n { print $3; exit }' "$R/etc/$1"; }
own() { # own USER GROUP PATH...
  u=$(id_of passwd "$1"); g=$(id_of group "$2"); shift 2
  if [ -z "$u" ] || [ -z "$g" ]; then say "warning: user or group missing in $R/etc; ownership left as is"; return 0; fi
  chown "$u:$g" "$@" 2>/dev/null || { [ $LIVE = 1 ] && say "warning: chown $u:$g $* failed"; }
  return 0
}

# Random text from the kernel's generator; alphabet without look-alikes for the human-typed code.
random_token() { # length
  od -An -vtu1 -N "$(( $1 * 2 ))" /dev/urandom | tr -s ' \n' '\n\n' | grep . | awk -v n="$1" '
    BEGIN { a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" }
    { if (out_len < n) { out = out substr(a, ($1 % 64) + 1, 1); out_len++ } }
    END { print out }'
}
setup_code() {
  od -An -vtu1 -N 64 /dev/urandom | tr -s ' \n' '\n\n' | grep . | awk '
    BEGIN { a = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789" }
    # 256 is a multiple of 32: every byte maps evenly.
    { if (n < 8) { c = c substr(a, ($1 % 32) + 1, 1); n++; if (n == 4) c = c "-" } }
    END { print c }'
}

# key=value reader: no shell evaluation of user files. Windows line ends and surrounding blanks go.
kv() { # file key
  sed -e 's/\r$//' "$1" | awk -v k="$2" '
    /^[ \t]*#/ { next }
    { i = index($0, "="); if (i == 0) next
      key = substr($0, 1, i - 1); gsub(/^[ \t]+|[ \t]+$/, "", key)
      if (tolower(key) != k) next
      v = substr($0, i + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v)
      if (v ~ /^".*"$/) v = substr(v, 2, length(v) - 2)
      print v; exit }'
}

remove_from_boot() { # file: overwrite before unlinking (best effort on FAT), then sync
  if [ -f "$1" ]; then
    sz=$(wc -c < "$1"); dd if=/dev/zero of="$1" bs=1 count="$sz" conv=notrunc 2>/dev/null || true
    rm -f "$1"
  fi
}

ENV_FILE=$CONF_DIR/junction.env
check_config() { # file -> 0 if valid; errors on stdout. Sees junction.env's variables, as the service does.
  (
    if [ -f "$ENV_FILE" ]; then
      # Validated lines only (env_file_errors); exported one by one, never evaluated by a shell.
      while IFS= read -r line; do export "${line%%=*}=${line#*=}"; done < "$ENV_FILE"
    fi
    # shellcheck disable=SC2086
    $CHECK "$1" 2>&1
  )
}

# junction.env: systemd's EnvironmentFile= reads quotes, backslashes and (in newer versions) $
# itself, so only plain NAME=value lines are taken: what `junction check` sees is what the service
# gets. Prints one line per problem (line numbers, never values).
env_file_errors() { # file
  sed -e 's/\r$//' "$1" | awk '
    /^[ \t]*$/ || /^[ \t]*[#;]/ { next }
    { i = index($0, "=")
      if (i == 0) { print "line " NR ": not NAME=value"; next }
      name = substr($0, 1, i - 1); value = substr($0, i + 1)
      if (name !~ /^[A-Za-z_][A-Za-z0-9_]*$/) { print "line " NR ": the name must be letters, digits and _ (not starting with a digit)"; next }
      if (value == "") { print "line " NR ": " name " has an empty value"; next }
      if (value ~ /["\047\\$`]/ || value ~ /^[ \t]/ || value ~ /[ \t]$/) print "line " NR ": " name ": the value must not contain quotes, backslashes, $ or backticks, nor start or end with a blank" }'
}

mkdir -p "$STATE" "$CONF_DIR"
: > "$REPORT.new" 2>/dev/null || true
[ -d "$BOOT" ] || say "no boot partition at $BOOT; nothing to apply"

# ---------------------------------------------------------------- host name
if [ -f "$BOOT/hostname.txt" ]; then
  name=$(sed -e 's/\r$//' -e 's/#.*//' "$BOOT/hostname.txt" | tr -d ' \t' | grep . | head -1 | tr 'A-Z' 'a-z')
  if printf '%s' "$name" | grep -Eq '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'; then
    printf '%s\n' "$name" > "$R/etc/hostname"; chmod 644 "$R/etc/hostname"
    if grep -q '^127\.0\.1\.1' "$R/etc/hosts" 2>/dev/null; then
      sed -i "s/^127\.0\.1\.1.*/127.0.1.1\t$name/" "$R/etc/hosts"
    else
      printf '127.0.1.1\t%s\n' "$name" >> "$R/etc/hosts"
    fi
    [ $LIVE = 1 ] && hostname "$name" 2>/dev/null
    report "hostname: set to $name"
    CHANGES=1
  else
    report "hostname: ignored hostname.txt: '$name' is not a valid host name (letters, digits, '-', at most 63)"
  fi
  remove_from_boot "$BOOT/hostname.txt"
fi

# ---------------------------------------------------------------- Wi-Fi (wpa_supplicant@wlan0)
WPA=$R/etc/wpa_supplicant/wpa_supplicant-wlan0.conf
if [ -f "$BOOT/wpa_supplicant.conf" ]; then
  mkdir -p "$R/etc/wpa_supplicant"
  sed -e 's/\r$//' "$BOOT/wpa_supplicant.conf" > "$WPA"; chmod 600 "$WPA"
  grep -q '^ctrl_interface=' "$WPA" || sed -i '1i ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev' "$WPA"
  report "wifi: wpa_supplicant.conf installed for wlan0"
  remove_from_boot "$BOOT/wpa_supplicant.conf"
  CHANGES=1
elif [ -f "$BOOT/wifi.txt" ]; then
  ssid=$(kv "$BOOT/wifi.txt" ssid); psk=$(kv "$BOOT/wifi.txt" psk)
  country=$(kv "$BOOT/wifi.txt" country | tr 'a-z' 'A-Z'); hidden=$(kv "$BOOT/wifi.txt" hidden)
  if [ -z "$ssid" ] || [ ${#ssid} -gt 32 ]; then
    report "wifi: ignored wifi.txt: ssid= is missing or longer than 32 bytes"
  elif [ -n "$psk" ] && { [ ${#psk} -lt 8 ] || [ ${#psk} -gt 63 ]; } && ! printf '%s' "$psk" | grep -Eq '^[0-9a-fA-F]{64}$'; then
    report "wifi: ignored wifi.txt: psk= must be 8 to 63 characters (or 64 hex digits)"
  else
    mkdir -p "$R/etc/wpa_supplicant"
    # The SSID as hex needs no quoting; the passphrase is stored as its derived key where possible.
    ssid_hex=$(printf '%s' "$ssid" | od -An -vtx1 | tr -d ' \n')
    {
      echo "# Written by junction-firstboot from wifi.txt"
      echo "ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev"
      echo "update_config=1"
      if printf '%s' "$country" | grep -Eq '^[A-Z]{2}$'; then echo "country=$country"; fi
      echo "network={"
      echo "	ssid=$ssid_hex"
      [ "$hidden" = 1 ] || [ "$hidden" = yes ] || [ "$hidden" = true ] && echo "	scan_ssid=1"
      if [ -z "$psk" ]; then
        echo "	key_mgmt=NONE"
      elif printf '%s' "$psk" | grep -Eq '^[0-9a-fA-F]{64}$'; then
        echo "	psk=$psk"
      elif command -v wpa_passphrase >/dev/null 2>&1; then
        wpa_passphrase "$ssid" "$psk" | awk '/^[ \t]*psk=[0-9a-f]{64}$/ { sub(/^[ \t]*/, ""); print "\t" $0 }'
      else
        printf '\tpsk="%s"\n' "$psk"
      fi
      echo "}"
    } > "$WPA"
    chmod 600 "$WPA"
    [ -n "$country" ] || report "wifi: no country= given; channels are limited to the world-wide set"
    report "wifi: network '$ssid' configured for wlan0"
    CHANGES=1
  fi
  remove_from_boot "$BOOT/wifi.txt"
fi

# ---------------------------------------------------------------- SSH
if [ -f "$BOOT/authorized_keys" ]; then
  keys=$(sed -e 's/\r$//' "$BOOT/authorized_keys" | grep -E '^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) ' || true)
  if [ -n "$keys" ]; then
    mkdir -p "$R/root/.ssh"; chmod 700 "$R/root/.ssh"
    printf '%s\n' "$keys" > "$R/root/.ssh/authorized_keys"; chmod 600 "$R/root/.ssh/authorized_keys"
    # sshd is enabled in the image but held off by Debian's own switch file until a key is given.
    rm -f "$R/etc/ssh/sshd_not_to_be_run"
    report "ssh: $(printf '%s\n' "$keys" | wc -l) key(s) installed for root; SSH is on (key login only)"
    CHANGES=1
  else
    report "ssh: ignored authorized_keys: no OpenSSH public key line found"
  fi
  remove_from_boot "$BOOT/authorized_keys"
fi
if [ ! -e "$R/etc/ssh/sshd_not_to_be_run" ] && [ -d "$R/etc/ssh" ] && ! ls "$R"/etc/ssh/ssh_host_*_key >/dev/null 2>&1; then
  if [ $LIVE = 1 ]; then ssh-keygen -A >/dev/null && say "ssh: host keys generated"; fi
fi

# ---------------------------------------------------------------- router config
install_conf() { # source file
  tmp=$CONF_DIR/.junction.yaml.new
  sed -e 's/\r$//' "$1" > "$tmp"
  chmod 640 "$tmp"; own root junction "$tmp"
  mv -f "$tmp" "$CONF"
  chmod 750 "$CONF_DIR"; own root junction "$CONF_DIR"
}
if [ -f "$BOOT/junction.env" ]; then
  errors=$(env_file_errors "$BOOT/junction.env")
  if [ -z "$errors" ]; then
    tmp=$CONF_DIR/.junction.env.new
    # Only the NAME=value lines, Unix line ends; systemd reads it as root before starting Junction.
    sed -e 's/\r$//' "$BOOT/junction.env" | grep -v -e '^[[:space:]]*$' -e '^[[:space:]]*[#;]' > "$tmp"
    chmod 600 "$tmp"; own root root "$tmp"
    mv -f "$tmp" "$ENV_FILE"
    report "junction.env: installed as /etc/junction/junction.env ($(wc -l < "$ENV_FILE" | tr -d ' ') variables)"
    CHANGES=1
  else
    sed -e 's/\r$//' "$BOOT/junction.env" > "$CONF_DIR/junction.env.invalid"; chmod 600 "$CONF_DIR/junction.env.invalid"
    report "junction.env: REFUSED, kept as /etc/junction/junction.env.invalid (root only); problems:"
    printf '%s\n' "$errors" | sed 's/^/  /' | while IFS= read -r l; do report "$l"; done
  fi
  remove_from_boot "$BOOT/junction.env"
fi

USER_CONF=0
if [ -f "$BOOT/junction.yaml" ]; then
  cp "$BOOT/junction.yaml" "$STATE/candidate.yaml"
  if out=$(check_config "$STATE/candidate.yaml"); then
    install_conf "$STATE/candidate.yaml"
    report "junction.yaml: installed as /etc/junction/junction.yaml"
    USER_CONF=1; CHANGES=1
  else
    mv -f "$STATE/candidate.yaml" "$CONF_DIR/junction.yaml.invalid"
    report "junction.yaml: REFUSED, kept as /etc/junction/junction.yaml.invalid; errors:"
    printf '%s\n' "$out" | sed 's/^/  /' | while IFS= read -r l; do report "$l"; done
  fi
  rm -f "$STATE/candidate.yaml"
  remove_from_boot "$BOOT/junction.yaml"
fi

GENERATED=0
if [ ! -f "$CONF" ]; then
  ticket=$(random_token 32)
  code=$(setup_code)
  created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  # Junction writes the config itself (one definition of the status page's roles); the ticket goes
  # in the environment, never on a command line.
  gen=$STATE/generated
  rm -rf "$gen"
  # shellcheck disable=SC2086
  if err=$(JUNCTION_ADMIN_TICKET=$ticket $CLI init --first-boot "$gen" 2>&1 >/dev/null); then
    install_conf "$gen/junction.yaml"
    GENERATED=1
  else
    # Nothing installed: the next boot tries again.
    report "junction.yaml: none given, and generating one failed: $err"
  fi
  rm -rf "$gen"
fi
if [ $GENERATED = 1 ]; then
  mkdir -p "$R/var/lib/junction"
  # The one place the ticket is kept for the status page; removed by it once shown (see README).
  printf '{"setup_code":"%s","admin":{"authid":"admin","ticket":"%s"},"created":"%s"}\n' \
    "$code" "$ticket" "$created" > "$SETUP.new"
  chmod 600 "$SETUP.new"; own junction junction "$SETUP.new"; mv -f "$SETUP.new" "$SETUP"
  chmod 750 "$R/var/lib/junction"; own junction junction "$R/var/lib/junction"
  report "junction.yaml: none given; generated one with a ticket for 'admin' (WAMP port 8080, MQTT port 1883; no anonymous access)"
  host=$(tr -d ' \t\r\n' < "$R/etc/hostname" 2>/dev/null); [ -n "$host" ] || host=junction
  say "================================================================"
  say "  SETUP CODE: $code"
  say "  Open the status page at http://$host.local:8080/ and enter it"
  say "  to see the generated admin credentials (shown once)."
  say "================================================================"
  # Headless boards (no screen, no serial cable): the code also goes on the boot partition, where
  # the computer that wrote the card reads it. Not the ticket: the code only opens the status
  # page's reveal, once, from the network (rate-limited); whoever holds the card could read
  # setup.json on the root partition, or reflash the card, anyway. Removed at the first boot after
  # the code was used (below), when it no longer opens anything.
  {
    echo "Junction - setup code"
    echo "====================="
    echo
    echo "This board generated its configuration: every client must log in, as the user \"admin\""
    echo "with a generated ticket. To see that ticket, once:"
    echo
    echo "  1. Put the card in the board, connect it to your network (Ethernet, or wifi.txt) and"
    echo "     power it on; wait a minute."
    echo "  2. On a computer in the same network, open   http://$host.local:8080/"
    echo "     (if .local names do not resolve there: the board's address from your router, port 8080)."
    echo "  3. Enter the setup code:   $code"
    echo "     The page shows the admin ticket once: keep it somewhere safe."
    echo
    echo "The code works once. This file is deleted at the first boot after it was used."
  } | sed 's/$/\r/' > "$SETUP_NOTE"
  CHANGES=1
elif [ $USER_CONF = 1 ] && [ -f "$SETUP" ]; then
  # A user's config replaces the generated one: the generated ticket no longer opens anything.
  rm -f "$SETUP"
  report "setup: generated credentials withdrawn (a junction.yaml was given)"
fi
if [ -f "$SETUP_NOTE" ] && [ ! -f "$SETUP" ]; then
  # The status page removed setup.json when it showed the ticket (or it was withdrawn): the code
  # on the card is spent, so it goes (the status page cannot write the boot partition itself).
  remove_from_boot "$SETUP_NOTE"
  report "setup: junction-setup.txt removed from the boot partition (the setup code was used or withdrawn)"
fi

# ---------------------------------------------------------------- grow the root file system (once)
if [ $LIVE = 1 ] && [ ! -e "$STATE/resized" ]; then
  src=$(findmnt -no SOURCE / 2>/dev/null)
  disk=/dev/$(lsblk -no PKNAME "$src" 2>/dev/null | head -1)
  part=$(cat "/sys/class/block/$(basename "$src")/partition" 2>/dev/null)
  if [ -b "$disk" ] && [ -n "$part" ]; then
    if echo ', +' | sfdisk -q --no-reread --no-tell-kernel -N "$part" "$disk" >/dev/null 2>&1; then
      partx -u -n "$part" "$disk" 2>/dev/null || true
      resize2fs "$src" >/dev/null 2>&1 && say "root file system grown to $(df -h / | awk 'NR == 2 { print $2 }')" \
        || say "warning: resize2fs $src failed"
    else
      say "warning: could not grow partition $part of $disk"
    fi
  fi
  touch "$STATE/resized"
fi

# ---------------------------------------------------------------- report on the boot partition
if [ -s "$REPORT.new" ]; then
  { echo "Junction first-boot report (no secrets are written here)"; cat "$REPORT.new"; } | sed 's/$/\r/' > "$REPORT"
fi
rm -f "$REPORT.new"
sync
[ $CHANGES = 1 ] || say "nothing to apply"
exit 0
