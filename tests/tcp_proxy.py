"""bench/load.py's import of the tests' TCP proxy, which lives in tests/helpers/tcp_proxy.py with the other helpers."""

from tests.helpers.tcp_proxy import TcpProxy

__all__ = ["TcpProxy"]
