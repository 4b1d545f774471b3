"""The error for a file ecrcache cannot read safely, whatever its kind."""

from __future__ import annotations

from ecrcache.errors import EXIT_FAILURE, EcrcacheError


class FileShapeError(EcrcacheError):
    """A file ecrcache cannot read safely (YAML nested too deep, a Dockerfile cut off by a
    line continuation): one line naming the file and line, exit 1, nothing rewritten."""

    exit_code = EXIT_FAILURE
    code = "unreadable-file"
