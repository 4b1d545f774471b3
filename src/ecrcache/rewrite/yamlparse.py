"""Parse YAML into node trees one document at a time, fast and bounded.

Pure. libyaml's parser through PyYAML (``CSafeLoader``) when it is installed, else PyYAML's own;
both give the same node marks (character offsets, tested). The garbage collector is paused while
a document is composed (it would walk the growing tree again and again, for nothing: node trees
have no cycles), and documents are yielded one by one, so memory follows the largest document.

PyYAML's composer recurses once per nesting level: in pure Python deep nesting raises
RecursionError, and in libyaml's binding it overflows the C stack (a crash, near 100,000
levels). So a text that could nest deeper than :data:`MAX_DEPTH` is first measured with the
parser's events (a flat loop) and refused if it does; callers turn a RecursionError (from the
pure-Python composer or their own walk) into :func:`too_deep`.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager

import yaml

from ecrcache.errors import EXIT_FAILURE, EcrcacheError

try:
    Loader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    Loader = yaml.SafeLoader

MAX_DEPTH = 500  # far beyond real files (argo-cd's CRD schemas nest about 30 deep)
_LEADS = re.compile(r"^[ \t?:-]*", re.MULTILINE)
_STARTS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_ENDS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


class FileShapeError(EcrcacheError):
    """A file ecrcache cannot read safely (nested too deep, a Dockerfile cut off)."""

    exit_code = EXIT_FAILURE
    code = "unreadable-file"


@contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def depth_bound(text: str) -> int:
    """An upper bound on the nesting depth, cheap to compute: each flow level opens with ``[``
    or ``{``; a block level is indented deeper or opens compactly after ``- ``/``? ``/``: `` at
    the start of a line, and one indentation holds at most two levels (``key:`` then ``- x``)."""
    lead = max(map(len, _LEADS.findall(text)), default=0)
    return text.count("[") + text.count("{") + 2 * lead + 2


def too_deep(filename: str, line: int | None = None) -> FileShapeError:
    where = f"{filename or 'YAML'}:{line}" if line else (filename or "YAML")
    return FileShapeError(
        f"{where}: nested too deep to read safely; not rewritten",
        hint=f"ecrcache reads YAML up to {MAX_DEPTH} levels deep; no real manifest nests so deep",
    )


def check_depth(text: str, filename: str) -> None:
    if depth_bound(text) <= MAX_DEPTH:
        return
    depth = 0
    with gc_paused():
        for event in yaml.parse(text, Loader=Loader):
            if isinstance(event, _STARTS):
                depth += 1
                if depth > MAX_DEPTH:
                    raise too_deep(filename, event.start_mark.line + 1)
            elif isinstance(event, _ENDS):
                depth -= 1


def documents(text: str, filename: str = "") -> Iterator[yaml.Node]:
    """Each non-empty document's root node, composed only when asked for. Raises
    yaml.YAMLError for invalid YAML and FileShapeError for YAML nested too deep."""
    check_depth(text, filename)
    loader = Loader(text)
    try:
        while True:
            with gc_paused():
                try:
                    if not loader.check_node():
                        return
                    node = loader.get_node()
                except RecursionError:
                    raise too_deep(filename) from None
            if node is not None:
                yield node
    finally:
        loader.dispose()
