"""OCI distribution API client: ping, auth, manifests of every type, verified blob streaming.

``from ecrcache.registry import RegistryClient, pull_image`` is the public surface; submodules
are split by concern (digest and manifest are pure; client does the HTTP).
"""

from ecrcache.registry.auth import Credentials
from ecrcache.registry.client import BlobResult, Ping, RegistryClient
from ecrcache.registry.digest import Digest
from ecrcache.registry.errors import (
    DigestMismatchError,
    PlatformNotFoundError,
    RegistryAuthError,
    RegistryError,
    RegistryNotFoundError,
    RegistryRateLimitError,
    RegistryTimeoutError,
)
from ecrcache.registry.manifest import (
    DEFAULT_PLATFORM,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    Manifest,
    Platform,
    parse_manifest,
    select_platform,
)
from ecrcache.registry.pull import PullResult, pull_image, summary

__all__ = [
    "DEFAULT_PLATFORM",
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "BlobResult",
    "Credentials",
    "Descriptor",
    "Digest",
    "DigestMismatchError",
    "Manifest",
    "Ping",
    "Platform",
    "PlatformNotFoundError",
    "PullResult",
    "RegistryAuthError",
    "RegistryClient",
    "RegistryError",
    "RegistryNotFoundError",
    "RegistryRateLimitError",
    "RegistryTimeoutError",
    "parse_manifest",
    "pull_image",
    "select_platform",
    "summary",
]
