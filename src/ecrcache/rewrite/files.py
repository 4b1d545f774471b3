"""Rewriting one file's text: text in, text and edits out (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ecrcache.rewrite.dockerfile import rewrite_dockerfile
from ecrcache.rewrite.edits import Edit, apply_edits
from ecrcache.rewrite.helm import Image
from ecrcache.rewrite.kinds import COMPOSE, DOCKERFILE, kind_of_path
from ecrcache.rewrite.mapping import Mapping
from ecrcache.rewrite.yamlfiles import rewrite_yaml


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
    helm_images: tuple[Image, ...] = ()  # Helm blocks rewritten, as whole names with the tag

    @property
    def changed(self) -> bool:
        return self.after != self.before


def rewrite_file_text(
    path: Path,
    text: str,
    mapping: Mapping,
    *,
    reverse: bool = False,
    kind: str | None = None,
    interpolation_defaults: bool = False,
) -> FileRewrite:
    """Rewrite the image references in ``text`` (the contents of ``path``); pure. ``kind``
    (``kinds.KINDS``) overrides what the name says."""
    how = {"reverse": reverse, "interpolation_defaults": interpolation_defaults}
    kind = kind or kind_of_path(path)
    images: tuple[Image, ...] = ()
    if kind == DOCKERFILE:
        found = rewrite_dockerfile(text, mapping, filename=path.name, **how)
    else:
        # The YAML rewriter tells Compose files from the others by name, then by content.
        name = "compose.yaml" if kind == COMPOSE else path.name
        found = rewrite_yaml(text, mapping, filename=name, **how)
        images = tuple(found.images)
    edits = tuple(sorted(set(found.edits)))
    return FileRewrite(
        path,
        found.kind,
        text,
        apply_edits(text, edits),
        edits,
        tuple(sorted(found.warnings)),
        tuple(sorted(found.notes)),
        images,
    )
