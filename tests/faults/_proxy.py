"""A loopback TCP proxy that a fault drill can cut and restore, to make PostgreSQL or Redis unreachable.

    proxy = TcpProxy(5432)          # listens on 127.0.0.1:proxy.port, forwards to 127.0.0.1:5432
    proxy.cut()                     # every open connection is closed, new ones are refused
    proxy.restore()                 # accepts and forwards again, on the same port

Cutting closes the proxy's listening socket too, so a client's connect() is refused at once (the way a
stopped server or a closed firewall port behaves) rather than hanging until its own timeout.
Threads, not asyncio: the drills call it from plain synchronous tests, and a handful of connections is all
a two-worker gunicorn opens.
"""

from __future__ import annotations

import contextlib
import socket
import threading

BUFFER_SIZE = 65536
HOST = "127.0.0.1"


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = HOST) -> None:
        self.target = (target_host, target_port)
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.port = 0
        self._listen()

    @property
    def is_cut(self) -> bool:
        return self._listener is None

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # The same port again after a cut, while the connections it closed sit in TIME_WAIT.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, self.port))
        listener.listen(64)
        self.port = int(listener.getsockname()[1])
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name=f"proxy-{self.port}", daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # cut() shut the listener down
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()  # the real server is down: the client sees its connection closed
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # cut while this connection was being set up
                    client.close()
                    upstream.close()
                    return
                self._sockets.update((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(BUFFER_SIZE):
                target.sendall(data)
        except OSError:
            pass
        finally:
            # Either side ending ends both, as a real connection does.
            for sock in (source, target):
                _shut(sock)
            with self._lock:
                for sock in (source, target):
                    if sock in self._sockets:
                        self._sockets.discard(sock)
                        sock.close()

    def cut(self) -> None:
        """Refuse new connections and close every open one (both ends see the connection end)."""
        with self._lock:
            listener, self._listener = self._listener, None
            open_sockets = list(self._sockets)
        if listener is not None:
            _shut(listener)  # wakes the thread blocked in accept(); close() alone would not on Linux
            listener.close()
        for sock in open_sockets:
            _shut(sock)  # the pump threads wake up, see the end and close them

    def restore(self) -> None:
        if self.is_cut:
            self._listen()

    def close(self) -> None:
        self.cut()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
