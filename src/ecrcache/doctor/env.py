"""What checks run against: the config, AWS (read once, shared), the machine's files.

``Live`` reads each part of the account at most once per doctor run; a read that fails raises
the translated ``AwsError`` to every check that asks, and the runner reports it per check.
Machine paths are injectable (``MachinePaths``) so that tests use temporary directories.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecrcache.doctor.fixes import Commands
from ecrcache.inputfile import loads_json

if TYPE_CHECKING:
    from ecrcache.aws import Clients
    from ecrcache.config.schema import Config
    from ecrcache.doctor.context import Context
    from ecrcache.errors import EcrcacheError
    from ecrcache.reconcile.resources import Rule, Secret, Template

Runner = Callable[..., "subprocess.CompletedProcess[bytes]"]


@dataclass(frozen=True)
class MachinePaths:
    """Files and programs on this machine that decide how pulls reach the cache."""

    docker_config: Path
    daemon_json: Path = Path("/etc/docker/daemon.json")
    containerd_certs: Path = Path("/etc/containerd/certs.d")
    containerd_config: Path = Path("/etc/containerd/config.toml")
    which: Callable[[str], str | None] = shutil.which
    run: Runner = subprocess.run

    @classmethod
    def default(cls) -> MachinePaths:
        from ecrcache.registry.dockerconfig import default_config_path

        return cls(docker_config=default_config_path())


class Live:
    """The account, read lazily and once. Reads only."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self._secrets: dict[str, Secret | None] = {}

    @cached_property
    def identity(self) -> dict[str, str]:
        from ecrcache.aws import aws_errors

        with aws_errors("identify the caller (sts:GetCallerIdentity)"):
            doc = self.clients.sts.get_caller_identity()
        return {k: str(doc[k]) for k in ("Account", "Arn", "UserId") if k in doc}

    @property
    def account_id(self) -> str:
        return self.identity["Account"]

    @cached_property
    def raw_rules(self) -> tuple[dict[str, Any], ...]:
        """DescribePullThroughCacheRules as returned (credential ARNs kept)."""
        from ecrcache.aws import aws_errors

        out: list[dict[str, Any]] = []
        with aws_errors("list pull-through cache rules"):
            pages = self.clients.ecr.get_paginator("describe_pull_through_cache_rules")
            for page in pages.paginate():
                out.extend(page.get("pullThroughCacheRules", []))
        return tuple(out)

    @cached_property
    def rules(self) -> tuple[Rule, ...]:
        from ecrcache.reconcile.live_secrets import read_rules

        # secret names from the rules' full ARNs (NAME-XXXXXX), no listing needed
        return read_rules(self.clients, {})

    @cached_property
    def templates(self) -> tuple[Template, ...]:
        from ecrcache.reconcile.live_repositories import read_templates

        return read_templates(self.clients)

    @cached_property
    def repositories(self) -> dict[str, dict[str, Any]]:
        from ecrcache.reconcile.live_repositories import read_repositories

        return read_repositories(self.clients)

    @cached_property
    def registry_policy(self) -> dict[str, Any] | None:
        """The whole registry permissions policy (everyone's statements), or None."""
        from ecrcache.aws import aws_errors, error_code

        try:
            text = self.clients.ecr.get_registry_policy()["policyText"]
        except Exception as exc:
            if error_code(exc) == "RegistryPolicyNotFoundException":
                return None
            with aws_errors("read the registry permissions policy"):
                raise
        try:
            doc = loads_json(text)
        except ValueError:  # not JSON, or nested beyond reason: no usable policy
            return None
        return doc if isinstance(doc, dict) else None

    def secret_named(self, name: str) -> Secret | None:
        """The secret, read once by name with DescribeSecret: ListSecrets may not show changes
        of the last five minutes (Secrets Manager API reference), and doctor runs right after
        an apply."""
        if name not in self._secrets:
            from ecrcache.reconcile.live_secrets import read_secret

            self._secrets[name] = read_secret(self.clients, name)
        return self._secrets[name]


@dataclass
class Env:
    """Everything a check may look at. ``clients``/``live`` are None when AWS is unusable
    (no region); ``config`` is None when the file is missing or invalid (``config_error``)."""

    context: Context
    commands: Commands
    paths: MachinePaths
    config: Config | None = None
    config_error: EcrcacheError | None = None
    clients: Clients | None = None
    image: str | None = None
    timeout: float = 5.0
    registry_url: str | None = None  # overrides the registry derived from account and region
    root: Path = Path("/")  # doctor --node: the node's filesystem (or a copy of it)
    no_fallback: bool = False  # doctor --node: the node must never fall back to an upstream
    hub_clients: Clients | None = None  # a spoke's hub, when doctor may read it (checks_hub)
    hub_unreadable: str | None = None  # why the hub target's clients could not be made
    _live: Live | None = field(default=None, repr=False)

    @property
    def live(self) -> Live:
        if self.clients is None:
            raise RuntimeError("no AWS clients: the runner should have skipped this check")
        if self._live is None:
            self._live = Live(self.clients)
        return self._live

    @property
    def sandbox(self) -> bool:
        return bool(self.clients is not None and self.clients.sandbox)

    @property
    def region(self) -> str:
        return self.context.region or ""

    def require_config(self) -> Config:
        if self.config is None:
            raise RuntimeError("no config: the runner should have skipped this check")
        return self.config

    def registry_host(self) -> str:
        """``<account>.dkr.ecr.<region>.amazonaws.com`` (or the injected registry's host)."""
        if self.registry_url:
            return self.registry_url.split("://", 1)[-1].rstrip("/")
        from ecrcache.config.upstreams import registry_host

        if self.config is not None:  # a spoke pulls from the hub's registry
            return registry_host(*self.config.registry_of(self.live.account_id, self.region))
        return registry_host(self.live.account_id, self.region)
