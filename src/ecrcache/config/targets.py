"""``[targets.NAME]``: one config driving many accounts and regions (pure).

The top-level document stays the single-account config and is every target's defaults. A target
names its account (``account_id``, or the account of ``role_arn``), its region (``region``, or
``regions = [...]``: one target ``NAME/REGION`` each), how to reach it (``role_arn`` to assume,
with ``external_id`` and ``session_name``; no role: the default credentials), which of the shared
``rules``, ``templates`` and ``repositories`` it gets (default: all), and tables that replace the
shared ones (``pullers``, ``hub``, ``spoke``, ``ci_policy``, ``monitoring``: see OVERRIDES).

``expand_targets`` turns the document into one ``Target`` per account and region, each with a
single-target ``Config`` that passed the same validation as a one-account file. A document with
no ``[targets]`` has no targets: every command behaves as it always has.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import field_validator, model_validator

from ecrcache.config.base import ConfigProblem, Problem, StrictModel
from ecrcache.config.rules import ROLE_ARN_RE

# Tables a target may carry whole, replacing the shared one. ``hub`` and ``spoke`` belong to hub
# and spoke (issue 17 item 2): copied as they are, the single-target Config validates them.
OVERRIDES = ("pullers", "hub", "spoke", "ci_policy", "monitoring")
SELECTIONS = {"rules": "rules", "templates": "templates", "repositories": "repositories"}

# STS AssumeRole's constraints (botocore's sts model: roleSessionNameType, externalIdType).
SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
DEFAULT_SESSION_NAME = "ecrcache"
# A target's name is a key and a path element (NAME/REGION): no slash, no spaces.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class TargetConfig(StrictModel):
    """One ``[targets.NAME]`` table, as written (validated for shape; see ``expand_targets``)."""

    account_id: str | None = None
    region: str | None = None
    regions: list[str] | None = None
    role_arn: str | None = None
    external_id: str | None = None
    session_name: str = DEFAULT_SESSION_NAME
    rules: list[str] | None = None
    templates: list[str] | None = None
    repositories: list[str] | None = None
    pullers: dict[str, Any] | None = None
    hub: dict[str, Any] | None = None
    spoke: dict[str, Any] | None = None
    ci_policy: dict[str, Any] | None = None
    monitoring: dict[str, Any] | None = None

    @field_validator("role_arn")
    @classmethod
    def _role(cls, v: str | None) -> str | None:
        if v is not None and not ROLE_ARN_RE.match(v):
            raise Problem(
                f"{v!r} is not an IAM role ARN",
                'e.g. role_arn = "arn:aws:iam::111122223333:role/ecrcache"',
            )
        return v

    @field_validator("session_name")
    @classmethod
    def _session(cls, v: str) -> str:
        if not SESSION_NAME_RE.match(v):
            raise Problem(
                f"{v!r} is not a valid AssumeRole session name",
                "2 to 64 of letters, digits and + = , . @ _ - (STS RoleSessionName)",
            )
        return v

    @field_validator("external_id")
    @classmethod
    def _external(cls, v: str | None) -> str | None:
        if v is not None and not EXTERNAL_ID_RE.match(v):
            raise Problem(
                "the external_id is not one STS accepts",
                "2 to 1224 of letters, digits and + = , . @ : / _ - (STS ExternalId)",
            )
        return v

    @model_validator(mode="after")
    def _where(self) -> TargetConfig:
        if self.region is not None and self.regions is not None:
            raise Problem("give region or regions, not both", subpath="regions")
        if self.regions is not None and not self.regions:
            raise Problem("regions is empty", "list at least one region", subpath="regions")
        if self.regions is not None and len(set(self.regions)) != len(self.regions):
            raise Problem("a region is listed twice", subpath="regions")
        if self.external_id is not None and self.role_arn is None:
            raise Problem(
                "external_id without role_arn",
                "the external ID is sent when assuming role_arn: add role_arn",
                subpath="external_id",
            )
        if self.role_arn is not None and self.account_id is not None:
            m = ROLE_ARN_RE.match(self.role_arn)
            if m and m.group(2) != self.account_id:
                raise Problem(
                    f"role_arn is in account {m.group(2)}, not account_id {self.account_id}",
                    "assume a role in the target's own account",
                    subpath="role_arn",
                )
        return self


@dataclass(frozen=True)
class AssumeRole:
    """How to reach a target: the role to assume, with its external ID and session name."""

    role_arn: str
    session_name: str = DEFAULT_SESSION_NAME
    external_id: str | None = None


@dataclass(frozen=True)
class Target:
    """One account and region: its name (``NAME`` or ``NAME/REGION``), its single-target
    config, and the role to assume (None: the default credentials)."""

    name: str
    config: Any  # Config (typed loosely: schema imports this module)
    assume: AssumeRole | None = None

    @property
    def region(self) -> str:
        return str(self.config.region)

    @property
    def account_id(self) -> str | None:
        return self.config.account_id

    @property
    def base(self) -> str:
        """The ``[targets.NAME]`` key this target came from."""
        return self.name.split("/", 1)[0]


def check_target_names(v: Mapping[str, Any]) -> None:
    for name in v:
        if not NAME_RE.match(name):
            raise Problem(
                f"{name!r} is not a target name",
                "letters, digits, '.', '_' and '-' (it becomes NAME/REGION in output)",
                subpath=name,
            )


def has_targets(doc: Mapping[str, Any]) -> bool:
    return bool(doc.get("targets"))


def expand_targets(doc: Mapping[str, Any], *, filename: str = "config") -> tuple[Target, ...]:
    """Every target of the document, in file order (regions in their order). Raises ConfigError
    naming the target and the key for anything wrong, the whole document checked first."""
    from ecrcache.config.loading import config_error, parse_config

    top = parse_config(doc, filename=filename)  # the shared tables, and [targets] for shape
    shared = {k: v for k, v in doc.items() if k != "targets"}
    problems: list[ConfigProblem] = []
    planned: list[tuple[str, dict[str, Any], AssumeRole | None]] = []
    for key, tc in top.targets.items():
        regions = tc.regions or [tc.region or top.region]
        for region in regions:
            name = f"{key}/{region}" if tc.regions else key
            body, probs = _target_doc(key, tc, shared, region)
            problems.extend(probs)
            assume = None
            if tc.role_arn is not None:
                assume = AssumeRole(tc.role_arn, tc.session_name, tc.external_id)
            planned.append((name, body, assume))
    if problems:
        raise config_error(problems, filename)
    problems.extend(_shared_account_wide(planned))
    by_name = {name: body for name, body, _ in planned}
    for name, body, _ in planned:
        problems.extend(resolve_hub_target(name, body, by_name))
    if problems:
        raise config_error(problems, filename)
    out: list[Target] = []
    errors: list[ConfigProblem] = []
    for name, body, assume in planned:
        try:
            out.append(Target(name, parse_config(body, filename=filename), assume))
        except Exception as exc:  # ConfigError: re-say it under the target's name
            from ecrcache.errors import ConfigError

            if not isinstance(exc, ConfigError):
                raise
            for line in (exc.message, *exc.details):
                text = line.removeprefix(f"{filename}: ")
                errors.append(ConfigProblem(f"targets.{name}", text, exc.hint))
    if errors:
        raise config_error(errors, filename)
    return tuple(out)


def _target_doc(
    key: str, tc: TargetConfig, shared: Mapping[str, Any], region: str
) -> tuple[dict[str, Any], list[ConfigProblem]]:
    """The single-target document: the shared tables, narrowed and overridden."""
    body = copy.deepcopy(dict(shared))
    body["region"] = region
    account = tc.account_id
    if account is None and tc.role_arn is not None:
        m = ROLE_ARN_RE.match(tc.role_arn)
        account = m.group(2) if m else None
    if account is not None:
        body["account_id"] = account
    problems: list[ConfigProblem] = []
    for field in SELECTIONS:
        wanted = getattr(tc, field)
        if wanted is None:
            continue
        have = shared.get(field) or {}
        missing = [w for w in wanted if w not in have]
        for w in missing:
            from ecrcache.config.rules import did_you_mean

            problems.append(
                ConfigProblem(
                    f"targets.{key}.{field}",
                    f"{w!r} is not in the shared [{field}]{did_you_mean(w, have)}",
                    f"name one of the [{field}.*] tables, or remove it from targets.{key}",
                )
            )
        body[field] = {k: v for k, v in have.items() if k in wanted}
    for table in OVERRIDES:
        value = getattr(tc, table)
        if value is not None:
            body[table] = copy.deepcopy(value)
    if tc.regions is not None and len(tc.regions) > 1:
        _region_names(body, region)
    return body, problems


def _account_wide(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The account-wide resources a target's config manages, as (kind, name): IAM and Budgets
    are global, so two targets in one account must not manage the same one (each region's
    CI policy grants that region's ARNs: they would overwrite each other on every apply)."""
    from ecrcache.config.monitoring import BudgetConfig
    from ecrcache.config.registry import CiPolicyConfig

    out: list[tuple[str, str]] = []
    ci = body.get("ci_policy")
    if isinstance(ci, Mapping):
        out.append(("IAM policy", str(ci.get("name", CiPolicyConfig.model_fields["name"].default))))
    monitoring = body.get("monitoring")
    budget = monitoring.get("budget") if isinstance(monitoring, Mapping) else None
    if isinstance(budget, Mapping):
        default = BudgetConfig.model_fields["name"].default
        out.append(("budget", str(budget.get("name", default))))
    return out


def _region_names(body: dict[str, Any], region: str) -> None:
    """A target with several regions: its account-wide resources get the region in their name
    (``ecrcache-ci-eu-west-1``), one per region, as ``_account_wide`` requires."""
    from ecrcache.config.monitoring import BudgetConfig
    from ecrcache.config.registry import CiPolicyConfig

    ci = body.get("ci_policy")
    if isinstance(ci, dict):
        ci["name"] = f"{ci.get('name', CiPolicyConfig.model_fields['name'].default)}-{region}"
    monitoring = body.get("monitoring")
    budget = monitoring.get("budget") if isinstance(monitoring, dict) else None
    if isinstance(budget, dict):
        default = BudgetConfig.model_fields["name"].default
        budget["name"] = f"{budget.get('name', default)}-{region}"


def _shared_account_wide(
    planned: list[tuple[str, dict[str, Any], AssumeRole | None]],
) -> list[ConfigProblem]:
    seen: dict[tuple[str, str, str], str] = {}
    problems: list[ConfigProblem] = []
    for name, body, _ in planned:
        account = str(body.get("account_id") or "of the default credentials")
        for kind, resource in _account_wide(body):
            other = seen.setdefault((account, kind, resource), name)
            if other != name:
                problems.append(
                    ConfigProblem(
                        f"targets.{name}",
                        f"targets {other} and {name} both manage the {kind} {resource!r} in "
                        f"account {account}, which is global to the account",
                        "give one of them its own name in [targets.NAME.ci_policy] or "
                        "[targets.NAME.monitoring.budget], or leave the table to one target",
                    )
                )
    return problems


def resolve_hub_target(
    name: str, body: dict[str, Any], by_name: Mapping[str, dict[str, Any]]
) -> list[ConfigProblem]:
    """``[targets.X.spoke] hub_target = "NAME"``: the hub target's account and region, in place
    of the name, so the spoke's Config sees ``hub_account_id`` and ``hub_region``."""
    spoke = body.get("spoke")
    if not isinstance(spoke, dict) or "hub_target" not in spoke:
        return []
    hub = spoke.pop("hub_target")
    where = f"targets.{name.split('/', 1)[0]}.spoke.hub_target"
    candidates = [n for n in by_name if n == hub or n.split("/", 1)[0] == hub]
    if len(candidates) > 1:  # NAME with regions: the hub in the spoke's region, if it has one
        same = [n for n in candidates if by_name[n]["region"] == body["region"]]
        candidates = same if len(same) == 1 else candidates
    if not candidates:
        return [ConfigProblem(where, f"no target is named {hub!r}", "name one of [targets.*]")]
    if len(candidates) > 1:
        return [
            ConfigProblem(
                where,
                f"{hub!r} has several regions: {', '.join(candidates)}",
                "name one of them (NAME/REGION)",
            )
        ]
    if candidates[0] == name:
        return [ConfigProblem(where, "a target cannot be its own hub")]
    target = by_name[candidates[0]]
    account = target.get("account_id")
    if not account:
        return [
            ConfigProblem(
                where,
                f"the hub target {candidates[0]!r} has no account_id",
                "give it account_id or role_arn",
            )
        ]
    spoke.setdefault("hub_account_id", account)
    spoke.setdefault("hub_region", target["region"])
    return []


def select(targets: tuple[Target, ...], names: list[str] | tuple[str, ...]) -> tuple[Target, ...]:
    """The targets ``--target`` names (``NAME`` picks all its regions); all with none given.
    Raises UsageError for an unknown name, listing the names."""
    if not names:
        return targets
    from ecrcache.errors import UsageError

    known = [t.name for t in targets]
    unknown = [n for n in names if not any(t.name == n or t.base == n for t in targets)]
    if unknown:
        raise UsageError(
            f"no target named {unknown[0]!r}",
            hint="targets in the config: " + ", ".join(known),
        )
    return tuple(t for t in targets if t.name in names or t.base in names)
