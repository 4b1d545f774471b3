"""Reading what a user hands ecrcache, bounded: regular files only, a size cap, and parsers that
refuse deep nesting instead of overflowing the stack.

``-c /dev/zero`` would read for ever and ``-c fifo`` would block on open; a 10,000-deep TOML
array or JSON document makes the standard parsers raise RecursionError. Every file and parsed
document a user gives goes through here, so each of those is one clear error instead.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from ecrcache.errors import EcrcacheError, UsageError

KIB = 1024
MIB = 1024 * KIB
# Generous for what each input really is: configs and Docker config files are a few KiB, and a
# Secrets Manager SecretString is at most 65,536 bytes (botocore model: SecretStringType).
MAX_CONFIG_BYTES = 4 * MIB
MAX_SECRET_BYTES = 64 * KIB
# No document ecrcache reads nests beyond a handful of levels (a lifecycle policy: 5).
MAX_DEPTH = 64


class TooDeep(ValueError):
    """A document nests deeper than MAX_DEPTH (JSON, TOML)."""

    def __init__(self, limit: int = MAX_DEPTH) -> None:
        super().__init__(f"nested more than {limit} levels deep")


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_capped(
    path: Path,
    *,
    limit: int = MAX_CONFIG_BYTES,
    what: str = "file",
    error: type[EcrcacheError] = UsageError,
) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Raises FileNotFoundError as is (callers decide what a missing file means), and ``error``
    for anything else: not a regular file, larger than ``limit``, unreadable. Opens without
    blocking and checks the opened file, so a FIFO never hangs and nothing can swap in between.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise error(
                f"{path}: is {_kind(mode)}; the {what} must be a regular file",
                hint="write it to a file first and pass that path",
            )
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(MIB, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise error(
            f"{path}: larger than {_size(limit)}; too big for a {what}",
            hint="check that this is the right file",
        )
    return b"".join(chunks)


def read_text_capped(
    path: Path,
    *,
    limit: int = MAX_CONFIG_BYTES,
    what: str = "file",
    error: type[EcrcacheError] = UsageError,
) -> str:
    """``read_capped`` decoded as UTF-8; binary content is ``error``, not UnicodeDecodeError."""
    raw = read_capped(path, limit=limit, what=what, error=error)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error(
            f"{path}: not UTF-8 text; the {what} must be text",
            hint="check that this is the right file",
        ) from None


def _size(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit >= MIB else f"{limit // KIB} KiB"


def depth(doc: Any, *, cap: int = MAX_DEPTH) -> int:
    """How deeply lists and dicts nest in ``doc`` (a scalar is 0), counted up to just past
    ``cap``; iterative, so any depth."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > cap:
            break
        stack.extend((child, level) for child in children)
    return deepest


def _bounded(doc: Any, limit: int) -> Any:
    if depth(doc, cap=limit) > limit:
        raise TooDeep(limit)
    return doc


def loads_json(text: str | bytes, *, limit: int = MAX_DEPTH) -> Any:
    """``json.loads``, raising TooDeep (a ValueError, as JSONDecodeError is) for deep nesting."""
    try:
        doc = json.loads(text)
    except RecursionError:
        raise TooDeep(limit) from None
    return _bounded(doc, limit)


def loads_toml(text: str, *, limit: int = MAX_DEPTH) -> dict[str, Any]:
    """``tomllib.loads``, raising TooDeep for deep nesting (TOMLDecodeError as usual)."""
    try:
        doc = tomllib.loads(text)
    except RecursionError:
        raise TooDeep(limit) from None
    return dict(_bounded(doc, limit))
