"""Edits to a text: spans of the original replaced by new text, nothing else touched."""

from __future__ import annotations

from array import array
from bisect import bisect_left
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


class LineIndex:
    """Line numbers of offsets in one text: the newline offsets are found once (``str.find``
    runs in C), then each lookup is a binary search, so N edits cost O(n + N log n), not O(n*N)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._newlines: array[int] | None = None

    def line(self, offset: int) -> int:
        if self._newlines is None:
            # An array of machine integers: 8 bytes a line, where a list of ints takes 36.
            found, find, pos = array("q"), self.text.find, self.text.find("\n")
            while pos >= 0:
                found.append(pos)
                pos = find("\n", pos + 1)
            self._newlines = found
        return bisect_left(self._newlines, offset) + 1

    def edit(self, start: int, end: int, after: str) -> Edit:
        return Edit(start, end, self.line(start), self.text[start:end], after)


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
