"""Read the live account into the same resource types as the desired state. Reads only.

:func:`read_live` reads what a :class:`LiveScope` says the config manages, through the readers
per kind: ``live_secrets`` (secrets and rules), ``live_repositories`` (templates, repositories,
backfill settings) and ``live_policies`` (scanning, registry policy, IAM policies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ecrcache.aws import Clients
from ecrcache.reconcile.backfill import BackfillScope
from ecrcache.reconcile.bounded import Progress, no_progress
from ecrcache.reconcile.live_managed import Tags, list_managed_repositories
from ecrcache.reconcile.live_monitoring import (
    MonitoringNames,
    discover_monitoring,
    read_monitoring,
)
from ecrcache.reconcile.live_policies import read_iam_policies, read_registry_policy, read_scanning
from ecrcache.reconcile.live_repositories import (
    read_app_repositories,
    read_backfill_settings,
    read_repositories,
    read_templates,
)
from ecrcache.reconcile.live_secrets import (
    list_secrets,
    read_named_secrets,
    read_rules,
    read_secret,
    read_secret_digest,
)
from ecrcache.reconcile.resources import Rule, Secret, State


@dataclass(frozen=True)
class LiveScope:
    """What to read beyond rules (each read costs calls: read only what is managed).

    ``secret_names`` are read by name (DescribeSecret); with ``discover_secrets``, the managed-by
    secrets nobody names are found by ListSecrets, and with ``confirm_discovered`` (a prune may
    delete them) each is described again before it counts, since the listing lags.
    """

    secret_names: frozenset[str] = frozenset()
    discover_secrets: bool = True
    confirm_discovered: bool = False
    digest_secrets: frozenset[str] = frozenset()
    template_prefixes: bool = True
    app_repositories: frozenset[str] = frozenset()
    cache_prefixes: frozenset[str] = frozenset()
    backfill: BackfillScope = field(default_factory=BackfillScope)
    scanning: bool = False
    registry_policy: bool = False
    iam_policies: frozenset[str] = frozenset()
    monitoring: MonitoringNames | None = None
    # no [monitoring] and a prune: find ecrcache's rules by tag to read what the section made
    discover_monitoring: bool = False


def read_live(
    clients: Clients, scope: LiveScope = LiveScope(), *, progress: Progress = no_progress
) -> State:
    """The live state: the secrets the config names (and ecrcache's others, see LiveScope), all
    rules and templates, and what ``scope`` says the config manages. Secret values are read (as
    digests) only where named. The calls follow what the config manages, not what the account
    holds: listing pages, one tagging listing for ecrcache's own repositories (when any name
    could be one), and per-repository reads only for backfilled and application repositories
    (``progress`` hears of those)."""
    secrets = read_live_secrets(clients, scope)
    with_values = tuple(
        Secret(
            name=s.name,
            value=read_secret_digest(clients, s) if s.name in scope.digest_secrets else None,
            tags=s.tags,
            pending_deletion=s.pending_deletion,
            arn=s.arn,
            kms_key_id=s.kms_key_id,
        )
        for s in secrets
    )
    arn_to_name = {s.arn: s.name for s in secrets if s.arn}
    rules = read_rules(clients, arn_to_name)
    if scope.confirm_discovered:  # a prune: which rules are ecrcache's (ownership.py)
        with_values += _rule_secrets(clients, rules, arn_to_name)
    templates = read_templates(clients) if scope.template_prefixes else ()
    repos = read_repositories(clients)
    names = tuple(sorted(repos))
    # Backfill's candidates have their tags read too: one ecrcache tagged as its own (an
    # application repository since removed from the config) is left alone, never backfilled.
    candidates = scope.backfill.reached(names)
    listed = _managed_listing(clients, repos, scope, frozenset(candidates))
    app = read_app_repositories(
        clients, repos, scope, also=frozenset(candidates), listed=listed, progress=progress
    )
    theirs = {r.name for r in app}
    return State.of(
        secrets=with_values,
        rules=rules,
        templates=templates,
        repositories=app,
        repository_settings=read_backfill_settings(
            clients,
            repos,
            {n: t for n, t in candidates.items() if n not in theirs},
            progress=progress,
        ),
        scanning=read_scanning(clients) if scope.scanning else None,
        registry_policy=read_registry_policy(clients) if scope.registry_policy else None,
        iam_policies=read_iam_policies(clients, scope.iam_policies),
        all_repositories=names,
        monitoring=_monitoring(clients, scope),
    )


def _rule_secrets(
    clients: Clients, rules: tuple[Rule, ...], known: dict[str, str]
) -> tuple[Secret, ...]:
    """The managed-by secrets rules hold that were not read yet, read by ARN (DescribeSecret,
    consistent): a rule is ecrcache's when its secret is, and a prune must not rely on the
    lagging listing to find that out. A secret that is not ecrcache's is left out."""
    out: dict[str, Secret] = {}
    names = set(known.values())
    for arn in sorted({r.credential_arn for r in rules if r.credential_arn} - set(known)):
        found = read_secret(clients, arn)
        # a name already read stays as read (by name, with its value's digest)
        if found is not None and found.managed and found.arn == arn and found.name not in names:
            out[found.name] = found
    return tuple(out.values())


def _monitoring(clients: Clients, scope: LiveScope) -> tuple[Any, ...]:
    if scope.monitoring is not None:
        return read_monitoring(clients, scope.monitoring)
    if not scope.discover_monitoring:
        return ()
    return tuple(
        o for names in discover_monitoring(clients) for o in read_monitoring(clients, names)
    )


def _managed_listing(
    clients: Clients, repos: dict[str, Any], scope: LiveScope, candidates: frozenset[str]
) -> dict[str, Tags]:
    """ecrcache's repositories by the tagging listing, or nothing without a call when no
    repository could be one: all are the config's own, or cache repositories backfill skips."""
    cache = scope.cache_prefixes
    if all(
        n in scope.app_repositories
        or (n not in candidates and ("ROOT" in cache or any(n.startswith(p + "/") for p in cache)))
        for n in repos
    ):
        return {}
    return list_managed_repositories(clients)


def read_live_secrets(clients: Clients, scope: LiveScope) -> tuple[Secret, ...]:
    """The named secrets, read consistently, then (``scope.discover_secrets``) ecrcache's
    managed-by secrets that nobody names, from the lagging listing."""
    found = {s.name: s for s in read_named_secrets(clients, scope.secret_names)}
    if scope.discover_secrets:
        for listed in list_secrets(clients, managed_only=True):
            if listed.name in scope.secret_names:
                continue  # read by name already (and absent if DescribeSecret says so)
            if not scope.confirm_discovered:
                found[listed.name] = listed  # only reported (as not in the config)
                continue
            confirmed = read_secret(clients, listed.arn or listed.name)
            if confirmed is not None and confirmed.managed:
                found[confirmed.name] = confirmed  # else deleted or untagged since the listing
    return tuple(sorted(found.values(), key=lambda s: s.name))
