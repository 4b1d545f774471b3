"""Registry authentication: Basic (ECR, htpasswd registries) and the Bearer token challenge. Pure.

The Bearer flow is the Docker token protocol: the registry answers 401 with
``WWW-Authenticate: Bearer realm=...,service=...,scope=...``; the client asks the realm for a token
(with Basic credentials if it has any) and retries with ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)

    def basic_header(self) -> str:
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "basic" or "bearer"
    params: dict[str, str]

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


def parse_challenge(header: str | None) -> Challenge | None:
    """Parse one ``WWW-Authenticate`` value; None when absent or empty."""
    if not header or not header.strip():
        return None
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM.finditer(rest)
    }
    return Challenge(scheme.lower(), params)


def pull_scope(repository: str, actions: str = "pull") -> str:
    return f"repository:{repository}:{actions}"
