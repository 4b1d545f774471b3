"""``ecrcache import``: the account as a config document, so that ``plan`` with it is empty.

Each kind is the inverse of ``desired.py``: defaults are left out, ``managed-by`` tags ecrcache
adds are dropped, lifecycle policies become the friendly keys where those compile to exactly the
live policy. Only :func:`read_account` does I/O, through the state readers; it never reads a
secret's value (no GetSecretValue): rules reference their secrets by name. ``import_toml``
writes the document as TOML.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from ecrcache.aws import Clients
from ecrcache.config.loading import parse_config
from ecrcache.config.schema import CONFIG_VERSION
from ecrcache.config.upstreams import partition, upstream
from ecrcache.errors import ConfigError, EcrcacheError
from ecrcache.policy.canonical import canonical_statement_text, canonical_text
from ecrcache.policy.permissions import operations
from ecrcache.policy.policies import PULLER_SID, ci_policy, puller_statements
from ecrcache.reconcile.import_hub import hub_section, is_hub_statement, without_spoke_pull
from ecrcache.reconcile.import_monitoring import monitoring_section
from ecrcache.reconcile.import_toml import lifecycle_keys, pretty_json
from ecrcache.reconcile.live import LiveScope
from ecrcache.reconcile.live_managed import list_managed_repositories
from ecrcache.reconcile.live_monitoring import discover_monitoring, read_monitoring
from ecrcache.reconcile.live_policies import read_iam_policies, read_registry_policy, read_scanning
from ecrcache.reconcile.live_repositories import (
    read_app_repositories,
    read_repositories,
    read_templates,
)
from ecrcache.reconcile.live_secrets import read_named_secrets, read_rules
from ecrcache.reconcile.ownership import split_description, template_is_ours
from ecrcache.reconcile.resources import (
    MANAGED_BY_KEY,
    MANAGED_TAGS,
    IamPolicy,
    RegistryPolicy,
    Repository,
    Rule,
    Scanning,
    Secret,
    Template,
)

DEFAULT_CI_POLICY = "ecrcache-ci"
Path = tuple[str, ...]  # a table's key path in the document, for comments


@dataclass(frozen=True)
class Account:
    """What import reads: the kinds ecrcache reconciles. ``app_repositories`` are those ecrcache
    tagged as its own; ``other_repositories`` are hand-made ones outside every rule prefix."""

    secrets: tuple[Secret, ...] = ()
    rules: tuple[Rule, ...] = ()
    templates: tuple[Template, ...] = ()
    app_repositories: tuple[Repository, ...] = ()
    other_repositories: tuple[str, ...] = ()
    scanning: Scanning | None = None
    registry_policy: RegistryPolicy | None = None
    ci_policy: IamPolicy | None = None
    monitoring: tuple[Any, ...] = ()  # [monitoring]'s resources (monitoring_resources.py)


@dataclass(frozen=True)
class ImportResult:
    """The config document, what the user should know (``notes``) and TOML comments by path."""

    document: dict[str, Any]
    notes: tuple[str, ...] = ()
    comments: Mapping[Path, tuple[str, ...]] = field(default_factory=dict)


def import_config(
    clients: Clients, *, region: str, ci_policy_name: str = DEFAULT_CI_POLICY
) -> ImportResult:
    """Read the account and return a config for it, checked by ``parse_config``. Reads only."""
    account = read_account(clients, ci_policy_name=ci_policy_name)
    return build_document(
        account, account_id=clients.account_id, region=region, ci_policy_name=ci_policy_name
    )


def read_account(clients: Clients, *, ci_policy_name: str, tag_listing: bool = True) -> Account:
    """The account's kinds. ``tag_listing=False`` is the old path, one ListTagsForResource per
    repository outside the rules' prefixes, kept as the baseline the benchmark and the
    equivalence test compare with (benchmarks/bench_import.py)."""
    # Secret names from the rules' full ARNs; each secret read by name (DescribeSecret): the
    # ListSecrets listing may miss changes of the last five minutes, and import often runs
    # right after a change.
    rules = read_rules(clients, {})
    secrets = read_named_secrets(clients, frozenset(r.credential for r in rules if r.credential))
    named = frozenset(r.prefix for r in rules if r.prefix != "ROOT")
    repos = read_repositories(clients)
    # ecrcache's repositories from the tagging listing (a few pages, not one ListTagsForResource
    # per repository); their tags are read again one by one (confirm_discovered), as the listing
    # may lag behind a tag change. ROOT is left out of the scope so that they are all found.
    app = read_app_repositories(
        clients,
        repos,
        LiveScope(cache_prefixes=named, confirm_discovered=True),
        listed=list_managed_repositories(clients) if tag_listing else None,
    )
    mine = {r.name for r in app}
    others = tuple(
        n for n in sorted(repos) if n not in mine and not any(n.startswith(p + "/") for p in named)
    )
    found = read_iam_policies(clients, frozenset({ci_policy_name}))
    return Account(
        secrets=secrets,
        rules=rules,
        templates=read_templates(clients),
        app_repositories=app,
        other_repositories=others,
        scanning=read_scanning(clients),
        registry_policy=read_registry_policy(clients),
        ci_policy=found[0] if found else None,
        monitoring=_read_monitoring(clients),
    )


def _read_monitoring(clients: Clients) -> tuple[Any, ...]:
    """ecrcache's first EventBridge rule (by its tag) and what it delivers to."""
    names = discover_monitoring(clients)
    return read_monitoring(clients, names[0]) if names else ()


class _Doc:
    """Collects notes and comments while the document is built."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.comments: dict[Path, list[str]] = {}

    def note(self, text: str, *, at: Path | None = None) -> None:
        self.notes.append(text)
        if at is not None:
            self.comments.setdefault(at, []).append(text)


def build_document(
    account: Account, *, account_id: str, region: str, ci_policy_name: str = DEFAULT_CI_POLICY
) -> ImportResult:
    """The config document for ``account`` (pure). Raises EcrcacheError when the result does
    not validate: the account holds something the config cannot express."""
    d = _Doc()
    doc: dict[str, Any] = {"version": CONFIG_VERSION, "region": region, "account_id": account_id}
    secrets = {s.name: s for s in account.secrets}
    rules = {r.prefix: _rule(r, secrets, d) for r in account.rules}
    if rules:
        doc["rules"] = rules
    hub_policy = account.registry_policy.statements if account.registry_policy else ()
    hub, hub_notes = hub_section(
        hub_policy, account_id=account_id, region=region, prefixes=sorted(rules)
    )
    templates = {t.prefix: _template(t, hub=hub is not None) for t in account.templates}
    for t in account.templates:
        if not template_is_ours(t.description):
            d.note(
                f"template {t.prefix}: not marked as ecrcache's yet; the first apply of this "
                "config adds ecrcache's marker to its description (ownership: --prune deletes "
                "only marked templates)",
                at=("templates", t.prefix),
            )
    if templates:
        doc["templates"] = templates
    repositories = _repositories(account, d)
    if repositories:
        doc["repositories"] = repositories
    if account.scanning is not None and account.scanning != Scanning():
        doc["scanning"] = {
            "type": account.scanning.scan_type,
            "rules": [
                {"frequency": r.frequency, "filters": list(r.filters)}
                for r in account.scanning.rules
            ],
        }
    pullers = _pullers(account, account_id, region, sorted(rules), d)
    if pullers is not None:
        doc["pullers"] = pullers
    if hub is not None:
        doc["hub"] = hub
    for text in hub_notes:
        d.note(text, at=("hub",) if hub is not None else None)
    if account.ci_policy is not None:
        doc["ci_policy"] = _ci_policy(
            account.ci_policy, account_id, region, sorted(rules), sorted(repositories), d,
            roles=sorted(
                {b["role_arn"] for b in (*rules.values(), *templates.values()) if "role_arn" in b}
            ),
            tag_keys=sorted({k for b in repositories.values() for k in b.get("tags", {})}),
        )  # fmt: skip
    monitoring, monitoring_notes = monitoring_section(account.monitoring)
    if monitoring is not None:
        doc["monitoring"] = monitoring
        for text in monitoring_notes:
            d.note(text, at=("monitoring",))
    try:
        parse_config(doc, filename="imported config")
    except ConfigError as exc:
        raise EcrcacheError(
            f"the account holds something a config cannot express: {exc.message}",
            hint="remove or change that resource, or write that part of the config by hand",
            details=exc.details,
        ) from None
    return ImportResult(
        document=doc,
        notes=tuple(d.notes),
        comments={k: tuple(v) for k, v in d.comments.items()},
    )


def _rule(rule: Rule, secrets: Mapping[str, Secret], d: _Doc) -> dict[str, Any]:
    body: dict[str, Any] = {"upstream": rule.upstream}
    if upstream(rule.upstream).url != rule.url:
        body["url"] = rule.url
    if rule.upstream_prefix != "ROOT":
        body["upstream_prefix"] = rule.upstream_prefix
    if rule.role_arn is not None:
        body["role_arn"] = rule.role_arn
    if rule.credential is not None:
        body["credentials"] = {"secret": rule.credential}
        at = ("rules", rule.prefix, "credentials")
        secret = secrets.get(rule.credential)
        if secret is None:
            d.note(f"rules.{rule.prefix}: secret {rule.credential} does not exist", at=at)
        elif rule.credential_arn and secret.arn and secret.arn != rule.credential_arn:
            d.note(
                f"rules.{rule.prefix}: secret {secret.name} was re-created since the rule was "
                "made (the rule holds the old ARN); apply points the rule at the new one",
                at=at,
            )
        elif secret.pending_deletion:
            d.note(
                f"rules.{rule.prefix}: secret {secret.name} is scheduled for deletion; "
                "apply will restore it",
                at=at,
            )
        elif secret.managed:
            d.note(
                f"rules.{rule.prefix}: secret {secret.name} is managed by ecrcache; add "
                'username and a token source (token = { env = "..." }) for ecrcache to keep '
                "managing its value; as written, ecrcache only references it",
                at=at,
            )
    return body


def _settings(
    mutability: str,
    exclusions: Sequence[str],
    encryption: str,
    kms_key: str | None,
    tags: Mapping[str, str],
    lifecycle: str | None,
) -> dict[str, Any]:
    """What templates and repositories share, defaults left out."""
    body: dict[str, Any] = {}
    if mutability != "MUTABLE":
        body["tag_mutability"] = mutability
    if exclusions:
        body["tag_mutability_exclusions"] = list(exclusions)
    if encryption != "AES256":
        body["encryption"] = encryption
    if kms_key is not None:
        body["kms_key"] = kms_key
    if tags:
        body["tags"] = dict(tags)
    if lifecycle is not None:
        body["lifecycle"] = lifecycle_keys(lifecycle)
    return body


def _template(t: Template, *, hub: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {}
    policy = t.repository_policy
    if hub and policy is not None and "PULL_THROUGH_CACHE" in t.applied_for:
        policy = without_spoke_pull(policy)  # [hub] gives them back
    if t.applied_for != ("PULL_THROUGH_CACHE",):
        body["applied_for"] = list(t.applied_for)
    text = split_description(t.description)[0]  # ecrcache's marker is not the user's text
    if text is not None:
        body["description"] = text
    if t.role_arn is not None:
        body["role_arn"] = t.role_arn
    if policy is not None:
        body["repository_policy"] = pretty_json(policy)
    body.update(
        _settings(
            t.tag_mutability,
            t.tag_mutability_exclusions,
            t.encryption,
            t.kms_key,
            dict(t.resource_tags),
            t.lifecycle_policy,
        )
    )
    return body


def _repositories(account: Account, d: _Doc) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # Under a ROOT rule every other repository counts as the cache's: nothing to list.
    has_root = any(r.prefix == "ROOT" for r in account.rules)
    for r in account.app_repositories:
        body = _settings(
            r.tag_mutability,
            r.tag_mutability_exclusions,
            r.encryption,
            r.kms_key,
            {k: v for k, v in r.tags if k != MANAGED_BY_KEY},
            r.lifecycle_policy,
        )
        if r.scan_on_push:
            body["scan_on_push"] = True
        out[r.name] = body
    if account.other_repositories and not has_root:
        names = account.other_repositories
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        d.note(
            f"not imported, as ecrcache did not create them: repositories {shown}; declare them "
            "under [repositories] to manage them (apply then tags them managed-by=ecrcache)"
        )
    return out


def _pullers(
    account: Account, account_id: str, region: str, prefixes: Sequence[str], d: _Doc
) -> dict[str, Any] | None:
    policy = account.registry_policy
    # the hub's statements for its spokes are [hub]'s (import_hub)
    ours = tuple(s for s in policy.statements if not is_hub_statement(s)) if policy else ()
    if not ours:
        return None
    principals: list[str] = []
    for text in ours:
        st = json.loads(text)
        if st.get("Sid") == PULLER_SID:
            aws = (st.get("Principal") or {}).get("AWS", [])
            # ECR stores an account ID as its root ARN; the config's short form says the same
            root = re.compile(rf"arn:{re.escape(partition(region))}:iam::(\d{{12}}):root")
            principals = sorted(
                {
                    m[1] if (m := root.fullmatch(p)) else p
                    for p in ([aws] if isinstance(aws, str) else aws)
                }
            )
    wanted = puller_statements(
        partition=partition(region),
        account_id=account_id,
        region=region,
        principals=principals,
        cache_prefixes=prefixes,
    )
    part = partition(region)
    if tuple(sorted(canonical_statement_text(s, partition=part) for s in wanted)) != ours:
        d.note(
            "pullers: ecrcache's registry policy statements differ from what these rules and "
            "principals give; apply will rewrite them",
            at=("pullers",),
        )
    return {"principals": principals}


def _ci_policy(
    live: IamPolicy,
    account_id: str,
    region: str,
    prefixes: Sequence[str],
    repositories: Sequence[str],
    d: _Doc,
    *,
    roles: Sequence[str] = (),
    tag_keys: Sequence[str] = (),
) -> dict[str, Any]:
    def document(ops: Sequence[str]) -> dict[str, Any]:
        return ci_policy(
            partition=partition(region),
            account_id=account_id,
            region=region,
            cache_prefixes=prefixes,
            app_repositories=repositories,
            operations=ops,
            policy_name=live.name,
            pass_roles=roles,
            app_tag_keys=tag_keys,
        )

    have = json.loads(live.document)
    body: dict[str, Any] = {"name": live.name}

    def canon(doc: dict[str, Any]) -> str:
        return canonical_text(doc, partition=partition(region))

    if canon(document(operations())) != live.document:
        # Operations only add actions, so the largest set whose actions are all granted is
        # the one to try: if any subset gives exactly the live document, that one does. Then
        # drop those the others already cover, for the smallest list that says the same.
        granted = _granted(have)
        ops = [
            op
            for op in operations()
            if document([op])["Statement"] and _covered(document([op]), granted)
        ]
        if ops and canon(document(ops)) == live.document:
            for op in reversed(ops[:]):
                fewer = [o for o in ops if o != op]
                if fewer and canon(document(fewer)) == live.document:
                    ops = fewer
            body["operations"] = ops
        else:
            d.note(
                f"ci_policy: the document of IAM policy {live.name} is not one ecrcache writes "
                "for these rules and repositories; apply will rewrite it",
                at=("ci_policy",),
            )
    if dict(live.tags).get(MANAGED_BY_KEY) != dict(MANAGED_TAGS)[MANAGED_BY_KEY]:
        d.note(
            f"ci_policy: apply will tag IAM policy {live.name} managed-by=ecrcache",
            at=("ci_policy",),
        )
    return body


def _granted(doc: Mapping[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    statements = doc.get("Statement", [])
    for st in [statements] if isinstance(statements, dict) else statements:
        actions = st.get("Action", [])
        out.setdefault(str(st.get("Sid")), set()).update(
            [actions] if isinstance(actions, str) else actions
        )
    return out


def _covered(doc: Mapping[str, Any], granted: Mapping[str, set[str]]) -> bool:
    # granted entries may be action patterns (ecrcache.policy.policies.ACTION_FAMILIES), and an
    # action granted on "*" is left out of the narrower statements
    def has(sid: str, action: str) -> bool:
        where = granted.get(sid, set()) | granted.get("EcrcacheRegistry", set())
        return any(fnmatchcase(action.lower(), g.lower()) for g in where)

    return all(has(st["Sid"], a) for st in doc["Statement"] for a in st["Action"])
