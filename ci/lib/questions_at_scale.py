#!/usr/bin/env python3
"""`catapult metrics` and `tickets` over 50 applications x 3 environments x DEPLOYS deploys and
as many releases in one bucket, at the default layout (ci/bench-questions-at-scale starts the
store). Seeds the records as ci/lib/bench.py's questions do (two commits each, with their times
and tickets; every tenth deploy to production a rollback), then runs the real executable as a
person would and prints, a line each: metrics cold (an empty cache), warm three times, tickets
with the histories metrics cached, and the cache's size. Wall time is spawn to exit; peak memory
is /usr/bin/time -v's maximum resident set size."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import boto3

ENVIRONMENTS = ["staging", "qa", "production"]
PROJECTS = 50


def client(endpoint: str, key: str, secret: str):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key,
                        aws_secret_access_key=secret, region_name="us-east-1")


def stamp(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def seed(endpoint: str, key: str, secret: str, bucket: str, projects: int,
         deploys: int) -> None:
    """`projects` applications with `deploys` releases each and a deploy of each to every
    environment, a month's worth, the newest a minute old (ci/lib/bench.py seeds its questions
    with this too)."""
    start = int(time.time()) - 29 * 86_400
    step = (29 * 86_400) // max(deploys, 1)

    def seed_app(index: int) -> None:
        s3 = client(endpoint, key, secret)
        name = f"app-{index:03d}"
        for number in range(1, deploys + 1):
            at = start + number * step
            commits = [f"{index:08x}{number:08x}{k:024x}" for k in range(2)]
            body = {
                "version": number, "commit": commits[0], "image": None,
                "author": "bench@example.com",
                "changelog": "\n".join(f"{c[:7]}  2026-11-20  Bench  OPS-{number}: change"
                                       for c in commits),
                "commits": commits,
                "commit_times": [stamp(at - 3600 * (k + 1)) for k in range(2)],
                "tickets": [f"OPS-{number}"], "timestamp": stamp(at - 60),
                "rollback": False, "action_type": "automated", "highest_version": number,
            }
            s3.put_object(Bucket=bucket, Key=name, Body=json.dumps(body).encode())
            for offset, environment in enumerate(ENVIRONMENTS):
                back = environment == "production" and number % 10 == 0 and number > 1
                deployed = dict(body, version=number - 1 if back else number, rollback=back,
                                environment=environment, timestamp=stamp(at + 600 * offset))
                s3.put_object(Bucket=bucket, Key=f"deploys/{environment}/{name}",
                              Body=json.dumps(deployed).encode())

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(seed_app, range(projects)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--catapult", required=True, help="the release executable")
    parser.add_argument("--scratch", required=True, help="a directory for the home and cache")
    parser.add_argument("--deploys", type=int, default=200)
    args = parser.parse_args()
    key = os.environ.get("CATAPULT_TEST_ACCESS_KEY_ID", "test")
    secret = os.environ.get("CATAPULT_TEST_SECRET_ACCESS_KEY", "test")
    bucket = "questions-at-scale"
    s3 = client(args.endpoint, key, secret)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    began = time.perf_counter()
    seed(args.endpoint, key, secret, bucket, PROJECTS, args.deploys)
    print(f"seeded {PROJECTS * args.deploys * 4} records in {time.perf_counter() - began:.0f} s",
          file=sys.stderr, flush=True)

    home = tempfile.mkdtemp(dir=args.scratch, prefix="home-")
    cache = tempfile.mkdtemp(dir=args.scratch, prefix="cache-")
    config = os.path.join(home, "catapult.toml")
    with open(config, "w") as file:
        file.write(f'[release]\ns3_bucket = "{bucket}"\n'
                   + "".join(f"[deploy.{environment}]\n" for environment in ENVIRONMENTS))
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
        "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_ENDPOINT_URL_S3": args.endpoint, "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true", "XDG_CACHE_HOME": cache,
    }
    failed = False

    def run(command: list[str], label: str, rows: int) -> None:
        nonlocal failed
        report = os.path.join(home, "time.txt")
        began = time.perf_counter()
        process = subprocess.run(
            ["/usr/bin/time", "-v", "-o", report, args.catapult, *command, "--json",
             "--config", config], cwd=home, env=environment, capture_output=True, text=True)
        seconds = time.perf_counter() - began
        peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(report).read())
        if process.returncode != 0 or len(json.loads(process.stdout)) != rows:
            failed = True
            print(f"{label}: FAILED (exit {process.returncode}): "
                  f"{process.stderr.strip().splitlines()[-1:]}")
            return
        print(f"{label}: {seconds * 1000:.0f} ms, peak {int(peak.group(1)) / 1024:.1f} MB",
              flush=True)

    size = f"{PROJECTS} apps x {len(ENVIRONMENTS)} envs x {args.deploys} deploys"
    print(f"catapult metrics and tickets over {size} ({PROJECTS * args.deploys * 4} records), "
          "LocalStack's S3 on loopback")
    rows = PROJECTS * len(ENVIRONMENTS)
    run(["metrics"], "metrics, cold (every record read once)", rows)
    for _ in range(3):
        run(["metrics"], "metrics, warm (target: under 500 ms, under 20 MB)", rows)
    for _ in range(2):
        run(["tickets", f"OPS-{args.deploys // 2}"], "tickets, histories cached", PROJECTS)
    total = sum(os.path.getsize(os.path.join(folder, name))
                for folder, _, names in os.walk(cache) for name in names)
    print(f"the histories cache: {total / 1e6:.1f} MB")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
          f"{os.cpu_count()} CPUs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
