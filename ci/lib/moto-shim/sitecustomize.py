"""Loaded into the local S3 server (moto) by ci/lib/s3-server.sh, through PYTHONPATH.

moto checks a PutObject's If-Match or If-None-Match and then writes, with nothing held between
the two, so two conditional writes racing on its threaded server can both pass the check: S3
itself evaluates the condition and the write atomically. This lock makes moto's object writes
atomic with their condition, so that the racing tests exercise catapult against S3's semantics.
A store whose conditions do not hold under races is tested apart: catapult's unit tests run it
over an in-memory store that ignores them, and ci/conformance runs it against Ceph RGW.
"""

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
