# shellcheck shell=bash
# Sourced by ci/test: one line that sums up a whole `cargo test` run.
#
#   . ci/lib/test-summary.sh
#   set -o pipefail                            # the pipeline then fails as cargo does
#   cargo test --workspace | test_summary
#
# cargo runs one test binary per crate target and the doc tests, each ending with its own
# `test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; …` line, and the
# last of them (often the doc tests' `0 passed`) reads as if nothing ran. test_summary passes its
# input through as it comes, then sums every such line and prints, last and alone:
#
#   tests: 312 passed, 1 failed, 2 skipped
#
# (skipped: the `#[ignore]`d tests). It always ends with status 0, failures included, so that the
# pipeline's status is cargo's own under pipefail; when a test fails, the line is still printed.
# Only cargo's stdout goes through it: the build's progress and the `Running …` lines stay on
# stderr. A run that did not get to the tests (a build error) sums to `0 passed, 0 failed`.

test_summary() {
  if [[ ! -o pipefail ]]; then
    echo "error: test_summary needs \`set -o pipefail\`, or cargo's failure would be lost" >&2
    return 2
  fi
  awk '
    # The output as it comes, line by line, interleaved with cargo'"'"'s stderr.
    { print; fflush() }

    # The count before `word` in `line`, 0 when it is absent.
    function count(line, word) {
      if (match(line, "[0-9]+ " word)) return substr(line, RSTART, RLENGTH) + 0
      return 0
    }

    {
      line = $0
      gsub(/\033\[[0-9;]*m/, "", line)   # colour codes, should libtest be told to colour
      # The whole shape, so that a test'"'"'s own output quoting "test result" is not counted.
      n = "[0-9]+ "
      if (line ~ ("^test result: [A-Za-z]+\\. " n "passed; " n "failed; " n "ignored; " \
                  n "measured; " n "filtered out")) {
        passed += count(line, "passed")
        failed += count(line, "failed")
        skipped += count(line, "ignored")
      }
    }

    END { printf "tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped }
  '
}
