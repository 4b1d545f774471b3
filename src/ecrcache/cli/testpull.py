"""``ecrcache test-pull``: pull one image through the cache, cold then warm, and verify on ECR.

Exit codes: 0 pulled (and verified as far as permissions allow), 1 the pull failed (the
registry's error) or ECR shows no repository or image after it, 2 a bad reference or one no rule
covers; 3 the registry refused the credentials or the config names another account.
"""

from __future__ import annotations

import os
import shlex
import sys
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from ecrcache.cli.app import app
from ecrcache.cli.common import (
    check_config_account,
    emit_json,
    load,
    open_clients,
    options,
    region_for,
)
from ecrcache.cli.helptext import command_help
from ecrcache.cli.options import GlobalOptions
from ecrcache.errors import UsageError

if TYPE_CHECKING:
    from ecrcache.aws import Clients
    from ecrcache.registry import Credentials, Platform
    from ecrcache.registry.pullers import ProgressCallback
    from ecrcache.registry.testpull import PullTestResult, Target

USERNAME_ENV = "ECRCACHE_REGISTRY_USERNAME"
PASSWORD_ENV = "ECRCACHE_REGISTRY_PASSWORD"  # never an option: argv is visible to every process


@app.command("test-pull", **command_help("test-pull"))
def test_pull_command(
    ctx: typer.Context,
    ref: str = typer.Argument(..., metavar="REF", help="Upstream or cache image reference."),
    platform: str = typer.Option(
        "linux/amd64", "--platform", help="os/arch[/variant] to pull from a multi-arch image."
    ),
    docker: bool = typer.Option(
        False, "--docker", help="Pull with the docker CLI (total times only; needs a daemon)."
    ),
    registry_url: str | None = typer.Option(
        None,
        "--registry-url",
        hidden=True,
        help="Pull from this registry instead of ECR (no rules, no ECR verification); "
        f"credentials from {USERNAME_ENV}/{PASSWORD_ENV}.",
    ),
) -> int:
    """Pull REF through the cache twice (cold, warm) with timings; verify what ECR created."""
    from ecrcache.registry.testpull import check, resolve_on

    opts = options(ctx)
    plat = _platform(platform)
    say = _Warner(enabled=not opts.json)
    if registry_url:
        target, warnings = resolve_on(ref, registry_url)
        job = _Job(ref, target, plat, warnings, docker, say)
        result = _pull(opts, job, credentials=_env_credentials(), ecr=None)
    else:
        result = _through_ecr(opts, ref, plat, docker, say)
    # A pull ECR did not cache fails the smoke test (exit 1): the result, then the error
    # (under --output json both in one envelope, the error's).
    doctor = f"ecrcache{' --sandbox' if opts.sandbox else ''} doctor --image {shlex.quote(ref)}"
    if opts.json:
        check(result, doctor=doctor)
        emit_json("test-pull", result.to_dict(), warnings=result.warnings)
    else:
        from ecrcache.render.pull import render_test_pull

        say(result.warnings)
        render_test_pull(result, sys.stdout, no_color=not opts.color)
        check(result, doctor=doctor)
    return 0


class _Warner:
    """Warnings on stderr, each once: those about the reference go out before the pull (a failed
    pull prints only its error), the rest after it."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.shown: set[str] = set()

    def __call__(self, warnings: tuple[str, ...]) -> None:
        for w in warnings:
            if self.enabled and w not in self.shown:
                from ecrcache.render.console import warn  # only when there is one: see _progress

                warn(w)
            self.shown.add(w)


@dataclass(frozen=True)
class _Job:
    ref: str
    target: Target
    platform: Platform
    warnings: tuple[str, ...]
    docker: bool
    say: _Warner


def _through_ecr(
    opts: GlobalOptions, ref: str, plat: Platform, docker: bool, say: _Warner
) -> PullTestResult:
    # Private in cli/rewrite.py; reused so that both commands map references the same way.
    from ecrcache.cli.common import cache_mapping
    from ecrcache.registry.testpull import resolve
    from ecrcache.rewrite.refs import parse_image

    parse_image(ref)  # a malformed reference fails before any AWS call
    config = load(opts)
    # a spoke pulls from the hub's registry: a token for it, from the hub's region
    hub, region = config.registry_of("", region_for(opts, config))
    if hub and opts.sandbox:
        raise UsageError(
            "the sandbox simulates one account, so a spoke cannot pull through a hub there",
            hint="test-pull with the hub's config, or against the real hub",
        )
    with open_clients(opts, region) as clients:
        check_config_account(config, clients)
        account = config.account_id or clients.account_id
        target, warnings = resolve(ref, cache_mapping(opts, account, config=config))
        job = _Job(ref, target, plat, warnings, docker, say)
        if opts.sandbox:
            return _simulated(job, clients)
        credentials = None if docker else _ecr_credentials(clients, hub)  # docker logs in itself
        # what ECR created is the hub's to see: its repositories are not in this account
        return _pull(opts, job, credentials=credentials, ecr=None if hub else clients.ecr)


def _ecr_credentials(clients: Clients, registry: str = "") -> Credentials:
    from ecrcache.registry import Credentials
    from ecrcache.registry.login import fetch_tokens

    token = fetch_tokens(clients.ecr, registry_ids=[registry] if registry else [])[0]
    return Credentials(token.username, token.password)


def _simulated(job: _Job, clients: Clients) -> PullTestResult:
    from ecrcache.registry.testpull import simulator, test_pull

    if job.docker:
        raise UsageError(
            "--docker cannot pull in the sandbox: its registry is simulated",
            hint="drop --docker or --sandbox",
        )
    job.say(job.warnings)
    simulate = simulator(
        job.target, account_id=clients.account_id, region=clients.region, platform=job.platform
    )
    return test_pull(
        job.target,
        reference=job.ref,
        platform=job.platform,
        simulate=simulate,
        ecr=clients.ecr,
        warnings=job.warnings,
    )


def _pull(
    opts: GlobalOptions, job: _Job, *, credentials: Credentials | None, ecr: object | None
) -> PullTestResult:
    from ecrcache.registry import RegistryClient
    from ecrcache.registry.testpull import api_puller, docker_puller, test_pull

    job.say(job.warnings)
    if job.docker:
        pull, more = docker_puller(job.target, platform=job.platform)
        job.say(more)
        return test_pull(
            job.target,
            reference=job.ref,
            platform=job.platform,
            pull=pull,
            ecr=ecr,
            warnings=job.warnings + more,
            method="docker",
        )
    with _progress(enabled=not opts.json and sys.stderr.isatty()) as on_progress:
        pull = api_puller(
            job.target,
            platform=job.platform,
            client_factory=lambda url, creds: RegistryClient(url, credentials=creds),
            credentials=credentials,
            on_progress=on_progress,
        )
        return test_pull(
            job.target,
            reference=job.ref,
            platform=job.platform,
            pull=pull,
            ecr=ecr,
            warnings=job.warnings,
        )


def _progress(*, enabled: bool) -> AbstractContextManager[ProgressCallback | None]:
    """Progress bars on a terminal; otherwise none, and rich is not imported (about 30 ms of
    a process's start-up: with ``--output json`` test-pull needs none of it)."""
    if not enabled:
        return nullcontext(None)
    from ecrcache.render.pull import pull_progress

    return pull_progress(enabled=True)


def _platform(text: str) -> Platform:
    from ecrcache.registry import Platform, RegistryError

    try:
        return Platform.parse(text)
    except RegistryError as exc:
        raise UsageError(exc.message, hint=exc.hint) from None


def _env_credentials() -> Credentials | None:
    from ecrcache.registry import Credentials

    user, password = os.environ.get(USERNAME_ENV), os.environ.get(PASSWORD_ENV)
    if bool(user) != bool(password):
        raise UsageError(f"set both {USERNAME_ENV} and {PASSWORD_ENV}, or neither")
    return Credentials(user, password) if user and password else None
