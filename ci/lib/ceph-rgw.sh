# shellcheck shell=bash
# Sourced by the ci/ scripts: Ceph's S3 gateway (RGW) in front of a throw-away cluster of one
# monitor and one in-memory OSD, from Debian 12's packages (Ceph 16.2, pacific), every daemon on
# loopback ports picked free and stopped by its PID.
#
#   . ci/lib/ceph-rgw.sh
#   ceph_rgw_install           # Debian's radosgw, ceph-mon, ceph-osd, ceph-common, once
#   ceph_rgw_start LOGDIR      # exports CATAPULT_TEST_*, sets CEPH_RGW_{MON,OSD,}_PID
#   trap ceph_rgw_stop EXIT    # the caller's trap: stops the daemons and removes their state
#
# The cluster has no authentication between its daemons (auth none), pools of size 1 and an OSD
# that keeps everything in memory (memstore), so it boots in about 15 s and takes about 150 MB.
# Its configuration, the monitor's store, the OSD's, the admin sockets and the pid files are in a
# temporary directory that ceph_rgw_stop removes; the daemons' logs are in LOGDIR, the caller's.
# RGW checks request signatures: clients must use CATAPULT_TEST_ACCESS_KEY_ID and
# CATAPULT_TEST_SECRET_ACCESS_KEY, the keys of the one S3 user that ceph_rgw_start creates.

ceph_rgw_access_key=CATAPULTTESTACCESSKEY
ceph_rgw_secret_key=catapult-test-secret-access-key-0123456789

# Run a command as root: directly when we are root, else through sudo.
ceph_rgw_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "error: installing Ceph needs root, and sudo is missing" >&2
    return 1
  fi
}

ceph_rgw_install() {
  local tool missing=0 out
  for tool in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph curl; do
    command -v "$tool" >/dev/null || missing=1
  done
  [ "$missing" -eq 1 ] || return 0
  echo "--- installing Ceph RGW, monitor and OSD from Debian's packages" >&2
  out=$(mktemp -t catapult-ceph-install.XXXXXX.log) || return 1
  # Quiet unless it fails: apt and dpkg print hundreds of lines.
  if ! { ceph_rgw_as_root apt-get update -qq &&
    ceph_rgw_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends radosgw ceph-mon ceph-osd ceph-common curl; } >"$out" 2>&1; then
    cat "$out" >&2
    rm -f "$out"
    echo "error: could not install Ceph's packages" >&2
    return 1
  fi
  rm -f "$out"
}

# Two ports nothing listens on now, one a line: the kernel picks them (both sockets open at once,
# so they differ), and they are closed before the daemons bind them. Debian's python3, which the
# ceph CLI runs on, so it is there whatever PATH or pyenv says.
ceph_rgw_free_ports() {
  /usr/bin/python3 - <<'PY'
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
for s in sockets:
    print(s.getsockname()[1])
PY
}

# The ceph CLI on this cluster, with a bound on how long it waits for the monitor.
ceph_rgw_ceph() {
  timeout 30 ceph -c "$CEPH_RGW_DIR/ceph.conf" --connect-timeout 10 "$@"
}

# Print the error naming the logs, and stop what started.
ceph_rgw_fail() {
  echo "error: Ceph RGW did not start: $1 (logs: $CEPH_RGW_LOGS)" >&2
  ceph_rgw_stop
}

# Wait, up to $1 seconds, until the command after it succeeds; fail early if the daemon whose
# PID is $2 has exited.
ceph_rgw_wait() {
  local deadline=$((SECONDS + $1)) pid=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.3
  done
}

ceph_rgw_osd_up() {
  ceph_rgw_ceph osd dump 2>/dev/null | grep -q '^osd\.0 up'
}

# A ListBuckets signed with the user's keys answers with a bucket list (curl signs the payload
# hash header only when it is given, and RGW requires it).
ceph_rgw_s3_answers() {
  curl -fsS -m 2 --aws-sigv4 "aws:amz:$CATAPULT_TEST_REGION:s3" \
    -u "$CATAPULT_TEST_ACCESS_KEY_ID:$CATAPULT_TEST_SECRET_ACCESS_KEY" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    "$CATAPULT_TEST_ENDPOINT/" | grep -q ListAllMyBucketsResult
}

ceph_rgw_start() {
  local ports mon_port rgw_port fsid osd_uuid dir conf setup_log
  mkdir -p "${1:?usage: ceph_rgw_start LOGDIR}" || return 1
  CEPH_RGW_LOGS=$(cd "$1" && pwd)
  mapfile -t ports < <(ceph_rgw_free_ports)
  mon_port=${ports[0]}
  rgw_port=${ports[1]}
  CEPH_RGW_DIR=$(mktemp -d -t catapult-ceph.XXXXXX) || return 1
  dir=$CEPH_RGW_DIR
  conf=$dir/ceph.conf
  setup_log=$CEPH_RGW_LOGS/setup.log
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  mkdir -p "$dir/run" "$dir/crash" "$dir/mon-a" "$dir/osd-0" "$dir/rgw-a"

  # Every path a daemon or the CLI would take from its defaults (/etc/ceph, /var/lib/ceph,
  # /var/run/ceph, /var/log/ceph) is set here. $cluster, $name and $id are Ceph's metavariables.
  # The OSD picks its own ports, the first free ones from 6800 up, on 127.0.0.1 like the rest.
  cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr1 = false
# No authentication, and messages checked by CRC only: a throw-away cluster on loopback.
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
ms client mode = crc
ms cluster mode = crc
ms service mode = crc
run dir = $dir/run
admin socket = $dir/run/\$cluster-\$name.asok
pid file = $dir/run/\$cluster-\$name.pid
crash dir = $dir/crash
keyring = $dir/keyring
log file = $CEPH_RGW_LOGS/\$cluster-\$name.log
mon cluster log file = $CEPH_RGW_LOGS/\$cluster.log
# One OSD: pools of one copy, few placement groups (RGW makes 7 pools; the limit is 250 PGs
# an OSD), and no manager to scale them.
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
# The monitor shuts itself down when its disk has less than 5% free (12 GB of a 250 GB disk
# that build trees fill); this store is in memory and throw-away.
mon data avail crit = 0
mon data avail warn = 1

[mon]
mon data = $dir/mon-\$id

[osd]
osd data = $dir/osd-\$id
osd objectstore = memstore
memstore device bytes = 1073741824

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw-\$id
rgw ops log rados = false
EOF

  export CATAPULT_TEST_STORE=ceph-rgw
  export CATAPULT_TEST_ENDPOINT="http://127.0.0.1:$rgw_port"
  export CATAPULT_TEST_ACCESS_KEY_ID=$ceph_rgw_access_key
  export CATAPULT_TEST_SECRET_ACCESS_KEY=$ceph_rgw_secret_key
  export CATAPULT_TEST_REGION=us-east-1

  # The monitor: a map of itself, a store made from it, then the daemon in the foreground (-f)
  # of a background job, so that $! is its PID.
  if ! { monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" &&
    ceph-mon -c "$conf" -i a --mkfs --monmap "$dir/monmap"; } >>"$setup_log" 2>&1; then
    ceph_rgw_fail "the monitor's store could not be made"
    return 1
  fi
  ceph-mon -c "$conf" -i a -f >>"$CEPH_RGW_LOGS/ceph-mon.a.out" 2>&1 &
  CEPH_RGW_MON_PID=$!
  if ! ceph_rgw_wait 30 "$CEPH_RGW_MON_PID" ceph_rgw_ceph mon stat; then
    ceph_rgw_fail "the monitor did not answer"
    return 1
  fi

  # The OSD: registered with the monitor, its store made, then the daemon.
  if ! { ceph_rgw_ceph osd new "$osd_uuid" &&
    ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid"; } >>"$setup_log" 2>&1; then
    ceph_rgw_fail "the OSD could not be made"
    return 1
  fi
  ceph-osd -c "$conf" -i 0 -f >>"$CEPH_RGW_LOGS/ceph-osd.0.out" 2>&1 &
  CEPH_RGW_OSD_PID=$!
  if ! ceph_rgw_wait 30 "$CEPH_RGW_OSD_PID" ceph_rgw_osd_up; then
    ceph_rgw_fail "the OSD did not come up"
    return 1
  fi

  # The S3 user (this makes RGW's realm, zone and pools too), then the gateway.
  if ! timeout 60 radosgw-admin -c "$conf" user create --uid=catapult --display-name=catapult \
    --access-key="$ceph_rgw_access_key" --secret-key="$ceph_rgw_secret_key" >>"$setup_log" 2>&1
  then
    ceph_rgw_fail "the S3 user could not be made"
    return 1
  fi
  radosgw -c "$conf" -n client.rgw.a -f >>"$CEPH_RGW_LOGS/ceph-client.rgw.a.out" 2>&1 &
  CEPH_RGW_PID=$!
  if ! ceph_rgw_wait 60 "$CEPH_RGW_PID" ceph_rgw_s3_answers; then
    ceph_rgw_fail "RGW did not answer a signed ListBuckets at $CATAPULT_TEST_ENDPOINT"
    return 1
  fi
  echo "--- local S3 server (Ceph RGW, pids $CEPH_RGW_PID $CEPH_RGW_OSD_PID $CEPH_RGW_MON_PID)" \
    "at $CATAPULT_TEST_ENDPOINT" >&2
}

# Stop one daemon by its PID: SIGTERM, then SIGKILL if it has not exited after 15 s.
ceph_rgw_kill() {
  local pid=$1 tries=0
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 150 ]; do
    sleep 0.1
    tries=$((tries + 1))
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Stops the gateway, the OSD and the monitor, in that order, and removes their state.
ceph_rgw_stop() {
  ceph_rgw_kill "${CEPH_RGW_PID:-}"
  ceph_rgw_kill "${CEPH_RGW_OSD_PID:-}"
  ceph_rgw_kill "${CEPH_RGW_MON_PID:-}"
  CEPH_RGW_PID="" CEPH_RGW_OSD_PID="" CEPH_RGW_MON_PID=""
  if [ -n "${CEPH_RGW_DIR:-}" ]; then
    rm -rf "$CEPH_RGW_DIR"
    CEPH_RGW_DIR=
  fi
}
