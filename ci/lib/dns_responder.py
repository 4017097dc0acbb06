"""A DNS server for one test: it answers every A question with 127.0.0.1 and every other question
with no records, on UDP, at the address given (a loopback one, port 53 by default). ci/image-test
points the image's /etc/resolv.conf at it and names the local S3 server by a name no hosts file
knows, so that the image's executable must ask DNS itself: it is linked statically, and glibc's
own resolver is what answers there.

  python3 ci/lib/dns_responder.py 127.0.0.153 [--port 53] [--max-seconds 600]

It prints one line on stdout once it listens, and one line on stderr per question answered; it
stops after --max-seconds, or when killed.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import time

A, IN = 1, 1
ANSWER = socket.inet_aton("127.0.0.1")


def answer(query: bytes) -> tuple[bytes, str]:
    """The response to `query`, and the question as text."""
    ident, _flags, questions = struct.unpack(">HHH", query[:6])
    if questions != 1:
        raise ValueError(f"{questions} questions")
    labels, offset = [], 12
    while query[offset]:
        length = query[offset]
        labels.append(query[offset + 1:offset + 1 + length].decode("ascii", "replace"))
        offset += 1 + length
    qtype, qclass = struct.unpack(">HH", query[offset + 1:offset + 5])
    question = query[12:offset + 5]
    records = b""
    if qtype == A and qclass == IN:
        # A pointer to the name in the question, type A, class IN, a minute, four bytes.
        records = b"\xc0\x0c" + struct.pack(">HHIH", A, IN, 60, len(ANSWER)) + ANSWER
    # A response, recursion desired and available, no error.
    header = struct.pack(">HHHHHH", ident, 0x8180, 1, 1 if records else 0, 0, 0)
    return header + question + records, f"{'.'.join(labels)} type {qtype}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("address")
    parser.add_argument("--port", type=int, default=53)
    parser.add_argument("--max-seconds", type=float, default=600)
    args = parser.parse_args()
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((args.address, args.port))
    print(f"listening on {args.address}:{args.port}", flush=True)
    deadline = time.monotonic() + args.max_seconds
    while (left := deadline - time.monotonic()) > 0:
        server.settimeout(left)
        try:
            query, client = server.recvfrom(512)
        except socket.timeout:
            break
        try:
            response, question = answer(query)
        except (ValueError, IndexError, struct.error) as err:
            print(f"ignored a malformed question: {err}", file=sys.stderr, flush=True)
            continue
        server.sendto(response, client)
        print(f"answered {question}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
