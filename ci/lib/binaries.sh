# Sourced by the ci/ scripts: the one executable under each name it answers to. cargo builds
# target/<profile>/catapult; Concourse runs it as /opt/resource/check, in and out (links in the
# image), people as catapult. catapult_links makes a directory of such links for a script.
#
#   . ci/lib/binaries.sh
#   catapult_links target/debug/catapult "$scratch/bin"   # $scratch/bin/{check,in,out,catapult}

catapult_links() {
  local executable dir name
  executable=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
  dir=$2
  if [ ! -x "$executable" ]; then
    echo "error: $executable was not built" >&2
    return 1
  fi
  mkdir -p "$dir"
  for name in check in out catapult; do
    ln -sfn "$executable" "$dir/$name"
  done
}
