"""Whether this run may colour its output: ``--no-color``, ``NO_COLOR`` (https://no-color.org),
for stdout and stderr alike. Free of rich, so the CLI can set it before it knows whether any
rich output will follow (``rewrite`` never imports rich).

The switch is per run: ``cli.app.run`` sets it from argv before click parses, so even a usage
error or the error line of a failed command is plain, and resets it when the run ends.
"""

from __future__ import annotations

import os

_off_for_run = False


def set_off_for_run(off: bool) -> None:
    global _off_for_run
    _off_for_run = off


def allowed(*, no_color: bool = False) -> bool:
    """Colour is allowed unless the caller, the run (--no-color) or NO_COLOR turns it off."""
    return not no_color and not _off_for_run and not os.environ.get("NO_COLOR")
