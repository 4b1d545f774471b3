"""A first config, written from a few answers: what ``ecrcache init`` produces. Pure.

The text is TOML with comments that say what each table does and where to read more; it is
parsed and validated (``parse_config``) before anyone writes it, so a starter never fails
``ecrcache validate``. Credentials are never in it: each token is a source (env, file or
command), as everywhere else.
"""

from __future__ import annotations

import json
import shlex
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ecrcache.config.loading import parse_config
from ecrcache.config.rules import SECRET_PREFIX
from ecrcache.config.upstreams import UPSTREAMS, Credentials, upstream
from ecrcache.errors import UsageError

TokenFrom = Literal["env", "file", "command", "existing"]
TOKEN_SOURCES: tuple[str, ...] = ("env", "file", "command", "existing")
# What a new user most likely wants: Docker Hub (rate limits) and the public registries.
DEFAULT_UPSTREAMS: tuple[str, ...] = ("docker-hub", "ecr-public", "quay", "k8s")


def env_name(kind: str, what: str) -> str:
    """The environment variable a starter reads ``what`` (TOKEN, USERNAME) of ``kind`` from."""
    return f"{upstream(kind).default_prefix.upper().replace('-', '_')}_{what}"


@dataclass(frozen=True)
class UpstreamChoice:
    """One rule: the upstream kind, and where its credential comes from (if it needs one).

    ``token_from``: ``env`` (``token_value`` names the variable), ``file`` (a path), ``command``
    (a command line, split as a shell would, run without one), or ``existing`` (the secret
    exists already; ecrcache only references it). ``username``: the account name, or None to
    read it from ``<PREFIX>_USERNAME``.
    """

    kind: str
    url: str | None = None
    role_arn: str | None = None
    token_from: TokenFrom = "env"
    token_value: str | None = None
    username: str | None = None

    @property
    def prefix(self) -> str:
        return upstream(self.kind).default_prefix

    @property
    def needs_secret(self) -> bool:
        return upstream(self.kind).credentials is Credentials.SECRET


@dataclass(frozen=True)
class StarterAnswers:
    region: str
    account_id: str | None = None
    upstreams: tuple[UpstreamChoice, ...] = field(default_factory=tuple)
    pullers: tuple[str, ...] = ()
    templates: bool = True


def check_kinds(kinds: Sequence[str]) -> None:
    for kind in kinds:
        if kind not in UPSTREAMS:
            raise UsageError(
                f"unknown upstream {kind!r}", hint=f"one of: {', '.join(sorted(UPSTREAMS))}"
            )
    if len(set(kinds)) != len(kinds):
        raise UsageError("an upstream is named twice", hint="name each upstream once")
    if not kinds:
        raise UsageError("no upstream chosen", hint="name at least one, e.g. --upstream quay")


def _q(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text)


def _token_line(choice: UpstreamChoice) -> str | None:
    value = choice.token_value
    if choice.token_from == "existing":
        return None
    if choice.token_from == "env":
        return f"token = {{ env = {_q(value or env_name(choice.kind, 'TOKEN'))} }}"
    if not value:
        raise UsageError(
            f"{choice.kind}: a token from {choice.token_from} needs a "
            + ("path" if choice.token_from == "file" else "command"),
            hint=f"e.g. --credential {choice.kind}=file:~/.config/ecrcache/{choice.prefix}.token",
        )
    if choice.token_from == "file":
        return f"token = {{ file = {_q(value)} }}"
    argv = shlex.split(value)
    return f"token = {{ command = [{', '.join(_q(a) for a in argv)}] }}"


def _rule(choice: UpstreamChoice) -> list[str]:
    up = upstream(choice.kind)
    lines = ["", f"# {up.title}."]
    if up.official_namespace:
        lines.append(f"# Official images are under {up.official_namespace}/ upstream.")
    lines.append(f"[rules.{choice.prefix}]")
    lines.append(f"upstream = {_q(choice.kind)}")
    if up.url is None:
        if not choice.url:
            raise UsageError(
                f"{choice.kind} needs the upstream registry's url",
                hint=f"e.g. --url {choice.kind}={up.url_example}",
            )
        lines.append(f"url = {_q(choice.url)}")
    if up.credentials is Credentials.ROLE and choice.role_arn:
        lines.append(f"role_arn = {_q(choice.role_arn)}   # the upstream is another account's")
    if up.credentials is Credentials.SECRET:
        secret = f"{SECRET_PREFIX}{choice.prefix}"
        lines.append(f"[rules.{choice.prefix}.credentials]")
        lines.append(f"secret = {_q(secret)}   # ECR only accepts names under {SECRET_PREFIX}")
        token = _token_line(choice)
        if token is None:
            lines[-1] += "; it exists already"
            return lines
        if choice.username:
            lines.append(f"username = {_q(choice.username)}")
        else:
            lines.append(f"username = {{ env = {_q(env_name(choice.kind, 'USERNAME'))} }}")
        lines.append(f"{token}   # never the token itself in this file")
    return lines


_TEMPLATES = """
# Repository creation templates: the settings ECR gives the repositories a pull creates.
# Without one, cached repositories get no lifecycle policy and grow for ever.
[templates.ROOT]
description = "Every cached repository: keep storage bounded"
backfill = true            # also set it on cache repositories created before the template
[templates.ROOT.lifecycle]
expire_untagged_after_days = 7
keep_last = 30             # or archive_unpulled_after_days, keep_tagged = { "v*" = 20 }
"""


def starter_toml(answers: StarterAnswers) -> str:
    """The commented config for ``answers``. Raises UsageError for an answer that cannot make
    a valid config (unknown upstream, missing URL), and ConfigError (through the validator)
    for a value AWS would refuse (a bad region or principal)."""
    check_kinds([c.kind for c in answers.upstreams])
    host = f"<account>.dkr.ecr.{answers.region}.amazonaws.com"
    out = [
        "# ecrcache config, written by `ecrcache init`. `ecrcache validate` checks it offline,",
        "# `ecrcache plan` shows what would change in the account, `ecrcache apply` makes it so.",
        "version = 1",
        f"region = {_q(answers.region)}",
    ]
    if answers.account_id:
        out.append(f"account_id = {_q(answers.account_id)}   # ecrcache refuses any other account")
    else:
        out.append('# account_id = "123456789012"   # optional: ecrcache then refuses any other')
    out += [
        "",
        "# Each [rules.<prefix>] is a pull-through cache rule. Images are then pulled as",
        f"#   {host}/<prefix>/<upstream path>:<tag>",
    ]
    for choice in answers.upstreams:
        out += _rule(choice)
    if answers.templates:
        out += _TEMPLATES.rstrip("\n").split("\n")
    out += [
        "",
        "# Who pulls through the cache: the registry policy grants them the two actions a first",
        "# pull needs and AmazonEC2ContainerRegistryReadOnly lacks (BatchImportUpstreamImage,",
        "# CreateRepository). Role ARNs or account IDs.",
    ]
    if answers.pullers:
        out.append("[pullers]")
        out.append(f"principals = [{', '.join(_q(p) for p in answers.pullers)}]")
    else:
        out.append("# [pullers]")
        out.append('# principals = ["arn:aws:iam::123456789012:role/eks-node"]')
    out += [
        "",
        "# A least-privilege IAM policy for the CI that runs ecrcache: uncomment to have apply",
        "# create it (`ecrcache outputs` prints its ARN).",
        "# [ci_policy]",
        '# name = "ecrcache-ci"',
    ]
    text = "\n".join(out) + "\n"
    parse_config(tomllib.loads(text), filename="the new config")  # never write an invalid one
    return text
