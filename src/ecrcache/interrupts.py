"""Ctrl-C (SIGINT) in one run: noticed wherever it lands, held back where stopping half-way would
lose work, and reported with what had been applied.

``install()`` puts a handler in place that raises KeyboardInterrupt, as Python's own does, and
remembers that a SIGINT came: typer turns KeyboardInterrupt into a bare exit code 130, and the
CLI's boundary needs to tell that from a command's own exit. Inside ``held()`` the handler only
records the signal, and KeyboardInterrupt is raised where the outermost ``held()`` block ends
(the sandbox saves its state so: the file is then the old state or the new one, and holds every
change reported done). Python runs signal handlers in the main thread only, so worker threads
are never interrupted, and ``held()`` outside the main thread does nothing.

The ledger (``record_applied``/``applied``) lists the changes of the run in the order they were
made, so an interrupt between two changes, or after the last one, still reports them; whoever
must persist a change before it is reported done (the ``--sandbox`` state) registers with
``persisting``. Under ``[targets]`` each target's work runs ``in_target(name)``, and its changes
are listed as ``"<target>: <action> <kind>.<key>"``: the same change can be made in several
accounts, and which ones were done is what the user must know.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from types import FrameType, TracebackType
from typing import Any


class _RunState:
    def __init__(self) -> None:
        self.held = 0
        self.pending = False  # a SIGINT came inside held(): raise it when the block ends
        self.received = False  # a SIGINT came at all during this run
        self.applied: list[str] = []
        self.persist: list[Callable[[], None]] = []


_state = _RunState()
_target = threading.local()  # the target whose work runs in this thread (run_targets)


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    _state.received = True
    if _state.held:
        _state.pending = True
        return
    raise KeyboardInterrupt


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def install() -> Callable[[], None]:
    """Start a run: an empty ledger and the handler in place. Returns what restores the handler
    that was there before (a no-op outside the main thread, where handlers cannot be set)."""
    _state.held, _state.pending, _state.received = 0, False, False
    _state.applied = []
    if not _main_thread() or signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        return lambda: None  # started with SIGINT ignored (nohup, a script's background job)
    previous = signal.signal(signal.SIGINT, _on_sigint)

    def restore() -> None:
        signal.signal(signal.SIGINT, previous)

    return restore


def received() -> bool:
    """Whether a SIGINT came since ``install()``."""
    return _state.received


def record_applied(change: str) -> None:
    """Note ``change`` as made. Whoever must persist it first (the sandbox saves its state,
    see ``persisting``) does so now, before the change is reported done."""
    for persist in tuple(_state.persist):
        persist()
    name = getattr(_target, "name", None)
    _state.applied.append(f"{name}: {change}" if name else change)


@contextlib.contextmanager
def in_target(name: str) -> Iterator[None]:
    """Within the block (in this thread), changes recorded are the target ``name``'s."""
    previous = getattr(_target, "name", None)
    _target.name = name
    try:
        yield
    finally:
        _target.name = previous


@contextlib.contextmanager
def persisting(save: Callable[[], None]) -> Iterator[None]:
    """Within the block, run ``save`` each time a change is recorded as made."""
    _state.persist.append(save)
    try:
        yield
    finally:
        _state.persist.remove(save)


def applied() -> tuple[str, ...]:
    return tuple(_state.applied)


SHOWN = 10  # changes named in a hint; beyond, counted by action and kind


def applied_summary(done: Sequence[str]) -> str:
    """``done`` (``"<action> <kind>.<key>"`` each, in order) in a few words: each change up to
    SHOWN, beyond that counted by action and kind."""
    if not done:
        return "nothing"
    if len(done) <= SHOWN:
        return ", ".join(done)
    counts = Counter(d.split(".", 1)[0] for d in done)
    return f"{len(done)} changes (" + ", ".join(f"{n} x {k}" for k, n in counts.items()) + ")"


def applied_hint(done: Sequence[str], *, before: str = "") -> str:
    """The hint of an apply that stopped (a failure or Ctrl-C, wherever it landed): what it had
    applied, and that running it again does the rest. ``before``: the failure's own hint."""
    return (
        f"{before}applied before it stopped: {applied_summary(done)}. "
        "Run apply again: it picks up where this stopped"
    )


class held:
    """``with held():`` SIGINT waits until the block ends, then raises KeyboardInterrupt there
    (unless the block is already raising). Nests. Works without ``install()`` too: the handler
    is then put in place for the block, and a held SIGINT goes to the previous handler."""

    def __enter__(self) -> None:
        self._previous: Any = None
        self._active = _main_thread()  # elsewhere no SIGINT can land: nothing to hold
        if not self._active:
            return
        _state.held += 1  # before anything else: from here on, the handler (if ours) holds
        if signal.getsignal(signal.SIGINT) not in (_on_sigint, signal.SIG_IGN):
            self._previous = signal.signal(signal.SIGINT, _on_sigint)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._active:
            return
        _state.held -= 1
        previous, self._previous = self._previous, None
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if _state.held or not _state.pending:
            return
        _state.pending = False
        if exc_type is not None:
            return  # the block's own exception goes on; the interrupt is recorded in received()
        if previous is None or previous is _on_sigint:
            raise KeyboardInterrupt
        if callable(previous):
            previous(signal.SIGINT, None)
        elif previous == signal.SIG_DFL:
            signal.raise_signal(signal.SIGINT)
