# shellcheck shell=bash
# Sourced by the ci/ scripts: Garage 2.5, an S3-compatible store that has no object versioning,
# built from crates.io once and run on the host as a cluster of one node, on loopback ports
# picked free, stopped by its PID.
#
#   . ci/lib/garage.sh
#   garage_install             # cargo install garage 2.5.0 into ~/.cache/catapult, once
#   garage_start LOGDIR        # exports CATAPULT_TEST_*, sets GARAGE_PID
#   trap garage_stop EXIT      # the caller's trap: stops it and removes its state
#
# catapult must refuse Garage's buckets, and say why: Garage keeps one version of each key.
# PutBucketVersioning is 501 NotImplemented, GetBucketVersioning answers a VersioningConfiguration
# with no Status (never enabled), ListObjectVersions is 501 NotImplemented, and GetObject,
# HeadObject and DeleteObject ignore the versionId they are given (they act on the current
# object), although PutObject answers with an x-amz-version-id. PutObject ignores If-None-Match
# and If-Match too.
#
# Building it takes about 20 to 25 minutes on 2 cores (cargo install --locked, at the lowest CPU
# priority, in a target directory of its own that is removed afterwards: 820 MB meanwhile); the
# 56 MB binary is kept in ~/.cache/catapult/garage-2.5.0/bin/garage, or CATAPULT_GARAGE_BIN names
# another. The node boots and is set up (layout, S3 key) in about 0.5 s, takes about 30 MB, and
# stops in 1 to 2 s.
# Its configuration, metadata and data are in a temporary directory that garage_stop removes;
# its log and the setup commands' output are in LOGDIR, the caller's. It listens on 127.0.0.1
# only, and checks request signatures: clients must use CATAPULT_TEST_ACCESS_KEY_ID and
# CATAPULT_TEST_SECRET_ACCESS_KEY, the key that garage_start creates, which may create buckets.

garage_version=2.5.0
garage_root="$HOME/.cache/catapult/garage-$garage_version"

# The binary's path, if it is there: $CATAPULT_GARAGE_BIN, else the one garage_install builds.
garage_binary() {
  local bin="${CATAPULT_GARAGE_BIN:-$garage_root/bin/garage}"
  [ -x "$bin" ] || return 1
  echo "$bin"
}

garage_install() {
  garage_binary >/dev/null && return 0
  if [ -n "${CATAPULT_GARAGE_BIN:-}" ]; then
    echo "error: CATAPULT_GARAGE_BIN ($CATAPULT_GARAGE_BIN) is not an executable file" >&2
    return 1
  fi
  if ! command -v cargo >/dev/null; then
    echo "error: building Garage needs cargo, which is not on PATH" >&2
    return 1
  fi
  local build log
  build=$(mktemp -d -t catapult-garage-build.XXXXXX) || return 1
  log=$build/cargo-install.log
  echo "--- building Garage $garage_version from crates.io into $garage_root: this takes" \
    "about 20 to 25 minutes on 2 cores, at the lowest CPU priority (log: $log)" >&2
  # --locked: the versions of Garage's own Cargo.lock. The target directory is a temporary one,
  # not the caller's CARGO_TARGET_DIR, so that it shares nothing with catapult's builds.
  if ! CARGO_TARGET_DIR="$build/target" nice -n 19 cargo install --locked garage \
    --version "$garage_version" --root "$garage_root" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    rm -rf "$build"
    echo "error: could not build Garage $garage_version" >&2
    return 1
  fi
  rm -rf "$build"
  garage_binary >/dev/null
}

# Two ports nothing listens on now, one a line: the kernel picks them (both sockets open at once,
# so they differ), and they are closed before Garage binds them. Debian's python3, so it is there
# whatever PATH or pyenv says.
garage_free_ports() {
  /usr/bin/python3 - <<'PY'
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
for s in sockets:
    print(s.getsockname()[1])
PY
}

# Garage reads GARAGE_* variables (the RPC host and secret, the configuration file, tokens, log
# sinks) and RUST_LOG: GARAGE_ENV is `env` without the caller's, so that only the configuration
# file counts. Set by garage_start.
garage_clean_env() {
  local name
  GARAGE_ENV=(env)
  for name in $(compgen -e); do
    case "$name" in GARAGE_*) GARAGE_ENV+=(-u "$name") ;; esac
  done
}

# The CLI on this node (it reaches the server over RPC), with a bound on how long it waits.
garage_cli_quiet() {
  timeout 30 "${GARAGE_ENV[@]}" RUST_LOG=netapp=warn,garage=warn NO_COLOR=1 \
    "$GARAGE_BIN" -c "$GARAGE_DIR/garage.toml" "$@"
}

# A command of the setup, its errors appended to the setup log.
garage_cli() {
  echo "+ garage $*" >>"$GARAGE_SETUP_LOG"
  garage_cli_quiet "$@" 2>>"$GARAGE_SETUP_LOG"
}

# Print the error naming the logs, and stop what started.
garage_fail() {
  echo "error: Garage did not start: $1 (logs: $GARAGE_LOGS)" >&2
  garage_stop
}

# Wait, up to $1 seconds, until the command after it succeeds; fail early if the server has
# exited.
garage_wait() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$GARAGE_PID" 2>/dev/null; then
      return 1
    fi
    sleep 0.2
  done
}

# A ListBuckets signed with the key answers with a bucket list (Garage wants the payload hash
# header, which curl signs only when it is given).
garage_s3_answers() {
  curl -fsS -m 2 --aws-sigv4 "aws:amz:$CATAPULT_TEST_REGION:s3" \
    -u "$CATAPULT_TEST_ACCESS_KEY_ID:$CATAPULT_TEST_SECRET_ACCESS_KEY" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    "$CATAPULT_TEST_ENDPOINT/" | grep -q ListAllMyBucketsResult
}

garage_start() {
  local ports rpc_port s3_port rpc_secret node_id key_info key_id secret_key
  mkdir -p "${1:?usage: garage_start LOGDIR}" || return 1
  GARAGE_LOGS=$(cd "$1" && pwd)
  GARAGE_SETUP_LOG=$GARAGE_LOGS/garage-setup.log
  if ! GARAGE_BIN=$(garage_binary); then
    echo "error: no Garage binary at ${CATAPULT_GARAGE_BIN:-$garage_root/bin/garage}" \
      "(garage_install builds it)" >&2
    return 1
  fi
  mapfile -t ports < <(garage_free_ports)
  rpc_port=${ports[0]}
  s3_port=${ports[1]}
  GARAGE_DIR=$(mktemp -d -t catapult-garage.XXXXXX) || return 1
  # 32 random bytes in hex, the cluster's shared secret.
  rpc_secret=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')

  # One node that holds every partition (replication_factor = 1). No admin API, web or K2V
  # endpoint: the CLI reaches the node over RPC, with the secret and the node ID it finds in the
  # configuration and the metadata directory. s3_region must be the region clients sign with.
  cat >"$GARAGE_DIR/garage.toml" <<EOF
metadata_dir = "$GARAGE_DIR/meta"
data_dir = "$GARAGE_DIR/data"
db_engine = "lmdb"
replication_factor = 1

rpc_bind_addr = "127.0.0.1:$rpc_port"
rpc_public_addr = "127.0.0.1:$rpc_port"
rpc_secret = "$rpc_secret"

[s3_api]
api_bind_addr = "127.0.0.1:$s3_port"
s3_region = "us-east-1"
EOF
  chmod 600 "$GARAGE_DIR/garage.toml"

  export CATAPULT_TEST_STORE=garage
  export CATAPULT_TEST_ENDPOINT="http://127.0.0.1:$s3_port"
  export CATAPULT_TEST_REGION=us-east-1

  # In a session of its own, so that Ctrl-C on the script that started it does not kill it under
  # a running step. The shell writes its PID before it becomes garage (exec), so the PID is
  # Garage's even when setsid has to fork (when the caller's job is a process group leader).
  rm -f "$GARAGE_DIR/pid"
  garage_clean_env
  # shellcheck disable=SC2016 # $$, $0 and $@ are the inner shell's
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$GARAGE_DIR/pid" \
    "${GARAGE_ENV[@]}" RUST_LOG=netapp=info,garage=info NO_COLOR=1 \
    "$GARAGE_BIN" -c "$GARAGE_DIR/garage.toml" server >>"$GARAGE_LOGS/garage.log" 2>&1 &
  local tries=0
  until [ -s "$GARAGE_DIR/pid" ]; do
    tries=$((tries + 1))
    if [ "$tries" -ge 100 ]; then
      garage_fail "its process did not start"
      return 1
    fi
    sleep 0.05
  done
  GARAGE_PID=$(cat "$GARAGE_DIR/pid")

  # Up when the CLI reaches it over RPC.
  if ! garage_wait 60 garage_cli_quiet status; then
    garage_fail "the node did not answer over RPC on 127.0.0.1:$rpc_port"
    return 1
  fi

  # The layout: this node, in zone dc1, with 1 GB (a nominal capacity: it only weighs nodes).
  # `garage node id` prints <64 hex digits>@<rpc_public_addr>.
  node_id=$(garage_cli node id -q) || node_id=
  node_id=${node_id%%@*}
  if [ -z "$node_id" ]; then
    garage_fail "could not read the node's ID"
    return 1
  fi
  if ! { garage_cli layout assign -z dc1 -c 1G "$node_id" &&
    garage_cli layout apply --version 1; } >>"$GARAGE_SETUP_LOG"; then
    garage_fail "the layout could not be applied"
    return 1
  fi

  # The S3 key, and the right to create buckets with it (S3 CreateBucket), as the tests do.
  # `garage key create` prints a table with "Key ID:" and "Secret key:" rows.
  if ! key_info=$(garage_cli key create catapult-test); then
    garage_fail "the S3 key could not be made"
    return 1
  fi
  key_id=$(echo "$key_info" | awk '$1 == "Key" && $2 == "ID:" { print $3 }')
  secret_key=$(echo "$key_info" | awk '$1 == "Secret" && $2 == "key:" { print $3 }')
  if [ -z "$key_id" ] || [ -z "$secret_key" ]; then
    garage_fail "could not read the key ID and secret from 'garage key create'"
    return 1
  fi
  echo "S3 key $key_id (its secret is not logged)" >>"$GARAGE_SETUP_LOG"
  if ! garage_cli key allow --create-bucket "$key_id" >>"$GARAGE_SETUP_LOG"; then
    garage_fail "the S3 key could not be allowed to create buckets"
    return 1
  fi
  export CATAPULT_TEST_ACCESS_KEY_ID=$key_id
  export CATAPULT_TEST_SECRET_ACCESS_KEY=$secret_key

  if ! garage_wait 60 garage_s3_answers; then
    garage_fail "it did not answer a signed ListBuckets at $CATAPULT_TEST_ENDPOINT"
    return 1
  fi
  echo "--- local S3 server (Garage $garage_version, pid $GARAGE_PID) at" \
    "$CATAPULT_TEST_ENDPOINT" >&2
}

# Stops it by its PID (SIGTERM, then SIGKILL if it has not exited after 15 s) and removes its
# temporary directory.
garage_stop() {
  if [ -n "${GARAGE_PID:-}" ]; then
    kill "$GARAGE_PID" 2>/dev/null || true
    local tries=0
    while kill -0 "$GARAGE_PID" 2>/dev/null && [ "$tries" -lt 150 ]; do
      sleep 0.1
      tries=$((tries + 1))
    done
    kill -KILL "$GARAGE_PID" 2>/dev/null || true
    wait "$GARAGE_PID" 2>/dev/null || true
    GARAGE_PID=
  fi
  if [ -n "${GARAGE_DIR:-}" ]; then
    rm -rf "$GARAGE_DIR"
    GARAGE_DIR=
  fi
}
