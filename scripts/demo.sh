#!/usr/bin/env bash
# Starts cyrusgo's master on the demo configuration: loopback ports, all
# data under ./var, a demo user. A second run reuses ./var. Ctrl-C stops
# everything.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
var="$top/var"
bin="$top/bin"
mkdir -p "$var"/{conf/tls,spool,sieve,run/socket}
user=$(id -un)
for f in cyrus.conf imapd.conf; do
  if [ ! -f "$var/conf/$f" ]; then
    sed -e "s|@ROOT@|$var|g" -e "s|@USER@|$user|g" "$top/conf/demo/$f" >"$var/conf/$f"
  fi
done
conf="$var/conf/imapd.conf"

# A self-signed certificate for STARTTLS and the TLS ports.
"$bin/mkcert" "$var/conf/tls/server.pem" "$var/conf/tls/server.key"

# The demo user (password "demo") and the admin (password "admin"), in the
# native user store, created while master is not yet running.
if ! "$bin/cyrpasswd" -C "$conf" list 2>/dev/null | grep -qx demo; then
  echo demo | "$bin/cyrpasswd" -C "$conf" add demo
  echo admin | "$bin/cyrpasswd" -C "$conf" add cyrus
  first=1
fi

cat <<MSG
cyrusgo demo: data in $var
  IMAP  127.0.0.1:8143 (STARTTLS)   IMAPS 127.0.0.1:8993
  POP3  127.0.0.1:8110 (STLS)       POP3S 127.0.0.1:8995
  LMTP  127.0.0.1:8024              ManageSieve 127.0.0.1:8190
  user "demo", password "demo"; admin "cyrus", password "admin"
  mail client: server 127.0.0.1, IMAP port 8143 with STARTTLS (or 8993
       with SSL/TLS), SMTP not provided, normal password; accept the
       self-signed certificate
  try: /usr/lib/cyrus/bin/imtest -t "" -a demo -w demo -p 8143 127.0.0.1
       openssl s_client -connect 127.0.0.1:8993
Stop with Ctrl-C.
MSG

"$bin/master" -D -C "$conf" -M "$var/conf/cyrus.conf" -p "$var/run/master.pid" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
if [ "${first:-}" = 1 ] && [ -x "$bin/lmtpd" ]; then
  # Seed the demo INBOX with a few messages through LMTP, once.
  for i in $(seq 50); do [ -f "$var/run/master.ready" ] && break; sleep 0.1; done
  "$top/scripts/seed.py" 127.0.0.1 8024 demo || echo "seeding messages failed (see above)"
fi
wait $pid
