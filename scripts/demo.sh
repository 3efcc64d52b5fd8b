#!/usr/bin/env bash
# Starts cyrusgo's master on the demo configuration: loopback ports, all
# data under ./var. A second run reuses ./var. Ctrl-C stops everything.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
var="$top/var"
mkdir -p "$var"/{conf,spool,sieve,run/socket}
user=$(id -un)
for f in cyrus.conf imapd.conf; do
  if [ ! -f "$var/conf/$f" ]; then
    sed -e "s|@ROOT@|$var|g" -e "s|@USER@|$user|g" "$top/conf/demo/$f" >"$var/conf/$f"
  fi
done
echo "cyrusgo demo: data in $var"
echo "  IMAP 127.0.0.1:8143 (STARTTLS)  IMAPS 127.0.0.1:8993"
echo "  POP3 127.0.0.1:8110 (STLS)      POP3S 127.0.0.1:8995"
echo "  LMTP 127.0.0.1:8024             ManageSieve 127.0.0.1:8190"
echo "Stop with Ctrl-C."
exec "$top/bin/master" -D -C "$var/conf/imapd.conf" -M "$var/conf/cyrus.conf" -p "$var/run/master.pid"
