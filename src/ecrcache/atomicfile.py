"""Replace a file in one step: readers see the old file or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, mode: int | None = None, replace: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it (same file system, so the
    final rename or link is atomic).

    ``mode``: the new file's permission bits; None keeps those of the file it replaces (0o644 for
    a new one). The temporary file is created 0600, so a secret is never readable in between.
    ``replace=False`` links instead of renaming, which raises FileExistsError if ``path`` exists
    (even if another writer made it a moment ago).
    """
    if mode is None:
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
