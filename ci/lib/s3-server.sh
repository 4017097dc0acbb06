# Sourced by the ci/ scripts: a Python virtual environment with the pinned local S3 server
# (moto), started on a free loopback port and stopped by its PID.
#
#   . ci/lib/s3-server.sh
#   s3_server_install          # .venv with ci/requirements.txt, once
#   s3_server_start LOGFILE    # exports CATAPULT_TEST_*, sets S3_SERVER_PID
#   trap s3_server_stop EXIT   # the caller's trap: stops it whatever happens
#
# Nothing here is specific to one script, so the tests, the demo and the benchmarks share it.
# CATAPULT_TEST_* are the endpoint, keys, region and store name, the same that the other local
# stores' helpers export (ci/lib/localstack.sh, ci/lib/ceph-rgw.sh).

ci_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# CATAPULT_MOTO_SERIES=5.2 picks the newest moto series (ci/requirements-moto-5.2.txt, in a venv of
# its own); the default is ci/requirements.txt's, which the demo and the benchmarks use too.
# s3_server_select, run again after changing it, switches.
s3_server_select() {
  if [ "${CATAPULT_MOTO_SERIES:-}" = 5.2 ]; then
    s3_server_requirements="$ci_root/ci/requirements-moto-5.2.txt"
    venv="$ci_root/.venv-moto-5.2"
  else
    s3_server_requirements="$ci_root/ci/requirements.txt"
    venv="${CATAPULT_VENV:-$ci_root/.venv}"
  fi
}
s3_server_select

s3_server_install() {
  if [ ! -x "$venv/bin/moto_server" ] || ! cmp -s "$s3_server_requirements" "$venv/.requirements"; then
    echo "--- installing the local S3 server into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$s3_server_requirements"
    cp "$s3_server_requirements" "$venv/.requirements"
  fi
}

# A port nothing listens on now: the kernel picks it, and the socket is closed before moto binds.
s3_server_free_port() {
  "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

s3_server_start() {
  local log="${1:-/dev/null}" port
  port=$(s3_server_free_port)
  # The shim makes moto's conditional writes atomic, as S3's are (see its docstring).
  # In a session of its own, so that Ctrl-C on the script that started it does not kill it
  # under a running step; the script's EXIT trap stops it by its PID.
  PYTHONPATH="$ci_root/ci/lib/moto-shim${PYTHONPATH:+:$PYTHONPATH}" \
    setsid "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  S3_SERVER_PID=$!
  export CATAPULT_TEST_ENDPOINT="http://127.0.0.1:$port"
  # moto takes any credentials and checks no signature; these are the ones its documentation uses.
  export CATAPULT_TEST_STORE=moto
  export CATAPULT_TEST_ACCESS_KEY_ID=testing
  export CATAPULT_TEST_SECRET_ACCESS_KEY=testing
  export CATAPULT_TEST_REGION=us-east-1
  local tries=0
  until "$venv/bin/python" - "$port" <<'PY' 2>/dev/null; do
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()
PY
    tries=$((tries + 1))
    if [ "$tries" -ge 100 ] || ! kill -0 "$S3_SERVER_PID" 2>/dev/null; then
      echo "error: the local S3 server did not start on port $port (log: $log)" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "--- local S3 server (moto $("$venv/bin/python" -c 'import moto; print(moto.__version__)'), pid $S3_SERVER_PID) at $CATAPULT_TEST_ENDPOINT" >&2
}

s3_server_stop() {
  if [ -n "${S3_SERVER_PID:-}" ]; then
    kill "$S3_SERVER_PID" 2>/dev/null || true
    wait "$S3_SERVER_PID" 2>/dev/null || true
    S3_SERVER_PID=
  fi
}
