"""Frozen resource types shared by desired and live state, so the diff is plain comparison.

Normalisation happens on the way in (a rule's missing upstream prefix is ``ROOT``; a rule names
its secret by name, not by the ARN with its random suffix), not by filtering differences later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MANAGED_BY_KEY = "managed-by"
MANAGED_BY_VALUE = "ecrcache"
MANAGED_TAGS: tuple[tuple[str, str], ...] = ((MANAGED_BY_KEY, MANAGED_BY_VALUE),)


class SecretValue:
    """A secret's value: compared by digest, never shown.

    ``repr``/``str`` say ``(sensitive)``, so a value that leaks into a log line, an f-string or
    an exception shows nothing. Live values are read only as a digest (``text`` is None).
    """

    __slots__ = ("_text", "digest")

    def __init__(self, text: str | None = None, *, digest: str | None = None) -> None:
        if text is None and digest is None:
            raise ValueError("a SecretValue needs a text or a digest")
        self._text = text
        self.digest = digest if text is None else hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def of(cls, text: str) -> SecretValue:
        return cls(text)

    @classmethod
    def digest_of(cls, text: str) -> SecretValue:
        """Keep only the digest of ``text`` (for values read from the account)."""
        return cls(digest=hashlib.sha256(text.encode()).hexdigest())

    def reveal(self) -> str:
        """The plain text, for the one API call that writes it."""
        if self._text is None:
            raise ValueError("this secret value is only known by its digest")
        return self._text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretValue) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        return "(sensitive)"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:  # pickling would write the value out
        raise TypeError("secret values cannot be pickled")


@dataclass(frozen=True)
class Secret:
    """An upstream credential secret in Secrets Manager.

    ``value`` None on the desired side means "leave the value alone" (no source given, or the
    source was not available); ``tags`` None means "leave the tags alone" (a secret the config only
    references). ``arn`` is live-only and not compared.
    """

    name: str
    value: SecretValue | None = None
    tags: tuple[tuple[str, str], ...] | None = None
    pending_deletion: bool = False
    arn: str | None = field(default=None, compare=False)
    kms_key_id: str | None = field(default=None, compare=False)
    # desired only: why ``value`` is None for a secret with a token source (it gave no value)
    unavailable: str | None = field(default=None, compare=False)

    @property
    def managed(self) -> bool:
        """Carries (desired: should carry) ecrcache's managed-by tag."""
        return self.tags is not None and dict(self.tags).get(MANAGED_BY_KEY) == MANAGED_BY_VALUE

    @property
    def address(self) -> str:
        return f"secret.{self.name}"


@dataclass(frozen=True)
class Rule:
    """A pull-through cache rule, keyed by its ECR repository prefix."""

    prefix: str
    upstream: str
    url: str
    upstream_prefix: str = "ROOT"
    credential: str | None = None  # secret *name*
    role_arn: str | None = None
    # Live only: the secret ARN the rule holds. ECR keeps the full ARN (with the random suffix
    # Secrets Manager gives each secret), so a secret deleted and re-created under the same name
    # leaves the rule pointing at nothing; plan compares this with the live secret's ARN.
    credential_arn: str | None = field(default=None, compare=False)

    @property
    def address(self) -> str:
        return f"rule.{self.prefix}"

    @property
    def upstream_prefix_is_default(self) -> bool:
        """The upstream prefix is the default (ROOT): not worth showing on a create."""
        return self.upstream_prefix == "ROOT"


# Fields of a rule UpdatePullThroughCacheRule can change; any other difference is a replace.
RULE_UPDATABLE = frozenset({"credential", "role_arn"})
RULE_FIELDS = ("upstream", "url", "upstream_prefix", "credential", "role_arn")


Tags = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Template:
    """A repository creation template. Policies are normalised JSON text (or None)."""

    prefix: str
    applied_for: tuple[str, ...] = ("PULL_THROUGH_CACHE",)
    description: str | None = None
    encryption: str = "AES256"
    kms_key: str | None = None
    tag_mutability: str = "MUTABLE"
    tag_mutability_exclusions: tuple[str, ...] = ()
    resource_tags: Tags = ()
    lifecycle_policy: str | None = None
    repository_policy: str | None = None
    role_arn: str | None = None

    @property
    def key(self) -> str:
        return self.prefix


@dataclass(frozen=True)
class Repository:
    """An application repository. ``encryption``/``kms_key`` are fixed at creation."""

    name: str
    tag_mutability: str = "MUTABLE"
    tag_mutability_exclusions: tuple[str, ...] = ()
    scan_on_push: bool = False
    encryption: str = "AES256"
    kms_key: str | None = None
    tags: Tags = MANAGED_TAGS
    lifecycle_policy: str | None = None
    image_count: int = field(default=0, compare=False)  # live only

    @property
    def key(self) -> str:
        return self.name

    @property
    def managed(self) -> bool:
        return dict(self.tags).get(MANAGED_BY_KEY) == MANAGED_BY_VALUE


@dataclass(frozen=True)
class RepositorySettings:
    """What a template's ``backfill`` sets on a repository the cache created before it."""

    name: str
    lifecycle_policy: str | None
    tag_mutability: str
    tag_mutability_exclusions: tuple[str, ...] = ()
    template: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class ScanRule:
    frequency: str
    filters: tuple[str, ...]


@dataclass(frozen=True)
class Scanning:
    """The registry scanning configuration (a singleton, key ``registry``)."""

    scan_type: str = "BASIC"
    rules: tuple[ScanRule, ...] = ()

    @property
    def key(self) -> str:
        return "registry"


@dataclass(frozen=True)
class RegistryPolicy:
    """ecrcache's own statements in the registry permissions policy (a singleton).

    ``statements`` are normalised JSON texts sorted by Sid; ``others`` are everybody else's
    statements, kept as they are and never compared.
    """

    statements: tuple[str, ...] = ()
    others: tuple[str, ...] = field(default=(), compare=False)

    @property
    def key(self) -> str:
        return "registry"


@dataclass(frozen=True)
class IamPolicy:
    """The CI/CD customer-managed policy. ``document`` is normalised JSON text."""

    name: str
    document: str
    tags: Tags = MANAGED_TAGS
    arn: str | None = field(default=None, compare=False)
    default_version: str | None = field(default=None, compare=False)
    versions: tuple[str, ...] = field(default=(), compare=False)  # non-default, oldest first

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class State:
    """Everything ecrcache reconciles, desired or live, keyed for lookup."""

    secrets: Mapping[str, Secret] = field(default_factory=dict)
    rules: Mapping[str, Rule] = field(default_factory=dict)
    templates: Mapping[str, Template] = field(default_factory=dict)
    repositories: Mapping[str, Repository] = field(default_factory=dict)
    repository_settings: Mapping[str, RepositorySettings] = field(default_factory=dict)
    scanning: Mapping[str, Scanning] = field(default_factory=dict)
    registry_policy: Mapping[str, RegistryPolicy] = field(default_factory=dict)
    iam_policies: Mapping[str, IamPolicy] = field(default_factory=dict)
    # [monitoring] (monitoring_resources.py): name -> EventRule, Topic, LogGroup, LogsPolicy, Budget
    event_rules: Mapping[str, Any] = field(default_factory=dict)
    topics: Mapping[str, Any] = field(default_factory=dict)
    log_groups: Mapping[str, Any] = field(default_factory=dict)
    logs_policies: Mapping[str, Any] = field(default_factory=dict)
    budgets: Mapping[str, Any] = field(default_factory=dict)
    # Live only: every repository name in the registry (for backfill and ownership checks).
    all_repositories: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        *,
        secrets: tuple[Secret, ...] = (),
        rules: tuple[Rule, ...] = (),
        templates: tuple[Template, ...] = (),
        repositories: tuple[Repository, ...] = (),
        repository_settings: tuple[RepositorySettings, ...] = (),
        scanning: Scanning | None = None,
        registry_policy: RegistryPolicy | None = None,
        iam_policies: tuple[IamPolicy, ...] = (),
        all_repositories: tuple[str, ...] = (),
        monitoring: tuple[Any, ...] = (),
    ) -> State:
        return cls(
            secrets={s.name: s for s in secrets},
            rules={r.prefix: r for r in rules},
            templates={t.prefix: t for t in templates},
            repositories={r.name: r for r in repositories},
            repository_settings={r.name: r for r in repository_settings},
            scanning={"registry": scanning} if scanning is not None else {},
            registry_policy={"registry": registry_policy} if registry_policy is not None else {},
            iam_policies={p.name: p for p in iam_policies},
            all_repositories=all_repositories,
            **_monitoring_maps(monitoring),
        )


def _monitoring_maps(objs: tuple[Any, ...]) -> dict[str, dict[str, Any]]:
    """[monitoring]'s resources by State field, keyed by name."""
    from ecrcache.reconcile.monitoring_resources import (
        Budget,
        EventRule,
        LogGroup,
        LogsPolicy,
        Topic,
    )

    fields_of = {
        EventRule: "event_rules",
        Topic: "topics",
        LogGroup: "log_groups",
        LogsPolicy: "logs_policies",
        Budget: "budgets",
    }
    out: dict[str, dict[str, Any]] = {f: {} for f in fields_of.values()}
    for obj in objs:
        out[fields_of[type(obj)]][obj.name] = obj
    return out


def secret_name_from_arn(arn: str) -> str:
    """``arn:...:secret:NAME-AbCdEf`` → ``NAME``: Secrets Manager adds a 6-character suffix.

    Use only where the secret is not in the account listing (which maps ARN to name exactly).
    """
    name = arn.split(":secret:", 1)[-1]
    base, dash, suffix = name.rpartition("-")
    if dash and len(suffix) == 6 and suffix.isalnum():
        return base
    return name
