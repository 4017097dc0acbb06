"""What one S3-compatible store does with the requests catapult depends on, as JSON lines.

Run it with the moto venv's python (it has boto3) against a server that one of the ci/lib helpers
started, which exports the CATAPULT_TEST_* variables this reads:

    . ci/lib/localstack.sh && localstack_install && localstack_start "$log"
    .venv/bin/python ci/lib/store_probe.py

It makes a bucket of its own, turns versioning on, then writes one line per question:

- the raw root element of GetBucketVersioning's body, and the status the SDK reads from it, before
  and after versioning is enabled;
- a PutObject's x-amz-version-id;
- ListObjectVersions: newest first or not, IsLatest on the first entry, and the paging markers
  (NextKeyMarker, NextVersionIdMarker) with MaxKeys=2 over 5 versions;
- conditional writes: If-None-Match: * on an existing key, If-Match with the current ETag (quoted,
  as S3 sends it, and unquoted) and with a wrong one, and both over a delete marker;
- the error codes of a GetObject on a missing bucket, key and version;
- how the store takes the checksums the AWS SDKs send by default (a CRC32 header, and the
  aws-chunked body with a trailing checksum that the Rust SDK streams), and DeleteObjects with a
  CRC32 and no Content-MD5.

The client is set up like catapult's (path-style, checksums only when required, no retries), so
what it sees is what the Rust SDK will see. It deletes what it wrote, bucket included. It exits 0
whatever the store answers: the answers are the output.
"""

import base64
import http.client
import json
import os
import sys
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
import zlib

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

ENDPOINT = os.environ["CATAPULT_TEST_ENDPOINT"]
ACCESS_KEY = os.environ.get("CATAPULT_TEST_ACCESS_KEY_ID", "testing")
SECRET_KEY = os.environ.get("CATAPULT_TEST_SECRET_ACCESS_KEY", "testing")
REGION = os.environ.get("CATAPULT_TEST_REGION", "us-east-1")
STORE = os.environ.get("CATAPULT_TEST_STORE", "unknown")

KEY = "app/release.json"
# A version ID of S3's form that no store has made.
MISSING_VERSION_ID = "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"


def report(check, **fields):
    print(json.dumps({"store": STORE, "check": check, **fields}), flush=True)


def client(checksums="when_required"):
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation=checksums,
            response_checksum_validation="when_required",
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        ),
    )


def status_of(call):
    """(HTTP status, error code or None, response) of one SDK call, errors included."""
    try:
        response = call()
        return response["ResponseMetadata"]["HTTPStatusCode"], None, response
    except ClientError as err:
        return (
            err.response["ResponseMetadata"].get("HTTPStatusCode"),
            err.response.get("Error", {}).get("Code"),
            err.response,
        )


def header(response, name):
    return response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get(name)


def versions_of(s3, bucket, key):
    """Every entry (versions and delete markers) under the key, in list order of each kind."""
    listing = s3.list_object_versions(Bucket=bucket, Prefix=key)
    return listing.get("Versions", []), listing.get("DeleteMarkers", [])


def probe_versioning(s3, bucket, check):
    raw = {}

    def keep_body(response_dict, **_):
        raw["body"] = response_dict.get("body", b"")

    s3.meta.events.register("before-parse.s3.GetBucketVersioning", keep_body)
    status, code, response = status_of(lambda: s3.get_bucket_versioning(Bucket=bucket))
    s3.meta.events.unregister("before-parse.s3.GetBucketVersioning", keep_body)
    body = raw.get("body", b"")
    try:
        root = ET.fromstring(body).tag
    except ET.ParseError:
        root = None
    report(
        check,
        http_status=status,
        error=code,
        root_element=root,
        sdk_status=response.get("Status"),
        body=body.decode("utf-8", "replace")[:300],
    )


def probe_listing(s3, bucket):
    written = []
    for n in range(5):
        response = s3.put_object(Bucket=bucket, Key=KEY, Body=json.dumps({"n": n}).encode())
        written.append(response.get("VersionId"))
        if n == 0:
            report(
                "put_object_version_id",
                x_amz_version_id=header(response, "x-amz-version-id"),
                etag=response.get("ETag"),
            )
    versions, _ = versions_of(s3, bucket, KEY)
    listed = [v["VersionId"] for v in versions]
    report(
        "list_object_versions_order",
        count=len(listed),
        newest_first=listed == written[::-1],
        oldest_first=listed == written,
        first_is_latest=bool(versions and versions[0].get("IsLatest")),
        is_latest_flags=[v.get("IsLatest") for v in versions],
    )

    pages, seen, markers = [], [], {}
    for _ in range(10):
        response = s3.list_object_versions(Bucket=bucket, Prefix=KEY, MaxKeys=2, **markers)
        page = [v["VersionId"] for v in response.get("Versions", [])]
        seen += page
        pages.append(
            {
                "entries": len(page),
                "is_truncated": response.get("IsTruncated"),
                "next_key_marker": response.get("NextKeyMarker"),
                "next_version_id_marker_present": bool(response.get("NextVersionIdMarker")),
                "next_marker_is_last_entry": bool(page)
                and response.get("NextVersionIdMarker") == page[-1],
            }
        )
        if not response.get("IsTruncated"):
            break
        if not response.get("NextKeyMarker"):
            break
        markers = {
            "KeyMarker": response["NextKeyMarker"],
            "VersionIdMarker": response.get("NextVersionIdMarker", ""),
        }
    report(
        "list_object_versions_paging",
        max_keys=2,
        pages=pages,
        walked_all=seen == listed,
    )


def probe_conditions(s3, bucket):
    def count():
        return len(versions_of(s3, bucket, KEY)[0])

    before = count()
    status, code, _ = status_of(
        lambda: s3.put_object(Bucket=bucket, Key=KEY, Body=b"{}", IfNoneMatch="*")
    )
    report(
        "put_if_none_match_existing",
        http_status=status,
        error=code,
        honoured=status == 412,
        new_version_written=count() > before,
    )

    status, code, _ = status_of(
        lambda: s3.put_object(Bucket=bucket, Key="app/new.json", Body=b"{}", IfNoneMatch="*")
    )
    report("put_if_none_match_absent", http_status=status, error=code)

    etag = s3.head_object(Bucket=bucket, Key=KEY)["ETag"]
    before = count()
    status, code, response = status_of(
        lambda: s3.put_object(Bucket=bucket, Key=KEY, Body=b'{"n":"match"}', IfMatch=etag)
    )
    report(
        "put_if_match_current",
        http_status=status,
        error=code,
        etag_sent=etag,
        new_version_written=count() > before,
        version_id=response.get("VersionId"),
    )

    # The same ETag without its quotes, as some stores compare it.
    etag = s3.head_object(Bucket=bucket, Key=KEY)["ETag"]
    before = count()
    status, code, _ = status_of(
        lambda: s3.put_object(
            Bucket=bucket, Key=KEY, Body=b'{"n":"unquoted"}', IfMatch=etag.strip('"')
        )
    )
    report(
        "put_if_match_current_unquoted",
        http_status=status,
        error=code,
        etag_sent=etag.strip('"'),
        new_version_written=count() > before,
    )

    etag = s3.head_object(Bucket=bucket, Key=KEY)["ETag"]
    before = count()
    status, code, _ = status_of(
        lambda: s3.put_object(
            Bucket=bucket, Key=KEY, Body=b"{}", IfMatch='"0123456789abcdef0123456789abcdef"'
        )
    )
    report(
        "put_if_match_wrong",
        http_status=status,
        error=code,
        honoured=status == 412,
        new_version_written=count() > before,
    )

    # A delete marker on top: S3 takes the key as absent for If-None-Match and If-Match.
    deleted = s3.delete_object(Bucket=bucket, Key=KEY)
    _, markers = versions_of(s3, bucket, KEY)
    report(
        "delete_marker",
        x_amz_delete_marker=header(deleted, "x-amz-delete-marker"),
        version_id=deleted.get("VersionId"),
        listed_as_latest=bool(markers and markers[0].get("IsLatest")),
    )
    status, code, _ = status_of(
        lambda: s3.put_object(Bucket=bucket, Key=KEY, Body=b"{}", IfMatch=etag)
    )
    report("put_if_match_over_delete_marker", http_status=status, error=code)
    status, code, _ = status_of(
        lambda: s3.put_object(Bucket=bucket, Key=KEY, Body=b"{}", IfNoneMatch="*")
    )
    report("put_if_none_match_over_delete_marker", http_status=status, error=code)


def probe_reads(s3, bucket):
    response = s3.put_object(
        Bucket=bucket, Key=KEY, Body=b'{"n":"meta"}', Metadata={"catapult-write-id": "w-1"}
    )
    got = s3.get_object(Bucket=bucket, Key=KEY, VersionId=response["VersionId"])
    report(
        "get_object_version_metadata",
        metadata=got.get("Metadata"),
        version_id_matches=got.get("VersionId") == response["VersionId"],
        body_ok=got["Body"].read() == b'{"n":"meta"}',
    )

    missing_bucket = f"catapult-probe-missing-{uuid.uuid4().hex[:12]}"
    for check, call in [
        ("get_object_missing_bucket", lambda: s3.get_object(Bucket=missing_bucket, Key=KEY)),
        ("get_object_missing_key", lambda: s3.get_object(Bucket=bucket, Key="app/none.json")),
        (
            "get_object_missing_version",
            lambda: s3.get_object(Bucket=bucket, Key=KEY, VersionId=MISSING_VERSION_ID),
        ),
        (
            "list_versions_missing_bucket",
            lambda: s3.list_object_versions(Bucket=missing_bucket, Prefix=KEY),
        ),
    ]:
        status, code, _ = status_of(call)
        report(check, http_status=status, error=code)


def probe_checksums(bucket):
    # The SDKs' default since early 2025: a CRC32 of the body in a header.
    s3 = client("when_supported")
    status, code, _ = status_of(
        lambda: s3.put_object(Bucket=bucket, Key="checksum/header.json", Body=b'{"c":1}')
    )
    report("put_crc32_header", http_status=status, error=code)

    # The Rust SDK's form for a streamed body: aws-chunked, unsigned, the CRC32 in a trailer.
    body = b'{"c":"trailer"}'
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    chunked = (
        f"{len(body):x}\r\n".encode()
        + body
        + f"\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n".encode()
    )
    url = f"{ENDPOINT}/{bucket}/checksum/trailer.json"
    request = AWSRequest(
        method="PUT",
        url=url,
        data=chunked,
        headers={
            "Content-Encoding": "aws-chunked",
            "Content-Length": str(len(chunked)),
            "X-Amz-Content-SHA256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "X-Amz-Decoded-Content-Length": str(len(body)),
            "X-Amz-Trailer": "x-amz-checksum-crc32",
        },
    )
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION).add_auth(request)
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("PUT", parts.path, body=chunked, headers=dict(request.headers.items()))
        answer = connection.getresponse()
        status, text = answer.status, answer.read().decode("utf-8", "replace")
    finally:
        connection.close()
    stored = None
    if status == 200:
        stored = client().get_object(Bucket=bucket, Key="checksum/trailer.json")["Body"].read()
    report(
        "put_aws_chunked_unsigned_trailer",
        http_status=status,
        stored_intact=stored == body if stored is not None else None,
        body=text[:300] if status != 200 else None,
    )


def cleanup(s3, bucket):
    listing = s3.list_object_versions(Bucket=bucket)
    objects = [
        {"Key": entry["Key"], "VersionId": entry["VersionId"]}
        for entry in listing.get("Versions", []) + listing.get("DeleteMarkers", [])
    ]
    # DeleteObjects requires a checksum; the SDKs now send a CRC32 header, no Content-MD5.
    status, code, response = status_of(
        lambda: s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    )
    report("delete_objects_crc32", http_status=status, error=code)
    if status != 200:
        for entry in objects:
            s3.delete_object(Bucket=bucket, **entry)
    status, code, _ = status_of(lambda: s3.delete_bucket(Bucket=bucket))
    report("delete_bucket", http_status=status, error=code)


def main():
    s3 = client()
    bucket = f"catapult-probe-{uuid.uuid4().hex[:12]}"
    status, code, _ = status_of(lambda: s3.create_bucket(Bucket=bucket))
    report("create_bucket", endpoint=ENDPOINT, region=REGION, http_status=status, error=code)
    if status != 200:
        return 1
    try:
        probe_versioning(s3, bucket, "get_bucket_versioning_never_enabled")
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        probe_versioning(s3, bucket, "get_bucket_versioning")
        probe_listing(s3, bucket)
        probe_conditions(s3, bucket)
        probe_reads(s3, bucket)
        probe_checksums(bucket)
    finally:
        cleanup(s3, bucket)
    return 0


if __name__ == "__main__":
    sys.exit(main())
