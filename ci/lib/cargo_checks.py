"""Checks over Cargo's own view of the locked dependency graph, run by ci/test:

  python3 ci/lib/cargo_checks.py features   # the executable's dependencies have the same
                                            # features in a plain build as in the tests' build

features: Cargo unifies each dependency's features over what one invocation builds. When the
tests' dev-dependencies turn on more features of a shared crate (tokio's `test-util`, say), the
plain build of the executable (`cargo build -p catapult`: the README's, ci/demo's, ci/bench's)
compiles that crate, and all above it (the AWS SDK, hyper), a second time after the tests.
`cargo tree -e features` resolves features as the build does: this compares, for every package
the executable is built from, its features under `cargo test --workspace` and under
`cargo build -p catapult`, and fails naming each package whose features differ.
(A build of a library crate alone, `-p catapult-core`, still differs: it leaves out the crates
that turn on more features of shared ones, clap's syn `full`, say. Nobody builds it alone.)
"""

from __future__ import annotations

import re
import subprocess
import sys


def cargo(*args: str) -> str:
    return subprocess.run(["cargo", *args], check=True, stdout=subprocess.PIPE, text=True).stdout


# The one executable: check, in, out and catapult.
EXECUTABLE = "catapult"

# One line of `cargo tree --prefix none -f '{p} [{f}]'`: `name vX.Y.Z (source)? [features]`,
# with ` (*)` after a package already shown.
TREE_LINE = re.compile(r"^(\S+ v\S+)(?: \([^)]*\))? \[([^\]]*)\]")


def features(*selection: str) -> dict[str, set[str]]:
    """Package -> the feature sets it is built with (more than one when it is built both for the
    host, as a build dependency or proc-macro's, and for the target)."""
    out = cargo("tree", "--locked", "--prefix", "none", "-f", "{p} [{f}]", *selection)
    built: dict[str, set[str]] = {}
    for line in out.splitlines():
        match = TREE_LINE.match(line.strip())
        if match:
            built.setdefault(match.group(1), set()).add(match.group(2))
    return built


def same_features() -> int:
    tests = features("--workspace", "-e", "normal,build,dev")
    plain = features("-p", EXECUTABLE, "-e", "normal,build")
    differences = [f"  {package}: `cargo build -p {EXECUTABLE}` builds it with "
                   f"{' / '.join(sorted(sets))}; `cargo test --workspace` with "
                   f"{' / '.join(sorted(tests.get(package, {'nothing'})))}"
                   for package, sets in sorted(plain.items()) if tests.get(package) != sets]
    if differences:
        print(f"error: `cargo build -p {EXECUTABLE}` would compile these again after the tests, "
              "with other features (turn the tests' features on in crates/catapult/Cargo.toml too; "
              "`cargo tree -e features -i PACKAGE` shows who turns each on):\n" + "\n".join(differences), file=sys.stderr)
        return 1
    print(f"features: the {len(plain)} packages of `cargo build -p {EXECUTABLE}` have the same "
          "features under `cargo test --workspace`", file=sys.stderr)
    return 0


def main() -> int:
    checks = {"features": same_features}
    if len(sys.argv) != 2 or sys.argv[1] not in checks:
        print(f"usage: {sys.argv[0]} {'|'.join(checks)}", file=sys.stderr)
        return 2
    return checks[sys.argv[1]]()


if __name__ == "__main__":
    sys.exit(main())
