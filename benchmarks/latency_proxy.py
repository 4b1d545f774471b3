"""An HTTP proxy that adds a fixed delay to every call: a distant region, on loopback.

    with LatencyProxy(upstream_port, delay=0.05) as proxy:
        client = session.client("ecr", endpoint_url=proxy.url, ...)
        ...
        print(proxy.requests)           # calls forwarded so far

It runs in a process of its own (spawned), so its CPU does not compete for the GIL of the client
being measured. Each response goes out in one write, on sockets with TCP_NODELAY: writing the
headers and the body as two segments lets Nagle's algorithm hold the body back until the client's
delayed ACK of the headers, about 40 ms on Linux, which swamps the delay being simulated (the
first version of bench_cost_report's proxy lost 44 ms per call that way, 4 ms calls taking 48).
Loopback only; any method; the body is read whole (AWS API calls are small).

It also counts the calls per operation, read as AWS routes it (the SigV4 scope's service, then
``X-Amz-Target`` or the query protocol's ``Action``): ``proxy.reset()`` returns the counts since
the last reset, fetched from the proxy's process through a path of its own that is never
forwarded.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing as mp
import re
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

SCOPE_RE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
COUNTS_PATH = "/__latency_proxy__/calls"  # answered by the proxy itself: counts, then reset

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
)


def operation_of(headers: Any, body: bytes) -> str:
    """``service.Operation`` of an AWS call, as AWS routes it."""
    scope = SCOPE_RE.search(headers.get("Authorization", ""))
    service = scope.group(1) if scope else "?"
    target = headers.get("X-Amz-Target")
    if target:
        return f"{service}.{target.rsplit('.', 1)[-1]}"
    form = parse_qs(body.decode("utf-8", "replace"))
    return f"{service}.{form.get('Action', ['?'])[0]}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _nodelay(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Upstream(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _nodelay(self.sock)


def serve(port: int, upstream_port: int, delay: float, ready: Any, requests: Any = None) -> None:
    """Serve on 127.0.0.1:``port`` until the process ends, forwarding to ``upstream_port``
    after ``delay`` seconds; ``requests`` (a multiprocessing Value) counts the calls."""
    local = threading.local()
    counts: Counter[str] = Counter()
    counts_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive towards the client, as AWS endpoints do

        def setup(self) -> None:
            super().setup()
            _nodelay(self.connection)

        def log_message(self, *args: Any) -> None:
            pass

        def _counts(self) -> None:
            with counts_lock:
                data = json.dumps(dict(counts)).encode()
                counts.clear()
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\n\r\n"
            self.wfile.write(head.encode("latin-1") + data)

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == COUNTS_PATH:
                return self._counts()
            with counts_lock:
                counts[operation_of(self.headers, body)] += 1
            time.sleep(delay)
            if requests is not None:
                with requests.get_lock():
                    requests.value += 1
            if not hasattr(local, "conn"):
                local.conn = _Upstream("127.0.0.1", upstream_port, timeout=300)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            try:
                local.conn.request(self.command, self.path, body or None, headers)
                resp = local.conn.getresponse()
            except (ConnectionError, http.client.HTTPException):  # closed while idle: once more
                local.conn.close()
                local.conn.request(self.command, self.path, body or None, headers)
                resp = local.conn.getresponse()
            data = resp.read()
            head = [f"HTTP/1.1 {resp.status} {resp.reason}"]
            head += [f"{k}: {v}" for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
            head.append(f"Content-Length: {len(data)}")
            payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
            self.wfile.write(payload if self.command == "HEAD" else payload + data)  # one write

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    ready.set()
    server.serve_forever()


class LatencyProxy:
    """The proxy in a spawned process, for a ``with`` block."""

    def __init__(self, upstream_port: int, *, delay: float) -> None:
        self.port = free_port()
        self.delay = delay
        ctx = mp.get_context("spawn")
        self._ready = ctx.Event()
        self._requests = ctx.Value("q", 0)
        self._process = ctx.Process(
            target=serve,
            args=(self.port, upstream_port, delay, self._ready, self._requests),
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> int:
        return int(self._requests.value)

    def reset(self) -> Counter[str]:
        """The calls forwarded since the last reset, per ``service.Operation``."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", COUNTS_PATH)
            return Counter(json.loads(conn.getresponse().read()))
        finally:
            conn.close()

    def start(self) -> LatencyProxy:
        return self.__enter__()

    def stop(self) -> None:
        self.__exit__(None, None, None)

    def __enter__(self) -> LatencyProxy:
        self._process.start()
        if not self._ready.wait(60):
            self._process.terminate()
            raise RuntimeError("the latency proxy did not start within 60 s")
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.join(10)
