"""Writing rewritten files atomically, and showing what changed as a unified diff."""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never half.

    The temporary file sits beside ``path`` (same file system, so ``os.replace`` is atomic) and
    takes its permission bits.
    """
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def unified_diff(path: str, before: str, after: str) -> str:
    """A ``diff -u`` style diff of one file (empty when nothing changed)."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        # git's a/ b/ prefixes, where they make sense (not before an absolute path).
        fromfile=path if path.startswith("/") else f"a/{path}",
        tofile=path if path.startswith("/") else f"b/{path}",
    )
    # A last line without a newline gets git's marker, so the diff still applies.
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
