"""Talking to registries: an OCI distribution client (ping, auth, manifests of every type,
verified blob streaming), ``login`` (Docker, Helm, Kubernetes pull secrets), the Docker config
file (``dockerconfig``), and test-pull (``testpull``, with ``pulltarget``, ``pullers``,
``pullresult`` and ``verify``: a cold then warm pull through the cache, and what ECR created),
and ``warm`` (pull images through the cache ahead of need, with the same client).

``from ecrcache.registry import RegistryClient, pull_image`` is the client's public surface;
digest and manifest are pure; client does the HTTP. May import ``aws``, ``config``,
``rewrite``, ``sandbox`` (simulated pulls) and the bottom modules; never rich or typer.
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
