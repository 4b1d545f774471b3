"""net.registry against a loopback HTTP server: 401 passes, unreachable and 5xx fail, and the
printed curl probe is what a person would run to see the same."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from test_doctor_machine import env_for, result

from ecrcache.doctor.model import Status


@contextmanager
def registry(status: int) -> Iterator[str]:
    class H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            if status == 401:
                self.send_header(
                    "WWW-Authenticate", 'Basic realm="https://ecr.test/",service="ecr"'
                )
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_registry_answers_401(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    with registry(401) as url:
        env.registry_url = url
        r = result(env, "net.registry")
    assert r.status is Status.PASS and "answers 401" in r.finding


def test_unreachable_then_reachable(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    env.registry_url, env.timeout = f"http://127.0.0.1:{free_port()}", 2.0
    r = result(env, "net.registry")
    assert r.status is Status.FAIL and r.fix is not None
    assert r.fix.commands == (
        f"curl -sS -o /dev/null -w '%{{http_code}}\\n' {env.registry_url}/v2/",
    )
    assert "ecr.dkr" in r.fix.summary
    with registry(401) as url:  # the path fixed: the endpoint answers
        env.registry_url = url
        assert result(env, "net.registry").status is Status.PASS


def test_server_error_fails(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    with registry(503) as url:
        env.registry_url = url
        r = result(env, "net.registry")
    assert r.status is Status.FAIL and "HTTP 503" in r.finding
