"""``ecrcache sandbox serve``: the sandbox as a local AWS endpoint on 127.0.0.1.

moto's own WSGI application (every service moto has, ecrcache's ECR extension installed) behind
a small middleware, ``StateKeepingApp``, that makes it the same simulated account as
``--sandbox``:

- requests are taken concurrently (werkzeug's threaded server, as moto's ThreadedMotoServer),
  but each one's dispatch into moto runs alone: moto 5.2's backends lock only their own
  creation (``moto.core.base_backend.backend_lock``) and the Flask app's
  (``DomainDispatcherApplication.lock``), not their models (ECR's CreateRepository checks the
  name, then inserts), and a snapshot must not see half a request. What overlaps is the rest:
  reading and parsing requests, sending responses, and writing the state file;
- after every request that can change the account, the whole state is saved (atomically, see
  ``statefile.write_bytes``) *before* the response is sent: whatever a client was told happened
  survives a crash, SIGKILL or Ctrl-C, and the file always holds a whole state, old or new.
  Saves are group commits (``_commit``): one writer at a time, each writing a snapshot taken
  under the dispatch lock, and a request whose change a save already holds does not write
  again, so concurrent changes share one fsync and none is lost;
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
        return self.write(self.encode())

    def encode(self) -> bytes:
        """The state file's content now (take it while no request changes the backends)."""
        return self._statefile.encode(self._statefile.snapshot())

    def write(self, data: bytes) -> bool:
        """Write ``data`` unless the file holds it already (one writer at a time)."""
        if data == self._last:
            return False
        self._statefile.write_bytes(self.path, data)
        self._last = data
        return True


class StateKeepingApp:
    """WSGI middleware: one dispatch into moto at a time, and the state saved before a change
    is answered. ``serial`` holds the dispatch lock through the save too, as the server did
    before it served concurrently (the benchmark's baseline, benchmarks/bench_serve.py)."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        saver: StateSaver,
        log: Log,
        *,
        debug: bool = False,
        serial: bool = False,
    ) -> None:
        self._app = app
        self._saver = saver
        self._log = log
        self._debug = debug
        self._serial = serial
        self._dispatch = threading.RLock()  # moto's backends; re-entered by a serial save
        self._save_lock = threading.Lock()  # one writer of the state file at a time
        self._changed = 0  # changing requests dispatched so far
        self._saved = 0  # of those, how many the state file holds
        self._idle = threading.Condition()
        self._in_flight = 0
        self._closing = False

    def close(self, timeout: float = _STOP_WAIT_S) -> bool:
        """Refuse further requests; wait for those in progress (saved before they answer)."""
        with self._idle:
            self._closing = True
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        service, op = operation(environ)
        changes = may_change_state(environ, op)
        with self._idle:
            if self._closing:
                return _plain(start_response, "503 Service Unavailable", "the sandbox is stopping")
            self._in_flight += 1
        try:
            status, headers, body, note = self._handle(environ, changes)
            name = ".".join(p for p in (service, op) if p)
            name = name or f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
            self._log(f"{time.strftime('%H:%M:%S')} {name} {status.split(' ', 1)[0]}{note}")
            start_response(status, headers)
        except BaseException:
            self._done()
            raise
        # in flight until the server has sent it and closes the answer (PEP 3333): a stop
        # waits for that, not only for the save
        return _Answer(body, self._done)

    def _done(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def _handle(self, environ: dict[str, Any], changes: bool) -> tuple[str, Any, bytes, str]:
        with contextlib.ExitStack() as held:
            if self._serial:
                held.enter_context(self._dispatch)
            note, mine = "", 0
            with self._dispatch:
                try:
                    status, headers, body = _call(self._app, environ)
                except Exception as exc:  # a gap in moto or the extension: one line, not a page
                    note = f" ({_where(exc)})"
                    if self._debug:
                        self._log("".join(traceback.format_exception(exc)).rstrip())
                    status, headers, body = _error("500 Internal Server Error", exc)
                if changes:
                    self._changed += 1
                    mine = self._changed
            if changes:
                try:
                    note += " (saved)" if self._commit(mine) else ""
                except Exception as exc:  # the change is in memory only: do not acknowledge it
                    why = exc.strerror if isinstance(exc, OSError) else _where(exc)
                    self._log(f"cannot save the sandbox state {self._saver.path}: {why}")
                    status, headers, body = _error("500 Internal Server Error", exc)
        return status, headers, body, note

    def _commit(self, change: int) -> bool:
        """Make the state file hold change number ``change``; True if this call wrote it.
        A save snapshots every change dispatched so far, so one waiting behind another
        writer usually finds its change written already."""
        with self._save_lock:
            if self._saved >= change:
                return False
            with self._dispatch:  # a whole state: no request half-way through moto
                upto = self._changed
                data = self._saver.encode()
            wrote = self._saver.write(data)  # the fsync, while other requests run
            self._saved = upto
            return wrote


class _Answer(list[bytes]):
    """A response body whose ``close`` (called once by the WSGI server) runs ``done``."""

    def __init__(self, body: bytes, done: Callable[[], None]) -> None:
        super().__init__([body])
        self._on_close: Callable[[], None] | None = done

    def close(self) -> None:
        done, self._on_close = self._on_close, None
        if done is not None:
            done()


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
    *,
    port: int,
    state_path: Path,
    log: Log | None = None,
    debug: bool = False,
    serial: bool = False,
) -> Iterator[SandboxServer]:
    """Take the state's lock, load the saved account, listen on 127.0.0.1:``port``; on exit
    wait for the requests in progress (saved and answered), save, and release the lock.
    SandboxError (one line, a hint) when the state is held or unreadable, or the port cannot
    be had. ``serial``: the old one-request-at-a-time server (the benchmark's baseline)."""
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
            serial=serial,
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
