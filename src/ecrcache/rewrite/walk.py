"""Which files ``rewrite --file`` reads: the files named, and the YAML files and Dockerfiles of
each directory named, as git sees the tree.

A directory walk skips ``.git`` and whatever git ignores: the ``.gitignore`` files of the tree
and of its ancestors up to the repository's top, and ``.git/info/exclude``, with git's
precedence (a deeper file overrides a shallower one, the last matching line wins, nothing under
an ignored directory comes back). It never follows a symbolic link to a directory, and takes a
link to a file only when the file is inside the tree (it is then read once, under the first name
found). Names decide a file's kind (``kinds``); a file named explicitly can be given its kind
with ``--kind``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from ecrcache.errors import UsageError
from ecrcache.rewrite.kinds import kind_of_path


@dataclass(frozen=True)
class Target:
    """A file to rewrite: ``path`` as the user will see it, ``kind`` (None: decide by name)."""

    path: Path
    kind: str | None = None


@dataclass(frozen=True)
class Found:
    targets: tuple[Target, ...]
    skipped: tuple[str, ...]  # one warning per file left out that the user may have meant


def find_targets(paths: Iterable[str], *, kind: str | None = None) -> Found:
    """The files to rewrite, in order: each file named (``kind`` forces its kind), then each
    directory's files in path order. Raises UsageError for an empty or missing path, or a
    named file whose kind cannot be told from its name and no ``kind`` is given."""
    targets: list[Target] = []
    skipped: list[str] = []
    seen: set[Path] = set()
    for text in paths:
        if not text.strip():
            raise UsageError("an empty path", hint="name a file or directory, or - for stdin")
        path = Path(text)
        if path.is_dir():
            for found, note in _walk(path):
                if note is not None:
                    skipped.append(note)
                elif found.resolve() not in seen:
                    seen.add(found.resolve())
                    targets.append(Target(found))
        elif path.is_file():
            if kind is None and kind_of_path(path) is None:
                raise UsageError(
                    f"{path}: not a YAML file (.yaml, .yml) or a Dockerfile",
                    hint="pass --kind dockerfile|yaml|compose, or the references themselves "
                    "without --file",
                )
            if path.resolve() not in seen:
                seen.add(path.resolve())
                targets.append(Target(path, kind))
        elif path.exists() or path.is_symlink():
            raise UsageError(f"{path}: not a regular file or directory")
        else:
            raise UsageError(f"{path}: no such file or directory")
    return Found(tuple(targets), tuple(skipped))


def _walk(root: Path) -> Iterator[tuple[Path, str | None]]:
    """(file, None) for each candidate under ``root``; (link, warning) for a link left out."""
    top = Path(os.path.abspath(root))
    real_top = top.resolve()
    layers_of: dict[Path, Layers] = {}
    found: list[tuple[Path, str | None]] = []
    for current, dirs, files in os.walk(top):  # never follows links to directories
        here = Path(current)
        inherited = layers_of[here.parent] if here != top else _ancestor_ignores(top)
        layers = layers_of[here] = inherited + _ignore_file(here)
        dirs[:] = sorted(
            name
            for name in dirs
            if name != ".git" and not _ignored(layers, here / name, is_dir=True)
        )
        for name in files:
            path = here / name
            if name == ".git" or kind_of_path(path) is None or _ignored(layers, path):
                continue
            shown = root / path.relative_to(top)
            if path.is_symlink():
                target = path.resolve()
                if not target.is_file():
                    continue
                if not target.is_relative_to(real_top):
                    found.append((shown, f"{shown}: a link to {target}, outside the tree; skipped"))
                    continue
            found.append((shown, None))
    return iter(sorted(found, key=lambda item: item[0].parts))


# Ignore layers: (directory, its .gitignore), shallowest first; directories absolute.
Layers = tuple[tuple[Path, pathspec.GitIgnoreSpec], ...]


def _ignore_file(directory: Path, name: str = ".gitignore") -> Layers:
    try:
        text = (directory / name).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    return ((directory, pathspec.GitIgnoreSpec.from_lines(text.splitlines())),)


def _ancestor_ignores(top: Path) -> Layers:
    """What applies to ``top`` from above: the repository's ``.git/info/exclude`` (git reads it
    after every .gitignore, so it comes first here), then the .gitignore files from the
    repository's top (the directory holding ``.git``) down to ``top``'s parent. None when
    ``top`` is not inside a repository."""
    chain: list[Path] = []
    for directory in (top, *top.parents):
        if directory != top:
            chain.append(directory)
        if (directory / ".git").exists():
            exclude = _ignore_file(directory, ".git/info/exclude")  # a worktree's is elsewhere
            return exclude + tuple(layer for d in reversed(chain) for layer in _ignore_file(d))
    return ()


def _ignored(layers: Layers, path: Path, *, is_dir: bool = False) -> bool:
    """Whether git ignores ``path`` (absolute): the deepest .gitignore with a matching line
    decides, and within one file the last matching line."""
    for base, spec in reversed(layers):
        rel = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        include = spec.check_file(rel).include
        if include is not None:
            return bool(include)
    return False
