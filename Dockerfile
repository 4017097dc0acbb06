# The catapult Concourse resource type: /opt/resource/{check,in,out} on a minimal Debian; and the
# `catapult` command line alone, in an image of its own.
#
# Build it (from the repository's root, with BuildKit or podman/buildah):
#
#   docker build -t catapult-resource .                  # the resource image
#   docker build --target cli -t catapult .              # the command line: /usr/local/bin/catapult
#   docker build --target tests -t catapult-tests .      # also runs the unit tests
#
# The base images are build arguments, as in Concourse's own resource types; ci/image-test builds
# this file with base images it makes from Debian's packages when no registry is reachable:
#
#   podman build --network=host \
#     --build-arg builder_image=localhost/catapult-builder:bookworm \
#     --build-arg base_image=localhost/catapult-base-cc:bookworm -t catapult-resource .
#
# The builder fetches the crates named in Cargo.lock from crates.io, so it needs the network
# (--network=host where the default container network does not reach out).

# Any image laid out as the public Rust image is: cargo, rustc and a C compiler on PATH.
ARG builder_image=rust:1-slim-bookworm
# Anything with glibc: the binaries link libc, libm and libgcc_s dynamically (libgit2, zlib and
# rustls are built into them). By default Debian's distroless image, which holds neither a shell
# nor a package manager, as the resource needs neither; debian:bookworm-slim works too, 70 MB
# larger.
ARG base_image=gcr.io/distroless/cc-debian12

FROM ${builder_image} AS builder
WORKDIR /src
# Only what cargo reads: a change to the docs, ci/ or pipelines/ does not rebuild the binaries.
COPY Cargo.toml Cargo.lock ./
COPY crates crates
# The registry cache is a cache mount: downloaded crates survive rebuilds without landing in a
# layer. The tests stage mounts the same cache.
# One executable: check, in and out are links to it, and it acts as the name it is started as.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    cargo build --release --locked -p catapult \
    && mkdir -p /out/resource \
    && cp target/release/catapult /out/resource/catapult \
    && ln -s catapult /out/resource/check \
    && ln -s catapult /out/resource/in \
    && ln -s catapult /out/resource/out

FROM ${base_image} AS resource
# The CA bundle for TLS to S3 (rustls reads the system's roots), taken from the builder, which has
# ca-certificates installed: the resource image needs no package manager run.
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /out/resource/ /opt/resource/

# The command line alone: `docker run --rm -e AWS_... catapult status`.
FROM ${base_image} AS cli
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /out/resource/catapult /usr/local/bin/catapult
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
