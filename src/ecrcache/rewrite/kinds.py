"""What kind of file a path or a text is, decided as the tools that read it decide.

Pure. Dockerfiles by name, after Docker and Podman: ``Dockerfile`` and ``Containerfile`` (the
names ``docker build`` and ``podman build`` look for without ``-f``), ``<something>.Dockerfile``
(the convention Docker's docs give for a project's other Dockerfiles:
docker/docs content/manuals/build/concepts/dockerfile.md, "Filename") and ``Dockerfile.<purpose>``
(``Dockerfile.dev``), but not ``Dockerfile.py`` or ``Dockerfile.dockerignore`` (BuildKit's
per-Dockerfile ignore file): a suffix that names another language or format is that format.
YAML by extension (``.yaml``, ``.yml``); text without a name (stdin) by its first lines.
"""

from __future__ import annotations

import re
from pathlib import PurePath

DOCKERFILE = "dockerfile"
YAML = "yaml"
COMPOSE = "compose"
KINDS = (DOCKERFILE, YAML, COMPOSE)

YAML_SUFFIXES = (".yaml", ".yml")
DOCKERFILE_NAMES = ("dockerfile", "containerfile")
# Suffixes after "Dockerfile." that make the file something else: source code, data and markup
# formats, shell, patches and editor or merge leftovers, and BuildKit's <name>.dockerignore.
_OTHER = (
    "py pyi pyc pyx js mjs cjs ts tsx jsx go rs java kt kts scala groovy gradle rb php pl pm",
    "c h cc cpp cxx hpp cs fs swift m mm lua r jl dart ex exs erl hs ml clj sh bash zsh fish",
    "ps1 bat cmd tf hcl nix json jsonc json5 yaml yml toml ini cfg conf xml html htm css scss",
    "md markdown rst txt adoc csv tsv lock sum mod patch diff orig rej bak swp tmp log",
    "dockerignore gitignore j2 jinja jinja2 tpl tmpl template",
)
OTHER_SUFFIXES = frozenset(word for line in _OTHER for word in line.split())

# Docker: "A Dockerfile must begin with a FROM instruction. This may be after parser
# directives, comments, and globally scoped ARGs" (docker/docs content/reference/dockerfile.md).
_DOCKERFILE_START = re.compile(r"(?i)(FROM|ARG)\s")
_YAML_START = re.compile(r"(---|\.\.\.|%YAML|%TAG|-( |$)|[^\s#:][^:]*:( |$))")


def is_dockerfile_name(name: str) -> bool:
    lower = name.lower()
    if lower in DOCKERFILE_NAMES or lower.endswith((".dockerfile", ".containerfile")):
        return True
    stem, dot, suffix = lower.partition(".")
    return (
        bool(dot) and stem in DOCKERFILE_NAMES and suffix.rsplit(".", 1)[-1] not in (OTHER_SUFFIXES)
    )


def kind_of_path(path: PurePath) -> str | None:
    """``dockerfile``, ``yaml`` or None (not a file rewrite reads), from the name alone."""
    if is_dockerfile_name(path.name):
        return DOCKERFILE
    if path.suffix.lower() in YAML_SUFFIXES:
        return YAML
    return None


def kind_of_text(text: str) -> str | None:
    """The kind of a nameless text (stdin) from its first meaningful line, or None."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # Dockerfile comments and parser directives, YAML comments
        if _DOCKERFILE_START.match(line):
            return DOCKERFILE
        if _YAML_START.match(line) or line.startswith(("{", "[")):
            return YAML
        return None
    return None


def is_binary(data: bytes) -> bool:
    """Git's test (xdiff-interface.c, buffer_is_binary): a NUL in the first 8,000 bytes."""
    return b"\0" in data[:8000]
