"""LocalStack's entry point (python -m localstack.runtime.main), run by ci/lib/localstack.sh with
the venv-localstack python, with two changes that no setting of LocalStack's makes:

- Its S3 provider spools object bodies under the directory that LOCALSTACK_S3_DIR names, in the
  run's temporary directory, not under the fixed /tmp/localstack-s3-storage, which it leaves
  behind and which two servers at once would share.
- Its gateway (the default Twisted server) listens on the IPv4 address that GATEWAY_LISTEN names,
  127.0.0.1, not on every interface: it passes the address on for IPv6 only. Hypercorn, the other
  server, binds the address but does not stop on SIGTERM (its loop is stopped from another thread
  and never wakes).
"""

import os

import localstack.runtime.server.twisted as twisted_server
import localstack.services.s3.provider as s3_provider
from localstack import config
from localstack.runtime.main import main
from twisted.internet import endpoints

s3_provider.DEFAULT_S3_TMP_DIR = os.environ["LOCALSTACK_S3_DIR"]


class _Endpoints:
    """The Twisted endpoints module as LocalStack's Twisted server sees it: IPv4 endpoints bound
    to the address GATEWAY_LISTEN names for the port."""

    TCP6ServerEndpoint = endpoints.TCP6ServerEndpoint

    @staticmethod
    def TCP4ServerEndpoint(reactor, port):
        hosts = [listen.host for listen in config.GATEWAY_LISTEN if listen.port == port]
        return endpoints.TCP4ServerEndpoint(reactor, port, interface=hosts[0] if hosts else "")


twisted_server.endpoints = _Endpoints

if __name__ == "__main__":
    main()
