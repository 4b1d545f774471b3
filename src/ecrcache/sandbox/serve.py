"""``ecrcache sandbox serve``: the sandbox as a local AWS endpoint on 127.0.0.1.

moto's own WSGI application (every service moto has, ecrcache's ECR extension installed) behind
a small middleware, ``StateKeepingApp``, that makes it the same simulated account as
``--sandbox``:

- requests run one at a time (moto's backends are not written for concurrent writers, and a
  snapshot must not see half a request);
- after every request that can change the account, the whole state is saved (atomically, see
  ``statefile.write_bytes``) *before* the response is sent: whatever a client was told happened
  survives a crash, SIGKILL or Ctrl-C, and the file always holds a whole state, old or new;
- the server holds the state's lock for its whole life, and announces its endpoint in the lock
  file: a ``--sandbox`` run meanwhile is refused at once, naming the endpoint to use instead
  (``runtime._locked``). Both sides reloading on change was the alternative; it would stall the
  server's clients for as long as a ``--sandbox`` command ran, for no gain over pointing that
  command at the server.

An error inside moto or the extension (an operation moto models only in part) is answered as
AWS answers its own, a 500 InternalFailure, and logged in one line naming the exception's type
and place, not its message, which may quote the request; the traceback only with --debug.

Any access key is accepted (moto checks no signature) and maps to the sandbox's account.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import logging
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from ecrcache.errors import SandboxError

HOST = "127.0.0.1"
# Operation names that only read (as ecrcache.aws.READ_PREFIXES); anything else is saved after.
_READ_PREFIXES = ("Describe", "List", "Get", "Validate", "BatchGet", "BatchCheck")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_STOP_WAIT_S = 30.0  # how long Ctrl-C waits for the request in progress to finish and be saved

Log = Callable[[str], None]
StartResponse = Callable[..., Any]


def operation(environ: dict[str, Any]) -> tuple[str, str]:
    """(service, operation) of a request, as far as it can be told; '' where it cannot.

    JSON protocols (ECR, Secrets Manager, Cost Explorer, KMS) name the operation in X-Amz-Target,
    query protocols (IAM, STS) in the form body's or query string's Action. The service is the
    SigV4 scope's; never anything else of the Authorization header (it names the access key).
    """
    service = ""
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    scope = auth.split("Credential=", 1)[1].split(",", 1)[0] if "Credential=" in auth else ""
    parts = scope.split("/")
    if len(parts) == 5:
        service = parts[3]
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if target:
        return service, target.rsplit(".", 1)[-1]
    action = parse_qs(str(environ.get("QUERY_STRING", ""))).get("Action")
    if not action and str(environ.get("CONTENT_TYPE", "")).startswith(
        "application/x-www-form-urlencoded"
    ):
        action = parse_qs(_peek_body(environ).decode("utf-8", "replace")).get("Action")
    return service, action[0] if action else ""


def _peek_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back for the application."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def may_change_state(environ: dict[str, Any], op: str) -> bool:
    if str(environ.get("PATH_INFO", "")).startswith("/moto-api"):  # reset, seeding: POSTs
        return environ.get("REQUEST_METHOD") not in _SAFE_METHODS
    if op:
        return not op.startswith(_READ_PREFIXES)
    return environ.get("REQUEST_METHOD") not in _SAFE_METHODS  # REST protocols: by method


class StateSaver:
    """Saves the moto backends to the state file, skipping a save that would change nothing."""

    def __init__(self, path: Path) -> None:
        from ecrcache.sandbox import statefile

        self.path = path
        self._statefile = statefile
        self._last: bytes | None = None

    def load(self) -> None:
        """Put the saved account in place (before the server takes any request)."""
        saved = self._statefile.read(self.path)
        if saved:
            self._statefile.restore(saved)
            self._last = self._statefile.encode(self._statefile.snapshot())
            return
        # A new account starts as --sandbox starts one: with the roles the example names.
        from moto.core import DEFAULT_ACCOUNT_ID

        from ecrcache.sandbox.seed import seed_backend

        seed_backend(DEFAULT_ACCOUNT_ID)
        self._last = b""  # not saved yet: the first change (or the exit) writes it

    def save_at_exit(self) -> None:
        """A last save, in case a change came from a request not taken for one; none for a
        server that neither loaded nor saved a state (it would only write an empty account)."""
        if self._last is not None:
            self.save()

    def save(self) -> bool:
        data = self._statefile.encode(self._statefile.snapshot())
        if data == self._last:
            return False
        self._statefile.write_bytes(self.path, data)
        self._last = data
        return True


class StateKeepingApp:
    """WSGI middleware: one request at a time, and the state saved before a change is answered."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        saver: StateSaver,
        log: Log,
        *,
        debug: bool = False,
    ) -> None:
        self._app = app
        self._saver = saver
        self._log = log
        self._debug = debug
        self._lock = threading.Lock()
        self._closing = False

    def close(self, timeout: float = _STOP_WAIT_S) -> bool:
        """Refuse further requests; wait for the one in progress (saved before it answers)."""
        self._closing = True
        if self._lock.acquire(timeout=timeout):
            self._lock.release()
            return True
        return False

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        service, op = operation(environ)
        changes = may_change_state(environ, op)
        with self._lock:
            if self._closing:
                return _plain(start_response, "503 Service Unavailable", "the sandbox is stopping")
            note = ""
            try:
                status, headers, body = _call(self._app, environ)
            except Exception as exc:  # a gap in moto or the extension: one line, not a page
                note = f" ({_where(exc)})"
                if self._debug:
                    self._log("".join(traceback.format_exception(exc)).rstrip())
                status, headers, body = _error("500 Internal Server Error", exc)
            if changes:
                try:
                    note += " (saved)" if self._saver.save() else ""
                except Exception as exc:  # the change is in memory only: do not acknowledge it
                    why = exc.strerror if isinstance(exc, OSError) else _where(exc)
                    self._log(f"cannot save the sandbox state {self._saver.path}: {why}")
                    status, headers, body = _error("500 Internal Server Error", exc)
        name = ".".join(p for p in (service, op) if p)
        name = name or f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
        self._log(f"{time.strftime('%H:%M:%S')} {name} {status.split(' ', 1)[0]}{note}")
        start_response(status, headers)
        return [body]


def _call(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> tuple[str, Any, bytes]:
    """Run the WSGI app to completion: the whole response, before anything is sent."""
    got: dict[str, Any] = {}
    written: list[bytes] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], Any]:
        got["status"], got["headers"] = status, headers
        return written.append

    result = app(environ, start_response)
    try:
        written.extend(result)
    finally:
        close = getattr(result, "close", None)
        if callable(close):
            close()
    return got["status"], list(got["headers"]), b"".join(written)


def _where(exc: BaseException) -> str:
    """The exception's type and innermost frame, not its message (which may quote a request)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    parts = Path(last.filename).parts
    short = "/".join(parts[-3:])
    return f"{type(exc).__name__} at {short}:{last.lineno}"


def _error(status: str, exc: BaseException) -> tuple[str, Any, bytes]:
    doc = {"__type": "InternalFailure", "message": f"sandbox internal error ({_where(exc)})"}
    return status, [("Content-Type", "application/x-amz-json-1.1")], json.dumps(doc).encode()


def _plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain")])
    return [text.encode()]


def _listen(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:port (0: a free one), or SandboxError in one line.
    Bound here, not by werkzeug, which prints and exits the process on failure."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart after Ctrl-C
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SandboxError(
                f"port {port} on {HOST} is in use by another program",
                hint="choose another with --port N, or --port 0 for a free one",
            ) from None
        raise SandboxError(
            f"cannot listen on {HOST}:{port}: {exc.strerror or exc}",
            hint="choose another port with --port N, or --port 0 for a free one",
        ) from None
    return sock


@dataclass
class SandboxServer:
    """A bound, not yet serving, sandbox server. ``serve_forever`` returns on Ctrl-C."""

    url: str
    port: int
    state_path: Path
    saver: StateSaver
    app: StateKeepingApp
    httpd: Any

    def serve_forever(self) -> None:
        # werkzeug's serve_forever returns quietly on KeyboardInterrupt (Ctrl-C), and on
        # shutdown() from another thread.
        self.httpd.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        """Stop from another thread (in-process use)."""
        self.httpd.shutdown()


@contextlib.contextmanager
def sandbox_server(
    *, port: int, state_path: Path, log: Log | None = None, debug: bool = False
) -> Iterator[SandboxServer]:
    """Take the state's lock, load the saved account, listen on 127.0.0.1:``port``; on exit
    wait for the request in progress, save, and release the lock. SandboxError (one line, a
    hint) when the state is held or unreadable, or the port cannot be had."""
    from ecrcache.sandbox import runtime

    runtime._require_moto()
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from ecrcache.sandbox.ecr_extension import install

    install()
    # werkzeug's access log names the path only ("POST /"): the app logs the operation instead.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with runtime._locked(state_path):
        saver = StateSaver(state_path)
        saver.load()  # before listening: a bad file is reported, and left untouched
        sock = _listen(port)
        bound = sock.getsockname()[1]
        app = StateKeepingApp(
            DomainDispatcherApplication(create_backend_app),
            saver,
            log or (lambda _: None),
            debug=debug,
        )
        try:
            httpd = make_server(
                HOST,
                bound,
                app,
                threaded=True,
                request_handler=MotoRequestHandler,
                fd=sock.fileno(),
            )
        finally:
            sock.close()  # make_server duplicated the descriptor
        url = f"http://{HOST}:{bound}"
        runtime.announce_server(state_path, url)
        server = SandboxServer(url, bound, state_path, saver, app, httpd)
        try:
            yield server
        finally:
            httpd.server_close()
            app.close()
            with contextlib.suppress(Exception):  # every change was saved as it was answered
                saver.save_at_exit()
            runtime.announce_server(state_path, None)
