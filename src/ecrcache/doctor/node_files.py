"""Reading a node's containerd and kubelet files for ``doctor --node``: pure parsing, paths
given under a root (``/`` on the node itself, or a copy of its filesystem).

containerd's config is ``/etc/containerd/config.toml`` plus the files its ``imports`` name
(globs allowed); later files override earlier ones, as containerd merges them. ``config_path``
may list several directories (``a:b``, as EKS does: spegel#190).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

CONFIG_TOML = "etc/containerd/config.toml"
V2_CRI = "io.containerd.grpc.v1.cri"
V3_IMAGES = "io.containerd.cri.v1.images"


def under(root: Path, path: str) -> Path:
    """``path`` (absolute on the node) inside ``root``."""
    return root / path.lstrip("/")


@dataclass
class ContainerdConfig:
    files: list[Path] = field(default_factory=list)
    doc: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> int:
        v = self.doc.get("version", 1)
        return v if isinstance(v, int) else 1

    def plugin(self, name: str) -> dict[str, Any]:
        table = (self.doc.get("plugins") or {}).get(name)
        return table if isinstance(table, dict) else {}

    def registry(self, name: str) -> dict[str, Any]:
        reg = self.plugin(name).get("registry")
        return reg if isinstance(reg, dict) else {}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def read_containerd_config(root: Path) -> ContainerdConfig | None:
    """The merged config, or None when config.toml is absent. Raises ValueError naming a file
    that is not TOML (containerd would not start)."""
    main = under(root, CONFIG_TOML)
    if not main.is_file():
        return None
    cfg = ContainerdConfig()
    todo = [main]
    while todo:
        f = todo.pop(0)
        try:
            doc = tomllib.loads(f.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{f}: not valid TOML: {exc}") from None
        cfg.files.append(f)
        cfg.doc = _merge(cfg.doc, {k: v for k, v in doc.items() if k != "imports"})
        for pattern in doc.get("imports") or []:
            rel = str(pattern).lstrip("/")
            todo.extend(p for p in sorted(root.glob(rel)) if p.is_file() and p not in cfg.files)
    return cfg


@dataclass(frozen=True)
class HostEntry:
    url: str
    override_path: bool
    capabilities: tuple[str, ...] | None  # None: not given (containerd then allows all)

    @property
    def host(self) -> str:
        return urlsplit(self.url if "://" in self.url else f"https://{self.url}").netloc

    @property
    def path(self) -> str:
        p = urlsplit(self.url if "://" in self.url else f"https://{self.url}").path.rstrip("/")
        return p or "/v2"


@dataclass(frozen=True)
class HostsFile:
    path: Path
    server: str | None
    server_override_path: bool
    hosts: tuple[HostEntry, ...]


def read_hosts_file(path: Path) -> HostsFile:
    """Raises ValueError for a file that is not TOML (containerd ignores it)."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    entries = []
    for url, table in (doc.get("host") or {}).items():
        table = table if isinstance(table, dict) else {}
        caps = table.get("capabilities")
        entries.append(
            HostEntry(
                url=str(url),
                override_path=table.get("override_path") is True,
                capabilities=tuple(str(c) for c in caps) if isinstance(caps, list) else None,
            )
        )
    server = doc.get("server")
    return HostsFile(
        path=path,
        server=str(server) if server else None,
        server_override_path=doc.get("override_path") is True,
        hosts=tuple(entries),
    )


def read_provider_config(path: Path) -> dict[str, Any] | None:
    """A kubelet CredentialProviderConfig (JSON or YAML), or None when absent. Raises
    ValueError when it does not parse."""
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    try:
        doc = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: does not parse: {exc}") from None
    return doc if isinstance(doc, dict) else None
