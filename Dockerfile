# The catapult Concourse resource type: /opt/resource/{check,in,out}, links to one executable;
# and the `catapult` command line alone, in an image of its own.
#
# Build it (from the repository's root, with BuildKit or podman/buildah):
#
#   docker build -t catapult-resource .                  # the resource image
#   docker build --target cli -t catapult .              # the command line: /usr/local/bin/catapult
#   docker build --target tests -t catapult-tests .      # also runs the unit tests
#
# The builder image is a build argument, as in Concourse's own resource types; ci/image-test
# builds this file with a builder it makes from Debian's packages when no registry is reachable:
#
#   podman build --network=host \
#     --build-arg builder_image=localhost/catapult-builder:bookworm -t catapult-resource .
#
# The builder fetches the crates named in Cargo.lock from crates.io, so it needs the network
# (--network=host where the default container network does not reach out).

# Any image laid out as the public Rust image is: cargo, rustc and a C compiler on PATH, glibc's
# static libraries (libc6-dev) and ca-certificates.
ARG builder_image=rust:1-slim-bookworm
# What the images start from. The executable is linked statically (glibc, libgcc, libgit2, zlib
# and rustls are in it: it reads /etc/hosts, /etc/resolv.conf and asks DNS with glibc's own
# built-in lookups), so it needs no base at all: `scratch`, and the images hold the executable,
# the CA bundle and an empty /tmp. Any other image works (debian:bookworm-slim for a shell;
# gcr.io/distroless/static-debian12 adds /etc/passwd and time zones, which nothing here reads).
ARG base_image=scratch

FROM ${builder_image} AS builder
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
# Only what cargo reads: a change to the docs, ci/ or pipelines/ does not rebuild the executable.
COPY Cargo.toml Cargo.lock ./
COPY crates crates
# The registry cache is a cache mount: downloaded crates survive rebuilds without landing in a
# layer. The tests stage mounts the same cache.
# One executable, static (crt-static: glibc linked in), for the builder's own architecture. The
# flag names the target so that build scripts and proc-macros, which run here, stay dynamic.
# check, in and out are links to it, and it acts as the name it is started as. /out/root is each
# image's whole tree: the executable under its names, the CA bundle for TLS to S3 (rustls reads
# the system's roots; taken from the builder, which has ca-certificates installed), and /tmp.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    target="$(rustc -vV | sed -n 's/^host: //p')" \
    && RUSTFLAGS="-C target-feature=+crt-static" \
       cargo build --release --locked -p catapult --target "$target" \
    && mkdir -p /out/root/etc/ssl/certs /out/root/tmp /out/resource/opt/resource /out/cli/usr/local/bin \
    && chmod 1777 /out/root/tmp \
    && cp /etc/ssl/certs/ca-certificates.crt /out/root/etc/ssl/certs/ca-certificates.crt \
    && cp "target/$target/release/catapult" /out/resource/opt/resource/catapult \
    && ln -s catapult /out/resource/opt/resource/check \
    && ln -s catapult /out/resource/opt/resource/in \
    && ln -s catapult /out/resource/opt/resource/out \
    && cp "target/$target/release/catapult" /out/cli/usr/local/bin/catapult

FROM ${base_image} AS resource
COPY --from=builder /out/root/ /
COPY --from=builder /out/resource/ /

# The command line alone: `docker run --rm -e AWS_... catapult status`.
FROM ${base_image} AS cli
COPY --from=builder /out/root/ /
COPY --from=builder /out/cli/ /
ENTRYPOINT ["/usr/local/bin/catapult"]
CMD ["--help"]

# The unit tests (the library's and the binaries' own) and the doc tests, in the builder's
# environment. Not the integration tests under crates/*/tests: they need a local S3 server
# (CATAPULT_TEST_ENDPOINT; without it they fail, never skip) and the git command line, which the
# builder does not have. ci/test runs the whole suite with both.
# The tests' build goes to a cache mount, not into the layer: several gigabytes nobody reads.
FROM builder AS tests
ENV CARGO_TARGET_DIR=/var/cache/catapult-tests
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/var/cache/catapult-tests,sharing=locked \
    cargo test --locked --workspace --lib --bins \
    && cargo test --locked --workspace --doc

FROM resource
LABEL org.opencontainers.image.title="catapult" \
      org.opencontainers.image.description="Concourse resource type: releases and deploys recorded as versions of one JSON object in a versioned S3 bucket" \
      org.opencontainers.image.source="https://github.com/catapult-ci/catapult" \
      org.opencontainers.image.licenses="Apache-2.0"
