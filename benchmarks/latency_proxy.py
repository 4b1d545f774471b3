"""A loopback HTTP proxy that adds a fixed latency to every AWS call and counts the calls.

The round trip to a distant region, in front of ``ecrcache sandbox serve``. Each client
connection gets a thread, and each thread keeps one keep-alive connection to the server. The
response goes back in one ``sendall`` (status line, headers and body together) on a socket with
TCP_NODELAY: written in pieces, the body would wait for the client's delayed ACK of the headers
(about 40 ms on Linux) and the proxy would measure that instead of the latency it adds.

The operation is read as AWS routes it (the SigV4 scope's service, then ``X-Amz-Target`` or the
query protocol's ``Action``), so the count is per ``service.Operation``.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

SCOPE_RE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
)


def operation_of(headers: Any, body: bytes) -> str:
    scope = SCOPE_RE.search(headers.get("Authorization", ""))
    service = scope.group(1) if scope else "?"
    target = headers.get("X-Amz-Target")
    if target:
        return f"{service}.{target.rsplit('.', 1)[-1]}"
    form = parse_qs(body.decode("utf-8", "replace"))
    return f"{service}.{form.get('Action', ['?'])[0]}"


@dataclass
class LatencyProxy:
    upstream_port: int
    delay: float
    calls: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset(self) -> Counter[str]:
        with self._lock:
            seen, self.calls = self.calls, Counter()
        return seen

    def start(self) -> LatencyProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            upstream: http.client.HTTPConnection | None = None

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy._lock:
                    proxy.calls[operation_of(self.headers, body)] += 1
                time.sleep(proxy.delay)
                if self.upstream is None:
                    self.upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port)
                    self.upstream.connect()
                    assert self.upstream.sock is not None
                    self.upstream.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                self.upstream.request(self.command, self.path, body, headers)
                resp = self.upstream.getresponse()
                data = resp.read()
                head = [f"HTTP/1.1 {resp.status} {resp.reason}"]
                head += [f"{k}: {v}" for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
                head += [f"Content-Length: {len(data)}", "Connection: keep-alive", "", ""]
                self.wfile.write("\r\n".join(head).encode("latin-1") + data)  # one write
                self.wfile.flush()

            do_POST = do_GET = do_PUT = do_DELETE = do_HEAD = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
