"""Reading what ``rewrite`` rewrites (files, stdin) with a size cap, and writing files back
without turning a link into a copy or losing the file's mode."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from ecrcache.atomicfile import write_atomic
from ecrcache.errors import UsageError
from ecrcache.rewrite.kinds import is_binary

# Larger than any manifest people keep in git (the largest install.yaml files are a few MB), and
# small enough that a mistaken path (a disk image, a database dump) fails at once.
MAX_BYTES = 64 * 1024 * 1024
STDIN = "-"


@dataclass(frozen=True)
class Text:
    """A file's text, or why it was skipped (``text`` None and ``skipped`` the warning)."""

    text: str | None
    skipped: str | None = None


def _too_large(name: str, size: int) -> UsageError:
    return UsageError(
        f"{name}: {size / 2**20:.1f} MiB, more than rewrite reads ({MAX_BYTES // 2**20} MiB)",
        hint="rewrite the image references of a smaller file (split it per document)",
    )


def decode(name: str, data: bytes) -> Text:
    if is_binary(data):
        return Text(None, f"{name}: a binary file; skipped")
    try:
        return Text(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return Text(None, f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start}); skipped")


def read_file(path: Path) -> Text:
    """The file's text; raises UsageError past MAX_BYTES (checked before reading)."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _too_large(str(path), size)
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)  # it may have grown since stat
    except OSError as exc:
        return Text(None, f"{path}: cannot read ({exc.strerror or exc}); skipped")
    if len(data) > MAX_BYTES:
        raise _too_large(str(path), len(data))
    return decode(str(path), data)


def read_stream(stream: BinaryIO | TextIO, name: str = "stdin") -> bytes:
    """All of ``stream`` (binary, or text as UTF-8); raises UsageError past MAX_BYTES without
    reading further."""
    try:
        chunk = stream.read(MAX_BYTES + 1)
    except OSError as exc:  # a closed or unreadable stdin (EIO, EBADF): a usage problem
        raise UsageError(
            f"{name}: cannot be read ({exc.strerror or exc})",
            hint="pipe the text or references in, or name them as arguments",
        ) from None
    data = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
    if len(data) > MAX_BYTES:
        raise UsageError(
            f"{name}: more than rewrite reads ({MAX_BYTES // 2**20} MiB)",
            hint="rewrite the image references of a smaller text (split it per document)",
        )
    return data


def write_back(path: Path, text: str) -> None:
    """Replace the file's contents atomically. A symbolic link stays a link: its target is
    rewritten. The file keeps its permission bits (``write_atomic``)."""
    write_atomic(path.resolve() if path.is_symlink() else path, text.encode("utf-8"))
