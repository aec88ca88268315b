"""A TCP proxy on loopback in front of a server (the tests' and the load bench's PostgreSQL): `down()` refuses new
connections and cuts the open ones (the database unreachable), `cut()` drops the open ones only (a restart or a
failover), `up()` listens again on the same port."""

from __future__ import annotations

import socket
import threading


class TcpProxy:
    """Forwards loopback connections to a server; `down()` refuses and cuts them, `cut()` drops the open ones."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.up()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """The database unreachable: nothing listens, and every open connection is cut."""
        listener, self._listener = self._listener, None
        if listener:
            try:
                listener.shutdown(
                    socket.SHUT_RDWR
                )  # wakes the thread waiting in accept(), which close() alone does not
            except OSError:
                pass
            listener.close()
        self.cut()

    def cut(self) -> None:
        """Every open connection dropped, as a restart of the database drops them."""
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if listener is not self._listener:  # taken down meanwhile
                client.close()
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open |= {client, server}
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.close()
            except OSError:
                pass
