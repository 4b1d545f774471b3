"""Rewrite references given as strings (arguments or stdin lines), keeping their order."""

from __future__ import annotations

from collections.abc import Iterable

from ecrcache.rewrite.mapping import Mapping
from ecrcache.rewrite.text import Rewrite, rewrite_reference


def rewrite_strings(
    lines: Iterable[str], mapping: Mapping, *, reverse: bool = False
) -> tuple[Rewrite, ...]:
    """One result per line, in order. Surrounding whitespace is ignored and a blank line stays
    blank, so output lines match input lines. Raises InvalidReferenceError on the first line
    that is not a reference, before anything is printed."""
    out = []
    for line in lines:
        text = line.strip()
        out.append(rewrite_reference(text, mapping, reverse=reverse) if text else Rewrite("", ""))
    return tuple(out)


def reference_lines(text: str) -> list[str]:
    """The references of a list (stdin): one a line, blank lines and ``#`` comments skipped,
    a comment after a reference too (a reference holds neither blanks nor ``#``)."""
    refs = []
    for line in text.splitlines():
        ref = line.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if ref and not ref.startswith("#"):
            refs.append(ref)
    return refs
