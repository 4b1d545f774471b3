"""A loopback HTTP proxy that loses responses: it forwards every request to an AWS-like endpoint,
lets the server apply it, and for one chosen (service, operation) occurrence closes the
connection instead of sending the response back. botocore then sees a connection error and
retries, exactly as when AWS applies a call and the answer is lost on the way. It can lose the
request instead (``before=True``): the connection drops before the server sees it.

The operation is read from the request as AWS itself routes it: the ``X-Amz-Target`` header of
the JSON protocols (ECR, Secrets Manager, STS is query), else the ``Action`` form field of the
query protocols (IAM, STS); the service from the SigV4 credential scope of ``Authorization``.
It can also add latency to every request (``delay_s``: a real endpoint is some milliseconds
away, so an interrupt sent "during the k-th call" has a call in flight to land in) and counts the
requests (``wait_for(k)`` returns once the k-th has arrived): the interrupt proof uses that.
Loopback only; one thread per connection; stops with ``stop()``.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SCOPE_RE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
)


def operation_of(headers: dict[str, str], body: bytes) -> tuple[str, str]:
    """(service, operation) of a signed AWS request, e.g. ("iam", "CreatePolicy")."""
    scope = SCOPE_RE.search(headers.get("authorization", ""))
    service = scope.group(1) if scope else "?"
    target = headers.get("x-amz-target")
    if target:
        return service, target.rsplit(".", 1)[-1]
    form = parse_qs(body.decode("utf-8", "replace"))
    return service, form.get("Action", ["?"])[0]


@dataclass
class LossyProxy:
    upstream: str  # http://host:port of the endpoint behind the proxy
    seen: list[tuple[str, str]] = field(default_factory=list)
    lost: list[tuple[str, str]] = field(default_factory=list)
    delay_s: float = 0.0  # latency added to every request, so a call is in flight to hit
    requests: int = 0  # requests arrived so far (``wait_for``)
    _armed: tuple[str, str] | None = None
    _before: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` requests have arrived in all; False on timeout."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self.requests >= count, timeout=timeout)

    def _arrive(self) -> None:
        with self._arrived:
            self.requests += 1
            self._arrived.notify_all()

    def lose_next(self, service: str, operation: str, *, before: bool = False) -> None:
        """Lose the response of the next ``service`` ``operation`` request (once); with
        ``before``, lose the request itself (the server never applies it)."""
        with self._lock:
            self._armed = (service, operation)
            self._before = before

    def reset(self) -> None:
        with self._lock:
            self._armed = None
            self.seen.clear()
            self.lost.clear()

    def _should_lose(self, op: tuple[str, str], *, before: bool) -> bool:
        """Count ``op`` (once, on its way in) and say whether to lose it at this point."""
        with self._lock:
            if before:
                self.seen.append(op)
            if self._armed == op and self._before == before:
                self._armed = None
                self.lost.append(op)
                return True
            return False

    def start(self) -> LossyProxy:
        proxy = self
        target = urlsplit(self.upstream)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy._arrive()
                if proxy.delay_s:
                    time.sleep(proxy.delay_s)
                headers = {k.lower(): v for k, v in self.headers.items()}
                op = operation_of(headers, body)
                if proxy._should_lose(op, before=True):
                    self.close_connection = True  # never forwarded
                    return
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=dict(self.headers))
                    resp = conn.getresponse()
                    data = resp.read()
                finally:
                    conn.close()
                if proxy._should_lose(op, before=False):
                    # Applied upstream; the caller never hears back.
                    self.close_connection = True
                    return
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
