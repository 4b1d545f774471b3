"""The imported config as text: lifecycle policies as friendly keys, the document as TOML.

:func:`lifecycle_keys` turns a live lifecycle policy back into the friendly keys that compile to
exactly it; :func:`pretty_json` indents JSON policies; :func:`to_toml` writes the document that
``importer.build_document`` made, with its notes as comments above their tables. Pure.
"""

from __future__ import annotations

import json
import textwrap
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ecrcache.policy.lifecycle import compile_rules, normalise

if TYPE_CHECKING:
    from ecrcache.reconcile.importer import ImportResult

# --- lifecycle -------------------------------------------------------------------------------

_SINGLE_KEYS = (
    "keep_last",
    "expire_untagged_after_days",
    "archive_unpulled_after_days",
    "expire_archived_after_days",
)


def lifecycle_keys(policy: str) -> dict[str, Any]:
    """The friendly lifecycle keys that compile to exactly ``policy``, else ``{"policy": ...}``.

    Each live rule is matched against what each friendly key compiles to for its count
    (descriptions included); the keys found are then compiled together and compared whole.
    """
    live = normalise(policy)
    friendly: dict[str, Any] = {}
    patterns: dict[str, int] = {}
    for rule in json.loads(live).get("rules", []):
        found = _friendly_rule(rule)
        if found is None:
            return {"policy": pretty_json(live)}
        key, value = found
        if key == "keep_tagged":
            pattern, count = value
            if pattern in patterns:
                return {"policy": pretty_json(live)}
            patterns[pattern] = count
        elif key in friendly:
            return {"policy": pretty_json(live)}
        else:
            friendly[key] = value
    try:
        compiled = compile_rules(**friendly, keep_last_tag_patterns=patterns or None)
    except ValueError:
        return {"policy": pretty_json(live)}
    if normalise(compiled) != live:
        return {"policy": pretty_json(live)}
    return {**friendly, **({"keep_tagged": patterns} if patterns else {})}


def _friendly_rule(rule: Any) -> tuple[str, Any] | None:
    if not isinstance(rule, dict) or not isinstance(rule.get("selection"), dict):
        return None
    body = {k: v for k, v in rule.items() if k != "rulePriority"}
    count = rule["selection"].get("countNumber")
    if type(count) is not int or count < 1:
        return None
    for key in _SINGLE_KEYS:
        if _compiled_body(**{key: count}) == body:
            return key, count
    patterns = rule["selection"].get("tagPatternList")
    if (
        isinstance(patterns, list)
        and len(patterns) == 1
        and isinstance(patterns[0], str)
        and _compiled_body(keep_last_tag_patterns={patterns[0]: count}) == body
    ):
        return "keep_tagged", (patterns[0], count)
    return None


def _compiled_body(**kwargs: Any) -> dict[str, Any] | None:
    try:
        (rule,) = compile_rules(**kwargs)["rules"]
    except ValueError:
        return None
    return {k: v for k, v in rule.items() if k != "rulePriority"}


def pretty_json(text: str) -> str:
    """JSON text indented for a TOML multi-line string (normalised again when loaded)."""
    return json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


# --- TOML ------------------------------------------------------------------------------------


def to_toml(result: ImportResult, *, header: Sequence[str] = ()) -> str:
    """The document as TOML: tomli-w writes it; JSON policies become ``'''`` literal strings
    (readable, no escaping) and notes become comments above their tables."""
    import tomli_w

    literals: dict[str, str] = {}
    text = tomli_w.dumps(_swap_literals(result.document, literals))
    for token, value in literals.items():
        text = text.replace(f'"{token}"', f"'''\n{value}'''")
    lines = text.splitlines()
    top = _comment(header)
    for path, notes in result.comments.items():
        comment = _comment(notes)
        # The table's header, or its first sub-table's (tomli-w writes no header for a table
        # that holds only tables); else the top of the file.
        name = ".".join(_toml_key(k) for k in path)
        i = next(
            (i for i, line in enumerate(lines) if line in (f"[{name}]", f"[[{name}]]")),
            next((i for i, line in enumerate(lines) if line.startswith(f"[{name}.")), None),
        )
        if i is None:
            top.extend(comment)
        else:
            lines[i:i] = comment
    return "\n".join([*top, *([""] if top else []), *lines]) + "\n"


def _comment(texts: Sequence[str]) -> list[str]:
    return [f"# {line}" for t in texts for line in textwrap.wrap(t, 96) or [""]]


def _swap_literals(value: Any, literals: dict[str, str]) -> Any:
    """``value`` with every multi-line string that a TOML literal string can hold replaced by a
    unique token (tomli-w would write it as one escaped line)."""
    if isinstance(value, dict):
        return {k: _swap_literals(v, literals) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap_literals(v, literals) for v in value]
    if isinstance(value, str) and "\n" in value and _literal_ok(value):
        token = f"ecrcache-literal-{uuid.uuid4().hex}"
        literals[token] = value
        return token
    return value


def _literal_ok(text: str) -> bool:
    # TOML multi-line literal strings: no ''' and no control characters but tab and newline.
    bad = (c for c in text if (ord(c) < 0x20 and c not in "\t\n") or ord(c) == 0x7F)
    return "'''" not in text and not text.endswith("'") and next(bad, None) is None


def _toml_key(key: str) -> str:
    import tomli_w

    return tomli_w.dumps({key: 0}).removesuffix(" = 0\n")
