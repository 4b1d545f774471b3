"""Config sections beyond rules: creation templates, application repositories, scanning,
pullers and the CI policy. Pure; checked as ECR checks them (botocore model, ECR-FACTS §3, §4).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ecrcache.config.base import Problem, StrictModel
from ecrcache.config.keypath import toml_key
from ecrcache.inputfile import loads_json
from ecrcache.policy import lifecycle

TAG_MUTABILITY = ("MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION")
APPLIED_FOR = ("PULL_THROUGH_CACHE", "REPLICATION", "CREATE_ON_PUSH")
KMS_KEY_RE = re.compile(r"^arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-z0-9-]+$")
EXCLUSION_RE = re.compile(r"^[0-9a-zA-Z._*-]{1,128}$")
REPO_NAME_RE = re.compile(
    r"^(?=.{2,256}$)((?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)$"
)
SCAN_FILTER_RE = re.compile(r"^[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$")
PRINCIPAL_RE = re.compile(
    r"^([0-9]{12}|arn:aws(-[a-z]+)*:iam::[0-9]{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+))$"
)
ROLE_ARN_RE = re.compile(r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$")
POLICY_NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}$")
BACKFILL_PATTERN_RE = re.compile(r"^[a-z0-9._/*-]{1,256}$")
MAX_TAGS = 50
# ECR allows 256 characters (RepositoryTemplateDescription, botocore ECR model); ecrcache appends
# " [managed-by=ecrcache]" to mark the template as its own (reconcile/ownership.py).
TEMPLATE_MARKER_SUFFIX = " [managed-by=ecrcache]"
TEMPLATE_DESCRIPTION_MAX = 256 - len(TEMPLATE_MARKER_SUFFIX)


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A ``backfill_repositories`` pattern as a regex: ``*`` is any run of characters (``/``
    included); everything else is literal."""
    return re.compile("".join(".*" if ch == "*" else re.escape(ch) for ch in pattern))


class LifecycleConfig(StrictModel):
    """Friendly lifecycle settings, or ``policy`` with raw ECR lifecycle JSON (not both)."""

    keep_last: int | None = Field(None, ge=1)
    expire_untagged_after_days: int | None = Field(None, ge=1)
    archive_unpulled_after_days: int | None = Field(None, ge=1)
    expire_archived_after_days: int | None = Field(None, ge=90)
    keep_tagged: dict[str, int] | None = None  # tag pattern -> keep the newest N
    policy: str | None = None

    @model_validator(mode="after")
    def _compiles(self) -> LifecycleConfig:
        friendly = self._friendly()
        if self.policy is not None and any(v is not None for v in friendly.values()):
            raise Problem(
                "give either policy (raw JSON) or the friendly keys, not both",
                "move the friendly settings into the JSON, or drop policy",
            )
        if self.policy is None and all(v is None for v in friendly.values()):
            raise Problem(
                "an empty lifecycle table",
                "set keep_last, expire_untagged_after_days, archive_unpulled_after_days, "
                "keep_tagged or policy",
            )
        text = self.document()
        problems = lifecycle.check_policy(text, min_chars=0)
        if problems:
            raise Problem(
                f"lifecycle policy: {problems[0]}",
                f"and {len(problems) - 1} more" if len(problems) > 1 else None,
                subpath="policy" if self.policy is not None else "",
            )
        return self

    def _friendly(self) -> dict[str, Any]:
        return {
            "keep_last": self.keep_last,
            "expire_untagged_after_days": self.expire_untagged_after_days,
            "archive_unpulled_after_days": self.archive_unpulled_after_days,
            "expire_archived_after_days": self.expire_archived_after_days,
            "keep_last_tag_patterns": self.keep_tagged,
        }

    def document(self) -> str:
        """The policy as normalised JSON text (what is compared with the account)."""
        if self.policy is not None:
            try:
                return lifecycle.normalise(self.policy)
            except ValueError as exc:
                raise Problem(f"policy is not a JSON object: {exc}", subpath="policy") from None
        try:
            return lifecycle.normalise(lifecycle.compile_rules(**self._friendly()))
        except ValueError as exc:
            raise Problem(str(exc)) from None


def _check_tags(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > MAX_TAGS:
        raise Problem(f"{len(tags)} tags; ECR allows {MAX_TAGS}")
    for k, v in tags.items():
        if not 1 <= len(k) <= 128 or len(v) > 256:
            raise Problem(f"tag {k!r}: keys take 1-128 characters, values up to 256")
        if k.lower().startswith("aws:"):
            raise Problem(f"tag {k!r}: the aws: prefix is reserved")
    return tags


def _check_exclusions(mutability: str, exclusions: tuple[str, ...]) -> None:
    if mutability.endswith("_WITH_EXCLUSION"):
        if not 1 <= len(exclusions) <= 5:
            raise Problem(
                f"{mutability} needs 1 to 5 tag_mutability_exclusions",
                'e.g. tag_mutability_exclusions = ["latest"]',
                subpath="tag_mutability_exclusions",
            )
    elif exclusions:
        raise Problem(
            f"tag_mutability_exclusions need tag_mutability = {mutability}_WITH_EXCLUSION",
            subpath="tag_mutability",
        )
    for f in exclusions:
        if not EXCLUSION_RE.match(f):
            raise Problem(
                f"exclusion filter {f!r}: letters, digits, . _ - and * wildcards, 1-128",
                subpath="tag_mutability_exclusions",
            )


class _RepoSettings(StrictModel):
    tag_mutability: Literal[
        "MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"
    ] = "MUTABLE"
    tag_mutability_exclusions: tuple[str, ...] = ()
    encryption: Literal["AES256", "KMS", "KMS_DSSE"] = "AES256"
    kms_key: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    lifecycle: LifecycleConfig | None = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        return _check_tags(v)

    def _check_common(self) -> None:
        _check_exclusions(self.tag_mutability, self.tag_mutability_exclusions)
        if self.encryption == "AES256" and self.kms_key is not None:
            raise Problem('kms_key needs encryption = "KMS"', subpath="kms_key")


class TemplateConfig(_RepoSettings):
    """A repository creation template, keyed by prefix (a rule's prefix, or ROOT)."""

    prefix: str
    applied_for: tuple[Literal["PULL_THROUGH_CACHE", "REPLICATION", "CREATE_ON_PUSH"], ...] = (
        "PULL_THROUGH_CACHE",
    )
    description: str | None = None
    repository_policy: str | None = None
    role_arn: str | None = None
    backfill: bool = False
    # Names (``*`` wildcards) that only a ROOT rule could have created: backfill reaches them
    # only when named here (people push to such names too). See backfill.py.
    backfill_repositories: tuple[str, ...] = ()

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        from ecrcache.config.rules import PREFIX_RE

        if v != "ROOT" and (len(v) > 256 or not PREFIX_RE.match(v) or v.endswith("/")):
            raise Problem(
                f"template prefix {v!r} is not valid",
                "a rule's prefix (lowercase letters, digits and . _ - /), or ROOT",
            )
        return v

    @field_validator("description")
    @classmethod
    def _description(cls, v: str | None) -> str | None:
        if v is not None and len(v) > TEMPLATE_DESCRIPTION_MAX:
            raise Problem(
                f"description has {len(v)} characters; at most {TEMPLATE_DESCRIPTION_MAX}",
                f"ECR allows 256 and ecrcache appends{TEMPLATE_MARKER_SUFFIX!r} to mark the "
                "template as its own: shorten the text",
            )
        return v

    @model_validator(mode="after")
    def _template_rules(self) -> TemplateConfig:
        self._check_common()
        if not self.applied_for:
            raise Problem("applied_for needs at least one of " + ", ".join(APPLIED_FOR))
        if self.kms_key is not None and not KMS_KEY_RE.match(self.kms_key):
            raise Problem(
                "a template needs the KMS key's full ARN (no alias or key ID)",
                'e.g. kms_key = "arn:aws:kms:af-south-1:123456789012:key/1234abcd-..."',
                subpath="kms_key",
            )
        if self.encryption != "AES256" and self.kms_key is None:
            raise Problem(f'encryption = "{self.encryption}" needs kms_key', subpath="kms_key")
        self._check_backfill()
        if self.role_arn is not None and not ROLE_ARN_RE.match(self.role_arn):
            raise Problem(f"{self.role_arn!r} is not an IAM role ARN", subpath="role_arn")
        if self.repository_policy is not None:
            try:
                doc = loads_json(self.repository_policy)
            except ValueError:  # TooDeep too
                raise Problem(
                    "repository_policy is not JSON", subpath="repository_policy"
                ) from None
            if not isinstance(doc, dict) or len(self.repository_policy) > 10240:
                raise Problem(
                    "repository_policy must be a JSON object of at most 10,240 characters",
                    subpath="repository_policy",
                )
        return self

    def _check_backfill(self) -> None:
        if self.backfill and "PULL_THROUGH_CACHE" not in self.applied_for:
            raise Problem(
                "backfill needs applied_for to include PULL_THROUGH_CACHE",
                "backfill only sets a template's settings on repositories the cache created",
                subpath="backfill",
            )
        if self.backfill_repositories and not self.backfill:
            raise Problem(
                "backfill_repositories needs backfill = true",
                "add backfill = true, or remove backfill_repositories",
                subpath="backfill_repositories",
            )
        for p in self.backfill_repositories:
            if not BACKFILL_PATTERN_RE.match(p) or not p.strip("*/"):
                raise Problem(
                    f"backfill_repositories: {p!r} is not a repository name pattern",
                    "repository names with * wildcards that name a namespace, "
                    'e.g. "library/*" ("*" alone would reach repositories people push to)',
                    subpath="backfill_repositories",
                )
            if self.prefix != "ROOT" and not p.startswith(self.prefix + "/"):
                raise Problem(
                    f"backfill_repositories: {p!r} is outside this template's prefix "
                    f"{self.prefix!r}",
                    f'start it with "{self.prefix}/", or list it on the template that applies '
                    "to those names",
                    subpath="backfill_repositories",
                )

    def warnings(self, *, cache_prefixes: frozenset[str]) -> tuple[str, ...]:
        """What ECR accepts but fails on later (ECR-FACTS §3, §8 items 7 and 8)."""
        out = []
        where = f"templates.{toml_key(self.prefix)}"
        if self.role_arn is None and (self.tags or self.kms_key):
            what = "resource tags" if self.tags else "a KMS key"
            out.append(
                f"{where}: a template with {what} needs role_arn: ECR's service-linked role can "
                "only create repositories, so pulls through it fail"
            )
        if self.tag_mutability.startswith("IMMUTABLE") and self.prefix in cache_prefixes:
            out.append(
                f"{where}: tag immutability on a cache prefix stops ECR refreshing cached tags "
                "(e.g. latest) from the upstream"
            )
        return tuple(out)


class RepositoryConfig(_RepoSettings):
    """An application repository (the team's own images), keyed by name."""

    name: str
    scan_on_push: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not REPO_NAME_RE.match(v):
            raise Problem(
                f"{v!r} is not a repository name",
                "lowercase letters, digits, . _ - separated by /, 2-256 characters",
            )
        return v

    @model_validator(mode="after")
    def _repo_rules(self) -> RepositoryConfig:
        self._check_common()  # KMS without kms_key: the AWS-managed key, as CreateRepository allows
        return self


class ScanRuleConfig(StrictModel):
    frequency: Literal["SCAN_ON_PUSH", "CONTINUOUS_SCAN", "MANUAL"]
    filters: tuple[str, ...] = ("*",)

    @field_validator("filters")
    @classmethod
    def _filters(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(v) > 100:
            raise Problem("at most 100 filters per scanning rule")
        for f in v:
            if not 1 <= len(f) <= 255 or not SCAN_FILTER_RE.match(f):
                raise Problem(f"scan filter {f!r}: lowercase letters, digits, . _ - / and *")
        return v


class ScanningConfig(StrictModel):
    """The registry scanning configuration (one per registry)."""

    type: Literal["BASIC", "ENHANCED"] = "BASIC"
    rules: tuple[ScanRuleConfig, ...] = ()

    @model_validator(mode="after")
    def _fits_the_type(self) -> ScanningConfig:
        if len(self.rules) > 2:
            raise Problem("at most 2 scanning rules", subpath="rules")
        allowed = {
            "BASIC": {"SCAN_ON_PUSH", "MANUAL"},
            "ENHANCED": {"SCAN_ON_PUSH", "CONTINUOUS_SCAN"},
        }
        for rule in self.rules:
            if rule.frequency not in allowed[self.type]:
                raise Problem(
                    f"{self.type} scanning does not offer {rule.frequency}",
                    "BASIC: SCAN_ON_PUSH or MANUAL; ENHANCED: SCAN_ON_PUSH or CONTINUOUS_SCAN",
                    subpath="rules",
                )
        return self


class PullersConfig(StrictModel):
    """Principals that pull through the cache: ecrcache grants them, in the registry policy,
    the two actions a first pull needs and AmazonEC2ContainerRegistryReadOnly lacks."""

    principals: tuple[str, ...] = ()

    @field_validator("principals")
    @classmethod
    def _principals(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for p in v:
            if not PRINCIPAL_RE.match(p):
                raise Problem(
                    f"{p!r} is not an account ID or an IAM role/user ARN",
                    'e.g. "arn:aws:iam::123456789012:role/eks-node" or "111122223333"',
                )
        return v


class CiPolicyConfig(StrictModel):
    """A customer-managed IAM policy for CI/CD, generated from the permissions table."""

    name: str = "ecrcache-ci"
    operations: tuple[str, ...] | None = None  # default: every operation in the table

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not POLICY_NAME_RE.match(v):
            raise Problem(f"{v!r} is not an IAM policy name")
        return v

    @field_validator("operations")
    @classmethod
    def _known(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        from ecrcache.policy.permissions import operations

        if v is None:
            return v
        known = operations()
        for op in v:
            if op not in known:
                raise Problem(f"{op!r} is not an ecrcache operation", "one of: " + ", ".join(known))
        return v
