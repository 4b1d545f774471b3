"""A count and its noun, in the right number: "1 repository", "0 repositories", "2 images"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, or its plural (``noun + "s"`` unless given) when n is not 1."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"
