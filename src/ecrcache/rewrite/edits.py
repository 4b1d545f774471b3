"""Edits to a text: spans of the original replaced by new text, nothing else touched."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Edit:
    """Replace ``text[start:end]`` (which is ``before``) by ``after``. ``line`` is 1-based."""

    start: int
    end: int
    line: int
    before: str
    after: str


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def make_edit(text: str, start: int, end: int, after: str) -> Edit:
    return Edit(start, end, line_of(text, start), text[start:end], after)


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with every edit applied; edits must not overlap (duplicates are merged)."""
    out: list[str] = []
    pos = 0
    for edit in sorted(set(edits)):
        if edit.start < pos:
            raise ValueError(f"overlapping edits at offset {edit.start}")
        out += [text[pos : edit.start], edit.after]
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)
