"""Two checks over Cargo's own view of the locked dependency graph, run by ci/test:

  python3 ci/lib/cargo_checks.py msrv       # no locked package needs a newer Rust than
                                            # the workspace's rust-version says
  python3 ci/lib/cargo_checks.py features   # the executable's dependencies have the same
                                            # features in a plain build as in the tests' build

msrv: `cargo metadata --locked` gives each package's `rust_version` (the `rust-version` of its
Cargo.toml). A locked dependency that asks for more than the workspace states makes the stated
minimum a promise nobody can keep: this fails, naming the packages and the version to state.
(Only one toolchain can be installed where CI runs, so the minimum itself is never built with;
this is the check that can run.)

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

import json
import re
import subprocess
import sys


def cargo(*args: str) -> str:
    return subprocess.run(["cargo", *args], check=True, stdout=subprocess.PIPE, text=True).stdout


def version_tuple(text: str) -> tuple[int, int, int]:
    parts = [int(p) for p in text.split(".")]
    return tuple((parts + [0, 0, 0])[:3])  # type: ignore[return-value]


def msrv() -> int:
    metadata = json.loads(cargo("metadata", "--format-version", "1", "--locked"))
    members = set(metadata["workspace_members"])
    stated = {p["rust_version"] for p in metadata["packages"] if p["id"] in members}
    if len(stated) != 1 or None in stated:
        print(f"error: the workspace's members state different rust-versions: {sorted(map(str, stated))}; "
              "each should take rust-version.workspace = true", file=sys.stderr)
        return 1
    (workspace,) = stated
    # Every package of the resolved graph, for every platform: a build on any of them needs it.
    resolved = {node["id"] for node in metadata["resolve"]["nodes"]}
    needs = sorted(((version_tuple(p["rust_version"]), p["name"], p["version"])
                    for p in metadata["packages"]
                    if p["id"] in resolved and p["id"] not in members and p.get("rust_version")),
                   reverse=True)
    newest = needs[0] if needs else None
    too_new = [n for n in needs if n[0] > version_tuple(workspace)]
    if too_new:
        shown = ", ".join(f"{name} {version} ({'.'.join(map(str, rust))})"
                          for rust, name, version in too_new[:10])
        more = f" and {len(too_new) - 10} more" if len(too_new) > 10 else ""
        print(f"error: rust-version = \"{workspace}\" in Cargo.toml, but locked dependencies need "
              f"a newer Rust: {shown}{more}. State rust-version = "
              f"\"{'.'.join(map(str, too_new[0][0]))}\" (and the README's prerequisites), or lock "
              "older versions.", file=sys.stderr)
        return 1
    if newest:
        rust = newest[0]
        names = sorted(name for needed, name, _ in needs if needed == rust)
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        print(f"msrv: rust-version {workspace} in Cargo.toml; the locked dependencies need at most "
              f"{'.'.join(map(str, rust))} ({shown})", file=sys.stderr)
    return 0


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
    checks = {"msrv": msrv, "features": same_features}
    if len(sys.argv) != 2 or sys.argv[1] not in checks:
        print(f"usage: {sys.argv[0]} {'|'.join(checks)}", file=sys.stderr)
        return 2
    return checks[sys.argv[1]]()


if __name__ == "__main__":
    sys.exit(main())
