"""Image references in Dockerfiles: ``FROM``, ``COPY --from``, ``RUN --mount=from=`` and the
``# syntax=`` directive.

Pure. Flags such as ``--platform=$BUILDPLATFORM`` are skipped; stage names and ``scratch`` are
not images; variables in a tag stay verbatim; ``FROM $BASE`` rewrites the default of the global
``ARG BASE=...`` instead. Line continuations, the ``escape`` directive and heredocs are honoured.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ecrcache.rewrite.edits import line_of, make_edit
from ecrcache.rewrite.mapping import Mapping
from ecrcache.rewrite.text import VARIABLE, Rewrite, rewrite_in_file
from ecrcache.rewrite.yamlfiles import Found

_DIRECTIVE = re.compile(r"[ \t]*#[ \t]*([A-Za-z][A-Za-z0-9_-]*)[ \t]*=[ \t]*(\S*)[ \t]*\r?\n?")
_HEREDOC = re.compile(r"<<-?([\"']?)([A-Za-z_][A-Za-z0-9_]*)\1")
_WHOLE_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


@dataclass(frozen=True)
class Token:
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    def after(self, prefix: str) -> Token:
        return Token(self.text[len(prefix) :], self.start + len(prefix))


def _instructions(text: str, start: int, escape: str) -> list[list[Token]]:
    """Each instruction from ``start`` on, as whitespace-separated tokens with offsets."""
    out: list[list[Token]] = []
    lines = text[start:].splitlines(keepends=True)
    offsets = [start]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    i = 0
    while i < len(lines):
        body = lines[i].rstrip("\r\n")
        if not body.strip() or body.lstrip().startswith("#"):
            i += 1
            continue
        tokens: list[Token] = []
        while i < len(lines):
            body = lines[i].rstrip("\r\n")
            stripped = body.rstrip()
            more = stripped.endswith(escape)
            part = stripped[:-1] if more else body
            tokens += [Token(m.group(), offsets[i] + m.start()) for m in re.finditer(r"\S+", part)]
            i += 1
            if not more:
                break
            while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                i += 1  # comment and empty lines inside a continuation are dropped
        if not tokens:  # hostile-input: a lone escape is no instruction (parser rework owns this)
            continue
        out.append(tokens)
        ends = [m.group(2) for t in tokens if (m := _HEREDOC.match(t.text))]
        for word in ends:  # skip each heredoc's body
            while i < len(lines) and lines[i].strip() != word:
                i += 1
            i += 1
    return out


def rewrite_dockerfile(text: str, mapping: Mapping, *, reverse: bool = False) -> Found:
    found = Found(kind="dockerfile")
    pos, escape = 0, "\\"
    # Each reference, and the stage names it may mean (None: any stage of the file).
    images: list[tuple[Token, frozenset[str] | None]] = []
    while m := _DIRECTIVE.match(text, pos):  # parser directives: only at the very top
        if m.group(1).lower() == "escape" and m.group(2):
            escape = m.group(2)
        if m.group(1).lower() == "syntax" and m.group(2):
            images.append((Token(m.group(2), m.start(2)), frozenset()))
        pos = m.end()
        if not m.group().endswith("\n"):
            break

    args: dict[str, Token] = {}
    stages: set[str] = set()
    from_seen = False
    for tokens in _instructions(text, pos, escape):
        keyword, rest = tokens[0].text.upper(), tokens[1:]
        if keyword == "ARG" and not from_seen:
            for tok in rest:
                name, eq, value = tok.text.partition("=")
                if eq and value:
                    args[name] = _unquote(tok.after(name + "="))
        elif keyword == "FROM":
            from_seen = True
            words = [t for t in rest if not t.text.startswith("--")]
            if words:
                images.append((words[0], frozenset(stages)))
            if len(words) >= 3 and words[1].text.upper() == "AS":
                stages.add(words[2].text.lower())
        elif keyword in ("COPY", "ADD"):
            images += [(t.after("--from="), None) for t in rest if t.text.startswith("--from=")]
        elif keyword == "RUN":
            images += [(t, None) for t in _mount_sources(rest)]

    edited: set[int] = set()
    for token, earlier in images:
        known = frozenset(stages) if earlier is None else earlier
        ref = token
        var = _WHOLE_VARIABLE.fullmatch(token.text)
        if var and var.group(1) in args:
            ref = args[var.group(1)]  # FROM $BASE: the ARG's default is the reference
        if ref.start in edited or _not_an_image(ref.text, known):
            continue
        edited.add(ref.start)
        _record(found, text, ref, rewrite_in_file(ref.text, mapping, reverse=reverse))
    return found


def _record(found: Found, text: str, token: Token, result: Rewrite) -> None:
    if result.warning:
        found.warnings.append((line_of(text, token.start), result.warning))
    if result.changed:
        found.edits.append(make_edit(text, token.start, token.end, result.after))


def _not_an_image(text: str, stages: frozenset[str]) -> bool:
    """Stage names (any case), stage indexes, ``scratch``, and names whose variables could
    only make a stage name (``binaries-$TARGETOS``)."""
    lower = text.lower()
    if lower == "scratch" or lower in stages or text.isdigit() or not text:
        return True
    if "$" in text:
        pattern = re.compile(".*".join(re.escape(p) for p in VARIABLE.split(lower)), re.DOTALL)
        return any(pattern.fullmatch(stage) for stage in stages)
    return False


def _mount_sources(tokens: list[Token]) -> list[Token]:
    """The ``from=`` of each ``--mount=...`` (an image, unless it names a stage)."""
    found = []
    for tok in tokens:
        if not tok.text.startswith("--mount="):
            continue
        offset = tok.start + len("--mount=")
        for option in tok.text[len("--mount=") :].split(","):
            if option.startswith("from="):
                found.append(Token(option[5:], offset + 5))
            offset += len(option) + 1
    return found


def _unquote(tok: Token) -> Token:
    if len(tok.text) >= 2 and tok.text[0] == tok.text[-1] and tok.text[0] in "'\"":
        return Token(tok.text[1:-1], tok.start + 1)
    return tok
