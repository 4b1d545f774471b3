"""The config file: TOML → frozen pydantic models, checked as ECR would check them, and earlier.

Pure: no AWS, no terminal. Every problem becomes a ``ConfigProblem`` naming the key path, what is
wrong and how to fix it; ``load_config`` raises one ``ConfigError`` carrying all of them. No
message ever repeats a value given for a credential field.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ecrcache.config.base import ConfigProblem, Problem, StrictModel
from ecrcache.config.cost import CostConfig
from ecrcache.config.registry import (
    CiPolicyConfig,
    PullersConfig,
    RepositoryConfig,
    ScanningConfig,
    TemplateConfig,
    pattern_regex,
)
from ecrcache.config.upstreams import KINDS, UPSTREAMS, Credentials, upstream
from ecrcache.errors import ConfigError

# --- ECR's own rules (botocore model, shared/ECR-FACTS.md section 1) -----------------------------

PREFIX_RE = re.compile(
    r"^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$"
)
PREFIX_MIN, PREFIX_MAX = 2, 30
MAX_RULES = 50  # pull through cache rules per registry; not adjustable
SECRET_PREFIX = "ecr-pullthroughcache/"
# Secrets Manager names: 1-512 of these characters; ECR's credentialArn pattern allows the same set.
SECRET_NAME_RE = re.compile(r"^ecr-pullthroughcache/[a-zA-Z0-9/_+=.@-]+$")
SECRET_NAME_MAX = 512
ROLE_ARN_RE = re.compile(r"^arn:aws(-[a-z]+)*:iam::([0-9]{12}):role/[\w+=,.@/-]{1,512}$")
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

CONFIG_VERSION = 1


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
        if self.env is not None and not ENV_NAME_RE.match(self.env):
            raise Problem(f"{self.env!r} is not an environment variable name", subpath="env")
        if self.command is not None and not self.command:
            raise Problem("command must name a program", 'e.g. command = ["pass", "dockerhub"]')
        return self

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
                f"{v!r} is not an upstream ECR supports{_did_you_mean(v, KINDS)}",
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


class Config(StrictModel):
    """The whole file. ``rules`` is keyed by ECR repository prefix."""

    version: int = CONFIG_VERSION
    region: str
    account_id: str | None = None
    rules: dict[str, RuleConfig] = Field(default_factory=dict)
    templates: dict[str, TemplateConfig] = Field(default_factory=dict)
    repositories: dict[str, RepositoryConfig] = Field(default_factory=dict)
    scanning: ScanningConfig | None = None
    pullers: PullersConfig | None = None
    ci_policy: CiPolicyConfig | None = None
    safety: SafetyConfig = SafetyConfig()
    cost: CostConfig = CostConfig()

    @field_validator("version")
    @classmethod
    def _version(cls, v: int) -> int:
        if v != CONFIG_VERSION:
            raise Problem(
                f"config version {v} is not supported",
                f"this ecrcache reads version = {CONFIG_VERSION}",
            )
        return v

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        if not REGION_RE.match(v):
            raise Problem(f"{v!r} is not an AWS region name", 'e.g. region = "af-south-1"')
        return v

    @field_validator("account_id", mode="before")
    @classmethod
    def _account(cls, v: Any) -> Any:
        if isinstance(v, int):
            raise Problem("account_id must be a string", 'quote it: account_id = "123456789012"')
        if isinstance(v, str) and not ACCOUNT_RE.match(v):
            raise Problem(f"{v!r} is not a 12-digit AWS account ID")
        return v

    @field_validator("rules", "templates", "repositories", mode="before")
    @classmethod
    def _keys_into_bodies(cls, v: Any, info: ValidationInfo) -> Any:
        # The table key is the rule's or template's prefix, or the repository's name; put it
        # into each body so the model validates it and messages can name it.
        if not isinstance(v, Mapping):
            return v
        field = "name" if info.field_name == "repositories" else "prefix"
        out: dict[str, Any] = {}
        for key, body in v.items():
            if isinstance(body, Mapping):
                if field in body:
                    raise Problem(
                        f"the {field} is the table key",
                        f"remove {field} from [{info.field_name}.{_key(key)}]",
                        subpath=f"{key}.{field}",
                    )
                body = {field: key, **body}
            out[key] = body
        return out

    @model_validator(mode="after")
    def _across_rules(self) -> Config:
        if len(self.rules) > MAX_RULES:
            raise Problem(
                f"{len(self.rules)} rules; ECR allows {MAX_RULES} per registry (not adjustable)",
                "merge upstreams or use another region or account",
                subpath="rules",
            )
        sources: dict[str, tuple[str, CredentialsConfig]] = {}
        stdin_users: list[str] = []
        for key, rule in self.rules.items():
            if rule.prefix.endswith("/"):
                raise Problem(
                    f"write the prefix without the trailing slash: {rule.prefix.rstrip('/')!r}",
                    "ECR adds the slash itself",
                    subpath=f"rules.{key}",
                )
            cred = rule.credentials
            if cred is None:
                continue
            seen = sources.get(cred.secret)
            if seen is not None and seen[1] != cred:
                raise Problem(
                    f"secret {cred.secret!r} is also used by rules.{seen[0]} with other settings",
                    "give the same username and token source in both, or use two secrets",
                    subpath=f"rules.{key}.credentials",
                )
            if seen is None:
                sources[cred.secret] = (key, cred)
                for field in (cred.username, cred.token):
                    if isinstance(field, ValueSource) and field.stdin:
                        stdin_users.append(key)
        if len(stdin_users) > 1:
            raise Problem(
                "only one credential value can be read from standard input",
                "read the others from env, file or command",
                subpath=f"rules.{stdin_users[1]}.credentials",
            )
        for key, rule in self.rules.items():
            self._check_ecr_role(key, rule)
        cache = self.cache_prefixes
        for name in self.repositories:
            # A ROOT rule only serves names no repository holds: app repositories live beside it.
            under = next((p for p in cache if p != "ROOT" and name.startswith(p + "/")), None)
            if under is not None:
                raise Problem(
                    f"repository {name!r} is under the cache prefix {under!r}",
                    "pulls there go through the cache; give application repositories "
                    "a name outside every rule's prefix",
                    subpath=f"repositories.{name}",
                )
        self._check_backfill_repositories()
        return self

    def _check_backfill_repositories(self) -> None:
        """Names backfill may reach outside the rule prefixes exist only with a ROOT rule, and
        each belongs on the template ECR applies to it (see backfill.py)."""
        for key, t in self.templates.items():
            if not t.backfill_repositories:
                continue
            where = f"templates.{key}.backfill_repositories"
            if "ROOT" not in self.rules:
                raise Problem(
                    "backfill_repositories names repositories only a ROOT rule creates, and "
                    "the config has no ROOT rule",
                    "remove it: backfill = true already reaches every repository under the "
                    "rule prefixes",
                    subpath=where,
                )
            if t.prefix != "ROOT":
                continue
            for p in t.backfill_repositories:
                other = next(
                    (
                        o
                        for o, ot in self.templates.items()
                        if o != "ROOT"
                        and "PULL_THROUGH_CACHE" in ot.applied_for
                        and p.startswith(o + "/")
                    ),
                    None,
                )
                if other is not None:
                    raise Problem(
                        f"{p!r} is under templates.{_key(other)}, which ECR applies to those names",
                        f"list it in templates.{_key(other)}.backfill_repositories",
                        subpath=where,
                    )

    @property
    def cache_prefixes(self) -> frozenset[str]:
        return frozenset(self.rules)

    def warnings(self) -> tuple[str, ...]:
        """What is valid but will not work as meant (shown by validate and plan)."""
        out: list[str] = []
        cache = self.cache_prefixes
        for t in self.templates.values():
            out.extend(t.warnings(cache_prefixes=cache))
            if (
                t.prefix != "ROOT"
                and "PULL_THROUGH_CACHE" in t.applied_for
                and t.prefix not in cache
            ):
                out.append(
                    f"templates.{t.prefix}: no rule has this prefix, so no pull-through cache "
                    "repository will use it"
                )
        for t in self.templates.values():
            for p in t.backfill_repositories:
                hit = next((n for n in self.repositories if pattern_regex(p).fullmatch(n)), None)
                if hit is not None:
                    out.append(
                        f"templates.{t.prefix}.backfill_repositories: {p!r} matches the "
                        f"application repository {hit!r}, which backfill leaves alone"
                    )
        if cache and not self.templates:
            out.append(
                "no repository creation templates: repositories the cache creates get no "
                "lifecycle policy (add [templates.ROOT] or one per rule prefix)"
            )
        from ecrcache.config.ci_policy import size_warnings  # it imports this module

        out.extend(size_warnings(self))
        return tuple(out)

    def _check_ecr_role(self, key: str, rule: RuleConfig) -> None:
        if rule.upstream != "ecr":
            return
        other = rule.upstream_account
        if self.account_id is not None and other != self.account_id and rule.role_arn is None:
            raise Problem(
                f"an ECR upstream in another account ({other}) needs role_arn",
                "a role in this account that pullthroughcache.ecr.amazonaws.com can assume",
                subpath=f"rules.{key}.role_arn",
            )
        if rule.role_arn is not None and self.account_id is not None:
            m = ROLE_ARN_RE.match(rule.role_arn)
            if m and m.group(2) != self.account_id:
                raise Problem(
                    "the role must be in this registry's account "
                    f"({self.account_id}), not {m.group(2)}",
                    "ECR only assumes a custom role from the account the rule is in",
                    subpath=f"rules.{key}.role_arn",
                )

    @property
    def rule_list(self) -> tuple[RuleConfig, ...]:
        """Rules sorted by prefix."""
        return tuple(sorted(self.rules.values(), key=lambda r: r.prefix))


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


# --- loading and error translation -------------------------------------------------------------


def load_config(path: Path) -> Config:
    """Read and validate ``path``. Raises ConfigError naming the file, the key and the fix."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{name}: no such file",
            hint="pass --config PATH (or set ECRCACHE_CONFIG); config.example.toml is a start",
        ) from None
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read: {exc.strerror}") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{name}: not valid TOML: {exc}",
            hint="check quoting and brackets on that line",
        ) from None
    return parse_config(doc, filename=name)


def parse_config(doc: Mapping[str, Any], *, filename: str = "config") -> Config:
    """Validate an already-parsed TOML document."""
    try:
        return Config.model_validate(doc)
    except ValidationError as exc:
        problems = tuple(_problems(exc, doc))
    raise config_error(problems, filename)


def config_error(problems: Iterable[ConfigProblem], filename: str) -> ConfigError:
    probs = tuple(problems)
    first = probs[0]
    return ConfigError(
        first.line(filename),
        hint=first.hint,
        details=tuple(p.line(filename) for p in probs[1:]),
    )


def _fields_at(loc: tuple[str | int, ...]) -> tuple[str, ...]:
    """The keys allowed at ``loc`` (for 'did you mean')."""
    model: type[BaseModel] = Config
    skip_key = False
    for part in loc:
        if skip_key:  # the user's own key in a keyed table ([rules.<prefix>])
            skip_key = False
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            continue
        found = _model_in(field.annotation)
        if found is not None:
            model, skip_key = found
    return tuple(k for k in model.model_fields if k not in ("prefix", "name"))


def _model_in(ann: Any) -> tuple[type[BaseModel], bool] | None:
    """The model an annotation holds, and whether it sits under a keyed table (dict)."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann, False
    args = typing.get_args(ann)
    keyed = typing.get_origin(ann) is dict
    for arg in args[1:] if keyed else args:
        inner = _model_in(arg)
        if inner is not None:
            return inner[0], keyed or inner[1]
    return None


_UNION_TAGS = {"str", "ValueSource", "function-after[_exactly_one(), ValueSource]"}


def _problems(exc: ValidationError, doc: Mapping[str, Any]) -> Iterable[ConfigProblem]:
    seen: set[str] = set()
    for err in exc.errors(include_input=False, include_url=False):
        loc = tuple(p for p in err["loc"] if str(p) not in _UNION_TAGS)
        path = ".".join(str(p) for p in loc)
        ctx_err = err.get("ctx", {}).get("error")
        if isinstance(ctx_err, Problem):
            full = ".".join(p for p in (path, ctx_err.subpath) if p)
            if full.endswith(".prefix") and full.startswith("rules."):
                full = full.removesuffix(".prefix")
            prob = ConfigProblem(full, ctx_err.message, ctx_err.hint)
        elif err["type"] == "extra_forbidden":
            key = str(loc[-1])
            allowed = _fields_at(loc[:-1])
            prob = ConfigProblem(
                path,
                f"unknown key {key!r}{_did_you_mean(key, allowed)}",
                "allowed here: " + ", ".join(allowed) if allowed else None,
            )
        elif err["type"] == "missing":
            prob = ConfigProblem(path, "is required", None)
        else:
            # pydantic's own wording names the expected type; never echo the input.
            prob = ConfigProblem(path, err["msg"].lower(), None)
        if prob.path in seen:
            continue  # a union reports once per branch; one line per key is enough
        seen.add(prob.path)
        yield prob


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _key(prefix: str) -> str:
    """A prefix as a TOML table key (quoted where it needs to be)."""
    return prefix if re.fullmatch(r"[A-Za-z0-9_-]+", prefix) else f'"{prefix}"'
