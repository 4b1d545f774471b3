"""Fix commands as the user would type them, with the global options they ran doctor with.

Pure. A fix printed by doctor must work when pasted: ``ecrcache apply`` carries the same
``--sandbox``, ``-c``, ``--profile`` and ``--region``; ``aws`` commands carry region and profile.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Commands:
    """Builds fix commands for one doctor invocation."""

    region: str | None = None
    profile: str | None = None
    config_path: str | None = None  # given only when the user chose a file
    sandbox: bool = False
    region_flag: str | None = None  # --region, repeated on ecrcache commands when given
    target: str | None = None  # the [targets] entry checked: its fixes run on it alone

    def ecrcache(self, *args: str) -> str:
        front: list[str] = []
        if self.sandbox:
            front.append("--sandbox")
        if self.config_path:
            front += ["-c", self.config_path]
        if self.profile:
            front += ["--profile", self.profile]
        if self.region_flag:
            front += ["--region", self.region_flag]
        if self.target:
            front += ["--target", self.target]
        return _join(["ecrcache", *front, *args])

    def apply(self, *extra: str) -> str:
        return self.ecrcache("apply", *extra)

    def aws(self, *args: str) -> str:
        tail: list[str] = []
        if self.region:
            tail += ["--region", self.region]
        if self.profile:
            tail += ["--profile", self.profile]
        return _join(["aws", *args, *tail])

    def aws_global(self, *args: str) -> str:
        """An ``aws`` command for a global service (IAM): no region."""
        return _join(["aws", *args, *(["--profile", self.profile] if self.profile else [])])


def compact_json(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True)


def _join(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)


def toml_key(key: str) -> str:
    """A table key as TOML needs it (quoted unless bare)."""
    bare = key.replace("-", "").replace("_", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key)
