"""A key path as it is written in TOML, for messages: ``rules."it's: x".upstream``.

A table name may hold dots, spaces, quotes or ": " (``[rules."a: b"]``); joined bare, a message
would show ``rules.a: b.upstream`` and the reader could not tell where the key ends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

_BARE = re.compile(r"[A-Za-z0-9_-]+")  # TOML's bare keys


def toml_key(key: str) -> str:
    """One key as TOML needs it: bare when it may be, else a basic string."""
    return key if _BARE.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def key_path(parts: Iterable[str | int]) -> str:
    """Keys joined with dots, each quoted as TOML needs; list indexes stay numbers."""
    return ".".join(str(p) if isinstance(p, int) else toml_key(p) for p in parts)
