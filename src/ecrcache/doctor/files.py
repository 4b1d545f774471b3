"""Reading the machine's container runtime config: Docker's daemon.json, containerd's
hosts.toml files and config.toml, ECR registry tokens. Pure parsing; callers pass paths.

Why a mirror pointing at ECR fails: Docker's ``registry-mirrors`` only mirror Docker Hub,
take no path (so no cache prefix) and get no credentials; containerd sends a registry's
credentials only to that registry's own host, not to a mirror host (containerd#10540), so ECR
answers 401 and the pull silently falls back to the upstream.
"""

from __future__ import annotations

import base64
import json
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ecrcache.config.partitions import dns_suffix_pattern
from ecrcache.errors import EcrcacheError
from ecrcache.inputfile import TooDeep, loads_json, loads_toml, read_text_capped

# Registry hosts of private ECR: standard, FIPS, dual-stack, and every partition's DNS suffix.
ECR_HOST = re.compile(
    r"^[0-9]{12}\.(dkr\.ecr(-fips)?|dkr-ecr(-fips)?)\.[a-z0-9-]+\."
    r"(" + dns_suffix_pattern() + r"|on\.aws)$"
)


def _read(path: Path) -> str:
    """A machine config file's text, bounded (inputfile); ValueError when it cannot be read."""
    try:
        return read_text_capped(path, what="config file")
    except EcrcacheError as exc:
        raise ValueError(exc.message) from None


def is_ecr(url_or_host: str) -> bool:
    host = urlsplit(url_or_host if "://" in url_or_host else f"//{url_or_host}").hostname or ""
    return bool(ECR_HOST.match(host))


def daemon_mirrors(path: Path) -> list[str] | None:
    """``registry-mirrors`` of a daemon.json; None when the file does not exist.
    Raises ValueError when it is not a JSON object (dockerd would not start)."""
    try:
        text = _read(path)
    except FileNotFoundError:
        return None
    doc = loads_json(text) if text.strip() else {}
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    mirrors = doc.get("registry-mirrors") or []
    return [str(m) for m in mirrors] if isinstance(mirrors, list) else []


@dataclass(frozen=True)
class MirrorHost:
    """One ``[host."URL"]`` table of a hosts.toml."""

    file: Path
    namespace: str  # the certs.d directory name: the registry being mirrored (docker.io, ...)
    url: str
    override_path: bool
    has_auth_header: bool

    @property
    def host(self) -> str:
        return urlsplit(self.url if "://" in self.url else f"https://{self.url}").hostname or ""

    @property
    def path(self) -> str:
        return urlsplit(self.url if "://" in self.url else f"https://{self.url}").path


def mirror_hosts(certs_dir: Path) -> tuple[list[Path], list[MirrorHost]]:
    """Every hosts.toml under ``certs_dir`` and their host entries. Raises ValueError naming
    a file that is not TOML."""
    files = sorted(certs_dir.glob("*/hosts.toml"))
    out: list[MirrorHost] = []
    for f in files:
        try:
            doc = loads_toml(_read(f))
        except (tomllib.TOMLDecodeError, TooDeep) as exc:
            raise ValueError(f"{f}: not valid TOML: {exc}") from None
        for url, table in (doc.get("host") or {}).items():
            table = table if isinstance(table, dict) else {}
            header = table.get("header") or {}
            out.append(
                MirrorHost(
                    file=f,
                    namespace=f.parent.name,
                    url=url,
                    override_path=table.get("override_path") is True,
                    has_auth_header=any(str(k).lower() == "authorization" for k in header),
                )
            )
    return files, out


def containerd_auth_hosts(config_toml: Path) -> set[str]:
    """Hosts given static credentials in containerd's config.toml (CRI ``registry.configs``)."""
    try:
        doc = loads_toml(_read(config_toml))
    except (FileNotFoundError, ValueError):  # TOMLDecodeError, TooDeep, unreadable
        return set()
    found: set[str] = set()

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        configs = node.get("configs")
        if isinstance(configs, dict):
            for host, cfg in configs.items():
                if isinstance(cfg, dict) and cfg.get("auth"):
                    found.add(str(host).split("://")[-1].split("/")[0])
        for value in node.values():
            walk(value)

    walk(doc)
    return found


def ecr_token_expiry(password: str) -> datetime | None:
    """When an ECR registry password expires, if it is a real ECR token (base64 JSON with an
    ``expiration`` epoch); None for anything else. The password itself is never returned."""
    try:
        padded = password + "=" * (-len(password) % 4)
        doc = json.loads(base64.b64decode(padded, validate=False))
        return datetime.fromtimestamp(int(doc["expiration"]), UTC)
    except Exception:  # not an ECR token: nothing to say about its expiry
        return None


def decode_auth(value: str) -> tuple[str, str] | None:
    """(username, password) of a Docker ``auth`` field; None if it does not decode."""
    try:
        user, sep, password = base64.b64decode(value).decode("utf-8").partition(":")
    except Exception:
        return None
    return (user, password) if sep else None
