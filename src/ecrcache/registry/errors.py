"""Errors a registry conversation can end in. Messages name the request, never a credential."""

from __future__ import annotations

from ecrcache.errors import EXIT_AWS_ACCESS, EXIT_FAILURE, EcrcacheError


class RegistryError(EcrcacheError):
    """The registry answered with an error, or could not be reached."""

    exit_code = EXIT_FAILURE
    code = "registry"

    def __init__(self, message: str, *, hint: str | None = None, status: int | None = None):
        super().__init__(message, hint=hint)
        self.status = status


class RegistryAuthError(RegistryError):
    """401 (no or wrong credentials) or 403 (credentials lack permission)."""

    exit_code = EXIT_AWS_ACCESS
    code = "registry-auth"


class RegistryNotFoundError(RegistryError):
    """404: repository, tag, manifest or blob unknown."""

    code = "registry-not-found"


class RegistryRateLimitError(RegistryError):
    """429: too many requests (Docker Hub's pull limit, ECR's API throttling)."""

    code = "registry-rate-limit"


class RegistryTimeoutError(RegistryError):
    """Connecting or reading timed out."""

    code = "registry-timeout"


class DigestMismatchError(RegistryError):
    """Content did not hash to the digest it was asked for: corrupt or tampered."""

    code = "digest-mismatch"


class PlatformNotFoundError(RegistryError):
    """A multi-platform image has no manifest for the requested platform."""

    code = "platform-not-found"
