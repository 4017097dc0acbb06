# Sourced by ci/demo: how it shows a step (one line: the command and what came of it; the whole
# request, stdout and stderr are kept in the scratch directory, and DEMO_VERBOSE=1 shows them)
# and how it asserts what it saw (silently, unless DEMO_VERBOSE=1 or a check fails).
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

verbose() {
  [ "${DEMO_VERBOSE:-0}" = 1 ]
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
  demo_checks=$((demo_checks + 1))
  if [ "$1" != "$2" ]; then
    fail "$3: expected $(printf '%q' "$2"), got $(printf '%q' "$1")"
  fi
  if verbose; then printf '  %s✓ %s%s\n' "$c_green" "$3 = $2" "$c_off"; fi
}

# expect_contains TEXT NEEDLE WHAT
expect_contains() {
  demo_checks=$((demo_checks + 1))
  case "$1" in
    *"$2"*) if verbose; then printf '  %s✓ %s%s\n' "$c_green" "$3 contains: $2" "$c_off"; fi ;;
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
# and out) and shows one line: the command, and what came of it. Sets STEP_RC and STEP_OUT,
# STEP_ERR (files, kept in the scratch directory with the request).
step() {
  local bin=$1 dir=$2 request=$3 shown_dir outcome
  demo_steps=$((demo_steps + 1))
  local base="$demo_tmp/steps/$demo_steps-$bin"
  mkdir -p "$demo_tmp/steps"
  printf '%s\n' "$request" >"$base.in"
  STEP_OUT="$base.out" STEP_ERR="$base.err"
  shown_dir=${dir#"$demo_tmp"/}
  local args=()
  [ "$bin" = check ] || args=("$dir")
  set +e
  "$demo_bin/$bin" "${args[@]}" <"$base.in" >"$STEP_OUT" 2>"$STEP_ERR"
  STEP_RC=$?
  set -e
  if [ -s "$STEP_OUT" ] && ! json valid "$STEP_OUT"; then
    indent <"$STEP_OUT"
    fail "$bin printed something other than one JSON value on stdout"
  fi
  if [ "$STEP_RC" -ne 0 ]; then
    outcome="$c_red$(sed -e 's/\x1b\[[0-9;]*m//g' "$STEP_ERR" | grep -m1 '^error: ' || echo "exit $STEP_RC")$c_off"
  elif [ "$bin" = check ]; then
    outcome="emitted $(json get "$STEP_OUT" '", ".join("%s (%s…)" % (v["version"], v["version_id"][:8]) for v in d) or "nothing"')"
  else
    outcome="$(json get "$STEP_OUT" '"%s %s (%s…)" % ("release" if not any(m["name"] == "environment" for m in d["metadata"]) else "deploy of release", d["version"]["version"], d["version"]["version_id"][:8])')"
  fi
  printf '  %s$ %-5s%s%s  →  %s\n' "$c_yellow" "$bin" "${args[*]:+ $shown_dir}" "$c_off" "$outcome"
  if verbose; then
    printf '  %sstdin:%s  %s\n' "$c_dim" "$c_off" "$(json short "$base.in")"
    [ ! -s "$STEP_OUT" ] || json pretty "$STEP_OUT" | indent
    [ ! -s "$STEP_ERR" ] || indent <"$STEP_ERR"
  fi
}

# step, and fail unless it succeeded.
step_ok() {
  step "$@"
  if [ "$STEP_RC" -ne 0 ]; then
    indent <"$STEP_ERR"
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

# Shows the files an `in` wrote into DIR, in one line, and the values a build reads most.
show_files() {
  local dir=$1
  printf '    %sfiles:%s %s\n' "$c_dim" "$c_off" "$(cd "$dir" && ls | tr '\n' ' ')"
  printf '    %sgit-tag%s %s  %scommit%s %s  %simage-id%s %s\n' \
    "$c_dim" "$c_off" "$(cat "$dir/git-tag")" "$c_dim" "$c_off" "$(cut -c1-12 "$dir/commit")" \
    "$c_dim" "$c_off" "$(cut -c1-19 "$dir/image-id")…"
}
