# Sourced by the ci/ scripts, and by a person at a terminal: a Python virtual environment with
# the pinned local S3 server (moto), started on a free loopback port and stopped by its PID.
#
#   . ci/lib/s3-server.sh
#   s3_server_install          # .venv with ci/requirements.txt, once
#   s3_server_start [LOGFILE]  # exports CATAPULT_TEST_*, sets S3_SERVER_PID
#   trap s3_server_stop EXIT   # the caller's trap: stops it whatever happens
#
# Nothing here is specific to one script, so the tests, the demo and the benchmarks share it.
# CATAPULT_TEST_* are the endpoint, keys, region and store name, the same that the other local
# stores' helpers export (ci/lib/localstack.sh, ci/lib/ceph-rgw.sh). Each start keeps its PID
# file (and its log, without LOGFILE) in a temporary directory of its own, which s3_server_stop
# removes, so it can be started again, or from another shell, without clashing.

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
  local log="${1:-}" port dir tries=0
  port=$(s3_server_free_port) || return 1
  dir=$(mktemp -d -t catapult-s3-server.XXXXXX) || return 1
  [ -n "$log" ] || log="$dir/s3-server.log"
  # The shim makes moto's conditional writes atomic, as S3's are (see its docstring).
  # In a session of its own, so that Ctrl-C on the script that started it does not kill it
  # under a running step; the script's EXIT trap stops it by its PID. The shell writes its own
  # PID, then becomes the server (exec): $! would not do, for setsid forks when it starts as a
  # process group's leader (as a job of an interactive shell is), and $! is then a process that
  # has already exited. In a subshell, so an interactive shell reports no job.
  (
    PYTHONPATH="$ci_root/ci/lib/moto-shim${PYTHONPATH:+:$PYTHONPATH}" \
      setsid sh -c 'echo $$ >"$1" && shift && exec "$@"' sh "$dir/pid" \
      "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 </dev/null &
  )
  until S3_SERVER_PID=$(cat "$dir/pid" 2>/dev/null) && [ -n "$S3_SERVER_PID" ]; do
    tries=$((tries + 1))
    if [ "$tries" -ge 50 ]; then
      echo "error: the local S3 server did not start (log: $log)" >&2
      rm -rf "$dir"
      S3_SERVER_PID=
      return 1
    fi
    sleep 0.1
  done
  s3_server_dir=$dir
  export CATAPULT_TEST_ENDPOINT="http://127.0.0.1:$port"
  # moto takes any credentials and checks no signature; these are the ones its documentation uses.
  export CATAPULT_TEST_STORE=moto
  export CATAPULT_TEST_ACCESS_KEY_ID=testing
  export CATAPULT_TEST_SECRET_ACCESS_KEY=testing
  export CATAPULT_TEST_REGION=us-east-1
  tries=0
  until "$venv/bin/python" - "$port" <<'PY' 2>/dev/null; do
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()
PY
    tries=$((tries + 1))
    if [ "$tries" -ge 100 ] || ! s3_server_running "$S3_SERVER_PID"; then
      echo "error: the local S3 server did not start on port $port; its log:" >&2
      tail -n 20 "$log" >&2
      s3_server_stop
      return 1
    fi
    sleep 0.1
  done
  echo "--- local S3 server (moto $("$venv/bin/python" -c 'import moto; print(moto.__version__)'), pid $S3_SERVER_PID) at $CATAPULT_TEST_ENDPOINT" >&2
}

# Whether process PID runs: it exists and is not a zombie (the server is not this shell's child,
# so a zombie of it waits for init to reap it).
s3_server_running() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
  [ "$state" != Z ]
}

# Stops the server s3_server_start started, by its PID: SIGTERM, then SIGKILL if it has not
# exited after 10 s; then removes its temporary directory.
s3_server_stop() {
  local tries=0
  if [ -n "${S3_SERVER_PID:-}" ]; then
    kill "$S3_SERVER_PID" 2>/dev/null || true
    while s3_server_running "$S3_SERVER_PID" && [ "$tries" -lt 100 ]; do
      sleep 0.1
      tries=$((tries + 1))
    done
    kill -KILL "$S3_SERVER_PID" 2>/dev/null || true
    S3_SERVER_PID=
  fi
  if [ -n "${s3_server_dir:-}" ]; then
    rm -rf "$s3_server_dir"
    s3_server_dir=
  fi
}
