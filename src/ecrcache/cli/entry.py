"""The ``ecrcache`` entry point: Ctrl-C is handled from its first line, before the heavy imports.

Importing typer, rich and the commands takes a while; a SIGINT landing there, or after the
command finished (while the interpreter shuts down), used to print a traceback or kill the
process by the signal. Here it ends like any other interrupt: exit 130 and one line (the JSON
envelope too under ``--output json``. ``python -m ecrcache`` records a SIGINT from its first
line (``__main__``); the console script from here, after importing this small module.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence

from ecrcache import interrupts
from ecrcache.errors import EXIT_INTERRUPTED


def main(*, early: Sequence[int] = ()) -> None:
    """Run the CLI and exit. ``early``: SIGINTs recorded before this was imported."""
    interrupts.install()
    try:
        if early:
            raise KeyboardInterrupt
        from ecrcache.cli.app import run

        code = run()
        # Done: a Ctrl-C from now on (the interpreter's shutdown) changes nothing. An ignored
        # SIGINT stays ignored through shutdown, where a Python handler would be reset to the
        # default (death by the signal).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        code = _report(sys.argv[1:])
    sys.exit(code)


def _report(argv: list[str]) -> int:
    """One line (and the envelope under --output json) for an interrupt outside run()'s
    boundary: during the imports, or while the boundary itself was reporting. Plain writes:
    rich may be what was being imported."""
    from ecrcache.cli.options import wants_json

    done = interrupts.applied()
    hint = f"applied before it stopped: {', '.join(done)}" if done else None
    if wants_json(argv):
        from ecrcache.cli.failures import error_object
        from ecrcache.errors import Interrupted
        from ecrcache.result import envelope, write_json

        error = error_object(Interrupted("ecrcache interrupted", hint=hint, applied=done))
        write_json(envelope("ecrcache", None, error=error), sys.stdout)
    sys.stderr.write("Error: ecrcache interrupted\n" + (f"Hint: {hint}\n" if hint else ""))
    sys.stderr.flush()
    return EXIT_INTERRUPTED
