"""Rewrite one reference as written in a string or a file, changing only the name's bytes.

Pure. The tag and digest are kept byte for byte (no ``:latest`` is added, a tag beside a digest
stays); in files, ``${VAR}`` and ``$VAR`` in a tag or digest are kept verbatim too. A name that
is a Compose-style ``${VAR:-default}`` is left alone unless asked (``interpolation_defaults``),
then the default is rewritten; template expressions (Helm, Argo, Tekton) are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ecrcache.errors import InvalidReferenceError
from ecrcache.rewrite import refs
from ecrcache.rewrite.mapping import Mapping

# Shell-style variables as Compose and Dockerfiles expand them.
VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
# ``${VAR:-default}`` / ``${VAR-default}`` at the start of a value (Compose, POSIX shell).
DEFAULTED = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^${}]*)\}")
# Helm/Go templates and Argo ``{{...}}``, Tekton and Kubernetes ``$(...)``, GitHub ``${{...}}``.
TEMPLATE = re.compile(r"\{\{|\}\}|\$\(|\{%")

DIGEST_NOTE = (
    "pinned by digest: a pull-through cache does not fill on a first pull by digest alone "
    "(aws/containers-roadmap#2837): pull it once by its tag, then by digest"
)


@dataclass(frozen=True)
class Rewrite:
    """``after`` equals ``before`` when nothing changes; ``warning`` then says why, if it is
    something the user should know (no rule, a variable in the name, not a reference).
    ``note`` is a caveat on a reference that was rewritten (pinned by digest)."""

    before: str
    after: str
    warning: str | None = None
    note: str | None = None

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


def is_template(text: str) -> bool:
    return TEMPLATE.search(text) is not None


def rewrite_in_file(
    text: str, mapping: Mapping, *, reverse: bool = False, interpolation_defaults: bool = False
) -> Rewrite:
    """Like :func:`rewrite_reference`, but variables may stand in the tag or digest, and a value
    that is not a reference is a warning, not an error."""
    if is_template(text):
        return Rewrite(text, text, f"{text}: a template expression, left alone")
    name, suffix = split_name(text)
    if "$" in name:
        if (m := DEFAULTED.match(text)) and m.group(1):
            return _defaulted(text, m, mapping, reverse, interpolation_defaults)
        return Rewrite(text, text, f"{text}: the image name uses a variable; left unchanged")
    try:
        ref = refs.parse_image(text if "$" not in suffix else name)
    except InvalidReferenceError as exc:
        return Rewrite(text, text, f"{exc.message}; left unchanged")
    return _map(text, name, ref, mapping, reverse=reverse)


def _defaulted(
    text: str, m: re.Match[str], mapping: Mapping, reverse: bool, enabled: bool
) -> Rewrite:
    """``${VAR:-default}rest``: the reference used when VAR is unset is ``default + rest``;
    rewrite that and put the new name back into the default, keeping ``rest`` verbatim."""
    if not enabled:
        return Rewrite(
            text,
            text,
            f"{text}: the image name is a variable with a default; left unchanged "
            "(--interpolation-defaults rewrites the default)",
        )
    rest = text[m.end() :]
    used = rewrite_in_file(m.group(1) + rest, mapping, reverse=reverse)
    if not used.changed:
        return Rewrite(text, text, used.warning)
    if not used.after.endswith(rest):
        return Rewrite(
            text, text, f"{text}: the rewritten default would not end with {rest!r}; left unchanged"
        )
    default = used.after[: len(used.after) - len(rest)]
    return Rewrite(text, text[: m.start(1)] + default + text[m.end(1) :], note=used.note)


def _map(text: str, name: str, ref: refs.Reference, mapping: Mapping, *, reverse: bool) -> Rewrite:
    target = mapping.reverse(ref) if reverse else mapping.forward(ref)
    if target is None:
        return Rewrite(text, text, unmapped_message(text, ref, mapping, reverse=reverse))
    after = target.name + text[len(name) :]
    note = f"{text}: {DIGEST_NOTE}" if ref.digest and not reverse and after != text else None
    return Rewrite(text, after, note=note)


def unmapped_message(text: str, ref: refs.Reference, mapping: Mapping, *, reverse: bool) -> str:
    if reverse and not mapping.is_cache(ref):
        return f"{text}: not in this cache ({mapping.registry}); left unchanged"
    if reverse:
        return f"{text}: no pull-through cache rule has a prefix for {ref.path!r}; left unchanged"
    return f"{text}: no pull-through cache rule for {ref.domain}; left unchanged"
