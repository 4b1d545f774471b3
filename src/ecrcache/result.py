"""The one versioned JSON envelope every command prints with ``--output json``.

Pure: builds plain dicts. Pinned by tests/cli/test_json_contract.py; bump SCHEMA on any change that
is not purely additive.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

SCHEMA = "ecrcache/v1"


def envelope(
    command: str,
    data: Mapping[str, Any] | None,
    *,
    warnings: Sequence[str] = (),
    error: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the envelope: ``{schema, command, ok, data, warnings, error}``."""
    return {
        "schema": SCHEMA,
        "command": command,
        "ok": error is None,
        "data": dict(data) if data is not None else None,
        "warnings": list(warnings),
        "error": dict(error) if error is not None else None,
    }


def write_json(doc: Mapping[str, Any], out: TextIO) -> None:
    """Write ``doc`` as stable, indented JSON with a final newline (plain write, no rich)."""
    out.write(json.dumps(doc, indent=2, sort_keys=True, default=str))
    out.write("\n")
    out.flush()
