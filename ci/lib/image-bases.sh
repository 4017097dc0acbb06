# shellcheck shell=bash
# Sourced by ci/image-test: two base images, made from Debian's packages on this machine,
# because no container registry is reachable here.
#
#   engine=(podman --runtime runc)      # or (docker): the caller picks the engine
#   . ci/lib/image-bases.sh
#   image_bases_ensure WORKDIR          # builds whichever of the two is missing
#
# - localhost/catapult-base-cc:bookworm: what gcr.io/distroless/cc-debian12 holds, from the same
#   Debian packages: glibc, libgcc, base-files, and root in /etc/passwd. No shell, no package
#   manager. The images themselves start from scratch (the executable is static); ci/image-test
#   builds the resource image on this base too, to print what a glibc base would add.
# - localhost/catapult-builder:bookworm: the same plus gcc, libc6-dev, make, pkg-config and
#   ca-certificates, and this machine's active Rust toolchain laid out as the public `rust` image
#   lays it out: RUSTUP_HOME=/usr/local/rustup, CARGO_HOME=/usr/local/cargo, /usr/local/cargo/bin
#   (rustup and its cargo/rustc proxies) first on PATH. Only the active toolchain is copied (without
#   its 800 MB of HTML docs), never the registry cache: the build fetches its crates from crates.io.
#
#   When this machine trusts more certificate authorities than Debian's (a TLS-inspecting egress
#   proxy's, under /usr/local/share/ca-certificates), cargo in the builder needs them to reach
#   crates.io: the machine's bundle goes to /usr/local/share/catapult/host-ca-certificates.crt and
#   CARGO_HTTP_CAINFO names it. It stays out of /etc/ssl/certs, so the resource image, which takes
#   its CA bundle from the builder, gets Debian's only.
#
# An image already present is reused (`image exists`): debootstrap runs once per machine. The
# builder is remade when its label org.catapult.builder-key (the machine's rustc version and CA
# bundle) no longer matches, and both are remade with CATAPULT_IMAGE_BASES_REBUILD=1.

# shellcheck disable=SC2154 # engine: the caller's array.
: "${engine[0]:?set engine=(podman --runtime runc) or engine=(docker) before sourcing this}"

image_bases_base=localhost/catapult-base-cc:bookworm
image_bases_builder=localhost/catapult-builder:bookworm
image_bases_mirror="${CATAPULT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

image_bases_exists() {
  if [ "${engine[0]}" = podman ]; then
    "${engine[@]}" image exists "$1"
  else
    "${engine[@]}" image inspect "$1" >/dev/null 2>&1
  fi
}

# What debian:bookworm-slim leaves out (debuerreotype's "slimify"): dpkg is told not to install
# these paths again, and the ones debootstrap already wrote are removed.
image_bases_slim() {
  local root=$1
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
  cat >"$root/etc/dpkg/dpkg.cfg.d/catapult-slim" <<'EOF'
# Left out as in debian:*-slim images: documentation (but the copyright files), man and info
# pages, translations.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -type d -not -name copyright -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/{man,info,groff,linda,lintian}/*
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  # Caches and host traces that have no place in an image: the engine provides hostname and
  # resolv.conf at run time.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/var/tmp/*
  : >"$root/etc/hostname"
  rm -f "$root/etc/resolv.conf"
}

# debootstrap into ROOT, with the .debs kept in CACHE so that the second run downloads nothing
# the first one did.
image_bases_debootstrap() {
  local root=$1 cache=$2 include=${3:-}
  command -v debootstrap >/dev/null || {
    echo "error: debootstrap is missing (apt-get install debootstrap)" >&2
    return 1
  }
  mkdir -p "$root" "$cache"
  echo "+ debootstrap --variant=minbase ${include:+--include=$include }bookworm $root $image_bases_mirror" >&2
  if ! debootstrap --variant=minbase ${include:+--include="$include"} --cache-dir="$cache" \
    bookworm "$root" "$image_bases_mirror" >"$root.log" 2>&1; then
    tail -n 30 "$root.log" >&2
    echo "error: debootstrap into $root failed (log above)" >&2
    return 1
  fi
}

# tar ROOT into the engine as image TAG. Device nodes, /proc and /sys stay out: the engine makes
# them at run time.
image_bases_import() {
  local root=$1 tag=$2
  shift 2
  if [ "${engine[0]}" = podman ]; then set -- --quiet "$@"; fi
  echo "+ tar -C $root -c . | ${engine[*]} import - $tag" >&2
  tar --numeric-owner --xattrs -C "$root" \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' --exclude='./run/*' -c . |
    "${engine[@]}" import "$@" - "$tag" >/dev/null
}

# The packages of the resource stage's base, and their dependencies' copyright notes.
image_bases_base_packages=(base-files libc6 libgcc-s1 gcc-12-base)

image_bases_make_base() {
  local work=$1 root="$1/base-root" debs="$1/base-debs" deb
  mkdir -p "$root" "$debs"
  echo "+ apt-get download ${image_bases_base_packages[*]}" >&2
  if ! (cd "$debs" && apt-get download "${image_bases_base_packages[@]}" >/dev/null 2>&1); then
    # A machine whose package lists were never fetched: fetch them once, then try again.
    apt-get update -qq
    (cd "$debs" && apt-get download "${image_bases_base_packages[@]}" >/dev/null)
  fi
  for deb in "$debs"/*.deb; do
    dpkg-deb -x "$deb" "$root"
  done
  # As distroless does: the copyright notes stay, the rest of the documentation goes.
  find "$root/usr/share/doc" -mindepth 1 -not -type d -not -name copyright -delete
  rm -rf "$root"/usr/share/{man,info,lintian,locale} "$root"/usr/share/doc-base
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' \
    >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  mkdir -p "$root/root" "$root/tmp"
  chmod 1777 "$root/tmp"
  image_bases_import "$root" "$image_bases_base" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  rm -rf "$root" "$debs"
}

image_bases_rustc_version() {
  rustc --version | awk '{print $2}'
}

image_bases_host_ca=/etc/ssl/certs/ca-certificates.crt

# What the builder is made from, besides Debian: the rustc version and the machine's CA bundle.
image_bases_builder_key() {
  local ca=none
  if [ -f "$image_bases_host_ca" ]; then
    ca=$(sha256sum "$image_bases_host_ca" | cut -c1-12)
  fi
  echo "rustc-$(image_bases_rustc_version)-ca-$ca"
}

image_bases_make_builder() {
  local work=$1 root="$1/builder-root" sysroot toolchain cargo_home rust_version settings_version
  image_bases_debootstrap "$root" "$work/debs" ca-certificates,gcc,libc6-dev,make,pkg-config
  image_bases_slim "$root"

  # The active toolchain (rustup's `stable-x86_64-unknown-linux-gnu`, say) and rustup itself.
  sysroot=$(rustc --print sysroot)
  toolchain=$(basename "$sysroot")
  cargo_home=$(dirname "$(dirname "$(command -v cargo)")")
  rust_version=$(image_bases_rustc_version)
  echo "+ copying the Rust toolchain $toolchain ($sysroot, rustc $rust_version) and $cargo_home/bin/rustup" >&2
  mkdir -p "$root/usr/local/rustup/toolchains/$toolchain" "$root/usr/local/cargo/bin"
  tar -C "$sysroot" --exclude=./share/doc -c . | tar -C "$root/usr/local/rustup/toolchains/$toolchain" -x
  cp "$cargo_home/bin/rustup" "$root/usr/local/cargo/bin/rustup"
  # rustup's proxies (cargo, rustc, rustdoc, cargo-clippy, ...) are links to rustup itself.
  local proxy
  for proxy in "$cargo_home"/bin/*; do
    if [ -L "$proxy" ] && [ "$(basename "$(readlink "$proxy")")" = rustup ]; then
      ln -s rustup "$root/usr/local/cargo/bin/$(basename "$proxy")"
    fi
  done
  settings_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$(rustup show home)/settings.toml")
  printf 'version = "%s"\ndefault_toolchain = "%s"\nprofile = "minimal"\nauto_self_update = "disable"\n' \
    "${settings_version:-12}" "$toolchain" >"$root/usr/local/rustup/settings.toml"

  # The machine's CA bundle, for cargo only, when it trusts more than Debian does.
  local cainfo=()
  if [ -f "$image_bases_host_ca" ] && ! cmp -s "$image_bases_host_ca" "$root/etc/ssl/certs/ca-certificates.crt"; then
    echo "+ this machine trusts CAs Debian does not: cargo in the builder gets its bundle (CARGO_HTTP_CAINFO)" >&2
    mkdir -p "$root/usr/local/share/catapult"
    cp "$image_bases_host_ca" "$root/usr/local/share/catapult/host-ca-certificates.crt"
    cainfo=(--change 'ENV CARGO_HTTP_CAINFO=/usr/local/share/catapult/host-ca-certificates.crt')
  fi

  image_bases_import "$root" "$image_bases_builder" "${cainfo[@]}" \
    --change 'ENV RUSTUP_HOME=/usr/local/rustup' \
    --change 'ENV CARGO_HOME=/usr/local/cargo' \
    --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV RUST_VERSION=$rust_version" \
    --change "LABEL org.catapult.builder-key=$(image_bases_builder_key)" \
    --change 'CMD ["bash"]'
  rm -rf "$root" "$root.log"
}

image_bases_ensure() {
  local work=$1 have want
  mkdir -p "$work"
  if [ "${CATAPULT_IMAGE_BASES_REBUILD:-}" != 1 ] && image_bases_exists "$image_bases_base"; then
    echo "--- $image_bases_base: present, reused" >&2
  else
    echo "--- $image_bases_base: making it from Debian's packages" >&2
    image_bases_make_base "$work"
  fi
  have=
  want=$(image_bases_builder_key)
  if [ "${CATAPULT_IMAGE_BASES_REBUILD:-}" != 1 ] && image_bases_exists "$image_bases_builder"; then
    have=$("${engine[@]}" image inspect --format '{{ index .Config.Labels "org.catapult.builder-key" }}' \
      "$image_bases_builder" 2>/dev/null || true)
  fi
  if [ "$have" = "$want" ]; then
    echo "--- $image_bases_builder: present ($have), reused" >&2
  else
    echo "--- $image_bases_builder: making it with debootstrap and this machine's Rust toolchain" >&2
    image_bases_make_builder "$work"
  fi
}
