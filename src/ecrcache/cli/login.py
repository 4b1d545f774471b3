"""``ecrcache login``: registry credentials for Docker, Helm or a Kubernetes pull secret.

stdout carries only what was asked for (the password, the Secret, or the summary); notes and
warnings go to stderr. The token never reaches argv: docker and helm read it on stdin.

``--print-password`` and ``--k8s-secret`` print one artifact, as ``aws ecr get-login-password``
does, to be piped into ``docker login --password-stdin`` or ``kubectl apply -f -``. They have no
JSON form, and ``--output json`` with them is refused (an envelope, exit 2), so the password is
never inside a JSON document, which gets logged and stored more readily than a pipe.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ecrcache.cli.app import app
from ecrcache.cli.common import emit_json, options
from ecrcache.cli.helptext import command_help
from ecrcache.cli.options import GlobalOptions

if TYPE_CHECKING:
    from ecrcache.registry.login import RegistryToken


@contextmanager
def ecr_client(opts: GlobalOptions, region: str) -> Iterator[Any]:
    """The ECR client for one region: the one place that knows how clients are built."""
    from ecrcache.cli.common import open_clients

    with open_clients(opts, region) as clients:
        yield clients.ecr


def _regions(opts: GlobalOptions, given: list[str]) -> list[str]:
    regions = [r.strip() for item in given for r in item.split(",") if r.strip()]
    if regions:
        return list(dict.fromkeys(regions))
    if opts.region:
        return [opts.region]
    if opts.config_path.exists():
        from ecrcache.config.loading import load_config

        return [load_config(opts.config_path).region]
    from ecrcache.aws import make_session

    region = make_session(opts.profile, None).region_name
    if region:
        return [region]
    from ecrcache.errors import UsageError

    raise UsageError("no region", hint="pass --region or --regions, or set region in the config")


def _spoke_default(opts: GlobalOptions, regions: list[str]) -> tuple[list[str], list[str]]:
    """A spoke's config logs in to the hub's registry (in the hub's region) by default."""
    if not opts.config_path.exists():
        return [], regions
    from ecrcache.config.loading import load_config

    config = load_config(opts.config_path)
    if config.spoke is None:
        return [], regions
    hub, region = config.registry_of("", regions[0])
    return [hub], [region]


@app.command("login", **command_help("login"))
def login(
    ctx: typer.Context,
    regions: list[str] = typer.Option(
        [],
        "--regions",
        metavar="REGION",
        help="Regions to log in to (repeat or comma-separate); default --region.",
    ),
    registry_ids: list[str] = typer.Option(
        [],
        "--registry-id",
        metavar="ACCOUNT_ID",
        help="Another account's registry (repeatable); default your own.",
    ),
    print_password: bool = typer.Option(
        False,
        "--print-password",
        help="Print only the password, for piping (the one thing printed; not with --output json).",
    ),
    k8s_secret: str | None = typer.Option(
        None,
        "--k8s-secret",
        metavar="NAME",
        help="Print a kubernetes.io/dockerconfigjson Secret as YAML, for kubectl apply -f - "
        "(the one thing printed; not with --output json).",
    ),
    namespace: str | None = typer.Option(
        None, "--namespace", metavar="NS", help="The Secret's namespace."
    ),
    helm: bool = typer.Option(False, "--helm", help="Log Helm in (OCI charts) instead of Docker."),
    write_config: bool = typer.Option(
        False, "--write-config", help="Write the Docker config file even if docker is installed."
    ),
    docker_config: Path | None = typer.Option(
        None,
        "--docker-config",
        metavar="PATH",
        help="Docker config file (default $DOCKER_CONFIG/config.json).",
    ),
) -> int:
    """Log in to the ECR registry: Docker (stdin login or config file), Helm, or a pull secret."""
    from ecrcache.registry.login import fetch_tokens

    opts = options(ctx)
    _check_payload(opts, print_password=print_password, k8s_secret=k8s_secret)
    tokens: list[RegistryToken] = []
    chosen = _regions(opts, regions)
    if not registry_ids and not regions:
        registry_ids, chosen = _spoke_default(opts, chosen)
    for region in chosen:
        with ecr_client(opts, region) as ecr:
            tokens.extend(fetch_tokens(ecr, registry_ids=registry_ids))
    expires = min(t.expires_at for t in tokens)
    if print_password or k8s_secret:
        return _payload(tokens, print_password=print_password, name=k8s_secret, ns=namespace)
    tool = "helm" if helm else None if write_config or shutil.which("docker") is None else "docker"
    if opts.sandbox and tool is not None:
        # The sandbox's registry host does not exist: running docker would send a DNS lookup
        # and fail, where the banner promises nothing leaves the machine. Say what would run.
        return _sandbox_dry_run(opts, tokens, tool=tool, expires=expires)
    if helm:
        method, warnings, path = "helm", _cli_logins(tokens, tool="helm"), None
    elif write_config or shutil.which("docker") is None:
        method, (path, warnings) = "docker-config", _write(tokens, docker_config)
    else:
        method, warnings, path = "docker", _cli_logins(tokens, tool="docker"), None
    _report(opts, tokens, method=method, path=path, warnings=warnings, expires=expires)
    return 0


# What each artifact is piped into, for the hint when it is asked for as JSON.
_PIPES = {
    "--print-password": "--print-password | docker login --username AWS --password-stdin HOST",
    "--k8s-secret": "--k8s-secret NAME | kubectl apply -f -",
}


def _check_payload(opts: GlobalOptions, *, print_password: bool, k8s_secret: str | None) -> None:
    """Before any AWS call: one artifact at a time, and never inside JSON."""
    from ecrcache.errors import UsageError

    if print_password and k8s_secret:
        raise UsageError("choose one of --print-password and --k8s-secret")
    flag = "--print-password" if print_password else "--k8s-secret" if k8s_secret else None
    if flag and opts.json:
        raise UsageError(
            f"{flag} prints only its artifact, never JSON (the password stays out of JSON)",
            hint=f"drop --output json: `ecrcache login {_PIPES[flag]}`",
        )


def _sandbox_dry_run(
    opts: GlobalOptions, tokens: list[RegistryToken], *, tool: str, expires: Any
) -> int:
    from ecrcache.registry.login import expiry_text, login_command

    commands = list(dict.fromkeys(login_command(t, tool=tool) for t in tokens))
    registries = list(dict.fromkeys(t.registry for t in tokens))
    if opts.json:
        data = {
            "method": "sandbox-dry-run",
            "registries": registries,
            "would_run": commands,
            "docker_config": None,
            "expires_at": expires.isoformat(),
        }
        emit_json("login", data)
        return 0
    sys.stdout.write(
        f"sandbox: not run, {tool} would contact a registry that exists only in the sandbox. "
        "On a real account ecrcache runs (the password on stdin):\n"
    )
    for command in commands:
        sys.stdout.write(f"  {command}\n")
    sys.stdout.write(
        "Pass --write-config to write the Docker config entry instead (nothing is contacted).\n"
        f"Token expires {expiry_text(expires)}\n"
    )
    return 0


def _payload(
    tokens: list[RegistryToken], *, print_password: bool, name: str | None, ns: str | None
) -> int:
    from ecrcache.registry.dockerconfig import k8s_secret_yaml
    from ecrcache.registry.login import expiry_text, single_password
    from ecrcache.render.console import note

    if print_password:
        sys.stdout.write(single_password(tokens) + "\n")
    else:
        sys.stdout.write(
            k8s_secret_yaml(name or "", tuple(t.as_auth() for t in tokens), namespace=ns)
        )
    sys.stdout.flush()
    note(f"token expires {expiry_text(min(t.expires_at for t in tokens))}")
    return 0


def _cli_logins(tokens: list[RegistryToken], *, tool: str) -> tuple[str, ...]:
    from ecrcache.registry.login import docker_login, helm_login

    login = helm_login if tool == "helm" else docker_login
    out = []
    for token in tokens:
        stderr = login(token)
        out += [line for line in stderr.splitlines() if line.upper().startswith("WARNING")]
    return tuple(dict.fromkeys(out))


def _write(tokens: list[RegistryToken], path: Path | None) -> tuple[Path, tuple[str, ...]]:
    from ecrcache.registry.dockerconfig import update_docker_config

    return update_docker_config(tuple(t.as_auth() for t in tokens), path=path)


def _report(
    opts: GlobalOptions,
    tokens: list[RegistryToken],
    *,
    method: str,
    path: Path | None,
    warnings: tuple[str, ...],
    expires: Any,
) -> None:
    from ecrcache.registry.login import expiry_text

    registries = list(dict.fromkeys(t.registry for t in tokens))
    if opts.json:
        data = {
            "method": method,
            "registries": registries,
            "docker_config": str(path) if path else None,
            "expires_at": expires.isoformat(),
        }
        emit_json("login", data, warnings=warnings)
        return
    from ecrcache.render.console import warn

    for warning in warnings:
        warn(warning)
    how = {"docker": "docker login", "helm": "helm registry login"}.get(method, f"wrote {path}")
    for registry in registries:
        sys.stdout.write(f"Logged in to {registry} ({how})\n")
    if opts.sandbox:
        sys.stdout.write("sandbox: the registry exists only in the sandbox; nothing contacted\n")
    sys.stdout.write(f"Token expires {expiry_text(expires)}\n")
