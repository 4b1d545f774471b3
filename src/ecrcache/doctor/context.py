"""The header doctor prints first, as ``aws configure list`` does: who, where, which registry.

Never key material: the credential *source* (botocore's ``Credentials.method``: env,
shared-credentials-file, sso, assume-role, iam-role, ...) is shown, not even part of a key.
``doctor_clients`` rebuilds the clients with short timeouts and few retries, so an unreachable
endpoint costs seconds, not the minutes the default adaptive retries allow.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import botocore.config

from ecrcache.aws import BOTO_CONFIG, Clients
from ecrcache.secrecy import redact_url

if TYPE_CHECKING:
    from ecrcache.doctor.env import Live

DOCTOR_BOTO_CONFIG = BOTO_CONFIG.merge(
    botocore.config.Config(
        retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=20
    )
)


class DoctorClients(Clients):
    """Clients whose calls give up quickly: doctor reports a slow endpoint, it does not wait."""

    def _client(self, service: str) -> Any:
        kwargs: dict[str, Any] = {"region_name": self.region, "config": DOCTOR_BOTO_CONFIG}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        # Any: with boto3-stubs installed the overloads reject **kwargs; without them it is Any
        session: Any = self.session
        client = session.client(service, **kwargs)
        self._watch(client)
        return client


def doctor_clients(clients: Clients) -> DoctorClients:
    return DoctorClients(
        clients.session, clients.region, endpoint_url=clients.endpoint_url, sandbox=clients.sandbox
    )


@dataclass(frozen=True)
class Context:
    """The effective context of one doctor run. Each ``*_source`` says where a value came from."""

    region: str | None
    region_source: str
    profile: str | None
    profile_source: str
    credential_source: str
    account_id: str | None
    caller_arn: str | None
    registry_url: str | None
    endpoint_url: str | None
    config_path: str
    sandbox: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "region_source": self.region_source,
            "profile": self.profile,
            "profile_source": self.profile_source,
            "credential_source": self.credential_source,
            "account_id": self.account_id,
            "caller_arn": self.caller_arn,
            "registry_url": self.registry_url,
            "endpoint_url": self.endpoint_url,
            "config_path": self.config_path,
            "sandbox": self.sandbox,
        }


def profile_in_use(given: str | None) -> tuple[str | None, str]:
    if given:
        return given, "--profile"
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        if os.environ.get(name):
            return os.environ[name], f"environment {name}"
    return None, "not set (default chain)"


def credential_source(clients: Clients | None) -> str:
    """How botocore found credentials, e.g. ``env``, ``sso``, ``iam-role``; never the keys."""
    if clients is None:
        return "not looked up (no region)"
    if clients.sandbox:
        return "sandbox (fixed fake keys, nothing leaves this machine)"
    try:
        creds = clients.session.get_credentials()
    except Exception as exc:  # a broken profile (e.g. SSO not logged in) raises here
        return f"error: {type(exc).__name__}"
    if creds is None:
        return "none found"
    return str(getattr(creds, "method", None) or "unknown")


def build_context(
    *,
    clients: Clients | None,
    live: Live | None,
    region: str | None,
    region_source: str,
    profile: str | None,
    config_path: str,
    registry_url: str | None = None,
) -> Context:
    """The header; an identity that cannot be read leaves account and ARN None (the
    ``creds.identity`` check says why)."""
    account = arn = None
    if live is not None:
        with contextlib.suppress(Exception):  # reported by creds.identity, with its fix
            account, arn = live.identity["Account"], live.identity.get("Arn")
    name, source = profile_in_use(profile)
    if registry_url is None and account and region:
        from ecrcache.config.upstreams import registry_host

        registry_url = f"https://{registry_host(account, region)}"
    return Context(
        region=region,
        region_source=region_source,
        profile=name,
        profile_source=source,
        credential_source=credential_source(clients),
        account_id=account,
        caller_arn=arn,
        registry_url=registry_url,
        # shown, so without any user:password@ it carries
        endpoint_url=redact_url(clients.endpoint_url) if clients and clients.endpoint_url else None,
        config_path=config_path,
        sandbox=bool(clients and clients.sandbox),
    )
