"""Parse YAML into node trees one document at a time, fast and bounded.

Pure. libyaml's parser through PyYAML (``CParser``, as in ``CSafeLoader``) when it is
installed, else PyYAML's own; both give the same node marks (character offsets, tested) and the
same tags as ``SafeLoader``. The garbage collector is paused while
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
from itertools import pairwise
from typing import Any, ClassVar

import yaml
import yaml.composer
import yaml.parser
import yaml.reader
import yaml.resolver
import yaml.scanner

from ecrcache.rewrite.unreadable import FileShapeError


class _Resolver(yaml.resolver.Resolver):
    """PyYAML's safe resolver (the same tags), trimmed for composing only: the composer calls
    it for every node, and in libyaml's binding it is most of the Python time left. No path
    resolvers are ever registered here, so their bookkeeping is skipped."""

    _by_first: ClassVar[dict[str, tuple[tuple[str, re.Pattern[str]], ...]]] = {}

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, regexp in self._by_first.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return self.DEFAULT_SCALAR_TAG
        return self.DEFAULT_SEQUENCE_TAG if kind is yaml.SequenceNode else self.DEFAULT_MAPPING_TAG


_Resolver._by_first = {
    first: tuple(resolvers + _Resolver.yaml_implicit_resolvers.get(None, []))
    for first, resolvers in _Resolver.yaml_implicit_resolvers.items()
    if first is not None
}

try:
    from yaml.cyaml import CParser
except ImportError:  # PyYAML built without libyaml
    CParser = None

if CParser is not None:

    class Loader(CParser, _Resolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _Resolver.__init__(self)

else:  # pragma: no cover - exercised only where libyaml is missing

    class Loader(  # type: ignore[no-redef]
        yaml.reader.Reader,
        yaml.scanner.Scanner,
        yaml.parser.Parser,
        yaml.composer.Composer,
        _Resolver,
    ):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _Resolver.__init__(self)


# Far beyond real files (argo-cd's CRD schemas nest about 30 deep), far below what crashes
# libyaml's binding (100,000 levels; 10,000 are read fine).
MAX_DEPTH = 2000
# "\n" rather than "^" with MULTILINE: the same lines (the first is done apart), ten times faster.
_DOCUMENT_MARKER = re.compile(r"\n(?:---|\.\.\.)(?=[ \t\r\n]|\Z)")
_STARTS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_ENDS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


@contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def shallow(text: str, limit: int) -> bool:
    """Whether no document of ``text`` can nest deeper than ``limit``, by a bound that is cheap
    to compute (``str`` and ``re`` scans, in C). A flow level opens with ``[`` or ``{`` (an
    empty ``[]`` or ``{}`` holds nothing deeper); a block level is indented deeper or opens
    compactly after ``- ``/``? ``/``: `` at the start of a line, and one indentation holds at
    most two levels (``key:`` then ``- x``). A line starting ``---`` or ``...`` ends a document
    wherever it is (even inside a block scalar), so each document is bounded on its own."""
    cuts = [0, *(m.start() for m in _DOCUMENT_MARKER.finditer(text)), len(text)]
    flow = 0
    for start, end in pairwise(cuts):
        opens = text.count("[", start, end) + text.count("{", start, end)
        if opens > flow:
            empty = text.count("[]", start, end) + text.count("{}", start, end)
            flow = max(flow, opens - empty + (1 if empty else 0))
    lead = (limit - 2 - flow) // 2  # the longest line lead that keeps the bound
    if lead < 0:
        return False
    too_long = re.compile(rf"[ \t?:-]{{{lead + 1}}}")
    return not too_long.match(text) and not re.search("\n" + too_long.pattern, text)


def too_deep(filename: str, line: int | None = None) -> FileShapeError:
    where = f"{filename or 'YAML'}:{line}" if line else (filename or "YAML")
    return FileShapeError(
        f"{where}: nested too deep to read safely; not rewritten",
        hint=f"ecrcache reads YAML up to {MAX_DEPTH} levels deep; no real manifest nests so deep",
    )


def check_depth(text: str, filename: str) -> None:
    if shallow(text, MAX_DEPTH):
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
