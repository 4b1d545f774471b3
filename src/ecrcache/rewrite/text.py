"""Rewrite one reference as written in a string or a file, changing only the name's bytes.

Pure. The tag and digest are kept byte for byte (no ``:latest`` is added, a tag beside a digest
stays); in files, ``${VAR}`` and ``$VAR`` in a tag or digest are kept verbatim too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ecrcache.errors import InvalidReferenceError
from ecrcache.rewrite import refs
from ecrcache.rewrite.mapping import Mapping

# Shell-style variables as Compose and Dockerfiles expand them.
VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Rewrite:
    """``after`` equals ``before`` when nothing changes; ``warning`` then says why, if it is
    something the user should know (no rule, a variable in the name, not a reference)."""

    before: str
    after: str
    warning: str | None = None

    @property
    def changed(self) -> bool:
        return self.after != self.before


def split_name(text: str) -> tuple[str, str]:
    """``text`` as (name, ``:tag@digest`` suffix), seeing through variables in the tag."""
    masked = VARIABLE.sub(lambda m: "x" * len(m.group()), text)
    end = masked.find("@")
    end = len(masked) if end < 0 else end
    colon = masked.find(":", masked.rfind("/", 0, end) + 1, end)
    if colon >= 0:
        end = colon
    return text[:end], text[end:]


def rewrite_reference(text: str, mapping: Mapping, *, reverse: bool = False) -> Rewrite:
    """Rewrite a complete reference; raises InvalidReferenceError if it is not one."""
    ref = refs.parse_image(text)
    return _map(text, refs.written_name(text, ref), ref, mapping, reverse=reverse)


def rewrite_in_file(text: str, mapping: Mapping, *, reverse: bool = False) -> Rewrite:
    """Like :func:`rewrite_reference`, but variables may stand in the tag or digest, and a value
    that is not a reference is a warning, not an error."""
    name, suffix = split_name(text)
    if "$" in name:
        return Rewrite(text, text, f"{text}: the image name uses a variable; left unchanged")
    try:
        ref = refs.parse_image(text if "$" not in suffix else name)
    except InvalidReferenceError as exc:
        return Rewrite(text, text, f"{exc.message}; left unchanged")
    return _map(text, name, ref, mapping, reverse=reverse)


def _map(text: str, name: str, ref: refs.Reference, mapping: Mapping, *, reverse: bool) -> Rewrite:
    target = mapping.reverse(ref) if reverse else mapping.forward(ref)
    if target is None:
        return Rewrite(text, text, unmapped_message(text, ref, mapping, reverse=reverse))
    return Rewrite(text, target.name + text[len(name) :])


def unmapped_message(text: str, ref: refs.Reference, mapping: Mapping, *, reverse: bool) -> str:
    if reverse and not mapping.is_cache(ref):
        return f"{text}: not in this cache ({mapping.registry}); left unchanged"
    if reverse:
        return f"{text}: no pull-through cache rule has a prefix for {ref.path!r}; left unchanged"
    return f"{text}: no pull-through cache rule for {ref.domain}; left unchanged"
