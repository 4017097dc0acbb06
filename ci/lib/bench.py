"""The Python half of ci/bench: seeds the local S3 server, runs the release binaries as Concourse
runs them, and prints figures (section 10 of the product brief). A benchmark, not a test: no
figure ever fails the run; a binary that cannot do its job (check, in) does, and so does a
present-but-broken `out` or changelog bench, after the summary is printed.

Run by ci/bench, which builds the binaries, starts the server and exports
CATAPULT_TEST_ENDPOINT. Requests are counted from the server's own access log (one werkzeug
line per request) and cross-checked with the binaries' debug logs (one line per S3 call).

ci/bench also starts ci/lib/fault_proxy.py in front of the server (--fault-proxy): the racing
puts run once more through it, with every nth PutObject's answer lost after the write landed.
Whatever the faults, each commit must be stored once under a number of its own: a commit stored
twice, a number taken twice, or a success S3 does not hold fails the run (an `error:` line on
stderr, exit 1), after the summary is printed. A second proxy (--conflict-proxy) answers every
nth conditional PutObject with S3's 409 ConditionalRequestConflict: 48 racing puts go through it
and must store 48 records numbered 1..48. A third (--strip-proxy) drops x-amz-version-id from
every nth PutObject answer: each such write must be found in the history by what it wrote.

When ci/bench has started Ceph RGW 16 (CATAPULT_BENCH_RGW_*), writers truly race on it: rounds
of 2 and of 8 outs on a new key each, released at once. RGW ignores `If-None-Match: *`, so all
of them write; exactly one may succeed, and no duplicate may stay (the others take theirs back).
`--only stores` runs these alone, with the requests one write costs on the plain path.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config

import questions_at_scale

ACCESS_KEY = "testing"
SECRET_KEY = "testing"

# What Concourse gives `in` and `out` (the same as the integration tests).
BUILD_VARIABLES = {
    "BUILD_ID": "42",
    "BUILD_NAME": "7",
    "BUILD_JOB_NAME": "release",
    "BUILD_PIPELINE_NAME": "app",
    "BUILD_TEAM_NAME": "main",
    "ATC_EXTERNAL_URL": "https://ci.example.com",
}

REQUEST_LINE = re.compile(r'"(GET|PUT|POST|HEAD|DELETE|PATCH|OPTIONS) (\S+) HTTP/[\d.]+" (\d{3})')
ANSI = re.compile(r"\x1b\[[0-9;]*m")
DEBUG_S3_CALL = re.compile(r"\bS3 ([A-Za-z]+)")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


class BrokenRun(Exception):
    """A binary that must work did not: the benchmark cannot go on."""


# --- the server's access log -------------------------------------------------------------


class ServerLog:
    """The moto server's stderr: werkzeug writes one line per request it answered."""

    def __init__(self, path: Path):
        self.path = path

    def mark(self) -> int:
        self.settle()
        return self.path.stat().st_size

    def settle(self, quiet: float = 0.1, limit: float = 5.0) -> None:
        """Waits until the log has not grown for `quiet` seconds (the server writes its line
        around the time it answers, which may be after the client has exited)."""
        deadline = time.monotonic() + limit
        size = self.path.stat().st_size
        stable_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.02)
            now = self.path.stat().st_size
            if now != size:
                size, stable_since = now, time.monotonic()
            elif time.monotonic() - stable_since >= quiet:
                return

    def requests_since(self, mark: int) -> list[str]:
        self.settle()
        with open(self.path, "rb") as handle:
            handle.seek(mark)
            text = handle.read().decode("utf-8", "replace")
        requests = []
        for line in text.splitlines():
            # werkzeug colours the lines of non-2xx answers (a 404, a 412).
            match = REQUEST_LINE.search(ANSI.sub("", line))
            if match:
                method, target, status = match.groups()
                requests.append(f"{method} {target} -> {status}")
        return requests


# --- running the binaries ------------------------------------------------------------------


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float

    def json(self):
        return json.loads(self.stdout)

    def error_line(self) -> str:
        for line in self.stderr.splitlines():
            line = ANSI.sub("", line)
            if line.startswith("error: "):
                return line
        tail = ANSI.sub("", self.stderr).strip().splitlines()
        return tail[-1] if tail else f"exit {self.code}, no stderr"

    def debug_s3_calls(self) -> list[str]:
        calls = []
        for line in ANSI.sub("", self.stderr).splitlines():
            match = DEBUG_S3_CALL.search(line)
            if match and "DEBUG" in line:
                calls.append(match.group(0))
        return calls


class Binaries:
    def __init__(self, directory: Path, scratch: Path):
        self.directory = directory
        self.scratch = scratch

    def path(self, name: str) -> Path:
        return self.directory / name

    @staticmethod
    def environment(name: str) -> dict[str, str]:
        # As Concourse (and the tests) run them: nothing for check, the build variables for the
        # others. No AWS_* variable of the host leaks in.
        return {} if name == "check" else dict(BUILD_VARIABLES)

    def run(self, name: str, request: dict, directory: Path | None = None,
            wrapper: list[str] | None = None) -> Run:
        """Runs one binary with `request` on stdin; wall time from spawn to reaped exit. (Not
        its peak memory: the kernel's max RSS of a child forked from this Python includes
        Python's own, so memory is measured under /usr/bin/time, a small parent.)"""
        argv = list(wrapper or []) + [str(self.path(name))]
        if directory is not None:
            argv.append(str(directory))
        with tempfile.TemporaryFile(dir=self.scratch) as stdin, \
                tempfile.TemporaryFile(dir=self.scratch) as stdout, \
                tempfile.TemporaryFile(dir=self.scratch) as stderr:
            stdin.write(json.dumps(request).encode())
            stdin.seek(0)
            start = time.perf_counter()
            process = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr,
                                       env=self.environment(name))
            _, status, _ = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - start
            process.returncode = os.waitstatus_to_exitcode(status)
            stdout.seek(0)
            stderr.seek(0)
            return Run(process.returncode, stdout.read().decode("utf-8", "replace"),
                       stderr.read().decode("utf-8", "replace"), seconds)


def race(binaries: Binaries, requests: list[dict], directory: Path) -> list[Run]:
    """One `out` per request, racing: each is started and blocks reading its stdin; closing all
    the stdins at once is the starting gun, so they race on S3, not on process start-up. Their
    runs in the order of `requests`, each timed from the gun to its exit."""
    processes = []
    for request in requests:
        stdout = tempfile.TemporaryFile(dir=binaries.scratch)
        stderr = tempfile.TemporaryFile(dir=binaries.scratch)
        process = subprocess.Popen([str(binaries.path("out")), str(directory)],
                                   stdin=subprocess.PIPE, stdout=stdout, stderr=stderr,
                                   env=Binaries.environment("out"))
        process.stdin.write(json.dumps(request).encode())
        processes.append((process, stdout, stderr))
    time.sleep(0.2)  # every racer is up and waiting on stdin
    gun = time.perf_counter()
    for process, _, _ in processes:
        process.stdin.close()
    pids = {process.pid: index for index, (process, _, _) in enumerate(processes)}
    ended: dict[int, tuple[int, float]] = {}
    while len(ended) < len(processes):
        pid, status, _ = os.wait4(-1, 0)
        if pid in pids:
            ended[pids[pid]] = (os.waitstatus_to_exitcode(status), time.perf_counter() - gun)
            processes[pids[pid]][0].returncode = ended[pids[pid]][0]
    runs = []
    for index, (_, stdout, stderr) in enumerate(processes):
        stdout.seek(0)
        stderr.seek(0)
        code, seconds = ended[index]
        runs.append(Run(code, stdout.read().decode("utf-8", "replace"),
                        stderr.read().decode("utf-8", "replace"), seconds))
        stdout.close()
        stderr.close()
    return runs


def expect_success(run: Run, what: str) -> Run:
    if run.code != 0:
        raise BrokenRun(f"{what}: exit {run.code}: {run.error_line()}\n{ANSI.sub('', run.stderr)}")
    return run


# --- S3 seeding ----------------------------------------------------------------------------


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3},
                      max_pool_connections=8),
    )


def new_bucket(s3, label: str) -> str:
    name = f"bench-{label}-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def record_body(number: int) -> bytes:
    commit = f"{number:040x}"
    return json.dumps({
        "version": number,
        "commit": commit,
        "image": None,
        "author": "bench@example.com",
        "changelog": f"{commit[:7]}  2026-11-20  Bench  Change {number}",
        "commits": [],
        "timestamp": "2026-11-21T10:00:00Z",
        "rollback": False,
        "action_type": "automated",
    }).encode()


def seed(s3, bucket: str, key: str, count: int) -> list[str]:
    """Writes releases 1..count at `key`, one after another (the order is the numbering), and
    returns their version ids, oldest first."""
    ids = []
    start = time.perf_counter()
    step = max(count // 5, 1)
    for number in range(1, count + 1):
        response = s3.put_object(Bucket=bucket, Key=key, Body=record_body(number),
                                 ContentType="application/json")
        ids.append(response["VersionId"])
        if count >= 1000 and number % step == 0:
            log(f"    seeded {number}/{count} ({time.perf_counter() - start:.0f} s)")
    return ids


def history_with_ids(s3, bucket: str, key: str) -> list[tuple[str, dict | None]]:
    """Every stored version of `key`, newest first: its version id and parsed body (None when
    not JSON)."""
    versions = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
        versions += [v for v in page.get("Versions", []) if v["Key"] == key]
    stored = []
    for version in versions:
        body = s3.get_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])["Body"].read()
        try:
            stored.append((version["VersionId"], json.loads(body)))
        except ValueError:
            stored.append((version["VersionId"], None))
    return stored


def history(s3, bucket: str, key: str) -> list[dict]:
    """Every stored version of `key` with its parsed body (None when not JSON), newest first."""
    return [record for _, record in history_with_ids(s3, bucket, key)]


# --- measurements --------------------------------------------------------------------------


@dataclass
class Counted:
    server: list[str]
    debug: list[str]
    run: Run


def count_requests(binaries: Binaries, server_log: ServerLog, name: str, request: dict,
                   directory: Path | None = None) -> Counted:
    """One run with debug logs on: the requests the server saw, and the S3 calls the binary
    says it made."""
    request = json.loads(json.dumps(request))
    request["source"]["debug"] = True
    mark = server_log.mark()
    run = binaries.run(name, request, directory)
    return Counted(server_log.requests_since(mark), run.debug_s3_calls(), run)


def timed(binaries: Binaries, name: str, make_request, runs: int, make_directory=None,
          check_output=None) -> list[Run]:
    results = []
    for index in range(runs):
        directory = make_directory() if make_directory else None
        run = expect_success(binaries.run(name, make_request(index), directory),
                             f"{name} (timed run {index + 1})")
        if check_output:
            check_output(run)
        results.append(run)
    return results


def median_seconds(runs: list[Run]) -> float:
    return statistics.median(run.seconds for run in runs)


def signed(port: int, method: str, target: str) -> dict[str, str]:
    """The headers of `method target` signed with the bench's keys (SigV4), as the binaries send
    it: moto answers an unsigned GetObject with 403 after doing less than a read, so a replay
    must be signed to cost the server what the binary's request cost it."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=f"http://127.0.0.1:{port}{target}")
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def replayed(port: int, method: str, target: str) -> None:
    """One read request sent again, on a new connection, signed; a replay the server refuses
    would not be the same work, so it breaks the run."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(method, target, headers=signed(port, method, target))
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status in (401, 403):
        raise BrokenRun(f"the replay of {method} {anonymous([target])} was answered "
                        f"{response.status}: the server's share would not be the same work")


def replay(port: int, requests: list[str]) -> float:
    """Sends the same read requests again, one after another, each on a new connection as a
    fresh process would, and returns the time taken: the server's share of a run. (Only GET
    and HEAD are replayed, so nothing changes.)"""
    start = time.perf_counter()
    for line in requests:
        method, target = line.split(" ", 2)[:2]
        if method not in ("GET", "HEAD"):
            continue
        replayed(port, method, target)
    return time.perf_counter() - start


def timed_with_server_share(binaries: Binaries, name: str, request: dict, runs: int, port: int,
                            requests: list[str], directory_factory=None) -> tuple[float, float]:
    """Median wall time of `runs` runs, and median time of the server answering the same
    requests replayed. Runs and replays alternate, so both see the same load on the machine."""
    walls, shares = [], []
    for index in range(runs):
        directory = directory_factory() if directory_factory else None
        run = expect_success(binaries.run(name, request, directory),
                             f"{name} (timed run {index + 1})")
        share = replay(port, requests)
        walls.append(run.seconds)
        shares.append(share)
    return statistics.median(walls), statistics.median(shares)


def strace_flags() -> list[str] | None:
    """strace's options for a low-overhead trace of execve and connect: with --seccomp-bpf only
    those two calls stop the process; without it every call does, and the figure swells."""
    if shutil.which("strace") is None:
        return None
    base = ["strace", "-f", "-qq", "-ttt", "-e", "trace=execve,connect", "-e", "signal=none"]
    probe = subprocess.run(base[:1] + ["-f", "--seccomp-bpf", "-qq", "-e", "trace=connect", "true"],
                           capture_output=True)
    return base + (["--seccomp-bpf"] if probe.returncode == 0 else [])


def own_time(binaries: Binaries, name: str, request: dict, flags: list[str],
             directory_factory=None, runs: int = 5) -> tuple[float, float]:
    """The binary's own time: execve to exit, less the time its threads sat blocked in
    epoll_wait (the single-threaded runtime waiting on the server). Medians over `runs`, under
    strace; what must stay flat whatever the history's length."""
    totals, own = [], []
    traced = ["-T", "-e", "trace=execve,epoll_wait,epoll_pwait,epoll_pwait2,exit_group"]
    for _ in range(runs):
        trace = binaries.scratch / f"strace-{uuid.uuid4().hex}.txt"
        directory = directory_factory() if directory_factory else None
        wrapper = strip_trace_option(flags) + traced + ["-o", str(trace)]
        expect_success(binaries.run(name, request, directory, wrapper=wrapper),
                       f"{name} under strace")
        start = end = None
        blocked = 0.0
        for line in trace.read_text().splitlines():
            parts = line.split(None, 2)
            if len(parts) < 3:
                continue
            stamp, call = float(parts[1]), parts[2]
            if start is None and call.startswith("execve("):
                start = stamp
            if call.startswith("exit_group("):
                end = stamp
            if "epoll" in call:
                spent = re.search(r"<([\d.]+)>$", call)
                if spent:
                    blocked += float(spent.group(1))
        trace.unlink()
        if start is not None and end is not None:
            totals.append(end - start)
            own.append(end - start - blocked)
    return statistics.median(totals), statistics.median(own)


def strip_trace_option(flags: list[str]) -> list[str]:
    """strace's options without its `-e trace=…` pair."""
    stripped = []
    skip = False
    for index, flag in enumerate(flags):
        if skip:
            skip = False
            continue
        if flag == "-e" and index + 1 < len(flags) and flags[index + 1].startswith("trace="):
            skip = True
            continue
        stripped.append(flag)
    return stripped


def startup_latency(binaries: Binaries, name: str, request: dict, port: int, flags: list[str],
                    directory_factory=None, runs: int = 5) -> tuple[float | None, set[str]]:
    """Process start (execve) to its first connect() to the server, under strace (which adds
    some overhead, so this is an upper bound). Also every address the binary connected to."""
    latencies = []
    destinations: set[str] = set()
    for _ in range(runs):
        trace = binaries.scratch / f"strace-{uuid.uuid4().hex}.txt"
        directory = directory_factory() if directory_factory else None
        run = binaries.run(name, request, directory, wrapper=flags + ["-o", str(trace)])
        expect_success(run, f"{name} under strace")
        exec_time = first_connect = None
        for line in trace.read_text().splitlines():
            parts = line.split(None, 2)
            if len(parts) < 3:
                continue
            stamp, call = float(parts[1]), parts[2]
            if call.startswith("execve(") and exec_time is None:
                exec_time = stamp
            elif call.startswith("connect("):
                address = re.search(r'sin6?_port=htons\((\d+)\).*?(?:inet_addr|inet_pton)\((?:AF_INET6, )?"([^"]+)"', call)
                if address:
                    destinations.add(f"{address.group(2)}:{address.group(1)}")
                    if int(address.group(1)) == port and first_connect is None:
                        first_connect = stamp
                elif "sun_path" in call:
                    destinations.add("unix:" + call.split("sun_path=", 1)[1].split("}", 1)[0])
        trace.unlink()
        if exec_time is not None and first_connect is not None:
            latencies.append(first_connect - exec_time)
    return (statistics.median(latencies) if latencies else None), destinations


def largest_peak(scratch: Path, run_under, runs: int = 3) -> int | None:
    """The largest "Maximum resident set size (kbytes)" /usr/bin/time -v reports over `runs`
    runs of `run_under(wrapper)`, which runs the command under `wrapper`; None without
    /usr/bin/time."""
    if not Path("/usr/bin/time").exists():
        return None
    peaks = []
    for _ in range(runs):
        report = scratch / f"time-{uuid.uuid4().hex}.txt"
        run_under(["/usr/bin/time", "-v", "-o", str(report)])
        peak = read_peak(report)
        if peak is not None:
            peaks.append(peak)
    return max(peaks) if peaks else None


def read_peak(report: Path) -> int | None:
    """The "Maximum resident set size (kbytes)" of a /usr/bin/time -v report, which it removes."""
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read_text())
    report.unlink()
    return int(match.group(1)) if match else None


def one_peak(binaries: Binaries, name: str, request: dict, directory: Path | None) -> int | None:
    """The peak memory of one successful run (see largest_peak)."""
    return largest_peak(binaries.scratch, lambda wrapper: expect_success(
        binaries.run(name, request, directory, wrapper=wrapper),
        f"{name} under /usr/bin/time"), runs=1)


def peak_rss(binaries: Binaries, name: str, request: dict, directory_factory=None,
             runs: int = 3) -> int | None:
    """The largest peak memory of `runs` successful runs, each in a directory of
    `directory_factory`'s when it is given (see largest_peak)."""
    return largest_peak(binaries.scratch, lambda wrapper: expect_success(
        binaries.run(name, request, directory_factory() if directory_factory else None,
                     wrapper=wrapper),
        f"{name} under /usr/bin/time"), runs)


# --- the summary -----------------------------------------------------------------------------


@dataclass
class Summary:
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)

    def row(self, figure: str, input_: str, value: str, target: str = "") -> None:
        self.rows.append((figure, input_, value, target))
        log(f"  {figure} [{input_}]: {value}" + (f"   (target: {target})" if target else ""))

    def anomaly(self, text: str) -> None:
        self.anomalies.append(text)
        log(f"  ANOMALY: {text}")

    def print(self) -> None:
        headers = ("figure", "input", "measured", "product target")
        widths = [max([len(headers[i])] + [len(row[i]) for row in self.rows]) for i in range(4)]
        out = sys.stdout
        out.write("\n## catapult benchmark\n\n")
        out.write("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |\n")
        out.write("|" + "|".join("-" * (w + 2) for w in widths) + "|\n")
        for row in self.rows:
            out.write("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |\n")
        if self.notes:
            out.write("\nNotes:\n" + "".join(f"- {note}\n" for note in self.notes))
        out.write("\nAnomalies:\n" + ("".join(f"- {a}\n" for a in self.anomalies) or "- none\n"))
        if self.broken:
            out.write("\nBroken (the run fails):\n" + "".join(f"- {b}\n" for b in self.broken))
        out.flush()


def requests_figure(counted: Counted) -> str:
    server, debug = len(counted.server), len(counted.debug)
    text = f"{server} (server log) / {debug} (debug log)"
    return text


def describe_requests(counted: Counted) -> str:
    return "; ".join(counted.server) or "none"


LISTING = re.compile(r"^GET \S*[?&]versions(?:[&=]|\s|$)")


def verification_listings(requests: list[str]) -> int:
    """The ListObjectVersions requests after the last PutObject: the verification of a write to
    a store other than AWS S3 (section 12 of the product brief)."""
    last_put = max((i for i, line in enumerate(requests) if line.startswith("PUT ")), default=None)
    if last_put is None:
        return 0
    return sum(1 for line in requests[last_put + 1:] if LISTING.match(line))


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# --- the scenarios ---------------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        self.args = args
        self.endpoint = os.environ["CATAPULT_TEST_ENDPOINT"]
        self.port = int(self.endpoint.rsplit(":", 1)[1].strip("/"))
        self.root = Path(args.root)
        self.scratch = Path(tempfile.mkdtemp(prefix="catapult-bench-"))
        self.binaries = Binaries(Path(args.bin_dir), self.scratch)
        self.server_log = ServerLog(Path(args.server_log))
        self.s3 = s3_client(self.endpoint)
        self.summary = Summary()
        self.strace = strace_flags()
        self.described: set[str] = set()
        self.own_times: dict[str, list[tuple[int, float]]] = {}
        self.proxy_log = Path(args.fault_proxy_log) if args.fault_proxy_log else None
        self.conflict_log = Path(args.conflict_proxy_log) if args.conflict_proxy_log else None
        self.strip_log = Path(args.strip_proxy_log) if args.strip_proxy_log else None

    def source(self, bucket: str, name: str = "app") -> dict:
        return {
            "bucket": bucket,
            "name": name,
            "endpoint": self.endpoint,
            "path_style": True,
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
        }

    def fresh_dir(self) -> Path:
        return Path(tempfile.mkdtemp(dir=self.scratch, prefix="dest-"))

    def check_requests(self, counted: Counted, label: str, promised: int | None,
                       exact: bool = True) -> None:
        step = re.sub(r" \(\d+ versions\)$", "", label)
        if step not in self.described:
            self.described.add(step)
            self.summary.notes.append(f"{step}: {anonymous(counted.server)}")
        server, debug = len(counted.server), len(counted.debug)
        if server != debug:
            self.summary.anomaly(f"{label}: the server saw {server} requests but the binary "
                                 f"logged {debug} S3 calls (retries?): {describe_requests(counted)}")
        if promised is not None and (server > promised or (exact and server != promised)):
            self.summary.anomaly(f"{label}: {server} S3 requests, the product promises "
                                 f"{'exactly' if exact else 'at most'} {promised}: "
                                 f"{describe_requests(counted)}")

    # 1. check and in over a history of `size` versions
    def history_figures(self, size: int) -> None:
        runs = self.args.runs
        log(f"--- history of {size} versions")
        bucket = new_bucket(self.s3, f"h{size}")
        start = time.perf_counter()
        ids = seed(self.s3, bucket, "app", size)
        log(f"    seeded {size} versions in {time.perf_counter() - start:.1f} s")
        source = self.source(bucket)
        latest = {"version": str(size), "version_id": ids[-1]}

        # check, nothing new
        request = {"source": source, "version": latest}
        counted = count_requests(self.binaries, self.server_log, "check", request)
        expect_success(counted.run, f"check, nothing new, {size} versions")
        if counted.run.json() != [latest]:
            self.summary.anomaly(f"check, nothing new, {size} versions: printed "
                                 f"{counted.run.stdout.strip()}, expected [{json.dumps(latest)}]")
        self.summary.row("check, nothing new: S3 requests", f"{size} versions, given = latest",
                         requests_figure(counted), "1")
        log(f"    requests: {describe_requests(counted)}")
        self.check_requests(counted, f"check nothing new ({size} versions)", 1)
        wall, share = timed_with_server_share(self.binaries, "check", request, runs,
                                              self.port, counted.server)
        self.summary.row("check, nothing new: wall time", f"{size} versions, {runs} runs",
                         f"median {ms(wall)}; server's share {ms(share)}", "flat in history length")
        self.own_time_row("check, nothing new", size, "check", request)
        self.memory_row("check, nothing new", f"{size} versions",
                        peak_rss(self.binaries, "check", request, runs=self.args.peak_runs))

        if self.strace and size == self.args.sizes[0]:
            latency, destinations = startup_latency(self.binaries, "check", request, self.port,
                                                    self.strace, runs=self.args.strace_runs)
            self.startup_row("check", latency, destinations)

        # check, five new versions
        given = {"version": str(size - 5), "version_id": ids[-6]}
        expected = [given] + [{"version": str(n), "version_id": ids[n - 1]}
                              for n in range(size - 4, size + 1)]
        request5 = {"source": source, "version": given}
        counted = count_requests(self.binaries, self.server_log, "check", request5)
        expect_success(counted.run, f"check, 5 new, {size} versions")
        if counted.run.json() != expected:
            self.summary.anomaly(f"check, 5 new, {size} versions: printed "
                                 f"{counted.run.stdout.strip()}, expected {json.dumps(expected)}")
        self.summary.row("check, 5 new: S3 requests", f"{size} versions, given = 6th newest",
                         requests_figure(counted), "grows with new versions only")
        log(f"    requests: {describe_requests(counted)}")
        # One listing page plus one GetObject per new version.
        self.check_requests(counted, f"check 5 new ({size} versions)", 6, exact=False)
        wall, share = timed_with_server_share(self.binaries, "check", request5, runs,
                                              self.port, counted.server)
        self.summary.row("check, 5 new: wall time", f"{size} versions, {runs} runs",
                         f"median {ms(wall)}; server's share {ms(share)} (replayed one by one)")
        self.memory_row("check, 5 new", f"{size} versions",
                        peak_rss(self.binaries, "check", request5, runs=self.args.peak_runs))

        # in, the latest version
        in_request = {"source": source, "version": latest, "params": {}}
        destination = self.fresh_dir()
        counted = count_requests(self.binaries, self.server_log, "in", in_request, destination)
        expect_success(counted.run, f"in, {size} versions")
        written = json.loads((destination / "release.json").read_text())
        if written.get("version") != size or written.get("version_id") != ids[-1]:
            self.summary.anomaly(f"in ({size} versions): release.json holds version "
                                 f"{written.get('version')} / {written.get('version_id')}")
        self.summary.row("in, latest: S3 requests", f"{size} versions", requests_figure(counted), "1")
        self.check_requests(counted, f"in ({size} versions)", 1)
        wall, share = timed_with_server_share(self.binaries, "in", in_request, runs,
                                              self.port, counted.server, self.fresh_dir)
        self.summary.row("in, latest: wall time", f"{size} versions, {runs} runs",
                         f"median {ms(wall)}; server's share {ms(share)}")
        self.own_time_row("in, latest", size, "in", in_request, self.fresh_dir)
        self.memory_row("in, latest", f"{size} versions",
                        peak_rss(self.binaries, "in", in_request, self.fresh_dir,
                                 self.args.peak_runs))
        if self.strace and size == self.args.sizes[0]:
            latency, destinations = startup_latency(self.binaries, "in", in_request, self.port,
                                                    self.strace, self.fresh_dir,
                                                    self.args.strace_runs)
            self.startup_row("in", latency, destinations)

    def own_time_row(self, what: str, size: int, name: str, request: dict,
                     directory_factory=None) -> None:
        if self.strace is None:
            return
        runs = self.args.strace_runs
        total, own = own_time(self.binaries, name, request, self.strace, directory_factory, runs)
        self.summary.row(f"{what}: the binary's own time", f"{size} versions, {runs} runs under strace",
                         f"median {ms(own)} not waiting on the server (of {ms(total)} execve to exit)",
                         "flat in history length")
        self.own_times.setdefault(what, []).append((size, own))

    def memory_row(self, what: str, input_: str, peak_kb: int | None,
                   runs: int | None = None) -> None:
        value = "not measured (no /usr/bin/time)" if peak_kb is None else \
            f"{peak_kb} kB ({peak_kb / 1024:.1f} MiB)"
        self.summary.row(f"{what}: peak memory",
                         f"{input_}, max RSS, /usr/bin/time -v, {runs or self.args.peak_runs} runs",
                         value, "< 20 MB")
        if peak_kb is not None and peak_kb > 20 * 1024:
            self.summary.anomaly(f"{what} ({input_}): peak RSS {peak_kb} kB > 20 MB")

    def startup_row(self, name: str, latency: float | None, destinations: set[str]) -> None:
        how = "strace --seccomp-bpf" if "--seccomp-bpf" in self.strace else "strace"
        value = "not measured (no connect seen)" if latency is None else f"median {ms(latency)} (under {how})"
        self.summary.row(f"{name}: process start to first request",
                         f"execve -> connect(), {self.args.strace_runs} runs",
                         value, "< 10 ms")
        others = sorted(d for d in destinations if not d.endswith(f":{self.port}"))
        if others:
            self.summary.anomaly(f"{name} connected to more than the endpoint: {', '.join(others)}")
        if latency is not None and latency > 0.010:
            self.summary.anomaly(f"{name}: {ms(latency)} from process start to first request "
                                 "(strace overhead included)")

    # 2. the executable's size: check, in, out and catapult are links to one file
    def binary_sizes(self) -> None:
        path = self.binaries.path("check").resolve()
        shown = shown_path(path, self.root)
        size = path.stat().st_size
        stripped = ""
        if shutil.which("file"):
            description = subprocess.run(["file", "-b", str(path)], capture_output=True,
                                         text=True).stdout
            stripped = ", stripped" if ", stripped" in description else ", NOT stripped"
            if "NOT" in stripped:
                self.summary.anomaly(f"{shown} is not stripped")
        self.summary.row("binary size: the executable (check, in, out, catapult)", shown,
                         f"{size} bytes ({size / 1e6:.2f} MB, {size / 2**20:.2f} MiB){stripped}",
                         "< 10 MB")
        if size > 10 * 10**6:
            self.summary.anomaly(f"{shown} is {size / 1e6:.2f} MB (> 10 MB)")

    # 2b. the images, as the last ci/image-test measured them
    def image_figures(self) -> None:
        target = "resource image < 12 MB"
        input_ = "the last ci/image-test"
        path = Path(self.args.image_sizes) if self.args.image_sizes else None
        if path is None or not path.exists():
            self.summary.row("image sizes", input_,
                             f"not built (no {path or 'target/image-test/sizes.json'}: run ci/image-test)",
                             target)
            return
        sizes = json.loads(path.read_text())
        engine = sizes.get("engine") or []
        names = [sizes[image]["name"] for image in ("resource_image", "cli_image")]
        if not engine or not shutil.which(engine[0]):
            self.summary.row("image sizes", input_, "not built here (no container engine to ask)",
                             target)
            return
        gone = [name for name in names
                if subprocess.run([*engine, "image", "inspect", "--format", "{{.Id}}", name],
                                  capture_output=True).returncode != 0]
        if gone:
            self.summary.row("image sizes", input_,
                             f"not built (the images of the run at {sizes['measured_at']} are gone: "
                             f"{', '.join(gone)})", target)
            return
        measured = f"ci/image-test at {sizes['measured_at']}"

        def mib(n: int) -> str:
            return f"{n} bytes ({n / 2**20:.2f} MiB)"

        resource = sizes["resource_image"]["bytes"]
        self.summary.row("resource image", measured, mib(resource), target)
        if resource >= 12 * 10**6:
            self.summary.anomaly(f"the resource image is {resource / 1e6:.2f} MB (goal: under 12 MB)")
        self.summary.row("command line image", measured, mib(sizes["cli_image"]["bytes"]))
        self.summary.row("  of which the executable", measured, mib(sizes["executable_bytes"]))
        self.summary.row("  of which the CA bundle", measured, mib(sizes["ca_bundle_bytes"]))
        self.summary.row(f"  of which the base ({sizes['base']})", measured, mib(sizes["base_bytes"]))
        glibc = sizes.get("on_glibc_base")
        if glibc:
            self.summary.row("resource image on Debian's glibc and libgcc", measured,
                             f"{mib(glibc['bytes'])}, the base {mib(glibc['base_bytes'])}",
                             "for comparison")

    # 3. out
    def make_repository(self, count: int = 3) -> tuple[Path, list[str]]:
        """A build directory holding a checkout `repo` of `count` commits on one branch, and
        their shas, oldest first."""
        build = Path(tempfile.mkdtemp(dir=self.scratch, prefix="build-"))
        repo = build / "repo"
        repo.mkdir()
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.scratch),
               "GIT_AUTHOR_DATE": "2026-11-20T10:00:00Z", "GIT_COMMITTER_DATE": "2026-11-20T10:00:00Z"}

        def git(*args) -> str:
            return subprocess.run(["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com",
                                   "-c", "init.defaultBranch=main", *args],
                                  cwd=repo, env=env, check=True, capture_output=True,
                                  text=True).stdout.strip()

        git("init", "-q")
        shas = []
        for number in range(1, count + 1):
            (repo / "file.txt").write_text(f"change {number}\n")
            git("add", "file.txt")
            git("commit", "-q", "-m", f"Change {number}")
            shas.append(git("rev-parse", "HEAD"))
        return build, shas

    def write_row(self, figure: str, input_: str, counted: Counted, label: str,
                  on_aws: int = 3, why: str = "") -> None:
        """The S3 requests of one `out` that wrote a record: `on_aws` at most on AWS S3 (3 for a
        release; a deploy's reads that find its release come on top, `why`), and on a custom
        endpoint (every one here) one listing more that verifies the write (section 12)."""
        after_put = verification_listings(counted.server)
        server, debug = len(counted.server), len(counted.debug)
        if after_put:
            split = (f"{server} ({server - after_put} + {after_put} verification listing"
                     f"{'s' if after_put != 1 else ''}, which AWS S3 itself skips)")
        else:
            split = f"{server} (no verification listing)"
        self.summary.row(figure, input_, f"{split}; debug log: {debug}",
                         f"<= {on_aws} on AWS S3{why}; {on_aws + 1} with the verification listing "
                         "of a custom endpoint")
        log(f"    requests: {describe_requests(counted)}")
        self.check_requests(counted, label, on_aws + 1, exact=False)
        if not any(line.startswith("PUT ") for line in counted.server):
            self.summary.anomaly(f"{label}: no PutObject reached the server: "
                                 f"{describe_requests(counted)}")
        elif after_put != 1:
            self.summary.anomaly(f"{label}: {after_put} listings after the PutObject; a write to a "
                                 "custom endpoint is verified by exactly one")

    def out_figures(self) -> None:
        log("--- out")
        bucket = new_bucket(self.s3, "out")
        build, _ = self.make_repository()
        source = self.source(bucket)
        request = {"source": source, "params": {"repository": "repo", "force": True}}

        # The first release (If-None-Match: *), counted.
        counted = count_requests(self.binaries, self.server_log, "out", request, build)
        if counted.run.code != 0:
            error = counted.run.error_line()
            if "not implemented" in error:
                self.summary.row("out", "release", "not implemented yet")
                self.summary.notes.append("out: not implemented yet; its figures are skipped.")
                return
            self.summary.broken.append(f"out failed on its first release: {error}")
            self.summary.row("out", "release", f"FAILED: {error}")
            return
        self.write_row("out, first release: S3 requests", "empty key, force: true", counted,
                       "out (first release)")
        numbers = [int(counted.run.json()["version"]["version"])]

        # A release over an existing one (If-Match), counted.
        counted = count_requests(self.binaries, self.server_log, "out", request, build)
        expect_success(counted.run, "out (second release)")
        numbers.append(int(counted.run.json()["version"]["version"]))
        self.write_row("out, next release: S3 requests", "key with 1 release, force: true",
                       counted, "out (next release)")

        # The same commit again without force: a retried put, which writes nothing.
        retry = {"source": source, "params": {"repository": "repo"}}
        counted = count_requests(self.binaries, self.server_log, "out", retry, build)
        expect_success(counted.run, "out (the latest release's commit again)")
        self.summary.row("out, same commit again: S3 requests", "latest release's commit, no force",
                         requests_figure(counted), "2, writes nothing")
        log(f"    requests: {describe_requests(counted)}")
        self.check_requests(counted, "out (same commit, no force)", 2, exact=False)
        if any(line.startswith("PUT ") for line in counted.server):
            self.summary.anomaly("out (same commit, no force) wrote: "
                                 f"{describe_requests(counted)}")

        runs = self.args.out_runs
        results = timed(self.binaries, "out", lambda _: request, runs, lambda: build)
        numbers += [int(r.json()["version"]["version"]) for r in results]
        if numbers != list(range(1, len(numbers) + 1)):
            self.summary.anomaly(f"out: sequential releases took numbers {numbers}")
        self.summary.row("out, release: wall time", f"3-commit repo, force: true, {runs} runs",
                         f"median {ms(median_seconds(results))}")
        self.memory_row("out, release", "3-commit repo, force: true",
                        peak_rss(self.binaries, "out", request, lambda: build, self.args.peak_runs))
        if self.strace:
            latency, destinations = startup_latency(self.binaries, "out", request, self.port,
                                                    self.strace, lambda: build,
                                                    self.args.strace_runs)
            self.startup_row("out", latency, destinations)

        self.deploy_figures(bucket, build, request)
        self.deploy_memory(bucket, build, request)
        self.racing_puts("race", self.endpoint)
        if self.args.fault_proxy:
            self.racing_puts("race-lossy", self.args.fault_proxy, lossy=True)
        else:
            self.summary.row(f"{self.args.racers} racing puts, answers lost", "through the fault proxy",
                             "not run (no --fault-proxy)")
        self.conflict_race()
        self.rgw_race()

    def stores_figures(self) -> None:
        """`--only stores`: what a write costs on the plain path, the race with 409s answered as
        S3 does, and the true race on Ceph RGW when it is at hand."""
        log("--- out, requests per write")
        bucket = new_bucket(self.s3, "writes")
        build, _ = self.make_repository()
        request = {"source": self.source(bucket), "params": {"repository": "repo", "force": True}}
        counted = count_requests(self.binaries, self.server_log, "out", request, build)
        expect_success(counted.run, "out (first release)")
        self.write_row("out, first release: S3 requests", "empty key, force: true", counted,
                       "out (first release)")
        counted = count_requests(self.binaries, self.server_log, "out", request, build)
        expect_success(counted.run, "out (next release)")
        self.write_row("out, next release: S3 requests", "key with 1 release, force: true",
                       counted, "out (next release)")
        self.conflict_race()
        self.rgw_race()

    def conflict_race(self) -> None:
        """The racing puts through the conflict proxy, which answers every nth conditional
        PutObject with S3's 409; then through the stripping proxy, which drops the version id
        from every nth PutObject's answer."""
        title = f"{self.args.conflict_racers} racing puts, 409s answered as S3 does"
        if self.args.conflict_proxy:
            self.racing_puts("race-409", self.args.conflict_proxy, conflicts=True,
                             racers=self.args.conflict_racers)
        else:
            self.summary.row(title, "through the conflict proxy", "not run (no --conflict-proxy)")
        title = f"{self.args.racers} racing puts, answers without a version id"
        if self.args.strip_proxy:
            self.racing_puts("race-stripped", self.args.strip_proxy, stripped=True)
        else:
            self.summary.row(title, "through the stripping proxy", "not run (no --strip-proxy)")

    def rgw_race(self) -> None:
        """Ceph RGW 16, which ignores `If-None-Match: *`, with writers that truly race: rounds of
        2 and of 8 outs of distinct commits, each round on a new key, started together and
        released at once. Exactly one must succeed in each round; each other takes its write back
        (or, having listed after the first record landed, meets RGW's refusal of If-Match), and
        the key must be left with one record, which `check` emits once. A second success or a
        duplicate left breaks the run."""
        title = "Ceph RGW, writers that truly race"
        endpoint = os.environ.get("CATAPULT_BENCH_RGW_ENDPOINT")
        if not endpoint:
            self.summary.row(title, "rounds of 2 and 8 outs on a new key",
                             "not run (Ceph RGW is not installed, or did not start: "
                             "`ci/conformance ceph-rgw` installs it, then ci/bench starts it)")
            return
        log(f"--- {title} ({endpoint})")
        access_key = os.environ["CATAPULT_BENCH_RGW_ACCESS_KEY_ID"]
        secret_key = os.environ["CATAPULT_BENCH_RGW_SECRET_ACCESS_KEY"]
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                          config=Config(s3={"addressing_style": "path"}))
        bucket = new_bucket(s3, "rgw")
        build, commits = self.make_repository(8)
        rounds = [2, 8] * self.args.rgw_rounds
        one_success = 0
        duplicates_left = 0
        checked_once = 0
        taken_back = 0
        refused_if_match = 0
        others: dict[str, int] = {}
        refusal_times: list[float] = []
        last_refusals: list[float] = []
        for index, writers in enumerate(rounds):
            key = f"race-{index}"
            source = {"bucket": bucket, "name": key, "endpoint": endpoint, "path_style": True,
                      "access_key_id": access_key, "secret_access_key": secret_key}
            runs = race(self.binaries, [{"source": source, "params": {
                "repository": "repo", "commit": commit, "allow_rollback": True,
            }} for commit in commits[:writers]], build)
            successes = [run for run in runs if run.code == 0]
            refusals = [run for run in runs if run.code != 0]
            for run in refusals:
                error = run.error_line()
                refusal_times.append(run.seconds)
                if "was taken back, so nothing was written" in error:
                    taken_back += 1
                elif "to PutObject with If-Match" in error and "does not honour" in error:
                    refused_if_match += 1
                else:
                    # Grouped by shape: version ids, keys and endpoints left out.
                    shape = re.sub(r'"[^"]*"|s3://\S+|https?://\S+', "…", error)
                    others[shape] = others.get(shape, 0) + 1
            if refusals:
                last_refusals.append(max(run.seconds for run in refusals))
            stored = history_with_ids(s3, bucket, key)
            duplicates_left += max(len(stored) - 1, 0)
            if len(successes) == 1:
                one_success += 1
                kept = successes[0].json()["version"]
                checked = self.binaries.run("check", {"source": source})
                if checked.code == 0 and checked.json() == [kept] and \
                        [version_id for version_id, _ in stored] == [kept["version_id"]]:
                    checked_once += 1
            log(f"    round {index + 1}, {writers} writers: {len(successes)} succeeded, "
                f"{len(refusals)} refused, {len(stored)} records left")
        count = len(rounds)
        self.summary.row(f"{title}: rounds", f"{count} rounds ({count // 2} of 2 writers, "
                         f"{count // 2} of 8), a new key each, released at once",
                         f"exactly one success in {one_success}/{count}; check emits that one "
                         f"record alone in {checked_once}/{count}", "all")
        self.summary.row(f"{title}: duplicates left", "records beyond the first, every round",
                         str(duplicates_left), "0")
        self.summary.row(f"{title}: refusals", f"{len(refusal_times)} writers refused",
                         f"{taken_back} took their own write back, {refused_if_match} met RGW's "
                         f"412 to If-Match (they listed after the first record landed)"
                         + (f", other: {others}" if others else ""),
                         "each names the store and what it did not honour")
        if refusal_times:
            self.summary.row(f"{title}: time to the refusal", "gun (stdin closed) to exit",
                             f"per writer: median {ms(statistics.median(refusal_times))}, "
                             f"worst {ms(max(refusal_times))}; a round's last refusal: median "
                             f"{ms(statistics.median(last_refusals))}", "< 10 s")
        if duplicates_left or one_success != count or checked_once != count:
            self.summary.broken.append(f"{title}: {duplicates_left} duplicates left, one success "
                                       f"in {one_success}/{count} rounds, check right in "
                                       f"{checked_once}/{count}")
        if others:
            self.summary.anomaly(f"{title}: refusals of another kind: {others}")

    def deploy_figures(self, bucket: str, build: Path, release_request: dict) -> None:
        """A deploy's S3 requests on the plain path: the first to an environment, a retry by
        the same build (which writes nothing), the next, and one of a release pinned by a get."""
        log("--- out, deploys")
        source = dict(self.source(bucket), environment="staging")
        latest = {"source": source, "params": {}}

        counted = count_requests(self.binaries, self.server_log, "out", latest, build)
        if counted.run.code != 0:
            error = counted.run.error_line()
            self.summary.broken.append(f"out failed on its first deploy: {error}")
            self.summary.row("out, first deploy", "latest release", f"FAILED: {error}")
            return
        self.write_row("out, first deploy: S3 requests", "latest release, empty deploy key",
                       counted, "out (first deploy)", 4,
                       " (the latest release's GetObject, the deploy listing, the environment's "
                       "freeze, the PutObject)")

        counted = count_requests(self.binaries, self.server_log, "out", latest, build)
        expect_success(counted.run, "out (deploy retried by the same build)")
        self.summary.row("out, deploy retried by its build: S3 requests",
                         "latest release, deployed by the same build", requests_figure(counted),
                         "writes nothing (section 12)")
        log(f"    requests: {describe_requests(counted)}")
        self.check_requests(counted, "out (deploy retried)", None)
        if any(line.startswith("PUT ") for line in counted.server):
            self.summary.anomaly("out: a deploy retried by the same build wrote: "
                                 f"{describe_requests(counted)}")

        # A new release, then its deploy: the next record on the deploy key.
        released = expect_success(self.binaries.run("out", release_request, build),
                                  "out (a release to deploy)").json()["version"]
        counted = count_requests(self.binaries, self.server_log, "out", latest, build)
        expect_success(counted.run, "out (next deploy)")
        self.write_row("out, next deploy: S3 requests", "latest release, key with 1 deploy",
                       counted, "out (next deploy)", 5,
                       " (the first deploy's 4 + the current deploy's GetObject)")
        if counted.run.json()["version"]["version"] != released["version"]:
            self.summary.anomaly(f"out (next deploy) deployed {counted.run.stdout.strip()}, "
                                 f"not the latest release {released}")

        # A release pinned by a get (its release.json names the exact S3 version).
        released = expect_success(self.binaries.run("out", release_request, build),
                                  "out (a release to get)").json()["version"]
        (build / "release").mkdir()
        expect_success(self.binaries.run("in", {"source": self.source(bucket),
                                                "version": released, "params": {}},
                                         build / "release"), "in (the release to deploy)")
        pinned = {"source": source, "params": {"release": "release"}}
        counted = count_requests(self.binaries, self.server_log, "out", pinned, build)
        expect_success(counted.run, "out (deploy of a release pinned by a get)")
        self.write_row("out, deploy pinned by a get: S3 requests",
                       "release: <get's directory>, key with 2 deploys", counted,
                       "out (deploy pinned by a get)", 5,
                       " (the next deploy's 5, the pinned release read by its version id)")

    def deploy_memory(self, bucket: str, build: Path, release_request: dict) -> None:
        """The peak memory of a deploy that writes: a new release before each run, so that the
        deploy is not a retry by the same build."""
        source = dict(self.source(bucket), environment="staging")
        peaks = []
        for _ in range(self.args.peak_runs):
            expect_success(self.binaries.run("out", release_request, build),
                           "out (a release to deploy)")
            peaks.append(one_peak(self.binaries, "out", {"source": source, "params": {}}, build))
        self.memory_row("out, deploy", "the latest release, a key with deploys",
                        None if None in peaks else max(peaks))

    def racing_puts(self, key: str, endpoint: str, lossy: bool = False,
                    conflicts: bool = False, stripped: bool = False,
                    racers: int | None = None) -> None:
        """`racers` outs of distinct commits on one fresh key, started together. Through the fault
        proxy (`lossy`), every nth PutObject's answer is lost after the write landed; through the
        conflict proxy (`conflicts`), every nth conditional PutObject is answered 409
        ConditionalRequestConflict, as S3 answers one while another to the key is in flight;
        through the stripping proxy (`stripped`), every nth PutObject's answer comes without its
        x-amz-version-id, so the write must be found by what it wrote.
        Each commit must then be stored exactly once, under distinct numbers: a commit stored
        twice, a number taken twice or a success that S3 does not hold is a broken run."""
        racers = racers or self.args.racers
        bucket = new_bucket(self.s3, "race")
        build, commits = self.make_repository(racers)
        nth = self.args.lose_every_nth_put
        if conflicts:
            title = (f"{racers} racing puts, every {ordinal(self.args.conflict_every_nth)} "
                     "conditional PutObject answered 409")
        elif stripped:
            title = (f"{racers} racing puts, every {ordinal(self.args.strip_every_nth)} PutObject "
                     "answered without its version id")
        elif lossy:
            title = f"{racers} racing puts, every {ordinal(nth)} PutObject answer lost"
        else:
            title = f"{racers} racing puts"
        log(f"--- {title}")
        source = dict(self.source(bucket, key), endpoint=endpoint)
        if lossy or conflicts or stripped:
            source["debug"] = True  # one line per S3 call: catapult's own attempts
        # Older commits than the latest release are rollbacks, allowed; force makes a write that
        # is not recognised as its own show up as a second record of its commit.
        requests = [{"source": source, "params": {
            "repository": "repo", "commit": commit, "force": True, "allow_rollback": True,
        }} for commit in commits]
        mark = self.server_log.mark()
        proxy_log = (self.conflict_log if conflicts else self.strip_log if stripped
                     else self.proxy_log)
        proxy_mark = (proxy_log.stat().st_size
                      if (lossy or conflicts or stripped) and proxy_log else 0)
        runs = race(self.binaries, requests, build)
        latencies = {index: run.seconds for index, run in enumerate(runs)}
        duration = max(latencies.values())
        succeeded, errors = 0, {}
        printed = {}  # commit -> (number, version_id) the out printed
        failed_commits = set()
        recognised = 0
        searched = 0
        own_puts = 0
        for commit, run in zip(commits, runs):
            text = ANSI.sub("", run.stderr)
            recognised += len(re.findall(r"landed as version", text))
            searched += len(re.findall(r"without a version id; looking for the write", text))
            own_puts += sum(1 for call in run.debug_s3_calls() if call == "S3 PutObject")
            if run.code == 0:
                succeeded += 1
                version = run.json()["version"]
                printed[commit] = (int(version["version"]), version.get("version_id"))
            else:
                failed_commits.add(commit)
                errors[run.error_line()] = errors.get(run.error_line(), 0) + 1
                log(f"    a racer failed (exit {run.code}):\n{text}")
        seen = self.server_log.requests_since(mark)
        statuses: dict[str, int] = {}
        for line in seen:
            status = line.rsplit(" ", 1)[1]
            statuses[status] = statuses.get(status, 0) + 1
        server_puts = sum(1 for line in seen if line.startswith("PUT "))

        stored = history_with_ids(self.s3, bucket, key)
        records = [record for _, record in stored if isinstance(record, dict)]
        stored_numbers = sorted(r.get("version") for r in records)
        per_commit: dict[str, int] = {}
        for record in records:
            per_commit[record.get("commit")] = per_commit.get(record.get("commit"), 0) + 1
        twice = {commit: n for commit, n in per_commit.items() if n > 1}
        duplicated = sorted({n for n in stored_numbers if stored_numbers.count(n) > 1})
        consecutive = stored_numbers == list(range(1, len(stored_numbers) + 1))
        by_id = {version_id: record for version_id, record in stored}
        lost = [commit for commit, (_, version_id) in printed.items()
                if not isinstance(by_id.get(version_id), dict)
                or by_id[version_id].get("commit") != commit]
        failed_but_stored = sorted(commit[:7] for commit in failed_commits if commit in per_commit)
        values = sorted(latencies.values())

        self.summary.row(f"{title}: succeeded", f"{racers} outs of distinct commits, one fresh key",
                         f"{succeeded}/{racers}" + (f"; failures: {errors}" if errors else ""),
                         "all, or a clear error after bounded retries")
        ratio = len(records) / racers
        self.summary.row(f"{title}: records stored", f"key '{key}', read back with boto3",
                         f"{len(records)} records for {racers} puts: {ratio:.2f} per put; "
                         f"most records of one commit: {max(per_commit.values(), default=0)}; "
                         f"numbers {compact(stored_numbers)}, "
                         f"distinct: {'yes' if not duplicated else 'NO'}, "
                         f"consecutive from 1: {'yes' if consecutive else 'NO'}",
                         "1.00 per put: each commit once, distinct numbers")
        self.summary.row(f"{title}: duration", "gate (stdin closed) to the last exit",
                         f"{ms(duration)}; per put: median {ms(statistics.median(values))}, "
                         f"worst {ms(values[-1])}")
        self.summary.row(f"{title}: S3 requests", "all racers, server log",
                         f"{len(seen)} in all, {server_puts} PutObject; by status: "
                         + ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items())),
                         "412s are lost races, retried")
        if conflicts:
            answered = self.proxy_lines(self.conflict_log, proxy_mark, "ConditionalRequestConflict")
            self.summary.row(f"{title}: 409s", "conflict proxy, --conflict-every-nth-conditional-"
                             f"put {self.args.conflict_every_nth}",
                             f"{len(answered)} conditional PutObject answered 409 (not forwarded); "
                             f"PutObject: {own_puts} sent by catapult (debug logs), {server_puts} "
                             "reached the server", "each 409 retried like a lost race, never "
                             "called a broken store")
            if not answered:
                self.summary.anomaly(f"{title}: the conflict proxy answered no 409 (is it in the "
                                     "path?)")
        if stripped:
            answered = self.proxy_lines(self.strip_log, proxy_mark, "stripped x-amz-version-id")
            self.summary.row(f"{title}: answers without a version id", "stripping proxy, "
                             f"--strip-version-id-every-nth-put {self.args.strip_every_nth}",
                             f"{len(answered)} PutObject answers stripped of x-amz-version-id; "
                             f"{searched} writes looked for in the history by what they wrote",
                             "each found, never taken for a bucket without versioning")
            if not answered:
                self.summary.anomaly(f"{title}: the stripping proxy stripped no answer (is it in "
                                     "the path?)")
        if lossy:
            faults = self.proxy_faults(proxy_mark)
            landed = sum(1 for line in faults if "the write landed" in line)
            self.summary.row(f"{title}: faults", f"fault proxy, --lose-every-nth-put {nth}",
                             f"{len(faults)} answers lost ({landed} of writes that landed, "
                             f"{len(faults) - landed} of refused ones); {recognised} writes "
                             f"recognised by their write id; PutObject: {own_puts} sent by catapult "
                             f"(debug logs), {server_puts} reached the server "
                             f"({server_puts - own_puts} SDK retries)",
                             "a write whose answer is lost is never written twice")
            if not faults:
                self.summary.anomaly(f"{title}: the fault proxy lost no answer (is it in the path?)")

        problems = []
        if twice:
            problems.append("commits stored more than once: " + ", ".join(
                f"{commit[:7] if commit else commit} x{n}" for commit, n in sorted(twice.items())))
        if duplicated:
            problems.append(f"numbers taken more than once: {duplicated} (all: {stored_numbers})")
        if lost:
            problems.append("outs reported success for records S3 does not hold: "
                            + ", ".join(c[:7] for c in lost))
        for problem in problems:
            message = f"{title}: {problem}"
            log(f"error: {message}")
            self.summary.broken.append(message)
        if not consecutive and not duplicated:
            self.summary.anomaly(f"{title}: stored numbers {stored_numbers}, not consecutive from 1")
        if errors:
            self.summary.anomaly(f"{title}: {racers - succeeded} of {racers} puts failed: {errors}")
        if failed_but_stored:
            # Its write landed, its answer was lost, and it could not find out (section 9: a
            # failed out writes nothing). A retry of that put then finds its commit released.
            self.summary.anomaly(f"{title}: outs that failed although their commit is stored "
                                 f"(their write landed): {', '.join(failed_but_stored)}")
        if len(records) != succeeded:
            self.summary.anomaly(f"{title}: {succeeded} succeeded but {len(records)} records stored")
        printed_numbers = sorted(number for number, _ in printed.values())
        if printed_numbers != sorted(r.get("version") for r in records
                                     if r.get("commit") in printed):
            self.summary.anomaly(f"{title}: the outs printed {printed_numbers}, "
                                 f"S3 holds {stored_numbers}")

    def make_long_repository(self, count: int) -> tuple[Path, str]:
        """A build directory holding a checkout `repo` of `count` + 1 commits in the changelog
        bench's layout (each commit changes services/api/file or, every other one,
        services/web/file), made with git fast-import, so packed as a clone is; and the sha of
        its root commit."""
        build = Path(tempfile.mkdtemp(dir=self.scratch, prefix="long-"))
        repo = build / "repo"
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.scratch)}

        def git(*args, stdin: bytes | None = None) -> str:
            return subprocess.run(["git", *args], cwd=repo, env=env, check=True, input=stdin,
                                  capture_output=True).stdout.decode().strip()

        repo.mkdir()
        git("init", "-q", "-b", "main")
        stream = []
        for n in range(count + 1):
            directory = "services/api" if n % 2 == 0 else "services/web"
            message, content = f"Change number {n}", f"change {n}\n"
            when = 1_700_000_000 + n * 60
            stream.append(f"commit refs/heads/main\nmark :{n + 1}\n"
                          f"author Bench Author <bench@example.com> {when} +0000\n"
                          f"committer Bench Author <bench@example.com> {when} +0000\n"
                          f"data {len(message)}\n{message}\n"
                          + (f"from :{n}\n" if n else "")
                          + f"M 100644 inline {directory}/file\ndata {len(content)}\n{content}\n")
        git("fast-import", "--quiet", stdin="".join(stream).encode())
        git("reset", "-q", "--hard", "main")
        return build, git("rev-list", "--max-parents=0", "HEAD")

    def paths_changelog_figures(self) -> None:
        """`out` cutting a release whose changelog spans 10,000 commits (the previous release
        at the root commit), with `changelog_paths: [services/api]` and without: peak memory
        (the goal: under 20 MB with paths) and wall time. Each run releases the root commit on
        a key of its own first, then the head, measured."""
        commits = 10_000
        log(f"--- out over {commits} commits, with and without changelog_paths")
        start = time.perf_counter()
        build, root = self.make_long_repository(commits)
        log(f"    made the repository in {time.perf_counter() - start:.1f} s")
        bucket = new_bucket(self.s3, "paths")
        runs = max(self.args.peak_runs, 3)
        for paths, listed in (([], commits), (["services/api"], commits // 2)):
            label = "changelog_paths: [services/api]" if paths else "no changelog_paths"
            peaks, seconds = [], []
            for index in range(runs):
                name = f"{'paths' if paths else 'all'}-{index}"
                source = self.source(bucket, name)
                expect_success(self.binaries.run("out", {"source": source, "params": {
                    "repository": "repo", "commit": root}}, build), "out (the root commit)")
                params = {"repository": "repo"}
                if paths:
                    params["changelog_paths"] = paths
                report = self.scratch / f"time-{uuid.uuid4().hex}.txt"
                run = expect_success(
                    self.binaries.run("out", {"source": source, "params": params}, build,
                                      wrapper=["/usr/bin/time", "-v", "-o", str(report)]
                                      if Path("/usr/bin/time").exists() else None),
                    f"out over {commits} commits, {label}")
                seconds.append(run.seconds)
                peak = read_peak(report) if report.exists() else None
                if peak is not None:
                    peaks.append(peak)
                record = json.loads(self.s3.get_object(Bucket=bucket, Key=name)["Body"].read())
                if len(record.get("commits", [])) != listed:
                    self.summary.anomaly(f"out over {commits} commits, {label}: the record lists "
                                         f"{len(record.get('commits', []))} commits, not {listed}")
            self.memory_row(f"out, release, {label}",
                            f"changelog of {commits:,} commits ({listed:,} kept), packed repo",
                            max(peaks) if peaks else None, runs)
            self.summary.row(f"out, release, {label}: wall time",
                             f"changelog of {commits:,} commits ({listed:,} kept), {runs} runs",
                             f"median {ms(statistics.median(seconds))}")

    def proxy_faults(self, mark: int) -> list[str]:
        """The fault proxy's lines about lost answers since `mark`."""
        return self.proxy_lines(self.proxy_log, mark, "lost the answer")

    @staticmethod
    def proxy_lines(path: Path | None, mark: int, needle: str) -> list[str]:
        """A proxy's log lines since `mark` that hold `needle`."""
        if not path:
            return []
        time.sleep(0.1)
        with open(path, "rb") as handle:
            handle.seek(mark)
            text = handle.read().decode("utf-8", "replace")
        return [line for line in text.splitlines() if needle in line]

    def changelog_bench(self) -> None:
        bench = self.root / "crates/catapult-core/benches/changelog.rs"
        if not bench.exists():
            self.summary.row("changelog over 10,000 commits", "cargo bench --bench changelog",
                             "changelog bench: not present yet", "< 100 ms")
            return
        log("--- cargo bench -p catapult-core --bench changelog")
        process = subprocess.run(["cargo", "bench", "-p", "catapult-core", "--bench", "changelog",
                                  "--locked"], cwd=self.root, stdout=subprocess.PIPE, text=True)
        output = [line for line in process.stdout.splitlines() if line.strip()]
        for line in output:
            log(f"    {line}")
        if process.returncode != 0:
            self.summary.broken.append(f"the changelog bench failed (exit {process.returncode})")
            self.summary.row("changelog over 10,000 commits", "cargo bench --bench changelog",
                             f"FAILED (exit {process.returncode})", "< 100 ms")
            return
        figures = [line for line in output if "median" in line]
        if not figures:
            self.summary.row("changelog over 10,000 commits", "cargo bench --bench changelog",
                             " / ".join(output[-3:]) or "(printed nothing)", "< 100 ms")
        for line in figures:
            # "<what>: <figures>", and <what> may hold colons of its own ("changelog_paths:
            # [services/api]"); so may the side-by-side line's figures ("pairs: ...").
            beside_git = "beside git log" in line
            if beside_git:
                what, _, value = line.rpartition(": median")
                value = "median" + value
            else:
                what, _, value = line.rpartition(": ")
            self.summary.row(what.strip(), "cargo bench -p catapult-core --bench changelog",
                             value.strip(), "within 1.5x of git log" if beside_git else "< 100 ms")
            ratio = re.search(r"ratio ([\d.]+)x", value)
            if beside_git and ratio and float(ratio.group(1)) > 1.5:
                self.summary.anomaly(f"{what.strip()}: {ratio.group(1)}x git log's time (> 1.5x)")
            elif beside_git and not ratio:
                self.summary.anomaly(f"{what.strip()}: no ratio printed: {value.strip()}")
        for line in output:
            if "not measured" in line:
                self.summary.row(line.partition(":")[0], "cargo bench -p catapult-core --bench changelog",
                                 line.partition(":")[2].strip(), "within 1.5x of git log")
        self.summary.notes += [f"changelog bench: {line}" for line in output
                               if "median" not in line and "not measured" not in line]

    # --- catapult status: the board ---------------------------------------------------------

    def status_figures(self) -> None:
        """`catapult status` over PROJECTS applications in 3 environments, each environment in a
        bucket of its own (the older tool's layout, so that both tools read the same buckets):
        cold (an empty cache) and warm; beside it, the server's floor (the same GETs, 50 at a
        time, by a plain HTTP client) and the older tool's `projects.ls`, emulated (see
        OLD_PROJECTS_LS)."""
        catapult = self.binaries.path("catapult")
        if not catapult.exists():
            self.summary.notes.append(f"{catapult} is not built: catapult status not measured.")
            return
        projects, environments = self.args.status_projects, ["staging", "qa", "production"]
        label = f"{projects} apps x {len(environments)} envs"
        log(f"--- catapult status: {label}")
        releases = new_bucket(self.s3, "status")
        buckets = {env: new_bucket(self.s3, env[:4]) for env in environments}
        for index in range(projects):
            name = f"app-{index:03d}"
            latest = 3 + index % 5
            for number in range(1, latest + 1):
                self.s3.put_object(Bucket=releases, Key=name, Body=record_body(number))
            for offset, env in enumerate(environments):
                self.s3.put_object(Bucket=buckets[env], Key=name,
                                   Body=record_body(max(1, latest - offset)))
        home = self.scratch / "status-home"
        home.mkdir()
        config = home / "catapult.toml"
        config.write_text(f'[release]\ns3_bucket = "{releases}"\n' + "".join(
            f'[deploy.{env}]\ns3_bucket = "{bucket}"\n' for env, bucket in buckets.items()))
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

        def run(cache: Path, wrapper: list[str] | None = None) -> Run:
            argv = list(wrapper or []) + [str(catapult), "status", "--json",
                                          "--config", str(config)]
            start = time.perf_counter()
            process = subprocess.run(argv, cwd=home, capture_output=True, text=True,
                                     env={**environment, "XDG_CACHE_HOME": str(cache)})
            seconds = time.perf_counter() - start
            result = Run(process.returncode, process.stdout, process.stderr, seconds)
            expect_success(result, "catapult status")
            rows = result.json()
            if len(rows) != projects * (1 + len(environments)):
                raise BrokenRun(f"catapult status printed {len(rows)} rows")
            return result

        def fresh_cache() -> Path:
            return Path(tempfile.mkdtemp(dir=self.scratch, prefix="cache-"))

        # Requests, cold then warm, from the server's log.
        warm_cache = fresh_cache()
        mark = self.server_log.mark()
        run(warm_cache)
        cold_requests = self.server_log.requests_since(mark)
        mark = self.server_log.mark()
        run(warm_cache)
        warm_requests = self.server_log.requests_since(mark)
        self.summary.row("catapult status: S3 requests, cold", label,
                         f"{len(cold_requests)} ({shape_counts(cold_requests)})",
                         "listings + one GET per record")
        self.summary.row("catapult status: S3 requests, warm", label,
                         f"{len(warm_requests)} ({shape_counts(warm_requests)})",
                         f"about one per bucket ({1 + len(environments)})")

        runs = self.args.status_runs
        cold = statistics.median(run(fresh_cache()).seconds for _ in range(runs))
        warm = statistics.median(run(warm_cache).seconds for _ in range(runs))
        gets = [line for line in cold_requests if line.startswith("GET ")
                and "list-type=2" not in line]
        floor = statistics.median(parallel_gets(self.port, gets, 50) for _ in range(runs))
        old = statistics.median(old_projects_ls(self.endpoint, releases, buckets)
                                for _ in range(max(3, runs // 2)))
        self.summary.row("catapult status: median wall time, cold", label, ms(cold),
                         f"within 2x the server's floor ({ms(2 * floor)}): "
                         + ("met" if cold <= 2 * floor else "NOT met"))
        self.summary.row("catapult status: median wall time, warm", label, ms(warm),
                         "under 500 ms: " + ("met" if warm < 0.5 else "NOT met"))
        self.summary.row("server's floor: the cold run's GETs, 50 at a time", label, ms(floor))
        self.summary.row("older tool's projects.ls (emulated)", label, ms(old),
                         f"warm at least 20x faster: {old / warm:.1f}x "
                         + ("met" if old >= 20 * warm else "NOT met"))
        for what, cache in (("cold", fresh_cache), ("warm", lambda: warm_cache)):
            peak = largest_peak(self.scratch, lambda wrapper: run(cache(), wrapper))
            if peak is not None:
                self.summary.row(f"catapult status: peak memory, {what}", label,
                                 f"{peak / 1024:.1f} MB",
                                 "under 20 MB: " + ("met" if peak < 20 * 1024 else "NOT met"))
        self.summary.notes.append(
            "catapult status: cold runs start from an empty cache directory; warm runs from one "
            "a previous run filled. The older tool (tessian/catapult, a Python CLI) is not "
            "installable here: its projects.ls is emulated with boto3 in a Python process of its "
            "own, doing what it does: one ListObjectsV2 of the release bucket, then for each "
            "application its latest release and each environment's current deploy, one GetObject "
            "after the other (OLD_PROJECTS_LS in ci/lib/bench.py).")


    # --- catapult metrics and tickets: whole histories ------------------------------------

    def questions_figures(self) -> None:
        """`catapult metrics` and `catapult tickets` over PROJECTS applications x 3 environments x
        DEPLOYS deploys each (and as many releases), at the default layout: cold (an empty
        cache: the board's listing and GETs, then each key's versions listed and every record
        read) and warm (the cache holds every history: the listing alone). Beside the cold run,
        the server's own time for the same requests, 32 at a time (the command's concurrency)."""
        catapult = self.binaries.path("catapult")
        if not catapult.exists():
            self.summary.notes.append(f"{catapult} is not built: metrics and tickets not measured.")
            return
        projects, deploys = self.args.questions_projects, self.args.questions_deploys
        environments = questions_at_scale.ENVIRONMENTS
        label = f"{projects} apps x {len(environments)} envs x {deploys} deploys"
        log(f"--- catapult metrics and tickets: {label} (seeding {projects * deploys * 4} records)")
        bucket = new_bucket(self.s3, "questions")
        began = time.perf_counter()
        questions_at_scale.seed(self.endpoint, ACCESS_KEY, SECRET_KEY, bucket, projects, deploys)
        log(f"    seeded in {time.perf_counter() - began:.0f} s")
        home = self.scratch / "questions-home"
        home.mkdir()
        config = home / "catapult.toml"
        config.write_text(f'[release]\ns3_bucket = "{bucket}"\n' + "".join(
            f"[deploy.{env}]\n" for env in environments))
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

        def run(command: list[str], cache: Path, wrapper: list[str] | None = None) -> Run:
            argv = list(wrapper or []) + [str(catapult), *command, "--json",
                                          "--config", str(config)]
            began = time.perf_counter()
            process = subprocess.run(argv, cwd=home, capture_output=True, text=True,
                                     env={**environment, "XDG_CACHE_HOME": str(cache)})
            result = Run(process.returncode, process.stdout, process.stderr,
                         time.perf_counter() - began)
            expect_success(result, "catapult " + " ".join(command))
            answer = result.json()
            if command[0] == "metrics" and len(answer) != projects * len(environments):
                raise BrokenRun(f"catapult metrics printed {len(answer)} rows")
            if command[0] == "tickets" and len(answer) != projects:
                raise BrokenRun(f"catapult tickets printed {len(answer)} applications")
            return result

        def fresh_cache() -> Path:
            return Path(tempfile.mkdtemp(dir=self.scratch, prefix="cache-"))

        runs = self.args.status_runs
        for command, what in ((["metrics"], "metrics"),
                              (["tickets", f"OPS-{deploys // 2}"], "tickets")):
            warm_cache = fresh_cache()
            mark = self.server_log.mark()
            cold_run = run(command, warm_cache)
            cold_requests = self.server_log.requests_since(mark)
            mark = self.server_log.mark()
            run(command, warm_cache)
            warm_requests = self.server_log.requests_since(mark)
            listed = sum(1 for line in cold_requests if "versions" in line)
            reads = sum(1 for line in cold_requests if "versionId=" in line)
            self.summary.row(f"catapult {what}: S3 requests, cold", label,
                             f"{len(cold_requests)} ({listed} ListObjectVersions pages, "
                             f"{reads} GetObject of a version, the rest the board's)",
                             "the board's, plus each history's pages and records")
            self.summary.row(f"catapult {what}: S3 requests, warm", label,
                             f"{len(warm_requests)} ({shape_counts(warm_requests)})",
                             "the board's listing alone")
            cold = statistics.median([cold_run.seconds] + [run(command, fresh_cache()).seconds
                                                           for _ in range(max(1, runs // 3))])
            warm = statistics.median(run(command, warm_cache).seconds for _ in range(runs))
            floor = statistics.median(parallel_gets(self.port, [
                line for line in cold_requests if line.startswith("GET ")], 32)
                for _ in range(3))
            self.summary.row(f"catapult {what}: median wall time, cold", label, ms(cold),
                             f"within 2x the server's time for the same requests "
                             f"({ms(floor)}): " + ("met" if cold <= 2 * floor else "NOT met"))
            self.summary.row(f"catapult {what}: median wall time, warm", label, ms(warm),
                             "under 500 ms: " + ("met" if warm < 0.5 else "NOT met"))
            peak = largest_peak(self.scratch,
                                lambda wrapper: run(command, warm_cache, wrapper))
            if peak is not None:
                self.summary.row(f"catapult {what}: peak memory, warm", label,
                                 f"{peak / 1024:.1f} MB",
                                 "under 20 MB: " + ("met" if peak < 20 * 1024 else "NOT met"))
            files = list(warm_cache.glob("catapult/histories-v1/*/*.json"))
            if not files:
                raise BrokenRun(f"catapult {what} left no histories in its cache")
            self.summary.row(f"catapult {what}: the histories cache", label,
                             f"{len(files)} files, {sum(f.stat().st_size for f in files) / 1e6:.1f} MB")

    def flatness(self) -> None:
        for what, points in self.own_times.items():
            points.sort()
            (small, first), (large, last) = points[0], points[-1]
            if large > small and last > 2 * first + 0.005:
                self.summary.anomaly(f"{what}: the binary's own time grows with the history: "
                                     f"{ms(first)} at {small} versions, {ms(last)} at {large}")

    def main(self) -> int:
        load_before = load_average()
        try:
            if self.strace is None:
                self.summary.notes.append("strace is not installed: 'process start to first "
                                          "request' is not measured.")
            if self.args.only in (None, "resource"):
                self.binary_sizes()
                self.image_figures()
                for size in self.args.sizes:
                    self.history_figures(size)
                self.flatness()
                self.out_figures()
            if self.args.only in (None, "resource", "changelog"):
                self.paths_changelog_figures()
                if self.args.quick:
                    self.summary.row("changelog over 10,000 commits",
                                     "cargo bench --bench changelog", "not run (--quick)",
                                     "< 100 ms; with paths, within 1.5x of git log")
                else:
                    self.changelog_bench()
            if self.args.only == "stores":
                self.stores_figures()
            if self.args.only in (None, "status"):
                self.status_figures()
            if self.args.only in (None, "questions"):
                self.questions_figures()
        except BrokenRun as err:
            self.summary.broken.append(str(err).splitlines()[0])
            log(f"error: {err}")
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)
        resource_notes = [
            "Requests are counted twice: lines the server (moto) logged during one run, and "
            "the 'S3 <Operation>' debug lines the binary wrote with debug: true.",
            "Wall time is spawn to exit, as a Concourse worker sees it, against moto on loopback. "
            "The server's share is the same requests (from the server log) replayed by a plain "
            "HTTP client between the runs. moto deep-copies every version of the bucket on each "
            "ListObjectVersions, so its share grows with the history; S3's does not. The binary's "
            "own time is execve to exit_group less the time blocked in epoll_wait, under strace: "
            "the figure that shows whether the binary itself stays flat.",
            "Every endpoint here is a custom one, so each `out` that writes verifies its write with "
            "one listing more (section 12); on AWS S3 itself (no endpoint) that listing is skipped.",
            "Image sizes are the last ci/image-test's (target/image-test/sizes.json), shown only "
            "while its images are still in the engine; the images hold the static executable "
            "ci/image-test built, the binary size row the one ci/bench built here.",
            "out over 10,000 commits: a repository made with git fast-import (packed, as a clone "
            "is), the previous release at its root commit; each run a key of its own.",
            "Racing puts: distinct commits of one repository, force: true and allow_rollback: true, "
            "so that a write not recognised as its own would show as a second record of its commit. "
            "Through the fault proxy every request is forwarded byte for byte (signatures hold); "
            "every nth PutObject is answered by the server, then its connection is dropped "
            "without the answer.",
            "409 race: the conflict proxy answers every nth conditional PutObject itself with 409 "
            "ConditionalRequestConflict (S3's answer while another conditional write to the key "
            "is in flight) and does not forward it; catapult retries it as a lost race. The "
            "stripping proxy forwards everything and drops x-amz-version-id from every nth "
            "PutObject answer: the write landed, and catapult must find it by what it wrote.",
            "Ceph RGW race: each round's writers are outs of distinct commits (no force) on a new "
            "key, each started and held on its stdin, then released together; a duplicate left is "
            "any record beyond the first at the key after the round.",
        ]
        if self.args.only in (None, "resource", "stores"):
            self.summary.notes += resource_notes
        self.summary.notes += [
            f"Load average (1, 5, 15 min) at the start: {load_before}; at the end: "
            f"{load_average()}; {os.cpu_count()} CPUs. Timings are only as quiet as the machine.",
            f"Peak memory is /usr/bin/time -v's maximum resident set size, the largest of "
            f"{self.args.peak_runs} runs.",
            f"Binaries: {self.args.bin_dir}.",
        ]
        if self.args.quick:
            self.summary.notes.append("--quick: fewer runs and shorter histories; the figures "
                                      "are rougher than a full run's.")
        self.summary.print()
        return 1 if self.summary.broken else 0


# The older tool's `projects.ls`, as it reads the buckets (tessian/catapult, catapult/projects.py
# and release.py): one listing of the release bucket, then, one after the other, each
# application's current release object and each environment's current deploy object. Run as a
# Python process of its own, as the older tool is, so its start-up (boto3's import) counts.
OLD_PROJECTS_LS = r"""
import json, sys
import boto3
from botocore.config import Config
endpoint, releases, buckets = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing",
                      config=Config(s3={"addressing_style": "path"}))
names = sorted(o["Key"] for o in client.list_objects_v2(Bucket=releases).get("Contents", []))
rows = []
for name in names:
    release = json.loads(client.get_object(Bucket=releases, Key=name)["Body"].read())
    rows.append((name, "release", release["version"], 0))
    for env, bucket in buckets.items():
        deploy = json.loads(client.get_object(Bucket=bucket, Key=name)["Body"].read())
        rows.append((name, env, deploy["version"], release["version"] - deploy["version"]))
print(len(rows))
"""


def old_projects_ls(endpoint: str, releases: str, buckets: dict[str, str]) -> float:
    start = time.perf_counter()
    process = subprocess.run([sys.executable, "-c", OLD_PROJECTS_LS, endpoint, releases,
                              json.dumps(buckets)], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise BrokenRun(f"the older tool's projects.ls (emulated): {process.stderr.strip()}")
    return seconds


def parallel_gets(port: int, requests: list[str], at_once: int) -> float:
    """The same GETs, `at_once` at a time, each on its own connection, by a plain HTTP client:
    what the server itself takes to serve a board's reads in parallel."""
    from concurrent.futures import ThreadPoolExecutor

    def get(line: str) -> None:
        replayed(port, "GET", line.split(" ", 2)[1])

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        list(pool.map(get, requests))
    return time.perf_counter() - start


def shape_counts(requests: list[str]) -> str:
    """How many of each kind: ListObjectsV2, GetObject."""
    listings = sum(1 for line in requests if "list-type=2" in line)
    gets = sum(1 for line in requests if line.startswith("GET ")) - listings
    others = len(requests) - listings - gets
    text = f"{listings} ListObjectsV2, {gets} GetObject"
    return text + (f", {others} other" if others else "")



def anonymous(requests: list[str]) -> str:
    """Requests with the bucket and version ids replaced, to show their shape."""
    shapes = []
    for line in requests:
        line = re.sub(r"/bench-[a-z0-9]+-[0-9a-f]{10}", "/<bucket>", line)
        line = re.sub(r"versionId=[^& ]+", "versionId=<id>", line)
        shapes.append(line)
    return "; ".join(shapes) or "none"


def shown_path(path: Path, root: Path) -> str:
    """`path` relative to the workspace when it is inside it (target/release/out), else whole
    (a CARGO_TARGET_DIR elsewhere)."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def compact(numbers: list[int]) -> str:
    if not numbers:
        return "none"
    if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
        return f"{numbers[0]}..{numbers[-1]}"
    return ",".join(map(str, numbers))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", required=True, help="the workspace root")
    parser.add_argument("--bin-dir", required=True, help="where check, in and out are")
    parser.add_argument("--server-log", required=True, help="the local S3 server's log file")
    parser.add_argument("--quick", action="store_true",
                        help="a try in a couple of minutes: 3 runs, histories of 10 and 100 "
                             "versions, no changelog bench (any option given still wins)")
    parser.add_argument("--runs", type=int, help="timed runs of check and in (default 20)")
    parser.add_argument("--out-runs", type=int, help="timed runs of out (default 10)")
    parser.add_argument("--peak-runs", type=int, help="runs under /usr/bin/time (default 3)")
    parser.add_argument("--strace-runs", type=int, help="runs under strace (default 5)")
    parser.add_argument("--racers", type=int, default=16, help="concurrent outs on one key")
    parser.add_argument("--sizes", type=int, nargs="+",
                        help="history lengths (default 10 10000)")
    parser.add_argument("--fault-proxy", metavar="URL",
                        help="the fault proxy in front of the server (ci/lib/fault_proxy.py): "
                             "the racing puts run through it too")
    parser.add_argument("--fault-proxy-log", metavar="FILE", help="the fault proxy's stderr")
    parser.add_argument("--lose-every-nth-put", type=int, default=3, metavar="N",
                        help="the fault proxy's rule, for the figures' labels")
    parser.add_argument("--conflict-proxy", metavar="URL",
                        help="a fault proxy that answers every nth conditional PutObject with "
                             "409 ConditionalRequestConflict: the 409 race runs through it")
    parser.add_argument("--conflict-proxy-log", metavar="FILE",
                        help="the conflict proxy's stderr")
    parser.add_argument("--conflict-every-nth", type=int, default=3, metavar="N",
                        help="the conflict proxy's rule, for the figures' labels")
    parser.add_argument("--conflict-racers", type=int, default=48,
                        help="concurrent outs on one key through the conflict proxy")
    parser.add_argument("--strip-proxy", metavar="URL",
                        help="a fault proxy that strips x-amz-version-id from every nth "
                             "PutObject answer: a racing run goes through it")
    parser.add_argument("--strip-proxy-log", metavar="FILE", help="the stripping proxy's stderr")
    parser.add_argument("--strip-every-nth", type=int, default=2, metavar="N",
                        help="the stripping proxy's rule, for the figures' labels")
    parser.add_argument("--rgw-rounds", type=int,
                        help="rounds of 2 and of 8 writers on Ceph RGW (default 5, each)")
    parser.add_argument("--status-projects", type=int, default=50,
                        help="applications on the board of catapult status")
    parser.add_argument("--status-runs", type=int,
                        help="timed runs of catapult status, cold and warm (default 10)")
    parser.add_argument("--image-sizes", metavar="FILE",
                        help="what the last ci/image-test measured (target/image-test/sizes.json)")
    parser.add_argument("--only", choices=["resource", "changelog", "status", "questions", "stores"],
                        help="only the resource's figures, only the changelog's (the cargo bench "
                             "beside git log, and out over 10,000 commits), catapult status's, "
                             "those of catapult metrics and tickets, or the stores' (requests per "
                             "write, the 409 race, Ceph RGW's true race)")
    parser.add_argument("--questions-projects", type=int, default=50,
                        help="applications of catapult metrics and tickets")
    # 200 is the size the questions are meant for (40,000 records), but moto cannot hold it: it
    # copies every version of the bucket on each ListObjectVersions, answered about 20 GetObject
    # a second at 40,000 versions and was killed for memory (24 GB) at 10,000. 10 keeps it well
    # inside what moto holds; the README gives what each size costs.
    parser.add_argument("--questions-deploys", type=int, default=10,
                        help="deploys to each environment of each application (and releases)")
    args = parser.parse_args()
    quick = args.quick
    for name, full, small in (("runs", 20, 3), ("out_runs", 10, 3), ("peak_runs", 3, 1),
                              ("strace_runs", 5, 3), ("sizes", [10, 10_000], [10, 100]),
                              ("status_runs", 10, 3), ("rgw_rounds", 5, 2)):
        if getattr(args, name) is None:
            setattr(args, name, small if quick else full)
    return Bench(args).main()


if __name__ == "__main__":
    sys.exit(main())
