"""The root of the config file (``Config``): the whole TOML document as one frozen model.

Holds the checks that span tables (rule count, shared secrets, ECR upstream roles, application
repositories outside the cache prefixes, backfill names) and the warnings ``validate`` and ``plan``
show. The tables themselves live in ``rules`` (rules, credentials, safety), ``registry``
(templates, repositories, scanning, pullers, CI policy) and ``cost``; reading a file and turning
pydantic's errors into one line each is ``loading``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ecrcache.config.base import Problem, StrictModel
from ecrcache.config.cost import CostConfig
from ecrcache.config.hub import HubConfig, SpokeConfig
from ecrcache.config.monitoring import MonitoringConfig
from ecrcache.config.registry import (
    CiPolicyConfig,
    PullersConfig,
    RepositoryConfig,
    ScanningConfig,
    TemplateConfig,
    pattern_regex,
)
from ecrcache.config.rules import (
    ROLE_ARN_RE,
    CredentialsConfig,
    RuleConfig,
    SafetyConfig,
    ValueSource,
    _key,
)
from ecrcache.config.targets import TargetConfig, check_target_names

# --- ECR's own rules (botocore model, shared/ECR-FACTS.md section 1) -----------------------------

MAX_RULES = 50  # pull through cache rules per registry; not adjustable
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
ACCOUNT_RE = re.compile(r"^[0-9]{12}$")

CONFIG_VERSION = 1


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
    monitoring: MonitoringConfig | None = None
    hub: HubConfig | None = None
    spoke: SpokeConfig | None = None
    safety: SafetyConfig = SafetyConfig()
    cost: CostConfig = CostConfig()
    # [targets.NAME]: many accounts and regions, this document their defaults (config/targets.py)
    targets: dict[str, TargetConfig] = Field(default_factory=dict)

    @field_validator("targets", mode="before")
    @classmethod
    def _target_names(cls, v: Any) -> Any:
        if isinstance(v, Mapping):
            check_target_names(v)
        return v

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
                    subpath=f"rules.{_key(key)}",
                )
            cred = rule.credentials
            if cred is None:
                continue
            seen = sources.get(cred.secret)
            if seen is not None and seen[1] != cred:
                raise Problem(
                    f"secret {cred.secret!r} is also used by rules.{seen[0]} with other settings",
                    "give the same username and token source in both, or use two secrets",
                    subpath=f"rules.{_key(key)}.credentials",
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
                subpath=f"rules.{_key(stdin_users[1])}.credentials",
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
        self._check_hub_spoke()
        return self

    def _check_hub_spoke(self) -> None:
        if self.hub is not None and self.spoke is not None:
            raise Problem(
                "a config is either a hub or a spoke, not both",
                "a hub serves its own pulls already: remove [spoke]",
                subpath="spoke",
            )
        if self.spoke is not None and self.spoke.hub_account_id == self.account_id:
            raise Problem(
                "the hub is this account",
                "a spoke pulls through another account's cache: remove [spoke]",
                subpath="spoke.hub_account_id",
            )
        if self.hub is not None and self.account_id in self.hub.spoke_accounts:
            raise Problem(
                "the hub names its own account as a spoke",
                "its own principals need no grant from the hub: use [pullers]",
                subpath="hub.spoke_accounts",
            )

    def registry_of(self, account_id: str, region: str) -> tuple[str, str]:
        """The account and region of the registry that serves this config's pulls: the hub's
        for a spoke (its region defaults to ``region``), else ``account_id`` and ``region``."""
        if self.spoke is None:
            return account_id, region
        return self.spoke.hub_account_id, self.spoke.hub_region or region

    def _check_backfill_repositories(self) -> None:
        """Names backfill may reach outside the rule prefixes exist only with a ROOT rule, and
        each belongs on the template ECR applies to it (see backfill.py)."""
        for key, t in self.templates.items():
            if not t.backfill_repositories:
                continue
            where = f"templates.{_key(key)}.backfill_repositories"
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
                    f"templates.{_key(t.prefix)}: no rule has this prefix, so no pull-through "
                    "cache repository will use it"
                )
        for t in self.templates.values():
            for p in t.backfill_repositories:
                hit = next((n for n in self.repositories if pattern_regex(p).fullmatch(n)), None)
                if hit is not None:
                    out.append(
                        f"templates.{_key(t.prefix)}.backfill_repositories: {p!r} matches the "
                        f"application repository {hit!r}, which backfill leaves alone"
                    )
        if cache and not self.templates and self.spoke is None:
            out.append(
                "no repository creation templates: repositories the cache creates get no "
                "lifecycle policy (add [templates.ROOT] or one per rule prefix)"
            )
        from ecrcache.config.ci_policy import size_warnings  # it imports this module
        from ecrcache.config.hub_checks import hub_spoke_warnings

        out.extend(size_warnings(self))
        out.extend(hub_spoke_warnings(self))
        return tuple(out)

    def _check_ecr_role(self, key: str, rule: RuleConfig) -> None:
        if rule.upstream != "ecr":
            return
        other = rule.upstream_account
        if self.account_id is not None and other != self.account_id and rule.role_arn is None:
            raise Problem(
                f"an ECR upstream in another account ({other}) needs role_arn",
                "a role in this account that pullthroughcache.ecr.amazonaws.com can assume",
                subpath=f"rules.{_key(key)}.role_arn",
            )
        if rule.role_arn is not None and self.account_id is not None:
            m = ROLE_ARN_RE.match(rule.role_arn)
            if m and m.group(2) != self.account_id:
                raise Problem(
                    "the role must be in this registry's account "
                    f"({self.account_id}), not {m.group(2)}",
                    "ECR only assumes a custom role from the account the rule is in",
                    subpath=f"rules.{_key(key)}.role_arn",
                )

    @property
    def rule_list(self) -> tuple[RuleConfig, ...]:
        """Rules sorted by prefix."""
        return tuple(sorted(self.rules.values(), key=lambda r: r.prefix))
