"""Which files to rewrite, and rewriting one of them (text in, text and edits out)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ecrcache.errors import UsageError
from ecrcache.rewrite.dockerfile import rewrite_dockerfile
from ecrcache.rewrite.edits import Edit, apply_edits
from ecrcache.rewrite.mapping import Mapping
from ecrcache.rewrite.yamlfiles import rewrite_yaml

YAML_SUFFIXES = (".yaml", ".yml")


def is_dockerfile(path: Path) -> bool:
    name = path.name.lower()
    return (
        name in ("dockerfile", "containerfile")
        or name.endswith((".dockerfile", ".containerfile"))
        or name.startswith(("dockerfile.", "containerfile."))
    )


def is_candidate(path: Path) -> bool:
    return path.suffix.lower() in YAML_SUFFIXES or is_dockerfile(path)


def discover(paths: Iterable[Path]) -> list[Path]:
    """The files to look at: each file given, and every YAML file or Dockerfile under each
    directory given (recursively, in name order, skipping hidden directories)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and is_candidate(p)
                and not any(part.startswith(".") for part in p.relative_to(path).parts[:-1])
            )
        elif path.is_file():
            if not is_candidate(path):
                raise UsageError(
                    f"{path}: not a YAML file (.yaml, .yml) or a Dockerfile",
                    hint="rename it, or pass the references themselves without --file",
                )
            found.append(path)
        else:
            raise UsageError(f"{path}: no such file or directory")
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class FileRewrite:
    """One file's rewrite. ``warnings`` are ``(line, message)``."""

    path: Path
    kind: str
    before: str
    after: str
    edits: tuple[Edit, ...]
    warnings: tuple[tuple[int, str], ...]
    notes: tuple[tuple[int, str], ...] = ()  # caveats on rewritten references (digests)

    @property
    def changed(self) -> bool:
        return self.after != self.before


def rewrite_file_text(
    path: Path,
    text: str,
    mapping: Mapping,
    *,
    reverse: bool = False,
    interpolation_defaults: bool = False,
) -> FileRewrite:
    """Rewrite the image references in ``text`` (the contents of ``path``); pure."""
    how = {"reverse": reverse, "interpolation_defaults": interpolation_defaults}
    if is_dockerfile(path):
        found = rewrite_dockerfile(text, mapping, filename=path.name, **how)
    else:
        found = rewrite_yaml(text, mapping, filename=path.name, **how)
    edits = tuple(sorted(set(found.edits)))
    return FileRewrite(
        path,
        found.kind,
        text,
        apply_edits(text, edits),
        edits,
        tuple(sorted(found.warnings)),
        tuple(sorted(found.notes)),
    )
