"""Registry credentials from ECR's GetAuthorizationToken, handed to Docker, Helm or Kubernetes.

The password goes to other programs only on their stdin (``--password-stdin``), never in argv
where every process listing would show it, and never into a message or exception.
"""

from __future__ import annotations

import base64
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ecrcache.errors import EcrcacheError, UsageError
from ecrcache.registry.dockerconfig import RegistryAuth, hostname

# (username, password, expires_at, proxy endpoint), as decoded from GetAuthorizationToken.
TokenTuple = tuple[str, str, datetime, str]
TokenSource = Callable[[], Iterable[TokenTuple]]
Runner = Callable[..., "subprocess.CompletedProcess[bytes]"]


class LoginError(EcrcacheError):
    """docker or helm refused the login, or is not installed."""

    code = "login"


@dataclass(frozen=True)
class RegistryToken:
    """A registry login: host (no scheme), user ``AWS``, password valid until ``expires_at``."""

    registry: str
    username: str
    password: str = field(repr=False)
    expires_at: datetime

    def as_auth(self) -> RegistryAuth:
        return RegistryAuth(self.registry, self.username, self.password)


def fetch_tokens(
    source: Any | TokenSource, *, registry_ids: Sequence[str] = ()
) -> tuple[RegistryToken, ...]:
    """Tokens from an ECR client (``get_authorization_token``) or a function returning tuples.

    With ``registry_ids``, one token per registry (other accounts' registries); without, the
    caller's own registry, as ``aws ecr get-login-password``.
    """
    if callable(getattr(source, "get_authorization_token", None)):
        tuples: Iterable[TokenTuple] = _from_ecr(source, registry_ids)
    elif callable(source):
        tuples = source()
    else:
        raise TypeError("source must be an ECR client or a function returning token tuples")
    return tuple(
        RegistryToken(hostname(endpoint), user, password, _utc(expires))
        for user, password, expires, endpoint in tuples
    )


def _from_ecr(ecr: Any, registry_ids: Sequence[str]) -> list[TokenTuple]:
    from ecrcache.aws import aws_errors

    kwargs = {"registryIds": list(registry_ids)} if registry_ids else {}
    with aws_errors("get a registry token (ecr:GetAuthorizationToken)"):
        data = ecr.get_authorization_token(**kwargs)["authorizationData"]
    out = []
    for item in data:
        user, _, password = base64.b64decode(item["authorizationToken"]).decode().partition(":")
        out.append((user, password, item["expiresAt"], item["proxyEndpoint"]))
    return out


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def docker_login(
    token: RegistryToken, *, docker: str = "docker", run: Runner = subprocess.run
) -> str:
    """``docker login --password-stdin``; returns docker's stderr (its warnings), cleaned."""
    return _login_cli([docker, "login"], token, tool="docker", run=run)


def helm_login(token: RegistryToken, *, helm: str = "helm", run: Runner = subprocess.run) -> str:
    """``helm registry login --password-stdin``, so Helm can pull OCI charts from the registry."""
    return _login_cli([helm, "registry", "login"], token, tool="helm", run=run)


def login_command(token: RegistryToken, *, tool: str) -> str:
    """The command ``docker_login`` or ``helm_login`` runs for ``token``, as a shell line (the
    password goes on its stdin, so the line holds none)."""
    prefix = ["helm", "registry", "login"] if tool == "helm" else ["docker", "login"]
    argv = [*prefix, "--username", token.username, "--password-stdin", token.registry]
    return " ".join(shlex.quote(a) for a in argv)


def _login_cli(prefix: list[str], token: RegistryToken, *, tool: str, run: Runner) -> str:
    exe = shutil.which(prefix[0])
    if exe is None:
        raise LoginError(f"{tool} is not installed (not on PATH)")
    argv = [exe, *prefix[1:], "--username", token.username, "--password-stdin", token.registry]
    try:
        done = run(argv, input=token.password.encode(), capture_output=True, check=False)
    except OSError as exc:
        raise LoginError(f"cannot run {tool}: {exc.strerror}") from exc
    stderr = _scrub(done.stderr.decode("utf-8", "replace"), token.password).strip()
    if done.returncode != 0:
        raise LoginError(
            f"{tool} login to {token.registry} failed (exit {done.returncode})"
            + (f": {stderr.splitlines()[-1]}" if stderr else "")
        )
    return stderr


def _scrub(text: str, secret: str) -> str:
    return text.replace(secret, "(token)") if secret else text


def single_password(tokens: Sequence[RegistryToken]) -> str:
    """The one password for ``--print-password``; ECR returns the same one for every registry."""
    passwords = {t.password for t in tokens}
    if len(passwords) != 1:
        raise UsageError(
            "--print-password needs exactly one token",
            hint="ask for one region and registry at a time",
        )
    return passwords.pop()


def expiry_text(expires_at: datetime, *, now: datetime | None = None) -> str:
    """``2025-01-01 12:00 UTC (in 11h 59m)``."""
    left = int((expires_at - (now or datetime.now(UTC))).total_seconds()) // 60
    when = expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{when} (in {left // 60}h {left % 60:02d}m)" if left > 0 else f"{when} (expired)"
