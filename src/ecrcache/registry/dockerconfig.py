"""The Docker config file (``~/.docker/config.json``) and Kubernetes pull secrets.

Pure helpers turn credentials into documents; ``update_docker_config`` is the one function that
touches the disk, and it writes atomically with mode 0600, keeping every other entry.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecrcache import atomicfile
from ecrcache.errors import EXIT_USAGE, EcrcacheError, UsageError
from ecrcache.inputfile import TooDeep, loads_json, read_text_capped

# Kubernetes object names (DNS-1123 subdomain) and namespaces (DNS-1123 label).
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_K8S_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class DockerConfigError(EcrcacheError):
    """The Docker config file exists but is not one (not JSON, not an object, nested too deep):
    bad input, exit 2, as for ecrcache's own config. A failed write is atomicfile's error."""

    exit_code = EXIT_USAGE
    code = "docker-config"


@dataclass(frozen=True)
class RegistryAuth:
    """Credentials for one registry host (no scheme), as Docker stores them."""

    host: str
    username: str
    password: str = field(repr=False)

    @property
    def auth(self) -> str:
        return base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json`` (as the docker CLI)."""
    env = os.environ if env is None else env
    base = env.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def hostname(key: str) -> str:
    """The host a config key names: Docker accepts ``https://host/``-style keys too."""
    host = key.split("://", 1)[-1]
    return host.split("/", 1)[0]


def merge_auths(doc: Mapping[str, Any], logins: tuple[RegistryAuth, ...]) -> dict[str, Any]:
    """A copy of ``doc`` with an ``auths`` entry per login; everything else kept as it was.

    Other spellings of the same host (``https://host``) are dropped: Docker would pick one of
    two entries for a host at random.
    """
    out = dict(doc)
    auths = dict(out.get("auths") or {})
    for login in logins:
        for key in [k for k in auths if hostname(k) == login.host and k != login.host]:
            del auths[key]
        entry = dict(auths.get(login.host) or {})
        for stale in ("username", "password", "identitytoken", "registrytoken"):
            entry.pop(stale, None)
        entry["auth"] = login.auth
        auths[login.host] = entry
    out["auths"] = auths
    return out


def shadowing_warnings(doc: Mapping[str, Any], hosts: tuple[str, ...]) -> tuple[str, ...]:
    """Why Docker would ignore the ``auths`` entries written for ``hosts``, if it would."""
    warnings = []
    helpers = doc.get("credHelpers") or {}
    for host in hosts:
        helper = next((v for k, v in helpers.items() if hostname(k) == host), None)
        if helper:
            warnings.append(
                f"credHelpers maps {host} to docker-credential-{helper}, which Docker uses "
                "instead of the entry written; remove that mapping or rely on the helper"
            )
    store = doc.get("credsStore")
    rest = [h for h in hosts if not any(hostname(k) == h for k in helpers)]
    if store and rest:
        warnings.append(
            f"credsStore is {store!r}: Docker reads credentials from docker-credential-{store}, "
            "not from the file; run `ecrcache login` with the docker CLI installed instead"
        )
    return tuple(warnings)


def dockerconfigjson(logins: tuple[RegistryAuth, ...]) -> bytes:
    """The ``.dockerconfigjson`` document a Kubernetes pull secret carries."""
    auths = {
        login.host: {"username": login.username, "password": login.password, "auth": login.auth}
        for login in logins
    }
    return json.dumps({"auths": auths}, sort_keys=True, separators=(",", ":")).encode()


def k8s_secret_yaml(
    name: str, logins: tuple[RegistryAuth, ...], *, namespace: str | None = None
) -> str:
    """A ``kubernetes.io/dockerconfigjson`` Secret manifest, ready for ``kubectl apply -f -``."""
    if len(name) > 253 or not _K8S_NAME.match(name):
        raise UsageError(
            f"invalid Kubernetes secret name {name!r}",
            hint="lower-case letters, digits, '-' and '.', starting and ending alphanumeric",
        )
    if namespace is not None and (len(namespace) > 63 or not _K8S_NAMESPACE.match(namespace)):
        raise UsageError(f"invalid Kubernetes namespace {namespace!r}")
    encoded = base64.b64encode(dockerconfigjson(logins)).decode("ascii")
    lines = ["apiVersion: v1", "kind: Secret", "metadata:", f"  name: {name}"]
    if namespace:
        lines.append(f"  namespace: {namespace}")
    lines += [
        "  labels:",
        "    app.kubernetes.io/managed-by: ecrcache",
        "type: kubernetes.io/dockerconfigjson",
        "data:",
        f"  .dockerconfigjson: {encoded}",
    ]
    return "\n".join(lines) + "\n"


def read_config(path: Path) -> dict[str, Any]:
    """The config file as a dict; {} when it does not exist."""
    try:
        text = read_text_capped(path, what="Docker config file", error=DockerConfigError)
    except FileNotFoundError:
        return {}
    if not text.strip():
        return {}
    try:
        doc = loads_json(text)
    except TooDeep as exc:
        raise DockerConfigError(
            f"{path} is not a Docker config: {exc}",
            hint="fix or move the file; ecrcache will not overwrite it",
        ) from exc
    except ValueError as exc:
        raise DockerConfigError(
            f"{path} is not valid JSON (line {getattr(exc, 'lineno', '?')})",
            hint="fix or move the file; ecrcache will not overwrite it",
        ) from exc
    if not isinstance(doc, dict):
        raise DockerConfigError(f"{path} does not hold a JSON object")
    return doc


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` in one rename; the file never exists with looser mode."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomicfile.write_atomic(path, data, mode=mode, private=True)


def update_docker_config(
    logins: tuple[RegistryAuth, ...], *, path: Path | None = None
) -> tuple[Path, tuple[str, ...]]:
    """Write the logins into the Docker config file; return (the file, warnings).

    Follows a symlinked config to its target, so dotfile setups keep their link.
    """
    target = (path or default_config_path()).resolve()
    atomicfile.check_replaceable(target)  # before reading: a FIFO would block the read
    doc = read_config(target)
    data = json.dumps(merge_auths(doc, logins), indent="\t").encode() + b"\n"
    write_atomic(target, data)  # FileWriteError (one line and a hint) when it cannot
    return target, shadowing_warnings(doc, tuple(login.host for login in logins))
