"""sandbox serve's middleware under concurrent requests: each change is saved before it is
answered while concurrent changes share saves, and a stop waits for the request in flight."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ecrcache.sandbox.serve import StateKeepingApp, StateSaver

CREATE = "AmazonEC2ContainerRegistry_V20150921.CreateRepository"


def _request(target: str = CREATE) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "HTTP_X_AMZ_TARGET": target,
        "CONTENT_TYPE": "application/x-amz-json-1.1",
        "wsgi.input": io.BytesIO(b"{}"),
    }


class _CountingSaver(StateSaver):
    """The 'state' is how many changes the backend made; a write takes ``write_s``."""

    def __init__(self, backend: _Backend, write_s: float) -> None:
        super().__init__(Path("/nonexistent/state"))
        self.backend = backend
        self.write_s = write_s
        self.written: list[int] = []
        self._writing = threading.Lock()

    def encode(self) -> bytes:
        return str(self.backend.count).encode()

    def write(self, data: bytes) -> bool:
        assert self._writing.acquire(blocking=False), "two writers at once"
        try:
            time.sleep(self.write_s)
            self.written.append(int(data))
        finally:
            self._writing.release()
        return True


class _Backend:
    def __init__(self) -> None:
        self.count = 0
        self.inside = 0
        self.overlapped = False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.inside += 1
        self.overlapped |= self.inside > 1
        time.sleep(0.001)  # a thread switch here would show two dispatches at once
        self.count += 1
        mine = self.count
        self.inside -= 1
        start_response("200 OK", [])
        return [str(mine).encode()]


def _run(app: StateKeepingApp, saver: _CountingSaver) -> tuple[str, int, int]:
    """Status, the change number the backend answered, what the file held when answered."""
    got: list[str] = []
    held: list[int] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        got.append(status)
        held.append(max(saver.written, default=0))

    answer = app(_request(), start_response)
    body = b"".join(answer)
    getattr(answer, "close", lambda: None)()
    return got[0], int(body or b"0"), held[0]


@pytest.mark.parametrize("serial", [False, True])
def test_every_concurrent_change_is_saved_before_it_is_answered(serial: bool) -> None:
    backend = _Backend()
    saver = _CountingSaver(backend, write_s=0.02)
    app = StateKeepingApp(backend, saver, lambda _: None, serial=serial)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: _run(app, saver), range(64)))
    assert not backend.overlapped  # moto's backends see one request at a time
    assert sorted(n for _, n, _ in results) == list(range(1, 65))
    for status, change, held in results:
        assert status == "200 OK"
        assert held >= change  # the file held this change when it was answered
    assert saver.written == sorted(saver.written) and saver.written[-1] == 64  # none lost
    if serial:
        assert len(saver.written) == 64  # the old server: one write per change
    else:
        assert len(saver.written) < 64  # concurrent changes shared writes


def test_a_stop_waits_for_the_request_in_flight_and_refuses_new_ones() -> None:
    entered, release = threading.Event(), threading.Event()
    events: list[str] = []

    def slow(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        entered.set()
        assert release.wait(10)
        events.append("moto")
        start_response("200 OK", [])
        return [b"{}"]

    class Saver(StateSaver):
        def encode(self) -> bytes:
            return b"x"

        def write(self, data: bytes) -> bool:
            events.append("save")
            return True

    app = StateKeepingApp(slow, Saver(Path("/nonexistent/state")), lambda _: None)
    statuses: list[str] = []

    def request() -> None:
        answer = app(_request(), lambda status, headers, exc_info=None: statuses.append(status))
        events.append("answer")
        getattr(answer, "close", lambda: None)()
        events.append("sent")

    in_flight = threading.Thread(target=request)
    in_flight.start()
    assert entered.wait(10)
    assert app.close(timeout=0.1) is False  # still in flight: not stopped yet
    refused: list[str] = []
    app(_request(), lambda status, headers, exc_info=None: refused.append(status))
    assert refused == ["503 Service Unavailable"]
    closed: list[bool] = []
    closer = threading.Thread(target=lambda: closed.append(app.close(timeout=10)))
    closer.start()
    time.sleep(0.1)
    assert closed == []
    release.set()
    in_flight.join(10)
    closer.join(10)
    assert closed == [True]
    assert statuses == ["200 OK"]
    assert events == ["moto", "save", "answer", "sent"]  # saved, answered, sent, then stopped
