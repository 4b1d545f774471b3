"""``ecrcache init``: ask a few questions (or take flags) and write a commented config that
validates. No AWS call: the account and region are what the user says."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ecrcache.cli.app import app
from ecrcache.cli.common import ACCOUNT_RE, emit_json, options
from ecrcache.cli.helptext import command_help
from ecrcache.cli.prompts import ask_text, ask_yes
from ecrcache.errors import UsageError
from ecrcache.render.words import counted

if TYPE_CHECKING:
    from ecrcache.config.starter import StarterAnswers, UpstreamChoice


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    """``KIND=VALUE`` flags as a dict (one value per kind)."""
    out: dict[str, str] = {}
    for v in values:
        kind, sep, value = v.partition("=")
        if not sep or not kind or not value:
            raise UsageError(f"{flag} {v!r}: expected KIND=VALUE", hint=f"e.g. {flag} {_EG[flag]}")
        out[kind] = value
    return out


_EG = {
    "--url": "ecr=111122223333.dkr.ecr.eu-west-1.amazonaws.com",
    "--role-arn": "ecr=arn:aws:iam::123456789012:role/ecr-ptc-upstream",
    "--credential": "docker-hub=env:DOCKERHUB_TOKEN",
    "--username": "docker-hub=acme-ci",
}


def _credential(spec: str | None, kind: str) -> tuple[str, str | None]:
    """``env:NAME``, ``file:PATH``, ``command:PROG ARGS`` or ``existing`` → (source, value)."""
    from ecrcache.config.starter import TOKEN_SOURCES

    if spec is None:
        return "env", None
    source, _, value = spec.partition(":")
    if source not in TOKEN_SOURCES:
        raise UsageError(
            f"--credential {kind}={spec}: unknown source {source!r}",
            hint="env:NAME, file:PATH, command:PROG ARGS, or existing (the secret exists)",
        )
    return source, value or None


_WHAT = {"env": "environment variable", "file": "path of the file", "command": "command line"}


class _Asker:
    """Questions on the terminal; each answers from its flag when one was given."""

    def __init__(self, interactive: bool) -> None:
        self.interactive = interactive

    def text(self, question: str, given: str | None, default: str | None = None) -> str | None:
        if given is not None or not self.interactive:
            return given if given is not None else default
        answer = ask_text(question, default=default)
        if answer is None:
            raise _no_answer()
        return answer.strip() or None

    def yes(self, question: str, given: bool | None, default: bool) -> bool:
        if given is not None or not self.interactive:
            return default if given is None else given
        answer = ask_yes(question, default=default)
        if answer is None:
            raise _no_answer()
        return answer


def _no_answer() -> UsageError:
    return UsageError(
        "init: no answer (standard input ended)",
        hint="answer on a terminal, or pass --non-interactive with flags (see init --help)",
    )


def _choice(
    ask: _Asker,
    kind: str,
    *,
    urls: dict[str, str],
    roles: dict[str, str],
    creds: dict[str, str],
    users: dict[str, str],
) -> UpstreamChoice:
    from ecrcache.config.starter import TOKEN_SOURCES, UpstreamChoice, env_name
    from ecrcache.config.upstreams import Credentials, upstream

    up = upstream(kind)
    url = role = username = value = None
    source = "env"
    if up.url is None:
        url = ask.text(f"{up.title}: upstream registry URL (e.g. {up.url_example})", urls.get(kind))
    if up.credentials is Credentials.ROLE:
        role = ask.text(
            f"{up.title}: role ECR assumes for another account (blank: same account)",
            roles.get(kind),
        )
    if up.credentials is Credentials.SECRET:
        given = creds.get(kind)
        if given is None and ask.interactive:
            source = (
                ask.text(f"{up.title} token comes from ({', '.join(TOKEN_SOURCES)})", None, "env")
                or "env"
            )
            default = {"env": env_name(kind, "TOKEN"), "file": None, "command": None}
            if source in default:
                value = ask.text(
                    f"  {_WHAT[source]}",
                    None,
                    default[source],
                )
        else:
            source, value = _credential(given, kind)
        if source != "existing":
            username = ask.text(
                f"{up.title} username (blank: read from {env_name(kind, 'USERNAME')})",
                users.get(kind),
            )
    return UpstreamChoice(
        kind=kind,
        url=url,
        role_arn=role,
        token_from=source,  # type: ignore[arg-type]  # checked by _credential / starter
        token_value=value,
        username=username,
    )


def _answers(
    ask: _Asker,
    *,
    region: str | None,
    account_id: str | None,
    kinds: list[str],
    pullers: list[str],
    templates: bool | None,
    flags: dict[str, dict[str, str]],
) -> StarterAnswers:
    from ecrcache.config.starter import DEFAULT_UPSTREAMS, StarterAnswers, check_kinds
    from ecrcache.config.upstreams import KINDS

    env_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    region = ask.text("AWS region", region, env_region)
    if not region:
        raise UsageError("no region", hint="pass --region (e.g. --region eu-west-1)")
    account_id = ask.text("AWS account ID (blank: any)", account_id)
    if account_id is not None and not ACCOUNT_RE.match(account_id):
        raise UsageError(f"{account_id!r} is not an AWS account ID", hint="12 digits")
    if not kinds:
        listed = ask.text(
            f"Upstreams, comma-separated ({', '.join(KINDS)})", None, ",".join(DEFAULT_UPSTREAMS)
        )
        kinds = [k.strip() for k in (listed or "").split(",") if k.strip()]
    check_kinds(kinds)
    choices = tuple(_choice(ask, k, **flags) for k in kinds)
    if not pullers and ask.interactive:
        listed = ask.text("Puller role ARNs or account IDs, comma-separated (blank: none)", None)
        pullers = [p.strip() for p in (listed or "").split(",") if p.strip()]
    with_templates = ask.yes(
        "Add a repository creation template with a lifecycle policy?", templates, True
    )
    return StarterAnswers(
        region=region,
        account_id=account_id,
        upstreams=choices,
        pullers=tuple(pullers),
        templates=with_templates,
    )


@app.command("init", **command_help("init"))
def init(
    ctx: typer.Context,
    out: Path | None = typer.Option(
        None, "--out", metavar="PATH", help="Where to write (default: ecrcache.toml or --config)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite the file if it exists."),
    non_interactive: bool = typer.Option(
        False, "--non-interactive", help="Ask nothing: take flags and defaults."
    ),
    account_id: str | None = typer.Option(
        None, "--account-id", metavar="ACCOUNT_ID", help="Refuse to plan against other accounts."
    ),
    kinds: list[str] = typer.Option(
        [],
        "--upstream",
        metavar="KIND",
        help="An upstream to cache (repeatable): docker-hub, ecr-public, quay, k8s, "
        "github-container-registry, gitlab-container-registry, azure-container-registry, "
        "chainguard or ecr (default: the first four).",
    ),
    urls: list[str] = typer.Option(
        [], "--url", metavar="KIND=URL", help="The registry URL, for azure and ecr upstreams."
    ),
    roles: list[str] = typer.Option(
        [], "--role-arn", metavar="KIND=ARN", help="Role for an ECR upstream in another account."
    ),
    credentials: list[str] = typer.Option(
        [],
        "--credential",
        metavar="KIND=SOURCE",
        help="Where a token comes from: env:NAME (default <PREFIX>_TOKEN), file:PATH, "
        "command:PROG ARGS, or existing (the secret exists already).",
    ),
    usernames: list[str] = typer.Option(
        [],
        "--username",
        metavar="KIND=NAME",
        help="The upstream account name (default: read from <PREFIX>_USERNAME).",
    ),
    pullers: list[str] = typer.Option(
        [], "--puller", metavar="ARN", help="A role ARN or account ID that pulls (repeatable)."
    ),
    templates: bool | None = typer.Option(
        None,
        "--templates/--no-templates",
        help="Add a creation template with a lifecycle policy (default: yes).",
        show_default=False,
    ),
) -> None:
    """Write a commented config that validates, from answers to a few questions (or flags).

    Nothing is sent anywhere: the account and region are what you give (the region with the
    global --region option). A token is never asked for, only where it comes from. The file
    is not overwritten without --force.
    """
    from ecrcache.atomicfile import write_atomic
    from ecrcache.config.starter import starter_toml

    opts = options(ctx)
    path = out if out is not None else opts.config_path
    if path.exists() and not force:
        raise UsageError(f"{path} exists", hint="pass --force to overwrite it, or --out PATH")
    # Answers piped on stdin are read as if typed; --non-interactive (or JSON) asks nothing.
    interactive = not non_interactive and not opts.json
    flags = {
        "urls": _pairs(urls, "--url"),
        "roles": _pairs(roles, "--role-arn"),
        "creds": _pairs(credentials, "--credential"),
        "users": _pairs(usernames, "--username"),
    }
    answers = _answers(
        _Asker(interactive),
        region=opts.region,
        account_id=account_id,
        kinds=kinds,
        pullers=pullers,
        templates=templates,
        flags=flags,
    )
    text = starter_toml(answers)
    try:
        # 0644: a config, not a secret; without --force a link, so a file made meanwhile wins
        write_atomic(path, text.encode("utf-8"), mode=0o644, replace=force)
    except FileExistsError:
        raise UsageError(f"{path} exists", hint="pass --force to overwrite it") from None
    rules = [c.prefix for c in answers.upstreams]
    if opts.json:
        emit_json(
            "init",
            {"path": str(path), "region": answers.region, "rules": rules},
        )
        return
    sandbox = "ecrcache --sandbox"
    flag = "" if path == Path("ecrcache.toml") else f" -c {path}"
    sys.stdout.write(
        f"Wrote {path}: {counted(len(rules), 'rule')} in {answers.region} ({', '.join(rules)}).\n"
        f"Next: ecrcache validate{flag}, then try it on the sandbox: {sandbox} plan{flag}\n"
    )
