"""A dead endpoint fails fast, and a slow one says what it waits for.

botocore's standard and adaptive retry modes count a connection failure as a transient error
like throttling: every attempt of ``max_attempts`` (10 here, for throttling) is spent on it,
with back-off between them ("Retries", boto3 guide: transient errors include connection errors
and timeouts; botocore/retries/standard.py, ``TransientRetryableChecker`` and
``MaxAttemptsChecker``). Against an endpoint that refuses connections that was a minute of
silence per call, and several minutes against one that never answers. So, for every client:

- a call that cannot connect (refused, DNS, connect timeout, proxy, TLS) is tried
  ``CONNECT_ATTEMPTS`` times: nothing reached AWS, one retry covers a blip;
- a call whose response never came (read timeout) is not retried: the request may have been
  applied (the callers that must not repeat themselves read back instead), and the user learns
  in ``read_timeout`` seconds, not in ten times that;
- throttling and 5xx keep the retry mode's attempts and back-off.

The cap is a ``needs-retry`` handler registered before botocore's own: it re-raises the
attempt's exception, which ends the call as if botocore had given up.

The same handlers time each call, so the CLI can show what it waits for (``slowest``); the
module keeps no terminal code: a notifier the CLI installs (``set_notifier``) is called from
one watcher thread with the slowest call in flight, or None when none is slow.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CONNECT_ATTEMPTS = 2
READ_TIMEOUT_ATTEMPTS = 1
SLOW_AFTER_S = 2.0  # a call in flight this long is worth a word
_TICK_S = 0.25


@dataclass(frozen=True)
class Wait:
    """A call in flight for a while: where to, which operation, for how long."""

    endpoint: str
    operation: str  # "sts:GetCallerIdentity", as the IAM action names it
    seconds: float


Notifier = Callable[[Wait | None], None]

_lock = threading.Lock()
_inflight: dict[int, tuple[str, str, float]] = {}  # thread id -> (endpoint, operation, start)
_notifier: Notifier | None = None
_prepare: Callable[[], None] | None = None
_watcher: threading.Thread | None = None
_stop = threading.Event()


def watch_client(client: Any, *, timed: bool = True) -> None:
    """Cap the client's connection retries and, if ``timed``, time its calls (see the module
    docstring). The sandbox's clients are not timed: they answer in-process, under AWS's URL,
    and a slow moment of this machine is no endpoint to wait for."""
    events = client.meta.events
    events.register_first("needs-retry.*.*", _cap_connection_retries)
    if not timed:
        return
    endpoint = str(client.meta.endpoint_url)
    service = client.meta.service_model.service_name

    def started(model: Any, **_: Any) -> None:
        with _lock:
            _inflight[threading.get_ident()] = (
                endpoint,
                f"{service}:{model.name}",
                time.monotonic(),
            )
        _ensure_watcher()

    def ended(**_: Any) -> None:
        with _lock:
            _inflight.pop(threading.get_ident(), None)

    events.register("before-call.*.*", started)
    events.register("after-call.*.*", ended)
    events.register("after-call-error.*.*", ended)


def _cap_connection_retries(
    attempts: int, caught_exception: BaseException | None = None, **_: Any
) -> None:
    import botocore.exceptions as bx

    if caught_exception is None:
        return
    if isinstance(caught_exception, bx.ConnectionError):
        limit = CONNECT_ATTEMPTS
    elif isinstance(caught_exception, bx.ReadTimeoutError):
        limit = READ_TIMEOUT_ATTEMPTS
    else:
        return
    if attempts >= limit:
        raise caught_exception


def slowest(*, after: float | None = None) -> Wait | None:
    """The call in flight longest, if it has been for ``after`` (SLOW_AFTER_S) seconds or more."""
    after = SLOW_AFTER_S if after is None else after
    now = time.monotonic()
    with _lock:
        calls = list(_inflight.values())
    if not calls:
        return None
    endpoint, operation, start = min(calls, key=lambda c: c[2])
    return Wait(endpoint, operation, now - start) if now - start >= after else None


def set_notifier(notifier: Notifier | None, *, prepare: Callable[[], None] | None = None) -> None:
    """Who hears about slow calls in this run (the CLI's spinner); None stops the watcher.

    ``prepare`` runs once, in the thread of the first call, before the watcher starts: the
    notifier's imports belong there. An import in the watcher thread would take the import
    locks while the main thread imports too, and a Ctrl-C landing in importlib's lock
    callback is printed as an ignored exception with a traceback."""
    global _notifier, _prepare
    if notifier is None:
        _stop_watcher()  # the watcher tells the notifier it had that the wait is over
    _notifier, _prepare = notifier, prepare


def _ensure_watcher() -> None:
    global _watcher, _prepare
    if _notifier is None or (_watcher is not None and _watcher.is_alive()):
        return
    prepare, _prepare = _prepare, None
    if prepare is not None:
        prepare()
    with _lock:
        if _notifier is None or (_watcher is not None and _watcher.is_alive()):
            return
        _stop.clear()
        _watcher = threading.Thread(target=_watch, name="ecrcache-endpoint-wait", daemon=True)
        _watcher.start()


def _watch() -> None:
    shown = False
    while not _stop.wait(_TICK_S):
        notifier = _notifier
        if notifier is None:
            break
        wait = slowest()
        if wait is not None or shown:
            notifier(wait)
        shown = wait is not None
    notifier = _notifier
    if shown and notifier is not None:
        notifier(None)


def _stop_watcher() -> None:
    global _watcher
    watcher, _watcher = _watcher, None
    if watcher is not None:
        _stop.set()
        watcher.join(timeout=2)
    with _lock:
        _inflight.clear()
