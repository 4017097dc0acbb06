# shellcheck shell=bash
# Sourced by the ci/ scripts: LocalStack's S3, a second local S3 server beside moto, installed
# from PyPI into a virtual environment of its own and run on the host (no Docker), on a free
# loopback port, stopped by its PID.
#
#   . ci/lib/localstack.sh
#   localstack_install          # .venv-localstack with ci/requirements-localstack.txt, once
#   localstack_start LOGFILE    # exports CATAPULT_TEST_*, sets LOCALSTACK_PID
#   trap localstack_stop EXIT   # the caller's trap: stops it and removes its state
#
# LocalStack needs Python 3.13 or newer (it imports warnings.deprecated), which Debian 12 does not
# have: the venv is made with pyenv's 3.13 or a python3.13 on PATH, called by path, so it works
# whether the shell has pyenv set up or not. It boots in about 5 s (up to 15 s on a machine busy
# compiling) and takes about 520 MB.
# Everything it writes (its state, caches, certificates) goes to a temporary directory that
# localstack_stop removes; it reaches no network, and listens on 127.0.0.1 only.

ci_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
localstack_venv="${CATAPULT_LOCALSTACK_VENV:-$ci_root/.venv-localstack}"
localstack_requirements="$ci_root/ci/requirements-localstack.txt"

# A Python interpreter of 3.13 or newer, by absolute path: $CATAPULT_LOCALSTACK_PYTHON if set,
# else pyenv's newest 3.13+, else python3.14 / python3.13 / python3 on PATH.
localstack_python() {
  local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}" candidate found candidates=()
  if [ -n "${CATAPULT_LOCALSTACK_PYTHON:-}" ]; then
    candidates=("$CATAPULT_LOCALSTACK_PYTHON")
  else
    # Newest first; a pattern that matches nothing stays as it is and is skipped below.
    mapfile -t candidates < <(
      printf '%s\n' "$pyenv_root"/versions/3.1[3-9]*/bin/python3 | sort -rV
    )
    candidates+=(python3.14 python3.13 python3)
  fi
  for candidate in "${candidates[@]}"; do
    found=$(command -v "$candidate" 2>/dev/null) || continue
    # The interpreter's own path, not a pyenv shim's; a shim for a version that is not
    # installed fails here, and so does an older Python.
    if found=$("$found" -c \
      'import sys; assert sys.version_info >= (3, 13); print(sys.executable)' 2>/dev/null); then
      echo "$found"
      return 0
    fi
  done
  if [ -n "${CATAPULT_LOCALSTACK_PYTHON:-}" ]; then
    echo "error: LocalStack needs Python 3.13 or newer, and CATAPULT_LOCALSTACK_PYTHON" \
      "($CATAPULT_LOCALSTACK_PYTHON) is not one that runs" >&2
  else
    echo "error: LocalStack needs Python 3.13 or newer, and none was found (looked for" \
      "$pyenv_root/versions/3.13*, python3.14, python3.13 and python3 on PATH); install one" \
      "(e.g. 'pyenv install 3.13') or name it in CATAPULT_LOCALSTACK_PYTHON" >&2
  fi
  return 1
}

localstack_install() {
  if [ ! -x "$localstack_venv/bin/python" ] ||
    ! cmp -s "$localstack_requirements" "$localstack_venv/.requirements"; then
    local python
    python=$(localstack_python) || return 1
    echo "--- installing LocalStack into $localstack_venv (with $python)" >&2
    "$python" -m venv --clear "$localstack_venv" || return 1
    "$localstack_venv/bin/pip" install --quiet --disable-pip-version-check \
      -r "$localstack_requirements" || return 1
    cp "$localstack_requirements" "$localstack_venv/.requirements"
  fi
}

# A port nothing listens on now: the kernel picks it, and the socket is closed before LocalStack
# binds it.
localstack_free_port() {
  "$localstack_venv/bin/python" -c \
    'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

localstack_start() {
  local log="${1:-/dev/null}" port
  port=$(localstack_free_port) || return 1
  LOCALSTACK_DIR=$(mktemp -d -t catapult-localstack.XXXXXX) || return 1
  mkdir -p "$LOCALSTACK_DIR/home" "$LOCALSTACK_DIR/tmp"

  # LocalStack's settings are all environment variables, so it starts from an empty environment
  # (a LOCALSTACK_* or DEBUG of the caller's cannot change it) with these:
  #   OVERRIDE_IN_DOCKER=0       host mode: its directories under FILESYSTEM_ROOT, not /var/lib
  #   FILESYSTEM_ROOT, HOME, TEMP, CONFIG_DIR
  #                              every file it writes (state, caches, certificates, plugin
  #                              caches, profiles) in the temporary directory; TEMP rather than
  #                              TMPDIR, which LocalStack also reads as a setting it deprecates
  #   GATEWAY_LISTEN, GATEWAY_SERVER=twisted
  #                              its default server, which localstack_main.py makes bind the
  #                              address given (it binds every interface otherwise)
  #   SERVICES=s3, EAGER_SERVICE_LOADING=1
  #                              S3 alone, loaded at boot rather than on the first request
  #   DNS_ADDRESS=0              no DNS server of its own (it would bind port 53 on 0.0.0.0)
  #   DISABLE_EVENTS=1, SKIP_SSL_CERT_DOWNLOAD=1, API_ENDPOINT, ANALYTICS_API
  #                              no telemetry, no certificate download, and the two cloud APIs
  #                              it might call (for example to name an unsupported operation)
  #                              pointed at a closed loopback port, so it never tries the network
  #   PERSISTENCE=0              nothing kept between runs
  #   LOCALSTACK_S3_DIR          where localstack_main.py has S3 spool object bodies
  env -i \
    PATH="/usr/local/bin:/usr/bin:/bin" \
    LANG=C.UTF-8 \
    HOME="$LOCALSTACK_DIR/home" \
    TEMP="$LOCALSTACK_DIR/tmp" \
    OVERRIDE_IN_DOCKER=0 \
    FILESYSTEM_ROOT="$LOCALSTACK_DIR/fs" \
    CONFIG_DIR="$LOCALSTACK_DIR/config" \
    GATEWAY_LISTEN="127.0.0.1:$port" \
    GATEWAY_SERVER=twisted \
    SERVICES=s3 \
    EAGER_SERVICE_LOADING=1 \
    DNS_ADDRESS=0 \
    DISABLE_EVENTS=1 \
    SKIP_SSL_CERT_DOWNLOAD=1 \
    API_ENDPOINT=http://127.0.0.1:9 \
    ANALYTICS_API=http://127.0.0.1:9 \
    PERSISTENCE=0 \
    LOCALSTACK_S3_DIR="$LOCALSTACK_DIR/s3" \
    "$localstack_venv/bin/python" "$ci_root/ci/lib/localstack_main.py" >"$log" 2>&1 &
  LOCALSTACK_PID=$!

  # It accepts any credentials; these are the ones its documentation uses.
  export CATAPULT_TEST_STORE=localstack
  export CATAPULT_TEST_ENDPOINT="http://127.0.0.1:$port"
  export CATAPULT_TEST_ACCESS_KEY_ID=test
  export CATAPULT_TEST_SECRET_ACCESS_KEY=test
  export CATAPULT_TEST_REGION=us-east-1

  # Up when a signed ListBuckets answers with a bucket list, not merely when the port is open.
  local deadline=$((SECONDS + 60))
  until curl -fsS -m 2 --aws-sigv4 "aws:amz:$CATAPULT_TEST_REGION:s3" \
    -u "$CATAPULT_TEST_ACCESS_KEY_ID:$CATAPULT_TEST_SECRET_ACCESS_KEY" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    "$CATAPULT_TEST_ENDPOINT/" 2>/dev/null | grep -q ListAllMyBucketsResult; do
    if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$LOCALSTACK_PID" 2>/dev/null; then
      echo "error: LocalStack did not start on port $port (log: $log)" >&2
      localstack_stop
      return 1
    fi
    sleep 0.2
  done
  echo "--- local S3 server (LocalStack, pid $LOCALSTACK_PID) at $CATAPULT_TEST_ENDPOINT" >&2
}

# Stops it by its PID (SIGTERM, then SIGKILL if it has not exited after 15 s) and removes its
# temporary directory.
localstack_stop() {
  if [ -n "${LOCALSTACK_PID:-}" ]; then
    kill "$LOCALSTACK_PID" 2>/dev/null || true
    local tries=0
    while kill -0 "$LOCALSTACK_PID" 2>/dev/null && [ "$tries" -lt 150 ]; do
      sleep 0.1
      tries=$((tries + 1))
    done
    kill -KILL "$LOCALSTACK_PID" 2>/dev/null || true
    wait "$LOCALSTACK_PID" 2>/dev/null || true
    LOCALSTACK_PID=
  fi
  if [ -n "${LOCALSTACK_DIR:-}" ]; then
    rm -rf "$LOCALSTACK_DIR"
    LOCALSTACK_DIR=
  fi
}
