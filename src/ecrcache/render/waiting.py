"""What a slow AWS call waits for, on stderr: a spinner on a terminal, one line elsewhere.

``endpointwait`` calls ``notice`` from its watcher thread with the slowest call in flight (or
None once it is over). On a terminal a transient spinner names the endpoint, the operation and
the seconds waited; in a pipe or CI log, where a spinner cannot redraw, one line says the same
once per wait. Another live display (apply's bar, plan's reads) owns the
terminal while it runs: the spinner then stays away.
"""

from __future__ import annotations

import threading

from rich.status import Status  # here, not lazily in Console.status on the watcher thread

from ecrcache.endpointwait import Wait
from ecrcache.render.console import err_console, live_display_active

_lock = threading.Lock()
_status: Status | None = None
_said: set[tuple[str, str]] = set()


def _text(wait: Wait) -> str:
    return f"waiting for {wait.endpoint} ({wait.operation}, {wait.seconds:.0f} s)"


def notice(wait: Wait | None) -> None:
    global _status
    with _lock:
        if wait is None:
            _said.clear()  # the wait is over: a later slow call is news again
            if _status is not None:
                _status.stop()
                _status = None
            return
        if _status is not None:
            _status.update(_text(wait))
            return
        c = err_console()
        if c.is_terminal and not live_display_active():
            _status = c.status(_text(wait))
            _status.start()
        elif (wait.endpoint, wait.operation) not in _said:
            _said.add((wait.endpoint, wait.operation))
            c.print(f"{_text(wait)}…", markup=False, highlight=False)
