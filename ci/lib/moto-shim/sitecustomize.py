"""Loaded into the local S3 server (moto) by ci/lib/s3-server.sh, through PYTHONPATH.

moto checks a PutObject's If-Match or If-None-Match and then writes, with nothing held between
the two, so two conditional writes racing on its threaded server can both pass the check: S3
itself evaluates the condition and the write atomically. This lock makes moto's object writes
atomic with their condition, so that the racing tests exercise catapult against S3's semantics.
A store whose conditions do not hold under races is tested apart: catapult's unit tests run it
over an in-memory store that ignores them, and ci/conformance runs it against Ceph RGW.

With CATAPULT_MOTO_LINEAR_VERSIONS=1 (ci/bench), moto's quadratic bookkeeping of a key's version
list on each put is made linear, with the same meaning (its keys compare by identity), so that
10,000 versions of one key can be seeded in about a minute.
"""

import os
import threading

try:
    from moto.s3.responses import S3Response
except ImportError:  # not moto's interpreter
    S3Response = None

if S3Response is not None and hasattr(S3Response, "put_object"):
    _write_lock = threading.Lock()
    _put_object = S3Response.put_object

    def put_object(self, *args, **kwargs):
        with _write_lock:
            return _put_object(self, *args, **kwargs)

    S3Response.put_object = put_object

if os.environ.get("CATAPULT_MOTO_LINEAR_VERSIONS") == "1":
    try:
        from moto.s3.utils import _VersionedKeyStore
    except ImportError:
        _VersionedKeyStore = None

    if _VersionedKeyStore is not None:

        def _setlist(self, key, list_):
            if isinstance(list_, tuple):
                list_ = list(list_)
            elif not isinstance(list_, list):
                list_ = [list_]
            kept = {id(version) for version in list_}
            for existing in self.getlist(key, []):
                if id(existing) not in kept and hasattr(existing, "dispose"):
                    existing.dispose()
            dict.__setitem__(self, key, list_)

        _VersionedKeyStore.setlist = _setlist
