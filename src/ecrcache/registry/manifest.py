"""Manifest media types, parsing, and platform selection. Pure.

Four shapes matter: the Docker v2 schema 2 manifest and manifest list, and the OCI image manifest
and index. Lists/indexes point at per-platform manifests; manifests point at a config and layers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ecrcache.registry.digest import Digest
from ecrcache.registry.errors import PlatformNotFoundError, RegistryError

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"

INDEX_TYPES = frozenset({DOCKER_MANIFEST_LIST, OCI_INDEX})
IMAGE_TYPES = frozenset({DOCKER_MANIFEST, OCI_MANIFEST})
# Sent as Accept on every manifest GET; without it registries may down-convert to schema 1.
ACCEPT = ", ".join((OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST))

# arm64 images are often published without a variant, and v8 is the only arm64 variant in use.
_DEFAULT_VARIANTS = {"arm64": "v8"}


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        """``linux/amd64``, ``linux/arm64/v8``, ``linux/arm/v7``."""
        parts = text.strip().lower().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise RegistryError(
                f"invalid platform {text!r}", hint="write os/arch[/variant], e.g. linux/arm64"
            )
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def matches(self, other: Platform) -> bool:
        """Whether ``other`` (from an index) satisfies this requested platform.

        A request without variant accepts any variant; arm64 without variant equals arm64/v8.
        """
        if (self.os, self.architecture) != (other.os, other.architecture):
            return False
        if self.variant is None:
            return True
        default = _DEFAULT_VARIANTS.get(self.architecture)
        return (other.variant or default) == (self.variant or default)

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


DEFAULT_PLATFORM = Platform("linux", "amd64")


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: Digest
    size: int
    platform: Platform | None = None

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Descriptor:
        try:
            plat = doc.get("platform")
            return cls(
                media_type=str(doc.get("mediaType", "")),
                digest=Digest.parse(str(doc["digest"])),
                size=int(doc["size"]),
                platform=Platform(
                    str(plat["os"]), str(plat["architecture"]), plat.get("variant") or None
                )
                if plat
                else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RegistryError(f"malformed descriptor in manifest: {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": str(self.digest),
            "size": self.size,
        }
        if self.platform is not None:
            doc["platform"] = {"os": self.platform.os, "architecture": self.platform.architecture}
            if self.platform.variant:
                doc["platform"]["variant"] = self.platform.variant
        return doc


@dataclass(frozen=True)
class Manifest:
    """A fetched manifest: the exact bytes (the digest covers them) and what they point at."""

    media_type: str
    digest: Digest
    raw: bytes = field(repr=False)
    config: Descriptor | None = None
    layers: tuple[Descriptor, ...] = ()
    manifests: tuple[Descriptor, ...] = ()

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def blobs(self) -> tuple[Descriptor, ...]:
        """Config first, then layers: everything a pull downloads for this image."""
        return ((self.config,) if self.config else ()) + self.layers


def parse_manifest(raw: bytes, *, content_type: str | None, digest: Digest) -> Manifest:
    """Parse manifest bytes. The media type comes from the body, else Content-Type, else shape."""
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise RegistryError(f"manifest {digest} is not JSON") from exc
    if not isinstance(doc, dict):
        raise RegistryError(f"manifest {digest} is not a JSON object")
    media_type = doc.get("mediaType") or (content_type or "").split(";")[0].strip()
    if media_type not in INDEX_TYPES | IMAGE_TYPES:
        # OCI allows omitting mediaType; fall back on the shape.
        media_type = OCI_INDEX if "manifests" in doc else OCI_MANIFEST if "layers" in doc else ""
    if not media_type:
        raise RegistryError(
            f"unsupported manifest type {doc.get('mediaType') or content_type!r}",
            hint="only Docker v2 schema 2 and OCI manifests and indexes are supported",
        )
    if media_type in INDEX_TYPES:
        manifests = tuple(Descriptor.from_json(d) for d in doc.get("manifests") or ())
        return Manifest(media_type, digest, raw, manifests=manifests)
    if "config" not in doc:
        raise RegistryError(f"manifest {digest} has no config")
    return Manifest(
        media_type,
        digest,
        raw,
        config=Descriptor.from_json(doc["config"]),
        layers=tuple(Descriptor.from_json(d) for d in doc.get("layers") or ()),
    )


def select_platform(index: Manifest, platform: Platform) -> Descriptor:
    """The index entry for ``platform``: an exact variant match wins over a variant-less one."""
    candidates = [d for d in index.manifests if d.platform and platform.matches(d.platform)]
    if not candidates:
        available = sorted({str(d.platform) for d in index.manifests if d.platform})
        raise PlatformNotFoundError(
            f"no manifest for platform {platform} in {index.digest}",
            hint=f"available: {', '.join(available) or 'none'}; choose one with --platform",
        )
    exact = [d for d in candidates if d.platform and d.platform.variant == platform.variant]
    return (exact or candidates)[0]
