"""A tiny loopback HTTP server whose answers a test scripts, recording what it received."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: threading.Event | None = None  # wait on it (until set or 5 s) before answering


Handler = Callable[[Seen], Reply]


@dataclass
class FakeServer:
    url: str
    seen: list[Seen]


@contextmanager
def fake_server(handler: Handler, host: str = "127.0.0.1") -> Iterator[FakeServer]:
    seen: list[Seen] = []

    class _H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real registries

        def _any(self) -> None:
            request = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
            seen.append(request)
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            reply = handler(request)
            if reply.delay is not None:
                reply.delay.wait(5)
            try:
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)
            except OSError:
                pass  # the client gave up (timeout tests)

        do_GET = do_HEAD = do_PUT = do_POST = _any

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), _H)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield FakeServer(f"http://{host}:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()
