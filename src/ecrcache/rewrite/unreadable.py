"""The error for a file ecrcache cannot read safely, whatever its kind."""

from __future__ import annotations

from ecrcache.errors import EXIT_USAGE, EcrcacheError


class FileShapeError(EcrcacheError):
    """A file ecrcache cannot read safely (YAML nested too deep, a Dockerfile cut off by a
    line continuation): one line naming the file and line, exit 2 (bad input, as the README's
    exit-code table says), nothing rewritten."""

    exit_code = EXIT_USAGE
    code = "unreadable-file"
