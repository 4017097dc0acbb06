# Sourced by ci/demo: how it shows a step as Concourse would (the request in short, stdout
# pretty-printed, stderr's log lines, the files an `in` wrote) and how it asserts what it saw.
#
# The caller sets, before using these:
#   demo_py    a Python 3 (the .venv's: JSON is read with it, not with jq)
#   demo_bin   the directory of the check, in and out binaries
#   demo_tmp   a scratch directory the caller removes

# Colours and bold only for a person at a terminal.
if [ -t 1 ]; then
  c_bold=$'\e[1m' c_dim=$'\e[2m' c_red=$'\e[31m' c_green=$'\e[32m' c_yellow=$'\e[33m'
  c_cyan=$'\e[36m' c_off=$'\e[0m'
else
  c_bold='' c_dim='' c_red='' c_green='' c_yellow='' c_cyan='' c_off=''
fi

demo_steps=0
demo_checks=0

# `==> 1. Cut release 1`
section() {
  printf '\n%s==> %s%s\n' "$c_bold$c_cyan" "$*" "$c_off"
}

# A line of narration.
say() {
  printf '%s\n' "$*"
}

# The failure of the demo as a test: one line on stderr, and exit 1 (the EXIT trap cleans up).
fail() {
  printf '%sFAILED: %s%s\n' "$c_bold$c_red" "$*" "$c_off" >&2
  exit 1
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
  demo_checks=$((demo_checks + 1))
  if [ "$1" != "$2" ]; then
    fail "$3: expected $(printf '%q' "$2"), got $(printf '%q' "$1")"
  fi
  printf '  %s✓ %s%s\n' "$c_green" "$3 = $2" "$c_off"
}

# expect_contains TEXT NEEDLE WHAT
expect_contains() {
  demo_checks=$((demo_checks + 1))
  case "$1" in
    *"$2"*) printf '  %s✓ %s%s\n' "$c_green" "$3 contains: $2" "$c_off" ;;
    *) fail "$3: expected it to contain $(printf '%q' "$2"), got $(printf '%q' "$1")" ;;
  esac
}

# The JSON helpers, in Python so that the demo needs nothing the .venv lacks.
#   json get FILE EXPR      EXPR over d (the file's JSON); strings raw, the rest as JSON
#   json pretty FILE        indented, for people
#   json short FILE         a request in one line, without the connection details
#   json valid FILE         exit 0 when FILE is one JSON value
# shellcheck disable=SC2016
demo_json_py='
import json, sys
command, path = sys.argv[1], sys.argv[2]
try:
    with open(path) as f:
        d = json.load(f)
except ValueError:
    if command == "valid":
        sys.exit(1)
    raise
if command == "get":
    r = eval(sys.argv[3], {"d": d})
    print(r if isinstance(r, str) else json.dumps(r))
elif command == "pretty":
    print(json.dumps(d, indent=2))
elif command == "short":
    source = {k: v for k, v in d["source"].items()
              if k in ("name", "environment", "require_deployed_to")}
    parts = ["source: " + json.dumps(source)[:-1] + ", …}"]
    if d.get("version") is not None:
        parts.append("version: " + json.dumps(d["version"]))
    if d.get("params"):
        parts.append("params: " + json.dumps(d["params"]))
    print("  ".join(parts))
'
json() {
  "$demo_py" -c "$demo_json_py" "$@"
}

# The value of metadata field NAME in a step's stdout FILE, or nothing.
metadata() {
  json get "$1" "next((m['value'] for m in d['metadata'] if m['name'] == '$2'), '')"
}

# Shows text indented, without the ANSI colours of the binaries' logs unless at a terminal.
indent() {
  if [ -t 1 ]; then
    sed 's/^/    /'
  else
    sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^/    /'
  fi
}

# step BIN DIR REQUEST: runs a binary as Concourse does (the request on stdin, DIR as $1 for in
# and out) and shows what Concourse would. Sets STEP_RC and STEP_OUT, STEP_ERR (files). With
# DEMO_QUIET=1, shows only the command line.
step() {
  local bin=$1 dir=$2 request=$3 shown_dir
  demo_steps=$((demo_steps + 1))
  local base="$demo_tmp/steps/$demo_steps-$bin"
  mkdir -p "$demo_tmp/steps"
  printf '%s\n' "$request" >"$base.in"
  STEP_OUT="$base.out" STEP_ERR="$base.err"
  shown_dir=${dir#"$demo_tmp"/}
  local args=()
  [ "$bin" = check ] || args=("$dir")
  printf '  %s$ %s%s%s\n' "$c_yellow" "$bin" "${args[*]:+ $shown_dir}" "$c_off"
  if [ "${DEMO_QUIET:-0}" != 1 ]; then
    printf '  %sstdin:%s  %s\n' "$c_dim" "$c_off" "$(json short "$base.in")"
  fi
  set +e
  "$demo_bin/$bin" "${args[@]}" <"$base.in" >"$STEP_OUT" 2>"$STEP_ERR"
  STEP_RC=$?
  set -e
  if [ -s "$STEP_OUT" ] && ! json valid "$STEP_OUT"; then
    cat "$STEP_OUT" | indent
    fail "$bin printed something other than one JSON value on stdout"
  fi
  if [ "${DEMO_QUIET:-0}" != 1 ]; then
    if [ -s "$STEP_OUT" ]; then
      printf '  %sstdout:%s\n' "$c_dim" "$c_off"
      json pretty "$STEP_OUT" | indent
    fi
    if [ -s "$STEP_ERR" ]; then
      printf '  %sstderr:%s\n' "$c_dim" "$c_off"
      indent <"$STEP_ERR"
    fi
  fi
  if [ "$STEP_RC" -ne 0 ]; then
    printf '  %sexit code %s%s\n' "$c_red" "$STEP_RC" "$c_off"
  fi
}

# step, and fail unless it succeeded.
step_ok() {
  step "$@"
  if [ "$STEP_RC" -ne 0 ]; then
    [ "${DEMO_QUIET:-0}" != 1 ] || indent <"$STEP_ERR"
    fail "$1 exited with $STEP_RC"
  fi
  [ -s "$STEP_OUT" ] || fail "$1 printed nothing on stdout"
}

# step, and fail unless it failed as every step must: exit code 1, nothing on stdout, and the
# first line of stderr `error: …`. Sets STEP_ERROR to that line.
step_refused() {
  step "$@"
  expect_eq "$STEP_RC" 1 "exit code of $1"
  [ ! -s "$STEP_OUT" ] || fail "$1 failed but printed on stdout"
  STEP_ERROR=$(sed -e 's/\x1b\[[0-9;]*m//g' "$STEP_ERR" | grep -m1 '^error: ' || true)
  [ -n "$STEP_ERROR" ] || fail "$1 failed without an 'error: ' line on stderr"
}

# Shows the files an `in` wrote into DIR: every name, then the short ones and the heads of the
# long ones.
show_files() {
  local dir=$1 name
  printf '  %sfiles in %s:%s %s\n' "$c_dim" "${dir#"$demo_tmp"/}" "$c_off" "$(cd "$dir" && ls | tr '\n' ' ')"
  for name in version version_id git-tag commit image-id author environment; do
    [ -f "$dir/$name" ] && printf '    %-11s %s\n' "$name" "$(cat "$dir/$name")"
  done
  printf '    changelog   (first 3 lines)\n'
  awk 'NR <= 3 { print "      " $0 }' "$dir/changelog"
  printf '    release.env (first 7 lines)\n'
  awk 'NR <= 7 { print "      " $0 }' "$dir/release.env"
}
