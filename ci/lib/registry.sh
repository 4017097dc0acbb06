# shellcheck shell=bash
# Sourced by the ci/ scripts: a container registry (the CNCF distribution registry, Debian 12's
# docker-registry package, 2.8), with or without Basic authentication, on a free loopback port,
# stopped by its PID. ci/lib/registry_push.py pushes images into it.
#
#   . ci/lib/registry.sh
#   registry_install                        # Debian's docker-registry and apache2-utils, once
#   registry_start LOGDIR [USER PASSWORD]   # exports CATAPULT_TEST_REGISTRY*, sets REGISTRY_PID
#   trap registry_stop EXIT                 # the caller's trap: stops every one it started
#
# registry_start exports CATAPULT_TEST_REGISTRY=127.0.0.1:PORT (plain HTTP), and with USER and
# PASSWORD it turns on the registry's htpasswd authentication (Basic: a 401 with
# 'WWW-Authenticate: Basic realm="catapult-test"' to a request without them) and exports
# CATAPULT_TEST_REGISTRY_USER and CATAPULT_TEST_REGISTRY_PASSWORD; without, it unsets those two.
# This registry checks Bearer tokens but issues none (its 'token' auth needs a token server of
# one's own), so these are its two modes here.
#
# Several can run at once, one without authentication and one with, say. Each start overwrites
# the exported variables and REGISTRY_PID, so the caller keeps what it needs before the next one:
#
#   registry_start "$logs";               open=$CATAPULT_TEST_REGISTRY
#   registry_start "$logs" alice s3cret;  locked=$CATAPULT_TEST_REGISTRY locked_pid=$REGISTRY_PID
#   registry_stop "$locked_pid"          # stops that one
#   registry_stop                        # stops every one still running
#
# Each one's configuration, htpasswd file and storage are in a temporary directory of its own that
# registry_stop removes; its log is LOGDIR/registry-PORT.log (in that directory when LOGDIR is
# empty). It boots in well under a second and takes about 20 MB. It listens on 127.0.0.1 only
# and reaches no network.

# The running registries: their PIDs, each with its temporary directory. -g: global even when
# this file is sourced inside a function; without a value, so sourcing it again keeps them.
declare -gA registry_dirs

# Run a command as root: directly when we are root, else through sudo.
registry_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "error: installing the registry needs root, and sudo is missing" >&2
    return 1
  fi
}

registry_install() {
  local tool missing=0 out
  for tool in docker-registry htpasswd curl; do
    command -v "$tool" >/dev/null || missing=1
  done
  [ "$missing" -eq 1 ] || return 0
  echo "--- installing the container registry from Debian's packages" >&2
  out=$(mktemp -t catapult-registry-install.XXXXXX.log) || return 1
  # apt-get update only when the package lists do not know the packages yet (a fresh machine),
  # and quiet unless it fails. The package's service is not started: there is no systemd here,
  # and with systemd it would listen on :5000, which nothing here uses.
  if ! {
    if ! apt-cache show docker-registry apache2-utils >/dev/null 2>&1; then
      registry_as_root apt-get update -qq
    fi &&
      registry_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends docker-registry apache2-utils curl
  } >"$out" 2>&1; then
    cat "$out" >&2
    rm -f "$out"
    echo "error: could not install docker-registry and apache2-utils" >&2
    return 1
  fi
  rm -f "$out"
}

# A port nothing listens on now: the kernel picks it, and the socket is closed before the
# registry binds it. Debian's python3 when there is one, so it works whatever PATH or pyenv says.
registry_free_port() {
  local python=/usr/bin/python3
  [ -x "$python" ] || python=python3
  "$python" -c \
    'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

registry_start() {
  local logdir="${1:-}" user="${2:-}" password="${3:-}" port dir log pid code want
  if [ -n "$user" ] && [ -z "$password" ]; then
    echo "error: registry_start: a USER needs a PASSWORD" >&2
    return 1
  fi
  port=$(registry_free_port) || return 1
  dir=$(mktemp -d -t catapult-registry.XXXXXX) || return 1
  log="${logdir:-$dir}/registry-$port.log"

  # The registry's configuration (docs: /usr/share/doc/docker-registry/configuration.md.gz).
  # A secret of its own, or it makes one and warns; no upload purging, which would otherwise
  # walk the storage once at a random time after boot.
  {
    cat <<YAML
version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: catapult-test-$port-$RANDOM$RANDOM
YAML
    if [ -n "$user" ]; then
      # Only bcrypt entries count (htpasswd -B); the file is read once, at boot.
      cat <<YAML
auth:
  htpasswd:
    realm: catapult-test
    path: $dir/htpasswd
YAML
    fi
  } >"$dir/config.yml"
  if [ -n "$user" ]; then
    # The password from standard input (-i), not on a command line.
    if ! printf '%s\n' "$password" | htpasswd -iBn "$user" >"$dir/htpasswd"; then
      rm -rf "$dir"
      echo "error: htpasswd could not make an entry for $user" >&2
      return 1
    fi
  fi

  # In a session of its own, so that Ctrl-C on the script that started it does not kill it under
  # a running step. The shell writes its own PID and then becomes the registry (exec): $! would
  # not do, for setsid forks when it is started as a process group's leader (in an interactive
  # shell, say), and $! is then a process that has already exited.
  # shellcheck disable=SC2016 # expanded by that shell, not this one
  setsid sh -c 'echo $$ >"$1/pid" && exec docker-registry serve "$1/config.yml"' sh "$dir" \
    >"$log" 2>&1 </dev/null &
  local tries=0
  until pid=$(cat "$dir/pid" 2>/dev/null) && [ -n "$pid" ]; do
    tries=$((tries + 1))
    if [ "$tries" -ge 50 ]; then
      echo "error: the registry did not start (log: $log)" >&2
      rm -rf "$dir"
      return 1
    fi
    sleep 0.1
  done
  registry_dirs[$pid]=$dir
  REGISTRY_PID=$pid

  # Up when GET /v2/ answers as the API's base endpoint does: 200, or 401 with authentication;
  # then with authentication, 200 with the credentials, so the htpasswd file is known to work.
  want=200
  [ -z "$user" ] || want=401
  tries=0
  until code=$(curl -s -o /dev/null -w '%{http_code}' -m 2 "http://127.0.0.1:$port/v2/") &&
    [ "$code" = "$want" ]; do
    tries=$((tries + 1))
    if [ "$tries" -ge 100 ] || ! kill -0 "$pid" 2>/dev/null; then
      echo "error: the registry did not start on port $port" \
        "(GET /v2/: ${code:-no answer}, log: $log)" >&2
      registry_stop "$pid"
      return 1
    fi
    sleep 0.1
  done
  if [ -n "$user" ]; then
    code=$(curl -s -o /dev/null -w '%{http_code}' -m 2 -u "$user:$password" \
      "http://127.0.0.1:$port/v2/")
    if [ "$code" != 200 ]; then
      echo "error: the registry on port $port refuses its own user $user" \
        "(GET /v2/: $code, log: $log)" >&2
      registry_stop "$pid"
      return 1
    fi
  fi

  export CATAPULT_TEST_REGISTRY="127.0.0.1:$port"
  if [ -n "$user" ]; then
    export CATAPULT_TEST_REGISTRY_USER="$user" CATAPULT_TEST_REGISTRY_PASSWORD="$password"
  else
    unset CATAPULT_TEST_REGISTRY_USER CATAPULT_TEST_REGISTRY_PASSWORD
  fi
  echo "--- container registry ($(docker-registry --version | awk '{print $NF}'), pid $pid)" \
    "${user:+with Basic auth as $user }at $CATAPULT_TEST_REGISTRY" >&2
}

# registry_stop [PID...]: stops those registries, or every one registry_start started when none
# is named: SIGTERM, then SIGKILL if one has not exited after 10 s; then removes its temporary
# directory.
registry_stop() {
  local pid tries pids=("$@")
  [ "$#" -gt 0 ] || pids=("${!registry_dirs[@]}")
  for pid in "${pids[@]}"; do
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    tries=0
    while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 100 ]; do
      sleep 0.1
      tries=$((tries + 1))
    done
    kill -KILL "$pid" 2>/dev/null || true
    # Reaps it when it is this shell's child; a no-op otherwise.
    wait "$pid" 2>/dev/null || true
    if [ -n "${registry_dirs[$pid]:-}" ]; then
      rm -rf "${registry_dirs[$pid]}"
      unset 'registry_dirs[$pid]'
    fi
    [ "${REGISTRY_PID:-}" != "$pid" ] || REGISTRY_PID=
  done
}
