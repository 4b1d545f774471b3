"""Content digests (``algorithm:hex``) and hashing while streaming. Pure."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ecrcache.registry.errors import DigestMismatchError, RegistryError

# The OCI image spec registers sha256 and sha512; the hex length pins which one.
_HEX_LENGTHS = {"sha256": 64, "sha512": 128}
_HEX = re.compile(r"^[a-f0-9]+$")


@dataclass(frozen=True)
class Digest:
    algorithm: str
    hex: str

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse ``sha256:<64 hex>`` or ``sha512:<128 hex>``; anything else is an error.

        Strict on purpose: the hex part becomes a file name, so it must be only hex.
        """
        algorithm, sep, hexpart = text.partition(":")
        length = _HEX_LENGTHS.get(algorithm)
        if not sep or length is None or len(hexpart) != length or not _HEX.match(hexpart):
            raise RegistryError(f"unsupported or malformed digest {text[:80]!r}")
        return cls(algorithm, hexpart)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    def hasher(self) -> hashlib._Hash:
        return hashlib.new(self.algorithm)

    def hasher_of(self, data: bytes) -> str:
        """The hex digest of ``data`` under this digest's algorithm."""
        return hashlib.new(self.algorithm, data).hexdigest()

    def check(self, hexdigest: str, *, what: str) -> None:
        """Raise DigestMismatchError unless ``hexdigest`` is this digest's hex."""
        if hexdigest != self.hex:
            raise DigestMismatchError(
                f"{what}: content hashes to {self.algorithm}:{hexdigest[:16]}…, expected {self}",
                hint="the registry or something between served corrupt or tampered content",
            )

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"
