"""A loopback HTTP proxy that adds latency: every request waits ``delay_s`` before it is
forwarded, as a real AWS endpoint is some milliseconds away, so that an interrupt sent "during
the k-th call" has a call in flight to land in. It counts requests; ``wait_for(k)`` returns once
the k-th has arrived. One thread per connection; stop with ``stop()``.
"""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
)


class DelayProxy:
    def __init__(self, upstream: str, *, delay_s: float) -> None:
        self.upstream = upstream
        self.delay_s = delay_s
        self.requests = 0
        self._seen = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` requests have arrived in all; False on timeout."""
        with self._seen:
            return self._seen.wait_for(lambda: self.requests >= count, timeout=timeout)

    def _arrived(self) -> None:
        with self._seen:
            self.requests += 1
            self._seen.notify_all()

    def start(self) -> DelayProxy:
        proxy = self
        target = urlsplit(self.upstream)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy._arrived()
                time.sleep(proxy.delay_s)
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=dict(self.headers))
                    resp = conn.getresponse()
                    data = resp.read()
                finally:
                    conn.close()
                self.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in HOP_BY_HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
