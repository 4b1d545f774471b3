"""A pull-through cache rule as the config gives it, checked against ECR's naming rules.

Owns ``[rules.<prefix>]`` (``RuleConfig``), its credentials (``CredentialsConfig``, and
``ValueSource``: where a secret value is read, never the value), ``[safety]`` (``SafetyConfig``),
the prefix, secret-name and role-ARN rules they check (``check_prefix`` and the constants) and the
two message helpers the config modules share (``did_you_mean``, ``_key``). No message ever
repeats a value given for a credential field.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from ecrcache.config.base import Problem, StrictModel
from ecrcache.config.keypath import toml_key
from ecrcache.config.upstreams import KINDS, UPSTREAMS, Credentials, upstream
from ecrcache.secrecy import looks_like_credential

# --- ECR's own rules (botocore model, shared/ECR-FACTS.md section 1) -----------------------------

PREFIX_RE = re.compile(
    r"^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$"
)
PREFIX_MIN, PREFIX_MAX = 2, 30
SECRET_PREFIX = "ecr-pullthroughcache/"
# Secrets Manager names: 1-512 of these characters; ECR's credentialArn pattern allows the same set.
SECRET_NAME_RE = re.compile(r"^ecr-pullthroughcache/[a-zA-Z0-9/_+=.@-]+$")
SECRET_NAME_MAX = 512
ROLE_ARN_RE = re.compile(r"^arn:aws(-[a-z]+)*:iam::([0-9]{12}):role/[\w+=,.@/-]{1,512}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --- where a secret value comes from ---------------------------------------------------------


class ValueSource(StrictModel):
    """Where a credential value is read at plan/apply time. Exactly one key is set.

    The value itself never appears in the config file.
    """

    env: str | None = None
    file: Path | None = None
    stdin: bool = False
    command: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ValueSource:
        given = [k for k in ("env", "file", "command") if getattr(self, k) is not None]
        if self.stdin:
            given.append("stdin")
        if len(given) != 1:
            raise Problem(
                "give exactly one of env, file, stdin or command",
                'e.g. token = { env = "DOCKERHUB_TOKEN" }',
            )
        pasted = self._pasted_credential()
        if pasted is not None:
            raise Problem(
                f"this looks like a credential itself, not the {pasted[1]} to read it from "
                "(the value is not shown)",
                "put the value in an environment variable or a file and name that: "
                '{ env = "DOCKERHUB_TOKEN" } or { file = "~/.secrets/token" }; '
                "and rotate the credential if this file was shared",
                subpath=pasted[0],
            )
        if self.env is not None and not ENV_NAME_RE.match(self.env):
            raise Problem(f"{self.env!r} is not an environment variable name", subpath="env")
        if self.command is not None and not self.command:
            raise Problem("command must name a program", 'e.g. command = ["pass", "dockerhub"]')
        return self

    def _pasted_credential(self) -> tuple[str, str] | None:
        """(key, what it should name) when a source holds what looks like the secret itself."""
        if self.env is not None and looks_like_credential(self.env):
            return "env", "name of an environment variable"
        if self.file is not None and looks_like_credential(str(self.file)):
            return "file", "path of a file"
        if self.command and any(looks_like_credential(a) for a in self.command):
            return "command", "command"
        return None

    def describe(self) -> str:
        """Where the value comes from, for messages (never the value)."""
        if self.env is not None:
            return f"environment variable {self.env}"
        if self.file is not None:
            return f"file {self.file}"
        if self.command is not None:
            return f"command {self.command[0]}"
        return "standard input"


def _literal_secret(key: str) -> Problem:
    return Problem(
        f"a {key} cannot be written in the config file",
        f'read it from somewhere else: {key} = {{ env = "NAME" }}, {{ file = "path" }}, '
        '{ stdin = true } or { command = ["prog", "arg"] }',
    )


class CredentialsConfig(StrictModel):
    """The Secrets Manager secret a rule authenticates with, and what ecrcache puts in it.

    With ``token`` set, ecrcache owns the secret: it creates it and keeps its value current.
    Without it, the secret must already exist and ecrcache only references it.
    """

    secret: str
    username: str | ValueSource | None = None
    token: ValueSource | None = None

    @field_validator("token", mode="before")
    @classmethod
    def _no_literal_token(cls, v: Any) -> Any:
        if isinstance(v, str | int | float):
            raise _literal_secret("token")
        return v

    @field_validator("secret")
    @classmethod
    def _secret_name(cls, v: str) -> str:
        if v.startswith("arn:"):
            raise Problem(
                "give the secret's name, not its ARN",
                f'e.g. secret = "{SECRET_PREFIX}docker-hub"; ecrcache looks the ARN up itself',
            )
        if not v.startswith(SECRET_PREFIX):
            raise Problem(
                f"secret name {v!r} must start with {SECRET_PREFIX!r}",
                f"ECR only accepts secrets named {SECRET_PREFIX}...; e.g. "
                f'secret = "{SECRET_PREFIX}{v.rsplit("/", 1)[-1] or "docker-hub"}"',
            )
        if len(v) > SECRET_NAME_MAX or not SECRET_NAME_RE.match(v):
            raise Problem(
                f"secret name {v!r} is not valid",
                "after the prefix use 1 or more of A-Z a-z 0-9 / _ + = . @ - (512 at most)",
            )
        return v

    @model_validator(mode="after")
    def _token_needs_username(self) -> CredentialsConfig:
        if self.token is not None and self.username is None:
            raise Problem(
                "a token needs a username",
                'add username = "your-user" (the upstream account the token belongs to)',
                subpath="username",
            )
        return self

    @property
    def managed(self) -> bool:
        """Whether ecrcache writes the secret's value (it has a token source)."""
        return self.token is not None


class RuleConfig(StrictModel):
    """One pull-through cache rule. Its ECR repository prefix is its key under [rules]."""

    prefix: str
    upstream: str
    url: str | None = None
    upstream_prefix: str | None = None
    credentials: CredentialsConfig | None = None
    role_arn: str | None = None

    @field_validator("upstream")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        if v not in UPSTREAMS:
            raise Problem(
                f"{v!r} is not an upstream ECR supports{did_you_mean(v, KINDS)}",
                "one of: " + ", ".join(KINDS),
            )
        return v

    @field_validator("prefix", "upstream_prefix")
    @classmethod
    def _prefix(cls, v: str | None) -> str | None:
        if v is None:
            return v
        return check_prefix(v)

    @model_validator(mode="after")
    def _rules_of_the_upstream(self) -> RuleConfig:
        up = upstream(self.upstream)
        # URL: fixed for most upstreams; user-given and checked for Azure and ECR.
        if up.url is not None:
            if self.url is not None and self.url != up.url:
                raise Problem(
                    f"{up.title} must use url {up.url!r}, not {self.url!r}",
                    f'remove url (it defaults to "{up.url}") or set url = "{up.url}"',
                    subpath="url",
                )
        else:
            if self.url is None:
                raise Problem(
                    f"{up.title} needs the upstream registry's url",
                    f'e.g. url = "{up.url_example}"',
                    subpath="url",
                )
            assert up.url_pattern is not None
            if not up.url_pattern.match(self.url):
                raise Problem(
                    f"{self.url!r} is not a {up.title} registry host",
                    f'a host name with no scheme or path, e.g. "{up.url_example}"',
                    subpath="url",
                )
        if self.upstream_prefix is not None and self.prefix == "ROOT":
            raise Problem(
                "upstream_prefix needs a prefix other than ROOT",
                "ECR only maps an upstream prefix for a named ECR repository prefix",
                subpath="upstream_prefix",
            )
        if up.credentials is Credentials.SECRET and self.credentials is None:
            raise Problem(
                f"{up.title} needs credentials (ECR does not pull from it anonymously)",
                f'add [rules.{_key(self.prefix)}.credentials] with secret = "{SECRET_PREFIX}'
                f'{up.default_prefix}", username and token = {{ env = "..." }}',
                subpath="credentials",
            )
        if up.credentials is not Credentials.SECRET and self.credentials is not None:
            extra = " (use role_arn for another account's ECR)" if up.kind == "ecr" else ""
            raise Problem(
                f"{up.title} takes no credentials{extra}",
                "remove the credentials table",
                subpath="credentials",
            )
        if self.role_arn is not None:
            if up.kind != "ecr":
                raise Problem(
                    "role_arn is only for ECR upstreams",
                    "remove role_arn; other upstreams authenticate with credentials",
                    subpath="role_arn",
                )
            if not ROLE_ARN_RE.match(self.role_arn):
                raise Problem(
                    f"{self.role_arn!r} is not an IAM role ARN",
                    'e.g. role_arn = "arn:aws:iam::111122223333:role/ecr-ptc-upstream"',
                    subpath="role_arn",
                )
        return self

    @property
    def resolved_url(self) -> str:
        return self.url if self.url is not None else str(upstream(self.upstream).url)

    @property
    def upstream_account(self) -> str | None:
        """For an ECR upstream, the account its registry belongs to."""
        if self.upstream != "ecr" or self.url is None:
            return None
        return self.url.split(".", 1)[0]


class SafetyConfig(StrictModel):
    """Thresholds as octoDNS has them: a share of existing managed resources, once enough exist."""

    update_threshold: float = Field(0.3, ge=0, le=1)
    delete_threshold: float = Field(0.3, ge=0, le=1)
    min_existing: int = Field(10, ge=0)


def check_prefix(v: str) -> str:
    """An ECR repository prefix as CreatePullThroughCacheRule takes it (ROOT allowed)."""
    if v == "ROOT":
        return v
    if len(v) < PREFIX_MIN or len(v) > PREFIX_MAX:
        raise Problem(
            f"prefix {v!r} has {len(v)} characters; ECR takes {PREFIX_MIN} to {PREFIX_MAX}",
            "use a shorter prefix, e.g. the upstream's usual short name",
        )
    if not PREFIX_RE.match(v):
        fixed = re.sub(r"[^a-z0-9._/-]+", "-", v.lower()).strip("-._/")
        raise Problem(
            f"prefix {v!r} is not valid: lowercase letters, digits and . _ - / between them",
            f"e.g. {fixed!r}" if fixed and PREFIX_RE.match(fixed) else None,
        )
    return v


def did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _key(prefix: str) -> str:
    """A prefix as a TOML table key (quoted, and escaped, where it needs to be)."""
    return toml_key(prefix)
