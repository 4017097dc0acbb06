# Sourced by ci/test: Debian's chromium, which the board's HTML test opens headless. Installed
# with apt when missing (CI runs as root on Debian); nothing is downloaded outside the
# distribution's packages.
#
#   . ci/lib/chromium.sh
#   chromium_install

chromium_install() {
  if command -v chromium >/dev/null 2>&1; then
    return 0
  fi
  echo "--- installing chromium (for the board's headless-browser test)" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: chromium is missing and this is not root: apt-get install -y chromium" >&2
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
}
