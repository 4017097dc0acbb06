#!/usr/bin/env python3
"""Push a small OCI image to a container registry, for the tests: Python's standard library only.

    registry_push.py --registry 127.0.0.1:5000 [--user U --password P] \\
        --repository acme/app --tag ref-<sha> [--index]

It pushes, through the OCI distribution HTTP API over plain HTTP (a registry started by
ci/lib/registry.sh), a config blob and one layer blob (each a monolithic upload: POST
/v2/<repository>/blobs/uploads/, then PUT <location>&digest=<digest>), then an image manifest
(application/vnd.oci.image.manifest.v1+json) under the tag. With --index it pushes two such images
(linux/amd64 and linux/arm64, their manifests by digest) and an image index
(application/vnd.oci.image.index.v1+json) naming both under the tag: a multi-platform image.

It prints one line of JSON:

    {"digest": "sha256:...", "reference": "127.0.0.1:5000/acme/app:ref-...",
     "media_type": "...", "manifests": {"linux/amd64": "sha256:...", ...}}

where digest is the SHA-256 of the manifest's (or the index's) bytes as pushed: the digest that
'docker pull' reports and that the registry sends as Docker-Content-Digest for the tag (the index's
own for a multi-platform tag; manifests has the platforms' ones, and is empty without --index).
The script checks that the registry's Docker-Content-Digest on each PUT equals it.

The image is a real one, pullable: the layer is a gzipped tar of one file, and the config names
its platform and the layer's diff ID. Everything in it is derived from the repository, the tag and
the platform, so pushing the same tag again gives the same digest, and another tag another one;
--salt makes it differ anyway (for a tag pushed again with other content).

With --user and --password it sends 'Authorization: Basic ...' on every request (the registry's
htpasswd authentication). To a Bearer challenge (a registry with 'token' authentication) it answers
as Docker's clients do: a token from the challenge's realm for its service and scope, asked for with
those credentials when given, then the request again with 'Authorization: Bearer <token>'.
"""

import argparse
import base64
import gzip
import hashlib
import io
import json
import re
import sys
import tarfile
import urllib.error
import urllib.parse
import urllib.request

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
PLATFORMS = (("linux", "amd64"), ("linux", "arm64"))


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(value):
    """JSON bytes, compact and with sorted keys: the same object gives the same digest."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


class Registry:
    def __init__(self, registry, user=None, password=None):
        base = registry if "://" in registry else "http://" + registry
        self.base = base.rstrip("/")
        self.host = urllib.parse.urlsplit(self.base).netloc
        self.basic = None
        if user is not None:
            self.basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        # What goes in Authorization: Basic from the start, or the Bearer token of the last
        # challenge answered.
        self.authorization = self.basic

    @staticmethod
    def send(method, url, body=None, headers=None):
        request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def bearer_token(self, challenge):
        """Answers a 'Bearer realm=...,service=...,scope=...' challenge: a token from the realm,
        asked for with the Basic credentials (when given), as Docker's clients do."""
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        query = {key: params[key] for key in ("service", "scope") if key in params}
        url = params["realm"] + ("?" + urllib.parse.urlencode(query) if query else "")
        headers = {"Authorization": self.basic} if self.basic else {}
        status, _, payload = self.send("GET", url, headers=headers)
        if status != 200:
            sys.exit(
                f"error: GET {url} (the token for {challenge}): HTTP {status}: "
                f"{payload.decode(errors='replace').strip()}"
            )
        answer = json.loads(payload)
        return "Bearer " + (answer.get("token") or answer["access_token"])

    def request(self, method, url, body=None, headers=None, expect=(200,)):
        url = urllib.parse.urljoin(self.base + "/", url)
        headers = dict(headers or {})
        if body is not None:
            headers["Content-Length"] = str(len(body))
        for attempt in range(2):
            if self.authorization:
                headers["Authorization"] = self.authorization
            status, response_headers, payload = self.send(method, url, body, headers)
            challenge = response_headers.get("WWW-Authenticate", "")
            if status != 401 or attempt or not challenge.lower().startswith("bearer "):
                break
            self.authorization = self.bearer_token(challenge)
        if status not in expect:
            sys.exit(
                f"error: {method} {url}: HTTP {status} (expected {' or '.join(map(str, expect))}): "
                f"{payload.decode(errors='replace').strip()}"
            )
        return response_headers

    def push_blob(self, repository, data):
        """Uploads a blob in one PUT (a monolithic upload); returns its digest."""
        digest = digest_of(data)
        headers = self.request(
            "POST", f"/v2/{repository}/blobs/uploads/", body=b"", expect=(202,)
        )
        location = headers["Location"]
        separator = "&" if "?" in location else "?"
        location += separator + urllib.parse.urlencode({"digest": digest})
        headers = self.request(
            "PUT",
            location,
            body=data,
            headers={"Content-Type": "application/octet-stream"},
            expect=(201,),
        )
        if headers.get("Docker-Content-Digest") not in (None, digest):
            answered = headers["Docker-Content-Digest"]
            sys.exit(f"error: the registry stored blob {digest} as {answered}")
        return digest

    def push_manifest(self, repository, reference, media_type, data):
        digest = digest_of(data)
        headers = self.request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            body=data,
            headers={"Content-Type": media_type},
            expect=(201,),
        )
        answered = headers.get("Docker-Content-Digest")
        if answered != digest:
            sys.exit(
                f"error: the registry answered Docker-Content-Digest {answered} "
                f"for a manifest whose digest is {digest}"
            )
        return digest


def layer_tar(text):
    """A gzipped tar of one file, byte for byte the same for the same text: (gzipped, tar)."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.PAX_FORMAT) as tar:
        content = text.encode()
        info = tarfile.TarInfo("catapult-test.txt")
        info.size = len(content)
        info.mtime = 0
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(content))
    raw = tar_bytes.getvalue()
    return gzip.compress(raw, mtime=0), raw


def push_image(registry, repository, reference, os_name, arch, label):
    """Pushes the blobs and the manifest of one image; returns (manifest digest, size)."""
    layer, layer_raw = layer_tar(f"{label} {os_name}/{arch}\n")
    config = canonical(
        {
            "architecture": arch,
            "os": os_name,
            "config": {"Labels": {"org.opencontainers.image.ref.name": label}},
            "rootfs": {"type": "layers", "diff_ids": [digest_of(layer_raw)]},
        }
    )
    config_digest = registry.push_blob(repository, config)
    layer_digest = registry.push_blob(repository, layer)
    manifest = canonical(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": len(layer)}],
        }
    )
    reference = reference or digest_of(manifest)
    return registry.push_manifest(repository, reference, OCI_MANIFEST, manifest), len(manifest)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registry", required=True, help="HOST:PORT, or a URL (http:// when none)")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--repository", required=True, help="e.g. acme/app")
    parser.add_argument("--tag", required=True, help="e.g. ref-<full commit sha>")
    parser.add_argument("--index", action="store_true", help="a multi-platform image (an index)")
    parser.add_argument("--salt", default="", help="makes the content, so the digest, differ")
    args = parser.parse_args()
    if (args.user is None) != (args.password is None):
        parser.error("--user and --password go together")

    registry = Registry(args.registry, args.user, args.password)
    label = f"{args.repository}:{args.tag}{' ' + args.salt if args.salt else ''}"
    platforms = {}
    if args.index:
        entries = []
        for os_name, arch in PLATFORMS:
            digest, size = push_image(registry, args.repository, None, os_name, arch, label)
            platforms[f"{os_name}/{arch}"] = digest
            entries.append(
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": digest,
                    "size": size,
                    "platform": {"os": os_name, "architecture": arch},
                }
            )
        index = canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
        media_type = OCI_INDEX
        digest = registry.push_manifest(args.repository, args.tag, OCI_INDEX, index)
    else:
        os_name, arch = PLATFORMS[0]
        media_type = OCI_MANIFEST
        digest, _ = push_image(registry, args.repository, args.tag, os_name, arch, label)

    print(
        json.dumps(
            {
                "digest": digest,
                "reference": f"{registry.host}/{args.repository}:{args.tag}",
                "media_type": media_type,
                "manifests": platforms,
            }
        )
    )


if __name__ == "__main__":
    main()
