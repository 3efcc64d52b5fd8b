#!/usr/bin/env bash
# Runs the benchmark program with a self-started cyrusgo against Debian's
# Cyrus IMAP (package cyrus-imapd, binaries in /usr/lib/cyrus/bin),
# started here in a temporary directory on free loopback ports with the
# same shape of configuration: imap, pop3 and lmtp -a services, user
# "bench" (password "bench") in a sasldb, INBOX created on first login.
# Needs root: Cyrus's master switches to the cyrus user.
#
#   bench/vs-cyrus.sh [bench flags...]      e.g. bench/vs-cyrus.sh --smoke
#
# The first server of the table is cyrusgo, the second Cyrus: a ratio
# above 1 means cyrusgo is faster (or leaner, for KiB/conn).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cyrus=/usr/lib/cyrus/bin
[ -x "$cyrus/master" ] || { echo "Debian's cyrus-imapd is not installed (apt-get install cyrus-imapd)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root: Cyrus's master switches to the cyrus user" >&2; exit 1; }
id cyrus >/dev/null 2>&1 || { echo "no cyrus user" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
imap=$(free_port); pop3=$(free_port); lmtp=$(free_port)

root=$(mktemp -d /tmp/cyrusbench-cyrus-XXXXXX)
mkdir -p "$root"/{conf/socket,spool,sieve,run/proc,run/lock}
cat >"$root/imapd.conf" <<EOF
configdirectory: $root/conf
defaultpartition: default
partition-default: $root/spool
sievedir: $root/sieve
proc_path: $root/run/proc
mboxname_lockpath: $root/run/lock
cyrus_user: cyrus
admins: cyrus
altnamespace: no
unixhierarchysep: no
hashimapspool: true
duplicatesuppression: yes
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $root/conf/sasldb2
sasl_mech_list: PLAIN LOGIN
servername: localhost
autocreate_quota: 0
autocreate_post: yes
EOF
# pop3d is a package of its own (cyrus-pop3d): without it, pop3 runs on
# cyrusgo only.
pop3_service= pop3_flags=()
if [ -x "$cyrus/pop3d" ]; then
  pop3_service="  pop3  cmd=\"$cyrus/pop3d -C $root/imapd.conf\" listen=\"127.0.0.1:$pop3\" maxchild=50"
  pop3_flags=(--vs-pop3 "127.0.0.1:$pop3")
fi
cat >"$root/cyrus.conf" <<EOF
START {
  recover cmd="$cyrus/ctl_cyrusdb -C $root/imapd.conf -r"
}
SERVICES {
  imap  cmd="$cyrus/imapd -C $root/imapd.conf" listen="127.0.0.1:$imap" prefork=1 maxchild=500
$pop3_service
  lmtp  cmd="$cyrus/lmtpd -a -C $root/imapd.conf" listen="127.0.0.1:$lmtp" maxchild=20
}
EOF
echo bench | saslpasswd2 -p -c -u localhost -f "$root/conf/sasldb2" bench
chown -R cyrus "$root"

"$cyrus/master" -D -C "$root/imapd.conf" -M "$root/cyrus.conf" -p "$root/run/master.pid" >"$root/master.log" 2>&1 &
pid=$!
stop() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$root"
}
trap stop EXIT
# Cyrus's master has no ready file: wait until every port answers.
up() { for p in $imap $lmtp; do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || return 1; done; }
for _ in $(seq 300); do up && break; sleep 0.1; done
up || { echo "Cyrus did not start; log:" >&2; cat "$root/master.log" >&2; exit 1; }

if [ -x "$top/bin/bench" ]; then
  prog=("$top/bin/bench" --bin "$top/bin")
else
  prog=(go -C "$top" run ./bench)
fi
"${prog[@]}" --vs-name cyrus \
  --vs-imap "127.0.0.1:$imap" --vs-lmtp "127.0.0.1:$lmtp" "${pop3_flags[@]}" \
  --vs-user bench --vs-password bench "$@"
