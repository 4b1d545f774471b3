"""Global options, and moving them to the front so they work before or after the command name.

The AWS CLI accepts ``--region`` anywhere on the line; click only accepts a group's options
before the subcommand. ``hoist_global_options`` rewrites argv so that both spellings work.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

# Global options that take a value, and flags. Kept in one place so hoisting and the callback agree.
VALUE_OPTIONS = frozenset(
    {"--config", "-c", "--profile", "--region", "--endpoint-url", "--output", "-o", "--target"}
)
FLAG_OPTIONS = frozenset({"--sandbox", "--debug", "--no-color"})

OutputFormat = Literal["text", "json"]


def hoist_global_options(argv: list[str]) -> list[str]:
    """Return argv with every global option moved in front of the command name.

    Stops at ``--`` so that anything after it stays an argument. ``--opt=value`` is kept whole.
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        name = arg.split("=", 1)[0] if arg.startswith("--") else arg
        if name in FLAG_OPTIONS:
            front.append(arg)
        elif name in VALUE_OPTIONS:
            front.append(arg)
            if "=" not in arg and i + 1 < len(argv):
                front.append(argv[i + 1])
                i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


def wants_json(argv: list[str]) -> bool:
    """Whether argv asks for JSON output (read before click parses, for error reporting)."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg in ("--output=json", "-ojson"):
            return True
        if arg in ("--output", "-o") and i + 1 < len(argv) and argv[i + 1] == "json":
            return True
    return False


@dataclass(frozen=True)
class GlobalOptions:
    """What the global options resolved to, for one invocation."""

    config_path: Path = Path("ecrcache.toml")
    config_explicit: bool = False
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    sandbox: bool = False
    output: OutputFormat = "text"
    no_color: bool = False
    debug: bool = False
    targets: tuple[str, ...] = ()  # --target NAME (repeatable): which [targets] to run on

    @property
    def json(self) -> bool:
        return self.output == "json"

    @property
    def color(self) -> bool:
        return not self.no_color and not os.environ.get("NO_COLOR")
