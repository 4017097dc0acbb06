"""A fault-injecting HTTP proxy in front of the local S3 server, for ci/bench: the faults of
section 12 of the product brief, played on a real network path.

Every request is forwarded to the server byte for byte (the request line, every header, Host
included, and the body as sent), so a SigV4 signature made for the proxy's address still
verifies. Rules inject faults by request count:

  --lose-every-nth-put N   every Nth PutObject (a PUT on an object key, not on a bucket, nor a
                           part, a copy or a sub-resource) is forwarded and answered by the
                           server, so the write lands; then the client's connection is dropped
                           without a byte of the answer, as a network that lost it would.
  --reset-every-nth-get N  every Nth GetObject answered 200 with a body: the head and half the
                           body reach the client, then the connection is reset.
  --strip-version-id-every-nth-put N
                           every Nth PutObject the server answered 2xx reaches the client
                           without its x-amz-version-id header, as a proxy that drops it would
                           pass it on: the write landed, but its answer does not say as what.
  --conflict-every-nth-conditional-put N
                           every Nth conditional PutObject (one with If-None-Match or If-Match)
                           is answered by the proxy with S3's 409 ConditionalRequestConflict
                           ("a conflicting conditional operation is in progress"), as S3 answers
                           a conditional write while another to the key is in flight; it is not
                           forwarded, so nothing is written.

Prints its port on stdout when it listens (127.0.0.1, a free port unless --port), one line on
stderr per injected fault, and a count of requests and faults when it ends: after --max-seconds
(default 600), on SIGTERM or SIGINT. HTTP/1.1 keep-alive is kept on the client's side (the AWS
SDKs reuse connections); each request goes to the server on a connection of its own, so a
connection the server closed while idle is never a fault of the proxy's making. One thread per
client connection.

  .venv/bin/python ci/lib/fault_proxy.py --upstream http://127.0.0.1:9000 --lose-every-nth-put 3
  .venv/bin/python ci/lib/fault_proxy.py --self-test   # needs moto and boto3 (the project venv)
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

CLIENT_IDLE_SECONDS = 120  # a client connection silent this long is closed
UPSTREAM_SECONDS = 60  # the server answering one request
MAX_HEAD_BYTES = 64 * 1024

# Query parameters that make a PUT on a key something other than PutObject.
OBJECT_SUBRESOURCES = {
    "acl", "tagging", "retention", "legal-hold", "uploadId", "partNumber", "restore",
    "torrent", "attributes", "select", "uploads",
}


def log(message: str) -> None:
    print(f"fault_proxy: {message}", file=sys.stderr, flush=True)


class Closed(Exception):
    """The peer closed the connection (cleanly, between messages)."""


class Broken(Exception):
    """A message that cannot be framed, or a peer that closed in the middle of one."""


# --- HTTP/1.1 framing, on raw bytes ------------------------------------------------------------


def read_head(reader) -> bytes:
    """The start line and headers up to and including the blank line, as sent."""
    head = bytearray()
    while True:
        line = reader.readline(MAX_HEAD_BYTES + 1)
        if not line:
            if head:
                raise Broken("the connection closed in the middle of a message head")
            raise Closed()
        if not head and line in (b"\r\n", b"\n"):
            continue  # tolerated before a request line (RFC 9112, 2.2)
        head += line
        if len(head) > MAX_HEAD_BYTES:
            raise Broken("a message head larger than 64 KiB")
        if line in (b"\r\n", b"\n"):
            return bytes(head)


def parse_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n") if b"\r\n" in head else \
        head.decode("latin-1").split("\n")
    headers = []
    for line in lines[1:]:
        if not line:
            break
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return lines[0], headers


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def tokens(headers: list[tuple[str, str]], name: str) -> set[str]:
    found = set()
    for key, value in headers:
        if key == name:
            found |= {token.strip().lower() for token in value.split(",") if token.strip()}
    return found


def read_exactly(reader, count: int) -> bytes:
    data = reader.read(count)
    if len(data) != count:
        raise Broken(f"the connection closed {count - len(data)} bytes short of a body")
    return data


def read_chunked(reader) -> bytes:
    """A chunked body, as sent: every chunk-size line, chunk, and the trailer section."""
    raw = bytearray()
    while True:
        line = reader.readline(MAX_HEAD_BYTES + 1)
        if not line:
            raise Broken("the connection closed in the middle of a chunked body")
        raw += line
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise Broken(f"a bad chunk size line {line[:40]!r}") from None
        if size == 0:
            while True:
                trailer = reader.readline(MAX_HEAD_BYTES + 1)
                if not trailer:
                    raise Broken("the connection closed in a chunked body's trailers")
                raw += trailer
                if trailer in (b"\r\n", b"\n"):
                    return bytes(raw)
        raw += read_exactly(reader, size + 2)  # the chunk and its CRLF


def read_body(reader, headers: list[tuple[str, str]], until_close: bool) -> tuple[bytes, bool]:
    """A message's body as sent, and whether it ran to the end of the connection."""
    if "chunked" in tokens(headers, "transfer-encoding"):
        return read_chunked(reader), False
    length = header(headers, "content-length")
    if length is not None:
        try:
            count = int(length)
        except ValueError:
            raise Broken(f"a bad Content-Length {length!r}") from None
        return read_exactly(reader, count), False
    if until_close:
        return reader.read(), True
    return b"", False


def payload(raw_body: bytes, headers: list[tuple[str, str]]) -> bytes | None:
    """The content of a body with a Content-Length (what a cut-short answer is cut from)."""
    if "chunked" in tokens(headers, "transfer-encoding"):
        return None
    return raw_body


# --- what a request is ---------------------------------------------------------------------------


def is_path_style(host: str | None) -> bool:
    if not host:
        return True
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        # s3.amazonaws.com, s3.<region>.amazonaws.com, a bare custom name: path style; a name
        # under one of them (bucket.s3...): virtual-hosted.
        return not ("." in name and not name.startswith("s3.") and not name.startswith("s3-"))


def operation(method: str, target: str, headers: list[tuple[str, str]]) -> str:
    """'PutObject', 'GetObject' or 'other': the only two the rules act on."""
    split = urlsplit(target)
    path = split.path or "/"
    if is_path_style(header(headers, "host")):
        parts = path.lstrip("/").split("/", 1)
        key = parts[1] if len(parts) > 1 else ""
    else:
        key = path.lstrip("/")
    if not key:
        return "other"
    names = {name for name, _ in parse_qsl(split.query, keep_blank_values=True)}
    x_id = dict(parse_qsl(split.query, keep_blank_values=True)).get("x-id")
    if method == "PUT" and not (names & OBJECT_SUBRESOURCES) and x_id in (None, "PutObject") \
            and header(headers, "x-amz-copy-source") is None:
        return "PutObject"
    if method == "GET" and not (names & OBJECT_SUBRESOURCES) and x_id in (None, "GetObject"):
        return "GetObject"
    return "other"


# --- the rules -------------------------------------------------------------------------------------


class Rules:
    def __init__(self, lose_every_nth_put: int, reset_every_nth_get: int, reset: bool,
                 conflict_every_nth_conditional_put: int = 0,
                 strip_version_id_every_nth_put: int = 0):
        self.lose_every_nth_put = lose_every_nth_put
        self.strip_version_id_every_nth_put = strip_version_id_every_nth_put
        self.stripped = 0
        self.reset_every_nth_get = reset_every_nth_get
        self.reset_on_loss = reset
        self.conflict_every_nth_conditional_put = conflict_every_nth_conditional_put
        self.lock = threading.Lock()
        self.requests = 0
        self.puts = 0
        self.conditional_puts = 0
        self.gets = 0
        self.lost = 0
        self.lost_landed = 0
        self.cut = 0
        self.conflicts = 0
        self.errors = 0

    def count(self, op: str, conditional: bool = False) -> tuple[int, bool, bool, bool]:
        """The request's number among its kind, and whether to lose its answer, cut its body, or
        answer it with a 409 ConditionalRequestConflict."""
        with self.lock:
            self.requests += 1
            if op == "PutObject":
                self.puts += 1
                if conditional:
                    self.conditional_puts += 1
                    nth = self.conflict_every_nth_conditional_put
                    if nth > 0 and self.conditional_puts % nth == 0:
                        self.conflicts += 1
                        return self.puts, False, False, True
                lose = self.lose_every_nth_put > 0 and self.puts % self.lose_every_nth_put == 0
                return self.puts, lose, False, False
            if op == "GetObject":
                self.gets += 1
                cut = self.reset_every_nth_get > 0 and self.gets % self.reset_every_nth_get == 0
                return self.gets, False, cut, False
            return 0, False, False, False

    def strip_version_id(self, number: int) -> bool:
        """Whether PutObject #`number`'s answer loses its x-amz-version-id header."""
        nth = self.strip_version_id_every_nth_put
        if nth > 0 and number % nth == 0:
            with self.lock:
                self.stripped += 1
            return True
        return False

    def summary(self) -> str:
        with self.lock:
            return (f"{self.requests} requests, {self.puts} PutObject "
                    f"({self.conditional_puts} conditional), {self.gets} GetObject; "
                    f"{self.lost} answers lost ({self.lost_landed} of writes that landed), "
                    f"{self.cut} bodies cut, {self.conflicts} answered 409, "
                    f"{self.stripped} version ids stripped, "
                    f"{self.errors} connection errors")


def conflict_answer(target: str) -> bytes:
    """S3's answer to a conditional write while another conditional write to the key is in
    flight: 409 ConditionalRequestConflict, whose body names the key."""
    request_id = os.urandom(8).hex().upper()
    key = urlsplit(target).path
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
            "<Code>ConditionalRequestConflict</Code>"
            "<Message>A conflicting conditional operation is currently in progress against this "
            "resource. Please try again.</Message>"
            f"<Key>{escape(key)}</Key><RequestId>{request_id}</RequestId></Error>").encode()
    head = ("HTTP/1.1 409 Conflict\r\n"
            "Content-Type: application/xml\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"x-amz-request-id: {request_id}\r\n"
            "Server: AmazonS3\r\n\r\n").encode()
    return head + body


def abort(connection: socket.socket, reset: bool) -> None:
    """Ends a client connection without another byte: a reset (RST) or a close (FIN)."""
    try:
        if reset:
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    connection.close()


class Handler(socketserver.BaseRequestHandler):
    server: "Proxy"

    def handle(self) -> None:
        client = self.request
        client.settimeout(CLIENT_IDLE_SECONDS)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = client.makefile("rb")
        try:
            while self.exchange(client, reader):
                pass
        except (Closed, socket.timeout, ConnectionError):
            pass
        except (Broken, OSError) as err:
            with self.server.rules.lock:
                self.server.rules.errors += 1
            log(f"connection error: {err}")
        finally:
            reader.close()
            try:
                client.close()
            except OSError:
                pass

    def exchange(self, client: socket.socket, reader) -> bool:
        """One request and its answer; whether the client connection stays open."""
        rules = self.server.rules
        head = read_head(reader)
        start, headers = parse_head(head)
        parts = start.split(" ")
        if len(parts) != 3:
            raise Broken(f"a bad request line {start[:80]!r}")
        method, target, version = parts
        if "100-continue" in tokens(headers, "expect"):
            # Answered here, so the body comes at once; the server's own 100 is skipped below.
            client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body, _ = read_body(reader, headers, until_close=False)
        op = operation(method, target, headers)
        conditional = header(headers, "if-none-match") is not None \
            or header(headers, "if-match") is not None
        number, lose, cut, conflict = rules.count(op, conditional)
        if conflict:
            log(f"answered conditional PutObject #{number} with 409 ConditionalRequestConflict, "
                f"not forwarded: {method} {target}")
            client.sendall(conflict_answer(target))
            return "close" not in tokens(headers, "connection") and version != "HTTP/1.0"

        upstream = socket.create_connection(self.server.upstream, timeout=UPSTREAM_SECONDS)
        try:
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            upstream.sendall(head + body)
            answer = upstream.makefile("rb")
            while True:
                response_head = read_head(answer)
                status_line, response_headers = parse_head(response_head)
                status = int(status_line.split(" ", 2)[1])
                if status >= 200 or status == 101:
                    break
            if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
                response_body, until_close = b"", False
            else:
                response_body, until_close = read_body(answer, response_headers, until_close=True)
            answer.close()
        finally:
            upstream.close()

        if lose:
            with rules.lock:
                rules.lost += 1
                rules.lost_landed += 200 <= status < 300
            log(f"lost the answer to PutObject #{number}: {method} {target} "
                f"(the server answered {status}{', the write landed' if 200 <= status < 300 else ''})")
            abort(client, rules.reset_on_loss)
            return False
        if op == "PutObject" and 200 <= status < 300 and rules.strip_version_id(number):
            kept = [line for line in response_head.split(b"\r\n")
                    if not line.lower().startswith(b"x-amz-version-id:")]
            log(f"stripped x-amz-version-id from the answer to PutObject #{number}: "
                f"{method} {target} (the server answered {status}, the write landed)")
            response_head = b"\r\n".join(kept)
        content = payload(response_body, response_headers)
        if cut and status == 200 and content is not None and len(content) >= 2:
            with rules.lock:
                rules.cut += 1
            log(f"cut GetObject #{number} after {len(content) // 2} of {len(content)} body bytes: "
                f"{method} {target}")
            client.sendall(response_head + content[: len(content) // 2])
            abort(client, reset=True)
            return False
        client.sendall(response_head + response_body)

        closes = "close" in tokens(response_headers, "connection") \
            or "close" in tokens(headers, "connection") or until_close \
            or (version == "HTTP/1.0" and "keep-alive" not in tokens(headers, "connection"))
        return not closes


class Proxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # many clients connect at the same instant

    def __init__(self, address, upstream: tuple[str, int], rules: Rules):
        super().__init__(address, Handler)
        self.upstream = upstream
        self.rules = rules


# --- running it --------------------------------------------------------------------------------------


def start(upstream: str, port: int, rules: Rules) -> Proxy:
    target = urlsplit(upstream if "://" in upstream else f"http://{upstream}")
    if target.scheme != "http":
        raise SystemExit(f"error: --upstream must be plain http:// (got {upstream})")
    proxy = Proxy(("127.0.0.1", port), (target.hostname or "127.0.0.1", target.port or 80), rules)
    threading.Thread(target=proxy.serve_forever, name="fault-proxy", daemon=True).start()
    return proxy


def self_test() -> int:
    """Starts moto in this process, with its signature checks on, and the proxy in front of it;
    checks that signed boto3 requests pass through unchanged (and a badly signed one does not),
    and that both rules fire as they should."""
    import json
    import logging

    # moto checks SigV4 signatures once this many requests have gone unchecked: the three that
    # make the IAM user whose key signs everything after them. Read when moto is imported.
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
    from moto.server import ThreadedMotoServer

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    moto_port = probe.getsockname()[1]
    probe.close()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log on the terminal
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    server.start()
    rules = Rules(lose_every_nth_put=3, reset_every_nth_get=2, reset=False)
    proxy = start(f"http://127.0.0.1:{moto_port}", 0, rules)
    endpoint = f"http://127.0.0.1:{proxy.server_address[1]}"

    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
    iam.create_user(UserName="proxy-test")
    iam.put_user_policy(UserName="proxy-test", PolicyName="all", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="proxy-test")["AccessKey"]

    def client(attempts: int, secret: str = key["SecretAccessKey"]):
        return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=secret,
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"total_max_attempts": attempts,
                                                   "mode": "standard"}))

    failures = []

    def check(what: str, ok: bool) -> None:
        print(f"{'ok  ' if ok else 'FAIL'} {what}", file=sys.stderr, flush=True)
        if not ok:
            failures.append(what)

    try:
        s3 = client(1)
        s3.create_bucket(Bucket="proxy")
        try:
            client(1, "not-the-secret").list_objects_v2(Bucket="proxy")
            check("a request signed with the wrong secret is refused", False)
        except ClientError as err:
            check("signatures are checked: the wrong secret is refused "
                  f"({err.response['Error']['Code']}), the right one passes",
                  err.response["Error"]["Code"] == "SignatureDoesNotMatch")
        s3.put_bucket_versioning(Bucket="proxy", VersioningConfiguration={"Status": "Enabled"})
        check("bucket operations are not counted as PutObject", rules.puts == 0)
        first = s3.put_object(Bucket="proxy", Key="k", Body=b"one", IfNoneMatch="*",
                              Metadata={"catapult-write-id": "w1"})
        s3.put_object(Bucket="proxy", Key="k", Body=b"two", IfMatch=first["ETag"])
        try:
            s3.put_object(Bucket="proxy", Key="k", Body=b"three")
            check("the 3rd PutObject loses its answer", False)
        except Exception as err:  # botocore's connection errors, no retry
            check(f"the 3rd PutObject loses its answer ({type(err).__name__})", True)
        versions = s3.list_object_versions(Bucket="proxy", Prefix="k")["Versions"]
        check("... and its write landed (3 versions)", len(versions) == 3)
        try:
            s3.put_object(Bucket="proxy", Key="k", Body=b"four", IfNoneMatch="*")
            check("If-None-Match: * on an existing key is refused through the proxy", False)
        except ClientError as err:
            check("If-None-Match: * on an existing key is refused through the proxy (412)",
                  err.response["ResponseMetadata"]["HTTPStatusCode"] == 412)
        # GetObject #1 whole, #2 cut: the metadata went through the proxy and back.
        got = s3.get_object(Bucket="proxy", Key="k", VersionId=first["VersionId"])
        check("GetObject #1 whole, user metadata kept",
              got["Body"].read() == b"one" and got["Metadata"] == {"catapult-write-id": "w1"})
        try:
            s3.get_object(Bucket="proxy", Key="k")["Body"].read()
            check("GetObject #2 is cut short", False)
        except Exception as err:
            check(f"GetObject #2 is cut short ({type(err).__name__})", True)
        # Concurrency and keep-alive: 16 threads, each its own client with a pool.
        results: list[bool] = []

        def worker(index: int) -> None:
            mine = client(8)
            ok = True
            for round_ in range(5):
                mine.put_object(Bucket="proxy", Key=f"w{index}", Body=json.dumps(round_).encode())
                listed = mine.list_object_versions(Bucket="proxy", Prefix=f"w{index}")
                ok &= len([v for v in listed.get("Versions", []) if v["Key"] == f"w{index}"]) >= 1
            results.append(ok)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stored = sum(len([v for v in s3.list_object_versions(Bucket="proxy", Prefix=f"w{i}")
                          ["Versions"] if v["Key"] == f"w{i}"]) for i in range(16))
        check(f"16 concurrent clients with retries: {len(results)} finished, {stored} versions "
              f"stored ({rules.summary()})", len(results) == 16 and all(results) and stored >= 80)

        # 409s: every 2nd conditional PutObject answered by the proxy, never forwarded; a plain
        # PutObject is not counted.
        conflicts = Rules(0, 0, False, conflict_every_nth_conditional_put=2)
        conflicting = start(f"http://127.0.0.1:{moto_port}", 0, conflicts)
        try:
            c3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{conflicting.server_address[1]}",
                              region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
                              aws_secret_access_key=key["SecretAccessKey"],
                              config=Config(s3={"addressing_style": "path"},
                                            retries={"total_max_attempts": 1}))
            one = c3.put_object(Bucket="proxy", Key="c", Body=b"one", IfNoneMatch="*")
            c3.put_object(Bucket="proxy", Key="c", Body=b"plain")
            try:
                c3.put_object(Bucket="proxy", Key="c", Body=b"two", IfMatch=one["ETag"])
                check("the 2nd conditional PutObject is answered 409", False)
            except ClientError as err:
                error = err.response["Error"]
                check("the 2nd conditional PutObject is answered 409 ConditionalRequestConflict",
                      err.response["ResponseMetadata"]["HTTPStatusCode"] == 409
                      and error["Code"] == "ConditionalRequestConflict")
            listed = c3.list_object_versions(Bucket="proxy", Prefix="c")["Versions"]
            check("... and it was not forwarded (2 versions, the 1st conditional and the plain)",
                  len([v for v in listed if v["Key"] == "c"]) == 2)
            check(f"... counted: {conflicts.summary()}",
                  conflicts.conflicts == 1 and conflicts.conditional_puts == 2)
        finally:
            conflicting.shutdown()

        # Version ids stripped: every 2nd PutObject answer, the write landed all the same.
        stripping = start(f"http://127.0.0.1:{moto_port}", 0,
                          Rules(0, 0, False, strip_version_id_every_nth_put=2))
        try:
            c4 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{stripping.server_address[1]}",
                              region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
                              aws_secret_access_key=key["SecretAccessKey"],
                              config=Config(s3={"addressing_style": "path"},
                                            retries={"total_max_attempts": 1}))
            answers = [c4.put_object(Bucket="proxy", Key="s", Body=body) for body in (b"1", b"2")]
            listed = c4.list_object_versions(Bucket="proxy", Prefix="s")["Versions"]
            check("the 2nd PutObject's answer has no version id, the 1st has one, both landed",
                  "VersionId" in answers[0] and "VersionId" not in answers[1]
                  and len([v for v in listed if v["Key"] == "s"]) == 2)
        finally:
            stripping.shutdown()
    finally:
        proxy.shutdown()
        server.stop()
    print(f"fault_proxy self-test: {'FAILED' if failures else 'passed'}", file=sys.stderr)
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream", default=os.environ.get("CATAPULT_TEST_ENDPOINT"),
                        help="the S3 server, http://host:port (default: $CATAPULT_TEST_ENDPOINT)")
    parser.add_argument("--port", type=int, default=0, help="the port to listen on (default: free)")
    parser.add_argument("--lose-every-nth-put", type=int, default=0, metavar="N")
    parser.add_argument("--reset-every-nth-get", type=int, default=0, metavar="N")
    parser.add_argument("--conflict-every-nth-conditional-put", type=int, default=0,
                        metavar="N")
    parser.add_argument("--strip-version-id-every-nth-put", type=int, default=0, metavar="N")
    parser.add_argument("--reset", action="store_true",
                        help="a lost answer ends the connection with a reset, not a close")
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    if not args.upstream:
        parser.error("--upstream is required (or CATAPULT_TEST_ENDPOINT)")

    rules = Rules(args.lose_every_nth_put, args.reset_every_nth_get, args.reset,
                  args.conflict_every_nth_conditional_put, args.strip_version_id_every_nth_put)
    finished = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: finished.set())
    proxy = start(args.upstream, args.port, rules)
    print(proxy.server_address[1], flush=True)
    log(f"listening on 127.0.0.1:{proxy.server_address[1]}, forwarding to {args.upstream}; "
        f"lose every nth put: {args.lose_every_nth_put or 'never'}, "
        f"cut every nth get: {args.reset_every_nth_get or 'never'}; "
        f"409 every nth conditional put: {args.conflict_every_nth_conditional_put or 'never'}; "
        f"version id stripped every nth put: {args.strip_version_id_every_nth_put or 'never'}; "
        f"ends after {args.max_seconds:g} s")
    if not finished.wait(args.max_seconds):
        log(f"--max-seconds ({args.max_seconds:g} s) reached")
    log(f"done: {rules.summary()}")
    # Connection threads are daemons; nothing is left to flush.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
