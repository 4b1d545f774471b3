"""Frozen resource types shared by desired and live state, so the diff is plain comparison.

Normalisation happens on the way in (a rule's missing upstream prefix is ``ROOT``; a rule names
its secret by name, not by the ARN with its random suffix), not by filtering differences later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class State:
    """Everything ecrcache reconciles, desired or live, keyed for lookup."""

    secrets: Mapping[str, Secret] = field(default_factory=dict)
    rules: Mapping[str, Rule] = field(default_factory=dict)

    @classmethod
    def of(cls, *, secrets: tuple[Secret, ...] = (), rules: tuple[Rule, ...] = ()) -> State:
        return cls(
            secrets={s.name: s for s in secrets},
            rules={r.prefix: r for r in rules},
        )


def secret_name_from_arn(arn: str) -> str:
    """``arn:...:secret:NAME-AbCdEf`` → ``NAME``: Secrets Manager adds a 6-character suffix.

    Use only where the secret is not in the account listing (which maps ARN to name exactly).
    """
    name = arn.split(":secret:", 1)[-1]
    base, dash, suffix = name.rpartition("-")
    if dash and len(suffix) == 6 and suffix.isalnum():
        return base
    return name
